/* io_uring helpers shared by the TURN and media workers (relay/ring.h). */
#include "relay/ring.h"

#include <errno.h>
#include <sys/mman.h>

int ring_bufs_setup(struct io_uring *ring, struct ring_bufs *b, unsigned n, size_t size, int bgid)
{
	struct io_uring_buf_reg reg = { .ring_entries = n, .bgid = (unsigned short)bgid };
	int rc;

	b->n = n;
	b->size = size;
	b->br_bytes = n * sizeof(struct io_uring_buf);
	b->mem_bytes = n * size;
	b->br = mmap(NULL, b->br_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b->mem = mmap(NULL, b->mem_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	              0);
	if (b->br == MAP_FAILED || b->mem == MAP_FAILED)
		return -ENOMEM;
	io_uring_buf_ring_init(b->br);
	reg.ring_addr = (uint64_t)(uintptr_t)b->br;
	rc = io_uring_register_buf_ring(ring, &reg, 0);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < n; i++)
		ring_bufs_give(b, (int)i);
	return 0;
}

uint8_t *ring_bufs_at(const struct ring_bufs *b, int bid)
{
	return b->mem + (size_t)bid * b->size;
}

void ring_bufs_give(struct ring_bufs *b, int bid)
{
	io_uring_buf_ring_add(b->br, ring_bufs_at(b, bid), (unsigned)b->size, (unsigned short)bid,
	                      io_uring_buf_ring_mask(b->n), 0);
	io_uring_buf_ring_advance(b->br, 1);
}

void ring_bufs_free(struct ring_bufs *b)
{
	if (b->br && b->br != MAP_FAILED)
		munmap(b->br, b->br_bytes);
	if (b->mem && b->mem != MAP_FAILED)
		munmap(b->mem, b->mem_bytes);
	b->br = NULL;
	b->mem = NULL;
}

void ring_register_fd(struct io_uring *ring)
{
	(void)io_uring_register_ring_fd(ring);
}

void ring_prep_sendto(struct io_uring_sqe *sqe, int fd, const void *buf, size_t len,
                      const struct sockaddr *to, socklen_t tolen)
{
	io_uring_prep_send(sqe, fd, buf, len, MSG_DONTWAIT);
	io_uring_prep_send_set_addr(sqe, to, (uint16_t)tolen);
}

struct io_uring_sqe *ring_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

void ring_cancel_all(struct io_uring *ring, uint64_t user_data)
{
	struct io_uring_sqe *sqe = ring_sqe(ring);

	if (sqe) {
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
		io_uring_sqe_set_data64(sqe, user_data);
	}
	io_uring_submit(ring);
}
