/* PBX targets of sip.pbx: "udp:host:port", "tcp:…", "tls:…" (RFC 3263 without NAPTR/SRV). Pure. */
#pragma once

#include <stdint.h>

enum sip_transport { SIP_UDP, SIP_TCP, SIP_TLS };

struct sip_target {
	enum sip_transport transport;
	char host[256]; /* a name or an IP literal, without IPv6 brackets */
	uint16_t port;  /* 5060, or 5061 for TLS, when not given */
};

/* Parse one target; 0, or EINVAL with a one-line reason in *why (g_free it). */
int sip_target_parse(const char *s, struct sip_target *out, char **why);

/* "udp", "tcp", "tls" */
const char *sip_transport_name(enum sip_transport t);
