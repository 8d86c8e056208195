/*
 * SIP over TCP and TLS toward one PBX hop (RFC 3261 §18.3, RFC 5246/8446
 * through OpenSSL, RFC 5626 §4.4.1 CRLF keepalives): one connection, opened
 * on demand, reopened after a loss with backoff, driven by the GLib loop.
 */
#pragma once

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

struct conf;
struct sip_tcp;

struct sip_tcp_handlers {
	/* One whole message (framed by its Content-Length). */
	void (*message)(void *user, const char *buf, size_t len);
	/* The connection was closed because of what came in: reason "too_big" or "framing". */
	void (*dropped)(void *user, const char *reason);
	/*
	 * The connection failed or was lost: what was queued or in flight is
	 * gone. From an idle callback, never inside sip_tcp_send.
	 */
	void (*lost)(void *user);
};

struct sip_tcp_opts {
	const char *name; /* for logs: the target as configured */
	const char *host; /* TLS: the name sent as SNI and checked in the certificate */
	SSL_CTX *tls;     /* NULL for plain TCP; borrowed, outlives the connection */
	int keepalive;    /* seconds between CRLF pings while open; 0 for none */
};

/* A connection object, not connected yet; opts and h are copied, user is passed back. */
struct sip_tcp *sip_tcp_new(const struct sip_tcp_opts *opts, const struct sip_tcp_handlers *h,
                            void *user);
void sip_tcp_free(struct sip_tcp *c);

/* Where to connect (once the name is resolved). */
void sip_tcp_set_address(struct sip_tcp *c, const struct sockaddr_in6 *to);

/*
 * Queue buf[len] (one whole message) and connect if need be. 0; EAGAIN
 * without an address yet; ECONNREFUSED while waiting to retry after a
 * failure; ENOBUFS when the output queue is full (backpressure); or the
 * errno of a failed socket call.
 */
int sip_tcp_send(struct sip_tcp *c, const char *buf, size_t len);

/* False while the connection waits to retry after a failed connect, handshake or a loss. */
bool sip_tcp_ready(const struct sip_tcp *c);

/*
 * The client TLS context of the sip.tls_* keys: TLS 1.2 or later, the peer
 * verified against sip.tls_ca (or the system store) unless sip.tls_verify
 * is 0, the client certificate of sip.tls_cert and sip.tls_key. NULL with
 * *why (g_free it) naming the key at fault.
 */
SSL_CTX *sip_tcp_tls_context(const struct conf *c, char **why);
