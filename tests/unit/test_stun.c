/* Unit tests for the STUN codec: RFC 5769 vectors, encoder round trips, hostile input. */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>

#include "relay/stun_msg.h"

#include "rfc5769.h"

/* RFC 5769 §2.2-2.4, byte for byte */
static const char rfc5769_ipv4[] = "0101003c2112a442b7e7a701bc34d686fa87dfae"
                                   "8022000b7465737420766563746f7220"
                                   "002000080001a147e112a643"
                                   "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
                                   "80280004c07d4c96";
static const char rfc5769_ipv6[] = "010100482112a442b7e7a701bc34d686fa87dfae"
                                   "8022000b7465737420766563746f7220"
                                   "002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9"
                                   "00080014a382954e4be67bf11784c97c8292c275bfe3ed41"
                                   "80280004c8fb0b4c";
static const char rfc5769_long_term[] = "000100602112a44278ad3433c6ad72c029da412e"
                                        "00060012e3839ee38388e383aae38383e382afe382b90000"
                                        "0015001c662f2f3439396b39353464364f4c3334"
                                        "6f4c39465354767936347341"
                                        "0014000b6578616d706c652e6f726700"
                                        "00080014f67024656dd64a3e02b8e0712e85c9a28ca89666";
static const char lt_user[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf"
                              "\xe3\x82\xb9";

static GBytes *hex(const char *s)
{
	GByteArray *b = g_byte_array_new();

	for (; s[0] && s[1]; s += 2) {
		guint8 v = (guint8)(g_ascii_xdigit_value(s[0]) << 4 | g_ascii_xdigit_value(s[1]));

		g_byte_array_append(b, &v, 1);
	}
	return g_byte_array_free_to_bytes(b);
}

static void decode_ok(struct stun_msg *m, GBytes *b)
{
	gsize n;
	const guint8 *p = g_bytes_get_data(b, &n);

	g_assert_cmpint(stun_msg_decode(m, p, n), ==, 0);
}

static void assert_str_attr(const struct stun_msg *m, uint16_t type, const char *want)
{
	const struct stun_attr *a = stun_msg_attr(m, type);

	g_assert_nonnull(a);
	g_assert_cmpuint(a->len, ==, strlen(want));
	g_assert_cmpmem(a->val, a->len, want, strlen(want));
}

static void test_rfc5769_request(void)
{
	GBytes *b = hex(rfc5769_request);
	struct stun_msg m;
	uint32_t prio;

	/* 20-byte header plus 88 bytes of attributes */
	g_assert_cmpuint(g_bytes_get_size(b), ==, 108);
	decode_ok(&m, b);
	g_assert_cmpuint(m.method, ==, STUN_BINDING);
	g_assert_cmpuint(m.cls, ==, STUN_REQUEST);
	assert_str_attr(&m, STUN_ATTR_SOFTWARE, "STUN test client");
	assert_str_attr(&m, STUN_ATTR_USERNAME, "evtj:h6vY");
	g_assert_cmpint(stun_attr_u32(stun_msg_attr(&m, STUN_ATTR_PRIORITY), &prio), ==, 0);
	g_assert_cmphex(prio, ==, 0x6e0001ff);
	g_assert_nonnull(stun_msg_attr(&m, STUN_ATTR_ICE_CONTROLLED));
	g_assert_cmpuint(m.nunknown, ==, 0);
	g_assert_cmpint(stun_msg_check_fingerprint(&m), ==, 0);
	g_assert_cmpint(
	        stun_msg_check_integrity(&m, (const uint8_t *)short_term_pw, strlen(short_term_pw)),
	        ==, 0);
	g_assert_cmpint(stun_msg_check_integrity(&m, (const uint8_t *)"wrong", 5), ==, EACCES);
	g_assert_cmpint(stun_msg_check_integrity_sha256(&m, (const uint8_t *)"x", 1), ==, ENOENT);
	g_bytes_unref(b);
}

static void check_response(const char *vector, int family, const char *ip)
{
	GBytes *b = hex(vector);
	struct stun_msg m;
	struct sockaddr_storage ss;
	char text[INET6_ADDRSTRLEN];
	const void *addr;
	uint16_t port;

	decode_ok(&m, b);
	g_assert_cmpuint(m.cls, ==, STUN_SUCCESS);
	assert_str_attr(&m, STUN_ATTR_SOFTWARE, "test vector");
	g_assert_cmpint(stun_attr_xaddr(&m, stun_msg_attr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), &ss),
	                ==, 0);
	g_assert_cmpint(ss.ss_family, ==, family);
	if (family == AF_INET) {
		addr = &((struct sockaddr_in *)&ss)->sin_addr;
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else {
		addr = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	g_assert_cmpstr(inet_ntop(family, addr, text, sizeof(text)), ==, ip);
	g_assert_cmpuint(port, ==, 32853);
	g_assert_cmpint(stun_msg_check_fingerprint(&m), ==, 0);
	g_assert_cmpint(
	        stun_msg_check_integrity(&m, (const uint8_t *)short_term_pw, strlen(short_term_pw)),
	        ==, 0);
	g_bytes_unref(b);
}

static void test_rfc5769_ipv4(void)
{
	check_response(rfc5769_ipv4, AF_INET, "192.0.2.1");
}

static void test_rfc5769_ipv6(void)
{
	check_response(rfc5769_ipv6, AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677");
}

static void test_rfc5769_long_term(void)
{
	GBytes *b = hex(rfc5769_long_term);
	struct stun_msg m;
	uint8_t key[32];
	size_t keylen = 0;

	decode_ok(&m, b);
	assert_str_attr(&m, STUN_ATTR_USERNAME, lt_user);
	assert_str_attr(&m, STUN_ATTR_NONCE, "f//499k954d6OL34oL9FSTvy64sA");
	assert_str_attr(&m, STUN_ATTR_REALM, "example.org");
	g_assert_cmpint(stun_msg_check_fingerprint(&m), ==, ENOENT);
	/* the password "The<U+00AD>M<U+00AA>tr<U+2168>" after SASLprep */
	g_assert_cmpint(
	        stun_key_long_term(STUN_PW_MD5, lt_user, "example.org", "TheMatrIX", key, &keylen),
	        ==, 0);
	g_assert_cmpuint(keylen, ==, 16);
	g_assert_cmpint(stun_msg_check_integrity(&m, key, keylen), ==, 0);
	g_bytes_unref(b);
}

/* Our encoder pads with zeros, as RFC 5769 §2.4 does: it must give the same bytes. */
static void test_encode_long_term(void)
{
	GBytes *want = hex(rfc5769_long_term);
	static const uint8_t tid[12] = { 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad,
		                         0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e };
	uint8_t buf[256], key[32];
	size_t keylen, len;
	struct stun_enc e;

	stun_key_long_term(STUN_PW_MD5, lt_user, "example.org", "TheMatrIX", key, &keylen);
	stun_enc_start(&e, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	stun_enc_bytes(&e, STUN_ATTR_USERNAME, lt_user, strlen(lt_user));
	stun_enc_bytes(&e, STUN_ATTR_NONCE, "f//499k954d6OL34oL9FSTvy64sA", 28);
	stun_enc_bytes(&e, STUN_ATTR_REALM, "example.org", 11);
	stun_enc_integrity(&e, key, keylen);
	g_assert_cmpint(stun_enc_end(&e, &len), ==, 0);
	g_assert_cmpmem(buf, len, g_bytes_get_data(want, NULL), g_bytes_get_size(want));
	g_bytes_unref(want);
}

static void test_encode_roundtrip(void)
{
	static const uint8_t tid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	struct sockaddr_in6 peer = { .sin6_family = AF_INET6, .sin6_port = htons(49152) };
	struct sockaddr_storage got;
	uint8_t buf[512], key[32];
	size_t keylen, len, rlen;
	struct stun_enc e;
	struct stun_msg m;
	const char *reason;
	int code;

	inet_pton(AF_INET6, "2001:db8::1", &peer.sin6_addr);
	stun_key_long_term(STUN_PW_SHA256, "alice", "rtcgate", "secret", key, &keylen);
	g_assert_cmpuint(keylen, ==, 32);
	stun_enc_start(&e, buf, sizeof(buf), STUN_ALLOCATE, STUN_ERROR, tid);
	stun_enc_error(&e, STUN_ERR_STALE_NONCE, "Stale Nonce");
	stun_enc_xaddr(&e, STUN_ATTR_XOR_PEER_ADDRESS, (struct sockaddr *)&peer);
	stun_enc_u32(&e, STUN_ATTR_LIFETIME, 600);
	stun_enc_unknown(&e, (const uint16_t[]){ 0x0031, 0x7777 }, 2);
	stun_enc_integrity(&e, key, keylen);
	stun_enc_integrity_sha256(&e, key, keylen);
	stun_enc_fingerprint(&e);
	g_assert_cmpint(stun_enc_end(&e, &len), ==, 0);
	g_assert_cmpuint(len % 4, ==, 0);

	g_assert_cmpint(stun_msg_decode(&m, buf, len), ==, 0);
	g_assert_cmpuint(m.method, ==, STUN_ALLOCATE);
	g_assert_cmpuint(m.cls, ==, STUN_ERROR);
	g_assert_cmpmem(m.tid, 12, tid, 12);
	g_assert_cmpint(
	        stun_attr_error(stun_msg_attr(&m, STUN_ATTR_ERROR_CODE), &code, &reason, &rlen), ==,
	        0);
	g_assert_cmpint(code, ==, 438);
	g_assert_cmpmem(reason, rlen, "Stale Nonce", 11);
	g_assert_cmpint(stun_attr_xaddr(&m, stun_msg_attr(&m, STUN_ATTR_XOR_PEER_ADDRESS), &got),
	                ==, 0);
	g_assert_cmpmem(&((struct sockaddr_in6 *)&got)->sin6_addr, 16, &peer.sin6_addr, 16);
	g_assert_cmpuint(((struct sockaddr_in6 *)&got)->sin6_port, ==, peer.sin6_port);
	g_assert_cmpint(stun_msg_check_integrity(&m, key, keylen), ==, 0);
	g_assert_cmpint(stun_msg_check_integrity_sha256(&m, key, keylen), ==, 0);
	g_assert_cmpint(stun_msg_check_integrity_sha256(&m, key, keylen - 1), ==, EACCES);
	g_assert_cmpint(stun_msg_check_fingerprint(&m), ==, 0);
	g_assert_true(stun_msg_is_stun(buf, len));
}

static void test_encode_errors(void)
{
	static const uint8_t tid[12] = { 0 };
	static const uint8_t data[64] = { 0 };
	struct sockaddr sa = { .sa_family = AF_UNIX };
	uint8_t buf[64];
	size_t len;
	struct stun_enc e;

	stun_enc_start(&e, buf, 10, STUN_BINDING, STUN_REQUEST, tid);
	g_assert_cmpint(stun_enc_end(&e, &len), ==, ENOBUFS);

	stun_enc_start(&e, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	stun_enc_bytes(&e, STUN_ATTR_DATA, data, 60); /* 20 + 4 + 60 > 64 */
	stun_enc_u32(&e, STUN_ATTR_LIFETIME, 1);      /* sticky: still the first error */
	g_assert_cmpint(stun_enc_end(&e, &len), ==, ENOBUFS);

	stun_enc_start(&e, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	stun_enc_error(&e, 99, "no");
	g_assert_cmpint(stun_enc_end(&e, &len), ==, EINVAL);

	stun_enc_start(&e, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	stun_enc_addr(&e, STUN_ATTR_MAPPED_ADDRESS, &sa);
	g_assert_cmpint(stun_enc_end(&e, &len), ==, EINVAL);

	/* exactly full is fine */
	stun_enc_start(&e, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	stun_enc_bytes(&e, STUN_ATTR_DATA, data, 40);
	g_assert_cmpint(stun_enc_end(&e, &len), ==, 0);
	g_assert_cmpuint(len, ==, 64);
}

/* Every prefix of a valid message is refused cleanly. */
static void test_truncated(void)
{
	GBytes *b = hex(rfc5769_request);
	gsize n;
	const guint8 *p = g_bytes_get_data(b, &n);
	struct stun_msg m;

	for (gsize i = 0; i < n; i++) {
		guint8 *copy = g_memdup2(p, i ? i : 1);

		g_assert_cmpint(stun_msg_decode(&m, copy, i), ==, EBADMSG);
		g_free(copy);
	}
	g_bytes_unref(b);
}

struct mutation {
	const char *name;
	size_t off;
	uint8_t val;
	int rc;
};

static void test_hostile(void)
{
	static const struct mutation cases[] = {
		{ "top bits set", 0, 0x40, EBADMSG },
		{ "no magic cookie (RFC 3489)", 4, 0x00, EPROTO },
		{ "length not a multiple of 4", 3, 0x57, EBADMSG },
		{ "length too long", 3, 0x5c, EBADMSG },
		{ "length too short", 3, 0x54, EBADMSG },
		{ "attribute overruns the message", 23, 0xff, EBADMSG },
		{ "PRIORITY of the wrong size", 43, 0x08, EBADMSG },
		{ "MESSAGE-INTEGRITY of the wrong size", 79, 0x10, EBADMSG },
	};
	GBytes *b = hex(rfc5769_request);
	gsize n;
	const guint8 *p = g_bytes_get_data(b, &n);

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		guint8 *copy = g_memdup2(p, n);
		struct stun_msg m = { .nattrs = 77 };

		g_test_message("case: %s", cases[i].name);
		copy[cases[i].off] = cases[i].val;
		g_assert_cmpint(stun_msg_decode(&m, copy, n), ==, cases[i].rc);
		g_assert_cmpuint(m.nattrs, ==, 77); /* untouched on error */
		g_free(copy);
	}
	g_bytes_unref(b);
}

static void test_bad_fingerprint(void)
{
	GBytes *b = hex(rfc5769_request);
	gsize n;
	guint8 *copy = g_memdup2(g_bytes_get_data(b, &n), g_bytes_get_size(b));
	struct stun_msg m;

	copy[30] ^= 1; /* inside SOFTWARE */
	g_assert_cmpint(stun_msg_decode(&m, copy, n), ==, 0);
	g_assert_cmpint(stun_msg_check_fingerprint(&m), ==, EBADMSG);
	g_assert_cmpint(
	        stun_msg_check_integrity(&m, (const uint8_t *)short_term_pw, strlen(short_term_pw)),
	        ==, EACCES);
	g_free(copy);
	g_bytes_unref(b);
}

/* RFC 8489 §14.5: after MESSAGE-INTEGRITY only MI-SHA256 and FINGERPRINT count. */
static void test_after_integrity(void)
{
	static const uint8_t tid[12] = { 9 };
	uint8_t buf[256];
	size_t len;
	struct stun_enc e;
	struct stun_msg m;

	stun_enc_start(&e, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	stun_enc_bytes(&e, 0x7001, "x", 1); /* unknown, comprehension-required */
	stun_enc_bytes(&e, 0xc001, "y", 1); /* unknown, comprehension-optional */
	stun_enc_integrity(&e, (const uint8_t *)"k", 1);
	stun_enc_bytes(&e, STUN_ATTR_USERNAME, "mallory", 7);
	stun_enc_bytes(&e, 0x7002, "z", 1);
	stun_enc_fingerprint(&e);
	stun_enc_bytes(&e, STUN_ATTR_REALM, "after-fp", 8);
	g_assert_cmpint(stun_enc_end(&e, &len), ==, 0);

	g_assert_cmpint(stun_msg_decode(&m, buf, len), ==, 0);
	g_assert_null(stun_msg_attr(&m, STUN_ATTR_USERNAME));
	g_assert_null(stun_msg_attr(&m, STUN_ATTR_REALM));
	g_assert_nonnull(stun_msg_attr(&m, STUN_ATTR_FINGERPRINT));
	g_assert_cmpuint(m.nunknown, ==, 1);
	g_assert_cmphex(m.unknown[0], ==, 0x7001);
	g_assert_cmpint(stun_msg_check_integrity(&m, (const uint8_t *)"k", 1), ==, 0);
}

static void test_too_many_attributes(void)
{
	static const uint8_t tid[12] = { 0 };
	uint8_t buf[1024];
	size_t len;
	struct stun_enc e;
	struct stun_msg m;

	stun_enc_start(&e, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	for (int i = 0; i <= STUN_MAX_ATTRS; i++)
		stun_enc_bytes(&e, STUN_ATTR_SOFTWARE, "x", 1);
	g_assert_cmpint(stun_enc_end(&e, &len), ==, 0);
	g_assert_cmpint(stun_msg_decode(&m, buf, len), ==, EBADMSG);
}

static void test_bad_values(void)
{
	struct stun_attr a = { .type = STUN_ATTR_XOR_MAPPED_ADDRESS, .len = 8 };
	uint8_t v[20] = { 0, 0x03, 0, 0 };
	struct sockaddr_storage ss;
	const char *r;
	size_t rl;
	int code;

	a.val = v;
	g_assert_cmpint(stun_attr_addr(&a, &ss), ==, EBADMSG); /* family 3 */
	v[1] = 0x02;                                           /* IPv6 with 4 address bytes */
	g_assert_cmpint(stun_attr_addr(&a, &ss), ==, EBADMSG);
	a.len = 4;
	v[2] = 0x07; /* ERROR-CODE class 7 */
	g_assert_cmpint(stun_attr_error(&a, &code, &r, &rl), ==, EBADMSG);
	v[2] = 0x04;
	v[3] = 100; /* number 100 */
	g_assert_cmpint(stun_attr_error(&a, &code, &r, &rl), ==, EBADMSG);
	g_assert_cmpint(stun_attr_u32(NULL, (uint32_t *)&code), ==, EBADMSG);
}

static void test_frame_len(void)
{
	GBytes *b = hex(rfc5769_request);
	gsize n;
	const guint8 *p = g_bytes_get_data(b, &n);
	size_t total = 0;

	g_assert_cmpint(stun_msg_frame_len(p, 19, &total), ==, ENODATA);
	g_assert_cmpint(stun_msg_frame_len(p, 20, &total), ==, 0);
	g_assert_cmpuint(total, ==, 108);
	g_assert_false(stun_msg_is_stun(p, n - 4));
	g_assert_false(stun_msg_is_stun((const uint8_t *)"\x80\x00\x00\x00", 4));
	g_bytes_unref(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/stun/rfc5769/request", test_rfc5769_request);
	g_test_add_func("/stun/rfc5769/ipv4-response", test_rfc5769_ipv4);
	g_test_add_func("/stun/rfc5769/ipv6-response", test_rfc5769_ipv6);
	g_test_add_func("/stun/rfc5769/long-term", test_rfc5769_long_term);
	g_test_add_func("/stun/encode/long-term-vector", test_encode_long_term);
	g_test_add_func("/stun/encode/roundtrip", test_encode_roundtrip);
	g_test_add_func("/stun/encode/errors", test_encode_errors);
	g_test_add_func("/stun/decode/truncated", test_truncated);
	g_test_add_func("/stun/decode/hostile", test_hostile);
	g_test_add_func("/stun/decode/bad-fingerprint", test_bad_fingerprint);
	g_test_add_func("/stun/decode/after-integrity", test_after_integrity);
	g_test_add_func("/stun/decode/too-many-attributes", test_too_many_attributes);
	g_test_add_func("/stun/decode/bad-values", test_bad_values);
	g_test_add_func("/stun/frame-len", test_frame_len);
	return g_test_run();
}
