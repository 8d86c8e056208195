/* SDP Security Descriptions: one a=crypto value in and out (RFC 4568 §4, §6.1, §9.1). Pure. */
#include "signaling/sdp_sdes.h"

#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <string.h>

#define KEY_B64_LEN  40 /* 30 bytes in base64, no padding */
#define MIN_LIFETIME (1ULL << 20)

static bool b64_char(char c)
{
	return g_ascii_isalnum(c) || c == '+' || c == '/';
}

/* The lifetime after '|': "2^N" or a decimal count of packets (§6.1). */
static int lifetime_ok(const char *s, size_t n)
{
	guint64 v = 0;

	if (n > 2 && s[0] == '2' && s[1] == '^') {
		for (size_t i = 2; i < n; i++) {
			if (!g_ascii_isdigit(s[i]) || i > 3)
				return EBADMSG;
			v = v * 10 + (guint64)(s[i] - '0');
		}
		return v >= 20 && v <= 48 ? 0 : EPROTO;
	}
	if (n == 0 || n > 15)
		return EBADMSG;
	for (size_t i = 0; i < n; i++) {
		if (!g_ascii_isdigit(s[i]))
			return EBADMSG;
		v = v * 10 + (guint64)(s[i] - '0');
	}
	return v >= MIN_LIFETIME ? 0 : EPROTO;
}

/* "inline:<key>[|lifetime][|mki:len]" up to the end or a space: 0, EPROTO, EBADMSG. */
static int key_params(const char *p, uint8_t key[SDP_SDES_KEY_LEN], const char **why)
{
	char b64[KEY_B64_LEN + 1];
	size_t n = 0;
	gsize len = 0;
	guchar *raw;
	int rc;

	if (!g_str_has_prefix(p, "inline:")) {
		*why = "key method is not inline";
		return EPROTO;
	}
	p += 7;
	while (n <= KEY_B64_LEN && b64_char(p[n]))
		n++;
	if (n != KEY_B64_LEN || (p[n] && p[n] != '|' && p[n] != ' ' && p[n] != ';')) {
		*why = "key is not 30 bytes of base64";
		return EBADMSG;
	}
	memcpy(b64, p, n);
	b64[n] = '\0';
	p += n;
	if (*p == '|') {
		const char *end = p + 1 + strcspn(p + 1, "| ;");

		if (memchr(p + 1, ':', (size_t)(end - p - 1))) {
			*why = "MKI is not supported";
			return EPROTO;
		}
		if ((rc = lifetime_ok(p + 1, (size_t)(end - p - 1))) != 0) {
			*why = rc == EPROTO ? "lifetime too short" : "bad lifetime";
			return rc;
		}
		p = end;
	}
	if (*p == '|') {
		*why = "MKI is not supported";
		return EPROTO;
	}
	if (*p == ';') {
		*why = "several keys are not supported";
		return EPROTO;
	}
	if (*p) {
		*why = "session parameters are not supported";
		return EPROTO;
	}
	raw = g_base64_decode(b64, &len);
	if (len == SDP_SDES_KEY_LEN)
		memcpy(key, raw, SDP_SDES_KEY_LEN);
	g_free(raw);
	return len == SDP_SDES_KEY_LEN ? 0 : EBADMSG;
}

int sdp_sdes_parse(const char *value, struct sdp_sdes *out, const char **why)
{
	struct sdp_sdes c = { 0 };
	const char *p = value;
	size_t ndig = 0;
	int rc;

	while (g_ascii_isdigit(p[ndig]) && ndig < 10)
		c.tag = c.tag * 10 + (uint32_t)(p[ndig++] - '0');
	if (ndig == 0 || ndig > 9 || p[ndig] != ' ') {
		*why = "bad tag";
		return EBADMSG;
	}
	p += ndig + 1;
	if (strncmp(p, SDP_SDES_SUITE " ", sizeof(SDP_SDES_SUITE)) != 0) {
		*why = "unsupported crypto suite";
		return strchr(p, ' ') ? EPROTO : EBADMSG;
	}
	p += sizeof(SDP_SDES_SUITE);
	rc = key_params(p, c.key, why);
	if (rc == 0)
		*out = c;
	memset(&c, 0, sizeof(c));
	return rc;
}

size_t sdp_sdes_format(const struct sdp_sdes *c, char *buf, size_t cap)
{
	char *b64 = g_base64_encode(c->key, SDP_SDES_KEY_LEN);
	int n = g_snprintf(buf, cap, "%u %s inline:%s", c->tag, SDP_SDES_SUITE, b64);

	memset(b64, 0, strlen(b64));
	g_free(b64);
	if (n < 0 || (size_t)n >= cap) {
		if (cap)
			buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}
