/* helpers.c — see helpers.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "zone/builder.h"

const uint8_t *t_apex(void)
{
	static uint8_t apex[DNAME_MAX];
	assert_true(dname_from_str(T_APEX, NULL, apex) > 0);
	return apex;
}

static size_t put_name(uint8_t *p, const char *text)
{
	int n = dname_from_str(text, t_apex(), p);
	assert_true(n > 0);
	return (size_t)n;
}

static size_t put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 4;
}

size_t t_encode(const trr_t *r, uint8_t *rd)
{
	size_t n = 0;
	switch (r->type) {
	case DNS_TYPE_A:
		assert_int_equal(inet_pton(AF_INET, r->data, rd), 1);
		return 4;
	case DNS_TYPE_AAAA:
		assert_int_equal(inet_pton(AF_INET6, r->data, rd), 1);
		return 16;
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_DNAME:
		return put_name(rd, r->data);
	case DNS_TYPE_MX: {
		char *end = NULL;
		unsigned long pref = strtoul(r->data, &end, 10);
		rd[0] = (uint8_t)(pref >> 8), rd[1] = (uint8_t)pref;
		return 2 + put_name(rd + 2, end + 1);
	}
	case DNS_TYPE_TXT:
		rd[0] = (uint8_t)strlen(r->data);
		memcpy(rd + 1, r->data, rd[0]);
		return 1u + rd[0];
	case DNS_TYPE_SOA:
		n = put_name(rd, "ns1");
		n += put_name(rd + n, "hostmaster");
		n += put32(rd + n, (uint32_t)strtoul(r->data, NULL, 10));
		n += put32(rd + n, 3600);
		n += put32(rd + n, 600);
		n += put32(rd + n, 86400);
		n += put32(rd + n, 300);
		return n;
	default:
		fail_msg("type %u not supported by the test helper", r->type);
	}
	return 0;
}

zone_version_t *t_build(const trr_t *rrs, size_t n)
{
	zone_builder_t *b = NULL;
	assert_int_equal(zone_builder_new(t_apex(), NULL, &b), 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t owner[DNAME_MAX], rd[512];
		assert_true(dname_from_str(strcmp(rrs[i].owner, "@") ? rrs[i].owner : T_APEX,
		                           t_apex(), owner) > 0);
		size_t len = t_encode(&rrs[i], rd);
		assert_int_equal(zone_builder_add(b, owner, rrs[i].type, 1, rrs[i].ttl, rd,
		                                  (uint16_t)len, "test"),
		                 0);
	}
	zone_version_t *v = NULL;
	assert_int_equal(zone_builder_finish(b, &v), 0);
	return v;
}

/* Two links are equal when both are absent or name the same owner; each must be the very
 * node its version finds by that owner (not a stale copy a newer node replaced). */
static void assert_same_node(const zone_version_t *a, const zone_node_t *x, const zone_version_t *b,
                             const zone_node_t *y)
{
	assert_true((x == NULL) == (y == NULL));
	if (x == NULL)
		return;
	assert_true(dname_equal(x->owner, y->owner));
	assert_ptr_equal(zone_version_find(a, x->owner, x->owner_len), x);
	assert_ptr_equal(zone_version_find(b, y->owner, y->owner_len), y);
}

void t_assert_nodes_equal(const zone_version_t *a, const zone_node_t *x, const zone_version_t *b,
                          const zone_node_t *y)
{
	assert_true(dname_equal(x->owner, y->owner));
	assert_int_equal(x->labels, y->labels);
	assert_int_equal(x->flags, y->flags);
	assert_int_equal(x->rrset_count, y->rrset_count);
	assert_same_node(a, zone_node_parent(a, x), b, zone_node_parent(b, y));
	assert_same_node(a, zone_node_cut(a, x), b, zone_node_cut(b, y));
	assert_same_node(a, zone_node_dname(a, x), b, zone_node_dname(b, y));
	assert_same_node(a, zone_node_wildcard(a, x), b, zone_node_wildcard(b, y));
	for (uint16_t k = 0; k < x->rrset_count; k++) {
		const zone_rrset_t *p = &x->rrsets[k], *q = &y->rrsets[k];
		assert_int_equal(p->type, q->type);
		assert_int_equal(p->ttl, q->ttl);
		assert_int_equal(p->count, q->count);
		assert_int_equal(p->policy, q->policy);
		assert_int_equal(p->rdata_len, q->rdata_len);
		assert_memory_equal(p->rdata, q->rdata, p->rdata_len);
		assert_true((p->targets == NULL) == (q->targets == NULL));
		for (uint16_t r = 0; p->targets && r < p->count; r++)
			assert_same_node(a, zone_rrset_target(a, p, r), b,
			                 zone_rrset_target(b, q, r));
	}
}

void t_assert_versions_equal(const zone_version_t *a, const zone_version_t *b)
{
	assert_int_equal(zone_version_serial(a), zone_version_serial(b));
	assert_int_equal(zone_version_node_count(a), zone_version_node_count(b));
	assert_int_equal(zone_version_rr_count(a), zone_version_rr_count(b));
	assert_true(dname_equal(zone_version_apex(a)->owner, zone_version_apex(b)->owner));
	assert_int_equal(zone_version_soa(a)->rdata_len, zone_version_soa(b)->rdata_len);
	assert_memory_equal(zone_version_soa(a)->rdata, zone_version_soa(b)->rdata,
	                    zone_version_soa(a)->rdata_len);
	zone_version_iter_t ia, ib;
	zone_version_iter_init(a, &ia);
	zone_version_iter_init(b, &ib);
	size_t count = 0;
	for (const zone_node_t *x; (x = zone_version_iter_next(&ia)) != NULL; count++) {
		const zone_node_t *y = zone_version_iter_next(&ib);
		assert_non_null(y);
		t_assert_nodes_equal(a, x, b, y);
		/* every node is found by its owner, as itself */
		assert_ptr_equal(zone_version_find(a, x->owner, x->owner_len), x);
		assert_ptr_equal(zone_version_find(b, y->owner, y->owner_len), y);
	}
	assert_null(zone_version_iter_next(&ib));
	assert_int_equal(count, zone_version_node_count(a));
}

uint8_t *t_name(const char *text)
{
	static uint8_t ring[8][DNAME_MAX];
	static unsigned next;
	uint8_t *out = ring[next++ % 8];
	assert_true(dname_from_str(text, NULL, out) > 0);
	return out;
}

const zone_node_t *t_find(const zone_version_t *v, const char *text)
{
	const uint8_t *n = t_name(text);
	return zone_version_find(v, n, dname_len(n));
}

const zone_rrset_t *t_rrset(const zone_version_t *v, const char *text, uint16_t type)
{
	const zone_node_t *node = t_find(v, text);
	return node ? zone_node_rrset(node, type) : NULL;
}

logcap_t t_cap;

int t_log_setup(void **state)
{
	(void)state;
	logcap_start(&t_cap);
	return 0;
}

int t_log_teardown(void **state)
{
	(void)state;
	logcap_stop();
	return 0;
}
