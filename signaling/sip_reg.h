/*
 * Registration helpers for held mode (RFC 3261 §10.2-§10.3, RFC 5626 §4.2):
 * what a binding asks for and was granted, the flow identity of a Contact,
 * and what the browser is told when the PBX refuses. Pure.
 */
#pragma once

#include <osipparser2/osip_parser.h>
#include <stdbool.h>
#include <stddef.h>

/* Longest +sip.instance value we keep (a urn:uuid is 45). */
#define SIP_REG_INSTANCE_MAX 128

/*
 * The RFC 5626 flow identity of Contact c: +sip.instance (quotes removed)
 * into instance[cap] and reg-id into *reg_id. false when c lacks either or
 * one is malformed (then the binding is tied to its flow alone).
 */
bool sip_reg_flow_id(const osip_contact_t *c, char *instance, size_t cap, unsigned *reg_id);

/*
 * The expiry Contact c of REGISTER req asks for: its expires parameter,
 * else the Expires header, else def; clamped to 0..max. A malformed value
 * counts as absent.
 */
int sip_reg_asked(const osip_message_t *req, const osip_contact_t *c, int def, int max);

/*
 * The expiry a 2xx to REGISTER grants the binding whose Contact URI user is
 * user: that Contact's expires parameter, else the Expires header, else
 * asked. -1 when the answer lists bindings but not this one (the registrar
 * dropped it).
 */
int sip_reg_granted(const osip_message_t *resp, const char *user, int asked);

/* Seconds after a grant of `granted` seconds to refresh it: half of it, at least 5. */
int sip_reg_refresh_after(int granted);

/*
 * The status the browser gets when the PBX answered our REGISTER with code
 * (408 or 0: no answer in time; 503: unreachable), with a reason phrase:
 * 403 for a refusal (4xx, a challenge our credentials did not pass), 504
 * for no answer, 503 for a PBX that failed (5xx, 6xx, transport).
 */
int sip_reg_browser_status(int code, const char **reason);
