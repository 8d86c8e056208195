/* Symmetric RTP latching: first packet latches, a silent source may be replaced. Pure. */
#include "relay/rtp_latch.h"

#include <netinet/in.h>
#include <string.h>

socklen_t rtp_addr_len(const struct sockaddr *a)
{
	return a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

bool rtp_addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

void rtp_latch_init(struct rtp_latch *l, int64_t relatch_us)
{
	memset(l, 0, sizeof(*l));
	l->relatch_us = relatch_us;
}

/* Only the address and port are kept: flow info and scope of a received address vary. */
static void copy_addr(struct sockaddr_storage *dst, const struct sockaddr *src)
{
	memset(dst, 0, sizeof(*dst));
	if (src->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)src;
		struct sockaddr_in *d = (struct sockaddr_in *)dst;

		d->sin_family = AF_INET;
		d->sin_port = s->sin_port;
		d->sin_addr = s->sin_addr;
	} else if (src->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)dst;

		d->sin6_family = AF_INET6;
		d->sin6_port = s->sin6_port;
		d->sin6_addr = s->sin6_addr;
		d->sin6_scope_id = s->sin6_scope_id;
	}
}

bool rtp_latch_set_sdp(struct rtp_latch *l, const struct sockaddr *sdp, socklen_t len)
{
	if (len < rtp_addr_len(sdp) || (sdp->sa_family != AF_INET && sdp->sa_family != AF_INET6))
		return false;
	if (l->sdp.ss_family && rtp_addr_equal((const struct sockaddr *)&l->sdp, sdp))
		return false;
	copy_addr(&l->sdp, sdp);
	l->remote = l->sdp;
	l->latched = false;
	return true;
}

enum rtp_latch_verdict rtp_latch_check(struct rtp_latch *l, const struct sockaddr *src,
                                       int64_t now_us)
{
	if (l->latched && rtp_addr_equal((const struct sockaddr *)&l->remote, src)) {
		l->last_us = now_us;
		return RTP_LATCH_OK;
	}
	/* a clock that went backwards (it cannot: monotonic) counts as not silent */
	if (l->latched && now_us - l->last_us < l->relatch_us)
		return RTP_LATCH_DROP;
	copy_addr(&l->remote, src);
	l->latched = true;
	l->last_us = now_us;
	return RTP_LATCH_LATCHED;
}

const struct sockaddr *rtp_latch_remote(const struct rtp_latch *l)
{
	return l->remote.ss_family ? (const struct sockaddr *)&l->remote : NULL;
}
