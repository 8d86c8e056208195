/*
 * libFuzzer target for signaling/sip_frame: any bytes as a SIP stream. The
 * oracle: the messages found are the same whether the bytes come at once or
 * in two pieces cut where the first byte says, each message fits the limit,
 * and every step consumes bytes or asks for more.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sip_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A small limit, so the fuzzer reaches it. */
#define LIMIT 512

/* Frame data[size] fed in two pieces cut at cut; a digest of what came out (lengths, error). */
static uint64_t run(const uint8_t *data, size_t size, size_t cut)
{
	struct sip_frame f = { 0 };
	size_t start = 0, have = cut;
	uint64_t digest = 1469598103934665603ULL;

	for (int guard = 0; guard < 100000; guard++) {
		struct sip_frame_out o;
		int rc = sip_frame_next(&f, (const char *)data + start, have - start, LIMIT, &o);

		start += o.skip;
		if (rc == 0) {
			if (o.len == 0 || o.len > LIMIT || start + o.len > have)
				abort();
			digest = (digest ^ o.len) * 1099511628211ULL;
			start += o.len;
			continue;
		}
		if (rc != ENODATA) {
			digest = (digest ^ (uint64_t)rc) * 1099511628211ULL;
			break;
		}
		if (have == size)
			break;
		have = size;
	}
	return digest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cut = size ? data[0] % (size + 1) : 0;

	if (run(data, size, size) != run(data, size, cut))
		abort();
	return 0;
}
