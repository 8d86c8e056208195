/* signaling/sdp_plain: reading offers and answers, golden rewrites, hostile SDP. */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/socket.h>

#include "signaling/sdp_plain.h"

#define FILTER "PCMU,PCMA,opus,telephone-event"

static const struct sdp_plain_local L4 = {
	.addr = "203.0.113.7", .port = 10000, .sess_id = 1001, .sess_version = 1
};
static const struct sdp_plain_local L4F = {
	.addr = "203.0.113.7", .port = 10000, .sess_id = 1001, .sess_version = 2, .codecs = FILTER
};
static const struct sdp_plain_local L6 = {
	.addr = "2001:db8::7", .port = 10002, .sess_id = 77, .sess_version = 3
};
static const struct sdp_plain_local LWEB = { .addr = "203.0.113.7",
	                                     .port = 10004,
	                                     .sess_id = 5,
	                                     .sess_version = 1,
	                                     .codecs = FILTER,
	                                     .to_avp = true };

static char *fixture(const char *name, size_t *len)
{
	const char *root = g_getenv("RTCGATE_SOURCE_ROOT");
	char *path = g_build_filename(root ? root : ".", "tests", "fixtures", "sdp", name, NULL);
	char *text = NULL;
	GError *err = NULL;

	if (!g_file_get_contents(path, &text, len, &err))
		g_error("%s: %s", path, err->message);
	g_free(path);
	return text;
}

static struct sdp_plain *read_ok(const char *text, size_t len)
{
	struct sdp_plain *p = g_new0(struct sdp_plain, 1);
	const char *why = NULL;
	int rc = sdp_plain_read(text, len, p, &why);

	if (rc != 0)
		g_error("read: %d %s", rc, why);
	return p;
}

static struct sdp_plain *read_fixture(const char *name)
{
	size_t len;
	char *text = fixture(name, &len);
	struct sdp_plain *p = read_ok(text, len);

	g_free(text);
	return p;
}

/* Golden pairs: <in>.in.sdp rewritten with local is <out>.out.sdp, byte for byte. */
static void test_golden(void)
{
	static const struct {
		const char *in, *out;
		const struct sdp_plain_local *local;
	} cases[] = {
		{ "sipp_uac", "sipp_uac", &L4 },
		{ "asterisk", "asterisk_filtered", &L4F },
		{ "freeswitch", "freeswitch", &L4 },
		{ "freeswitch", "freeswitch_ipv6", &L6 },
		{ "jssip_plain", "jssip_plain", &L4F },
		{ "hold_c0", "hold_c0", &L4 },
		{ "sendonly_ipv6", "sendonly_ipv6", &L4 },
		{ "rejected", "rejected", &L4 },
		{ "chromium", "chromium_plain", &LWEB },
	};
	bool regen = g_getenv("RTCGATE_SDP_REGEN") != NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *in_name = g_strconcat(cases[i].in, ".in.sdp", NULL);
		char *out_name = g_strconcat(cases[i].out, ".out.sdp", NULL);
		size_t in_len, want_len, out_len = 0;
		char *in = fixture(in_name, &in_len), *out = NULL, *want;
		const char *why = NULL;
		struct sdp_plain *again;

		g_test_message("golden %s -> %s", in_name, out_name);
		g_assert_cmpint(sdp_plain_rewrite(in, in_len, cases[i].local, &out, &out_len, &why),
		                ==, 0);
		g_assert_null(why);
		g_assert_cmpuint(strlen(out), ==, out_len);
		if (regen) {
			char *path = g_build_filename(g_getenv("RTCGATE_SOURCE_ROOT"), "tests",
			                              "fixtures", "sdp", out_name, NULL);

			g_file_set_contents(path, out, (gssize)out_len, NULL);
			g_free(path);
		}
		want = fixture(out_name, &want_len);
		g_assert_cmpstr(out, ==, want);
		/* the output reads back, anchored on us */
		again = read_ok(out, out_len);
		g_assert_cmpstr(again->addr, ==, cases[i].local->addr);
		g_assert_false(again->ice || again->dtls || again->crypto || again->rtcp_mux);
		g_free(again);
		g_free(want);
		g_free(out);
		g_free(in);
		g_free(out_name);
		g_free(in_name);
	}
}

static void test_read_pbx(void)
{
	struct sdp_plain *p = read_fixture("freeswitch.in.sdp");

	g_assert_cmpint(p->family, ==, AF_INET);
	g_assert_cmpstr(p->addr, ==, "10.0.0.5");
	g_assert_cmpuint(p->port, ==, 22150);
	g_assert_cmpstr(p->rtcp_addr, ==, "10.0.0.5");
	g_assert_cmpuint(p->rtcp_port, ==, 22151);
	g_assert_cmpint(p->profile, ==, SDP_PLAIN_AVP);
	g_assert_cmpint(p->dir, ==, SDP_PLAIN_SENDRECV);
	g_assert_cmpuint(p->ptime, ==, 20);
	g_assert_cmpint(p->dtmf_pt, ==, 101);
	g_assert_cmpuint(p->n_media, ==, 2);
	g_assert_cmpuint(p->media_index, ==, 0);
	g_assert_cmpuint(p->n_codecs, ==, 6);
	g_assert_cmpuint(p->codecs[0].pt, ==, 102);
	g_assert_cmpstr(p->codecs[0].name, ==, "opus");
	g_assert_cmpuint(p->codecs[0].clock, ==, 48000);
	g_assert_cmpuint(p->codecs[0].channels, ==, 2);
	g_assert_true(g_str_has_prefix(p->codecs[0].fmtp, "useinbandfec=1;"));
	g_assert_cmpstr(p->codecs[5].name, ==, "CN");
	g_free(p);

	/* static payload types without rtpmap take RFC 3551's names */
	p = read_fixture("sendonly_ipv6.in.sdp");
	g_assert_cmpint(p->family, ==, AF_INET6);
	g_assert_cmpstr(p->addr, ==, "2001:db8::5");
	g_assert_cmpstr(p->codecs[0].name, ==, "PCMU");
	g_assert_cmpuint(p->codecs[0].clock, ==, 8000);
	g_assert_cmpint(p->dir, ==, SDP_PLAIN_SENDONLY); /* media level over session level */
	g_assert_cmpuint(p->rtcp_port, ==, 30001);
	g_assert_cmpstr(p->rtcp_addr, ==, "2001:db8::5");
	g_assert_cmpint(p->dtmf_pt, ==, -1);
	g_free(p);

	p = read_fixture("hold_c0.in.sdp");
	g_assert_true(p->hold_c0);
	g_assert_cmpint(p->dir, ==, SDP_PLAIN_SENDONLY);
	g_free(p);

	p = read_fixture("rejected.in.sdp");
	g_assert_cmpuint(p->port, ==, 0);
	g_assert_cmpuint(p->rtcp_port, ==, 0);
	g_assert_cmpuint(p->media_index, ==, 1);
	g_free(p);
}

static void test_read_chromium(void)
{
	struct sdp_plain *p = read_fixture("chromium.in.sdp");
	size_t len, out_len;
	char *text, *out = NULL;
	const char *why = NULL;

	g_assert_cmpint(p->profile, ==, SDP_PLAIN_DTLS_SRTP);
	g_assert_cmpstr(p->proto, ==, "UDP/TLS/RTP/SAVPF");
	g_assert_true(p->ice && p->dtls && p->rtcp_mux);
	g_assert_false(p->crypto);
	g_assert_false(p->hold_c0); /* c=0.0.0.0 with ICE is a placeholder, not hold */
	g_assert_cmpint(p->dir, ==, SDP_PLAIN_SENDRECV);
	g_assert_cmpuint(p->n_codecs, ==, 8);
	g_assert_cmpint(p->dtmf_pt, ==, 110);
	g_assert_cmpuint(p->port, ==, 9);
	g_free(p);

	/* plain RTP on the other leg only when the caller terminates DTLS-SRTP */
	text = fixture("chromium.in.sdp", &len);
	g_assert_cmpint(sdp_plain_rewrite(text, len, &L4, &out, &out_len, &why), ==, EPROTO);
	g_assert_cmpstr(why, ==, "Audio stream is not plain RTP");
	g_assert_null(out);
	g_free(text);
}

static void test_filter(void)
{
	static const struct {
		const char *codecs;
		int rc;
		const char *first;
	} cases[] = {
		{ "pcma", 0, "PCMA" },
		{ " G722 , gsm ", 0, "G722" },
		{ "telephone-event", EPROTO, NULL }, /* DTMF alone is no codec */
		{ "G729", EPROTO, NULL },
		{ "", EPROTO, NULL },
	};
	size_t len;
	char *text = fixture("asterisk.in.sdp", &len);

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct sdp_plain_local l = L4;
		const char *why = NULL;
		char *out = NULL;
		size_t out_len = 0;
		int rc;

		l.codecs = cases[i].codecs;
		rc = sdp_plain_rewrite(text, len, &l, &out, &out_len, &why);
		g_test_message("filter '%s': %d %s", cases[i].codecs, rc, why ? why : "");
		g_assert_cmpint(rc, ==, cases[i].rc);
		if (rc == 0) {
			struct sdp_plain *p = read_ok(out, out_len);

			g_assert_cmpstr(p->codecs[0].name, ==, cases[i].first);
			g_assert_false(strstr(out, "telephone-event"));
			g_free(p);
		} else {
			g_assert_cmpstr(why, ==, "No common codec");
		}
		g_free(out);
	}
	g_free(text);
}

#define HDR  "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
#define SESS HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"

static void test_hostile(void)
{
	static const struct {
		const char *sdp;
		int rc;
		const char *why;
	} cases[] = {
		{ "", EBADMSG, "Empty SDP" },
		{ "o=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", EBADMSG,
		  "Unparsable SDP" },
		{ "v=1\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
		  EBADMSG, "Bad SDP version" },
		{ SESS "m=audio 70000 RTP/AVP 0\r\n", EBADMSG, "Bad m= line" },
		{ SESS "m=audio -1 RTP/AVP 0\r\n", EBADMSG, "Bad m= line" },
		{ SESS "m=audio 4000/2 RTP/AVP 0\r\n", EBADMSG, "Port counts in m= not supported" },
		{ SESS "m=audio 4000 RTP/AVP\r\n", EBADMSG, "m= line without formats" },
		{ SESS "m=audio 4000 RTP/AVP 0 200\r\n", EBADMSG, "Bad payload type" },
		{ SESS "m=audio 4000 RTP/AVP 0 0\r\n", EBADMSG, "Duplicate payload type" },
		{ SESS "m=video 4000 RTP/AVP 96\r\n", EPROTO, "No audio stream" },
		{ SESS "m=audio 4000 udp 0\r\n", EPROTO, "Audio stream is not RTP" },
		{ HDR "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", EBADMSG, "Missing c=" },
		{ HDR "c=IN IP4 1.2.3.4 extra\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", EBADMSG,
		  "Bad c= address" },
		{ HDR "c=IN IP4 999.1.1.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", EBADMSG,
		  "Bad c= address" },
		{ HDR "c=IN IP4 ::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", EBADMSG,
		  "Bad c= address" },
		{ HDR "c=IN IP4 224.2.1.1/127\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", EPROTO,
		  "Multicast c= not supported" },
		{ HDR "c=IN IP6 ff02::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", EPROTO,
		  "Multicast c= not supported" },
		{ SESS "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus\r\n", EBADMSG, "Bad rtpmap" },
		{ SESS "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus/0\r\n", EBADMSG, "Bad rtpmap" },
		{ SESS "m=audio 4000 RTP/AVP 0\r\na=rtcp:abc\r\n", EBADMSG, "Bad a=rtcp" },
		{ SESS "m=audio 4000 RTP/AVP 0\r\na=rtcp:4001 IN IP4 nowhere\r\n", EBADMSG,
		  "Bad a=rtcp address" },
		{ SESS "m=audio 4000 RTP/AVP 0\r\na=ptime:0\r\n", EBADMSG, "Bad ptime" },
		{ SESS "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\na=recvonly\r\n", EBADMSG,
		  "More than one direction attribute" },
		/* libosip2 would stop at the empty line and drop the rest without a word */
		{ SESS "\r\nm=audio 4000 RTP/AVP 0\r\n", EBADMSG, "Bad SDP line" },
		{ SESS "m=audio 4000 RTP/AVP 0\rm=audio 5000 RTP/AVP 8\r\n", EBADMSG,
		  "Stray CR in SDP" },
		{ SESS "m=audio 4000 RTP/AVP 0\r\nX=1\r\n", EBADMSG, "Bad SDP line" },
		{ SESS "m=audio 4000 RTP/AVP 0\r\na=x:\x01\r\n", EBADMSG, "Bad attribute" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct sdp_plain p;
		const char *why = NULL;
		int rc = sdp_plain_read(cases[i].sdp, strlen(cases[i].sdp), &p, &why);

		g_test_message("hostile %zu: %d %s", i, rc, why ? why : "");
		g_assert_cmpint(rc, ==, cases[i].rc);
		g_assert_cmpstr(why, ==, cases[i].why);
	}
}

/* Truncations of a real offer, NUL bytes, size and count limits. */
static void test_limits(void)
{
	size_t len;
	char *text = fixture("chromium.in.sdp", &len);
	struct sdp_plain *p = g_new(struct sdp_plain, 1);
	GString *s;
	const char *why;
	char *copy;

	/* every prefix is refused or read, never more */
	for (size_t n = 0; n < len; n++) {
		why = NULL;
		if (sdp_plain_read(text, n, p, &why) != 0)
			g_assert_nonnull(why);
	}
	/* a prefix cut inside the m= line is refused */
	g_assert_cmpint(
	        sdp_plain_read(text, (size_t)(strstr(text, "m=audio") - text) + 10, p, &why), ==,
	        EBADMSG);
	copy = g_memdup2(text, len);
	copy[len / 2] = '\0';
	g_assert_cmpint(sdp_plain_read(copy, len, p, &why), ==, EBADMSG);
	g_assert_cmpstr(why, ==, "NUL in SDP");
	g_free(copy);

	/* 1,000 formats */
	s = g_string_new(SESS "m=audio 4000 RTP/AVP");
	for (int i = 0; i < 1000; i++)
		g_string_append_printf(s, " %d", i % 128);
	g_string_append(s, "\r\n");
	g_assert_cmpint(sdp_plain_read(s->str, s->len, p, &why), ==, EPROTO);
	g_assert_cmpstr(why, ==, "Too many payload types");
	g_string_free(s, TRUE);

	/* 17 m= lines */
	s = g_string_new(SESS);
	for (int i = 0; i < SDP_PLAIN_MAX_MEDIA + 1; i++)
		g_string_append(s, "m=audio 4000 RTP/AVP 0\r\n");
	g_assert_cmpint(sdp_plain_read(s->str, s->len, p, &why), ==, EPROTO);
	g_assert_cmpstr(why, ==, "Too many m= lines");
	g_string_free(s, TRUE);

	/* too many lines, too many bytes */
	s = g_string_new(SESS "m=audio 4000 RTP/AVP 0\r\n");
	for (int i = 0; i < SDP_PLAIN_MAX_LINES; i++)
		g_string_append(s, "a=x\r\n");
	g_assert_cmpint(sdp_plain_read(s->str, s->len, p, &why), ==, EBADMSG);
	g_assert_cmpstr(why, ==, "Too many SDP lines");
	g_string_free(s, TRUE);
	s = g_string_new(SESS "m=audio 4000 RTP/AVP 0\r\na=x:");
	while (s->len <= SDP_PLAIN_MAX)
		g_string_append_c(s, 'y');
	g_string_append(s, "\r\n");
	g_assert_cmpint(sdp_plain_read(s->str, s->len, p, &why), ==, EBADMSG);
	g_assert_cmpstr(why, ==, "SDP too large");
	g_string_free(s, TRUE);

	/* a body whose last line has no CRLF is still read */
	g_assert_cmpint(sdp_plain_read(SESS "m=audio 4000 RTP/AVP 0", strlen(SESS) + 22, p, &why),
	                ==, 0);
	g_assert_cmpuint(p->port, ==, 4000);
	g_free(p);
	g_free(text);
}

static void test_bad_local(void)
{
	static const struct sdp_plain_local bad[] = {
		{ .addr = NULL, .port = 10000 },
		{ .addr = "gw.example", .port = 10000 },
		{ .addr = "192.0.2.1", .port = 0 },
		{ .addr = "192.0.2.1", .port = 65535 },
	};
	size_t len;
	char *text = fixture("sipp_uac.in.sdp", &len);

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *out = NULL;
		size_t out_len = 0;
		const char *why = NULL;

		g_assert_cmpint(sdp_plain_rewrite(text, len, &bad[i], &out, &out_len, &why), ==,
		                EINVAL);
		g_assert_nonnull(why);
		g_assert_null(out);
	}
	g_free(text);
}

/* An answer written from the offer: the direction the other way round, said once per stream. */
static void test_answer_dir(void)
{
	static const struct {
		const char *sdp;
		enum sdp_plain_dir want;
	} cases[] = {
		/* session-level sendrecv, media-level sendonly (the media level wins) */
		{ "v=0\r\no=p 7 9 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
		  "a=sendrecv\r\nm=audio 30000 RTP/AVP 0\r\na=sendonly\r\n",
		  SDP_PLAIN_RECVONLY },
		{ "v=0\r\no=p 7 9 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
		  "a=recvonly\r\nm=audio 30000 RTP/AVP 0\r\n",
		  SDP_PLAIN_SENDONLY },
		{ "v=0\r\no=p 7 9 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
		  "m=audio 30000 RTP/AVP 0\r\na=inactive\r\n",
		  SDP_PLAIN_INACTIVE },
		/* old-style hold: c=0.0.0.0 sendrecv reads as sendonly */
		{ "v=0\r\no=p 7 9 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
		  "m=audio 30000 RTP/AVP 0\r\n",
		  SDP_PLAIN_RECVONLY },
		{ "v=0\r\no=p 7 9 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
		  "m=audio 30000 RTP/AVP 0\r\n",
		  SDP_PLAIN_SENDRECV },
	};
	struct sdp_plain_local l = L4;

	l.answer = true;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *out = NULL, *want;
		size_t out_len = 0;
		const char *why = NULL;
		struct sdp_plain *p;

		g_assert_cmpint(sdp_plain_rewrite(cases[i].sdp, strlen(cases[i].sdp), &l, &out,
		                                  &out_len, &why),
		                ==, 0);
		p = read_ok(out, out_len);
		g_assert_cmpint(p->dir, ==, cases[i].want);
		/* one direction attribute, at the media level */
		want = g_strdup_printf("a=%s\r\n", sdp_plain_dir_name(cases[i].want));
		g_assert_nonnull(strstr(out, want));
		g_assert_true(strstr(out, want) > strstr(out, "m=audio"));
		for (enum sdp_plain_dir d = SDP_PLAIN_SENDRECV; d <= SDP_PLAIN_INACTIVE; d++) {
			char *attr = g_strdup_printf("a=%s\r\n", sdp_plain_dir_name(d));
			const char *at = strstr(out, attr);

			g_assert_true(d == cases[i].want ? !strstr(at + 1, attr) : !at);
			g_free(attr);
		}
		g_free(want);
		g_free(p);
		g_free(out);
	}
	g_assert_cmpint(sdp_plain_dir_answer(SDP_PLAIN_SENDONLY), ==, SDP_PLAIN_RECVONLY);
	g_assert_cmpint(sdp_plain_dir_answer(SDP_PLAIN_RECVONLY), ==, SDP_PLAIN_SENDONLY);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	sdp_plain_init();
	g_test_add_func("/sdp_plain/golden", test_golden);
	g_test_add_func("/sdp_plain/read_pbx", test_read_pbx);
	g_test_add_func("/sdp_plain/read_chromium", test_read_chromium);
	g_test_add_func("/sdp_plain/filter", test_filter);
	g_test_add_func("/sdp_plain/hostile", test_hostile);
	g_test_add_func("/sdp_plain/limits", test_limits);
	g_test_add_func("/sdp_plain/bad_local", test_bad_local);
	g_test_add_func("/sdp_plain/answer_dir", test_answer_dir);
	return g_test_run();
}
