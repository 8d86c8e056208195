/* Reading the WebRTC attributes of a browser's SDP: ICE (RFC 8839 §5), candidates with mDNS
 * names, fingerprint (RFC 8122 §5), setup (RFC 4145 §4, RFC 5763 §5), mid and BUNDLE
 * (RFC 5888, RFC 8843 §7), SSRCs (RFC 5576). Pure. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "signaling/sdp_read.h"
#include "signaling/sdp_webrtc_priv.h"

#define MAX_CAND_VALUE 512 /* a candidate line longer than this is no browser's */

/* RFC 8839 §5.1 ice-char: ALPHA / DIGIT / "+" / "/" */
bool sdp_webrtc_ice_ok(const char *s, size_t min, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++) {
		if (n >= max || !(g_ascii_isalnum(s[n]) || s[n] == '+' || s[n] == '/'))
			return false;
	}
	return n >= min;
}

/* Media-level over session-level. */
static const sdp_attribute_t *attr_ms(const sdp_message_t *sdp, const sdp_media_t *m,
                                      const char *field)
{
	const sdp_attribute_t *a = sdp_read_attr(&m->a_attributes, field);

	return a ? a : sdp_read_attr(&sdp->a_attributes, field);
}

static const char *ice_read(const sdp_message_t *sdp, const sdp_media_t *m,
                            struct sdp_webrtc_leg *leg, int *rc)
{
	const sdp_attribute_t *u = attr_ms(sdp, m, "ice-ufrag"), *p = attr_ms(sdp, m, "ice-pwd");
	const sdp_attribute_t *o = attr_ms(sdp, m, "ice-options");

	*rc = EPROTO;
	if (!u || !p)
		return "WebRTC SDP without ICE credentials";
	*rc = EBADMSG;
	/* RFC 8839 §5.4: ufrag 4-256, pwd 22-256 ice-chars */
	if (!u->a_att_value || !sdp_webrtc_ice_ok(u->a_att_value, 4, SDP_WEBRTC_ICE_LEN - 1))
		return "Bad a=ice-ufrag";
	if (!p->a_att_value || !sdp_webrtc_ice_ok(p->a_att_value, 22, SDP_WEBRTC_ICE_LEN - 1))
		return "Bad a=ice-pwd";
	g_strlcpy(leg->ufrag, u->a_att_value, sizeof(leg->ufrag));
	g_strlcpy(leg->pwd, p->a_att_value, sizeof(leg->pwd));
	leg->trickle = o && o->a_att_value && strstr(o->a_att_value, "trickle");
	leg->ice_lite = sdp_read_attr(&sdp->a_attributes, "ice-lite") != NULL;
	leg->end_of_candidates = attr_ms(sdp, m, "end-of-candidates") != NULL;
	return NULL;
}

static int hexval(char c)
{
	return g_ascii_isxdigit(c) ? g_ascii_xdigit_value(c) : -1;
}

const char *sdp_webrtc_fp_read(const char *v, struct sdp_webrtc_fp *fp, bool *unknown)
{
	static const struct {
		const char *name;
		uint8_t len;
	} hashes[] = { { "sha-1", 20 },
		       { "sha-224", 28 },
		       { "sha-256", 32 },
		       { "sha-384", 48 },
		       { "sha-512", 64 } };
	const char *sp = v ? strchr(v, ' ') : NULL;
	size_t hl = sp ? (size_t)(sp - v) : 0, i;
	const char *hex;

	*unknown = false;
	if (!sp || hl == 0 || hl >= SDP_WEBRTC_HASH_LEN + 8)
		return "Bad a=fingerprint";
	for (i = 0; i < G_N_ELEMENTS(hashes); i++) {
		if (strlen(hashes[i].name) == hl && g_ascii_strncasecmp(v, hashes[i].name, hl) == 0)
			break;
	}
	if (i == G_N_ELEMENTS(hashes)) {
		*unknown = true; /* md5, md2 or another: skipped (RFC 8122 §5 allows several) */
		return NULL;
	}
	/* "XX:XX:…" with exactly the digest's length */
	hex = sp + 1;
	if (strlen(hex) != (size_t)hashes[i].len * 3 - 1)
		return "Bad a=fingerprint";
	for (size_t b = 0; b < hashes[i].len; b++) {
		const char *h = hex + b * 3;
		int hi = hexval(h[0]), lo = hexval(h[1]);

		if (hi < 0 || lo < 0 || (b + 1 < hashes[i].len && h[2] != ':'))
			return "Bad a=fingerprint";
		fp->digest[b] = (uint8_t)(hi << 4 | lo);
	}
	g_strlcpy(fp->hash, hashes[i].name, sizeof(fp->hash));
	fp->len = hashes[i].len;
	return NULL;
}

/* The first a=fingerprint with a hash we know, media level first (RFC 8842 §5). */
static const char *fp_find(const osip_list_t *attrs, struct sdp_webrtc_fp *fp, bool *found)
{
	for (int i = 0; i < osip_list_size(attrs) && !*found; i++) {
		const sdp_attribute_t *a = osip_list_get(attrs, i);
		const char *why;
		bool unknown;

		if (strcmp(a->a_att_field, "fingerprint") != 0)
			continue;
		if ((why = sdp_webrtc_fp_read(a->a_att_value, fp, &unknown)))
			return why;
		*found = !unknown;
	}
	return NULL;
}

static const char *setup_read(const sdp_message_t *sdp, const sdp_media_t *m, bool answer,
                              struct sdp_webrtc_leg *leg)
{
	static const char *const names[] = { "actpass", "active", "passive", "holdconn" };
	const sdp_attribute_t *a = attr_ms(sdp, m, "setup");

	leg->setup = SDP_WEBRTC_ACTIVE; /* RFC 4145 §4: no a=setup means active */
	if (a) {
		size_t i;

		for (i = 0; i < G_N_ELEMENTS(names); i++) {
			if (a->a_att_value && strcmp(a->a_att_value, names[i]) == 0)
				break;
		}
		if (i == G_N_ELEMENTS(names))
			return "Bad a=setup";
		leg->setup = (enum sdp_webrtc_setup)i;
	}
	if (answer && leg->setup == SDP_WEBRTC_ACTPASS)
		return "a=setup:actpass in an answer"; /* RFC 5763 §5 */
	if (leg->setup == SDP_WEBRTC_HOLDCONN)
		return "a=setup:holdconn not supported";
	leg->dtls_client = leg->setup == SDP_WEBRTC_PASSIVE;
	return NULL;
}

/* An IP literal (normalised), or an mDNS name "<…>.local" (RFC 8839 §5.1 with the
 * mDNS candidates of draft-ietf-mmusic-mdns-ice-candidates); other DNS names are ignored. */
static bool cand_addr(const char *s, char out[SDP_WEBRTC_HOST_LEN], bool *mdns, bool *ignored)
{
	struct in6_addr a;
	size_t n = strlen(s);

	*mdns = false;
	if (inet_pton(AF_INET, s, &a) == 1)
		return inet_ntop(AF_INET, &a, out, SDP_WEBRTC_HOST_LEN) != NULL;
	if (inet_pton(AF_INET6, s, &a) == 1)
		return inet_ntop(AF_INET6, &a, out, SDP_WEBRTC_HOST_LEN) != NULL;
	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!g_ascii_isalnum(s[i]) && s[i] != '-' && s[i] != '.')
			return false;
	}
	if (n < SDP_WEBRTC_HOST_LEN && n > 6 && g_ascii_strcasecmp(s + n - 6, ".local") == 0) {
		g_strlcpy(out, s, SDP_WEBRTC_HOST_LEN);
		*mdns = true;
	} else {
		*ignored = true; /* no DNS lookups on the control thread */
	}
	return true;
}

static bool cand_type(const char *s, enum sdp_webrtc_cand_type *t)
{
	static const char *const names[] = { "host", "srflx", "prflx", "relay" };

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		if (strcmp(s, names[i]) == 0) {
			*t = (enum sdp_webrtc_cand_type)i;
			return true;
		}
	}
	return false;
}

/* extension-att-value = *VCHAR (RFC 8839 §5.1): Chromium's "ufrag" carries '+' and '/' */
static bool vchars(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < 0x21 || *s > 0x7e)
			return false;
	}
	return true;
}

/* raddr, rport, tcptype; other extensions (generation, network-id, ufrag, …) skipped. */
static bool cand_ext(char **f, guint n, struct sdp_webrtc_cand *c)
{
	for (guint i = 8; i + 1 < n; i += 2) {
		bool mdns, ign = false;

		if (!sdp_read_token(f[i]) || !vchars(f[i + 1]))
			return false;
		if (strcmp(f[i], "raddr") == 0 && !cand_addr(f[i + 1], c->raddr, &mdns, &ign))
			return false;
		if (strcmp(f[i], "rport") == 0 && !sdp_read_port(f[i + 1], &c->rport))
			return false;
		if (strcmp(f[i], "tcptype") == 0) {
			if (strcmp(f[i + 1], "active") != 0 && strcmp(f[i + 1], "passive") != 0 &&
			    strcmp(f[i + 1], "so") != 0)
				return false;
			g_strlcpy(c->tcptype, f[i + 1], sizeof(c->tcptype));
		}
	}
	return true;
}

/* <foundation> <component> <transport> <priority> <address> <port> typ <type> *(<ext> <value>) */
const char *sdp_webrtc_cand_read(const char *v, struct sdp_webrtc_cand *c, bool *ignored)
{
	char **f;
	guint n;
	uint64_t comp = 0, prio = 0;
	bool ok;

	*ignored = false;
	if (!v || strlen(v) > MAX_CAND_VALUE)
		return "Bad a=candidate";
	memset(c, 0, sizeof(*c));
	f = g_strsplit(v, " ", 0);
	n = g_strv_length(f);
	ok = n >= 8 && n % 2 == 0 && sdp_webrtc_ice_ok(f[0], 1, SDP_WEBRTC_FOUND_LEN - 1) &&
	     sdp_read_number(f[1], 3, &comp) && comp >= 1 && comp <= 256 && sdp_read_token(f[2]) &&
	     sdp_read_number(f[3], 10, &prio) && prio <= UINT32_MAX &&
	     cand_addr(f[4], c->addr, &c->mdns, ignored) && sdp_read_port(f[5], &c->port) &&
	     strcmp(f[6], "typ") == 0 && cand_type(f[7], &c->type) && cand_ext(f, n, c);
	if (ok) {
		g_strlcpy(c->foundation, f[0], sizeof(c->foundation));
		c->component = (uint16_t)comp;
		c->priority = (uint32_t)prio;
		c->tcp = g_ascii_strcasecmp(f[2], "tcp") == 0;
		if (!c->tcp && g_ascii_strcasecmp(f[2], "udp") != 0)
			*ignored = true; /* another transport (RFC 8839 §5.1: ignore it) */
	}
	g_strfreev(f);
	return ok ? NULL : "Bad a=candidate";
}

void sdp_webrtc_cand_write(GString *g, const struct sdp_webrtc_cand *c)
{
	static const char *const types[] = { "host", "srflx", "prflx", "relay" };

	g_string_append_printf(g, "candidate:%s %u %s %u %s %u typ %s", c->foundation, c->component,
	                       c->tcp ? "tcp" : "udp", c->priority, c->addr, c->port,
	                       types[c->type]);
	if (c->raddr[0])
		g_string_append_printf(g, " raddr %s rport %u", c->raddr, c->rport);
	if (c->tcptype[0])
		g_string_append_printf(g, " tcptype %s", c->tcptype);
}

static const char *cands_read(const sdp_media_t *m, struct sdp_webrtc_leg *leg)
{
	for (int i = 0; i < osip_list_size(&m->a_attributes); i++) {
		const sdp_attribute_t *a = osip_list_get(&m->a_attributes, i);
		struct sdp_webrtc_cand c;
		bool ignored;

		if (strcmp(a->a_att_field, "candidate") != 0)
			continue;
		if (sdp_webrtc_cand_read(a->a_att_value, &c, &ignored))
			return "Bad a=candidate";
		if (ignored || leg->n_cand == SDP_WEBRTC_MAX_CAND)
			leg->cand_ignored++;
		else
			leg->cand[leg->n_cand++] = c;
	}
	return NULL;
}

static bool mid_ok(const char *v)
{
	return v && sdp_read_token(v) && strlen(v) < SDP_WEBRTC_MID_LEN;
}

/* Every m= line's mid well formed and distinct; BUNDLE names only those (RFC 8843 §7.2). */
static const char *bundle_read(const sdp_message_t *sdp, const sdp_media_t *audio,
                               struct sdp_webrtc_leg *leg)
{
	const char *mids[SDP_PLAIN_MAX_MEDIA];
	int n = osip_list_size(&sdp->m_medias);
	const char *why = NULL;
	char **group = NULL;

	for (int i = 0; i < n; i++) {
		const sdp_media_t *m = osip_list_get(&sdp->m_medias, i);
		const sdp_attribute_t *a = sdp_read_attr(&m->a_attributes, "mid");

		mids[i] = a ? a->a_att_value : NULL;
		if (a && !mid_ok(mids[i]))
			return "Bad a=mid";
		for (int j = 0; a && j < i; j++) {
			if (mids[j] && strcmp(mids[j], mids[i]) == 0)
				return "Duplicate a=mid";
		}
		if (m == audio && a)
			g_strlcpy(leg->mid, mids[i], sizeof(leg->mid));
	}
	for (int i = 0; i < osip_list_size(&sdp->a_attributes) && !why; i++) {
		const sdp_attribute_t *a = osip_list_get(&sdp->a_attributes, i);

		if (strcmp(a->a_att_field, "group") != 0 || !a->a_att_value)
			continue;
		group = g_strsplit(a->a_att_value, " ", SDP_PLAIN_MAX_MEDIA + 2);
		if (strcmp(group[0], "BUNDLE") != 0) { /* LS, FID, …: not ours */
			g_strfreev(group);
			continue;
		}
		if (!leg->mid[0])
			why = "Missing a=mid under BUNDLE";
		for (guint g = 1; group[g] && !why; g++) {
			bool known = false;

			for (int j = 0; j < n; j++)
				known = known || (mids[j] && strcmp(mids[j], group[g]) == 0);
			if (!known)
				why = "BUNDLE names an unknown mid";
			if (leg->mid[0] && strcmp(group[g], leg->mid) == 0)
				leg->bundle = true;
		}
		g_strfreev(group);
	}
	return why;
}

static const char *ssrc_read(const sdp_media_t *m, struct sdp_webrtc_leg *leg)
{
	for (int i = 0; i < osip_list_size(&m->a_attributes); i++) {
		const sdp_attribute_t *a = osip_list_get(&m->a_attributes, i);
		const char *v = a->a_att_value;
		char num[11];
		size_t n = v ? strcspn(v, " ") : 0;
		uint64_t id;
		bool seen = false;

		if (strcmp(a->a_att_field, "ssrc") != 0)
			continue;
		if (n == 0 || n >= sizeof(num))
			return "Bad a=ssrc";
		memcpy(num, v, n);
		num[n] = '\0';
		if (!sdp_read_number(num, 10, &id) || id > UINT32_MAX)
			return "Bad a=ssrc";
		for (size_t j = 0; j < leg->n_ssrc; j++)
			seen = seen || leg->ssrc[j] == id;
		if (!seen && leg->n_ssrc < SDP_WEBRTC_MAX_SSRC)
			leg->ssrc[leg->n_ssrc++] = (uint32_t)id;
	}
	return NULL;
}

static void codecs_take(const struct sdp_plain *p, struct sdp_webrtc_leg *leg)
{
	leg->n_codecs = p->n_codecs;
	memcpy(leg->codecs, p->codecs, p->n_codecs * sizeof(p->codecs[0]));
	leg->dtmf_pt = -1;
	for (size_t i = 0; i < p->n_codecs; i++) {
		const struct sdp_plain_codec *c = &p->codecs[i];

		if (g_ascii_strcasecmp(c->name, "telephone-event") == 0 &&
		    (leg->dtmf_pt < 0 || c->clock == 8000))
			leg->dtmf_pt = c->pt;
	}
	leg->dir = p->dir;
	leg->ptime = p->ptime;
	leg->rtcp_mux = p->rtcp_mux;
}

const char *sdp_webrtc_leg_read(const sdp_message_t *sdp, const struct sdp_plain *p, bool answer,
                                struct sdp_webrtc_leg *leg, int *rc)
{
	const sdp_media_t *m = osip_list_get(&sdp->m_medias, (int)p->media_index);
	const char *why;
	bool found = false;

	memset(leg, 0, sizeof(*leg));
	*rc = EPROTO;
	if (p->profile != SDP_PLAIN_DTLS_SRTP)
		return "Audio stream is not WebRTC (UDP/TLS/RTP/SAVPF)";
	if ((why = ice_read(sdp, m, leg, rc)))
		return why;
	*rc = EBADMSG;
	if ((why = fp_find(&m->a_attributes, &leg->fingerprint, &found)) ||
	    (why = fp_find(&sdp->a_attributes, &leg->fingerprint, &found)))
		return why;
	if (!found) {
		*rc = EPROTO;
		return "WebRTC SDP without a usable a=fingerprint";
	}
	if ((why = setup_read(sdp, m, answer, leg)) || (why = bundle_read(sdp, m, leg)) ||
	    (why = cands_read(m, leg)) || (why = ssrc_read(m, leg)))
		return why;
	codecs_take(p, leg);
	return NULL;
}
