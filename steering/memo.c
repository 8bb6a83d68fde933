/* memo.c — steering plans kept per worker (memo.h). */
#include "steering/memo.h"

#include <errno.h>
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

/* The way of a set to write k in (memo.h: steer_memo_put); *last is the set's last way. */
static unsigned way_for(const steer_memo_key_t *w0, const steer_memo_key_t *w1,
                        const steer_memo_key_t *k, uint8_t *last)
{
	unsigned way = !key_current(w0, k) ? 0 : !key_current(w1, k) ? 1 : *last ^ 1u;
	*last = (uint8_t)way;
	return way;
}

steer_memo_entry_t *steer_memo_put(steer_memo_t *m, const steer_memo_key_t *k)
{
	unsigned s = steer_memo_slot(k);
	steer_memo_entry_t *e = m->e[s];
	e += way_for(&e[0].key, &e[1].key, k, &m->e_last[s]);
	e->key = *k;
	return e;
}

static unsigned tally_slot(const steer_memo_key_t *k)
{
	return (unsigned)(steer_memo_hash(k, NULL) >> 58);
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
	e += way_for(&e[0].key, &e[1].key, k, &m->t_last[s]);
	e->key = *k;
	e->key.order = NULL;
	return &e->tally;
}
