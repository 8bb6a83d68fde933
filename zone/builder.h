/* builder.h — building a zone version from records (control thread).
 *
 * The loader, change-set application and journal replay all build versions here: records go
 * in one by one in any order; finish sorts them into canonical order, checks the semantic
 * rules of a zone and lays the version out in one arena (zone/version.h).
 */
#pragma once

#include <stdint.h>

#include "contrib/base/compiler.h"
#include "zone/bindings.h"
#include "zone/version.h"

typedef struct zone_builder zone_builder_t;

/* A hint: text_len more bytes of zone text are to be added. Reserves generously for the records
 * such a text holds (address space: only what is written becomes resident) and asks for huge
 * pages for it (contrib/base/mem.h), so that adding neither moves the arrays nor takes a fault
 * per 4 KiB page. Failure or a guess too small is harmless: the arrays grow as they fill. */
void zone_builder_expect(zone_builder_t *b, size_t text_len) SD_NONNULL(1);

/* Start a version for the zone at apex (lowercased wire). bindings (may be NULL: none; a
 * reference is held until finish/free) stamps each A/AAAA/CNAME RRset at a bound owner with
 * its policy id and allows several CNAME records at owners bound with ZONE_BINDING_CNAME. */
int zone_builder_new(const uint8_t *apex, const zone_bindings_t *bindings, zone_builder_t **out)
    SD_NONNULL(1, 3) SD_WUR;
/* Add one record; owner is any-case wire form; rdata is wire form with names uncompressed.
 * where ("file:line") is kept for error messages and may be NULL. */
int zone_builder_add(zone_builder_t *b, const uint8_t *owner, uint16_t type, uint16_t rclass,
                     uint32_t ttl, const uint8_t *rdata, uint16_t rdlen, const char *where)
    SD_NONNULL(1, 2) SD_WUR;
/* zone_builder_add with the place as a file name and a line: messages say "file:line". The
 * file name is copied (once for a run of records from the same file). */
int zone_builder_add_at(zone_builder_t *b, const uint8_t *owner, uint16_t type, uint16_t rclass,
                        uint32_t ttl, const uint8_t *rdata, uint16_t rdlen, const char *file,
                        uint32_t line) SD_NONNULL(1, 2, 8) SD_WUR;
/* Check the semantic rules (one SOA at apex, NS at apex, CNAME and other data, out-of-zone
 * data, missing glue) logging "file:line: message" for each violation, then build the
 * version. Consumes the builder in every case. Returns SD_ESEMANTIC when a rule failed. */
int zone_builder_finish(zone_builder_t *b, zone_version_t **out) SD_NONNULL(1, 2) SD_WUR;
void zone_builder_free(zone_builder_t *b);
