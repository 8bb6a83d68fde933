/* test_query.c — the request parser: ECS (RFC 7871 6), the TSIG's place (RFC 8945 5.1), an
 * IXFR query's serial (RFC 1995 3), and what makes a request malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "contrib/base/err.h"
#include "server/engine/query.h"

/* A message under construction. */
typedef struct {
	uint8_t b[512];
	size_t n;
} msg_t;

static void put(msg_t *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put16(msg_t *m, unsigned v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(m, b, 2);
}

/* Header (QD 1, the other counts given) and the question example. qtype IN. */
static void begin(msg_t *m, unsigned qtype, unsigned an, unsigned ns, unsigned ar)
{
	m->n = 0;
	put16(m, 0xbeef);
	put16(m, 0);
	put16(m, 1);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
	put(m, "\7example\0", 9);
	put16(m, qtype);
	put16(m, 1);
}

/* OPT with payload 1232, DO, and one ECS option of the given bytes (none when elen 0). */
static void put_opt_ecs(msg_t *m, const uint8_t *ecs, size_t elen)
{
	put(m, "\0", 1);
	put16(m, 41);
	put16(m, 1232);
	put16(m, 0);
	put16(m, 0x8000);
	put16(m, elen ? 4 + elen : 0);
	if (elen) {
		put16(m, 8);
		put16(m, elen);
		put(m, ecs, elen);
	}
}

static void test_ecs_valid(void **state)
{
	msg_t m;
	srv_query_t q;
	const uint8_t v4[] = {0, 1, 24, 0, 192, 0, 2};
	begin(&m, 1, 0, 0, 1);
	put_opt_ecs(&m, v4, sizeof(v4));
	assert_int_equal(srv_query_parse(m.b, m.n, &q), 0);
	assert_false(q.malformed);
	assert_true(q.has_opt);
	assert_true(q.opt_do);
	assert_true(q.has_ecs);
	assert_int_equal(q.ecs_family, SRV_ECS_IPV4);
	assert_int_equal(q.ecs_source, 24);
	assert_int_equal(q.ecs_scope, 0);
	assert_memory_equal(q.ecs_addr, "\xc0\x00\x02\x00", 4);

	const uint8_t v6[] = {0, 2, 0, 0}; /* ::/0: no address bytes */
	begin(&m, 1, 0, 0, 1);
	put_opt_ecs(&m, v6, sizeof(v6));
	assert_int_equal(srv_query_parse(m.b, m.n, &q), 0);
	assert_false(q.malformed);
	assert_true(q.has_ecs);
	assert_int_equal(q.ecs_family, SRV_ECS_IPV6);
	assert_int_equal(q.ecs_source, 0);

	begin(&m, 1, 0, 0, 1); /* no ECS */
	put_opt_ecs(&m, NULL, 0);
	assert_int_equal(srv_query_parse(m.b, m.n, &q), 0);
	assert_false(q.malformed);
	assert_true(q.has_opt);
	assert_false(q.has_ecs);
}

/* RFC 7871 6: each of these is a FORMERR; the OPT itself still parsed. */
static void test_ecs_malformed(void **state)
{
	const struct {
		uint8_t b[8];
		size_t n;
	} bad[] = {
	    {{0, 1, 24}, 3},                /* shorter than family, source, scope */
	    {{0, 3, 8, 0, 10}, 5},          /* unknown family */
	    {{0, 1, 33, 0, 1, 2, 3, 4}, 8}, /* IPv4 source prefix above 32 */
	    {{0, 1, 24, 0, 192, 0}, 6},     /* too few address bytes */
	    {{0, 1, 16, 0, 192, 0, 2}, 7},  /* too many address bytes */
	    {{0, 1, 23, 0, 192, 0, 3}, 7},  /* a bit set past the prefix */
	    {{0, 1, 24, 24, 192, 0, 2}, 7}, /* a non-zero SCOPE in a query (RFC 7871 6, 7.2.1) */
	    {{0, 1, 0, 8}, 4},              /* the same with SOURCE 0 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg_t m;
		srv_query_t q;
		begin(&m, 1, 0, 0, 1);
		put_opt_ecs(&m, bad[i].b, bad[i].n);
		assert_int_equal(srv_query_parse(m.b, m.n, &q), 0);
		assert_true(q.malformed);
		assert_false(q.has_ecs);
		assert_true(q.has_opt);
	}
}

/* A TSIG-like record: root owner, type 250, class ANY, empty RDATA (framing only). */
static void put_tsig(msg_t *m)
{
	put(m, "\0", 1);
	put16(m, 250);
	put16(m, 255);
	put16(m, 0);
	put16(m, 0);
	put16(m, 0);
}

static void test_tsig_position(void **state)
{
	msg_t m;
	srv_query_t q;
	begin(&m, 1, 0, 0, 2);
	put_opt_ecs(&m, NULL, 0);
	size_t off = m.n;
	put_tsig(&m);
	assert_int_equal(srv_query_parse(m.b, m.n, &q), 0);
	assert_true(q.has_tsig);
	assert_true(q.tsig_at_end);
	assert_int_equal(q.tsig.owner, off);
	assert_int_equal(dns_rr_end(&q.tsig), m.n);

	begin(&m, 1, 0, 0, 2); /* TSIG not last (RFC 8945 5.1) */
	put_tsig(&m);
	put_opt_ecs(&m, NULL, 0);
	assert_int_equal(srv_query_parse(m.b, m.n, &q), 0);
	assert_true(q.has_tsig);
	assert_false(q.tsig_at_end);
	assert_true(q.malformed);

	begin(&m, 1, 0, 0, 2); /* two TSIGs */
	put_tsig(&m);
	put_tsig(&m);
	assert_int_equal(srv_query_parse(m.b, m.n, &q), 0);
	assert_false(q.tsig_at_end);

	begin(&m, 1, 0, 0, 1); /* trailing bytes after it */
	put_tsig(&m);
	put16(&m, 0);
	assert_int_equal(srv_query_parse(m.b, m.n, &q), 0);
	assert_true(q.malformed);
	assert_true(q.tsig_at_end); /* verification fails on the trailing bytes */
}

static void test_ixfr_serial(void **state)
{
	msg_t m;
	srv_query_t q;
	begin(&m, 251, 0, 1, 0);
	put(&m, "\xc0\x0c", 2); /* owner: the question's name */
	put16(&m, 6);
	put16(&m, 1);
	put16(&m, 0);
	put16(&m, 0);
	put16(&m, 22);
	put(&m, "\0\0", 2);                            /* mname, rname: root */
	const uint8_t fields[20] = {0, 0, 0x30, 0x39}; /* serial 12345, the rest 0 */
	put(&m, fields, sizeof(fields));
	assert_int_equal(srv_query_parse(m.b, m.n, &q), 0);
	assert_false(q.malformed);
	assert_true(q.has_ixfr_serial);
	assert_int_equal(q.ixfr_serial, 12345);

	m.b[DNS_HEADER_LEN + 9 + 1] = 1; /* the same as an A query: no serial read */
	assert_int_equal(srv_query_parse(m.b, m.n, &q), 0);
	assert_false(q.has_ixfr_serial);
}

static void test_malformed(void **state)
{
	msg_t m;
	srv_query_t q;
	memset(&m, 0, sizeof(m));
	assert_int_equal(srv_query_parse(m.b, 11, &q), SD_EPARSE);
	begin(&m, 1, 0, 0, 1); /* ARCOUNT 1, nothing there */
	assert_int_equal(srv_query_parse(m.b, m.n, &q), 0);
	assert_true(q.has_question);
	assert_true(q.malformed);
	begin(&m, 1, 0, 0, 0); /* compressed question name */
	m.n = DNS_HEADER_LEN;
	put(&m, "\xc0\x00", 2);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(srv_query_parse(m.b, m.n, &q), 0);
	assert_false(q.has_question);
	assert_true(q.malformed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ecs_valid),     cmocka_unit_test(test_ecs_malformed),
	    cmocka_unit_test(test_tsig_position), cmocka_unit_test(test_ixfr_serial),
	    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
