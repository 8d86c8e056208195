/* The per-user device registry in the SQLite store: CRUD, secret checks, changes seen live. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/devsecret.h"
#include "core/devspec.h"

struct store;
struct devices;

enum devices_event {
	DEVICES_ADDED,
	DEVICES_CHANGED,
	DEVICES_ENABLED,
	DEVICES_DISABLED,
	DEVICES_REMOVED,
};

/* Called once per device that changed, by this process or another one. */
typedef void (*devices_change_fn)(void *arg, const char *login, enum devices_event ev);

/* The realm for HA1 values: configured (sip.realm), or the host name when that is empty. */
const char *devices_realm(const char *configured);

/*
 * The registry over an open store (which must outlive it). realm is the
 * one new HA1 values are computed for (copied). Returns 0 or EIO.
 */
int devices_open(struct store *st, const char *realm, struct devices **out);
void devices_free(struct devices *d);

/*
 * Add s->login with the fields set in s (secret required; the others take
 * their defaults: enabled, no remote access, 2 calls). s is checked first.
 * Returns 0; EINVAL (bad or missing field), EEXIST, or EIO, with a
 * one-line reason in *reason (g_free it) on every error.
 */
int devices_add(struct devices *d, struct device_spec *s, char **reason);

/* Change the fields set in s of login (a partial update). As devices_add; ENOENT when absent. */
int devices_set(struct devices *d, const char *login, struct device_spec *s, char **reason);

/* Shorthand for devices_set with only "enabled". */
int devices_enable(struct devices *d, const char *login, bool enabled, char **reason);

/* Returns 0, ENOENT or EIO (reason as for devices_add). */
int devices_remove(struct devices *d, const char *login, char **reason);

/* The device, or ENOENT / EIO. Free *out with devspec_device_free. */
int devices_get(struct devices *d, const char *login, struct device **out);

/* Every device by login, a GPtrArray of struct device (it frees them). Returns 0 or EIO. */
int devices_list(struct devices *d, GPtrArray **out);

/*
 * True when login exists and secret is its web secret (enabled or not: the
 * caller decides what a disabled device may do). Decided by the SHA-256 HA1
 * stored for SIP digest (microseconds; the PBKDF2 hash only when the secret
 * was set under another realm). An unknown login costs the same hashing as
 * a known one, so timing does not tell them apart.
 */
bool devices_verify_secret(struct devices *d, const char *login, const char *secret);

/*
 * The stored HA1 of login for a digest check in the registry's realm.
 * Returns 0, ENOENT, or ESTALE when the secret was set under another realm
 * (it must be set again).
 */
int devices_ha1(struct devices *d, const char *login, enum devsecret_alg alg, char *out,
                size_t cap);

/* The PBX auth password of login ("held" registration), g_malloc'd; ENOENT when none. */
int devices_pbx_password(struct devices *d, const char *login, char **out);

/* Register fn to hear of every change from now on (one listener; NULL removes it). */
void devices_on_change(struct devices *d, devices_change_fn fn, void *arg);

/*
 * Look for changes committed by other processes (PRAGMA data_version) and
 * report them; changes made through d are reported at once. Returns how
 * many devices changed.
 */
unsigned devices_poll(struct devices *d);

/* Poll once a second on the default GMainContext until devices_free. */
void devices_watch(struct devices *d);

/* Bumped on every change seen; lets callers drop their caches. */
uint64_t devices_generation(const struct devices *d);
