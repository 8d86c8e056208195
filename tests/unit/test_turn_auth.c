/* Unit tests for relay/turn_auth: TURN REST passwords and usernames, address-bound nonces. */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>

#include "relay/turn_auth.h"

static void test_rest_password(void)
{
	char out[TURN_REST_PASSWORD_LEN + 1];

	/* expected values from Python's hmac and base64, computed independently */
	g_assert_cmpint(turn_rest_password((const uint8_t *)"north", 5, "1735689600:alice", out,
	                                   sizeof(out)),
	                ==, 0);
	g_assert_cmpstr(out, ==, "HbvWA6hGDtdv3wflBolXLhvzs0w=");
	g_assert_cmpint(turn_rest_password(NULL, 0, "1:x", out, sizeof(out)), ==, 0);
	g_assert_cmpstr(out, ==, "wBVqeCkzFfbJeptoGEftON2+Q7I=");
	g_assert_cmpint(turn_rest_password((const uint8_t *)"k", 1, "1:x", out, 28), ==, ENOBUFS);
}

static void test_rest_username(void)
{
	static const struct {
		const char *name;
		uint64_t now;
		int rc;
		uint64_t expiry;
		const char *user;
	} cases[] = {
		{ "1735689600:alice", 1735689599, 0, 1735689600, "alice" },
		{ "1735689600", 1, 0, 1735689600, "" },
		{ "1735689600:a:b", 1, 0, 1735689600, "a:b" },
		{ "1735689600:alice", 1735689600, ETIME, 0, NULL },
		{ "1735689600:alice", 1900000000, ETIME, 0, NULL },
		{ "alice", 1, EBADMSG, 0, NULL },
		{ "", 1, EBADMSG, 0, NULL },
		{ ":alice", 1, EBADMSG, 0, NULL },
		{ "17x:alice", 1, EBADMSG, 0, NULL },
		{ "-5:alice", 1, EBADMSG, 0, NULL },
		{ "99999999999999999999999:alice", 1, EBADMSG, 0, NULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint64_t expiry = 42;
		const char *user = "untouched";
		int rc = turn_rest_check(cases[i].name, cases[i].now, &expiry, &user);

		g_test_message("case %s", cases[i].name);
		g_assert_cmpint(rc, ==, cases[i].rc);
		if (rc == 0) {
			g_assert_cmpuint(expiry, ==, cases[i].expiry);
			g_assert_cmpstr(user, ==, cases[i].user);
		} else {
			g_assert_cmpuint(expiry, ==, 42);
			g_assert_cmpstr(user, ==, "untouched");
		}
	}
}

static const uint8_t key[TURN_NONCE_KEY_LEN] = { 7, 7, 7 };

static struct sockaddr_in v4(const char *ip, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, ip, &s.sin_addr);
	return s;
}

static void test_nonce(void)
{
	struct sockaddr_in a = v4("192.0.2.1", 5000), b = v4("192.0.2.1", 5001);
	struct sockaddr_in6 c = { .sin6_family = AF_INET6, .sin6_port = htons(5000) };
	char n[TURN_NONCE_LEN + 1];
	uint8_t other[TURN_NONCE_KEY_LEN] = { 8 };

	g_assert_cmpint(turn_nonce_make(key, 1000, 600, TURN_NONCE_FEATURE_PASSWORD_ALGORITHMS,
	                                (struct sockaddr *)&a, n, sizeof(n)),
	                ==, 0);
	g_assert_cmpuint(strlen(n), ==, TURN_NONCE_LEN);
	/* cookie, then base64 of the 24 feature bits: 0x800000 → "gAAA" */
	g_assert_true(g_str_has_prefix(n, "obMatJos2gAAA"));

	g_assert_cmpint(turn_nonce_check(key, 1000, n, strlen(n), (struct sockaddr *)&a), ==, 0);
	g_assert_cmpint(turn_nonce_check(key, 1599, n, strlen(n), (struct sockaddr *)&a), ==, 0);
	g_assert_cmpint(turn_nonce_check(key, 1600, n, strlen(n), (struct sockaddr *)&a), ==,
	                ESTALE);
	/* bound to the client's address and port */
	g_assert_cmpint(turn_nonce_check(key, 1000, n, strlen(n), (struct sockaddr *)&b), ==,
	                ESTALE);
	g_assert_cmpint(turn_nonce_check(key, 1000, n, strlen(n), (struct sockaddr *)&c), ==,
	                ESTALE);
	/* another server key, a changed feature set, a changed expiry: not valid */
	g_assert_cmpint(turn_nonce_check(other, 1000, n, strlen(n), (struct sockaddr *)&a), ==,
	                ESTALE);
	n[12] = 'B';
	g_assert_cmpint(turn_nonce_check(key, 1000, n, strlen(n), (struct sockaddr *)&a), ==,
	                ESTALE);
}

static void test_nonce_malformed(void)
{
	struct sockaddr_in a = v4("192.0.2.1", 5000);
	char n[TURN_NONCE_LEN + 1];
	static const char *const bad[] = {
		"",
		"obMatJos2",
		"f//499k954d6OL34oL9FSTvy64sA",
		"XXMatJos2gAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"obMatJos2g!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"obMatJos2gAAA%AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_cmpint(
		        turn_nonce_check(key, 1, bad[i], strlen(bad[i]), (struct sockaddr *)&a), ==,
		        EBADMSG);
	g_assert_cmpint(turn_nonce_make(key, 1, 1, 0, (struct sockaddr *)&a, n, TURN_NONCE_LEN), ==,
	                ENOBUFS);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/turn-auth/rest-password", test_rest_password);
	g_test_add_func("/turn-auth/rest-username", test_rest_username);
	g_test_add_func("/turn-auth/nonce", test_nonce);
	g_test_add_func("/turn-auth/nonce-malformed", test_nonce_malformed);
	return g_test_run();
}
