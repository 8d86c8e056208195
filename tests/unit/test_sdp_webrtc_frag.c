/* Unit tests for signaling/sdp_webrtc_frag: trickled SDP fragments (RFC 8840 §9), the shapes
 * browsers send and hostile ones. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "signaling/sdp_webrtc.h"

#define UFRAG "a=ice-ufrag:EsAw\r\n"
#define PWD   "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
#define MLINE "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"
#define CAND1 "a=candidate:1 1 udp 2122260223 192.0.2.7 50000 typ host\r\n"
#define CAND2                                                                                \
	"a=candidate:2 1 udp 1686052607 198.51.100.9 40000 typ srflx raddr 192.0.2.7 rport " \
	"50000\r\n"

static int frag(const char *text, struct sdp_webrtc_frag *f, const char **why)
{
	*why = NULL;
	return sdp_webrtc_frag_read(text, strlen(text), f, why);
}

/* RFC 8840 §9's example shape: credentials, m= line, mid, candidates, end-of-candidates. */
static void test_good(void)
{
	struct sdp_webrtc_frag f;
	const char *why;

	g_assert_cmpint(
	        frag(UFRAG PWD MLINE "a=mid:0\r\n" CAND1 CAND2 "a=end-of-candidates\r\n", &f, &why),
	        ==, 0);
	g_assert_cmpstr(f.ufrag, ==, "EsAw");
	g_assert_cmpstr(f.pwd, ==, "P2uYro0UCOQ4zxjKXaWCBui1");
	g_assert_cmpuint(f.n_cand, ==, 2);
	g_assert_cmpstr(f.cand[0].addr, ==, "192.0.2.7");
	g_assert_cmpuint(f.cand[0].port, ==, 50000);
	g_assert_cmpint(f.cand[1].type, ==, SDP_WEBRTC_SRFLX);
	g_assert_cmpstr(f.cand[1].raddr, ==, "192.0.2.7");
	g_assert_cmpstr(f.cand_mid[0], ==, "0");
	g_assert_cmpstr(f.cand_mid[1], ==, "0");
	g_assert_true(f.end_of_candidates);

	/* LF only, mid after the candidates, credentials at media level, no pwd, no final EOL */
	g_assert_cmpint(frag("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=candidate:1 1 udp 1 192.0.2.7 5 typ "
	                     "host\na=ice-ufrag:EsAw\na=mid:audio",
	                     &f, &why),
	                ==, 0);
	g_assert_cmpuint(f.n_cand, ==, 1);
	g_assert_cmpstr(f.cand_mid[0], ==, "audio");
	g_assert_cmpstr(f.pwd, ==, "");
	g_assert_false(f.end_of_candidates);

	/* Chromium's trickled candidates name their ufrag, whose ice-chars include '+' and '/'
	 * (extension values are *VCHAR, RFC 8839 §5.1): taken; one in eight calls got 400 */
	g_assert_cmpint(frag(UFRAG MLINE
	                     "a=candidate:1381786020 1 udp 2122194687 192.0.2.2 47219 typ "
	                     "host generation 0 ufrag yJ+/ network-id 1\r\n",
	                     &f, &why),
	                ==, 0);
	g_assert_cmpuint(f.n_cand, ==, 1);
	g_assert_cmpuint(f.cand[0].port, ==, 47219);

	/* end-of-candidates alone (session level), other attributes and lines skipped */
	g_assert_cmpint(frag(UFRAG PWD "a=ice-options:trickle\r\na=end-of-candidates\r\n"
	                               "c=IN IP4 0.0.0.0\r\n",
	                     &f, &why),
	                ==, 0);
	g_assert_cmpuint(f.n_cand, ==, 0);
	g_assert_true(f.end_of_candidates);

	/* other transports and DNS names are counted, not taken; mDNS names are */
	g_assert_cmpint(frag(UFRAG MLINE "a=candidate:1 1 sctp 1 192.0.2.7 5 typ host\r\n"
	                                 "a=candidate:1 1 udp 1 pbx.example.com 5 typ host\r\n"
	                                 "a=candidate:1 1 udp 1 3f0e-11.local 5 typ host\r\n",
	                     &f, &why),
	                ==, 0);
	g_assert_cmpuint(f.n_cand, ==, 1);
	g_assert_true(f.cand[0].mdns);
	g_assert_cmpuint(f.cand_ignored, ==, 2);
}

/* More candidates than kept: the rest are counted. */
static void test_many(void)
{
	GString *g = g_string_new(UFRAG MLINE);
	struct sdp_webrtc_frag f;
	const char *why;

	for (int i = 0; i < SDP_WEBRTC_MAX_CAND + 5; i++)
		g_string_append_printf(g, "a=candidate:%d 1 udp 1 192.0.2.7 %d typ host\r\n", i,
		                       1000 + i);
	g_assert_cmpint(sdp_webrtc_frag_read(g->str, g->len, &f, &why), ==, 0);
	g_assert_cmpuint(f.n_cand, ==, SDP_WEBRTC_MAX_CAND);
	g_assert_cmpuint(f.cand_ignored, ==, 5);
	g_string_free(g, TRUE);
}

static const struct {
	const char *text;
	const char *why;
} hostile[] = {
	{ "", "Fragment without a=ice-ufrag" },
	{ MLINE CAND1, "Fragment without a=ice-ufrag" },
	{ UFRAG CAND1, "a=candidate outside an m= line" },
	{ "a=ice-ufrag:ab\r\n", "Bad a=ice-ufrag" },
	{ "a=ice-ufrag:EsAw!\r\n", "Bad a=ice-ufrag" },
	{ "a=ice-ufrag:\r\n", "Bad a=ice-ufrag" },
	{ "a=ice-ufrag\r\n", "Bad a=ice-ufrag" },
	{ UFRAG "a=ice-ufrag:Other\r\n", "Bad a=ice-ufrag" },
	{ UFRAG "a=ice-pwd:short\r\n", "Bad a=ice-pwd" },
	{ UFRAG "m=audio\r\n", "Bad m= line" },
	{ UFRAG "m=audio 99999 UDP/TLS/RTP/SAVPF 0\r\n", "Bad m= line" },
	{ UFRAG MLINE "a=candidate:1 1 udp 1 192.0.2.7 70000 typ host\r\n", "Bad a=candidate" },
	{ UFRAG MLINE "a=candidate:1 1 udp 1 192.0.2.7 5 typ bogus\r\n", "Bad a=candidate" },
	{ UFRAG MLINE "a=candidate:1 1 udp 99999999999 192.0.2.7 5 typ host\r\n",
	  "Bad a=candidate" },
	{ UFRAG MLINE "a=candidate\r\n", "Bad a=candidate" },
	{ UFRAG MLINE "a=candidate:\r\n", "Bad a=candidate" },
	{ UFRAG MLINE "a=candidate:1 1 udp 1 192.0.2.7 5 typ host raddr\r\n", "Bad a=candidate" },
	{ UFRAG MLINE "a=mid:0\r\na=mid:1\r\n", "Bad a=mid" },
	{ UFRAG "a=mid:0\r\n", "Bad a=mid" },
	{ UFRAG MLINE "a=mid:a b\r\n", "Bad a=mid" },
	{ UFRAG "a=end-of-candidates:x\r\n", "Bad a=end-of-candidates" },
	{ UFRAG "candidate:1 1 udp 1 192.0.2.7 5 typ host\r\n", "Bad line" },
	{ UFRAG "=x\r\n", "Bad line" },
	{ UFRAG "A=x\r\n", "Bad line" },
	{ UFRAG "a\r\n", "Bad line" },
	{ UFRAG "a=x\ty\r\n", "Control character" },
	{ UFRAG "a=x\rb=y\r\n", "Control character" },
};

static void test_hostile(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(hostile); i++) {
		struct sdp_webrtc_frag f;
		const char *why;

		g_test_message("case %zu", i);
		g_assert_cmpint(frag(hostile[i].text, &f, &why), ==, EBADMSG);
		g_assert_cmpstr(why, ==, hostile[i].why);
	}
}

/* NUL bytes inside, an endless line, a body past the limit: refused, nothing read past len. */
static void test_bounds(void)
{
	static const char nul[] = UFRAG "a=mid\0:0\r\n";
	struct sdp_webrtc_frag f;
	const char *why = NULL;
	char *big = g_malloc(70000), *line = g_strnfill(2000, 'x');
	char *longline = g_strconcat(UFRAG "a=", line, "\r\n", NULL);

	g_assert_cmpint(sdp_webrtc_frag_read(nul, sizeof(nul) - 1, &f, &why), ==, EBADMSG);
	g_assert_cmpstr(why, ==, "Control character");
	memset(big, 'a', 70000);
	g_assert_cmpint(sdp_webrtc_frag_read(big, 70000, &f, &why), ==, EBADMSG);
	g_assert_cmpstr(why, ==, "Fragment too long");
	g_assert_cmpint(frag(longline, &f, &why), ==, EBADMSG);
	g_assert_cmpstr(why, ==, "Line too long");
	/* a length that stops mid-line: only that much is read */
	g_assert_cmpint(sdp_webrtc_frag_read(UFRAG "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1",
	                                     strlen(UFRAG) + 12, &f, &why),
	                ==, EBADMSG);
	g_assert_cmpstr(why, ==, "Bad a=ice-pwd");
	g_free(big);
	g_free(line);
	g_free(longline);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sdp_webrtc_frag/good", test_good);
	g_test_add_func("/sdp_webrtc_frag/many", test_many);
	g_test_add_func("/sdp_webrtc_frag/hostile", test_hostile);
	g_test_add_func("/sdp_webrtc_frag/bounds", test_bounds);
	return g_test_run();
}
