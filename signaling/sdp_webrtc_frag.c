/* Reading trickled candidates: the application/trickle-ice-sdpfrag body of a SIP INFO
 * (RFC 8840 §9, grammar of RFC 8839 §5), hostile input expected. Pure. */
#include <errno.h>
#include <string.h>

#include "signaling/sdp_read.h"
#include "signaling/sdp_webrtc_priv.h"

#define FRAG_MAX_LEN  65536 /* a fragment of 32 candidates is some 4 kB */
#define FRAG_MAX_LINE 1024

struct frag_state {
	struct sdp_webrtc_frag *f;
	bool in_media;      /* after an m= line */
	size_t media_first; /* index of the first candidate of the current m= line */
	char mid[SDP_WEBRTC_MID_LEN];
};

/* "a=ice-ufrag:" and "a=ice-pwd:" at any level; a second value must be the same. */
static const char *cred_take(const char *v, char *dst, size_t min, const char *bad)
{
	if (!sdp_webrtc_ice_ok(v, min, SDP_WEBRTC_ICE_LEN - 1))
		return bad;
	if (dst[0] && strcmp(dst, v) != 0)
		return bad;
	g_strlcpy(dst, v, SDP_WEBRTC_ICE_LEN);
	return NULL;
}

static const char *cand_take(struct frag_state *st, const char *v)
{
	struct sdp_webrtc_frag *f = st->f;
	struct sdp_webrtc_cand c;
	bool ignored;

	if (!st->in_media)
		return "a=candidate outside an m= line";
	if (sdp_webrtc_cand_read(v, &c, &ignored))
		return "Bad a=candidate";
	if (ignored || f->n_cand == SDP_WEBRTC_MAX_CAND) {
		f->cand_ignored++;
		return NULL;
	}
	g_strlcpy(f->cand_mid[f->n_cand], st->mid, SDP_WEBRTC_MID_LEN);
	f->cand[f->n_cand++] = c;
	return NULL;
}

/* a=mid may follow the m= line's candidates: it names them all. */
static const char *mid_take(struct frag_state *st, const char *v)
{
	if (!st->in_media || st->mid[0])
		return "Bad a=mid";
	if (!sdp_read_token(v) || strlen(v) >= SDP_WEBRTC_MID_LEN)
		return "Bad a=mid";
	g_strlcpy(st->mid, v, sizeof(st->mid));
	for (size_t i = st->media_first; i < st->f->n_cand; i++)
		g_strlcpy(st->f->cand_mid[i], v, SDP_WEBRTC_MID_LEN);
	return NULL;
}

/* RFC 4566 §5.14 proto: token *("/" token) */
static bool proto_ok(const char *p)
{
	char **parts = g_strsplit(p, "/", 8);
	bool ok = parts[0] != NULL;

	for (guint i = 0; parts[i] && ok; i++)
		ok = sdp_read_token(parts[i]);
	g_strfreev(parts);
	return ok;
}

/* "m=<media> <port> <proto> <fmt>…": only its shape matters here (RFC 8840 §9: port 9). */
static const char *media_take(struct frag_state *st, const char *v)
{
	char **f = g_strsplit(v, " ", 0);
	uint16_t port;
	bool ok = g_strv_length(f) >= 4 && sdp_read_token(f[0]) && sdp_read_port(f[1], &port) &&
	          proto_ok(f[2]);

	g_strfreev(f);
	if (!ok)
		return "Bad m= line";
	st->in_media = true;
	st->media_first = st->f->n_cand;
	st->mid[0] = '\0';
	return NULL;
}

static const char *attr_take(struct frag_state *st, const char *v)
{
	const char *colon = strchr(v, ':');
	size_t nlen = colon ? (size_t)(colon - v) : strlen(v);
	const char *val = colon ? colon + 1 : "";

#define IS(name) (nlen == strlen(name) && strncmp(v, name, nlen) == 0)
	if (IS("ice-ufrag"))
		return cred_take(val, st->f->ufrag, 4, "Bad a=ice-ufrag");
	if (IS("ice-pwd"))
		return cred_take(val, st->f->pwd, 22, "Bad a=ice-pwd");
	if (IS("candidate"))
		return colon ? cand_take(st, val) : "Bad a=candidate";
	if (IS("mid"))
		return mid_take(st, val);
	if (IS("end-of-candidates")) {
		st->f->end_of_candidates = true;
		return colon ? "Bad a=end-of-candidates" : NULL;
	}
#undef IS
	return NULL; /* ice-options, rtcp-mux, …: nothing for us */
}

/* One line without its end: "<type>=<value>" with printable characters only. */
static const char *line_take(struct frag_state *st, const char *l, size_t n)
{
	char line[FRAG_MAX_LINE + 1];

	if (n == 0)
		return NULL; /* a blank line (a trailing CRLF) */
	if (n > FRAG_MAX_LINE)
		return "Line too long";
	if (n < 2 || !g_ascii_islower(l[0]) || l[1] != '=')
		return "Bad line";
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)l[i] < 0x20 || l[i] == 0x7f)
			return "Control character";
	}
	memcpy(line, l, n);
	line[n] = '\0';
	if (l[0] == 'm')
		return media_take(st, line + 2);
	if (l[0] == 'a')
		return attr_take(st, line + 2);
	return NULL; /* c=, b=, …: not part of what we take */
}

int sdp_webrtc_frag_read(const char *buf, size_t len, struct sdp_webrtc_frag *out, const char **why)
{
	struct sdp_webrtc_frag *f = g_new0(struct sdp_webrtc_frag, 1);
	struct frag_state st = { .f = f };
	const char *w = NULL;
	size_t at = 0;

	if (len > FRAG_MAX_LEN)
		w = "Fragment too long";
	while (!w && at < len) {
		const char *nl = memchr(buf + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - buf) : len, n = end - at;

		if (n > 0 && buf[at + n - 1] == '\r')
			n--;
		w = line_take(&st, buf + at, n);
		at = end + 1;
	}
	if (!w && !f->ufrag[0])
		w = "Fragment without a=ice-ufrag";
	if (!w)
		*out = *f;
	else
		*why = w;
	g_free(f);
	return w ? EBADMSG : 0;
}
