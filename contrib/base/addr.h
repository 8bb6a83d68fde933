/* addr.h — a peer's address bytes, as every per-client rule takes them.
 *
 * An IPv6 socket sees an IPv4 client as an IPv4-mapped address (::ffff:a.b.c.d, RFC 4291
 * 2.5.5.2); access lists, cookies (RFC 9018 4.4), rate limiting and geo steering all treat
 * that client as the IPv4 address it is. Header-only: the query path calls it.
 */
#pragma once

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The address bytes of sa into *out (pointing into sa): 4 for IPv4 (IPv4-mapped IPv6
 * folded), 16 for IPv6, 0 for NULL or another family (*out untouched). Any thread. */
static inline size_t sd_addr_bytes(const struct sockaddr *sa, const uint8_t **out)
{
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		*out = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		return 4;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (IN6_IS_ADDR_V4MAPPED(a6)) {
		*out = a6->s6_addr + 12;
		return 4;
	}
	*out = a6->s6_addr;
	return 16;
}
