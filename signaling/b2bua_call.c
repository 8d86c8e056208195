/*
 * The B2BUA's calls (RFC 3261 §12-§15): an INVITE from one side (a flow or
 * the PBX) becomes a new INVITE on the other, with its own Call-ID, tags and
 * Via, and the media anchored on a media session; answers, ACK and CANCEL
 * are carried across, timer C (§16.6) and our 2xx's retransmission
 * (§13.3.1.4) run here. In-dialog requests are in b2bua_dialog.c, SDP and
 * carried headers in b2bua_sdp.c.
 */
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "signaling/b2bua_call_priv.h"
#include "signaling/sip_demo.h"

/* After a CANCEL, how long the other side may take to end its INVITE: 64*T1 (RFC 3261 §9.1). */
#define CANCEL_GRACE_S 32
/* RFC 3261 §17.1.1.1: the round-trip estimate and the longest retransmission interval. */
#define SIP_T1_MS 500
#define SIP_T2_MS 4000

static void leg_key(struct call_leg *l, const char *call_id)
{
	g_snprintf(l->key, sizeof(l->key), "%p/%s", (void *)l->peer, call_id);
}

static void call_free(struct call *c)
{
	struct b2bua *b = c->b;

	if (c->in.key[0])
		g_hash_table_remove(b->dialogs, c->in.key);
	if (c->out.key[0])
		g_hash_table_remove(b->dialogs, c->out.key);
	if (c->flow && c->flow->calls)
		c->flow->calls--;
	media_session_free(c->media);
	for (struct call_leg *l = &c->in; l; l = l == &c->in ? &c->out : NULL) {
		sip_peer_unref(l->peer);
		if (l->dialog)
			osip_dialog_free(l->dialog);
	}
	osip_message_free(c->in_invite);
	osip_message_free(c->out_invite);
	osip_message_free(c->out_ack);
	if (c->timer_c)
		g_source_remove(c->timer_c);
	if (c->ok_timer)
		g_source_remove(c->ok_timer);
	if (c->se_timer)
		g_source_remove(c->se_timer);
	osip_message_free(c->in_ok);
	b2bua_webrtc_free(c->web);
	b2bua_sdes_free(c->sdes);
	g_free(c->codecs);
	g_free(c);
}

/* End the call: the log line, then everything goes (the handle's entry too). */
void b2bua_call_end(struct call *c, const char *why)
{
	struct media_stats st = { 0 };
	char web[256], quality[256] = "";
	char *call_id = NULL;

	if (c->media) {
		media_session_stats(c->media, &st);
		media_session_quality_text(c->media, quality, sizeof(quality));
	}
	if (c->in_invite && c->in_invite->call_id)
		osip_call_id_to_str(c->in_invite->call_id, &call_id);
	b2bua_webrtc_describe(c, web, sizeof(web));
	metrics_add(c->b->metrics, METRIC_SIP_CALLS_ENDED, 1, (const char *const[]){ why });
	log_info(LOG_SIP, "call end",
	         "login=%s reason=%s call_id=%s a_in=%" G_GUINT64_FORMAT " a_out=%" G_GUINT64_FORMAT
	         " b_in=%" G_GUINT64_FORMAT " b_out=%" G_GUINT64_FORMAT "%s%s",
	         c->login, why, call_id ? call_id : "-", st.leg[MEDIA_LEG_A].packets_in,
	         st.leg[MEDIA_LEG_A].packets_out, st.leg[MEDIA_LEG_B].packets_in,
	         st.leg[MEDIA_LEG_B].packets_out, quality, web);
	osip_free(call_id);
	g_hash_table_remove(c->b->calls, &c->handle); /* frees it */
}

struct call *b2bua_call_find(struct b2bua *b, struct sip_peer *from, const char *call_id,
                             bool *from_in)
{
	char key[300];
	struct call *c;

	g_snprintf(key, sizeof(key), "%p/%s", (void *)from, call_id);
	c = g_hash_table_lookup(b->dialogs, key);
	if (c)
		*from_in = strcmp(c->in.key, key) == 0;
	return c;
}

/* Our Via toward leg l and, toward the PBX through an outbound proxy, its Route. */
void b2bua_leg_via(struct call_leg *l, osip_message_t *m)
{
	if (l->peer->kind == SIP_PEER_FLOW)
		b2bua_add_via(m, l->r.via, l->host);
	else
		b2bua_pbx_prepare(&l->r, m);
}

/* CANCEL of the outbound INVITE (RFC 3261 §9.1): its Request-URI, Call-ID, From, To, top Via. */
static void send_cancel(struct call *c)
{
	osip_message_t *m = NULL;
	osip_via_t *via = NULL;
	char num[24];

	if (!c->out_invite || osip_message_init(&m) != 0)
		return;
	osip_message_set_method(m, osip_strdup("CANCEL"));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	osip_uri_clone(c->out_invite->req_uri, &m->req_uri);
	osip_from_clone(c->out_invite->from, &m->from);
	osip_to_clone(c->out_invite->to, &m->to);
	osip_call_id_clone(c->out_invite->call_id, &m->call_id);
	g_snprintf(num, sizeof(num), "%s CANCEL", c->out_invite->cseq->number);
	osip_message_set_cseq(m, num);
	osip_via_clone(osip_list_get(&c->out_invite->vias, 0), &via);
	osip_list_add(&m->vias, via, -1);
	/* RFC 3261 §9.1: the same Route header fields as the INVITE */
	for (int i = 0; i < osip_list_size(&c->out_invite->routes); i++) {
		osip_route_t *r = NULL;

		osip_route_clone(osip_list_get(&c->out_invite->routes, i), &r);
		osip_list_add(&m->routes, r, -1);
	}
	osip_message_set_max_forwards(m, "70");
	sip_stack_request(c->b->st, c->out.peer, m, 0);
}

void b2bua_call_abort(struct call *c, int code, const char *why)
{
	if (c->in_tr) {
		b2bua_respond(c->b, c->in_tr, c->in_invite, code, why);
		c->in_tr = NULL;
	}
	if (!c->cancelled)
		send_cancel(c);
	c->cancelled = true;
}

static bool leg_setup(struct b2bua *b, struct call_leg *l, struct sip_peer *peer,
                      enum media_leg media)
{
	struct b2bua_route r;

	l->peer = sip_peer_ref(peer);
	l->media = media;
	l->sdp_id = g_random_int();
	if (peer->kind == SIP_PEER_FLOW) {
		l->r = (struct b2bua_route){ .via = "WSS", .param = "ws" };
		g_strlcpy(l->host, FLOW_HOST, sizeof(l->host));
		return true;
	}
	if (!b2bua_pbx_route_of(b, peer, &r))
		return false;
	l->r = r;
	l->r.peer = NULL; /* l->peer holds the reference */
	l->r.local = l->host;
	g_strlcpy(l->host, r.local, sizeof(l->host));
	return true;
}

/* The key of a challenged setup: the browser's flow and Call-ID. */
static void memo_key(const struct call *c, const osip_message_t *browser_invite, char *key,
                     size_t cap)
{
	g_snprintf(key, cap, "%p/%s", (void *)c->in.peer, browser_invite->call_id->number);
}

/*
 * Pass-through: the browser answers a relayed challenge with a new INVITE
 * (same Call-ID, CSeq one up, RFC 3261 §22.2); it becomes the next INVITE
 * of the challenged setup on our side too, with the browser's credentials.
 */
static void retry_setup(struct call *c, const osip_message_t *req, osip_message_t *m)
{
	struct b2bua_auth_memo memo;
	char key[300], num[24];

	if (osip_list_size(&req->authorizations) + osip_list_size(&req->proxy_authorizations) == 0)
		return;
	b2bua_auth_copy_credentials(req, m);
	memo_key(c, req, key, sizeof(key));
	if (!b2bua_auth_recall(c->b, key, &memo))
		return;
	osip_call_id_free(m->call_id);
	m->call_id = NULL;
	osip_message_set_call_id(m, memo.call_id);
	osip_generic_param_freelist(&m->from->gen_params);
	osip_from_set_tag(m->from, osip_strdup(memo.from_tag));
	osip_cseq_free(m->cseq);
	m->cseq = NULL;
	g_snprintf(num, sizeof(num), "%d INVITE", memo.cseq + 1);
	osip_message_set_cseq(m, num);
}

/* The outbound INVITE: the caller's From with our tag, its To, our Call-ID, Via and Contact. */
static osip_message_t *outbound_invite(struct call *c, const osip_message_t *req,
                                       const osip_uri_t *target, const char **why, int *code)
{
	osip_message_t *m = NULL;
	char tag[17], cid[40];
	int rc;

	if (osip_message_init(&m) != 0) {
		*code = 500;
		return NULL;
	}
	osip_message_set_method(m, osip_strdup("INVITE"));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	osip_uri_clone(target, &m->req_uri);
	osip_from_clone(req->from, &m->from);
	osip_generic_param_freelist(&m->from->gen_params);
	sip_msg_token(tag, 16);
	osip_from_set_tag(m->from, osip_strdup(tag));
	osip_to_clone(req->to, &m->to);
	sip_msg_token(cid, 32);
	osip_message_set_call_id(m, cid);
	osip_message_set_cseq(m, "1 INVITE");
	if (!c->held && c->in.peer->kind == SIP_PEER_FLOW)
		retry_setup(c, req, m);
	{
		osip_header_t *mf = NULL;

		osip_message_get_max_forwards(req, 0, &mf);
		if (mf && mf->hvalue)
			osip_message_set_max_forwards(m, mf->hvalue);
	}
	if (!b2bua_forward_hop(m)) {
		*code = 483;
		*why = "Too Many Hops";
		osip_message_free(m);
		return NULL;
	}
	b2bua_leg_via(&c->out, m);
	b2bua_leg_contact(c, &c->out, m);
	osip_message_set_allow(m, "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, UPDATE");
	osip_message_set_user_agent(m, "rtcgate");
	b2bua_carry_headers(req, m);
	rc = b2bua_sdp_across(c, &c->in, &c->out, req, m, why);
	if (rc) {
		*code = rc;
		osip_message_free(m);
		return NULL;
	}
	b2bua_trickle_advertise(c, &c->out, m);
	return m;
}

/*
 * Who may call whom: from a flow, a registered, enabled device under its
 * max_calls (*to stays NULL: the PBX route is taken later); from the PBX, a
 * flow's token in the Request-URI (*to is that flow, *target its Contact).
 * 0, or the SIP status of the refusal with *why.
 */
static int admit(struct b2bua *b, const osip_message_t *req, struct sip_peer *from,
                 struct flow_state **fs, struct sip_peer **to, const osip_uri_t **target,
                 const char **why)
{
	struct device *dev = NULL;
	int code = 0;

	if (from->kind != SIP_PEER_FLOW) {
		const char *token = req->req_uri->username;

		*fs = token ? g_hash_table_lookup(b->flows, token) : NULL;
		if ((!*fs || !(*fs)->registered) && token && b2bua_held_has_token(b, token)) {
			/* held at the PBX, but no flow attached now (RFC 3261 §21.4.18) */
			*why = "Temporarily Unavailable";
			return 480;
		}
		if (!*fs || !(*fs)->registered || !(*fs)->contact) {
			*why = "Not registered here";
			return 404;
		}
		*target = (*fs)->contact;
		*to = &(*fs)->f->peer;
		return 0;
	}
	*fs = b2bua_flow_of(from);
	if (!*fs || !(*fs)->registered) {
		*why = "Register first";
		code = 403;
	} else if (devices_get(b->dev, (*fs)->login, &dev) != 0 || !dev->enabled) {
		*why = "Not an enabled WebRTC device";
		code = 403;
	} else if ((*fs)->calls >= (unsigned)dev->max_calls) {
		*why = "Device call limit reached";
		code = 486;
	}
	devspec_device_free(dev);
	return code;
}

/*
 * Timer C (RFC 3261 §16.6 step 11), sip.invite_timeout after the INVITE went
 * out with no final answer: 408 to the caller, CANCEL to the other side if
 * it answered provisionally (§9.1; else its own timer B ends it). Should the
 * other side still not end its INVITE within 64*T1, the transaction is
 * abandoned and the call ends.
 */
static gboolean timer_c_fired(gpointer data)
{
	struct call *c = data;

	c->timer_c = 0;
	if (c->timed_out) {
		log_info(LOG_SIP, "invite abandoned", "login=%s", c->login);
		sip_stack_abandon(c->b->st, c->handle);
		b2bua_call_end(c, "timeout");
		return G_SOURCE_REMOVE;
	}
	c->timed_out = true;
	log_info(LOG_SIP, "invite timeout", "login=%s after=%ds provisional=%d", c->login,
	         c->b->invite_timeout, c->provisional);
	if (c->in_tr) {
		b2bua_respond(c->b, c->in_tr, c->in_invite, SIP_REQUEST_TIME_OUT,
		              "No answer from the other side");
		c->in_tr = NULL;
	}
	if (!c->cancelled && c->provisional)
		send_cancel(c);
	c->cancelled = true;
	c->timer_c = g_timeout_add_seconds(CANCEL_GRACE_S, timer_c_fired, c);
	return G_SOURCE_REMOVE;
}

/* The outbound INVITE goes: the call is known by its handle and both dialogs' keys. */
static void call_launch(struct call *c, const osip_message_t *req, osip_message_t *inv,
                        struct sip_peer *from)
{
	struct b2bua *b = c->b;

	osip_message_clone(inv, &c->out_invite);
	c->handle = b->next_handle++;
	leg_key(&c->in, req->call_id->number);
	leg_key(&c->out, inv->call_id->number);
	g_hash_table_insert(b->calls, g_memdup2(&c->handle, sizeof(c->handle)), c);
	g_hash_table_insert(b->dialogs, c->in.key, c);
	g_hash_table_insert(b->dialogs, c->out.key, c);
	log_info(LOG_SIP, "call start", "login=%s from=%s to=%s media=%u late=%d", c->login,
	         from->name, c->out.peer->name, media_session_id(c->media), c->late);
	c->timer_c = g_timeout_add_seconds((guint)b->invite_timeout, timer_c_fired, c);
	sip_stack_request(b->st, c->out.peer, inv, c->handle);
}

/*
 * Both legs of a new call and its media session: toward `to`, or when it
 * is NULL toward the first PBX target up (or the demo, whose "echo" user
 * loops the media back). 0, or the SIP status of the refusal with *why.
 */
static int call_legs(struct call *c, struct sip_peer *from, struct sip_peer *to,
                     const osip_uri_t *target, const char **why)
{
	struct b2bua *b = c->b;

	leg_setup(b, &c->in, from, from->kind == SIP_PEER_FLOW ? MEDIA_LEG_A : MEDIA_LEG_B);
	if (!to) {
		struct b2bua_route r;

		if (!b2bua_pbx_route(b, &r)) {
			*why = "No PBX reachable";
			return 503;
		}
		to = r.peer;
		c->echo = b->demo != NULL && target->username &&
		          strcmp(target->username, "echo") == 0;
	}
	if (!leg_setup(b, &c->out, to, to->kind == SIP_PEER_FLOW ? MEDIA_LEG_A : MEDIA_LEG_B)) {
		*why = "No PBX reachable";
		return 503;
	}
	if (media_session_new(b->media, &c->media) != 0) {
		*why = "No media ports";
		return 503;
	}
	if (c->echo)
		media_session_set_echo(c->media, MEDIA_LEG_B);
	return 0;
}

void b2bua_call_invite(struct b2bua *b, osip_transaction_t *tr, const osip_message_t *req,
                       struct sip_peer *from)
{
	struct call *c = g_new0(struct call, 1);
	const osip_uri_t *target = req->req_uri;
	struct flow_state *fs = NULL;
	struct sip_peer *to = NULL;
	const char *why = "Server Internal Error";
	osip_message_t *trying, *inv;
	int code = 500;

	c->b = b;
	c->in_tr = tr;
	osip_message_clone(req, &c->in_invite);
	sip_msg_token(c->in_tag, 16);
	code = admit(b, req, from, &fs, &to, &target, &why);
	if (code)
		goto refuse;
	g_strlcpy(c->login, fs->login, sizeof(c->login));
	c->flow = fs;
	c->held = from->kind == SIP_PEER_FLOW && fs->held != NULL;
	fs->calls++;
	c->codecs = b2bua_sdp_codecs(b, fs->login);
	c->late = !b2bua_sdp_present(req);
	code = call_legs(c, from, to, target, &why);
	if (code)
		goto refuse;
	/* a provisional answer at once stops the caller's retransmissions over UDP */
	trying = sip_msg_response(req, 100, NULL, NULL);
	if (trying)
		sip_stack_respond(b->st, tr, trying);
	inv = outbound_invite(c, req, target, &why, &code);
	if (!inv)
		goto refuse;
	call_launch(c, req, inv, from);
	return;
refuse:
	metrics_add(b->metrics, METRIC_SIP_CALLS_ENDED, 1, (const char *const[]){ "refused_here" });
	log_info(LOG_SIP, "call refused", "from=%s code=%d reason=\"%s\"", from->name, code, why);
	b2bua_respond(b, tr, req, code, why);
	c->in_tr = NULL;
	call_free(c);
}

/* ACK of a 2xx (RFC 3261 §13.2.2.4): our own, at once (a late offer's once the caller's ACK brings
 * the answer). */
static void ack_out(struct call *c)
{
	if (!c->out_ack)
		c->out_ack =
		        b2bua_leg_request(&c->out, "ACK", osip_atoi(c->out_invite->cseq->number));
	if (c->out_ack)
		sip_peer_send(c->out.peer, c->out_ack);
}

/*
 * libosip2 ends the INVITE server transaction with the 2xx, so sending it
 * again until the ACK is ours (RFC 3261 §13.3.1.4): over UDP at T1, doubling
 * up to T2; no ACK within 64*T1 and the call ends, BYE both ways.
 */
static gboolean ok_again(gpointer data)
{
	struct call *c = data;

	c->ok_timer = 0;
	c->ok_sum += c->ok_interval;
	if (c->ok_sum >= 64 * SIP_T1_MS) {
		log_info(LOG_SIP, "no ack", "login=%s", c->login);
		b2bua_leg_bye(c, &c->in);
		b2bua_leg_bye(c, &c->out);
		b2bua_call_end(c, "no_ack");
		return G_SOURCE_REMOVE;
	}
	sip_peer_send(c->in.peer, c->in_ok);
	c->ok_interval = MIN(c->ok_interval * 2, SIP_T2_MS);
	c->ok_timer = g_timeout_add(c->ok_interval, ok_again, c);
	return G_SOURCE_REMOVE;
}

/* Our 2xx toward the caller goes: kept for its retransmissions (and a retransmitted INVITE). */
static void ok_sent(struct call *c, const osip_message_t *ok)
{
	if (c->in_ok)
		return;
	osip_message_clone(ok, &c->in_ok);
	if (c->in_ok && c->in.peer->kind != SIP_PEER_FLOW) {
		c->ok_interval = SIP_T1_MS;
		c->ok_timer = g_timeout_add(c->ok_interval, ok_again, c);
	}
}

/* The outbound side's answer, carried to the inbound side with our tag, Contact and SDP. */
static void answer_in(struct call *c, const osip_message_t *resp)
{
	osip_message_t *r =
	        sip_msg_response(c->in_invite, resp->status_code, resp->reason_phrase, c->in_tag);
	const char *why = NULL;
	int rc;

	if (!r)
		return;
	b2bua_carry_headers(resp, r);
	if (resp->status_code < 300)
		b2bua_trickle_advertise(c, &c->in, r);
	if (resp->status_code == 401 || resp->status_code == 407)
		b2bua_auth_copy_challenges(resp, r); /* pass-through: the browser answers */
	if (resp->status_code < 300) {
		b2bua_leg_contact(c, &c->in, r);
		rc = b2bua_sdp_across(c, &c->out, &c->in, resp, r, &why);
		if (rc) {
			/* the other side's SDP is unusable: refuse the call on both sides */
			osip_message_free(r);
			b2bua_respond(c->b, c->in_tr, c->in_invite, rc, why);
			c->in_tr = NULL;
			if (MSG_IS_STATUS_2XX(resp)) {
				ack_out(c); /* a late offer's 2xx is not ACKed yet */
				b2bua_leg_bye(c, &c->out);
			} else {
				send_cancel(c);
			}
			c->cancelled = true;
			return;
		}
	}
	if (MSG_IS_STATUS_2XX(resp) && !c->in.dialog)
		osip_dialog_init_as_uas(&c->in.dialog, c->in_invite, r);
	if (MSG_IS_STATUS_2XX(resp))
		ok_sent(c, r);
	sip_stack_respond(c->b->st, c->in_tr, r);
	if (resp->status_code >= 200)
		c->in_tr = NULL;
}

/* Held mode: our INVITE again with the device's PBX credentials, CSeq one up (RFC 3261 §22.2). */
static bool reinvite_with_credentials(struct call *c, const osip_message_t *resp)
{
	osip_message_t *m = NULL;
	gpointer old = NULL;
	char num[24];

	if (osip_message_clone(c->out_invite, &m) != 0)
		return false;
	if (!b2bua_auth_answer(c->b, c->login, resp, m)) {
		osip_message_free(m);
		return false;
	}
	b2bua_drop_vias(m);
	b2bua_add_via(m, c->out.r.via, c->out.host);
	osip_cseq_free(m->cseq);
	m->cseq = NULL;
	g_snprintf(num, sizeof(num), "%d INVITE", osip_atoi(c->out_invite->cseq->number) + 1);
	osip_message_set_cseq(m, num);
	osip_message_force_update(m);
	/* the call is found by the handle of its new client transaction */
	g_hash_table_steal_extended(c->b->calls, &c->handle, &old, NULL);
	g_free(old);
	c->handle = c->b->next_handle++;
	g_hash_table_insert(c->b->calls, g_memdup2(&c->handle, sizeof(c->handle)), c);
	osip_message_free(c->out_invite);
	osip_message_clone(m, &c->out_invite);
	c->auth_retried = true;
	log_info(LOG_SIP, "call challenged", "login=%s code=%d answered=held", c->login,
	         resp->status_code);
	sip_stack_request(c->b->st, c->out.peer, m, c->handle);
	return true;
}

/*
 * A 401/407 to our INVITE toward the PBX. Pass-through: remembered, then
 * relayed (false: answer_in carries it with its challenge). Held: answered
 * here once; a second challenge, or none we can answer, refuses the call.
 */
static bool challenged(struct call *c, const osip_message_t *resp)
{
	char key[300];

	if (!c->held) {
		memo_key(c, c->in_invite, key, sizeof(key));
		b2bua_auth_remember(c->b, key, c->out_invite);
		return false;
	}
	if (!c->auth_retried && reinvite_with_credentials(c, resp))
		return true;
	log_warn(LOG_SIP, "call refused by pbx", "login=%s code=%d reason=credentials", c->login,
	         resp->status_code);
	if (c->in_tr)
		b2bua_respond(c->b, c->in_tr, c->in_invite, 403, "PBX refused the credentials");
	c->in_tr = NULL;
	b2bua_call_end(c, "refused");
	return true;
}

bool b2bua_call_response(struct b2bua *b, uint64_t handle, const osip_message_t *resp)
{
	struct call *c = g_hash_table_lookup(b->calls, &handle);

	if (!c)
		return b2bua_relay_response(b, handle, resp);
	if (resp->status_code < 200)
		c->provisional = true;
	if (resp->status_code == 100)
		return true;
	if ((resp->status_code == 401 || resp->status_code == 407) && !c->cancelled &&
	    c->out.peer->kind == SIP_PEER_PBX && challenged(c, resp))
		return true;
	if (MSG_IS_STATUS_2XX(resp) && !c->out.dialog) {
		osip_dialog_init_as_uac(&c->out.dialog, (osip_message_t *)resp);
		if (c->out.dialog)
			c->out.dialog->local_cseq = osip_atoi(c->out_invite->cseq->number);
	}
	/* a late offer's 2xx waits for the caller's ACK, which carries the answer */
	if (MSG_IS_STATUS_2XX(resp) && (!c->late || c->cancelled))
		ack_out(c);
	if (c->cancelled) {
		/* answered after all: hang up (RFC 3261 §9.1, the 200 crossed our CANCEL) */
		if (MSG_IS_STATUS_2XX(resp))
			b2bua_leg_bye(c, &c->out);
		if (resp->status_code >= 200)
			b2bua_call_end(c, c->timed_out ? "timeout" : "cancelled");
		return true;
	}
	if (c->in_tr)
		answer_in(c, resp);
	if (MSG_IS_STATUS_2XX(resp) && !c->cancelled) {
		c->answered = true;
		b2bua_session_refreshed(c, resp);
		if (c->timer_c)
			g_source_remove(c->timer_c);
		c->timer_c = 0;
		log_info(LOG_SIP, "call answered", "login=%s", c->login);
	} else if (resp->status_code >= 300 || c->cancelled) {
		b2bua_call_end(c, resp->status_code >= 300 ? "refused" : "sdp");
	}
	return true;
}

bool b2bua_call_failed(struct b2bua *b, uint64_t handle, int code)
{
	struct call *c = g_hash_table_lookup(b->calls, &handle);

	if (b2bua_relay_failed(b, handle, code))
		return true;
	if (!c)
		return false;
	if (c->in_tr && !c->cancelled)
		b2bua_respond(b, c->in_tr, c->in_invite, code == 408 ? 408 : 503,
		              code == 408 ? "No answer from the other side" : "Unreachable");
	c->in_tr = NULL;
	b2bua_call_end(c, code == 408 ? "timeout" : "unreachable");
	return true;
}

void b2bua_call_stray(struct b2bua *b, const osip_message_t *resp, struct sip_peer *from)
{
	bool from_in;
	struct call *c = b2bua_call_find(b, from, resp->call_id->number, &from_in);

	/* a retransmitted 2xx of our INVITE: our ACK was lost (a late offer's may not be out yet)
	 */
	if (c && !from_in && MSG_IS_STATUS_2XX(resp) && resp->cseq &&
	    strcmp(resp->cseq->method, "INVITE") == 0 && c->out_ack)
		sip_peer_send(c->out.peer, c->out_ack);
}

/*
 * Late offer (RFC 3264 §4, RFC 3261 §13.2.1): the INVITE had no SDP, so the
 * 2xx carried the offer and the caller's ACK carries the answer. Our ACK of
 * the other side's 2xx waited for it; it goes now with the answer rewritten
 * onto that leg. An unusable answer still gets its ACK, then both sides BYE.
 */
void b2bua_call_ack(struct b2bua *b, const osip_message_t *ack, struct sip_peer *from)
{
	bool from_in;
	struct call *c = b2bua_call_find(b, from, ack->call_id->number, &from_in);
	const char *why = NULL;

	if (c && from_in && c->ok_timer) {
		g_source_remove(c->ok_timer);
		c->ok_timer = 0;
	}
	if (!c || !from_in || !c->late || c->out_ack || !c->answered)
		return; /* not a late offer's: our own ACK went with the 2xx */
	c->out_ack = b2bua_leg_request(&c->out, "ACK", osip_atoi(c->out_invite->cseq->number));
	if (!c->out_ack)
		return;
	if (b2bua_sdp_across(c, &c->in, &c->out, ack, c->out_ack, &why) == 0) {
		sip_peer_send(c->out.peer, c->out_ack);
		return;
	}
	sip_peer_send(c->out.peer, c->out_ack);
	b2bua_leg_bye(c, &c->in);
	b2bua_leg_bye(c, &c->out);
	b2bua_call_end(c, "sdp");
}

bool b2bua_call_request(struct b2bua *b, osip_transaction_t *tr, const osip_message_t *req,
                        struct sip_peer *from)
{
	bool from_in;
	struct call *c = b2bua_call_find(b, from, req->call_id->number, &from_in);

	if (!c)
		return false;
	if (MSG_IS_CANCEL(req)) {
		b2bua_respond(b, tr, req, 200, NULL);
		if (from_in && c->in_tr) {
			b2bua_respond(b, c->in_tr, c->in_invite, 487, NULL);
			c->in_tr = NULL;
			c->cancelled = true;
			send_cancel(c);
		}
		return true;
	}
	if (MSG_IS_INVITE(req) && from_in && c->in_ok &&
	    strcmp(req->cseq->number, c->in_invite->cseq->number) == 0) {
		/* the first INVITE again, after our 2xx ended its transaction: the 2xx again */
		osip_message_t *ok = NULL;

		osip_message_clone(c->in_ok, &ok);
		if (ok)
			sip_stack_respond(b->st, tr, ok);
		return true;
	}
	b2bua_dialog_request(c, tr, req, from_in);
	return true;
}

static gboolean call_of_flow(gpointer k, gpointer v, gpointer data)
{
	struct call *c = v;

	(void)k;
	return c->flow == data;
}

void b2bua_call_flow_closed(struct b2bua *b, struct flow_state *fs)
{
	struct call *c;

	while ((c = g_hash_table_find(b->calls, call_of_flow, fs))) {
		struct call_leg *other = c->in.peer == &fs->f->peer ? &c->out : &c->in;

		c->flow->calls--;
		c->flow = NULL;
		if (c->answered) {
			b2bua_leg_bye(c, other);
		} else if (other == &c->out) {
			send_cancel(c);
		} else if (c->in_tr) {
			b2bua_respond(b, c->in_tr, c->in_invite, 480, "Temporarily Unavailable");
			c->in_tr = NULL;
		}
		b2bua_call_end(c, "flow_closed");
	}
}

static void call_free_cb(gpointer p)
{
	call_free(p);
}

void b2bua_calls_count(struct b2bua *b, unsigned *setup, unsigned *answered)
{
	GHashTableIter it;
	gpointer k, v;

	*setup = *answered = 0;
	g_hash_table_iter_init(&it, b->calls);
	while (g_hash_table_iter_next(&it, &k, &v))
		(((struct call *)v)->answered ? (*answered)++ : (*setup)++);
}

void b2bua_calls_new(struct b2bua *b)
{
	b->calls = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, call_free_cb);
	b->dialogs = g_hash_table_new(g_str_hash, g_str_equal);
	b->relays = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, b2bua_relay_free);
}

void b2bua_calls_free(struct b2bua *b)
{
	g_hash_table_destroy(b->relays);
	g_hash_table_destroy(b->calls);
	g_hash_table_destroy(b->dialogs);
}
