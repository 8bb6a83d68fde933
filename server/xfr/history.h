/* history.h — the IXFR history of a zone: change sets in wire form, newest last.
 *
 * Each serial step is one immutable change set (zone/changeset.h: SOA(from), removed, SOA(to),
 * added, as uncompressed wire RRs) wrapped in a reference-counted xfr_diff_t, so an IXFR
 * response is a copy of these RRs into messages (server/xfr/out.h). A zone's history
 * is a bounded list of contiguous diffs (each `from` equals the previous `to`), kept as an
 * immutable snapshot that the control thread replaces (RCU, liburcu QSBR) on every new serial:
 *
 *   xfr_history_t ──rcu──▶ snapshot { diffs[0] from=s0 to=s1, diffs[1] s1->s2, ... }
 *                                         ▲ a transfer holds a snapshot reference, so a long
 *                                           transfer survives newer publications
 *
 * Limits (depth, bytes) drop the oldest diffs. The history is built at start from the journal
 * and extended after each journal append.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "zone/changeset.h"

/* A change set shared by the history snapshots and the transfers that read it. */
typedef struct xfr_diff {
	uint32_t refs;        /* atomic */
	uint32_t from, to;    /* SOA serials */
	size_t bytes;         /* zone_changeset_wire_size(cs), for the history's byte limit */
	zone_changeset_t *cs; /* immutable once wrapped */
} xfr_diff_t;

/* Wrap a finished change set (ownership passes in every case); refs = 1 for the caller. */
int xfr_diff_new(zone_changeset_t *cs, xfr_diff_t **out) SD_NONNULL(1, 2) SD_WUR;
xfr_diff_t *xfr_diff_ref(xfr_diff_t *d) SD_NONNULL(1);
void xfr_diff_unref(xfr_diff_t *d);

/* RFC 1995 section 5 condensation of the contiguous diffs[0..n) into one new diff (refs = 1),
 * through zone_changeset_condense(). Any thread; allocates in proportion to the input. */
int xfr_diff_condense(xfr_diff_t *const *diffs, size_t n, xfr_diff_t **out) SD_NONNULL(1, 3) SD_WUR;

/* --- the history of one zone --- */

typedef struct xfr_history xfr_history_t;
typedef struct xfr_hist_snap xfr_hist_snap_t;

/* max_depth: most diffs kept (>= 1); max_bytes: most bytes of diffs kept (0 = no limit). */
int xfr_history_new(size_t max_depth, size_t max_bytes, xfr_history_t **out) SD_NONNULL(3) SD_WUR;
/* Free after no reader can still be acquiring (after a grace period); snapshots already
 * acquired stay valid until released. */
void xfr_history_free(xfr_history_t *h);

/* Control thread (registered with RCU): append d (takes the caller's reference). When d does
 * not continue the newest diff (d->from != newest->to), the history restarts with d alone.
 * Oldest diffs are dropped to honour the limits; a single diff larger than max_bytes leaves
 * the history empty. Publishes a new snapshot. */
int xfr_history_add(xfr_history_t *h, xfr_diff_t *d) SD_NONNULL(1, 2) SD_WUR;
/* Control thread: forget every diff (e.g. after a reload that could not be diffed). */
void xfr_history_clear(xfr_history_t *h) SD_NONNULL(1);

/* Worker or control thread inside an RCU read-side section: a reference to the current
 * snapshot (never NULL); release it with xfr_hist_snap_release, from any thread. */
xfr_hist_snap_t *xfr_history_acquire(const xfr_history_t *h) SD_NONNULL(1);
void xfr_hist_snap_release(xfr_hist_snap_t *s);

size_t xfr_hist_snap_count(const xfr_hist_snap_t *s) SD_NONNULL(1);
xfr_diff_t *xfr_hist_snap_diff(const xfr_hist_snap_t *s, size_t i) SD_NONNULL(1);
/* All diffs, oldest first (xfr_hist_snap_count of them). */
xfr_diff_t *const *xfr_hist_snap_diffs(const xfr_hist_snap_t *s) SD_NONNULL(1);
/* Index of the diff whose `from` is serial, i.e. the chain serial -> newest; SD_ENOTFOUND. */
int xfr_hist_snap_find(const xfr_hist_snap_t *s, uint32_t serial, size_t *index)
    SD_NONNULL(1, 3) SD_WUR;
