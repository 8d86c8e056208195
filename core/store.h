/* The SQLite store in state_dir: WAL mode, versioned schema, forward migrations. */
#pragma once

#include <sqlite3.h>
#include <stddef.h>

struct store;

/*
 * Open (creating if needed) dir/rtcgate.db, set WAL mode and a busy
 * timeout, and run the migrations this build knows. Returns 0 and a store
 * in *out, or a positive errno and a reason in *why (g_free it). A database
 * whose schema is newer than this build is refused (EPROTO).
 */
int store_open(const char *dir, struct store **out, char **why);
void store_close(struct store *st);

/* The schema version after migrations (PRAGMA user_version). */
int store_schema_version(const struct store *st);
sqlite3 *store_db(struct store *st);

/*
 * Bring db from its user_version to n by running steps[version..n-1], each
 * in its own transaction that also bumps user_version; a failed step rolls
 * back and stops. Returns 0, EPROTO when the database is newer than n, or
 * EIO with a reason in *why.
 */
int store_migrate(sqlite3 *db, const char *const *steps, size_t n, char **why);
