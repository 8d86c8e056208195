/* libFuzzer target for signaling/sdp_savp: any SDP body through strip and add. */
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sdp_savp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Invariants: strip never grows the body; a body that add accepts, stripped,
 * is SAVP again with our line read back (when no usable line came before it).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct sdp_sdes c = { .tag = 42 };
	struct sdp_savp info;
	char *out = NULL, *back = NULL;
	size_t len = 0, blen = 0;

	bool had = false;

	memset(c.key, 0x5a, sizeof(c.key));
	if (sdp_savp_strip(in, size, &info, &out, &len) == 0) {
		if (len > size || strlen(out) != len)
			abort();
		had = info.usable;
		g_free(out);
	}
	if (sdp_savp_add(in, size, &c, &out, &len) == 0) {
		if (sdp_savp_strip(out, len, &info, &back, &blen) != 0 || !info.savp ||
		    !info.usable ||
		    (!had &&
		     (info.crypto.tag != 42 || memcmp(info.crypto.key, c.key, sizeof(c.key)) != 0)))
			abort();
		g_free(back);
		g_free(out);
	}
	return 0;
}
