/*
 * Trickle ICE over SIP (RFC 8840): the browser's candidates arrive after its
 * offer or answer in INFO requests of the "trickle-ice" Info Package
 * (RFC 6086), body application/trickle-ice-sdpfrag. They are for the WebRTC
 * leg only: answered here and handed to the media leg, never relayed to the
 * PBX. We advertise the package toward the browser (§4.1, §4.2); we never
 * trickle ourselves (our candidates are all in our SDP, with
 * a=end-of-candidates).
 */
#include <string.h>

#include "core/log.h"
#include "signaling/b2bua_call_priv.h"
#include "signaling/sdp_webrtc.h"

#define TRICKLE_PACKAGE   "trickle-ice"
#define TRICKLE_FRAG_TYPE "application"
#define TRICKLE_FRAG_SUB  "trickle-ice-sdpfrag"
#define SIP_BAD_INFO_PACK 469 /* RFC 6086 §4.2.2 */

/* The first token of an Info-Package value ("trickle-ice;x=y"), case-insensitively. */
static bool package_is_trickle(const char *v)
{
	size_t n;

	if (!v)
		return false;
	while (*v == ' ' || *v == '\t')
		v++;
	n = strcspn(v, " \t;");
	return n == strlen(TRICKLE_PACKAGE) && g_ascii_strncasecmp(v, TRICKLE_PACKAGE, n) == 0;
}

static bool type_is_frag(const osip_message_t *req)
{
	const osip_content_type_t *ct = osip_message_get_content_type(req);

	return ct && ct->type && ct->subtype &&
	       g_ascii_strcasecmp(ct->type, TRICKLE_FRAG_TYPE) == 0 &&
	       g_ascii_strcasecmp(ct->subtype, TRICKLE_FRAG_SUB) == 0;
}

/* web: req came from the WebRTC leg, where we take the package */
static void refuse(struct call *c, osip_transaction_t *tr, const osip_message_t *req, bool web,
                   int code, const char *why)
{
	osip_message_t *r = sip_msg_response(req, code, why, NULL);

	log_info(LOG_SIP, "trickle refused", "login=%s code=%d reason=\"%s\"", c->login, code, why);
	if (!r)
		return;
	if (code == SIP_BAD_INFO_PACK) /* RFC 6086 §4.2.2: what we do take on this dialog */
		osip_message_set_header(r, "Recv-Info", web ? TRICKLE_PACKAGE : "");
	if (code == SIP_UNSUPPORTED_MEDIA_TYPE)
		osip_message_set_header(r, "Accept", TRICKLE_FRAG_TYPE "/" TRICKLE_FRAG_SUB);
	sip_stack_respond(c->b->st, tr, r);
}

bool b2bua_trickle_request(struct call *c, osip_transaction_t *tr, const osip_message_t *req,
                           bool from_in)
{
	const struct call_leg *from = from_in ? &c->in : &c->out;
	bool pkg, frag, web = from->media == MEDIA_LEG_A && c->web;
	osip_body_t *body = NULL;
	struct sdp_webrtc_frag *f;
	const char *why = NULL;

	if (!MSG_IS_INFO(req))
		return false;
	pkg = package_is_trickle(sip_msg_header(req, "Info-Package"));
	frag = type_is_frag(req);
	if (!pkg && !frag)
		return false; /* DTMF and other packages: relayed as before */
	if (!web || !pkg) {
		refuse(c, tr, req, web, SIP_BAD_INFO_PACK, "Bad Info Package");
		return true;
	}
	if (!frag) {
		refuse(c, tr, req, web, SIP_UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type");
		return true;
	}
	if (osip_message_get_body(req, 0, &body) < 0 || !body || !body->body) {
		refuse(c, tr, req, web, SIP_BAD_REQUEST, "Empty trickle-ice fragment");
		return true;
	}
	f = g_new0(struct sdp_webrtc_frag, 1);
	if (sdp_webrtc_frag_read(body->body, body->length, f, &why) != 0)
		refuse(c, tr, req, web, SIP_BAD_REQUEST, why);
	else if (b2bua_webrtc_trickle(c, f) != 0)
		refuse(c, tr, req, web, SIP_BAD_INFO_PACK, "Bad Info Package");
	else
		b2bua_respond(c->b, tr, req, 200, NULL);
	g_free(f);
	return true;
}

void b2bua_trickle_advertise(const struct call *c, const struct call_leg *to, osip_message_t *m)
{
	if (to->media != MEDIA_LEG_A || !c->web)
		return;
	osip_message_set_header(m, "Supported", TRICKLE_PACKAGE);
	osip_message_set_header(m, "Recv-Info", TRICKLE_PACKAGE);
}
