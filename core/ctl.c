/* rtcgatectl: the admin CLI (version, check-config, config-example, device ...). */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/ctl_device.h"
#include "core/log.h"
#include "rtcgate-config.h"

static int usage(void)
{
	fprintf(stderr,
	        "usage: rtcgatectl --version\n"
	        "       rtcgatectl check-config FILE\n"
	        "       rtcgatectl config-example\n"
	        "       rtcgatectl [--config FILE] device add|set|enable|disable|remove|list "
	        "...\n");
	return 2;
}

static int check_config(const char *path)
{
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	struct conf *conf = NULL;
	int rc = conf_load(path, NULL, &conf, errors) ? 1 : 0;

	for (guint i = 0; i < errors->len; i++)
		fprintf(stderr, "%s\n", (const char *)errors->pdata[i]);
	if (!rc)
		printf("%s: config ok\n", path);
	conf_free(conf);
	g_ptr_array_unref(errors);
	return rc;
}

/* Quiet unless something is wrong: the store's own info lines are for the daemon's log. */
static void quiet_logs(void)
{
	int levels[LOG_SUB_COUNT];

	if (log_levels_parse("warn", "", levels, NULL) == 0)
		log_levels_set(levels);
}

int main(int argc, char **argv)
{
	const char *config = NULL;

	log_init();
	quiet_logs();
	if (argc >= 3 && (strcmp(argv[1], "--config") == 0 || strcmp(argv[1], "-c") == 0)) {
		config = argv[2];
		argc -= 2;
		argv += 2;
	} else if (argc >= 2 && strncmp(argv[1], "--config=", 9) == 0) {
		config = argv[1] + 9;
		argc--;
		argv++;
	}
	if (argc >= 2 && strcmp(argv[1], "device") == 0)
		return ctl_device_main(config, argc - 1, argv + 1);
	if (config)
		return usage();
	if (argc == 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		printf("rtcgatectl %s\n", RTCGATE_VERSION);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "check-config") == 0)
		return check_config(argv[2]);
	if (argc == 2 && strcmp(argv[1], "config-example") == 0) {
		GString *s = g_string_new(NULL);

		conf_write_example(s);
		fputs(s->str, stdout);
		g_string_free(s, TRUE);
		return 0;
	}
	return usage();
}
