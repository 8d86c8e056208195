/* Unit tests for signaling/sip_target: sip.pbx and sip.outbound_proxy values, ;srtp= included. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "signaling/sip_target.h"

static void test_good(void)
{
	static const struct {
		const char *in, *host;
		enum sip_transport t;
		uint16_t port;
		enum sip_srtp srtp;
	} cases[] = {
		{ "udp:pbx.example", "pbx.example", SIP_UDP, 5060, SIP_SRTP_OFF },
		{ "tcp:192.0.2.1:5080", "192.0.2.1", SIP_TCP, 5080, SIP_SRTP_OFF },
		{ "tls:pbx.example", "pbx.example", SIP_TLS, 5061, SIP_SRTP_OFF },
		{ "tls:[2001:db8::1]:5071;srtp=sdes", "2001:db8::1", SIP_TLS, 5071, SIP_SRTP_SDES },
		{ "tls:pbx.example;srtp=optional", "pbx.example", SIP_TLS, 5061,
		  SIP_SRTP_OPTIONAL },
		{ "udp:pbx.example;srtp=optional", "pbx.example", SIP_UDP, 5060,
		  SIP_SRTP_OPTIONAL },
		{ "udp:pbx.example:5062;srtp=off", "pbx.example", SIP_UDP, 5062, SIP_SRTP_OFF },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct sip_target t;
		char *why = NULL;

		g_test_message("%s", cases[i].in);
		g_assert_cmpint(sip_target_parse(cases[i].in, &t, &why), ==, 0);
		g_assert_null(why);
		g_assert_cmpstr(t.host, ==, cases[i].host);
		g_assert_cmpint(t.transport, ==, cases[i].t);
		g_assert_cmpuint(t.port, ==, cases[i].port);
		g_assert_cmpint(t.srtp, ==, cases[i].srtp);
	}
	g_assert_cmpstr(sip_srtp_name(SIP_SRTP_SDES), ==, "sdes");
}

static void test_bad(void)
{
	static const struct {
		const char *in, *reason;
	} cases[] = {
		{ "udp:pbx.example;srtp=sdes", "srtp=sdes needs tls:" },
		{ "tcp:pbx.example;srtp=sdes", "srtp=sdes needs tls:" },
		{ "tls:pbx.example;srtp=maybe", "unknown parameter" },
		{ "tls:pbx.example;", "unknown parameter" },
		{ "tls:pbx.example;transport=udp", "unknown parameter" },
		{ "sctp:pbx.example", "unknown transport" },
		{ "udp:", "no host" },
		{ "udp:pbx.example:0", "is not a port" },
		{ "udp:pbx.example:65536", "is not a port" },
		{ "udp:pbx_example", "is not a host name" },
		{ "tls:[2001:db8::1", "brackets" },
		{ ";srtp=sdes", "is not udp:" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct sip_target t;
		char *why = NULL;

		g_test_message("%s", cases[i].in);
		g_assert_cmpint(sip_target_parse(cases[i].in, &t, &why), ==, EINVAL);
		g_assert_nonnull(why);
		g_assert_nonnull(strstr(why, cases[i].reason));
		g_free(why);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sip_target/good", test_good);
	g_test_add_func("/sip_target/bad", test_bad);
	return g_test_run();
}
