/* Request path → safe file path under the web root (RFC 3986 §2.1 decoding), MIME types. */
#include "core/webpath.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode one byte at *p (percent-escapes too); returns -1 when malformed. */
static int next_byte(const char **p)
{
	const char *s = *p;
	int hi, lo;

	if (*s != '%') {
		*p = s + 1;
		return (unsigned char)*s;
	}
	hi = hexval(s[1]);
	lo = hi < 0 ? -1 : hexval(s[2]);
	if (lo < 0)
		return -1;
	*p = s + 3;
	return hi * 16 + lo;
}

/*
 * Append the segment seg[0..len) to out at *o, with a '/' before it when
 * out is not empty. Segments are checked here, after decoding, so that
 * "%2e%2e" is caught just like "..".
 */
static int add_segment(const char *seg, size_t len, char *buf, size_t cap, size_t *o)
{
	if (len == 0 || (len == 1 && seg[0] == '.'))
		return 0;
	if (seg[0] == '.')
		return EACCES;
	if (*o + (*o ? 1 : 0) + len + 1 > cap)
		return ENAMETOOLONG;
	if (*o)
		buf[(*o)++] = '/';
	memcpy(buf + *o, seg, len);
	*o += len;
	return 0;
}

int webpath_resolve(const char *uri, char *out, size_t cap)
{
	char seg[256], buf[1024];
	size_t slen = 0, o = 0;
	bool dir = true;
	int rc;

	if (!uri || uri[0] != '/')
		return EINVAL;
	for (const char *p = uri; *p;) {
		int c = next_byte(&p);

		if (c < 0 || c == 0 || c < 0x20 || c == 0x7f || c == '\\')
			return EINVAL;
		if (c == '/') {
			rc = add_segment(seg, slen, buf, sizeof(buf), &o);
			if (rc)
				return rc;
			slen = 0;
			dir = true;
			continue;
		}
		if (slen + 1 >= sizeof(seg))
			return ENAMETOOLONG;
		seg[slen++] = (char)c;
		dir = false;
	}
	rc = add_segment(seg, slen, buf, sizeof(buf), &o);
	if (rc)
		return rc;
	/* "/x/." names the directory x, like "/x/" */
	if (dir || (slen == 1 && seg[0] == '.')) {
		rc = add_segment("index.html", 10, buf, sizeof(buf), &o);
		if (rc)
			return rc;
	}
	if (o + 1 > cap)
		return ENAMETOOLONG;
	memcpy(out, buf, o);
	out[o] = '\0';
	return 0;
}

static const struct {
	const char *ext;
	const char *type;
} mime_types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "map", "application/json" },
	{ "webmanifest", "application/manifest+json" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "webp", "image/webp" },
	{ "ico", "image/x-icon" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "wav", "audio/wav" },
	{ "ogg", "audio/ogg" },
	{ "mp3", "audio/mpeg" },
	{ "wasm", "application/wasm" },
};

const char *webpath_mime(const char *name)
{
	const char *dot = strrchr(name, '.');
	const char *slash = strrchr(name, '/');

	if (dot && (!slash || dot > slash)) {
		for (size_t i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++) {
			if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
				return mime_types[i].type;
		}
	}
	return "application/octet-stream";
}
