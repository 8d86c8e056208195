/* SIP transactions (RFC 3261 §17): libosip2's ICT, IST, NICT and NIST driven from a GLib main loop.
 */
#pragma once

#include <glib.h>
#include <osip2/osip.h>
#include <stdbool.h>
#include <stdint.h>

struct sip_peer;

/* How messages leave toward a peer: a WebSocket flow, a PBX target, the demo target. */
struct sip_peer_ops {
	/* Queue buf[len] toward the peer: 0, or an errno (gone, full). */
	int (*send)(struct sip_peer *p, const char *buf, size_t len);
	/* The last reference went: free the object around p. */
	void (*free)(struct sip_peer *p);
};

enum sip_peer_kind { SIP_PEER_PBX, SIP_PEER_FLOW };

/* Embedded in whatever carries messages; reference-counted because transactions outlive flows. */
struct sip_peer {
	const struct sip_peer_ops *ops;
	enum sip_peer_kind kind; /* SIP_PEER_PBX unless the creator says otherwise */
	int refs;
	bool closed;   /* nothing more is sent; set when the flow or socket is gone */
	char name[64]; /* for logs: "flow 12", "pbx 10.0.0.5:5060", "demo" */
};

/* One reference, held by the caller. */
void sip_peer_init(struct sip_peer *p, const struct sip_peer_ops *ops, const char *name);
struct sip_peer *sip_peer_ref(struct sip_peer *p);
void sip_peer_unref(struct sip_peer *p);
/* Serialise m and send it to p outside any transaction (ACK of a 2xx, stateless 400). */
int sip_peer_send(struct sip_peer *p, const osip_message_t *m);

/* What the layer above (the B2BUA, the demo target) hears, on the loop; all but request optional.
 */
struct sip_stack_handlers {
	/*
	 * A new request other than ACK, in a server transaction. The handler
	 * owns answering it: sip_stack_respond, once or more (1xx), and finally.
	 */
	void (*request)(void *user, osip_transaction_t *tr, const osip_message_t *req,
	                struct sip_peer *from);
	/* An ACK that matches no transaction: the ACK of a 2xx (RFC 3261 §13.2.2.4). */
	void (*ack)(void *user, const osip_message_t *ack, struct sip_peer *from);
	/* A response in the client transaction started with handle (sip_stack_request). */
	void (*response)(void *user, uint64_t handle, const osip_message_t *resp);
	/* That transaction ended without a final response: 408 (timeout) or 503 (transport). */
	void (*failed)(void *user, uint64_t handle, int code);
	/* A response that matches no transaction: a retransmitted 2xx of an INVITE. */
	void (*stray)(void *user, const osip_message_t *resp, struct sip_peer *from);
};

struct sip_stack;

/* A transaction layer on the thread-default main context; h is copied. */
struct sip_stack *sip_stack_new(const struct sip_stack_handlers *h, void *user);
void sip_stack_free(struct sip_stack *st);

/*
 * Bytes from a peer. Malformed messages are counted; a request that parses
 * but lacks what a transaction needs gets a stateless 400 with the reason.
 */
void sip_stack_receive(struct sip_stack *st, struct sip_peer *from, const char *buf, size_t len);

/* Send req (taken) toward to in a new client transaction; handle comes back in response/failed. */
int sip_stack_request(struct sip_stack *st, struct sip_peer *to, osip_message_t *req,
                      uint64_t handle);

/*
 * The connection toward p is gone (a stream that failed or closed): its
 * client transactions without a final response end now, each reported to
 * failed with 503, instead of waiting for timer B or F. Not from inside a
 * handler or a send: call it from the loop.
 */
void sip_stack_peer_lost(struct sip_stack *st, struct sip_peer *p);

/*
 * Give up the INVITE client transaction started with handle: it leaves the
 * stack at once, and what comes for it later is stray. For a transaction
 * stuck in Proceeding, which RFC 3261 §17.1.1 never times out (§9.1: 64*T1
 * after a CANCEL). No-op when no such transaction is left.
 */
void sip_stack_abandon(struct sip_stack *st, uint64_t handle);

/* Answer the server transaction tr with resp (taken). */
int sip_stack_respond(struct sip_stack *st, osip_transaction_t *tr, osip_message_t *resp);

/* Counters for the metrics: messages in by kind, malformed ones, 400s sent, responses sent. */
struct sip_stack_stats {
	uint64_t requests_in, responses_in, malformed, bad_requests, transactions;
	uint64_t responses_out[600]; /* by status code - 100 */
};
void sip_stack_stats(const struct sip_stack *st, struct sip_stack_stats *out);
