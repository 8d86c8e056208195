/* Answering STUN requests that need no allocation: Binding (RFC 8489 §7.3). Pure. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* What became of one datagram, for metrics; keep stun_result_names in step. */
enum stun_result {
	STUN_RES_BINDING,      /* Binding success sent */
	STUN_RES_BAD_REQUEST,  /* 400 sent */
	STUN_RES_UNKNOWN_ATTR, /* 420 sent */
	STUN_RES_UNSUPPORTED,  /* 400 for a method not served here */
	STUN_RES_IGNORED,      /* a valid indication or response: no answer */
	STUN_RES_NOT_STUN,     /* dropped: not a STUN message */
	STUN_RES_COUNT,
};

extern const char *const stun_result_names[STUN_RES_COUNT];

struct stun_server_conf {
	const char *software; /* SOFTWARE value, or NULL for none */
};

/*
 * Handle one message in[len] from a client at from. When an answer is due,
 * writes it to out[cap] and sets *outlen (else *outlen = 0). The answer to
 * an unauthenticated request is never more than 32 bytes longer than the
 * request (an IPv6 mapped address plus FINGERPRINT): SOFTWARE and reason
 * phrases go in only when they fit, so the server is no amplifier.
 * Returns the result class.
 */
enum stun_result stun_server_handle(const struct stun_server_conf *conf, const uint8_t *in,
                                    size_t len, const struct sockaddr *from, uint8_t *out,
                                    size_t cap, size_t *outlen);
