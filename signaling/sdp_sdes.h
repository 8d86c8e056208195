/* SDP Security Descriptions for the PBX leg: one a=crypto value in and out (RFC 4568 §9.1). Pure.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The one suite offered and taken toward a PBX (RFC 4568 §6.2.1): AES-CM, 80-bit tag. */
#define SDP_SDES_SUITE   "AES_CM_128_HMAC_SHA1_80"
#define SDP_SDES_KEY_LEN 30 /* 16-byte master key then 14-byte master salt */
#define SDP_SDES_MAX     96 /* the longest value sdp_sdes_format writes, with its NUL */

struct sdp_sdes {
	uint32_t tag; /* 1-999999999: the answer repeats the offer's (§5.1) */
	uint8_t key[SDP_SDES_KEY_LEN];
};

/*
 * Read the value of an a=crypto attribute (what follows "a=crypto:"):
 * "<tag> <suite> inline:<key||salt base64>[|<lifetime>][|<mki>:<len>]
 * [<session params>]". 0 and *out; EPROTO when it is well formed but not
 * usable here (another suite, an MKI, several keys, a lifetime under 2^20,
 * any session parameter such as UNENCRYPTED_SRTP: §6.3, §7.1.1 say such a
 * line must not be chosen); EBADMSG when malformed. *why names the reason;
 * out is written only on success.
 */
int sdp_sdes_parse(const char *value, struct sdp_sdes *out, const char **why);

/* "<tag> AES_CM_128_HMAC_SHA1_80 inline:<base64>" into buf[cap]: the length, 0 if too small. */
size_t sdp_sdes_format(const struct sdp_sdes *c, char *buf, size_t cap);
