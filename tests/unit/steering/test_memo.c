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

/* A kept plan is found under its key only: any part of the key that differs misses. */
static void test_memo_keys(void **state)
{
	(void)state;
	steer_memo_t *m = NULL;
	assert_int_equal(steer_memo_new(&m), 0);
	static const uint8_t rd[8], order[2];
	const steer_memo_key_t k = {
	    .snap = 3, .version = 9, .health = 17, .rdata = rd, .order = order, .policy = 5};
	assert_null(steer_memo_get(m, &k));
	steer_plan_t *pl = steer_memo_put(m, &k);
	pl->res.ttl = 1234;
	const steer_plan_t *got = steer_memo_get(m, &k);
	assert_non_null(got);
	assert_int_equal(got->res.ttl, 1234);
	steer_memo_key_t d[6];
	for (size_t i = 0; i < 6; i++)
		d[i] = k;
	d[0].snap++;
	d[1].version++;
	d[2].health++; /* a health word changed */
	d[3].rdata = rd + 2;
	d[4].order = NULL;
	d[5].policy++;
	for (size_t i = 0; i < 6; i++)
		assert_null(steer_memo_get(m, &d[i]));
	/* the slot taken by another key forgets the first */
	steer_plan_t *other = steer_memo_put(m, &d[2]);
	other->res.ttl = 1;
	assert_null(steer_memo_get(m, &k));
	assert_int_equal(steer_memo_get(m, &d[2])->res.ttl, 1);
	steer_memo_free(m);
}

/* A tally serves every geo order: found under a key that differs only in its order, not
 * under one whose health generation (or any other part) differs. */
static void test_memo_tally_keys(void **state)
{
	(void)state;
	steer_memo_t *m = NULL;
	assert_int_equal(steer_memo_new(&m), 0);
	static const uint8_t rd[8], order[2];
	const steer_memo_key_t k = {
	    .snap = 3, .version = 9, .health = 17, .rdata = rd, .order = order, .policy = 5};
	assert_null(steer_memo_tally(m, &k));
	steer_memo_put_tally(m, &k)->n = 4;
	steer_memo_key_t o = k;
	o.order = NULL;
	assert_non_null(steer_memo_tally(m, &o));
	assert_int_equal(steer_memo_tally(m, &o)->n, 4);
	assert_null(steer_memo_get(m, &k)); /* a tally is not a plan */
	steer_memo_key_t h = k;
	h.health++;
	assert_null(steer_memo_tally(m, &h));
	steer_memo_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_draw_equals_decide),
	    cmocka_unit_test(test_memo_keys),
	    cmocka_unit_test(test_memo_tally_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
