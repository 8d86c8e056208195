/*
 * io_uring on a media worker (media.io = io_uring): the ring is what the
 * worker sleeps in. Every plain RTP/RTCP socket, and the socket of a WebRTC
 * leg on the ICE-lite fast path, has one multishot RECVMSG armed for its
 * life, taking buffers from one provided buffer ring; sends are SQEs
 * (IORING_OP_SEND with the destination address) queued while the wake-up's
 * datagrams are handled and submitted with the next wait. A wake-up is then
 * one io_uring_enter, where epoll cost an epoll_wait, a recvmmsg per ready
 * socket (mostly returning one datagram) and a sendmmsg per batch.
 *
 *   provided buffer:  io_uring_recvmsg_out (16) | name (32) | payload (RTP_DGRAM_MAX)
 *
 * A datagram is handled in its buffer (SRTP in place, with RTP_DGRAM_MAX of
 * room) and sent from it: the buffer goes back to the buffer ring when that
 * send completes, or at once when nothing was sent from it. What is sent
 * from elsewhere (STUN answers, DTLS, a second send of one datagram) is
 * copied into one of TX_SLOTS slots first; with every slot in flight it is
 * dropped.
 *
 * GLib's wake-up fd and the epoll set (libnice's sockets while a leg sets
 * up, restarts or runs full ICE; a socket whose receive could not be armed)
 * are multishot POLLs on the ring. worker_poll (rtp_leg.c) calls
 * rtp_uring_poll: it submits, waits with GLib's timeout, handles poll and
 * send completions, and keeps up to RX_BUDGET receives for the dispatch.
 *
 * user_data: a receive handle's address, or an index shifted past a 3-bit
 * tag. A handle outlives its socket: closing one clears handle->k and
 * cancels the receive; the handle is freed at the receive's last completion
 * (no IORING_CQE_F_MORE), so no completion reaches a closed socket or a
 * freed session. A send's record names its session and counters, counted
 * on completion: sent, or a send_error drop when the kernel refused it. A
 * closing session is forgotten there (rtp_uring_forget).
 *
 * Needs SINGLE_ISSUER and DEFER_TASKRUN (Linux 6.1): the ring is made on the
 * worker thread, and the kernel fills buffers only while that thread is in
 * io_uring_enter. Anything less, and the worker keeps epoll and
 * recvmmsg/sendmmsg (a warning says so).
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <string.h>

#include "core/log.h"
#include "core/worker.h"
#include "relay/ring.h"
#include "relay/rtp_priv.h"

#define SQ_ENTRIES 256
#define CQ_ENTRIES 8192 /* more than receives, sends and multishot ends ever outstanding */
#define NBUF       1024 /* provided receive buffers (a power of two): a burst of every call */
#define BGID       0
#define BUF_NAME   32 /* a sockaddr_in6 (28), rounded up: the payload stays 16-byte aligned */
#define BUF_HEAD   (sizeof(struct io_uring_recvmsg_out) + BUF_NAME)
#define BUF_SIZE   (BUF_HEAD + RTP_DGRAM_MAX)
#define TX_SLOTS   128 /* copied sends in flight */
#define RX_BUDGET  256 /* receives handled per wake-up; the rest wait for the next */
#define MAX_ERRORS 8   /* a receive failing this often without a datagram is given up */
#define TAG_BITS   3
#define TAG_MASK   ((1u << TAG_BITS) - 1)

enum tag { TAG_RECV = 0, TAG_WAKE, TAG_EPOLL, TAG_SENT_RX, TAG_SENT_TX, TAG_CANCEL };

/* A socket's multishot receive. */
struct rtp_recv {
	struct rtp_sock *k; /* NULL once the socket is closed or handed back */
	bool armed;         /* its last completion is still to come */
	unsigned errors;    /* ends in a row without a datagram */
	GList link;         /* in rtp_ring.handles */
};

/* A send in flight: what its completion counts, and its address until submitted. */
struct send_rec {
	struct media_session *s; /* NULL: closed since, only the worker's totals count */
	bool counts;             /* false: STUN or DTLS, counted nowhere */
	struct rtp_tally t;
	struct sockaddr_storage to;
};

/* A receive completion kept from rtp_uring_poll for the dispatch. */
struct kept_cqe {
	uint64_t data;
	int32_t res;
	uint32_t flags;
};

struct rtp_ring {
	struct io_uring ring;
	bool stopping;
	int armed;         /* multishot operations whose last completion is still to come */
	int wake_fd;       /* GLib's wake-up fd, polled on the ring; -1 before the first wait */
	unsigned inflight; /* sends queued or in flight */
	unsigned queued;   /* sends queued since the last wait */
	struct ring_bufs bufs;
	struct msghdr tmpl;
	GQueue handles; /* every receive handle not yet freed, for shutdown */
	int cur_bid;    /* the buffer being handled; -1 none */
	bool cur_held;  /* a send took it */
	struct kept_cqe kept[RX_BUDGET];
	unsigned nkept;
	struct send_rec rx_rec[NBUF];
	struct send_rec tx_rec[TX_SLOTS];
	int free_tx[TX_SLOTS], nfree_tx;
	uint8_t tx_buf[TX_SLOTS][RTP_DGRAM_MAX];
};

static uint8_t *buf_at(const struct rtp_ring *u, int bid)
{
	return ring_bufs_at(&u->bufs, bid);
}

static void buf_give(struct rtp_ring *u, int bid)
{
	ring_bufs_give(&u->bufs, bid);
}

static void ring_free(struct rtp_ring *u)
{
	ring_bufs_free(&u->bufs);
	g_free(u);
}

static struct io_uring_sqe *get_sqe(struct rtp_ring *u)
{
	return ring_sqe(&u->ring);
}

static int arm_poll(struct rtp_ring *u, int fd, enum tag tag)
{
	struct io_uring_sqe *sqe = get_sqe(u);

	if (!sqe)
		return EBUSY;
	io_uring_prep_poll_multishot(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, tag);
	u->armed++;
	return 0;
}

static int arm_recv(struct rtp_ring *u, struct rtp_recv *h)
{
	struct io_uring_sqe *sqe = get_sqe(u);

	if (!sqe)
		return EBUSY;
	io_uring_prep_recvmsg_multishot(sqe, h->k->fd, &u->tmpl, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)h | TAG_RECV);
	h->armed = true;
	u->armed++;
	return 0;
}

bool rtp_uring_start(struct rtp_worker *rw)
{
	struct rtp_ring *u = g_new0(struct rtp_ring, 1);
	struct io_uring_params p = { .flags = IORING_SETUP_SINGLE_ISSUER |
		                              IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE,
		                     .cq_entries = CQ_ENTRIES };
	int rc = io_uring_queue_init_params(SQ_ENTRIES, &u->ring, &p);

	if (rc == 0) {
		rc = ring_bufs_setup(&u->ring, &u->bufs, NBUF, BUF_SIZE, BGID);
		if (rc)
			io_uring_queue_exit(&u->ring);
	}
	if (rc) {
		log_warn(LOG_RTP, "io_uring unavailable, epoll and recvmmsg/sendmmsg instead",
		         "worker=%d error=%s", worker_index(rw->w), g_strerror(-rc));
		ring_free(u);
		return false;
	}
	ring_register_fd(&u->ring);
	u->tmpl = (struct msghdr){ .msg_namelen = BUF_NAME };
	u->wake_fd = -1;
	u->cur_bid = -1;
	for (int i = 0; i < TX_SLOTS; i++)
		u->free_tx[i] = TX_SLOTS - 1 - i;
	u->nfree_tx = TX_SLOTS;
	arm_poll(u, rw->epfd, TAG_EPOLL);
	rw->ring = u;
	log_debug(LOG_RTP, "io_uring", "worker=%d buffers=%d", worker_index(rw->w), NBUF);
	return true;
}

int rtp_uring_arm(struct rtp_worker *rw, struct rtp_sock *k)
{
	struct rtp_ring *u = rw->ring;
	struct rtp_recv *h = g_new0(struct rtp_recv, 1);
	int rc;

	h->k = k;
	rc = arm_recv(u, h);
	if (rc) {
		g_free(h);
		return rc;
	}
	h->link.data = h;
	g_queue_push_head_link(&u->handles, &h->link);
	k->rx = h;
	return 0;
}

static void unlink_free(struct rtp_ring *u, struct rtp_recv *h)
{
	g_queue_unlink(&u->handles, &h->link);
	g_free(h);
}

void rtp_uring_submit(struct rtp_worker *rw)
{
	if (rw->ring)
		io_uring_submit(&rw->ring->ring);
}

void rtp_uring_disarm(struct rtp_worker *rw, struct rtp_sock *k)
{
	struct rtp_ring *u = rw->ring;
	struct rtp_recv *h = k->rx;
	struct io_uring_sqe *sqe;

	k->rx = NULL;
	h->k = NULL;
	if (!h->armed) {
		unlink_free(u, h); /* ended and given up: no completion is to come */
	} else if ((sqe = get_sqe(u))) {
		io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)h | TAG_RECV, 0);
		io_uring_sqe_set_data64(sqe, TAG_CANCEL);
	}
	/*
	 * Queued sends name descriptors: out before this one is closed and its
	 * number reused. And the cancel completes as task work, which only an
	 * enter for events runs: until then the receive holds the socket, and
	 * its port stays bound after close.
	 */
	io_uring_submit_and_get_events(&u->ring);
}

void rtp_uring_forget(struct rtp_worker *rw, const struct media_session *s)
{
	struct rtp_ring *u = rw->ring;

	if (!u || !u->inflight)
		return;
	for (int i = 0; i < NBUF; i++) {
		if (u->rx_rec[i].s == s)
			u->rx_rec[i].s = NULL;
	}
	for (int i = 0; i < TX_SLOTS; i++) {
		if (u->tx_rec[i].s == s)
			u->tx_rec[i].s = NULL;
	}
}

/* Whether buf..buf+len lies in the buffer being handled, with no send from it yet. */
static bool in_current(const struct rtp_ring *u, const uint8_t *buf, size_t len)
{
	uintptr_t lo, p = (uintptr_t)buf;

	if (u->cur_bid < 0 || u->cur_held)
		return false;
	lo = (uintptr_t)buf_at(u, u->cur_bid);
	return p >= lo && p + len <= lo + BUF_SIZE;
}

int rtp_uring_send(struct rtp_worker *rw, int fd, const uint8_t *buf, size_t len,
                   const struct sockaddr *to, struct media_session *s, const struct rtp_tally *t)
{
	struct rtp_ring *u = rw->ring;
	socklen_t alen = rtp_addr_len(to);
	bool in_place = in_current(u, buf, len);
	struct io_uring_sqe *sqe;
	struct send_rec *rec;
	const uint8_t *data = buf;
	uint64_t d;
	int slot = -1;

	if (len > RTP_DGRAM_MAX || !alen || alen > sizeof(rec->to))
		return EMSGSIZE;
	if (!in_place && !u->nfree_tx)
		return ENOBUFS;
	sqe = get_sqe(u);
	if (!sqe)
		return EBUSY;
	if (in_place) {
		rec = &u->rx_rec[u->cur_bid];
		d = ((uint64_t)u->cur_bid << TAG_BITS) | TAG_SENT_RX;
		u->cur_held = true;
	} else {
		slot = u->free_tx[--u->nfree_tx];
		rec = &u->tx_rec[slot];
		memcpy(u->tx_buf[slot], buf, len);
		data = u->tx_buf[slot];
		d = ((uint64_t)slot << TAG_BITS) | TAG_SENT_TX;
	}
	rec->s = s;
	rec->counts = t != NULL;
	if (t)
		rec->t = *t;
	memcpy(&rec->to, to, alen);
	ring_prep_sendto(sqe, fd, data, len, (const struct sockaddr *)&rec->to, alen);
	io_uring_sqe_set_data64(sqe, d);
	u->inflight++;
	u->queued++;
	return 0;
}

/*
 * A send completed: its buffer or slot is free. Counted only now, as sendto
 * counts: what the kernel refused is a send_error drop and never went out.
 */
static void sent(struct rtp_worker *rw, const struct send_rec *rec, int res)
{
	const struct rtp_tally *t = &rec->t;

	rw->ring->inflight--;
	if (!rec->counts)
		return;
	if (res < 0) {
		if (rec->s)
			rtp_drop(rec->s, t->from, MEDIA_DROP_SEND_ERROR);
		else
			RTP_STAT_ADD(rw->stats.drops[MEDIA_DROP_SEND_ERROR], 1);
	} else if (rec->s) {
		rtp_count(rec->s, t->leg, t->kind, true, t->bytes);
	} else {
		RTP_STAT_ADD(rw->stats.packets[t->kind], 1);
		RTP_STAT_ADD(rw->stats.bytes[t->kind], t->bytes);
	}
}

/* The last completion of a multishot poll: armed again unless the worker stops. */
static void poll_ended(struct rtp_ring *u, int fd, enum tag tag)
{
	u->armed--;
	if (!u->stopping)
		arm_poll(u, fd, tag);
}

/*
 * One completion seen by the wait: polls and sends are handled here, receives
 * kept for the dispatch. false when the receive budget is full (not consumed).
 */
static bool seen(struct rtp_worker *rw, const struct io_uring_cqe *cqe, GPollFD *wake)
{
	struct rtp_ring *u = rw->ring;
	uint64_t d = io_uring_cqe_get_data64(cqe);
	int i = (int)(d >> TAG_BITS);
	bool more = cqe->flags & IORING_CQE_F_MORE;

	switch ((enum tag)(d & TAG_MASK)) {
	case TAG_RECV:
		if (u->nkept == RX_BUDGET)
			return false;
		u->kept[u->nkept++] =
		        (struct kept_cqe){ .data = d, .res = cqe->res, .flags = cqe->flags };
		break;
	case TAG_WAKE:
		if (wake)
			wake->revents = G_IO_IN;
		if (!more)
			poll_ended(u, u->wake_fd, TAG_WAKE);
		break;
	case TAG_EPOLL:
		rw->epoll_pending = true;
		if (!more)
			poll_ended(u, rw->epfd, TAG_EPOLL);
		break;
	case TAG_SENT_RX:
		sent(rw, &u->rx_rec[i], cqe->res);
		buf_give(u, i);
		break;
	case TAG_SENT_TX:
		sent(rw, &u->tx_rec[i], cqe->res);
		u->free_tx[u->nfree_tx++] = i;
		break;
	case TAG_CANCEL: break;
	}
	return true;
}

static void collect(struct rtp_worker *rw, GPollFD *wake)
{
	struct io_uring *ring = &rw->ring->ring;
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(ring, head, cqe)
	{
		if (!seen(rw, cqe, wake))
			break;
		n++;
	}
	io_uring_cq_advance(ring, n);
}

gint rtp_uring_poll(struct rtp_worker *rw, GPollFD *wake, GPollFD *ep, gint timeout)
{
	struct rtp_ring *u = rw->ring;
	struct io_uring *ring = &u->ring;
	struct io_uring_cqe *cqe;
	/*
	 * A UDP send with MSG_DONTWAIT completes during the submission: waiting
	 * for one completion more than the sends queued sleeps until something
	 * else happens, where waiting for one returned at once with a send's and
	 * cost a second enter and a GLib iteration per wake-up. A send submitted
	 * earlier (a full queue, a close) left its completion ready, and then
	 * nothing waits below.
	 */
	unsigned want = 1 + u->queued;
	int rc;

	/* GLib's wake-up fd is its context's for life: polled from the first wait on */
	if (u->wake_fd < 0 && arm_poll(u, wake->fd, TAG_WAKE) == 0)
		u->wake_fd = wake->fd;
	wake->revents = ep->revents = 0;
	/* work left from the last wake-up: look, do not sleep */
	if (u->nkept || rw->epoll_pending || io_uring_cq_ready(ring))
		timeout = 0;
	u->queued = 0;
	if (timeout == 0) {
		rc = io_uring_submit_and_get_events(ring);
	} else if (timeout < 0) {
		rc = io_uring_submit_and_wait(ring, want);
	} else {
		struct __kernel_timespec ts = { .tv_sec = timeout / 1000,
			                        .tv_nsec = (timeout % 1000) * 1000000L };

		rc = io_uring_submit_and_wait_timeout(ring, &cqe, want, &ts, NULL);
	}
	if (rc < 0 && rc != -EINTR && rc != -ETIME && rc != -EAGAIN && rc != -EBUSY)
		log_warn(LOG_RTP, "io_uring wait failed", "worker=%d error=%s", worker_index(rw->w),
		         g_strerror(-rc));
	collect(rw, wake);
	if (u->nkept || rw->epoll_pending)
		ep->revents = G_IO_IN;
	return (wake->revents != 0) + (ep->revents != 0);
}

/* One datagram in buffer bid (res bytes of it used); the buffer goes back unless a send took it. */
static void received(struct rtp_worker *rw, struct rtp_recv *h, int bid, int res, int64_t now)
{
	struct rtp_ring *u = rw->ring;
	struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf_at(u, bid), res, &u->tmpl);
	struct sockaddr_storage from;

	/* a socket closed since the wait reads nothing; a nameless datagram cannot be latched */
	if (!o || !h->k || o->namelen > BUF_NAME || o->namelen < sizeof(sa_family_t)) {
		buf_give(u, bid);
		return;
	}
	h->errors = 0;
	memset(&from, 0, sizeof(from));
	memcpy(&from, io_uring_recvmsg_name(o), o->namelen);
	u->cur_bid = bid;
	u->cur_held = false;
	rtp_leg_datagram(rw, h->k, io_uring_recvmsg_payload(o, &u->tmpl),
	                 io_uring_recvmsg_payload_length(o, res, &u->tmpl), RTP_DGRAM_MAX,
	                 o->flags & MSG_TRUNC, (const struct sockaddr *)&from, now);
	if (!u->cur_held)
		buf_give(u, bid);
	u->cur_bid = -1;
}

/* The last completion of a receive: armed again, or its handle freed. */
static void rx_ended(struct rtp_worker *rw, struct rtp_recv *h, int res)
{
	struct rtp_ring *u = rw->ring;

	u->armed--;
	h->armed = false;
	if (!h->k) {
		unlink_free(u, h);
		return;
	}
	if (u->stopping)
		return;
	/* ENOBUFS: every buffer was taken; they are back once this wake-up's sends complete */
	if (res != -ENOBUFS && ++h->errors > MAX_ERRORS) {
		log_warn(LOG_RTP, "receive keeps failing, socket no longer read",
		         "worker=%d error=%s", worker_index(rw->w), g_strerror(-res));
		return;
	}
	if (arm_recv(u, h))
		log_warn(LOG_RTP, "cannot arm receive", "worker=%d", worker_index(rw->w));
}

void rtp_uring_dispatch(struct rtp_worker *rw, int64_t now)
{
	struct rtp_ring *u = rw->ring;

	/* sessions close only from the mailbox, never inside this loop */
	for (unsigned i = 0; i < u->nkept; i++) {
		const struct kept_cqe *c = &u->kept[i];
		struct rtp_recv *h = (struct rtp_recv *)(uintptr_t)(c->data & ~(uint64_t)TAG_MASK);

		if (c->flags & IORING_CQE_F_BUFFER)
			received(rw, h, (int)(c->flags >> IORING_CQE_BUFFER_SHIFT), c->res, now);
		if (!(c->flags & IORING_CQE_F_MORE))
			rx_ended(rw, h, c->res);
	}
	u->nkept = 0;
}

void rtp_uring_stop(struct rtp_worker *rw)
{
	struct rtp_ring *u = rw->ring;
	struct __kernel_timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	struct io_uring_cqe *cqe;

	if (!u)
		return;
	u->stopping = true;
	ring_cancel_all(&u->ring, TAG_CANCEL);
	/* every handle stays until its last completion */
	for (int tries = 0; tries < 100; tries++) {
		rtp_uring_dispatch(rw, 0);
		if (u->armed <= 0 && !u->inflight)
			break;
		if (io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts) == 0)
			collect(rw, NULL);
	}
	/* what never completed (a wedged ring): the handles go with it */
	while (u->handles.head) {
		struct rtp_recv *h = u->handles.head->data;

		if (h->k)
			h->k->rx = NULL;
		unlink_free(u, h);
	}
	io_uring_queue_exit(&u->ring);
	ring_free(u);
	rw->ring = NULL;
}
