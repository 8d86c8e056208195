/* Media anchoring: RTP/RTCP legs on the media workers, the plain RTP⇄RTP bridge (RFC 3550). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct conf;
struct metrics;
struct media_pool;
struct media_session;

/*
 * Threading contract. Every function here is called from the control thread
 * (or, in tests, from one thread that plays it). A session's sockets, latching
 * state and packet path belong to the media worker it is pinned to; these
 * functions never touch that state, they post messages to the worker, which
 * runs them in the order they were posted. A session handle stays valid from
 * media_session_new until media_session_free, and no longer.
 */

enum media_leg {
	MEDIA_LEG_A, /* toward the browser or app */
	MEDIA_LEG_B, /* toward the PBX */
	MEDIA_LEG_COUNT,
};

enum media_drop {
	MEDIA_DROP_NOT_LATCHED, /* from a source other than the latched one */
	MEDIA_DROP_NO_REMOTE,   /* nowhere to send it: no SDP address, nothing latched yet */
	MEDIA_DROP_SEND_ERROR,  /* the kernel refused it (socket buffer full, unreachable) */
	MEDIA_DROP_MALFORMED,   /* not RTP/RTCP version 2, too short, or cut by the buffer */
	/* WebRTC leg A, and leg B with SDES-SRTP (media_session_pbx_srtp) */
	MEDIA_DROP_NOT_CONNECTED, /* before DTLS-SRTP is up: nothing passes either way */
	MEDIA_DROP_SRTP_AUTH,     /* SRTP/SRTCP tag did not verify */
	MEDIA_DROP_SRTP_REPLAY,   /* SRTP/SRTCP index seen before or too old */
	MEDIA_DROP_SRTP_ERROR,    /* SRTP header or another libsrtp2 refusal, either way */
	MEDIA_DROP_COUNT,
};
extern const char *const media_drop_names[MEDIA_DROP_COUNT];

/* One leg's traffic with its peer: in = received and accepted, out = sent to the peer. */
struct media_leg_stats {
	uint64_t packets_in, bytes_in, packets_out, bytes_out;
	uint64_t drops[MEDIA_DROP_COUNT]; /* packets that arrived on this leg's sockets */
};

struct media_stats {
	struct media_leg_stats leg[MEDIA_LEG_COUNT];
};

/*
 * Start media.workers threads (0: one per core) and the port pool over
 * media.ports (each worker gets its own contiguous block; RTP on an even
 * port, RTCP on the next). metrics may be NULL; else a collector exports
 * rtcgate_media_* series. 0 and the pool in *out, or a positive errno and a
 * reason in *why (g_free).
 */
int media_pool_start(const struct conf *c, struct metrics *metrics, struct media_pool **out,
                     char **why);

/*
 * Close any session still open (their handles become invalid), stop and
 * join the workers. NULL is fine.
 */
void media_pool_stop(struct media_pool *p);

/* Block until every worker has run what was posted to it before. For tests and benchmarks. */
void media_pool_sync(struct media_pool *p);

/* Sessions open now (created and not yet freed). */
int media_pool_sessions(const struct media_pool *p);

/*
 * A session with two legs, each with an RTP/RTCP port pair bound now on the
 * wildcard address with DSCP EF, pinned to the least loaded worker. Until
 * media_session_set_remote, a leg's destination is whatever first sends to
 * it. 0 and the session in *out; EADDRINUSE when every port pair of every
 * worker's block is taken (nothing is left bound), or another errno.
 */
int media_session_new(struct media_pool *p, struct media_session **out);

/*
 * What to put in SDP for leg (c= and the m= port; RTCP is that port + 1):
 * media.public_address when set, else the local address that routes toward
 * toward (learnt by connecting a throwaway UDP socket; no packet is sent),
 * else this host's first non-loopback address. The leg's RTP port is set in
 * *rtp_out. 0, or an errno (toward unreachable).
 */
int media_session_local(const struct media_session *s, enum media_leg leg,
                        const struct sockaddr *toward, struct sockaddr_storage *rtp_out);

/*
 * The peer of leg from its SDP: rtp, and rtcp (NULL: rtp's port + 1). A
 * changed address (re-INVITE to a new one) becomes the destination at once
 * and the leg latches again; the same address again (hold, resume) keeps the
 * latch. 0, or EAFNOSUPPORT (an IPv6 peer on a host without IPv6), EINVAL.
 */
int media_session_set_remote(struct media_session *s, enum media_leg leg,
                             const struct sockaddr *rtp, const struct sockaddr *rtcp);

/*
 * The far end of leg is an echo (the demo target's `echo`): nothing is
 * relayed between the legs; what arrives at either leg's sockets is sent back
 * to its (latched) source from the socket it arrived on. For the demo target:
 * set it on MEDIA_LEG_B, give leg A's address to the browser, never set B's
 * remote.
 */
void media_session_set_echo(struct media_session *s, enum media_leg leg);

/* The session's counters so far (relaxed reads; the worker may be mid-batch). */
void media_session_stats(const struct media_session *s, struct media_stats *out);

/*
 * WebRTC on leg A (issue 5; docs/webrtc.md). A session's leg A is plain RTP
 * until media_session_webrtc_local is called on it; from then on it is a
 * WebRTC leg on the session's worker: one ICE agent (libnice, on the
 * worker's GMainContext) with one component (rtcp-mux, BUNDLE), DTLS-SRTP
 * over it (ice/dtls.c, ice/srtp.c), and the packet path
 *   ICE datagram -> ice_demux -> DTLS or SRTP unprotect -> payload type
 *   map -> leg B's RTP/RTCP socket (or back to A when B is an echo)
 * and the reverse: leg B's RTP/RTCP -> payload type map -> SRTP protect
 * -> ICE. Nothing is sent on leg A before DTLS is connected, and nothing
 * leg A receives before then reaches leg B.
 */

#define MEDIA_ICE_UFRAG_LEN 9  /* 8 ice-chars and the NUL */
#define MEDIA_ICE_PWD_LEN   25 /* 24 ice-chars (at least 22, RFC 8839 §5.4) and the NUL */
#define MEDIA_ICE_MAX_CAND  4  /* local host candidates of one leg */
#define MEDIA_ICE_HOST_LEN  64 /* a remote candidate's address: IP literal or "<uuid>.local" */

/* A local candidate, for our SDP (component 1, UDP, typ host). */
struct media_ice_cand {
	struct sockaddr_storage addr; /* address and port the browser sends to */
	uint32_t priority;            /* RFC 8445 §5.1.2.1 */
	char foundation[9];
};

/* What goes into our SDP toward the browser. */
struct media_webrtc_local {
	char ufrag[MEDIA_ICE_UFRAG_LEN], pwd[MEDIA_ICE_PWD_LEN];
	size_t n_cand; /* at least 1; the first is the default (c= and m= port) */
	struct media_ice_cand cand[MEDIA_ICE_MAX_CAND];
	const char *fingerprint; /* "sha-256 AB:CD:…" of our certificate; owned by the pool */
	bool ice_lite;           /* media.ice_mode = lite: a=ice-lite */
};

/* A remote candidate from the browser's SDP or a trickled a=candidate line. */
struct media_ice_remote_cand {
	char foundation[33];
	uint16_t component; /* 1; 2 is ignored (rtcp-mux is required) */
	bool tcp;           /* TCP candidates are ignored: UDP only */
	uint32_t priority;
	char addr[MEDIA_ICE_HOST_LEN]; /* an mDNS name is ignored: learnt as peer-reflexive */
	uint16_t port;
	uint8_t type; /* 0 host, 1 srflx, 2 prflx, 3 relay (as enum sdp_webrtc_cand_type) */
};

/* One codec's payload type on each leg (they differ when the legs chose differently). */
struct media_pt_map {
	uint8_t web_pt, plain_pt;
	uint32_t clock; /* Hz: timestamps are per leg, but a codec's clock is the same on both */
};

#define MEDIA_PT_MAX 16

/* What the browser's SDP (offer or answer) says, for the worker. */
struct media_webrtc_remote {
	char ufrag[257], pwd[257];
	bool ice_restart; /* new credentials: restart ICE (and keep DTLS, RFC 8842 §5.5) */
	bool controlling; /* full ICE only: we offered (RFC 8445 §6.1.1); a lite agent never is */
	bool dtls_client; /* we send the ClientHello (the browser is setup:passive) */
	uint8_t fp_hash;  /* enum dtls_hash of the peer's a=fingerprint */
	uint8_t fp_len;   /* digest bytes */
	uint8_t fp[64];   /* digest */
	size_t n_cand;
	struct media_ice_remote_cand cand[32];
	bool end_of_candidates;
	size_t n_map; /* the call's codecs (telephone-event included) */
	struct media_pt_map map[MEDIA_PT_MAX];
	bool send, recv; /* direction of the browser leg (hold: what the browser may send / get) */
};

/* Events of a WebRTC leg, delivered on the control thread (see media_pool_set_events). */
enum media_event {
	MEDIA_EV_CONNECTED,    /* ICE has a pair and DTLS-SRTP is up: media flows */
	MEDIA_EV_FAILED,       /* ICE failed or timed out, DTLS failed, fingerprint mismatch */
	MEDIA_EV_CONSENT_LOST, /* RFC 7675: no consent (checks or media) from the browser for
	                          media.consent_timeout: the browser is gone */
};
extern const char *const media_event_names[];

/*
 * fn(user, session id, event, reason) runs on the control thread (an idle
 * source on the default GMainContext), never inside a media_session_* call. reason is a
 * short text for logs and SIP Reason headers, valid during the call. The
 * session may have been freed meanwhile: look it up by id. dtls is the
 * certificate and DTLS settings every WebRTC leg uses (not owned; it must
 * outlive the pool). Call once, before any session is made.
 */
typedef void (*media_event_fn)(void *user, uint32_t session_id, enum media_event ev,
                               const char *reason);
struct dtls_ctx;
void media_pool_set_webrtc(struct media_pool *p, struct dtls_ctx *dtls, media_event_fn fn,
                           void *user);

/*
 * Make leg A a WebRTC leg, or (called again, for an ICE restart on a
 * re-offer) give it new ICE credentials: fills *out synchronously (fresh
 * random ufrag and pwd; host candidates on media.public_address when set,
 * else the local address toward `toward`, the browser's address as the
 * signaling flow saw it; the port is leg A's RTP port) and posts the agent's
 * creation to the worker. 0, or an errno (toward unreachable, no DTLS
 * context set).
 */
int media_session_webrtc_local(struct media_session *s, const struct sockaddr *toward,
                               struct media_webrtc_local *out);

/*
 * The browser's side, from its offer or answer (copied): credentials,
 * candidates, fingerprint, DTLS role, the payload type map, direction.
 * Posted to the worker, which starts connectivity checks (full ICE) or
 * answers them (lite) and then DTLS. Called again on every re-offer/answer:
 * the map and direction change at once; ICE restarts only when
 * r->ice_restart. 0, or EINVAL (leg A is not WebRTC, no credentials).
 */
int media_session_webrtc_remote(struct media_session *s, const struct media_webrtc_remote *r);

/* One trickled candidate (RFC 8838), or end-of-candidates when c is NULL. */
int media_session_webrtc_candidate(struct media_session *s, const struct media_ice_remote_cand *c);

/* WebRTC leg details for the call-end log line: profile ("" before DTLS), selected pair. */
struct media_webrtc_info {
	char profile[32];     /* "SRTP_AEAD_AES_128_GCM" */
	char pair[128];       /* "192.0.2.1:10000 <-> 198.51.100.7:53211 host/prflx" */
	uint64_t srtp_errors; /* auth, replay and header failures on receive */
};
void media_session_webrtc_info(const struct media_session *s, struct media_webrtc_info *out);

/*
 * Call quality (RFC 3550 §6.4, A.3, A.8): what rtcgate saw of the RTP each
 * leg's peer sent, the round trip to each peer from the RTCP relayed
 * through it, what each peer reported of the stream it gets, and an
 * E-model MOS (G.107). Published by the worker with every packet; read
 * from the control thread.
 */
struct media_leg_quality {
	uint64_t expected, lost; /* RTP from this leg's peer; lost may count late packets */
	double loss_pct;
	unsigned jitter_us;
	int64_t rtt_us;       /* rtcgate <-> this leg's peer, -1 unknown (no SR/RR exchange yet) */
	double peer_loss_pct; /* the loss this peer reported for what it gets from us, -1 none */
};
struct media_quality {
	struct media_leg_quality leg[MEDIA_LEG_COUNT];
	double mos; /* of the worse direction, end to end; 0 when nothing was received */
};
void media_session_quality(const struct media_session *s, struct media_quality *out);
/* " a_loss=…% a_jitter_ms=… a_rtt_ms=… b_… mos=…" for a log line (any thread). */
void media_session_quality_text(const struct media_session *s, char *buf, size_t cap);

/*
 * SDES-SRTP on leg B (docs/media.md "SRTP toward the PBX"): from now on what
 * leg B sends is protected with local and what it receives must verify with
 * remote (AES_CM_128_HMAC_SHA1_80, RFC 3711; each key is the 16-byte master
 * key then the 14-byte salt of an a=crypto line, RFC 4568). Called again with
 * a changed key, that direction is re-keyed; with the same keys, nothing
 * changes. NULL for both turns it off (plain RTP). The keys are copied and
 * wiped after use; the caller wipes its own. Posted to the worker. 0, or
 * EINVAL (one key NULL).
 */
#define MEDIA_SDES_KEY_LEN 30
int media_session_pbx_srtp(struct media_session *s, const uint8_t local[MEDIA_SDES_KEY_LEN],
                           const uint8_t remote[MEDIA_SDES_KEY_LEN]);

/* Session id for logs (the worker's log lines carry it as session=). */
uint32_t media_session_id(const struct media_session *s);

/*
 * Close the session: its sockets are closed on its worker, after any packet
 * being relayed, and the ports go back to the pool. The handle is invalid
 * from here on. NULL is fine.
 */
void media_session_free(struct media_session *s);
