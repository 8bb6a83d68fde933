/* hidden.h — records a version holds but transfers leave out: the transfer view.
 *
 * A steered name's answers need every candidate, but what a plain secondary is sent should
 * follow health (issue 9, "Transfer view"). So a version carries, beside its content, an
 * immutable set of record identities (owner, type, class, RDATA; not the TTL) that AXFR and
 * IXFR leave out. zone/ knows nothing of why a record is hidden: the server computes the set
 * (server/steer.c) and changes it through the write path (zone/update.h: zone_update_hide /
 * zone_update_unhide), so every change of the view is an ordinary commit: a new serial, one
 * journal entry, one IXFR step, a NOTIFY by the caller.
 *
 * A change set (zone/changeset.h) carries two more lists for this: `hide` (records hidden from
 * the new serial on) and `unhide` (hidden records shown again, or hidden records the change
 * removes from the content). The set a change set makes of H is
 *
 *   H' = ((H \ removed) \ unhide) ∪ hide
 *
 * and, because the commit writes exact deltas (hide ∩ (H \ unhide) = ∅, unhide ⊆ H, every
 * removed record of H in unhide), each change set says on its own what a secondary sees:
 *
 *   visible removed = (removed \ unhide) ∪ (hide \ added)
 *   visible added   = (added \ hide) ∪ (unhide \ removed)
 *
 * (zone_changeset_visible): the IXFR history holds that form; the journal holds the full one.
 * The set is written into the snapshot's note line (zone_hidden_note) so that a restart
 * recovers exactly what was served; a version loaded from a zone file has none.
 *
 * Thread: a set is immutable once made and reference-counted; any thread may read it. The
 * version lookups are allocation- and lock-free (a binary search); answers never call them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "zone/changeset.h"
#include "zone/version.h"

typedef struct zone_hidden zone_hidden_t;

/* A set of the records list[0..n) (copied, owners lowercased, sorted by zone_rr_cmp,
 * duplicates dropped); refs = 1. n == 0 gives *out = NULL (the empty set). */
int zone_hidden_new(const zone_rr_t *list, size_t n, zone_hidden_t **out) SD_NONNULL(3) SD_WUR;
/* NULL is the empty set for every call below. */
zone_hidden_t *zone_hidden_ref(const zone_hidden_t *h);
void zone_hidden_unref(zone_hidden_t *h);
size_t zone_hidden_count(const zone_hidden_t *h);
/* Record i in zone_rr_cmp order (i < count), pointing into h. */
void zone_hidden_at(const zone_hidden_t *h, size_t i, zone_rr_t *out) SD_NONNULL(1, 3);
/* Whether rr's identity is in h. O(log n), no allocation. */
bool zone_hidden_has(const zone_hidden_t *h, const zone_rr_t *rr) SD_NONNULL(2);

/* The set cs makes of h (formula above): *out is a new reference (h's own when nothing
 * changes; NULL when empty). */
int zone_hidden_next(const zone_hidden_t *h, const zone_changeset_t *cs, zone_hidden_t **out)
    SD_NONNULL(2, 3) SD_WUR;

/* The change a secondary sees (formula above): SOAs as in cs, no hide/unhide lists. *out is
 * a new change set. */
int zone_changeset_visible(const zone_changeset_t *cs, zone_changeset_t **out)
    SD_NONNULL(1, 2) SD_WUR;

/* Add to the condensation `all` of list[0..n) (zone_changeset_condense) the hide/unhide
 * lists that take any H through the whole chain as the entries one by one would. */
int zone_hidden_condense(const zone_changeset_t *const *list, size_t n, zone_changeset_t *all)
    SD_NONNULL(1, 3) SD_WUR;

/* --- the set of a version --- */

/* The hidden set of v (NULL: none). Any thread that may read v. */
const zone_hidden_t *zone_version_hidden(const zone_version_t *v) SD_NONNULL(1);
/* Whether a record of v is left out of transfers. No allocation; any thread. */
static inline bool zone_version_rr_hidden(const zone_version_t *v, const zone_rr_t *rr)
{
	const zone_hidden_t *h = zone_version_hidden(v);
	return h && zone_hidden_has(h, rr);
}
/* Give a version nobody else sees yet (just built or loaded, unpublished) the set h (a
 * reference is taken; NULL: none). Control thread. */
void zone_version_set_hidden(zone_version_t *v, const zone_hidden_t *h) SD_NONNULL(1);

/* --- the snapshot's note --- */

/* The note line that carries h (zone/dump.h zone_write_file_noted): malloc()ed, NULL in
 * *out when h is empty. */
int zone_hidden_note(const zone_hidden_t *h, char **out) SD_NONNULL(2) SD_WUR;
/* Read the note back from the first line of the file at path: *out is the set (NULL when
 * the file has no such note). SD_EPARSE when the note is damaged. */
int zone_hidden_from_file(const char *path, zone_hidden_t **out) SD_NONNULL(1, 2) SD_WUR;
