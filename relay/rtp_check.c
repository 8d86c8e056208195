/* RTP/RTCP first-byte checks (RFC 3550 §5.1, §6.4; RFC 5761 §4). Pure. */
#include "relay/rtp_check.h"

/*
 *  0                   1
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |   RTP
 * |V=2|P|   RC    |   PT=192-223  |   RTCP
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
bool rtp_check(const uint8_t *p, size_t len, bool rtcp)
{
	if (len < (rtcp ? RTCP_HEADER_MIN : RTP_HEADER_MIN) || (p[0] >> 6) != RTP_VERSION)
		return false;
	return !rtcp || (p[1] >= 192 && p[1] <= 223);
}
