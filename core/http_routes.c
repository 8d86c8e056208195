/* HTTP routes: /healthz, /metrics, /config (Basic auth, RFC 7617), static files; response writing
 * (RFC 9110). */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/devices.h"
#include "core/http_priv.h"
#include "core/httpauth.h"
#include "core/log.h"
#include "core/webpath.h"
#include "relay/turn_auth.h"
#include "rtcgate-config.h"

static const char *phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 301: return "Moved Permanently";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 426: return "Upgrade Required";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

void http_resp_error(struct http_resp *resp, int status, const char *reason)
{
	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	resp->body = g_string_new(reason);
	g_string_append_c(resp->body, '\n');
	resp->no_store = true;
}

static void add_header(GString *h, const char *name, const char *value)
{
	g_string_append_printf(h, "%s: %s\r\n", name, value);
}

int http_resp_send(const struct http_req *req, const char *route, struct http_resp *resp)
{
	GString *h = g_string_sized_new(512);
	GString *body = resp->body ? resp->body : g_string_new(NULL);
	gchar status[8];
	int rc = 0;
	char path_q[160];

	g_snprintf(status, sizeof(status), "%d", resp->status);
	metrics_add(req->srv->metrics, METRIC_HTTP_REQUESTS, 1, (const char *[]){ route, status });
	log_debug(LOG_HTTP, "request", "route=%s path=%s status=%d", route,
	          log_quote(path_q, sizeof(path_q), req->path), resp->status);

	/* LWS_PRE bytes of headroom, as lws_write wants */
	g_string_append_printf(h, "%*sHTTP/1.1 %d %s\r\n", LWS_PRE, "", resp->status,
	                       phrase(resp->status));
	add_header(h, "Server", "rtcgate");
	add_header(h, "Content-Type", resp->content_type ? resp->content_type : "text/plain");
	g_string_append_printf(h, "Content-Length: %zu\r\n", body->len);
	add_header(h, "X-Content-Type-Options", "nosniff");
	if (resp->no_store)
		add_header(h, "Cache-Control", "no-store");
	if (resp->allow)
		add_header(h, "Allow", resp->allow);
	if (resp->www_authenticate)
		add_header(h, "WWW-Authenticate", resp->www_authenticate);
	if (resp->location)
		add_header(h, "Location", resp->location);
	if (resp->retry_after)
		g_string_append_printf(h, "Retry-After: %d\r\n", resp->retry_after);
	if (resp->close)
		add_header(h, "Connection", "close");
	g_string_append(h, "\r\n");
	if (req->method != HTTP_HEAD)
		g_string_append_len(h, body->str, (gssize)body->len);

	/* small responses go out in one write; lws buffers any remainder */
	if (lws_write(req->wsi, (unsigned char *)h->str + LWS_PRE, h->len - LWS_PRE,
	              LWS_WRITE_HTTP_FINAL) < 0)
		rc = -1;
	else if (resp->close || lws_http_transaction_completed(req->wsi))
		rc = -1;
	g_string_free(h, TRUE);
	g_string_free(body, TRUE);
	resp->body = NULL;
	g_clear_pointer(&resp->location, g_free);
	return rc;
}

GString *http_json_body(JsonBuilder *b)
{
	JsonGenerator *gen = json_generator_new();
	JsonNode *root = json_builder_get_root(b);
	gchar *s;
	GString *out;

	json_generator_set_root(gen, root);
	s = json_generator_to_data(gen, NULL);
	out = g_string_new(s);
	g_string_append_c(out, '\n');
	g_free(s);
	json_node_unref(root);
	g_object_unref(gen);
	g_object_unref(b);
	return out;
}

void http_resp_json_error(struct http_resp *resp, int status, const char *field, const char *reason)
{
	JsonBuilder *b = json_builder_new();

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "error");
	json_builder_add_string_value(b, reason);
	if (field) {
		json_builder_set_member_name(b, "field");
		json_builder_add_string_value(b, field);
	}
	json_builder_end_object(b);
	resp->status = status;
	resp->content_type = "application/json";
	resp->body = http_json_body(b);
	resp->no_store = true;
}

void http_route_healthz(const struct http_req *req, struct http_resp *resp)
{
	JsonBuilder *b = json_builder_new();

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "status");
	json_builder_add_string_value(b, req->srv->shutting_down ? "stopping" : "ok");
	json_builder_set_member_name(b, "version");
	json_builder_add_string_value(b, RTCGATE_VERSION);
	json_builder_set_member_name(b, "uptime_seconds");
	json_builder_add_int_value(b, (gint64)http_uptime(req->srv));
	json_builder_end_object(b);
	resp->status = req->srv->shutting_down ? 503 : 200;
	resp->content_type = "application/json";
	resp->body = http_json_body(b);
	resp->no_store = true;
}

void http_route_metrics(const struct http_req *req, struct http_resp *resp)
{
	GString *out = g_string_sized_new(4096);

	metrics_set(req->srv->metrics, METRIC_WS_CONNECTIONS, ws_sip_count(req->srv->ws_sip), NULL);
	metrics_collect(req->srv->metrics);
	metrics_render(req->srv->metrics, out, RTCGATE_VERSION, http_uptime(req->srv),
	               req->srv->start_real);
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->body = out;
	resp->no_store = true;
}

/* Host as the client named us: letters, digits, '.', '-', ':' and IPv6 brackets only. */
static bool host_ok(const char *h)
{
	if (!*h)
		return false;
	for (const char *p = h; *p; p++) {
		if (!g_ascii_isalnum(*p) && !strchr(".-:[]", *p))
			return false;
	}
	return true;
}

static void add_server(JsonBuilder *b, const char *url, const char *user, const char *cred)
{
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "urls");
	json_builder_begin_array(b);
	json_builder_add_string_value(b, url);
	json_builder_end_array(b);
	if (user) {
		json_builder_set_member_name(b, "username");
		json_builder_add_string_value(b, user);
		json_builder_set_member_name(b, "credential");
		json_builder_add_string_value(b, cred);
	}
	json_builder_end_object(b);
}

/*
 * The login of an enabled device with remote access whose HTTP Basic
 * credentials came with the request, or NULL (g_free it). A wrong secret,
 * an unknown login and a device without remote access all give NULL, after
 * the same key derivation, so the answer does not tell them apart.
 */
static char *remote_login(const struct http_req *req)
{
	struct devices *devs = req->srv->devices;
	int n = lws_hdr_total_length(req->wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	char *hdr, *user = NULL, *pass = NULL, *login = NULL;
	struct device *dev = NULL;

	if (!devs || n <= 0)
		return NULL;
	hdr = g_malloc((gsize)n + 1);
	if (lws_hdr_copy(req->wsi, hdr, n + 1, WSI_TOKEN_HTTP_AUTHORIZATION) == n &&
	    httpauth_basic(hdr, &user, &pass) == 0) {
		if (devices_verify_secret(devs, user, pass) && devices_get(devs, user, &dev) == 0 &&
		    dev->enabled && dev->remote_access)
			login = g_strdup(user);
		metrics_add(req->srv->metrics, METRIC_CONFIG_AUTH, 1,
		            (const char *[]){ login ? "turn" : "refused" });
	}
	devspec_device_free(dev);
	if (pass)
		memset(pass, 0, strlen(pass));
	memset(hdr, 0, (size_t)n);
	g_free(pass);
	g_free(user);
	g_free(hdr);
	return login;
}

/*
 * RTCConfiguration.iceServers for our STUN/TURN port, the host as the client
 * named us (without its port). For login (a device allowed remote access)
 * and with TURN REST secrets configured, TURN entries (UDP, TCP, and TLS as
 * turns:) with a fresh credential: username "<expiry>:<login>", password
 * base64(HMAC-SHA1(first secret, username)).
 */
static void add_ice_servers(JsonBuilder *b, const char *host, const struct conf *c,
                            const char *login)
{
	const char *end = host[0] == '[' ? strchr(host, ']') : strrchr(host, ':');
	int hlen;
	gchar *url, *user;
	char cred[TURN_REST_PASSWORD_LEN + 1];

	if (!c->turn.port)
		return;
	if (host[0] == '[' && end)
		end++; /* keep the brackets of an IPv6 literal */
	else if (host[0] != '[' && end && strchr(host, ':') != end)
		end = NULL; /* a bare IPv6 address: no port in it */
	hlen = end ? (int)(end - host) : (int)strlen(host);
	url = g_strdup_printf("stun:%.*s:%d", hlen, host, c->turn.port);
	add_server(b, url, NULL, NULL);
	g_free(url);
	if (!c->turn.secrets[0] || !login)
		return;
	user = g_strdup_printf("%" G_GINT64_FORMAT ":%s",
	                       g_get_real_time() / G_USEC_PER_SEC + c->turn.credential_lifetime,
	                       login);
	if (turn_rest_password((const uint8_t *)c->turn.secrets[0], strlen(c->turn.secrets[0]),
	                       user, cred, sizeof(cred)) == 0) {
		for (int t = 0; t < 3; t++) {
			if (t == 2 && !c->turn.tls_port)
				break;
			url = t == 2 ? g_strdup_printf("turns:%.*s:%d?transport=tcp", hlen, host,
			                               c->turn.tls_port)
			             : g_strdup_printf("turn:%.*s:%d?transport=%s", hlen, host,
			                               c->turn.port, t ? "tcp" : "udp");
			add_server(b, url, user, cred);
			g_free(url);
		}
	}
	g_free(user);
}

void http_route_config(const struct http_req *req, struct http_resp *resp)
{
	JsonBuilder *b;
	char host[256] = "";
	gchar *url, *login;

	if (lws_hdr_copy(req->wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0 || !host_ok(host)) {
		http_resp_error(resp, 400, "missing or malformed Host header");
		return;
	}
	login = remote_login(req);
	url = g_strdup_printf("%s://%s/sip", req->tls ? "wss" : "ws", host);
	b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "websocket_url");
	json_builder_add_string_value(b, url);
	json_builder_set_member_name(b, "iceServers");
	json_builder_begin_array(b);
	add_ice_servers(b, host, req->srv->conf, login);
	json_builder_end_array(b);
	json_builder_end_object(b);
	g_free(url);
	g_free(login);
	resp->status = 200;
	resp->content_type = "application/json";
	resp->body = http_json_body(b);
	resp->no_store = true;
}

/* /sip without an upgrade: it only speaks WebSocket. */
void http_route_sip_plain(const struct http_req *req, struct http_resp *resp)
{
	(void)req;
	http_resp_error(resp, 426, "WebSocket with subprotocol 'sip' required");
}

static int refuse_path(int err, struct http_resp *resp)
{
	switch (err) {
	case EINVAL: http_resp_error(resp, 400, "malformed request path"); break;
	case EACCES: http_resp_error(resp, 403, "path not allowed"); break;
	case ENAMETOOLONG: http_resp_error(resp, 414, "request path too long"); break;
	default: http_resp_error(resp, 404, "not found");
	}
	return 0;
}

int http_route_static(const struct http_req *req, struct http_resp *resp, int *served)
{
	static const char extra[] = "X-Content-Type-Options: nosniff\r\n"
	                            "Cache-Control: no-cache\r\n";
	char rel[PATH_MAX], *real = NULL;
	const char *root = req->srv->web_root_real;
	gchar *full;
	struct stat sb;
	size_t rl;
	int rc;

	rc = webpath_resolve(req->path, rel, sizeof(rel));
	if (rc)
		return refuse_path(rc, resp);
	if (!root)
		return refuse_path(ENOENT, resp);
	full = g_build_filename(root, rel, NULL);
	real = realpath(full, NULL);
	g_free(full);
	rl = strlen(root);
	/* a symlink may not lead out of the web root */
	if (!real || strncmp(real, root, rl) != 0 || (real[rl] != '/' && real[rl] != '\0') ||
	    stat(real, &sb) != 0) {
		free(real);
		return refuse_path(ENOENT, resp);
	}
	if (S_ISDIR(sb.st_mode)) {
		/* "/dir" → "/dir/" so relative links in its index resolve */
		http_resp_error(resp, 301, "moved");
		resp->location = g_strdup_printf("%s/", req->path);
		free(real);
		return 0;
	}
	if (!S_ISREG(sb.st_mode)) {
		free(real);
		return refuse_path(ENOENT, resp);
	}
	*served = lws_serve_http_file(req->wsi, real, webpath_mime(real), extra,
	                              (int)sizeof(extra) - 1);
	free(real);
	return 0;
}
