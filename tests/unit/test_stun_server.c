/* Unit tests for relay/stun_server: Binding answers, error answers, no amplification. */
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>

#include "relay/stun_msg.h"
#include "relay/stun_server.h"

static const struct stun_server_conf conf = { .software = "rtcgate test" };
static const uint8_t tid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static struct sockaddr_in6 client6(const char *ip, uint16_t port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	g_assert_cmpint(inet_pton(AF_INET6, ip, &s.sin6_addr), ==, 1);
	return s;
}

static size_t request(uint8_t *buf, size_t cap, uint16_t method, uint16_t cls, int fingerprint,
                      uint16_t extra_attr)
{
	static const char value[40] = "abcd";

	struct stun_enc e;
	size_t len = 0;

	stun_enc_start(&e, buf, cap, method, cls, tid);
	if (extra_attr)
		stun_enc_bytes(&e, extra_attr, value, extra_attr == 0xc0de ? 40 : 4);
	if (fingerprint)
		stun_enc_fingerprint(&e);
	g_assert_cmpint(stun_enc_end(&e, &len), ==, 0);
	return len;
}

/* Answer req from the client; decode the answer into m. */
static enum stun_result answer(const uint8_t *req, size_t len, const struct sockaddr *from,
                               uint8_t *out, struct stun_msg *m, size_t *outlen)
{
	enum stun_result r = stun_server_handle(&conf, req, len, from, out, 1500, outlen);

	if (*outlen) {
		g_assert_cmpint(stun_msg_decode(m, out, *outlen), ==, 0);
		g_assert_cmpmem(m->tid, 12, tid, 12);
		/* never much larger than what came in: address plus FINGERPRINT at most */
		g_assert_cmpuint(*outlen, <=, len + 24 + 8);
	}
	return r;
}

static void test_binding_mapped_v4(void)
{
	struct sockaddr_in6 from = client6("::ffff:192.0.2.7", 40000);
	struct sockaddr_storage got;
	uint8_t req[64], out[1500];
	struct stun_msg m;
	size_t len = request(req, sizeof(req), STUN_BINDING, STUN_REQUEST, 0, 0), outlen;

	g_assert_cmpint(answer(req, len, (struct sockaddr *)&from, out, &m, &outlen), ==,
	                STUN_RES_BINDING);
	g_assert_cmpuint(m.cls, ==, STUN_SUCCESS);
	g_assert_cmpint(stun_attr_xaddr(&m, stun_msg_attr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), &got),
	                ==, 0);
	/* a v4-mapped client is told its IPv4 address */
	g_assert_cmpint(got.ss_family, ==, AF_INET);
	g_assert_cmphex(ntohl(((struct sockaddr_in *)&got)->sin_addr.s_addr), ==, 0xc0000207);
	g_assert_cmpuint(ntohs(((struct sockaddr_in *)&got)->sin_port), ==, 40000);
	/* a 20-byte request leaves no room for SOFTWARE, and had no FINGERPRINT */
	g_assert_null(stun_msg_attr(&m, STUN_ATTR_SOFTWARE));
	g_assert_null(stun_msg_attr(&m, STUN_ATTR_FINGERPRINT));
}

static void test_binding_v6_fingerprint_software(void)
{
	struct sockaddr_in6 from = client6("2001:db8::9", 3478);
	struct sockaddr_storage got;
	uint8_t req[128], out[1500];
	struct stun_msg m;
	size_t len, outlen;

	/* a request padded to 72 bytes leaves room for SOFTWARE */
	len = request(req, sizeof(req), STUN_BINDING, STUN_REQUEST, 1, 0xc0de);
	g_assert_cmpint(answer(req, len, (struct sockaddr *)&from, out, &m, &outlen), ==,
	                STUN_RES_BINDING);
	g_assert_cmpint(stun_attr_xaddr(&m, stun_msg_attr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), &got),
	                ==, 0);
	g_assert_cmpint(got.ss_family, ==, AF_INET6);
	g_assert_cmpmem(&((struct sockaddr_in6 *)&got)->sin6_addr, 16, &from.sin6_addr, 16);
	g_assert_cmpint(stun_msg_check_fingerprint(&m), ==, 0);
	g_assert_nonnull(stun_msg_attr(&m, STUN_ATTR_SOFTWARE));
	g_assert_cmpmem(stun_msg_attr(&m, STUN_ATTR_SOFTWARE)->val, 12, "rtcgate test", 12);
}

static void test_errors(void)
{
	static const struct {
		const char *name;
		uint16_t method, cls, attr;
		enum stun_result res;
		int code;
	} cases[] = {
		{ "unknown comprehension-required", STUN_BINDING, STUN_REQUEST, 0x0031,
		  STUN_RES_UNKNOWN_ATTR, 420 },
		{ "unknown optional is fine", STUN_BINDING, STUN_REQUEST, 0x8031, STUN_RES_BINDING,
		  0 },
		{ "Allocate not served yet", STUN_ALLOCATE, STUN_REQUEST, 0, STUN_RES_UNSUPPORTED,
		  400 },
		{ "indication", STUN_BINDING, STUN_INDICATION, 0, STUN_RES_IGNORED, 0 },
		{ "response", STUN_BINDING, STUN_SUCCESS, 0, STUN_RES_IGNORED, 0 },
	};
	struct sockaddr_in6 from = client6("2001:db8::1", 1);

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint8_t req[64], out[1500];
		struct stun_msg m;
		size_t len = request(req, sizeof(req), cases[i].method, cases[i].cls, 0,
		                     cases[i].attr),
		       outlen;
		const char *reason;
		size_t rlen;
		int code = 0;

		g_test_message("case: %s", cases[i].name);
		g_assert_cmpint(answer(req, len, (struct sockaddr *)&from, out, &m, &outlen), ==,
		                cases[i].res);
		if (cases[i].code) {
			g_assert_cmpuint(m.cls, ==, STUN_ERROR);
			g_assert_cmpint(stun_attr_error(stun_msg_attr(&m, STUN_ATTR_ERROR_CODE),
			                                &code, &reason, &rlen),
			                ==, 0);
			g_assert_cmpint(code, ==, cases[i].code);
		}
		if (cases[i].code == 420) {
			const struct stun_attr *u = stun_msg_attr(&m, STUN_ATTR_UNKNOWN_ATTRIBUTES);

			g_assert_nonnull(u);
			g_assert_cmpmem(u->val, u->len, "\x00\x31", 2);
		}
		if (cases[i].res == STUN_RES_IGNORED)
			g_assert_cmpuint(outlen, ==, 0);
	}
}

static void test_malformed_and_garbage(void)
{
	struct sockaddr_in6 from = client6("::1", 5);
	uint8_t req[64], out[1500];
	struct stun_msg m;
	size_t len = request(req, sizeof(req), STUN_BINDING, STUN_REQUEST, 1, 0), outlen;

	/* a request whose FINGERPRINT is wrong gets 400 */
	req[len - 1] ^= 0xff;
	g_assert_cmpint(answer(req, len, (struct sockaddr *)&from, out, &m, &outlen), ==,
	                STUN_RES_BAD_REQUEST);
	g_assert_cmpuint(m.cls, ==, STUN_ERROR);

	/* a STUN request header over a body that does not parse gets 400 */
	len = request(req, sizeof(req), STUN_BINDING, STUN_REQUEST, 0, STUN_ATTR_PRIORITY);
	req[23] = 9; /* PRIORITY claims 9 bytes */
	req[3] = 12;
	g_assert_cmpint(answer(req, len - 4, (struct sockaddr *)&from, out, &m, &outlen), ==,
	                STUN_RES_BAD_REQUEST);

	/* not STUN at all, or a response header: silence */
	g_assert_cmpint(answer((const uint8_t *)"GET / HTTP/1.1\r\n\r\n\0\0\0\0", 22,
	                       (struct sockaddr *)&from, out, &m, &outlen),
	                ==, STUN_RES_NOT_STUN);
	g_assert_cmpuint(outlen, ==, 0);
	g_assert_cmpint(answer(req, 3, (struct sockaddr *)&from, out, &m, &outlen), ==,
	                STUN_RES_NOT_STUN);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/stun-server/binding-mapped-v4", test_binding_mapped_v4);
	g_test_add_func("/stun-server/binding-v6-fingerprint",
	                test_binding_v6_fingerprint_software);
	g_test_add_func("/stun-server/errors", test_errors);
	g_test_add_func("/stun-server/malformed-and-garbage", test_malformed_and_garbage);
	return g_test_run();
}
