/* Registration helpers for held mode (RFC 3261 §10.2-§10.3, RFC 5626 §4.2). Pure. */
#include "signaling/sip_reg.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sip_msg.h"

/* A decimal number 0..2^31-1 with nothing after it. */
static bool number(const char *s, long *out)
{
	char *end = NULL;
	long v;

	if (!s || !g_ascii_isdigit(*s) || strlen(s) > 10)
		return false;
	v = strtol(s, &end, 10);
	if (*end || v < 0 || v > G_MAXINT32)
		return false;
	*out = v;
	return true;
}

static const char *contact_param(const osip_contact_t *c, const char *name)
{
	osip_generic_param_t *p = NULL;

	if (osip_contact_param_get_byname((osip_contact_t *)c, (char *)name, &p) != 0 || !p)
		return NULL;
	return p->gvalue ? p->gvalue : "";
}

bool sip_reg_flow_id(const osip_contact_t *c, char *instance, size_t cap, unsigned *reg_id)
{
	const char *inst = c ? contact_param(c, "+sip.instance") : NULL;
	const char *rid = c ? contact_param(c, "reg-id") : NULL;
	size_t n;
	long id;

	if (!inst || !number(rid, &id) || id == 0)
		return false;
	n = strlen(inst);
	if (n >= 2 && inst[0] == '"' && inst[n - 1] == '"') {
		inst++;
		n -= 2;
	}
	if (n == 0 || n >= cap)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!g_ascii_isgraph(inst[i]) || inst[i] == '"' || inst[i] == '\\')
			return false;
	}
	memcpy(instance, inst, n);
	instance[n] = '\0';
	*reg_id = (unsigned)id;
	return true;
}

static int clamp(long v, int max)
{
	return v > max ? max : (int)v;
}

int sip_reg_asked(const osip_message_t *req, const osip_contact_t *c, int def, int max)
{
	long v;

	if (c && number(contact_param(c, "expires"), &v))
		return clamp(v, max);
	if (number(sip_msg_header(req, "expires"), &v))
		return clamp(v, max);
	return clamp(def < 0 ? 0 : def, max);
}

int sip_reg_granted(const osip_message_t *resp, const char *user, int asked)
{
	int n = osip_list_size(&resp->contacts);
	bool listed = false;
	long v;

	for (int i = 0; i < n && !listed; i++) {
		const osip_contact_t *c = osip_list_get(&resp->contacts, i);

		if (!c->url || !c->url->username || strcmp(c->url->username, user) != 0)
			continue;
		listed = true;
		if (number(contact_param(c, "expires"), &v))
			return (int)v;
	}
	if (n > 0 && !listed)
		return -1;
	if (number(sip_msg_header(resp, "expires"), &v))
		return (int)v;
	return asked;
}

int sip_reg_refresh_after(int granted)
{
	return granted / 2 < 5 ? 5 : granted / 2;
}

int sip_reg_browser_status(int code, const char **reason)
{
	if (code == 0 || code == 408) {
		*reason = "PBX did not answer";
		return 504;
	}
	if (code >= 400 && code < 500) {
		*reason = "PBX refused the registration";
		return 403;
	}
	*reason = "PBX unavailable";
	return 503;
}
