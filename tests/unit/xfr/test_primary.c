/* test_primary.c — reload-driven serials, journal before publish, history, restart replay,
 * torn journal tail, all on real files in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "zone/load.h"
#include "contrib/base/err.h"
#include "server/xfr/out.h"
#include "server/xfr/primary.h"
#include "zone/changeset.h"

static char dir[256], zfile[300], jfile[300], sfile[300];
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

static zone_version_t *load(void)
{
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file(apex, zfile, NULL, &v), 0);
	return v;
}

static xfr_primary_t *open_primary_limited(size_t max_depth)
{
	xfr_primary_conf_t c = {.policy = ZONE_SERIAL_INCREMENT};
	c.limits.max_depth = (uint32_t)max_depth;
	xfr_primary_t *p = NULL;
	assert_int_equal(xfr_primary_open(apex, sfile, jfile, &c, &p), 0);
	return p;
}

static xfr_primary_t *open_primary(void)
{
	return open_primary_limited(0);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/sd-xfr-primary-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(zfile, sizeof(zfile), "%s/example.com.zone", dir);
	snprintf(jfile, sizeof(jfile), "%s/example.com.journal", dir);
	snprintf(sfile, sizeof(sfile), "%s/example.com.snapshot", dir);
	return 0;
}

static int teardown(void **state)
{
	unlink(zfile);
	unlink(jfile);
	unlink(sfile);
	rmdir(dir);
	return 0;
}

/* Reload: a change journaled, then published and synced; returns the new version or NULL. */
static zone_version_t *reload(xfr_primary_t *p, zone_version_t *served, bool sync)
{
	zone_version_t *nv = NULL;
	assert_int_equal(xfr_primary_reload(p, served, load(), 1700000000, &nv), 0);
	if (nv == NULL)
		return NULL;
	assert_int_equal(xfr_primary_published(p), 0);
	if (sync)
		assert_int_equal(xfr_primary_sync(p, nv), 0);
	return nv;
}

static xfr_out_kind_t ixfr_kind(const xfr_primary_t *p, const zone_version_t *v, uint32_t from)
{
	xfr_request_t req = {.id = 1, .qtype = DNS_TYPE_IXFR, .qclass = 1, .has_serial = true};
	static const uint8_t q[] = {7,   'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,
	                            'c', 'o', 'm', 0,   0,   251, 0,   1};
	req.question = q;
	req.question_len = sizeof(q);
	req.serial = from;
	xfr_out_params_t prm = {.req = &req, .version = v, .history = xfr_primary_history(p)};
	xfr_out_t *x = NULL;
	assert_int_equal(xfr_out_new(&prm, &x), 0);
	xfr_out_kind_t k = xfr_out_kind(x);
	xfr_out_free(x);
	return k;
}

static uint32_t snapshot_serial(void)
{
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file(apex, sfile, NULL, &v), 0);
	uint32_t s = zone_version_serial(v);
	zone_version_unref(v);
	return s;
}

static uint32_t file_serial(void)
{
	zone_version_t *v = load();
	uint32_t s = zone_version_serial(v);
	zone_version_unref(v);
	return s;
}

static zone_version_t *restart(xfr_primary_t **p)
{
	xfr_primary_close(*p);
	*p = open_primary();
	zone_version_t *v = NULL;
	assert_int_equal(xfr_primary_start(*p, load(), 1700000000, &v), 0);
	assert_int_equal(xfr_primary_published(*p), 0);
	assert_int_equal(xfr_primary_sync(*p, v), 0);
	return v;
}

static void test_reload_serials_and_restart(void **state)
{
	write_zone(10, "");
	xfr_primary_t *p = open_primary();
	zone_version_t *v = NULL;
	assert_int_equal(xfr_primary_start(p, load(), 1700000000, &v), 0);
	assert_int_equal(zone_version_serial(v), 10);
	assert_int_equal(xfr_primary_sync(p, v), 0);
	assert_int_equal(snapshot_serial(), 10);

	/* same content: no new serial, nothing journaled */
	assert_null(reload(p, v, true));
	xfr_primary_stats_t st;
	xfr_primary_stats(p, &st);
	assert_int_equal(st.journal_depth, 0);

	/* an edit without touching the serial: increment policy gives 11 */
	write_zone(10, "new IN A 192.0.2.7\n");
	zone_version_t *v2 = reload(p, v, true);
	assert_non_null(v2);
	assert_int_equal(zone_version_serial(v2), 11);
	uint8_t nn[] = {3,   'n', 'e', 'w', 7,   'e', 'x', 'a', 'm',
	                'p', 'l', 'e', 3,   'c', 'o', 'm', 0};
	assert_non_null(zone_version_find(v2, nn, sizeof(nn)));
	xfr_primary_stats(p, &st);
	assert_int_equal(st.journal_depth, 1);
	/* the operator's file is left alone; the journal, not a rewritten snapshot, carries
	 * the change */
	assert_int_equal(file_serial(), 10);
	assert_int_equal(snapshot_serial(), 10);
	assert_int_equal(ixfr_kind(p, v2, 10), XFR_OUT_IXFR);
	/* reloading that same file again (its serial 10 below the served 11) changes nothing */
	assert_null(reload(p, v2, true));

	/* a serial raised by hand is kept */
	write_zone(50, "new IN A 192.0.2.8\n");
	zone_version_t *v3 = reload(p, v2, true);
	assert_int_equal(zone_version_serial(v3), 50);
	assert_int_equal(ixfr_kind(p, v3, 10), XFR_OUT_IXFR);
	assert_int_equal(ixfr_kind(p, v3, 11), XFR_OUT_IXFR);
	assert_int_equal(ixfr_kind(p, v3, 50), XFR_OUT_IXFR_CURRENT);
	assert_int_equal(ixfr_kind(p, v3, 9), XFR_OUT_IXFR_AXFR);

	/* restart with the file unchanged: same serial, the history comes back */
	zone_version_t *r = restart(&p);
	assert_int_equal(zone_version_serial(r), 50);
	assert_int_equal(ixfr_kind(p, r, 10), XFR_OUT_IXFR);
	assert_int_equal(ixfr_kind(p, r, 11), XFR_OUT_IXFR);

	/* an edit while stopped that forgets the serial: one new serial at start */
	write_zone(50, "new IN A 192.0.2.9\n");
	zone_version_t *r2 = restart(&p);
	assert_int_equal(zone_version_serial(r2), 51);
	assert_int_equal(ixfr_kind(p, r2, 50), XFR_OUT_IXFR);
	assert_int_equal(ixfr_kind(p, r2, 10), XFR_OUT_IXFR);
	xfr_primary_stats(p, &st);
	assert_int_equal(st.journal_depth, 3);

	zone_version_unref(v);
	zone_version_unref(v2);
	zone_version_unref(v3);
	zone_version_unref(r);
	zone_version_unref(r2);
	xfr_primary_close(p);
	rcu_barrier_qsbr();
}

static void test_replay_when_snapshot_behind(void **state)
{
	write_zone(20, "");
	xfr_primary_t *p = open_primary();
	zone_version_t *v = NULL;
	assert_int_equal(xfr_primary_start(p, load(), 1700000000, &v), 0);
	assert_int_equal(xfr_primary_sync(p, v), 0);
	write_zone(20, "a IN A 192.0.2.9\n");
	zone_version_t *v2 = reload(p, v, true);
	assert_int_equal(zone_version_serial(v2), 21);
	/* a second change journaled; the snapshot stays at the first start's serial */
	write_zone(20, "a IN A 192.0.2.9\nb IN A 192.0.2.10\n");
	zone_version_t *v3 = reload(p, v2, false);
	assert_int_equal(zone_version_serial(v3), 22);
	assert_int_equal(snapshot_serial(), 20);
	zone_version_t *r = restart(&p);
	assert_int_equal(zone_version_serial(r), 22); /* snapshot 20 + journal 20 -> 21 -> 22 */
	uint8_t b[] = {1, 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};
	assert_non_null(zone_version_find(r, b, sizeof(b)));
	assert_int_equal(snapshot_serial(), 20);
	assert_int_equal(ixfr_kind(p, r, 20), XFR_OUT_IXFR);
	zone_version_unref(v);
	zone_version_unref(v2);
	zone_version_unref(v3);
	zone_version_unref(r);
	xfr_primary_close(p);
	rcu_barrier_qsbr();
}

/* Past journal-max-depth the served version is written as the snapshot and the journal is
 * trimmed to half the limit; a restart then still comes back to the same serial. */
static void test_limit_writes_snapshot(void **state)
{
	write_zone(40, "");
	xfr_primary_t *p = open_primary_limited(4);
	zone_version_t *v = NULL;
	assert_int_equal(xfr_primary_start(p, load(), 1700000000, &v), 0);
	assert_int_equal(xfr_primary_sync(p, v), 0);
	assert_int_equal(snapshot_serial(), 40); /* the first start writes one */
	zone_version_t *cur = v;
	for (unsigned i = 1; i <= 5; i++) {
		char extra[64];
		snprintf(extra, sizeof(extra), "n IN A 192.0.2.%u\n", i);
		write_zone(40, extra);
		zone_version_t *next = reload(p, cur, true);
		assert_non_null(next);
		if (cur != v)
			zone_version_unref(cur);
		cur = next;
		/* below the limit the snapshot stays; at 5 entries (> 4) it catches up */
		assert_int_equal(snapshot_serial(), i < 5 ? 40 : 45);
	}
	xfr_primary_stats_t st;
	xfr_primary_stats(p, &st);
	assert_true(st.journal_depth <= 2);
	zone_version_t *r = restart(&p);
	assert_int_equal(zone_version_serial(r), 45);
	zone_version_unref(v);
	zone_version_unref(cur);
	zone_version_unref(r);
	xfr_primary_close(p);
	rcu_barrier_qsbr();
}

static void test_torn_tail_and_lost_snapshot(void **state)
{
	write_zone(30, "");
	xfr_primary_t *p = open_primary();
	zone_version_t *v = NULL;
	assert_int_equal(xfr_primary_start(p, load(), 1700000000, &v), 0);
	assert_int_equal(xfr_primary_sync(p, v), 0);
	write_zone(30, "x IN A 192.0.2.11\n");
	zone_version_t *v2 = reload(p, v, true);
	write_zone(30, "x IN A 192.0.2.12\n");
	zone_version_t *v3 = reload(p, v2, true);
	assert_int_equal(zone_version_serial(v3), 32);
	xfr_primary_close(p);
	/* tear the last entry, as a crash during its append would (the change 31 -> 32 was then
	 * never published: the journal is written first): the journal ends at 31 */
	struct stat sb;
	assert_int_equal(stat(jfile, &sb), 0);
	assert_int_equal(truncate(jfile, sb.st_size - 5), 0);
	p = open_primary();
	zone_version_t *r = NULL;
	assert_int_equal(xfr_primary_start(p, load(), 1700000000, &r), 0);
	/* snapshot 30 + journal -> 31; the file differs from 31, so it becomes 32 again */
	assert_int_equal(zone_version_serial(r), 32);
	uint8_t x[] = {1, 'x', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};
	const zone_rrset_t *xa = zone_node_rrset(zone_version_find(r, x, sizeof(x)), DNS_TYPE_A);
	assert_int_equal(xa->rdata[2 + 3], 12);
	xfr_primary_stats_t st;
	xfr_primary_stats(p, &st);
	assert_int_equal(st.journal_depth, 2);
	/* and the zone keeps working: the next edit is journaled from 32 */
	write_zone(30, "x IN A 192.0.2.13\n");
	zone_version_t *r2 = reload(p, r, true);
	assert_int_equal(zone_version_serial(r2), 33);
	assert_int_equal(ixfr_kind(p, r2, 32), XFR_OUT_IXFR);
	/* a lost snapshot: the journal cannot be trusted, the file is served as it is */
	assert_int_equal(unlink(sfile), 0);
	zone_version_t *r3 = restart(&p);
	assert_int_equal(zone_version_serial(r3), 30);
	xfr_primary_stats(p, &st);
	assert_int_equal(st.journal_depth, 0);
	xfr_primary_close(p);
	zone_version_unref(v);
	zone_version_unref(v2);
	zone_version_unref(v3);
	zone_version_unref(r);
	zone_version_unref(r2);
	zone_version_unref(r3);
	rcu_barrier_qsbr();
}

int main(void)
{
	rcu_register_thread();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_limit_writes_snapshot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_serials_and_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replay_when_snapshot_behind, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_tail_and_lost_snapshot, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_barrier_qsbr();
	rcu_unregister_thread();
	return rc;
}
