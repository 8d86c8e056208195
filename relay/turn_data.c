/*
 * The TURN data path of an allocation (RFC 8656 §11, §12): client→peer
 * sends (batched per listener batch), peer→client relaying as ChannelData
 * or Data indications, the bandwidth bucket, and the relay sockets' reads,
 * per socket or through the worker's io_uring (turn_uring.c).
 */
#include <string.h>
#include <sys/socket.h>

#include "relay/stun_priv.h"
#include "relay/turn_priv.h"

/*
 * Per-allocation bandwidth (turn.max_bandwidth): a token bucket of bytes,
 * one second deep, shared by both directions. No syscall, no lock.
 */
static bool within_bandwidth(struct turn_alloc *a, size_t len)
{
	struct turn_worker *w = a->w;
	double rate = w->snap->max_bytes_per_sec;

	if (rate <= 0)
		return true;
	if (w->now_ms > a->bw_last_ms) {
		a->bw_tokens += rate * (double)(w->now_ms - a->bw_last_ms) / 1000.0;
		if (a->bw_tokens > rate)
			a->bw_tokens = rate;
		a->bw_last_ms = w->now_ms;
	}
	if (a->bw_tokens < (double)len) {
		STAT_ADD(w->stats.bandwidth_drops, 1);
		return false;
	}
	a->bw_tokens -= (double)len;
	return true;
}

static void sent_to_peer(struct turn_alloc *a, size_t len)
{
	a->pkts_to_peer++;
	a->bytes_to_peer += len;
	STAT_ADD(a->w->stats.relay_pkts_out, 1);
	STAT_ADD(a->w->stats.relay_bytes_out, len);
}

void turn_alloc_send_to_peer(struct turn_alloc *a, const struct sockaddr *peer, const void *data,
                             size_t len)
{
	const struct turn_relay *r = turn_alloc_relay(a, peer->sa_family);
	struct turn_worker *w = a->w;
	int i = w->npeer;

	if (!r || !within_bandwidth(a, len))
		return;
	/* the worker's counters follow on the send's completion */
	if (w->multishot && w->peer_hold && turn_uring_send_peer(w, r->ep.fd, peer, data, len)) {
		a->pkts_to_peer++;
		a->bytes_to_peer += len;
		return;
	}
	if (!w->peer_hold || i == TURN_BATCH) {
		if (sendto(r->ep.fd, data, len, MSG_DONTWAIT, peer, turn_addr_len(peer)) >= 0)
			sent_to_peer(a, len);
		return;
	}
	memcpy(&w->peer_addr[i], peer, turn_addr_len(peer));
	w->peer_iov[i] = (struct iovec){ .iov_base = (void *)data, .iov_len = len };
	w->peer_tx[i].msg_hdr = (struct msghdr){ .msg_name = &w->peer_addr[i],
		                                 .msg_namelen = turn_addr_len(peer),
		                                 .msg_iov = &w->peer_iov[i],
		                                 .msg_iovlen = 1 };
	w->peer_alloc[i] = a;
	w->peer_fd[i] = r->ep.fd;
	w->npeer++;
}

/*
 * Each allocation has its own relay socket, so one sendmmsg carries only
 * the batch's packets of one socket: gathered here, in their order.
 */
void turn_peer_tx_flush(struct turn_worker *w)
{
	struct mmsghdr group[TURN_BATCH];
	struct turn_alloc *owner[TURN_BATCH];

	if (w->ring) {
		int res[TURN_BATCH];

		/* one submission for every socket; a socket's packets keep their order */
		turn_uring_sendmsgs(w, w->peer_fd, w->peer_tx, w->npeer, res);
		for (int i = 0; i < w->npeer; i++) {
			if (res[i] >= 0)
				sent_to_peer(w->peer_alloc[i], w->peer_iov[i].iov_len);
		}
		w->npeer = 0;
		return;
	}

	for (int i = 0; i < w->npeer; i++) {
		int fd = w->peer_fd[i], n = 0, sent;

		if (fd < 0)
			continue;
		for (int j = i; j < w->npeer; j++) {
			if (w->peer_fd[j] != fd)
				continue;
			group[n] = w->peer_tx[j];
			owner[n++] = w->peer_alloc[j];
			w->peer_fd[j] = -1;
		}
		for (int off = 0; off < n; off += sent) {
			sent = sendmmsg(fd, group + off, (unsigned)(n - off), MSG_DONTWAIT);
			if (sent <= 0) {
				/* dropped like a single send the socket refuses */
				sent = 1;
				continue;
			}
			for (int k = off; k < off + sent; k++)
				sent_to_peer(owner[k], group[k].msg_hdr.msg_iov->iov_len);
		}
	}
	w->npeer = 0;
}

/*
 * ChannelData (RFC 8656 §12.4) when a channel is bound to the peer, else a
 * Data indication (§11.6), queued toward the client on the listening socket.
 */
static void forward_to_client(struct turn_alloc *a, const struct sockaddr *peer,
                              const uint8_t *data, size_t len)
{
	struct turn_worker *w = a->w;
	const struct turn_chan *c = turn_alloc_chan_by_peer(a, peer, w->now);
	uint8_t *out;
	size_t n;

	if (!within_bandwidth(a, len))
		return;
	out = turn_tx_slot(w);
	w->cur_src = IN6_IS_ADDR_UNSPECIFIED(&a->server_addr) ? NULL : &a->server_addr;
	if (c) {
		/* over a stream ChannelData is padded to a multiple of 4 (RFC 8656 §12.5) */
		size_t pad = a->conn ? (4 - (len & 3)) & 3 : 0;

		if (len + 4 + pad > TURN_DGRAM_MAX)
			return;
		stun_put16(out, c->number);
		stun_put16(out + 2, (uint16_t)len);
		memcpy(out + 4, data, len);
		memset(out + 4 + len, 0, pad);
		n = 4 + len + pad;
	} else {
		uint8_t tid[STUN_TID_LEN];
		struct stun_enc e;

		/* a fresh transaction id: the worker's random prefix and a counter */
		memcpy(tid, w->tid_prefix, 8);
		stun_put32(tid + 8, w->tid_counter++);
		stun_enc_start(&e, out, TURN_DGRAM_MAX, STUN_DATA, STUN_INDICATION, tid);
		stun_enc_xaddr(&e, STUN_ATTR_XOR_PEER_ADDRESS, peer);
		stun_enc_bytes(&e, STUN_ATTR_DATA, data, len);
		if (stun_enc_end(&e, &n))
			return;
	}
	a->pkts_from_peer++;
	a->bytes_from_peer += len;
	STAT_ADD(w->stats.relay_pkts_in, 1);
	STAT_ADD(w->stats.relay_bytes_in, len);
	w->cur_conn = a->conn; /* toward a TCP client, the commit writes to its connection */
	turn_tx_commit(w, n, (struct sockaddr *)&a->client, a->client_len);
	w->cur_conn = NULL;
}

void turn_alloc_relay_datagram(struct turn_alloc *a, const struct sockaddr *peer,
                               const uint8_t *data, size_t len)
{
	if (!turn_alloc_permitted(a, peer, a->w->now)) {
		STAT_ADD(a->w->stats.no_permission, 1);
		return;
	}
	forward_to_client(a, peer, data, len);
}

/* Datagram i of the rx slots, len bytes (more than the buffer: cut), from a's relay. */
static void relay_datagram(struct turn_alloc *a, int i, size_t len, bool cut)
{
	struct turn_worker *w = a->w;

	/* larger than any media packet: not relayed cut short */
	if (cut || len > TURN_DGRAM_MAX)
		return;
	turn_alloc_relay_datagram(a, (const struct sockaddr *)&w->rx_addr[i], w->rx_buf[i], len);
}

void turn_alloc_relay_readable(struct turn_relay *r)
{
	struct turn_worker *w = r->a->w;
	/* one batch per wake-up: the other sockets of this worker get their turn */
	int n = turn_rx_batch(w, r->ep.fd);

	for (int i = 0; i < n; i++)
		relay_datagram(r->a, i, w->rx[i].msg_len, w->rx[i].msg_hdr.msg_flags & MSG_TRUNC);
	/* the queue is flushed once the wake-up's other descriptors have had their turn */
	w->cur_src = NULL;
}

void turn_alloc_relay_ready(struct turn_relay *r)
{
	struct turn_worker *w = r->a->w;

	if (!w->ring) {
		turn_alloc_relay_readable(r);
		return;
	}
	w->ready[w->nready++] = r;
	if (w->nready == TURN_BATCH)
		turn_alloc_relays_rx(w);
}

void turn_alloc_relays_rx(struct turn_worker *w)
{
	struct turn_relay *live[TURN_BATCH];
	int res[TURN_BATCH], n = 0;

	/* a relay closed by an earlier event of this wake-up reads nothing */
	for (int i = 0; i < w->nready; i++) {
		if (w->ready[i]->ep.fd >= 0 && !w->ready[i]->a->relay[0].ep.dead)
			live[n++] = w->ready[i];
	}
	w->nready = 0;
	n = n ? turn_uring_recv_relays(w, live, n, res) : 0;
	for (int i = 0; i < n; i++) {
		if (res[i] >= 0)
			relay_datagram(live[i]->a, i, (size_t)res[i], false);
	}
	w->cur_src = NULL;
}
