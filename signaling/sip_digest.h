/*
 * Digest authentication for SIP (RFC 3261 §22, RFC 2617 qop=auth, RFC 8760
 * SHA-256): answering a PBX's challenge, challenging a browser and checking
 * its answer, with stateless nonces. Pure: libosip2 parses the headers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sip_digest_alg { SIP_DIGEST_MD5, SIP_DIGEST_SHA256 };

/* A WWW-Authenticate or Proxy-Authenticate challenge. */
struct sip_digest_challenge {
	enum sip_digest_alg alg;
	bool qop_auth; /* qop="auth" offered (auth-int is not) */
	char realm[128], nonce[256], opaque[256];
};

/* Parse a challenge header value; 0, or EINVAL (not Digest, no realm or nonce, unknown algorithm).
 */
int sip_digest_parse_challenge(const char *hvalue, struct sip_digest_challenge *out);

/*
 * The Authorization value answering ch for method and uri as user with
 * password; cnonce and nc are the client nonce and count (qop=auth). A
 * g_malloc'd string.
 */
char *sip_digest_answer(const struct sip_digest_challenge *ch, const char *user,
                        const char *password, const char *method, const char *uri,
                        const char *cnonce, unsigned nc);

/* H(user:realm:password) in hex into out (33 or 65 bytes with the NUL). */
void sip_digest_ha1(enum sip_digest_alg alg, const char *user, const char *realm,
                    const char *password, char *out, size_t cap);

#define SIP_DIGEST_KEY_LEN 32

/* A stateless nonce valid until now + ttl: expiry and an HMAC-SHA256 of it, hex. cap >= 57. */
void sip_digest_nonce(const uint8_t key[SIP_DIGEST_KEY_LEN], uint64_t now, uint32_t ttl, char *out,
                      size_t cap);

/* The result of checking an Authorization value. */
enum sip_digest_check {
	SIP_DIGEST_OK,
	SIP_DIGEST_MALFORMED, /* not Digest, parameters missing or bad */
	SIP_DIGEST_STALE,     /* one of our nonces, expired: challenge again with stale=true */
	SIP_DIGEST_WRONG,     /* another realm, user or algorithm, or a wrong response */
	SIP_DIGEST_FOREIGN,   /* not one of our nonces (made under another key: a restart) */
};

/*
 * Check hvalue (an Authorization header value) for method: our nonce under
 * key and unexpired, realm and username as expected, and the response
 * computed from ha1 (hex, of alg). *user_out gets the username it named when
 * it parsed (cap bytes).
 */
enum sip_digest_check sip_digest_verify(const char *hvalue, const char *method, const char *realm,
                                        const char *user, const char *ha1, enum sip_digest_alg alg,
                                        const uint8_t key[SIP_DIGEST_KEY_LEN], uint64_t now);

/* The username an Authorization value names (before any check), g_malloc'd, or NULL. */
char *sip_digest_username(const char *hvalue);

/* The algorithm an Authorization value names (MD5 when absent): 0, or EINVAL. */
int sip_digest_algorithm(const char *hvalue, enum sip_digest_alg *out);
