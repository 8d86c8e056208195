/* What a datagram on an ICE transport carries, by its first byte (RFC 7983 §7, RFC 5761 §4). Pure.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum ice_pkt {
	ICE_PKT_STUN,    /* 0-3: STUN (ICE connectivity checks, consent) */
	ICE_PKT_ZRTP,    /* 16-19: ZRTP, never negotiated here */
	ICE_PKT_DTLS,    /* 20-63: a DTLS record */
	ICE_PKT_TURN,    /* 64-79: TURN ChannelData */
	ICE_PKT_RTP,     /* 128-191 with a payload type outside 64-95 */
	ICE_PKT_RTCP,    /* 128-191 with a second byte of 192-223 (rtcp-mux) */
	ICE_PKT_UNKNOWN, /* empty, or a first byte no RFC 7983 range claims: drop */
	ICE_PKT_COUNT,
};
extern const char *const ice_pkt_names[ICE_PKT_COUNT];

/*
 * Classify a datagram received on a leg's ICE transport. Only the first two
 * bytes are read (len 0 gives ICE_PKT_UNKNOWN); whether the rest is a valid
 * packet of that kind is for the layer it goes to.
 */
enum ice_pkt ice_demux(const uint8_t *p, size_t len);
