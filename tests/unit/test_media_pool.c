/*
 * Unit tests for relay/media.h, the pool and its sessions: port pairs and
 * exhaustion, workers and their port blocks, local addresses, sessions freed
 * while packets pour in, stop with sessions open, a bad config.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/metrics.h"
#include "media_fixture.h"
#include "relay/media.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	g_assert_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void test_port_exhaustion(void)
{
	int before = count_fds();
	/* 31200-31207: four RTP/RTCP pairs, two sessions */
	struct media_pool *p = pool_start("31200-31207", 1, NULL, NULL);
	struct media_session *s1, *s2, *s3 = NULL;
	struct sockaddr_storage squat = lo_addr(AF_INET, 31202);
	int base = count_fds(), fd;

	/* a port somebody else holds is skipped, its pair with it */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	((struct sockaddr_in *)&squat)->sin_addr.s_addr = htonl(INADDR_ANY);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&squat, len_of(&squat)), ==, 0);
	g_assert_cmpint(media_session_new(p, &s1), ==, 0);
	g_assert_cmpint(leg_port(s1, MEDIA_LEG_A), !=, 31202);
	g_assert_cmpint(leg_port(s1, MEDIA_LEG_B), !=, 31202);
	/* one pair left: not enough for a session, and nothing stays bound */
	g_assert_cmpint(media_session_new(p, &s2), ==, EADDRINUSE);
	g_assert_cmpint(count_fds(), ==, base + 1 + 4);
	close(fd);
	g_assert_cmpint(media_session_new(p, &s2), ==, 0);
	g_assert_cmpint(media_session_new(p, &s3), ==, EADDRINUSE);
	g_assert_null(s3);
	g_assert_cmpint(media_pool_sessions(p), ==, 2);
	g_assert_cmpint(count_fds(), ==, base + 8);
	/* freed sessions give their ports back once their worker has closed them */
	media_session_free(s1);
	media_session_free(s2);
	media_pool_sync(p);
	g_assert_cmpint(count_fds(), ==, base);
	g_assert_cmpint(media_pool_sessions(p), ==, 0);
	g_assert_cmpint(media_session_new(p, &s1), ==, 0);
	g_assert_cmpint(media_session_new(p, &s2), ==, 0);
	media_session_free(s1);
	media_session_free(s2);
	media_pool_stop(p);
	g_assert_cmpint(count_fds(), ==, before);
}

/* Least loaded worker first, each on its own block of the range. */
static void test_workers_and_blocks(void)
{
	struct media_pool *p = pool_start("31300-31399", 2, NULL, NULL);
	struct media_session *s1, *s2, *s3;

	g_assert_cmpint(media_session_new(p, &s1), ==, 0);
	g_assert_cmpint(media_session_new(p, &s2), ==, 0);
	g_assert_cmpint(leg_port(s1, MEDIA_LEG_A) < 31350, !=, leg_port(s2, MEDIA_LEG_A) < 31350);
	g_assert_cmpint(leg_port(s1, MEDIA_LEG_A) < 31350, ==, leg_port(s1, MEDIA_LEG_B) < 31350);
	media_session_free(s1);
	/* s1's worker is the idle one now */
	g_assert_cmpint(media_session_new(p, &s3), ==, 0);
	g_assert_cmpint(leg_port(s3, MEDIA_LEG_A) < 31350, !=, leg_port(s2, MEDIA_LEG_A) < 31350);
	media_session_free(s2);
	media_session_free(s3);
	media_pool_stop(p);
}

static void test_local_address(void)
{
	struct media_pool *p = pool_start("31600-31699", 1, NULL, NULL);
	struct media_pool *nat = pool_start("31100-31199", 1, "203.0.113.7", NULL);
	struct sockaddr_storage lo4 = lo_addr(AF_INET, 5060), lo6 = lo_addr(AF_INET6, 5060), out;
	struct media_session *s, *t;
	char ip[INET6_ADDRSTRLEN];

	g_assert_cmpint(media_session_new(p, &s), ==, 0);
	g_assert_cmpint(media_session_local(s, MEDIA_LEG_B, (struct sockaddr *)&lo4, &out), ==, 0);
	g_assert_cmpint(out.ss_family, ==, AF_INET);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&out)->sin_addr, ip, sizeof(ip));
	g_assert_cmpstr(ip, ==, "127.0.0.1");
	g_assert_cmpint(port_of(&out), ==, leg_port(s, MEDIA_LEG_B));
	if (media_session_local(s, MEDIA_LEG_A, (struct sockaddr *)&lo6, &out) == 0) {
		g_assert_cmpint(out.ss_family, ==, AF_INET6);
		g_assert_true(IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&out)->sin6_addr));
	}
	/* no peer known: some address of this host, never the wildcard */
	g_assert_cmpint(media_session_local(s, MEDIA_LEG_A, NULL, &out), ==, 0);
	g_assert_true(out.ss_family == AF_INET || out.ss_family == AF_INET6);
	if (out.ss_family == AF_INET)
		g_assert_cmpuint(((struct sockaddr_in *)&out)->sin_addr.s_addr, !=, 0);
	g_assert_cmpint(media_session_local(s, 7, NULL, &out), ==, EINVAL);

	/* 1:1 NAT: the public address whatever the peer */
	g_assert_cmpint(media_session_new(nat, &t), ==, 0);
	g_assert_cmpint(media_session_local(t, MEDIA_LEG_A, (struct sockaddr *)&lo4, &out), ==, 0);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&out)->sin_addr, ip, sizeof(ip));
	g_assert_cmpstr(ip, ==, "203.0.113.7");
	g_assert_cmpint(port_of(&out), >=, 31100);
	g_assert_cmpint(port_of(&out), <=, 31198);
	media_session_free(s);
	media_session_free(t);
	media_pool_stop(p);
	media_pool_stop(nat);
}

struct blaster {
	atomic_bool stop;
	uint16_t lo, hi;
	atomic_uint_fast64_t sent;
};

/* Sprays RTP and RTCP at every port of the range until told to stop. */
static gpointer blast(gpointer data)
{
	struct blaster *bl = data;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint8_t buf[PKT];

	while (!atomic_load(&bl->stop)) {
		for (uint16_t port = bl->lo; port <= bl->hi; port++) {
			struct sockaddr_storage to = lo_addr(AF_INET, port);

			make_pkt(buf, port & 1 ? 32 : PKT, port & 1, 7);
			if (sendto(fd, buf, port & 1 ? 32 : PKT, MSG_DONTWAIT,
			           (struct sockaddr *)&to, len_of(&to)) > 0)
				atomic_fetch_add(&bl->sent, 1);
		}
	}
	close(fd);
	return NULL;
}

/* Sessions created and freed while packets pour in: ASan/UBSan watch the worker. */
static void test_free_while_flowing(void)
{
	struct metrics *m = metrics_new();
	struct media_pool *p = pool_start("31400-31599", 2, NULL, m);
	struct peer sink = peer_new(AF_INET);
	struct blaster bl = { .lo = 31400, .hi = 31599 };
	struct media_session *ring[4] = { 0 };
	GThread *t;
	int base = count_fds();

	t = g_thread_new("blaster", blast, &bl);
	for (int i = 0; i < 300; i++) {
		struct media_session **slot = &ring[i % 4];

		media_session_free(*slot);
		*slot = NULL;
		/*
		 * Far faster than calls are ever set up: freed ports come back only
		 * when the (flooded) workers have closed them, so wait for that then.
		 */
		if (media_session_new(p, slot) == EADDRINUSE) {
			media_pool_sync(p);
			g_assert_cmpint(media_session_new(p, slot), ==, 0);
		}
		set_remote(*slot, MEDIA_LEG_A, &sink, NULL);
		set_remote(*slot, MEDIA_LEG_B, &sink, NULL);
		if (i % 5 == 0)
			media_session_set_echo(*slot, MEDIA_LEG_B);
		/* every so often, make sure packets really are flowing through a live session */
		if (i % 50 == 49)
			g_assert_cmpint(recv_pkt(&sink, WAIT_MS, NULL), ==, 7);
	}
	for (int i = 0; i < 4; i++)
		media_session_free(ring[i]);
	atomic_store(&bl.stop, true);
	g_thread_join(t);
	media_pool_sync(p);
	g_assert_cmpint(media_pool_sessions(p), ==, 0);
	g_assert_cmpint(count_fds(), ==, base);
	metrics_collect(m);
	g_assert_cmpint(metrics_get(m, METRIC_MEDIA_PACKETS, (const char *const[]){ "rtp" }), >, 0);
	g_test_message("sent %" G_GUINT64_FORMAT " packets, relayed %" G_GINT64_FORMAT,
	               (guint64)atomic_load(&bl.sent),
	               metrics_get(m, METRIC_MEDIA_PACKETS, (const char *const[]){ "rtp" }));
	media_pool_stop(p);
	metrics_free(m);
	peer_close(&sink);
}

/* Stop with sessions still open closes them (ASan reports any leak). */
static void test_stop_with_sessions(void)
{
	int base = count_fds();
	struct media_pool *p = pool_start("31600-31699", 2, NULL, NULL);
	struct media_session *s;

	for (int i = 0; i < 5; i++)
		g_assert_cmpint(media_session_new(p, &s), ==, 0);
	g_assert_cmpint(media_pool_sessions(p), ==, 5);
	media_pool_stop(p);
	g_assert_cmpint(count_fds(), ==, base);
}

static void test_bad_config(void)
{
	const char *ov[] = { "media.ports=31000-31005", "media.workers=2", NULL };
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	struct conf *c = NULL;
	struct media_pool *p = NULL;
	char *why = NULL;

	g_assert_cmpint(conf_load_data("", 0, "t", ov, &c, errors), ==, 0);
	g_assert_cmpint(media_pool_start(c, NULL, &p, &why), ==, EINVAL);
	g_assert_null(p);
	g_assert_nonnull(strstr(why, "too small"));
	g_free(why);
	conf_free(c);
	g_ptr_array_unref(errors);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	log_init();
	/* made on first use by a worker thread: make it now so fd counts stay level */
	g_main_context_default();
	g_test_add_func("/media/port-exhaustion", test_port_exhaustion);
	g_test_add_func("/media/workers-and-blocks", test_workers_and_blocks);
	g_test_add_func("/media/local-address", test_local_address);
	g_test_add_func("/media/free-while-flowing", test_free_while_flowing);
	g_test_add_func("/media/stop-with-sessions", test_stop_with_sessions);
	g_test_add_func("/media/bad-config", test_bad_config);
	return g_test_run();
}
