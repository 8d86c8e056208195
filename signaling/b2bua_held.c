/*
 * Held registrations (issue 4): for a device with a PBX password rtcgate
 * authenticates the browser itself (RFC 3261 §22.4, digest against the
 * device's stored HA1, stateless nonces) and holds the device's binding at
 * the PBX (RFC 3261 §10.2) under its own Contact, refreshed at half the
 * granted expiry. The binding belongs to the device and its RFC 5626 flow
 * identity (+sip.instance, reg-id), not to the WebSocket flow: a flow that
 * closes leaves it for the browser's expiry, and a new flow that registers
 * with the same instance and reg-id takes it over (RFC 5626 §4.2.1, §6).
 */
#include <errno.h>
#include <openssl/rand.h>
#include <string.h>

#include "core/log.h"
#include "signaling/b2bua_priv.h"
#include "signaling/sip_digest.h"
#include "signaling/sip_reg.h"

/* Our nonces to browsers live this long; an older answer gets 401 stale=true. */
#define NONCE_TTL 300
/* What a browser's REGISTER asks for when it says nothing, and at most. */
#define EXPIRES_DEF 600
#define EXPIRES_MAX 3600
/* Asked of the PBX at least: shorter intervals invite 423 (RFC 3261 §10.3 step 7). */
#define EXPIRES_PBX_MIN 60
/* A refresh the PBX refused or missed is tried again after this many seconds. */
#define RETRY_SECONDS 30

struct held_reg {
	struct b2bua *b;
	char *key; /* "<login>\n<instance>\n<reg-id>", or "<login>\n<flow token>" */
	char login[65];
	char token[B2BUA_TOKEN_LEN + 1]; /* our Contact user at the PBX */
	bool instance;                   /* has an RFC 5626 identity: outlives its flow */
	char *req_uri, *aor;             /* the browser's Request-URI; <sip:extension@domain> */
	char call_id[33], from_tag[17];
	int cseq;
	int asked;           /* of the PBX; 0 once unregistering */
	int granted;         /* by the PBX */
	int browser_expires; /* granted to the browser: the grace after its flow closes */
	bool registered, unregistering, auth_sent;
	uint64_t handle; /* our REGISTER in flight, 0 when none */
	guint refresh, grace;
	struct flow_state *flow; /* attached, or NULL */
	/* the browser's REGISTER waiting for the PBX's answer */
	osip_transaction_t *wait_tr;
	osip_message_t *wait_req;
	struct sip_peer *wait_flow; /* a reference */
};

static uint64_t now_s(void)
{
	return (uint64_t)(g_get_monotonic_time() / G_USEC_PER_SEC);
}

static void remove_source(guint *id)
{
	if (*id)
		g_source_remove(*id);
	*id = 0;
}

static void wait_clear(struct held_reg *reg)
{
	sip_peer_unref(reg->wait_flow);
	osip_message_free(reg->wait_req);
	reg->wait_flow = NULL;
	reg->wait_req = NULL;
	reg->wait_tr = NULL;
}

/* Answer the browser's waiting REGISTER with code (not 2xx) and forget it. */
static void wait_refuse(struct held_reg *reg, int code, const char *why)
{
	if (reg->wait_tr)
		b2bua_respond(reg->b, reg->wait_tr, reg->wait_req, code, why);
	wait_clear(reg);
}

static void rekey(struct b2bua *b, struct flow_state *fs, const char *token)
{
	g_hash_table_remove(b->flows, fs->token);
	g_strlcpy(fs->token, token, sizeof(fs->token));
	g_hash_table_insert(b->flows, fs->token, fs);
}

/* The flow lets go of reg: it gets a token of its own again, so PBX requests no longer find it. */
static void detach(struct held_reg *reg)
{
	struct flow_state *fs = reg->flow;
	char token[B2BUA_TOKEN_LEN + 1];

	if (!fs)
		return;
	reg->flow = NULL;
	fs->held = NULL;
	sip_msg_token(token, B2BUA_TOKEN_LEN);
	rekey(reg->b, fs, token);
}

static void reg_free(gpointer data)
{
	struct held_reg *reg = data;

	remove_source(&reg->refresh);
	remove_source(&reg->grace);
	detach(reg);
	wait_clear(reg);
	g_free(reg->key);
	g_free(reg->req_uri);
	g_free(reg->aor);
	g_free(reg);
}

static void reg_remove(struct held_reg *reg)
{
	struct b2bua *b = reg->b;

	g_hash_table_remove(b->held_tokens, reg->token);
	g_hash_table_remove(b->held, reg->key); /* frees it */
}

static void unregister(struct held_reg *reg, const char *why);

static gboolean on_grace(gpointer data)
{
	struct held_reg *reg = data;

	reg->grace = 0;
	unregister(reg, "flow_gone");
	return G_SOURCE_REMOVE;
}

/*
 * reg has no flow any more: one with an RFC 5626 identity waits the
 * browser's expiry for a flow to take it over; one tied to its flow goes.
 */
static void orphan(struct held_reg *reg)
{
	if (!reg->instance) {
		unregister(reg, "flow_gone");
		return;
	}
	log_info(LOG_SIP, "held flow gone", "login=%s grace=%d", reg->login, reg->browser_expires);
	remove_source(&reg->grace);
	reg->grace = g_timeout_add_seconds((guint)reg->browser_expires, on_grace, reg);
}

/* fs takes reg over; a flow that held it before loses it (and its registration). */
static void attach(struct held_reg *reg, struct flow_state *fs)
{
	struct b2bua *b = reg->b;

	remove_source(&reg->grace);
	if (reg->flow == fs)
		return;
	if (reg->flow) {
		struct flow_state *old = reg->flow;

		log_info(LOG_SIP, "held flow replaced", "login=%s old=%s new=%s", reg->login,
		         old->f->peer.name, fs->f->peer.name);
		detach(reg);
		b2bua_flow_registered(b, old, false, NULL, NULL);
	}
	if (fs->held) {
		struct held_reg *prev = fs->held;

		detach(prev);
		orphan(prev);
	}
	rekey(b, fs, reg->token);
	fs->held = reg;
	reg->flow = fs;
}

/* Our REGISTER toward the PBX (RFC 3261 §10.2): the device's AOR, our Contact, reg->asked. */
static osip_message_t *build_register(struct held_reg *reg, const struct b2bua_route *r)
{
	osip_message_t *m = NULL;
	char *uri, *contact, *from, num[24], exp[16];

	if (osip_message_init(&m) != 0)
		return NULL;
	osip_message_set_method(m, osip_strdup("REGISTER"));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	if (osip_uri_init(&m->req_uri) != 0 || osip_uri_parse(m->req_uri, reg->req_uri) != 0) {
		osip_message_free(m);
		return NULL;
	}
	from = g_strdup_printf("%s;tag=%s", reg->aor, reg->from_tag);
	osip_message_set_from(m, from);
	osip_message_set_to(m, reg->aor);
	osip_message_set_call_id(m, reg->call_id);
	g_snprintf(num, sizeof(num), "%d REGISTER", ++reg->cseq);
	osip_message_set_cseq(m, num);
	osip_message_set_max_forwards(m, "70");
	/* our Via and Contact for the target's transport, the outbound proxy's Route */
	b2bua_pbx_prepare(r, m);
	uri = b2bua_pbx_contact(r, reg->token, false);
	contact = g_strdup_printf("<%s>", uri);
	g_free(uri);
	osip_message_set_contact(m, contact);
	g_snprintf(exp, sizeof(exp), "%d", reg->asked);
	osip_message_set_expires(m, exp);
	osip_message_set_user_agent(m, "rtcgate");
	g_free(from);
	g_free(contact);
	return m;
}

/* Send our REGISTER, answering challenge (a 401/407) when given: 0, 503 (no PBX), 403. */
static int send_register(struct held_reg *reg, const osip_message_t *challenge)
{
	struct b2bua *b = reg->b;
	struct b2bua_route r;
	osip_message_t *m;

	if (!b2bua_pbx_route(b, &r))
		return 503;
	m = build_register(reg, &r);
	if (!m)
		return 503;
	if (challenge && !b2bua_auth_answer(b, reg->login, challenge, m)) {
		osip_message_free(m);
		return 403;
	}
	reg->auth_sent = challenge != NULL;
	reg->handle = b->next_handle++;
	sip_stack_request(b->st, r.peer, m, reg->handle);
	return 0;
}

static void pbx_failed(struct held_reg *reg, int code);

static gboolean on_refresh(gpointer data)
{
	struct held_reg *reg = data;
	int rc;

	reg->refresh = 0;
	if (reg->handle)
		return G_SOURCE_REMOVE; /* one in flight already */
	rc = send_register(reg, NULL);
	if (rc)
		pbx_failed(reg, rc);
	return G_SOURCE_REMOVE;
}

static void schedule_refresh(struct held_reg *reg, int seconds)
{
	remove_source(&reg->refresh);
	reg->refresh = g_timeout_add_seconds((guint)seconds, on_refresh, reg);
}

/* Unregister at the PBX (expires 0); reg goes once the PBX answered, or at once if never bound. */
static void unregister(struct held_reg *reg, const char *why)
{
	log_info(LOG_SIP, "held unregister", "login=%s reason=%s", reg->login, why);
	wait_refuse(reg, 503, "Registration ended");
	detach(reg);
	remove_source(&reg->refresh);
	remove_source(&reg->grace);
	if (!reg->registered && !reg->handle) {
		reg_remove(reg);
		return;
	}
	reg->unregistering = true;
	reg->asked = 0;
	if (send_register(reg, NULL) != 0)
		reg_remove(reg);
}

/* The PBX refused (code), did not answer (408) or cannot be reached (503). */
static void pbx_failed(struct held_reg *reg, int code)
{
	const char *why = NULL;
	int status = sip_reg_browser_status(code, &why);

	reg->handle = 0;
	if (reg->unregistering) {
		reg_remove(reg);
		return;
	}
	log_warn(LOG_SIP, "held register failed", "login=%s code=%d", reg->login, code);
	b2bua_count_register(reg->b, code == 503 && !reg->registered ? "pbx_down" : "failed");
	wait_refuse(reg, status, why);
	if (!reg->registered || !reg->flow) {
		if (reg->flow)
			b2bua_flow_registered(reg->b, reg->flow, false, NULL, NULL);
		reg_remove(reg);
		return;
	}
	/* a refresh failed while a browser is attached: keep trying */
	reg->registered = false;
	schedule_refresh(reg, RETRY_SECONDS);
}

/* 200 to the browser: its own Contact with the expiry it was granted (RFC 3261 §10.3 step 8). */
static void answer_ok(struct held_reg *reg, osip_transaction_t *tr, const osip_message_t *req,
                      struct flow_state *fs)
{
	osip_message_t *r = sip_msg_response(req, 200, NULL, NULL);
	osip_contact_t *c = NULL, *copy = NULL;

	attach(reg, fs);
	b2bua_flow_registered(reg->b, fs, true, reg->login, req);
	if (r && osip_message_get_contact(req, 0, &c) >= 0 && c && c->url &&
	    osip_contact_clone(c, &copy) == 0) {
		sip_msg_contact_set_expires(copy, reg->browser_expires);
		osip_list_add(&r->contacts, copy, -1);
	}
	if (r)
		sip_stack_respond(reg->b->st, tr, r);
	b2bua_count_register(reg->b, "ok");
}

static void pbx_bound(struct held_reg *reg, const osip_message_t *resp)
{
	int granted = sip_reg_granted(resp, reg->token, reg->asked);

	if (granted <= 0) {
		pbx_failed(reg, 500); /* the registrar did not keep our binding */
		return;
	}
	if (!reg->registered)
		log_info(LOG_SIP, "held registered", "login=%s expires=%d", reg->login, granted);
	reg->granted = granted;
	reg->registered = true;
	schedule_refresh(reg, sip_reg_refresh_after(granted));
	if (reg->wait_tr && reg->wait_flow && !reg->wait_flow->closed)
		answer_ok(reg, reg->wait_tr, reg->wait_req, b2bua_flow_of(reg->wait_flow));
	else
		wait_refuse(reg, 480, "Flow closed");
	wait_clear(reg);
	if (!reg->flow && !reg->grace)
		orphan(reg); /* the browser went away while we registered */
}

static struct held_reg *by_handle(struct b2bua *b, uint64_t handle)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, b->held);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (((struct held_reg *)v)->handle == handle)
			return v;
	}
	return NULL;
}

bool b2bua_held_response(struct b2bua *b, uint64_t handle, const osip_message_t *resp)
{
	struct held_reg *reg = handle ? by_handle(b, handle) : NULL;
	int code = resp->status_code;

	if (!reg)
		return false;
	if (code < 200)
		return true;
	reg->handle = 0;
	if (code < 300 && reg->unregistering) {
		log_info(LOG_SIP, "held unregistered", "login=%s", reg->login);
		reg_remove(reg);
	} else if (code < 300) {
		pbx_bound(reg, resp);
	} else if ((code == 401 || code == 407) && !reg->auth_sent) {
		/* one answer per challenge (RFC 3261 §22.2); a second one is a refusal */
		int rc = send_register(reg, resp);

		if (rc)
			pbx_failed(reg, rc);
	} else {
		pbx_failed(reg, code);
	}
	return true;
}

bool b2bua_held_failed(struct b2bua *b, uint64_t handle, int code)
{
	struct held_reg *reg = handle ? by_handle(b, handle) : NULL;

	if (!reg)
		return false;
	pbx_failed(reg, code == 408 ? 408 : 503);
	return true;
}

static void challenge(struct b2bua *b, osip_transaction_t *tr, const osip_message_t *req,
                      bool stale)
{
	osip_message_t *r = sip_msg_response(req, 401, NULL, NULL);
	char nonce[64];

	if (!r)
		return;
	sip_digest_nonce(b->nonce_key, now_s(), NONCE_TTL, nonce, sizeof(nonce));
	/* SHA-256 first, as RFC 8760 §2.4 asks (most preferred first), MD5 last: JsSIP keeps
	 * only the last WWW-Authenticate of a response and answers only MD5 */
	for (const char *const *alg = (const char *const[]){ "SHA-256", "MD5", NULL }; *alg;
	     alg++) {
		char *v = g_strdup_printf("Digest realm=\"%s\", nonce=\"%s\", algorithm=%s, "
		                          "qop=\"auth\"%s",
		                          b->realm, nonce, *alg, stale ? ", stale=true" : "");

		osip_message_set_www_authenticate(r, v);
		g_free(v);
	}
	sip_stack_respond(b->st, tr, r);
	b2bua_count_register(b, "challenged");
}

/* Check the browser's Authorization against login's stored HA1. */
static enum sip_digest_check verify(struct b2bua *b, const char *value, const char *login,
                                    bool *ha1_stale)
{
	enum sip_digest_alg alg;
	enum sip_digest_check rc;
	char ha1[DEVSECRET_SHA256_HEX];
	int h;

	if (sip_digest_algorithm(value, &alg) != 0)
		return SIP_DIGEST_MALFORMED;
	h = devices_ha1(b->dev, login, alg == SIP_DIGEST_SHA256 ? DEVSECRET_SHA256 : DEVSECRET_MD5,
	                ha1, sizeof(ha1));
	*ha1_stale = h == ESTALE;
	if (h)
		return SIP_DIGEST_WRONG;
	rc = sip_digest_verify(value, "REGISTER", b->realm, login, ha1, alg, b->nonce_key, now_s());
	memset(ha1, 0, sizeof(ha1));
	return rc;
}

/* True when req carries a valid answer for login's web secret; otherwise it is answered. */
static bool authenticated(struct b2bua *b, osip_transaction_t *tr, const osip_message_t *req,
                          const char *login)
{
	osip_authorization_t *a = NULL;
	char *value = NULL;
	bool ha1_stale = false;
	enum sip_digest_check rc = SIP_DIGEST_MALFORMED;

	if (osip_message_get_authorization(req, 0, &a) >= 0 && a &&
	    osip_authorization_to_str(a, &value) == 0)
		rc = verify(b, value, login, &ha1_stale);
	else
		rc = SIP_DIGEST_FOREIGN; /* no credentials yet */
	osip_free(value);
	if (rc == SIP_DIGEST_OK)
		return true;
	if (rc == SIP_DIGEST_WRONG) {
		log_info(LOG_SIP, "register refused", "login=%s reason=%s", login,
		         ha1_stale ? "secret_of_another_realm" : "wrong_secret");
		b2bua_count_register(b, "refused");
		b2bua_respond(b, tr, req, 403,
		              ha1_stale ? "Device secret must be set again" : "Wrong credentials");
		return false;
	}
	/* none yet, not our nonce (a restart), or malformed: a fresh challenge */
	challenge(b, tr, req, rc == SIP_DIGEST_STALE);
	return false;
}

/* The binding's key: the device and its RFC 5626 identity, else the device and this flow. */
static char *reg_key(const char *login, const osip_contact_t *c, const struct flow_state *fs,
                     bool *instance)
{
	char inst[SIP_REG_INSTANCE_MAX];
	unsigned reg_id;

	*instance = c && sip_reg_flow_id(c, inst, sizeof(inst), &reg_id);
	if (*instance)
		return g_strdup_printf("%s\n%s\n%u", login, inst, reg_id);
	return g_strdup_printf("%s\nflow:%" G_GUINT64_FORMAT, login, (guint64)fs->f->id);
}

static struct held_reg *reg_new(struct b2bua *b, char *key, bool instance, const char *login,
                                const osip_message_t *req)
{
	struct held_reg *reg = g_new0(struct held_reg, 1);
	struct device *dev = NULL;
	const char *host = req->to->url->host;

	reg->b = b;
	reg->key = key;
	reg->instance = instance;
	g_strlcpy(reg->login, login, sizeof(reg->login));
	sip_msg_token(reg->token, B2BUA_TOKEN_LEN);
	sip_msg_token(reg->call_id, 32);
	sip_msg_token(reg->from_tag, 16);
	osip_uri_to_str(req->req_uri, &reg->req_uri);
	devices_get(b->dev, login, &dev);
	reg->aor =
	        g_strdup_printf("<sip:%s@%s%s%s>", dev && dev->extension ? dev->extension : login,
	                        host ? host : "invalid", req->to->url->port ? ":" : "",
	                        req->to->url->port ? req->to->url->port : "");
	devspec_device_free(dev);
	g_hash_table_insert(b->held, reg->key, reg);
	g_hash_table_insert(b->held_tokens, reg->token, reg);
	return reg;
}

/* No Contact: a query (RFC 3261 §10.2.3): the flow's binding, if any. */
static void query(struct b2bua *b, osip_transaction_t *tr, const osip_message_t *req,
                  struct flow_state *fs)
{
	osip_message_t *r = sip_msg_response(req, 200, NULL, NULL);
	osip_contact_t *c = NULL;

	if (!r)
		return;
	if (fs->held && fs->contact && osip_contact_init(&c) == 0) {
		osip_uri_clone(fs->contact, &c->url);
		sip_msg_contact_set_expires(c, fs->held->browser_expires);
		osip_list_add(&r->contacts, c, -1);
	}
	sip_stack_respond(b->st, tr, r);
}

/* expires 0, or Contact "*": the binding goes here and at the PBX; 200 at once. */
static void browser_unregister(struct b2bua *b, osip_transaction_t *tr, const osip_message_t *req,
                               struct flow_state *fs, struct held_reg *reg)
{
	if (!reg)
		reg = fs->held;
	if (reg)
		unregister(reg, "browser");
	if (fs->registered && !fs->held)
		b2bua_flow_registered(b, fs, false, NULL, NULL);
	b2bua_respond(b, tr, req, 200, NULL);
	b2bua_count_register(b, "ok");
}

/* After digest passed: take the binding over, or register it at the PBX first. */
static void take_binding(struct b2bua *b, osip_transaction_t *tr, const osip_message_t *req,
                         struct sip_peer *from, const char *login)
{
	struct flow_state *fs = b2bua_flow_of(from);
	osip_contact_t *c = NULL;
	struct held_reg *reg;
	bool instance;
	char *key;
	int asked, rc;

	osip_message_get_contact(req, 0, &c);
	if (!c) {
		query(b, tr, req, fs);
		return;
	}
	asked = c->url ? sip_reg_asked(req, c, EXPIRES_DEF, EXPIRES_MAX) : 0;
	key = reg_key(login, c->url ? c : NULL, fs, &instance);
	reg = g_hash_table_lookup(b->held, key);
	if (asked == 0) {
		g_free(key);
		browser_unregister(b, tr, req, fs, reg);
		return;
	}
	if (reg) {
		g_free(key);
	} else {
		reg = reg_new(b, key, instance, login, req);
	}
	if (reg->wait_tr) {
		b2bua_respond(b, tr, req, 500, "Registration in progress");
		return;
	}
	reg->browser_expires = asked;
	if (reg->registered && !reg->unregistering) {
		answer_ok(reg, tr, req, fs);
		return;
	}
	reg->unregistering = false;
	reg->asked = asked < EXPIRES_PBX_MIN ? EXPIRES_PBX_MIN : asked;
	reg->wait_tr = tr;
	reg->wait_flow = sip_peer_ref(from);
	osip_message_clone(req, &reg->wait_req);
	rc = send_register(reg, NULL);
	if (rc)
		pbx_failed(reg, rc);
}

void b2bua_held_register(struct b2bua *b, osip_transaction_t *tr, const osip_message_t *req,
                         struct sip_peer *from, const char *login)
{
	if (authenticated(b, tr, req, login))
		take_binding(b, tr, req, from, login);
}

void b2bua_held_flow_closed(struct b2bua *b, struct flow_state *fs)
{
	struct held_reg *reg = fs->held;

	(void)b;
	if (!reg)
		return;
	reg->flow = NULL;
	fs->held = NULL;
	orphan(reg);
}

void b2bua_held_device_gone(struct b2bua *b, const char *login)
{
	GPtrArray *gone = g_ptr_array_new();
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, b->held);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (strcmp(((struct held_reg *)v)->login, login) == 0)
			g_ptr_array_add(gone, v);
	}
	for (guint i = 0; i < gone->len; i++)
		unregister(gone->pdata[i], "device_disabled");
	g_ptr_array_free(gone, TRUE);
}

bool b2bua_held_has_token(struct b2bua *b, const char *token)
{
	return g_hash_table_contains(b->held_tokens, token);
}

void b2bua_held_new(struct b2bua *b, const char *realm)
{
	b->realm = g_strdup(realm);
	if (RAND_bytes(b->nonce_key, sizeof(b->nonce_key)) != 1) {
		/* GLib's generator is no CSPRNG, but a nonce key only has to be unguessable
		 * for the lifetime of a nonce; OpenSSL failing here is not expected */
		for (size_t i = 0; i < sizeof(b->nonce_key); i++)
			b->nonce_key[i] = (uint8_t)g_random_int();
	}
	b->held = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, reg_free);
	b->held_tokens = g_hash_table_new(g_str_hash, g_str_equal);
}

void b2bua_held_free(struct b2bua *b)
{
	if (b->held_tokens)
		g_hash_table_remove_all(b->held_tokens);
	if (b->held)
		g_hash_table_destroy(b->held);
	if (b->held_tokens)
		g_hash_table_destroy(b->held_tokens);
	g_free(b->realm);
}
