/* Unit tests for relay/peer_policy: rule parsing, normalisation, CVE-2020-26262-style bypasses. */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "relay/peer_policy.h"

static struct sockaddr_storage addr(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		g_assert_cmpint(inet_pton(AF_INET6, ip, &s6->sin6_addr), ==, 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		g_assert_cmpint(inet_pton(AF_INET, ip, &s4->sin_addr), ==, 1);
	}
	return ss;
}

static struct peer_rule *rules(const char *spec, size_t *n, bool *self)
{
	struct peer_rule *r = NULL;
	char *why = NULL;

	g_assert_cmpint(peer_rules_parse(spec, true, &r, n, self, &why), ==, 0);
	g_assert_null(why);
	return r;
}

static void test_parse(void)
{
	size_t n;
	bool self;
	struct peer_rule *r = rules(" self, 10.0.0.0/8 ,192.0.2.1:3478-3479,2001:db8::/32,"
	                            "[2001:db8::1]:5000,[fe80::/10]:1-2",
	                            &n, &self);

	g_assert_true(self);
	g_assert_cmpuint(n, ==, 5);
	g_assert_cmpint(r[0].family, ==, AF_INET);
	g_assert_cmpint(r[0].prefix, ==, 8);
	g_assert_cmpuint(r[1].port_min, ==, 3478);
	g_assert_cmpuint(r[1].port_max, ==, 3479);
	g_assert_cmpint(r[1].prefix, ==, 32);
	g_assert_cmpint(r[2].family, ==, AF_INET6);
	g_assert_cmpint(r[2].prefix, ==, 32);
	g_assert_cmpuint(r[2].port_min, ==, 1);
	g_assert_cmpint(r[3].prefix, ==, 128);
	g_assert_cmpuint(r[3].port_min, ==, 5000);
	g_assert_cmpint(r[4].prefix, ==, 10);
	free(r);
	r = rules("", &n, &self);
	g_assert_cmpuint(n, ==, 0);
	g_assert_false(self);
	free(r);
}

static void test_parse_errors(void)
{
	static const char *const bad[] = {
		"10.0.0.0/33",    "10.0.0.0/x",   "host.example", "10.0.0.1:0",
		"10.0.0.1:70000", "10.0.0.1:9-3", "[::1",         "[::1]x",
		"::1/129",        "10.0.0.1:",    "1.2.3.4/",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct peer_rule *r = (struct peer_rule *)0x1;
		size_t n = 77;
		char *why = NULL;

		g_test_message("case %s", bad[i]);
		g_assert_cmpint(peer_rules_parse(bad[i], true, &r, &n, NULL, &why), ==, EINVAL);
		g_assert_nonnull(why);
		g_assert_nonnull(strstr(why, bad[i]));
		g_assert_true(r == (struct peer_rule *)0x1);
		g_assert_cmpuint(n, ==, 77);
		free(why);
	}
	{
		struct peer_rule *r = NULL;
		size_t n = 0;
		char *why = NULL;

		g_assert_cmpint(peer_rules_parse("self", false, &r, &n, NULL, &why), ==, EINVAL);
		g_assert_nonnull(strstr(why, "allowed_peers"));
		free(why);
	}
}

/* The defaults: self only (here 192.0.2.10 ports 10000-20000), nothing denied explicitly. */
static void test_defaults_and_bypasses(void)
{
	static const struct {
		const char *ip;
		uint16_t port;
		enum peer_verdict v;
	} cases[] = {
		{ "192.0.2.10", 10000, PEER_ALLOWED },
		{ "192.0.2.10", 9999, PEER_NOT_ALLOWED },
		{ "192.0.2.11", 10000, PEER_NOT_ALLOWED },
		{ "::ffff:192.0.2.10", 15000, PEER_ALLOWED }, /* mapped form of self */
		{ "127.0.0.1", 10000, PEER_DENIED_SPECIAL },
		{ "127.1.2.3", 10000, PEER_DENIED_SPECIAL },
		{ "0.0.0.0", 10000, PEER_DENIED_SPECIAL }, /* CVE-2020-26262 */
		{ "0.1.2.3", 10000, PEER_DENIED_SPECIAL },
		{ "::", 10000, PEER_DENIED_SPECIAL },
		{ "::1", 10000, PEER_DENIED_SPECIAL },
		{ "::ffff:127.0.0.1", 10000, PEER_DENIED_SPECIAL }, /* mapped loopback */
		{ "::ffff:0.0.0.0", 10000, PEER_DENIED_SPECIAL },
		{ "::127.0.0.1", 10000, PEER_DENIED_SPECIAL }, /* compatible loopback */
		{ "224.0.0.1", 10000, PEER_DENIED_SPECIAL },
		{ "239.255.255.250", 10000, PEER_DENIED_SPECIAL },
		{ "255.255.255.255", 10000, PEER_DENIED_SPECIAL },
		{ "169.254.169.254", 80, PEER_DENIED_SPECIAL }, /* cloud metadata */
		{ "::ffff:169.254.169.254", 80, PEER_DENIED_SPECIAL },
		{ "fe80::1", 10000, PEER_DENIED_SPECIAL },
		{ "ff02::1", 10000, PEER_DENIED_SPECIAL },
		{ "2001:db8::5", 10000, PEER_NOT_ALLOWED },
		{ "8.8.8.8", 53, PEER_NOT_ALLOWED },
	};
	size_t nself;
	struct peer_rule *self = rules("192.0.2.10:10000-20000", &nself, NULL);
	struct peer_policy p = { .self = self, .nself = nself };

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct sockaddr_storage a = addr(cases[i].ip, cases[i].port);

		g_test_message("case %s:%u", cases[i].ip, cases[i].port);
		g_assert_cmpint(peer_policy_check(&p, (struct sockaddr *)&a), ==, cases[i].v);
	}
	free(self);
}

static void test_explicit_allow_and_deny(void)
{
	size_t na, nd;
	struct peer_rule *allow = rules("127.0.0.1:5000-5010, 10.0.0.0/8", &na, NULL);
	struct peer_rule *deny = rules("10.1.0.0/16, [::ffff:10.2.0.0/112]", &nd, NULL);
	struct peer_policy p = { .allow = allow, .nallow = na, .deny = deny, .ndeny = nd };
	struct sockaddr_storage a;

	a = addr("127.0.0.1", 5005); /* loopback, but explicitly allowed */
	g_assert_cmpint(peer_policy_check(&p, (struct sockaddr *)&a), ==, PEER_ALLOWED);
	a = addr("::ffff:127.0.0.1", 5005);
	g_assert_cmpint(peer_policy_check(&p, (struct sockaddr *)&a), ==, PEER_ALLOWED);
	a = addr("127.0.0.1", 5011);
	g_assert_cmpint(peer_policy_check(&p, (struct sockaddr *)&a), ==, PEER_DENIED_SPECIAL);
	a = addr("10.9.9.9", 1);
	g_assert_cmpint(peer_policy_check(&p, (struct sockaddr *)&a), ==, PEER_ALLOWED);
	a = addr("10.1.2.3", 1); /* deny wins over allow */
	g_assert_cmpint(peer_policy_check(&p, (struct sockaddr *)&a), ==, PEER_DENIED_LIST);
	a = addr("::ffff:10.1.2.3", 1);
	g_assert_cmpint(peer_policy_check(&p, (struct sockaddr *)&a), ==, PEER_DENIED_LIST);
	/* a rule written in mapped form is an IPv4 rule, like the peers it is checked against */
	a = addr("10.2.0.1", 1);
	g_assert_cmpint(peer_policy_check(&p, (struct sockaddr *)&a), ==, PEER_DENIED_LIST);
	a = addr("10.3.0.1", 1);
	g_assert_cmpint(peer_policy_check(&p, (struct sockaddr *)&a), ==, PEER_ALLOWED);
	free(allow);
	free(deny);
}

/* A wide allow rule does not open the special ranges; a rule inside one does. */
static void test_wide_rules_keep_special_closed(void)
{
	static const struct {
		const char *ip;
		enum peer_verdict v;
	} cases[] = {
		{ "8.8.8.8", PEER_ALLOWED },
		{ "127.0.0.1", PEER_DENIED_SPECIAL },
		{ "0.0.0.0", PEER_DENIED_SPECIAL },
		{ "169.254.169.254", PEER_DENIED_SPECIAL },
		{ "::ffff:127.0.0.1", PEER_DENIED_SPECIAL },
		{ "::1", PEER_DENIED_SPECIAL },
		{ "2001:db8::1", PEER_ALLOWED },
		{ "127.0.0.2", PEER_ALLOWED },    /* named by 127.0.0.0/24, inside 127/8 */
		{ "10.7.0.1", PEER_DENIED_LIST }, /* "::10.7.0.0/112" is the IPv4 10.7.0.0/16 */
	};
	size_t na, nd;
	struct peer_rule *allow = rules("0.0.0.0/0, ::/0, 127.0.0.2/32", &na, NULL);
	struct peer_rule *deny = rules("::10.7.0.0/112", &nd, NULL);
	struct peer_policy p = { .allow = allow, .nallow = na, .deny = deny, .ndeny = nd };

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct sockaddr_storage a = addr(cases[i].ip, 80);

		g_test_message("case %s", cases[i].ip);
		g_assert_cmpint(peer_policy_check(&p, (struct sockaddr *)&a), ==, cases[i].v);
	}
	free(allow);
	free(deny);
}

static void test_normalise(void)
{
	struct sockaddr_storage in = addr("::ffff:1.2.3.4", 99), out;

	peer_addr_normalise((struct sockaddr *)&in, &out);
	g_assert_cmpint(out.ss_family, ==, AF_INET);
	g_assert_cmphex(ntohl(((struct sockaddr_in *)&out)->sin_addr.s_addr), ==, 0x01020304);
	g_assert_cmpuint(ntohs(((struct sockaddr_in *)&out)->sin_port), ==, 99);
	in = addr("::1", 1);
	peer_addr_normalise((struct sockaddr *)&in, &out);
	g_assert_cmpint(out.ss_family, ==, AF_INET6);
}

static void test_sockaddr_parse(void)
{
	static const char *const bad[] = {
		"",      "1.2.3.4",  "1.2.3.4:",  "1.2.3.4:0",  "1.2.3.4:70000",
		"[::1]", "::1:3478", "host:3478", "[::1]x3478", "1.2.3.4:1-2"
	};
	struct sockaddr_storage ss;

	g_assert_cmpint(peer_sockaddr_parse("192.0.2.9:3478", &ss), ==, 0);
	g_assert_cmpint(ss.ss_family, ==, AF_INET);
	g_assert_cmpuint(ntohs(((struct sockaddr_in *)&ss)->sin_port), ==, 3478);
	g_assert_cmpint(peer_sockaddr_parse("[2001:db8::1]:5349", &ss), ==, 0);
	g_assert_cmpint(ss.ss_family, ==, AF_INET6);
	g_assert_cmpuint(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), ==, 5349);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_test_message("case %s", bad[i]);
		g_assert_cmpint(peer_sockaddr_parse(bad[i], &ss), ==, EINVAL);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/peer-policy/parse", test_parse);
	g_test_add_func("/peer-policy/parse-errors", test_parse_errors);
	g_test_add_func("/peer-policy/defaults-and-bypasses", test_defaults_and_bypasses);
	g_test_add_func("/peer-policy/explicit-allow-and-deny", test_explicit_allow_and_deny);
	g_test_add_func("/peer-policy/normalise", test_normalise);
	g_test_add_func("/peer-policy/wide-rules-keep-special-closed",
	                test_wide_rules_keep_special_closed);
	g_test_add_func("/peer-policy/sockaddr-parse", test_sockaddr_parse);
	return g_test_run();
}
