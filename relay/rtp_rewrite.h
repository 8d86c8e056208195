/* One direction's RTP stream kept continuous: one SSRC out, sequence numbers and timestamps with
 * no jump when the source behind it changes (RFC 3550 §5.1, §8.2; RFC 7667 §3.2.1.3). Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A PBX that re-INVITEs (hold music, a transfer, a new media server)
 * starts a new SSRC with new random sequence numbers and timestamps. A
 * browser then sees a second stream, or a jump its jitter buffer takes as
 * loss. The rewriter keeps what leaves on the other leg one stream: the
 * first source's SSRC, sequence numbers going on by one, timestamps going
 * on by the time that passed. Packets of the current source keep their own
 * spacing (offsets are fixed per source), so loss and reordering stay
 * visible to the receiver as they were.
 */
struct rtp_rewrite {
	bool started;
	uint32_t clock;    /* Hz of the stream's timestamps */
	uint32_t in_ssrc;  /* the source now being relayed */
	uint32_t old_ssrc; /* the one before it: its late packets are dropped */
	uint32_t out_ssrc; /* what leaves: the first source's SSRC */
	uint16_t seq_off;  /* out = in + off, per source */
	uint32_t ts_off;
	uint16_t max_seq_out; /* highest sequence number sent */
	uint32_t max_ts_out;  /* its timestamp */
	int64_t max_at_us;    /* when it was sent */
	uint32_t switches;    /* new sources taken */
};

/* A stream of timestamps at clock Hz (0: 8000). */
void rtp_rewrite_init(struct rtp_rewrite *w, uint32_t clock);

/*
 * Rewrite the SSRC, sequence number and timestamp of the RTP packet
 * buf[len] in place (now: its arrival, µs). A packet of a new SSRC makes it
 * the current source: its first packet goes on from the last one sent by
 * one sequence number and by the time since then (at least one 20 ms frame).
 * Packets of the source before it (late or reordered across the change) are
 * left as they are and false is returned: drop them. false too when len is
 * under the RTP header (nothing written).
 */
bool rtp_rewrite_rtp(struct rtp_rewrite *w, uint8_t *buf, size_t len, int64_t now);

/*
 * Rewrite the SSRC fields of a compound RTCP packet in place so they agree
 * with what the RTP rewriters did: sender SSRCs (SR, RR, SDES chunks, BYE)
 * of the forward direction's source become its out_ssrc (fwd), and report
 * blocks about the reverse direction's rewritten stream name its current
 * source again (rev, may be NULL). Any bytes are safe: the walk stops at
 * the first length that does not fit.
 */
void rtp_rewrite_rtcp(const struct rtp_rewrite *fwd, const struct rtp_rewrite *rev, uint8_t *buf,
                      size_t len);
