/*
 * The WebRTC leg A of relay/media.h against the browser of webrtc_fixture.c:
 * its own libnice agent (full ICE, controlling), ice/dtls as the DTLS client
 * and ice/srtp, over loopback. ICE, DTLS, SRTP echo, the PBX leg with payload
 * type rewriting, a wrong fingerprint, consent, forged tags, unchecked sources.
 */
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <nice/agent.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "ice/dtls.h"
#include "ice/srtp.h"
#include "media_fixture.h"
#include "relay/media.h"
#include "relay/stun_msg.h"
#include "webrtc_fixture.h"

static uint16_t seq_of(const uint8_t *rtp)
{
	return (uint16_t)(rtp[2] << 8 | rtp[3]);
}

static void test_echo(void)
{
	struct fix f;
	struct media_stats st;
	struct media_webrtc_info info;
	uint8_t buf[2048];

	fix_start(&f, "30", "10");
	call_up(&f, true, NULL, 0, true);
	g_assert_true(connected(&f));
	g_assert_cmpint(f.events[MEDIA_EV_FAILED], ==, 0);
	for (int i = 0; i < 5; i++)
		browser_send(&f, buf, rtp_packet(&f, buf, sizeof(buf), 111, true));
	want_received = 5;
	g_assert_true(pump(&f, got_all, WAIT_US));
	/* the last echo decrypts to what was sent: same sequence number, same payload */
	g_assert_cmpuint(f.b.last_len, ==, 12 + PAYLOAD);
	g_assert_cmpuint(seq_of(f.b.last), ==, 5);
	g_assert_cmpuint(f.b.last[1] & 0x7f, ==, 111);
	g_assert_cmpuint(f.b.last[12 + PAYLOAD - 1], ==, 5);
	media_pool_sync(f.p);
	media_session_stats(f.s, &st);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_in, ==, 5);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_out, ==, 5);
	media_session_webrtc_info(f.s, &info);
	g_assert_cmpstr(info.profile, ==, "SRTP_AEAD_AES_128_GCM");
	g_assert_nonnull(strstr(info.pair, "127.0.0.1"));
	g_assert_cmpuint(info.srtp_errors, ==, 0);
	fix_stop(&f);
}

/*
 * More datagrams than one batch waiting at once on the leg's socket (the
 * worker reads libnice's sockets from its epoll set, a batch per wake-up):
 * every one is echoed, none left behind in the socket.
 */
static void test_burst(void)
{
	enum { BURST = 100 };
	struct fix f;
	struct media_stats st;
	uint8_t buf[2048];

	fix_start(&f, "30", "10");
	call_up(&f, true, NULL, 0, true);
	g_assert_true(connected(&f));
	for (int i = 0; i < BURST; i++)
		browser_send(&f, buf, rtp_packet(&f, buf, sizeof(buf), 111, true));
	want_received = BURST;
	g_assert_true(pump(&f, got_all, WAIT_US));
	g_assert_cmpint(f.b.received, ==, BURST);
	g_assert_cmpuint(seq_of(f.b.last), ==, BURST);
	media_pool_sync(f.p);
	media_session_stats(f.s, &st);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_in, ==, BURST);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_out, ==, BURST);
	fix_stop(&f);
}

static void test_wrong_fingerprint(void)
{
	struct fix f;
	struct media_stats st;

	fix_start(&f, "30", "10");
	call_up(&f, true, NULL, 0, false);
	g_assert_cmpint(f.events[MEDIA_EV_FAILED], ==, 1);
	g_assert_cmpint(f.events[MEDIA_EV_CONNECTED], ==, 0);
	g_assert_nonnull(strstr(f.reason, "fingerprint"));
	g_assert_false(ice_srtp_ready(f.b.srtp, NULL));
	media_pool_sync(f.p);
	media_session_stats(f.s, &st);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_in, ==, 0);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_out, ==, 0);
	fix_stop(&f);
}

static bool consent_lost(struct fix *f)
{
	return f->events[MEDIA_EV_CONSENT_LOST] > 0;
}

static void test_consent(void)
{
	struct fix f;
	int64_t quiet;

	fix_start(&f, "1", "10");
	call_up(&f, true, NULL, 0, true);
	g_assert_true(connected(&f));
	echo_one(&f);
	quiet = g_get_monotonic_time();
	/* the browser's ICE keepalives go on; its media stops */
	g_assert_true(pump(&f, consent_lost, WAIT_US));
	g_assert_cmpint(g_get_monotonic_time() - quiet, >=, 900 * 1000);
	g_assert_nonnull(strstr(f.reason, "nothing authenticated"));
	g_assert_cmpint(f.events[MEDIA_EV_FAILED], ==, 0);
	fix_stop(&f);
}

static void test_bad_tag_and_replay(void)
{
	struct fix f;
	struct media_stats st;
	uint8_t bad[2048], good[2048];
	size_t bad_len, good_len;

	fix_start(&f, "30", "10");
	call_up(&f, true, NULL, 0, true);
	g_assert_true(connected(&f));
	bad_len = rtp_packet(&f, bad, sizeof(bad), 0, true);
	bad[bad_len - 1] ^= 0x01; /* the tag's last byte */
	browser_send(&f, bad, bad_len);
	good_len = rtp_packet(&f, good, sizeof(good), 0, true);
	browser_send(&f, good, good_len);
	browser_send(&f, good, good_len); /* again: a replay */
	want_received = 1;
	g_assert_true(pump(&f, got_all, WAIT_US));
	g_assert_cmpuint(seq_of(f.b.last), ==, 2);
	media_pool_sync(f.p);
	media_session_stats(f.s, &st);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].drops[MEDIA_DROP_SRTP_AUTH], ==, 1);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].drops[MEDIA_DROP_SRTP_REPLAY], ==, 1);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_in, ==, 1);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_out, ==, 1);
	g_assert_cmpint(f.b.received, ==, 1);
	fix_stop(&f);
}

static void test_unchecked_source(void)
{
	struct fix f;
	struct media_stats st;
	uint8_t forged[2048], good[2048];
	size_t forged_len, good_len;
	const struct sockaddr_storage *gw = &f.loc.cand[0].addr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	fix_start(&f, "30", "10");
	call_up(&f, true, NULL, 0, true);
	g_assert_true(connected(&f));
	/* a valid SRTP packet, but from an address that never passed an ICE check */
	forged_len = rtp_packet(&f, forged, sizeof(forged), 0, true);
	g_assert_cmpint(sendto(fd, forged, forged_len, 0, (const struct sockaddr *)gw,
	                       sizeof(struct sockaddr_in)),
	                ==, (ssize_t)forged_len);
	good_len = rtp_packet(&f, good, sizeof(good), 0, true);
	browser_send(&f, good, good_len);
	want_received = 1;
	g_assert_true(pump(&f, got_all, WAIT_US));
	g_assert_cmpuint(seq_of(f.b.last), ==, 2);
	media_pool_sync(f.p);
	media_session_stats(f.s, &st);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_in, ==, 1);
	close(fd);
	fix_stop(&f);
}

static void to_gw(struct fix *f, int fd, const uint8_t *buf, size_t len)
{
	const struct sockaddr_storage *gw = &f->loc.cand[0].addr;

	g_assert_cmpint(
	        sendto(fd, buf, len, 0, (const struct sockaddr *)gw, sizeof(struct sockaddr_in)),
	        ==, (ssize_t)len);
}

/*
 * A Binding request from fd for the gateway's ufrag, its integrity keyed with key. With the
 * gateway's password: the answer's mapped address and integrity checked; else no answer.
 */
static void check_from(struct fix *f, int fd, bool nominate, const char *key)
{
	static const uint8_t tid[STUN_TID_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2 };
	bool right = strcmp(key, f->loc.pwd) == 0;
	char user[64];
	uint8_t buf[512];
	struct stun_enc e;
	struct stun_msg m;
	struct sockaddr_storage mapped;
	struct sockaddr_in self;
	socklen_t slen = sizeof(self);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t len;
	ssize_t n;

	g_snprintf(user, sizeof(user), "%s:brws", f->loc.ufrag);
	stun_enc_start(&e, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	stun_enc_bytes(&e, STUN_ATTR_USERNAME, user, strlen(user));
	stun_enc_u32(&e, STUN_ATTR_PRIORITY, 0x6e001eff);
	stun_enc_bytes(&e, STUN_ATTR_ICE_CONTROLLING, "tiebreak", 8);
	if (nominate)
		stun_enc_bytes(&e, STUN_ATTR_USE_CANDIDATE, NULL, 0);
	stun_enc_integrity(&e, (const uint8_t *)key, strlen(key));
	stun_enc_fingerprint(&e);
	g_assert_cmpint(stun_enc_end(&e, &len), ==, 0);
	to_gw(f, fd, buf, len);
	g_assert_cmpint(poll(&pfd, 1, right ? 2000 : 300), ==, right ? 1 : 0);
	if (!right)
		return;
	n = recv(fd, buf, sizeof(buf), 0);
	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(stun_msg_decode(&m, buf, (size_t)n), ==, 0);
	g_assert_cmpint(m.cls, ==, STUN_SUCCESS);
	g_assert_cmpmem(m.tid, STUN_TID_LEN, tid, STUN_TID_LEN);
	g_assert_cmpint(stun_msg_check_integrity(&m, (const uint8_t *)key, strlen(key)), ==, 0);
	g_assert_cmpint(stun_msg_check_fingerprint(&m), ==, 0);
	g_assert_cmpint(
	        stun_attr_xaddr(&m, stun_msg_attr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), &mapped), ==,
	        0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&self, &slen), ==, 0);
	g_assert_cmpmem(&mapped, sizeof(self), &self, sizeof(self));
}

/*
 * Once connected, a new address of the browser's passes a check (answered with the right
 * mapped address and integrity) and is nominated: the echo goes there from then on. A check
 * with a wrong password gets no answer.
 */
static void test_renominate(void)
{
	struct fix f;
	struct sockaddr_in lo = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t buf[2048];
	size_t len;
	ssize_t n;

	lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&lo, sizeof(lo)), ==, 0);
	fix_start(&f, "30", "10");
	call_up(&f, true, NULL, 0, true);
	g_assert_true(connected(&f));
	check_from(&f, fd, false, f.loc.pwd);
	/* checked but not nominated: its media is taken, the echo still goes to the first pair */
	to_gw(&f, fd, buf, rtp_packet(&f, buf, sizeof(buf), 0, true));
	want_received = 1;
	g_assert_true(pump(&f, got_all, WAIT_US));
	check_from(&f, fd, true, f.loc.pwd);
	to_gw(&f, fd, buf, rtp_packet(&f, buf, sizeof(buf), 0, true));
	g_assert_cmpint(poll(&pfd, 1, 2000), ==, 1);
	n = recv(fd, buf, sizeof(buf), 0);
	g_assert_cmpint(n, >, 12);
	len = (size_t)n;
	g_assert_cmpint(ice_srtp_unprotect(f.b.srtp, ICE_SRTP_RTP, buf, &len), ==, 0);
	g_assert_cmpuint(seq_of(buf), ==, 2);
	g_assert_cmpint(f.b.received, ==, 1); /* the old address got nothing more */
	check_from(&f, fd, true, "0123456789012345678901ab");
	close(fd);
	fix_stop(&f);
}

/* Full ICE on our side too (the browser offered: it controls): the same echo. */
static void test_full_ice(void)
{
	ice_mode = "full";
	test_echo();
	ice_mode = "lite";
}

/*
 * The PBX leg: payload type 111 (browser) is 0 (PBX) both ways; SSRC and payload untouched;
 * a new PBX source goes on as the same stream toward the browser.
 */
static void test_relay_to_pbx(void)
{
	static const struct media_pt_map map[] = {
		{ .web_pt = 111, .plain_pt = 0, .clock = 48000 }
	};
	struct fix f;
	struct sockaddr_in pbx, b_addr;
	struct sockaddr_storage b_local;
	struct pollfd pfd;
	uint8_t buf[2048];
	ssize_t n;

	fix_start(&f, "30", "10");
	pfd = (struct pollfd){ .fd = pbx_socket(&pbx), .events = POLLIN };
	g_assert_cmpint(media_session_set_remote(f.s, MEDIA_LEG_B, (struct sockaddr *)&pbx, NULL),
	                ==, 0);
	call_up(&f, false, map, 1, true);
	g_assert_true(connected(&f));
	browser_send(&f, buf, rtp_packet(&f, buf, sizeof(buf), 111, true));
	g_assert_cmpint(poll(&pfd, 1, 2000), ==, 1);
	n = recv(pfd.fd, buf, sizeof(buf), 0);
	g_assert_cmpint(n, ==, 12 + PAYLOAD);
	g_assert_cmpuint(buf[1] & 0x7f, ==, 0);
	g_assert_cmpuint(buf[11], ==, SSRC & 0xff);
	g_assert_cmpuint(buf[12 + PAYLOAD - 1], ==, 1);
	/* and back: plain PT 0 from the PBX reaches the browser as SRTP with PT 111 */
	g_assert_cmpint(media_session_local(f.s, MEDIA_LEG_B, (struct sockaddr *)&pbx, &b_local),
	                ==, 0);
	b_addr = pbx;
	b_addr.sin_port = ((struct sockaddr_in *)&b_local)->sin_port;
	n = (ssize_t)rtp_packet(&f, buf, sizeof(buf), 0, false);
	g_assert_cmpint(
	        sendto(pfd.fd, buf, (size_t)n, 0, (struct sockaddr *)&b_addr, sizeof(b_addr)), ==,
	        n);
	want_received = 1;
	g_assert_true(pump(&f, got_all, WAIT_US));
	g_assert_cmpuint(f.b.last[1] & 0x7f, ==, 111);
	g_assert_cmpuint(seq_of(f.b.last), ==, 2);
	/* a re-INVITE brings another source with its own numbers: the browser sees one stream */
	n = (ssize_t)rtp_packet(&f, buf, sizeof(buf), 0, false);
	buf[2] = 0x70;   /* sequence 0x70xx */
	buf[11] ^= 0x5a; /* another SSRC */
	g_assert_cmpint(
	        sendto(pfd.fd, buf, (size_t)n, 0, (struct sockaddr *)&b_addr, sizeof(b_addr)), ==,
	        n);
	want_received = 2;
	g_assert_true(pump(&f, got_all, WAIT_US));
	g_assert_cmpuint(seq_of(f.b.last), ==, 3);
	g_assert_cmpuint(f.b.last[11], ==, SSRC & 0xff);
	close(pfd.fd);
	fix_stop(&f);
}

static bool ready_again(struct fix *f)
{
	return f->b.ready;
}

/*
 * ICE restart on a re-offer: new credentials both ways, new checks, the
 * same DTLS association: SRTP under the first keys still echoes. The pool
 * then stops with the session still open (closed by the stop).
 */
static void test_ice_restart(void)
{
	struct fix f;
	struct media_webrtc_local again;
	struct media_webrtc_remote r;
	struct sockaddr_in toward = { .sin_family = AF_INET, .sin_port = htons(9) };
	NiceCandidate *c = nice_candidate_new(NICE_CANDIDATE_TYPE_HOST);
	GSList one = { .data = c };
	uint8_t buf[2048];

	fix_start(&f, "30", "10");
	call_up(&f, true, NULL, 0, true);
	g_assert_true(connected(&f));
	toward.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(media_session_webrtc_local(f.s, (struct sockaddr *)&toward, &again), ==, 0);
	g_assert_cmpstr(again.ufrag, !=, f.loc.ufrag);
	g_assert_cmpuint(port_of(&again.cand[0].addr), ==, port_of(&f.loc.cand[0].addr));
	f.b.ready = false;
	g_assert_true(nice_agent_restart_stream(f.b.agent, f.b.stream));
	f.b.gathered = true;
	browser_sdp(&f, &r);
	r.ice_restart = true;
	g_assert_cmpint(media_session_webrtc_remote(f.s, &r), ==, 0);
	nice_agent_set_remote_credentials(f.b.agent, f.b.stream, again.ufrag, again.pwd);
	c->addr = (NiceAddress){ 0 };
	nice_address_set_from_sockaddr(&c->addr, (const struct sockaddr *)&again.cand[0].addr);
	c->component_id = 1;
	c->stream_id = f.b.stream;
	c->priority = again.cand[0].priority;
	g_strlcpy(c->foundation, "1", sizeof(c->foundation));
	g_assert_cmpint(nice_agent_set_remote_candidates(f.b.agent, f.b.stream, 1, &one), ==, 1);
	nice_candidate_free(c);
	g_assert_true(pump(&f, ready_again, WAIT_US));
	browser_send(&f, buf, rtp_packet(&f, buf, sizeof(buf), 0, true));
	want_received = 1;
	g_assert_true(pump(&f, got_all, WAIT_US));
	g_assert_cmpint(f.events[MEDIA_EV_CONNECTED], ==, 1);
	g_assert_cmpint(f.events[MEDIA_EV_FAILED] + f.events[MEDIA_EV_CONSENT_LOST], ==, 0);
	f.s = NULL; /* left to media_pool_stop */
	fix_stop(&f);
}

static bool failed(struct fix *f)
{
	return f->events[MEDIA_EV_FAILED] > 0;
}

static void test_ice_timeout(void)
{
	struct fix f;
	struct sockaddr_in toward = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct media_webrtc_remote r;

	fix_start(&f, "30", "1");
	toward.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(media_session_webrtc_local(f.s, (struct sockaddr *)&toward, &f.loc), ==, 0);
	browser_sdp(&f, &r);
	r.n_cand = 0; /* the browser never learns our candidate, nor we its */
	g_assert_cmpint(media_session_webrtc_remote(f.s, &r), ==, 0);
	g_assert_true(pump(&f, failed, WAIT_US));
	g_assert_nonnull(strstr(f.reason, "ICE not complete within 1000 ms"));
	g_assert_cmpint(f.events[MEDIA_EV_CONNECTED], ==, 0);
	fix_stop(&f);
}

static void test_not_webrtc(void)
{
	struct fix f;
	struct media_webrtc_remote r = { .ufrag = "abcd", .pwd = "0123456789012345678901" };
	struct media_webrtc_local loc;
	struct media_pool *p;

	fix_start(&f, "30", "10");
	p = f.p;
	g_assert_cmpint(media_session_webrtc_remote(f.s, &r), ==, EINVAL);
	g_assert_cmpint(media_session_webrtc_candidate(f.s, NULL), ==, EINVAL);
	media_pool_set_webrtc(p, NULL, NULL, NULL);
	g_assert_cmpint(media_session_webrtc_local(f.s, NULL, &loc), ==, EINVAL);
	fix_stop(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	log_init();
	g_assert_cmpint(ice_srtp_global_init(), ==, 0);
	g_test_add_func("/webrtc/echo", test_echo);
	g_test_add_func("/webrtc/burst", test_burst);
	g_test_add_func("/webrtc/full-ice", test_full_ice);
	g_test_add_func("/webrtc/relay-to-pbx", test_relay_to_pbx);
	g_test_add_func("/webrtc/wrong-fingerprint", test_wrong_fingerprint);
	g_test_add_func("/webrtc/consent", test_consent);
	g_test_add_func("/webrtc/bad-tag-and-replay", test_bad_tag_and_replay);
	g_test_add_func("/webrtc/unchecked-source", test_unchecked_source);
	g_test_add_func("/webrtc/renominate", test_renominate);
	g_test_add_func("/webrtc/ice-restart", test_ice_restart);
	g_test_add_func("/webrtc/ice-timeout", test_ice_timeout);
	g_test_add_func("/webrtc/not-webrtc", test_not_webrtc);
	return g_test_run();
}
