/* overlay.c — copy-on-write commits: the overlay over a shared base (see overlay.h).
 *
 * Steps of zone_overlay_apply: the names to rebuild (touched, their empty ancestors, wildcard
 * parents, the old overlay's names); the records at those names in old minus the removed plus
 * the added, through a partial build; tombstones for names without records or descendants;
 * links in canonical order; the structural test; glue of the touched delegations; counts.
 */
#include "zone/internal.h"
#include "zone/overlay.h"
#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "contrib/base/vec.h"
#include "dns/rdata.h"

#include <stdlib.h>
#include <string.h>

/* A growing list of lowercased names, one DNAME_MAX slot each. */
typedef struct names {
	uint8_t (*v)[DNAME_MAX];
	size_t n, cap;
} names_t;

typedef struct cow {
	const zone_version_t *old;
	const zone_version_t *base; /* old's base arena (old itself when it has no overlay) */
	const zone_changeset_t *cs;
	const uint8_t *apex;
	zone_rr_t *rem, *add; /* the change set's sections sorted by identity */
	size_t nrem, nadd;
	names_t names;
	uint8_t **ptrs; /* names.v as pointers, sorted canonically, no duplicates */
	size_t nptrs;
	zone_version_t *nv;
} cow_t;

size_t zone_overlay_max(size_t base_nodes)
{
	size_t r = 0; /* floor(sqrt(base_nodes)) */
	while ((r + 1) * (r + 1) <= base_nodes)
		r++;
	return 4 * r < 1024 ? 1024 : 4 * r;
}

static int names_add(names_t *s, const uint8_t *name)
{
	if (s->n == s->cap && sd_vec_grow(&s->v, &s->cap, s->n + 1) != 0)
		return -ENOMEM;
	memcpy(s->v[s->n++], name, dname_len(name));
	return 0;
}

static int cmp_name_ptr(const void *a, const void *b)
{
	return dname_cmp_canonical(*(uint8_t *const *)a, *(uint8_t *const *)b);
}

static int cmp_rr_v(const void *a, const void *b)
{
	return zone_rr_cmp(a, b);
}

static void log_rr(const char *what, const zone_rr_t *rr)
{
	char name[DNAME_MAX * 4 + 1], type[16];
	log_error("change set %s: %s %s", what, dname_to_str(rr->owner, name, sizeof(name)),
	          zone_type_to_str(rr->type, type));
}

/* A section of the change set as an array sorted by identity. */
static int section(const zone_changeset_t *cs, bool added, zone_rr_t **out, size_t *n)
{
	zone_rr_iter_t it;
	*n = added ? zone_changeset_added_count(cs) : zone_changeset_removed_count(cs);
	*out = malloc((*n ? *n : 1) * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	if (added)
		zone_changeset_added(cs, &it);
	else
		zone_changeset_removed(cs, &it);
	for (size_t i = 0; i < *n && zone_rr_iter_next(&it, &(*out)[i]); i++)
		;
	qsort(*out, *n, sizeof(**out), cmp_rr_v);
	return 0;
}

/* --- which names the overlay holds --- */

/* Whether old has exactly this record (identity: owner, type, class IN, RDATA bytes). */
static bool old_has(const zone_version_t *old, const zone_rr_t *rr)
{
	const zone_node_t *n = zone_version_find(old, rr->owner, dname_len(rr->owner));
	const zone_rrset_t *rs = n ? zone_node_rrset(n, rr->type) : NULL;
	if (!rs || rr->rclass != DNS_CLASS_IN)
		return false;
	const uint8_t *p = rs->rdata;
	for (uint16_t i = 0; i < rs->count; i++) {
		uint16_t len = (uint16_t)((p[0] << 8) | p[1]);
		if (len == rr->rdlen && memcmp(p + 2, rr->rdata, len) == 0)
			return true;
		p += 2u + len;
	}
	return false;
}

/* A touched name, the parent of a touched wildcard, and every ancestor that has no records
 * in old (an empty non-terminal that may vanish, or a name that does not exist yet). */
static int touch(cow_t *c, const uint8_t *owner)
{
	if (!dname_is_subdomain(owner, c->apex))
		return 0; /* the build rejects the record: out of zone */
	int rc = names_add(&c->names, owner);
	const uint8_t *p = owner;
	bool wild = dname_is_wildcard(owner);
	while (rc == 0 && !dname_equal(p, c->apex)) {
		p += p[0] + 1;
		const zone_node_t *n = zone_version_find(c->old, p, dname_len(p));
		if (n && n->rrset_count > 0 && !wild)
			break;
		wild = false;
		rc = names_add(&c->names, p);
	}
	return rc;
}

static int collect_names(cow_t *c)
{
	int rc = names_add(&c->names, c->apex);
	const zone_version_t *ov = c->old->head.ov;
	for (size_t i = 0; rc == 0 && ov && i < ov->base_count; i++) {
		const zone_node_t *n = &ov->nodes[i];
		if (!(n->flags & ZONE_NODE_GONE) ||
		    zone_arena_find(c->base, n->owner, n->owner_len))
			rc = names_add(&c->names, n->owner);
	}
	for (size_t i = 0; rc == 0 && i < c->nrem; i++)
		rc = touch(c, c->rem[i].owner);
	for (size_t i = 0; rc == 0 && i < c->nadd; i++)
		rc = touch(c, c->add[i].owner);
	if (rc < 0)
		return rc;
	c->ptrs = malloc(c->names.n * sizeof(*c->ptrs));
	if (!c->ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < c->names.n; i++)
		c->ptrs[i] = c->names.v[i];
	qsort(c->ptrs, c->names.n, sizeof(*c->ptrs), cmp_name_ptr);
	size_t k = 0;
	for (size_t i = 0; i < c->names.n; i++)
		if (k == 0 || !dname_equal(c->ptrs[k - 1], c->ptrs[i]))
			c->ptrs[k++] = c->ptrs[i];
	c->nptrs = k;
	return 0;
}

/* --- the records --- */

static int check_removed(const cow_t *c)
{
	for (size_t i = 0; i < c->nrem; i++) {
		bool dup = i > 0 && zone_rr_cmp(&c->rem[i - 1], &c->rem[i]) == 0;
		if (dup || !old_has(c->old, &c->rem[i])) {
			log_rr("removes a missing record", &c->rem[i]);
			return SD_ESEMANTIC;
		}
	}
	return 0;
}

/* old's records at one name (but its SOA) less the removed ones, into the builder. */
static int keep_node(const cow_t *c, zone_builder_t *b, const uint8_t *owner)
{
	const zone_node_t *n = zone_version_find(c->old, owner, dname_len(owner));
	for (uint16_t k = 0; n && k < n->rrset_count; k++) {
		const zone_rrset_t *rs = &n->rrsets[k];
		const uint8_t *p = rs->rdata;
		for (uint16_t i = 0; rs->type != DNS_TYPE_SOA && i < rs->count; i++) {
			zone_rr_t rr = {.owner = n->owner,
			                .type = rs->type,
			                .rclass = DNS_CLASS_IN,
			                .ttl = rs->ttl,
			                .rdlen = (uint16_t)((p[0] << 8) | p[1]),
			                .rdata = p + 2};
			p += 2u + rr.rdlen;
			if (bsearch(&rr, c->rem, c->nrem, sizeof(rr), cmp_rr_v))
				continue;
			if (bsearch(&rr, c->add, c->nadd, sizeof(rr), cmp_rr_v)) {
				log_rr("adds a record that exists", &rr);
				return SD_ESEMANTIC;
			}
			int rc = zone_builder_add(b, rr.owner, rr.type, rr.rclass, rr.ttl, rr.rdata,
			                          rr.rdlen, NULL);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* The overlay: kept records in canonical order, SOA(to), the added records in change-set
 * order — the order a full apply adds them in, so TTL and duplicate choices agree. */
static int build_part(cow_t *c, const zone_bindings_t *bindings, zone_version_t **part)
{
	zone_builder_t *b = NULL;
	int rc = zone_builder_new(c->apex, bindings, &b);
	for (size_t i = 0; rc == 0 && i < c->nptrs; i++)
		rc = keep_node(c, b, c->ptrs[i]);
	zone_rr_t rr;
	zone_rr_iter_t it;
	if (rc == 0 && zone_changeset_soa_to(c->cs, &rr))
		rc = zone_builder_add(b, rr.owner, rr.type, rr.rclass, rr.ttl, rr.rdata, rr.rdlen,
		                      NULL);
	zone_changeset_added(c->cs, &it);
	while (rc == 0 && zone_rr_iter_next(&it, &rr))
		rc = zone_builder_add(b, rr.owner, rr.type, rr.rclass, rr.ttl, rr.rdata, rr.rdlen,
		                      NULL);
	if (rc < 0) {
		zone_builder_free(b);
		return rc;
	}
	return zone_builder_finish_part(b, c->ptrs, c->nptrs, part);
}

/* --- tombstones and links --- */

/* First base index whose owner sorts after name. */
static size_t base_after(const zone_version_t *v, const uint8_t *name)
{
	size_t lo = 0, hi = v->base_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (dname_cmp_canonical(v->nodes[mid].owner, name) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether overlay node i has a live descendant in nv. Descendants follow a name directly in
 * canonical order, so the first live node after it on each side decides; later overlay nodes
 * are decided already (the caller walks backwards). */
static bool has_descendant(const zone_version_t *nv, size_t i)
{
	const zone_version_t *ov = nv->head.ov;
	const zone_node_t *x = &ov->nodes[i];
	size_t j = i + 1;
	while (j < ov->base_count && (ov->nodes[j].flags & ZONE_NODE_GONE))
		j++;
	if (j < ov->base_count && dname_is_subdomain(ov->nodes[j].owner, x->owner))
		return true;
	for (size_t k = base_after(nv, x->owner); k < nv->base_count; k++) {
		const zone_node_t *b = &nv->nodes[k];
		if (zone_arena_find(ov, b->owner, b->owner_len))
			continue; /* the overlay's own entry stands for it */
		return dname_is_subdomain(b->owner, x->owner);
	}
	return false;
}

static void mark_gone(zone_version_t *nv)
{
	zone_node_t *nodes = (zone_node_t *)nv->head.ov->nodes;
	for (size_t i = nv->head.ov->base_count; i-- > 1;) {
		if (nodes[i].rrset_count == 0 && !has_descendant(nv, i))
			nodes[i].flags |= ZONE_NODE_GONE;
	}
}

/* A node that exists before and after and gains or loses a cut or a DNAME. */
static bool structural(const cow_t *c)
{
	const zone_version_t *ov = c->nv->head.ov;
	for (size_t i = 0; i < ov->base_count; i++) {
		const zone_node_t *n = &ov->nodes[i];
		if (n->flags & ZONE_NODE_GONE)
			continue;
		const zone_node_t *o = zone_version_find(c->old, n->owner, n->owner_len);
		if (o && ((o->flags ^ n->flags) & (ZONE_NODE_DELEG | ZONE_NODE_DNAME)))
			return true;
	}
	return false;
}

static void link_all(cow_t *c)
{
	const zone_version_t *ov = c->nv->head.ov;
	zone_node_t *nodes = (zone_node_t *)ov->nodes;
	for (size_t i = 0; i < ov->base_count; i++)
		if (!(nodes[i].flags & ZONE_NODE_GONE))
			zone_node_link(c->nv, &nodes[i], i == 0);
}

/* --- rules on the tree, counts --- */

/* RFC 1034 4.2.1, RFC 9471: in-domain name servers of a delegation need an address. */
static int check_glue(const zone_version_t *nv, const zone_node_t *cut)
{
	const zone_rrset_t *ns = zone_node_rrset(cut, DNS_TYPE_NS);
	int rc = 0;
	for (uint16_t r = 0; ns && r < ns->count; r++) {
		uint8_t low[DNAME_MAX];
		zone_rrset_target_name(ns, r, low);
		if (!dname_is_subdomain(low, cut->owner))
			continue;
		const zone_node_t *t = zone_rrset_target(nv, ns, r);
		if (t && (zone_node_rrset(t, DNS_TYPE_A) || zone_node_rrset(t, DNS_TYPE_AAAA)))
			continue;
		char an[1024], on[1024], tn[1024];
		log_error("%s: %s NS: missing glue: no A or AAAA record for %s (RFC 1034 4.2.1)",
		          dname_to_str(nv->apex->owner, an, sizeof(an)),
		          dname_to_str(cut->owner, on, sizeof(on)),
		          dname_to_str(low, tn, sizeof(tn)));
		rc = SD_ESEMANTIC;
	}
	return rc;
}

/* The delegation that held (or holds) the name, as nv sees it. */
static const zone_node_t *cut_of(const cow_t *c, const zone_node_t *n)
{
	if (!(n->flags & ZONE_NODE_GONE))
		return n->cut;
	const zone_node_t *o = zone_version_find(c->old, n->owner, n->owner_len);
	const zone_node_t *oc = o ? zone_node_cut(c->old, o) : NULL;
	return oc ? zone_version_find(c->nv, oc->owner, oc->owner_len) : NULL;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (const void *const *)a,
	          y = (uintptr_t) * (const void *const *)b;
	return (x > y) - (x < y);
}

/* Glue of every delegation a touched name is at or below, each once. */
static int check_cuts(cow_t *c)
{
	const zone_version_t *ov = c->nv->head.ov;
	const zone_node_t **cuts = malloc((ov->base_count + 1) * sizeof(*cuts));
	if (!cuts)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < ov->base_count; i++) {
		const zone_node_t *cut = cut_of(c, &ov->nodes[i]);
		if (cut)
			cuts[n++] = cut;
	}
	qsort(cuts, n, sizeof(*cuts), cmp_ptr);
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		if ((i == 0 || cuts[i] != cuts[i - 1]) && check_glue(c->nv, cuts[i]) < 0)
			rc = SD_ESEMANTIC;
	free(cuts);
	return rc;
}

static size_t rr_count(const zone_node_t *n)
{
	size_t k = 0;
	for (uint16_t i = 0; n && i < n->rrset_count; i++)
		k += n->rrsets[i].count;
	return k;
}

static void count(cow_t *c)
{
	zone_version_t *nv = c->nv;
	const zone_version_t *ov = nv->head.ov;
	nv->node_count = c->old->node_count;
	nv->rr_count = c->old->rr_count;
	for (size_t i = 0; i < ov->base_count; i++) {
		const zone_node_t *n = &ov->nodes[i];
		const zone_node_t *o = zone_version_find(c->old, n->owner, n->owner_len);
		bool live = !(n->flags & ZONE_NODE_GONE);
		nv->node_count = nv->node_count + live - (o != NULL);
		nv->rr_count = nv->rr_count + (live ? rr_count(n) : 0) - rr_count(o);
	}
}

/* --- compaction ---
 *
 * The merged version copied into one new arena in canonical order (the iterator's order, so
 * nothing is sorted), every node relinked from scratch and every delegation's glue checked:
 * O(N) and what a full build would make of the same records — the per-node rules were
 * checked by the partial build already. It also serves changes that move cuts or DNAMEs,
 * since the links of every node are recomputed.
 */

typedef struct sizes {
	size_t nodes, rrsets, targets, owners, rdata, hash_cap;
	size_t off_rrsets, off_targets, off_hash, off_owners, off_rdata, total;
} sizes_t;

static size_t align16(size_t x)
{
	return (x + 15) & ~(size_t)15;
}

static sizes_t measure(const zone_version_t *v)
{
	sizes_t z = {0};
	zone_version_iter_t it;
	zone_version_iter_init(v, &it);
	for (const zone_node_t *n; (n = zone_version_iter_next(&it)) != NULL;) {
		z.nodes++;
		z.owners += n->owner_len;
		z.rrsets += n->rrset_count;
		for (uint16_t k = 0; k < n->rrset_count; k++) {
			z.rdata += n->rrsets[k].rdata_len;
			if (dns_rdata_has_target(n->rrsets[k].type))
				z.targets += n->rrsets[k].count;
		}
	}
	z.hash_cap = 16;
	while (z.hash_cap < z.nodes * 2)
		z.hash_cap *= 2;
	z.off_rrsets = align16(z.nodes * sizeof(zone_node_t));
	z.off_targets = z.off_rrsets + align16(z.rrsets * sizeof(zone_rrset_t));
	z.off_hash = z.off_targets + align16(z.targets * sizeof(zone_node_t *));
	z.off_owners = z.off_hash + align16(z.hash_cap * sizeof(uint32_t));
	z.off_rdata = z.off_owners + align16(z.owners);
	z.total = z.off_rdata + align16(z.rdata);
	return z;
}

/* Node n of the merged version into slot i of the new arena, RRsets and RDATA after the ones
 * written so far (cursors advanced); links are left for zone_node_link. */
static void copy_node(zone_version_t *v, size_t i, const zone_node_t *n, zone_rrset_t **rs,
                      const zone_node_t ***tg, uint8_t **own, uint8_t **rd)
{
	zone_node_t *d = (zone_node_t *)&v->nodes[i];
	uint32_t *hash = (uint32_t *)v->hash;
	*d = (zone_node_t){.owner = *own,
	                   .owner_len = n->owner_len,
	                   .labels = n->labels,
	                   .flags = n->flags & (uint16_t) ~(ZONE_NODE_NONAUTH | ZONE_NODE_GONE),
	                   .rrset_count = n->rrset_count,
	                   .rrsets = *rs};
	memcpy(*own, n->owner, n->owner_len);
	*own += n->owner_len;
	for (uint16_t k = 0; k < n->rrset_count; k++, (*rs)++) {
		**rs = n->rrsets[k];
		(*rs)->rdata = *rd;
		memcpy(*rd, n->rrsets[k].rdata, n->rrsets[k].rdata_len);
		*rd += n->rrsets[k].rdata_len;
		(*rs)->targets = NULL;
		if (dns_rdata_has_target((*rs)->type)) {
			(*rs)->targets = *tg;
			*tg += (*rs)->count;
		}
	}
	uint32_t h = dname_hash(d->owner, d->owner_len);
	d->tag = zone_hash_tag(h);
	h &= v->hash_mask;
	while (hash[h] != 0)
		h = (h + 1) & v->hash_mask;
	hash[h] = (uint32_t)i + 1;
}

/* Glue of every delegation that is not itself below a cut (what check_tree does). */
static int check_all_glue(const zone_version_t *v)
{
	int rc = 0;
	for (size_t i = 0; i < v->base_count; i++) {
		const zone_node_t *n = &v->nodes[i];
		if ((n->flags & ZONE_NODE_DELEG) && !(n->flags & ZONE_NODE_NONAUTH) &&
		    check_glue(v, n) < 0)
			rc = SD_ESEMANTIC;
	}
	return rc;
}

static int compact(const zone_version_t *from, zone_version_t **out)
{
	sizes_t z = measure(from);
	zone_version_t *v = zone_version_alloc(z.total);
	if (!v)
		return -ENOMEM;
	uint8_t *a = zone_version_arena(v);
	zone_rrset_t *rs = (zone_rrset_t *)(a + z.off_rrsets);
	const zone_node_t **tg = (const zone_node_t **)(a + z.off_targets);
	uint8_t *own = a + z.off_owners, *rd = a + z.off_rdata;
	v->nodes = (const zone_node_t *)a;
	v->node_count = v->base_count = z.nodes;
	v->rr_count = from->rr_count;
	v->hash = (const uint32_t *)(a + z.off_hash);
	v->hash_mask = (uint32_t)(z.hash_cap - 1);
	memset(a + z.off_hash, 0, z.hash_cap * sizeof(uint32_t));
	zone_version_iter_t it;
	zone_version_iter_init(from, &it);
	size_t i = 0;
	for (const zone_node_t *n; (n = zone_version_iter_next(&it)) != NULL; i++)
		copy_node(v, i, n, &rs, &tg, &own, &rd);
	v->apex = v->nodes;
	v->bindings = from->bindings ? zone_bindings_ref(from->bindings) : NULL;
	for (i = 0; i < v->base_count; i++)
		zone_node_link(v, (zone_node_t *)&v->nodes[i], i == 0);
	zone_version_set_soa(v);
	int rc = check_all_glue(v);
	if (rc < 0) {
		zone_version_unref(v);
		return rc;
	}
	*out = v;
	return 0;
}

/* --- the commit --- */

static zone_version_t *new_version(const zone_version_t *old, zone_version_t *part)
{
	zone_version_t *nv = zone_version_alloc(0);
	if (!nv)
		return NULL;
	zone_version_t *base = old->base ? old->base : (zone_version_t *)old;
	nv->base = zone_version_ref(base);
	nv->nodes = base->nodes;
	nv->base_count = base->base_count;
	nv->hash = base->hash;
	nv->hash_mask = base->hash_mask;
	nv->head.ov = part;
	nv->apex = part->apex;
	nv->bindings = part->bindings ? zone_bindings_ref(part->bindings) : NULL;
	return nv;
}

static int overlay(cow_t *c, const zone_bindings_t *bindings)
{
	zone_version_t *part = NULL;
	int rc = check_removed(c);
	if (rc == 0)
		rc = collect_names(c);
	if (rc == 0)
		rc = build_part(c, bindings, &part);
	if (rc < 0)
		return rc;
	if (part->apex == NULL || !(c->nv = new_version(c->old, part))) {
		zone_version_unref(part);
		return -ENOMEM;
	}
	mark_gone(c->nv);
	bool full = structural(c);
	if (!full)
		link_all(c);
	zone_version_set_soa(c->nv);
	count(c);
	if (!full && c->nptrs <= zone_overlay_max(c->base->base_count))
		return check_cuts(c);
	/* the links of base nodes change (cuts or DNAMEs moved), or the overlay is due for
	 * compaction: one arena again */
	zone_version_t *v = NULL;
	rc = compact(c->nv, &v);
	zone_version_unref(c->nv);
	c->nv = v;
	return rc;
}

int zone_overlay_apply(const zone_version_t *old, const zone_changeset_t *cs,
                       const zone_bindings_t *bindings, zone_version_t **out)
{
	*out = NULL;
	if (!zone_bindings_equal(old->bindings, bindings))
		return SD_ELIMIT;
	cow_t c = {.old = old, .base = old->base ? old->base : old, .cs = cs};
	c.apex = zone_version_apex(old)->owner;
	int rc = section(cs, false, &c.rem, &c.nrem);
	if (rc == 0)
		rc = section(cs, true, &c.add, &c.nadd);
	if (rc == 0)
		rc = overlay(&c, bindings);
	if (rc == 0) {
		*out = c.nv;
		c.nv = NULL;
	}
	zone_version_unref(c.nv);
	free(c.ptrs);
	free(c.names.v);
	free(c.add);
	free(c.rem);
	return rc;
}

/* --- a zone file's version over a reference (zone_overlay_build) --- */

/* Whether s holds exactly rs's records in rs's order, with its TTL: a version built from the
 * same records lays them out in this order, so an unchanged RRset is one pass. */
static bool brrset_same(const zone_builder_t *b, const zone_brrset_t *s, const zone_rrset_t *rs)
{
	if (s->count != rs->count || s->ttl != rs->ttl)
		return false;
	const uint8_t *p = rs->rdata;
	for (uint32_t r = 0; r < s->count; r++) {
		uint16_t len;
		const uint8_t *rd = zone_builder_rrset_rr(b, s, r, &len);
		if (be16_get(p) != len || memcmp(p + 2, rd, len) != 0)
			return false;
		p += 2 + (size_t)len;
	}
	return true;
}

/* The change of one RRset: rs at node x of the reference (NULL: none) to the builder's s
 * (NULL: none), appended to cs. */
static int brrset_diff(const zone_builder_t *b, const zone_node_t *x, const zone_rrset_t *rs,
                       const zone_brrset_t *s, zone_changeset_t *cs)
{
	size_t nb = s ? s->count : 0;
	zone_rr_t *vb = malloc((nb ? nb : 1) * sizeof(*vb));
	if (!vb)
		return -ENOMEM;
	for (uint32_t j = 0; j < nb; j++) {
		vb[j] = (zone_rr_t){
		    .owner = s->owner, .type = s->type, .rclass = DNS_CLASS_IN, .ttl = s->ttl};
		vb[j].rdata = zone_builder_rrset_rr(b, s, j, &vb[j].rdlen);
	}
	int rc = zone_changeset_diff_rrset(cs, x, rs, vb, nb);
	free(vb);
	return rc;
}

/* Order of an RRset of the reference (node x, type t) and one of the builder: owner in
 * canonical order (equal bytes first: the common case), then type. */
static int brrset_cmp(const zone_node_t *x, uint16_t t, const zone_brrset_t *s)
{
	int c = x->owner_len == s->owner_len && memcmp(x->owner, s->owner, s->owner_len) == 0
	            ? 0
	            : dname_cmp_canonical(x->owner, s->owner);
	return c != 0 ? c : (t > s->type) - (t < s->type);
}

/* The reference's RRsets one by one, in canonical order (a node's in type order). */
typedef struct ref_walk {
	zone_version_iter_t it;
	const zone_node_t *x;
	uint16_t k;
} ref_walk_t;

static const zone_rrset_t *ref_next(ref_walk_t *w)
{
	while (w->x && w->k >= w->x->rrset_count) {
		w->x = zone_version_iter_next(&w->it);
		w->k = 0;
	}
	return w->x ? &w->x->rrsets[w->k++] : NULL;
}

/* The change that makes ref hold the checked builder's records: one merge walk of both in
 * canonical RRset order, each RRset compared in one pass. SOA(from) is ref's, SOA(to) the
 * builder's. SD_ELIMIT once the change holds more records than an overlay holds nodes. */
static int brrsets_diff(const zone_builder_t *b, const zone_version_t *ref, size_t limit,
                        zone_changeset_t *cs)
{
	ref_walk_t w = {.k = 0};
	zone_version_iter_init(ref, &w.it);
	w.x = zone_version_iter_next(&w.it);
	const zone_rrset_t *rs = ref_next(&w);
	const zone_node_t *x = w.x;
	size_t n = zone_builder_rrset_count(b), i = 0;
	zone_brrset_t s = {.count = 0}, soa = {.count = 0};
	int rc = 0;
	while (rc == 0 && (rs || i < n)) {
		if (i < n)
			zone_builder_rrset(b, i, &s);
		int c = !rs ? 1 : i == n ? -1 : brrset_cmp(x, rs->type, &s);
		uint16_t type = c <= 0 ? rs->type : s.type;
		if (c >= 0 && type == DNS_TYPE_SOA)
			soa = s; /* at the apex: the node rules hold */
		if (type != DNS_TYPE_SOA && !(c == 0 && brrset_same(b, &s, rs)))
			rc = brrset_diff(b, x, c <= 0 ? rs : NULL, c >= 0 ? &s : NULL, cs);
		if (c <= 0) {
			rs = ref_next(&w);
			x = w.x;
		}
		i += c >= 0;
		if (rc == 0 &&
		    zone_changeset_removed_count(cs) + zone_changeset_added_count(cs) > limit)
			rc = SD_ELIMIT;
	}
	if (rc != 0 || soa.count != 1)
		return rc != 0 ? rc : SD_ELIMIT;
	zone_rr_t from,
	    to = {.owner = soa.owner, .type = DNS_TYPE_SOA, .rclass = DNS_CLASS_IN, .ttl = soa.ttl};
	to.rdata = zone_builder_rrset_rr(b, &soa, 0, &to.rdlen);
	zone_version_soa_rr(ref, &from);
	return zone_changeset_set_soa(cs, &from, &to);
}

int zone_overlay_build(zone_builder_t *b, const zone_version_t *ref, zone_version_t **out)
{
	*out = NULL;
	int rc = zone_builder_check(b);
	if (rc == 0) {
		zone_changeset_t *cs = NULL;
		rc = zone_changeset_new(&cs);
		if (rc == 0)
			rc = brrsets_diff(b, ref, zone_overlay_max(zone_version_node_count(ref)),
			                  cs);
		/* the rules held, so the overlay's hold too; it refuses other bindings */
		if (rc == 0)
			rc = zone_overlay_apply(ref, cs, zone_builder_bindings(b), out);
		zone_changeset_free(cs);
		if (rc == 0 || rc == -ENOMEM) {
			zone_builder_free(b);
			return rc;
		}
	}
	return zone_builder_finish(b, out); /* laid out in full, or the checks' failure again */
}
