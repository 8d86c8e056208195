/* HTTP/HTTPS/WSS server on the GLib main loop via libwebsockets. */
#pragma once

#include <glib.h>

struct conf;
struct metrics;
struct devices;
struct http_server;

/*
 * Start the listeners of conf->http on the default GMainContext (the
 * control thread). conf must outlive the server or be replaced through
 * http_server_set_conf. The certificate paths are the resolved ones
 * (configured, or self-signed in state_dir). Returns 0 and the server in
 * *out, or a positive errno with a reason in *why (g_free it).
 */
int http_server_start(const struct conf *conf, const char *cert, const char *key,
                      struct metrics *metrics, GMainLoop *loop, struct http_server **out,
                      char **why);

/* Serve /config's device check and /api/v1/devices from devices (which must outlive srv). */
void http_server_set_devices(struct http_server *srv, struct devices *devices);

struct ws_sip_handler;
/* Who hears the SIP flows of WebSocket /sip (the B2BUA); h must outlive the server. */
void http_server_set_sip_handler(struct http_server *srv, const struct ws_sip_handler *h,
                                 void *user);

/* Use conf from now on (after a SIGHUP reload); the old one may then be freed. */
void http_server_set_conf(struct http_server *srv, const struct conf *conf);

/*
 * Refuse new connections, tell every WebSocket client "going away" (1001)
 * and call drained(arg) from the loop once the last one has closed. Plain
 * HTTP connections are not waited for. The caller bounds the wait.
 */
void http_server_shutdown(struct http_server *srv, void (*drained)(void *), void *arg);

void http_server_free(struct http_server *srv);
