/* An ICE-lite agent's answer to connectivity and consent checks (RFC 8445 §7.3, RFC 7675). */
#include "relay/stun_ice.h"

#include <errno.h>
#include <string.h>

#include "relay/stun_msg.h"

/* USERNAME is "<ours>:<theirs>" (RFC 8445 §7.2.2): ours must match, theirs is whatever it says. */
static bool for_us(const struct stun_attr *user, const char *ufrag)
{
	size_t n = strlen(ufrag);

	return user && n && user->len > n && memcmp(user->val, ufrag, n) == 0 &&
	       user->val[n] == ':';
}

int stun_ice_answer(const uint8_t *req, size_t len, const char *ufrag, const char *pwd,
                    const struct sockaddr *from, uint8_t *out, size_t cap, size_t *outlen,
                    struct stun_ice_check *chk)
{
	struct stun_msg m;
	struct stun_enc e;
	const struct stun_attr *prio;
	size_t klen = strlen(pwd);

	if (stun_msg_decode(&m, req, len) != 0 || m.cls != STUN_REQUEST ||
	    m.method != STUN_BINDING || m.nunknown)
		return EBADMSG;
	if (stun_msg_check_fingerprint(&m) != 0)
		return EBADMSG;
	if (!for_us(stun_msg_attr(&m, STUN_ATTR_USERNAME), ufrag) ||
	    stun_msg_check_integrity(&m, (const uint8_t *)pwd, klen) != 0)
		return EACCES;
	if (!stun_msg_attr(&m, STUN_ATTR_ICE_CONTROLLING))
		return EPROTO;
	prio = stun_msg_attr(&m, STUN_ATTR_PRIORITY);
	chk->use_candidate = stun_msg_attr(&m, STUN_ATTR_USE_CANDIDATE) != NULL;
	chk->priority = 0;
	if (prio)
		(void)stun_attr_u32(prio, &chk->priority);

	stun_enc_start(&e, out, cap, STUN_BINDING, STUN_SUCCESS, m.tid);
	stun_enc_xaddr(&e, STUN_ATTR_XOR_MAPPED_ADDRESS, from);
	stun_enc_integrity(&e, (const uint8_t *)pwd, klen);
	stun_enc_fingerprint(&e);
	return stun_enc_end(&e, outlen) ? EBADMSG : 0;
}
