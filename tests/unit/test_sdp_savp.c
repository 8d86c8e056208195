/* Unit tests for signaling/sdp_savp: SDES taken out of and put into whole SDP bodies. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "signaling/sdp_plain.h"
#include "signaling/sdp_savp.h"

#define KEY_A "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR" /* RFC 4568 §4 */
#define KEY_B "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz" /* RFC 4568 §7.1.1 */

#define HEAD "v=0\r\no=pbx 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n"

/* A PBX's answer: the first line is not ours (a 32-bit tag), the second is. */
static const char savp_in[] = HEAD "m=audio 40000 RTP/SAVP 0 101\r\n"
                                   "a=rtpmap:101 telephone-event/8000\r\n"
                                   "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" KEY_A "\r\n"
                                   "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B "|2^31\r\n"
                                   "a=sendrecv\r\n"
                                   "m=video 0 RTP/SAVP 96\r\n"
                                   "a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A "\r\n";
static const char savp_out[] = HEAD "m=audio 40000 RTP/AVP 0 101\r\n"
                                    "a=rtpmap:101 telephone-event/8000\r\n"
                                    "a=sendrecv\r\n"
                                    "m=video 0 RTP/SAVP 96\r\n"
                                    "a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A "\r\n";

static void test_strip_answer(void)
{
	struct sdp_savp info;
	char *out = NULL;
	size_t len = 0;
	gsize klen = 0;
	guchar *key = g_base64_decode(KEY_B, &klen);

	g_assert_cmpint(sdp_savp_strip(savp_in, strlen(savp_in), &info, &out, &len), ==, 0);
	g_assert_cmpstr(out, ==, savp_out);
	g_assert_cmpuint(len, ==, strlen(savp_out));
	g_assert_true(info.audio && info.savp && info.usable);
	g_assert_cmpuint(info.n_crypto, ==, 2);
	g_assert_cmpuint(info.crypto.tag, ==, 2);
	g_assert_cmpmem(info.crypto.key, SDP_SDES_KEY_LEN, key, klen);
	g_assert_null(info.why);
	g_free(out);
	g_free(key);
}

static void test_strip_other(void)
{
	static const struct {
		const char *in, *out;
		bool savp, usable;
		unsigned n;
	} cases[] = {
		/* plain RTP: kept as it is */
		{ HEAD "m=audio 4000 RTP/AVP 0\r\n", HEAD "m=audio 4000 RTP/AVP 0\r\n", false,
		  false, 0 },
		/* SAVPF, LF-only lines, an MKI we cannot use */
		{ "v=0\nm=audio 4000 RTP/SAVPF 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A
		  "|2^20|1:4\n",
		  "v=0\nm=audio 4000 RTP/AVPF 0\n", true, false, 1 },
		/* a crypto line on a plain stream goes too; the last line has no end */
		{ "m=audio 4000 RTP/AVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A,
		  "m=audio 4000 RTP/AVP 0\r\n", false, true, 1 },
		/* WebRTC's profile is not SDES */
		{ "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
		  false, false, 0 },
		/* no audio */
		{ "v=0\r\nm=video 5 RTP/SAVP 96\r\n", "v=0\r\nm=video 5 RTP/SAVP 96\r\n", false,
		  false, 0 },
		{ "m=audio\r\n", "m=audio\r\n", false, false, 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct sdp_savp info;
		char *out = NULL;
		size_t len = 0;

		g_assert_cmpint(sdp_savp_strip(cases[i].in, strlen(cases[i].in), &info, &out, &len),
		                ==, 0);
		g_assert_cmpstr(out, ==, cases[i].out);
		g_assert_cmpint(info.savp, ==, cases[i].savp);
		g_assert_cmpint(info.usable, ==, cases[i].usable);
		g_assert_cmpuint(info.n_crypto, ==, cases[i].n);
		if (cases[i].n && !cases[i].usable)
			g_assert_cmpstr(info.why, ==, "MKI is not supported");
		g_free(out);
	}
}

static void test_add(void)
{
	struct sdp_sdes c = { .tag = 1 };
	struct sdp_savp info;
	char *out = NULL, *back = NULL;
	size_t len = 0, blen = 0;
	const char *in = HEAD "m=audio 10000 RTP/AVP 0 8\r\na=rtcp:10001\r\n"
	                      "m=video 0 RTP/AVP 96\r\n";

	for (size_t i = 0; i < sizeof(c.key); i++)
		c.key[i] = (uint8_t)(i * 7 + 1);
	g_assert_cmpint(sdp_savp_add(in, strlen(in), &c, &out, &len), ==, 0);
	g_assert_true(g_str_has_prefix(out, HEAD "m=audio 10000 RTP/SAVP 0 8\r\na=rtcp:10001\r\n"
	                                         "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
	g_assert_true(g_str_has_suffix(out, "\r\nm=video 0 RTP/AVP 96\r\n"));
	/* what we write is what we read */
	g_assert_cmpint(sdp_savp_strip(out, len, &info, &back, &blen), ==, 0);
	g_assert_cmpstr(back, ==, in);
	g_assert_true(info.savp && info.usable);
	g_assert_cmpmem(info.crypto.key, sizeof(c.key), c.key, sizeof(c.key));
	g_free(out);
	g_free(back);
	/* the section's end is the body's end, which has no line end */
	g_assert_cmpint(sdp_savp_add("m=audio 1 RTP/AVPF 0", 20, &c, &out, &len), ==, 0);
	g_assert_true(g_str_has_prefix(out, "m=audio 1 RTP/SAVPF 0\r\na=crypto:1 "));
	g_assert_true(g_str_has_suffix(out, "\r\n"));
	g_free(out);
}

static void test_refused(void)
{
	struct sdp_sdes c = { .tag = 1 };
	struct sdp_savp info;
	char *out = (char *)"untouched", *big = g_malloc0(SDP_PLAIN_MAX + 2);
	size_t len = 7;
	static const char *const not_avp[] = {
		"v=0\r\nm=video 5 RTP/AVP 96\r\n",
		"m=audio 5 RTP/SAVP 0\r\n",
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
		"m=audio 5\r\n",
		"",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(not_avp); i++)
		g_assert_cmpint(sdp_savp_add(not_avp[i], strlen(not_avp[i]), &c, &out, &len), ==,
		                EPROTO);
	memset(big, 'a', SDP_PLAIN_MAX + 1);
	g_assert_cmpint(sdp_savp_strip(big, SDP_PLAIN_MAX + 1, &info, &out, &len), ==, EBADMSG);
	g_assert_cmpint(sdp_savp_add(big, SDP_PLAIN_MAX + 1, &c, &out, &len), ==, EBADMSG);
	g_assert_cmpint(sdp_savp_strip("m=audio 1 RTP/AVP 0\0x", 21, &info, &out, &len), ==,
	                EBADMSG);
	g_assert_cmpstr(out, ==, "untouched");
	g_assert_cmpuint(len, ==, 7);
	g_free(big);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sdp_savp/strip_answer", test_strip_answer);
	g_test_add_func("/sdp_savp/strip_other", test_strip_other);
	g_test_add_func("/sdp_savp/add", test_add);
	g_test_add_func("/sdp_savp/refused", test_refused);
	return g_test_run();
}
