/* The DTLS certificate of our WebRTC legs and certificate fingerprints (RFC 8122 §5, RFC 5763). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct x509_st;
struct ssl_ctx_st;

/* Hash functions of a=fingerprint (RFC 8122 §5: the "hash-func" tokens we accept). */
enum dtls_hash {
	DTLS_HASH_SHA1,
	DTLS_HASH_SHA224,
	DTLS_HASH_SHA256,
	DTLS_HASH_SHA384,
	DTLS_HASH_SHA512,
	DTLS_HASH_COUNT,
};

#define DTLS_FP_MAX 64 /* SHA-512 */
/* "sha-512 " + 64 colon-separated hex pairs + NUL */
#define DTLS_FP_TEXT_MAX (8 + DTLS_FP_MAX * 3)

struct dtls_fingerprint {
	enum dtls_hash hash;
	uint8_t len; /* the hash's digest length */
	uint8_t md[DTLS_FP_MAX];
};

/*
 * Parse an a=fingerprint value, "sha-256 AB:CD:…" (hash name in any case,
 * hex in any case, one space or more between). Pure. 0; EPROTO for a hash
 * we do not take (md5, md2, unknown names); EBADMSG for anything malformed
 * or a digest of the wrong length. *out is written only on success.
 */
int dtls_fingerprint_parse(const char *s, struct dtls_fingerprint *out);

/* "sha-256 AB:CD:…" (upper case, as browsers write it) into out. Pure. */
void dtls_fingerprint_format(const struct dtls_fingerprint *fp, char out[DTLS_FP_TEXT_MAX]);

/* Same hash and same digest. */
bool dtls_fingerprint_equal(const struct dtls_fingerprint *a, const struct dtls_fingerprint *b);

/* The fingerprint of a DER certificate under hash h: 0, or EPROTO when OpenSSL cannot hash it. */
int dtls_fingerprint_of(struct x509_st *x, enum dtls_hash h, struct dtls_fingerprint *out);

struct dtls_cert;

/*
 * Our certificate: loaded from cert_path and key_path (PEM; the first
 * certificate of the file; any key type OpenSSL signs with), or, when
 * cert_path is NULL or empty, a new self-signed ECDSA P-256 certificate
 * (CN=rtcgate, valid 365 days, kept in memory only: a restart makes a new
 * one, as browsers do per peer connection). 0 and the certificate in *out;
 * otherwise a positive errno and a reason in *why (g_free): unreadable file,
 * no certificate or key in it, key not matching the certificate.
 */
int dtls_cert_open(const char *cert_path, const char *key_path, struct dtls_cert **out, char **why);

/* Its SHA-256 fingerprint, and the same in SDP form: "sha-256 AB:CD:…". Owned by c. */
const struct dtls_fingerprint *dtls_cert_fingerprint(const struct dtls_cert *c);
const char *dtls_cert_fingerprint_sdp(const struct dtls_cert *c);

/* Make ctx present this certificate and key: 0, or EPROTO. ctx keeps its own references. */
int dtls_cert_install(const struct dtls_cert *c, struct ssl_ctx_st *ctx);

/* NULL is fine. */
void dtls_cert_free(struct dtls_cert *c);
