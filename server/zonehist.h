/* zonehist.h — a zone's change history for the operator: `steerctl zone history`,
 * `steerctl zone show-change` and `steerctl zone rollback` (control thread).
 *
 * Every change set carries its time and source (zone/changeset.h zone_changeset_origin:
 * reload + the file, update + the TSIG keys or clients, health + the steered names, rollback
 * + "to SERIAL by control"). The listing reads the IXFR history held in memory (zone/history.h:
 * the recent change sets, no file read) and, for older ones or when the history was cleared,
 * the journal (zone/journal.h). Both are shown as secondaries see them (zone/hidden.h
 * zone_changeset_visible): a health change lists the records that left or came back to
 * transfers; a content change lists its records.
 *
 *   history ZONE [--json] [--limit N]   newest first:
 *     "; zone example.com.: 3 change sets shown, journal from serial 10 to 13"
 *     "12 -> 13 2026-12-03T09:50:00Z update (deploy-key.) -1 +2"
 *     (time "-" when unknown: a journal entry of format 1, source "unknown")
 *     --json: {"zone":..,"serial":N,"oldest":N|null,"changes":[{"from":N,"to":N,
 *              "time":"..."|null,"source":"update","detail":"deploy-key.","removed":1,
 *              "added":2},...]}
 *   show-change ZONE SERIAL [--json]   the change set whose to-serial is SERIAL:
 *     "; zone example.com.: 12 -> 13 2026-12-03T09:50:00Z update (deploy-key.)"
 *     "- RR" (the old SOA, then each removed record)  "+ RR" (the new SOA, each added one)
 *     --json: {"zone":..,"from":..,"to":..,"time":..,"source":..,"detail":..,
 *              "removed":["RR",...],"added":[...]}   (SOAs included, first)
 *   rollback ZONE SERIAL   see srv_zonehist_rollback.
 *
 * Records are in presentation form (zone/dump.h zone_rr_format).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "contrib/base/strbuf.h"
#include "server/audit.h"
#include "server/zonedb.h"

/* The listing of the zone at apex (zone: its name as asked, for the text), newest first, at
 * most limit change sets (0: all). Returns 0, or a negative code with its text in out
 * (SD_ENOTFOUND: not served; -EINVAL: no state directory). */
int srv_zonehist_list(srv_zonedb_t *zs, const uint8_t *apex, size_t limit, bool json,
                      sd_strbuf_t *out) SD_NONNULL(1, 2, 5) SD_WUR;

/* The change set to SERIAL. SD_ENOTFOUND (text in out) when neither the history nor the
 * journal holds it. */
int srv_zonehist_show(srv_zonedb_t *zs, const uint8_t *apex, uint32_t serial, bool json,
                      sd_strbuf_t *out) SD_NONNULL(1, 2, 5) SD_WUR;

/* Publish the zone's content as it was at serial: the journal's change sets after it are
 * undone newest first (zone_update_revert) in one transaction of the one write path, so the
 * result is ONE new change set with a new serial above the served one (the serial policy),
 * journaled, in the IXFR history, NOTIFYed (srv_zonedb_committed) and audited (one line,
 * source "rollback"); its source is "rollback" with "to SERIAL by control". Why inverses
 * and not a rebuild from the journal: the journal holds change sets only (the oldest
 * content lives in a snapshot that compaction rewrites), and the inverse costs what the
 * undone changes cost, not the zone's size.
 *
 * The transfer view is not reverted (it follows health): health change sets carry no
 * content, and a record the rollback adds back at a steered name is hidden from transfers
 * until its checks pass (the zone's hide hook). The zone file is not written (like an RFC
 * 2136 update): `steerctl zone diff` then shows the difference, and a later reload takes
 * only what the file itself changed since it was last loaded (zone/update.h).
 *
 * Returns 0 (text in out: the new serial, or that serial is the one served already), or a
 * negative code with its text in out: SD_ENOTFOUND (not served, or serial is not one the
 * journal reaches: the text names the oldest one it does), -EINVAL, a commit's error. */
int srv_zonehist_rollback(srv_zonedb_t *zs, srv_audit_t *audit, const uint8_t *apex,
                          uint32_t serial, sd_strbuf_t *out) SD_NONNULL(1, 2, 3, 5) SD_WUR;
