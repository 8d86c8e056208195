/* libFuzzer target for relay/rtcp, rtp_rx and rtp_rewrite: compound RTCP and RTP streams. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/rtcp.h"
#include "relay/rtp_rewrite.h"
#include "relay/rtp_rx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Invariants: a compound we accept has its blocks written back by
 * rtcp_write_rr and read again unchanged; the same bytes as a stream of
 * (seq, time step) records never make the receiver statistics expect fewer
 * packets than they took; the rewriters never write outside the packet
 * (ASan) and give every packet they take the first source's SSRC.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtcp_info in, again;
	struct rtp_rx rx;
	struct rtcp_block b;
	uint8_t buf[8 + RTCP_MAX_BLOCKS * 24];
	struct rtp_rewrite w;
	uint8_t pkt[16];
	int64_t t = 0;

	if (rtcp_read(data, size, &in) == 0) {
		size_t len = rtcp_write_rr(1, in.block, in.n_blocks, buf, sizeof(buf));

		if (!len || rtcp_read(buf, len, &again) != 0 || again.n_blocks != in.n_blocks)
			abort();
		for (unsigned i = 0; i < in.n_blocks; i++)
			if (again.block[i].ssrc != in.block[i].ssrc ||
			    again.block[i].lost != in.block[i].lost ||
			    again.block[i].dlsr != in.block[i].dlsr)
				abort();
	}
	rtp_rx_init(&rx, 1, 8000);
	for (size_t i = 0; i + 2 < size; i += 3) {
		t += data[i + 2] * 1000;
		rtp_rx_update(&rx, (uint16_t)(data[i] << 8 | data[i + 1]), (uint32_t)i * 160, t);
	}
	if (rx.received && rtp_rx_lost(&rx) < -(int64_t)rx.received)
		abort();
	rtp_rx_block(&rx, &b);
	rtp_rewrite_init(&w, 8000);
	for (size_t i = 0; i + sizeof(pkt) <= size; i += sizeof(pkt)) {
		memcpy(pkt, data + i, sizeof(pkt));
		if (rtp_rewrite_rtp(&w, pkt, sizeof(pkt), (int64_t)i * 1000) &&
		    memcmp(pkt + 8, data + 8, 4) != 0 && w.switches == 0)
			abort();
	}
	if (rtcp_read(data, size, &in) == 0) {
		uint8_t *copy = malloc(size);

		memcpy(copy, data, size);
		rtp_rewrite_rtcp(&w, &w, copy, size);
		free(copy);
	}
	return 0;
}
