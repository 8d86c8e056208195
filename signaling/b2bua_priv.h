/*
 * Internals shared by the B2BUA's registration relay (b2bua.c) and call
 * model (b2bua_call.c, b2bua_dialog.c, b2bua_sdp.c).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/devices.h"
#include "relay/media.h"
#include "signaling/sip_msg.h"
#include "signaling/sip_stack.h"
#include "signaling/sip_target.h"
#include "signaling/ws_sip.h"

#define B2BUA_TOKEN_LEN 16

struct metrics;
struct sip_pbx;
struct sip_demo;
struct held_reg;

/* What the B2BUA keeps per WebSocket flow (ws_flow.owner). */
struct flow_state {
	struct ws_flow *f;
	char token[B2BUA_TOKEN_LEN + 1]; /* our Contact user toward the PBX: finds this flow */
	char login[65];                  /* once registered */
	bool registered;
	osip_uri_t *contact;   /* the browser's own Contact URI, once registered */
	unsigned calls;        /* calls of this flow now */
	struct held_reg *held; /* the held registration attached (its token is ours), or NULL */
	bool ice; /* its registered Contact had +sip.ice (RFC 5768): calls to it offer WebRTC */
};

struct b2bua {
	struct devices *dev;
	struct metrics *metrics;
	struct media_pool *media;
	struct sip_stack *st;
	struct sip_pbx *pbx;     /* a PBX configured */
	struct sip_demo *demo;   /* or the demo target */
	GHashTable *flows;       /* token → struct flow_state */
	GHashTable *pending;     /* handle → struct pending_reg (registrations) */
	GHashTable *calls;       /* handle of the outbound INVITE → struct call */
	GHashTable *dialogs;     /* "<peer address>/<Call-ID>" → struct call */
	GHashTable *relays;      /* handle → struct relayed (in-dialog requests passed across) */
	GHashTable *auth_memo;   /* pass-through: challenged INVITE setups (b2bua_auth.c) */
	GHashTable *held;        /* key → struct held_reg (b2bua_held.c) */
	GHashTable *held_tokens; /* token → struct held_reg */
	char *realm;             /* of our digest challenges to browsers */
	uint8_t nonce_key[32];   /* SIP_DIGEST_KEY_LEN, random per process */
	uint64_t next_handle;
	int invite_timeout; /* seconds, sip.invite_timeout */
	unsigned registered;
	struct pbx_target *targets; /* up or down, one per sip.pbx target (b2bua_pbx.c) */
	guint ping_timer, first_ping;
};

/* Where requests toward the PBX go: the peer, our address and transport for Via and Contact. */
struct b2bua_route {
	struct sip_peer *peer;
	const char *local;
	const char *via;   /* our Via's transport toward it: "UDP", "TCP", "TLS" */
	const char *param; /* our Contact's transport parameter: "udp", "tcp", "tls" */
	const char *route; /* the outbound proxy's Route value, or NULL */
	/* the target's media: plain RTP, SDES-SRTP, or SDES when the PBX offers it */
	enum sip_srtp srtp;
};

/* The first target that is up (or the demo target); false when none is. */
bool b2bua_pbx_route(struct b2bua *b, struct b2bua_route *r);
/* The route toward PBX peer p (a target, or the demo); false when p is neither or unresolved. */
bool b2bua_pbx_route_of(struct b2bua *b, struct sip_peer *p, struct b2bua_route *r);
/* Our Via toward r and, with an outbound proxy, its Route on top (RFC 3261 §8.1.2). */
void b2bua_pbx_prepare(const struct b2bua_route *r, osip_message_t *m);
/*
 * Our Contact URI toward r for user: "sip:user@local;transport=x", or
 * "sips:user@local" over TLS when sips is asked for (RFC 3261 §8.1.1.8). g_free it.
 */
char *b2bua_pbx_contact(const struct b2bua_route *r, const char *user, bool sips);
/* OPTIONS pings every interval seconds (b2bua_pbx.c); a no-op with the demo target. */
void b2bua_pbx_start(struct b2bua *b, int interval);
void b2bua_pbx_stop(struct b2bua *b);
/* A ping's answer (code > 0) or failure (0); false when handle is no ping's. */
bool b2bua_pbx_answer(struct b2bua *b, uint64_t handle, int code);
void b2bua_pbx_collect(struct b2bua *b, struct metrics *m);
void b2bua_respond(struct b2bua *b, osip_transaction_t *tr, const osip_message_t *req, int code,
                   const char *reason);
void b2bua_drop_vias(osip_message_t *m);
void b2bua_drop_routes(osip_message_t *m);
/* Max-Forwards less one (RFC 3261 §16.6); false when it is used up. */
bool b2bua_forward_hop(osip_message_t *m);
/* Our Via for a request toward peer: "SIP/2.0/<UDP|WSS> host;branch=z9hG4bK…;rport" */
void b2bua_add_via(osip_message_t *m, const char *transport, const char *host);
struct flow_state *b2bua_flow_of(struct sip_peer *peer);
/* fs is (on) or is no longer registered as login, with the browser's Contact of req. */
void b2bua_flow_registered(struct b2bua *b, struct flow_state *fs, bool on, const char *login,
                           const osip_message_t *req);
void b2bua_count_register(struct b2bua *b, const char *result);

/* Held registrations (b2bua_held.c): the device has a PBX password. */
void b2bua_held_new(struct b2bua *b, const char *realm);
void b2bua_held_free(struct b2bua *b);
/* A REGISTER from flow `from` for login (an enabled device in held mode); answers tr. */
void b2bua_held_register(struct b2bua *b, osip_transaction_t *tr, const osip_message_t *req,
                         struct sip_peer *from, const char *login);
/* Answers and failures of our REGISTERs toward the PBX; false when handle is not one. */
bool b2bua_held_response(struct b2bua *b, uint64_t handle, const osip_message_t *resp);
bool b2bua_held_failed(struct b2bua *b, uint64_t handle, int code);
/* fs closes: its held registration stays for the grace period, unattached. */
void b2bua_held_flow_closed(struct b2bua *b, struct flow_state *fs);
/* login was disabled or removed: its held registrations are unregistered at the PBX. */
void b2bua_held_device_gone(struct b2bua *b, const char *login);
/* True when token is a held registration's Contact user (attached to a flow or not). */
bool b2bua_held_has_token(struct b2bua *b, const char *token);

/* Digest toward the PBX (b2bua_auth.c). */
void b2bua_auth_new(struct b2bua *b);
void b2bua_auth_free(struct b2bua *b);
/*
 * Answer resp's 401/407 challenge in req (for its method and Request-URI)
 * with login's PBX credentials (pbx_user, else the extension, else the
 * login; pbx_password): earlier credentials in req are replaced. false when
 * no challenge can be answered or the device has no PBX password.
 */
bool b2bua_auth_answer(struct b2bua *b, const char *login, const osip_message_t *resp,
                       osip_message_t *req);
/* resp's WWW-Authenticate and Proxy-Authenticate headers copied into out. */
void b2bua_auth_copy_challenges(const osip_message_t *resp, osip_message_t *out);
/* from's Authorization and Proxy-Authorization headers copied into to. */
void b2bua_auth_copy_credentials(const osip_message_t *from, osip_message_t *to);
/* An outbound INVITE setup that was challenged (pass-through): retried with these. */
struct b2bua_auth_memo {
	char call_id[40];
	char from_tag[17];
	int cseq;
};
/* Remember out_invite's setup under key (the browser's flow and Call-ID) for a while. */
void b2bua_auth_remember(struct b2bua *b, const char *key, const osip_message_t *out_invite);
/* The setup remembered under key (then forgotten); false when none or expired. */
bool b2bua_auth_recall(struct b2bua *b, const char *key, struct b2bua_auth_memo *out);

/* Calls (b2bua_call.c; their in-dialog requests in b2bua_dialog.c) */
void b2bua_call_invite(struct b2bua *b, osip_transaction_t *tr, const osip_message_t *req,
                       struct sip_peer *from);
/* A request inside a dialog (BYE, CANCEL, INFO, re-INVITE, …); false when it is no call's. */
bool b2bua_call_request(struct b2bua *b, osip_transaction_t *tr, const osip_message_t *req,
                        struct sip_peer *from);
/* Responses and failures of the call's client transactions; false when handle is not a call's. */
bool b2bua_call_response(struct b2bua *b, uint64_t handle, const osip_message_t *resp);
bool b2bua_call_failed(struct b2bua *b, uint64_t handle, int code);
void b2bua_call_stray(struct b2bua *b, const osip_message_t *resp, struct sip_peer *from);
/* An ACK of a 2xx: carried to the other side when the call was a late offer (its SDP). */
void b2bua_call_ack(struct b2bua *b, const osip_message_t *ack, struct sip_peer *from);
/* The flow is gone: its calls end (BYE or CANCEL toward the other side). */
void b2bua_call_flow_closed(struct b2bua *b, struct flow_state *fs);
/* Calls now, in set-up (INVITE sent, no 2xx) and answered. */
void b2bua_calls_count(struct b2bua *b, unsigned *setup, unsigned *answered);
void b2bua_calls_new(struct b2bua *b);
void b2bua_calls_free(struct b2bua *b);
