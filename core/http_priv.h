/* Shared between core/http.c (connections) and core/http_routes.c (handlers). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libwebsockets.h>
#include <stdbool.h>

#include "core/conf.h"
#include "core/metrics.h"
#include "signaling/ws_sip.h"

struct http_server {
	const struct conf *conf;
	struct metrics *metrics;
	struct ws_sip *ws_sip;
	struct devices *devices; /* NULL: no registry (API answers 503) */
	struct lws_context *ctx;
	struct lws_protocols protocols[4]; /* http, sip, fallback, end */
	char *address;                     /* copy of http.address for lws (NULL: all) */
	char *web_root_real;               /* realpath of conf->http.web_root, or NULL */
	gint64 start_mono;                 /* g_get_monotonic_time() at start */
	double start_real;                 /* seconds since the epoch at start */
	lws_retry_bo_t ws_idle;            /* WebSocket ping and dead-flow policy (lws keeps it) */
	bool shutting_down;
};

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_DELETE,
	HTTP_OTHER,
};

/* One request as the route handlers see it. */
struct http_req {
	struct http_server *srv;
	struct lws *wsi;
	enum http_method method;
	const char *path; /* decoded by lws, no query */
	const char *body; /* request body (routes that take one), NUL-terminated */
	size_t body_len;
	bool tls;
};

/* Per connection, kept across the keep-alive requests on it (lws's per-session data). */
struct http_pss {
	GString *body; /* body being collected for a route that takes one */
	char *path;
	enum http_method method;
	bool collecting;
};

/* A complete small response, written at once. */
struct http_resp {
	int status;
	const char *content_type;
	GString *body;
	const char *allow;            /* for 405 */
	const char *www_authenticate; /* for 401 */
	char *location;               /* for 301; owned, freed by http_resp_send */
	int retry_after;              /* seconds, for 503; 0 = none */
	bool no_store;                /* Cache-Control: no-store */
	bool close;                   /* Connection: close */
};

/* Route handlers: fill resp (body allocated by the handler). */
void http_route_healthz(const struct http_req *req, struct http_resp *resp);
void http_route_metrics(const struct http_req *req, struct http_resp *resp);
void http_route_config(const struct http_req *req, struct http_resp *resp);
void http_route_sip_plain(const struct http_req *req, struct http_resp *resp);

/* /api/v1/...: the admin API (core/http_api.c), any method, bearer token. */
void http_route_api(const struct http_req *req, struct http_resp *resp);

/* A JSON body for resp built from b (consumed). */
GString *http_json_body(JsonBuilder *b);

/* Set resp to a JSON error {"error": reason[, "field": field]}. */
void http_resp_json_error(struct http_resp *resp, int status, const char *field,
                          const char *reason);

/*
 * Static files under the web root. Either fills resp (an error or a
 * redirect, resp->status set) for the caller to send, or starts
 * lws_serve_http_file and leaves its result in *served (<0 close, >0 done,
 * 0 in progress). Returns 0.
 */
int http_route_static(const struct http_req *req, struct http_resp *resp, int *served);

/* Set resp to a text/plain error with a one-line reason. */
void http_resp_error(struct http_resp *resp, int status, const char *reason);

/*
 * Write resp at once (headers and body). Returns 0, or -1 when the
 * connection must close. Counts the request under route.
 */
int http_resp_send(const struct http_req *req, const char *route, struct http_resp *resp);

double http_uptime(const struct http_server *srv);
