/*
 * The built-in demo target: with no sip.pbx it takes the PBX's place, in
 * process. It is a small SIP UA of its own (its own transaction layer) that
 * the B2BUA reaches through a peer like any PBX: REGISTER and OPTIONS are
 * answered; INVITE to echo is answered with the offered codecs (the B2BUA
 * then echoes the media), to ring rings until cancelled, anything else 404.
 */
#pragma once

#include "signaling/sip_stack.h"

struct sip_demo;

/* rx hears what the demo sends toward the B2BUA, from the peer sip_demo_peer returns. */
typedef void (*sip_demo_rx_fn)(void *user, struct sip_peer *from, const char *buf, size_t len);

struct sip_demo *sip_demo_new(sip_demo_rx_fn rx, void *user);
void sip_demo_free(struct sip_demo *d);

/* The demo as a peer of the B2BUA's stack (borrowed). */
struct sip_peer *sip_demo_peer(struct sip_demo *d);
