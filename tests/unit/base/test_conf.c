/* Unit tests for contrib/base/conf: YAML tree, typed readers and error reporting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "contrib/base/conf.h"
#include "contrib/base/err.h"
#include "tests/unit/logcap.h"

static const char *const top_keys[] = {"server", "zones", NULL};
static const char *const server_keys[] = {"workers", "timeout", "flag", NULL};

static void test_tree_and_readers(void **state)
{
	(void)state;
	conf_doc_t *doc = NULL;
	assert_int_equal(conf_load_string("server:\n  workers: 4\n  timeout: 250ms\n  flag: yes\n"
	                                  "zones:\n  - name: a.\n  - name: b.\n",
	                                  "t.yaml", &doc),
	                 0);
	conf_ctx_t ctx = {0};
	const conf_node_t *root = conf_root(doc);
	assert_true(conf_expect_map(&ctx, root, top_keys));
	const conf_node_t *srv = conf_get(root, "server");
	assert_non_null(srv);
	assert_true(conf_expect_map(&ctx, srv, server_keys));
	uint32_t w = 0;
	assert_true(conf_u32(&ctx, conf_get(srv, "workers"), 1, 64, &w));
	assert_int_equal(w, 4);
	uint64_t ms = 0;
	assert_true(conf_duration_ms(&ctx, conf_get(srv, "timeout"), 1, 60000, &ms));
	assert_int_equal(ms, 250);
	bool flag = false;
	assert_true(conf_bool(&ctx, conf_get(srv, "flag"), &flag));
	assert_true(flag);
	const conf_node_t *zones = conf_get(root, "zones");
	assert_int_equal(zones->count, 2);
	assert_string_equal(conf_get(zones->items[1], "name")->path, "zones[1].name");
	assert_int_equal(conf_get(zones->items[1], "name")->line, 7);
	assert_int_equal(ctx.errors, 0);
	conf_free(doc);
}

static void test_errors_are_counted(void **state)
{
	(void)state;
	conf_doc_t *doc = NULL;
	assert_int_equal(conf_load_string("server:\n  workers: many\n  bogus: 1\n  workers: 2\n",
	                                  "t.yaml", &doc),
	                 0);
	conf_ctx_t ctx = {0};
	const conf_node_t *srv = conf_get(conf_root(doc), "server");
	conf_expect_map(&ctx, srv, server_keys); /* unknown 'bogus', duplicate 'workers' */
	assert_int_equal(ctx.errors, 2);
	uint32_t w = 7;
	assert_false(conf_u32(&ctx, conf_get(srv, "workers"), 1, 64, &w));
	assert_int_equal(w, 7);
	assert_int_equal(ctx.errors, 3);
	conf_free(doc);
}

/* Durations: every unit, the bounds, and what each reader refuses (leaving *out alone). */
static void test_durations(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		bool ms_ok;
		uint64_t ms;
		bool us_ok;
		uint64_t us;
	} cases[] = {
	    {"250ms", true, 250, true, 250000},
	    {"5s", true, 5000, true, 5000000},
	    {"5", true, 5000, true, 5000000},
	    {"2m", true, 120000, true, 120000000},
	    {"1h", true, 3600000, false, 0},
	    {"50us", false, 0, true, 50},
	    {"2000us", true, 2, true, 2000},
	    {"0", false, 0, true, 0},
	    {"1500us", false, 0, true, 1500},
	    {"5 s", false, 0, false, 0},
	    {"-1s", false, 0, false, 0},
	    {"1d", false, 0, false, 0},
	    {"ms", false, 0, false, 0},
	    {"99999999999999999999s", false, 0, false, 0},
	    {"18446744073709551615h", false, 0, false, 0},
	};
	logcap_t cap;
	logcap_start(&cap);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[80];
		snprintf(text, sizeof(text), "d: %s\n", cases[i].text);
		conf_doc_t *doc = NULL;
		assert_int_equal(conf_load_string(text, "t.yaml", &doc), 0);
		const conf_node_t *d = conf_get(conf_root(doc), "d");
		conf_ctx_t ctx = {0};
		uint64_t ms = 7, us = 7;
		/* ms: 1ms..2h; us: 0..1h */
		assert_int_equal(conf_duration_ms(&ctx, d, 1, 7200000, &ms), cases[i].ms_ok);
		assert_int_equal(ms, cases[i].ms_ok ? cases[i].ms : 7);
		assert_int_equal(conf_duration_us(&ctx, d, 0, 3600000000 - 1, &us), cases[i].us_ok);
		assert_int_equal(us, cases[i].us_ok ? cases[i].us : 7);
		assert_int_equal(ctx.errors, !cases[i].ms_ok + !cases[i].us_ok);
		conf_free(doc);
	}
	logcap_stop();
	assert_non_null(strstr(cap.all, "t.yaml:1"));
	assert_non_null(strstr(cap.all, "expected a duration from 0us to 3599999999us"));
	assert_non_null(strstr(cap.all, "expected a duration from 1ms to 7200000ms"));
}

static void test_syntax_error(void **state)
{
	(void)state;
	conf_doc_t *doc = NULL;
	assert_int_equal(conf_load_string("server: [1, 2\nzones: x\n", "t.yaml", &doc), SD_EPARSE);
	assert_null(doc);
}

/* A second document would be silently ignored: refused, naming its line. */
static void test_second_document_refused(void **state)
{
	(void)state;
	logcap_t cap;
	conf_doc_t *doc = NULL;
	logcap_start(&cap);
	assert_int_equal(
	    conf_load_string("server:\n  workers: 1\n---\nzones: []\n", "t.yaml", &doc), SD_EPARSE);
	logcap_stop();
	assert_null(doc);
	assert_int_equal(cap.errors, 1);
	assert_non_null(strstr(cap.last, "t.yaml:3: a second YAML document"));
	/* one document with explicit markers, or an empty one, is fine */
	assert_int_equal(conf_load_string("---\nserver: {}\n...\n", "t.yaml", &doc), 0);
	conf_free(doc);
	assert_int_equal(conf_load_string("---\n...\n", "t.yaml", &doc), 0);
	conf_free(doc);
	assert_int_equal(conf_load_string("", "t.yaml", &doc), 0);
	conf_free(doc);
}

/* "\0" in a double-quoted scalar would cut the C string short: refused, value or key. */
static void test_nul_in_string_refused(void **state)
{
	(void)state;
	static const char *const texts[] = {
	    "zones:\n  - name: \"example.com\\0evil\"\n",
	    "zones:\n  - name: \"example.com\\x00\"\n",
	    "zones:\n  - \"na\\0me\": example.com\n",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		logcap_t cap;
		conf_doc_t *doc = NULL;
		logcap_start(&cap);
		assert_int_equal(conf_load_string(texts[i], "t.yaml", &doc), SD_EPARSE);
		logcap_stop();
		assert_null(doc);
		assert_non_null(strstr(cap.last, "t.yaml:2: zones[0]"));
		assert_non_null(strstr(cap.last, "NUL"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree_and_readers),
	    cmocka_unit_test(test_errors_are_counted),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_syntax_error),
	    cmocka_unit_test(test_second_document_refused),
	    cmocka_unit_test(test_nul_in_string_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
