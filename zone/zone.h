/* zone.h — a served zone: its identity, its current version and its primary state.
 *
 * A zone_t's contents are a zone_version_t (zone/version.h), immutable once published.
 * Workers read the current version with one atomic load (RCU, liburcu QSBR flavour) and never
 * lock; the control thread, the only publisher, builds a new version and publishes it; the
 * old one is freed after a grace period.
 *
 * The zone also owns everything its one write path (zone/update.h) keeps between changes:
 *
 *   zone_t ─┬─ current version (RCU)          ─┬─ journal  <state>/<zone>.journal (flock)
 *           ├─ bindings (owner ─▶ policy id)   ├─ snapshot <state>/<zone>.snapshot
 *           ├─ serial policy, journal limits   ├─ base     <state>/<zone>.file: the zone file
 *           ├─ IXFR history (RCU snapshots)    │           as last loaded, for the next diff
 *           └─ ids of the files last loaded    ├─ serial   <state>/<zone>.serial: the
 *                                              │           highest serial ever served
 *                                              └─ (the operator's file is never written)
 *
 * The served version is the snapshot plus the journal entries after it. What follows a
 * commit (NOTIFY, when to write the snapshot) is the caller's: zone_sync() writes the
 * snapshot and compacts the journal when the caller says so. All calls but zone_current()
 * and zone_history() are for the control thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "zone/bindings.h"
#include "zone/history.h"
#include "zone/journal.h"
#include "zone/load.h"
#include "zone/serial.h"
#include "zone/version.h"

typedef struct zone zone_t;

/* How a zone's changes are numbered and kept. */
typedef struct zone_conf {
	zone_serial_policy_t policy; /* default increment */
	/* journal-max-size / journal-max-depth; 0: the default, 100 entries and max(1 MiB,
	 * twice the served zone's size in memory), re-fitted at every commit. The IXFR history
	 * keeps the same bytes. */
	zone_journal_limits_t limits;
	size_t history_depth; /* change sets kept for IXFR (0: the journal's depth) */
} zone_conf_t;

/* New zone with no version and no state (publish only); apex lowercased wire; file may be
 * NULL. */
int zone_new(const uint8_t *apex, const char *file, zone_t **out) SD_NONNULL(1, 3) SD_WUR;
/* The longest file name the zone keeps in its state directory ("<zone>.snapshot" and
 * "<zone>.file" while written, as "<name>.tmpXXXXXX"): the configuration rejects a zone
 * whose names exceed NAME_MAX rather than failing at the first write. Any thread. */
size_t zone_state_name_max(const uint8_t *apex) SD_NONNULL(1) SD_WUR;
/* Give the zone its state directory (journal opened and locked, a torn tail truncated and
 * logged; history made): needed by zone/update.h. Once, before the first transaction.
 * Temporaries of this zone left there by a crash during a write (snapshot, base copy,
 * serial record, journal compaction) are removed once the journal's lock shows no one else writes. */
int zone_open_state(zone_t *z, const char *state_dir, const zone_conf_t *conf)
    SD_NONNULL(1, 2, 3) SD_WUR;
/* Free a zone that no reader can see any more (after a grace period), with its version,
 * journal (unlocked) and history. */
void zone_free(zone_t *z);
const uint8_t *zone_apex(const zone_t *z) SD_NONNULL(1);
const char *zone_file(const zone_t *z) SD_NONNULL(1);
/* Serve another file from now on (a config change of the file path): the next
 * zone_update_from_file() diffs the previous file's content against that file's. */
int zone_set_file(zone_t *z, const char *file) SD_NONNULL(1, 2) SD_WUR;

/* Current version (NULL before the first publish). Workers: inside an RCU read-side section
 * (QSBR: an online thread between quiescent states). The control thread may also call it
 * while QSBR-offline, because it is the only thread that publishes: the version it reads
 * cannot be retired under it. */
const zone_version_t *zone_current(const zone_t *z) SD_NONNULL(1);

/* Control thread only: make v the current version; the previous one is freed after an RCU
 * grace period (call_rcu, never blocks). Takes ownership of v. The caller must be a thread
 * registered with liburcu-qsbr and online (call_rcu's rule). Call rcu_barrier() before exit to
 * run pending frees. zone/update.h commits go through here. */
void zone_publish(zone_t *z, zone_version_t *v) SD_NONNULL(1, 2);
/* Build what the answer path reads of v besides its records (the pre-encoded answers,
 * zone/version.h), once: zone_publish does it when not done yet; a caller that publishes
 * RCU-online does it before, offline. A version that is never published (a reload's parsed
 * file) never pays for it. Control thread, before v is published. */
void zone_version_prepare(zone_version_t *v) SD_NONNULL(1);

/* Load the zone's file with its bindings, built over the version served now when there is
 * one (zone_load_file_over; info as there). Control thread. */
int zone_load(const zone_t *z, zone_load_info_t *info, zone_version_t **out)
    SD_NONNULL(1, 3) SD_WUR;
/* The files the last committed zone_update_from_file() read, with their ids (empty before). */
const zone_load_info_t *zone_files(const zone_t *z) SD_NONNULL(1);

/* The IXFR history workers read (valid until zone_free; NULL without state). */
const zone_history_t *zone_history(const zone_t *z) SD_NONNULL(1);

/* The journal's change history (full form: the transfer view's hide/show lists included,
 * each with its time and source), for `steerctl zone history` and rollback. Control
 * thread; -EINVAL without state.
 *   zone_changes_first: the oldest serial the journal leads from (SD_ENOTFOUND: empty);
 *   zone_changes_since: the change sets from serial `from` to the newest, oldest first,
 *     re-read and verified from the file (zone_journal_read: free the list with
 *     zone_journal_free_list; SD_ENOTFOUND when no entry starts at from and from is not
 *     the newest serial). */
int zone_changes_first(const zone_t *z, uint32_t *first) SD_NONNULL(1, 2) SD_WUR;
int zone_changes_since(zone_t *z, uint32_t from, zone_changeset_t ***list, size_t *n)
    SD_NONNULL(1, 3, 4) SD_WUR;

/* The policy bindings every build of this zone takes (NULL: none). */
const zone_bindings_t *zone_bindings(const zone_t *z) SD_NONNULL(1);
/* Control thread, QSBR-offline: take a new bindings table (a reference is taken; NULL:
 * none). When it differs and a version is served, the zone gets a new version with the same
 * content and serial carrying the new ids, published at once: no journal entry, no serial,
 * no history (secondaries see nothing). -EBUSY while a transaction is open; on a build
 * error (the content breaks a rule under the new table) the old table stays. */
int zone_set_bindings(zone_t *z, const zone_bindings_t *b) SD_NONNULL(1) SD_WUR;

/* The hide hook: asked at every commit for each record the commit adds to the content (not
 * a TTL change of a record already there) that the transaction did not hide or show
 * explicitly: true leaves it out of transfers (zone/hidden.h). The server uses it so that a
 * candidate added by a reload or an RFC 2136 update stays out of the transfer view until
 * its checks pass. fn NULL: none. Control thread. */
typedef bool (*zone_hide_fn)(void *ctx, const zone_t *z, const zone_rr_t *rr);
void zone_set_hide_hook(zone_t *z, zone_hide_fn fn, void *ctx) SD_NONNULL(1);

/* Change the serial policy (config reload). */
void zone_set_policy(zone_t *z, zone_serial_policy_t policy) SD_NONNULL(1);

/* Control thread, QSBR-offline, after the commit's followers (NOTIFY) went out: when the
 * journal is over its limits (or no snapshot exists yet), write the snapshot of the served
 * version (atomic) and compact the journal. Errors are logged; the zone keeps serving from
 * memory and the journal. */
int zone_sync(zone_t *z) SD_NONNULL(1) SD_WUR;

/* Counters for status output. */
typedef struct zone_stats {
	uint32_t journal_depth;
	uint64_t journal_size;
	uint64_t changes; /* serials made since start */
} zone_stats_t;
void zone_stats(const zone_t *z, zone_stats_t *out) SD_NONNULL(1, 2);
