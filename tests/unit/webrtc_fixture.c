/* The WebRTC unit tests' browser and pool (webrtc_fixture.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "ice/demux.h"
#include "media_fixture.h"
#include "webrtc_fixture.h"

static void on_event(void *user, uint32_t id, enum media_event ev, const char *reason)
{
	struct fix *f = user;

	if (!f->s || id != media_session_id(f->s))
		return;
	f->events[ev]++;
	g_strlcpy(f->reason, reason, sizeof(f->reason));
}

bool pump(struct fix *f, bool (*done)(struct fix *), int64_t max_us)
{
	int64_t end = g_get_monotonic_time() + max_us;

	while (!done(f) && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, TRUE); /* the 20 ms tick bounds each wait */
	return done(f);
}

static void b_send_dtls(void *user, const uint8_t *data, size_t len)
{
	struct browser *b = user;

	nice_agent_send(b->agent, b->stream, 1, (guint)len, (const gchar *)data);
}

static void b_recv(NiceAgent *agent, guint stream, guint comp, guint len, gchar *buf, gpointer data)
{
	struct browser *b = data;
	enum ice_pkt k = ice_demux((const uint8_t *)buf, len);
	size_t n = len;

	(void)agent;
	(void)stream;
	(void)comp;
	if (k == ICE_PKT_DTLS && b->dtls) {
		dtls_input(b->dtls, (const uint8_t *)buf, len, g_get_monotonic_time());
		return;
	}
	if ((k != ICE_PKT_RTP && k != ICE_PKT_RTCP) || len > sizeof(b->last))
		return;
	memcpy(b->last, buf, len);
	if (ice_srtp_unprotect(b->srtp, k == ICE_PKT_RTCP ? ICE_SRTP_RTCP : ICE_SRTP_RTP, b->last,
	                       &n) == 0) {
		b->last_len = n;
		b->received++;
	}
}

static void b_state(NiceAgent *agent, guint stream, guint comp, guint state, gpointer data)
{
	struct browser *b = data;

	(void)agent;
	(void)stream;
	(void)comp;
	if (state == NICE_COMPONENT_STATE_READY && !b->ready) {
		b->ready = true;
		dtls_start(b->dtls, g_get_monotonic_time());
	}
}

static void b_gathered(NiceAgent *agent, guint stream, gpointer data)
{
	(void)agent;
	(void)stream;
	((struct browser *)data)->gathered = true;
}

static gboolean b_tick(gpointer data)
{
	struct browser *b = data;
	int64_t now = g_get_monotonic_time();

	if (b->dtls && dtls_next_timeout(b->dtls, now) == 0)
		dtls_handle_timeout(b->dtls, now);
	return G_SOURCE_CONTINUE;
}

static void browser_new(struct browser *b)
{
	NiceAddress lo;
	char *why = NULL;

	g_assert_cmpint(dtls_cert_open(NULL, NULL, &b->cert, &why), ==, 0);
	g_assert_cmpint(dtls_ctx_new(b->cert, NULL, &b->ctx, &why), ==, 0);
	b->srtp = ice_srtp_new();
	b->agent = nice_agent_new_full(NULL, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_NONE);
	g_object_set(b->agent, "controlling-mode", TRUE, "upnp", FALSE, "ice-tcp", FALSE, NULL);
	nice_address_init(&lo);
	nice_address_set_from_string(&lo, "127.0.0.1");
	nice_agent_add_local_address(b->agent, &lo);
	b->stream = nice_agent_add_stream(b->agent, 1);
	g_signal_connect(b->agent, "candidate-gathering-done", G_CALLBACK(b_gathered), b);
	g_signal_connect(b->agent, "component-state-changed", G_CALLBACK(b_state), b);
	nice_agent_attach_recv(b->agent, b->stream, 1, NULL, b_recv, b);
	g_assert_true(nice_agent_gather_candidates(b->agent, b->stream));
	b->tick = g_timeout_source_new(20);
	g_source_set_callback(b->tick, b_tick, b, NULL);
	g_source_attach(b->tick, NULL);
}

static void browser_free(struct browser *b)
{
	g_source_destroy(b->tick);
	g_source_unref(b->tick);
	g_signal_handlers_disconnect_by_data(b->agent, b);
	nice_agent_attach_recv(b->agent, b->stream, 1, NULL, NULL, NULL);
	g_object_unref(b->agent);
	dtls_free(b->dtls);
	ice_srtp_free(b->srtp);
	dtls_ctx_free(b->ctx);
	dtls_cert_free(b->cert);
}

const char *ice_mode = "lite";
const char *fix_ports = "42200-42399";

void fix_start(struct fix *f, const char *consent, const char *ice_timeout)
{
	gchar *o1 = g_strdup_printf("media.consent_timeout=%s", consent);
	gchar *o2 = g_strdup_printf("media.ice_timeout=%s", ice_timeout);
	gchar *o3 = g_strdup_printf("media.ice_mode=%s", ice_mode);
	gchar *o4 = g_strdup_printf("media.ports=%s", fix_ports);
	const char *ov[] = { o4, "media.workers=1", o1, o2, o3, NULL };
	char *why = NULL;

	memset(f, 0, sizeof(*f));
	f->p = pool_start_ov(ov, NULL);
	g_free(o1);
	g_free(o2);
	g_free(o3);
	g_free(o4);
	g_assert_cmpint(dtls_cert_open(NULL, NULL, &f->gw_cert, &why), ==, 0);
	g_assert_cmpint(dtls_ctx_new(f->gw_cert, NULL, &f->gw_dtls, &why), ==, 0);
	media_pool_set_webrtc(f->p, f->gw_dtls, on_event, f);
	browser_new(&f->b);
	g_assert_cmpint(media_session_new(f->p, &f->s), ==, 0);
}

void fix_stop(struct fix *f)
{
	media_session_free(f->s);
	f->s = NULL;
	media_pool_stop(f->p);
	/* events posted before the stop: delivered now, to nobody (f->s is NULL) */
	while (g_main_context_iteration(NULL, FALSE))
		;
	browser_free(&f->b);
	dtls_ctx_free(f->gw_dtls);
	dtls_cert_free(f->gw_cert);
}

static bool gathered(struct fix *f)
{
	return f->b.gathered;
}

/* The browser's side into r: credentials, fingerprint, candidates. */
void browser_sdp(struct fix *f, struct media_webrtc_remote *r)
{
	const struct dtls_fingerprint *fp = dtls_cert_fingerprint(f->b.cert);
	gchar *ufrag = NULL, *pwd = NULL;
	GSList *cands;

	g_assert_true(pump(f, gathered, WAIT_US));
	memset(r, 0, sizeof(*r));
	g_assert_true(nice_agent_get_local_credentials(f->b.agent, f->b.stream, &ufrag, &pwd));
	g_strlcpy(r->ufrag, ufrag, sizeof(r->ufrag));
	g_strlcpy(r->pwd, pwd, sizeof(r->pwd));
	g_free(ufrag);
	g_free(pwd);
	r->fp_hash = (uint8_t)fp->hash;
	r->fp_len = fp->len;
	memcpy(r->fp, fp->md, fp->len);
	cands = nice_agent_get_local_candidates(f->b.agent, f->b.stream, 1);
	for (GSList *i = cands; i && r->n_cand < G_N_ELEMENTS(r->cand); i = i->next) {
		NiceCandidate *c = i->data;
		struct media_ice_remote_cand *rc = &r->cand[r->n_cand++];

		rc->component = 1;
		rc->priority = c->priority;
		rc->port = (uint16_t)nice_address_get_port(&c->addr);
		nice_address_to_string(&c->addr, rc->addr);
		g_strlcpy(rc->foundation, c->foundation, sizeof(rc->foundation));
	}
	g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
	r->end_of_candidates = true;
	r->send = r->recv = true;
}

/* The gateway's SDP into the browser: credentials, its host candidate, its fingerprint. */
static void browser_takes(struct fix *f, bool right_fp)
{
	struct browser *b = &f->b;
	NiceCandidate *c = nice_candidate_new(NICE_CANDIDATE_TYPE_HOST);
	GSList one = { .data = c };

	nice_agent_set_remote_credentials(b->agent, b->stream, f->loc.ufrag, f->loc.pwd);
	nice_address_init(&c->addr);
	nice_address_set_from_sockaddr(&c->addr, (const struct sockaddr *)&f->loc.cand[0].addr);
	c->component_id = 1;
	c->stream_id = b->stream;
	c->transport = NICE_CANDIDATE_TRANSPORT_UDP;
	c->priority = f->loc.cand[0].priority;
	g_strlcpy(c->foundation, f->loc.cand[0].foundation, sizeof(c->foundation));
	g_assert_cmpint(nice_agent_set_remote_candidates(b->agent, b->stream, 1, &one), ==, 1);
	nice_candidate_free(c);
	g_assert_cmpint(dtls_fingerprint_parse(f->loc.fingerprint, &b->gw_fp), ==, 0);
	if (!right_fp)
		b->gw_fp.md[0] ^= 1;
	b->dtls = dtls_new(b->ctx, DTLS_ROLE_CLIENT, &b->gw_fp, b->srtp, b_send_dtls, NULL, b);
	g_assert_nonnull(b->dtls);
}

static bool settled(struct fix *f)
{
	enum dtls_state st = f->b.dtls ? dtls_state(f->b.dtls) : DTLS_STATE_NEW;

	return f->events[MEDIA_EV_FAILED] ||
	       (f->events[MEDIA_EV_CONNECTED] &&
	        (st == DTLS_STATE_CONNECTED || st == DTLS_STATE_FAILED));
}

/* Offer/answer both ways and wait until the gateway reports CONNECTED or FAILED. */
void call_up(struct fix *f, bool echo, const struct media_pt_map *map, size_t n_map,
             bool gw_knows_fp)
{
	struct sockaddr_in toward = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct media_webrtc_remote r;

	toward.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (echo)
		media_session_set_echo(f->s, MEDIA_LEG_B);
	g_assert_cmpint(media_session_webrtc_local(f->s, (struct sockaddr *)&toward, &f->loc), ==,
	                0);
	g_assert_cmpuint(strlen(f->loc.ufrag), ==, 8);
	g_assert_cmpuint(strlen(f->loc.pwd), ==, 24);
	g_assert_true(f->loc.ice_lite == !strcmp(ice_mode, "lite"));
	browser_sdp(f, &r);
	if (!gw_knows_fp)
		r.fp[5] ^= 0x40;
	if (n_map)
		memcpy(r.map, map, n_map * sizeof(*map));
	r.n_map = n_map;
	g_assert_cmpint(media_session_webrtc_remote(f->s, &r), ==, 0);
	browser_takes(f, true);
	g_assert_true(pump(f, settled, WAIT_US));
}

bool connected(struct fix *f)
{
	return f->events[MEDIA_EV_CONNECTED] && dtls_state(f->b.dtls) == DTLS_STATE_CONNECTED;
}

/* An RTP packet (protected for the gateway when protect) into buf; its length. */
size_t rtp_packet(struct fix *f, uint8_t *buf, size_t cap, uint8_t pt, bool protect)
{
	size_t len = 12 + PAYLOAD;
	uint16_t seq = ++f->seq;

	memset(buf, 0, cap);
	buf[0] = 0x80;
	buf[1] = pt;
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	buf[8] = SSRC >> 24;
	buf[9] = (SSRC >> 16) & 0xff;
	buf[10] = (SSRC >> 8) & 0xff;
	buf[11] = SSRC & 0xff;
	memset(buf + 12, (int)(seq & 0xff), PAYLOAD);
	if (protect)
		g_assert_cmpint(ice_srtp_protect(f->b.srtp, ICE_SRTP_RTP, buf, &len, cap), ==, 0);
	return len;
}

void browser_send(struct fix *f, const uint8_t *buf, size_t len)
{
	g_assert_cmpint(nice_agent_send(f->b.agent, f->b.stream, 1, (guint)len, (const gchar *)buf),
	                ==, (gint)len);
}

int want_received;

bool got_all(struct fix *f)
{
	return f->b.received >= want_received;
}

void echo_one(struct fix *f)
{
	uint8_t buf[2048];

	browser_send(f, buf, rtp_packet(f, buf, sizeof(buf), 0, true));
	want_received = f->b.received + 1;
	g_assert_true(pump(f, got_all, WAIT_US));
}

/* A UDP socket on 127.0.0.1 playing the PBX; its address in *addr. */
int pbx_socket(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	*addr = (struct sockaddr_in){ .sin_family = AF_INET };
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(bind(fd, (struct sockaddr *)addr, sizeof(*addr)), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)addr, &len), ==, 0);
	return fd;
}
