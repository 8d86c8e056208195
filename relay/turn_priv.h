/* Internals shared by the TURN worker loop, allocations and request handlers (RFC 8656). */
#pragma once

#include <glib.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "relay/peer_policy.h"
#include "relay/ratelimit.h"
#include "relay/stun_msg.h"
#include "relay/stun_server.h"
#include "relay/turn_auth.h"

#define TURN_BATCH               32
#define TURN_LISTEN_BUFFER       (4 * 1024 * 1024) /* socket buffers of the UDP listener */
#define TURN_DGRAM_MAX           2048
#define TURN_MAX_PERMS           32 /* per allocation; more get 508 */
#define TURN_MAX_CHANS           16
#define TURN_DEFAULT_LIFETIME    600 /* RFC 8656 §7.2 */
#define TURN_PERMISSION_LIFETIME 300 /* §9 */
#define TURN_CHANNEL_LIFETIME    600 /* §12 */
/*
 * RFC 8656 §12 narrows channels to 0x4000-0x4FFF for RFC 7983 demultiplexing;
 * RFC 5766 clients (coturn's among them) still use up to 0x7FFF. Only STUN and
 * ChannelData reach the TURN port, so the old range is accepted.
 */
#define TURN_CHANNEL_MIN 0x4000
#define TURN_CHANNEL_MAX 0x7fff

/* Immutable after start; shared read-only by every worker. */
struct turn_snapshot {
	char *realm;
	GHashTable *users; /* username → password */
	char **secrets;    /* TURN REST */
	uint8_t nonce_key[TURN_NONCE_KEY_LEN];
	uint32_t nonce_ttl, max_lifetime;
	uint16_t relay_lo, relay_hi;
	struct peer_rule *allow, *deny, *self;
	struct peer_policy policy;
	int max_allocs, max_allocs_per_user, max_conns_per_ip;
	GHashTable *userhash; /* USERHASH (32 bytes) → static username, for RFC 8489 §9.2.4 */
	int request_rate;     /* unauthenticated requests per second per source IP */
	double max_bytes_per_sec;          /* relayed by one allocation, both ways; 0 = unlimited */
	struct sockaddr_storage alternate; /* ss_family 0: none */
	/*
	 * A relay address of each family for clients that reached us over the
	 * other one (REQUESTED- and ADDITIONAL-ADDRESS-FAMILY); ss_family 0: none.
	 */
	struct sockaddr_storage host4, host6;
	const char *software;
};

struct conf;
/*
 * The immutable view every worker reads, from a config the loader checked
 * already. A reload passes the old one as prev: its nonce key is kept, so
 * nonces in flight stay good. 0, or an error with *why set.
 */
int turn_snapshot_build(struct turn_snapshot *s, const struct conf *c,
                        const struct turn_snapshot *prev, char **why);
void turn_snapshot_free(struct turn_snapshot *s);

/* What is shared and mutable across workers: only touched on Allocate and on free. */
struct turn_shared {
	atomic_int allocs;
	GMutex lock;
	GHashTable *per_user;     /* quota user → allocations and reservations held */
	GHashTable *reservations; /* 8-byte token → reserved relay socket */
	GHashTable *conns_per_ip; /* 16-byte IPv6 (v4 mapped) → TCP/TLS connections */
};

/* How the relay port of a new allocation is chosen (EVEN-PORT, RESERVATION-TOKEN). */
struct turn_port_req {
	bool even;
	bool reserve;         /* EVEN-PORT with R: hold the next port too */
	const uint8_t *token; /* RESERVATION-TOKEN: use the port held under it */
	uint8_t token_out[8]; /* set when reserved */
	bool reserved;
	bool dual;      /* ADDITIONAL-ADDRESS-FAMILY: an IPv6 relay besides the IPv4 one */
	int dual_error; /* set when the additional relay failed: its STUN error code */
};

/* Auth failures, by reason; keep turn_auth_fail_names in step. */
enum turn_auth_fail {
	AUTH_FAIL_MISSING,
	AUTH_FAIL_BAD_REQUEST,
	AUTH_FAIL_STALE_NONCE,
	AUTH_FAIL_WRONG_REALM,
	AUTH_FAIL_UNKNOWN_USER,
	AUTH_FAIL_EXPIRED,
	AUTH_FAIL_BAD_INTEGRITY,
	AUTH_FAIL_COUNT,
};
extern const char *const turn_auth_fail_names[AUTH_FAIL_COUNT];

/*
 * Counters: written by their worker only, read by the control thread at
 * scrape time with relaxed loads; no read-modify-write on the packet path.
 */
struct turn_stats {
	atomic_uint_fast64_t pkts_in, bytes_in, pkts_out, bytes_out;
	atomic_uint_fast64_t relay_pkts_in, relay_bytes_in, relay_pkts_out, relay_bytes_out;
	atomic_uint_fast64_t results[STUN_RES_COUNT];
	atomic_uint_fast64_t allocs_created, allocs_freed, allocs_expired;
	atomic_uint_fast64_t auth_fail[AUTH_FAIL_COUNT];
	atomic_uint_fast64_t peer_denied, quota_hits, no_permission, no_channel;
	atomic_uint_fast64_t tcp_accepted, tcp_closed, tcp_dropped, tls_failed, rate_limited;
	atomic_uint_fast64_t bandwidth_drops, tcp_per_ip, tcp_oversized;
	atomic_uint_fast64_t gso_client, gso_peer; /* datagrams sent within UDP GSO sends */
};

#define STAT_ADD(field, n)                                                                \
	atomic_store_explicit(&(field),                                                   \
	                      atomic_load_explicit(&(field), memory_order_relaxed) + (n), \
	                      memory_order_relaxed)

enum ep_kind {
	EP_LISTEN,
	EP_RELAY,
	EP_STOP,
	EP_KICK,
	EP_TIMER,
	EP_TCP_LISTEN,
	EP_TLS_LISTEN,
	EP_TCP
};

/* First member of everything registered in a worker's epoll set. */
struct ep_item {
	enum ep_kind kind;
	int fd;
	/*
	 * Set when the object is gone but may still sit in the epoll events of
	 * the current wake-up; it is freed after that batch (turn_defer_free).
	 */
	bool dead;
};

struct turn_perm {
	struct sockaddr_storage peer; /* address only; the port is ignored */
	int64_t expires;
};

struct turn_chan {
	uint16_t number;
	struct sockaddr_storage peer;
	int64_t expires;
};

struct turn_worker;
struct turn_alloc;
struct turn_rx;
struct turn_ring;

/*
 * Input is held for one frame at a time; a frame larger than anything we can
 * relay (ChannelData up to 65535 bytes is legal) is skipped, not buffered.
 */
#define TURN_TCP_IN_MAX    4096
#define TURN_TCP_OUT_MAX   (256 * 1024) /* beyond this, packets toward the client are dropped */
#define TURN_TCP_OUT_MIN   4096         /* the output buffer grows from this when needed */
#define TURN_TCP_IDLE      30           /* seconds a connection may live without an allocation */
#define TURN_TCP_MAX_CONNS 10000        /* per worker */

/*
 * A TCP (RFC 8656 §3.1) client connection: STUN messages and ChannelData
 * framed on a byte stream. The connection is the 5-tuple: its allocation
 * hangs off it instead of the UDP table.
 */
struct turn_conn {
	struct ep_item ep; /* EP_TCP */
	struct turn_worker *w;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct in6_addr local; /* where the client reached us */
	uint8_t ip_key[16];    /* the client's IP, counted in conns_per_ip */
	struct turn_alloc *alloc;
	struct ssl_st *ssl; /* TURN over TLS; NULL over TCP */
	int64_t created;
	bool want_out;
	bool ssl_wants_write; /* an SSL_read needs the socket writable */
	size_t inlen, outlen, outcap;
	size_t skip;  /* bytes of an oversized frame still to be discarded */
	uint8_t *in;  /* TURN_TCP_IN_MAX */
	uint8_t *out; /* outcap bytes, NULL while nothing waits to be written */
};

/* A relayed transport address of an allocation and its socket. */
struct turn_relay {
	struct ep_item ep; /* EP_RELAY */
	struct turn_alloc *a;
	struct turn_rx *rx; /* its multishot receive (turn_uring.c); NULL: in the epoll set */
	struct sockaddr_storage addr;
};

/* RFC 8656 §7.2 dual allocation: an IPv4 and an IPv6 relay for one client */
#define TURN_MAX_RELAYS 2

struct turn_alloc {
	/*
	 * First member: relay[0].ep is the allocation's ep_item for
	 * turn_defer_free. relay[0] always exists; relay[1] in a dual allocation.
	 */
	struct turn_relay relay[TURN_MAX_RELAYS];
	size_t nrelay;
	struct turn_worker *w;
	struct sockaddr_storage client;
	socklen_t client_len;
	struct in6_addr server_addr; /* where the client reaches us: source of our packets */
	struct turn_conn *conn;      /* TCP clients: the connection; NULL over UDP */
	char username[STUN_MAX_USERNAME + 1];
	char quota_user[STUN_MAX_USERNAME + 1]; /* what the per-user quota counts */
	uint8_t key[32];
	size_t keylen;
	uint8_t tid[STUN_TID_LEN]; /* of the Allocate, to spot retransmissions */
	uint8_t token[8];          /* RESERVATION-TOKEN of that Allocate's answer */
	bool has_token;
	int dual_error;           /* a dual Allocate whose IPv6 relay failed: the error, repeated */
	int64_t created, expires; /* monotonic seconds */
	struct turn_perm perms[TURN_MAX_PERMS];
	size_t nperms;
	struct turn_chan chans[TURN_MAX_CHANS];
	size_t nchans;
	uint64_t pkts_to_peer, bytes_to_peer, pkts_from_peer, bytes_from_peer;
	double bw_tokens; /* bytes this allocation may still relay now (both ways) */
	int64_t bw_last_ms;
};

struct turn_worker {
	int index, nworkers;
	struct ep_item listen, stop, timer;
	int ep;
	GThread *thread;
	/*
	 * The snapshot in use, re-read from *snap_src at every wake-up; a new
	 * one is published on SIGHUP and the old one freed once every worker's
	 * epoch has moved past the swap (turn_server.c).
	 */
	const struct turn_snapshot *snap;
	struct turn_snapshot *_Atomic *snap_src;
	atomic_uint_fast64_t epoch;
	struct ep_item kick;
	GPtrArray *graveyard; /* objects closed during this wake-up, freed after it */
	struct turn_shared *shared;
	struct stun_server_conf stun;
	struct turn_stats stats;
	GHashTable *allocs; /* client address bytes → struct turn_alloc */
	uint32_t port_cursor;
	uint8_t tid_prefix[8]; /* random, for the transaction ids of Data indications */
	uint32_t tid_counter;
	int64_t now;    /* monotonic seconds, per batch */
	int64_t now_ms; /* monotonic milliseconds, per batch */
	struct ratelimit *limiter;
	uint64_t now_real; /* unix seconds, per batch */
	/* batch buffers, owned by the worker thread */
	struct mmsghdr rx[TURN_BATCH], tx[TURN_BATCH];
	struct iovec rx_iov[TURN_BATCH], tx_iov[TURN_BATCH];
	struct sockaddr_storage rx_addr[TURN_BATCH], tx_addr[TURN_BATCH];
	/*
	 * The listening socket is bound to a wildcard: each datagram's own
	 * destination address (IPV6_PKTINFO) becomes the source of what we send
	 * back, or a client behind a connected socket would drop our answers.
	 */
	uint8_t rx_ctl[TURN_BATCH][64], tx_ctl[TURN_BATCH][64];
	struct in6_addr rx_dst[TURN_BATCH];
	const struct in6_addr *cur_src; /* for turn_tx_commit; NULL: kernel's choice */
	struct turn_conn *cur_conn;     /* TCP: turn_tx_commit writes to this connection */
	struct ep_item tcp_listen, tls_listen;
	bool listeners_paused;  /* out of descriptors: TCP/TLS accept resumes at the next tick */
	struct ssl_ctx_st *tls; /* shared by the workers; NULL without a TLS port */
	GHashTable *conns;      /* struct turn_conn * set */
	uint8_t rx_buf[TURN_BATCH][TURN_DGRAM_MAX], tx_buf[TURN_BATCH][TURN_DGRAM_MAX];
	int ntx;
	int rx_used; /* rx headers the last recvmmsg wrote into: only those need resetting */
	/*
	 * Client→peer packets of one listening-socket batch (turn_peer_tx_*):
	 * the data stays in rx_buf, so they must leave before the next recvmmsg.
	 */
	bool peer_hold; /* set while such a batch is handled: sends are queued, not sent */
	int npeer;
	struct mmsghdr peer_tx[TURN_BATCH];
	struct iovec peer_iov[TURN_BATCH];
	struct sockaddr_storage peer_addr[TURN_BATCH];
	struct turn_alloc *peer_alloc[TURN_BATCH];
	int peer_fd[TURN_BATCH];
	/*
	 * io_uring (turn_uring.c), NULL when off or refused by the kernel: the
	 * relay sockets that were readable in this wake-up are read together,
	 * one datagram each, after the other descriptors.
	 */
	struct turn_ring *ring;
	bool multishot; /* the ring is the event loop: relays and listener on multishot receives */
	bool gso;       /* turn.udp_gso: datagrams to one place may leave as one send (multishot) */
	uint8_t *tx_cur; /* the slot turn_tx_slot gave out */
	struct turn_relay *ready[TURN_BATCH];
	int nready;
};

/*
 * Transmit queue toward clients (the listening socket), flushed with
 * sendmmsg when full and once at the end of each epoll wake-up, so the
 * packets of many relay sockets share one call. Each packet leaves from
 * w->cur_src as it was at commit time; with w->cur_conn set the commit
 * writes to that TCP connection instead and the queue is not touched.
 */
uint8_t *turn_tx_slot(struct turn_worker *w);
void turn_tx_commit(struct turn_worker *w, size_t len, const struct sockaddr *to, socklen_t tolen);
void turn_tx_flush(struct turn_worker *w);
/* recvmmsg into the worker's rx batch; the count read, or -1. */
int turn_rx_batch(struct turn_worker *w, int fd);

/* Allocations (turn_alloc.c) */
struct turn_alloc *turn_alloc_find(struct turn_worker *w, const struct sockaddr *client);
int turn_alloc_create(struct turn_worker *w, const struct sockaddr *client, socklen_t clen,
                      int family, struct turn_port_req *pr, const char *username,
                      struct turn_alloc **out);
GHashTable *turn_reservations_new(void);
void turn_alloc_free(struct turn_alloc *a, const char *why);
void turn_alloc_expire(struct turn_worker *w);
bool turn_alloc_permitted(const struct turn_alloc *a, const struct sockaddr *peer, int64_t now);
int turn_alloc_permit(struct turn_alloc *a, const struct sockaddr *peer, int64_t now);
/* Permissions for peers[n] would fit (those already held count for nothing). */
bool turn_alloc_permits_fit(const struct turn_alloc *a, const struct sockaddr_storage *peers,
                            size_t n);
const struct turn_chan *turn_alloc_chan_by_number(const struct turn_alloc *a, uint16_t n,
                                                  int64_t now);
const struct turn_chan *turn_alloc_chan_by_peer(const struct turn_alloc *a,
                                                const struct sockaddr *peer, int64_t now);
int turn_alloc_bind_channel(struct turn_alloc *a, uint16_t n, const struct sockaddr *peer,
                            int64_t now);
void turn_alloc_relay_readable(struct turn_relay *r);
/* The relay of this family, or NULL. */
struct turn_relay *turn_alloc_relay(const struct turn_alloc *a, int family);
/* Close one relay of a dual allocation (Refresh with REQUESTED-ADDRESS-FAMILY, lifetime 0). */
void turn_alloc_drop_relay(struct turn_alloc *a, struct turn_relay *r);
/* What the per-user quota counts for a username: the user part of "<expiry>:<user>". */
const char *turn_quota_user(const char *username);
/*
 * Relay data to a peer from the allocation's relay socket of its family.
 * While w->peer_hold is set it is only queued: data must stay valid until
 * turn_peer_tx_flush. Dropped when the socket cannot take it now.
 */
void turn_alloc_send_to_peer(struct turn_alloc *a, const struct sockaddr *peer, const void *data,
                             size_t len);
/* Send what turn_alloc_send_to_peer queued while w->peer_hold was set: one sendmmsg per socket. */
void turn_peer_tx_flush(struct turn_worker *w);

/* A relay socket of the ring's wake-up list: read with the others, or at once without a ring. */
void turn_alloc_relay_ready(struct turn_relay *r);
/* Read and relay one datagram of every relay socket on the wake-up list (the ring's path). */
void turn_alloc_relays_rx(struct turn_worker *w);

/*
 * io_uring (turn_uring.c): false (and a warning) when the kernel refuses a
 * ring. Sets w->multishot when the kernel has what multishot mode needs
 * (else a warning and the per-readable-socket ring).
 */
bool turn_uring_start(struct turn_worker *w);
void turn_uring_stop(struct turn_worker *w);
/*
 * Multishot mode, on the worker thread: begin enables the ring and arms the
 * listener's receive and the poll on the epoll set (0 or an errno); wait
 * submits what is queued and waits for completions (only looks when
 * epoll_pending); reap handles a budget of them and says whether the epoll
 * set is readable; drain cancels everything and waits for the last
 * completions, before the thread ends.
 */
int turn_uring_begin(struct turn_worker *w);
bool turn_uring_wait(struct turn_worker *w, bool epoll_pending);
bool turn_uring_reap(struct turn_worker *w);
void turn_uring_drain(struct turn_worker *w);
/* A relay socket's multishot receive: armed when opened (0 or an errno), cancelled on close. */
int turn_uring_arm_relay(struct turn_worker *w, struct turn_relay *r);
void turn_uring_disarm_relay(struct turn_worker *w, struct turn_relay *r);
/* turn_tx_slot and turn_tx_commit toward UDP clients in multishot mode: one SQE per packet. */
uint8_t *turn_uring_tx_slot(struct turn_worker *w);
void turn_uring_tx_commit(struct turn_worker *w, size_t len, const struct sockaddr *to,
                          socklen_t tolen);
/*
 * Client→peer from the listener datagram being handled, sent from its
 * receive buffer with the next submission; false when it cannot be (then
 * send it now).
 */
bool turn_uring_send_peer(struct turn_worker *w, int fd, const struct sockaddr *peer,
                          const void *data, size_t len);
/* The header of a packet toward a client from src (IPV6_PKTINFO; NULL: the kernel's choice). */
void turn_tx_header(struct msghdr *h, uint8_t ctl[64], struct sockaddr_storage *addr,
                    const struct sockaddr *to, socklen_t tolen, const struct in6_addr *src);
/* Relay a datagram from peer on a's relay socket to the client. */
void turn_alloc_relay_datagram(struct turn_alloc *a, const struct sockaddr *peer,
                               const uint8_t *data, size_t len);
/* msgs[i] on fds[i], one submission; res[i] the sendmsg result or -errno. */
void turn_uring_sendmsgs(struct turn_worker *w, const int *fds, struct mmsghdr *msgs, int n,
                         int *res);
/*
 * One datagram from each of the first n (at most TURN_BATCH) relays into
 * rx slot i; res[i] its full length (more than the buffer: cut) or -errno.
 * Returns how many relays were read.
 */
int turn_uring_recv_relays(struct turn_worker *w, struct turn_relay *const *relays, int n,
                           int *res);

/* Requests (turn_req.c): a TURN-method request or indication from a client. */
void turn_handle_message(struct turn_worker *w, const struct stun_msg *m,
                         const struct sockaddr *from, socklen_t fromlen);
/* ChannelData from a client (RFC 8656 §12.4). */
void turn_handle_channel_data(struct turn_worker *w, const uint8_t *in, size_t len,
                              const struct sockaddr *from);

/* Hash and equality of client addresses, for the allocation table. */
guint turn_addr_hash(gconstpointer p);
gboolean turn_addr_key_equal(gconstpointer a, gconstpointer b);

int turn_listen_socket(int type, const char *address, int port);

/* Free p (whose first member is an ep_item, already marked dead) after this wake-up. */
void turn_defer_free(struct turn_worker *w, void *p);

/* TCP (turn_tcp.c) */
int turn_tcp_listen(const char *address, int port);
/* The shared table of TCP/TLS connections per client IP (turn_shared.conns_per_ip). */
GHashTable *turn_tcp_per_ip_new(void);
void turn_tcp_accept(struct turn_worker *w, int listen_fd, bool tls);
void turn_tcp_event(struct turn_conn *c, uint32_t events);
/* Queue bytes toward a TCP client; dropped (and counted) when its buffer is full. */
void turn_tcp_send(struct turn_conn *c, const void *data, size_t len);
void turn_tcp_close(struct turn_conn *c, const char *why);
void turn_tcp_expire(struct turn_worker *w);
/* What the worker does with one message from a client, on either transport. */
void turn_client_message(struct turn_worker *w, const uint8_t *in, size_t len,
                         const struct sockaddr *from, socklen_t fromlen);

/* Same address family and address (and port, when with_port)? */
bool turn_addr_equal(const struct sockaddr *a, const struct sockaddr *b, bool with_port);
socklen_t turn_addr_len(const struct sockaddr *a);
const char *turn_addr_str(const struct sockaddr *a, char *buf, size_t cap);
