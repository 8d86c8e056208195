/* SIP messages over libosip2: parse and check, serialise, build responses (RFC 3261 §8.2, §20). */
#include "signaling/sip_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <string.h>

static void no_trace(const char *file, int line, osip_trace_level_t level, const char *fmt,
                     va_list ap)
{
	(void)file;
	(void)line;
	(void)level;
	(void)fmt;
	(void)ap;
}

void sip_msg_init(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		parser_init();
		/*
		 * libosip2's own traces go to stdout with levels 0-2 on until it is
		 * initialised: a sink that drops them, and every level off. Ours are the logs.
		 */
		osip_trace_initialize_func(TRACE_LEVEL0, no_trace);
		for (int level = 0; level < END_TRACE_LEVEL; level++)
			osip_trace_disable_level((osip_trace_level_t)level);
		g_once_init_leave(&done, 1);
	}
}

const char *sip_msg_branch(const osip_message_t *m)
{
	osip_via_t *via = osip_list_get(&m->vias, 0);
	osip_generic_param_t *branch = NULL;

	if (!via || osip_via_param_get_byname(via, "branch", &branch) != 0 || !branch)
		return NULL;
	return branch->gvalue;
}

/* A host name or IP literal (an IPv6 one with or without brackets), as libosip2 writes it back. */
static bool host_ok(const char *host)
{
	if (strchr(host, ':')) {
		struct in6_addr a6;
		char bare[256];
		size_t n = strlen(host);

		if (host[0] == '[' && host[n - 1] == ']')
			g_strlcpy(bare, host + 1, MIN(n - 1, sizeof(bare)));
		else
			g_strlcpy(bare, host, sizeof(bare));
		return inet_pton(AF_INET6, bare, &a6) == 1;
	}
	for (const char *p = host; *p; p++) {
		if (!g_ascii_isalnum(*p) && !strchr(".-_", *p))
			return false;
	}
	return *host != '\0';
}

/* "host:" parses with an empty (or any) port and is written back as such: 1-5 digits or none. */
static bool port_ok(const char *port)
{
	return !port || (*port && strlen(port) <= 5 && strspn(port, "0123456789") == strlen(port));
}

/*
 * A URI we can pass on: sip:/sips: with a host of hostname or IP literal
 * characters. libosip2 parses more than it writes back faithfully, and
 * whatever we forward must parse at the other end.
 */
static bool uri_ok(const osip_uri_t *u)
{
	if (!u || !u->scheme)
		return false;
	if (osip_strcasecmp(u->scheme, "sip") != 0 && osip_strcasecmp(u->scheme, "sips") != 0)
		return osip_strcasecmp(u->scheme, "tel") == 0 && u->string == NULL;
	/* libosip2 5.3 cannot parse back "<sip:a>": a one-character host is refused */
	if (!u->host || strlen(u->host) < 2 || strlen(u->host) > 255)
		return false;
	return port_ok(u->port) && host_ok(u->host);
}

/* RFC 3261 §25.1 token (word, for Call-ID, adds a few more) */
static bool token_ok(const char *s, bool word)
{
	if (!s || !*s || strlen(s) > 255)
		return false;
	for (; *s; s++) {
		if (!g_ascii_isalnum(*s) && !strchr("-.!%*_+`'~", *s) &&
		    !(word && strchr("()<>:\\\"/[]?{}@", *s)))
			return false;
	}
	return true;
}

/*
 * Via parameters (RFC 3261 §20.42: generic-param): a token name, and a value
 * that is a token or a host (an IPv6 literal for received or maddr).
 * libosip2 takes control bytes and '<' there and cannot parse them back.
 */
static bool via_params_ok(const osip_via_t *v)
{
	osip_generic_param_t *p;

	for (int i = 0; (p = osip_list_get(&v->via_params, i)) != NULL; i++) {
		if (!token_ok(p->gname, false))
			return false;
		if (!p->gvalue)
			continue;
		for (const char *c = p->gvalue; *c; c++) {
			if (!g_ascii_isalnum(*c) && !strchr("-.!%*_+`'~:[]", *c))
				return false;
		}
		if (!*p->gvalue || strlen(p->gvalue) > 255)
			return false;
	}
	return v->comment == NULL;
}

/* Every Via: SIP/2.0/<transport> host, a token branch where there is one. */
static const char *vias_check(const osip_message_t *m)
{
	int n = osip_list_size(&m->vias);

	if (n < 1)
		return "Missing Via";
	if (n > 70)
		return "Too many Via headers";
	for (int i = 0; i < n; i++) {
		osip_via_t *v = osip_list_get(&m->vias, i);
		osip_generic_param_t *branch = NULL;

		if (!v->version || strcmp(v->version, "2.0") != 0 ||
		    !token_ok(v->protocol, false) || !v->host || strlen(v->host) > 255 ||
		    !host_ok(v->host) || !port_ok(v->port) || !via_params_ok(v))
			return "Bad Via";
		if (osip_via_param_get_byname(v, "branch", &branch) == 0 && branch &&
		    !token_ok(branch->gvalue, false))
			return "Bad Via branch";
	}
	return NULL;
}

const char *sip_msg_check(const osip_message_t *m)
{
	osip_generic_param_t *tag = NULL;
	const char *branch, *why = vias_check(m);

	if (why)
		return why;
	branch = sip_msg_branch(m);
	if (!branch || !*branch)
		return "Via without branch";
	if (!m->from || !uri_ok(m->from->url))
		return "Missing or bad From";
	if (!m->to || !uri_ok(m->to->url))
		return "Missing or bad To";
	if (!m->call_id || !token_ok(m->call_id->number, true) ||
	    (m->call_id->host && !token_ok(m->call_id->host, true)))
		return "Missing or bad Call-ID";
	if (!m->cseq || !token_ok(m->cseq->method, false) || !m->cseq->number)
		return "Missing or bad CSeq";
	for (const char *p = m->cseq->number; *p; p++) {
		if (*p < '0' || *p > '9')
			return "Bad CSeq number";
	}
	if (strlen(m->cseq->number) > 10 || strtoull(m->cseq->number, NULL, 10) > 0x7fffffffULL)
		return "CSeq number out of range";
	if (MSG_IS_RESPONSE(m))
		return m->status_code < 100 || m->status_code > 699 ? "Bad status code" : NULL;
	if (!m->sip_method || !uri_ok(m->req_uri))
		return "Bad request line";
	for (int i = 0; i < osip_list_size(&m->contacts); i++) {
		const osip_contact_t *c = osip_list_get(&m->contacts, i);

		/* "Contact: *" (a REGISTER removing every binding) has no URI */
		if (c->url ? !uri_ok(c->url) : !c->displayname || strcmp(c->displayname, "*") != 0)
			return "Bad Contact";
	}
	if (strcmp(m->sip_method, m->cseq->method) != 0 &&
	    !(strcmp(m->sip_method, "ACK") == 0 && strcmp(m->cseq->method, "INVITE") == 0))
		return "CSeq method does not match the request";
	if (osip_from_get_tag(m->from, &tag) != 0 || !tag || !token_ok(tag->gvalue, false))
		return "From without tag";
	return NULL;
}

/*
 * RFC 3261 §18.3: over a message-framed transport (UDP, WebSocket) a
 * Content-Length larger than the bytes after the headers is an error;
 * libosip2 lets it pass.
 */
static bool body_fits(const osip_message_t *m, const char *buf, size_t len)
{
	const char *end = g_strstr_len(buf, (gssize)len, "\r\n\r\n");
	size_t body = end ? len - (size_t)(end + 4 - buf) : 0;
	const char *cl = m->content_length ? m->content_length->value : NULL;

	return !cl || g_ascii_strtoull(cl, NULL, 10) <= body;
}

int sip_msg_parse(const char *buf, size_t len, osip_message_t **out, const char **why)
{
	osip_message_t *m = NULL;

	*out = NULL;
	if (len == 0 || len > SIP_MSG_MAX || memchr(buf, '\0', len)) {
		*why = "Not a SIP message";
		return EBADMSG;
	}
	if (osip_message_init(&m) != 0) {
		*why = "Out of memory";
		return EBADMSG;
	}
	if (osip_message_parse(m, buf, len) != 0) {
		osip_message_free(m);
		*why = "Unparsable message";
		return EBADMSG;
	}
	*out = m;
	*why = sip_msg_check(m);
	if (!*why && !body_fits(m, buf, len))
		*why = "Content-Length larger than the body";
	return *why ? EPROTO : 0;
}

int sip_msg_to_str(const osip_message_t *m, char **out, size_t *len)
{
	*out = NULL;
	if (osip_message_to_str((osip_message_t *)m, out, len) != 0 || !*out)
		return EINVAL;
	return 0;
}

void sip_msg_token(char *out, size_t n)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t raw[64];

	n = n < sizeof(raw) ? n : sizeof(raw);
	RAND_bytes(raw, (int)n);
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
	out[n] = '\0';
}

static int copy_vias(const osip_message_t *req, osip_message_t *resp)
{
	for (int i = 0; i < osip_list_size(&req->vias); i++) {
		osip_via_t *via = osip_list_get(&req->vias, i), *copy = NULL;

		if (osip_via_clone(via, &copy) != 0)
			return -1;
		osip_list_add(&resp->vias, copy, -1);
	}
	return 0;
}

osip_message_t *sip_msg_response(const osip_message_t *req, int code, const char *reason,
                                 const char *to_tag)
{
	osip_message_t *r = NULL;
	osip_generic_param_t *tag = NULL;

	if (!req->from || !req->to || !req->call_id || !req->cseq || osip_message_init(&r) != 0)
		return NULL;
	osip_message_set_version(r, osip_strdup("SIP/2.0"));
	osip_message_set_status_code(r, code);
	if (!reason)
		reason = osip_message_get_reason(code);
	osip_message_set_reason_phrase(r, osip_strdup(reason ? reason : "Unknown"));
	if (copy_vias(req, r) != 0 || osip_from_clone(req->from, &r->from) != 0 ||
	    osip_to_clone(req->to, &r->to) != 0 ||
	    osip_call_id_clone(req->call_id, &r->call_id) != 0 ||
	    osip_cseq_clone(req->cseq, &r->cseq) != 0) {
		osip_message_free(r);
		return NULL;
	}
	if (code > 100 && (osip_to_get_tag(r->to, &tag) != 0 || !tag)) {
		char fresh[17];

		if (!to_tag) {
			sip_msg_token(fresh, 16);
			to_tag = fresh;
		}
		osip_to_set_tag(r->to, osip_strdup(to_tag));
	}
	osip_message_set_content_length(r, "0");
	return r;
}

const char *sip_msg_header(const osip_message_t *m, const char *name)
{
	osip_header_t *h = NULL;

	if (osip_message_header_get_byname(m, name, 0, &h) < 0 || !h)
		return NULL;
	return h->hvalue;
}

void sip_msg_contact_set_expires(osip_contact_t *c, int seconds)
{
	char v[16];

	for (int i = 0; i < osip_list_size(&c->gen_params); i++) {
		osip_generic_param_t *p = osip_list_get(&c->gen_params, i);

		if (p->gname && osip_strcasecmp(p->gname, "expires") == 0) {
			osip_list_remove(&c->gen_params, i);
			osip_generic_param_free(p);
			break;
		}
	}
	g_snprintf(v, sizeof(v), "%d", seconds);
	osip_contact_param_add(c, osip_strdup("expires"), osip_strdup(v));
}
