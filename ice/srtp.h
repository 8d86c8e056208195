/* SRTP contexts of one WebRTC media leg over libsrtp2 (RFC 3711, RFC 7714 AEAD, rtcp-mux). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The DTLS-SRTP protection profiles we negotiate (RFC 5764 §4.1.2, RFC 7714
 * §14.2), in our order of preference. The values are the IANA ids.
 */
enum ice_srtp_profile {
	ICE_SRTP_AES128_CM_SHA1_80 = 0x0001,
	ICE_SRTP_AEAD_AES_128_GCM = 0x0007,
	ICE_SRTP_AEAD_AES_256_GCM = 0x0008,
};

#define ICE_SRTP_KEY_MAX    32 /* AES-256 master key */
#define ICE_SRTP_SALT_MAX   14 /* AES-CM master salt; the AEAD ones are 12 */
#define ICE_SRTP_MASTER_MAX (ICE_SRTP_KEY_MAX + ICE_SRTP_SALT_MAX)
/* Room a packet needs after its end for protect: RTCP's E+index word and a 16-byte tag. */
#define ICE_SRTP_TRAILER_MAX 20

/* One direction's master key and salt, as libsrtp2 takes them: key then salt. */
struct ice_srtp_master {
	uint8_t bytes[ICE_SRTP_MASTER_MAX];
	uint8_t key_len, salt_len;
};

/* What DTLS-SRTP exports (RFC 5764 §4.2): the profile and the key of each direction. */
struct ice_srtp_keys {
	enum ice_srtp_profile profile;
	struct ice_srtp_master local;  /* protects what we send */
	struct ice_srtp_master remote; /* checks what the peer sends */
};

enum ice_srtp_kind { ICE_SRTP_RTP, ICE_SRTP_RTCP };

enum ice_srtp_err {
	ICE_SRTP_ERR_AUTH,       /* tag did not verify: forged, corrupted, wrong key */
	ICE_SRTP_ERR_REPLAY,     /* index seen already or older than the replay window */
	ICE_SRTP_ERR_BAD_HEADER, /* not RTP/RTCP v2, too short, or no room for the trailer */
	ICE_SRTP_ERR_NO_KEYS,    /* a packet before the keys were set: never sent nor accepted */
	ICE_SRTP_ERR_OTHER,      /* anything else libsrtp2 refused */
	ICE_SRTP_ERR_COUNT,
};
extern const char *const ice_srtp_err_names[ICE_SRTP_ERR_COUNT];

/* Counters of one context; written and read on the thread that owns it. */
struct ice_srtp_stats {
	uint64_t protected_rtp, protected_rtcp, unprotected_rtp, unprotected_rtcp;
	uint64_t errors[ICE_SRTP_ERR_COUNT]; /* protect and unprotect together */
};

struct ice_srtp;

/*
 * Once per process, before any context: libsrtp2's own srtp_init, guarded
 * so any thread may call it any number of times. 0, or EPROTO when libsrtp2
 * failed its self-tests.
 */
int ice_srtp_global_init(void);

/* The profile's name as in RFC 5764/7714 ("SRTP_AEAD_AES_128_GCM"); NULL for an unknown one. */
const char *ice_srtp_profile_name(enum ice_srtp_profile p);

/* Master key and salt lengths of a profile: 0, or EPROTO for an unknown one. */
int ice_srtp_profile_lengths(enum ice_srtp_profile p, size_t *key_len, size_t *salt_len);

/* Whether this libsrtp2 build can run the profile (AEAD GCM is a build option of libsrtp2). */
bool ice_srtp_profile_supported(enum ice_srtp_profile p);

/*
 * A context without keys: every protect and unprotect fails with ENOTCONN
 * until ice_srtp_set_keys, so no media can pass before DTLS completes. One
 * thread owns it (the leg's media worker). Never fails (GLib aborts on OOM).
 */
struct ice_srtp *ice_srtp_new(void);

/*
 * Install keys (inbound and outbound sessions, any SSRC, replay window of
 * 1024 packets). Keys already set are replaced (a DTLS renegotiation is not
 * supported, so this happens in tests only). The caller's keys are not
 * kept; wipe them. 0, EPROTO for an unknown profile or lengths, or EIO when
 * libsrtp2 refused them (then the context stays without keys).
 */
int ice_srtp_set_keys(struct ice_srtp *s, const struct ice_srtp_keys *keys);

/* Whether keys are set, and which profile. */
bool ice_srtp_ready(const struct ice_srtp *s, enum ice_srtp_profile *profile);

/*
 * Protect one RTP or RTCP packet in place (rtcp-mux: both on one context).
 * *len is the packet's length in and out; cap the buffer's capacity, which
 * must leave ICE_SRTP_TRAILER_MAX bytes after the packet. 0; or ENOTCONN
 * (no keys), EBADMSG (bad header or no room), EALREADY (an RTP sequence
 * number protected before), EIO (other). On error *len is unchanged and the
 * packet must be dropped.
 */
int ice_srtp_protect(struct ice_srtp *s, enum ice_srtp_kind kind, uint8_t *buf, size_t *len,
                     size_t cap);

/*
 * Check and decrypt one SRTP or SRTCP packet in place; *len shrinks to the
 * plain packet. 0; or ENOTCONN (no keys), EBADMSG (bad header), EACCES
 * (authentication failed), EALREADY (replayed or too old), EIO (other).
 * On error the buffer's content is unspecified and the packet must be dropped.
 */
int ice_srtp_unprotect(struct ice_srtp *s, enum ice_srtp_kind kind, uint8_t *buf, size_t *len);

const struct ice_srtp_stats *ice_srtp_stats(const struct ice_srtp *s);

/* Free the sessions and wipe the keys. NULL is fine. */
void ice_srtp_free(struct ice_srtp *s);
