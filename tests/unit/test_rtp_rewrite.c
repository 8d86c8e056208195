/* Unit tests for relay/rtp_rewrite: one continuous stream across SSRC changes, RTCP agreeing. */
#include <glib.h>
#include <string.h>

#include "relay/rtcp.h"
#include "relay/rtp_bytes.h"
#include "relay/rtp_rewrite.h"

static void rtp(uint8_t *p, uint32_t ssrc, uint16_t seq, uint32_t ts)
{
	memset(p, 0, 172);
	p[0] = 0x80;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
}

static uint16_t seq_of(const uint8_t *p)
{
	return (uint16_t)(p[2] << 8 | p[3]);
}

static void test_first_source_untouched(void)
{
	struct rtp_rewrite w;
	uint8_t p[172];

	rtp_rewrite_init(&w, 8000);
	for (uint16_t i = 0; i < 10; i++) {
		rtp(p, 0xaaaa, (uint16_t)(65530 + i), 1000u + i * 160u);
		g_assert_true(rtp_rewrite_rtp(&w, p, sizeof(p), i * 20000));
		g_assert_cmpuint(seq_of(p), ==, (uint16_t)(65530 + i));
		g_assert_cmpuint(rtp_get32(p + 4), ==, 1000u + i * 160u);
		g_assert_cmphex(rtp_get32(p + 8), ==, 0xaaaa);
	}
	g_assert_false(rtp_rewrite_rtp(&w, p, 11, 0));
}

/* A re-INVITE brings a new source 1 s later with its own numbers: the stream goes on. */
static void test_new_source_continues(void)
{
	struct rtp_rewrite w;
	uint8_t p[172];
	int64_t t = 0;

	rtp_rewrite_init(&w, 8000);
	for (uint16_t i = 0; i < 50; i++, t += 20000) {
		rtp(p, 0xaaaa, (uint16_t)(100 + i), 5000u + i * 160u);
		rtp_rewrite_rtp(&w, p, sizeof(p), t);
	}
	/* last out: seq 149, ts 5000 + 49*160 = 12840 at t = 980 ms */
	t = 980000 + 1000000;
	rtp(p, 0xbbbb, 40000, 777777);
	g_assert_true(rtp_rewrite_rtp(&w, p, sizeof(p), t));
	g_assert_cmpuint(seq_of(p), ==, 150);
	g_assert_cmpuint(rtp_get32(p + 4), ==, 12840u + 8000u); /* one second of 8 kHz later */
	g_assert_cmphex(rtp_get32(p + 8), ==, 0xaaaa);
	/* the new source's own spacing is kept: a gap of one stays a gap of one */
	rtp(p, 0xbbbb, 40002, 777777 + 320);
	g_assert_true(rtp_rewrite_rtp(&w, p, sizeof(p), t + 40000));
	g_assert_cmpuint(seq_of(p), ==, 152);
	g_assert_cmpuint(rtp_get32(p + 4), ==, 12840u + 8000u + 320u);
	/* a late packet of the old source is refused and left alone */
	rtp(p, 0xaaaa, 150, 13000);
	g_assert_false(rtp_rewrite_rtp(&w, p, sizeof(p), t + 41000));
	g_assert_cmpuint(seq_of(p), ==, 150);
	g_assert_cmpuint(w.switches, ==, 1);
}

/* Back to back: a new source at once still moves the timestamp by a frame. */
static void test_immediate_switch(void)
{
	struct rtp_rewrite w;
	uint8_t p[172];

	rtp_rewrite_init(&w, 48000);
	rtp(p, 1, 10, 0);
	rtp_rewrite_rtp(&w, p, sizeof(p), 0);
	rtp(p, 2, 9999, 123);
	rtp_rewrite_rtp(&w, p, sizeof(p), 0);
	g_assert_cmpuint(seq_of(p), ==, 11);
	g_assert_cmpuint(rtp_get32(p + 4), ==, 960); /* 20 ms at 48 kHz */
}

/* An SR of the new source names the out SSRC; an RR about the out SSRC names the source. */
static void test_rtcp_agrees(void)
{
	struct rtp_rewrite fwd, rev;
	struct rtcp_block blk = { .ssrc = 0xaaaa };
	uint8_t p[172], sr[28] = { 0x80, RTCP_SR, 0x00, 0x06, 0x00, 0x00, 0xbb, 0xbb };
	uint8_t rr[64];
	size_t len;

	rtp_rewrite_init(&fwd, 8000);
	rtp_rewrite_init(&rev, 8000);
	rtp(p, 0xaaaa, 1, 0);
	rtp_rewrite_rtp(&rev, p, sizeof(p), 0);
	rtp(p, 0xbbbb, 1, 0);
	rtp_rewrite_rtp(&rev, p, sizeof(p), 20000); /* rev: in 0xbbbb, out 0xaaaa */
	rtp(p, 0xcccc, 1, 0);
	rtp_rewrite_rtp(&fwd, p, sizeof(p), 0);
	rtp(p, 0xdddd, 1, 0);
	rtp_rewrite_rtp(&fwd, p, sizeof(p), 20000); /* fwd: in 0xdddd, out 0xcccc */
	/* fwd's source sends an SR: the sender becomes 0xcccc */
	sr[4] = 0;
	sr[5] = 0;
	sr[6] = 0xdd;
	sr[7] = 0xdd;
	rtp_rewrite_rtcp(&fwd, &rev, sr, sizeof(sr));
	g_assert_cmphex(rtp_get32(sr + 4), ==, 0xcccc);
	/* an RR about rev's out stream (0xaaaa) goes back naming its source 0xbbbb */
	len = rtcp_write_rr(0xdddd, &blk, 1, rr, sizeof(rr));
	rtp_rewrite_rtcp(&fwd, &rev, rr, len);
	g_assert_cmphex(rtp_get32(rr + 4), ==, 0xcccc);
	g_assert_cmphex(rtp_get32(rr + 8), ==, 0xbbbb);
	/* a length past the buffer stops the walk without writing */
	rr[3] = 0x40;
	rr[4] = 0xee;
	rtp_rewrite_rtcp(&fwd, &rev, rr, len);
	g_assert_cmphex(rr[4], ==, 0xee);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtp_rewrite/first_source_untouched", test_first_source_untouched);
	g_test_add_func("/rtp_rewrite/new_source_continues", test_new_source_continues);
	g_test_add_func("/rtp_rewrite/immediate_switch", test_immediate_switch);
	g_test_add_func("/rtp_rewrite/rtcp_agrees", test_rtcp_agrees);
	return g_test_run();
}
