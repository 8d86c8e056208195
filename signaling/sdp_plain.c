/* Plain-RTP SDP over libosip2: read the first audio stream, rewrite for the other leg
 * (RFC 4566 §5, RFC 3264 §5-§8, RFC 3605, RFC 3551 static payload types). */
#include "signaling/sdp_plain.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <osipparser2/osip_parser.h>
#include <osipparser2/sdp_message.h>
#include <string.h>

#include "signaling/sdp_read.h"
#include "signaling/sip_msg.h"

void sdp_plain_init(void)
{
	sip_msg_init(); /* parser_init and libosip2's traces off, once */
}

/* libosip2's list free callbacks */
static void free_str(void *p)
{
	osip_free(p);
}

static void free_conn(void *p)
{
	sdp_connection_free(p);
}

static void free_bw(void *p)
{
	sdp_bandwidth_free(p);
}

/* ---- rewrite ----------------------------------------------------------------------- */

/* What a plain RTP leg toward the other side must not see (RFC 8839, 8842, 4568, 5761, 8843). */
static bool foreign_attr(const char *field)
{
	static const char *const drop[] = {
		"candidate",
		"end-of-candidates",
		"remote-candidates",
		"fingerprint",
		"setup",
		"tls-id",
		"crypto",
		"rtcp-mux",
		"rtcp-mux-only",
		"bundle-only",
		"identity",
	};

	if (g_str_has_prefix(field, "ice-"))
		return true;
	for (size_t i = 0; i < G_N_ELEMENTS(drop); i++) {
		if (strcmp(field, drop[i]) == 0)
			return true;
	}
	return false;
}

static bool is_dir(const char *field)
{
	for (int d = SDP_PLAIN_SENDRECV; d <= SDP_PLAIN_INACTIVE; d++) {
		if (strcmp(field, sdp_plain_dir_name(d)) == 0)
			return true;
	}
	return false;
}

static void attr_remove(osip_list_t *attrs, int i)
{
	sdp_attribute_t *a = osip_list_get(attrs, i);

	osip_list_remove(attrs, i);
	sdp_attribute_free(a);
}

static void attr_add(osip_list_t *attrs, const char *field, const char *value)
{
	sdp_attribute_t *a = NULL;

	sdp_attribute_init(&a);
	a->a_att_field = osip_strdup(field);
	a->a_att_value = value ? osip_strdup(value) : NULL;
	osip_list_add(attrs, a, -1);
}

static void replace(char **field, const char *value)
{
	osip_free(*field);
	*field = value ? osip_strdup(value) : NULL;
}

/* Drop the payload types the filter refuses, with their rtpmap, fmtp and rtcp-fb lines. */
static const char *codecs_filter(sdp_media_t *m, const struct sdp_plain *p, const char *list)
{
	size_t kept = 0;

	for (size_t i = 0; i < p->n_codecs; i++) {
		const struct sdp_plain_codec *c = &p->codecs[i];
		char pt[4];

		if (sdp_read_allowed(list, c->name)) {
			if (g_ascii_strcasecmp(c->name, "telephone-event") != 0 &&
			    g_ascii_strcasecmp(c->name, "CN") != 0)
				kept++;
			continue;
		}
		g_snprintf(pt, sizeof(pt), "%u", c->pt);
		for (int j = osip_list_size(&m->m_payloads) - 1; j >= 0; j--) {
			char *f = osip_list_get(&m->m_payloads, j);

			if (strcmp(f, pt) == 0) {
				osip_list_remove(&m->m_payloads, j);
				osip_free(f);
			}
		}
		for (int j = osip_list_size(&m->a_attributes) - 1; j >= 0; j--) {
			sdp_attribute_t *a = osip_list_get(&m->a_attributes, j);
			uint64_t apt;

			if ((strcmp(a->a_att_field, "rtpmap") == 0 ||
			     strcmp(a->a_att_field, "fmtp") == 0 ||
			     strcmp(a->a_att_field, "rtcp-fb") == 0) &&
			    sdp_read_pt(a->a_att_value, &apt) && apt == c->pt)
				attr_remove(&m->a_attributes, j);
		}
	}
	return kept ? NULL : "No common codec";
}

static void media_strip(sdp_media_t *m)
{
	osip_list_special_free(&m->c_connections, free_conn);
	replace(&m->i_info, NULL);
	if (m->k_key) {
		sdp_key_free(m->k_key);
		m->k_key = NULL;
	}
	replace(&m->m_number_of_port, NULL);
}

/* Another m= line: disabled (RFC 3264 §6, §8.2), its format list kept, only a=mid left. */
static void media_disable(sdp_media_t *m)
{
	media_strip(m);
	replace(&m->m_port, "0");
	osip_list_special_free(&m->b_bandwidths, free_bw);
	for (int j = osip_list_size(&m->a_attributes) - 1; j >= 0; j--) {
		sdp_attribute_t *a = osip_list_get(&m->a_attributes, j);

		if (strcmp(a->a_att_field, "mid") != 0)
			attr_remove(&m->a_attributes, j);
	}
}

static const char *audio_rewrite(sdp_media_t *m, const struct sdp_plain *p,
                                 const struct sdp_plain_local *local, const char *addrtype)
{
	char v[80];
	bool avpf = p->profile == SDP_PLAIN_AVPF && !local->to_avp;
	bool dir_own = p->hold_c0 || local->answer; /* the direction is written anew */

	media_strip(m);
	if (p->port != 0) {
		g_snprintf(v, sizeof(v), "%u", local->port);
		replace(&m->m_port, v);
	}
	replace(&m->m_proto, avpf ? "RTP/AVPF" : "RTP/AVP");
	for (int j = osip_list_size(&m->a_attributes) - 1; j >= 0; j--) {
		sdp_attribute_t *a = osip_list_get(&m->a_attributes, j);

		if (foreign_attr(a->a_att_field) || (dir_own && is_dir(a->a_att_field)) ||
		    (!avpf && strcmp(a->a_att_field, "rtcp-fb") == 0))
			attr_remove(&m->a_attributes, j);
		else if (strcmp(a->a_att_field, "rtcp") == 0) {
			g_snprintf(v, sizeof(v), "%u IN %s %s", local->port + 1, addrtype,
			           local->addr);
			replace(&a->a_att_value, v);
		}
	}
	/* the old hold form is gone with the peer's address: say it with an attribute */
	if (dir_own)
		attr_add(&m->a_attributes,
		         sdp_plain_dir_name(local->answer ? sdp_plain_dir_answer(p->dir) : p->dir),
		         NULL);
	return local->codecs ? codecs_filter(m, p, local->codecs) : NULL;
}

static void session_rewrite(sdp_message_t *sdp, const struct sdp_plain *p,
                            const struct sdp_plain_local *local, const char *addrtype)
{
	char id[24], version[24];

	g_snprintf(id, sizeof(id), "%" G_GUINT64_FORMAT, local->sess_id);
	g_snprintf(version, sizeof(version), "%" G_GUINT64_FORMAT, local->sess_version);
	replace(&sdp->o_username, "rtcgate");
	replace(&sdp->o_sess_id, id);
	replace(&sdp->o_sess_version, version);
	replace(&sdp->o_nettype, "IN");
	replace(&sdp->o_addrtype, addrtype);
	replace(&sdp->o_addr, local->addr);
	/* the other side's session name, URIs, mails and phones stay on its side */
	replace(&sdp->s_name, "-");
	replace(&sdp->i_info, NULL);
	replace(&sdp->u_uri, NULL);
	osip_list_special_free(&sdp->e_emails, free_str);
	osip_list_special_free(&sdp->p_phones, free_str);
	if (sdp->k_key) {
		sdp_key_free(sdp->k_key);
		sdp->k_key = NULL;
	}
	if (sdp->c_connection)
		sdp_connection_free(sdp->c_connection);
	sdp_connection_init(&sdp->c_connection);
	sdp->c_connection->c_nettype = osip_strdup("IN");
	sdp->c_connection->c_addrtype = osip_strdup(addrtype);
	sdp->c_connection->c_addr = osip_strdup(local->addr);
	for (int j = osip_list_size(&sdp->a_attributes) - 1; j >= 0; j--) {
		sdp_attribute_t *a = osip_list_get(&sdp->a_attributes, j);

		if (foreign_attr(a->a_att_field) ||
		    ((p->hold_c0 || local->answer) && is_dir(a->a_att_field)) ||
		    (strcmp(a->a_att_field, "group") == 0 && a->a_att_value &&
		     g_str_has_prefix(a->a_att_value, "BUNDLE")))
			attr_remove(&sdp->a_attributes, j);
	}
}

static const char *local_check(const struct sdp_plain_local *local, const char **addrtype)
{
	struct in6_addr a;

	if (!local || !local->addr || local->port == 0 || local->port == 65535)
		return "Bad local address";
	if (inet_pton(AF_INET, local->addr, &a) == 1)
		*addrtype = "IP4";
	else if (inet_pton(AF_INET6, local->addr, &a) == 1)
		*addrtype = "IP6";
	else
		return "Bad local address";
	return NULL;
}

int sdp_plain_rewrite(const char *buf, size_t len, const struct sdp_plain_local *local, char **out,
                      size_t *out_len, const char **why)
{
	sdp_message_t *sdp = NULL;
	struct sdp_plain *p = g_new(struct sdp_plain, 1);
	const char *addrtype = NULL;
	char *text = NULL;
	int rc;

	if ((*why = local_check(local, &addrtype))) {
		rc = EINVAL;
		goto out;
	}
	if ((*why = sdp_read_parse(buf, len, &sdp))) {
		rc = EBADMSG;
		goto out;
	}
	if ((rc = sdp_read_check(sdp, p, why)) != 0)
		goto out;
	rc = EPROTO;
	if (p->profile != SDP_PLAIN_AVP && p->profile != SDP_PLAIN_AVPF && !local->to_avp) {
		*why = "Audio stream is not plain RTP";
		goto out;
	}
	for (int i = 0; i < osip_list_size(&sdp->m_medias); i++) {
		sdp_media_t *m = osip_list_get(&sdp->m_medias, i);

		if ((unsigned)i != p->media_index)
			media_disable(m);
		else if ((*why = audio_rewrite(m, p, local, addrtype)))
			goto out;
	}
	session_rewrite(sdp, p, local, addrtype);
	if (sdp_message_to_str(sdp, &text) != 0 || !text) {
		*why = "SDP not writable";
		rc = EBADMSG;
		goto out;
	}
	*out_len = strlen(text);
	*out = g_strndup(text, *out_len);
	osip_free(text);
	*why = NULL;
	rc = 0;
out:
	if (sdp)
		sdp_message_free(sdp);
	g_free(p);
	return rc;
}
