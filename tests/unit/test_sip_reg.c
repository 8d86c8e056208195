/* signaling/sip_reg: flow identities (RFC 5626 §4.2), asked and granted expiries, refusals. */
#include <glib.h>
#include <string.h>

#include "signaling/sip_msg.h"
#include "signaling/sip_reg.h"

static osip_message_t *parse(const char *first, const char *headers)
{
	char *text = g_strdup_printf("%s\r\n"
	                             "Via: SIP/2.0/WSS x.invalid;branch=z9hG4bKa1\r\n"
	                             "To: <sip:alice@pbx.example>\r\n"
	                             "From: <sip:alice@pbx.example>;tag=t1\r\n"
	                             "Call-ID: c1\r\n"
	                             "CSeq: 1 REGISTER\r\n"
	                             "%s"
	                             "Content-Length: 0\r\n\r\n",
	                             first, headers);
	osip_message_t *m = NULL;
	const char *why = NULL;

	g_assert_cmpint(sip_msg_parse(text, strlen(text), &m, &why), ==, 0);
	g_free(text);
	return m;
}

static osip_message_t *request(const char *headers)
{
	return parse("REGISTER sip:pbx.example SIP/2.0", headers);
}

static void test_flow_id(void)
{
	static const struct {
		const char *contact;
		const char *instance; /* NULL: no flow identity */
		unsigned reg_id;
	} cases[] = {
		{ "<sip:a@b.invalid;transport=ws>;+sip.ice;reg-id=1;"
		  "+sip.instance=\"<urn:uuid:8f2b7e51-0c8a-4c4b-9d0f-1a2b3c4d5e6f>\";expires=600",
		  "<urn:uuid:8f2b7e51-0c8a-4c4b-9d0f-1a2b3c4d5e6f>", 1 },
		{ "<sip:a@b.invalid>;reg-id=7;+sip.instance=\"<urn:uuid:x>\"", "<urn:uuid:x>", 7 },
		{ "<sip:a@b.invalid>;+sip.instance=\"<urn:uuid:x>\"", NULL, 0 }, /* no reg-id */
		{ "<sip:a@b.invalid>;reg-id=1", NULL, 0 },                       /* no instance */
		{ "<sip:a@b.invalid>;reg-id=0;+sip.instance=\"<urn:uuid:x>\"", NULL, 0 }, /* 0 */
		{ "<sip:a@b.invalid>;reg-id=x1;+sip.instance=\"<urn:uuid:x>\"", NULL, 0 },
		{ "<sip:a@b.invalid>;reg-id=1;+sip.instance=\"\"", NULL, 0 },
		{ "<sip:a@b.invalid>", NULL, 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *h = g_strdup_printf("Contact: %s\r\n", cases[i].contact);
		osip_message_t *m = request(h);
		osip_contact_t *c = NULL;
		char inst[SIP_REG_INSTANCE_MAX];
		unsigned id = 99;
		bool ok;

		osip_message_get_contact(m, 0, &c);
		ok = sip_reg_flow_id(c, inst, sizeof(inst), &id);
		g_assert_cmpint(ok, ==, cases[i].instance != NULL);
		if (ok) {
			g_assert_cmpstr(inst, ==, cases[i].instance);
			g_assert_cmpuint(id, ==, cases[i].reg_id);
		}
		/* too small a buffer is refused, never cut */
		g_assert_false(sip_reg_flow_id(c, inst, 4, &id));
		osip_message_free(m);
		g_free(h);
	}
	g_assert_false(sip_reg_flow_id(NULL, NULL, 0, NULL));
}

static void test_asked(void)
{
	static const struct {
		const char *headers;
		int want;
	} cases[] = {
		{ "Contact: <sip:a@b.invalid>;expires=300\r\nExpires: 100\r\n", 300 },
		{ "Contact: <sip:a@b.invalid>\r\nExpires: 100\r\n", 100 },
		{ "Contact: <sip:a@b.invalid>\r\n", 600 },
		{ "Contact: <sip:a@b.invalid>;expires=0\r\n", 0 },
		{ "Contact: <sip:a@b.invalid>;expires=99999\r\n", 3600 },
		{ "Contact: <sip:a@b.invalid>;expires=-5\r\nExpires: 50\r\n", 50 },
		{ "Contact: <sip:a@b.invalid>;expires=12x\r\n", 600 },
		{ "Contact: <sip:a@b.invalid>;expires=99999999999999999999\r\n", 600 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		osip_message_t *m = request(cases[i].headers);
		osip_contact_t *c = NULL;

		osip_message_get_contact(m, 0, &c);
		g_assert_cmpint(sip_reg_asked(m, c, 600, 3600), ==, cases[i].want);
		osip_message_free(m);
	}
}

static void test_granted(void)
{
	static const struct {
		const char *headers;
		int want;
	} cases[] = {
		{ "Contact: <sip:tok1@10.0.0.1>;expires=120\r\n", 120 },
		/* another UA's binding first, ours second */
		{ "Contact: <sip:other@10.0.0.9>;expires=30, <sip:tok1@10.0.0.1>;expires=90\r\n",
		  90 },
		{ "Contact: <sip:tok1@10.0.0.1>\r\nExpires: 200\r\n", 200 },
		{ "Contact: <sip:tok1@10.0.0.1>\r\n", 300 },
		{ "Expires: 60\r\n", 60 },
		{ "", 300 },
		/* bindings listed, ours not among them: dropped */
		{ "Contact: <sip:other@10.0.0.9>;expires=30\r\n", -1 },
		{ "Contact: <sip:other@10.0.0.9>;expires=30\r\nExpires: 60\r\n", -1 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		osip_message_t *m = parse("SIP/2.0 200 OK", cases[i].headers);

		g_assert_cmpint(sip_reg_granted(m, "tok1", 300), ==, cases[i].want);
		osip_message_free(m);
	}
}

static void test_refresh_and_status(void)
{
	static const struct {
		int code, want;
	} cases[] = {
		{ 403, 403 }, { 404, 403 }, { 401, 403 }, { 407, 403 }, { 408, 504 },
		{ 0, 504 },   { 500, 503 }, { 503, 503 }, { 603, 503 },
	};

	g_assert_cmpint(sip_reg_refresh_after(3600), ==, 1800);
	g_assert_cmpint(sip_reg_refresh_after(7), ==, 5);
	g_assert_cmpint(sip_reg_refresh_after(0), ==, 5);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *why = NULL;

		g_assert_cmpint(sip_reg_browser_status(cases[i].code, &why), ==, cases[i].want);
		g_assert_nonnull(why);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	sip_msg_init();
	g_test_add_func("/sip_reg/flow_id", test_flow_id);
	g_test_add_func("/sip_reg/asked", test_asked);
	g_test_add_func("/sip_reg/granted", test_granted);
	g_test_add_func("/sip_reg/refresh_and_status", test_refresh_and_status);
	return g_test_run();
}
