/* SDES-SRTP on leg B, toward the PBX (RFC 3711 AES_CM_128_HMAC_SHA1_80, keys from RFC 4568
 * a=crypto): the worker's contexts, its protect and unprotect hooks, the control thread's message.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>

#include "core/log.h"
#include "core/worker.h"
#include "ice/srtp.h"
#include "relay/rtp_priv.h"

#define SDES_KEY  16 /* AES-128 master key */
#define SDES_SALT 14 /* master salt; key then salt is the a=crypto inline value */

/*
 * One context per direction: re-keying one way (a re-INVITE with a new
 * a=crypto from the PBX) keeps the other's rollover counter and replay state.
 */
struct rtp_srtp {
	struct ice_srtp *tx, *rx;
	uint8_t tx_key[MEDIA_SDES_KEY_LEN], rx_key[MEDIA_SDES_KEY_LEN];
	bool tx_set, rx_set;
};

/* A context whose key is `key` both ways; only one way is used. 0 or an errno. */
static int install(struct ice_srtp **ctx, const uint8_t key[MEDIA_SDES_KEY_LEN])
{
	struct ice_srtp_keys k = { .profile = ICE_SRTP_AES128_CM_SHA1_80 };
	int rc;

	memcpy(k.local.bytes, key, MEDIA_SDES_KEY_LEN);
	k.local.key_len = SDES_KEY;
	k.local.salt_len = SDES_SALT;
	k.remote = k.local;
	ice_srtp_free(*ctx);
	*ctx = ice_srtp_new();
	rc = ice_srtp_set_keys(*ctx, &k);
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

/* Install key in *ctx unless it is the one there already: 0 unchanged, 1 new, or -errno. */
static int rekey(struct ice_srtp **ctx, uint8_t cur[MEDIA_SDES_KEY_LEN], bool *set,
                 const uint8_t key[MEDIA_SDES_KEY_LEN])
{
	int rc;

	if (*set && CRYPTO_memcmp(cur, key, MEDIA_SDES_KEY_LEN) == 0)
		return 0;
	memcpy(cur, key, MEDIA_SDES_KEY_LEN);
	*set = true;
	rc = install(ctx, key);
	return rc ? -rc : 1;
}

void rtp_srtp_close(struct media_session *s)
{
	struct rtp_srtp *x = s->srtp_b;

	if (!x)
		return;
	ice_srtp_free(x->tx);
	ice_srtp_free(x->rx);
	OPENSSL_cleanse(x, sizeof(*x));
	g_free(x);
	s->srtp_b = NULL;
}

static enum media_drop drop_reason(int rc)
{
	switch (rc) {
	case EACCES: return MEDIA_DROP_SRTP_AUTH;
	case EALREADY: return MEDIA_DROP_SRTP_REPLAY;
	default: return MEDIA_DROP_SRTP_ERROR;
	}
}

bool rtp_srtp_in(struct media_session *s, const struct rtp_sock *in, uint8_t *buf, unsigned *len)
{
	size_t n = *len;
	int rc;

	if (in->leg != MEDIA_LEG_B || !s->srtp_b)
		return true;
	rc = ice_srtp_unprotect(s->srtp_b->rx,
	                        in->kind == RTP_KIND_RTCP ? ICE_SRTP_RTCP : ICE_SRTP_RTP, buf, &n);
	if (rc) {
		rtp_drop(s, MEDIA_LEG_B, drop_reason(rc));
		return false;
	}
	*len = (unsigned)n;
	return true;
}

bool rtp_srtp_to_b(struct media_session *s, int from_leg, int kind, uint8_t *buf, size_t *len,
                   size_t cap)
{
	if (!s->srtp_b || from_leg == MEDIA_LEG_B)
		return true;
	if (ice_srtp_protect(s->srtp_b->tx, kind == RTP_KIND_RTCP ? ICE_SRTP_RTCP : ICE_SRTP_RTP,
	                     buf, len, cap) == 0)
		return true;
	rtp_drop(s, from_leg, MEDIA_DROP_SRTP_ERROR);
	return false;
}

/* --- the control thread's message ----------------------------------------------------- */

struct srtp_msg {
	struct media_session *s;
	bool on;
	uint8_t local[MEDIA_SDES_KEY_LEN], remote[MEDIA_SDES_KEY_LEN];
};

/* Both contexts keyed (a failed one stays without keys: media is dropped, never sent plain). */
static void srtp_on_worker(void *data)
{
	struct srtp_msg *m = data;
	struct media_session *s = m->s;
	struct rtp_srtp *x;
	int tx, rx;

	if (!m->on) {
		if (s->srtp_b)
			log_info(LOG_SRTP, "pbx srtp off", "session=%u leg=b", s->id);
		rtp_srtp_close(s);
		g_free(m);
		return;
	}
	if (!s->srtp_b)
		s->srtp_b = g_new0(struct rtp_srtp, 1);
	x = s->srtp_b;
	tx = rekey(&x->tx, x->tx_key, &x->tx_set, m->local);
	rx = rekey(&x->rx, x->rx_key, &x->rx_set, m->remote);
	OPENSSL_cleanse(m, sizeof(*m));
	g_free(m);
	if (tx < 0 || rx < 0)
		log_warn(LOG_SRTP, "pbx srtp keys refused", "session=%u leg=b error=%s", s->id,
		         g_strerror(tx < 0 ? -tx : -rx));
	else if (tx || rx)
		log_info(LOG_SRTP, "pbx srtp keys",
		         "session=%u leg=b suite=AES_CM_128_HMAC_SHA1_80 "
		         "new_local=%s new_remote=%s",
		         s->id, tx ? "yes" : "no", rx ? "yes" : "no");
}

int media_session_pbx_srtp(struct media_session *s, const uint8_t local[MEDIA_SDES_KEY_LEN],
                           const uint8_t remote[MEDIA_SDES_KEY_LEN])
{
	struct srtp_msg *m;

	if (!local != !remote)
		return EINVAL;
	m = g_new0(struct srtp_msg, 1);
	m->s = s;
	m->on = local != NULL;
	if (local) {
		memcpy(m->local, local, MEDIA_SDES_KEY_LEN);
		memcpy(m->remote, remote, MEDIA_SDES_KEY_LEN);
	}
	worker_post(s->rw->w, srtp_on_worker, m);
	return 0;
}
