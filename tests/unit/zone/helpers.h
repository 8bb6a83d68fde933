/* helpers.h — the zone tests' shared scaffolding: building small zone versions, looking
 * names up in them, and capturing what zone/ logs. Test thread only (static buffers). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "tests/unit/logcap.h"
#include "zone/version.h"

/* One test record: owner relative to the apex ("@" for the apex), type, TTL and data:
 *   A / AAAA "address", NS / CNAME "name", MX "pref name", TXT "text" (one string),
 *   SOA "serial" (fixed names and timers). */
typedef struct trr {
	const char *owner;
	uint16_t type;
	uint32_t ttl;
	const char *data;
} trr_t;

#define T_APEX "example.com."

/* Build a version of example.com. from rrs[0..n); fails the test on any error. */
zone_version_t *t_build(const trr_t *rrs, size_t n);

/* Fail the test unless a and b hold the same nodes, RRsets, TTLs and RDATA. */
void t_assert_versions_equal(const zone_version_t *a, const zone_version_t *b);

/* Fail the test unless node x of a and node y of b agree: owner, flags, RRsets (with policy
 * ids) and every link (parent, cut, dname, wildcard, targets) by owner. */
void t_assert_nodes_equal(const zone_version_t *a, const zone_node_t *x, const zone_version_t *b,
                          const zone_node_t *y);

/* The RDATA of r in wire form into rd (room for 512 bytes); returns its length. DNAME is
 * encoded as NS and CNAME are. */
size_t t_encode(const trr_t *r, uint8_t *rd);

/* The apex of T_APEX in wire form. */
const uint8_t *t_apex(void);

/* An absolute name ("www.example.") in wire form, in one of 8 static buffers used in turn
 * (valid until the eighth call after); fails the test on a bad name. */
uint8_t *t_name(const char *text);

/* The node of v named by the absolute name text, or NULL. */
const zone_node_t *t_find(const zone_version_t *v, const char *text);

/* The RRset of a type at the absolute name text in v, or NULL. */
const zone_rrset_t *t_rrset(const zone_version_t *v, const char *text, uint16_t type);

/* What the code under test logged, for the tests that run with t_log_setup and
 * t_log_teardown as their cmocka setup and teardown (they start and stop the capture). */
extern logcap_t t_cap;
int t_log_setup(void **state);
int t_log_teardown(void **state);
