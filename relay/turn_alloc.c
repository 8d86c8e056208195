/* TURN allocations: relay sockets, permissions, channels, lifetimes (RFC 8656 §5, §9, §12). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <openssl/rand.h>
#include <unistd.h>

#include "core/log.h"
#include "relay/stun_priv.h"
#include "relay/turn_priv.h"

/* DSCP EF (46) in the top six bits of the TOS/traffic class byte: relayed media */
#define DSCP_EF_TOS (46 << 2)

socklen_t turn_addr_len(const struct sockaddr *a)
{
	return a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

bool turn_addr_equal(const struct sockaddr *a, const struct sockaddr *b, bool with_port)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_addr.s_addr == y->sin_addr.s_addr &&
		       (!with_port || x->sin_port == y->sin_port);
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 &&
		       (!with_port || x->sin6_port == y->sin6_port);
	}
	return false;
}

const char *turn_addr_str(const struct sockaddr *a, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)a;

		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
		snprintf(buf, cap, "%s:%u", ip, ntohs(s->sin_port));
	} else if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)a;

		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
		snprintf(buf, cap, "[%s]:%u", ip, ntohs(s->sin6_port));
	} else {
		snprintf(buf, cap, "?");
	}
	return buf;
}

/* The table is keyed by the client address stored in the allocation itself. */
guint turn_addr_hash(gconstpointer p)
{
	const struct sockaddr *a = p;
	guint h = a->sa_family;

	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *s = p;

		h = h * 31 + s->sin_addr.s_addr;
		h = h * 31 + s->sin_port;
	} else if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = p;

		for (int i = 0; i < 16; i++)
			h = h * 31 + s->sin6_addr.s6_addr[i];
		h = h * 31 + s->sin6_port;
	}
	return h;
}

gboolean turn_addr_key_equal(gconstpointer a, gconstpointer b)
{
	return turn_addr_equal(a, b, true);
}

/* Over TCP the connection is the 5-tuple; over UDP the client's address is. */
struct turn_alloc *turn_alloc_find(struct turn_worker *w, const struct sockaddr *client)
{
	if (w->cur_conn)
		return w->cur_conn->alloc;
	return g_hash_table_lookup(w->allocs, client);
}

/*
 * The relay address: the address the client reached us at when it is of the
 * wanted family, else the kernel's route choice toward the client, learnt by
 * connecting a throwaway UDP socket (Allocate only), else this host's
 * address of that family (an IPv6 relay for an IPv4 client, say).
 */
static int local_address_toward(const struct turn_worker *w, const struct sockaddr *client,
                                int family, struct sockaddr_storage *out)
{
	const struct in6_addr *dst = w->cur_src;
	const struct sockaddr_storage *host = family == AF_INET ? &w->snap->host4 : &w->snap->host6;
	struct sockaddr_storage c;
	socklen_t len = sizeof(*out);
	int fd, rc = 0;

	memset(out, 0, sizeof(*out));
	if (dst && family == AF_INET && IN6_IS_ADDR_V4MAPPED(dst)) {
		((struct sockaddr_in *)out)->sin_family = AF_INET;
		memcpy(&((struct sockaddr_in *)out)->sin_addr, dst->s6_addr + 12, 4);
		return 0;
	}
	if (dst && family == AF_INET6 && !IN6_IS_ADDR_V4MAPPED(dst)) {
		((struct sockaddr_in6 *)out)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)out)->sin6_addr = *dst;
		return 0;
	}

	peer_addr_normalise(client, &c);
	if (c.ss_family != family) {
		if (!host->ss_family)
			return EAFNOSUPPORT;
		*out = *host;
		return 0;
	}
	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&c, turn_addr_len((struct sockaddr *)&c)) != 0 ||
	    getsockname(fd, (struct sockaddr *)out, &len) != 0)
		rc = errno;
	close(fd);
	return rc;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static int relay_socket(int family, const struct sockaddr_storage *addr)
{
	int tos = DSCP_EF_TOS;
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	if (bind(fd, (const struct sockaddr *)addr, turn_addr_len((const struct sockaddr *)addr))) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

/*
 * A relay socket on a port of this worker's block of the range (worker i of
 * n owns the i-th of n contiguous blocks), so workers never race for a port
 * and an even port's odd neighbour is in the same block. With reserve, the
 * next port is bound too and returned in *fd2 (RFC 8656 §7.2, EVEN-PORT R).
 */
static int bind_relay(struct turn_worker *w, struct sockaddr_storage *addr, bool even, bool reserve,
                      int *fdout, int *fd2)
{
	const struct turn_snapshot *s = w->snap;
	uint32_t span = (uint32_t)(s->relay_hi - s->relay_lo) + 1;
	uint32_t block = span / (uint32_t)w->nworkers;
	uint32_t start = s->relay_lo + (uint32_t)w->index * block;
	uint32_t len = w->index == w->nworkers - 1 ? s->relay_hi - start + 1 : block;

	for (uint32_t tries = 0; len && tries < len; tries++) {
		uint32_t port = start + w->port_cursor++ % len;
		int fd, fd_next = -1;

		if ((even && (port & 1)) || (reserve && port + 1 >= start + len))
			continue;
		set_port(addr, (uint16_t)port);
		fd = relay_socket(addr->ss_family, addr);
		if (fd == -EADDRINUSE)
			continue;
		if (fd < 0)
			return -fd;
		if (reserve) {
			struct sockaddr_storage next = *addr;

			set_port(&next, (uint16_t)(port + 1));
			fd_next = relay_socket(addr->ss_family, &next);
			if (fd_next < 0) {
				close(fd);
				continue;
			}
		}
		*fdout = fd;
		*fd2 = fd_next;
		return 0;
	}
	return EADDRINUSE;
}

/* RFC 8656 §7.2: a reserved port is held for 30 seconds. */
#define RESERVATION_LIFETIME 30

/* A port held under a RESERVATION-TOKEN; it counts against the quotas like an allocation. */
struct reservation {
	int fd;
	struct sockaddr_storage addr;
	int64_t expires;
	char quota_user[STUN_MAX_USERNAME + 1];
};

static void reservation_free(gpointer p)
{
	struct reservation *r = p;

	if (r->fd >= 0)
		close(r->fd);
	g_free(r);
}

GHashTable *turn_reservations_new(void)
{
	return g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, reservation_free);
}

const char *turn_quota_user(const char *username)
{
	const char *p = username;

	while (*p >= '0' && *p <= '9')
		p++;
	return p != username && *p == ':' ? p + 1 : username;
}

/* With the shared lock held: n more (or, negative, fewer) held by user. */
static void per_user_add_locked(struct turn_shared *sh, const char *user, int n)
{
	int have = GPOINTER_TO_INT(g_hash_table_lookup(sh->per_user, user)) + n;

	if (have <= 0)
		g_hash_table_remove(sh->per_user, user);
	else
		g_hash_table_insert(sh->per_user, g_strdup(user), GINT_TO_POINTER(have));
}

/* n slots of the global and the per-user quota (an allocation, a reservation); all or none. */
static bool quota_take(struct turn_worker *w, const char *user, int n)
{
	struct turn_shared *sh = w->shared;
	bool ok;

	g_mutex_lock(&sh->lock);
	ok = atomic_load(&sh->allocs) + n <= w->snap->max_allocs &&
	     GPOINTER_TO_INT(g_hash_table_lookup(sh->per_user, user)) + n <=
	             w->snap->max_allocs_per_user;
	if (ok) {
		atomic_fetch_add(&sh->allocs, n);
		per_user_add_locked(sh, user, n);
	}
	g_mutex_unlock(&sh->lock);
	return ok;
}

static void quota_give(struct turn_worker *w, const char *user, int n)
{
	struct turn_shared *sh = w->shared;

	g_mutex_lock(&sh->lock);
	atomic_fetch_sub(&sh->allocs, n);
	per_user_add_locked(sh, user, -n);
	g_mutex_unlock(&sh->lock);
}

static void reserve_port(struct turn_worker *w, int fd, const struct sockaddr_storage *relay,
                         const char *quota_user, uint8_t token[8])
{
	struct reservation *r = g_new0(struct reservation, 1);
	gint64 *key = g_new(gint64, 1);

	r->fd = fd;
	r->addr = *relay;
	set_port(&r->addr, (uint16_t)(ntohs(relay->ss_family == AF_INET
	                                            ? ((struct sockaddr_in *)relay)->sin_port
	                                            : ((struct sockaddr_in6 *)relay)->sin6_port) +
	                              1));
	r->expires = w->now + RESERVATION_LIFETIME;
	g_strlcpy(r->quota_user, quota_user, sizeof(r->quota_user));
	RAND_bytes(token, 8);
	memcpy(key, token, 8);
	g_mutex_lock(&w->shared->lock);
	g_hash_table_insert(w->shared->reservations, key, r);
	g_mutex_unlock(&w->shared->lock);
}

/*
 * Take a reservation made by any worker; its socket moves to this one and
 * its quota slot is given back (the allocation takes its own). A family of 0
 * takes the reservation's own. A mismatch leaves it in place.
 */
static int take_reservation(struct turn_worker *w, const uint8_t token[8], int family, int *fd,
                            struct sockaddr_storage *addr)
{
	struct turn_shared *sh = w->shared;
	gint64 key;
	struct reservation *r;
	int rc = ENOENT;

	memcpy(&key, token, 8);
	g_mutex_lock(&sh->lock);
	r = g_hash_table_lookup(sh->reservations, &key);
	if (r && r->expires > w->now && (!family || r->addr.ss_family == family)) {
		*fd = r->fd;
		*addr = r->addr;
		r->fd = -1; /* the socket is ours now; the entry goes without closing it */
		atomic_fetch_sub(&sh->allocs, 1);
		per_user_add_locked(sh, r->quota_user, -1);
		g_hash_table_remove(sh->reservations, &key);
		rc = 0;
	} else if (r) {
		rc = EAFNOSUPPORT;
	}
	g_mutex_unlock(&sh->lock);
	return rc;
}

struct expiry {
	struct turn_shared *sh;
	int64_t now;
};

static gboolean reservation_expired(gpointer k, gpointer v, gpointer data)
{
	struct reservation *r = v;
	struct expiry *x = data;

	(void)k;
	if (r->expires > x->now)
		return FALSE;
	atomic_fetch_sub(&x->sh->allocs, 1);
	per_user_add_locked(x->sh, r->quota_user, -1);
	return TRUE;
}

static int open_relay(struct turn_worker *w, struct turn_alloc *a, int fd,
                      const struct sockaddr_storage *addr)
{
	struct turn_relay *r = &a->relay[a->nrelay++];
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &r->ep };

	r->ep = (struct ep_item){ .kind = EP_RELAY, .fd = fd };
	r->a = a;
	r->addr = *addr;
	r->rx = NULL;
	if (w->multishot)
		return turn_uring_arm_relay(w, r);
	return epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) ? errno : 0;
}

/* The first relay of a new allocation: a reserved socket, or one bound now. */
static int first_relay(struct turn_worker *w, const struct sockaddr *client, int family,
                       struct turn_port_req *pr, const char *quota_user, int *fd,
                       struct sockaddr_storage *addr)
{
	int fd_res = -1, rc;

	if (pr->token) {
		rc = take_reservation(w, pr->token, family, fd, addr);
		if (!rc && !quota_take(w, quota_user, 1)) {
			close(*fd);
			rc = EDQUOT;
		}
		return rc;
	}
	if (!quota_take(w, quota_user, pr->reserve ? 2 : 1))
		return EDQUOT;
	rc = local_address_toward(w, client, family, addr);
	if (!rc)
		rc = bind_relay(w, addr, pr->even, pr->reserve, fd, &fd_res);
	if (rc) {
		quota_give(w, quota_user, pr->reserve ? 2 : 1);
		return rc;
	}
	if (fd_res >= 0) {
		reserve_port(w, fd_res, addr, quota_user, pr->token_out);
		pr->reserved = true;
	}
	return 0;
}

/* ADDITIONAL-ADDRESS-FAMILY: an IPv6 relay too; 0, or the STUN error for ADDRESS-ERROR-CODE. */
static int second_relay(struct turn_worker *w, struct turn_alloc *a, const struct sockaddr *client,
                        bool even)
{
	struct sockaddr_storage addr;
	int fd, unused = -1;

	if (local_address_toward(w, client, AF_INET6, &addr))
		return STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED;
	if (bind_relay(w, &addr, even, false, &fd, &unused))
		return STUN_ERR_INSUFFICIENT_CAPACITY;
	if (open_relay(w, a, fd, &addr)) {
		close(fd);
		a->nrelay--;
		return STUN_ERR_INSUFFICIENT_CAPACITY;
	}
	return 0;
}

int turn_alloc_create(struct turn_worker *w, const struct sockaddr *client, socklen_t clen,
                      int family, struct turn_port_req *pr, const char *username,
                      struct turn_alloc **out)
{
	const char *quota_user = turn_quota_user(username);
	struct turn_alloc *a;
	struct sockaddr_storage relay;
	char cbuf[64], rbuf[64], rbuf2[64] = "";
	int fd = -1, rc;

	rc = first_relay(w, client, family, pr, quota_user, &fd, &relay);
	if (rc) {
		log_info(LOG_TURN, "allocation failed", "user=%s worker=%d error=%s", username,
		         w->index, g_strerror(rc));
		return rc;
	}
	a = g_new0(struct turn_alloc, 1);
	a->w = w;
	if (open_relay(w, a, fd, &relay)) {
		close(fd);
		quota_give(w, quota_user, 1);
		g_free(a);
		return ENOMEM;
	}
	memcpy(&a->client, client, clen);
	a->client_len = clen;
	if (w->cur_src)
		a->server_addr = *w->cur_src;
	g_strlcpy(a->username, username, sizeof(a->username));
	g_strlcpy(a->quota_user, quota_user, sizeof(a->quota_user));
	a->created = w->now;
	a->bw_tokens = w->snap->max_bytes_per_sec;
	a->bw_last_ms = w->now_ms;
	a->expires = w->now + TURN_DEFAULT_LIFETIME;
	if (pr->dual) {
		a->dual_error = pr->dual_error = second_relay(w, a, client, pr->even);
		if (!a->dual_error)
			turn_addr_str((struct sockaddr *)&a->relay[1].addr, rbuf2, sizeof(rbuf2));
	}
	if (pr->reserved) {
		memcpy(a->token, pr->token_out, sizeof(a->token));
		a->has_token = true;
	}
	if (w->cur_conn) {
		a->conn = w->cur_conn;
		a->conn->alloc = a;
	} else {
		g_hash_table_insert(w->allocs, &a->client, a);
	}
	STAT_ADD(w->stats.allocs_created, 1);
	log_info(LOG_TURN, "allocation start", "user=%s client=%s relay=%s%s%s worker=%d",
	         a->username, turn_addr_str((struct sockaddr *)&a->client, cbuf, sizeof(cbuf)),
	         turn_addr_str((struct sockaddr *)&a->relay[0].addr, rbuf, sizeof(rbuf)),
	         *rbuf2 ? " relay6=" : "", rbuf2, w->index);
	*out = a;
	return 0;
}

struct turn_relay *turn_alloc_relay(const struct turn_alloc *a, int family)
{
	for (size_t i = 0; i < a->nrelay; i++) {
		if (a->relay[i].ep.fd >= 0 && a->relay[i].addr.ss_family == family)
			return (struct turn_relay *)&a->relay[i]; /* like strchr */
	}
	return NULL;
}

static void close_relay(struct turn_worker *w, struct turn_relay *r)
{
	if (r->ep.fd < 0)
		return;
	/* queued packets name the descriptor, which the next socket may reuse */
	if (w->npeer)
		turn_peer_tx_flush(w);
	if (r->rx)
		turn_uring_disarm_relay(w, r);
	else
		epoll_ctl(w->ep, EPOLL_CTL_DEL, r->ep.fd, NULL);
	close(r->ep.fd);
	r->ep.fd = -1; /* an event of this wake-up still naming it reads nothing */
}

void turn_alloc_drop_relay(struct turn_alloc *a, struct turn_relay *r)
{
	char buf[64];

	log_info(LOG_TURN, "relay released", "user=%s relay=%s", a->username,
	         turn_addr_str((struct sockaddr *)&r->addr, buf, sizeof(buf)));
	close_relay(a->w, r);
}

void turn_alloc_free(struct turn_alloc *a, const char *why)
{
	struct turn_worker *w = a->w;
	char cbuf[64], rbuf[64];

	if (a->relay[0].ep.dead)
		return;
	log_info(LOG_TURN, "allocation end",
	         "user=%s client=%s relay=%s reason=%s duration=%" G_GINT64_FORMAT
	         " to_peer_pkts=%" G_GUINT64_FORMAT " to_peer_bytes=%" G_GUINT64_FORMAT
	         " from_peer_pkts=%" G_GUINT64_FORMAT " from_peer_bytes=%" G_GUINT64_FORMAT,
	         a->username, turn_addr_str((struct sockaddr *)&a->client, cbuf, sizeof(cbuf)),
	         turn_addr_str((struct sockaddr *)&a->relay[0].addr, rbuf, sizeof(rbuf)), why,
	         w->now - a->created, a->pkts_to_peer, a->bytes_to_peer, a->pkts_from_peer,
	         a->bytes_from_peer);
	for (size_t i = 0; i < a->nrelay; i++) {
		close_relay(w, &a->relay[i]);
		a->relay[i].ep.dead = true;
	}
	if (a->conn)
		a->conn->alloc = NULL;
	else
		g_hash_table_remove(w->allocs, &a->client);
	quota_give(w, a->quota_user, 1);
	STAT_ADD(w->stats.allocs_freed, 1);
	turn_defer_free(w, a);
}

/* Drop expired permissions and channels; true when the whole allocation has expired. */
static bool sweep(struct turn_alloc *a, int64_t now)
{
	size_t n = 0;

	if (a->expires <= now)
		return true;
	for (size_t i = 0; i < a->nperms; i++) {
		if (a->perms[i].expires > now)
			a->perms[n++] = a->perms[i];
	}
	a->nperms = n;
	n = 0;
	for (size_t i = 0; i < a->nchans; i++) {
		if (a->chans[i].expires > now)
			a->chans[n++] = a->chans[i];
	}
	a->nchans = n;
	return false;
}

/* Every second: expired reservations, allocations (UDP table and TCP connections), entries. */
void turn_alloc_expire(struct turn_worker *w)
{
	GHashTableIter it;
	gpointer k, v;
	GPtrArray *dead = g_ptr_array_new();
	struct expiry x = { .sh = w->shared, .now = w->now };

	g_mutex_lock(&w->shared->lock);
	g_hash_table_foreach_remove(w->shared->reservations, reservation_expired, &x);
	g_mutex_unlock(&w->shared->lock);

	g_hash_table_iter_init(&it, w->allocs);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (sweep(v, w->now))
			g_ptr_array_add(dead, v);
	}
	g_hash_table_iter_init(&it, w->conns);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		struct turn_conn *c = k;

		if (c->alloc && sweep(c->alloc, w->now))
			g_ptr_array_add(dead, c->alloc);
	}
	for (guint i = 0; i < dead->len; i++) {
		STAT_ADD(w->stats.allocs_expired, 1);
		turn_alloc_free(dead->pdata[i], "expired");
	}
	g_ptr_array_unref(dead);
}

bool turn_alloc_permitted(const struct turn_alloc *a, const struct sockaddr *peer, int64_t now)
{
	for (size_t i = 0; i < a->nperms; i++) {
		if (a->perms[i].expires > now &&
		    turn_addr_equal((const struct sockaddr *)&a->perms[i].peer, peer, false))
			return true;
	}
	return false;
}

bool turn_alloc_permits_fit(const struct turn_alloc *a, const struct sockaddr_storage *peers,
                            size_t n)
{
	size_t fresh = 0;

	for (size_t i = 0; i < n; i++) {
		bool held = false, dup = false;

		for (size_t j = 0; j < a->nperms && !held; j++)
			held = turn_addr_equal((const struct sockaddr *)&a->perms[j].peer,
			                       (const struct sockaddr *)&peers[i], false);
		for (size_t j = 0; j < i && !held && !dup; j++)
			dup = turn_addr_equal((const struct sockaddr *)&peers[j],
			                      (const struct sockaddr *)&peers[i], false);
		if (!held && !dup)
			fresh++;
	}
	return a->nperms + fresh <= TURN_MAX_PERMS;
}

int turn_alloc_permit(struct turn_alloc *a, const struct sockaddr *peer, int64_t now)
{
	for (size_t i = 0; i < a->nperms; i++) {
		if (turn_addr_equal((const struct sockaddr *)&a->perms[i].peer, peer, false)) {
			a->perms[i].expires = now + TURN_PERMISSION_LIFETIME;
			return 0;
		}
	}
	if (a->nperms == TURN_MAX_PERMS)
		return ENOSPC;
	memset(&a->perms[a->nperms].peer, 0, sizeof(a->perms[a->nperms].peer));
	memcpy(&a->perms[a->nperms].peer, peer, turn_addr_len(peer));
	a->perms[a->nperms++].expires = now + TURN_PERMISSION_LIFETIME;
	return 0;
}

const struct turn_chan *turn_alloc_chan_by_number(const struct turn_alloc *a, uint16_t n,
                                                  int64_t now)
{
	for (size_t i = 0; i < a->nchans; i++) {
		if (a->chans[i].number == n && a->chans[i].expires > now)
			return &a->chans[i];
	}
	return NULL;
}

const struct turn_chan *turn_alloc_chan_by_peer(const struct turn_alloc *a,
                                                const struct sockaddr *peer, int64_t now)
{
	for (size_t i = 0; i < a->nchans; i++) {
		if (a->chans[i].expires > now &&
		    turn_addr_equal((const struct sockaddr *)&a->chans[i].peer, peer, true))
			return &a->chans[i];
	}
	return NULL;
}

/* RFC 8656 §11.2: a number bound to another peer, or a peer bound to another number, is a 400. */
int turn_alloc_bind_channel(struct turn_alloc *a, uint16_t n, const struct sockaddr *peer,
                            int64_t now)
{
	struct turn_chan *slot = NULL;

	for (size_t i = 0; i < a->nchans; i++) {
		struct turn_chan *c = &a->chans[i];
		bool same_peer = turn_addr_equal((struct sockaddr *)&c->peer, peer, true);

		if (c->expires <= now)
			continue;
		if ((c->number == n) != same_peer)
			return EEXIST;
		if (c->number == n)
			slot = c;
	}
	/* all or nothing: the channel's permission must fit before the channel is made */
	if (!slot) {
		struct sockaddr_storage p = { 0 };

		memcpy(&p, peer, turn_addr_len(peer));
		if (a->nchans == TURN_MAX_CHANS || !turn_alloc_permits_fit(a, &p, 1))
			return ENOSPC;
		slot = &a->chans[a->nchans++];
		memset(slot, 0, sizeof(*slot));
		slot->number = n;
		memcpy(&slot->peer, peer, turn_addr_len(peer));
	}
	slot->expires = now + TURN_CHANNEL_LIFETIME;
	return turn_alloc_permit(a, peer, now);
}
