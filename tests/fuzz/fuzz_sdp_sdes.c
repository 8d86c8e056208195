/* libFuzzer target for signaling/sdp_sdes: any a=crypto value. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sdp_sdes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Invariant: a value we accept, written back, reads back to the same tag and key. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v = g_strndup((const char *)data, size), buf[SDP_SDES_MAX];
	struct sdp_sdes c, back;
	const char *why = NULL;

	if (sdp_sdes_parse(v, &c, &why) == 0) {
		if (!sdp_sdes_format(&c, buf, sizeof(buf)) ||
		    sdp_sdes_parse(buf, &back, &why) != 0 || back.tag != c.tag ||
		    memcmp(back.key, c.key, sizeof(c.key)) != 0)
			abort();
	} else if (!why) {
		abort();
	}
	g_free(v);
	return 0;
}
