/* RTCP compound packets: read SR/RR report blocks, write an RR (RFC 3550 §6.4, A.2). Pure. */
#include "relay/rtcp.h"

#include <errno.h>
#include <string.h>

#include "relay/rtp_bytes.h"

#define HDR_LEN     4
#define SENDER_INFO 20 /* NTP (8), RTP timestamp, packet count, octet count */
#define BLOCK_LEN   24

/*
 * Report block (RFC 3550 §6.4.1):
 * +---------------------------------------------------------------+
 * |                 SSRC_n (source being reported on)             |
 * | fraction lost |       cumulative number of packets lost       |
 * |           extended highest sequence number received           |
 * |                      interarrival jitter                      |
 * |                         last SR (LSR)                         |
 * |                   delay since last SR (DLSR)                  |
 * +---------------------------------------------------------------+
 */
static void read_blocks(const uint8_t *p, unsigned count, uint32_t reporter, struct rtcp_info *in)
{
	for (unsigned i = 0; i < count; i++, p += BLOCK_LEN) {
		struct rtcp_block *b;
		uint32_t lost24;

		if (in->n_blocks == RTCP_MAX_BLOCKS) {
			in->blocks_ignored++;
			continue;
		}
		b = &in->block[in->n_blocks++];
		lost24 = rtp_get32(p + 4) & 0xffffff;
		b->reporter = reporter;
		b->ssrc = rtp_get32(p);
		b->fraction = p[4];
		/* sign-extend the 24-bit field (negative after duplicates, §6.4.1) */
		b->lost = (int32_t)(lost24 & 0x800000 ? lost24 | 0xff000000u : lost24);
		b->ext_seq = rtp_get32(p + 8);
		b->jitter = rtp_get32(p + 12);
		b->lsr = rtp_get32(p + 16);
		b->dlsr = rtp_get32(p + 20);
	}
}

/* One SR or RR of plen bytes (header included) into in: 0, or EBADMSG. */
static int read_report(const uint8_t *p, size_t plen, struct rtcp_info *in)
{
	unsigned count = p[0] & 0x1f;
	size_t fixed = HDR_LEN + 4 + (p[1] == RTCP_SR ? SENDER_INFO : 0);
	uint32_t reporter;

	if (plen < fixed + (size_t)count * BLOCK_LEN)
		return EBADMSG;
	reporter = rtp_get32(p + 4);
	if (p[1] == RTCP_SR && !in->has_sr) {
		in->has_sr = 1;
		in->sr_ssrc = reporter;
		in->sr_ntp = (uint64_t)rtp_get32(p + 8) << 32 | rtp_get32(p + 12);
		in->sr_rtp_ts = rtp_get32(p + 16);
		in->sr_packets = rtp_get32(p + 20);
		in->sr_octets = rtp_get32(p + 24);
	}
	read_blocks(p + fixed, count, reporter, in);
	return 0;
}

int rtcp_read(const uint8_t *buf, size_t len, struct rtcp_info *out)
{
	struct rtcp_info in;
	size_t off = 0;

	memset(&in, 0, sizeof(in));
	if (len < HDR_LEN)
		return EBADMSG;
	while (off < len) {
		const uint8_t *p = buf + off;
		size_t plen;

		if (len - off < HDR_LEN || (p[0] >> 6) != 2)
			return EBADMSG;
		plen = ((size_t)(p[2] << 8 | p[3]) + 1) * 4;
		if (plen > len - off)
			return EBADMSG;
		/* padding only on the last packet, and within it (RFC 3550 A.2) */
		if ((p[0] & 0x20) &&
		    (off + plen != len || p[plen - 1] == 0 || p[plen - 1] > plen - HDR_LEN))
			return EBADMSG;
		if ((p[1] == RTCP_SR || p[1] == RTCP_RR) && read_report(p, plen, &in) != 0)
			return EBADMSG;
		if (p[1] == RTCP_BYE)
			in.bye = 1;
		in.n_packets++;
		off += plen;
	}
	*out = in;
	return 0;
}

size_t rtcp_write_rr(uint32_t ssrc, const struct rtcp_block *blocks, unsigned n, uint8_t *buf,
                     size_t cap)
{
	size_t len = HDR_LEN + 4 + (size_t)n * BLOCK_LEN;

	if (n > 31 || cap < len)
		return 0;
	buf[0] = (uint8_t)(0x80 | n);
	buf[1] = RTCP_RR;
	buf[2] = (uint8_t)((len / 4 - 1) >> 8);
	buf[3] = (uint8_t)(len / 4 - 1);
	rtp_put32(buf + 4, ssrc);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = buf + 8 + i * BLOCK_LEN;
		int32_t lost = blocks[i].lost;

		/* clamp to the signed 24-bit field */
		if (lost > 0x7fffff)
			lost = 0x7fffff;
		if (lost < -0x800000)
			lost = -0x800000;
		rtp_put32(p, blocks[i].ssrc);
		rtp_put32(p + 4, (uint32_t)blocks[i].fraction << 24 | ((uint32_t)lost & 0xffffff));
		rtp_put32(p + 8, blocks[i].ext_seq);
		rtp_put32(p + 12, blocks[i].jitter);
		rtp_put32(p + 16, blocks[i].lsr);
		rtp_put32(p + 20, blocks[i].dlsr);
	}
	return len;
}

uint32_t rtcp_ntp_mid(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}

void rtcp_sr_sent(struct rtcp_sr_track *t, uint64_t ntp, int64_t now_us)
{
	unsigned i = t->next++ % RTCP_SR_TRACK;

	t->mid[i] = rtcp_ntp_mid(ntp);
	t->at_us[i] = now_us;
}

int64_t rtcp_sr_rtt(const struct rtcp_sr_track *t, uint32_t lsr, uint32_t dlsr, int64_t now_us)
{
	int64_t dlsr_us = (int64_t)(((uint64_t)dlsr * 1000000) >> 16), rtt;

	if (lsr == 0)
		return -1;
	for (unsigned i = 0; i < RTCP_SR_TRACK; i++) {
		if (t->at_us[i] && t->mid[i] == lsr) {
			rtt = now_us - t->at_us[i] - dlsr_us;
			return rtt >= 0 ? rtt : -1;
		}
	}
	return -1;
}
