/* Socket addresses of the PBX side: dual-stack IPv6 with IPv4 mapped, our own address, DSCP CS3. */
#include "signaling/sip_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* DSCP CS3 (24) in the top six bits of the TOS byte: call signaling */
#define DSCP_CS3_TOS (24 << 2)

void sip_addr_set(struct sockaddr_in6 *out, GInetAddress *a, uint16_t port)
{
	const guint8 *bytes = g_inet_address_to_bytes(a);

	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	out->sin6_port = htons(port);
	if (g_inet_address_get_family(a) == G_SOCKET_FAMILY_IPV4) {
		out->sin6_addr.s6_addr[10] = out->sin6_addr.s6_addr[11] = 0xff;
		memcpy(out->sin6_addr.s6_addr + 12, bytes, 4);
	} else {
		memcpy(&out->sin6_addr, bytes, 16);
	}
}

static void format(const struct in6_addr *ip, int port, char *out, size_t n)
{
	char text[INET6_ADDRSTRLEN] = "";

	if (IN6_IS_ADDR_V4MAPPED(ip)) {
		inet_ntop(AF_INET, ip->s6_addr + 12, text, sizeof(text));
		g_snprintf(out, n, "%s:%d", text, port);
	} else {
		inet_ntop(AF_INET6, ip, text, sizeof(text));
		g_snprintf(out, n, "[%s]:%d", text, port);
	}
}

void sip_addr_local(const struct sockaddr_in6 *to, int port, char *out, size_t n)
{
	struct sockaddr_in6 me;
	socklen_t len = sizeof(me);
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	/* a UDP connect() sends nothing: it only asks the kernel for its route */
	out[0] = '\0';
	if (fd >= 0 && connect(fd, (const struct sockaddr *)to, sizeof(*to)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&me, &len) == 0)
		format(&me.sin6_addr, port, out, n);
	if (fd >= 0)
		close(fd);
}

void sip_addr_str(const struct sockaddr_in6 *a, char *out, size_t n)
{
	format(&a->sin6_addr, ntohs(a->sin6_port), out, n);
}

void sip_addr_dscp(int fd)
{
	int tos = DSCP_CS3_TOS;

	setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
}

int sip_addr_socket(int type)
{
	int off = 0;
	int fd = socket(AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	sip_addr_dscp(fd);
	return fd;
}
