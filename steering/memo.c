/* memo.c — steering plans kept per worker (memo.h). */
#include "steering/memo.h"

#include <errno.h>
#include <stdlib.h>

/* Slots: a power of two. 256 keeps every policy × geo list of a few dozen steered names
 * (~100 KiB per answering thread). */
#define MEMO_SLOTS 256

typedef struct memo_entry {
	steer_memo_key_t key; /* key.rdata NULL: empty */
	steer_plan_t plan;
} memo_entry_t;

struct steer_memo {
	memo_entry_t e[MEMO_SLOTS];
};

int steer_memo_new(steer_memo_t **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void steer_memo_free(steer_memo_t *m)
{
	free(m);
}

static unsigned slot_of(const steer_memo_key_t *k)
{
	uint64_t x = (uintptr_t)k->rdata ^ (uintptr_t)k->order * 31u ^ k->policy;
	x *= 0x9e3779b97f4a7c15u;
	return (unsigned)(x >> 56) & (MEMO_SLOTS - 1);
}

static bool key_equal(const steer_memo_key_t *a, const steer_memo_key_t *b)
{
	return a->rdata == b->rdata && a->order == b->order && a->policy == b->policy &&
	       a->snap == b->snap && a->version == b->version && a->health == b->health;
}

const steer_plan_t *steer_memo_get(const steer_memo_t *m, const steer_memo_key_t *k)
{
	const memo_entry_t *e = &m->e[slot_of(k)];
	return e->key.rdata != NULL && key_equal(&e->key, k) ? &e->plan : NULL;
}

steer_plan_t *steer_memo_put(steer_memo_t *m, const steer_memo_key_t *k)
{
	memo_entry_t *e = &m->e[slot_of(k)];
	e->key = *k;
	return &e->plan;
}
