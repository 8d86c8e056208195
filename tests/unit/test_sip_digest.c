/* signaling/sip_digest: RFC 2617 and RFC 7616 vectors, nonces, checks, hostile values. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "signaling/sip_digest.h"

static const uint8_t key[SIP_DIGEST_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

/* RFC 2617 §3.5 (qop=auth, MD5): response 6629fae49393a05397450978507c4ef1 */
static void test_rfc2617(void)
{
	struct sip_digest_challenge ch;
	char *a;

	g_assert_cmpint(sip_digest_parse_challenge(
	                        "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
	                        "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
	                        "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
	                        &ch),
	                ==, 0);
	g_assert_true(ch.qop_auth);
	g_assert_cmpint(ch.alg, ==, SIP_DIGEST_MD5);
	g_assert_cmpstr(ch.realm, ==, "testrealm@host.com");
	a = sip_digest_answer(&ch, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", "0a4f113b",
	                      1);
	g_assert_nonnull(strstr(a, "response=\"6629fae49393a05397450978507c4ef1\""));
	g_assert_nonnull(strstr(a, "nc=00000001"));
	g_assert_nonnull(strstr(a, "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
	g_free(a);
}

/* RFC 7616 §3.9.1 (SHA-256) */
static void test_rfc7616(void)
{
	struct sip_digest_challenge ch;
	char *a;

	g_assert_cmpint(sip_digest_parse_challenge(
	                        "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
	                        "algorithm=SHA-256, "
	                        "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
	                        "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
	                        &ch),
	                ==, 0);
	g_assert_cmpint(ch.alg, ==, SIP_DIGEST_SHA256);
	a = sip_digest_answer(&ch, "Mufasa", "Circle of Life", "GET", "/dir/index.html",
	                      "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", 1);
	g_assert_nonnull(strstr(
	        a,
	        "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""));
	g_free(a);
}

/* Our own challenge answered and checked, then every way it can go wrong. */
static void test_verify(void)
{
	struct sip_digest_challenge ch = { .alg = SIP_DIGEST_MD5, .qop_auth = true };
	char ha1[65], *a, *tampered;

	sip_digest_nonce(key, 1000, 60, ch.nonce, sizeof(ch.nonce));
	g_strlcpy(ch.realm, "rtcgate", sizeof(ch.realm));
	sip_digest_ha1(SIP_DIGEST_MD5, "alice", "rtcgate", "secret", ha1, sizeof(ha1));
	a = sip_digest_answer(&ch, "alice", "secret", "REGISTER", "sip:pbx.example", "c1", 1);
	g_assert_cmpint(sip_digest_verify(a, "REGISTER", "rtcgate", "alice", ha1, SIP_DIGEST_MD5,
	                                  key, 1030),
	                ==, SIP_DIGEST_OK);
	g_assert_cmpint(
	        sip_digest_verify(a, "INVITE", "rtcgate", "alice", ha1, SIP_DIGEST_MD5, key, 1030),
	        ==, SIP_DIGEST_WRONG);
	g_assert_cmpint(
	        sip_digest_verify(a, "REGISTER", "rtcgate", "bob", ha1, SIP_DIGEST_MD5, key, 1030),
	        ==, SIP_DIGEST_WRONG);
	g_assert_cmpint(
	        sip_digest_verify(a, "REGISTER", "other", "alice", ha1, SIP_DIGEST_MD5, key, 1030),
	        ==, SIP_DIGEST_WRONG);
	g_assert_cmpint(sip_digest_verify(a, "REGISTER", "rtcgate", "alice", ha1, SIP_DIGEST_MD5,
	                                  key, 1061),
	                ==, SIP_DIGEST_STALE);
	g_assert_cmpint(sip_digest_verify(a, "REGISTER", "rtcgate", "alice", ha1, SIP_DIGEST_SHA256,
	                                  key, 1030),
	                ==, SIP_DIGEST_WRONG);
	tampered = g_strdup(a);
	{
		/* one hex digit of the nonce's MAC changed */
		char *d = strstr(tampered, "nonce=\"") + 7 + 30;

		*d = *d == '0' ? '1' : '0';
	}
	g_assert_cmpint(sip_digest_verify(tampered, "REGISTER", "rtcgate", "alice", ha1,
	                                  SIP_DIGEST_MD5, key, 1030),
	                ==, SIP_DIGEST_FOREIGN);
	g_free(tampered);
	g_free(a);
	/* a wrong password */
	a = sip_digest_answer(&ch, "alice", "guess", "REGISTER", "sip:pbx.example", "c1", 1);
	g_assert_cmpint(sip_digest_verify(a, "REGISTER", "rtcgate", "alice", ha1, SIP_DIGEST_MD5,
	                                  key, 1030),
	                ==, SIP_DIGEST_WRONG);
	g_free(a);
	/* a nonce that is not ours */
	g_strlcpy(ch.nonce, "0000000000000fa0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	          sizeof(ch.nonce));
	a = sip_digest_answer(&ch, "alice", "secret", "REGISTER", "sip:pbx.example", "c1", 1);
	g_assert_cmpint(sip_digest_verify(a, "REGISTER", "rtcgate", "alice", ha1, SIP_DIGEST_MD5,
	                                  key, 1030),
	                ==, SIP_DIGEST_FOREIGN);
	g_free(a);
}

/* The algorithm an answer names: what held mode looks the stored HA1 up by. */
static void test_algorithm(void)
{
	enum sip_digest_alg alg = SIP_DIGEST_SHA256;

	g_assert_cmpint(sip_digest_algorithm("Digest username=\"a\", realm=\"r\"", &alg), ==, 0);
	g_assert_cmpint(alg, ==, SIP_DIGEST_MD5);
	g_assert_cmpint(sip_digest_algorithm("Digest username=\"a\", algorithm=SHA-256", &alg), ==,
	                0);
	g_assert_cmpint(alg, ==, SIP_DIGEST_SHA256);
	g_assert_cmpint(sip_digest_algorithm("Digest username=\"a\", algorithm=MD5-sess", &alg), ==,
	                EINVAL);
	g_assert_cmpint(alg, ==, SIP_DIGEST_SHA256);
}

/* qop=auth without cnonce and nc */
#define NO_CNONCE \
	"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", qop=auth"

static void test_hostile(void)
{
	static const char *const bad[] = {
		"",
		"Basic dXNlcjpwYXNz",
		"Digest",
		"Digest username=\"a\"",
		"Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess",
		"Digest realm=\"r\", nonce=\"n\", algorithm=\"\"",
		NO_CNONCE,
	};
	struct sip_digest_challenge ch;
	char ha1[65] = "00";
	char *longv = g_strnfill(5000, 'x');
	char *huge = g_strdup_printf("Digest realm=\"%s\", nonce=\"n\"", longv);

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_test_message("case %zu", i);
		g_assert_cmpint(sip_digest_verify(bad[i], "REGISTER", "r", "a", ha1, SIP_DIGEST_MD5,
		                                  key, 1),
		                ==, SIP_DIGEST_MALFORMED);
	}
	g_assert_cmpint(sip_digest_parse_challenge(bad[4], &ch), !=, 0);
	g_assert_cmpint(sip_digest_parse_challenge(huge, &ch), !=, 0);
	g_assert_null(sip_digest_username("garbage"));
	g_free(huge);
	g_free(longv);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sip_digest/rfc2617", test_rfc2617);
	g_test_add_func("/sip_digest/rfc7616", test_rfc7616);
	g_test_add_func("/sip_digest/verify", test_verify);
	g_test_add_func("/sip_digest/algorithm", test_algorithm);
	g_test_add_func("/sip_digest/hostile", test_hostile);
	return g_test_run();
}
