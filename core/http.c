/* HTTP server: libwebsockets context on the GLib loop, connection guards, WebSocket upgrade checks.
 */
#include "core/http.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/http_priv.h"
#include "core/log.h"

/* Marks a connection we already refused by hand, so the close path stays quiet. */
static char refused_mark;

double http_uptime(const struct http_server *srv)
{
	return (double)(g_get_monotonic_time() - srv->start_mono) / G_USEC_PER_SEC;
}

/*
 * Answer a connection that never produced a routable request in time:
 * libwebsockets would just close it, so we write a minimal response on the
 * socket ourselves first. Over TLS that is only possible once the handshake
 * is done.
 */
static void refuse_raw(struct lws *wsi, int status, const char *phrase, const char *reason)
{
	char buf[512], junk[4096];
	int fd = (int)lws_get_socket_fd(wsi);
	SSL *ssl = lws_get_ssl(wsi);
	int n;

	n = snprintf(buf, sizeof(buf),
	             "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	             "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
	             status, phrase, strlen(reason) + 1, reason);
	lws_set_opaque_user_data(wsi, &refused_mark);
	if (fd < 0 || n <= 0 || (size_t)n >= sizeof(buf))
		return;
	if (ssl) {
		if (SSL_is_init_finished(ssl))
			SSL_write(ssl, buf, n);
		return;
	}
	/* drain what is queued, so closing sends FIN rather than RST */
	for (int i = 0; i < 16 && recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0; i++)
		;
	(void)!send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_WR);
}

/*
 * Did the client send anything at all? One that leaves without a byte is no
 * refusal. The kernel's byte count includes the peer's FIN, when it came.
 */
static bool client_spoke(struct lws *wsi)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int fd = (int)lws_get_socket_fd(wsi);
	char c;

	memset(&ti, 0, sizeof(ti));
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return false;
	if (ti.tcpi_bytes_received && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
		ti.tcpi_bytes_received--;
	return ti.tcpi_bytes_received > 0;
}

static void count_rejected(struct http_server *srv, const char *reason)
{
	metrics_add(srv->metrics, METRIC_HTTP_REJECTED, 1, (const char *[]){ reason });
}

static enum http_method req_method(struct lws *wsi)
{
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
		return HTTP_GET;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI))
		return HTTP_HEAD;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI))
		return HTTP_POST;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI))
		return HTTP_PUT;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_PATCH_URI))
		return HTTP_PATCH;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI))
		return HTTP_DELETE;
	return HTTP_OTHER;
}

/* True when the header is a comma-separated token list holding token. */
static bool header_has_token(struct lws *wsi, enum lws_token_indexes h, const char *token)
{
	char buf[256];
	gchar **parts;
	bool found = false;

	if (lws_hdr_copy(wsi, buf, sizeof(buf), h) <= 0)
		return false;
	parts = g_strsplit(buf, ",", -1);
	for (gchar **p = parts; *p && !found; p++)
		found = g_ascii_strcasecmp(g_strstrip(*p), token) == 0;
	g_strfreev(parts);
	return found;
}

/*
 * Same origin means Origin's host[:port] equals Host. An explicit list
 * allows exactly those origins; "*" allows any. No Origin header means a
 * non-browser client, which the browser-oriented check cannot apply to.
 */
static bool origin_allowed(const struct http_conf *hc, struct lws *wsi)
{
	char origin[256], host[256];
	const char *o_host;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0)
		return true;
	if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0)
		return false;
	if (hc->allowed_origins[0]) {
		for (char **a = hc->allowed_origins; *a; a++) {
			if (strcmp(*a, "*") == 0 || g_ascii_strcasecmp(*a, origin) == 0)
				return true;
		}
		return false;
	}
	o_host = strstr(origin, "://");
	if (!o_host || lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0)
		return false;
	return g_ascii_strcasecmp(o_host + 3, host) == 0;
}

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: >0 refused (answered), 0 go ahead. */
static int confirm_upgrade(struct http_server *srv, struct lws *wsi, const char *upgrade)
{
	struct http_req req = { .srv = srv, .wsi = wsi, .method = req_method(wsi) };
	struct http_resp resp = { 0 };
	char path[64] = "";

	lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI);
	req.path = path;
	req.tls = lws_is_ssl(wsi);

	if (strcmp(path, "/sip") != 0)
		http_resp_error(&resp, HTTP_STATUS_NOT_FOUND,
		                "no WebSocket endpoint here; use /sip");
	else if (g_ascii_strcasecmp(upgrade, "websocket") != 0)
		http_resp_error(&resp, HTTP_STATUS_BAD_REQUEST,
		                "only WebSocket upgrades are served");
	else if (!header_has_token(wsi, WSI_TOKEN_PROTOCOL, "sip"))
		http_resp_error(&resp, HTTP_STATUS_BAD_REQUEST,
		                "WebSocket subprotocol 'sip' required (RFC 7118)");
	else if (header_has_token(wsi, WSI_TOKEN_PROTOCOL, srv->protocols[0].name) ||
	         header_has_token(wsi, WSI_TOKEN_PROTOCOL, srv->protocols[2].name))
		/* lws binds the first name it knows; only "sip" may be bound */
		http_resp_error(&resp, HTTP_STATUS_BAD_REQUEST, "only subprotocol 'sip' is served");
	else if (!origin_allowed(&srv->conf->http, wsi))
		http_resp_error(&resp, HTTP_STATUS_FORBIDDEN, "origin not allowed");
	else if (srv->shutting_down)
		http_resp_error(&resp, HTTP_STATUS_SERVICE_UNAVAILABLE, "server shutting down");
	else if (ws_sip_count(srv->ws_sip) >= (unsigned)srv->conf->http.ws_max_connections) {
		http_resp_error(&resp, HTTP_STATUS_SERVICE_UNAVAILABLE,
		                "too many WebSocket connections");
		resp.retry_after = 5;
	} else
		return 0;
	resp.close = true;
	http_resp_send(&req, "sip", &resp);
	return 1;
}

static const struct route {
	const char *path;
	const char *name;
	void (*handle)(const struct http_req *req, struct http_resp *resp);
	bool prefix; /* path matches as a prefix; the route takes any method and a body */
} routes[] = {
	{ "/healthz", "healthz", http_route_healthz, false },
	{ "/metrics", "metrics", http_route_metrics, false },
	{ "/config", "config", http_route_config, false },
	{ "/sip", "sip", http_route_sip_plain, false },
	{ "/api/", "api", http_route_api, true },
};

static const struct route *find_route(const char *path)
{
	for (size_t i = 0; i < G_N_ELEMENTS(routes); i++) {
		const struct route *r = &routes[i];

		if (r->prefix ? strncmp(path, r->path, strlen(r->path)) == 0
		              : strcmp(path, r->path) == 0)
			return r;
	}
	return NULL;
}

static void pss_reset(struct http_pss *pss)
{
	if (pss->body)
		g_string_free(pss->body, TRUE);
	g_free(pss->path);
	memset(pss, 0, sizeof(*pss));
}

/*
 * The body of a request to a body-taking route is complete: answer it. The
 * per-session data is emptied first: completing the transaction may let
 * lws free it.
 */
static int on_body_done(struct http_server *srv, struct lws *wsi, struct http_pss *pss)
{
	struct http_req req = { .srv = srv, .wsi = wsi, .method = pss->method };
	struct http_resp resp = { 0 };
	GString *body = pss->body;
	char *path = pss->path;
	const struct route *r = find_route(path);
	int rc;

	memset(pss, 0, sizeof(*pss));
	req.path = path;
	req.tls = lws_is_ssl(wsi);
	req.body = body->str;
	req.body_len = body->len;
	r->handle(&req, &resp);
	rc = http_resp_send(&req, r->name, &resp);
	g_string_free(body, TRUE);
	g_free(path);
	return rc;
}

/* LWS_CALLBACK_HTTP_BODY: append, within http.max_body_bytes (a lying length closes). */
static int on_body(struct http_server *srv, struct http_pss *pss, const void *in, size_t len)
{
	if (!pss || !pss->collecting ||
	    pss->body->len + len > (size_t)srv->conf->http.max_body_bytes) {
		if (pss)
			pss_reset(pss);
		return -1;
	}
	g_string_append_len(pss->body, in, (gssize)len);
	return 0;
}

/* Content-Length as a number; -1 when absent, G_MAXINT64 when not a sane number. */
static gint64 content_length(struct lws *wsi)
{
	char clen[32];
	guint64 n;

	if (lws_hdr_copy(wsi, clen, sizeof(clen), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
		return -1;
	if (!g_ascii_string_to_unsigned(clen, 10, 0, G_MAXINT64, &n, NULL))
		return G_MAXINT64;
	return (gint64)n;
}

/* A route that takes a body: wait for it (1), or answer now without one (0). */
static int start_body(struct http_pss *pss, const struct http_req *req, struct http_resp *resp,
                      gint64 clen)
{
	bool needs =
	        req->method == HTTP_POST || req->method == HTTP_PUT || req->method == HTTP_PATCH;

	if (clen < 0 && needs) {
		http_resp_json_error(resp, 411, NULL, "a Content-Length header is required");
		resp->close = true;
		return 0;
	}
	if (clen <= 0 || !pss)
		return 0;
	pss_reset(pss);
	pss->collecting = true;
	pss->method = req->method;
	pss->path = g_strdup(req->path);
	pss->body = g_string_sized_new((gsize)clen + 1);
	return 1;
}

/* The request headers are in: route it. Returns the lws callback result. */
static int on_request(struct http_server *srv, struct lws *wsi, struct http_pss *pss,
                      const char *path)
{
	struct http_req req = { .srv = srv, .wsi = wsi, .method = req_method(wsi), .path = path };
	struct http_resp resp = { 0 };
	const struct route *r = find_route(path);
	gint64 clen = content_length(wsi);
	int served = 0;

	req.tls = lws_is_ssl(wsi);
	if (clen > (gint64)srv->conf->http.max_body_bytes) {
		if (r && r->prefix)
			http_resp_json_error(&resp, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, NULL,
			                     "request body too large (http.max_body_bytes)");
		else
			http_resp_error(&resp, HTTP_STATUS_REQ_ENTITY_TOO_LARGE,
			                "request body too large");
		resp.close = true;
	} else if (r && r->prefix) {
		if (start_body(pss, &req, &resp, clen))
			return 0;
		if (!resp.status)
			r->handle(&req, &resp);
	} else if (req.method != HTTP_GET && req.method != HTTP_HEAD) {
		http_resp_error(&resp, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
		resp.allow = "GET, HEAD";
		resp.close = true;
	} else if (r) {
		r->handle(&req, &resp);
	} else if (http_route_static(&req, &resp, &served) == 0 && !resp.status) {
		/* lws is sending the file */
		metrics_add(srv->metrics, METRIC_HTTP_REQUESTS, 1,
		            (const char *[]){ "static", "200" });
		if (served > 0 && lws_http_transaction_completed(wsi))
			return -1;
		return served < 0 ? -1 : 0;
	}
	return http_resp_send(&req, r ? r->name : "static", &resp);
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
	const struct lws_protocols *p = lws_get_protocol(wsi);
	struct http_server *srv = p ? p->user : NULL;

	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		/*
		 * lws_context_deprecate() would close the listeners but touches
		 * freed memory in lws 4.1 on the GLib loop; refusing is enough.
		 */
		return srv && srv->shutting_down ? -1 : 0;
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		/* until its header is complete, a connection has no user data */
		if (srv)
			lws_set_timer_usecs(wsi, (lws_usec_t)srv->conf->http.header_timeout *
			                                 LWS_USEC_PER_SEC);
		return 0;
	case LWS_CALLBACK_FILTER_HTTP_CONNECTION:
		lws_set_timer_usecs(wsi, LWS_SET_TIMER_USEC_CANCEL);
		return 0;
	case LWS_CALLBACK_TIMER:
		if (user || lws_get_opaque_user_data(wsi))
			return 0;
		count_rejected(srv, "header_timeout");
		refuse_raw(wsi, 408, "Request Timeout", "request header not received in time");
		return -1;
	case LWS_CALLBACK_CLOSED_HTTP:
		if (user)
			pss_reset(user);
		/*
		 * The header never completed and lws gave up on it (a malformed
		 * line, or more than max_header_bytes). lws 4.1 has already
		 * shut the socket for writing here, so no 400 can go out; it is
		 * counted and logged instead.
		 */
		if (!user && !lws_get_opaque_user_data(wsi) && client_spoke(wsi)) {
			count_rejected(srv, "bad_header");
			log_info(LOG_HTTP, "request header refused", "reason=%s",
			         "malformed_or_too_large");
		}
		return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: return confirm_upgrade(srv, wsi, in);
	case LWS_CALLBACK_HTTP: return on_request(srv, wsi, user, in);
	case LWS_CALLBACK_HTTP_BODY:
		/* only a route that takes a body waits for one; others already answered */
		return on_body(srv, user, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!user || !((struct http_pss *)user)->collecting)
			return -1;
		return on_body_done(srv, wsi, user);
	case LWS_CALLBACK_ESTABLISHED:
		/* a WebSocket bound to the http protocol: confirm_upgrade prevents it */
		return -1;
	default: break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/*
 * Bytes that cannot start an HTTP request (an unknown method, binary
 * garbage, TLS on the plain port): lws hands the connection over to this raw
 * protocol instead of dropping it, and we answer 400 before closing.
 */
static int fallback_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                             void *in, size_t len)
{
	static const char answer[] = "HTTP/1.1 400 Bad Request\r\n"
	                             "Content-Type: text/plain; charset=utf-8\r\n"
	                             "Content-Length: 22\r\nConnection: close\r\n\r\n"
	                             "malformed request line\n";
	const struct lws_protocols *p = lws_get_protocol(wsi);
	struct http_server *srv = p ? p->user : NULL;
	unsigned char buf[LWS_PRE + sizeof(answer)];

	(void)user;
	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT:
		/* answer at once: lws's raw read of the rest may fail before a writable callback */
		count_rejected(srv, "bad_request_line");
		memcpy(buf + LWS_PRE, answer, sizeof(answer) - 1);
		lws_write(wsi, buf + LWS_PRE, sizeof(answer) - 1, LWS_WRITE_RAW);
		return -1;
	case LWS_CALLBACK_ESTABLISHED: return -1;
	default: return 0;
	}
}

static void lws_log_emit(int level, const char *line)
{
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (level & LLL_ERR)
		log_err(LOG_LWS, "libwebsockets", "text=\"%.*s\"", (int)n, line);
	else if (level & LLL_WARN)
		log_warn(LOG_LWS, "libwebsockets", "text=\"%.*s\"", (int)n, line);
	else
		log_debug(LOG_LWS, "libwebsockets", "text=\"%.*s\"", (int)n, line);
}

/* lws's own chatter follows log level "lws": debug shows its notices and info lines. */
static void set_lws_log_level(void)
{
	int lvl = LLL_ERR | LLL_WARN;

	if (log_levels[LOG_LWS] >= LOG_LVL_DEBUG)
		lvl |= LLL_NOTICE | LLL_INFO;
	lws_set_log_level(lvl, lws_log_emit);
}

static int add_vhost(struct http_server *srv, const char *name, int port, const char *cert,
                     const char *key, char **why)
{
	const struct http_conf *hc = &srv->conf->http;
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	info.vhost_name = name;
	info.port = port;
	info.iface = srv->address; /* lws keeps the pointer */
	info.protocols = srv->protocols;
	info.keepalive_timeout = hc->idle_timeout;
	info.alpn = "http/1.1";
	info.options |= LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG;
	info.listen_accept_role = "raw-skt";
	info.listen_accept_protocol = srv->protocols[2].name;
	if (hc->ws_ping_interval) {
		/*
		 * lws pings a WebSocket that has been silent this long and closes
		 * it when nothing (a pong or any frame: ws_sip confirms each
		 * message) comes back in time: a browser that vanished without a
		 * FIN is a dead flow, and its registrations and calls end.
		 */
		srv->ws_idle.secs_since_valid_ping = (uint16_t)hc->ws_ping_interval;
		srv->ws_idle.secs_since_valid_hangup =
		        (uint16_t)MIN(hc->ws_ping_interval + hc->ws_ping_timeout, UINT16_MAX);
		info.retry_and_idle_policy = &srv->ws_idle;
	}
	if (cert) {
		/* lws only does TLS on a vhost whose own options ask for it */
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cert;
		info.ssl_private_key_filepath = key;
		info.ssl_options_set = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
		                       SSL_OP_NO_TLSv1_1 | SSL_OP_NO_COMPRESSION;
	}
	if (!lws_create_vhost(srv->ctx, &info)) {
		*why = g_strdup_printf("cannot listen on %s port %d%s",
		                       *hc->address ? hc->address : "*", port,
		                       cert ? " (or TLS certificate unusable)" : "");
		return EADDRINUSE;
	}
	log_info(LOG_HTTP, "listener open", "vhost=%s address=%s port=%d tls=%s", name,
	         *hc->address ? hc->address : "*", port, cert ? "yes" : "no");
	return 0;
}

int http_server_start(const struct conf *conf, const char *cert, const char *key,
                      struct metrics *metrics, GMainLoop *loop, struct http_server **out,
                      char **why)
{
	struct http_server *srv = g_new0(struct http_server, 1);
	struct lws_context_creation_info info;
	void *foreign_loops[1] = { loop };
	int rc = 0;

	srv->conf = conf;
	srv->metrics = metrics;
	srv->start_mono = g_get_monotonic_time();
	srv->start_real = (double)g_get_real_time() / G_USEC_PER_SEC;
	srv->web_root_real = realpath(conf->http.web_root, NULL);
	if (!srv->web_root_real)
		log_warn(LOG_HTTP, "web root missing", "path=%s", conf->http.web_root);
	srv->ws_sip = ws_sip_new(&conf->http, metrics);
	srv->protocols[0] = (struct lws_protocols){
		.name = "http",
		.callback = http_callback,
		.per_session_data_size = sizeof(struct http_pss),
		.user = srv,
	};
	srv->protocols[1] = ws_sip_protocol(srv->ws_sip);
	srv->protocols[2] = (struct lws_protocols){
		.name = "rtcgate-http-fallback",
		.callback = fallback_callback,
		.user = srv,
	};
	srv->address = *conf->http.address ? g_strdup(conf->http.address) : NULL;

	set_lws_log_level();
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_GLIB | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
	               LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.foreign_loops = foreign_loops;
	info.max_http_header_data = (unsigned short)conf->http.max_header_bytes;
	/* our own header timer fires first; this is only lws's backstop */
	info.timeout_secs_ah_idle = 310;
	info.user = srv;
	srv->ctx = lws_create_context(&info);
	if (!srv->ctx) {
		*why = g_strdup(
		        "libwebsockets could not start (is libwebsockets-evlib-glib installed?)");
		rc = EPROTO;
		goto out;
	}
	if (conf->http.port)
		rc = add_vhost(srv, "http", conf->http.port, NULL, NULL, why);
	if (!rc && conf->http.tls_port)
		rc = add_vhost(srv, "https", conf->http.tls_port, cert, key, why);
out:
	if (rc) {
		http_server_free(srv);
		return rc;
	}
	*out = srv;
	return 0;
}

void http_server_set_devices(struct http_server *srv, struct devices *devices)
{
	srv->devices = devices;
}

void http_server_set_sip_handler(struct http_server *srv, const struct ws_sip_handler *h,
                                 void *user)
{
	ws_sip_set_handler(srv->ws_sip, h, user);
}

void http_server_set_conf(struct http_server *srv, const struct conf *conf)
{
	srv->conf = conf;
	ws_sip_set_conf(srv->ws_sip, &conf->http);
	set_lws_log_level();
}

void http_server_shutdown(struct http_server *srv, void (*drained)(void *), void *arg)
{
	/* new connections are refused from now on (FILTER_NETWORK_CONNECTION) */
	srv->shutting_down = true;
	ws_sip_goaway(srv->ws_sip, drained, arg);
}

void http_server_free(struct http_server *srv)
{
	if (!srv)
		return;
	if (srv->ctx)
		lws_context_destroy(srv->ctx);
	ws_sip_free(srv->ws_sip);
	free(srv->web_root_real);
	g_free(srv->address);
	g_free(srv);
}
