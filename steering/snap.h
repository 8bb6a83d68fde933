/* snap.h — what the workers steer with: the policy table plus, per policy, the candidates
 * the zone holds now and the prober target of each.
 *
 * The control thread builds a snapshot whenever the config or a zone version changes
 * (server/steer.h) and publishes it through a steer_pub_t (one RCU pointer, liburcu QSBR);
 * the workers' view (server/view.h) points at that publisher, so a zone commit republishes
 * the candidate map without rebuilding the view. A snapshot is immutable once published.
 *
 *   steer_pub_t ──current──▶ steer_snap_t ─┬─ table (policies, ref)
 *                                          ├─ per policy: entries[] sorted by address:
 *                                          │   { address, pool, weight, target id }
 *                                          └─ per geo policy: its compiled map (a reference,
 *                                              steering/geo.h): a replaced database is
 *                                              published with the next snapshot
 *
 * The answer path maps each record of a steered RRset to its entry by binary search (no
 * strings, no hash), reads the target's state word (health_target_state) and hands the lot
 * to steer_decide(). A record with no entry (a zone version newer than the snapshot) reads
 * as down until the snapshot catches up and its checks pass.
 */
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "health/health.h"
#include "steering/counts.h"
#include "steering/policy.h"

#define STEER_TARGET_NONE UINT32_MAX

typedef struct steer_entry {
	steer_addr_t addr;   /* the candidate; a CNAME candidate's probe address */
	const uint8_t *name; /* a CNAME candidate's target (in the table's member), else NULL */
	uint32_t target;     /* prober target id, STEER_TARGET_NONE: not probed (reads down) */
	/* the target's state word (health_target_word), resolved when the snapshot is built so
	 * that a query loads it directly; NULL: read through health_target_state by id */
	const _Atomic uint32_t *word;
	uint32_t weight;
	uint8_t pool;
} steer_entry_t;

typedef struct steer_cands {
	steer_entry_t *e; /* sorted by (len, bytes): IPv4 first */
	size_t n;
	size_t n4; /* e[0..n4) are IPv4, e[n4..n) IPv6: where an AAAA RRset's walk starts */
} steer_cands_t;

typedef struct steer_snap {
	uint64_t seq;               /* this snapshot's number: never reused (steering/memo.h) */
	steer_table_t *table;       /* a reference */
	steer_cands_t *cands;       /* [table->count], by policy id - 1 */
	struct steer_geo_map **geo; /* [table->count], by policy id - 1; NULL: no geo stage */
	/* the answer counters of table (counts.h), borrowed: the control thread (server/steer.c)
	 * frees them only after the snapshot is unpublished; NULL: not counted */
	steer_counts_t *counts;
} steer_snap_t;

/* A snapshot over table (a reference is taken) with no candidates. Control thread. */
int steer_snap_new(const steer_table_t *table, steer_snap_t **out) SD_NONNULL(1, 2) SD_WUR;
/* Set policy id's candidates (copied, sorted, duplicates dropped). Before publishing. */
int steer_snap_set(steer_snap_t *s, uint16_t id, const steer_entry_t *e, size_t n)
    SD_NONNULL(1) SD_WUR;
/* Set policy id's geo map (a reference is taken; NULL: none). Before publishing. */
void steer_snap_set_geo(steer_snap_t *s, uint16_t id, const struct steer_geo_map *m) SD_NONNULL(1);
/* Policy id's geo map or NULL. Any thread that may read s. Inline: once per geo answer. */
static inline const struct steer_geo_map *steer_snap_geo(const steer_snap_t *s, uint16_t id)
{
	return id >= 1 && id <= s->table->count ? s->geo[id - 1] : NULL;
}
/* The geo map of p, a policy of s's table (so its id needs no check), or NULL. Any thread
 * that may read s. Inline: once per geo answer. */
static inline const struct steer_geo_map *steer_snap_geo_of(const steer_snap_t *s,
                                                            const steer_policy_t *p)
{
	return s->geo[p->id - 1];
}
void steer_snap_free(steer_snap_t *s);

/* The entry of an address (rdata of length len, 4 or 16) under policy id, or NULL.
 * O(log n), no allocation; any thread that may read s. */
const steer_entry_t *steer_snap_find(const steer_snap_t *s, uint16_t id, const uint8_t *rdata,
                                     uint8_t len) SD_NONNULL(1, 3);

/* Fill c[i] for each of the count records of an A/AAAA RDATA run ([u16 len][rdata] each,
 * count <= STEER_CAND_MAX) of policy p — or of a CNAME run for a CNAME policy —: pool,
 * weight and the target's state word read from h (NULL: everything up). Any thread; no
 * allocation. */
void steer_snap_cands(const steer_snap_t *s, const steer_policy_t *p, const health_t *h,
                      const uint8_t *rdata, uint16_t count, steer_cand_t *c) SD_NONNULL(1, 2, 4, 6);

/* The publisher: one RCU pointer (QSBR). */
typedef struct steer_pub {
	steer_snap_t *current;
} steer_pub_t;

/* Workers, QSBR-online: the current snapshot or NULL. */
const steer_snap_t *steer_pub_current(const steer_pub_t *pub);
/* Control thread, registered with liburcu and QSBR-offline: publish next (may be NULL), wait
 * for a grace period, free the previous one. */
void steer_pub_swap(steer_pub_t *pub, steer_snap_t *next) SD_NONNULL(1);
