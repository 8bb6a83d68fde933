/* image.c — the pre-encoded answers of a version (version.h: zone_image_t; dns/msg.h images).
 *
 * Built when a version is published (zone/zone.h: zone_version_prepare; a version only parsed
 * to be diffed, a reload's file, never builds them), with the answer path's writer and
 * in the answer path's order (server/engine/answer.c: put_soa, put_referral), so an image is
 * byte for byte what that path writes after a question that ends with the image's anchor, in
 * the cases dns/msg.h states (the answer path checks them and otherwise writes the RRs itself):
 *
 *   NXDOMAIN/NODATA  anchor apex  [SOA, TTL min(TTL, MINIMUM) (RFC 2308 3)]
 *   referral         anchor cut   [NS RRset][A, AAAA of in-domain targets][of the others]
 *                                  required glue first (RFC 9471 3), then the optional
 *   CNAME            anchor owner [CNAME] (its compression entries kept: the target's
 *                                  records follow, their owner a pointer to the target)
 *
 * What the referrals cost: one allocation of tens to a few hundred bytes per delegation, and
 * its encoding once per published full build or compaction (a version with an overlay uses
 * its base's where the overlay changed nothing that they depend on, version.h; the others are
 * written RR by RR, as they were before images). Steered glue has no image (it
 * is chosen per query), nor has a referral larger than IMAGE_MAX.
 */
#include "zone/internal.h"

#include "contrib/base/err.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/msg.h"
#include "dns/rdata.h"
#include "dns/soa.h"

#define IMAGE_MAX    4096 /* bytes: a larger referral is written RR by RR (it needs TCP) */
#define TARGETS_MAX  64   /* glue nodes: answer.c ADDL_NODES_MAX, past which it stops */
#define COMP_ENTRIES 64   /* the answer path's compression table (answer.c) */

typedef struct deleg {
	const zone_node_t *cut; /* a delegation or a CNAME owner */
	zone_image_t *img;
} deleg_t;

/* Images are laid out back to back in chunks (one allocation per CHUNK bytes, not one per
 * image: a zone may have a CNAME at one name in ten). */
#define CHUNK 65536

typedef struct chunk {
	struct chunk *next;
	size_t used, cap;
	_Alignas(8) uint8_t data[];
} chunk_t;

struct zone_images {
	chunk_t *chunks; /* the newest first */
	zone_image_t *soa;
	/* a version with an overlay: the base's cuts with a node of the overlay at or below
	 * them, sorted by address (their base images may be stale) */
	const zone_node_t **stale;
	size_t nstale;
	deleg_t *deleg; /* open addressing by the node's index in the arena; NULL: none */
	size_t mask;
	unsigned shift;
};

/* One image being written: the scratch message and what the answer path checks. */
typedef struct scratch {
	dns_msg_t m;
	dns_comp_t comp;
	const uint8_t *anchor; /* lowercased */
	unsigned alabels;
	uint16_t an, ns, ar;
	const uint8_t *last; /* the last name written (zone data), last_len bytes */
	size_t last_len;
	size_t clash_len;
	_Alignas(8) uint8_t out[IMAGE_MAX + 4096]; /* the image laid out: header, entries,
	                                             * pointers, wire, memo name */
	uint8_t clash[IMAGE_MAX];
	uint8_t buf[DNS_HEADER_LEN + DNAME_MAX + 4 + IMAGE_MAX];
} scratch_t;

static int begin(scratch_t *s, const zone_node_t *anchor)
{
	s->anchor = anchor->owner;
	s->alabels = anchor->labels;
	s->an = s->ns = s->ar = 0;
	s->last = NULL;
	s->last_len = 0;
	s->clash_len = 0;
	return dns_msg_image_begin(&s->m, s->buf, sizeof(s->buf), &s->comp, anchor->owner,
	                           anchor->owner_len);
}

/* Note the label of name just below the anchor, when name lies below it. */
static void note_clash(scratch_t *s, const uint8_t *name, size_t len)
{
	uint8_t low[DNAME_MAX], offs[DNAME_LABELS_MAX];
	dname_copy_lower(low, name, len);
	unsigned n = dname_label_offsets(low, offs);
	if (n <= s->alabels || !dname_is_subdomain(low, s->anchor))
		return;
	const uint8_t *l = low + offs[n - s->alabels - 1];
	for (size_t p = 0; p < s->clash_len; p += 1u + s->clash[p]) {
		if (s->clash[p] == l[0] && memcmp(s->clash + p + 1, l + 1, l[0]) == 0)
			return;
	}
	if (s->clash_len + 1u + l[0] <= sizeof(s->clash)) {
		memcpy(s->clash + s->clash_len, l, 1u + l[0]);
		s->clash_len += 1u + l[0];
	}
}

/* The records of rs as answer.c put_run writes them; their names noted. 0 or an error. */
static int put_rrset(scratch_t *s, const uint8_t *owner, size_t olen, const zone_rrset_t *rs,
                     uint32_t ttl, uint16_t *count)
{
	note_clash(s, owner, olen);
	size_t off = 0;
	for (uint16_t i = 0; i < rs->count; i++) {
		uint16_t rdlen = be16_get(rs->rdata + off);
		const uint8_t *rd = rs->rdata + off + 2;
		uint16_t offs[DNS_RDATA_NAMES_MAX];
		int n = dns_rdata_names(rs->type, rd, rdlen, offs);
		s->last = owner;
		s->last_len = olen;
		for (int k = 0; dns_rdata_compressible(rs->type) && k < n; k++) {
			s->last = rd + offs[k];
			s->last_len = dname_len(s->last);
			note_clash(s, s->last, s->last_len);
		}
		int ret =
		    dns_msg_rr_len(&s->m, owner, olen, rs->type, DNS_CLASS_IN, ttl, rd, rdlen);
		if (n < 0 || ret < 0)
			return n < 0 ? n : ret;
		off += 2u + rdlen;
	}
	*count = (uint16_t)(*count + rs->count);
	return 0;
}

/* n bytes (8-aligned) in im's chunks, or NULL. */
static void *chunk_alloc(struct zone_images *im, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	chunk_t *c = im->chunks;
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > CHUNK ? n : CHUNK;
		if ((c = malloc(sizeof(*c) + cap)) == NULL)
			return NULL;
		*c = (chunk_t){.next = im->chunks, .cap = cap};
		im->chunks = c;
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

/* The image of what was written since begin(), in im's chunks; NULL on failure. follow:
 * names may be written after it (its entries and memo are kept). */
static zone_image_t *image_of(struct zone_images *im, scratch_t *s, bool follow)
{
	const dns_msg_image_t *mi = (const dns_msg_image_t *)(const void *)s->out;
	if (dns_msg_image_end(&s->m, follow, s->out, sizeof(s->out)) < 0)
		return NULL;
	/* the memo's name is the last name written, which is zone data the image may point to
	 * (it lives as long as the version) rather than copy */
	size_t size = dns_msg_image_size(mi), mlen = mi->memo_len;
	bool in_zone =
	    mlen > 0 && s->last_len == mlen && dname_bytes_equal(s->last, mi->memo_name, mlen);
	size_t own = in_zone ? 0 : mlen;
	zone_image_t *img =
	    chunk_alloc(im, offsetof(zone_image_t, msg) + size + s->clash_len + own);
	if (img == NULL)
		return NULL;
	*img = (zone_image_t){.an = (uint8_t)s->an,
	                      .ns = (uint8_t)s->ns,
	                      .ar = s->ar,
	                      .clash_len = (uint16_t)s->clash_len};
	memcpy(&img->msg, mi, size);
	uint8_t *p = (uint8_t *)&img->msg + size;
	memcpy(p, s->clash, s->clash_len);
	if (mlen > 0)
		img->msg.memo_name =
		    in_zone ? s->last : memcpy(p + s->clash_len, mi->memo_name, own);
	return img;
}

static zone_image_t *soa_image(struct zone_images *im, scratch_t *s, const zone_version_t *v)
{
	const zone_rrset_t *soa = v->soa;
	if (soa == NULL || soa->count == 0 || begin(s, v->apex) < 0)
		return NULL;
	uint32_t minimum = dns_soa_minimum(soa->rdata + 2, be16_get(soa->rdata));
	uint32_t ttl = soa->ttl < minimum ? soa->ttl : minimum;
	if (put_rrset(s, v->apex->owner, v->apex->owner_len, soa, ttl, &s->ns) < 0)
		return NULL;
	return image_of(im, s, false);
}

/* A and AAAA of glue node t (none steered). */
static int put_glue(scratch_t *s, const zone_node_t *t)
{
	static const uint16_t types[] = {DNS_TYPE_A, DNS_TYPE_AAAA};
	for (size_t i = 0; i < SD_ARRAY_LEN(types); i++) {
		const zone_rrset_t *rs = zone_node_rrset(t, types[i]);
		if (rs == NULL)
			continue;
		if (rs->policy != 0)
			return SD_ELIMIT;
		int ret = put_rrset(s, t->owner, t->owner_len, rs, rs->ttl, &s->ar);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* The glue of ns's targets: in-domain (at or below cut) first, then the others, each node
 * once, in record order (answer.c put_referral). */
static int put_glues(scratch_t *s, const zone_node_t *cut, const zone_rrset_t *ns)
{
	const zone_node_t *done[TARGETS_MAX];
	unsigned ndone = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (uint16_t j = 0; j < ns->count; j++) {
			const zone_node_t *t = ns->targets[j];
			if (t == NULL || dname_is_subdomain(t->owner, cut->owner) != (pass == 0))
				continue;
			unsigned k = 0;
			while (k < ndone && done[k] != t)
				k++;
			if (k < ndone)
				continue;
			done[ndone++] = t;
			int ret = put_glue(s, t);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

/* Does every name server of ns that lies in the zone (apex) lie at or below cut? */
static bool own_glue(const zone_rrset_t *ns, const uint8_t *apex, const uint8_t *cut)
{
	for (uint16_t j = 0; j < ns->count; j++) {
		uint8_t low[DNAME_MAX];
		zone_rrset_target_name(ns, j, low);
		if (dname_is_subdomain(low, apex) && !dname_is_subdomain(low, cut))
			return false;
	}
	return true;
}

static zone_image_t *referral_image(struct zone_images *im, scratch_t *s, const zone_version_t *v,
                                    const zone_node_t *cut)
{
	const zone_rrset_t *ns = zone_node_rrset(cut, DNS_TYPE_NS);
	if (ns == NULL || ns->count > TARGETS_MAX || begin(s, cut) < 0 ||
	    put_rrset(s, cut->owner, cut->owner_len, ns, ns->ttl, &s->ns) < 0)
		return NULL;
	if (ns->targets != NULL && put_glues(s, cut, ns) < 0)
		return NULL;
	zone_image_t *img = image_of(im, s, false);
	if (img != NULL)
		img->own_glue = own_glue(ns, v->apex->owner, cut->owner);
	return img;
}

/* The CNAME of n asked for by its name (answer.c walk_node; the chase follows). */
static zone_image_t *cname_image(struct zone_images *im, scratch_t *s, const zone_node_t *n)
{
	const zone_rrset_t *cn = zone_node_rrset(n, DNS_TYPE_CNAME);
	if (cn == NULL || cn->count != 1 || cn->policy != 0 || begin(s, n) < 0 ||
	    put_rrset(s, n->owner, n->owner_len, cn, cn->ttl, &s->an) < 0)
		return NULL;
	return image_of(im, s, true);
}

static bool is_referral(const zone_node_t *n)
{
	return (n->flags & ZONE_NODE_DELEG) && !(n->flags & ZONE_NODE_NONAUTH);
}

/* Nodes with an image: delegations the answer path refers to, and CNAME owners (never both:
 * CNAME and other data, RFC 2181 10.1). Occluded ones (below a cut) are never answered. */
static bool has_image(const zone_node_t *n)
{
	return is_referral(n) || ((n->flags & ZONE_NODE_CNAME) &&
	                          !(n->flags & (ZONE_NODE_NONAUTH | ZONE_NODE_DELEG)));
}

static size_t slot_of(const struct zone_images *im, const zone_version_t *v, const zone_node_t *n)
{
	return (size_t)(((uint64_t)(n - v->nodes) * 0x9e3779b97f4a7c15ull) >> im->shift) & im->mask;
}

/* The referral and CNAME images of a version without an overlay (its nodes are its arena). */
static int build_nodes(struct zone_images *im, scratch_t *s, const zone_version_t *v)
{
	size_t n = 0;
	for (size_t i = 0; i < v->base_count; i++)
		n += has_image(&v->nodes[i]);
	if (n == 0)
		return 0;
	unsigned bits = 1;
	while (((size_t)1 << bits) < n + n / 3 + 1) /* a load of 3/4 at most */
		bits++;
	im->mask = ((size_t)1 << bits) - 1;
	im->shift = 64 - bits;
	im->deleg = calloc(im->mask + 1, sizeof(*im->deleg));
	if (im->deleg == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < v->base_count; i++) {
		const zone_node_t *c = &v->nodes[i];
		if (!has_image(c))
			continue;
		size_t k = slot_of(im, v, c);
		while (im->deleg[k].cut != NULL)
			k = (k + 1) & im->mask;
		im->deleg[k] = (deleg_t){.cut = c,
		                         .img = is_referral(c) ? referral_image(im, s, v, c)
		                                               : cname_image(im, s, c)};
	}
	return 0;
}

static int cmp_node(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (const zone_node_t *const *)a;
	uintptr_t y = (uintptr_t) * (const zone_node_t *const *)b;
	return (x > y) - (x < y);
}

/* The base's cut at or above name (the highest: a referral node), or NULL. */
static const zone_node_t *base_cut(const zone_version_t *b, const uint8_t *name)
{
	const zone_node_t *cut = NULL;
	size_t len = dname_len(name);
	for (size_t p = 0; len - p > b->apex->owner_len; p += 1u + name[p]) {
		const zone_node_t *n = zone_arena_find(b, name + p, len - p);
		if (n != NULL && is_referral(n))
			cut = n;
	}
	return cut;
}

/* The stale cuts of a version with an overlay (struct zone_images). */
static int build_stale(struct zone_images *im, const zone_version_t *v)
{
	const zone_version_t *ov = v->head.ov, *b = v->base;
	if (b == NULL || b->images == NULL || b->images->deleg == NULL || ov->node_count == 0)
		return 0;
	im->stale = malloc(ov->node_count * sizeof(*im->stale));
	if (im->stale == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < ov->node_count; i++) {
		const zone_node_t *c = base_cut(b, ov->nodes[i].owner);
		if (c != NULL)
			im->stale[im->nstale++] = c;
	}
	qsort(im->stale, im->nstale, sizeof(*im->stale), cmp_node);
	return 0;
}

static bool is_stale(const struct zone_images *im, const zone_node_t *cut)
{
	return im == NULL || (im->nstale > 0 && bsearch(&cut, im->stale, im->nstale,
	                                                sizeof(*im->stale), cmp_node) != NULL);
}

struct zone_images *zone_images_build(const zone_version_t *v)
{
	struct zone_images *im = calloc(1, sizeof(*im));
	scratch_t *s = malloc(sizeof(*s));
	if (im == NULL || s == NULL || v->apex == NULL ||
	    dns_comp_init(&s->comp, COMP_ENTRIES) < 0) {
		free(s);
		free(im);
		return NULL;
	}
	im->soa = soa_image(im, s, v);
	if ((v->head.ov == NULL ? build_nodes(im, s, v) : build_stale(im, v)) < 0) {
		zone_images_free(im);
		im = NULL;
	}
	dns_comp_fini(&s->comp);
	free(s);
	return im;
}

void zone_images_free(struct zone_images *im)
{
	if (im == NULL)
		return;
	for (chunk_t *c = im->chunks, *next; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(im->deleg);
	free(im->stale);
	free(im);
}

const zone_image_t *zone_version_soa_image(const zone_version_t *v)
{
	return v->images != NULL ? v->images->soa : NULL;
}

/* The image of node n of v: the version's own, or its base's when n is a base node (which
 * a lookup in v returns only when the overlay leaves its owner as it is). */
static const zone_image_t *node_image(const zone_version_t *v, const zone_node_t *n)
{
	const zone_version_t *b = v->base != NULL ? v->base : v;
	const struct zone_images *im = b->images;
	uintptr_t at = (uintptr_t)n, lo = (uintptr_t)b->nodes;
	if (im == NULL || im->deleg == NULL || at < lo ||
	    at >= (uintptr_t)(b->nodes + b->base_count))
		return NULL;
	for (size_t k = slot_of(im, b, n);; k = (k + 1) & im->mask) {
		const deleg_t *d = &im->deleg[k];
		if (d->cut == n || d->cut == NULL)
			return d->cut == n ? d->img : NULL;
	}
}

const zone_image_t *zone_version_referral_image(const zone_version_t *v, const zone_node_t *cut)
{
	const zone_image_t *img = node_image(v, cut);
	if (img != NULL && v->base != NULL && (!img->own_glue || is_stale(v->images, cut)))
		return NULL;
	return img;
}

const zone_image_t *zone_version_cname_image(const zone_version_t *v, const zone_node_t *n)
{
	return node_image(v, n);
}
