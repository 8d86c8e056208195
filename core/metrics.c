/* Metrics registry: fixed families, labelled series, Prometheus text rendering. */
#include "core/metrics.h"

#include <stdlib.h>
#include <string.h>

struct family {
	const char *name;
	const char *type; /* "counter" or "gauge" */
	const char *help;
	const char *labels[METRIC_MAX_LABELS + 1];
};

static const struct family families[METRIC_COUNT] = {
	[METRIC_HTTP_REQUESTS] = { "rtcgate_http_requests_total",
	                           "counter",
	                           "HTTP requests answered, by route and status.",
	                           { "route", "status", NULL } },
	[METRIC_HTTP_REJECTED] = { "rtcgate_http_rejected_total",
	                           "counter",
	                           "Connections refused before a request was routed, by reason.",
	                           { "reason", NULL } },
	[METRIC_WS_CONNECTIONS] = { "rtcgate_ws_connections",
	                            "gauge",
	                            "Open WebSocket connections on /sip.",
	                            { NULL } },
	[METRIC_WS_CLOSED] = { "rtcgate_ws_closed_total",
	                       "counter",
	                       "WebSocket connections closed, by reason.",
	                       { "reason", NULL } },
	[METRIC_CONFIG_RELOADS] = { "rtcgate_config_reloads_total",
	                            "counter",
	                            "Configuration reloads on SIGHUP, by result.",
	                            { "result", NULL } },
	[METRIC_STUN_MESSAGES] = { "rtcgate_stun_messages_total",
	                           "counter",
	                           "STUN messages on the TURN listeners, by what became of them.",
	                           { "result", NULL } },
	[METRIC_TURN_PACKETS] = { "rtcgate_turn_packets_total",
	                          "counter",
	                          "TURN packets by side (client, peer) and direction (in, out).",
	                          { "side", "direction", NULL } },
	[METRIC_TURN_BYTES] = { "rtcgate_turn_bytes_total",
	                        "counter",
	                        "TURN bytes by side (client, peer) and direction (in, out).",
	                        { "side", "direction", NULL } },
	[METRIC_TURN_ALLOCATIONS] = { "rtcgate_turn_allocations_total",
	                              "counter",
	                              "TURN allocations by event (created, expired).",
	                              { "event", NULL } },
	[METRIC_TURN_ALLOCATIONS_ACTIVE] = { "rtcgate_turn_allocations",
	                                     "gauge",
	                                     "TURN allocations now.",
	                                     { NULL } },
	[METRIC_TURN_AUTH_FAILURES] = { "rtcgate_turn_auth_failures_total",
	                                "counter",
	                                "TURN requests refused by authentication, by reason.",
	                                { "reason", NULL } },
	[METRIC_TURN_DENIED] = { "rtcgate_turn_denied_total",
	                         "counter",
	                         "TURN requests or packets refused: peer_policy, quota, "
	                         "no_permission.",
	                         { "reason", NULL } },
	[METRIC_TURN_TCP_CONNECTIONS] = { "rtcgate_turn_tcp_connections",
	                                  "gauge",
	                                  "TURN clients connected over TCP now.",
	                                  { NULL } },
	[METRIC_TURN_GSO_DATAGRAMS] = { "rtcgate_turn_gso_datagrams_total",
	                                "counter",
	                                "TURN datagrams sent as part of a UDP GSO send (several "
	                                "datagrams to one destination in one send), by side.",
	                                { "side", NULL } },
	[METRIC_CONFIG_AUTH] = { "rtcgate_config_auth_total",
	                         "counter",
	                         "/config requests with HTTP Basic credentials, by result (turn, "
	                         "refused).",
	                         { "result", NULL } },
	[METRIC_SIP_REGISTRATIONS] = { "rtcgate_sip_registrations",
	                               "gauge",
	                               "WebSocket flows registered to the PBX now.",
	                               { NULL } },
	[METRIC_SIP_REGISTER] = { "rtcgate_sip_register_total",
	                          "counter",
	                          "REGISTER requests from flows, by result (ok, challenged, "
	                          "refused, "
	                          "failed, pbx_down).",
	                          { "result", NULL } },
	[METRIC_SIP_PBX_UP] = { "rtcgate_sip_pbx_up",
	                        "gauge",
	                        "1 while a PBX target answers OPTIONS pings, else 0.",
	                        { "target", NULL } },
	[METRIC_SIP_CALLS] = { "rtcgate_sip_calls",
	                       "gauge",
	                       "Calls now, by state (setup, answered).",
	                       { "state", NULL } },
	[METRIC_SIP_CALLS_ENDED] = { "rtcgate_sip_calls_ended_total",
	                             "counter",
	                             "Calls ended, by reason (bye_caller, bye_callee, cancelled, "
	                             "refused, refused_here, timeout, unreachable, flow_closed, "
	                             "sdp).",
	                             { "reason", NULL } },
	[METRIC_SIP_RESPONSES] = { "rtcgate_sip_responses_total",
	                           "counter",
	                           "SIP responses the B2BUA sent (either side), by status code.",
	                           { "code", NULL } },
	[METRIC_SIP_DROPPED] = { "rtcgate_sip_dropped_total",
	                         "counter",
	                         "SIP messages dropped or refused with 400, by reason (malformed, "
	                         "not_pbx; too_big and framing close a PBX TCP/TLS connection).",
	                         { "reason", NULL } },
	[METRIC_MEDIA_SESSIONS] = { "rtcgate_media_sessions",
	                            "gauge",
	                            "Media sessions (calls anchored on the media workers) now.",
	                            { NULL } },
	[METRIC_MEDIA_PACKETS] = { "rtcgate_media_packets_total",
	                           "counter",
	                           "RTP and RTCP packets relayed by the media workers, by kind.",
	                           { "kind", NULL } },
	[METRIC_MEDIA_BYTES] = { "rtcgate_media_bytes_total",
	                         "counter",
	                         "RTP and RTCP bytes relayed by the media workers, by kind.",
	                         { "kind", NULL } },
	[METRIC_MEDIA_DROPPED] = { "rtcgate_media_dropped_total",
	                           "counter",
	                           "Media packets dropped: not_latched, no_remote, send_error, "
	                           "malformed.",
	                           { "reason", NULL } },
	[METRIC_MEDIA_RTP_EXPECTED] = { "rtcgate_media_rtp_expected_total",
	                                "counter",
	                                "RTP packets the peers sent as their sequence numbers "
	                                "tell, counted when a session ends, by leg (a browser, b "
	                                "PBX).",
	                                { "leg", NULL } },
	[METRIC_MEDIA_RTP_LOST] = { "rtcgate_media_rtp_lost_total",
	                            "counter",
	                            "Of rtcgate_media_rtp_expected_total, packets that never "
	                            "arrived.",
	                            { "leg", NULL } },
	[METRIC_MEDIA_QUALITY] = { "rtcgate_media_quality_total",
	                           "counter",
	                           "Sessions ended with media, by E-model MOS band: good (4.0 and "
	                           "up), fair (3.6), poor (3.1), bad.",
	                           { "mos", NULL } },
};

struct series {
	char *labels[METRIC_MAX_LABELS];
	int64_t value;
};

struct collector {
	metrics_collector fn;
	void *arg;
};

struct metrics {
	GHashTable *series[METRIC_COUNT]; /* key: labels joined by \x1f */
	GArray *collectors;               /* struct collector */
};

static size_t nlabels(enum metric id)
{
	size_t n = 0;

	while (families[id].labels[n])
		n++;
	return n;
}

static void series_free(gpointer p)
{
	struct series *s = p;

	for (size_t i = 0; i < METRIC_MAX_LABELS; i++)
		g_free(s->labels[i]);
	g_free(s);
}

struct metrics *metrics_new(void)
{
	struct metrics *m = g_new0(struct metrics, 1);

	m->collectors = g_array_new(FALSE, FALSE, sizeof(struct collector));

	for (size_t i = 0; i < METRIC_COUNT; i++)
		m->series[i] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, series_free);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < METRIC_COUNT; i++)
		g_hash_table_destroy(m->series[i]);
	g_array_unref(m->collectors);
	g_free(m);
}

static char *series_key(enum metric id, const char *const *labels)
{
	GString *k = g_string_new(NULL);

	for (size_t i = 0; i < nlabels(id); i++) {
		if (i)
			g_string_append_c(k, '\x1f');
		g_string_append(k, labels[i]);
	}
	return g_string_free(k, FALSE);
}

static struct series *lookup(struct metrics *m, enum metric id, const char *const *labels)
{
	char *key = series_key(id, labels);
	struct series *s = g_hash_table_lookup(m->series[id], key);

	if (s) {
		g_free(key);
		return s;
	}
	s = g_new0(struct series, 1);
	for (size_t i = 0; i < nlabels(id); i++)
		s->labels[i] = g_strdup(labels[i]);
	g_hash_table_insert(m->series[id], key, s);
	return s;
}

void metrics_add(struct metrics *m, enum metric id, int64_t delta, const char *const *labels)
{
	lookup(m, id, labels)->value += delta;
}

void metrics_set(struct metrics *m, enum metric id, int64_t value, const char *const *labels)
{
	lookup(m, id, labels)->value = value;
}

void metrics_add_collector(struct metrics *m, metrics_collector fn, void *arg)
{
	struct collector c = { fn, arg };

	g_array_append_val(m->collectors, c);
}

void metrics_remove_collector(struct metrics *m, metrics_collector fn, void *arg)
{
	for (guint i = 0; i < m->collectors->len; i++) {
		struct collector *c = &g_array_index(m->collectors, struct collector, i);

		if (c->fn == fn && c->arg == arg) {
			g_array_remove_index(m->collectors, i);
			return;
		}
	}
}

void metrics_collect(struct metrics *m)
{
	for (guint i = 0; i < m->collectors->len; i++) {
		struct collector *c = &g_array_index(m->collectors, struct collector, i);

		c->fn(c->arg, m);
	}
}

int64_t metrics_get(const struct metrics *m, enum metric id, const char *const *labels)
{
	char *key = series_key(id, labels);
	const struct series *s = g_hash_table_lookup(m->series[id], key);

	g_free(key);
	return s ? s->value : 0;
}

void metrics_escape_label(GString *out, const char *value)
{
	for (const char *p = value; *p; p++) {
		switch (*p) {
		case '\\': g_string_append(out, "\\\\"); break;
		case '"': g_string_append(out, "\\\""); break;
		case '\n': g_string_append(out, "\\n"); break;
		default: g_string_append_c(out, *p);
		}
	}
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void render_family(const struct metrics *m, enum metric id, GString *out)
{
	const struct family *f = &families[id];
	guint nkeys = 0;
	gpointer *keyv = g_hash_table_get_keys_as_array(m->series[id], &nkeys);
	size_t nl = nlabels(id);

	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
	                       f->type);
	/* a gauge without labels always has its one sample */
	if (nl == 0 && nkeys == 0)
		g_string_append_printf(out, "%s 0\n", f->name);
	qsort(keyv, nkeys, sizeof(*keyv), cmp_keys);
	for (guint i = 0; i < nkeys; i++) {
		const struct series *s = g_hash_table_lookup(m->series[id], keyv[i]);

		g_string_append(out, f->name);
		for (size_t l = 0; l < nl; l++) {
			g_string_append_printf(out, "%s%s=\"", l ? "," : "{", f->labels[l]);
			metrics_escape_label(out, s->labels[l]);
			g_string_append_c(out, '"');
		}
		g_string_append_printf(out, "%s %" G_GINT64_FORMAT "\n", nl ? "}" : "",
		                       (gint64)s->value);
	}
	g_free(keyv);
}

void metrics_render(const struct metrics *m, GString *out, const char *version, double uptime,
                    double start_time)
{
	g_string_append(out, "# HELP rtcgate_build_info Build version; the value is always 1.\n"
	                     "# TYPE rtcgate_build_info gauge\n"
	                     "rtcgate_build_info{version=\"");
	metrics_escape_label(out, version);
	g_string_append_printf(out,
	                       "\"} 1\n"
	                       "# HELP rtcgate_uptime_seconds Seconds since rtcgate started.\n"
	                       "# TYPE rtcgate_uptime_seconds gauge\n"
	                       "rtcgate_uptime_seconds %.3f\n"
	                       "# HELP process_start_time_seconds Start time of the process since "
	                       "the Unix epoch in seconds.\n"
	                       "# TYPE process_start_time_seconds gauge\n"
	                       "process_start_time_seconds %.3f\n",
	                       uptime, start_time);
	for (size_t i = 0; i < METRIC_COUNT; i++)
		render_family(m, (enum metric)i, out);
}
