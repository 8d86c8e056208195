/* Receiver statistics of one RTP source: sequence, loss, jitter (RFC 3550 §6.4.1, A.1, A.3, A.8).
 * Pure. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "relay/rtcp.h"

/*
 * One source's state as a receiver sees it. Zero it (or rtp_rx_init) once;
 * feed every RTP packet with rtp_rx_update; rtp_rx_block gives the report
 * block of RFC 3550 §6.4.1 and starts the next interval.
 */
struct rtp_rx {
	uint32_t ssrc;
	uint32_t clock;     /* Hz of the payload (8000 for G.711, 48000 for Opus) */
	bool started;       /* a first packet was taken */
	uint16_t max_seq;   /* highest sequence number seen */
	uint32_t cycles;    /* sequence number wraps, shifted left 16 */
	uint32_t base_seq;  /* the first one */
	uint32_t bad_seq;   /* after a large jump: the next expected if it is a restart */
	uint32_t probation; /* packets left before a new source is valid */
	uint32_t received;  /* packets taken */
	uint32_t expected_prior, received_prior; /* at the last report */
	int64_t transit;                         /* last packet's transit, in clock units */
	uint64_t jitter_q4;                      /* jitter × 16 (A.8) */
	uint32_t duplicates_or_late;             /* packets of an older sequence number */
	uint32_t resets;                         /* the source restarted its sequence */
};

/* Zero the state for a source of clock Hz (0: 8000). */
void rtp_rx_init(struct rtp_rx *r, uint32_t ssrc, uint32_t clock);

/*
 * One RTP packet of this source: its sequence number, RTP timestamp and
 * arrival time (µs, any monotonic origin). Returns false when the packet is
 * not counted (probation of a new source, a big jump not yet confirmed).
 */
bool rtp_rx_update(struct rtp_rx *r, uint16_t seq, uint32_t rtp_ts, int64_t arrival_us);

/* Extended highest sequence number, expected and lost so far (lost may be negative). */
uint32_t rtp_rx_ext_max(const struct rtp_rx *r);
uint32_t rtp_rx_expected(const struct rtp_rx *r);
int64_t rtp_rx_lost(const struct rtp_rx *r);

/* Interarrival jitter in µs (A.8, from clock units). */
uint32_t rtp_rx_jitter_us(const struct rtp_rx *r);

/*
 * The report block for this source now (lsr/dlsr left 0 for the caller)
 * and the start of the next interval (fraction lost is per interval).
 */
void rtp_rx_block(struct rtp_rx *r, struct rtcp_block *out);

/*
 * A listening-quality estimate (MOS, 1.0–4.5) from the ITU-T G.107
 * E-model with the G.113 Appendix I impairments of G.711 with packet loss
 * concealment (Ie 0, Bpl 25.1), random loss: loss in percent, one-way
 * delay in ms (RTT / 2 plus jitter-buffer delay). Used for every codec: it
 * ranks calls, it does not claim a codec's exact score.
 */
double rtp_quality_mos(double loss_pct, double delay_ms);
