/* RFC 7983 §7 first-byte demultiplexing, with RFC 5761 §4 RTP/RTCP split under rtcp-mux. Pure. */
#include "ice/demux.h"

const char *const ice_pkt_names[ICE_PKT_COUNT] = {
	[ICE_PKT_STUN] = "stun",       [ICE_PKT_ZRTP] = "zrtp", [ICE_PKT_DTLS] = "dtls",
	[ICE_PKT_TURN] = "turn",       [ICE_PKT_RTP] = "rtp",   [ICE_PKT_RTCP] = "rtcp",
	[ICE_PKT_UNKNOWN] = "unknown",
};

/*
 *                 +----------------+
 *                 |        [0..3] -+--> STUN
 *                 |      [16..19] -+--> ZRTP
 *  packet -->     |      [20..63] -+--> DTLS
 *                 |      [64..79] -+--> TURN Channel
 *                 |    [128..191] -+--> RTP/RTCP: second byte 192..223 is RTCP
 *                 +----------------+
 */
enum ice_pkt ice_demux(const uint8_t *p, size_t len)
{
	uint8_t b;

	if (len == 0)
		return ICE_PKT_UNKNOWN;
	b = p[0];
	if (b <= 3)
		return ICE_PKT_STUN;
	if (b >= 16 && b <= 19)
		return ICE_PKT_ZRTP;
	if (b >= 20 && b <= 63)
		return ICE_PKT_DTLS;
	if (b >= 64 && b <= 79)
		return ICE_PKT_TURN;
	if (b < 128 || b > 191)
		return ICE_PKT_UNKNOWN;
	/* RTCP packet types 192-223 are RTP payload types 64-95 with the marker bit set */
	if (len >= 2 && p[1] >= 192 && p[1] <= 223)
		return ICE_PKT_RTCP;
	return ICE_PKT_RTP;
}
