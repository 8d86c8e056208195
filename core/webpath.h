/* Request path → safe file path under the web root, and MIME types. Pure. */
#pragma once

#include <stddef.h>

/*
 * Turn the path of a request URI ("/a/b.js", percent-encoded, no query) into
 * a relative file path in out (capacity cap): empty and "." segments are
 * dropped, a path ending in '/' gets "index.html". Returns 0, or
 *   EINVAL        malformed: no leading '/', bad %-escape, NUL, control
 *                 byte or backslash;
 *   EACCES        a ".." segment or a segment starting with '.';
 *   ENAMETOOLONG  the result does not fit in cap.
 * out is written only on success.
 */
int webpath_resolve(const char *uri, char *out, size_t cap);

/* MIME type for a file name by its extension; never NULL. */
const char *webpath_mime(const char *name);
