/* SIP transactions (RFC 3261 §17): libosip2's ICT, IST, NICT and NIST driven from a GLib main loop.
 */
#include "signaling/sip_stack.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "signaling/sip_msg.h"

/* Timers are looked at no later than this, whatever libosip2 says. */
#define TIMER_MAX_MS 500

struct sip_stack {
	osip_t *osip;
	struct sip_stack_handlers h;
	void *user;
	guint timer;
	GPtrArray *dead; /* transactions killed during this run, freed after it */
	bool running;
	bool again; /* an event was queued while running: go round once more */
	struct sip_stack_stats stats;
};

/* What a transaction carries for us (osip_transaction_set_your_instance). */
struct txn_info {
	struct sip_peer *peer; /* where its messages go; a reference */
	uint64_t handle;       /* client transactions: the upper layer's */
};

void sip_peer_init(struct sip_peer *p, const struct sip_peer_ops *ops, const char *name)
{
	p->ops = ops;
	p->kind = SIP_PEER_PBX;
	p->refs = 1;
	p->closed = false;
	g_strlcpy(p->name, name, sizeof(p->name));
}

struct sip_peer *sip_peer_ref(struct sip_peer *p)
{
	p->refs++;
	return p;
}

void sip_peer_unref(struct sip_peer *p)
{
	if (p && --p->refs == 0)
		p->ops->free(p);
}

int sip_peer_send(struct sip_peer *p, const osip_message_t *m)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (p->closed)
		return EPIPE;
	if (sip_msg_to_str(m, &text, &len) != 0)
		return EINVAL;
	rc = p->ops->send(p, text, len);
	osip_free(text);
	return rc;
}

static struct sip_stack *stack_of(osip_transaction_t *tr)
{
	return osip_get_application_context(tr->config);
}

static struct txn_info *info_of(osip_transaction_t *tr)
{
	return osip_transaction_get_your_instance(tr);
}

static int send_cb(osip_transaction_t *tr, osip_message_t *m, char *host, int port, int sock)
{
	struct txn_info *i = info_of(tr);

	(void)host;
	(void)port;
	(void)sock;
	return i && sip_peer_send(i->peer, m) == 0 ? 0 : -1;
}

static bool is_client(const osip_transaction_t *tr)
{
	return tr->ctx_type == ICT || tr->ctx_type == NICT;
}

static void message_cb(int type, osip_transaction_t *tr, osip_message_t *m)
{
	struct sip_stack *st = stack_of(tr);
	struct txn_info *i = info_of(tr);

	switch (type) {
	case OSIP_IST_INVITE_RECEIVED:
	case OSIP_NIST_REGISTER_RECEIVED:
	case OSIP_NIST_BYE_RECEIVED:
	case OSIP_NIST_OPTIONS_RECEIVED:
	case OSIP_NIST_INFO_RECEIVED:
	case OSIP_NIST_CANCEL_RECEIVED:
	case OSIP_NIST_NOTIFY_RECEIVED:
	case OSIP_NIST_SUBSCRIBE_RECEIVED:
	case OSIP_NIST_UNKNOWN_REQUEST_RECEIVED: st->h.request(st->user, tr, m, i->peer); break;
	case OSIP_ICT_STATUS_1XX_RECEIVED:
	case OSIP_ICT_STATUS_2XX_RECEIVED:
	case OSIP_ICT_STATUS_3XX_RECEIVED:
	case OSIP_ICT_STATUS_4XX_RECEIVED:
	case OSIP_ICT_STATUS_5XX_RECEIVED:
	case OSIP_ICT_STATUS_6XX_RECEIVED:
	case OSIP_NICT_STATUS_1XX_RECEIVED:
	case OSIP_NICT_STATUS_2XX_RECEIVED:
	case OSIP_NICT_STATUS_3XX_RECEIVED:
	case OSIP_NICT_STATUS_4XX_RECEIVED:
	case OSIP_NICT_STATUS_5XX_RECEIVED:
	case OSIP_NICT_STATUS_6XX_RECEIVED: st->h.response(st->user, i->handle, m); break;
	case OSIP_ICT_STATUS_TIMEOUT:
	case OSIP_NICT_STATUS_TIMEOUT:
		if (st->h.failed)
			st->h.failed(st->user, i->handle, 408);
		break;
	default: break; /* retransmissions and sends: the state machines' own business */
	}
}

static void transport_error_cb(int type, osip_transaction_t *tr, int error)
{
	struct sip_stack *st = stack_of(tr);
	struct txn_info *i = info_of(tr);

	(void)type;
	log_info(LOG_SIP, "transport error", "peer=%s error=%d", i ? i->peer->name : "?", error);
	if (i && is_client(tr) && !tr->last_response && st->h.failed)
		st->h.failed(st->user, i->handle, 503);
}

/* A finished transaction leaves the lists now and is freed after this run. */
static void kill_cb(int type, osip_transaction_t *tr)
{
	struct sip_stack *st = stack_of(tr);

	(void)type;
	osip_remove_transaction(tr->config, tr);
	g_ptr_array_add(st->dead, tr);
}

static void free_txn(gpointer p)
{
	osip_transaction_t *tr = p;
	struct txn_info *i = info_of(tr);

	if (i) {
		sip_peer_unref(i->peer);
		g_free(i);
	}
	osip_transaction_free2(tr);
}

static gboolean on_timer(gpointer data);

/*
 * Run the state machines until nothing is pending (events queued by
 * handlers during the run included). Each libosip2 pass walks every
 * transaction of its kind, so the timers (and the next timeout) are only
 * looked at when the GLib timer fires, not after every message: it fires
 * no later than TIMER_MAX_MS after the last look, and no timer of a new
 * transaction is shorter than that (T1), so none is missed.
 */
static void run(struct sip_stack *st, bool timers)
{
	struct timeval tv = { 1, 0 };
	long ms;

	st->again = true;
	if (st->running)
		return; /* a handler queued something: the loop below picks it up */
	st->running = true;
	/* bounded: a handler answering every event with another would not spin forever */
	for (int round = 0; round < 16 && (st->again || st->dead->len); round++) {
		st->again = false;
		osip_ict_execute(st->osip);
		osip_ist_execute(st->osip);
		osip_nict_execute(st->osip);
		osip_nist_execute(st->osip);
		if (timers) {
			osip_timers_ict_execute(st->osip);
			osip_timers_ist_execute(st->osip);
			osip_timers_nict_execute(st->osip);
			osip_timers_nist_execute(st->osip);
		}
		g_ptr_array_set_size(st->dead, 0); /* frees the killed ones */
	}
	st->running = false;
	if (!timers && st->timer && !st->again)
		return;
	if (timers)
		osip_timers_gettimeout(st->osip, &tv);
	ms = tv.tv_sec * 1000L + tv.tv_usec / 1000;
	ms = ms < 1 || st->again || !timers ? 1 : ms > TIMER_MAX_MS ? TIMER_MAX_MS : ms;
	if (st->timer)
		g_source_remove(st->timer);
	st->timer = g_timeout_add((guint)ms, on_timer, st);
}

static gboolean on_timer(gpointer data)
{
	struct sip_stack *st = data;

	st->timer = 0;
	run(st, true);
	return G_SOURCE_REMOVE;
}

struct sip_stack *sip_stack_new(const struct sip_stack_handlers *h, void *user)
{
	struct sip_stack *st = g_new0(struct sip_stack, 1);

	sip_msg_init();
	if (osip_init(&st->osip) != 0) {
		g_free(st);
		return NULL;
	}
	st->h = *h;
	st->user = user;
	st->dead = g_ptr_array_new_with_free_func(free_txn);
	osip_set_application_context(st->osip, st);
	osip_set_cb_send_message(st->osip, send_cb);
	for (int t = 0; t < OSIP_MESSAGE_CALLBACK_COUNT; t++)
		osip_set_message_callback(st->osip, t, message_cb);
	for (int t = OSIP_ICT_KILL_TRANSACTION; t <= OSIP_NIST_KILL_TRANSACTION; t++)
		osip_set_kill_transaction_callback(st->osip, t, kill_cb);
	for (int t = OSIP_ICT_TRANSPORT_ERROR; t <= OSIP_NIST_TRANSPORT_ERROR; t++)
		osip_set_transport_error_callback(st->osip, t, transport_error_cb);
	return st;
}

static void free_list(osip_list_t *l)
{
	while (!osip_list_eol(l, 0)) {
		osip_transaction_t *tr = osip_list_get(l, 0);

		osip_list_remove(l, 0);
		free_txn(tr);
	}
}

void sip_stack_free(struct sip_stack *st)
{
	if (!st)
		return;
	if (st->timer)
		g_source_remove(st->timer);
	free_list(&st->osip->osip_ict_transactions);
	free_list(&st->osip->osip_ist_transactions);
	free_list(&st->osip->osip_nict_transactions);
	free_list(&st->osip->osip_nist_transactions);
	g_ptr_array_unref(st->dead);
	osip_release(st->osip);
	g_free(st);
}

/* An event for a message that came in: its type from the method or status class. */
static osip_event_t *incoming(osip_message_t *m)
{
	osip_event_t *e = osip_malloc(sizeof(*e));

	memset(e, 0, sizeof(*e));
	e->sip = m;
	if (MSG_IS_RESPONSE(m))
		e->type = MSG_IS_STATUS_1XX(m)   ? RCV_STATUS_1XX
		          : MSG_IS_STATUS_2XX(m) ? RCV_STATUS_2XX
		                                 : RCV_STATUS_3456XX;
	else
		e->type = MSG_IS_INVITE(m) ? RCV_REQINVITE
		          : MSG_IS_ACK(m)  ? RCV_REQACK
		                           : RCV_REQUEST;
	return e;
}

/* RFC 3261 §8.2: a request we cannot take into a transaction gets 400 with the reason. */
static void refuse(struct sip_stack *st, struct sip_peer *from, osip_message_t *m, const char *why)
{
	osip_message_t *resp;

	st->stats.malformed++;
	log_info(LOG_SIP, "malformed message", "peer=%s reason=\"%s\"", from->name, why);
	if (!m || MSG_IS_RESPONSE(m) || (m->sip_method && strcmp(m->sip_method, "ACK") == 0))
		return;
	resp = sip_msg_response(m, 400, why, NULL);
	if (resp && sip_peer_send(from, resp) == 0) {
		st->stats.bad_requests++;
		st->stats.responses_out[400 - 100]++;
	}
	osip_message_free(resp);
}

/*
 * libosip2 takes a transport as reliable only when the top Via says TCP, TLS
 * or SCTP; a WebSocket flow (Via WS/WSS, RFC 7118 §5) is reliable too, so its
 * transactions get what libosip2 gives TCP: no retransmissions (timers A, E,
 * G off) and no lingering after the final response (D, I, J, K zero, RFC
 * 3261 §17). Without this every transaction of a flow stayed 32 s in the
 * lists that each run walks.
 */
static void set_reliable(osip_transaction_t *tr)
{
	switch (tr->ctx_type) {
	case ICT:
		tr->ict_context->timer_a_length = -1;
		tr->ict_context->timer_a_start.tv_sec = -1;
		tr->ict_context->timer_d_length = 0;
		break;
	case NICT:
		tr->nict_context->timer_e_length = -1;
		tr->nict_context->timer_e_start.tv_sec = -1;
		tr->nict_context->timer_k_length = 0;
		break;
	case IST:
		tr->ist_context->timer_g_length = -1;
		tr->ist_context->timer_g_start.tv_sec = -1;
		tr->ist_context->timer_i_length = 0;
		break;
	case NIST: tr->nist_context->timer_j_length = 0; break;
	}
}

static void new_server_txn(struct sip_stack *st, struct sip_peer *from, osip_event_t *e)
{
	osip_transaction_t *tr = osip_create_transaction(st->osip, e);
	struct txn_info *i;

	if (!tr) {
		refuse(st, from, e->sip, "Cannot make a transaction");
		osip_event_free(e);
		return;
	}
	i = g_new0(struct txn_info, 1);
	i->peer = sip_peer_ref(from);
	osip_transaction_set_your_instance(tr, i);
	if (from->kind == SIP_PEER_FLOW)
		set_reliable(tr);
	osip_transaction_add_event(tr, e);
	st->stats.transactions++;
}

void sip_stack_receive(struct sip_stack *st, struct sip_peer *from, const char *buf, size_t len)
{
	osip_message_t *m = NULL;
	const char *why = NULL;
	osip_event_t *e;

	if (sip_msg_parse(buf, len, &m, &why) != 0) {
		refuse(st, from, m, why);
		osip_message_free(m);
		return;
	}
	if (MSG_IS_RESPONSE(m))
		st->stats.responses_in++;
	else
		st->stats.requests_in++;
	e = incoming(m);
	if (osip_find_transaction_and_add_event(st->osip, e) != 0) {
		if (MSG_IS_RESPONSE(m) && st->h.stray)
			st->h.stray(st->user, m, from);
		else if (MSG_IS_ACK(m) && st->h.ack)
			st->h.ack(st->user, m, from);
		if (MSG_IS_RESPONSE(m) || MSG_IS_ACK(m)) {
			osip_event_free(e);
		} else {
			new_server_txn(st, from, e);
		}
	}
	run(st, false);
}

int sip_stack_request(struct sip_stack *st, struct sip_peer *to, osip_message_t *req,
                      uint64_t handle)
{
	osip_transaction_t *tr = NULL;
	struct txn_info *i;
	osip_event_t *e;

	if (osip_transaction_init(&tr, MSG_IS_INVITE(req) ? ICT : NICT, st->osip, req) != 0) {
		osip_message_free(req);
		return EINVAL;
	}
	i = g_new0(struct txn_info, 1);
	i->peer = sip_peer_ref(to);
	i->handle = handle;
	osip_transaction_set_your_instance(tr, i);
	if (to->kind == SIP_PEER_FLOW)
		set_reliable(tr);
	else if (tr->ctx_type == NICT)
		/* Timer K (T4, RFC 3261 §17.1.2.2) keeps a UDP non-INVITE client
		 * transaction 5 s after its final answer only to absorb that answer's
		 * retransmissions; here they reach the stray handler, which drops all
		 * but an INVITE's 2xx, so the transaction may go at once (at 300
		 * calls/s, 1,500 BYEs lingered and every run walked them). */
		tr->nict_context->timer_k_length = 0;
	e = osip_new_outgoing_sipmessage(req);
	e->transactionid = tr->transactionid;
	osip_transaction_add_event(tr, e);
	st->stats.transactions++;
	run(st, false);
	return 0;
}

/* The client transactions in l toward p still waiting for a final response, into out. */
static void waiting_on(osip_list_t *l, struct sip_peer *p, GPtrArray *out)
{
	for (int i = 0; i < osip_list_size(l); i++) {
		osip_transaction_t *tr = osip_list_get(l, i);
		struct txn_info *in = info_of(tr);

		if (in && in->peer == p &&
		    !(tr->last_response && tr->last_response->status_code >= 200))
			g_ptr_array_add(out, tr);
	}
}

void sip_stack_peer_lost(struct sip_stack *st, struct sip_peer *p)
{
	GPtrArray *lost = g_ptr_array_new();

	waiting_on(&st->osip->osip_ict_transactions, p, lost);
	waiting_on(&st->osip->osip_nict_transactions, p, lost);
	/* out of the lists first: the handlers may start new transactions */
	for (guint i = 0; i < lost->len; i++)
		osip_remove_transaction(st->osip, lost->pdata[i]);
	for (guint i = 0; i < lost->len; i++) {
		osip_transaction_t *tr = lost->pdata[i];

		g_ptr_array_add(st->dead, tr);
		if (st->h.failed)
			st->h.failed(st->user, info_of(tr)->handle, 503);
	}
	if (lost->len)
		log_info(LOG_SIP, "transactions failed", "peer=%s count=%u reason=connection_lost",
		         p->name, lost->len);
	g_ptr_array_unref(lost);
	run(st, false); /* frees them */
}

void sip_stack_abandon(struct sip_stack *st, uint64_t handle)
{
	osip_list_t *l = &st->osip->osip_ict_transactions;

	for (int i = 0; i < osip_list_size(l); i++) {
		osip_transaction_t *tr = osip_list_get(l, i);
		struct txn_info *ti = info_of(tr);

		if (ti && ti->handle == handle) {
			kill_cb(OSIP_ICT_KILL_TRANSACTION, tr);
			run(st, false); /* frees it */
			return;
		}
	}
}

int sip_stack_respond(struct sip_stack *st, osip_transaction_t *tr, osip_message_t *resp)
{
	osip_event_t *e;

	if (resp->status_code >= 100 && resp->status_code < 700)
		st->stats.responses_out[resp->status_code - 100]++;
	e = osip_new_outgoing_sipmessage(resp);

	if (!e) {
		osip_message_free(resp);
		return EINVAL;
	}
	e->transactionid = tr->transactionid;
	osip_transaction_add_event(tr, e);
	run(st, false);
	return 0;
}

void sip_stack_stats(const struct sip_stack *st, struct sip_stack_stats *out)
{
	*out = st->stats;
}
