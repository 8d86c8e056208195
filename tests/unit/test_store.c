/* Unit tests for core/store: fresh open, WAL, migrating an old schema, refusing a newer one. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "core/store.h"

static gchar *tmpdir(void)
{
	gchar *d = g_dir_make_tmp("rtcgate-store-XXXXXX", NULL);

	g_assert_nonnull(d);
	return d;
}

static void rmtree(const gchar *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const gchar *n;

	while (d && (n = g_dir_read_name(d))) {
		gchar *p = g_build_filename(dir, n, NULL);

		g_unlink(p);
		g_free(p);
	}
	if (d)
		g_dir_close(d);
	g_rmdir(dir);
}

static int pragma_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int v = -1;

	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void test_open_fresh(void)
{
	gchar *dir = tmpdir();
	gchar *sub = g_build_filename(dir, "state", NULL);
	struct store *st = NULL;
	char *why = NULL;
	sqlite3_stmt *q;

	g_assert_cmpint(store_open(sub, &st, &why), ==, 0);
	g_assert_null(why);
	g_assert_cmpint(store_schema_version(st), >=, 1);
	g_assert_cmpint(sqlite3_prepare_v2(store_db(st), "PRAGMA journal_mode", -1, &q, NULL), ==,
	                SQLITE_OK);
	g_assert_cmpint(sqlite3_step(q), ==, SQLITE_ROW);
	g_assert_cmpstr((const char *)sqlite3_column_text(q, 0), ==, "wal");
	sqlite3_finalize(q);
	store_close(st);

	/* reopening is idempotent */
	g_assert_cmpint(store_open(sub, &st, &why), ==, 0);
	store_close(st);
	rmtree(sub);
	rmtree(dir);
	g_free(sub);
	g_free(dir);
}

static const char *const steps[] = {
	"CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
	"ALTER TABLE t ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;",
	"CREATE INDEX t_name ON t (name);",
};

static void test_migrate_old_schema(void)
{
	sqlite3 *db;
	char *why = NULL;

	g_assert_cmpint(sqlite3_open(":memory:", &db), ==, SQLITE_OK);
	/* a database made by an older build that knew only step 1, with data */
	g_assert_cmpint(store_migrate(db, steps, 1, &why), ==, 0);
	g_assert_cmpint(sqlite3_exec(db, "INSERT INTO t (name) VALUES ('alice')", NULL, NULL, NULL),
	                ==, SQLITE_OK);
	g_assert_cmpint(pragma_int(db, "PRAGMA user_version"), ==, 1);

	/* the newer build moves it forward and keeps the rows */
	g_assert_cmpint(store_migrate(db, steps, G_N_ELEMENTS(steps), &why), ==, 0);
	g_assert_cmpint(pragma_int(db, "PRAGMA user_version"), ==, 3);
	g_assert_cmpint(pragma_int(db, "SELECT enabled FROM t WHERE name = 'alice'"), ==, 1);
	g_assert_cmpint(pragma_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 't_name'"),
	                ==, 1);

	/* running again changes nothing */
	g_assert_cmpint(store_migrate(db, steps, G_N_ELEMENTS(steps), &why), ==, 0);
	g_assert_cmpint(pragma_int(db, "PRAGMA user_version"), ==, 3);
	sqlite3_close(db);
}

static void test_refuse_newer(void)
{
	sqlite3 *db;
	char *why = NULL;

	g_assert_cmpint(sqlite3_open(":memory:", &db), ==, SQLITE_OK);
	g_assert_cmpint(store_migrate(db, steps, 3, &why), ==, 0);
	g_assert_cmpint(store_migrate(db, steps, 2, &why), ==, EPROTO);
	g_assert_nonnull(why);
	g_assert_nonnull(strstr(why, "newer"));
	g_free(why);
	sqlite3_close(db);
}

static void test_failed_step_rolls_back(void)
{
	static const char *const broken[] = {
		"CREATE TABLE a (x INTEGER);",
		"CREATE TABLE b (y INTEGER); THIS IS NOT SQL;",
	};
	sqlite3 *db;
	char *why = NULL;

	g_assert_cmpint(sqlite3_open(":memory:", &db), ==, SQLITE_OK);
	g_assert_cmpint(store_migrate(db, broken, 2, &why), ==, EIO);
	g_assert_nonnull(strstr(why, "migration 2"));
	g_free(why);
	/* step 1 stays, step 2 left nothing behind */
	g_assert_cmpint(pragma_int(db, "PRAGMA user_version"), ==, 1);
	g_assert_cmpint(pragma_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'b'"), ==,
	                0);
	sqlite3_close(db);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/store/open-fresh", test_open_fresh);
	g_test_add_func("/store/migrate-old-schema", test_migrate_old_schema);
	g_test_add_func("/store/refuse-newer", test_refuse_newer);
	g_test_add_func("/store/failed-step-rolls-back", test_failed_step_rolls_back);
	return g_test_run();
}
