/*
 * What the WebRTC leg A counts of its sends to the browser, on the lite fast
 * path: a packet is sent once the kernel took it, with its own length; one the kernel refuses is
 * only a send_error drop, on the leg it came from, whether sendto refused it
 * at once (media.io=syscalls) or the ring's completion said so later.
 */
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "media_fixture.h"
#include "webrtc_fixture.h"

#define RTP_LEN (12 + PAYLOAD) /* what the counters count: the packet before SRTP */
#define REFUSED 3

/*
 * The kernel refuses what the gateway sends to the browser from now on: the
 * leg's socket (libnice's, in this process) is shut for writing, so each send
 * fails with EPIPE while the browser's packets still come in. The browser
 * cannot sit at an address the kernel refuses (127.255.255.255, as
 * /media/send-refused does): the fast path sends to the source of its checks.
 */
static void refuse_sends(const struct fix *f)
{
	const struct sockaddr_in *gw = (const struct sockaddr_in *)&f->loc.cand[0].addr;
	int shut = 0;

	for (int fd = 3; fd < 1024; fd++) {
		struct sockaddr_in a;
		socklen_t len = sizeof(a);

		if (getsockname(fd, (struct sockaddr *)&a, &len) || a.sin_family != AF_INET ||
		    a.sin_port != gw->sin_port || a.sin_addr.s_addr != gw->sin_addr.s_addr)
			continue;
		shutdown(fd, SHUT_WR); /* ENOTCONN (not connected), yet shut for sending */
		shut++;
	}
	g_assert_cmpint(shut, ==, 1);
}

static void assert_counts(struct fix *f, enum media_leg from)
{
	struct media_stats st;

	g_assert_cmpuint(wait_drop(f->p, f->s, from, MEDIA_DROP_SEND_ERROR, REFUSED), ==, REFUSED);
	media_pool_sync(f->p);
	media_session_stats(f->s, &st);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_out, ==, 1);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].bytes_out, ==, RTP_LEN);
	g_assert_cmpuint(st.leg[!from].drops[MEDIA_DROP_SEND_ERROR], ==, 0);
}

/* The echo: from leg A back to it. */
static void test_echo_refused(void)
{
	struct fix f;
	uint8_t buf[2048];

	fix_start(&f, "30", "10");
	call_up(&f, true, NULL, 0, true);
	g_assert_true(connected(&f));
	echo_one(&f);
	refuse_sends(&f);
	for (int i = 0; i < REFUSED; i++)
		browser_send(&f, buf, rtp_packet(&f, buf, sizeof(buf), 0, true));
	assert_counts(&f, MEDIA_LEG_A);
	fix_stop(&f);
}

/*
 * A call from the PBX's socket (returned) to a connected browser, not echoed;
 * *b_addr is where the PBX sends: leg B's socket.
 */
static int pbx_up(struct fix *f, struct sockaddr_in *b_addr)
{
	struct sockaddr_in pbx;
	struct sockaddr_storage b_local;
	int fd;

	fix_start(f, "30", "10");
	fd = pbx_socket(&pbx);
	g_assert_cmpint(media_session_set_remote(f->s, MEDIA_LEG_B, (struct sockaddr *)&pbx, NULL),
	                ==, 0);
	call_up(f, false, NULL, 0, true);
	g_assert_true(connected(f));
	g_assert_cmpint(media_session_local(f->s, MEDIA_LEG_B, (struct sockaddr *)&pbx, &b_local),
	                ==, 0);
	*b_addr = pbx;
	b_addr->sin_port = ((struct sockaddr_in *)&b_local)->sin_port;
	return fd;
}

/* The PBX's packets: from leg B to the browser. */
static void test_to_browser_refused(void)
{
	struct fix f;
	struct sockaddr_in b_addr;
	uint8_t buf[2048];
	int fd;

	fd = pbx_up(&f, &b_addr);
	for (int i = 0; i <= REFUSED; i++) {
		size_t len = rtp_packet(&f, buf, sizeof(buf), 0, false);

		g_assert_cmpint(sendto(fd, buf, len, 0, (struct sockaddr *)&b_addr, sizeof(b_addr)),
		                ==, (ssize_t)len);
		if (i)
			continue;
		want_received = 1;
		g_assert_true(pump(&f, got_all, WAIT_US));
		refuse_sends(&f);
	}
	assert_counts(&f, MEDIA_LEG_B);
	close(fd);
	fix_stop(&f);
}

/*
 * Packets of different lengths from the PBX, sent back to back so that the
 * worker reads several in one batch: leg A counts each with its own length.
 */
static void test_to_browser_bytes(void)
{
	static const size_t extra[] = { 0, 1, 3, 7, 2 };
	struct fix f;
	struct sockaddr_in b_addr;
	struct media_stats st;
	uint8_t buf[2048];
	size_t total = 0;
	int fd;

	fd = pbx_up(&f, &b_addr);
	want_received = f.b.received + (int)G_N_ELEMENTS(extra);
	for (size_t i = 0; i < G_N_ELEMENTS(extra); i++) {
		/* the payload is opaque to the relay: a longer one is the same packet, longer */
		size_t len = rtp_packet(&f, buf, sizeof(buf), 0, false) + extra[i];

		g_assert_cmpint(sendto(fd, buf, len, 0, (struct sockaddr *)&b_addr, sizeof(b_addr)),
		                ==, (ssize_t)len);
		total += len;
	}
	g_assert_true(pump(&f, got_all, WAIT_US));
	media_pool_sync(f.p);
	media_session_stats(f.s, &st);
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].packets_out, ==, G_N_ELEMENTS(extra));
	g_assert_cmpuint(st.leg[MEDIA_LEG_A].bytes_out, ==, total);
	g_assert_cmpuint(st.leg[MEDIA_LEG_B].drops[MEDIA_DROP_SEND_ERROR], ==, 0);
	close(fd);
	fix_stop(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	log_init();
	signal(SIGPIPE, SIG_IGN); /* as rtcgate: a refused send is an errno, not a signal */
	g_assert_cmpint(ice_srtp_global_init(), ==, 0);
	fix_ports = "42400-42599";
	g_test_add_func("/webrtc-send/echo-refused", test_echo_refused);
	g_test_add_func("/webrtc-send/to-browser-refused", test_to_browser_refused);
	g_test_add_func("/webrtc-send/to-browser-bytes", test_to_browser_bytes);
	return g_test_run();
}
