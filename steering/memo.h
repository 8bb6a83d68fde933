/* memo.h — a worker's memory of steering plans, so that a steered answer draws from a plan
 * made once instead of classifying every candidate per query.
 *
 * Two levels: the tally of an RRset's candidates (policy.h: what the health words say of
 * them, the same for every geo order) and the plan of each (tally, geo order). A client from
 * a network whose geo list was not seen yet costs a plan from the kept tally (a walk over the
 * list's pools), not a new look at every candidate.
 *
 * A plan (steering/policy.h) depends on the policy, the candidates (the zone's RRset and the
 * snapshot's candidate map), the pool order of the geo stage and the health words. The key
 * names each by an identity that is never reused while a plan may be read:
 *   - the snapshot by its sequence number (steer_snap_t.seq: never reused), which also
 *     fixes the policy (by id) and the geo lists (order points into the snapshot's map);
 *   - the RRset by its zone version's id (zone_version_id: never reused) and its RDATA's
 *     address, which is stable for as long as that version lives: the caller passes the
 *     version the RRset was read from;
 *   - the health words by health_generation(), read before the words are (it grows after
 *     every change of any word: a plan made from older words is never taken after one).
 * So a plan found under its key is the plan the inputs would make now. The server keys an
 * RRset's plans and tallies by the policy id the RRset carries and keeps them only for a
 * policy that names the RRset's owner (server/engine/answer.c: steer_plan_for), so finding
 * one also says that the policy of that id is the RRset's. Entries are sets of four ways (a
 * fifth key of a set overwrites one: a miss costs one plan, never a wrong one).
 *
 * One memo per answering thread; no locks; nothing allocated after steer_memo_new.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "steering/policy.h"

typedef struct steer_memo_key {
	uint64_t snap;        /* steer_snap_t.seq */
	uint64_t version;     /* zone_version_id() of the version the RRset is read from */
	uint64_t health;      /* health_generation(), read before the words (0: no prober) */
	const uint8_t *rdata; /* the RRset's RDATA run */
	const uint8_t *order; /* the geo stage's pool list (steer_geo_list_t.order: lists of
	                       * one map that order the same pools share it), or NULL */
	uint16_t policy;      /* the policy's id */
} steer_memo_key_t;

/* Sets: powers of two, of four ways each (STEER_MEMO_WAYS): a key lives in any way of its
 * set, so up to four keys whose hashes meet all stay. A direct-mapped table lost ~a third
 * of 180 plans to such meetings at 256 slots; two ways of 256 sets still lost one query in
 * fourteen of the geo benchmark (~145 plans: 20 names × 8 pool orders) to sets that three
 * keys share, each a plan made again (~280 instructions); four ways of 128 sets keep them
 * in as much memory. 4 × 128 plans keep every policy × geo list of a few dozen steered
 * names and 4 × 32 tallies their RRsets (~270 KiB per answering thread). */
#define STEER_MEMO_SET_BITS   7
#define STEER_MEMO_TALLY_BITS 5
#define STEER_MEMO_SLOTS      (1 << STEER_MEMO_SET_BITS)
#define STEER_MEMO_TALLIES    (1 << STEER_MEMO_TALLY_BITS)
#define STEER_MEMO_WAYS       4

typedef struct steer_memo_entry {
	steer_memo_key_t key; /* key.rdata NULL: empty */
	steer_plan_t plan;
	/* the caller's own use: the server keeps how the plan's answers are counted, their
	 * outcome and the answer counter (steering/counts.h: steer_counts_at of the snapshot
	 * key.snap names, NULL: none) */
	uint64_t *count;
	unsigned outcome;
} steer_memo_entry_t;

typedef struct steer_memo_tally {
	steer_memo_key_t key; /* key.order unused (NULL); key.rdata NULL: empty */
	steer_tally_t tally;
} steer_memo_tally_t;

typedef struct steer_memo {
	steer_memo_entry_t e[STEER_MEMO_SLOTS][STEER_MEMO_WAYS];
	steer_memo_tally_t t[STEER_MEMO_TALLIES][STEER_MEMO_WAYS];
	uint8_t e_last[STEER_MEMO_SLOTS]; /* the way of each set written last (of a full set) */
	uint8_t t_last[STEER_MEMO_TALLIES];
} steer_memo_t;

/* Allocate an empty memo. 0 or -ENOMEM. Worker start. */
int steer_memo_new(steer_memo_t **out) SD_NONNULL(1) SD_WUR;
void steer_memo_free(steer_memo_t *m);

/* The slot hash of k's RRset, policy and order (NULL for a tally, which every order shares):
 * a table of 2^b slots takes its top b bits. */
static inline uint64_t steer_memo_hash(const steer_memo_key_t *k, const uint8_t *order)
{
	return ((uintptr_t)k->rdata ^ (uintptr_t)order * 31u ^ k->policy) * 0x9e3779b97f4a7c15u;
}

/* The set of k's plan: the hash's top STEER_MEMO_SET_BITS bits. */
static inline unsigned steer_memo_slot(const steer_memo_key_t *k)
{
	return (unsigned)(steer_memo_hash(k, k->order) >> (64 - STEER_MEMO_SET_BITS));
}

/* Does x, a kept key, equal k (the order too when `order`)? */
static inline bool steer_memo_key_equal(const steer_memo_key_t *x, const steer_memo_key_t *k,
                                        bool order)
{
	return x->rdata == k->rdata && (!order || x->order == k->order) && x->policy == k->policy &&
	       x->snap == k->snap && x->version == k->version && x->health == k->health &&
	       x->rdata != NULL;
}

/* The entry (its plan) kept under k, or NULL. Inline: once per steered RRset. */
static inline const steer_memo_entry_t *steer_memo_get(const steer_memo_t *m,
                                                       const steer_memo_key_t *k)
{
	const steer_memo_entry_t *e = m->e[steer_memo_slot(k)];
	for (unsigned w = 0; w < STEER_MEMO_WAYS; w++)
		if (steer_memo_key_equal(&e[w].key, k, true))
			return &e[w];
	return NULL;
}

/* The tally kept under k (its order ignored), or NULL. */
const steer_tally_t *steer_memo_tally(const steer_memo_t *m, const steer_memo_key_t *k)
    SD_NONNULL(1, 2);
/* The tally slot of k, keyed k from now on (as steer_memo_put). */
steer_tally_t *steer_memo_put_tally(steer_memo_t *m, const steer_memo_key_t *k) SD_NONNULL(1, 2);
/* The entry of k, keyed k from now on, for the caller to fill (the plan, count) before its
 * next steer_memo_get: the first way of k's set that is empty or holds a key of another
 * snapshot, zone version or health generation (which no query asks for any more), else the
 * way after the one written last, round the set (what it held is forgotten). */
steer_memo_entry_t *steer_memo_put(steer_memo_t *m, const steer_memo_key_t *k) SD_NONNULL(1, 2);
