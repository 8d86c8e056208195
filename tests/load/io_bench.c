/*
 * What a system call costs next to io_uring, for datagrams spread over many
 * sockets (the TURN relay's case: one socket per allocation). SOCKETS UDP
 * sockets each send one 172-byte datagram per round; four ways:
 *   send-per-socket    sendmmsg per socket to one sink, the sink drained by recvmmsg
 *   send-ring          one io_uring submission of SOCKETS sendmsg, same sink
 *   both-per-socket    to a receiving socket each, recvmmsg per receiving socket
 *   both-ring          sends, then receives, one submission each
 * Prints CPU microseconds (getrusage, user+system) per datagram sent and
 * received. Not a pass/fail test.
 *   build/tests/load/io_bench [SOCKETS] [ROUNDS]
 */
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_SOCKETS 1024
#define SIZE        172

enum mode { SEND_PER_SOCKET, SEND_RING, BOTH_PER_SOCKET, BOTH_RING };

static const char *const mode_name[] = { "send-per-socket", "send-ring", "both-per-socket",
	                                 "both-ring" };

struct bench {
	int n, sink, tx[MAX_SOCKETS], rx[MAX_SOCKETS];
	struct sockaddr_in sink_addr, rx_addr[MAX_SOCKETS];
	struct msghdr out[MAX_SOCKETS], in[MAX_SOCKETS];
	struct iovec out_iov, in_iov[MAX_SOCKETS];
	char payload[SIZE], buf[MAX_SOCKETS][2048];
	struct io_uring ring;
};

static double cpu_seconds(void)
{
	struct rusage r;

	getrusage(RUSAGE_SELF, &r);
	return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
	       (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static int bound_socket(struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), big = 16 << 20;
	socklen_t len = sizeof(*addr);

	*addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)addr, &len) < 0) {
		perror("socket");
		exit(1);
	}
	return fd;
}

static void setup(struct bench *b, int n)
{
	b->n = n;
	b->sink = bound_socket(&b->sink_addr);
	b->out_iov = (struct iovec){ b->payload, SIZE };
	for (int i = 0; i < n; i++) {
		b->tx[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		b->rx[i] = bound_socket(&b->rx_addr[i]);
		b->in_iov[i] = (struct iovec){ b->buf[i], sizeof(b->buf[i]) };
		b->in[i] = (struct msghdr){ .msg_iov = &b->in_iov[i], .msg_iovlen = 1 };
	}
	if (io_uring_queue_init(2 * MAX_SOCKETS, &b->ring, 0) < 0) {
		fprintf(stderr, "io_uring refused by the kernel\n");
		exit(2);
	}
}

/* Submit n queued operations, wait for them, return how many succeeded. */
static long ring_run(struct io_uring *ring, int n)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	long ok = 0;

	io_uring_submit_and_wait(ring, (unsigned)n);
	io_uring_for_each_cqe(ring, head, cqe)
	{
		ok += cqe->res >= 0;
		seen++;
	}
	io_uring_cq_advance(ring, seen);
	return ok;
}

static void send_round(struct bench *b, enum mode m)
{
	for (int i = 0; i < b->n; i++) {
		struct sockaddr_in *to = m >= BOTH_PER_SOCKET ? &b->rx_addr[i] : &b->sink_addr;

		b->out[i] = (struct msghdr){ .msg_name = to,
			                     .msg_namelen = sizeof(*to),
			                     .msg_iov = &b->out_iov,
			                     .msg_iovlen = 1 };
		if (m == SEND_PER_SOCKET || m == BOTH_PER_SOCKET) {
			struct mmsghdr one = { .msg_hdr = b->out[i] };

			sendmmsg(b->tx[i], &one, 1, MSG_DONTWAIT);
		} else {
			io_uring_prep_sendmsg(io_uring_get_sqe(&b->ring), b->tx[i], &b->out[i],
			                      MSG_DONTWAIT);
		}
	}
	if (m == SEND_RING || m == BOTH_RING)
		ring_run(&b->ring, b->n);
}

static long receive_round(struct bench *b, enum mode m)
{
	struct mmsghdr batch[64];
	long got = 0;
	int r;

	if (m == SEND_PER_SOCKET || m == SEND_RING) {
		for (int i = 0; i < 64; i++)
			batch[i] = (struct mmsghdr){ .msg_hdr = b->in[i] };
		while ((r = recvmmsg(b->sink, batch, 64, MSG_DONTWAIT, NULL)) > 0)
			got += r;
		return got;
	}
	for (int i = 0; i < b->n; i++) {
		if (m == BOTH_PER_SOCKET) {
			batch[0] = (struct mmsghdr){ .msg_hdr = b->in[i] };
			got += recvmmsg(b->rx[i], batch, 1, MSG_DONTWAIT, NULL) == 1;
		} else {
			io_uring_prep_recvmsg(io_uring_get_sqe(&b->ring), b->rx[i], &b->in[i],
			                      MSG_DONTWAIT);
		}
	}
	return m == BOTH_RING ? ring_run(&b->ring, b->n) : got;
}

int main(int argc, char **argv)
{
	static struct bench b;
	int n = argc > 1 ? atoi(argv[1]) : 200, rounds = argc > 2 ? atoi(argv[2]) : 2000;

	if (n < 1 || n > MAX_SOCKETS || rounds < 1) {
		fprintf(stderr, "usage: %s [SOCKETS 1-%d] [ROUNDS]\n", argv[0], MAX_SOCKETS);
		return 2;
	}
	setup(&b, n);
	printf("%-16s %10s %10s %12s\n", "mode", "sent", "received", "cpu_us/pkt");
	for (enum mode m = SEND_PER_SOCKET; m <= BOTH_RING; m++) {
		double t0 = cpu_seconds();
		long got = 0;

		for (int r = 0; r < rounds; r++) {
			send_round(&b, m);
			got += receive_round(&b, m);
		}
		printf("%-16s %10ld %10ld %12.3f\n", mode_name[m], (long)n * rounds, got,
		       (cpu_seconds() - t0) * 1e6 / ((double)n * rounds));
	}
	return 0;
}
