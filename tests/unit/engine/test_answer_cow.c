/* test_answer_cow.c — the answer path over copy-on-write versions answers byte for byte as
 * over a full build.
 *
 * From data/example.com.zone (wildcards, CNAME chains, DNAMEs, delegations with glue, SRV,
 * MX targets, an empty non-terminal) a random subset of records is removed by a full build
 * (the base; never SOA, NS, DNAME or glue addresses, which a full build would refuse or which
 * move cuts), then put back by zone_changeset_apply (an overlay over that base) and by
 * zone_changeset_apply_full. Every name of the zone, a name below each, and every common type
 * is asked over UDP and TCP of both; so again with the removal itself done as an overlay
 * over the original; the responses must be identical. Whatever the engine
 * reads through a link (cut, DNAME, wildcard, additional-section targets) of a base node whose
 * target the overlay replaced, added or removed shows up here as a different response.
 *
 * Run from this folder (meson sets workdir) so data/ is found.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "dns/name.h"
#include "server/engine/answer.h"
#include "zone/changeset.h"
#include "zone/internal.h"
#include "zone/load.h"
#include "zone/zone.h"
#include "zone/zoneset.h"

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void quiet(log_level_t level, const char *line, void *data)
{
	(void)level, (void)line, (void)data;
}

/* A zone set serving v alone (v's reference passes to it). */
typedef struct served {
	zone_t *zone;
	zone_set_t *set;
} served_t;

static void serve(served_t *s, zone_version_t *v)
{
	const uint8_t *apex = zone_version_apex(v)->owner;
	assert_int_equal(zone_new(apex, "data/example.com.zone", &s->zone), 0);
	zone_publish(s->zone, v);
	assert_int_equal(zone_set_new(&s->zone, 1, &s->set), 0);
}

static void unserve(served_t *s)
{
	zone_set_free(s->set);
	zone_free(s->zone);
}

/* SOA(v) and the same SOA with the serial plus one. */
static void soa_pair(const zone_version_t *v, zone_rr_t *from, zone_rr_t *to, uint8_t *rd)
{
	zone_version_soa_rr(v, from);
	*to = *from;
	memcpy(rd, from->rdata, from->rdlen);
	uint32_t s = zone_version_serial(v) + 1;
	uint8_t *p = rd + from->rdlen - 20;
	p[0] = (uint8_t)(s >> 24), p[1] = (uint8_t)(s >> 16), p[2] = (uint8_t)(s >> 8);
	p[3] = (uint8_t)s;
	to->rdata = rd;
}

/* Change sets: v -> base (a random third of the records removed, never SOA, NS or DNAME,
 * whose loss would move cuts) and base -> back (the same records added). */
static void make_changes(const zone_version_t *v, zone_changeset_t **down, zone_changeset_t **up,
                         uint8_t *rd1, uint8_t *rd2)
{
	zone_rr_t from, to, back_from, back_to;
	assert_int_equal(zone_changeset_new(down), 0);
	assert_int_equal(zone_changeset_new(up), 0);
	soa_pair(v, &from, &to, rd1);
	assert_int_equal(zone_changeset_set_soa(*down, &from, &to), 0);
	back_from = to;
	back_to = to;
	memcpy(rd2, rd1, to.rdlen);
	uint8_t *p = rd2 + to.rdlen - 17;
	p[0]++; /* serial + 2 (the test zone's serial does not end in 0xff) */
	back_to.rdata = rd2;
	assert_int_equal(zone_changeset_set_soa(*up, &back_from, &back_to), 0);
	zone_version_iter_t it;
	zone_version_iter_init(v, &it);
	for (const zone_node_t *n; (n = zone_version_iter_next(&it)) != NULL;) {
		for (uint16_t k = 0; k < n->rrset_count; k++) {
			const zone_rrset_t *rs = &n->rrsets[k];
			bool glue = (n->flags & ZONE_NODE_NONAUTH) &&
			            (rs->type == DNS_TYPE_A || rs->type == DNS_TYPE_AAAA);
			if (rs->type == DNS_TYPE_SOA || rs->type == DNS_TYPE_NS ||
			    rs->type == DNS_TYPE_DNAME || glue)
				continue;
			for (uint16_t i = 0; i < rs->count; i++) {
				size_t off = zone_rrset_rr_offset(rs, i);
				zone_rr_t rr = {
				    .owner = n->owner,
				    .type = rs->type,
				    .rclass = DNS_CLASS_IN,
				    .ttl = rs->ttl,
				    .rdlen = (uint16_t)((rs->rdata[off] << 8) | rs->rdata[off + 1]),
				    .rdata = rs->rdata + off + 2};
				if (rnd(3) != 0)
					continue;
				assert_int_equal(zone_changeset_remove(*down, &rr), 0);
				assert_int_equal(zone_changeset_add(*up, &rr), 0);
			}
		}
	}
}

static size_t query(uint8_t *q, const uint8_t *name, uint16_t qtype)
{
	static const uint8_t head[12] = {0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	memcpy(q, head, 12);
	size_t n = 12 + dname_len(name);
	memcpy(q + 12, name, n - 12);
	q[n++] = (uint8_t)(qtype >> 8), q[n++] = (uint8_t)qtype;
	q[n++] = 0, q[n++] = 1;
	return n;
}

/* Every name of v and one below each, every type in the list, UDP and TCP: same bytes. */
static void compare_answers(srv_answer_ctx_t *ctx, const zone_version_t *v, served_t *a,
                            served_t *b)
{
	static const uint16_t types[] = {DNS_TYPE_A,   DNS_TYPE_AAAA,  DNS_TYPE_NS,  DNS_TYPE_MX,
	                                 DNS_TYPE_TXT, DNS_TYPE_CNAME, DNS_TYPE_SOA, DNS_TYPE_SRV,
	                                 DNS_TYPE_DS,  DNS_TYPE_DNAME, DNS_TYPE_ANY};
	static uint8_t q[600], ra[SRV_RESPONSE_MAX], rb[SRV_RESPONSE_MAX];
	zone_version_iter_t it;
	zone_version_iter_init(v, &it);
	size_t asked = 0;
	for (const zone_node_t *n; (n = zone_version_iter_next(&it)) != NULL;) {
		uint8_t names[2][DNAME_MAX];
		memcpy(names[0], n->owner, n->owner_len);
		names[1][0] = 2, names[1][1] = 'z', names[1][2] = 'z';
		memcpy(names[1] + 3, n->owner, n->owner_len);
		for (int w = 0; w < 2; w++) {
			for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
				for (int tcp = 0; tcp < 2; tcp++) {
					size_t ql = query(q, names[w], types[t]);
					srv_peer_t peer = {.addr = NULL, .tcp = tcp};
					size_t la = srv_answer(ctx, a->set, q, ql, ra, &peer);
					size_t lb = srv_answer(ctx, b->set, q, ql, rb, &peer);
					assert_int_equal(la, lb);
					assert_true(la > 12);
					assert_memory_equal(ra, rb, la);
					asked++;
				}
			}
		}
	}
	assert_true(asked > 500);
}

static void test_answers_match(void **state)
{
	(void)state;
	log_set_hook(quiet, NULL); /* some random subsets break a zone rule: skipped */
	uint8_t apex[DNAME_MAX];
	assert_true(dname_from_str("example.com.", NULL, apex) > 0);
	zone_version_t *orig = NULL;
	assert_int_equal(zone_load_file(apex, "data/example.com.zone", NULL, &orig), 0);
	srv_answer_ctx_t *ctx = NULL;
	static const srv_answer_conf_t conf = {.identity = "ns1.test", .udp_max_payload = 1232};
	assert_int_equal(srv_answer_ctx_new(&conf, &ctx), 0);
	unsigned compared = 0;
	for (uint64_t seed = 1; seed <= 24; seed++) {
		rng = seed * 0x9e3779b97f4a7c15ull;
		uint8_t rd1[512], rd2[512];
		zone_changeset_t *down = NULL, *up = NULL;
		make_changes(orig, &down, &up, rd1, rd2);
		zone_version_t *base = NULL, *cow = NULL, *full = NULL;
		if (zone_changeset_apply_full(orig, down, NULL, &full) == 0) {
			/* the other way round: the overlay removes, over the original */
			assert_int_equal(zone_changeset_apply(orig, down, NULL, &cow), 0);
			assert_ptr_equal(cow->base, orig);
			served_t a, b;
			serve(&a, cow);
			serve(&b, full);
			compare_answers(ctx, full, &a, &b);
			unserve(&a);
			unserve(&b);
			cow = full = NULL;
		}
		if (zone_changeset_apply_full(orig, down, NULL, &base) == 0) {
			assert_int_equal(zone_changeset_apply(base, up, NULL, &cow), 0);
			assert_int_equal(zone_changeset_apply_full(base, up, NULL, &full), 0);
			assert_non_null(cow->head.ov);
			assert_ptr_equal(cow->base, base);
			zone_version_unref(base);
			served_t a, b;
			serve(&a, cow);
			serve(&b, full);
			compare_answers(ctx, full, &a, &b);
			unserve(&a);
			unserve(&b);
			compared++;
		}
		zone_changeset_free(down);
		zone_changeset_free(up);
	}
	assert_true(compared >= 8);
	srv_answer_ctx_free(ctx);
	zone_version_unref(orig);
	log_set_hook(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_answers_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
