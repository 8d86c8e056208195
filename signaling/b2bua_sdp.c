/*
 * What a call's messages carry from one leg to the other: the SDP rewritten
 * onto the leg (RFC 3264 §8, through sdp_plain), the end-to-end headers
 * (RFC 4028, RFC 3325, RFC 4412), and our Contact (RFC 3261 §8.1.1.8).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "core/log.h"
#include "signaling/b2bua_call_priv.h"
#include "signaling/sdp_plain.h"

bool b2bua_sockaddr_of(const char *addr, uint16_t port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)out)->sin_addr) == 1) {
		out->ss_family = AF_INET;
		((struct sockaddr_in *)out)->sin_port = htons(port);
		return true;
	}
	if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)out)->sin6_addr) == 1) {
		out->ss_family = AF_INET6;
		((struct sockaddr_in6 *)out)->sin6_port = htons(port);
		return true;
	}
	return false;
}

void b2bua_sockaddr_text(const struct sockaddr_storage *sa, char *addr, size_t cap, uint16_t *port)
{
	if (sa->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, cap);
		*port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr, cap);
		*port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
}

/*
 * The SDP of src, if any, for the leg `to`: the sender's media address goes
 * into the session (unless the other end is the demo's echo), and the body
 * is rewritten with ours on `to` (RFC 3264 §8: a new version each time).
 * 0, or a SIP status with *why.
 */
static int translate(struct call *c, struct call_leg *from, struct call_leg *to,
                     const osip_message_t *src, osip_message_t *dst, const char **why)
{
	osip_body_t *body = NULL;
	struct sdp_plain *peer = g_new0(struct sdp_plain, 1);
	struct sockaddr_storage rtp, rtcp, local;
	struct sdp_plain_local ours = { .sess_id = to->sdp_id, .codecs = c->codecs };
	char addr[INET6_ADDRSTRLEN], *out = NULL;
	size_t out_len = 0;
	char ct[] = "application/sdp";
	int rc = 0;

	if (osip_message_get_body(src, 0, &body) < 0 || !body || !body->body)
		goto done;
	if (b2bua_webrtc_applies(c, from, to, src)) {
		rc = b2bua_webrtc_across(c, from, to, src, dst, why);
		goto done;
	}
	if (sdp_plain_read(body->body, body->length, peer, why) != 0 ||
	    !b2bua_sockaddr_of(peer->addr, peer->port, &rtp) ||
	    !b2bua_sockaddr_of(peer->rtcp_addr[0] ? peer->rtcp_addr : peer->addr, peer->rtcp_port,
	                       &rtcp)) {
		log_info(LOG_SIP, "sdp refused", "login=%s reason=\"%s\"", c->login,
		         *why ? *why : "address");
		*why = "Unusable SDP";
		rc = SIP_NOT_ACCEPTABLE_HERE;
		goto done;
	}
	if (!(c->echo && from == &c->out) && peer->port && !peer->hold_c0)
		media_session_set_remote(c->media, from->media, (struct sockaddr *)&rtp,
		                         (struct sockaddr *)&rtcp);
	if (media_session_local(c->media, to->media, (struct sockaddr *)&rtp, &local) != 0) {
		*why = "No media address";
		rc = 500;
		goto done;
	}
	b2bua_sockaddr_text(&local, addr, sizeof(addr), &ours.port);
	ours.addr = addr;
	ours.sess_version = ++to->sdp_version;
	if (sdp_plain_rewrite(body->body, body->length, &ours, &out, &out_len, why) != 0) {
		log_info(LOG_SIP, "sdp refused", "login=%s reason=\"%s\"", c->login, *why);
		*why = "Not Acceptable Here";
		rc = SIP_NOT_ACCEPTABLE_HERE;
		goto done;
	}
	osip_message_set_body(dst, out, out_len);
	osip_message_set_content_type(dst, ct);
	g_free(out);
done:
	g_free(peer);
	return rc;
}

/* The translation with SDES taken off the PBX's SDP before it and put on ours after it. */
int b2bua_sdp_across(struct call *c, struct call_leg *from, struct call_leg *to,
                     const osip_message_t *src, osip_message_t *dst, const char **why)
{
	bool answer = MSG_IS_ACK(src) || (MSG_IS_RESPONSE(src) && !(c->late && !c->answered));
	osip_message_t *plain = NULL;
	int rc = 0;

	if (from->media == MEDIA_LEG_B && b2bua_sdp_present(src))
		rc = b2bua_sdes_from_pbx(c, src, answer, &plain, why);
	if (!rc)
		rc = translate(c, from, to, plain ? plain : src, dst, why);
	if (!rc && to->media == MEDIA_LEG_B && b2bua_sdp_present(dst))
		rc = b2bua_sdes_to_pbx(c, dst, answer, why);
	osip_message_free(plain);
	return rc;
}

/* The device's codecs as sdp_plain's filter, with DTMF and comfort noise; NULL: every codec. */
char *b2bua_sdp_codecs(struct b2bua *b, const char *login)
{
	struct device *dev = NULL;
	char *list = NULL;

	if (devices_get(b->dev, login, &dev) == 0 && dev->codecs && dev->codecs[0])
		list = g_strdup_printf("%s,telephone-event,CN", dev->codecs);
	devspec_device_free(dev);
	return list;
}

bool b2bua_sdp_present(const osip_message_t *m)
{
	osip_body_t *body = NULL;

	return osip_message_get_body(m, 0, &body) >= 0 && body && body->body && body->length;
}

/*
 * Our Contact toward leg l: the flow's token toward the PBX (sips: when
 * the request's URI is, over TLS), a placeholder toward a flow.
 */
void b2bua_leg_contact(struct call *c, struct call_leg *l, osip_message_t *m)
{
	char *uri, *text;

	if (l->peer->kind == SIP_PEER_FLOW) {
		text = g_strdup_printf("<sip:rtcgate@%s;transport=ws>", FLOW_HOST);
	} else {
		const osip_uri_t *ru = m->req_uri ? m->req_uri : c->in_invite->req_uri;

		uri = b2bua_pbx_contact(&l->r, c->flow ? c->flow->token : "rtcgate",
		                        ru && ru->scheme && strcmp(ru->scheme, "sips") == 0);
		text = g_strdup_printf("<%s>", uri);
		g_free(uri);
	}
	osip_message_set_contact(m, text);
	g_free(text);
}

/*
 * End-to-end headers a B2BUA carries across on INVITEs and their answers:
 * session timers (RFC 4028), identity and privacy (RFC 3325), priority
 * (RFC 4412), alerting. Everything else stays on its leg; of Supported only
 * "timer" crosses (100rel would need PRACK handled here, which it is not).
 */
static const char *const carried[] = {
	"Session-Expires",
	"Min-SE",
	"P-Asserted-Identity",
	"Privacy",
	"Priority",
	"Alert-Info",
	"Call-Info",
	"Subject",
	"Resource-Priority",
	"Accept-Resource-Priority",
	"Reason",
	NULL,
};

void b2bua_carry_headers(const osip_message_t *from, osip_message_t *to)
{
	for (const char *const *h = carried; *h; h++) {
		char *name =
		        g_ascii_strdown(*h, -1); /* libosip2 keeps header names in lower case */
		osip_header_t *v = NULL;
		int at;

		for (int pos = 0; (at = osip_message_header_get_byname(from, name, pos, &v)) >= 0;
		     pos = at + 1) {
			if (v && v->hvalue)
				osip_message_set_header(to, *h, v->hvalue);
		}
		g_free(name);
	}
	{
		osip_header_t *sup = NULL;

		for (int pos = 0, at;
		     (at = osip_message_header_get_byname(from, "supported", pos, &sup)) >= 0;
		     pos = at + 1) {
			if (sup && sup->hvalue && strstr(sup->hvalue, "timer")) {
				osip_message_set_header(to, "Supported", "timer");
				break;
			}
		}
	}
}
