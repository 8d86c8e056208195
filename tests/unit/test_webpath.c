/* Unit tests for core/webpath: request paths, hostile encodings, MIME types. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "core/webpath.h"

static const struct {
	const char *uri;
	int rc;
	const char *out;
} cases[] = {
	{ "/", 0, "index.html" },
	{ "/index.html", 0, "index.html" },
	{ "/js/app.js", 0, "js/app.js" },
	{ "//js///app.js", 0, "js/app.js" },
	{ "/js/./app.js", 0, "js/app.js" },
	{ "/js/", 0, "js/index.html" },
	{ "/js/.", 0, "js/index.html" },
	{ "/a%20b.txt", 0, "a b.txt" },
	{ "/%41%42C", 0, "ABC" },
	/* traversal, plain and encoded */
	{ "/../etc/passwd", EACCES, NULL },
	{ "/js/../../etc/passwd", EACCES, NULL },
	{ "/%2e%2e/etc/passwd", EACCES, NULL },
	{ "/%2E%2E%2Fetc%2Fpasswd", EACCES, NULL },
	{ "/.%2e/x", EACCES, NULL },
	{ "/..", EACCES, NULL },
	{ "/.git/config", EACCES, NULL },
	{ "/.env", EACCES, NULL },
	/* malformed */
	{ "", EINVAL, NULL },
	{ "index.html", EINVAL, NULL },
	{ "/a%2", EINVAL, NULL },
	{ "/a%zz", EINVAL, NULL },
	{ "/a%", EINVAL, NULL },
	{ "/a%00b", EINVAL, NULL },
	{ "/a%0d%0aSet-Cookie:x", EINVAL, NULL },
	{ "/a\\..\\b", EINVAL, NULL },
	{ "/a%5c..%5cb", EINVAL, NULL },
	{ "/a\x01", EINVAL, NULL },
	{ "/a%7f", EINVAL, NULL },
};

static void test_resolve(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char out[256] = "untouched";
		int rc = webpath_resolve(cases[i].uri, out, sizeof(out));

		g_test_message("case %zu: %s", i, cases[i].uri);
		g_assert_cmpint(rc, ==, cases[i].rc);
		if (rc == 0)
			g_assert_cmpstr(out, ==, cases[i].out);
		else
			g_assert_cmpstr(out, ==, "untouched");
	}
}

static void test_null_and_long(void)
{
	char out[16];
	GString *big = g_string_new("/");

	g_assert_cmpint(webpath_resolve(NULL, out, sizeof(out)), ==, EINVAL);
	/* exactly fits: "abcdefghijklmno" is 15 chars plus NUL */
	g_assert_cmpint(webpath_resolve("/abcdefghijklmno", out, sizeof(out)), ==, 0);
	g_assert_cmpint(webpath_resolve("/abcdefghijklmnop", out, sizeof(out)), ==, ENAMETOOLONG);
	/* "/" needs room for index.html */
	g_assert_cmpint(webpath_resolve("/", out, 10), ==, ENAMETOOLONG);
	/* a segment longer than any file name, and a path longer than any buffer */
	for (int i = 0; i < 300; i++)
		g_string_append_c(big, 'a');
	g_assert_cmpint(webpath_resolve(big->str, out, sizeof(out)), ==, ENAMETOOLONG);
	g_string_assign(big, "");
	for (int i = 0; i < 200; i++)
		g_string_append(big, "/abcdefgh");
	g_assert_cmpint(webpath_resolve(big->str, out, sizeof(out)), ==, ENAMETOOLONG);
	g_string_free(big, TRUE);
}

static void test_mime(void)
{
	g_assert_cmpstr(webpath_mime("index.html"), ==, "text/html; charset=utf-8");
	g_assert_cmpstr(webpath_mime("a/b.JS"), ==, "text/javascript; charset=utf-8");
	g_assert_cmpstr(webpath_mime("x.css"), ==, "text/css; charset=utf-8");
	g_assert_cmpstr(webpath_mime("x.svg"), ==, "image/svg+xml");
	g_assert_cmpstr(webpath_mime("x.wasm"), ==, "application/wasm");
	g_assert_cmpstr(webpath_mime("noext"), ==, "application/octet-stream");
	g_assert_cmpstr(webpath_mime("dir.d/noext"), ==, "application/octet-stream");
	g_assert_cmpstr(webpath_mime("x."), ==, "application/octet-stream");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/webpath/resolve", test_resolve);
	g_test_add_func("/webpath/null-and-long", test_null_and_long);
	g_test_add_func("/webpath/mime", test_mime);
	return g_test_run();
}
