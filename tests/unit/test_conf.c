/* Unit tests for the config table and loader: defaults, every error path, reload, example file. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "core/conf.h"

static GPtrArray *errs(void)
{
	return g_ptr_array_new_with_free_func(g_free);
}

static struct conf *load_ok(const char *ini, const char *const *overrides)
{
	GPtrArray *e = errs();
	struct conf *c = NULL;
	int rc = conf_load_data(ini, strlen(ini), "t.conf", overrides, &c, e);

	for (guint i = 0; i < e->len; i++)
		g_test_message("unexpected: %s", (char *)e->pdata[i]);
	g_assert_cmpint(rc, ==, 0);
	g_assert_nonnull(c);
	g_ptr_array_unref(e);
	return c;
}

static void test_defaults(void)
{
	GPtrArray *e = errs();
	struct conf *c = NULL;

	g_assert_cmpint(conf_load(NULL, NULL, &c, e), ==, 0);
	g_assert_cmpuint(e->len, ==, 0);
	g_assert_cmpstr(c->state_dir, ==, "./state");
	g_assert_cmpint(c->http.port, ==, 8080);
	g_assert_cmpint(c->http.tls_port, ==, 8443);
	g_assert_cmpstr(c->http.address, ==, "");
	g_assert_cmpstr(c->http.cert, ==, "");
	g_assert_nonnull(c->http.allowed_origins);
	g_assert_null(c->http.allowed_origins[0]);
	g_assert_cmpint(c->log.resolved[LOG_SIP], ==, LOG_LVL_INFO);
	conf_free(c);
	g_ptr_array_unref(e);
}

static void test_values(void)
{
	const char *ini = "[general]\nstate_dir = /var/lib/rtcgate\n"
	                  "[http]\nport = 0\ntls_port=443\n"
	                  "allowed_origins = https://a.example, https://b.example:8443 ,\n"
	                  "[log]\nlevel = warn\nlevels = sip:debug\n";
	struct conf *c = load_ok(ini, NULL);

	g_assert_cmpstr(c->state_dir, ==, "/var/lib/rtcgate");
	g_assert_cmpint(c->http.port, ==, 0);
	g_assert_cmpint(c->http.tls_port, ==, 443);
	g_assert_cmpstr(c->http.allowed_origins[0], ==, "https://a.example");
	g_assert_cmpstr(c->http.allowed_origins[1], ==, "https://b.example:8443");
	g_assert_null(c->http.allowed_origins[2]);
	g_assert_cmpint(c->log.resolved[LOG_SIP], ==, LOG_LVL_DEBUG);
	g_assert_cmpint(c->log.resolved[LOG_HTTP], ==, LOG_LVL_WARN);
	conf_free(c);
}

static void test_overrides(void)
{
	const char *const o[] = { "http.port=9090", "log.levels=http:debug",
		                  "general.state_dir=a=b", NULL };
	struct conf *c = load_ok("[http]\nport = 8081\n", o);

	g_assert_cmpint(c->http.port, ==, 9090);
	g_assert_cmpstr(c->state_dir, ==, "a=b");
	g_assert_cmpint(c->log.resolved[LOG_HTTP], ==, LOG_LVL_DEBUG);
	conf_free(c);
}

/* Each bad input gives exactly one line naming the source, the key and the reason. */
static const struct {
	const char *ini;
	const char *override;
	const char *line;
} bad[] = {
	{ "this is not ini\n", NULL, "t.conf: " },
	{ "[nosuch]\nx = 1\n", NULL, "t.conf: [nosuch]: unknown section" },
	{ "[http]\nprot = 1\n", NULL, "t.conf: http.prot: unknown key" },
	{ "[http]\nport = abc\n", NULL, "t.conf: http.port: 'abc' is not an integer" },
	{ "[http]\nport = 80x\n", NULL, "t.conf: http.port: '80x' is not an integer" },
	{ "[http]\nport =\n", NULL, "t.conf: http.port: '' is not an integer" },
	{ "[http]\nport = 99999999999999999999\n", NULL,
	  "t.conf: http.port: '99999999999999999999' is not an integer" },
	{ "[http]\nport = 70000\n", NULL, "t.conf: http.port: 70000 is out of range 0..65535" },
	{ "[http]\nport = -1\n", NULL, "t.conf: http.port: -1 is out of range 0..65535" },
	{ "[http]\nmax_header_bytes = 10\n", NULL,
	  "t.conf: http.max_header_bytes: 10 is out of range 1024..65535" },
	{ "[http]\naddress = example.com\n", NULL,
	  "t.conf: http.address: 'example.com' is not an IP address" },
	{ "[http]\nallowed_origins = ftp://x\n", NULL,
	  "t.conf: http.allowed_origins: 'ftp://x' is not an origin" },
	{ "[http]\nallowed_origins = https://x/path\n", NULL,
	  "t.conf: http.allowed_origins: 'https://x/path' is not an origin" },
	{ "[http]\nallowed_origins = nonsense\n", NULL,
	  "t.conf: http.allowed_origins: 'nonsense' is not an origin" },
	{ "[log]\nlevel = loud\n", NULL, "t.conf: log.level: unknown level 'loud'" },
	{ "[log]\nlevels = sip=debug\n", NULL, "t.conf: log.levels: 'sip=debug' is not" },
	{ "[http]\ncert = /x.pem\n", NULL,
	  "t.conf: http.key: http.cert and http.key must be set together" },
	{ "[http]\nkey = /x.pem\n", NULL,
	  "t.conf: http.cert: http.cert and http.key must be set together" },
	{ "[media]\ndtls_cert = /x.pem\n", NULL,
	  "t.conf: media.dtls_key: media.dtls_cert and media.dtls_key must be set together" },
	{ "[media]\ndtls_key = /x.pem\n", NULL,
	  "t.conf: media.dtls_cert: media.dtls_cert and media.dtls_key must be set together" },
	{ "[http]\nport = 8443\n", NULL, "t.conf: http.tls_port: must differ from http.port" },
	{ "[turn]\nusers = alice:pw, bobsecret\n", NULL,
	  "t.conf: turn.users: entry 2 is not user:password" },
	{ "[turn]\nallowed_peers = self, 10.0.0.0/99\n", NULL,
	  "t.conf: turn.allowed_peers: '10.0.0.0/99' is not CIDR[:port-port]" },
	{ "[turn]\ndenied_peers = self\n", NULL,
	  "t.conf: turn.denied_peers: 'self' is only meaningful in allowed_peers" },
	{ "[turn]\nrelay_ports = 30000-20001\n", NULL,
	  "t.conf: turn.relay_ports: '30000-20001' is not a port range" },
	{ "[media]\nports = lots\n", NULL, "t.conf: media.ports: 'lots' is not a port range" },
	{ "[media]\npublic_address = nat.example\n", NULL,
	  "t.conf: media.public_address: 'nat.example' is not an IP address" },
	{ "[media]\nworkers = 65\n", NULL, "t.conf: media.workers: 65 is out of range 0..64" },
	{ "[turn]\nrealm =\n", NULL, "t.conf: turn.realm: must be 1 to 127 UTF-8 characters" },
	{ "[turn]\nalternate_server = turn.example:3478\n", NULL,
	  "t.conf: turn.alternate_server: 'turn.example:3478' is not an address" },
	{ "[turn]\nmax_lifetime = 60\n", NULL,
	  "t.conf: turn.max_lifetime: 60 is out of range 600..86400" },
	{ "", "http.port", "-o http.port: expected section.key=value" },
	{ "", "port=1", "-o port=1: expected section.key=value" },
	{ "", "http.nosuch=1", "-o: http.nosuch: unknown key" },
	{ "", "http.port=x", "-o: http.port: 'x' is not an integer" },
	{ "", "log.level=", "-o: log.level: unknown level ''" },
};

static void test_errors(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		const char *const o[] = { bad[i].override, NULL };
		GPtrArray *e = errs();
		struct conf *c = (struct conf *)0x1;
		int rc = conf_load_data(bad[i].ini, strlen(bad[i].ini), "t.conf", o, &c, e);

		g_test_message("case %zu: %s", i, bad[i].line);
		g_assert_cmpint(rc, ==, EINVAL);
		g_assert_true(c == (struct conf *)0x1); /* not written on error */
		g_assert_cmpuint(e->len, ==, 1);
		if (!g_str_has_prefix(e->pdata[0], bad[i].line))
			g_error("got '%s', want prefix '%s'", (char *)e->pdata[0], bad[i].line);
		g_ptr_array_unref(e);
	}
}

/* A bad users entry is named by its position: the password never reaches a log line. */
static void test_secret_not_in_errors(void)
{
	const char *ini = "[turn]\nusers = carol-hunter2\n";
	GPtrArray *e = errs();
	struct conf *c = NULL;

	g_assert_cmpint(conf_load_data(ini, strlen(ini), "t.conf", NULL, &c, e), ==, EINVAL);
	g_assert_cmpuint(e->len, ==, 1);
	g_assert_null(strstr(e->pdata[0], "hunter2"));
	g_ptr_array_unref(e);
}

static void test_many_errors(void)
{
	const char *ini = "[http]\nport = x\ntls_port = 1000000\nbogus = 1\n[zzz]\n";
	GPtrArray *e = errs();
	struct conf *c = NULL;

	g_assert_cmpint(conf_load_data(ini, strlen(ini), "t.conf", NULL, &c, e), ==, EINVAL);
	g_assert_cmpuint(e->len, ==, 4);
	g_ptr_array_unref(e);
}

static void test_missing_file(void)
{
	GPtrArray *e = errs();
	struct conf *c = NULL;

	g_assert_cmpint(conf_load("/nonexistent/rtcgate.conf", NULL, &c, e), ==, EINVAL);
	g_assert_cmpuint(e->len, ==, 1);
	g_assert_true(g_str_has_prefix(e->pdata[0], "/nonexistent/rtcgate.conf: "));
	g_assert_null(c);
	g_ptr_array_unref(e);
}

static void test_reload_merge(void)
{
	struct conf *cur = load_ok("[http]\nport = 8081\n", NULL);
	struct conf *next = load_ok("[http]\nport = 8082\nws_max_message = 2048\n"
	                            "[log]\nlevel = debug\n",
	                            NULL);
	GPtrArray *kept = errs(), *applied = errs();

	conf_merge_reload(next, cur, kept, applied);
	g_assert_cmpint(next->http.port, ==, 8081); /* restart-only: kept */
	g_assert_cmpint(next->http.ws_max_message, ==, 2048);
	g_assert_cmpstr(next->log.level, ==, "debug");
	g_assert_cmpuint(kept->len, ==, 1);
	g_assert_cmpstr(kept->pdata[0], ==, "http.port");
	g_assert_cmpuint(applied->len, ==, 2);
	g_ptr_array_unref(kept);
	g_ptr_array_unref(applied);
	conf_free(cur);
	conf_free(next);
}

/* rtcgate.conf.example is what the table says, byte for byte. */
static void test_example_file(void)
{
	gchar *path =
	        g_build_filename(g_getenv("RTCGATE_SOURCE_ROOT"), "rtcgate.conf.example", NULL);
	gchar *file = NULL;
	GString *want = g_string_new(NULL);

	g_assert_true(g_file_get_contents(path, &file, NULL, NULL));
	conf_write_example(want);
	if (strcmp(file, want->str) != 0)
		g_error("%s drifted from core/conf_table.c; regenerate it with "
		        "'build/rtcgatectl config-example > rtcgate.conf.example'",
		        path);
	g_free(file);
	g_free(path);
	g_string_free(want, TRUE);
}

/* Every key of the example, uncommented, loads and gives the defaults. */
static void test_example_uncommented(void)
{
	GString *ex = g_string_new(NULL);
	GString *ini = g_string_new(NULL);
	gchar **lines;
	struct conf *c;

	conf_write_example(ex);
	lines = g_strsplit(ex->str, "\n", -1);
	for (gchar **l = lines; *l; l++) {
		/* "#key = value" lines are keys; "# text" lines are docs */
		if ((*l)[0] == '#' && (*l)[1] != ' ' && (*l)[1] != '\0')
			g_string_append_printf(ini, "%s\n", *l + 1);
		else if ((*l)[0] == '[')
			g_string_append_printf(ini, "%s\n", *l);
	}
	c = load_ok(ini->str, NULL);
	g_assert_cmpint(c->http.port, ==, 8080);
	g_assert_cmpstr(c->state_dir, ==, "./state");
	conf_free(c);
	g_strfreev(lines);
	g_string_free(ex, TRUE);
	g_string_free(ini, TRUE);
}

static void test_table_sane(void)
{
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];

		g_assert_nonnull(k->doc);
		g_assert_cmpuint(strlen(k->doc), >, 10);
		g_assert_null(strchr(k->doc, '\n'));
		for (size_t j = i + 1; j < conf_nkeys; j++)
			g_assert_false(strcmp(k->section, conf_keys[j].section) == 0 &&
			               strcmp(k->name, conf_keys[j].name) == 0);
		if (k->type == CONF_INT)
			g_assert_cmpint(k->min, <=, k->max);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/conf/defaults", test_defaults);
	g_test_add_func("/conf/values", test_values);
	g_test_add_func("/conf/overrides", test_overrides);
	g_test_add_func("/conf/errors", test_errors);
	g_test_add_func("/conf/many-errors", test_many_errors);
	g_test_add_func("/conf/secret-not-in-errors", test_secret_not_in_errors);
	g_test_add_func("/conf/missing-file", test_missing_file);
	g_test_add_func("/conf/reload-merge", test_reload_merge);
	g_test_add_func("/conf/example-file", test_example_file);
	g_test_add_func("/conf/example-uncommented", test_example_uncommented);
	g_test_add_func("/conf/table-sane", test_table_sane);
	return g_test_run();
}
