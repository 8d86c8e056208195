/* TURN requests: long-term authentication and Allocate, Refresh, CreatePermission,
 * ChannelBind, Send (RFC 8656 §7-§12, RFC 8489 §9.2). */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <string.h>

#include "core/log.h"
#include "relay/stun_priv.h"
#include "relay/turn_priv.h"

#define TRANSPORT_UDP 17

const char *const turn_auth_fail_names[AUTH_FAIL_COUNT] = {
	[AUTH_FAIL_MISSING] = "no_credentials",       [AUTH_FAIL_BAD_REQUEST] = "bad_request",
	[AUTH_FAIL_STALE_NONCE] = "stale_nonce",      [AUTH_FAIL_WRONG_REALM] = "wrong_realm",
	[AUTH_FAIL_UNKNOWN_USER] = "unknown_user",    [AUTH_FAIL_EXPIRED] = "expired_credential",
	[AUTH_FAIL_BAD_INTEGRITY] = "wrong_password",
};

/* One request being answered: where it came from and how to sign the answer. */
struct req {
	struct turn_worker *w;
	const struct stun_msg *m;
	const struct sockaddr *from;
	socklen_t fromlen;
	char username[STUN_MAX_USERNAME + 1];
	uint8_t key[32];
	size_t keylen; /* 0 until authenticated */
	bool sha256;   /* the request carries MESSAGE-INTEGRITY-SHA256: check and sign with it */
	enum stun_pw_alg alg;
};

static void begin(const struct req *r, struct stun_enc *e, uint16_t cls)
{
	stun_enc_start(e, turn_tx_slot(r->w), TURN_DGRAM_MAX, r->m->method, cls, r->m->tid);
}

/* Sign with the request's key (MESSAGE-INTEGRITY), add FINGERPRINT if the request had it, queue. */
static void finish(const struct req *r, struct stun_enc *e)
{
	size_t len;

	/* answered with the MAC the request used (RFC 8489 §9.2.4) */
	if (r->keylen && r->sha256)
		stun_enc_integrity_sha256(e, r->key, r->keylen);
	else if (r->keylen)
		stun_enc_integrity(e, r->key, r->keylen);
	if (r->m->fp_off)
		stun_enc_fingerprint(e);
	if (stun_enc_end(e, &len) == 0)
		turn_tx_commit(r->w, len, r->from, r->fromlen);
}

static void reply_error(const struct req *r, int code, const char *reason)
{
	struct stun_enc e;

	begin(r, &e, STUN_ERROR);
	stun_enc_error(&e, code, reason);
	finish(r, &e);
}

/* PASSWORD-ALGORITHMS we offer: MD5 and SHA-256, no parameters (RFC 8489 §14.11) */
static const uint8_t offered_algs[] = { 0, STUN_PW_MD5, 0, 0, 0, STUN_PW_SHA256, 0, 0 };

/* 401 and 438 carry REALM and a fresh NONCE bound to the client's address (§9.2.1). */
static void reply_challenge(const struct req *r, int code, const char *reason)
{
	const struct turn_snapshot *s = r->w->snap;
	/* username anonymity (USERHASH) works for the static users only */
	uint32_t features =
	        TURN_NONCE_FEATURE_PASSWORD_ALGORITHMS |
	        (g_hash_table_size(s->users) ? TURN_NONCE_FEATURE_USERNAME_ANONYMITY : 0);
	char nonce[TURN_NONCE_LEN + 1];
	struct stun_enc e;

	if (turn_nonce_make(s->nonce_key, r->w->now_real, s->nonce_ttl, features, r->from, nonce,
	                    sizeof(nonce)))
		return;
	begin(r, &e, STUN_ERROR);
	stun_enc_error(&e, code, reason);
	stun_enc_bytes(&e, STUN_ATTR_REALM, s->realm, strlen(s->realm));
	stun_enc_bytes(&e, STUN_ATTR_NONCE, nonce, TURN_NONCE_LEN);
	stun_enc_bytes(&e, STUN_ATTR_PASSWORD_ALGORITHMS, offered_algs, sizeof(offered_algs));
	finish(r, &e);
}

static bool attr_str(const struct stun_attr *a, char *out, size_t cap)
{
	if (!a || a->len >= cap)
		return false;
	memcpy(out, a->val, a->len);
	out[a->len] = '\0';
	return strlen(out) == a->len; /* no NUL inside */
}

/* Derive the key for password and check the request's MAC with it. */
static bool key_fits(struct req *r, const char *realm, const char *password)
{
	stun_key_long_term(r->alg, r->username, realm, password, r->key, &r->keylen);
	return (r->sha256 ? stun_msg_check_integrity_sha256(r->m, r->key, r->keylen)
	                  : stun_msg_check_integrity(r->m, r->key, r->keylen)) == 0;
}

/* Key for user from the static list or, for a REST username, from the first secret that fits. */
static enum turn_auth_fail find_key(struct req *r, const char *realm)
{
	const struct turn_snapshot *s = r->w->snap;
	const char *pw = g_hash_table_lookup(s->users, r->username);
	const char *user = NULL;
	uint64_t expiry;
	int rc;

	if (pw)
		return key_fits(r, realm, pw) ? AUTH_FAIL_COUNT : AUTH_FAIL_BAD_INTEGRITY;
	rc = turn_rest_check(r->username, r->w->now_real, &expiry, &user);
	if (rc == ETIME)
		return AUTH_FAIL_EXPIRED;
	if (rc || !s->secrets[0])
		return AUTH_FAIL_UNKNOWN_USER;
	for (char **sec = s->secrets; *sec; sec++) {
		char rest_pw[TURN_REST_PASSWORD_LEN + 1];

		if (turn_rest_password((const uint8_t *)*sec, strlen(*sec), r->username, rest_pw,
		                       sizeof(rest_pw)) == 0 &&
		    key_fits(r, realm, rest_pw))
			return AUTH_FAIL_COUNT;
	}
	return AUTH_FAIL_BAD_INTEGRITY;
}

/*
 * RFC 8489 §9.2.4 and §9.2.5 (bid-down protection): PASSWORD-ALGORITHM picks
 * the key derivation, and then PASSWORD-ALGORITHMS must be the list we sent.
 * Returns false when the pair is inconsistent (a 400).
 */
static bool pick_algorithm(struct req *r)
{
	const struct stun_attr *alg = stun_msg_attr(r->m, STUN_ATTR_PASSWORD_ALGORITHM);
	const struct stun_attr *algs = stun_msg_attr(r->m, STUN_ATTR_PASSWORD_ALGORITHMS);

	r->sha256 = r->m->mi256_off != 0;
	r->alg = STUN_PW_MD5;
	if (!alg)
		return !algs || (algs->len == sizeof(offered_algs) &&
		                 memcmp(algs->val, offered_algs, sizeof(offered_algs)) == 0);
	if (!algs || algs->len != sizeof(offered_algs) ||
	    memcmp(algs->val, offered_algs, sizeof(offered_algs)) != 0)
		return false;
	switch (stun_get16(alg->val)) {
	case STUN_PW_MD5: r->alg = STUN_PW_MD5; return true;
	case STUN_PW_SHA256: r->alg = STUN_PW_SHA256; return true;
	default: return false;
	}
}

/*
 * USERNAME, or USERHASH (RFC 8489 §14.4) for a static user when the client
 * took up the anonymity our nonces offer. false when neither is usable.
 */
static bool who(struct req *r, bool *unknown)
{
	const struct stun_attr *name = stun_msg_attr(r->m, STUN_ATTR_USERNAME);
	const struct stun_attr *hash = stun_msg_attr(r->m, STUN_ATTR_USERHASH);
	const char *user;

	*unknown = false;
	if (name || !hash)
		return attr_str(name, r->username, sizeof(r->username));
	user = g_hash_table_lookup(r->w->snap->userhash, hash->val);
	*unknown = user == NULL;
	g_strlcpy(r->username, user ? user : "", sizeof(r->username));
	return true;
}

/* Which check failed, with no answer queued yet; AUTH_FAIL_COUNT when all passed. */
static enum turn_auth_fail check_credentials(struct req *r)
{
	const struct turn_snapshot *s = r->w->snap;
	const struct stun_attr *nonce = stun_msg_attr(r->m, STUN_ATTR_NONCE);
	char realm[764];
	bool unknown;

	if (!r->m->mi_off && !r->m->mi256_off)
		return AUTH_FAIL_MISSING;
	if (!pick_algorithm(r) || !who(r, &unknown) ||
	    !attr_str(stun_msg_attr(r->m, STUN_ATTR_REALM), realm, sizeof(realm)) || !nonce)
		return AUTH_FAIL_BAD_REQUEST;
	if (turn_nonce_check(s->nonce_key, r->w->now_real, (const char *)nonce->val, nonce->len,
	                     r->from) != 0)
		return AUTH_FAIL_STALE_NONCE;
	if (strcmp(realm, s->realm) != 0)
		return AUTH_FAIL_WRONG_REALM;
	if (unknown)
		return AUTH_FAIL_UNKNOWN_USER;
	return find_key(r, realm);
}

/*
 * RFC 8489 §9.2.4 for one request. On success r->username and r->key are
 * set and true is returned; otherwise the error answer is queued, unless
 * the source has used up its rate of unauthenticated answers: every failed
 * check, whatever the MAC claimed, costs a token (turn.request_rate).
 */
static bool authenticate(struct req *r)
{
	enum turn_auth_fail fail = check_credentials(r);

	if (fail == AUTH_FAIL_COUNT)
		return true;
	r->keylen = 0; /* never sign with a key that did not verify */
	STAT_ADD(r->w->stats.auth_fail[fail], 1);
	log_debug(LOG_TURN, "auth failed", "reason=%s", turn_auth_fail_names[fail]);
	if (!ratelimit_allow(r->w->limiter, r->from, r->w->now_ms)) {
		STAT_ADD(r->w->stats.rate_limited, 1);
		return false;
	}
	/*
	 * REALM and NONCE are what a challenge is for, so 401/438 outgrow a
	 * minimal request (about 110 bytes for 20); the rate limit bounds them.
	 */
	switch (fail) {
	case AUTH_FAIL_BAD_REQUEST:
		reply_error(r, STUN_ERR_BAD_REQUEST, "USERNAME, REALM, NONCE or algorithms wrong");
		break;
	case AUTH_FAIL_STALE_NONCE: reply_challenge(r, STUN_ERR_STALE_NONCE, "Stale Nonce"); break;
	default: reply_challenge(r, STUN_ERR_UNAUTHORIZED, "Unauthorized"); break;
	}
	return false;
}

static uint32_t granted_lifetime(const struct req *r, bool allocate)
{
	uint32_t want = TURN_DEFAULT_LIFETIME;

	if (stun_attr_u32(stun_msg_attr(r->m, STUN_ATTR_LIFETIME), &want) != 0)
		want = TURN_DEFAULT_LIFETIME;
	if (allocate && want < TURN_DEFAULT_LIFETIME)
		want = TURN_DEFAULT_LIFETIME;
	return want < r->w->snap->max_lifetime ? want : r->w->snap->max_lifetime;
}

/*
 * ADDRESS-ERROR-CODE (RFC 8656 §18.13): why the IPv6 half of a dual
 * allocation failed. Family, reserved, then an ERROR-CODE's class and number.
 */
static void enc_address_error(struct stun_enc *e, int code)
{
	const char *reason = code == STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED
	                             ? "Address Family not Supported"
	                             : "Insufficient Capacity";
	uint8_t v[4 + 32] = { 0x02, 0, (uint8_t)(code / 100), (uint8_t)(code % 100) };
	size_t n = strlen(reason);

	memcpy(v + 4, reason, n);
	stun_enc_bytes(e, STUN_ATTR_ADDRESS_ERROR_CODE, v, 4 + n);
}

/* The Allocate success answer; the same for a retransmission (RFC 8656 §7.2). */
static void reply_allocated(const struct req *r, const struct turn_alloc *a)
{
	struct stun_enc e;
	struct sockaddr_storage mapped;

	peer_addr_normalise(r->from, &mapped);
	begin(r, &e, STUN_SUCCESS);
	for (size_t i = 0; i < a->nrelay; i++) {
		if (a->relay[i].ep.fd >= 0)
			stun_enc_xaddr(&e, STUN_ATTR_XOR_RELAYED_ADDRESS,
			               (const struct sockaddr *)&a->relay[i].addr);
	}
	if (a->dual_error)
		enc_address_error(&e, a->dual_error);
	stun_enc_u32(&e, STUN_ATTR_LIFETIME, (uint32_t)(a->expires - r->w->now));
	stun_enc_xaddr(&e, STUN_ATTR_XOR_MAPPED_ADDRESS, (const struct sockaddr *)&mapped);
	if (a->has_token)
		stun_enc_bytes(&e, STUN_ATTR_RESERVATION_TOKEN, a->token, 8);
	finish(r, &e);
}

/* REQUESTED- or ADDITIONAL-ADDRESS-FAMILY: 0 when absent, AF_INET/AF_INET6, or -1 when unknown. */
static int address_family(const struct stun_msg *m, uint16_t type)
{
	const struct stun_attr *a = stun_msg_attr(m, type);

	if (!a)
		return 0;
	return a->val[0] == 0x01 ? AF_INET : a->val[0] == 0x02 ? AF_INET6 : -1;
}

/* RFC 8489 §10: sent after authentication, so the redirection cannot be forged. */
static void reply_alternate(const struct req *r)
{
	struct stun_enc e;

	begin(r, &e, STUN_ERROR);
	stun_enc_error(&e, STUN_ERR_TRY_ALTERNATE, "Try Alternate");
	stun_enc_addr(&e, STUN_ATTR_ALTERNATE_SERVER,
	              (const struct sockaddr *)&r->w->snap->alternate);
	finish(r, &e);
}

/* The answer to a turn_alloc_create failure. */
static void reply_create_error(const struct req *r, int rc)
{
	switch (rc) {
	case EDQUOT:
		STAT_ADD(r->w->stats.quota_hits, 1);
		reply_error(r, STUN_ERR_ALLOCATION_QUOTA, "Allocation Quota Reached");
		break;
	case ENOENT: reply_error(r, STUN_ERR_INSUFFICIENT_CAPACITY, "No such reservation"); break;
	case EAFNOSUPPORT:
		reply_error(r, STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED,
		            "Address Family not Supported");
		break;
	default: reply_error(r, STUN_ERR_INSUFFICIENT_CAPACITY, "Insufficient Capacity"); break;
	}
}

/* RFC 8656 §7.2: relayed datagrams toward peers go with DF set. */
static void set_dont_fragment(const struct turn_alloc *a)
{
	int on = 1, pmtu = IP_PMTUDISC_DO;

	for (size_t i = 0; i < a->nrelay; i++) {
		if (a->relay[i].addr.ss_family == AF_INET)
			setsockopt(a->relay[i].ep.fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu,
			           sizeof(pmtu));
		else
			setsockopt(a->relay[i].ep.fd, IPPROTO_IPV6, IPV6_DONTFRAG, &on, sizeof(on));
	}
}

/*
 * The relay port wanted (RFC 8656 §7.2): EVEN-PORT, RESERVATION-TOKEN and
 * ADDITIONAL-ADDRESS-FAMILY, checked against each other and REQUESTED-
 * ADDRESS-FAMILY; *family is the first relay's. false when a 400 was queued.
 */
static bool port_request(const struct req *r, struct turn_port_req *pr, int *family)
{
	const struct stun_attr *even = stun_msg_attr(r->m, STUN_ATTR_EVEN_PORT);
	const struct stun_attr *token = stun_msg_attr(r->m, STUN_ATTR_RESERVATION_TOKEN);
	int requested = address_family(r->m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY);
	int additional = address_family(r->m, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY);

	if (token && (token->len != 8 || even || requested || additional)) {
		reply_error(r, STUN_ERR_BAD_REQUEST,
		            "RESERVATION-TOKEN with EVEN-PORT or an address family");
		return false;
	}
	if (additional && (requested || additional != AF_INET6)) {
		reply_error(
		        r, STUN_ERR_BAD_REQUEST,
		        "ADDITIONAL-ADDRESS-FAMILY must be IPv6, without REQUESTED-ADDRESS-FAMILY");
		return false;
	}
	if (even) {
		pr->even = true;
		pr->reserve = (even->val[0] & 0x80) != 0;
	}
	if (additional && pr->reserve) {
		reply_error(r, STUN_ERR_BAD_REQUEST, "No port reservation in a dual allocation");
		return false;
	}
	pr->dual = additional != 0;
	pr->token = token ? token->val : NULL;
	/* with a token, the reserved socket's family is the allocation's */
	*family = requested ? requested : token ? 0 : AF_INET;
	return true;
}

static void do_allocate(struct req *r)
{
	struct turn_worker *w = r->w;
	struct turn_alloc *a = turn_alloc_find(w, r->from);
	const struct stun_attr *transport = stun_msg_attr(r->m, STUN_ATTR_REQUESTED_TRANSPORT);
	struct turn_port_req pr = { 0 };
	int family, rc;

	if (a) {
		/* a retransmitted Allocate gets the same answer; any other is a mismatch */
		if (memcmp(a->tid, r->m->tid, STUN_TID_LEN) == 0 &&
		    strcmp(a->username, r->username) == 0)
			reply_allocated(r, a);
		else
			reply_error(r, STUN_ERR_ALLOCATION_MISMATCH, "Allocation Mismatch");
		return;
	}
	if (w->snap->alternate.ss_family) {
		reply_alternate(r);
		return;
	}
	if (!transport) {
		reply_error(r, STUN_ERR_BAD_REQUEST, "REQUESTED-TRANSPORT required");
		return;
	}
	if (transport->val[0] != TRANSPORT_UDP) {
		reply_error(r, STUN_ERR_UNSUPPORTED_TRANSPORT, "Unsupported Transport Protocol");
		return;
	}
	if (!port_request(r, &pr, &family))
		return;
	if (family < 0) {
		reply_error(r, STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED,
		            "Address Family not Supported");
		return;
	}
	rc = turn_alloc_create(w, r->from, r->fromlen, family, &pr, r->username, &a);
	if (rc) {
		reply_create_error(r, rc);
		return;
	}
	if (stun_msg_attr(r->m, STUN_ATTR_DONT_FRAGMENT))
		set_dont_fragment(a);
	memcpy(a->tid, r->m->tid, STUN_TID_LEN);
	memcpy(a->key, r->key, r->keylen);
	a->keylen = r->keylen;
	a->expires = w->now + granted_lifetime(r, true);
	reply_allocated(r, a);
}

/* The allocation of this 5-tuple, used by the same user; else the error is queued. */
static struct turn_alloc *own_allocation(const struct req *r)
{
	struct turn_alloc *a = turn_alloc_find(r->w, r->from);

	if (!a)
		reply_error(r, STUN_ERR_ALLOCATION_MISMATCH, "Allocation Mismatch");
	else if (strcmp(a->username, r->username) != 0)
		reply_error(r, STUN_ERR_WRONG_CREDENTIALS, "Wrong Credentials");
	else
		return a;
	return NULL;
}

static void do_refresh(struct req *r)
{
	struct turn_alloc *a = own_allocation(r);
	int family = address_family(r->m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY);
	struct turn_relay *relay = NULL;
	uint32_t lifetime;
	struct stun_enc e;

	if (!a)
		return;
	if (family && !(relay = turn_alloc_relay(a, family))) {
		reply_error(r, STUN_ERR_PEER_ADDRESS_FAMILY_MISMATCH,
		            "Peer Address Family Mismatch");
		return;
	}
	lifetime = granted_lifetime(r, false);
	/* in a dual allocation, lifetime 0 with a family releases that relay only (§8) */
	if (lifetime == 0 && relay && turn_alloc_relay(a, family == AF_INET ? AF_INET6 : AF_INET))
		turn_alloc_drop_relay(a, relay);
	else if (lifetime == 0)
		turn_alloc_free(a, "refresh_zero");
	else
		a->expires = r->w->now + lifetime;
	begin(r, &e, STUN_SUCCESS);
	stun_enc_u32(&e, STUN_ATTR_LIFETIME, lifetime);
	finish(r, &e);
}

/* Decode a XOR-PEER-ADDRESS and check family and policy; 0 or the STUN error code. */
static int check_peer(const struct req *r, const struct turn_alloc *a, const struct stun_attr *pa,
                      struct sockaddr_storage *peer)
{
	if (!pa || stun_attr_xaddr(r->m, pa, peer) != 0)
		return STUN_ERR_BAD_REQUEST;
	if (!turn_alloc_relay(a, peer->ss_family))
		return STUN_ERR_PEER_ADDRESS_FAMILY_MISMATCH;
	if (peer_policy_check(&r->w->snap->policy, (struct sockaddr *)peer) != PEER_ALLOWED) {
		char buf[64];

		STAT_ADD(r->w->stats.peer_denied, 1);
		log_info(LOG_TURN, "peer denied", "user=%s peer=%s", r->username,
		         turn_addr_str((struct sockaddr *)peer, buf, sizeof(buf)));
		return STUN_ERR_FORBIDDEN;
	}
	return 0;
}

static const char *error_reason(int code)
{
	switch (code) {
	case STUN_ERR_FORBIDDEN: return "Forbidden";
	case STUN_ERR_PEER_ADDRESS_FAMILY_MISMATCH: return "Peer Address Family Mismatch";
	case STUN_ERR_INSUFFICIENT_CAPACITY: return "Insufficient Capacity";
	default: return "Bad Request";
	}
}

static void do_create_permission(struct req *r)
{
	struct turn_alloc *a = own_allocation(r);
	struct sockaddr_storage peers[TURN_MAX_PERMS];
	size_t n = 0;
	struct stun_enc e;

	if (!a)
		return;
	/* all or nothing: every XOR-PEER-ADDRESS must pass before any is installed (§9.2) */
	for (size_t i = 0; i < r->m->nattrs; i++) {
		int code;

		if (r->m->attrs[i].type != STUN_ATTR_XOR_PEER_ADDRESS)
			continue;
		if (n == TURN_MAX_PERMS) {
			reply_error(r, STUN_ERR_INSUFFICIENT_CAPACITY, "Too many peers");
			return;
		}
		code = check_peer(r, a, &r->m->attrs[i], &peers[n]);
		if (code) {
			reply_error(r, code, error_reason(code));
			return;
		}
		n++;
	}
	if (n == 0) {
		reply_error(r, STUN_ERR_BAD_REQUEST, "XOR-PEER-ADDRESS required");
		return;
	}
	if (!turn_alloc_permits_fit(a, peers, n)) {
		reply_error(r, STUN_ERR_INSUFFICIENT_CAPACITY, "Too many permissions");
		return;
	}
	for (size_t i = 0; i < n; i++)
		turn_alloc_permit(a, (struct sockaddr *)&peers[i], r->w->now);
	begin(r, &e, STUN_SUCCESS);
	finish(r, &e);
}

static void do_channel_bind(struct req *r)
{
	struct turn_alloc *a = own_allocation(r);
	const struct stun_attr *cn = stun_msg_attr(r->m, STUN_ATTR_CHANNEL_NUMBER);
	struct sockaddr_storage peer;
	struct stun_enc e;
	uint16_t number;
	int code, rc;

	if (!a)
		return;
	if (!cn) {
		reply_error(r, STUN_ERR_BAD_REQUEST, "CHANNEL-NUMBER required");
		return;
	}
	number = stun_get16(cn->val);
	if (number < TURN_CHANNEL_MIN || number > TURN_CHANNEL_MAX) {
		reply_error(r, STUN_ERR_BAD_REQUEST, "Channel number out of range");
		return;
	}
	code = check_peer(r, a, stun_msg_attr(r->m, STUN_ATTR_XOR_PEER_ADDRESS), &peer);
	if (code) {
		reply_error(r, code, error_reason(code));
		return;
	}
	rc = turn_alloc_bind_channel(a, number, (struct sockaddr *)&peer, r->w->now);
	if (rc == EEXIST) {
		reply_error(r, STUN_ERR_BAD_REQUEST, "Channel or peer bound otherwise");
		return;
	}
	if (rc) {
		reply_error(r, STUN_ERR_INSUFFICIENT_CAPACITY, "Too many channels");
		return;
	}
	begin(r, &e, STUN_SUCCESS);
	finish(r, &e);
}

/* Send indication (§10.2): no answer ever; dropped without a permission. */
static void do_send(struct turn_worker *w, const struct stun_msg *m, const struct sockaddr *from)
{
	struct turn_alloc *a = turn_alloc_find(w, from);
	const struct stun_attr *data = stun_msg_attr(m, STUN_ATTR_DATA);
	struct sockaddr_storage peer;

	if (!a || !data ||
	    stun_attr_xaddr(m, stun_msg_attr(m, STUN_ATTR_XOR_PEER_ADDRESS), &peer) != 0)
		return;
	if (!turn_alloc_permitted(a, (struct sockaddr *)&peer, w->now)) {
		STAT_ADD(w->stats.no_permission, 1);
		return;
	}
	turn_alloc_send_to_peer(a, (struct sockaddr *)&peer, data->val, data->len);
}

void turn_handle_message(struct turn_worker *w, const struct stun_msg *m,
                         const struct sockaddr *from, socklen_t fromlen)
{
	struct req r = { .w = w, .m = m, .from = from, .fromlen = fromlen };

	if (m->cls == STUN_INDICATION) {
		if (m->method == STUN_SEND)
			do_send(w, m, from);
		return;
	}
	if (m->cls != STUN_REQUEST)
		return;
	if (m->method != STUN_ALLOCATE && m->method != STUN_REFRESH &&
	    m->method != STUN_CREATE_PERMISSION && m->method != STUN_CHANNEL_BIND) {
		/* an answer before authentication costs the source a token, like any challenge */
		if (!ratelimit_allow(w->limiter, from, w->now_ms))
			STAT_ADD(w->stats.rate_limited, 1);
		else
			reply_error(&r, STUN_ERR_BAD_REQUEST, "Unknown method");
		return;
	}
	if (!authenticate(&r))
		return;
	/* RFC 8489 §6.3.1: unknown attributes are looked at once authentication passed */
	if (m->nunknown) {
		struct stun_enc e;

		begin(&r, &e, STUN_ERROR);
		stun_enc_error(&e, STUN_ERR_UNKNOWN_ATTRIBUTE, "Unknown Attribute");
		stun_enc_unknown(&e, m->unknown, m->nunknown);
		finish(&r, &e);
		return;
	}
	switch (m->method) {
	case STUN_ALLOCATE: do_allocate(&r); break;
	case STUN_REFRESH: do_refresh(&r); break;
	case STUN_CREATE_PERMISSION: do_create_permission(&r); break;
	case STUN_CHANNEL_BIND: do_channel_bind(&r); break;
	default: break;
	}
}

/*
 *  0                   1                   2                   3
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Channel Number        |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * /                       Application Data                        /
 */
void turn_handle_channel_data(struct turn_worker *w, const uint8_t *in, size_t len,
                              const struct sockaddr *from)
{
	struct turn_alloc *a;
	const struct turn_chan *c;
	uint16_t n, dlen;

	n = stun_get16(in);
	dlen = stun_get16(in + 2);
	/* over UDP the datagram may carry padding, never less than the length says */
	if ((size_t)dlen + 4 > len) {
		STAT_ADD(w->stats.no_channel, 1);
		return;
	}
	a = turn_alloc_find(w, from);
	c = a ? turn_alloc_chan_by_number(a, n, w->now) : NULL;
	if (c)
		turn_alloc_send_to_peer(a, (const struct sockaddr *)&c->peer, in + 4, dlen);
	else
		STAT_ADD(w->stats.no_channel, 1);
}
