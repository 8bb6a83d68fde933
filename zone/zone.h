/* zone.h — a served zone: its identity (apex, source file) and its current version.
 *
 * A zone_t's contents are a zone_version_t (zone/version.h), immutable once published.
 * Workers read the current version with one atomic load (RCU, liburcu QSBR flavour) and never
 * lock; the control thread, the only publisher, builds a new version and publishes it; the
 * old one is freed after a grace period.
 */
#pragma once

#include <stdint.h>

#include "contrib/base/compiler.h"
#include "zone/version.h"

typedef struct zone zone_t;

/* New zone with no version; apex lowercased wire; file may be NULL. */
int zone_new(const uint8_t *apex, const char *file, zone_t **out) SD_NONNULL(1, 3) SD_WUR;
/* Free a zone that no reader can see any more (after a grace period), with its version. */
void zone_free(zone_t *z);
const uint8_t *zone_apex(const zone_t *z) SD_NONNULL(1);
const char *zone_file(const zone_t *z) SD_NONNULL(1);

/* Current version (NULL before the first publish). Workers: inside an RCU read-side section
 * (QSBR: an online thread between quiescent states). The control thread may also call it
 * while QSBR-offline, because it is the only thread that publishes: the version it reads
 * cannot be retired under it. */
const zone_version_t *zone_current(const zone_t *z) SD_NONNULL(1);

/* Control thread only: make v the current version; the previous one is freed after an RCU
 * grace period (call_rcu, never blocks). Takes ownership of v. The caller must be a thread
 * registered with liburcu-qsbr and online (call_rcu's rule). Call rcu_barrier() before exit to
 * run pending frees. */
void zone_publish(zone_t *z, zone_version_t *v) SD_NONNULL(1, 2);
