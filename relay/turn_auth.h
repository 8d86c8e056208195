/* TURN credentials: REST ephemeral passwords (draft-uberti-behave-turn-rest, coturn's
 * use-auth-secret) and stateless nonces with the RFC 8489 §9.2 security-feature cookie. Pure. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* base64(HMAC-SHA1) is 28 characters */
#define TURN_REST_PASSWORD_LEN 28

/*
 * The password for a TURN REST username: base64(HMAC-SHA1(secret, username))
 * into out (cap >= TURN_REST_PASSWORD_LEN + 1, NUL-terminated). 0, ENOBUFS or EPROTO.
 */
int turn_rest_password(const uint8_t *secret, size_t secret_len, const char *username, char *out,
                       size_t cap);

/*
 * A REST username is "<unix-expiry>" or "<unix-expiry>:<user>". Returns 0
 * when it is one and now < expiry (then *expiry, and *user pointing into
 * username or at "" are set), ETIME when it has expired, EBADMSG when it is
 * not a REST username.
 */
int turn_rest_check(const char *username, uint64_t now, uint64_t *expiry, const char **user);

/* RFC 8489 §9.2: a nonce starting with this cookie carries 24 security-feature bits */
#define TURN_NONCE_COOKIE                      "obMatJos2"
#define TURN_NONCE_FEATURE_PASSWORD_ALGORITHMS 0x800000u /* bit 0 */
#define TURN_NONCE_FEATURE_USERNAME_ANONYMITY  0x400000u /* bit 1 */
#define TURN_NONCE_LEN                         45 /* cookie 9 + features 4 + expiry and MAC 32 */
#define TURN_NONCE_KEY_LEN                     32

/*
 * A nonce valid until now + ttl for the client at addr: the cookie, the
 * features, then base64(expiry || HMAC-SHA256(key, expiry || features ||
 * addr)[0..15]). Nothing is stored: the check recomputes it. out must hold
 * TURN_NONCE_LEN + 1. 0 or EPROTO.
 */
int turn_nonce_make(const uint8_t key[TURN_NONCE_KEY_LEN], uint64_t now, uint32_t ttl,
                    uint32_t features, const struct sockaddr *addr, char *out, size_t cap);

/*
 * 0 when nonce[len] is one of ours, unexpired and made for addr; ESTALE when
 * it was ours but has expired or belongs to another address (438 Stale
 * Nonce, so the client retries with a fresh one); EBADMSG otherwise.
 */
int turn_nonce_check(const uint8_t key[TURN_NONCE_KEY_LEN], uint64_t now, const char *nonce,
                     size_t len, const struct sockaddr *addr);
