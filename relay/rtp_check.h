/* A plausibility check of RTP and RTCP packets before they are latched on or relayed. Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_HEADER_MIN  12 /* RFC 3550 §5.1: fixed header */
#define RTCP_HEADER_MIN 8  /* RFC 3550 §6.4: an RR with no report block */
#define RTP_VERSION     2

/*
 * Is this plausibly RTP (rtcp false) or RTCP (rtcp true)? Version 2 and the
 * fixed header's length; RTCP also a packet type of 192-223 (RFC 5761 §4).
 * The payload is relayed as it is: this only keeps junk from latching.
 */
bool rtp_check(const uint8_t *p, size_t len, bool rtcp);
