/*
 * The back-to-back user agent: SIP from WebSocket flows on one side, the
 * PBX (or the built-in demo target) on the other. Registrations are relayed
 * with the Contact rewritten to a per-flow token, so requests from the PBX
 * find the flow again.
 */
#pragma once

#include "core/devices.h"
#include "signaling/ws_sip.h"

struct conf;
struct metrics;
struct media_pool;
struct b2bua;

/*
 * Start on the main loop: the PBX-side socket and targets (or the demo
 * target when sip.pbx is empty). devices and media (where calls' RTP is
 * anchored) must outlive the B2BUA. 0, or an
 * errno with *why (g_free it).
 */
int b2bua_start(const struct conf *c, struct devices *devices, struct media_pool *media,
                struct metrics *metrics, struct b2bua **out, char **why);
void b2bua_free(struct b2bua *b);

struct dtls_ctx;
/*
 * WebRTC for the flows' calls: every WebRTC media leg uses dtls (not owned;
 * it must outlive the media pool) and reports its events to the B2BUA,
 * which ends a call whose media failed. Once, right after b2bua_start.
 */
void b2bua_webrtc_start(struct b2bua *b, struct dtls_ctx *dtls);

/* What the HTTP server's /sip flows report to (user: the b2bua). */
const struct ws_sip_handler *b2bua_ws_handler(void);

/* A device changed: a disabled or removed one loses its flows at once. */
void b2bua_device_changed(struct b2bua *b, const char *login, enum devices_event ev);
