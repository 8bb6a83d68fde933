/* update.h — the one write path of a zone: a transaction (control thread).
 *
 * Every change of a served zone — a reloaded zone file, a change set, single records (RFC
 * 2136 UPDATE, the steering transfer view) — goes through a transaction, in the spirit of
 * Knot's zone_update:
 *
 *   zone_update_begin(z, &u)
 *     zone_update_add / zone_update_remove   (records, idempotent)
 *     zone_update_apply                      (a change set, strict)
 *     zone_update_from_file                  (the zone file's own change)
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
 *   history add ─▶ offline ─▶ the file's base copy
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
 * One transaction per zone at a time. All calls: control thread, registered with liburcu
 * QSBR and offline (commit goes online only around the publish and the history add).
 */
#pragma once

#include <stdint.h>
#include <time.h>

#include "contrib/base/compiler.h"
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
/* Apply cs's removed and added records on top of the transaction: each removed record must
 * be there and each added one absent (SD_ESEMANTIC, logged, the transaction unchanged
 * otherwise). cs's SOA records are ignored: the commit chooses the serial. */
int zone_update_apply(zone_update_t *u, const zone_changeset_t *cs) SD_NONNULL(1, 2) SD_WUR;
/* Take the zone file's own change (see above). file_v is the file as just loaded
 * (zone_load); info lists the files read. Ownership of both passes in every case (*info is
 * left empty). At most once per transaction. */
int zone_update_from_file(zone_update_t *u, zone_version_t *file_v, zone_load_info_t *info)
    SD_NONNULL(1, 2, 3) SD_WUR;

/* Commit (see above) and free u in every case. *serial: the serial served afterwards. */
int zone_update_commit(zone_update_t *u, time_t now, uint32_t *serial) SD_NONNULL(1, 3) SD_WUR;
/* Drop the transaction: nothing changes. NULL is fine. */
void zone_update_abort(zone_update_t *u);
