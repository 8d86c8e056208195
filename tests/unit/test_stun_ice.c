/* Unit tests for the ICE-lite check answer: RFC 5769's short-term request, built checks, hostile
 * ones. */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>

#include "relay/stun_ice.h"
#include "relay/stun_msg.h"

#include "rfc5769.h"

#define pwd short_term_pw
static const uint8_t tid[STUN_TID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static size_t hex(const char *s, uint8_t *out)
{
	size_t n = 0;

	for (; s[0] && s[1]; s += 2)
		out[n++] = (uint8_t)(g_ascii_xdigit_value(s[0]) << 4 | g_ascii_xdigit_value(s[1]));
	return n;
}

static struct sockaddr_in v4(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	g_assert_cmpint(inet_pton(AF_INET, ip, &a.sin_addr), ==, 1);
	return a;
}

enum { NO_FP = 1, NO_MI = 2, CONTROLLED = 4, USE = 8, UNKNOWN = 16, BAD_FP = 32 };

/* A check as a browser sends it, with the parts flags leave out or change. */
static size_t check(uint8_t *buf, size_t cap, const char *user, const char *key, unsigned flags)
{
	struct stun_enc e;
	size_t len;

	stun_enc_start(&e, buf, cap, STUN_BINDING, STUN_REQUEST, tid);
	stun_enc_bytes(&e, STUN_ATTR_USERNAME, user, strlen(user));
	stun_enc_u32(&e, STUN_ATTR_PRIORITY, 0x6e7f1eff);
	stun_enc_bytes(&e,
	               flags & CONTROLLED ? STUN_ATTR_ICE_CONTROLLED : STUN_ATTR_ICE_CONTROLLING,
	               "12345678", 8);
	if (flags & USE)
		stun_enc_bytes(&e, STUN_ATTR_USE_CANDIDATE, NULL, 0);
	if (flags & UNKNOWN)
		stun_enc_u32(&e, 0x0077, 1); /* comprehension-required, not ours */
	if (!(flags & NO_MI))
		stun_enc_integrity(&e, (const uint8_t *)key, strlen(key));
	if (!(flags & NO_FP))
		stun_enc_fingerprint(&e);
	g_assert_cmpint(stun_enc_end(&e, &len), ==, 0);
	if (flags & BAD_FP)
		buf[len - 1] ^= 1;
	return len;
}

static void test_answer(void)
{
	uint8_t req[512], out[512];
	struct sockaddr_in from = v4("192.0.2.7", 54321);
	struct sockaddr_storage mapped;
	struct stun_ice_check chk;
	struct stun_msg m;
	size_t len = check(req, sizeof(req), "evtj:h6vY", pwd, USE), olen;

	g_assert_cmpint(stun_ice_answer(req, len, "evtj", pwd, (struct sockaddr *)&from, out,
	                                sizeof(out), &olen, &chk),
	                ==, 0);
	g_assert_true(chk.use_candidate);
	g_assert_cmpuint(chk.priority, ==, 0x6e7f1eff);
	g_assert_cmpint(stun_msg_decode(&m, out, olen), ==, 0);
	g_assert_cmpint(m.cls, ==, STUN_SUCCESS);
	g_assert_cmpint(m.method, ==, STUN_BINDING);
	g_assert_cmpmem(m.tid, STUN_TID_LEN, tid, STUN_TID_LEN);
	g_assert_cmpint(
	        stun_attr_xaddr(&m, stun_msg_attr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), &mapped), ==,
	        0);
	g_assert_cmpmem(&mapped, sizeof(from), &from, sizeof(from));
	g_assert_cmpint(stun_msg_check_integrity(&m, (const uint8_t *)pwd, strlen(pwd)), ==, 0);
	g_assert_cmpint(stun_msg_check_integrity(&m, (const uint8_t *)"other", 5), ==, EACCES);
	g_assert_cmpint(stun_msg_check_fingerprint(&m), ==, 0);
	/* no larger than what a consent check is worth: no amplifier */
	g_assert_cmpuint(olen, <=, len + 32);

	/* a consent check without USE-CANDIDATE, from IPv6 */
	struct sockaddr_in6 f6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	inet_pton(AF_INET6, "2001:db8::5", &f6.sin6_addr);
	len = check(req, sizeof(req), "evtj:x", pwd, 0);
	g_assert_cmpint(stun_ice_answer(req, len, "evtj", pwd, (struct sockaddr *)&f6, out,
	                                sizeof(out), &olen, &chk),
	                ==, 0);
	g_assert_false(chk.use_candidate);
	g_assert_cmpint(stun_msg_decode(&m, out, olen), ==, 0);
	g_assert_cmpint(
	        stun_attr_xaddr(&m, stun_msg_attr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), &mapped), ==,
	        0);
	g_assert_cmpmem(&mapped, sizeof(f6), &f6, sizeof(f6));
}

/* RFC 5769 §2.1 verifies with its password but says ICE-CONTROLLED: not for a lite agent. */
static void test_rfc5769(void)
{
	uint8_t req[256], out[256];
	struct sockaddr_in from = v4("192.0.2.1", 32853);
	struct stun_ice_check chk;
	size_t len = hex(rfc5769_request, req), olen = 0;

	g_assert_cmpint(stun_ice_answer(req, len, "evtj", pwd, (struct sockaddr *)&from, out,
	                                sizeof(out), &olen, &chk),
	                ==, EPROTO);
	g_assert_cmpint(stun_ice_answer(req, len, "evtj", "VOkJxbRl1RmTxUk/WvJxBu",
	                                (struct sockaddr *)&from, out, sizeof(out), &olen, &chk),
	                ==, EACCES);
	g_assert_cmpint(stun_ice_answer(req, len, "h6vY", pwd, (struct sockaddr *)&from, out,
	                                sizeof(out), &olen, &chk),
	                ==, EACCES);
	g_assert_cmpuint(olen, ==, 0);
}

static void test_hostile(void)
{
	static const struct {
		const char *user, *key;
		unsigned flags;
		int rc;
	} cases[] = {
		{ "evtj:h6vY", pwd, NO_FP, EBADMSG },
		{ "evtj:h6vY", pwd, BAD_FP, EBADMSG },
		{ "evtj:h6vY", pwd, UNKNOWN, EBADMSG },
		{ "evtj:h6vY", pwd, NO_MI, EACCES },
		{ "evtj:h6vY", "wrong", 0, EACCES },
		{ "evtj", pwd, 0, EACCES },       /* no colon */
		{ "evt:h6vY", pwd, 0, EACCES },   /* a prefix of ours */
		{ "evtjX:h6vY", pwd, 0, EACCES }, /* ours as a prefix */
		{ ":evtj", pwd, 0, EACCES },
		{ "evtj:h6vY", pwd, CONTROLLED, EPROTO },
	};
	uint8_t req[512], out[512];
	struct sockaddr_in from = v4("192.0.2.7", 1);
	struct stun_ice_check chk;
	struct stun_enc e;
	size_t len, olen;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		len = check(req, sizeof(req), cases[i].user, cases[i].key, cases[i].flags);
		g_assert_cmpint(stun_ice_answer(req, len, "evtj", pwd, (struct sockaddr *)&from,
		                                out, sizeof(out), &olen, &chk),
		                ==, cases[i].rc);
	}
	/* truncated at every length, and an empty ufrag of ours matches nothing */
	len = check(req, sizeof(req), "evtj:h6vY", pwd, USE);
	for (size_t n = 0; n < len; n++)
		g_assert_cmpint(stun_ice_answer(req, n, "evtj", pwd, (struct sockaddr *)&from, out,
		                                sizeof(out), &olen, &chk),
		                ==, EBADMSG);
	g_assert_cmpint(stun_ice_answer(req, len, "", pwd, (struct sockaddr *)&from, out,
	                                sizeof(out), &olen, &chk),
	                ==, EACCES);
	/* no room for the answer */
	g_assert_cmpint(stun_ice_answer(req, len, "evtj", pwd, (struct sockaddr *)&from, out, 40,
	                                &olen, &chk),
	                ==, EBADMSG);
	/* a response, an indication, another method: not checks */
	stun_enc_start(&e, req, sizeof(req), STUN_BINDING, STUN_SUCCESS, tid);
	stun_enc_fingerprint(&e);
	g_assert_cmpint(stun_enc_end(&e, &len), ==, 0);
	g_assert_cmpint(stun_ice_answer(req, len, "evtj", pwd, (struct sockaddr *)&from, out,
	                                sizeof(out), &olen, &chk),
	                ==, EBADMSG);
	stun_enc_start(&e, req, sizeof(req), STUN_BINDING, STUN_INDICATION, tid);
	stun_enc_fingerprint(&e);
	g_assert_cmpint(stun_enc_end(&e, &len), ==, 0);
	g_assert_cmpint(stun_ice_answer(req, len, "evtj", pwd, (struct sockaddr *)&from, out,
	                                sizeof(out), &olen, &chk),
	                ==, EBADMSG);
	stun_enc_start(&e, req, sizeof(req), STUN_ALLOCATE, STUN_REQUEST, tid);
	stun_enc_bytes(&e, STUN_ATTR_USERNAME, "evtj:h6vY", 9);
	stun_enc_integrity(&e, (const uint8_t *)pwd, strlen(pwd));
	stun_enc_fingerprint(&e);
	g_assert_cmpint(stun_enc_end(&e, &len), ==, 0);
	g_assert_cmpint(stun_ice_answer(req, len, "evtj", pwd, (struct sockaddr *)&from, out,
	                                sizeof(out), &olen, &chk),
	                ==, EBADMSG);
	/* RTP and DTLS bytes */
	memset(req, 0x80, 64);
	g_assert_cmpint(stun_ice_answer(req, 64, "evtj", pwd, (struct sockaddr *)&from, out,
	                                sizeof(out), &olen, &chk),
	                ==, EBADMSG);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/stun_ice/answer", test_answer);
	g_test_add_func("/stun_ice/rfc5769", test_rfc5769);
	g_test_add_func("/stun_ice/hostile", test_hostile);
	return g_test_run();
}
