/* libFuzzer target for core/httpauth: any bytes as an Authorization header value. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "core/httpauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = malloc(size + 1);
	char *user = NULL, *pass = NULL;
	const char *tok;
	size_t len;

	if (!h)
		return 0;
	memcpy(h, data, size);
	h[size] = '\0';
	if (httpauth_basic(h, &user, &pass) == 0) {
		/* the user part never holds the separator */
		if (strchr(user, ':'))
			abort();
		g_free(user);
		g_free(pass);
	}
	if (httpauth_bearer(h, &tok, &len) == 0 && (len == 0 || tok + len != h + strlen(h)))
		abort();
	free(h);
	return 0;
}
