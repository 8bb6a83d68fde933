#include "server/sock.h"

#include "contrib/base/err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse_port(const char *s, uint16_t *port)
{
	char *end = NULL;
	if (*s < '0' || *s > '9')
		return SD_EPARSE;
	unsigned long v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 65535)
		return SD_EPARSE;
	*port = (uint16_t)v;
	return 0;
}

static int parse_v6(const char *host, uint16_t port, srv_addr_t *out)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return SD_EPARSE;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	out->len = sizeof(*sin6);
	return 0;
}

int srv_addr_parse(const char *text, srv_addr_t *out)
{
	char host[SRV_ADDR_STRLEN];
	uint16_t port = 53;
	memset(out, 0, sizeof(*out));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		size_t n = close ? (size_t)(close - text - 1) : 0;
		if (!close || n == 0 || n >= sizeof(host))
			return SD_EPARSE;
		if (close[1] != '\0' && (close[1] != ':' || parse_port(close + 2, &port) < 0))
			return SD_EPARSE;
		memcpy(host, text + 1, n);
		host[n] = '\0';
		return parse_v6(host, port, out);
	}
	const char *colon = strchr(text, ':');
	if (colon && strchr(colon + 1, ':'))
		return parse_v6(text, port, out); /* bare IPv6 address, default port */
	size_t n = colon ? (size_t)(colon - text) : strlen(text);
	if (n == 0 || n >= sizeof(host) || (colon && parse_port(colon + 1, &port) < 0))
		return SD_EPARSE;
	memcpy(host, text, n);
	host[n] = '\0';
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return SD_EPARSE;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	out->len = sizeof(*sin);
	return 0;
}

char *srv_addr_str(const struct sockaddr *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
		snprintf(buf, size, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
		snprintf(buf, size, "[%s]:%u", host, port);
	} else {
		snprintf(buf, size, "(family %d)", sa->sa_family);
	}
	return buf;
}

uint16_t srv_addr_port(const srv_addr_t *a)
{
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

void srv_addr_set_port(srv_addr_t *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
}

static int set_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) == 0 ? 0 : sd_errno();
}

/* Options every listening socket gets; the caller closes fd on failure. */
static int common_opts(int fd, const srv_addr_t *addr)
{
	int ret = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	if (ret == 0 && addr->ss.ss_family == AF_INET6)
		ret = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1); /* [::] must not grab IPv4 */
	return ret;
}

bool srv_addr_wildcard(const srv_addr_t *a)
{
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
	return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == htonl(INADDR_ANY);
}

static int udp_opts(int fd, const srv_addr_t *addr)
{
	int ret = common_opts(fd, addr);
	if (ret < 0)
		return ret;
	/* Only a wildcard socket needs each query's destination to answer from it: a socket
	 * bound to one address replies from that address, without a control message per
	 * datagram either way. */
	bool pktinfo = srv_addr_wildcard(addr);
	if (addr->ss.ss_family == AF_INET6) {
		if (pktinfo)
			ret = set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
		/* Ignore path MTU information: an ICMP "too big" is easily spoofed to make us
		 * fragment (or fail) answers. The kernel fragments only past the interface MTU,
		 * which answers reach only with a udp-payload above it (the default, 1232, never
		 * does); best effort. */
		(void)set_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IP_PMTUDISC_OMIT);
	} else {
		if (pktinfo)
			ret = set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
		(void)set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_OMIT);
	}
	/* A larger receive queue absorbs bursts; the kernel caps it at rmem_max. */
	(void)set_int(fd, SOL_SOCKET, SO_RCVBUF, 4 << 20);
	return ret;
}

/* Bind a plain socket of type to addr and close it: EADDRINUSE when any socket of that type
 * is bound there (a TCP socket in TIME_WAIT aside: SO_REUSEADDR). */
static int probe_one(const srv_addr_t *addr, int type)
{
	int fd = socket(addr->ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sd_errno();
	int ret = type == SOCK_STREAM ? set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) : 0;
	if (ret == 0 && addr->ss.ss_family == AF_INET6)
		ret = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (ret == 0 && bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0)
		ret = sd_errno();
	close(fd);
	return ret;
}

int srv_sock_probe(const srv_addr_t *addr)
{
	int ret = probe_one(addr, SOCK_DGRAM);
	return ret == 0 ? probe_one(addr, SOCK_STREAM) : ret;
}

int srv_sock_udp(const srv_addr_t *addr)
{
	int fd = socket(addr->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sd_errno();
	int ret = udp_opts(fd, addr);
	if (ret == 0 && bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0)
		ret = sd_errno();
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

int srv_sock_tcp(const srv_addr_t *addr, int backlog)
{
	int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sd_errno();
	int ret = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (ret == 0)
		ret = common_opts(fd, addr);
	if (ret == 0 && bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0)
		ret = sd_errno();
	if (ret == 0 && listen(fd, backlog) != 0)
		ret = sd_errno();
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

int srv_sock_local(int fd, srv_addr_t *out)
{
	memset(out, 0, sizeof(*out));
	out->len = sizeof(out->ss);
	if (getsockname(fd, (struct sockaddr *)&out->ss, &out->len) != 0)
		return sd_errno();
	return 0;
}
