/* Unit tests for relay/rtcp and relay/rtp_rx: compound RTCP, report blocks, loss, jitter, MOS. */
#include <glib.h>
#include <string.h>

#include "relay/rtcp.h"
#include "relay/rtp_rx.h"

/* An SR from 0x11223344 with one report block on 0x55667788, then an SDES. */
static const uint8_t sr_sdes[] = {
	0x81, 200,  0x00, 0x0c, 0x11, 0x22, 0x33, 0x44, /* V=2 RC=1 SR len=12 */
	0xe5, 0x0c, 0x7a, 0x00, 0x80, 0x00, 0x00, 0x00, /* NTP */
	0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x64, /* RTP ts 1000, 100 packets */
	0x00, 0x00, 0x3e, 0x80,                         /* 16000 octets */
	0x55, 0x66, 0x77, 0x88, 0x40, 0xff, 0xff, 0xfe, /* fraction 64, lost -2 */
	0x00, 0x01, 0x00, 0x10, 0x00, 0x00, 0x00, 0x50, /* ext seq 65552, jitter 80 */
	0xb7, 0x05, 0x20, 0x00, 0x00, 0x05, 0x40, 0x00, /* LSR, DLSR */
	0x81, 202,  0x00, 0x02, 0x11, 0x22, 0x33, 0x44, /* SDES len=2 */
	0x01, 0x01, 0x61, 0x00,                         /* CNAME "a", end */
};

static void test_read_sr(void)
{
	struct rtcp_info in;
	const struct rtcp_block *b = &in.block[0];

	g_assert_cmpint(rtcp_read(sr_sdes, sizeof(sr_sdes), &in), ==, 0);
	g_assert_cmpuint(in.n_packets, ==, 2);
	g_assert_true(in.has_sr);
	g_assert_cmphex(in.sr_ssrc, ==, 0x11223344);
	g_assert_cmphex(in.sr_ntp, ==, 0xe50c7a0080000000ULL);
	g_assert_cmpuint(in.sr_rtp_ts, ==, 1000);
	g_assert_cmpuint(in.sr_packets, ==, 100);
	g_assert_cmpuint(in.sr_octets, ==, 16000);
	g_assert_cmpuint(in.n_blocks, ==, 1);
	g_assert_cmphex(b->reporter, ==, 0x11223344);
	g_assert_cmphex(b->ssrc, ==, 0x55667788);
	g_assert_cmpuint(b->fraction, ==, 64);
	g_assert_cmpint(b->lost, ==, -2);
	g_assert_cmpuint(b->ext_seq, ==, 65552);
	g_assert_cmpuint(b->jitter, ==, 80);
	g_assert_cmphex(b->lsr, ==, 0xb7052000);
	g_assert_cmphex(b->dlsr, ==, 0x00054000);
	g_assert_false(in.bye);
}

/* Hostile and malformed compounds: each is refused whole. */
static void test_malformed(void)
{
	struct rtcp_info in;
	uint8_t b[sizeof(sr_sdes)];
	static const struct {
		size_t off;
		uint8_t val;
		size_t len;
		const char *what;
	} cases[] = {
		{ 0, 0x41, sizeof(sr_sdes), "version 1" },
		{ 0, 0x82, sizeof(sr_sdes), "two blocks in the room of one" },
		{ 3, 0x0d, sizeof(sr_sdes), "length past the end" },
		{ 0, 0xa1, sizeof(sr_sdes), "padding on the first of two" },
		{ 52, 0xa1, sizeof(sr_sdes), "padding count 0 on the last" },
		{ 0, 0x81, 3, "shorter than a header" },
		{ 0, 0x81, 50, "cut in the second packet" },
		{ 0, 0x81, 0, "empty" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		memcpy(b, sr_sdes, sizeof(b));
		b[cases[i].off] = cases[i].val;
		if (cases[i].off == 52)
			b[sizeof(b) - 1] = 0;
		g_test_message("%s", cases[i].what);
		g_assert_cmpint(rtcp_read(b, cases[i].len, &in), ==, EBADMSG);
	}
	/* padding on the last packet, with a sane count, is fine */
	memcpy(b, sr_sdes, sizeof(b));
	b[52] = 0xa1;
	b[sizeof(b) - 1] = 4;
	g_assert_cmpint(rtcp_read(b, sizeof(b), &in), ==, 0);
	/* padding count larger than the packet's body */
	b[sizeof(b) - 1] = 9;
	g_assert_cmpint(rtcp_read(b, sizeof(b), &in), ==, EBADMSG);
}

static void test_write_rr_roundtrip(void)
{
	struct rtcp_block blocks[3], back;
	struct rtcp_info in;
	uint8_t buf[128];
	size_t len;

	for (unsigned i = 0; i < 3; i++) {
		memset(&blocks[i], 0, sizeof(blocks[i]));
		blocks[i].ssrc = 0xa0000000u + i;
		blocks[i].fraction = (uint8_t)(10 * i);
		blocks[i].lost = i == 2 ? 0x1000000 : -(int32_t)i; /* the third is clamped */
		blocks[i].ext_seq = 70000 + i;
		blocks[i].jitter = 33;
		blocks[i].lsr = 0x12345678;
		blocks[i].dlsr = 0x10000;
	}
	g_assert_cmpuint(rtcp_write_rr(7, blocks, 3, buf, 8 + 3 * 24 - 1), ==, 0);
	len = rtcp_write_rr(7, blocks, 3, buf, sizeof(buf));
	g_assert_cmpuint(len, ==, 8 + 3 * 24);
	g_assert_cmpint(rtcp_read(buf, len, &in), ==, 0);
	g_assert_false(in.has_sr);
	g_assert_cmpuint(in.n_blocks, ==, 3);
	for (unsigned i = 0; i < 3; i++) {
		back = in.block[i];
		g_assert_cmpuint(back.reporter, ==, 7);
		g_assert_cmphex(back.ssrc, ==, blocks[i].ssrc);
		g_assert_cmpuint(back.fraction, ==, blocks[i].fraction);
		g_assert_cmpint(back.lost, ==, i == 2 ? 0x7fffff : blocks[i].lost);
		g_assert_cmpuint(back.ext_seq, ==, blocks[i].ext_seq);
	}
}

/* RFC 3550 §6.4.1 Figure 2 on our own clock: A=0xb710:8000, LSR=0xb705:2000, DLSR=0x0005:4000
 * → 6.125 s. */
static void test_rtt(void)
{
	struct rtcp_sr_track t = { 0 };

	/* the SR of LSR 0xb705:2000 left at 1 s; A = 0xb710:8000 is 11.375 s later */
	rtcp_sr_sent(&t, 0x0000b70520000000ULL, 1000000);
	g_assert_cmpint(rtcp_sr_rtt(&t, 0xb7052000, 0x00054000, 1000000 + 11375000), ==, 6125000);
	g_assert_cmphex(rtcp_ntp_mid(0x0001b71080000000ULL), ==, 0xb7108000);
}

/* SRs sent toward a peer, its RR naming the second: RTT on our clock, minus its DLSR. */
static void test_sr_track(void)
{
	struct rtcp_sr_track t = { 0 };

	for (unsigned i = 0; i < 6; i++)
		rtcp_sr_sent(&t, 0x0000123400000000ULL + ((uint64_t)i << 32),
		             1000000 + i * 5000000);
	/* SR 4 (mid 0x12380000) left at 21 s; the report comes at 21.5 s after 0.25 s held */
	g_assert_cmpint(rtcp_sr_rtt(&t, 0x12380000, 0x4000, 21500000), ==, 250000);
	/* SR 0 has been forgotten (four kept); an LSR of 0 means none */
	g_assert_cmpint(rtcp_sr_rtt(&t, 0x12340000, 0, 30000000), ==, -1);
	g_assert_cmpint(rtcp_sr_rtt(&t, 0, 0, 30000000), ==, -1);
	/* a DLSR longer than the time since: refused, not negative */
	g_assert_cmpint(rtcp_sr_rtt(&t, 0x12380000, 0x20000, 21500000), ==, -1);
}

static void feed(struct rtp_rx *r, uint16_t seq0, unsigned n, unsigned skip_every, int64_t *t)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t seq = (uint16_t)(seq0 + i);

		*t += 20000;
		if (skip_every && i % skip_every == skip_every - 1)
			continue;
		rtp_rx_update(r, seq, (uint32_t)(seq * 160u), *t);
	}
}

static void test_rx_loss_and_wrap(void)
{
	struct rtp_rx r;
	struct rtcp_block b;
	int64_t t = 1000000;

	rtp_rx_init(&r, 42, 8000);
	/* 1000 packets over the 16-bit wrap, none lost, steady: no loss, no jitter */
	feed(&r, 65000, 1000, 0, &t);
	g_assert_cmpint(rtp_rx_lost(&r), ==, 0);
	g_assert_cmpuint(rtp_rx_ext_max(&r), ==, 65536 + (uint16_t)(65000 + 999));
	g_assert_cmpuint(rtp_rx_jitter_us(&r), ==, 0);
	rtp_rx_block(&r, &b);
	g_assert_cmpuint(b.fraction, ==, 0);
	/* then every 4th lost: 100 of the 401 expected, 100 * 256 / 401 */
	feed(&r, (uint16_t)(65000 + 1000), 401, 4, &t);
	rtp_rx_block(&r, &b);
	g_assert_cmpuint(b.fraction, ==, 63);
	g_assert_cmpint(b.lost, ==, 100);
	g_assert_cmpuint(b.ssrc, ==, 42);
	/* duplicates are counted, not lost */
	rtp_rx_update(&r, (uint16_t)(65000 + 1398), 0, t);
	g_assert_cmpuint(r.duplicates_or_late, ==, 1);
}

static void test_rx_jitter_and_restart(void)
{
	struct rtp_rx r;
	int64_t t = 0;

	rtp_rx_init(&r, 1, 8000);
	/* arrivals alternate 10 ms early and late around a 20 ms clock */
	for (unsigned i = 0; i < 500; i++)
		rtp_rx_update(&r, (uint16_t)i, i * 160, (int64_t)i * 20000 + (i % 2 ? 10000 : 0));
	/* |D| = 10 ms each time: the estimate converges to 10 ms */
	g_assert_cmpuint(rtp_rx_jitter_us(&r), >, 9000);
	g_assert_cmpuint(rtp_rx_jitter_us(&r), <=, 10000);
	/* a jump of 30000: taken only when the next one follows it (a restart) */
	g_assert_false(rtp_rx_update(&r, 30000, 0, t));
	g_assert_true(rtp_rx_update(&r, 30001, 160, t + 20000));
	g_assert_cmpuint(r.resets, ==, 1);
	g_assert_cmpint(rtp_rx_lost(&r), ==, 0);
}

static void test_mos(void)
{
	double clean = rtp_quality_mos(0, 20), lossy = rtp_quality_mos(5, 20);

	g_assert_cmpfloat(clean, >, 4.3);
	g_assert_cmpfloat(clean, <=, 4.5);
	g_assert_cmpfloat(lossy, <, clean);
	g_assert_cmpfloat(rtp_quality_mos(20, 20), <, lossy);
	g_assert_cmpfloat(rtp_quality_mos(0, 400), <, rtp_quality_mos(0, 100));
	g_assert_cmpfloat(rtp_quality_mos(100, 10000), ==, 1.0);
	g_assert_cmpfloat(rtp_quality_mos(-3, -1), ==, rtp_quality_mos(0, 0));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtcp/read_sr", test_read_sr);
	g_test_add_func("/rtcp/malformed", test_malformed);
	g_test_add_func("/rtcp/write_rr_roundtrip", test_write_rr_roundtrip);
	g_test_add_func("/rtcp/rtt", test_rtt);
	g_test_add_func("/rtcp/sr_track", test_sr_track);
	g_test_add_func("/rtp_rx/loss_and_wrap", test_rx_loss_and_wrap);
	g_test_add_func("/rtp_rx/jitter_and_restart", test_rx_jitter_and_restart);
	g_test_add_func("/rtp_rx/mos", test_mos);
	return g_test_run();
}
