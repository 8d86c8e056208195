/* The back-to-back user agent: flows ⇄ PBX (or demo target); registration relay (RFC 3261 §10). */
#include "signaling/b2bua.h"
#include "signaling/b2bua_priv.h"

#include <errno.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/metrics.h"
#include "signaling/sip_demo.h"
#include "signaling/sip_msg.h"
#include "signaling/sip_pbx.h"

#define TOKEN_LEN B2BUA_TOKEN_LEN
/* Retry-After of a 503 when no PBX target can be reached */
#define PBX_DOWN_RETRY "30"

/* A REGISTER on its way to the PBX: the browser's transaction and request. */
struct pending_reg {
	osip_transaction_t *tr;
	struct sip_peer *flow; /* a reference */
	osip_message_t *req;   /* the browser's, for its Vias and Contact */
	char login[65];
	char token[TOKEN_LEN + 1];
};

void b2bua_respond(struct b2bua *b, osip_transaction_t *tr, const osip_message_t *req, int code,
                   const char *reason)
{
	osip_message_t *r = sip_msg_response(req, code, reason, NULL);

	if (!r)
		return;
	if (code == 503)
		osip_message_set_header(r, "Retry-After", PBX_DOWN_RETRY);
	sip_stack_respond(b->st, tr, r);
}

void b2bua_count_register(struct b2bua *b, const char *result)
{
	metrics_add(b->metrics, METRIC_SIP_REGISTER, 1, (const char *const[]){ result });
}

void b2bua_drop_vias(osip_message_t *m)
{
	while (!osip_list_eol(&m->vias, 0)) {
		osip_via_t *v = osip_list_get(&m->vias, 0);

		osip_list_remove(&m->vias, 0);
		osip_via_free(v);
	}
}

void b2bua_drop_routes(osip_message_t *m)
{
	while (!osip_list_eol(&m->routes, 0)) {
		osip_route_t *r = osip_list_get(&m->routes, 0);

		osip_list_remove(&m->routes, 0);
		osip_route_free(r);
	}
}

/* Max-Forwards less one (RFC 3261 §16.6); false when it is used up. */
bool b2bua_forward_hop(osip_message_t *m)
{
	osip_header_t *h = NULL;
	long n = 70;

	osip_message_get_max_forwards(m, 0, &h);
	if (h && h->hvalue)
		n = strtol(h->hvalue, NULL, 10);
	if (n <= 0)
		return false;
	if (h) {
		char v[8];

		g_snprintf(v, sizeof(v), "%ld", n - 1 > 255 ? 255 : n - 1);
		osip_free(h->hvalue);
		h->hvalue = osip_strdup(v);
	} else {
		osip_message_set_max_forwards(m, "69");
	}
	return true;
}

void b2bua_add_via(osip_message_t *m, const char *transport, const char *host)
{
	char branch[8 + 24] = "z9hG4bK";
	char *via;

	sip_msg_token(branch + 7, 20);
	via = g_strdup_printf("SIP/2.0/%s %s;branch=%s;rport", transport, host, branch);
	osip_message_set_via(m, via);
	g_free(via);
}

/*
 * Every Contact URI becomes sip:<token>@<local>;transport=<ours> (sips: for a
 * sips: Request-URI over TLS); its parameters (expires, +sip.instance) stay.
 */
static bool contacts_to_pbx(osip_message_t *m, const char *token, const struct b2bua_route *r)
{
	bool sips = m->req_uri && m->req_uri->scheme && strcmp(m->req_uri->scheme, "sips") == 0;
	char *text = b2bua_pbx_contact(r, token, sips);
	bool ok = true;

	for (int i = 0; i < osip_list_size(&m->contacts) && ok; i++) {
		osip_contact_t *c = osip_list_get(&m->contacts, i);
		osip_uri_t *u = NULL;

		if (!c->url)
			continue; /* "*" */
		ok = osip_uri_init(&u) == 0 && osip_uri_parse(u, text) == 0;
		if (ok) {
			osip_uri_free(c->url);
			c->url = u;
		} else {
			osip_uri_free(u);
		}
	}
	g_free(text);
	return ok;
}

/* The browser's REGISTER as the PBX gets it (pass-through: credentials untouched). */
static osip_message_t *register_to_pbx(const osip_message_t *req, const struct b2bua_route *r,
                                       const char *token, const char **why)
{
	osip_message_t *m = NULL;

	if (osip_message_clone(req, &m) != 0) {
		*why = "Cannot copy the request";
		return NULL;
	}
	if (!b2bua_forward_hop(m)) {
		osip_message_free(m);
		*why = "Too Many Hops";
		return NULL;
	}
	b2bua_drop_vias(m);
	b2bua_drop_routes(m);
	b2bua_pbx_prepare(r, m);
	if (!contacts_to_pbx(m, token, r)) {
		osip_message_free(m);
		*why = "Bad Contact";
		return NULL;
	}
	osip_message_force_update(m);
	return m;
}

/*
 * The PBX's answer as the browser gets it: the browser's Vias, and among
 * the bindings only ours, with the browser's own Contact URI again.
 */
static osip_message_t *register_to_flow(const osip_message_t *resp, const struct pending_reg *p)
{
	osip_message_t *m = NULL;
	osip_contact_t *mine = NULL;

	if (osip_message_clone(resp, &m) != 0)
		return NULL;
	b2bua_drop_vias(m);
	for (int i = 0; i < osip_list_size(&p->req->vias); i++) {
		osip_via_t *v = NULL;

		osip_via_clone(osip_list_get(&p->req->vias, i), &v);
		osip_list_add(&m->vias, v, -1);
	}
	osip_message_get_contact(p->req, 0, &mine);
	for (int i = osip_list_size(&m->contacts) - 1; i >= 0; i--) {
		osip_contact_t *c = osip_list_get(&m->contacts, i);
		osip_uri_t *u = NULL;

		if (c->url && c->url->username && strcmp(c->url->username, p->token) == 0 && mine &&
		    mine->url && osip_uri_clone(mine->url, &u) == 0) {
			osip_uri_free(c->url);
			c->url = u;
			continue;
		}
		osip_list_remove(&m->contacts, i);
		osip_contact_free(c);
	}
	osip_message_force_update(m);
	return m;
}

static void pending_free(gpointer data)
{
	struct pending_reg *p = data;

	sip_peer_unref(p->flow);
	osip_message_free(p->req);
	g_free(p);
}

struct flow_state *b2bua_flow_of(struct sip_peer *peer)
{
	return ((struct ws_flow *)peer)->owner;
}

/* A REGISTER from a flow: only enabled devices reach the PBX (RFC 3261 §10.3 step 3 is the PBX's).
 */
static void flow_register(struct b2bua *b, osip_transaction_t *tr, const osip_message_t *req,
                          struct sip_peer *from)
{
	struct flow_state *fs = b2bua_flow_of(from);
	const char *login = req->to && req->to->url ? req->to->url->username : NULL;
	struct device *dev = NULL;
	struct pending_reg *p;
	struct b2bua_route r;
	const char *why = NULL;
	osip_message_t *fwd;
	bool held;

	if (!login || strlen(login) >= sizeof(fs->login)) {
		b2bua_respond(b, tr, req, 400, "No user in To");
		return;
	}
	if (devices_get(b->dev, login, &dev) != 0 || !dev->enabled) {
		log_info(LOG_SIP, "register refused", "flow=%s login=%s", from->name, login);
		b2bua_count_register(b, "refused");
		b2bua_respond(b, tr, req, 403, "Not an enabled WebRTC device");
		devspec_device_free(dev);
		return;
	}
	held = dev->pbx_password_set;
	devspec_device_free(dev);
	if (fs->registered && strcmp(fs->login, login) != 0) {
		b2bua_respond(b, tr, req, 403, "This flow is registered for another user");
		return;
	}
	if (held) {
		b2bua_held_register(b, tr, req, from, login);
		return;
	}
	if (!b2bua_pbx_route(b, &r)) {
		b2bua_count_register(b, "pbx_down");
		b2bua_respond(b, tr, req, 503, "No PBX reachable");
		return;
	}
	fwd = register_to_pbx(req, &r, fs->token, &why);
	if (!fwd) {
		b2bua_respond(b, tr, req, strcmp(why, "Too Many Hops") == 0 ? 483 : 400, why);
		return;
	}
	p = g_new0(struct pending_reg, 1);
	p->tr = tr;
	p->flow = sip_peer_ref(from);
	osip_message_clone(req, &p->req);
	g_strlcpy(p->login, login, sizeof(p->login));
	g_strlcpy(p->token, fs->token, sizeof(p->token));
	g_hash_table_insert(b->pending, g_memdup2(&b->next_handle, sizeof(uint64_t)), p);
	sip_stack_request(b->st, r.peer, fwd, b->next_handle++);
}

/* The Contact's +sip.ice feature tag (RFC 5768 §4.3): the client does ICE, so it does WebRTC. */
static bool contact_ice(const osip_contact_t *c)
{
	for (int i = 0; i < osip_list_size(&c->gen_params); i++) {
		const osip_generic_param_t *p = osip_list_get(&c->gen_params, i);

		if (p && p->gname && g_ascii_strcasecmp(p->gname, "+sip.ice") == 0)
			return true;
	}
	return false;
}

void b2bua_flow_registered(struct b2bua *b, struct flow_state *fs, bool on, const char *login,
                           const osip_message_t *req)
{
	osip_contact_t *c = NULL;

	if (on && req && osip_message_get_contact(req, 0, &c) >= 0 && c && c->url) {
		osip_uri_free(fs->contact);
		fs->contact = NULL;
		osip_uri_clone(c->url, &fs->contact);
		fs->ice = contact_ice(c);
	}
	if (fs->registered == on)
		return;
	fs->registered = on;
	b->registered += on ? 1 : -1;
	if (on)
		g_strlcpy(fs->login, login, sizeof(fs->login));
	metrics_set(b->metrics, METRIC_SIP_REGISTRATIONS, b->registered, NULL);
	log_info(LOG_SIP, on ? "registered" : "unregistered", "flow=%s login=%s", fs->f->peer.name,
	         fs->login);
}

static void on_response(void *user, uint64_t handle, const osip_message_t *resp)
{
	struct b2bua *b = user;
	struct pending_reg *p = g_hash_table_lookup(b->pending, &handle);
	osip_message_t *out;

	if (!p) {
		if (!b2bua_pbx_answer(b, handle, resp->status_code) &&
		    !b2bua_held_response(b, handle, resp))
			b2bua_call_response(b, handle, resp);
		return;
	}
	if (resp->status_code < 200)
		return;
	out = register_to_flow(resp, p);
	if (out)
		sip_stack_respond(b->st, p->tr, out);
	if (MSG_IS_STATUS_2XX(resp) && !p->flow->closed) {
		/* no binding of ours left in the answer: the browser unregistered */
		b2bua_flow_registered(b, b2bua_flow_of(p->flow),
		                      out && osip_list_size(&out->contacts) > 0, p->login, p->req);
		b2bua_count_register(b, "ok");
	} else {
		b2bua_count_register(b, resp->status_code == 401 || resp->status_code == 407
		                                ? "challenged"
		                                : "failed");
	}
	g_hash_table_remove(b->pending, &handle);
}

static void on_failed(void *user, uint64_t handle, int code)
{
	struct b2bua *b = user;
	struct pending_reg *p = g_hash_table_lookup(b->pending, &handle);

	if (!p) {
		if (!b2bua_pbx_answer(b, handle, 0) && !b2bua_held_failed(b, handle, code))
			b2bua_call_failed(b, handle, code);
		return;
	}
	b2bua_count_register(b, "failed");
	b2bua_respond(b, p->tr, p->req, code == 408 ? 408 : 503,
	              code == 408 ? "PBX did not answer" : "PBX unreachable");
	g_hash_table_remove(b->pending, &handle);
}

static void on_request(void *user, osip_transaction_t *tr, const osip_message_t *req,
                       struct sip_peer *from)
{
	struct b2bua *b = user;

	if (MSG_IS_OPTIONS(req)) {
		osip_message_t *r = sip_msg_response(req, 200, NULL, NULL);

		if (r) {
			osip_message_set_allow(r, "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, "
			                          "UPDATE, REGISTER");
			sip_stack_respond(b->st, tr, r);
		}
		return;
	}
	if (MSG_IS_REGISTER(req) && from->kind == SIP_PEER_FLOW) {
		flow_register(b, tr, req, from);
		return;
	}
	if (b2bua_call_request(b, tr, req, from))
		return;
	if (MSG_IS_INVITE(req)) {
		b2bua_call_invite(b, tr, req, from);
		return;
	}
	/* in-dialog requests of no call of ours, and methods we do not serve */
	b2bua_respond(b, tr, req, MSG_IS_BYE(req) || MSG_IS_CANCEL(req) ? 481 : 501, NULL);
}

static void on_stray(void *user, const osip_message_t *resp, struct sip_peer *from)
{
	b2bua_call_stray(user, resp, from);
}

static void on_ack(void *user, const osip_message_t *ack, struct sip_peer *from)
{
	b2bua_call_ack(user, ack, from);
}

static const struct sip_stack_handlers handlers = {
	.request = on_request,
	.ack = on_ack,
	.response = on_response,
	.failed = on_failed,
	.stray = on_stray,
};

/* From the PBX socket or the demo target. */
static void pbx_rx(void *user, struct sip_peer *from, const char *buf, size_t len)
{
	struct b2bua *b = user;

	sip_stack_receive(b->st, from, buf, len);
}

/* A PBX connection failed: what went over it will not be answered. */
static void pbx_lost(void *user, struct sip_peer *p)
{
	struct b2bua *b = user;

	sip_stack_peer_lost(b->st, p);
}

static const struct sip_pbx_handlers pbx_handlers = { .rx = pbx_rx, .lost = pbx_lost };

static void flow_open(void *user, struct ws_flow *f)
{
	struct b2bua *b = user;
	struct flow_state *fs = g_new0(struct flow_state, 1);

	fs->f = f;
	sip_msg_token(fs->token, TOKEN_LEN);
	f->owner = fs;
	g_hash_table_insert(b->flows, fs->token, fs);
}

static void flow_message(void *user, struct ws_flow *f, const char *buf, size_t len)
{
	struct b2bua *b = user;

	sip_stack_receive(b->st, &f->peer, buf, len);
}

static void flow_closed(void *user, struct ws_flow *f)
{
	struct b2bua *b = user;
	struct flow_state *fs = f->owner;

	if (!fs)
		return;
	b2bua_call_flow_closed(b, fs);
	b2bua_held_flow_closed(b, fs);
	b2bua_flow_registered(b, fs, false, NULL, NULL);
	osip_uri_free(fs->contact);
	g_hash_table_remove(b->flows, fs->token);
	f->owner = NULL;
	g_free(fs);
}

static const struct ws_sip_handler ws_handler = {
	.open = flow_open,
	.message = flow_message,
	.closed = flow_closed,
};

const struct ws_sip_handler *b2bua_ws_handler(void)
{
	return &ws_handler;
}

void b2bua_device_changed(struct b2bua *b, const char *login, enum devices_event ev)
{
	GHashTableIter it;
	gpointer k, v;

	if (ev != DEVICES_DISABLED && ev != DEVICES_REMOVED)
		return;
	b2bua_held_device_gone(b, login);
	g_hash_table_iter_init(&it, b->flows);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct flow_state *fs = v;

		if (fs->registered && strcmp(fs->login, login) == 0) {
			log_info(LOG_SIP, "flow ended", "flow=%s login=%s reason=device_disabled",
			         fs->f->peer.name, login);
			ws_flow_close(fs->f, "device disabled");
		}
	}
}

/* At scrape time: what the transaction layer and the PBX side counted. */
static void collect(void *arg, struct metrics *m)
{
	struct b2bua *b = arg;
	struct sip_stack_stats s;
	struct sip_pbx_stats ps = { 0 };
	unsigned setup, answered;

	sip_stack_stats(b->st, &s);
	b2bua_calls_count(b, &setup, &answered);
	metrics_set(m, METRIC_SIP_CALLS, setup, (const char *const[]){ "setup" });
	metrics_set(m, METRIC_SIP_CALLS, answered, (const char *const[]){ "answered" });
	for (int i = 0; i < 600; i++) {
		char code[4];

		if (!s.responses_out[i])
			continue;
		g_snprintf(code, sizeof(code), "%d", i + 100);
		metrics_set(m, METRIC_SIP_RESPONSES, (int64_t)s.responses_out[i],
		            (const char *const[]){ code });
	}
	metrics_set(m, METRIC_SIP_DROPPED, (int64_t)s.malformed,
	            (const char *const[]){ "malformed" });
	if (b->pbx)
		sip_pbx_stats(b->pbx, &ps);
	metrics_set(m, METRIC_SIP_DROPPED, (int64_t)ps.not_pbx, (const char *const[]){ "not_pbx" });
	metrics_set(m, METRIC_SIP_DROPPED, (int64_t)ps.too_big, (const char *const[]){ "too_big" });
	metrics_set(m, METRIC_SIP_DROPPED, (int64_t)ps.framing, (const char *const[]){ "framing" });
	b2bua_pbx_collect(b, m);
}

int b2bua_start(const struct conf *c, struct devices *devices, struct media_pool *media,
                struct metrics *metrics, struct b2bua **out, char **why)
{
	struct b2bua *b = g_new0(struct b2bua, 1);
	int rc = 0;

	b->dev = devices;
	b->media = media;
	b2bua_calls_new(b);
	b->metrics = metrics;
	b->next_handle = 1;
	b->invite_timeout = c->sip.invite_timeout;
	b->flows = g_hash_table_new(g_str_hash, g_str_equal);
	b->pending = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, pending_free);
	b2bua_auth_new(b);
	b2bua_held_new(b, devices_realm(c->sip.realm));
	b->st = sip_stack_new(&handlers, b);
	if (!c->sip.pbx[0])
		b->demo = sip_demo_new(pbx_rx, b);
	else
		rc = sip_pbx_start(c, &pbx_handlers, b, &b->pbx, why);
	if (!rc && b->pbx)
		b2bua_pbx_start(b, c->sip.options_interval);
	if (rc) {
		b2bua_free(b);
		return rc;
	}
	metrics_add_collector(metrics, collect, b);
	*out = b;
	return 0;
}

void b2bua_free(struct b2bua *b)
{
	if (!b)
		return;
	metrics_remove_collector(b->metrics, collect, b);
	b2bua_calls_free(b);
	b2bua_held_free(b);
	b2bua_auth_free(b);
	if (b->pbx)
		b2bua_pbx_stop(b);
	sip_stack_free(b->st);
	g_hash_table_destroy(b->pending);
	sip_demo_free(b->demo);
	sip_pbx_free(b->pbx);
	g_hash_table_destroy(b->flows);
	g_free(b);
}
