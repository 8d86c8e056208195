/* Stored forms of a device's web secret: digest HA1 values (RFC 7616, RFC 8760) and PBKDF2. Pure.
 */
#include "core/devsecret.h"

#include <errno.h>
#include <glib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define KEY_LEN        32
#define MAX_ITERATIONS 10000000u
#define PREFIX         "pbkdf2-sha256$"

int devsecret_ha1(enum devsecret_alg alg, const char *login, const char *realm, const char *secret,
                  char *out, size_t cap)
{
	const EVP_MD *md = alg == DEVSECRET_MD5 ? EVP_md5() : EVP_sha256();
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	EVP_MD_CTX *ctx;
	int ok;

	if (cap < (size_t)EVP_MD_get_size(md) * 2 + 1)
		return ENOSPC;
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) &&
	     EVP_DigestUpdate(ctx, login, strlen(login)) && EVP_DigestUpdate(ctx, ":", 1) &&
	     EVP_DigestUpdate(ctx, realm, strlen(realm)) && EVP_DigestUpdate(ctx, ":", 1) &&
	     EVP_DigestUpdate(ctx, secret, strlen(secret)) && EVP_DigestFinal_ex(ctx, h, &hlen);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return EIO;
	for (unsigned int i = 0; i < hlen; i++)
		g_snprintf(out + 2 * i, cap - 2 * i, "%02x", h[i]);
	OPENSSL_cleanse(h, sizeof(h));
	return 0;
}

static bool derive(const char *secret, const uint8_t *salt, size_t salt_len, unsigned iterations,
                   uint8_t key[KEY_LEN])
{
	return PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), salt, (int)salt_len, (int)iterations,
	                         EVP_sha256(), KEY_LEN, key) == 1;
}

char *devsecret_hash(const char *secret, const uint8_t *salt, size_t salt_len, unsigned iterations)
{
	uint8_t key[KEY_LEN];
	gchar *s64, *k64, *out;

	if (!iterations || iterations > MAX_ITERATIONS || !salt_len || salt_len > 64 ||
	    !derive(secret, salt, salt_len, iterations, key))
		return NULL;
	s64 = g_base64_encode(salt, salt_len);
	k64 = g_base64_encode(key, sizeof(key));
	out = g_strdup_printf(PREFIX "%u$%s$%s", iterations, s64, k64);
	OPENSSL_cleanse(key, sizeof(key));
	g_free(s64);
	g_free(k64);
	return out;
}

/* Split "<iterations>$<salt>$<key>"; false on anything malformed. */
static bool parse(const char *enc, unsigned *iterations, guchar **salt, gsize *salt_len,
                  guchar **key, gsize *key_len)
{
	gchar **parts;
	char *end = NULL;
	unsigned long it;
	bool ok;

	if (strncmp(enc, PREFIX, strlen(PREFIX)) != 0)
		return false;
	parts = g_strsplit(enc + strlen(PREFIX), "$", -1);
	ok = g_strv_length(parts) == 3 && *parts[0] && *parts[1] && *parts[2];
	if (ok) {
		it = strtoul(parts[0], &end, 10);
		ok = *end == '\0' && it >= 1 && it <= MAX_ITERATIONS;
		*iterations = (unsigned)it;
	}
	if (ok) {
		*salt = g_base64_decode(parts[1], salt_len);
		*key = g_base64_decode(parts[2], key_len);
		ok = *salt_len > 0 && *salt_len <= 64 && *key_len == KEY_LEN;
		if (!ok) {
			g_free(*salt);
			g_free(*key);
		}
	}
	g_strfreev(parts);
	return ok;
}

bool devsecret_verify(const char *secret, const char *encoded)
{
	unsigned iterations = 0;
	guchar *salt = NULL, *want = NULL;
	gsize salt_len = 0, want_len = 0;
	uint8_t key[KEY_LEN];
	bool ok;

	if (!encoded || !parse(encoded, &iterations, &salt, &salt_len, &want, &want_len))
		return false;
	ok = derive(secret, salt, salt_len, iterations, key) &&
	     CRYPTO_memcmp(key, want, KEY_LEN) == 0;
	OPENSSL_cleanse(key, sizeof(key));
	g_free(salt);
	g_free(want);
	return ok;
}
