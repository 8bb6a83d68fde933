/* rdata.h — one descriptor per RR type: where the domain names in its RDATA are.
 *
 * Every place that needs to know the layout of a type's RDATA asks here: the zone builder
 * (which names to lowercase, which records point at additional-section targets), the message
 * writer (which names it may compress) and the zone's own checks. Types are described by
 * their fixed fields and names, in this shape (RFC 1035 3.3, RFC 2163, RFC 2230, RFC 2782,
 * RFC 6672):
 *
 *   rdata: [pre: fixed bytes][name 1][name 2?][tail: fixed bytes, exactly]
 *          MX:  [preference 2][exchange]           SOA: [mname][rname][5 x 32 bits]
 *          SRV: [priority, weight, port 6][target] PX:  [preference 2][map822][mapx400]
 *
 * Types not in the table (and every type above the last one that holds names) have opaque
 * RDATA: no names, nothing to lowercase, never compressed (RFC 3597 4). Names in RDATA are
 * uncompressed wire form here; the writer decides about compression on output.
 *
 * The table is static and const: every function is pure and may be called from any thread,
 * the query path included (a lookup is one bounds check and one array index).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"

/* The most names any described type embeds. */
#define DNS_RDATA_NAMES_MAX 2

enum {
	/* The names may be compressed on output: only types defined in RFC 1035 may be
	 * (RFC 3597 4), and of those we compress the ones in use today (NS, CNAME, SOA, PTR,
	 * MX), as both previous writers did. The obsolete MD, MF, MB, MG, MR and MINFO are
	 * written as they are stored, which RFC 3597 allows. */
	DNS_RDATA_COMPRESS = 1u << 0,
	/* The first name is a host whose addresses go to the additional section (RFC 1035
	 * 3.3.9 MX and 3.3.11 NS, RFC 2782 SRV). */
	DNS_RDATA_ADDITIONAL = 1u << 1,
};

typedef struct dns_rdata_desc {
	uint8_t pre;   /* fixed bytes before the first name */
	uint8_t names; /* names that follow, back to back: 0 (opaque), 1 or 2 */
	uint8_t tail;  /* fixed bytes after the last name; the RDATA ends there */
	uint8_t flags; /* DNS_RDATA_* */
} dns_rdata_desc_t;

/* The descriptor of type; for types without names an opaque one ({0, 0, 0, 0}). Never NULL;
 * points into a static table. */
const dns_rdata_desc_t *dns_rdata_desc(uint16_t type) SD_WUR;

/* Offsets in rdata of the names embedded in a record of this type. Fills offs (up to
 * DNS_RDATA_NAMES_MAX) and returns how many; 0 for opaque types; SD_EPARSE when the RDATA
 * does not have the type's layout (a name runs past rdlen, is longer than 255 bytes or holds
 * a pointer, or the fixed fields do not fit exactly). */
int dns_rdata_names(uint16_t type, const uint8_t *rdata, uint16_t rdlen,
                    uint16_t offs[DNS_RDATA_NAMES_MAX]) SD_NONNULL(2, 4) SD_WUR;

/* True when the names in type's RDATA may be compressed on output. */
static inline bool dns_rdata_compressible(uint16_t type)
{
	return (dns_rdata_desc(type)->flags & DNS_RDATA_COMPRESS) != 0;
}

/* True when type's RDATA names a host for additional-section processing (NS, MX, SRV). */
static inline bool dns_rdata_has_target(uint16_t type)
{
	return (dns_rdata_desc(type)->flags & DNS_RDATA_ADDITIONAL) != 0;
}

/* The target name (uncompressed, as stored) of a well-formed record of a type for which
 * dns_rdata_has_target() holds. */
static inline const uint8_t *dns_rdata_target(uint16_t type, const uint8_t *rdata)
{
	return rdata + dns_rdata_desc(type)->pre;
}
