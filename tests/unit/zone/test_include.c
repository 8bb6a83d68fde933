/* test_include.c — the files a load read (zone_load_file with info): the main file and nested
 * $INCLUDEs with paths joined as the loader opened them, ids equal to what
 * zone_file_id_read() sees, a same-size same-mtime edit changing the id, duplicates listed
 * once, nothing listed for a failed load, FIFOs refused without blocking. Every file lives in
 * a fresh mkdtemp() directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "contrib/base/siphash.h"
#include "tests/unit/zone/helpers.h"
#include "zone/load.h"

static char dir[64];
static logcap_t cap;

static void rm_tree(const char *root)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sd-include-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	logcap_start(&cap);
	return mkdir(sub, 0700);
}

static int teardown(void **state)
{
	(void)state;
	logcap_stop();
	rm_tree(dir);
	return 0;
}

/* dir/rel */
static const char *P(const char *rel)
{
	static char ring[4][256];
	static unsigned next;
	char *out = ring[next++ % 4];
	snprintf(out, 256, "%s/%s", dir, rel);
	return out;
}

static void put(const char *rel, const char *text)
{
	FILE *f = fopen(P(rel), "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static const uint8_t *apex(void)
{
	static uint8_t n[DNAME_MAX];
	assert_true(dname_from_str("example.", NULL, n) > 0);
	return n;
}

/* main.zone ─$INCLUDE sub/a.zone─▶ a.zone ─$INCLUDE b.zone (relative to sub/)─▶ b.zone,
 * and main.zone includes b.zone again by another absolute path spelling afterwards. */
static void write_nested(void)
{
	char text[1024];
	snprintf(text, sizeof(text),
	         "$ORIGIN example.\n$TTL 300\n"
	         "@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"
	         "$INCLUDE sub/a.zone\n"
	         "$INCLUDE %s/sub/./b.zone again\n"
	         "tail A 192.0.2.9\n",
	         dir);
	put("main.zone", text);
	put("sub/a.zone", "a A 192.0.2.2\n$INCLUDE b.zone inner\n");
	put("sub/b.zone", "b A 192.0.2.3\n");
}

static void assert_listed(const zone_load_info_t *info, size_t i, const char *path)
{
	assert_true(i < info->count);
	assert_string_equal(info->files[i].path, path);
	zone_file_id_t now;
	assert_int_equal(zone_file_id_read(path, &now), 0);
	assert_true(zone_file_id_equal(&now, &info->files[i].id));
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(info->files[i].id.size, sb.st_size);
	assert_int_equal(info->files[i].id.ino, sb.st_ino);
}

static bool has_a(const zone_version_t *v, const char *owner)
{
	return t_rrset(v, owner, DNS_TYPE_A) != NULL;
}

static void test_nested_list(void **state)
{
	(void)state;
	write_nested();
	zone_load_info_t info;
	zone_version_t *v = NULL;
	int ret = zone_load_file(apex(), P("main.zone"), &info, &v);
	if (ret != 0)
		print_error("%s", cap.all);
	assert_int_equal(ret, 0);
	assert_true(has_a(v, "a.example."));
	assert_true(has_a(v, "b.inner.example."));
	assert_true(has_a(v, "b.again.example."));
	assert_true(has_a(v, "tail.example."));
	/* main first, then in the order opened, each path as the loader opened it: the nested
	 * relative $INCLUDE joined to its includer's directory; the second $INCLUDE of b.zone
	 * is another path spelling, listed as such (the same path twice is listed once) */
	assert_int_equal(info.count, 4);
	assert_listed(&info, 0, P("main.zone"));
	assert_listed(&info, 1, P("sub/a.zone"));
	assert_listed(&info, 2, P("sub/b.zone"));
	assert_listed(&info, 3, P("sub/./b.zone"));
	zone_load_info_free(&info);
	assert_int_equal(info.count, 0);
	assert_null(info.files);
	zone_load_info_free(&info); /* again: harmless */
	zone_version_unref(v);
}

static void test_same_path_listed_once(void **state)
{
	(void)state;
	put("main.zone", "$ORIGIN example.\n$TTL 300\n"
	                 "@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"
	                 "$INCLUDE part.zone one\n$INCLUDE part.zone two\n$INCLUDE part.zone\n");
	put("part.zone", "x A 192.0.2.5\n");
	zone_load_info_t info;
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file(apex(), P("main.zone"), &info, &v), 0);
	assert_true(has_a(v, "x.one.example."));
	assert_true(has_a(v, "x.two.example."));
	assert_true(has_a(v, "x.example."));
	assert_int_equal(info.count, 2);
	assert_listed(&info, 0, P("main.zone"));
	assert_listed(&info, 1, P("part.zone"));
	zone_load_info_free(&info);
	zone_version_unref(v);
}

/* An in-place rewrite of an included file with the same size and the same mtime changes its
 * id (the content hash), and only that file's. */
static void test_same_size_same_mtime_edit(void **state)
{
	(void)state;
	write_nested();
	zone_load_info_t info;
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file(apex(), P("main.zone"), &info, &v), 0);
	zone_version_unref(v);
	struct stat before;
	assert_int_equal(stat(P("sub/b.zone"), &before), 0);
	int fd = open(P("sub/b.zone"), O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "4", 1, strlen("b A 192.0.2.")), 1);
	struct timespec times[2] = {before.st_atim, before.st_mtim};
	assert_int_equal(futimens(fd, times), 0);
	assert_int_equal(close(fd), 0);
	struct stat after;
	assert_int_equal(stat(P("sub/b.zone"), &after), 0);
	assert_int_equal(after.st_size, before.st_size);
	assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	zone_file_id_t now;
	assert_int_equal(zone_file_id_read(P("main.zone"), &now), 0);
	assert_true(zone_file_id_equal(&now, &info.files[0].id));
	assert_int_equal(zone_file_id_read(P("sub/a.zone"), &now), 0);
	assert_true(zone_file_id_equal(&now, &info.files[1].id));
	assert_int_equal(zone_file_id_read(P("sub/b.zone"), &now), 0);
	assert_false(zone_file_id_equal(&now, &info.files[2].id));
	zone_load_info_free(&info);
}

static void test_failed_load_lists_nothing(void **state)
{
	(void)state;
	put("main.zone", "$ORIGIN example.\n$TTL 300\n"
	                 "@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"
	                 "$INCLUDE sub/a.zone\n");
	put("sub/a.zone", "$INCLUDE missing.zone\n");
	zone_load_info_t info = {.files = (void *)&info, .count = 99}; /* overwritten */
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file(apex(), P("main.zone"), &info, &v), SD_EPARSE);
	assert_null(v);
	assert_int_equal(info.count, 0);
	assert_null(info.files);
	assert_non_null(strstr(cap.all, "sub/missing.zone"));
	assert_int_equal(zone_load_file(apex(), P("nope.zone"), &info, &v), -ENOENT);
	assert_int_equal(info.count, 0);
	assert_null(info.files);
}

/* The content hash (load.h): SipHash-2-4 of the bytes under the loader's key, whatever the
 * size (a file read in many chunks hashes as one piece); one byte changed changes it. */
static void test_file_id_hash(void **state)
{
	(void)state;
	static const uint8_t key[SIPHASH_KEY_LEN] = "steerdns-file-id";
	zone_file_id_t id, other;
	put("abc", "abc");
	assert_int_equal(zone_file_id_read(P("abc"), &id), 0);
	assert_true(id.hash == sd_siphash(key, "abc", 3));
	assert_int_equal(id.size, 3);
	put("abd", "abd");
	assert_int_equal(zone_file_id_read(P("abd"), &other), 0);
	assert_true(other.hash != id.hash);
	put("empty", "");
	assert_int_equal(zone_file_id_read(P("empty"), &id), 0);
	assert_true(id.hash == sd_siphash(key, "", 0));
	size_t n = 100000; /* several of the reader's chunks */
	char *big = malloc(n + 1);
	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	put("big", big);
	assert_int_equal(zone_file_id_read(P("big"), &id), 0);
	assert_true(id.hash == sd_siphash(key, big, n));
	free(big);
	assert_int_equal(zone_file_id_read(P("none"), &id), -ENOENT);
	assert_int_equal(zone_file_id_read(dir, &id), -EINVAL); /* a directory */
}

/* A FIFO is refused, by the id reader and by $INCLUDE, without blocking on the open. */
static void test_fifo_refused(void **state)
{
	(void)state;
	assert_int_equal(mkfifo(P("fifo"), 0600), 0);
	zone_file_id_t id;
	assert_int_equal(zone_file_id_read(P("fifo"), &id), -EINVAL);
	put("main.zone", "$ORIGIN example.\n$TTL 300\n"
	                 "@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"
	                 "$INCLUDE fifo\n");
	zone_load_info_t info;
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file(apex(), P("main.zone"), &info, &v), SD_EPARSE);
	assert_int_equal(info.count, 0);
	assert_non_null(strstr(cap.all, "not a regular file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_nested_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_path_listed_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_size_same_mtime_edit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_load_lists_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_id_hash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fifo_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
