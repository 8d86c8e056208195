/*
 * The inside of a WebRTC media leg (ice/ice_leg.h), shared by ice_leg.c
 * (libnice, DTLS, consent) and ice_fast.c (the lite fast path and sends).
 */
#pragma once

#include <nice/agent.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ice/ice_leg.h"

#define COMPONENT    1 /* rtcp-mux and BUNDLE: one component carries everything */
#define SEND_BATCH   64
#define FAST_SOURCES 4 /* peer addresses whose checks we answered, newest kept */
#define FAST_BATCH   8 /* datagrams per recvmmsg: one call sends 50-100 a second */

/*
 * The lite fast path. Once a lite leg is connected, its one UDP socket is
 * read and written here (recvmmsg, sendmmsg) rather than through libnice:
 * a lite agent only answers checks, which stun_ice_answer does with the same
 * credentials, and libnice's receive path (a private context polled twice,
 * a GSocketAddress and an EAGAIN read per datagram) cost more than the
 * relay itself. An ICE restart hands the socket back to libnice until the
 * new checks completed.
 */
struct fast {
	bool on;
	int fd;                        /* libnice's host socket */
	struct sockaddr_storage local; /* the socket's address, for the pair's description */
	struct sockaddr_storage peer;  /* the nominated remote: everything goes there */
	struct sockaddr_storage ok[FAST_SOURCES];
	unsigned n_ok, next_ok;
};

struct ice_leg {
	GMainContext *ctx;
	struct dtls_ctx *dtls_ctx;
	struct ice_leg_conf conf;
	struct ice_leg_cbs cbs;
	void *user;
	NiceAgent *agent;
	guint stream;
	struct dtls *dtls;
	struct ice_srtp *srtp;
	GSource *dtls_timer, *setup_timer; /* consent: ice_leg_tick, from the owner's one timer */
	char ufrag[64], pwd[64];           /* ours now, for an ICE restart */
	bool ice_ready;                    /* libnice has a selected pair */
	bool connected;                    /* DTLS set the SRTP keys */
	bool dead;                         /* FAILED or CONSENT_LOST was reported: nothing more */
	int64_t last_rx;                   /* monotonic µs of the last authenticated datagram */
	uint64_t srtp_drops;               /* for the log's rate limit */
	char pair[128];
	struct fast fast;
};

/* One datagram of the leg's socket, from a checked source: DTLS, or SRTP to cbs->media. */
void ice_leg_input(struct ice_leg *l, uint8_t *buf, size_t len, size_t cap);

/* The fast path (ice_fast.c). */
int ice_fast_sendto(const struct ice_leg *l, const void *data, size_t len,
                    const struct ice_leg_media *media);
void ice_fast_start(struct ice_leg *l);
void ice_fast_stop(struct ice_leg *l);
void ice_fast_readable(struct ice_leg *l, int fd, uint8_t *const *bufs, unsigned n, size_t cap);
