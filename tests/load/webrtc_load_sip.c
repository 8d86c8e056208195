/* webrtc_load: signaling. Browser side: one SIP-over-WebSocket flow per call (RFC 7118,
 * libwebsockets client on the GLib main loop): REGISTER, INVITE, ACK, BYE. PBX side: a
 * stateless UDP UAS (RFC 3261 §8.2.6) that grants REGISTER and answers INVITE with 200 and
 * plain SDP pointing at the echo peer. */
#include "webrtc_load.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <libwebsockets.h>

#define HOST "load.invalid"

enum flow_state { FLOW_CONNECTING, FLOW_REGISTERING, FLOW_REGISTERED, FLOW_FAILED };

struct wl_flow {
	int idx;
	struct lws *wsi;
	enum flow_state state;
	GQueue out; /* GByteArray with LWS_PRE bytes of headroom */
	GString *in;
	char login[32];
	char reg_call_id[40];
	struct wl_call *call;
};

static struct {
	struct lws_context *ctx;
	struct lws_protocols protocols[2];
	int registered, failed;
	GPtrArray *flows;
} sip;

static void token(char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i + 1 < cap; i++)
		out[i] = hex[g_random_int_range(0, 16)];
	out[cap - 1] = 0;
}

/* The value of header NAME (or its compact form) in the head of MSG; false when absent. */
static bool header(const char *msg, const char *name, const char *compact, char *out, size_t cap)
{
	const char *end = strstr(msg, "\r\n\r\n");
	const char *p = strstr(msg, "\r\n");

	while (p && (!end || p < end)) {
		const char *line = p + 2;
		const char *colon = strchr(line, ':');
		size_t nlen = colon ? (size_t)(colon - line) : 0;

		while (nlen && line[nlen - 1] == ' ')
			nlen--;
		if (colon &&
		    ((nlen == strlen(name) && !strncasecmp(line, name, nlen)) ||
		     (compact && nlen == strlen(compact) && !strncasecmp(line, compact, nlen)))) {
			const char *v = colon + 1;
			size_t n;

			v += strspn(v, " \t");
			n = strcspn(v, "\r\n");
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = 0;
			return true;
		}
		p = strstr(line, "\r\n");
	}
	return false;
}

static const char *body_of(const char *msg)
{
	const char *b = strstr(msg, "\r\n\r\n");

	return b ? b + 4 : "";
}

static void flow_send(struct wl_flow *f, const char *text)
{
	size_t len = strlen(text);
	GByteArray *b = g_byte_array_sized_new((guint)(LWS_PRE + len));

	g_byte_array_set_size(b, (guint)(LWS_PRE + len));
	memcpy(b->data + LWS_PRE, text, len);
	g_queue_push_tail(&f->out, b);
	if (f->wsi)
		lws_callback_on_writable(f->wsi);
}

static char *request(struct wl_flow *f, const char *method, const char *uri, const char *call_id,
                     const char *from_tag, const char *to, int cseq, const char *body)
{
	char branch[17];

	token(branch, sizeof(branch));
	return g_strdup_printf("%s %s SIP/2.0\r\nVia: SIP/2.0/WS " HOST ";branch=z9hG4bK%s\r\n"
	                       "Max-Forwards: 70\r\nTo: %s\r\nFrom: <sip:%s@pbx.example>;tag=%s\r\n"
	                       "Call-ID: %s\r\nCSeq: %d %s\r\n"
	                       "Contact: <sip:f%d@" HOST ";transport=ws>\r\n%s%s"
	                       "Content-Length: %zu\r\n\r\n%s",
	                       method, uri, branch, to, f->login, from_tag, call_id, cseq, method,
	                       f->idx, body ? "Content-Type: application/sdp\r\n" : "",
	                       !strcmp(method, "REGISTER") ? "Expires: 600\r\n" : "",
	                       body ? strlen(body) : 0, body ? body : "");
}

static void send_register(struct wl_flow *f)
{
	char tag[17], to[64];
	char *msg;

	token(f->reg_call_id, sizeof(f->reg_call_id));
	token(tag, sizeof(tag));
	snprintf(to, sizeof(to), "<sip:%s@pbx.example>", f->login);
	msg = request(f, "REGISTER", "sip:pbx.example", f->reg_call_id, tag, to, 1, NULL);
	flow_send(f, msg);
	g_free(msg);
	f->state = FLOW_REGISTERING;
}

static void flow_failed(struct wl_flow *f, const char *why)
{
	if (f->state == FLOW_REGISTERED || f->state == FLOW_FAILED) {
		if (f->call && !f->call->bye_done)
			wl_call_failed(f->call, why);
		if (f->state == FLOW_REGISTERED)
			f->state = FLOW_FAILED;
		return;
	}
	f->state = FLOW_FAILED;
	sip.failed++;
	if (sip.failed <= 5)
		fprintf(stderr, "flow %d: %s\n", f->idx, why);
}

static char *dialog_request(struct wl_call *c, const char *method, int cseq)
{
	char to[128];

	snprintf(to, sizeof(to), "<sip:1000@pbx.example>;tag=%s", c->to_tag);
	return request(c->flow, method, c->remote_uri, c->call_id, c->from_tag, to, cseq, NULL);
}

static gboolean media_answer(gpointer data)
{
	wl_media_answer(data);
	return G_SOURCE_REMOVE;
}

static void on_invite_answer(struct wl_call *c, int status, const char *msg)
{
	char v[256];
	const char *lt, *gt;
	char *ack;

	if (status < 200)
		return;
	if (status >= 300) {
		snprintf(v, sizeof(v), "INVITE answered %d", status);
		wl_call_failed(c, v);
		return;
	}
	if (!c->answered) {
		if (!header(msg, "To", "t", v, sizeof(v)) || !strstr(v, "tag=")) {
			wl_call_failed(c, "200 without To tag");
			return;
		}
		g_strlcpy(c->to_tag, strstr(v, "tag=") + 4, sizeof(c->to_tag));
		c->to_tag[strcspn(c->to_tag, ";> ")] = 0;
		if (!header(msg, "Contact", "m", v, sizeof(v)) || !(lt = strchr(v, '<')) ||
		    !(gt = strchr(lt, '>')) || gt - lt - 1 >= (long)sizeof(c->remote_uri)) {
			wl_call_failed(c, "200 without Contact");
			return;
		}
		memcpy(c->remote_uri, lt + 1, (size_t)(gt - lt - 1));
		c->remote_uri[gt - lt - 1] = 0;
		c->answer = g_strdup(body_of(msg));
		c->answered = true;
	}
	ack = dialog_request(c, "ACK", 1);
	flow_send(c->flow, ack);
	g_free(ack);
	if (!c->media_told && !g_atomic_int_get(&c->failed)) {
		c->media_told = true; /* the media thread hears the answer once */
		g_main_context_invoke(wl_thread_context(c->th), media_answer, c);
	}
}

static void answer_request(struct wl_flow *f, const char *msg)
{
	char via[256], from[256], to[256], cid[128], cseq[64];
	char *resp;

	if (!header(msg, "Via", "v", via, sizeof(via)) ||
	    !header(msg, "From", "f", from, sizeof(from)) ||
	    !header(msg, "To", "t", to, sizeof(to)) ||
	    !header(msg, "Call-ID", "i", cid, sizeof(cid)) ||
	    !header(msg, "CSeq", NULL, cseq, sizeof(cseq)) || !strncmp(msg, "ACK ", 4))
		return;
	resp = g_strdup_printf("SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
	                       "CSeq: %s\r\nContent-Length: 0\r\n\r\n",
	                       via, from, to, cid, cseq);
	flow_send(f, resp);
	g_free(resp);
	if (!strncmp(msg, "BYE ", 4) && f->call && !f->call->bye_sent)
		wl_call_failed(f->call, "BYE from rtcgate");
}

static void on_message(struct wl_flow *f, const char *msg)
{
	char cseq[64], cid[128];
	int status;

	if (strncmp(msg, "SIP/2.0 ", 8)) {
		answer_request(f, msg);
		return;
	}
	status = atoi(msg + 8);
	if (!header(msg, "CSeq", NULL, cseq, sizeof(cseq)) ||
	    !header(msg, "Call-ID", "i", cid, sizeof(cid)))
		return;
	if (strstr(cseq, "REGISTER")) {
		if (f->state != FLOW_REGISTERING || status < 200)
			return;
		if (status < 300) {
			f->state = FLOW_REGISTERED;
			sip.registered++;
		} else {
			char why[64];
			snprintf(why, sizeof(why), "REGISTER answered %d", status);
			flow_failed(f, why);
		}
		return;
	}
	if (!f->call || strcmp(cid, f->call->call_id))
		return;
	if (strstr(cseq, "INVITE"))
		on_invite_answer(f->call, status, msg);
	else if (strstr(cseq, "BYE") && status >= 200)
		f->call->bye_done = true;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
	struct wl_flow *f = lws_get_opaque_user_data(wsi);

	(void)user;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED: send_register(f); break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		g_string_append_len(f->in, in, (gssize)len);
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
			on_message(f, f->in->str);
			g_string_truncate(f->in, 0);
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE: {
		GByteArray *b = g_queue_pop_head(&f->out);

		if (!b)
			break;
		if (lws_write(wsi, b->data + LWS_PRE, b->len - LWS_PRE, LWS_WRITE_TEXT) <
		    (int)(b->len - LWS_PRE)) {
			g_byte_array_unref(b);
			return -1;
		}
		g_byte_array_unref(b);
		if (!g_queue_is_empty(&f->out))
			lws_callback_on_writable(wsi);
		break;
	}
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (f) {
			f->wsi = NULL;
			flow_failed(f, in ? (const char *)in : "connection error");
		}
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (f) {
			f->wsi = NULL;
			flow_failed(f, "closed");
		}
		break;
	default: break;
	}
	return 0;
}

int wl_sip_start(GMainLoop *loop)
{
	struct lws_context_creation_info info;
	void *foreign[1] = { loop };

	lws_set_log_level(LLL_ERR, NULL);
	sip.protocols[0] = (struct lws_protocols){ .name = "sip",
		                                   .callback = ws_callback,
		                                   .rx_buffer_size = 65536 };
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = sip.protocols;
	info.options = LWS_SERVER_OPTION_GLIB;
	info.foreign_loops = foreign;
	info.fd_limit_per_thread = 1 + (unsigned)wl_opt.calls + 64;
	sip.ctx = lws_create_context(&info);
	sip.flows = g_ptr_array_new();
	return sip.ctx ? 0 : EPROTO;
}

struct wl_flow *wl_flow_open(int idx)
{
	struct wl_flow *f = g_new0(struct wl_flow, 1);
	struct lws_client_connect_info ci;

	f->idx = idx;
	f->in = g_string_sized_new(2048);
	g_queue_init(&f->out);
	snprintf(f->login, sizeof(f->login), "%s%d", wl_opt.login_prefix, idx / wl_opt.per_login);
	g_ptr_array_add(sip.flows, f);
	memset(&ci, 0, sizeof(ci));
	ci.context = sip.ctx;
	ci.address = wl_opt.ws_host;
	ci.port = wl_opt.ws_port;
	ci.path = "/sip";
	ci.host = wl_opt.ws_host;
	ci.origin = wl_opt.ws_host;
	ci.protocol = "sip";
	ci.local_protocol_name = "sip";
	ci.opaque_user_data = f;
	ci.pwsi = &f->wsi;
	if (!lws_client_connect_via_info(&ci)) {
		f->wsi = NULL;
		flow_failed(f, "connect refused at once");
	}
	return f;
}

int wl_flows_registered(int *failed)
{
	*failed = sip.failed;
	return sip.registered;
}

bool wl_flow_ready(const struct wl_flow *f)
{
	return f->state == FLOW_REGISTERED;
}

void wl_sip_invite(struct wl_call *c)
{
	char *msg;

	token(c->call_id, sizeof(c->call_id));
	token(c->from_tag, sizeof(c->from_tag));
	c->cseq = 1;
	c->flow->call = c;
	msg = request(c->flow, "INVITE", "sip:1000@pbx.example", c->call_id, c->from_tag,
	              "<sip:1000@pbx.example>", 1, c->offer);
	c->t_invite = g_get_monotonic_time();
	c->invited = true;
	flow_send(c->flow, msg);
	g_free(msg);
}

void wl_sip_bye(struct wl_call *c)
{
	char *msg;

	if (!c->answered || c->bye_sent || c->flow->state != FLOW_REGISTERED) {
		c->bye_done = true;
		return;
	}
	msg = dialog_request(c, "BYE", 3);
	c->bye_sent = true;
	flow_send(c->flow, msg);
	g_free(msg);
}

void wl_sip_stop(void)
{
	for (guint i = 0; i < sip.flows->len; i++) {
		struct wl_flow *f = sip.flows->pdata[i];

		if (f->wsi)
			lws_set_opaque_user_data(f->wsi, NULL);
		g_queue_clear_full(&f->out, (GDestroyNotify)g_byte_array_unref);
		g_string_free(f->in, TRUE);
		g_free(f);
	}
	g_ptr_array_free(sip.flows, TRUE);
	lws_context_destroy(sip.ctx);
}

/* The PBX: a stateless UAS on UDP. */
static struct {
	int fd;
	guint source;
	uint64_t invites;
} pbx;

/* Every header line of MSG named NAME (or COMPACT), each with its CRLF, into OUT. */
static void copy_headers(const char *msg, const char *name, const char *compact, GString *out)
{
	const char *end = strstr(msg, "\r\n\r\n");
	const char *p = strstr(msg, "\r\n");

	while (p && end && p < end) {
		const char *line = p + 2;
		const char *next = strstr(line, "\r\n");
		const char *colon = strchr(line, ':');
		size_t nlen = colon ? (size_t)(colon - line) : 0;

		while (nlen && line[nlen - 1] == ' ')
			nlen--;
		if (colon && colon < next &&
		    ((nlen == strlen(name) && !strncasecmp(line, name, nlen)) ||
		     (compact && nlen == strlen(compact) && !strncasecmp(line, compact, nlen)))) {
			g_string_append_len(out, line, next - line);
			g_string_append(out, "\r\n");
		}
		p = next;
	}
}

static void pbx_answer(const char *msg, const struct sockaddr_in *from, socklen_t flen)
{
	bool invite = !strncmp(msg, "INVITE ", 7), reg = !strncmp(msg, "REGISTER ", 9);
	char cid[128], to[256], contact[256];
	GString *r;

	if (!strncmp(msg, "ACK ", 4) || !strncmp(msg, "SIP/2.0", 7) ||
	    !header(msg, "Call-ID", "i", cid, sizeof(cid)) ||
	    !header(msg, "To", "t", to, sizeof(to)))
		return;
	r = g_string_new("SIP/2.0 200 OK\r\n");
	copy_headers(msg, "Via", "v", r);
	copy_headers(msg, "From", "f", r);
	g_string_append_printf(r, "To: %s%s", to, strstr(to, "tag=") ? "" : ";tag=p");
	if (!strstr(to, "tag="))
		g_string_append_printf(r, "%08x", g_str_hash(cid));
	g_string_append_printf(r, "\r\nCall-ID: %s\r\n", cid);
	copy_headers(msg, "CSeq", NULL, r);
	if (reg && header(msg, "Contact", "m", contact, sizeof(contact)))
		g_string_append_printf(r, "Contact: %s;expires=600\r\n", contact);
	if (invite) {
		char *sdp = g_strdup_printf(
		        "v=0\r\no=pbx 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 "
		        "0\r\n"
		        "m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
		        "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n",
		        wl_opt.echo_port);

		pbx.invites++;
		g_string_append_printf(
		        r,
		        "Contact: <sip:pbx@127.0.0.1:%d>\r\nContent-Type: application/sdp\r\n"
		        "Content-Length: %zu\r\n\r\n%s",
		        wl_opt.pbx_port, strlen(sdp), sdp);
		g_free(sdp);
	} else {
		g_string_append(r, "Content-Length: 0\r\n\r\n");
	}
	sendto(pbx.fd, r->str, r->len, 0, (const struct sockaddr *)from, flen);
	g_string_free(r, TRUE);
}

static gboolean pbx_readable(gint fd, GIOCondition cond, gpointer data)
{
	char buf[65536];

	(void)cond;
	(void)data;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT,
		                     (struct sockaddr *)&from, &flen);

		if (n <= 0)
			break;
		buf[n] = 0;
		pbx_answer(buf, &from, flen);
	}
	return G_SOURCE_CONTINUE;
}

int wl_pbx_start(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_port = htons((uint16_t)port),
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int buf = 4 << 20;

	pbx.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (pbx.fd < 0)
		return errno;
	setsockopt(pbx.fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (bind(pbx.fd, (struct sockaddr *)&a, sizeof(a)))
		return errno;
	pbx.source = g_unix_fd_add(pbx.fd, G_IO_IN, pbx_readable, NULL);
	return 0;
}

void wl_pbx_stop(void)
{
	g_source_remove(pbx.source);
	close(pbx.fd);
}
