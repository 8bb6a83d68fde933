/* snap.c — the published candidate map (see snap.h). */
/* rcu_dereference() inline on the query path (allowed under any license, liburcu README) */
#define URCU_INLINE_SMALL_FUNCTIONS
#include "steering/snap.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "contrib/base/bytes.h"
#include "steering/geo.h"

int steer_snap_new(const steer_table_t *table, steer_snap_t **out)
{
	steer_snap_t *s = calloc(1, sizeof(*s));
	if (s)
		s->cands = calloc(table->count ? table->count : 1, sizeof(*s->cands));
	if (s && s->cands)
		s->geo = calloc(table->count ? table->count : 1, sizeof(*s->geo));
	if (!s || !s->cands || !s->geo) {
		if (s)
			free(s->cands);
		free(s);
		*out = NULL;
		return -ENOMEM;
	}
	static _Atomic uint64_t seq;
	s->seq = atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed) + 1;
	s->table = steer_table_ref(table);
	*out = s;
	return 0;
}

static int addr_cmp(const steer_addr_t *a, const uint8_t *bytes, uint8_t len)
{
	if (a->len != len)
		return a->len < len ? -1 : 1;
	if (len == 4) { /* the common case, without a call */
		uint32_t x = be32_get(a->bytes), y = be32_get(bytes);
		return x < y ? -1 : x > y;
	}
	return memcmp(a->bytes, bytes, len);
}

/* By address, then (CNAME candidates may share a probe address) by target. */
static int entry_cmp(const void *x, const void *y)
{
	const steer_entry_t *a = x, *b = y;
	int r = addr_cmp(&a->addr, b->addr.bytes, b->addr.len);
	if (r != 0 || a->name == b->name)
		return r;
	return (uintptr_t)a->name < (uintptr_t)b->name ? -1 : 1;
}

int steer_snap_set(steer_snap_t *s, uint16_t id, const steer_entry_t *e, size_t n)
{
	if (id < 1 || id > s->table->count)
		return -EINVAL;
	steer_cands_t *c = &s->cands[id - 1];
	steer_entry_t *copy = malloc((n ? n : 1) * sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	if (n)
		memcpy(copy, e, n * sizeof(*copy));
	qsort(copy, n, sizeof(*copy), entry_cmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || entry_cmp(&copy[k - 1], &copy[i]) != 0)
			copy[k++] = copy[i];
	free(c->e);
	c->e = copy;
	c->n = k;
	c->n4 = 0;
	while (c->n4 < k && copy[c->n4].addr.len == 4)
		c->n4++;
	return 0;
}

void steer_snap_set_geo(steer_snap_t *s, uint16_t id, const steer_geo_map_t *m)
{
	if (id < 1 || id > s->table->count)
		return;
	steer_geo_map_unref(s->geo[id - 1]);
	s->geo[id - 1] = m ? steer_geo_map_ref(m) : NULL;
}

void steer_snap_free(steer_snap_t *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->table->count; i++) {
		free(s->cands[i].e);
		steer_geo_map_unref(s->geo[i]);
	}
	free(s->cands);
	free(s->geo);
	steer_table_unref(s->table);
	free(s);
}

const steer_entry_t *steer_snap_find(const steer_snap_t *s, uint16_t id, const uint8_t *rdata,
                                     uint8_t len)
{
	if (id < 1 || id > s->table->count)
		return NULL;
	const steer_cands_t *c = &s->cands[id - 1];
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = addr_cmp(&c->e[mid].addr, rdata, len);
		if (r == 0)
			return &c->e[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Whether e is the address rd (of length len): no call, no byte swap. */
static bool entry_is(const steer_entry_t *e, const uint8_t *rd, uint16_t len)
{
	uint64_t a[2] = {0}, b[2] = {0};
	if (e->addr.len != len)
		return false;
	if (len == 4) {
		memcpy(a, e->addr.bytes, 4);
		memcpy(b, rd, 4);
		return a[0] == b[0];
	}
	memcpy(a, e->addr.bytes, 16);
	memcpy(b, rd, 16);
	return a[0] == b[0] && a[1] == b[1];
}

/* The entry of record rd in cs; *j is where the walk stands. Records come in canonical
 * RDATA order, which for fixed-length addresses is the entries' order, and the zone's RRset
 * is the one the snapshot was built from unless a newer version came: each record is then
 * the entry at *j, one compare. A record the walk misses (not in the map, or out of order)
 * is looked up by binary search, and the walk goes on after it. */
static const steer_entry_t *walk_find(const steer_snap_t *s, uint16_t id, const steer_cands_t *cs,
                                      size_t *j, const uint8_t *rd, uint16_t len)
{
	const steer_entry_t *e = NULL;
	if (*j < cs->n && entry_is(&cs->e[*j], rd, len))
		e = &cs->e[*j];
	else if (len == 4 || len == 16)
		e = steer_snap_find(s, id, rd, (uint8_t)len);
	if (e)
		*j = (size_t)(e - cs->e) + 1;
	return e;
}

static uint32_t entry_word(const steer_entry_t *e, const health_t *h)
{
	if (!h)
		return 0;
	if (e->word)
		return atomic_load_explicit(e->word, memory_order_acquire);
	return e->target == STEER_TARGET_NONE ? HEALTH_STATE_DOWN
	                                      : health_target_state(h, e->target);
}

/* CNAME candidates: entries by target name (a short linear walk). */
static void cname_cands(const steer_cands_t *cs, const steer_policy_t *p, const health_t *h,
                        const uint8_t *rdata, uint16_t count, steer_cand_t *c)
{
	size_t off = 0;
	for (uint16_t i = 0; i < count; i++) {
		const uint8_t *rd = rdata + off + 2;
		off += 2u + be16_get(rdata + off);
		const steer_entry_t *e = NULL;
		for (size_t k = 0; cs && k < cs->n && !e; k++)
			if (cs->e[k].name && dname_equal_ci(cs->e[k].name, rd))
				e = &cs->e[k];
		if (e) {
			c[i] = (steer_cand_t){
			    .pool = e->pool, .weight = e->weight, .health = entry_word(e, h)};
			continue;
		}
		const steer_member_t *m;
		steer_policy_classify_name(p, rd, &c[i].pool, &c[i].weight, &m);
		c[i].health = h ? HEALTH_STATE_DOWN : 0;
	}
}

void steer_snap_cands(const steer_snap_t *s, const steer_policy_t *p, const health_t *h,
                      const uint8_t *rdata, uint16_t count, steer_cand_t *c)
{
	const steer_cands_t *cs =
	    p->id >= 1 && p->id <= s->table->count ? &s->cands[p->id - 1] : NULL;
	if (p->cname) {
		cname_cands(cs, p, h, rdata, count, c);
		return;
	}
	size_t off = 0, j = cs && count > 0 && be16_get(rdata) == 16 ? cs->n4 : 0;
	for (uint16_t i = 0; i < count; i++) {
		uint16_t len = be16_get(rdata + off);
		const uint8_t *rd = rdata + off + 2;
		off += 2u + len;
		const steer_entry_t *e = cs ? walk_find(s, p->id, cs, &j, rd, len) : NULL;
		if (e) {
			c[i].pool = e->pool;
			c[i].weight = e->weight;
			c[i].health = entry_word(e, h);
			continue;
		}
		/* not in the map yet: classified, but down until probed */
		steer_addr_t a = {.len = (uint8_t)(len == 16 ? 16 : 4)};
		memcpy(a.bytes, rd, len == 16 ? 16 : (len < 4 ? len : 4));
		steer_policy_classify(p, &a, &c[i].pool, &c[i].weight);
		c[i].health = h ? HEALTH_STATE_DOWN : 0;
	}
}

const steer_snap_t *steer_pub_current(const steer_pub_t *pub)
{
	return pub ? rcu_dereference(pub->current) : NULL;
}

void steer_pub_swap(steer_pub_t *pub, steer_snap_t *next)
{
	steer_snap_t *prev = pub->current;
	rcu_assign_pointer(pub->current, next);
	synchronize_rcu();
	steer_snap_free(prev);
}
