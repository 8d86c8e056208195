/* webrtc_load: N G.711 calls through rtcgate to an RTP echo peer, WebRTC (ICE, DTLS-SRTP) or
 * plain RTP toward rtcgate; prints loss, added one-way latency, rtcgate's CPU per packet and
 * per call, memory per call and setup times (tests/load/README.md, webrtc_bench.sh). */
#include "webrtc_load.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define REG_TIMEOUT_US   (30 * G_USEC_PER_SEC)
#define SETUP_TIMEOUT_US (15 * G_USEC_PER_SEC)
#define BYE_TIMEOUT_US   (5 * G_USEC_PER_SEC)
#define SETTLE_US        (1 * G_USEC_PER_SEC)
#define DRAIN_US         (500 * 1000)
#define IDLE_US          (2 * G_USEC_PER_SEC)
#define CONNECTS_AT_ONCE 50

struct wl_opts wl_opt = {
	.mode = WL_PLAIN,
	.ws_host = "127.0.0.1",
	.calls = 100,
	.rate = 100,
	.seconds = 10,
	.login_prefix = "bench",
	.per_login = 100,
	.threads = 0,
	.direct = 20,
	.held = 2,
};
gint64 wl_win_start, wl_win_end;
gint wl_flowing;
struct wl_call *wl_calls;

enum phase { PH_REGISTER, PH_IDLE, PH_SETUP, PH_HELD, PH_STEADY, PH_DRAIN, PH_BYE, PH_DONE };

struct sample {
	gint64 t;
	double cpu; /* rtcgate utime+stime, s */
	long rss_kib;
};

static struct {
	GMainLoop *loop;
	enum phase phase;
	gint64 t_phase;
	struct wl_thread **threads;
	struct wl_flow **flows;
	struct wl_call *calls;
	int opened, started;
	gint failed;
	struct sample s_start, s_reg, s_idle, s_setup0, s_setup1, s_held, s_win0, s_win1;
	bool win0_taken;
	int exit_code;
} run;

static struct sample sample_rtcgate(void)
{
	struct sample s = { .t = g_get_monotonic_time() };
	char path[64], *text = NULL, *p;
	unsigned long ut = 0, st = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", wl_opt.pid);
	if (g_file_get_contents(path, &text, NULL, NULL) && (p = strrchr(text, ')')) &&
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
		s.cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	g_free(text);
	snprintf(path, sizeof(path), "/proc/%d/status", wl_opt.pid);
	if (g_file_get_contents(path, &text, NULL, NULL) && (p = strstr(text, "VmRSS:")))
		s.rss_kib = strtol(p + 6, NULL, 10);
	g_free(text);
	return s;
}

void wl_call_failed(struct wl_call *c, const char *why)
{
	if (!g_atomic_int_compare_and_exchange(&c->failed, 0, 1))
		return;
	if (g_atomic_int_add(&run.failed, 1) < 5)
		fprintf(stderr, "call %d: %s\n", c->idx, why);
}

static gboolean send_invite(gpointer data)
{
	struct wl_call *c = data;

	if (!g_atomic_int_get(&c->failed))
		wl_sip_invite(c);
	return G_SOURCE_REMOVE;
}

void wl_offer_ready(struct wl_call *c)
{
	g_main_context_invoke(NULL, send_invite, c);
}

static gboolean media_prepare(gpointer data)
{
	wl_media_prepare(data);
	return G_SOURCE_REMOVE;
}

static gboolean media_stop(gpointer data)
{
	wl_media_stop(data);
	return G_SOURCE_REMOVE;
}

static void enter(enum phase ph)
{
	run.phase = ph;
	run.t_phase = g_get_monotonic_time();
}

static void tick_register(gint64 now)
{
	int failed, reg = wl_flows_registered(&failed);

	while (run.opened < wl_opt.calls && run.opened - reg - failed < CONNECTS_AT_ONCE) {
		run.flows[run.opened] = wl_flow_open(run.opened);
		run.opened++;
	}
	if (reg + failed < wl_opt.calls && now - run.t_phase < REG_TIMEOUT_US)
		return;
	printf("flows: %d registered, %d failed (%.1f s)\n", reg, failed,
	       (double)(now - run.t_phase) / 1e6);
	run.s_reg = sample_rtcgate();
	enter(PH_IDLE);
}

static void tick_setup(gint64 now)
{
	gint64 due =
	        MIN((gint64)wl_opt.calls, (now - run.t_phase) * wl_opt.rate / G_USEC_PER_SEC + 1);
	int failed = g_atomic_int_get(&run.failed);

	for (; run.started < due; run.started++) {
		struct wl_call *c = &run.calls[run.started];

		c->idx = run.started;
		c->flow = run.flows[run.started];
		c->th = run.threads[run.started % wl_opt.threads];
		if (!c->flow || !wl_flow_ready(c->flow)) {
			wl_call_failed(c, "flow not registered");
			continue;
		}
		g_main_context_invoke(wl_thread_context(c->th), media_prepare, c);
	}
	if (run.started < wl_opt.calls ||
	    (g_atomic_int_get(&wl_flowing) + failed < wl_opt.calls &&
	     now - run.t_phase <
	             (gint64)wl_opt.calls * G_USEC_PER_SEC / wl_opt.rate + SETUP_TIMEOUT_US))
		return;
	run.s_setup1 = sample_rtcgate();
	printf("setup: %d of %d calls flowing, %d failed (%.1f s)\n", g_atomic_int_get(&wl_flowing),
	       wl_opt.calls, failed, (double)(now - run.t_phase) / 1e6);
	enter(PH_HELD);
}

/* Every call up and silent for HELD_US: what a call costs rtcgate without media (ICE
 * keepalives and consent, timers); then streaming starts and the window follows. */
static void tick_held(gint64 now)
{
	if (now - run.t_phase < (gint64)wl_opt.held * G_USEC_PER_SEC)
		return;
	run.s_held = sample_rtcgate();
	__atomic_store_n(&wl_win_end, now + SETTLE_US + (gint64)wl_opt.seconds * G_USEC_PER_SEC,
	                 __ATOMIC_RELEASE);
	__atomic_store_n(&wl_win_start, now + SETTLE_US, __ATOMIC_RELEASE);
	enter(PH_STEADY);
}

static void stop_calls(void)
{
	for (int i = 0; i < run.started; i++) {
		struct wl_call *c = &run.calls[i];

		if (c->th)
			g_main_context_invoke(wl_thread_context(c->th), media_stop, c);
		if (c->invited)
			wl_sip_bye(c);
		else
			c->bye_done = true;
	}
}

static gboolean tick(gpointer data)
{
	gint64 now = g_get_monotonic_time();
	int done = 0;

	(void)data;
	switch (run.phase) {
	case PH_REGISTER: tick_register(now); break;
	case PH_IDLE:
		/* rtcgate's own cost with every flow registered and no call: timers, GLib, lws */
		if (now - run.t_phase >= IDLE_US) {
			run.s_idle = sample_rtcgate();
			run.s_setup0 = run.s_idle;
			enter(PH_SETUP);
		}
		break;
	case PH_SETUP: tick_setup(now); break;
	case PH_HELD: tick_held(now); break;
	case PH_STEADY:
		if (!run.win0_taken && now >= wl_win_start) {
			run.s_win0 = sample_rtcgate();
			run.win0_taken = true;
		}
		if (now >= wl_win_end) {
			run.s_win1 = sample_rtcgate();
			enter(PH_DRAIN);
		}
		break;
	case PH_DRAIN:
		if (now - run.t_phase >= DRAIN_US) {
			stop_calls();
			enter(PH_BYE);
		}
		break;
	case PH_BYE:
		for (int i = 0; i < run.started; i++)
			done += run.calls[i].bye_done;
		if (done == run.started || now - run.t_phase >= BYE_TIMEOUT_US) {
			printf("bye: %d of %d calls ended\n", done, run.started);
			enter(PH_DONE);
			g_main_loop_quit(run.loop);
		}
		break;
	case PH_DONE: break;
	}
	return G_SOURCE_CONTINUE;
}

/* The nearest-rank percentile of a histogram in µs; -1 when empty. */
static long hist_pct(const uint32_t *h, double p)
{
	uint64_t total = 0, want, acc = 0;

	for (int i = 0; i < WL_HIST_US; i++)
		total += h[i];
	if (!total)
		return -1;
	want = (uint64_t)(p / 100.0 * (double)total + 0.999999);
	want = want ? want : 1;
	for (int i = 0; i < WL_HIST_US; i++) {
		acc += h[i];
		if (acc >= want)
			return i;
	}
	return WL_HIST_US - 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report_setup(const struct wl_stats *st)
{
	double *ms = g_new(double, (gsize)wl_opt.calls + 1);
	int n = 0;
	double cpu = run.s_setup1.cpu - run.s_setup0.cpu;
	double wall = (double)(run.s_setup1.t - run.s_setup0.t) / 1e6;
	double win_pkts = (double)(st->sent + st->recv);
	double cpu_pkt = win_pkts > 0 ? (run.s_win1.cpu - run.s_win0.cpu) / win_pkts : 0;
	/* packets relayed during the setup phase: each sent one crosses once, each echo once */
	double setup_pkts = (double)st->setup_pkts;
	double media_cpu = cpu_pkt * setup_pkts;
	int up = 0;
	GHashTable *profiles = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter it;
	gpointer k, v;

	for (int i = 0; i < run.started; i++) {
		struct wl_call *c = &run.calls[i];

		if (!g_atomic_int_get(&c->flowing))
			continue;
		up++;
		ms[n++] = (double)(c->t_first_echo - c->t_invite) / 1000.0;
		g_hash_table_insert(
		        profiles, c->profile,
		        GINT_TO_POINTER(GPOINTER_TO_INT(g_hash_table_lookup(profiles, c->profile)) +
		                        1));
	}
	qsort(ms, (size_t)n, sizeof(*ms), cmp_double);
	printf("calls: %d started, %d with media flowing, %d failed (dtls %" G_GUINT64_FORMAT
	       ", ice %" G_GUINT64_FORMAT ", srtp errors %" G_GUINT64_FORMAT ")\n",
	       run.started, up, g_atomic_int_get(&run.failed), st->dtls_fail, st->ice_fail,
	       st->srtp_err);
	printf("profile:");
	g_hash_table_iter_init(&it, profiles);
	while (g_hash_table_iter_next(&it, &k, &v))
		printf(" %s=%d", (const char *)k, GPOINTER_TO_INT(v));
	printf("\n");
	if (n)
		printf("setup INVITE->first echo ms: p50 %.1f p99 %.1f max %.1f\n", ms[(n - 1) / 2],
		       ms[(size_t)((n * 99 + 99) / 100) - 1], ms[n - 1]);
	printf("setup phase: %.1f s at %d/s, rtcgate cpu %.2f s (%.0f%% of a core); per call "
	       "%.0f us, less the media relayed meanwhile (%.0f packets at %.2f us) %.0f us -> "
	       "%.0f "
	       "call setups per core-second\n",
	       wall, wl_opt.rate, cpu, wall > 0 ? 100 * cpu / wall : 0, up ? 1e6 * cpu / up : 0,
	       setup_pkts, cpu_pkt * 1e6, up ? 1e6 * (cpu - media_cpu) / up : 0,
	       cpu - media_cpu > 0 ? up / (cpu - media_cpu) : 0);
	g_hash_table_destroy(profiles);
	g_free(ms);
}

static void report_steady(const struct wl_stats *st, uint64_t echoed)
{
	double wall = (double)(run.s_win1.t - run.s_win0.t) / 1e6;
	double cpu = run.s_win1.cpu - run.s_win0.cpu;
	double share = wall > 0 ? cpu / wall : 0;
	double pkts = (double)(st->sent + st->recv);
	double loss = st->sent ? 1.0 - (double)st->recv / (double)st->sent : 0;
	double dloss =
	        st->direct_sent ? 1.0 - (double)st->direct_recv / (double)st->direct_sent : 0;
	long t50 = hist_pct(st->hist, 50), t99 = hist_pct(st->hist, 99),
	     tmax = hist_pct(st->hist, 100);
	long d50 = hist_pct(st->hist_direct, 50), d99 = hist_pct(st->hist_direct, 99);
	int up = g_atomic_int_get(&wl_flowing);

	printf("steady %.1f s: sent %" G_GUINT64_FORMAT " echoed back %" G_GUINT64_FORMAT
	       " loss %.4f%%; direct reference loss %.4f%%; echo peer echoed %" G_GUINT64_FORMAT
	       " in all\n",
	       wall, st->sent, st->recv, 100 * loss, 100 * dloss, echoed);
	int none = 0, some = 0;
	for (int i = 0; i < run.started; i++) {
		const struct wl_call *c = &run.calls[i];

		none += c->win_sent && !c->win_recv;
		some += c->win_recv && c->win_recv < c->win_sent;
	}
	if (none || some) {
		printf("calls that lost every packet in the window: %d, some: %d; loss by "
		       "generator "
		       "thread:",
		       none, some);
		for (int t = 0; t < wl_opt.threads; t++) {
			uint64_t ts = 0, tr = 0;

			for (int i = t; i < run.started; i += wl_opt.threads) {
				ts += run.calls[i].win_sent;
				tr += run.calls[i].win_recv;
			}
			printf(" %.1f%%", ts ? 100.0 * (double)(ts - tr) / (double)ts : 0);
		}
		printf("\n");
	}
	/* a call relays 100 packets/s (50 each way): the per-packet cost, unlike the share,
	 * holds when the generator fell behind its pacing */
	printf("rtcgate cpu %.2f s = %.1f%% of a core; %.2f us per relayed packet (%.0f pkt/s) -> "
	       "%.0f calls per core at 100 pkt/s per call; %.3f%% of a core per call up -> "
	       "%.0f%s\n",
	       cpu, 100 * share, pkts > 0 ? 1e6 * cpu / pkts : 0, pkts / (wall > 0 ? wall : 1),
	       cpu > 0 ? pkts / cpu / 100 : 0, up ? 100 * share / up : 0,
	       share > 0 ? up / share : 0,
	       loss < 0.001 ? " (loss < 0.1%)" : " (LOSS >= 0.1%: not sustained)");
	if (run.s_idle.t > run.s_reg.t) {
		double idle = (run.s_idle.cpu - run.s_reg.cpu) /
		              ((double)(run.s_idle.t - run.s_reg.t) / 1e6);
		double net = share - idle;

		printf("rtcgate idle with %d flows and no call: %.1f%% of a core; net of it %.2f "
		       "us "
		       "per relayed packet -> %.0f calls per core\n",
		       wl_opt.calls, 100 * idle, pkts > 0 ? 1e6 * net * wall / pkts : 0,
		       net > 0 ? pkts / (net * wall) / 100 : 0);
	}
	if (run.s_held.t > run.s_setup1.t && up) {
		double held = (run.s_held.cpu - run.s_setup1.cpu) /
		              ((double)(run.s_held.t - run.s_setup1.t) / 1e6);

		printf("rtcgate with %d calls up and no media for %.1f s: %.1f%% of a core, %.1f "
		       "us of "
		       "CPU per call-second\n",
		       up, (double)(run.s_held.t - run.s_setup1.t) / 1e6, 100 * held,
		       1e6 * held / up);
	}
	printf("RTT us through rtcgate p50 %ld p99 %ld max %ld; direct to echo p50 %ld p99 %ld\n",
	       t50, t99, tmax, d50, d99);
	if (t50 >= 0 && d50 >= 0)
		printf("added one-way latency us: p50 %.0f p99 %.0f\n", (double)(t50 - d50) / 2,
		       (double)(t99 - d99) / 2);
	printf("rtcgate RSS KiB: start %ld, %d flows registered %ld, calls up %ld -> %.1f KiB per "
	       "call (%.1f with its flow)\n",
	       run.s_start.rss_kib, wl_opt.calls, run.s_reg.rss_kib, run.s_win1.rss_kib,
	       up ? (double)(run.s_win1.rss_kib - run.s_reg.rss_kib) / up : 0,
	       up ? (double)(run.s_win1.rss_kib - run.s_start.rss_kib) / up : 0);
}

static void usage(void)
{
	fprintf(stderr, "usage: webrtc_load --ws-port P --pbx-port P --echo-port P --pid PID "
	                "[--mode plain|webrtc] [--calls N] [--rate N] [--seconds S] [--threads N] "
	                "[--direct N] [--held S] [--login-prefix bench] [--per-login 100] "
	                "[--read event|tick]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", 1, NULL, 'm' },
		{ "ws-port", 1, NULL, 'w' },
		{ "pbx-port", 1, NULL, 'x' },
		{ "echo-port", 1, NULL, 'e' },
		{ "calls", 1, NULL, 'n' },
		{ "rate", 1, NULL, 'r' },
		{ "seconds", 1, NULL, 's' },
		{ "pid", 1, NULL, 'p' },
		{ "threads", 1, NULL, 't' },
		{ "direct", 1, NULL, 'd' },
		{ "login-prefix", 1, NULL, 'l' },
		{ "per-login", 1, NULL, 'L' },
		{ "held", 1, NULL, 'H' },
		{ "read", 1, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'm': wl_opt.mode = !strcmp(optarg, "webrtc") ? WL_WEBRTC : WL_PLAIN; break;
		case 'w': wl_opt.ws_port = atoi(optarg); break;
		case 'x': wl_opt.pbx_port = atoi(optarg); break;
		case 'e': wl_opt.echo_port = atoi(optarg); break;
		case 'n': wl_opt.calls = atoi(optarg); break;
		case 'r': wl_opt.rate = atoi(optarg); break;
		case 's': wl_opt.seconds = atoi(optarg); break;
		case 'p': wl_opt.pid = atoi(optarg); break;
		case 't': wl_opt.threads = atoi(optarg); break;
		case 'd': wl_opt.direct = atoi(optarg); break;
		case 'l': wl_opt.login_prefix = optarg; break;
		case 'L': wl_opt.per_login = atoi(optarg); break;
		case 'H': wl_opt.held = atoi(optarg); break;
		case 'R': wl_opt.read_tick = !strcmp(optarg, "tick"); break;
		default: usage();
		}
	}
	if (!wl_opt.ws_port || !wl_opt.pbx_port || !wl_opt.echo_port || !wl_opt.pid ||
	    wl_opt.calls < 1 || wl_opt.calls > 20000 || wl_opt.rate < 1 || wl_opt.seconds < 1 ||
	    wl_opt.threads < 0 || wl_opt.threads > 16 || wl_opt.per_login < 1 ||
	    wl_opt.direct < 0 || wl_opt.held < 0 || wl_opt.held > 600)
		usage();
	/*
	 * by default a thread per 100 WebRTC calls, chosen when GLib polled every libnice socket
	 * of a context on each wake-up (before the fast path: webrtc_load_rtc.c fast_start)
	 */
	if (!wl_opt.threads)
		wl_opt.threads =
		        wl_opt.mode == WL_WEBRTC ? CLAMP((wl_opt.calls + 99) / 100, 1, 16) : 1;
}

int main(int argc, char **argv)
{
	struct wl_stats st = { 0 };
	struct rusage ru;
	uint64_t echoed;
	int rc;

	parse_args(argc, argv);
	if (wl_opt.mode == WL_WEBRTC && (rc = wl_rtc_global_init())) {
		fprintf(stderr, "DTLS/SRTP set-up failed: %s\n", strerror(rc));
		return 1;
	}
	run.loop = g_main_loop_new(NULL, FALSE);
	run.flows = g_new0(struct wl_flow *, (gsize)wl_opt.calls);
	run.calls = g_new0(struct wl_call, (gsize)wl_opt.calls);
	wl_calls = run.calls;
	run.threads = g_new0(struct wl_thread *, (gsize)wl_opt.threads);
	if ((rc = wl_echo_start(wl_opt.echo_port)) || (rc = wl_pbx_start(wl_opt.pbx_port)) ||
	    (rc = wl_sip_start(run.loop))) {
		fprintf(stderr, "start: %s\n", strerror(rc));
		return 1;
	}
	for (int i = 0; i < wl_opt.threads; i++)
		run.threads[i] = wl_thread_start(i);
	if (wl_opt.direct)
		wl_direct_add(run.threads[0], wl_opt.direct);
	run.s_start = sample_rtcgate();
	printf("mode %s, %d calls at %d/s, %d s steady, %d generator thread(s), %d direct "
	       "reference flows; rtcgate pid %d\n",
	       wl_opt.mode == WL_WEBRTC ? "webrtc" : "plain", wl_opt.calls, wl_opt.rate,
	       wl_opt.seconds, wl_opt.threads, wl_opt.direct, wl_opt.pid);
	enter(PH_REGISTER);
	g_timeout_add(5, tick, NULL);
	g_main_loop_run(run.loop);

	st.hist = g_new0(uint32_t, WL_HIST_US);
	st.hist_direct = g_new0(uint32_t, WL_HIST_US);
	for (int i = 0; i < wl_opt.threads; i++)
		wl_thread_stop(run.threads[i], &st);
	echoed = wl_echo_stop();
	report_setup(&st);
	report_steady(&st, echoed);
	getrusage(RUSAGE_SELF, &ru);
	printf("generator cpu %.2f s (user %.2f, sys %.2f)\n",
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
	       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	wl_pbx_stop();
	wl_sip_stop();
	for (int i = 0; i < wl_opt.calls; i++) {
		g_free(run.calls[i].offer);
		g_free(run.calls[i].answer);
	}
	g_free(run.calls);
	g_free(run.flows);
	g_free(run.threads);
	g_main_loop_unref(run.loop);
	g_free(st.hist);
	g_free(st.hist_direct);
	return run.exit_code;
}
