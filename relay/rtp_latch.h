/* Symmetric RTP latching (RFC 4961 "symmetric RTP", as SBCs apply it to NATed peers). Pure. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * A latched source that has been silent this long may be replaced by a new
 * one. Long enough that a stray or forged packet cannot take over a stream
 * that is flowing (a voice stream sends every 20 ms, and RTCP every 5 s at
 * most, RFC 3550 §6.2); short enough that a peer whose NAT binding changed
 * mid-call (Wi-Fi to LTE) is heard again within a few seconds.
 */
#define RTP_RELATCH_USEC (3 * 1000000LL)
/* RTCP is sent every 5 s on average (RFC 3550 §6.2, randomised up to 1.5x): wait longer */
#define RTCP_RELATCH_USEC (10 * 1000000LL)

/* Where one socket of a leg sends, and from whom it accepts. */
struct rtp_latch {
	struct sockaddr_storage sdp;    /* from signalling; ss_family 0: none */
	struct sockaddr_storage remote; /* destination: sdp, then the latched source */
	bool latched;
	int64_t last_us; /* when the latched source was last heard */
	int64_t relatch_us;
};

enum rtp_latch_verdict {
	RTP_LATCH_OK,      /* from the latched source */
	RTP_LATCH_LATCHED, /* first packet, or the old source was silent: src is the remote now */
	RTP_LATCH_DROP,    /* from another source while the latched one is alive */
};

/* An empty latch: nothing known, latches on the first packet. */
void rtp_latch_init(struct rtp_latch *l, int64_t relatch_us);

/*
 * The SDP address (normalised by the caller to the socket's family). A new
 * one becomes the destination and the latch is released; the same one again
 * changes nothing. Returns true when it changed.
 */
bool rtp_latch_set_sdp(struct rtp_latch *l, const struct sockaddr *sdp, socklen_t len);

/* A packet from src at now_us (monotonic): accept it, latching when due, or drop it. */
enum rtp_latch_verdict rtp_latch_check(struct rtp_latch *l, const struct sockaddr *src,
                                       int64_t now_us);

/* The destination, or NULL while there is none. */
const struct sockaddr *rtp_latch_remote(const struct rtp_latch *l);

/* Same family, address and port (IPv4 and IPv6 only). */
bool rtp_addr_equal(const struct sockaddr *a, const struct sockaddr *b);
socklen_t rtp_addr_len(const struct sockaddr *a);
