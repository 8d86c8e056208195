/* Configuration loader: GKeyFile in, validated struct conf out, every error named. */
#include "core/conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(conf, k, type) ((type *)((char *)(conf) + (k)->offset))

static const struct conf_key *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < conf_nkeys; i++) {
		if (strcmp(conf_keys[i].section, section) == 0 &&
		    strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	}
	return NULL;
}

static bool section_known(const char *section)
{
	for (size_t i = 0; i < conf_nkeys; i++) {
		if (strcmp(conf_keys[i].section, section) == 0)
			return true;
	}
	return false;
}

static void add_error(GPtrArray *errors, const char *source, const struct conf_key *k,
                      const char *reason)
{
	g_ptr_array_add(errors,
	                g_strdup_printf("%s: %s.%s: %s", source, k->section, k->name, reason));
}

static char **split_list(const char *v)
{
	gchar **parts = g_strsplit(v, ",", -1);
	GPtrArray *out = g_ptr_array_new();

	for (gchar **p = parts; *p; p++) {
		const char *item = g_strstrip(*p);

		if (*item)
			g_ptr_array_add(out, g_strdup(item));
	}
	g_strfreev(parts);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

/* Parse and check one value into conf. Returns 0, or EINVAL with *reason set. */
static int set_value(struct conf *conf, const struct conf_key *k, const char *v, char **reason)
{
	char *end = NULL;
	long long n;

	if (k->check && k->check(v, reason))
		return EINVAL;

	switch (k->type) {
	case CONF_STR:
		g_free(*FIELD(conf, k, char *));
		*FIELD(conf, k, char *) = g_strdup(v);
		return 0;
	case CONF_LIST:
		g_strfreev(*FIELD(conf, k, char **));
		*FIELD(conf, k, char **) = split_list(v);
		return 0;
	case CONF_INT:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (*v == '\0' || *end != '\0' || errno == ERANGE) {
			*reason = g_strdup_printf("'%s' is not an integer", v);
			return EINVAL;
		}
		if (n < k->min || n > k->max) {
			*reason = g_strdup_printf("%lld is out of range %lld..%lld", n, k->min,
			                          k->max);
			return EINVAL;
		}
		*FIELD(conf, k, int) = (int)n;
		return 0;
	}
	*reason = g_strdup("unknown key type");
	return EINVAL;
}

/* Unknown sections and keys in the file are errors, not silently ignored. */
static void check_file_names(GKeyFile *kf, const char *path, GPtrArray *errors)
{
	gchar **groups = g_key_file_get_groups(kf, NULL);

	for (gchar **g = groups; *g; g++) {
		gchar **keys;

		if (!section_known(*g)) {
			g_ptr_array_add(errors,
			                g_strdup_printf("%s: [%s]: unknown section", path, *g));
			continue;
		}
		keys = g_key_file_get_keys(kf, *g, NULL, NULL);
		for (gchar **key = keys; key && *key; key++) {
			if (!find_key(*g, *key))
				g_ptr_array_add(errors, g_strdup_printf("%s: %s.%s: unknown key",
				                                        path, *g, *key));
		}
		g_strfreev(keys);
	}
	g_strfreev(groups);
}

/* Split "section.key=value"; returns the key or NULL with an error added. */
static const struct conf_key *parse_override(const char *o, char **value, GPtrArray *errors)
{
	const char *eq = strchr(o, '=');
	const char *dot = strchr(o, '.');
	const struct conf_key *k;
	gchar *section, *name;

	if (!eq || !dot || dot > eq) {
		g_ptr_array_add(errors, g_strdup_printf("-o %s: expected section.key=value", o));
		return NULL;
	}
	section = g_strndup(o, (gsize)(dot - o));
	name = g_strndup(dot + 1, (gsize)(eq - dot - 1));
	k = find_key(section, name);
	if (!k)
		g_ptr_array_add(errors, g_strdup_printf("-o: %s.%s: unknown key", section, name));
	else
		*value = g_strdup(eq + 1);
	g_free(section);
	g_free(name);
	return k;
}

/* Rules that involve more than one key. */
static void check_cross(const struct conf *c, const char *source, GPtrArray *errors)
{
	if ((*c->http.cert == '\0') != (*c->http.key == '\0'))
		add_error(errors, source, find_key("http", *c->http.cert ? "key" : "cert"),
		          "http.cert and http.key must be set together");
	if ((*c->media.dtls_cert == '\0') != (*c->media.dtls_key == '\0'))
		add_error(errors, source,
		          find_key("media", *c->media.dtls_cert ? "dtls_key" : "dtls_cert"),
		          "media.dtls_cert and media.dtls_key must be set together");
	if (c->http.port && c->http.port == c->http.tls_port)
		add_error(errors, source, find_key("http", "tls_port"),
		          "must differ from http.port");
}

/* kf is NULL for defaults only; source names it in errors. */
static int load_keyfile(GKeyFile *kf, const char *source, const char *const *overrides,
                        struct conf **out, GPtrArray *errors)
{
	struct conf *conf = g_new0(struct conf, 1);
	guint nerr = errors->len;
	char *reason = NULL;

	if (kf)
		check_file_names(kf, source, errors);

	/* defaults, then the file, then -o; each value checked where it came from */
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		gchar *v = kf ? g_key_file_get_string(kf, k->section, k->name, NULL) : NULL;

		if (set_value(conf, k, k->def, &reason)) {
			add_error(errors, "default", k, reason);
			g_clear_pointer(&reason, g_free);
		}
		if (v && set_value(conf, k, v, &reason)) {
			add_error(errors, source, k, reason);
			g_clear_pointer(&reason, g_free);
		}
		g_free(v);
	}
	for (const char *const *o = overrides; o && *o; o++) {
		char *v = NULL;
		const struct conf_key *k = parse_override(*o, &v, errors);

		if (k && set_value(conf, k, v, &reason)) {
			add_error(errors, "-o", k, reason);
			g_clear_pointer(&reason, g_free);
		}
		g_free(v);
	}
	if (errors->len == nerr)
		check_cross(conf, kf ? source : "-o", errors);
	if (errors->len != nerr) {
		conf_free(conf);
		return EINVAL;
	}
	log_levels_parse(conf->log.level, conf->log.levels, conf->log.resolved, NULL);
	*out = conf;
	return 0;
}

int conf_load(const char *path, const char *const *overrides, struct conf **out, GPtrArray *errors)
{
	GKeyFile *kf = NULL;
	GError *gerr = NULL;
	int rc;

	if (path) {
		kf = g_key_file_new();
		if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr)) {
			g_ptr_array_add(errors, g_strdup_printf("%s: %s", path, gerr->message));
			g_error_free(gerr);
			g_key_file_free(kf);
			return EINVAL;
		}
	}
	rc = load_keyfile(kf, path, overrides, out, errors);
	if (kf)
		g_key_file_free(kf);
	return rc;
}

int conf_load_data(const char *data, size_t len, const char *source, const char *const *overrides,
                   struct conf **out, GPtrArray *errors)
{
	GKeyFile *kf = g_key_file_new();
	GError *gerr = NULL;
	int rc;

	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &gerr)) {
		g_ptr_array_add(errors, g_strdup_printf("%s: %s", source, gerr->message));
		g_error_free(gerr);
		g_key_file_free(kf);
		return EINVAL;
	}
	rc = load_keyfile(kf, source, overrides, out, errors);
	g_key_file_free(kf);
	return rc;
}

void conf_free(struct conf *conf)
{
	if (!conf)
		return;
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (k->type == CONF_STR)
			g_free(*FIELD(conf, k, char *));
		else if (k->type == CONF_LIST)
			g_strfreev(*FIELD(conf, k, char **));
	}
	g_free(conf);
}

static bool value_equal(const struct conf *a, const struct conf *b, const struct conf_key *k)
{
	switch (k->type) {
	case CONF_STR: return strcmp(*FIELD(a, k, char *), *FIELD(b, k, char *)) == 0;
	case CONF_LIST:
		return g_strv_equal((const gchar *const *)*FIELD(a, k, char **),
		                    (const gchar *const *)*FIELD(b, k, char **));
	case CONF_INT: return *FIELD(a, k, int) == *FIELD(b, k, int);
	}
	return false;
}

static void copy_value(struct conf *dst, const struct conf *src, const struct conf_key *k)
{
	switch (k->type) {
	case CONF_STR:
		g_free(*FIELD(dst, k, char *));
		*FIELD(dst, k, char *) = g_strdup(*FIELD(src, k, char *));
		break;
	case CONF_LIST:
		g_strfreev(*FIELD(dst, k, char **));
		*FIELD(dst, k, char **) = g_strdupv(*FIELD(src, k, char **));
		break;
	case CONF_INT: *FIELD(dst, k, int) = *FIELD(src, k, int); break;
	}
}

void conf_merge_reload(struct conf *next, const struct conf *cur, GPtrArray *kept,
                       GPtrArray *applied)
{
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		gchar *name;

		if (value_equal(next, cur, k))
			continue;
		name = g_strdup_printf("%s.%s", k->section, k->name);
		if (k->flags & CONF_LIVE) {
			g_ptr_array_add(applied, name);
		} else {
			copy_value(next, cur, k);
			g_ptr_array_add(kept, name);
		}
	}
}

void conf_write_example(GString *out)
{
	const char *section = NULL;

	g_string_append(out,
	                "# rtcgate configuration: every key with its default.\n"
	                "# Generated from core/conf_table.c (rtcgatectl config-example); a test\n"
	                "# fails when this file and the table drift apart.\n"
	                "# Keys marked (live) take effect on SIGHUP; the others on restart.\n");
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (!section || strcmp(section, k->section)) {
			section = k->section;
			g_string_append_printf(out, "\n[%s]\n", section);
		} else {
			g_string_append_c(out, '\n');
		}
		g_string_append_printf(out, "# %s", k->doc);
		if (k->type == CONF_INT)
			g_string_append_printf(out, " Range %lld..%lld.", k->min, k->max);
		g_string_append_printf(out, "%s\n#%s = %s\n",
		                       (k->flags & CONF_LIVE) ? " (live)" : "", k->name, k->def);
	}
}
