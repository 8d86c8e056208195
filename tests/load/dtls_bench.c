/*
 * DTLS-SRTP benchmark, one thread: full DTLS 1.2 handshakes between a
 * client and a server endpoint of ice/dtls in memory (both in this process,
 * the CPU of each side's calls measured apart), then SRTP protect and
 * unprotect of 172-byte RTP packets (G.711, 20 ms) for each profile. Not a
 * test: prints figures.
 *   dtls_bench [HANDSHAKES [PACKETS]]
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ice/dtls.h"
#include "ice/srtp.h"

#define PKT        172
#define ROUNDS_MAX 16 /* flights per handshake: 4 without loss */

static int64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- handshakes ---- */

struct side {
	struct dtls *d;
	struct ice_srtp *srtp;
	GPtrArray *out; /* GBytes sent, not yet delivered */
	int64_t ns;     /* CPU in this side's calls */
};

static void on_send(void *user, const uint8_t *data, size_t len)
{
	g_ptr_array_add(((struct side *)user)->out, g_bytes_new(data, len));
}

/* Deliver to s what its peer sent; the CPU of s's processing is charged to s. */
static bool deliver(struct side *s, struct side *peer)
{
	GPtrArray *q = peer->out;
	int64_t t0;

	if (q->len == 0)
		return false;
	peer->out = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	t0 = cpu_ns();
	for (guint i = 0; i < q->len; i++) {
		gsize n;
		const uint8_t *b = g_bytes_get_data(q->pdata[i], &n);

		dtls_input(s->d, b, n, 0);
	}
	s->ns += cpu_ns() - t0;
	g_ptr_array_unref(q);
	return true;
}

static void side_open(struct side *s, struct dtls_ctx *ctx, enum dtls_role role,
                      const struct dtls_fingerprint *peer)
{
	int64_t t0 = cpu_ns();

	s->srtp = ice_srtp_new();
	s->d = dtls_new(ctx, role, peer, s->srtp, on_send, NULL, s);
	if (!s->d || dtls_start(s->d, 0)) {
		fprintf(stderr, "dtls_bench: cannot start an endpoint\n");
		exit(1);
	}
	s->ns += cpu_ns() - t0;
}

static void side_close(struct side *s)
{
	int64_t t0 = cpu_ns();

	dtls_free(s->d);
	ice_srtp_free(s->srtp);
	s->ns += cpu_ns() - t0;
}

/* One handshake, server opened first (it waits for the ClientHello). false if it failed. */
static bool one_handshake(struct dtls_ctx *cctx, struct dtls_ctx *sctx,
                          const struct dtls_fingerprint *cfp, const struct dtls_fingerprint *sfp,
                          struct side *c, struct side *s)
{
	bool ok;

	side_open(s, sctx, DTLS_ROLE_SERVER, cfp);
	side_open(c, cctx, DTLS_ROLE_CLIENT, sfp);
	for (int r = 0; r < ROUNDS_MAX; r++) {
		bool moved = deliver(s, c);

		moved |= deliver(c, s);
		if (!moved)
			break;
	}
	ok = dtls_state(c->d) == DTLS_STATE_CONNECTED && dtls_state(s->d) == DTLS_STATE_CONNECTED;
	side_close(c);
	side_close(s);
	return ok;
}

static void bench_handshakes(int n)
{
	struct dtls_cert *ccert = NULL, *scert = NULL;
	struct dtls_ctx *cctx = NULL, *sctx = NULL;
	struct side c = { 0 }, s = { 0 };
	char *why = NULL;
	int64_t t0;
	double total;
	int failed = 0;

	if (dtls_cert_open(NULL, NULL, &ccert, &why) || dtls_cert_open(NULL, NULL, &scert, &why) ||
	    dtls_ctx_new(ccert, NULL, &cctx, &why) || dtls_ctx_new(scert, NULL, &sctx, &why)) {
		fprintf(stderr, "dtls_bench: %s\n", why ? why : "setup failed");
		exit(1);
	}
	c.out = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	s.out = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	t0 = cpu_ns();
	for (int i = 0; i < n; i++)
		failed += !one_handshake(cctx, sctx, dtls_cert_fingerprint(ccert),
		                         dtls_cert_fingerprint(scert), &c, &s);
	total = (double)(cpu_ns() - t0) / 1e9;
	printf("dtls handshakes: %d (%d failed), profile %s, ECDSA P-256 both sides\n", n, failed,
	       dtls_ctx_profiles(sctx));
	printf("  pair (client+server) on one core: %.0f handshakes/s (%.0f us each)\n", n / total,
	       total * 1e6 / n);
	printf("  server side alone: %.0f handshakes/s (%.0f us each, %.0f%% of the pair)\n",
	       n / (s.ns / 1e9), s.ns / 1e3 / n, 100.0 * s.ns / 1e9 / total);
	printf("  client side alone: %.0f handshakes/s (%.0f us each)\n", n / (c.ns / 1e9),
	       c.ns / 1e3 / n);
	g_ptr_array_unref(c.out);
	g_ptr_array_unref(s.out);
	dtls_ctx_free(cctx);
	dtls_ctx_free(sctx);
	dtls_cert_free(ccert);
	dtls_cert_free(scert);
}

/* ---- SRTP ---- */

static void keyed(enum ice_srtp_profile p, struct ice_srtp **a, struct ice_srtp **b)
{
	struct ice_srtp_keys ka = { .profile = p }, kb;
	size_t kl, sl;

	ice_srtp_profile_lengths(p, &kl, &sl);
	ka.local.key_len = ka.remote.key_len = (uint8_t)kl;
	ka.local.salt_len = ka.remote.salt_len = (uint8_t)sl;
	memset(ka.local.bytes, 0x5a, kl + sl);
	memset(ka.remote.bytes, 0xa5, kl + sl);
	kb = ka;
	kb.local = ka.remote;
	kb.remote = ka.local;
	*a = ice_srtp_new();
	*b = ice_srtp_new();
	if (ice_srtp_set_keys(*a, &ka) || ice_srtp_set_keys(*b, &kb)) {
		fprintf(stderr, "dtls_bench: libsrtp2 refused %s\n", ice_srtp_profile_name(p));
		exit(1);
	}
}

/* µs per packet: protect alone, and protect then unprotect on the peer. */
static void bench_profile(enum ice_srtp_profile p, int n)
{
	struct ice_srtp *a, *b, *a2, *b2;
	uint8_t tmpl[PKT] = { 0x80, 0, 0, 0, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef };
	uint8_t buf[PKT + ICE_SRTP_TRAILER_MAX];
	int64_t t0, prot, both;
	int errors = 0;

	keyed(p, &a, &b);
	keyed(p, &a2, &b2);
	for (int i = 0; i < n / 10; i++) { /* warm-up: caches, branch predictors, CPU clock */
		size_t len = PKT;

		memcpy(buf, tmpl, PKT);
		errors += ice_srtp_protect(b, ICE_SRTP_RTP, buf, &len, sizeof(buf)) != 0 && i == 0;
		buf[2] = (uint8_t)(i >> 8), buf[3] = (uint8_t)i;
	}
	t0 = cpu_ns();
	for (int i = 0; i < n; i++) {
		size_t len = PKT;

		memcpy(buf, tmpl, PKT);
		buf[2] = (uint8_t)(i >> 8), buf[3] = (uint8_t)i; /* the ROC follows the wrap */
		errors += ice_srtp_protect(a, ICE_SRTP_RTP, buf, &len, sizeof(buf)) != 0;
	}
	prot = cpu_ns() - t0;
	t0 = cpu_ns();
	for (int i = 0; i < n; i++) {
		size_t len = PKT;

		memcpy(buf, tmpl, PKT);
		buf[2] = (uint8_t)(i >> 8), buf[3] = (uint8_t)i;
		errors += ice_srtp_protect(b2, ICE_SRTP_RTP, buf, &len, sizeof(buf)) != 0;
		errors += ice_srtp_unprotect(a2, ICE_SRTP_RTP, buf, &len) != 0;
	}
	both = cpu_ns() - t0;
	printf("  %-24s protect %.3f us, unprotect %.3f us, protect+unprotect %.3f us"
	       " (%d errors)\n",
	       ice_srtp_profile_name(p), prot / 1e3 / n, (both - prot) / 1e3 / n, both / 1e3 / n,
	       errors);
	ice_srtp_free(a);
	ice_srtp_free(b);
	ice_srtp_free(a2);
	ice_srtp_free(b2);
}

int main(int argc, char **argv)
{
	static const enum ice_srtp_profile profs[] = { ICE_SRTP_AES128_CM_SHA1_80,
		                                       ICE_SRTP_AEAD_AES_128_GCM,
		                                       ICE_SRTP_AEAD_AES_256_GCM };
	int handshakes = argc > 1 ? atoi(argv[1]) : 2000;
	int packets = argc > 2 ? atoi(argv[2]) : 500000;

	if (handshakes < 1 || packets < 1) {
		fprintf(stderr, "usage: dtls_bench [HANDSHAKES [PACKETS]]\n");
		return 2;
	}
	if (ice_srtp_global_init()) {
		fprintf(stderr, "dtls_bench: libsrtp2 failed to initialise\n");
		return 1;
	}
	bench_handshakes(handshakes);
	printf("srtp, %d packets of %d bytes, one thread:\n", packets, PKT);
	for (size_t i = 0; i < G_N_ELEMENTS(profs); i++)
		if (ice_srtp_profile_supported(profs[i]))
			bench_profile(profs[i], packets);
	return 0;
}
