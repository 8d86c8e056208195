/* signaling/sip_frame: SIP messages in a byte stream (RFC 3261 §18.3), CRLF keepalives. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "signaling/sip_frame.h"

#define LIMIT 65535

#define OPTIONS_MSG                                                       \
	"OPTIONS sip:pbx.example SIP/2.0\r\n"                             \
	"Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKa1\r\n"             \
	"From: <sip:rtcgate@10.0.0.1>;tag=1\r\nTo: <sip:pbx.example>\r\n" \
	"Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"

#define INVITE_MSG                                                       \
	"INVITE sip:1000@pbx.example SIP/2.0\r\n"                        \
	"Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKa2\r\n"            \
	"content-length :  11 \r\nContent-Type: application/sdp\r\n\r\n" \
	"v=0\r\ns=-\r\nX"

#define COMPACT_MSG "SIP/2.0 200 OK\r\nl: 4\r\n\r\nbody"

/* What a receiver gets from a stream cut into pieces: messages and pings, or an error. */
struct result {
	GPtrArray *messages;
	unsigned pings, pongs;
	int error;
};

static void result_free(struct result *r)
{
	g_ptr_array_unref(r->messages);
}

/* Feed text[len] in pieces of the given sizes (the last repeats), as sip_tcp.c does. */
static struct result feed(const char *text, size_t len, const size_t *cuts, size_t ncuts)
{
	struct result r = { g_ptr_array_new_with_free_func(g_free), 0, 0, 0 };
	struct sip_frame f = { 0 };
	GByteArray *buf = g_byte_array_new();
	size_t given = 0;

	for (size_t k = 0; given < len && !r.error; k++) {
		size_t n = MIN(cuts[MIN(k, ncuts - 1)], len - given);

		g_byte_array_append(buf, (const guint8 *)text + given, (guint)n);
		given += n;
		for (int guard = 0; guard < 100; guard++) {
			struct sip_frame_out o;
			int rc = sip_frame_next(&f, (const char *)buf->data, buf->len, LIMIT, &o);

			r.pings += o.lf >= 2;
			r.pongs += o.lf == 1;
			g_byte_array_remove_range(buf, 0, (guint)o.skip);
			if (rc == ENODATA)
				break;
			if (rc) {
				r.error = rc;
				break;
			}
			g_ptr_array_add(r.messages, g_strndup((const char *)buf->data, o.len));
			g_byte_array_remove_range(buf, 0, (guint)o.len);
		}
	}
	g_byte_array_unref(buf);
	return r;
}

static void test_one_read(void)
{
	const char *s = OPTIONS_MSG INVITE_MSG COMPACT_MSG;
	size_t all = strlen(s);
	struct result r = feed(s, all, &all, 1);

	g_assert_cmpint(r.error, ==, 0);
	g_assert_cmpuint(r.messages->len, ==, 3);
	g_assert_cmpstr(r.messages->pdata[0], ==, OPTIONS_MSG);
	g_assert_cmpstr(r.messages->pdata[1], ==, INVITE_MSG);
	g_assert_cmpstr(r.messages->pdata[2], ==, COMPACT_MSG);
	result_free(&r);
}

/* Every split point, and byte by byte: the same messages, in order. */
static void test_every_split(void)
{
	const char *s = "\r\n\r\n" OPTIONS_MSG "\r\n" INVITE_MSG "\r\n\r\n" COMPACT_MSG;
	size_t len = strlen(s), one = 1;

	for (size_t at = 1; at < len; at++) {
		size_t cuts[2] = { at, len };
		struct result r = feed(s, len, cuts, 2);

		g_assert_cmpint(r.error, ==, 0);
		g_assert_cmpuint(r.messages->len, ==, 3);
		g_assert_cmpstr(r.messages->pdata[1], ==, INVITE_MSG);
		g_assert_cmpstr(r.messages->pdata[2], ==, COMPACT_MSG);
		result_free(&r);
	}
	{
		struct result r = feed(s, len, &one, 1);

		g_assert_cmpint(r.error, ==, 0);
		g_assert_cmpuint(r.messages->len, ==, 3);
		g_assert_cmpstr(r.messages->pdata[0], ==, OPTIONS_MSG);
		/* a double CRLF was seen, in whatever pieces; single ones came too */
		g_assert_cmpuint(r.pings + r.pongs, >=, 1);
		result_free(&r);
	}
}

/* RFC 5626 §4.4.1: "\r\n\r\n" is a ping, "\r\n" a pong, both skipped between messages. */
static void test_keepalives(void)
{
	struct sip_frame f = { 0 };
	struct sip_frame_out o;

	g_assert_cmpint(sip_frame_next(&f, "\r\n\r\n", 4, LIMIT, &o), ==, ENODATA);
	g_assert_cmpuint(o.skip, ==, 4);
	g_assert_cmpuint(o.lf, ==, 2);
	g_assert_cmpint(sip_frame_next(&f, "\r\n", 2, LIMIT, &o), ==, ENODATA);
	g_assert_cmpuint(o.lf, ==, 1);
	g_assert_cmpint(sip_frame_next(&f, "\r\n" COMPACT_MSG, strlen(COMPACT_MSG) + 2, LIMIT, &o),
	                ==, 0);
	g_assert_cmpuint(o.skip, ==, 2);
	g_assert_cmpuint(o.len, ==, strlen(COMPACT_MSG));
	g_assert_cmpint(sip_frame_next(&f, "", 0, LIMIT, &o), ==, ENODATA);
	g_assert_cmpuint(o.skip, ==, 0);
}

static void test_refusals(void)
{
	static const struct {
		const char *text;
		int rc;
	} cases[] = {
		{ "SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\n\r\n", EBADMSG },      /* no length */
		{ "SIP/2.0 200 OK\r\nContent-Length: -1\r\n\r\n", EBADMSG },   /* negative */
		{ "SIP/2.0 200 OK\r\nContent-Length: 1x\r\n\r\nab", EBADMSG }, /* not a number */
		{ "SIP/2.0 200 OK\r\nContent-Length:\r\n\r\n", EBADMSG },      /* empty */
		{ "SIP/2.0 200 OK\r\nl: 1\r\nContent-Length: 2\r\n\r\nab",
		  EBADMSG }, /* two values */
		{ "SIP/2.0 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", EMSGSIZE },
		{ "SIP/2.0 200 OK\r\nContent-Length: 65536\r\n\r\n",
		  EMSGSIZE },                 /* head + body > max */
		{ "hello\r\n\r\n", EBADMSG }, /* garbage */
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		size_t len = strlen(cases[i].text);
		struct result r = feed(cases[i].text, len, &len, 1);

		g_assert_cmpint(r.error, ==, cases[i].rc);
		g_assert_cmpuint(r.messages->len, ==, 0);
		result_free(&r);
	}
}

/* A head that never ends: EMSGSIZE once max bytes are in, not before. */
static void test_endless_head(void)
{
	char *s = g_malloc(LIMIT + 10);
	struct sip_frame f = { 0 };
	struct sip_frame_out o;

	memset(s, 'a', LIMIT + 10);
	g_assert_cmpint(sip_frame_next(&f, s, LIMIT - 1, LIMIT, &o), ==, ENODATA);
	g_assert_cmpint(sip_frame_next(&f, s, LIMIT, LIMIT, &o), ==, EMSGSIZE);
	g_free(s);
}

/* Exactly max bytes is taken; one more is not. */
static void test_limit(void)
{
	const char *head = "SIP/2.0 200 OK\r\nContent-Length: ";
	for (int extra = 0; extra <= 1; extra++) {
		GString *s = g_string_new(NULL);
		struct sip_frame f = { 0 };
		struct sip_frame_out o;
		size_t body;

		/* "<head><5 digits>\r\n\r\n" + body == LIMIT + extra */
		body = LIMIT + (size_t)extra - strlen(head) - 5 - 4;
		g_string_append_printf(s, "%s%05zu\r\n\r\n", head, body);
		for (size_t i = 0; i < body; i++)
			g_string_append_c(s, 'b');
		g_assert_cmpint(sip_frame_next(&f, s->str, s->len, LIMIT, &o), ==,
		                extra ? EMSGSIZE : 0);
		if (!extra)
			g_assert_cmpuint(o.len, ==, LIMIT);
		g_string_free(s, TRUE);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sip_frame/one_read", test_one_read);
	g_test_add_func("/sip_frame/every_split", test_every_split);
	g_test_add_func("/sip_frame/keepalives", test_keepalives);
	g_test_add_func("/sip_frame/refusals", test_refusals);
	g_test_add_func("/sip_frame/endless_head", test_endless_head);
	g_test_add_func("/sip_frame/limit", test_limit);
	return g_test_run();
}
