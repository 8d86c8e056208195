/* signaling/sdp_webrtc: real Chromium and Firefox SDP through both directions of a call,
 * golden outputs, payload type mapping, re-offers, hostile SDP. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "signaling/sdp_plain.h"
#include "signaling/sdp_webrtc.h"

#define FP                                                                                  \
	"sha-256 "                                                                          \
	"0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:" \
	"B5:C6:D7:E8:F9"

static const struct sdp_webrtc_cand OUR_CAND[] = {
	{ .foundation = "1",
	  .component = 1,
	  .priority = 2130706431,
	  .addr = "203.0.113.7",
	  .port = 20000,
	  .type = SDP_WEBRTC_HOST },
	{ .foundation = "2",
	  .component = 1,
	  .priority = 2130706175,
	  .addr = "2001:db8::7",
	  .port = 20000,
	  .type = SDP_WEBRTC_HOST },
};

static const struct sdp_webrtc_local L = {
	.plain_addr = "198.51.100.7",
	.plain_port = 10000,
	.ufrag = "RtcG",
	.pwd = "rtcgateIcePassword012345",
	.cand = OUR_CAND,
	.n_cand = G_N_ELEMENTS(OUR_CAND),
	.fingerprint = FP,
};

enum kind {
	FROM_WEB = SDP_WEBRTC_OFFER_FROM_WEB,
	TO_WEB_ANSWER = SDP_WEBRTC_ANSWER_TO_WEB,
	TO_WEB = SDP_WEBRTC_OFFER_TO_WEB,
	FROM_WEB_ANSWER = SDP_WEBRTC_ANSWER_FROM_WEB,
};

static char *fixture_path(const char *name)
{
	const char *root = g_getenv("RTCGATE_SOURCE_ROOT");

	return g_build_filename(root ? root : ".", "tests", "fixtures", "sdp", "webrtc", name,
	                        NULL);
}

static char *fixture(const char *name, size_t *len)
{
	char *path = fixture_path(name), *text = NULL;
	GError *err = NULL;

	if (!g_file_get_contents(path, &text, len, &err))
		g_error("%s: %s", path, err->message);
	g_free(path);
	return text;
}

/* One step on a fixture; the result must succeed. */
static struct sdp_webrtc_out *run(struct sdp_webrtc *s, enum kind k, const char *in,
                                  const struct sdp_webrtc_local *l)
{
	char *name = g_strconcat(in, ".in.sdp", NULL);
	size_t len;
	char *text = fixture(name, &len);
	struct sdp_webrtc_out *o = g_new0(struct sdp_webrtc_out, 1);
	const char *why = NULL;
	int rc = sdp_webrtc_translate(s, (enum sdp_webrtc_step)k, text, len, l, o, &why);

	if (rc != 0)
		g_error("%s: %d %s", name, rc, why);
	g_assert_null(why);
	g_assert_cmpuint(strlen(o->sdp), ==, o->sdp_len);
	g_free(text);
	g_free(name);
	return o;
}

static void out_free(struct sdp_webrtc_out *o)
{
	g_free(o->sdp);
	g_free(o);
}

/* What we write reads back: plain toward the PBX on our port, WebRTC with our ICE. */
static void reads_back(enum kind k, const struct sdp_webrtc_out *o)
{
	const char *why = NULL;

	if (k == FROM_WEB || k == FROM_WEB_ANSWER) {
		struct sdp_plain *p = g_new0(struct sdp_plain, 1);

		g_assert_cmpint(sdp_plain_read(o->sdp, o->sdp_len, p, &why), ==, 0);
		g_assert_cmpstr(p->addr, ==, L.plain_addr);
		g_assert_true(p->port == 0 || p->port == L.plain_port);
		g_assert_true(p->port == 0 || p->rtcp_port == L.plain_port + 1);
		g_assert_cmpint(p->profile, ==, SDP_PLAIN_AVP);
		g_assert_false(p->ice || p->dtls || p->rtcp_mux);
		g_free(p);
	} else {
		struct sdp_webrtc_leg *leg = g_new0(struct sdp_webrtc_leg, 1);
		int rc = sdp_webrtc_read(o->sdp, o->sdp_len, k == TO_WEB_ANSWER, leg, &why);

		if (rc == 0) {
			g_assert_cmpstr(leg->ufrag, ==, L.ufrag);
			g_assert_cmpuint(leg->n_cand, ==, L.n_cand);
			g_assert_true(leg->end_of_candidates);
			g_assert_cmpint(leg->setup, ==,
			                k == TO_WEB ? SDP_WEBRTC_ACTPASS : SDP_WEBRTC_PASSIVE);
		} else {
			/* only a rejected audio stream has no ICE */
			g_assert_nonnull(strstr(o->sdp, "m=audio 0 "));
		}
		g_free(leg);
	}
}

static void golden_check(const char *out_name, const struct sdp_webrtc_out *o)
{
	char *name = g_strconcat(out_name, ".out.sdp", NULL);
	size_t len;
	char *want;

	if (g_getenv("RTCGATE_SDP_REGEN")) {
		char *path = fixture_path(name);

		g_file_set_contents(path, o->sdp, (gssize)o->sdp_len, NULL);
		g_free(path);
	}
	want = fixture(name, &len);
	g_test_message("golden %s", name);
	g_assert_cmpstr(o->sdp, ==, want);
	g_free(want);
	g_free(name);
}

/* Whole calls: each flow is a fresh call, its steps in order, every output golden. */
static void test_golden(void)
{
	static const struct {
		enum kind k;
		const char *in, *out;
	} flows[][6] = {
		{ { FROM_WEB, "chromium_av", "chromium_av.plain" },
		  { TO_WEB_ANSWER, "pbx_answer", "chromium_av.web" },
		  { FROM_WEB, "chromium_hold", "chromium_hold.plain" },
		  { TO_WEB_ANSWER, "pbx_answer_hold", "chromium_hold.web" },
		  { FROM_WEB, "chromium_restart", "chromium_restart.plain" },
		  { TO_WEB_ANSWER, "pbx_answer", "chromium_restart.web" } },
		{ { FROM_WEB, "firefox_av", "firefox_av.plain" },
		  { TO_WEB_ANSWER, "pbx_answer", "firefox_av.web" },
		  { FROM_WEB, "firefox_hold", "firefox_hold.plain" },
		  { TO_WEB_ANSWER, "pbx_answer_hold", "firefox_hold.web" },
		  { FROM_WEB, "firefox_restart", "firefox_restart.plain" } },
		{ { FROM_WEB, "chromium_mdns", "chromium_mdns.plain" },
		  { TO_WEB_ANSWER, "pbx_answer", "chromium_mdns.web" } },
		{ { FROM_WEB, "firefox_mdns", "firefox_mdns.plain" },
		  { TO_WEB_ANSWER, "pbx_answer", "firefox_mdns.web" } },
		{ { TO_WEB, "pbx_offer", "pbx_offer.web" },
		  { FROM_WEB_ANSWER, "chromium_answer", "chromium_answer.plain" },
		  { TO_WEB, "pbx_hold", "pbx_hold.web" } },
		{ { TO_WEB, "pbx_offer", "pbx_offer.web" },
		  { FROM_WEB_ANSWER, "firefox_answer", "firefox_answer.plain" } },
	};

	for (size_t f = 0; f < G_N_ELEMENTS(flows); f++) {
		struct sdp_webrtc *s = sdp_webrtc_new(1000, 2000);

		for (size_t i = 0; i < G_N_ELEMENTS(flows[f]) && flows[f][i].in; i++) {
			struct sdp_webrtc_out *o = run(s, flows[f][i].k, flows[f][i].in, &L);

			golden_check(flows[f][i].out, o);
			reads_back(flows[f][i].k, o);
			out_free(o);
		}
		sdp_webrtc_free(s);
	}
}

static struct sdp_webrtc_leg *read_leg(const char *in, bool answer)
{
	char *name = g_strconcat(in, ".in.sdp", NULL);
	size_t len;
	char *text = fixture(name, &len);
	struct sdp_webrtc_leg *leg = g_new0(struct sdp_webrtc_leg, 1);
	const char *why = NULL;

	g_assert_cmpint(sdp_webrtc_read(text, len, answer, leg, &why), ==, 0);
	g_free(text);
	g_free(name);
	return leg;
}

static bool has_codec(const struct sdp_webrtc_leg *leg, const char *name, unsigned clock)
{
	for (size_t i = 0; i < leg->n_codecs; i++) {
		if (g_ascii_strcasecmp(leg->codecs[i].name, name) == 0 &&
		    leg->codecs[i].clock == clock)
			return true;
	}
	return false;
}

/* What the media leg gets from real browser offers and answers. */
static void test_leg(void)
{
	struct sdp_webrtc_leg *leg = read_leg("chromium_av", false);

	g_assert_cmpuint(strlen(leg->ufrag), >=, 4);
	g_assert_cmpuint(strlen(leg->pwd), >=, 22);
	g_assert_true(leg->trickle && !leg->ice_lite && leg->rtcp_mux && leg->bundle);
	g_assert_cmpstr(leg->fingerprint.hash, ==, "sha-256");
	g_assert_cmpuint(leg->fingerprint.len, ==, 32);
	g_assert_cmpint(leg->setup, ==, SDP_WEBRTC_ACTPASS);
	g_assert_false(leg->dtls_client);
	g_assert_cmpstr(leg->mid, ==, "0");
	g_assert_cmpint(leg->dir, ==, SDP_PLAIN_SENDRECV);
	g_assert_true(has_codec(leg, "opus", 48000) && has_codec(leg, "PCMU", 8000));
	g_assert_cmpint(leg->dtmf_pt, ==, 126); /* the 8 kHz one of two telephone-events */
	g_assert_cmpuint(leg->n_ssrc, ==, 1);
	g_assert_cmpuint(leg->n_cand, >=, 1);
	g_assert_false(leg->cand[0].mdns);
	g_free(leg);

	/* Chromium without microphone permission: mDNS host candidates */
	leg = read_leg("chromium_mdns", false);
	g_assert_cmpuint(leg->n_cand, >=, 1);
	for (size_t i = 0; i < leg->n_cand; i++)
		g_assert_true(leg->cand[i].mdns && g_str_has_suffix(leg->cand[i].addr, ".local"));
	g_free(leg);

	/* Firefox: session-level fingerprint, candidates for RTP and RTCP, end-of-candidates */
	leg = read_leg("firefox_mdns", false);
	g_assert_cmpuint(leg->fingerprint.len, ==, 32);
	g_assert_true(leg->end_of_candidates);
	g_assert_cmpuint(leg->n_cand, ==, 8);
	g_assert_cmpuint(leg->cand[4].component, ==, 2);
	g_assert_true(leg->cand[2].tcp && strcmp(leg->cand[2].tcptype, "active") == 0);
	g_free(leg);

	/* the browsers' answers to our actpass offer: active, so we are the DTLS server */
	leg = read_leg("chromium_answer", true);
	g_assert_cmpint(leg->setup, ==, SDP_WEBRTC_ACTIVE);
	g_assert_false(leg->dtls_client);
	g_free(leg);
	leg = read_leg("firefox_answer", true);
	g_assert_cmpint(leg->setup, ==, SDP_WEBRTC_ACTIVE);
	g_free(leg);
}

/* A browser re-offer: the ICE restart flag, the direction, and the plain offer's o= line. */
static struct sdp_webrtc_out *reoffer(struct sdp_webrtc *s, const char *in, bool restart,
                                      enum sdp_plain_dir dir, const char *o_line)
{
	struct sdp_webrtc_out *o = run(s, FROM_WEB, in, &L);

	g_assert_cmpint(o->leg.ice_restart, ==, restart);
	g_assert_cmpint(o->leg.dir, ==, dir);
	g_assert_true(g_str_has_prefix(o->sdp, o_line));
	return o;
}

/* Re-offers: same o= ids, versions up only when the SDP changes, ICE restart reported,
 * the PBX's telephone-event number (101 for the browser's 126) kept from then on. */
static void test_reoffer(void)
{
	static const struct sdp_webrtc_ptmap want[] = {
		{ .web_pt = 0, .plain_pt = 0, .name = "PCMU", .clock = 8000, .channels = 1 },
		{ .web_pt = 126,
		  .plain_pt = 101,
		  .name = "telephone-event",
		  .clock = 8000,
		  .channels = 1 },
	};
	struct sdp_webrtc *s = sdp_webrtc_new(7, 8);
	struct sdp_webrtc_out *o = reoffer(s, "chromium_av", false, SDP_PLAIN_SENDRECV,
	                                   "v=0\r\no=rtcgate 8 1 "),
	                      *again;

	out_free(o);
	o = run(s, TO_WEB_ANSWER, "pbx_answer", &L);
	g_assert_true(g_str_has_prefix(o->sdp, "v=0\r\no=rtcgate 7 1 "));
	g_assert_true(o->has_pbx && o->pbx.port == 18004);
	/* the media path's table: PCMU 0 ↔ 0, telephone-event 126 (browser) ↔ 101 (PBX) */
	g_assert_cmpuint(o->n_map, ==, G_N_ELEMENTS(want));
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
		g_assert_cmpuint(o->map[i].web_pt, ==, want[i].web_pt);
		g_assert_cmpuint(o->map[i].plain_pt, ==, want[i].plain_pt);
		g_assert_cmpstr(o->map[i].name, ==, want[i].name);
		g_assert_cmpuint(o->map[i].clock, ==, want[i].clock);
		g_assert_cmpuint(o->map[i].channels, ==, want[i].channels);
	}
	g_assert_nonnull(strstr(o->sdp, "m=audio 20000 UDP/TLS/RTP/SAVPF 0 126\r\n"));
	out_free(o);

	/* hold: same credentials, sendonly, version 2, DTMF under the PBX's number */
	o = reoffer(s, "chromium_hold", false, SDP_PLAIN_SENDONLY, "v=0\r\no=rtcgate 8 2 ");
	g_assert_nonnull(strstr(o->sdp, "a=rtpmap:101 telephone-event/8000\r\n"));
	g_assert_nonnull(strstr(o->sdp, "a=sendonly\r\n"));
	/* the same offer again: the same SDP, the same version */
	again = run(s, FROM_WEB, "chromium_hold", &L);
	g_assert_cmpstr(again->sdp, ==, o->sdp);
	out_free(again);
	out_free(o);
	o = run(s, TO_WEB_ANSWER, "pbx_answer_hold", &L);
	g_assert_nonnull(strstr(o->sdp, "a=recvonly\r\n"));
	g_assert_true(g_str_has_prefix(o->sdp, "v=0\r\no=rtcgate 7 2 "));
	out_free(o);

	/* resume with an ICE restart: reported, new credentials in the leg */
	out_free(reoffer(s, "chromium_restart", true, SDP_PLAIN_SENDRECV, "v=0\r\no=rtcgate 8 3 "));
	sdp_webrtc_free(s);
}

/* PBX calls in: its numbers go to the browser; its hold re-offer keeps them. */
static void test_reverse(void)
{
	struct sdp_webrtc *s = sdp_webrtc_new(1, 2);
	struct sdp_webrtc_out *o = run(s, TO_WEB, "pbx_offer", &L);
	const char *why = NULL;
	size_t len;
	char *text;

	g_assert_true(o->has_pbx && !o->has_leg);
	g_assert_nonnull(strstr(o->sdp, "m=audio 20000 UDP/TLS/RTP/SAVPF 8 0 101\r\n"));
	g_assert_null(strstr(o->sdp, "G722")); /* not in the default list */
	g_assert_null(strstr(o->sdp, "CN/8000"));
	g_assert_null(strstr(o->sdp, "m=video")); /* the browser gets audio only */
	out_free(o);
	/* an answer to the wrong direction is the caller's mistake */
	o = g_new0(struct sdp_webrtc_out, 1);
	text = fixture("pbx_answer.in.sdp", &len);
	g_assert_cmpint(sdp_webrtc_translate(s, SDP_WEBRTC_ANSWER_TO_WEB, text, len, &L, o, &why),
	                ==, EINVAL);
	g_assert_cmpstr(why, ==, "No offer from the browser pending");
	g_free(text);
	g_free(o);
	o = run(s, FROM_WEB_ANSWER, "chromium_answer", &L);
	g_assert_true(o->has_leg);
	g_assert_cmpint(o->leg.setup, ==, SDP_WEBRTC_ACTIVE);
	g_assert_cmpuint(o->n_map, ==, 3);
	g_assert_nonnull(strstr(o->sdp, "m=video 0 RTP/AVP 96\r\n")); /* mirrors the PBX's offer */
	out_free(o);
	o = run(s, TO_WEB, "pbx_hold", &L);
	g_assert_true(o->pbx.hold_c0);
	g_assert_nonnull(strstr(o->sdp, "a=sendonly\r\n"));
	g_assert_nonnull(strstr(o->sdp, "UDP/TLS/RTP/SAVPF 8 0 101\r\n"));
	g_assert_true(g_str_has_prefix(o->sdp, "v=0\r\no=rtcgate 1 2 "));
	out_free(o);
	sdp_webrtc_free(s);
}

/* The codec list toward the PBX, and no common codec either way (488 for the B2BUA). */
static void test_codecs(void)
{
	static const struct {
		const char *codecs;
		int rc;
		const char *m;
	} cases[] = {
		{ NULL, 0, "m=audio 10000 RTP/AVP 0 8 126\r\n" },
		{ "opus,PCMU,telephone-event", 0, "m=audio 10000 RTP/AVP 111 0 110 126\r\n" },
		{ "G722", 0, "m=audio 10000 RTP/AVP 9\r\n" }, /* no DTMF when not allowed */
		{ "telephone-event", EPROTO, NULL },
		{ "G729", EPROTO, NULL },
	};
	size_t len;
	char *text = fixture("chromium_av.in.sdp", &len);

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct sdp_webrtc *s = sdp_webrtc_new(1, 2);
		struct sdp_webrtc_out *o = g_new0(struct sdp_webrtc_out, 1);
		struct sdp_webrtc_local l = L;
		const char *why = NULL;
		int rc;

		l.codecs = cases[i].codecs;
		rc = sdp_webrtc_translate(s, SDP_WEBRTC_OFFER_FROM_WEB, text, len, &l, o, &why);
		g_test_message("codecs %s: %d %s", cases[i].codecs, rc, why ? why : "");
		g_assert_cmpint(rc, ==, cases[i].rc);
		if (rc == 0)
			g_assert_nonnull(strstr(o->sdp, cases[i].m));
		else
			g_assert_cmpstr(why, ==, "No common codec");
		g_free(o->sdp);
		g_free(o);
		sdp_webrtc_free(s);
	}
	g_free(text);
}

/* A PBX answer with nothing we offered: "No common codec", and the call state is unchanged. */
static void test_answer_no_codec(void)
{
	static const char g729[] = "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\n"
	                           "t=0 0\r\nm=audio 4000 RTP/AVP 18\r\n";
	struct sdp_webrtc *s = sdp_webrtc_new(1, 2);
	struct sdp_webrtc_out *o = run(s, FROM_WEB, "chromium_av", &L);
	const char *why = NULL;

	out_free(o);
	o = g_new0(struct sdp_webrtc_out, 1);
	g_assert_cmpint(
	        sdp_webrtc_translate(s, SDP_WEBRTC_ANSWER_TO_WEB, g729, strlen(g729), &L, o, &why),
	        ==, EPROTO);
	g_assert_cmpstr(why, ==, "No common codec");
	g_assert_null(o->sdp);
	g_free(o);
	/* the offer is still pending: a good answer goes through, as version 1 */
	o = run(s, TO_WEB_ANSWER, "pbx_answer", &L);
	g_assert_true(g_str_has_prefix(o->sdp, "v=0\r\no=rtcgate 1 1 "));
	out_free(o);
	sdp_webrtc_free(s);
}

#define FPV                                                                                       \
	"D4:11:BD:12:E1:0E:EE:8E:9A:AA:82:96:87:4F:07:40:D5:3F:61:32:97:C7:95:06:E1:AA:87:74:5C:" \
	"65:"                                                                                     \
	"DC:88"
#define CAND "a=candidate:1 1 udp 2122194687 192.0.2.2 48763 typ host\r\n"
/* A browser offer cut down to what the checks look at. */
#define BASE                                                                            \
	"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"       \
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\n" \
	"a=ice-pwd:0123456789abcdefghijkl\r\na=fingerprint:sha-256 " FPV "\r\n"         \
	"a=setup:actpass\r\na=mid:0\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n" CAND

/* BASE with its first `from` replaced by `to`. */
static char *edit(const char *from, const char *to)
{
	const char *at = strstr(BASE, from);

	g_assert_nonnull(at);
	return g_strdup_printf("%.*s%s%s", (int)(at - BASE), BASE, to, at + strlen(from));
}

static int offer(const char *text, size_t len, struct sdp_webrtc_out *o, const char **why)
{
	struct sdp_webrtc *s = sdp_webrtc_new(1, 2);
	struct sdp_webrtc_local l = L;
	int rc;

	l.codecs = "opus,PCMU";
	memset(o, 0, sizeof(*o));
	rc = sdp_webrtc_translate(s, SDP_WEBRTC_OFFER_FROM_WEB, text, len, &l, o, why);
	sdp_webrtc_free(s);
	return rc;
}

static void test_hostile(void)
{
	static const struct {
		const char *from, *to;
		int rc;
		const char *why;
	} cases[] = {
		{ "", "", 0, NULL },
		{ "a=ice-ufrag:abcd\r\n", "", EPROTO, "WebRTC SDP without ICE credentials" },
		{ "a=ice-pwd:0123456789abcdefghijkl\r\n", "", EPROTO,
		  "WebRTC SDP without ICE credentials" },
		{ "a=ice-ufrag:abcd", "a=ice-ufrag:ab", EBADMSG, "Bad a=ice-ufrag" },
		{ "a=ice-ufrag:abcd", "a=ice-ufrag:ab;cd", EBADMSG, "Bad a=ice-ufrag" },
		{ "a=ice-pwd:0123456789abcdefghijkl", "a=ice-pwd:short", EBADMSG, "Bad a=ice-pwd" },
		{ "a=fingerprint:sha-256 " FPV "\r\n", "", EPROTO,
		  "WebRTC SDP without a usable a=fingerprint" },
		{ "a=fingerprint:sha-256 " FPV, "a=fingerprint:md5 00:11:22", EPROTO,
		  "WebRTC SDP without a usable a=fingerprint" },
		{ "a=fingerprint:sha-256 " FPV, "a=fingerprint:sha-256 D4:11:BD", EBADMSG,
		  "Bad a=fingerprint" },
		{ "sha-256 D4:11", "sha-256 D4-11", EBADMSG, "Bad a=fingerprint" },
		{ "sha-256 D4:11", "sha-256 ZZ:11", EBADMSG, "Bad a=fingerprint" },
		{ "sha-256 D4:11", "sha-256D4:11", EBADMSG, "Bad a=fingerprint" },
		{ "a=setup:actpass", "a=setup:holdconn", EBADMSG,
		  "a=setup:holdconn not supported" },
		{ "a=setup:actpass", "a=setup:sideways", EBADMSG, "Bad a=setup" },
		{ "typ host", "host", EBADMSG, "Bad a=candidate" },
		{ "typ host", "typ nat", EBADMSG, "Bad a=candidate" },
		{ "192.0.2.2 48763", "192.0.2.2;x 48763", EBADMSG, "Bad a=candidate" },
		{ "192.0.2.2 48763", "192.0.2.2 70000", EBADMSG, "Bad a=candidate" },
		{ "2122194687", "99999999999", EBADMSG, "Bad a=candidate" },
		{ "udp 2122194687", "udp  2122194687", EBADMSG, "Bad a=candidate" },
		{ "typ host", "typ host raddr", EBADMSG, "Bad a=candidate" },
		{ "typ host", "typ host tcptype sideways", EBADMSG, "Bad a=candidate" },
		{ "a=mid:0\r\n", "", EBADMSG, "Missing a=mid under BUNDLE" },
		{ "a=mid:0", "a=mid:0123456789012345678901234567890123456789", EBADMSG,
		  "Bad a=mid" },
		{ "BUNDLE 0", "BUNDLE 0 7", EBADMSG, "BUNDLE names an unknown mid" },
		{ "BUNDLE 0", "BUNDLEX 0", 0, NULL }, /* another group semantics: not ours */
		{ "SAVPF 111 0", "SAVPF 111 0 0", EBADMSG, "Duplicate payload type" },
		{ "SAVPF 111 0", "SAVPF 111 128", EBADMSG, "Bad payload type" },
		{ "m=audio", "m=video", EPROTO, "No audio stream" },
		{ "m=audio 9 UDP/TLS/RTP/SAVPF", "m=audio 9 RTP/AVP", EPROTO,
		  "Audio stream is not WebRTC (UDP/TLS/RTP/SAVPF)" },
		{ "m=audio 9", "m=audio 0", EPROTO, "Audio stream disabled" },
		{ CAND, CAND "a=ssrc:99999999999 cname:x\r\n", EBADMSG, "Bad a=ssrc" },
		{ CAND, CAND "a=ssrc:x cname:x\r\n", EBADMSG, "Bad a=ssrc" },
		{ "SAVPF 111 0", "SAVPF 8", EPROTO, "No common codec" }, /* PCMA: not in the list */
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *text = edit(cases[i].from, cases[i].to);
		struct sdp_webrtc_out *o = g_new(struct sdp_webrtc_out, 1);
		const char *why = NULL;
		int rc;

		rc = offer(text, strlen(text), o, &why);
		g_test_message("hostile %zu: %d %s", i, rc, why ? why : "");
		g_assert_cmpint(rc, ==, cases[i].rc);
		g_assert_cmpstr(why, ==, cases[i].why);
		if (rc != 0)
			g_assert_null(o->sdp);
		g_free(o->sdp);
		g_free(o);
		g_free(text);
	}
}

/* Candidates: the bound, what is ignored, huge lines, far too many lines. */
static void test_candidates(void)
{
	struct sdp_webrtc_out *o = g_new0(struct sdp_webrtc_out, 1);
	GString *g = g_string_new(BASE);
	const char *why = NULL;
	char *text;

	/* other transports and DNS names that are not mDNS: ignored, counted */
	g_string_append(g, "a=candidate:2 1 ssltcp 1 192.0.2.2 443 typ host\r\n"
	                   "a=candidate:3 1 udp 1 gw.example.com 5000 typ host\r\n"
	                   "a=candidate:4 1 udp 1 abc-1.local 5000 typ host generation 0\r\n"
	                   "a=candidate:5 1 udp 1 198.51.100.1 6000 typ srflx raddr 192.0.2.2 "
	                   "rport 48763\r\n");
	g_assert_cmpint(offer(g->str, g->len, o, &why), ==, 0);
	g_assert_cmpuint(o->leg.n_cand, ==, 3);
	g_assert_cmpuint(o->leg.cand_ignored, ==, 2);
	g_assert_true(o->leg.cand[1].mdns);
	g_assert_cmpint(o->leg.cand[2].type, ==, SDP_WEBRTC_SRFLX);
	g_assert_cmpstr(o->leg.cand[2].raddr, ==, "192.0.2.2");
	g_assert_cmpuint(o->leg.cand[2].rport, ==, 48763);
	g_free(o->sdp);

	/* 300 candidates: the first SDP_WEBRTC_MAX_CAND kept */
	g_string_assign(g, BASE);
	for (int i = 0; i < 300; i++)
		g_string_append_printf(g, "a=candidate:%d 1 udp %d 192.0.2.2 %d typ host\r\n", i,
		                       1000 + i, 2000 + i);
	g_assert_cmpint(offer(g->str, g->len, o, &why), ==, 0);
	g_assert_cmpuint(o->leg.n_cand, ==, SDP_WEBRTC_MAX_CAND);
	g_assert_cmpuint(o->leg.cand_ignored, ==, 300 + 1 - SDP_WEBRTC_MAX_CAND);
	g_free(o->sdp);

	/* 1,000 candidates: more than an SDP may hold (32 KiB, 512 lines) */
	for (int i = 300; i < 1000; i++)
		g_string_append_printf(g, "a=candidate:%d 1 udp 1 192.0.2.2 %d typ host\r\n", i, i);
	g_assert_cmpint(offer(g->str, g->len, o, &why), ==, EBADMSG);
	g_assert_cmpstr(why, ==, "SDP too large");

	/* huge lines: a 5,000-character ufrag, a 2,000-character candidate */
	g_string_assign(g, BASE);
	g_string_append(g, "a=candidate:1 1 udp 1 192.0.2.2 9 typ host x ");
	for (int i = 0; i < 2000; i++)
		g_string_append_c(g, 'y');
	g_string_append(g, "\r\n");
	g_assert_cmpint(offer(g->str, g->len, o, &why), ==, EBADMSG);
	g_assert_cmpstr(why, ==, "Bad a=candidate");
	g_string_assign(g, "a=ice-ufrag:");
	for (int i = 0; i < 5000; i++)
		g_string_append_c(g, 'u');
	text = edit("a=ice-ufrag:abcd", g->str);
	g_assert_cmpint(offer(text, strlen(text), o, &why), ==, EBADMSG);
	g_assert_cmpstr(why, ==, "Bad a=ice-ufrag");
	g_free(text);
	g_string_free(g, TRUE);
	g_free(o);
}

/* Answers: actpass refused, passive makes us the DTLS client, the mid must match. */
static void test_answer_checks(void)
{
	struct sdp_webrtc_leg *leg = g_new0(struct sdp_webrtc_leg, 1);
	char *text = edit("a=setup:actpass", "a=setup:passive");
	const char *why = NULL;

	g_assert_cmpint(sdp_webrtc_read(BASE, strlen(BASE), true, leg, &why), ==, EBADMSG);
	g_assert_cmpstr(why, ==, "a=setup:actpass in an answer");
	g_assert_cmpint(sdp_webrtc_read(text, strlen(text), true, leg, &why), ==, 0);
	g_assert_true(leg->dtls_client);
	g_free(text);
	g_free(leg);
	/* no a=setup: active (RFC 4145 §4) */
	text = edit("a=setup:actpass\r\n", "");
	leg = g_new0(struct sdp_webrtc_leg, 1);
	g_assert_cmpint(sdp_webrtc_read(text, strlen(text), true, leg, &why), ==, 0);
	g_assert_cmpint(leg->setup, ==, SDP_WEBRTC_ACTIVE);
	g_free(text);
	g_free(leg);
}

static void test_answer_mid(void)
{
	struct sdp_webrtc *s = sdp_webrtc_new(1, 2);
	struct sdp_webrtc_out *o = run(s, TO_WEB, "pbx_offer", &L);
	size_t len;
	char *text = fixture("chromium_answer.in.sdp", &len), *bad;
	const char *why = NULL;

	out_free(o);
	o = g_new0(struct sdp_webrtc_out, 1);
	/* the browser's answer names another mid than our offer */
	bad = g_strdup(text);
	memcpy(strstr(bad, "a=mid:0"), "a=mid:7", 7);
	memcpy(strstr(bad, "BUNDLE 0"), "BUNDLE 7", 8);
	g_assert_cmpint(sdp_webrtc_translate(s, SDP_WEBRTC_ANSWER_FROM_WEB, bad, len, &L, o, &why),
	                ==, EBADMSG);
	g_assert_cmpstr(why, ==, "Answer's audio m= line does not match the offer");
	g_assert_null(o->sdp);
	g_free(bad);
	g_free(text);
	g_free(o);
	sdp_webrtc_free(s);
}

/* Every prefix of a real offer is refused with a reason or translated. */
static void test_prefixes(void)
{
	size_t len;
	char *text = fixture("firefox_av.in.sdp", &len);
	struct sdp_webrtc_out *o = g_new0(struct sdp_webrtc_out, 1);

	for (size_t n = 0; n < len; n += 7) {
		const char *why = NULL;
		int rc = offer(text, n, o, &why);

		if (rc != 0)
			g_assert_nonnull(why);
		g_free(o->sdp);
	}
	g_free(o);
	g_free(text);
}

static void test_bad_local(void)
{
	static const struct sdp_webrtc_cand mdns = {
		.foundation = "1", .component = 1, .priority = 1, .addr = "x.local", .port = 9
	};
	static const struct sdp_webrtc_cand spaced = {
		.foundation = "a b", .component = 1, .priority = 1, .addr = "192.0.2.1", .port = 9
	};
	struct sdp_webrtc_local bad[8];
	size_t len;
	char *text = fixture("chromium_av.in.sdp", &len);

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		bad[i] = L;
	bad[0].plain_addr = "pbx.example";
	bad[1].plain_port = 0;
	bad[2].ufrag = "abc";
	bad[3].pwd = "short";
	bad[4].fingerprint = "sha-256 00:11";
	bad[5].fingerprint = "md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
	bad[6].cand = &mdns;
	bad[6].n_cand = 1;
	bad[7].cand = &spaced;
	bad[7].n_cand = 1;
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct sdp_webrtc *s = sdp_webrtc_new(1, 2);
		struct sdp_webrtc_out *o = g_new0(struct sdp_webrtc_out, 1);
		const char *why = NULL;

		g_assert_cmpint(sdp_webrtc_translate(s, SDP_WEBRTC_OFFER_FROM_WEB, text, len,
		                                     &bad[i], o, &why),
		                ==, EINVAL);
		g_test_message("bad local %zu: %s", i, why);
		g_assert_nonnull(why);
		g_assert_null(o->sdp);
		g_free(o);
		sdp_webrtc_free(s);
	}
	g_free(text);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	sdp_plain_init();
	g_test_add_func("/sdp_webrtc/golden", test_golden);
	g_test_add_func("/sdp_webrtc/leg", test_leg);
	g_test_add_func("/sdp_webrtc/reoffer", test_reoffer);
	g_test_add_func("/sdp_webrtc/reverse", test_reverse);
	g_test_add_func("/sdp_webrtc/codecs", test_codecs);
	g_test_add_func("/sdp_webrtc/answer_no_codec", test_answer_no_codec);
	g_test_add_func("/sdp_webrtc/hostile", test_hostile);
	g_test_add_func("/sdp_webrtc/candidates", test_candidates);
	g_test_add_func("/sdp_webrtc/answer_checks", test_answer_checks);
	g_test_add_func("/sdp_webrtc/answer_mid", test_answer_mid);
	g_test_add_func("/sdp_webrtc/prefixes", test_prefixes);
	g_test_add_func("/sdp_webrtc/bad_local", test_bad_local);
	return g_test_run();
}
