/* TURN latency probe for turn_bench.sh: one UDP allocation, a channel to its own echo socket,
 * timestamped ChannelData at a fixed rate, RTT percentiles (RFC 8656 §7, §11, §12; RFC 8489). */

/*
 * Path measured, all on 127.0.0.1, one thread:
 *
 *   probe --ChannelData--> TURN --UDP--> echo socket --UDP--> TURN --ChannelData--> probe
 *         (client socket)                (this process)
 *
 * Usage: turn_probe --server PORT --echo-port PORT [--user U --password P] [--pps N]
 *                   [--size BYTES] [--max-seconds S] [--wait-mark]
 * Prints "ready" once the channel is bound. Stops on SIGTERM/SIGINT or after --max-seconds,
 * waits DRAIN_MS for answers in flight, then prints one line:
 *   result SENT_ALL RECV_ALL SENT LOST P50_US P99_US MAX_US
 * With --wait-mark, SENT/LOST/percentiles count only packets sent after SIGUSR1; SENT_ALL and
 * RECV_ALL count every probe packet. Exit status 1 when set-up fails ("error ..." printed).
 */
#define _GNU_SOURCE /* ppoll */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STUN_COOKIE              0x2112a442u
#define STUN_ALLOCATE            0x0003
#define STUN_CHANNEL_BIND        0x0009
#define STUN_CLASS_MASK          0x0110
#define STUN_SUCCESS             0x0100
#define STUN_ERR_UNAUTHORIZED    401
#define ATTR_USERNAME            0x0006
#define ATTR_MESSAGE_INTEGRITY   0x0008
#define ATTR_ERROR_CODE          0x0009
#define ATTR_CHANNEL_NUMBER      0x000c
#define ATTR_XOR_PEER_ADDRESS    0x0012
#define ATTR_REALM               0x0014
#define ATTR_NONCE               0x0015
#define ATTR_REQUESTED_TRANSPORT 0x0019
#define PROBE_CHANNEL            0x4000
#define PROBE_HEADER             16 /* seq u32, measured u32, send time u64 (ns) */
#define REQUEST_TIMEOUT_MS       3000
#define DRAIN_MS                 1000
#define MSG_MAX                  1500
#define NS_PER_S                 ((uint64_t)1000000000)
#define NS_PER_MS                ((uint64_t)1000000)

struct opts {
	int port, echo_port, pps, size, max_seconds, wait_mark;
	const char *user, *password;
};

struct msg {
	uint8_t b[MSG_MAX];
	size_t len;
};

struct cred {
	char realm[256], nonce[256];
	uint8_t key[16];
};

static volatile sig_atomic_t marked, stopping;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		marked = 1;
	else
		stopping = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void msg_start(struct msg *m, unsigned type)
{
	memset(m->b, 0, 20);
	put16(m->b, type);
	put32(m->b + 4, STUN_COOKIE);
	RAND_bytes(m->b + 8, 12);
	m->len = 20;
}

/* One attribute, padded to 4 bytes (RFC 8489 §14); the message length is kept current. */
static void msg_attr(struct msg *m, unsigned type, const void *v, size_t len)
{
	size_t pad = (4 - (len & 3)) & 3;

	if (m->len + 4 + len + pad > sizeof(m->b))
		abort(); /* the probe only builds a few small fixed messages */
	put16(m->b + m->len, type);
	put16(m->b + m->len + 2, (unsigned)len);
	memcpy(m->b + m->len + 4, v, len);
	memset(m->b + m->len + 4 + len, 0, pad);
	m->len += 4 + len + pad;
	put16(m->b + 2, (unsigned)(m->len - 20));
}

/* USERNAME, REALM, NONCE, then MESSAGE-INTEGRITY over all before it (RFC 8489 §14.5). */
static void msg_sign(struct msg *m, const struct opts *o, const struct cred *c)
{
	uint8_t mac[20];
	unsigned maclen = sizeof(mac);

	msg_attr(m, ATTR_USERNAME, o->user, strlen(o->user));
	msg_attr(m, ATTR_REALM, c->realm, strlen(c->realm));
	msg_attr(m, ATTR_NONCE, c->nonce, strlen(c->nonce));
	put16(m->b + 2, (unsigned)(m->len - 20 + 24));
	HMAC(EVP_sha1(), c->key, sizeof(c->key), m->b, m->len, mac, &maclen);
	msg_attr(m, ATTR_MESSAGE_INTEGRITY, mac, sizeof(mac));
}

/* Value and length of attribute type in the answer a of alen bytes; NULL when absent. */
static const uint8_t *msg_find(const uint8_t *a, size_t alen, unsigned type, size_t *len)
{
	for (size_t off = 20; off + 4 <= alen;) {
		size_t l = get16(a + off + 2);

		if (off + 4 + l > alen)
			return NULL;
		if (get16(a + off) == type) {
			*len = l;
			return a + off + 4;
		}
		off += 4 + ((l + 3) & ~(size_t)3);
	}
	return NULL;
}

/* Send m on the connected socket fd, wait for the answer with its transaction id. */
static int transact(int fd, const struct msg *m, uint8_t *ans, size_t *alen)
{
	uint64_t deadline = now_ns() + REQUEST_TIMEOUT_MS * NS_PER_MS;

	if (send(fd, m->b, m->len, 0) < 0)
		return errno;
	for (uint64_t t = now_ns(); t < deadline; t = now_ns()) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, (int)((deadline - t) / NS_PER_MS + 1)) <= 0)
			continue;
		n = recv(fd, ans, MSG_MAX, 0);
		if (n >= 20 && memcmp(ans + 8, m->b + 8, 12) == 0) {
			*alen = (size_t)n;
			return 0;
		}
	}
	return ETIMEDOUT;
}

static int error_code(const uint8_t *a, size_t alen)
{
	size_t l;
	const uint8_t *e = msg_find(a, alen, ATTR_ERROR_CODE, &l);

	return e && l >= 4 ? (e[2] & 7) * 100 + e[3] : 0;
}

/* Copy attribute type of the answer into a C string of cap bytes; 0 or ENOENT. */
static int copy_attr(const uint8_t *a, size_t alen, unsigned type, char *out, size_t cap)
{
	size_t l;
	const uint8_t *v = msg_find(a, alen, type, &l);

	if (!v || l >= cap)
		return ENOENT;
	memcpy(out, v, l);
	out[l] = '\0';
	return 0;
}

/* Long-term key: MD5(user:realm:password), RFC 8489 §9.2.2. */
static void long_term_key(const struct opts *o, struct cred *c)
{
	EVP_MD_CTX *x = EVP_MD_CTX_new();

	EVP_DigestInit_ex(x, EVP_md5(), NULL);
	EVP_DigestUpdate(x, o->user, strlen(o->user));
	EVP_DigestUpdate(x, ":", 1);
	EVP_DigestUpdate(x, c->realm, strlen(c->realm));
	EVP_DigestUpdate(x, ":", 1);
	EVP_DigestUpdate(x, o->password, strlen(o->password));
	EVP_DigestFinal_ex(x, c->key, NULL);
	EVP_MD_CTX_free(x);
}

/* Allocate (the 401 challenge, then signed), then ChannelBind PROBE_CHANNEL to the echo port. */
static int set_up(int fd, const struct opts *o, const char **step)
{
	static const uint8_t udp[4] = { 17, 0, 0, 0 };
	uint8_t ans[MSG_MAX], chan[4] = { 0 }, peer[8] = { 0, 1 };
	struct msg m;
	struct cred c;
	size_t alen;
	int rc;

	*step = "Allocate";
	msg_start(&m, STUN_ALLOCATE);
	msg_attr(&m, ATTR_REQUESTED_TRANSPORT, udp, sizeof(udp));
	if ((rc = transact(fd, &m, ans, &alen)))
		return rc;
	if (error_code(ans, alen) != STUN_ERR_UNAUTHORIZED ||
	    copy_attr(ans, alen, ATTR_REALM, c.realm, sizeof(c.realm)) ||
	    copy_attr(ans, alen, ATTR_NONCE, c.nonce, sizeof(c.nonce)))
		return EPROTO;
	long_term_key(o, &c);
	msg_start(&m, STUN_ALLOCATE);
	msg_attr(&m, ATTR_REQUESTED_TRANSPORT, udp, sizeof(udp));
	msg_sign(&m, o, &c);
	if ((rc = transact(fd, &m, ans, &alen)))
		return rc;
	if ((get16(ans) & STUN_CLASS_MASK) != STUN_SUCCESS)
		return EPROTO;

	*step = "ChannelBind";
	msg_start(&m, STUN_CHANNEL_BIND);
	put16(chan, PROBE_CHANNEL);
	msg_attr(&m, ATTR_CHANNEL_NUMBER, chan, sizeof(chan));
	/* XOR-PEER-ADDRESS 127.0.0.1:echo_port, IPv4 needs only the cookie (RFC 8489 §14.2) */
	put16(peer + 2, (unsigned)o->echo_port ^ (STUN_COOKIE >> 16));
	put32(peer + 4, 0x7f000001u ^ STUN_COOKIE);
	msg_attr(&m, ATTR_XOR_PEER_ADDRESS, peer, sizeof(peer));
	msg_sign(&m, o, &c);
	if ((rc = transact(fd, &m, ans, &alen)))
		return rc;
	return (get16(ans) & STUN_CLASS_MASK) == STUN_SUCCESS ? 0 : EPROTO;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .pps = 50,
		            .size = 172,
		            .max_seconds = 300,
		            .user = "alice",
		            .password = "wonderland" };
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(k, "--wait-mark")) {
			o->wait_mark = 1;
			continue;
		}
		if (!v)
			return EINVAL;
		i++;
		if (!strcmp(k, "--server"))
			o->port = atoi(v);
		else if (!strcmp(k, "--echo-port"))
			o->echo_port = atoi(v);
		else if (!strcmp(k, "--user"))
			o->user = v;
		else if (!strcmp(k, "--password"))
			o->password = v;
		else if (!strcmp(k, "--pps"))
			o->pps = atoi(v);
		else if (!strcmp(k, "--size"))
			o->size = atoi(v);
		else if (!strcmp(k, "--max-seconds"))
			o->max_seconds = atoi(v);
		else
			return EINVAL;
	}
	if (o->port <= 0 || o->port > 65535 || o->echo_port <= 0 || o->echo_port > 65535 ||
	    o->pps <= 0 || o->pps > 10000 || o->size < PROBE_HEADER || o->size > 1200 ||
	    o->max_seconds <= 0 || o->max_seconds > 3600)
		return EINVAL;
	return 0;
}

/* A UDP socket on 127.0.0.1:port (0: any), connected to 127.0.0.1:peer unless peer is 0. */
static int udp_socket(int port, int peer)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	a.sin_port = htons((uint16_t)port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto fail;
	a.sin_port = htons((uint16_t)peer);
	if (peer && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto fail;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

struct run {
	uint32_t seq, cap, sent_all, recv_all, sent_marked, nrtt;
	uint8_t *seen;
	uint32_t *rtt_us;
};

/* What the echo socket got goes back where it came from: the TURN relay address. */
static void echo_one(int efd)
{
	uint8_t b[MSG_MAX];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(efd, b, sizeof(b), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);

	if (n > 0)
		sendto(efd, b, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&from, fl);
}

/* A ChannelData answer: the RTT of a measured packet not seen before. */
static void answer_one(int cfd, struct run *r)
{
	uint8_t b[MSG_MAX];
	ssize_t n = recv(cfd, b, sizeof(b), MSG_DONTWAIT);
	uint64_t t = now_ns(), sent;
	uint32_t seq;

	if (n < 4 + PROBE_HEADER || get16(b) != PROBE_CHANNEL)
		return;
	seq = get32(b + 4);
	if (seq >= r->seq || r->seen[seq])
		return;
	r->seen[seq] = 1;
	r->recv_all++;
	sent = (uint64_t)get32(b + 12) << 32 | get32(b + 16);
	if (get32(b + 8) && t > sent)
		r->rtt_us[r->nrtt++] = (uint32_t)((t - sent) / 1000);
}

static void send_one(int cfd, const struct opts *o, struct run *r, uint8_t *pkt)
{
	uint64_t t = now_ns();

	put32(pkt + 4, r->seq);
	put32(pkt + 8, marked ? 1 : 0);
	put32(pkt + 12, (uint32_t)(t >> 32));
	put32(pkt + 16, (uint32_t)t);
	if (send(cfd, pkt, 4 + (size_t)o->size, MSG_DONTWAIT) < 0)
		return; /* not sent: neither counted nor lost */
	r->sent_all++;
	r->sent_marked += marked ? 1 : 0;
	r->seq++;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static void report(struct run *r)
{
	uint32_t n = r->nrtt;

	printf("result %u %u %u %u", r->sent_all, r->recv_all, r->sent_marked, r->sent_marked - n);
	if (!n) {
		printf(" ? ? ?\n");
		return;
	}
	qsort(r->rtt_us, n, sizeof(*r->rtt_us), cmp_u32);
	/* nearest rank: the smallest sample with at least q of them at or below it */
	printf(" %u %u %u\n", r->rtt_us[(n + 1) / 2 - 1],
	       r->rtt_us[(99 * (uint64_t)n + 99) / 100 - 1], r->rtt_us[n - 1]);
}

/* Send at o->pps until stopped, sample count or time is used up; then drain and report. */
static void measure(int cfd, int efd, const struct opts *o, struct run *r)
{
	uint8_t pkt[4 + 1200] = { 0 };
	uint64_t period = NS_PER_S / (uint64_t)o->pps, start = now_ns();
	uint64_t end = start + (uint64_t)o->max_seconds * NS_PER_S, drain_end = 0;

	put16(pkt, PROBE_CHANNEL);
	put16(pkt + 2, (unsigned)o->size);
	for (;;) {
		uint64_t t = now_ns(), due = start + (uint64_t)r->seq * period;
		struct pollfd p[2] = { { .fd = cfd, .events = POLLIN },
			               { .fd = efd, .events = POLLIN } };
		struct timespec ts;
		uint64_t wait;

		if (!drain_end && (stopping || t >= end || r->seq >= r->cap))
			drain_end = t + DRAIN_MS * NS_PER_MS;
		if (drain_end && t >= drain_end)
			break;
		if (!drain_end && t >= due) {
			send_one(cfd, o, r, pkt);
			continue;
		}
		wait = (drain_end ? drain_end : due) - t;
		ts = (struct timespec){ .tv_sec = (time_t)(wait / NS_PER_S),
			                .tv_nsec = (long)(wait % NS_PER_S) };
		if (ppoll(p, 2, &ts, NULL) <= 0)
			continue;
		if (p[1].revents & POLLIN)
			echo_one(efd);
		if (p[0].revents & POLLIN)
			answer_one(cfd, r);
	}
	report(r);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct run r = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	const char *step = "socket";
	int cfd, efd, rc;

	if (parse_opts(argc, argv, &o)) {
		fprintf(stderr,
		        "usage: %s --server PORT --echo-port PORT [--user U] [--password P]"
		        " [--pps N] [--size BYTES] [--max-seconds S] [--wait-mark]\n",
		        argv[0]);
		return 2;
	}
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	marked = !o.wait_mark;
	r.cap = (uint32_t)o.pps * (uint32_t)o.max_seconds;
	r.seen = calloc(r.cap, 1);
	r.rtt_us = calloc(r.cap, sizeof(*r.rtt_us));
	cfd = udp_socket(0, o.port);
	efd = udp_socket(o.echo_port, 0);
	rc = !r.seen || !r.rtt_us ? ENOMEM : cfd < 0 || efd < 0 ? errno : set_up(cfd, &o, &step);
	/*
	 * uclient's clients leave their allocations to expire, so the ephemeral
	 * port we got may still be one's 5-tuple (437 Allocation Mismatch): a
	 * few more tries from other ports.
	 */
	for (int tries = 0; rc == EPROTO && tries < 3; tries++) {
		int fd = udp_socket(0, o.port);

		if (fd < 0)
			break;
		close(cfd);
		cfd = fd;
		rc = set_up(cfd, &o, &step);
	}
	if (rc) {
		printf("error %s: %s\n", step, strerror(rc));
	} else {
		printf("ready\n");
		fflush(stdout);
		measure(cfd, efd, &o, &r);
	}
	if (cfd >= 0)
		close(cfd);
	if (efd >= 0)
		close(efd);
	free(r.seen);
	free(r.rtt_us);
	return rc ? 1 : 0;
}
