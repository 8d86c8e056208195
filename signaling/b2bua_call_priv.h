/*
 * Internals of the B2BUA's calls shared by set-up and answers (b2bua_call.c),
 * in-dialog requests (b2bua_dialog.c) and what crosses with the messages:
 * SDP, end-to-end headers, Contact (b2bua_sdp.c).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <osip2/osip_dialog.h>

#include "signaling/b2bua_priv.h"

/* The host of our Via and Contact toward a flow (RFC 7118 §5.2: the flow, not the address, routes).
 */
#define FLOW_HOST "rtcgate.invalid"

/* libosip2's osip_const.h names these: SIP_REQUEST_TIME_OUT (408), SIP_NOT_ACCEPTABLE_HERE (488) */

struct call_leg {
	struct sip_peer *peer; /* a reference */
	enum media_leg media;
	struct b2bua_route r;  /* toward the PBX: our Via, Contact and the proxy's Route */
	char host[80];         /* our Via and Contact host toward it */
	char key[300];         /* in b->dialogs: "<peer>/<Call-ID>" */
	osip_dialog_t *dialog; /* once it has both tags */
	uint32_t sdp_version;  /* of the SDP we send on this leg (RFC 3264 §8) */
	uint64_t sdp_id;
};

struct call_web;
struct call_sdes;

struct call {
	struct b2bua *b;
	uint64_t handle; /* of the outbound INVITE's client transaction */
	struct call_leg in, out;
	osip_transaction_t *in_tr; /* the inbound INVITE's, until its final response */
	osip_message_t *in_invite, *out_invite, *out_ack;
	struct media_session *media;
	struct flow_state *flow; /* the flow side's state, for its call count; NULL once closed */
	char in_tag[17];         /* our To tag toward the inbound side */
	char login[65];
	char *codecs;  /* the device's codec filter for sdp_plain; NULL: every codec */
	guint timer_c; /* no final answer yet (RFC 3261 §16.6 step 11) */
	bool answered, cancelled, echo;
	bool provisional; /* a 1xx came from the other side: a CANCEL may go (§9.1) */
	bool timed_out;   /* timer C fired: 408 went to the caller */
	bool late; /* the INVITE had no SDP: the offer is in the 2xx, the answer in the ACK */
	osip_message_t *in_ok;        /* our 2xx toward the caller, sent again until its ACK */
	guint ok_timer;               /* toward a UDP caller, until the ACK (RFC 3261 §13.3.1.4) */
	unsigned ok_interval, ok_sum; /* ms */
	bool held;            /* from a held registration: rtcgate answers the PBX's challenges */
	guint se_timer;       /* RFC 4028: the session is dead when no refresh came by then */
	unsigned se_interval; /* Session-Expires of the last 2xx, seconds */
	bool auth_retried;    /* our INVITE was re-sent with credentials once */
	struct call_web *web; /* the flow's leg speaks WebRTC (b2bua_webrtc.c); NULL: plain RTP */
	/* SDES-SRTP of the PBX leg (b2bua_sdes.c); NULL: none yet */
	struct call_sdes *sdes;
};

/* Set-up, answers and call end (b2bua_call.c). */

/* End the call: the log line, then c is freed with its handle's entry in b->calls. */
void b2bua_call_end(struct call *c, const char *why);
/*
 * A call not answered yet must stop (its media failed): code and reason
 * phrase to the caller, CANCEL to the other side; the call ends when that
 * side's INVITE does.
 */
void b2bua_call_abort(struct call *c, int code, const char *why);
/* The call with a dialog of Call-ID call_id on peer from, and which leg that is; NULL: none. */
struct call *b2bua_call_find(struct b2bua *b, struct sip_peer *from, const char *call_id,
                             bool *from_in);
/* Our Via toward leg l and, toward the PBX through an outbound proxy, its Route. */
void b2bua_leg_via(struct call_leg *l, osip_message_t *m);

/* In-dialog requests (b2bua_dialog.c). */

/*
 * A request inside leg l's dialog (RFC 3261 §12.2.1.1): method, CSeq (0:
 * the next one). The caller owns the result; NULL before the dialog exists.
 */
osip_message_t *b2bua_leg_request(struct call_leg *l, const char *method, int cseq);
/* A BYE on leg l's dialog (nothing before the dialog exists). */
void b2bua_leg_bye(struct call *c, struct call_leg *l);
/* The same with a Reason header (RFC 3326), its value as given (NULL: none). */
void b2bua_leg_bye_reason(struct call *c, struct call_leg *l, const char *reason);
/*
 * A request in c's dialogs, from the inbound leg or not, other than CANCEL
 * and the first INVITE again: BYE ends the call, the others are relayed to
 * the other leg (a re-INVITE before the 2xx gets 491). tr is answered.
 */
void b2bua_dialog_request(struct call *c, osip_transaction_t *tr, const osip_message_t *req,
                          bool from_in);
/* The answer to a relayed request, carried back. false when handle is no relay's. */
bool b2bua_relay_response(struct b2bua *b, uint64_t handle, const osip_message_t *resp);
/* A relayed request's transaction failed (code 408: timeout); false when handle is no relay's. */
bool b2bua_relay_failed(struct b2bua *b, uint64_t handle, int code);
/* b->relays' value destructor. */
void b2bua_relay_free(gpointer p);
/* A 2xx to an INVITE or UPDATE: the session timer watch restarts from its Session-Expires. */
void b2bua_session_refreshed(struct call *c, const osip_message_t *ok);

/* SDP, carried headers and Contact (b2bua_sdp.c). */

/*
 * The SDP of src, if any, for the leg `to`: the sender's media address goes
 * into the session, and the body is rewritten into dst with ours on `to`.
 * 0, or a SIP status with *why (a static string).
 */
int b2bua_sdp_across(struct call *c, struct call_leg *from, struct call_leg *to,
                     const osip_message_t *src, osip_message_t *dst, const char **why);
/* An address literal and port from SDP as a socket address; false when it is no IP literal. */
bool b2bua_sockaddr_of(const char *addr, uint16_t port, struct sockaddr_storage *out);
/* A socket address as an IP literal (cap at least INET6_ADDRSTRLEN) and its port. */
void b2bua_sockaddr_text(const struct sockaddr_storage *sa, char *addr, size_t cap, uint16_t *port);
/* m carries a non-empty body. */
bool b2bua_sdp_present(const osip_message_t *m);
/* The device's codecs as sdp_plain's filter, with DTMF and comfort noise; NULL: every codec.
 * g_free it. */
char *b2bua_sdp_codecs(struct b2bua *b, const char *login);
/* The end-to-end headers of an INVITE or its answer, from copied into to. */
void b2bua_carry_headers(const osip_message_t *from, osip_message_t *to);
/* Our Contact toward leg l set on m. */
void b2bua_leg_contact(struct call *c, struct call_leg *l, osip_message_t *m);

/* WebRTC on the flow's leg (b2bua_webrtc.c; docs/webrtc.md "Calls"). */

/*
 * Whether src's SDP, going from leg `from` to leg `to`, takes the WebRTC
 * path: the call already does, or this is the offer that starts it (a
 * UDP/TLS/RTP/SAVPF offer from the flow; an offer toward a flow that
 * registered with +sip.ice, RFC 5768).
 */
bool b2bua_webrtc_applies(struct call *c, struct call_leg *from, struct call_leg *to,
                          const osip_message_t *src);
/* b2bua_sdp_across for a WebRTC call: one sdp_webrtc step, and the media leg told. */
int b2bua_webrtc_across(struct call *c, struct call_leg *from, struct call_leg *to,
                        const osip_message_t *src, osip_message_t *dst, const char **why);
/* A relayed offer was refused: no answer is pending any more. NULL is fine. */
void b2bua_webrtc_offer_failed(struct call_web *w);
/* What the call-end line says of the WebRTC leg (" srtp=… pair=\"…\"" or ""), into buf. */
void b2bua_webrtc_describe(const struct call *c, char *buf, size_t cap);
void b2bua_webrtc_free(struct call_web *w);
struct sdp_webrtc_frag;
/*
 * Trickled candidates of the browser (RFC 8840 §4.4) to the media leg, end-of-candidates as
 * NULL. A fragment of another ICE generation (its ufrag is not the browser's current one) is
 * dropped (RFC 8838 §13 guidance: stale candidates are ignored, not an error). 0, or ENOENT:
 * the call has no WebRTC leg.
 */
int b2bua_webrtc_trickle(struct call *c, const struct sdp_webrtc_frag *f);

/* Trickle ICE over SIP INFO (b2bua_trickle.c; docs/webrtc.md "Trickle ICE"). */

/* An INFO of the trickle-ice package (RFC 8840 §4.4): answered here, never relayed; true when
 * req was one (by Info-Package or Content-Type). Other requests: false, untouched. */
bool b2bua_trickle_request(struct call *c, osip_transaction_t *tr, const osip_message_t *req,
                           bool from_in);
/* Supported/Recv-Info: trickle-ice on m, an INVITE or 18x/2xx toward leg `to`, when `to` is the
 * browser's WebRTC leg (RFC 8840 §4.1, §4.2). */
void b2bua_trickle_advertise(const struct call *c, const struct call_leg *to, osip_message_t *m);

/* SDES-SRTP on the PBX leg (b2bua_sdes.c; docs/sip.md "SRTP toward the PBX"). */

/*
 * The PBX's SDP in src (an answer or an offer) checked against the target's
 * srtp= and its keys taken: *plain is NULL (use src) or a copy of src whose
 * SDP has no SDES left (osip_message_free it). 0, or 488 with *why ("No
 * usable a=crypto") when the target needs SDES and src has none usable.
 */
int b2bua_sdes_from_pbx(struct call *c, const osip_message_t *src, bool answer,
                        osip_message_t **plain, const char **why);
/*
 * Our SDP in dst toward the PBX made RTP/SAVP with our a=crypto when the
 * call takes SDES (every offer with srtp=sdes; an answer to an offer with
 * a=crypto); the media leg is keyed when dst is an answer. 0 or a status.
 */
int b2bua_sdes_to_pbx(struct call *c, osip_message_t *dst, bool answer, const char **why);
void b2bua_sdes_free(struct call_sdes *s);
