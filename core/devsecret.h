/* Stored forms of a device's web secret: digest HA1 values (RFC 7616, RFC 8760) and PBKDF2. Pure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEVSECRET_SALT_LEN   16
#define DEVSECRET_ITERATIONS 20000
#define DEVSECRET_MD5_HEX    33 /* 32 hex digits and NUL */
#define DEVSECRET_SHA256_HEX 65

enum devsecret_alg {
	DEVSECRET_MD5,
	DEVSECRET_SHA256,
};

/*
 * HA1 = H(login ":" realm ":" secret) in lower-case hex into out (capacity
 * cap: DEVSECRET_MD5_HEX or DEVSECRET_SHA256_HEX). That is what a SIP or
 * HTTP digest check needs (RFC 7616 §3.4.2), so the secret itself is never
 * kept. Returns 0, ENOSPC when cap is too small, or EIO.
 */
int devsecret_ha1(enum devsecret_alg alg, const char *login, const char *realm, const char *secret,
                  char *out, size_t cap);

/*
 * "pbkdf2-sha256$<iterations>$<base64 salt>$<base64 key>" for an HTTP Basic
 * check: PBKDF2-HMAC-SHA256 (RFC 8018) of secret with the caller's random
 * salt. Returns a g_malloc'd string, or NULL on failure.
 */
char *devsecret_hash(const char *secret, const uint8_t *salt, size_t salt_len, unsigned iterations);

/*
 * True when secret matches encoded (made by devsecret_hash); the key is
 * compared in constant time. A malformed encoded value matches nothing.
 */
bool devsecret_verify(const char *secret, const char *encoded);
