/* One direction's RTP stream kept continuous across source changes (RFC 3550 §5.1, §8.2). Pure. */
#include "relay/rtp_rewrite.h"

#include <string.h>

#include "relay/rtcp.h"
#include "relay/rtp_bytes.h"

#define RTP_HDR 12

void rtp_rewrite_init(struct rtp_rewrite *w, uint32_t clock)
{
	memset(w, 0, sizeof(*w));
	w->clock = clock ? clock : 8000;
}

/* A new source from this packet on: offsets so it goes on where the last one stopped. */
static void take_source(struct rtp_rewrite *w, uint32_t ssrc, uint16_t seq, uint32_t ts,
                        int64_t now)
{
	if (!w->started) {
		w->started = true;
		w->out_ssrc = ssrc;
		w->seq_off = 0;
		w->ts_off = 0;
		w->max_seq_out = (uint16_t)(seq - 1);
		w->max_ts_out = ts;
		w->max_at_us = now;
	} else {
		int64_t gap = now > w->max_at_us ? now - w->max_at_us : 0;
		uint64_t step = (uint64_t)gap * w->clock / 1000000;
		uint64_t frame = w->clock / 50; /* 20 ms */

		if (step < frame)
			step = frame;
		w->seq_off = (uint16_t)(w->max_seq_out + 1 - seq);
		w->ts_off = (uint32_t)(w->max_ts_out + (uint32_t)step - ts);
		w->switches++;
		w->old_ssrc = w->in_ssrc;
	}
	w->in_ssrc = ssrc;
}

bool rtp_rewrite_rtp(struct rtp_rewrite *w, uint8_t *buf, size_t len, int64_t now)
{
	uint32_t ssrc, ts;
	uint16_t seq, out_seq;

	if (len < RTP_HDR)
		return false;
	ssrc = rtp_get32(buf + 8);
	seq = (uint16_t)(buf[2] << 8 | buf[3]);
	ts = rtp_get32(buf + 4);
	if (w->started && ssrc != w->in_ssrc && w->switches && ssrc == w->old_ssrc)
		return false;
	if (!w->started || ssrc != w->in_ssrc)
		take_source(w, ssrc, seq, ts, now);
	out_seq = (uint16_t)(seq + w->seq_off);
	ts += w->ts_off;
	/* newer than anything sent (modular, RFC 3550 A.1's half-space) */
	if ((uint16_t)(out_seq - w->max_seq_out) < 0x8000 && out_seq != w->max_seq_out) {
		w->max_seq_out = out_seq;
		w->max_ts_out = ts;
		w->max_at_us = now;
	}
	buf[2] = (uint8_t)(out_seq >> 8);
	buf[3] = (uint8_t)out_seq;
	rtp_put32(buf + 4, ts);
	rtp_put32(buf + 8, w->out_ssrc);
	return true;
}

/* The SSRC at p, rewritten from one direction's current source to its out SSRC or back. */
static void map_ssrc(uint8_t *p, const struct rtp_rewrite *w, bool to_out)
{
	uint32_t v;

	if (!w || !w->started)
		return;
	v = rtp_get32(p);
	if (to_out && v == w->in_ssrc)
		rtp_put32(p, w->out_ssrc);
	else if (!to_out && v == w->out_ssrc)
		rtp_put32(p, w->in_ssrc);
}

/* SR/RR: the sender, then report blocks about the other direction's stream. */
static void report(const struct rtp_rewrite *fwd, const struct rtp_rewrite *rev, uint8_t *p,
                   size_t plen)
{
	unsigned count = p[0] & 0x1f;
	size_t first = p[1] == RTCP_SR ? 28 : 8;

	map_ssrc(p + 4, fwd, true);
	for (unsigned i = 0; i < count && first + (i + 1) * 24 <= plen; i++)
		map_ssrc(p + first + i * 24, rev, false);
}

void rtp_rewrite_rtcp(const struct rtp_rewrite *fwd, const struct rtp_rewrite *rev, uint8_t *buf,
                      size_t len)
{
	for (size_t off = 0; off + 4 <= len;) {
		uint8_t *p = buf + off;
		size_t plen = ((size_t)(p[2] << 8 | p[3]) + 1) * 4;

		if (plen > len - off)
			return;
		if (p[1] == RTCP_SR || p[1] == RTCP_RR)
			report(fwd, rev, p, plen);
		else if ((p[1] == RTCP_SDES || p[1] == RTCP_BYE) && plen >= 8)
			map_ssrc(p + 4, fwd, true); /* the first chunk or source: ours */
		off += plen;
	}
}
