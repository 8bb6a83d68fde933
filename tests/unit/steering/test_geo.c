/* Unit tests for steering/geo.h and the geo parts of steering/conf.h and policy.h: databases
 * (open errors, records), rule precedence, scopes (IPv4, IPv6, IPv4 in an IPv6 tree, an
 * IPv4-only tree, empty ranges), distance ordering, the compiled map against the uncompiled
 * walk, failover within a geo list, and the config errors.
 *
 * The databases are the .mmdb files in tests/unit/steering/data, written by make-geo-dbs.pl there
 * (checked in; the scopes below are what the Python maxminddb module reports for them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contrib/base/bytes.h"
#include "contrib/base/conf.h"
#include "contrib/base/err.h"
#include "health/health.h"
#include "steering/conf.h"
#include "steering/geo.h"
#include "steering/policy.h"
#include "tests/unit/logcap.h"

#ifndef GEO_DATA
#error "GEO_DATA: the directory of the test databases"
#endif
#define CITY     GEO_DATA "/geo-city.mmdb"
#define COUNTRY4 GEO_DATA "/geo-country4.mmdb"
#define DEEP6    GEO_DATA "/geo-deep6.mmdb"

static logcap_t cap;

static int setup(void **state)
{
	(void)state;
	logcap_start(&cap);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	logcap_stop();
	return 0;
}

static steer_geo_db_t *open_db(const char *path)
{
	steer_geo_db_t *db = NULL;
	char err[512];
	int ret = steer_geo_db_open("world", path, &db, err, sizeof(err));
	if (ret != 0)
		fail_msg("%s: %s", path, err);
	return db;
}

/* ---- the config ---- */

static const char *const HEAD = "health:\n"
                                "  templates:\n"
                                "    - {name: web, type: http, port: 8080}\n"
                                "steering:\n"
                                "  - name: www.example.com\n"
                                "    health: web\n"
                                "    pools:\n"
                                "      - {name: eu, members: [192.0.2.1], location: [50.1, 8.7]}\n"
                                "      - {name: asia, members: [192.0.2.2], location: [35.7, "
                                "139.7]}\n"
                                "      - {name: us, members: [192.0.2.3], location: [37.4, "
                                "-122.1]}\n"
                                "      - {name: x, members: [192.0.2.4]}\n";

/* Parse HEAD + geo (the policy's geo: key, indented 4) with db as database "world". */
static int parse(steer_geo_db_t *db, const char *geo, steer_table_t **out)
{
	static const uint8_t apex[] = "\x07"
	                              "example\x03"
	                              "com";
	const uint8_t *zones[] = {apex};
	char text[8192];
	snprintf(text, sizeof(text), "%s%s", HEAD, geo);
	conf_doc_t *doc = NULL;
	assert_int_equal(conf_load_string(text, "t.yaml", &doc), 0);
	conf_ctx_t ctx = {0};
	health_conf_t *hc = NULL;
	assert_int_equal(health_conf_parse(&ctx, conf_get(conf_root(doc), "health"), ".", &hc), 0);
	steer_geo_db_t *dbs[] = {db};
	steer_conf_env_t env = {.zones = zones, .nzones = 1, .health = hc, .dbs = dbs, .ndbs = 1};
	logcap_clear(&cap);
	int ret = steer_conf_parse(&ctx, conf_get(conf_root(doc), "steering"), &env, out);
	health_conf_free(hc);
	conf_free(doc);
	return ret;
}

/* A policy (and its map over db) from a geo: key. */
static const steer_policy_t *policy(steer_geo_db_t *db, const char *geo, steer_table_t **t,
                                    steer_geo_map_t **m)
{
	if (parse(db, geo, t) != 0)
		fail_msg("config: %s", cap.all);
	const steer_policy_t *p = steer_table_policy(*t, 1);
	assert_non_null(p->geo);
	assert_int_equal(steer_geo_map_build(p, db, m), 0);
	return p;
}

static const char *const RULES = "    geo:\n"
                                 "      database: world\n"
                                 "      rules:\n"
                                 "        - {subdivision: US-CA, pools: [asia, eu]}\n"
                                 "        - {country: US, pools: [us]}\n"
                                 "        - {continent: EU, pools: [eu, us]}\n"
                                 "        - {country: DE, pools: [x, eu]}\n"
                                 "      default: [us, eu, asia]\n";

static steer_addr_t addr(const char *text)
{
	steer_addr_t a;
	assert_int_equal(steer_addr_parse(text, &a), 0);
	return a;
}

/* The pool names of c's list, space-separated. */
static const char *names(const steer_policy_t *p, const steer_geo_list_t *l, char *buf, size_t size)
{
	buf[0] = '\0';
	for (uint8_t i = 0; i < l->n; i++)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? " " : "",
		         p->pools[l->pools[i]].name);
	return buf;
}

static void expect(const steer_policy_t *p, const steer_geo_map_t *m, const char *client,
                   const char *kind, const char *pools, unsigned scope)
{
	steer_addr_t a = addr(client);
	steer_geo_hit_t hit;
	char buf[256];
	steer_geo_decide(m, &a, &hit);
	if (strcmp(steer_geo_kind_name(hit.list->kind), kind) != 0 ||
	    strcmp(names(p, hit.list, buf, sizeof(buf)), pools) != 0 || hit.scope != scope)
		fail_msg("%s: got %s [%s] scope %u, want %s [%s] scope %u", client,
		         steer_geo_kind_name(hit.list->kind), buf, hit.scope, kind, pools, scope);
}

/* Most specific first: subdivision, country, continent, default; scopes are the network's
 * prefix in the client's family (the maxminddb module's prefix lengths). */
static void test_precedence_and_scope(void **state)
{
	(void)state;
	steer_geo_db_t *db = open_db(CITY);
	steer_table_t *t = NULL;
	steer_geo_map_t *m = NULL;
	const steer_policy_t *p = policy(db, RULES, &t, &m);
	expect(p, m, "10.2.0.1", "subdivision", "asia eu", 16); /* US-CA beats US */
	expect(p, m, "10.3.0.1", "country", "us", 16);          /* US-NY: country US */
	expect(p, m, "10.1.3.1", "country", "x eu", 24);        /* DE beats EU */
	expect(p, m, "10.1.2.200", "country", "x eu", 25);
	expect(p, m, "10.1.2.1", "default", "us eu asia", 25); /* JP: no rule */
	expect(p, m, "10.6.0.1", "continent", "eu us", 20);    /* GB: EU */
	expect(p, m, "10.5.0.1", "default", "us eu asia", 16);
	expect(p, m, "10.9.0.1", "default", "us eu asia", 13); /* an empty range */
	expect(p, m, "11.0.0.1", "default", "us eu asia", 8);
	expect(p, m, "2001:db8:1::1", "continent", "eu us", 48); /* FR */
	expect(p, m, "2001:db8:3::1", "default", "us eu asia", 48);
	/* IPv4 in the IPv6 tree: the IPv4 subtree is ::/96, so ::10.1.2.1 is 10.1.2.1 */
	expect(p, m, "::10.1.3.1", "country", "x eu", 120);
	steer_geo_hit_t h4, h6;
	steer_addr_t a4 = addr("10.1.3.1"), a6 = addr("::10.1.3.1");
	steer_geo_decide(m, &a4, &h4);
	steer_geo_decide(m, &a6, &h6);
	assert_ptr_equal(h4.list, h6.list);
	assert_int_equal(h4.netmask, 120);
	assert_int_equal(h4.scope, 24);
	assert_int_equal(h4.rec, h6.rec);
	assert_string_equal(db->recs[h4.rec].subdiv, "DE-HE");
	assert_true(db->recs[h4.rec].located);
	steer_geo_map_unref(m);
	steer_table_unref(t);
	steer_geo_db_unref(db);
}

/* An IPv4-only tree: IPv4 clients as written, IPv6 clients get the default with scope 0. */
static void test_ipv4_tree(void **state)
{
	(void)state;
	steer_geo_db_t *db = open_db(COUNTRY4);
	steer_table_t *t = NULL;
	steer_geo_map_t *m = NULL;
	const steer_policy_t *p = policy(db, RULES, &t, &m);
	assert_false(db->ipv6);
	expect(p, m, "10.2.3.4", "country", "us", 16);
	expect(p, m, "10.1.3.1", "country", "x eu", 16);
	expect(p, m, "2001:db8:1::1", "default", "us eu asia", 0);
	steer_geo_map_unref(m);
	steer_table_unref(t);
	steer_geo_db_unref(db);
}

/* distance: true orders the located pools by great-circle distance for clients no rule
 * matches that have a location; a record without one gets the default. */
static void test_distance(void **state)
{
	(void)state;
	steer_geo_db_t *db = open_db(CITY);
	steer_table_t *t = NULL;
	steer_geo_map_t *m = NULL;
	const steer_policy_t *p = policy(db,
	                                 "    geo:\n"
	                                 "      database: world\n"
	                                 "      distance: true\n"
	                                 "      rules: [{country: US, pools: [us]}]\n"
	                                 "      default: [x]\n",
	                                 &t, &m);
	expect(p, m, "10.4.0.1", "distance", "asia us eu", 16); /* Sydney */
	expect(p, m, "10.6.0.1", "distance", "eu us asia", 20); /* London */
	expect(p, m, "10.1.2.1", "distance", "asia us eu", 25); /* Tokyo */
	expect(p, m, "10.2.0.1", "country", "us", 16);          /* a rule first */
	expect(p, m, "10.5.0.1", "default", "x", 16);           /* no location */
	expect(p, m, "2001:db8:2::1", "default", "x", 48);      /* no location */
	assert_true(steer_geo_distance_km(50.1, 8.7, 35.7, 139.7) > 9000);
	assert_true(steer_geo_distance_km(50.1, 8.7, 35.7, 139.7) < 9600);
	steer_geo_map_unref(m);
	steer_table_unref(t);
	steer_geo_db_unref(db);
}

/* The compiled map answers exactly what the uncompiled walk (MMDB_get_value per query)
 * does, over a sweep of addresses around every network of the database. */
static void compiled_equals_walk(const char *path)
{
	steer_geo_db_t *db = open_db(path);
	steer_table_t *t = NULL;
	steer_geo_map_t *m = NULL;
	const steer_policy_t *p = policy(db,
	                                 "    geo:\n"
	                                 "      database: world\n"
	                                 "      distance: true\n"
	                                 "      rules:\n"
	                                 "        - {subdivision: US-CA, pools: [asia]}\n"
	                                 "        - {continent: NA, pools: [us]}\n"
	                                 "        - {country: FR, pools: [eu, x]}\n"
	                                 "      default: [x]\n",
	                                 &t, &m);
	unsigned checked = 0;
	for (unsigned b1 = 0; b1 < 12; b1++)
		for (unsigned b2 = 0; b2 < 8; b2++)
			for (unsigned b3 = 0; b3 < 256; b3 += 7) {
				steer_addr_t a = {
				    .len = 4,
				    .bytes = {10, (uint8_t)b1, (uint8_t)b2, (uint8_t)(b3 ^ b1)}};
				if (b1 == 11)
					a = (steer_addr_t){.len = 16,
					                   .bytes = {0x20, 0x01, 0x0d, 0xb8, 0,
					                             (uint8_t)b2, (uint8_t)b3}};
				steer_geo_hit_t c, w;
				steer_geo_list_t scratch;
				steer_geo_decide(m, &a, &c);
				steer_geo_decide_walk(m, p, &a, &scratch, &w);
				assert_int_equal(c.rec, w.rec);
				assert_int_equal(c.scope, w.scope);
				assert_int_equal(c.list->kind, w.list->kind);
				assert_int_equal(c.list->n, w.list->n);
				assert_memory_equal(c.list->pools, w.list->pools, c.list->n);
				checked++;
			}
	assert_true(checked > 3000);
	/* and anywhere: random addresses of both families (the jump table's first 16 bits
	 * and the empty parts of the tree), the network's prefix length too */
	uint64_t x = 0x9e3779b97f4a7c15u;
	for (unsigned k = 0; k < 20000; k++) {
		steer_addr_t a = {.len = k % 3 == 2 ? 16 : 4};
		for (unsigned j = 0; j < a.len; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			a.bytes[j] = (uint8_t)x;
		}
		if (k % 5 == 0) /* near the networks: 10.0-7.x.x, 2001:db8:0-3:: */
			memcpy(a.bytes,
			       a.len == 4 ? (const uint8_t[]){10, (uint8_t)(k % 8)}
			                  : (const uint8_t[]){0x20, 0x01},
			       2);
		if (k % 5 == 0 && a.len == 16)
			memcpy(a.bytes + 2, (const uint8_t[]){0x0d, 0xb8, 0, (uint8_t)(k % 4)}, 4);
		steer_geo_hit_t c, w;
		steer_geo_list_t scratch;
		steer_geo_decide(m, &a, &c);
		steer_geo_decide_walk(m, p, &a, &scratch, &w);
		assert_int_equal(c.rec, w.rec); /* the record libmaxminddb's walk found */
		assert_int_equal(c.netmask, w.netmask);
		assert_int_equal(c.scope, w.scope);
		assert_int_equal(c.list->n, w.list->n);
		assert_memory_equal(c.list->pools, w.list->pools, c.list->n);
	}
	steer_geo_map_unref(m);
	steer_table_unref(t);
	steer_geo_db_unref(db);
}

/* ... with 28-bit records in an IPv6 tree and 32-bit ones in an IPv4 tree (24-bit ones:
 * tests/system/test_geo_smoke.py's database) */
static void test_compiled_equals_walk(void **state)
{
	(void)state;
	compiled_equals_walk(CITY);
	compiled_equals_walk(COUNTRY4);
}

/* Policies steered alike share a map: same database, rules, default, distance (and pool
 * locations when distance is on). */
static void test_same_map(void **state)
{
	(void)state;
	steer_geo_db_t *db = open_db(CITY);
	steer_table_t *t = NULL;
	assert_int_equal(parse(db, RULES, &t), 0);
	const steer_policy_t *p = steer_table_policy(t, 1);
	steer_policy_t q = *p;
	steer_geo_conf_t g = *p->geo;
	steer_geo_rule_t rules[8];
	steer_pool_t pools[8];
	memcpy(rules, g.rules, g.nrules * sizeof(*rules));
	memcpy(pools, p->pools, p->npools * sizeof(*pools));
	g.rules = rules;
	q.geo = &g;
	q.pools = pools;
	g.ecs = !g.ecs; /* not part of the map */
	assert_true(steer_geo_same_map(p, &q));
	rules[1].pools[0] = 0;
	assert_false(steer_geo_same_map(p, &q));
	rules[1] = p->geo->rules[1];
	memcpy(rules[2].code, "AS", 3);
	assert_false(steer_geo_same_map(p, &q));
	rules[2] = p->geo->rules[2];
	g.def.npools--;
	assert_false(steer_geo_same_map(p, &q));
	g.def = p->geo->def;
	g.nrules--;
	assert_false(steer_geo_same_map(p, &q));
	g.nrules++;
	pools[0].lat = 10; /* locations matter only with distance */
	assert_true(steer_geo_same_map(p, &q));
	p->geo->distance = g.distance = true;
	assert_false(steer_geo_same_map(p, &q));
	pools[0].lat = p->pools[0].lat;
	assert_true(steer_geo_same_map(p, &q));
	steer_table_unref(t);
	steer_geo_db_unref(db);
}

/* The jump entry of an IPv6 address (its first STEER_GEO_JUMP_BITS bits) has
 * STEER_GEO_JUMP_DEEP. */
static bool jump_deep6(const steer_geo_db_t *db, const char *text)
{
	steer_addr_t a = addr(text);
	uint32_t x = be32_get(a.bytes) >> (32 - STEER_GEO_JUMP_BITS);
	return (db->jump_bits[1][x] & STEER_GEO_JUMP_DEEP) != 0;
}

/* The IPv6 walk in one 64-bit word (no path below the jump entry longer than 63 bits) and in
 * two (STEER_GEO_JUMP_DEEP) find what libmaxminddb's walk finds: the record, the prefix
 * length and the scope, for addresses around networks that end on both sides of the 64th
 * bit (geo-deep6.mmdb), the gaps beside them and the IPv4 space aliased into the IPv6 tree
 * (::ffff:0:0/96, 2001::/32, 2002::/16), each cut to a random prefix as an ECS address is. */
static void test_walk_deep6(void **state)
{
	(void)state;
	steer_geo_db_t *db = open_db(DEEP6);
	steer_table_t *t = NULL;
	steer_geo_map_t *m = NULL;
	const steer_policy_t *p = policy(db, RULES, &t, &m);
	/* the flag where a path goes past the 63rd bit (a /64 or longer below), not elsewhere */
	assert_true(jump_deep6(db, "2001:db8:1::"));
	assert_true(jump_deep6(db, "2a02::"));
	assert_true(jump_deep6(db, "2a03::"));
	assert_true(jump_deep6(db, "::ffff:10.1.0.0")); /* 96 bits, then IPv4's */
	assert_true(jump_deep6(db, "2001::"));  /* Teredo, aliased to IPv4: 2001:db8's entry */
	assert_false(jump_deep6(db, "2a01::")); /* a /63 and a /61 */
	assert_false(jump_deep6(db, "2002::")); /* 6to4: 16 bits, then IPv4's (25) */
	assert_false(jump_deep6(db, "fe80::"));
	static const char *const near[] = {"2001:db8:1::",
	                                   "2001:db8:1:2::",
	                                   "2001:db8:1:2:8000::",
	                                   "2001:db8:1:2:3:4::",
	                                   "2001:db8:1:2:3:4:5:6",
	                                   "2001:db8:1:4::",
	                                   "2a01:0:0:2::",
	                                   "2a01:0:0:8::",
	                                   "2a02:0:0:1::",
	                                   "2a03:0:0:1:2:3:4:6",
	                                   "2a03:0:0:1:2:3:4:0",
	                                   "fe80::",
	                                   "::ffff:10.1.2.128",
	                                   "2001:0:a01:280::",
	                                   "2002:a01:280::",
	                                   "10.1.2.128",
	                                   "10.1.0.0",
	                                   "2001:db8:2::"};
	uint64_t x = 0x9e3779b97f4a7c15u;
	unsigned deep = 0, shallow = 0;
	for (unsigned k = 0; k < 200000; k++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		steer_addr_t a = addr(near[x % SD_ARRAY_LEN(near)]);
		unsigned nbits = a.len * 8u, from = (unsigned)(x >> 8) % (nbits + 1);
		unsigned keep = (unsigned)(x >> 16) % (nbits + 1); /* the ECS source prefix */
		uint64_t y = x * 0x2545f4914f6cdd1du;
		for (unsigned b = from; b < nbits; b++) { /* random bits from `from` on */
			uint8_t bit = (uint8_t)(0x80 >> (b % 8));
			a.bytes[b / 8] =
			    (uint8_t)((a.bytes[b / 8] & ~bit) | ((y >> (b % 61)) & 1 ? bit : 0));
			if (b % 61 == 60)
				y = y * 0x2545f4914f6cdd1du + 1;
		}
		for (unsigned b = keep; b < nbits && k % 2; b++) /* half of them cut */
			a.bytes[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
		steer_geo_hit_t c, w;
		steer_geo_list_t scratch;
		steer_geo_decide(m, &a, &c);
		steer_geo_decide_walk(m, p, &a, &scratch, &w);
		if (c.rec != w.rec || c.netmask != w.netmask || c.scope != w.scope ||
		    c.list->n != w.list->n ||
		    memcmp(c.list->pools, w.list->pools, c.list->n) != 0) {
			char buf[INET6_ADDRSTRLEN];
			fail_msg("%s: rec %d /%u scope %u, libmaxminddb rec %d /%u scope %u",
			         steer_addr_str(&a, buf, sizeof(buf)), c.rec, c.netmask, c.scope,
			         w.rec, w.netmask, w.scope);
		}
		if (a.len == 16) {
			uint32_t j = be32_get(a.bytes) >> (32 - STEER_GEO_JUMP_BITS);
			if (db->jump_bits[1][j] & STEER_GEO_JUMP_DEEP)
				deep += w.netmask > 63;
			else
				shallow += w.netmask > 40;
		}
	}
	assert_true(deep > 1000);    /* found past the 63rd bit, by the deep walk */
	assert_true(shallow > 1000); /* and below the jump, by the one-word walk */
	steer_geo_map_unref(m);
	steer_table_unref(t);
	steer_geo_db_unref(db);
}

/* Lists of different rules that order the same pools share one order (steering/memo.h keys
 * plans by it); lists that differ in a pool, its place or their length do not. */
static void test_shared_order(void **state)
{
	(void)state;
	steer_geo_db_t *db = open_db(CITY);
	steer_table_t *t = NULL;
	steer_geo_map_t *m = NULL;
	const steer_policy_t *p = policy(db,
	                                 "    geo:\n"
	                                 "      database: world\n"
	                                 "      rules:\n"
	                                 "        - {country: US, pools: [us, eu]}\n"
	                                 "        - {country: GB, pools: [eu, us]}\n"
	                                 "        - {continent: EU, pools: [eu, us]}\n"
	                                 "        - {continent: AS, pools: [us, eu, asia]}\n"
	                                 "      default: [us, eu]\n",
	                                 &t, &m);
	(void)p;
	unsigned shared = 0;
	for (size_t i = 0; i < m->nlists; i++) {
		const steer_geo_list_t *a = &m->lists[i];
		assert_non_null(a->order);
		assert_memory_equal(a->order, a->pools, a->n);
		for (size_t j = 0; j < m->nlists; j++) {
			const steer_geo_list_t *b = &m->lists[j];
			bool same = a->n == b->n && memcmp(a->pools, b->pools, a->n) == 0;
			assert_int_equal(same, a->order == b->order);
			shared += same && i != j;
		}
	}
	assert_true(m->nlists >= 4);
	assert_true(shared >= 2); /* default and US; EU and GB, when the database has them */
	steer_geo_map_unref(m);
	steer_table_unref(t);
	steer_geo_db_unref(db);
}

/* Failover walks only the listed pools, in the list's order; none up: all-down. */
static void test_failover_in_list(void **state)
{
	(void)state;
	steer_pool_t pools[4];
	for (size_t i = 0; i < 4; i++)
		pools[i] = (steer_pool_t){.weight = 1, .min_healthy = 1};
	pools[3].implicit = true;
	steer_policy_t p = {.id = 1,
	                    .pools = pools,
	                    .npools = 4,
	                    .answers = 1,
	                    .ttl_min = 10,
	                    .ttl_max = 300,
	                    .all_down = STEER_DOWN_SERVFAIL};
	const uint32_t UP = 0, DOWN = HEALTH_STATE_DOWN;
	steer_cand_t c[4] = {{.health = UP, .weight = 1, .pool = 0},
	                     {.health = UP, .weight = 1, .pool = 1},
	                     {.health = DOWN, .weight = 1, .pool = 2},
	                     {.health = UP, .weight = 1, .pool = 3}};
	steer_rng_t rng;
	steer_rng_seed(&rng, 7);
	uint8_t idx[4];
	steer_result_t r;
	const uint8_t list[] = {2, 1, 0};
	steer_decide_list(&p, list, 3, c, 4, 60, &rng, idx, &r);
	assert_int_equal(r.outcome, STEER_ANSWER);
	assert_int_equal(r.pool, 1); /* 2 is down: the list's next */
	assert_int_equal(r.rank, 1);
	assert_int_equal(idx[0], 1);
	const uint8_t only_down[] = {2};
	steer_decide_list(&p, only_down, 1, c, 4, 60, &rng, idx, &r);
	assert_int_equal(r.outcome, STEER_SERVFAIL); /* pools 0, 1 and other are not listed */
	c[2].health = UP;
	steer_decide_list(&p, list, 3, c, 4, 60, &rng, idx, &r);
	assert_int_equal(r.pool, 2);
	assert_int_equal(r.rank, 0);
	assert_int_equal(idx[0], 2);
	/* min-healthy: a listed pool short of it is passed over for the next qualifying one,
	 * and used when none qualifies but it has a member up */
	pools[2].min_healthy = 2;
	steer_decide_list(&p, list, 3, c, 4, 60, &rng, idx, &r);
	assert_int_equal(r.pool, 1);
	const uint8_t alone[] = {2};
	steer_decide_list(&p, alone, 1, c, 4, 60, &rng, idx, &r);
	assert_int_equal(r.outcome, STEER_ANSWER);
	assert_int_equal(r.pool, 2);
	/* no list: every pool in order, as steer_decide */
	steer_decide_list(&p, NULL, 0, c, 4, 60, &rng, idx, &r);
	assert_int_equal(r.pool, 0);
}

static void test_conf_valid(void **state)
{
	(void)state;
	steer_geo_db_t *db = open_db(CITY);
	steer_table_t *t = NULL;
	assert_int_equal(parse(db,
	                       "    geo:\n"
	                       "      database: world\n"
	                       "      ecs: false\n"
	                       "      rules: [{continent: EU, pools: [eu]}, {subdivision: US-CA, "
	                       "pools: [us, asia]}]\n"
	                       "      default: us\n",
	                       &t),
	                 0);
	const steer_policy_t *p = steer_table_policy(t, 1);
	assert_false(p->geo->ecs);
	assert_false(p->geo->distance);
	assert_int_equal(p->geo->nrules, 2);
	assert_int_equal(p->geo->rules[1].kind, STEER_GEO_SUBDIVISION);
	assert_string_equal(p->geo->rules[1].code, "US-CA");
	assert_int_equal(p->geo->rules[1].npools, 2);
	assert_int_equal(p->geo->rules[1].pools[1], 1);
	assert_int_equal(p->geo->def.npools, 1);
	assert_int_equal(p->geo->def.pools[0], 2);
	assert_true(p->pools[1].located);
	assert_true(p->pools[1].lon > 139.6 && p->pools[1].lon < 139.8);
	assert_false(p->pools[3].located);
	assert_int_equal(t->ndbs, 1);
	steer_table_unref(t);
	steer_geo_db_unref(db);
}

static void expect_error(steer_geo_db_t *db, const char *geo, const char *needle)
{
	steer_table_t *t = NULL;
	assert_int_equal(parse(db, geo, &t), SD_ECONFIG);
	assert_null(t);
	if (!strstr(cap.all, needle) || !strstr(cap.all, "t.yaml:"))
		fail_msg("expected '%s' with file:line, got:\n%s", needle, cap.all);
}

static void test_conf_errors(void **state)
{
	(void)state;
	steer_geo_db_t *db = open_db(CITY);
	expect_error(db, "    geo: {database: nope, default: [us]}\n", "unknown database 'nope'");
	expect_error(db, "    geo: {default: [us]}\n", "missing key 'database'");
	expect_error(db, "    geo: {database: world}\n", "missing key 'default'");
	expect_error(db, "    geo: {database: world, default: [us, mars]}\n",
	             "unknown pool 'mars'");
	expect_error(db, "    geo: {database: world, default: [other]}\n", "unknown pool 'other'");
	expect_error(db, "    geo: {database: world, default: [us, us]}\n", "listed twice");
	expect_error(db, "    geo: {database: world, default: []}\n", "at least one pool");
	expect_error(db,
	             "    geo:\n"
	             "      database: world\n"
	             "      default: [us]\n"
	             "      rules: [{country: JP, pools: [asia]}, {country: JP, pools: [us]}]\n",
	             "a rule for country JP exists already");
	expect_error(db,
	             "    geo: {database: world, default: [us], rules: [{country: USA, pools: "
	             "[us]}]}\n",
	             "'USA' is not a country code");
	expect_error(db,
	             "    geo: {database: world, default: [us], rules: [{continent: XX, pools: "
	             "[us]}]}\n",
	             "'XX' is not a continent code");
	expect_error(db,
	             "    geo: {database: world, default: [us], rules: [{subdivision: US_CA, "
	             "pools: [us]}]}\n",
	             "'US_CA' is not a subdivision code");
	expect_error(db,
	             "    geo: {database: world, default: [us], rules: [{country: jp, pools: "
	             "[us]}]}\n",
	             "'jp' is not a country code");
	expect_error(db,
	             "    geo: {database: world, default: [us], rules: [{country: JP, continent: "
	             "AS, pools: [us]}]}\n",
	             "one of continent, country or subdivision");
	expect_error(db, "    geo: {database: world, default: [us], rules: [{country: JP}]}\n",
	             "missing key 'pools'");
	expect_error(db, "    geo: {database: world, default: [us], color: red}\n", "color");
	steer_geo_db_unref(db);
}

/* distance without any located pool; a bad location. */
static void test_conf_location_errors(void **state)
{
	(void)state;
	steer_geo_db_t *db = open_db(CITY);
	static const uint8_t apex[] = "\x07"
	                              "example\x03"
	                              "com";
	const uint8_t *zones[] = {apex};
	const char *cases[][2] = {
	    {"      - {name: a, members: [192.0.2.1]}\n"
	     "    geo: {database: world, default: [a], distance: true}\n",
	     "needs a pool with a location"},
	    {"      - {name: a, members: [192.0.2.1], location: [91, 0]}\n", "[-90, 90]"},
	    {"      - {name: a, members: [192.0.2.1], location: [10, east]}\n", "[-180, 180]"},
	    {"      - {name: a, members: [192.0.2.1], location: [10]}\n", "[latitude, longitude]"},
	};
	for (size_t i = 0; i < SD_ARRAY_LEN(cases); i++) {
		char text[2048];
		snprintf(text, sizeof(text),
		         "health:\n  templates: [{name: web, type: http, port: 8080}]\n"
		         "steering:\n  - name: www.example.com\n    health: web\n    pools:\n%s",
		         cases[i][0]);
		conf_doc_t *doc = NULL;
		assert_int_equal(conf_load_string(text, "t.yaml", &doc), 0);
		conf_ctx_t ctx = {0};
		health_conf_t *hc = NULL;
		assert_int_equal(
		    health_conf_parse(&ctx, conf_get(conf_root(doc), "health"), ".", &hc), 0);
		steer_geo_db_t *dbs[] = {db};
		steer_conf_env_t env = {
		    .zones = zones, .nzones = 1, .health = hc, .dbs = dbs, .ndbs = 1};
		steer_table_t *t = NULL;
		logcap_clear(&cap);
		assert_int_equal(
		    steer_conf_parse(&ctx, conf_get(conf_root(doc), "steering"), &env, &t),
		    SD_ECONFIG);
		if (!strstr(cap.all, cases[i][1]))
			fail_msg("expected '%s', got:\n%s", cases[i][1], cap.all);
		health_conf_free(hc);
		conf_free(doc);
	}
	steer_geo_db_unref(db);
}

/* The geoip: section: databases opened relative to the config's directory; a missing or
 * corrupt file is an error naming the path; names are unique. */
static void test_geoip_section(void **state)
{
	(void)state;
	char dir[] = "/tmp/steer-geo-XXXXXX", path[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bad.mmdb", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a database, not at all, nothing like one", f);
	fclose(f);
	char fifo[256];
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0); /* no writer: an open() would block */
	const struct {
		const char *text;
		const char *dir;
		int ret;
		const char *needle;
	} cases[] = {
	    {"geoip: {databases: [{name: w, file: geo-city.mmdb}]}\n", GEO_DATA, 0, NULL},
	    {"geoip: {databases: [{name: w, file: " CITY "}]}\n", dir, 0, NULL},
	    {"geoip: {databases: [{name: w, file: missing.mmdb}]}\n", GEO_DATA, SD_ECONFIG,
	     GEO_DATA "/missing.mmdb: No such file"},
	    {"geoip: {databases: [{name: w, file: bad.mmdb}]}\n", dir, SD_ECONFIG, "bad.mmdb: "},
	    {"geoip: {databases: [{name: w, file: geo-city.mmdb}, {name: w, file: "
	     "geo-country4.mmdb}]}\n",
	     GEO_DATA, SD_ECONFIG, "database 'w' appears twice"},
	    {"geoip: {databases: [{file: geo-city.mmdb}]}\n", GEO_DATA, SD_ECONFIG,
	     "missing key 'name'"},
	    {"geoip: {databases: [{name: w, file: /dev/null}]}\n", GEO_DATA, SD_ECONFIG,
	     "/dev/null: "},
	    {"geoip: {databases: [{name: w, file: fifo}]}\n", dir, SD_ECONFIG, "fifo: "},
	};
	for (size_t i = 0; i < SD_ARRAY_LEN(cases); i++) {
		conf_doc_t *doc = NULL;
		assert_int_equal(conf_load_string(cases[i].text, "t.yaml", &doc), 0);
		conf_ctx_t ctx = {0};
		steer_conf_geo_t g;
		logcap_clear(&cap);
		int ret =
		    steer_conf_geoip(&ctx, conf_get(conf_root(doc), "geoip"), cases[i].dir, &g);
		if (ret != cases[i].ret || (cases[i].needle && !strstr(cap.all, cases[i].needle)))
			fail_msg("case %zu: %d, want %d '%s'; log:\n%s", i, ret, cases[i].ret,
			         cases[i].needle ? cases[i].needle : "", cap.all);
		if (ret == 0) {
			assert_int_equal(g.ndbs, 1);
			assert_true(g.dbs[0]->nrecs >= 8);
			assert_false(steer_geo_db_changed(g.dbs[0]));
		}
		steer_conf_geo_fini(&g);
		conf_free(doc);
	}
	unlink(path);
	unlink(fifo);
	rmdir(dir);
}

/* A search tree with a path longer than its addresses is refused when opened (the walk of
 * the query path counts on none: geo.h, steer_geo_walk): geo-country4.mmdb (an IPv4 tree
 * of 32-bit records) with its root's left record pointing back at the root, a cycle. The
 * file as written opens. */
static void test_db_deeper_than_addresses(void **state)
{
	(void)state;
	char path[] = "/tmp/steer-geo-deep-XXXXXX", err[512];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *in = fopen(COUNTRY4, "rb");
	assert_non_null(in);
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	assert_true(n > 8 && n < sizeof(buf));
	steer_geo_db_t *db = NULL;
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	assert_int_equal(steer_geo_db_open("world", path, &db, err, sizeof(err)), 0);
	steer_geo_db_unref(db);
	db = NULL;
	memset(buf, 0, 4); /* node 0, left record (32 bits, big endian): node 0 */
	assert_int_equal(pwrite(fd, buf, n, 0), (ssize_t)n);
	close(fd);
	assert_int_equal(steer_geo_db_open("world", path, &db, err, sizeof(err)), -EIO);
	assert_null(db);
	assert_non_null(strstr(err, "corrupt search tree (a path longer than 32 bits)"));
	unlink(path);
}

/* A replaced file is noticed (another inode); a missing one is not a change. */
static void test_db_changed(void **state)
{
	(void)state;
	char dir[] = "/tmp/steer-geo-XXXXXX", path[256], tmp[300], cmd[1024];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/w.mmdb", dir);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	snprintf(cmd, sizeof(cmd), "cp %s %s", CITY, path);
	assert_int_equal(system(cmd), 0);
	steer_geo_db_t *db = open_db(path);
	assert_false(steer_geo_db_changed(db));
	snprintf(cmd, sizeof(cmd), "cp %s %s", COUNTRY4, tmp);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(rename(tmp, path), 0);
	assert_true(steer_geo_db_changed(db));
	unlink(path);
	assert_false(steer_geo_db_changed(db));
	steer_geo_db_unref(db);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_precedence_and_scope),
	    cmocka_unit_test(test_ipv4_tree),
	    cmocka_unit_test(test_distance),
	    cmocka_unit_test(test_compiled_equals_walk),
	    cmocka_unit_test(test_walk_deep6),
	    cmocka_unit_test(test_failover_in_list),
	    cmocka_unit_test(test_same_map),
	    cmocka_unit_test(test_shared_order),
	    cmocka_unit_test(test_conf_valid),
	    cmocka_unit_test(test_conf_errors),
	    cmocka_unit_test(test_conf_location_errors),
	    cmocka_unit_test(test_geoip_section),
	    cmocka_unit_test(test_db_changed),
	    cmocka_unit_test(test_db_deeper_than_addresses),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
