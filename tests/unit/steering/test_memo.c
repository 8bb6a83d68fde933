/* Unit tests for steering/memo.h and the tally/plan/draw split of the decision (policy.h): a
 * plan kept and drawn from again gives what a fresh decision gives with the same random
 * state, a key that differs in any part finds nothing, and a tally serves every order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "health/health.h"
#include "steering/memo.h"
#include "steering/policy.h"

static steer_pool_t g_pools[3];

static steer_policy_t make_policy(size_t npools, uint16_t answers)
{
	memset(g_pools, 0, sizeof(g_pools));
	for (size_t i = 0; i < npools; i++)
		g_pools[i] = (steer_pool_t){.weight = 1, .min_healthy = 2};
	g_pools[npools - 1].implicit = true;
	return (steer_policy_t){.id = 7,
	                        .pools = g_pools,
	                        .npools = npools,
	                        .answers = answers,
	                        .ttl_min = 10,
	                        .ttl_max = 300};
}

/* Random candidate sets (pools, weights, health, with and without a geo order, every
 * all-down mode): a plan made once and drawn from 50 times equals 50 fresh decisions. */
static void test_plan_draw_equals_decide(void **state)
{
	(void)state;
	uint64_t x = 0x243f6a8885a308d3u;
	for (unsigned round = 0; round < 2000; round++) {
		steer_policy_t p = make_policy(3, (uint16_t)(1 + round % 4));
		p.all_down = (steer_all_down_t)(round % 3);
		steer_cand_t c[STEER_CAND_MAX];
		size_t n = 1 + round % 20;
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			c[i] = (steer_cand_t){.pool = (uint8_t)(x % 3),
			                      .weight = (uint32_t)(x >> 8) % 4,
			                      .health = (x >> 20) % 3 == 0 ? HEALTH_STATE_DOWN : 0};
		}
		const uint8_t order[] = {2, 0};
		const uint8_t *o = round % 2 ? order : NULL;
		steer_plan_t plan;
		steer_plan_make(&p, o, o ? 2 : 0, c, n, 60, &plan);
		steer_rng_t a, b;
		steer_rng_seed(&a, round + 1);
		steer_rng_seed(&b, round + 1);
		for (unsigned d = 0; d < 50; d++) {
			uint8_t ia[STEER_CAND_MAX], ib[STEER_CAND_MAX];
			steer_result_t ra, rb;
			steer_plan_draw(&p, &plan, &a, ia, &ra);
			steer_decide_list(&p, o, o ? 2 : 0, c, n, 60, &b, ib, &rb);
			assert_int_equal(ra.outcome, rb.outcome);
			assert_int_equal(ra.n, rb.n);
			assert_int_equal(ra.pool, rb.pool);
			assert_int_equal(ra.rank, rb.rank);
			assert_int_equal(ra.degraded, rb.degraded);
			assert_int_equal(ra.ttl, rb.ttl);
			if (ra.outcome == STEER_ANSWER)
				assert_memory_equal(ia, ib, ra.n);
		}
	}
}

/* The weighted stage written plainly, as the decision first drew it: `answers` of the
 * members el[0..m) (weights w), each drawn by weight among those not taken yet, the last one
 * left taken without a draw. */
static unsigned ref_weighted(const uint8_t *el, const uint32_t *w, unsigned m, unsigned answers,
                             steer_rng_t *rng, uint8_t *idx)
{
	uint64_t total = 0;
	bool taken[STEER_CAND_MAX] = {false};
	for (unsigned i = 0; i < m; i++)
		total += w[i];
	unsigned k = 0, left = m;
	for (; k < answers && left > 1; k++, left--) {
		uint64_t r = steer_rng_below(rng, total);
		unsigned j = 0;
		for (;; j++) {
			if (taken[j])
				continue;
			if (r < w[j])
				break;
			r -= w[j];
		}
		idx[k] = el[j];
		taken[j] = true;
		total -= w[j];
	}
	for (unsigned j = 0; k < answers && left == 1 && j < m; j++)
		if (!taken[j])
			idx[k++] = el[j];
	return k;
}

/* A plan's draws (how many, the last one without a draw, which member each takes) are the
 * plain weighted draw's, record for record and with the same random numbers used: one pool
 * of up to 40 candidates, random weights (0: not eligible) and health, 1 to 5 answers; in
 * every other round all the weights are equal (1, or up to STEER_WEIGHT_MAX: the plan's
 * uniform draw). */
static void test_draw_equals_plain_weighted(void **state)
{
	(void)state;
	uint64_t x = 0x13198a2e03707344u;
	unsigned drawn = 0;
	for (unsigned round = 0; round < 3000; round++) {
		steer_policy_t p = make_policy(2, (uint16_t)(1 + round % 5));
		steer_cand_t c[STEER_CAND_MAX];
		uint8_t el[STEER_CAND_MAX];
		uint32_t w[STEER_CAND_MAX];
		unsigned n = 1 + round % 40, m = 0;
		for (unsigned i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			uint32_t same = round % 6 == 1 ? 1 : STEER_WEIGHT_MAX - round % 1000;
			c[i] = (steer_cand_t){
			    .pool = 0,
			    .weight = round % 2 ? same : (uint32_t)(x >> 8) % 5 * (1 + round % 3),
			    .health = (x >> 20) % 4 == 0 ? HEALTH_STATE_DOWN : 0};
			if (c[i].weight > 0 && c[i].health == 0) {
				el[m] = (uint8_t)i;
				w[m++] = c[i].weight;
			}
		}
		steer_rng_t a, b;
		steer_rng_seed(&a, round + 7);
		steer_rng_seed(&b, round + 7);
		uint8_t ia[STEER_CAND_MAX], ib[STEER_CAND_MAX];
		steer_result_t ra;
		steer_decide(&p, c, n, 60, &a, ia, &ra);
		if (m == 0) {
			assert_int_equal(ra.pool, 0xff); /* nothing up with a weight: all-down */
			continue;
		}
		assert_int_equal(ra.outcome, STEER_ANSWER);
		assert_int_equal(ra.pool, 0);
		unsigned k = ref_weighted(el, w, m, p.answers, &b, ib);
		assert_int_equal(ra.n, k);
		assert_memory_equal(ia, ib, k);
		assert_int_equal(a.s, b.s); /* as many random numbers */
		drawn += k;
	}
	assert_true(drawn > 3000);
}

/* A key, and in d[i] the same key with part i changed: snapshot, version, health
 * generation (a health word changed), RDATA, geo order, policy. */
static const uint8_t g_rd[8], g_order[2];
static const steer_memo_key_t g_key = {
    .snap = 3, .version = 9, .health = 17, .rdata = g_rd, .order = g_order, .policy = 5};
enum { KEY_PARTS = 6, KEY_ORDER = 4 };

static void key_variants(steer_memo_key_t d[KEY_PARTS])
{
	for (size_t i = 0; i < KEY_PARTS; i++)
		d[i] = g_key;
	d[0].snap++;
	d[1].version++;
	d[2].health++;
	d[3].rdata = g_rd + 2;
	d[KEY_ORDER].order = NULL;
	d[5].policy++;
}

/* A kept plan is found under its key only: any part of the key that differs misses. */
static void test_memo_keys(void **state)
{
	(void)state;
	steer_memo_t *m = NULL;
	assert_int_equal(steer_memo_new(&m), 0);
	assert_null(steer_memo_get(m, &g_key));
	steer_memo_put(m, &g_key)->plan.res.ttl = 1234;
	const steer_memo_entry_t *got = steer_memo_get(m, &g_key);
	assert_non_null(got);
	assert_int_equal(got->plan.res.ttl, 1234);
	steer_memo_key_t d[KEY_PARTS];
	key_variants(d);
	for (size_t i = 0; i < KEY_PARTS; i++)
		assert_null(steer_memo_get(m, &d[i]));
	/* the slot taken by a key of another health generation forgets the first (no query
	 * asks for it any more: steer_memo_put takes its way first) */
	steer_memo_put(m, &d[2])->plan.res.ttl = 1;
	assert_null(steer_memo_get(m, &g_key));
	assert_int_equal(steer_memo_get(m, &d[2])->plan.res.ttl, 1);
	steer_memo_free(m);
}

/* Keys of one generation whose hashes meet in one set (plans and tallies): STEER_MEMO_WAYS
 * stay, one more forgets the one written first; the next, the one written second. */
enum { SAME = STEER_MEMO_WAYS + 2 };
static uint8_t g_many[1 << 16];

static void same_set(steer_memo_key_t k[SAME], bool tally)
{
	unsigned n = 0, want = 0;
	unsigned bits = tally ? STEER_MEMO_TALLY_BITS : STEER_MEMO_SET_BITS;
	for (size_t i = 0; i < sizeof(g_many) && n < SAME; i++) {
		k[n] = g_key;
		k[n].rdata = g_many + i;
		unsigned s =
		    (unsigned)(steer_memo_hash(&k[n], tally ? NULL : k[n].order) >> (64 - bits));
		if (n == 0)
			want = s;
		if (s == want)
			n++;
	}
	assert_int_equal(n, SAME);
}

static void test_memo_ways(void **state)
{
	(void)state;
	steer_memo_t *m = NULL;
	steer_memo_key_t k[SAME];
	assert_int_equal(steer_memo_new(&m), 0);
	same_set(k, false);
	for (unsigned i = 0; i < SAME; i++)
		steer_memo_put(m, &k[i])->plan.res.ttl = i + 1;
	assert_null(steer_memo_get(m, &k[0]));
	assert_null(steer_memo_get(m, &k[1]));
	for (unsigned i = 2; i < SAME; i++) {
		assert_non_null(steer_memo_get(m, &k[i]));
		assert_int_equal(steer_memo_get(m, &k[i])->plan.res.ttl, i + 1);
	}
	same_set(k, true);
	for (unsigned i = 0; i < SAME; i++)
		steer_memo_put_tally(m, &k[i])->n = (uint16_t)(i + 1);
	assert_null(steer_memo_tally(m, &k[0]));
	assert_null(steer_memo_tally(m, &k[1]));
	for (unsigned i = 2; i < SAME; i++) {
		assert_non_null(steer_memo_tally(m, &k[i]));
		assert_int_equal(steer_memo_tally(m, &k[i])->n, i + 1);
	}
	steer_memo_free(m);
}

/* A tally serves every geo order: found under a key that differs only in its order, not
 * under one that differs in any other part; and it is not a plan. */
static void test_memo_tally_keys(void **state)
{
	(void)state;
	steer_memo_t *m = NULL;
	assert_int_equal(steer_memo_new(&m), 0);
	assert_null(steer_memo_tally(m, &g_key));
	steer_memo_put_tally(m, &g_key)->n = 4;
	steer_memo_key_t d[KEY_PARTS];
	key_variants(d);
	for (size_t i = 0; i < KEY_PARTS; i++) {
		const steer_tally_t *t = steer_memo_tally(m, &d[i]);
		if (i == KEY_ORDER) {
			assert_non_null(t);
			assert_int_equal(t->n, 4);
		} else {
			assert_null(t);
		}
	}
	assert_null(steer_memo_get(m, &g_key)); /* a tally is not a plan */
	steer_memo_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_draw_equals_decide),
	    cmocka_unit_test(test_draw_equals_plain_weighted),
	    cmocka_unit_test(test_memo_keys),
	    cmocka_unit_test(test_memo_tally_keys),
	    cmocka_unit_test(test_memo_ways),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
