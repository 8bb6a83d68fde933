/* Unit tests for the listening sockets (server/sock.h): a UDP socket bound to a wildcard
 * address asks for each query's destination (IP_PKTINFO / IPV6_RECVPKTINFO, which the reply
 * needs to leave from the address asked), one bound to a single address does not (it
 * replies from that address: no control message per datagram); UDP sockets are blocking (a
 * thread sleeps in recvmmsg, server/worker.h). Port 0: the kernel picks a free one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/sock.h"

/* The value of an int socket option of a UDP socket bound to text (port 0). */
static int udp_option(const char *text, int level, int name)
{
	srv_addr_t a;
	assert_int_equal(srv_addr_parse(text, &a), 0);
	srv_addr_set_port(&a, 0);
	int fd = srv_sock_udp(&a);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	int v = -1;
	socklen_t len = sizeof(v);
	assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
	close(fd);
	return v;
}

static void test_wildcard(void **state)
{
	(void)state;
	srv_addr_t a;
	assert_int_equal(srv_addr_parse("0.0.0.0:53", &a), 0);
	assert_true(srv_addr_wildcard(&a));
	assert_int_equal(srv_addr_parse("[::]:53", &a), 0);
	assert_true(srv_addr_wildcard(&a));
	assert_int_equal(srv_addr_parse("127.0.0.1", &a), 0);
	assert_false(srv_addr_wildcard(&a));
	assert_int_equal(srv_addr_parse("::1", &a), 0);
	assert_false(srv_addr_wildcard(&a));
	assert_int_equal(srv_addr_parse("[::ffff:0.0.0.0]", &a), 0); /* not ::, a mapped one */
	assert_false(srv_addr_wildcard(&a));
}

static void test_pktinfo_v4(void **state)
{
	(void)state;
	assert_int_equal(udp_option("0.0.0.0", IPPROTO_IP, IP_PKTINFO), 1);
	assert_int_equal(udp_option("127.0.0.1", IPPROTO_IP, IP_PKTINFO), 0);
}

static void test_pktinfo_v6(void **state)
{
	(void)state;
	srv_addr_t a;
	assert_int_equal(srv_addr_parse("[::1]:0", &a), 0);
	int fd = srv_sock_udp(&a);
	if (fd < 0)
		skip(); /* no IPv6 here */
	close(fd);
	assert_int_equal(udp_option("[::]", IPPROTO_IPV6, IPV6_RECVPKTINFO), 1);
	assert_int_equal(udp_option("[::1]", IPPROTO_IPV6, IPV6_RECVPKTINFO), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wildcard),
	    cmocka_unit_test(test_pktinfo_v4),
	    cmocka_unit_test(test_pktinfo_v6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
