/*
 * Unit tests for relay/ring_gso: datagrams queued on a real io_uring toward
 * loopback sockets, joined into UDP GSO sends; what the receivers get is
 * checked datagram by datagram (sizes, contents, order).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "relay/ring.h"
#include "relay/ring_gso.h"

#define NBUF      200
#define TAG_PLAIN 1u
#define TAG_GROUP 2u
#define SHIFT     4
#define DGRAM_MAX 1500

struct fx {
	struct io_uring ring;
	struct ring_gso gso;
	struct ring_gso_tail tail;
	int tx, rx[2], tx6, rx6;
	struct sockaddr_storage to[2], to6;
	uint8_t buf[NBUF][DGRAM_MAX];
	uint8_t ctl[NBUF][RING_GSO_CTL];
	int next; /* the next buffer id */
	/* completions of the last flush: user_data and result */
	uint64_t cqe_data[NBUF];
	int cqe_res[NBUF], ncqe;
};

static int udp_socket(int family, struct sockaddr_storage *bound)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int big = 4 * 1024 * 1024;
	socklen_t len = sizeof(*bound);

	g_assert_cmpint(fd, >=, 0);
	memset(bound, 0, sizeof(*bound));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)bound;

		s->sin_family = AF_INET;
		s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)bound;

		s->sin6_family = AF_INET6;
		s->sin6_addr = in6addr_loopback;
	}
	g_assert_cmpint(
	        bind(fd, (struct sockaddr *)bound,
	             family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)),
	        ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)bound, &len), ==, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	return fd;
}

static void fx_setup(struct fx *f, gconstpointer ngroups)
{
	struct sockaddr_storage unused;

	memset(f, 0, sizeof(*f));
	g_assert_cmpint(io_uring_queue_init(256, &f->ring, 0), ==, 0);
	ring_gso_init(&f->gso, ngroups ? GPOINTER_TO_INT(ngroups) : 8, true);
	f->tx = udp_socket(AF_INET, &unused);
	f->rx[0] = udp_socket(AF_INET, &f->to[0]);
	f->rx[1] = udp_socket(AF_INET, &f->to[1]);
	f->tx6 = udp_socket(AF_INET6, &unused);
	f->rx6 = udp_socket(AF_INET6, &f->to6);
}

static void fx_teardown(struct fx *f, gconstpointer unused)
{
	(void)unused;
	io_uring_queue_exit(&f->ring);
	ring_gso_free(&f->gso);
	close(f->tx);
	close(f->rx[0]);
	close(f->rx[1]);
	close(f->tx6);
	close(f->rx6);
}

/* Queue a datagram of len bytes toward to: joined, or a plain send. Returns whether it joined. */
static bool queue_to(struct fx *f, int fd, const struct sockaddr_storage *to, size_t len,
                     const void *ctl, size_t ctllen)
{
	int id = f->next++;
	struct ring_dgram d = { .fd = fd,
		                .data = f->buf[id],
		                .len = len,
		                .to = (const struct sockaddr *)to,
		                .tolen = to->ss_family == AF_INET ? sizeof(struct sockaddr_in)
		                                                  : sizeof(struct sockaddr_in6),
		                .ctl = f->ctl[id],
		                .ctllen = ctllen,
		                .id = (uint16_t)id };
	struct io_uring_sqe *sqe;

	g_assert_cmpint(id, <, NBUF);
	g_assert_cmpuint(len, <=, DGRAM_MAX);
	/* every byte says which datagram it belongs to */
	memset(f->buf[id], id, len);
	if (ctllen)
		memcpy(f->ctl[id], ctl, ctllen);
	if (ring_gso_join(&f->ring, &f->gso, &f->tail, &d, TAG_GROUP, SHIFT))
		return true;
	sqe = ring_sqe(&f->ring);
	g_assert_nonnull(sqe);
	ring_prep_sendto(sqe, fd, d.data, len, d.to, d.tolen);
	io_uring_sqe_set_data64(sqe, TAG_PLAIN | (uint64_t)id << SHIFT);
	ring_gso_queued(&f->ring, &f->tail, sqe, &d);
	return false;
}

static bool queue(struct fx *f, int rx, size_t len)
{
	return queue_to(f, f->tx, &f->to[rx], len, NULL, 0);
}

/* Submit, collect every completion (sends complete inline), give groups back. */
static void flush(struct fx *f)
{
	struct io_uring_cqe *cqe;
	int queued = io_uring_submit(&f->ring);

	g_assert_cmpint(queued, >=, 0);
	f->ncqe = 0;
	for (int i = 0; i < queued; i++) {
		g_assert_cmpint(io_uring_wait_cqe(&f->ring, &cqe), ==, 0);
		f->cqe_data[f->ncqe] = cqe->user_data;
		f->cqe_res[f->ncqe++] = cqe->res;
		if ((cqe->user_data & ((1u << SHIFT) - 1)) == TAG_GROUP)
			ring_gso_put(&f->gso, (int)(cqe->user_data >> SHIFT));
		io_uring_cqe_seen(&f->ring, cqe);
	}
}

/* The next datagram on fd is len bytes of datagram id's byte; none left when len is 0. */
static void expect(int fd, int id, size_t len)
{
	uint8_t in[DGRAM_MAX + 1];
	ssize_t n = recv(fd, in, sizeof(in), MSG_DONTWAIT);

	if (!len) {
		g_assert_cmpint(n, <, 0);
		g_assert_cmpint(errno, ==, EAGAIN);
		return;
	}
	g_assert_cmpint(n, ==, (ssize_t)len);
	for (size_t i = 0; i < len; i++)
		g_assert_cmpuint(in[i], ==, (uint8_t)id);
}

static void test_joins(struct fx *f, gconstpointer unused)
{
	(void)unused;
	g_assert_false(queue(f, 0, 100));
	for (int i = 1; i < 5; i++)
		g_assert_true(queue(f, 0, 100));
	flush(f);
	/* one send of five datagrams, which arrive as five */
	g_assert_cmpint(f->ncqe, ==, 1);
	g_assert_cmpuint(f->cqe_data[0] & 0xf, ==, TAG_GROUP);
	g_assert_cmpint(f->cqe_res[0], ==, 500);
	g_assert_cmpuint(ring_gso_group(&f->gso, (int)(f->cqe_data[0] >> SHIFT))->n, ==, 5);
	for (int i = 0; i < 5; i++)
		expect(f->rx[0], i, 100);
	expect(f->rx[0], 0, 0);
	g_assert_cmpint(f->gso.nfree, ==, f->gso.ngroups);
}

static void test_held_ids(struct fx *f, gconstpointer unused)
{
	struct ring_gso_group *g;

	(void)unused;
	queue(f, 0, 80);
	queue(f, 0, 80);
	queue(f, 0, 80);
	g = ring_gso_group(&f->gso, f->tail.group);
	g_assert_cmpuint(g->n, ==, 3);
	/* the buffers the group holds until its completion, in order */
	for (unsigned k = 0; k < g->n; k++)
		g_assert_cmpuint(g->held[k], ==, k);
	flush(f);
}

static void test_short_last_ends(struct fx *f, gconstpointer unused)
{
	(void)unused;
	g_assert_false(queue(f, 0, 100));
	g_assert_true(queue(f, 0, 100));
	g_assert_true(queue(f, 0, 60)); /* shorter: the last of the group */
	g_assert_false(queue(f, 0, 100));
	g_assert_false(queue(f, 0, 120)); /* longer than the segments: alone */
	flush(f);
	g_assert_cmpint(f->ncqe, ==, 3);
	g_assert_cmpint(f->cqe_res[0], ==, 260);
	expect(f->rx[0], 0, 100);
	expect(f->rx[0], 1, 100);
	expect(f->rx[0], 2, 60);
	expect(f->rx[0], 3, 100);
	expect(f->rx[0], 4, 120);
	expect(f->rx[0], 0, 0);
}

static void test_other_destination(struct fx *f, gconstpointer unused)
{
	(void)unused;
	g_assert_false(queue(f, 0, 100));
	g_assert_false(queue(f, 1, 100));
	/* back to the first: its send is no longer the last one queued */
	g_assert_false(queue(f, 0, 100));
	g_assert_true(queue(f, 0, 100));
	/* another socket toward the same address: a different source */
	g_assert_false(queue_to(f, f->rx[1], &f->to[0], 100, NULL, 0));
	flush(f);
	g_assert_cmpint(f->ncqe, ==, 4);
	expect(f->rx[0], 0, 100);
	expect(f->rx[0], 2, 100);
	expect(f->rx[0], 3, 100);
	expect(f->rx[0], 4, 100);
	expect(f->rx[0], 0, 0);
	expect(f->rx[1], 1, 100);
	expect(f->rx[1], 0, 0);
}

static void test_not_after_submit(struct fx *f, gconstpointer unused)
{
	(void)unused;
	g_assert_false(queue(f, 0, 100));
	g_assert_cmpint(io_uring_submit(&f->ring), ==, 1);
	/* the send left: nothing can join it any more */
	g_assert_false(queue(f, 0, 100));
	g_assert_true(queue(f, 0, 100));
	flush(f);
	expect(f->rx[0], 0, 100);
	expect(f->rx[0], 1, 100);
	expect(f->rx[0], 2, 100);
	expect(f->rx[0], 0, 0);
}

static void test_off(struct fx *f, gconstpointer unused)
{
	(void)unused;
	f->gso.off = true;
	g_assert_false(queue(f, 0, 100));
	g_assert_false(queue(f, 0, 100));
	flush(f);
	g_assert_cmpint(f->ncqe, ==, 2);
}

static void test_pool_exhausted(struct fx *f, gconstpointer unused)
{
	(void)unused;
	/* one group in the pool (the fixture's argument) */
	g_assert_false(queue(f, 0, 100));
	g_assert_true(queue(f, 0, 100));
	g_assert_false(queue(f, 1, 100));
	g_assert_false(queue(f, 1, 100)); /* no group free: alone, and delivered */
	flush(f);
	g_assert_cmpint(f->ncqe, ==, 3);
	expect(f->rx[0], 0, 100);
	expect(f->rx[0], 1, 100);
	expect(f->rx[1], 2, 100);
	expect(f->rx[1], 3, 100);
	g_assert_cmpint(f->gso.nfree, ==, 1);
}

static void test_limits(struct fx *f, gconstpointer unused)
{
	int joined = 0;

	(void)unused;
	/* at most RING_GSO_SEGS datagrams in one send */
	for (int i = 0; i < RING_GSO_SEGS + 6; i++)
		joined += queue(f, 0, 50);
	g_assert_cmpint(joined, ==, RING_GSO_SEGS - 1 + 5);
	flush(f);
	g_assert_cmpint(f->ncqe, ==, 2);
	g_assert_cmpint(f->cqe_res[0], ==, RING_GSO_SEGS * 50);
	for (int i = 0; i < RING_GSO_SEGS + 6; i++)
		expect(f->rx[0], i, 50);
	/* at most RING_GSO_BYTES: 54 of 1200 bytes */
	f->next = 0;
	joined = 0;
	for (int i = 0; i < 60; i++)
		joined += queue(f, 0, RING_GSO_SEG_MAX);
	g_assert_cmpint(joined, ==, RING_GSO_BYTES / RING_GSO_SEG_MAX - 1 + 5);
	flush(f);
	for (int i = 0; i < 60; i++)
		expect(f->rx[0], i, RING_GSO_SEG_MAX);
	/* larger segments than that are never joined */
	f->next = 0;
	g_assert_false(queue(f, 0, RING_GSO_SEG_MAX + 1));
	g_assert_false(queue(f, 0, RING_GSO_SEG_MAX + 1));
	flush(f);
	expect(f->rx[0], 0, RING_GSO_SEG_MAX + 1);
	expect(f->rx[0], 1, RING_GSO_SEG_MAX + 1);
	expect(f->rx[0], 0, 0);
}

/* A source address set per datagram (IPV6_PKTINFO): it goes with the group, and splits groups. */
static void test_control_data(struct fx *f, gconstpointer unused)
{
	uint8_t ctl[2][CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct in6_addr src[2] = { IN6ADDR_LOOPBACK_INIT, IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in6 from;
	socklen_t fromlen = sizeof(from);
	uint8_t in[200];

	(void)unused;
	/* ::1 twice, the second time with a different interface: two control blocks */
	for (int k = 0; k < 2; k++) {
		struct msghdr h = { .msg_control = ctl[k], .msg_controllen = sizeof(ctl[k]) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&h);
		struct in6_pktinfo pi = { .ipi6_addr = src[k], .ipi6_ifindex = (unsigned)k };

		memset(ctl[k], 0, sizeof(ctl[k]));
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
	g_assert_false(queue_to(f, f->tx6, &f->to6, 100, ctl[0], sizeof(ctl[0])));
	g_assert_true(queue_to(f, f->tx6, &f->to6, 100, ctl[0], sizeof(ctl[0])));
	g_assert_false(queue_to(f, f->tx6, &f->to6, 100, ctl[1], sizeof(ctl[1])));
	g_assert_false(queue_to(f, f->tx6, &f->to6, 100, NULL, 0));
	flush(f);
	g_assert_cmpint(f->ncqe, ==, 3);
	for (int i = 0; i < 4; i++) {
		g_assert_cmpint(recvfrom(f->rx6, in, sizeof(in), MSG_DONTWAIT,
		                         (struct sockaddr *)&from, &fromlen),
		                ==, 100);
		g_assert_cmpuint(in[0], ==, i);
		g_assert_true(IN6_IS_ADDR_LOOPBACK(&from.sin6_addr));
	}
}

static void test_refused(void)
{
	struct ring_gso g;

	ring_gso_init(&g, 2, true);
	/* what any datagram could meet: not GSO's fault */
	g_assert_false(ring_gso_refused(&g, -EAGAIN));
	g_assert_false(ring_gso_refused(&g, -ENOBUFS));
	g_assert_false(ring_gso_refused(&g, -ECONNREFUSED));
	g_assert_false(g.off);
	g_assert_true(ring_gso_refused(&g, -EIO));
	g_assert_true(g.off);
	ring_gso_free(&g);
	ring_gso_init(&g, 2, false);
	g_assert_true(g.off);
	ring_gso_free(&g);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn, arg) g_test_add("/ring-gso/" path, struct fx, arg, fx_setup, fn, fx_teardown)
	ADD("joins", test_joins, NULL);
	ADD("held-ids", test_held_ids, NULL);
	ADD("short-last-ends", test_short_last_ends, NULL);
	ADD("other-destination", test_other_destination, NULL);
	ADD("not-after-submit", test_not_after_submit, NULL);
	ADD("off", test_off, NULL);
	ADD("pool-exhausted", test_pool_exhausted, GINT_TO_POINTER(1));
	ADD("limits", test_limits, NULL);
	ADD("control-data", test_control_data, NULL);
#undef ADD
	g_test_add_func("/ring-gso/refused", test_refused);
	return g_test_run();
}
