/* libFuzzer target for the config loader: any bytes as an INI file. */
#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	struct conf *conf = NULL;
	int rc = conf_load_data((const char *)data, size, "fuzz", NULL, &conf, errors);

	/* exactly one of: a config, or at least one error line */
	if ((rc == 0) != (conf != NULL) || (rc != 0 && errors->len == 0))
		abort();
	conf_free(conf);
	g_ptr_array_unref(errors);
	return 0;
}
