/* webrtc_load: the generator's media threads (RTP at 50 pps per call, RTT and loss from the
 * echoes, RFC 3550 headers) and the PBX side's RTP echo peer (recvmmsg/sendmmsg). */
#include "webrtc_load.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#define DIRECT_FLAG 0x80000000u
#define BATCH       32
#define EPOLL_MAX   64
#define AGENTS_US   2000

struct wl_thread {
	int id;
	GMainContext *ctx;
	GMainLoop *loop;
	GThread *thread;
	/* one socket for every plain call and direct flow of the thread: rtcgate sends each call's
	 * echoes to the address in its SDP, and the payload names the call, so the generator
	 * reads and writes in batches (its own cost would otherwise hide rtcgate's) */
	int fd;
	struct sockaddr_in addr;
	int out_n;
	struct mmsghdr out_msg[BATCH];
	struct iovec out_iov[BATCH];
	struct sockaddr_in out_dst[BATCH];
	uint8_t out_buf[BATCH][WL_RTP_LEN];
	GPtrArray *calls;
	GPtrArray *direct;
	/* WebRTC calls past DTLS: their sockets in one epoll set, the context watches only it */
	int epfd;
	GMainContext *park;   /* never iterated: libnice's sources of those sockets wait here */
	GMainContext *agents; /* libnice's agents (timers, signals), iterated every AGENTS_US */
	gint64 agents_due;
	struct wl_stats st;
};

struct epoll_source {
	GSource source;
	struct wl_thread *th;
};

GMainContext *wl_thread_context(struct wl_thread *th)
{
	return th->ctx;
}

struct wl_stats *wl_thread_stats(struct wl_thread *th)
{
	return &th->st;
}

int wl_thread_epoll(struct wl_thread *th)
{
	return th->epfd;
}

GMainContext *wl_thread_park(struct wl_thread *th)
{
	return th->park;
}

GMainContext *wl_thread_agents(struct wl_thread *th)
{
	return th->agents;
}

static int udp_socket(struct sockaddr_in *bound)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int buf = 8 << 20;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		close(fd);
		return -1;
	}
	if (bound)
		*bound = a;
	return fd;
}

/* The value after PREFIX on the first line of SDP that starts with it; "" when none. */
int wl_sdp_value(const char *sdp, const char *prefix, char *out, size_t cap)
{
	size_t plen = strlen(prefix);
	const char *p = sdp;

	while (p && *p) {
		if (!strncmp(p, prefix, plen)) {
			size_t n = strcspn(p + plen, "\r\n");
			if (n >= cap)
				return EMSGSIZE;
			memcpy(out, p + plen, n);
			out[n] = 0;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	out[0] = 0;
	return ENOENT;
}

void wl_rtp_build(struct wl_call *c, uint8_t *pkt, gint64 now)
{
	uint32_t idx = (uint32_t)c->idx, magic = WL_MAGIC;

	pkt[0] = 0x80;
	pkt[1] = 0; /* PCMU */
	pkt[2] = (uint8_t)(c->seq >> 8);
	pkt[3] = (uint8_t)c->seq;
	pkt[4] = (uint8_t)(c->ts >> 24);
	pkt[5] = (uint8_t)(c->ts >> 16);
	pkt[6] = (uint8_t)(c->ts >> 8);
	pkt[7] = (uint8_t)c->ts;
	pkt[8] = (uint8_t)(c->ssrc >> 24);
	pkt[9] = (uint8_t)(c->ssrc >> 16);
	pkt[10] = (uint8_t)(c->ssrc >> 8);
	pkt[11] = (uint8_t)c->ssrc;
	memset(pkt + 12, 0xff, WL_RTP_LEN - 12); /* µ-law silence */
	memcpy(pkt + 12, &now, 8);
	memcpy(pkt + 20, &idx, 4);
	memcpy(pkt + 24, &magic, 4);
	c->seq++;
	c->ts += 160;
}

static bool in_window(gint64 t)
{
	gint64 s = __atomic_load_n(&wl_win_start, __ATOMIC_ACQUIRE);

	return s && t >= s && t < __atomic_load_n(&wl_win_end, __ATOMIC_ACQUIRE);
}

void wl_rtp_received(struct wl_thread *th, struct wl_call *c, const uint8_t *pkt, int len)
{
	gint64 now = g_get_monotonic_time(), sent;
	uint32_t idx, magic;
	uint64_t rtt;

	if (len < 28)
		return;
	memcpy(&sent, pkt + 12, 8);
	memcpy(&idx, pkt + 20, 4);
	memcpy(&magic, pkt + 24, 4);
	if (magic != WL_MAGIC || sent > now)
		return;
	rtt = (uint64_t)(now - sent);
	if (rtt >= WL_HIST_US)
		rtt = WL_HIST_US - 1;
	if (!c) {
		if (in_window(sent)) {
			th->st.direct_recv++;
			th->st.hist_direct[rtt]++;
		}
		return;
	}
	th->st.recv_all++;
	if (!__atomic_load_n(&wl_win_start, __ATOMIC_ACQUIRE))
		th->st.setup_pkts++;
	if (!g_atomic_int_get(&c->flowing)) {
		c->t_first_echo = now;
		g_atomic_int_set(&c->flowing, 1);
		g_atomic_int_inc(&wl_flowing);
	}
	if (in_window(sent)) {
		c->win_recv++;
		th->st.recv++;
		th->st.hist[rtt]++;
	}
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct wl_thread *th = data;
	static __thread uint8_t bufs[BATCH][WL_PKT_MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];

	(void)cond;
	for (int round = 0; round < 16; round++) {
		int n;

		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
			msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i],
				                                 .msg_iovlen = 1 } };
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			uint32_t idx;

			if (msgs[i].msg_len < 28)
				continue;
			memcpy(&idx, bufs[i] + 20, 4);
			if (idx & DIRECT_FLAG || idx < (uint32_t)wl_opt.calls)
				wl_rtp_received(th, idx & DIRECT_FLAG ? NULL : &wl_calls[idx],
				                bufs[i], (int)msgs[i].msg_len);
		}
		if (n < BATCH)
			break;
	}
	return G_SOURCE_CONTINUE;
}

static void flush_out(struct wl_thread *th)
{
	int done = 0;

	for (int tries = 0; tries < 4 && done < th->out_n; tries++) {
		int n = sendmmsg(th->fd, th->out_msg + done, (unsigned)(th->out_n - done), 0);
		if (n <= 0)
			break;
		done += n;
	}
	th->out_n = 0;
}

/* Queues one packet of the shared socket; a full batch goes out at once. */
static uint8_t *out_slot(struct wl_thread *th, const struct sockaddr_in *dst)
{
	int i = th->out_n++;

	th->out_dst[i] = *dst;
	th->out_iov[i] = (struct iovec){ th->out_buf[i], WL_RTP_LEN };
	th->out_msg[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &th->out_dst[i],
		                                        .msg_namelen = sizeof(*dst),
		                                        .msg_iov = &th->out_iov[i],
		                                        .msg_iovlen = 1 } };
	return th->out_buf[i];
}

static void send_one(struct wl_thread *th, struct wl_call *c, gint64 now)
{
	uint8_t pkt[WL_RTP_LEN + WL_SRTP_TRAILER];
	bool direct = (uint32_t)c->idx & DIRECT_FLAG;

	if (wl_opt.mode == WL_WEBRTC && !direct) {
		wl_rtp_build(c, pkt, now);
		wl_rtc_send(c, pkt, WL_RTP_LEN);
	} else {
		wl_rtp_build(c, out_slot(th, &c->dst), now);
		if (th->out_n == BATCH)
			flush_out(th);
	}
	if (direct) {
		if (in_window(now))
			th->st.direct_sent++;
		return;
	}
	th->st.sent_all++;
	if (!__atomic_load_n(&wl_win_start, __ATOMIC_ACQUIRE))
		th->st.setup_pkts++;
	if (in_window(now)) {
		c->win_sent++;
		th->st.sent++;
	}
}

#define PROBE_US (200 * 1000)

static void pace(struct wl_thread *th, struct wl_call *c, gint64 now)
{
	/*
	 * While calls are still being set up, a call that has media sends one packet every
	 * 200 ms until its first echo is back (the setup time), and streams only once every
	 * call is up: rtcgate's CPU in the setup phase is then the setups', not the media's.
	 */
	if (!__atomic_load_n(&wl_win_start, __ATOMIC_ACQUIRE) &&
	    !((uint32_t)c->idx & DIRECT_FLAG)) {
		if (c->next_send <= now && !g_atomic_int_get(&c->flowing)) {
			send_one(th, c, now);
			c->next_send = now + PROBE_US;
		}
		return;
	}
	if (!c->streaming) {
		c->streaming = true;
		c->next_send = now + (gint64)(((uint32_t)c->idx * 997u) % WL_FRAME_US);
		return;
	}
	/* at most a few frames late; after a longer stall start again from now */
	for (int k = 0; k < 3 && c->next_send <= now; k++) {
		send_one(th, c, now);
		c->next_send += WL_FRAME_US;
	}
	if (c->next_send <= now)
		c->next_send = now + WL_FRAME_US;
}

/*
 * GLib visits every source of a context on each wake-up, and a thread wakes for about every
 * datagram: libnice's timers (a few per agent) are on a context of their own, run from the
 * tick (ICE paces its checks at 20 ms; DTLS timers are wl_rtc_tick's).
 */
static void run_agents(struct wl_thread *th, gint64 now)
{
	if (now < th->agents_due)
		return;
	th->agents_due = now + AGENTS_US;
	for (int k = 0; k < 8 && g_main_context_iteration(th->agents, FALSE); k++)
		;
}

static void epoll_drain(struct wl_thread *th)
{
	struct epoll_event ev[EPOLL_MAX];
	int n = epoll_wait(th->epfd, ev, EPOLL_MAX, 0);

	/* a call stops only from an invoke on this context, never inside this loop */
	for (int i = 0; i < n; i++)
		wl_rtc_readable(ev[i].data.ptr);
}

static gboolean on_tick(gpointer data)
{
	struct wl_thread *th = data;
	gint64 now = g_get_monotonic_time();

	if (wl_opt.read_tick) {
		on_readable(th->fd, G_IO_IN, th);
		epoll_drain(th);
	}
	for (guint i = 0; i < th->calls->len; i++) {
		struct wl_call *c = th->calls->pdata[i];

		if (wl_opt.mode == WL_WEBRTC)
			wl_rtc_tick(c, now);
		if (c->sending)
			pace(th, c, now);
	}
	for (guint i = 0; i < th->direct->len; i++)
		pace(th, th->direct->pdata[i], now);
	flush_out(th);
	if (wl_opt.mode == WL_WEBRTC)
		run_agents(th, now);
	return G_SOURCE_CONTINUE;
}

static gboolean epoll_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
	(void)cb;
	(void)data;
	epoll_drain(((struct epoll_source *)src)->th);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs epoll_funcs = { .dispatch = epoll_dispatch };

/*
 * GLib polls every fd of a context on each wake-up (every 1 ms here), which costs O(calls)
 * with a socket per call; the epoll set costs O(ready sockets).
 */
static void epoll_attach(struct wl_thread *th)
{
	struct epoll_source *es;

	th->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (th->epfd < 0)
		g_error("media thread %d: no epoll set", th->id);
	th->park = g_main_context_new();
	th->agents = g_main_context_new();
	es = (struct epoll_source *)g_source_new(&epoll_funcs, sizeof(*es));
	es->th = th;
	g_source_add_unix_fd(&es->source, th->epfd, G_IO_IN);
	/* the dispatch never iterates the context: no need for GLib's recursion guard, which
	 * takes the fd out of the poll set and back in (two wake-up writes) per dispatch */
	g_source_set_can_recurse(&es->source, TRUE);
	if (!wl_opt.read_tick) /* else the tick reads it */
		g_source_attach(&es->source, th->ctx);
	g_source_unref(&es->source);
}

static gpointer thread_main(gpointer data)
{
	struct wl_thread *th = data;

	g_main_context_push_thread_default(th->ctx);
	g_main_loop_run(th->loop);
	g_main_context_pop_thread_default(th->ctx);
	return NULL;
}

struct wl_thread *wl_thread_start(int id)
{
	struct wl_thread *th = g_new0(struct wl_thread, 1);
	GSource *src;
	char name[16];

	th->id = id;
	th->ctx = g_main_context_new();
	th->loop = g_main_loop_new(th->ctx, FALSE);
	th->calls = g_ptr_array_new();
	th->direct = g_ptr_array_new();
	th->fd = udp_socket(&th->addr);
	if (th->fd < 0)
		g_error("media thread %d: no socket", id);
	th->st.hist = g_new0(uint32_t, WL_HIST_US);
	th->st.hist_direct = g_new0(uint32_t, WL_HIST_US);
	if (!wl_opt.read_tick) { /* else the tick reads it */
		src = g_unix_fd_source_new(th->fd, G_IO_IN);
		g_source_set_callback(src, G_SOURCE_FUNC(on_readable), th, NULL);
		g_source_attach(src, th->ctx);
		g_source_unref(src);
	}
	epoll_attach(th);
	src = g_timeout_source_new(1);
	g_source_set_priority(src, G_PRIORITY_HIGH);
	g_source_set_callback(src, on_tick, th, NULL);
	g_source_attach(src, th->ctx);
	g_source_unref(src);
	snprintf(name, sizeof(name), "media%d", id);
	th->thread = g_thread_new(name, thread_main, th);
	return th;
}

static gboolean quit_loop(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

void wl_thread_stop(struct wl_thread *th, struct wl_stats *into)
{
	g_main_context_invoke(th->ctx, quit_loop, th->loop);
	g_thread_join(th->thread);
	into->sent += th->st.sent;
	into->recv += th->st.recv;
	into->sent_all += th->st.sent_all;
	into->recv_all += th->st.recv_all;
	into->setup_pkts += th->st.setup_pkts;
	into->direct_sent += th->st.direct_sent;
	into->direct_recv += th->st.direct_recv;
	into->srtp_err += th->st.srtp_err;
	into->dtls_fail += th->st.dtls_fail;
	into->ice_fail += th->st.ice_fail;
	for (int i = 0; i < WL_HIST_US; i++) {
		into->hist[i] += th->st.hist[i];
		into->hist_direct[i] += th->st.hist_direct[i];
	}
	for (guint i = 0; i < th->direct->len; i++) {
		g_free(th->direct->pdata[i]);
	}
	g_ptr_array_free(th->direct, TRUE);
	g_ptr_array_free(th->calls, TRUE);
	close(th->fd);
	g_main_loop_unref(th->loop);
	g_main_context_unref(th->ctx);
	g_main_context_unref(th->park);
	g_main_context_unref(th->agents);
	close(th->epfd); /* empty: every call left it in wl_rtc_free */
	g_free(th->st.hist);
	g_free(th->st.hist_direct);
	g_free(th);
}

/* Reference flows: the same packets straight to the echo peer, on this thread. */
struct direct_add {
	struct wl_thread *th;
	int n;
};

static gboolean direct_add(gpointer data)
{
	struct direct_add *a = data;
	gint64 now = g_get_monotonic_time();

	for (int k = 0; k < a->n; k++) {
		struct wl_call *d = g_new0(struct wl_call, 1);

		d->idx = (int)(DIRECT_FLAG | (uint32_t)k);
		d->dst = (struct sockaddr_in){ .sin_family = AF_INET,
			                       .sin_port = htons((uint16_t)wl_opt.echo_port),
			                       .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		d->ssrc = g_random_int();
		d->next_send = now + (k * 997) % WL_FRAME_US;
		g_ptr_array_add(a->th->direct, d);
	}
	g_free(a);
	return G_SOURCE_REMOVE;
}

void wl_direct_add(struct wl_thread *th, int n)
{
	struct direct_add *a = g_new(struct direct_add, 1);

	a->th = th;
	a->n = n;
	g_main_context_invoke(th->ctx, direct_add, a);
}

static char *plain_offer(struct wl_call *c, int port)
{
	return g_strdup_printf("v=0\r\no=- %d 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
	                       "t=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
	                       "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
	                       "a=ptime:20\r\na=sendrecv\r\n",
	                       c->idx + 1, port);
}

void wl_media_prepare(struct wl_call *c)
{
	c->ssrc = g_random_int();
	c->seq = (uint16_t)g_random_int();
	if (wl_opt.mode == WL_WEBRTC) {
		if (wl_rtc_prepare(c))
			wl_call_failed(c, "ICE agent");
		return;
	}
	c->offer = plain_offer(c, ntohs(c->th->addr.sin_port));
	g_strlcpy(c->profile, "RTP/AVP", sizeof(c->profile));
	wl_offer_ready(c);
}

static void start_sending(struct wl_call *c)
{
	/* the first packet at once (setup time); streaming starts spread over 20 ms */
	c->next_send = g_get_monotonic_time();
	c->sending = true;
}

void wl_media_answer(struct wl_call *c)
{
	char caddr[64], m[64];
	int port = 0;

	g_ptr_array_add(c->th->calls, c);
	if (wl_opt.mode == WL_WEBRTC) {
		if (wl_rtc_answer(c))
			wl_call_failed(c, "answer not usable for WebRTC");
		return;
	}
	if (wl_sdp_value(c->answer, "c=IN IP4 ", caddr, sizeof(caddr)) ||
	    wl_sdp_value(c->answer, "m=audio ", m, sizeof(m)) || sscanf(m, "%d", &port) != 1 ||
	    port <= 0 || port > 65535) {
		wl_call_failed(c, "answer without c= or m=audio");
		return;
	}
	c->dst = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, caddr, &c->dst.sin_addr) != 1) {
		wl_call_failed(c, "answer's c= not IPv4");
		return;
	}
	start_sending(c);
}

/* The WebRTC path calls this once DTLS has its keys. */
void wl_media_flowing(struct wl_call *c)
{
	start_sending(c);
}

void wl_media_stop(struct wl_call *c)
{
	c->sending = false;
	g_ptr_array_remove_fast(c->th->calls, c);
	if (c->rtc)
		wl_rtc_free(c);
}

/* The echo peer: what comes in on the RTP or RTCP port goes back to where it came from. */
static struct {
	int fd[2];
	GThread *thread;
	gint stop;
	uint64_t echoed;
} echo;

static int echo_batch(int fd)
{
	static uint8_t bufs[BATCH][WL_PKT_MAX];
	struct sockaddr_in from[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int n, sent;

	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[i],
			                                 .msg_namelen = sizeof(from[i]),
			                                 .msg_iov = &iov[i],
			                                 .msg_iovlen = 1 } };
	}
	n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++)
		iov[i].iov_len = msgs[i].msg_len;
	sent = sendmmsg(fd, msgs, (unsigned)n, MSG_DONTWAIT);
	if (sent > 0)
		echo.echoed += (uint64_t)sent;
	return n;
}

static gpointer echo_main(gpointer data)
{
	struct pollfd p[2] = { { .fd = echo.fd[0], .events = POLLIN },
		               { .fd = echo.fd[1], .events = POLLIN } };

	(void)data;
	while (!g_atomic_int_get(&echo.stop)) {
		if (wl_opt.read_tick) { /* every 1 ms whatever came; see wl_opts.read_tick */
			g_usleep(1000);
			for (int i = 0; i < 2; i++)
				p[i].revents = POLLIN;
		} else if (poll(p, 2, 100) <= 0) {
			continue;
		}
		for (int i = 0; i < 2; i++) {
			/* what a tick gathered may take several batches */
			for (int k = 0; k < 16 && (p[i].revents & POLLIN); k++)
				if (echo_batch(p[i].fd) < BATCH)
					break;
		}
	}
	return NULL;
}

int wl_echo_start(int port)
{
	int buf = 8 << 20;

	for (int i = 0; i < 2; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
			                 .sin_port = htons((uint16_t)(port + i)),
			                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		echo.fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (echo.fd[i] < 0)
			return errno;
		setsockopt(echo.fd[i], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		setsockopt(echo.fd[i], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
		if (bind(echo.fd[i], (struct sockaddr *)&a, sizeof(a)))
			return errno;
	}
	echo.thread = g_thread_new("echo", echo_main, NULL);
	return 0;
}

uint64_t wl_echo_stop(void)
{
	g_atomic_int_set(&echo.stop, 1);
	g_thread_join(echo.thread);
	close(echo.fd[0]);
	close(echo.fd[1]);
	return echo.echoed;
}
