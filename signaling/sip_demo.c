/* The built-in demo target: a small in-process SIP UA in the PBX's place (REGISTER, OPTIONS). */
#include "signaling/sip_demo.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "signaling/sdp_plain.h"
#include "signaling/sip_msg.h"

/* Where the demo says its media is: TEST-NET-1, never reached (the media session echoes) */
#define DEMO_RTP_ADDRESS "192.0.2.1"
#define DEMO_RTP_PORT    4000

/* Longest registration the demo grants, in seconds. */
#define DEMO_MAX_EXPIRES 3600

/*
 * One direction of the in-process link: what is sent is delivered from an
 * idle callback, never from inside the sender's own call stack.
 */
struct link {
	struct sip_peer peer;
	struct sip_demo *d;
	bool toward_demo; /* else toward the B2BUA */
	GQueue pending;   /* GBytes */
	guint idle;
};

struct sip_demo {
	struct sip_stack *st;
	GHashTable *ringing; /* Call-ID → struct ringing: INVITEs to ring, until CANCEL */
	struct link *in;     /* the B2BUA sends into the demo through this */
	struct link *out;    /* the demo answers through this */
	sip_demo_rx_fn rx;
	void *user;
};

static gboolean deliver(gpointer data)
{
	struct link *l = data;
	GBytes *b;

	l->idle = 0;
	/* bounded: what arrives meanwhile waits for the next idle */
	for (int i = 0; i < 64 && (b = g_queue_pop_head(&l->pending)); i++) {
		size_t len;
		const char *buf = g_bytes_get_data(b, &len);

		if (l->d && l->toward_demo)
			sip_stack_receive(l->d->st, &l->d->out->peer, buf, len);
		else if (l->d)
			l->d->rx(l->d->user, &l->d->in->peer, buf, len);
		g_bytes_unref(b);
	}
	if (!g_queue_is_empty(&l->pending))
		l->idle = g_idle_add(deliver, l);
	return G_SOURCE_REMOVE;
}

static int link_send(struct sip_peer *p, const char *buf, size_t len)
{
	struct link *l = (struct link *)p;

	if (p->closed || !l->d)
		return EPIPE;
	g_queue_push_tail(&l->pending, g_bytes_new(buf, len));
	if (!l->idle)
		l->idle = g_idle_add(deliver, l);
	return 0;
}

static void link_free(struct sip_peer *p)
{
	struct link *l = (struct link *)p;

	if (l->idle)
		g_source_remove(l->idle);
	g_queue_clear_full(&l->pending, (GDestroyNotify)g_bytes_unref);
	g_free(l);
}

static const struct sip_peer_ops link_ops = { .send = link_send, .free = link_free };

static struct link *link_new(struct sip_demo *d, bool toward_demo)
{
	struct link *l = g_new0(struct link, 1);

	sip_peer_init(&l->peer, &link_ops, "demo");
	l->d = d;
	l->toward_demo = toward_demo;
	g_queue_init(&l->pending);
	return l;
}

static void respond(struct sip_demo *d, osip_transaction_t *tr, const osip_message_t *req, int code,
                    const char *reason)
{
	osip_message_t *r = sip_msg_response(req, code, reason, NULL);

	if (r)
		sip_stack_respond(d->st, tr, r);
}

/* The granted expiry: the Contact's, else the Expires header's, else 3600; capped. */
static int granted(const osip_message_t *req, const osip_contact_t *c)
{
	osip_generic_param_t *p = NULL;
	const char *e = sip_msg_header(req, "expires");
	long v = DEMO_MAX_EXPIRES;

	if (osip_contact_param_get_byname((osip_contact_t *)c, "expires", &p) == 0 && p &&
	    p->gvalue)
		v = strtol(p->gvalue, NULL, 10);
	else if (e)
		v = strtol(e, NULL, 10);
	return v < 0 ? 0 : v > DEMO_MAX_EXPIRES ? DEMO_MAX_EXPIRES : (int)v;
}

/* A registrar that keeps nothing: every binding asked for is granted (RFC 3261 §10.3). */
static void on_register(struct sip_demo *d, osip_transaction_t *tr, const osip_message_t *req)
{
	osip_message_t *r = sip_msg_response(req, 200, NULL, NULL);

	if (!r)
		return;
	for (int i = 0; i < osip_list_size(&req->contacts); i++) {
		osip_contact_t *c = osip_list_get(&req->contacts, i), *copy = NULL;

		if (!c->url || osip_contact_clone(c, &copy) != 0)
			continue;
		sip_msg_contact_set_expires(copy, granted(req, c));
		osip_list_add(&r->contacts, copy, -1);
	}
	sip_stack_respond(d->st, tr, r);
}

/* An INVITE of the demo's that rings until it is cancelled. */
struct ringing {
	osip_transaction_t *tr;
	osip_message_t *req;
};

static void ringing_free(gpointer p)
{
	struct ringing *r = p;

	osip_message_free(r->req);
	g_free(r);
}

/*
 * The answer to an offer, the first or a re-offer (hold, resume): the offered
 * codecs back with the direction answered (RFC 3264 §6.1: a sendonly hold
 * gets recvonly), at a documentation address (nothing is sent). The demo
 * keeps no call state: the CSeq is the o= version, which grows in a dialog
 * (RFC 3264 §8).
 */
static void answer_echo(struct sip_demo *d, osip_transaction_t *tr, const osip_message_t *req)
{
	const struct sdp_plain_local here = {
		.addr = DEMO_RTP_ADDRESS,
		.port = DEMO_RTP_PORT,
		.sess_id = 1,
		.sess_version =
		        req->cseq && req->cseq->number ? strtoull(req->cseq->number, NULL, 10) : 1,
		.answer = true
	};
	osip_message_t *r = sip_msg_response(req, 200, NULL, NULL);
	osip_body_t *offer = NULL;
	char *sdp = NULL;
	size_t len = 0;
	const char *why = NULL;
	char ct[] = "application/sdp";

	if (!r)
		return;
	if (osip_message_get_body(req, 0, &offer) < 0 || !offer || !offer->body ||
	    sdp_plain_rewrite(offer->body, offer->length, &here, &sdp, &len, &why) != 0) {
		osip_message_free(r);
		respond(d, tr, req, 488, "The demo needs a plain RTP offer");
		return;
	}
	osip_message_set_contact(r, "<sip:echo@demo.invalid>");
	osip_message_set_body(r, sdp, len);
	osip_message_set_content_type(r, ct);
	g_free(sdp);
	sip_stack_respond(d->st, tr, r);
}

/* Extensions: echo answers and echoes; ring rings until cancelled; anything else is 404. */
static void on_invite(struct sip_demo *d, osip_transaction_t *tr, const osip_message_t *req)
{
	const char *user = req->req_uri->username;
	osip_generic_param_t *tag = NULL;

	if (osip_to_get_tag(req->to, &tag) == 0 && tag) {
		/* a re-INVITE: only the echo's dialogs get this far (ring's never answer) */
		answer_echo(d, tr, req);
		return;
	}
	if (user && strcmp(user, "echo") == 0) {
		answer_echo(d, tr, req);
	} else if (user && strcmp(user, "ring") == 0) {
		struct ringing *r = g_new0(struct ringing, 1);

		r->tr = tr;
		osip_message_clone(req, &r->req);
		g_hash_table_replace(d->ringing, g_strdup(req->call_id->number), r);
		respond(d, tr, req, 180, NULL);
	} else {
		respond(d, tr, req, 404, "No such extension on the demo target (try echo)");
	}
}

static void on_request(void *user, osip_transaction_t *tr, const osip_message_t *req,
                       struct sip_peer *from)
{
	struct sip_demo *d = user;
	struct ringing *r;

	(void)from;
	if (MSG_IS_REGISTER(req)) {
		on_register(d, tr, req);
	} else if (MSG_IS_INVITE(req)) {
		on_invite(d, tr, req);
	} else if (MSG_IS_CANCEL(req)) {
		r = g_hash_table_lookup(d->ringing, req->call_id->number);
		respond(d, tr, req, r ? 200 : 481, NULL);
		if (r) {
			respond(d, r->tr, r->req, 487, NULL);
			g_hash_table_remove(d->ringing, req->call_id->number);
		}
	} else if (MSG_IS_OPTIONS(req) || MSG_IS_BYE(req) || MSG_IS_INFO(req)) {
		respond(d, tr, req, 200, NULL);
	} else {
		respond(d, tr, req, 501, "Not Implemented by the demo target");
	}
}

static const struct sip_stack_handlers demo_handlers = {
	.request = on_request,
};

struct sip_demo *sip_demo_new(sip_demo_rx_fn rx, void *user)
{
	struct sip_demo *d = g_new0(struct sip_demo, 1);

	d->rx = rx;
	d->user = user;
	d->st = sip_stack_new(&demo_handlers, d);
	d->ringing = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, ringing_free);
	d->in = link_new(d, true);
	d->out = link_new(d, false);
	log_info(LOG_SIP, "demo target ready", "extensions=echo");
	return d;
}

static void link_close(struct link *l)
{
	l->d = NULL;
	l->peer.closed = true;
	sip_peer_unref(&l->peer);
}

void sip_demo_free(struct sip_demo *d)
{
	if (!d)
		return;
	g_hash_table_destroy(d->ringing);
	sip_stack_free(d->st);
	link_close(d->in);
	link_close(d->out);
	g_free(d);
}

struct sip_peer *sip_demo_peer(struct sip_demo *d)
{
	return &d->in->peer;
}
