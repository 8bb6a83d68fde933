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

#include "contrib/base/compiler.h"
#include "contrib/base/strbuf.h"
#include "health/health.h"
#include "steering/snap.h"
#include "zone/bindings.h"
#include "zone/zone.h"

typedef struct srv_steer srv_steer_t;

int srv_steer_new(srv_steer_t **out) SD_NONNULL(1) SD_WUR;
/* Unpublish (waits for readers) and free; targets are left to the prober's own free. */
void srv_steer_free(srv_steer_t *st);

/* The publisher the workers' view points at (lives as long as st). */
const steer_pub_t *srv_steer_pub(const srv_steer_t *st) SD_NONNULL(1);

/* Use table (a reference is taken; NULL: no policies) from the next sync on. */
void srv_steer_configure(srv_steer_t *st, const steer_table_t *table) SD_NONNULL(1);
/* The prober (borrowed; it must outlive st's use of it); until it is set no target is made. */
void srv_steer_set_health(srv_steer_t *st, health_t *h) SD_NONNULL(1);

/* The bindings of zone apex under table (NULL: none): *out is NULL when no policy is bound
 * there, else a new table (caller unrefs). */
int srv_steer_bindings(const steer_table_t *table, const uint8_t *apex, zone_bindings_t **out)
    SD_NONNULL(2, 3) SD_WUR;

/* Rebuild the candidate map from the zones' current versions, make and remove targets,
 * publish. Control thread, registered with liburcu, QSBR-offline. Errors are logged; a
 * candidate whose target cannot be made reads as down. */
int srv_steer_sync(srv_steer_t *st, zone_t *const *zones, size_t count) SD_NONNULL(1);

/* `steerctl steering [NAME] [--json]`: every policy (or the one named), its pools, each
 * member's address, weight, target and health, and what an A and an AAAA answer hold now.
 * Returns 0 or SD_ENOTFOUND (no policy of that name). Control thread. */
int srv_steer_report(srv_steer_t *st, const char *name, bool json, sd_strbuf_t *out)
    SD_NONNULL(1, 4);
