/* Device fields: one table of names, types and checks; JSON bodies in, JSON objects out. Pure. */
#pragma once

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stddef.h>

#define DEVSPEC_LOGIN_MAX      64
#define DEVSPEC_SECRET_MIN     8
#define DEVSPEC_SECRET_MAX     256
#define DEVSPEC_MAX_CALLS_MAX  100
#define DEVSPEC_MAX_CALLS_DEF  2
#define DEVSPEC_JSON_MAX_DEPTH 16

/* One bit per writable field; device_spec.set says which ones a request carries. */
enum devspec_field {
	DEVSPEC_SECRET = 1u << 0,
	DEVSPEC_DISPLAY_NAME = 1u << 1,
	DEVSPEC_ENABLED = 1u << 2,
	DEVSPEC_EXTENSION = 1u << 3,
	DEVSPEC_PBX_USER = 1u << 4,
	DEVSPEC_PBX_PASSWORD = 1u << 5,
	DEVSPEC_REMOTE_ACCESS = 1u << 6,
	DEVSPEC_LOCATION = 1u << 7,
	DEVSPEC_CODECS = 1u << 8,
	DEVSPEC_MAX_CALLS = 1u << 9,
};

/*
 * Values to write: only the fields whose bit is in set count. A nullable
 * text field (extension, pbx_user, pbx_password, location, codecs) that is
 * set to NULL or "" is cleared. Strings are owned (g_malloc).
 */
struct device_spec {
	unsigned set;
	char *login;
	char *secret;
	char *display_name;
	char *extension;
	char *pbx_user;
	char *pbx_password;
	char *location;
	char *codecs;
	int max_calls;
	bool enabled;
	bool remote_access;
};

/* A device as read back: never a secret, only whether a PBX password is stored. */
struct device {
	char *login;
	char *display_name;
	char *extension; /* NULL: the login is the AOR user part */
	char *pbx_user;
	char *location;
	char *codecs; /* NULL: every codec */
	char *created;
	char *updated;
	int max_calls;
	bool enabled;
	bool remote_access;
	bool pbx_password_set;
};

/* Free the strings of s (secrets wiped first) and zero it. */
void devspec_clear(struct device_spec *s);

/* Free d and its strings; NULL is fine. */
void devspec_device_free(struct device *d);

/* 1 to 64 characters of [A-Za-z0-9._-]. */
bool devspec_login_ok(const char *login);

/*
 * Check every field set in s (and s->login when not NULL); codecs are
 * normalised to lower case and "" becomes NULL for nullable fields. Returns
 * 0, or EINVAL with the field's name in *field (static) and a reason in
 * *reason (g_free it).
 */
int devspec_check(struct device_spec *s, const char **field, char **reason);

/*
 * Parse a JSON request body into s (zeroed first, devspec_clear it after).
 * create: "login" and "secret" are required; otherwise "login" may not be
 * present. Unknown members and wrong types are refused. Nesting deeper than
 * DEVSPEC_JSON_MAX_DEPTH and \u0000 are refused before the JSON parser sees
 * them (devspec_json_safe). Returns 0,
 * or EBADMSG (not a JSON object; *field NULL) or EINVAL (a field; *field
 * names it) with a reason in *reason. The fields are checked as by
 * devspec_check.
 */
int devspec_from_json(const char *body, size_t len, bool create, struct device_spec *s,
                      const char **field, char **reason);

/*
 * True when the JSON text nests arrays and objects at most max deep and no
 * string holds \u0000 (which the parser would silently cut a string at).
 */
bool devspec_json_safe(const char *body, size_t len, int max);

/* Add d to b as one JSON object (the value position must be open). */
void devspec_to_json(JsonBuilder *b, const struct device *d);
