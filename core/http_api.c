/* Admin API /api/v1/devices: bearer token (RFC 6750 §2.1), JSON in and out; see docs/devices.md. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "core/devices.h"
#include "core/http_priv.h"
#include "core/httpauth.h"
#include "core/log.h"

#define DEVICES_PATH "/api/v1/devices"

/* Hashing both sides first makes the comparison constant-time in their lengths too. */
static bool token_equal(const char *a, size_t alen, const char *b)
{
	unsigned char ha[32], hb[32];

	if (!EVP_Digest(a, alen, ha, NULL, EVP_sha256(), NULL) ||
	    !EVP_Digest(b, strlen(b), hb, NULL, EVP_sha256(), NULL))
		return false;
	return CRYPTO_memcmp(ha, hb, sizeof(ha)) == 0;
}

static bool token_ok(const struct http_req *req)
{
	int n = lws_hdr_total_length(req->wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	const char *tok;
	size_t len;
	char *hdr;
	bool ok = false;

	if (n <= 0)
		return false;
	hdr = g_malloc((gsize)n + 1);
	if (lws_hdr_copy(req->wsi, hdr, n + 1, WSI_TOKEN_HTTP_AUTHORIZATION) == n &&
	    httpauth_bearer(hdr, &tok, &len) == 0)
		ok = token_equal(tok, len, req->srv->conf->http.api_token);
	memset(hdr, 0, (size_t)n);
	g_free(hdr);
	return ok;
}

static void fail(struct http_resp *resp, int rc, const char *field, const char *reason)
{
	gchar *text;

	switch (rc) {
	case EINVAL:
	case EBADMSG:
		text = field ? g_strdup_printf("%s %s", field, reason) : g_strdup(reason);
		http_resp_json_error(resp, 400, field, text);
		g_free(text);
		break;
	case EEXIST: http_resp_json_error(resp, 409, "login", reason); break;
	case ENOENT: http_resp_json_error(resp, 404, NULL, reason); break;
	default: http_resp_json_error(resp, 500, NULL, "the device store failed (see the log)");
	}
}

static void answer_device(struct http_resp *resp, struct devices *devs, const char *login,
                          int status)
{
	struct device *dev = NULL;
	JsonBuilder *b;
	gchar *why;

	if (devices_get(devs, login, &dev)) {
		why = g_strdup_printf("no device \"%s\"", login);
		fail(resp, ENOENT, NULL, why);
		g_free(why);
		return;
	}
	b = json_builder_new();
	devspec_to_json(b, dev);
	devspec_device_free(dev);
	resp->status = status;
	resp->content_type = "application/json";
	resp->body = http_json_body(b);
	resp->no_store = true;
}

static void list(struct http_resp *resp, struct devices *devs)
{
	GPtrArray *all = NULL;
	JsonBuilder *b;

	if (devices_list(devs, &all)) {
		fail(resp, EIO, NULL, NULL);
		return;
	}
	b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "devices");
	json_builder_begin_array(b);
	for (guint i = 0; i < all->len; i++)
		devspec_to_json(b, all->pdata[i]);
	json_builder_end_array(b);
	json_builder_end_object(b);
	g_ptr_array_unref(all);
	resp->status = 200;
	resp->content_type = "application/json";
	resp->body = http_json_body(b);
	resp->no_store = true;
}

/* POST (create) when login is NULL, PATCH/PUT (partial update) of login otherwise. */
static void write_device(const struct http_req *req, struct http_resp *resp, const char *login)
{
	struct devices *devs = req->srv->devices;
	struct device_spec s;
	const char *field = NULL;
	char *why = NULL;
	int rc;

	rc = devspec_from_json(req->body ? req->body : "", req->body_len, !login, &s, &field, &why);
	if (rc) {
		fail(resp, rc, field, why);
		goto out;
	}
	rc = login ? devices_set(devs, login, &s, &why) : devices_add(devs, &s, &why);
	if (rc) {
		fail(resp, rc, NULL, why);
		goto out;
	}
	log_info(LOG_STORE, login ? "device changed via api" : "device added via api", "login=%s",
	         login ? login : s.login);
	answer_device(resp, devs, login ? login : s.login, login ? 200 : 201);
	if (!login)
		resp->location = g_strdup_printf(DEVICES_PATH "/%s", s.login);
out:
	g_free(why);
	devspec_clear(&s);
}

static void remove_device(struct http_resp *resp, struct devices *devs, const char *login)
{
	JsonBuilder *b;
	char *why = NULL;
	int rc = devices_remove(devs, login, &why);

	if (rc) {
		fail(resp, rc, NULL, why);
		g_free(why);
		return;
	}
	log_info(LOG_STORE, "device removed via api", "login=%s", login);
	b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "removed");
	json_builder_add_string_value(b, login);
	json_builder_end_object(b);
	resp->status = 200;
	resp->content_type = "application/json";
	resp->body = http_json_body(b);
	resp->no_store = true;
}

static void not_allowed(struct http_resp *resp, const char *allow)
{
	http_resp_json_error(resp, 405, NULL, "method not allowed");
	resp->allow = allow;
}

static void collection(const struct http_req *req, struct http_resp *resp)
{
	switch (req->method) {
	case HTTP_GET:
	case HTTP_HEAD: list(resp, req->srv->devices); break;
	case HTTP_POST: write_device(req, resp, NULL); break;
	default: not_allowed(resp, "GET, HEAD, POST");
	}
}

static void item(const struct http_req *req, struct http_resp *resp, const char *login)
{
	gchar *why;

	if (!devspec_login_ok(login)) {
		why = g_strdup_printf("no device \"%s\"", login);
		http_resp_json_error(resp, 404, NULL, why);
		g_free(why);
		return;
	}
	switch (req->method) {
	case HTTP_GET:
	case HTTP_HEAD: answer_device(resp, req->srv->devices, login, 200); break;
	case HTTP_PATCH:
	case HTTP_PUT: write_device(req, resp, login); break;
	case HTTP_DELETE: remove_device(resp, req->srv->devices, login); break;
	default: not_allowed(resp, "GET, HEAD, PATCH, PUT, DELETE");
	}
}

void http_route_api(const struct http_req *req, struct http_resp *resp)
{
	const char *rest;

	if (!*req->srv->conf->http.api_token) {
		http_resp_json_error(resp, 403, NULL,
		                     "the admin API is off: set http.api_token to enable it");
		return;
	}
	if (!token_ok(req)) {
		http_resp_json_error(resp, 401, NULL, "missing or wrong bearer token");
		resp->www_authenticate = "Bearer realm=\"rtcgate\"";
		return;
	}
	if (!req->srv->devices) {
		http_resp_json_error(resp, 503, NULL, "the device registry is not open");
		return;
	}
	if (strncmp(req->path, DEVICES_PATH, strlen(DEVICES_PATH)) != 0) {
		http_resp_json_error(resp, 404, NULL, "no such API route");
		return;
	}
	rest = req->path + strlen(DEVICES_PATH);
	if (*rest == '\0')
		collection(req, resp);
	else if (rest[0] == '/' && rest[1] && !strchr(rest + 1, '/'))
		item(req, resp, rest + 1);
	else
		http_resp_json_error(resp, 404, NULL, "no such API route");
}
