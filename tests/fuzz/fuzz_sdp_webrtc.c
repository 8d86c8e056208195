/* libFuzzer target for signaling/sdp_webrtc: any bytes as a browser's offer, a browser's
 * answer, or a PBX's offer. */
#include <errno.h>
#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sdp_plain.h"
#include "signaling/sdp_webrtc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sdp_webrtc_cand cand = {
	.foundation = "1", .component = 1, .priority = 1, .addr = "192.0.2.10", .port = 20000
};
static const struct sdp_webrtc_local local = {
	.plain_addr = "2001:db8::a",
	.plain_port = 10000,
	.ufrag = "RtcG",
	.pwd = "rtcgateIcePassword012345",
	.cand = &cand,
	.n_cand = 1,
	.fingerprint = "sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33",
	.codecs = "opus,PCMU,PCMA,G722,telephone-event,CN",
};
static const char pbx_answer[] = "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\n"
                                 "t=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\n"
                                 "a=rtpmap:101 telephone-event/8000\r\n";
static const char pbx_offer[] =
        "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\n"
        "t=0 0\r\nm=audio 4000 RTP/AVP 111 8 0 101\r\n"
        "a=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n";

/* A refusal has a reason and the documented codes, and leaves no SDP behind. */
static void refused(int rc, const char *why, const struct sdp_webrtc_out *o)
{
	if (!why || o->sdp || (rc != EBADMSG && rc != EPROTO))
		abort();
}

/* What we write toward the PBX reads back as plain RTP on our address and port. */
static void plain_ok(const struct sdp_webrtc_out *o, enum sdp_plain_dir dir)
{
	struct sdp_plain *p = g_new0(struct sdp_plain, 1);
	const char *why = NULL;

	if (sdp_plain_read(o->sdp, o->sdp_len, p, &why) != 0 || strlen(o->sdp) != o->sdp_len)
		abort();
	if (strcmp(p->addr, local.plain_addr) != 0 || p->profile != SDP_PLAIN_AVP || p->ice ||
	    p->dtls || (p->port != 0 && (p->port != local.plain_port || p->dir != dir)))
		abort();
	g_free(p);
}

/* What we write toward the browser reads back as WebRTC with our credentials. */
static void web_ok(const struct sdp_webrtc_out *o, bool answer)
{
	struct sdp_webrtc_leg *leg = g_new0(struct sdp_webrtc_leg, 1);
	const char *why = NULL;
	int rc = sdp_webrtc_read(o->sdp, o->sdp_len, answer, leg, &why);

	if (rc == 0 ? strcmp(leg->ufrag, local.ufrag) != 0 || leg->n_cand != 1
	            : !strstr(o->sdp, "m=audio 0 "))
		abort();
	g_free(leg);
}

/* The input as a browser's offer, then the PBX's canned answer. */
static void from_web(const char *in, size_t size)
{
	struct sdp_webrtc *s = sdp_webrtc_new(1, 2);
	struct sdp_webrtc_out *o = g_new0(struct sdp_webrtc_out, 1), *o2;
	const char *why = NULL;
	int rc = sdp_webrtc_translate(s, SDP_WEBRTC_OFFER_FROM_WEB, in, size, &local, o, &why);

	if (rc != 0) {
		refused(rc, why, o);
		goto out;
	}
	plain_ok(o, o->leg.dir);
	/* the same offer again: the same SDP (the version stays) */
	o2 = g_new0(struct sdp_webrtc_out, 1);
	if (sdp_webrtc_translate(s, SDP_WEBRTC_OFFER_FROM_WEB, in, size, &local, o2, &why) != 0 ||
	    strcmp(o2->sdp, o->sdp) != 0)
		abort();
	g_free(o2->sdp);
	memset(o2, 0, sizeof(*o2));
	rc = sdp_webrtc_translate(s, SDP_WEBRTC_ANSWER_TO_WEB, pbx_answer, strlen(pbx_answer),
	                          &local, o2, &why);
	if (rc != 0)
		refused(rc, why, o2);
	else
		web_ok(o2, true);
	g_free(o2->sdp);
	g_free(o2);
	g_free(o->sdp);
out:
	g_free(o);
	sdp_webrtc_free(s);
}

/* The input as a PBX's offer; then as the browser's answer to a canned PBX offer. */
static void to_web(const char *in, size_t size)
{
	struct sdp_webrtc *s = sdp_webrtc_new(1, 2);
	struct sdp_webrtc_out *o = g_new0(struct sdp_webrtc_out, 1);
	const char *why = NULL;
	int rc = sdp_webrtc_translate(s, SDP_WEBRTC_OFFER_TO_WEB, in, size, &local, o, &why);

	if (rc != 0)
		refused(rc, why, o);
	else
		web_ok(o, false);
	g_free(o->sdp);
	memset(o, 0, sizeof(*o));
	sdp_webrtc_free(s);
	s = sdp_webrtc_new(1, 2);
	if (sdp_webrtc_translate(s, SDP_WEBRTC_OFFER_TO_WEB, pbx_offer, strlen(pbx_offer), &local,
	                         o, &why) != 0)
		abort();
	g_free(o->sdp);
	memset(o, 0, sizeof(*o));
	rc = sdp_webrtc_translate(s, SDP_WEBRTC_ANSWER_FROM_WEB, in, size, &local, o, &why);
	if (rc != 0)
		refused(rc, why, o);
	else
		plain_ok(o, o->leg.dir);
	g_free(o->sdp);
	g_free(o);
	sdp_webrtc_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sdp_plain_init();
	from_web((const char *)data, size);
	to_web((const char *)data, size);
	return 0;
}
