#include "server/xfr/history.h"

#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "contrib/base/err.h"
#include "server/xfr/msg.h"

#define TYPE_SOA 6

/* ---------------------------------------------------------------- RR blobs */

static size_t owner_len(const uint8_t *p, size_t avail)
{
	for (size_t i = 0; i < avail && i < 255;) {
		if (p[i] == 0)
			return i + 1;
		if (p[i] > 63)
			return 0;
		i += p[i] + 1u;
	}
	return 0;
}

bool xfr_rr_next(const uint8_t *data, size_t len, size_t *pos, xfr_rr_t *rr)
{
	size_t p = *pos;
	if (p >= len)
		return false;
	size_t ol = owner_len(data + p, len - p);
	if (ol == 0 || len - p - ol < 10)
		return false;
	const uint8_t *f = data + p + ol;
	uint16_t rdlen = xfr_get16(f + 8);
	if (len - p - ol - 10 < rdlen)
		return false;
	rr->owner = data + p;
	rr->type = xfr_get16(f);
	rr->rclass = xfr_get16(f + 2);
	rr->ttl = xfr_get32(f + 4);
	rr->rdlen = rdlen;
	rr->rdata = f + 10;
	*pos = p + ol + 10 + rdlen;
	return true;
}

static int buf_reserve(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 256;
	while (ncap < need)
		ncap *= 2;
	uint8_t *n = realloc(*buf, ncap);
	if (n == NULL)
		return -ENOMEM;
	*buf = n;
	*cap = ncap;
	return 0;
}

static size_t rr_encode(uint8_t *p, const uint8_t *owner, size_t ol, uint16_t type,
			uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	memcpy(p, owner, ol);
	xfr_put16(p + ol, type);
	xfr_put16(p + ol + 2, rclass);
	xfr_put32(p + ol + 4, ttl);
	xfr_put16(p + ol + 8, rdlen);
	if (rdlen)
		memcpy(p + ol + 10, rdata, rdlen);
	return ol + 10 + rdlen;
}

/* ---------------------------------------------------------------- diff builder */

void xfr_diff_builder_init(xfr_diff_builder_t *b)
{
	memset(b, 0, sizeof(*b));
}

static void builder_soa(xfr_diff_builder_t *b, uint8_t **slot, size_t *slot_len,
			const uint8_t *rr, size_t len)
{
	if (*slot != NULL) {
		b->error = SD_ESEMANTIC; /* two SOAs on one side */
		return;
	}
	*slot = malloc(len);
	if (*slot == NULL) {
		b->error = -ENOMEM;
		return;
	}
	memcpy(*slot, rr, len);
	*slot_len = len;
}

void xfr_diff_builder_rr(xfr_diff_builder_t *b, int what, const uint8_t *owner, uint16_t type,
			 uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	size_t ol = owner_len(owner, 255);
	if (b->error != 0)
		return;
	if (ol == 0 || (rdlen > 0 && rdata == NULL) || (type == TYPE_SOA && rdlen < 22)) {
		b->error = SD_EPARSE;
		return;
	}
	bool add = what == XFR_DIFF_ADD;
	uint8_t **buf = add ? &b->add : &b->rem;
	size_t *len = add ? &b->add_len : &b->rem_len;
	size_t *cap = add ? &b->add_cap : &b->rem_cap;
	size_t need = ol + 10 + rdlen;
	int rc = buf_reserve(buf, cap, *len + need);
	if (rc != 0) {
		b->error = rc;
		return;
	}
	size_t n = rr_encode(*buf + *len, owner, ol, type, rclass, ttl, rdata, rdlen);
	if (type == TYPE_SOA) {
		/* keep the SOA apart: it frames the lists instead of belonging to them */
		if (add)
			builder_soa(b, &b->new_soa, &b->new_soa_len, *buf + *len, n);
		else
			builder_soa(b, &b->old_soa, &b->old_soa_len, *buf + *len, n);
		return;
	}
	*len += n;
	if (add)
		b->n_add++;
	else
		b->n_rem++;
}

static uint32_t soa_serial(const uint8_t *rr, size_t len)
{
	/* serial is the first of the five 32-bit fields that end the SOA RDATA */
	return xfr_get32(rr + len - 20);
}

int xfr_diff_builder_finish(xfr_diff_builder_t *b, xfr_diff_t **out)
{
	int rc = b->error;
	xfr_diff_t *d = NULL;
	if (rc == 0 && (b->old_soa == NULL || b->new_soa == NULL))
		rc = SD_ESEMANTIC;
	if (rc != 0)
		goto out;
	size_t total = b->old_soa_len + b->rem_len + b->new_soa_len + b->add_len;
	d = malloc(sizeof(*d) + total);
	if (d == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	d->from = soa_serial(b->old_soa, b->old_soa_len);
	d->to = soa_serial(b->new_soa, b->new_soa_len);
	d->removed = b->n_rem;
	d->added = b->n_add;
	d->refs = 1;
	d->len = total;
	uint8_t *p = d->data;
	memcpy(p, b->old_soa, b->old_soa_len);
	p += b->old_soa_len;
	if (b->rem_len)
		memcpy(p, b->rem, b->rem_len);
	p += b->rem_len;
	memcpy(p, b->new_soa, b->new_soa_len);
	p += b->new_soa_len;
	if (b->add_len)
		memcpy(p, b->add, b->add_len);
	*out = d;
out:
	free(b->rem);
	free(b->add);
	free(b->old_soa);
	free(b->new_soa);
	xfr_diff_builder_init(b);
	return rc;
}

xfr_diff_t *xfr_diff_ref(xfr_diff_t *d)
{
	__atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
	return d;
}

void xfr_diff_unref(xfr_diff_t *d)
{
	if (d != NULL && __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(d);
}

/* ---------------------------------------------------------------- condensation */

enum { NET_NONE = 0, NET_REMOVED, NET_ADDED };

typedef struct ckey {
	const uint8_t *rr; /* start of the wire RR inside an input diff */
	uint32_t len;
	uint32_t hash;
	uint8_t state;
} ckey_t;

static uint8_t lc(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Identity of an RR for condensation: owner (ASCII case-insensitive), type, class, TTL and
 * RDATA bytes. A TTL change is therefore a removal plus an addition, as in the journal. */
static uint32_t rr_hash(const uint8_t *rr, size_t len, size_t ol)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (i < ol ? lc(rr[i]) : rr[i])) * 16777619u;
	return h;
}

static bool rr_same(const ckey_t *k, const uint8_t *rr, size_t len, size_t ol)
{
	if (k->len != len)
		return false;
	for (size_t i = 0; i < ol; i++)
		if (lc(k->rr[i]) != lc(rr[i]))
			return false;
	return memcmp(k->rr + ol, rr + ol, len - ol) == 0;
}

typedef struct condenser {
	ckey_t *keys;
	uint32_t *table; /* index + 1 into keys; 0 = empty */
	size_t nkeys, mask;
} condenser_t;

static ckey_t *cond_lookup(condenser_t *c, const uint8_t *rr, size_t len)
{
	size_t ol = owner_len(rr, len);
	uint32_t h = rr_hash(rr, len, ol);
	for (size_t i = h & c->mask;; i = (i + 1) & c->mask) {
		if (c->table[i] == 0) {
			ckey_t *k = &c->keys[c->nkeys];
			*k = (ckey_t){.rr = rr, .len = (uint32_t)len, .hash = h, .state = NET_NONE};
			c->table[i] = (uint32_t)++c->nkeys;
			return k;
		}
		ckey_t *k = &c->keys[c->table[i] - 1];
		if (k->hash == h && rr_same(k, rr, len, ol))
			return k;
	}
}

/* Apply one step: removed RRs cancel earlier additions, added RRs cancel earlier removals. */
static void cond_step(condenser_t *c, const xfr_diff_t *d)
{
	size_t pos = 0;
	xfr_rr_t rr;
	uint32_t idx = 0;
	while (xfr_rr_next(d->data, d->len, &pos, &rr)) {
		size_t start = (size_t)(rr.owner - d->data);
		bool is_soa_slot = idx == 0 || idx == d->removed + 1;
		bool adding = idx > d->removed;
		idx++;
		if (is_soa_slot)
			continue;
		ckey_t *k = cond_lookup(c, rr.owner, pos - start);
		if (adding)
			k->state = k->state == NET_REMOVED ? NET_NONE : NET_ADDED;
		else
			k->state = k->state == NET_ADDED ? NET_NONE : NET_REMOVED;
	}
}

static size_t first_rr_len(const xfr_diff_t *d)
{
	size_t pos = 0;
	xfr_rr_t rr;
	return xfr_rr_next(d->data, d->len, &pos, &rr) ? pos : 0;
}

/* Locate the new SOA (the RR after the removed ones) in d. */
static const uint8_t *new_soa(const xfr_diff_t *d, size_t *len)
{
	size_t pos = 0;
	xfr_rr_t rr;
	for (uint32_t i = 0; xfr_rr_next(d->data, d->len, &pos, &rr); i++) {
		if (i == d->removed + 1) {
			*len = pos - (size_t)(rr.owner - d->data);
			return rr.owner;
		}
	}
	return NULL;
}

static size_t cond_emit(const condenser_t *c, uint8_t state, uint8_t *p, uint32_t *count)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nkeys; i++) {
		if (c->keys[i].state != state)
			continue;
		memcpy(p + n, c->keys[i].rr, c->keys[i].len);
		n += c->keys[i].len;
		(*count)++;
	}
	return n;
}

int xfr_diff_condense(xfr_diff_t *const *diffs, size_t n, xfr_diff_t **out)
{
	size_t rrs = 0, bytes = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && diffs[i]->from != diffs[i - 1]->to)
			return SD_ESEMANTIC;
		rrs += diffs[i]->removed + diffs[i]->added;
		bytes += diffs[i]->len;
	}
	if (n == 0)
		return SD_ENOTFOUND;
	size_t slots = 16;
	while (slots < 2 * rrs + 2)
		slots *= 2;
	condenser_t c = {.mask = slots - 1};
	size_t soa_old_len = first_rr_len(diffs[0]), soa_new_len = 0;
	const uint8_t *soa_new = new_soa(diffs[n - 1], &soa_new_len);
	if (soa_old_len == 0 || soa_new == NULL)
		return SD_EPARSE;
	c.keys = calloc(rrs + 1, sizeof(*c.keys));
	c.table = calloc(slots, sizeof(*c.table));
	xfr_diff_t *d = malloc(sizeof(*d) + bytes);
	int rc = 0;
	if (c.keys == NULL || c.table == NULL || d == NULL) {
		rc = -ENOMEM;
		free(d);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		cond_step(&c, diffs[i]);
	*d = (xfr_diff_t){.from = diffs[0]->from, .to = diffs[n - 1]->to, .refs = 1};
	uint8_t *p = d->data;
	memcpy(p, diffs[0]->data, soa_old_len);
	p += soa_old_len;
	p += cond_emit(&c, NET_REMOVED, p, &d->removed);
	memcpy(p, soa_new, soa_new_len);
	p += soa_new_len;
	p += cond_emit(&c, NET_ADDED, p, &d->added);
	d->len = (size_t)(p - d->data);
	*out = d;
out:
	free(c.keys);
	free(c.table);
	return rc;
}

/* ---------------------------------------------------------------- history */

struct xfr_hist_snap {
	struct rcu_head rcu;
	uint32_t refs;
	size_t count, bytes;
	xfr_diff_t *diffs[];
};

struct xfr_history {
	xfr_hist_snap_t *cur; /* RCU-protected */
	size_t max_depth, max_bytes;
};

static xfr_hist_snap_t *snap_alloc(size_t count)
{
	xfr_hist_snap_t *s = calloc(1, sizeof(*s) + count * sizeof(s->diffs[0]));
	if (s != NULL)
		s->refs = 1;
	return s;
}

void xfr_hist_snap_release(xfr_hist_snap_t *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < s->count; i++)
		xfr_diff_unref(s->diffs[i]);
	free(s);
}

static void snap_release_rcu(struct rcu_head *head)
{
	xfr_hist_snap_release(caa_container_of(head, xfr_hist_snap_t, rcu));
}

int xfr_history_new(size_t max_depth, size_t max_bytes, xfr_history_t **out)
{
	xfr_history_t *h = calloc(1, sizeof(*h));
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

void xfr_history_free(xfr_history_t *h)
{
	if (h == NULL)
		return;
	xfr_hist_snap_release(h->cur);
	free(h);
}

static void history_publish(xfr_history_t *h, xfr_hist_snap_t *s)
{
	xfr_hist_snap_t *old = h->cur;
	rcu_assign_pointer(h->cur, s);
	call_rcu(&old->rcu, snap_release_rcu);
}

int xfr_history_add(xfr_history_t *h, xfr_diff_t *d)
{
	const xfr_hist_snap_t *old = h->cur;
	size_t keep = old->count;
	if (keep > 0 && old->diffs[keep - 1]->to != d->from)
		keep = 0; /* discontinuity: an older chain can no longer reach the new serial */
	size_t first = old->count - keep;
	size_t bytes = d->len;
	for (size_t i = first; i < old->count; i++)
		bytes += old->diffs[i]->len;
	while (keep > 0 && (keep + 1 > h->max_depth || (h->max_bytes && bytes > h->max_bytes))) {
		bytes -= old->diffs[first]->len;
		first++;
		keep--;
	}
	bool fits = !h->max_bytes || d->len <= h->max_bytes;
	xfr_hist_snap_t *s = snap_alloc(fits ? keep + 1 : 0);
	if (s == NULL) {
		xfr_diff_unref(d);
		return -ENOMEM;
	}
	if (fits) {
		for (size_t i = 0; i < keep; i++)
			s->diffs[i] = xfr_diff_ref(old->diffs[first + i]);
		s->diffs[keep] = d;
		s->count = keep + 1;
		s->bytes = bytes;
	} else {
		xfr_diff_unref(d);
	}
	history_publish(h, s);
	return 0;
}

void xfr_history_clear(xfr_history_t *h)
{
	xfr_hist_snap_t *s = snap_alloc(0);
	if (s != NULL)
		history_publish(h, s);
}

xfr_hist_snap_t *xfr_history_acquire(const xfr_history_t *h)
{
	xfr_hist_snap_t *s = rcu_dereference(h->cur);
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

size_t xfr_hist_snap_count(const xfr_hist_snap_t *s)
{
	return s->count;
}

xfr_diff_t *xfr_hist_snap_diff(const xfr_hist_snap_t *s, size_t i)
{
	return i < s->count ? s->diffs[i] : NULL;
}

xfr_diff_t *const *xfr_hist_snap_diffs(const xfr_hist_snap_t *s)
{
	return s->diffs;
}

int xfr_hist_snap_find(const xfr_hist_snap_t *s, uint32_t serial, size_t *index)
{
	for (size_t i = 0; i < s->count; i++) {
		if (s->diffs[i]->from == serial) {
			*index = i;
			return 0;
		}
	}
	return SD_ENOTFOUND;
}
