/*
 * io_uring for the TURN worker's per-socket datagrams. Every allocation has
 * its own relay socket, so a batch of relayed packets touches many sockets
 * with one packet each, and sendmmsg/recvmmsg cannot batch across sockets:
 * that is one system call per packet, which costs more than the packet's
 * own network stack work on these machines.
 *
 * Multishot mode (kernel 6.1 or newer: DEFER_TASKRUN is the feature test,
 * multishot RECVMSG came in 6.0): the ring is the worker's event loop. The
 * listener and every relay socket have one multishot RECVMSG armed for
 * their life, taking buffers from one provided buffer ring; the epoll set
 * (TCP, timers, eventfds) is one multishot POLL on the ring. Sends toward
 * peers (straight from the listener's receive buffer) and toward clients
 * are SQEs that leave with the next wait, so a wake-up is one io_uring_enter
 * whatever the number of sockets.
 *
 *   provided buffer:  io_uring_recvmsg_out | name (32) | control (64) | payload
 *
 * user_data: a receive handle's address, or an index shifted past a 3-bit tag.
 * A handle outlives its socket: closing a relay clears handle->r and cancels
 * the receive; the handle is freed on the receive's last completion (no
 * IORING_CQE_F_MORE), so no completion ever reaches a freed relay.
 *
 * Otherwise (older kernel): a batch of sends (or receives after epoll said
 * readable) on many sockets is one submission. Every operation carries
 * MSG_DONTWAIT, so UDP completes inline during the submission; a socket that
 * cannot take a packet now fails it with EAGAIN and it is dropped, as with
 * sendmmsg.
 */
#include "relay/turn_priv.h"

#include <errno.h>
#include <liburing.h>
#include <string.h>
#include <sys/epoll.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "relay/ring.h"
#include "relay/ring_gso.h"

#define RING_ENTRIES (2 * TURN_BATCH)
#define MS_SQ        256
#define MS_CQ        4096
#define NBUF         512 /* provided receive buffers (a power of two) */
#define BGID         0
#define BUF_NAME     32 /* a sockaddr_in6 (28), rounded so the control data is aligned */
#define BUF_CTL      64
#define BUF_SIZE     (sizeof(struct io_uring_recvmsg_out) + BUF_NAME + BUF_CTL + TURN_DGRAM_MAX)
#define TX_SLOTS     512 /* packets toward clients in flight */
#define CQE_BUDGET   64  /* completions per wake-up; each makes at most one send */
#define GSO_GROUPS   64  /* GSO sends in flight, both directions */
#define TAG_BITS     3
#define TAG_MASK     ((1u << TAG_BITS) - 1)

enum tag {
	TAG_RECV = 0,
	TAG_EPOLL,
	TAG_PEER_SENT,
	TAG_CLIENT_SENT,
	TAG_CANCEL,
	TAG_PEER_GSO,   /* a group of client→peer datagrams: listener buffers */
	TAG_CLIENT_GSO, /* a group toward one client: transmit slots */
};

/* A multishot receive: the listener's, or a relay socket's (r NULL once closed). */
struct turn_rx {
	struct turn_relay *r;
	bool listener, closed;
	struct turn_rx *prev, *next; /* the ring's relay handles, for shutdown */
};

struct turn_ring {
	struct io_uring ring;
	bool multishot, stopping;
	int armed;       /* multishot operations whose last completion is still to come */
	unsigned queued; /* sends queued since the last wait */
	struct ring_bufs bufs;
	struct msghdr listen_tmpl, relay_tmpl;
	struct turn_rx listener;
	struct turn_rx *relays;
	/* client→peer: the payload stays in the listener's buffer until sent */
	int cur_bid;
	bool cur_held;
	struct sockaddr_storage paddr[NBUF];
	/* toward clients, from the listener: slots free again on their completion */
	int free_tx[TX_SLOTS], nfree_tx;
	struct msghdr tx[TX_SLOTS];
	struct iovec tx_iov[TX_SLOTS];
	struct sockaddr_storage tx_addr[TX_SLOTS];
	uint8_t tx_ctl[TX_SLOTS][64];
	uint8_t tx_buf[TX_SLOTS][TURN_DGRAM_MAX];
	uint8_t scratch[TURN_DGRAM_MAX]; /* when every slot is in flight: written, dropped */
	/* consecutive datagrams to one place join one UDP GSO send (relay/ring_gso.h) */
	struct ring_gso gso;
	struct ring_gso_tail to_peer, to_client;
};

static struct turn_ring *ring_new(bool gso)
{
	struct turn_ring *u = g_new0(struct turn_ring, 1);

	ring_gso_init(&u->gso, GSO_GROUPS, gso);
	for (int i = 0; i < TX_SLOTS; i++) {
		u->tx_iov[i] = (struct iovec){ .iov_base = u->tx_buf[i] };
		u->tx[i] = (struct msghdr){ .msg_name = &u->tx_addr[i],
			                    .msg_iov = &u->tx_iov[i],
			                    .msg_iovlen = 1 };
		u->free_tx[i] = TX_SLOTS - 1 - i;
	}
	u->nfree_tx = TX_SLOTS;
	u->listen_tmpl = (struct msghdr){ .msg_namelen = BUF_NAME, .msg_controllen = BUF_CTL };
	u->relay_tmpl = (struct msghdr){ .msg_namelen = BUF_NAME, .msg_controllen = BUF_CTL };
	u->listener.listener = true;
	u->cur_bid = -1;
	return u;
}

static void buf_give(struct turn_ring *u, int bid)
{
	ring_bufs_give(&u->bufs, bid);
}

static void ring_free(struct turn_ring *u)
{
	ring_bufs_free(&u->bufs);
	ring_gso_free(&u->gso);
	g_free(u);
}

/*
 * Multishot needs the ring owned by the worker thread (SINGLE_ISSUER,
 * DEFER_TASKRUN: completions are processed only when that thread enters the
 * ring), so it is made disabled here and enabled by the thread
 * (turn_uring_begin).
 */
bool turn_uring_start(struct turn_worker *w)
{
	struct turn_ring *u = ring_new(w->gso);
	struct io_uring_params p = { .flags = IORING_SETUP_SINGLE_ISSUER |
		                              IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED |
		                              IORING_SETUP_CQSIZE,
		                     .cq_entries = MS_CQ };
	int rc = io_uring_queue_init_params(MS_SQ, &u->ring, &p);

	if (rc == 0) {
		rc = ring_bufs_setup(&u->ring, &u->bufs, NBUF, BUF_SIZE, BGID);
		if (rc == 0) {
			u->multishot = true;
			w->ring = u;
			w->multishot = true;
			return true;
		}
		io_uring_queue_exit(&u->ring);
	}
	log_warn(LOG_TURN,
	         "io_uring multishot receive unavailable, one receive per readable socket",
	         "worker=%d error=%s", w->index, g_strerror(-rc));
	ring_free(u);
	u = ring_new(false);
	rc = io_uring_queue_init(RING_ENTRIES, &u->ring, 0);
	if (rc < 0) {
		log_warn(LOG_TURN, "io_uring unavailable, per-socket system calls instead",
		         "worker=%d error=%s", w->index, g_strerror(-rc));
		ring_free(u);
		return false;
	}
	w->ring = u;
	return true;
}

void turn_uring_stop(struct turn_worker *w)
{
	struct turn_ring *u = w->ring;

	if (!u)
		return;
	/* a relay still open (shutdown): its handle goes, the socket is closed without the ring */
	while (u->relays) {
		struct turn_rx *h = u->relays;

		u->relays = h->next;
		if (h->r)
			h->r->rx = NULL;
		g_free(h);
	}
	io_uring_queue_exit(&u->ring);
	ring_free(u);
	w->ring = NULL;
	w->multishot = false;
}

/* An SQE; a full queue is submitted first, and the sends in it are then no longer queued. */
static struct io_uring_sqe *get_sqe(struct turn_ring *u)
{
	if (!io_uring_sq_space_left(&u->ring))
		u->queued = 0;
	return ring_sqe(&u->ring);
}

static int arm(struct turn_ring *u, struct turn_rx *h, int fd)
{
	struct io_uring_sqe *sqe = get_sqe(u);

	if (!sqe)
		return EBUSY;
	io_uring_prep_recvmsg_multishot(sqe, fd, h->listener ? &u->listen_tmpl : &u->relay_tmpl, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)h | TAG_RECV);
	u->armed++;
	return 0;
}

static int arm_epoll(struct turn_worker *w)
{
	struct io_uring_sqe *sqe = get_sqe(w->ring);

	if (!sqe)
		return EBUSY;
	io_uring_prep_poll_multishot(sqe, w->ep, POLLIN);
	io_uring_sqe_set_data64(sqe, TAG_EPOLL);
	w->ring->armed++;
	return 0;
}

int turn_uring_begin(struct turn_worker *w)
{
	struct turn_ring *u = w->ring;
	/* Debian's liburing 2.3 declares io_uring_enable_rings but does not export it */
	long rc = syscall(__NR_io_uring_register, u->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS,
	                  NULL, 0);

	if (rc < 0)
		return errno;
	ring_register_fd(&u->ring);
	rc = arm(u, &u->listener, w->listen.fd);
	return rc ? (int)rc : arm_epoll(w);
}

int turn_uring_arm_relay(struct turn_worker *w, struct turn_relay *r)
{
	struct turn_rx *h = g_new0(struct turn_rx, 1);
	int rc;

	h->r = r;
	rc = arm(w->ring, h, r->ep.fd);
	if (rc) {
		g_free(h);
		return rc;
	}
	h->next = w->ring->relays;
	if (h->next)
		h->next->prev = h;
	w->ring->relays = h;
	r->rx = h;
	return 0;
}

static void unlink_rx(struct turn_ring *u, struct turn_rx *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		u->relays = h->next;
	if (h->next)
		h->next->prev = h->prev;
}

static void cancel(struct turn_ring *u, struct turn_rx *h)
{
	struct io_uring_sqe *sqe = get_sqe(u);

	if (!sqe)
		return; /* the ring is wedged; the handle is freed with it */
	io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)h | TAG_RECV, 0);
	io_uring_sqe_set_data64(sqe, TAG_CANCEL);
}

void turn_uring_disarm_relay(struct turn_worker *w, struct turn_relay *r)
{
	struct turn_rx *h = r->rx;

	h->r = NULL;
	h->closed = true;
	r->rx = NULL;
	cancel(w->ring, h);
	/* queued sends name descriptors: out before this one may be reused */
	io_uring_submit(&w->ring->ring);
	w->ring->queued = 0;
}

uint8_t *turn_uring_tx_slot(struct turn_worker *w)
{
	struct turn_ring *u = w->ring;

	return u->nfree_tx ? u->tx_buf[u->free_tx[u->nfree_tx - 1]] : u->scratch;
}

void turn_uring_tx_commit(struct turn_worker *w, size_t len, const struct sockaddr *to,
                          socklen_t tolen)
{
	struct turn_ring *u = w->ring;
	struct io_uring_sqe *sqe;
	struct ring_dgram d;
	int i;

	if (!u->nfree_tx)
		return;
	i = u->free_tx[--u->nfree_tx];
	u->tx_iov[i].iov_len = len;
	turn_tx_header(&u->tx[i], u->tx_ctl[i], &u->tx_addr[i], to, tolen, w->cur_src);
	d = (struct ring_dgram){ .fd = w->listen.fd,
		                 .data = u->tx_buf[i],
		                 .len = len,
		                 .to = (const struct sockaddr *)&u->tx_addr[i],
		                 .tolen = tolen,
		                 .ctl = u->tx_ctl[i],
		                 .ctllen = u->tx[i].msg_controllen,
		                 .id = (uint16_t)i };
	/* the slot is the group's now, free again on the group's completion */
	if (ring_gso_join(&u->ring, &u->gso, &u->to_client, &d, TAG_CLIENT_GSO, TAG_BITS))
		return;
	if (!(sqe = get_sqe(u))) {
		u->free_tx[u->nfree_tx++] = i;
		return;
	}
	if (u->tx[i].msg_controllen) {
		io_uring_prep_sendmsg(sqe, w->listen.fd, &u->tx[i], MSG_DONTWAIT);
	} else {
		/* no source address to set: a send with its address, as toward peers */
		ring_prep_sendto(sqe, w->listen.fd, u->tx_buf[i], len,
		                 (const struct sockaddr *)&u->tx_addr[i], tolen);
	}
	io_uring_sqe_set_data64(sqe, ((uint64_t)i << TAG_BITS) | TAG_CLIENT_SENT);
	ring_gso_queued(&u->ring, &u->to_client, sqe, &d);
	u->queued++;
}

bool turn_uring_send_peer(struct turn_worker *w, int fd, const struct sockaddr *peer,
                          const void *data, size_t len)
{
	struct turn_ring *u = w->ring;
	struct io_uring_sqe *sqe;
	struct ring_dgram d;
	int b = u->cur_bid;

	/* one send per received datagram; anything else goes the plain way */
	if (b < 0 || u->cur_held)
		return false;
	memcpy(&u->paddr[b], peer, turn_addr_len(peer));
	d = (struct ring_dgram){ .fd = fd,
		                 .data = data,
		                 .len = len,
		                 .to = (const struct sockaddr *)&u->paddr[b],
		                 .tolen = turn_addr_len(peer),
		                 .id = (uint16_t)b };
	/* joined: the buffer is the group's, back on the group's completion */
	if (!ring_gso_join(&u->ring, &u->gso, &u->to_peer, &d, TAG_PEER_GSO, TAG_BITS)) {
		if (!(sqe = get_sqe(u)))
			return false;
		ring_prep_sendto(sqe, fd, data, len, d.to, d.tolen);
		io_uring_sqe_set_data64(sqe, ((uint64_t)b << TAG_BITS) | TAG_PEER_SENT);
		ring_gso_queued(&u->ring, &u->to_peer, sqe, &d);
		u->queued++;
	}
	u->cur_held = true;
	return true;
}

/* The destination of a listener datagram, from its IPV6_PKTINFO. */
static bool pktinfo_dst(struct io_uring_recvmsg_out *o, struct msghdr *tmpl, struct in6_addr *dst)
{
	for (struct cmsghdr *c = io_uring_recvmsg_cmsg_firsthdr(o, tmpl); c;
	     c = io_uring_recvmsg_cmsg_nexthdr(o, tmpl, c)) {
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			*dst = pi.ipi6_addr;
			return true;
		}
	}
	return false;
}

/* One datagram in buffer bid, res bytes of it used; the buffer is given back unless held. */
static void received(struct turn_worker *w, struct turn_rx *h, int bid, int res)
{
	struct turn_ring *u = w->ring;
	struct msghdr *tmpl = h->listener ? &u->listen_tmpl : &u->relay_tmpl;
	struct io_uring_recvmsg_out *o =
	        io_uring_recvmsg_validate(ring_bufs_at(&u->bufs, bid), res, tmpl);
	struct sockaddr_storage from;
	const uint8_t *data;
	struct in6_addr dst;
	size_t len;

	/* cut datagrams are not relayed; a relay closed earlier in this wake-up reads nothing */
	if (!o || (o->flags & MSG_TRUNC) || o->namelen > BUF_NAME || (!h->listener && !h->r)) {
		buf_give(u, bid);
		return;
	}
	memcpy(&from, io_uring_recvmsg_name(o), o->namelen);
	data = io_uring_recvmsg_payload(o, tmpl);
	len = MIN(o->payloadlen, io_uring_recvmsg_payload_length(o, res, tmpl));
	if (!h->listener) {
		turn_alloc_relay_datagram(h->r->a, (struct sockaddr *)&from, data, len);
		w->cur_src = NULL;
		buf_give(u, bid);
		return;
	}
	/* port 0 cannot be answered */
	if (((struct sockaddr_in6 *)&from)->sin6_port != 0) {
		w->cur_src = pktinfo_dst(o, tmpl, &dst) ? &dst : NULL;
		u->cur_bid = bid;
		u->cur_held = false;
		w->peer_hold = true;
		turn_client_message(w, data, len, (struct sockaddr *)&from, o->namelen);
		w->peer_hold = false;
		w->cur_src = NULL;
		u->cur_bid = -1;
	}
	if (!u->cur_held)
		buf_give(u, bid);
	u->cur_held = false;
}

/* The last completion of a multishot receive: armed again, or its handle freed. */
static void rx_ended(struct turn_worker *w, struct turn_rx *h, int res)
{
	struct turn_ring *u = w->ring;

	u->armed--;
	if (h->closed) {
		unlink_rx(u, h);
		g_free(h);
		return;
	}
	if (u->stopping)
		return;
	/* ENOBUFS: every buffer was in use; they come back as this wake-up's sends complete */
	if (res != -ENOBUFS && res != -ECANCELED)
		log_warn(LOG_TURN, "multishot receive ended, armed again", "worker=%d error=%s",
		         w->index, g_strerror(-res));
	arm(u, h, h->listener ? w->listen.fd : h->r->ep.fd);
}

/* A GSO send's completion: its datagrams counted, their buffers or slots free again. */
static void gso_sent(struct turn_worker *w, enum tag tag, int i, int res)
{
	struct turn_ring *u = w->ring;
	struct ring_gso_group *g = ring_gso_group(&u->gso, i);

	if (res >= 0 && tag == TAG_PEER_GSO) {
		STAT_ADD(w->stats.relay_pkts_out, g->n);
		STAT_ADD(w->stats.gso_peer, g->n);
		STAT_ADD(w->stats.relay_bytes_out, res);
	} else if (res >= 0) {
		STAT_ADD(w->stats.pkts_out, g->n);
		STAT_ADD(w->stats.gso_client, g->n);
		STAT_ADD(w->stats.bytes_out, res);
	} else if (!u->gso.off && ring_gso_refused(&u->gso, res)) {
		log_warn(LOG_TURN,
		         "UDP GSO refused by the kernel, one send per datagram from now on",
		         "worker=%d error=%s datagrams=%u", w->index, g_strerror(-res), g->n);
	}
	for (unsigned k = 0; k < g->n; k++) {
		if (tag == TAG_PEER_GSO)
			buf_give(u, g->held[k]);
		else
			u->free_tx[u->nfree_tx++] = g->held[k];
	}
	ring_gso_put(&u->gso, i);
}

static void completion(struct turn_worker *w, const struct io_uring_cqe *cqe, bool *epoll_ready)
{
	struct turn_ring *u = w->ring;
	uint64_t d = io_uring_cqe_get_data64(cqe);
	int i = (int)(d >> TAG_BITS);

	switch ((enum tag)(d & TAG_MASK)) {
	case TAG_RECV: {
		struct turn_rx *h = (struct turn_rx *)(uintptr_t)(d & ~(uint64_t)TAG_MASK);

		if (cqe->flags & IORING_CQE_F_BUFFER)
			received(w, h, (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT), cqe->res);
		if (!(cqe->flags & IORING_CQE_F_MORE))
			rx_ended(w, h, cqe->res);
		break;
	}
	case TAG_EPOLL:
		*epoll_ready = true;
		if (!(cqe->flags & IORING_CQE_F_MORE)) {
			u->armed--;
			if (!u->stopping)
				arm_epoll(w);
		}
		break;
	case TAG_PEER_SENT:
		if (cqe->res >= 0) {
			STAT_ADD(w->stats.relay_pkts_out, 1);
			STAT_ADD(w->stats.relay_bytes_out, cqe->res);
		}
		buf_give(u, i);
		break;
	case TAG_CLIENT_SENT:
		if (cqe->res >= 0) {
			STAT_ADD(w->stats.pkts_out, 1);
			STAT_ADD(w->stats.bytes_out, cqe->res);
		}
		u->free_tx[u->nfree_tx++] = i;
		break;
	case TAG_PEER_GSO:
	case TAG_CLIENT_GSO: gso_sent(w, (enum tag)(d & TAG_MASK), i, cqe->res); break;
	case TAG_CANCEL: break;
	}
}

bool turn_uring_wait(struct turn_worker *w, bool epoll_pending)
{
	struct io_uring *ring = &w->ring->ring;
	/*
	 * A UDP send with MSG_DONTWAIT completes during the submission, so
	 * waiting for one completion returned at once with a send's and cost a
	 * second enter per wake-up: wait for one more than the sends this
	 * submission carries (queued counts only those; a submission made
	 * elsewhere zeroes it). Completions already in the ring count too.
	 */
	unsigned want = 1 + w->ring->queued;
	int rc;

	/* completions left over from the last wake-up's budget: no need to enter */
	if (!epoll_pending && io_uring_cq_ready(ring) && !io_uring_sq_ready(ring))
		return true;
	w->ring->queued = 0;
	/* the epoll set may still hold ready descriptors: look, do not sleep */
	rc = epoll_pending ? io_uring_submit_and_get_events(ring)
	                   : io_uring_submit_and_wait(ring, want);
	return rc >= 0 || rc == -EINTR || rc == -EAGAIN || rc == -EBUSY;
}

bool turn_uring_reap(struct turn_worker *w)
{
	struct io_uring *ring = &w->ring->ring;
	struct io_uring_cqe *cqe;
	bool epoll_ready = false;
	unsigned head, n = 0;

	w->ring->cur_bid = -1;
	io_uring_for_each_cqe(ring, head, cqe)
	{
		completion(w, cqe, &epoll_ready);
		if (++n == CQE_BUDGET)
			break;
	}
	io_uring_cq_advance(ring, n);
	return epoll_ready;
}

void turn_uring_drain(struct turn_worker *w)
{
	struct turn_ring *u = w->ring;
	struct __kernel_timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	struct io_uring_cqe *cqe;

	u->stopping = true;
	ring_cancel_all(&u->ring, TAG_CANCEL);
	/* every buffer and handle stays until its last completion */
	for (int tries = 0; u->armed > 0 && tries < 100; tries++) {
		if (io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts) == 0)
			turn_uring_reap(w);
	}
}

/*
 * Submit what is queued and collect n completions; res[user_data] gets each
 * result. An operation the ring could not take (no SQE) has res -EBUSY
 * already. The wait never blocks long: with MSG_DONTWAIT nothing is left
 * pending on a socket.
 */
static void run_batch(struct io_uring *ring, int n, int *res)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	int queued = 0;

	for (int i = 0; i < n; i++)
		queued += res[i] != -EBUSY;
	if (!queued)
		return;
	while (io_uring_submit_and_wait(ring, (unsigned)queued) == -EINTR)
		;
	for (int got = 0; got < queued;) {
		io_uring_for_each_cqe(ring, head, cqe)
		{
			uint64_t i = io_uring_cqe_get_data64(cqe);

			if (i < (uint64_t)n)
				res[i] = cqe->res;
			seen++;
			got++;
		}
		io_uring_cq_advance(ring, seen);
		seen = 0;
		if (got < queued && io_uring_wait_cqe(ring, &cqe) < 0)
			break;
	}
}

void turn_uring_sendmsgs(struct turn_worker *w, const int *fds, struct mmsghdr *msgs, int n,
                         int *res)
{
	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring->ring);

		res[i] = -EBUSY;
		if (!sqe)
			continue;
		io_uring_prep_sendmsg(sqe, fds[i], &msgs[i].msg_hdr, MSG_DONTWAIT);
		io_uring_sqe_set_data64(sqe, (uint64_t)i);
		res[i] = 0;
	}
	run_batch(&w->ring->ring, n, res);
}

int turn_uring_recv_relays(struct turn_worker *w, struct turn_relay *const *relays, int n, int *res)
{
	n = MIN(n, TURN_BATCH);
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &w->rx[i].msg_hdr;
		struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring->ring);

		/* the listener's headers carry control space; a relay needs none */
		h->msg_namelen = sizeof(w->rx_addr[i]);
		h->msg_controllen = 0;
		h->msg_flags = 0;
		res[i] = -EBUSY;
		if (!sqe)
			continue;
		/* MSG_TRUNC: the result is the datagram's real length, cut or not */
		io_uring_prep_recvmsg(sqe, relays[i]->ep.fd, h, MSG_DONTWAIT | MSG_TRUNC);
		io_uring_sqe_set_data64(sqe, (uint64_t)i);
		res[i] = 0;
	}
	w->rx_used = MAX(w->rx_used, n);
	run_batch(&w->ring->ring, n, res);
	return n;
}
