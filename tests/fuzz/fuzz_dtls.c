/* libFuzzer target for ice/dtls, ice/srtp and ice/demux: arbitrary datagrams on a WebRTC leg. */
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ice/demux.h"
#include "ice/dtls.h"
#include "ice/srtp.h"

#define DGRAM_MAX 2048

/*
 * The whole input is also parsed as an a=fingerprint value (round trip).
 * Input: byte 0 picks the SRTP profile and whether the endpoint is a client
 * or a server; then datagrams, each a 2-byte big-endian length and that many
 * bytes (cut at the end of the input). Each datagram goes through ice_demux
 * and then to the DTLS endpoint (DTLS) or to SRTP unprotect (RTP, RTCP) of a
 * context with fixed keys, as a leg's receive path would. Invariants: no
 * crash, no leak, unprotect never grows a packet, nothing is sent for a
 * datagram that is not whole DTLS records.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dtls_ctx *ctx;
static struct dtls_fingerprint peer_fp;

static void on_send(void *user, const uint8_t *d, size_t len)
{
	(void)d;
	if (len > 1200)
		abort(); /* the MTU */
	(*(size_t *)user)++;
}

static void setup(void)
{
	struct dtls_cert *cert = NULL;
	char *why = NULL;

	if (dtls_cert_open(NULL, NULL, &cert, &why) || dtls_ctx_new(cert, NULL, &ctx, &why))
		abort();
	peer_fp = *dtls_cert_fingerprint(cert);
	dtls_cert_free(cert);
}

static struct ice_srtp *keyed_srtp(enum ice_srtp_profile prof)
{
	struct ice_srtp *s = ice_srtp_new();
	struct ice_srtp_keys k = { .profile = prof };
	size_t kl, sl;

	if (ice_srtp_profile_lengths(prof, &kl, &sl))
		abort();
	k.local.key_len = k.remote.key_len = (uint8_t)kl;
	k.local.salt_len = k.remote.salt_len = (uint8_t)sl;
	memset(k.local.bytes, 0x11, kl + sl);
	memset(k.remote.bytes, 0x22, kl + sl);
	if (ice_srtp_set_keys(s, &k))
		abort();
	return s;
}

static void feed(struct dtls *d, struct ice_srtp *media, const uint8_t *p, size_t len,
                 const size_t *sent)
{
	static uint8_t buf[DGRAM_MAX + ICE_SRTP_TRAILER_MAX];
	enum ice_pkt kind = ice_demux(p, len);
	size_t before = *sent, n = len;

	switch (kind) {
	case ICE_PKT_DTLS:
		if (dtls_input(d, p, len, 0) == EBADMSG && *sent != before)
			abort();
		break;
	case ICE_PKT_RTP:
	case ICE_PKT_RTCP:
		memcpy(buf, p, len);
		if (ice_srtp_unprotect(media, kind == ICE_PKT_RTCP ? ICE_SRTP_RTCP : ICE_SRTP_RTP,
		                       buf, &n) == 0 &&
		    n > len)
			abort();
		break;
	default: break;
	}
}

/* The input as an a=fingerprint value: what parses formats back to the same fingerprint. */
static void fingerprint_roundtrip(const uint8_t *data, size_t size)
{
	char *s = g_strndup((const char *)data, size);
	struct dtls_fingerprint fp, again;
	char text[DTLS_FP_TEXT_MAX];

	if (dtls_fingerprint_parse(s, &fp) == 0) {
		dtls_fingerprint_format(&fp, text);
		if (dtls_fingerprint_parse(text, &again) || !dtls_fingerprint_equal(&fp, &again))
			abort();
	}
	g_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ice_srtp_profile profs[] = { ICE_SRTP_AES128_CM_SHA1_80,
		                                       ICE_SRTP_AEAD_AES_128_GCM,
		                                       ICE_SRTP_AEAD_AES_256_GCM };
	struct ice_srtp *keys, *media;
	struct dtls *d;
	size_t sent = 0;

	if (size < 1)
		return 0;
	fingerprint_roundtrip(data, size);
	if (!ctx)
		setup();
	keys = ice_srtp_new();
	media = keyed_srtp(profs[data[0] % 3]);
	d = dtls_new(ctx, data[0] & 0x80 ? DTLS_ROLE_CLIENT : DTLS_ROLE_SERVER, &peer_fp, keys,
	             on_send, NULL, &sent);
	if (!d || dtls_start(d, 0) == EALREADY)
		abort();
	for (size_t i = 1; i + 2 <= size;) {
		size_t len = (size_t)data[i] << 8 | data[i + 1];

		i += 2;
		len = len > size - i ? size - i : len;
		len = len > DGRAM_MAX ? DGRAM_MAX : len;
		feed(d, media, data + i, len, &sent);
		i += len;
	}
	(void)dtls_next_timeout(d, 0);
	(void)dtls_handle_timeout(d, 20 * 1000 * 1000); /* past the handshake bound */
	dtls_close(d);
	dtls_free(d);
	ice_srtp_free(keys);
	ice_srtp_free(media);
	return 0;
}
