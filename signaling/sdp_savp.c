/* SDES on a whole SDP body: a=crypto out of, or into, the first audio stream (RFC 4568 §5,
 * §7.1; RFC 3711 §12 RTP/SAVP). Pure. */
#include "signaling/sdp_savp.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "signaling/sdp_plain.h"

#define CRYPTO_PREFIX "a=crypto:"
#define VALUE_MAX     256 /* longer than any a=crypto value we could take */

/* One line of the body: text[len] without its end, eol its "\r\n", "\n" or "". */
struct line {
	const char *text;
	size_t len;
	const char *eol;
	size_t eol_len;
};

/* The line at *p (before end), and *p past it. */
static struct line next_line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	struct line l = { .text = *p };

	l.len = (size_t)((nl ? nl : end) - *p);
	l.eol = l.text + l.len;
	l.eol_len = nl ? 1 : 0;
	if (nl && l.len && l.text[l.len - 1] == '\r') {
		l.len--;
		l.eol--;
		l.eol_len = 2;
	}
	*p = nl ? nl + 1 : end;
	return l;
}

static bool starts(const struct line *l, const char *prefix)
{
	size_t n = strlen(prefix);

	return l->len >= n && memcmp(l->text, prefix, n) == 0;
}

/* Where the proto field of an m= line is: "m=audio <port> <proto> <fmt>…". */
static bool proto_span(const struct line *l, size_t *at, size_t *n)
{
	const char *sp1 = memchr(l->text, ' ', l->len), *sp2, *sp3;

	if (!sp1)
		return false;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(l->text + l->len - sp1 - 1));
	if (!sp2)
		return false;
	sp3 = memchr(sp2 + 1, ' ', (size_t)(l->text + l->len - sp2 - 1));
	*at = (size_t)(sp2 + 1 - l->text);
	*n = (size_t)((sp3 ? sp3 : l->text + l->len) - (sp2 + 1));
	return true;
}

static bool proto_is(const struct line *l, size_t at, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(l->text + at, want, n) == 0;
}

/* The m= line with its proto replaced by to. */
static void put_mline(GString *g, const struct line *l, size_t at, size_t n, const char *to)
{
	g_string_append_len(g, l->text, (gssize)at);
	g_string_append(g, to);
	g_string_append_len(g, l->text + at + n, (gssize)(l->len - at - n + l->eol_len));
}

static int body_ok(const char *buf, size_t len)
{
	return len > SDP_PLAIN_MAX || memchr(buf, '\0', len) ? EBADMSG : 0;
}

/* One a=crypto line of the audio section: the first usable one is kept in info. */
static void take_crypto(const struct line *l, struct sdp_savp *info)
{
	size_t n = l->len - strlen(CRYPTO_PREFIX);
	char value[VALUE_MAX];
	struct sdp_sdes c;
	const char *why = "a=crypto too long";

	info->n_crypto++;
	if (info->usable)
		return;
	if (n < sizeof(value)) {
		memcpy(value, l->text + strlen(CRYPTO_PREFIX), n);
		value[n] = '\0';
		if (sdp_sdes_parse(value, &c, &why) == 0) {
			info->crypto = c;
			info->usable = true;
			info->why = NULL;
		}
		memset(value, 0, sizeof(value));
		memset(&c, 0, sizeof(c));
	}
	if (!info->usable && !info->why)
		info->why = why;
}

/* The first audio m= line: its SAVP profile made AVP, in g. */
static void strip_mline(GString *g, const struct line *l, struct sdp_savp *info)
{
	size_t at, n;

	info->audio = true;
	if (proto_span(l, &at, &n) &&
	    (proto_is(l, at, n, "RTP/SAVP") || proto_is(l, at, n, "RTP/SAVPF"))) {
		info->savp = true;
		put_mline(g, l, at, n, n == strlen("RTP/SAVP") ? "RTP/AVP" : "RTP/AVPF");
		return;
	}
	g_string_append_len(g, l->text, (gssize)(l->len + l->eol_len));
}

int sdp_savp_strip(const char *buf, size_t len, struct sdp_savp *info, char **out, size_t *out_len)
{
	struct sdp_savp found = { 0 };
	const char *p = buf, *end = buf + len;
	GString *g;
	bool in_audio = false;

	if (body_ok(buf, len))
		return EBADMSG;
	g = g_string_sized_new(len + 1);
	while (p < end) {
		struct line l = next_line(&p, end);

		if (starts(&l, "m=")) {
			in_audio = !found.audio && starts(&l, "m=audio ");
			if (in_audio) {
				strip_mline(g, &l, &found);
				continue;
			}
		} else if (in_audio && starts(&l, CRYPTO_PREFIX)) {
			take_crypto(&l, &found);
			continue;
		}
		g_string_append_len(g, l.text, (gssize)(l.len + l.eol_len));
	}
	*info = found;
	memset(&found, 0, sizeof(found));
	*out_len = g->len;
	*out = g_string_free(g, FALSE);
	return 0;
}

/* "a=crypto:<c><eol>" into g, the key wiped from the stack. */
static int put_crypto(GString *g, const struct sdp_sdes *c, const char *eol, size_t eol_len)
{
	char value[SDP_SDES_MAX];

	if (!sdp_sdes_format(c, value, sizeof(value)))
		return EINVAL;
	g_string_append(g, CRYPTO_PREFIX);
	g_string_append(g, value);
	g_string_append_len(g, eol, (gssize)eol_len);
	memset(value, 0, sizeof(value));
	return 0;
}

/* The first audio m= line made SAVP: 0, or EPROTO when its profile is not AVP or AVPF. */
static int add_mline(GString *g, const struct line *l)
{
	size_t at, n;

	if (!proto_span(l, &at, &n))
		return EPROTO;
	if (proto_is(l, at, n, "RTP/AVP"))
		put_mline(g, l, at, n, "RTP/SAVP");
	else if (proto_is(l, at, n, "RTP/AVPF"))
		put_mline(g, l, at, n, "RTP/SAVPF");
	else
		return EPROTO;
	if (!l->eol_len)
		g_string_append(g, "\r\n");
	return 0;
}

int sdp_savp_add(const char *buf, size_t len, const struct sdp_sdes *c, char **out, size_t *out_len)
{
	const char *p = buf, *end = buf + len, *eol = "\r\n";
	size_t eol_len = 2;
	GString *g;
	int state = 0; /* 0 before the audio m= line, 1 in its section, 2 after it */
	int rc = 0;

	if (body_ok(buf, len))
		return EBADMSG;
	g = g_string_sized_new(len + SDP_SDES_MAX + 16);
	while (p < end && !rc) {
		struct line l = next_line(&p, end);

		if (state == 1 && starts(&l, "m=")) {
			rc = put_crypto(g, c, eol, eol_len);
			state = 2;
		}
		if (state == 0 && starts(&l, "m=audio ")) {
			if (l.eol_len)
				eol = l.eol, eol_len = l.eol_len;
			rc = add_mline(g, &l);
			state = 1;
			continue;
		}
		g_string_append_len(g, l.text, (gssize)(l.len + l.eol_len));
		if (state == 1 && !l.eol_len)
			g_string_append_len(g, eol, (gssize)eol_len);
	}
	if (!rc && state == 1)
		rc = put_crypto(g, c, eol, eol_len);
	if (!rc && state == 0)
		rc = EPROTO;
	if (rc) {
		memset(g->str, 0, g->len);
		g_string_free(g, TRUE);
		return rc;
	}
	*out_len = g->len;
	*out = g_string_free(g, FALSE);
	return 0;
}
