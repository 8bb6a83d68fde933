/* changeset.c — change sets: building, diff of two versions, apply, condense, serialization. */
#include "zone/changeset.h"
#include "zone/builder.h"
#include "zone/hidden.h"
#include "zone/overlay.h"
#include "contrib/base/bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "contrib/base/vec.h"
#include "dns/soa.h"

#define RR_FIXED 10 /* type, class, ttl, rdlength */

typedef struct rrbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t count;
} rrbuf_t;

struct zone_changeset {
	uint32_t from;
	uint32_t to;
	bool has_soa;
	rrbuf_t soa; /* SOA(from) then SOA(to) */
	rrbuf_t removed;
	rrbuf_t added;
	rrbuf_t hide;   /* the transfer view (zone/hidden.h): hidden from `to` on */
	rrbuf_t unhide; /* shown again, or removed while hidden */
	int64_t time;   /* origin: UTC seconds, 0 unknown */
	zone_source_kind_t src_kind;
	char src_text[ZONE_SOURCE_TEXT_MAX + 1];
};

/* --- wire helpers --- */

/* Read one RR at p[0..max); returns the bytes it takes or 0 when malformed. */
static size_t rr_read(const uint8_t *p, size_t max, zone_rr_t *rr)
{
	size_t n = dname_len_bounded(p, max);
	if (n == 0 || n + RR_FIXED > max)
		return 0;
	rr->owner = p;
	rr->type = be16_get(p + n);
	rr->rclass = be16_get(p + n + 2);
	rr->ttl = be32_get(p + n + 4);
	rr->rdlen = be16_get(p + n + 8);
	rr->rdata = p + n + RR_FIXED;
	n += RR_FIXED + rr->rdlen;
	return n <= max ? n : 0;
}

static int soa_serial(const zone_rr_t *rr, uint32_t *serial)
{
	if (rr->type != DNS_TYPE_SOA || !dns_soa_valid(rr->rdata, rr->rdlen))
		return SD_EPARSE;
	*serial = dns_soa_serial(rr->rdata, rr->rdlen);
	return 0;
}

size_t zone_rr_wire_size(const zone_rr_t *rr)
{
	return dname_len(rr->owner) + RR_FIXED + rr->rdlen;
}

bool zone_rr_iter_next(zone_rr_iter_t *it, zone_rr_t *rr)
{
	if (it->pos >= it->end)
		return false;
	size_t n = rr_read(it->pos, (size_t)(it->end - it->pos), rr);
	if (n == 0)
		return false; /* cannot happen for a buffer built or parsed here */
	it->pos += n;
	return true;
}

/* --- buffers --- */

static int rrbuf_reserve(rrbuf_t *b, size_t more)
{
	if (more > SIZE_MAX - b->len)
		return -ENOMEM;
	return sd_vec_grow(&b->data, &b->cap, b->len + more);
}

static int rrbuf_put(rrbuf_t *b, const zone_rr_t *rr)
{
	size_t on = dname_len(rr->owner);
	if (on > DNAME_MAX)
		return SD_EPARSE;
	int rc = rrbuf_reserve(b, on + RR_FIXED + rr->rdlen);
	if (rc < 0)
		return rc;
	uint8_t *p = b->data + b->len;
	memcpy(p, rr->owner, on);
	dname_lower(p);
	p = be16_put(be32_put(be16_put(be16_put(p + on, rr->type), rr->rclass), rr->ttl),
	             rr->rdlen);
	if (rr->rdlen)
		memcpy(p, rr->rdata, rr->rdlen);
	b->len += on + RR_FIXED + rr->rdlen;
	b->count++;
	return 0;
}

static void rrbuf_iter(const rrbuf_t *b, zone_rr_iter_t *it)
{
	it->pos = b->data;
	it->end = b->data ? b->data + b->len : NULL;
}

/* --- origin --- */

static const char *const source_names[] = {"unknown", "reload", "update", "health", "rollback"};

const char *zone_source_kind_name(zone_source_kind_t kind)
{
	return (unsigned)kind <= ZONE_SOURCE_KIND_MAX ? source_names[kind] : source_names[0];
}

bool zone_source_kind_parse(const char *name, zone_source_kind_t *out)
{
	for (unsigned k = 0; k <= ZONE_SOURCE_KIND_MAX; k++) {
		if (strcmp(name, source_names[k]) == 0) {
			*out = (zone_source_kind_t)k;
			return true;
		}
	}
	return false;
}

void zone_source_text_copy(char dst[ZONE_SOURCE_TEXT_MAX + 1], const char *text)
{
	size_t n = text ? strlen(text) : 0;
	if (n <= ZONE_SOURCE_TEXT_MAX) {
		memcpy(dst, text ? text : "", n + 1);
		return;
	}
	n = ZONE_SOURCE_TEXT_MAX - 3;
	memcpy(dst, text, n);
	memcpy(dst + n, "...", 4);
}

/* Whether the ", "-separated list holds item. */
static bool source_list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = list; (p = strstr(p, item)) != NULL; p++)
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

/* Room kept for " +N more" (N of up to 20 digits). */
#define SOURCE_MORE_ROOM 28

void zone_source_list_add(zone_source_list_t *l, const char *item)
{
	size_t n = strlen(item);
	if (source_list_has(l->text, item))
		return;
	if (l->len + 2 + n + SOURCE_MORE_ROOM > ZONE_SOURCE_TEXT_MAX) {
		l->more++;
		return;
	}
	if (l->len) {
		memcpy(l->text + l->len, ", ", 2);
		l->len += 2;
	}
	memcpy(l->text + l->len, item, n + 1);
	l->len += n;
}

const char *zone_source_list_text(zone_source_list_t *l)
{
	if (l->more)
		snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s+%zu more",
		         l->len ? " " : "", l->more);
	return l->text;
}

void zone_changeset_set_origin(zone_changeset_t *cs, int64_t time, const zone_source_t *src)
{
	cs->time = time;
	cs->src_kind =
	    (unsigned)src->kind <= ZONE_SOURCE_KIND_MAX ? src->kind : ZONE_SOURCE_UNKNOWN;
	zone_source_text_copy(cs->src_text, src->text);
}

int64_t zone_changeset_origin(const zone_changeset_t *cs, zone_source_t *src)
{
	src->kind = cs->src_kind;
	src->text = cs->src_text;
	return cs->time;
}

void zone_changeset_copy_origin(zone_changeset_t *dst, const zone_changeset_t *src)
{
	dst->time = src->time;
	dst->src_kind = src->src_kind;
	memcpy(dst->src_text, src->src_text, sizeof(dst->src_text));
}

/* --- building --- */

int zone_changeset_new(zone_changeset_t **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void zone_changeset_free(zone_changeset_t *cs)
{
	if (!cs)
		return;
	free(cs->soa.data);
	free(cs->removed.data);
	free(cs->added.data);
	free(cs->hide.data);
	free(cs->unhide.data);
	free(cs);
}

int zone_changeset_set_soa(zone_changeset_t *cs, const zone_rr_t *from, const zone_rr_t *to)
{
	uint32_t sf, st;
	if (soa_serial(from, &sf) < 0 || soa_serial(to, &st) < 0)
		return SD_EPARSE;
	rrbuf_t soa = {0};
	int rc = rrbuf_put(&soa, from);
	if (rc == 0)
		rc = rrbuf_put(&soa, to);
	if (rc < 0) {
		free(soa.data);
		return rc;
	}
	free(cs->soa.data);
	cs->soa = soa;
	cs->from = sf;
	cs->to = st;
	cs->has_soa = true;
	return 0;
}

int zone_changeset_remove(zone_changeset_t *cs, const zone_rr_t *rr)
{
	return rr->type == DNS_TYPE_SOA ? SD_ESEMANTIC : rrbuf_put(&cs->removed, rr);
}

int zone_changeset_add(zone_changeset_t *cs, const zone_rr_t *rr)
{
	return rr->type == DNS_TYPE_SOA ? SD_ESEMANTIC : rrbuf_put(&cs->added, rr);
}

int zone_changeset_hide(zone_changeset_t *cs, const zone_rr_t *rr)
{
	return rr->type == DNS_TYPE_SOA ? SD_ESEMANTIC : rrbuf_put(&cs->hide, rr);
}

int zone_changeset_unhide(zone_changeset_t *cs, const zone_rr_t *rr)
{
	return rr->type == DNS_TYPE_SOA ? SD_ESEMANTIC : rrbuf_put(&cs->unhide, rr);
}

size_t zone_changeset_hide_count(const zone_changeset_t *cs)
{
	return cs->hide.count;
}

size_t zone_changeset_unhide_count(const zone_changeset_t *cs)
{
	return cs->unhide.count;
}

void zone_changeset_hidden(const zone_changeset_t *cs, zone_rr_iter_t *it)
{
	rrbuf_iter(&cs->hide, it);
}

void zone_changeset_unhidden(const zone_changeset_t *cs, zone_rr_iter_t *it)
{
	rrbuf_iter(&cs->unhide, it);
}

uint32_t zone_changeset_from(const zone_changeset_t *cs)
{
	return cs->from;
}

uint32_t zone_changeset_to(const zone_changeset_t *cs)
{
	return cs->to;
}

static bool soa_at(const zone_changeset_t *cs, unsigned which, zone_rr_t *out)
{
	if (!cs->has_soa)
		return false;
	zone_rr_iter_t it;
	rrbuf_iter(&cs->soa, &it);
	for (unsigned i = 0; i <= which; i++) {
		if (!zone_rr_iter_next(&it, out))
			return false;
	}
	return true;
}

bool zone_changeset_soa_from(const zone_changeset_t *cs, zone_rr_t *out)
{
	return soa_at(cs, 0, out);
}

bool zone_changeset_soa_to(const zone_changeset_t *cs, zone_rr_t *out)
{
	return soa_at(cs, 1, out);
}

size_t zone_changeset_removed_count(const zone_changeset_t *cs)
{
	return cs->removed.count;
}

size_t zone_changeset_added_count(const zone_changeset_t *cs)
{
	return cs->added.count;
}

void zone_changeset_removed(const zone_changeset_t *cs, zone_rr_iter_t *it)
{
	rrbuf_iter(&cs->removed, it);
}

void zone_changeset_added(const zone_changeset_t *cs, zone_rr_iter_t *it)
{
	rrbuf_iter(&cs->added, it);
}

size_t zone_changeset_wire_size(const zone_changeset_t *cs)
{
	return cs->soa.len + cs->removed.len + cs->added.len;
}

/* --- record identity and order --- */

static int cmp_rdata(const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
	/* RFC 4034 6.3 style: octet strings, a missing octet sorts before zero. */
	int c = memcmp(a, b, la < lb ? la : lb);
	if (c)
		return c;
	return la < lb ? -1 : la > lb;
}

/* Owner (canonical order), type, class, RDATA; the TTL is not part of the identity. */
static int cmp_rr_key(const zone_rr_t *a, const zone_rr_t *b)
{
	int c = dname_cmp_canonical(a->owner, b->owner);
	if (c)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->rclass != b->rclass)
		return a->rclass < b->rclass ? -1 : 1;
	return cmp_rdata(a->rdata, a->rdlen, b->rdata, b->rdlen);
}

static int cmp_rr_key_v(const void *a, const void *b)
{
	return cmp_rr_key(a, b);
}

int zone_rr_cmp(const zone_rr_t *a, const zone_rr_t *b)
{
	return cmp_rr_key(a, b);
}

void zone_rrset_iter_start(zone_rrset_iter_t *w, const zone_node_t *node, const zone_rrset_t *rs)
{
	w->node = node;
	w->rs = rs;
	w->pos = rs->rdata;
	w->left = rs->count;
}

bool zone_rrset_iter_next(zone_rrset_iter_t *w, zone_rr_t *rr)
{
	if (w->left == 0)
		return false;
	rr->owner = w->node->owner;
	rr->type = w->rs->type;
	rr->rclass = DNS_CLASS_IN;
	rr->ttl = w->rs->ttl;
	rr->rdlen = be16_get(w->pos);
	rr->rdata = w->pos + 2;
	w->pos += 2u + rr->rdlen;
	w->left--;
	return true;
}

/* --- diff --- */

static int put_rrset(rrbuf_t *b, const zone_node_t *node, const zone_rrset_t *rs)
{
	zone_rrset_iter_t w;
	zone_rr_t rr;
	zone_rrset_iter_start(&w, node, rs);
	while (zone_rrset_iter_next(&w, &rr)) {
		int rc = rrbuf_put(b, &rr);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int put_node(rrbuf_t *b, const zone_node_t *node)
{
	for (uint16_t i = 0; i < node->rrset_count; i++) {
		if (node->rrsets[i].type == DNS_TYPE_SOA)
			continue;
		int rc = put_rrset(b, node, &node->rrsets[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The records of an RRset, in the version's order. */
static zone_rr_t *rrset_rrs(const zone_node_t *node, const zone_rrset_t *rs)
{
	zone_rr_t *v = malloc(sizeof(*v) * (rs->count ? rs->count : 1));
	if (!v)
		return NULL;
	zone_rrset_iter_t w;
	zone_rrset_iter_start(&w, node, rs);
	for (size_t i = 0; zone_rrset_iter_next(&w, &v[i]); i++)
		;
	return v;
}

int zone_changeset_diff_rrset(zone_changeset_t *cs, const zone_node_t *x, const zone_rrset_t *rs,
                              zone_rr_t *b, size_t nb)
{
	size_t na = rs ? rs->count : 0;
	zone_rr_t *a = rs ? rrset_rrs(x, rs) : NULL;
	if (rs && !a)
		return -ENOMEM;
	int rc = 0;
	if (na && nb && a[0].ttl != b[0].ttl) {
		/* A TTL change is remove + add of the whole RRset (RFC 2181 5.2: one TTL). */
		for (size_t i = 0; rc == 0 && i < na; i++)
			rc = rrbuf_put(&cs->removed, &a[i]);
		for (size_t j = 0; rc == 0 && j < nb; j++)
			rc = rrbuf_put(&cs->added, &b[j]);
		free(a);
		return rc;
	}
	/* identity is byte equality (the builder's order lowercases embedded names) */
	if (na)
		qsort(a, na, sizeof(*a), cmp_rr_key_v);
	if (nb)
		qsort(b, nb, sizeof(*b), cmp_rr_key_v);
	size_t i = 0, j = 0;
	while (rc == 0 && (i < na || j < nb)) {
		int c = i == na ? 1 : j == nb ? -1 : cmp_rr_key(&a[i], &b[j]);
		if (c < 0)
			rc = rrbuf_put(&cs->removed, &a[i++]);
		else if (c > 0)
			rc = rrbuf_put(&cs->added, &b[j++]);
		else
			i++, j++;
	}
	free(a);
	return rc;
}

static int diff_rrset(zone_changeset_t *cs, const zone_node_t *na, const zone_rrset_t *a,
                      const zone_node_t *nb, const zone_rrset_t *b)
{
	if (a->ttl == b->ttl && a->rdata_len == b->rdata_len &&
	    memcmp(a->rdata, b->rdata, a->rdata_len) == 0)
		return 0; /* unchanged, the common case */
	zone_rr_t *vb = rrset_rrs(nb, b);
	int rc = vb ? zone_changeset_diff_rrset(cs, na, a, vb, b->count) : -ENOMEM;
	free(vb);
	return rc;
}

static int diff_node(zone_changeset_t *cs, const zone_node_t *a, const zone_node_t *b)
{
	uint16_t i = 0, j = 0;
	int rc = 0;
	while (rc == 0 && (i < a->rrset_count || j < b->rrset_count)) {
		const zone_rrset_t *ra = i < a->rrset_count ? &a->rrsets[i] : NULL;
		const zone_rrset_t *rb = j < b->rrset_count ? &b->rrsets[j] : NULL;
		int c = !ra ? 1 : !rb ? -1 : (ra->type > rb->type) - (ra->type < rb->type);
		if (c < 0) {
			rc = ra->type == DNS_TYPE_SOA ? 0 : put_rrset(&cs->removed, a, ra);
			i++;
		} else if (c > 0) {
			rc = rb->type == DNS_TYPE_SOA ? 0 : put_rrset(&cs->added, b, rb);
			j++;
		} else {
			rc = ra->type == DNS_TYPE_SOA ? 0 : diff_rrset(cs, a, ra, b, rb);
			i++, j++;
		}
	}
	return rc;
}

void zone_version_soa_rr(const zone_version_t *v, zone_rr_t *rr)
{
	const zone_rrset_t *soa = zone_version_soa(v);
	rr->owner = zone_version_apex(v)->owner;
	rr->type = DNS_TYPE_SOA;
	rr->rclass = DNS_CLASS_IN;
	rr->ttl = soa->ttl;
	rr->rdlen = be16_get(soa->rdata);
	rr->rdata = soa->rdata + 2;
}

/* Canonical order of two nodes' owners. Owners are lowercased: equal bytes are equal names,
 * the common case of a diff, tested before the label-by-label comparison. */
static int node_cmp(const zone_node_t *a, const zone_node_t *b)
{
	if (a->owner_len == b->owner_len && memcmp(a->owner, b->owner, a->owner_len) == 0)
		return 0;
	return dname_cmp_canonical(a->owner, b->owner);
}

int zone_changeset_diff(const zone_version_t *old, const zone_version_t *new,
                        zone_changeset_t **out)
{
	*out = NULL;
	if (!dname_equal(zone_version_apex(old)->owner, zone_version_apex(new)->owner))
		return SD_ESEMANTIC;
	zone_changeset_t *cs = NULL;
	int rc = zone_changeset_new(&cs);
	if (rc < 0)
		return rc;
	zone_rr_t from, to;
	zone_version_soa_rr(old, &from);
	zone_version_soa_rr(new, &to);
	rc = zone_changeset_set_soa(cs, &from, &to);
	zone_version_iter_t ia, ib;
	zone_version_iter_init(old, &ia);
	zone_version_iter_init(new, &ib);
	const zone_node_t *a = zone_version_iter_next(&ia), *b = zone_version_iter_next(&ib);
	/* Merge walk: both iterators are in canonical order. */
	while (rc == 0 && (a || b)) {
		int c = !a ? 1 : !b ? -1 : node_cmp(a, b);
		if (c < 0) {
			rc = put_node(&cs->removed, a);
			a = zone_version_iter_next(&ia);
		} else if (c > 0) {
			rc = put_node(&cs->added, b);
			b = zone_version_iter_next(&ib);
		} else {
			rc = diff_node(cs, a, b);
			a = zone_version_iter_next(&ia);
			b = zone_version_iter_next(&ib);
		}
	}
	if (rc < 0) {
		zone_changeset_free(cs);
		return rc;
	}
	*out = cs;
	return 0;
}

/* --- apply --- */

/* The RRs of a section in an array sorted by identity. */
static int section_sorted(const rrbuf_t *b, zone_rr_t **out)
{
	*out = malloc(sizeof(**out) * (b->count ? b->count : 1));
	if (!*out)
		return -ENOMEM;
	zone_rr_iter_t it;
	rrbuf_iter(b, &it);
	for (size_t i = 0; i < b->count && zone_rr_iter_next(&it, &(*out)[i]); i++)
		;
	qsort(*out, b->count, sizeof(**out), cmp_rr_key_v);
	return 0;
}

static void log_rr(const char *what, const zone_rr_t *rr)
{
	char name[DNAME_MAX * 4 + 1], type[16];
	log_error("change set %s: %s %s", what, dname_to_str(rr->owner, name, sizeof(name)),
	          zone_type_to_str(rr->type, type));
}

typedef struct apply_state {
	zone_builder_t *b;
	const zone_rr_t *rem;
	size_t nrem;
	bool *matched;
	const zone_rr_t *add;
	size_t nadd;
} apply_state_t;

/* Carry one record of the old version into the builder unless it is removed. */
static int apply_keep(apply_state_t *st, const zone_rr_t *rr)
{
	const zone_rr_t *hit = bsearch(rr, st->rem, st->nrem, sizeof(*rr), cmp_rr_key_v);
	if (hit) {
		st->matched[hit - st->rem] = true;
		return 0;
	}
	if (bsearch(rr, st->add, st->nadd, sizeof(*rr), cmp_rr_key_v)) {
		log_rr("adds a record that exists", rr);
		return SD_ESEMANTIC;
	}
	return zone_builder_add(st->b, rr->owner, rr->type, rr->rclass, rr->ttl, rr->rdata,
	                        rr->rdlen, NULL);
}

static int apply_walk(apply_state_t *st, const zone_version_t *old)
{
	zone_version_iter_t it;
	zone_version_iter_init(old, &it);
	for (const zone_node_t *n; (n = zone_version_iter_next(&it)) != NULL;) {
		for (uint16_t k = 0; k < n->rrset_count; k++) {
			if (n->rrsets[k].type == DNS_TYPE_SOA)
				continue;
			zone_rrset_iter_t w;
			zone_rr_t rr;
			zone_rrset_iter_start(&w, n, &n->rrsets[k]);
			while (zone_rrset_iter_next(&w, &rr)) {
				int rc = apply_keep(st, &rr);
				if (rc < 0)
					return rc;
			}
		}
	}
	for (size_t i = 0; i < st->nrem; i++) {
		if (!st->matched[i]) {
			log_rr("removes a missing record", &st->rem[i]);
			return SD_ESEMANTIC;
		}
	}
	return 0;
}

static int apply_add(zone_builder_t *b, const zone_changeset_t *cs)
{
	zone_rr_t rr;
	zone_rr_iter_t it;
	zone_changeset_soa_to(cs, &rr);
	int rc =
	    zone_builder_add(b, rr.owner, rr.type, rr.rclass, rr.ttl, rr.rdata, rr.rdlen, NULL);
	zone_changeset_added(cs, &it);
	while (rc == 0 && zone_rr_iter_next(&it, &rr))
		rc = zone_builder_add(b, rr.owner, rr.type, rr.rclass, rr.ttl, rr.rdata, rr.rdlen,
		                      NULL);
	return rc;
}

static bool applies(const zone_version_t *old, const zone_changeset_t *cs)
{
	if (cs->has_soa && zone_version_serial(old) == cs->from)
		return true;
	log_error("change set %u -> %u does not apply to serial %u", cs->from, cs->to,
	          zone_version_serial(old));
	return false;
}

/* The new version *out (rc 0) takes the hidden set cs makes of old's (zone/hidden.h). */
static int apply_hidden(const zone_version_t *old, const zone_changeset_t *cs, int rc,
                        zone_version_t **out)
{
	zone_hidden_t *h = NULL;
	if (rc == 0)
		rc = zone_hidden_next(zone_version_hidden(old), cs, &h);
	if (rc == 0)
		zone_version_set_hidden(*out, h);
	zone_hidden_unref(h);
	if (rc != 0 && *out) {
		zone_version_unref(*out);
		*out = NULL;
	}
	return rc;
}

int zone_changeset_apply(const zone_version_t *old, const zone_changeset_t *cs,
                         const zone_bindings_t *bindings, zone_version_t **out)
{
	*out = NULL;
	if (!applies(old, cs))
		return SD_ESEMANTIC;
	int rc = zone_overlay_apply(old, cs, bindings, out);
	if (rc == SD_ELIMIT)
		return zone_changeset_apply_full(old, cs, bindings, out);
	return apply_hidden(old, cs, rc, out);
}

int zone_changeset_apply_full(const zone_version_t *old, const zone_changeset_t *cs,
                              const zone_bindings_t *bindings, zone_version_t **out)
{
	*out = NULL;
	if (!applies(old, cs))
		return SD_ESEMANTIC;
	apply_state_t st = {.nrem = cs->removed.count, .nadd = cs->added.count};
	zone_rr_t *rem = NULL, *add = NULL;
	int rc = section_sorted(&cs->removed, &rem);
	if (rc == 0)
		rc = section_sorted(&cs->added, &add);
	st.matched = calloc(st.nrem ? st.nrem : 1, sizeof(bool));
	if (rc == 0 && !st.matched)
		rc = -ENOMEM;
	if (rc == 0)
		rc = zone_builder_new(zone_version_apex(old)->owner, bindings, &st.b);
	if (rc < 0)
		goto out;
	st.rem = rem;
	st.add = add;
	rc = apply_walk(&st, old);
	if (rc == 0)
		rc = apply_add(st.b, cs);
	if (rc == 0) {
		rc = zone_builder_finish(st.b, out);
		st.b = NULL;
		rc = apply_hidden(old, cs, rc, out);
	}
out:
	if (st.b)
		zone_builder_free(st.b);
	free(st.matched);
	free(add);
	free(rem);
	return rc;
}

/* --- condense --- */

typedef struct op {
	zone_rr_t rr;
	size_t seq; /* order of the operation across the whole chain */
	bool add;
} op_t;

static int cmp_op(const void *pa, const void *pb)
{
	const op_t *a = pa, *b = pb;
	int c = cmp_rr_key(&a->rr, &b->rr);
	if (c)
		return c;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static size_t collect_ops(const zone_changeset_t *const *list, size_t n, op_t *ops)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		zone_rr_iter_t it;
		/* Within one change set the removals come first (RFC 1995 4). */
		rrbuf_iter(&list[i]->removed, &it);
		while (zone_rr_iter_next(&it, &ops[k].rr)) {
			ops[k].seq = k;
			ops[k++].add = false;
		}
		rrbuf_iter(&list[i]->added, &it);
		while (zone_rr_iter_next(&it, &ops[k].rr)) {
			ops[k].seq = k;
			ops[k++].add = true;
		}
	}
	return k;
}

/* One record's operations ops[0..n) in order: the net effect. The first operation tells
 * whether the record existed before the chain (a removal) and the last whether it exists
 * after it (an addition). */
static int condense_group(zone_changeset_t *cs, const op_t *ops, size_t n)
{
	const op_t *first = &ops[0], *last = &ops[n - 1];
	bool before = !first->add, after = last->add;
	if (before && after && first->rr.ttl == last->rr.ttl)
		return 0; /* removed and put back unchanged */
	int rc = before ? rrbuf_put(&cs->removed, &first->rr) : 0;
	if (rc == 0 && after)
		rc = rrbuf_put(&cs->added, &last->rr);
	return rc;
}

static int condense_soa(zone_changeset_t *cs, const zone_changeset_t *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!list[i]->has_soa || (i > 0 && list[i - 1]->to != list[i]->from))
			return SD_ESEMANTIC;
	}
	zone_rr_t from, to;
	zone_changeset_soa_from(list[0], &from);
	zone_changeset_soa_to(list[n - 1], &to);
	return zone_changeset_set_soa(cs, &from, &to);
}

int zone_changeset_condense(const zone_changeset_t *const *list, size_t n, zone_changeset_t **out)
{
	*out = NULL;
	if (n == 0)
		return SD_ESEMANTIC;
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += list[i]->removed.count + list[i]->added.count;
	zone_changeset_t *cs = NULL;
	op_t *ops = malloc(sizeof(*ops) * (total ? total : 1));
	int rc = ops ? zone_changeset_new(&cs) : -ENOMEM;
	if (rc == 0)
		rc = condense_soa(cs, list, n);
	if (rc < 0)
		goto out;
	total = collect_ops(list, n, ops);
	qsort(ops, total, sizeof(*ops), cmp_op);
	for (size_t g = 0; rc == 0 && g < total;) {
		size_t e = g + 1;
		while (e < total && cmp_rr_key(&ops[g].rr, &ops[e].rr) == 0)
			e++;
		rc = condense_group(cs, ops + g, e - g);
		g = e;
	}
	if (rc == 0)
		rc = zone_hidden_condense(list, n, cs);
out:
	free(ops);
	if (rc < 0) {
		zone_changeset_free(cs);
		return rc;
	}
	*out = cs;
	return 0;
}

/* --- serialization ---
 *
 *   u32 soa_len  | SOA(from) SOA(to)
 *   u32 count | u32 len | removed RRs
 *   u32 count | u32 len | added RRs
 *   [ u32 "SDHV" | u32 count | u32 len | hide RRs | u32 count | u32 len | unhide RRs ]
 *
 * The bracketed tail (the transfer view, zone/hidden.h) is written only when either list is
 * non-empty, so entries without it read as they always did and older journals load.
 */

#define VIEW_TAG 0x53444856u /* "SDHV" */

static uint8_t *put_section(uint8_t *p, const rrbuf_t *b, bool with_count)
{
	if (with_count)
		p = be32_put(p, (uint32_t)b->count);
	p = be32_put(p, (uint32_t)b->len);
	if (b->len)
		memcpy(p, b->data, b->len);
	return p + b->len;
}

int zone_changeset_serialize(const zone_changeset_t *cs, uint8_t **buf, size_t *len)
{
	if (!cs->has_soa)
		return SD_ESEMANTIC;
	size_t n = 4 + cs->soa.len + 8 + cs->removed.len + 8 + cs->added.len;
	bool view = cs->hide.count || cs->unhide.count;
	if (view)
		n += 4 + 8 + cs->hide.len + 8 + cs->unhide.len;
	if (n > UINT32_MAX)
		return SD_ELIMIT;
	uint8_t *p = malloc(n);
	if (!p)
		return -ENOMEM;
	uint8_t *e = put_section(p, &cs->soa, false);
	e = put_section(e, &cs->removed, true);
	e = put_section(e, &cs->added, true);
	if (view) {
		e = put_section(be32_put(e, VIEW_TAG), &cs->hide, true);
		put_section(e, &cs->unhide, true);
	}
	*buf = p;
	*len = n;
	return 0;
}

/* Validate `count` RRs filling exactly data[0..len) (no SOA unless soa) and copy them. */
static int take_section(rrbuf_t *b, const uint8_t *data, size_t len, size_t count, bool soa)
{
	size_t pos = 0, seen = 0;
	zone_rr_t rr;
	while (pos < len) {
		size_t n = rr_read(data + pos, len - pos, &rr);
		if (n == 0 || (rr.type == DNS_TYPE_SOA) != soa)
			return SD_EPARSE;
		pos += n;
		seen++;
	}
	if (seen != count)
		return SD_EPARSE;
	int rc = rrbuf_reserve(b, len ? len : 1);
	if (rc < 0)
		return rc;
	if (len)
		memcpy(b->data, data, len);
	b->len = len;
	b->count = count;
	return 0;
}

static int read_section(const uint8_t *buf, size_t len, size_t *pos, rrbuf_t *b, bool soa)
{
	size_t need = soa ? 4 : 8;
	if (len - *pos < need)
		return SD_EPARSE;
	size_t count = soa ? 2 : be32_get(buf + *pos);
	size_t n = be32_get(buf + *pos + need - 4);
	*pos += need;
	if (len - *pos < n)
		return SD_EPARSE;
	int rc = take_section(b, buf + *pos, n, count, soa);
	*pos += n;
	return rc;
}

int zone_changeset_parse(const uint8_t *buf, size_t len, zone_changeset_t **out)
{
	*out = NULL;
	zone_changeset_t *cs = NULL;
	int rc = zone_changeset_new(&cs);
	if (rc < 0)
		return rc;
	size_t pos = 0;
	rc = read_section(buf, len, &pos, &cs->soa, true);
	if (rc == 0)
		rc = read_section(buf, len, &pos, &cs->removed, false);
	if (rc == 0)
		rc = read_section(buf, len, &pos, &cs->added, false);
	if (rc == 0 && len - pos >= 4 && be32_get(buf + pos) == VIEW_TAG) {
		pos += 4;
		rc = read_section(buf, len, &pos, &cs->hide, false);
		if (rc == 0)
			rc = read_section(buf, len, &pos, &cs->unhide, false);
	}
	if (rc == 0 && pos != len)
		rc = SD_EPARSE;
	zone_rr_t from, to;
	cs->has_soa = true;
	if (rc == 0 && (!soa_at(cs, 0, &from) || !soa_at(cs, 1, &to) ||
	                soa_serial(&from, &cs->from) < 0 || soa_serial(&to, &cs->to) < 0))
		rc = SD_EPARSE;
	if (rc < 0) {
		zone_changeset_free(cs);
		return rc;
	}
	*out = cs;
	return 0;
}
