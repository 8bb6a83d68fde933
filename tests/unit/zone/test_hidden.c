/* test_hidden.c — the transfer view (zone/hidden.h) on the real write path: records hidden
 * from transfers by a commit of their own (serial, journal entry, IXFR step in the form a
 * secondary sees), AXFR without them, no-op requests, content edits of hidden records, the
 * hide hook, journal replay and the snapshot's note across restarts, and the change set's
 * serialization and condensation of the view lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "server/xfr/out.h"
#include "zone/changeset.h"
#include "zone/hidden.h"
#include "zone/load.h"
#include "zone/update.h"
#include "zone/zone.h"

#define NOW 1700000000

static char dir[256], zfile[300], jfile[300], sfile[300], bfile[300], rfile[300];
static uint8_t apex[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};

static void write_zone(uint32_t serial)
{
	FILE *f = fopen(zfile, "w");
	assert_non_null(f);
	fprintf(f,
	        "$ORIGIN example.com.\n$TTL 3600\n"
	        "@ IN SOA ns1 hostmaster %u 7200 900 1209600 300\n"
	        "@ IN NS ns1\nns1 IN A 192.0.2.1\n"
	        "www IN A 192.0.2.80\nwww IN A 192.0.2.81\nwww IN A 192.0.2.82\n",
	        serial);
	fclose(f);
}

static zone_t *open_zone(size_t depth)
{
	zone_conf_t c = {.policy = ZONE_SERIAL_INCREMENT};
	c.limits.max_depth = (uint32_t)depth;
	zone_t *z = NULL;
	assert_int_equal(zone_new(apex, zfile, &z), 0);
	assert_int_equal(zone_open_state(z, dir, &c), 0);
	return z;
}

static void close_zone(zone_t *z)
{
	rcu_barrier_qsbr();
	zone_free(z);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sd-zone-hidden-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(zfile, sizeof(zfile), "%s/example.com.zone", dir);
	snprintf(jfile, sizeof(jfile), "%s/example.com.journal", dir);
	snprintf(sfile, sizeof(sfile), "%s/example.com.snapshot", dir);
	snprintf(bfile, sizeof(bfile), "%s/example.com.file", dir);
	snprintf(rfile, sizeof(rfile), "%s/example.com.serial", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(zfile);
	unlink(jfile);
	unlink(sfile);
	unlink(bfile);
	unlink(rfile);
	rmdir(dir);
	return 0;
}

static uint32_t reload(zone_t *z)
{
	zone_version_t *v = NULL;
	zone_load_info_t info = {0};
	assert_int_equal(zone_load(z, &info, &v), 0);
	zone_update_t *u = NULL;
	assert_int_equal(zone_update_begin(z, &u), 0);
	assert_int_equal(zone_update_from_file(u, v, &info), 0);
	uint32_t serial = 0;
	assert_int_equal(zone_update_commit(u, NOW, &serial), 0);
	assert_int_equal(zone_sync(z), 0);
	return serial;
}

static zone_t *start_zone(uint32_t serial, size_t depth)
{
	write_zone(serial);
	zone_t *z = open_zone(depth);
	assert_int_equal(reload(z), serial);
	return z;
}

static zone_rr_t a_rr(uint8_t last, uint32_t ttl, uint8_t owner[DNAME_MAX], uint8_t rd[4])
{
	assert_true(dname_from_str("www", apex, owner) > 0);
	rd[0] = 192, rd[1] = 0, rd[2] = 2, rd[3] = last;
	return (zone_rr_t){.owner = owner,
	                   .type = DNS_TYPE_A,
	                   .rclass = DNS_CLASS_IN,
	                   .ttl = ttl,
	                   .rdlen = 4,
	                   .rdata = rd};
}

enum { HIDE, SHOW, ADD, REMOVE, TTL };

/* One transaction of one kind on www A 192.0.2.last; returns the commit's code. */
static int txn(zone_t *z, int kind, uint8_t last, uint32_t *serial)
{
	uint8_t o[DNAME_MAX], rd[4];
	zone_rr_t rr = a_rr(last, kind == TTL ? 60 : 3600, o, rd);
	zone_update_t *u = NULL;
	assert_int_equal(zone_update_begin(z, &u), 0);
	int rc = kind == HIDE     ? zone_update_hide(u, &rr)
	         : kind == SHOW   ? zone_update_unhide(u, &rr)
	         : kind == REMOVE ? zone_update_remove(u, &rr)
	                          : zone_update_add(u, &rr);
	assert_int_equal(rc, 0);
	return zone_update_commit(u, NOW, serial);
}

static uint32_t commit(zone_t *z, int kind, uint8_t last)
{
	uint32_t s = 0;
	assert_int_equal(txn(z, kind, last, &s), 0);
	assert_int_equal(zone_sync(z), 0);
	return s;
}

static bool hidden(const zone_t *z, uint8_t last)
{
	uint8_t o[DNAME_MAX], rd[4];
	zone_rr_t rr = a_rr(last, 0, o, rd);
	return zone_version_rr_hidden(zone_current(z), &rr);
}

static uint16_t www_count(const zone_t *z)
{
	uint8_t o[DNAME_MAX];
	assert_true(dname_from_str("www", apex, o) > 0);
	const zone_node_t *n = zone_version_find(zone_current(z), o, dname_len(o));
	const zone_rrset_t *rs = n ? zone_node_rrset(n, DNS_TYPE_A) : NULL;
	return rs ? rs->count : 0;
}

/* The RRs a transfer of z sends (AXFR, or IXFR from `from`), summed over its messages. */
static unsigned xfr_rrs(const zone_t *z, uint16_t qtype, uint32_t from)
{
	static const uint8_t q[] = {7,   'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,
	                            'c', 'o', 'm', 0,   0,   252, 0,   1};
	xfr_request_t req = {.id = 1, .qtype = qtype, .qclass = 1};
	req.question = q;
	req.question_len = sizeof(q);
	req.has_serial = qtype == DNS_TYPE_IXFR;
	req.serial = from;
	xfr_out_params_t prm = {
	    .req = &req, .version = zone_current(z), .history = zone_history(z)};
	xfr_out_t *x = NULL;
	assert_int_equal(xfr_out_new(&prm, &x), 0);
	if (qtype == DNS_TYPE_IXFR)
		assert_int_equal(xfr_out_kind(x), XFR_OUT_IXFR);
	static uint8_t buf[65535];
	unsigned n = 0;
	while (!xfr_out_done(x)) {
		size_t len = 0;
		assert_int_equal(xfr_out_next(x, buf, sizeof(buf), NOW, &len), 0);
		n += be16_get(buf + 6);
	}
	xfr_out_free(x);
	return n;
}

/* The newest IXFR step: records removed and added as a secondary sees them. */
static void last_step(const zone_t *z, size_t *removed, size_t *added)
{
	zone_history_snap_t *s = zone_history_acquire(zone_history(z));
	size_t n = zone_history_snap_count(s);
	assert_true(n > 0);
	const zone_changeset_t *cs = zone_history_snap_diff(s, n - 1)->cs;
	*removed = zone_changeset_removed_count(cs);
	*added = zone_changeset_added_count(cs);
	assert_int_equal(zone_changeset_hide_count(cs) + zone_changeset_unhide_count(cs), 0);
	zone_history_snap_release(s);
}

static size_t depth(const zone_t *z)
{
	zone_stats_t st;
	zone_stats(z, &st);
	return st.journal_depth;
}

/* Hiding is a commit of its own: new serial, one journal entry, an IXFR step that removes
 * the record, AXFR without it; answers (the content) keep it. Showing it again reverses. */
static void test_hide_and_show(void **state)
{
	(void)state;
	zone_t *z = start_zone(10, 0);
	assert_int_equal(xfr_rrs(z, DNS_TYPE_AXFR, 0), 7); /* SOA NS A 3×www SOA */
	size_t d0 = depth(z);
	assert_int_equal(commit(z, HIDE, 81), 11);
	assert_int_equal(depth(z), d0 + 1);
	assert_true(hidden(z, 81));
	assert_false(hidden(z, 80));
	assert_int_equal(www_count(z), 3);
	assert_int_equal(xfr_rrs(z, DNS_TYPE_AXFR, 0), 6);
	size_t r, a;
	last_step(z, &r, &a);
	assert_int_equal(r, 1);
	assert_int_equal(a, 0);
	assert_int_equal(xfr_rrs(z, DNS_TYPE_IXFR, 10), 1 + 1 + 1 + 1 + 1); /* SOA old - new SOA */

	assert_int_equal(commit(z, SHOW, 81), 12);
	assert_false(hidden(z, 81));
	assert_int_equal(xfr_rrs(z, DNS_TYPE_AXFR, 0), 7);
	last_step(z, &r, &a);
	assert_int_equal(r, 0);
	assert_int_equal(a, 1);
	/* 10 -> 12 condensed: hidden and shown again is no change at all */
	assert_int_equal(xfr_rrs(z, DNS_TYPE_IXFR, 10), 4);
	close_zone(z);
}

/* Requests that change nothing make no serial. */
static void test_noop_requests(void **state)
{
	(void)state;
	zone_t *z = start_zone(10, 0);
	uint32_t s = 0;
	assert_int_equal(txn(z, SHOW, 81, &s), 0); /* shown already */
	assert_int_equal(s, 10);
	assert_int_equal(txn(z, HIDE, 99, &s), 0); /* not in the zone */
	assert_int_equal(s, 10);
	assert_int_equal(commit(z, HIDE, 81), 11);
	assert_int_equal(txn(z, HIDE, 81, &s), 0); /* hidden already */
	assert_int_equal(s, 11);
	/* hide then show in one transaction: the last request wins */
	uint8_t o[DNAME_MAX], rd[4];
	zone_rr_t rr = a_rr(82, 3600, o, rd);
	zone_update_t *u = NULL;
	assert_int_equal(zone_update_begin(z, &u), 0);
	assert_int_equal(zone_update_hide(u, &rr), 0);
	assert_int_equal(zone_update_unhide(u, &rr), 0);
	assert_int_equal(zone_update_commit(u, NOW, &s), 0);
	assert_int_equal(s, 11);
	assert_false(hidden(z, 82));
	close_zone(z);
}

/* Content edits of a hidden record: a TTL change keeps it hidden and shows nothing to a
 * secondary; its removal leaves the set, and the secondary sees no removal (it never had
 * it). */
static void test_content_edits(void **state)
{
	(void)state;
	zone_t *z = start_zone(10, 0);
	assert_int_equal(commit(z, HIDE, 81), 11);
	assert_int_equal(commit(z, TTL, 81), 12);
	assert_true(hidden(z, 81));
	size_t r, a;
	last_step(z, &r, &a);
	assert_int_equal(r + a, 0);
	assert_int_equal(xfr_rrs(z, DNS_TYPE_AXFR, 0), 6);
	assert_int_equal(commit(z, REMOVE, 81), 13);
	assert_false(hidden(z, 81));
	assert_null(zone_version_hidden(zone_current(z)));
	last_step(z, &r, &a);
	assert_int_equal(r + a, 0);
	assert_int_equal(www_count(z), 2);
	/* added again: visible (the hook is not set) */
	assert_int_equal(commit(z, ADD, 81), 14);
	last_step(z, &r, &a);
	assert_int_equal(a, 1);
	assert_int_equal(xfr_rrs(z, DNS_TYPE_AXFR, 0), 7);
	close_zone(z);
}

static unsigned hook_calls;

static bool hide_new(void *ctx, const zone_t *z, const zone_rr_t *rr)
{
	(void)ctx;
	(void)z;
	hook_calls++;
	return rr->type == DNS_TYPE_A && rr->rdata[3] >= 83;
}

/* The hook hides what a commit adds (a reload's or an update's new candidate). */
static void test_hook(void **state)
{
	(void)state;
	zone_t *z = start_zone(10, 0);
	zone_set_hide_hook(z, hide_new, NULL);
	hook_calls = 0;
	assert_int_equal(commit(z, ADD, 83), 11);
	assert_int_equal(hook_calls, 1);
	assert_true(hidden(z, 83));
	assert_int_equal(www_count(z), 4);
	size_t r, a;
	last_step(z, &r, &a);
	assert_int_equal(r + a, 0); /* the secondary sees only the serial */
	assert_int_equal(xfr_rrs(z, DNS_TYPE_AXFR, 0), 7);
	assert_int_equal(commit(z, SHOW, 83), 12);
	assert_int_equal(xfr_rrs(z, DNS_TYPE_AXFR, 0), 8);
	close_zone(z);
}

/* A restart recovers the hidden set: from the journal (replayed), and from the snapshot's
 * note once the journal was compacted; an unchanged file then makes no serial. */
static void test_restart(void **state)
{
	(void)state;
	zone_t *z = start_zone(10, 0);
	assert_int_equal(commit(z, HIDE, 81), 11);
	assert_int_equal(commit(z, HIDE, 82), 12);
	assert_int_equal(commit(z, SHOW, 82), 13);
	close_zone(z);
	z = open_zone(0);
	assert_int_equal(reload(z), 13);
	assert_true(hidden(z, 81));
	assert_false(hidden(z, 82));
	assert_int_equal(xfr_rrs(z, DNS_TYPE_AXFR, 0), 6);
	assert_int_equal(xfr_rrs(z, DNS_TYPE_IXFR, 11), 4); /* 81 stayed hidden, 82 came back */
	assert_int_equal(xfr_rrs(z, DNS_TYPE_IXFR, 10), 5);
	close_zone(z);

	/* depth 2: the third commit writes the snapshot (with its note) and compacts */
	z = open_zone(2);
	assert_int_equal(reload(z), 13);
	assert_int_equal(commit(z, HIDE, 80), 14);
	assert_int_equal(commit(z, SHOW, 80), 15);
	assert_int_equal(commit(z, HIDE, 82), 16);
	close_zone(z);
	zone_hidden_t *h = NULL;
	assert_int_equal(zone_hidden_from_file(sfile, &h), 0);
	assert_true(zone_hidden_count(h) >= 1);
	zone_hidden_unref(h);
	z = open_zone(2);
	assert_int_equal(reload(z), 16);
	assert_true(hidden(z, 81));
	assert_true(hidden(z, 82));
	assert_false(hidden(z, 80));
	assert_int_equal(xfr_rrs(z, DNS_TYPE_AXFR, 0), 5);
	close_zone(z);
}

/* A change set without view lists serializes as before; with them, they round-trip; the
 * condensation composes them (the last entry naming a record decides). */
static void test_serialize_condense(void **state)
{
	(void)state;
	uint8_t o[DNAME_MAX], rd[4], o2[DNAME_MAX], rd2[4], so[] = {0}, soa1[64], soa2[64],
	                                                    soa3[64];
	zone_rr_t a81 = a_rr(81, 3600, o, rd), a82 = a_rr(82, 3600, o2, rd2);
	/* SOA rdata: ns1. hostmaster. serial 1 2 3 4 */
	uint8_t base[] = {3, 'n', 's', '1', 0, 1, 'h', 0, 0, 0, 0, 1, 0, 0,
	                  0, 2,   0,   0,   0, 3, 0,   0, 0, 4, 0, 0, 0, 5};
	memcpy(soa1, base, sizeof(base));
	memcpy(soa2, base, sizeof(base));
	memcpy(soa3, base, sizeof(base));
	soa2[10] = 2, soa3[10] = 3;
	zone_rr_t s1 = {.owner = so, .type = DNS_TYPE_SOA, .rclass = 1, .rdlen = sizeof(base)};
	zone_rr_t s2 = s1, s3 = s1;
	s1.rdata = soa1, s2.rdata = soa2, s3.rdata = soa3;

	zone_changeset_t *c1 = NULL, *c2 = NULL, *back = NULL, *all = NULL;
	assert_int_equal(zone_changeset_new(&c1), 0);
	assert_int_equal(zone_changeset_set_soa(c1, &s1, &s2), 0);
	assert_int_equal(zone_changeset_add(c1, &a82), 0);
	uint8_t *buf = NULL;
	size_t len = 0, plain;
	assert_int_equal(zone_changeset_serialize(c1, &buf, &len), 0);
	plain = len;
	free(buf);
	assert_int_equal(zone_changeset_hide(c1, &a81), 0);
	assert_int_equal(zone_changeset_hide(c1, &s1), SD_ESEMANTIC);
	assert_int_equal(zone_changeset_serialize(c1, &buf, &len), 0);
	assert_true(len > plain);
	assert_int_equal(zone_changeset_parse(buf, len, &back), 0);
	assert_int_equal(zone_changeset_hide_count(back), 1);
	assert_int_equal(zone_changeset_unhide_count(back), 0);
	assert_int_equal(zone_changeset_added_count(back), 1);
	assert_int_equal(zone_changeset_parse(buf, len - 1, &all), SD_EPARSE);
	free(buf);
	zone_changeset_free(back);

	assert_int_equal(zone_changeset_new(&c2), 0);
	assert_int_equal(zone_changeset_set_soa(c2, &s2, &s3), 0);
	assert_int_equal(zone_changeset_unhide(c2, &a81), 0);
	assert_int_equal(zone_changeset_hide(c2, &a82), 0);
	const zone_changeset_t *list[] = {c1, c2};
	assert_int_equal(zone_changeset_condense(list, 2, &all), 0);
	zone_hidden_t *h = NULL;
	assert_int_equal(zone_hidden_next(NULL, all, &h), 0);
	assert_int_equal(zone_hidden_count(h), 1);
	assert_false(zone_hidden_has(h, &a81));
	assert_true(zone_hidden_has(h, &a82));
	/* the visible form of c2: 81 comes back, 82 (not added by c2) leaves */
	zone_changeset_t *vis = NULL;
	assert_int_equal(zone_changeset_visible(c2, &vis), 0);
	assert_int_equal(zone_changeset_removed_count(vis), 1);
	assert_int_equal(zone_changeset_added_count(vis), 1);
	assert_int_equal(zone_changeset_hide_count(vis), 0);
	/* the visible form of c1: 82 was added hidden... no: 81 hidden (it was not added) */
	zone_changeset_free(vis);
	assert_int_equal(zone_changeset_visible(c1, &vis), 0);
	assert_int_equal(zone_changeset_removed_count(vis), 1);
	assert_int_equal(zone_changeset_added_count(vis), 1);
	zone_changeset_free(vis);
	zone_hidden_unref(h);
	zone_changeset_free(all);
	zone_changeset_free(c1);
	zone_changeset_free(c2);
}

int main(void)
{
	rcu_register_thread();
	rcu_thread_offline();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hide_and_show, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_noop_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_content_edits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hook, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
	    cmocka_unit_test(test_serialize_condense),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_barrier_qsbr();
	rcu_unregister_thread();
	return rc;
}
