/* Packets for the SRTP unit tests, and a protect/unprotect round trip (srtp_fixture.h). */
#include <string.h>

#include "srtp_fixture.h"

size_t make_rtp(uint8_t *buf, uint16_t seq)
{
	memset(buf, 0, PKT + ICE_SRTP_TRAILER_MAX);
	buf[0] = 0x80;
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	buf[8] = 0x12, buf[9] = 0x34, buf[10] = 0x56, buf[11] = 0x78; /* SSRC */
	for (size_t i = 12; i < PKT; i++)
		buf[i] = (uint8_t)(i * 7 + seq);
	return PKT;
}

size_t make_rtcp(uint8_t *buf)
{
	memset(buf, 0, 64);
	buf[0] = 0x81, buf[1] = 201, buf[3] = 7; /* V=2 RC=1, RR, length 7 words - 1 */
	buf[4] = 0x12, buf[5] = 0x34, buf[6] = 0x56, buf[7] = 0x78;
	for (size_t i = 8; i < 32; i++)
		buf[i] = (uint8_t)i;
	return 32;
}

void assert_media(struct ice_srtp *from, struct ice_srtp *to, uint16_t seq)
{
	uint8_t plain[PKT + ICE_SRTP_TRAILER_MAX], buf[sizeof(plain)];
	size_t len = make_rtp(plain, seq);

	memcpy(buf, plain, sizeof(buf));
	g_assert_cmpint(ice_srtp_protect(from, ICE_SRTP_RTP, buf, &len, sizeof(buf)), ==, 0);
	g_assert_cmpuint(len, >, PKT);
	g_assert_true(memcmp(buf + 12, plain + 12, PKT - 12) != 0); /* encrypted */
	g_assert_cmpint(ice_srtp_unprotect(to, ICE_SRTP_RTP, buf, &len), ==, 0);
	g_assert_cmpuint(len, ==, PKT);
	g_assert_true(memcmp(buf, plain, PKT) == 0);
}
