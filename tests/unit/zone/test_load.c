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
#include "tests/unit/logcap.h"
#include "zone/load.h"

static logcap_t cap;

static int setup(void **state)
{
	logcap_start(&cap);
	return 0;
}

static int teardown(void **state)
{
	logcap_stop();
	return 0;
}

static const uint8_t *N(const char *text)
{
	static uint8_t ring[4][DNAME_MAX];
	static unsigned next;
	uint8_t *out = ring[next++ % 4];
	assert_true(dname_from_str(text, NULL, out) > 0);
	return out;
}

static const zone_rrset_t *RS(const zone_version_t *v, const char *owner, uint16_t type)
{
	const uint8_t *n = N(owner);
	const zone_node_t *node = zone_version_find(v, n, dname_len(n));
	if (!node)
		return NULL;
	return zone_node_rrset(node, type);
}

static void test_good(void **state)
{
	zone_version_t *v = NULL;
	int ret = zone_load_file(N("example."), "data/good/example.zone", NULL, &v);
	if (ret != 0)
		print_error("%s", cap.all);
	assert_int_equal(ret, 0);
	assert_int_equal(cap.errors, 0);
	assert_int_equal(zone_version_serial(v), 2024010101);
	const zone_rrset_t *soa = zone_version_soa(v);
	assert_int_equal(soa->ttl, 300);
	/* SOA names made absolute from the origin */
	assert_memory_equal(soa->rdata + 2, "\3ns1\7example\0\12hostmaster\7example\0", 25);
	assert_int_equal(RS(v, "example.", DNS_TYPE_NS)->count, 2);
	assert_int_equal(RS(v, "www.example.", DNS_TYPE_A)->ttl, 600);
	assert_int_equal(RS(v, "www.example.", DNS_TYPE_AAAA)->ttl, 600); /* blank owner */
	const zone_rrset_t *mx = RS(v, "mail.example.", DNS_TYPE_MX);
	assert_memory_equal(mx->rdata, "\0\20\0\12\4Mail\7Example\0", 18); /* case kept */
	assert_int_equal(mx->ttl, 300);
	const zone_rrset_t *unk = RS(v, "unk.example.", 65000);
	assert_non_null(unk);
	assert_int_equal(unk->rdata_len, 5);
	assert_memory_equal(unk->rdata, "\0\3\xab\xcd\xef", 5);
	const zone_rrset_t *txt = RS(v, "long.example.", DNS_TYPE_TXT);
	assert_int_equal(txt->rdata_len, 2 + 1 + 255 + 1 + 4);
	assert_int_equal(txt->rdata[2], 255);
	assert_int_equal(txt->rdata[2 + 256], 4);
	/* relative $ORIGIN is relative to the previous origin */
	assert_non_null(RS(v, "host.sub.example.", DNS_TYPE_A));
	assert_null(RS(v, "host.sub.", DNS_TYPE_A));
	/* $INCLUDE with an origin; its $TTL stays inside */
	assert_int_equal(RS(v, "x.part.example.", DNS_TYPE_A)->ttl, 120);
	assert_non_null(RS(v, "part.example.", DNS_TYPE_TXT));
	assert_int_equal(RS(v, "after.example.", DNS_TYPE_A)->ttl, 300);
	assert_int_equal(zone_version_rr_count(v), 13);
	zone_version_unref(v);
}

static void test_default_ttl(void **state)
{
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file(N("example."), "data/good/nottl.zone", NULL, &v), 0);
	assert_int_equal(zone_version_soa(v)->ttl, 3600);
	assert_int_equal(RS(v, "example.", DNS_TYPE_NS)->ttl, 3600);
	assert_int_equal(RS(v, "ns1.example.", DNS_TYPE_A)->ttl, 7200);
	assert_int_equal(RS(v, "a.example.", DNS_TYPE_A)->ttl, 7200);
	assert_int_equal(RS(v, "b.example.", DNS_TYPE_A)->ttl, 60);
	assert_int_equal(RS(v, "c.example.", DNS_TYPE_A)->ttl, 60);
	zone_version_unref(v);
}

static void test_missing_file(void **state)
{
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file(N("example."), "data/good/nope.zone", NULL, &v), -ENOENT);
	assert_null(v);
	assert_non_null(strstr(cap.all, "data/good/nope.zone: cannot read"));
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
		logcap_clear(&cap);
		zone_version_t *v = NULL;
		int ret = zone_load_file(N("example."), path, NULL, &v);
		if (ret == 0 || !strstr(cap.all, expect) || cap.errors == 0)
			print_error("%s: ret %d, expected '%s' in:\n%s", path, ret, expect,
			            cap.all);
		assert_int_not_equal(ret, 0);
		assert_null(v);
		assert_true(ret == SD_EPARSE || ret == SD_ESEMANTIC);
		assert_non_null(strstr(cap.all, expect));
		files++;
	}
	closedir(d);
	assert_true(files >= 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_good, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_default_ttl, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
