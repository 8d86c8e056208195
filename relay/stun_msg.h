/* STUN message codec (RFC 8489, RFC 5389 clients; TURN attributes of RFC 8656). Pure. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HEADER_LEN   20
#define STUN_MAGIC_COOKIE 0x2112A442u
#define STUN_TID_LEN      12
#define STUN_MAX_ATTRS    40  /* more in one message is refused as malformed */
#define STUN_MAX_UNKNOWN  8   /* unknown comprehension-required types kept for a 420 */
#define STUN_MAX_USERNAME 513 /* bytes, RFC 8489 §14.3 */

/* RFC 8489 §5: the class bits C1 C0 sit at type bits 8 and 4 */
enum stun_class {
	STUN_REQUEST = 0x0000,
	STUN_INDICATION = 0x0010,
	STUN_SUCCESS = 0x0100,
	STUN_ERROR = 0x0110,
};

enum stun_method {
	STUN_BINDING = 0x001,
	STUN_ALLOCATE = 0x003, /* RFC 8656 */
	STUN_REFRESH = 0x004,
	STUN_SEND = 0x006,
	STUN_DATA = 0x007,
	STUN_CREATE_PERMISSION = 0x008,
	STUN_CHANNEL_BIND = 0x009,
};

enum stun_attr_type {
	STUN_ATTR_MAPPED_ADDRESS = 0x0001,
	STUN_ATTR_USERNAME = 0x0006,
	STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
	STUN_ATTR_ERROR_CODE = 0x0009,
	STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
	STUN_ATTR_CHANNEL_NUMBER = 0x000C,
	STUN_ATTR_LIFETIME = 0x000D,
	STUN_ATTR_XOR_PEER_ADDRESS = 0x0012,
	STUN_ATTR_DATA = 0x0013,
	STUN_ATTR_REALM = 0x0014,
	STUN_ATTR_NONCE = 0x0015,
	STUN_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
	STUN_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017,
	STUN_ATTR_EVEN_PORT = 0x0018,
	STUN_ATTR_REQUESTED_TRANSPORT = 0x0019,
	STUN_ATTR_DONT_FRAGMENT = 0x001A,
	STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
	STUN_ATTR_PASSWORD_ALGORITHM = 0x001D,
	STUN_ATTR_USERHASH = 0x001E,
	STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	STUN_ATTR_RESERVATION_TOKEN = 0x0022,
	STUN_ATTR_PRIORITY = 0x0024,
	STUN_ATTR_USE_CANDIDATE = 0x0025,
	STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY = 0x8000,
	STUN_ATTR_ADDRESS_ERROR_CODE = 0x8001,
	STUN_ATTR_PASSWORD_ALGORITHMS = 0x8002,
	STUN_ATTR_ALTERNATE_DOMAIN = 0x8003,
	STUN_ATTR_ICMP = 0x8004,
	STUN_ATTR_SOFTWARE = 0x8022,
	STUN_ATTR_ALTERNATE_SERVER = 0x8023,
	STUN_ATTR_FINGERPRINT = 0x8028,
	STUN_ATTR_ICE_CONTROLLED = 0x8029,
	STUN_ATTR_ICE_CONTROLLING = 0x802A,
};

/* Error codes RFC 8489 §14.8 and RFC 8656 §18 name, as sent in ERROR-CODE */
enum stun_error {
	STUN_ERR_TRY_ALTERNATE = 300,
	STUN_ERR_BAD_REQUEST = 400,
	STUN_ERR_UNAUTHORIZED = 401,
	STUN_ERR_FORBIDDEN = 403,
	STUN_ERR_UNKNOWN_ATTRIBUTE = 420,
	STUN_ERR_ALLOCATION_MISMATCH = 437,
	STUN_ERR_STALE_NONCE = 438,
	STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED = 440,
	STUN_ERR_WRONG_CREDENTIALS = 441,
	STUN_ERR_UNSUPPORTED_TRANSPORT = 442,
	STUN_ERR_PEER_ADDRESS_FAMILY_MISMATCH = 443,
	STUN_ERR_ALLOCATION_QUOTA = 486,
	STUN_ERR_ROLE_CONFLICT = 487,
	STUN_ERR_SERVER_ERROR = 500,
	STUN_ERR_INSUFFICIENT_CAPACITY = 508,
};

/* PASSWORD-ALGORITHM values, RFC 8489 §18.5 */
enum stun_pw_alg {
	STUN_PW_MD5 = 0x0001,
	STUN_PW_SHA256 = 0x0002,
};

/* One attribute: a view into the decoded buffer. */
struct stun_attr {
	uint16_t type;
	uint16_t len;
	const uint8_t *val;
};

/*
 * A decoded message: views into the caller's buffer, which must outlive it.
 * Attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and
 * FINGERPRINT, and anything after FINGERPRINT, are not recorded (RFC 8489
 * §14.5, §14.6, §14.7).
 */
struct stun_msg {
	const uint8_t *buf;
	size_t len;
	uint16_t method;
	uint16_t cls;
	uint8_t tid[STUN_TID_LEN];
	size_t nattrs;
	struct stun_attr attrs[STUN_MAX_ATTRS];
	size_t nunknown; /* comprehension-required types we do not know */
	uint16_t unknown[STUN_MAX_UNKNOWN];
	/* offsets of the attribute headers, 0 when absent */
	size_t mi_off, mi256_off, fp_off;
};

/*
 * Length of the STUN message starting at buf (header plus body) once at
 * least STUN_HEADER_LEN bytes are there: for stream framing (RFC 8489 §6.2.2).
 * Returns 0 and *total, ENODATA when fewer than 20 bytes are there, or
 * EBADMSG when the header cannot be STUN.
 */
int stun_msg_frame_len(const uint8_t *buf, size_t len, size_t *total);

/* Quick test for demultiplexing: top bits 00, magic cookie, length fits. */
int stun_msg_is_stun(const uint8_t *buf, size_t len);

/*
 * Decode exactly one message of len bytes into m. Returns 0, EBADMSG
 * (malformed: bad header, length, attribute framing, a known attribute of
 * the wrong size, too many attributes) or EPROTO (no magic cookie: an RFC
 * 3489 client). m is written only on success.
 */
int stun_msg_decode(struct stun_msg *m, const uint8_t *buf, size_t len);

/* First attribute of type, or NULL (later duplicates are ignored). */
const struct stun_attr *stun_msg_attr(const struct stun_msg *m, uint16_t type);

/* XOR-MAPPED/XOR-PEER/XOR-RELAYED-ADDRESS into out. 0 or EBADMSG (bad family/length). */
int stun_attr_xaddr(const struct stun_msg *m, const struct stun_attr *a,
                    struct sockaddr_storage *out);
/* MAPPED-ADDRESS or ALTERNATE-SERVER (not xor'd). 0 or EBADMSG. */
int stun_attr_addr(const struct stun_attr *a, struct sockaddr_storage *out);
/* A 32-bit value (LIFETIME, PRIORITY, ...). 0 or EBADMSG. */
int stun_attr_u32(const struct stun_attr *a, uint32_t *out);
/* ERROR-CODE: *code = class * 100 + number, reason not NUL-terminated. 0 or EBADMSG. */
int stun_attr_error(const struct stun_attr *a, int *code, const char **reason, size_t *rlen);

/*
 * FINGERPRINT check: 0 when present and right, ENOENT when absent, EBADMSG
 * when wrong.
 */
int stun_msg_check_fingerprint(const struct stun_msg *m);

/*
 * MESSAGE-INTEGRITY (HMAC-SHA1) or MESSAGE-INTEGRITY-SHA256 check with key:
 * 0 when right, ENOENT when the attribute is absent, EACCES when wrong.
 * Compared in constant time.
 */
int stun_msg_check_integrity(const struct stun_msg *m, const uint8_t *key, size_t keylen);
int stun_msg_check_integrity_sha256(const struct stun_msg *m, const uint8_t *key, size_t keylen);

/*
 * Long-term credential key (RFC 8489 §9.2.2): MD5 or SHA-256 of
 * "user:realm:password" (the caller has applied OpaqueString to the
 * password). key must hold 32 bytes; *keylen gets 16 or 32. 0 or EINVAL.
 */
int stun_key_long_term(enum stun_pw_alg alg, const char *user, const char *realm,
                       const char *password, uint8_t key[32], size_t *keylen);

/* USERHASH (RFC 8489 §14.4): SHA-256 of "user:realm" into out. */
int stun_userhash(const char *user, const char *realm, uint8_t out[32]);

/* Building messages. Errors are sticky: check once with stun_enc_end. */
struct stun_enc {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;
};

/* Start a message of method and class with transaction id tid in buf[cap]. */
void stun_enc_start(struct stun_enc *e, uint8_t *buf, size_t cap, uint16_t method, uint16_t cls,
                    const uint8_t tid[STUN_TID_LEN]);
void stun_enc_bytes(struct stun_enc *e, uint16_t type, const void *val, size_t len);
void stun_enc_u32(struct stun_enc *e, uint16_t type, uint32_t v);
/* XOR-*-ADDRESS from sa (AF_INET or AF_INET6) with the message's tid. */
void stun_enc_xaddr(struct stun_enc *e, uint16_t type, const struct sockaddr *sa);
void stun_enc_addr(struct stun_enc *e, uint16_t type, const struct sockaddr *sa);
/* ERROR-CODE with code 300..699 and a reason phrase (at most 763 bytes). */
void stun_enc_error(struct stun_enc *e, int code, const char *reason);
void stun_enc_unknown(struct stun_enc *e, const uint16_t *types, size_t n);
/* These three close the message in this order; no attribute may follow them. */
void stun_enc_integrity(struct stun_enc *e, const uint8_t *key, size_t keylen);
void stun_enc_integrity_sha256(struct stun_enc *e, const uint8_t *key, size_t keylen);
void stun_enc_fingerprint(struct stun_enc *e);
/* 0 and the message length in *len, or ENOBUFS / EINVAL from any step. */
int stun_enc_end(const struct stun_enc *e, size_t *len);
