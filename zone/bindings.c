/* bindings.c — owner -> steering policy id tables (see bindings.h). */
#include "zone/bindings.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/err.h"

struct zone_bindings {
	unsigned refs; /* atomic (__atomic builtins) */
	size_t count;
	zone_binding_t list[]; /* canonical owner order */
};

static int cmp_binding(const void *a, const void *b)
{
	return dname_cmp_canonical(((const zone_binding_t *)a)->owner,
	                           ((const zone_binding_t *)b)->owner);
}

static bool valid(const zone_binding_t *bd)
{
	size_t len = dname_len_bounded(bd->owner, DNAME_MAX);
	if (len == 0 || bd->policy == 0)
		return false;
	uint8_t lower[DNAME_MAX];
	memcpy(lower, bd->owner, len);
	dname_lower(lower);
	return memcmp(lower, bd->owner, len) == 0;
}

int zone_bindings_new(const zone_binding_t *list, size_t n, zone_bindings_t **out)
{
	for (size_t i = 0; i < n; i++)
		if (!valid(&list[i]))
			return -EINVAL;
	zone_bindings_t *b = malloc(sizeof(*b) + n * sizeof(b->list[0]));
	if (!b)
		return -ENOMEM;
	b->refs = 1;
	b->count = n;
	if (n > 0)
		memcpy(b->list, list, n * sizeof(b->list[0]));
	if (n > 1)
		qsort(b->list, n, sizeof(b->list[0]), cmp_binding);
	for (size_t i = 1; i < n; i++) {
		if (dname_equal(b->list[i - 1].owner, b->list[i].owner)) {
			free(b);
			return -EINVAL;
		}
	}
	*out = b;
	return 0;
}

zone_bindings_t *zone_bindings_ref(const zone_bindings_t *b)
{
	zone_bindings_t *w = (zone_bindings_t *)b;
	__atomic_add_fetch(&w->refs, 1, __ATOMIC_RELAXED);
	return w;
}

void zone_bindings_unref(zone_bindings_t *b)
{
	if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(b);
}

const zone_binding_t *zone_bindings_find(const zone_bindings_t *b, const uint8_t *owner)
{
	if (!b || b->count == 0)
		return NULL;
	zone_binding_t key;
	memcpy(key.owner, owner, dname_len(owner));
	return bsearch(&key, b->list, b->count, sizeof(b->list[0]), cmp_binding);
}

size_t zone_bindings_count(const zone_bindings_t *b)
{
	return b ? b->count : 0;
}

const zone_binding_t *zone_bindings_at(const zone_bindings_t *b, size_t i)
{
	return &b->list[i];
}

bool zone_bindings_equal(const zone_bindings_t *a, const zone_bindings_t *b)
{
	size_t n = zone_bindings_count(a);
	if (n != zone_bindings_count(b))
		return false;
	for (size_t i = 0; i < n; i++) {
		const zone_binding_t *x = &a->list[i], *y = &b->list[i];
		if (!dname_equal(x->owner, y->owner) || x->policy != y->policy ||
		    x->flags != y->flags)
			return false;
	}
	return true;
}
