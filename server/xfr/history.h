/* history.h — the IXFR history of a zone: change sets in wire form, newest last.
 *
 * Each change set ("diff") is one immutable, reference-counted blob holding exactly what
 * RFC 1995 sends for one serial step, as a run of uncompressed wire RRs:
 *
 *   xfr_diff_t: from, to, counts ─▶ [old SOA][removed ...][new SOA][added ...]
 *
 * so an IXFR response is a copy of these RRs into messages (server/xfr/out.h). A zone's history
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

typedef struct xfr_diff {
	uint32_t from, to;     /* SOA serials (old, new) */
	uint32_t removed;      /* RRs removed, not counting the old SOA */
	uint32_t added;        /* RRs added, not counting the new SOA */
	uint32_t refs;         /* atomic; owners: the builder's caller, snapshots */
	size_t len;            /* bytes in data */
	uint8_t data[];        /* RRs: owner, type, class, ttl, rdlength, rdata (no compression) */
} xfr_diff_t;

/* One RR inside a diff or a condensed reply, pointing into the blob. */
typedef struct xfr_rr {
	const uint8_t *owner;
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;
} xfr_rr_t;

/* --- building a diff (control thread) --- */

typedef struct xfr_diff_builder {
	uint8_t *rem, *add; /* growing buffers of wire RRs */
	size_t rem_len, rem_cap, add_len, add_cap;
	uint32_t n_rem, n_add;
	uint8_t *old_soa, *new_soa; /* single RRs */
	size_t old_soa_len, new_soa_len;
	int error;
} xfr_diff_builder_t;

enum { XFR_DIFF_REMOVE = 0, XFR_DIFF_ADD = 1 };

void xfr_diff_builder_init(xfr_diff_builder_t *b) SD_NONNULL(1);
/* Record one removed or added RR (owner: uncompressed wire name, lowercased; rdata: wire with
 * uncompressed names). The SOA is passed like any RR: the removed SOA is the old one, the
 * added SOA the new one; exactly one of each is required. Errors are remembered and reported
 * by finish. */
void xfr_diff_builder_rr(xfr_diff_builder_t *b, int what, const uint8_t *owner, uint16_t type,
			 uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
	SD_NONNULL(1, 3);
/* Assemble the diff (refs = 1, owned by the caller) and reset the builder. SD_ESEMANTIC when the
 * old or new SOA is missing or doubled, -ENOMEM. Frees the builder's buffers in every case. */
int xfr_diff_builder_finish(xfr_diff_builder_t *b, xfr_diff_t **out) SD_NONNULL(1, 2) SD_WUR;

xfr_diff_t *xfr_diff_ref(xfr_diff_t *d) SD_NONNULL(1);
void xfr_diff_unref(xfr_diff_t *d);

/* Iterate RRs of a blob: *pos starts at 0; returns false at the end or on a malformed blob. */
bool xfr_rr_next(const uint8_t *data, size_t len, size_t *pos, xfr_rr_t *rr) SD_NONNULL(1, 3, 4);

/* RFC 1995 condensation: the single diff from diffs[0]->from to diffs[n-1]->to (diffs must be
 * contiguous). An RR removed and later re-added (or added and later removed) appears in neither
 * list; a TTL change stays a removal plus an addition. One allocation sized by the input; the
 * result has refs = 1. Any thread. */
int xfr_diff_condense(xfr_diff_t *const *diffs, size_t n, xfr_diff_t **out)
	SD_NONNULL(1, 3) SD_WUR;

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
int xfr_hist_snap_find(const xfr_hist_snap_t *s, uint32_t serial, size_t *index) SD_NONNULL(1, 3)
	SD_WUR;
