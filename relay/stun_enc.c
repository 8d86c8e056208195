/* STUN message encoding (RFC 8489 §5, §14), with bounded writes and sticky errors. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "relay/stun_msg.h"
#include "relay/stun_priv.h"

static void set_len(struct stun_enc *e)
{
	stun_put16(e->buf + 2, (uint16_t)(e->len - STUN_HEADER_LEN));
}

void stun_enc_start(struct stun_enc *e, uint8_t *buf, size_t cap, uint16_t method, uint16_t cls,
                    const uint8_t tid[STUN_TID_LEN])
{
	uint16_t t = (uint16_t)((method & 0x000f) | ((method & 0x0070) << 1) |
	                        ((method & 0x0f80) << 2) | (cls & 0x0110));

	e->buf = buf;
	e->cap = cap;
	e->len = 0;
	e->err = 0;
	if (cap < STUN_HEADER_LEN || method > 0x0fff) {
		e->err = cap < STUN_HEADER_LEN ? ENOBUFS : EINVAL;
		return;
	}
	stun_put16(buf, t);
	stun_put32(buf + 4, STUN_MAGIC_COOKIE);
	memcpy(buf + 8, tid, STUN_TID_LEN);
	e->len = STUN_HEADER_LEN;
	set_len(e);
}

/* Reserve an attribute of len value bytes; returns where the value goes, or NULL. */
static uint8_t *reserve(struct stun_enc *e, uint16_t type, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;
	uint8_t *v;

	if (e->err)
		return NULL;
	if (len > 0xffff || e->len + 4 + padded > 0xffff + STUN_HEADER_LEN) {
		e->err = EINVAL;
		return NULL;
	}
	if (padded + 4 > e->cap - e->len) {
		e->err = ENOBUFS;
		return NULL;
	}
	stun_put16(e->buf + e->len, type);
	stun_put16(e->buf + e->len + 2, (uint16_t)len);
	v = e->buf + e->len + 4;
	memset(v + len, 0, padded - len);
	e->len += 4 + padded;
	set_len(e);
	return v;
}

void stun_enc_bytes(struct stun_enc *e, uint16_t type, const void *val, size_t len)
{
	uint8_t *v = reserve(e, type, len);

	if (v && len)
		memcpy(v, val, len);
}

void stun_enc_u32(struct stun_enc *e, uint16_t type, uint32_t val)
{
	uint8_t *v = reserve(e, type, 4);

	if (v)
		stun_put32(v, val);
}

static void put_addr(struct stun_enc *e, uint16_t type, const struct sockaddr *sa, int xor)
{
	uint8_t mask[16] = { 0 };
	const uint8_t *ip;
	uint16_t port;
	size_t n;
	uint8_t *v;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		ip = (const uint8_t *)&sin->sin_addr;
		port = ntohs(sin->sin_port);
		n = 4;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		ip = sin6->sin6_addr.s6_addr;
		port = ntohs(sin6->sin6_port);
		n = 16;
	} else {
		if (!e->err)
			e->err = EINVAL;
		return;
	}
	if (xor&&e->len >= STUN_HEADER_LEN) {
		stun_put32(mask, STUN_MAGIC_COOKIE);
		memcpy(mask + 4, e->buf + 8, STUN_TID_LEN);
	}
	v = reserve(e, type, 4 + n);
	if (!v)
		return;
	v[0] = 0;
	v[1] = n == 4 ? 0x01 : 0x02;
	stun_put16(v + 2, (uint16_t)(port ^ stun_get16(mask)));
	for (size_t i = 0; i < n; i++)
		v[4 + i] = ip[i] ^ mask[i];
}

void stun_enc_xaddr(struct stun_enc *e, uint16_t type, const struct sockaddr *sa)
{
	put_addr(e, type, sa, 1);
}

void stun_enc_addr(struct stun_enc *e, uint16_t type, const struct sockaddr *sa)
{
	put_addr(e, type, sa, 0);
}

void stun_enc_error(struct stun_enc *e, int code, const char *reason)
{
	size_t rlen = strlen(reason);
	uint8_t *v;

	if (code < 300 || code > 699 || rlen > 763) {
		if (!e->err)
			e->err = EINVAL;
		return;
	}
	v = reserve(e, STUN_ATTR_ERROR_CODE, 4 + rlen);
	if (!v)
		return;
	v[0] = v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	memcpy(v + 4, reason, rlen);
}

void stun_enc_unknown(struct stun_enc *e, const uint16_t *types, size_t n)
{
	uint8_t *v = reserve(e, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n);

	for (size_t i = 0; v && i < n; i++)
		stun_put16(v + 2 * i, types[i]);
}

static void put_mac(struct stun_enc *e, uint16_t type, int sha256, const uint8_t *key,
                    size_t keylen)
{
	size_t off = e->len, maclen = sha256 ? 32 : 20;
	uint8_t mac[32];
	uint8_t *v = reserve(e, type, maclen);

	if (!v)
		return;
	/* the length field already counts this attribute, as the MAC wants */
	if (stun_hmac(sha256, key, keylen, e->buf, off, (uint16_t)(e->len - STUN_HEADER_LEN),
	              mac)) {
		e->err = EPROTO;
		return;
	}
	memcpy(v, mac, maclen);
}

void stun_enc_integrity(struct stun_enc *e, const uint8_t *key, size_t keylen)
{
	put_mac(e, STUN_ATTR_MESSAGE_INTEGRITY, 0, key, keylen);
}

void stun_enc_integrity_sha256(struct stun_enc *e, const uint8_t *key, size_t keylen)
{
	put_mac(e, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 1, key, keylen);
}

void stun_enc_fingerprint(struct stun_enc *e)
{
	size_t off = e->len;
	uint8_t *v = reserve(e, STUN_ATTR_FINGERPRINT, 4);

	if (v)
		stun_put32(v, stun_fingerprint(e->buf, off));
}

int stun_enc_end(const struct stun_enc *e, size_t *len)
{
	if (e->err)
		return e->err;
	*len = e->len;
	return 0;
}
