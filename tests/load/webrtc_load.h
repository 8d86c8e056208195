/* webrtc_load: the load generator's shared types (tests/load/README.md, "webrtc_bench.sh").
 * Independent of rtcgate's code: its own SIP over WebSocket (RFC 7118), PBX UAS, RTP echo,
 * ICE (libnice), DTLS-SRTP (OpenSSL, RFC 5763/5764) and SRTP (libsrtp2). */
#ifndef WEBRTC_LOAD_H
#define WEBRTC_LOAD_H

#include <glib.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WL_RTP_LEN      172 /* 12-byte header + 160 bytes of G.711, 20 ms */
#define WL_FRAME_US     20000
#define WL_MAGIC        0x776c6f64u /* "wlod" in the payload: our packet */
#define WL_HIST_US      200000      /* RTT histogram: 1 µs buckets up to 200 ms */
#define WL_PKT_MAX      1500
#define WL_SRTP_TRAILER 32

enum wl_mode { WL_PLAIN, WL_WEBRTC };

struct wl_opts {
	enum wl_mode mode;
	const char *ws_host;
	int ws_port;
	int pbx_port;  /* our PBX UAS, rtcgate's sip.pbx */
	int echo_port; /* our RTP echo peer (RTCP on +1) */
	int calls;
	int rate;    /* call setups started per second */
	int seconds; /* steady phase */
	int pid;     /* rtcgate */
	const char *login_prefix;
	int per_login; /* flows per device login (the device's max_calls) */
	int threads;   /* media threads of the generator */
	int direct;    /* reference flows straight to the echo peer */
	int held;      /* seconds with every call up and no media */
	/*
	 * Read on the 1 ms tick instead of waking for each readable socket (--read tick): on
	 * loopback the sender pays for waking the receiver, so rtcgate's CPU per packet then
	 * holds no wake-up of ours, as with a real network; RTTs gain up to a tick.
	 */
	bool read_tick;
};

/* Figures one media thread keeps; read by main only after the thread stopped. */
struct wl_stats {
	uint64_t sent, recv;         /* packets with a send time inside the window */
	uint64_t sent_all, recv_all; /* every packet */
	uint64_t setup_pkts;         /* sent or received before the setup phase ended */
	uint64_t direct_sent, direct_recv;
	uint64_t srtp_err, dtls_fail, ice_fail;
	uint32_t *hist;        /* through rtcgate, µs */
	uint32_t *hist_direct; /* straight to the echo peer, µs */
};

struct wl_thread;

/* One call: signaling fields belong to the main thread, media fields to the call's thread;
 * they hand over through g_main_context_invoke only. */
struct wl_call {
	int idx;
	struct wl_flow *flow;
	struct wl_thread *th;
	/* main thread */
	char call_id[40], from_tag[20], to_tag[64], remote_uri[256];
	int cseq;
	bool invited, answered, media_told, bye_sent, bye_done;
	gint failed; /* atomic: either thread */
	gint64 t_invite;
	char *offer;  /* SDP we send */
	char *answer; /* SDP rtcgate answered */
	/* media thread */
	struct sockaddr_in dst; /* plain mode: rtcgate's address from the answer */
	void *rtc;              /* webrtc mode: struct wl_rtc */
	bool sending, streaming;
	uint32_t win_sent, win_recv; /* this call's packets inside the window */
	gint64 next_send;
	uint16_t seq;
	uint32_t ssrc, ts;
	/* written by the media thread, read by main (atomic) */
	gint64 t_first_echo;
	gint flowing;
	char profile[32];
};

/* webrtc_load.c */
extern struct wl_opts wl_opt;
extern gint64 wl_win_start, wl_win_end; /* monotonic µs; set once by main */
extern struct wl_call *wl_calls;        /* every call, by index */
extern gint wl_flowing;                 /* calls whose first echo came back */
void wl_call_failed(struct wl_call *c, const char *why);
void wl_offer_ready(struct wl_call *c); /* media thread made c->offer: send the INVITE */

/* webrtc_load_sip.c: signaling on the main context */
struct wl_flow;
int wl_sip_start(GMainLoop *loop);
void wl_sip_stop(void);
struct wl_flow *wl_flow_open(int idx);
int wl_flows_registered(int *failed);
bool wl_flow_ready(const struct wl_flow *f);
void wl_sip_invite(struct wl_call *c);
void wl_sip_bye(struct wl_call *c);
int wl_pbx_start(int port); /* the PBX UAS: answers with the echo peer's address */
void wl_pbx_stop(void);

/* webrtc_load_media.c: generator threads and the echo peer */
struct wl_thread *wl_thread_start(int id);
void wl_thread_stop(struct wl_thread *th, struct wl_stats *into);
GMainContext *wl_thread_context(struct wl_thread *th);
void wl_media_prepare(struct wl_call *c); /* on the call's thread: socket or ICE agent */
void wl_media_answer(struct wl_call *c);  /* on the call's thread: c->answer is in */
void wl_media_stop(struct wl_call *c);    /* on the call's thread */
void wl_direct_add(struct wl_thread *th, int n);
int wl_echo_start(int port);
uint64_t wl_echo_stop(void);
/* shared by the plain and the WebRTC paths, media thread only */
void wl_rtp_build(struct wl_call *c, uint8_t *pkt, gint64 now);
void wl_rtp_received(struct wl_thread *th, struct wl_call *c, const uint8_t *pkt, int len);
struct wl_stats *wl_thread_stats(struct wl_thread *th);
/* the thread's epoll set (data.ptr = the call; read by wl_rtc_readable) and a context nobody
 * iterates, where libnice's sources of those calls' sockets are parked */
int wl_thread_epoll(struct wl_thread *th);
GMainContext *wl_thread_park(struct wl_thread *th);
/* where the thread's libnice agents live: timers and signals, run from the thread's tick */
GMainContext *wl_thread_agents(struct wl_thread *th);
void wl_media_flowing(struct wl_call *c); /* DTLS done: start sending */
int wl_sdp_value(const char *sdp, const char *prefix, char *out, size_t cap);

/* webrtc_load_rtc.c: ICE + DTLS-SRTP per call, on the call's thread */
int wl_rtc_global_init(void);
int wl_rtc_prepare(struct wl_call *c);
int wl_rtc_answer(struct wl_call *c);
void wl_rtc_send(struct wl_call *c, uint8_t *pkt, int len);
void wl_rtc_tick(struct wl_call *c, gint64 now);
void wl_rtc_readable(struct wl_call *c); /* fast path: the call's socket, from the epoll set */
void wl_rtc_free(struct wl_call *c);

#endif
