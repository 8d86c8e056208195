/* Media sessions from the control thread: ports, SDP addresses, messages to the worker. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/worker.h"
#include "relay/peer_policy.h"
#include "relay/rtp_priv.h"

/* A socket on the wildcard with DSCP EF: -errno on failure. */
static int media_socket(int family, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	int tos = DSCP_EF_TOS, zero = 0, fd, err;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* both: a dual-stack socket marks its IPv4 packets by IP_TOS, its IPv6 ones by TCLASS */
	setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_any;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_ANY);
	}
	if (bind(fd, (struct sockaddr *)&ss, rtp_addr_len((struct sockaddr *)&ss))) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

/*
 * The next free RTP/RTCP pair of rw's block: a port somebody else holds is
 * skipped (EADDRINUSE), and the kernel is the record of what is in use, so a
 * closed session's ports are free again as soon as its worker closed them.
 */
static int bind_pair(struct media_pool *p, struct rtp_worker *rw, int fd[2], uint16_t *port)
{
	for (uint32_t tries = 0; tries < rw->npairs; tries++) {
		uint16_t rtp = (uint16_t)(rw->first_even + 2 * (rw->cursor++ % rw->npairs));

		fd[0] = media_socket(p->family, rtp);
		if (fd[0] == -EADDRINUSE)
			continue;
		if (fd[0] < 0)
			return -fd[0];
		fd[1] = media_socket(p->family, (uint16_t)(rtp + 1));
		if (fd[1] < 0) {
			close(fd[0]);
			if (fd[1] == -EADDRINUSE)
				continue;
			return -fd[1];
		}
		*port = rtp;
		return 0;
	}
	return EADDRINUSE;
}

static void init_sock(struct media_session *s, int leg, int kind, int fd)
{
	struct rtp_sock *k = &s->sock[leg][kind];

	k->fd = fd;
	k->leg = (uint8_t)leg;
	k->kind = (uint8_t)kind;
	k->s = s;
	rtp_latch_init(&k->latch, kind == RTP_KIND_RTCP ? RTCP_RELATCH_USEC : RTP_RELATCH_USEC);
}

/* Both legs on rw, or nothing bound. */
static int bind_legs(struct media_pool *p, struct rtp_worker *rw, struct media_session *s)
{
	int fd[MEDIA_LEG_COUNT][2];
	int rc = bind_pair(p, rw, fd[0], &s->port[0]);

	if (!rc) {
		rc = bind_pair(p, rw, fd[1], &s->port[1]);
		if (rc) {
			close(fd[0][0]);
			close(fd[0][1]);
		}
	}
	if (rc)
		return rc;
	for (int l = 0; l < MEDIA_LEG_COUNT; l++) {
		init_sock(s, l, RTP_KIND_RTP, fd[l][0]);
		init_sock(s, l, RTP_KIND_RTCP, fd[l][1]);
	}
	return 0;
}

static void attach_on_worker(void *data)
{
	rtp_session_attach(data);
}

int media_session_new(struct media_pool *p, struct media_session **out)
{
	struct media_session *s = g_new0(struct media_session, 1);
	int order[64], n = p->nworkers < 64 ? p->nworkers : 64, rc = EADDRINUSE;

	/* least loaded first; a worker whose block is full passes to the next */
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = 1; i < n; i++) {
		for (int j = i;
		     j > 0 && p->rw[order[j]]->nsessions < p->rw[order[j - 1]]->nsessions; j--) {
			int t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	}
	for (int i = 0; i < n && rc == EADDRINUSE; i++) {
		rc = bind_legs(p, p->rw[order[i]], s);
		if (!rc)
			s->rw = p->rw[order[i]];
	}
	if (rc) {
		log_warn(LOG_RTP, "no media ports", "error=%s sessions=%d", g_strerror(rc),
		         p->nsessions);
		g_free(s);
		return rc;
	}
	s->id = ++p->next_id;
	s->rw->nsessions++;
	p->nsessions++;
	worker_post(s->rw->w, attach_on_worker, s);
	*out = s;
	return 0;
}

int media_local_toward(const struct media_pool *p, const struct sockaddr *toward,
                       struct sockaddr_storage *out)
{
	struct sockaddr_storage a, peer;
	socklen_t len = sizeof(a);
	int fd, rc = 0;

	if (!toward) {
		*out = p->host_addr;
		return 0;
	}
	peer_addr_normalise(toward, &peer);
	fd = socket(peer.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&peer, rtp_addr_len((struct sockaddr *)&peer)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		rc = errno;
	close(fd);
	if (!rc)
		*out = a;
	return rc;
}

void rtp_addr_set_port(struct sockaddr_storage *a, uint16_t port)
{
	if (a->ss_family == AF_INET6)
		((struct sockaddr_in6 *)a)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)a)->sin_port = htons(port);
}

int media_session_local(const struct media_session *s, enum media_leg leg,
                        const struct sockaddr *toward, struct sockaddr_storage *rtp_out)
{
	const struct media_pool *p = s->rw->pool;
	struct sockaddr_storage a;
	int rc = 0;

	if (leg < 0 || leg >= MEDIA_LEG_COUNT)
		return EINVAL;
	if (p->public_addr.ss_family)
		a = p->public_addr;
	else
		rc = media_local_toward(p, toward, &a);
	if (rc)
		return rc;
	rtp_addr_set_port(&a, s->port[leg]);
	*rtp_out = a;
	return 0;
}

/* addr in the family of the media sockets (IPv4 as v4-mapped on a dual-stack socket). */
static int to_socket_family(int family, const struct sockaddr *addr, struct sockaddr_storage *out)
{
	struct sockaddr_storage n;

	peer_addr_normalise(addr, &n);
	memset(out, 0, sizeof(*out));
	if (n.ss_family == family) {
		memcpy(out, &n, rtp_addr_len((struct sockaddr *)&n));
		return 0;
	}
	if (n.ss_family == AF_INET && family == AF_INET6) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)&n;
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;

		a6->sin6_family = AF_INET6;
		a6->sin6_port = a4->sin_port;
		a6->sin6_addr.s6_addr[10] = 0xff;
		a6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&a6->sin6_addr.s6_addr[12], &a4->sin_addr, 4);
		return 0;
	}
	return n.ss_family == AF_INET6 ? EAFNOSUPPORT : EINVAL;
}

struct remote_msg {
	struct media_session *s;
	enum media_leg leg;
	struct sockaddr_storage addr[RTP_KIND_COUNT];
};

static void set_remote_on_worker(void *data)
{
	struct remote_msg *m = data;

	for (int k = 0; k < RTP_KIND_COUNT; k++) {
		struct rtp_sock *sk = &m->s->sock[m->leg][k];
		const struct sockaddr *a = (const struct sockaddr *)&m->addr[k];

		if (rtp_latch_set_sdp(&sk->latch, a, rtp_addr_len(a)))
			log_info(LOG_RTP, "remote set", "session=%u leg=%c kind=%s", m->s->id,
			         'a' + m->leg, k == RTP_KIND_RTCP ? "rtcp" : "rtp");
	}
	g_free(m);
}

int media_session_set_remote(struct media_session *s, enum media_leg leg,
                             const struct sockaddr *rtp, const struct sockaddr *rtcp)
{
	const struct media_pool *p = s->rw->pool;
	struct remote_msg *m;
	int rc;

	if (leg < 0 || leg >= MEDIA_LEG_COUNT || !rtp)
		return EINVAL;
	m = g_new0(struct remote_msg, 1);
	m->s = s;
	m->leg = leg;
	rc = to_socket_family(p->family, rtp, &m->addr[RTP_KIND_RTP]);
	if (!rc && rtcp) {
		rc = to_socket_family(p->family, rtcp, &m->addr[RTP_KIND_RTCP]);
	} else if (!rc) {
		struct sockaddr_storage *c = &m->addr[RTP_KIND_RTCP];

		*c = m->addr[RTP_KIND_RTP];
		/* RFC 3550 §11: RTCP on the next higher (odd) port */
		if (c->ss_family == AF_INET6)
			((struct sockaddr_in6 *)c)->sin6_port =
			        htons((uint16_t)(ntohs(((struct sockaddr_in6 *)c)->sin6_port) + 1));
		else
			((struct sockaddr_in *)c)->sin_port =
			        htons((uint16_t)(ntohs(((struct sockaddr_in *)c)->sin_port) + 1));
	}
	if (rc) {
		g_free(m);
		return rc;
	}
	worker_post(s->rw->w, set_remote_on_worker, m);
	return 0;
}

static void set_echo_on_worker(void *data)
{
	struct media_session *s = data;

	s->echo = true;
	log_info(LOG_RTP, "echo", "session=%u", s->id);
}

void media_session_set_echo(struct media_session *s, enum media_leg leg)
{
	/* either leg's far end being an echo leaves the other nobody else to talk to */
	(void)leg;
	worker_post(s->rw->w, set_echo_on_worker, s);
}

static uint64_t load(const atomic_uint_fast64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

void media_session_stats(const struct media_session *s, struct media_stats *out)
{
	for (int l = 0; l < MEDIA_LEG_COUNT; l++) {
		const struct rtp_leg_counters *c = &s->stats[l];
		struct media_leg_stats *o = &out->leg[l];

		o->packets_in = load(&c->packets_in);
		o->bytes_in = load(&c->bytes_in);
		o->packets_out = load(&c->packets_out);
		o->bytes_out = load(&c->bytes_out);
		for (int d = 0; d < MEDIA_DROP_COUNT; d++)
			o->drops[d] = load(&c->drops[d]);
	}
}

uint32_t media_session_id(const struct media_session *s)
{
	return s->id;
}

static void close_on_worker(void *data)
{
	rtp_session_close(data, "freed");
}

void media_session_free(struct media_session *s)
{
	if (!s)
		return;
	s->rw->nsessions--;
	s->rw->pool->nsessions--;
	worker_post(s->rw->w, close_on_worker, s);
}
