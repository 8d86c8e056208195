/*
 * The PBX targets of sip.pbx (RFC 3263 without NAPTR/SRV): each reached over
 * UDP, TCP or TLS, directly or through sip.outbound_proxy (RFC 3261 §8.1.2),
 * host names resolved off the main loop (GResolver).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "signaling/sip_stack.h"
#include "signaling/sip_target.h"

struct conf;
struct sip_pbx;

struct sip_pbx_handlers {
	/* A message from a PBX target (or the proxy in front of it). */
	void (*rx)(void *user, struct sip_peer *from, const char *buf, size_t len);
	/* The TCP or TLS connection toward target p failed or was lost (from the loop). */
	void (*lost)(void *user, struct sip_peer *p);
};

/*
 * Bind the UDP socket of sip.port, make the TLS context when a hop needs
 * it, and start resolving the targets; h is copied. 0, or an errno with
 * *why (g_free it).
 */
int sip_pbx_start(const struct conf *c, const struct sip_pbx_handlers *h, void *user,
                  struct sip_pbx **out, char **why);
void sip_pbx_free(struct sip_pbx *x);

size_t sip_pbx_ntargets(const struct sip_pbx *x);
/* Target i as a peer (borrowed), or NULL. */
struct sip_peer *sip_pbx_target(struct sip_pbx *x, size_t i);
/* Which target peer p is: its index, or -1. */
int sip_pbx_index(const struct sip_pbx *x, const struct sip_peer *p);
/* Our address toward target i as "host:port" for Via and Contact; NULL until resolved. */
const char *sip_pbx_local(const struct sip_pbx *x, size_t i);
/* The domain to use in URIs toward target i: its configured host and port. */
const char *sip_pbx_domain(const struct sip_pbx *x, size_t i);
/* The transport messages toward target i go over (the proxy's when there is one). */
enum sip_transport sip_pbx_transport(const struct sip_pbx *x, size_t i);
/* Target i's media toward the PBX, its ;srtp= parameter (SIP_SRTP_OFF when i is none). */
enum sip_srtp sip_pbx_srtp(const struct sip_pbx *x, size_t i);
/* False while target i's connection waits to retry after a failure (never for UDP). */
bool sip_pbx_ready(const struct sip_pbx *x, size_t i);
/* The Route header value every request toward the PBX carries, "<sip:proxy;lr>"; NULL without. */
const char *sip_pbx_route(const struct sip_pbx *x);

/* Messages dropped: datagrams from no target, stream connections closed for what came in. */
struct sip_pbx_stats {
	unsigned long not_pbx, too_big, framing;
};
void sip_pbx_stats(const struct sip_pbx *x, struct sip_pbx_stats *out);
