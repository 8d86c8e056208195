/* WebSocket transport for SIP (RFC 7118): the "sip" subprotocol on /sip. */
#pragma once

#include <libwebsockets.h>
#include <stddef.h>

struct ws_sip;
struct metrics;
struct http_conf;

/* Per-connection state lws allocates for the "sip" protocol. */
struct ws_sip_conn;

/* The flow registry; conf must stay valid until ws_sip_set_conf replaces it. */
struct ws_sip *ws_sip_new(const struct http_conf *conf, struct metrics *metrics);
void ws_sip_free(struct ws_sip *ws);
void ws_sip_set_conf(struct ws_sip *ws, const struct http_conf *conf);

/* The lws protocol entry for "sip"; its user pointer is ws. */
struct lws_protocols ws_sip_protocol(struct ws_sip *ws);

/* Open WebSocket flows now. */
unsigned ws_sip_count(const struct ws_sip *ws);

/*
 * Close every flow with 1001 "server shutting down"; call done(arg) from
 * the main loop once no flow is left (at once when there is none).
 */
void ws_sip_goaway(struct ws_sip *ws, void (*done)(void *), void *arg);
