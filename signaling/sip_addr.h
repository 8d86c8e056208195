/* Socket addresses of the PBX side: dual-stack IPv6 with IPv4 mapped, our own address, DSCP CS3. */
#pragma once

#include <gio/gio.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* a as a dual-stack address (IPv4 as ::ffff:a.b.c.d) with port. */
void sip_addr_set(struct sockaddr_in6 *out, GInetAddress *a, uint16_t port);

/*
 * Our own address toward to, as the kernel routes it, with port, as
 * "host:port" ("[v6]:port") in out[n]; out stays "" when there is no route.
 */
void sip_addr_local(const struct sockaddr_in6 *to, int port, char *out, size_t n);

/* a as "host:port" or "[v6]:port" in out[n] (IPv4-mapped shown as IPv4). */
void sip_addr_str(const struct sockaddr_in6 *a, char *out, size_t n);

/* Mark fd's packets DSCP CS3, call signaling (RFC 4594 §4.2), over IPv4 and IPv6. */
void sip_addr_dscp(int fd);

/* A new non-blocking dual-stack socket of type (SOCK_DGRAM, SOCK_STREAM) marked CS3; -1 + errno. */
int sip_addr_socket(int type);
