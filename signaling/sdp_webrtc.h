/* WebRTC SDP ⇄ plain SDP for a call with a browser leg (ICE, DTLS-SRTP, BUNDLE, rtcp-mux) and
 * a plain RTP leg toward the PBX, both directions, re-offers included (RFC 8829 JSEP shapes,
 * RFC 8839 ICE, RFC 8842 DTLS, RFC 8843 BUNDLE, RFC 3264 offer/answer, RFC 4733). Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signaling/sdp_plain.h"

/* Limits: candidates and SSRCs kept from one SDP (more are ignored and counted). */
#define SDP_WEBRTC_MAX_CAND 32
#define SDP_WEBRTC_MAX_SSRC 8

/* Sizes of text fields (with their NUL). */
#define SDP_WEBRTC_ICE_LEN   257 /* ice-ufrag and ice-pwd: at most 256 ice-chars (RFC 8839 §5.4) */
#define SDP_WEBRTC_MID_LEN   33  /* a=mid: a token of at most 32 characters */
#define SDP_WEBRTC_HOST_LEN  64  /* candidate address: IP literal or "<name>.local" (mDNS) */
#define SDP_WEBRTC_FOUND_LEN 33  /* candidate foundation: 1-32 ice-chars */
#define SDP_WEBRTC_HASH_LEN  8   /* "sha-256" */
#define SDP_WEBRTC_DIGEST    64  /* bytes of the longest digest (sha-512) */

/*
 * Codecs offered toward the PBX when the caller gives no list: G.711 and
 * DTMF, what every plain PBX takes. Opus only on purpose (a device's codecs,
 * "opus,PCMU,PCMA,telephone-event"): a PBX that does not know it may still
 * pick it when it is first, and there is no transcoding yet.
 */
#define SDP_WEBRTC_CODECS "PCMU,PCMA,telephone-event"

enum sdp_webrtc_setup {
	SDP_WEBRTC_ACTPASS,
	SDP_WEBRTC_ACTIVE, /* also what a missing a=setup means (RFC 4145 §4) */
	SDP_WEBRTC_PASSIVE,
	SDP_WEBRTC_HOLDCONN,
};

enum sdp_webrtc_cand_type {
	SDP_WEBRTC_HOST,
	SDP_WEBRTC_SRFLX,
	SDP_WEBRTC_PRFLX,
	SDP_WEBRTC_RELAY,
};

/* a=candidate (RFC 8839 §5.1), UDP or TCP (RFC 6544). */
struct sdp_webrtc_cand {
	char foundation[SDP_WEBRTC_FOUND_LEN];
	uint16_t component; /* 1 RTP, 2 RTCP */
	bool tcp;           /* else UDP */
	uint32_t priority;
	char addr[SDP_WEBRTC_HOST_LEN]; /* IP literal, or an mDNS name ending in ".local" */
	bool mdns;
	uint16_t port;
	enum sdp_webrtc_cand_type type;
	char raddr[SDP_WEBRTC_HOST_LEN]; /* "" none */
	uint16_t rport;
	char tcptype[8]; /* "active", "passive", "so"; "" */
};

/* a=fingerprint (RFC 8122 §5): hash function name (lower case) and digest. */
struct sdp_webrtc_fp {
	char hash[SDP_WEBRTC_HASH_LEN];
	uint8_t len;
	uint8_t digest[SDP_WEBRTC_DIGEST];
};

/* One codec of the call, by its number on each leg (they differ when a leg chose another). */
struct sdp_webrtc_ptmap {
	uint8_t web_pt, plain_pt;
	char name[SDP_PLAIN_NAME_LEN];
	uint32_t clock;
	uint8_t channels;
};

/* What the media leg needs from the browser's SDP (an offer or an answer). */
struct sdp_webrtc_leg {
	char ufrag[SDP_WEBRTC_ICE_LEN], pwd[SDP_WEBRTC_ICE_LEN];
	bool ice_restart; /* credentials differ from the browser's previous SDP (RFC 8839 §4.4.1.1)
	                   */
	bool ice_lite;    /* the peer is lite (a browser never is) */
	bool trickle;     /* a=ice-options:trickle (RFC 8840) */
	bool end_of_candidates;
	size_t n_cand;
	unsigned cand_ignored; /* beyond the limit, other transports, non-mDNS host names */
	struct sdp_webrtc_cand cand[SDP_WEBRTC_MAX_CAND];
	struct sdp_webrtc_fp fingerprint;
	enum sdp_webrtc_setup setup; /* the browser's */
	bool dtls_client;            /* we send the ClientHello (the browser is passive) */
	bool rtcp_mux;
	char mid[SDP_WEBRTC_MID_LEN]; /* of the audio m= line, "" none */
	bool bundle;                  /* the audio mid is in an a=group:BUNDLE (RFC 8843) */
	enum sdp_plain_dir dir;       /* the browser's */
	unsigned ptime;               /* ms, 0 none */
	size_t n_codecs;
	struct sdp_plain_codec codecs[SDP_PLAIN_MAX_PT]; /* the browser's payload types */
	int dtmf_pt; /* the browser's telephone-event (the 8 kHz one when several), -1 none */
	size_t n_ssrc;
	uint32_t ssrc[SDP_WEBRTC_MAX_SSRC]; /* a=ssrc of the audio m= line, distinct */
};

/* Our side: what the caller's media leg and PBX leg have. */
struct sdp_webrtc_local {
	const char *plain_addr;             /* IP literal we take RTP on from the PBX */
	uint16_t plain_port;                /* even, non-zero; RTCP on port + 1 */
	const char *ufrag, *pwd;            /* our ICE credentials (new ones for an ICE restart) */
	const struct sdp_webrtc_cand *cand; /* our candidates; the first is the default */
	size_t n_cand;
	bool ice_full;           /* false (default): a=ice-lite */
	const char *fingerprint; /* "sha-256 AB:CD:…" of our DTLS certificate */
	const char *codecs;      /* encoding names allowed toward the PBX; NULL SDP_WEBRTC_CODECS */
};

/* What a translation produced. */
struct sdp_webrtc_out {
	bool has_leg; /* the input was the browser's: leg is what it said */
	struct sdp_webrtc_leg leg;
	bool has_pbx; /* the input was the PBX's: pbx is what it said */
	struct sdp_plain pbx;
	size_t n_map; /* codecs of the call: offered (after an offer), agreed (answer) */
	struct sdp_webrtc_ptmap map[SDP_PLAIN_MAX_PT];
	char *sdp; /* for the other side, NUL-terminated CRLF text; g_free */
	size_t sdp_len;
};

/* One per call: o= ids, versions, m= layout toward the browser, payload type history. */
struct sdp_webrtc;

/* web_id and plain_id: the o= session ids of our SDP toward the browser and the PBX. */
struct sdp_webrtc *sdp_webrtc_new(uint64_t web_id, uint64_t plain_id);
void sdp_webrtc_free(struct sdp_webrtc *s);

/* The four steps of a call: what comes in, what goes out. */
enum sdp_webrtc_step {
	SDP_WEBRTC_OFFER_FROM_WEB, /* browser offer or re-offer → leg + plain offer to the PBX */
	SDP_WEBRTC_ANSWER_TO_WEB,  /* PBX answer → WebRTC answer (audio; other m= lines port 0) */
	SDP_WEBRTC_OFFER_TO_WEB,   /* PBX offer or re-offer → WebRTC offer to the browser */
	SDP_WEBRTC_ANSWER_FROM_WEB, /* browser answer → leg + plain answer to the PBX */
};

/*
 * One step: read buf[len] (SDP from the side the step names), check it, and
 * on success fill *out (g_free out->sdp) and move the call's state on; on
 * failure nothing changes and *why says why: EBADMSG malformed, EPROTO
 * usable by no one here (not WebRTC or not plain RTP, no ICE credentials, no
 * fingerprint, "No common codec": the B2BUA answers 488), EINVAL a bad
 * local, an unknown step or an answer without an offer.
 */
int sdp_webrtc_translate(struct sdp_webrtc *s, enum sdp_webrtc_step step, const char *buf,
                         size_t len, const struct sdp_webrtc_local *local,
                         struct sdp_webrtc_out *out, const char **why);

/* Read the WebRTC side of buf (offer or answer) without any state: for checks and tests. */
int sdp_webrtc_read(const char *buf, size_t len, bool answer, struct sdp_webrtc_leg *leg,
                    const char **why);

/* A trickled SDP fragment (RFC 8840 §9, application/trickle-ice-sdpfrag): the ICE generation it
 * belongs to, its candidates with the mid of their m= line, end-of-candidates. */
struct sdp_webrtc_frag {
	char ufrag[SDP_WEBRTC_ICE_LEN]; /* a=ice-ufrag: always present */
	char pwd[SDP_WEBRTC_ICE_LEN];   /* a=ice-pwd, "" none */
	size_t n_cand;
	unsigned cand_ignored; /* beyond the limit, other transports, non-mDNS host names */
	struct sdp_webrtc_cand cand[SDP_WEBRTC_MAX_CAND];
	char cand_mid[SDP_WEBRTC_MAX_CAND][SDP_WEBRTC_MID_LEN]; /* "" the m= line had no a=mid */
	bool end_of_candidates;
};

/*
 * Read a trickle-ice-sdpfrag body buf[len] (not NUL-terminated; CRLF or LF
 * lines). Candidates must sit under an m= line (RFC 8840 §9); ice-ufrag and
 * ice-pwd may be at either level but must agree. 0 and *out filled, or
 * EBADMSG and *why (no ufrag, a bad line, a bad candidate, NUL bytes, …).
 */
int sdp_webrtc_frag_read(const char *buf, size_t len, struct sdp_webrtc_frag *out,
                         const char **why);
