/* SIP over UDP toward the PBX targets of sip.pbx (RFC 3261 §18): one socket, DSCP CS3. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "signaling/sip_stack.h"

struct conf;
struct sip_udp;

/* Messages from a PBX target; anything from another address is dropped and counted. */
typedef void (*sip_udp_rx_fn)(void *user, struct sip_peer *from, const char *buf, size_t len);

/*
 * Bind sip.address:sip.port and start resolving the targets (names off the
 * main loop, GResolver). 0, or an errno with *why (g_free it).
 */
int sip_udp_start(const struct conf *c, sip_udp_rx_fn rx, void *user, struct sip_udp **out,
                  char **why);
void sip_udp_free(struct sip_udp *u);

size_t sip_udp_ntargets(const struct sip_udp *u);
/* Target i as a peer (borrowed), or NULL. */
struct sip_peer *sip_udp_target(struct sip_udp *u, size_t i);
/* Our address toward target i as "host:port" for Via and Contact; NULL until resolved. */
const char *sip_udp_local(const struct sip_udp *u, size_t i);
/* The domain to use in URIs toward target i: its configured host and port. */
const char *sip_udp_domain(const struct sip_udp *u, size_t i);
/* Datagrams dropped because they came from no PBX target. */
unsigned long sip_udp_foreign(const struct sip_udp *u);
