/* An ICE-lite agent's answer to the peer's connectivity and consent checks (RFC 8445 §7.3,
 * RFC 7675 §5.1), over the STUN codec. Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* What a check asked for, when it was answered. */
struct stun_ice_check {
	bool use_candidate; /* USE-CANDIDATE: the controlling peer nominates this pair */
	uint32_t priority;  /* PRIORITY: of the peer's candidate as it would be prflx */
};

/*
 * req[len] arrived from `from` on the socket of our candidate. When it is a
 * Binding request for our credentials (USERNAME "ufrag:<theirs>",
 * MESSAGE-INTEGRITY keyed with pwd, FINGERPRINT, ICE-CONTROLLING) the
 * success answer goes to out[cap] (XOR-MAPPED-ADDRESS of from,
 * MESSAGE-INTEGRITY with pwd, FINGERPRINT): 0 with *outlen and *chk.
 * Otherwise nothing is written and nothing is to be sent:
 *   EBADMSG  not STUN, not a Binding request, malformed, or no FINGERPRINT
 *   EACCES   another ufrag, or an integrity that does not verify with pwd
 *   EPROTO   no ICE-CONTROLLING: a lite agent is always controlled, and a
 *            peer that is not controlling has no business checking it
 */
int stun_ice_answer(const uint8_t *req, size_t len, const char *ufrag, const char *pwd,
                    const struct sockaddr *from, uint8_t *out, size_t cap, size_t *outlen,
                    struct stun_ice_check *chk);
