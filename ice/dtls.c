/* DTLS 1.2 (RFC 6347) endpoint over memory for DTLS-SRTP: RFC 5763 §5-6, RFC 5764 §4. */
#include "ice/dtls.h"

#include <errno.h>
#include <glib.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

#define DEF_MTU          1200
#define DEF_INITIAL_MS   250
#define DEF_MAX_MS       4000
#define DEF_HANDSHAKE_MS 15000
#define REASON_MAX       160
#define READS_MAX        16 /* SSL_read calls per datagram: a datagram holds a few records */
#define EXPORTER_LABEL   "EXTRACTOR-dtls_srtp" /* RFC 5764 §4.2 */

/* ECDHE only (forward secrecy), AEAD only; ECDSA first since our own key is P-256. */
#define CIPHERS                                                                           \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"                    \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-" \
	"SHA384:ECDHE-RSA-CHACHA20-POLY1305"

struct dtls_ctx {
	SSL_CTX *ssl_ctx;
	struct dtls_conf conf;
	char fingerprint[DTLS_FP_TEXT_MAX];
	char profiles[96];
};

struct dtls {
	struct dtls_ctx *ctx;
	SSL *ssl;
	enum dtls_role role;
	enum dtls_state state;
	struct dtls_fingerprint peer;
	struct ice_srtp *srtp;
	dtls_send_fn send;
	dtls_state_fn on_state;
	void *user;
	int64_t deadline;  /* monotonic µs: the handshake must be done by then */
	const uint8_t *in; /* the datagram being fed, until OpenSSL reads it */
	size_t in_len;
	enum ice_srtp_profile profile;
	struct dtls_stats stats;
	char reason[REASON_MAX];
};

/* ---- a=setup (RFC 5763 §5) ---- */

static const char *const setup_names[] = {
	[DTLS_SETUP_ACTPASS] = "actpass",
	[DTLS_SETUP_ACTIVE] = "active",
	[DTLS_SETUP_PASSIVE] = "passive",
	[DTLS_SETUP_HOLDCONN] = "holdconn",
};

int dtls_setup_parse(const char *s, enum dtls_setup *out)
{
	for (size_t i = 0; i < G_N_ELEMENTS(setup_names); i++) {
		if (g_ascii_strcasecmp(s, setup_names[i]) == 0) {
			*out = (enum dtls_setup)i;
			return 0;
		}
	}
	return EBADMSG;
}

const char *dtls_setup_name(enum dtls_setup s)
{
	return (size_t)s < G_N_ELEMENTS(setup_names) ? setup_names[s] : "?";
}

int dtls_setup_answer(enum dtls_setup offered, enum dtls_role *role, enum dtls_setup *ours)
{
	switch (offered) {
	case DTLS_SETUP_ACTPASS:
	case DTLS_SETUP_ACTIVE: *role = DTLS_ROLE_SERVER, *ours = DTLS_SETUP_PASSIVE; return 0;
	case DTLS_SETUP_PASSIVE: *role = DTLS_ROLE_CLIENT, *ours = DTLS_SETUP_ACTIVE; return 0;
	case DTLS_SETUP_HOLDCONN: break;
	}
	return EPROTO;
}

int dtls_setup_answered(enum dtls_setup answered, enum dtls_role *role)
{
	switch (answered) {
	case DTLS_SETUP_ACTIVE: *role = DTLS_ROLE_SERVER; return 0;
	case DTLS_SETUP_PASSIVE: *role = DTLS_ROLE_CLIENT; return 0;
	case DTLS_SETUP_ACTPASS:
	case DTLS_SETUP_HOLDCONN: break;
	}
	return EPROTO;
}

/* ---- the BIO: OpenSSL reads the datagram being fed and writes through the send callback ---- */

static int bio_write(BIO *b, const char *buf, int len)
{
	struct dtls *d = BIO_get_data(b);

	if (len <= 0)
		return 0;
	d->stats.datagrams_out++;
	d->send(d->user, (const uint8_t *)buf, (size_t)len);
	return len;
}

/* A datagram is read whole, once; a short buffer cuts it, as recv() on UDP would. */
static int bio_read(BIO *b, char *buf, int len)
{
	struct dtls *d = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (!d->in || len <= 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	n = MIN(d->in_len, (size_t)len);
	memcpy(buf, d->in, n);
	d->in = NULL;
	d->in_len = 0;
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct dtls *d = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH: return 1;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU: return (long)d->ctx->conf.mtu;
	default: return 0; /* pending bytes, MTU overhead, peer address: none of ours */
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO_METHOD *bio_method(void)
{
	static gsize once;
	static BIO_METHOD *m;

	if (g_once_init_enter(&once)) {
		m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rtcgate-dtls");
		if (m) {
			BIO_meth_set_write(m, bio_write);
			BIO_meth_set_read(m, bio_read);
			BIO_meth_set_ctrl(m, bio_ctrl);
			BIO_meth_set_create(m, bio_create);
		}
		g_once_init_leave(&once, 1);
	}
	return m;
}

/* ---- failure reasons ---- */

static void set_reason(struct dtls *d, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void set_reason(struct dtls *d, const char *fmt, ...)
{
	va_list ap;

	if (d->reason[0])
		return; /* the first cause is the one worth logging */
	va_start(ap, fmt);
	g_vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

static void enter(struct dtls *d, enum dtls_state st)
{
	d->state = st;
	if (d->on_state)
		d->on_state(d->user, st);
}

/* The handshake failed: keep the first reason, then OpenSSL's, and tell the leg. */
static int fail(struct dtls *d, int err)
{
	const char *why = ERR_reason_error_string(ERR_peek_error());

	if (why)
		set_reason(d, "handshake failed: %s", why);
	set_reason(d, "handshake failed");
	ERR_clear_error();
	enter(d, DTLS_STATE_FAILED);
	return err;
}

/* Alerts both ways: the peer's fatal alert or close_notify is the reason worth logging. */
static void info_cb(const SSL *ssl, int where, int ret)
{
	struct dtls *d = SSL_get_app_data(ssl);
	bool fatal = SSL_alert_type_string(ret)[0] == 'F';

	if (!d || !(where & SSL_CB_ALERT))
		return;
	if ((ret & 0xff) == SSL_AD_CLOSE_NOTIFY)
		set_reason(d, "%s close_notify", where & SSL_CB_READ ? "peer sent" : "sent");
	else if (fatal)
		set_reason(d, "%s fatal alert: %s", where & SSL_CB_READ ? "peer sent" : "sent",
		           SSL_alert_desc_string_long(ret));
}

/*
 * RFC 5763 §5: the certificate is self-signed; only its fingerprint, taken
 * from the peer's SDP (which came over the authenticated signaling), counts.
 */
static int verify_cb(X509_STORE_CTX *xs, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct dtls *d = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	struct dtls_fingerprint got;

	(void)arg;
	if (!d || !leaf || dtls_fingerprint_of(leaf, d->peer.hash, &got)) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_UNSPECIFIED);
		return 0;
	}
	if (!dtls_fingerprint_equal(&got, &d->peer)) {
		set_reason(d, "peer certificate does not match the fingerprint in its SDP");
		X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	return 1;
}

/* ---- the shared context ---- */

static void conf_defaults(struct dtls_conf *c)
{
	if (!c->mtu)
		c->mtu = DEF_MTU;
	if (!c->initial_timeout_ms)
		c->initial_timeout_ms = DEF_INITIAL_MS;
	if (!c->max_timeout_ms)
		c->max_timeout_ms = DEF_MAX_MS;
	if (!c->handshake_timeout_ms)
		c->handshake_timeout_ms = DEF_HANDSHAKE_MS;
	c->max_timeout_ms = MAX(c->max_timeout_ms, c->initial_timeout_ms);
}

/* The caller's list, or our order keeping only what libsrtp2 can do (RFC 7714 AEAD may be missing).
 */
static void pick_profiles(struct dtls_ctx *c)
{
	static const enum ice_srtp_profile order[] = {
		ICE_SRTP_AEAD_AES_128_GCM,
		ICE_SRTP_AEAD_AES_256_GCM,
		ICE_SRTP_AES128_CM_SHA1_80,
	};
	size_t o = 0;

	c->profiles[0] = '\0';
	if (c->conf.profiles) {
		if (g_strlcpy(c->profiles, c->conf.profiles, sizeof(c->profiles)) >=
		    sizeof(c->profiles))
			c->profiles[0] = '\0'; /* refused below rather than cut */
		c->conf.profiles = NULL;       /* the caller's string is not kept */
		return;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(order); i++) {
		if (!ice_srtp_profile_supported(order[i]))
			continue;
		o += (size_t)g_snprintf(c->profiles + o, sizeof(c->profiles) - o, "%s%s",
		                        o ? ":" : "", ice_srtp_profile_name(order[i]));
	}
}

static int setup_ssl_ctx(struct dtls_ctx *c, const struct dtls_cert *cert)
{
	SSL_CTX *s = c->ssl_ctx;

	SSL_CTX_set_options(s, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
	                               SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(s, verify_cb, NULL);
	SSL_CTX_set_info_callback(s, info_cb);
	if (SSL_CTX_set_min_proto_version(s, DTLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(s, CIPHERS) != 1 ||
	    SSL_CTX_set1_groups_list(s, "X25519:P-256:P-384") != 1 || !c->profiles[0] ||
	    SSL_CTX_set_tlsext_use_srtp(s, c->profiles) != 0 || /* 0 is success here */
	    dtls_cert_install(cert, s))
		return EPROTO;
	return 0;
}

int dtls_ctx_new(const struct dtls_cert *cert, const struct dtls_conf *conf, struct dtls_ctx **out,
                 char **why)
{
	struct dtls_ctx *c = g_new0(struct dtls_ctx, 1);

	if (conf)
		c->conf = *conf;
	conf_defaults(&c->conf);
	if (ice_srtp_global_init()) {
		*why = g_strdup("libsrtp2 failed to initialise");
		goto fail;
	}
	pick_profiles(c);
	c->ssl_ctx = SSL_CTX_new(DTLS_method());
	if (!bio_method() || !c->ssl_ctx || setup_ssl_ctx(c, cert)) {
		*why = g_strdup_printf("cannot set up DTLS-SRTP: %s",
		                       ERR_peek_error() ? ERR_reason_error_string(ERR_peek_error())
		                                        : "no SRTP profile available");
		goto fail;
	}
	g_strlcpy(c->fingerprint, dtls_cert_fingerprint_sdp(cert), sizeof(c->fingerprint));
	*out = c;
	return 0;
fail:
	ERR_clear_error();
	dtls_ctx_free(c);
	return EPROTO;
}

const char *dtls_ctx_fingerprint_sdp(const struct dtls_ctx *ctx)
{
	return ctx->fingerprint;
}

const char *dtls_ctx_profiles(const struct dtls_ctx *ctx)
{
	return ctx->profiles;
}

void dtls_ctx_free(struct dtls_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	g_free(ctx);
}

/* ---- one endpoint ---- */

/* RFC 6347 §4.2.4.1: start at initial, double each time, up to the cap. */
static unsigned int timer_cb(SSL *ssl, unsigned int prev_us)
{
	struct dtls *d = SSL_get_app_data(ssl);
	uint64_t next = prev_us ? (uint64_t)prev_us * 2 : d->ctx->conf.initial_timeout_ms * 1000ull;

	return (unsigned int)MIN(next, d->ctx->conf.max_timeout_ms * 1000ull);
}

struct dtls *dtls_new(struct dtls_ctx *ctx, enum dtls_role role,
                      const struct dtls_fingerprint *peer, struct ice_srtp *srtp, dtls_send_fn send,
                      dtls_state_fn on_state, void *user)
{
	struct dtls *d = g_new0(struct dtls, 1);
	BIO *bio;

	*d = (struct dtls){ .ctx = ctx,
		            .role = role,
		            .peer = *peer,
		            .srtp = srtp,
		            .send = send,
		            .on_state = on_state,
		            .user = user };
	d->ssl = SSL_new(ctx->ssl_ctx);
	bio = d->ssl ? BIO_new(bio_method()) : NULL;
	if (!bio) {
		ERR_clear_error();
		SSL_free(d->ssl);
		g_free(d);
		return NULL;
	}
	BIO_set_data(bio, d);
	SSL_set_bio(d->ssl, bio, bio); /* one BIO both ways: the SSL owns it */
	SSL_set_app_data(d->ssl, d);
	SSL_set_mtu(d->ssl, ctx->conf.mtu);
	DTLS_set_timer_cb(d->ssl, timer_cb);
	if (role == DTLS_ROLE_CLIENT)
		SSL_set_connect_state(d->ssl);
	else
		SSL_set_accept_state(d->ssl);
	return d;
}

/* RFC 5764 §4.2: client key, server key, client salt, server salt. */
static int export_keys(struct dtls *d, struct ice_srtp_keys *k)
{
	const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
	uint8_t m[2 * ICE_SRTP_MASTER_MAX];
	size_t kl, sl;
	struct ice_srtp_master *client, *server;

	if (!p || ice_srtp_profile_lengths((enum ice_srtp_profile)p->id, &kl, &sl)) {
		set_reason(d, "no SRTP profile in common (use_srtp, RFC 5764 §4.1.2)");
		return EPROTO;
	}
	if (SSL_export_keying_material(d->ssl, m, 2 * (kl + sl), EXPORTER_LABEL,
	                               strlen(EXPORTER_LABEL), NULL, 0, 0) != 1) {
		set_reason(d, "cannot export the SRTP keying material");
		return EPROTO;
	}
	k->profile = (enum ice_srtp_profile)p->id;
	client = d->role == DTLS_ROLE_CLIENT ? &k->local : &k->remote;
	server = d->role == DTLS_ROLE_CLIENT ? &k->remote : &k->local;
	client->key_len = server->key_len = (uint8_t)kl;
	client->salt_len = server->salt_len = (uint8_t)sl;
	memcpy(client->bytes, m, kl);
	memcpy(server->bytes, m + kl, kl);
	memcpy(client->bytes + kl, m + 2 * kl, sl);
	memcpy(server->bytes + kl, m + 2 * kl + sl, sl);
	OPENSSL_cleanse(m, sizeof(m));
	return 0;
}

static int handshake_done(struct dtls *d)
{
	struct ice_srtp_keys k;
	int rc = export_keys(d, &k);

	if (!rc && ice_srtp_set_keys(d->srtp, &k)) {
		set_reason(d, "libsrtp2 refused the exported keys");
		rc = EPROTO;
	}
	d->profile = k.profile;
	OPENSSL_cleanse(&k, sizeof(k));
	if (rc) {
		SSL_shutdown(d->ssl); /* close_notify: the peer hears that we stopped */
		return fail(d, rc);
	}
	enter(d, DTLS_STATE_CONNECTED);
	return 0;
}

/* Run OpenSSL on whatever is pending: the handshake, or reads after it (retransmissions). */
static int step(struct dtls *d)
{
	uint8_t sink[2048];
	int r;

	ERR_clear_error();
	if (d->state == DTLS_STATE_HANDSHAKING) {
		r = SSL_do_handshake(d->ssl);
		if (r == 1)
			return handshake_done(d);
		if (SSL_get_error(d->ssl, r) == SSL_ERROR_WANT_READ)
			return 0;
		return fail(d, EPROTO);
	}
	/* application data is not part of DTLS-SRTP without data channels: read and dropped */
	for (int i = 0; i < READS_MAX; i++) {
		r = SSL_read(d->ssl, sink, sizeof(sink));
		if (r > 0)
			continue;
		switch (SSL_get_error(d->ssl, r)) {
		case SSL_ERROR_WANT_READ: return 0;
		case SSL_ERROR_ZERO_RETURN:
			set_reason(d, "peer sent close_notify");
			ERR_clear_error();
			enter(d, DTLS_STATE_CLOSED);
			return EPIPE;
		default: return fail(d, EPROTO);
		}
	}
	return 0;
}

int dtls_start(struct dtls *d, int64_t now)
{
	if (d->state != DTLS_STATE_NEW)
		return EALREADY;
	d->deadline = now + (int64_t)d->ctx->conf.handshake_timeout_ms * 1000;
	d->state = DTLS_STATE_HANDSHAKING;
	/* a server's first SSL_do_handshake only waits for the ClientHello */
	return step(d);
}

/*
 * RFC 6347 §4.1: a datagram is one or more whole records, each
 *   type(1) version(2) epoch(2) sequence_number(6) length(2) fragment(length)
 * with a DTLS version (major 254). Anything else is dropped here, before OpenSSL.
 */
static bool whole_records(const uint8_t *p, size_t len)
{
	if (len == 0)
		return false;
	while (len) {
		size_t frag;

		if (len < 13 || p[0] < 20 || p[0] > 23 || p[1] != 254)
			return false;
		frag = (size_t)p[11] << 8 | p[12];
		if (frag > len - 13)
			return false;
		p += 13 + frag;
		len -= 13 + frag;
	}
	return true;
}

int dtls_input(struct dtls *d, const uint8_t *buf, size_t len, int64_t now)
{
	int rc;

	(void)now;
	if (d->state == DTLS_STATE_NEW)
		return ENOTCONN;
	if (d->state != DTLS_STATE_HANDSHAKING && d->state != DTLS_STATE_CONNECTED)
		return EPIPE;
	d->stats.datagrams_in++;
	if (!whole_records(buf, len)) {
		d->stats.malformed++;
		return EBADMSG;
	}
	d->in = buf;
	d->in_len = len;
	rc = step(d);
	d->in = NULL; /* never read a caller's buffer after the call */
	d->in_len = 0;
	return rc;
}

int dtls_next_timeout(const struct dtls *d, int64_t now)
{
	struct timeval tv;
	int64_t ms = -1;

	if (d->state != DTLS_STATE_HANDSHAKING && d->state != DTLS_STATE_CONNECTED)
		return -1;
	if (DTLSv1_get_timeout(d->ssl, &tv) == 1)
		ms = (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
	if (d->state == DTLS_STATE_HANDSHAKING) {
		int64_t left = d->deadline > now ? (d->deadline - now + 999) / 1000 : 0;

		ms = ms < 0 ? left : MIN(ms, left);
	}
	return (int)MIN(ms, INT32_MAX);
}

int dtls_handle_timeout(struct dtls *d, int64_t now)
{
	int r;

	if (d->state != DTLS_STATE_HANDSHAKING && d->state != DTLS_STATE_CONNECTED)
		return 0;
	if (d->state == DTLS_STATE_HANDSHAKING && now >= d->deadline) {
		set_reason(d, "handshake not done within %u ms", d->ctx->conf.handshake_timeout_ms);
		return fail(d, ETIMEDOUT);
	}
	ERR_clear_error();
	r = DTLSv1_handle_timeout(d->ssl);
	if (r > 0)
		d->stats.retransmits++;
	if (r < 0) {
		set_reason(d, "peer silent through %d retransmissions", DTLS1_TMO_ALERT_COUNT);
		return fail(d, ETIMEDOUT);
	}
	return 0;
}

void dtls_close(struct dtls *d)
{
	if (d->state == DTLS_STATE_CONNECTED) {
		ERR_clear_error();
		SSL_shutdown(d->ssl);
		ERR_clear_error();
	}
	if (d->state != DTLS_STATE_FAILED) {
		set_reason(d, "closed by us");
		d->state = DTLS_STATE_CLOSED;
	}
}

enum dtls_state dtls_state(const struct dtls *d)
{
	return d->state;
}

const char *dtls_reason(const struct dtls *d)
{
	return d->reason;
}

bool dtls_profile(const struct dtls *d, enum ice_srtp_profile *out)
{
	if (d->state != DTLS_STATE_CONNECTED)
		return false;
	*out = d->profile;
	return true;
}

const struct dtls_stats *dtls_stats(const struct dtls *d)
{
	return &d->stats;
}

void dtls_free(struct dtls *d)
{
	if (!d)
		return;
	SSL_free(d->ssl);
	g_free(d);
}
