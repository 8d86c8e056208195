/* The configuration table: every key rtcgate reads, its type, default, bounds and doc. */
#include <errno.h>
#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "relay/peer_policy.h"
#include "signaling/sip_target.h"

static int check_level(const char *v, char **reason)
{
	enum log_level lvl;

	if (log_level_parse(v, &lvl) == 0)
		return 0;
	*reason = g_strdup_printf("unknown level '%s' (error, warn, info, debug)", v);
	return EINVAL;
}

static int check_levels(const char *v, char **reason)
{
	int levels[LOG_SUB_COUNT];

	return log_levels_parse("info", v, levels, reason);
}

static int check_ice_mode(const char *v, char **reason)
{
	if (!strcmp(v, "lite") || !strcmp(v, "full"))
		return 0;
	*reason = g_strdup("must be lite or full");
	return EINVAL;
}

static int check_address(const char *v, char **reason)
{
	GInetAddress *a;

	if (*v == '\0')
		return 0;
	a = g_inet_address_new_from_string(v);
	if (a) {
		g_object_unref(a);
		return 0;
	}
	*reason = g_strdup_printf("'%s' is not an IP address", v);
	return EINVAL;
}

/* An origin is scheme://host[:port] with no path, or "*". */
static int check_origins(const char *v, char **reason)
{
	gchar **items = g_strsplit(v, ",", -1);
	int rc = 0;

	for (gchar **it = items; *it; it++) {
		const char *o = g_strstrip(*it);
		GUri *uri;

		if (*o == '\0' || strcmp(o, "*") == 0)
			continue;
		uri = g_uri_parse(o, G_URI_FLAGS_NONE, NULL);
		if (!uri || !g_uri_get_host(uri) ||
		    (strcmp(g_uri_get_scheme(uri), "http") &&
		     strcmp(g_uri_get_scheme(uri), "https")) ||
		    (*g_uri_get_path(uri) && strcmp(g_uri_get_path(uri), "/")) ||
		    g_uri_get_query(uri)) {
			*reason = g_strdup_printf("'%s' is not an origin like https://host[:port]",
			                          o);
			rc = EINVAL;
		}
		if (uri)
			g_uri_unref(uri);
		if (rc)
			break;
	}
	g_strfreev(items);
	return rc;
}

/* Each comma-separated item a target. */
static int check_pbx(const char *v, char **reason)
{
	char **items = g_strsplit(v, ",", -1);
	int rc = 0;

	for (char **i = items; *i && !rc; i++) {
		struct sip_target t;
		char *item = g_strstrip(*i);

		if (!*item)
			continue;
		if (sip_target_parse(item, &t, reason))
			rc = EINVAL;
	}
	g_strfreev(items);
	return rc;
}

static int check_proxy(const char *v, char **reason)
{
	struct sip_target t;

	return *v ? sip_target_parse(v, &t, reason) : 0;
}

/* A file rtcgate reads at start: empty, or one it can read. */
static int check_file(const char *v, char **reason)
{
	if (!*v || (g_file_test(v, G_FILE_TEST_IS_REGULAR) && access(v, R_OK) == 0))
		return 0;
	*reason = g_strdup_printf("cannot read '%s'", v);
	return EINVAL;
}

static int check_port_range(const char *v, char **reason)
{
	uint16_t lo, hi;

	if (peer_port_range_parse(v, &lo, &hi) == 0)
		return 0;
	*reason = g_strdup_printf("'%s' is not a port range like 20001-30000", v);
	return EINVAL;
}

static int check_hostport(const char *v, char **reason)
{
	struct sockaddr_storage ss;

	if (*v == '\0' || peer_sockaddr_parse(v, &ss) == 0)
		return 0;
	*reason = g_strdup_printf(
	        "'%s' is not an address like 192.0.2.1:3478 or [2001:db8::1]:3478", v);
	return EINVAL;
}

static int check_peers(const char *v, bool allow_self, char **reason)
{
	struct peer_rule *rules = NULL;
	size_t n = 0;
	char *why = NULL;

	if (peer_rules_parse(v, allow_self, &rules, &n, NULL, &why) == 0) {
		free(rules);
		return 0;
	}
	*reason = g_strdup(why ? why : "out of memory");
	free(why);
	return EINVAL;
}

static int check_allowed_peers(const char *v, char **reason)
{
	return check_peers(v, true, reason);
}

static int check_denied_peers(const char *v, char **reason)
{
	return check_peers(v, false, reason);
}

/* RFC 8489 §14.9: REALM is fewer than 128 characters; empty would disable the long-term mechanism
 */
static int check_realm(const char *v, char **reason)
{
	if (*v && g_utf8_validate(v, -1, NULL) && g_utf8_strlen(v, -1) < 128)
		return 0;
	*reason = g_strdup("must be 1 to 127 UTF-8 characters");
	return EINVAL;
}

/* Goes into digest quoted-strings (RFC 7616, RFC 3261): no '"', '\\' or control bytes. */
static int check_sip_realm(const char *v, char **reason)
{
	bool ok = g_utf8_validate(v, -1, NULL) && g_utf8_strlen(v, -1) < 128;

	for (const char *p = v; ok && *p; p++)
		ok = (unsigned char)*p >= 0x20 && *p != 0x7f && *p != '"' && *p != '\\';
	if (ok)
		return 0;
	*reason = g_strdup("must be at most 127 UTF-8 characters without \", \\ or control bytes");
	return EINVAL;
}

static int check_io(const char *v, char **reason)
{
	if (strcmp(v, "io_uring") == 0 || strcmp(v, "syscalls") == 0)
		return 0;
	*reason = g_strdup("must be io_uring or syscalls");
	return EINVAL;
}

static int check_api_token(const char *v, char **reason)
{
	size_t n = strlen(v);
	bool ok = n == 0 || n >= 16;

	for (const char *p = v; ok && *p; p++)
		ok = g_ascii_isalnum(*p) || strchr("-._~+/", *p);
	if (ok)
		return 0;
	*reason = g_strdup("must be empty or at least 16 characters of A-Z a-z 0-9 - . _ ~ + /");
	return EINVAL;
}

static int check_users(const char *v, char **reason)
{
	gchar **items = g_strsplit(v, ",", -1);
	int rc = 0;

	for (gchar **it = items; *it && !rc; it++) {
		const char *u = g_strstrip(*it);
		const char *colon = strchr(u, ':');

		if (*u && (!colon || colon == u || !colon[1])) {
			/* the entry is named by its user part only: the password stays out of logs
			 */
			*reason = g_strdup_printf("entry %td is not user:password", it - items + 1);
			rc = EINVAL;
		}
	}
	g_strfreev(items);
	return rc;
}

#define OFF(f) offsetof(struct conf, f)

const struct conf_key conf_keys[] = {
	{ "general", "state_dir", CONF_STR, "./state", 0, 0, OFF(state_dir), 0, NULL,
	  "Directory for the generated TLS certificate and the SQLite database." },

	{ "log", "level", CONF_STR, "info", 0, 0, OFF(log.level), CONF_LIVE, check_level,
	  "Default level for every subsystem: error, warn, info or debug." },
	{ "log", "levels", CONF_STR, "", 0, 0, OFF(log.levels), CONF_LIVE, check_levels,
	  "Per-subsystem levels over log.level, e.g. sip:debug,http:warn." },

	{ "http", "address", CONF_STR, "", 0, 0, OFF(http.address), 0, check_address,
	  "Address the HTTP and HTTPS listeners bind; empty for all interfaces." },
	{ "http", "port", CONF_INT, "8080", 0, 65535, OFF(http.port), 0, NULL,
	  "Plain HTTP and WS port; 0 turns the listener off." },
	{ "http", "tls_port", CONF_INT, "8443", 0, 65535, OFF(http.tls_port), 0, NULL,
	  "HTTPS and WSS port; 0 turns the listener off." },
	{ "http", "cert", CONF_STR, "", 0, 0, OFF(http.cert), 0, NULL,
	  "PEM certificate chain for HTTPS; empty makes a self-signed one in state_dir." },
	{ "http", "key", CONF_STR, "", 0, 0, OFF(http.key), 0, NULL,
	  "PEM private key for http.cert." },
	{ "http", "allowed_origins", CONF_LIST, "", 0, 0, OFF(http.allowed_origins), CONF_LIVE,
	  check_origins,
	  "Origins allowed to open /sip, comma-separated; empty allows only the same origin, * "
	  "any." },
	{ "http", "web_root", CONF_STR, "./web", 0, 0, OFF(http.web_root), 0, NULL,
	  "Directory of the softphone's static files." },
	{ "http", "max_header_bytes", CONF_INT, "8192", 1024, 65535, OFF(http.max_header_bytes), 0,
	  NULL, "Largest request header block accepted, in bytes." },
	{ "http", "max_body_bytes", CONF_INT, "65536", 0, 16777216, OFF(http.max_body_bytes),
	  CONF_LIVE, NULL, "Largest request body accepted, in bytes; larger gets 413." },
	{ "http", "ws_max_message", CONF_INT, "65536", 1024, 1048576, OFF(http.ws_max_message),
	  CONF_LIVE, NULL,
	  "Largest WebSocket message on /sip, in bytes; larger closes with 1009." },
	{ "http", "ws_max_connections", CONF_INT, "10000", 1, 1000000, OFF(http.ws_max_connections),
	  CONF_LIVE, NULL, "Most WebSocket connections open at once; more get 503." },
	{ "http", "ws_ping_interval", CONF_INT, "30", 0, 3600, OFF(http.ws_ping_interval), 0, NULL,
	  "Seconds a WebSocket may stay silent before rtcgate pings it; 0 turns pings off." },
	{ "http", "ws_ping_timeout", CONF_INT, "10", 1, 3600, OFF(http.ws_ping_timeout), 0, NULL,
	  "Seconds after a ping without a pong (or any frame) before the flow is closed as dead." },
	{ "http", "header_timeout", CONF_INT, "10", 1, 300, OFF(http.header_timeout), CONF_LIVE,
	  NULL, "Seconds a new connection may take to send its request header; then 408." },
	{ "http", "idle_timeout", CONF_INT, "60", 5, 3600, OFF(http.idle_timeout), 0, NULL,
	  "Seconds an idle keep-alive HTTP connection is kept open." },
	{ "http", "api_token", CONF_STR, "", 0, 0, OFF(http.api_token), CONF_SECRET | CONF_LIVE,
	  check_api_token,
	  "Bearer token of the admin API /api/v1 (at least 16 characters); empty turns the API "
	  "off." },

	{ "turn", "address", CONF_STR, "", 0, 0, OFF(turn.address), 0, check_address,
	  "Address the STUN/TURN listeners bind; empty for all interfaces." },
	{ "turn", "port", CONF_INT, "3478", 0, 65535, OFF(turn.port), 0, NULL,
	  "STUN/TURN port over UDP and TCP; 0 turns both listeners off." },
	{ "turn", "tls_port", CONF_INT, "5349", 0, 65535, OFF(turn.tls_port), 0, NULL,
	  "TURN over TLS port (certificate of http.cert); 0 turns the listener off." },
	{ "turn", "realm", CONF_STR, "rtcgate", 0, 0, OFF(turn.realm), CONF_LIVE, check_realm,
	  "REALM of the long-term credential mechanism." },
	{ "turn", "secrets", CONF_LIST, "", 0, 0, OFF(turn.secrets), CONF_SECRET | CONF_LIVE, NULL,
	  "TURN REST shared secrets, comma-separated; several at once for rotation." },
	{ "turn", "users", CONF_LIST, "", 0, 0, OFF(turn.users), CONF_SECRET | CONF_LIVE,
	  check_users, "Static long-term credentials as user:password, comma-separated." },
	{ "turn", "relay_ports", CONF_STR, "20001-30000", 0, 0, OFF(turn.relay_ports), 0,
	  check_port_range, "UDP ports for relayed transport addresses." },
	{ "turn", "allowed_peers", CONF_STR, "self", 0, 0, OFF(turn.allowed_peers), CONF_LIVE,
	  check_allowed_peers,
	  "Peers a client may relay to: self (rtcgate's media addresses and ports), "
	  "CIDR[:ports]." },
	{ "turn", "denied_peers", CONF_STR, "", 0, 0, OFF(turn.denied_peers), CONF_LIVE,
	  check_denied_peers,
	  "Peers never relayed to, CIDR[:ports], comma-separated; wins over allowed_peers." },
	{ "turn", "max_lifetime", CONF_INT, "3600", 600, 86400, OFF(turn.max_lifetime), CONF_LIVE,
	  NULL, "Longest allocation lifetime granted, in seconds." },
	{ "turn", "nonce_lifetime", CONF_INT, "600", 30, 86400, OFF(turn.nonce_lifetime), CONF_LIVE,
	  NULL, "Seconds a NONCE stays valid before 438 Stale Nonce." },
	{ "turn", "max_allocations", CONF_INT, "10000", 1, 1000000, OFF(turn.max_allocations),
	  CONF_LIVE, NULL,
	  "Most allocations and port reservations at once, all users together; more get 486." },
	{ "turn", "max_allocations_per_user", CONF_INT, "10", 1, 100000,
	  OFF(turn.max_allocations_per_user), CONF_LIVE, NULL,
	  "Most allocations and port reservations at once for one user (the user part of a REST "
	  "username, so every credential /config hands one user counts together); more get 486." },
	{ "turn", "max_connections_per_ip", CONF_INT, "200", 1, 100000,
	  OFF(turn.max_connections_per_ip), CONF_LIVE, NULL,
	  "Most TURN TCP and TLS connections at once from one client IP address; more are closed "
	  "at accept." },
	{ "turn", "alternate_server", CONF_STR, "", 0, 0, OFF(turn.alternate_server), CONF_LIVE,
	  check_hostport,
	  "When set, every authenticated Allocate is redirected there (300 Try Alternate)." },
	{ "turn", "max_bandwidth", CONF_INT, "2000", 0, 10000000, OFF(turn.max_bandwidth),
	  CONF_LIVE, NULL,
	  "Kbit/s one allocation may relay, both directions together; more is dropped; 0 = no "
	  "limit." },
	{ "turn", "request_rate", CONF_INT, "50", 1, 100000, OFF(turn.request_rate), CONF_LIVE,
	  NULL,
	  "Unauthenticated STUN/TURN requests per second per source IP (bursts of twice that)." },
	{ "turn", "credential_lifetime", CONF_INT, "86400", 60, 604800,
	  OFF(turn.credential_lifetime), CONF_LIVE, NULL,
	  "Seconds the TURN credentials handed out by /config stay valid." },
	{ "turn", "workers", CONF_INT, "0", 0, 64, OFF(turn.workers), 0, NULL,
	  "TURN worker threads, each with its own socket; 0 for one per core." },
	{ "turn", "io", CONF_STR, "io_uring", 0, 0, OFF(turn.io), 0, check_io,
	  "How workers send and receive on relay sockets: io_uring (one submission per batch "
	  "across sockets; falls back to syscalls when the kernel refuses) or syscalls "
	  "(recvmmsg/sendmmsg per socket)." },
	{ "turn", "udp_gso", CONF_INT, "1", 0, 1, OFF(turn.udp_gso), 0, NULL,
	  "1: with io_uring on Linux 6.1 or newer, relayed datagrams queued back to back toward "
	  "one destination leave as one UDP GSO send, cut into the same datagrams by the kernel; "
	  "0: one send per datagram." },

	{ "sip", "realm", CONF_STR, "", 0, 0, OFF(sip.realm), 0, check_sip_realm,
	  "Digest realm of device secrets (SIP and HTTP); empty for the host name. Changing it "
	  "needs every device secret set again." },
	{ "sip", "pbx", CONF_LIST, "", 0, 0, OFF(sip.pbx), 0, check_pbx,
	  "PBX targets, udp:|tcp:|tls:host[:port][;srtp=off|sdes|optional] (5060, 5061 for tls; "
	  "srtp: media as RTP, SDES-SRTP, or SDES-SRTP when the PBX offers it; sdes needs tls), in "
	  "failover order; empty for the built-in demo target, which answers calls to echo." },
	{ "sip", "outbound_proxy", CONF_STR, "", 0, 0, OFF(sip.outbound_proxy), 0, check_proxy,
	  "udp:|tcp:|tls:host[:port] every request toward the PBX is sent to, with a Route header "
	  "naming it (loose routing); empty to send to the targets directly." },
	{ "sip", "tls_ca", CONF_STR, "", 0, 0, OFF(sip.tls_ca), 0, check_file,
	  "PEM file of the CAs a tls: PBX or proxy certificate must chain to; empty for the system "
	  "store." },
	{ "sip", "tls_verify", CONF_INT, "1", 0, 1, OFF(sip.tls_verify), 0, NULL,
	  "1 checks the tls: PBX certificate (CA and host name); 0 takes any certificate (tests "
	  "only)." },
	{ "sip", "tls_cert", CONF_STR, "", 0, 0, OFF(sip.tls_cert), 0, check_file,
	  "PEM client certificate (chain) shown to a tls: PBX that asks for one; empty for none." },
	{ "sip", "tls_key", CONF_STR, "", 0, 0, OFF(sip.tls_key), 0, check_file,
	  "PEM private key of sip.tls_cert." },
	{ "sip", "keepalive_interval", CONF_INT, "30", 0, 3600, OFF(sip.keepalive_interval), 0,
	  NULL,
	  "Seconds between CRLF keepalives on tcp: and tls: connections (RFC 5626); 0 for none." },
	{ "sip", "address", CONF_STR, "", 0, 0, OFF(sip.address), 0, check_address,
	  "Address of the SIP socket toward the PBX; empty for every address." },
	{ "sip", "port", CONF_INT, "5060", 1, 65535, OFF(sip.port), 0, NULL,
	  "UDP port of the SIP socket toward the PBX (tcp: and tls: targets use connections "
	  "rtcgate opens); SIP from other addresses than the PBX targets is dropped." },
	{ "sip", "options_interval", CONF_INT, "30", 0, 3600, OFF(sip.options_interval), 0, NULL,
	  "Seconds between the OPTIONS pings that mark each PBX target up (any answer within 2 s) "
	  "or down; 0 turns them off and every target counts as up." },
	{ "sip", "invite_timeout", CONF_INT, "60", 1, 600, OFF(sip.invite_timeout), 0, NULL,
	  "Seconds a call may wait for its final answer (RFC 3261 timer C): then the caller gets "
	  "408 and the other side a CANCEL." },

	{ "media", "ports", CONF_STR, "10000-20000", 0, 0, OFF(media.ports), 0, check_port_range,
	  "UDP ports of the media legs, an RTP/RTCP pair each; turn.allowed_peers = self allows "
	  "relaying to these." },
	{ "media", "workers", CONF_INT, "0", 0, 64, OFF(media.workers), 0, NULL,
	  "Media worker threads; a call's packets stay on one; 0 for one per core." },
	{ "media", "public_address", CONF_STR, "", 0, 0, OFF(media.public_address), 0,
	  check_address,
	  "IP address advertised in SDP for the media legs (1:1 NAT); empty for the local "
	  "address toward each peer." },
	{ "media", "dtls_cert", CONF_STR, "", 0, 0, OFF(media.dtls_cert), 0, NULL,
	  "PEM certificate of the WebRTC legs' DTLS-SRTP (its SHA-256 fingerprint goes in SDP); "
	  "empty makes a self-signed ECDSA P-256 one at each start." },
	{ "media", "dtls_key", CONF_STR, "", 0, 0, OFF(media.dtls_key), 0, NULL,
	  "PEM private key for media.dtls_cert." },
	{ "media", "ice_mode", CONF_STR, "lite", 0, 0, OFF(media.ice_mode), 0, check_ice_mode,
	  "ICE on the WebRTC legs: lite (answer the browser's checks, RFC 8445 §2.5) or full "
	  "(run checks too, and RFC 7675 consent checks)." },
	{ "media", "consent_timeout", CONF_INT, "30", 1, 300, OFF(media.consent_timeout), 0, NULL,
	  "Seconds without authenticated media or DTLS from the browser (RFC 7675 consent) "
	  "before its leg counts as gone and the call ends." },
	{ "media", "ice_timeout", CONF_INT, "15", 1, 120, OFF(media.ice_timeout), 0, NULL,
	  "Seconds from the browser's SDP until ICE and DTLS-SRTP must be up; then the call "
	  "fails." },
	{ "media", "io", CONF_STR, "io_uring", 0, 0, OFF(media.io), 0, check_io,
	  "How media workers wait, receive and send: io_uring (one submission per wake-up for "
	  "every socket; falls back to syscalls when the kernel refuses) or syscalls (epoll, "
	  "recvmmsg/sendmmsg per socket)." },
};

const size_t conf_nkeys = G_N_ELEMENTS(conf_keys);
