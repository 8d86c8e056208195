/* Unit tests for core/log: level parsing, per-subsystem specs, value quoting. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "core/log.h"

static void test_levels(void)
{
	int levels[LOG_SUB_COUNT];
	char *err = NULL;

	g_assert_cmpint(log_levels_parse("warn", "sip:debug, http:error", levels, &err), ==, 0);
	g_assert_null(err);
	g_assert_cmpint(levels[LOG_SIP], ==, LOG_LVL_DEBUG);
	g_assert_cmpint(levels[LOG_HTTP], ==, LOG_LVL_ERROR);
	g_assert_cmpint(levels[LOG_TURN], ==, LOG_LVL_WARN);
	g_assert_cmpint(log_levels_parse("info", "", levels, NULL), ==, 0);
	g_assert_cmpint(levels[LOG_SIP], ==, LOG_LVL_INFO);
}

static void test_level_errors(void)
{
	static const struct {
		const char *base, *spec, *reason;
	} bad[] = {
		{ "loud", "", "unknown level 'loud'" },
		{ "info", "sip", "'sip' is not subsystem:level" },
		{ "info", "nope:debug", "unknown subsystem 'nope'" },
		{ "info", "sip:chatty", "unknown level 'chatty' for sip" },
		{ "info", "sip:debug,:", "unknown subsystem ''" },
	};
	int levels[LOG_SUB_COUNT] = { 42 };

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *err = NULL;

		g_assert_cmpint(log_levels_parse(bad[i].base, bad[i].spec, levels, &err), ==,
		                EINVAL);
		g_assert_nonnull(err);
		g_assert_true(g_str_has_prefix(err, bad[i].reason));
		g_assert_cmpint(levels[0], ==, 42); /* untouched on error */
		g_free(err);
	}
}

static void test_quote(void)
{
	char buf[16];

	g_assert_cmpstr(log_quote(buf, sizeof(buf), "a b"), ==, "\"a b\"");
	g_assert_cmpstr(log_quote(buf, sizeof(buf), "a\"b\\"), ==, "\"a\\\"b\\\\\"");
	g_assert_cmpstr(log_quote(buf, sizeof(buf), "x\ny\r"), ==, "\"x?y?\"");
	g_assert_cmpstr(log_quote(buf, sizeof(buf), "0123456789abcdef"), ==, "\"0123456789...\"");
	g_assert_cmpuint(strlen(log_quote(buf, sizeof(buf), "0123456789abcdef")), <, sizeof(buf));
	g_assert_cmpstr(log_quote(buf, sizeof(buf), NULL), ==, "\"\"");
	g_assert_cmpstr(log_quote(buf, 3, "abc"), ==, "");
}

static void test_names(void)
{
	for (int i = 0; i < LOG_SUB_COUNT; i++)
		g_assert_nonnull(log_sub_name((enum log_sub)i));
	g_assert_null(log_sub_name(LOG_SUB_COUNT));
	g_assert_cmpstr(log_level_name(LOG_LVL_WARN), ==, "warn");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/log/levels", test_levels);
	g_test_add_func("/log/level-errors", test_level_errors);
	g_test_add_func("/log/quote", test_quote);
	g_test_add_func("/log/names", test_names);
	return g_test_run();
}
