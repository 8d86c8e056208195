/* Authorization header parsing: Basic (RFC 7617) and Bearer (RFC 6750 §2.1). Pure. */
#pragma once

#include <stddef.h>

/*
 * Parse "Basic <base64(user:password)>". The base64 must be canonical
 * (alphabet, padding, length a multiple of 4); the decoded text holds a
 * ':' and no NUL. Returns 0 with g_malloc'd *user and *password (wipe the
 * password before freeing), EPROTO for another scheme, or EINVAL.
 */
int httpauth_basic(const char *header, char **user, char **password);

/*
 * Parse "Bearer <token>" (token68 characters). Returns 0 with *token
 * pointing into header and its length in *len, EPROTO for another scheme,
 * or EINVAL.
 */
int httpauth_bearer(const char *header, const char **token, size_t *len);
