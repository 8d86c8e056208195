/* WebSocket transport for SIP (RFC 7118): the "sip" subprotocol on /sip. */
#pragma once

#include <glib.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signaling/sip_stack.h"

struct ws_sip;
struct metrics;
struct http_conf;

/* Per-connection state lws allocates for the "sip" protocol. */
struct ws_sip_conn;

/* The flow registry; conf must stay valid until ws_sip_set_conf replaces it. */
struct ws_sip *ws_sip_new(const struct http_conf *conf, struct metrics *metrics);
void ws_sip_free(struct ws_sip *ws);
void ws_sip_set_conf(struct ws_sip *ws, const struct http_conf *conf);

/*
 * A WebSocket flow (RFC 7118 §5): one connection carrying SIP. It is a
 * sip_peer for the transaction layer; it outlives its connection while
 * transactions still reference it (peer.closed tells).
 */
struct ws_flow {
	struct sip_peer peer;
	uint64_t id;
	struct lws *wsi; /* NULL once the connection is gone */
	char remote[64]; /* the client's address, for logs */
	char phys[65];   /* the page's ?phys=<location> (emergency routing); "" when absent */
	bool tls;
	void *owner; /* the layer above's state for this flow */
	GQueue out;  /* GBytes waiting for the socket */
	size_t out_bytes;
	GByteArray *in; /* a message being reassembled from fragments */
};

/* What the SIP layer hears from flows; all on the main loop. */
struct ws_sip_handler {
	void (*open)(void *user, struct ws_flow *f);
	/* One whole SIP message (CRLF keepalives are answered here, not passed on). */
	void (*message)(void *user, struct ws_flow *f, const char *buf, size_t len);
	/* The connection is gone; f stays valid until its last reference is dropped. */
	void (*closed)(void *user, struct ws_flow *f);
};

/* Close f's connection (1008 with reason, a static string); closed() follows. */
void ws_flow_close(struct ws_flow *f, const char *reason);

void ws_sip_set_handler(struct ws_sip *ws, const struct ws_sip_handler *h, void *user);

/* The lws protocol entry for "sip"; its user pointer is ws. */
struct lws_protocols ws_sip_protocol(struct ws_sip *ws);

/* Open WebSocket flows now. */
unsigned ws_sip_count(const struct ws_sip *ws);

/*
 * Close every flow with 1001 "server shutting down"; call done(arg) from
 * the main loop once no flow is left (at once when there is none).
 */
void ws_sip_goaway(struct ws_sip *ws, void (*done)(void *), void *arg);
