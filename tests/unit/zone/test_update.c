/* test_update.c — the zone's one write path (zone/update.h) on real files in a temporary
 * directory: transactions (add/remove/apply/abort, no-op, batch, failure), file reloads
 * (serials, the file's own change, records of other paths kept across reload and restart),
 * journal before publish, IXFR history, restart replay, torn journal tail, and policy
 * bindings through load, commit, replay and rebind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "contrib/base/err.h"
#include "tests/unit/logcap.h"
#include "server/xfr/out.h"
#include "dns/soa.h"
#include "zone/changeset.h"
#include "zone/history.h"
#include "zone/journal.h"
#include "zone/load.h"
#include "zone/update.h"
#include "zone/zone.h"

#define NOW 1700000000

static char dir[256], zfile[300], jfile[300], sfile[300], bfile[300];
static uint8_t apex[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};

static void write_zone(uint32_t serial, const char *extra)
{
	FILE *f = fopen(zfile, "w");
	assert_non_null(f);
	fprintf(f,
	        "$ORIGIN example.com.\n$TTL 3600\n"
	        "@ IN SOA ns1 hostmaster %u 7200 900 1209600 300\n"
	        "@ IN NS ns1\nns1 IN A 192.0.2.1\nwww IN A 192.0.2.80\n%s",
	        serial, extra);
	fclose(f);
}

static zone_t *open_zone_bound(size_t max_depth, const zone_bindings_t *b)
{
	zone_conf_t c = {.policy = ZONE_SERIAL_INCREMENT};
	c.limits.max_depth = (uint32_t)max_depth;
	zone_t *z = NULL;
	assert_int_equal(zone_new(apex, zfile, &z), 0);
	assert_int_equal(zone_set_bindings(z, b), 0);
	assert_int_equal(zone_open_state(z, dir, &c), 0);
	return z;
}

static zone_t *open_zone_limited(size_t max_depth)
{
	return open_zone_bound(max_depth, NULL);
}

static zone_t *open_zone(void)
{
	return open_zone_limited(0);
}

static void close_zone(zone_t *z)
{
	rcu_barrier_qsbr(); /* the versions zone_publish retired */
	zone_free(z);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sd-zone-update-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(zfile, sizeof(zfile), "%s/example.com.zone", dir);
	snprintf(jfile, sizeof(jfile), "%s/example.com.journal", dir);
	snprintf(sfile, sizeof(sfile), "%s/example.com.snapshot", dir);
	snprintf(bfile, sizeof(bfile), "%s/example.com.file", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(zfile);
	unlink(jfile);
	unlink(sfile);
	unlink(bfile);
	rmdir(dir);
	return 0;
}

/* Reloads take the file's change prepared beforehand (zone_file_base_prepare, as the
 * daemon's pool step does) when set. */
static bool prepared;

/* Load the file and commit it through a transaction; returns the serial served after. */
static uint32_t reload(zone_t *z, bool sync)
{
	zone_version_t *v = NULL;
	zone_load_info_t info = {0};
	assert_int_equal(zone_load(z, &info, &v), 0);
	zone_file_base_t *base = NULL;
	if (prepared && zone_current(z)) {
		assert_int_equal(
		    zone_file_base_prepare(z, zone_bindings(z), zone_current(z), v, &base), 0);
		assert_true((base != NULL) == (access(bfile, F_OK) == 0)); /* a copy: prepared */
	}
	zone_update_t *u = NULL;
	assert_int_equal(zone_update_begin(z, &u), 0);
	assert_int_equal(zone_update_from_file_based(u, v, &info, base), 0);
	uint32_t serial = 0;
	assert_int_equal(zone_update_commit(u, NOW, &serial), 0);
	assert_int_equal(zone_version_serial(zone_current(z)), serial);
	assert_int_equal(zone_keep_base(z), 0); /* as the daemon does once it has replied */
	if (sync)
		assert_int_equal(zone_sync(z), 0);
	return serial;
}

static zone_t *restart(zone_t *z)
{
	close_zone(z);
	z = open_zone();
	reload(z, true);
	return z;
}

static xfr_out_kind_t ixfr_kind(const zone_t *z, uint32_t from)
{
	xfr_request_t req = {.id = 1, .qtype = DNS_TYPE_IXFR, .qclass = 1, .has_serial = true};
	static const uint8_t q[] = {7,   'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,
	                            'c', 'o', 'm', 0,   0,   251, 0,   1};
	req.question = q;
	req.question_len = sizeof(q);
	req.serial = from;
	xfr_out_params_t prm = {
	    .req = &req, .version = zone_current(z), .history = zone_history(z)};
	xfr_out_t *x = NULL;
	assert_int_equal(xfr_out_new(&prm, &x), 0);
	xfr_out_kind_t k = xfr_out_kind(x);
	xfr_out_free(x);
	return k;
}

static const zone_bindings_t *snap_bindings; /* the snapshot of a bound zone needs them */

static uint32_t snapshot_serial(void)
{
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file_bound(apex, sfile, snap_bindings, NULL, &v), 0);
	uint32_t s = zone_version_serial(v);
	zone_version_unref(v);
	return s;
}

static uint32_t file_serial(void)
{
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file(apex, zfile, NULL, &v), 0);
	uint32_t s = zone_version_serial(v);
	zone_version_unref(v);
	return s;
}

static uint32_t journal_depth(const zone_t *z)
{
	zone_stats_t st;
	zone_stats(z, &st);
	return st.journal_depth;
}

/* The RRset of type at "<rel>.example.com." in the served version, or NULL. */
static const zone_rrset_t *served(const zone_t *z, const char *rel, uint16_t type)
{
	uint8_t name[DNAME_MAX];
	assert_true(dname_from_str(rel, apex, name) > 0);
	const zone_node_t *n = zone_version_find(zone_current(z), name, dname_len(name));
	return n ? zone_node_rrset(n, type) : NULL;
}

/* Last octet of the single A record at rel (0 when none). */
static int a_last(const zone_t *z, const char *rel)
{
	const zone_rrset_t *rs = served(z, rel, DNS_TYPE_A);
	return rs && rs->count == 1 ? rs->rdata[2 + 3] : 0;
}

/* An A record rel -> 192.0.2.last; owner and rdata live in the caller's buffers. */
static zone_rr_t a_rr(const char *rel, uint8_t last, uint32_t ttl, uint8_t owner[DNAME_MAX],
                      uint8_t rd[4])
{
	assert_true(dname_from_str(rel, apex, owner) > 0);
	rd[0] = 192, rd[1] = 0, rd[2] = 2, rd[3] = last;
	return (zone_rr_t){.owner = owner,
	                   .type = DNS_TYPE_A,
	                   .rclass = DNS_CLASS_IN,
	                   .ttl = ttl,
	                   .rdlen = 4,
	                   .rdata = rd};
}

/* One transaction: add (add_last != 0) and/or remove (rm_last != 0) A records at rel. */
static int txn(zone_t *z, const char *rel, uint8_t add_last, uint8_t rm_last, uint32_t *serial)
{
	uint8_t o[DNAME_MAX], rd[4], o2[DNAME_MAX], rd2[4];
	zone_update_t *u = NULL;
	assert_int_equal(zone_update_begin(z, &u), 0);
	if (rm_last) {
		zone_rr_t rr = a_rr(rel, rm_last, 3600, o2, rd2);
		assert_int_equal(zone_update_remove(u, &rr), 0);
	}
	if (add_last) {
		zone_rr_t rr = a_rr(rel, add_last, 3600, o, rd);
		assert_int_equal(zone_update_add(u, &rr), 0);
	}
	return zone_update_commit(u, NOW, serial);
}

static size_t history_count(const zone_t *z)
{
	zone_history_snap_t *s = zone_history_acquire(zone_history(z));
	size_t n = zone_history_snap_count(s);
	zone_history_snap_release(s);
	return n;
}

/* The whole content of a file (NUL-terminated, malloc()ed; "" when missing). */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 1 << 20);
	assert_non_null(buf);
	*len = f ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	if (f)
		fclose(f);
	return buf;
}

/* A zone whose file (serial, no extra records) is loaded and served. */
static zone_t *start_zone(uint32_t serial)
{
	write_zone(serial, "");
	zone_t *z = open_zone();
	assert_int_equal(reload(z, true), serial);
	return z;
}

/* The operator edits the file (keeping file_serial) and z reloads it: want is served. */
static void edit_file(zone_t *z, uint32_t file_serial, const char *extra, uint32_t want)
{
	write_zone(file_serial, extra);
	assert_int_equal(reload(z, true), want);
}

/* Cut the journal's last entry short, as a crash during its append would. */
static void tear_journal(void)
{
	struct stat sb;
	assert_int_equal(stat(jfile, &sb), 0);
	assert_int_equal(truncate(jfile, sb.st_size - 5), 0);
}

/* Put back an earlier base copy of the file (from slurp); frees it. */
static void restore_base(char *base, size_t len)
{
	FILE *f = fopen(bfile, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(base, 1, len, f), len);
	fclose(f);
	free(base);
}

/* Fail unless the journal holds exactly old[0..len) (from slurp); frees old. */
static void assert_journal_is(char *old, size_t len)
{
	size_t now_len;
	char *now = slurp(jfile, &now_len);
	assert_int_equal(now_len, len);
	assert_memory_equal(now, old, len);
	free(old);
	free(now);
}

static void test_reload_serials_and_restart(void **state)
{
	(void)state;
	zone_t *z = start_zone(10);
	assert_int_equal(snapshot_serial(), 10);

	/* same content: no new serial, nothing journaled, the base copy not rewritten */
	const zone_version_t *v = zone_current(z);
	struct stat b1, b2;
	assert_int_equal(stat(bfile, &b1), 0);
	assert_int_equal(reload(z, true), 10);
	assert_ptr_equal(zone_current(z), v);
	assert_int_equal(journal_depth(z), 0);
	assert_int_equal(stat(bfile, &b2), 0);
	assert_int_equal(b1.st_ino, b2.st_ino);

	/* an edit without touching the serial: increment policy gives 11 */
	edit_file(z, 10, "new IN A 192.0.2.7\n", 11);
	assert_int_equal(a_last(z, "new"), 7);
	assert_int_equal(journal_depth(z), 1);
	/* the operator's file is left alone; the journal, not a rewritten snapshot, carries
	 * the change */
	assert_int_equal(file_serial(), 10);
	assert_int_equal(snapshot_serial(), 10);
	assert_int_equal(ixfr_kind(z, 10), XFR_OUT_IXFR);
	/* reloading that same file again (its serial 10 below the served 11) changes nothing */
	assert_int_equal(reload(z, true), 11);

	/* a serial raised by hand is kept */
	edit_file(z, 50, "new IN A 192.0.2.8\n", 50);
	assert_int_equal(ixfr_kind(z, 10), XFR_OUT_IXFR);
	assert_int_equal(ixfr_kind(z, 11), XFR_OUT_IXFR);
	assert_int_equal(ixfr_kind(z, 50), XFR_OUT_IXFR_CURRENT);
	assert_int_equal(ixfr_kind(z, 9), XFR_OUT_IXFR_AXFR);

	/* restart with the file unchanged: same serial, the history comes back */
	z = restart(z);
	assert_int_equal(zone_version_serial(zone_current(z)), 50);
	assert_int_equal(ixfr_kind(z, 10), XFR_OUT_IXFR);
	assert_int_equal(ixfr_kind(z, 11), XFR_OUT_IXFR);

	/* an edit while stopped that forgets the serial: one new serial at start */
	write_zone(50, "new IN A 192.0.2.9\n");
	z = restart(z);
	assert_int_equal(zone_version_serial(zone_current(z)), 51);
	assert_int_equal(ixfr_kind(z, 50), XFR_OUT_IXFR);
	assert_int_equal(ixfr_kind(z, 10), XFR_OUT_IXFR);
	assert_int_equal(journal_depth(z), 3);
	close_zone(z);
}

static void test_replay_when_snapshot_behind(void **state)
{
	(void)state;
	zone_t *z = start_zone(20);
	edit_file(z, 20, "a IN A 192.0.2.9\n", 21);
	/* a second change journaled; the snapshot stays at the first start's serial */
	write_zone(20, "a IN A 192.0.2.9\nb IN A 192.0.2.10\n");
	assert_int_equal(reload(z, false), 22);
	assert_int_equal(snapshot_serial(), 20);
	z = restart(z);
	/* snapshot 20 + journal 20 -> 21 -> 22 */
	assert_int_equal(zone_version_serial(zone_current(z)), 22);
	assert_int_equal(a_last(z, "b"), 10);
	assert_int_equal(snapshot_serial(), 20);
	assert_int_equal(ixfr_kind(z, 20), XFR_OUT_IXFR);
	close_zone(z);
}

/* Past journal-max-depth the served version is written as the snapshot and the journal is
 * trimmed to half the limit; a restart then still comes back to the same serial. */
static void test_limit_writes_snapshot(void **state)
{
	(void)state;
	write_zone(40, "");
	zone_t *z = open_zone_limited(4);
	assert_int_equal(reload(z, true), 40);
	assert_int_equal(snapshot_serial(), 40); /* the first start writes one */
	for (unsigned i = 1; i <= 5; i++) {
		char extra[64];
		snprintf(extra, sizeof(extra), "n IN A 192.0.2.%u\n", i);
		edit_file(z, 40, extra, 40 + i);
		/* below the limit the snapshot stays; at 5 entries (> 4) it catches up */
		assert_int_equal(snapshot_serial(), i < 5 ? 40 : 45);
	}
	assert_true(journal_depth(z) <= 2);
	close_zone(z);
	z = open_zone_limited(4);
	assert_int_equal(reload(z, true), 45);
	close_zone(z);
}

static void test_torn_tail_and_lost_snapshot(void **state)
{
	(void)state;
	zone_t *z = start_zone(30);
	edit_file(z, 30, "x IN A 192.0.2.11\n", 31);
	size_t blen;
	char *base31 = slurp(bfile, &blen);
	edit_file(z, 30, "x IN A 192.0.2.12\n", 32);
	close_zone(z);
	/* tear the last entry, as a crash during its append would: the change 31 -> 32 was
	 * not published (the journal is written first) and the base copy of the file never
	 * written (it comes after the publish). The journal ends at 31, but serial 32 was
	 * recorded as served before the append (<zone>.serial): 32 is never used again. */
	tear_journal();
	restore_base(base31, blen);
	z = open_zone();
	/* snapshot 30 + journal -> 31; the file's change since its base (x .11 -> .12)
	 * becomes 33, above the 32 recorded */
	assert_int_equal(reload(z, true), 33);
	assert_int_equal(a_last(z, "x"), 12);
	assert_int_equal(journal_depth(z), 2);
	/* and the zone keeps working: the next edit is journaled from 33 */
	edit_file(z, 30, "x IN A 192.0.2.13\n", 34);
	assert_int_equal(ixfr_kind(z, 33), XFR_OUT_IXFR);
	/* a lost snapshot: the journal cannot be trusted, the file is served as it is but
	 * above the serial served before (the file says 30) */
	assert_int_equal(unlink(sfile), 0);
	z = restart(z);
	assert_int_equal(zone_version_serial(zone_current(z)), 35);
	assert_int_equal(a_last(z, "x"), 13);
	assert_int_equal(journal_depth(z), 0);
	/* the same file again: nothing changed, the serial stays */
	assert_int_equal(reload(z, true), 35);
	close_zone(z);
	/* even a lost journal and snapshot: the record keeps the serial going up */
	assert_int_equal(unlink(sfile), 0);
	assert_int_equal(unlink(jfile), 0);
	z = open_zone();
	assert_int_equal(reload(z, true), 36);
	close_zone(z);
}

/* The journal lost its last entry after the base copy of the file was written (a damaged
 * disk, not a crash: the base is written after the journal). The base is ahead of what was
 * recovered, so the file is diffed against the served version and its change still comes
 * back. */
static void test_journal_lost_after_base(void **state)
{
	(void)state;
	zone_t *z = start_zone(30);
	edit_file(z, 30, "x IN A 192.0.2.11\n", 31);
	edit_file(z, 30, "x IN A 192.0.2.12\n", 32);
	close_zone(z);
	tear_journal();
	z = open_zone();
	assert_int_equal(reload(z, true), 33); /* above the 32 recorded as served */
	assert_int_equal(a_last(z, "x"), 12);
	close_zone(z);
}

/* add / remove / abort: a commit is one serial, one journal entry, one IXFR step; an abort
 * leaves the zone, the journal and the history as they were. */
static void test_transaction(void **state)
{
	(void)state;
	zone_t *z = start_zone(10);
	uint32_t serial = 0;
	assert_int_equal(txn(z, "www", 81, 80, &serial), 0);
	assert_int_equal(serial, 11);
	assert_int_equal(a_last(z, "www"), 81);
	assert_int_equal(journal_depth(z), 1);
	assert_int_equal(ixfr_kind(z, 10), XFR_OUT_IXFR);

	/* abort: nothing changes */
	const zone_version_t *v = zone_current(z);
	size_t jlen;
	char *j = slurp(jfile, &jlen);
	uint8_t o[DNAME_MAX], rd[4];
	zone_update_t *u = NULL;
	assert_int_equal(zone_update_begin(z, &u), 0);
	zone_update_t *u2 = NULL;
	assert_int_equal(zone_update_begin(z, &u2), -EBUSY); /* one at a time */
	zone_rr_t rr = a_rr("aborted", 1, 3600, o, rd);
	assert_int_equal(zone_update_add(u, &rr), 0);
	zone_update_abort(u);
	assert_ptr_equal(zone_current(z), v);
	assert_journal_is(j, jlen);
	assert_int_equal(history_count(z), 1);

	/* a TTL change is remove + add of the record */
	assert_int_equal(zone_update_begin(z, &u), 0);
	rr = a_rr("www", 81, 60, o, rd);
	assert_int_equal(zone_update_add(u, &rr), 0);
	assert_int_equal(zone_update_commit(u, NOW, &serial), 0);
	assert_int_equal(serial, 12);
	assert_int_equal(served(z, "www", DNS_TYPE_A)->ttl, 60);
	close_zone(z);
}

/* Edits that cancel out, records that are there already, removals of what is absent: no
 * serial, no journal entry, no new version. */
static void test_noop_commit(void **state)
{
	(void)state;
	zone_t *z = start_zone(10);
	const zone_version_t *v = zone_current(z);
	uint8_t o[DNAME_MAX], rd[4];
	zone_update_t *u = NULL;
	assert_int_equal(zone_update_begin(z, &u), 0);
	zone_rr_t rr = a_rr("www", 80, 3600, o, rd); /* there already */
	assert_int_equal(zone_update_add(u, &rr), 0);
	rr = a_rr("absent", 1, 3600, o, rd);
	assert_int_equal(zone_update_remove(u, &rr), 0);
	rr = a_rr("fleeting", 2, 3600, o, rd);
	assert_int_equal(zone_update_add(u, &rr), 0);
	assert_int_equal(zone_update_remove(u, &rr), 0);
	rr = a_rr("www", 80, 3600, o, rd); /* removed and put back */
	assert_int_equal(zone_update_remove(u, &rr), 0);
	assert_int_equal(zone_update_add(u, &rr), 0);
	rr.type = DNS_TYPE_SOA;
	assert_int_equal(zone_update_add(u, &rr), SD_ESEMANTIC);
	uint32_t serial = 0;
	assert_int_equal(zone_update_commit(u, NOW, &serial), 0);
	assert_int_equal(serial, 10);
	assert_ptr_equal(zone_current(z), v);
	assert_int_equal(journal_depth(z), 0);
	assert_int_equal(history_count(z), 0);
	close_zone(z);
}

/* A change set that adds rel -> .last (and removes rel -> .rm when rm != 0). */
static zone_changeset_t *cs_of(const char *rel, uint8_t last, uint8_t rm)
{
	uint8_t o[DNAME_MAX], rd[4];
	zone_changeset_t *cs = NULL;
	assert_int_equal(zone_changeset_new(&cs), 0);
	zone_rr_t rr = a_rr(rel, last, 3600, o, rd);
	assert_int_equal(zone_changeset_add(cs, &rr), 0);
	if (rm) {
		rr = a_rr(rel, rm, 3600, o, rd);
		assert_int_equal(zone_changeset_remove(cs, &rr), 0);
	}
	return cs;
}

/* Several change sets in one transaction: one build, one serial, one journal entry. A
 * change set that does not fit is refused whole and the transaction goes on. */
static void test_batch(void **state)
{
	(void)state;
	zone_t *z = start_zone(10);
	zone_update_t *u = NULL;
	assert_int_equal(zone_update_begin(z, &u), 0);
	zone_changeset_t *c1 = cs_of("a", 1, 0), *c2 = cs_of("b", 2, 0), *c3 = cs_of("a", 3, 1);
	zone_changeset_t *bad = cs_of("c", 4, 99); /* removes a record that is not there */
	zone_changeset_t *dup = cs_of("b", 2, 0);  /* adds one that is */
	assert_int_equal(zone_update_apply(u, c1), 0);
	assert_int_equal(zone_update_apply(u, c2), 0);
	assert_int_equal(zone_update_apply(u, bad), SD_ESEMANTIC);
	assert_int_equal(zone_update_apply(u, dup), SD_ESEMANTIC);
	assert_int_equal(zone_update_apply(u, c3), 0);
	uint32_t serial = 0;
	assert_int_equal(zone_update_commit(u, NOW, &serial), 0);
	assert_int_equal(serial, 11);
	assert_int_equal(journal_depth(z), 1);
	assert_int_equal(a_last(z, "a"), 3);
	assert_int_equal(a_last(z, "b"), 2);
	assert_null(served(z, "c", DNS_TYPE_A));
	assert_int_equal(ixfr_kind(z, 10), XFR_OUT_IXFR);
	zone_changeset_free(c1);
	zone_changeset_free(c2);
	zone_changeset_free(c3);
	zone_changeset_free(bad);
	zone_changeset_free(dup);
	close_zone(z);
}

/* A commit whose version breaks a zone rule (a CNAME beside an A record) fails and leaves
 * the served version, the journal and the history as they were. */
static void test_failure_leaves_nothing(void **state)
{
	(void)state;
	zone_t *z = start_zone(10);
	uint32_t serial = 0;
	assert_int_equal(txn(z, "ok", 5, 0, &serial), 0);
	const zone_version_t *v = zone_current(z);
	size_t jlen;
	char *j = slurp(jfile, &jlen);
	uint8_t o[DNAME_MAX], rd[DNAME_MAX];
	assert_true(dname_from_str("www", apex, o) > 0);
	assert_true(dname_from_str("ns1", apex, rd) > 0);
	zone_rr_t cname = {.owner = o,
	                   .type = DNS_TYPE_CNAME,
	                   .rclass = DNS_CLASS_IN,
	                   .ttl = 3600,
	                   .rdlen = (uint16_t)dname_len(rd),
	                   .rdata = rd};
	zone_update_t *u = NULL;
	assert_int_equal(zone_update_begin(z, &u), 0);
	assert_int_equal(zone_update_add(u, &cname), 0);
	assert_int_equal(zone_update_commit(u, NOW, &serial), SD_ESEMANTIC);
	assert_ptr_equal(zone_current(z), v);
	assert_journal_is(j, jlen);
	assert_int_equal(history_count(z), 1);
	/* the zone is free for the next transaction, which goes on from 11 */
	assert_int_equal(txn(z, "ok", 6, 5, &serial), 0);
	assert_int_equal(serial, 12);
	close_zone(z);
}

/* THE test of issue 7: a change committed through the transaction (not from the file)
 * survives an edit of the file elsewhere and a reload, and a restart from the state
 * directory; the IXFR history from before still works. Where both changed one RRset, the
 * file wins. Applying a file change twice (a crash before the base copy was written)
 * changes nothing. */
static void test_reload_keeps_other_changes(void **state)
{
	(void)state;
	zone_t *z = start_zone(10);
	uint32_t serial = 0;
	assert_int_equal(txn(z, "dyn", 50, 0, &serial), 0);
	assert_int_equal(serial, 11);
	assert_int_equal(txn(z, "www", 81, 80, &serial), 0); /* the file will change www too */
	assert_int_equal(serial, 12);
	size_t blen;
	char *base10 = slurp(bfile, &blen);

	/* the operator edits other names (and www) without touching the serial */
	write_zone(10, "other IN A 192.0.2.60\n");
	{
		FILE *f = fopen(zfile, "a");
		assert_non_null(f);
		fputs("www IN A 192.0.2.82\n", f); /* www now has .80 and .82 in the file */
		fclose(f);
	}
	assert_int_equal(reload(z, true), 13);
	assert_int_equal(a_last(z, "dyn"), 50);   /* the transaction's record stays */
	assert_int_equal(a_last(z, "other"), 60); /* the file's edit arrives */
	const zone_rrset_t *www = served(z, "www", DNS_TYPE_A);
	assert_int_equal(www->count, 2);     /* the file wins for www: .80 and .82, not .81 */
	assert_int_equal(file_serial(), 10); /* the operator's file is never written */
	assert_int_equal(ixfr_kind(z, 10), XFR_OUT_IXFR);

	/* restart from the state directory: both still served, serial unchanged, history */
	z = restart(z);
	assert_int_equal(zone_version_serial(zone_current(z)), 13);
	assert_int_equal(a_last(z, "dyn"), 50);
	assert_int_equal(a_last(z, "other"), 60);
	assert_int_equal(ixfr_kind(z, 10), XFR_OUT_IXFR);
	assert_int_equal(ixfr_kind(z, 11), XFR_OUT_IXFR);
	assert_int_equal(ixfr_kind(z, 12), XFR_OUT_IXFR);

	/* a crash after the commit, before the base copy: the old base comes back, the same
	 * file change is applied again and changes nothing */
	close_zone(z);
	restore_base(base10, blen);
	z = open_zone();
	assert_int_equal(reload(z, true), 13);
	assert_int_equal(a_last(z, "dyn"), 50);
	assert_int_equal(journal_depth(z), 3);

	/* the file removes what it added: only its own record goes */
	edit_file(z, 10, "", 14);
	assert_null(served(z, "other", DNS_TYPE_A));
	assert_int_equal(a_last(z, "dyn"), 50);
	assert_int_equal(a_last(z, "www"), 80);
	close_zone(z);
}

/* The same with the base copy parsed and diffed before the transaction (off the control
 * thread in the daemon): the same serials, records and history. */
static void test_reload_keeps_other_changes_prepared(void **state)
{
	prepared = true;
	test_reload_keeps_other_changes(state);
	prepared = false;
}

/* Replace the base copy's records by text that is no zone file, keeping its note (first
 * line): a parse of the copy would fail. */
static void spoil_base(void)
{
	size_t len;
	char *b = slurp(bfile, &len);
	char *nl = strchr(b, '\n');
	assert_non_null(nl);
	strcpy(nl + 1, "this is not a zone file\n");
	restore_base(b, strlen(b));
}

/* Whether the base copy's note (its first line) is exactly note. */
static bool base_note_is(const char *note)
{
	size_t len;
	char *b = slurp(bfile, &len);
	char *nl = strchr(b, '\n');
	bool ok = nl && (size_t)(nl - b) == strlen(note) && memcmp(b, note, strlen(note)) == 0;
	free(b);
	return ok;
}

#define NOTE "; steerdns: the zone file as last loaded, committed at serial "

/* While the served version is the one the last file commit made and it serves the file as
 * loaded (the base copy's note says so), a reload takes the file's change against it and
 * parses no copy (here the copy's records are spoiled), at a restart too; once a
 * transaction came between, the copy is parsed, and keeps being parsed while the zone
 * serves records that are not the file's — until the file has them too. */
static void test_reload_fast_path(void **state)
{
	(void)state;
	static logcap_t cap;
	zone_t *z = start_zone(10);
	assert_true(base_note_is(NOTE "10, served as loaded, file serial 10"));
	spoil_base();
	logcap_start(&cap);
	edit_file(z, 10, "other IN A 192.0.2.60\n", 11);
	assert_non_null(strstr(cap.all, "event=zone-file-change zone=example.com base=version "
	                                "base_serial=10 rrsets=1 build=overlay\n"));
	assert_int_equal(a_last(z, "other"), 60);
	assert_true(base_note_is(NOTE "11, served as loaded, file serial 10"));

	/* a restart recovers serial 11 from the state: the same (the file is loaded before the
	 * state is recovered: nothing is served yet to build it over) */
	spoil_base();
	logcap_clear(&cap);
	z = restart(z);
	assert_int_equal(zone_version_serial(zone_current(z)), 11);
	assert_non_null(strstr(cap.all, "base=version base_serial=11 rrsets=0 build=full\n"));
	assert_int_equal(cap.errors, 0);
	edit_file(z, 12, "other IN A 192.0.2.61\n", 12); /* the serial raised by hand */
	assert_int_equal(a_last(z, "other"), 61);
	assert_true(base_note_is(NOTE "12, served as loaded, file serial 12"));

	/* a transaction in between: the copy is parsed; the zone then serves dyn, which the
	 * file does not have, and the next reload parses the copy again */
	uint32_t serial = 0;
	assert_int_equal(txn(z, "dyn", 50, 0, &serial), 0);
	assert_int_equal(serial, 13);
	logcap_clear(&cap);
	edit_file(z, 12, "other IN A 192.0.2.62\n", 14);
	assert_non_null(strstr(cap.all, "base=copy base_serial=12 rrsets=1 build=overlay\n"));
	assert_true(base_note_is(NOTE "14"));
	logcap_clear(&cap);
	edit_file(z, 12, "other IN A 192.0.2.63\n", 15);
	assert_non_null(strstr(cap.all, "base=copy base_serial=14 rrsets=1 build=overlay\n"));
	assert_int_equal(a_last(z, "dyn"), 50);
	assert_int_equal(a_last(z, "other"), 63);

	/* the file takes dyn in: nothing changes, but the zone serves the file as loaded again */
	edit_file(z, 12, "other IN A 192.0.2.63\ndyn IN A 192.0.2.50\n", 15);
	assert_true(base_note_is(NOTE "15, served as loaded, file serial 12"));
	logcap_clear(&cap);
	edit_file(z, 12, "other IN A 192.0.2.64\ndyn IN A 192.0.2.50\n", 16);
	assert_non_null(strstr(cap.all, "base=version base_serial=15 rrsets=1 build=overlay\n"));
	assert_int_equal(a_last(z, "other"), 64);
	assert_int_equal(cap.errors, 0);
	logcap_stop();
	close_zone(z);
}

static void test_reload_fast_path_prepared(void **state)
{
	prepared = true;
	test_reload_fast_path(state);
	prepared = false;
}

/* A base prepared from the served version (no parse) while a transaction commits before the
 * file's change: the prepared version is still the file as last loaded, the transaction's
 * record stays, and the copy's note no longer says the zone serves the file as loaded. */
static void test_prepared_then_update(void **state)
{
	(void)state;
	zone_t *z = start_zone(10);
	spoil_base();
	write_zone(10, "other IN A 192.0.2.60\n");
	zone_version_t *v = NULL;
	zone_load_info_t info = {0};
	assert_int_equal(zone_load(z, &info, &v), 0);
	zone_file_base_t *base = NULL;
	assert_int_equal(zone_file_base_prepare(z, zone_bindings(z), zone_current(z), v, &base), 0);
	assert_non_null(base);
	uint32_t serial = 0;
	assert_int_equal(txn(z, "dyn", 50, 0, &serial), 0);
	assert_int_equal(serial, 11);
	zone_update_t *u = NULL;
	assert_int_equal(zone_update_begin(z, &u), 0);
	assert_int_equal(zone_update_from_file_based(u, v, &info, base), 0);
	assert_int_equal(zone_update_commit(u, NOW, &serial), 0);
	assert_int_equal(serial, 12);
	assert_int_equal(a_last(z, "dyn"), 50);
	assert_int_equal(a_last(z, "other"), 60);
	assert_int_equal(zone_keep_base(z), 0);
	assert_true(base_note_is(NOTE "12"));
	close_zone(z);
}

/* One commit of the file as written (begin, from_file, commit): no zone_keep_base after. */
static uint32_t commit_file(zone_t *z, zone_file_base_t *base)
{
	zone_version_t *v = NULL;
	zone_load_info_t info = {0};
	assert_int_equal(zone_load(z, &info, &v), 0);
	zone_update_t *u = NULL;
	uint32_t serial = 0;
	assert_int_equal(zone_update_begin(z, &u), 0);
	assert_int_equal(zone_update_from_file_based(u, v, &info, base), 0);
	assert_int_equal(zone_update_commit(u, NOW, &serial), 0);
	return serial;
}

/* A zone whose file commit (serial 11) left its base copy pending. */
static zone_t *start_pending(void)
{
	zone_t *z = start_zone(10);
	write_zone(10, "other IN A 192.0.2.60\n");
	assert_int_equal(commit_file(z, NULL), 11);
	return z;
}

/* The base copy of a commit is written by zone_keep_base, or else by the next commit that
 * takes a file and at zone_free; an UPDATE meanwhile neither writes nor reads it, and a
 * preparation leaves the base to the commit. */
static void test_base_pending(void **state)
{
	(void)state;
	zone_t *z = start_pending();
	assert_true(base_note_is(NOTE "10, served as loaded, file serial 10")); /* pending */
	uint32_t serial = 0;
	assert_int_equal(txn(z, "dyn", 50, 0, &serial), 0);
	assert_int_equal(serial, 12);
	assert_true(base_note_is(NOTE "10, served as loaded, file serial 10")); /* still */

	write_zone(10, "other IN A 192.0.2.61\n");
	zone_version_t *v = NULL;
	zone_load_info_t info = {0};
	assert_int_equal(zone_load(z, &info, &v), 0);
	zone_file_base_t *base = NULL;
	assert_int_equal(zone_file_base_prepare(z, zone_bindings(z), zone_current(z), v, &base), 0);
	assert_null(base); /* the copy on disk is not the base: left to the commit */
	zone_update_t *u = NULL;
	assert_int_equal(zone_update_begin(z, &u), 0);
	assert_int_equal(zone_update_from_file(u, v, &info), 0);
	assert_true(base_note_is(NOTE "11, served as loaded, file serial 10")); /* written first */
	zone_update_abort(u);

	edit_file(z, 10, "other IN A 192.0.2.61\n", 13);
	write_zone(10, "other IN A 192.0.2.62\n");
	assert_int_equal(commit_file(z, NULL), 14);
	assert_int_equal(a_last(z, "dyn"), 50);
	close_zone(z); /* writes it */
	assert_true(base_note_is(NOTE "14"));
}

static void *job_writer(void *j)
{
	zone_base_job_write(j);
	return NULL;
}

/* A base copy written on another thread (zone_base_job_take): an UPDATE meanwhile does not
 * wait for it (it would hang here: nothing writes it yet), the next file commit does and
 * reads it whole, and done may come after the zone has settled the job, or been freed. */
static void test_base_job(void **state)
{
	(void)state;
	zone_t *z = start_pending();
	zone_base_job_t *j = NULL, *none = NULL;
	assert_int_equal(zone_base_job_take(z, &j), 0);
	assert_non_null(j);
	assert_int_equal(zone_base_job_take(z, &none), 0);
	assert_null(none); /* nothing pending: it is the job's */
	uint32_t serial = 0;
	assert_int_equal(txn(z, "dyn", 50, 0, &serial), 0);
	assert_int_equal(serial, 12);
	assert_true(base_note_is(NOTE "10, served as loaded, file serial 10"));

	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, job_writer, j), 0);
	write_zone(10, "other IN A 192.0.2.61\n");
	assert_int_equal(commit_file(z, NULL), 13); /* waits for the writer, reads its copy */
	assert_int_equal(a_last(z, "dyn"), 50);
	assert_int_equal(a_last(z, "other"), 61);
	assert_int_equal(pthread_join(t, NULL), 0);
	zone_base_job_done(j); /* settled by the wait already */

	assert_int_equal(zone_base_job_take(z, &j), 0);
	assert_non_null(j);
	assert_int_equal(pthread_create(&t, NULL, job_writer, j), 0);
	close_zone(z); /* waits for it */
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(base_note_is(NOTE "13"));
	zone_base_job_done(j); /* after the zone is gone */
}

static const char multi_cname[] = "multi IN CNAME a.example.net.\n"
                                  "multi IN CNAME b.example.net.\n";

static zone_bindings_t *bindings(uint16_t multi_flags)
{
	zone_binding_t list[2] = {{.policy = 7}, {.policy = 9, .flags = multi_flags}};
	assert_true(dname_from_str("www", apex, list[1].owner) > 0);
	assert_true(dname_from_str("multi", apex, list[0].owner) > 0);
	list[0].policy = 9;
	list[0].flags = multi_flags;
	list[1].policy = 7;
	list[1].flags = 0;
	zone_bindings_t *b = NULL;
	assert_int_equal(zone_bindings_new(list, 2, &b), 0);
	return b;
}

/* Policy ids survive load, commit, replay after a restart and a rebind; several CNAMEs at
 * one owner only where the bindings say CNAME candidates. */
static void test_bindings(void **state)
{
	(void)state;
	write_zone(10, multi_cname);
	zone_version_t *v = NULL;
	/* unbound, or bound without the CNAME flag: a zone rule error */
	assert_int_equal(zone_load_file(apex, zfile, NULL, &v), SD_ESEMANTIC);
	zone_bindings_t *plain = bindings(0), *cn = bindings(ZONE_BINDING_CNAME);
	assert_int_equal(zone_load_file_bound(apex, zfile, plain, NULL, &v), SD_ESEMANTIC);
	zone_bindings_unref(plain);

	zone_t *z = open_zone_bound(0, cn);
	assert_int_equal(reload(z, true), 10);
	assert_int_equal(served(z, "www", DNS_TYPE_A)->policy, 7);
	assert_int_equal(served(z, "multi", DNS_TYPE_CNAME)->policy, 9);
	assert_int_equal(served(z, "multi", DNS_TYPE_CNAME)->count, 2);
	assert_int_equal(served(z, "ns1", DNS_TYPE_A)->policy, 0);
	assert_int_equal(served(z, "@", DNS_TYPE_NS)->policy, 0);
	/* a commit (the apply path) keeps them */
	uint32_t serial = 0;
	assert_int_equal(txn(z, "www", 81, 0, &serial), 0);
	assert_int_equal(served(z, "www", DNS_TYPE_A)->policy, 7);
	assert_int_equal(served(z, "www", DNS_TYPE_A)->count, 2);
	assert_int_equal(served(z, "multi", DNS_TYPE_CNAME)->policy, 9);
	/* replay after a restart (snapshot 10 + journal 10 -> 11) keeps them */
	snap_bindings = cn;
	assert_int_equal(snapshot_serial(), 10);
	snap_bindings = NULL;
	close_zone(z);
	z = open_zone_bound(0, cn);
	assert_int_equal(reload(z, false), 11);
	assert_int_equal(served(z, "www", DNS_TYPE_A)->policy, 7);
	assert_int_equal(served(z, "multi", DNS_TYPE_CNAME)->count, 2);

	/* a new table: same content and serial, new ids, nothing journaled */
	zone_binding_t one = {.policy = 3, .flags = ZONE_BINDING_CNAME};
	assert_true(dname_from_str("multi", apex, one.owner) > 0);
	zone_bindings_t *b3 = NULL;
	assert_int_equal(zone_bindings_new(&one, 1, &b3), 0);
	uint32_t depth = journal_depth(z);
	assert_int_equal(zone_set_bindings(z, b3), 0);
	assert_int_equal(zone_version_serial(zone_current(z)), 11);
	assert_int_equal(served(z, "multi", DNS_TYPE_CNAME)->policy, 3);
	assert_int_equal(served(z, "www", DNS_TYPE_A)->policy, 0);
	assert_int_equal(served(z, "www", DNS_TYPE_A)->count, 2);
	assert_int_equal(journal_depth(z), depth);
	/* a table that drops the CNAME binding cannot serve this content: refused, kept */
	assert_int_equal(zone_set_bindings(z, NULL), SD_ESEMANTIC);
	assert_int_equal(served(z, "multi", DNS_TYPE_CNAME)->policy, 3);
	zone_bindings_unref(b3);
	zone_bindings_unref(cn);
	close_zone(z);
}

/* --- sources and rollback --- */

/* Commit a transaction after marking it with a source; returns the serial. */
static uint32_t commit_from(zone_update_t *u, zone_source_kind_t kind, const char *text)
{
	uint32_t serial = 0;
	zone_update_set_source(u, &(zone_source_t){.kind = kind, .text = text});
	assert_int_equal(zone_update_commit(u, NOW, &serial), 0);
	return serial;
}

/* The served SOA's REFRESH (RFC 1035 3.3.13: the second of the five numbers). */
static uint32_t soa_refresh(const zone_t *z)
{
	zone_rr_t soa;
	zone_version_soa_rr(zone_current(z), &soa);
	const uint8_t *p = soa.rdata + soa.rdlen - 16;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A new SOA: the served one with serial + 1 and REFRESH refresh. */
static void set_refresh(zone_t *z, uint32_t refresh)
{
	zone_rr_t soa;
	uint8_t rd[DNS_SOA_MAX_LEN];
	zone_version_soa_rr(zone_current(z), &soa);
	memcpy(rd, soa.rdata, soa.rdlen);
	dns_soa_set_serial(rd, soa.rdlen, zone_version_serial(zone_current(z)) + 1);
	uint8_t *p = rd + soa.rdlen - 16;
	p[0] = (uint8_t)(refresh >> 24), p[1] = (uint8_t)(refresh >> 16);
	p[2] = (uint8_t)(refresh >> 8), p[3] = (uint8_t)refresh;
	soa.rdata = rd;
	zone_update_t *u = NULL;
	assert_int_equal(zone_update_begin(z, &u), 0);
	assert_int_equal(zone_update_set_soa(u, &soa), 1);
	commit_from(u, ZONE_SOURCE_UPDATE, "soa-key.");
}

/* Roll z back to serial `to` from the journal; returns the new serial. */
static uint32_t roll_back(zone_t *z, uint32_t to)
{
	zone_changeset_t **list = NULL;
	size_t n = 0;
	assert_int_equal(zone_changes_since(z, to, &list, &n), 0);
	zone_update_t *u = NULL;
	assert_int_equal(zone_update_begin(z, &u), 0);
	assert_int_equal(zone_update_revert(u, (const zone_changeset_t *const *)list, n), 0);
	char text[32];
	snprintf(text, sizeof(text), "to %u by test", to);
	uint32_t s = commit_from(u, ZONE_SOURCE_ROLLBACK, text);
	zone_journal_free_list(list, n);
	return s;
}

/* The served content equals the zone file written with write_zone(serial, extra), the SOA
 * serial aside (zone_changeset_diff lists no other SOA difference: REFRESH is checked
 * apart). */
static void assert_content_is(const zone_t *z, const char *extra)
{
	char path[320];
	snprintf(path, sizeof(path), "%s/expect.zone", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
	        "$ORIGIN example.com.\n$TTL 3600\n"
	        "@ IN SOA ns1 hostmaster 1 7200 900 1209600 300\n"
	        "@ IN NS ns1\nns1 IN A 192.0.2.1\nwww IN A 192.0.2.80\n%s",
	        extra);
	fclose(f);
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file(apex, path, NULL, &v), 0);
	unlink(path);
	zone_changeset_t *cs = NULL;
	assert_int_equal(zone_changeset_diff(v, zone_current(z), &cs), 0);
	assert_int_equal(zone_changeset_removed_count(cs), 0);
	assert_int_equal(zone_changeset_added_count(cs), 0);
	zone_changeset_free(cs);
	zone_version_unref(v);
}

/* Each change set keeps its time and source in the journal and the IXFR history. */
static void test_sources(void **state)
{
	(void)state;
	zone_t *z = start_zone(10);
	uint8_t o[DNAME_MAX], rd[4];
	zone_update_t *u = NULL;
	assert_int_equal(zone_update_begin(z, &u), 0);
	zone_rr_t rr = a_rr("new", 7, 300, o, rd);
	assert_int_equal(zone_update_add(u, &rr), 0);
	assert_int_equal(commit_from(u, ZONE_SOURCE_UPDATE, "key-a., 192.0.2.9"), 11);
	uint32_t s = 0; /* no source given: unknown */
	assert_int_equal(txn(z, "other", 8, 0, &s), 0);
	zone_changeset_t **list = NULL;
	size_t n = 0;
	assert_int_equal(zone_changes_since(z, 10, &list, &n), 0);
	assert_int_equal(n, 2);
	zone_source_t src;
	assert_int_equal(zone_changeset_origin(list[0], &src), NOW);
	assert_int_equal(src.kind, ZONE_SOURCE_UPDATE);
	assert_string_equal(src.text, "key-a., 192.0.2.9");
	assert_int_equal(zone_changeset_origin(list[1], &src), NOW);
	assert_int_equal(src.kind, ZONE_SOURCE_UNKNOWN);
	assert_string_equal(src.text, "");
	zone_journal_free_list(list, n);
	/* the history's diffs carry the same, without reading the journal */
	rcu_thread_online();
	zone_history_snap_t *snap = zone_history_acquire(zone_history(z));
	rcu_thread_offline();
	assert_int_equal(zone_history_snap_count(snap), 2);
	const zone_diff_t *d = zone_history_snap_diff(snap, 0);
	assert_int_equal(d->time, NOW);
	assert_int_equal(d->source.kind, ZONE_SOURCE_UPDATE);
	assert_string_equal(d->source.text, "key-a., 192.0.2.9");
	zone_history_snap_release(snap);
	/* and after a restart (the history rebuilt from the journal) */
	z = restart(z);
	rcu_thread_online();
	snap = zone_history_acquire(zone_history(z));
	rcu_thread_offline();
	assert_int_equal(zone_history_snap_diff(snap, 0)->source.kind, ZONE_SOURCE_UPDATE);
	zone_history_snap_release(snap);
	/* a long source is cut, marked "..." */
	char big[600];
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(zone_update_begin(z, &u), 0);
	rr = a_rr("third", 9, 300, o, rd);
	assert_int_equal(zone_update_add(u, &rr), 0);
	s = commit_from(u, ZONE_SOURCE_HEALTH, big);
	assert_int_equal(zone_changes_since(z, s - 1, &list, &n), 0);
	assert_int_equal(n, 1);
	zone_changeset_origin(list[0], &src);
	assert_int_equal(src.kind, ZONE_SOURCE_HEALTH);
	assert_int_equal(strlen(src.text), ZONE_SOURCE_TEXT_MAX);
	assert_string_equal(src.text + ZONE_SOURCE_TEXT_MAX - 3, "...");
	zone_journal_free_list(list, n);
	close_zone(z);
}

/* A source listing several keys / clients / names: each once, bounded, the rest counted. */
static void test_source_list(void **state)
{
	(void)state;
	zone_source_list_t l = {0};
	assert_string_equal(zone_source_list_text(&l), "");
	zone_source_list_add(&l, "key-a.");
	zone_source_list_add(&l, "192.0.2.1");
	zone_source_list_add(&l, "key-a.");     /* again: once */
	zone_source_list_add(&l, "192.0.2.10"); /* 192.0.2.1 is listed, not this one */
	zone_source_list_add(&l, "key");        /* a prefix of a listed item is another item */
	assert_string_equal(zone_source_list_text(&l), "key-a., 192.0.2.1, 192.0.2.10, key");
	zone_source_list_t big = {0};
	char item[32];
	for (int i = 0; i < 100; i++) {
		snprintf(item, sizeof(item), "key-%03d.example.", i);
		zone_source_list_add(&big, item);
	}
	const char *text = zone_source_list_text(&big);
	assert_true(strlen(text) <= ZONE_SOURCE_TEXT_MAX);
	assert_non_null(strstr(text, "key-000.example., key-001.example., "));
	const char *more = strstr(text, " more");
	assert_non_null(more);
	assert_string_equal(more, " more");
	int listed = 0, rest = 0;
	for (const char *p = text; (p = strstr(p, "key-")) != NULL; p++)
		listed++;
	assert_int_equal(sscanf(strrchr(text, '+'), "+%d more", &rest), 1);
	assert_int_equal(listed + rest, 100);
}

/* Rollback: the inverse of the change sets after a serial, as one new change set. */
static void test_rollback(void **state)
{
	(void)state;
	zone_t *z = start_zone(10);
	uint32_t s = 0;
	assert_int_equal(txn(z, "www", 81, 80, &s), 0); /* 11: www .80 -> .81 */
	edit_file(z, 10, "extra IN A 192.0.2.5\n", 12); /* 12: the file adds extra */
	uint8_t o[DNAME_MAX], rd[4];
	zone_update_t *u = NULL;
	assert_int_equal(zone_update_begin(z, &u), 0); /* 13: a TTL change */
	zone_rr_t rr = a_rr("www", 81, 60, o, rd);
	assert_int_equal(zone_update_add(u, &rr), 0);
	assert_int_equal(commit_from(u, ZONE_SOURCE_UPDATE, "k."), 13);
	set_refresh(z, 1234); /* 14: the SOA's REFRESH */
	assert_int_equal(soa_refresh(z), 1234);
	size_t depth = journal_depth(z);

	/* to 12: the TTL and the SOA come back, extra and www .81 stay */
	assert_int_equal(roll_back(z, 12), 15); /* a new, higher serial */
	assert_int_equal(journal_depth(z), depth + 1);
	assert_int_equal(served(z, "www", DNS_TYPE_A)->ttl, 3600);
	assert_int_equal(a_last(z, "www"), 81);
	assert_int_equal(a_last(z, "extra"), 5);
	assert_int_equal(soa_refresh(z), 7200);
	assert_int_equal(ixfr_kind(z, 14), XFR_OUT_IXFR);

	/* to 10, across the rollback itself: the file's content, at serial 16 */
	assert_int_equal(roll_back(z, 10), 16);
	assert_content_is(z, "");
	assert_int_equal(soa_refresh(z), 7200);
	zone_changeset_t **list = NULL;
	size_t n = 0;
	assert_int_equal(zone_changes_since(z, 15, &list, &n), 0);
	assert_int_equal(n, 1);
	zone_source_t src;
	assert_int_equal(zone_changeset_origin(list[0], &src), NOW);
	assert_int_equal(src.kind, ZONE_SOURCE_ROLLBACK);
	assert_string_equal(src.text, "to 10 by test");
	/* www .81 -> .80, extra removed */
	assert_int_equal(zone_changeset_removed_count(list[0]), 2);
	assert_int_equal(zone_changeset_added_count(list[0]), 1);

	/* a chain that does not end at the served serial is refused, nothing edited */
	assert_int_equal(txn(z, "later", 3, 0, &s), 0);
	assert_int_equal(zone_update_begin(z, &u), 0);
	assert_int_equal(zone_update_revert(u, (const zone_changeset_t *const *)list, n),
	                 SD_ESEMANTIC);
	zone_update_abort(u);
	zone_journal_free_list(list, n);
	/* a serial the journal does not reach */
	assert_int_equal(zone_changes_since(z, 9, &list, &n), SD_ENOTFOUND);

	/* the rollback is journaled: a restart serves it */
	uint32_t before = zone_version_serial(zone_current(z));
	z = restart(z);
	assert_int_equal(zone_version_serial(zone_current(z)), before);
	assert_content_is(z, "later IN A 192.0.2.3\n");
	close_zone(z);
}

int main(void)
{
	rcu_register_thread();
	rcu_thread_offline(); /* as the daemon's control thread: commits go online to publish */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_limit_writes_snapshot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_serials_and_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replay_when_snapshot_behind, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_tail_and_lost_snapshot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_journal_lost_after_base, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_noop_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failure_leaves_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_keeps_other_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_keeps_other_changes_prepared, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_reload_fast_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_fast_path_prepared, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prepared_then_update, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_base_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_base_job, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bindings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sources, setup, teardown),
	    cmocka_unit_test(test_source_list),
	    cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_barrier_qsbr();
	rcu_unregister_thread();
	return rc;
}
