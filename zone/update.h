/* update.h — the one write path of a zone: a transaction (control thread).
 *
 * Every change of a served zone — a reloaded zone file, a change set, single records (RFC
 * 2136 UPDATE, the steering transfer view) — goes through a transaction, in the spirit of
 * Knot's zone_update:
 *
 *   zone_update_begin(z, &u)
 *     zone_update_add / zone_update_remove   (records, idempotent)
 *     zone_update_set_soa                    (an SOA with a higher serial, RFC 2136 3.4.2.2)
 *     zone_update_apply                      (a change set, strict)
 *     zone_update_from_file                  (the zone file's own change)
 *     zone_update_mark / zone_update_rollback (savepoints: one request of a batch undone)
 *     zone_update_each / zone_update_soa     (reading the view: served + the edits so far)
 *     zone_update_revert                     (undo journaled change sets: a rollback)
 *     zone_update_set_source                 (who: kind + text, kept with the change set)
 *   zone_update_commit(u, now, &serial)   or   zone_update_abort(u)
 *
 * The edits of a transaction accumulate as one change against the version served when it
 * began: records to remove (with the TTL they are served with) and records to add. Commit is
 * one ordered sequence:
 *
 *   build the new version (zone_changeset_apply with the zone's bindings: the one build
 *   call, which also runs the semantic checks) ─▶ choose the serial (zone/serial.h, RFC
 *   1982; a serial raised by hand in the file is kept) ─▶ record it (<state>/<zone>.serial,
 *   atomic + fsync) ─▶ journal append + fdatasync ─▶ RCU-online: zone_publish, IXFR
 *   history add ─▶ offline ─▶ the file's base copy, left for zone_keep_base
 *
 * The change set carries its time (the commit's `now`) and source (zone_update_set_source)
 * into the journal entry and the IXFR history's diff (zone_changeset_origin).
 *
 * The served serial never goes backwards (a secondary would ignore the zone): the record
 * covers the highest serial ever served (reserving serials ahead, zone_state.h), on its own, so that a lost journal (or a damaged
 * entry and those after it) or a lost snapshot does not take it along. The serial chosen
 * is above both the served one and the record; a start that recovered less than the record
 * (logged as a warning naming what was lost) commits a new serial above it even when
 * nothing else changed, and a zone whose snapshot was lost serves its file with a serial
 * above the record. A record ahead of what was served (a reservation at a crash, or a
 * crash before the journal append) only skips serials.
 *
 * and a failure before the publish (or an abort) leaves nothing behind: no journal entry, no
 * new version, no history. A commit with no effective change publishes nothing and keeps the
 * serial. What follows a commit — NOTIFY, zone_sync() for the snapshot — is the caller's.
 *
 * Batches: one serial per transaction. Several change sets (and records) queued in one
 * transaction cost one build, one journal entry, one fdatasync and one IXFR step. This is
 * what Knot does for its update queue, and it keeps the journal and the history one entry
 * per serial. The price: a secondary sees the batch as one step, and each request of the
 * batch is answered with the batch's serial — truthful, since every one of them is visible
 * from that serial on.
 *
 * The zone file's own change (zone_update_from_file): the zone file as last loaded is kept
 * in the state directory (<state>/<zone>.file, written atomically after each commit that
 * took a file; the operator's file is never written). The change is that base against the
 * new file; for every RRset the file changed, the served RRset becomes the file's RRset.
 * So records that arrived by other paths survive a reload and a restart; where both changed
 * one RRset the file wins (logged); and applying the same file change twice changes nothing
 * (a crash between commit and the base write cannot wedge the zone). A start with state
 * recovers the served version (snapshot + journal), then takes the file's change since the
 * base like a reload: one new serial when it changed, none when not. With no state the
 * file is the zone. The base copy notes the serial it was committed at; without a base copy
 * (a state directory from before it existed), or when the recovered version is older than
 * that serial (journal entries lost), the base is the served version: the old diff, once.
 *
 * Most reloads parse the base copy not at all. The commit that took a file knows when the
 * version it publishes serves the file as loaded — the change was taken against the served
 * version itself (no copy, or the copy's note said so of the served serial) and nothing else
 * was edited, or the file started the zone — and the copy's note then says so, with the
 * file's own SOA serial: that version's records ARE the copy's (its SOA too, but for the
 * serial). While that version is at hand — it is still served, or a preparation holds it
 * since before an UPDATE came — it is the base; the copy is parsed only when another change
 * came between (an UPDATE, a rollback, the transfer view: every commit takes a higher serial)
 * and that version is gone, or when the version served the file and other records at once.
 * The log's event=zone-file-change says which: base=version (no parse), base=copy (parsed),
 * base=served (no usable copy).
 *
 * The copy (a full zone file) is written after the commit returns, by zone_keep_base or on
 * another thread (zone_base_job_take): the caller replies first. Until then it is pending:
 * the next commit that takes a file writes it first (zone_update_from_file), zone_free at a
 * stop, and zone_file_base_prepare leaves such a zone to the commit. An UPDATE in between
 * neither reads nor changes it. A crash before it is written leaves the older copy, noted at
 * its older serial: the next diff starts from there, which applying again makes right (see
 * above).
 *
 * One transaction per zone at a time. All calls: control thread, registered with liburcu
 * QSBR and offline (commit goes online only around the publish and the history add).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "contrib/base/compiler.h"
#include "dns/soa.h"
#include "zone/changeset.h"
#include "zone/load.h"
#include "zone/zone.h"

typedef struct zone_update zone_update_t;

/* Open a transaction on z, which must have its state (zone_open_state; -EINVAL otherwise).
 * The first transaction of a zone recovers its state (snapshot, journal, history). -EBUSY
 * when a transaction is open already. */
int zone_update_begin(zone_t *z, zone_update_t **out) SD_NONNULL(1, 2) SD_WUR;

/* Make rr present (SOA refused: SD_ESEMANTIC). A record that is there with the same TTL is
 * a no-op; with another TTL it is replaced (remove + add). -EINVAL before the zone has a
 * version (only zone_update_from_file can start a zone). */
int zone_update_add(zone_update_t *u, const zone_rr_t *rr) SD_NONNULL(1, 2) SD_WUR;
/* Make rr absent (identity: owner, type, class, RDATA; not TTL). Absent already: a no-op. */
int zone_update_remove(zone_update_t *u, const zone_rr_t *rr) SD_NONNULL(1, 2) SD_WUR;
/* Give every record of the RRset (owner, type) in the view the TTL ttl (RFC 2181 5.2: one TTL
 * per RRset): each record with another TTL is replaced (remove + add). SOA and ANY refused
 * (SD_ESEMANTIC). */
int zone_update_rrset_ttl(zone_update_t *u, const uint8_t *owner, uint16_t type, uint32_t ttl)
    SD_NONNULL(1, 2) SD_WUR;
/* Replace the SOA by soa (RFC 2136 3.4.2.2) when its serial is higher (RFC 1982) than the
 * view's (the served one, or one set before in this transaction): its TTL and fields are then
 * committed, with that serial or, when the serial's record is ahead of it, above it (the
 * commit still chooses; never lower). Returns 1 when it replaced, 0 when ignored, SD_EPARSE
 * (malformed RDATA), SD_ESEMANTIC (owner not the apex), -EINVAL (no version yet), -ENOMEM. */
int zone_update_set_soa(zone_update_t *u, const zone_rr_t *soa) SD_NONNULL(1, 2) SD_WUR;

/* Savepoints. A mark names the transaction's state now; rolling back to it undoes every
 * add, remove, TTL and SOA edit made since (an undo log, kept from the first mark on: a
 * transaction that never marks pays nothing). Marks nest: rolling back to an earlier mark
 * undoes the later ones' edits too; a mark is void once rolled back past. Only memory of the
 * transaction changes (the served version is immutable); the file's change
 * (zone_update_from_file) is not undone and must not be taken after a mark. */
typedef size_t zone_update_mark_t;
zone_update_mark_t zone_update_mark(zone_update_t *u) SD_NONNULL(1);
void zone_update_rollback(zone_update_t *u, zone_update_mark_t mark) SD_NONNULL(1);

/* Reading the view: the records as they would be after a commit now (served, minus the
 * removed, plus the added). fn is called for each record at owner (lowercased wire) of type
 * (DNS_TYPE_ANY: every type; the records of one type are not necessarily together) and
 * returns 0 to go on; a non-zero return stops the walk and is returned. The record's memory
 * stays valid until the transaction ends, except the apex SOA's (the view's SOA, see
 * zone_update_soa: valid during the call). fn must not edit u. Returns 0, fn's value, or
 * -EINVAL before the zone has a version. */
typedef int (*zone_update_each_fn)(void *arg, const zone_rr_t *rr);
int zone_update_each(const zone_update_t *u, const uint8_t *owner, uint16_t type,
                     zone_update_each_fn fn, void *arg) SD_NONNULL(1, 2, 4);
/* fn (as for zone_update_each) for every record the transaction adds now. */
int zone_update_each_added(const zone_update_t *u, zone_update_each_fn fn, void *arg)
    SD_NONNULL(1, 2);
/* The version the transaction's edits apply to (served when it began; NULL before the zone
 * has one). Valid until the transaction ends. */
const zone_version_t *zone_update_served(const zone_update_t *u) SD_NONNULL(1);
/* Whether at least one record is at owner in the view (an empty non-terminal is not). */
bool zone_update_name_used(const zone_update_t *u, const uint8_t *owner) SD_NONNULL(1, 2) SD_WUR;
/* The SOA of the view into *out (its RDATA in buf): the served one, or the one
 * zone_update_set_soa (or the file's change) set, with the serial asked for; the serial
 * committed may be higher (zone_update_commit chooses). Needs a version. */
void zone_update_soa(const zone_update_t *u, zone_rr_t *out, uint8_t buf[DNS_SOA_MAX_LEN])
    SD_NONNULL(1, 2, 3);
/* Apply cs's removed and added records on top of the transaction: each removed record must
 * be there and each added one absent (SD_ESEMANTIC, logged, the transaction unchanged
 * otherwise). cs's SOA records are ignored: the commit chooses the serial. */
int zone_update_apply(zone_update_t *u, const zone_changeset_t *cs) SD_NONNULL(1, 2) SD_WUR;
/* Take the zone file's own change (see above). file_v is the file as just loaded
 * (zone_load); info lists the files read. Ownership of both passes in every case (*info is
 * left empty). At most once per transaction. */
int zone_update_from_file(zone_update_t *u, zone_version_t *file_v, zone_load_info_t *info)
    SD_NONNULL(1, 2, 3) SD_WUR;

/* The part of the file's change that costs O(zone) — the base (the copy parsed, or served,
 * the version its note names: see above) diffed against the new file — prepared off the
 * control thread (a reload's pool step) so that the commit only takes the RRsets that
 * changed. served: the version served when the preparation is asked for (NULL: the copy is
 * parsed; the preparation keeps a reference when it is the base). Reads z's base copy and its
 * immutable names (apex, paths): any thread, while no commit that takes a file runs on z and
 * no zone_keep_base (the base copy is only written then). bindings: those file_v was loaded
 * with. *out: NULL when there is no usable base copy or it is pending (the commit then finds
 * its base itself, as without a preparation). Honours the thread's cancel flag
 * (zone_load_set_cancel: -ECANCELED). Returns 0 or a negative code. */
typedef struct zone_file_base zone_file_base_t;
int zone_file_base_prepare(const zone_t *z, const zone_bindings_t *bindings,
                           const zone_version_t *served, const zone_version_t *file_v,
                           zone_file_base_t **out) SD_NONNULL(1, 4, 5) SD_WUR;
void zone_file_base_free(zone_file_base_t *fb);
/* zone_update_from_file with a preparation for exactly this file_v (NULL: none), whose
 * ownership passes in every case. It is used when the served version is not older than the
 * serial its base copy notes (otherwise the commit finds the base again, as without one). */
int zone_update_from_file_based(zone_update_t *u, zone_version_t *file_v, zone_load_info_t *info,
                                zone_file_base_t *base) SD_NONNULL(1, 2, 3) SD_WUR;

/* The transfer view (zone/hidden.h). Ask that rr (identity; a record of the view) be left
 * out of transfers from this commit on / be sent again. Requests are resolved at commit
 * against the served hidden set into exact deltas: hiding a hidden record, showing a shown
 * one, or hiding a record that is not in the view changes nothing; a commit whose only
 * effect is such a change gets a new serial, one journal entry and one IXFR step in which
 * secondaries see the records leave or come back. A record the transaction removes leaves
 * the hidden set; one it adds is hidden when asked, or when the zone's hide hook
 * (zone_set_hide_hook) says so; one whose TTL it changes keeps its state. Not part of the
 * undo log (savepoints). */
int zone_update_hide(zone_update_t *u, const zone_rr_t *rr) SD_NONNULL(1, 2) SD_WUR;
int zone_update_unhide(zone_update_t *u, const zone_rr_t *rr) SD_NONNULL(1, 2) SD_WUR;

/* Who makes this transaction's change (zone/changeset.h: kind and text, copied; the text is
 * cut at ZONE_SOURCE_TEXT_MAX): the commit records it, with its `now` as the time, in the
 * change set — so in the journal entry and the IXFR history's diff. Call any time before
 * the commit; the last call wins. Without one the change's source is "unknown". */
void zone_update_set_source(zone_update_t *u, const zone_source_t *src) SD_NONNULL(1, 2);

/* Rollback: undo the contiguous change sets list[0..n) (oldest first, as zone_journal_read
 * gives them), whose last to-serial must be the served serial (else SD_ESEMANTIC, nothing
 * edited): their inverses are applied newest first — what each added is removed, what each
 * removed is added back with the TTL it had — and the SOA's TTL and fields (not the serial)
 * become what they were at list[0]'s from-serial. The commit then publishes the content of
 * that serial as one new change set with a new, higher serial (the zone's serial policy).
 * The transfer view is not reverted: hidden records stay as they are, a record the rollback
 * adds back is hidden when the zone's hide hook says so (zone_update_hide). Not with the
 * file's change nor after a mark (-EINVAL); -EINVAL before the zone has a version. Cost:
 * O(records of the change sets), independent of the zone's size. */
int zone_update_revert(zone_update_t *u, const zone_changeset_t *const *list, size_t n)
    SD_NONNULL(1) SD_WUR;

/* Write the base copy the last commit that took a file left pending (atomic + fsync; see
 * above): the caller calls it once its reply is out. 0 when nothing is pending; a failure is
 * logged and harmless (the older copy stays, noted at its serial). A copy being written off
 * this thread (zone_base_job_take) is waited for first. */
int zone_keep_base(zone_t *z) SD_NONNULL(1);

/* The same copy written on another thread, so that the control thread goes on (a 1M-record
 * copy is 0.2-0.3 s of formatting):
 *
 *   control thread          any thread              control thread
 *   zone_base_job_take ──▶ zone_base_job_write ──▶ zone_base_job_done
 *
 * take moves the pending copy into a job (*out NULL: nothing pending; -ENOMEM: it stays
 * pending). Until done, the zone waits for the job wherever it needs the copy on disk —
 * zone_keep_base, so the next file commit, a preparation (zone_file_base_prepare's caller
 * calls zone_keep_base first) and zone_free — and nowhere else: an UPDATE does not wait.
 * write touches the job alone (the version, the path, the note: its own copies). done logs a
 * failure, releases the job and must follow write, also after the zone was freed. */
typedef struct zone_base_job zone_base_job_t;
int zone_base_job_take(zone_t *z, zone_base_job_t **out) SD_NONNULL(1, 2) SD_WUR;
void zone_base_job_write(zone_base_job_t *j) SD_NONNULL(1);
void zone_base_job_done(zone_base_job_t *j) SD_NONNULL(1);

/* Commit (see above) and free u in every case. *serial: the serial served afterwards. */
int zone_update_commit(zone_update_t *u, time_t now, uint32_t *serial) SD_NONNULL(1, 3) SD_WUR;
/* Drop the transaction: nothing changes. NULL is fine. */
void zone_update_abort(zone_update_t *u);
