/* TURN workers: epoll loops, batched recvmmsg/sendmmsg, per-worker counters (RFC 8656 §5). */
#include "relay/turn_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/metrics.h"
#include "relay/stun_server.h"
#include "rtcgate-config.h"

#define BATCH           32
#define DGRAM_MAX       2048
#define ROUNDS_PER_WAKE 8 /* then let the other descriptors of the loop run */

/*
 * Counters are written by their worker only and read by the control thread
 * at scrape time: relaxed loads and stores, no read-modify-write.
 */
struct worker_stats {
	atomic_uint_fast64_t pkts_in, bytes_in, pkts_out, bytes_out;
	atomic_uint_fast64_t results[STUN_RES_COUNT];
};

#define STAT_ADD(field, n)                                                                \
	atomic_store_explicit(&(field),                                                   \
	                      atomic_load_explicit(&(field), memory_order_relaxed) + (n), \
	                      memory_order_relaxed)

struct turn_worker {
	int index;
	int udp;
	int ep;
	int stopfd;
	GThread *thread;
	struct stun_server_conf stun;
	struct worker_stats stats;
	/* batch buffers, owned by the worker thread */
	struct mmsghdr rx[BATCH], tx[BATCH];
	struct iovec rx_iov[BATCH], tx_iov[BATCH];
	struct sockaddr_storage rx_addr[BATCH];
	uint8_t rx_buf[BATCH][DGRAM_MAX], tx_buf[BATCH][DGRAM_MAX];
};

struct turn_server {
	struct metrics *metrics;
	int nworkers;
	struct turn_worker **workers;
};

static void udp_batch(struct turn_worker *w, int n)
{
	int nout = 0, sent;

	for (int i = 0; i < n; i++) {
		size_t len = w->rx[i].msg_len, outlen = 0;
		enum stun_result r;

		STAT_ADD(w->stats.pkts_in, 1);
		STAT_ADD(w->stats.bytes_in, len);
		r = stun_server_handle(&w->stun, w->rx_buf[i], len,
		                       (const struct sockaddr *)&w->rx_addr[i], w->tx_buf[nout],
		                       DGRAM_MAX, &outlen);
		STAT_ADD(w->stats.results[r], 1);
		if (!outlen)
			continue;
		w->tx_iov[nout].iov_len = outlen;
		w->tx[nout].msg_hdr.msg_name = &w->rx_addr[i];
		w->tx[nout].msg_hdr.msg_namelen = w->rx[i].msg_hdr.msg_namelen;
		nout++;
	}
	/* UDP: what the socket buffer cannot take now is dropped, never queued */
	for (int off = 0; off < nout; off += sent) {
		sent = sendmmsg(w->udp, w->tx + off, (unsigned)(nout - off), MSG_DONTWAIT);
		if (sent <= 0)
			break;
		for (int i = off; i < off + sent; i++) {
			STAT_ADD(w->stats.pkts_out, 1);
			STAT_ADD(w->stats.bytes_out, w->tx[i].msg_len);
		}
	}
}

static void udp_readable(struct turn_worker *w)
{
	for (int round = 0; round < ROUNDS_PER_WAKE; round++) {
		int n;

		for (int i = 0; i < BATCH; i++)
			w->rx[i].msg_hdr.msg_namelen = sizeof(w->rx_addr[i]);
		n = recvmmsg(w->udp, w->rx, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		udp_batch(w, n);
		if (n < BATCH)
			return;
	}
}

static gpointer worker_main(gpointer data)
{
	struct turn_worker *w = data;
	struct epoll_event ev[8];

	for (;;) {
		int n = epoll_wait(w->ep, ev, G_N_ELEMENTS(ev), -1);

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == w->stopfd)
				return NULL;
			if (ev[i].data.fd == w->udp)
				udp_readable(w);
		}
	}
	return NULL;
}

static void setup_batches(struct turn_worker *w)
{
	for (int i = 0; i < BATCH; i++) {
		w->rx_iov[i] = (struct iovec){ .iov_base = w->rx_buf[i], .iov_len = DGRAM_MAX };
		w->rx[i].msg_hdr = (struct msghdr){ .msg_name = &w->rx_addr[i],
			                            .msg_namelen = sizeof(w->rx_addr[i]),
			                            .msg_iov = &w->rx_iov[i],
			                            .msg_iovlen = 1 };
		w->tx_iov[i] = (struct iovec){ .iov_base = w->tx_buf[i] };
		w->tx[i].msg_hdr = (struct msghdr){ .msg_iov = &w->tx_iov[i], .msg_iovlen = 1 };
	}
}

/* One dual-stack UDP socket on address:port with SO_REUSEPORT. Returns the fd or -errno. */
static int bind_udp(const char *address, int port)
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
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
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

		(void)!write(w->stopfd, &one, sizeof(one));
		g_thread_join(w->thread);
	}
	if (w->udp >= 0)
		close(w->udp);
	if (w->ep >= 0)
		close(w->ep);
	if (w->stopfd >= 0)
		close(w->stopfd);
	g_free(w);
}

static struct turn_worker *worker_new(int index, const struct turn_conf *conf, int *err)
{
	struct turn_worker *w = g_new0(struct turn_worker, 1);
	struct epoll_event ev = { .events = EPOLLIN };
	gchar *name;

	w->index = index;
	w->stun.software = "rtcgate " RTCGATE_VERSION;
	w->udp = bind_udp(conf->address, conf->port);
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->udp < 0 || w->ep < 0 || w->stopfd < 0) {
		*err = w->udp < 0 ? -w->udp : errno;
		worker_free(w);
		return NULL;
	}
	setup_batches(w);
	ev.data.fd = w->udp;
	epoll_ctl(w->ep, EPOLL_CTL_ADD, w->udp, &ev);
	ev.data.fd = w->stopfd;
	epoll_ctl(w->ep, EPOLL_CTL_ADD, w->stopfd, &ev);
	name = g_strdup_printf("turn-%d", index);
	w->thread = g_thread_new(name, worker_main, w);
	g_free(name);
	return w;
}

static uint64_t load(atomic_uint_fast64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* Scrape: sum the workers' counters into the registry (control thread). */
static void collect(void *arg, struct metrics *m)
{
	struct turn_server *ts = arg;
	uint64_t res[STUN_RES_COUNT] = { 0 }, pin = 0, pout = 0, bin = 0, bout = 0;

	for (int i = 0; i < ts->nworkers; i++) {
		struct worker_stats *s = &ts->workers[i]->stats;

		pin += load(&s->pkts_in);
		pout += load(&s->pkts_out);
		bin += load(&s->bytes_in);
		bout += load(&s->bytes_out);
		for (int r = 0; r < STUN_RES_COUNT; r++)
			res[r] += load(&s->results[r]);
	}
	for (int r = 0; r < STUN_RES_COUNT; r++)
		metrics_set(m, METRIC_STUN_MESSAGES, (int64_t)res[r],
		            (const char *const[]){ stun_result_names[r] });
	metrics_set(m, METRIC_TURN_PACKETS, (int64_t)pin, (const char *const[]){ "in" });
	metrics_set(m, METRIC_TURN_PACKETS, (int64_t)pout, (const char *const[]){ "out" });
	metrics_set(m, METRIC_TURN_BYTES, (int64_t)bin, (const char *const[]){ "in" });
	metrics_set(m, METRIC_TURN_BYTES, (int64_t)bout, (const char *const[]){ "out" });
}

int turn_server_start(const struct turn_conf *conf, struct metrics *metrics,
                      struct turn_server **out, char **why)
{
	struct turn_server *ts;
	int err = 0;

	*out = NULL;
	if (!conf->port)
		return 0;
	ts = g_new0(struct turn_server, 1);
	ts->metrics = metrics;
	ts->nworkers = conf->workers ? conf->workers : (int)g_get_num_processors();
	ts->workers = g_new0(struct turn_worker *, ts->nworkers);
	for (int i = 0; i < ts->nworkers; i++) {
		ts->workers[i] = worker_new(i, conf, &err);
		if (!ts->workers[i]) {
			*why = g_strdup_printf("cannot listen on UDP %s port %d: %s",
			                       *conf->address ? conf->address : "*", conf->port,
			                       g_strerror(err));
			turn_server_stop(ts);
			return err;
		}
	}
	metrics_add_collector(metrics, collect, ts);
	log_info(LOG_TURN, "listener open", "proto=udp address=%s port=%d workers=%d",
	         *conf->address ? conf->address : "*", conf->port, ts->nworkers);
	*out = ts;
	return 0;
}

void turn_server_stop(struct turn_server *ts)
{
	if (!ts)
		return;
	metrics_remove_collector(ts->metrics, collect, ts);
	for (int i = 0; i < ts->nworkers; i++)
		worker_free(ts->workers[i]);
	g_free(ts->workers);
	g_free(ts);
}
