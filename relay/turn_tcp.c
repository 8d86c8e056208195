/* TURN over TCP and TLS (RFC 8656 §3.1, §12.5): accepting, framing STUN and ChannelData on a
 * stream, bounded buffers with drops instead of queues. TLS is OpenSSL on the non-blocking
 * socket, driven by the worker's epoll events. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "relay/stun_priv.h"
#include "relay/turn_priv.h"

int turn_tcp_listen(const char *address, int port)
{
	int fd = turn_listen_socket(SOCK_STREAM, address, port);

	if (fd >= 0 && listen(fd, 1024) != 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static void set_events(struct turn_conn *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = &c->ep };

	if (c->want_out == out)
		return;
	c->want_out = out;
	epoll_ctl(c->w->ep, EPOLL_CTL_MOD, c->ep.fd, &ev);
}

/* The client's IP as 16 bytes (IPv4 mapped), the key of the per-IP connection count. */
static void ip_key(const struct sockaddr_storage *peer, uint8_t key[16])
{
	struct sockaddr_storage n;

	peer_addr_normalise((const struct sockaddr *)peer, &n);
	memset(key, 0, 16);
	if (n.ss_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((struct sockaddr_in *)&n)->sin_addr, 4);
	} else if (n.ss_family == AF_INET6) {
		memcpy(key, &((struct sockaddr_in6 *)&n)->sin6_addr, 16);
	}
}

static guint ip_hash(gconstpointer p)
{
	guint h;

	memcpy(&h, (const uint8_t *)p + 12, sizeof(h));
	return h;
}

static gboolean ip_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, 16) == 0;
}

GHashTable *turn_tcp_per_ip_new(void)
{
	return g_hash_table_new_full(ip_hash, ip_equal, g_free, NULL);
}

/* One more connection from this IP, unless it holds turn.max_connections_per_ip already. */
static bool per_ip_take(struct turn_worker *w, const uint8_t key[16])
{
	struct turn_shared *sh = w->shared;
	int n;
	bool ok;

	g_mutex_lock(&sh->lock);
	n = GPOINTER_TO_INT(g_hash_table_lookup(sh->conns_per_ip, key));
	ok = n < w->snap->max_conns_per_ip;
	if (ok)
		g_hash_table_insert(sh->conns_per_ip, g_memdup2(key, 16), GINT_TO_POINTER(n + 1));
	g_mutex_unlock(&sh->lock);
	return ok;
}

static void per_ip_give(struct turn_worker *w, const uint8_t key[16])
{
	struct turn_shared *sh = w->shared;
	int n;

	g_mutex_lock(&sh->lock);
	n = GPOINTER_TO_INT(g_hash_table_lookup(sh->conns_per_ip, key));
	if (n <= 1)
		g_hash_table_remove(sh->conns_per_ip, key);
	else
		g_hash_table_insert(sh->conns_per_ip, g_memdup2(key, 16), GINT_TO_POINTER(n - 1));
	g_mutex_unlock(&sh->lock);
}

void turn_tcp_accept(struct turn_worker *w, int listen_fd, bool tls)
{
	/* bounded per wake-up, like every loop of a worker */
	for (int i = 0; i < 64; i++) {
		struct turn_conn *c;
		struct sockaddr_storage peer, local;
		socklen_t plen = sizeof(peer), llen = sizeof(local);
		struct epoll_event ev = { .events = EPOLLIN };
		int one = 1;
		int fd = accept4(listen_fd, (struct sockaddr *)&peer, &plen,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			/*
			 * Out of descriptors: the listener would stay readable and spin the
			 * worker; take it out of epoll until the next tick (turn_tcp_expire).
			 */
			if (errno == EMFILE || errno == ENFILE) {
				epoll_ctl(w->ep, EPOLL_CTL_DEL, listen_fd, NULL);
				w->listeners_paused = true;
				STAT_ADD(w->stats.tcp_dropped, 1);
			}
			return;
		}
		if (g_hash_table_size(w->conns) >= TURN_TCP_MAX_CONNS) {
			close(fd);
			STAT_ADD(w->stats.tcp_dropped, 1);
			continue;
		}
		c = g_new0(struct turn_conn, 1);
		ip_key(&peer, c->ip_key);
		if (!per_ip_take(w, c->ip_key)) {
			g_free(c);
			close(fd);
			STAT_ADD(w->stats.tcp_per_ip, 1);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->ep = (struct ep_item){ .kind = EP_TCP, .fd = fd };
		c->w = w;
		c->peer = peer;
		c->peer_len = plen;
		c->created = w->now;
		c->in = g_malloc(TURN_TCP_IN_MAX);
		if (tls) {
			c->ssl = SSL_new(w->tls);
			if (!c->ssl) {
				/* never plain TURN on the TLS port */
				per_ip_give(w, c->ip_key);
				g_free(c->in);
				g_free(c);
				close(fd);
				continue;
			}
			SSL_set_fd(c->ssl, fd);
			SSL_set_accept_state(c->ssl);
		}
		if (getsockname(fd, (struct sockaddr *)&local, &llen) == 0 &&
		    local.ss_family == AF_INET6)
			c->local = ((struct sockaddr_in6 *)&local)->sin6_addr;
		ev.data.ptr = &c->ep;
		epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev);
		g_hash_table_add(w->conns, c);
		STAT_ADD(w->stats.tcp_accepted, 1);
	}
}

void turn_tcp_close(struct turn_conn *c, const char *why)
{
	struct turn_worker *w = c->w;

	if (c->ep.dead)
		return;
	/* RFC 8656 §3.1: the allocation lives and dies with its connection */
	if (c->alloc)
		turn_alloc_free(c->alloc, why);
	epoll_ctl(w->ep, EPOLL_CTL_DEL, c->ep.fd, NULL);
	if (c->ssl)
		SSL_free(c->ssl);
	close(c->ep.fd);
	g_hash_table_remove(w->conns, c);
	per_ip_give(w, c->ip_key);
	STAT_ADD(w->stats.tcp_closed, 1);
	g_free(c->in);
	g_free(c->out);
	c->in = c->out = NULL;
	turn_defer_free(w, c);
}

/* Bytes written, 0 when the socket (or TLS) must wait, -1 when the connection is broken. */
static ssize_t write_some(struct turn_conn *c)
{
	ssize_t n;

	if (!c->ssl) {
		n = send(c->ep.fd, c->out, c->outlen, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		return n;
	}
	n = SSL_write(c->ssl, c->out, (int)c->outlen);
	if (n > 0)
		return n;
	switch (SSL_get_error(c->ssl, (int)n)) {
	case SSL_ERROR_WANT_WRITE:
	case SSL_ERROR_WANT_READ: return 0;
	default: ERR_clear_error(); return -1;
	}
}

static int flush(struct turn_conn *c)
{
	while (c->outlen) {
		ssize_t n = write_some(c);

		if (n < 0)
			return EPIPE;
		if (n == 0)
			return 0;
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
	}
	return 0;
}

/* Room for need bytes of output: the buffer grows by doubling up to TURN_TCP_OUT_MAX. */
static bool out_room(struct turn_conn *c, size_t need)
{
	size_t cap = c->outcap ? c->outcap : TURN_TCP_OUT_MIN;

	if (need > TURN_TCP_OUT_MAX)
		return false;
	while (cap < need)
		cap *= 2;
	if (cap > TURN_TCP_OUT_MAX)
		cap = TURN_TCP_OUT_MAX;
	if (cap != c->outcap) {
		/* TLS retries may see the buffer moved: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER */
		c->out = g_realloc(c->out, cap);
		c->outcap = cap;
	}
	return true;
}

void turn_tcp_send(struct turn_conn *c, const void *data, size_t len)
{
	/* a slow client loses packets; it never makes the server buffer without bound */
	if (!out_room(c, c->outlen + len)) {
		STAT_ADD(c->w->stats.tcp_dropped, 1);
		return;
	}
	memcpy(c->out + c->outlen, data, len);
	c->outlen += len;
	STAT_ADD(c->w->stats.pkts_out, 1);
	STAT_ADD(c->w->stats.bytes_out, len);
	if (flush(c) == 0)
		set_events(c, c->outlen != 0);
}

/*
 * Length of the frame at the head of the input: a STUN message, or ChannelData
 * padded to a multiple of 4 over a stream (§12.5). 0 when more bytes are
 * needed, -1 when the stream cannot be TURN.
 */
static long frame_len(const uint8_t *p, size_t n)
{
	size_t total;

	if (n < 4)
		return 0;
	if (p[0] >= 0x40 && p[0] <= 0x7f)
		return (long)((4 + (size_t)stun_get16(p + 2) + 3) & ~(size_t)3);
	if (p[0] > 0x03)
		return -1;
	switch (stun_msg_frame_len(p, n, &total)) {
	case 0: return total <= TURN_DGRAM_MAX ? (long)total : -1;
	case ENODATA: return 0;
	default: return -1;
	}
}

/* Bytes read, 0 when nothing is there yet, -1 when the connection is over. */
static ssize_t read_some(struct turn_conn *c)
{
	size_t room = TURN_TCP_IN_MAX - c->inlen;
	ssize_t n;

	if (!c->ssl) {
		n = recv(c->ep.fd, c->in + c->inlen, room, MSG_DONTWAIT);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		return n;
	}
	c->ssl_wants_write = false;
	n = SSL_read(c->ssl, c->in + c->inlen, (int)room);
	if (n > 0)
		return n;
	switch (SSL_get_error(c->ssl, (int)n)) {
	case SSL_ERROR_WANT_READ: return 0;
	case SSL_ERROR_WANT_WRITE: c->ssl_wants_write = true; return 0;
	default:
		/* a failed handshake, a bad record or the peer's close_notify */
		if (!SSL_is_init_finished(c->ssl))
			STAT_ADD(c->w->stats.tls_failed, 1);
		ERR_clear_error();
		return -1;
	}
}

/* Read and handle what arrived; false when the connection was closed (and freed). */
static bool readable(struct turn_conn *c)
{
	struct turn_worker *w = c->w;
	ssize_t n = read_some(c);
	size_t off = 0;

	if (n < 0) {
		turn_tcp_close(c, "closed");
		return false;
	}
	set_events(c, c->outlen != 0 || c->ssl_wants_write);
	if (n == 0)
		return true;
	if (c->skip) {
		/* the rest of a frame too large to relay: discarded as it arrives */
		size_t d = c->skip < (size_t)n ? c->skip : (size_t)n;

		memmove(c->in + c->inlen, c->in + c->inlen + d, (size_t)n - d);
		c->skip -= d;
		n -= (ssize_t)d;
	}
	c->inlen += (size_t)n;
	w->cur_conn = c;
	w->cur_src = IN6_IS_ADDR_UNSPECIFIED(&c->local) ? NULL : &c->local;
	for (;;) {
		long f = frame_len(c->in + off, c->inlen - off);

		if (f < 0) {
			w->cur_conn = NULL;
			w->cur_src = NULL;
			turn_tcp_close(c, "not_turn");
			return false;
		}
		if (f == 0)
			break;
		if ((size_t)f > TURN_TCP_IN_MAX) {
			size_t have = c->inlen - off;

			STAT_ADD(w->stats.tcp_oversized, 1);
			if (have >= (size_t)f) {
				off += (size_t)f;
				continue;
			}
			c->skip = (size_t)f - have;
			off = c->inlen;
			break;
		}
		if ((size_t)f > c->inlen - off)
			break;
		turn_client_message(w, c->in + off, (size_t)f, (struct sockaddr *)&c->peer,
		                    c->peer_len);
		off += (size_t)f;
	}
	w->cur_conn = NULL;
	w->cur_src = NULL;
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	return true;
}

void turn_tcp_event(struct turn_conn *c, uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP)) {
		turn_tcp_close(c, "closed");
		return;
	}
	if (events & EPOLLOUT) {
		if (flush(c)) {
			turn_tcp_close(c, "write_error");
			return;
		}
		set_events(c, c->outlen != 0);
	}
	if (!(events & EPOLLIN) && !c->ssl_wants_write)
		return;
	/* TLS may hold decrypted records the socket no longer signals: drain, bounded */
	for (int i = 0; i < 16; i++) {
		if (!readable(c) || !c->ssl || !SSL_pending(c->ssl))
			break;
	}
}

/* A connection that never got an allocation is closed after TURN_TCP_IDLE seconds. */
void turn_tcp_expire(struct turn_worker *w)
{
	if (w->listeners_paused) {
		struct epoll_event ev = { .events = EPOLLIN };

		w->listeners_paused = false;
		ev.data.ptr = &w->tcp_listen;
		epoll_ctl(w->ep, EPOLL_CTL_ADD, w->tcp_listen.fd, &ev);
		if (w->tls_listen.fd >= 0) {
			ev.data.ptr = &w->tls_listen;
			epoll_ctl(w->ep, EPOLL_CTL_ADD, w->tls_listen.fd, &ev);
		}
	}
	GHashTableIter it;
	gpointer k;
	GPtrArray *idle = g_ptr_array_new();

	g_hash_table_iter_init(&it, w->conns);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		struct turn_conn *c = k;

		if (!c->alloc && c->created + TURN_TCP_IDLE <= w->now)
			g_ptr_array_add(idle, c);
		/* a burst's output buffer is given back once it has drained */
		if (!c->outlen && c->outcap > TURN_TCP_OUT_MIN) {
			g_free(c->out);
			c->out = NULL;
			c->outcap = 0;
		}
	}
	for (guint i = 0; i < idle->len; i++)
		turn_tcp_close(idle->pdata[i], "idle");
	g_ptr_array_unref(idle);
}
