/* Unit tests for relay/rtp_latch and relay/rtp_check: latching, re-latching, SDP changes. */
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>

#include "relay/rtp_check.h"
#include "relay/rtp_latch.h"

#define SEC 1000000LL

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

#define SA(x) ((const struct sockaddr *)&(x))

static void test_first_packet_latches(void)
{
	struct rtp_latch l;
	struct sockaddr_storage nat = v4("198.51.100.7", 40000), other = v4("203.0.113.9", 5004);

	rtp_latch_init(&l, RTP_RELATCH_USEC);
	g_assert_null(rtp_latch_remote(&l));
	g_assert_cmpint(rtp_latch_check(&l, SA(nat), 1 * SEC), ==, RTP_LATCH_LATCHED);
	g_assert_true(rtp_addr_equal(rtp_latch_remote(&l), SA(nat)));
	g_assert_cmpint(rtp_latch_check(&l, SA(nat), 2 * SEC), ==, RTP_LATCH_OK);
	/* another source while the latched one is alive */
	g_assert_cmpint(rtp_latch_check(&l, SA(other), 2 * SEC + 1), ==, RTP_LATCH_DROP);
	g_assert_true(rtp_addr_equal(rtp_latch_remote(&l), SA(nat)));
	/* same address, other port: another source too */
	other = v4("198.51.100.7", 40002);
	g_assert_cmpint(rtp_latch_check(&l, SA(other), 3 * SEC), ==, RTP_LATCH_DROP);
}

static void test_sdp_then_nat(void)
{
	struct rtp_latch l;
	struct sockaddr_storage sdp = v4("192.168.1.20", 4000), nat = v4("198.51.100.7", 61000);

	rtp_latch_init(&l, RTP_RELATCH_USEC);
	g_assert_true(rtp_latch_set_sdp(&l, SA(sdp), sizeof(sdp)));
	/* the SDP address is where packets go before anything arrives */
	g_assert_true(rtp_addr_equal(rtp_latch_remote(&l), SA(sdp)));
	g_assert_cmpint(rtp_latch_check(&l, SA(nat), 5 * SEC), ==, RTP_LATCH_LATCHED);
	g_assert_true(rtp_addr_equal(rtp_latch_remote(&l), SA(nat)));
	/* hold/resume re-sends the same SDP: the latch stays */
	g_assert_false(rtp_latch_set_sdp(&l, SA(sdp), sizeof(sdp)));
	g_assert_true(rtp_addr_equal(rtp_latch_remote(&l), SA(nat)));
	g_assert_cmpint(rtp_latch_check(&l, SA(sdp), 5 * SEC + 1), ==, RTP_LATCH_DROP);
}

static void test_relatch_after_silence(void)
{
	struct rtp_latch l;
	struct sockaddr_storage a = v4("198.51.100.7", 40000), b = v4("198.51.100.8", 40000);
	int64_t t = 100 * SEC;

	rtp_latch_init(&l, RTP_RELATCH_USEC);
	rtp_latch_check(&l, SA(a), t);
	/* b is refused until a has been silent for the whole interval */
	g_assert_cmpint(rtp_latch_check(&l, SA(b), t + RTP_RELATCH_USEC - 1), ==, RTP_LATCH_DROP);
	/* a refused packet does not refresh a's clock... */
	g_assert_cmpint(rtp_latch_check(&l, SA(b), t + RTP_RELATCH_USEC), ==, RTP_LATCH_LATCHED);
	g_assert_true(rtp_addr_equal(rtp_latch_remote(&l), SA(b)));
	/* ...and now a is the stranger */
	g_assert_cmpint(rtp_latch_check(&l, SA(a), t + RTP_RELATCH_USEC + 1), ==, RTP_LATCH_DROP);
	/* a packet from the latched source keeps it */
	g_assert_cmpint(rtp_latch_check(&l, SA(b), t + 2 * RTP_RELATCH_USEC - 1), ==, RTP_LATCH_OK);
	g_assert_cmpint(rtp_latch_check(&l, SA(a), t + 2 * RTP_RELATCH_USEC + 1), ==,
	                RTP_LATCH_DROP);
}

static void test_new_sdp_releases(void)
{
	struct rtp_latch l;
	struct sockaddr_storage sdp1 = v4("192.0.2.1", 4000), sdp2 = v4("192.0.2.2", 4002);
	struct sockaddr_storage nat = v4("198.51.100.7", 61000), moved = v4("198.51.100.9", 1);

	rtp_latch_init(&l, RTP_RELATCH_USEC);
	rtp_latch_set_sdp(&l, SA(sdp1), sizeof(sdp1));
	rtp_latch_check(&l, SA(nat), SEC);
	/* a re-INVITE to a new address: sent there at once, latched again by the next packet */
	g_assert_true(rtp_latch_set_sdp(&l, SA(sdp2), sizeof(sdp2)));
	g_assert_true(rtp_addr_equal(rtp_latch_remote(&l), SA(sdp2)));
	g_assert_cmpint(rtp_latch_check(&l, SA(moved), SEC + 1), ==, RTP_LATCH_LATCHED);
	g_assert_true(rtp_addr_equal(rtp_latch_remote(&l), SA(moved)));
	/* too short or not IP: refused, nothing changes */
	g_assert_false(rtp_latch_set_sdp(&l, SA(sdp1), 4));
	g_assert_true(rtp_addr_equal(rtp_latch_remote(&l), SA(moved)));
}

static void test_ipv6(void)
{
	struct rtp_latch l;
	struct sockaddr_storage a = { 0 }, b;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a;

	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(5000);
	inet_pton(AF_INET6, "2001:db8::1", &a6->sin6_addr);
	a6->sin6_flowinfo = 77; /* varies per packet: not part of the source */
	b = a;
	((struct sockaddr_in6 *)&b)->sin6_flowinfo = 0;
	rtp_latch_init(&l, RTP_RELATCH_USEC);
	g_assert_cmpint(rtp_latch_check(&l, SA(a), SEC), ==, RTP_LATCH_LATCHED);
	g_assert_cmpint(rtp_latch_check(&l, SA(b), SEC), ==, RTP_LATCH_OK);
	((struct sockaddr_in6 *)&b)->sin6_addr.s6_addr[15] = 2;
	g_assert_cmpint(rtp_latch_check(&l, SA(b), SEC), ==, RTP_LATCH_DROP);
}

static void test_check(void)
{
	static const struct {
		uint8_t b0, b1;
		size_t len;
		bool rtcp, ok;
	} cases[] = {
		{ 0x80, 0x00, 12, false, true },   /* PCMU, minimal header */
		{ 0x80, 0x00, 11, false, false },  /* short */
		{ 0x40, 0x00, 172, false, false }, /* version 1 */
		{ 0x00, 0x01, 20, false, false },  /* STUN */
		{ 0x16, 0xfe, 60, false, false },  /* DTLS */
		{ 0x90, 0xe0, 172, false, true },  /* extension bit, marker */
		{ 0x81, 0xc9, 8, true, true },     /* RR */
		{ 0x80, 0xc8, 28, true, true },    /* SR */
		{ 0x80, 0xc8, 7, true, false },    /* short */
		{ 0x80, 0x00, 28, true, false },   /* RTP on the RTCP port */
		{ 0x80, 0xe0, 28, true, false },   /* 224: outside RTCP's range */
		{ 0xc0, 0xc8, 28, true, false },   /* version 3 */
	};
	uint8_t buf[256] = { 0 };

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		buf[0] = cases[i].b0;
		buf[1] = cases[i].b1;
		g_assert_cmpint(rtp_check(buf, cases[i].len, cases[i].rtcp), ==, cases[i].ok);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtp_latch/first-packet", test_first_packet_latches);
	g_test_add_func("/rtp_latch/sdp-then-nat", test_sdp_then_nat);
	g_test_add_func("/rtp_latch/relatch-after-silence", test_relatch_after_silence);
	g_test_add_func("/rtp_latch/new-sdp-releases", test_new_sdp_releases);
	g_test_add_func("/rtp_latch/ipv6", test_ipv6);
	g_test_add_func("/rtp_latch/check", test_check);
	return g_test_run();
}
