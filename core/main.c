/* rtcgate daemon: options, configuration, start-up, signals (SIGHUP reload, SIGTERM stop). */
#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/conf.h"
#include "core/devices.h"
#include "core/http.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/store.h"
#include "core/tlscert.h"
#include "ice/dtls.h"
#include "relay/media.h"
#include "relay/turn_server.h"
#include "signaling/b2bua.h"
#include "rtcgate-config.h"

#define STOP_GRACE_MS 1500

struct app {
	GMainLoop *loop;
	char *config_path;
	char **overrides;
	struct conf *conf;
	struct metrics *metrics;
	struct store *store;
	struct devices *devices;
	struct http_server *http;
	struct turn_server *turn;
	struct b2bua *b2bua;
	struct media_pool *media;
	struct dtls_ctx *dtls; /* the WebRTC legs' certificate and DTLS settings */
	bool stopping;
};

static void print_errors(GPtrArray *errors)
{
	for (guint i = 0; i < errors->len; i++)
		fprintf(stderr, "%s\n", (const char *)errors->pdata[i]);
}

static void join_names(GString *out, GPtrArray *names)
{
	for (guint i = 0; i < names->len; i++)
		g_string_append_printf(out, "%s%s", i ? "," : "", (const char *)names->pdata[i]);
}

/* SIGHUP: a config that fails validation is refused and the running one stays. */
static gboolean on_sighup(gpointer data)
{
	struct app *app = data;
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *kept = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *applied = g_ptr_array_new_with_free_func(g_free);
	GString *a = g_string_new(NULL), *k = g_string_new(NULL);
	struct conf *next = NULL;
	char *why = NULL;

	if (conf_load(app->config_path, (const char *const *)app->overrides, &next, errors)) {
		for (guint i = 0; i < errors->len; i++)
			log_err(LOG_CONF, "config reload refused", "error=\"%s\"",
			        (const char *)errors->pdata[i]);
		metrics_add(app->metrics, METRIC_CONFIG_RELOADS, 1, (const char *[]){ "refused" });
		goto out;
	}
	conf_merge_reload(next, app->conf, kept, applied);
	join_names(a, applied);
	join_names(k, kept);
	if (kept->len)
		log_warn(LOG_CONF, "restart needed for changed keys", "keys=%s", k->str);
	if (turn_server_reconf(app->turn, next, &why)) {
		log_err(LOG_CONF, "config reload refused", "error=\"%s\"", why);
		g_free(why);
		conf_free(next);
		metrics_add(app->metrics, METRIC_CONFIG_RELOADS, 1, (const char *[]){ "refused" });
		goto out;
	}
	log_levels_set(next->log.resolved);
	http_server_set_conf(app->http, next);
	conf_free(app->conf);
	app->conf = next;
	metrics_add(app->metrics, METRIC_CONFIG_RELOADS, 1, (const char *[]){ "ok" });
	log_info(LOG_CONF, "config reloaded", "applied=%s", a->len ? a->str : "none");
out:
	g_string_free(a, TRUE);
	g_string_free(k, TRUE);
	g_ptr_array_unref(errors);
	g_ptr_array_unref(kept);
	g_ptr_array_unref(applied);
	return G_SOURCE_CONTINUE;
}

static const char *const device_events[] = {
	[DEVICES_ADDED] = "added",     [DEVICES_CHANGED] = "changed",
	[DEVICES_ENABLED] = "enabled", [DEVICES_DISABLED] = "disabled",
	[DEVICES_REMOVED] = "removed",
};

/*
 * A device changed, here or through rtcgatectl. Nothing caches devices yet;
 * the SIP flows of a disabled or removed device will be ended here.
 */
static void on_device_change(void *data, const char *login, enum devices_event ev)
{
	struct app *app = data;

	log_info(LOG_STORE, "device changed", "login=%s event=%s", login, device_events[ev]);
	if (app->b2bua)
		b2bua_device_changed(app->b2bua, login, ev);
}

static void on_drained(void *data)
{
	struct app *app = data;

	log_info(LOG_CORE, "all connections closed", "");
	g_main_loop_quit(app->loop);
}

static gboolean on_grace_over(gpointer data)
{
	struct app *app = data;

	log_info(LOG_CORE, "grace period over", "ms=%d", STOP_GRACE_MS);
	g_main_loop_quit(app->loop);
	return G_SOURCE_REMOVE;
}

static gboolean on_stop(gpointer data)
{
	struct app *app = data;

	if (app->stopping) {
		g_main_loop_quit(app->loop);
		return G_SOURCE_CONTINUE;
	}
	app->stopping = true;
	log_info(LOG_CORE, "stopping", "");
	g_timeout_add(STOP_GRACE_MS, on_grace_over, app);
	http_server_shutdown(app->http, on_drained, app);
	return G_SOURCE_CONTINUE;
}

/* --log-level X is -o log.level=X placed first, so explicit -o still wins. */
static void prepend_override(char ***overrides, const char *key, const char *value)
{
	GStrvBuilder *b = g_strv_builder_new();
	gchar *o = g_strdup_printf("%s=%s", key, value);

	g_strv_builder_add(b, o);
	if (*overrides)
		g_strv_builder_addv(b, (const char **)*overrides);
	g_strfreev(*overrides);
	*overrides = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	g_free(o);
}

/* Every TURN allocation and TCP client is a descriptor: take the hard limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The WebRTC legs' DTLS certificate: media.dtls_cert, or a new one each start. */
static int open_dtls(const struct conf *c, struct dtls_ctx **out, char **why)
{
	struct dtls_cert *cert = NULL;
	int rc = dtls_cert_open(c->media.dtls_cert, c->media.dtls_key, &cert, why);

	if (!rc)
		rc = dtls_ctx_new(cert, NULL, out, why);
	if (!rc)
		log_info(LOG_DTLS, "certificate ready", "fingerprint=\"%s\" profiles=%s made=%s",
		         dtls_ctx_fingerprint_sdp(*out), dtls_ctx_profiles(*out),
		         *c->media.dtls_cert ? "no" : "yes");
	if (rc && *why) {
		char *w = *why;

		*why = g_strdup_printf("DTLS certificate (media.dtls_cert): %s", w);
		g_free(w);
	}
	dtls_cert_free(cert);
	return rc;
}

static int start(struct app *app)
{
	const struct conf *c = app->conf;
	char *cert = NULL, *key = NULL, *why = NULL;
	int rc;

	/* first: a bad media.dtls_cert stops the start before any port is bound */
	rc = open_dtls(c, &app->dtls, &why);
	if (!rc)
		rc = store_open(c->state_dir, &app->store, &why);
	if (rc)
		goto out;
	rc = devices_open(app->store, devices_realm(c->sip.realm), &app->devices);
	if (rc) {
		why = g_strdup("cannot read the device registry");
		goto out;
	}
	devices_on_change(app->devices, on_device_change, app);
	devices_watch(app->devices);
	/* HTTPS and TURN over TLS share one certificate */
	if ((c->http.tls_port || (c->turn.port && c->turn.tls_port)) && !*c->http.cert) {
		rc = tlscert_ensure(c->state_dir, &cert, &key, &why);
		if (rc)
			goto out;
	} else if (*c->http.cert) {
		cert = g_strdup(c->http.cert);
		key = g_strdup(c->http.key);
	}
	app->metrics = metrics_new();
	app->loop = g_main_loop_new(NULL, FALSE);
	rc = http_server_start(c, cert, key, app->metrics, app->loop, &app->http, &why);
	if (!rc)
		http_server_set_devices(app->http, app->devices);
	if (!rc)
		rc = turn_server_start(c, cert, key, app->metrics, &app->turn, &why);
	if (!rc)
		rc = media_pool_start(c, app->metrics, &app->media, &why);
	if (!rc)
		rc = b2bua_start(c, app->devices, app->media, app->metrics, &app->b2bua, &why);
	if (!rc)
		b2bua_webrtc_start(app->b2bua, app->dtls);
	if (!rc)
		http_server_set_sip_handler(app->http, b2bua_ws_handler(), app->b2bua);
out:
	if (rc)
		log_err(LOG_CORE, "start failed", "reason=\"%s\"", why ? why : g_strerror(rc));
	g_free(why);
	g_free(cert);
	g_free(key);
	return rc;
}

/* Start everything and run the loop until SIGTERM or SIGINT; 0 after a clean stop, 1 when start
 * failed. */
static int run(struct app *app)
{
	log_levels_set(app->conf->log.resolved);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	if (start(app))
		return 1;
	g_unix_signal_add(SIGHUP, on_sighup, app);
	g_unix_signal_add(SIGTERM, on_stop, app);
	g_unix_signal_add(SIGINT, on_stop, app);
	log_info(LOG_CORE, "ready", "version=%s pid=%d http_port=%d tls_port=%d", RTCGATE_VERSION,
	         (int)getpid(), app->conf->http.port, app->conf->http.tls_port);
	g_main_loop_run(app->loop);
	log_info(LOG_CORE, "stopped", "");
	return 0;
}

/* Everything start made (or part of it), in the order the pieces depend on each other. */
static void app_free(struct app *app)
{
	turn_server_stop(app->turn);
	http_server_free(app->http);
	b2bua_free(app->b2bua);      /* after the flows it hears from */
	media_pool_stop(app->media); /* after the calls that use it */
	dtls_ctx_free(app->dtls);    /* after the media legs made from it */
	devices_free(app->devices);
	store_close(app->store);
	metrics_free(app->metrics);
	if (app->loop)
		g_main_loop_unref(app->loop);
	conf_free(app->conf);
	g_strfreev(app->overrides);
	g_free(app->config_path);
}

int main(int argc, char **argv)
{
	struct app app = { 0 };
	gboolean version = FALSE, check = FALSE;
	char *log_level = NULL;
	GOptionEntry entries[] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &app.config_path,
		  "Read configuration from FILE (INI)", "FILE" },
		{ "option", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &app.overrides,
		  "Override a key (repeatable)", "SECTION.KEY=VALUE" },
		{ "check-config", 0, 0, G_OPTION_ARG_NONE, &check,
		  "Validate the configuration and exit 0 or 1", NULL },
		{ "log-level", 0, 0, G_OPTION_ARG_STRING, &log_level,
		  "Log level for all (error, warn, info, debug), or per subsystem "
		  "(sip:debug,http:warn)",
		  "LEVEL" },
		{ "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit",
		  NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GOptionContext *opts = g_option_context_new("- WebRTC border gateway");
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	GError *err = NULL;
	int rc = 1;

	log_init();
	g_option_context_add_main_entries(opts, entries, NULL);
	if (!g_option_context_parse(opts, &argc, &argv, &err)) {
		fprintf(stderr, "rtcgate: %s\n", err->message);
		g_clear_error(&err);
		goto out;
	}
	if (version) {
		printf("rtcgate %s\n", RTCGATE_VERSION);
		rc = 0;
		goto out;
	}
	/* "debug" is a level for all; "sip:debug,http:warn" is per subsystem */
	if (log_level)
		prepend_override(&app.overrides,
		                 strchr(log_level, ':') ? "log.levels" : "log.level", log_level);
	if (conf_load(app.config_path, (const char *const *)app.overrides, &app.conf, errors)) {
		print_errors(errors);
		goto out;
	}
	if (check) {
		printf("%s: config ok\n", app.config_path ? app.config_path : "(defaults)");
		rc = 0;
		goto out;
	}
	rc = run(&app);
out:
	app_free(&app);
	g_free(log_level);
	g_ptr_array_unref(errors);
	g_option_context_free(opts);
	return rc;
}
