/* sock.h — listen addresses and the sockets the workers serve on.
 *
 * Every worker owns one UDP socket and one TCP listener per listen address, all bound to the
 * same address with SO_REUSEPORT so the kernel spreads queries over the workers. libuv's own
 * bind does not set SO_REUSEPORT, so sockets are made here by hand and handed to libuv (TCP)
 * or served by a thread of their own (UDP, server/worker.h). UDP sockets bound to a wildcard
 * address ask for the destination address of each query (IP_PKTINFO / IPV6_RECVPKTINFO) so
 * that an answer leaves from the address it was sent to; one bound to a single address
 * answers from it without.
 *
 * All functions run on the control thread at start-up; none of them is on the query path.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "contrib/base/compiler.h"

/* Room for "[ffff:...:ffff%ifname]:65535". */
#define SRV_ADDR_STRLEN 96

typedef struct srv_addr {
	struct sockaddr_storage ss;
	socklen_t len;
} srv_addr_t;

/* Parse "1.2.3.4:53", "[::1]:53", "1.2.3.4", "[::1]" or "::1" (the last three on port 53).
 * Returns 0 or SD_EPARSE. */
int srv_addr_parse(const char *text, srv_addr_t *out) SD_NONNULL(1, 2) SD_WUR;

/* Presentation "1.2.3.4:53" / "[::1]:53" into buf (always NUL-terminated); returns buf. */
char *srv_addr_str(const struct sockaddr *sa, char *buf, size_t size) SD_NONNULL(1, 2);

uint16_t srv_addr_port(const srv_addr_t *a) SD_NONNULL(1);
void srv_addr_set_port(srv_addr_t *a, uint16_t port) SD_NONNULL(1);

/* Whether addr (a port other than 0) is free for UDP and TCP: 0, or -EADDRINUSE when another
 * socket is bound there. The listening sockets use SO_REUSEPORT, with which a second process
 * of the same user would join the port silently and take a share of its queries (a second
 * steerdns, or another server, started on the same address): checked before they bind. */
int srv_sock_probe(const srv_addr_t *addr) SD_NONNULL(1) SD_WUR;

/* Is addr the wildcard address of its family (0.0.0.0, ::)? */
bool srv_addr_wildcard(const srv_addr_t *a) SD_NONNULL(1);

/* New blocking (its thread sleeps in recvmmsg; sends use MSG_DONTWAIT), close-on-exec UDP
 * socket bound to addr with SO_REUSEPORT and, on a wildcard addr, the PKTINFO option of its
 * family. Returns the fd or a negative code. */
int srv_sock_udp(const srv_addr_t *addr) SD_NONNULL(1) SD_WUR;

/* New non-blocking, close-on-exec TCP socket bound to addr with SO_REUSEADDR and
 * SO_REUSEPORT, listening with the given backlog. Returns the fd or a negative code. */
int srv_sock_tcp(const srv_addr_t *addr, int backlog) SD_NONNULL(1) SD_WUR;

/* The address a socket is bound to (used to learn the port chosen for port 0). */
int srv_sock_local(int fd, srv_addr_t *out) SD_NONNULL(2) SD_WUR;
