/* Digest authentication for SIP (RFC 3261 §22, RFC 2617, RFC 8760): answers, checks, nonces. */
#include "signaling/sip_digest.h"

#include <errno.h>
#include <glib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <osipparser2/osip_parser.h>
#include <string.h>

#include "signaling/sip_msg.h"

static const EVP_MD *md_of(enum sip_digest_alg alg)
{
	return alg == SIP_DIGEST_SHA256 ? EVP_sha256() : EVP_md5();
}

/* Hex digest of the parts joined by ':' into out. */
static void hash_hex(enum sip_digest_alg alg, const char *const *parts, char *out, size_t cap)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	EVP_DigestInit_ex(ctx, md_of(alg), NULL);
	for (size_t i = 0; parts[i]; i++) {
		if (i)
			EVP_DigestUpdate(ctx, ":", 1);
		EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
	}
	EVP_DigestFinal_ex(ctx, d, &n);
	EVP_MD_CTX_free(ctx);
	out[0] = '\0';
	for (unsigned i = 0; i < n && 2 * i + 2 < cap; i++)
		g_snprintf(out + 2 * i, 3, "%02x", d[i]);
}

void sip_digest_ha1(enum sip_digest_alg alg, const char *user, const char *realm,
                    const char *password, char *out, size_t cap)
{
	hash_hex(alg, (const char *const[]){ user, realm, password, NULL }, out, cap);
}

/* The value of a parameter libosip2 keeps quoted, unquoted into out; false when absent or too long.
 */
static bool unquote(const char *v, char *out, size_t cap)
{
	size_t n;

	if (!v)
		return false;
	n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	if (n >= cap)
		return false;
	memcpy(out, v, n);
	out[n] = '\0';
	return true;
}

static bool parse_alg(const char *v, enum sip_digest_alg *alg)
{
	char a[32];

	if (!v) {
		*alg = SIP_DIGEST_MD5;
		return true;
	}
	if (!unquote(v, a, sizeof(a)))
		return false;
	if (g_ascii_strcasecmp(a, "MD5") == 0)
		*alg = SIP_DIGEST_MD5;
	else if (g_ascii_strcasecmp(a, "SHA-256") == 0)
		*alg = SIP_DIGEST_SHA256;
	else
		return false;
	return true;
}

int sip_digest_parse_challenge(const char *hvalue, struct sip_digest_challenge *out)
{
	osip_www_authenticate_t *w = NULL;
	char qop[64] = "";
	int rc = EINVAL;

	sip_msg_init();
	memset(out, 0, sizeof(*out));
	if (osip_www_authenticate_init(&w) != 0)
		return ENOMEM;
	if (osip_www_authenticate_parse(w, hvalue) == 0 && w->auth_type &&
	    g_ascii_strcasecmp(w->auth_type, "Digest") == 0 &&
	    unquote(w->realm, out->realm, sizeof(out->realm)) &&
	    unquote(w->nonce, out->nonce, sizeof(out->nonce)) &&
	    parse_alg(w->algorithm, &out->alg) &&
	    (!w->opaque || unquote(w->opaque, out->opaque, sizeof(out->opaque)))) {
		if (w->qop_options && unquote(w->qop_options, qop, sizeof(qop))) {
			char **opts = g_strsplit(qop, ",", -1);

			for (char **o = opts; *o; o++)
				out->qop_auth |= strcmp(g_strstrip(*o), "auth") == 0;
			g_strfreev(opts);
		}
		rc = 0;
	}
	osip_www_authenticate_free(w);
	return rc;
}

/* The response of RFC 2617 §3.2.2.1: H(HA1:nonce[:nc:cnonce:qop]:HA2). */
static void response(enum sip_digest_alg alg, const char *ha1, const char *nonce, const char *nc,
                     const char *cnonce, bool qop, const char *method, const char *uri, char *out,
                     size_t cap)
{
	char ha2[65];

	hash_hex(alg, (const char *const[]){ method, uri, NULL }, ha2, sizeof(ha2));
	if (qop)
		hash_hex(alg, (const char *const[]){ ha1, nonce, nc, cnonce, "auth", ha2, NULL },
		         out, cap);
	else
		hash_hex(alg, (const char *const[]){ ha1, nonce, ha2, NULL }, out, cap);
}

char *sip_digest_answer(const struct sip_digest_challenge *ch, const char *user,
                        const char *password, const char *method, const char *uri,
                        const char *cnonce, unsigned nc)
{
	char ha1[65], resp[65], ncs[9];
	GString *s = g_string_new(NULL);

	sip_digest_ha1(ch->alg, user, ch->realm, password, ha1, sizeof(ha1));
	g_snprintf(ncs, sizeof(ncs), "%08x", nc);
	response(ch->alg, ha1, ch->nonce, ncs, cnonce, ch->qop_auth, method, uri, resp,
	         sizeof(resp));
	g_string_append_printf(s,
	                       "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
	                       "response=\"%s\", algorithm=%s",
	                       user, ch->realm, ch->nonce, uri, resp,
	                       ch->alg == SIP_DIGEST_SHA256 ? "SHA-256" : "MD5");
	if (ch->qop_auth)
		g_string_append_printf(s, ", qop=auth, nc=%s, cnonce=\"%s\"", ncs, cnonce);
	if (ch->opaque[0])
		g_string_append_printf(s, ", opaque=\"%s\"", ch->opaque);
	return g_string_free(s, FALSE);
}

static void nonce_mac(const uint8_t key[SIP_DIGEST_KEY_LEN], uint64_t expiry, char *out)
{
	uint8_t msg[8], mac[32];
	unsigned n = 0;

	for (int i = 0; i < 8; i++)
		msg[i] = (uint8_t)(expiry >> (56 - 8 * i));
	HMAC(EVP_sha256(), key, SIP_DIGEST_KEY_LEN, msg, sizeof(msg), mac, &n);
	for (int i = 0; i < 20; i++)
		g_snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

void sip_digest_nonce(const uint8_t key[SIP_DIGEST_KEY_LEN], uint64_t now, uint32_t ttl, char *out,
                      size_t cap)
{
	char mac[41];
	uint64_t expiry = now + ttl;

	nonce_mac(key, expiry, mac);
	g_snprintf(out, cap, "%016" G_GINT64_MODIFIER "x%s", (guint64)expiry, mac);
}

/* 0 for our unexpired nonce, ESTALE for ours expired, EINVAL for anything else. */
static int nonce_check(const uint8_t key[SIP_DIGEST_KEY_LEN], const char *nonce, uint64_t now)
{
	char mac[41], hex[17];
	uint64_t expiry;
	char *end = NULL;

	if (strlen(nonce) != 56)
		return EINVAL;
	memcpy(hex, nonce, 16);
	hex[16] = '\0';
	expiry = g_ascii_strtoull(hex, &end, 16);
	if (*end)
		return EINVAL;
	nonce_mac(key, expiry, mac);
	if (CRYPTO_memcmp(mac, nonce + 16, 40) != 0)
		return EINVAL;
	return expiry > now ? 0 : ESTALE;
}

char *sip_digest_username(const char *hvalue)
{
	osip_authorization_t *a = NULL;
	char user[256];
	char *out = NULL;

	sip_msg_init();
	if (osip_authorization_init(&a) != 0)
		return NULL;
	if (osip_authorization_parse(a, hvalue) == 0 && unquote(a->username, user, sizeof(user)))
		out = g_strdup(user);
	osip_authorization_free(a);
	return out;
}

int sip_digest_algorithm(const char *hvalue, enum sip_digest_alg *out)
{
	osip_authorization_t *a = NULL;
	int rc = EINVAL;

	sip_msg_init();
	if (osip_authorization_init(&a) != 0)
		return ENOMEM;
	if (osip_authorization_parse(a, hvalue) == 0 && parse_alg(a->algorithm, out))
		rc = 0;
	osip_authorization_free(a);
	return rc;
}

enum sip_digest_check sip_digest_verify(const char *hvalue, const char *method, const char *realm,
                                        const char *user, const char *ha1, enum sip_digest_alg alg,
                                        const uint8_t key[SIP_DIGEST_KEY_LEN], uint64_t now)
{
	osip_authorization_t *a = NULL;
	char u[256], r[128], nonce[256], uri[512], resp[129], cnonce[256] = "", qop[16] = "";
	char nc[16] = "", want[65];
	enum sip_digest_alg got;
	enum sip_digest_check rc = SIP_DIGEST_MALFORMED;
	int n;

	sip_msg_init();
	if (osip_authorization_init(&a) != 0)
		return SIP_DIGEST_MALFORMED;
	if (osip_authorization_parse(a, hvalue) != 0 || !a->auth_type ||
	    g_ascii_strcasecmp(a->auth_type, "Digest") != 0 ||
	    !unquote(a->username, u, sizeof(u)) || !unquote(a->realm, r, sizeof(r)) ||
	    !unquote(a->nonce, nonce, sizeof(nonce)) || !unquote(a->uri, uri, sizeof(uri)) ||
	    !unquote(a->response, resp, sizeof(resp)) || !parse_alg(a->algorithm, &got))
		goto out;
	if (a->message_qop &&
	    (!unquote(a->message_qop, qop, sizeof(qop)) || strcmp(qop, "auth") != 0 ||
	     !unquote(a->cnonce, cnonce, sizeof(cnonce)) ||
	     !unquote(a->nonce_count, nc, sizeof(nc))))
		goto out;
	rc = SIP_DIGEST_WRONG;
	if (got != alg || strcmp(u, user) != 0 || strcmp(r, realm) != 0)
		goto out;
	n = nonce_check(key, nonce, now);
	if (n) {
		rc = n == ESTALE ? SIP_DIGEST_STALE : SIP_DIGEST_FOREIGN;
		goto out;
	}
	response(alg, ha1, nonce, nc, cnonce, qop[0] != '\0', method, uri, want, sizeof(want));
	if (strlen(resp) == strlen(want) && CRYPTO_memcmp(resp, want, strlen(want)) == 0)
		rc = SIP_DIGEST_OK;
out:
	osip_authorization_free(a);
	return rc;
}
