/* Internals of the media pool, sessions and the RTP/RTCP packet path (relay/media.h). */
#pragma once

#include <glib.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "relay/media.h"
#include "relay/rtcp.h"
#include "relay/rtp_latch.h"
#include "relay/rtp_rx.h"

#define RTP_BATCH     32        /* datagrams per recvmmsg/sendmmsg */
#define RTP_DGRAM_MAX 2048      /* larger than any RTP packet on a 1500-byte path: cut means junk */
#define RTP_EPOLL_MAX 64        /* ready sockets taken per wake-up */
#define DSCP_EF_TOS   (46 << 2) /* RFC 3246 EF in the top six bits of TOS/traffic class */

enum rtp_kind { RTP_KIND_RTP, RTP_KIND_RTCP, RTP_KIND_COUNT };
/* rtp_sock.kind of a WebRTC leg's libnice socket in the epoll set: media_webrtc_readable's */
#define RTP_KIND_ICE RTP_KIND_COUNT

/*
 * Counters: written by their worker only, with a relaxed load and store (no
 * read-modify-write on the packet path), read by the control thread.
 */
#define RTP_STAT_ADD(field, n)                                                            \
	atomic_store_explicit(&(field),                                                   \
	                      atomic_load_explicit(&(field), memory_order_relaxed) + (n), \
	                      memory_order_relaxed)

struct rtp_leg_counters {
	atomic_uint_fast64_t packets_in, bytes_in, packets_out, bytes_out;
	atomic_uint_fast64_t drops[MEDIA_DROP_COUNT];
};

/*
 * Quality of one leg (media_quality.c): the worker's receiver state, and
 * what it publishes for the control thread with relaxed stores.
 */
struct media_quality_leg {
	struct rtp_rx rx;                    /* the peer's current RTP source */
	uint64_t old_expected, old_received; /* of its earlier sources */
	struct rtcp_sr_track sr;             /* SRs sent toward the peer */
	atomic_uint_fast64_t expected, received, jitter_us;
	atomic_int_fast64_t rtt_us;        /* -1 unknown */
	atomic_int_fast32_t peer_fraction; /* the peer's last fraction lost (/256), -1 none */
};

struct rtp_recv;
struct rtp_ring;

/* One socket of a leg (its RTP or its RTCP port); the epoll data of its fd. */
struct rtp_sock {
	int fd;
	uint8_t leg;  /* enum media_leg */
	uint8_t kind; /* enum rtp_kind */
	struct media_session *s;
	struct rtp_latch latch; /* worker only */
	struct rtp_recv *rx;    /* its multishot receive on the ring; NULL: in the epoll set */
};

struct rtp_worker;

struct media_session {
	uint32_t id;
	struct rtp_worker *rw;
	uint16_t port[MEDIA_LEG_COUNT]; /* RTP; RTCP is +1. Immutable. */
	/* fds are set before the session is posted; the rest is the worker's */
	struct rtp_sock sock[MEDIA_LEG_COUNT][RTP_KIND_COUNT];
	bool echo;
	struct rtp_leg_counters stats[MEDIA_LEG_COUNT];
	struct media_quality_leg quality[MEDIA_LEG_COUNT];
	uint32_t clock; /* Hz of the call's codec (8000 until a WebRTC map says otherwise) */
	/* leg A as WebRTC (media_webrtc.c) */
	bool webrtc;              /* control thread: media_session_webrtc_local was called */
	struct media_webrtc *web; /* the worker's: NULL while leg A is plain RTP */
	struct rtp_srtp *srtp_b;  /* the worker's: SDES-SRTP on leg B (rtp_srtp.c); NULL: plain */
	GMutex info_lock; /* info: written by the worker on events, read by the control thread */
	struct media_webrtc_info info;
};

/* Per worker totals for the metrics collector. */
struct rtp_worker_counters {
	atomic_uint_fast64_t packets[RTP_KIND_COUNT], bytes[RTP_KIND_COUNT];
	atomic_uint_fast64_t drops[MEDIA_DROP_COUNT];
};

/* A media worker's RTP side: its epoll set (one GSource on its context) and batch buffers. */
struct rtp_worker {
	struct worker *w;
	struct media_pool *pool;
	int epfd;
	GSource *source;
	/* control thread only: the port block and how loaded the worker is */
	uint16_t first_even;
	uint32_t npairs, cursor;
	int nsessions;
	/* worker thread only */
	GHashTable *sessions;  /* set of struct media_session * */
	GSource *web_tick;     /* consent of every WebRTC leg (media_webrtc.c); NULL until one */
	GMainContext *ice_ctx; /* the legs' libnice agents and timers; NULL until a leg */
	GSource *ice_pump;     /* iterates ice_ctx every MEDIA_ICE_PUMP_MS on the worker */
	struct rtp_worker_counters stats;
	struct rtp_ring *ring; /* media.io = io_uring (rtp_uring.c); NULL: epoll and syscalls */
	bool epoll_pending;    /* ring: the epoll set fired; epoll_wait(0) until it has nothing */
	/* what worker_poll's epoll_wait found, for the next dispatch (rtp_leg.c) */
	struct epoll_event ready[RTP_EPOLL_MAX];
	int nready;  /* -1: nothing kept, the dispatch asks epoll itself */
	int wake_fd; /* GLib's wake-up fd of the context, once in the epoll set; else -1 */
	struct mmsghdr rx[RTP_BATCH], tx[RTP_BATCH];
	struct iovec rx_iov[RTP_BATCH], tx_iov[RTP_BATCH];
	struct sockaddr_storage rx_addr[RTP_BATCH], tx_addr[RTP_BATCH];
	uint8_t rx_buf[RTP_BATCH][RTP_DGRAM_MAX];
};

struct media_pool {
	struct worker_pool *workers;
	struct rtp_worker **rw;
	int nworkers;
	int family; /* of every media socket: AF_INET6 (dual-stack) or AF_INET */
	struct sockaddr_storage public_addr; /* media.public_address; ss_family 0: none */
	struct sockaddr_storage host_addr;   /* when nothing better is known */
	struct metrics *metrics;
	uint32_t next_id;
	int nsessions;
	/* WebRTC legs: set at start and by media_pool_set_webrtc, read-only afterwards */
	struct dtls_ctx *dtls;
	media_event_fn ev_fn;
	void *ev_user;
	bool ice_lite;
	bool io_uring; /* media.io */
	unsigned consent_ms, ice_timeout_ms;
};

/* The packet path (rtp_leg.c), on the worker thread. */
int rtp_worker_init(struct rtp_worker *rw);
void rtp_worker_fini(struct rtp_worker *rw);
void rtp_session_attach(struct media_session *s);
void rtp_session_close(struct media_session *s, const char *why);
/* k off its ring receive or out of the epoll set, nothing kept for it; its fd stays open. */
void rtp_sock_unwatch(struct rtp_worker *rw, struct rtp_sock *k);
void rtp_sock_close(struct rtp_worker *rw, struct rtp_sock *k);
/*
 * One datagram that arrived on k (len bytes in buf, cap of room; cut: the
 * kernel truncated it) from src: the ring's receive path (rtp_uring.c).
 */
void rtp_leg_datagram(struct rtp_worker *rw, struct rtp_sock *k, uint8_t *buf, size_t len,
                      size_t cap, bool cut, const struct sockaddr *src, int64_t now);
/*
 * What a send counts once the kernel answered: taken, packets_out of kind on
 * leg, of bytes (as the counters count it: on leg A, the length before SRTP);
 * refused, a send_error drop on from, the leg the packet came from.
 */
struct rtp_tally {
	int from, leg, kind;
	size_t bytes;
};

/*
 * buf (len bytes) out of socket out toward to, by the ring or sendto: counted
 * as sent on out's leg once the kernel took it (on the ring, at its
 * completion), or as a send_error drop on leg. Never queued for later.
 */
void rtp_send(struct rtp_worker *rw, struct media_session *s, int leg, const struct rtp_sock *out,
              const uint8_t *buf, size_t len, const struct sockaddr *to);

/*
 * io_uring (rtp_uring.c), on the worker thread. rtp_uring_start: the ring,
 * or false and a warning when the kernel refuses one (the worker keeps
 * epoll and syscalls). rtp_uring_arm: k's multishot receive (0, or an errno:
 * leave k in the epoll set); rtp_uring_disarm cancels it and submits what
 * is queued, so k's fd may be closed right after. rtp_uring_send: queue buf
 * (sent in place when it is the datagram being handled, else copied) for the
 * next wait: 0, or an errno (dropped, not counted). Its completion counts it
 * on s as t says (NULL: not at all, STUN and DTLS). rtp_uring_forget: s is
 * closing, no completion counts on it. rtp_uring_poll is worker_poll's wait;
 * the dispatch then handles the receives it kept (rtp_uring_dispatch).
 * rtp_uring_submit: what is queued leaves now.
 * rtp_uring_stop: cancel everything, wait for the last completions, free.
 */
bool rtp_uring_start(struct rtp_worker *rw);
void rtp_uring_stop(struct rtp_worker *rw);
int rtp_uring_arm(struct rtp_worker *rw, struct rtp_sock *k);
void rtp_uring_disarm(struct rtp_worker *rw, struct rtp_sock *k);
void rtp_uring_submit(struct rtp_worker *rw);
int rtp_uring_send(struct rtp_worker *rw, int fd, const uint8_t *buf, size_t len,
                   const struct sockaddr *to, struct media_session *s, const struct rtp_tally *t);
void rtp_uring_forget(struct rtp_worker *rw, const struct media_session *s);
gint rtp_uring_poll(struct rtp_worker *rw, GPollFD *wake, GPollFD *ep, gint timeout);
void rtp_uring_dispatch(struct rtp_worker *rw, int64_t now);

/* One RTP/RTCP counter step for a leg and its worker's totals (worker thread). */
void rtp_count(struct media_session *s, int leg, int kind, bool out, size_t bytes);
void rtp_drop(struct media_session *s, int leg, enum media_drop why);

/* Quality (media_quality.c), on the worker: plain RTP/RTCP from or toward a leg's peer. */
void media_quality_init(struct media_session *s);
void media_quality_rtp(struct media_session *s, int leg, const uint8_t *p, size_t len, int64_t now);
void media_quality_rtcp(struct media_session *s, int from, int to, const uint8_t *p, size_t len,
                        int64_t now);

/* The local address toward `toward` (NULL: this host's), port 0; control thread. 0 or errno. */
int media_local_toward(const struct media_pool *p, const struct sockaddr *toward,
                       struct sockaddr_storage *out);

void rtp_addr_set_port(struct sockaddr_storage *a, uint16_t port);

/* WebRTC leg A on the worker (media_webrtc.c). */
void media_webrtc_to_a(struct media_session *s, int kind, uint8_t *const *bufs, const size_t *lens,
                       int n);
/* A datagram the ring read from a leg's fast-path ICE socket k (see rtp_leg_datagram). */
void media_webrtc_datagram(const struct rtp_sock *k, uint8_t *buf, size_t len, size_t cap, bool cut,
                           const struct sockaddr *src);
void media_webrtc_close(struct media_session *s);

/*
 * SDES-SRTP on leg B (rtp_srtp.c), on the worker. rtp_srtp_in: a packet that
 * arrived on in, unprotected in place when in is leg B's and SRTP is on;
 * false when it failed (counted on leg B as an srtp drop). rtp_srtp_to_b: a
 * packet from from_leg about to go out on leg B, protected in place (cap: its
 * buffer's size); false when refused (counted on from_leg).
 */
bool rtp_srtp_in(struct media_session *s, const struct rtp_sock *in, uint8_t *buf, unsigned *len);
bool rtp_srtp_to_b(struct media_session *s, int from_leg, int kind, uint8_t *buf, size_t *len,
                   size_t cap);
void rtp_srtp_close(struct media_session *s);
void media_webrtc_readable(struct rtp_worker *rw, const struct rtp_sock *k);
void rtp_ready_forget(struct rtp_worker *rw, const void *ptr);
