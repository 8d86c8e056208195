/* webrtc_load: the browser side's media per call, written apart from rtcgate's ice/: a libnice
 * agent (full ICE, controlling, one component, rtcp-mux; RFC 8445), DTLS 1.2 over memory BIOs
 * with use_srtp (RFC 5764 §4.1.1, GCM first), keys from the exporter (RFC 5764 §4.2) into two
 * libsrtp2 sessions; then the socket read from the thread's epoll set (RFC 7983 demux).
 * Everything here runs on the call's media thread. */
#include "webrtc_load.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <gio/gio.h>
#include <nice/agent.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <srtp2/srtp.h>

#define DTLS_LIMIT_US (15 * G_USEC_PER_SEC)
#define FLIGHT_MAX    16384
#define FP_MAX        (32 * 3)
#define RECV_BATCH    32

struct wl_rtc {
	NiceAgent *agent;
	guint stream;
	SSL *ssl;
	BIO *rbio, *wbio;
	bool client; /* our DTLS role, from the answer's a=setup */
	bool have_answer, done;
	bool ready; /* libnice nominated the pair (READY): no check of ours is left in flight */
	gint64 dtls_t0;
	char remote_fp[FP_MAX + 1];
	srtp_t tx, rx;
	/* the fast path: the selected pair's socket (libnice's) read and written here, -1 before */
	int fd;
	struct sockaddr_storage peer;
	socklen_t peer_len;
};

static struct {
	SSL_CTX *ctx;
	char fp[FP_MAX + 1]; /* our certificate's SHA-256, AB:CD:… */
	srtp_t keeper;       /* keeps NSS's softoken loaded (see docs/webrtc.md) */
} g;

static int verify_any(int ok, X509_STORE_CTX *x)
{
	/* self-signed on both sides; the fingerprint from the SDP is checked after the handshake */
	(void)ok;
	(void)x;
	return 1;
}

static void fingerprint(X509 *x, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = 0;
	if (!X509_digest(x, EVP_sha256(), md, &n))
		return;
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(out + 3 * i, 4, i + 1 < n ? "%02X:" : "%02X", md[i]);
}

static X509 *self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)g_random_int_range(1, G_MAXINT32));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"webrtc_load",
	                           -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (!X509_sign(x, key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int wl_rtc_global_init(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = key ? self_signed(key) : NULL;
	srtp_policy_t p;
	unsigned char k[SRTP_AES_GCM_128_KEY_LEN_WSALT] = { 1 };
	int rc = 0;

	if (!x || srtp_init() != srtp_err_status_ok) {
		rc = EPROTO;
		goto out;
	}
	g.ctx = SSL_CTX_new(DTLS_method());
	SSL_CTX_set_min_proto_version(g.ctx, DTLS1_2_VERSION);
	if (!SSL_CTX_use_certificate(g.ctx, x) || !SSL_CTX_use_PrivateKey(g.ctx, key) ||
	    SSL_CTX_set_tlsext_use_srtp(g.ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80")) {
		rc = EPROTO;
		goto out;
	}
	SSL_CTX_set_verify(g.ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_any);
	SSL_CTX_set_read_ahead(g.ctx, 1);
	fingerprint(x, g.fp);
	memset(&p, 0, sizeof(p));
	srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
	srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
	p.ssrc.type = ssrc_any_outbound;
	p.key = k;
	if (srtp_create(&g.keeper, &p) != srtp_err_status_ok)
		rc = EPROTO;
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

static void fail(struct wl_call *c, uint64_t *counter, const char *why)
{
	(*counter)++;
	wl_call_failed(c, why);
}

/* Through libnice until the fast path has the socket, then straight to the pair's remote. */
static void out(struct wl_rtc *r, const uint8_t *buf, int len)
{
	if (r->fd >= 0)
		sendto(r->fd, buf, (size_t)len, MSG_DONTWAIT, (const struct sockaddr *)&r->peer,
		       r->peer_len);
	else
		nice_agent_send(r->agent, r->stream, 1, (guint)len, (const gchar *)buf);
}

/* Everything OpenSSL wrote goes out as one datagram: a flight's records whole, in order. */
static void flush(struct wl_call *c)
{
	struct wl_rtc *r = c->rtc;
	static __thread uint8_t buf[FLIGHT_MAX]; /* one per generator thread */
	int n;

	for (int i = 0; i < 8 && BIO_ctrl_pending(r->wbio) > 0; i++) {
		n = BIO_read(r->wbio, buf, sizeof(buf));
		if (n <= 0)
			break;
		out(r, buf, n);
	}
}

static int make_srtp(srtp_t *s, bool gcm, bool out, unsigned char *key)
{
	srtp_policy_t p;

	memset(&p, 0, sizeof(p));
	if (gcm) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
	} else {
		srtp_crypto_policy_set_rtp_default(&p.rtp);
		srtp_crypto_policy_set_rtcp_default(&p.rtcp);
	}
	p.ssrc.type = out ? ssrc_any_outbound : ssrc_any_inbound;
	p.key = key;
	p.window_size = 1024;
	return srtp_create(s, &p) == srtp_err_status_ok ? 0 : EPROTO;
}

/* RFC 5764 §4.2: client key | server key | client salt | server salt. */
static int keys(struct wl_call *c)
{
	struct wl_rtc *r = c->rtc;
	SRTP_PROTECTION_PROFILE *prof = SSL_get_selected_srtp_profile(r->ssl);
	unsigned char m[2 * (16 + 14)], local[30], remote[30];
	bool gcm;
	int klen = 16, slen, rc;

	if (!prof || (prof->id != SRTP_AEAD_AES_128_GCM && prof->id != SRTP_AES128_CM_SHA1_80))
		return EPROTO;
	gcm = prof->id == SRTP_AEAD_AES_128_GCM;
	slen = gcm ? 12 : 14;
	if (!SSL_export_keying_material(r->ssl, m, (size_t)(2 * (klen + slen)),
	                                "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0))
		return EPROTO;
	memcpy(local, m + (r->client ? 0 : klen), (size_t)klen);
	memcpy(local + klen, m + 2 * klen + (r->client ? 0 : slen), (size_t)slen);
	memcpy(remote, m + (r->client ? klen : 0), (size_t)klen);
	memcpy(remote + klen, m + 2 * klen + (r->client ? slen : 0), (size_t)slen);
	rc = make_srtp(&r->tx, gcm, true, local);
	if (!rc)
		rc = make_srtp(&r->rx, gcm, false, remote);
	OPENSSL_cleanse(m, sizeof(m));
	OPENSSL_cleanse(local, sizeof(local));
	OPENSSL_cleanse(remote, sizeof(remote));
	g_strlcpy(c->profile, prof->name, sizeof(c->profile));
	return rc;
}

/*
 * Once DTLS has the keys and ICE nominated its pair, the call's socket leaves libnice's
 * receive path for the thread's epoll set. libnice keeps owning (and at the end closing) the
 * fd and still sends its keepalives on it; its receive source is moved to the thread's park
 * context, which nobody iterates. A NULL context would be GLib's default one, the main
 * thread's, which would poll the fd and, with no callback to read for, spin on it.
 */
static void fast_start(struct wl_call *c)
{
	struct wl_rtc *r = c->rtc;
	NiceCandidate *lc = NULL, *rc = NULL;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	GSocket *sock;
	int fd;

	if (r->fd >= 0 || !r->done || !r->ready || g_atomic_int_get(&c->failed) ||
	    !nice_agent_get_selected_pair(r->agent, r->stream, 1, &lc, &rc) ||
	    rc->transport != NICE_CANDIDATE_TRANSPORT_UDP)
		return;
	sock = nice_agent_get_selected_socket(r->agent, r->stream, 1);
	if (!sock)
		return;
	fd = g_socket_get_fd(sock);
	g_object_unref(sock);
	memset(&r->peer, 0, sizeof(r->peer));
	nice_address_copy_to_sockaddr(&rc->addr, (struct sockaddr *)&r->peer);
	r->peer_len = r->peer.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                            : sizeof(struct sockaddr_in);
	if (epoll_ctl(wl_thread_epoll(c->th), EPOLL_CTL_ADD, fd, &ev))
		return; /* libnice goes on reading it */
	nice_agent_attach_recv(r->agent, r->stream, 1, wl_thread_park(c->th), NULL, NULL);
	r->fd = fd;
}

static void handshake_done(struct wl_call *c)
{
	struct wl_rtc *r = c->rtc;
	X509 *peer = SSL_get1_peer_certificate(r->ssl);
	char fp[FP_MAX + 1];

	if (!peer) {
		fail(c, &wl_thread_stats(c->th)->dtls_fail, "DTLS: no peer certificate");
		return;
	}
	fingerprint(peer, fp);
	X509_free(peer);
	if (g_ascii_strcasecmp(fp, r->remote_fp)) {
		fail(c, &wl_thread_stats(c->th)->dtls_fail,
		     "DTLS: certificate does not match a=fingerprint");
		return;
	}
	if (keys(c)) {
		fail(c, &wl_thread_stats(c->th)->dtls_fail, "DTLS: no SRTP profile or keys");
		return;
	}
	r->done = true;
	wl_media_flowing(c);
	fast_start(c);
}

static void dtls_step(struct wl_call *c)
{
	struct wl_rtc *r = c->rtc;
	int rc, err;

	if (r->done || g_atomic_int_get(&c->failed))
		return;
	rc = SSL_do_handshake(r->ssl);
	flush(c);
	if (rc == 1) {
		handshake_done(c);
		return;
	}
	err = SSL_get_error(r->ssl, rc);
	if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
		char why[160];

		const char *reason = ERR_reason_error_string(ERR_peek_last_error());

		snprintf(why, sizeof(why), "DTLS handshake: %s", reason ? reason : "failed");
		ERR_clear_error();
		fail(c, &wl_thread_stats(c->th)->dtls_fail, why);
	}
}

static void dtls_begin(struct wl_call *c)
{
	struct wl_rtc *r = c->rtc;

	if (r->ssl || !r->have_answer)
		return;
	r->ssl = SSL_new(g.ctx);
	r->rbio = BIO_new(BIO_s_mem());
	r->wbio = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(r->rbio, -1);
	BIO_set_mem_eof_return(r->wbio, -1);
	SSL_set_bio(r->ssl, r->rbio, r->wbio);
	SSL_set_options(r->ssl, SSL_OP_NO_QUERY_MTU);
	DTLS_set_link_mtu(r->ssl, 1200);
	if (r->client)
		SSL_set_connect_state(r->ssl);
	else
		SSL_set_accept_state(r->ssl);
	r->dtls_t0 = g_get_monotonic_time();
	if (r->client)
		dtls_step(c);
}

/*
 * RFC 7983 §7 by the first byte: DTLS to OpenSSL, SRTP and SRTCP unprotected in place (BUF is
 * LEN bytes long); anything else (STUN on the fast path: rtcgate is ICE-lite and sends no
 * checks) is dropped.
 */
static void input(struct wl_call *c, uint8_t *buf, int len)
{
	struct wl_rtc *r = c->rtc;
	uint8_t b0 = buf[0];

	if (b0 >= 20 && b0 <= 63) {
		dtls_begin(c);
		if (!r->ssl)
			return;
		BIO_write(r->rbio, buf, len);
		if (!r->done) {
			dtls_step(c);
		} else {
			/* a retransmitted flight: OpenSSL answers it; no application data here */
			SSL_read(r->ssl, buf, len);
			flush(c);
		}
		return;
	}
	if (b0 < 128 || b0 > 191 || !r->done)
		return;
	if (len >= 2 && buf[1] >= 192 && buf[1] <= 223) {
		if (srtp_unprotect_rtcp(r->rx, buf, &len) != srtp_err_status_ok)
			wl_thread_stats(c->th)->srtp_err++;
		return;
	}
	if (srtp_unprotect(r->rx, buf, &len) != srtp_err_status_ok) {
		wl_thread_stats(c->th)->srtp_err++;
		return;
	}
	wl_rtp_received(c->th, c, buf, len);
}

static void on_recv(NiceAgent *agent, guint stream, guint comp, guint len, gchar *data,
                    gpointer user)
{
	struct wl_call *c = user;
	uint8_t pkt[WL_PKT_MAX];

	(void)agent;
	(void)stream;
	(void)comp;
	if (!len || len > WL_PKT_MAX || !c->rtc)
		return;
	memcpy(pkt, data, len);
	input(c, pkt, (int)len);
}

/* The fast path's receive: one batch per wake-up (the epoll set is level-triggered). */
void wl_rtc_readable(struct wl_call *c)
{
	static __thread uint8_t bufs[RECV_BATCH][WL_PKT_MAX]; /* one per generator thread */
	struct mmsghdr mm[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	struct wl_rtc *r = c->rtc;
	int n;

	for (int i = 0; i < RECV_BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	n = recvmmsg(r->fd, mm, RECV_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		if (mm[i].msg_len && !(mm[i].msg_hdr.msg_flags & MSG_TRUNC))
			input(c, bufs[i], (int)mm[i].msg_len);
	}
}

static void on_state(NiceAgent *agent, guint stream, guint comp, guint state, gpointer user)
{
	struct wl_call *c = user;
	struct wl_rtc *r = c->rtc;

	(void)agent;
	(void)stream;
	(void)comp;
	if (state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY)
		dtls_begin(c);
	if (state == NICE_COMPONENT_STATE_READY) {
		r->ready = true;
		fast_start(c);
	} else if (state == NICE_COMPONENT_STATE_FAILED)
		fail(c, &wl_thread_stats(c->th)->ice_fail, "ICE failed");
}

static void on_gathered(NiceAgent *agent, guint stream, gpointer user)
{
	struct wl_call *c = user;
	GSList *cands = nice_agent_get_local_candidates(agent, stream, 1);
	GString *sdp = g_string_new(NULL);
	gchar *ufrag = NULL, *pwd = NULL;
	char addr[NICE_ADDRESS_STRING_LEN] = "127.0.0.1";
	int port = 9;

	if (cands) {
		NiceCandidate *first = cands->data;
		nice_address_to_string(&first->addr, addr);
		port = (int)nice_address_get_port(&first->addr);
	}
	nice_agent_get_local_credentials(agent, stream, &ufrag, &pwd);
	/* what Chromium offers for audio, less what does not matter here (video, extmap) */
	g_string_append_printf(sdp,
	                       "v=0\r\no=- %u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	                       "a=group:BUNDLE 0\r\na=msid-semantic: WMS load\r\n"
	                       "m=audio %d UDP/TLS/RTP/SAVPF 0 101\r\nc=IN IP4 %s\r\n"
	                       "a=rtcp:9 IN IP4 0.0.0.0\r\n",
	                       g_random_int(), port, addr);
	for (GSList *l = cands; l; l = l->next) {
		gchar *line = nice_agent_generate_local_candidate_sdp(agent, l->data);
		g_string_append_printf(sdp, "%s\r\n", line);
		g_free(line);
	}
	g_string_append_printf(sdp,
	                       "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\n"
	                       "a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=msid:load audio\r\n"
	                       "a=rtcp-mux\r\na=rtpmap:0 PCMU/8000\r\n"
	                       "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
	                       "a=ssrc:%u cname:load%d\r\na=end-of-candidates\r\n",
	                       ufrag, pwd, g.fp, c->ssrc, c->idx);
	g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
	g_free(ufrag);
	g_free(pwd);
	if (!cands) {
		g_string_free(sdp, TRUE);
		fail(c, &wl_thread_stats(c->th)->ice_fail, "no local candidate");
		return;
	}
	c->offer = g_string_free(sdp, FALSE);
	wl_offer_ready(c);
}

/* The agent on the thread's agents context, its receive on the thread's own (every datagram). */
int wl_rtc_prepare(struct wl_call *c)
{
	struct wl_rtc *r = g_new0(struct wl_rtc, 1);
	NiceAddress lo;

	c->rtc = r;
	r->fd = -1;
	r->agent = nice_agent_new_full(wl_thread_agents(c->th), NICE_COMPATIBILITY_RFC5245,
	                               NICE_AGENT_OPTION_REGULAR_NOMINATION);
	g_object_set(r->agent, "controlling-mode", TRUE, "upnp", FALSE, "ice-tcp", FALSE, NULL);
	nice_address_init(&lo);
	if (!nice_address_set_from_string(&lo, "127.0.0.1") ||
	    !nice_agent_add_local_address(r->agent, &lo))
		return EINVAL;
	r->stream = nice_agent_add_stream(r->agent, 1);
	if (!r->stream)
		return ENOMEM;
	nice_agent_set_stream_name(r->agent, r->stream, "audio");
	g_signal_connect(r->agent, "candidate-gathering-done", G_CALLBACK(on_gathered), c);
	g_signal_connect(r->agent, "component-state-changed", G_CALLBACK(on_state), c);
	nice_agent_attach_recv(r->agent, r->stream, 1, wl_thread_context(c->th), on_recv, c);
	return nice_agent_gather_candidates(r->agent, r->stream) ? 0 : EIO;
}

int wl_rtc_answer(struct wl_call *c)
{
	struct wl_rtc *r = c->rtc;
	char ufrag[257], pwd[257], fp[160], setup[32], m[128];
	GSList *remote = NULL;
	const char *p;
	int added;

	if (!r || wl_sdp_value(c->answer, "m=audio ", m, sizeof(m)) || !strstr(m, "SAVPF") ||
	    wl_sdp_value(c->answer, "a=ice-ufrag:", ufrag, sizeof(ufrag)) ||
	    wl_sdp_value(c->answer, "a=ice-pwd:", pwd, sizeof(pwd)) ||
	    wl_sdp_value(c->answer, "a=fingerprint:sha-256 ", fp, sizeof(fp)) ||
	    wl_sdp_value(c->answer, "a=setup:", setup, sizeof(setup)) || strlen(fp) > FP_MAX)
		return EPROTO;
	g_strlcpy(r->remote_fp, fp, sizeof(r->remote_fp));
	r->client = !strcmp(setup, "passive");
	if (!r->client && strcmp(setup, "active"))
		return EPROTO;
	r->have_answer = true;
	nice_agent_set_remote_credentials(r->agent, r->stream, ufrag, pwd);
	for (p = strstr(c->answer, "a=candidate:"); p; p = strstr(p + 1, "\na=candidate:")) {
		char *line;
		NiceCandidate *cand;

		if (*p == '\n')
			p++;
		line = g_strndup(p, strcspn(p, "\r\n"));
		cand = nice_agent_parse_remote_candidate_sdp(r->agent, r->stream, line);
		g_free(line);
		if (cand)
			remote = g_slist_append(remote, cand);
	}
	added = remote ? nice_agent_set_remote_candidates(r->agent, r->stream, 1, remote) : 0;
	g_slist_free_full(remote, (GDestroyNotify)nice_candidate_free);
	return added > 0 ? 0 : EPROTO;
}

void wl_rtc_send(struct wl_call *c, uint8_t *pkt, int len)
{
	struct wl_rtc *r = c->rtc;

	if (!r || !r->done || srtp_protect(r->tx, pkt, &len) != srtp_err_status_ok)
		return;
	out(r, pkt, len);
}

void wl_rtc_tick(struct wl_call *c, gint64 now)
{
	struct wl_rtc *r = c->rtc;
	struct timeval tv;

	if (!r || !r->ssl || r->done || g_atomic_int_get(&c->failed))
		return;
	if (now - r->dtls_t0 > DTLS_LIMIT_US) {
		fail(c, &wl_thread_stats(c->th)->dtls_fail, "DTLS: no handshake within 15 s");
		return;
	}
	if (DTLSv1_get_timeout(r->ssl, &tv) && !tv.tv_sec && !tv.tv_usec) {
		DTLSv1_handle_timeout(r->ssl);
		flush(c);
	}
}

void wl_rtc_free(struct wl_call *c)
{
	struct wl_rtc *r = c->rtc;

	c->rtc = NULL;
	if (r->fd >= 0) /* before libnice closes it */
		epoll_ctl(wl_thread_epoll(c->th), EPOLL_CTL_DEL, r->fd, NULL);
	if (r->ssl)
		SSL_free(r->ssl); /* and its BIOs */
	if (r->tx)
		srtp_dealloc(r->tx);
	if (r->rx)
		srtp_dealloc(r->rx);
	g_signal_handlers_disconnect_by_data(r->agent, c);
	/* not NULL: that is the main thread's context (see fast_start) */
	nice_agent_attach_recv(r->agent, r->stream, 1, wl_thread_park(c->th), NULL, NULL);
	nice_agent_remove_stream(r->agent, r->stream);
	g_object_unref(r->agent);
	g_free(r);
}
