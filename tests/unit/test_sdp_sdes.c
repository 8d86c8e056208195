/* Unit tests for signaling/sdp_sdes: a=crypto values from RFC 4568 and hostile ones. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "signaling/sdp_sdes.h"

/* RFC 4568 §4 example key, without its MKI. */
#define RFC_KEY "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"

static void test_rfc_example(void)
{
	struct sdp_sdes c;
	const char *why = NULL;
	gsize len = 0;
	guchar *raw = g_base64_decode(RFC_KEY, &len);

	g_assert_cmpint(
	        sdp_sdes_parse("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|2^20", &c, &why), ==,
	        0);
	g_assert_cmpuint(c.tag, ==, 1);
	g_assert_cmpuint(len, ==, SDP_SDES_KEY_LEN);
	g_assert_cmpmem(c.key, SDP_SDES_KEY_LEN, raw, len);
	g_free(raw);
	g_assert_cmpint(sdp_sdes_parse("7 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY, &c, &why), ==,
	                0);
	g_assert_cmpuint(c.tag, ==, 7);
	g_assert_cmpint(
	        sdp_sdes_parse("2 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|1048576", &c, &why),
	        ==, 0);
}

static void test_refused(void)
{
	static const struct {
		const char *v;
		int rc;
	} cases[] = {
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|2^20|1:32", EPROTO }, /* MKI */
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|1:4", EPROTO },       /* MKI */
		{ "1 AES_CM_128_HMAC_SHA1_32 inline:" RFC_KEY, EPROTO },
		{ "1 AEAD_AES_256_GCM inline:" RFC_KEY, EPROTO },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|2^10", EPROTO },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|1000", EPROTO },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY " UNENCRYPTED_SRTP", EPROTO },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY ";inline:" RFC_KEY, EPROTO },
		{ "1 AES_CM_128_HMAC_SHA1_80 uri:http://x", EPROTO },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkp", EBADMSG },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "AA", EBADMSG },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|2^x", EBADMSG },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|", EBADMSG },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB=",
		  EBADMSG },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB!",
		  EBADMSG },
		{ "1234567890 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY, EBADMSG },
		{ "x AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY, EBADMSG },
		{ "1AES_CM_128_HMAC_SHA1_80", EBADMSG },
		{ "1 AES_CM_128_HMAC_SHA1_80", EBADMSG },
		{ "", EBADMSG },
	};
	struct sdp_sdes c = { .tag = 99 };

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *why = NULL;

		g_test_message("%s", cases[i].v);
		g_assert_cmpint(sdp_sdes_parse(cases[i].v, &c, &why), ==, cases[i].rc);
		g_assert_nonnull(why);
		g_assert_cmpuint(c.tag, ==, 99); /* untouched on failure */
	}
}

static void test_format_roundtrip(void)
{
	struct sdp_sdes c = { .tag = 123456789 }, back;
	char buf[SDP_SDES_MAX], small[20];
	const char *why = NULL;
	size_t len;

	for (unsigned i = 0; i < SDP_SDES_KEY_LEN; i++)
		c.key[i] = (uint8_t)(i * 37 + 1);
	len = sdp_sdes_format(&c, buf, sizeof(buf));
	g_assert_cmpuint(len, ==, strlen(buf));
	g_assert_true(g_str_has_prefix(buf, "123456789 AES_CM_128_HMAC_SHA1_80 inline:"));
	g_assert_cmpint(sdp_sdes_parse(buf, &back, &why), ==, 0);
	g_assert_cmpuint(back.tag, ==, c.tag);
	g_assert_cmpmem(back.key, SDP_SDES_KEY_LEN, c.key, SDP_SDES_KEY_LEN);
	g_assert_cmpuint(sdp_sdes_format(&c, small, sizeof(small)), ==, 0);
	g_assert_cmpstr(small, ==, "");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sdp_sdes/rfc_example", test_rfc_example);
	g_test_add_func("/sdp_sdes/refused", test_refused);
	g_test_add_func("/sdp_sdes/format_roundtrip", test_format_roundtrip);
	return g_test_run();
}
