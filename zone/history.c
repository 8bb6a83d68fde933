#include "zone/history.h"

#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "contrib/base/err.h"

/* ---------------------------------------------------------------- diffs */

int zone_diff_new(zone_changeset_t *cs, zone_diff_t **out)
{
	zone_diff_t *d = malloc(sizeof(*d));
	if (d == NULL) {
		zone_changeset_free(cs);
		return -ENOMEM;
	}
	d->refs = 1;
	d->from = zone_changeset_from(cs);
	d->to = zone_changeset_to(cs);
	d->bytes = zone_changeset_wire_size(cs);
	d->cs = cs;
	d->time = zone_changeset_origin(cs, &d->source);
	*out = d;
	return 0;
}

zone_diff_t *zone_diff_ref(zone_diff_t *d)
{
	__atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
	return d;
}

void zone_diff_unref(zone_diff_t *d)
{
	if (d == NULL || __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	zone_changeset_free(d->cs);
	free(d);
}

int zone_diff_condense(zone_diff_t *const *diffs, size_t n, zone_diff_t **out)
{
	if (n == 0)
		return SD_ENOTFOUND;
	const zone_changeset_t **list = calloc(n, sizeof(*list));
	if (list == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		list[i] = diffs[i]->cs;
	zone_changeset_t *cs = NULL;
	int rc = zone_changeset_condense(list, n, &cs);
	free(list);
	return rc == 0 ? zone_diff_new(cs, out) : rc;
}

/* ---------------------------------------------------------------- history */

struct zone_history_snap {
	struct rcu_head rcu;
	uint32_t refs;
	size_t count, bytes;
	zone_diff_t *diffs[];
};

struct zone_history {
	zone_history_snap_t *cur; /* RCU-protected */
	size_t max_depth, max_bytes;
};

static zone_history_snap_t *snap_alloc(size_t count)
{
	zone_history_snap_t *s = calloc(1, sizeof(*s) + count * sizeof(s->diffs[0]));
	if (s != NULL)
		s->refs = 1;
	return s;
}

void zone_history_snap_release(zone_history_snap_t *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < s->count; i++)
		zone_diff_unref(s->diffs[i]);
	free(s);
}

static void snap_release_rcu(struct rcu_head *head)
{
	zone_history_snap_release(caa_container_of(head, zone_history_snap_t, rcu));
}

int zone_history_new(size_t max_depth, size_t max_bytes, zone_history_t **out)
{
	zone_history_t *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->cur = snap_alloc(0);
	if (h->cur == NULL) {
		free(h);
		return -ENOMEM;
	}
	h->max_depth = max_depth ? max_depth : 1;
	h->max_bytes = max_bytes;
	*out = h;
	return 0;
}

void zone_history_free(zone_history_t *h)
{
	if (h == NULL)
		return;
	zone_history_snap_release(h->cur);
	free(h);
}

static void history_publish(zone_history_t *h, zone_history_snap_t *s)
{
	zone_history_snap_t *old = h->cur;
	rcu_assign_pointer(h->cur, s);
	call_rcu(&old->rcu, snap_release_rcu);
}

int zone_history_add(zone_history_t *h, zone_diff_t *d)
{
	const zone_history_snap_t *old = h->cur;
	size_t keep = old->count;
	if (keep > 0 && old->diffs[keep - 1]->to != d->from)
		keep = 0; /* discontinuity: an older chain can no longer reach the new serial */
	size_t first = old->count - keep;
	size_t bytes = d->bytes;
	for (size_t i = first; i < old->count; i++)
		bytes += old->diffs[i]->bytes;
	while (keep > 0 && (keep + 1 > h->max_depth || (h->max_bytes && bytes > h->max_bytes))) {
		bytes -= old->diffs[first]->bytes;
		first++;
		keep--;
	}
	bool fits = !h->max_bytes || d->bytes <= h->max_bytes;
	zone_history_snap_t *s = snap_alloc(fits ? keep + 1 : 0);
	if (s == NULL) {
		zone_diff_unref(d);
		return -ENOMEM;
	}
	if (fits) {
		for (size_t i = 0; i < keep; i++)
			s->diffs[i] = zone_diff_ref(old->diffs[first + i]);
		s->diffs[keep] = d;
		s->count = keep + 1;
		s->bytes = bytes;
	} else {
		zone_diff_unref(d);
	}
	history_publish(h, s);
	return 0;
}

void zone_history_set_limits(zone_history_t *h, size_t max_depth, size_t max_bytes)
{
	h->max_depth = max_depth ? max_depth : 1;
	h->max_bytes = max_bytes;
}

void zone_history_clear(zone_history_t *h)
{
	zone_history_snap_t *s = snap_alloc(0);
	if (s != NULL)
		history_publish(h, s);
}

zone_history_snap_t *zone_history_acquire(const zone_history_t *h)
{
	zone_history_snap_t *s = rcu_dereference(h->cur);
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

size_t zone_history_snap_count(const zone_history_snap_t *s)
{
	return s->count;
}

zone_diff_t *zone_history_snap_diff(const zone_history_snap_t *s, size_t i)
{
	return i < s->count ? s->diffs[i] : NULL;
}

zone_diff_t *const *zone_history_snap_diffs(const zone_history_snap_t *s)
{
	return s->diffs;
}

int zone_history_snap_find(const zone_history_snap_t *s, uint32_t serial, size_t *index)
{
	for (size_t i = 0; i < s->count; i++) {
		if (s->diffs[i]->from == serial) {
			*index = i;
			return 0;
		}
	}
	return SD_ENOTFOUND;
}
