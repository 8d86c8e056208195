/* Unit tests for core/devices, core/devspec, core/devsecret and core/httpauth: the device registry.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "core/devices.h"
#include "core/httpauth.h"
#include "core/store.h"

struct fx {
	gchar *dir;
	struct store *st;
	struct devices *devs;
	GString *events; /* "login:event;" per change reported */
};

static const char *const ev_names[] = { "added", "changed", "enabled", "disabled", "removed" };

static void on_change(void *arg, const char *login, enum devices_event ev)
{
	struct fx *f = arg;

	g_string_append_printf(f->events, "%s:%s;", login, ev_names[ev]);
}

static void fx_setup(struct fx *f, gconstpointer data)
{
	char *why = NULL;

	(void)data;
	f->dir = g_dir_make_tmp("rtcgate-devices-XXXXXX", NULL);
	g_assert_cmpint(store_open(f->dir, &f->st, &why), ==, 0);
	g_assert_cmpint(devices_open(f->st, "example.test", &f->devs), ==, 0);
	f->events = g_string_new(NULL);
	devices_on_change(f->devs, on_change, f);
}

static void fx_teardown(struct fx *f, gconstpointer data)
{
	const gchar *n;
	GDir *d;

	(void)data;
	devices_free(f->devs);
	store_close(f->st);
	d = g_dir_open(f->dir, 0, NULL);
	while (d && (n = g_dir_read_name(d))) {
		gchar *p = g_build_filename(f->dir, n, NULL);

		g_unlink(p);
		g_free(p);
	}
	if (d)
		g_dir_close(d);
	g_rmdir(f->dir);
	g_free(f->dir);
	g_string_free(f->events, TRUE);
}

/* A spec with login and secret and nothing else. */
static struct device_spec spec(const char *login, const char *secret)
{
	struct device_spec s = { 0 };

	s.login = g_strdup(login);
	if (secret) {
		s.secret = g_strdup(secret);
		s.set |= DEVSPEC_SECRET;
	}
	return s;
}

static int add_to(struct devices *devs, const char *login)
{
	struct device_spec s = spec(login, "password1");
	char *why = NULL;
	int rc = devices_add(devs, &s, &why);

	g_free(why);
	devspec_clear(&s);
	return rc;
}

static int add(struct fx *f, const char *login, const char *secret, char **why)
{
	struct device_spec s = spec(login, secret);
	int rc = devices_add(f->devs, &s, why);

	devspec_clear(&s);
	return rc;
}

static void test_add_get_defaults(struct fx *f, gconstpointer data)
{
	struct device *d = NULL;
	char *why = NULL;

	(void)data;
	g_assert_cmpint(add(f, "alice", "correct horse", &why), ==, 0);
	g_assert_null(why);
	g_assert_cmpint(devices_get(f->devs, "alice", &d), ==, 0);
	g_assert_cmpstr(d->login, ==, "alice");
	g_assert_true(d->enabled);
	g_assert_false(d->remote_access);
	g_assert_false(d->pbx_password_set);
	g_assert_cmpint(d->max_calls, ==, 2);
	g_assert_null(d->extension);
	g_assert_null(d->codecs);
	g_assert_nonnull(d->created);
	devspec_device_free(d);
	g_assert_cmpstr(f->events->str, ==, "alice:added;");
	{
		gchar *db = g_build_filename(f->dir, "rtcgate.db", NULL);
		GStatBuf sb;

		g_assert_cmpint(g_stat(db, &sb), ==, 0);
		g_assert_cmpint(sb.st_mode & 0777, ==, 0600);
		g_free(db);
	}
}

static void test_duplicate_and_missing(struct fx *f, gconstpointer data)
{
	struct device_spec s = { .set = DEVSPEC_MAX_CALLS, .max_calls = 3 };
	struct device *d = NULL;
	char *why = NULL;

	(void)data;
	g_assert_cmpint(add(f, "bob", "password1", &why), ==, 0);
	g_assert_cmpint(add(f, "bob", "password2", &why), ==, EEXIST);
	g_assert_cmpstr(why, ==, "device \"bob\" exists");
	g_clear_pointer(&why, g_free);
	/* the first secret stays */
	g_assert_true(devices_verify_secret(f->devs, "bob", "password1"));
	g_assert_cmpint(devices_set(f->devs, "nobody", &s, &why), ==, ENOENT);
	g_assert_cmpstr(why, ==, "no device \"nobody\"");
	g_clear_pointer(&why, g_free);
	g_assert_cmpint(devices_remove(f->devs, "nobody", &why), ==, ENOENT);
	g_clear_pointer(&why, g_free);
	g_assert_cmpint(devices_enable(f->devs, "nobody", false, &why), ==, ENOENT);
	g_clear_pointer(&why, g_free);
	g_assert_cmpint(devices_get(f->devs, "nobody", &d), ==, ENOENT);
	g_assert_cmpint(add(f, "carol", NULL, &why), ==, EINVAL);
	g_assert_nonnull(strstr(why, "secret"));
	g_free(why);
}

static void test_hostile_logins(struct fx *f, gconstpointer data)
{
	static const char *const bad[] = {
		"",
		"a b",
		"bob'; DROP TABLE devices; --",
		"bob\"",
		"../etc",
		"a/b",
		"é",
		"bob\n",
		"x%00",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
	};
	GPtrArray *all = NULL;
	char *why = NULL;

	(void)data;
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(add(f, bad[i], "password1", &why), ==, EINVAL);
		g_assert_true(g_str_has_prefix(why, "login "));
		g_clear_pointer(&why, g_free);
		g_assert_false(devices_verify_secret(f->devs, bad[i], "password1"));
	}
	g_assert_cmpint(add(f, "A.b_c-9", "password1", &why), ==, 0);
	g_assert_cmpint(add(f, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	                    "password1", &why),
	                ==, 0);
	/* the table is still there and holds exactly the two good ones */
	g_assert_cmpint(devices_list(f->devs, &all), ==, 0);
	g_assert_cmpuint(all->len, ==, 2);
	g_ptr_array_unref(all);
}

static void test_hostile_values(struct fx *f, gconstpointer data)
{
	struct {
		unsigned bit;
		const char *field;
		const char *value;
		int max_calls;
	} bad[] = {
		{ DEVSPEC_SECRET, "secret", "short", 0 },
		{ DEVSPEC_SECRET, "secret", "tab\tin secret", 0 },
		{ DEVSPEC_EXTENSION, "extension", "20 1", 0 },
		{ DEVSPEC_EXTENSION, "extension", "201@pbx", 0 },
		{ DEVSPEC_PBX_USER, "pbx_user", "a\"b", 0 },
		{ DEVSPEC_LOCATION, "location", "x'); DELETE FROM devices; --", 0 },
		{ DEVSPEC_CODECS, "codecs", "opus,opus", 0 },
		{ DEVSPEC_CODECS, "codecs", "opus,speex", 0 },
		{ DEVSPEC_DISPLAY_NAME, "display_name", "bell\a", 0 },
		{ DEVSPEC_MAX_CALLS, "max_calls", NULL, 0 },
		{ DEVSPEC_MAX_CALLS, "max_calls", NULL, 101 },
		{ DEVSPEC_MAX_CALLS, "max_calls", NULL, -5 },
	};
	gchar *huge = g_strnfill(100000, 'x');
	char *why = NULL;

	(void)data;
	g_assert_cmpint(add(f, "dave", "password1", &why), ==, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(bad) + 1; i++) {
		struct device_spec s = { 0 };
		bool last = i == G_N_ELEMENTS(bad);

		s.set = last ? DEVSPEC_DISPLAY_NAME : bad[i].bit;
		s.max_calls = last ? 0 : bad[i].max_calls;
		s.secret = !last && bad[i].bit == DEVSPEC_SECRET ? g_strdup(bad[i].value) : NULL;
		s.extension =
		        !last && bad[i].bit == DEVSPEC_EXTENSION ? g_strdup(bad[i].value) : NULL;
		s.pbx_user =
		        !last && bad[i].bit == DEVSPEC_PBX_USER ? g_strdup(bad[i].value) : NULL;
		s.location =
		        !last && bad[i].bit == DEVSPEC_LOCATION ? g_strdup(bad[i].value) : NULL;
		s.codecs = !last && bad[i].bit == DEVSPEC_CODECS ? g_strdup(bad[i].value) : NULL;
		s.display_name = last                                 ? g_strdup(huge)
		                 : bad[i].bit == DEVSPEC_DISPLAY_NAME ? g_strdup(bad[i].value)
		                                                      : NULL;
		g_assert_cmpint(devices_set(f->devs, "dave", &s, &why), ==, EINVAL);
		g_assert_true(g_str_has_prefix(why, last ? "display_name" : bad[i].field));
		g_clear_pointer(&why, g_free);
		devspec_clear(&s);
	}
	g_free(huge);
	/* nothing was written */
	g_assert_true(devices_verify_secret(f->devs, "dave", "password1"));
	g_assert_cmpstr(f->events->str, ==, "dave:added;");
}

static void test_set_partial_and_clear(struct fx *f, gconstpointer data)
{
	struct device_spec s = { 0 };
	struct device *d = NULL;
	char *why = NULL, *pw = NULL;

	(void)data;
	g_assert_cmpint(add(f, "erin", "password1", &why), ==, 0);
	s.set = DEVSPEC_EXTENSION | DEVSPEC_PBX_PASSWORD | DEVSPEC_CODECS | DEVSPEC_REMOTE_ACCESS |
	        DEVSPEC_MAX_CALLS | DEVSPEC_LOCATION;
	s.extension = g_strdup("201");
	s.pbx_password = g_strdup("pbx secret");
	s.codecs = g_strdup(" PCMU, opus ");
	s.remote_access = true;
	s.max_calls = 5;
	s.location = g_strdup("hq-floor3");
	g_assert_cmpint(devices_set(f->devs, "erin", &s, &why), ==, 0);
	devspec_clear(&s);
	g_assert_cmpint(devices_get(f->devs, "erin", &d), ==, 0);
	g_assert_cmpstr(d->extension, ==, "201");
	g_assert_cmpstr(d->codecs, ==, "pcmu,opus");
	g_assert_true(d->pbx_password_set);
	g_assert_true(d->remote_access);
	g_assert_cmpint(d->max_calls, ==, 5);
	g_assert_cmpstr(d->location, ==, "hq-floor3");
	devspec_device_free(d);
	g_assert_cmpint(devices_pbx_password(f->devs, "erin", &pw), ==, 0);
	g_assert_cmpstr(pw, ==, "pbx secret");
	g_free(pw);

	/* "" clears a nullable field; the others stay */
	s.set = DEVSPEC_PBX_PASSWORD | DEVSPEC_CODECS;
	s.pbx_password = g_strdup("");
	g_assert_cmpint(devices_set(f->devs, "erin", &s, &why), ==, 0);
	devspec_clear(&s);
	g_assert_cmpint(devices_get(f->devs, "erin", &d), ==, 0);
	g_assert_false(d->pbx_password_set);
	g_assert_null(d->codecs);
	g_assert_cmpstr(d->extension, ==, "201");
	devspec_device_free(d);
	g_assert_cmpint(devices_pbx_password(f->devs, "erin", &pw), ==, ENOENT);
	g_assert_cmpstr(f->events->str, ==, "erin:added;erin:changed;erin:changed;");
}

static void test_secret_forms(struct fx *f, gconstpointer data)
{
	char ha1[DEVSECRET_SHA256_HEX], want[DEVSECRET_SHA256_HEX];
	struct device_spec s = { 0 };
	sqlite3_stmt *q;
	char *why = NULL;

	(void)data;
	g_assert_cmpint(add(f, "frank", "s3cret-pass", &why), ==, 0);
	g_assert_true(devices_verify_secret(f->devs, "frank", "s3cret-pass"));
	g_assert_false(devices_verify_secret(f->devs, "frank", "s3cret-pasS"));
	g_assert_false(devices_verify_secret(f->devs, "frank", ""));
	g_assert_false(devices_verify_secret(f->devs, "nobody", "s3cret-pass"));

	/* HA1 = MD5("frank:example.test:s3cret-pass"), as a digest check wants it */
	g_assert_cmpint(devices_ha1(f->devs, "frank", DEVSECRET_MD5, ha1, sizeof(ha1)), ==, 0);
	gchar *md5 =
	        g_compute_checksum_for_string(G_CHECKSUM_MD5, "frank:example.test:s3cret-pass", -1);
	g_assert_cmpstr(ha1, ==, md5);
	g_free(md5);
	g_assert_cmpint(devices_ha1(f->devs, "frank", DEVSECRET_SHA256, ha1, sizeof(ha1)), ==, 0);
	g_assert_cmpint(devsecret_ha1(DEVSECRET_SHA256, "frank", "example.test", "s3cret-pass",
	                              want, sizeof(want)),
	                ==, 0);
	g_assert_cmpstr(ha1, ==, want);
	g_assert_cmpint(devices_ha1(f->devs, "frank", DEVSECRET_MD5, ha1, 10), ==, ENOSPC);

	/* the secret itself is nowhere in the row */
	g_assert_cmpint(
	        sqlite3_prepare_v2(store_db(f->st),
	                           "SELECT count(*) FROM devices WHERE "
	                           "instr(secret_hash || secret_ha1_md5 || secret_ha1_sha256,"
	                           " 's3cret') > 0",
	                           -1, &q, NULL),
	        ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(q), ==, SQLITE_ROW);
	g_assert_cmpint(sqlite3_column_int(q, 0), ==, 0);
	sqlite3_finalize(q);

	/* a new secret replaces the old one */
	s.set = DEVSPEC_SECRET;
	s.secret = g_strdup("another-pass");
	g_assert_cmpint(devices_set(f->devs, "frank", &s, &why), ==, 0);
	devspec_clear(&s);
	g_assert_false(devices_verify_secret(f->devs, "frank", "s3cret-pass"));
	g_assert_true(devices_verify_secret(f->devs, "frank", "another-pass"));
}

static void test_realm_change_is_stale(struct fx *f, gconstpointer data)
{
	struct devices *other = NULL;
	char ha1[DEVSECRET_MD5_HEX], *why = NULL;

	(void)data;
	g_assert_cmpint(add(f, "gina", "password1", &why), ==, 0);
	g_assert_cmpint(devices_open(f->st, "other.test", &other), ==, 0);
	g_assert_cmpint(devices_ha1(other, "gina", DEVSECRET_MD5, ha1, sizeof(ha1)), ==, ESTALE);
	/* Basic checks do not depend on the realm: the PBKDF2 hash decides there */
	g_assert_true(devices_verify_secret(other, "gina", "password1"));
	g_assert_false(devices_verify_secret(other, "gina", "password2"));
	devices_free(other);
}

/* In the registry's realm the HA1 decides (no key derivation on the control thread). */
static void test_basic_check_uses_ha1(struct fx *f, gconstpointer data)
{
	char *why = NULL;

	(void)data;
	g_assert_cmpint(add(f, "hank", "password1", &why), ==, 0);
	/* a PBKDF2 hash that matches nothing: only the HA1 can still say yes */
	g_assert_cmpint(sqlite3_exec(store_db(f->st),
	                             "UPDATE devices SET secret_hash = "
	                             "'pbkdf2-sha256$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA' "
	                             "WHERE login = 'hank'",
	                             NULL, NULL, NULL),
	                ==, SQLITE_OK);
	g_assert_true(devices_verify_secret(f->devs, "hank", "password1"));
	g_assert_false(devices_verify_secret(f->devs, "hank", "password2"));
	g_assert_false(devices_verify_secret(f->devs, "hank", NULL));
	g_assert_false(devices_verify_secret(f->devs, NULL, "password1"));
}

/* A second connection (another process, as rtcgatectl is) changes rows; poll reports them. */
static void test_changes_from_elsewhere(struct fx *f, gconstpointer data)
{
	struct store *st2 = NULL;
	struct devices *d2 = NULL;
	char *why = NULL;
	uint64_t gen;

	(void)data;
	g_assert_cmpint(add(f, "hank", "password1", &why), ==, 0);
	g_assert_cmpint(add(f, "ivy", "password1", &why), ==, 0);
	g_string_truncate(f->events, 0);
	gen = devices_generation(f->devs);
	g_assert_cmpuint(devices_poll(f->devs), ==, 0);

	g_assert_cmpint(store_open(f->dir, &st2, &why), ==, 0);
	g_assert_cmpint(devices_open(st2, "example.test", &d2), ==, 0);
	g_assert_cmpint(devices_enable(d2, "hank", false, &why), ==, 0);
	g_assert_cmpint(devices_remove(d2, "ivy", &why), ==, 0);
	g_assert_cmpint(add_to(d2, "jack"), ==, 0);
	devices_free(d2);
	store_close(st2);

	g_assert_cmpuint(devices_poll(f->devs), ==, 3);
	g_assert_nonnull(strstr(f->events->str, "hank:disabled;"));
	g_assert_nonnull(strstr(f->events->str, "ivy:removed;"));
	g_assert_nonnull(strstr(f->events->str, "jack:added;"));
	g_assert_cmpuint(devices_generation(f->devs), >, gen);
	g_assert_cmpuint(devices_poll(f->devs), ==, 0);
}

struct json_case {
	const char *body;
	bool create;
	int rc;
	const char *field; /* NULL: none */
};

static void test_json(void)
{
	static const struct json_case cases[] = {
		{ "{\"login\":\"bob\",\"secret\":\"password1\"}", true, 0, NULL },
		{ "{\"login\":\"bob\",\"secret\":\"password1\",\"max_calls\":4,\"enabled\":false,"
		  "\"codecs\":null,\"pbx_password\":\"p\",\"remote_access\":true}",
		  true, 0, NULL },
		{ "{\"secret\":\"password1\"}", true, EINVAL, "login" },
		{ "{\"login\":\"bob\"}", true, EINVAL, "secret" },
		{ "{\"login\":\"bob\",\"secret\":\"password1\"}", false, EINVAL, "login" },
		{ "{\"enabled\":\"yes\"}", false, EINVAL, "enabled" },
		{ "{\"max_calls\":1.5}", false, EINVAL, "max_calls" },
		{ "{\"max_calls\":99999999999999}", false, EINVAL, "max_calls" },
		{ "{\"max_calls\":0}", false, EINVAL, "max_calls" },
		{ "{\"secret\":null}", false, EINVAL, "secret" },
		{ "{\"extension\":[\"201\"]}", false, EINVAL, "extension" },
		{ "{\"login\":\"a b\",\"secret\":\"password1\"}", true, EINVAL, "login" },
		{ "{\"admin\":true}", false, EINVAL, NULL },
		{ "{\"enabled\":true}", false, 0, NULL },
		{ "{}", false, 0, NULL },
		{ "[]", false, EBADMSG, NULL },
		{ "\"str\"", false, EBADMSG, NULL },
		{ "{\"enabled\":tru", false, EBADMSG, NULL },
		{ "", false, EBADMSG, NULL },
		{ "{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
		  false, EBADMSG, NULL },
		{ "{\"display_name\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", false, 0, NULL },
		{ "{\"display_name\":\"a\\u0000b\"}", false, EBADMSG, NULL },
		{ "{\"display_name\":\"a\\\\u0000b\"}", false, 0, NULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct device_spec s;
		const char *field = NULL;
		char *why = NULL;
		int rc = devspec_from_json(cases[i].body, strlen(cases[i].body), cases[i].create,
		                           &s, &field, &why);

		g_test_message("case %zu: %s -> %d %s %s", i, cases[i].body, rc, field, why);
		g_assert_cmpint(rc, ==, cases[i].rc);
		g_assert_cmpstr(field, ==, cases[i].field);
		g_assert_true((why != NULL) == (rc != 0));
		g_free(why);
		devspec_clear(&s);
	}
}

static void test_json_out_has_no_secret(struct fx *f, gconstpointer data)
{
	struct device_spec s = spec("kim", "topsecret1");
	JsonBuilder *b = json_builder_new();
	JsonGenerator *g = json_generator_new();
	JsonNode *root;
	struct device *d = NULL;
	char *why = NULL;
	gchar *text;

	(void)data;
	s.set |= DEVSPEC_PBX_PASSWORD;
	s.pbx_password = g_strdup("pbxsecret");
	g_assert_cmpint(devices_add(f->devs, &s, &why), ==, 0);
	devspec_clear(&s);
	g_assert_cmpint(devices_get(f->devs, "kim", &d), ==, 0);
	devspec_to_json(b, d);
	devspec_device_free(d);
	root = json_builder_get_root(b);
	json_generator_set_root(g, root);
	text = json_generator_to_data(g, NULL);
	g_assert_null(strstr(text, "topsecret1"));
	g_assert_null(strstr(text, "pbxsecret"));
	g_assert_nonnull(strstr(text, "\"pbx_password_set\":true"));
	g_free(text);
	json_node_unref(root);
	g_object_unref(g);
	g_object_unref(b);
}

static void test_basic_auth(void)
{
	static const struct {
		const char *header;
		int rc;
		const char *user, *pass;
	} cases[] = {
		{ "Basic Ym9iOmh1bnRlcjI=", 0, "bob", "hunter2" },
		{ "basic   Ym9iOmh1bnRlcjI=", 0, "bob", "hunter2" },
		{ "Basic Ym9iOmE6Yg==", 0, "bob", "a:b" },
		{ "Basic OnB3", 0, "", "pw" },
		{ "Bearer abc", EPROTO, NULL, NULL },
		{ "Basicx Ym9i", EPROTO, NULL, NULL },
		{ "Basic Ym9i", EINVAL, NULL, NULL },            /* "bob": no colon */
		{ "Basic Ym9iOmh1bnRlcjI", EINVAL, NULL, NULL }, /* length not a multiple of 4 */
		{ "Basic Ym9i*mh1bnRlcjI=", EINVAL, NULL, NULL },
		{ "Basic ====", EINVAL, NULL, NULL },
		{ "Basic YQA6Yg==", EINVAL, NULL, NULL }, /* "a\0:b" */
		{ "Basic ", EINVAL, NULL, NULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *user = NULL, *pass = NULL;

		g_assert_cmpint(httpauth_basic(cases[i].header, &user, &pass), ==, cases[i].rc);
		g_assert_cmpstr(user, ==, cases[i].user);
		g_assert_cmpstr(pass, ==, cases[i].pass);
		g_free(user);
		g_free(pass);
	}
}

static void test_bearer(void)
{
	const char *tok = NULL;
	size_t len = 0;

	g_assert_cmpint(httpauth_bearer("Bearer abc-DEF_1.~+/==", &tok, &len), ==, 0);
	g_assert_cmpuint(len, ==, strlen("abc-DEF_1.~+/=="));
	g_assert_cmpint(httpauth_bearer("bearer  x", &tok, &len), ==, 0);
	g_assert_cmpint(httpauth_bearer("Basic abc", &tok, &len), ==, EPROTO);
	g_assert_cmpint(httpauth_bearer("Bearer ", &tok, &len), ==, EINVAL);
	g_assert_cmpint(httpauth_bearer("Bearer a b", &tok, &len), ==, EINVAL);
	g_assert_cmpint(httpauth_bearer("Bearer a=b", &tok, &len), ==, EINVAL);
}

static void test_pbkdf2_format(void)
{
	static const uint8_t salt[DEVSECRET_SALT_LEN] = { 1, 2, 3 };
	char *h = devsecret_hash("pw12345678", salt, sizeof(salt), 1000);

	g_assert_true(g_str_has_prefix(h, "pbkdf2-sha256$1000$"));
	g_assert_true(devsecret_verify("pw12345678", h));
	g_assert_false(devsecret_verify("pw12345679", h));
	g_assert_false(devsecret_verify("pw12345678", "pbkdf2-sha256$0$AAAA$AAAA"));
	g_assert_false(devsecret_verify("pw12345678", "pbkdf2-sha256$99999999999$AAAA$AAAA"));
	g_assert_false(devsecret_verify("pw12345678", "md5$x"));
	g_assert_false(devsecret_verify("pw12345678", ""));
	g_free(h);
}

#define FX(path, fn) g_test_add(path, struct fx, NULL, fx_setup, fn, fx_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	FX("/devices/add-get-defaults", test_add_get_defaults);
	FX("/devices/duplicate-and-missing", test_duplicate_and_missing);
	FX("/devices/hostile-logins", test_hostile_logins);
	FX("/devices/hostile-values", test_hostile_values);
	FX("/devices/set-partial-and-clear", test_set_partial_and_clear);
	FX("/devices/secret-forms", test_secret_forms);
	FX("/devices/basic-check-uses-ha1", test_basic_check_uses_ha1);
	FX("/devices/realm-change-is-stale", test_realm_change_is_stale);
	FX("/devices/changes-from-elsewhere", test_changes_from_elsewhere);
	FX("/devices/json-out-has-no-secret", test_json_out_has_no_secret);
	g_test_add_func("/devices/json-in", test_json);
	g_test_add_func("/devices/basic-auth", test_basic_auth);
	g_test_add_func("/devices/bearer", test_bearer);
	g_test_add_func("/devices/pbkdf2-format", test_pbkdf2_format);
	return g_test_run();
}
