/* libFuzzer target for signaling/sdp_plain: any bytes as an SDP offer or answer. */
#include <errno.h>
#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sdp_plain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Read never crashes and every refusal has a reason. What read accepts,
 * rewrite either refuses with a reason or turns into SDP that read accepts
 * again, anchored on our address and port, with the same direction, and
 * that a second rewrite leaves as it is.
 */
static void check_rewrite(const char *in, size_t size, const struct sdp_plain *first,
                          const struct sdp_plain_local *local)
{
	struct sdp_plain *again = g_new(struct sdp_plain, 1);
	char *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;
	const char *why = NULL;
	int rc = sdp_plain_rewrite(in, size, local, &out, &len, &why);

	if (rc != 0) {
		if (!why || out || (rc != EPROTO && rc != EBADMSG))
			abort();
		g_free(again);
		return;
	}
	if (strlen(out) != len || len < 2 || memcmp(out + len - 2, "\r\n", 2) != 0)
		abort();
	if (sdp_plain_read(out, len, again, &why) != 0)
		abort();
	if (strcmp(again->addr, local->addr) != 0 || again->dir != first->dir ||
	    again->media_index != first->media_index || again->n_media != first->n_media ||
	    again->ice || again->dtls || again->crypto || again->rtcp_mux ||
	    (again->profile != SDP_PLAIN_AVP && again->profile != SDP_PLAIN_AVPF))
		abort();
	if (first->port == 0 ? again->port != 0
	                     : again->port != local->port || again->rtcp_port != local->port + 1)
		abort();
	if (!local->codecs && again->n_codecs != first->n_codecs)
		abort();
	/* rewriting our own output changes nothing (the offer/answer round is stable) */
	if (sdp_plain_rewrite(out, len, local, &out2, &len2, &why) != 0 || len2 != len ||
	    memcmp(out, out2, len) != 0)
		abort();
	g_free(out2);
	g_free(out);
	g_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sdp_plain_local locals[] = {
		{ .addr = "192.0.2.10", .port = 10000, .sess_id = 42, .sess_version = 1 },
		{ .addr = "2001:db8::a",
		  .port = 20002,
		  .sess_id = 1,
		  .sess_version = 7,
		  .codecs = "PCMU,PCMA,opus,telephone-event",
		  .to_avp = true },
	};
	struct sdp_plain *p = g_new(struct sdp_plain, 1);
	const char *why = NULL;
	int rc;

	sdp_plain_init();
	rc = sdp_plain_read((const char *)data, size, p, &why);
	if (rc != 0 && (!why || (rc != EPROTO && rc != EBADMSG)))
		abort();
	if (rc == 0) {
		for (size_t i = 0; i < G_N_ELEMENTS(locals); i++)
			check_rewrite((const char *)data, size, p, &locals[i]);
	}
	g_free(p);
	return 0;
}
