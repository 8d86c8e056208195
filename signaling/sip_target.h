/* PBX targets of sip.pbx: "udp:host:port", "tcp:…", "tls:…", with ";srtp=…" (RFC 3263 without
 * NAPTR/SRV). Pure. */
#pragma once

#include <stdint.h>

enum sip_transport { SIP_UDP, SIP_TCP, SIP_TLS };

/* Media toward the PBX (issue 5 scope 4). */
enum sip_srtp {
	SIP_SRTP_OFF,      /* plain RTP/AVP, the default */
	SIP_SRTP_SDES,     /* RTP/SAVP with a=crypto (RFC 4568); only over tls: */
	SIP_SRTP_OPTIONAL, /* plain offered; SDES-SRTP taken when the PBX offers it over tls: */
};

struct sip_target {
	enum sip_transport transport;
	char host[256]; /* a name or an IP literal, without IPv6 brackets */
	uint16_t port;  /* 5060, or 5061 for TLS, when not given */
	enum sip_srtp srtp;
};

/*
 * Parse one target, "udp:|tcp:|tls:host[:port][;srtp=off|sdes|optional]";
 * 0, or EINVAL with a one-line reason in *why (g_free it). srtp=sdes on a
 * transport other than tls: is refused: the keys travel in the SDP.
 */
int sip_target_parse(const char *s, struct sip_target *out, char **why);

/* "udp", "tcp", "tls" */
const char *sip_transport_name(enum sip_transport t);

/* "off", "sdes", "optional" */
const char *sip_srtp_name(enum sip_srtp s);
