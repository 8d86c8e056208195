/*
 * Helpers of the media unit tests (test_media.c, test_media_pool.c, the WebRTC ones): UDP
 * peers on loopback, packets whose bytes say their seq, a media pool.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/metrics.h"
#include "relay/media.h"

#define WAIT_MS 2000 /* for a packet that must come; a bound, not a pacing */
#define PKT     172  /* G.711 20 ms: 12 header + 160 payload */

struct peer {
	int fd;
	struct sockaddr_storage addr;
};

/* family's loopback address with port. */
struct sockaddr_storage lo_addr(int family, uint16_t port);
uint16_t port_of(const struct sockaddr_storage *ss);
socklen_t len_of(const struct sockaddr_storage *ss);
/* A UDP socket on loopback, on a port the kernel picks; fd -1 when the family is missing. */
struct peer peer_new(int family);
void peer_close(struct peer *p);
/* An RTP (or RTCP RR) packet whose bytes all say seq, so a mix-up shows. */
size_t make_pkt(uint8_t *buf, size_t len, bool rtcp, uint8_t seq);
/* The next datagram on p within timeout_ms: its seq byte (-1: none), source port in *from_port. */
int recv_pkt(const struct peer *p, int timeout_ms, uint16_t *from_port);
/*
 * A pool configured by the overrides ov (NULL-terminated, up to 14) and
 * media.io from RTCGATE_MEDIA_IO (else io_uring), counting into m (may be
 * NULL); the test stops it. pool_start: on ports, with workers.
 */
struct media_pool *pool_start_ov(const char *const *ov, struct metrics *m);
struct media_pool *pool_start(const char *ports, int workers, const char *public_addr,
                              struct metrics *m);
/* s's port on leg. */
uint16_t leg_port(struct media_session *s, enum media_leg leg);
/* leg's remote: rtp's address, RTCP at rtcp's (NULL: the RTP port + 1). */
void set_remote(struct media_session *s, enum media_leg leg, const struct peer *rtp,
                const struct peer *rtcp);
/*
 * s's count of drops for why on leg, polled until it reaches want, within
 * WAIT_MS: for counters no packet can show. Each round wakes the workers: a
 * send's completion is counted at the wake-up after it.
 */
uint64_t wait_drop(struct media_pool *p, struct media_session *s, enum media_leg leg,
                   enum media_drop why, uint64_t want);
