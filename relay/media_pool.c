/* The media pool: worker threads, their blocks of media.ports, the metrics collector. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/worker.h"
#include "relay/peer_policy.h"
#include "relay/rtp_priv.h"

const char *const media_drop_names[MEDIA_DROP_COUNT] = {
	[MEDIA_DROP_NOT_LATCHED] = "not_latched",     [MEDIA_DROP_NO_REMOTE] = "no_remote",
	[MEDIA_DROP_SEND_ERROR] = "send_error",       [MEDIA_DROP_MALFORMED] = "malformed",
	[MEDIA_DROP_NOT_CONNECTED] = "not_connected", [MEDIA_DROP_SRTP_AUTH] = "srtp_auth",
	[MEDIA_DROP_SRTP_REPLAY] = "srtp_replay",     [MEDIA_DROP_SRTP_ERROR] = "srtp_error",
};

static const char *const kind_names[RTP_KIND_COUNT] = { "rtp", "rtcp" };

static uint64_t load(const atomic_uint_fast64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* Scrape (control thread): the workers' totals. */
static void collect(void *arg, struct metrics *m)
{
	struct media_pool *p = arg;

	metrics_set(m, METRIC_MEDIA_SESSIONS, p->nsessions, NULL);
	for (int k = 0; k < RTP_KIND_COUNT; k++) {
		uint64_t pkts = 0, bytes = 0;

		for (int i = 0; i < p->nworkers; i++) {
			pkts += load(&p->rw[i]->stats.packets[k]);
			bytes += load(&p->rw[i]->stats.bytes[k]);
		}
		metrics_set(m, METRIC_MEDIA_PACKETS, (int64_t)pkts,
		            (const char *const[]){ kind_names[k] });
		metrics_set(m, METRIC_MEDIA_BYTES, (int64_t)bytes,
		            (const char *const[]){ kind_names[k] });
	}
	for (int d = 0; d < MEDIA_DROP_COUNT; d++) {
		uint64_t n = 0;

		for (int i = 0; i < p->nworkers; i++)
			n += load(&p->rw[i]->stats.drops[d]);
		metrics_set(m, METRIC_MEDIA_DROPPED, (int64_t)n,
		            (const char *const[]){ media_drop_names[d] });
	}
}

/*
 * Worker i of n owns the i-th of n contiguous blocks of lo-hi (the last one
 * takes the remainder), so an RTP port and its RTCP neighbour are always in
 * the same block: the pairs are (e, e+1) for even e with e+1 in the block.
 */
static void port_block(uint16_t lo, uint16_t hi, int n, int i, uint16_t *first_even,
                       uint32_t *npairs)
{
	uint32_t span = (uint32_t)(hi - lo) + 1;
	uint32_t block = span / (uint32_t)n;
	uint32_t start = lo + (uint32_t)i * block;
	uint32_t end = i == n - 1 ? (uint32_t)hi + 1 : start + block; /* exclusive */
	uint32_t e = start + (start & 1);

	*first_even = (uint16_t)e;
	*npairs = end > e ? (end - e) / 2 : 0;
}

/* This host's first up, non-loopback IPv4 address, else IPv6 (not link-local), else 127.0.0.1. */
static void host_address(struct sockaddr_storage *out)
{
	struct ifaddrs *ifa = NULL;
	struct sockaddr_in *lo = (struct sockaddr_in *)out;

	memset(out, 0, sizeof(*out));
	if (getifaddrs(&ifa) == 0) {
		for (int want = AF_INET; want && !out->ss_family;
		     want = want == AF_INET ? AF_INET6 : 0) {
			for (struct ifaddrs *i = ifa; i && !out->ss_family; i = i->ifa_next) {
				if (!i->ifa_addr || i->ifa_addr->sa_family != want ||
				    (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
					continue;
				if (want == AF_INET6 &&
				    IN6_IS_ADDR_LINKLOCAL(
				            &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
					continue;
				memcpy(out, i->ifa_addr, rtp_addr_len(i->ifa_addr));
			}
		}
		freeifaddrs(ifa);
	}
	if (!out->ss_family) {
		lo->sin_family = AF_INET;
		lo->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
}

/* Dual-stack when the host has IPv6, else IPv4 only. */
static int socket_family(void)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return AF_INET;
	close(fd);
	return AF_INET6;
}

static int parse_public(const char *s, struct sockaddr_storage *out)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;

	memset(out, 0, sizeof(*out));
	if (!*s)
		return 0;
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		return 0;
	}
	return EINVAL;
}

static void fini_on_worker(void *data)
{
	rtp_worker_fini(data);
}

int media_pool_start(const struct conf *c, struct metrics *metrics, struct media_pool **out,
                     char **why)
{
	const struct media_conf *mc = &c->media;
	struct media_pool *p;
	uint16_t lo, hi;
	int n = mc->workers ? mc->workers : (int)g_get_num_processors();
	int rc = 0;

	*out = NULL;
	if (peer_port_range_parse(mc->ports, &lo, &hi)) {
		*why = g_strdup_printf("media.ports '%s' is not a port range", mc->ports);
		return EINVAL;
	}
	p = g_new0(struct media_pool, 1);
	if (parse_public(mc->public_address, &p->public_addr)) {
		*why = g_strdup_printf("media.public_address '%s' is not an IP address",
		                       mc->public_address);
		g_free(p);
		return EINVAL;
	}
	p->ice_lite = strcmp(mc->ice_mode, "full") != 0;
	p->consent_ms = (unsigned)mc->consent_timeout * 1000u;
	p->ice_timeout_ms = (unsigned)mc->ice_timeout * 1000u;
	p->io_uring = strcmp(mc->io, "io_uring") == 0;
	p->family = socket_family();
	host_address(&p->host_addr);
	p->nworkers = n;
	p->rw = g_new0(struct rtp_worker *, n);
	for (int i = 0; i < n; i++) {
		p->rw[i] = g_new0(struct rtp_worker, 1);
		p->rw[i]->epfd = -1;
		port_block(lo, hi, n, i, &p->rw[i]->first_even, &p->rw[i]->npairs);
		/* a call needs two pairs; fewer is a configuration error, not a busy signal */
		if (p->rw[i]->npairs < 2 && !rc) {
			*why = g_strdup_printf("media.ports %u-%u is too small for %d workers "
			                       "(each needs at least 4 ports)",
			                       lo, hi, n);
			rc = EINVAL;
		}
	}
	if (rc) {
		for (int i = 0; i < n; i++)
			g_free(p->rw[i]);
		g_free(p->rw);
		g_free(p);
		return rc;
	}
	p->workers = worker_pool_new("media", n);
	for (int i = 0; i < n; i++) {
		p->rw[i]->w = worker_pool_get(p->workers, i);
		p->rw[i]->pool = p;
		rc = rtp_worker_init(p->rw[i]);
		if (rc) {
			*why = g_strdup_printf("media worker: %s", g_strerror(rc));
			media_pool_stop(p);
			return rc;
		}
	}
	/* each ring is made on its worker (rtp_leg.c): there, or refused, before the first call */
	if (p->io_uring)
		media_pool_sync(p);
	p->metrics = metrics;
	if (metrics)
		metrics_add_collector(metrics, collect, p);
	log_info(LOG_RTP, "media workers started",
	         "workers=%d ports=%u-%u family=%s public=%s io=%s", n, lo, hi,
	         p->family == AF_INET6 ? "dual" : "ipv4",
	         *mc->public_address ? mc->public_address : "none", mc->io);
	*out = p;
	return 0;
}

void media_pool_stop(struct media_pool *p)
{
	if (!p)
		return;
	if (p->metrics)
		metrics_remove_collector(p->metrics, collect, p);
	/* sessions and sources are the workers': closed there, before the threads end */
	for (int i = 0; p->workers && i < p->nworkers; i++)
		worker_post(p->rw[i]->w, fini_on_worker, p->rw[i]);
	worker_pool_free(p->workers);
	for (int i = 0; i < p->nworkers; i++) {
		if (p->rw[i]->epfd >= 0)
			close(p->rw[i]->epfd);
		g_free(p->rw[i]);
	}
	g_free(p->rw);
	g_free(p);
}

void media_pool_sync(struct media_pool *p)
{
	for (int i = 0; i < p->nworkers; i++)
		worker_sync(p->rw[i]->w);
}

int media_pool_sessions(const struct media_pool *p)
{
	return p->nsessions;
}
