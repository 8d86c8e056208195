/*
 * WebRTC on a call's flow leg: the browser's SDP through sdp_webrtc (the four
 * offer/answer steps, RFC 3264 §6-§8, RFC 8829 shapes), our ICE credentials,
 * candidates and fingerprint from the media leg (RFC 8839, RFC 8842), the
 * browser's side handed to it, and the leg's failures ending the call with a
 * Reason (RFC 3326).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "ice/dtls_cert.h"
#include "signaling/b2bua.h"
#include "signaling/b2bua_call_priv.h"
#include "signaling/sdp_webrtc.h"

enum web_pending { WEB_NONE, WEB_FROM_WEB, WEB_TO_WEB };

struct call_web {
	struct sdp_webrtc *sdp;
	struct media_webrtc_local local; /* ours toward the browser (new on an ICE restart) */
	bool have_local;
	struct media_webrtc_remote remote; /* the browser's, as last handed to the media leg */
	bool have_remote;
	enum web_pending pending;
	enum sdp_plain_dir web_dir, pbx_dir;
	char mid[SDP_WEBRTC_MID_LEN]; /* the browser's audio mid: trickled candidates name it */
	char *last[2]; /* our last SDP toward the browser [0] and the PBX [1], for repeats */
	size_t last_len[2];
};

/* The flow side's leg of c, or NULL. */
static struct call_leg *flow_leg(struct call *c)
{
	if (c->in.media == MEDIA_LEG_A)
		return &c->in;
	return c->out.media == MEDIA_LEG_A ? &c->out : NULL;
}

/* src carries an answer: a response (but a late offer's first 2xx), or an ACK. */
static bool is_answer(const struct call *c, const osip_message_t *src)
{
	if (MSG_IS_ACK(src))
		return true;
	return MSG_IS_RESPONSE(src) && !(c->late && !c->answered);
}

static bool body_of(const osip_message_t *m, const char **buf, size_t *len)
{
	osip_body_t *body = NULL;

	if (osip_message_get_body(m, 0, &body) < 0 || !body || !body->body || !body->length)
		return false;
	*buf = body->body;
	*len = body->length;
	return true;
}

bool b2bua_webrtc_applies(struct call *c, struct call_leg *from, struct call_leg *to,
                          const osip_message_t *src)
{
	struct sdp_plain *p;
	const char *buf, *why = NULL;
	size_t len;
	bool web;

	if (c->web)
		return true;
	if (is_answer(c, src) || !body_of(src, &buf, &len))
		return false;
	if (to->media == MEDIA_LEG_A)
		return c->flow && c->flow->ice;
	if (from->media != MEDIA_LEG_A)
		return false;
	p = g_new0(struct sdp_plain, 1);
	web = sdp_plain_read(buf, len, p, &why) == 0 && p->profile == SDP_PLAIN_DTLS_SRTP;
	g_free(p);
	return web;
}

/* ---- what the media leg is told -------------------------------------------------------- */

static const char *const hash_names[DTLS_HASH_COUNT] = {
	[DTLS_HASH_SHA1] = "sha-1",     [DTLS_HASH_SHA224] = "sha-224",
	[DTLS_HASH_SHA256] = "sha-256", [DTLS_HASH_SHA384] = "sha-384",
	[DTLS_HASH_SHA512] = "sha-512",
};

static bool dir_sends(enum sdp_plain_dir d)
{
	return d == SDP_PLAIN_SENDRECV || d == SDP_PLAIN_SENDONLY;
}

static bool dir_receives(enum sdp_plain_dir d)
{
	return d == SDP_PLAIN_SENDRECV || d == SDP_PLAIN_RECVONLY;
}

static void cand_to_media(const struct sdp_webrtc_cand *s, struct media_ice_remote_cand *d)
{
	memset(d, 0, sizeof(*d));
	g_strlcpy(d->foundation, s->foundation, sizeof(d->foundation));
	d->component = s->component;
	d->tcp = s->tcp;
	d->priority = s->priority;
	g_strlcpy(d->addr, s->addr, sizeof(d->addr));
	d->port = s->port;
	d->type = (uint8_t)s->type;
}

/* The browser's ICE, DTLS and candidates from its SDP into w->remote; false: unusable hash. */
static bool remote_from_leg(struct call_web *w, const struct sdp_webrtc_leg *leg, bool we_offered)
{
	struct media_webrtc_remote *r = &w->remote;
	size_t n = 0;

	g_strlcpy(r->ufrag, leg->ufrag, sizeof(r->ufrag));
	g_strlcpy(r->pwd, leg->pwd, sizeof(r->pwd));
	r->ice_restart = leg->ice_restart && w->have_remote;
	r->controlling = we_offered && !w->local.ice_lite;
	r->dtls_client = leg->dtls_client;
	for (r->fp_hash = 0; r->fp_hash < DTLS_HASH_COUNT; r->fp_hash++) {
		if (strcmp(hash_names[r->fp_hash], leg->fingerprint.hash) == 0)
			break;
	}
	if (r->fp_hash == DTLS_HASH_COUNT || leg->fingerprint.len > sizeof(r->fp))
		return false;
	r->fp_len = leg->fingerprint.len;
	memcpy(r->fp, leg->fingerprint.digest, r->fp_len);
	for (size_t i = 0; i < leg->n_cand && n < G_N_ELEMENTS(r->cand); i++)
		cand_to_media(&leg->cand[i], &r->cand[n++]);
	r->n_cand = n;
	r->end_of_candidates = leg->end_of_candidates;
	w->web_dir = leg->dir;
	g_strlcpy(w->mid, leg->mid, sizeof(w->mid));
	return true;
}

/* The codecs agreed (or offered) and the browser leg's direction, then the leg is told. */
static int remote_post(struct call *c, const struct sdp_webrtc_out *o)
{
	struct call_web *w = c->web;
	struct media_webrtc_remote *r = &w->remote;

	r->n_map = MIN(o->n_map, (size_t)MEDIA_PT_MAX);
	for (size_t i = 0; i < r->n_map; i++)
		r->map[i] = (struct media_pt_map){ .web_pt = o->map[i].web_pt,
			                           .plain_pt = o->map[i].plain_pt,
			                           .clock = o->map[i].clock };
	r->send = dir_sends(w->web_dir) && dir_receives(w->pbx_dir);
	r->recv = dir_receives(w->web_dir) && dir_sends(w->pbx_dir);
	w->have_remote = true;
	return media_session_webrtc_remote(c->media, r);
}

/* The PBX's media address from its SDP becomes leg B's peer (not toward the demo's echo). */
static void pbx_remote(struct call *c, const struct sdp_plain *p)
{
	struct sockaddr_storage rtp, rtcp;

	c->web->pbx_dir = p->hold_c0 ? SDP_PLAIN_INACTIVE : p->dir;
	if (c->echo || !p->port || p->hold_c0)
		return;
	if (b2bua_sockaddr_of(p->addr, p->port, &rtp) &&
	    b2bua_sockaddr_of(p->rtcp_addr[0] ? p->rtcp_addr : p->addr, p->rtcp_port, &rtcp))
		media_session_set_remote(c->media, MEDIA_LEG_B, (struct sockaddr *)&rtp,
		                         (struct sockaddr *)&rtcp);
}

/* ---- our side ------------------------------------------------------------------------- */

/* Where the browser is, as its WebSocket flow saw it (a v4-mapped address as IPv4). */
static bool flow_toward(const struct call *c, struct sockaddr_storage *out)
{
	const struct call_leg *l = c->in.media == MEDIA_LEG_A ? &c->in : &c->out;
	const char *ip = ((const struct ws_flow *)l->peer)->remote;

	if (g_str_has_prefix(ip, "::ffff:") && strchr(ip, '.'))
		ip += strlen("::ffff:");
	return b2bua_sockaddr_of(ip, 9, out);
}

/* New ICE credentials and candidates for the flow's leg (the first, or an ICE restart). */
static int local_ice(struct call *c, const char **why)
{
	struct sockaddr_storage toward;

	if (!flow_toward(c, &toward) &&
	    !b2bua_sockaddr_of("127.0.0.1", 9, &toward)) /* a flow always has an address */
		return EINVAL;
	if (media_session_webrtc_local(c->media, (struct sockaddr *)&toward, &c->web->local) != 0) {
		*why = "No WebRTC media leg";
		return EIO;
	}
	c->web->have_local = true;
	return 0;
}

/* Our side for sdp_webrtc: leg B's address toward the PBX, our ICE and DTLS for the browser. */
struct local_text {
	char plain_addr[INET6_ADDRSTRLEN];
	char cand_addr[MEDIA_ICE_MAX_CAND][INET6_ADDRSTRLEN];
	struct sdp_webrtc_cand cand[MEDIA_ICE_MAX_CAND];
	struct sdp_webrtc_local l;
};

static int local_fill(struct call *c, const struct sockaddr *toward_pbx, struct local_text *t)
{
	const struct media_webrtc_local *m = &c->web->local;
	struct sockaddr_storage b;

	if (media_session_local(c->media, MEDIA_LEG_B, toward_pbx, &b) != 0)
		return EIO;
	b2bua_sockaddr_text(&b, t->plain_addr, sizeof(t->plain_addr), &t->l.plain_port);
	t->l.plain_addr = t->plain_addr;
	for (size_t i = 0; i < m->n_cand && i < MEDIA_ICE_MAX_CAND; i++) {
		struct sdp_webrtc_cand *d = &t->cand[i];

		memset(d, 0, sizeof(*d));
		b2bua_sockaddr_text(&m->cand[i].addr, d->addr, sizeof(d->addr), &d->port);
		g_strlcpy(d->foundation, m->cand[i].foundation, sizeof(d->foundation));
		d->component = 1;
		d->priority = m->cand[i].priority;
		d->type = SDP_WEBRTC_HOST;
		t->l.n_cand++;
	}
	t->l.cand = t->cand;
	t->l.ufrag = m->ufrag;
	t->l.pwd = m->pwd;
	t->l.fingerprint = m->fingerprint;
	t->l.ice_full = !m->ice_lite;
	t->l.codecs = c->codecs;
	return 0;
}

/* Where leg B's address must route to: the PBX's media address, else our address toward it. */
static void pbx_toward(struct call *c, const struct sdp_plain *p, struct sockaddr_storage *out)
{
	const struct call_leg *l = c->in.media == MEDIA_LEG_B ? &c->in : &c->out;

	if (p && p->port && !p->hold_c0 && b2bua_sockaddr_of(p->addr, p->port, out))
		return;
	if (!b2bua_sockaddr_of(l->host, 9, out) && !flow_toward(c, out))
		b2bua_sockaddr_of("127.0.0.1", 9, out);
}

/* Our ICE credentials: made once, and again when the browser's re-offer restarts ICE. */
static int local_ready(struct call *c, enum sdp_webrtc_step step, const char *buf, size_t len,
                       const char **why)
{
	struct call_web *w = c->web;
	struct sdp_webrtc_leg *leg;
	const char *ignored = NULL;
	bool restart;

	if (!w->have_local)
		return local_ice(c, why);
	if (step != SDP_WEBRTC_OFFER_FROM_WEB || !w->have_remote)
		return 0;
	leg = g_new0(struct sdp_webrtc_leg, 1);
	restart =
	        sdp_webrtc_read(buf, len, false, leg, &ignored) == 0 &&
	        (strcmp(leg->ufrag, w->remote.ufrag) != 0 || strcmp(leg->pwd, w->remote.pwd) != 0);
	g_free(leg);
	if (!restart)
		return 0;
	log_info(LOG_SIP, "ice restart", "login=%s media=%u", c->login, media_session_id(c->media));
	return local_ice(c, why);
}

/* The media leg hears what the step's SDP said; the next step due is remembered. */
static int apply(struct call *c, enum sdp_webrtc_step step, const struct sdp_webrtc_out *o)
{
	struct call_web *w = c->web;

	switch (step) {
	case SDP_WEBRTC_OFFER_FROM_WEB:
		w->pending = WEB_FROM_WEB;
		if (!remote_from_leg(w, &o->leg, false))
			return EPROTO;
		return remote_post(c, o);
	case SDP_WEBRTC_ANSWER_TO_WEB:
		w->pending = WEB_NONE;
		pbx_remote(c, &o->pbx);
		return remote_post(c, o);
	case SDP_WEBRTC_OFFER_TO_WEB:
		w->pending = WEB_TO_WEB;
		pbx_remote(c, &o->pbx);
		return 0;
	case SDP_WEBRTC_ANSWER_FROM_WEB:
		w->pending = WEB_NONE;
		if (!remote_from_leg(w, &o->leg, true))
			return EPROTO;
		return remote_post(c, o);
	}
	return EINVAL;
}

static void body_set(osip_message_t *dst, const char *sdp, size_t len)
{
	char ct[] = "application/sdp";

	osip_message_set_body(dst, sdp, len);
	osip_message_set_content_type(dst, ct);
}

static struct call_web *web_new(struct call *c)
{
	struct call_web *w = g_new0(struct call_web, 1);
	struct call_leg *web = flow_leg(c), *plain = web == &c->in ? &c->out : &c->in;

	w->sdp = sdp_webrtc_new(web->sdp_id, plain->sdp_id);
	w->web_dir = w->pbx_dir = SDP_PLAIN_SENDRECV;
	return w;
}

static const char *const step_names[] = {
	[SDP_WEBRTC_OFFER_FROM_WEB] = "offer_from_web",
	[SDP_WEBRTC_ANSWER_TO_WEB] = "answer_to_web",
	[SDP_WEBRTC_OFFER_TO_WEB] = "offer_to_web",
	[SDP_WEBRTC_ANSWER_FROM_WEB] = "answer_from_web",
};

/* One step through sdp_webrtc with our side filled in; the output for the other side. */
static int translate(struct call *c, enum sdp_webrtc_step step, const char *buf, size_t len,
                     struct sdp_webrtc_out *o, const char **why)
{
	struct local_text *t = g_new0(struct local_text, 1);
	struct sdp_plain *pbx = NULL;
	struct sockaddr_storage toward;
	int rc;

	if (step == SDP_WEBRTC_ANSWER_TO_WEB || step == SDP_WEBRTC_OFFER_TO_WEB) {
		const char *ignored = NULL;

		pbx = g_new0(struct sdp_plain, 1);
		if (sdp_plain_read(buf, len, pbx, &ignored) != 0)
			g_clear_pointer(&pbx, g_free);
	}
	pbx_toward(c, pbx, &toward);
	g_free(pbx);
	rc = local_ready(c, step, buf, len, why);
	if (!rc && local_fill(c, (struct sockaddr *)&toward, t) != 0) {
		*why = "No media address";
		rc = EIO;
	}
	if (!rc)
		rc = sdp_webrtc_translate(c->web->sdp, step, buf, len, &t->l, o, why);
	g_free(t);
	return rc;
}

int b2bua_webrtc_across(struct call *c, struct call_leg *from, struct call_leg *to,
                        const osip_message_t *src, osip_message_t *dst, const char **why)
{
	bool web_from = from->media == MEDIA_LEG_A, answer = is_answer(c, src);
	struct sdp_webrtc_out *o;
	enum sdp_webrtc_step step;
	const char *buf;
	size_t len;
	int rc;

	(void)to;
	if (!body_of(src, &buf, &len))
		return 0;
	if (!c->web)
		c->web = web_new(c);
	if (answer && c->web->pending != (web_from ? WEB_TO_WEB : WEB_FROM_WEB)) {
		/* the answer again (a 2xx after a 183 with SDP): ours again */
		if (c->web->last[web_from])
			body_set(dst, c->web->last[web_from], c->web->last_len[web_from]);
		return 0;
	}
	step = web_from ? (answer ? SDP_WEBRTC_ANSWER_FROM_WEB : SDP_WEBRTC_OFFER_FROM_WEB)
	                : (answer ? SDP_WEBRTC_ANSWER_TO_WEB : SDP_WEBRTC_OFFER_TO_WEB);
	o = g_new0(struct sdp_webrtc_out, 1);
	rc = translate(c, step, buf, len, o, why);
	if (!rc && apply(c, step, o) != 0) {
		*why = "WebRTC media leg refused the SDP";
		rc = EPROTO;
	}
	log_info(LOG_SIP, rc ? "webrtc sdp refused" : "webrtc sdp",
	         "login=%s step=%s media=%u reason=\"%s\"", c->login, step_names[step],
	         media_session_id(c->media), rc ? *why : "");
	if (!rc) {
		g_free(c->web->last[web_from]);
		c->web->last[web_from] = g_strndup(o->sdp, o->sdp_len);
		c->web->last_len[web_from] = o->sdp_len;
		body_set(dst, o->sdp, o->sdp_len);
	}
	g_free(o->sdp);
	g_free(o);
	return rc == EIO ? 500 : rc ? SIP_NOT_ACCEPTABLE_HERE : 0;
}

void b2bua_webrtc_offer_failed(struct call_web *w)
{
	if (w)
		w->pending = WEB_NONE;
}

void b2bua_webrtc_describe(const struct call *c, char *buf, size_t cap)
{
	struct media_webrtc_info info = { 0 };

	buf[0] = '\0';
	if (!c->web || !c->media)
		return;
	media_session_webrtc_info(c->media, &info);
	g_snprintf(buf, cap, " srtp=%s pair=\"%s\" srtp_errors=%" G_GUINT64_FORMAT,
	           info.profile[0] ? info.profile : "none", info.pair, info.srtp_errors);
}

void b2bua_webrtc_free(struct call_web *w)
{
	if (!w)
		return;
	sdp_webrtc_free(w->sdp);
	g_free(w->last[0]);
	g_free(w->last[1]);
	g_free(w);
}

int b2bua_webrtc_trickle(struct call *c, const struct sdp_webrtc_frag *f)
{
	static const char *const types[] = { "host", "srflx", "prflx", "relay" };
	struct call_web *w = c->web;
	uint32_t id = media_session_id(c->media);
	unsigned taken = 0, other = f->cand_ignored;

	if (!w || !c->media)
		return ENOENT;
	if (!w->have_remote || strcmp(f->ufrag, w->remote.ufrag) != 0) {
		log_info(LOG_SIP, "trickle ignored",
		         "login=%s media=%u reason=\"not the current ICE "
		         "generation\" candidates=%zu",
		         c->login, id, f->n_cand);
		return 0;
	}
	for (size_t i = 0; i < f->n_cand; i++) {
		const struct sdp_webrtc_cand *s = &f->cand[i];
		struct media_ice_remote_cand d;

		if (f->cand_mid[i][0] && w->mid[0] && strcmp(f->cand_mid[i], w->mid) != 0) {
			other++; /* another m= line's (port 0 in our answer) */
			continue;
		}
		cand_to_media(s, &d);
		if (media_session_webrtc_candidate(c->media, &d) != 0)
			return ENOENT;
		taken++;
		log_info(LOG_SIP, "trickle candidate", "login=%s media=%u cand=\"%s %s:%u %s\"",
		         c->login, id, s->tcp ? "tcp" : "udp", s->addr, s->port, types[s->type]);
	}
	if (f->end_of_candidates && media_session_webrtc_candidate(c->media, NULL) != 0)
		return ENOENT;
	log_info(LOG_SIP, "trickle", "login=%s media=%u taken=%u ignored=%u end=%s", c->login, id,
	         taken, other, f->end_of_candidates ? "yes" : "no");
	return 0;
}

/* ---- the media leg's events ---------------------------------------------------------- */

static gboolean call_of_session(gpointer k, gpointer v, gpointer data)
{
	struct call *c = v;

	(void)k;
	return c->media && media_session_id(c->media) == GPOINTER_TO_UINT(data);
}

/* "SIP;cause=…;text=\"…\"" (RFC 3326) with the reason's quotes and backslashes left out. */
static void reason_header(char *buf, size_t cap, enum media_event ev, const char *reason)
{
	GString *t = g_string_new(NULL);

	for (const char *p = reason ? reason : ""; *p && t->len < 120; p++)
		if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
			g_string_append_c(t, *p);
	g_snprintf(buf, cap, "SIP;cause=%d;text=\"%s: %s\"",
	           ev == MEDIA_EV_CONSENT_LOST ? 408 : 500,
	           ev == MEDIA_EV_CONSENT_LOST ? "WebRTC consent lost" : "WebRTC media failed",
	           t->str);
	g_string_free(t, TRUE);
}

static void on_media_event(void *user, uint32_t session_id, enum media_event ev, const char *reason)
{
	struct b2bua *b = user;
	struct call *c = g_hash_table_find(b->calls, call_of_session, GUINT_TO_POINTER(session_id));
	char hdr[256];

	if (!c)
		return;
	if (ev == MEDIA_EV_CONNECTED) {
		b2bua_webrtc_describe(c, hdr, sizeof(hdr));
		log_info(LOG_SIP, "media connected", "login=%s media=%u%s", c->login, session_id,
		         hdr);
		return;
	}
	reason_header(hdr, sizeof(hdr), ev, reason);
	log_warn(LOG_SIP, "media failed", "login=%s media=%u event=%s reason=\"%s\"", c->login,
	         session_id, media_event_names[ev], reason ? reason : "");
	if (!c->answered) {
		b2bua_call_abort(c, SIP_NOT_ACCEPTABLE_HERE, "WebRTC media failed");
		return;
	}
	b2bua_leg_bye_reason(c, &c->in, hdr);
	b2bua_leg_bye_reason(c, &c->out, hdr);
	b2bua_call_end(c, ev == MEDIA_EV_CONSENT_LOST ? "consent_lost" : "media_failed");
}

void b2bua_webrtc_start(struct b2bua *b, struct dtls_ctx *dtls)
{
	media_pool_set_webrtc(b->media, dtls, on_media_event, b);
}
