/* hidden.c — the transfer view's hidden sets (see hidden.h). */
#include "zone/hidden.h"
#include "zone/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "contrib/base/fsutil.h"

#define RR_FIXED 10 /* type, class, ttl, rdlength */
#define NOTE     "steerdns: hidden from transfers "

struct zone_hidden {
	unsigned refs; /* atomic (__atomic builtins) */
	size_t n;
	zone_rr_t *rr;   /* sorted by zone_rr_cmp, pointing into the same allocation */
	uint64_t sig[4]; /* a bit per sig() of the members: most records miss in two loads */
};

/* A cheap filter key: the first label's length and first byte (lowercased) and the type. An
 * AXFR asks for every record, so the common miss must not cost a name comparison. */
static unsigned sig(const zone_rr_t *rr)
{
	uint8_t c = rr->owner[0] ? rr->owner[1] : 0;
	c = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
	return (rr->owner[0] * 37u + c * 7u + rr->type) & 255u;
}

static int cmp_v(const void *a, const void *b)
{
	return zone_rr_cmp(a, b);
}

int zone_hidden_new(const zone_rr_t *list, size_t n, zone_hidden_t **out)
{
	*out = NULL;
	if (n == 0)
		return 0;
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += dname_len(list[i].owner) + list[i].rdlen;
	zone_hidden_t *h = malloc(sizeof(*h) + n * sizeof(zone_rr_t) + bytes);
	if (!h)
		return -ENOMEM;
	h->refs = 1;
	h->rr = (zone_rr_t *)(h + 1);
	uint8_t *p = (uint8_t *)(h->rr + n);
	for (size_t i = 0; i < n; i++) {
		size_t ol = dname_len(list[i].owner);
		h->rr[i] = list[i];
		memcpy(p, list[i].owner, ol);
		dname_lower(p);
		h->rr[i].owner = p;
		p += ol;
		if (list[i].rdlen)
			memcpy(p, list[i].rdata, list[i].rdlen);
		h->rr[i].rdata = p;
		p += list[i].rdlen;
	}
	qsort(h->rr, n, sizeof(zone_rr_t), cmp_v);
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (w == 0 || zone_rr_cmp(&h->rr[w - 1], &h->rr[i]) != 0)
			h->rr[w++] = h->rr[i];
	h->n = w;
	memset(h->sig, 0, sizeof(h->sig));
	for (size_t i = 0; i < w; i++) {
		unsigned b = sig(&h->rr[i]);
		h->sig[b >> 6] |= 1ull << (b & 63);
	}
	*out = h;
	return 0;
}

zone_hidden_t *zone_hidden_ref(const zone_hidden_t *h)
{
	zone_hidden_t *m = (zone_hidden_t *)h;
	if (m)
		__atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
	return m;
}

void zone_hidden_unref(zone_hidden_t *h)
{
	if (h && __atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(h);
}

size_t zone_hidden_count(const zone_hidden_t *h)
{
	return h ? h->n : 0;
}

void zone_hidden_at(const zone_hidden_t *h, size_t i, zone_rr_t *out)
{
	*out = h->rr[i];
}

static ssize_t find(const zone_hidden_t *h, const zone_rr_t *rr)
{
	size_t lo = 0, hi = h ? h->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = zone_rr_cmp(&h->rr[mid], rr);
		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

bool zone_hidden_has(const zone_hidden_t *h, const zone_rr_t *rr)
{
	if (!h)
		return false;
	unsigned b = sig(rr);
	return (h->sig[b >> 6] >> (b & 63) & 1) && find(h, rr) >= 0;
}

/* --- one change set --- */

typedef struct rrvec {
	zone_rr_t *v;
	size_t n, cap;
} rrvec_t;

static int vec_put(rrvec_t *x, const zone_rr_t *rr)
{
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 16;
		zone_rr_t *v = realloc(x->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n++] = *rr;
	return 0;
}

/* Mark in drop[] the members of h that it's records name. */
static void mark(const zone_hidden_t *h, zone_rr_iter_t it, bool *drop, size_t *hits)
{
	zone_rr_t rr;
	while (zone_rr_iter_next(&it, &rr)) {
		ssize_t i = find(h, &rr);
		if (i >= 0 && !drop[i]) {
			drop[i] = true;
			(*hits)++;
		}
	}
}

int zone_hidden_next(const zone_hidden_t *h, const zone_changeset_t *cs, zone_hidden_t **out)
{
	*out = NULL;
	size_t n = zone_hidden_count(h), hits = 0;
	bool *drop = calloc(n ? n : 1, sizeof(bool));
	if (!drop)
		return -ENOMEM;
	zone_rr_iter_t it;
	zone_changeset_removed(cs, &it);
	mark(h, it, drop, &hits);
	zone_changeset_unhidden(cs, &it);
	mark(h, it, drop, &hits);
	int rc = 0;
	if (hits == 0 && zone_changeset_hide_count(cs) == 0) {
		*out = zone_hidden_ref(h);
	} else {
		rrvec_t x = {0};
		zone_rr_t rr;
		for (size_t i = 0; rc == 0 && i < n; i++)
			if (!drop[i])
				rc = vec_put(&x, &h->rr[i]);
		zone_changeset_hidden(cs, &it);
		while (rc == 0 && zone_rr_iter_next(&it, &rr))
			rc = vec_put(&x, &rr);
		if (rc == 0)
			rc = zone_hidden_new(x.v, x.n, out);
		free(x.v);
	}
	free(drop);
	return rc;
}

/* The records of one section as a set (NULL when empty). */
static int section_set(const zone_changeset_t *cs,
                       void (*sec)(const zone_changeset_t *, zone_rr_iter_t *), zone_hidden_t **out)
{
	rrvec_t x = {0};
	zone_rr_iter_t it;
	zone_rr_t rr;
	int rc = 0;
	sec(cs, &it);
	while (rc == 0 && zone_rr_iter_next(&it, &rr))
		rc = vec_put(&x, &rr);
	if (rc == 0)
		rc = zone_hidden_new(x.v, x.n, out);
	free(x.v);
	return rc;
}

/* Copy the records of section sec that are in `in` (NULL: all) and not in `out_of`. */
static int put_filtered(zone_changeset_t *vis, bool add, const zone_changeset_t *cs,
                        void (*sec)(const zone_changeset_t *, zone_rr_iter_t *),
                        const zone_hidden_t *out_of)
{
	zone_rr_iter_t it;
	zone_rr_t rr;
	int rc = 0;
	sec(cs, &it);
	while (rc == 0 && zone_rr_iter_next(&it, &rr)) {
		if (zone_hidden_has(out_of, &rr))
			continue;
		rc = add ? zone_changeset_add(vis, &rr) : zone_changeset_remove(vis, &rr);
	}
	return rc;
}

int zone_changeset_visible(const zone_changeset_t *cs, zone_changeset_t **out)
{
	*out = NULL;
	zone_changeset_t *vis = NULL;
	zone_hidden_t *hide = NULL, *unhide = NULL, *rem = NULL, *add = NULL;
	zone_rr_t from, to;
	int rc = zone_changeset_new(&vis);
	if (rc == 0 && zone_changeset_soa_from(cs, &from) && zone_changeset_soa_to(cs, &to))
		rc = zone_changeset_set_soa(vis, &from, &to);
	bool view = zone_changeset_hide_count(cs) || zone_changeset_unhide_count(cs);
	if (rc == 0 && view)
		rc = section_set(cs, zone_changeset_hidden, &hide);
	if (rc == 0 && view)
		rc = section_set(cs, zone_changeset_unhidden, &unhide);
	if (rc == 0 && zone_changeset_hide_count(cs))
		rc = section_set(cs, zone_changeset_added, &add);
	if (rc == 0 && zone_changeset_unhide_count(cs))
		rc = section_set(cs, zone_changeset_removed, &rem);
	/* removed: (removed \ unhide) ∪ (hide \ added); added: (added \ hide) ∪ (unhide \ removed) */
	if (rc == 0)
		rc = put_filtered(vis, false, cs, zone_changeset_removed, unhide);
	if (rc == 0)
		rc = put_filtered(vis, false, cs, zone_changeset_hidden, add);
	if (rc == 0)
		rc = put_filtered(vis, true, cs, zone_changeset_added, hide);
	if (rc == 0)
		rc = put_filtered(vis, true, cs, zone_changeset_unhidden, rem);
	zone_hidden_unref(hide);
	zone_hidden_unref(unhide);
	zone_hidden_unref(rem);
	zone_hidden_unref(add);
	if (rc != 0) {
		zone_changeset_free(vis);
		return rc;
	}
	zone_changeset_copy_origin(vis, cs);
	*out = vis;
	return 0;
}

/* --- condensation --- */

typedef struct vop {
	zone_rr_t rr;
	size_t seq;
	bool in;
} vop_t;

static int cmp_vop(const void *pa, const void *pb)
{
	const vop_t *a = pa, *b = pb;
	int c = zone_rr_cmp(&a->rr, &b->rr);
	return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

int zone_hidden_condense(const zone_changeset_t *const *list, size_t n, zone_changeset_t *all)
{
	/* Per record, the last entry that names it decides; within an entry `hide` comes after
	 * `unhide` (H' = (H \ unhide) ∪ hide). A record removed while hidden is in its entry's
	 * unhide list (the commit's invariant), so `removed` needs no look. */
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += zone_changeset_hide_count(list[i]) + zone_changeset_unhide_count(list[i]);
	if (total == 0)
		return 0;
	vop_t *ops = malloc(total * sizeof(*ops));
	if (!ops)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		zone_rr_iter_t it;
		zone_changeset_unhidden(list[i], &it);
		while (k < total && zone_rr_iter_next(&it, &ops[k].rr)) {
			ops[k].seq = k;
			ops[k++].in = false;
		}
		zone_changeset_hidden(list[i], &it);
		while (k < total && zone_rr_iter_next(&it, &ops[k].rr)) {
			ops[k].seq = k;
			ops[k++].in = true;
		}
	}
	qsort(ops, k, sizeof(*ops), cmp_vop);
	int rc = 0;
	for (size_t g = 0; rc == 0 && g < k;) {
		size_t e = g + 1;
		while (e < k && zone_rr_cmp(&ops[g].rr, &ops[e].rr) == 0)
			e++;
		const vop_t *last = &ops[e - 1];
		rc = last->in ? zone_changeset_hide(all, &last->rr)
		              : zone_changeset_unhide(all, &last->rr);
		g = e;
	}
	free(ops);
	return rc;
}

/* --- versions --- */

const zone_hidden_t *zone_version_hidden(const zone_version_t *v)
{
	return v->hidden;
}

void zone_version_set_hidden(zone_version_t *v, const zone_hidden_t *h)
{
	zone_hidden_t *old = v->hidden;
	v->hidden = zone_hidden_ref(h);
	zone_hidden_unref(old);
}

/* --- the snapshot's note: NOTE then the records as wire RRs, in hex --- */

int zone_hidden_note(const zone_hidden_t *h, char **out)
{
	*out = NULL;
	size_t n = zone_hidden_count(h), bytes = 0;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		bytes += zone_rr_wire_size(&h->rr[i]);
	char *s = malloc(sizeof(NOTE) + 2 * bytes);
	if (!s)
		return -ENOMEM;
	char *p = s + sizeof(NOTE) - 1;
	memcpy(s, NOTE, sizeof(NOTE) - 1);
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		const zone_rr_t *r = &h->rr[i];
		uint8_t fixed[RR_FIXED];
		be16_put(be32_put(be16_put(be16_put(fixed, r->type), r->rclass), r->ttl), r->rdlen);
		const uint8_t *parts[] = {r->owner, fixed, r->rdata};
		size_t lens[] = {dname_len(r->owner), RR_FIXED, r->rdlen};
		for (size_t k = 0; k < 3; k++)
			for (size_t j = 0; j < lens[k]; j++) {
				*p++ = hex[parts[k][j] >> 4];
				*p++ = hex[parts[k][j] & 15];
			}
	}
	*p = '\0';
	*out = s;
	return 0;
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse the hex of a note into records (pointing into buf). */
static int note_parse(const char *hexs, uint8_t *buf, rrvec_t *x)
{
	size_t len = 0;
	for (; hexs[0] && hexs[0] != '\n'; hexs += 2) {
		int a = unhex(hexs[0]), b = hexs[1] ? unhex(hexs[1]) : -1;
		if (a < 0 || b < 0)
			return SD_EPARSE;
		buf[len++] = (uint8_t)(a << 4 | b);
	}
	for (size_t pos = 0; pos < len;) {
		size_t ol = dname_len_bounded(buf + pos, len - pos);
		if (ol == 0 || len - pos - ol < RR_FIXED)
			return SD_EPARSE;
		const uint8_t *f = buf + pos + ol;
		zone_rr_t rr = {.owner = buf + pos,
		                .type = be16_get(f),
		                .rclass = be16_get(f + 2),
		                .ttl = be32_get(f + 4),
		                .rdlen = be16_get(f + 8),
		                .rdata = f + RR_FIXED};
		if (len - pos - ol - RR_FIXED < rr.rdlen)
			return SD_EPARSE;
		int rc = vec_put(x, &rr);
		if (rc != 0)
			return rc;
		pos += ol + RR_FIXED + rr.rdlen;
	}
	return 0;
}

int zone_hidden_from_file(const char *path, zone_hidden_t **out)
{
	*out = NULL;
	int fd = sd_open_regular(path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t got = getline(&line, &cap, f);
	fclose(f);
	int rc = 0;
	const char *pre = "; " NOTE;
	if (got > 0 && strncmp(line, pre, strlen(pre)) == 0) {
		uint8_t *buf = malloc((size_t)got / 2 + 1);
		rrvec_t x = {0};
		rc = buf ? note_parse(line + strlen(pre), buf, &x) : -ENOMEM;
		if (rc == 0)
			rc = zone_hidden_new(x.v, x.n, out);
		free(x.v);
		free(buf);
	}
	free(line);
	return rc;
}
