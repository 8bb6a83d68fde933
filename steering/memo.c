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
