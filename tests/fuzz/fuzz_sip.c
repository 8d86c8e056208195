/* libFuzzer target for signaling/sip_msg: any bytes as a SIP message over any transport. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "signaling/sip_digest.h"
#include "signaling/sip_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same bytes as a challenge or an Authorization header value. */
static void fuzz_digest(const uint8_t *data, size_t size)
{
	static const uint8_t key[SIP_DIGEST_KEY_LEN];
	struct sip_digest_challenge ch;
	char *v = g_strndup((const char *)data, size);
	char *user = sip_digest_username(v);

	if (sip_digest_parse_challenge(v, &ch) == 0) {
		char *a = sip_digest_answer(&ch, "u", "p", "REGISTER", "sip:x", "c", 1);

		/* our own answer to any challenge parses back */
		if (sip_digest_verify(a, "REGISTER", ch.realm, "u", "00", ch.alg, key, 1) ==
		    SIP_DIGEST_MALFORMED)
			abort();
		g_free(a);
	}
	(void)sip_digest_verify(v, "REGISTER", "r", user ? user : "u", "00", SIP_DIGEST_MD5, key,
	                        1);
	g_free(user);
	g_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	osip_message_t *m = NULL, *resp, *back = NULL;
	const char *why = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc;

	sip_msg_init();
	fuzz_digest(data, size);
	rc = sip_msg_parse((const char *)data, size, &m, &why);
	if (rc != 0 && !why)
		abort(); /* every refusal has a reason */
	if (!m)
		return 0;
	if (sip_msg_to_str(m, &text, &len) == 0)
		osip_free(text);
	/* a request fit for a transaction gets a response that parses and is fit too */
	if (rc == 0 && MSG_IS_REQUEST(m)) {
		resp = sip_msg_response(m, 400, why, NULL);
		if (!resp)
			abort();
		if (sip_msg_to_str(resp, &text, &len) != 0)
			abort();
		if (sip_msg_parse(text, len, &back, &why) != 0)
			abort();
		osip_message_free(back);
		osip_free(text);
		osip_message_free(resp);
	}
	osip_message_free(m);
	return 0;
}
