/* Helpers of the media unit tests (media_fixture.h): loopback peers, a pool, counters. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "core/conf.h"
#include "media_fixture.h"

struct sockaddr_storage lo_addr(int family, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };

	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_loopback;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	return ss;
}

uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
	                                       : ((const struct sockaddr_in *)ss)->sin_port);
}

socklen_t len_of(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

struct peer peer_new(int family)
{
	struct peer p = { .addr = lo_addr(family, 0) };
	socklen_t len = sizeof(p.addr);

	p.fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (p.fd < 0)
		return p;
	if (bind(p.fd, (struct sockaddr *)&p.addr, len_of(&p.addr)) ||
	    getsockname(p.fd, (struct sockaddr *)&p.addr, &len)) {
		close(p.fd);
		p.fd = -1;
	}
	return p;
}

void peer_close(struct peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

size_t make_pkt(uint8_t *buf, size_t len, bool rtcp, uint8_t seq)
{
	memset(buf, seq, len);
	buf[0] = 0x80;
	buf[1] = rtcp ? 201 : 0;
	return len;
}

int recv_pkt(const struct peer *p, int timeout_ms, uint16_t *from_port)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	uint8_t buf[4096];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	n = recvfrom(p->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	g_assert_cmpint(n, >=, 8);
	if (from_port)
		*from_port = port_of(&from);
	/* every byte past the header is the seq: the payload arrived intact */
	for (ssize_t i = 12; i < n; i++)
		g_assert_cmpint(buf[i], ==, buf[n - 1]);
	return buf[n - 1];
}

struct media_pool *pool_start_ov(const char *const *ov, struct metrics *m)
{
	/* meson runs the media workers' tests again with RTCGATE_MEDIA_IO=syscalls */
	const char *io = g_getenv("RTCGATE_MEDIA_IO");
	gchar *io_ov = g_strdup_printf("media.io=%s", io ? io : "io_uring");
	const char *all[16];
	size_t n = 0;
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	struct conf *c = NULL;
	struct media_pool *p = NULL;
	char *why = NULL;

	for (; ov[n]; n++) {
		g_assert_cmpuint(n, <, G_N_ELEMENTS(all) - 2);
		all[n] = ov[n];
	}
	all[n++] = io_ov;
	all[n] = NULL;
	g_assert_cmpint(conf_load_data("", 0, "t", all, &c, errors), ==, 0);
	g_assert_cmpint(media_pool_start(c, m, &p, &why), ==, 0);
	g_assert_null(why);
	conf_free(c);
	g_ptr_array_unref(errors);
	g_free(io_ov);
	return p;
}

struct media_pool *pool_start(const char *ports, int workers, const char *public_addr,
                              struct metrics *m)
{
	gchar *o1 = g_strdup_printf("media.ports=%s", ports);
	gchar *o2 = g_strdup_printf("media.workers=%d", workers);
	gchar *o3 = g_strdup_printf("media.public_address=%s", public_addr ? public_addr : "");
	const char *ov[] = { o1, o2, o3, NULL };
	struct media_pool *p = pool_start_ov(ov, m);

	g_free(o1);
	g_free(o2);
	g_free(o3);
	return p;
}

uint16_t leg_port(struct media_session *s, enum media_leg leg)
{
	struct sockaddr_storage lo = lo_addr(AF_INET, 9), out;

	g_assert_cmpint(media_session_local(s, leg, (struct sockaddr *)&lo, &out), ==, 0);
	return port_of(&out);
}

void set_remote(struct media_session *s, enum media_leg leg, const struct peer *rtp,
                const struct peer *rtcp)
{
	g_assert_cmpint(
	        media_session_set_remote(s, leg, (const struct sockaddr *)&rtp->addr,
	                                 rtcp ? (const struct sockaddr *)&rtcp->addr : NULL),
	        ==, 0);
}

uint64_t wait_drop(struct media_pool *p, struct media_session *s, enum media_leg leg,
                   enum media_drop why, uint64_t want)
{
	struct media_stats st;

	for (int ms = 0; ms < WAIT_MS; ms++) {
		media_pool_sync(p);
		media_session_stats(s, &st);
		if (st.leg[leg].drops[why] >= want)
			break;
		g_usleep(1000);
	}
	return st.leg[leg].drops[why];
}
