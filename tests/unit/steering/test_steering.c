/* Unit tests for steering/: the decision (weighted shares, drains, failover thresholds,
 * all-down modes, TTL), address classification, the candidate map and the config section. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "contrib/base/conf.h"
#include "contrib/base/err.h"
#include "health/health.h"
#include "steering/conf.h"
#include "steering/policy.h"
#include "steering/snap.h"
#include "tests/unit/logcap.h"

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

/* ---- a policy made by hand ---- */

static steer_pool_t g_pools[3];

static steer_policy_t make_policy(size_t npools, uint16_t answers)
{
	memset(g_pools, 0, sizeof(g_pools));
	for (size_t i = 0; i < npools; i++)
		g_pools[i] = (steer_pool_t){.weight = 1, .min_healthy = 1};
	g_pools[npools - 1].implicit = true;
	return (steer_policy_t){.id = 1,
	                        .pools = g_pools,
	                        .npools = npools,
	                        .answers = answers,
	                        .ttl_min = 10,
	                        .ttl_max = 300};
}

static const uint32_t UP = 0, DOWN = HEALTH_STATE_DOWN;

/* Pearson's chi-square of observed counts against weights over draws (cells with weight 0
 * are left out; they must be empty). */
static double chi_square(const unsigned *obs, const uint32_t *w, size_t k, unsigned draws)
{
	double total = 0, chi = 0;
	for (size_t i = 0; i < k; i++)
		total += w[i];
	for (size_t i = 0; i < k; i++) {
		if (w[i] == 0)
			continue;
		double e = draws * (w[i] / total);
		chi += (obs[i] - e) * (obs[i] - e) / e;
	}
	return chi;
}

/* 20,000 single answers from six members weighted 1, 2, 3, 4, 0 and 10: the shares follow
 * the weights and the drained member never comes up. 5 degrees of freedom are left (the
 * weight-0 cell is out): P(chi2_4 > 34.0) = e^-17 (1 + 17) = 7.5e-7, so this fails by
 * chance less than once in a million runs. */
static void test_weighted_shares(void **state)
{
	(void)state;
	steer_policy_t p = make_policy(1, 1);
	const uint32_t w[] = {1, 2, 3, 4, 0, 10};
	steer_cand_t c[6];
	for (size_t i = 0; i < 6; i++)
		c[i] = (steer_cand_t){.health = UP, .weight = w[i], .pool = 0};
	steer_rng_t rng;
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	steer_rng_seed(&rng, seed);
	unsigned obs[6] = {0};
	for (unsigned d = 0; d < 20000; d++) {
		uint8_t idx[STEER_CAND_MAX];
		steer_result_t r;
		steer_decide(&p, c, 6, 60, &rng, idx, &r);
		assert_int_equal(r.outcome, STEER_ANSWER);
		assert_int_equal(r.n, 1);
		obs[idx[0]]++;
	}
	assert_int_equal(obs[4], 0);
	double chi = chi_square(obs, w, 6, 20000);
	print_message("chi-square %.2f (df 4, bound 34.0, seed %llu)\n", chi,
	              (unsigned long long)seed);
	assert_true(chi < 34.0);
}

/* A biased source must fail the same bound: the test can fail. */
static void test_chi_square_detects_bias(void **state)
{
	(void)state;
	const uint32_t w[] = {1, 1, 1, 1, 1};
	const unsigned obs[] = {4400, 4000, 4000, 4000, 3600};
	assert_true(chi_square(obs, w, 5, 20000) > 34.0);
}

/* answers: 3 of 5 without replacement: distinct records, never the drained or down one. */
static void test_weighted_without_replacement(void **state)
{
	(void)state;
	steer_policy_t p = make_policy(1, 3);
	steer_cand_t c[5];
	for (size_t i = 0; i < 5; i++)
		c[i] = (steer_cand_t){.health = UP, .weight = 5, .pool = 0};
	c[1].weight = 0;
	c[3].health = DOWN;
	steer_rng_t rng;
	steer_rng_seed(&rng, 7);
	for (int d = 0; d < 2000; d++) {
		uint8_t idx[STEER_CAND_MAX];
		steer_result_t r;
		steer_decide(&p, c, 5, 60, &rng, idx, &r);
		assert_int_equal(r.n, 3);
		unsigned seen = 0;
		for (int k = 0; k < 3; k++) {
			assert_true(idx[k] != 1 && idx[k] != 3);
			assert_false(seen & (1u << idx[k]));
			seen |= 1u << idx[k];
		}
	}
	/* fewer eligible than answers: all of them */
	c[0].health = DOWN;
	uint8_t idx[STEER_CAND_MAX];
	steer_result_t r;
	steer_decide(&p, c, 5, 60, &rng, idx, &r);
	assert_int_equal(r.n, 2);
}

static void set_pools(steer_cand_t *c, const uint8_t *pool, const uint32_t *health, size_t n)
{
	for (size_t i = 0; i < n; i++)
		c[i] = (steer_cand_t){.health = health[i], .weight = 1, .pool = pool[i]};
}

static steer_result_t decide(const steer_policy_t *p, const steer_cand_t *c, size_t n, uint8_t *idx)
{
	steer_rng_t rng;
	steer_rng_seed(&rng, 99);
	steer_result_t r;
	steer_decide(p, c, n, 3600, &rng, idx, &r);
	return r;
}

/* primary (3 members, min-healthy 2) then backup (2, min 1) then "other". */
static void test_failover_thresholds(void **state)
{
	(void)state;
	steer_policy_t p = make_policy(3, 1);
	g_pools[0].min_healthy = 2;
	const uint8_t pool[] = {0, 0, 0, 1, 1};
	steer_cand_t c[5];
	uint8_t idx[STEER_CAND_MAX];

	set_pools(c, pool, (const uint32_t[]){UP, UP, UP, UP, UP}, 5);
	steer_result_t r = decide(&p, c, 5, idx);
	assert_int_equal(r.pool, 0);
	assert_false(r.degraded);

	set_pools(c, pool, (const uint32_t[]){DOWN, UP, UP, UP, UP}, 5);
	r = decide(&p, c, 5, idx);
	assert_int_equal(r.pool, 0); /* 2 of 3 up: still primary */
	assert_true(idx[0] == 1 || idx[0] == 2);
	assert_true(r.degraded);

	set_pools(c, pool, (const uint32_t[]){DOWN, DOWN, UP, UP, UP}, 5);
	r = decide(&p, c, 5, idx);
	assert_int_equal(r.pool, 1); /* below min-healthy: backup */
	assert_true(idx[0] == 3 || idx[0] == 4);

	/* backup all down: the degraded primary beats all-down */
	set_pools(c, pool, (const uint32_t[]){DOWN, DOWN, UP, DOWN, DOWN}, 5);
	r = decide(&p, c, 5, idx);
	assert_int_equal(r.outcome, STEER_ANSWER);
	assert_int_equal(r.pool, 0);
	assert_int_equal(idx[0], 2);

	/* percentages: 50% of 3 members needs 2 */
	g_pools[0].min_healthy = 50;
	g_pools[0].min_pct = true;
	set_pools(c, pool, (const uint32_t[]){DOWN, UP, UP, UP, UP}, 5);
	assert_int_equal(decide(&p, c, 5, idx).pool, 0);
	set_pools(c, pool, (const uint32_t[]){DOWN, DOWN, UP, UP, UP}, 5);
	assert_int_equal(decide(&p, c, 5, idx).pool, 1);

	/* a drained primary member neither counts nor is chosen */
	g_pools[0].min_pct = false;
	g_pools[0].min_healthy = 2;
	set_pools(c, pool, (const uint32_t[]){UP, UP, DOWN, UP, UP}, 5);
	c[1].weight = 0;
	assert_int_equal(decide(&p, c, 5, idx).pool, 1);
}

/* Operator overrides in the state word win over the checks' verdict. */
static void test_forced_words(void **state)
{
	(void)state;
	steer_policy_t p = make_policy(2, 1);
	const uint8_t pool[] = {0, 1};
	steer_cand_t c[2];
	uint8_t idx[STEER_CAND_MAX];
	set_pools(c, pool, (const uint32_t[]){HEALTH_STATE_FORCED | HEALTH_STATE_FORCED_DOWN, UP},
	          2);
	assert_int_equal(decide(&p, c, 2, idx).pool, 1);
	set_pools(c, pool, (const uint32_t[]){HEALTH_STATE_FORCED | HEALTH_STATE_DOWN, UP}, 2);
	assert_int_equal(decide(&p, c, 2, idx).pool, 0); /* forced up */
}

static void test_all_down_modes(void **state)
{
	(void)state;
	steer_policy_t p = make_policy(2, 2);
	const uint8_t pool[] = {0, 0, 1};
	steer_cand_t c[3];
	uint8_t idx[STEER_CAND_MAX];
	set_pools(c, pool, (const uint32_t[]){DOWN, DOWN, DOWN}, 3);

	p.all_down = STEER_DOWN_ALL;
	steer_result_t r = decide(&p, c, 3, idx);
	assert_int_equal(r.outcome, STEER_ANSWER);
	assert_int_equal(r.n, 3);
	assert_int_equal(idx[0] + idx[1] + idx[2], 3);
	assert_int_equal(r.ttl, 10);

	p.all_down = STEER_DOWN_FALLBACK;
	assert_int_equal(decide(&p, c, 3, idx).outcome, STEER_FALLBACK);
	p.all_down = STEER_DOWN_SERVFAIL;
	assert_int_equal(decide(&p, c, 3, idx).outcome, STEER_SERVFAIL);
	/* one member up again: answered from its pool */
	c[2].health = UP;
	r = decide(&p, c, 3, idx);
	assert_int_equal(r.outcome, STEER_ANSWER);
	assert_int_equal(r.n, 1);
	assert_int_equal(idx[0], 2);
}

static void test_ttl_clamp(void **state)
{
	(void)state;
	steer_policy_t p = make_policy(1, 1);
	steer_cand_t c[2] = {{.weight = 1}, {.weight = 1}};
	uint8_t idx[STEER_CAND_MAX];
	steer_rng_t rng;
	steer_rng_seed(&rng, 1);
	steer_result_t r;
	steer_decide(&p, c, 2, 3600, &rng, idx, &r);
	assert_int_equal(r.ttl, 300);
	steer_decide(&p, c, 2, 1, &rng, idx, &r);
	assert_int_equal(r.ttl, 10);
	steer_decide(&p, c, 2, 60, &rng, idx, &r);
	assert_int_equal(r.ttl, 60);
	c[1].health = DOWN; /* degraded: the minimum, re-asked soon */
	steer_decide(&p, c, 2, 60, &rng, idx, &r);
	assert_int_equal(r.ttl, 10);
}

/* ---- addresses ---- */

static void test_prefixes(void **state)
{
	(void)state;
	steer_prefix_t p, q;
	steer_addr_t a;
	assert_int_equal(steer_prefix_parse("198.51.100.0/24", &p), 0);
	assert_int_equal(steer_addr_parse("198.51.100.7", &a), 0);
	assert_true(steer_prefix_match(&p, &a));
	assert_int_equal(steer_addr_parse("198.51.101.7", &a), 0);
	assert_false(steer_prefix_match(&p, &a));
	assert_int_equal(steer_prefix_parse("198.51.100.1/24", &q), SD_EPARSE); /* host bits */
	assert_int_equal(steer_prefix_parse("198.51.100.0/33", &q), SD_EPARSE);
	assert_int_equal(steer_prefix_parse("198.51.100.128/25", &q), 0);
	assert_true(steer_prefix_overlap(&p, &q));
	assert_int_equal(steer_prefix_parse("198.51.101.0/24", &q), 0);
	assert_false(steer_prefix_overlap(&p, &q));
	assert_int_equal(steer_prefix_parse("2001:db8::/32", &q), 0);
	assert_int_equal(steer_addr_parse("2001:db8::1", &a), 0);
	assert_true(steer_prefix_match(&q, &a));
	assert_false(steer_prefix_overlap(&p, &q));
	/* a client subnet: host bits cleared, not refused */
	assert_int_equal(steer_subnet_parse("198.51.100.77/25", &q), 0);
	assert_int_equal(q.bits, 25);
	assert_int_equal(steer_prefix_parse("198.51.100.0/25", &p), 0);
	assert_memory_equal(q.addr.bytes, p.addr.bytes, 4);
	assert_int_equal(steer_subnet_parse("2001:db8:1:ffff::1/48", &q), 0);
	assert_int_equal(steer_prefix_parse("2001:db8:1::/48", &p), 0);
	assert_memory_equal(q.addr.bytes, p.addr.bytes, 16);
	assert_int_equal(steer_subnet_parse("198.51.100.7", &q), 0);
	assert_int_equal(q.bits, 32);
	assert_int_equal(steer_subnet_parse("198.51.100.7/33", &q), SD_EPARSE);
}

/* ---- the config section ---- */

static const char *const TEMPLATES = "health:\n"
                                     "  templates:\n"
                                     "    - {name: web, type: http, port: 8080}\n";

static int parse(const char *steering, steer_table_t **out)
{
	static const uint8_t apex[] = "\x07"
	                              "example\x03"
	                              "com";
	const uint8_t *zones[] = {apex};
	char text[4096];
	snprintf(text, sizeof(text), "%ssteering:\n%s", TEMPLATES, steering);
	conf_doc_t *doc = NULL;
	assert_int_equal(conf_load_string(text, "t.yaml", &doc), 0);
	conf_ctx_t ctx = {0};
	health_conf_t *hc = NULL;
	assert_int_equal(health_conf_parse(&ctx, conf_get(conf_root(doc), "health"), ".", &hc), 0);
	steer_conf_env_t env = {.zones = zones, .nzones = 1, .health = hc};
	logcap_clear(&cap);
	int ret = steer_conf_parse(&ctx, conf_get(conf_root(doc), "steering"), &env, out);
	health_conf_free(hc);
	conf_free(doc);
	return ret;
}

static void test_conf_valid(void **state)
{
	(void)state;
	steer_table_t *t = NULL;
	assert_int_equal(parse("  - name: api.example.com\n"
	                       "    health: web\n"
	                       "    answers: 2\n"
	                       "    all-down: fallback\n"
	                       "    fallback: [192.0.2.99, '2001:db8::99']\n"
	                       "    ttl-min: 5\n"
	                       "    ttl-max: 60\n"
	                       "    transfer-view: all\n"
	                       "    transfer-hold-down: 1500ms\n"
	                       "    pools:\n"
	                       "      - name: primary\n"
	                       "        min-healthy: 50%\n"
	                       "        members: [192.0.2.1, {address: 192.0.2.2, weight: 0}]\n"
	                       "      - name: eu-west\n"
	                       "        weight: 3\n"
	                       "        prefixes: [198.51.100.0/24]\n"
	                       "  - {name: www.example.com., health: web}\n",
	                       &t),
	                 0);
	assert_int_equal(t->count, 2);
	const steer_policy_t *p = steer_table_policy(t, 1);
	assert_int_equal(p->npools, 3);
	assert_true(p->pools[2].implicit);
	assert_int_equal(p->answers, 2);
	assert_int_equal(p->nfallback4, 1);
	assert_int_equal(p->nfallback6, 1);
	assert_true(p->pools[0].min_pct);
	steer_addr_t a;
	uint8_t pool;
	uint32_t w;
	assert_int_equal(steer_addr_parse("192.0.2.2", &a), 0);
	steer_policy_classify(p, &a, &pool, &w);
	assert_int_equal(pool, 0);
	assert_int_equal(w, 0);
	assert_int_equal(steer_addr_parse("198.51.100.9", &a), 0);
	steer_policy_classify(p, &a, &pool, &w);
	assert_int_equal(pool, 1);
	assert_int_equal(w, 3);
	assert_int_equal(steer_addr_parse("203.0.113.1", &a), 0);
	steer_policy_classify(p, &a, &pool, &w);
	assert_int_equal(pool, 2); /* other */
	assert_int_equal(steer_table_policy(t, 2)->npools, 1);
	assert_true(p->xfr_all);
	assert_int_equal(p->xfr_hold_ms, 1500);
	assert_false(steer_table_policy(t, 2)->xfr_all); /* the defaults */
	assert_int_equal(steer_table_policy(t, 2)->xfr_hold_ms, STEER_XFR_HOLD_DEFAULT_MS);
	steer_table_unref(t);
}

static void expect_error(const char *steering, const char *needle)
{
	steer_table_t *t = NULL;
	assert_int_equal(parse(steering, &t), SD_ECONFIG);
	assert_null(t);
	if (!strstr(cap.all, needle) || !strstr(cap.all, "t.yaml:"))
		fail_msg("expected '%s' with file:line, got:\n%s", needle, cap.all);
}

static void test_conf_errors(void **state)
{
	(void)state;
	expect_error("  - {name: api.example.org, health: web}\n", "outside every served zone");
	expect_error("  - {name: api.example.com, health: nope}\n", "unknown health template");
	expect_error("  - name: api.example.com\n"
	             "    health: web\n"
	             "    pools:\n"
	             "      - {name: a, prefixes: [198.51.100.0/24]}\n"
	             "      - {name: b, prefixes: [198.51.100.128/25]}\n",
	             "overlaps");
	expect_error("  - name: api.example.com\n"
	             "    health: web\n"
	             "    pools: [{name: a}]\n",
	             "neither members nor prefixes");
	expect_error("  - name: api.example.com\n"
	             "    health: web\n"
	             "    pools:\n"
	             "      - {name: a, prefixes: [198.51.100.0/24]}\n"
	             "      - {name: b, members: [198.51.100.5]}\n",
	             "belongs to pool 'a'");
	expect_error("  - {name: api.example.com, health: web, all-down: fallback}\n",
	             "needs a 'fallback'");
	expect_error("  - {name: api.example.com, health: web}\n"
	             "  - {name: API.example.com, health: web}\n",
	             "has a policy already");
	expect_error("  - {name: api.example.com, health: web, zone: example.net}\n",
	             "is not served");
	expect_error("  - {name: api.example.com, health: web, ttl-min: 100, ttl-max: 50}\n",
	             "above ttl-max");
	expect_error("  - {name: api.example.com, health: web, transfer-view: some}\n",
	             "expected healthy or all");
	expect_error("  - {name: api.example.com, health: web, transfer-hold-down: 2d}\n",
	             "transfer-hold-down");
}

/* CNAME candidates: members name targets with a probe address; prefixes, several answers
 * and fallback addresses make no sense there. */
static void test_conf_cname(void **state)
{
	(void)state;
	steer_table_t *t = NULL;
	assert_int_equal(parse("  - name: www.example.com\n"
	                       "    health: web\n"
	                       "    candidates: cname\n"
	                       "    pools:\n"
	                       "      - name: eu\n"
	                       "        members: [{target: eu.cdn.example.net, address: 192.0.2.7,"
	                       " weight: 3}]\n",
	                       &t),
	                 0);
	const steer_policy_t *p = steer_table_policy(t, 1);
	assert_true(p->cname);
	static const uint8_t eu[] = "\x02"
	                            "EU\x03"
	                            "cdn\x07"
	                            "example\x03"
	                            "net";
	static const uint8_t us[] = "\x02"
	                            "us\x03"
	                            "cdn\x07"
	                            "example\x03"
	                            "net";
	uint8_t pool;
	uint32_t w;
	const steer_member_t *m;
	steer_policy_classify_name(p, eu, &pool, &w, &m);
	assert_int_equal(pool, 0);
	assert_int_equal(w, 3);
	assert_non_null(m);
	steer_policy_classify_name(p, us, &pool, &w, &m);
	assert_int_equal(pool, 1); /* other */
	assert_null(m);
	steer_table_unref(t);
	expect_error("  - name: www.example.com\n"
	             "    health: web\n"
	             "    candidates: cname\n"
	             "    pools: [{name: a, prefixes: [198.51.100.0/24]}]\n",
	             "not by prefix");
	expect_error("  - {name: www.example.com, health: web, candidates: cname, answers: 2}\n",
	             "holds one candidate");
	expect_error("  - name: www.example.com\n"
	             "    health: web\n"
	             "    candidates: cname\n"
	             "    pools: [{name: a, members: [192.0.2.1]}]\n",
	             "a CNAME candidate is {target");
	expect_error(
	    "  - name: www.example.com\n"
	    "    health: web\n"
	    "    pools: [{name: a, members: [{target: x.example.net, address: 192.0.2.1}]}]\n",
	    "needs candidates: cname");
}

/* ---- the candidate map ---- */

static void test_snap(void **state)
{
	(void)state;
	steer_table_t *t = NULL;
	assert_int_equal(parse("  - name: api.example.com\n"
	                       "    health: web\n"
	                       "    pools:\n"
	                       "      - {name: a, members: [{address: 192.0.2.1, weight: 7}]}\n",
	                       &t),
	                 0);
	steer_snap_t *s = NULL;
	assert_int_equal(steer_snap_new(t, &s), 0);
	steer_entry_t e[2] = {{.target = 4, .weight = 7, .pool = 0},
	                      {.target = STEER_TARGET_NONE, .weight = 1, .pool = 1}};
	assert_int_equal(steer_addr_parse("192.0.2.1", &e[0].addr), 0);
	assert_int_equal(steer_addr_parse("192.0.2.3", &e[1].addr), 0);
	assert_int_equal(steer_snap_set(s, 1, e, 2), 0);
	const uint8_t rdata[] = {0, 4, 192, 0, 2, 3, 0, 4, 192, 0, 2, 1, 0, 4, 192, 0, 2, 9};
	steer_cand_t c[3];
	steer_snap_cands(s, steer_table_policy(t, 1), NULL, rdata, 3, c);
	assert_int_equal(c[1].weight, 7);
	assert_int_equal(c[1].pool, 0);
	assert_int_equal(c[0].pool, 1);
	assert_int_equal(c[2].pool, 1); /* unknown: classified as "other" */
	assert_int_equal(c[2].health, 0);
	assert_non_null(steer_snap_find(s, 1, rdata + 8, 4));
	assert_null(steer_snap_find(s, 1, rdata + 14, 4));
	steer_table_unref(t); /* the snapshot keeps its own reference */
	steer_snap_free(s);
}

/* The walk over a snapshot's entries: an AAAA RRset starts at the first IPv6 entry, a
 * record the map lacks is classified and the walk goes on after it, records out of order are
 * found by search; a resolved state word is read through its address (a change is seen by
 * the next call), an unprobed entry reads down. */
static void test_snap_walk(void **state)
{
	(void)state;
	steer_table_t *t = NULL;
	assert_int_equal(parse("  - name: api.example.com\n"
	                       "    health: web\n"
	                       "    pools:\n"
	                       "      - {name: a, members: [192.0.2.1, 192.0.2.2]}\n",
	                       &t),
	                 0);
	health_conf_t *hc = NULL;
	health_t *h = NULL;
	assert_int_equal(health_conf_empty(&hc), 0);
	assert_int_equal(health_new(hc, &h), 0);
	steer_snap_t *s = NULL;
	assert_int_equal(steer_snap_new(t, &s), 0);
	_Atomic uint32_t words[4] = {0, HEALTH_STATE_DOWN, 0, 0};
	const char *addrs[] = {"2001:db8::2", "192.0.2.4", "192.0.2.2", "2001:db8::1", "192.0.2.1"};
	steer_entry_t e[5];
	for (size_t i = 0; i < 5; i++) {
		e[i] =
		    (steer_entry_t){.weight = (uint32_t)(10 + i), .pool = 1, .target = (uint32_t)i};
		e[i].word = i < 4 ? &words[i] : NULL;
		assert_int_equal(steer_addr_parse(addrs[i], &e[i].addr), 0);
	}
	e[4].target = STEER_TARGET_NONE; /* 192.0.2.1: not probed */
	assert_int_equal(steer_snap_set(s, 1, e, 5), 0);
	assert_int_equal(s->cands[0].n4, 3);
	const steer_policy_t *p = steer_table_policy(t, 1);
	steer_cand_t c[4];
	/* .1 .2 .3 .4: .3 is not in the map */
	const uint8_t a[] = {0, 4, 192, 0, 2, 1, 0, 4, 192, 0, 2, 2,
	                     0, 4, 192, 0, 2, 3, 0, 4, 192, 0, 2, 4};
	steer_snap_cands(s, p, h, a, 4, c);
	assert_int_equal(c[0].weight, 14);
	assert_int_equal(c[0].health, HEALTH_STATE_DOWN); /* not probed */
	assert_int_equal(c[1].weight, 12);
	assert_int_equal(c[1].health, 0);
	assert_int_equal(c[2].pool, 1); /* not in the map: classified ("other"), down */
	assert_int_equal(c[2].weight, 1);
	assert_int_equal(c[2].health, HEALTH_STATE_DOWN);
	assert_int_equal(c[3].weight, 11);
	assert_int_equal(c[3].health, HEALTH_STATE_DOWN);
	/* out of order */
	const uint8_t b[] = {0, 4, 192, 0, 2, 4, 0, 4, 192, 0, 2, 2};
	steer_snap_cands(s, p, h, b, 2, c);
	assert_int_equal(c[0].weight, 11);
	assert_int_equal(c[1].weight, 12);
	/* AAAA: ::1 ::2, then a word changes */
	uint8_t six[36] = {0, 16};
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", six + 2), 1);
	six[19] = 16;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::2", six + 20), 1);
	steer_snap_cands(s, p, h, six, 2, c);
	assert_int_equal(c[0].weight, 13);
	assert_int_equal(c[1].weight, 10);
	assert_int_equal(c[1].health, 0);
	words[0] = HEALTH_STATE_FORCED | HEALTH_STATE_FORCED_DOWN;
	steer_snap_cands(s, p, h, six + 18, 1, c);
	assert_int_equal(c[0].weight, 10);
	assert_true(health_state_is_down(c[0].health));
	steer_snap_free(s);
	steer_table_unref(t);
	health_free(h);
	health_conf_free(hc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_weighted_shares),
	    cmocka_unit_test(test_chi_square_detects_bias),
	    cmocka_unit_test(test_weighted_without_replacement),
	    cmocka_unit_test(test_failover_thresholds),
	    cmocka_unit_test(test_forced_words),
	    cmocka_unit_test(test_all_down_modes),
	    cmocka_unit_test(test_ttl_clamp),
	    cmocka_unit_test(test_prefixes),
	    cmocka_unit_test(test_conf_valid),
	    cmocka_unit_test(test_conf_errors),
	    cmocka_unit_test(test_conf_cname),
	    cmocka_unit_test(test_snap),
	    cmocka_unit_test(test_snap_walk),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
