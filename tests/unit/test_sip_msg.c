/* signaling/sip_msg: parsing and checking over libosip2, responses, hostile input. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "signaling/sip_msg.h"

#define REGISTER_MSG                                                          \
	"REGISTER sip:pbx.example SIP/2.0\r\n"                                \
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf;rport\r\n" \
	"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKsecond\r\n"             \
	"Max-Forwards: 70\r\n"                                                \
	"To: <sip:alice@pbx.example>\r\n"                                     \
	"From: \"Alice\" <sip:alice@pbx.example>;tag=65bnmj.d\r\n"            \
	"Call-ID: aiuy7k9njasd\r\n"                                           \
	"CSeq: 1 REGISTER\r\n"                                                \
	"Contact: <sip:df7jal23ls0d@df7jal23ls0d.invalid;transport=ws>\r\n"   \
	"Expires: 600\r\n"                                                    \
	"Content-Length: 0\r\n\r\n"

static osip_message_t *parse_ok(const char *text)
{
	osip_message_t *m = NULL;
	const char *why = NULL;

	g_assert_cmpint(sip_msg_parse(text, strlen(text), &m, &why), ==, 0);
	g_assert_null(why);
	g_assert_nonnull(m);
	return m;
}

/* The message with the first line containing `from` replaced by `to` ("" drops the line). */
static char *edit(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	const char *eol;

	g_assert_nonnull(at);
	eol = strstr(at, "\r\n") + 2;
	return g_strdup_printf("%.*s%s%s", (int)(at - text), text, to, eol);
}

static void test_parse_register(void)
{
	osip_message_t *m = parse_ok(REGISTER_MSG);

	g_assert_cmpstr(m->sip_method, ==, "REGISTER");
	g_assert_cmpstr(sip_msg_branch(m), ==, "z9hG4bKasudf");
	g_assert_cmpstr(sip_msg_header(m, "expires"), ==, "600");
	g_assert_null(sip_msg_header(m, "x-nothing"));
	osip_message_free(m);
}

static void test_refusals(void)
{
	static const struct {
		const char *line, *replacement, *reason;
	} cases[] = {
		{ "Call-ID:", "", "Missing or bad Call-ID" },
		{ "From:", "From: <sip:alice@pbx.example>\r\n", "From without tag" },
		{ "CSeq:", "CSeq: 1 INVITE\r\n", "CSeq method does not match the request" },
		{ "CSeq:", "CSeq: 99999999999 REGISTER\r\n", "CSeq number out of range" },
		{ "Via: SIP/2.0/WSS", "Via: SIP/2.0/WSS host.invalid\r\n", "Via without branch" },
		/* found by fuzz/sip: libosip2 takes these and cannot parse its own 400 back */
		{ "Via: SIP/2.0/WSS",
		  "Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1;bran\fjh=<psi:a\r\n", "Bad Via" },
		{ "Via: SIP/2.0/WSS", "Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1;x=<y>\r\n",
		  "Bad Via" },
		{ "To:", "To: <sip:alice@pbx.example:>\r\n", "Missing or bad To" },
		{ "Via: SIP/2.0/WSS", "Via: SIP/2.0/WSS 10.0\"\"0.1;branch=z9hG4bK1\r\n",
		  "Bad Via" },
		{ "To:", "", "Missing or bad To" },
		{ "Content-Length:", "Content-Length: 10\r\n",
		  "Content-Length larger than the body" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *text = edit(REGISTER_MSG, cases[i].line, cases[i].replacement);
		osip_message_t *m = NULL;
		const char *why = NULL;
		int rc = sip_msg_parse(text, strlen(text), &m, &why);

		g_test_message("case %zu: %s", i, cases[i].reason);
		/* libosip2 itself refuses some of these outright; either way there is a reason */
		g_assert_true(rc == EPROTO || rc == EBADMSG);
		g_assert_nonnull(why);
		if (rc == EPROTO) {
			g_assert_cmpstr(why, ==, cases[i].reason);
			g_assert_nonnull(m);
		}
		osip_message_free(m);
		g_free(text);
	}
}

static void test_garbage(void)
{
	static const char *const inputs[] = {
		"",
		"\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"INVITE\r\n\r\n",
		"SIP/2.0 abc Weird\r\n\r\n",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
	};
	char nul[] = "REGISTER sip:a SIP/2.0\r\nVia: SIP/2.0/WS a;branch=z9hG4bK1\r\n\0\r\n";
	char *huge = g_malloc(SIP_MSG_MAX + 2);
	osip_message_t *m;
	const char *why;

	for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++) {
		m = NULL;
		why = NULL;
		g_assert_cmpint(sip_msg_parse(inputs[i], strlen(inputs[i]), &m, &why), !=, 0);
		g_assert_nonnull(why);
		osip_message_free(m);
	}
	g_assert_cmpint(sip_msg_parse(nul, sizeof(nul) - 1, &m, &why), ==, EBADMSG);
	g_assert_null(m);
	memset(huge, 'a', SIP_MSG_MAX + 1);
	g_assert_cmpint(sip_msg_parse(huge, SIP_MSG_MAX + 1, &m, &why), ==, EBADMSG);
	g_assert_null(m);
	g_free(huge);
}

static void test_response(void)
{
	osip_message_t *req = parse_ok(REGISTER_MSG), *resp, *back;
	osip_generic_param_t *tag = NULL;
	char *text = NULL;
	size_t len = 0;

	resp = sip_msg_response(req, 180, NULL, "tag123");
	g_assert_nonnull(resp);
	g_assert_cmpstr(resp->reason_phrase, ==, "Ringing");
	g_assert_cmpint(sip_msg_to_str(resp, &text, &len), ==, 0);
	g_assert_cmpuint(strlen(text), ==, len);
	back = parse_ok(text);
	g_assert_cmpint(back->status_code, ==, 180);
	g_assert_cmpint(osip_list_size(&back->vias), ==, 2);
	g_assert_cmpstr(sip_msg_branch(back), ==, "z9hG4bKasudf");
	g_assert_cmpint(osip_to_get_tag(back->to, &tag), ==, 0);
	g_assert_cmpstr(tag->gvalue, ==, "tag123");
	g_assert_cmpstr(back->call_id->number, ==, "aiuy7k9njasd");
	osip_free(text);
	osip_message_free(back);
	osip_message_free(resp);

	/* a 100 Trying gets no To tag; a 400 gets a random one */
	resp = sip_msg_response(req, 100, NULL, NULL);
	tag = NULL;
	osip_to_get_tag(resp->to, &tag);
	g_assert_null(tag);
	osip_message_free(resp);
	resp = sip_msg_response(req, 400, "Missing Call-ID", NULL);
	g_assert_cmpint(osip_to_get_tag(resp->to, &tag), ==, 0);
	g_assert_cmpuint(strlen(tag->gvalue), ==, 16);
	g_assert_cmpstr(resp->reason_phrase, ==, "Missing Call-ID");
	osip_message_free(resp);
	osip_message_free(req);
}

static void test_token(void)
{
	char a[33], b[33];

	sip_msg_token(a, 32);
	sip_msg_token(b, 32);
	g_assert_cmpuint(strlen(a), ==, 32);
	g_assert_cmpstr(a, !=, b);
	for (size_t i = 0; i < 32; i++)
		g_assert_true(g_ascii_islower(a[i]) || g_ascii_isdigit(a[i]));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	sip_msg_init();
	g_test_add_func("/sip_msg/parse_register", test_parse_register);
	g_test_add_func("/sip_msg/refusals", test_refusals);
	g_test_add_func("/sip_msg/garbage", test_garbage);
	g_test_add_func("/sip_msg/response", test_response);
	g_test_add_func("/sip_msg/token", test_token);
	return g_test_run();
}
