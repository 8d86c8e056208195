/* Peer address policy for TURN relaying: rule parsing, normalisation, special ranges. */
#include "relay/peer_policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "'item'" + what, for error reasons; NULL when out of memory */
static char *quoted(const char *item, const char *what)
{
	size_t n = strlen(item) + strlen(what) + 3;
	char *s = malloc(n);

	if (s) {
		s[0] = '\'';
		strcpy(s + 1, item);
		strcat(s, "'");
		strcat(s, what);
	}
	return s;
}

int peer_port_range_parse(const char *s, uint16_t *lo, uint16_t *hi)
{
	char *end;
	unsigned long a = strtoul(s, &end, 10), b = a;

	if (end == s)
		return EINVAL;
	if (*end == '-') {
		const char *t = end + 1;

		b = strtoul(t, &end, 10);
		if (end == t)
			return EINVAL;
	}
	if (*end || a == 0 || a > 65535 || b > 65535 || b < a)
		return EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

/*
 * A rule written as ::ffff:a.b.c.d/p or ::a.b.c.d/p (p >= 96) means the IPv4
 * a.b.c.d/(p-96): peers are normalised to IPv4 before matching, so the rule
 * must be too.
 */
static void normalise_rule(struct peer_rule *r)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t zero[12] = { 0 };
	/* ::a.b.c.d (IPv4-compatible), but not :: and ::1 themselves */
	bool compatible = memcmp(r->addr, zero, 12) == 0 &&
	                  (r->addr[12] | r->addr[13] | r->addr[14] | (r->addr[15] & 0xfe)) != 0;

	if (r->family == AF_INET6 && r->prefix >= 96 &&
	    (memcmp(r->addr, mapped, 12) == 0 || compatible)) {
		memmove(r->addr, r->addr + 12, 4);
		memset(r->addr + 4, 0, 12);
		r->family = AF_INET;
		r->prefix -= 96;
	}
}

/* "addr[/prefix][:ports]", IPv6 with ports as "[addr]/prefix:ports" or "[addr/prefix]:ports". */
static int parse_rule(char *item, struct peer_rule *r)
{
	char *addr = item, *ports = NULL, *slash;
	long prefix = -1;

	memset(r, 0, sizeof(*r));
	r->port_min = 1;
	r->port_max = 65535;
	if (*item == '[') {
		char *close = strchr(item, ']');

		if (!close)
			return EINVAL;
		*close = '\0';
		addr = item + 1;
		if (close[1] == '/') {
			slash = close + 1;
			ports = strchr(slash, ':');
			if (ports)
				*ports++ = '\0';
			prefix = strtol(slash + 1, NULL, 10);
			if (!slash[1])
				return EINVAL;
		} else if (close[1] == ':') {
			ports = close + 2;
		} else if (close[1]) {
			return EINVAL;
		}
	} else if (strchr(item, ':') == strrchr(item, ':') && strchr(item, ':')) {
		/* IPv4 with a port range: exactly one colon */
		ports = strchr(item, ':');
		*ports++ = '\0';
	}
	slash = strchr(addr, '/');
	if (slash) {
		char *end;

		*slash = '\0';
		prefix = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end)
			return EINVAL;
	}
	if (inet_pton(AF_INET, addr, r->addr) == 1)
		r->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, r->addr) == 1)
		r->family = AF_INET6;
	else
		return EINVAL;
	if (prefix < 0)
		prefix = r->family == AF_INET ? 32 : 128;
	if (prefix > (r->family == AF_INET ? 32 : 128))
		return EINVAL;
	r->prefix = (int)prefix;
	if (ports && peer_port_range_parse(ports, &r->port_min, &r->port_max))
		return EINVAL;
	normalise_rule(r);
	return 0;
}

int peer_rules_parse(const char *spec, bool allow_self, struct peer_rule **rules, size_t *n,
                     bool *self, char **why)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	struct peer_rule *out = NULL;
	size_t cnt = 0, cap = 0;
	bool has_self = false;
	int rc = 0;

	if (!copy)
		return ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *item = tok;
		char saved[128];
		char *end;

		while (*item == ' ' || *item == '\t')
			item++;
		end = item + strlen(item);
		while (end > item && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!*item)
			continue;
		if (strcmp(item, "self") == 0) {
			if (!allow_self) {
				*why = quoted(item, " is only meaningful in allowed_peers");
				rc = EINVAL;
				break;
			}
			has_self = true;
			continue;
		}
		if (cnt == cap) {
			struct peer_rule *grown = realloc(out, (cap ? cap * 2 : 8) * sizeof(*out));

			if (!grown) {
				rc = ENOMEM;
				break;
			}
			out = grown;
			cap = cap ? cap * 2 : 8;
		}
		snprintf(saved, sizeof(saved), "%s", item); /* parse_rule cuts item up */
		if (parse_rule(item, &out[cnt])) {
			*why = quoted(saved, " is not CIDR[:port-port]");
			rc = EINVAL;
			break;
		}
		cnt++;
	}
	free(copy);
	if (rc) {
		free(out);
		return rc;
	}
	*rules = out;
	*n = cnt;
	if (self)
		*self = has_self;
	return 0;
}

void peer_addr_normalise(const struct sockaddr *in, struct sockaddr_storage *out)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)in;
	static const uint8_t zero12[12] = { 0 };

	memset(out, 0, sizeof(*out));
	if (in->sa_family == AF_INET6 &&
	    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) ||
	     (memcmp(s6->sin6_addr.s6_addr, zero12, 12) == 0 &&
	      !IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) && !IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr)))) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)out;

		s4->sin_family = AF_INET;
		s4->sin_port = s6->sin6_port;
		memcpy(&s4->sin_addr, s6->sin6_addr.s6_addr + 12, 4);
	} else if (in->sa_family == AF_INET6) {
		memcpy(out, in, sizeof(struct sockaddr_in6));
	} else if (in->sa_family == AF_INET) {
		memcpy(out, in, sizeof(struct sockaddr_in));
	}
}

static const uint8_t *addr_bytes(const struct sockaddr *a, uint16_t *port)
{
	if (a->sa_family == AF_INET) {
		*port = ntohs(((const struct sockaddr_in *)a)->sin_port);
		return (const uint8_t *)&((const struct sockaddr_in *)a)->sin_addr;
	}
	*port = ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return ((const struct sockaddr_in6 *)a)->sin6_addr.s6_addr;
}

bool peer_rule_match(const struct peer_rule *r, const struct sockaddr *addr)
{
	uint16_t port;
	const uint8_t *b;
	int full, rest;

	if (r->family != addr->sa_family)
		return false;
	b = addr_bytes(addr, &port);
	if (port < r->port_min || port > r->port_max)
		return false;
	full = r->prefix / 8;
	rest = r->prefix % 8;
	if (memcmp(b, r->addr, (size_t)full) != 0)
		return false;
	return rest == 0 || ((b[full] ^ r->addr[full]) & (0xff << (8 - rest))) == 0;
}

static bool any_match(const struct peer_rule *rules, size_t n, const struct sockaddr *a)
{
	for (size_t i = 0; i < n; i++) {
		if (peer_rule_match(&rules[i], a))
			return true;
	}
	return false;
}

/*
 * Addresses no relay should reach unless an admin names them: the prefix
 * length of the special range holding a, or -1. An allow rule overrides
 * the range only when it lies inside it (as long a prefix or longer), so
 * 0.0.0.0/0 does not open loopback or 169.254.169.254.
 */
static int special_prefix(const struct sockaddr *a)
{
	uint16_t port;
	const uint8_t *b = addr_bytes(a, &port);
	const struct in6_addr *v6 = (const struct in6_addr *)b;

	if (a->sa_family == AF_INET) {
		if (b[0] == 0 || b[0] == 127)
			return 8; /* this network, loopback */
		if (b[0] == 169 && b[1] == 254)
			return 16; /* link-local, cloud metadata */
		if (b[0] >= 224)
			return 3; /* multicast, reserved, broadcast */
		return -1;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(v6) || IN6_IS_ADDR_LOOPBACK(v6))
		return 128;
	if (b[0] == 0xff)
		return 8; /* multicast */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return 10; /* link-local */
	return -1;
}

static bool allowed_inside(const struct peer_rule *rules, size_t n, const struct sockaddr *a,
                           int min_prefix)
{
	for (size_t i = 0; i < n; i++) {
		if (rules[i].prefix >= min_prefix && peer_rule_match(&rules[i], a))
			return true;
	}
	return false;
}

enum peer_verdict peer_policy_check(const struct peer_policy *p, const struct sockaddr *peer)
{
	struct sockaddr_storage n;
	const struct sockaddr *a = (const struct sockaddr *)&n;
	int sp;

	peer_addr_normalise(peer, &n);
	if (n.ss_family != AF_INET && n.ss_family != AF_INET6)
		return PEER_NOT_ALLOWED;
	if (any_match(p->deny, p->ndeny, a))
		return PEER_DENIED_LIST;
	sp = special_prefix(a);
	if (sp >= 0)
		return allowed_inside(p->allow, p->nallow, a, sp) ? PEER_ALLOWED
		                                                  : PEER_DENIED_SPECIAL;
	if (any_match(p->allow, p->nallow, a))
		return PEER_ALLOWED;
	return any_match(p->self, p->nself, a) ? PEER_ALLOWED : PEER_NOT_ALLOWED;
}

int peer_sockaddr_parse(const char *s, struct sockaddr_storage *out)
{
	char host[64];
	const char *colon;
	uint16_t lo, hi;
	size_t n;
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return EINVAL;
		n = (size_t)(close - s - 1);
		colon = close + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return EINVAL;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= sizeof(host) || peer_port_range_parse(colon + 1, &lo, &hi) || lo != hi)
		return EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(lo);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(lo);
	} else {
		return EINVAL;
	}
	*out = ss;
	return 0;
}
