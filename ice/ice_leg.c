/* One WebRTC media leg on a media worker: libnice (RFC 8445, RFC 8838), DTLS-SRTP (RFC 5764),
 * consent (RFC 7675). */
#include <errno.h>
#include <netinet/in.h>
#include <nice/agent.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "ice/demux.h"
#include "ice/ice_leg_priv.h"

/*
 * libnice's idle-timeout (ms): how long its 20 ms check timer (Ta) keeps
 * ticking once no check is in progress. Its default while checks may come;
 * its floor once a pair is nominated, else every leg woke the worker 50
 * times a second for 5 s after ICE completed.
 */
#define IDLE_TIMEOUT_CHECKS 5000
#define IDLE_TIMEOUT_READY  50

static void timer_stop(GSource **t)
{
	if (!*t)
		return;
	g_source_destroy(*t);
	g_source_unref(*t);
	*t = NULL;
}

static void timer_start(struct ice_leg *l, GSource **t, unsigned ms, GSourceFunc fn)
{
	timer_stop(t);
	*t = g_timeout_source_new(ms);
	g_source_set_callback(*t, fn, l, NULL);
	g_source_attach(*t, l->ctx);
}

/* The end of the leg: reported once; timers stop, packets are ignored from here on. */
static void leg_end(struct ice_leg *l, enum ice_leg_event ev, const char *reason)
{
	if (l->dead)
		return;
	l->dead = true;
	timer_stop(&l->dtls_timer);
	timer_stop(&l->setup_timer);
	log_warn(ev == ICE_LEG_EV_CONSENT_LOST ? LOG_ICE : LOG_DTLS,
	         ev == ICE_LEG_EV_CONSENT_LOST ? "consent lost" : "leg failed",
	         "session=%u reason=\"%s\" ice_ready=%d dtls=%d", l->conf.id, reason, l->ice_ready,
	         l->connected);
	l->cbs.event(l->user, ev, reason);
}

static gboolean dtls_timer_fire(gpointer data);

/* Re-read the endpoint's timer after every call into it. */
static void dtls_arm(struct ice_leg *l)
{
	int ms;

	if (l->dead || !l->dtls)
		return;
	ms = dtls_next_timeout(l->dtls, g_get_monotonic_time());
	if (ms < 0)
		timer_stop(&l->dtls_timer);
	else
		timer_start(l, &l->dtls_timer, (unsigned)ms, dtls_timer_fire);
}

static gboolean dtls_timer_fire(gpointer data)
{
	struct ice_leg *l = data;

	timer_stop(&l->dtls_timer);
	dtls_handle_timeout(l->dtls,
	                    g_get_monotonic_time()); /* a failure comes via dtls_state_cb */
	dtls_arm(l);
	return G_SOURCE_REMOVE;
}

static gboolean setup_timer_fire(gpointer data)
{
	struct ice_leg *l = data;
	char reason[96];

	timer_stop(&l->setup_timer);
	g_snprintf(reason, sizeof(reason), "%s not complete within %u ms",
	           l->ice_ready ? "DTLS" : "ICE", l->conf.ice_timeout_ms);
	leg_end(l, ICE_LEG_EV_FAILED, reason);
	return G_SOURCE_REMOVE;
}

/*
 * RFC 7675 for an ICE-lite leg: the browser sends the consent checks, but
 * libnice answers them without telling us, so what we see of the browser's
 * consent is what it sends and we authenticate: SRTP, SRTCP (browsers send
 * RTCP every few seconds whatever the direction) and DTLS.
 */
void ice_leg_tick(struct ice_leg *l, int64_t now)
{
	int64_t silent_ms = (now - l->last_rx) / 1000;
	char reason[96];

	if (!l->connected || l->dead || silent_ms <= (int64_t)l->conf.consent_timeout_ms)
		return;
	g_snprintf(reason, sizeof(reason),
	           "nothing authenticated from the peer for %" G_GINT64_FORMAT " ms", silent_ms);
	leg_end(l, ICE_LEG_EV_CONSENT_LOST, reason);
}

static void dtls_send_cb(void *user, const uint8_t *data, size_t len)
{
	struct ice_leg *l = user;

	if (l->fast.on)
		ice_fast_sendto(l, data, len, NULL);
	else
		nice_agent_send(l->agent, l->stream, COMPONENT, (guint)len, (const gchar *)data);
}

static void on_connected(struct ice_leg *l)
{
	enum ice_srtp_profile prof = 0;

	l->connected = true;
	l->last_rx = g_get_monotonic_time();
	timer_stop(&l->setup_timer);
	dtls_profile(l->dtls, &prof);
	log_info(LOG_DTLS, "connected", "session=%u profile=%s pair=\"%s\"", l->conf.id,
	         ice_srtp_profile_name(prof) ? ice_srtp_profile_name(prof) : "?", l->pair);
	l->cbs.event(l->user, ICE_LEG_EV_CONNECTED, "");
	ice_fast_start(l);
}

static void dtls_state_cb(void *user, enum dtls_state st)
{
	struct ice_leg *l = user;

	switch (st) {
	case DTLS_STATE_CONNECTED: on_connected(l); break;
	case DTLS_STATE_FAILED: leg_end(l, ICE_LEG_EV_FAILED, dtls_reason(l->dtls)); break;
	case DTLS_STATE_CLOSED:
		leg_end(l, ICE_LEG_EV_CONSENT_LOST, "peer sent close_notify");
		break;
	default: break;
	}
}

static void dtls_go(struct ice_leg *l)
{
	if (dtls_state(l->dtls) != DTLS_STATE_NEW)
		return;
	dtls_start(l->dtls, g_get_monotonic_time()); /* a failure comes via dtls_state_cb */
	dtls_arm(l);
}

static void on_state(NiceAgent *agent, guint stream, guint component, guint state, gpointer data)
{
	struct ice_leg *l = data;

	(void)agent;
	(void)stream;
	(void)component;
	if (l->dead)
		return;
	log_debug(LOG_ICE, "state", "session=%u state=%s", l->conf.id,
	          nice_component_state_to_string(state));
	if (state == NICE_COMPONENT_STATE_READY)
		g_object_set(l->agent, "idle-timeout", IDLE_TIMEOUT_READY, NULL);
	if (state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY) {
		l->ice_ready = true;
		if (l->dtls)
			dtls_go(l);
		if (l->connected) {
			timer_stop(&l->setup_timer); /* an ICE restart completed */
			if (state == NICE_COMPONENT_STATE_READY)
				ice_fast_start(l);
		}
	} else if (state == NICE_COMPONENT_STATE_FAILED) {
		l->ice_ready = false;
		if (l->connected)
			leg_end(l, ICE_LEG_EV_CONSENT_LOST, "ICE consent checks failed");
		else
			leg_end(l, ICE_LEG_EV_FAILED, "ICE connectivity checks failed");
	}
}

static const char *cand_type(const NiceCandidate *c)
{
	static const char *const names[] = { "host", "srflx", "prflx", "relay" };

	return (unsigned)c->type < G_N_ELEMENTS(names) ? names[c->type] : "?";
}

static void on_pair(NiceAgent *agent, guint stream, guint component, NiceCandidate *lc,
                    NiceCandidate *rc, gpointer data)
{
	struct ice_leg *l = data;
	char la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN];

	(void)agent;
	(void)stream;
	(void)component;
	nice_address_to_string(&lc->addr, la);
	nice_address_to_string(&rc->addr, ra);
	g_snprintf(l->pair, sizeof(l->pair), "%s:%u <-> %s:%u %s/%s", la,
	           nice_address_get_port(&lc->addr), ra, nice_address_get_port(&rc->addr),
	           cand_type(lc), cand_type(rc));
	log_info(LOG_ICE, "selected pair", "session=%u pair=\"%s\"", l->conf.id, l->pair);
	l->cbs.event(l->user, ICE_LEG_EV_PAIR, l->pair);
}

static void srtp_drop(struct ice_leg *l, int rc)
{
	enum ice_leg_drop why = rc == EACCES     ? ICE_LEG_DROP_SRTP_AUTH
	                        : rc == EALREADY ? ICE_LEG_DROP_SRTP_REPLAY
	                        : rc == ENOTCONN ? ICE_LEG_DROP_NOT_CONNECTED
	                                         : ICE_LEG_DROP_SRTP_ERROR;

	l->cbs.drop(l->user, why);
	if (why == ICE_LEG_DROP_NOT_CONNECTED)
		return;
	l->srtp_drops++;
	/* every power of two: a flood costs log lines logarithmically */
	if (!(l->srtp_drops & (l->srtp_drops - 1)))
		log_warn(LOG_SRTP, "unprotect failed",
		         "session=%u error=%s count=%" G_GUINT64_FORMAT, l->conf.id, g_strerror(rc),
		         l->srtp_drops);
}

static void dtls_in(struct ice_leg *l, const uint8_t *p, size_t len)
{
	int64_t now = g_get_monotonic_time();

	if (!l->dtls || dtls_state(l->dtls) == DTLS_STATE_NEW) {
		l->cbs.drop(l->user, ICE_LEG_DROP_NOT_CONNECTED);
		return;
	}
	if (dtls_input(l->dtls, p, len, now) == 0 && l->connected)
		l->last_rx = now;
	dtls_arm(l);
}

/* One datagram libnice handed over: from a source that passed a connectivity check. */
void ice_leg_input(struct ice_leg *l, uint8_t *buf, size_t len, size_t cap)
{
	enum ice_pkt k = ice_demux(buf, len);
	size_t n = len;
	int rc;

	if (l->dead)
		return;
	if (k == ICE_PKT_DTLS) {
		dtls_in(l, buf, len);
		return;
	}
	if ((k != ICE_PKT_RTP && k != ICE_PKT_RTCP) || len > ICE_LEG_BUF ||
	    len + ICE_SRTP_TRAILER_MAX > cap) {
		l->cbs.drop(l->user, ICE_LEG_DROP_MALFORMED);
		return;
	}
	rc = l->srtp ? ice_srtp_unprotect(l->srtp, k == ICE_PKT_RTCP ? ICE_SRTP_RTCP : ICE_SRTP_RTP,
	                                  buf, &n)
	             : ENOTCONN;
	if (rc) {
		srtp_drop(l, rc);
		return;
	}
	l->last_rx = g_get_monotonic_time();
	l->cbs.media(l->user, buf, n, cap, k == ICE_PKT_RTCP);
}

/*
 * No receive callback is attached (nice_agent_attach_recv), so libnice
 * leaves its sockets on the component's own GMainContext, which only this
 * call iterates: the worker's context never polls them. libnice still reads
 * each datagram: STUN (checks, answers, consent) is handled inside it and
 * data from a source that passed no check is dropped, as with a callback.
 */
void ice_leg_readable(struct ice_leg *l, int fd, uint8_t *const *bufs, unsigned n, size_t cap)
{
	GInputVector vec[ICE_LEG_RECV_BATCH];
	NiceInputMessage msg[ICE_LEG_RECV_BATCH];
	gint got;

	if (!l->agent || cap < ICE_LEG_RECV_MIN)
		return;
	n = MIN(n, ICE_LEG_RECV_BATCH);
	if (l->fast.on && fd == l->fast.fd) {
		ice_fast_readable(l, fd, bufs, MIN(n, FAST_BATCH), cap);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		vec[i] = (GInputVector){ .buffer = bufs[i], .size = cap - ICE_SRTP_TRAILER_MAX };
		msg[i] = (NiceInputMessage){ .buffers = &vec[i], .n_buffers = 1 };
	}
	/* signals (state, pair) are emitted inside, before the datagrams are handled here */
	got = nice_agent_recv_messages_nonblocking(l->agent, l->stream, COMPONENT, msg, n, NULL,
	                                           NULL);
	for (gint i = 0; i < got; i++)
		ice_leg_input(l, bufs[i], msg[i].length, cap);
}

unsigned ice_leg_fds(const struct ice_leg *l, int *fds, unsigned max)
{
	GPtrArray *socks;
	unsigned n = 0;

	if (!l->agent)
		return 0;
	socks = nice_agent_get_sockets(l->agent, l->stream, COMPONENT);
	for (guint i = 0; socks && i < socks->len && n < max; i++)
		fds[n++] = g_socket_get_fd(g_ptr_array_index(socks, i));
	if (socks)
		g_ptr_array_unref(socks);
	return n;
}

struct ice_leg *ice_leg_new(GMainContext *ctx, struct dtls_ctx *dtls,
                            const struct ice_leg_conf *conf, const struct ice_leg_cbs *cbs,
                            void *user)
{
	struct ice_leg *l = g_new0(struct ice_leg, 1);

	l->ctx = ctx;
	l->dtls_ctx = dtls;
	l->conf = *conf;
	l->cbs = *cbs;
	l->user = user;
	return l;
}

static NiceAgent *make_agent(const struct ice_leg *l)
{
	NiceAgentOption opt = NICE_AGENT_OPTION_ICE_TRICKLE;
	NiceAgent *a;

	opt |= l->conf.lite ? NICE_AGENT_OPTION_LITE_MODE : NICE_AGENT_OPTION_CONSENT_FRESHNESS;
	a = nice_agent_new_full(l->ctx, NICE_COMPATIBILITY_RFC5245, opt);
	g_object_set(a, "ice-tcp", FALSE, "upnp", FALSE, "controlling-mode", FALSE, "idle-timeout",
	             IDLE_TIMEOUT_CHECKS, NULL);
	return a;
}

int ice_leg_start(struct ice_leg *l, const char *ufrag, const char *pwd,
                  const struct sockaddr *addr)
{
	NiceAddress na;
	guint port;

	if (l->agent || strlen(ufrag) >= sizeof(l->ufrag) || strlen(pwd) >= sizeof(l->pwd))
		return EINVAL;
	nice_address_init(&na);
	nice_address_set_from_sockaddr(&na, addr);
	if (!nice_address_is_valid(&na) || !(port = nice_address_get_port(&na)))
		return EINVAL;
	g_strlcpy(l->ufrag, ufrag, sizeof(l->ufrag));
	g_strlcpy(l->pwd, pwd, sizeof(l->pwd));
	l->agent = make_agent(l);
	nice_address_set_port(&na, 0);
	nice_agent_add_local_address(l->agent, &na);
	l->stream = nice_agent_add_stream(l->agent, 1);
	nice_agent_set_port_range(l->agent, l->stream, COMPONENT, port, port);
	if (!nice_agent_set_local_credentials(l->agent, l->stream, ufrag, pwd))
		return EINVAL;
	g_signal_connect(l->agent, "component-state-changed", G_CALLBACK(on_state), l);
	g_signal_connect(l->agent, "new-selected-pair-full", G_CALLBACK(on_pair), l);
	if (!nice_agent_gather_candidates(l->agent, l->stream)) {
		log_warn(LOG_ICE, "cannot bind", "session=%u port=%u", l->conf.id, port);
		return EADDRINUSE;
	}
	log_info(LOG_ICE, "agent ready", "session=%u mode=%s port=%u", l->conf.id,
	         l->conf.lite ? "lite" : "full", port);
	return 0;
}

int ice_leg_restart(struct ice_leg *l, const char *ufrag, const char *pwd)
{
	if (!l->agent || strlen(ufrag) >= sizeof(l->ufrag) || strlen(pwd) >= sizeof(l->pwd))
		return EINVAL;
	/* applied with the peer's new credentials (ice_leg_set_remote), in either order */
	ice_fast_stop(l); /* libnice answers the new checks until they complete */
	g_strlcpy(l->ufrag, ufrag, sizeof(l->ufrag));
	g_strlcpy(l->pwd, pwd, sizeof(l->pwd));
	return 0;
}

static int make_dtls(struct ice_leg *l, const struct ice_leg_remote *r)
{
	l->srtp = ice_srtp_new();
	l->dtls = dtls_new(l->dtls_ctx, r->role, &r->fp, l->srtp, dtls_send_cb, dtls_state_cb, l);
	if (!l->dtls) {
		leg_end(l, ICE_LEG_EV_FAILED, "cannot make a DTLS endpoint");
		return EIO;
	}
	/* a server has nothing to send: start now and take a ClientHello that beats our ICE state
	 */
	if (r->role == DTLS_ROLE_SERVER || l->ice_ready)
		dtls_go(l);
	return 0;
}

int ice_leg_set_remote(struct ice_leg *l, const struct ice_leg_remote *r)
{
	int rc;

	if (!l->agent || !r->ufrag || !*r->ufrag || !r->pwd || !*r->pwd)
		return EINVAL;
	if (l->dead)
		return 0;
	if (!l->dtls && (rc = make_dtls(l, r)))
		return rc;
	if (!l->conf.lite)
		g_object_set(l->agent, "controlling-mode", r->controlling, NULL);
	if (r->restart) {
		/* RFC 8445 §9: forget the old checks; the DTLS association and keys stay */
		g_object_set(l->agent, "idle-timeout", IDLE_TIMEOUT_CHECKS, NULL);
		ice_fast_stop(l);
		nice_agent_restart_stream(l->agent, l->stream);
		nice_agent_set_local_credentials(l->agent, l->stream, l->ufrag, l->pwd);
		l->ice_ready = false;
		log_info(LOG_ICE, "restart", "session=%u", l->conf.id);
	}
	if (!nice_agent_set_remote_credentials(l->agent, l->stream, r->ufrag, r->pwd))
		return EINVAL;
	if (!l->connected || r->restart)
		timer_start(l, &l->setup_timer, l->conf.ice_timeout_ms, setup_timer_fire);
	return 0;
}

int ice_leg_add_candidate(struct ice_leg *l, const char *addr, uint16_t port, uint8_t type,
                          uint32_t priority, const char *foundation)
{
	static const NiceCandidateType types[] = {
		NICE_CANDIDATE_TYPE_HOST,
		NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE,
		NICE_CANDIDATE_TYPE_PEER_REFLEXIVE,
		NICE_CANDIDATE_TYPE_RELAYED,
	};
	NiceCandidate *c;
	GSList one = { 0 };
	int n;

	if (!l->agent || type >= G_N_ELEMENTS(types) || !port)
		return EINVAL;
	if (g_str_has_suffix(addr, ".local"))
		return ENOENT; /* RFC 8838 mDNS: the peer's checks teach its address as prflx */
	c = nice_candidate_new(types[type]);
	if (!nice_address_set_from_string(&c->addr, addr)) {
		nice_candidate_free(c);
		return EINVAL;
	}
	nice_address_set_port(&c->addr, port);
	c->component_id = COMPONENT;
	c->stream_id = l->stream;
	c->transport = NICE_CANDIDATE_TRANSPORT_UDP;
	c->priority = priority;
	g_strlcpy(c->foundation, foundation ? foundation : "", sizeof(c->foundation));
	one.data = c;
	n = nice_agent_set_remote_candidates(l->agent, l->stream, COMPONENT, &one);
	nice_candidate_free(c);
	return n == 1 ? 0 : EINVAL;
}

void ice_leg_end_of_candidates(struct ice_leg *l)
{
	if (l->agent)
		nice_agent_peer_candidate_gathering_done(l->agent, l->stream);
}

bool ice_leg_settled(const struct ice_leg *l)
{
	return l->dead || l->fast.on;
}

void ice_leg_describe(const struct ice_leg *l, char *profile, size_t profile_cap, char *pair,
                      size_t pair_cap)
{
	enum ice_srtp_profile p;
	const char *name = l->dtls && dtls_profile(l->dtls, &p) ? ice_srtp_profile_name(p) : NULL;

	g_strlcpy(profile, name ? name : "", profile_cap);
	g_strlcpy(pair, l->pair, pair_cap);
}

void ice_leg_free(struct ice_leg *l)
{
	if (!l)
		return;
	l->dead = true;
	timer_stop(&l->dtls_timer);
	timer_stop(&l->setup_timer);
	/* close_notify through libnice: the owner stopped watching the socket, sends queued
	 * by it would leave after libnice closed the fd */
	l->fast.on = false;
	if (l->dtls && l->connected)
		dtls_close(l->dtls); /* close_notify: the browser learns at once */
	if (l->agent) {
		g_signal_handlers_disconnect_by_data(l->agent, l);
		nice_agent_remove_stream(l->agent, l->stream);
		g_object_unref(l->agent);
	}
	dtls_free(l->dtls);
	ice_srtp_free(l->srtp);
	g_free(l);
}
