/*
 * The B2BUA's calls (RFC 3261 §12-§15): an INVITE from one side (a flow or
 * the PBX) becomes a new INVITE on the other, with its own Call-ID, tags and
 * Via, and the media anchored on a media session; responses, ACK, BYE,
 * CANCEL and in-dialog requests are carried across.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <sys/time.h>
#include <time.h>
#include <osip2/osip_dialog.h>

#include "core/log.h"
#include "core/metrics.h"
#include "signaling/b2bua_priv.h"
#include "signaling/sdp_plain.h"
#include "signaling/sip_demo.h"

/* The host of our Via and Contact toward a flow (RFC 7118 §5.2: the flow, not the address, routes).
 */
#define FLOW_HOST "rtcgate.invalid"

/* After a CANCEL, how long the other side may take to end its INVITE: 64*T1 (RFC 3261 §9.1). */
#define CANCEL_GRACE_S 32
/* RFC 3261 §17.1.1.1: the round-trip estimate and the longest retransmission interval. */
#define SIP_T1_MS 500
#define SIP_T2_MS 4000

/* libosip2's osip_const.h names these: SIP_REQUEST_TIME_OUT (408), SIP_NOT_ACCEPTABLE_HERE (488) */

struct call_leg {
	struct sip_peer *peer; /* a reference */
	enum media_leg media;
	struct b2bua_route r;  /* toward the PBX: our Via, Contact and the proxy's Route */
	char host[80];         /* our Via and Contact host toward it */
	char key[300];         /* in b->dialogs: "<peer>/<Call-ID>" */
	osip_dialog_t *dialog; /* once it has both tags */
	uint32_t sdp_version;  /* of the SDP we send on this leg (RFC 3264 §8) */
	uint64_t sdp_id;
};

struct call {
	struct b2bua *b;
	uint64_t handle; /* of the outbound INVITE's client transaction */
	struct call_leg in, out;
	osip_transaction_t *in_tr; /* the inbound INVITE's, until its final response */
	osip_message_t *in_invite, *out_invite, *out_ack;
	struct media_session *media;
	struct flow_state *flow; /* the flow side's state, for its call count; NULL once closed */
	char in_tag[17];         /* our To tag toward the inbound side */
	char login[65];
	char *codecs;  /* the device's codec filter for sdp_plain; NULL: every codec */
	guint timer_c; /* no final answer yet (RFC 3261 §16.6 step 11) */
	bool answered, cancelled, echo;
	bool provisional; /* a 1xx came from the other side: a CANCEL may go (§9.1) */
	bool timed_out;   /* timer C fired: 408 went to the caller */
	bool late; /* the INVITE had no SDP: the offer is in the 2xx, the answer in the ACK */
	osip_message_t *in_ok;        /* our 2xx toward the caller, sent again until its ACK */
	guint ok_timer;               /* toward a UDP caller, until the ACK (RFC 3261 §13.3.1.4) */
	unsigned ok_interval, ok_sum; /* ms */
	bool held;            /* from a held registration: rtcgate answers the PBX's challenges */
	guint se_timer;       /* RFC 4028: the session is dead when no refresh came by then */
	unsigned se_interval; /* Session-Expires of the last 2xx, seconds */
	bool auth_retried;    /* our INVITE was re-sent with credentials once */
};

/* An in-dialog request carried to the other side, waiting for its answer. */
struct relayed {
	uint64_t call;          /* its handle: the call may end before the answer comes */
	osip_transaction_t *tr; /* the server transaction on the side that sent it */
	osip_message_t *req;
	bool from_in;
};

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
	g_free(c->codecs);
	g_free(c);
}

/* End the call: the log line, then everything goes (the handle's entry too). */
static void call_end(struct call *c, const char *why)
{
	struct media_stats st = { 0 };

	if (c->media)
		media_session_stats(c->media, &st);
	metrics_add(c->b->metrics, METRIC_SIP_CALLS_ENDED, 1, (const char *const[]){ why });
	log_info(LOG_SIP, "call end",
	         "login=%s reason=%s a_in=%" G_GUINT64_FORMAT " a_out=%" G_GUINT64_FORMAT
	         " b_in=%" G_GUINT64_FORMAT " b_out=%" G_GUINT64_FORMAT,
	         c->login, why, st.leg[MEDIA_LEG_A].packets_in, st.leg[MEDIA_LEG_A].packets_out,
	         st.leg[MEDIA_LEG_B].packets_in, st.leg[MEDIA_LEG_B].packets_out);
	g_hash_table_remove(c->b->calls, &c->handle); /* frees it */
}

static struct call *call_by_dialog(struct b2bua *b, struct sip_peer *from, const char *call_id,
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

/* An address literal and port from SDP as a socket address. */
static bool sockaddr_of(const char *addr, uint16_t port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)out)->sin_addr) == 1) {
		out->ss_family = AF_INET;
		((struct sockaddr_in *)out)->sin_port = htons(port);
		return true;
	}
	if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)out)->sin6_addr) == 1) {
		out->ss_family = AF_INET6;
		((struct sockaddr_in6 *)out)->sin6_port = htons(port);
		return true;
	}
	return false;
}

/*
 * The SDP of src, if any, for the leg `to`: the sender's media address goes
 * into the session (unless the other end is the demo's echo), and the body
 * is rewritten with ours on `to` (RFC 3264 §8: a new version each time).
 * 0, or a SIP status with *why.
 */
static int sdp_across(struct call *c, struct call_leg *from, struct call_leg *to,
                      const osip_message_t *src, osip_message_t *dst, const char **why)
{
	osip_body_t *body = NULL;
	struct sdp_plain *peer = g_new0(struct sdp_plain, 1);
	struct sockaddr_storage rtp, rtcp, local;
	struct sdp_plain_local ours = { .sess_id = to->sdp_id, .codecs = c->codecs };
	char addr[INET6_ADDRSTRLEN], *out = NULL;
	size_t out_len = 0;
	char ct[] = "application/sdp";
	int rc = 0;

	if (osip_message_get_body(src, 0, &body) < 0 || !body || !body->body)
		goto done;
	if (sdp_plain_read(body->body, body->length, peer, why) != 0 ||
	    !sockaddr_of(peer->addr, peer->port, &rtp) ||
	    !sockaddr_of(peer->rtcp_addr[0] ? peer->rtcp_addr : peer->addr, peer->rtcp_port,
	                 &rtcp)) {
		log_info(LOG_SIP, "sdp refused", "login=%s reason=\"%s\"", c->login,
		         *why ? *why : "address");
		*why = "Unusable SDP";
		rc = SIP_NOT_ACCEPTABLE_HERE;
		goto done;
	}
	if (!(c->echo && from == &c->out) && peer->port && !peer->hold_c0)
		media_session_set_remote(c->media, from->media, (struct sockaddr *)&rtp,
		                         (struct sockaddr *)&rtcp);
	if (media_session_local(c->media, to->media, (struct sockaddr *)&rtp, &local) != 0) {
		*why = "No media address";
		rc = 500;
		goto done;
	}
	if (local.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&local)->sin_addr, addr, sizeof(addr));
		ours.port = ntohs(((struct sockaddr_in *)&local)->sin_port);
	} else {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&local)->sin6_addr, addr,
		          sizeof(addr));
		ours.port = ntohs(((struct sockaddr_in6 *)&local)->sin6_port);
	}
	ours.addr = addr;
	ours.sess_version = ++to->sdp_version;
	if (sdp_plain_rewrite(body->body, body->length, &ours, &out, &out_len, why) != 0) {
		log_info(LOG_SIP, "sdp refused", "login=%s reason=\"%s\"", c->login, *why);
		*why = "Not Acceptable Here";
		rc = SIP_NOT_ACCEPTABLE_HERE;
		goto done;
	}
	osip_message_set_body(dst, out, out_len);
	osip_message_set_content_type(dst, ct);
	g_free(out);
done:
	g_free(peer);
	return rc;
}

/*
 * End-to-end headers a B2BUA carries across on INVITEs and their answers:
 * session timers (RFC 4028), identity and privacy (RFC 3325), priority
 * (RFC 4412), alerting. Everything else stays on its leg; of Supported only
 * "timer" crosses (100rel would need PRACK handled here, which it is not).
 */
static const char *const carried[] = {
	"Session-Expires",
	"Min-SE",
	"P-Asserted-Identity",
	"Privacy",
	"Priority",
	"Alert-Info",
	"Call-Info",
	"Subject",
	"Resource-Priority",
	"Accept-Resource-Priority",
	"Reason",
	NULL,
};

static void carry_headers(const osip_message_t *from, osip_message_t *to)
{
	for (const char *const *h = carried; *h; h++) {
		char *name =
		        g_ascii_strdown(*h, -1); /* libosip2 keeps header names in lower case */
		osip_header_t *v = NULL;
		int at;

		for (int pos = 0; (at = osip_message_header_get_byname(from, name, pos, &v)) >= 0;
		     pos = at + 1) {
			if (v && v->hvalue)
				osip_message_set_header(to, *h, v->hvalue);
		}
		g_free(name);
	}
	{
		osip_header_t *sup = NULL;

		for (int pos = 0, at;
		     (at = osip_message_header_get_byname(from, "supported", pos, &sup)) >= 0;
		     pos = at + 1) {
			if (sup && sup->hvalue && strstr(sup->hvalue, "timer")) {
				osip_message_set_header(to, "Supported", "timer");
				break;
			}
		}
	}
}

/* Our Via toward leg l and, toward the PBX through an outbound proxy, its Route. */
static void via_and_route(struct call_leg *l, osip_message_t *m)
{
	if (l->peer->kind == SIP_PEER_FLOW)
		b2bua_add_via(m, l->r.via, l->host);
	else
		b2bua_pbx_prepare(&l->r, m);
}

/*
 * Our Contact toward leg l: the flow's token toward the PBX (sips: when
 * the request's URI is, over TLS), a placeholder toward a flow.
 */
static void set_contact(struct call *c, struct call_leg *l, osip_message_t *m)
{
	char *uri, *text;

	if (l->peer->kind == SIP_PEER_FLOW) {
		text = g_strdup_printf("<sip:rtcgate@%s;transport=ws>", FLOW_HOST);
	} else {
		const osip_uri_t *ru = m->req_uri ? m->req_uri : c->in_invite->req_uri;

		uri = b2bua_pbx_contact(&l->r, c->flow ? c->flow->token : "rtcgate",
		                        ru && ru->scheme && strcmp(ru->scheme, "sips") == 0);
		text = g_strdup_printf("<%s>", uri);
		g_free(uri);
	}
	osip_message_set_contact(m, text);
	g_free(text);
}

/* A request inside leg l's dialog (RFC 3261 §12.2.1.1): method, CSeq (0: the next one). */
static osip_message_t *in_dialog(struct call_leg *l, const char *method, int cseq)
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
		via_and_route(l, m);
	else
		b2bua_add_via(m, l->r.via, l->host);
	osip_message_set_user_agent(m, "rtcgate");
	return m;
}

static void send_bye(struct call *c, struct call_leg *l)
{
	osip_message_t *bye = in_dialog(l, "BYE", 0);

	if (bye)
		sip_stack_request(c->b->st, l->peer, bye, 0);
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
	via_and_route(&c->out, m);
	set_contact(c, &c->out, m);
	osip_message_set_allow(m, "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, UPDATE");
	osip_message_set_user_agent(m, "rtcgate");
	carry_headers(req, m);
	rc = sdp_across(c, &c->in, &c->out, req, m, why);
	if (rc) {
		*code = rc;
		osip_message_free(m);
		return NULL;
	}
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

/* The device's codecs as sdp_plain's filter, with DTMF and comfort noise; NULL: every codec. */
static char *device_codecs(struct b2bua *b, const char *login)
{
	struct device *dev = NULL;
	char *list = NULL;

	if (devices_get(b->dev, login, &dev) == 0 && dev->codecs && dev->codecs[0])
		list = g_strdup_printf("%s,telephone-event,CN", dev->codecs);
	devspec_device_free(dev);
	return list;
}

static bool has_sdp(const osip_message_t *m)
{
	osip_body_t *body = NULL;

	return osip_message_get_body(m, 0, &body) >= 0 && body && body->body && body->length;
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
		call_end(c, "timeout");
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
	c->codecs = device_codecs(b, fs->login);
	c->late = !has_sdp(req);
	leg_setup(b, &c->in, from, from->kind == SIP_PEER_FLOW ? MEDIA_LEG_A : MEDIA_LEG_B);
	if (!to) {
		struct b2bua_route r;

		if (!b2bua_pbx_route(b, &r)) {
			code = 503;
			why = "No PBX reachable";
			goto refuse;
		}
		to = r.peer;
		c->echo = b->demo != NULL && target->username &&
		          strcmp(target->username, "echo") == 0;
	}
	if (!leg_setup(b, &c->out, to, to->kind == SIP_PEER_FLOW ? MEDIA_LEG_A : MEDIA_LEG_B)) {
		code = 503;
		why = "No PBX reachable";
		goto refuse;
	}
	if (media_session_new(b->media, &c->media) != 0) {
		code = 503;
		why = "No media ports";
		goto refuse;
	}
	if (c->echo)
		media_session_set_echo(c->media, MEDIA_LEG_B);
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
		c->out_ack = in_dialog(&c->out, "ACK", osip_atoi(c->out_invite->cseq->number));
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
		send_bye(c, &c->in);
		send_bye(c, &c->out);
		call_end(c, "no_ack");
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
	carry_headers(resp, r);
	if (resp->status_code == 401 || resp->status_code == 407)
		b2bua_auth_copy_challenges(resp, r); /* pass-through: the browser answers */
	if (resp->status_code < 300) {
		set_contact(c, &c->in, r);
		rc = sdp_across(c, &c->out, &c->in, resp, r, &why);
		if (rc) {
			/* the other side's SDP is unusable: refuse the call on both sides */
			osip_message_free(r);
			b2bua_respond(c->b, c->in_tr, c->in_invite, rc, why);
			c->in_tr = NULL;
			if (MSG_IS_STATUS_2XX(resp)) {
				ack_out(c); /* a late offer's 2xx is not ACKed yet */
				send_bye(c, &c->out);
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

static bool relayed_response(struct b2bua *b, uint64_t handle, const osip_message_t *resp);

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
	send_bye(c, &c->in);
	send_bye(c, &c->out);
	call_end(c, "session_expired");
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

static void session_refreshed(struct call *c, const osip_message_t *ok)
{
	unsigned s = session_expires(ok);

	if (c->se_timer)
		g_source_remove(c->se_timer);
	c->se_timer = 0;
	c->se_interval = s;
	if (s)
		c->se_timer = g_timeout_add_seconds(s - MIN(32u, s / 3), session_expired, c);
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
	call_end(c, "refused");
	return true;
}

bool b2bua_call_response(struct b2bua *b, uint64_t handle, const osip_message_t *resp)
{
	struct call *c = g_hash_table_lookup(b->calls, &handle);

	if (!c)
		return relayed_response(b, handle, resp);
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
			send_bye(c, &c->out);
		if (resp->status_code >= 200)
			call_end(c, c->timed_out ? "timeout" : "cancelled");
		return true;
	}
	if (c->in_tr)
		answer_in(c, resp);
	if (MSG_IS_STATUS_2XX(resp) && !c->cancelled) {
		c->answered = true;
		session_refreshed(c, resp);
		if (c->timer_c)
			g_source_remove(c->timer_c);
		c->timer_c = 0;
		log_info(LOG_SIP, "call answered", "login=%s", c->login);
	} else if (resp->status_code >= 300 || c->cancelled) {
		call_end(c, resp->status_code >= 300 ? "refused" : "sdp");
	}
	return true;
}

bool b2bua_call_failed(struct b2bua *b, uint64_t handle, int code)
{
	struct call *c = g_hash_table_lookup(b->calls, &handle);
	struct relayed *r = g_hash_table_lookup(b->relays, &handle);

	if (r) {
		b2bua_respond(b, r->tr, r->req, code == 408 ? 408 : 503, NULL);
		g_hash_table_remove(b->relays, &handle);
		return true;
	}
	if (!c)
		return false;
	if (c->in_tr && !c->cancelled)
		b2bua_respond(b, c->in_tr, c->in_invite, code == 408 ? 408 : 503,
		              code == 408 ? "No answer from the other side" : "Unreachable");
	c->in_tr = NULL;
	call_end(c, code == 408 ? "timeout" : "unreachable");
	return true;
}

void b2bua_call_stray(struct b2bua *b, const osip_message_t *resp, struct sip_peer *from)
{
	bool from_in;
	struct call *c = call_by_dialog(b, from, resp->call_id->number, &from_in);

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
	struct call *c = call_by_dialog(b, from, ack->call_id->number, &from_in);
	const char *why = NULL;

	if (c && from_in && c->ok_timer) {
		g_source_remove(c->ok_timer);
		c->ok_timer = 0;
	}
	if (!c || !from_in || !c->late || c->out_ack || !c->answered)
		return; /* not a late offer's: our own ACK went with the 2xx */
	c->out_ack = in_dialog(&c->out, "ACK", osip_atoi(c->out_invite->cseq->number));
	if (!c->out_ack)
		return;
	if (sdp_across(c, &c->in, &c->out, ack, c->out_ack, &why) == 0) {
		sip_peer_send(c->out.peer, c->out_ack);
		return;
	}
	sip_peer_send(c->out.peer, c->out_ack);
	send_bye(c, &c->in);
	send_bye(c, &c->out);
	call_end(c, "sdp");
}

static void relayed_free(gpointer p)
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
	osip_message_t *m = in_dialog(to, req->sip_method, 0);
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
		set_contact(c, to, m);
		rc = sdp_across(c, from, to, req, m, &why);
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

bool b2bua_call_request(struct b2bua *b, osip_transaction_t *tr, const osip_message_t *req,
                        struct sip_peer *from)
{
	bool from_in;
	struct call *c = call_by_dialog(b, from, req->call_id->number, &from_in);

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
	if (MSG_IS_INVITE(req) && !c->answered) {
		b2bua_respond(b, tr, req, 491, "Request Pending");
		return true;
	}
	if (MSG_IS_BYE(req)) {
		b2bua_respond(b, tr, req, 200, NULL);
		send_bye(c, from_in ? &c->out : &c->in);
		call_end(c, from_in ? "bye_caller" : "bye_callee");
		return true;
	}
	relay_request(c, tr, req, from_in);
	return true;
}

/* The answer to a relayed request, carried back. false when handle is no relay's. */
static bool relayed_response(struct b2bua *b, uint64_t handle, const osip_message_t *resp)
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
	if (m && c && MSG_IS_STATUS_2XX(resp) && (MSG_IS_INVITE(r->req) || MSG_IS_UPDATE(r->req))) {
		struct call_leg *from = r->from_in ? &c->out : &c->in,
		                *to = r->from_in ? &c->in : &c->out;

		set_contact(c, to, m);
		sdp_across(c, from, to, resp, m, &why);
		session_refreshed(c, resp);
		if (MSG_IS_INVITE(r->req)) {
			osip_message_t *ack = in_dialog(from, "ACK", osip_atoi(resp->cseq->number));

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
			send_bye(c, other);
		} else if (other == &c->out) {
			send_cancel(c);
		} else if (c->in_tr) {
			b2bua_respond(b, c->in_tr, c->in_invite, 480, "Temporarily Unavailable");
			c->in_tr = NULL;
		}
		call_end(c, "flow_closed");
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
	b->relays = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, relayed_free);
}

void b2bua_calls_free(struct b2bua *b)
{
	g_hash_table_destroy(b->relays);
	g_hash_table_destroy(b->calls);
	g_hash_table_destroy(b->dialogs);
}
