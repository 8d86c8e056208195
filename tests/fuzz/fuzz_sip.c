/* libFuzzer target for signaling/sip_msg: any bytes as a SIP message over any transport. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sip_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	osip_message_t *m = NULL, *resp, *back = NULL;
	const char *why = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc;

	sip_msg_init();
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
