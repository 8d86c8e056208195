/* The SQLite store: open, WAL, forward-only migrations keyed on PRAGMA user_version. */
#include "core/store.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "core/log.h"

struct store {
	sqlite3 *db;
	int version;
};

/*
 * Migrations, oldest first. Never edit one that has shipped: add a step.
 * Location tables arrive with their issue.
 */
static const char *const migrations[] = {
	/* 1: key/value facts about this installation */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"INSERT INTO meta (key, value) VALUES ('created', strftime('%Y-%m-%dT%H:%M:%SZ','now'));",
	/*
	 * 2: the device registry (core/devices.c, docs/devices.md). The web
	 * secret is kept only as digest HA1 values for secret_realm and a
	 * PBKDF2 hash; pbx_password is kept as given, since rtcgate answers
	 * the PBX's digest challenges with it.
	 */
	"CREATE TABLE devices ("
	" login TEXT PRIMARY KEY NOT NULL"
	"  CHECK (length(login) BETWEEN 1 AND 64 AND login NOT GLOB '*[^A-Za-z0-9._-]*'),"
	" display_name TEXT NOT NULL DEFAULT '',"
	" enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
	" extension TEXT,"
	" pbx_user TEXT,"
	" pbx_password TEXT,"
	" secret_realm TEXT NOT NULL,"
	" secret_ha1_md5 TEXT NOT NULL,"
	" secret_ha1_sha256 TEXT NOT NULL,"
	" secret_hash TEXT NOT NULL,"
	" remote_access INTEGER NOT NULL DEFAULT 0 CHECK (remote_access IN (0, 1)),"
	" location TEXT,"
	" codecs TEXT,"
	" max_calls INTEGER NOT NULL DEFAULT 2 CHECK (max_calls BETWEEN 1 AND 100),"
	" rev INTEGER NOT NULL DEFAULT 1,"
	" created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
	" updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))"
	");",
};

static int user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = EIO;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int store_migrate(sqlite3 *db, const char *const *steps, size_t n, char **why)
{
	int version;

	if (user_version(db, &version)) {
		*why = g_strdup_printf("cannot read schema version: %s", sqlite3_errmsg(db));
		return EIO;
	}
	if (version < 0 || (size_t)version > n) {
		*why = g_strdup_printf("schema version %d is newer than this build knows (%zu)",
		                       version, n);
		return EPROTO;
	}
	for (size_t v = (size_t)version; v < n; v++) {
		gchar *sql = g_strdup_printf(
		        "BEGIN IMMEDIATE; %s PRAGMA user_version = %zu; COMMIT;", steps[v], v + 1);
		char *err = NULL;
		int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

		g_free(sql);
		if (rc != SQLITE_OK) {
			*why = g_strdup_printf("migration %zu failed: %s", v + 1,
			                       err ? err : sqlite3_errstr(rc));
			sqlite3_free(err);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return EIO;
		}
	}
	return 0;
}

int store_open(const char *dir, struct store **out, char **why)
{
	gchar *path = g_build_filename(dir, "rtcgate.db", NULL);
	struct store *st = g_new0(struct store, 1);
	char *err = NULL;
	int rc = 0;

	if (g_mkdir_with_parents(dir, 0750) != 0) {
		rc = errno;
		*why = g_strdup_printf("cannot create %s: %s", dir, g_strerror(rc));
		goto out;
	}
	if (sqlite3_open_v2(path, &st->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
	                    NULL) != SQLITE_OK) {
		rc = EIO;
		*why = g_strdup_printf("cannot open %s: %s", path, sqlite3_errmsg(st->db));
		goto out;
	}
	/* it holds PBX passwords and HA1 values; SQLite gives -wal and -shm the same mode */
	if (g_chmod(path, 0600) != 0)
		log_warn(LOG_STORE, "cannot make the store private", "path=%s error=\"%s\"", path,
		         g_strerror(errno));
	sqlite3_busy_timeout(st->db, 2000);
	if (sqlite3_exec(st->db, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;", NULL, NULL,
	                 &err) != SQLITE_OK) {
		rc = EIO;
		*why = g_strdup_printf("cannot set WAL mode on %s: %s", path, err);
		sqlite3_free(err);
		goto out;
	}
	rc = store_migrate(st->db, migrations, G_N_ELEMENTS(migrations), why);
	if (!rc)
		rc = user_version(st->db, &st->version);
	if (!rc)
		log_info(LOG_STORE, "store open", "path=%s schema=%d", path, st->version);
out:
	g_free(path);
	if (rc) {
		store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	g_free(st);
}

int store_schema_version(const struct store *st)
{
	return st->version;
}

sqlite3 *store_db(struct store *st)
{
	return st->db;
}
