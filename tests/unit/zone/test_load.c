/* test_load.c — zone files through ldns: directives, relative names, unknown types, long
 * TXT, and every file of data/bad/ failing with the error line its first line expects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "tests/unit/zone/helpers.h"
#include "zone/load.h"

static void test_good(void **state)
{
	zone_version_t *v = NULL;
	int ret = zone_load_file(t_name("example."), "data/good/example.zone", NULL, &v);
	if (ret != 0)
		print_error("%s", t_cap.all);
	assert_int_equal(ret, 0);
	assert_int_equal(t_cap.errors, 0);
	assert_int_equal(zone_version_serial(v), 2024010101);
	const zone_rrset_t *soa = zone_version_soa(v);
	assert_int_equal(soa->ttl, 300);
	/* SOA names made absolute from the origin */
	assert_memory_equal(soa->rdata + 2, "\3ns1\7example\0\12hostmaster\7example\0", 25);
	assert_int_equal(t_rrset(v, "example.", DNS_TYPE_NS)->count, 2);
	assert_int_equal(t_rrset(v, "www.example.", DNS_TYPE_A)->ttl, 600);
	assert_int_equal(t_rrset(v, "www.example.", DNS_TYPE_AAAA)->ttl, 600); /* blank owner */
	const zone_rrset_t *mx = t_rrset(v, "mail.example.", DNS_TYPE_MX);
	assert_memory_equal(mx->rdata, "\0\20\0\12\4Mail\7Example\0", 18); /* case kept */
	assert_int_equal(mx->ttl, 300);
	const zone_rrset_t *unk = t_rrset(v, "unk.example.", 65000);
	assert_non_null(unk);
	assert_int_equal(unk->rdata_len, 5);
	assert_memory_equal(unk->rdata, "\0\3\xab\xcd\xef", 5);
	const zone_rrset_t *txt = t_rrset(v, "long.example.", DNS_TYPE_TXT);
	assert_int_equal(txt->rdata_len, 2 + 1 + 255 + 1 + 4);
	assert_int_equal(txt->rdata[2], 255);
	assert_int_equal(txt->rdata[2 + 256], 4);
	/* relative $ORIGIN is relative to the previous origin */
	assert_non_null(t_rrset(v, "host.sub.example.", DNS_TYPE_A));
	assert_null(t_rrset(v, "host.sub.", DNS_TYPE_A));
	/* $INCLUDE with an origin; its $TTL stays inside */
	assert_int_equal(t_rrset(v, "x.part.example.", DNS_TYPE_A)->ttl, 120);
	assert_non_null(t_rrset(v, "part.example.", DNS_TYPE_TXT));
	assert_int_equal(t_rrset(v, "after.example.", DNS_TYPE_A)->ttl, 300);
	assert_int_equal(zone_version_rr_count(v), 13);
	zone_version_unref(v);
}

static void test_default_ttl(void **state)
{
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file(t_name("example."), "data/good/nottl.zone", NULL, &v), 0);
	assert_int_equal(zone_version_soa(v)->ttl, 3600);
	assert_int_equal(t_rrset(v, "example.", DNS_TYPE_NS)->ttl, 3600);
	assert_int_equal(t_rrset(v, "ns1.example.", DNS_TYPE_A)->ttl, 7200);
	assert_int_equal(t_rrset(v, "a.example.", DNS_TYPE_A)->ttl, 7200);
	assert_int_equal(t_rrset(v, "b.example.", DNS_TYPE_A)->ttl, 60);
	assert_int_equal(t_rrset(v, "c.example.", DNS_TYPE_A)->ttl, 60);
	zone_version_unref(v);
}

/* ldns gives 3600 to a record without a TTL when the default is 0; the loader gives 0 */
static void test_ttl_zero(void **state)
{
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file(t_name("example."), "data/good/ttl0.zone", NULL, &v), 0);
	assert_int_equal(zone_version_soa(v)->ttl, 0);
	assert_int_equal(t_rrset(v, "example.", DNS_TYPE_NS)->ttl, 0);
	assert_int_equal(t_rrset(v, "ns1.example.", DNS_TYPE_A)->ttl, 0);
	assert_int_equal(t_rrset(v, "a.example.", DNS_TYPE_A)->ttl, 0);
	zone_version_unref(v);
}

static void test_missing_file(void **state)
{
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file(t_name("example."), "data/good/nope.zone", NULL, &v),
	                 -ENOENT);
	assert_null(v);
	assert_non_null(strstr(t_cap.all, "data/good/nope.zone: cannot read"));
}

/* The text after "; expect: " on the first line of a file. */
static void read_expect(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[512];
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_int_equal(strncmp(line, "; expect: ", 10), 0);
	line[strcspn(line, "\n")] = '\0';
	snprintf(out, size, "%s", line + 10);
}

static void test_bad_files(void **state)
{
	DIR *d = opendir("data/bad");
	assert_non_null(d);
	struct dirent *e;
	unsigned files = 0;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".zone") != 0)
			continue;
		char path[512], expect[512];
		snprintf(path, sizeof(path), "data/bad/%s", e->d_name);
		read_expect(path, expect, sizeof(expect));
		logcap_clear(&t_cap);
		zone_version_t *v = NULL;
		int ret = zone_load_file(t_name("example."), path, NULL, &v);
		if (ret == 0 || !strstr(t_cap.all, expect) || t_cap.errors == 0)
			print_error("%s: ret %d, expected '%s' in:\n%s", path, ret, expect,
			            t_cap.all);
		assert_int_not_equal(ret, 0);
		assert_null(v);
		assert_true(ret == SD_EPARSE || ret == SD_ESEMANTIC);
		assert_non_null(strstr(t_cap.all, expect));
		files++;
	}
	closedir(d);
	assert_true(files >= 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_good, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_default_ttl, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_ttl_zero, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_missing_file, t_log_setup, t_log_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_files, t_log_setup, t_log_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
