/* serial.c — RFC 1982 serial arithmetic and the serial policies. */
#include "zone/serial.h"

#include <string.h>

#include "contrib/base/err.h"

#define HALF 0x80000000u /* 2^31, SERIAL_BITS = 32 */

zone_serial_cmp_t zone_serial_compare(uint32_t a, uint32_t b)
{
	/* RFC 1982 3.2: i1 < i2 when (i1 < i2 and i2 - i1 < 2^31) or (i1 > i2 and
	 * i1 - i2 > 2^31); unsigned subtraction gives the forward distance mod 2^32. */
	uint32_t ahead = a - b;
	if (ahead == 0)
		return ZONE_SERIAL_EQ;
	if (ahead == HALF)
		return ZONE_SERIAL_UNDEF;
	return ahead < HALF ? ZONE_SERIAL_GT : ZONE_SERIAL_LT;
}

bool zone_serial_gt(uint32_t a, uint32_t b)
{
	return zone_serial_compare(a, b) == ZONE_SERIAL_GT;
}

bool zone_serial_lt(uint32_t a, uint32_t b)
{
	return zone_serial_compare(a, b) == ZONE_SERIAL_LT;
}

static const char *const policy_names[] = {
    [ZONE_SERIAL_INCREMENT] = "increment",
    [ZONE_SERIAL_UNIXTIME] = "unixtime",
    [ZONE_SERIAL_DATESERIAL] = "dateserial",
};

int zone_serial_policy_parse(const char *text, zone_serial_policy_t *out)
{
	for (size_t i = 0; i < SD_ARRAY_LEN(policy_names); i++) {
		if (strcmp(text, policy_names[i]) == 0) {
			*out = (zone_serial_policy_t)i;
			return 0;
		}
	}
	return SD_EPARSE;
}

const char *zone_serial_policy_name(zone_serial_policy_t policy)
{
	if ((unsigned)policy < SD_ARRAY_LEN(policy_names))
		return policy_names[policy];
	return "unknown";
}

/* YYYYMMDD00 for the UTC day of now; 0 when the date cannot be represented. */
static uint32_t dateserial_base(time_t now)
{
	struct tm tm;
	if (!gmtime_r(&now, &tm))
		return 0;
	uint64_t v = ((uint64_t)(tm.tm_year + 1900) * 10000u + (uint64_t)(tm.tm_mon + 1) * 100u +
	              (uint64_t)tm.tm_mday) *
	             100u;
	return v > UINT32_MAX ? 0 : (uint32_t)v;
}

uint32_t zone_serial_next(uint32_t old, zone_serial_policy_t policy, time_t now)
{
	uint32_t candidate;
	switch (policy) {
	case ZONE_SERIAL_UNIXTIME:
		candidate = (uint32_t)now;
		break;
	case ZONE_SERIAL_DATESERIAL:
		/* Today's first serial when it is ahead; otherwise old + 1, which counts nn up
		 * within the day and, past nn = 99, spills into the next day's numbers — still a
		 * valid, greater serial (the usual dateserial rule). */
		candidate = dateserial_base(now);
		break;
	case ZONE_SERIAL_INCREMENT:
	default:
		candidate = old + 1;
		break;
	}
	if (zone_serial_gt(candidate, old))
		return candidate;
	/* old + 1 is always greater: the distance 1 is < 2^31 (and RFC 1982 3.1 allows 0). */
	return old + 1;
}

uint32_t zone_serial_choose(uint32_t served_serial, uint32_t file_serial,
                            zone_serial_policy_t policy, time_t now)
{
	if (zone_serial_gt(file_serial, served_serial))
		return file_serial;
	return zone_serial_next(served_serial, policy, now);
}
