/* serial.h — SOA serial arithmetic (RFC 1982) and serial policies.
 *
 * Serials live in a 32-bit circular space: s1 < s2 when s2 is ahead of s1 by less than 2^31.
 * Two serials exactly 2^31 apart are not comparable (RFC 1982 3.2: "undefined"); every
 * function here treats that case as "not greater", so a new serial is never chosen on the
 * strength of an undefined comparison.
 *
 * A policy says how the next serial is formed when a zone's content changes:
 *   increment   old + 1
 *   unixtime    the current UNIX time
 *   dateserial  YYYYMMDDnn (UTC day, nn from 00)
 * and in every case the result is strictly greater than the old serial in RFC 1982 terms;
 * when the policy's value is not (clock behind, nn past 99, a serial far ahead), it is old + 1.
 *
 * All functions are pure and thread-safe.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "contrib/base/compiler.h"

typedef enum {
	ZONE_SERIAL_INCREMENT = 0,
	ZONE_SERIAL_UNIXTIME,
	ZONE_SERIAL_DATESERIAL,
} zone_serial_policy_t;

/* Result of an RFC 1982 comparison. */
typedef enum {
	ZONE_SERIAL_LT = -1,
	ZONE_SERIAL_EQ = 0,
	ZONE_SERIAL_GT = 1,
	ZONE_SERIAL_UNDEF = 2, /* exactly 2^31 apart */
} zone_serial_cmp_t;

/* Compare a with b in serial number arithmetic (RFC 1982 3.2). */
zone_serial_cmp_t zone_serial_compare(uint32_t a, uint32_t b);

/* a > b in RFC 1982 terms (false when undefined). */
bool zone_serial_gt(uint32_t a, uint32_t b);

/* a < b in RFC 1982 terms (false when undefined). */
bool zone_serial_lt(uint32_t a, uint32_t b);

/* Parse "increment", "unixtime" or "dateserial" (the config keyword). Returns 0 or SD_EPARSE. */
int zone_serial_policy_parse(const char *text, zone_serial_policy_t *out) SD_NONNULL(1, 2) SD_WUR;

/* The keyword of a policy (static string). */
const char *zone_serial_policy_name(zone_serial_policy_t policy);

/* The serial that follows old under policy at time now (seconds since the epoch); always
 * zone_serial_gt(result, old). */
uint32_t zone_serial_next(uint32_t old, zone_serial_policy_t policy, time_t now);

/* Serial for a changed zone whose file says file_serial while served_serial is being served:
 * a file serial raised by hand (greater than served_serial in RFC 1982 terms) is kept as it
 * is; otherwise zone_serial_next(served_serial, ...). Call only when the content differs. */
uint32_t zone_serial_choose(uint32_t served_serial, uint32_t file_serial,
                            zone_serial_policy_t policy, time_t now);
