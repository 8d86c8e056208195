/*
 * SIP over TCP and TLS toward one PBX hop (RFC 3261 §18.3: Content-Length
 * frames messages; RFC 5626 §4.4.1: CRLF keepalives), opened on demand,
 * reopened after a loss with backoff. Non-blocking sockets on the GLib loop.
 */
#include "signaling/sip_tcp.h"

#include <errno.h>
#include <glib-unix.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "signaling/sip_addr.h"
#include "signaling/sip_frame.h"
#include "signaling/sip_msg.h"

/* Room for one message of SIP_MSG_MAX and the CRLFs around it. */
#define IN_CAP (SIP_MSG_MAX + 4096)
/* Output waiting for the socket; a send beyond it gets ENOBUFS. */
#define OUT_MAX (256 * 1024)
/* Waits before reconnecting after the n-th failure in a row: 1 s, 2 s, 4 s, … at most this. */
#define BACKOFF_MAX_S 30
/* Reads per wake-up, so one busy connection cannot hold the loop. */
#define READS_PER_WAKEUP 16

enum conn_state { CONN_IDLE, CONN_CONNECTING, CONN_HANDSHAKE, CONN_OPEN };

struct sip_tcp {
	struct sip_tcp_opts o;
	char name[64], host[256];
	struct sip_tcp_handlers h;
	void *user;
	struct sockaddr_in6 to;
	bool have_address;
	enum conn_state state;
	int fd;
	SSL *ssl;
	guint watch, keepalive, lost, again;
	GIOCondition cond;      /* of watch */
	GIOCondition tls_wants; /* what the last SSL call waits for */
	GByteArray *out;        /* queued bytes, sent from the front */
	char *in;               /* IN_CAP bytes */
	size_t inlen;
	struct sip_frame frame;
	unsigned fails;  /* failures in a row, for the backoff */
	gint64 retry_at; /* monotonic µs; no connect before it */
};

static gboolean on_io(gint fd, GIOCondition cond, gpointer data);

static void watch(struct sip_tcp *c, GIOCondition cond)
{
	if (c->watch && c->cond == cond)
		return;
	if (c->watch)
		g_source_remove(c->watch);
	c->watch = c->fd >= 0 && cond ? g_unix_fd_add(c->fd, cond, on_io, c) : 0;
	c->cond = cond;
}

/* What the socket must wait for now. */
static void rewatch(struct sip_tcp *c)
{
	GIOCondition cond = 0;

	if (c->state == CONN_CONNECTING)
		cond = G_IO_OUT;
	else if (c->state == CONN_HANDSHAKE)
		cond = c->tls_wants;
	else if (c->state == CONN_OPEN)
		cond = G_IO_IN | (c->out->len ? G_IO_OUT : 0) | c->tls_wants;
	watch(c, cond);
}

static gboolean report_lost(gpointer data)
{
	struct sip_tcp *c = data;

	c->lost = 0;
	c->h.lost(c->user);
	return G_SOURCE_REMOVE;
}

/* Close the socket; a failure (why set) counts toward the backoff of the next connect. */
static void conn_close(struct sip_tcp *c, const char *why)
{
	watch(c, 0);
	if (c->keepalive)
		g_source_remove(c->keepalive);
	if (c->again)
		g_source_remove(c->again);
	c->keepalive = c->again = 0;
	if (c->ssl)
		SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = CONN_IDLE;
	c->inlen = 0;
	c->tls_wants = 0;
	memset(&c->frame, 0, sizeof(c->frame));
	g_byte_array_set_size(c->out, 0);
	if (why) {
		guint delay = c->fails < 5 ? 1u << c->fails : BACKOFF_MAX_S;

		c->fails++;
		delay = delay > BACKOFF_MAX_S ? BACKOFF_MAX_S : delay;
		c->retry_at = g_get_monotonic_time() + (gint64)delay * G_USEC_PER_SEC;
		log_warn(LOG_SIP, "pbx connection closed", "target=%s reason=\"%s\" retry_s=%u",
		         c->name, why, delay);
		if (!c->lost)
			c->lost = g_idle_add(report_lost, c);
	}
}

/* The reason of the last TLS failure, without secrets: OpenSSL's error or the verify result. */
static void tls_failure(struct sip_tcp *c, char *out, size_t n)
{
	long v = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;
	unsigned long e = ERR_peek_last_error();

	if (v != X509_V_OK)
		g_snprintf(out, n, "TLS: certificate not accepted: %s",
		           X509_verify_cert_error_string(v));
	else if (e)
		g_snprintf(out, n, "TLS: %s", ERR_reason_error_string(e));
	else
		g_snprintf(out, n, "TLS: handshake failed: %s", g_strerror(errno));
	ERR_clear_error();
}

/* 0 when the TLS call may go on later (tls_wants set), else -1 after closing. */
static int tls_wait(struct sip_tcp *c, int rc)
{
	char why[256];
	int e = SSL_get_error(c->ssl, rc);

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->tls_wants = e == SSL_ERROR_WANT_READ ? G_IO_IN : G_IO_OUT;
		return 0;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		g_strlcpy(why, "closed by the peer", sizeof(why));
	else
		tls_failure(c, why, sizeof(why));
	conn_close(c, why);
	return -1;
}

static gboolean send_keepalive(gpointer data);

static void opened(struct sip_tcp *c)
{
	c->state = CONN_OPEN;
	c->fails = 0;
	c->tls_wants = 0;
	log_info(LOG_SIP, "pbx connection open", "target=%s tls=%s", c->name,
	         c->ssl ? SSL_get_version(c->ssl) : "no");
	if (c->o.keepalive > 0)
		c->keepalive = g_timeout_add_seconds((guint)c->o.keepalive, send_keepalive, c);
}

static void handshake(struct sip_tcp *c)
{
	int rc;

	ERR_clear_error();
	rc = SSL_do_handshake(c->ssl);
	if (rc == 1)
		opened(c);
	else if (tls_wait(c, rc) != 0)
		return;
	rewatch(c);
}

static int tls_start(struct sip_tcp *c)
{
	GInetAddress *ip = g_inet_address_new_from_string(c->host);
	X509_VERIFY_PARAM *vp;

	c->ssl = SSL_new(c->o.tls);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) {
		g_clear_object(&ip);
		return ENOMEM;
	}
	SSL_set_connect_state(c->ssl);
	vp = SSL_get0_param(c->ssl);
	/* RFC 6066 §3: no SNI for an address; the certificate must name what we connected to */
	if (ip) {
		X509_VERIFY_PARAM_set1_ip_asc(vp, c->host);
		g_object_unref(ip);
	} else {
		SSL_set_tlsext_host_name(c->ssl, c->host);
		X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		X509_VERIFY_PARAM_set1_host(vp, c->host, 0);
	}
	c->state = CONN_HANDSHAKE;
	handshake(c);
	return 0;
}

static void connected(struct sip_tcp *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err) {
		char why[128];

		g_snprintf(why, sizeof(why), "connect: %s", g_strerror(err));
		conn_close(c, why);
		return;
	}
	if (c->o.tls) {
		if (tls_start(c) != 0)
			conn_close(c, "TLS: cannot start");
		return;
	}
	opened(c);
	rewatch(c);
}

static int conn_open(struct sip_tcp *c)
{
	c->fd = sip_addr_socket(SOCK_STREAM);
	if (c->fd < 0)
		return errno;
	c->state = CONN_CONNECTING;
	if (connect(c->fd, (struct sockaddr *)&c->to, sizeof(c->to)) != 0 && errno != EINPROGRESS) {
		int e = errno;
		char why[128];

		g_snprintf(why, sizeof(why), "connect: %s", g_strerror(e));
		conn_close(c, why);
		return e;
	}
	rewatch(c);
	return 0;
}

/* Write what is queued; false when the connection was closed. */
static bool flush(struct sip_tcp *c)
{
	while (c->out->len) {
		ssize_t n;

		if (c->ssl) {
			ERR_clear_error();
			n = SSL_write(c->ssl, c->out->data, (int)MIN(c->out->len, G_MAXINT));
			if (n <= 0)
				return tls_wait(c, (int)n) == 0;
		} else {
			n = send(c->fd, c->out->data, c->out->len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return true;
			if (n < 0) {
				char why[128];

				g_snprintf(why, sizeof(why), "send: %s", g_strerror(errno));
				conn_close(c, why);
				return false;
			}
		}
		c->tls_wants = 0;
		g_byte_array_remove_range(c->out, 0, (guint)n);
	}
	return true;
}

static void queue(struct sip_tcp *c, const char *buf, size_t len)
{
	g_byte_array_append(c->out, (const guint8 *)buf, (guint)len);
	if (c->state == CONN_OPEN && flush(c))
		rewatch(c);
}

static gboolean send_keepalive(gpointer data)
{
	struct sip_tcp *c = data;

	/* RFC 5626 §4.4.1: a double CRLF ping; the pong (CRLF) is taken and ignored */
	if (c->out->len == 0)
		queue(c, "\r\n\r\n", 4);
	return G_SOURCE_CONTINUE;
}

/* Deliver the whole messages in the input buffer; false when the connection was closed. */
static bool deliver(struct sip_tcp *c)
{
	size_t at = 0;

	for (;;) {
		struct sip_frame_out f;
		int rc = sip_frame_next(&c->frame, c->in + at, c->inlen - at, SIP_MSG_MAX, &f);

		at += f.skip;
		if (f.lf >= 2 && c->state == CONN_OPEN)
			queue(c, "\r\n", 2); /* a ping from the PBX: pong */
		if (rc == ENODATA)
			break;
		if (rc != 0) {
			const char *reason = rc == EMSGSIZE ? "too_big" : "framing";

			conn_close(c, rc == EMSGSIZE ? "message over the size limit"
			                             : "message without a valid Content-Length");
			c->h.dropped(c->user, reason);
			return false;
		}
		c->h.message(c->user, c->in + at, f.len);
		at += f.len;
		if (c->state != CONN_OPEN)
			return false; /* closed while the message was handled */
	}
	memmove(c->in, c->in + at, c->inlen - at);
	c->inlen -= at;
	return true;
}

/* One read into the input buffer: its byte count, 0 for nothing now, -1 when closed. */
static ssize_t read_some(struct sip_tcp *c)
{
	size_t room = IN_CAP - c->inlen;
	ssize_t n;

	if (c->ssl) {
		ERR_clear_error();
		n = SSL_read(c->ssl, c->in + c->inlen, (int)room);
		if (n > 0)
			return n;
		return tls_wait(c, (int)n) == 0 ? 0 : -1;
	}
	n = recv(c->fd, c->in + c->inlen, room, MSG_DONTWAIT);
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	conn_close(c, n == 0 ? "closed by the peer" : g_strerror(errno));
	return -1;
}

static gboolean read_again(gpointer data);

static void readable(struct sip_tcp *c)
{
	for (int i = 0; i < READS_PER_WAKEUP && c->state == CONN_OPEN; i++) {
		ssize_t n = read_some(c);

		if (n <= 0)
			return;
		c->tls_wants = 0;
		c->inlen += (size_t)n;
		if (!deliver(c))
			return;
	}
	/* bytes OpenSSL decrypted and holds raise no event on the socket: come back for them */
	if (c->state == CONN_OPEN && c->ssl && SSL_pending(c->ssl) > 0 && !c->again)
		c->again = g_idle_add(read_again, c);
}

static gboolean read_again(gpointer data)
{
	struct sip_tcp *c = data;

	c->again = 0;
	readable(c);
	if (c->state == CONN_OPEN)
		rewatch(c);
	return G_SOURCE_REMOVE;
}

static gboolean on_io(gint fd, GIOCondition cond, gpointer data)
{
	struct sip_tcp *c = data;

	(void)fd;
	switch (c->state) {
	case CONN_CONNECTING: connected(c); break;
	case CONN_HANDSHAKE: handshake(c); break;
	case CONN_OPEN:
		if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR))
			readable(c);
		if (c->state == CONN_OPEN && (cond & G_IO_OUT || c->tls_wants == G_IO_OUT) &&
		    !flush(c))
			break;
		if (c->state == CONN_OPEN)
			rewatch(c);
		break;
	case CONN_IDLE: break;
	}
	return G_SOURCE_CONTINUE;
}

struct sip_tcp *sip_tcp_new(const struct sip_tcp_opts *opts, const struct sip_tcp_handlers *h,
                            void *user)
{
	struct sip_tcp *c = g_new0(struct sip_tcp, 1);

	c->o = *opts;
	g_strlcpy(c->name, opts->name, sizeof(c->name));
	g_strlcpy(c->host, opts->host ? opts->host : "", sizeof(c->host));
	c->o.name = c->name;
	c->o.host = c->host;
	c->h = *h;
	c->user = user;
	c->fd = -1;
	c->out = g_byte_array_new();
	c->in = g_malloc(IN_CAP);
	return c;
}

void sip_tcp_free(struct sip_tcp *c)
{
	if (!c)
		return;
	conn_close(c, NULL);
	if (c->lost)
		g_source_remove(c->lost);
	g_byte_array_unref(c->out);
	g_free(c->in);
	g_free(c);
}

void sip_tcp_set_address(struct sip_tcp *c, const struct sockaddr_in6 *to)
{
	c->to = *to;
	c->have_address = true;
}

bool sip_tcp_ready(const struct sip_tcp *c)
{
	return c->state != CONN_IDLE || g_get_monotonic_time() >= c->retry_at;
}

int sip_tcp_send(struct sip_tcp *c, const char *buf, size_t len)
{
	int rc;

	if (!c->have_address)
		return EAGAIN;
	if (c->out->len + len > OUT_MAX)
		return ENOBUFS;
	if (c->state == CONN_IDLE) {
		if (!sip_tcp_ready(c))
			return ECONNREFUSED;
		rc = conn_open(c);
		if (rc)
			return rc;
	}
	queue(c, buf, len);
	return c->state == CONN_IDLE ? EPIPE : 0;
}

static bool tls_files(SSL_CTX *ctx, const struct conf *c, char **why)
{
	const char *ca = c->sip.tls_ca;

	if (*ca ? !SSL_CTX_load_verify_locations(ctx, ca, NULL)
	        : !SSL_CTX_set_default_verify_paths(ctx)) {
		*why = g_strdup_printf("sip.tls_ca: cannot load '%s'", *ca ? ca : "(system store)");
		return false;
	}
	if (!*c->sip.tls_cert && !*c->sip.tls_key)
		return true;
	if (!*c->sip.tls_cert || !*c->sip.tls_key) {
		*why = g_strdup("sip.tls_cert and sip.tls_key go together");
		return false;
	}
	if (!SSL_CTX_use_certificate_chain_file(ctx, c->sip.tls_cert)) {
		*why = g_strdup_printf("sip.tls_cert: cannot load '%s'", c->sip.tls_cert);
		return false;
	}
	if (!SSL_CTX_use_PrivateKey_file(ctx, c->sip.tls_key, SSL_FILETYPE_PEM) ||
	    !SSL_CTX_check_private_key(ctx)) {
		*why = g_strdup_printf("sip.tls_key: cannot load '%s' or it does not match "
		                       "sip.tls_cert",
		                       c->sip.tls_key);
		return false;
	}
	return true;
}

SSL_CTX *sip_tcp_tls_context(const struct conf *c, char **why)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		*why = g_strdup("TLS: no context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, c->sip.tls_verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if (!tls_files(ctx, c, why)) {
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}
