/* Self-signed ECDSA P-256 certificate for HTTPS (RFC 5280 profile, SAN per §4.2.1.6). */
#include "core/tlscert.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <unistd.h>

#include "core/log.h"

#define CERT_DAYS 825

/* The pair is usable when both files parse, the key matches and the cert is not expired. */
static bool pair_usable(const char *cert_path, const char *key_path)
{
	FILE *cf = fopen(cert_path, "r");
	FILE *kf = fopen(key_path, "r");
	X509 *x = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
	bool ok = x && k && X509_check_private_key(x, k) == 1 &&
	          X509_cmp_current_time(X509_get0_notAfter(x)) > 0;

	X509_free(x);
	EVP_PKEY_free(k);
	if (cf)
		fclose(cf);
	if (kf)
		fclose(kf);
	return ok;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int rc;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return EPROTO;
	rc = X509_add_ext(x, ext, -1) ? 0 : EPROTO;
	X509_EXTENSION_free(ext);
	return rc;
}

static X509 *make_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	char host[256] = "localhost";
	gchar *san;
	int rc = EPROTO;

	if (!x)
		return NULL;
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	san = g_strdup_printf("DNS:localhost,IP:127.0.0.1,IP:::1%s%s",
	                      g_hostname_is_ip_address(host) || !*host ? "" : ",DNS:",
	                      g_hostname_is_ip_address(host) ? "" : host);

	/* 128 random bits, top bit clear so the serial stays positive */
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		goto out;
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), (long)CERT_DAYS * 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"rtcgate", -1,
	                           -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1,
	                           0);
	X509_set_issuer_name(x, name);
	if (add_ext(x, NID_subject_alt_name, san) ||
	    add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature") ||
	    add_ext(x, NID_ext_key_usage, "serverAuth"))
		goto out;
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		goto out;
	rc = 0;
out:
	BN_free(bn);
	g_free(san);
	if (rc) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Write via a temporary file and rename, so a crash never leaves half a PEM. */
static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert)
{
	gchar *tmp = g_strdup_printf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int rc = 0;

	if (!f) {
		rc = errno ? errno : EIO;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (key ? !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
	        : !PEM_write_X509(f, cert))
		rc = EIO;
	if (fclose(f) != 0 && !rc)
		rc = errno;
	if (!rc && rename(tmp, path) != 0)
		rc = errno;
out:
	if (rc)
		g_unlink(tmp);
	g_free(tmp);
	return rc;
}

int tlscert_ensure(const char *dir, char **cert_path, char **key_path, char **why)
{
	gchar *tls_dir = g_build_filename(dir, "tls", NULL);
	gchar *cp = g_build_filename(tls_dir, "cert.pem", NULL);
	gchar *kp = g_build_filename(tls_dir, "key.pem", NULL);
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int rc = 0;

	if (pair_usable(cp, kp)) {
		log_info(LOG_TLS, "using self-signed certificate", "cert=%s", cp);
		goto out;
	}
	if (g_mkdir_with_parents(tls_dir, 0700) != 0) {
		rc = errno;
		*why = g_strdup_printf("cannot create %s: %s", tls_dir, g_strerror(rc));
		goto out;
	}
	key = EVP_EC_gen("P-256");
	x = key ? make_cert(key) : NULL;
	if (!x) {
		rc = EPROTO;
		*why = g_strdup("OpenSSL could not make an ECDSA P-256 certificate");
		goto out;
	}
	rc = write_pem(kp, 0600, key, NULL);
	if (!rc)
		rc = write_pem(cp, 0644, NULL, x);
	if (rc) {
		*why = g_strdup_printf("cannot write %s: %s", tls_dir, g_strerror(rc));
		goto out;
	}
	log_info(LOG_TLS, "made self-signed certificate", "cert=%s days=%d", cp, CERT_DAYS);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	g_free(tls_dir);
	if (rc) {
		g_free(cp);
		g_free(kp);
	} else {
		*cert_path = cp;
		*key_path = kp;
	}
	return rc;
}
