/* Unit tests for zone/changeset: diff, apply, condensation and serialization. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "contrib/base/err.h"
#include "helpers.h"
#include "zone/changeset.h"

#define A    DNS_TYPE_A
#define AAAA DNS_TYPE_AAAA
#define NS   DNS_TYPE_NS
#define MX   DNS_TYPE_MX
#define TXT  DNS_TYPE_TXT
#define SOA  DNS_TYPE_SOA

static const trr_t zone_a[] = {
    {"@", SOA, 3600, "1"},
    {"@", NS, 3600, "ns1"},
    {"ns1", A, 3600, "192.0.2.53"},
    {"www", A, 300, "192.0.2.1"},
    {"www", AAAA, 300, "2001:db8::1"},
    {"@", MX, 3600, "10 mail"},
    {"mail", A, 3600, "192.0.2.25"},
    {"old", TXT, 60, "going away"},
    {"a.b.deep", TXT, 60, "stays"},
};

/* From a: www gains an address, the MX goes, the AAAA TTL changes, "old" goes, "new" comes. */
static const trr_t zone_b[] = {
    {"@", SOA, 3600, "2"},           {"@", NS, 3600, "ns1"},
    {"ns1", A, 3600, "192.0.2.53"},  {"www", A, 300, "192.0.2.1"},
    {"www", A, 300, "192.0.2.2"},    {"www", AAAA, 600, "2001:db8::1"},
    {"mail", A, 3600, "192.0.2.25"}, {"new", TXT, 60, "arrived"},
    {"a.b.deep", TXT, 60, "stays"},
};

/* From b: the added www address goes again, the AAAA TTL goes back, "old" comes back,
 * mail moves. */
static const trr_t zone_c[] = {
    {"@", SOA, 3600, "3"},
    {"@", NS, 3600, "ns1"},
    {"ns1", A, 3600, "192.0.2.53"},
    {"www", A, 300, "192.0.2.1"},
    {"www", AAAA, 300, "2001:db8::1"},
    {"mail", A, 3600, "192.0.2.26"},
    {"new", TXT, 60, "arrived"},
    {"old", TXT, 60, "going away"},
    {"a.b.deep", TXT, 60, "stays"},
};

#define BUILD(z) t_build(z, SD_ARRAY_LEN(z))

/* Count records of a section matching owner (relative) and type. */
static size_t count_rr(const zone_changeset_t *cs, bool added, const char *owner, uint16_t type)
{
	uint8_t name[DNAME_MAX];
	assert_true(dname_from_str(owner, t_apex(), name) > 0);
	zone_rr_iter_t it;
	zone_rr_t rr;
	size_t n = 0;
	if (added)
		zone_changeset_added(cs, &it);
	else
		zone_changeset_removed(cs, &it);
	while (zone_rr_iter_next(&it, &rr))
		n += dname_equal(rr.owner, name) && rr.type == type;
	return n;
}

static void test_diff(void **state)
{
	(void)state;
	zone_version_t *a = BUILD(zone_a), *b = BUILD(zone_b);
	zone_changeset_t *cs = NULL;
	assert_int_equal(zone_changeset_diff(a, b, &cs), 0);
	assert_int_equal(zone_changeset_from(cs), 1);
	assert_int_equal(zone_changeset_to(cs), 2);
	zone_rr_t soa;
	assert_true(zone_changeset_soa_from(cs, &soa));
	assert_int_equal(soa.type, SOA);
	assert_true(zone_changeset_soa_to(cs, &soa));
	/* removed: MX, AAAA(300), old TXT; added: www A .2, AAAA(600), new TXT */
	assert_int_equal(zone_changeset_removed_count(cs), 3);
	assert_int_equal(zone_changeset_added_count(cs), 3);
	assert_int_equal(count_rr(cs, false, "@", MX), 1);
	assert_int_equal(count_rr(cs, false, "www", AAAA), 1);
	assert_int_equal(count_rr(cs, false, "old", TXT), 1);
	assert_int_equal(count_rr(cs, true, "www", A), 1);
	assert_int_equal(count_rr(cs, true, "www", AAAA), 1);
	assert_int_equal(count_rr(cs, true, "new", TXT), 1);
	/* The TTL change is remove (old TTL) + add (new TTL). */
	zone_rr_iter_t it;
	zone_rr_t rr;
	zone_changeset_added(cs, &it);
	while (zone_rr_iter_next(&it, &rr)) {
		if (rr.type == AAAA)
			assert_int_equal(rr.ttl, 600);
		if (rr.type == A)
			assert_memory_equal(rr.rdata, "\xc0\x00\x02\x02", 4);
	}
	zone_changeset_removed(cs, &it);
	while (zone_rr_iter_next(&it, &rr))
		if (rr.type == AAAA)
			assert_int_equal(rr.ttl, 300);
	zone_changeset_free(cs);
	/* Same content, another serial: an empty change set. */
	zone_version_t *a2 = BUILD(zone_a);
	assert_int_equal(zone_changeset_diff(a, a2, &cs), 0);
	assert_int_equal(zone_changeset_removed_count(cs), 0);
	assert_int_equal(zone_changeset_added_count(cs), 0);
	zone_changeset_free(cs);
	zone_version_unref(a2);
	zone_version_unref(a);
	zone_version_unref(b);
}

static void test_apply_roundtrip(void **state)
{
	(void)state;
	zone_version_t *a = BUILD(zone_a), *b = BUILD(zone_b), *c = BUILD(zone_c);
	const zone_version_t *pairs[][2] = {{a, b}, {b, a}, {b, c}, {a, c}, {c, a}};
	for (size_t i = 0; i < SD_ARRAY_LEN(pairs); i++) {
		zone_changeset_t *cs = NULL;
		zone_version_t *got = NULL;
		assert_int_equal(zone_changeset_diff(pairs[i][0], pairs[i][1], &cs), 0);
		assert_int_equal(zone_changeset_apply(pairs[i][0], cs, NULL, &got), 0);
		t_assert_versions_equal(got, pairs[i][1]);
		zone_version_unref(got);
		/* Applied to the wrong version: refused (serial mismatch). */
		assert_int_equal(zone_changeset_apply(pairs[i][1], cs, NULL, &got), SD_ESEMANTIC);
		assert_null(got);
		zone_changeset_free(cs);
	}
	zone_version_unref(a);
	zone_version_unref(b);
	zone_version_unref(c);
}

static void test_apply_rejects(void **state)
{
	(void)state;
	zone_version_t *a = BUILD(zone_a), *b = BUILD(zone_b), *got = NULL;
	zone_changeset_t *cs = NULL;
	assert_int_equal(zone_changeset_diff(a, b, &cs), 0);
	uint8_t owner[DNAME_MAX];
	assert_true(dname_from_str("nowhere", t_apex(), owner) > 0);
	zone_rr_t rr = {owner, A, 1, 60, 4, (const uint8_t *)"\x01\x02\x03\x04"};
	assert_int_equal(zone_changeset_remove(cs, &rr), 0);
	assert_int_equal(zone_changeset_apply(a, cs, NULL, &got), SD_ESEMANTIC);
	zone_changeset_free(cs);
	/* Adding a record that is there already. */
	assert_int_equal(zone_changeset_diff(a, b, &cs), 0);
	assert_true(dname_from_str("ns1", t_apex(), owner) > 0);
	zone_rr_t dup = {owner, A, 1, 3600, 4, (const uint8_t *)"\xc0\x00\x02\x35"};
	assert_int_equal(zone_changeset_add(cs, &dup), 0);
	assert_int_equal(zone_changeset_apply(a, cs, NULL, &got), SD_ESEMANTIC);
	/* SOA goes through set_soa only. */
	zone_rr_t soa;
	assert_true(zone_changeset_soa_to(cs, &soa));
	assert_int_equal(zone_changeset_add(cs, &soa), SD_ESEMANTIC);
	zone_changeset_free(cs);
	zone_version_unref(a);
	zone_version_unref(b);
}

static void test_condense(void **state)
{
	(void)state;
	zone_version_t *a = BUILD(zone_a), *b = BUILD(zone_b), *c = BUILD(zone_c), *got = NULL;
	zone_changeset_t *ab = NULL, *bc = NULL, *ac = NULL, *cond = NULL;
	assert_int_equal(zone_changeset_diff(a, b, &ab), 0);
	assert_int_equal(zone_changeset_diff(b, c, &bc), 0);
	assert_int_equal(zone_changeset_diff(a, c, &ac), 0);
	const zone_changeset_t *chain[] = {ab, bc};
	assert_int_equal(zone_changeset_condense(chain, 2, &cond), 0);
	assert_int_equal(zone_changeset_from(cond), 1);
	assert_int_equal(zone_changeset_to(cond), 3);
	/* What came and went (www .2, AAAA TTL there and back, old TXT) is gone: left are the
	 * MX and mail's address removed, mail's new address and "new" added — as diff(a, c). */
	assert_int_equal(zone_changeset_removed_count(cond), 2);
	assert_int_equal(zone_changeset_added_count(cond), 2);
	assert_int_equal(zone_changeset_removed_count(cond), zone_changeset_removed_count(ac));
	assert_int_equal(zone_changeset_added_count(cond), zone_changeset_added_count(ac));
	assert_int_equal(count_rr(cond, false, "@", MX), 1);
	assert_int_equal(count_rr(cond, false, "mail", A), 1);
	assert_int_equal(count_rr(cond, true, "mail", A), 1);
	assert_int_equal(count_rr(cond, true, "new", TXT), 1);
	assert_int_equal(zone_changeset_apply(a, cond, NULL, &got), 0);
	t_assert_versions_equal(got, c);
	zone_version_unref(got);
	zone_changeset_free(cond);
	/* A chain with a gap is refused; one change set condenses to itself. */
	const zone_changeset_t *gap[] = {ab, ac};
	assert_int_equal(zone_changeset_condense(gap, 2, &cond), SD_ESEMANTIC);
	assert_null(cond);
	assert_int_equal(zone_changeset_condense(chain, 1, &cond), 0);
	assert_int_equal(zone_changeset_removed_count(cond), zone_changeset_removed_count(ab));
	assert_int_equal(zone_changeset_added_count(cond), zone_changeset_added_count(ab));
	zone_changeset_free(cond);
	/* TTL changed and changed back within the chain: nothing; changed twice: old -> last. */
	zone_changeset_free(ab);
	zone_changeset_free(bc);
	zone_changeset_free(ac);
	zone_version_unref(a);
	zone_version_unref(b);
	zone_version_unref(c);
}

static void test_condense_ttl(void **state)
{
	(void)state;
	static const trr_t t1[] = {
	    {"@", SOA, 3600, "10"}, {"@", NS, 3600, "ns.other.net."}, {"x", A, 100, "192.0.2.9"}};
	static const trr_t t2[] = {
	    {"@", SOA, 3600, "11"}, {"@", NS, 3600, "ns.other.net."}, {"x", A, 200, "192.0.2.9"}};
	static const trr_t t3[] = {
	    {"@", SOA, 3600, "12"}, {"@", NS, 3600, "ns.other.net."}, {"x", A, 300, "192.0.2.9"}};
	zone_version_t *v1 = BUILD(t1), *v2 = BUILD(t2), *v3 = BUILD(t3), *got = NULL;
	zone_changeset_t *c12 = NULL, *c23 = NULL, *cond = NULL;
	assert_int_equal(zone_changeset_diff(v1, v2, &c12), 0);
	assert_int_equal(zone_changeset_diff(v2, v3, &c23), 0);
	const zone_changeset_t *chain[] = {c12, c23};
	assert_int_equal(zone_changeset_condense(chain, 2, &cond), 0);
	zone_rr_iter_t it;
	zone_rr_t rr;
	zone_changeset_removed(cond, &it);
	assert_true(zone_rr_iter_next(&it, &rr));
	assert_int_equal(rr.ttl, 100);
	assert_false(zone_rr_iter_next(&it, &rr));
	zone_changeset_added(cond, &it);
	assert_true(zone_rr_iter_next(&it, &rr));
	assert_int_equal(rr.ttl, 300);
	assert_false(zone_rr_iter_next(&it, &rr));
	assert_int_equal(zone_changeset_apply(v1, cond, NULL, &got), 0);
	t_assert_versions_equal(got, v3);
	zone_version_unref(got);
	zone_changeset_free(cond);
	zone_changeset_free(c12);
	zone_changeset_free(c23);
	zone_version_unref(v1);
	zone_version_unref(v2);
	zone_version_unref(v3);
}

static void test_serialize(void **state)
{
	(void)state;
	zone_version_t *a = BUILD(zone_a), *b = BUILD(zone_b);
	zone_changeset_t *cs = NULL, *back = NULL;
	assert_int_equal(zone_changeset_diff(a, b, &cs), 0);
	uint8_t *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0;
	assert_int_equal(zone_changeset_serialize(cs, &buf, &len), 0);
	assert_int_equal(zone_changeset_parse(buf, len, &back), 0);
	assert_int_equal(zone_changeset_from(back), 1);
	assert_int_equal(zone_changeset_to(back), 2);
	assert_int_equal(zone_changeset_serialize(back, &buf2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	assert_int_equal(zone_changeset_wire_size(back), len - 20);
	zone_changeset_free(back);
	/* Every cut is refused, and so is a wrong count. */
	for (size_t cut = 0; cut < len; cut++) {
		assert_int_equal(zone_changeset_parse(buf, cut, &back), SD_EPARSE);
		assert_null(back);
	}
	size_t soa_len = (size_t)buf[2] << 8 | buf[3];
	buf[4 + soa_len + 3] ^= 1; /* the removed count */
	assert_int_equal(zone_changeset_parse(buf, len, &back), SD_EPARSE);
	free(buf);
	free(buf2);
	zone_changeset_free(cs);
	zone_version_unref(a);
	zone_version_unref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_diff),          cmocka_unit_test(test_apply_roundtrip),
	    cmocka_unit_test(test_apply_rejects), cmocka_unit_test(test_condense),
	    cmocka_unit_test(test_condense_ttl),  cmocka_unit_test(test_serialize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
