/* Helpers of the SRTP unit tests (test_dtls.c, test_dtls_interop.c): packets, a round trip. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "ice/srtp.h"

#define PKT 172 /* G.711 20 ms: 12 header + 160 payload */

/* An RTP packet into buf (PKT + ICE_SRTP_TRAILER_MAX bytes): V=2, PT 0, seq, a pattern; PKT. */
size_t make_rtp(uint8_t *buf, uint16_t seq);
/* An RTCP receiver report with one block (RFC 3550 §6.4.2) into buf (64 bytes); its length. */
size_t make_rtcp(uint8_t *buf);
/* from protects an RTP packet (seq), to unprotects it: encrypted between, the same bytes out. */
void assert_media(struct ice_srtp *from, struct ice_srtp *to, uint16_t seq);
