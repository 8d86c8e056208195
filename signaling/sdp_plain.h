/* Plain-RTP SDP for media anchoring: read the audio stream of an offer or answer, rewrite it
 * for the other leg (RFC 4566 syntax, RFC 3264 offer/answer, RFC 3605 a=rtcp). Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits of what we take: bytes, lines, m= lines, payload types in one m= line. */
#define SDP_PLAIN_MAX       32768
#define SDP_PLAIN_MAX_LINES 512
#define SDP_PLAIN_MAX_MEDIA 16
#define SDP_PLAIN_MAX_PT    64

/* Sizes of the text fields of struct sdp_plain (with their NUL). */
#define SDP_PLAIN_ADDR_LEN  46 /* INET6_ADDRSTRLEN */
#define SDP_PLAIN_NAME_LEN  32
#define SDP_PLAIN_FMTP_LEN  128
#define SDP_PLAIN_PROTO_LEN 32

enum sdp_plain_dir {
	SDP_PLAIN_SENDRECV,
	SDP_PLAIN_SENDONLY,
	SDP_PLAIN_RECVONLY,
	SDP_PLAIN_INACTIVE,
};

/* The transport profile of the audio m= line. Only AVP and AVPF are plain RTP. */
enum sdp_plain_profile {
	SDP_PLAIN_AVP,       /* RTP/AVP */
	SDP_PLAIN_AVPF,      /* RTP/AVPF */
	SDP_PLAIN_SAVP,      /* RTP/SAVP, RTP/SAVPF: SDES-SRTP (a=crypto) */
	SDP_PLAIN_DTLS_SRTP, /* UDP/TLS/RTP/SAVP(F): WebRTC */
};

struct sdp_plain_codec {
	uint8_t pt;
	char name[SDP_PLAIN_NAME_LEN]; /* rtpmap's, or RFC 3551's for a static pt; "" unknown */
	uint32_t clock;                /* Hz; 0 unknown */
	uint8_t channels;              /* 1 unless rtpmap says otherwise */
	char fmtp[SDP_PLAIN_FMTP_LEN]; /* the a=fmtp parameters, "" none */
};

/* What sdp_plain_read found in the first audio m= line. */
struct sdp_plain {
	unsigned media_index; /* which m= line (0-based) */
	unsigned n_media;     /* m= lines in all */
	char proto[SDP_PLAIN_PROTO_LEN];
	enum sdp_plain_profile profile;
	int family;                    /* AF_INET or AF_INET6 */
	char addr[SDP_PLAIN_ADDR_LEN]; /* media-level c= or else session-level */
	uint16_t port;                 /* 0: stream rejected or disabled */
	char rtcp_addr[SDP_PLAIN_ADDR_LEN];
	uint16_t rtcp_port;               /* a=rtcp (RFC 3605), else port + 1 (0 when port is 0) */
	enum sdp_plain_dir dir;           /* media-level over session-level, c=0.0.0.0 applied */
	bool hold_c0;                     /* c=0.0.0.0 / c=:: (RFC 3264 §8.4, old-style hold) */
	unsigned ptime;                   /* ms, 0 none */
	int dtmf_pt;                      /* telephone-event payload type (RFC 4733), -1 none */
	bool rtcp_mux, ice, dtls, crypto; /* a=rtcp-mux; a=ice-ufrag; a=fingerprint; a=crypto */
	size_t n_codecs;
	struct sdp_plain_codec codecs[SDP_PLAIN_MAX_PT]; /* in m= line order */
};

/* Our side of the leg the rewritten SDP goes to. */
struct sdp_plain_local {
	const char *addr;      /* IPv4 or IPv6 literal we receive RTP on */
	uint16_t port;         /* our RTP port (even, non-zero); RTCP is port + 1 */
	uint64_t sess_id;      /* o= session id, chosen once per leg */
	uint64_t sess_version; /* o= version, incremented by the caller when the content changes */
	const char *codecs;    /* allowed encoding names, "PCMU,PCMA,telephone-event"; NULL all */
	bool to_avp;           /* also take SAVP / DTLS-SRTP input and write RTP/AVP (the caller
	                          terminates the crypto); else only AVP and AVPF are taken */
	bool answer;           /* write the answer to this offer: the direction the other way
	                          round (sendonly ↔ recvonly, RFC 3264 §6.1) */
};

/* libosip2's parser tables; once per process before any read, idempotent. */
void sdp_plain_init(void);

/*
 * Read buf[len] (an SDP body, not NUL-terminated) into *out. 0, or EBADMSG
 * (malformed: libosip2 cannot parse it or a check failed) or EPROTO (well
 * formed but nothing we can anchor: no audio m= line, multicast, too many
 * m= lines or payload types) with *why set to a reason for a log line or a
 * SIP reason phrase; *out is written only on success. Secure profiles are
 * read and reported (profile, crypto, dtls), not refused.
 */
int sdp_plain_read(const char *buf, size_t len, struct sdp_plain *out, const char **why);

/*
 * Rewrite buf[len] for the other leg: o= ours, s=-, one session-level c=
 * ours, the first audio m= line on our port (0 stays 0) with a=rtcp on our
 * port + 1, ICE/DTLS/SDES attributes and BUNDLE dropped, the codec filter
 * applied, every other m= line disabled (port 0), direction kept (with
 * local->answer: answered, as one media-level attribute). On
 * success *out is a NUL-terminated CRLF SDP of *out_len bytes (g_free it).
 * Errors as sdp_plain_read, and EPROTO when no codec is left after the
 * filter or the profile is not plain RTP (the caller answers 488), EINVAL
 * for a bad local.
 */
int sdp_plain_rewrite(const char *buf, size_t len, const struct sdp_plain_local *local, char **out,
                      size_t *out_len, const char **why);

/* The direction that answers an offer of dir (RFC 3264 §6.1): sendonly ↔ recvonly. */
enum sdp_plain_dir sdp_plain_dir_answer(enum sdp_plain_dir dir);

/* "sendrecv", "sendonly", "recvonly" or "inactive". */
const char *sdp_plain_dir_name(enum sdp_plain_dir dir);
