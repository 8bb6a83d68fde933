/* fuzz_zone.c — libFuzzer target for zone_load_file() (zone/zone.h: the ldns master-file
 * reader, $ORIGIN/$TTL/$INCLUDE, RFC 3597 generic types, and the semantic checks of the
 * builder), with a corpus replay.
 *
 * Each input is written as the zone file of example.com. in a private tmpfs directory that
 * also holds inc.zone (a small file seeds $INCLUDE). The load returns 0 or a clean error;
 * a loaded version must be consistent: the apex first, nodes in strictly increasing
 * canonical order (RFC 4034 6.1) and inside the zone, each found again by exact and
 * closest-encloser lookups, the serial that of the apex SOA, and a diff against itself empty.
 * Inputs whose $INCLUDE names a path with a '/' are skipped: the target must not read
 * files outside its directory (the loader refuses devices and FIFOs, but /etc is no place
 * for a fuzzer to wander).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "contrib/base/err.h"
#include "tests/fuzz/replay.h"
#include "zone/changeset.h"
#include "zone/load.h"

static const uint8_t g_apex[] = "\x07"
                                "example\x03"
                                "com";
static char g_path[256];

static void build(void)
{
	static const char inc[] = "inc 300 IN A 192.0.2.9\n"
	                          "inc 300 IN TXT \"included\"\n";
	char p[256];
	fuzz_quiet_log();
	snprintf(g_path, sizeof(g_path), "%s/zone.txt", fuzz_tmpdir());
	snprintf(p, sizeof(p), "%s/inc.zone", fuzz_tmpdir());
	fuzz_write_file(p, (const uint8_t *)inc, sizeof(inc) - 1);
}

/* True when an $INCLUDE (any case) is followed by a file name containing '/'. (The loader
 * refuses $INCLUDE loops and bounds the fan-out; corpus/zone/include_fanout was a file
 * including itself four times, once read 4^8 times.) */
static bool includes_path(const uint8_t *data, size_t size)
{
	static const char word[] = "$include";
	const size_t wl = sizeof(word) - 1;
	for (size_t i = 0; i + wl <= size; i++) {
		if (strncasecmp((const char *)data + i, word, wl) != 0)
			continue;
		size_t p = i + wl;
		while (p < size && (data[p] == ' ' || data[p] == '\t' || data[p] == '('))
			p++;
		while (p < size && !isspace(data[p]) && data[p] != ';') {
			if (data[p] == '/' || data[p] == '\\')
				return true;
			p++;
		}
	}
	return false;
}

static void check_version(const zone_version_t *v)
{
	size_t nodes = zone_version_node_count(v), rrs = 0;
	FUZZ_CHECK(nodes >= 1);
	zone_version_iter_t it;
	zone_version_iter_init(v, &it);
	const zone_node_t *apex = zone_version_iter_next(&it), *prev = NULL;
	FUZZ_CHECK(apex == zone_version_apex(v));
	FUZZ_CHECK(dname_equal(apex->owner, g_apex) && (apex->flags & ZONE_NODE_APEX));
	const zone_rrset_t *soa = zone_version_soa(v);
	FUZZ_CHECK(soa != NULL && soa->count == 1 && soa == zone_node_rrset(apex, DNS_TYPE_SOA));
	zone_version_iter_init(v, &it);
	size_t i = 0;
	for (const zone_node_t *n; (n = zone_version_iter_next(&it)) != NULL; prev = n, i++) {
		FUZZ_CHECK(n->owner_len == dname_len(n->owner));
		FUZZ_CHECK(dname_is_subdomain(n->owner, g_apex));
		FUZZ_CHECK(i == 0 || dname_cmp_canonical(prev->owner, n->owner) < 0);
		FUZZ_CHECK(zone_version_find(v, n->owner, n->owner_len) == n);
		bool exact = false;
		FUZZ_CHECK(zone_version_closest(v, n->owner, &exact) == n && exact);
		for (uint16_t k = 0; k < n->rrset_count; k++) {
			FUZZ_CHECK(k == 0 || n->rrsets[k - 1].type < n->rrsets[k].type);
			FUZZ_CHECK(n->rrsets[k].count >= 1);
			rrs += n->rrsets[k].count;
		}
	}
	FUZZ_CHECK(rrs == zone_version_rr_count(v) && i == nodes);
	zone_changeset_t *cs = NULL;
	FUZZ_CHECK(zone_changeset_diff(v, v, &cs) == 0);
	FUZZ_CHECK(zone_changeset_removed_count(cs) == 0 && zone_changeset_added_count(cs) == 0);
	FUZZ_CHECK(zone_changeset_from(cs) == zone_version_serial(v));
	zone_changeset_free(cs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (g_path[0] == '\0')
		build();
	if (includes_path(data, size))
		return 0;
	fuzz_write_file(g_path, data, size);
	zone_version_t *v = NULL;
	int rc = zone_load_file(g_apex, g_path, NULL, &v);
	FUZZ_CHECK((rc == 0) == (v != NULL));
	FUZZ_CHECK(rc == 0 || rc == SD_EPARSE || rc == SD_ESEMANTIC || (rc < 0 && rc > -4096));
	if (v != NULL) {
		check_version(v);
		zone_version_unref(v);
	}
	return 0;
}

void fuzz_teardown(void)
{
}
