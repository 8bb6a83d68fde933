/* zoneconf.h — the daemon's per-zone transfer side (control thread): a zone's transfer
 * settings (ACL, NOTIFY targets), its NOTIFY state and status, and the workers' transfer
 * environment.
 *
 * The zone's content, serials, journal and IXFR history are the zone's own (zone/zone.h,
 * zone/update.h). An xfr_zone_t sits beside each served zone (server/zonedb.c) and does what
 * follows a commit there:
 *
 *   zone_update_commit ─▶ xfr_zone_committed: NOTIFY to the zone's targets, then zone_sync
 *                         (snapshot and journal compaction when due)
 *
 * and after every change of the zone list or settings xfr_env_new() builds the workers' new
 * transfer environment (keys, ACLs, histories) for server/xfr/serve.h, which the daemon
 * publishes inside its view (server/view.h). The NOTIFY sender is passed explicitly.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "server/xfr/conf.h"
#include "server/xfr/notify.h"
#include "server/xfr/serve.h"
#include "zone/zone.h"

typedef struct xfr_zone xfr_zone_t;

/* The transfer side of zone z (borrowed: it must outlive the xfr_zone_t); name is for log
 * lines; conf is copied. */
int xfr_zone_new(zone_t *z, const char *name, const xfr_zone_conf_t *conf, xfr_zone_t **out)
    SD_NONNULL(1, 2, 3, 4) SD_WUR;
/* Replace the settings (config reload); the serial policy and ACL apply from now on. */
int xfr_zone_configure(xfr_zone_t *xz, const xfr_zone_conf_t *conf) SD_NONNULL(1, 2) SD_WUR;
void xfr_zone_free(xfr_zone_t *xz);

/* After a commit that made a new serial (QSBR-offline): NOTIFY the zone's targets (through
 * notifier, the sender on the control loop; NULL: none yet), then the snapshot and journal upkeep (zone_sync; errors are logged, the
 * zone keeps serving from memory and journal). */
void xfr_zone_committed(xfr_zone_t *xz, xfr_notifier_t *notifier) SD_NONNULL(1);

/* NOTIFY v's SOA to the zone's targets now (when notifier is not NULL): xfr_zone_committed
 * does it for a new serial; the daemon also calls it once per zone at start (RFC 1996 has no
 * rule for it; Knot and BIND do it so secondaries catch up on changes made while we were
 * down). */
void xfr_zone_notify(xfr_zone_t *xz, const zone_version_t *v, xfr_notifier_t *notifier)
    SD_NONNULL(1, 2);

/* The zone's NOTIFY targets (its configured secondaries), valid until the next
 * xfr_zone_configure or xfr_zone_free. */
const xfr_notify_target_t *xfr_zone_notify_targets(const xfr_zone_t *xz, size_t *count)
    SD_NONNULL(1, 2);

/* What xfr_zone_status prints, as numbers (metrics, server/metrics.h). Control thread (the
 * transfer counters: relaxed loads of the workers' sums). */
typedef struct xfr_zone_stats {
	uint32_t journal_entries;
	uint64_t journal_bytes;
	size_t history_depth;  /* IXFR history: change sets kept in memory */
	uint32_t history_from; /* the oldest one's start serial (0 when empty) */
	uint64_t changes;      /* change sets published since start */
	uint64_t axfr_out, ixfr_out, ixfr_full_zone, refused;
} xfr_zone_stats_t;
void xfr_zone_stats(const xfr_zone_t *xz, xfr_zone_stats_t *out) SD_NONNULL(1, 2);

/* Two lines for steerctl status (no final newline): journal depth/size, history, settings;
 * transfer counters of this zone (summed over workers). Returns what snprintf returns. */
int xfr_zone_status(const xfr_zone_t *xz, char *buf, size_t size) SD_NONNULL(1, 2);
/* One line for NOTIFY target i: acknowledged serial, pending with retries left, rejected or
 * gave up. Returns 0 when i is past the last target, else what snprintf returns. */
int xfr_zone_notify_status(const xfr_zone_t *xz, xfr_notifier_t *notifier, size_t i, char *buf,
                           size_t size) SD_NONNULL(1, 4);

/* Build the workers' transfer environment from keys and zones[0..n) (copied: keys, ACLs;
 * borrowed: each zone's IXFR history and counters, alive as long as its xfr_zone_t). NULL
 * keys/zero zones are fine. Control thread. */
int xfr_env_new(const xfr_keys_t *keys, xfr_zone_t *const *zones, size_t n, uint16_t udp_payload,
                xfr_env_t **out) SD_NONNULL(5) SD_WUR;
void xfr_env_free(xfr_env_t *env);
