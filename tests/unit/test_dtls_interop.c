/*
 * ice/dtls against another DTLS-SRTP peer over real UDP on loopback: the
 * openssl(1) s_client and s_server programs, which print the RFC 5764
 * keying material they exported. SRTP contexts built from that printout by
 * the RFC 5764 §4.2 layout (written here apart from ice/dtls.c) must
 * interoperate with the ones ice/dtls filled: that checks the key and salt
 * order, which two ice/dtls endpoints would get wrong together unnoticed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/tlscert.h"
#include "ice/dtls.h"
#include "ice/srtp.h"
#include "srtp_fixture.h"

#define BOUND_US (10 * G_USEC_PER_SEC) /* for the whole exchange: a bound, not a pacing */

struct peer {
	GPid pid;
	int in_fd, out_fd; /* its stdin (kept open: EOF would end it), its stdout */
	GString *text;     /* what it printed */
};

struct run {
	int fd; /* our UDP socket */
	struct dtls *d;
	struct ice_srtp *srtp;
	struct peer peer;
	bool connected_sock;
};

static void on_send(void *user, const uint8_t *data, size_t len)
{
	struct run *r = user;

	/* before s_server binds, loopback refuses: the retransmission timer tries again */
	if (send(r->fd, data, len, 0) < 0)
		g_assert_cmpint(errno, ==, ECONNREFUSED);
}

static int udp_socket(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* A port nobody holds now, for s_server to bind (it cannot report the port it got). */
static uint16_t free_port(void)
{
	uint16_t port;
	int fd = udp_socket(&port);

	close(fd);
	return port;
}

static void peer_spawn(struct peer *p, char **argv)
{
	GError *err = NULL;

	g_assert_true(g_spawn_async_with_pipes(
	        NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
	        NULL, &p->pid, &p->in_fd, &p->out_fd, NULL, &err));
	g_assert_no_error(err);
	g_assert_cmpint(fcntl(p->out_fd, F_SETFL, O_NONBLOCK), ==, 0);
	p->text = g_string_new(NULL);
}

static void peer_stop(struct peer *p)
{
	kill(p->pid, SIGTERM);
	waitpid(p->pid, NULL, 0);
	g_spawn_close_pid(p->pid);
	close(p->in_fd);
	close(p->out_fd);
	g_string_free(p->text, TRUE);
}

/* The hex after "Keying material: ", whole line read; NULL until printed. */
static GBytes *keying_material(const struct peer *p)
{
	const char *k = strstr(p->text->str, "Keying material: ");
	const char *end;
	GByteArray *out;

	if (!k)
		return NULL;
	k += strlen("Keying material: ");
	end = strchr(k, '\n');
	if (!end)
		return NULL;
	out = g_byte_array_new();
	for (; k + 1 < end && g_ascii_isxdigit(k[0]); k += 2) {
		uint8_t b = (uint8_t)(g_ascii_xdigit_value(k[0]) << 4 | g_ascii_xdigit_value(k[1]));

		g_byte_array_append(out, &b, 1);
	}
	return g_byte_array_free_to_bytes(out);
}

/* Feed datagrams, fire timers, collect the peer's output: until both are done or the bound. */
static GBytes *exchange(struct run *r)
{
	int64_t end = g_get_monotonic_time() + BOUND_US;
	GBytes *km = NULL;

	while (!km && g_get_monotonic_time() < end) {
		struct pollfd pf[2] = { { r->fd, POLLIN, 0 }, { r->peer.out_fd, POLLIN, 0 } };
		int64_t now = g_get_monotonic_time();
		int t = dtls_next_timeout(r->d, now);
		uint8_t buf[2048];
		ssize_t n;
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);

		poll(pf, 2, t < 0 || t > 100 ? 100 : t);
		if (dtls_next_timeout(r->d, g_get_monotonic_time()) == 0)
			dtls_handle_timeout(r->d, g_get_monotonic_time());
		while ((n = recvfrom(r->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen)) >
		       0) {
			if (!r->connected_sock) /* we are the server: answer whoever said hello */
				g_assert_cmpint(connect(r->fd, (struct sockaddr *)&from, flen), ==,
				                0);
			r->connected_sock = true;
			dtls_input(r->d, buf, (size_t)n, g_get_monotonic_time());
		}
		while ((n = read(r->peer.out_fd, buf, sizeof(buf))) > 0)
			g_string_append_len(r->peer.text, (const char *)buf, n);
		if (dtls_state(r->d) == DTLS_STATE_CONNECTED)
			km = keying_material(&r->peer);
		g_assert_cmpint(dtls_state(r->d), !=, DTLS_STATE_FAILED);
	}
	return km;
}

/* RFC 5764 §4.2: client_key | server_key | client_salt | server_salt; the peer's view. */
static void peer_keys(GBytes *km, enum ice_srtp_profile prof, bool peer_is_client,
                      struct ice_srtp_keys *k)
{
	gsize n;
	const uint8_t *m = g_bytes_get_data(km, &n);
	size_t kl, sl;
	struct ice_srtp_master c, s;

	g_assert_cmpint(ice_srtp_profile_lengths(prof, &kl, &sl), ==, 0);
	g_assert_cmpuint(n, ==, 2 * (kl + sl));
	c.key_len = s.key_len = (uint8_t)kl;
	c.salt_len = s.salt_len = (uint8_t)sl;
	memcpy(c.bytes, m, kl);
	memcpy(s.bytes, m + kl, kl);
	memcpy(c.bytes + kl, m + 2 * kl, sl);
	memcpy(s.bytes + kl, m + 2 * kl + sl, sl);
	k->profile = prof;
	k->local = peer_is_client ? c : s;
	k->remote = peer_is_client ? s : c;
}

struct interop_case {
	enum dtls_role ours;
	enum ice_srtp_profile profile;
};

/* The peer's certificate files, made in a temporary directory, and what we need of them. */
struct files {
	gchar *dir;
	char *cert, *key;
	struct dtls_cert *theirs; /* for its fingerprint */
};

static void files_make(struct files *f)
{
	char *why = NULL;

	f->dir = g_dir_make_tmp("rtcgate-interop-XXXXXX", NULL);
	g_assert_cmpint(tlscert_ensure(f->dir, &f->cert, &f->key, &why), ==, 0);
	g_assert_cmpint(dtls_cert_open(f->cert, f->key, &f->theirs, &why), ==, 0);
}

static void files_remove(struct files *f)
{
	gchar *tls = g_path_get_dirname(f->cert);

	dtls_cert_free(f->theirs);
	g_unlink(f->cert);
	g_unlink(f->key);
	g_rmdir(tls);
	g_rmdir(f->dir);
	g_free(tls);
	g_free(f->dir);
	g_free(f->cert);
	g_free(f->key);
}

/* openssl s_client toward our port (we serve), or s_server on a free port we connect to. */
static void spawn_peer(struct run *r, const char *openssl, const struct files *f,
                       enum dtls_role ours, enum ice_srtp_profile prof, uint16_t our_port)
{
	uint16_t port = ours == DTLS_ROLE_SERVER ? our_port : free_port();
	gchar *addr = g_strdup_printf("127.0.0.1:%u", port);
	size_t kl, sl;
	gchar *kmlen;

	g_assert_cmpint(ice_srtp_profile_lengths(prof, &kl, &sl), ==, 0);
	kmlen = g_strdup_printf("%zu", 2 * (kl + sl));
	char *argv[] = { (char *)openssl,
		         ours == DTLS_ROLE_SERVER ? "s_client" : "s_server",
		         "-dtls1_2",
		         ours == DTLS_ROLE_SERVER ? "-connect" : "-accept",
		         addr,
		         "-cert",
		         f->cert,
		         "-key",
		         f->key,
		         "-use_srtp",
		         (char *)ice_srtp_profile_name(prof),
		         "-keymatexport",
		         "EXTRACTOR-dtls_srtp",
		         "-keymatexportlen",
		         kmlen,
		         "-verify",
		         "1",
		         NULL };

	if (ours == DTLS_ROLE_CLIENT) { /* it listens there; our hello is retransmitted */
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };

		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		g_assert_cmpint(connect(r->fd, (struct sockaddr *)&to, sizeof(to)), ==, 0);
		r->connected_sock = true;
	}
	peer_spawn(&r->peer, argv);
	g_free(addr);
	g_free(kmlen);
}

static void test_interop(gconstpointer data)
{
	const struct interop_case *tc = data;
	char *why = NULL, *openssl = g_find_program_in_path("openssl");
	struct dtls_cert *ours = NULL;
	struct dtls_ctx *ctx = NULL;
	struct dtls_conf conf = { .profiles = ice_srtp_profile_name(tc->profile) };
	struct files f;
	struct run r = { 0 };
	struct ice_srtp_keys k;
	struct ice_srtp *peer_srtp = ice_srtp_new();
	uint16_t port;
	GBytes *km;

	if (!openssl) {
		g_test_skip("no openssl(1)");
		ice_srtp_free(peer_srtp);
		return;
	}
	files_make(&f);
	g_assert_cmpint(dtls_cert_open(NULL, NULL, &ours, &why), ==, 0);
	g_assert_cmpint(dtls_ctx_new(ours, &conf, &ctx, &why), ==, 0);
	r.fd = udp_socket(&port);
	r.srtp = ice_srtp_new();
	r.d = dtls_new(ctx, tc->ours, dtls_cert_fingerprint(f.theirs), r.srtp, on_send, NULL, &r);
	spawn_peer(&r, openssl, &f, tc->ours, tc->profile, port);
	g_assert_cmpint(dtls_start(r.d, g_get_monotonic_time()), ==, 0);
	km = exchange(&r);
	g_assert_nonnull(km);
	peer_keys(km, tc->profile, tc->ours == DTLS_ROLE_SERVER, &k);
	g_assert_cmpint(ice_srtp_set_keys(peer_srtp, &k), ==, 0);
	assert_media(r.srtp, peer_srtp, 7);
	assert_media(peer_srtp, r.srtp, 7);

	peer_stop(&r.peer);
	g_bytes_unref(km);
	ice_srtp_free(peer_srtp);
	dtls_free(r.d);
	ice_srtp_free(r.srtp);
	close(r.fd);
	dtls_ctx_free(ctx);
	dtls_cert_free(ours);
	files_remove(&f);
	g_free(openssl);
}

int main(int argc, char **argv)
{
	static const struct interop_case cases[] = {
		{ DTLS_ROLE_SERVER, ICE_SRTP_AES128_CM_SHA1_80 },
		{ DTLS_ROLE_SERVER, ICE_SRTP_AEAD_AES_128_GCM },
		{ DTLS_ROLE_CLIENT, ICE_SRTP_AES128_CM_SHA1_80 },
		{ DTLS_ROLE_CLIENT, ICE_SRTP_AEAD_AES_256_GCM },
	};

	g_test_init(&argc, &argv, NULL);
	g_assert_cmpint(ice_srtp_global_init(), ==, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		gchar *name = g_strdup_printf("/dtls/interop/%s/%s",
		                              cases[i].ours == DTLS_ROLE_SERVER ? "we-serve"
		                                                                : "we-connect",
		                              ice_srtp_profile_name(cases[i].profile));

		if (ice_srtp_profile_supported(cases[i].profile))
			g_test_add_data_func(name, &cases[i], test_interop);
		g_free(name);
	}
	return g_test_run();
}
