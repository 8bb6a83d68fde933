/* primary.h — one zone's primary state: serial policy, journal, IXFR history (control thread).
 *
 * Every content change becomes exactly one new serial and one journaled change set, in the
 * order DESIGN.md fixes:
 *
 *   reload:  file version ─diff─▶ change set ─ choose serial (zone/serial.h) ─ rewrite SOA(to)
 *            ─ apply to the served version ─▶ new version ─ journal append + fsync
 *            ─▶ caller publishes ─▶ xfr_primary_published(): IXFR history
 *            ─▶ caller sends NOTIFY ─▶ xfr_primary_sync(): when the journal is over its limits,
 *               snapshot written and journal compacted
 *
 * The operator's zone file is never written: what is served is a snapshot file in the state
 * directory (zone_write_file, atomic) plus the journal entries after it. The snapshot is
 * written at the first start and whenever the journal passes its limits (then the journal is
 * trimmed), so a change costs one journal append, not a rewrite of the zone:
 *
 *   start:   snapshot serial S, journal chain ... ─▶ L
 *            S == L, or S starts a journal entry (the entries from S to L are condensed and
 *            applied once)                               ─▶ served version before the stop
 *            no snapshot, or a journal that does not continue it ─▶ the journal restarts
 *            then the zone file is compared with that version exactly as a reload would:
 *            edits made while stopped become one new serial; an unchanged file serves the
 *            old version with its serial, so secondaries keep IXFR across restarts.
 *
 * The journal opens with torn-tail truncation (zone/journal.h). Control thread only, which
 * must be registered with liburcu (the history publishes with call_rcu).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "contrib/base/compiler.h"
#include "server/xfr/history.h"
#include "zone/journal.h"
#include "zone/serial.h"
#include "zone/zone.h"

typedef struct xfr_primary_conf {
	zone_serial_policy_t policy;  /* default increment */
	zone_journal_limits_t limits; /* journal-max-size / journal-max-depth (0 = none) */
	size_t history_depth;         /* change sets kept for IXFR (0: limits.max_depth or 100) */
} xfr_primary_conf_t;

typedef struct xfr_primary xfr_primary_t;

/* Open the zone's journal (created when missing; a torn tail is truncated and logged).
 * snapshot (where the served version is kept) and journal_path are copied. */
int xfr_primary_open(const uint8_t *apex, const char *snapshot, const char *journal_path,
                     const xfr_primary_conf_t *conf, xfr_primary_t **out)
    SD_NONNULL(1, 2, 3, 4, 5) SD_WUR;
/* Close the journal and free the state; the history goes after an RCU grace period (the
 * caller must make sure no worker still acquires from it: call after synchronize_rcu). */
void xfr_primary_close(xfr_primary_t *p);

/* The history workers read for IXFR (valid until xfr_primary_close). */
const xfr_history_t *xfr_primary_history(const xfr_primary_t *p) SD_NONNULL(1);

/* Start-up: file_v is the version just loaded from the zone file (ownership passes in every
 * case). *out is the version to publish first (a new serial when the file changed while
 * stopped: then call xfr_primary_published after publishing); the history is rebuilt from
 * the journal. Then call xfr_primary_sync(p, *out). */
int xfr_primary_start(xfr_primary_t *p, zone_version_t *file_v, time_t now, zone_version_t **out)
    SD_NONNULL(1, 2, 4) SD_WUR;

/* A reloaded file (ownership of file_v passes in every case) against the served version:
 * *out = NULL when nothing changed; otherwise the new version with the chosen serial,
 * already journaled (durable), for the caller to publish, then xfr_primary_published(). */
int xfr_primary_reload(xfr_primary_t *p, const zone_version_t *served, zone_version_t *file_v,
                       time_t now, zone_version_t **out) SD_NONNULL(1, 2, 3, 5) SD_WUR;

/* After zone_publish() of the version xfr_primary_reload() returned: add its change set to
 * the IXFR history. */
int xfr_primary_published(xfr_primary_t *p) SD_NONNULL(1) SD_WUR;

/* After NOTIFY went out: when the journal is over its limits (or no snapshot exists yet),
 * write the snapshot of v (the served version) and compact the journal. */
int xfr_primary_sync(xfr_primary_t *p, const zone_version_t *v) SD_NONNULL(1, 2) SD_WUR;

/* Change the serial policy (config reload). */
void xfr_primary_set_policy(xfr_primary_t *p, zone_serial_policy_t policy) SD_NONNULL(1);

/* Counters for status output. */
typedef struct xfr_primary_stats {
	uint32_t journal_depth;
	uint64_t journal_size;
	uint64_t changes; /* serials made since start */
} xfr_primary_stats_t;
void xfr_primary_stats(const xfr_primary_t *p, xfr_primary_stats_t *out) SD_NONNULL(1, 2);
