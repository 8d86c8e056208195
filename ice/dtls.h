/* DTLS-SRTP endpoint of one WebRTC media leg: DTLS 1.2 over memory, keys into SRTP (RFC 5763/5764).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ice/dtls_cert.h"
#include "ice/srtp.h"

/*
 * Threading contract. A struct dtls_ctx is made once (control thread, at
 * start) and is read-only afterwards: any media worker may make endpoints
 * from it. A struct dtls belongs to the thread that made it (the leg's media
 * worker): every call on it, and every callback from it, happens there.
 *
 * No sockets and no timers of its own: the leg feeds it the DTLS datagrams
 * that ICE received (ice_demux says ICE_PKT_DTLS), sends what the send
 * callback hands it over ICE, and arms one timer from dtls_next_timeout.
 */

/* RFC 5763 §5 / RFC 4145 §4 a=setup values. */
enum dtls_setup {
	DTLS_SETUP_ACTPASS,
	DTLS_SETUP_ACTIVE,
	DTLS_SETUP_PASSIVE,
	DTLS_SETUP_HOLDCONN,
};

enum dtls_role {
	DTLS_ROLE_CLIENT, /* setup:active: we send the ClientHello */
	DTLS_ROLE_SERVER, /* setup:passive: we wait for it */
};

enum dtls_state {
	DTLS_STATE_NEW,         /* made, not started */
	DTLS_STATE_HANDSHAKING, /* started, keys not yet exported */
	DTLS_STATE_CONNECTED,   /* handshake done, fingerprint matched, SRTP keys set */
	DTLS_STATE_CLOSED,      /* close_notify sent or received */
	DTLS_STATE_FAILED,      /* handshake failed or timed out, fatal alert: see dtls_reason */
};

/* Parse a setup value (case-insensitive): 0, or EBADMSG. Pure. */
int dtls_setup_parse(const char *s, enum dtls_setup *out);
const char *dtls_setup_name(enum dtls_setup s);

/*
 * We answer an offer whose setup is offered: our role and the setup we put
 * in the answer. actpass gets passive (we are the server: a browser that is
 * told active early may start DTLS before it has our answer; DESIGN.md field
 * notes), active gets passive, passive gets active. Pure. 0, or EPROTO for
 * holdconn (no DTLS now).
 */
int dtls_setup_answer(enum dtls_setup offered, enum dtls_role *role, enum dtls_setup *ours);

/*
 * We offered actpass and the answer says answered: our role (active ⇒ we
 * are the server, passive ⇒ the client). Pure. 0, or EPROTO for actpass
 * (not allowed in an answer, RFC 5763 §5) and holdconn.
 */
int dtls_setup_answered(enum dtls_setup answered, enum dtls_role *role);

/* Timers and sizes; 0 in a field means its default. */
struct dtls_conf {
	unsigned mtu;                  /* largest datagram sent; default 1200 */
	unsigned initial_timeout_ms;   /* first retransmission; default 250 */
	unsigned max_timeout_ms;       /* doubling stops here; default 4000 */
	unsigned handshake_timeout_ms; /* start to keys, at most; default 15000 */
	/* SRTP profiles offered, in order ("SRTP_AES128_CM_SHA1_80:…"); NULL: every one
	 * libsrtp2 runs, AEAD_AES_128_GCM, AEAD_AES_256_GCM, AES128_CM_SHA1_80 */
	const char *profiles;
};

struct dtls_ctx;

/*
 * The shared side: certificate, DTLS 1.2 minimum, ECDHE-ECDSA/RSA AEAD
 * suites, use_srtp with conf's profiles (as a server our order wins), the
 * peer's certificate required. cert is not kept (ctx has its own
 * references); conf may be NULL and is copied. 0 and *out, or EPROTO and a
 * reason in *why (a profile OpenSSL or libsrtp2 does not know, …).
 */
int dtls_ctx_new(const struct dtls_cert *cert, const struct dtls_conf *conf, struct dtls_ctx **out,
                 char **why);

/* Our fingerprint for SDP: "sha-256 AB:CD:…". Owned by ctx. */
const char *dtls_ctx_fingerprint_sdp(const struct dtls_ctx *ctx);

/* The SRTP profiles offered, colon-separated as OpenSSL takes them. Owned by ctx. */
const char *dtls_ctx_profiles(const struct dtls_ctx *ctx);

/* After every endpoint made from it is freed. NULL is fine. */
void dtls_ctx_free(struct dtls_ctx *ctx);

/*
 * A datagram to send to the peer over ICE (one DTLS datagram of at most
 * mtu bytes; data is valid during the call only).
 */
typedef void (*dtls_send_fn)(void *user, const uint8_t *data, size_t len);
/* The endpoint became CONNECTED, FAILED or CLOSED (by the peer). */
typedef void (*dtls_state_fn)(void *user, enum dtls_state state);

struct dtls_stats {
	uint64_t datagrams_in, datagrams_out;
	uint64_t malformed;   /* not a sequence of whole DTLS 1.x records: dropped before OpenSSL */
	uint64_t retransmits; /* timer expiries that resent a flight */
};

/*
 * One endpoint. peer is the fingerprint from the peer's SDP (copied): its
 * certificate is accepted only when it hashes to it, whatever its chain or
 * dates. On CONNECTED the SRTP keys are exported (RFC 5764 §4.2) into srtp,
 * the one way keys reach it; srtp must outlive the endpoint. send is
 * required, on_state may be NULL; neither may free the endpoint nor call
 * into it. Never fails (GLib aborts on OOM) but for an OpenSSL failure to
 * make the SSL object: NULL then.
 */
struct dtls *dtls_new(struct dtls_ctx *ctx, enum dtls_role role,
                      const struct dtls_fingerprint *peer, struct ice_srtp *srtp, dtls_send_fn send,
                      dtls_state_fn on_state, void *user);

/*
 * Start the handshake clock (now: monotonic µs, g_get_monotonic_time); a
 * client sends its ClientHello. 0, EALREADY when started before, or EPROTO
 * when it failed at once (FAILED, reason set).
 */
int dtls_start(struct dtls *d, int64_t now);

/*
 * One datagram that ICE received and ice_demux classed as DTLS. 0 when
 * taken (it may have moved the handshake on, or been a retransmission);
 * EBADMSG when it is not whole DTLS records (dropped, counted, the state
 * unchanged: off-path junk must not end a call); EPROTO when it made the
 * handshake fail (FAILED, reason set, a fatal alert sent); ENOTCONN before
 * dtls_start; EPIPE once CLOSED or FAILED (ignored).
 */
int dtls_input(struct dtls *d, const uint8_t *buf, size_t len, int64_t now);

/*
 * Milliseconds from now until dtls_handle_timeout must run (0: at once),
 * or -1 when no timer is due (not started, connected with nothing to
 * resend, closed, failed). Re-read it after every call that may change it.
 */
int dtls_next_timeout(const struct dtls *d, int64_t now);

/*
 * The timer expired: resend the last flight when OpenSSL's retransmission
 * timer is due, or fail the handshake when handshake_timeout_ms has passed
 * since dtls_start or the peer stayed silent through 12 retransmissions.
 * 0, or ETIMEDOUT when that failed it (FAILED, reason set).
 */
int dtls_handle_timeout(struct dtls *d, int64_t now);

/* Send close_notify when connected; CLOSED from here on, with no callback. */
void dtls_close(struct dtls *d);

enum dtls_state dtls_state(const struct dtls *d);
/* Why FAILED or CLOSED, in words for a log line; "" otherwise. Owned by d. */
const char *dtls_reason(const struct dtls *d);
/* The negotiated profile once CONNECTED: true and *out. */
bool dtls_profile(const struct dtls *d, enum ice_srtp_profile *out);
const struct dtls_stats *dtls_stats(const struct dtls *d);

/* NULL is fine. Sends nothing: call dtls_close first for a close_notify. */
void dtls_free(struct dtls *d);
