/* io_uring helpers shared by the TURN and media workers: a provided buffer ring, SQEs. */
#pragma once

#include <liburing.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * A provided buffer ring (IORING_REGISTER_PBUF_RING, Linux 5.19): n buffers
 * of size bytes each in one anonymous mapping, registered as buffer group
 * bgid. Caller-owned; zeroed before ring_bufs_setup.
 */
struct ring_bufs {
	struct io_uring_buf_ring *br;
	uint8_t *mem;
	size_t br_bytes, mem_bytes, size;
	unsigned n; /* a power of two */
};

/*
 * Map and register b on ring (liburing 2.3 has no io_uring_setup_buf_ring)
 * and give every buffer to the kernel. 0, or a negative errno; either way
 * ring_bufs_free undoes what was done (the registration goes with the ring).
 */
int ring_bufs_setup(struct io_uring *ring, struct ring_bufs *b, unsigned n, size_t size, int bgid);

/* Buffer bid back to the kernel. */
void ring_bufs_give(struct ring_bufs *b, int bid);

/* The first byte of buffer bid. */
uint8_t *ring_bufs_at(const struct ring_bufs *b, int bid);

/* Unmap (after io_uring_queue_exit). Twice is fine. */
void ring_bufs_free(struct ring_bufs *b);

/*
 * On the thread that submits: its io_uring_enter calls skip the ring fd's
 * lookup (an atomic in a threaded process). Optional: without it, entering
 * costs that lookup and nothing else.
 */
void ring_register_fd(struct io_uring *ring);

/*
 * A datagram send with its destination (Linux 6.0): no message header for the
 * kernel to copy in and check. MSG_DONTWAIT: it completes during the
 * submission, refused with EAGAIN when the socket cannot take it now. to must
 * stay valid until the SQE is submitted.
 */
void ring_prep_sendto(struct io_uring_sqe *sqe, int fd, const void *buf, size_t len,
                      const struct sockaddr *to, socklen_t tolen);

/* An SQE, submitting what is queued when the queue is full; NULL when even that fails. */
struct io_uring_sqe *ring_sqe(struct io_uring *ring);

/* Cancel every operation in flight (its completion carries user_data) and submit. */
void ring_cancel_all(struct io_uring *ring, uint64_t user_data);
