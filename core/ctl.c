/* rtcgatectl: the admin CLI (version, check-config, config-example; devices arrive later). */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"
#include "rtcgate-config.h"

static int usage(void)
{
	fprintf(stderr, "usage: rtcgatectl --version\n"
	                "       rtcgatectl check-config FILE\n"
	                "       rtcgatectl config-example\n");
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

int main(int argc, char **argv)
{
	log_init();
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
