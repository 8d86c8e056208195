/* RTCP compound packets: read SR/RR report blocks, write an RR (RFC 3550 §6.4, §6.1). Pure. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define RTCP_SR   200
#define RTCP_RR   201
#define RTCP_SDES 202
#define RTCP_BYE  203
#define RTCP_APP  204

#define RTCP_MAX_BLOCKS 8 /* report blocks kept from one compound packet (more are counted) */

/* One report block (RFC 3550 §6.4.1): what the sender of the report saw of source ssrc. */
struct rtcp_block {
	uint32_t reporter; /* SSRC of the report's sender */
	uint32_t ssrc;     /* the source reported on */
	uint8_t fraction;  /* lost since the last report, in 1/256 */
	int32_t lost;      /* cumulative, signed 24 bits */
	uint32_t ext_seq;  /* extended highest sequence number received */
	uint32_t jitter;   /* interarrival jitter, in the source's RTP clock units */
	uint32_t lsr;      /* middle 32 bits of the last SR's NTP time, 0 none */
	uint32_t dlsr;     /* delay since that SR, in 1/65536 s */
};

/* What one compound RTCP packet says. */
struct rtcp_info {
	unsigned n_packets; /* RTCP packets in the compound, of any type */
	int has_sr;
	uint32_t sr_ssrc;    /* the first SR's sender */
	uint64_t sr_ntp;     /* its NTP timestamp (RFC 3550 §4) */
	uint32_t sr_rtp_ts;  /* its RTP timestamp */
	uint32_t sr_packets; /* sender's packet count */
	uint32_t sr_octets;  /* sender's octet count */
	unsigned n_blocks;
	unsigned blocks_ignored; /* beyond RTCP_MAX_BLOCKS */
	struct rtcp_block block[RTCP_MAX_BLOCKS];
	int bye; /* a BYE packet was present */
};

/*
 * Read a compound RTCP packet (plain, after SRTCP unprotect). Every packet
 * must be version 2 with a length word that fits, padding only on the last
 * (RFC 3550 §6.4.1, A.2); SR and RR report counts must fit their length.
 * Packet types other than SR, RR and BYE are skipped (SDES, APP, RTPFB,
 * PSFB, XR, …). 0 and *out; EBADMSG when malformed (out is not written).
 */
int rtcp_read(const uint8_t *buf, size_t len, struct rtcp_info *out);

/*
 * Write an RR from ssrc with blocks[n] (n ≤ 31) into buf[cap]. Returns the
 * length, or 0 when cap is too small. Pure.
 */
size_t rtcp_write_rr(uint32_t ssrc, const struct rtcp_block *blocks, unsigned n, uint8_t *buf,
                     size_t cap);

/* The middle 32 bits of a 64-bit NTP timestamp: what an LSR field holds (RFC 3550 §6.4.1). */
uint32_t rtcp_ntp_mid(uint64_t ntp);

/*
 * The RTT of a leg as rtcgate sees it: the SRs it sent toward a peer are
 * remembered by their NTP middle 32 bits (the peer's LSR) and the time
 * they left; the peer's report naming one of them gives rtcgate ⇄ peer
 * round trip = arrival − left − DLSR on rtcgate's clock alone, whatever
 * the clock of the SR's first sender (RFC 3550 §6.4.1 done by a relay).
 */
#define RTCP_SR_TRACK 4
struct rtcp_sr_track {
	uint32_t mid[RTCP_SR_TRACK];
	int64_t at_us[RTCP_SR_TRACK];
	unsigned next;
};

/* An SR of NTP timestamp ntp left toward the peer at now_us. */
void rtcp_sr_sent(struct rtcp_sr_track *t, uint64_t ntp, int64_t now_us);

/* A report block's LSR and DLSR arrived at now_us: the RTT in µs, or -1 (unknown LSR). */
int64_t rtcp_sr_rtt(const struct rtcp_sr_track *t, uint32_t lsr, uint32_t dlsr, int64_t now_us);
