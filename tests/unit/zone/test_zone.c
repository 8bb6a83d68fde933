/* test_zone.c — building versions with zone_builder_add, the tree links, lookups, the rules,
 * references, publication and the zone set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "tests/unit/zone/helpers.h"
#include "zone/builder.h"
#include "zone/internal.h"
#include "zone/zone.h"
#include "zone/zoneset.h"

/* --- record helpers --- */

typedef struct rd {
	uint8_t b[512];
	uint16_t len;
} rd_t;

static rd_t rd_name(uint16_t pre, const char *name)
{
	rd_t r = {.len = 0};
	if (pre != UINT16_MAX) {
		r.b[0] = (uint8_t)(pre >> 8);
		r.b[1] = (uint8_t)pre;
		r.len = 2;
	}
	/* keep the case of the text, as a zone file would */
	uint8_t tmp[DNAME_MAX];
	const char *p = name;
	size_t o = 0;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = (size_t)(dot - p);
		tmp[o++] = (uint8_t)l;
		memcpy(tmp + o, p, l);
		o += l;
		p = dot + 1;
	}
	tmp[o++] = 0;
	memcpy(r.b + r.len, tmp, o);
	r.len = (uint16_t)(r.len + o);
	return r;
}

static rd_t rd_a(const char *addr)
{
	rd_t r = {.len = 4};
	assert_int_equal(inet_pton(AF_INET, addr, r.b), 1);
	return r;
}

static rd_t rd_aaaa(const char *addr)
{
	rd_t r = {.len = 16};
	assert_int_equal(inet_pton(AF_INET6, addr, r.b), 1);
	return r;
}

static rd_t rd_soa(uint32_t serial)
{
	rd_t r = rd_name(UINT16_MAX, "ns1.example.");
	rd_t m = rd_name(UINT16_MAX, "hostmaster.example.");
	memcpy(r.b + r.len, m.b, m.len);
	r.len = (uint16_t)(r.len + m.len);
	uint32_t v[5] = {htonl(serial), htonl(3600), htonl(600), htonl(86400), htonl(300)};
	memcpy(r.b + r.len, v, 20);
	r.len = (uint16_t)(r.len + 20);
	return r;
}

static rd_t rd_srv(uint16_t prio, uint16_t weight, uint16_t port, const char *target)
{
	rd_t r = rd_name(UINT16_MAX, target);
	memmove(r.b + 6, r.b, r.len);
	uint16_t v[3] = {htons(prio), htons(weight), htons(port)};
	memcpy(r.b, v, 6);
	r.len = (uint16_t)(r.len + 6);
	return r;
}

static rd_t rd_txt(const char *text)
{
	rd_t r = {.len = (uint16_t)(1 + strlen(text))};
	r.b[0] = (uint8_t)strlen(text);
	memcpy(r.b + 1, text, strlen(text));
	return r;
}

static void add_c(zone_builder_t *b, const char *owner, uint16_t type, uint16_t rclass,
                  uint32_t ttl, rd_t r, const char *where)
{
	assert_int_equal(zone_builder_add(b, t_name(owner), type, rclass, ttl, r.b, r.len, where),
	                 0);
}

static void add(zone_builder_t *b, const char *owner, uint16_t type, rd_t r, const char *where)
{
	add_c(b, owner, type, 1, 3600, r, where);
}

/* SOA + NS at the apex "example." with in-zone name servers and their addresses */
static zone_builder_t *base_zone(void)
{
	zone_builder_t *b;
	assert_int_equal(zone_builder_new(t_name("example."), NULL, &b), 0);
	add(b, "example.", DNS_TYPE_SOA, rd_soa(2024010101), "t:1");
	add(b, "example.", DNS_TYPE_NS, rd_name(UINT16_MAX, "ns1.example."), "t:2");
	add(b, "example.", DNS_TYPE_NS, rd_name(UINT16_MAX, "ns2.elsewhere."), "t:3");
	add(b, "ns1.example.", DNS_TYPE_A, rd_a("192.0.2.53"), "t:4");
	return b;
}

static zone_version_t *finish_ok(zone_builder_t *b)
{
	zone_version_t *v = NULL;
	assert_int_equal(zone_builder_finish(b, &v), 0);
	assert_non_null(v);
	return v;
}

static unsigned finish_errors(zone_builder_t *b)
{
	zone_version_t *v = NULL;
	t_cap.errors = 0;
	assert_int_equal(zone_builder_finish(b, &v), SD_ESEMANTIC);
	assert_null(v);
	return t_cap.errors;
}

/* --- tests --- */

static void test_basic(void **state)
{
	zone_builder_t *b = base_zone();
	add(b, "www.example.", DNS_TYPE_A, rd_a("192.0.2.1"), "t:10");
	add(b, "www.example.", DNS_TYPE_A, rd_a("192.0.2.2"), "t:11");
	add(b, "WWW.Example.", DNS_TYPE_AAAA, rd_aaaa("2001:db8::1"), "t:12");
	zone_version_t *v = finish_ok(b);
	assert_int_equal(zone_version_serial(v), 2024010101);
	assert_int_equal(zone_version_node_count(v), 3);
	assert_int_equal(zone_version_rr_count(v), 7);
	const zone_node_t *apex = zone_version_apex(v);
	assert_true(apex->flags & ZONE_NODE_APEX);
	assert_null(apex->parent);
	zone_version_iter_t it;
	zone_version_iter_init(v, &it);
	assert_ptr_equal(zone_version_iter_next(&it), apex);
	assert_ptr_equal(zone_version_soa(v), zone_node_rrset(apex, DNS_TYPE_SOA));
	const zone_node_t *www = t_find(v, "www.example.");
	assert_non_null(www);
	assert_ptr_equal(www->parent, apex);
	assert_int_equal(www->labels, 2);
	assert_int_equal(www->rrset_count, 2);
	assert_int_equal(www->rrsets[0].type, DNS_TYPE_A);
	assert_int_equal(www->rrsets[1].type, DNS_TYPE_AAAA);
	const zone_rrset_t *a = zone_node_rrset(www, DNS_TYPE_A);
	assert_int_equal(a->count, 2);
	assert_int_equal(a->rdata_len, 12);
	assert_int_equal(zone_rrset_rr_offset(a, 1), 6);
	assert_memory_equal(a->rdata, "\0\4\300\0\2\1\0\4\300\0\2\2", 12);
	assert_null(a->targets);
	assert_null(zone_node_rrset(www, DNS_TYPE_MX));
	assert_null(t_find(v, "nope.example."));
	/* canonical order of the iteration, every node once */
	zone_version_iter_init(v, &it);
	const zone_node_t *prev = zone_version_iter_next(&it), *cur;
	size_t seen = 1;
	for (; (cur = zone_version_iter_next(&it)) != NULL; prev = cur, seen++)
		assert_true(dname_cmp_canonical(prev->owner, cur->owner) < 0);
	assert_int_equal(seen, 3);
	assert_null(zone_version_iter_next(&it));
	zone_version_unref(v);
}

/* The version's nodes in strictly increasing canonical order (RFC 4034 6.1), each linked to
 * its parent and its wildcard child as a lookup finds them, whatever order the records came
 * in. The builder sorts by an owner key first: labels that are prefixes of others, octets
 * around '-' and 0xff, upper case, deep empty non-terminals, a wildcard that is only an
 * empty non-terminal; with zero_octet, an owner holding a 0 octet (keys not used). */
static void check_order(bool zero_octet)
{
	static const char *owners[] = {
	    "a.example.",       "a-.example.",        "ab.example.",         "A.b.example.",
	    "a\\255.example.",  "a\\001.example.",    "\\255.example.",      "z.y.x.w.v.example.",
	    "x.w.v.example.",   "q.*.example.",       "abcdefghij.example.", "abcdefgh.example.",
	    "abcdefg.example.", "abcdefghi.example.", "b.abcdefgh.example.", "*.w.v.example.",
	    "-.example.",       "0.example.",         "zz.a.example.",       "a.zz.example.",
	};
	zone_builder_t *b = base_zone();
	uint32_t s = 12345;
	size_t n = sizeof(owners) / sizeof(owners[0]);
	assert_int_equal(n, 20);
	for (size_t i = 0; i < 3 * n; i++) {
		s = s * 1103515245u + 12345u;
		size_t k = i < n ? i * 7 % n : (s >> 8) % n; /* each once (7 is prime to n) */
		add(b, owners[k], DNS_TYPE_TXT, rd_txt(owners[i % n]), "t:9");
	}
	if (zero_octet)
		add(b, "a\\000.example.", DNS_TYPE_A, rd_a("192.0.2.1"), "t:10");
	zone_version_t *v = finish_ok(b);
	zone_version_iter_t it;
	zone_version_iter_init(v, &it);
	const zone_node_t *prev = NULL;
	for (const zone_node_t *x; (x = zone_version_iter_next(&it)) != NULL; prev = x) {
		if (prev)
			assert_true(dname_cmp_canonical(prev->owner, x->owner) < 0);
		if (x != zone_version_apex(v)) {
			const uint8_t *up = x->owner + x->owner[0] + 1;
			assert_ptr_equal(x->parent, zone_version_find(v, up, dname_len(up)));
		}
		uint8_t wc[DNAME_MAX] = {1, '*'};
		memcpy(wc + 2, x->owner, x->owner_len);
		assert_ptr_equal(zone_node_wildcard(v, x),
		                 x->owner_len + 2 <= DNAME_MAX
		                     ? zone_version_find(v, wc, x->owner_len + 2u)
		                     : NULL);
	}
	assert_non_null(t_find(v, "*.example.")); /* the empty non-terminal of q.*.example. */
	assert_ptr_equal(zone_node_wildcard(v, t_find(v, "example.")), t_find(v, "*.example."));
	assert_non_null(t_find(v, "y.x.w.v.example."));
	zone_version_unref(v);
}

static void test_canonical_order(void **state)
{
	(void)state;
	check_order(false);
	check_order(true);
}

/* A random owner below example.: 1-3 labels of 1-12 characters from a small alphabet (upper
 * case, '-', digits, 0xff), half of them behind a common 9-octet label, so that many owners
 * share the 8 octets of the builder's sort key and are told apart by the whole name. */
static void random_owner(uint32_t *s, char *out, size_t size)
{
	static const char alpha[] = "abAB-09z";
	size_t n = 0;
	*s = *s * 1103515245u + 12345u;
	unsigned labels = 1 + (*s >> 8) % 3;
	for (unsigned l = 0; l < labels; l++) {
		*s = *s * 1103515245u + 12345u;
		unsigned len = 1 + (*s >> 8) % 12;
		for (unsigned i = 0; i < len; i++) {
			*s = *s * 1103515245u + 12345u;
			unsigned c = (*s >> 8) % 9;
			n += (size_t)snprintf(out + n, size - n, "%s",
			                      c == 8 ? "\\255" : (char[2]){alpha[c], 0});
		}
		n += (size_t)snprintf(out + n, size - n, ".");
	}
	*s = *s * 1103515245u + 12345u;
	snprintf(out + n, size - n, "%sexample.", (*s >> 8) % 2 ? "abcdefghi." : "");
}

/* The builder sorts records by a radix sort of owner keys, or by comparisons when an owner
 * holds a 0 octet (keys not used): both must build the same version. 3000 random records
 * (duplicates, RRsets spread over the input, TTLs that differ within an RRset, names in
 * RDATA in other cases) are built once, and once more with a record at a0\000.example.: but
 * for that node, the two versions are equal, node by node in order. A third build of the same
 * records is told to expect text (zone_builder_expect) too short for them, then, half-way,
 * 8 MB more: reserving ahead and growing past a reservation must not change the version. */
static void test_sort_paths_agree(void **state)
{
	(void)state;
	zone_builder_t *b[3] = {base_zone(), base_zone(), base_zone()};
	zone_builder_expect(b[2], 64);
	uint32_t s = 4242;
	for (int i = 0; i < 3000; i++) {
		if (i == 1500)
			zone_builder_expect(b[2], (size_t)8 << 20);
		char owner[256], target[64];
		random_owner(&s, owner, sizeof(owner));
		s = s * 1103515245u + 12345u;
		unsigned pick = (s >> 8) % 4, ttl = (s >> 12) % 2 ? 300 : 600, x = (s >> 16) % 5;
		snprintf(target, sizeof(target), "%s%u.%s.", (s >> 20) % 2 ? "MX" : "mx", x,
		         (s >> 21) % 2 ? "elsewhere" : "example");
		char addr[32], text[8];
		snprintf(addr, sizeof(addr), "192.0.2.%u", x);
		snprintf(text, sizeof(text), "t%u", x);
		rd_t r = pick == 0 ? rd_a(addr) : pick == 1 ? rd_txt(text) : rd_name(x, target);
		uint16_t type = pick == 0 ? DNS_TYPE_A : pick == 1 ? DNS_TYPE_TXT : DNS_TYPE_MX;
		for (int k = 0; k < 3; k++)
			add_c(b[k], owner, type, 1, ttl, r, "t:9");
	}
	for (int k = 0; k < 3; k++)
		for (int x = 0; x < 5;
		     x += 2) { /* targets in the zone, some of them with an address */
			char mx[32];
			snprintf(mx, sizeof(mx), "mx%d.example.", x);
			add(b[k], mx, DNS_TYPE_A, rd_a("192.0.2.25"), "t:10");
		}
	add(b[1], "a0\\000.example.", DNS_TYPE_A, rd_a("192.0.2.1"), "t:10");
	zone_version_t *v[3] = {finish_ok(b[0]), finish_ok(b[1]), finish_ok(b[2])};
	const zone_node_t *zero = t_find(v[1], "a0\\000.example.");
	assert_non_null(zero);
	assert_int_equal(zone_version_node_count(v[0]) + 1, zone_version_node_count(v[1]));
	assert_true(zone_version_node_count(v[0]) > 2000);
	assert_int_equal(zone_version_node_count(v[0]), zone_version_node_count(v[2]));
	zone_version_iter_t it[3];
	size_t targets = 0;
	for (int k = 0; k < 3; k++)
		zone_version_iter_init(v[k], &it[k]);
	for (const zone_node_t *x; (x = zone_version_iter_next(&it[0])) != NULL;) {
		const zone_node_t *y = zone_version_iter_next(&it[1]);
		if (y == zero)
			y = zone_version_iter_next(&it[1]);
		assert_non_null(y);
		t_assert_nodes_equal(v[0], x, v[1], y);
		const zone_node_t *z = zone_version_iter_next(&it[2]);
		assert_non_null(z);
		t_assert_nodes_equal(v[0], x, v[2], z);
		for (uint16_t k = 0; k < x->rrset_count; k++) /* each target is its name's node */
			for (uint16_t r = 0; x->rrsets[k].targets && r < x->rrsets[k].count; r++) {
				uint8_t name[DNAME_MAX];
				size_t len = zone_rrset_target_name(&x->rrsets[k], r, name);
				assert_ptr_equal(x->rrsets[k].targets[r],
				                 zone_version_find(v[0], name, len));
				targets += x->rrsets[k].targets[r] != NULL;
			}
	}
	assert_true(targets > 100);
	for (int k = 0; k < 3; k++)
		zone_version_unref(v[k]);
}

/* The node zone_prefetch must reach for a name: the lookup's probe from its home slot, past
 * nodes whose tag or length differ, at most ZONE_PREFETCH_PROBES nodes; NULL past that or at
 * an empty slot. */
static const zone_node_t *probe_stop(const zone_version_t *v, uint32_t h, size_t len)
{
	uint32_t j = h & v->hash_mask;
	for (int k = 0; k < ZONE_PREFETCH_PROBES && v->hash[j] != 0; k++) {
		const zone_node_t *y = &v->nodes[v->hash[j] - 1];
		if (y->tag == zone_hash_tag(h) && y->owner_len == len)
			return y;
		j = (j + 1) & v->hash_mask;
	}
	return NULL;
}

/* zone_prefetch (version.h) fetches the lookup's own chain: slot, the node the probe stops at
 * (its tag and length: past other names' nodes as the lookup goes, a few at most), its RRsets,
 * then the RDATA of the type asked (the CNAME's at a CNAME). Every node is checked: the chain
 * must pass exactly through what probe_stop says, and for most names that is their node.
 * Names that are not in the zone end early. No chain outlives ZONE_PREFETCH_STEPS steps. */
static void test_prefetch_chain(void **state)
{
	(void)state;
	zone_builder_t *b = base_zone();
	uint32_t s = 777;
	for (int i = 0; i < 3000; i++) {
		char owner[256];
		random_owner(&s, owner, sizeof(owner));
		s = s * 1103515245u + 12345u;
		unsigned pick = (s >> 8) % 3;
		if (pick == 2) { /* a label of its own: no other data at a CNAME's owner */
			char c[300];
			snprintf(c, sizeof(c), "cname.%s", owner);
			add(b, c, DNS_TYPE_CNAME, rd_name(UINT16_MAX, "www.example."), "t:1");
		} else
			add(b, owner, pick == 0 ? DNS_TYPE_A : DNS_TYPE_TXT,
			    pick == 0 ? rd_a("192.0.2.9") : rd_txt("x"), "t:1");
	}
	zone_version_t *v = finish_ok(b);
	size_t n = v->node_count, found = 0, displaced = 0, full = 0;
	for (size_t i = 0; i < n; i++) {
		const zone_node_t *x = &v->nodes[i];
		uint16_t qtype = x->rrset_count ? x->rrsets[x->rrset_count - 1].type : DNS_TYPE_A;
		uint32_t h = dname_hash(x->owner, x->owner_len);
		assert_int_equal(x->tag, zone_hash_tag(h));
		zone_prefetch_t p;
		zone_prefetch_start(&p, v, x->owner_len, h,
		                    qtype == DNS_TYPE_CNAME ? DNS_TYPE_A : qtype);
		assert_ptr_equal(p.at, &v->hash[h & v->hash_mask]);
		const zone_node_t *stop = probe_stop(v, h, x->owner_len);
		int steps = 0;
		do { /* to the node the probe stops at: every node on the way is the version's */
			zone_prefetch_step(&p);
			steps++;
			assert_true(p.at == NULL || ((const zone_node_t *)p.at >= v->nodes &&
			                             (const zone_node_t *)p.at < v->nodes + n));
		} while (p.at != NULL && p.at != stop);
		assert_ptr_equal(p.at, stop);
		if (stop != x) {
			while (p.at != NULL && steps++ < ZONE_PREFETCH_STEPS)
				zone_prefetch_step(&p);
			assert_null(p.at);
			continue;
		}
		found++;
		displaced += steps > 1;
		zone_prefetch_step(&p);
		if (x->rrset_count == 0) { /* an empty non-terminal */
			assert_null(p.at);
			continue;
		}
		assert_ptr_equal(p.at, x->rrsets);
		zone_prefetch_step(&p);
		assert_ptr_equal(p.at, zone_node_rrset(x, qtype)->rdata);
		zone_prefetch_step(&p);
		assert_null(p.at);
		full++;
	}
	/* nearly every node is reached, some of them past another name's; the rest hold no RRset */
	assert_true(found > n * 95 / 100 && displaced > n / 20 && full > 2000);
	for (int i = 0; i < 2000; i++) { /* names that are not there */
		uint8_t name[DNAME_MAX];
		char text[300];
		random_owner(&s, text, sizeof(text));
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s", "absent.");
		size_t len = (size_t)dname_from_str(text, NULL, name);
		zone_prefetch_t p;
		zone_prefetch_start(&p, v, len, dname_hash(name, len), DNS_TYPE_A);
		for (int k = 0; k < ZONE_PREFETCH_STEPS; k++) {
			zone_prefetch_step(&p);
			if (k == 0) /* the home slot's node, if any */
				assert_true(p.at == NULL ||
				            ((const zone_node_t *)p.at >= v->nodes &&
				             (const zone_node_t *)p.at < v->nodes + n));
		}
		assert_null(p.at);
	}
	zone_version_unref(v);
}

static void test_ent_and_closest(void **state)
{
	zone_builder_t *b = base_zone();
	add(b, "a.b.c.example.", DNS_TYPE_A, rd_a("192.0.2.7"), "t:10");
	add(b, "x.c.example.", DNS_TYPE_TXT, (rd_t){.b = {2, 'h', 'i'}, .len = 3}, "t:11");
	zone_version_t *v = finish_ok(b);
	/* example, a.b.c, b.c, c, ns1, x.c */
	assert_int_equal(zone_version_node_count(v), 6);
	const zone_node_t *c = t_find(v, "c.example."), *bc = t_find(v, "b.c.example.");
	assert_non_null(c);
	assert_non_null(bc);
	assert_int_equal(c->rrset_count, 0);
	assert_int_equal(bc->rrset_count, 0);
	assert_ptr_equal(bc->parent, c);
	assert_ptr_equal(t_find(v, "a.b.c.example.")->parent, bc);
	assert_ptr_equal(t_find(v, "x.c.example.")->parent, c);
	bool exact;
	/* existing name */
	assert_ptr_equal(zone_version_closest(v, t_name("a.b.c.example."), &exact),
	                 t_find(v, "a.b.c.example."));
	assert_true(exact);
	/* ENT found exactly: NODATA, not NXDOMAIN */
	assert_ptr_equal(zone_version_closest(v, t_name("b.c.example."), &exact), bc);
	assert_true(exact);
	/* below the ENT */
	assert_ptr_equal(zone_version_closest(v, t_name("q.b.c.example."), &exact), bc);
	assert_false(exact);
	/* the ENT does not stop names beside it from being NXDOMAIN under c */
	assert_ptr_equal(zone_version_closest(v, t_name("z.z.c.example."), &exact), c);
	assert_false(exact);
	assert_ptr_equal(zone_version_closest(v, t_name("zzz.example."), &exact),
	                 zone_version_apex(v));
	assert_false(exact);
	assert_ptr_equal(zone_version_closest(v, t_name("example."), &exact), zone_version_apex(v));
	assert_true(exact);
	/* out of zone */
	assert_null(zone_version_closest(v, t_name("example.com."), &exact));
	assert_null(zone_version_closest(v, t_name("."), &exact));
	assert_null(zone_version_closest(v, t_name("xexample."), &exact));
	zone_version_unref(v);
}

static void test_wildcard_dname(void **state)
{
	zone_builder_t *b = base_zone();
	add(b, "*.example.", DNS_TYPE_A, rd_a("192.0.2.9"), "t:10");
	add(b, "*.sub.example.", DNS_TYPE_A, rd_a("192.0.2.10"), "t:11");
	add(b, "d.example.", DNS_TYPE_DNAME, rd_name(UINT16_MAX, "other.test."), "t:12");
	add(b, "x.d.example.", DNS_TYPE_A, rd_a("192.0.2.11"), "t:13");
	zone_version_t *v = finish_ok(b);
	assert_int_equal(t_cap.warnings, 1); /* DNAME with a descendant */
	assert_non_null(strstr(t_cap.last, "t:12: d.example. DNAME:"));
	const zone_node_t *apex = zone_version_apex(v);
	assert_ptr_equal(zone_node_wildcard(v, apex), t_find(v, "*.example."));
	const zone_node_t *sub = t_find(v, "sub.example.");
	assert_non_null(sub); /* ENT above the wildcard */
	assert_ptr_equal(zone_node_wildcard(v, sub), t_find(v, "*.sub.example."));
	assert_null(t_find(v, "www.example."));
	assert_null(zone_node_wildcard(v, t_find(v, "*.example.")));
	const zone_node_t *d = t_find(v, "d.example."), *xd = t_find(v, "x.d.example.");
	assert_true(d->flags & ZONE_NODE_DNAME);
	assert_null(zone_node_dname(v, d)); /* a proper ancestor only */
	assert_ptr_equal(zone_node_dname(v, xd), d);
	assert_null(zone_node_dname(v, sub));
	zone_version_unref(v);
}

static void test_cuts_and_glue(void **state)
{
	zone_builder_t *b = base_zone();
	add(b, "sub.example.", DNS_TYPE_NS, rd_name(UINT16_MAX, "ns.sub.example."), "t:10");
	add(b, "sub.example.", DNS_TYPE_NS, rd_name(UINT16_MAX, "ns1.example."), "t:11");
	add(b, "ns.sub.example.", DNS_TYPE_A, rd_a("192.0.2.20"), "t:12");
	add(b, "deep.sub.example.", DNS_TYPE_NS, rd_name(UINT16_MAX, "ns.sub.example."), "t:13");
	add(b, "x.deep.sub.example.", DNS_TYPE_A, rd_a("192.0.2.21"), "t:14");
	add(b, "mx.example.", DNS_TYPE_MX, rd_name(10, "Mail.Example."), "t:15");
	add(b, "mx.example.", DNS_TYPE_MX, rd_name(20, "mail.elsewhere."), "t:16");
	add(b, "mail.example.", DNS_TYPE_A, rd_a("192.0.2.25"), "t:17");
	add(b, "_sip._tcp.example.", DNS_TYPE_SRV, rd_srv(1, 2, 5060, "mail.example."), "t:18");
	zone_version_t *v = finish_ok(b);
	const zone_node_t *apex = zone_version_apex(v);
	const zone_node_t *sub = t_find(v, "sub.example."), *deep = t_find(v, "deep.sub.example.");
	const zone_node_t *glue = t_find(v, "ns.sub.example."),
	                  *x = t_find(v, "x.deep.sub.example.");
	assert_false(apex->flags & ZONE_NODE_DELEG);
	assert_null(apex->cut);
	assert_true(sub->flags & ZONE_NODE_DELEG);
	assert_false(sub->flags & ZONE_NODE_NONAUTH);
	assert_ptr_equal(sub->cut, sub);
	assert_true(deep->flags & ZONE_NODE_DELEG);
	assert_true(deep->flags & ZONE_NODE_NONAUTH);
	assert_ptr_equal(deep->cut, sub); /* the highest cut */
	assert_true(glue->flags & ZONE_NODE_NONAUTH);
	assert_ptr_equal(glue->cut, sub);
	assert_ptr_equal(x->cut, sub);
	assert_true(x->flags & ZONE_NODE_NONAUTH);
	assert_null(t_find(v, "mail.example.")->cut);
	assert_false(t_find(v, "mail.example.")->flags & ZONE_NODE_NONAUTH);
	/* targets follow the canonical RDATA order (RFC 4034 6.3, wire bytes): \2ns\3sub...
	 * sorts before \3ns1\7example */
	const zone_rrset_t *ns = zone_node_rrset(sub, DNS_TYPE_NS);
	assert_non_null(ns->targets);
	assert_ptr_equal(ns->targets[0], glue);
	assert_ptr_equal(ns->targets[1], t_find(v, "ns1.example."));
	const zone_rrset_t *apex_ns = zone_node_rrset(apex, DNS_TYPE_NS);
	for (uint16_t i = 0; i < apex_ns->count; i++) {
		const uint8_t *t = apex_ns->rdata + zone_rrset_rr_offset(apex_ns, i) + 2;
		if (t[1] == 'n' && t[3] == '1')
			assert_ptr_equal(apex_ns->targets[i], t_find(v, "ns1.example."));
		else
			assert_null(apex_ns->targets[i]);
	}
	const zone_rrset_t *mx = zone_node_rrset(t_find(v, "mx.example."), DNS_TYPE_MX);
	assert_int_equal(mx->count, 2);
	assert_ptr_equal(mx->targets[0], t_find(v, "mail.example.")); /* case-insensitive target */
	assert_null(mx->targets[1]);
	/* the target keeps its case in RDATA */
	assert_memory_equal(mx->rdata + 4, "\4Mail\7Example\0", 14);
	const zone_rrset_t *srv = zone_node_rrset(t_find(v, "_sip._tcp.example."), DNS_TYPE_SRV);
	assert_ptr_equal(srv->targets[0], t_find(v, "mail.example."));
	assert_non_null(t_find(v, "_tcp.example."));
	zone_version_unref(v);
}

static void test_dedupe_ttl_order(void **state)
{
	zone_builder_t *b = base_zone();
	add_c(b, "www.example.", DNS_TYPE_A, 1, 300, rd_a("192.0.2.3"), "t:10");
	add_c(b, "www.example.", DNS_TYPE_A, 1, 300, rd_a("192.0.2.1"), "t:11");
	add_c(b, "www.example.", DNS_TYPE_A, 1, 600, rd_a("192.0.2.3"), "t:12"); /* duplicate */
	add_c(b, "www.example.", DNS_TYPE_A, 1, 900, rd_a("192.0.2.2"), "t:13");
	add(b, "c.example.", DNS_TYPE_CNAME, rd_name(UINT16_MAX, "WWW.example."), "t:14");
	/* same NS target in another case: the same record (RFC 4034 6.2 canonical form) */
	add(b, "example.", DNS_TYPE_NS, rd_name(UINT16_MAX, "NS1.example."), "t:15");
	zone_version_t *v = finish_ok(b);
	assert_int_equal(t_cap.warnings, 1);
	assert_non_null(strstr(t_cap.last, "t:13: www.example. A: TTL 900 differs"));
	const zone_rrset_t *a = zone_node_rrset(t_find(v, "www.example."), DNS_TYPE_A);
	assert_int_equal(a->count, 3);
	assert_int_equal(a->ttl, 300);
	assert_memory_equal(a->rdata, "\0\4\300\0\2\1\0\4\300\0\2\2\0\4\300\0\2\3", 18);
	assert_int_equal(zone_node_rrset(zone_version_apex(v), DNS_TYPE_NS)->count, 2);
	assert_true(t_find(v, "c.example.")->flags & ZONE_NODE_CNAME);
	assert_int_equal(zone_version_rr_count(v), 4 + 3 + 1);
	zone_version_unref(v);
}

static void test_rdata_checked(void **state)
{
	zone_builder_t *b = base_zone();
	uint8_t bad_ns[] = {3, 'n', 's'}; /* runs past rdlen */
	assert_int_equal(
	    zone_builder_add(b, t_name("x.example."), DNS_TYPE_NS, 1, 60, bad_ns, 3, NULL),
	    SD_EPARSE);
	uint8_t short_mx[] = {0};
	assert_int_equal(
	    zone_builder_add(b, t_name("x.example."), DNS_TYPE_MX, 1, 60, short_mx, 1, NULL),
	    SD_EPARSE);
	rd_t soa = rd_soa(1);
	assert_int_equal(zone_builder_add(b, t_name("example."), DNS_TYPE_SOA, 1, 60, soa.b,
	                                  (uint16_t)(soa.len - 1), NULL),
	                 SD_EPARSE);
	/* unknown types are opaque, empty rdata is fine */
	assert_int_equal(zone_builder_add(b, t_name("x.example."), 65000, 1, 60, NULL, 0, NULL), 0);
	zone_version_t *v = finish_ok(b);
	const zone_rrset_t *rs = zone_node_rrset(t_find(v, "x.example."), 65000);
	assert_non_null(rs);
	assert_int_equal(rs->rdata_len, 2);
	zone_version_unref(v);
}

/* --- semantic errors: each counted --- */

static void test_err_soa(void **state)
{
	zone_builder_t *b;
	/* missing SOA */
	assert_int_equal(zone_builder_new(t_name("example."), NULL, &b), 0);
	add(b, "example.", DNS_TYPE_NS, rd_name(UINT16_MAX, "ns.elsewhere."), "t:1");
	assert_int_equal(finish_errors(b), 1);
	assert_string_equal(t_cap.last, "example.: no SOA record at the zone apex");
	/* two SOAs, and SOA below the apex */
	b = base_zone();
	add(b, "example.", DNS_TYPE_SOA, rd_soa(7), "t:20");
	add(b, "www.example.", DNS_TYPE_SOA, rd_soa(8), "t:21");
	assert_int_equal(finish_errors(b), 2);
	assert_non_null(strstr(t_cap.all, "t:20: example. SOA: more than one SOA"));
	assert_non_null(
	    strstr(t_cap.all, "t:21: www.example. SOA: SOA record not at the zone apex"));
}

static void test_err_ns_class_outside(void **state)
{
	zone_builder_t *b;
	assert_int_equal(zone_builder_new(t_name("example."), NULL, &b), 0);
	add(b, "example.", DNS_TYPE_SOA, rd_soa(1), "t:1");
	add_c(b, "www.example.", DNS_TYPE_A, 3, 60, rd_a("192.0.2.1"), "t:2"); /* CH */
	add(b, "www.example.com.", DNS_TYPE_A, rd_a("192.0.2.1"), "t:3");
	add(b, "example.", DNS_TYPE_A, rd_a("192.0.2.1"), NULL);
	add(b, "com.", DNS_TYPE_A, rd_a("192.0.2.1"), NULL);
	assert_int_equal(finish_errors(b), 4);
	assert_non_null(strstr(t_cap.all, "t:2: www.example. A: class 3 is not IN\n"));
	assert_non_null(strstr(t_cap.all, "t:3: www.example.com. A: out of zone"));
	assert_non_null(strstr(t_cap.all, "example.: com. A: out of zone"));
	assert_non_null(strstr(t_cap.all, "example.: no NS records at the zone apex\n"));
}

static void test_err_cname(void **state)
{
	zone_builder_t *b = base_zone();
	add(b, "c.example.", DNS_TYPE_CNAME, rd_name(UINT16_MAX, "www.example."), "t:10");
	add(b, "c.example.", DNS_TYPE_A, rd_a("192.0.2.1"), "t:11");
	add(b, "c.example.", DNS_TYPE_MX, rd_name(5, "www.example."), "t:12");
	assert_int_equal(finish_errors(b), 2); /* one per type beside the CNAME */
	assert_non_null(strstr(t_cap.all, "t:10: c.example. CNAME: CNAME beside other data (A)"));
	assert_non_null(strstr(t_cap.all, "t:10: c.example. CNAME: CNAME beside other data (MX)"));

	b = base_zone();
	add(b, "c.example.", DNS_TYPE_CNAME, rd_name(UINT16_MAX, "a.example."), "t:10");
	add(b, "c.example.", DNS_TYPE_CNAME, rd_name(UINT16_MAX, "b.example."), "t:11");
	assert_int_equal(finish_errors(b), 1);
	assert_non_null(strstr(t_cap.last, "t:11: c.example. CNAME: more than one CNAME"));

	b = base_zone();
	add(b, "c.example.", DNS_TYPE_CNAME, rd_name(UINT16_MAX, "a.example."), "t:10");
	add(b, "c.example.", DNS_TYPE_DNAME, rd_name(UINT16_MAX, "b.example."), "t:11");
	assert_int_equal(finish_errors(b), 1);
	assert_non_null(strstr(t_cap.last, "t:11: c.example. DNAME: DNAME beside a CNAME"));

	b = base_zone();
	add(b, "example.", DNS_TYPE_CNAME, rd_name(UINT16_MAX, "a.test."), "t:10");
	assert_int_equal(finish_errors(b), 3); /* at the apex, beside SOA, beside NS */
	assert_non_null(strstr(t_cap.all, "t:10: example. CNAME: CNAME at the zone apex"));

	/* RRSIG and NSEC are allowed beside a CNAME (RFC 4035 2.5) */
	b = base_zone();
	add(b, "c.example.", DNS_TYPE_CNAME, rd_name(UINT16_MAX, "a.example."), "t:10");
	add(b, "c.example.", DNS_TYPE_NSEC, rd_name(UINT16_MAX, "d.example."), "t:11");
	add(b, "c.example.", DNS_TYPE_RRSIG, rd_a("1.2.3.4"), "t:12");
	zone_version_unref(finish_ok(b));
}

static void test_err_glue(void **state)
{
	zone_builder_t *b = base_zone();
	add(b, "sub.example.", DNS_TYPE_NS, rd_name(UINT16_MAX, "ns.sub.example."), "t:10");
	add(b, "sub.example.", DNS_TYPE_NS, rd_name(UINT16_MAX, "ns2.sub.example."), "t:11");
	add(b, "sub.example.", DNS_TYPE_NS, rd_name(UINT16_MAX, "ns3.sub.example."), "t:12");
	add(b, "sub.example.", DNS_TYPE_NS, rd_name(UINT16_MAX, "ns.other.test."), "t:13");
	add(b, "sub.example.", DNS_TYPE_NS, rd_name(UINT16_MAX, "www.example."), "t:14");
	add(b, "ns2.sub.example.", DNS_TYPE_AAAA, rd_aaaa("2001:db8::53"), "t:15");
	add(b, "ns3.sub.example.", DNS_TYPE_TXT, (rd_t){.b = {1, 'x'}, .len = 2}, "t:16");
	/* a nested delegation below the cut is occluded: no glue check */
	add(b, "in.sub.example.", DNS_TYPE_NS, rd_name(UINT16_MAX, "ns.in.sub.example."), "t:17");
	assert_int_equal(finish_errors(b), 2);
	assert_non_null(strstr(t_cap.all,
	                       "t:10: sub.example. NS: missing glue: no A or AAAA record "
	                       "for ns.sub.example."));
	assert_non_null(strstr(t_cap.all, "t:12: sub.example. NS: missing glue"));
}

static void test_all_reported(void **state)
{
	zone_builder_t *b;
	assert_int_equal(zone_builder_new(t_name("example."), NULL, &b), 0);
	add(b, "a.example.", DNS_TYPE_SOA, rd_soa(1), "t:1");
	add(b, "c.example.", DNS_TYPE_CNAME, rd_name(UINT16_MAX, "a.example."), "t:2");
	add(b, "c.example.", DNS_TYPE_TXT, (rd_t){.b = {1, 'x'}, .len = 2}, "t:3");
	add(b, "other.", DNS_TYPE_A, rd_a("192.0.2.1"), "t:4");
	/* SOA not at apex, CNAME+TXT, out of zone, no SOA, no NS */
	assert_int_equal(finish_errors(b), 5);
}

/* --- references and publication --- */

static void test_publish(void **state)
{
	rcu_register_thread();
	zone_t *z;
	assert_int_equal(zone_new(t_name("example."), "example.zone", &z), 0);
	assert_string_equal(zone_file(z), "example.zone");
	assert_true(dname_equal(zone_apex(z), t_name("example.")));
	rcu_read_lock();
	assert_null(zone_current(z));
	rcu_read_unlock();
	zone_version_t *v1 = finish_ok(base_zone());
	zone_publish(z, v1);
	/* a long reader keeps v1 alive across the next publish */
	zone_version_t *held = zone_version_ref(v1);
	zone_builder_t *b = base_zone();
	add(b, "new.example.", DNS_TYPE_A, rd_a("192.0.2.1"), NULL);
	zone_version_t *v2 = finish_ok(b);
	zone_publish(z, v2);
	rcu_read_lock();
	assert_ptr_equal(zone_current(z), v2);
	rcu_read_unlock();
	rcu_quiescent_state();
	rcu_barrier(); /* v1's RCU callback has run: only our reference remains */
	assert_int_equal(zone_version_serial(held), 2024010101);
	assert_null(t_find(held, "new.example."));
	zone_version_unref(held);
	zone_free(z);
	rcu_barrier();
	rcu_unregister_thread();
}

static void test_zone_set(void **state)
{
	zone_t *z[4];
	const char *apexes[] = {"example.", "sub.example.", "test.", "."};
	for (int i = 0; i < 4; i++)
		assert_int_equal(zone_new(t_name(apexes[i]), NULL, &z[i]), 0);
	zone_set_t *set;
	assert_int_equal(zone_set_new(z, 3, &set), 0);
	assert_int_equal(zone_set_count(set), 3);
	assert_ptr_equal(zone_set_at(set, 1), z[1]);
	assert_null(zone_set_at(set, 3));
	assert_ptr_equal(zone_set_find(set, t_name("www.example.")), z[0]);
	assert_ptr_equal(zone_set_find(set, t_name("example.")), z[0]);
	assert_ptr_equal(zone_set_find(set, t_name("a.b.sub.example.")), z[1]);
	assert_ptr_equal(zone_set_find(set, t_name("sub.example.")), z[1]);
	assert_ptr_equal(zone_set_find(set, t_name("xsub.example.")), z[0]);
	assert_null(zone_set_find(set, t_name("example.com.")));
	assert_null(zone_set_find(set, t_name(".")));
	assert_ptr_equal(zone_set_get(set, t_name("test.")), z[2]);
	assert_null(zone_set_get(set, t_name("a.test.")));
	zone_set_free(set);
	/* the root zone catches everything else */
	assert_int_equal(zone_set_new(z, 4, &set), 0);
	assert_ptr_equal(zone_set_find(set, t_name("example.com.")), z[3]);
	assert_ptr_equal(zone_set_find(set, t_name(".")), z[3]);
	zone_set_free(set);
	/* a set of one zone: found without a hash, by its suffix of the apex's depth */
	assert_int_equal(zone_set_new(&z[1], 1, &set), 0);
	assert_ptr_equal(zone_set_find(set, t_name("a.b.sub.example.")), z[1]);
	assert_ptr_equal(zone_set_find(set, t_name("sub.example.")), z[1]);
	assert_null(zone_set_find(set, t_name("xsub.example.")));
	assert_null(zone_set_find(set, t_name("sub.examplf.")));
	assert_null(zone_set_find(set, t_name("example.")));
	assert_null(zone_set_find(set, t_name(".")));
	zone_set_free(set);
	assert_int_equal(zone_set_new(&z[3], 1, &set), 0); /* the root alone */
	assert_ptr_equal(zone_set_find(set, t_name("www.example.")), z[3]);
	assert_ptr_equal(zone_set_find(set, t_name(".")), z[3]);
	zone_set_free(set);
	/* duplicates */
	zone_t *dup[2] = {z[0], z[0]};
	assert_int_equal(zone_set_new(dup, 2, &set), SD_EEXIST);
	assert_int_equal(zone_set_new(NULL, 0, &set), 0);
	assert_null(zone_set_find(set, t_name("example.")));
	zone_set_free(set);
	for (int i = 0; i < 4; i++)
		zone_free(z[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_basic, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_ent_and_closest, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_canonical_order, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_sort_paths_agree, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_prefetch_chain, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_wildcard_dname, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_cuts_and_glue, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_dedupe_ttl_order, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_rdata_checked, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_err_soa, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_err_ns_class_outside, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_err_cname, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_err_glue, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_all_reported, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_publish, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_zone_set, t_log_setup, t_log_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
