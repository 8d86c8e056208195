/*
 * Unit tests for relay/media.h, plain RTP/RTCP legs: a real media pool on
 * loopback with plain UDP sockets as the peers. Relay both ways, latching,
 * re-INVITE, echo, DSCP, counters, refused sends, quality.
 */
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "core/metrics.h"
#include "media_fixture.h"
#include "relay/media.h"
#include "relay/rtcp.h"

static void send_pkt(const struct peer *from, uint16_t port, bool rtcp, uint8_t seq)
{
	uint8_t buf[PKT];
	struct sockaddr_storage to = lo_addr(from->addr.ss_family, port);
	size_t len = make_pkt(buf, rtcp ? 32 : PKT, rtcp, seq);

	g_assert_cmpint(sendto(from->fd, buf, len, 0, (struct sockaddr *)&to, len_of(&to)), ==,
	                (ssize_t)len);
}

static void test_relay_both_ways(void)
{
	struct media_pool *p = pool_start("31000-31099", 1, NULL, NULL);
	struct peer a = peer_new(AF_INET), ac = peer_new(AF_INET);
	struct peer b = peer_new(AF_INET), bc = peer_new(AF_INET);
	struct media_session *s;
	uint16_t pa, pb, from = 0;

	g_assert_cmpint(media_session_new(p, &s), ==, 0);
	pa = leg_port(s, MEDIA_LEG_A);
	pb = leg_port(s, MEDIA_LEG_B);
	g_assert_cmpint(pa % 2, ==, 0);
	g_assert_cmpint(pb % 2, ==, 0);
	g_assert_cmpint(pa, !=, pb);
	set_remote(s, MEDIA_LEG_A, &a, &ac);
	set_remote(s, MEDIA_LEG_B, &b, &bc);

	/* A → B: RTP leaves from leg B's RTP port, RTCP from the next one */
	send_pkt(&a, pa, false, 1);
	g_assert_cmpint(recv_pkt(&b, WAIT_MS, &from), ==, 1);
	g_assert_cmpint(from, ==, pb);
	send_pkt(&ac, pa + 1, true, 2);
	g_assert_cmpint(recv_pkt(&bc, WAIT_MS, &from), ==, 2);
	g_assert_cmpint(from, ==, pb + 1);
	/* B → A */
	send_pkt(&b, pb, false, 3);
	g_assert_cmpint(recv_pkt(&a, WAIT_MS, &from), ==, 3);
	g_assert_cmpint(from, ==, pa);
	send_pkt(&bc, pb + 1, true, 4);
	g_assert_cmpint(recv_pkt(&ac, WAIT_MS, &from), ==, 4);
	g_assert_cmpint(from, ==, pa + 1);
	/* RTP never crosses over to the RTCP sockets */
	g_assert_cmpint(recv_pkt(&bc, 0, NULL), ==, -1);
	g_assert_cmpint(recv_pkt(&ac, 0, NULL), ==, -1);

	media_session_free(s);
	media_pool_stop(p);
	peer_close(&a);
	peer_close(&ac);
	peer_close(&b);
	peer_close(&bc);
}

/* RTCP defaults to the RTP port + 1 when the SDP has no a=rtcp. */
static void test_rtcp_default_port(void)
{
	struct media_pool *p = pool_start("31000-31099", 1, NULL, NULL);
	struct peer a = peer_new(AF_INET), b = peer_new(AF_INET), bc;
	struct media_session *s;
	struct sockaddr_storage next;
	uint16_t pa;

	/* a socket on b's port + 1 to catch the RTCP (skipped when that port is taken) */
	bc.addr = lo_addr(AF_INET, (uint16_t)(port_of(&b.addr) + 1));
	bc.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	next = bc.addr;
	if (bind(bc.fd, (struct sockaddr *)&next, len_of(&next))) {
		g_test_skip("b's port + 1 is taken");
		goto out;
	}
	g_assert_cmpint(media_session_new(p, &s), ==, 0);
	pa = leg_port(s, MEDIA_LEG_A);
	set_remote(s, MEDIA_LEG_B, &b, NULL);
	send_pkt(&a, pa + 1, true, 9);
	g_assert_cmpint(recv_pkt(&bc, WAIT_MS, NULL), ==, 9);
	media_session_free(s);
out:
	media_pool_stop(p);
	peer_close(&a);
	peer_close(&b);
	peer_close(&bc);
}

static void test_latching(void)
{
	struct media_pool *p = pool_start("31000-31099", 1, NULL, NULL);
	struct peer sdp = peer_new(AF_INET), nat = peer_new(AF_INET);
	struct peer b = peer_new(AF_INET), evil = peer_new(AF_INET);
	struct media_session *s;
	struct media_stats st;
	uint16_t pa, pb;

	g_assert_cmpint(media_session_new(p, &s), ==, 0);
	pa = leg_port(s, MEDIA_LEG_A);
	pb = leg_port(s, MEDIA_LEG_B);
	/* A's SDP names one address; the packets come from another (a NAT rewrote them) */
	set_remote(s, MEDIA_LEG_A, &sdp, NULL);
	set_remote(s, MEDIA_LEG_B, &b, NULL);
	send_pkt(&nat, pa, false, 10);
	g_assert_cmpint(recv_pkt(&b, WAIT_MS, NULL), ==, 10);
	/* B's answer goes to where A's packets came from, not to the SDP address */
	send_pkt(&b, pb, false, 11);
	g_assert_cmpint(recv_pkt(&nat, WAIT_MS, NULL), ==, 11);
	g_assert_cmpint(recv_pkt(&sdp, 0, NULL), ==, -1);

	/* a third party is dropped: the next packet B sees is the marker sent after it */
	send_pkt(&evil, pa, false, 66);
	send_pkt(&evil, pa, false, 67);
	send_pkt(&nat, pa, false, 12);
	g_assert_cmpint(recv_pkt(&b, WAIT_MS, NULL), ==, 12);
	/* and does not steal the return path */
	send_pkt(&b, pb, false, 13);
	g_assert_cmpint(recv_pkt(&nat, WAIT_MS, NULL), ==, 13);
	g_assert_cmpint(recv_pkt(&evil, 0, NULL), ==, -1);

	media_pool_sync(p);
	media_session_stats(s, &st);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].drops[MEDIA_DROP_NOT_LATCHED], ==, 2);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_in, ==, 2);
	g_assert_cmpuint(st.leg[MEDIA_LEG_B].packets_out, ==, 2);
	g_assert_cmpuint(st.leg[MEDIA_LEG_B].drops[MEDIA_DROP_NOT_LATCHED], ==, 0);

	media_session_free(s);
	media_pool_stop(p);
	peer_close(&sdp);
	peer_close(&nat);
	peer_close(&b);
	peer_close(&evil);
}

/* A re-INVITE to a new address moves the destination; the same address again keeps the latch. */
static void test_reinvite(void)
{
	struct media_pool *p = pool_start("31000-31099", 1, NULL, NULL);
	struct peer a = peer_new(AF_INET), b1 = peer_new(AF_INET), b1nat = peer_new(AF_INET);
	struct peer b2 = peer_new(AF_INET);
	struct media_session *s;
	uint16_t pa, pb;

	g_assert_cmpint(media_session_new(p, &s), ==, 0);
	pa = leg_port(s, MEDIA_LEG_A);
	pb = leg_port(s, MEDIA_LEG_B);
	set_remote(s, MEDIA_LEG_B, &b1, NULL);
	send_pkt(&b1nat, pb, false, 20); /* latches B on b1nat; A has no remote yet */
	g_assert_cmpuint(wait_drop(p, s, MEDIA_LEG_B, MEDIA_DROP_NO_REMOTE, 1), ==, 1);
	send_pkt(&a, pa, false, 21);
	g_assert_cmpint(recv_pkt(&b1nat, WAIT_MS, NULL), ==, 21);
	/* hold/resume: same SDP address, the latch stays */
	set_remote(s, MEDIA_LEG_B, &b1, NULL);
	send_pkt(&a, pa, false, 22);
	g_assert_cmpint(recv_pkt(&b1nat, WAIT_MS, NULL), ==, 22);
	/* a new address: packets go there at once */
	set_remote(s, MEDIA_LEG_B, &b2, NULL);
	send_pkt(&a, pa, false, 23);
	g_assert_cmpint(recv_pkt(&b2, WAIT_MS, NULL), ==, 23);
	g_assert_cmpint(recv_pkt(&b1, 0, NULL), ==, -1);
	g_assert_cmpint(recv_pkt(&b1nat, 0, NULL), ==, -1);

	media_session_free(s);
	media_pool_stop(p);
	peer_close(&a);
	peer_close(&b1);
	peer_close(&b1nat);
	peer_close(&b2);
}

static void test_echo(void)
{
	struct media_pool *p = pool_start("31000-31099", 1, NULL, NULL);
	struct peer a = peer_new(AF_INET), x = peer_new(AF_INET), b = peer_new(AF_INET);
	struct media_session *s;
	struct media_stats st;
	uint16_t pa, pb, from = 0;

	g_assert_cmpint(media_session_new(p, &s), ==, 0);
	pa = leg_port(s, MEDIA_LEG_A);
	pb = leg_port(s, MEDIA_LEG_B);
	media_session_set_echo(s, MEDIA_LEG_B);
	/* the browser hears itself, from the port it sends to */
	send_pkt(&a, pa, false, 30);
	g_assert_cmpint(recv_pkt(&a, WAIT_MS, &from), ==, 30);
	g_assert_cmpint(from, ==, pa);
	send_pkt(&a, pa + 1, true, 31);
	g_assert_cmpint(recv_pkt(&a, WAIT_MS, &from), ==, 31);
	g_assert_cmpint(from, ==, pa + 1);
	/* what arrives at leg B goes back to its source too */
	send_pkt(&x, pb, false, 32);
	g_assert_cmpint(recv_pkt(&x, WAIT_MS, &from), ==, 32);
	g_assert_cmpint(from, ==, pb);
	/* nothing is relayed across, even to an address set afterwards */
	set_remote(s, MEDIA_LEG_B, &b, NULL);
	send_pkt(&a, pa, false, 33);
	g_assert_cmpint(recv_pkt(&a, WAIT_MS, NULL), ==, 33);
	g_assert_cmpint(recv_pkt(&b, 0, NULL), ==, -1);

	media_pool_sync(p);
	media_session_stats(s, &st);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_in, ==, 3);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_out, ==, 3);
	g_assert_cmpuint(st.leg[MEDIA_LEG_B].packets_out, ==, 1);
	media_session_free(s);
	media_pool_stop(p);
	peer_close(&a);
	peer_close(&x);
	peer_close(&b);
}

/* The TOS / traffic class byte of the next datagram on fd (-1: none or not reported). */
static int recv_tos(int fd, int family)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t buf[2048], ctl[256];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr h = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)
	};

	if (poll(&pfd, 1, WAIT_MS) != 1 || recvmsg(fd, &h, 0) < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
		if (family == AF_INET && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS)
			return *(uint8_t *)CMSG_DATA(c);
		if (family == AF_INET6 && c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_TCLASS) {
			int v;

			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return v;
		}
	}
	return -1;
}

/* DSCP EF on what leaves the media sockets, seen by the receiver, over IPv4 and IPv6. */
static void test_dscp(void)
{
	struct media_pool *p = pool_start("31000-31099", 1, NULL, NULL);
	int one = 1;

	for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
		struct peer a = peer_new(family), b = peer_new(family);
		struct media_session *s;
		uint16_t pa;

		if (a.fd < 0 || b.fd < 0) {
			g_test_message("no %s loopback: skipped",
			               family == AF_INET ? "IPv4" : "IPv6");
			peer_close(&a);
			peer_close(&b);
			continue;
		}
		if (family == AF_INET)
			setsockopt(b.fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
		else
			setsockopt(b.fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one));
		g_assert_cmpint(media_session_new(p, &s), ==, 0);
		pa = leg_port(s, MEDIA_LEG_A);
		set_remote(s, MEDIA_LEG_B, &b, NULL);
		send_pkt(&a, pa, false, 40);
		g_assert_cmpint(recv_tos(b.fd, family), ==, 46 << 2);
		media_session_free(s);
		peer_close(&a);
		peer_close(&b);
	}
	media_pool_stop(p);
}

static void test_counters_and_metrics(void)
{
	struct metrics *m = metrics_new();
	struct media_pool *p = pool_start("31000-31099", 2, NULL, m);
	struct peer a = peer_new(AF_INET), b = peer_new(AF_INET), bc = peer_new(AF_INET);
	struct media_session *s;
	struct media_stats st;
	uint16_t pa, pb;
	uint8_t junk[40] = { 0 };
	struct sockaddr_storage to;

	g_assert_cmpint(media_session_new(p, &s), ==, 0);
	pa = leg_port(s, MEDIA_LEG_A);
	pb = leg_port(s, MEDIA_LEG_B);
	set_remote(s, MEDIA_LEG_B, &b, &bc);
	for (int i = 0; i < 5; i++) {
		send_pkt(&a, pa, false, (uint8_t)i);
		g_assert_cmpint(recv_pkt(&b, WAIT_MS, NULL), ==, i);
	}
	for (int i = 0; i < 3; i++) {
		send_pkt(&b, pb, false, (uint8_t)(50 + i));
		g_assert_cmpint(recv_pkt(&a, WAIT_MS, NULL), ==, 50 + i);
	}
	send_pkt(&a, pa + 1, true, 60);
	g_assert_cmpint(recv_pkt(&bc, WAIT_MS, NULL), ==, 60);
	/* not RTP (version 0): dropped before it can latch; the marker after it gets through */
	to = lo_addr(AF_INET, pa);
	sendto(a.fd, junk, sizeof(junk), 0, (struct sockaddr *)&to, len_of(&to));
	send_pkt(&a, pa, false, 61);
	g_assert_cmpint(recv_pkt(&b, WAIT_MS, NULL), ==, 61);

	media_pool_sync(p);
	media_session_stats(s, &st);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_in, ==, 7);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].bytes_in, ==, 6 * PKT + 32);
	g_assert_cmpuint(st.leg[MEDIA_LEG_B].packets_out, ==, 7);
	g_assert_cmpuint(st.leg[MEDIA_LEG_B].bytes_out, ==, 6 * PKT + 32);
	g_assert_cmpuint(st.leg[MEDIA_LEG_B].packets_in, ==, 3);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_out, ==, 3);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].bytes_out, ==, 3 * PKT);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].drops[MEDIA_DROP_MALFORMED], ==, 1);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].drops[MEDIA_DROP_NOT_LATCHED], ==, 0);

	metrics_collect(m);
	g_assert_cmpint(metrics_get(m, METRIC_MEDIA_SESSIONS, NULL), ==, 1);
	g_assert_cmpint(metrics_get(m, METRIC_MEDIA_PACKETS, (const char *const[]){ "rtp" }), ==,
	                9);
	g_assert_cmpint(metrics_get(m, METRIC_MEDIA_PACKETS, (const char *const[]){ "rtcp" }), ==,
	                1);
	g_assert_cmpint(metrics_get(m, METRIC_MEDIA_BYTES, (const char *const[]){ "rtp" }), ==,
	                9 * PKT);
	g_assert_cmpint(metrics_get(m, METRIC_MEDIA_DROPPED, (const char *const[]){ "malformed" }),
	                ==, 1);
	g_assert_cmpint(
	        metrics_get(m, METRIC_MEDIA_DROPPED, (const char *const[]){ "not_latched" }), ==,
	        0);
	media_session_free(s);
	metrics_collect(m);
	g_assert_cmpint(metrics_get(m, METRIC_MEDIA_SESSIONS, NULL), ==, 0);
	/* totals outlive the session */
	g_assert_cmpint(metrics_get(m, METRIC_MEDIA_PACKETS, (const char *const[]){ "rtp" }), ==,
	                9);
	media_pool_stop(p);
	metrics_free(m);
	peer_close(&a);
	peer_close(&b);
	peer_close(&bc);
}

/*
 * A send the kernel refuses (a broadcast address without SO_BROADCAST: EACCES
 * at once) is a send_error drop on the leg it came in on, and never counted
 * out, on the ring (refused at completion) as with sendto.
 */
static void test_send_refused(void)
{
	struct metrics *m = metrics_new();
	struct media_pool *p = pool_start("31000-31099", 1, NULL, m);
	struct peer a = peer_new(AF_INET), b = peer_new(AF_INET);
	struct peer bcast = { .fd = -1, .addr = lo_addr(AF_INET, 9) };
	struct media_session *s;
	struct media_stats st;
	uint16_t pa;

	inet_pton(AF_INET, "127.255.255.255", &((struct sockaddr_in *)&bcast.addr)->sin_addr);
	g_assert_cmpint(media_session_new(p, &s), ==, 0);
	pa = leg_port(s, MEDIA_LEG_A);
	set_remote(s, MEDIA_LEG_B, &bcast, NULL);
	for (int i = 0; i < 3; i++)
		send_pkt(&a, pa, false, (uint8_t)(70 + i));
	g_assert_cmpuint(wait_drop(p, s, MEDIA_LEG_A, MEDIA_DROP_SEND_ERROR, 3), ==, 3);
	media_pool_sync(p);
	media_session_stats(s, &st);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_in, ==, 3);
	g_assert_cmpuint(st.leg[MEDIA_LEG_B].packets_out, ==, 0);
	g_assert_cmpuint(st.leg[MEDIA_LEG_B].bytes_out, ==, 0);
	/* a reachable address again: what the kernel takes is counted out */
	set_remote(s, MEDIA_LEG_B, &b, NULL);
	send_pkt(&a, pa, false, 73);
	g_assert_cmpint(recv_pkt(&b, WAIT_MS, NULL), ==, 73);
	media_pool_sync(p);
	media_session_stats(s, &st);
	g_assert_cmpuint(st.leg[MEDIA_LEG_B].packets_out, ==, 1);
	g_assert_cmpuint(st.leg[MEDIA_LEG_B].bytes_out, ==, PKT);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].drops[MEDIA_DROP_SEND_ERROR], ==, 3);
	metrics_collect(m);
	g_assert_cmpint(metrics_get(m, METRIC_MEDIA_PACKETS, (const char *const[]){ "rtp" }), ==,
	                1);
	g_assert_cmpint(metrics_get(m, METRIC_MEDIA_BYTES, (const char *const[]){ "rtp" }), ==,
	                PKT);
	g_assert_cmpint(metrics_get(m, METRIC_MEDIA_DROPPED, (const char *const[]){ "send_error" }),
	                ==, 3);
	media_session_free(s);
	media_pool_stop(p);
	metrics_free(m);
	peer_close(&a);
	peer_close(&b);
}

/* An RTP packet of seq and timestamp ts from ssrc 0x1234, 172 bytes (20 ms of G.711). */
static void send_rtp(const struct peer *from, uint16_t port, uint16_t seq)
{
	uint8_t buf[172] = { 0x80, 0 };
	struct sockaddr_storage to = lo_addr(from->addr.ss_family, port);
	uint32_t ts = seq * 160u;

	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	buf[4] = (uint8_t)(ts >> 24);
	buf[5] = (uint8_t)(ts >> 16);
	buf[6] = (uint8_t)(ts >> 8);
	buf[7] = (uint8_t)ts;
	buf[10] = 0x12;
	buf[11] = 0x34;
	g_assert_cmpint(sendto(from->fd, buf, sizeof(buf), 0, (struct sockaddr *)&to, len_of(&to)),
	                ==, (ssize_t)sizeof(buf));
}

/* Any datagram on p within WAIT_MS into buf: its length. */
static size_t recv_any(const struct peer *p, uint8_t *buf, size_t cap)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	g_assert_cmpint(poll(&pfd, 1, WAIT_MS), ==, 1);
	return (size_t)recv(p->fd, buf, cap, 0);
}

/*
 * Quality: A's stream loses every fifth packet on its way in (20 of 100), B's
 * SR goes to A, A's RR names it (RTT on rtcgate's clock) and reports a
 * quarter lost; the session's quality says so, and so do the metrics when it
 * ends.
 */
static void test_quality(void)
{
	struct metrics *m = metrics_new();
	struct media_pool *p = pool_start("31000-31099", 1, NULL, m);
	struct peer a = peer_new(AF_INET), ac = peer_new(AF_INET);
	struct peer b = peer_new(AF_INET), bc = peer_new(AF_INET);
	uint8_t sr[28] = { 0x80, 200, 0, 6, 0, 0, 0x56, 0x78, 0x00, 0x00, 0xab, 0xcd, 0x80, 0 };
	struct rtcp_block blk = { .ssrc = 0x5678, .fraction = 64, .lsr = 0xabcd8000 };
	uint8_t buf[256];
	struct sockaddr_storage to;
	struct media_session *s;
	struct media_quality q;
	uint16_t pa, pb;
	size_t len;

	g_assert_cmpint(media_session_new(p, &s), ==, 0);
	pa = leg_port(s, MEDIA_LEG_A);
	pb = leg_port(s, MEDIA_LEG_B);
	set_remote(s, MEDIA_LEG_A, &a, &ac);
	set_remote(s, MEDIA_LEG_B, &b, &bc);
	for (uint16_t i = 0; i <= 100; i++) {
		if (i % 5 == 4)
			continue; /* lost on the way in */
		send_rtp(&a, pa, (uint16_t)(1000 + i));
		g_assert_cmpuint(recv_any(&b, buf, sizeof(buf)), ==, 172);
	}
	/* B's SR reaches A; A's RR about it goes back to B */
	to = lo_addr(AF_INET, (uint16_t)(pb + 1));
	g_assert_cmpint(sendto(bc.fd, sr, sizeof(sr), 0, (struct sockaddr *)&to, len_of(&to)), ==,
	                (ssize_t)sizeof(sr));
	g_assert_cmpuint(recv_any(&ac, buf, sizeof(buf)), ==, sizeof(sr));
	len = rtcp_write_rr(0x1234, &blk, 1, buf, sizeof(buf));
	to = lo_addr(AF_INET, (uint16_t)(pa + 1));
	g_assert_cmpint(sendto(ac.fd, buf, len, 0, (struct sockaddr *)&to, len_of(&to)), ==,
	                (ssize_t)len);
	g_assert_cmpuint(recv_any(&bc, buf, sizeof(buf)), ==, len);

	media_session_quality(s, &q);
	g_assert_cmpuint(q.leg[MEDIA_LEG_A].expected, ==, 100); /* 1001-1100: 1000 was probation */
	g_assert_cmpuint(q.leg[MEDIA_LEG_A].lost, ==, 20);
	g_assert_cmpfloat(q.leg[MEDIA_LEG_A].loss_pct, ==, 20.0);
	g_assert_cmpint(q.leg[MEDIA_LEG_A].rtt_us, >=, 0);
	g_assert_cmpint(q.leg[MEDIA_LEG_A].rtt_us, <, 1000000);
	g_assert_cmpfloat(q.leg[MEDIA_LEG_A].peer_loss_pct, ==, 25.0);
	g_assert_cmpint(q.leg[MEDIA_LEG_B].rtt_us, ==, -1);
	g_assert_cmpfloat(q.leg[MEDIA_LEG_B].peer_loss_pct, ==, -1);
	g_assert_cmpfloat(q.mos, >, 1.0);
	g_assert_cmpfloat(q.mos, <, 3.1); /* a quarter lost */

	media_session_free(s);
	g_assert_cmpint(metrics_get(m, METRIC_MEDIA_RTP_LOST, (const char *const[]){ "a" }), ==,
	                20);
	g_assert_cmpint(metrics_get(m, METRIC_MEDIA_RTP_EXPECTED, (const char *const[]){ "a" }), ==,
	                100);
	g_assert_cmpint(metrics_get(m, METRIC_MEDIA_QUALITY, (const char *const[]){ "bad" }), ==,
	                1);
	media_pool_stop(p);
	metrics_free(m);
	peer_close(&a);
	peer_close(&ac);
	peer_close(&b);
	peer_close(&bc);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	log_init();
	g_test_add_func("/media/relay-both-ways", test_relay_both_ways);
	g_test_add_func("/media/rtcp-default-port", test_rtcp_default_port);
	g_test_add_func("/media/latching", test_latching);
	g_test_add_func("/media/reinvite", test_reinvite);
	g_test_add_func("/media/echo", test_echo);
	g_test_add_func("/media/dscp", test_dscp);
	g_test_add_func("/media/counters-and-metrics", test_counters_and_metrics);
	g_test_add_func("/media/send-refused", test_send_refused);
	g_test_add_func("/media/quality", test_quality);
	return g_test_run();
}
