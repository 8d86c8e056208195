/* SIP messages over libosip2: parse and check, serialise, build responses (RFC 3261 §8.2, §20).
 * Pure. */
#pragma once

#include <osipparser2/osip_parser.h>
#include <stdbool.h>
#include <stddef.h>

/* The largest SIP message we take over any transport (WebSocket, UDP, TCP). */
#define SIP_MSG_MAX 65535

/* libosip2's parser tables; once per process before any parse, idempotent. */
void sip_msg_init(void);

/*
 * Parse buf[len] into *out and check what every transaction needs (RFC 3261
 * §8.1.1, §8.2.2): a top Via with a branch, From, To, Call-ID, CSeq whose
 * method is the request's; a request's From has a tag. 0, or EBADMSG when
 * libosip2 cannot parse it (*why set, *out NULL), or EPROTO when it parsed
 * but a check failed (*why set, *out kept so a 400 can answer it).
 */
int sip_msg_parse(const char *buf, size_t len, osip_message_t **out, const char **why);

/* Same checks on a parsed message: NULL when it is fit, else the reason. */
const char *sip_msg_check(const osip_message_t *m);

/* The message as text in *out (osip_free it), its length in *len. 0 or EINVAL. */
int sip_msg_to_str(const osip_message_t *m, char **out, size_t *len);

/*
 * A response to req (RFC 3261 §8.2.6): its Vias, From, To (a tag added to
 * To when code > 100 and it has none: to_tag, or a random one), Call-ID and
 * CSeq; reason NULL takes the standard phrase. NULL when req lacks a header
 * a response needs.
 */
osip_message_t *sip_msg_response(const osip_message_t *req, int code, const char *reason,
                                 const char *to_tag);

/* The value of the first header called name (case-insensitive), or NULL. */
const char *sip_msg_header(const osip_message_t *m, const char *name);

/* The top Via's branch, or NULL. */
const char *sip_msg_branch(const osip_message_t *m);

/* A fresh token of n random characters [a-z0-9] (tags, branches after z9hG4bK), in out[n+1]. */
void sip_msg_token(char *out, size_t n);

/* Replace the expires parameter of Contact c (RFC 3261 §10.3). */
void sip_msg_contact_set_expires(osip_contact_t *c, int seconds);
