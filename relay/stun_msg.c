/* STUN message decoding and attribute access (RFC 8489 §5, §6.3, §14; RFC 8656 §18). */
#include "relay/stun_msg.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "relay/stun_priv.h"

/*
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0|     STUN Message Type     |         Message Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Magic Cookie                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Transaction ID (96 bits)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

/* Sizes of the attributes we understand; a known one of another size is malformed. */
static const struct {
	uint16_t type;
	uint16_t min, max; /* value bytes, inclusive */
} known[] = {
	{ STUN_ATTR_MAPPED_ADDRESS, 8, 20 },
	{ STUN_ATTR_USERNAME, 1, 513 },
	{ STUN_ATTR_MESSAGE_INTEGRITY, 20, 20 },
	{ STUN_ATTR_ERROR_CODE, 4, 4 + 763 },
	{ STUN_ATTR_UNKNOWN_ATTRIBUTES, 0, 0xfffc },
	{ STUN_ATTR_CHANNEL_NUMBER, 4, 4 },
	{ STUN_ATTR_LIFETIME, 4, 4 },
	{ STUN_ATTR_XOR_PEER_ADDRESS, 8, 20 },
	{ STUN_ATTR_DATA, 0, 0xffff },
	{ STUN_ATTR_REALM, 0, 763 },
	{ STUN_ATTR_NONCE, 0, 763 },
	{ STUN_ATTR_XOR_RELAYED_ADDRESS, 8, 20 },
	{ STUN_ATTR_REQUESTED_ADDRESS_FAMILY, 4, 4 },
	{ STUN_ATTR_EVEN_PORT, 1, 1 },
	{ STUN_ATTR_REQUESTED_TRANSPORT, 4, 4 },
	{ STUN_ATTR_DONT_FRAGMENT, 0, 0 },
	{ STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 16, 32 },
	{ STUN_ATTR_PASSWORD_ALGORITHM, 4, 4 + 0xff },
	{ STUN_ATTR_USERHASH, 32, 32 },
	{ STUN_ATTR_XOR_MAPPED_ADDRESS, 8, 20 },
	{ STUN_ATTR_RESERVATION_TOKEN, 8, 8 },
	{ STUN_ATTR_PRIORITY, 4, 4 },
	{ STUN_ATTR_USE_CANDIDATE, 0, 0 },
	{ STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, 4, 4 },
	{ STUN_ATTR_ADDRESS_ERROR_CODE, 4, 4 + 763 },
	{ STUN_ATTR_PASSWORD_ALGORITHMS, 0, 0xfffc },
	{ STUN_ATTR_ALTERNATE_DOMAIN, 1, 255 },
	{ STUN_ATTR_ICMP, 8, 8 },
	{ STUN_ATTR_SOFTWARE, 0, 763 },
	{ STUN_ATTR_ALTERNATE_SERVER, 8, 20 },
	{ STUN_ATTR_FINGERPRINT, 4, 4 },
	{ STUN_ATTR_ICE_CONTROLLED, 8, 8 },
	{ STUN_ATTR_ICE_CONTROLLING, 8, 8 },
};

static int check_known(uint16_t type, uint16_t len, int *is_known)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (known[i].type != type)
			continue;
		*is_known = 1;
		if (len < known[i].min || len > known[i].max)
			return EBADMSG;
		/* MESSAGE-INTEGRITY-SHA256 may be truncated, in steps of 4 (§14.6) */
		if (type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 && len % 4)
			return EBADMSG;
		return 0;
	}
	*is_known = 0;
	return 0;
}

int stun_msg_frame_len(const uint8_t *buf, size_t len, size_t *total)
{
	uint16_t mlen;

	if (len < STUN_HEADER_LEN)
		return ENODATA;
	mlen = stun_get16(buf + 2);
	if ((buf[0] & 0xc0) || (mlen & 3) || stun_get32(buf + 4) != STUN_MAGIC_COOKIE)
		return EBADMSG;
	*total = STUN_HEADER_LEN + (size_t)mlen;
	return 0;
}

int stun_msg_is_stun(const uint8_t *buf, size_t len)
{
	size_t total;

	return stun_msg_frame_len(buf, len, &total) == 0 && total == len;
}

/* Record one attribute, honouring what may follow the integrity attributes. */
static int add_attr(struct stun_msg *m, uint16_t type, uint16_t alen, const uint8_t *val,
                    size_t off)
{
	int is_known, rc;

	if (m->fp_off)
		return 0; /* nothing counts after FINGERPRINT */
	if (m->mi256_off && type != STUN_ATTR_FINGERPRINT)
		return 0;
	if (m->mi_off && type != STUN_ATTR_MESSAGE_INTEGRITY_SHA256 &&
	    type != STUN_ATTR_FINGERPRINT)
		return 0;
	rc = check_known(type, alen, &is_known);
	if (rc)
		return rc;
	if (!is_known && type < 0x8000 && m->nunknown < STUN_MAX_UNKNOWN)
		m->unknown[m->nunknown++] = type;
	if (m->nattrs == STUN_MAX_ATTRS)
		return EBADMSG;
	m->attrs[m->nattrs++] = (struct stun_attr){ .type = type, .len = alen, .val = val };
	if (type == STUN_ATTR_MESSAGE_INTEGRITY && !m->mi_off)
		m->mi_off = off;
	else if (type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
		m->mi256_off = off;
	else if (type == STUN_ATTR_FINGERPRINT)
		m->fp_off = off;
	return 0;
}

int stun_msg_decode(struct stun_msg *out, const uint8_t *buf, size_t len)
{
	struct stun_msg m;
	size_t total, off;
	uint16_t t;
	int rc;

	rc = stun_msg_frame_len(buf, len, &total);
	if (rc == EBADMSG && len >= STUN_HEADER_LEN && !(buf[0] & 0xc0) &&
	    stun_get32(buf + 4) != STUN_MAGIC_COOKIE)
		return EPROTO;
	if (rc)
		return EBADMSG;
	if (total != len)
		return EBADMSG;

	memset(&m, 0, sizeof(m));
	m.buf = buf;
	m.len = len;
	t = stun_get16(buf);
	m.cls = t & 0x0110;
	m.method = (uint16_t)((t & 0x000f) | ((t & 0x00e0) >> 1) | ((t & 0x3e00) >> 2));
	memcpy(m.tid, buf + 8, STUN_TID_LEN);

	for (off = STUN_HEADER_LEN; off < len;) {
		uint16_t type, alen;
		size_t padded;

		if (len - off < 4)
			return EBADMSG;
		type = stun_get16(buf + off);
		alen = stun_get16(buf + off + 2);
		padded = ((size_t)alen + 3) & ~(size_t)3;
		if (padded > len - off - 4)
			return EBADMSG;
		rc = add_attr(&m, type, alen, buf + off + 4, off);
		if (rc)
			return rc;
		off += 4 + padded;
	}
	*out = m;
	return 0;
}

const struct stun_attr *stun_msg_attr(const struct stun_msg *m, uint16_t type)
{
	for (size_t i = 0; i < m->nattrs; i++) {
		if (m->attrs[i].type == type)
			return &m->attrs[i];
	}
	return NULL;
}

/*
 * MAPPED-ADDRESS layout, XOR variants alike (RFC 8489 §14.1, §14.2):
 * 0x00, family (1 = IPv4, 2 = IPv6), port, then 4 or 16 address bytes.
 * The XOR variants xor the port with the cookie's top 16 bits and the
 * address with the cookie (IPv4) or the cookie and the transaction id (IPv6).
 */
static int read_addr(const struct stun_attr *a, const uint8_t *mask, struct sockaddr_storage *out)
{
	struct sockaddr_storage ss;
	uint16_t port;

	if (!a || a->len < 4)
		return EBADMSG;
	memset(&ss, 0, sizeof(ss));
	port = (uint16_t)(stun_get16(a->val + 2) ^ (mask ? stun_get16(mask) : 0));
	if (a->val[1] == 0x01 && a->len == 8) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		uint8_t *ip = (uint8_t *)&sin->sin_addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		for (int i = 0; i < 4; i++)
			ip[i] = (uint8_t)(a->val[4 + i] ^ (mask ? mask[i] : 0));
	} else if (a->val[1] == 0x02 && a->len == 20) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		for (int i = 0; i < 16; i++)
			sin6->sin6_addr.s6_addr[i] =
			        (uint8_t)(a->val[4 + i] ^ (mask ? mask[i] : 0));
	} else {
		return EBADMSG;
	}
	*out = ss;
	return 0;
}

int stun_attr_xaddr(const struct stun_msg *m, const struct stun_attr *a,
                    struct sockaddr_storage *out)
{
	uint8_t mask[16];

	stun_put32(mask, STUN_MAGIC_COOKIE);
	memcpy(mask + 4, m->tid, STUN_TID_LEN);
	return read_addr(a, mask, out);
}

int stun_attr_addr(const struct stun_attr *a, struct sockaddr_storage *out)
{
	return read_addr(a, NULL, out);
}

int stun_attr_u32(const struct stun_attr *a, uint32_t *out)
{
	if (!a || a->len != 4)
		return EBADMSG;
	*out = stun_get32(a->val);
	return 0;
}

/* ERROR-CODE: 21 reserved bits, class (3 bits, 3..6), number (8 bits, 0..99), reason. */
int stun_attr_error(const struct stun_attr *a, int *code, const char **reason, size_t *rlen)
{
	int cls, num;

	if (!a || a->len < 4)
		return EBADMSG;
	cls = a->val[2] & 0x07;
	num = a->val[3];
	if (cls < 3 || cls > 6 || num > 99)
		return EBADMSG;
	*code = cls * 100 + num;
	*reason = (const char *)a->val + 4;
	*rlen = a->len - 4u;
	return 0;
}
