/* SRTP contexts over libsrtp2: RFC 3711 (§3.3 replay), RFC 7714 (AEAD GCM), RFC 5761 rtcp-mux. */
#include "ice/srtp.h"

#include <errno.h>
#include <glib.h>
#include <openssl/crypto.h>
#include <srtp2/srtp.h>
#include <string.h>

#define REPLAY_WINDOW 1024 /* packets; libsrtp2's default is 128, too few on a bursty path */
#define RTP_MIN       12   /* RFC 3550 §5.1 fixed header */
#define RTCP_MIN      8    /* RFC 3550 §6.4.2: an RR without report blocks */
#define SRTCP_TRAILER 4    /* RFC 3711 §3.4: E flag and SRTCP index */

const char *const ice_srtp_err_names[ICE_SRTP_ERR_COUNT] = {
	[ICE_SRTP_ERR_AUTH] = "auth",
	[ICE_SRTP_ERR_REPLAY] = "replay",
	[ICE_SRTP_ERR_BAD_HEADER] = "bad_header",
	[ICE_SRTP_ERR_NO_KEYS] = "no_keys",
	[ICE_SRTP_ERR_OTHER] = "other",
};

struct ice_srtp {
	srtp_t in, out; /* both NULL until keys are set */
	enum ice_srtp_profile profile;
	struct ice_srtp_stats stats;
};

static int init_status = -1;
static srtp_t keeper;

static int make_session(srtp_t *out, enum ice_srtp_profile p, const struct ice_srtp_master *m,
                        srtp_ssrc_type_t dir);

int ice_srtp_global_init(void)
{
	static gsize once;
	struct ice_srtp_master zero = { { 0 }, 0, 0 };

	/* srtp_init registers the crypto kernel's ciphers: not safe to race */
	if (g_once_init_enter(&once)) {
		init_status = srtp_init() == srtp_err_status_ok ? 0 : EPROTO;
		/*
		 * A session that lives as long as the process. Debian's libsrtp2 is built on
		 * NSS: each cipher holds an NSS context, and freeing the last one unloads
		 * NSS's softoken (dlclose), which the next session loads again (dlopen):
		 * ~4 ms per call setup on an idle gateway without this.
		 */
		if (!init_status &&
		    make_session(&keeper, ICE_SRTP_AES128_CM_SHA1_80, &zero, ssrc_any_outbound))
			init_status = EPROTO;
		g_once_init_leave(&once, 1);
	}
	return init_status;
}

const char *ice_srtp_profile_name(enum ice_srtp_profile p)
{
	switch (p) {
	case ICE_SRTP_AES128_CM_SHA1_80: return "SRTP_AES128_CM_SHA1_80";
	case ICE_SRTP_AEAD_AES_128_GCM: return "SRTP_AEAD_AES_128_GCM";
	case ICE_SRTP_AEAD_AES_256_GCM: return "SRTP_AEAD_AES_256_GCM";
	}
	return NULL;
}

int ice_srtp_profile_lengths(enum ice_srtp_profile p, size_t *key_len, size_t *salt_len)
{
	switch (p) {
	case ICE_SRTP_AES128_CM_SHA1_80: *key_len = 16, *salt_len = 14; return 0;
	case ICE_SRTP_AEAD_AES_128_GCM: *key_len = 16, *salt_len = 12; return 0;
	case ICE_SRTP_AEAD_AES_256_GCM: *key_len = 32, *salt_len = 12; return 0;
	}
	return EPROTO;
}

struct ice_srtp *ice_srtp_new(void)
{
	return g_new0(struct ice_srtp, 1);
}

static void drop_sessions(struct ice_srtp *s)
{
	if (s->in)
		srtp_dealloc(s->in);
	if (s->out)
		srtp_dealloc(s->out);
	s->in = s->out = NULL;
}

/* One direction's session: every SSRC of that direction shares the master key (RFC 5764 §4.1). */
static int make_session(srtp_t *out, enum ice_srtp_profile p, const struct ice_srtp_master *m,
                        srtp_ssrc_type_t dir)
{
	srtp_policy_t pol;
	uint8_t key[ICE_SRTP_MASTER_MAX];
	int rc = EIO;

	memset(&pol, 0, sizeof(pol));
	if (srtp_crypto_policy_set_from_profile_for_rtp(&pol.rtp, (srtp_profile_t)p) ||
	    srtp_crypto_policy_set_from_profile_for_rtcp(&pol.rtcp, (srtp_profile_t)p))
		return EPROTO;
	memcpy(key, m->bytes, sizeof(key));
	pol.ssrc.type = dir;
	pol.key = key;
	pol.window_size = REPLAY_WINDOW;
	if (srtp_create(out, &pol) == srtp_err_status_ok)
		rc = 0;
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

bool ice_srtp_profile_supported(enum ice_srtp_profile p)
{
	struct ice_srtp_master m = { { 0 }, 0, 0 };
	size_t kl, sl;
	srtp_t probe = NULL;

	if (ice_srtp_global_init() || ice_srtp_profile_lengths(p, &kl, &sl) ||
	    make_session(&probe, p, &m, ssrc_any_outbound))
		return false;
	srtp_dealloc(probe);
	return true;
}

int ice_srtp_set_keys(struct ice_srtp *s, const struct ice_srtp_keys *keys)
{
	size_t kl, sl;
	int rc;

	if (ice_srtp_global_init() || ice_srtp_profile_lengths(keys->profile, &kl, &sl) ||
	    keys->local.key_len != kl || keys->local.salt_len != sl || keys->remote.key_len != kl ||
	    keys->remote.salt_len != sl)
		return EPROTO;
	drop_sessions(s);
	rc = make_session(&s->out, keys->profile, &keys->local, ssrc_any_outbound);
	if (!rc)
		rc = make_session(&s->in, keys->profile, &keys->remote, ssrc_any_inbound);
	if (rc) {
		drop_sessions(s);
		return rc;
	}
	s->profile = keys->profile;
	return 0;
}

bool ice_srtp_ready(const struct ice_srtp *s, enum ice_srtp_profile *profile)
{
	if (!s->out)
		return false;
	if (profile)
		*profile = s->profile;
	return true;
}

/* Version 2 and the fixed header; libsrtp2 checks CSRCs and extensions against the length. */
static bool header_ok(enum ice_srtp_kind kind, const uint8_t *buf, size_t len)
{
	return len >= (kind == ICE_SRTP_RTCP ? RTCP_MIN : RTP_MIN) && len <= INT32_MAX &&
	       (buf[0] >> 6) == 2;
}

static int fail(struct ice_srtp *s, enum ice_srtp_err e)
{
	static const int codes[ICE_SRTP_ERR_COUNT] = {
		[ICE_SRTP_ERR_AUTH] = EACCES,        [ICE_SRTP_ERR_REPLAY] = EALREADY,
		[ICE_SRTP_ERR_BAD_HEADER] = EBADMSG, [ICE_SRTP_ERR_NO_KEYS] = ENOTCONN,
		[ICE_SRTP_ERR_OTHER] = EIO,
	};

	s->stats.errors[e]++;
	return codes[e];
}

static enum ice_srtp_err classify(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_auth_fail: return ICE_SRTP_ERR_AUTH;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old: return ICE_SRTP_ERR_REPLAY;
	case srtp_err_status_bad_param:
	case srtp_err_status_parse_err: return ICE_SRTP_ERR_BAD_HEADER;
	default: return ICE_SRTP_ERR_OTHER;
	}
}

/* libsrtp2's verdict on one packet: the new length and a count, or the error by kind. */
static int finish(struct ice_srtp *s, srtp_err_status_t st, int n, size_t *len, uint64_t *count)
{
	if (st != srtp_err_status_ok)
		return fail(s, classify(st));
	*len = (size_t)n;
	(*count)++;
	return 0;
}

int ice_srtp_protect(struct ice_srtp *s, enum ice_srtp_kind kind, uint8_t *buf, size_t *len,
                     size_t cap)
{
	int n = (int)*len;
	srtp_err_status_t st;

	if (!s->out)
		return fail(s, ICE_SRTP_ERR_NO_KEYS);
	if (!header_ok(kind, buf, *len) || cap < *len || cap - *len < ICE_SRTP_TRAILER_MAX)
		return fail(s, ICE_SRTP_ERR_BAD_HEADER);
	st = kind == ICE_SRTP_RTCP ? srtp_protect_rtcp(s->out, buf, &n)
	                           : srtp_protect(s->out, buf, &n);
	return finish(s, st, n, len,
	              kind == ICE_SRTP_RTCP ? &s->stats.protected_rtcp : &s->stats.protected_rtp);
}

int ice_srtp_unprotect(struct ice_srtp *s, enum ice_srtp_kind kind, uint8_t *buf, size_t *len)
{
	int n = (int)*len;
	srtp_err_status_t st;

	if (!s->in)
		return fail(s, ICE_SRTP_ERR_NO_KEYS);
	if (!header_ok(kind, buf, *len) ||
	    (kind == ICE_SRTP_RTCP && *len < RTCP_MIN + SRTCP_TRAILER))
		return fail(s, ICE_SRTP_ERR_BAD_HEADER);
	st = kind == ICE_SRTP_RTCP ? srtp_unprotect_rtcp(s->in, buf, &n)
	                           : srtp_unprotect(s->in, buf, &n);
	return finish(s, st, n, len,
	              kind == ICE_SRTP_RTCP ? &s->stats.unprotected_rtcp
	                                    : &s->stats.unprotected_rtp);
}

const struct ice_srtp_stats *ice_srtp_stats(const struct ice_srtp *s)
{
	return &s->stats;
}

void ice_srtp_free(struct ice_srtp *s)
{
	if (!s)
		return;
	drop_sessions(s);
	g_free(s);
}
