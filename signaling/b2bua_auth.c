/*
 * Digest on the PBX side (RFC 3261 §22.2, §22.3): rtcgate answering the
 * PBX's 401/407 with a device's PBX credentials (held mode), and in
 * pass-through mode a challenged INVITE remembered so that the browser's
 * answer goes out as the next INVITE of the same outbound setup (same
 * Call-ID and From tag, CSeq one higher: RFC 3261 §22.2, §8.1.3.5).
 */
#include <string.h>

#include "core/log.h"
#include "signaling/b2bua_priv.h"
#include "signaling/sip_digest.h"

/* How long a challenged INVITE waits for the browser's answer (RFC 3261 Timer B). */
#define MEMO_TTL_US (32 * G_USEC_PER_SEC)
/* Setups remembered at most: beyond this a retry simply gets a fresh Call-ID. */
#define MEMO_MAX 4096

struct auth_memo {
	struct b2bua_auth_memo m;
	gint64 until;
};

/* The first challenge of resp we can answer (Digest, MD5 or SHA-256). */
static bool first_challenge(const osip_message_t *resp, bool proxy, struct sip_digest_challenge *ch)
{
	const osip_list_t *l = proxy ? &resp->proxy_authenticates : &resp->www_authenticates;

	for (int i = 0; i < osip_list_size(l); i++) {
		char *text = NULL;
		int rc;

		if (osip_www_authenticate_to_str(osip_list_get(l, i), &text) != 0)
			continue;
		rc = sip_digest_parse_challenge(text, ch);
		osip_free(text);
		if (rc == 0)
			return true;
	}
	return false;
}

static void drop_credentials(osip_list_t *l)
{
	while (!osip_list_eol(l, 0)) {
		osip_authorization_t *a = osip_list_get(l, 0);

		osip_list_remove(l, 0);
		osip_authorization_free(a);
	}
}

bool b2bua_auth_answer(struct b2bua *b, const char *login, const osip_message_t *resp,
                       osip_message_t *req)
{
	bool proxy = resp->status_code == 407, ok = false;
	struct sip_digest_challenge ch;
	struct device *dev = NULL;
	char *password = NULL, *uri = NULL, *value, cnonce[17];
	const char *user;

	if (!first_challenge(resp, proxy, &ch) || devices_get(b->dev, login, &dev) != 0 ||
	    devices_pbx_password(b->dev, login, &password) != 0 ||
	    osip_uri_to_str(req->req_uri, &uri) != 0)
		goto out;
	user = dev->pbx_user ? dev->pbx_user : dev->extension ? dev->extension : login;
	sip_msg_token(cnonce, 16);
	value = sip_digest_answer(&ch, user, password, req->sip_method, uri, cnonce, 1);
	drop_credentials(&req->authorizations);
	drop_credentials(&req->proxy_authorizations);
	if (proxy)
		osip_message_set_proxy_authorization(req, value);
	else
		osip_message_set_authorization(req, value);
	g_free(value);
	ok = true;
out:
	if (password) {
		memset(password, 0, strlen(password));
		g_free(password);
	}
	osip_free(uri);
	devspec_device_free(dev);
	return ok;
}

/* libosip2 keeps WWW-Authenticate and Proxy-Authenticate in one type, and both credentials in
 * another. */
static void copy_challenges(const osip_list_t *from, osip_list_t *to)
{
	for (int i = 0; i < osip_list_size(from); i++) {
		osip_www_authenticate_t *copy = NULL;

		if (osip_www_authenticate_clone(osip_list_get(from, i), &copy) == 0)
			osip_list_add(to, copy, -1);
	}
}

static void copy_credentials(const osip_list_t *from, osip_list_t *to)
{
	for (int i = 0; i < osip_list_size(from); i++) {
		osip_authorization_t *copy = NULL;

		if (osip_authorization_clone(osip_list_get(from, i), &copy) == 0)
			osip_list_add(to, copy, -1);
	}
}

void b2bua_auth_copy_challenges(const osip_message_t *resp, osip_message_t *out)
{
	copy_challenges(&resp->www_authenticates, &out->www_authenticates);
	copy_challenges(&resp->proxy_authenticates, &out->proxy_authenticates);
}

void b2bua_auth_copy_credentials(const osip_message_t *from, osip_message_t *to)
{
	copy_credentials(&from->authorizations, &to->authorizations);
	copy_credentials(&from->proxy_authorizations, &to->proxy_authorizations);
}

static gboolean memo_expired(gpointer k, gpointer v, gpointer now)
{
	(void)k;
	return ((struct auth_memo *)v)->until < *(gint64 *)now;
}

void b2bua_auth_remember(struct b2bua *b, const char *key, const osip_message_t *out_invite)
{
	gint64 now = g_get_monotonic_time();
	struct auth_memo *e;
	osip_generic_param_t *tag = NULL;

	g_hash_table_foreach_remove(b->auth_memo, memo_expired, &now);
	if (g_hash_table_size(b->auth_memo) >= MEMO_MAX || !out_invite->call_id ||
	    !out_invite->cseq || osip_from_get_tag(out_invite->from, &tag) != 0 || !tag->gvalue)
		return;
	e = g_new0(struct auth_memo, 1);
	e->until = now + MEMO_TTL_US;
	g_strlcpy(e->m.call_id, out_invite->call_id->number, sizeof(e->m.call_id));
	g_strlcpy(e->m.from_tag, tag->gvalue, sizeof(e->m.from_tag));
	e->m.cseq = osip_atoi(out_invite->cseq->number);
	g_hash_table_replace(b->auth_memo, g_strdup(key), e);
}

bool b2bua_auth_recall(struct b2bua *b, const char *key, struct b2bua_auth_memo *out)
{
	struct auth_memo *e = g_hash_table_lookup(b->auth_memo, key);

	if (!e || e->until < g_get_monotonic_time())
		return false;
	*out = e->m;
	g_hash_table_remove(b->auth_memo, key);
	return true;
}

void b2bua_auth_new(struct b2bua *b)
{
	b->auth_memo = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

void b2bua_auth_free(struct b2bua *b)
{
	g_hash_table_destroy(b->auth_memo);
}
