/* test_rcu.c — QSBR torture: reader threads look names up in published versions and zone sets
 * while a writer publishes thousands of both.
 *
 * Readers behave like the workers: registered with liburcu-qsbr, offline between "requests",
 * online only around the lookups (zone set -> zone -> zone_current -> nodes and RRsets). The
 * writer behaves like the control thread: it builds while offline and goes online only to
 * publish (zone_publish uses call_rcu); a new zone set is swapped in with rcu_xchg_pointer, and
 * the old set and the zone it alone held are freed after synchronize_rcu, offline.
 *
 * Every version is internally consistent by construction: its SOA serial, a TXT record at
 * "serial.<apex>" holding that serial in decimal, and the A record of every "hN.<apex>" (the
 * serial as an IPv4 address) all agree. A reader that sees a mix, or garbage, reports it; in
 * the ASan build, a version or set freed without a grace period is a use-after-free the
 * readers trip over (freeing the old version at once in zone_publish makes this test abort).
 * Now and then a reader also takes a reference online and reads the version offline, as a
 * transfer does, racing the call_rcu reclamation of the same version.
 *
 * cmocka is not thread-safe: threads count failures in atomics and keep the first message;
 * the main thread asserts. No sleeps: the writer waits for every reader to be running by
 * spinning on a counter, and the readers stop when the writer says it is done.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu-qsbr.h>

#include "contrib/base/err.h"
#include "dns/name.h"
#include "dns/proto.h"
#include "zone/builder.h"
#include "zone/zone.h"
#include "zone/zoneset.h"

enum {
	READERS = 3,
	HOSTS = 8,            /* hN.<apex>, N in [0, HOSTS) */
	VERSIONS = 3000,      /* versions of zone A the writer publishes (at most) */
	SET_EVERY = 8,        /* a new zone set (with a new zone B) every SET_EVERY versions */
	MAX_WRITER_MS = 3000, /* bounded time on a slow (sanitized, shared) machine */
};

static zone_set_t *g_set;    /* RCU-published */
static atomic_int g_running; /* readers that have started */
static atomic_bool g_stop;
static atomic_ulong g_failures;
static atomic_ulong g_lookups;
static atomic_ulong g_held; /* versions read through a reference, offline */
static atomic_flag g_msg_taken = ATOMIC_FLAG_INIT;
static char g_msg[256];

static uint8_t g_apex_a[DNAME_MAX], g_apex_b[DNAME_MAX];

static bool bad(const char *what, uint32_t serial)
{
	atomic_fetch_add(&g_failures, 1);
	if (!atomic_flag_test_and_set(&g_msg_taken))
		snprintf(g_msg, sizeof(g_msg), "%s (serial %u)", what, serial);
	return false;
}

static void name(const char *text, uint8_t out[DNAME_MAX])
{
	assert_true(dname_from_str(text, NULL, out) > 0);
}

/* --- the writer's versions --- */

static void add(zone_builder_t *b, const char *owner, const uint8_t *origin, uint16_t type,
                const uint8_t *rd, size_t len)
{
	uint8_t o[DNAME_MAX];
	assert_true(dname_from_str(owner, origin, o) > 0);
	assert_int_equal(zone_builder_add(b, o, type, DNS_CLASS_IN, 300, rd, (uint16_t)len, NULL),
	                 0);
}

static size_t put_name(uint8_t *p, const char *text, const uint8_t *origin)
{
	uint8_t n[DNAME_MAX];
	assert_true(dname_from_str(text, origin, n) > 0);
	size_t l = dname_len(n);
	memcpy(p, n, l);
	return l;
}

/* SOA, NS, the name server's address, serial.<apex> TXT "<serial>", hN.<apex> A <serial>. */
static zone_version_t *build(const uint8_t *apex, uint32_t serial)
{
	zone_builder_t *b;
	assert_int_equal(zone_builder_new(apex, NULL, &b), 0);
	uint8_t rd[512];
	size_t l = put_name(rd, "ns", apex);
	l += put_name(rd + l, "hostmaster", apex);
	uint32_t timers[5] = {htonl(serial), htonl(3600), htonl(600), htonl(86400), htonl(300)};
	memcpy(rd + l, timers, sizeof(timers));
	add(b, "@", apex, DNS_TYPE_SOA, rd, l + sizeof(timers));
	add(b, "@", apex, DNS_TYPE_NS, rd, put_name(rd, "ns", apex));
	add(b, "ns", apex, DNS_TYPE_A, (const uint8_t[]){192, 0, 2, 53}, 4);
	int n = snprintf((char *)rd + 1, sizeof(rd) - 1, "%u", serial);
	rd[0] = (uint8_t)n;
	add(b, "serial", apex, DNS_TYPE_TXT, rd, (size_t)n + 1);
	uint32_t addr = htonl(serial);
	for (int i = 0; i < HOSTS; i++) {
		char h[8];
		snprintf(h, sizeof(h), "h%d", i);
		add(b, h, apex, DNS_TYPE_A, (const uint8_t *)&addr, 4);
	}
	zone_version_t *v;
	assert_int_equal(zone_builder_finish(b, &v), 0);
	return v;
}

/* --- readers --- */

static const zone_rrset_t *rrset_at(const zone_version_t *v, const uint8_t *n, uint16_t type)
{
	const zone_node_t *node = zone_version_find(v, n, dname_len(n));
	return node ? zone_node_rrset(node, type) : NULL;
}

/* Check that what v says about itself agrees everywhere; i picks the host name. */
static bool check_version(const zone_version_t *v, const uint8_t *apex, unsigned i)
{
	uint32_t serial = zone_version_serial(v);
	const zone_node_t *top = zone_version_apex(v);
	if (!dname_equal(top->owner, apex))
		return bad("apex owner differs from the zone's apex", serial);
	const zone_rrset_t *soa = zone_version_soa(v);
	if (!soa || soa->count != 1 || soa != zone_node_rrset(top, DNS_TYPE_SOA))
		return bad("SOA RRset missing or not the apex's", serial);
	uint8_t n[DNAME_MAX];
	if (dname_from_str("serial", apex, n) < 0)
		return bad("name", serial);
	const zone_rrset_t *txt = rrset_at(v, n, DNS_TYPE_TXT);
	if (!txt || txt->count != 1)
		return bad("serial TXT missing", serial);
	/* [rdlength][len][digits] */
	char digits[16] = {0};
	uint8_t tl = txt->rdata[2];
	if (tl == 0 || tl >= sizeof(digits))
		return bad("serial TXT malformed", serial);
	memcpy(digits, txt->rdata + 3, tl);
	if (strtoul(digits, NULL, 10) != serial)
		return bad("serial TXT disagrees with the SOA serial", serial);
	char h[8];
	snprintf(h, sizeof(h), "h%u", i % HOSTS);
	if (dname_from_str(h, apex, n) < 0)
		return bad("name", serial);
	const zone_rrset_t *a = rrset_at(v, n, DNS_TYPE_A);
	uint32_t want = htonl(serial);
	if (!a || a->count != 1 || a->rdata_len != 6 || memcmp(a->rdata + 2, &want, 4) != 0)
		return bad("host A disagrees with the SOA serial", serial);
	/* a name below a host: its closest encloser is the host */
	uint8_t below[DNAME_MAX];
	if (dname_from_str("x", n, below) < 0)
		return bad("name", serial);
	bool exact = true;
	const zone_node_t *ce = zone_version_closest(v, below, &exact);
	if (!ce || exact || ce->parent != top || !zone_node_rrset(ce, DNS_TYPE_A))
		return bad("closest encloser wrong", serial);
	return true;
}

static bool check_set(const zone_set_t *set, unsigned i)
{
	if (zone_set_count(set) != 2)
		return bad("zone set has the wrong size", 0);
	uint8_t n[DNAME_MAX];
	const uint8_t *apexes[2] = {g_apex_a, g_apex_b};
	for (int k = 0; k < 2; k++) {
		if (dname_from_str("h1", apexes[k], n) < 0)
			return bad("name", 0);
		zone_t *z = zone_set_find(set, n);
		if (!z || !dname_equal(zone_apex(z), apexes[k]))
			return bad("zone set lookup found the wrong zone", 0);
		const zone_version_t *v = zone_current(z);
		if (!v)
			return bad("published zone without a version", 0);
		if (!check_version(v, apexes[k], i))
			return false;
	}
	return true;
}

/* The apex a version is for, read from the version itself. */
static const uint8_t *zone_apex_of(const zone_version_t *v)
{
	return zone_version_apex(v)->owner;
}

static void *reader(void *arg)
{
	(void)arg;
	rcu_register_thread();
	rcu_thread_offline();
	atomic_fetch_add(&g_running, 1);
	unsigned i = 0;
	while (!atomic_load(&g_stop)) {
		rcu_thread_online();
		for (int k = 0; k < 4; k++, i++) {
			const zone_set_t *set = rcu_dereference(g_set);
			(void)check_set(set, i);
		}
		/* now and then a long reader (a transfer): a reference taken online keeps the
		 * version alive offline, across any number of grace periods */
		zone_version_t *held = NULL;
		if (i % 64 == 0)
			held =
			    zone_version_ref(zone_current(zone_set_at(rcu_dereference(g_set), 0)));
		rcu_thread_offline();
		if (held) {
			(void)check_version(held, zone_apex_of(held), i);
			zone_version_unref(held);
			atomic_fetch_add(&g_held, 1);
		}
		atomic_fetch_add(&g_lookups, 1);
	}
	rcu_unregister_thread();
	return NULL;
}

/* --- the writer (this thread) --- */

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static zone_t *new_zone_b(uint32_t serial)
{
	zone_t *z;
	assert_int_equal(zone_new(g_apex_b, NULL, &z), 0);
	zone_version_t *v = build(g_apex_b, serial);
	rcu_thread_online();
	zone_publish(z, v);
	rcu_thread_offline();
	return z;
}

static zone_set_t *new_set(zone_t *a, zone_t *b)
{
	zone_set_t *set;
	assert_int_equal(zone_set_new((zone_t *const[]){a, b}, 2, &set), 0);
	return set;
}

static void test_torture(void **state)
{
	(void)state;
	name("a.test.", g_apex_a);
	name("b.test.", g_apex_b);
	rcu_register_thread();
	rcu_thread_offline();

	zone_t *za;
	assert_int_equal(zone_new(g_apex_a, NULL, &za), 0);
	zone_version_t *v0 = build(g_apex_a, 1);
	rcu_thread_online();
	zone_publish(za, v0);
	rcu_thread_offline();
	zone_t *zb = new_zone_b(1);
	rcu_assign_pointer(g_set, new_set(za, zb));

	pthread_t th[READERS];
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, NULL), 0);
	while (atomic_load(&g_running) < READERS)
		sched_yield();

	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint32_t serial = 1;
	unsigned sets = 0;
	while (serial < VERSIONS && ms_since(&t0) < MAX_WRITER_MS) {
		serial++;
		zone_version_t *v = build(g_apex_a, serial);
		rcu_thread_online();
		zone_publish(za, v);
		rcu_thread_offline();
		if (serial % SET_EVERY != 0)
			continue;
		/* a new set holding a new zone B: the old set and old B go after a grace period */
		zone_t *nb = new_zone_b(serial);
		zone_set_t *old = rcu_xchg_pointer(&g_set, new_set(za, nb));
		synchronize_rcu();
		zone_set_free(old);
		zone_free(zb);
		zb = nb;
		sets++;
	}
	atomic_store(&g_stop, true);
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);

	if (atomic_load(&g_failures) != 0)
		fail_msg("%lu inconsistent reads; first: %s", atomic_load(&g_failures), g_msg);
	/* the test must have exercised something: many versions, sets, and reads */
	assert_true(serial >= 200);
	assert_true(sets >= 200 / SET_EVERY);
	assert_true(atomic_load(&g_lookups) >= READERS);
	assert_true(atomic_load(&g_held) >= 1);
	print_message("%u versions, %u zone sets, %lu read sections (%lu through a reference) "
	              "in %ld ms\n",
	              serial, sets, atomic_load(&g_lookups), atomic_load(&g_held), ms_since(&t0));

	zone_set_free(rcu_xchg_pointer(&g_set, NULL));
	synchronize_rcu();
	zone_free(zb);
	zone_free(za);
	rcu_barrier();
	rcu_unregister_thread();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_torture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
