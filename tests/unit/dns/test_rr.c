/* test_rr.c — the section reader: framing of questions and records, bounds on untrusted
 * messages, the end of the counted entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "contrib/base/err.h"
#include "dns/proto.h"
#include "dns/rr.h"

/* id 0x1234, QD 1, AN 1, NS 0, AR 1:
 *  12 question  example. A IN
 *  25 answer    ptr(12) A IN ttl 300 rdlength 4 192.0.2.1
 *  41 additional root OPT 1232 ttl 0x00008000 rdlength 0 */
static const uint8_t msg[] = {
    0x12, 0x34, 0x01, 0x00, 0, 1, 0, 1,    0,    0,    0, 1, 7,    'e', 'x', 'a', 'm', 'p',
    'l',  'e',  0,    0,    1, 0, 1, 0xc0, 12,   0,    1, 0, 1,    0,   0,   1,   44,  0,
    4,    192,  0,    2,    1, 0, 0, 41,   0x04, 0xd0, 0, 0, 0x80, 0,   0,   0,
};

static void test_walk(void **state)
{
	dns_rr_iter_t it;
	dns_rr_t rr;
	assert_int_equal(dns_rr_iter_init(&it, msg, sizeof(msg)), 0);

	assert_int_equal(dns_rr_iter_next(&it, &rr), 0);
	assert_int_equal(rr.section, DNS_SEC_QD);
	assert_int_equal(rr.owner, 12);
	assert_int_equal(rr.owner_len, 9);
	assert_int_equal(rr.type, DNS_TYPE_A);
	assert_int_equal(rr.rclass, DNS_CLASS_IN);
	assert_int_equal(rr.rdlength, 0);
	assert_int_equal(dns_rr_end(&rr), 25);

	assert_int_equal(dns_rr_iter_next(&it, &rr), 0);
	assert_int_equal(rr.section, DNS_SEC_AN);
	assert_int_equal(rr.index, 0);
	assert_int_equal(rr.owner, 25);
	assert_int_equal(rr.owner_len, 2); /* the pointer, not followed */
	assert_int_equal(rr.ttl, 300);
	assert_int_equal(rr.rdlength, 4);
	assert_int_equal(rr.rdata, 37);
	assert_memory_equal(msg + rr.rdata, "\xc0\x00\x02\x01", 4);

	assert_int_equal(dns_rr_iter_next(&it, &rr), 0);
	assert_int_equal(rr.section, DNS_SEC_AR);
	assert_true(dns_rr_owner_is_root(&rr));
	assert_int_equal(rr.type, DNS_TYPE_OPT);
	assert_int_equal(rr.rclass, 1232);
	assert_int_equal(rr.ttl, 0x8000);
	assert_int_equal(dns_rr_end(&rr), sizeof(msg));

	assert_int_equal(dns_rr_iter_next(&it, &rr), SD_ENOTFOUND);
	assert_int_equal(dns_rr_iter_pos(&it), sizeof(msg));
}

/* Every truncation of the message fails cleanly at the entry that no longer fits. */
static void test_truncated(void **state)
{
	for (size_t len = 0; len < sizeof(msg); len++) {
		dns_rr_iter_t it;
		dns_rr_t rr;
		if (len < DNS_HEADER_LEN) {
			assert_int_equal(dns_rr_iter_init(&it, msg, len), SD_EPARSE);
			continue;
		}
		assert_int_equal(dns_rr_iter_init(&it, msg, len), 0);
		int rc, n = 0;
		while ((rc = dns_rr_iter_next(&it, &rr)) == 0) {
			assert_true(dns_rr_end(&rr) <= len);
			n++;
		}
		assert_int_equal(rc, SD_EPARSE);
		assert_true(n < 3);
		assert_int_equal(dns_rr_iter_next(&it, &rr), SD_EPARSE); /* stays failed */
	}
}

/* RDLENGTH past the end; counts larger than the message; trailing bytes left to the caller. */
static void test_bounds(void **state)
{
	uint8_t m[sizeof(msg) + 3];
	memcpy(m, msg, sizeof(msg));
	dns_rr_iter_t it;
	dns_rr_t rr;

	m[36] = 5; /* answer rdlength 4 -> 5: the OPT's first byte becomes RDATA */
	assert_int_equal(dns_rr_iter_init(&it, m, sizeof(msg)), 0);
	assert_int_equal(dns_rr_iter_next(&it, &rr), 0);
	assert_int_equal(dns_rr_iter_next(&it, &rr), 0);
	assert_int_equal(dns_rr_iter_next(&it, &rr), SD_EPARSE);
	m[36] = 4;

	m[11] = 2; /* ARCOUNT 2: a record that is not there */
	assert_int_equal(dns_rr_iter_init(&it, m, sizeof(msg)), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(dns_rr_iter_next(&it, &rr), 0);
	assert_int_equal(dns_rr_iter_next(&it, &rr), SD_EPARSE);
	m[11] = 1;

	memset(m + sizeof(msg), 0xff, 3); /* trailing garbage: framing ends at the counts */
	assert_int_equal(dns_rr_iter_init(&it, m, sizeof(m)), 0);
	int rc;
	while ((rc = dns_rr_iter_next(&it, &rr)) == 0)
		;
	assert_int_equal(rc, SD_ENOTFOUND);
	assert_int_equal(dns_rr_iter_pos(&it), sizeof(msg));
}

/* Reserved label types and a forward pointer that runs out are malformed owners. */
static void test_bad_owner(void **state)
{
	uint8_t m[sizeof(msg)];
	memcpy(m, msg, sizeof(msg));
	m[12] = 0x47; /* label type 01 */
	dns_rr_iter_t it;
	dns_rr_t rr;
	assert_int_equal(dns_rr_iter_init(&it, m, sizeof(m)), 0);
	assert_int_equal(dns_rr_iter_next(&it, &rr), SD_EPARSE);

	size_t pos = sizeof(msg) - 1; /* a single 0 byte: a root owner with nothing after it */
	assert_int_equal(dns_rr_read(msg, sizeof(msg), &pos, false, &rr), SD_EPARSE);
	pos = sizeof(msg);
	assert_int_equal(dns_rr_read(msg, sizeof(msg), &pos, true, &rr), SD_EPARSE);
}

/* Sections with zero entries are skipped; a question-only message ends after it. */
static void test_empty_sections(void **state)
{
	const uint8_t q[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1};
	dns_rr_iter_t it;
	dns_rr_t rr;
	assert_int_equal(dns_rr_iter_init(&it, q, sizeof(q)), 0);
	assert_int_equal(dns_rr_iter_next(&it, &rr), 0);
	assert_int_equal(rr.type, DNS_TYPE_SOA);
	assert_true(dns_rr_owner_is_root(&rr));
	assert_int_equal(dns_rr_iter_next(&it, &rr), SD_ENOTFOUND);
	assert_int_equal(it.section, DNS_SEC_END);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_walk),           cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_bounds),         cmocka_unit_test(test_bad_owner),
	    cmocka_unit_test(test_empty_sections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
