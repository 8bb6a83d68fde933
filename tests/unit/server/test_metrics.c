/* Unit tests for the Prometheus text writer (server/metrics.h): HELP/TYPE lines, samples with
 * and without labels, label value escaping (backslash, double quote, newline; other bytes as
 * they are), HELP escaping (backslash and newline only), and server.metrics-listen parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>

#include "contrib/base/strbuf.h"
#include "server/config.h"
#include "server/metrics.h"

static void test_head_and_samples(void **state)
{
	(void)state;
	sd_strbuf_t b = SD_STRBUF_INIT;
	srv_metric_head(&b, "steerdns_x_total", "counter", "Things\\done\non two lines");
	srv_metric_u64(&b, "steerdns_x_total", NULL, 0, 18446744073709551615ull);
	srv_metric_u64(&b, "steerdns_x_total",
	               (srv_metric_label_t[]){{"zone", "example.com"}, {"kind", "axfr"}}, 2, 7);
	srv_metric_f64(&b, "steerdns_y_seconds", (srv_metric_label_t[]){{"le", "+Inf"}}, 1, 0.25);
	assert_false(b.oom);
	assert_string_equal(sd_strbuf_str(&b),
	                    "# HELP steerdns_x_total Things\\\\done\\non two lines\n"
	                    "# TYPE steerdns_x_total counter\n"
	                    "steerdns_x_total 18446744073709551615\n"
	                    "steerdns_x_total{zone=\"example.com\",kind=\"axfr\"} 7\n"
	                    "steerdns_y_seconds{le=\"+Inf\"} 0.25\n");
	sd_strbuf_free(&b);
}

static void test_label_escaping(void **state)
{
	(void)state;
	sd_strbuf_t b = SD_STRBUF_INIT;
	/* a zone name may hold any byte in presentation form: \" and \\ and a newline */
	srv_metric_u64(&b, "m", (srv_metric_label_t[]){{"zone", "a\"b\\c\nd{e}=,f é"}}, 1, 1);
	assert_string_equal(sd_strbuf_str(&b), "m{zone=\"a\\\"b\\\\c\\nd{e}=,f é\"} 1\n");
	sd_strbuf_reset(&b);
	srv_metric_escape(&b, "\\\\");
	assert_string_equal(sd_strbuf_str(&b), "\\\\\\\\");
	sd_strbuf_reset(&b);
	srv_metric_u64(&b, "m", (srv_metric_label_t[]){{"zone", ""}, {"x", NULL}}, 2, 0);
	assert_string_equal(sd_strbuf_str(&b), "m{zone=\"\",x=\"\"} 0\n");
	sd_strbuf_free(&b);
}

static void test_f64_round_trips(void **state)
{
	(void)state;
	sd_strbuf_t b = SD_STRBUF_INIT;
	srv_metric_f64(&b, "m", NULL, 0, 0.1);
	assert_string_equal(sd_strbuf_str(&b), "m 0.10000000000000001\n");
	sd_strbuf_reset(&b);
	srv_metric_f64(&b, "m", NULL, 0, 3.0);
	assert_string_equal(sd_strbuf_str(&b), "m 3\n");
	sd_strbuf_free(&b);
}

#define BASE "server:\n  listen: [\"127.0.0.1:5353\"]\n  metrics-listen: %s\nzones: []\n"

static void test_config_key(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	char text[256];
	snprintf(text, sizeof(text), BASE, "\"127.0.0.1:9153\"");
	assert_int_equal(srv_config_load_string(text, "t.yaml", &cfg), 0);
	assert_true(cfg->metrics_set);
	assert_int_equal(cfg->metrics_addr.ss.ss_family, AF_INET);
	assert_int_equal(srv_addr_port(&cfg->metrics_addr), 9153);
	srv_config_free(cfg);
	snprintf(text, sizeof(text), BASE, "\"[::1]:9154\"");
	assert_int_equal(srv_config_load_string(text, "t.yaml", &cfg), 0);
	assert_true(cfg->metrics_set);
	assert_int_equal(cfg->metrics_addr.ss.ss_family, AF_INET6);
	assert_int_equal(srv_addr_port(&cfg->metrics_addr), 9154);
	srv_config_free(cfg);
	snprintf(text, sizeof(text), BASE, "off");
	assert_int_equal(srv_config_load_string(text, "t.yaml", &cfg), 0);
	assert_false(cfg->metrics_set);
	srv_config_free(cfg);
	/* the port is required: no conventional one to default to */
	const char *bad[] = {"\"127.0.0.1\"", "\"::1\"", "\"[::1]\"", "\"localhost:9153\"",
	                     "\"127.0.0.1:99999\""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg = NULL;
		snprintf(text, sizeof(text), BASE, bad[i]);
		assert_int_not_equal(srv_config_load_string(text, "t.yaml", &cfg), 0);
		srv_config_free(cfg);
	}
	/* absent: off */
	assert_int_equal(srv_config_load_string("server:\n  listen: [\"127.0.0.1:5353\"]\n"
	                                        "zones: []\n",
	                                        "t.yaml", &cfg),
	                 0);
	assert_false(cfg->metrics_set);
	srv_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_head_and_samples),
	    cmocka_unit_test(test_label_escaping),
	    cmocka_unit_test(test_f64_round_trips),
	    cmocka_unit_test(test_config_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
