/* helpers.h — building small zone versions for the primary's unit tests. */
#pragma once

#include <stddef.h>
#include <stdint.h>

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
