/* Which peers a TURN client may relay to (RFC 8656 §21.1; coturn CVE-2020-26262). Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* One CIDR with an optional port range: 10.0.0.0/8, 2001:db8::/32:3478-3479, [::1]:5000 */
struct peer_rule {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int prefix;
	uint16_t port_min, port_max;
};

/*
 * Parse a comma-separated rule list. In an allow list the word "self" stands
 * for rtcgate's own media addresses (resolved by the caller) and sets *self.
 * Returns 0 with a new array in *rules (free()) and its length in *n, or
 * EINVAL and a reason in *why (free()). Nothing is written on error.
 */
int peer_rules_parse(const char *spec, bool allow_self, struct peer_rule **rules, size_t *n,
                     bool *self, char **why);

enum peer_verdict {
	PEER_ALLOWED,
	PEER_DENIED_LIST,    /* matched turn.denied_peers */
	PEER_DENIED_SPECIAL, /* loopback, unspecified, multicast, broadcast, link-local */
	PEER_NOT_ALLOWED,    /* in no allow rule */
};

struct peer_policy {
	const struct peer_rule *allow;
	size_t nallow;
	const struct peer_rule *deny;
	size_t ndeny;
	const struct peer_rule *self; /* rtcgate's media addresses and ports, when "self" */
	size_t nself;
};

/*
 * The verdict for a peer: its address is normalised first (IPv4-mapped and
 * IPv4-compatible IPv6 become IPv4), then the deny list wins; a special
 * address (loopback, unspecified, multicast, broadcast, link-local) is
 * allowed only by an allow rule inside its special range (127.0.0.1/32 yes,
 * 0.0.0.0/0 no); other addresses by any allow rule, or the self rules.
 */
enum peer_verdict peer_policy_check(const struct peer_policy *p, const struct sockaddr *peer);

/* ::ffff:a.b.c.d and ::a.b.c.d (other than :: and ::1) as IPv4; anything else copied. */
void peer_addr_normalise(const struct sockaddr *in, struct sockaddr_storage *out);

/* "lo-hi" or "port" with 1 <= lo <= hi <= 65535. 0 or EINVAL; outputs written on success. */
int peer_port_range_parse(const char *s, uint16_t *lo, uint16_t *hi);

/* "a.b.c.d:port" or "[v6]:port" into out. 0 or EINVAL; out written on success. */
int peer_sockaddr_parse(const char *s, struct sockaddr_storage *out);

/* Does rule r cover the (normalised) address? */
bool peer_rule_match(const struct peer_rule *r, const struct sockaddr *addr);
