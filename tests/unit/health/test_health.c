/* Unit tests for health/: config validation, the threshold machine, state words, the state
 * file, and the registry (ids, overrides) without running the thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contrib/base/err.h"
#include "contrib/base/escape.h"
#include "contrib/base/log.h"
#include "tests/unit/logcap.h"
#include "health/conf.h"
#include "health/ctl.h"
#include "health/health.h"
#include "health/internal.h"
#include "health/threshold.h"

/* ---- captured error lines ---- */

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

/* Parse the `health:` section of text; returns the parse result and the error count. */
static int parse(const char *text, health_conf_t **out, unsigned *errors)
{
	conf_doc_t *doc = NULL;
	assert_int_equal(conf_load_string(text, "h.yaml", &doc), 0);
	conf_ctx_t ctx = {0};
	const conf_node_t *sec = conf_get(conf_root(doc), "health");
	assert_non_null(sec);
	int ret = health_conf_parse(&ctx, sec, "/base", out);
	*errors = ctx.errors;
	conf_free(doc);
	return ret;
}

static const char *good_conf = "health:\n"
                               "  state-file: h.state\n"
                               "  templates:\n"
                               "    - name: web\n"
                               "      type: http\n"
                               "      path: /healthz\n"
                               "      host: www.example.com\n"
                               "      expect-status: [200-299, 418]\n"
                               "      expect-body: abcab\n"
                               "      body-limit: 100\n"
                               "      interval: 250ms\n"
                               "      jitter: 20%\n"
                               "      timeout: 100ms\n"
                               "      rise: 4\n"
                               "      fall: 5\n"
                               "      initial: down\n"
                               "    - name: port\n"
                               "      type: tcp\n"
                               "      port: 22\n"
                               "  targets:\n"
                               "    - name: web1\n"
                               "      address: 192.0.2.10\n"
                               "      probe-address: 127.0.0.1\n"
                               "      port: 8080\n"
                               "      template: web\n"
                               "      pool: eu-west\n"
                               "    - name: ssh6\n"
                               "      address: 2001:db8::1\n"
                               "      template: port\n";

static void test_conf_good(void **state)
{
	(void)state;
	health_conf_t *c = NULL;
	unsigned errors = 0;
	assert_int_equal(parse(good_conf, &c, &errors), 0);
	assert_int_equal(errors, 0);
	assert_string_equal(c->state_file, "/base/h.state");
	assert_int_equal(c->ntpl, 2);
	const health_tpl_t *t = health_conf_tpl(c, "web");
	assert_non_null(t);
	assert_int_equal(t->type, HEALTH_CHECK_HTTP);
	assert_int_equal(t->port, 80);
	assert_string_equal(t->path, "/healthz");
	assert_int_equal(t->interval_ms, 250);
	assert_int_equal(t->jitter_pct, 20);
	assert_int_equal(t->timeout_ms, 100);
	assert_int_equal(t->rise, 4);
	assert_int_equal(t->fall, 5);
	assert_true(t->initial_down);
	assert_true(health_tpl_status_ok(t, 204));
	assert_true(health_tpl_status_ok(t, 418));
	assert_false(health_tpl_status_ok(t, 302));
	assert_false(health_tpl_status_ok(t, 500));
	/* KMP failure function of "abcab" */
	uint32_t kmp[] = {0, 0, 0, 1, 2};
	assert_memory_equal(t->kmp, kmp, sizeof(kmp));
	assert_int_equal(c->ntargets, 2);
	char buf[64];
	health_sockaddr_str(&c->targets[0].addr, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.10:8080");
	health_sockaddr_str(&c->targets[0].probe, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:8080");
	assert_string_equal(c->targets[0].pool, "eu-west");
	health_sockaddr_str(&c->targets[1].probe, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:22");
	health_conf_free(c);
}

static void test_conf_default_status(void **state)
{
	(void)state;
	health_conf_t *c = NULL;
	unsigned errors = 0;
	assert_int_equal(parse("health:\n  templates:\n    - {name: w, type: http}\n", &c, &errors),
	                 0);
	const health_tpl_t *t = c->tpls[0];
	assert_true(health_tpl_status_ok(t, 200));
	assert_true(health_tpl_status_ok(t, 299));
	assert_true(health_tpl_status_ok(t, 304));
	assert_false(health_tpl_status_ok(t, 301)); /* redirects are not followed */
	assert_false(health_tpl_status_ok(t, 302));
	assert_false(health_tpl_status_ok(t, 404));
	assert_int_equal(t->rise, 2);
	assert_int_equal(t->fall, 3);
	assert_false(t->initial_down);
	health_conf_free(c);
}

static void expect_error(const char *text, const char *needle, unsigned count)
{
	health_conf_t *c = (health_conf_t *)0x1;
	unsigned errors = 0;
	logcap_clear(&cap);
	assert_int_equal(parse(text, &c, &errors), SD_ECONFIG);
	assert_ptr_equal(c, (health_conf_t *)0x1);
	if (!strstr(cap.all, needle))
		fail_msg("expected '%s' in:\n%s", needle, cap.all);
	assert_int_equal(errors, count);
}

static void test_conf_errors(void **state)
{
	(void)state;
	expect_error("health:\n  bogus: 1\n", "h.yaml:2: health.bogus: unknown key 'bogus'", 1);
	expect_error("health:\n  templates:\n    - name: w\n      type: ftp\n",
	             "h.yaml:4: health.templates[0].type: unknown check type 'ftp'", 1);
	expect_error("health:\n  templates:\n    - name: w\n      type: http\n      rise: x\n",
	             "health.templates[0].rise", 1);
	expect_error("health:\n  templates:\n    - {name: w, type: tcp, port: 1}\n"
	             "  targets:\n    - {name: a, address: 127.0.0.1, template: nope}\n",
	             "h.yaml:5: health.targets[0].template: no template named 'nope'", 1);
	expect_error("health:\n  templates:\n    - {name: w, type: tcp, port: 1}\n"
	             "  targets:\n    - {name: a, address: 127.0.0.1, template: w}\n"
	             "    - {name: a, address: 127.0.0.2, template: w}\n",
	             "h.yaml:6: health.targets[1]: duplicate target name 'a'", 1);
	expect_error("health:\n  templates:\n    - {name: w, type: tcp, port: 1}\n"
	             "  targets:\n    - {name: a, address: 300.0.0.1, template: w}\n",
	             "'300.0.0.1' is not an IPv4 or IPv6 address", 1);
	expect_error("health:\n  templates:\n    - {name: w, type: tcp}\n"
	             "  targets:\n    - {name: a, address: 127.0.0.1, template: w}\n",
	             "no port: set one on the target or its template", 1);
	expect_error("health:\n  templates:\n    - {name: w, type: tcp, port: 1, path: /x}\n",
	             "health.templates[0].path: 'path' applies to http and https checks only", 1);
	expect_error("health:\n  templates:\n    - {name: w, type: http, insecure: true}\n",
	             "'insecure' applies to https checks only", 1);
	expect_error("health:\n  templates:\n    - {name: w, type: https, ca-file: nope.pem}\n",
	             "cannot read '/base/nope.pem'", 1);
	expect_error("health:\n  templates:\n    - {name: w, type: http, jitter: 80%}\n",
	             "jitter above 50%", 1);
	expect_error(
	    "health:\n  templates:\n    - {name: w, type: http, expect-status: [200-99]}\n",
	    "'200-99' is not a status code or range", 1);
	expect_error("health:\n  templates:\n    - {name: w, type: http, path: 'a b'}\n",
	             "the path must start with '/'", 1);
	expect_error("health:\n  templates:\n    - {name: w, type: http}\n    - {name: w, type: "
	             "http}\n",
	             "duplicate template name 'w'", 1);
	/* several mistakes are all reported */
	expect_error("health:\n  templates:\n    - {name: w, type: http, rise: 0, fall: 0}\n",
	             "health.templates[0].fall", 2);
}

static void test_https_template_ctx(void **state)
{
	(void)state;
	health_conf_t *c = NULL;
	unsigned errors = 0;
	assert_int_equal(parse("health:\n  templates:\n    - {name: s, type: https, host: a.b}\n"
	                       "    - {name: i, type: https, insecure: true}\n",
	                       &c, &errors),
	                 0);
	assert_non_null(c->tpls[0]->ssl_ctx); /* system store */
	assert_int_equal(c->tpls[0]->port, 443);
	assert_true(c->tpls[1]->insecure);
	health_conf_free(c);
}

/* ---- thresholds ---- */

static void test_thresholds(void **state)
{
	(void)state;
	bool changed = false;
	health_thr_t s = health_thr_init(false);
	/* two failures, a success, then exactly `fall` = 3 failures to go down; no verdict
	 * (decided) before a run reaches rise or fall */
	assert_false(s.decided);
	s = health_thr_next(s, false, 2, 3, &changed);
	s = health_thr_next(s, false, 2, 3, &changed);
	assert_false(changed);
	assert_false(s.decided);
	s = health_thr_next(s, true, 2, 3, &changed);
	assert_false(s.down);
	assert_false(s.decided);
	assert_int_equal(s.fail_run, 0);
	s = health_thr_next(s, false, 2, 3, &changed);
	s = health_thr_next(s, false, 2, 3, &changed);
	assert_false(s.down);
	assert_false(changed);
	s = health_thr_next(s, false, 2, 3, &changed);
	assert_true(s.down);
	assert_true(changed);
	assert_true(s.decided);
	s = health_thr_next(s, false, 2, 3, &changed);
	assert_false(changed);
	/* exactly `rise` = 2 successes to come back */
	s = health_thr_next(s, true, 2, 3, &changed);
	assert_true(s.down);
	assert_false(changed);
	s = health_thr_next(s, true, 2, 3, &changed);
	assert_false(s.down);
	assert_true(changed);
	/* rise = fall = 1 flips on every differing result */
	s = health_thr_init(true);
	s = health_thr_next(s, true, 1, 1, &changed);
	assert_true(changed);
	s = health_thr_next(s, false, 1, 1, &changed);
	assert_true(changed);
	assert_true(s.down);
}

static void test_words(void **state)
{
	(void)state;
	uint32_t w = health_word_pack(true, HEALTH_FORCE_NONE);
	assert_true(health_state_is_down(w));
	assert_true(health_word_checked_down(w));
	assert_int_equal(health_word_force(w), HEALTH_FORCE_NONE);
	w = health_word_pack(true, HEALTH_FORCE_UP);
	assert_false(health_state_is_down(w));
	assert_true(health_word_checked_down(w));
	assert_int_equal(health_word_force(w), HEALTH_FORCE_UP);
	w = health_word_pack(false, HEALTH_FORCE_DOWN);
	assert_true(health_state_is_down(w));
	assert_false(health_word_checked_down(w));
	assert_int_equal(health_word_force(w), HEALTH_FORCE_DOWN);
	assert_int_equal(health_word_pack(false, HEALTH_FORCE_NONE), 0);
	/* the branch-free reading against the rule, every combination of the bits */
	for (uint32_t v = 0; v < 16; v++) {
		bool down = (v & HEALTH_STATE_FORCED) ? (v & HEALTH_STATE_FORCED_DOWN) != 0
		                                      : (v & HEALTH_STATE_DOWN) != 0;
		assert_int_equal(health_state_is_down(v), down);
	}
}

/* ---- state file ---- */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	setup(state);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/health-unit-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int rm_tmpdir(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	assert_int_equal(system(cmd), 0);
	return teardown(state);
}

static void test_statefile_round_trip(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/s", tmpdir);
	health_override_t in[] = {{"web1", false, HEALTH_FORCE_DOWN},
	                          {"eu-west", true, HEALTH_FORCE_UP}};
	assert_int_equal(health_overrides_save(path, in, 2), 0);
	health_override_t *out = NULL;
	size_t n = 0;
	assert_int_equal(health_overrides_load(path, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].name, "web1");
	assert_false(out[0].pool);
	assert_int_equal(out[0].mode, HEALTH_FORCE_DOWN);
	assert_string_equal(out[1].name, "eu-west");
	assert_true(out[1].pool);
	assert_int_equal(out[1].mode, HEALTH_FORCE_UP);
	health_overrides_free(out, n);
	/* no temp file is left behind */
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_not_equal(access(tmp, F_OK), 0);
	/* missing file: no overrides; bad line: error with file:line */
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	assert_int_equal(health_overrides_load(path, &out, &n), 0);
	assert_int_equal(n, 0);
	snprintf(path, sizeof(path), "%s/bad", tmpdir);
	FILE *f = fopen(path, "w");
	fputs("# c\ntarget a down\ntarget b sideways\n", f);
	fclose(f);
	assert_int_equal(health_overrides_load(path, &out, &n), SD_EPARSE);
	assert_non_null(strstr(cap.all, "/bad:3:"));
}

/* ---- registry and overrides without the thread ---- */

static void test_registry_and_force(void **state)
{
	(void)state;
	char text[1024];
	snprintf(text, sizeof(text),
	         "health:\n  state-file: %s/ovr\n  templates:\n    - {name: t, type: tcp, port: 9, "
	         "initial: down}\n  targets:\n    - {name: a, address: 127.0.0.1, template: t, "
	         "pool: p1}\n    - {name: b, address: '::1', template: t, pool: p1}\n",
	         tmpdir);
	health_conf_t *c = NULL;
	unsigned errors = 0;
	assert_int_equal(parse(text, &c, &errors), 0);
	health_t *h = NULL;
	assert_int_equal(health_new(c, &h), 0);
	uint32_t a = 99, b = 99, x = 99;
	assert_int_equal(health_target_id(h, "a", &a), 0);
	assert_int_equal(health_target_id(h, "b", &b), 0);
	assert_int_not_equal(a, b);
	assert_int_equal(health_target_id(h, "zz", &x), SD_ENOTFOUND);
	assert_true(health_state_is_down(health_target_state(h, a))); /* initial: down */
	assert_int_equal(health_force(h, "pool:p1", HEALTH_FORCE_UP), 0);
	assert_int_equal(health_force(h, "b", HEALTH_FORCE_DOWN), 0);
	assert_false(health_state_is_down(health_target_state(h, a)));
	assert_true(health_state_is_down(health_target_state(h, b))); /* own override wins */
	assert_int_equal(health_force(h, "nope", HEALTH_FORCE_DOWN), SD_ENOTFOUND);
	assert_int_equal(health_force(h, "pool:nope", HEALTH_FORCE_DOWN), SD_ENOTFOUND);
	/* run-time targets */
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(1234)};
	inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr);
	uint32_t r = 99;
	assert_int_equal(health_target_add(h, "rt", (struct sockaddr *)&sin, "nope", &r),
	                 SD_ENOTFOUND);
	assert_int_equal(health_target_add(h, "rt", (struct sockaddr *)&sin, "t", &r), 0);
	assert_int_equal(health_target_add(h, "a", (struct sockaddr *)&sin, "t", &x), SD_EEXIST);
	assert_int_equal(x, a);
	assert_int_equal(health_target_remove(h, r), 0);
	assert_int_equal(health_target_remove(h, r), SD_ENOTFOUND);
	assert_int_equal(health_target_state(h, r), HEALTH_STATE_DOWN);
	assert_int_equal(health_target_state(h, 1u << 30), HEALTH_STATE_DOWN);
	char *rep = NULL;
	size_t len = 0;
	assert_int_equal(health_report(h, true, &rep, &len), 0);
	assert_non_null(strstr(rep, "\"name\":\"b\",\"address\":\"[::1]:9\""));
	assert_non_null(strstr(rep, "\"forced\":true,\"force\":\"down\""));
	assert_null(strstr(rep, "\"rt\""));
	free(rep);
	health_free(h);

	/* a new prober restores the overrides from the state file */
	assert_int_equal(health_new(c, &h), 0);
	assert_int_equal(health_target_id(h, "a", &a), 0);
	assert_int_equal(health_target_id(h, "b", &b), 0);
	assert_int_equal(health_word_force(health_target_state(h, a)), HEALTH_FORCE_UP);
	assert_int_equal(health_word_force(health_target_state(h, b)), HEALTH_FORCE_DOWN);
	assert_int_equal(health_force(h, "b", HEALTH_FORCE_NONE), 0);
	assert_int_equal(health_word_force(health_target_state(h, b)), HEALTH_FORCE_UP);

	/* the control-socket grammar */
	char *o = NULL;
	size_t olen = 0;
	assert_int_equal(health_ctl(h, "force-down pool:p1", &o, &olen), 0);
	assert_string_equal(o, "ok\n");
	free(o);
	assert_int_equal(health_word_force(health_target_state(h, a)), HEALTH_FORCE_DOWN);
	assert_int_equal(health_ctl(h, "unforce pool:p1", &o, &olen), 0);
	free(o);
	assert_int_equal(health_ctl(h, "force-up zz", &o, &olen), SD_ENOTFOUND);
	assert_string_equal(o, "unknown target or pool 'zz'\n");
	free(o);
	assert_int_equal(health_ctl(h, "force-up", &o, &olen), SD_EPARSE);
	free(o);
	assert_int_equal(health_ctl(h, "frobnicate a", &o, &olen), SD_EPARSE);
	free(o);
	/* a peer's bytes in the reason: JSON escapes (\u00XX) for controls, DEL and invalid
	 * UTF-8, valid UTF-8 kept, so the control reply's escaping leaves nothing to change */
	health_record(h->by_id[a], false, HEALTH_RES_CONNECT,
	              "said \"\x1b[2J\xff caf\xc3\xa9\x7f\"", 0);
	/* a result is counted done, failed and in the latency histogram in one snapshot */
	health_stats_t st;
	health_stats(h, &st);
	assert_int_equal(st.checks_done, 1);
	assert_int_equal(st.checks_failed, 1);
	assert_int_equal(st.lat_count, 1);
	assert_int_equal(st.lat_hist[0], 1);
	assert_int_equal(health_ctl(h, "--json", &o, &olen), 0);
	assert_non_null(strstr(o, "{\"targets\":["));
	assert_int_equal(strlen(o), olen);
	assert_non_null(strstr(o, "said \\\"\\u001b[2J\\u00ff caf\xc3\xa9\\u007f\\\""));
	assert_false(sd_escape_needed(o, olen, SD_ESCAPE_KEEP_LF));
	free(o);
	assert_int_equal(health_ctl(h, "", &o, &olen), 0);
	assert_non_null(strstr(o, "a "));
	free(o);

	/* a reload that drops b and changes a's port keeps a's id */
	health_conf_t *c2 = NULL;
	snprintf(text, sizeof(text),
	         "health:\n  templates:\n    - {name: t, type: tcp, port: 9}\n  targets:\n"
	         "    - {name: a, address: 127.0.0.1, port: 10, template: t}\n"
	         "    - {name: n, address: 127.0.0.3, template: t}\n");
	assert_int_equal(parse(text, &c2, &errors), 0);
	assert_int_equal(health_apply(h, c2), 0);
	uint32_t a2 = 99;
	assert_int_equal(health_target_id(h, "a", &a2), 0);
	assert_int_equal(a2, a);
	assert_int_equal(health_target_id(h, "b", &x), SD_ENOTFOUND);
	assert_int_equal(health_target_id(h, "n", &x), 0);
	health_free(h);
	health_conf_free(c2);
	health_conf_free(c);
}

/* The generation moves with every change of a state word (an override, a target removed),
 * not with a store that changes nothing; the word's address reads what health_target_state
 * reads. */
static void test_generation_and_word(void **state)
{
	(void)state;
	char text[1024];
	snprintf(text, sizeof(text),
	         "health:\n  state-file: %s/ovr\n  templates:\n    - {name: t, type: tcp, port: 9, "
	         "initial: down}\n  targets:\n    - {name: a, address: 127.0.0.1, template: t}\n",
	         tmpdir);
	health_conf_t *c = NULL;
	unsigned errors = 0;
	assert_int_equal(parse(text, &c, &errors), 0);
	health_t *h = NULL;
	assert_int_equal(health_new(c, &h), 0);
	uint32_t a = 99;
	assert_int_equal(health_target_id(h, "a", &a), 0);
	const _Atomic uint32_t *w = health_target_word(h, a);
	assert_int_equal(atomic_load(w), health_target_state(h, a));
	assert_true(health_state_is_down(atomic_load(w)));
	uint64_t g = health_generation(h);
	assert_int_equal(health_force(h, "a", HEALTH_FORCE_UP), 0);
	assert_true(health_generation(h) > g);
	assert_false(health_state_is_down(atomic_load(w))); /* at once, through the address */
	assert_int_equal(atomic_load(w), health_target_state(h, a));
	g = health_generation(h);
	assert_int_equal(health_force(h, "a", HEALTH_FORCE_UP), 0); /* the same word */
	assert_int_equal(health_generation(h), g);
	assert_int_equal(health_force(h, "a", HEALTH_FORCE_NONE), 0);
	assert_true(health_generation(h) > g);
	assert_true(health_state_is_down(atomic_load(w)));
	/* a run-time target removed reads down through its address too */
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(1234)};
	inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr);
	uint32_t r = 99;
	assert_int_equal(health_target_add(h, "rt", (struct sockaddr *)&sin, "t", &r), 0);
	const _Atomic uint32_t *rw = health_target_word(h, r);
	assert_int_equal(health_force(h, "rt", HEALTH_FORCE_UP), 0);
	assert_false(health_state_is_down(atomic_load(rw)));
	g = health_generation(h);
	assert_int_equal(health_target_remove(h, r), 0);
	assert_true(health_generation(h) > g);
	assert_int_equal(atomic_load(rw), HEALTH_STATE_DOWN);
	/* an id with no word */
	assert_int_equal(atomic_load(health_target_word(h, 1u << 30)), HEALTH_STATE_DOWN);
	health_free(h);
	health_conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_conf_good, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_conf_default_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_conf_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_https_template_ctx, setup, teardown),
	    cmocka_unit_test(test_thresholds),
	    cmocka_unit_test(test_words),
	    cmocka_unit_test_setup_teardown(test_statefile_round_trip, make_tmpdir, rm_tmpdir),
	    cmocka_unit_test_setup_teardown(test_registry_and_force, make_tmpdir, rm_tmpdir),
	    cmocka_unit_test_setup_teardown(test_generation_and_word, make_tmpdir, rm_tmpdir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
