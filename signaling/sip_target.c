/* PBX targets of sip.pbx: "udp:host:port", "tcp:…", "tls:…", with ";srtp=…". Pure. */
#include "signaling/sip_target.h"

#include <errno.h>
#include <stdbool.h>
#include <glib.h>
#include <string.h>

const char *sip_transport_name(enum sip_transport t)
{
	return t == SIP_TLS ? "tls" : t == SIP_TCP ? "tcp" : "udp";
}

const char *sip_srtp_name(enum sip_srtp s)
{
	return s == SIP_SRTP_SDES ? "sdes" : s == SIP_SRTP_OPTIONAL ? "optional" : "off";
}

/* ";srtp=…" after the address of target s: 0, or EINVAL with *why. */
static int target_params(const char *s, const char *params, struct sip_target *out, char **why)
{
	if (!*params)
		return 0;
	if (strcmp(params, ";srtp=off") == 0)
		out->srtp = SIP_SRTP_OFF;
	else if (strcmp(params, ";srtp=sdes") == 0)
		out->srtp = SIP_SRTP_SDES;
	else if (strcmp(params, ";srtp=optional") == 0)
		out->srtp = SIP_SRTP_OPTIONAL;
	else {
		*why = g_strdup_printf("'%s': unknown parameter '%s' (;srtp=off|sdes|optional)", s,
		                       params);
		return EINVAL;
	}
	if (out->srtp == SIP_SRTP_SDES && out->transport != SIP_TLS) {
		*why = g_strdup_printf("'%s': srtp=sdes needs tls: (the keys travel in the SDP)",
		                       s);
		return EINVAL;
	}
	return 0;
}

static bool host_ok(const char *h, bool v6)
{
	if (!*h)
		return false;
	for (const char *p = h; *p; p++) {
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' && !(v6 && *p == ':'))
			return false;
	}
	return true;
}

static int parse_address(const char *s, struct sip_target *out, char **why);

int sip_target_parse(const char *s, struct sip_target *out, char **why)
{
	size_t addr_len = strcspn(s, ";");
	char *addr = g_strndup(s, addr_len);
	int rc = parse_address(addr, out, why);

	g_free(addr);
	return rc ? rc : target_params(s, s + addr_len, out, why);
}

/* "udp:|tcp:|tls:host[:port]" */
static int parse_address(const char *s, struct sip_target *out, char **why)
{
	const char *rest, *port = NULL;
	size_t hostlen;
	bool v6 = false;

	memset(out, 0, sizeof(*out));
	if (g_str_has_prefix(s, "udp:"))
		out->transport = SIP_UDP;
	else if (g_str_has_prefix(s, "tcp:"))
		out->transport = SIP_TCP;
	else if (g_str_has_prefix(s, "tls:"))
		out->transport = SIP_TLS;
	else {
		const char *colon = strchr(s, ':');

		if (colon)
			*why = g_strdup_printf("unknown transport \"%.*s\" in '%s' (udp, tcp, tls)",
			                       (int)MIN(colon - s, 32), s, s);
		else
			*why = g_strdup_printf("'%s' is not udp:|tcp:|tls:host[:port]", s);
		return EINVAL;
	}
	rest = s + 4;
	if (*rest == '[') {
		const char *close = strchr(rest, ']');

		if (!close || (close[1] && close[1] != ':')) {
			*why = g_strdup_printf("'%s': an IPv6 address goes in brackets", s);
			return EINVAL;
		}
		v6 = true;
		hostlen = (size_t)(close - rest - 1);
		rest++;
		port = close[1] ? close + 2 : NULL;
	} else {
		const char *colon = strchr(rest, ':');

		hostlen = colon ? (size_t)(colon - rest) : strlen(rest);
		port = colon ? colon + 1 : NULL;
	}
	if (hostlen == 0 || hostlen >= sizeof(out->host)) {
		*why = g_strdup_printf("'%s': no host, or a host too long", s);
		return EINVAL;
	}
	memcpy(out->host, rest, hostlen);
	if (!host_ok(out->host, v6)) {
		*why = g_strdup_printf("'%s': '%s' is not a host name or address", s, out->host);
		return EINVAL;
	}
	out->port = out->transport == SIP_TLS ? 5061 : 5060;
	if (port) {
		char *end = NULL;
		guint64 n = g_ascii_strtoull(port, &end, 10);

		if (!*port || *end || n == 0 || n > 65535) {
			*why = g_strdup_printf("'%s': '%s' is not a port", s, port);
			return EINVAL;
		}
		out->port = (uint16_t)n;
	}
	return 0;
}
