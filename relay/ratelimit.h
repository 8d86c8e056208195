/* Token buckets per source IP address, for unauthenticated STUN/TURN requests. Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ratelimit;

/*
 * rate tokens per second, at most burst saved up, at most max_sources
 * tracked at once. A source beyond that is let through untracked (answers
 * are never larger than requests plus 32 bytes, so failing open costs little
 * and a spoofed flood cannot lock everyone out). NULL when out of memory.
 */
struct ratelimit *ratelimit_new(double rate, double burst, size_t max_sources);
void ratelimit_free(struct ratelimit *rl);

/* Change the rate and burst for every source from now on. */
void ratelimit_set_rate(struct ratelimit *rl, double rate, double burst);

/* Take one token for addr's IP (the port is ignored; IPv4-mapped counts as IPv4). */
bool ratelimit_allow(struct ratelimit *rl, const struct sockaddr *addr, int64_t now_ms);

/* Forget the sources whose buckets have filled up again. */
void ratelimit_expire(struct ratelimit *rl, int64_t now_ms);

size_t ratelimit_sources(const struct ratelimit *rl);
