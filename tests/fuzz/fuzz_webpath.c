/* libFuzzer target for core/webpath: any bytes as a request path. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/webpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *uri = malloc(size + 1);
	char out[512];

	if (!uri)
		return 0;
	memcpy(uri, data, size);
	uri[size] = '\0';
	if (webpath_resolve(uri, out, sizeof(out)) == 0) {
		/* whatever was accepted is relative and never climbs out */
		if (out[0] == '/' || strstr(out, "..") == out || strstr(out, "/..") ||
		    strchr(out, '\\'))
			abort();
		(void)webpath_mime(out);
	}
	free(uri);
	return 0;
}
