/* test_cow.c — copy-on-write commits against full builds.
 *
 * Random sequences of change sets (records added and removed, new names and names that go,
 * wildcards, CNAMEs, DNAMEs, delegations and their glue, MX targets that appear and vanish,
 * several change sets on one overlay) are applied to two chains from the same start: one by
 * zone_changeset_apply (overlay over a shared base where it can), one by
 * zone_changeset_apply_full. After every step both must agree on success or failure and, on
 * success, on every node in canonical order with its links, every lookup (exact and closest,
 * names that exist and names below them), and their diff must be empty.
 *
 * A reload builds the file's version over the served one (zone_overlay_build): at
 * every step the records the change set leaves — as a file would hold them, in a random
 * order — are built in full and over the chain's overlay version, and both must agree on
 * success or failure (and on its messages) and on the version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "zone/builder.h"
#include "zone/changeset.h"
#include "zone/internal.h"
#include "zone/overlay.h"

/* Every record a step may add; owners relative to example.com. */
static const trr_t universe[] = {
    {"@", DNS_TYPE_NS, 0, "ns1"},
    {"@", DNS_TYPE_NS, 0, "ns.sub"},
    {"@", DNS_TYPE_MX, 0, "10 mail"},
    {"@", DNS_TYPE_TXT, 0, "t1"},
    {"@", DNS_TYPE_A, 0, "192.0.2.100"},
    {"ns1", DNS_TYPE_A, 0, "192.0.2.1"},
    {"ns1", DNS_TYPE_AAAA, 0, "2001:db8::1"},
    {"a", DNS_TYPE_A, 0, "192.0.2.2"},
    {"a", DNS_TYPE_A, 0, "192.0.2.3"},
    {"a", DNS_TYPE_TXT, 0, "t2"},
    {"x.a", DNS_TYPE_A, 0, "192.0.2.4"},
    {"y.x.a", DNS_TYPE_TXT, 0, "t3"},
    {"y.x.a", DNS_TYPE_CNAME, 0, "mail"},
    {"*.a", DNS_TYPE_TXT, 0, "t4"},
    {"*.a", DNS_TYPE_A, 0, "192.0.2.5"},
    {"*.a", DNS_TYPE_MX, 0, "10 mail"},
    {"*", DNS_TYPE_A, 0, "192.0.2.6"},
    {"*", DNS_TYPE_CNAME, 0, "a"},
    {"b", DNS_TYPE_MX, 0, "10 mail"},
    {"b", DNS_TYPE_MX, 0, "20 x.a"},
    {"b", DNS_TYPE_MX, 0, "30 nowhere"},
    {"b", DNS_TYPE_MX, 0, "5 q.new"},
    {"nowhere", DNS_TYPE_A, 0, "192.0.2.16"},
    {"q.new", DNS_TYPE_A, 0, "192.0.2.7"},
    {"c.b", DNS_TYPE_TXT, 0, "t5"},
    {"*.c.b", DNS_TYPE_A, 0, "192.0.2.8"},
    {"mail", DNS_TYPE_A, 0, "192.0.2.9"},
    {"mail", DNS_TYPE_AAAA, 0, "2001:db8::9"},
    {"mail", DNS_TYPE_CNAME, 0, "a"},
    {"sub", DNS_TYPE_NS, 0, "ns.sub"},
    {"sub", DNS_TYPE_NS, 0, "ns.other.net."},
    {"ns.sub", DNS_TYPE_A, 0, "192.0.2.10"},
    {"deep.ns.sub", DNS_TYPE_TXT, 0, "t6"},
    {"x.sub", DNS_TYPE_A, 0, "192.0.2.11"},
    {"sub2", DNS_TYPE_NS, 0, "ns.sub2"},
    {"ns.sub2", DNS_TYPE_A, 0, "192.0.2.12"},
    {"ns.sub2", DNS_TYPE_AAAA, 0, "2001:db8::12"},
    {"new.sub2", DNS_TYPE_NS, 0, "ns.new.sub2"},
    {"ns.new.sub2", DNS_TYPE_A, 0, "192.0.2.17"},
    {"d", DNS_TYPE_DNAME, 0, "target.example.net."},
    {"x.d", DNS_TYPE_A, 0, "192.0.2.13"},
    {"e.f.g", DNS_TYPE_TXT, 0, "t7"},
    {"f.g", DNS_TYPE_TXT, 0, "t8"},
    {"*.f.g", DNS_TYPE_A, 0, "192.0.2.14"},
    {"cn", DNS_TYPE_CNAME, 0, "mail"},
    {"cn", DNS_TYPE_CNAME, 0, "b"},
    {"cn", DNS_TYPE_A, 0, "192.0.2.15"},
    {"w", DNS_TYPE_TXT, 0, "t9"},
    {"*.w", DNS_TYPE_TXT, 0, "t10"},
};

/* The start: what a zone needs and a little more. */
static const trr_t start[] = {
    {"@", DNS_TYPE_SOA, 3600, "1"},         {"@", DNS_TYPE_NS, 3600, "ns1"},
    {"ns1", DNS_TYPE_A, 3600, "192.0.2.1"}, {"a", DNS_TYPE_A, 300, "192.0.2.2"},
    {"*.a", DNS_TYPE_TXT, 300, "t4"},       {"b", DNS_TYPE_MX, 300, "10 mail"},
    {"b", DNS_TYPE_MX, 300, "30 nowhere"},  {"mail", DNS_TYPE_A, 300, "192.0.2.9"},
    {"sub", DNS_TYPE_NS, 300, "ns.sub"},    {"ns.sub", DNS_TYPE_A, 300, "192.0.2.10"},
    {"e.f.g", DNS_TYPE_TXT, 300, "t7"},
};

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; /* xorshift64 */
	return (uint32_t)(rng % n);
}

/* A record in wire form with its own storage. */
typedef struct wrr {
	uint8_t owner[DNAME_MAX];
	uint8_t rdata[512];
	zone_rr_t rr;
} wrr_t;

static void wire(const trr_t *t, uint32_t ttl, wrr_t *w)
{
	const char *o = strcmp(t->owner, "@") ? t->owner : T_APEX;
	assert_true(dname_from_str(o, t_apex(), w->owner) > 0);
	w->rr = (zone_rr_t){.owner = w->owner,
	                    .type = t->type,
	                    .rclass = DNS_CLASS_IN,
	                    .ttl = ttl,
	                    .rdlen = (uint16_t)t_encode(t, w->rdata),
	                    .rdata = w->rdata};
}

static zone_version_t *build_start(const zone_bindings_t *bindings)
{
	zone_builder_t *b = NULL;
	assert_int_equal(zone_builder_new(t_apex(), bindings, &b), 0);
	for (size_t i = 0; i < SD_ARRAY_LEN(start); i++) {
		wrr_t w;
		wire(&start[i], start[i].ttl, &w);
		assert_int_equal(zone_builder_add(b, w.rr.owner, w.rr.type, w.rr.rclass, w.rr.ttl,
		                                  w.rr.rdata, w.rr.rdlen, NULL),
		                 0);
	}
	zone_version_t *v = NULL;
	assert_int_equal(zone_builder_finish(b, &v), 0);
	return v;
}

/* Whether v holds rr (owner, type, RDATA bytes). */
static bool holds(const zone_version_t *v, const zone_rr_t *rr)
{
	const zone_node_t *n = zone_version_find(v, rr->owner, dname_len(rr->owner));
	const zone_rrset_t *rs = n ? zone_node_rrset(n, rr->type) : NULL;
	for (uint16_t i = 0; rs && i < rs->count; i++) {
		size_t off = zone_rrset_rr_offset(rs, i);
		uint16_t len = (uint16_t)((rs->rdata[off] << 8) | rs->rdata[off + 1]);
		if (len == rr->rdlen && memcmp(rs->rdata + off + 2, rr->rdata, len) == 0)
			return true;
	}
	return false;
}

/* Every record of v but the SOA, as the universe entries that match (the start and every
 * addition come from the universe). */
static size_t present(const zone_version_t *v, size_t *idx)
{
	size_t n = 0;
	for (size_t i = 0; i < SD_ARRAY_LEN(universe); i++) {
		wrr_t w;
		wire(&universe[i], 0, &w);
		if (holds(v, &w.rr))
			idx[n++] = i;
	}
	return n;
}

/* A new change set that moves v's SOA to the next serial; with vary_ttl, one in eight also
 * changes the SOA's TTL. The records are the caller's to add. */
static zone_changeset_t *next_change(const zone_version_t *v, bool vary_ttl)
{
	zone_changeset_t *cs = NULL;
	assert_int_equal(zone_changeset_new(&cs), 0);
	zone_rr_t from;
	zone_version_soa_rr(v, &from);
	wrr_t to;
	memcpy(to.owner, from.owner, dname_len(from.owner));
	memcpy(to.rdata, from.rdata, from.rdlen);
	to.rr = from;
	to.rr.owner = to.owner;
	to.rr.rdata = to.rdata;
	uint8_t *serial = to.rdata + to.rr.rdlen - 20;
	uint32_t s = zone_version_serial(v) + 1;
	serial[0] = (uint8_t)(s >> 24), serial[1] = (uint8_t)(s >> 16);
	serial[2] = (uint8_t)(s >> 8), serial[3] = (uint8_t)s;
	if (vary_ttl && rnd(8) == 0)
		to.rr.ttl = 7200 - from.ttl % 7200 + 1;
	assert_int_equal(zone_changeset_set_soa(cs, &from, &to.rr), 0);
	return cs;
}

/* A random change set from v's serial to the next one. */
static zone_changeset_t *random_change(const zone_version_t *v)
{
	zone_changeset_t *cs = next_change(v, true);

	size_t idx[SD_ARRAY_LEN(universe)];
	size_t n = present(v, idx);
	bool removed[SD_ARRAY_LEN(universe)] = {false};
	for (uint32_t k = rnd(4); k > 0 && n > 0; k--) {
		size_t i = idx[rnd((uint32_t)n)];
		if (removed[i] && rnd(4) != 0)
			continue; /* mostly no double removal (an error on both paths) */
		const zone_node_t *node = NULL;
		wrr_t w;
		wire(&universe[i], 0, &w);
		node = zone_version_find(v, w.owner, dname_len(w.owner));
		w.rr.ttl = zone_node_rrset(node, w.rr.type)->ttl;
		assert_int_equal(zone_changeset_remove(cs, &w.rr), 0);
		removed[i] = true;
	}
	for (uint32_t k = rnd(4); k > 0; k--) {
		size_t i = rnd(SD_ARRAY_LEN(universe));
		wrr_t w;
		wire(&universe[i], rnd(3) == 0 ? 600 : 300, &w);
		if (holds(v, &w.rr) && !removed[i] && rnd(16) != 0)
			continue; /* mostly no addition of what exists (an error on both paths) */
		assert_int_equal(zone_changeset_add(cs, &w.rr), 0);
	}
	return cs;
}

/* Names looked up after each step: every owner of the universe, a name below each (closest
 * encloser, wildcard synthesis, names below cuts and DNAMEs), and a few that never exist. */
static void assert_lookups_equal(const zone_version_t *a, const zone_version_t *b)
{
	static const char *extra[] = {"zz.zz.a", "q.zz.c.b", "none", "x.y.x.a", "new", "g"};
	for (size_t i = 0; i < SD_ARRAY_LEN(universe) + SD_ARRAY_LEN(extra); i++) {
		for (int below = 0; below < 2; below++) {
			char text[300];
			const char *o = i < SD_ARRAY_LEN(universe)
			                    ? universe[i].owner
			                    : extra[i - SD_ARRAY_LEN(universe)];
			snprintf(text, sizeof(text), "%s%s", below ? "zz." : "",
			         strcmp(o, "@") ? o : T_APEX);
			uint8_t name[DNAME_MAX];
			assert_true(dname_from_str(text, t_apex(), name) > 0);
			bool ea = false, eb = false;
			const zone_node_t *x = zone_version_closest(a, name, &ea);
			const zone_node_t *y = zone_version_closest(b, name, &eb);
			assert_int_equal(ea, eb);
			t_assert_nodes_equal(a, x, b, y);
			const zone_node_t *fa = zone_version_find(a, name, dname_len(name));
			const zone_node_t *fb = zone_version_find(b, name, dname_len(name));
			assert_true((fa == NULL) == (fb == NULL));
		}
	}
}

static void assert_same(const zone_version_t *a, const zone_version_t *b)
{
	t_assert_versions_equal(a, b);
	assert_lookups_equal(a, b);
	zone_changeset_t *d = NULL;
	assert_int_equal(zone_changeset_diff(a, b, &d), 0);
	assert_int_equal(zone_changeset_removed_count(d), 0);
	assert_int_equal(zone_changeset_added_count(d), 0);
	zone_changeset_free(d);
}

static void quiet(log_level_t level, const char *line, void *data)
{
	(void)level, (void)line, (void)data;
}

/* A record of a file being made: its own storage. */
typedef struct frec {
	zone_rr_t rr;
	uint8_t owner[DNAME_MAX];
	uint8_t rdata[512];
} frec_t;

static void frec_set(frec_t *f, const zone_rr_t *rr)
{
	memcpy(f->owner, rr->owner, dname_len(rr->owner));
	memcpy(f->rdata, rr->rdata, rr->rdlen);
	f->rr = *rr;
	f->rr.owner = f->owner;
	f->rr.rdata = f->rdata;
}

/* Whether the section it holds rr (identity: not the TTL). */
static bool listed(zone_rr_iter_t it, const zone_rr_t *rr)
{
	zone_rr_t x;
	while (zone_rr_iter_next(&it, &x))
		if (zone_rr_cmp(&x, rr) == 0)
			return true;
	return false;
}

/* The records of the zone file that cs makes of v: v's records but the removed ones, the
 * added ones, the SOA(to); in a random order. Returns the count; *out is the caller's. */
static size_t file_of(const zone_version_t *v, const zone_changeset_t *cs, frec_t **out)
{
	size_t n = 0, cap = zone_version_rr_count(v) + zone_changeset_added_count(cs) + 1;
	frec_t *f = calloc(cap, sizeof(*f));
	assert_non_null(f);
	zone_rr_iter_t rem, add;
	zone_changeset_removed(cs, &rem);
	zone_changeset_added(cs, &add);
	zone_version_iter_t it;
	zone_version_iter_init(v, &it);
	for (const zone_node_t *x; (x = zone_version_iter_next(&it)) != NULL;)
		for (uint16_t k = 0; k < x->rrset_count; k++) {
			zone_rrset_iter_t w;
			zone_rr_t rr;
			zone_rrset_iter_start(&w, x, &x->rrsets[k]);
			while (x->rrsets[k].type != DNS_TYPE_SOA && zone_rrset_iter_next(&w, &rr))
				if (!listed(rem, &rr))
					frec_set(&f[n++], &rr);
		}
	for (zone_rr_t rr; zone_rr_iter_next(&add, &rr);)
		frec_set(&f[n++], &rr);
	zone_rr_t soa;
	assert_true(zone_changeset_soa_to(cs, &soa));
	frec_set(&f[n++], &soa);
	for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
		size_t j = rnd((uint32_t)i);
		frec_t t = f[i - 1];
		f[i - 1] = f[j];
		f[j] = t;
	}
	for (size_t i = 0; i < n; i++) { /* the copies moved: point into them again */
		f[i].rr.owner = f[i].owner;
		f[i].rr.rdata = f[i].rdata;
	}
	*out = f;
	return n;
}

static zone_builder_t *file_builder(const frec_t *f, size_t n, const zone_bindings_t *bindings)
{
	zone_builder_t *b = NULL;
	assert_int_equal(zone_builder_new(t_apex(), bindings, &b), 0);
	for (size_t i = 0; i < n; i++) {
		char where[32];
		snprintf(where, sizeof(where), "f:%zu", i + 1);
		assert_int_equal(zone_builder_add(b, f[i].rr.owner, f[i].rr.type, f[i].rr.rclass,
		                                  f[i].rr.ttl, f[i].rr.rdata, f[i].rr.rdlen, where),
		                 0);
	}
	return b;
}

/* The file cs makes of full, built in full and over ref: the same outcome, the same
 * messages, the same version. Returns 0 when both failed (a rule), 1 when both built and
 * the version over ref was laid out in full, 2 when it shares ref's arena. */
static unsigned check_file_over(const zone_version_t *full, const zone_changeset_t *cs,
                                const zone_version_t *ref, const zone_bindings_t *bindings)
{
	frec_t *f = NULL;
	size_t n = file_of(full, cs, &f);
	zone_version_t *vf = NULL, *vo = NULL;
	logcap_start(&t_cap);
	int rf = zone_builder_finish(file_builder(f, n, bindings), &vf);
	char *said = strdup(t_cap.all);
	logcap_clear(&t_cap);
	int ro = zone_overlay_build(file_builder(f, n, bindings), ref, &vo);
	assert_int_equal(rf, ro);
	assert_string_equal(said, t_cap.all);
	log_set_hook(quiet, NULL);
	free(said);
	free(f);
	unsigned shared = 0;
	if (rf != 0)
		assert_int_equal(rf, SD_ESEMANTIC);
	if (rf == 0) {
		assert_same(vo, vf);
		assert_int_equal(zone_version_rr_count(vo), zone_version_rr_count(vf));
		assert_int_equal(zone_version_node_count(vo), zone_version_node_count(vf));
		shared = 1 + (vo->base != NULL);
	}
	zone_version_unref(vf);
	zone_version_unref(vo);
	return shared;
}

static void run_chain(uint64_t seed, const zone_bindings_t *bindings, unsigned steps)
{
	rng = seed;
	zone_version_t *inc = build_start(bindings), *full = build_start(bindings);
	unsigned ok = 0, shared = 0, failed = 0, files[3] = {0};
	for (unsigned step = 0; step < steps; step++) {
		zone_changeset_t *cs = random_change(full);
		zone_version_t *ni = NULL, *nf = NULL;
		int ri = zone_changeset_apply(inc, cs, bindings, &ni);
		int rf = zone_changeset_apply_full(full, cs, bindings, &nf);
		assert_int_equal(ri, rf);
		files[check_file_over(full, cs, inc, bindings)]++;
		zone_changeset_free(cs);
		if (ri != 0) {
			assert_null(ni);
			assert_null(nf);
			failed++;
			continue;
		}
		assert_null(nf->head.ov);
		assert_same(ni, nf);
		ok++;
		shared += ni->head.ov != NULL;
		/* the old versions go first: the new ones keep what they share alive */
		zone_version_unref(inc);
		zone_version_unref(full);
		inc = ni;
		full = nf;
	}
	/* The sequence exercised both outcomes and mostly the overlay. */
	assert_true(ok >= steps / 4);
	assert_true(failed > 0);
	assert_true(shared * 2 >= ok);
	/* files broke rules too, and most were built over the served version */
	assert_true(files[0] > 0);
	assert_true(files[2] > 4 * files[1]);
	zone_version_unref(inc);
	zone_version_unref(full);
}

static void test_random_plain(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 4; seed++)
		run_chain(seed * 0x9e3779b97f4a7c15ull, NULL, 400);
}

/* With bindings: policy ids on the touched RRsets and several CNAMEs at a steered owner. */
static void test_random_bindings(void **state)
{
	(void)state;
	zone_binding_t list[2] = {{.policy = 3}, {.policy = 7, .flags = ZONE_BINDING_CNAME}};
	assert_true(dname_from_str("a.example.com.", NULL, list[0].owner) > 0);
	assert_true(dname_from_str("cn.example.com.", NULL, list[1].owner) > 0);
	zone_bindings_t *b = NULL;
	assert_int_equal(zone_bindings_new(list, 2, &b), 0);
	for (uint64_t seed = 11; seed <= 13; seed++)
		run_chain(seed * 0x9e3779b97f4a7c15ull, b, 400);
	zone_bindings_unref(b);
}

/* One record added to a name nobody points at: the new version shares the old arena, holds
 * a handful of nodes, and outlives the old one. */
static void test_shares_base(void **state)
{
	(void)state;
	zone_version_t *v = build_start(NULL);
	rng = 42;
	zone_changeset_t *cs = next_change(v, false); /* serial 1 -> 2 */
	wrr_t add;
	wire(&(trr_t){"q.new", DNS_TYPE_A, 0, "192.0.2.7"}, 300, &add);
	assert_int_equal(zone_changeset_add(cs, &add.rr), 0);
	zone_version_t *nv = NULL;
	assert_int_equal(zone_changeset_apply(v, cs, NULL, &nv), 0);
	assert_ptr_equal(nv->base, v);
	assert_non_null(nv->head.ov);
	assert_int_equal(nv->head.ov->base_count, 3); /* apex, new (empty non-terminal), q.new */
	assert_int_equal(zone_version_node_count(nv), zone_version_node_count(v) + 2);
	assert_int_equal(zone_version_rr_count(nv), zone_version_rr_count(v) + 1);
	zone_version_t *ref = NULL;
	assert_int_equal(zone_changeset_apply_full(v, cs, NULL, &ref), 0);
	zone_changeset_free(cs);
	zone_version_unref(v);
	assert_same(nv, ref);
	zone_version_unref(ref);
	zone_version_unref(nv);
}

/* Many new names, a few per commit: the overlay grows to its bound, then the commit compacts
 * into one arena (no base, no overlay) that equals the full build, and the next commits
 * start a new overlay over it. */
static void test_compaction(void **state)
{
	(void)state;
	zone_version_t *inc = build_start(NULL), *full = build_start(NULL);
	unsigned compactions = 0, step = 0;
	for (; compactions < 1 || inc->head.ov == NULL; step++) {
		zone_changeset_t *cs = next_change(inc, false);
		for (unsigned k = 0; k < 4; k++) {
			char owner[32];
			wrr_t w;
			snprintf(owner, sizeof(owner), "n%u.g%u", step * 4 + k, step % 7);
			wire(&(trr_t){owner, DNS_TYPE_TXT, 0, "x"}, 300, &w);
			assert_int_equal(zone_changeset_add(cs, &w.rr), 0);
		}
		zone_version_t *ni = NULL, *nf = NULL;
		assert_int_equal(zone_changeset_apply(inc, cs, NULL, &ni), 0);
		assert_int_equal(zone_changeset_apply_full(full, cs, NULL, &nf), 0);
		zone_changeset_free(cs);
		bool compacted = inc->head.ov != NULL && ni->head.ov == NULL;
		if (compacted) {
			assert_null(ni->base);
			compactions++;
		}
		if (compacted || step % 64 == 0)
			assert_same(ni, nf);
		zone_version_unref(inc);
		zone_version_unref(full);
		inc = ni;
		full = nf;
		assert_true(step < 1000);
	}
	assert_true(step > 200); /* 4 names a commit, a bound of 1024 overlay nodes */
	assert_same(inc, full);
	zone_version_unref(inc);
	zone_version_unref(full);
}

/* A file that adds `add` names to the start's zone, built over it. */
static zone_version_t *over_added(const zone_version_t *ref, unsigned add)
{
	zone_changeset_t *cs = next_change(ref, false);
	for (unsigned k = 0; k < add; k++) {
		char owner[32];
		wrr_t w;
		snprintf(owner, sizeof(owner), "n%u.g%u", k, k % 7);
		wire(&(trr_t){owner, DNS_TYPE_TXT, 0, "x"}, 300, &w);
		assert_int_equal(zone_changeset_add(cs, &w.rr), 0);
	}
	frec_t *f = NULL;
	size_t n = file_of(ref, cs, &f);
	zone_version_t *v = NULL;
	assert_int_equal(zone_overlay_build(file_builder(f, n, NULL), ref, &v), 0);
	zone_version_t *full = NULL;
	assert_int_equal(zone_builder_finish(file_builder(f, n, NULL), &full), 0);
	assert_same(v, full);
	zone_version_unref(full);
	zone_changeset_free(cs);
	free(f);
	return v;
}

/* A file built over the served version shares its arena while the change is within what an
 * overlay holds (zone_overlay_max: 1024 nodes for a small zone), and is laid out in full
 * past it: then an overlay would be compacted at once. */
static void test_file_over_bound(void **state)
{
	(void)state;
	zone_version_t *ref = build_start(NULL);
	zone_version_t *small = over_added(ref, 100), *large = over_added(ref, 1100);
	assert_ptr_equal(small->base, ref);
	assert_null(large->base);
	assert_null(large->head.ov);
	zone_version_unref(small);
	zone_version_unref(large);
	zone_version_unref(ref);
}

int main(void)
{
	log_set_hook(quiet, NULL); /* the failing steps log their errors */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shares_base),     cmocka_unit_test(test_random_plain),
	    cmocka_unit_test(test_random_bindings), cmocka_unit_test(test_compaction),
	    cmocka_unit_test(test_file_over_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
