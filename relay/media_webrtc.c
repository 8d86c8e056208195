/* Leg A as a WebRTC leg: ICE credentials and candidates for SDP, the worker's glue to leg B,
 * events. */
#include <errno.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/epoll.h>

#include "core/log.h"
#include "core/worker.h"
#include "ice/ice_leg.h"
#include "relay/rtp_priv.h"
#include "relay/rtp_rewrite.h"

const char *const media_event_names[] = {
	[MEDIA_EV_CONNECTED] = "connected",
	[MEDIA_EV_FAILED] = "failed",
	[MEDIA_EV_CONSENT_LOST] = "consent_lost",
};

#define ICE_FDS 4 /* libnice sockets watched per leg: one UDP host socket in practice */

/* RFC 8445 §5.1.2.1 for our one host candidate: type 126, local 65535, component 1. */
#define HOST_PRIORITY ((126u << 24) | (65535u << 8) | (256u - 1u))

/* The worker's side of a WebRTC leg A. */
struct media_webrtc {
	struct media_session *s;
	struct ice_leg *leg;
	uint8_t to_b[128], to_a[128]; /* payload type maps, identity for what the map leaves out */
	bool send, recv;              /* RTP the browser may send, may get (RTCP always passes) */
	/* one continuous stream each way across re-INVITEs (SSRC, sequence, timestamp) */
	struct rtp_rewrite rw_to_a, rw_to_b;
	struct rtp_sock ice[ICE_FDS]; /* libnice's sockets in the worker's epoll set (not ours) */
	unsigned n_ice;
};

/* --- events, to the control thread ---------------------------------------------------- */

struct event_msg {
	media_event_fn fn;
	void *user;
	uint32_t id;
	enum media_event ev;
	char reason[160];
};

static gboolean deliver_event(gpointer data)
{
	struct event_msg *m = data;

	m->fn(m->user, m->id, m->ev, m->reason);
	return G_SOURCE_REMOVE;
}

/* Any thread: an idle source on the control thread's (default) context. */
static void post_event(const struct media_pool *p, uint32_t id, enum media_event ev,
                       const char *reason)
{
	struct event_msg *m;
	GSource *src;

	if (!p->ev_fn)
		return;
	m = g_new0(struct event_msg, 1);
	*m = (struct event_msg){ .fn = p->ev_fn, .user = p->ev_user, .id = id, .ev = ev };
	g_strlcpy(m->reason, reason, sizeof(m->reason));
	src = g_idle_source_new();
	g_source_set_callback(src, deliver_event, m, g_free);
	g_source_attach(src, g_main_context_default());
	g_source_unref(src);
}

/* --- the packet path, on the worker -------------------------------------------------- */

static void set_pt(uint8_t *rtp, const uint8_t map[128])
{
	rtp[1] = (uint8_t)((rtp[1] & 0x80) | map[rtp[1] & 0x7f]);
}

/*
 * A packet toward the browser (leg A), from leg from (B, or A itself when
 * echoed): counted on leg A once sent with its length before SRTP (queued
 * on the ring: from its completion), else a drop on leg from.
 */
static void tally_to_a(struct media_session *s, enum ice_leg_sent r, int kind, size_t len, int from)
{
	switch (r) {
	case ICE_LEG_SENT: rtp_count(s, MEDIA_LEG_A, kind, true, len); break;
	case ICE_LEG_QUEUED: break;
	case ICE_LEG_NOT_CONNECTED: rtp_drop(s, from, MEDIA_DROP_NOT_CONNECTED); break;
	case ICE_LEG_SRTP_REFUSED: rtp_drop(s, from, MEDIA_DROP_SRTP_ERROR); break;
	case ICE_LEG_SEND_FAILED: rtp_drop(s, from, MEDIA_DROP_SEND_ERROR); break;
	}
}

/* A plain packet from the browser: to leg B's socket of its kind, or back (echo). */
static void on_media(void *user, uint8_t *buf, size_t len, size_t cap, bool rtcp)
{
	struct media_webrtc *w = user;
	struct media_session *s = w->s;
	int kind = rtcp ? RTP_KIND_RTCP : RTP_KIND_RTP;
	const struct rtp_sock *out = &s->sock[MEDIA_LEG_B][kind];
	const struct sockaddr *to;
	int64_t now = g_get_monotonic_time();

	rtp_count(s, MEDIA_LEG_A, kind, false, len);
	if (rtcp)
		media_quality_rtcp(s, MEDIA_LEG_A, s->echo ? MEDIA_LEG_A : MEDIA_LEG_B, buf, len,
		                   now);
	else
		media_quality_rtp(s, MEDIA_LEG_A, buf, len, now);
	if (s->echo) {
		if (!rtcp && !w->recv)
			return; /* the echo answered a hold: it sends nothing */
		tally_to_a(s, ice_leg_send(w->leg, buf, len, cap, rtcp), kind, len, MEDIA_LEG_A);
		return;
	}
	if (!rtcp && !w->send)
		return; /* the browser is on hold (recvonly, inactive): not to the PBX */
	if (!rtcp) {
		set_pt(buf, w->to_b);
		if (!rtp_rewrite_rtp(&w->rw_to_b, buf, len, now))
			return; /* late, from the browser's previous source */
	} else {
		rtp_rewrite_rtcp(&w->rw_to_b, &w->rw_to_a, buf, len);
	}
	to = rtp_latch_remote(&out->latch);
	if (!to) {
		rtp_drop(s, MEDIA_LEG_A, MEDIA_DROP_NO_REMOTE);
		return;
	}
	if (!rtp_srtp_to_b(s, MEDIA_LEG_A, kind, buf, &len, cap))
		return;
	rtp_send(s->rw, s, MEDIA_LEG_A, out, buf, len, to);
}

void media_webrtc_to_a(struct media_session *s, int kind, uint8_t *const *bufs, const size_t *lens,
                       int n)
{
	struct media_webrtc *w = s->web;
	uint8_t *buf[RTP_BATCH];
	size_t len[RTP_BATCH];
	bool rtcp[RTP_BATCH];
	enum ice_leg_sent res[RTP_BATCH];
	unsigned m = 0;
	int64_t now = g_get_monotonic_time();

	for (int i = 0; i < n; i++) {
		size_t l = lens[i];

		if (l + ICE_SRTP_TRAILER_MAX > RTP_DGRAM_MAX) {
			rtp_drop(s, MEDIA_LEG_B, MEDIA_DROP_MALFORMED);
			continue;
		}
		if (kind == RTP_KIND_RTP && !w->recv)
			continue; /* held by the browser: it gets no RTP */
		buf[m] = bufs[i];
		len[m] = l;
		rtcp[m] = kind == RTP_KIND_RTCP;
		if (rtcp[m]) {
			rtp_rewrite_rtcp(&w->rw_to_a, &w->rw_to_b, buf[m], l);
		} else {
			set_pt(buf[m], w->to_a);
			if (!rtp_rewrite_rtp(&w->rw_to_a, buf[m], l, now))
				continue; /* late, from the PBX's previous source */
		}
		m++;
	}
	if (!m)
		return;
	ice_leg_send_batch(w->leg, buf, len, rtcp, m, RTP_DGRAM_MAX, res);
	for (unsigned i = 0; i < m; i++)
		tally_to_a(s, res[i], kind, len[i], MEDIA_LEG_B);
}

static void on_drop(void *user, enum ice_leg_drop why)
{
	static const enum media_drop map[] = {
		[ICE_LEG_DROP_NOT_CONNECTED] = MEDIA_DROP_NOT_CONNECTED,
		[ICE_LEG_DROP_SRTP_AUTH] = MEDIA_DROP_SRTP_AUTH,
		[ICE_LEG_DROP_SRTP_REPLAY] = MEDIA_DROP_SRTP_REPLAY,
		[ICE_LEG_DROP_SRTP_ERROR] = MEDIA_DROP_SRTP_ERROR,
		[ICE_LEG_DROP_MALFORMED] = MEDIA_DROP_MALFORMED,
		[ICE_LEG_DROP_UNCHECKED] = MEDIA_DROP_NOT_LATCHED,
	};
	struct media_webrtc *w = user;

	rtp_drop(w->s, MEDIA_LEG_A, map[why]);
}

static void on_event(void *user, enum ice_leg_event ev, const char *reason)
{
	static const enum media_event map[] = {
		[ICE_LEG_EV_CONNECTED] = MEDIA_EV_CONNECTED,
		[ICE_LEG_EV_FAILED] = MEDIA_EV_FAILED,
		[ICE_LEG_EV_CONSENT_LOST] = MEDIA_EV_CONSENT_LOST,
	};
	struct media_webrtc *w = user;
	struct media_session *s = w->s;

	if (ev == ICE_LEG_EV_CONNECTED || ev == ICE_LEG_EV_PAIR) {
		g_mutex_lock(&s->info_lock);
		ice_leg_describe(w->leg, s->info.profile, sizeof(s->info.profile), s->info.pair,
		                 sizeof(s->info.pair));
		g_mutex_unlock(&s->info_lock);
	}
	if (ev != ICE_LEG_EV_PAIR)
		post_event(s->rw->pool, s->id, map[ev], reason);
}

void media_webrtc_datagram(const struct rtp_sock *k, uint8_t *buf, size_t len, size_t cap, bool cut,
                           const struct sockaddr *src)
{
	ice_leg_fast_input(k->s->web->leg, buf, len, cap, cut, src);
}

/*
 * The fast path's sends on the ring. A media packet counts from its
 * completion, as rtp_send's: taken, sent on leg A with its length before
 * SRTP; refused, a send_error drop on the leg it came from (leg B, or leg A
 * itself when it is echoed: out_sock). STUN and DTLS count nowhere.
 */
static int ring_send(void *user, int fd, const uint8_t *buf, size_t len, const struct sockaddr *to,
                     const struct ice_leg_media *media)
{
	struct media_webrtc *w = user;
	struct media_session *s = w->s;
	struct rtp_tally t;
	int rc;

	if (!media)
		return rtp_uring_send(s->rw, fd, buf, len, to, s, NULL);
	t = (struct rtp_tally){ .from = s->echo ? MEDIA_LEG_A : MEDIA_LEG_B,
		                .leg = MEDIA_LEG_A,
		                .kind = media->rtcp ? RTP_KIND_RTCP : RTP_KIND_RTP,
		                .bytes = media->len };
	rc = rtp_uring_send(s->rw, fd, buf, len, to, s, &t);
	return rc ? rc : EINPROGRESS; /* counted when it completes */
}

/*
 * The fast path took the socket (on) or gave it back to libnice (off): with
 * a ring, the socket moves from the epoll set to a multishot receive, or
 * back. Datagrams the ring read but did not hand over by then are dropped.
 */
static void on_fast(void *user, int fd, bool on)
{
	struct media_webrtc *w = user;
	struct rtp_worker *rw = w->s->rw;

	for (unsigned i = 0; rw->ring && i < w->n_ice; i++) {
		struct rtp_sock *k = &w->ice[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = k };

		if (k->fd != fd || on == (k->rx != NULL))
			continue;
		if (on) {
			rtp_sock_unwatch(rw, k);
			if (rtp_uring_arm(rw, k) == 0)
				continue;
			log_warn(LOG_ICE, "fast path stays on epoll", "session=%u", w->s->id);
		} else {
			rtp_uring_disarm(rw, k);
		}
		epoll_ctl(rw->epfd, EPOLL_CTL_ADD, fd, &ev);
	}
}

/* libnice's sockets readable: a batch into the worker's buffers (free between batches). */
void media_webrtc_readable(struct rtp_worker *rw, const struct rtp_sock *k)
{
	struct media_session *s = k->s;
	uint8_t *bufs[RTP_BATCH];

	for (int i = 0; i < RTP_BATCH; i++)
		bufs[i] = rw->rx_buf[i];
	ice_leg_readable(s->web->leg, k->fd, bufs, RTP_BATCH, RTP_DGRAM_MAX);
}

/* The leg's sockets join the worker's epoll set: no GSource per leg on its context. */
static void watch_ice(struct media_webrtc *w)
{
	struct rtp_worker *rw = w->s->rw;
	int fds[ICE_FDS];

	w->n_ice = ice_leg_fds(w->leg, fds, ICE_FDS);
	for (unsigned i = 0; i < w->n_ice; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->ice[i] };

		w->ice[i] = (struct rtp_sock){ .fd = fds[i], .kind = RTP_KIND_ICE, .s = w->s };
		if (epoll_ctl(rw->epfd, EPOLL_CTL_ADD, fds[i], &ev))
			log_err(LOG_ICE, "cannot watch socket", "session=%u error=%s", w->s->id,
			        g_strerror(errno));
	}
}

/*
 * Out of the epoll set before libnice closes them. Only fds libnice still
 * has: one it closed on a socket error may be another socket's number now.
 */
static void unwatch_ice(struct media_webrtc *w)
{
	int fds[ICE_FDS];
	unsigned n = ice_leg_fds(w->leg, fds, ICE_FDS);

	for (unsigned i = 0; i < w->n_ice; i++) {
		if (w->ice[i].rx) {
			rtp_uring_disarm(w->s->rw, &w->ice[i]);
			continue;
		}
		rtp_ready_forget(w->s->rw, &w->ice[i]);
		for (unsigned j = 0; j < n; j++) {
			if (fds[j] == w->ice[i].fd)
				epoll_ctl(w->s->rw->epfd, EPOLL_CTL_DEL, fds[j], NULL);
		}
	}
	w->n_ice = 0;
}

void media_webrtc_close(struct media_session *s)
{
	unwatch_ice(s->web);
	rtp_uring_submit(s->rw); /* fast-path sends name libnice's fd, which it closes now */
	ice_leg_free(s->web->leg);
	g_free(s->web);
	s->web = NULL;
}

/* --- messages from the control thread ------------------------------------------------ */

struct local_msg {
	struct media_session *s;
	char ufrag[MEDIA_ICE_UFRAG_LEN], pwd[MEDIA_ICE_PWD_LEN];
	struct sockaddr_storage bind; /* the local address libnice binds, leg A's RTP port */
};

static void identity_maps(struct media_webrtc *w)
{
	for (int i = 0; i < 128; i++)
		w->to_a[i] = w->to_b[i] = (uint8_t)i;
}

/* One timer per worker for the consent of all its legs, not a GSource per leg on its context. */
static gboolean web_tick(gpointer data)
{
	struct rtp_worker *rw = data;
	int64_t now = g_get_monotonic_time();
	GHashTableIter it;
	gpointer key;

	/* a leg that ends posts an event; sessions are freed only from the mailbox */
	g_hash_table_iter_init(&it, rw->sessions);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		struct media_session *s = key;

		if (s->web)
			ice_leg_tick(s->web->leg, now);
	}
	return G_SOURCE_CONTINUE;
}

/*
 * The legs' libnice agents and timers live on a context of their own, which
 * the worker iterates from one timer: each agent keeps sources (keepalive and
 * check timers) that GLib would otherwise sweep on every wake-up of the
 * worker, i.e. for nearly every packet, at a cost in proportion to the legs.
 * libnice's timers are 20 ms and more; MEDIA_ICE_PUMP_MS late is within its
 * pacing. Datagrams never wait on it: the sockets are in the epoll set.
 */
#define MEDIA_ICE_PUMP_MS 10  /* while a leg sets up or restarts */
#define MEDIA_ICE_IDLE_MS 250 /* every leg settled (ice_leg_settled): keepalives only */

static bool legs_settled(struct rtp_worker *rw)
{
	GHashTableIter it;
	gpointer key;

	g_hash_table_iter_init(&it, rw->sessions);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		const struct media_session *s = key;

		if (s->web && !ice_leg_settled(s->web->leg))
			return false;
	}
	return true;
}

static gboolean ice_pump(gpointer data)
{
	struct rtp_worker *rw = data;
	unsigned ms;

	g_main_context_iteration(rw->ice_ctx, FALSE);
	/* held calls cost no 100 wake-ups a second each worker: 4 once every leg settled */
	ms = legs_settled(rw) ? MEDIA_ICE_IDLE_MS : MEDIA_ICE_PUMP_MS;
	g_source_set_ready_time(rw->ice_pump, g_get_monotonic_time() + 1000 * (gint64)ms);
	return G_SOURCE_CONTINUE;
}

static gboolean pump_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
	(void)src;
	return cb(data);
}

static GSourceFuncs pump_funcs = { .dispatch = pump_dispatch };

/* A leg starts, restarts or learns candidates: its agent's timers run at full pace again. */
static void ice_pump_kick(struct rtp_worker *rw)
{
	gint64 soon = g_get_monotonic_time() + 1000 * MEDIA_ICE_PUMP_MS;

	if (rw->ice_pump && g_source_get_ready_time(rw->ice_pump) > soon)
		g_source_set_ready_time(rw->ice_pump, soon);
}

static void web_tick_start(struct rtp_worker *rw)
{
	unsigned ms = rw->pool->consent_ms / ICE_LEG_CONSENT_TICKS;

	if (rw->web_tick)
		return;
	rw->ice_ctx = g_main_context_new();
	rw->ice_pump = g_source_new(&pump_funcs, sizeof(GSource));
	g_source_set_callback(rw->ice_pump, ice_pump, rw, NULL);
	g_source_set_ready_time(rw->ice_pump, g_get_monotonic_time() + 1000 * MEDIA_ICE_PUMP_MS);
	g_source_attach(rw->ice_pump, worker_context(rw->w));
	rw->web_tick = g_timeout_source_new(ms ? ms : 1);
	g_source_set_callback(rw->web_tick, web_tick, rw, NULL);
	g_source_attach(rw->web_tick, worker_context(rw->w));
}

static struct media_webrtc *make_web(struct media_session *s)
{
	const struct media_pool *p = s->rw->pool;
	struct media_webrtc *w = g_new0(struct media_webrtc, 1);
	const struct ice_leg_conf conf = {
		.id = s->id,
		.lite = p->ice_lite,
		.consent_timeout_ms = p->consent_ms,
		.ice_timeout_ms = p->ice_timeout_ms,
	};
	const struct ice_leg_cbs cbs = { .media = on_media,
		                         .drop = on_drop,
		                         .event = on_event,
		                         .send = s->rw->ring ? ring_send : NULL,
		                         .fast = on_fast };

	w->s = s;
	w->send = w->recv = true;
	rtp_rewrite_init(&w->rw_to_a, 8000);
	rtp_rewrite_init(&w->rw_to_b, 8000);
	identity_maps(w);
	web_tick_start(s->rw);
	w->leg = ice_leg_new(s->rw->ice_ctx, p->dtls, &conf, &cbs, w);
	return w;
}

static void local_on_worker(void *data)
{
	struct local_msg *m = data;
	struct media_session *s = m->s;
	int rc;

	ice_pump_kick(s->rw);
	if (s->web) {
		ice_leg_restart(s->web->leg, m->ufrag, m->pwd);
		g_free(m);
		return;
	}
	/* libnice binds leg A's RTP port itself: the plain sockets go first */
	rtp_sock_close(s->rw, &s->sock[MEDIA_LEG_A][RTP_KIND_RTP]);
	rtp_sock_close(s->rw, &s->sock[MEDIA_LEG_A][RTP_KIND_RTCP]);
	s->web = make_web(s);
	rc = ice_leg_start(s->web->leg, m->ufrag, m->pwd, (const struct sockaddr *)&m->bind);
	if (rc) {
		log_warn(LOG_ICE, "no ICE leg", "session=%u error=%s", s->id, g_strerror(rc));
		post_event(s->rw->pool, s->id, MEDIA_EV_FAILED, "cannot bind the ICE port");
	} else {
		watch_ice(s->web);
	}
	g_free(m);
}

static void remote_on_worker(void *data)
{
	struct media_webrtc_remote *r = data;
	struct media_session *s = *(struct media_session **)(r + 1);
	struct media_webrtc *w = s->web;
	struct ice_leg_remote ir = {
		.ufrag = r->ufrag,
		.pwd = r->pwd,
		.restart = r->ice_restart,
		.controlling = r->controlling,
		.role = r->dtls_client ? DTLS_ROLE_CLIENT : DTLS_ROLE_SERVER,
		.fp = { .hash = r->fp_hash, .len = r->fp_len },
	};

	ice_pump_kick(s->rw);
	memcpy(ir.fp.md, r->fp, sizeof(ir.fp.md));
	identity_maps(w);
	for (size_t i = 0; i < r->n_map && i < MEDIA_PT_MAX; i++) {
		const struct media_pt_map *pm = &r->map[i];

		w->to_b[pm->web_pt & 0x7f] = pm->plain_pt & 0x7f;
		w->to_a[pm->plain_pt & 0x7f] = pm->web_pt & 0x7f;
	}
	w->send = r->send;
	w->recv = r->recv;
	if (r->n_map && r->map[0].clock) {
		/* jitter and the timestamp step of a new source in the call's codec clock */
		s->clock = r->map[0].clock;
		w->rw_to_a.clock = w->rw_to_b.clock = r->map[0].clock;
	}
	if (ice_leg_set_remote(w->leg, &ir) == 0) {
		for (size_t i = 0; i < r->n_cand && i < G_N_ELEMENTS(r->cand); i++) {
			const struct media_ice_remote_cand *c = &r->cand[i];

			if (c->component == 1 && !c->tcp)
				ice_leg_add_candidate(w->leg, c->addr, c->port, c->type,
				                      c->priority, c->foundation);
		}
		if (r->end_of_candidates)
			ice_leg_end_of_candidates(w->leg);
	}
	g_free(r);
}

struct cand_msg {
	struct media_session *s;
	bool end;
	struct media_ice_remote_cand c;
};

static void cand_on_worker(void *data)
{
	struct cand_msg *m = data;
	struct ice_leg *l = m->s->web->leg;

	ice_pump_kick(m->s->rw);
	if (m->end)
		ice_leg_end_of_candidates(l);
	else if (m->c.component == 1 && !m->c.tcp)
		ice_leg_add_candidate(l, m->c.addr, m->c.port, m->c.type, m->c.priority,
		                      m->c.foundation);
	g_free(m);
}

/* --- the control thread -------------------------------------------------------------- */

void media_pool_set_webrtc(struct media_pool *p, struct dtls_ctx *dtls, media_event_fn fn,
                           void *user)
{
	p->dtls = dtls;
	p->ev_fn = fn;
	p->ev_user = user;
}

/* n-1 ice-chars (RFC 8839 §5.4: ALPHA / DIGIT / "+" / "/") and a NUL, from a CSPRNG. */
static int ice_chars(char *out, size_t n)
{
	static const char set[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t rnd[64];

	if (n > sizeof(rnd) || RAND_bytes(rnd, (int)n) != 1)
		return EIO;
	for (size_t i = 0; i + 1 < n; i++)
		out[i] = set[rnd[i] & 63]; /* 256 is a multiple of 64: no bias */
	out[n - 1] = '\0';
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return 0;
}

int media_session_webrtc_local(struct media_session *s, const struct sockaddr *toward,
                               struct media_webrtc_local *out)
{
	const struct media_pool *p = s->rw->pool;
	struct local_msg *m;
	struct media_ice_cand *c = &out->cand[0];
	int rc;

	if (!p->dtls)
		return EINVAL;
	m = g_new0(struct local_msg, 1);
	m->s = s;
	rc = media_local_toward(p, toward, &m->bind);
	if (!rc)
		rc = ice_chars(m->ufrag, sizeof(m->ufrag));
	if (!rc)
		rc = ice_chars(m->pwd, sizeof(m->pwd));
	if (rc) {
		g_free(m);
		return rc;
	}
	rtp_addr_set_port(&m->bind, s->port[MEDIA_LEG_A]);
	memset(out, 0, sizeof(*out));
	memcpy(out->ufrag, m->ufrag, sizeof(out->ufrag));
	memcpy(out->pwd, m->pwd, sizeof(out->pwd));
	out->n_cand = 1;
	c->addr = p->public_addr.ss_family ? p->public_addr : m->bind;
	rtp_addr_set_port(&c->addr, s->port[MEDIA_LEG_A]);
	c->priority = HOST_PRIORITY;
	g_strlcpy(c->foundation, "1", sizeof(c->foundation));
	out->fingerprint = dtls_ctx_fingerprint_sdp(p->dtls);
	out->ice_lite = p->ice_lite;
	if (!s->webrtc) {
		g_mutex_init(&s->info_lock);
		s->webrtc = true;
	}
	worker_post(s->rw->w, local_on_worker, m);
	return 0;
}

int media_session_webrtc_remote(struct media_session *s, const struct media_webrtc_remote *r)
{
	struct media_webrtc_remote *copy;

	if (!s->webrtc || !*r->ufrag || !*r->pwd || r->fp_len > sizeof(r->fp) ||
	    r->fp_hash >= DTLS_HASH_COUNT)
		return EINVAL;
	/* the session pointer rides after the copy */
	copy = g_malloc(sizeof(*copy) + sizeof(s));
	memcpy(copy, r, sizeof(*copy));
	memcpy(copy + 1, &s, sizeof(s));
	worker_post(s->rw->w, remote_on_worker, copy);
	return 0;
}

int media_session_webrtc_candidate(struct media_session *s, const struct media_ice_remote_cand *c)
{
	struct cand_msg *m;

	if (!s->webrtc)
		return EINVAL;
	m = g_new0(struct cand_msg, 1);
	m->s = s;
	m->end = !c;
	if (c)
		m->c = *c;
	worker_post(s->rw->w, cand_on_worker, m);
	return 0;
}

void media_session_webrtc_info(const struct media_session *s, struct media_webrtc_info *out)
{
	struct media_stats st;

	memset(out, 0, sizeof(*out));
	if (!s->webrtc)
		return;
	g_mutex_lock((GMutex *)&s->info_lock);
	g_strlcpy(out->profile, s->info.profile, sizeof(out->profile));
	g_strlcpy(out->pair, s->info.pair, sizeof(out->pair));
	g_mutex_unlock((GMutex *)&s->info_lock);
	media_session_stats(s, &st);
	out->srtp_errors = st.leg[MEDIA_LEG_A].drops[MEDIA_DROP_SRTP_AUTH] +
	                   st.leg[MEDIA_LEG_A].drops[MEDIA_DROP_SRTP_REPLAY] +
	                   st.leg[MEDIA_LEG_A].drops[MEDIA_DROP_SRTP_ERROR];
}
