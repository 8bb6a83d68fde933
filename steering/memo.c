/* memo.c — steering plans kept per worker (memo.h). */
#include "steering/memo.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

int steer_memo_new(steer_memo_t **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void steer_memo_free(steer_memo_t *m)
{
	free(m);
}

/* Is x, a kept key, of the same snapshot, version and health generation as k (a key no
 * query may find any more is not)? */
static bool key_current(const steer_memo_key_t *x, const steer_memo_key_t *k)
{
	return x->rdata != NULL && x->snap == k->snap && x->version == k->version &&
	       x->health == k->health;
}

/* The way of a set to write k in (memo.h: steer_memo_put): the first whose key no query asks
 * for any more, else the one after *last, the set's way written last. The set's keys lie
 * stride bytes apart from key0 (the key opens both kinds of entry). */
_Static_assert(offsetof(steer_memo_entry_t, key) == 0 && offsetof(steer_memo_tally_t, key) == 0,
               "way_for reads the keys at the entries' start");

static unsigned way_for(const void *key0, size_t stride, const steer_memo_key_t *k, uint8_t *last)
{
	unsigned way = (*last + 1u) % STEER_MEMO_WAYS;
	for (unsigned i = 0; i < STEER_MEMO_WAYS; i++) {
		const steer_memo_key_t *x = (const void *)((const char *)key0 + i * stride);
		if (!key_current(x, k)) {
			way = i;
			break;
		}
	}
	*last = (uint8_t)way;
	return way;
}

steer_memo_entry_t *steer_memo_put(steer_memo_t *m, const steer_memo_key_t *k)
{
	unsigned s = steer_memo_slot(k);
	steer_memo_entry_t *e = m->e[s];
	e += way_for(e, sizeof(*e), k, &m->e_last[s]);
	e->key = *k;
	return e;
}

static unsigned tally_slot(const steer_memo_key_t *k)
{
	return (unsigned)(steer_memo_hash(k, NULL) >> (64 - STEER_MEMO_TALLY_BITS));
}

const steer_tally_t *steer_memo_tally(const steer_memo_t *m, const steer_memo_key_t *k)
{
	const steer_memo_tally_t *e = m->t[tally_slot(k)];
	for (unsigned w = 0; w < STEER_MEMO_WAYS; w++)
		if (steer_memo_key_equal(&e[w].key, k, false))
			return &e[w].tally;
	return NULL;
}

steer_tally_t *steer_memo_put_tally(steer_memo_t *m, const steer_memo_key_t *k)
{
	unsigned s = tally_slot(k);
	steer_memo_tally_t *e = m->t[s];
	e += way_for(e, sizeof(*e), k, &m->t_last[s]);
	e->key = *k;
	e->key.order = NULL;
	return &e->tally;
}
