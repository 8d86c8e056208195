/* STUN FINGERPRINT and MESSAGE-INTEGRITY(-SHA256), long-term keys, USERHASH (RFC 8489 §9, §14). */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "relay/stun_msg.h"
#include "relay/stun_priv.h"

#define FINGERPRINT_XOR 0x5354554eu

/* CRC-32 (ISO 3309, reflected polynomial 0xEDB88320), four bits at a time. */
uint32_t stun_fingerprint(const uint8_t *buf, size_t len)
{
	static const uint32_t nibble[16] = {
		0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
		0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
		0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
	};
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= buf[i];
		crc = (crc >> 4) ^ nibble[crc & 0x0f];
		crc = (crc >> 4) ^ nibble[crc & 0x0f];
	}
	return (crc ^ 0xffffffffu) ^ FINGERPRINT_XOR;
}

int stun_hmac(int sha256, const uint8_t *key, size_t keylen, const uint8_t *buf, size_t len,
              uint16_t hdr_len, uint8_t out[32])
{
	OSSL_PARAM params[2];
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	uint8_t head[4];
	size_t outlen = 0;
	int rc = EPROTO;

	/* an empty key is valid HMAC input; OpenSSL wants a non-NULL pointer */
	static const uint8_t empty = 0;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	                                             sha256 ? "SHA256" : "SHA1", 0);
	params[1] = OSSL_PARAM_construct_end();
	memcpy(head, buf, 2);
	stun_put16(head + 2, hdr_len);
	if (ctx && EVP_MAC_init(ctx, keylen ? key : &empty, keylen, params) &&
	    EVP_MAC_update(ctx, head, sizeof(head)) && EVP_MAC_update(ctx, buf + 4, len - 4) &&
	    EVP_MAC_final(ctx, out, &outlen, 32))
		rc = 0;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

int stun_msg_check_fingerprint(const struct stun_msg *m)
{
	if (!m->fp_off)
		return ENOENT;
	/* the header length already ends with FINGERPRINT, as sent */
	return stun_fingerprint(m->buf, m->fp_off) == stun_get32(m->buf + m->fp_off + 4) ? 0
	                                                                                 : EBADMSG;
}

static int check_mac(const struct stun_msg *m, size_t off, int sha256, const uint8_t *key,
                     size_t keylen)
{
	uint8_t mac[32];
	uint16_t alen;

	if (!off)
		return ENOENT;
	alen = stun_get16(m->buf + off + 2);
	/* the length field counts up to the end of this attribute */
	if (stun_hmac(sha256, key, keylen, m->buf, off,
	              (uint16_t)(off + 4 + alen - STUN_HEADER_LEN), mac))
		return EACCES;
	return CRYPTO_memcmp(mac, m->buf + off + 4, alen) == 0 ? 0 : EACCES;
}

int stun_msg_check_integrity(const struct stun_msg *m, const uint8_t *key, size_t keylen)
{
	return check_mac(m, m->mi_off, 0, key, keylen);
}

int stun_msg_check_integrity_sha256(const struct stun_msg *m, const uint8_t *key, size_t keylen)
{
	return check_mac(m, m->mi256_off, 1, key, keylen);
}

static int digest(const EVP_MD *md, const char *const *parts, size_t n, uint8_t *out,
                  unsigned *outlen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL);

	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
	ok = ok && EVP_DigestFinal_ex(ctx, out, outlen);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : EPROTO;
}

int stun_key_long_term(enum stun_pw_alg alg, const char *user, const char *realm,
                       const char *password, uint8_t key[32], size_t *keylen)
{
	const char *parts[] = { user, ":", realm, ":", password };
	unsigned n = 0;
	int rc;

	if (alg != STUN_PW_MD5 && alg != STUN_PW_SHA256)
		return EINVAL;
	rc = digest(alg == STUN_PW_MD5 ? EVP_md5() : EVP_sha256(), parts, 5, key, &n);
	if (!rc)
		*keylen = n;
	return rc;
}

int stun_userhash(const char *user, const char *realm, uint8_t out[32])
{
	const char *parts[] = { user, ":", realm };
	unsigned n = 0;

	return digest(EVP_sha256(), parts, 3, out, &n);
}
