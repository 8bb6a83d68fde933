/* counts.c — per-worker steered answer counters (see counts.h). */
#include "steering/counts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ROW_ALIGN 8 /* u64 per 64-byte cache line */

int steer_counts_new(const steer_table_t *t, unsigned nworkers, steer_counts_t **out)
{
	*out = NULL;
	steer_counts_t *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->nworkers = nworkers ? nworkers : 1;
	c->npolicies = t->count;
	c->off = calloc(t->count ? t->count : 1, sizeof(*c->off));
	for (size_t i = 0; c->off && i < t->count; i++) {
		c->off[i] = (uint32_t)c->nslots;
		c->nslots += t->policies[i].npools + 1;
	}
	c->stride = (c->nslots + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
	if (c->stride == 0)
		c->stride = ROW_ALIGN;
	c->base = calloc(c->stride, sizeof(*c->base));
	size_t bytes = c->nworkers * c->stride * sizeof(*c->c);
	c->c = c->off && c->base ? aligned_alloc(64, bytes) : NULL;
	if (!c->c) {
		steer_counts_free(c);
		return -ENOMEM;
	}
	memset(c->c, 0, bytes);
	*out = c;
	return 0;
}

void steer_counts_free(steer_counts_t *c)
{
	if (!c)
		return;
	free(c->off);
	free(c->base);
	free(c->c);
	free(c);
}

uint64_t steer_counts_get(const steer_counts_t *c, uint16_t id, unsigned slot)
{
	if (id < 1 || id > c->npolicies)
		return 0;
	size_t i = c->off[id - 1] + slot;
	size_t end = id < c->npolicies ? c->off[id] : c->nslots;
	if (i >= end)
		return 0;
	uint64_t sum = c->base[i];
	for (unsigned w = 0; w < c->nworkers; w++)
		sum += sd_stat_get(&c->c[w * c->stride + i]);
	return sum;
}

static const steer_policy_t *policy_named(const steer_table_t *t, const uint8_t *owner)
{
	for (size_t i = 0; i < t->count; i++)
		if (dname_equal(t->policies[i].owner, owner))
			return &t->policies[i];
	return NULL;
}

void steer_counts_carry(steer_counts_t *to, const steer_table_t *to_table,
                        const steer_counts_t *from, const steer_table_t *from_table)
{
	for (size_t i = 0; i < to_table->count && i < to->npolicies; i++) {
		const steer_policy_t *p = &to_table->policies[i];
		const steer_policy_t *q = policy_named(from_table, p->owner);
		if (!q)
			continue;
		to->base[to->off[i] + p->npools] += steer_counts_get(from, q->id, q->npools);
		for (size_t k = 0; k < p->npools; k++)
			for (size_t j = 0; j < q->npools; j++)
				if (strcmp(p->pools[k].name, q->pools[j].name) == 0)
					to->base[to->off[i] + k] +=
					    steer_counts_get(from, q->id, (unsigned)j);
	}
}
