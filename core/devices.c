/* The per-user device registry in the SQLite store: CRUD, secret checks, changes seen live. */
#include "core/devices.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <string.h>

#include "core/log.h"
#include "core/store.h"

struct snap {
	gint64 rev;
	bool enabled;
};

struct devices {
	sqlite3 *db;
	char *realm;
	char *dummy_hash; /* verified against for unknown logins */
	GHashTable *seen; /* login → struct snap, as last reported */
	gint64 data_version;
	uint64_t generation;
	guint timer;
	devices_change_fn on_change;
	void *on_change_arg;
};

/* Column of each nullable or plain field; the secret maps to four columns. */
static const struct column {
	unsigned bit;
	const char *name;
} columns[] = {
	{ DEVSPEC_DISPLAY_NAME, "display_name" }, { DEVSPEC_ENABLED, "enabled" },
	{ DEVSPEC_EXTENSION, "extension" },       { DEVSPEC_PBX_USER, "pbx_user" },
	{ DEVSPEC_PBX_PASSWORD, "pbx_password" }, { DEVSPEC_REMOTE_ACCESS, "remote_access" },
	{ DEVSPEC_LOCATION, "location" },         { DEVSPEC_CODECS, "codecs" },
	{ DEVSPEC_MAX_CALLS, "max_calls" },
};

static const char *const secret_columns[] = { "secret_realm", "secret_ha1_md5", "secret_ha1_sha256",
	                                      "secret_hash" };

#define SELECT_DEVICE                                                                          \
	"SELECT login, display_name, enabled, extension, pbx_user, pbx_password IS NOT NULL, " \
	"remote_access, location, codecs, max_calls, created, updated FROM devices"

static gint64 data_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	gint64 v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static const char *event_name(enum devices_event ev)
{
	switch (ev) {
	case DEVICES_ADDED: return "added";
	case DEVICES_CHANGED: return "changed";
	case DEVICES_ENABLED: return "enabled";
	case DEVICES_DISABLED: return "disabled";
	case DEVICES_REMOVED: return "removed";
	}
	return "?";
}

static void report(struct devices *d, const char *login, enum devices_event ev)
{
	log_debug(LOG_STORE, "device change", "login=%s event=%s", login, event_name(ev));
	if (d->on_change)
		d->on_change(d->on_change_arg, login, ev);
}

/* Compare the table with what was last reported; report and remember the differences. */
static unsigned diff(struct devices *d, bool quiet)
{
	GHashTable *now = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	sqlite3_stmt *st = NULL;
	GHashTableIter it;
	gpointer k, v;
	unsigned n = 0;

	if (sqlite3_prepare_v2(d->db, "SELECT login, rev, enabled FROM devices", -1, &st, NULL) !=
	    SQLITE_OK) {
		log_warn(LOG_STORE, "device scan failed", "error=\"%s\"", sqlite3_errmsg(d->db));
		g_hash_table_unref(now);
		return 0;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *login = (const char *)sqlite3_column_text(st, 0);
		struct snap *s = g_new(struct snap, 1), *old;

		s->rev = sqlite3_column_int64(st, 1);
		s->enabled = sqlite3_column_int(st, 2) != 0;
		g_hash_table_insert(now, g_strdup(login), s);
		old = g_hash_table_lookup(d->seen, login);
		if (quiet || (old && old->rev == s->rev && old->enabled == s->enabled))
			continue;
		n++;
		report(d, login,
		       !old                          ? DEVICES_ADDED
		       : old->enabled && !s->enabled ? DEVICES_DISABLED
		       : !old->enabled && s->enabled ? DEVICES_ENABLED
		                                     : DEVICES_CHANGED);
	}
	sqlite3_finalize(st);
	g_hash_table_iter_init(&it, d->seen);
	while (!quiet && g_hash_table_iter_next(&it, &k, &v)) {
		if (!g_hash_table_contains(now, k)) {
			n++;
			report(d, k, DEVICES_REMOVED);
		}
	}
	g_hash_table_unref(d->seen);
	d->seen = now;
	if (n)
		d->generation++;
	return n;
}

const char *devices_realm(const char *configured)
{
	return configured && *configured ? configured : g_get_host_name();
}

int devices_open(struct store *st, const char *realm, struct devices **out)
{
	static const uint8_t dummy_salt[DEVSECRET_SALT_LEN] = { 0 };
	struct devices *d = g_new0(struct devices, 1);

	d->db = store_db(st);
	d->realm = g_strdup(realm);
	d->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	d->dummy_hash = devsecret_hash("no such device", dummy_salt, sizeof(dummy_salt),
	                               DEVSECRET_ITERATIONS);
	d->data_version = data_version(d->db);
	if (!d->dummy_hash || d->data_version < 0) {
		devices_free(d);
		return EIO;
	}
	diff(d, true);
	*out = d;
	return 0;
}

void devices_free(struct devices *d)
{
	if (!d)
		return;
	if (d->timer)
		g_source_remove(d->timer);
	g_hash_table_unref(d->seen);
	g_free(d->dummy_hash);
	g_free(d->realm);
	g_free(d);
}

/* The four secret columns' values for s->secret under login and the registry's realm. */
static int secret_values(struct devices *d, const char *login, const char *secret, char *vals[4])
{
	uint8_t salt[DEVSECRET_SALT_LEN];
	char md5[DEVSECRET_MD5_HEX], sha[DEVSECRET_SHA256_HEX];

	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    devsecret_ha1(DEVSECRET_MD5, login, d->realm, secret, md5, sizeof(md5)) ||
	    devsecret_ha1(DEVSECRET_SHA256, login, d->realm, secret, sha, sizeof(sha)))
		return EIO;
	vals[0] = g_strdup(d->realm);
	vals[1] = g_strdup(md5);
	vals[2] = g_strdup(sha);
	vals[3] = devsecret_hash(secret, salt, sizeof(salt), DEVSECRET_ITERATIONS);
	memset(md5, 0, sizeof(md5));
	memset(sha, 0, sizeof(sha));
	return vals[3] ? 0 : EIO;
}

static void bind_field(sqlite3_stmt *st, int idx, const struct device_spec *s, unsigned bit)
{
	const char *text = NULL;

	switch (bit) {
	case DEVSPEC_ENABLED: sqlite3_bind_int(st, idx, s->enabled); return;
	case DEVSPEC_REMOTE_ACCESS: sqlite3_bind_int(st, idx, s->remote_access); return;
	case DEVSPEC_MAX_CALLS: sqlite3_bind_int(st, idx, s->max_calls); return;
	case DEVSPEC_DISPLAY_NAME: text = s->display_name; break;
	case DEVSPEC_EXTENSION: text = s->extension; break;
	case DEVSPEC_PBX_USER: text = s->pbx_user; break;
	case DEVSPEC_PBX_PASSWORD: text = s->pbx_password; break;
	case DEVSPEC_LOCATION: text = s->location; break;
	case DEVSPEC_CODECS: text = s->codecs; break;
	}
	if (text)
		sqlite3_bind_text(st, idx, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, idx);
}

/*
 * Run an INSERT (login NULL) or UPDATE of the fields set in s. The column
 * names come from the tables above, never from the request; every value is
 * a bound parameter.
 */
static int write_row(struct devices *d, const char *login, struct device_spec *s, int *changes)
{
	GString *sql = g_string_new(NULL), *vals = g_string_new(NULL);
	char *secret[4] = { NULL };
	sqlite3_stmt *st = NULL;
	int idx = 1, rc = 0, step;

	if ((s->set & DEVSPEC_SECRET) &&
	    secret_values(d, login ? login : s->login, s->secret, secret)) {
		rc = EIO;
		goto out;
	}
	g_string_append(sql, login ? "UPDATE devices SET " : "INSERT INTO devices (login");
	for (size_t i = 0; i < G_N_ELEMENTS(columns) + G_N_ELEMENTS(secret_columns); i++) {
		bool sec = i >= G_N_ELEMENTS(columns);

		if (sec ? !secret[0] : !(s->set & columns[i].bit))
			continue;
		g_string_append_printf(sql, login ? "%s = ?, " : ", %s",
		                       sec ? secret_columns[i - G_N_ELEMENTS(columns)]
		                           : columns[i].name);
		g_string_append(vals, ", ?");
	}
	if (login)
		g_string_append(sql,
		                "rev = rev + 1, updated = strftime('%Y-%m-%dT%H:%M:%SZ','now') "
		                "WHERE login = ?");
	else
		g_string_append_printf(sql, ") VALUES (?%s)", vals->str);
	if (sqlite3_prepare_v2(d->db, sql->str, -1, &st, NULL) != SQLITE_OK) {
		rc = EIO;
		goto out;
	}
	if (!login)
		sqlite3_bind_text(st, idx++, s->login, -1, SQLITE_TRANSIENT);
	for (size_t i = 0; i < G_N_ELEMENTS(columns); i++) {
		if (s->set & columns[i].bit)
			bind_field(st, idx++, s, columns[i].bit);
	}
	for (size_t i = 0; secret[0] && i < G_N_ELEMENTS(secret); i++)
		sqlite3_bind_text(st, idx++, secret[i], -1, SQLITE_TRANSIENT);
	if (login)
		sqlite3_bind_text(st, idx++, login, -1, SQLITE_TRANSIENT);
	step = sqlite3_step(st);
	if (step == SQLITE_CONSTRAINT &&
	    sqlite3_extended_errcode(d->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = EEXIST;
	else if (step != SQLITE_DONE)
		rc = EIO;
	else
		*changes = sqlite3_changes(d->db);
out:
	if (rc == EIO)
		log_warn(LOG_STORE, "device write failed", "error=\"%s\"", sqlite3_errmsg(d->db));
	sqlite3_finalize(st);
	for (size_t i = 0; i < G_N_ELEMENTS(secret); i++)
		g_free(secret[i]);
	g_string_free(sql, TRUE);
	g_string_free(vals, TRUE);
	return rc;
}

static int fail(int rc, char **reason, const char *login, const char *field, char *why)
{
	switch (rc) {
	case EINVAL: *reason = g_strdup_printf("%s %s", field, why); break;
	case EEXIST: *reason = g_strdup_printf("device \"%s\" exists", login); break;
	case ENOENT: *reason = g_strdup_printf("no device \"%s\"", login); break;
	default: *reason = g_strdup("the device store failed (see the log)");
	}
	g_free(why);
	return rc;
}

int devices_add(struct devices *d, struct device_spec *s, char **reason)
{
	const char *field = NULL;
	char *why = NULL;
	int changes = 0, rc;

	if (!s->login || !(s->set & DEVSPEC_SECRET))
		return fail(EINVAL, reason, NULL, s->login ? "secret" : "login",
		            g_strdup("is required"));
	rc = devspec_check(s, &field, &why);
	if (rc)
		return fail(rc, reason, s->login, field, why);
	rc = write_row(d, NULL, s, &changes);
	if (rc)
		return fail(rc, reason, s->login, NULL, NULL);
	diff(d, false);
	return 0;
}

int devices_set(struct devices *d, const char *login, struct device_spec *s, char **reason)
{
	const char *field = NULL;
	char *why = NULL;
	int changes = 0, rc;

	if (!devspec_login_ok(login))
		return fail(ENOENT, reason, login, NULL, NULL);
	rc = devspec_check(s, &field, &why);
	if (rc)
		return fail(rc, reason, login, field, why);
	rc = write_row(d, login, s, &changes);
	if (!rc && !changes)
		rc = ENOENT;
	if (rc)
		return fail(rc, reason, login, NULL, NULL);
	diff(d, false);
	return 0;
}

int devices_enable(struct devices *d, const char *login, bool enabled, char **reason)
{
	struct device_spec s = { .set = DEVSPEC_ENABLED, .enabled = enabled };

	return devices_set(d, login, &s, reason);
}

int devices_remove(struct devices *d, const char *login, char **reason)
{
	sqlite3_stmt *st = NULL;
	int rc = EIO;

	if (sqlite3_prepare_v2(d->db, "DELETE FROM devices WHERE login = ?", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, login, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_DONE)
			rc = sqlite3_changes(d->db) ? 0 : ENOENT;
	}
	sqlite3_finalize(st);
	if (rc)
		return fail(rc, reason, login, NULL, NULL);
	diff(d, false);
	return 0;
}

static char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? g_strdup((const char *)t) : NULL;
}

static struct device *row_device(sqlite3_stmt *st)
{
	struct device *dev = g_new0(struct device, 1);

	dev->login = col_text(st, 0);
	dev->display_name = col_text(st, 1);
	dev->enabled = sqlite3_column_int(st, 2) != 0;
	dev->extension = col_text(st, 3);
	dev->pbx_user = col_text(st, 4);
	dev->pbx_password_set = sqlite3_column_int(st, 5) != 0;
	dev->remote_access = sqlite3_column_int(st, 6) != 0;
	dev->location = col_text(st, 7);
	dev->codecs = col_text(st, 8);
	dev->max_calls = sqlite3_column_int(st, 9);
	dev->created = col_text(st, 10);
	dev->updated = col_text(st, 11);
	return dev;
}

int devices_get(struct devices *d, const char *login, struct device **out)
{
	sqlite3_stmt *st = NULL;
	int rc = EIO, step;

	if (sqlite3_prepare_v2(d->db, SELECT_DEVICE " WHERE login = ?", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, login, -1, SQLITE_TRANSIENT);
		step = sqlite3_step(st);
		if (step == SQLITE_ROW) {
			*out = row_device(st);
			rc = 0;
		} else if (step == SQLITE_DONE) {
			rc = ENOENT;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

int devices_list(struct devices *d, GPtrArray **out)
{
	GPtrArray *all = g_ptr_array_new_with_free_func((GDestroyNotify)devspec_device_free);
	sqlite3_stmt *st = NULL;
	int step = SQLITE_ERROR;

	if (sqlite3_prepare_v2(d->db, SELECT_DEVICE " ORDER BY login", -1, &st, NULL) ==
	    SQLITE_OK) {
		while ((step = sqlite3_step(st)) == SQLITE_ROW)
			g_ptr_array_add(all, row_device(st));
	}
	sqlite3_finalize(st);
	if (step != SQLITE_DONE) {
		g_ptr_array_unref(all);
		return EIO;
	}
	*out = all;
	return 0;
}

/* One text column of login's row, g_malloc'd; ENOENT when the row or the value is absent. */
static int column_of(struct devices *d, const char *login, const char *sql, char **out)
{
	sqlite3_stmt *st = NULL;
	int rc = EIO, step;

	if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, login, -1, SQLITE_TRANSIENT);
		step = sqlite3_step(st);
		if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
			*out = col_text(st, 0);
			rc = 0;
		} else if (step == SQLITE_ROW || step == SQLITE_DONE) {
			rc = ENOENT;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * The quick check: the SHA-256 HA1 of the offered secret against the stored
 * one, in constant time. 1 match, 0 mismatch, -1 when no HA1 of this realm
 * is stored (then only the PBKDF2 hash can tell). known false: a dummy
 * comparison of the same cost, for a login that does not exist.
 */
static int ha1_check(struct devices *d, const char *login, const char *secret, bool known)
{
	char want[DEVSECRET_SHA256_HEX] = "", got[DEVSECRET_SHA256_HEX] = "";
	int rc = known ? devices_ha1(d, login, DEVSECRET_SHA256, want, sizeof(want)) : ENOENT;
	bool same;

	if (devsecret_ha1(DEVSECRET_SHA256, login, d->realm, secret, got, sizeof(got)) != 0)
		return -1;
	same = CRYPTO_memcmp(want, got, sizeof(want)) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	if (rc)
		return known ? -1 : 0;
	return same ? 1 : 0;
}

bool devices_verify_secret(struct devices *d, const char *login, const char *secret)
{
	char *hash = NULL;
	int quick;
	bool ok;

	if (!login || !secret ||
	    column_of(d, login, "SELECT secret_hash FROM devices WHERE login = ?", &hash)) {
		ha1_check(d, login ? login : "", secret ? secret : "", false);
		return false;
	}
	/*
	 * The registry keeps HA1 values for SIP digest, so the PBKDF2 hash
	 * protects nothing the HA1 does not already give away: the HA1 decides,
	 * in microseconds, and a flood of /config requests cannot stall the
	 * control thread. PBKDF2 only for a secret set under another realm.
	 */
	quick = ha1_check(d, login, secret, true);
	ok = quick >= 0 ? quick == 1 : devsecret_verify(secret, hash);
	g_free(hash);
	return ok;
}

int devices_ha1(struct devices *d, const char *login, enum devsecret_alg alg, char *out, size_t cap)
{
	char *realm = NULL, *ha1 = NULL;
	int rc;

	rc = column_of(d, login, "SELECT secret_realm FROM devices WHERE login = ?", &realm);
	if (!rc && strcmp(realm, d->realm) != 0)
		rc = ESTALE;
	if (!rc)
		rc = column_of(d, login,
		               alg == DEVSECRET_MD5
		                       ? "SELECT secret_ha1_md5 FROM devices WHERE login = ?"
		                       : "SELECT secret_ha1_sha256 FROM devices WHERE login = ?",
		               &ha1);
	if (!rc && g_strlcpy(out, ha1, cap) >= cap)
		rc = ENOSPC;
	g_free(realm);
	g_free(ha1);
	return rc;
}

int devices_pbx_password(struct devices *d, const char *login, char **out)
{
	return column_of(d, login, "SELECT pbx_password FROM devices WHERE login = ?", out);
}

void devices_on_change(struct devices *d, devices_change_fn fn, void *arg)
{
	d->on_change = fn;
	d->on_change_arg = arg;
}

unsigned devices_poll(struct devices *d)
{
	gint64 v = data_version(d->db);

	if (v < 0 || v == d->data_version)
		return 0;
	d->data_version = v;
	return diff(d, false);
}

static gboolean on_tick(gpointer data)
{
	devices_poll(data);
	return G_SOURCE_CONTINUE;
}

void devices_watch(struct devices *d)
{
	if (!d->timer)
		d->timer = g_timeout_add_seconds(1, on_tick, d);
}

uint64_t devices_generation(const struct devices *d)
{
	return d->generation;
}
