/* zoneset.h — the set of served zones, an immutable map from apex to zone_t.
 *
 * The server publishes a zone set with one pointer store (RCU); a config reload that adds or
 * removes zones builds a new set that shares the unchanged zone_t objects.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "zone/zone.h"

typedef struct zone_set zone_set_t;

/* Build a set over zones[0..count) (borrowed; the caller keeps them alive longer than the
 * set). Fails with SD_EEXIST on a duplicate apex. */
int zone_set_new(zone_t *const *zones, size_t count, zone_set_t **out) SD_NONNULL(3) SD_WUR;
void zone_set_free(zone_set_t *set);

/* Zone with the longest apex at or above the lowercased name, or NULL. Lock-free; no
 * allocation. */
zone_t *zone_set_find(const zone_set_t *set, const uint8_t *name) SD_NONNULL(1, 2);

/* zone_set_find() of a name the caller measured: len bytes, labels labels starting at
 * offs[] (dname_label_offsets_len). The query path measures its name once for this and
 * zone_version_closest_at(). */
zone_t *zone_set_find_at(const zone_set_t *set, const uint8_t *name, size_t len,
                         const uint8_t *offs, unsigned labels) SD_NONNULL(1, 2, 4);
/* Zone whose apex equals name exactly, or NULL. */
zone_t *zone_set_get(const zone_set_t *set, const uint8_t *apex) SD_NONNULL(1, 2);
size_t zone_set_count(const zone_set_t *set) SD_NONNULL(1);
zone_t *zone_set_at(const zone_set_t *set, size_t i) SD_NONNULL(1);
