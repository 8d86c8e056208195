/* Media anchoring: RTP/RTCP legs on the media workers, the plain RTP⇄RTP bridge (RFC 3550). */
#pragma once

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

/* Session id for logs (the worker's log lines carry it as session=). */
uint32_t media_session_id(const struct media_session *s);

/*
 * Close the session: its sockets are closed on its worker, after any packet
 * being relayed, and the ports go back to the pool. The handle is invalid
 * from here on. NULL is fine.
 */
void media_session_free(struct media_session *s);
