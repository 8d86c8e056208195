/*
 * UDP GSO on an io_uring (UDP_SEGMENT, Linux 4.18): consecutive datagrams
 * queued toward one destination on one socket leave as one send, which the
 * kernel cuts into the same datagrams on the wire. The network stack (route,
 * IP output, device, and on loopback the receiver's IP input) then runs once
 * per send instead of once per datagram.
 *
 * A send is only rewritten while its SQE is still unsubmitted: the first
 * datagram goes out as a plain send; when the next one to the same place
 * comes before the submission, that SQE becomes a SENDMSG of a group (an
 * iovec per datagram and a UDP_SEGMENT cmsg) and later datagrams are
 * appended to it. Datagrams keep their order within a destination; what is
 * queued to other destinations in between is unaffected.
 *
 * Every datagram of a group but the last has the group's segment size;
 * a shorter one ends the group. Segments are at most RING_GSO_SEG_MAX bytes,
 * so one never exceeds a path MTU of 1248 or more (the kernel refuses a GSO
 * send that would need fragmenting, where it would have fragmented a single
 * datagram).
 */
#pragma once

#include <liburing.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RING_GSO_SEGS    64 /* UDP_MAX_SEGMENTS since Linux 4.18 */
#define RING_GSO_SEG_MAX 1200
#define RING_GSO_BYTES   65000 /* a UDP send carries at most 65,507 bytes */
#define RING_GSO_CTL     (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(uint16_t)))

/* One send of several datagrams; held[] are the caller's ids of their buffers. */
struct ring_gso_group {
	struct msghdr msg;
	struct iovec iov[RING_GSO_SEGS];
	uint16_t held[RING_GSO_SEGS];
	unsigned n;
	struct sockaddr_storage addr;
	union {
		size_t align; /* a cmsghdr's */
		uint8_t b[RING_GSO_CTL];
	} ctl;
};

/* A datagram to queue. ctl: control data to send with it (IPV6_PKTINFO), or none. */
struct ring_dgram {
	int fd;
	const void *data;
	size_t len;
	const struct sockaddr *to;
	socklen_t tolen;
	const void *ctl;
	size_t ctllen;
	uint16_t id; /* the caller's id of the buffer that holds data */
};

/*
 * The last send queued in one stream of sends (say, toward clients), which
 * the next datagram may join. Everything it points at stays valid until the
 * send is submitted: the caller's buffers, address and control data.
 */
struct ring_gso_tail {
	struct io_uring_sqe *sqe; /* NULL: none */
	unsigned after;           /* the ring's sqe_tail once sqe was taken */
	int group;                /* -1: still the plain send of d */
	bool ended;               /* a short segment ended the group */
	struct ring_dgram d;      /* the first datagram */
};

/* A pool of groups with their free list; off: joins refused (configured, or the kernel said no). */
struct ring_gso {
	struct ring_gso_group *groups;
	int *free, nfree, ngroups;
	bool off;
};

void ring_gso_init(struct ring_gso *g, int ngroups, bool on);
void ring_gso_free(struct ring_gso *g);

/*
 * sqe was just prepared as the plain send of d: it becomes the tail that the
 * next datagram may join.
 */
void ring_gso_queued(struct io_uring *ring, struct ring_gso_tail *t, struct io_uring_sqe *sqe,
                     const struct ring_dgram *d);

/*
 * d joins the tail's send when it is still unsubmitted, on the same socket,
 * toward the same address with the same control data, no longer than its
 * segments and within the group's limits. The first join takes a group and
 * rewrites the tail's SQE as its SENDMSG with user_data base | index << shift.
 * Returns true when d joined (its buffer is then the group's until the
 * group's completion), false when the caller queues it alone.
 */
bool ring_gso_join(struct io_uring *ring, struct ring_gso *g, struct ring_gso_tail *t,
                   const struct ring_dgram *d, uint64_t base, unsigned shift);

/* Group i, and giving it back once its completion has been handled. */
struct ring_gso_group *ring_gso_group(struct ring_gso *g, int i);
void ring_gso_put(struct ring_gso *g, int i);

/*
 * A group's send failed with -res: true (and g->off set) when that is the
 * kernel refusing GSO itself (EIO through IPsec, EINVAL, no UDP_SEGMENT)
 * rather than what a single datagram would have met too.
 */
bool ring_gso_refused(struct ring_gso *g, int res);
