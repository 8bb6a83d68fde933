/* counts.h — steered answers per policy and pool, per worker (metrics, issue 12).
 *
 * One block per policy table (steering/policy.h), made by the control thread when it
 * configures the table and handed to the workers in the steering snapshot (snap.h: counts),
 * so a worker finds it through its published view with no allocation and no lookup:
 *
 *   c[worker * stride + off[id - 1] + slot]   slot: the pool index, or npools: all-down
 *
 * Each worker writes only its own row (relaxed load + store, contrib/base/stat.h: no atomic
 * read-modify-write on the query path); rows are padded to 64 bytes so that two workers never
 * write one cache line. The control thread sums the rows on a scrape. base[] holds what
 * earlier tables counted for the same owner name and pool (steer_counts_carry at a reload):
 * the counters a scrape reports do not restart when the configuration is reloaded; a policy or
 * pool that a reload removes is no longer reported.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "contrib/base/stat.h"
#include "steering/policy.h"

typedef struct steer_counts {
	unsigned nworkers;
	size_t npolicies; /* of the table it was made for */
	size_t nslots;    /* slots per row in use: sum of (npools + 1) */
	size_t stride;    /* u64 per row: nslots rounded up to 8 (one cache line) */
	uint32_t *off;    /* [npolicies]: first slot of policy id - 1 */
	uint64_t *base;   /* [nslots]: carried over from earlier tables (control thread only) */
	uint64_t *c;      /* [nworkers * stride], 64-byte aligned */
} steer_counts_t;

/* A zeroed block for table t and nworkers rows (0 is taken as 1). Control thread. */
int steer_counts_new(const steer_table_t *t, unsigned nworkers, steer_counts_t **out)
    SD_NONNULL(1, 3) SD_WUR;
void steer_counts_free(steer_counts_t *c);

/* The slot of the all-down events of policy p (after its pools). */
static inline unsigned steer_counts_all_down(const steer_policy_t *p)
{
	return (unsigned)p->npools;
}

/* The counter of policy id's slot (a pool index, or steer_counts_all_down) on worker's row,
 * or NULL for out-of-range arguments: what steer_counts_inc counts, for a caller that
 * counts the same slot query after query (a kept plan, steering/memo.h). Pure. */
static inline uint64_t *steer_counts_at(steer_counts_t *c, unsigned worker, uint16_t id,
                                        unsigned slot)
{
	if (worker >= c->nworkers || id < 1 || id > c->npolicies)
		return NULL;
	size_t i = c->off[id - 1] + slot;
	size_t end = id < c->npolicies ? c->off[id] : c->nslots;
	return i < end ? &c->c[worker * c->stride + i] : NULL;
}

/* Count one answer of policy id in slot (a pool index, or steer_counts_all_down) on worker's
 * row. The owning worker only; out-of-range arguments count nothing. */
static inline void steer_counts_inc(steer_counts_t *c, unsigned worker, uint16_t id, unsigned slot)
{
	uint64_t *n = steer_counts_at(c, worker, id, slot);
	if (n != NULL)
		sd_stat_inc(n);
}

/* base + every worker's count of (id, slot); 0 out of range. Any thread (relaxed loads). */
uint64_t steer_counts_get(const steer_counts_t *c, uint16_t id, unsigned slot) SD_NONNULL(1);

/* Add to's base, for every policy of to_table whose owner and pool names from_table also has
 * (the all-down slot by owner), what from counts there. from must no longer be written (after
 * the grace period that unpublished it). Control thread. */
void steer_counts_carry(steer_counts_t *to, const steer_table_t *to_table,
                        const steer_counts_t *from, const steer_table_t *from_table)
    SD_NONNULL(1, 2, 3, 4);
