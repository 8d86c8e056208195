/* TURN REST passwords and stateless, address-bound nonces (RFC 8489 §9.2, §18.6). */
#include "relay/turn_auth.h"

#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "relay/stun_priv.h"

#define NONCE_MAC_LEN 16
#define NONCE_RAW_LEN (8 + NONCE_MAC_LEN) /* base64: 32 characters */

static int hmac(const char *digest, const uint8_t *key, size_t keylen, const uint8_t *data,
                size_t len, uint8_t *out, unsigned *outlen)
{
	static const uint8_t empty = 0;
	const EVP_MD *md = EVP_get_digestbyname(digest);

	return md && HMAC(md, keylen ? key : &empty, (int)keylen, data, len, out, outlen) ? 0
	                                                                                  : EPROTO;
}

int turn_rest_password(const uint8_t *secret, size_t secret_len, const char *username, char *out,
                       size_t cap)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (cap < TURN_REST_PASSWORD_LEN + 1)
		return ENOBUFS;
	if (hmac("SHA1", secret, secret_len, (const uint8_t *)username, strlen(username), mac, &n))
		return EPROTO;
	EVP_EncodeBlock((unsigned char *)out, mac, (int)n);
	return 0;
}

int turn_rest_check(const char *username, uint64_t now, uint64_t *expiry, const char **user)
{
	uint64_t t = 0;
	const char *p = username;

	if (*p < '0' || *p > '9')
		return EBADMSG;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (t > (UINT64_MAX - 9) / 10)
			return EBADMSG;
		t = t * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '\0' && *p != ':')
		return EBADMSG;
	if (now >= t)
		return ETIME;
	*expiry = t;
	*user = *p ? p + 1 : p;
	return 0;
}

/* The bytes a nonce's MAC covers: expiry, features, family, port, address. */
static size_t nonce_input(uint64_t expiry, uint32_t features, const struct sockaddr *addr,
                          uint8_t *buf)
{
	size_t n = 0;

	for (int i = 7; i >= 0; i--)
		buf[n++] = (uint8_t)(expiry >> (8 * i));
	stun_put32(buf + n, features);
	n += 4;
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)addr;

		buf[n++] = 4;
		memcpy(buf + n, &s->sin_port, 2);
		memcpy(buf + n + 2, &s->sin_addr, 4);
		n += 6;
	} else if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)addr;

		buf[n++] = 6;
		memcpy(buf + n, &s->sin6_port, 2);
		memcpy(buf + n + 2, &s->sin6_addr, 16);
		n += 18;
	}
	return n;
}

static int nonce_mac(const uint8_t key[TURN_NONCE_KEY_LEN], uint64_t expiry, uint32_t features,
                     const struct sockaddr *addr, uint8_t mac[NONCE_MAC_LEN])
{
	uint8_t in[64], full[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (hmac("SHA256", key, TURN_NONCE_KEY_LEN, in, nonce_input(expiry, features, addr, in),
	         full, &n))
		return EPROTO;
	memcpy(mac, full, NONCE_MAC_LEN);
	return 0;
}

int turn_nonce_make(const uint8_t key[TURN_NONCE_KEY_LEN], uint64_t now, uint32_t ttl,
                    uint32_t features, const struct sockaddr *addr, char *out, size_t cap)
{
	uint8_t feat[3], raw[NONCE_RAW_LEN];
	uint64_t expiry = now + ttl;
	size_t n = sizeof(TURN_NONCE_COOKIE) - 1;

	if (cap < TURN_NONCE_LEN + 1)
		return ENOBUFS;
	for (int i = 7; i >= 0; i--)
		raw[7 - i] = (uint8_t)(expiry >> (8 * i));
	if (nonce_mac(key, expiry, features, addr, raw + 8))
		return EPROTO;
	feat[0] = (uint8_t)(features >> 16);
	feat[1] = (uint8_t)(features >> 8);
	feat[2] = (uint8_t)features;
	memcpy(out, TURN_NONCE_COOKIE, n);
	EVP_EncodeBlock((unsigned char *)out + n, feat, 3);
	EVP_EncodeBlock((unsigned char *)out + n + 4, raw, sizeof(raw));
	return 0;
}

int turn_nonce_check(const uint8_t key[TURN_NONCE_KEY_LEN], uint64_t now, const char *nonce,
                     size_t len, const struct sockaddr *addr)
{
	const size_t c = sizeof(TURN_NONCE_COOKIE) - 1;
	uint8_t feat[4], raw[NONCE_RAW_LEN + 2], mac[NONCE_MAC_LEN];
	char text[33];
	uint32_t features;
	uint64_t expiry = 0;

	if (len != TURN_NONCE_LEN || memcmp(nonce, TURN_NONCE_COOKIE, c) != 0)
		return EBADMSG;
	memcpy(text, nonce + c, 4);
	text[4] = '\0';
	if (EVP_DecodeBlock(feat, (const unsigned char *)text, 4) != 3)
		return EBADMSG;
	memcpy(text, nonce + c + 4, 32);
	text[32] = '\0';
	/* 32 characters decode to 24 bytes (EVP_DecodeBlock reports 24 for no padding) */
	if (EVP_DecodeBlock(raw, (const unsigned char *)text, 32) != NONCE_RAW_LEN)
		return EBADMSG;
	features = (uint32_t)feat[0] << 16 | (uint32_t)feat[1] << 8 | feat[2];
	for (int i = 0; i < 8; i++)
		expiry = expiry << 8 | raw[i];
	/* a MAC made for this expiry but another address is stale, not forged */
	if (nonce_mac(key, expiry, features, addr, mac))
		return EBADMSG;
	if (CRYPTO_memcmp(mac, raw + 8, NONCE_MAC_LEN) != 0)
		return ESTALE;
	return now < expiry ? 0 : ESTALE;
}
