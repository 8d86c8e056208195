/* Device fields: one table of names, types and checks; JSON bodies in, JSON objects out. Pure. */
#include "core/devspec.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

enum ftype {
	F_TEXT,  /* string */
	F_NTEXT, /* string or null (clears) */
	F_BOOL,
	F_INT,
};

struct field {
	const char *name;
	unsigned bit;
	enum ftype type;
	size_t offset; /* into struct device_spec */
	int (*check)(const char *v, char **reason);
};

#define SPEC(conf, f, type) ((type *)((char *)(conf) + (f)->offset))

static bool ctl_free_utf8(const char *v)
{
	if (!g_utf8_validate(v, -1, NULL))
		return false;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}

static bool chars_in(const char *v, const char *extra)
{
	for (const char *p = v; *p; p++) {
		if (!g_ascii_isalnum(*p) && !strchr(extra, *p))
			return false;
	}
	return true;
}

bool devspec_login_ok(const char *login)
{
	size_t n = login ? strlen(login) : 0;

	return n >= 1 && n <= DEVSPEC_LOGIN_MAX && chars_in(login, "._-");
}

static int check_login(const char *v, char **reason)
{
	if (devspec_login_ok(v))
		return 0;
	*reason = g_strdup("must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
	return EINVAL;
}

static int check_secret(const char *v, char **reason)
{
	size_t n = strlen(v);

	if (n >= DEVSPEC_SECRET_MIN && n <= DEVSPEC_SECRET_MAX && ctl_free_utf8(v))
		return 0;
	*reason = g_strdup_printf("must be %d to %d bytes of UTF-8 without control characters",
	                          DEVSPEC_SECRET_MIN, DEVSPEC_SECRET_MAX);
	return EINVAL;
}

static int check_display_name(const char *v, char **reason)
{
	if (strlen(v) <= 128 && ctl_free_utf8(v))
		return 0;
	*reason = g_strdup("must be at most 128 bytes of UTF-8 without control characters");
	return EINVAL;
}

/* RFC 3261 §25.1 user part: unreserved and user-unreserved characters, unescaped. */
static int check_extension(const char *v, char **reason)
{
	if (strlen(v) <= 64 && chars_in(v, "-_.!~*'()&=+$,;"))
		return 0;
	*reason = g_strdup("must be at most 64 characters of a SIP user part (A-Z a-z 0-9 "
	                   "-_.!~*'()&=+$,;)");
	return EINVAL;
}

/* Goes into a digest quoted-string: printable ASCII without '"' and '\'. */
static int check_pbx_user(const char *v, char **reason)
{
	size_t n = strlen(v);
	bool ok = n <= 128;

	for (const char *p = v; ok && *p; p++)
		ok = *p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\';
	if (ok)
		return 0;
	*reason =
	        g_strdup("must be at most 128 printable ASCII characters without space, \" or \\");
	return EINVAL;
}

static int check_pbx_password(const char *v, char **reason)
{
	if (strlen(v) <= 256 && ctl_free_utf8(v))
		return 0;
	*reason = g_strdup("must be at most 256 bytes of UTF-8 without control characters");
	return EINVAL;
}

static int check_location(const char *v, char **reason)
{
	if (strlen(v) <= 64 && chars_in(v, "._-"))
		return 0;
	*reason = g_strdup("must be at most 64 characters of A-Z a-z 0-9 . _ -");
	return EINVAL;
}

static const char *const known_codecs[] = { "opus", "pcmu", "pcma", "g722" };

static bool codec_known(const char *c)
{
	for (size_t i = 0; i < G_N_ELEMENTS(known_codecs); i++) {
		if (strcmp(c, known_codecs[i]) == 0)
			return true;
	}
	return false;
}

/* A comma list of known codec names, each at most once; checked on the lower-cased text. */
static int check_codecs(const char *v, char **reason)
{
	gchar **items = g_strsplit(v, ",", -1);
	int rc = strlen(v) <= 256 ? 0 : EINVAL;

	for (gchar **it = items; *it && !rc; it++) {
		const char *c = g_strstrip(*it);

		if (!codec_known(c))
			rc = EINVAL;
		for (gchar **prev = items; prev < it && !rc; prev++) {
			if (strcmp(*prev, c) == 0)
				rc = EINVAL;
		}
	}
	g_strfreev(items);
	if (rc)
		*reason = g_strdup("must be a comma list of distinct codecs from opus, pcmu, pcma, "
		                   "g722");
	return rc;
}

#define OFF(f) offsetof(struct device_spec, f)

static const struct field fields[] = {
	{ "secret", DEVSPEC_SECRET, F_TEXT, OFF(secret), check_secret },
	{ "display_name", DEVSPEC_DISPLAY_NAME, F_TEXT, OFF(display_name), check_display_name },
	{ "enabled", DEVSPEC_ENABLED, F_BOOL, OFF(enabled), NULL },
	{ "extension", DEVSPEC_EXTENSION, F_NTEXT, OFF(extension), check_extension },
	{ "pbx_user", DEVSPEC_PBX_USER, F_NTEXT, OFF(pbx_user), check_pbx_user },
	{ "pbx_password", DEVSPEC_PBX_PASSWORD, F_NTEXT, OFF(pbx_password), check_pbx_password },
	{ "remote_access", DEVSPEC_REMOTE_ACCESS, F_BOOL, OFF(remote_access), NULL },
	{ "location", DEVSPEC_LOCATION, F_NTEXT, OFF(location), check_location },
	{ "codecs", DEVSPEC_CODECS, F_NTEXT, OFF(codecs), check_codecs },
	{ "max_calls", DEVSPEC_MAX_CALLS, F_INT, OFF(max_calls), NULL },
};

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		g_free(s);
	}
}

void devspec_clear(struct device_spec *s)
{
	g_free(s->login);
	wipe_free(s->secret);
	wipe_free(s->pbx_password);
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		const struct field *f = &fields[i];

		if ((f->type == F_TEXT || f->type == F_NTEXT) && f->bit != DEVSPEC_SECRET &&
		    f->bit != DEVSPEC_PBX_PASSWORD)
			g_free(*SPEC(s, f, char *));
	}
	memset(s, 0, sizeof(*s));
}

void devspec_device_free(struct device *d)
{
	if (!d)
		return;
	g_free(d->login);
	g_free(d->display_name);
	g_free(d->extension);
	g_free(d->pbx_user);
	g_free(d->location);
	g_free(d->codecs);
	g_free(d->created);
	g_free(d->updated);
	g_free(d);
}

static int check_field(struct device_spec *s, const struct field *f, char **reason)
{
	char **v = SPEC(s, f, char *);

	if (f->type == F_INT) {
		int n = *SPEC(s, f, int);

		if (n >= 1 && n <= DEVSPEC_MAX_CALLS_MAX)
			return 0;
		*reason = g_strdup_printf("must be an integer from 1 to %d", DEVSPEC_MAX_CALLS_MAX);
		return EINVAL;
	}
	if (f->type == F_BOOL)
		return 0;
	if (f->type == F_NTEXT && *v && !**v)
		g_clear_pointer(v, g_free); /* "" clears */
	if (!*v) {
		if (f->type == F_NTEXT)
			return 0;
		*reason = g_strdup("is required");
		return EINVAL;
	}
	if (f->bit == DEVSPEC_CODECS) {
		gchar *low = g_ascii_strdown(*v, -1);
		gchar **parts = g_strsplit(low, ",", -1);

		for (gchar **p = parts; *p; p++)
			g_strstrip(*p);
		g_free(*v);
		*v = g_strjoinv(",", parts);
		g_strfreev(parts);
		g_free(low);
	}
	return f->check(*v, reason);
}

int devspec_check(struct device_spec *s, const char **field, char **reason)
{
	if (s->login && check_login(s->login, reason)) {
		*field = "login";
		return EINVAL;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		if ((s->set & fields[i].bit) && check_field(s, &fields[i], reason)) {
			*field = fields[i].name;
			return EINVAL;
		}
	}
	return 0;
}

bool devspec_json_safe(const char *body, size_t len, int max)
{
	bool in_string = false, escaped = false;
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		char c = body[i];

		if (in_string) {
			/* json-glib would hand back a string cut at the NUL */
			if (escaped && c == 'u' && i + 4 < len &&
			    memcmp(body + i + 1, "0000", 4) == 0)
				return false;
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return false;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return true;
}

static const struct field *find_field(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	}
	return NULL;
}

static const char *type_name(enum ftype t)
{
	switch (t) {
	case F_TEXT: return "must be a string";
	case F_NTEXT: return "must be a string or null";
	case F_BOOL: return "must be true or false";
	case F_INT: return "must be an integer";
	}
	return "has the wrong type";
}

/* Store one member's value into s per its field type; EINVAL on a type mismatch. */
static int take_value(struct device_spec *s, const struct field *f, JsonNode *n)
{
	GType vt = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
	gint64 i;

	switch (f->type) {
	case F_NTEXT:
		if (JSON_NODE_HOLDS_NULL(n))
			break;
		/* fall through */
	case F_TEXT:
		if (vt != G_TYPE_STRING)
			return EINVAL;
		g_free(*SPEC(s, f, char *));
		*SPEC(s, f, char *) = g_strdup(json_node_get_string(n));
		break;
	case F_BOOL:
		if (vt != G_TYPE_BOOLEAN)
			return EINVAL;
		*SPEC(s, f, bool) = json_node_get_boolean(n);
		break;
	case F_INT:
		if (vt != G_TYPE_INT64)
			return EINVAL;
		i = json_node_get_int(n);
		/* out of range stays out of range after the clamp; devspec_check reports it */
		*SPEC(s, f, int) = i < 0 ? 0 : i > INT_MAX ? INT_MAX : (int)i;
		break;
	}
	s->set |= f->bit;
	return 0;
}

static int take_login(struct device_spec *s, bool create, JsonNode *n, char **reason)
{
	if (!create) {
		*reason = g_strdup("cannot be changed; it is named in the URL");
		return EINVAL;
	}
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
		*reason = g_strdup("must be a string");
		return EINVAL;
	}
	g_free(s->login);
	s->login = g_strdup(json_node_get_string(n));
	return 0;
}

static int take_members(JsonObject *obj, bool create, struct device_spec *s, const char **field,
                        char **reason)
{
	GList *members = json_object_get_members(obj);
	int rc = 0;

	for (GList *m = members; m && !rc; m = m->next) {
		const char *name = m->data;
		JsonNode *n = json_object_get_member(obj, name);
		const struct field *f = find_field(name);

		if (strcmp(name, "login") == 0) {
			rc = take_login(s, create, n, reason);
			if (rc)
				*field = "login";
		} else if (!f) {
			*field = NULL;
			*reason = g_strdup_printf("unknown field \"%.64s\" (see docs/devices.md)",
			                          name);
			rc = EINVAL;
		} else if (take_value(s, f, n)) {
			*field = f->name;
			*reason = g_strdup(type_name(f->type));
			rc = EINVAL;
		}
	}
	g_list_free(members);
	return rc;
}

static int required(const struct device_spec *s, const char **field, char **reason)
{
	if (!s->login) {
		*field = "login";
	} else if (!(s->set & DEVSPEC_SECRET)) {
		*field = "secret";
	} else {
		return 0;
	}
	*reason = g_strdup("is required");
	return EINVAL;
}

int devspec_from_json(const char *body, size_t len, bool create, struct device_spec *s,
                      const char **field, char **reason)
{
	JsonParser *p;
	JsonNode *root;
	GError *err = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	*field = NULL;
	if (len > G_MAXSSIZE || !devspec_json_safe(body, len, DEVSPEC_JSON_MAX_DEPTH)) {
		*reason = g_strdup("body nests too deep or holds a NUL (\\u0000)");
		return EBADMSG;
	}
	p = json_parser_new_immutable();
	if (!json_parser_load_from_data(p, body, (gssize)len, &err)) {
		*reason = g_strdup_printf("body is not valid JSON: %s", err->message);
		g_error_free(err);
		g_object_unref(p);
		return EBADMSG;
	}
	root = json_parser_get_root(p);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		*reason = g_strdup("body must be a JSON object");
		g_object_unref(p);
		return EBADMSG;
	}
	rc = take_members(json_node_get_object(root), create, s, field, reason);
	if (!rc && create)
		rc = required(s, field, reason);
	if (!rc)
		rc = devspec_check(s, field, reason);
	g_object_unref(p);
	return rc;
}

static void add_text(JsonBuilder *b, const char *name, const char *v)
{
	json_builder_set_member_name(b, name);
	if (v)
		json_builder_add_string_value(b, v);
	else
		json_builder_add_null_value(b);
}

static void add_bool(JsonBuilder *b, const char *name, bool v)
{
	json_builder_set_member_name(b, name);
	json_builder_add_boolean_value(b, v);
}

void devspec_to_json(JsonBuilder *b, const struct device *d)
{
	json_builder_begin_object(b);
	add_text(b, "login", d->login);
	add_text(b, "display_name", d->display_name);
	add_bool(b, "enabled", d->enabled);
	add_text(b, "extension", d->extension);
	add_text(b, "pbx_user", d->pbx_user);
	add_bool(b, "pbx_password_set", d->pbx_password_set);
	add_bool(b, "remote_access", d->remote_access);
	add_text(b, "location", d->location);
	add_text(b, "codecs", d->codecs);
	json_builder_set_member_name(b, "max_calls");
	json_builder_add_int_value(b, d->max_calls);
	add_text(b, "created", d->created);
	add_text(b, "updated", d->updated);
	json_builder_end_object(b);
}
