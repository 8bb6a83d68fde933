/* commit_bench — what a one-record change costs in a large zone (a benchmark, not a test).
 *
 *   commit_bench [RECORDS=1000000] [COMMITS=2000]
 *
 * Builds example.com. with RECORDS A records (one per name, h<i>.example.com.), then applies
 * a change set of one added TXT record and a new SOA serial:
 *   - by a full build (zone_changeset_apply_full: every record re-sorted into a new arena),
 *   - copy-on-write (zone_changeset_apply: an overlay over the shared arena),
 * and prints both times; then COMMITS successive one-record commits copy-on-write (each on
 * the previous version, as a stream of updates arrives), with their mean, median, 99th
 * percentile and maximum — the maximum includes the compactions (full builds) the overlay
 * bound forces. Times are wall clock on CLOCK_MONOTONIC; the journal fsync is not included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contrib/base/log.h"
#include "zone/builder.h"
#include "zone/changeset.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t name_of(const char *label, unsigned long i, uint8_t *out)
{
	char text[64];
	snprintf(text, sizeof(text), "%s%lu.example.com.", label, i);
	return (size_t)dname_from_str(text, NULL, out);
}

/* SOA(serial) into rd; returns its length. */
static uint16_t soa_rdata(uint32_t serial, uint8_t *rd)
{
	size_t n = (size_t)dname_from_str("ns1.example.com.", NULL, rd);
	n += (size_t)dname_from_str("hostmaster.example.com.", NULL, rd + n);
	uint32_t v[5] = {serial, 3600, 600, 86400, 300};
	for (int i = 0; i < 5; i++, n += 4) {
		rd[n] = (uint8_t)(v[i] >> 24), rd[n + 1] = (uint8_t)(v[i] >> 16);
		rd[n + 2] = (uint8_t)(v[i] >> 8), rd[n + 3] = (uint8_t)v[i];
	}
	return (uint16_t)n;
}

static zone_version_t *build(const uint8_t *apex, unsigned long records)
{
	zone_builder_t *b = NULL;
	uint8_t rd[512], owner[DNAME_MAX];
	if (zone_builder_new(apex, NULL, &b) < 0)
		return NULL;
	int rc =
	    zone_builder_add(b, apex, DNS_TYPE_SOA, DNS_CLASS_IN, 3600, rd, soa_rdata(1, rd), NULL);
	size_t nl = (size_t)dname_from_str("ns1.example.com.", NULL, rd);
	if (rc == 0)
		rc = zone_builder_add(b, apex, DNS_TYPE_NS, DNS_CLASS_IN, 3600, rd, (uint16_t)nl,
		                      NULL);
	for (unsigned long i = 0; rc == 0 && i < records; i++) {
		uint8_t a[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
		name_of(i == 0 ? "ns" : "h", i == 0 ? 1 : i, owner);
		rc = zone_builder_add(b, owner, DNS_TYPE_A, DNS_CLASS_IN, 300, a, 4, NULL);
	}
	zone_version_t *v = NULL;
	if (rc < 0) {
		zone_builder_free(b);
		return NULL;
	}
	return zone_builder_finish(b, &v) == 0 ? v : NULL;
}

/* One TXT record added at t<i>, serial from -> from + 1. */
static zone_changeset_t *one_change(const uint8_t *apex, uint32_t from, unsigned long i)
{
	zone_changeset_t *cs = NULL;
	uint8_t rf[512], rt[512], owner[DNAME_MAX], txt[16];
	if (zone_changeset_new(&cs) < 0)
		return NULL;
	zone_rr_t sf = {.owner = apex, .type = DNS_TYPE_SOA, .rclass = DNS_CLASS_IN, .ttl = 3600};
	zone_rr_t st = sf;
	sf.rdlen = soa_rdata(from, rf), sf.rdata = rf;
	st.rdlen = soa_rdata(from + 1, rt), st.rdata = rt;
	name_of("t", i, owner);
	txt[0] = (uint8_t)snprintf((char *)txt + 1, sizeof(txt) - 1, "v%lu", i);
	zone_rr_t add = {.owner = owner,
	                 .type = DNS_TYPE_TXT,
	                 .rclass = DNS_CLASS_IN,
	                 .ttl = 300,
	                 .rdlen = (uint16_t)(1 + txt[0]),
	                 .rdata = txt};
	if (zone_changeset_set_soa(cs, &sf, &st) < 0 || zone_changeset_add(cs, &add) < 0) {
		zone_changeset_free(cs);
		return NULL;
	}
	return cs;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	unsigned long records = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	unsigned long commits = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000;
	uint8_t apex[DNAME_MAX];
	log_setup(false, LOG_LEVEL_WARNING);
	if (dname_from_str("example.com.", NULL, apex) < 0)
		return 1;

	double t0 = now_ms();
	zone_version_t *v = build(apex, records);
	if (!v || commits == 0) {
		fprintf(stderr, "commit_bench: cannot build the zone\n");
		return 1;
	}
	printf("zone: %zu records, %zu nodes, built in %.1f ms\n", zone_version_rr_count(v),
	       zone_version_node_count(v), now_ms() - t0);

	zone_changeset_t *cs = one_change(apex, zone_version_serial(v), 0);
	zone_version_t *full = NULL, *cow = NULL;
	t0 = now_ms();
	int rc = cs ? zone_changeset_apply_full(v, cs, NULL, &full) : -1;
	double t_full = now_ms() - t0;
	t0 = now_ms();
	if (rc == 0)
		rc = zone_changeset_apply(v, cs, NULL, &cow);
	double t_cow = now_ms() - t0;
	zone_changeset_free(cs);
	if (rc != 0) {
		fprintf(stderr, "commit_bench: apply failed (%d)\n", rc);
		return 1;
	}
	printf("one-record change: full build %.2f ms, copy-on-write %.3f ms\n", t_full, t_cow);
	zone_version_unref(full);
	zone_version_unref(v);

	double *ms = calloc(commits, sizeof(*ms));
	v = cow;
	for (unsigned long i = 0; ms && i < commits; i++) {
		zone_version_t *next = NULL;
		cs = one_change(apex, zone_version_serial(v), i + 1);
		t0 = now_ms();
		rc = cs ? zone_changeset_apply(v, cs, NULL, &next) : -1;
		ms[i] = now_ms() - t0;
		zone_changeset_free(cs);
		if (rc != 0) {
			fprintf(stderr, "commit_bench: commit %lu failed (%d)\n", i, rc);
			return 1;
		}
		zone_version_unref(v);
		v = next;
	}
	if (ms) {
		double sum = 0;
		for (unsigned long i = 0; i < commits; i++)
			sum += ms[i];
		qsort(ms, commits, sizeof(*ms), cmp_double);
		printf("%lu successive one-record commits: mean %.3f ms, median %.3f ms, p99 %.3f "
		       "ms, max %.1f ms (compactions included)\n",
		       commits, sum / (double)commits, ms[commits / 2], ms[commits * 99 / 100],
		       ms[commits - 1]);
	}
	free(ms);
	zone_version_unref(v);
	return 0;
}
