/* Internals of the WebRTC SDP translation shared by sdp_webrtc.c and sdp_webrtc_read.c. */
#pragma once

#include <glib.h>
#include <osipparser2/sdp_message.h>

#include "signaling/sdp_webrtc.h"

/*
 * The WebRTC attributes of the audio m= line p->media_index of sdp (already
 * through sdp_read_check) into *leg: ICE credentials and candidates,
 * fingerprint, setup (actpass refused in an answer), mid and BUNDLE, SSRCs,
 * the codecs of p. NULL, or a reason; *rc is EBADMSG or EPROTO then.
 */
const char *sdp_webrtc_leg_read(const sdp_message_t *sdp, const struct sdp_plain *p, bool answer,
                                struct sdp_webrtc_leg *leg, int *rc);
/* One a=candidate value; *ignored when well formed but not for us (other transport,
 * DNS name that is not mDNS). NULL or a reason. */
const char *sdp_webrtc_cand_read(const char *v, struct sdp_webrtc_cand *c, bool *ignored);
/* One a=fingerprint value; *unknown for a hash function we do not take. */
const char *sdp_webrtc_fp_read(const char *v, struct sdp_webrtc_fp *fp, bool *unknown);
/* "candidate:<…>" attribute value of c, appended to g. */
void sdp_webrtc_cand_write(GString *g, const struct sdp_webrtc_cand *c);
/* RFC 8839 §5.1 ice-chars, min to max of them. */
bool sdp_webrtc_ice_ok(const char *s, size_t min, size_t max);
