/* The TURN configuration snapshot: built from the config on start and SIGHUP, read-only after. */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "relay/turn_priv.h"

/* rtcgate's own media addresses: every up, non-loopback interface address, on media.ports. */
static struct peer_rule *self_rules(const struct conf *c, size_t *n)
{
	struct ifaddrs *ifa = NULL;
	GArray *rules = g_array_new(FALSE, TRUE, sizeof(struct peer_rule));
	uint16_t lo = 10000, hi = 20000;
	struct peer_rule *out;

	peer_port_range_parse(c->media.ports, &lo, &hi);
	if (getifaddrs(&ifa) == 0) {
		for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
			struct peer_rule r = { .port_min = lo, .port_max = hi };

			if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK) ||
			    !(i->ifa_flags & IFF_UP))
				continue;
			if (i->ifa_addr->sa_family == AF_INET) {
				r.family = AF_INET;
				r.prefix = 32;
				memcpy(r.addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			} else if (i->ifa_addr->sa_family == AF_INET6) {
				r.family = AF_INET6;
				r.prefix = 128;
				memcpy(r.addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
				       16);
			} else {
				continue;
			}
			g_array_append_val(rules, r);
		}
		freeifaddrs(ifa);
	}
	*n = rules->len;
	out = malloc(sizeof(*out) * (rules->len ? rules->len : 1));
	if (out && rules->len)
		memcpy(out, rules->data, sizeof(*out) * rules->len);
	g_array_unref(rules);
	return out;
}

/* A usable relay address of each family: up, not loopback or link-local; else loopback. */
static void host_addresses(struct turn_snapshot *s)
{
	struct ifaddrs *ifa = NULL;
	struct sockaddr_storage lo4 = { 0 }, lo6 = { 0 };

	if (getifaddrs(&ifa) != 0)
		return;
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		const struct sockaddr *a = i->ifa_addr;
		bool loop = (i->ifa_flags & IFF_LOOPBACK) != 0;

		if (!a || !(i->ifa_flags & IFF_UP))
			continue;
		if (a->sa_family == AF_INET) {
			struct sockaddr_storage *to = loop ? &lo4 : &s->host4;

			if (!to->ss_family)
				memcpy(to, a, sizeof(struct sockaddr_in));
		} else if (a->sa_family == AF_INET6 &&
		           !IN6_IS_ADDR_LINKLOCAL(&((const struct sockaddr_in6 *)a)->sin6_addr)) {
			struct sockaddr_storage *to = loop ? &lo6 : &s->host6;

			if (!to->ss_family)
				memcpy(to, a, sizeof(struct sockaddr_in6));
		}
	}
	freeifaddrs(ifa);
	if (!s->host4.ss_family)
		s->host4 = lo4;
	if (!s->host6.ss_family)
		s->host6 = lo6;
	/* the port is chosen per relay; scope ids do not apply off link-local */
	((struct sockaddr_in *)&s->host4)->sin_port = 0;
	((struct sockaddr_in6 *)&s->host6)->sin6_port = 0;
}

static guint hash32(gconstpointer p)
{
	guint h;

	memcpy(&h, p, sizeof(h));
	return h;
}

static gboolean equal32(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, 32) == 0;
}

/* The static users, by name and by USERHASH (RFC 8489 §14.4: SHA-256 of "user:realm"). */
static void static_users(struct turn_snapshot *s, char **users)
{
	s->users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	s->userhash = g_hash_table_new_full(hash32, equal32, g_free, g_free);
	for (char **u = users; *u; u++) {
		const char *colon = strchr(*u, ':');
		uint8_t hash[32];
		char *name;

		if (!colon)
			continue;
		name = g_strndup(*u, (gsize)(colon - *u));
		g_hash_table_insert(s->users, g_strdup(name), g_strdup(colon + 1));
		if (stun_userhash(name, s->realm, hash) == 0)
			g_hash_table_insert(s->userhash, g_memdup2(hash, sizeof(hash)), name);
		else
			g_free(name);
	}
}

int turn_snapshot_build(struct turn_snapshot *s, const struct conf *c,
                        const struct turn_snapshot *prev, char **why)
{
	char *err = NULL;
	bool self = false;

	memset(s, 0, sizeof(*s));
	s->realm = g_strdup(c->turn.realm);
	s->secrets = g_strdupv(c->turn.secrets);
	static_users(s, c->turn.users);
	host_addresses(s);
	if (prev)
		memcpy(s->nonce_key, prev->nonce_key, sizeof(s->nonce_key));
	else if (RAND_bytes(s->nonce_key, sizeof(s->nonce_key)) != 1) {
		*why = g_strdup("no randomness for the nonce key");
		return EIO;
	}
	s->nonce_ttl = (uint32_t)c->turn.nonce_lifetime;
	s->max_lifetime = (uint32_t)c->turn.max_lifetime;
	peer_port_range_parse(c->turn.relay_ports, &s->relay_lo, &s->relay_hi);
	s->max_allocs = c->turn.max_allocations;
	s->max_allocs_per_user = c->turn.max_allocations_per_user;
	s->max_conns_per_ip = c->turn.max_connections_per_ip;
	s->request_rate = c->turn.request_rate;
	s->max_bytes_per_sec = c->turn.max_bandwidth * 1000.0 / 8.0;
	if (*c->turn.alternate_server)
		peer_sockaddr_parse(c->turn.alternate_server, &s->alternate);
	if (peer_rules_parse(c->turn.allowed_peers, true, &s->allow, &s->policy.nallow, &self,
	                     &err) ||
	    peer_rules_parse(c->turn.denied_peers, false, &s->deny, &s->policy.ndeny, NULL, &err)) {
		*why = g_strdup(err ? err : "bad peer rules");
		free(err);
		return EINVAL;
	}
	if (self)
		s->self = self_rules(c, &s->policy.nself);
	s->policy.allow = s->allow;
	s->policy.deny = s->deny;
	s->policy.self = s->self;
	return 0;
}

void turn_snapshot_free(struct turn_snapshot *s)
{
	g_free(s->realm);
	g_strfreev(s->secrets);
	if (s->users)
		g_hash_table_destroy(s->users);
	if (s->userhash)
		g_hash_table_destroy(s->userhash);
	free(s->allow);
	free(s->deny);
	free(s->self);
	OPENSSL_cleanse(s->nonce_key, sizeof(s->nonce_key));
	g_free(s);
}
