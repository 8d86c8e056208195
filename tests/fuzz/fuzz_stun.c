/* libFuzzer target for the STUN codec and server: decode, read, re-encode, answer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "relay/stun_ice.h"
#include "relay/stun_msg.h"
#include "relay/stun_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(const struct stun_msg *m)
{
	struct sockaddr_storage ss;
	const char *reason;
	size_t rlen;
	uint32_t u;
	int code;

	for (size_t i = 0; i < m->nattrs; i++) {
		const struct stun_attr *a = &m->attrs[i];

		(void)stun_attr_xaddr(m, a, &ss);
		(void)stun_attr_addr(a, &ss);
		(void)stun_attr_u32(a, &u);
		if (stun_attr_error(a, &code, &reason, &rlen) == 0 && (code < 300 || code > 699))
			abort();
	}
	(void)stun_msg_check_fingerprint(m);
	(void)stun_msg_check_integrity(m, (const uint8_t *)"key", 3);
	(void)stun_msg_check_integrity_sha256(m, (const uint8_t *)"key", 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536 + 64];
	struct stun_msg m, again;
	struct stun_enc e;
	size_t len;

	/* whatever arrives, an answer decodes and is no amplifier */
	static const struct stun_server_conf conf = { .software = "fuzz" };
	struct sockaddr_in6 from = { .sin6_family = AF_INET6, .sin6_port = 4660 };
	static uint8_t answer[2048];
	size_t alen = 0;

	from.sin6_addr.s6_addr[15] = 1;
	(void)stun_server_handle(&conf, data, size, (struct sockaddr *)&from, answer,
	                         sizeof(answer), &alen);
	if (alen && (alen > size + 32 || stun_msg_decode(&again, answer, alen) != 0))
		abort();

	/* an ICE-lite leg's check answer: it verifies, and is no amplifier either */
	struct stun_ice_check chk;
	if (stun_ice_answer(data, size, "evtj", "VOkJxbRl1RmTxUk/WvJxBt", (struct sockaddr *)&from,
	                    answer, sizeof(answer), &alen, &chk) == 0 &&
	    (alen > size + 32 || stun_msg_decode(&again, answer, alen) != 0 ||
	     stun_msg_check_integrity(&again, (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBt", 22) != 0))
		abort();

	if (stun_msg_decode(&m, data, size) != 0)
		return 0;
	read_all(&m);

	/* what we decoded, we can write back and read the same attributes again */
	stun_enc_start(&e, out, sizeof(out), m.method, m.cls, m.tid);
	size_t kept = 0;
	for (size_t i = 0; i < m.nattrs; i++) {
		uint16_t t = m.attrs[i].type;

		if (t == STUN_ATTR_MESSAGE_INTEGRITY || t == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 ||
		    t == STUN_ATTR_FINGERPRINT)
			continue;
		stun_enc_bytes(&e, t, m.attrs[i].val, m.attrs[i].len);
		kept++;
	}
	/* a FINGERPRINT after STUN_MAX_ATTRS others would be one attribute too many */
	if (kept == STUN_MAX_ATTRS)
		return 0;
	stun_enc_fingerprint(&e);
	if (stun_enc_end(&e, &len) != 0)
		return 0; /* the original was near the 64 KiB limit */
	if (stun_msg_decode(&again, out, len) != 0 || again.method != m.method ||
	    again.cls != m.cls || stun_msg_check_fingerprint(&again) != 0)
		abort();
	return 0;
}
