/*
 * The PBX targets of sip.pbx (RFC 3263 without NAPTR/SRV): each reached over
 * UDP (sip_udp.c), TCP or TLS (sip_tcp.c), directly or through
 * sip.outbound_proxy (RFC 3261 §8.1.2), names resolved with GResolver.
 */
#include "signaling/sip_pbx.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"
#include "signaling/sip_addr.h"
#include "signaling/sip_tcp.h"
#include "signaling/sip_udp.h"

struct target {
	struct sip_peer peer;
	struct sip_pbx *x;     /* NULL once the PBX side is gone */
	struct sip_target t;   /* as configured: the URIs toward it */
	struct sip_target hop; /* where the bytes go: t, or the outbound proxy */
	struct sockaddr_in6 addr;
	bool resolved;
	char local[80]; /* our address toward the hop, "host:port" */
	char domain[270];
	struct sip_tcp *tcp; /* a TCP or TLS hop */
};

struct sip_pbx {
	struct sip_udp *udp;
	SSL_CTX *tls;
	int port;
	struct sip_pbx_handlers h;
	void *user;
	GPtrArray *targets; /* struct target *, each holding its peer's first reference */
	GCancellable *cancel;
	char *route;
	unsigned long too_big, framing;
};

static int target_send(struct sip_peer *p, const char *buf, size_t len)
{
	struct target *t = (struct target *)p;

	if (p->closed || !t->x)
		return EPIPE;
	if (!t->resolved)
		return EAGAIN;
	if (t->tcp)
		return sip_tcp_send(t->tcp, buf, len);
	return sip_udp_send(t->x->udp, &t->addr, buf, len);
}

static void target_free(struct sip_peer *p)
{
	struct target *t = (struct target *)p;

	sip_tcp_free(t->tcp);
	g_free(t);
}

static const struct sip_peer_ops target_ops = { .send = target_send, .free = target_free };

static void set_address(struct target *t, GInetAddress *a)
{
	sip_addr_set(&t->addr, a, t->hop.port);
	t->resolved = true;
	sip_addr_local(&t->addr, t->x->port, t->local, sizeof(t->local));
	if (t->tcp)
		sip_tcp_set_address(t->tcp, &t->addr);
	log_info(LOG_SIP, "pbx target resolved", "target=%s hop=%s:%s:%u local=%s", t->peer.name,
	         sip_transport_name(t->hop.transport), t->hop.host, t->hop.port, t->local);
}

static void resolved(GObject *src, GAsyncResult *res, gpointer data)
{
	struct target *t = data;
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

static void resolve(struct sip_pbx *x, struct target *t)
{
	GInetAddress *a = g_inet_address_new_from_string(t->hop.host);
	GResolver *r;

	if (a) {
		set_address(t, a);
		g_object_unref(a);
		return;
	}
	r = g_resolver_get_default();
	g_resolver_lookup_by_name_async(r, t->hop.host, x->cancel, resolved, t);
	g_object_unref(r);
}

/* A datagram's sender: a target reached over UDP, by address only (the PBX may answer from
 * another port than it listens on). */
static struct sip_peer *udp_lookup(void *user, const struct sockaddr_in6 *from)
{
	struct sip_pbx *x = user;

	for (guint i = 0; i < x->targets->len; i++) {
		struct target *t = x->targets->pdata[i];

		if (!t->tcp && t->resolved && memcmp(&t->addr.sin6_addr, &from->sin6_addr, 16) == 0)
			return &t->peer;
	}
	return NULL;
}

static void udp_rx(void *user, struct sip_peer *from, const char *buf, size_t len)
{
	struct sip_pbx *x = user;

	x->h.rx(x->user, from, buf, len);
}

static void tcp_message(void *user, const char *buf, size_t len)
{
	struct target *t = user;

	if (t->x)
		t->x->h.rx(t->x->user, &t->peer, buf, len);
}

static void tcp_dropped(void *user, const char *reason)
{
	struct target *t = user;

	if (t->x && strcmp(reason, "too_big") == 0)
		t->x->too_big++;
	else if (t->x)
		t->x->framing++;
}

static void tcp_lost(void *user)
{
	struct target *t = user;

	if (t->x)
		t->x->h.lost(t->x->user, &t->peer);
}

static const struct sip_tcp_handlers tcp_handlers = { .message = tcp_message,
	                                              .dropped = tcp_dropped,
	                                              .lost = tcp_lost };

static void add_target(struct sip_pbx *x, const struct sip_target *st, const char *name,
                       const struct sip_target *proxy, int keepalive)
{
	struct target *t = g_new0(struct target, 1);

	sip_peer_init(&t->peer, &target_ops, name);
	t->x = x;
	t->t = *st;
	t->hop = proxy ? *proxy : *st;
	g_snprintf(t->domain, sizeof(t->domain), strchr(st->host, ':') ? "[%s]:%u" : "%s:%u",
	           st->host, st->port);
	if (t->hop.transport != SIP_UDP) {
		struct sip_tcp_opts o = { .name = name,
			                  .host = t->hop.host,
			                  .tls = t->hop.transport == SIP_TLS ? x->tls : NULL,
			                  .keepalive = keepalive };

		t->tcp = sip_tcp_new(&o, &tcp_handlers, t);
	}
	g_ptr_array_add(x->targets, t);
}

/* The targets and the proxy as configured (the config check refused bad ones already). */
static int parse_targets(const struct conf *c, struct sip_target *proxy, bool *has_proxy,
                         GArray *targets, char **why)
{
	bool tls = false;

	*has_proxy = *c->sip.outbound_proxy != '\0';
	if (*has_proxy && sip_target_parse(c->sip.outbound_proxy, proxy, why) != 0)
		return EINVAL;
	tls = *has_proxy && proxy->transport == SIP_TLS;
	for (char **p = c->sip.pbx; *p; p++) {
		struct sip_target t;

		if (sip_target_parse(*p, &t, why) != 0)
			return EINVAL;
		g_array_append_val(targets, t);
		tls = tls || (!*has_proxy && t.transport == SIP_TLS);
	}
	return tls ? EAGAIN : 0; /* EAGAIN: a TLS context is needed */
}

static void make_route(struct sip_pbx *x, const struct sip_target *p)
{
	x->route = g_strdup_printf(strchr(p->host, ':') ? "<sip:[%s]:%u;transport=%s;lr>"
	                                                : "<sip:%s:%u;transport=%s;lr>",
	                           p->host, p->port, sip_transport_name(p->transport));
}

int sip_pbx_start(const struct conf *c, const struct sip_pbx_handlers *h, void *user,
                  struct sip_pbx **out, char **why)
{
	struct sip_pbx *x = g_new0(struct sip_pbx, 1);
	GArray *targets = g_array_new(FALSE, FALSE, sizeof(struct sip_target));
	struct sip_target proxy;
	bool has_proxy;
	int rc = parse_targets(c, &proxy, &has_proxy, targets, why);

	x->port = c->sip.port;
	x->h = *h;
	x->user = user;
	x->cancel = g_cancellable_new();
	x->targets = g_ptr_array_new();
	if (rc == EAGAIN) {
		x->tls = sip_tcp_tls_context(c, why);
		rc = x->tls ? 0 : EINVAL;
	}
	if (!rc)
		rc = sip_udp_open(c, udp_lookup, udp_rx, x, &x->udp, why);
	if (rc) {
		g_array_unref(targets);
		sip_pbx_free(x);
		return rc;
	}
	if (has_proxy)
		make_route(x, &proxy);
	for (guint i = 0; i < targets->len; i++)
		add_target(x, &g_array_index(targets, struct sip_target, i), c->sip.pbx[i],
		           has_proxy ? &proxy : NULL, c->sip.keepalive_interval);
	g_array_unref(targets);
	for (guint i = 0; i < x->targets->len; i++)
		resolve(x, x->targets->pdata[i]);
	*out = x;
	return 0;
}

void sip_pbx_free(struct sip_pbx *x)
{
	if (!x)
		return;
	g_cancellable_cancel(x->cancel);
	g_object_unref(x->cancel);
	for (guint i = 0; i < x->targets->len; i++) {
		struct target *t = x->targets->pdata[i];

		/* transactions may hold the peer a while: its connection goes now */
		sip_tcp_free(t->tcp);
		t->tcp = NULL;
		t->x = NULL;
		t->peer.closed = true;
		sip_peer_unref(&t->peer);
	}
	g_ptr_array_unref(x->targets);
	sip_udp_free(x->udp);
	if (x->tls)
		SSL_CTX_free(x->tls);
	g_free(x->route);
	g_free(x);
}

static const struct target *at(const struct sip_pbx *x, size_t i)
{
	return i < x->targets->len ? x->targets->pdata[i] : NULL;
}

size_t sip_pbx_ntargets(const struct sip_pbx *x)
{
	return x->targets->len;
}

struct sip_peer *sip_pbx_target(struct sip_pbx *x, size_t i)
{
	return i < x->targets->len ? &((struct target *)x->targets->pdata[i])->peer : NULL;
}

int sip_pbx_index(const struct sip_pbx *x, const struct sip_peer *p)
{
	for (guint i = 0; i < x->targets->len; i++) {
		if (&((struct target *)x->targets->pdata[i])->peer == p)
			return (int)i;
	}
	return -1;
}

const char *sip_pbx_local(const struct sip_pbx *x, size_t i)
{
	const struct target *t = at(x, i);

	return t && t->resolved && t->local[0] ? t->local : NULL;
}

const char *sip_pbx_domain(const struct sip_pbx *x, size_t i)
{
	const struct target *t = at(x, i);

	return t ? t->domain : NULL;
}

enum sip_transport sip_pbx_transport(const struct sip_pbx *x, size_t i)
{
	const struct target *t = at(x, i);

	return t ? t->hop.transport : SIP_UDP;
}

enum sip_srtp sip_pbx_srtp(const struct sip_pbx *x, size_t i)
{
	const struct target *t = at(x, i);

	return t ? t->t.srtp : SIP_SRTP_OFF;
}

bool sip_pbx_ready(const struct sip_pbx *x, size_t i)
{
	const struct target *t = at(x, i);

	return t && (!t->tcp || sip_tcp_ready(t->tcp));
}

const char *sip_pbx_route(const struct sip_pbx *x)
{
	return x->route;
}

void sip_pbx_stats(const struct sip_pbx *x, struct sip_pbx_stats *out)
{
	out->not_pbx = x->udp ? sip_udp_foreign(x->udp) : 0;
	out->too_big = x->too_big;
	out->framing = x->framing;
}
