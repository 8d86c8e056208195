/* rtcgatectl device add|set|enable|disable|remove|list: the device registry from the shell. */
#include "core/ctl_device.h"

#include <errno.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/devices.h"
#include "core/store.h"

#define EXIT_FAILED 1
#define EXIT_USAGE  2

/* What add and set accept; NULL strings and FALSE flags mean "not given". */
struct opts {
	char *secret, *pbx_user, *pbx_password, *extension, *location, *max_calls;
	char *display_name, *codecs;
	gboolean remote_access, no_remote_access, json;
};

static int usage(void)
{
	fprintf(stderr,
	        "usage: rtcgatectl [--config FILE] device add LOGIN --secret S|- [--pbx-user U]\n"
	        "         [--pbx-password P] [--extension E] [--remote-access] [--location ID]\n"
	        "         [--max-calls N] [--display-name NAME] [--codecs LIST]\n"
	        "       rtcgatectl [--config FILE] device set LOGIN [the same options]\n"
	        "         [--no-remote-access]   (an empty value clears a field)\n"
	        "       rtcgatectl [--config FILE] device enable|disable|remove LOGIN\n"
	        "       rtcgatectl [--config FILE] device list [--json]\n");
	return EXIT_USAGE;
}

static int failed(const char *reason)
{
	fprintf(stderr, "rtcgatectl: %s\n", reason);
	return EXIT_FAILED;
}

/* "--secret -": the first line of stdin, without its line end. */
static char *read_stdin_line(void)
{
	char buf[1024];
	size_t n;

	if (!fgets(buf, sizeof(buf), stdin))
		return NULL;
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return g_strdup(buf);
}

static void take(struct device_spec *s, unsigned bit, char **dst, char *v)
{
	if (!v)
		return;
	s->set |= bit;
	*dst = v;
}

/* Options into s; returns 0, or EINVAL with the reason in *why. */
static int opts_to_spec(struct opts *o, struct device_spec *s, char **why)
{
	char *end = NULL;
	long n;

	if (o->secret && strcmp(o->secret, "-") == 0) {
		g_free(o->secret);
		o->secret = read_stdin_line();
		if (!o->secret) {
			*why = g_strdup("--secret -: nothing on stdin");
			return EINVAL;
		}
	}
	take(s, DEVSPEC_SECRET, &s->secret, g_steal_pointer(&o->secret));
	take(s, DEVSPEC_PBX_USER, &s->pbx_user, g_steal_pointer(&o->pbx_user));
	take(s, DEVSPEC_PBX_PASSWORD, &s->pbx_password, g_steal_pointer(&o->pbx_password));
	take(s, DEVSPEC_EXTENSION, &s->extension, g_steal_pointer(&o->extension));
	take(s, DEVSPEC_LOCATION, &s->location, g_steal_pointer(&o->location));
	take(s, DEVSPEC_DISPLAY_NAME, &s->display_name, g_steal_pointer(&o->display_name));
	take(s, DEVSPEC_CODECS, &s->codecs, g_steal_pointer(&o->codecs));
	if (o->remote_access && o->no_remote_access) {
		*why = g_strdup("--remote-access and --no-remote-access exclude each other");
		return EINVAL;
	}
	if (o->remote_access || o->no_remote_access) {
		s->set |= DEVSPEC_REMOTE_ACCESS;
		s->remote_access = o->remote_access;
	}
	if (o->max_calls) {
		n = strtol(o->max_calls, &end, 10);
		if (!*o->max_calls || *end || n < 1 || n > DEVSPEC_MAX_CALLS_MAX) {
			*why = g_strdup_printf("--max-calls must be an integer from 1 to %d",
			                       DEVSPEC_MAX_CALLS_MAX);
			return EINVAL;
		}
		s->set |= DEVSPEC_MAX_CALLS;
		s->max_calls = (int)n;
	}
	return 0;
}

static void opts_free(struct opts *o)
{
	g_free(o->secret);
	g_free(o->pbx_user);
	g_free(o->pbx_password);
	g_free(o->extension);
	g_free(o->location);
	g_free(o->max_calls);
	g_free(o->display_name);
	g_free(o->codecs);
}

/*
 * Parse argv (argv[0] is the verb) with the options of verb; the one
 * positional argument left (LOGIN) goes to *login, none when want_login is
 * false. Returns 0 or EXIT_USAGE.
 */
static int parse(const char *verb, int argc, char **argv, struct opts *o, bool want_login,
                 char **login)
{
	bool is_set = strcmp(verb, "set") == 0, is_list = strcmp(verb, "list") == 0;
	bool is_write = is_set || strcmp(verb, "add") == 0;
	GOptionEntry write_entries[] = {
		{ "secret", 0, 0, G_OPTION_ARG_STRING, &o->secret, "Web secret (- reads stdin)",
		  "S" },
		{ "pbx-user", 0, 0, G_OPTION_ARG_STRING, &o->pbx_user, "PBX auth user", "U" },
		{ "pbx-password", 0, 0, G_OPTION_ARG_STRING, &o->pbx_password,
		  "PBX auth password (held registration)", "P" },
		{ "extension", 0, 0, G_OPTION_ARG_STRING, &o->extension, "PBX extension (AOR user)",
		  "E" },
		{ "remote-access", 0, 0, G_OPTION_ARG_NONE, &o->remote_access,
		  "May use TURN from outside", NULL },
		{ "location", 0, 0, G_OPTION_ARG_STRING, &o->location, "Default location id",
		  "ID" },
		{ "max-calls", 0, 0, G_OPTION_ARG_STRING, &o->max_calls, "Simultaneous calls",
		  "N" },
		{ "display-name", 0, 0, G_OPTION_ARG_STRING, &o->display_name, "Display name",
		  "NAME" },
		{ "codecs", 0, 0, G_OPTION_ARG_STRING, &o->codecs, "Allowed codecs", "LIST" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GOptionEntry list_entries[] = {
		{ "json", 0, 0, G_OPTION_ARG_NONE, &o->json, "JSON output", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GOptionContext *ctx = g_option_context_new(NULL);
	GError *err = NULL;
	int rc = 0;

	if (is_set)
		write_entries[G_N_ELEMENTS(write_entries) - 2] =
		        (GOptionEntry){ "no-remote-access",
			                0,
			                0,
			                G_OPTION_ARG_NONE,
			                &o->no_remote_access,
			                "May not use TURN from outside",
			                NULL };
	if (is_write)
		g_option_context_add_main_entries(ctx, write_entries, NULL);
	else if (is_list)
		g_option_context_add_main_entries(ctx, list_entries, NULL);
	g_option_context_set_help_enabled(ctx, FALSE);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "rtcgatectl: device %s: %s\n", verb, err->message);
		g_error_free(err);
		rc = EXIT_USAGE;
	} else if (argc != (want_login ? 2 : 1) || (want_login && argv[1][0] == '-')) {
		rc = EXIT_USAGE;
	} else if (want_login) {
		*login = argv[1];
	}
	g_option_context_free(ctx);
	return rc;
}

static int cmd_write(struct devices *devs, const char *verb, const char *login, struct opts *o)
{
	struct device_spec s = { 0 };
	char *why = NULL;
	int rc;

	rc = opts_to_spec(o, &s, &why);
	if (!rc && strcmp(verb, "add") == 0) {
		s.login = g_strdup(login);
		rc = devices_add(devs, &s, &why);
	} else if (!rc) {
		rc = s.set ? devices_set(devs, login, &s, &why) : EINVAL;
		if (!why && rc)
			why = g_strdup("nothing to change: give at least one option");
	}
	devspec_clear(&s);
	if (rc) {
		failed(why);
		g_free(why);
		return EXIT_FAILED;
	}
	printf("device \"%s\" %s\n", login, strcmp(verb, "add") == 0 ? "added" : "changed");
	return 0;
}

static int cmd_simple(struct devices *devs, const char *verb, const char *login)
{
	char *why = NULL;
	int rc;

	if (strcmp(verb, "remove") == 0)
		rc = devices_remove(devs, login, &why);
	else
		rc = devices_enable(devs, login, strcmp(verb, "enable") == 0, &why);
	if (rc) {
		failed(why);
		g_free(why);
		return EXIT_FAILED;
	}
	printf("device \"%s\" %sd\n", login, verb);
	return 0;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static void print_table(GPtrArray *all)
{
	printf("%-20s %-7s %-6s %-12s %-12s %-6s %-5s %-12s %-16s %s\n", "LOGIN", "ENABLED",
	       "REMOTE", "EXTENSION", "PBX_USER", "PBX_PW", "CALLS", "LOCATION", "CODECS",
	       "DISPLAY_NAME");
	for (guint i = 0; i < all->len; i++) {
		const struct device *d = all->pdata[i];

		printf("%-20s %-7s %-6s %-12s %-12s %-6s %-5d %-12s %-16s %s\n", d->login,
		       d->enabled ? "yes" : "no", d->remote_access ? "yes" : "no",
		       or_dash(d->extension), or_dash(d->pbx_user),
		       d->pbx_password_set ? "set" : "-", d->max_calls, or_dash(d->location),
		       d->codecs ? d->codecs : "all", or_dash(d->display_name));
	}
}

static void print_json(GPtrArray *all)
{
	JsonBuilder *b = json_builder_new();
	JsonGenerator *gen = json_generator_new();
	JsonNode *root;
	gchar *text;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "devices");
	json_builder_begin_array(b);
	for (guint i = 0; i < all->len; i++)
		devspec_to_json(b, all->pdata[i]);
	json_builder_end_array(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	text = json_generator_to_data(gen, NULL);
	puts(text);
	g_free(text);
	json_node_unref(root);
	g_object_unref(gen);
	g_object_unref(b);
}

static int cmd_list(struct devices *devs, bool json)
{
	GPtrArray *all = NULL;

	if (devices_list(devs, &all))
		return failed("cannot read the device store");
	if (json)
		print_json(all);
	else
		print_table(all);
	g_ptr_array_unref(all);
	return 0;
}

/* The store named by the config file; 0 or EXIT_FAILED with a line on stderr. */
static int open_registry(const char *config, struct store **st, struct devices **devs)
{
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	struct conf *conf = NULL;
	char *why = NULL;
	int rc = 0;

	if (conf_load(config, NULL, &conf, errors)) {
		for (guint i = 0; i < errors->len; i++)
			fprintf(stderr, "rtcgatectl: %s\n", (const char *)errors->pdata[i]);
		rc = EXIT_FAILED;
	} else if (store_open(conf->state_dir, st, &why)) {
		rc = failed(why);
	} else if (devices_open(*st, devices_realm(conf->sip.realm), devs)) {
		rc = failed("cannot read the device registry");
	}
	g_free(why);
	conf_free(conf);
	g_ptr_array_unref(errors);
	return rc;
}

static const char *const verbs[] = { "add", "set", "enable", "disable", "remove", "list" };

int ctl_device_main(const char *config, int argc, char **argv)
{
	struct opts o = { 0 };
	struct store *st = NULL;
	struct devices *devs = NULL;
	const char *verb = argc > 1 ? argv[1] : "";
	char *login = NULL;
	bool known = false;
	int rc;

	for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
		known = known || strcmp(verb, verbs[i]) == 0;
	if (!known)
		return usage();
	rc = parse(verb, argc - 1, argv + 1, &o, strcmp(verb, "list") != 0, &login);
	if (rc) {
		opts_free(&o);
		return usage();
	}
	rc = open_registry(config, &st, &devs);
	if (!rc && strcmp(verb, "list") == 0)
		rc = cmd_list(devs, o.json);
	else if (!rc && (strcmp(verb, "add") == 0 || strcmp(verb, "set") == 0))
		rc = cmd_write(devs, verb, login, &o);
	else if (!rc)
		rc = cmd_simple(devs, verb, login);
	devices_free(devs);
	store_close(st);
	opts_free(&o);
	return rc;
}
