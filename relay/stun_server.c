/* Binding requests and error answers for the STUN/TURN listeners (RFC 8489 §6.3, §7.3). */
#include "relay/stun_server.h"

#include <netinet/in.h>
#include <string.h>

#include "relay/peer_policy.h"
#include "relay/stun_msg.h"

const char *const stun_result_names[STUN_RES_COUNT] = {
	[STUN_RES_BINDING] = "binding",
	[STUN_RES_BAD_REQUEST] = "bad_request",
	[STUN_RES_UNKNOWN_ATTR] = "unknown_attribute",
	[STUN_RES_UNSUPPORTED] = "unsupported_method",
	[STUN_RES_IGNORED] = "ignored",
	[STUN_RES_NOT_STUN] = "not_stun",
};

static size_t finish(struct stun_enc *e, int fingerprint)
{
	size_t n = 0;

	if (fingerprint)
		stun_enc_fingerprint(e);
	return stun_enc_end(e, &n) == 0 ? n : 0;
}

/* Most an answer may add to the request: an IPv6 XOR-MAPPED-ADDRESS and FINGERPRINT. */
#define AMPLIFICATION_SLACK (24 + 8)

static enum stun_result error_answer(const struct stun_msg *m, size_t req_len, int code,
                                     const char *reason, enum stun_result res, uint8_t *out,
                                     size_t cap, size_t *outlen)
{
	size_t fixed = STUN_HEADER_LEN + 8 + (m->fp_off ? 8 : 0) +
	               (code == STUN_ERR_UNKNOWN_ATTRIBUTE ? 4 + ((2 * m->nunknown + 3) & ~3u) : 0);
	struct stun_enc e;

	/* the reason phrase is the first thing to go when the answer would outgrow the request */
	if (fixed + ((strlen(reason) + 3) & ~(size_t)3) > req_len + AMPLIFICATION_SLACK)
		reason = "";
	stun_enc_start(&e, out, cap, m->method, STUN_ERROR, m->tid);
	stun_enc_error(&e, code, reason);
	if (code == STUN_ERR_UNKNOWN_ATTRIBUTE)
		stun_enc_unknown(&e, m->unknown, m->nunknown);
	*outlen = finish(&e, m->fp_off != 0);
	return res;
}

/* RFC 8489 §7.3.1: a request whose header is STUN but whose body is not gets a 400. */
static int header_is_request(const uint8_t *in, size_t len, struct stun_msg *hdr)
{
	size_t total;

	if (stun_msg_frame_len(in, len, &total) != 0 || (in[1] & 0x10) || (in[0] & 0x01))
		return 0;
	memset(hdr, 0, sizeof(*hdr));
	hdr->method = (uint16_t)((in[1] & 0x0f) | ((in[1] & 0xe0) >> 1) | ((in[0] & 0x3e) << 6));
	hdr->cls = STUN_REQUEST;
	memcpy(hdr->tid, in + 8, STUN_TID_LEN);
	return 1;
}

enum stun_result stun_server_handle(const struct stun_server_conf *conf, const uint8_t *in,
                                    size_t len, const struct sockaddr *from, uint8_t *out,
                                    size_t cap, size_t *outlen)
{
	struct sockaddr_storage mapped;
	struct stun_msg m;
	struct stun_enc e;
	int fp;

	*outlen = 0;
	if (stun_msg_decode(&m, in, len) != 0) {
		if (!header_is_request(in, len, &m))
			return STUN_RES_NOT_STUN;
		return error_answer(&m, len, STUN_ERR_BAD_REQUEST, "Malformed message",
		                    STUN_RES_BAD_REQUEST, out, cap, outlen);
	}
	if (m.cls != STUN_REQUEST)
		return STUN_RES_IGNORED;
	/* a FINGERPRINT that is present must be right (§14.7) */
	fp = m.fp_off != 0;
	if (fp && stun_msg_check_fingerprint(&m) != 0)
		return error_answer(&m, len, STUN_ERR_BAD_REQUEST, "Bad FINGERPRINT",
		                    STUN_RES_BAD_REQUEST, out, cap, outlen);
	if (m.nunknown)
		return error_answer(&m, len, STUN_ERR_UNKNOWN_ATTRIBUTE, "Unknown Attribute",
		                    STUN_RES_UNKNOWN_ATTR, out, cap, outlen);
	if (m.method != STUN_BINDING)
		return error_answer(&m, len, STUN_ERR_BAD_REQUEST, "Method not supported here",
		                    STUN_RES_UNSUPPORTED, out, cap, outlen);

	peer_addr_normalise(from, &mapped);
	stun_enc_start(&e, out, cap, STUN_BINDING, STUN_SUCCESS, m.tid);
	stun_enc_xaddr(&e, STUN_ATTR_XOR_MAPPED_ADDRESS, (const struct sockaddr *)&mapped);
	/* SOFTWARE only when the answer stays no longer than the request */
	if (conf->software &&
	    e.len + 4 + ((strlen(conf->software) + 3) & ~(size_t)3) + (fp ? 8 : 0) <= len)
		stun_enc_bytes(&e, STUN_ATTR_SOFTWARE, conf->software, strlen(conf->software));
	*outlen = finish(&e, fp);
	return STUN_RES_BINDING;
}
