/* Unit tests for zone/journal and zone/dump: round trip, torn and corrupt tails, limits and
 * compaction, header checks, zone_write_file -> zone_load_file, format 2's time and source
 * per entry, a format-1 journal (written here byte by byte as the old code did) read and
 * upgraded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "helpers.h"
#include "zone/load.h"
#include "zone/changeset.h"
#include "zone/dump.h"
#include "zone/journal.h"
#include "contrib/base/crc32c.h"

#define CHAIN 6

typedef struct fixture {
	char dir[64];
	char path[128];
	zone_version_t *v[CHAIN + 1]; /* serials 100 .. 100 + CHAIN */
	zone_changeset_t *cs[CHAIN];  /* v[i] -> v[i + 1] */
	char lines[8][256];           /* captured warning/error log lines */
	int nlines;
} fixture_t;

static void hook(log_level_t level, const char *line, void *data)
{
	fixture_t *f = data;
	if (level <= LOG_LEVEL_WARNING && f->nlines < 8)
		snprintf(f->lines[f->nlines++], sizeof(f->lines[0]), "%s", line);
}

/* Version i: the base records plus host<k> for k < i, at serial 100 + i. */
static zone_version_t *version(int i)
{
	static char serial[16], addr[CHAIN][24];
	trr_t rrs[3 + CHAIN];
	snprintf(serial, sizeof(serial), "%d", 100 + i);
	rrs[0] = (trr_t){"@", DNS_TYPE_SOA, 3600, serial};
	rrs[1] = (trr_t){"@", DNS_TYPE_NS, 3600, "ns.example.net."};
	rrs[2] = (trr_t){"www", DNS_TYPE_A, 300, "192.0.2.1"};
	static const char *hosts[CHAIN] = {"h0", "h1", "h2", "h3", "h4", "h5"};
	for (int k = 0; k < i; k++) {
		snprintf(addr[k], sizeof(addr[k]), "198.51.100.%d", k + 1);
		rrs[3 + k] = (trr_t){hosts[k], DNS_TYPE_A, 60, addr[k]};
	}
	return t_build(rrs, 3 + (size_t)i);
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/journaltestXXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/example.com.journal", f->dir);
	for (int i = 0; i <= CHAIN; i++)
		f->v[i] = version(i);
	for (int i = 0; i < CHAIN; i++)
		assert_int_equal(zone_changeset_diff(f->v[i], f->v[i + 1], &f->cs[i]), 0);
	log_set_hook(hook, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	log_set_hook(NULL, NULL);
	for (int i = 0; i <= CHAIN; i++)
		zone_version_unref(f->v[i]);
	for (int i = 0; i < CHAIN; i++)
		zone_changeset_free(f->cs[i]);
	DIR *d = opendir(f->dir);
	struct dirent *e;
	char p[512];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void assert_same_cs(const zone_changeset_t *a, const zone_changeset_t *b)
{
	uint8_t *x = NULL, *y = NULL;
	size_t lx = 0, ly = 0;
	assert_int_equal(zone_changeset_serialize(a, &x, &lx), 0);
	assert_int_equal(zone_changeset_serialize(b, &y, &ly), 0);
	assert_int_equal(lx, ly);
	assert_memory_equal(x, y, lx);
	free(x);
	free(y);
}

static zone_journal_t *open_j(fixture_t *f, const zone_journal_limits_t *lim)
{
	zone_journal_t *j = NULL;
	assert_int_equal(zone_journal_open(f->path, t_apex(), lim, &j), 0);
	return j;
}

static void append_n(zone_journal_t *j, fixture_t *f, int from, int to)
{
	for (int i = from; i < to; i++)
		assert_int_equal(zone_journal_append(j, f->cs[i]), 0);
}

static off_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* A journal of f's entries [0, end), closed again; returns its size after the first mid
 * entries, and its size at the end in *full unless full is NULL. */
static uint64_t write_entries(fixture_t *f, int mid, int end, uint64_t *full)
{
	zone_journal_t *j = open_j(f, NULL);
	append_n(j, f, 0, mid);
	uint64_t at_mid = zone_journal_size(j);
	append_n(j, f, mid, end);
	if (full)
		*full = zone_journal_size(j);
	zone_journal_close(j);
	return at_mid;
}

/* Overwrite len bytes of the file at offset at. */
static void poke(const char *path, off_t at, const void *bytes, size_t len)
{
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, bytes, len, at), (ssize_t)len);
	close(fd);
}

static void test_roundtrip(void **state)
{
	fixture_t *f = *state;
	zone_journal_t *j = open_j(f, NULL);
	uint32_t s;
	assert_int_equal(zone_journal_last_serial(j, &s), SD_ENOTFOUND);
	append_n(j, f, 0, 3);
	/* Out of chain: refused, nothing written. */
	off_t before = file_size(f->path);
	assert_int_equal(zone_journal_append(j, f->cs[4]), SD_ESEMANTIC);
	assert_int_equal(file_size(f->path), before);
	zone_journal_close(j);

	j = open_j(f, NULL);
	assert_int_equal(zone_journal_depth(j), 3);
	assert_int_equal(zone_journal_size(j), (uint64_t)before);
	assert_int_equal(zone_journal_first_serial(j, &s), 0);
	assert_int_equal(s, 100);
	assert_int_equal(zone_journal_last_serial(j, &s), 0);
	assert_int_equal(s, 103);
	zone_changeset_t **list = NULL;
	size_t n = 0;
	assert_int_equal(zone_journal_read(j, 100, &list, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		assert_same_cs(list[i], f->cs[i]);
	/* Replaying the journal onto v[0] gives v[3]. */
	zone_version_t *cur = f->v[0], *next = NULL;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(zone_changeset_apply(cur, list[i], NULL, &next), 0);
		if (cur != f->v[0])
			zone_version_unref(cur);
		cur = next;
	}
	t_assert_versions_equal(cur, f->v[3]);
	zone_version_unref(cur);
	zone_journal_free_list(list, n);
	assert_int_equal(zone_journal_read(j, 102, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_same_cs(list[0], f->cs[2]);
	zone_journal_free_list(list, n);
	assert_int_equal(zone_journal_read(j, 103, &list, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(zone_journal_read(j, 99, &list, &n), SD_ENOTFOUND);
	/* Appending continues the chain after a reopen. */
	append_n(j, f, 3, 4);
	zone_journal_close(j);
	j = open_j(f, NULL);
	assert_int_equal(zone_journal_depth(j), 4);
	zone_journal_close(j);
	assert_int_equal(f->nlines, 0);
}

static void test_torn_tail(void **state)
{
	fixture_t *f = *state;
	uint64_t full;
	uint64_t good = write_entries(f, 2, 3, &full);
	/* A crash in the middle of writing the third entry. */
	assert_int_equal(truncate(f->path, (off_t)(good + (full - good) / 2)), 0);
	zone_journal_t *j = open_j(f, NULL);
	assert_int_equal(zone_journal_depth(j), 2);
	assert_int_equal(file_size(f->path), (off_t)good);
	assert_int_equal(f->nlines, 1);
	char want[256];
	snprintf(want, sizeof(want), "event=journal-truncated file=%s offset=%llu ", f->path,
	         (unsigned long long)good);
	assert_non_null(strstr(f->lines[0], want));
	/* The chain goes on from what survived. */
	append_n(j, f, 2, 3);
	assert_int_equal(zone_journal_size(j), full);
	zone_journal_close(j);
	/* Only a few bytes of a header: cut as well. */
	poke(f->path, file_size(f->path), "SDJ", 3);
	j = open_j(f, NULL);
	assert_int_equal(zone_journal_depth(j), 3);
	assert_int_equal(file_size(f->path), (off_t)full);
	zone_journal_close(j);
}

static void test_corrupt_entry(void **state)
{
	fixture_t *f = *state;
	uint64_t first_end = write_entries(f, 1, 3, NULL);
	/* Flip one byte in the payload of the second entry: it and all after it go. */
	int fd = open(f->path, O_RDONLY);
	uint8_t b;
	off_t at = (off_t)first_end + 40;
	assert_int_equal(pread(fd, &b, 1, at), 1);
	close(fd);
	b ^= 0x20;
	poke(f->path, at, &b, 1);
	zone_journal_t *j = open_j(f, NULL);
	assert_int_equal(zone_journal_depth(j), 1);
	assert_int_equal(zone_journal_size(j), first_end);
	assert_int_equal(f->nlines, 1);
	assert_non_null(strstr(f->lines[0], "checksum mismatch"));
	assert_non_null(strstr(f->lines[0], f->path));
	zone_journal_close(j);
}

static void test_header(void **state)
{
	fixture_t *f = *state;
	write_entries(f, 1, 1, NULL);
	zone_journal_t *j = NULL;
	uint8_t other[DNAME_MAX];
	assert_true(dname_from_str("example.org.", NULL, other) > 0);
	assert_int_equal(zone_journal_open(f->path, other, NULL, &j), SD_ESEMANTIC);
	assert_null(j);
	poke(f->path, 0, "X", 1);
	assert_int_equal(zone_journal_open(f->path, t_apex(), NULL, &j), SD_ECHECKSUM);
	assert_int_equal(f->nlines, 2);
	/* A header torn while the file was created: recreated, and usable. */
	unlink(f->path);
	j = open_j(f, NULL);
	zone_journal_close(j);
	assert_int_equal(truncate(f->path, 10), 0);
	j = open_j(f, NULL);
	assert_int_equal(f->nlines, 3);
	assert_non_null(strstr(f->lines[2], "torn header"));
	assert_int_equal(zone_journal_depth(j), 0);
	append_n(j, f, 0, 1);
	zone_journal_close(j);
	j = open_j(f, NULL);
	assert_int_equal(zone_journal_depth(j), 1);
	zone_journal_close(j);
}

static void test_limits_compaction(void **state)
{
	fixture_t *f = *state;
	zone_journal_limits_t lim = {.max_depth = 4};
	zone_journal_t *j = open_j(f, &lim);
	append_n(j, f, 0, 4);
	assert_false(zone_journal_over_limit(j));
	append_n(j, f, 4, 5);
	assert_true(zone_journal_over_limit(j));
	/* The zone file must be at the newest serial before entries are dropped. */
	assert_int_equal(zone_journal_compact(j, 104), SD_ESEMANTIC);
	assert_int_equal(zone_journal_depth(j), 5);
	assert_int_equal(zone_journal_compact(j, 105), 0);
	assert_int_equal(zone_journal_depth(j), 2); /* half the depth limit */
	assert_false(zone_journal_over_limit(j));
	uint32_t s;
	assert_int_equal(zone_journal_first_serial(j, &s), 0);
	assert_int_equal(s, 103);
	append_n(j, f, 5, 6);
	zone_journal_close(j);
	j = open_j(f, &lim);
	assert_int_equal(zone_journal_depth(j), 3);
	zone_changeset_t **list = NULL;
	size_t n = 0;
	assert_int_equal(zone_journal_read(j, 103, &list, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		assert_same_cs(list[i], f->cs[3 + i]);
	zone_journal_free_list(list, n);
	assert_int_equal(zone_journal_read(j, 101, &list, &n), SD_ENOTFOUND);
	zone_journal_close(j);
	assert_int_equal(access(f->dir, F_OK), 0);

	/* A size limit: about three entries' worth. */
	unlink(f->path);
	uint64_t one = write_entries(f, 1, 1, NULL);
	unlink(f->path);
	zone_journal_limits_t slim = {.max_size = one * 3};
	j = open_j(f, &slim);
	append_n(j, f, 0, 3);
	assert_false(zone_journal_over_limit(j));
	append_n(j, f, 3, 6);
	assert_true(zone_journal_over_limit(j));
	assert_int_equal(zone_journal_compact(j, 106), 0);
	assert_false(zone_journal_over_limit(j));
	assert_true(zone_journal_size(j) <= slim.max_size / 2);
	assert_true(zone_journal_depth(j) >= 1);
	assert_int_equal(zone_journal_last_serial(j, &s), 0);
	assert_int_equal(s, 106);
	zone_journal_close(j);
	j = open_j(f, &slim);
	assert_int_equal(zone_journal_last_serial(j, &s), 0);
	assert_int_equal(s, 106);
	zone_journal_close(j);
}

/* One open handle per journal file (flock): a second open fails with -EBUSY, also after a
 * compaction replaced the file; closing releases it. */
static void test_lock(void **state)
{
	fixture_t *f = *state;
	zone_journal_limits_t lim = {.max_depth = 2};
	zone_journal_t *j = open_j(f, &lim), *k = NULL;
	assert_int_equal(zone_journal_open(f->path, t_apex(), NULL, &k), -EBUSY);
	assert_null(k);
	append_n(j, f, 0, 3);
	assert_int_equal(zone_journal_compact(j, 103), 0);
	assert_int_equal(zone_journal_open(f->path, t_apex(), NULL, &k), -EBUSY);
	zone_journal_close(j);
	assert_int_equal(zone_journal_open(f->path, t_apex(), NULL, &k), 0);
	zone_journal_close(k);
}

static void test_crc32c(void **state)
{
	(void)state;
	/* The standard check value of CRC-32C (RFC 3720 B.4 family). */
	assert_int_equal(sd_crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(sd_crc32c(sd_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
}

/* --- format 2: time and source; format 1 still read --- */

/* The origin of cs in the test's terms. */
static void assert_origin(const zone_changeset_t *cs, int64_t time, zone_source_kind_t kind,
                          const char *text)
{
	zone_source_t src;
	assert_int_equal(zone_changeset_origin(cs, &src), time);
	assert_int_equal(src.kind, kind);
	assert_string_equal(src.text, text);
}

static void test_origin(void **state)
{
	fixture_t *f = *state;
	zone_changeset_set_origin(f->cs[0], 1700000000,
	                          &(zone_source_t){ZONE_SOURCE_RELOAD, "/etc/zones/example.com"});
	zone_changeset_set_origin(f->cs[1], 1700000060,
	                          &(zone_source_t){ZONE_SOURCE_UPDATE, "deploy-key., 192.0.2.7"});
	/* cs[2]: none */
	uint64_t first_end = write_entries(f, 1, 3, NULL);
	zone_journal_t *j = open_j(f, NULL);
	zone_changeset_t **list = NULL;
	size_t n = 0;
	assert_int_equal(zone_journal_read(j, 100, &list, &n), 0);
	assert_int_equal(n, 3);
	assert_origin(list[0], 1700000000, ZONE_SOURCE_RELOAD, "/etc/zones/example.com");
	assert_origin(list[1], 1700000060, ZONE_SOURCE_UPDATE, "deploy-key., 192.0.2.7");
	assert_origin(list[2], 0, ZONE_SOURCE_UNKNOWN, "");
	for (size_t i = 0; i < n; i++)
		assert_same_cs(list[i], f->cs[i]);
	zone_journal_free_list(list, n);
	zone_journal_close(j);
	/* the origin is inside the checksum: one bit of the second entry's time flipped cuts it
	 * (and what follows) off; the time sits right after magic, length and serials */
	int fd = open(f->path, O_RDONLY);
	uint8_t b;
	off_t at = (off_t)first_end + 16 + 7;
	assert_int_equal(pread(fd, &b, 1, at), 1);
	close(fd);
	b ^= 0x01;
	poke(f->path, at, &b, 1);
	j = open_j(f, NULL);
	assert_int_equal(zone_journal_depth(j), 1);
	assert_non_null(strstr(f->lines[0], "checksum mismatch"));
	zone_journal_close(j);
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

/* A journal in format 1 as the daemon before format 2 wrote it (journal.h of that time:
 * header "SDJRNL\r\n" | u32 1 | u8 apex length | apex | CRC; entries "SDJE" | length |
 * from | to | payload | CRC of everything before), holding f->cs[0..n). */
static void write_v1(fixture_t *f, int n)
{
	FILE *out = fopen(f->path, "wb");
	assert_non_null(out);
	uint8_t hdr[64], *p = hdr;
	const uint8_t *apex = t_apex();
	size_t al = dname_len(apex);
	memcpy(p, "SDJRNL\r\n", 8);
	p = put32(p + 8, 1);
	*p++ = (uint8_t)al;
	memcpy(p, apex, al);
	p += al;
	p = put32(p, sd_crc32c(0, hdr, (size_t)(p - hdr)));
	assert_int_equal(fwrite(hdr, 1, (size_t)(p - hdr), out), (size_t)(p - hdr));
	for (int i = 0; i < n; i++) {
		uint8_t *payload = NULL, eh[16], crc[4];
		size_t len = 0;
		assert_int_equal(zone_changeset_serialize(f->cs[i], &payload, &len), 0);
		put32(put32(put32(put32(eh, 0x53444a45u), (uint32_t)len),
		            zone_changeset_from(f->cs[i])),
		      zone_changeset_to(f->cs[i]));
		put32(crc, sd_crc32c(sd_crc32c(0, eh, sizeof(eh)), payload, len));
		assert_int_equal(fwrite(eh, 1, sizeof(eh), out), sizeof(eh));
		assert_int_equal(fwrite(payload, 1, len, out), len);
		assert_int_equal(fwrite(crc, 1, sizeof(crc), out), sizeof(crc));
		free(payload);
	}
	fclose(out);
}

static uint32_t file_version(const char *path)
{
	uint8_t b[12];
	int fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, b, sizeof(b)), (ssize_t)sizeof(b));
	close(fd);
	return (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 | (uint32_t)b[10] << 8 | b[11];
}

static void test_version1(void **state)
{
	fixture_t *f = *state;
	write_v1(f, 3);
	assert_int_equal(file_version(f->path), 1);
	/* opened: upgraded to format 2 in place (atomically), every entry kept */
	zone_journal_t *j = open_j(f, NULL);
	assert_int_equal(file_version(f->path), 2);
	assert_int_equal(zone_journal_depth(j), 3);
	assert_int_equal(zone_journal_size(j), (uint64_t)file_size(f->path));
	zone_changeset_t **list = NULL;
	size_t n = 0;
	assert_int_equal(zone_journal_read(j, 100, &list, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_same_cs(list[i], f->cs[i]);
		assert_origin(list[i], 0, ZONE_SOURCE_UNKNOWN, "");
	}
	zone_journal_free_list(list, n);
	/* the chain goes on in format 2, with origins; a reopen reads both kinds of entry */
	zone_changeset_set_origin(f->cs[3], 1700000300,
	                          &(zone_source_t){ZONE_SOURCE_ROLLBACK, "to 101 by control"});
	append_n(j, f, 3, 4);
	zone_journal_close(j);
	j = open_j(f, NULL);
	assert_int_equal(zone_journal_read(j, 102, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_origin(list[0], 0, ZONE_SOURCE_UNKNOWN, "");
	assert_origin(list[1], 1700000300, ZONE_SOURCE_ROLLBACK, "to 101 by control");
	zone_journal_free_list(list, n);
	zone_journal_close(j);
	assert_int_equal(f->nlines, 0);
	/* a format-1 file with a torn tail: cut, then upgraded */
	write_v1(f, 2);
	off_t two = file_size(f->path);
	assert_int_equal(truncate(f->path, two - 7), 0);
	j = open_j(f, NULL);
	assert_int_equal(zone_journal_depth(j), 1);
	assert_int_equal(file_version(f->path), 2);
	assert_non_null(strstr(f->lines[0], "truncated entry"));
	zone_journal_close(j);
	/* an unknown version is refused, not read */
	uint8_t v9[4] = {0, 0, 0, 9};
	poke(f->path, 8, v9, 4);
	assert_int_equal(zone_journal_open(f->path, t_apex(), NULL, &j), SD_ECHECKSUM);
}

static void test_write_file(void **state)
{
	fixture_t *f = *state;
	static const trr_t rrs[] = {
	    {"@", DNS_TYPE_SOA, 3600, "2024010101"},
	    {"@", DNS_TYPE_NS, 3600, "ns1"},
	    {"@", DNS_TYPE_NS, 3600, "ns.example.net."},
	    {"ns1", DNS_TYPE_A, 3600, "192.0.2.53"},
	    {"@", DNS_TYPE_MX, 600, "10 mail"},
	    {"mail", DNS_TYPE_AAAA, 600, "2001:db8::25"},
	    {"*.wild", DNS_TYPE_TXT, 60, "a \"quoted\" text; with \\ specials"},
	    {"www", DNS_TYPE_CNAME, 300, "mail"},
	    {"sub", DNS_TYPE_NS, 3600, "ns.sub"},
	    {"ns.sub", DNS_TYPE_A, 3600, "192.0.2.99"},
	};
	zone_version_t *v = t_build(rrs, SD_ARRAY_LEN(rrs)), *back = NULL;
	char path[256];
	snprintf(path, sizeof(path), "%s/example.com.zone", f->dir);
	assert_int_equal(zone_write_file(v, path), 0);
	assert_int_equal(zone_load_file(t_apex(), path, NULL, &back), 0);
	t_assert_versions_equal(v, back);
	zone_version_unref(back);
	/* Replacing it again leaves exactly the zone file (no temporary files). */
	assert_int_equal(zone_write_file(f->v[2], path), 0);
	assert_int_equal(zone_load_file(t_apex(), path, NULL, &back), 0);
	t_assert_versions_equal(f->v[2], back);
	zone_version_unref(back);
	DIR *d = opendir(f->dir);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d)))
		files += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 1);
	/* An unwritable place: an error, nothing replaced. */
	assert_true(zone_write_file(v, "/nonexistent-dir/x.zone") < 0);
	zone_version_unref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_header, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits_compaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
	    cmocka_unit_test(test_crc32c),
	    cmocka_unit_test_setup_teardown(test_write_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_origin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_version1, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
