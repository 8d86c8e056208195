/* UDP GSO groups of datagrams queued on an io_uring (relay/ring_gso.h). */
#include "relay/ring_gso.h"

#include <errno.h>
#include <glib.h>
#include <netinet/udp.h>
#include <string.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h; glibc's netinet/udp.h has it from 2.28 */
#endif

void ring_gso_init(struct ring_gso *g, int ngroups, bool on)
{
	g->groups = g_new0(struct ring_gso_group, ngroups);
	g->free = g_new(int, ngroups);
	g->ngroups = ngroups;
	for (int i = 0; i < ngroups; i++)
		g->free[i] = ngroups - 1 - i;
	g->nfree = ngroups;
	g->off = !on;
}

void ring_gso_free(struct ring_gso *g)
{
	g_free(g->groups);
	g_free(g->free);
	g->groups = NULL;
	g->free = NULL;
	g->nfree = g->ngroups = 0;
}

void ring_gso_queued(struct io_uring *ring, struct ring_gso_tail *t, struct io_uring_sqe *sqe,
                     const struct ring_dgram *d)
{
	t->sqe = sqe;
	t->after = ring->sq.sqe_tail;
	t->group = -1;
	t->ended = false;
	t->d = *d;
}

/* Not yet submitted: liburing moves sqe_head up to sqe_tail when it submits. */
static bool pending(const struct io_uring *ring, const struct ring_gso_tail *t)
{
	return t->sqe && (int)(t->after - ring->sq.sqe_head) > 0;
}

static bool same_place(const struct ring_dgram *a, const struct ring_dgram *b)
{
	return a->fd == b->fd && a->tolen == b->tolen && memcmp(a->to, b->to, a->tolen) == 0 &&
	       a->ctllen == b->ctllen && (!a->ctllen || memcmp(a->ctl, b->ctl, a->ctllen) == 0);
}

/* The tail's plain send becomes a group of its one datagram; -1 when none is free. */
static int start_group(struct ring_gso *g, struct ring_gso_tail *t, uint64_t base, unsigned shift)
{
	const struct ring_dgram *d = &t->d;
	struct ring_gso_group *grp;
	struct cmsghdr *c;
	uint16_t seg = (uint16_t)d->len;
	int i;

	if (!g->nfree)
		return -1;
	i = g->free[--g->nfree];
	grp = &g->groups[i];
	memcpy(&grp->addr, d->to, d->tolen);
	if (d->ctllen)
		memcpy(grp->ctl.b, d->ctl, d->ctllen);
	grp->msg = (struct msghdr){ .msg_name = &grp->addr,
		                    .msg_namelen = d->tolen,
		                    .msg_iov = grp->iov,
		                    .msg_control = grp->ctl.b,
		                    .msg_controllen = d->ctllen + CMSG_SPACE(sizeof(seg)) };
	/* the caller's control data is whole cmsgs: the segment size follows it */
	c = (struct cmsghdr *)(grp->ctl.b + d->ctllen);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	grp->iov[0] = (struct iovec){ .iov_base = (void *)d->data, .iov_len = d->len };
	grp->held[0] = d->id;
	grp->n = 1;
	grp->msg.msg_iovlen = 1;
	io_uring_prep_sendmsg(t->sqe, d->fd, &grp->msg, MSG_DONTWAIT);
	io_uring_sqe_set_data64(t->sqe, base | (uint64_t)i << shift);
	return i;
}

bool ring_gso_join(struct io_uring *ring, struct ring_gso *g, struct ring_gso_tail *t,
                   const struct ring_dgram *d, uint64_t base, unsigned shift)
{
	size_t seg = t->d.len;
	struct ring_gso_group *grp;

	if (g->off || !pending(ring, t) || t->ended || !d->len || d->len > seg ||
	    seg > RING_GSO_SEG_MAX || d->ctllen + CMSG_SPACE(sizeof(uint16_t)) > RING_GSO_CTL ||
	    !same_place(&t->d, d))
		return false;
	if (t->group < 0 && (t->group = start_group(g, t, base, shift)) < 0)
		return false;
	grp = &g->groups[t->group];
	if (grp->n == RING_GSO_SEGS || (grp->n + 1) * seg > RING_GSO_BYTES)
		return false;
	grp->iov[grp->n] = (struct iovec){ .iov_base = (void *)d->data, .iov_len = d->len };
	grp->held[grp->n++] = d->id;
	grp->msg.msg_iovlen = grp->n;
	t->ended = d->len < seg;
	return true;
}

struct ring_gso_group *ring_gso_group(struct ring_gso *g, int i)
{
	return &g->groups[i];
}

void ring_gso_put(struct ring_gso *g, int i)
{
	g->free[g->nfree++] = i;
}

bool ring_gso_refused(struct ring_gso *g, int res)
{
	switch (-res) {
	case EINVAL:
	case EIO:
	case ENOPROTOOPT:
	case EOPNOTSUPP: g->off = true; return true;
	default: return false;
	}
}
