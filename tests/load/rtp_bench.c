/*
 * Plain RTP bridge benchmark: N calls of 50 pps 172-byte packets each way,
 * through rtcgate's media workers (one worker) or through a bare epoll
 * recvmmsg/sendmmsg forwarder with the same socket layout (an RTP/RTCP port
 * pair per leg, two legs per call). The forwarder runs in a child process;
 * the parent generates the traffic, counts what comes back, and reads the
 * child's CPU time (utime+stime, /proc/PID/stat). Not a test: prints figures.
 *   rtp_bench rtcgate|bare CALLS SECONDS [FIRST_PORT]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "relay/media.h"

#define PKT    172
#define PPS    50
#define BATCH  32
#define TOS_EF (46 << 2)

static struct sockaddr_in lo(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int udp_socket(uint16_t port, bool any)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), tos = TOS_EF;
	struct sockaddr_in a = lo(port);
	int big = 1 << 20;

	if (any)
		a.sin_addr.s_addr = htonl(INADDR_ANY);
	setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	getsockname(fd, (struct sockaddr *)&a, &len);
	return ntohs(a.sin_port);
}

/* ---- the bare reference: epoll, recvmmsg on the ready socket, sendmmsg from its partner ---- */

struct bare_sock {
	int fd, partner;
	struct sockaddr_in dest;
};

static void bare_forward(struct bare_sock *s)
{
	static uint8_t buf[BATCH][2048];
	static struct mmsghdr rx[BATCH], tx[BATCH];
	static struct iovec riov[BATCH], tiov[BATCH];
	int n, ntx = 0;

	for (int i = 0; i < BATCH; i++) {
		riov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		rx[i].msg_hdr = (struct msghdr){ .msg_iov = &riov[i], .msg_iovlen = 1 };
	}
	n = recvmmsg(s->fd, rx, BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		tiov[ntx] = (struct iovec){ buf[i], rx[i].msg_len };
		tx[ntx].msg_hdr = (struct msghdr){ .msg_name = &s->dest,
			                           .msg_namelen = sizeof(s->dest),
			                           .msg_iov = &tiov[ntx],
			                           .msg_iovlen = 1 };
		ntx++;
	}
	for (int off = 0, sent; off < ntx; off += sent) {
		sent = sendmmsg(s->partner, tx + off, (unsigned)(ntx - off), MSG_DONTWAIT);
		if (sent <= 0)
			sent = 1;
	}
}

/* ports[2i], ports[2i+1]: legs A and B of call i; dests: the generator's sockets. */
static void run_bare(int calls, uint16_t first, const uint16_t *gen, int ctl, int stop)
{
	struct bare_sock *socks = calloc((size_t)calls * 4, sizeof(*socks));
	int ep = epoll_create1(0), port = first;
	uint16_t *ports = calloc((size_t)calls * 2, sizeof(uint16_t));
	struct epoll_event sev = { .events = EPOLLIN, .data.ptr = NULL };

	for (int i = 0; i < calls * 2; i++) {
		int fd, fd2;

		/* an even RTP port and its RTCP neighbour, skipping taken ones */
		do {
			fd = udp_socket((uint16_t)port, true);
			fd2 = fd >= 0 ? udp_socket((uint16_t)(port + 1), true) : -1;
			if (fd >= 0 && fd2 < 0)
				close(fd);
			port += 2;
		} while (fd < 0 || fd2 < 0);
		socks[i * 2] = (struct bare_sock){ .fd = fd };
		socks[i * 2 + 1] = (struct bare_sock){ .fd = fd2 };
		ports[i] = port_of(fd);
	}
	for (int c = 0; c < calls; c++) {
		struct bare_sock *a = &socks[c * 4], *b = &socks[c * 4 + 2];

		a->partner = b->fd;
		a->dest = lo(gen[c * 2 + 1]); /* from A's peer, out of B toward B's peer */
		b->partner = a->fd;
		b->dest = lo(gen[c * 2]);
		a[1].partner = b[1].fd;
		a[1].dest = lo((uint16_t)(gen[c * 2 + 1] + 1));
		b[1].partner = a[1].fd;
		b[1].dest = lo((uint16_t)(gen[c * 2] + 1));
		for (int k = 0; k < 4; k++) {
			struct epoll_event ev = { .events = EPOLLIN,
				                  .data.ptr = &socks[c * 4 + k] };

			epoll_ctl(ep, EPOLL_CTL_ADD, socks[c * 4 + k].fd, &ev);
		}
	}
	epoll_ctl(ep, EPOLL_CTL_ADD, stop, &sev);
	(void)!write(ctl, ports, sizeof(uint16_t) * (size_t)calls * 2);
	for (;;) {
		struct epoll_event ev[64];
		int n = epoll_wait(ep, ev, 64, -1);

		for (int i = 0; i < n; i++) {
			if (!ev[i].data.ptr)
				_exit(0);
			bare_forward(ev[i].data.ptr);
		}
	}
}

/* ---- rtcgate: the media pool, one worker ---- */

static void run_rtcgate(int calls, uint16_t first, const uint16_t *gen, int ctl, int stop)
{
	gchar *ports_opt = g_strdup_printf("media.ports=%u-%u", first, first + calls * 5);
	const char *ov[] = { ports_opt, "media.workers=1", NULL };
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	struct conf *c = NULL;
	struct media_pool *p = NULL;
	struct media_session **s = calloc((size_t)calls, sizeof(*s));
	uint16_t *ports = calloc((size_t)calls * 2, sizeof(uint16_t));
	char *why = NULL, byte;
	int levels[LOG_SUB_COUNT];

	log_init();
	for (int i = 0; i < LOG_SUB_COUNT; i++)
		levels[i] = LOG_LVL_WARN;
	log_levels_set(levels);
	if (conf_load_data("", 0, "bench", ov, &c, errors) || media_pool_start(c, NULL, &p, &why)) {
		fprintf(stderr, "rtp_bench: %s\n", why ? why : "bad config");
		_exit(1);
	}
	for (int i = 0; i < calls; i++) {
		struct sockaddr_in a = lo(gen[i * 2]), b = lo(gen[i * 2 + 1]);
		struct sockaddr_storage out;

		if (media_session_new(p, &s[i])) {
			fprintf(stderr, "rtp_bench: no ports for call %d\n", i);
			_exit(1);
		}
		media_session_set_remote(s[i], MEDIA_LEG_A, (struct sockaddr *)&a, NULL);
		media_session_set_remote(s[i], MEDIA_LEG_B, (struct sockaddr *)&b, NULL);
		for (int l = 0; l < 2; l++) {
			media_session_local(s[i], l, (struct sockaddr *)&a, &out);
			ports[i * 2 + l] = ntohs(((struct sockaddr_in *)&out)->sin_port);
		}
	}
	media_pool_sync(p);
	(void)!write(ctl, ports, sizeof(uint16_t) * (size_t)calls * 2);
	(void)!read(stop, &byte, 1);
	for (int i = 0; i < calls; i++)
		media_session_free(s[i]);
	media_pool_stop(p);
	_exit(0);
}

/* ---- the generator (parent) ---- */

struct gen {
	int calls;
	int *fd;       /* 2 per call: A's peer, B's peer */
	uint16_t *fwd; /* the forwarder's ports, 2 per call */
	atomic_bool done;
	atomic_uint_fast64_t received;
};

static gpointer receiver(gpointer data)
{
	struct gen *g = data;
	int ep = epoll_create1(0);
	uint8_t buf[BATCH][256];
	struct mmsghdr rx[BATCH];
	struct iovec iov[BATCH];

	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		rx[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	for (int i = 0; i < g->calls * 2; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = g->fd[i] };

		epoll_ctl(ep, EPOLL_CTL_ADD, g->fd[i], &ev);
	}
	while (!atomic_load(&g->done)) {
		struct epoll_event ev[64];
		int n = epoll_wait(ep, ev, 64, 50);

		for (int i = 0; i < n; i++) {
			int got = recvmmsg(ev[i].data.fd, rx, BATCH, MSG_DONTWAIT, NULL);

			if (got > 0)
				atomic_fetch_add(&g->received, (uint64_t)got);
		}
	}
	close(ep);
	return NULL;
}

static void send_one(struct gen *g, int i, uint16_t seq)
{
	uint8_t pkt[PKT];
	/* socket 2c is A's peer (sends to leg A), 2c+1 is B's peer (sends to leg B) */
	struct sockaddr_in to = lo(g->fwd[i]);

	memset(pkt, 0xd5, sizeof(pkt));
	pkt[0] = 0x80;
	pkt[1] = 0;
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
	(void)!sendto(g->fd[i], pkt, sizeof(pkt), MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to));
}

static uint64_t cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
	fclose(f);
	return ut + st;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = { .tv_sec = t / 1000000000LL, .tv_nsec = t % 1000000000LL };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

int main(int argc, char **argv)
{
	struct gen g = { 0 };
	int ctl[2], stop[2], seconds, slices = 20;
	uint16_t *gen_ports, first;
	bool bare;
	pid_t pid;
	uint64_t sent = 0, t0, t1;
	int64_t start, tick = 1000000000LL / PPS;
	GThread *rt;
	double hz = (double)sysconf(_SC_CLK_TCK), cpu, recv_n;

	if (argc < 4 || (strcmp(argv[1], "rtcgate") && strcmp(argv[1], "bare"))) {
		fprintf(stderr, "usage: rtp_bench rtcgate|bare CALLS SECONDS [FIRST_PORT]\n");
		return 2;
	}
	bare = strcmp(argv[1], "bare") == 0;
	g.calls = atoi(argv[2]);
	seconds = atoi(argv[3]);
	first = (uint16_t)(argc > 4 ? atoi(argv[4]) : 15000);
	g.fd = calloc((size_t)g.calls * 2, sizeof(int));
	gen_ports = calloc((size_t)g.calls * 2, sizeof(uint16_t));
	g.fwd = calloc((size_t)g.calls * 2, sizeof(uint16_t));
	/* the generator's RTP sockets: kernel-chosen ports (their RTCP +1 is never used) */
	for (int i = 0; i < g.calls * 2; i++) {
		g.fd[i] = udp_socket(0, false);
		gen_ports[i] = port_of(g.fd[i]);
	}
	if (pipe(ctl) || pipe(stop))
		return 1;
	pid = fork();
	if (pid == 0) {
		close(ctl[0]);
		close(stop[1]);
		for (int i = 0; i < g.calls * 2; i++)
			close(g.fd[i]);
		if (bare)
			run_bare(g.calls, first, gen_ports, ctl[1], stop[0]);
		else
			run_rtcgate(g.calls, first, gen_ports, ctl[1], stop[0]);
		_exit(0);
	}
	close(ctl[1]);
	close(stop[0]);
	if (read(ctl[0], g.fwd, sizeof(uint16_t) * (size_t)g.calls * 2) !=
	    (ssize_t)(sizeof(uint16_t) * (size_t)g.calls * 2)) {
		fprintf(stderr, "rtp_bench: forwarder did not start\n");
		return 1;
	}
	rt = g_thread_new("recv", receiver, &g);
	/* one packet each way first: rtcgate latches on it; not counted */
	for (int i = 0; i < g.calls * 2; i++)
		send_one(&g, i, 0);
	sleep_until(now_ns() + 200000000LL);
	atomic_store(&g.received, 0);
	t0 = cpu_ticks(pid);
	start = now_ns();
	/* every 20 ms each socket sends one packet, spread over 20 slices of the tick */
	for (int t = 0; t < seconds * PPS; t++) {
		for (int sl = 0; sl < slices; sl++) {
			int lo_i = g.calls * 2 * sl / slices,
			    hi_i = g.calls * 2 * (sl + 1) / slices;

			sleep_until(start + t * tick + sl * (tick / slices));
			for (int i = lo_i; i < hi_i; i++)
				send_one(&g, i, (uint16_t)(t + 1));
			sent += (uint64_t)(hi_i - lo_i);
		}
	}
	sleep_until(now_ns() + 200000000LL); /* the last packets drain */
	t1 = cpu_ticks(pid);
	atomic_store(&g.done, true);
	g_thread_join(rt);
	(void)!write(stop[1], "x", 1);
	kill(pid, bare ? SIGTERM : 0);
	waitpid(pid, NULL, 0);
	recv_n = (double)atomic_load(&g.received);
	cpu = (double)(t1 - t0) / hz;
	printf("%-8s calls=%d pps=%.0f sent=%" G_GUINT64_FORMAT " received=%.0f loss=%.3f%% "
	       "cpu_s=%.2f cpu_s_per_100k=%.3f\n",
	       argv[1], g.calls, (double)sent / ((double)(now_ns() - start) / 1e9 - 0.2), sent,
	       recv_n, sent ? 100.0 * (1.0 - recv_n / (double)sent) : 0.0, cpu,
	       recv_n > 0 ? cpu * 100000.0 / recv_n : 0.0);
	return 0;
}
