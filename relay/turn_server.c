/* TURN workers: epoll loops, batched recvmmsg/sendmmsg, the configuration snapshot,
 * per-worker counters (RFC 8656 §5; DESIGN.md "Threads"). */
#include "relay/turn_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/metrics.h"
#include "relay/turn_priv.h"
#include "rtcgate-config.h"

#define ROUNDS_PER_WAKE 8   /* then let the other descriptors of the loop run */
#define EPOLL_EVENTS    256 /* ready descriptors handled per wake-up, one tx flush for all */

/* A replaced snapshot, freed once every worker has woken up after the swap. */
struct retired {
	struct turn_snapshot *snap;
	uint64_t *epochs; /* each worker's epoch at the swap */
};

struct turn_server {
	struct metrics *metrics;
	SSL_CTX *tls;
	int nworkers;
	struct turn_worker **workers;
	struct turn_snapshot *_Atomic snap;
	GList *retired; /* struct retired */
	guint retire_source;
	struct turn_shared shared;
};

uint8_t *turn_tx_slot(struct turn_worker *w)
{
	if (w->multishot)
		return w->tx_cur = turn_uring_tx_slot(w);
	if (w->ntx == TURN_BATCH)
		turn_tx_flush(w);
	return w->tx_cur = w->tx_buf[w->ntx];
}

void turn_tx_header(struct msghdr *h, uint8_t ctl[64], struct sockaddr_storage *addr,
                    const struct sockaddr *to, socklen_t tolen, const struct in6_addr *src)
{
	memcpy(addr, to, tolen);
	h->msg_namelen = tolen;
	h->msg_control = NULL;
	h->msg_controllen = 0;
	if (src && to->sa_family == AF_INET6) {
		struct cmsghdr *c;
		struct in6_pktinfo pi = { .ipi6_addr = *src };

		h->msg_control = ctl;
		h->msg_controllen = CMSG_SPACE(sizeof(pi));
		c = CMSG_FIRSTHDR(h);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
}

void turn_tx_commit(struct turn_worker *w, size_t len, const struct sockaddr *to, socklen_t tolen)
{
	if (w->cur_conn) {
		/* the slot was not taken: it is reused by the next one */
		turn_tcp_send(w->cur_conn, w->tx_cur, len);
		return;
	}
	if (w->multishot) {
		turn_uring_tx_commit(w, len, to, tolen);
		return;
	}
	w->tx_iov[w->ntx].iov_len = len;
	turn_tx_header(&w->tx[w->ntx].msg_hdr, w->tx_ctl[w->ntx], &w->tx_addr[w->ntx], to, tolen,
	               w->cur_src);
	w->ntx++;
}

void turn_defer_free(struct turn_worker *w, void *p)
{
	((struct ep_item *)p)->dead = true;
	g_ptr_array_add(w->graveyard, p);
}

/* The destination address of received datagram i, from its IPV6_PKTINFO. */
static const struct in6_addr *rx_destination(struct turn_worker *w, int i)
{
	struct msghdr *h = &w->rx[i].msg_hdr;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			w->rx_dst[i] = pi.ipi6_addr;
			return &w->rx_dst[i];
		}
	}
	return NULL;
}

/*
 * recvmmsg writes back the name and control lengths of the headers it
 * filled, and only those: re-arming just them keeps a one-packet read at
 * one header's cost. Every header has a control buffer; sockets without
 * IPV6_RECVPKTINFO (relay sockets) leave it empty.
 */
int turn_rx_batch(struct turn_worker *w, int fd)
{
	int n;

	for (int i = 0; i < w->rx_used; i++) {
		w->rx[i].msg_hdr.msg_namelen = sizeof(w->rx_addr[i]);
		w->rx[i].msg_hdr.msg_controllen = sizeof(w->rx_ctl[i]);
	}
	n = recvmmsg(fd, w->rx, TURN_BATCH, MSG_DONTWAIT, NULL);
	w->rx_used = n > 0 ? n : 0;
	return n;
}

/* UDP: what the socket buffer cannot take now is dropped, never queued. */
void turn_tx_flush(struct turn_worker *w)
{
	int sent;

	for (int off = 0; off < w->ntx; off += sent) {
		sent = sendmmsg(w->listen.fd, w->tx + off, (unsigned)(w->ntx - off), MSG_DONTWAIT);
		if (sent <= 0) {
			/* one bad destination must not cost the rest of the batch */
			sent = 1;
			continue;
		}
		for (int i = off; i < off + sent; i++) {
			STAT_ADD(w->stats.pkts_out, 1);
			STAT_ADD(w->stats.bytes_out, w->tx[i].msg_len);
		}
	}
	w->ntx = 0;
}

static void tick_clock(struct turn_worker *w)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	w->now = ts.tv_sec;
	w->now_ms = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	w->now_real = (uint64_t)time(NULL);
}

/*
 * What a client sends: first byte 0-3 STUN, 64-127 ChannelData (RFC 7983, RFC 5766).
 * Binding is answered by the pure STUN server; TURN methods go to turn_req.c.
 * Answers go out through turn_tx_commit: UDP batch, or w->cur_conn over TCP.
 */
void turn_client_message(struct turn_worker *w, const uint8_t *in, size_t len,
                         const struct sockaddr *from, socklen_t fromlen)
{
	size_t outlen = 0;
	struct stun_msg m;
	enum stun_result r;
	bool decoded;

	STAT_ADD(w->stats.pkts_in, 1);
	STAT_ADD(w->stats.bytes_in, len);
	if (len >= 4 && in[0] >= 0x40 && in[0] <= 0x7f) {
		turn_handle_channel_data(w, in, len, from);
		return;
	}
	decoded = stun_msg_decode(&m, in, len) == 0;
	/*
	 * Binding and malformed requests are answered here without credentials:
	 * rate-limited per source IP. TURN requests pay in authenticate().
	 */
	if ((!decoded || (m.cls == STUN_REQUEST && m.method == STUN_BINDING)) &&
	    !ratelimit_allow(w->limiter, from, w->now_ms)) {
		STAT_ADD(w->stats.rate_limited, 1);
		return;
	}
	if (decoded && m.method != STUN_BINDING &&
	    (m.fp_off == 0 || stun_msg_check_fingerprint(&m) == 0)) {
		turn_handle_message(w, &m, from, fromlen);
		return;
	}
	r = stun_server_handle(&w->stun, in, len, from, turn_tx_slot(w), TURN_DGRAM_MAX, &outlen);
	STAT_ADD(w->stats.results[r], 1);
	if (outlen)
		turn_tx_commit(w, outlen, from, fromlen);
}

static void listen_readable(struct turn_worker *w)
{
	for (int round = 0; round < ROUNDS_PER_WAKE; round++) {
		int n = turn_rx_batch(w, w->listen.fd);

		if (n <= 0)
			break;
		w->peer_hold = true;
		for (int i = 0; i < n; i++) {
			const struct sockaddr_in6 *from =
			        (const struct sockaddr_in6 *)&w->rx_addr[i];

			/* port 0 cannot be answered; a cut datagram is not a message */
			if (from->sin6_port == 0 || (w->rx[i].msg_hdr.msg_flags & MSG_TRUNC))
				continue;
			w->cur_src = rx_destination(w, i);
			turn_client_message(w, w->rx_buf[i], w->rx[i].msg_len,
			                    (const struct sockaddr *)&w->rx_addr[i],
			                    w->rx[i].msg_hdr.msg_namelen);
		}
		/* the data lives in rx_buf: out before the next recvmmsg */
		turn_peer_tx_flush(w);
		w->peer_hold = false;
		w->cur_src = NULL;
		if (n < TURN_BATCH)
			break;
	}
}

/* The epoll set's ready descriptors; false when the worker is told to stop. */
static bool dispatch(struct turn_worker *w, const struct epoll_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		struct ep_item *it = ev[i].data.ptr;
		uint64_t ticks;

		/* closed by an earlier event of this same batch */
		if (it->dead)
			continue;
		switch (it->kind) {
		case EP_STOP: return false;
		case EP_KICK:
			if (read(it->fd, &ticks, sizeof(ticks)) > 0)
				ratelimit_set_rate(w->limiter, w->snap->request_rate,
				                   2.0 * w->snap->request_rate);
			break;
		case EP_LISTEN: listen_readable(w); break;
		case EP_RELAY: turn_alloc_relay_ready((struct turn_relay *)it); break;
		case EP_TCP_LISTEN: turn_tcp_accept(w, it->fd, false); break;
		case EP_TLS_LISTEN: turn_tcp_accept(w, it->fd, true); break;
		case EP_TCP: turn_tcp_event((struct turn_conn *)it, ev[i].events); break;
		case EP_TIMER:
			if (read(it->fd, &ticks, sizeof(ticks)) > 0) {
				turn_alloc_expire(w);
				turn_tcp_expire(w);
				ratelimit_expire(w->limiter, w->now_ms);
			}
			break;
		}
	}
	return true;
}

static void wake_up_end(struct turn_worker *w)
{
	g_ptr_array_set_size(w->graveyard, 0);
	/* nothing of the snapshot read at the wake-up is held past this point */
	atomic_store(&w->epoch, atomic_load_explicit(&w->epoch, memory_order_relaxed) + 1);
}

/*
 * Multishot mode (turn_uring.c): the ring is the loop. UDP datagrams arrive
 * as completions; the epoll set (TCP, timer, eventfds) is looked at when its
 * poll completes, and again at each wake-up until it has nothing left, since
 * a level-triggered descriptor still ready does not wake the poll again.
 */
static void ring_main(struct turn_worker *w)
{
	struct epoll_event ev[EPOLL_EVENTS];
	bool epoll_pending = false;
	int rc = turn_uring_begin(w);

	if (rc) {
		log_err(LOG_TURN, "io_uring loop cannot start", "worker=%d error=%s", w->index,
		        g_strerror(rc));
		return;
	}
	while (turn_uring_wait(w, epoll_pending)) {
		tick_clock(w);
		w->snap = atomic_load(w->snap_src);
		if (turn_uring_reap(w) || epoll_pending) {
			int n = epoll_wait(w->ep, ev, G_N_ELEMENTS(ev), 0);

			epoll_pending = n > 0;
			if (!dispatch(w, ev, n))
				break;
			/* answers over TCP are written directly; UDP ones are already SQEs */
		}
		wake_up_end(w);
	}
	wake_up_end(w);
	turn_uring_drain(w);
}

static gpointer worker_main(gpointer data)
{
	struct turn_worker *w = data;
	struct epoll_event ev[EPOLL_EVENTS];

	if (w->multishot) {
		ring_main(w);
		return NULL;
	}
	for (;;) {
		int n = epoll_wait(w->ep, ev, G_N_ELEMENTS(ev), -1);

		if (n < 0 && errno != EINTR)
			break;
		tick_clock(w);
		w->snap = atomic_load(w->snap_src);
		if (!dispatch(w, ev, n))
			return NULL;
		if (w->nready)
			turn_alloc_relays_rx(w);
		/* answers and relayed packets of every descriptor above, in one sendmmsg */
		turn_tx_flush(w);
		wake_up_end(w);
	}
	return NULL;
}

static void setup_batches(struct turn_worker *w)
{
	for (int i = 0; i < TURN_BATCH; i++) {
		w->rx_iov[i] =
		        (struct iovec){ .iov_base = w->rx_buf[i], .iov_len = TURN_DGRAM_MAX };
		w->rx[i].msg_hdr = (struct msghdr){ .msg_name = &w->rx_addr[i],
			                            .msg_namelen = sizeof(w->rx_addr[i]),
			                            .msg_iov = &w->rx_iov[i],
			                            .msg_iovlen = 1,
			                            .msg_control = w->rx_ctl[i],
			                            .msg_controllen = sizeof(w->rx_ctl[i]) };
		w->tx_iov[i] = (struct iovec){ .iov_base = w->tx_buf[i] };
		w->tx[i].msg_hdr = (struct msghdr){ .msg_name = &w->tx_addr[i],
			                            .msg_iov = &w->tx_iov[i],
			                            .msg_iovlen = 1 };
	}
}

/*
 * One dual-stack socket of type on address:port with SO_REUSEPORT (one per
 * worker, so the kernel spreads clients by 5-tuple). Returns the fd or -errno.
 */
int turn_listen_socket(int type, const char *address, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, zero = 0, fd, err;

	memset(&ss, 0, sizeof(ss));
	if (*address && strchr(address, ':') == NULL) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, address, &s4->sin_addr) != 1)
			return -EINVAL;
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_addr = in6addr_any;
		if (*address && inet_pton(AF_INET6, address, &s6->sin6_addr) != 1)
			return -EINVAL;
		sl = sizeof(*s6);
	}
	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (type == SOCK_DGRAM) {
		/*
		 * Every client of this worker lands in this one socket: a burst of
		 * them must not overflow the default ~200 KiB. FORCE passes
		 * net.core.rmem_max when we may (root); else the kernel caps it.
		 */
		int bytes = TURN_LISTEN_BUFFER;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) != 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) != 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
	}
	if (ss.ss_family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (type == SOCK_DGRAM)
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

static void worker_free(struct turn_worker *w)
{
	if (!w)
		return;
	if (w->thread) {
		uint64_t one = 1;

		(void)!write(w->stop.fd, &one, sizeof(one));
		g_thread_join(w->thread);
	}
	if (w->conns) {
		GList *all = g_hash_table_get_keys(w->conns);

		tick_clock(w);
		for (GList *l = all; l; l = l->next)
			turn_tcp_close(l->data, "shutdown");
		g_list_free(all);
		g_hash_table_destroy(w->conns);
	}
	if (w->allocs) {
		GList *all = g_hash_table_get_values(w->allocs);

		tick_clock(w);
		for (GList *l = all; l; l = l->next)
			turn_alloc_free(l->data, "shutdown");
		g_list_free(all);
		g_hash_table_destroy(w->allocs);
	}
	ratelimit_free(w->limiter);
	turn_uring_stop(w);
	if (w->graveyard)
		g_ptr_array_unref(w->graveyard);
	for (int *fd = (int[]){ w->listen.fd, w->tcp_listen.fd, w->tls_listen.fd, w->ep, w->stop.fd,
	                        w->kick.fd, w->timer.fd },
	         i = 0;
	     i < 7; i++) {
		if (fd[i] >= 0)
			close(fd[i]);
	}
	g_free(w);
}

static int add_ep(struct turn_worker *w, struct ep_item *it)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = it };

	return epoll_ctl(w->ep, EPOLL_CTL_ADD, it->fd, &ev);
}

static struct turn_worker *worker_new(struct turn_server *ts, int index,
                                      const struct turn_conf *conf, int *err)
{
	struct turn_worker *w = g_new0(struct turn_worker, 1);
	struct itimerspec tick = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	gchar *name;

	w->index = index;
	w->nworkers = ts->nworkers;
	RAND_bytes(w->tid_prefix, sizeof(w->tid_prefix));
	w->snap_src = &ts->snap;
	w->snap = atomic_load(&ts->snap);
	w->shared = &ts->shared;
	w->stun.software = "rtcgate " RTCGATE_VERSION;
	w->allocs = g_hash_table_new(turn_addr_hash, turn_addr_key_equal);
	w->conns = g_hash_table_new(g_direct_hash, g_direct_equal);
	w->graveyard = g_ptr_array_new_with_free_func(g_free);
	w->limiter = ratelimit_new(w->snap->request_rate, 2.0 * w->snap->request_rate, 65536);
	w->tcp_listen = (struct ep_item){ .kind = EP_TCP_LISTEN,
		                          .fd = turn_tcp_listen(conf->address, conf->port) };
	w->tls = ts->tls;
	w->tls_listen = (struct ep_item){ .kind = EP_TLS_LISTEN, .fd = -1 };
	if (ts->tls)
		w->tls_listen.fd = turn_tcp_listen(conf->address, conf->tls_port);
	w->listen =
	        (struct ep_item){ .kind = EP_LISTEN,
		                  .fd = turn_listen_socket(SOCK_DGRAM, conf->address, conf->port) };
	w->stop = (struct ep_item){ .kind = EP_STOP, .fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) };
	w->kick = (struct ep_item){ .kind = EP_KICK, .fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) };
	w->timer = (struct ep_item){
		.kind = EP_TIMER, .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)
	};
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	if (w->listen.fd < 0 || w->tcp_listen.fd < 0 || w->stop.fd < 0 || w->timer.fd < 0 ||
	    w->ep < 0) {
		*err = w->listen.fd < 0       ? -w->listen.fd
		       : w->tcp_listen.fd < 0 ? -w->tcp_listen.fd
		                              : errno;
		worker_free(w);
		return NULL;
	}
	setup_batches(w);
	w->gso = conf->udp_gso != 0;
	if (strcmp(conf->io, "io_uring") == 0)
		turn_uring_start(w);
	timerfd_settime(w->timer.fd, 0, &tick, NULL);
	/* in multishot mode the listener has its own receive on the ring */
	if (!w->multishot)
		add_ep(w, &w->listen);
	add_ep(w, &w->tcp_listen);
	if (w->tls_listen.fd >= 0)
		add_ep(w, &w->tls_listen);
	add_ep(w, &w->stop);
	add_ep(w, &w->kick);
	add_ep(w, &w->timer);
	name = g_strdup_printf("turn-%d", index);
	w->thread = g_thread_new(name, worker_main, w);
	g_free(name);
	return w;
}

static uint64_t load(atomic_uint_fast64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

#define STAT(f) offsetof(struct turn_stats, f)

/* Counters exported as they are: field, family, labels. */
static const struct {
	size_t off;
	enum metric id;
	const char *labels[2];
} exported[] = {
	{ STAT(pkts_in), METRIC_TURN_PACKETS, { "client", "in" } },
	{ STAT(pkts_out), METRIC_TURN_PACKETS, { "client", "out" } },
	{ STAT(bytes_in), METRIC_TURN_BYTES, { "client", "in" } },
	{ STAT(bytes_out), METRIC_TURN_BYTES, { "client", "out" } },
	{ STAT(relay_pkts_in), METRIC_TURN_PACKETS, { "peer", "in" } },
	{ STAT(relay_pkts_out), METRIC_TURN_PACKETS, { "peer", "out" } },
	{ STAT(relay_bytes_in), METRIC_TURN_BYTES, { "peer", "in" } },
	{ STAT(relay_bytes_out), METRIC_TURN_BYTES, { "peer", "out" } },
	{ STAT(allocs_created), METRIC_TURN_ALLOCATIONS, { "created" } },
	{ STAT(allocs_expired), METRIC_TURN_ALLOCATIONS, { "expired" } },
	{ STAT(peer_denied), METRIC_TURN_DENIED, { "peer_policy" } },
	{ STAT(quota_hits), METRIC_TURN_DENIED, { "quota" } },
	{ STAT(no_permission), METRIC_TURN_DENIED, { "no_permission" } },
	{ STAT(no_channel), METRIC_TURN_DENIED, { "no_channel" } },
	{ STAT(tcp_dropped), METRIC_TURN_DENIED, { "tcp_backpressure" } },
	{ STAT(rate_limited), METRIC_TURN_DENIED, { "rate_limit" } },
	{ STAT(bandwidth_drops), METRIC_TURN_DENIED, { "bandwidth" } },
	{ STAT(tcp_per_ip), METRIC_TURN_DENIED, { "tcp_per_ip" } },
	{ STAT(tcp_oversized), METRIC_TURN_DENIED, { "tcp_oversized_frame" } },
	{ STAT(gso_client), METRIC_TURN_GSO_DATAGRAMS, { "client" } },
	{ STAT(gso_peer), METRIC_TURN_GSO_DATAGRAMS, { "peer" } },
};

/* The sum over every worker of the counter at offset off in struct turn_stats. */
static int64_t sum(const struct turn_server *ts, size_t off)
{
	uint64_t total = 0;

	for (int i = 0; i < ts->nworkers; i++)
		total += load((atomic_uint_fast64_t *)((char *)&ts->workers[i]->stats + off));
	return (int64_t)total;
}

/* Scrape: sum the workers' counters into the registry (control thread). */
static void collect(void *arg, struct metrics *m)
{
	struct turn_server *ts = arg;
	const size_t step = sizeof(atomic_uint_fast64_t);

	for (size_t k = 0; k < G_N_ELEMENTS(exported); k++)
		metrics_set(m, exported[k].id, sum(ts, exported[k].off), exported[k].labels);
	for (int r = 0; r < STUN_RES_COUNT; r++)
		metrics_set(m, METRIC_STUN_MESSAGES, sum(ts, STAT(results) + (size_t)r * step),
		            (const char *const[]){ stun_result_names[r] });
	for (int r = 0; r < AUTH_FAIL_COUNT; r++)
		metrics_set(m, METRIC_TURN_AUTH_FAILURES,
		            sum(ts, STAT(auth_fail) + (size_t)r * step),
		            (const char *const[]){ turn_auth_fail_names[r] });
	metrics_set(m, METRIC_TURN_ALLOCATIONS_ACTIVE,
	            sum(ts, STAT(allocs_created)) - sum(ts, STAT(allocs_freed)), NULL);
	metrics_set(m, METRIC_TURN_TCP_CONNECTIONS,
	            sum(ts, STAT(tcp_accepted)) - sum(ts, STAT(tcp_closed)), NULL);
}

static void retired_free(gpointer p)
{
	struct retired *r = p;

	turn_snapshot_free(r->snap);
	g_free(r->epochs);
	g_free(r);
}

/* Control thread: free the snapshots every worker has stopped using. */
static gboolean reap_retired(gpointer data)
{
	struct turn_server *ts = data;

	for (GList *l = ts->retired; l;) {
		struct retired *r = l->data;
		GList *next = l->next;
		bool done = true;

		for (int i = 0; i < ts->nworkers && done; i++)
			done = atomic_load(&ts->workers[i]->epoch) > r->epochs[i];
		if (done) {
			retired_free(r);
			ts->retired = g_list_delete_link(ts->retired, l);
		}
		l = next;
	}
	if (ts->retired)
		return G_SOURCE_CONTINUE;
	ts->retire_source = 0;
	return G_SOURCE_REMOVE;
}

int turn_server_reconf(struct turn_server *ts, const struct conf *conf, char **why)
{
	struct turn_snapshot *next, *old;
	struct retired *r;
	uint64_t one = 1;
	int rc;

	if (!ts)
		return 0;
	old = atomic_load(&ts->snap);
	next = g_new0(struct turn_snapshot, 1);
	rc = turn_snapshot_build(next, conf, old, why);
	if (rc) {
		turn_snapshot_free(next);
		return rc;
	}
	/*
	 * Publish first, then read the epochs (all sequentially consistent): a
	 * worker still on the old snapshot is inside a batch that has not yet
	 * bumped the epoch we read, so the old one lives until that batch ends.
	 */
	atomic_store(&ts->snap, next);
	r = g_new0(struct retired, 1);
	r->snap = old;
	r->epochs = g_new(uint64_t, ts->nworkers);
	for (int i = 0; i < ts->nworkers; i++)
		r->epochs[i] = atomic_load(&ts->workers[i]->epoch);
	/* wake every worker so it picks the new snapshot up and moves its epoch on */
	for (int i = 0; i < ts->nworkers; i++)
		(void)!write(ts->workers[i]->kick.fd, &one, sizeof(one));
	ts->retired = g_list_append(ts->retired, r);
	if (!ts->retire_source)
		ts->retire_source = g_timeout_add(20, reap_retired, ts);
	log_info(LOG_TURN, "configuration applied", "workers=%d", ts->nworkers);
	return 0;
}

/* TLS 1.2 or newer, the HTTPS certificate; shared by every worker's connections. */
static SSL_CTX *tls_context(const char *cert, const char *key, char **why)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		*why = g_strdup_printf("TURN over TLS cannot use certificate %s",
		                       cert ? cert : "(none)");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	return ctx;
}

int turn_server_start(const struct conf *conf, const char *cert, const char *key,
                      struct metrics *metrics, struct turn_server **out, char **why)
{
	const struct turn_conf *tc = &conf->turn;
	struct turn_server *ts;
	int err = 0;

	*out = NULL;
	if (!tc->port)
		return 0;
	ts = g_new0(struct turn_server, 1);
	ts->metrics = metrics;
	g_mutex_init(&ts->shared.lock);
	ts->shared.per_user = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	ts->shared.reservations = turn_reservations_new();
	ts->shared.conns_per_ip = turn_tcp_per_ip_new();
	ts->snap = g_new0(struct turn_snapshot, 1);
	err = turn_snapshot_build(ts->snap, conf, NULL, why);
	if (!err && tc->tls_port) {
		ts->tls = tls_context(cert, key, why);
		err = ts->tls ? 0 : EINVAL;
	}
	if (err) {
		turn_server_stop(ts);
		return err;
	}
	ts->nworkers = tc->workers ? tc->workers : (int)g_get_num_processors();
	ts->workers = g_new0(struct turn_worker *, ts->nworkers);
	for (int i = 0; i < ts->nworkers; i++) {
		ts->workers[i] = worker_new(ts, i, tc, &err);
		if (!ts->workers[i]) {
			*why = g_strdup_printf("cannot listen on %s ports %d/udp+tcp, %d/tls: %s",
			                       *tc->address ? tc->address : "*", tc->port,
			                       tc->tls_port, g_strerror(err));
			turn_server_stop(ts);
			return err;
		}
	}
	metrics_add_collector(metrics, collect, ts);
	log_info(LOG_TURN, "listener open",
	         "proto=udp+tcp+tls address=%s port=%d tls_port=%d workers=%d relay_ports=%u-%u "
	         "self_addresses=%zu",
	         *tc->address ? tc->address : "*", tc->port, ts->tls ? tc->tls_port : 0,
	         ts->nworkers, ts->snap->relay_lo, ts->snap->relay_hi, ts->snap->policy.nself);
	*out = ts;
	return 0;
}

void turn_server_stop(struct turn_server *ts)
{
	if (!ts)
		return;
	metrics_remove_collector(ts->metrics, collect, ts);
	for (int i = 0; ts->workers && i < ts->nworkers; i++)
		worker_free(ts->workers[i]);
	g_free(ts->workers);
	if (ts->retire_source)
		g_source_remove(ts->retire_source);
	g_list_free_full(ts->retired, retired_free);
	if (ts->snap)
		turn_snapshot_free(ts->snap);
	SSL_CTX_free(ts->tls);
	g_hash_table_destroy(ts->shared.per_user);
	g_hash_table_destroy(ts->shared.reservations);
	g_hash_table_destroy(ts->shared.conns_per_ip);
	g_mutex_clear(&ts->shared.lock);
	g_free(ts);
}
