/* overlay.h — copy-on-write commits: a change costs what it touches, not what the zone holds.
 *
 * A full build (zone_builder_finish) sorts every record of the zone and lays out one arena:
 * O(N log N) and two copies of the zone for a one-record change. Here a new version is the
 * older version's arena, shared and untouched (the BASE), seen through a small OVERLAY that
 * holds every node whose content or existence differs from the base (zone/internal.h):
 *
 *   version n+1 = base (shared, reference-counted) + overlay(n+1)
 *   overlay(n+1) = overlay(n)'s names ∪ the names the change touches, rebuilt whole
 *
 * The overlay is a partial version laid out by the same builder (same RRset order, TTL rule,
 * duplicate removal, policy stamping and per-node rules as a full build); a removed name is a
 * tombstone. It also holds: every empty non-terminal above a touched name that appears or may
 * vanish, and the parent of a touched wildcard (the parent's wildcard link changes). Links
 * stored in base nodes keep pointing into the base; readers re-resolve them by owner through
 * the overlay (version.h accessors), which costs the answer path one pointer test when the
 * version has no overlay. Only the touched delegations are checked for glue.
 *
 * Why this and not a persistent qp-trie/HAMT: the answer path keeps its flat arena, hash
 * lookup and direct pointers (the static path stays as fast as it is: the link accessors
 * inline to one more test); the code is the builder already tested plus a merge. The cost: a
 * commit rebuilds the whole overlay, so the overlay is bounded — past OVERLAY_MAX(N) =
 * max(1024, 4·sqrt(N)) nodes the commit COMPACTS: the merged version is copied into one new
 * arena in canonical order (no sort: base and overlay are both ordered), every node relinked,
 * every delegation's glue checked — O(N), and it becomes the next base. With c records per
 * commit, commits cost O(K log K) for an overlay of K nodes plus an amortised compaction
 * every ~K/c commits; the bound balances the two. Measured on 1M records
 * (contrib/bench/commit_bench.c): 0.03 ms for the first change, a few ms as the overlay
 * fills, a compaction every ~4000 single-record commits.
 *
 * Changes that move zone cuts or DNAMEs — a node that exists before and after the change and
 * gains or loses an NS (below the apex) or DNAME RRset — change the NONAUTH/cut/dname links
 * of descendants that live in the base, so they compact at once (the per-node rules were
 * checked by the overlay build, the links are all recomputed). A change whose bindings table
 * differs from the one the old version was built with is refused here (SD_ELIMIT): the
 * caller builds it in full, since every bound RRset of the base may change.
 *
 * Control thread. The result is immutable; the base gains a reference and is freed when the
 * last version built on it goes.
 */
#pragma once

#include "contrib/base/compiler.h"
#include "zone/bindings.h"
#include "zone/builder.h"
#include "zone/changeset.h"
#include "zone/version.h"

/* The version cs makes of old, built as an overlay over old's base. The caller has checked
 * the serials. Returns 0; SD_ESEMANTIC (logged) when a rule fails — a removed record is not
 * in old, an added one is there already, or a full build's rule fails at a touched node;
 * SD_ELIMIT (nothing logged) when the bindings differ and the change must be built in full;
 * -ENOMEM. */
int zone_overlay_apply(const zone_version_t *old, const zone_changeset_t *cs,
                       const zone_bindings_t *bindings, zone_version_t **out)
    SD_NONNULL(1, 2, 4) SD_WUR;

/* zone_builder_finish for records expected to differ little from ref, a version of the same
 * zone (the one served, at a reload): the same rules, checked the same way and logged with
 * the records' places, and a version with the same content. Once checked, the records are
 * diffed against ref by one merge walk (O(zone), no layout) and, when the change is within
 * what an overlay holds (zone_overlay_max), applied over ref's arena: a reload that changes a
 * few records then lays out no second copy of the zone. Otherwise, or when the overlay
 * refuses it (other bindings), laid out in full as zone_builder_finish does. Consumes b.
 * Returns as zone_builder_finish. */
int zone_overlay_build(zone_builder_t *b, const zone_version_t *ref, zone_version_t **out)
    SD_NONNULL(1, 2, 3) SD_WUR;

/* The overlay size past which a commit over a base of base_nodes compacts. */
size_t zone_overlay_max(size_t base_nodes);
