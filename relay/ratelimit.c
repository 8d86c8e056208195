/* Token buckets per source address (the rate limit RFC 8656 §21.2 asks for against floods). */
#include "relay/ratelimit.h"

#include <glib.h>
#include <netinet/in.h>
#include <string.h>

struct bucket {
	uint8_t ip[16]; /* IPv4 as ::ffff:a.b.c.d */
	double tokens;
	int64_t last_ms;
};

struct ratelimit {
	double rate, burst;
	size_t max_sources;
	GHashTable *buckets; /* ip → struct bucket, the key inside the value */
};

static guint ip_hash(gconstpointer p)
{
	const uint8_t *b = p;
	guint h = 5381;

	for (int i = 0; i < 16; i++)
		h = h * 33 + b[i];
	return h;
}

static gboolean ip_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, 16) == 0;
}

struct ratelimit *ratelimit_new(double rate, double burst, size_t max_sources)
{
	struct ratelimit *rl = g_new0(struct ratelimit, 1);

	rl->rate = rate;
	rl->burst = burst;
	rl->max_sources = max_sources;
	rl->buckets = g_hash_table_new_full(ip_hash, ip_equal, NULL, g_free);
	return rl;
}

void ratelimit_set_rate(struct ratelimit *rl, double rate, double burst)
{
	rl->rate = rate;
	rl->burst = burst;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	g_hash_table_destroy(rl->buckets);
	g_free(rl);
}

static void ip_key(const struct sockaddr *a, uint8_t out[16])
{
	memset(out, 0, 16);
	if (a->sa_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)a)->sin_addr, 4);
	} else if (a->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)a)->sin6_addr, 16);
	}
}

static void refill(const struct ratelimit *rl, struct bucket *b, int64_t now_ms)
{
	if (now_ms > b->last_ms) {
		b->tokens += rl->rate * (double)(now_ms - b->last_ms) / 1000.0;
		if (b->tokens > rl->burst)
			b->tokens = rl->burst;
		b->last_ms = now_ms;
	}
}

bool ratelimit_allow(struct ratelimit *rl, const struct sockaddr *addr, int64_t now_ms)
{
	uint8_t key[16];
	struct bucket *b;

	ip_key(addr, key);
	b = g_hash_table_lookup(rl->buckets, key);
	if (!b) {
		if (g_hash_table_size(rl->buckets) >= rl->max_sources)
			return true;
		b = g_new0(struct bucket, 1);
		memcpy(b->ip, key, 16);
		b->tokens = rl->burst;
		b->last_ms = now_ms;
		g_hash_table_insert(rl->buckets, b->ip, b);
	}
	refill(rl, b, now_ms);
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

static gboolean full_again(gpointer k, gpointer v, gpointer data)
{
	const struct ratelimit *rl = ((const void **)data)[0];
	int64_t now = *(const int64_t *)((const void **)data)[1];
	struct bucket *b = v;

	(void)k;
	refill(rl, b, now);
	return b->tokens >= rl->burst;
}

void ratelimit_expire(struct ratelimit *rl, int64_t now_ms)
{
	const void *data[2] = { rl, &now_ms };

	g_hash_table_foreach_remove(rl->buckets, full_again, data);
}

size_t ratelimit_sources(const struct ratelimit *rl)
{
	return g_hash_table_size(rl->buckets);
}
