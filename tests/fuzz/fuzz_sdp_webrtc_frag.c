/* libFuzzer target for signaling/sdp_webrtc_frag: any bytes as a trickled SDP fragment
 * (RFC 8840 §9); every candidate taken writes back and reads back the same. */
#include <errno.h>
#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sdp_webrtc.h"
#include "signaling/sdp_webrtc_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cand_again(const struct sdp_webrtc_cand *c)
{
	GString *g = g_string_new(NULL);
	struct sdp_webrtc_cand back;
	bool ignored;

	sdp_webrtc_cand_write(g, c);
	if (sdp_webrtc_cand_read(g->str + strlen("candidate:"), &back, &ignored) || ignored ||
	    back.port != c->port || back.priority != c->priority ||
	    strcmp(back.addr, c->addr) != 0 || back.type != c->type)
		abort();
	g_string_free(g, TRUE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp_webrtc_frag *f = g_new0(struct sdp_webrtc_frag, 1);
	const char *why = NULL;
	int rc = sdp_webrtc_frag_read((const char *)data, size, f, &why);

	if (rc != 0 && (rc != EBADMSG || !why))
		abort();
	if (rc == 0 && (!f->ufrag[0] || f->n_cand > SDP_WEBRTC_MAX_CAND))
		abort();
	for (size_t i = 0; rc == 0 && i < f->n_cand; i++) {
		if (strlen(f->cand_mid[i]) >= SDP_WEBRTC_MID_LEN)
			abort();
		cand_again(&f->cand[i]);
	}
	g_free(f);
	return 0;
}
