/*
 * Unit tests for ice/dtls, ice/dtls_cert, ice/srtp and ice/demux: two DTLS
 * endpoints wired to each other in memory (no sockets, no sleeps: the test
 * plays the network and the clock), SRTP both ways for every profile.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/tlscert.h"
#include "ice/demux.h"
#include "ice/dtls.h"
#include "ice/srtp.h"
#include "srtp_fixture.h"

#define ROUNDS_MAX 64 /* a handshake is 4 flights; retransmissions add a few */
#define SEC        (G_USEC_PER_SEC)

static struct dtls_cert *cert_a, *cert_b, *cert_c;
static int64_t clock_offset; /* µs the test has moved the wall clock on */

/*
 * OpenSSL's DTLS retransmission timers read gettimeofday. This definition
 * interposes libc's for the whole process (like libfaketime), so the test
 * moves the clock on instead of sleeping through a timer.
 */
int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;
	int64_t us;

	(void)tz;
	clock_gettime(CLOCK_REALTIME, &ts);
	us = (int64_t)ts.tv_sec * SEC + ts.tv_nsec / 1000 + clock_offset;
	tv->tv_sec = us / SEC;
	tv->tv_usec = us % SEC;
	return 0;
}

/* One endpoint and what it sent that the "network" has not delivered yet. */
struct side {
	struct dtls *d;
	struct ice_srtp *srtp;
	GPtrArray *out;       /* GBytes */
	unsigned drop;        /* bit n set: drop this side's flight n+1 */
	unsigned flights;     /* flights taken from out so far */
	unsigned dropped;     /* flights dropped */
	unsigned callbacks;   /* on_state calls */
	enum dtls_state seen; /* last state the callback reported */
};

struct pair {
	struct dtls_ctx *ctx[2];
	struct side s[2]; /* s[0] is the client */
	int64_t now;
};

static void on_send(void *user, const uint8_t *data, size_t len)
{
	struct side *s = user;

	g_assert_cmpuint(len, <=, 1200); /* the MTU: every datagram fits an ICE path */
	g_ptr_array_add(s->out, g_bytes_new(data, len));
}

static void on_state(void *user, enum dtls_state st)
{
	struct side *s = user;

	s->callbacks++;
	s->seen = st;
}

static struct dtls_ctx *ctx_new(const struct dtls_cert *cert, const char *profiles)
{
	struct dtls_conf conf = { .profiles = profiles }; /* default timers: 250 ms doubling */
	struct dtls_ctx *ctx = NULL;
	char *why = NULL;

	g_assert_cmpint(dtls_ctx_new(cert, &conf, &ctx, &why), ==, 0);
	g_assert_null(why);
	return ctx;
}

/* Client with cert_a (offering client_profiles), server with cert_b; each knows the other's fp. */
static void pair_init(struct pair *p, const char *client_profiles, const char *server_profiles)
{
	const struct dtls_cert *certs[2] = { cert_a, cert_b };

	memset(p, 0, sizeof(*p));
	p->now = 1000 * SEC;
	p->ctx[0] = ctx_new(cert_a, client_profiles);
	p->ctx[1] = ctx_new(cert_b, server_profiles);
	for (int i = 0; i < 2; i++) {
		struct side *s = &p->s[i];

		s->srtp = ice_srtp_new();
		s->out = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
		s->d = dtls_new(p->ctx[i], i == 0 ? DTLS_ROLE_CLIENT : DTLS_ROLE_SERVER,
		                dtls_cert_fingerprint(certs[!i]), s->srtp, on_send, on_state, s);
		g_assert_nonnull(s->d);
	}
}

static void pair_free(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		dtls_free(p->s[i].d);
		ice_srtp_free(p->s[i].srtp);
		g_ptr_array_unref(p->s[i].out);
		dtls_ctx_free(p->ctx[i]);
	}
}

/* Hand each side's queued flight to the other until nothing moves; returns flights moved. */
static unsigned pump(struct pair *p)
{
	unsigned moved = 0;

	for (int round = 0; round < ROUNDS_MAX; round++) {
		bool any = false;

		for (int i = 0; i < 2; i++) {
			struct side *s = &p->s[i];
			GPtrArray *q = s->out;

			if (q->len == 0)
				continue;
			any = true;
			moved++;
			s->out = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
			if (s->drop & (1u << s->flights++)) {
				s->dropped++;
			} else {
				for (guint k = 0; k < q->len; k++) {
					gsize n;
					const uint8_t *b = g_bytes_get_data(q->pdata[k], &n);

					dtls_input(p->s[!i].d, b, n, p->now);
				}
			}
			g_ptr_array_unref(q);
		}
		if (!any)
			break;
	}
	return moved;
}

static bool settled(const struct pair *p)
{
	for (int i = 0; i < 2; i++)
		if (dtls_state(p->s[i].d) != DTLS_STATE_CONNECTED &&
		    dtls_state(p->s[i].d) != DTLS_STATE_FAILED)
			return false;
	return true;
}

/* Move both clocks (ours and OpenSSL's) on to the earlier of the two sides' timers. */
static void advance(struct pair *p)
{
	int ms = -1;

	for (int i = 0; i < 2; i++) {
		int t = dtls_next_timeout(p->s[i].d, p->now);

		if (t >= 0 && (ms < 0 || t < ms))
			ms = t;
	}
	g_assert_cmpint(ms, >=, 0); /* a stalled handshake always has a timer running */
	clock_offset += (int64_t)ms * 1000;
	p->now += (int64_t)ms * 1000;
	for (int i = 0; i < 2; i++)
		if (dtls_next_timeout(p->s[i].d, p->now) == 0)
			dtls_handle_timeout(p->s[i].d, p->now);
}

/* Start both, then deliver, and fire the next timer when nothing moves, until both settle. */
static void handshake(struct pair *p)
{
	g_assert_cmpint(dtls_start(p->s[1].d, p->now), ==, 0);
	g_assert_cmpint(dtls_start(p->s[0].d, p->now), ==, 0);
	for (int round = 0; round < ROUNDS_MAX && !settled(p); round++) {
		pump(p);
		if (!settled(p))
			advance(p);
	}
	pump(p); /* the server's last flight after a retransmitted one */
}

static unsigned retransmits(const struct pair *p)
{
	return (unsigned)(dtls_stats(p->s[0].d)->retransmits + dtls_stats(p->s[1].d)->retransmits);
}

static void assert_connected(struct pair *p, enum ice_srtp_profile want)
{
	enum ice_srtp_profile got[2];

	for (int i = 0; i < 2; i++) {
		g_assert_cmpint(dtls_state(p->s[i].d), ==, DTLS_STATE_CONNECTED);
		g_assert_cmpint(p->s[i].seen, ==, DTLS_STATE_CONNECTED);
		g_assert_true(dtls_profile(p->s[i].d, &got[i]));
		g_assert_true(ice_srtp_ready(p->s[i].srtp, NULL));
	}
	g_assert_cmpint(got[0], ==, want);
	g_assert_cmpint(got[1], ==, want);
	/* each side's outbound key is the other's inbound one */
	assert_media(p->s[0].srtp, p->s[1].srtp, 1);
	assert_media(p->s[1].srtp, p->s[0].srtp, 1);
}

static void test_handshake(void)
{
	struct pair p;

	pair_init(&p, NULL, NULL);
	handshake(&p);
	assert_connected(&p, ICE_SRTP_AEAD_AES_128_GCM);
	g_assert_cmpuint(retransmits(&p), ==, 0);
	g_assert_cmpuint(p.s[0].callbacks, ==, 1);
	g_assert_cmpuint(p.s[1].callbacks, ==, 1);
	g_assert_cmpint(dtls_start(p.s[0].d, p.now), ==, EALREADY);
	pair_free(&p);
}

/* The server's order wins (RFC 5764 §4.1.1): a client preferring CM still gets GCM. */
static void test_server_preference(void)
{
	struct pair p;

	pair_init(&p, "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM", NULL);
	handshake(&p);
	assert_connected(&p, ICE_SRTP_AEAD_AES_128_GCM);
	pair_free(&p);
}

/* No profile in common: DTLS may complete, but no keys: both sides fail with the reason. */
static void test_no_common_profile(void)
{
	struct pair p;

	pair_init(&p, "SRTP_AEAD_AES_128_GCM", "SRTP_AES128_CM_SHA1_80");
	handshake(&p);
	for (int i = 0; i < 2; i++) {
		g_assert_cmpint(dtls_state(p.s[i].d), ==, DTLS_STATE_FAILED);
		g_assert_false(ice_srtp_ready(p.s[i].srtp, NULL));
	}
	g_assert_nonnull(strstr(dtls_reason(p.s[1].d), "no SRTP profile in common"));
	pair_free(&p);
}

static void test_profile(gconstpointer data)
{
	enum ice_srtp_profile prof = GPOINTER_TO_INT(data);
	struct pair p;

	if (!ice_srtp_profile_supported(prof)) {
		g_test_skip("this libsrtp2 lacks the profile");
		return;
	}
	pair_init(&p, ice_srtp_profile_name(prof), NULL);
	handshake(&p);
	assert_connected(&p, prof);
	pair_free(&p);
}

/* Flights: client 1 ClientHello, server 1 ServerHello…Done, client 2 …Finished, server 2 Finished.
 */
static void test_loss(gconstpointer data)
{
	unsigned which = GPOINTER_TO_UINT(data); /* side * 2 + flight index */
	struct pair p;

	pair_init(&p, NULL, NULL);
	p.s[which / 2].drop = 1u << (which % 2);
	handshake(&p);
	g_assert_cmpuint(p.s[which / 2].dropped, ==, 1);
	g_assert_cmpuint(retransmits(&p), >=, 1);
	assert_connected(&p, ICE_SRTP_AEAD_AES_128_GCM);
	pair_free(&p);
}

/* A side given the wrong fingerprint refuses the peer; the peer hears a fatal alert. */
static void test_wrong_fingerprint(gconstpointer data)
{
	int victim = GPOINTER_TO_INT(data); /* the side that checks against cert_c */
	struct pair p;
	uint8_t buf[PKT + ICE_SRTP_TRAILER_MAX];
	size_t len = make_rtp(buf, 1);

	pair_init(&p, NULL, NULL);
	dtls_free(p.s[victim].d);
	p.s[victim].d = dtls_new(p.ctx[victim], victim ? DTLS_ROLE_SERVER : DTLS_ROLE_CLIENT,
	                         dtls_cert_fingerprint(cert_c), p.s[victim].srtp, on_send, on_state,
	                         &p.s[victim]);
	handshake(&p);
	g_assert_cmpint(dtls_state(p.s[victim].d), ==, DTLS_STATE_FAILED);
	g_assert_cmpint(p.s[victim].seen, ==, DTLS_STATE_FAILED);
	g_assert_nonnull(strstr(dtls_reason(p.s[victim].d), "does not match the fingerprint"));
	g_assert_cmpint(dtls_state(p.s[!victim].d), ==, DTLS_STATE_FAILED);
	g_assert_nonnull(strstr(dtls_reason(p.s[!victim].d), "peer sent fatal alert"));
	for (int i = 0; i < 2; i++) {
		g_assert_false(ice_srtp_ready(p.s[i].srtp, NULL));
		g_assert_cmpint(ice_srtp_protect(p.s[i].srtp, ICE_SRTP_RTP, buf, &len, sizeof(buf)),
		                ==, ENOTCONN);
		g_assert_cmpint(dtls_input(p.s[i].d, buf, len, p.now), ==, EPIPE);
	}
	pair_free(&p);
}

/* The same SHA-256 digest under another hash name is not the same fingerprint. */
static void test_fingerprint_hash(void)
{
	struct pair p;
	struct dtls_fingerprint fp = *dtls_cert_fingerprint(cert_b);
	char text[DTLS_FP_TEXT_MAX];

	/* the right digest under another hash name: refused; passes only if the hash is checked */
	pair_init(&p, NULL, NULL);
	g_assert_cmpint(fp.hash, ==, DTLS_HASH_SHA256);
	dtls_fingerprint_format(&fp, text);
	g_assert_true(g_str_has_prefix(text, "sha-256 "));
	dtls_free(p.s[0].d);
	fp.hash = DTLS_HASH_SHA512;
	fp.len = 64;
	p.s[0].d =
	        dtls_new(p.ctx[0], DTLS_ROLE_CLIENT, &fp, p.s[0].srtp, on_send, on_state, &p.s[0]);
	handshake(&p);
	g_assert_cmpint(dtls_state(p.s[0].d), ==, DTLS_STATE_FAILED);
	pair_free(&p);
}

static void test_handshake_timeout(void)
{
	struct pair p;
	int ms;

	pair_init(&p, NULL, NULL);
	g_assert_cmpint(dtls_next_timeout(p.s[0].d, p.now), ==, -1);
	g_assert_cmpint(dtls_start(p.s[0].d, p.now), ==, 0);
	ms = dtls_next_timeout(p.s[0].d, p.now);
	g_assert_cmpint(ms, >=, 0);
	g_assert_cmpint(ms, <=, 15000);
	/* nothing is ever delivered; the bound passes */
	g_assert_cmpint(dtls_handle_timeout(p.s[0].d, p.now + 15 * SEC), ==, ETIMEDOUT);
	g_assert_cmpint(dtls_state(p.s[0].d), ==, DTLS_STATE_FAILED);
	g_assert_nonnull(strstr(dtls_reason(p.s[0].d), "not done within 15000 ms"));
	g_assert_cmpint(dtls_next_timeout(p.s[0].d, p.now), ==, -1);
	pair_free(&p);
}

static void test_close_notify(void)
{
	struct pair p;

	pair_init(&p, NULL, NULL);
	handshake(&p);
	dtls_close(p.s[0].d);
	g_assert_cmpint(dtls_state(p.s[0].d), ==, DTLS_STATE_CLOSED);
	g_assert_cmpuint(p.s[0].out->len, ==, 1); /* the close_notify alert */
	pump(&p);
	g_assert_cmpint(dtls_state(p.s[1].d), ==, DTLS_STATE_CLOSED);
	g_assert_cmpint(p.s[1].seen, ==, DTLS_STATE_CLOSED);
	g_assert_nonnull(strstr(dtls_reason(p.s[1].d), "close_notify"));
	pair_free(&p);
}

/* Junk reaches a server mid-handshake: counted and dropped, then the real handshake works. */
static void test_garbage(void)
{
	static const uint8_t junk[][16] = {
		{ 22 },                                                    /* one byte */
		{ 22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 1 },               /* header cut */
		{ 22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200, 1, 2, 3 }, /* length beyond */
		{ 24, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },            /* heartbeat: not ours */
		{ 22, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },                /* a TLS version */
	};
	static const size_t lens[] = { 1, 12, 16, 13, 13 };
	struct pair p;
	GBytes *hello;
	gsize n;
	const uint8_t *b;

	pair_init(&p, NULL, NULL);
	g_assert_cmpint(dtls_input(p.s[1].d, junk[0], 1, p.now), ==, ENOTCONN);
	g_assert_cmpint(dtls_start(p.s[1].d, p.now), ==, 0);
	g_assert_cmpint(dtls_input(p.s[1].d, junk[0], 0, p.now), ==, EBADMSG);
	for (size_t i = 0; i < G_N_ELEMENTS(lens); i++)
		g_assert_cmpint(dtls_input(p.s[1].d, junk[i], lens[i], p.now), ==, EBADMSG);
	/* a ClientHello cut in half */
	g_assert_cmpint(dtls_start(p.s[0].d, p.now), ==, 0);
	hello = g_bytes_ref(p.s[0].out->pdata[0]);
	b = g_bytes_get_data(hello, &n);
	g_assert_cmpint(dtls_input(p.s[1].d, b, n / 2, p.now), ==, EBADMSG);
	g_assert_cmpuint(dtls_stats(p.s[1].d)->malformed, ==, G_N_ELEMENTS(lens) + 2);
	g_assert_cmpint(dtls_state(p.s[1].d), ==, DTLS_STATE_HANDSHAKING);
	g_assert_cmpuint(p.s[1].out->len, ==, 0); /* nothing answered to junk */
	g_bytes_unref(hello);
	for (int round = 0; round < ROUNDS_MAX && !settled(&p); round++)
		pump(&p);
	assert_connected(&p, ICE_SRTP_AEAD_AES_128_GCM);
	pair_free(&p);
}

/* Well-framed records whose content is junk: OpenSSL drops or fails; never a crash or leak. */
static void test_framed_junk(void)
{
	uint8_t rec[13 + 64];
	struct pair p;

	pair_init(&p, NULL, NULL);
	g_assert_cmpint(dtls_start(p.s[1].d, p.now), ==, 0);
	for (unsigned type = 20; type <= 23; type++) {
		memset(rec, 0xa5, sizeof(rec));
		rec[0] = (uint8_t)type, rec[1] = 254, rec[2] = 253;
		memset(rec + 3, 0, 8); /* epoch 0, sequence 0 */
		rec[11] = 0, rec[12] = 64;
		int rc = dtls_input(p.s[1].d, rec, sizeof(rec), p.now);

		g_assert_true(rc == 0 || rc == EPROTO || rc == EPIPE);
		if (rc == EPROTO) {
			g_assert_cmpint(dtls_state(p.s[1].d), ==, DTLS_STATE_FAILED);
			g_assert_cmpstr(dtls_reason(p.s[1].d), !=, "");
		}
	}
	pair_free(&p);
}

/* ---- SRTP alone ---- */

static void keys_for(enum ice_srtp_profile prof, struct ice_srtp_keys *a, struct ice_srtp_keys *b)
{
	size_t kl, sl;

	g_assert_cmpint(ice_srtp_profile_lengths(prof, &kl, &sl), ==, 0);
	memset(a, 0, sizeof(*a));
	a->profile = prof;
	a->local.key_len = a->remote.key_len = (uint8_t)kl;
	a->local.salt_len = a->remote.salt_len = (uint8_t)sl;
	for (size_t i = 0; i < kl + sl; i++) {
		a->local.bytes[i] = (uint8_t)(i + 1);
		a->remote.bytes[i] = (uint8_t)(0xf0 - i);
	}
	*b = *a;
	b->local = a->remote;
	b->remote = a->local;
}

static void test_srtp_no_keys(void)
{
	struct ice_srtp *s = ice_srtp_new();
	uint8_t buf[PKT + ICE_SRTP_TRAILER_MAX];
	size_t len = make_rtp(buf, 1);

	g_assert_false(ice_srtp_ready(s, NULL));
	g_assert_cmpint(ice_srtp_protect(s, ICE_SRTP_RTP, buf, &len, sizeof(buf)), ==, ENOTCONN);
	g_assert_cmpint(ice_srtp_unprotect(s, ICE_SRTP_RTCP, buf, &len), ==, ENOTCONN);
	g_assert_cmpuint(len, ==, PKT);
	g_assert_cmpuint(ice_srtp_stats(s)->errors[ICE_SRTP_ERR_NO_KEYS], ==, 2);
	ice_srtp_free(s);
}

/* Protect, unprotect, a flipped bit, a replay, RTCP: for one profile. */
static void test_srtp_profile(gconstpointer data)
{
	enum ice_srtp_profile prof = GPOINTER_TO_INT(data);
	struct ice_srtp *a = ice_srtp_new(), *b = ice_srtp_new();
	struct ice_srtp_keys ka, kb;
	uint8_t buf[PKT + ICE_SRTP_TRAILER_MAX], copy[sizeof(buf)], plain[sizeof(buf)];
	size_t len, clen;

	if (!ice_srtp_profile_supported(prof)) {
		g_test_skip("this libsrtp2 lacks the profile");
		ice_srtp_free(a);
		ice_srtp_free(b);
		return;
	}
	keys_for(prof, &ka, &kb);
	g_assert_cmpint(ice_srtp_set_keys(a, &ka), ==, 0);
	g_assert_cmpint(ice_srtp_set_keys(b, &kb), ==, 0);
	assert_media(a, b, 10);
	assert_media(b, a, 10);

	/* a flipped bit in the payload: authentication fails */
	len = make_rtp(buf, 11);
	g_assert_cmpint(ice_srtp_protect(a, ICE_SRTP_RTP, buf, &len, sizeof(buf)), ==, 0);
	memcpy(copy, buf, sizeof(buf));
	clen = len;
	buf[40] ^= 0x01;
	g_assert_cmpint(ice_srtp_unprotect(b, ICE_SRTP_RTP, buf, &len), ==, EACCES);
	g_assert_cmpuint(ice_srtp_stats(b)->errors[ICE_SRTP_ERR_AUTH], ==, 1);
	/* the intact packet passes once, then is a replay */
	memcpy(buf, copy, sizeof(buf));
	len = clen;
	g_assert_cmpint(ice_srtp_unprotect(b, ICE_SRTP_RTP, buf, &len), ==, 0);
	len = clen;
	g_assert_cmpint(ice_srtp_unprotect(b, ICE_SRTP_RTP, copy, &len), ==, EALREADY);
	g_assert_cmpuint(ice_srtp_stats(b)->errors[ICE_SRTP_ERR_REPLAY], ==, 1);

	/* the sender refuses to protect a sequence number twice (a reused keystream) */
	len = make_rtp(buf, 11);
	g_assert_cmpint(ice_srtp_protect(a, ICE_SRTP_RTP, buf, &len, sizeof(buf)), ==, EALREADY);
	g_assert_cmpuint(ice_srtp_stats(a)->errors[ICE_SRTP_ERR_REPLAY], ==, 1);

	/* RTCP: intact, replayed, tampered */
	len = make_rtcp(buf);
	memcpy(plain, buf, len);
	g_assert_cmpint(ice_srtp_protect(a, ICE_SRTP_RTCP, buf, &len, sizeof(buf)), ==, 0);
	memcpy(copy, buf, sizeof(buf));
	clen = len;
	g_assert_cmpint(ice_srtp_unprotect(b, ICE_SRTP_RTCP, buf, &len), ==, 0);
	g_assert_cmpuint(len, ==, 32);
	g_assert_true(memcmp(buf, plain, 32) == 0);
	len = clen;
	memcpy(buf, copy, sizeof(buf));
	g_assert_cmpint(ice_srtp_unprotect(b, ICE_SRTP_RTCP, buf, &len), ==, EALREADY);
	len = make_rtcp(buf);
	g_assert_cmpint(ice_srtp_protect(a, ICE_SRTP_RTCP, buf, &len, sizeof(buf)), ==, 0);
	buf[12] ^= 0x80;
	g_assert_cmpint(ice_srtp_unprotect(b, ICE_SRTP_RTCP, buf, &len), ==, EACCES);
	g_assert_cmpuint(ice_srtp_stats(b)->errors[ICE_SRTP_ERR_AUTH], ==, 2);
	g_assert_cmpuint(ice_srtp_stats(b)->unprotected_rtcp, ==, 1);
	ice_srtp_free(a);
	ice_srtp_free(b);
}

static void test_srtp_bad_header(void)
{
	struct ice_srtp *a = ice_srtp_new();
	struct ice_srtp_keys ka, kb;
	uint8_t buf[PKT + ICE_SRTP_TRAILER_MAX];
	size_t len;

	keys_for(ICE_SRTP_AES128_CM_SHA1_80, &ka, &kb);
	g_assert_cmpint(ice_srtp_set_keys(a, &ka), ==, 0);
	len = make_rtp(buf, 1);
	buf[0] = 0x40; /* version 1 */
	g_assert_cmpint(ice_srtp_unprotect(a, ICE_SRTP_RTP, buf, &len), ==, EBADMSG);
	len = 11;
	buf[0] = 0x80;
	g_assert_cmpint(ice_srtp_unprotect(a, ICE_SRTP_RTP, buf, &len), ==, EBADMSG);
	len = PKT;
	g_assert_cmpint(ice_srtp_protect(a, ICE_SRTP_RTP, buf, &len, PKT + 4), ==, EBADMSG);
	len = PKT;
	buf[0] = 0x8f; /* 15 CSRCs: 72 bytes of header, then a cut extension */
	buf[0] |= 0x10;
	g_assert_cmpint(ice_srtp_unprotect(a, ICE_SRTP_RTP, buf, &len), !=, 0);
	g_assert_cmpuint(ice_srtp_stats(a)->errors[ICE_SRTP_ERR_BAD_HEADER], >=, 3);
	ka.local.key_len = 5;
	g_assert_cmpint(ice_srtp_set_keys(a, &ka), ==, EPROTO);
	ice_srtp_free(a);
}

/* ---- pure helpers ---- */

static void test_demux(void)
{
	static const struct {
		uint8_t b0, b1;
		size_t len;
		enum ice_pkt want;
	} cases[] = {
		{ 0, 1, 20, ICE_PKT_STUN },      { 3, 0, 20, ICE_PKT_STUN },
		{ 4, 0, 20, ICE_PKT_UNKNOWN },   { 16, 0, 20, ICE_PKT_ZRTP },
		{ 20, 0, 20, ICE_PKT_DTLS },     { 63, 0, 20, ICE_PKT_DTLS },
		{ 64, 0, 20, ICE_PKT_TURN },     { 79, 0, 20, ICE_PKT_TURN },
		{ 80, 0, 20, ICE_PKT_UNKNOWN },  { 127, 0, 20, ICE_PKT_UNKNOWN },
		{ 128, 0, 20, ICE_PKT_RTP },     { 0x80, 111, 20, ICE_PKT_RTP },
		{ 0x80, 0xe0, 20, ICE_PKT_RTP }, { 0x81, 200, 20, ICE_PKT_RTCP },
		{ 0x80, 192, 8, ICE_PKT_RTCP },  { 0x80, 223, 8, ICE_PKT_RTCP },
		{ 0x80, 224, 8, ICE_PKT_RTP },   { 191, 191, 20, ICE_PKT_RTP },
		{ 192, 0, 20, ICE_PKT_UNKNOWN }, { 0x80, 200, 1, ICE_PKT_RTP },
		{ 0, 0, 0, ICE_PKT_UNKNOWN },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint8_t p[2] = { cases[i].b0, cases[i].b1 };

		g_assert_cmpstr(ice_pkt_names[ice_demux(p, cases[i].len)], ==,
		                ice_pkt_names[cases[i].want]);
	}
}

static void test_setup(void)
{
	enum dtls_setup s, ours;
	enum dtls_role r;

	g_assert_cmpint(dtls_setup_parse("ActPass", &s), ==, 0);
	g_assert_cmpint(s, ==, DTLS_SETUP_ACTPASS);
	g_assert_cmpint(dtls_setup_parse("both", &s), ==, EBADMSG);
	/* we answer passive to actpass (field note: the browser starts DTLS) */
	g_assert_cmpint(dtls_setup_answer(DTLS_SETUP_ACTPASS, &r, &ours), ==, 0);
	g_assert_cmpint(r, ==, DTLS_ROLE_SERVER);
	g_assert_cmpstr(dtls_setup_name(ours), ==, "passive");
	g_assert_cmpint(dtls_setup_answer(DTLS_SETUP_ACTIVE, &r, &ours), ==, 0);
	g_assert_cmpint(r, ==, DTLS_ROLE_SERVER);
	g_assert_cmpint(dtls_setup_answer(DTLS_SETUP_PASSIVE, &r, &ours), ==, 0);
	g_assert_cmpint(r, ==, DTLS_ROLE_CLIENT);
	g_assert_cmpstr(dtls_setup_name(ours), ==, "active");
	g_assert_cmpint(dtls_setup_answer(DTLS_SETUP_HOLDCONN, &r, &ours), ==, EPROTO);
	g_assert_cmpint(dtls_setup_answered(DTLS_SETUP_ACTIVE, &r), ==, 0);
	g_assert_cmpint(r, ==, DTLS_ROLE_SERVER);
	g_assert_cmpint(dtls_setup_answered(DTLS_SETUP_PASSIVE, &r), ==, 0);
	g_assert_cmpint(r, ==, DTLS_ROLE_CLIENT);
	g_assert_cmpint(dtls_setup_answered(DTLS_SETUP_ACTPASS, &r), ==, EPROTO);
}

static void test_fingerprint_parse(void)
{
	static const struct {
		const char *in;
		int rc;
	} cases[] = {
		{ "sha-1 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33", 0 },
		{ "SHA-1  00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33 ", 0 },
		{ "sha-1 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22", EBADMSG },
		{ "sha-1 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44", EBADMSG },
		{ "sha-1 0011:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33", EBADMSG },
		{ "sha-1 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:3g", EBADMSG },
		{ "md5 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff", EPROTO },
		{ "sha-256", EBADMSG },
		{ "", EBADMSG },
		{ " sha-256 00", EBADMSG },
	};
	struct dtls_fingerprint fp;
	char text[DTLS_FP_TEXT_MAX];

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpint(dtls_fingerprint_parse(cases[i].in, &fp), ==, cases[i].rc);
	/* our own, through text and back */
	g_assert_cmpint(dtls_fingerprint_parse(dtls_cert_fingerprint_sdp(cert_a), &fp), ==, 0);
	g_assert_true(dtls_fingerprint_equal(&fp, dtls_cert_fingerprint(cert_a)));
	g_assert_false(dtls_fingerprint_equal(&fp, dtls_cert_fingerprint(cert_b)));
	dtls_fingerprint_format(&fp, text);
	g_assert_cmpstr(text, ==, dtls_cert_fingerprint_sdp(cert_a));
	g_assert_cmpuint(strlen(text), ==, strlen("sha-256 ") + 32 * 3 - 1);
}

/* key_path's key, written to out encrypted with a passphrase. */
static void write_encrypted(const char *key_path, const char *out)
{
	FILE *in = fopen(key_path, "r"), *o = fopen(out, "w");
	EVP_PKEY *k = in ? PEM_read_PrivateKey(in, NULL, NULL, NULL) : NULL;

	g_assert_nonnull(k);
	g_assert_nonnull(o);
	g_assert_cmpint(PEM_write_PrivateKey(o, k, EVP_aes_128_cbc(), NULL, 0, NULL, "secret"), ==,
	                1);
	EVP_PKEY_free(k);
	fclose(in);
	fclose(o);
}

/* Configured PEM files: loaded when they match, a clear reason when they do not. */
static void test_cert_files(void)
{
	gchar *dir = g_dir_make_tmp("rtcgate-dtls-XXXXXX", NULL);
	gchar *dir2 = g_build_filename(dir, "other", NULL);
	char *cert = NULL, *key = NULL, *cert2 = NULL, *key2 = NULL, *why = NULL, *enc;
	struct dtls_cert *c = NULL;

	g_assert_cmpint(tlscert_ensure(dir, &cert, &key, &why), ==, 0);
	g_assert_cmpint(tlscert_ensure(dir2, &cert2, &key2, &why), ==, 0);
	g_assert_cmpint(dtls_cert_open(cert, key, &c, &why), ==, 0);
	g_assert_true(g_str_has_prefix(dtls_cert_fingerprint_sdp(c), "sha-256 "));
	dtls_cert_free(c);
	g_assert_cmpint(dtls_cert_open(cert, key2, &c, &why), ==, EINVAL);
	g_assert_nonnull(strstr(why, "does not match"));
	g_clear_pointer(&why, g_free);
	g_assert_cmpint(dtls_cert_open("/nonexistent/cert.pem", key, &c, &why), ==, ENOENT);
	g_assert_nonnull(strstr(why, "/nonexistent/cert.pem"));
	g_clear_pointer(&why, g_free);
	g_assert_cmpint(dtls_cert_open(key, cert, &c, &why), ==, EBADMSG);
	g_assert_nonnull(strstr(why, "no PEM"));
	g_clear_pointer(&why, g_free);
	g_assert_cmpint(dtls_cert_open(cert, "", &c, &why), ==, EINVAL);
	g_clear_pointer(&why, g_free);
	/* an encrypted key is refused with a reason that says so */
	enc = g_build_filename(dir, "enc.pem", NULL);
	write_encrypted(key, enc);
	g_assert_cmpint(dtls_cert_open(cert, enc, &c, &why), ==, EBADMSG);
	g_assert_nonnull(strstr(why, "encrypted"));
	g_clear_pointer(&why, g_free);
	g_unlink(enc);
	g_free(enc);
	for (char **f = (char *[]){ cert, key, cert2, key2, NULL }; *f; f++) {
		gchar *tls = g_path_get_dirname(*f);

		g_unlink(*f);
		g_rmdir(tls); /* the second file of a directory empties it */
		g_free(tls);
		g_free(*f);
	}
	g_rmdir(dir2);
	g_rmdir(dir);
	g_free(dir2);
	g_free(dir);
}

int main(int argc, char **argv)
{
	static const enum ice_srtp_profile profiles[] = {
		ICE_SRTP_AES128_CM_SHA1_80,
		ICE_SRTP_AEAD_AES_128_GCM,
		ICE_SRTP_AEAD_AES_256_GCM,
	};
	static const char *const loss_names[] = { "client-1", "client-2", "server-1", "server-2" };
	char *why = NULL;
	int rc;

	g_test_init(&argc, &argv, NULL);
	g_assert_cmpint(ice_srtp_global_init(), ==, 0);
	g_assert_cmpint(dtls_cert_open(NULL, NULL, &cert_a, &why), ==, 0);
	g_assert_cmpint(dtls_cert_open("", NULL, &cert_b, &why), ==, 0);
	g_assert_cmpint(dtls_cert_open(NULL, NULL, &cert_c, &why), ==, 0);
	g_test_add_func("/dtls/handshake", test_handshake);
	g_test_add_func("/dtls/server-preference", test_server_preference);
	g_test_add_func("/dtls/no-common-profile", test_no_common_profile);
	for (size_t i = 0; i < G_N_ELEMENTS(profiles); i++) {
		gchar *n = g_strdup_printf("/dtls/profile/%s", ice_srtp_profile_name(profiles[i]));
		gchar *m = g_strdup_printf("/srtp/%s", ice_srtp_profile_name(profiles[i]));

		g_test_add_data_func(n, GINT_TO_POINTER(profiles[i]), test_profile);
		g_test_add_data_func(m, GINT_TO_POINTER(profiles[i]), test_srtp_profile);
		g_free(n);
		g_free(m);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(loss_names); i++) {
		gchar *n = g_strdup_printf("/dtls/loss/%s", loss_names[i]);

		g_test_add_data_func(n, GUINT_TO_POINTER(i), test_loss);
		g_free(n);
	}
	g_test_add_data_func("/dtls/wrong-fingerprint/client", GINT_TO_POINTER(0),
	                     test_wrong_fingerprint);
	g_test_add_data_func("/dtls/wrong-fingerprint/server", GINT_TO_POINTER(1),
	                     test_wrong_fingerprint);
	g_test_add_func("/dtls/fingerprint-hash", test_fingerprint_hash);
	g_test_add_func("/dtls/handshake-timeout", test_handshake_timeout);
	g_test_add_func("/dtls/close-notify", test_close_notify);
	g_test_add_func("/dtls/garbage", test_garbage);
	g_test_add_func("/dtls/framed-junk", test_framed_junk);
	g_test_add_func("/srtp/no-keys", test_srtp_no_keys);
	g_test_add_func("/srtp/bad-header", test_srtp_bad_header);
	g_test_add_func("/ice/demux", test_demux);
	g_test_add_func("/dtls/setup", test_setup);
	g_test_add_func("/dtls/fingerprint-parse", test_fingerprint_parse);
	g_test_add_func("/dtls/cert-files", test_cert_files);
	rc = g_test_run();
	dtls_cert_free(cert_a);
	dtls_cert_free(cert_b);
	dtls_cert_free(cert_c);
	return rc;
}
