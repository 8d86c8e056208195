/* SDP reading shared by the plain (sdp_plain.c) and WebRTC (sdp_webrtc.c) translations:
 * the limits and checks of docs/sip.md "SDP (plain)" over libosip2's parser. Pure. */
#pragma once

#include <osipparser2/sdp_message.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signaling/sdp_plain.h"

/*
 * Prescan buf[len] (size, lines, NUL, stray CR) and parse it with libosip2.
 * NULL and *out set (sdp_message_free it), or a reason (EBADMSG).
 */
const char *sdp_read_parse(const char *buf, size_t len, sdp_message_t **out);

/*
 * The checks of every line we carry and the reading of the first audio m=
 * line into *p (scratch, written even on failure). 0, EBADMSG or EPROTO with
 * *why.
 */
int sdp_read_check(const sdp_message_t *sdp, struct sdp_plain *p, const char **why);

/* A decimal number of at most maxdig digits, no sign, no space. */
bool sdp_read_number(const char *s, unsigned maxdig, uint64_t *v);
/* A port: 0-65535, digits only. */
bool sdp_read_port(const char *s, uint16_t *port);
/* RFC 4566 §9 token. */
bool sdp_read_token(const char *s);
/* "<pt> <rest>" of rtpmap, fmtp and rtcp-fb: the rest, or NULL when pt is not 0-127. */
const char *sdp_read_pt(const char *v, uint64_t *pt);
/* The first attribute named field, or NULL. */
const sdp_attribute_t *sdp_read_attr(const osip_list_t *attrs, const char *field);
/* Is name in the comma-separated list (case-insensitive)? A NULL list allows all. */
bool sdp_read_allowed(const char *list, const char *name);
