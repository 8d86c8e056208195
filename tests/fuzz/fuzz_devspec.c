/* libFuzzer target for core/devspec: any bytes as an /api/v1/devices request body. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/devspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct device_spec s;
	const char *field = NULL;
	char *why = NULL;

	for (int create = 0; create < 2; create++) {
		int rc = devspec_from_json((const char *)data, size, create, &s, &field, &why);

		/* an error always says why; an accepted create names a valid login */
		if ((rc != 0) != (why != NULL))
			abort();
		if (!rc && create && !devspec_login_ok(s.login))
			abort();
		if (!rc && s.max_calls && (s.set & DEVSPEC_MAX_CALLS) &&
		    (s.max_calls < 1 || s.max_calls > DEVSPEC_MAX_CALLS_MAX))
			abort();
		free(why);
		why = NULL;
		devspec_clear(&s);
	}
	return 0;
}
