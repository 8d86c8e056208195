/* WebSocket transport for SIP (RFC 7118): flows on /sip, message size limits, going-away on stop.
 */
#include "signaling/ws_sip.h"

#include <glib.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/metrics.h"

/* RFC 6455 §7.4.1 close codes */
enum {
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_TOO_BIG = 1009,
};

struct ws_sip {
	const struct http_conf *conf;
	struct metrics *metrics;
	GHashTable *flows; /* struct lws * → struct ws_sip_conn * */
	guint64 next_id;
	void (*on_empty)(void *); /* set by ws_sip_goaway */
	void *on_empty_arg;
	guint empty_source;
};

struct ws_sip_conn {
	guint64 id;
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

/*
 * A message may arrive in several frames and each frame in several
 * callbacks; the limit applies to the whole message, and is enforced as
 * soon as the announced frame length shows it will be crossed.
 */
static void on_receive(struct ws_sip *ws, struct lws *wsi, struct ws_sip_conn *c, size_t len)
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
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return;
	/* SIP over the flow arrives with the signaling issue; for now it is only counted */
	log_debug(LOG_WS, "message", "flow=%" G_GUINT64_FORMAT " bytes=%zu binary=%d", c->id,
	          c->msg_len, lws_frame_is_binary(wsi));
	c->msg_len = 0;
}

static int ws_sip_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
	const struct lws_protocols *p = lws_get_protocol(wsi);
	struct ws_sip *ws = p ? p->user : NULL;
	struct ws_sip_conn *c = user;

	(void)in;
	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		c->id = ++ws->next_id;
		lws_get_peer_simple(wsi, c->peer, sizeof(c->peer));
		g_hash_table_insert(ws->flows, wsi, c);
		metrics_set(ws->metrics, METRIC_WS_CONNECTIONS, ws_sip_count(ws), NULL);
		metrics_add(ws->metrics, METRIC_HTTP_REQUESTS, 1,
		            (const char *const[]){ "sip", "101" });
		log_info(LOG_WS, "flow open", "flow=%" G_GUINT64_FORMAT " peer=%s", c->id, c->peer);
		return 0;
	case LWS_CALLBACK_RECEIVE: on_receive(ws, wsi, c, len); return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!c->close_code)
			return 0;
		lws_close_reason(wsi, (enum lws_close_status)c->close_code,
		                 (unsigned char *)c->close_reason, strlen(c->close_reason));
		return -1;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: count_closed(ws, "peer"); return 0;
	case LWS_CALLBACK_CLOSED:
		if (!g_hash_table_remove(ws->flows, wsi))
			return 0;
		metrics_set(ws->metrics, METRIC_WS_CONNECTIONS, ws_sip_count(ws), NULL);
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
