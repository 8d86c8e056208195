/* The configuration table: every key rtcgate reads, its type, default, bounds and doc. */
#include <errno.h>
#include <gio/gio.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"

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
	{ "http", "header_timeout", CONF_INT, "10", 1, 300, OFF(http.header_timeout), CONF_LIVE,
	  NULL, "Seconds a new connection may take to send its request header; then 408." },
	{ "http", "idle_timeout", CONF_INT, "60", 5, 3600, OFF(http.idle_timeout), 0, NULL,
	  "Seconds an idle keep-alive HTTP connection is kept open." },

	{ "turn", "address", CONF_STR, "", 0, 0, OFF(turn.address), 0, check_address,
	  "Address the STUN/TURN listeners bind; empty for all interfaces." },
	{ "turn", "port", CONF_INT, "3478", 0, 65535, OFF(turn.port), 0, NULL,
	  "STUN/TURN port over UDP; 0 turns the listener off." },
	{ "turn", "workers", CONF_INT, "0", 0, 64, OFF(turn.workers), 0, NULL,
	  "TURN worker threads, each with its own socket; 0 for one per core." },
};

const size_t conf_nkeys = G_N_ELEMENTS(conf_keys);
