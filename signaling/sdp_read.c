/* SDP reading shared by the plain and WebRTC translations: bounded prescan, libosip2 parse,
 * checks stricter than libosip2, the first audio stream (RFC 4566 §5, RFC 3264 §5-§8,
 * RFC 3605, RFC 3551 static payload types). Pure. */
#include "signaling/sdp_read.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <osipparser2/osip_parser.h>
#include <string.h>

const char *sdp_plain_dir_name(enum sdp_plain_dir dir)
{
	static const char *const names[] = { "sendrecv", "sendonly", "recvonly", "inactive" };

	return (unsigned)dir < G_N_ELEMENTS(names) ? names[dir] : "sendrecv";
}

enum sdp_plain_dir sdp_plain_dir_answer(enum sdp_plain_dir dir)
{
	return dir == SDP_PLAIN_SENDONLY   ? SDP_PLAIN_RECVONLY
	       : dir == SDP_PLAIN_RECVONLY ? SDP_PLAIN_SENDONLY
	                                   : dir;
}

/* RFC 3551 §6: the static audio payload types, for m= lines without rtpmap. */
static const struct {
	const char *name;
	uint32_t clock;
	uint8_t channels;
} static_pt[] = {
	[0] = { "PCMU", 8000, 1 },   [3] = { "GSM", 8000, 1 },    [4] = { "G723", 8000, 1 },
	[5] = { "DVI4", 8000, 1 },   [6] = { "DVI4", 16000, 1 },  [7] = { "LPC", 8000, 1 },
	[8] = { "PCMA", 8000, 1 },   [9] = { "G722", 8000, 1 },   [10] = { "L16", 44100, 2 },
	[11] = { "L16", 44100, 1 },  [12] = { "QCELP", 8000, 1 }, [13] = { "CN", 8000, 1 },
	[14] = { "MPA", 90000, 1 },  [15] = { "G728", 8000, 1 },  [16] = { "DVI4", 11025, 1 },
	[17] = { "DVI4", 22050, 1 }, [18] = { "G729", 8000, 1 },
};

/* Refusals of SDP that is well formed but not for us (EPROTO), told apart by address. */
static const char NOT_RTP[] = "Audio stream is not RTP";
static const char MULTICAST[] = "Multicast c= not supported";
static const char TOO_MANY_PT[] = "Too many payload types";

static int refusal(const char *why)
{
	return why == NOT_RTP || why == MULTICAST || why == TOO_MANY_PT ? EPROTO : EBADMSG;
}

/* ---- syntax helpers ---------------------------------------------------------------- */

/* A decimal number of at most maxdig digits, no sign, no space. */
bool sdp_read_number(const char *s, unsigned maxdig, uint64_t *v)
{
	uint64_t n = 0;
	unsigned i;

	if (!s || !*s)
		return false;
	for (i = 0; s[i]; i++) {
		if (i >= maxdig || !g_ascii_isdigit(s[i]))
			return false;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	*v = n;
	return true;
}

bool sdp_read_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (!sdp_read_number(s, 5, &v) || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* RFC 4566 §9 token characters (and '/' for a proto) */
static bool tchar(char c, bool slash)
{
	return g_ascii_isalnum(c) || (c && strchr("!#$%&'*+-.^_`{|}~", c)) || (slash && c == '/');
}

bool sdp_read_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (!tchar(*s, false))
			return false;
	}
	return true;
}

/* No control characters: libosip2 keeps attribute values verbatim, spaces and all. */
static bool visible(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	}
	return true;
}

/*
 * Free text we carry to the output in r= and z=:
 * visible characters and inner single spaces. libosip2 trims or splits on
 * white space in places, so a value that starts or ends with a space, or
 * holds a tab, would not read back the same.
 */
static bool text_ok(const char *s)
{
	size_t n;

	if (!s || !*s)
		return false;
	n = strlen(s);
	if (s[0] == ' ' || s[n - 1] == ' ')
		return false;
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	}
	return true;
}

/* c= "IN IP4|IP6 <unicast literal>" into family and normalised text. */
static const char *conn_read(const sdp_connection_t *c, int *family, char addr[SDP_PLAIN_ADDR_LEN],
                             bool *zero)
{
	struct in6_addr a;

	if (!c->c_nettype || strcmp(c->c_nettype, "IN") != 0 || !c->c_addrtype || !c->c_addr)
		return "Bad c= line";
	if (c->c_addr_multicast_ttl || c->c_addr_multicast_int)
		return MULTICAST;
	if (strcmp(c->c_addrtype, "IP4") == 0)
		*family = AF_INET;
	else if (strcmp(c->c_addrtype, "IP6") == 0)
		*family = AF_INET6;
	else
		return "Bad c= address type";
	if (strlen(c->c_addr) >= SDP_PLAIN_ADDR_LEN || inet_pton(*family, c->c_addr, &a) != 1)
		return "Bad c= address";
	if (*family == AF_INET ? IN_MULTICAST(ntohl(((struct in_addr *)&a)->s_addr))
	                       : IN6_IS_ADDR_MULTICAST(&a))
		return MULTICAST;
	*zero = *family == AF_INET ? ((struct in_addr *)&a)->s_addr == 0
	                           : IN6_IS_ADDR_UNSPECIFIED(&a);
	inet_ntop(*family, &a, addr, SDP_PLAIN_ADDR_LEN);
	return NULL;
}

/*
 * Before libosip2 sees it: a bounded body of "<letter>=<value>" lines ending
 * in CRLF or LF, no NUL, no stray CR. libosip2 5.3 stops at the first empty
 * line and returns success with everything after it dropped, takes a lone CR
 * as a line end, needs the last line terminated, and reads past the end of
 * its buffer on an m= line without formats that ends in a bare LF. The copy
 * it gets has every line ending in CRLF, and two NULs at the end.
 */
static const char *prescan(const char *buf, size_t len, char **copy)
{
	size_t lines = 0, i = 0, o = 0;
	char *c;

	if (len == 0 || len > SDP_PLAIN_MAX)
		return len ? "SDP too large" : "Empty SDP";
	if (memchr(buf, '\0', len))
		return "NUL in SDP";
	c = g_malloc(len + 2 * SDP_PLAIN_MAX_LINES + 2);
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len, n = end - i;

		if (n > 0 && buf[end - 1] == '\r')
			n--;
		if (++lines > SDP_PLAIN_MAX_LINES) {
			g_free(c);
			return "Too many SDP lines";
		}
		if (n < 2 || !g_ascii_islower(buf[i]) || buf[i + 1] != '=' ||
		    memchr(buf + i, '\r', n)) {
			g_free(c);
			return memchr(buf + i, '\r', n) ? "Stray CR in SDP" : "Bad SDP line";
		}
		memcpy(c + o, buf + i, n);
		memcpy(c + o + n, "\r\n", 2);
		o += n + 2;
		i = end + 1;
	}
	c[o] = c[o + 1] = '\0';
	*copy = c;
	return NULL;
}

const char *sdp_read_parse(const char *buf, size_t len, sdp_message_t **out)
{
	char *copy = NULL;
	sdp_message_t *sdp = NULL;
	const char *why = prescan(buf, len, &copy);

	if (why)
		return why;
	if (sdp_message_init(&sdp) != 0) {
		g_free(copy);
		return "Out of memory";
	}
	if (sdp_message_parse(sdp, copy) != 0) {
		sdp_message_free(sdp);
		g_free(copy);
		return "Unparsable SDP";
	}
	g_free(copy);
	*out = sdp;
	return NULL;
}

/* ---- read -------------------------------------------------------------------------- */

static const char *dir_attr(const osip_list_t *attrs, enum sdp_plain_dir *dir, bool *found)
{
	for (int i = 0; i < osip_list_size(attrs); i++) {
		const sdp_attribute_t *a = osip_list_get(attrs, i);

		for (int d = SDP_PLAIN_SENDRECV; d <= SDP_PLAIN_INACTIVE; d++) {
			if (strcmp(a->a_att_field, sdp_plain_dir_name(d)) != 0)
				continue;
			if (*found)
				return "More than one direction attribute";
			if (a->a_att_value)
				return "Bad direction attribute";
			*dir = (enum sdp_plain_dir)d;
			*found = true;
		}
	}
	return NULL;
}

/* Every attribute: a token field, and text that reads back as it is. */
static const char *attrs_check(const osip_list_t *attrs)
{
	if (osip_list_size(attrs) > SDP_PLAIN_MAX_LINES)
		return "Too many attributes";
	for (int i = 0; i < osip_list_size(attrs); i++) {
		const sdp_attribute_t *a = osip_list_get(attrs, i);

		if (!sdp_read_token(a->a_att_field) || (a->a_att_value && !visible(a->a_att_value)))
			return "Bad attribute";
	}
	return NULL;
}

/* Everything outside the audio m= line that the rewrite carries to the output. */
static const char *session_check(const sdp_message_t *sdp)
{
	if (!sdp->v_version || strcmp(sdp->v_version, "0") != 0)
		return "Bad SDP version";
	if (osip_list_size(&sdp->t_descrs) < 1)
		return "Missing t=";
	for (int i = 0; i < osip_list_size(&sdp->t_descrs); i++) {
		const sdp_time_descr_t *t = osip_list_get(&sdp->t_descrs, i);
		uint64_t v;

		if (!sdp_read_number(t->t_start_time, 20, &v) ||
		    !sdp_read_number(t->t_stop_time, 20, &v))
			return "Bad t= line";
		for (int j = 0; j < osip_list_size(&t->r_repeats); j++) {
			if (!text_ok(osip_list_get(&t->r_repeats, j)))
				return "Bad r= line";
		}
	}
	if (sdp->z_adjustments && !text_ok(sdp->z_adjustments))
		return "Bad z= line";
	for (int i = 0; i < osip_list_size(&sdp->b_bandwidths); i++) {
		const sdp_bandwidth_t *b = osip_list_get(&sdp->b_bandwidths, i);

		if (!sdp_read_token(b->b_bwtype) || !sdp_read_token(b->b_bandwidth))
			return "Bad b= line";
	}
	return attrs_check(&sdp->a_attributes);
}

/* The m= line itself, for any m= line: we write every one back. */
static const char *media_check(const sdp_media_t *m)
{
	uint16_t port;

	if (!sdp_read_token(m->m_media) || !sdp_read_port(m->m_port, &port))
		return "Bad m= line";
	if (m->m_number_of_port && strcmp(m->m_number_of_port, "1") != 0)
		return "Port counts in m= not supported";
	if (!m->m_proto || strlen(m->m_proto) >= SDP_PLAIN_PROTO_LEN)
		return "Bad m= protocol";
	for (const char *p = m->m_proto; *p; p++) {
		if (!tchar(*p, true))
			return "Bad m= protocol";
	}
	if (osip_list_size(&m->m_payloads) < 1)
		return "m= line without formats";
	if (osip_list_size(&m->m_payloads) > SDP_PLAIN_MAX_PT)
		return TOO_MANY_PT;
	for (int i = 0; i < osip_list_size(&m->m_payloads); i++) {
		if (!sdp_read_token(osip_list_get(&m->m_payloads, i)))
			return "Bad m= format";
	}
	for (int i = 0; i < osip_list_size(&m->b_bandwidths); i++) {
		const sdp_bandwidth_t *b = osip_list_get(&m->b_bandwidths, i);

		if (!sdp_read_token(b->b_bwtype) || !sdp_read_token(b->b_bandwidth))
			return "Bad b= line";
	}
	if (osip_list_size(&m->c_connections) > 1)
		return "More than one c= in a m= section";
	return attrs_check(&m->a_attributes);
}

static const char *profile_read(const char *proto, enum sdp_plain_profile *profile)
{
	static const struct {
		const char *proto;
		enum sdp_plain_profile profile;
	} table[] = {
		{ "RTP/AVP", SDP_PLAIN_AVP },
		{ "RTP/AVPF", SDP_PLAIN_AVPF },
		{ "RTP/SAVP", SDP_PLAIN_SAVP },
		{ "RTP/SAVPF", SDP_PLAIN_SAVP },
		{ "UDP/TLS/RTP/SAVP", SDP_PLAIN_DTLS_SRTP },
		{ "UDP/TLS/RTP/SAVPF", SDP_PLAIN_DTLS_SRTP },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
		if (strcmp(proto, table[i].proto) == 0) {
			*profile = table[i].profile;
			return NULL;
		}
	}
	return NOT_RTP;
}

static struct sdp_plain_codec *codec_find(struct sdp_plain *p, uint64_t pt)
{
	for (size_t i = 0; i < p->n_codecs; i++) {
		if (p->codecs[i].pt == pt)
			return &p->codecs[i];
	}
	return NULL;
}

/* The payload type leading an rtpmap or fmtp value: "<pt> <rest>". */
const char *sdp_read_pt(const char *v, uint64_t *pt)
{
	char num[4];
	const char *sp = v ? strchr(v, ' ') : NULL;

	if (!sp || sp - v > 3)
		return NULL;
	memcpy(num, v, (size_t)(sp - v));
	num[sp - v] = '\0';
	if (!sdp_read_number(num, 3, pt) || *pt > 127)
		return NULL;
	return sp + 1;
}

/* a=rtpmap:<pt> <name>/<clock>[/<channels>] (RFC 4566 §6) */
static const char *rtpmap_read(struct sdp_plain_codec *c, const char *rest)
{
	char **parts = g_strsplit(rest, "/", 4);
	guint n = g_strv_length(parts);
	uint64_t clock = 0, ch = 1;
	const char *why = NULL;

	if (n < 2 || n > 3 || !sdp_read_token(parts[0]) || strlen(parts[0]) >= SDP_PLAIN_NAME_LEN ||
	    !sdp_read_number(parts[1], 10, &clock) || clock == 0 || clock > UINT32_MAX ||
	    (n == 3 && (!sdp_read_number(parts[2], 3, &ch) || ch == 0 || ch > 255)))
		why = "Bad rtpmap";
	else {
		g_strlcpy(c->name, parts[0], sizeof(c->name));
		c->clock = (uint32_t)clock;
		c->channels = (uint8_t)ch;
	}
	g_strfreev(parts);
	return why;
}

/* Payload types of the m= line, then what rtpmap, fmtp and ptime say about them. */
static const char *codecs_read(const sdp_media_t *m, struct sdp_plain *p)
{
	for (int i = 0; i < osip_list_size(&m->m_payloads); i++) {
		struct sdp_plain_codec *c = &p->codecs[p->n_codecs];
		uint64_t pt;

		if (!sdp_read_number(osip_list_get(&m->m_payloads, i), 3, &pt) || pt > 127)
			return "Bad payload type";
		if (codec_find(p, pt))
			return "Duplicate payload type";
		memset(c, 0, sizeof(*c));
		c->pt = (uint8_t)pt;
		c->channels = 1;
		if (pt < G_N_ELEMENTS(static_pt) && static_pt[pt].name) {
			g_strlcpy(c->name, static_pt[pt].name, sizeof(c->name));
			c->clock = static_pt[pt].clock;
			c->channels = static_pt[pt].channels;
		}
		p->n_codecs++;
	}
	for (int i = 0; i < osip_list_size(&m->a_attributes); i++) {
		const sdp_attribute_t *a = osip_list_get(&m->a_attributes, i);
		bool rtpmap = strcmp(a->a_att_field, "rtpmap") == 0;
		struct sdp_plain_codec *c;
		const char *rest, *why;
		uint64_t pt;

		if (!rtpmap && strcmp(a->a_att_field, "fmtp") != 0)
			continue;
		if (!(rest = sdp_read_pt(a->a_att_value, &pt)))
			return rtpmap ? "Bad rtpmap" : "Bad fmtp";
		if (!(c = codec_find(p, pt)))
			continue; /* about a format not offered: ignored, and kept */
		if (rtpmap && (why = rtpmap_read(c, rest)))
			return why;
		if (!rtpmap && g_strlcpy(c->fmtp, rest, sizeof(c->fmtp)) >= sizeof(c->fmtp))
			return "fmtp too long";
	}
	for (size_t i = 0; i < p->n_codecs; i++) {
		if (g_ascii_strcasecmp(p->codecs[i].name, "telephone-event") == 0) {
			p->dtmf_pt = p->codecs[i].pt;
			break;
		}
	}
	return NULL;
}

const sdp_attribute_t *sdp_read_attr(const osip_list_t *attrs, const char *field)
{
	for (int i = 0; i < osip_list_size(attrs); i++) {
		const sdp_attribute_t *a = osip_list_get(attrs, i);

		if (strcmp(a->a_att_field, field) == 0)
			return a;
	}
	return NULL;
}

/* a=rtcp:<port> [IN IP4|IP6 <addr>] (RFC 3605 §2.1) */
static const char *rtcp_read(const sdp_attribute_t *a, struct sdp_plain *p)
{
	char **parts = a->a_att_value ? g_strsplit(a->a_att_value, " ", 5) : NULL;
	guint n = parts ? g_strv_length(parts) : 0;
	const char *why = NULL;
	int family;
	bool zero;

	if ((n != 1 && n != 4) || !sdp_read_port(parts[0], &p->rtcp_port) || p->rtcp_port == 0)
		why = "Bad a=rtcp";
	else if (n == 4) {
		sdp_connection_t c = { .c_nettype = parts[1],
			               .c_addrtype = parts[2],
			               .c_addr = parts[3] };

		if (conn_read(&c, &family, p->rtcp_addr, &zero))
			why = "Bad a=rtcp address";
	}
	g_strfreev(parts);
	return why;
}

static const char *ptime_read(const osip_list_t *attrs, unsigned *ptime)
{
	const sdp_attribute_t *a = sdp_read_attr(attrs, "ptime");
	uint64_t v;

	if (!a)
		return NULL;
	if (!sdp_read_number(a->a_att_value, 4, &v) || v == 0 || v > 1000)
		return "Bad ptime";
	*ptime = (unsigned)v;
	return NULL;
}

/* Apply c=0.0.0.0: the peer receives nothing, whatever the attributes say. */
static enum sdp_plain_dir hold(enum sdp_plain_dir d)
{
	return d == SDP_PLAIN_SENDRECV || d == SDP_PLAIN_SENDONLY ? SDP_PLAIN_SENDONLY
	                                                          : SDP_PLAIN_INACTIVE;
}

static const char *audio_read(const sdp_message_t *sdp, const sdp_media_t *m, struct sdp_plain *p)
{
	const sdp_connection_t *c = osip_list_get(&m->c_connections, 0);
	const sdp_attribute_t *rtcp;
	const char *why;
	bool found = false;

	if (!c)
		c = sdp->c_connection;
	if (!sdp_read_port(m->m_port, &p->port))
		return "Bad m= port";
	g_strlcpy(p->proto, m->m_proto, sizeof(p->proto));
	if ((why = profile_read(p->proto, &p->profile)))
		return why;
	if (!c && p->port != 0)
		return "Missing c=";
	if (c && (why = conn_read(c, &p->family, p->addr, &p->hold_c0)))
		return why;
	if ((why = codecs_read(m, p)))
		return why;
	if ((why = dir_attr(&m->a_attributes, &p->dir, &found)))
		return why;
	if (!found && (why = dir_attr(&sdp->a_attributes, &p->dir, &found)))
		return why;
	p->ice = sdp_read_attr(&m->a_attributes, "ice-ufrag") ||
	         sdp_read_attr(&sdp->a_attributes, "ice-ufrag");
	/* with ICE, c=0.0.0.0 is a placeholder for candidates to come (RFC 8839 §4.2.1.1) */
	p->hold_c0 = p->hold_c0 && !p->ice;
	if (p->hold_c0)
		p->dir = hold(p->dir);
	if ((why = ptime_read(&m->a_attributes, &p->ptime)))
		return why;
	g_strlcpy(p->rtcp_addr, p->addr, sizeof(p->rtcp_addr));
	p->rtcp_port = p->port ? (uint16_t)(p->port + 1) : 0;
	rtcp = sdp_read_attr(&m->a_attributes, "rtcp");
	/* with ICE, a=rtcp names the default candidate, possibly by an mDNS name (Firefox) */
	if (rtcp && p->port && !p->ice && (why = rtcp_read(rtcp, p)))
		return why;
	p->rtcp_mux = sdp_read_attr(&m->a_attributes, "rtcp-mux") != NULL;
	p->dtls = sdp_read_attr(&m->a_attributes, "fingerprint") ||
	          sdp_read_attr(&sdp->a_attributes, "fingerprint");
	p->crypto = sdp_read_attr(&m->a_attributes, "crypto") != NULL;
	return NULL;
}

/* The checks and the reading, on a parsed message; p is scratch until success. */
int sdp_read_check(const sdp_message_t *sdp, struct sdp_plain *p, const char **why)
{
	int n = osip_list_size(&sdp->m_medias);

	memset(p, 0, sizeof(*p));
	p->dtmf_pt = -1;
	if ((*why = session_check(sdp)))
		return EBADMSG;
	if (n > SDP_PLAIN_MAX_MEDIA) {
		*why = "Too many m= lines";
		return EPROTO;
	}
	p->n_media = (unsigned)n;
	p->media_index = UINT32_MAX;
	for (int i = 0; i < n; i++) {
		const sdp_media_t *m = osip_list_get(&sdp->m_medias, i);

		if ((*why = media_check(m)))
			return refusal(*why);
		if (p->media_index == UINT32_MAX && strcmp(m->m_media, "audio") == 0)
			p->media_index = (unsigned)i;
	}
	if (p->media_index == UINT32_MAX) {
		*why = "No audio stream";
		return EPROTO;
	}
	if ((*why = audio_read(sdp, osip_list_get(&sdp->m_medias, (int)p->media_index), p)))
		return refusal(*why);
	return 0;
}

int sdp_plain_read(const char *buf, size_t len, struct sdp_plain *out, const char **why)
{
	sdp_message_t *sdp = NULL;
	struct sdp_plain *p;
	int rc;

	if ((*why = sdp_read_parse(buf, len, &sdp)))
		return EBADMSG;
	p = g_new(struct sdp_plain, 1);
	rc = sdp_read_check(sdp, p, why);
	if (rc == 0)
		*out = *p;
	g_free(p);
	sdp_message_free(sdp);
	return rc;
}

/* Is name in the comma-separated list allowed (case-insensitive)? */
bool sdp_read_allowed(const char *list, const char *name)
{
	size_t n = strlen(name);

	if (!list)
		return true;
	if (n == 0)
		return false;
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len && *p == ' ')
			p++, len--;
		while (len && p[len - 1] == ' ')
			len--;
		if (len == n && g_ascii_strncasecmp(p, name, n) == 0)
			return true;
		p += end ? (size_t)(end - p) + 1 : strlen(p);
	}
	return false;
}
