/* The RTP/RTCP packet path on a media worker: recvmmsg, check, latch, sendmmsg (RFC 3550). */
#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/log.h"
#include "core/worker.h"
#include "relay/rtp_check.h"
#include "relay/rtp_priv.h"

/*
 * GLib polls every fd of a context on every iteration, which costs O(sockets)
 * per wake-up with four sockets per call. The sockets are in one epoll set
 * instead, and the context watches only its fd: O(ready sockets) per wake-up.
 */
struct epoll_source {
	GSource source;
	struct rtp_worker *rw;
};

void rtp_drop(struct media_session *s, int leg, enum media_drop why)
{
	RTP_STAT_ADD(s->stats[leg].drops[why], 1);
	RTP_STAT_ADD(s->rw->stats.drops[why], 1);
}

static void drop(struct media_session *s, const struct rtp_sock *in, enum media_drop why)
{
	rtp_drop(s, in->leg, why);
}

void rtp_count(struct media_session *s, int leg, int kind, bool out, size_t bytes)
{
	struct rtp_leg_counters *c = &s->stats[leg];

	if (out) {
		RTP_STAT_ADD(c->packets_out, 1);
		RTP_STAT_ADD(c->bytes_out, bytes);
		RTP_STAT_ADD(s->rw->stats.packets[kind], 1);
		RTP_STAT_ADD(s->rw->stats.bytes[kind], bytes);
	} else {
		RTP_STAT_ADD(c->packets_in, 1);
		RTP_STAT_ADD(c->bytes_in, bytes);
	}
}

/* Where packets arriving on in go: the other leg's socket of the same kind, or back (echo). */
static struct rtp_sock *out_sock(struct media_session *s, struct rtp_sock *in)
{
	return s->echo ? in : &s->sock[!in->leg][in->kind];
}

static void log_latch(const struct rtp_sock *in, const struct sockaddr *src)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr_in6 *a6 = (const void *)src;
	const struct sockaddr_in *a4 = (const void *)src;
	int port = src->sa_family == AF_INET6 ? ntohs(a6->sin6_port) : ntohs(a4->sin_port);

	if (src->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof(ip));
	else
		inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof(ip));
	log_info(LOG_RTP, "latched", "session=%u leg=%c kind=%s source=%s port=%d", in->s->id,
	         'a' + in->leg, in->kind == RTP_KIND_RTCP ? "rtcp" : "rtp", ip, port);
}

/* Queue rx slot i toward to. */
static void queue(struct rtp_worker *rw, int i, int ntx, const struct sockaddr *to)
{
	struct msghdr *h = &rw->tx[ntx].msg_hdr;

	rw->tx_iov[ntx].iov_base = rw->rx_buf[i];
	rw->tx_iov[ntx].iov_len = rw->rx[i].msg_len;
	memcpy(&rw->tx_addr[ntx], to, rtp_addr_len(to));
	h->msg_namelen = rtp_addr_len(to);
}

/* What the socket buffer cannot take now is dropped, never queued: late media is useless. */
static void flush(struct rtp_worker *rw, struct media_session *s, const struct rtp_sock *in,
                  const struct rtp_sock *out, int ntx)
{
	uint64_t pkts = 0, bytes = 0;
	int sent;

	for (int off = 0; off < ntx; off += sent) {
		sent = sendmmsg(out->fd, rw->tx + off, (unsigned)(ntx - off), MSG_DONTWAIT);
		if (sent <= 0) {
			/* one bad destination or a full buffer costs that packet, not the batch */
			drop(s, in, MEDIA_DROP_SEND_ERROR);
			sent = 1;
			continue;
		}
		for (int i = off; i < off + sent; i++) {
			pkts++;
			bytes += rw->tx[i].msg_len;
		}
	}
	RTP_STAT_ADD(s->stats[out->leg].packets_out, pkts);
	RTP_STAT_ADD(s->stats[out->leg].bytes_out, bytes);
	RTP_STAT_ADD(rw->stats.packets[out->kind], pkts);
	RTP_STAT_ADD(rw->stats.bytes[out->kind], bytes);
}

enum verdict { DROPPED, TO_WEB, TO_OUT };

/*
 * One datagram from in's peer, in buf (*len bytes, cap of room; cut: the
 * kernel truncated it): checked, SDES-SRTP unprotected, latched, measured,
 * and protected when it goes to leg B. Where it goes: leg A's WebRTC side,
 * or out's socket toward *to; a dropped one is counted.
 */
static enum verdict packet(struct rtp_sock *in, const struct rtp_sock *out, uint8_t *buf,
                           size_t *len, size_t cap, bool cut, const struct sockaddr *src,
                           int64_t now, const struct sockaddr **to)
{
	struct media_session *s = in->s;
	bool rtcp = in->kind == RTP_KIND_RTCP;
	unsigned n = (unsigned)*len;

	if (cut || !rtp_check(buf, *len, rtcp)) {
		drop(s, in, MEDIA_DROP_MALFORMED);
		return DROPPED;
	}
	if (!rtp_srtp_in(s, in, buf, &n))
		return DROPPED; /* before latching: only authentic SRTP moves the latch */
	*len = n;
	switch (rtp_latch_check(&in->latch, src, now)) {
	case RTP_LATCH_DROP: drop(s, in, MEDIA_DROP_NOT_LATCHED); return DROPPED;
	case RTP_LATCH_LATCHED: log_latch(in, src); break;
	case RTP_LATCH_OK: break;
	}
	rtp_count(s, in->leg, in->kind, false, *len);
	if (rtcp)
		media_quality_rtcp(s, in->leg, out->leg, buf, *len, now);
	else
		media_quality_rtp(s, in->leg, buf, *len, now);
	if (s->web && out->leg == MEDIA_LEG_A)
		return TO_WEB; /* SRTP over ICE */
	if (out->leg == MEDIA_LEG_B && !rtp_srtp_to_b(s, in->leg, in->kind, buf, len, cap))
		return DROPPED;
	*to = rtp_latch_remote(&out->latch);
	if (!*to) {
		drop(s, in, MEDIA_DROP_NO_REMOTE);
		return DROPPED;
	}
	return TO_OUT;
}

/* One batch from a readable socket: the others of this worker get their turn after it. */
static void sock_readable(struct rtp_worker *rw, struct rtp_sock *in, int64_t now)
{
	struct media_session *s = in->s;
	struct rtp_sock *out = out_sock(s, in);
	uint8_t *fwd[RTP_BATCH];
	size_t fwd_len[RTP_BATCH];
	int n, ntx = 0, nfwd = 0;

	for (int i = 0; i < RTP_BATCH; i++)
		rw->rx[i].msg_hdr.msg_namelen = sizeof(rw->rx_addr[i]);
	n = recvmmsg(in->fd, rw->rx, RTP_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		const struct sockaddr *to = NULL;
		size_t len = rw->rx[i].msg_len;

		switch (packet(in, out, rw->rx_buf[i], &len, RTP_DGRAM_MAX,
		               rw->rx[i].msg_hdr.msg_flags & MSG_TRUNC,
		               (const struct sockaddr *)&rw->rx_addr[i], now, &to)) {
		case DROPPED: break;
		case TO_WEB:
			fwd[nfwd] = rw->rx_buf[i];
			fwd_len[nfwd++] = len;
			break;
		case TO_OUT:
			rw->rx[i].msg_len = (unsigned)len;
			queue(rw, i, ntx++, to);
			break;
		}
	}
	if (ntx)
		flush(rw, s, in, out, ntx);
	if (nfwd)
		media_webrtc_to_a(s, in->kind, fwd, fwd_len, nfwd);
}

void rtp_send(struct rtp_worker *rw, struct media_session *s, int leg, const struct rtp_sock *out,
              const uint8_t *buf, size_t len, const struct sockaddr *to)
{
	if (rw->ring) {
		const struct rtp_tally t = { leg, out->leg, out->kind, len };

		/* counted when it completes: the kernel may still refuse it */
		if (rtp_uring_send(rw, out->fd, buf, len, to, s, &t))
			rtp_drop(s, leg, MEDIA_DROP_SEND_ERROR);
	} else if (sendto(out->fd, buf, len, MSG_DONTWAIT, to, rtp_addr_len(to)) < 0) {
		rtp_drop(s, leg, MEDIA_DROP_SEND_ERROR);
	} else {
		rtp_count(s, out->leg, out->kind, true, len);
	}
}

void rtp_leg_datagram(struct rtp_worker *rw, struct rtp_sock *k, uint8_t *buf, size_t len,
                      size_t cap, bool cut, const struct sockaddr *src, int64_t now)
{
	struct rtp_sock *out;
	const struct sockaddr *to = NULL;

	if (k->kind == RTP_KIND_ICE) {
		media_webrtc_datagram(k, buf, len, cap, cut, src);
		return;
	}
	out = out_sock(k->s, k);
	switch (packet(k, out, buf, &len, cap, cut, src, now, &to)) {
	case DROPPED: break;
	case TO_WEB: media_webrtc_to_a(k->s, k->kind, &buf, &len, 1); break;
	case TO_OUT: rtp_send(rw, k->s, k->leg, out, buf, len, to); break;
	}
}

/* The worker whose context this thread runs, for worker_poll: set by its first dispatch, or
 * when its ring starts. */
static __thread struct rtp_worker *tls_rw;

#define WAKE_MARK ((void *)&tls_rw) /* epoll data of GLib's wake-up fd in the set */

/*
 * The worker context's poll: GLib would poll() its wake-up fd and the epoll
 * fd, then the dispatch would epoll_wait: two system calls per wake-up, and
 * poll() on an epoll fd re-checks every ready socket. Once the wake-up fd is
 * in the epoll set too, one epoll_wait answers for both, and what it found
 * is kept for the dispatch. With a ring (rtp_uring.c), the ring is the wait
 * instead. Any other set of fds goes to g_poll.
 */
static gint worker_poll(GPollFD *fds, guint nfds, gint timeout)
{
	struct rtp_worker *rw = tls_rw;
	GPollFD *wake = NULL, *ep = NULL;
	int n;

	for (guint i = 0; rw && i < nfds; i++) {
		if (fds[i].fd == rw->epfd)
			ep = &fds[i];
		else if (!wake)
			wake = &fds[i];
		else
			return g_poll(fds, nfds, timeout);
	}
	if (ep && wake && rw->ring)
		return rtp_uring_poll(rw, wake, ep, timeout);
	if (!ep || !wake || rw->nready > 0)
		return g_poll(fds, nfds, timeout);
	if (rw->wake_fd != wake->fd) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = WAKE_MARK };

		if (rw->wake_fd >= 0 || epoll_ctl(rw->epfd, EPOLL_CTL_ADD, wake->fd, &ev))
			return g_poll(fds, nfds, timeout);
		rw->wake_fd = wake->fd;
	}
	wake->revents = ep->revents = 0;
	n = epoll_wait(rw->epfd, rw->ready, RTP_EPOLL_MAX, timeout);
	rw->nready = 0;
	for (int i = 0; i < n; i++) {
		if (rw->ready[i].data.ptr == WAKE_MARK)
			wake->revents = G_IO_IN;
		else
			rw->ready[rw->nready++] = rw->ready[i];
	}
	if (!rw->nready)
		rw->nready = -1;
	else
		ep->revents = G_IO_IN;
	return n < 0 ? -1 : (wake->revents != 0) + (ep->revents != 0);
}

/* This thread runs rw's context: its waits go through worker_poll. */
static void poll_here(struct rtp_worker *rw)
{
	tls_rw = rw;
	g_main_context_set_poll_func(worker_context(rw->w), worker_poll);
}

static gboolean epoll_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
	struct rtp_worker *rw = ((struct epoll_source *)src)->rw;
	struct epoll_event local[RTP_EPOLL_MAX], *ev = local;
	int64_t now = g_source_get_time(src);
	int n;

	(void)cb;
	(void)data;
	if (!tls_rw)
		poll_here(rw);
	if (rw->ring) {
		/* an fd still ready fires the ring's poll no more: look until none is */
		n = rw->epoll_pending ? epoll_wait(rw->epfd, local, RTP_EPOLL_MAX, 0) : 0;
		rw->epoll_pending = n > 0;
		rtp_uring_dispatch(rw, now);
	} else if (rw->nready > 0) {
		ev = rw->ready;
		n = rw->nready;
	} else {
		n = epoll_wait(rw->epfd, local, RTP_EPOLL_MAX, 0);
	}
	rw->nready = -1;
	/* sessions close only from the mailbox, never inside this loop; what it closed before is
	 * NULL in what worker_poll kept (rtp_ready_forget): every other pointer is live */
	for (int i = 0; i < n; i++) {
		struct rtp_sock *k = ev[i].data.ptr;

		if (!k || ev[i].data.ptr == WAKE_MARK)
			continue; /* closed since, or GLib's wake-up fd (GLib reads it) */
		if (k->kind == RTP_KIND_ICE)
			media_webrtc_readable(rw, k);
		else
			sock_readable(rw, k, now);
	}
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs epoll_funcs = { .dispatch = epoll_dispatch };

/* On the worker, before any session: its ring (made by the thread that submits) and its wait. */
static void ring_begin(void *data)
{
	struct rtp_worker *rw = data;

	if (rtp_uring_start(rw))
		poll_here(rw);
}

int rtp_worker_init(struct rtp_worker *rw)
{
	struct epoll_source *es;

	rw->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (rw->epfd < 0)
		return errno;
	rw->nready = -1;
	rw->wake_fd = -1;
	rw->sessions = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (int i = 0; i < RTP_BATCH; i++) {
		rw->rx_iov[i] =
		        (struct iovec){ .iov_base = rw->rx_buf[i], .iov_len = RTP_DGRAM_MAX };
		rw->rx[i].msg_hdr = (struct msghdr){ .msg_name = &rw->rx_addr[i],
			                             .msg_iov = &rw->rx_iov[i],
			                             .msg_iovlen = 1 };
		rw->tx[i].msg_hdr = (struct msghdr){ .msg_name = &rw->tx_addr[i],
			                             .msg_iov = &rw->tx_iov[i],
			                             .msg_iovlen = 1 };
	}
	es = (struct epoll_source *)g_source_new(&epoll_funcs, sizeof(*es));
	es->rw = rw;
	g_source_add_unix_fd(&es->source, rw->epfd, G_IO_IN);
	/*
	 * GLib takes a dispatching source's fds out of the poll set and puts them
	 * back after (a guard against recursion), and each change writes the
	 * context's wake-up eventfd: two writes and a read per wake-up, ~3 µs
	 * here. The dispatch never iterates this context, so no guard is needed.
	 */
	g_source_set_can_recurse(&es->source, TRUE);
	g_source_set_name(&es->source, "rtp");
	rw->source = &es->source;
	g_source_attach(rw->source, worker_context(rw->w));
	if (rw->pool->io_uring)
		worker_post(rw->w, ring_begin, rw);
	return 0;
}

/*
 * What worker_poll kept may name a socket that a message closed before the
 * dispatch (the mailbox dispatches first): forgotten here, skipped there.
 */
void rtp_ready_forget(struct rtp_worker *rw, const void *ptr)
{
	for (int i = 0; i < rw->nready; i++) {
		if (rw->ready[i].data.ptr == ptr)
			rw->ready[i].data.ptr = NULL;
	}
}

void rtp_sock_unwatch(struct rtp_worker *rw, struct rtp_sock *k)
{
	if (k->rx) {
		rtp_uring_disarm(rw, k);
		return;
	}
	rtp_ready_forget(rw, k);
	epoll_ctl(rw->epfd, EPOLL_CTL_DEL, k->fd, NULL);
}

void rtp_sock_close(struct rtp_worker *rw, struct rtp_sock *k)
{
	if (k->fd < 0)
		return;
	rtp_sock_unwatch(rw, k);
	close(k->fd);
	k->fd = -1;
}

void rtp_session_close(struct media_session *s, const char *why)
{
	struct rtp_worker *rw = s->rw;
	struct media_stats st;
	char q[256];

	media_session_stats(s, &st);
	media_session_quality_text(s, q, sizeof(q));
	if (s->web)
		media_webrtc_close(s); /* before the sockets: leg B may still be relaying to it */
	rtp_srtp_close(s);
	for (int l = 0; l < MEDIA_LEG_COUNT; l++) {
		for (int k = 0; k < RTP_KIND_COUNT; k++)
			rtp_sock_close(rw, &s->sock[l][k]);
	}
	rtp_uring_forget(rw, s);
	g_hash_table_remove(rw->sessions, s);
	log_info(LOG_RTP, "session end",
	         "session=%u worker=%d reason=%s a_in=%" G_GUINT64_FORMAT
	         " a_out=%" G_GUINT64_FORMAT " b_in=%" G_GUINT64_FORMAT " b_out=%" G_GUINT64_FORMAT
	         " not_latched=%" G_GUINT64_FORMAT " no_remote=%" G_GUINT64_FORMAT "%s",
	         s->id, worker_index(rw->w), why, st.leg[0].packets_in, st.leg[0].packets_out,
	         st.leg[1].packets_in, st.leg[1].packets_out,
	         st.leg[0].drops[MEDIA_DROP_NOT_LATCHED] + st.leg[1].drops[MEDIA_DROP_NOT_LATCHED],
	         st.leg[0].drops[MEDIA_DROP_NO_REMOTE] + st.leg[1].drops[MEDIA_DROP_NO_REMOTE], q);
	if (s->webrtc)
		g_mutex_clear(&s->info_lock);
	g_free(s);
}

void rtp_session_attach(struct media_session *s)
{
	struct rtp_worker *rw = s->rw;

	for (int l = 0; l < MEDIA_LEG_COUNT; l++) {
		for (int k = 0; k < RTP_KIND_COUNT; k++) {
			struct rtp_sock *sk = &s->sock[l][k];
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = sk };

			/* on the ring when there is one, else in the epoll set */
			if (rw->ring && rtp_uring_arm(rw, sk) == 0)
				continue;
			if (epoll_ctl(rw->epfd, EPOLL_CTL_ADD, sk->fd, &ev))
				log_err(LOG_RTP, "cannot watch socket", "session=%u error=%s",
				        s->id, g_strerror(errno));
		}
	}
	g_hash_table_add(rw->sessions, s);
	log_info(LOG_RTP, "session start", "session=%u worker=%d port_a=%u port_b=%u", s->id,
	         worker_index(rw->w), s->port[0], s->port[1]);
}

void rtp_worker_fini(struct rtp_worker *rw)
{
	GList *all;

	if (!rw->sessions)
		return;
	all = g_hash_table_get_keys(rw->sessions);
	for (GList *l = all; l; l = l->next)
		rtp_session_close(l->data, "shutdown");
	g_list_free(all);
	g_hash_table_destroy(rw->sessions);
	rw->sessions = NULL;
	rtp_uring_stop(rw); /* every socket is closed: the receives end, the sends complete */
	if (rw->web_tick) {
		g_source_destroy(rw->web_tick);
		g_source_unref(rw->web_tick);
		rw->web_tick = NULL;
		g_source_destroy(rw->ice_pump);
		g_source_unref(rw->ice_pump);
		rw->ice_pump = NULL;
		g_main_context_unref(rw->ice_ctx); /* every leg is gone: nothing is on it */
		rw->ice_ctx = NULL;
	}
	if (rw->source) {
		g_source_destroy(rw->source);
		g_source_unref(rw->source);
		rw->source = NULL;
	}
}
