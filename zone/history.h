/* history.h — the IXFR history of a zone: change sets in wire form, newest last.
 *
 * Each serial step is one immutable change set (zone/changeset.h: SOA(from), removed, SOA(to),
 * added, as uncompressed wire RRs) wrapped in a reference-counted zone_diff_t, so an IXFR
 * response is a copy of these RRs into messages (server/xfr/out.h). A zone's history
 * is a bounded list of contiguous diffs (each `from` equals the previous `to`), kept as an
 * immutable snapshot that the control thread replaces (RCU, liburcu QSBR) on every new serial:
 *
 *   zone_history_t ──rcu──▶ snapshot { diffs[0] from=s0 to=s1, diffs[1] s1->s2, ... }
 *                                         ▲ a transfer holds a snapshot reference, so a long
 *                                           transfer survives newer publications
 *
 * Limits (depth, bytes) drop the oldest diffs. A zone owns its history (zone/zone.h): it is
 * built at start from the journal and extended by each commit (zone/update.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "zone/changeset.h"

/* A change set shared by the history snapshots and the transfers that read it. */
typedef struct zone_diff {
	uint32_t refs;        /* atomic */
	uint32_t from, to;    /* SOA serials */
	size_t bytes;         /* zone_changeset_wire_size(cs), for the history's byte limit */
	zone_changeset_t *cs; /* immutable once wrapped */
	int64_t time;         /* the change set's origin (zone_changeset_origin): UTC seconds, */
	zone_source_t source; /* 0 unknown; who made it (text points into cs) */
} zone_diff_t;

/* Wrap a finished change set (ownership passes in every case); refs = 1 for the caller. */
int zone_diff_new(zone_changeset_t *cs, zone_diff_t **out) SD_NONNULL(1, 2) SD_WUR;
zone_diff_t *zone_diff_ref(zone_diff_t *d) SD_NONNULL(1);
void zone_diff_unref(zone_diff_t *d);

/* RFC 1995 section 5 condensation of the contiguous diffs[0..n) into one new diff (refs = 1),
 * through zone_changeset_condense(). Any thread; allocates in proportion to the input. */
int zone_diff_condense(zone_diff_t *const *diffs, size_t n, zone_diff_t **out)
    SD_NONNULL(1, 3) SD_WUR;

/* --- the history of one zone --- */

typedef struct zone_history zone_history_t;
typedef struct zone_history_snap zone_history_snap_t;

/* max_depth: most diffs kept (>= 1); max_bytes: most bytes of diffs kept (0 = no limit). */
int zone_history_new(size_t max_depth, size_t max_bytes, zone_history_t **out) SD_NONNULL(3) SD_WUR;
/* Free after no reader can still be acquiring (after a grace period); snapshots already
 * acquired stay valid until released. */
void zone_history_free(zone_history_t *h);

/* Control thread (registered with RCU): append d (takes the caller's reference). When d does
 * not continue the newest diff (d->from != newest->to), the history restarts with d alone.
 * Oldest diffs are dropped to honour the limits; a single diff larger than max_bytes leaves
 * the history empty. Publishes a new snapshot. */
int zone_history_add(zone_history_t *h, zone_diff_t *d) SD_NONNULL(1, 2) SD_WUR;
/* Control thread: new limits (as for zone_history_new), honoured from the next add. */
void zone_history_set_limits(zone_history_t *h, size_t max_depth, size_t max_bytes) SD_NONNULL(1);
/* Control thread: forget every diff (e.g. after a reload that could not be diffed). */
void zone_history_clear(zone_history_t *h) SD_NONNULL(1);

/* Worker or control thread inside an RCU read-side section: a reference to the current
 * snapshot (never NULL); release it with zone_history_snap_release, from any thread. */
zone_history_snap_t *zone_history_acquire(const zone_history_t *h) SD_NONNULL(1);
void zone_history_snap_release(zone_history_snap_t *s);

size_t zone_history_snap_count(const zone_history_snap_t *s) SD_NONNULL(1);
zone_diff_t *zone_history_snap_diff(const zone_history_snap_t *s, size_t i) SD_NONNULL(1);
/* All diffs, oldest first (zone_history_snap_count of them). */
zone_diff_t *const *zone_history_snap_diffs(const zone_history_snap_t *s) SD_NONNULL(1);
/* Index of the diff whose `from` is serial, i.e. the chain serial -> newest; SD_ENOTFOUND. */
int zone_history_snap_find(const zone_history_snap_t *s, uint32_t serial, size_t *index)
    SD_NONNULL(1, 3) SD_WUR;
