/* SIP over UDP toward the PBX (RFC 3261 §18): one dual-stack socket on sip.port, DSCP CS3. */
#include "signaling/sip_udp.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/conf.h"
#include "signaling/sip_addr.h"
#include "signaling/sip_msg.h"

struct sip_udp {
	int fd;
	guint watch;
	sip_udp_lookup_fn lookup;
	sip_udp_rx_fn rx;
	void *user;
	unsigned long foreign;
};

static gboolean readable(gint fd, GIOCondition cond, gpointer data)
{
	struct sip_udp *u = data;
	char buf[SIP_MSG_MAX + 1];

	(void)cond;
	/* bounded per wake-up, like every loop of ours */
	for (int i = 0; i < 64; i++) {
		struct sockaddr_in6 from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
		                     &flen);
		struct sip_peer *p;

		if (n < 0)
			break;
		/* the PBX may answer from another port than it listens on: the address decides */
		p = u->lookup(u->user, &from);
		if (!p) {
			u->foreign++;
			continue;
		}
		/* a CRLF keepalive (RFC 5626 §4.4.1 over UDP is STUN; some PBXes send CRLF) */
		if (n <= 4 && strspn(buf, "\r\n") == (size_t)n)
			continue;
		u->rx(u->user, p, buf, (size_t)n);
	}
	return G_SOURCE_CONTINUE;
}

static int bind_socket(const struct conf *c, char **why)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
		                  .sin6_port = htons((uint16_t)c->sip.port) };
	int fd = sip_addr_socket(SOCK_DGRAM);

	if (fd < 0) {
		*why = g_strdup_printf("SIP socket: %s", g_strerror(errno));
		return -1;
	}
	if (*c->sip.address) {
		GInetAddress *ia = g_inet_address_new_from_string(c->sip.address);

		sip_addr_set(&a, ia, (uint16_t)c->sip.port);
		g_object_unref(ia);
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		*why = g_strdup_printf("cannot listen on sip.port %d: %s", c->sip.port,
		                       g_strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int sip_udp_open(const struct conf *c, sip_udp_lookup_fn lookup, sip_udp_rx_fn rx, void *user,
                 struct sip_udp **out, char **why)
{
	struct sip_udp *u;
	int fd = bind_socket(c, why);

	if (fd < 0)
		return EADDRINUSE;
	u = g_new0(struct sip_udp, 1);
	u->fd = fd;
	u->lookup = lookup;
	u->rx = rx;
	u->user = user;
	u->watch = g_unix_fd_add(fd, G_IO_IN, readable, u);
	*out = u;
	return 0;
}

void sip_udp_free(struct sip_udp *u)
{
	if (!u)
		return;
	g_source_remove(u->watch);
	close(u->fd);
	g_free(u);
}

int sip_udp_send(struct sip_udp *u, const struct sockaddr_in6 *to, const char *buf, size_t len)
{
	if (sendto(u->fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)to, sizeof(*to)) < 0)
		return errno;
	return 0;
}

unsigned long sip_udp_foreign(const struct sip_udp *u)
{
	return u->foreign;
}
