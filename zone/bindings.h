/* bindings.h — which owner names of a zone carry a steering policy.
 *
 * zone/ never sees a policy: a steered RRset carries only an integer policy id (DESIGN.md,
 * "Layout and the dependency rule"). The server resolves the config's policies to ids and
 * hands each zone a bindings table; every path that builds a version (zone-file load, change
 * set application, journal replay, incremental commit) takes the table, so ids survive every
 * path:
 *
 *   owner (lowercased wire) ─▶ { policy id (1..), flags }
 *
 * The builder stamps the id on the RRsets of the steerable types at the owner (A, AAAA and
 * CNAME) and, for an owner bound with ZONE_BINDING_CNAME, accepts several CNAME records there
 * (one per candidate target) where RFC 1034 3.6.2 / RFC 2181 10.1 otherwise allow one. CNAME
 * and other data at one name stay an error, steered or not.
 *
 * A table is immutable once made and reference-counted: a zone keeps the current one, a
 * version being built holds it for the build. Any thread may read it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "dns/name.h"

enum {
	/* Candidates are CNAME targets: several CNAME records may stand at the owner. */
	ZONE_BINDING_CNAME = 1u << 0,
};

typedef struct zone_binding {
	uint8_t owner[DNAME_MAX]; /* lowercased wire form */
	uint16_t policy;          /* >= 1 */
	uint16_t flags;           /* ZONE_BINDING_* */
} zone_binding_t;

typedef struct zone_bindings zone_bindings_t;

/* Make a table from list[0..n) (copied; n may be 0). Owners must be lowercased wire names and
 * distinct, ids >= 1: -EINVAL otherwise. refs = 1 for the caller. Control thread. */
int zone_bindings_new(const zone_binding_t *list, size_t n, zone_bindings_t **out)
    SD_NONNULL(3) SD_WUR;
zone_bindings_t *zone_bindings_ref(const zone_bindings_t *b) SD_NONNULL(1);
/* Drop a reference; NULL is fine. Any thread. */
void zone_bindings_unref(zone_bindings_t *b);

/* The binding of a lowercased wire owner, or NULL; b may be NULL (no bindings). O(log n),
 * no allocation; any thread. */
const zone_binding_t *zone_bindings_find(const zone_bindings_t *b, const uint8_t *owner)
    SD_NONNULL(2);
size_t zone_bindings_count(const zone_bindings_t *b);
/* Binding i in canonical owner order (RFC 4034 6.1), i < count. */
const zone_binding_t *zone_bindings_at(const zone_bindings_t *b, size_t i) SD_NONNULL(1);
/* True when a and b bind the same owners to the same ids and flags (NULL is the empty
 * table): a config reload that keeps them needs no rebuild. */
bool zone_bindings_equal(const zone_bindings_t *a, const zone_bindings_t *b);
