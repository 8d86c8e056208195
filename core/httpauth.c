/* Authorization header parsing: Basic (RFC 7617) and Bearer (RFC 6750 §2.1). Pure. */
#include "core/httpauth.h"

#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <string.h>

#define MAX_CREDENTIALS 1024

/* Skip "<scheme> " (case-insensitive, one or more spaces); NULL for another scheme. */
static const char *after_scheme(const char *h, const char *scheme)
{
	size_t n = strlen(scheme);

	if (g_ascii_strncasecmp(h, scheme, n) != 0 || h[n] != ' ')
		return NULL;
	h += n;
	while (*h == ' ')
		h++;
	return h;
}

static bool b64_canonical(const char *s, size_t n)
{
	size_t pad = 0;

	if (n == 0 || n % 4)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=') {
			pad++;
		} else if (pad || !(g_ascii_isalnum(s[i]) || s[i] == '+' || s[i] == '/')) {
			return false;
		}
	}
	return pad <= 2;
}

int httpauth_basic(const char *header, char **user, char **password)
{
	const char *b = after_scheme(header, "Basic");
	size_t n;
	guchar *raw;
	gsize len = 0;
	const char *colon;

	if (!b)
		return EPROTO;
	n = strlen(b);
	while (n && b[n - 1] == ' ')
		n--;
	if (n > MAX_CREDENTIALS || !b64_canonical(b, n))
		return EINVAL;
	{
		gchar *copy = g_strndup(b, n);

		raw = g_base64_decode(copy, &len);
		g_free(copy);
	}
	colon = memchr(raw, ':', len);
	if (!colon || memchr(raw, '\0', len)) {
		memset(raw, 0, len);
		g_free(raw);
		return EINVAL;
	}
	*user = g_strndup((const char *)raw, (gsize)(colon - (const char *)raw));
	*password = g_strndup(colon + 1, len - (gsize)(colon + 1 - (const char *)raw));
	memset(raw, 0, len);
	g_free(raw);
	return 0;
}

int httpauth_bearer(const char *header, const char **token, size_t *len)
{
	const char *t = after_scheme(header, "Bearer");
	size_t n = 0;

	if (!t)
		return EPROTO;
	/* token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
	while (t[n] && (g_ascii_isalnum(t[n]) || strchr("-._~+/", t[n])))
		n++;
	while (t[n] == '=')
		n++;
	if (n == 0 || t[n] != '\0')
		return EINVAL;
	*token = t;
	*len = n;
	return 0;
}
