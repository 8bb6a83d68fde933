/* soa.h — the fields of SOA RDATA (RFC 1035 3.3.13), read and written in place.
 *
 *   rdata: [mname][rname][serial 4][refresh 4][retry 4][expire 4][minimum 4]
 *                        ^ rdlen - DNS_SOA_FIXED
 *
 * The five 32-bit fields always close the RDATA, so they are found from its end without
 * walking the names; that works on RDATA as stored (uncompressed names) and on RDATA read
 * from a message whose names may be compressed (RFC 1995 IXFR queries). dns_soa_valid()
 * checks the full layout of stored RDATA; the accessors need only rdlen >= DNS_SOA_MIN_LEN,
 * which every caller either checked or holds from a zone (the builder validates SOA RDATA).
 * Header only; pure; any thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "contrib/base/bytes.h"
#include "dns/name.h"
#include "dns/proto.h"
#include "dns/rdata.h"

#define DNS_SOA_FIXED   20                  /* serial, refresh, retry, expire, minimum */
#define DNS_SOA_MIN_LEN (2 + DNS_SOA_FIXED) /* two root names at the least */
#define DNS_SOA_MAX_LEN (2 * DNAME_MAX + DNS_SOA_FIXED)

/* Stored SOA RDATA: two uncompressed names, then exactly the five fields. */
static inline bool dns_soa_valid(const uint8_t *rdata, uint16_t rdlen)
{
	uint16_t offs[DNS_RDATA_NAMES_MAX];
	return dns_rdata_names(DNS_TYPE_SOA, rdata, rdlen, offs) == 2;
}

/* The names of stored SOA RDATA. */
static inline const uint8_t *dns_soa_mname(const uint8_t *rdata)
{
	return rdata;
}

static inline const uint8_t *dns_soa_rname(const uint8_t *rdata)
{
	return rdata + dname_len(rdata);
}

/* One of the five fields by its position (0 = serial .. 4 = minimum). */
static inline uint32_t dns_soa_field(const uint8_t *rdata, uint16_t rdlen, unsigned i)
{
	return be32_get(rdata + rdlen - DNS_SOA_FIXED + 4 * i);
}

static inline uint32_t dns_soa_serial(const uint8_t *rdata, uint16_t rdlen)
{
	return dns_soa_field(rdata, rdlen, 0);
}

static inline uint32_t dns_soa_refresh(const uint8_t *rdata, uint16_t rdlen)
{
	return dns_soa_field(rdata, rdlen, 1);
}

static inline uint32_t dns_soa_retry(const uint8_t *rdata, uint16_t rdlen)
{
	return dns_soa_field(rdata, rdlen, 2);
}

static inline uint32_t dns_soa_expire(const uint8_t *rdata, uint16_t rdlen)
{
	return dns_soa_field(rdata, rdlen, 3);
}

/* The negative caching TTL bound of RFC 2308 4. */
static inline uint32_t dns_soa_minimum(const uint8_t *rdata, uint16_t rdlen)
{
	return dns_soa_field(rdata, rdlen, 4);
}

static inline void dns_soa_set_serial(uint8_t *rdata, uint16_t rdlen, uint32_t serial)
{
	be32_put(rdata + rdlen - DNS_SOA_FIXED, serial);
}
