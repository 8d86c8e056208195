/* SIP over UDP toward the PBX targets of sip.pbx (RFC 3261 §18): one socket, DSCP CS3. */
#include "signaling/sip_udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "signaling/sip_msg.h"
#include "signaling/sip_target.h"

/* DSCP CS3 (24) in the top six bits of the TOS byte: call signaling */
#define DSCP_CS3_TOS (24 << 2)

struct udp_target {
	struct sip_peer peer;
	struct sip_udp *u;
	struct sip_target t;
	struct sockaddr_in6 addr; /* IPv4 as mapped: the socket is dual-stack */
	bool resolved;
	char local[80]; /* our address toward it, "host:port" */
	char domain[270];
};

struct sip_udp {
	int fd;
	guint watch;
	int port;
	sip_udp_rx_fn rx;
	void *user;
	GPtrArray *targets; /* struct udp_target *, each holding its peer's first reference */
	GCancellable *cancel;
	unsigned long foreign;
};

static int target_send(struct sip_peer *p, const char *buf, size_t len)
{
	struct udp_target *t = (struct udp_target *)p;

	if (p->closed || !t->u)
		return EPIPE;
	if (!t->resolved)
		return EAGAIN;
	if (sendto(t->u->fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&t->addr, sizeof(t->addr)) <
	    0)
		return errno;
	return 0;
}

static void target_free(struct sip_peer *p)
{
	g_free(p);
}

static const struct sip_peer_ops target_ops = { .send = target_send, .free = target_free };

/* Our own address as the target sees it: the kernel's route choice, learnt by connect(). */
static void learn_local(struct udp_target *t)
{
	struct sockaddr_in6 me;
	socklen_t len = sizeof(me);
	char ip[INET6_ADDRSTRLEN] = "";
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&t->addr, sizeof(t->addr)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&me, &len) == 0) {
		if (IN6_IS_ADDR_V4MAPPED(&me.sin6_addr)) {
			inet_ntop(AF_INET, me.sin6_addr.s6_addr + 12, ip, sizeof(ip));
			g_snprintf(t->local, sizeof(t->local), "%s:%d", ip, t->u->port);
		} else {
			inet_ntop(AF_INET6, &me.sin6_addr, ip, sizeof(ip));
			g_snprintf(t->local, sizeof(t->local), "[%s]:%d", ip, t->u->port);
		}
	}
	if (fd >= 0)
		close(fd);
}

static void set_address(struct udp_target *t, GInetAddress *a)
{
	const guint8 *bytes = g_inet_address_to_bytes(a);

	memset(&t->addr, 0, sizeof(t->addr));
	t->addr.sin6_family = AF_INET6;
	t->addr.sin6_port = htons(t->t.port);
	if (g_inet_address_get_family(a) == G_SOCKET_FAMILY_IPV4) {
		t->addr.sin6_addr.s6_addr[10] = t->addr.sin6_addr.s6_addr[11] = 0xff;
		memcpy(t->addr.sin6_addr.s6_addr + 12, bytes, 4);
	} else {
		memcpy(&t->addr.sin6_addr, bytes, 16);
	}
	t->resolved = true;
	learn_local(t);
	log_info(LOG_SIP, "pbx target resolved", "target=%s local=%s", t->peer.name, t->local);
}

static void resolved(GObject *src, GAsyncResult *res, gpointer data)
{
	struct udp_target *t = data;
	GError *err = NULL;
	GList *addrs = g_resolver_lookup_by_name_finish(G_RESOLVER(src), res, &err);

	if (!addrs) {
		if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			log_warn(LOG_SIP, "pbx target not resolved", "target=%s error=\"%s\"",
			         t->peer.name, err->message);
		g_error_free(err);
		return;
	}
	set_address(t, addrs->data);
	g_resolver_free_addresses(addrs);
}

static void resolve(struct sip_udp *u, struct udp_target *t)
{
	GInetAddress *a = g_inet_address_new_from_string(t->t.host);
	GResolver *r;

	if (a) {
		set_address(t, a);
		g_object_unref(a);
		return;
	}
	r = g_resolver_get_default();
	g_resolver_lookup_by_name_async(r, t->t.host, u->cancel, resolved, t);
	g_object_unref(r);
}

static struct udp_target *target_from(struct sip_udp *u, const struct sockaddr_in6 *from)
{
	for (guint i = 0; i < u->targets->len; i++) {
		struct udp_target *t = u->targets->pdata[i];

		/* the PBX may answer from another port than it listens on: the address decides */
		if (t->resolved && memcmp(&t->addr.sin6_addr, &from->sin6_addr, 16) == 0)
			return t;
	}
	return NULL;
}

static gboolean readable(gint fd, GIOCondition cond, gpointer data)
{
	struct sip_udp *u = data;
	char buf[SIP_MSG_MAX + 1];

	(void)cond;
	/* bounded per wake-up, like every loop of ours */
	for (int i = 0; i < 64; i++) {
		struct sockaddr_in6 from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
		                     &flen);
		struct udp_target *t;

		if (n < 0)
			break;
		t = target_from(u, &from);
		if (!t) {
			u->foreign++;
			continue;
		}
		/* a CRLF keepalive (RFC 5626 §4.4.1 over UDP is STUN; some PBXes send CRLF) */
		if (n <= 4 && strspn(buf, "\r\n") == (size_t)n)
			continue;
		u->rx(u->user, &t->peer, buf, (size_t)n);
	}
	return G_SOURCE_CONTINUE;
}

static int bind_socket(const struct conf *c, char **why)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
		                  .sin6_port = htons((uint16_t)c->sip.port) };
	int off = 0, tos = DSCP_CS3_TOS;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		*why = g_strdup_printf("SIP socket: %s", g_strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	if (*c->sip.address) {
		GInetAddress *ia = g_inet_address_new_from_string(c->sip.address);
		const guint8 *b = g_inet_address_to_bytes(ia);

		if (g_inet_address_get_family(ia) == G_SOCKET_FAMILY_IPV4) {
			a.sin6_addr.s6_addr[10] = a.sin6_addr.s6_addr[11] = 0xff;
			memcpy(a.sin6_addr.s6_addr + 12, b, 4);
		} else {
			memcpy(&a.sin6_addr, b, 16);
		}
		g_object_unref(ia);
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		*why = g_strdup_printf("cannot listen on sip.port %d: %s", c->sip.port,
		                       g_strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int sip_udp_start(const struct conf *c, sip_udp_rx_fn rx, void *user, struct sip_udp **out,
                  char **why)
{
	struct sip_udp *u;
	int fd = bind_socket(c, why);

	if (fd < 0)
		return EADDRINUSE;
	u = g_new0(struct sip_udp, 1);
	u->fd = fd;
	u->port = c->sip.port;
	u->rx = rx;
	u->user = user;
	u->cancel = g_cancellable_new();
	u->targets = g_ptr_array_new();
	for (char **p = c->sip.pbx; *p; p++) {
		struct udp_target *t = g_new0(struct udp_target, 1);
		char *err = NULL;

		if (sip_target_parse(*p, &t->t, &err) != 0) {
			g_free(err); /* the config check refused it already */
			g_free(t);
			continue;
		}
		sip_peer_init(&t->peer, &target_ops, *p);
		t->u = u;
		g_snprintf(t->domain, sizeof(t->domain),
		           strchr(t->t.host, ':') ? "[%s]:%u" : "%s:%u", t->t.host, t->t.port);
		g_ptr_array_add(u->targets, t);
		resolve(u, t);
	}
	u->watch = g_unix_fd_add(fd, G_IO_IN, readable, u);
	*out = u;
	return 0;
}

void sip_udp_free(struct sip_udp *u)
{
	if (!u)
		return;
	g_cancellable_cancel(u->cancel);
	g_object_unref(u->cancel);
	g_source_remove(u->watch);
	close(u->fd);
	for (guint i = 0; i < u->targets->len; i++) {
		struct udp_target *t = u->targets->pdata[i];

		t->u = NULL;
		t->peer.closed = true;
		sip_peer_unref(&t->peer);
	}
	g_ptr_array_unref(u->targets);
	g_free(u);
}

size_t sip_udp_ntargets(const struct sip_udp *u)
{
	return u->targets->len;
}

struct sip_peer *sip_udp_target(struct sip_udp *u, size_t i)
{
	return i < u->targets->len ? &((struct udp_target *)u->targets->pdata[i])->peer : NULL;
}

const char *sip_udp_local(const struct sip_udp *u, size_t i)
{
	const struct udp_target *t = i < u->targets->len ? u->targets->pdata[i] : NULL;

	return t && t->resolved && t->local[0] ? t->local : NULL;
}

const char *sip_udp_domain(const struct sip_udp *u, size_t i)
{
	const struct udp_target *t = i < u->targets->len ? u->targets->pdata[i] : NULL;

	return t ? t->domain : NULL;
}

unsigned long sip_udp_foreign(const struct sip_udp *u)
{
	return u->foreign;
}
