/* WebRTC SDP ⇄ plain SDP, both directions: the call's state (o= versions, m= layouts,
 * payload type history) and the four offer/answer steps (RFC 3264 §6, §8; RFC 8829 §5.2-§5.3
 * shapes; RFC 8843 §7.3 rejected m= lines; RFC 4733 telephone-event). Pure. */
#include "signaling/sdp_webrtc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "signaling/sdp_read.h"
#include "signaling/sdp_webrtc_priv.h"

#define MEDIA_LEN 32
#define FMTS_LEN  256
#define HASH_LEN  65 /* hex SHA-256 of our last SDP on a side, after its o= line */

enum pending { PENDING_NONE, PENDING_FROM_WEB, PENDING_TO_WEB };

/* One m= line of a side's session, as the answers and re-offers must repeat it. */
struct layout {
	char media[MEDIA_LEN];
	char proto[SDP_PLAIN_PROTO_LEN];
	char fmts[FMTS_LEN];
	char mid[SDP_WEBRTC_MID_LEN];
};

struct side {
	uint64_t id, version;
	char last[HASH_LEN];
	unsigned n_media, audio; /* n_media 0: no session yet */
	struct layout media[SDP_PLAIN_MAX_MEDIA];
};

struct sdp_webrtc {
	struct side web, plain;
	char ufrag[SDP_WEBRTC_ICE_LEN], pwd[SDP_WEBRTC_ICE_LEN]; /* the browser's last */
	bool bundle, rtcp_mux;
	enum sdp_webrtc_setup peer_setup; /* of the browser's pending offer */
	enum pending pending;
	size_t n_offered, n_hist, n_map;
	struct sdp_webrtc_ptmap offered[SDP_PLAIN_MAX_PT]; /* the codecs of the pending offer */
	struct sdp_webrtc_ptmap hist[SDP_PLAIN_MAX_PT];    /* every codec of the call so far */
	struct sdp_webrtc_ptmap map[SDP_PLAIN_MAX_PT];     /* agreed in the last answer */
};

/* A codec to write: its number on the side written, the call's name for it, the source's fmtp. */
struct wcodec {
	uint8_t pt;
	const struct sdp_webrtc_ptmap *m;
	const char *fmtp;
};

struct sdp_webrtc *sdp_webrtc_new(uint64_t web_id, uint64_t plain_id)
{
	struct sdp_webrtc *s = g_new0(struct sdp_webrtc, 1);

	s->web.id = web_id;
	s->plain.id = plain_id;
	return s;
}

void sdp_webrtc_free(struct sdp_webrtc *s)
{
	g_free(s);
}

/* ---- payload types ----------------------------------------------------------------- */

static bool is_dtmf(const char *name)
{
	return g_ascii_strcasecmp(name, "telephone-event") == 0;
}

static bool same_codec(const struct sdp_webrtc_ptmap *e, const struct sdp_plain_codec *c)
{
	return c->name[0] && g_ascii_strcasecmp(e->name, c->name) == 0 && e->clock == c->clock &&
	       e->channels == c->channels;
}

static uint8_t *side_pt(struct sdp_webrtc_ptmap *e, bool web)
{
	return web ? &e->web_pt : &e->plain_pt;
}

static bool pt_used(struct sdp_webrtc *t, bool web, unsigned pt)
{
	for (size_t i = 0; i < t->n_hist; i++) {
		if (*side_pt(&t->hist[i], web) == pt)
			return true;
	}
	return false;
}

/* The peer on side `web` numbers c as c->pt: an older codec with that number loses it. */
static void pt_claim(struct sdp_webrtc *t, bool web, const struct sdp_plain_codec *c)
{
	for (size_t i = 0; i < t->n_hist; i++) {
		if (*side_pt(&t->hist[i], web) == c->pt && !same_codec(&t->hist[i], c))
			*side_pt(&t->hist[i], web) = UINT8_MAX;
	}
}

/*
 * The history entry of codec c, numbered c->pt on side `web`: the one seen
 * before (its number on the other side stays: RFC 3264 §8.3.2), else a new
 * one with the same number on the other side when free there, else the
 * first free dynamic number (RFC 3551 §3). NULL when none is left.
 */
static struct sdp_webrtc_ptmap *pt_assign(struct sdp_webrtc *t, const struct sdp_plain_codec *c,
                                          bool web)
{
	struct sdp_webrtc_ptmap *e = NULL;
	unsigned other = c->pt;

	pt_claim(t, web, c);
	for (size_t i = 0; i < t->n_hist && !e; i++) {
		if (same_codec(&t->hist[i], c))
			e = &t->hist[i];
	}
	if (!e) {
		for (unsigned pt = 96; pt <= 127 && pt_used(t, !web, other); pt++)
			other = pt;
		if (t->n_hist == SDP_PLAIN_MAX_PT || pt_used(t, !web, other))
			return NULL;
		e = &t->hist[t->n_hist++];
		memset(e, 0, sizeof(*e));
		g_strlcpy(e->name, c->name, sizeof(e->name));
		e->clock = c->clock;
		e->channels = c->channels;
		*side_pt(e, !web) = (uint8_t)other;
	}
	*side_pt(e, web) = c->pt;
	return e;
}

/*
 * The codecs of an offer that go to the other side: those the filter allows
 * (telephone-event only at the clock rate of a codec kept, RFC 4733 §2.1),
 * with their numbers there, into t->offered. "No common codec" when nothing
 * but telephone-event or CN is left.
 */
static const char *offer_codecs(struct sdp_webrtc *t, const struct sdp_plain_codec *in, size_t n,
                                const char *filter, bool from_web)
{
	bool keep[SDP_PLAIN_MAX_PT] = { false };
	size_t audio = 0;

	for (size_t i = 0; i < n; i++) {
		keep[i] = in[i].name[0] && !is_dtmf(in[i].name) &&
		          sdp_read_allowed(filter, in[i].name);
		audio += keep[i] && g_ascii_strcasecmp(in[i].name, "CN") != 0;
	}
	if (audio == 0)
		return "No common codec";
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n && is_dtmf(in[i].name) && !keep[i]; j++)
			keep[i] = keep[j] && !is_dtmf(in[j].name) && in[j].clock == in[i].clock &&
			          sdp_read_allowed(filter, in[i].name);
	}
	t->n_offered = 0;
	for (size_t i = 0; i < n; i++) {
		struct sdp_webrtc_ptmap *e;
		bool twice = false;

		for (size_t j = 0; j < t->n_offered; j++)
			twice = twice || same_codec(&t->offered[j], &in[i]);
		if (!keep[i] || twice)
			continue;
		if (!(e = pt_assign(t, &in[i], from_web)))
			return "No free payload type";
		t->offered[t->n_offered++] = *e;
	}
	return NULL;
}

/*
 * The answer's codecs (numbered on side `web`) that were offered, in the
 * answer's order, into t->map; a codec answered under another number than
 * offered keeps the answer's number on that side (the PT mapping).
 */
static const char *answer_codecs(struct sdp_webrtc *t, const struct sdp_plain_codec *in, size_t n,
                                 bool web, bool rejected)
{
	size_t audio = 0;

	t->n_map = 0;
	for (size_t i = 0; i < n; i++) {
		struct sdp_webrtc_ptmap *best = NULL;

		for (size_t j = 0; j < t->n_offered; j++) {
			struct sdp_webrtc_ptmap *o = &t->offered[j];
			bool num = *side_pt(o, web) == in[i].pt;

			if ((num && (!in[i].name[0] || same_codec(o, &in[i]))) ||
			    (!best && same_codec(o, &in[i])))
				best = o;
		}
		for (size_t k = 0; best && k < t->n_map; k++) {
			if (same_codec(&t->map[k], &in[i]) ||
			    *side_pt(&t->map[k], !web) == *side_pt(best, !web))
				best = NULL; /* answered twice */
		}
		if (!best)
			continue;
		if (in[i].name[0])
			pt_assign(t, &in[i], web); /* remember the answer's number for re-offers */
		t->map[t->n_map] = *best;
		*side_pt(&t->map[t->n_map++], web) = in[i].pt;
		audio += !is_dtmf(best->name) && g_ascii_strcasecmp(best->name, "CN") != 0;
	}
	return audio || rejected ? NULL : "No common codec";
}

/* The write list of the agreed or offered codecs, numbered for side `web`, described by src. */
static size_t wcodecs(const struct sdp_webrtc_ptmap *m, size_t n, bool web,
                      const struct sdp_plain_codec *src, size_t n_src, bool src_web,
                      struct wcodec *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t want = src_web ? m[i].web_pt : m[i].plain_pt;

		for (size_t j = 0; j < n_src; j++) {
			if (src[j].pt == want) {
				out[k].pt = web ? m[i].web_pt : m[i].plain_pt;
				out[k].m = &m[i];
				out[k++].fmtp = src[j].fmtp;
				break;
			}
		}
	}
	return k;
}

/* ---- writing ----------------------------------------------------------------------- */

/* The audio m= line to write on a side. */
struct audio {
	const struct wcodec *w;
	size_t n;
	enum sdp_plain_dir dir;
	unsigned ptime;
	bool rejected;     /* port 0 */
	const char *setup; /* toward the browser */
};

static const char *addrtype(const char *addr)
{
	return strchr(addr, ':') ? "IP6" : "IP4";
}

/* The default candidate (RFC 8839 §4.2.1.1): the first UDP RTP one, else the first. */
static const struct sdp_webrtc_cand *default_cand(const struct sdp_webrtc_local *l)
{
	for (size_t i = 0; i < l->n_cand; i++) {
		if (!l->cand[i].tcp && l->cand[i].component == 1)
			return &l->cand[i];
	}
	return l->n_cand ? &l->cand[0] : NULL;
}

static void codecs_write(GString *g, const struct audio *a)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct sdp_webrtc_ptmap *m = a->w[i].m;

		g_string_append_printf(g, "a=rtpmap:%u %s/%u", a->w[i].pt, m->name, m->clock);
		if (m->channels != 1)
			g_string_append_printf(g, "/%u", m->channels);
		g_string_append(g, "\r\n");
		if (a->w[i].fmtp[0])
			g_string_append_printf(g, "a=fmtp:%u %s\r\n", a->w[i].pt, a->w[i].fmtp);
	}
	if (a->ptime)
		g_string_append_printf(g, "a=ptime:%u\r\n", a->ptime);
}

static void mline_write(GString *g, uint16_t port, const char *proto, const struct audio *a)
{
	g_string_append_printf(g, "m=audio %u %s", port, proto);
	for (size_t i = 0; i < a->n; i++)
		g_string_append_printf(g, " %u", a->w[i].pt);
	g_string_append(g, "\r\n");
}

/* Another m= line, or a rejected audio one: port 0, its formats, its mid (RFC 8843 §7.3.3). */
static void other_write(GString *g, const struct layout *m)
{
	g_string_append_printf(g, "m=%s 0 %s %s\r\n", m->media, m->proto, m->fmts);
	if (m->mid[0])
		g_string_append_printf(g, "a=mid:%s\r\n", m->mid);
}

static void plain_audio(GString *g, const struct sdp_webrtc_local *l, const struct layout *m,
                        const struct audio *a)
{
	if (a->rejected) {
		other_write(g, m);
		return;
	}
	mline_write(g, l->plain_port, m->proto, a);
	g_string_append_printf(g, "a=rtcp:%u IN %s %s\r\n", l->plain_port + 1,
	                       addrtype(l->plain_addr), l->plain_addr);
	codecs_write(g, a);
	g_string_append_printf(g, "a=%s\r\n", sdp_plain_dir_name(a->dir));
}

static void web_audio(GString *g, const struct sdp_webrtc *t, const struct sdp_webrtc_local *l,
                      const struct layout *m, const struct audio *a)
{
	const struct sdp_webrtc_cand *d = default_cand(l);

	if (a->rejected) {
		other_write(g, m);
		return;
	}
	mline_write(g, d ? d->port : 9, "UDP/TLS/RTP/SAVPF", a);
	g_string_append_printf(g, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", l->ufrag, l->pwd);
	g_string_append_printf(g, "a=fingerprint:%s\r\na=setup:%s\r\n", l->fingerprint, a->setup);
	if (m->mid[0])
		g_string_append_printf(g, "a=mid:%s\r\n", m->mid);
	g_string_append_printf(g, "a=%s\r\n", sdp_plain_dir_name(a->dir));
	if (t->rtcp_mux)
		g_string_append(g, "a=rtcp-mux\r\n");
	codecs_write(g, a);
	for (size_t i = 0; i < l->n_cand; i++) {
		g_string_append(g, "a=");
		sdp_webrtc_cand_write(g, &l->cand[i]);
		g_string_append(g, "\r\n");
	}
	/* all our candidates are known when we write (lite, or gathered before) */
	g_string_append(g, "a=end-of-candidates\r\n");
}

/*
 * v= and o= before body: the version goes up when the body differs from our
 * last SDP on this side (RFC 3264 §8), the session id never changes.
 */
static char *side_finish(struct side *sd, const char *addr, const GString *body, size_t *len)
{
	char *hash = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)body->str,
	                                         body->len);
	GString *g = g_string_new("v=0\r\n");

	if (strcmp(hash, sd->last) != 0) {
		sd->version++;
		g_strlcpy(sd->last, hash, sizeof(sd->last));
	}
	g_free(hash);
	g_string_append_printf(g,
	                       "o=rtcgate %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " IN %s %s\r\n",
	                       sd->id, sd->version, addrtype(addr), addr);
	g_string_append_len(g, body->str, (gssize)body->len);
	*len = g->len;
	return g_string_free(g, FALSE);
}

static char *plain_text(struct sdp_webrtc *t, const struct sdp_webrtc_local *l,
                        const struct audio *a, size_t *len)
{
	GString *g = g_string_new(NULL);
	char *text;

	g_string_append_printf(g, "s=-\r\nc=IN %s %s\r\nt=0 0\r\n", addrtype(l->plain_addr),
	                       l->plain_addr);
	for (unsigned i = 0; i < t->plain.n_media; i++) {
		if (i == t->plain.audio)
			plain_audio(g, l, &t->plain.media[i], a);
		else
			other_write(g, &t->plain.media[i]);
	}
	text = side_finish(&t->plain, l->plain_addr, g, len);
	g_string_free(g, TRUE);
	return text;
}

static char *web_text(struct sdp_webrtc *t, const struct sdp_webrtc_local *l, const struct audio *a,
                      size_t *len)
{
	const struct sdp_webrtc_cand *d = default_cand(l);
	const char *addr = d ? d->addr : "0.0.0.0";
	const struct layout *am = &t->web.media[t->web.audio];
	GString *g = g_string_new(NULL);
	char *text;

	g_string_append_printf(g, "s=-\r\nc=IN %s %s\r\nt=0 0\r\n", addrtype(addr), addr);
	if (t->bundle && am->mid[0] && !a->rejected)
		g_string_append_printf(g, "a=group:BUNDLE %s\r\n", am->mid);
	if (!l->ice_full)
		g_string_append(g, "a=ice-lite\r\n");
	for (unsigned i = 0; i < t->web.n_media; i++) {
		if (i == t->web.audio)
			web_audio(g, t, l, am, a);
		else
			other_write(g, &t->web.media[i]);
	}
	text = side_finish(&t->web, addr, g, len);
	g_string_free(g, TRUE);
	return text;
}

/* ---- state ------------------------------------------------------------------------- */

/* The m= lines of a side's offer: what the answer and later re-offers repeat. */
static const char *layout_read(const sdp_message_t *sdp, unsigned audio, struct side *sd)
{
	int n = osip_list_size(&sdp->m_medias);

	for (int i = 0; i < n; i++) {
		const sdp_media_t *m = osip_list_get(&sdp->m_medias, i);
		const sdp_attribute_t *mid = sdp_read_attr(&m->a_attributes, "mid");
		struct layout *l = &sd->media[i];
		const char *first = osip_list_get(&m->m_payloads, 0);

		memset(l, 0, sizeof(*l));
		if (g_strlcpy(l->media, m->m_media, sizeof(l->media)) >= sizeof(l->media) ||
		    g_strlcpy(l->fmts, first, sizeof(l->fmts)) >= sizeof(l->fmts))
			return "Bad m= line";
		g_strlcpy(l->proto, m->m_proto, sizeof(l->proto));
		/* all formats when they fit, else the first: a rejected line needs one */
		for (int j = 1; j < osip_list_size(&m->m_payloads); j++) {
			const char *f = osip_list_get(&m->m_payloads, j);

			if (strlen(l->fmts) + strlen(f) + 2 > sizeof(l->fmts)) {
				g_strlcpy(l->fmts, first, sizeof(l->fmts));
				break;
			}
			g_strlcat(l->fmts, " ", sizeof(l->fmts));
			g_strlcat(l->fmts, f, sizeof(l->fmts));
		}
		if (mid && mid->a_att_value && strlen(mid->a_att_value) < sizeof(l->mid))
			g_strlcpy(l->mid, mid->a_att_value, sizeof(l->mid));
	}
	sd->n_media = (unsigned)n;
	sd->audio = audio;
	return NULL;
}

/* Our own first session on a side: one audio m= line. */
static void layout_default(struct side *sd, const char *proto, const char *mid)
{
	memset(&sd->media[0], 0, sizeof(sd->media[0]));
	g_strlcpy(sd->media[0].media, "audio", sizeof(sd->media[0].media));
	g_strlcpy(sd->media[0].proto, proto, sizeof(sd->media[0].proto));
	g_strlcpy(sd->media[0].fmts, "0", sizeof(sd->media[0].fmts));
	g_strlcpy(sd->media[0].mid, mid, sizeof(sd->media[0].mid));
	sd->n_media = 1;
	sd->audio = 0;
}

/* What the browser said that later steps need; an ICE restart is new credentials. */
static void web_update(struct sdp_webrtc *t, struct sdp_webrtc_leg *leg)
{
	leg->ice_restart =
	        t->ufrag[0] && (strcmp(t->ufrag, leg->ufrag) != 0 || strcmp(t->pwd, leg->pwd) != 0);
	g_strlcpy(t->ufrag, leg->ufrag, sizeof(t->ufrag));
	g_strlcpy(t->pwd, leg->pwd, sizeof(t->pwd));
	t->rtcp_mux = leg->rtcp_mux;
	t->peer_setup = leg->setup;
}

static const char *local_check(const struct sdp_webrtc_local *l)
{
	struct in6_addr a;
	struct sdp_webrtc_fp fp;
	bool unknown = false;

	if (!l || !l->plain_addr || l->plain_port == 0 || l->plain_port == 65535 ||
	    (inet_pton(AF_INET, l->plain_addr, &a) != 1 &&
	     inet_pton(AF_INET6, l->plain_addr, &a) != 1))
		return "Bad local address";
	if (!l->ufrag || !sdp_webrtc_ice_ok(l->ufrag, 4, SDP_WEBRTC_ICE_LEN - 1) || !l->pwd ||
	    !sdp_webrtc_ice_ok(l->pwd, 22, SDP_WEBRTC_ICE_LEN - 1))
		return "Bad local ICE credentials";
	if (!l->fingerprint || sdp_webrtc_fp_read(l->fingerprint, &fp, &unknown) || unknown)
		return "Bad local fingerprint";
	if (l->n_cand > SDP_WEBRTC_MAX_CAND || (l->n_cand && !l->cand))
		return "Bad local candidates";
	/* each candidate must read back as itself: an IP literal, fields in range */
	for (size_t i = 0; i < l->n_cand; i++) {
		GString *g = g_string_new(NULL);
		struct sdp_webrtc_cand c;
		bool bad;

		sdp_webrtc_cand_write(g, &l->cand[i]);
		bad = sdp_webrtc_cand_read(g->str + strlen("candidate:"), &c, &unknown) ||
		      unknown || c.mdns || c.port == 0;
		g_string_free(g, TRUE);
		if (bad)
			return "Bad local candidate";
	}
	return NULL;
}

/* ---- the four steps ---------------------------------------------------------------- */

struct input {
	sdp_message_t *sdp;
	struct sdp_plain *p;
	struct sdp_webrtc_leg *leg;
};

typedef const char *(*step_fn)(struct sdp_webrtc *t, struct input *in,
                               const struct sdp_webrtc_local *l, struct sdp_webrtc_out *o, int *rc);

/*
 * Parse and check buf, run fn on a copy of the state, and keep the copy and
 * fn's output only when it succeeds: a refused SDP changes nothing.
 */
static int step_run(struct sdp_webrtc *s, const char *buf, size_t len,
                    const struct sdp_webrtc_local *l, struct sdp_webrtc_out *out, const char **why,
                    step_fn fn)
{
	struct sdp_webrtc *t = g_memdup2(s, sizeof(*s));
	struct sdp_webrtc_out *o = g_new0(struct sdp_webrtc_out, 1);
	struct input in = { .p = g_new0(struct sdp_plain, 1),
		            .leg = g_new0(struct sdp_webrtc_leg, 1) };
	int rc = EINVAL;

	if ((*why = local_check(l)))
		goto out;
	rc = EBADMSG;
	if ((*why = sdp_read_parse(buf, len, &in.sdp)))
		goto out;
	if ((rc = sdp_read_check(in.sdp, in.p, why)) != 0)
		goto out;
	if ((*why = fn(t, &in, l, o, &rc)))
		goto out;
	*s = *t;
	*out = *o;
	o->sdp = NULL;
	rc = 0;
out:
	g_free(o->sdp);
	g_free(o);
	g_free(t);
	if (in.sdp)
		sdp_message_free(in.sdp);
	g_free(in.p);
	g_free(in.leg);
	return rc;
}

/* The rest of a step's output (what the input said, the codecs so far), the next step due. */
static void out_set(struct sdp_webrtc *t, const struct input *in, bool from_web, enum pending next,
                    struct sdp_webrtc_out *o)
{
	const struct sdp_webrtc_ptmap *m = next == PENDING_NONE ? t->map : t->offered;

	o->n_map = next == PENDING_NONE ? t->n_map : t->n_offered;
	memcpy(o->map, m, o->n_map * sizeof(m[0]));
	if (from_web) {
		o->has_leg = true;
		o->leg = *in->leg;
	} else {
		o->has_pbx = true;
		o->pbx = *in->p;
	}
	t->pending = next;
}

static const char *offer_from_web(struct sdp_webrtc *t, struct input *in,
                                  const struct sdp_webrtc_local *l, struct sdp_webrtc_out *o,
                                  int *rc)
{
	struct sdp_webrtc_leg *leg = in->leg;
	struct wcodec w[SDP_PLAIN_MAX_PT];
	struct audio a = { .w = w };
	const char *why;

	if ((why = sdp_webrtc_leg_read(in->sdp, in->p, false, leg, rc)))
		return why;
	*rc = EPROTO;
	if (in->p->port == 0)
		return "Audio stream disabled";
	if ((why = offer_codecs(t, leg->codecs, leg->n_codecs,
	                        l->codecs ? l->codecs : SDP_WEBRTC_CODECS, true)))
		return why;
	*rc = EBADMSG;
	if ((why = layout_read(in->sdp, in->p->media_index, &t->web)))
		return why;
	web_update(t, leg);
	t->bundle = leg->bundle;
	if (t->plain.n_media == 0)
		layout_default(&t->plain, "RTP/AVP", "");
	a.n = wcodecs(t->offered, t->n_offered, false, leg->codecs, leg->n_codecs, true, w);
	a.dir = leg->dir;
	a.ptime = leg->ptime;
	o->sdp = plain_text(t, l, &a, &o->sdp_len);
	out_set(t, in, true, PENDING_FROM_WEB, o);
	return NULL;
}

static const char *answer_to_web(struct sdp_webrtc *t, struct input *in,
                                 const struct sdp_webrtc_local *l, struct sdp_webrtc_out *o,
                                 int *rc)
{
	const struct sdp_plain *p = in->p;
	struct wcodec w[SDP_PLAIN_MAX_PT];
	struct audio a = { .w = w, .dir = p->dir, .ptime = p->ptime };
	const char *why;

	*rc = EINVAL;
	if (t->pending != PENDING_FROM_WEB)
		return "No offer from the browser pending";
	*rc = EPROTO;
	if (p->profile != SDP_PLAIN_AVP && p->profile != SDP_PLAIN_AVPF)
		return "Audio stream is not plain RTP";
	if ((why = answer_codecs(t, p->codecs, p->n_codecs, false, p->port == 0)))
		return why;
	a.n = wcodecs(t->map, t->n_map, true, p->codecs, p->n_codecs, false, w);
	a.rejected = p->port == 0 || a.n == 0;
	/* RFC 5763 §5 and the field note in DESIGN.md: answer passive, the browser connects */
	a.setup = t->peer_setup == SDP_WEBRTC_PASSIVE ? "active" : "passive";
	o->sdp = web_text(t, l, &a, &o->sdp_len);
	out_set(t, in, false, PENDING_NONE, o);
	return NULL;
}

static const char *offer_to_web(struct sdp_webrtc *t, struct input *in,
                                const struct sdp_webrtc_local *l, struct sdp_webrtc_out *o, int *rc)
{
	const struct sdp_plain *p = in->p;
	struct wcodec w[SDP_PLAIN_MAX_PT];
	struct audio a = { .w = w, .dir = p->dir, .ptime = p->ptime, .setup = "actpass" };
	const char *why;

	*rc = EPROTO;
	if (p->profile != SDP_PLAIN_AVP && p->profile != SDP_PLAIN_AVPF)
		return "Audio stream is not plain RTP";
	if (p->port == 0)
		return "Audio stream disabled";
	if ((why = offer_codecs(t, p->codecs, p->n_codecs,
	                        l->codecs ? l->codecs : SDP_WEBRTC_CODECS, false)))
		return why;
	*rc = EBADMSG;
	if ((why = layout_read(in->sdp, p->media_index, &t->plain)))
		return why;
	if (t->web.n_media == 0) {
		layout_default(&t->web, "UDP/TLS/RTP/SAVPF", "0");
		t->bundle = t->rtcp_mux = true;
	}
	a.n = wcodecs(t->offered, t->n_offered, true, p->codecs, p->n_codecs, false, w);
	o->sdp = web_text(t, l, &a, &o->sdp_len);
	out_set(t, in, false, PENDING_TO_WEB, o);
	return NULL;
}

static const char *answer_from_web(struct sdp_webrtc *t, struct input *in,
                                   const struct sdp_webrtc_local *l, struct sdp_webrtc_out *o,
                                   int *rc)
{
	struct sdp_webrtc_leg *leg = in->leg;
	const char *mid = t->web.media[t->web.audio].mid;
	struct wcodec w[SDP_PLAIN_MAX_PT];
	struct audio a = { .w = w };
	const char *why;

	*rc = EINVAL;
	if (t->pending != PENDING_TO_WEB)
		return "No offer to the browser pending";
	if ((why = sdp_webrtc_leg_read(in->sdp, in->p, true, leg, rc)))
		return why;
	*rc = EBADMSG;
	if (in->p->media_index != t->web.audio || strcmp(leg->mid, mid) != 0)
		return "Answer's audio m= line does not match the offer";
	*rc = EPROTO;
	if ((why = answer_codecs(t, leg->codecs, leg->n_codecs, true, in->p->port == 0)))
		return why;
	web_update(t, leg);
	a.n = wcodecs(t->map, t->n_map, false, leg->codecs, leg->n_codecs, true, w);
	a.rejected = in->p->port == 0 || a.n == 0;
	a.dir = leg->dir;
	a.ptime = leg->ptime;
	o->sdp = plain_text(t, l, &a, &o->sdp_len);
	out_set(t, in, true, PENDING_NONE, o);
	return NULL;
}

int sdp_webrtc_translate(struct sdp_webrtc *s, enum sdp_webrtc_step step, const char *buf,
                         size_t len, const struct sdp_webrtc_local *local,
                         struct sdp_webrtc_out *out, const char **why)
{
	static const step_fn fns[] = {
		[SDP_WEBRTC_OFFER_FROM_WEB] = offer_from_web,
		[SDP_WEBRTC_ANSWER_TO_WEB] = answer_to_web,
		[SDP_WEBRTC_OFFER_TO_WEB] = offer_to_web,
		[SDP_WEBRTC_ANSWER_FROM_WEB] = answer_from_web,
	};

	if ((unsigned)step >= G_N_ELEMENTS(fns)) {
		*why = "Unknown step";
		return EINVAL;
	}
	return step_run(s, buf, len, local, out, why, fns[step]);
}

int sdp_webrtc_read(const char *buf, size_t len, bool answer, struct sdp_webrtc_leg *leg,
                    const char **why)
{
	sdp_message_t *sdp = NULL;
	struct sdp_plain *p = g_new0(struct sdp_plain, 1);
	struct sdp_webrtc_leg *l = g_new0(struct sdp_webrtc_leg, 1);
	int rc = EBADMSG;

	if (!(*why = sdp_read_parse(buf, len, &sdp)) && (rc = sdp_read_check(sdp, p, why)) == 0 &&
	    !(*why = sdp_webrtc_leg_read(sdp, p, answer, l, &rc))) {
		*leg = *l;
		rc = 0;
	}
	if (sdp)
		sdp_message_free(sdp);
	g_free(p);
	g_free(l);
	return rc;
}
