/* steer.h — the server's steering glue: policy bindings for the zones, the prober targets of
 * the candidates, and the candidate map the workers read (control thread).
 *
 * The config's policy table (steering/conf.h) gives every zone a bindings table (owner ─▶
 * policy id, zone/bindings.h) that the zone registry hands the zone before it loads, so the
 * builder stamps the id on the steered RRsets. After every published zone version (file
 * reload, RFC 2136 commit, config reload) the registry calls srv_steer_sync(), which:
 *
 *   zones' current versions ─▶ A/AAAA at each policy's owner ─▶ classify (pool, weight)
 *     ─▶ a prober target per candidate ("OWNER/ADDRESS", the policy's template, pool label
 *        "OWNER/POOL"; kept when it exists: its schedule and state go on)
 *     ─▶ new snapshot published (steer_pub_swap: one RCU pointer, one grace period)
 *     ─▶ targets no candidate names any more are removed (after the swap: no worker can
 *        still read their ids, which the prober may reuse)
 *
 * The workers' view (server/view.h) points at the publisher, so a zone commit refreshes the
 * map without rebuilding the view. A candidate that appears under a policy already running
 * (zone reload, RFC 2136) starts down: it is answered once it passed its checks; the
 * candidates of the first sync and of a policy new in the config follow the template's
 * `initial` state (the name's records were answered before).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "contrib/base/strbuf.h"
#include "health/health.h"
#include "steering/snap.h"
#include "zone/bindings.h"
#include "zone/hidden.h"
#include "zone/zone.h"

typedef struct srv_steer srv_steer_t;

int srv_steer_new(srv_steer_t **out) SD_NONNULL(1) SD_WUR;
/* Unpublish (waits for readers) and free; targets are left to the prober's own free. */
void srv_steer_free(srv_steer_t *st);

/* The publisher the workers' view points at (lives as long as st). */
const steer_pub_t *srv_steer_pub(const srv_steer_t *st) SD_NONNULL(1);

/* Use table (a reference is taken; NULL: no policies) from the next sync on. */
void srv_steer_configure(srv_steer_t *st, const steer_table_t *table) SD_NONNULL(1);
/* The number of worker rows of the answer counters (steering/counts.h); set before the first
 * configure (0 counts as 1). */
void srv_steer_set_workers(srv_steer_t *st, unsigned nworkers) SD_NONNULL(1);

/* The steered answer counters of the published snapshot, summed over the workers: fn is
 * called for each policy's pools (pool: its name) and its all-down events (pool NULL), in
 * table order; name is the owner as configured. Nothing when no snapshot is published or
 * the counters could not be allocated. Control thread (a scrape, server/metrics.h). */
typedef void (*srv_steer_count_fn)(void *data, const char *name, const char *pool, uint64_t count);
void srv_steer_counts_each(const srv_steer_t *st, srv_steer_count_fn fn, void *data)
    SD_NONNULL(1, 2);

/* The prober (borrowed; it must outlive st's use of it); until it is set no target is made. */
void srv_steer_set_health(srv_steer_t *st, health_t *h) SD_NONNULL(1);

/* The bindings of zone apex under table (NULL: none): *out is NULL when no policy is bound
 * there, else a new table (caller unrefs). */
int srv_steer_bindings(const steer_table_t *table, const uint8_t *apex, zone_bindings_t **out)
    SD_NONNULL(2, 3) SD_WUR;

/* Rebuild the candidate map from the zones' current versions, make and remove targets,
 * publish (with each geo policy's compiled map: steering/geo.h). Control thread, registered with liburcu, QSBR-offline. Errors are logged; a
 * candidate whose target cannot be made reads as down. */
int srv_steer_sync(srv_steer_t *st, zone_t *const *zones, size_t count) SD_NONNULL(1);

/* The transfer view (issue 9): what AXFR/IXFR carry for a steered name. By default (policy
 * key transfer-view: healthy) the up members, with a weight, of the pool the failover stage
 * picks — all of them, not a weighted sample —, every candidate when no pool has an up
 * member (whatever all-down says: a secondary runs no policy, every candidate is its safest
 * answer), one CNAME for a CNAME policy; transfer-view: all sends every candidate. The zone
 * version carries the rest as its hidden set (zone/hidden.h); answers use every candidate.
 *
 * Called on a timer of the control loop (now_ms: a monotonic clock; a tick with nothing
 * changed does nothing, srv_steer_views_due), this first looks at the
 * geo databases' files (once a second, a stat(2) each): a replaced file is opened, its
 * policies' maps recompiled and published with a new snapshot (RCU; the old database closes
 * after the grace period), a file that does not open keeps the old one (logged with the
 * path). Then it compares each
 * policy's view with what its zone hides now and commits the difference as one transaction
 * per zone (source "health": a new serial, one journal entry, an IXFR step in which the
 * records leave or come back), subject to:
 *   - verdicts: while a candidate's target has none yet (HEALTH_STATE_PENDING: a start, a
 *     new candidate) the journaled view is kept — so a restart with unchanged health makes
 *     no serial;
 *   - the policy's transfer-hold-down H: at most one change per H per policy; a change that
 *     comes sooner waits, and what is committed when H ends is the state then (a flapping
 *     endpoint makes at most one serial per H);
 *   - hidden records whose policy is gone are shown again at once.
 * The zones whose serial changed are put in changed[0..*nchanged) (room for count): the
 * caller sends their NOTIFY (srv_zonedb_committed). A candidate a commit adds under a
 * running policy is hidden by the zones' hide hook until its checks pass. Control thread,
 * QSBR-offline. */
int srv_steer_views(srv_steer_t *st, zone_t *const *zones, size_t count, uint64_t now_ms,
                    zone_t **changed, size_t *nchanged) SD_NONNULL(1, 6);

/* Whether srv_steer_views has work at now_ms (which is noted as the clock of steerctl's
 * hold-down countdown: the control loop asks at every tick); when it has none,
 * srv_steer_views returns at once. The views are a function of the prober's state words, the published snapshot (the
 * zones' versions, the config) and the clock only through the hold-downs, so they are
 * computed again only when one of these changed since the last pass: a state word
 * (health_generation moved: a verdict, an override, a target added or removed), a sync or a
 * configure, a transfer-hold-down that ends (the earliest end the last pass saw), a commit
 * to try again (another transaction held the zone), or a geo database to look at (ndbs > 0,
 * once a second). Otherwise a tick of the control loop costs a few loads, not a pass over
 * every policy (~9,000 instructions per policy and second at 5 ticks a second before).
 * Control thread. */
bool srv_steer_views_due(srv_steer_t *st, uint64_t now_ms) SD_NONNULL(1);

/* `steerctl steering [NAME] [--client ADDR[/LEN]] [--json]`: every policy (or the one
 * named), its pools, each member's address, weight, target and health, and what an A and an
 * AAAA answer hold now (a geo policy: for client, as if it came as that ECS subnet, with the
 * rule it matched, the database network and scope and the pool list; without a client,
 * the default list). Returns 0, SD_EPARSE (a bad name or client) or SD_ENOTFOUND (no
 * policy of that name). Control thread. */
int srv_steer_report(srv_steer_t *st, const char *name, const char *client, bool json,
                     sd_strbuf_t *out) SD_NONNULL(1, 5);
