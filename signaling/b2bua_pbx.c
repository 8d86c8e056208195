/*
 * PBX targets up or down (issue 4: OPTIONS pings, failover): every
 * sip.options_interval seconds each resolved target gets an OPTIONS; an
 * answer of any status within PING_TIMEOUT_MS marks it up, silence down.
 * Requests go to the first target that is up, in sip.pbx order; a tcp: or
 * tls: target is also down while its connection waits to be retried.
 */
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "signaling/b2bua_priv.h"
#include "signaling/sip_demo.h"
#include "signaling/sip_pbx.h"

/* A target that has not answered an OPTIONS within this is down (its transaction goes on). */
#define PING_TIMEOUT_MS 2000

struct pbx_target {
	bool up, answered;
	uint64_t handle; /* of the OPTIONS in flight, 0 when none */
	guint timeout;
};

struct pbx_ping {
	struct b2bua *b;
	size_t i;
};

static void set_up(struct b2bua *b, size_t i, bool up)
{
	struct pbx_target *t = &b->targets[i];

	if (t->up != up)
		log_info(LOG_SIP, up ? "pbx target up" : "pbx target down", "target=%s",
		         sip_pbx_target(b->pbx, i)->name);
	t->up = up;
}

static gboolean ping_timeout(gpointer data)
{
	struct pbx_ping *p = data;
	struct pbx_target *t = &p->b->targets[p->i];

	t->timeout = 0;
	if (!t->answered)
		set_up(p->b, p->i, false);
	return G_SOURCE_REMOVE;
}

static const char *const via_names[] = { [SIP_UDP] = "UDP", [SIP_TCP] = "TCP", [SIP_TLS] = "TLS" };

/* Target i's route; false until its hop is resolved. */
static bool route_at(struct b2bua *b, size_t i, struct b2bua_route *r)
{
	enum sip_transport tr = sip_pbx_transport(b->pbx, i);

	r->peer = sip_pbx_target(b->pbx, i);
	r->local = sip_pbx_local(b->pbx, i);
	r->via = via_names[tr];
	r->param = sip_transport_name(tr);
	r->route = sip_pbx_route(b->pbx);
	r->srtp = sip_pbx_srtp(b->pbx, i);
	return r->peer && r->local;
}

static void ping(struct b2bua *b, size_t i)
{
	struct pbx_target *t = &b->targets[i];
	osip_message_t *m = NULL;
	char *uri, *from, tag[17], cid[33];
	struct b2bua_route r;
	struct pbx_ping *p;

	if (!route_at(b, i, &r) || osip_message_init(&m) != 0)
		return;
	sip_msg_token(tag, 16);
	sip_msg_token(cid, 32);
	uri = g_strdup_printf("sip:%s", sip_pbx_domain(b->pbx, i));
	from = g_strdup_printf("<sip:rtcgate@%s>;tag=%s", r.local, tag);
	osip_message_set_method(m, osip_strdup("OPTIONS"));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	osip_uri_init(&m->req_uri);
	osip_uri_parse(m->req_uri, uri);
	osip_message_set_from(m, from);
	osip_message_set_to(m, uri);
	osip_message_set_call_id(m, cid);
	osip_message_set_cseq(m, "1 OPTIONS");
	osip_message_set_max_forwards(m, "70");
	b2bua_pbx_prepare(&r, m);
	osip_message_set_user_agent(m, "rtcgate");
	g_free(uri);
	g_free(from);
	t->answered = false;
	t->handle = b->next_handle++;
	if (t->timeout)
		g_source_remove(t->timeout);
	p = g_new0(struct pbx_ping, 1);
	p->b = b;
	p->i = i;
	t->timeout =
	        g_timeout_add_full(G_PRIORITY_DEFAULT, PING_TIMEOUT_MS, ping_timeout, p, g_free);
	sip_stack_request(b->st, r.peer, m, t->handle);
}

static gboolean ping_all(gpointer data)
{
	struct b2bua *b = data;

	for (size_t i = 0; i < sip_pbx_ntargets(b->pbx); i++)
		ping(b, i);
	return G_SOURCE_CONTINUE;
}

bool b2bua_pbx_answer(struct b2bua *b, uint64_t handle, int code)
{
	for (size_t i = 0; b->pbx && i < sip_pbx_ntargets(b->pbx); i++) {
		struct pbx_target *t = &b->targets[i];

		if (t->handle != handle)
			continue;
		t->handle = 0;
		t->answered = code > 0;
		/* any answer is a PBX that is there; a timeout or transport error is not */
		set_up(b, i, code > 0);
		return true;
	}
	return false;
}

static void demo_route(struct b2bua *b, struct b2bua_route *r)
{
	*r = (struct b2bua_route){ .peer = sip_demo_peer(b->demo),
		                   .local = "rtcgate.invalid",
		                   .via = "UDP",
		                   .param = "udp" };
}

bool b2bua_pbx_route(struct b2bua *b, struct b2bua_route *r)
{
	if (b->demo) {
		demo_route(b, r);
		return true;
	}
	for (size_t i = 0; i < sip_pbx_ntargets(b->pbx); i++) {
		if (b->targets[i].up && sip_pbx_ready(b->pbx, i) && route_at(b, i, r))
			return true;
	}
	return false;
}

bool b2bua_pbx_route_of(struct b2bua *b, struct sip_peer *p, struct b2bua_route *r)
{
	int i;

	if (b->demo) {
		demo_route(b, r);
		return p == r->peer;
	}
	i = sip_pbx_index(b->pbx, p);
	return i >= 0 && route_at(b, (size_t)i, r);
}

void b2bua_pbx_prepare(const struct b2bua_route *r, osip_message_t *m)
{
	b2bua_add_via(m, r->via, r->local);
	/* loose routing: the Request-URI stays, the proxy is the top Route */
	if (r->route) {
		osip_route_t *route = NULL;

		if (osip_route_init(&route) == 0 && osip_route_parse(route, r->route) == 0)
			osip_list_add(&m->routes, route, 0);
		else
			osip_route_free(route);
	}
}

char *b2bua_pbx_contact(const struct b2bua_route *r, const char *user, bool sips)
{
	if (sips && strcmp(r->param, "tls") == 0)
		return g_strdup_printf("sips:%s@%s", user, r->local);
	return g_strdup_printf("sip:%s@%s;transport=%s", user, r->local, r->param);
}

static gboolean first_ping(gpointer data)
{
	struct b2bua *b = data;

	b->first_ping = 0;
	ping_all(b);
	return G_SOURCE_REMOVE;
}

void b2bua_pbx_start(struct b2bua *b, int interval)
{
	size_t n = sip_pbx_ntargets(b->pbx);

	b->targets = g_new0(struct pbx_target, n ? n : 1);
	/* until a ping says otherwise a target is taken to be up */
	for (size_t i = 0; i < n; i++)
		b->targets[i].up = true;
	if (interval <= 0)
		return; /* no pings: every target counts as up */
	/* the first round once names are likely resolved, then every interval */
	b->first_ping = g_timeout_add(100, first_ping, b);
	b->ping_timer = g_timeout_add_seconds((guint)interval, ping_all, b);
}

void b2bua_pbx_stop(struct b2bua *b)
{
	for (size_t i = 0; b->targets && b->pbx && i < sip_pbx_ntargets(b->pbx); i++) {
		if (b->targets[i].timeout)
			g_source_remove(b->targets[i].timeout);
	}
	if (b->first_ping)
		g_source_remove(b->first_ping);
	if (b->ping_timer)
		g_source_remove(b->ping_timer);
	g_free(b->targets);
}

void b2bua_pbx_collect(struct b2bua *b, struct metrics *m)
{
	for (size_t i = 0; b->pbx && i < sip_pbx_ntargets(b->pbx); i++)
		metrics_set(m, METRIC_SIP_PBX_UP, b->targets[i].up && sip_pbx_ready(b->pbx, i),
		            (const char *const[]){ sip_pbx_target(b->pbx, i)->name });
}
