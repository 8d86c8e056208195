/* SDES on a whole SDP body for the PBX leg: take a=crypto out of the audio stream, or put ours
 * in (RFC 4568 §5, RFC 3711 RTP/SAVP). Pure: the translations (sdp_plain, sdp_webrtc) see plain
 * RTP/AVP only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "signaling/sdp_sdes.h"

/* What sdp_savp_strip found in the first audio m= line. */
struct sdp_savp {
	bool audio;             /* there is an audio m= line */
	bool savp;              /* its profile was RTP/SAVP or RTP/SAVPF */
	unsigned n_crypto;      /* a=crypto lines in its section */
	bool usable;            /* one of them is AES_CM_128_HMAC_SHA1_80 with one inline key */
	struct sdp_sdes crypto; /* the first usable one (RFC 4568 §7.1.1: the answerer picks) */
	const char *why;        /* why no line was usable (the first refusal), or NULL */
};

/*
 * buf[len] with SDES taken out of its first audio m= line: RTP/SAVP(F)
 * becomes RTP/AVP(F) and the section's a=crypto lines go; everything else
 * is kept byte for byte. 0 with *out (NUL-terminated, g_free it) and *info;
 * EBADMSG when buf is larger than SDP_PLAIN_MAX or holds a NUL. The key in
 * info->crypto is secret: wipe it when done.
 */
int sdp_savp_strip(const char *buf, size_t len, struct sdp_savp *info, char **out, size_t *out_len);

/*
 * buf[len] (RTP/AVP or RTP/AVPF on its first audio m= line) with that line
 * made RTP/SAVP(F) and "a=crypto:<c>" added at the end of its section. 0
 * with *out (g_free it; it holds the key: wipe it too); EPROTO when there is
 * no audio m= line or its profile is another one; EBADMSG as above.
 */
int sdp_savp_add(const char *buf, size_t len, const struct sdp_sdes *c, char **out,
                 size_t *out_len);
