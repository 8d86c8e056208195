/* One WebRTC media leg: a libnice agent (RFC 8445 lite or full, RFC 8838 trickle), DTLS-SRTP over
 * it. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ice/dtls.h"

/*
 * Threading contract. A leg lives on one GMainContext (a media worker's):
 * it is made, called, and freed on the thread that runs that context, and
 * every callback comes from there. Nothing is allocated per packet.
 *
 *   socket readable (the owner watches ice_leg_fds) -> ice_leg_readable
 *   -> libnice (STUN handled there; data from checked sources only), or once a
 *      lite leg is connected our recvmmsg (STUN answered by stun_ice_answer;
 *      data from sources whose checks were answered) -> ice_demux
 *     DTLS      -> dtls_input (handshake, then nothing)
 *     RTP/RTCP  -> ice_srtp_unprotect -> cbs->media (plain packet)
 *     other     -> cbs->drop
 *   ice_leg_send / ice_leg_send_batch: ice_srtp_protect -> libnice, or on the
 *   lite fast path sendto / sendmmsg (or cbs->send) to the nominated peer
 */

enum ice_leg_event {
	ICE_LEG_EV_CONNECTED,    /* a selected pair and DTLS-SRTP keys: media flows */
	ICE_LEG_EV_FAILED,       /* ICE failed, ICE+DTLS not done in time, DTLS failed */
	ICE_LEG_EV_CONSENT_LOST, /* RFC 7675: nothing authenticated from the peer in time */
	ICE_LEG_EV_PAIR,         /* a (new) selected pair: ice_leg_describe has it */
};

enum ice_leg_drop {
	ICE_LEG_DROP_NOT_CONNECTED, /* SRTP before DTLS set the keys */
	ICE_LEG_DROP_SRTP_AUTH,     /* tag did not verify */
	ICE_LEG_DROP_SRTP_REPLAY,   /* index seen before */
	ICE_LEG_DROP_SRTP_ERROR,    /* bad header or another libsrtp2 refusal */
	ICE_LEG_DROP_MALFORMED,     /* not DTLS, RTP nor RTCP, or too long */
	ICE_LEG_DROP_UNCHECKED,     /* from an address whose checks we did not answer */
};

/* An RTP or RTCP packet the fast path sends (cbs->send): its kind, its length before SRTP. */
struct ice_leg_media {
	bool rtcp;
	size_t len;
};

struct ice_leg_cbs {
	/*
	 * A plain RTP or RTCP packet from the peer, in buf (len bytes of cap):
	 * the callee may rewrite it in place and hand it to ice_leg_send.
	 */
	void (*media)(void *user, uint8_t *buf, size_t len, size_t cap, bool rtcp);
	void (*drop)(void *user, enum ice_leg_drop why);
	/* reason is valid during the call. FAILED and CONSENT_LOST come once, and last. */
	void (*event)(void *user, enum ice_leg_event ev, const char *reason);
	/*
	 * Optional. How the lite fast path sends a datagram on fd (libnice's
	 * socket) to `to`; media: the packet it protects, NULL for STUN and DTLS.
	 * 0: sent; EINPROGRESS: queued, the callee counts the media packet once
	 * the kernel took or refused it; another errno: dropped. The callee
	 * copies buf or keeps it until sent; NULL: sendto and sendmmsg.
	 */
	int (*send)(void *user, int fd, const uint8_t *buf, size_t len, const struct sockaddr *to,
	            const struct ice_leg_media *media);
	/*
	 * Optional. The fast path took fd over from libnice (on: from now on the
	 * owner may read it itself and hand each datagram to ice_leg_fast_input)
	 * or gave it back (off: libnice reads it again, through ice_leg_readable).
	 */
	void (*fast)(void *user, int fd, bool on);
};

struct ice_leg_conf {
	uint32_t id; /* session id, for log lines */
	bool lite;   /* ICE-lite (RFC 8445 §2.5); else full ICE with consent checks */
	unsigned consent_timeout_ms;
	unsigned ice_timeout_ms; /* from ice_leg_set_remote until CONNECTED */
};

/* The peer's side, from its SDP. */
struct ice_leg_remote {
	const char *ufrag, *pwd;
	bool restart;     /* new credentials: restart ICE, keep DTLS (RFC 8842 §5.5) */
	bool controlling; /* full ICE: we offered; ignored in lite mode */
	enum dtls_role role;
	struct dtls_fingerprint fp;
};

#define ICE_LEG_BUF        2048 /* largest datagram taken; more is dropped as malformed */
#define ICE_LEG_RECV_BATCH 32   /* datagrams taken per ice_leg_readable */
/* smallest buffer for ice_leg_readable: libnice's 1280 for STUN, and the SRTP trailer */
#define ICE_LEG_RECV_MIN (1280 + ICE_SRTP_TRAILER_MAX)

struct ice_leg;

/*
 * A leg on ctx (not owned; must outlive it) with DTLS endpoints from dtls
 * (likewise). cbs is copied. Nothing is bound yet. Never fails (GLib
 * aborts on OOM).
 */
struct ice_leg *ice_leg_new(GMainContext *ctx, struct dtls_ctx *dtls,
                            const struct ice_leg_conf *conf, const struct ice_leg_cbs *cbs,
                            void *user);

/*
 * Our credentials (ufrag, pwd: as put in SDP) and one host candidate bound
 * on addr (its port included). 0, or EADDRINUSE when the port cannot be
 * bound, EINVAL for a bad address or credentials.
 */
int ice_leg_start(struct ice_leg *l, const char *ufrag, const char *pwd,
                  const struct sockaddr *addr);

/*
 * New local credentials for an ICE restart (a re-offer): the peer's checks
 * with the old ones fail from here on. The DTLS association and its keys
 * stay. 0, or EINVAL.
 */
int ice_leg_restart(struct ice_leg *l, const char *ufrag, const char *pwd);

/*
 * The peer's credentials, DTLS role and fingerprint (the first call makes
 * the DTLS endpoint; later calls keep it, role and fingerprint included).
 * Starts the ICE+DTLS timer. 0, or EINVAL.
 */
int ice_leg_set_remote(struct ice_leg *l, const struct ice_leg_remote *r);

/*
 * One remote candidate (component 1, UDP). addr must be an IP literal: an
 * mDNS name is skipped (ENOENT) and its address learnt from the peer's
 * checks as peer-reflexive. type: 0 host, 1 srflx, 2 prflx, 3 relay. 0, ENOENT, or EINVAL.
 */
int ice_leg_add_candidate(struct ice_leg *l, const char *addr, uint16_t port, uint8_t type,
                          uint32_t priority, const char *foundation);

/*
 * The fds of libnice's sockets for the leg (at most max into fds), known
 * once ice_leg_start succeeded and valid until ice_leg_free. The leg
 * attaches no GSource for them: the caller watches them (epoll) and calls
 * ice_leg_readable when one is readable. Returns how many.
 */
unsigned ice_leg_fds(const struct ice_leg *l, int *fds, unsigned max);

/*
 * Take up to n (<= ICE_LEG_RECV_BATCH) datagrams waiting on the leg's
 * sockets (fd: the one found readable) into bufs[i], each of cap bytes
 * (>= ICE_LEG_RECV_MIN); cbs->media gets the plain ones in place, with cap
 * as their room. STUN is answered inside libnice, or on the lite fast path
 * here. Call it until the sockets are no longer readable (a level-triggered
 * watch does), also after the leg failed: what arrives then is read and
 * dropped.
 */
void ice_leg_readable(struct ice_leg *l, int fd, uint8_t *const *bufs, unsigned n, size_t cap);

/*
 * One datagram the owner read itself from the fast path's socket (see
 * cbs->fast), from src, in buf (len bytes of cap; cut: truncated): handled as
 * ice_leg_readable would on the fast path. Ignored once the path is off.
 */
void ice_leg_fast_input(struct ice_leg *l, uint8_t *buf, size_t len, size_t cap, bool cut,
                        const struct sockaddr *src);

/* The peer sent end-of-candidates (RFC 8838 §8.2): full ICE may now fail. */
void ice_leg_end_of_candidates(struct ice_leg *l);

/* What became of a packet given to ice_leg_send or ice_leg_send_batch. */
enum ice_leg_sent {
	ICE_LEG_SENT,          /* on the wire */
	ICE_LEG_QUEUED,        /* cbs->send queued it: it counts it when it completes */
	ICE_LEG_NOT_CONNECTED, /* the leg has no SRTP keys (yet), or it ended */
	ICE_LEG_SRTP_REFUSED,  /* SRTP could not protect it (no room, replayed sequence number) */
	ICE_LEG_SEND_FAILED,   /* the socket or libnice refused it now: dropped, never queued */
};

/*
 * Protect buf (len of cap bytes; cap >= len + ICE_SRTP_TRAILER_MAX) in
 * place and send it.
 */
enum ice_leg_sent ice_leg_send(struct ice_leg *l, uint8_t *buf, size_t len, size_t cap, bool rtcp);

/*
 * The same for n packets (n <= 64; more are not sent) in one go: buf[i] of
 * len[i] bytes, each with cap bytes of room; rtcp[i] their kinds; res[i]
 * what became of each.
 */
void ice_leg_send_batch(struct ice_leg *l, uint8_t *const *buf, const size_t *len, const bool *rtcp,
                        unsigned n, size_t cap, enum ice_leg_sent *res);

/*
 * RFC 7675 consent: ends the leg with CONSENT_LOST when nothing authenticated
 * came from the peer for consent_timeout_ms (now: g_get_monotonic_time). The
 * leg has no consent timer of its own: the owner calls this for each of its
 * legs at least ICE_LEG_CONSENT_TICKS times per timeout, from one timer.
 */
#define ICE_LEG_CONSENT_TICKS 4
void ice_leg_tick(struct ice_leg *l, int64_t now);

/*
 * Whether libnice's timers can wait: the leg ended, or it is a connected lite
 * leg on the fast path (libnice then only sends keepalives). Else its checks,
 * DTLS and restarts need the agents' context run every 20 ms or so.
 */
bool ice_leg_settled(const struct ice_leg *l);

/* "SRTP_AEAD_AES_128_GCM" ("" before DTLS) and "local <-> remote type/type" ("" before a pair). */
void ice_leg_describe(const struct ice_leg *l, char *profile, size_t profile_cap, char *pair,
                      size_t pair_cap);

/* Stop timers, detach from libnice, free the agent, DTLS and SRTP. No callback after. NULL is fine.
 */
void ice_leg_free(struct ice_leg *l);
