/* Unit tests for the drift report (server/drift.c): what `steerctl zone diff` prints for a
 * file version against a served one — "+"/"-" lines in canonical order, the SOA serial
 * ignored, other SOA fields and TTLs compared. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contrib/base/strbuf.h"
#include "dns/name.h"
#include "server/drift.h"
#include "zone/load.h"
#include "zone/version.h"

#define HEAD                 "$ORIGIN example.com.\n$TTL 300\n"
#define SOA(serial, minimum) "@ SOA ns1 hostmaster " #serial " 3600 600 86400 " #minimum "\n"

/* Parse text as example.com through a temporary file. */
static zone_version_t *load(const char *text)
{
	char path[] = "/tmp/test_drift_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	uint8_t apex[DNAME_MAX];
	assert_true(dname_from_str("example.com.", NULL, apex) > 0);
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file(apex, path, NULL, &v), 0);
	unlink(path);
	return v;
}

/* The report's record lines (comments dropped), tabs made spaces. */
static int report(const char *file, const char *served, sd_strbuf_t *lines)
{
	zone_version_t *f = load(file), *s = load(served);
	sd_strbuf_t out = {0};
	int ret = srv_drift_report("example.com.", "f.zone", f, s, &out);
	for (const char *p = sd_strbuf_str(&out); *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		for (size_t i = 0; p[0] != ';' && i < n; i++)
			sd_strbuf_putc(lines, p[i] == '\t' ? ' ' : p[i]);
		if (p[0] != ';')
			sd_strbuf_putc(lines, '\n');
		p += n + (nl != NULL);
	}
	sd_strbuf_free(&out);
	zone_version_unref(f);
	zone_version_unref(s);
	return ret;
}

static void test_equal_but_serial(void **state)
{
	(void)state;
	sd_strbuf_t lines = {0};
	int ret = report(HEAD SOA(1, 60) "@ NS ns1\nns1 A 192.0.2.1\n",
	                 HEAD SOA(7, 60) "@ NS ns1\nns1 A 192.0.2.1\n", &lines);
	assert_int_equal(ret, 0);
	assert_string_equal(sd_strbuf_str(&lines), "");
	sd_strbuf_free(&lines);
}

static void test_both_sides_canonical_order(void **state)
{
	(void)state;
	sd_strbuf_t lines = {0};
	/* served: b added, a's TTL changed, z removed; canonical order a < b < z, "-" first */
	int ret = report(HEAD SOA(1, 60) "@ NS ns1\nns1 A 192.0.2.1\na A 192.0.2.2\nz TXT \"z\"\n",
	                 HEAD SOA(2, 60) "@ NS ns1\nns1 A 192.0.2.1\na 60 A 192.0.2.2\nb AAAA "
	                                 "2001:db8::1\n",
	                 &lines);
	assert_int_equal(ret, SRV_DRIFT_DIFFER);
	assert_string_equal(sd_strbuf_str(&lines), "- a.example.com. 300 IN A 192.0.2.2\n"
	                                           "+ a.example.com. 60 IN A 192.0.2.2\n"
	                                           "+ b.example.com. 300 IN AAAA 2001:db8::1\n"
	                                           "- z.example.com. 300 IN TXT \"z\"\n");
	sd_strbuf_free(&lines);
}

static void test_soa_fields_other_than_serial(void **state)
{
	(void)state;
	sd_strbuf_t lines = {0};
	int ret = report(HEAD SOA(1, 60) "@ NS ns1\n", HEAD SOA(5, 120) "@ NS ns1\n", &lines);
	assert_int_equal(ret, SRV_DRIFT_DIFFER);
	assert_string_equal(
	    sd_strbuf_str(&lines),
	    "- example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 86400 "
	    "60\n"
	    "+ example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 5 3600 600 86400 "
	    "120\n");
	sd_strbuf_free(&lines);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_equal_but_serial),
	    cmocka_unit_test(test_both_sides_canonical_order),
	    cmocka_unit_test(test_soa_fields_other_than_serial),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
