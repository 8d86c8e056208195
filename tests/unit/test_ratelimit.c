/* Unit tests for relay/ratelimit: bursts, refill, per-IP buckets, the tracking cap. */
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>

#include "relay/ratelimit.h"

static struct sockaddr_storage v4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	inet_pton(AF_INET, ip, &s->sin_addr);
	return ss;
}

static struct sockaddr_storage v6(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &s->sin6_addr);
	return ss;
}

static void test_burst_and_refill(void)
{
	struct ratelimit *rl = ratelimit_new(10, 20, 100);
	struct sockaddr_storage a = v4("192.0.2.1", 1);
	int allowed = 0;

	for (int i = 0; i < 50; i++)
		allowed += ratelimit_allow(rl, (struct sockaddr *)&a, 1000);
	g_assert_cmpint(allowed, ==, 20); /* the burst, then nothing */
	/* 500 ms later: 5 more tokens */
	allowed = 0;
	for (int i = 0; i < 50; i++)
		allowed += ratelimit_allow(rl, (struct sockaddr *)&a, 1500);
	g_assert_cmpint(allowed, ==, 5);
	/* time never runs backwards for a bucket */
	g_assert_false(ratelimit_allow(rl, (struct sockaddr *)&a, 900));
	ratelimit_free(rl);
}

static void test_per_ip_not_port(void)
{
	struct ratelimit *rl = ratelimit_new(1, 2, 100);
	struct sockaddr_storage a1 = v4("192.0.2.1", 1), a2 = v4("192.0.2.1", 2);
	struct sockaddr_storage m = v6("::ffff:192.0.2.1", 3), b = v4("192.0.2.2", 1);

	g_assert_true(ratelimit_allow(rl, (struct sockaddr *)&a1, 0));
	g_assert_true(ratelimit_allow(rl, (struct sockaddr *)&a2, 0));
	g_assert_false(ratelimit_allow(rl, (struct sockaddr *)&m, 0)); /* same IP, mapped */
	g_assert_true(ratelimit_allow(rl, (struct sockaddr *)&b, 0));
	g_assert_cmpuint(ratelimit_sources(rl), ==, 2);
	ratelimit_free(rl);
}

static void test_cap_and_expire(void)
{
	struct ratelimit *rl = ratelimit_new(1, 1, 2);
	struct sockaddr_storage a = v4("192.0.2.1", 1), b = v4("192.0.2.2", 1),
	                        c = v4("192.0.2.3", 1);

	g_assert_true(ratelimit_allow(rl, (struct sockaddr *)&a, 0));
	g_assert_true(ratelimit_allow(rl, (struct sockaddr *)&b, 0));
	/* full table: a third source is let through, untracked */
	for (int i = 0; i < 5; i++)
		g_assert_true(ratelimit_allow(rl, (struct sockaddr *)&c, 0));
	g_assert_cmpuint(ratelimit_sources(rl), ==, 2);
	ratelimit_expire(rl, 500);
	g_assert_cmpuint(ratelimit_sources(rl), ==, 2); /* not full again yet */
	ratelimit_expire(rl, 1000);
	g_assert_cmpuint(ratelimit_sources(rl), ==, 0);
	ratelimit_free(rl);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ratelimit/burst-and-refill", test_burst_and_refill);
	g_test_add_func("/ratelimit/per-ip-not-port", test_per_ip_not_port);
	g_test_add_func("/ratelimit/cap-and-expire", test_cap_and_expire);
	return g_test_run();
}
