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

steer_plan_t *steer_memo_put(steer_memo_t *m, const steer_memo_key_t *k)
{
	steer_memo_entry_t *e = &m->e[steer_memo_slot(k)];
	e->key = *k;
	return &e->plan;
}

static unsigned tally_slot(const steer_memo_key_t *k)
{
	return (unsigned)(steer_memo_hash(k, NULL) >> 58);
}

const steer_tally_t *steer_memo_tally(const steer_memo_t *m, const steer_memo_key_t *k)
{
	const steer_memo_tally_t *e = &m->t[tally_slot(k)];
	return steer_memo_key_equal(&e->key, k, false) ? &e->tally : NULL;
}

steer_tally_t *steer_memo_put_tally(steer_memo_t *m, const steer_memo_key_t *k)
{
	steer_memo_tally_t *e = &m->t[tally_slot(k)];
	e->key = *k;
	e->key.order = NULL;
	return &e->tally;
}
