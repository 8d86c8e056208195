/* Helpers shared by the STUN decoder, encoder and integrity code. */
#pragma once

#include <stddef.h>
#include <stdint.h>

static inline uint16_t stun_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t stun_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void stun_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void stun_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* FINGERPRINT value: CRC-32 of buf[0..len) XOR 0x5354554e (RFC 8489 §14.7). */
uint32_t stun_fingerprint(const uint8_t *buf, size_t len);

/*
 * HMAC (SHA-1 when sha256 is 0, else SHA-256) of a message prefix
 * buf[0..len) whose header length field reads as hdr_len instead: the
 * integrity covers the message "as if" it ended after the MAC attribute.
 * out gets 20 or 32 bytes. Returns 0 or EPROTO.
 */
int stun_hmac(int sha256, const uint8_t *key, size_t keylen, const uint8_t *buf, size_t len,
              uint16_t hdr_len, uint8_t out[32]);
