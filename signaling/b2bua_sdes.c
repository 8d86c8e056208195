/*
 * SDES-SRTP on a call's PBX leg (issue 5 scope 4; RFC 4568, RFC 3711), per
 * target: srtp=off (plain RTP/AVP), sdes (RTP/SAVP with a=crypto both ways,
 * over TLS only), optional (plain offered, SDES taken when the PBX offers it
 * over TLS). The PBX's SDP has its a=crypto taken out before the
 * translations (sdp_plain, sdp_webrtc) see it; ours gets one put in after
 * them; the keys go to the media leg. Keys are never logged.
 */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "core/log.h"
#include "signaling/b2bua_call_priv.h"
#include "signaling/sdp_savp.h"

#define OUR_TAG 1 /* the one a=crypto line of our offers */

struct call_sdes {
	struct sdp_sdes local; /* our key, made once per call (RAND_bytes) */
	bool have_local;
	bool pbx_offer;        /* the PBX's last offer carried a usable a=crypto … */
	struct sdp_sdes offer; /* … this one: our answer repeats its tag */
	bool on;               /* keys handed to the media leg */
};

static const struct b2bua_route *pbx_route(const struct call *c)
{
	return c->in.media == MEDIA_LEG_B ? &c->in.r : &c->out.r;
}

/* The target's srtp= for this call; *tls: its signaling goes over TLS. */
static enum sip_srtp pbx_mode(const struct call *c, bool *tls)
{
	const struct b2bua_route *r = pbx_route(c);

	*tls = r->via && strcmp(r->via, "TLS") == 0;
	return r->srtp;
}

static struct call_sdes *state(struct call *c)
{
	if (!c->sdes)
		c->sdes = g_new0(struct call_sdes, 1);
	return c->sdes;
}

static void keys_on(struct call *c, const struct sdp_sdes *remote, const char *step)
{
	struct call_sdes *s = c->sdes;

	media_session_pbx_srtp(c->media, s->local.key, remote->key);
	s->on = true;
	log_info(LOG_SIP, "pbx srtp", "login=%s media=%u step=%s tag=%u suite=%s", c->login,
	         media_session_id(c->media), step, remote->tag, SDP_SDES_SUITE);
}

static void keys_off(struct call *c)
{
	if (!c->sdes || !c->sdes->on)
		return;
	media_session_pbx_srtp(c->media, NULL, NULL);
	c->sdes->on = false;
	log_info(LOG_SIP, "pbx srtp off", "login=%s media=%u", c->login,
	         media_session_id(c->media));
}

static int refuse(struct call *c, const char *detail, const char **why)
{
	log_info(LOG_SIP, "pbx srtp refused", "login=%s reason=\"%s\"", c->login,
	         detail ? detail : "no a=crypto");
	*why = "No usable a=crypto";
	return SIP_NOT_ACCEPTABLE_HERE;
}

/* The PBX's answer to our offer (a=crypto in it only with srtp=sdes). */
static int take_answer(struct call *c, enum sip_srtp mode, const struct sdp_savp *info,
                       const char **why)
{
	if (mode == SIP_SRTP_SDES) {
		if (!info->savp || !info->usable)
			return refuse(c, info->why, why);
		if (info->crypto.tag != OUR_TAG)
			return refuse(c, "a=crypto tag not offered", why);
		keys_on(c, &info->crypto, "answer_from_pbx");
		return 0;
	}
	if (info->savp) {
		*why = "RTP/SAVP answer to an RTP/AVP offer";
		return SIP_NOT_ACCEPTABLE_HERE;
	}
	keys_off(c);
	return 0;
}

/* An offer from the PBX: remembered for our answer. */
static int take_offer(struct call *c, enum sip_srtp mode, const struct sdp_savp *info,
                      const char **why)
{
	struct call_sdes *s = state(c);

	s->pbx_offer = false;
	if (info->savp && !info->usable)
		return refuse(c, info->why, why);
	if (!info->savp && mode == SIP_SRTP_SDES)
		return refuse(c, "RTP/AVP offer to an srtp=sdes target", why);
	if (info->savp) {
		s->pbx_offer = true;
		s->offer = info->crypto;
	}
	return 0;
}

static void set_body(osip_message_t *m, const char *buf, size_t len)
{
	osip_list_special_free(&m->bodies, (void (*)(void *))osip_body_free);
	osip_message_set_body(m, buf, len);
}

/* 0 with *mode when SDES may apply to this call; a SIP status when it must but cannot. */
static int applies(const struct call *c, enum sip_srtp *mode, const char **why)
{
	bool tls;

	*mode = pbx_mode(c, &tls);
	if (*mode == SIP_SRTP_SDES && !tls) {
		*why = "SDES-SRTP needs TLS toward the PBX";
		return SIP_NOT_ACCEPTABLE_HERE;
	}
	if (*mode == SIP_SRTP_OPTIONAL && !tls)
		*mode = SIP_SRTP_OFF;
	return 0;
}

int b2bua_sdes_from_pbx(struct call *c, const osip_message_t *src, bool answer,
                        osip_message_t **plain, const char **why)
{
	enum sip_srtp mode;
	struct sdp_savp info;
	osip_body_t *b = NULL;
	char *body = NULL;
	size_t len = 0;
	int rc = applies(c, &mode, why);

	*plain = NULL;
	if (rc || mode == SIP_SRTP_OFF)
		return rc;
	if (osip_message_get_body(src, 0, &b) < 0 || !b || !b->body ||
	    sdp_savp_strip(b->body, b->length, &info, &body, &len) != 0)
		return 0; /* the translation refuses what it cannot read */
	rc = answer ? take_answer(c, mode, &info, why) : take_offer(c, mode, &info, why);
	if (!rc && (info.savp || info.n_crypto) && osip_message_clone(src, plain) == 0)
		set_body(*plain, body, len);
	OPENSSL_cleanse(&info, sizeof(info));
	OPENSSL_cleanse(body, len);
	g_free(body);
	return rc;
}

/* Our SDP in m made SAVP with line (its key ours). */
static int put_line(osip_message_t *m, const struct sdp_sdes *line, const char **why)
{
	osip_body_t *b = NULL;
	char *out = NULL;
	size_t len = 0;

	if (osip_message_get_body(m, 0, &b) < 0 || !b || !b->body ||
	    sdp_savp_add(b->body, b->length, line, &out, &len) != 0) {
		*why = "No RTP/AVP stream for SDES";
		return SIP_NOT_ACCEPTABLE_HERE;
	}
	set_body(m, out, len);
	OPENSSL_cleanse(out, len);
	g_free(out);
	return 0;
}

int b2bua_sdes_to_pbx(struct call *c, osip_message_t *dst, bool answer, const char **why)
{
	enum sip_srtp mode;
	struct call_sdes *s;
	struct sdp_sdes line;
	int rc = applies(c, &mode, why);

	if (rc || mode == SIP_SRTP_OFF)
		return rc;
	s = state(c);
	if (answer && !s->pbx_offer) {
		keys_off(c);
		return 0;
	}
	if (!answer && mode != SIP_SRTP_SDES)
		return 0;
	if (!s->have_local && RAND_bytes(s->local.key, sizeof(s->local.key)) != 1) {
		*why = "No random key";
		return 500;
	}
	s->have_local = true;
	line = s->local;
	line.tag = answer ? s->offer.tag : OUR_TAG;
	rc = put_line(dst, &line, why);
	OPENSSL_cleanse(&line, sizeof(line));
	if (!rc && answer)
		keys_on(c, &s->offer, "answer_to_pbx");
	return rc;
}

void b2bua_sdes_free(struct call_sdes *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, sizeof(*s));
	g_free(s);
}
