/*
 * io_uring for the TURN worker's per-socket datagrams. Every allocation has
 * its own relay socket, so a batch of relayed packets touches many sockets
 * with one packet each, and sendmmsg/recvmmsg cannot batch across sockets:
 * that is one system call per packet, which costs more than the packet's
 * own network stack work on these machines. Here a batch of sends (or
 * receives) on many sockets is one submission: one io_uring_enter for the
 * whole batch. Every operation carries MSG_DONTWAIT, so UDP completes inline
 * during the submission; a socket that cannot take a packet now fails it
 * with EAGAIN and it is dropped, as with sendmmsg.
 */
#include "relay/turn_priv.h"

#include <errno.h>
#include <liburing.h>
#include <string.h>

#include "core/log.h"

#define RING_ENTRIES (2 * TURN_BATCH)

bool turn_uring_start(struct turn_worker *w)
{
	struct io_uring *ring = g_new0(struct io_uring, 1);
	int rc = io_uring_queue_init(RING_ENTRIES, ring, 0);

	if (rc < 0) {
		log_warn(LOG_TURN, "io_uring unavailable, per-socket system calls instead",
		         "worker=%d error=%s", w->index, g_strerror(-rc));
		g_free(ring);
		return false;
	}
	w->ring = ring;
	return true;
}

void turn_uring_stop(struct turn_worker *w)
{
	if (!w->ring)
		return;
	io_uring_queue_exit(w->ring);
	g_free(w->ring);
	w->ring = NULL;
}

/*
 * Submit what is queued and collect n completions; res[user_data] gets each
 * result. An operation the ring could not take (no SQE) has res -EBUSY
 * already. The wait never blocks long: with MSG_DONTWAIT nothing is left
 * pending on a socket.
 */
static void run_batch(struct io_uring *ring, int n, int *res)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	int queued = 0;

	for (int i = 0; i < n; i++)
		queued += res[i] != -EBUSY;
	if (!queued)
		return;
	while (io_uring_submit_and_wait(ring, (unsigned)queued) == -EINTR)
		;
	for (int got = 0; got < queued;) {
		io_uring_for_each_cqe(ring, head, cqe)
		{
			uint64_t i = io_uring_cqe_get_data64(cqe);

			if (i < (uint64_t)n)
				res[i] = cqe->res;
			seen++;
			got++;
		}
		io_uring_cq_advance(ring, seen);
		seen = 0;
		if (got < queued && io_uring_wait_cqe(ring, &cqe) < 0)
			break;
	}
}

void turn_uring_sendmsgs(struct turn_worker *w, const int *fds, struct mmsghdr *msgs, int n,
                         int *res)
{
	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(w->ring);

		res[i] = -EBUSY;
		if (!sqe)
			continue;
		io_uring_prep_sendmsg(sqe, fds[i], &msgs[i].msg_hdr, MSG_DONTWAIT);
		io_uring_sqe_set_data64(sqe, (uint64_t)i);
		res[i] = 0;
	}
	run_batch(w->ring, n, res);
}

int turn_uring_recv_relays(struct turn_worker *w, struct turn_relay *const *relays, int n, int *res)
{
	n = MIN(n, TURN_BATCH);
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &w->rx[i].msg_hdr;
		struct io_uring_sqe *sqe = io_uring_get_sqe(w->ring);

		/* the listener's headers carry control space; a relay needs none */
		h->msg_namelen = sizeof(w->rx_addr[i]);
		h->msg_controllen = 0;
		h->msg_flags = 0;
		res[i] = -EBUSY;
		if (!sqe)
			continue;
		/* MSG_TRUNC: the result is the datagram's real length, cut or not */
		io_uring_prep_recvmsg(sqe, relays[i]->ep.fd, h, MSG_DONTWAIT | MSG_TRUNC);
		io_uring_sqe_set_data64(sqe, (uint64_t)i);
		res[i] = 0;
	}
	w->rx_used = MAX(w->rx_used, n);
	run_batch(w->ring, n, res);
	return n;
}
