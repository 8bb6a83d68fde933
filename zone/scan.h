/* scan.h — the fast path of the zone-file loader: one plain record line read without ldns.
 *
 * Most lines of a large zone are plain: "owner [TTL] [IN] TYPE data" on one line, a common
 * type, names of letters, digits, '-', '_', '*' and dots, TXT as quoted printable strings.
 * zone_scan_line reads such a line into wire form with the same result ldns gives for it
 * (RFC 1035 5.1: a blank owner is the previous owner, a relative name takes the origin, the
 * default TTL when none is given; "TTL IN" in that order, as ldns reads them); anything else — a
 * directive, a comment, parentheses, an escape, '@', another type or class, a TTL with units
 * or out of range, a bad address — is declined, and the loader hands the line to ldns as
 * before. So results are ldns's by construction for everything but these lines, and for
 * these the unit tests and tests/fuzz/fuzz_zone_scan compare both paths.
 * Pure: no I/O, no allocation, any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "dns/name.h"

/* What the line before left: the origin and the previous owner (wire, any case; prev_len 0:
 * none the scanner may use, and a line with a blank owner is declined). */
typedef struct zone_scan_ctx {
	const uint8_t *origin;
	size_t origin_len;
	const uint8_t *prev;
	size_t prev_len;
	uint32_t ttl; /* the default TTL */
} zone_scan_ctx_t;

/* One record read by zone_scan_line: names keep their case, as ldns keeps them. */
typedef struct zone_scan_rr {
	uint8_t owner[DNAME_MAX];
	size_t owner_len;
	uint16_t type;
	uint32_t ttl;
	bool ttl_given;  /* the line gave the TTL (otherwise ttl is the default) */
	size_t consumed; /* bytes of the line, its newline included when there is one */
	uint16_t rdlen;
	uint8_t rdata[1024]; /* a plain line's RDATA: TXT strings of a line are shorter */
} zone_scan_rr_t;

/* Read the line at p (up to its newline or end) as a plain record into *out: true, or
 * false when the line is not plain (out is then undefined; hand the line to ldns). */
bool zone_scan_line(const char *p, const char *end, const zone_scan_ctx_t *ctx, zone_scan_rr_t *out)
    SD_NONNULL(1, 2, 3, 4) SD_WUR;
