/* Plain-RTP SDP over libosip2: read the first audio stream, rewrite for the other leg
 * (RFC 4566 §5, RFC 3264 §5-§8, RFC 3605, RFC 3551 static payload types). */
#include "signaling/sdp_plain.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <osipparser2/osip_parser.h>
#include <osipparser2/sdp_message.h>
#include <string.h>

#include "signaling/sip_msg.h"

void sdp_plain_init(void)
{
	sip_msg_init(); /* parser_init and libosip2's traces off, once */
}

const char *sdp_plain_dir_name(enum sdp_plain_dir dir)
{
	static const char *const names[] = { "sendrecv", "sendonly", "recvonly", "inactive" };

	return (unsigned)dir < G_N_ELEMENTS(names) ? names[dir] : "sendrecv";
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

/* libosip2's list free callbacks */
static void free_str(void *p)
{
	osip_free(p);
}

static void free_conn(void *p)
{
	sdp_connection_free(p);
}

static void free_bw(void *p)
{
	sdp_bandwidth_free(p);
}

/* ---- syntax helpers ---------------------------------------------------------------- */

/* A decimal number of at most maxdig digits, no sign, no space. */
static bool number(const char *s, unsigned maxdig, uint64_t *v)
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

static bool port_ok(const char *s, uint16_t *port)
{
	uint64_t v;

	if (!number(s, 5, &v) || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* RFC 4566 §9 token characters (and '/' for a proto) */
static bool tchar(char c, bool slash)
{
	return g_ascii_isalnum(c) || (c && strchr("!#$%&'*+-.^_`{|}~", c)) || (slash && c == '/');
}

static bool token_ok(const char *s)
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

static const char *parse(const char *buf, size_t len, sdp_message_t **out)
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

		if (!token_ok(a->a_att_field) || (a->a_att_value && !visible(a->a_att_value)))
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

		if (!number(t->t_start_time, 20, &v) || !number(t->t_stop_time, 20, &v))
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

		if (!token_ok(b->b_bwtype) || !token_ok(b->b_bandwidth))
			return "Bad b= line";
	}
	return attrs_check(&sdp->a_attributes);
}

/* The m= line itself, for any m= line: we write every one back. */
static const char *media_check(const sdp_media_t *m)
{
	uint16_t port;

	if (!token_ok(m->m_media) || !port_ok(m->m_port, &port))
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
		if (!token_ok(osip_list_get(&m->m_payloads, i)))
			return "Bad m= format";
	}
	for (int i = 0; i < osip_list_size(&m->b_bandwidths); i++) {
		const sdp_bandwidth_t *b = osip_list_get(&m->b_bandwidths, i);

		if (!token_ok(b->b_bwtype) || !token_ok(b->b_bandwidth))
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
static const char *pt_split(const char *v, uint64_t *pt)
{
	char num[4];
	const char *sp = v ? strchr(v, ' ') : NULL;

	if (!sp || sp - v > 3)
		return NULL;
	memcpy(num, v, (size_t)(sp - v));
	num[sp - v] = '\0';
	if (!number(num, 3, pt) || *pt > 127)
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

	if (n < 2 || n > 3 || !token_ok(parts[0]) || strlen(parts[0]) >= SDP_PLAIN_NAME_LEN ||
	    !number(parts[1], 10, &clock) || clock == 0 || clock > UINT32_MAX ||
	    (n == 3 && (!number(parts[2], 3, &ch) || ch == 0 || ch > 255)))
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

		if (!number(osip_list_get(&m->m_payloads, i), 3, &pt) || pt > 127)
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
		if (!(rest = pt_split(a->a_att_value, &pt)))
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

static const sdp_attribute_t *attr_get(const osip_list_t *attrs, const char *field)
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

	if ((n != 1 && n != 4) || !port_ok(parts[0], &p->rtcp_port) || p->rtcp_port == 0)
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
	const sdp_attribute_t *a = attr_get(attrs, "ptime");
	uint64_t v;

	if (!a)
		return NULL;
	if (!number(a->a_att_value, 4, &v) || v == 0 || v > 1000)
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
	if (!port_ok(m->m_port, &p->port))
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
	p->ice = attr_get(&m->a_attributes, "ice-ufrag") ||
	         attr_get(&sdp->a_attributes, "ice-ufrag");
	/* with ICE, c=0.0.0.0 is a placeholder for candidates to come (RFC 8839 §4.2.1.1) */
	p->hold_c0 = p->hold_c0 && !p->ice;
	if (p->hold_c0)
		p->dir = hold(p->dir);
	if ((why = ptime_read(&m->a_attributes, &p->ptime)))
		return why;
	g_strlcpy(p->rtcp_addr, p->addr, sizeof(p->rtcp_addr));
	p->rtcp_port = p->port ? (uint16_t)(p->port + 1) : 0;
	rtcp = attr_get(&m->a_attributes, "rtcp");
	if (rtcp && p->port && (why = rtcp_read(rtcp, p)))
		return why;
	p->rtcp_mux = attr_get(&m->a_attributes, "rtcp-mux") != NULL;
	p->dtls = attr_get(&m->a_attributes, "fingerprint") ||
	          attr_get(&sdp->a_attributes, "fingerprint");
	p->crypto = attr_get(&m->a_attributes, "crypto") != NULL;
	return NULL;
}

/* The checks and the reading, on a parsed message; p is scratch until success. */
static int check(const sdp_message_t *sdp, struct sdp_plain *p, const char **why)
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

	if ((*why = parse(buf, len, &sdp)))
		return EBADMSG;
	p = g_new(struct sdp_plain, 1);
	rc = check(sdp, p, why);
	if (rc == 0)
		*out = *p;
	g_free(p);
	sdp_message_free(sdp);
	return rc;
}

/* ---- rewrite ----------------------------------------------------------------------- */

/* What a plain RTP leg toward the other side must not see (RFC 8839, 8842, 4568, 5761, 8843). */
static bool foreign_attr(const char *field)
{
	static const char *const drop[] = {
		"candidate",
		"end-of-candidates",
		"remote-candidates",
		"fingerprint",
		"setup",
		"tls-id",
		"crypto",
		"rtcp-mux",
		"rtcp-mux-only",
		"bundle-only",
		"identity",
	};

	if (g_str_has_prefix(field, "ice-"))
		return true;
	for (size_t i = 0; i < G_N_ELEMENTS(drop); i++) {
		if (strcmp(field, drop[i]) == 0)
			return true;
	}
	return false;
}

static bool is_dir(const char *field)
{
	for (int d = SDP_PLAIN_SENDRECV; d <= SDP_PLAIN_INACTIVE; d++) {
		if (strcmp(field, sdp_plain_dir_name(d)) == 0)
			return true;
	}
	return false;
}

static void attr_remove(osip_list_t *attrs, int i)
{
	sdp_attribute_t *a = osip_list_get(attrs, i);

	osip_list_remove(attrs, i);
	sdp_attribute_free(a);
}

static void attr_add(osip_list_t *attrs, const char *field, const char *value)
{
	sdp_attribute_t *a = NULL;

	sdp_attribute_init(&a);
	a->a_att_field = osip_strdup(field);
	a->a_att_value = value ? osip_strdup(value) : NULL;
	osip_list_add(attrs, a, -1);
}

static void replace(char **field, const char *value)
{
	osip_free(*field);
	*field = value ? osip_strdup(value) : NULL;
}

/* Is name in the comma-separated list allowed (case-insensitive)? */
static bool allowed(const char *list, const char *name)
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

/* Drop the payload types the filter refuses, with their rtpmap, fmtp and rtcp-fb lines. */
static const char *codecs_filter(sdp_media_t *m, const struct sdp_plain *p, const char *list)
{
	size_t kept = 0;

	for (size_t i = 0; i < p->n_codecs; i++) {
		const struct sdp_plain_codec *c = &p->codecs[i];
		char pt[4];

		if (allowed(list, c->name)) {
			if (g_ascii_strcasecmp(c->name, "telephone-event") != 0 &&
			    g_ascii_strcasecmp(c->name, "CN") != 0)
				kept++;
			continue;
		}
		g_snprintf(pt, sizeof(pt), "%u", c->pt);
		for (int j = osip_list_size(&m->m_payloads) - 1; j >= 0; j--) {
			char *f = osip_list_get(&m->m_payloads, j);

			if (strcmp(f, pt) == 0) {
				osip_list_remove(&m->m_payloads, j);
				osip_free(f);
			}
		}
		for (int j = osip_list_size(&m->a_attributes) - 1; j >= 0; j--) {
			sdp_attribute_t *a = osip_list_get(&m->a_attributes, j);
			uint64_t apt;

			if ((strcmp(a->a_att_field, "rtpmap") == 0 ||
			     strcmp(a->a_att_field, "fmtp") == 0 ||
			     strcmp(a->a_att_field, "rtcp-fb") == 0) &&
			    pt_split(a->a_att_value, &apt) && apt == c->pt)
				attr_remove(&m->a_attributes, j);
		}
	}
	return kept ? NULL : "No common codec";
}

static void media_strip(sdp_media_t *m)
{
	osip_list_special_free(&m->c_connections, free_conn);
	replace(&m->i_info, NULL);
	if (m->k_key) {
		sdp_key_free(m->k_key);
		m->k_key = NULL;
	}
	replace(&m->m_number_of_port, NULL);
}

/* Another m= line: disabled (RFC 3264 §6, §8.2), its format list kept, only a=mid left. */
static void media_disable(sdp_media_t *m)
{
	media_strip(m);
	replace(&m->m_port, "0");
	osip_list_special_free(&m->b_bandwidths, free_bw);
	for (int j = osip_list_size(&m->a_attributes) - 1; j >= 0; j--) {
		sdp_attribute_t *a = osip_list_get(&m->a_attributes, j);

		if (strcmp(a->a_att_field, "mid") != 0)
			attr_remove(&m->a_attributes, j);
	}
}

static const char *audio_rewrite(sdp_media_t *m, const struct sdp_plain *p,
                                 const struct sdp_plain_local *local, const char *addrtype)
{
	char v[80];
	bool avpf = p->profile == SDP_PLAIN_AVPF && !local->to_avp;

	media_strip(m);
	if (p->port != 0) {
		g_snprintf(v, sizeof(v), "%u", local->port);
		replace(&m->m_port, v);
	}
	replace(&m->m_proto, avpf ? "RTP/AVPF" : "RTP/AVP");
	for (int j = osip_list_size(&m->a_attributes) - 1; j >= 0; j--) {
		sdp_attribute_t *a = osip_list_get(&m->a_attributes, j);

		if (foreign_attr(a->a_att_field) || (p->hold_c0 && is_dir(a->a_att_field)) ||
		    (!avpf && strcmp(a->a_att_field, "rtcp-fb") == 0))
			attr_remove(&m->a_attributes, j);
		else if (strcmp(a->a_att_field, "rtcp") == 0) {
			g_snprintf(v, sizeof(v), "%u IN %s %s", local->port + 1, addrtype,
			           local->addr);
			replace(&a->a_att_value, v);
		}
	}
	/* the old hold form is gone with the peer's address: say it with an attribute */
	if (p->hold_c0)
		attr_add(&m->a_attributes, sdp_plain_dir_name(p->dir), NULL);
	return local->codecs ? codecs_filter(m, p, local->codecs) : NULL;
}

static void session_rewrite(sdp_message_t *sdp, const struct sdp_plain *p,
                            const struct sdp_plain_local *local, const char *addrtype)
{
	char id[24], version[24];

	g_snprintf(id, sizeof(id), "%" G_GUINT64_FORMAT, local->sess_id);
	g_snprintf(version, sizeof(version), "%" G_GUINT64_FORMAT, local->sess_version);
	replace(&sdp->o_username, "rtcgate");
	replace(&sdp->o_sess_id, id);
	replace(&sdp->o_sess_version, version);
	replace(&sdp->o_nettype, "IN");
	replace(&sdp->o_addrtype, addrtype);
	replace(&sdp->o_addr, local->addr);
	/* the other side's session name, URIs, mails and phones stay on its side */
	replace(&sdp->s_name, "-");
	replace(&sdp->i_info, NULL);
	replace(&sdp->u_uri, NULL);
	osip_list_special_free(&sdp->e_emails, free_str);
	osip_list_special_free(&sdp->p_phones, free_str);
	if (sdp->k_key) {
		sdp_key_free(sdp->k_key);
		sdp->k_key = NULL;
	}
	if (sdp->c_connection)
		sdp_connection_free(sdp->c_connection);
	sdp_connection_init(&sdp->c_connection);
	sdp->c_connection->c_nettype = osip_strdup("IN");
	sdp->c_connection->c_addrtype = osip_strdup(addrtype);
	sdp->c_connection->c_addr = osip_strdup(local->addr);
	for (int j = osip_list_size(&sdp->a_attributes) - 1; j >= 0; j--) {
		sdp_attribute_t *a = osip_list_get(&sdp->a_attributes, j);

		if (foreign_attr(a->a_att_field) || (p->hold_c0 && is_dir(a->a_att_field)) ||
		    (strcmp(a->a_att_field, "group") == 0 && a->a_att_value &&
		     g_str_has_prefix(a->a_att_value, "BUNDLE")))
			attr_remove(&sdp->a_attributes, j);
	}
}

static const char *local_check(const struct sdp_plain_local *local, const char **addrtype)
{
	struct in6_addr a;

	if (!local || !local->addr || local->port == 0 || local->port == 65535)
		return "Bad local address";
	if (inet_pton(AF_INET, local->addr, &a) == 1)
		*addrtype = "IP4";
	else if (inet_pton(AF_INET6, local->addr, &a) == 1)
		*addrtype = "IP6";
	else
		return "Bad local address";
	return NULL;
}

int sdp_plain_rewrite(const char *buf, size_t len, const struct sdp_plain_local *local, char **out,
                      size_t *out_len, const char **why)
{
	sdp_message_t *sdp = NULL;
	struct sdp_plain *p = g_new(struct sdp_plain, 1);
	const char *addrtype = NULL;
	char *text = NULL;
	int rc;

	if ((*why = local_check(local, &addrtype))) {
		rc = EINVAL;
		goto out;
	}
	if ((*why = parse(buf, len, &sdp))) {
		rc = EBADMSG;
		goto out;
	}
	if ((rc = check(sdp, p, why)) != 0)
		goto out;
	rc = EPROTO;
	if (p->profile != SDP_PLAIN_AVP && p->profile != SDP_PLAIN_AVPF && !local->to_avp) {
		*why = "Audio stream is not plain RTP";
		goto out;
	}
	for (int i = 0; i < osip_list_size(&sdp->m_medias); i++) {
		sdp_media_t *m = osip_list_get(&sdp->m_medias, i);

		if ((unsigned)i != p->media_index)
			media_disable(m);
		else if ((*why = audio_rewrite(m, p, local, addrtype)))
			goto out;
	}
	session_rewrite(sdp, p, local, addrtype);
	if (sdp_message_to_str(sdp, &text) != 0 || !text) {
		*why = "SDP not writable";
		rc = EBADMSG;
		goto out;
	}
	*out_len = strlen(text);
	*out = g_strndup(text, *out_len);
	osip_free(text);
	*why = NULL;
	rc = 0;
out:
	if (sdp)
		sdp_message_free(sdp);
	g_free(p);
	return rc;
}
