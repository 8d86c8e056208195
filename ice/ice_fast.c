/*
 * The lite fast path of a WebRTC leg (ice/ice_leg_priv.h: struct fast) and
 * the leg's sends: checks answered with stun_ice_answer (RFC 8445 §7.3 as a
 * lite agent, RFC 8838 nomination followed), data from answered sources,
 * SRTP-protected packets out through libnice or the fast path's socket.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "core/log.h"
#include "ice/demux.h"
#include "ice/ice_leg_priv.h"
#include "relay/rtp_latch.h"
#include "relay/stun_ice.h"

/* One datagram on the fast path's socket: cbs->send's answer, or sendto's (0 or EAGAIN). */
static int fast_out(const struct ice_leg *l, const void *data, size_t len,
                    const struct sockaddr *to, const struct ice_leg_media *media)
{
	if (l->cbs.send)
		return l->cbs.send(l->user, l->fast.fd, data, len, to, media);
	return sendto(l->fast.fd, data, len, MSG_DONTWAIT, to, rtp_addr_len(to)) == (ssize_t)len
	               ? 0
	               : EAGAIN;
}

/* One datagram to the nominated peer on the fast path: 0, EINPROGRESS, or an errno. */
int ice_fast_sendto(const struct ice_leg *l, const void *data, size_t len,
                    const struct ice_leg_media *media)
{
	return fast_out(l, data, len, (const struct sockaddr *)&l->fast.peer, media);
}

/* The socket goes back to libnice (an ICE restart): the owner hears of it. */
void ice_fast_stop(struct ice_leg *l)
{
	if (!l->fast.on)
		return;
	l->fast.on = false;
	if (l->cbs.fast)
		l->cbs.fast(l->user, l->fast.fd, false);
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return rtp_addr_equal((const struct sockaddr *)a, (const struct sockaddr *)b);
}

static bool fast_known(const struct ice_leg *l, const struct sockaddr_storage *from)
{
	for (unsigned i = 0; i < l->fast.n_ok; i++) {
		if (same_addr(&l->fast.ok[i], from))
			return true;
	}
	return false;
}

static void fast_learn(struct ice_leg *l, const struct sockaddr_storage *from)
{
	if (fast_known(l, from))
		return;
	l->fast.ok[l->fast.next_ok] = *from;
	l->fast.next_ok = (l->fast.next_ok + 1) % FAST_SOURCES;
	if (l->fast.n_ok < FAST_SOURCES)
		l->fast.n_ok++;
}

/*
 * Take the socket over from libnice: a lite leg, connected, with a selected
 * pair on a UDP socket. Otherwise libnice keeps it.
 */
void ice_fast_start(struct ice_leg *l)
{
	NiceCandidate *lc = NULL, *rc = NULL;
	GSocket *sock;

	if (!l->conf.lite || l->fast.on || !l->connected || l->dead ||
	    !nice_agent_get_selected_pair(l->agent, l->stream, COMPONENT, &lc, &rc) ||
	    rc->transport != NICE_CANDIDATE_TRANSPORT_UDP)
		return;
	sock = nice_agent_get_selected_socket(l->agent, l->stream, COMPONENT);
	if (!sock)
		return;
	l->fast.fd = g_socket_get_fd(sock);
	g_object_unref(sock);
	memset(&l->fast.peer, 0, sizeof(l->fast.peer));
	memset(&l->fast.local, 0, sizeof(l->fast.local));
	nice_address_copy_to_sockaddr(&rc->addr, (struct sockaddr *)&l->fast.peer);
	nice_address_copy_to_sockaddr(&lc->addr, (struct sockaddr *)&l->fast.local);
	l->fast.n_ok = l->fast.next_ok = 0;
	fast_learn(l, &l->fast.peer);
	l->fast.on = true;
	log_debug(LOG_ICE, "fast path", "session=%u fd=%d", l->conf.id, l->fast.fd);
	if (l->cbs.fast)
		l->cbs.fast(l->user, l->fast.fd, true);
}

/* A STUN datagram on the fast path: a check of the peer's, answered when it verifies. */
static void fast_check(struct ice_leg *l, const uint8_t *buf, size_t len,
                       const struct sockaddr_storage *from)
{
	uint8_t out[256];
	size_t olen;
	struct stun_ice_check chk;
	NiceAddress la, ra;
	char lip[INET6_ADDRSTRLEN], rip[INET6_ADDRSTRLEN];

	/* a check with other credentials (an ICE restart's, early) is not answered, as in libnice
	 */
	if (stun_ice_answer(buf, len, l->ufrag, l->pwd, (const struct sockaddr *)from, out,
	                    sizeof(out), &olen, &chk))
		return;
	fast_out(l, out, olen, (const struct sockaddr *)from, NULL);
	fast_learn(l, from);
	if (!chk.use_candidate || same_addr(from, &l->fast.peer))
		return;
	/* the controlling peer nominated another pair: media follows it (RFC 8445 §8.1.1) */
	l->fast.peer = *from;
	nice_address_set_from_sockaddr(&la, (const struct sockaddr *)&l->fast.local);
	nice_address_set_from_sockaddr(&ra, (const struct sockaddr *)from);
	nice_address_to_string(&la, lip);
	nice_address_to_string(&ra, rip);
	g_snprintf(l->pair, sizeof(l->pair), "%s:%u <-> %s:%u host/prflx", lip,
	           nice_address_get_port(&la), rip, nice_address_get_port(&ra));
	log_info(LOG_ICE, "selected pair", "session=%u pair=\"%s\"", l->conf.id, l->pair);
	l->cbs.event(l->user, ICE_LEG_EV_PAIR, l->pair);
}

/* The fast path's receive: one recvmmsg; checks answered here, data from answered sources. */
void ice_fast_readable(struct ice_leg *l, int fd, uint8_t *const *bufs, unsigned n, size_t cap)
{
	struct mmsghdr mm[ICE_LEG_RECV_BATCH];
	struct iovec iov[ICE_LEG_RECV_BATCH];
	struct sockaddr_storage from[ICE_LEG_RECV_BATCH];
	int got;

	for (unsigned i = 0; i < n; i++) {
		iov[i] = (struct iovec){ .iov_base = bufs[i],
			                 .iov_len = cap - ICE_SRTP_TRAILER_MAX };
		mm[i].msg_hdr = (struct msghdr){ .msg_name = &from[i],
			                         .msg_namelen = sizeof(from[i]),
			                         .msg_iov = &iov[i],
			                         .msg_iovlen = 1 };
	}
	got = recvmmsg(fd, mm, n, MSG_DONTWAIT, NULL);
	for (int i = 0; i < got; i++)
		ice_leg_fast_input(l, bufs[i], mm[i].msg_len, cap,
		                   mm[i].msg_hdr.msg_flags & MSG_TRUNC,
		                   (const struct sockaddr *)&from[i]);
}

void ice_leg_fast_input(struct ice_leg *l, uint8_t *buf, size_t len, size_t cap, bool cut,
                        const struct sockaddr *src)
{
	struct sockaddr_storage from;

	if (!l->fast.on)
		return; /* handed back to libnice since the owner read it */
	memset(&from, 0, sizeof(from));
	memcpy(&from, src, rtp_addr_len(src));
	if (cut) {
		l->cbs.drop(l->user, ICE_LEG_DROP_MALFORMED);
	} else if (ice_demux(buf, len) == ICE_PKT_STUN) {
		fast_check(l, buf, len, &from);
	} else if (!fast_known(l, &from)) {
		l->cbs.drop(l->user, ICE_LEG_DROP_UNCHECKED);
	} else {
		ice_leg_input(l, buf, len, cap); /* after the leg's end: dropped there */
	}
}

/* What a send's answer (cbs->send's or sendto's: 0, EINPROGRESS, an errno) means for the packet. */
static enum ice_leg_sent sent_as(int rc)
{
	return rc == 0 ? ICE_LEG_SENT : rc == EINPROGRESS ? ICE_LEG_QUEUED : ICE_LEG_SEND_FAILED;
}

/* SRTP refused to protect: no keys yet, or the packet (ice_srtp_protect's errors). */
static enum ice_leg_sent refused_as(int rc)
{
	return rc == ENOTCONN ? ICE_LEG_NOT_CONNECTED : ICE_LEG_SRTP_REFUSED;
}

enum ice_leg_sent ice_leg_send(struct ice_leg *l, uint8_t *buf, size_t len, size_t cap, bool rtcp)
{
	const struct ice_leg_media media = { rtcp, len };
	int rc;

	if (!l->connected || l->dead)
		return ICE_LEG_NOT_CONNECTED;
	rc = ice_srtp_protect(l->srtp, rtcp ? ICE_SRTP_RTCP : ICE_SRTP_RTP, buf, &len, cap);
	if (rc)
		return refused_as(rc);
	if (l->fast.on)
		return sent_as(ice_fast_sendto(l, buf, len, &media));
	return nice_agent_send(l->agent, l->stream, COMPONENT, (guint)len, (const gchar *)buf) ==
	                       (gint)len
	               ? ICE_LEG_SENT
	               : ICE_LEG_SEND_FAILED;
}

/*
 * sendmmsg to the nominated peer, or cbs->send for each (vec[i] is media[i]);
 * what the socket refuses now is dropped, never queued. res[i]: vec[i]'s fate.
 */
static void fast_send(struct ice_leg *l, const GOutputVector *vec,
                      const struct ice_leg_media *media, unsigned m, enum ice_leg_sent *res)
{
	struct mmsghdr mm[SEND_BATCH];
	struct iovec iov[SEND_BATCH];
	unsigned sent = 0;
	int rc;

	if (l->cbs.send) {
		for (unsigned i = 0; i < m; i++)
			res[i] = sent_as(ice_fast_sendto(l, vec[i].buffer, vec[i].size, &media[i]));
		return;
	}
	for (unsigned i = 0; i < m; i++) {
		iov[i] =
		        (struct iovec){ .iov_base = (void *)vec[i].buffer, .iov_len = vec[i].size };
		mm[i].msg_hdr = (struct msghdr){ .msg_name = &l->fast.peer,
			                         .msg_namelen = rtp_addr_len(
			                                 (struct sockaddr *)&l->fast.peer),
			                         .msg_iov = &iov[i],
			                         .msg_iovlen = 1 };
	}
	/* to one peer on one socket: what refused one packet refuses the rest */
	while (sent < m && (rc = sendmmsg(l->fast.fd, mm + sent, m - sent, MSG_DONTWAIT)) > 0)
		sent += (unsigned)rc;
	for (unsigned i = 0; i < m; i++)
		res[i] = i < sent ? ICE_LEG_SENT : ICE_LEG_SEND_FAILED;
}

void ice_leg_send_batch(struct ice_leg *l, uint8_t *const *buf, const size_t *len, const bool *rtcp,
                        unsigned n, size_t cap, enum ice_leg_sent *res)
{
	GOutputVector vec[SEND_BATCH];
	NiceOutputMessage msg[SEND_BATCH];
	struct ice_leg_media media[SEND_BATCH];
	enum ice_leg_sent out[SEND_BATCH];
	unsigned idx[SEND_BATCH], m = 0;
	gint sent;

	for (unsigned i = 0; i < n; i++)
		res[i] = i < SEND_BATCH ? ICE_LEG_NOT_CONNECTED : ICE_LEG_SEND_FAILED;
	if (!l->connected || l->dead)
		return;
	for (unsigned i = 0; i < n && i < SEND_BATCH; i++) {
		size_t plen = len[i];
		int rc = ice_srtp_protect(l->srtp, rtcp[i] ? ICE_SRTP_RTCP : ICE_SRTP_RTP, buf[i],
		                          &plen, cap);

		if (rc) {
			res[i] = refused_as(rc);
			continue;
		}
		vec[m] = (GOutputVector){ .buffer = buf[i], .size = plen };
		media[m] = (struct ice_leg_media){ rtcp[i], len[i] };
		msg[m] = (NiceOutputMessage){ .buffers = &vec[m], .n_buffers = 1 };
		idx[m++] = i;
	}
	if (!m)
		return;
	if (l->fast.on) {
		fast_send(l, vec, media, m, out);
	} else {
		sent = nice_agent_send_messages_nonblocking(l->agent, l->stream, COMPONENT, msg, m,
		                                            NULL, NULL);
		for (unsigned k = 0; k < m; k++)
			out[k] = (gint)k < sent ? ICE_LEG_SENT : ICE_LEG_SEND_FAILED;
	}
	for (unsigned k = 0; k < m; k++)
		res[idx[k]] = out[k];
}
