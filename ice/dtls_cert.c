/* Our DTLS certificate (made or loaded) and a=fingerprint values (RFC 8122 §5, RFC 5763 §5). */
#include "ice/dtls_cert.h"

#include <errno.h>
#include <glib.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#define CERT_DAYS 365

struct dtls_cert {
	X509 *x509;
	EVP_PKEY *key;
	struct dtls_fingerprint fp;
	char fp_sdp[DTLS_FP_TEXT_MAX];
};

static const struct {
	const char *name;
	uint8_t len;
} hashes[DTLS_HASH_COUNT] = {
	[DTLS_HASH_SHA1] = { "sha-1", 20 },     [DTLS_HASH_SHA224] = { "sha-224", 28 },
	[DTLS_HASH_SHA256] = { "sha-256", 32 }, [DTLS_HASH_SHA384] = { "sha-384", 48 },
	[DTLS_HASH_SHA512] = { "sha-512", 64 },
};

static const EVP_MD *hash_md(enum dtls_hash h)
{
	switch (h) {
	case DTLS_HASH_SHA1: return EVP_sha1();
	case DTLS_HASH_SHA224: return EVP_sha224();
	case DTLS_HASH_SHA256: return EVP_sha256();
	case DTLS_HASH_SHA384: return EVP_sha384();
	case DTLS_HASH_SHA512: return EVP_sha512();
	case DTLS_HASH_COUNT: break;
	}
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "AB:CD:…" of exactly want bytes. */
static int parse_hex(const char *p, uint8_t *md, uint8_t want)
{
	for (uint8_t i = 0; i < want; i++) {
		int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);

		if (lo < 0)
			return EBADMSG;
		md[i] = (uint8_t)(hi << 4 | lo);
		p += 2;
		if (i + 1 < want && *p++ != ':')
			return EBADMSG;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	return *p ? EBADMSG : 0;
}

int dtls_fingerprint_parse(const char *s, struct dtls_fingerprint *out)
{
	struct dtls_fingerprint fp;
	size_t n = strcspn(s, " \t");
	int rc;

	if (n == 0 || !s[n])
		return EBADMSG;
	for (fp.hash = 0; fp.hash < DTLS_HASH_COUNT; fp.hash++)
		if (strlen(hashes[fp.hash].name) == n &&
		    g_ascii_strncasecmp(s, hashes[fp.hash].name, n) == 0)
			break;
	if (fp.hash == DTLS_HASH_COUNT)
		return EPROTO;
	s += n;
	while (*s == ' ' || *s == '\t')
		s++;
	fp.len = hashes[fp.hash].len;
	memset(fp.md, 0, sizeof(fp.md));
	rc = parse_hex(s, fp.md, fp.len);
	if (!rc)
		*out = fp;
	return rc;
}

void dtls_fingerprint_format(const struct dtls_fingerprint *fp, char out[DTLS_FP_TEXT_MAX])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = (size_t)g_snprintf(out, DTLS_FP_TEXT_MAX, "%s ", hashes[fp->hash].name);

	for (uint8_t i = 0; i < fp->len && o + 3 < DTLS_FP_TEXT_MAX; i++) {
		if (i)
			out[o++] = ':';
		out[o++] = hex[fp->md[i] >> 4];
		out[o++] = hex[fp->md[i] & 15];
	}
	out[o] = '\0';
}

bool dtls_fingerprint_equal(const struct dtls_fingerprint *a, const struct dtls_fingerprint *b)
{
	return a->hash == b->hash && a->len == b->len && CRYPTO_memcmp(a->md, b->md, a->len) == 0;
}

int dtls_fingerprint_of(X509 *x, enum dtls_hash h, struct dtls_fingerprint *out)
{
	const EVP_MD *md = hash_md(h);
	unsigned int n = 0;

	memset(out->md, 0, sizeof(out->md));
	if (!md || X509_digest(x, md, out->md, &n) != 1 || n != hashes[h].len)
		return EPROTO;
	out->hash = h;
	out->len = (uint8_t)n;
	return 0;
}

/* Self-signed, no extensions: the peer checks the fingerprint, never a chain. */
static X509 *self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	uint64_t serial;

	if (!x || RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
		goto fail;
	serial >>= 1; /* positive */
	if (!ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) || !X509_set_version(x, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -86400) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)CERT_DAYS * 86400) ||
	    !X509_set_pubkey(x, key) ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                                (const unsigned char *)"rtcgate", -1, -1, 0) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(x)) ||
	    X509_sign(x, key, EVP_sha256()) <= 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

static int generate(struct dtls_cert *c, char **why)
{
	c->key = EVP_EC_gen("P-256");
	c->x509 = c->key ? self_signed(c->key) : NULL;
	if (c->x509)
		return 0;
	*why = g_strdup("OpenSSL could not make an ECDSA P-256 certificate");
	return EPROTO;
}

/* OpenSSL's default asks for a passphrase on the terminal: a daemon must not wait for one. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static int load(struct dtls_cert *c, const char *cert_path, const char *key_path, char **why)
{
	FILE *cf = fopen(cert_path, "r");
	FILE *kf = key_path && *key_path ? fopen(key_path, "r") : NULL;
	int rc = 0;

	if (!key_path || !*key_path) {
		rc = EINVAL;
		*why = g_strdup_printf("%s needs a private key file beside it", cert_path);
		goto out;
	}
	if (!cf || !kf) {
		rc = errno ? errno : ENOENT;
		*why = g_strdup_printf("cannot open %s: %s", !cf ? cert_path : key_path,
		                       g_strerror(rc));
		goto out;
	}
	c->x509 = PEM_read_X509(cf, NULL, no_passphrase, NULL);
	c->key = PEM_read_PrivateKey(kf, NULL, no_passphrase, NULL);
	if (!c->x509 || !c->key) {
		rc = EBADMSG;
		*why = g_strdup_printf(
		        "%s holds no PEM %s", !c->x509 ? cert_path : key_path,
		        !c->x509 ? "certificate"
		                 : "private key (or an encrypted one: not supported)");
	} else if (X509_check_private_key(c->x509, c->key) != 1) {
		rc = EINVAL;
		*why = g_strdup_printf("the key in %s does not match the certificate in %s",
		                       key_path, cert_path);
	}
out:
	if (cf)
		fclose(cf);
	if (kf)
		fclose(kf);
	return rc;
}

int dtls_cert_open(const char *cert_path, const char *key_path, struct dtls_cert **out, char **why)
{
	struct dtls_cert *c = g_new0(struct dtls_cert, 1);
	int rc;

	errno = 0;
	rc = cert_path && *cert_path ? load(c, cert_path, key_path, why) : generate(c, why);
	if (!rc && dtls_fingerprint_of(c->x509, DTLS_HASH_SHA256, &c->fp)) {
		rc = EPROTO;
		*why = g_strdup("cannot hash the certificate");
	}
	if (rc) {
		ERR_clear_error();
		dtls_cert_free(c);
		return rc;
	}
	dtls_fingerprint_format(&c->fp, c->fp_sdp);
	*out = c;
	return 0;
}

const struct dtls_fingerprint *dtls_cert_fingerprint(const struct dtls_cert *c)
{
	return &c->fp;
}

const char *dtls_cert_fingerprint_sdp(const struct dtls_cert *c)
{
	return c->fp_sdp;
}

int dtls_cert_install(const struct dtls_cert *c, SSL_CTX *ctx)
{
	if (SSL_CTX_use_certificate(ctx, c->x509) != 1 || SSL_CTX_use_PrivateKey(ctx, c->key) != 1)
		return EPROTO;
	return 0;
}

void dtls_cert_free(struct dtls_cert *c)
{
	if (!c)
		return;
	X509_free(c->x509);
	EVP_PKEY_free(c->key);
	g_free(c);
}
