/* Unit tests for steering/counts.h: slots per policy and pool, per-worker rows summed, the
 * all-down slot, out-of-range increments ignored, totals carried over to a new table by
 * owner and pool name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "steering/counts.h"

/* A table of n policies; policy i is owner names[i] with the pools listed in pools[i]
 * (comma-free names, NULL-terminated). */
static steer_table_t *table_of(size_t n, const char *const *names, const char *const pools[][4])
{
	steer_table_t *t = NULL;
	assert_int_equal(steer_table_new(&t), 0);
	t->policies = calloc(n, sizeof(*t->policies));
	assert_non_null(t->policies);
	t->count = n;
	for (size_t i = 0; i < n; i++) {
		steer_policy_t *p = &t->policies[i];
		p->id = (uint16_t)(i + 1);
		p->name = strdup(names[i]);
		assert_true(dname_from_str(names[i], NULL, p->owner) > 0);
		p->owner_len = (uint8_t)dname_len(p->owner);
		while (p->npools < 4 && pools[i][p->npools])
			p->npools++;
		p->pools = calloc(p->npools, sizeof(*p->pools));
		for (size_t k = 0; k < p->npools; k++)
			p->pools[k].name = strdup(pools[i][k]);
	}
	return t;
}

static void test_counts_sum_and_slots(void **state)
{
	(void)state;
	const char *names[] = {"www.example.com.", "api.example.com."};
	const char *const pools[][4] = {{"eu", "us", "other", NULL}, {"main", "other", NULL, NULL}};
	steer_table_t *t = table_of(2, names, pools);
	steer_counts_t *c = NULL;
	assert_int_equal(steer_counts_new(t, 3, &c), 0);
	assert_int_equal(c->nslots, 4 + 3);
	assert_int_equal(c->stride % 8, 0);
	assert_int_equal((uintptr_t)c->c % 64, 0);
	steer_counts_inc(c, 0, 1, 0);
	steer_counts_inc(c, 1, 1, 0);
	steer_counts_inc(c, 2, 1, 1);
	steer_counts_inc(c, 2, 1, steer_counts_all_down(&t->policies[0]));
	steer_counts_inc(c, 1, 2, 1);
	/* out of range: a worker, a policy id, a slot past the policy's own */
	steer_counts_inc(c, 3, 1, 0);
	steer_counts_inc(c, 0, 3, 0);
	steer_counts_inc(c, 0, 0, 0);
	steer_counts_inc(c, 0, 2, 3);
	assert_int_equal(steer_counts_get(c, 1, 0), 2);
	assert_int_equal(steer_counts_get(c, 1, 1), 1);
	assert_int_equal(steer_counts_get(c, 1, 2), 0);
	assert_int_equal(steer_counts_get(c, 1, 3), 1);
	assert_int_equal(steer_counts_get(c, 2, 0), 0);
	assert_int_equal(steer_counts_get(c, 2, 1), 1);
	assert_int_equal(steer_counts_get(c, 2, 2), 0); /* policy 2's all-down: untouched */
	assert_int_equal(steer_counts_get(c, 2, 3), 0); /* past its slots */
	assert_int_equal(steer_counts_get(c, 3, 0), 0);
	steer_counts_free(c);
	steer_table_unref(t);
}

static void test_counts_carry_by_name(void **state)
{
	(void)state;
	const char *n1[] = {"www.example.com.", "gone.example.com."};
	const char *const p1[][4] = {{"eu", "us", "other", NULL}, {"x", "other", NULL, NULL}};
	/* renumbered (www is now id 2), a pool renamed (us -> asia), one added (new) */
	const char *n2[] = {"new.example.com.", "WWW.example.com."};
	const char *const p2[][4] = {{"a", "other", NULL, NULL}, {"asia", "eu", "other", NULL}};
	steer_table_t *t1 = table_of(2, n1, p1), *t2 = table_of(2, n2, p2);
	steer_counts_t *c1 = NULL, *c2 = NULL;
	assert_int_equal(steer_counts_new(t1, 2, &c1), 0);
	assert_int_equal(steer_counts_new(t2, 2, &c2), 0);
	for (int i = 0; i < 5; i++)
		steer_counts_inc(c1, (unsigned)i % 2, 1, 0); /* www eu: 5 */
	steer_counts_inc(c1, 0, 1, 1);                       /* www us: 1 */
	steer_counts_inc(c1, 1, 1, 3);                       /* www all-down: 1 */
	steer_counts_inc(c1, 0, 2, 0);                       /* gone x: 1 */
	steer_counts_inc(c2, 1, 2, 1);                       /* already counted in c2: eu +1 */
	steer_counts_carry(c2, t2, c1, t1);
	/* owners are compared lowercased: WWW is www */
	assert_int_equal(steer_counts_get(c2, 2, 1), 6); /* eu: 5 carried + 1 */
	assert_int_equal(steer_counts_get(c2, 2, 0), 0); /* asia: us is not carried */
	assert_int_equal(steer_counts_get(c2, 2, 2), 0); /* other */
	assert_int_equal(steer_counts_get(c2, 2, 3), 1); /* all-down */
	assert_int_equal(steer_counts_get(c2, 1, 0), 0);
	steer_counts_free(c1);
	steer_counts_free(c2);
	steer_table_unref(t1);
	steer_table_unref(t2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts_sum_and_slots),
	    cmocka_unit_test(test_counts_carry_by_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
