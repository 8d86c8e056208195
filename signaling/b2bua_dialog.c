/*
 * The B2BUA's in-dialog requests (RFC 3261 §12.2, §15): BYE ends the call,
 * re-INVITE, UPDATE, INFO, REFER, NOTIFY and the others are relayed to the
 * other leg and their answers carried back; session timers (RFC 4028) are
 * watched.
 */
#include <string.h>

#include "core/log.h"
#include "signaling/b2bua_call_priv.h"

/* An in-dialog request carried to the other side, waiting for its answer. */
struct relayed {
	uint64_t call;          /* its handle: the call may end before the answer comes */
	osip_transaction_t *tr; /* the server transaction on the side that sent it */
	osip_message_t *req;
	bool from_in;
};

/* A request inside leg l's dialog (RFC 3261 §12.2.1.1): method, CSeq (0: the next one). */
osip_message_t *b2bua_leg_request(struct call_leg *l, const char *method, int cseq)
{
	osip_dialog_t *d = l->dialog;
	osip_message_t *m = NULL;
	char num[16];

	if (!d || osip_message_init(&m) != 0)
		return NULL;
	osip_message_set_method(m, osip_strdup(method));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	osip_uri_clone(d->remote_contact_uri ? d->remote_contact_uri->url : d->remote_uri->url,
	               &m->req_uri);
	osip_from_clone(d->local_uri, &m->from);
	osip_from_set_tag(m->from, osip_strdup(d->local_tag));
	osip_to_clone(d->remote_uri, &m->to);
	if (d->remote_tag)
		osip_to_set_tag(m->to, osip_strdup(d->remote_tag));
	osip_message_set_call_id(m, d->call_id);
	g_snprintf(num, sizeof(num), "%d %s", cseq ? cseq : ++d->local_cseq, method);
	osip_message_set_cseq(m, num);
	for (int i = 0; i < osip_list_size(&d->route_set); i++) {
		osip_route_t *r = osip_list_get(&d->route_set, i), *copy = NULL;

		osip_route_clone(r, &copy);
		osip_list_add(&m->routes, copy, -1);
	}
	osip_message_set_max_forwards(m, "70");
	/* toward the PBX through a proxy that did not record-route: the proxy's Route still */
	if (osip_list_size(&d->route_set) == 0)
		b2bua_leg_via(l, m);
	else
		b2bua_add_via(m, l->r.via, l->host);
	osip_message_set_user_agent(m, "rtcgate");
	return m;
}

void b2bua_leg_bye_reason(struct call *c, struct call_leg *l, const char *reason)
{
	osip_message_t *bye = b2bua_leg_request(l, "BYE", 0);

	if (!bye)
		return;
	if (reason)
		osip_message_set_header(bye, "Reason", reason);
	sip_stack_request(c->b->st, l->peer, bye, 0);
}

void b2bua_leg_bye(struct call *c, struct call_leg *l)
{
	b2bua_leg_bye_reason(c, l, NULL);
}

/*
 * Session timers (RFC 4028). Both ends refresh a session by re-INVITE or
 * UPDATE, and rtcgate carries Session-Expires across; it also watches:
 * every 2xx to an INVITE or UPDATE with Session-Expires S restarts a timer
 * of S - min(32, S/3) seconds (§10), and when it runs out with no refresh,
 * the session is dead: BYE both ways, so a vanished end does not leave the
 * other with a call (and its media ports) forever. A 2xx without the header
 * turns the watch off (§9: no session timer for the session).
 */
static gboolean session_expired(gpointer data)
{
	struct call *c = data;

	c->se_timer = 0;
	log_info(LOG_SIP, "session expired", "login=%s interval=%u", c->login, c->se_interval);
	b2bua_leg_bye(c, &c->in);
	b2bua_leg_bye(c, &c->out);
	b2bua_call_end(c, "session_expired");
	return G_SOURCE_REMOVE;
}

/* Session-Expires of ok in seconds (90 s minimum is the ends' business, not ours); 0: none. */
static unsigned session_expires(const osip_message_t *ok)
{
	osip_header_t *h = NULL;
	unsigned long s = 0;
	char *end = NULL;

	if (osip_message_header_get_byname(ok, "session-expires", 0, &h) < 0 &&
	    osip_message_header_get_byname(ok, "x", 0, &h) < 0)
		return 0;
	if (!h || !h->hvalue || !g_ascii_isdigit(h->hvalue[0]))
		return 0;
	s = strtoul(h->hvalue, &end, 10);
	if (*end != '\0' && *end != ';' && *end != ' ')
		return 0;
	return s >= 1 && s <= 86400 ? (unsigned)s : 0;
}

void b2bua_session_refreshed(struct call *c, const osip_message_t *ok)
{
	unsigned s = session_expires(ok);

	if (c->se_timer)
		g_source_remove(c->se_timer);
	c->se_timer = 0;
	c->se_interval = s;
	if (s)
		c->se_timer = g_timeout_add_seconds(s - MIN(32u, s / 3), session_expired, c);
}

void b2bua_relay_free(gpointer p)
{
	struct relayed *r = p;

	osip_message_free(r->req);
	g_free(r);
}

/* An in-dialog request other than BYE and CANCEL: the same method on the other leg. */
static void relay_request(struct call *c, osip_transaction_t *tr, const osip_message_t *req,
                          bool from_in)
{
	struct call_leg *from = from_in ? &c->in : &c->out, *to = from_in ? &c->out : &c->in;
	osip_message_t *m = b2bua_leg_request(to, req->sip_method, 0);
	struct relayed *r;
	const char *why = NULL;
	osip_body_t *body = NULL;
	osip_content_type_t *ct = osip_message_get_content_type(req);
	int rc = 0;

	if (!m) {
		b2bua_respond(c->b, tr, req, 491, "Dialog not ready");
		return;
	}
	if (MSG_IS_INVITE(req) || MSG_IS_UPDATE(req)) {
		b2bua_leg_contact(c, to, m);
		rc = b2bua_sdp_across(c, from, to, req, m, &why);
	} else if (osip_message_get_body(req, 0, &body) >= 0 && body && body->body && ct) {
		/* INFO (DTMF), REFER's sipfrag, …: the body as it came */
		char *type = NULL;

		osip_content_type_to_str(ct, &type);
		osip_message_set_content_type(m, type);
		osip_message_set_body(m, body->body, body->length);
		osip_free(type);
	}
	if (rc) {
		osip_message_free(m);
		b2bua_respond(c->b, tr, req, rc, why);
		return;
	}
	for (const char *const *h =
	             (const char *const[]){ "Refer-To", "Event", "Subscription-State",
	                                    "Session-Expires", NULL };
	     *h; h++) {
		const char *v = sip_msg_header(req, *h);

		if (v)
			osip_message_set_header(m, *h, v);
	}
	r = g_new0(struct relayed, 1);
	r->call = c->handle;
	r->tr = tr;
	r->from_in = from_in;
	osip_message_clone(req, &r->req);
	g_hash_table_insert(c->b->relays, g_memdup2(&c->b->next_handle, sizeof(uint64_t)), r);
	sip_stack_request(c->b->st, to->peer, m, c->b->next_handle++);
}

void b2bua_dialog_request(struct call *c, osip_transaction_t *tr, const osip_message_t *req,
                          bool from_in)
{
	struct b2bua *b = c->b;

	if (MSG_IS_INVITE(req) && !c->answered) {
		b2bua_respond(b, tr, req, 491, "Request Pending");
		return;
	}
	if (b2bua_trickle_request(c, tr, req, from_in))
		return; /* for the WebRTC leg only (RFC 8840) */
	if (MSG_IS_BYE(req)) {
		b2bua_respond(b, tr, req, 200, NULL);
		b2bua_leg_bye(c, from_in ? &c->out : &c->in);
		b2bua_call_end(c, from_in ? "bye_caller" : "bye_callee");
		return;
	}
	relay_request(c, tr, req, from_in);
}

bool b2bua_relay_response(struct b2bua *b, uint64_t handle, const osip_message_t *resp)
{
	struct relayed *r = g_hash_table_lookup(b->relays, &handle);
	struct call *c;
	osip_message_t *m;
	const char *why = NULL;

	if (!r)
		return false;
	if (resp->status_code < 200)
		return true;
	c = g_hash_table_lookup(b->calls, &r->call);
	m = sip_msg_response(r->req, resp->status_code, resp->reason_phrase, NULL);
	if (c && resp->status_code >= 300 && (MSG_IS_INVITE(r->req) || MSG_IS_UPDATE(r->req)))
		b2bua_webrtc_offer_failed(c->web); /* the offer it carried is void (RFC 3264 §5) */
	if (m && c && MSG_IS_STATUS_2XX(resp) && (MSG_IS_INVITE(r->req) || MSG_IS_UPDATE(r->req))) {
		struct call_leg *from = r->from_in ? &c->out : &c->in,
		                *to = r->from_in ? &c->in : &c->out;

		b2bua_leg_contact(c, to, m);
		b2bua_sdp_across(c, from, to, resp, m, &why);
		b2bua_session_refreshed(c, resp);
		if (MSG_IS_INVITE(r->req)) {
			osip_message_t *ack =
			        b2bua_leg_request(from, "ACK", osip_atoi(resp->cseq->number));

			if (ack) {
				sip_peer_send(from->peer, ack);
				osip_message_free(ack);
			}
		}
	}
	if (m)
		sip_stack_respond(b->st, r->tr, m);
	g_hash_table_remove(b->relays, &handle);
	return true;
}

bool b2bua_relay_failed(struct b2bua *b, uint64_t handle, int code)
{
	struct relayed *r = g_hash_table_lookup(b->relays, &handle);

	if (!r)
		return false;
	b2bua_respond(b, r->tr, r->req, code == 408 ? 408 : 503, NULL);
	g_hash_table_remove(b->relays, &handle);
	return true;
}
