/* Unit tests for core/metrics: series, label escaping, exposition layout. */
#include <glib.h>
#include <string.h>

#include "core/metrics.h"

static void test_series(void)
{
	struct metrics *m = metrics_new();
	const char *const a[] = { "healthz", "200" };
	const char *const b[] = { "static", "404" };

	g_assert_cmpint(metrics_get(m, METRIC_HTTP_REQUESTS, a), ==, 0);
	metrics_add(m, METRIC_HTTP_REQUESTS, 1, a);
	metrics_add(m, METRIC_HTTP_REQUESTS, 2, a);
	metrics_add(m, METRIC_HTTP_REQUESTS, 1, b);
	g_assert_cmpint(metrics_get(m, METRIC_HTTP_REQUESTS, a), ==, 3);
	g_assert_cmpint(metrics_get(m, METRIC_HTTP_REQUESTS, b), ==, 1);
	metrics_set(m, METRIC_WS_CONNECTIONS, 7, NULL);
	metrics_set(m, METRIC_WS_CONNECTIONS, 5, NULL);
	g_assert_cmpint(metrics_get(m, METRIC_WS_CONNECTIONS, NULL), ==, 5);
	metrics_free(m);
}

static void test_escape(void)
{
	GString *s = g_string_new(NULL);

	metrics_escape_label(s, "a\"b\\c\nd");
	g_assert_cmpstr(s->str, ==, "a\\\"b\\\\c\\nd");
	g_string_free(s, TRUE);
}

static void test_render(void)
{
	struct metrics *m = metrics_new();
	GString *s = g_string_new(NULL);
	gchar **lines;
	guint ntype = 0, nhelp = 0;

	metrics_add(m, METRIC_HTTP_REQUESTS, 1, (const char *const[]){ "static", "404" });
	metrics_add(m, METRIC_HTTP_REQUESTS, 4, (const char *const[]){ "healthz", "200" });
	metrics_add(m, METRIC_WS_CLOSED, 1, (const char *const[]){ "we\"ird" });
	metrics_render(m, s, "1.2.3", 12.5, 1700000000.0);

	g_assert_nonnull(strstr(s->str, "rtcgate_build_info{version=\"1.2.3\"} 1\n"));
	g_assert_nonnull(strstr(s->str, "rtcgate_uptime_seconds 12.500\n"));
	/* sorted by labels: healthz before static */
	g_assert_nonnull(
	        strstr(s->str, "rtcgate_http_requests_total{route=\"healthz\",status=\"200\"} 4\n"
	                       "rtcgate_http_requests_total{route=\"static\",status=\"404\"} 1\n"));
	g_assert_nonnull(strstr(s->str, "rtcgate_ws_closed_total{reason=\"we\\\"ird\"} 1\n"));
	g_assert_nonnull(strstr(s->str, "rtcgate_ws_connections 0\n"));
	g_assert_true(g_str_has_suffix(s->str, "\n"));

	/* every family: one HELP then one TYPE, each name once */
	lines = g_strsplit(s->str, "\n", -1);
	for (gchar **l = lines; *l; l++) {
		if (g_str_has_prefix(*l, "# HELP "))
			nhelp++;
		if (g_str_has_prefix(*l, "# TYPE ")) {
			ntype++;
			g_assert_true(g_str_has_suffix(*l, " counter") ||
			              g_str_has_suffix(*l, " gauge"));
		}
	}
	g_assert_cmpuint(nhelp, ==, ntype);
	g_assert_cmpuint(ntype, ==, METRIC_COUNT + 3);
	g_strfreev(lines);
	g_string_free(s, TRUE);
	metrics_free(m);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/metrics/series", test_series);
	g_test_add_func("/metrics/escape", test_escape);
	g_test_add_func("/metrics/render", test_render);
	return g_test_run();
}
