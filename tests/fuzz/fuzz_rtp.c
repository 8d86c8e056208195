/* libFuzzer target for relay/rtp_check and relay/rtp_latch: arbitrary packets and sources. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/rtp_check.h"
#include "relay/rtp_latch.h"

/*
 * Input: the first byte picks the packet kind, then records of 1 byte of
 * source port (top bit: an SDP address instead of a packet), 1 of time step;
 * the same bytes are also checked as a packet. Invariants: a packet accepted
 * (OK or LATCHED), or a new SDP address, is the remote afterwards.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_latch l;
	int64_t now = 0;
	bool rtcp;

	if (size < 1)
		return 0;
	rtcp = data[0] & 1;
	rtp_latch_init(&l, RTP_RELATCH_USEC);
	(void)rtp_check(data + 1, size - 1, rtcp);
	for (size_t i = 1; i + 1 < size; i += 2) {
		struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(data[i] & 3) };

		src.sin_addr.s_addr = htonl(0x7f000001);
		now += (int64_t)data[i + 1] * 100000;
		if (data[i] & 0x80) {
			if (rtp_latch_set_sdp(&l, (struct sockaddr *)&src, sizeof(src)) &&
			    !rtp_addr_equal(rtp_latch_remote(&l), (struct sockaddr *)&src))
				abort();
			continue;
		}
		if (rtp_latch_check(&l, (struct sockaddr *)&src, now) != RTP_LATCH_DROP &&
		    !rtp_addr_equal(rtp_latch_remote(&l), (struct sockaddr *)&src))
			abort();
	}
	return 0;
}
