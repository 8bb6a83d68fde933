/* Unit tests for the steering glue's gate on the transfer views (server/steer.h
 * srv_steer_views_due): a tick of the control loop passes over the policies only when a
 * health state word, the config or the prober changed since the last pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "contrib/base/conf.h"
#include "health/health.h"
#include "server/steer.h"

static health_conf_t *parse(const char *text)
{
	conf_doc_t *doc = NULL;
	assert_int_equal(conf_load_string(text, "h.yaml", &doc), 0);
	conf_ctx_t ctx = {0};
	health_conf_t *c = NULL;
	assert_int_equal(health_conf_parse(&ctx, conf_get(conf_root(doc), "health"), "/", &c), 0);
	conf_free(doc);
	return c;
}

/* One pass at now_ms; afterwards nothing is due until something changes. */
static void pass(srv_steer_t *st, uint64_t now_ms)
{
	size_t n = 99;
	assert_int_equal(srv_steer_views(st, NULL, 0, now_ms, NULL, &n), 0);
	assert_int_equal(n, 0);
	assert_false(srv_steer_views_due(st, now_ms));
}

static void test_views_due(void **state)
{
	(void)state;
	srv_steer_t *st = NULL;
	assert_int_equal(srv_steer_new(&st), 0);
	assert_true(srv_steer_views_due(st, 1000)); /* never computed */
	pass(st, 1000);
	assert_false(srv_steer_views_due(st, 1200)); /* idle ticks */
	assert_false(srv_steer_views_due(st, 60000));

	health_conf_t *c = parse("health:\n  templates:\n    - {name: t, type: tcp, port: 9}\n"
	                         "  targets:\n    - {name: a, address: 127.0.0.1, template: t}\n");
	health_t *h = NULL;
	assert_int_equal(health_new(c, &h), 0);
	srv_steer_set_health(st, h);
	assert_true(srv_steer_views_due(st, 60200)); /* a prober */
	pass(st, 60200);

	assert_int_equal(health_force(h, "a", HEALTH_FORCE_DOWN), 0);
	assert_true(srv_steer_views_due(st, 60400)); /* a state word changed */
	pass(st, 60400);
	assert_int_equal(health_force(h, "a", HEALTH_FORCE_DOWN), 0); /* the same word */
	assert_false(srv_steer_views_due(st, 60600));
	assert_int_equal(health_force(h, "a", HEALTH_FORCE_NONE), 0);
	assert_true(srv_steer_views_due(st, 60800));
	pass(st, 60800);

	srv_steer_configure(st, NULL); /* a reload */
	assert_true(srv_steer_views_due(st, 61000));
	pass(st, 61000);

	srv_steer_free(st);
	health_free(h);
	health_conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_views_due),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
