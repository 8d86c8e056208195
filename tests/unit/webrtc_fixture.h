/*
 * Helpers of the WebRTC unit tests (test_webrtc.c, test_webrtc_send.c): a browser made
 * here (its own libnice agent, full ICE, controlling; ice/dtls as the DTLS client; ice/srtp)
 * calling a media pool's WebRTC leg A over loopback, and a UDP socket playing the PBX.
 */
#pragma once

#include <glib.h>
#include <netinet/in.h>
#include <nice/agent.h>
#include <stdbool.h>
#include <stdint.h>

#include "ice/dtls.h"
#include "ice/srtp.h"
#include "relay/media.h"

#define WAIT_US (10 * G_USEC_PER_SEC) /* a bound for what must happen, not a pacing */
#define PAYLOAD 160
#define SSRC    0x11223344u

/* The test's browser: libnice, DTLS client, SRTP. All on the default context. */
struct browser {
	NiceAgent *agent;
	guint stream;
	struct dtls_cert *cert;
	struct dtls_ctx *ctx;
	struct dtls *dtls;
	struct ice_srtp *srtp;
	struct dtls_fingerprint gw_fp;
	bool gathered, ready;
	int received;
	uint8_t last[2048];
	size_t last_len;
	GSource *tick;
};

struct fix {
	struct media_pool *p;
	struct dtls_cert *gw_cert;
	struct dtls_ctx *gw_dtls;
	struct media_session *s;
	struct media_webrtc_local loc;
	struct browser b;
	int events[3];
	char reason[160];
	uint16_t seq;
};

extern const char *ice_mode;  /* media.ice_mode of fix_start: "lite" unless a test says */
extern const char *fix_ports; /* media.ports of fix_start: a range per test program */
extern int want_received;     /* for got_all */

/* Run the default context until done(f) or max_us passed: done(f). */
bool pump(struct fix *f, bool (*done)(struct fix *), int64_t max_us);
/* A one-worker pool (consent and ICE timeouts in seconds), the browser, a session. */
void fix_start(struct fix *f, const char *consent, const char *ice_timeout);
void fix_stop(struct fix *f);
/* The browser's side into r: credentials, fingerprint, candidates. */
void browser_sdp(struct fix *f, struct media_webrtc_remote *r);
/* Offer/answer both ways and wait until the gateway reports CONNECTED or FAILED. */
void call_up(struct fix *f, bool echo, const struct media_pt_map *map, size_t n_map,
             bool gw_knows_fp);
bool connected(struct fix *f);
/* An RTP packet (protected for the gateway when protect) into buf; its length. */
size_t rtp_packet(struct fix *f, uint8_t *buf, size_t cap, uint8_t pt, bool protect);
void browser_send(struct fix *f, const uint8_t *buf, size_t len);
/* Whether the browser received want_received packets. */
bool got_all(struct fix *f);
/* One RTP packet from the browser on an echo call, and its echo back. */
void echo_one(struct fix *f);
/* A UDP socket on 127.0.0.1 playing the PBX; its address in *addr. */
int pbx_socket(struct sockaddr_in *addr);
