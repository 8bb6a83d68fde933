/* zone.h — the daemon's side of a served zone as a primary (control thread).
 *
 * An xfr_zone_t sits beside each served zone (server/zonedb.c): it owns the zone's primary
 * state (journal, serial policy, IXFR history) and a copy of its transfer settings (ACL,
 * NOTIFY targets). The daemon's load path becomes:
 *
 *   file ─zone_load_file─▶ v ─xfr_zone_prepare─▶ version to publish (or none: unchanged)
 *        ─zone_publish─▶ xfr_zone_published: history, NOTIFY, zone file sync
 *
 * and after every change of the zone list or settings xfr_env_update() gives the workers a
 * new environment (keys, ACLs, histories) for server/xfr/serve.h.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "server/xfr/conf.h"
#include "server/xfr/notify.h"
#include "zone/load.h"
#include "zone/zone.h"

typedef struct xfr_zone xfr_zone_t;

/* name is for log lines; the journal and the snapshot of the served version are
 * <state_dir>/<name>.journal and .snapshot. conf is copied. The journal is opened here (a
 * torn tail truncated and logged). */
int xfr_zone_new(const uint8_t *apex, const char *name, const char *state_dir,
                 const xfr_zone_conf_t *conf, xfr_zone_t **out) SD_NONNULL(1, 2, 3, 4, 5) SD_WUR;
/* Replace the settings (config reload); the serial policy and ACL apply from now on. */
int xfr_zone_configure(xfr_zone_t *xz, const xfr_zone_conf_t *conf) SD_NONNULL(1, 2) SD_WUR;
void xfr_zone_free(xfr_zone_t *xz);

/* file_v is a freshly loaded version (ownership passes in every case); served is the
 * version being served or NULL at the first load. *out: the version to publish, or NULL when
 * the content did not change. */
int xfr_zone_prepare(xfr_zone_t *xz, const zone_version_t *served, zone_version_t *file_v,
                     zone_version_t **out) SD_NONNULL(1, 3, 4) SD_WUR;
/* After zone_publish(v) of what xfr_zone_prepare returned: IXFR history, NOTIFY to the
 * zone's targets (when a notifier is set), zone file and journal upkeep. */
void xfr_zone_published(xfr_zone_t *xz, const zone_version_t *v) SD_NONNULL(1, 2);

/* NOTIFY v's SOA to the zone's targets now (when a notifier is set): xfr_zone_published does
 * it for a new serial; the daemon also calls it once per zone at start (RFC 1996 has no
 * rule for it; Knot and BIND do it so secondaries catch up on changes made while we were
 * down). */
void xfr_zone_notify(xfr_zone_t *xz, const zone_version_t *v) SD_NONNULL(1, 2);

/* Two lines for steerctl status (no final newline): journal depth/size, history, settings;
 * transfer counters of this zone (summed over workers). Returns what snprintf returns. */
int xfr_zone_status(const xfr_zone_t *xz, char *buf, size_t size) SD_NONNULL(1, 2);
/* One line for NOTIFY target i: acknowledged serial, pending with retries left, rejected or
 * gave up. Returns 0 when i is past the last target, else what snprintf returns. */
int xfr_zone_notify_status(const xfr_zone_t *xz, size_t i, char *buf, size_t size) SD_NONNULL(1, 3);

/* The NOTIFY sender on the control loop (set once the loop exists; NULL: none). */
void xfr_set_notifier(xfr_notifier_t *n);
xfr_notifier_t *xfr_get_notifier(void);

/* Build the workers' environment from keys and zones[0..n) and publish it; the previous one
 * is freed after a grace period (this calls synchronize_rcu: the control thread must be
 * QSBR-offline). NULL keys/zero zones are fine. */
int xfr_env_update(const xfr_keys_t *keys, xfr_zone_t *const *zones, size_t n,
                   uint16_t udp_payload);
/* Unpublish and free the environment (shutdown). */
void xfr_env_clear(void);
