/* WebSocket transport for SIP (RFC 7118): flows on /sip, message size limits, going-away on stop.
 */
#include "signaling/ws_sip.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/metrics.h"

/* RFC 6455 §7.4.1 close codes */
enum {
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_POLICY = 1008,
	WS_CLOSE_TOO_BIG = 1009,
};

/* Output a flow may have waiting before it is closed as too slow. */
#define FLOW_OUT_MAX (1024 * 1024)

struct ws_sip {
	const struct http_conf *conf;
	struct metrics *metrics;
	GHashTable *flows; /* struct lws * → struct ws_sip_conn * */
	guint64 next_id;
	void (*on_empty)(void *); /* set by ws_sip_goaway */
	void *on_empty_arg;
	guint empty_source;
	const struct ws_sip_handler *h;
	void *h_user;
};

struct ws_sip_conn {
	guint64 id;
	struct ws_flow *flow;
	size_t msg_len; /* bytes of the message being received */
	int close_code; /* set when we decided to close; sent on writable */
	const char *close_reason;
	char peer[64];
};

struct ws_sip *ws_sip_new(const struct http_conf *conf, struct metrics *metrics)
{
	struct ws_sip *ws = g_new0(struct ws_sip, 1);

	ws->conf = conf;
	ws->metrics = metrics;
	ws->flows = g_hash_table_new(g_direct_hash, g_direct_equal);
	return ws;
}

void ws_sip_free(struct ws_sip *ws)
{
	if (!ws)
		return;
	if (ws->empty_source)
		g_source_remove(ws->empty_source);
	g_hash_table_destroy(ws->flows);
	g_free(ws);
}

void ws_sip_set_handler(struct ws_sip *ws, const struct ws_sip_handler *h, void *user)
{
	ws->h = h;
	ws->h_user = user;
}

void ws_sip_set_conf(struct ws_sip *ws, const struct http_conf *conf)
{
	ws->conf = conf;
}

unsigned ws_sip_count(const struct ws_sip *ws)
{
	return g_hash_table_size(ws->flows);
}

static void count_closed(struct ws_sip *ws, const char *reason)
{
	metrics_add(ws->metrics, METRIC_WS_CLOSED, 1, (const char *[]){ reason });
}

/* Close from our side: the close frame goes out on the next writable callback. */
static void close_later(struct lws *wsi, struct ws_sip_conn *c, int code, const char *reason)
{
	if (c->close_code)
		return;
	c->close_code = code;
	c->close_reason = reason;
	lws_callback_on_writable(wsi);
}

static gboolean report_empty(gpointer data)
{
	struct ws_sip *ws = data;

	ws->empty_source = 0;
	if (ws->on_empty)
		ws->on_empty(ws->on_empty_arg);
	ws->on_empty = NULL;
	return G_SOURCE_REMOVE;
}

/* Called from lws callbacks: report from the loop, not from inside lws. */
static void check_empty(struct ws_sip *ws)
{
	if (ws->on_empty && !ws->empty_source && g_hash_table_size(ws->flows) == 0)
		ws->empty_source = g_idle_add(report_empty, ws);
}

void ws_sip_goaway(struct ws_sip *ws, void (*done)(void *), void *arg)
{
	GHashTableIter it;
	gpointer wsi, c;

	ws->on_empty = done;
	ws->on_empty_arg = arg;
	g_hash_table_iter_init(&it, ws->flows);
	while (g_hash_table_iter_next(&it, &wsi, &c))
		close_later(wsi, c, WS_CLOSE_GOING_AWAY, "server shutting down");
	check_empty(ws);
}

static int flow_send(struct sip_peer *p, const char *buf, size_t len)
{
	struct ws_flow *f = (struct ws_flow *)p;

	if (p->closed || !f->wsi)
		return EPIPE;
	if (f->out_bytes + len > FLOW_OUT_MAX) {
		/* a client that does not read: it loses its flow, nobody else suffers */
		struct ws_sip_conn *c = lws_wsi_user(f->wsi);

		log_info(LOG_WS, "flow too slow", "flow=%" G_GUINT64_FORMAT " queued=%zu", f->id,
		         f->out_bytes);
		close_later(f->wsi, c, WS_CLOSE_POLICY, "not reading");
		return ENOBUFS;
	}
	g_queue_push_tail(&f->out, g_bytes_new(buf, len));
	f->out_bytes += len;
	lws_callback_on_writable(f->wsi);
	return 0;
}

static void flow_free(struct sip_peer *p)
{
	struct ws_flow *f = (struct ws_flow *)p;

	g_queue_clear_full(&f->out, (GDestroyNotify)g_bytes_unref);
	g_byte_array_unref(f->in);
	g_free(f);
}

static const struct sip_peer_ops flow_ops = { .send = flow_send, .free = flow_free };

/* The page's location for emergency routing: ?phys=<id>, letters, digits and -_. only. */
static void read_phys(struct lws *wsi, struct ws_flow *f)
{
	char buf[128];
	/* lws matches the name as a prefix of "name=value" and returns what follows it: the '='
	 * must be part of the name, or the value starts with '=' (and "physics=" would match too)
	 */
	const char *v = lws_get_urlarg_by_name(wsi, "phys=", buf, sizeof(buf));

	f->phys[0] = '\0';
	if (!v || strlen(v) >= sizeof(f->phys))
		return;
	for (const char *p = v; *p; p++) {
		if (!g_ascii_isalnum(*p) && !strchr("-_.", *p))
			return;
	}
	g_strlcpy(f->phys, v, sizeof(f->phys));
}

static void flow_open(struct ws_sip *ws, struct lws *wsi, struct ws_sip_conn *c)
{
	struct ws_flow *f = g_new0(struct ws_flow, 1);
	char name[32];

	g_snprintf(name, sizeof(name), "flow-%" G_GUINT64_FORMAT, c->id);
	sip_peer_init(&f->peer, &flow_ops, name);
	f->peer.kind = SIP_PEER_FLOW;
	f->id = c->id;
	f->wsi = wsi;
	f->tls = lws_is_ssl(wsi) != 0;
	g_strlcpy(f->remote, c->peer, sizeof(f->remote));
	g_queue_init(&f->out);
	f->in = g_byte_array_new();
	read_phys(wsi, f);
	c->flow = f;
	if (ws->h)
		ws->h->open(ws->h_user, f);
}

/* Write one queued message; ask for another turn when more wait. */
static int flow_writable(struct lws *wsi, struct ws_flow *f)
{
	GBytes *b = g_queue_pop_head(&f->out);
	size_t len;
	const uint8_t *data;
	uint8_t *buf;
	int n;

	if (!b)
		return 0;
	data = g_bytes_get_data(b, &len);
	f->out_bytes -= len;
	buf = g_malloc(LWS_PRE + len);
	memcpy(buf + LWS_PRE, data, len);
	n = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT);
	g_free(buf);
	g_bytes_unref(b);
	if (n < (int)len)
		return -1;
	if (!g_queue_is_empty(&f->out))
		lws_callback_on_writable(wsi);
	return 0;
}

void ws_flow_close(struct ws_flow *f, const char *reason)
{
	if (f->wsi)
		close_later(f->wsi, lws_wsi_user(f->wsi), WS_CLOSE_POLICY, reason);
}

static void flow_closed(struct ws_sip *ws, struct ws_sip_conn *c)
{
	struct ws_flow *f = c->flow;

	if (!f)
		return;
	c->flow = NULL;
	f->wsi = NULL;
	f->peer.closed = true;
	g_queue_clear_full(&f->out, (GDestroyNotify)g_bytes_unref);
	f->out_bytes = 0;
	if (ws->h)
		ws->h->closed(ws->h_user, f);
	sip_peer_unref(&f->peer);
}

/* A whole message: a CRLF keepalive is answered (RFC 5626 §4.4.1), anything else goes up. */
static void flow_message(struct ws_sip *ws, struct ws_flow *f)
{
	const char *msg = (const char *)f->in->data;
	size_t len = f->in->len;

	if (len == 4 && memcmp(msg, "\r\n\r\n", 4) == 0) {
		flow_send(&f->peer, "\r\n", 2);
		return;
	}
	if (ws->h)
		ws->h->message(ws->h_user, f, msg, len);
}

/*
 * A message may arrive in several frames and each frame in several
 * callbacks; the limit applies to the whole message, and is enforced as
 * soon as the announced frame length shows it will be crossed.
 */
static void on_receive(struct ws_sip *ws, struct lws *wsi, struct ws_sip_conn *c, const void *in,
                       size_t len)
{
	size_t max = (size_t)ws->conf->ws_max_message;

	if (c->close_code)
		return;
	c->msg_len += len;
	if (c->msg_len + lws_remaining_packet_payload(wsi) > max) {
		log_info(LOG_WS, "message too big", "flow=%" G_GUINT64_FORMAT " bytes=%zu max=%zu",
		         c->id, c->msg_len + lws_remaining_packet_payload(wsi), max);
		count_closed(ws, "message_too_big");
		close_later(wsi, c, WS_CLOSE_TOO_BIG, "message too big");
		return;
	}
	if (c->flow)
		g_byte_array_append(c->flow->in, in, (guint)len);
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return;
	log_debug(LOG_WS, "message", "flow=%" G_GUINT64_FORMAT " bytes=%zu binary=%d", c->id,
	          c->msg_len, lws_frame_is_binary(wsi));
	c->msg_len = 0;
	if (c->flow) {
		flow_message(ws, c->flow);
		if (c->flow)
			g_byte_array_set_size(c->flow->in, 0);
	}
}

static int ws_sip_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
	const struct lws_protocols *p = lws_get_protocol(wsi);
	struct ws_sip *ws = p ? p->user : NULL;
	struct ws_sip_conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		c->id = ++ws->next_id;
		lws_get_peer_simple(wsi, c->peer, sizeof(c->peer));
		g_hash_table_insert(ws->flows, wsi, c);
		metrics_set(ws->metrics, METRIC_WS_CONNECTIONS, ws_sip_count(ws), NULL);
		metrics_add(ws->metrics, METRIC_HTTP_REQUESTS, 1,
		            (const char *const[]){ "sip", "101" });
		flow_open(ws, wsi, c);
		/* phys holds only letters, digits and -_. (read_phys): safe in a log line */
		log_info(LOG_WS, "flow open", "flow=%" G_GUINT64_FORMAT " peer=%s phys=%s", c->id,
		         c->peer, c->flow->phys[0] ? c->flow->phys : "-");
		return 0;
	case LWS_CALLBACK_RECEIVE:
		lws_validity_confirmed(wsi); /* any frame proves the flow alive */
		on_receive(ws, wsi, c, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!c->close_code)
			return c->flow ? flow_writable(wsi, c->flow) : 0;
		lws_close_reason(wsi, (enum lws_close_status)c->close_code,
		                 (unsigned char *)c->close_reason, strlen(c->close_reason));
		return -1;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: count_closed(ws, "peer"); return 0;
	case LWS_CALLBACK_CLOSED:
		if (!g_hash_table_remove(ws->flows, wsi))
			return 0;
		metrics_set(ws->metrics, METRIC_WS_CONNECTIONS, ws_sip_count(ws), NULL);
		flow_closed(ws, c);
		log_info(LOG_WS, "flow closed", "flow=%" G_GUINT64_FORMAT " peer=%s code=%d", c->id,
		         c->peer, c->close_code);
		check_empty(ws);
		return 0;
	default: return 0;
	}
}

struct lws_protocols ws_sip_protocol(struct ws_sip *ws)
{
	return (struct lws_protocols){
		.name = "sip",
		.callback = ws_sip_callback,
		.per_session_data_size = sizeof(struct ws_sip_conn),
		.rx_buffer_size = 16384,
		.user = ws,
	};
}
