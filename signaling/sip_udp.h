/* SIP over UDP toward the PBX (RFC 3261 §18): one dual-stack socket on sip.port, DSCP CS3. */
#pragma once

#include <netinet/in.h>
#include <stddef.h>

struct conf;
struct sip_peer;
struct sip_udp;

/* Which PBX target sent a datagram from this address: its peer (borrowed), or NULL. */
typedef struct sip_peer *(*sip_udp_lookup_fn)(void *user, const struct sockaddr_in6 *from);
/* A datagram from a PBX target. */
typedef void (*sip_udp_rx_fn)(void *user, struct sip_peer *from, const char *buf, size_t len);

/* Bind sip.address:sip.port (UDP). 0, or an errno with *why (g_free it). */
int sip_udp_open(const struct conf *c, sip_udp_lookup_fn lookup, sip_udp_rx_fn rx, void *user,
                 struct sip_udp **out, char **why);
void sip_udp_free(struct sip_udp *u);

/* Send one datagram to to: 0 or an errno. */
int sip_udp_send(struct sip_udp *u, const struct sockaddr_in6 *to, const char *buf, size_t len);
/* Datagrams dropped because they came from no PBX target. */
unsigned long sip_udp_foreign(const struct sip_udp *u);
