/* version.c — reading zone versions, references, zones and their RCU publication.
 *
 * Every lookup here is allocation-free and reads only the version's arena.
 */
#include "zone/internal.h"
#include "zone/version.h"
#include "zone/hidden.h"
#include "contrib/base/err.h"
#include "dns/rdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16

static size_t header_size(void)
{
	return (sizeof(zone_version_t) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

zone_version_t *zone_version_alloc(size_t extra)
{
	zone_version_t *v = aligned_alloc(ARENA_ALIGN, header_size() + extra);
	if (!v)
		return NULL;
	static uint64_t ids; /* __atomic builtins */
	memset(v, 0, sizeof(*v));
	v->refs = 1;
	v->id = __atomic_add_fetch(&ids, 1, __ATOMIC_RELAXED);
	v->size = header_size() + extra;
	return v;
}

uint8_t *zone_version_arena(zone_version_t *v)
{
	return (uint8_t *)v + header_size();
}

/* --- reading --- */

const zone_node_t *zone_version_apex(const zone_version_t *v)
{
	return v->apex;
}

uint64_t zone_version_id(const zone_version_t *v)
{
	return v->id;
}

uint32_t zone_version_serial(const zone_version_t *v)
{
	return v->serial;
}

const zone_rrset_t *zone_version_soa(const zone_version_t *v)
{
	return v->soa;
}

size_t zone_version_node_count(const zone_version_t *v)
{
	return v->node_count;
}

size_t zone_version_rr_count(const zone_version_t *v)
{
	return v->rr_count;
}

static inline const zone_node_t *arena_find_hashed(const zone_version_t *a, const uint8_t *name,
                                                   size_t len, uint32_t hash)
{
	uint32_t i = hash & a->hash_mask;
	for (;;) {
		uint32_t slot = a->hash[i];
		if (slot == 0)
			return NULL;
		const zone_node_t *n = &a->nodes[slot - 1];
		if (n->tag == zone_hash_tag(hash) && n->owner_len == len &&
		    dname_bytes_equal(n->owner, name, len))
			return n;
		i = (i + 1) & a->hash_mask;
	}
}

static inline const zone_node_t *arena_find(const zone_version_t *a, const uint8_t *name,
                                            size_t len)
{
	return arena_find_hashed(a, name, len, dname_hash(name, len));
}

const zone_node_t *zone_arena_find(const zone_version_t *a, const uint8_t *name, size_t len)
{
	return arena_find(a, name, len);
}

static const zone_node_t *find_hashed(const zone_version_t *v, const uint8_t *name, size_t len,
                                      uint32_t hash)
{
	if (SD_UNLIKELY(v->head.ov != NULL)) {
		const zone_node_t *n = arena_find_hashed(v->head.ov, name, len, hash);
		if (n)
			return (n->flags & ZONE_NODE_GONE) ? NULL : n;
	}
	return arena_find_hashed(v, name, len, hash);
}

const zone_node_t *zone_version_find(const zone_version_t *v, const uint8_t *name, size_t len)
{
	return find_hashed(v, name, len, dname_hash(name, len));
}

/* Strip labels from the left until a node exists; the apex always does, so the loop ends
 * there at the latest (RFC 4592 2.2.1, closest encloser). */
const zone_node_t *zone_version_closest(const zone_version_t *v, const uint8_t *name, bool *exact)
{
	uint8_t offs[DNAME_LABELS_MAX];
	size_t len;
	unsigned labels = dname_label_offsets_len(name, offs, &len);
	return zone_version_closest_at(v, name, len, offs, labels, dname_hash(name, len), exact);
}

const zone_node_t *zone_version_closest_at(const zone_version_t *v, const uint8_t *name, size_t len,
                                           const uint8_t *offs, unsigned labels, uint32_t hash,
                                           bool *exact)
{
	const zone_node_t *apex = v->apex;
	*exact = false;
	/* below the apex: the apex's label count of labels end the name and equal the apex */
	if (labels < apex->labels)
		return NULL;
	size_t at = labels == apex->labels ? 0
	            : apex->labels == 0    ? len - 1 /* the root zone */
	                                   : offs[labels - apex->labels];
	if (len - at != apex->owner_len || !dname_bytes_equal(name + at, apex->owner, len - at))
		return NULL;
	return zone_version_closest_in(v, name, len, offs, labels, hash, exact);
}

const zone_node_t *zone_version_closest_in(const zone_version_t *v, const uint8_t *name, size_t len,
                                           const uint8_t *offs, unsigned labels, uint32_t hash,
                                           bool *exact)
{
	const zone_node_t *apex = v->apex;
	for (unsigned i = 0; i + apex->labels < labels; i++) {
		const zone_node_t *n = i == 0 ? find_hashed(v, name, len, hash)
		                              : zone_version_find(v, name + offs[i], len - offs[i]);
		if (n) {
			*exact = (i == 0);
			return n;
		}
	}
	*exact = (labels == apex->labels);
	return apex;
}

/* --- prefetching a batch (version.h) --- */

void zone_prefetch_start(zone_prefetch_t *p, const zone_version_t *v, size_t len, uint32_t hash,
                         uint16_t qtype)
{
	p->v = v;
	p->slot = hash & v->hash_mask;
	p->at = &v->hash[p->slot];
	p->step = 0;
	p->probes = 0;
	p->qtype = qtype;
	p->len = (uint8_t)len;
	p->tag = zone_hash_tag(hash);
	__builtin_prefetch(p->at);
}

void zone_prefetch_step(zone_prefetch_t *p)
{
	if (p->at == NULL)
		return;
	switch (p->step++) {
	case 0: { /* the slot is here: fetch its node */
		uint32_t slot = *(const uint32_t *)p->at;
		p->at = slot != 0 ? &p->v->nodes[slot - 1] : NULL;
		break;
	}
	case 1: { /* the node: another name's (its tag or length differ) sends the chain on to
		         * the next slot, as the lookup's probe goes (a few times at most); the
		         * name's: its owner (compared by the lookup) and its RRsets */
		const zone_node_t *n = p->at;
		if (n->tag != p->tag || n->owner_len != p->len) {
			uint32_t slot = p->v->hash[p->slot = (p->slot + 1) & p->v->hash_mask];
			p->at = slot != 0 && ++p->probes < ZONE_PREFETCH_PROBES
			            ? &p->v->nodes[slot - 1]
			            : NULL;
			p->step = 1; /* again */
			break;
		}
		p->at = n->rrset_count > 0 ? n->rrsets : NULL;
		p->count = n->rrset_count;
		if (p->at != NULL) {
			__builtin_prefetch(n->owner);
			__builtin_prefetch(n->rrsets + n->rrset_count - 1); /* a second line */
		}
		break;
	}
	case 2: { /* the RRsets: the RDATA of qtype's (a CNAME's when there is one) */
		const zone_rrset_t *rs = p->at;
		p->at = NULL;
		for (uint16_t k = 0; k < p->count; k++) {
			if (rs[k].type == p->qtype || rs[k].type == DNS_TYPE_CNAME) {
				p->at = rs[k].rdata;
				break;
			}
		}
		break;
	}
	default:
		p->at = NULL;
		return;
	}
	if (p->at != NULL)
		__builtin_prefetch(p->at);
}

/* --- links through the overlay --- */

static bool in_overlay(const zone_version_t *v, const void *p)
{
	uintptr_t a = (uintptr_t)v->head.ov, x = (uintptr_t)p;
	return x >= a && x < a + v->head.ov->size;
}

const zone_node_t *zone_node_wildcard_slow(const zone_version_t *v, const zone_node_t *n)
{
	if (n->owner_len + 2u > DNAME_MAX)
		return NULL;
	uint8_t wc[DNAME_MAX];
	wc[0] = 1;
	wc[1] = '*';
	memcpy(wc + 2, n->owner, n->owner_len);
	return zone_version_find(v, wc, n->owner_len + 2u);
}

const zone_node_t *zone_node_dname_slow(const zone_version_t *v, const zone_node_t *n)
{
	const zone_node_t *top = NULL;
	for (const zone_node_t *p = zone_node_parent(v, n); p != NULL; p = zone_node_parent(v, p)) {
		if (p->flags & ZONE_NODE_DNAME)
			top = p;
	}
	return top;
}

/* A link stored in a base node, as v sees it: the overlay's node of that owner when there is
 * one (NULL for a tombstone), else the base node itself. A link stored in an overlay node is
 * exact. */
const zone_node_t *zone_node_link_slow(const zone_version_t *v, const zone_node_t *from,
                                       const zone_node_t *p)
{
	if (v->head.ov == NULL || p == NULL || in_overlay(v, from))
		return p;
	const zone_node_t *n = arena_find(v->head.ov, p->owner, p->owner_len);
	if (n == NULL)
		return p;
	return (n->flags & ZONE_NODE_GONE) ? NULL : n;
}

/* A wildcard added under a base node puts that node in the overlay too (overlay.c), so a
 * base node's NULL wildcard stays right; a base RRset's NULL target may name a node the
 * overlay added: look its name up there. */
const zone_node_t *zone_rrset_target_slow(const zone_version_t *v, const zone_rrset_t *rs,
                                          uint16_t i)
{
	const zone_node_t *t = rs->targets[i];
	if (v->head.ov == NULL || in_overlay(v, rs))
		return t;
	if (t != NULL)
		return zone_node_link_slow(v, (const zone_node_t *)(const void *)rs, t);
	uint8_t name[DNAME_MAX];
	size_t len = zone_rrset_target_name(rs, i, name);
	const zone_node_t *n = arena_find(v->head.ov, name, len);
	return n != NULL && !(n->flags & ZONE_NODE_GONE) ? n : NULL;
}

/* --- canonical order --- */

void zone_version_iter_init(const zone_version_t *v, zone_version_iter_t *it)
{
	*it = (zone_version_iter_t){.v = v};
}

/* The merge of the base nodes the overlay does not replace and the overlay's live nodes. */
const zone_node_t *zone_version_iter_next(zone_version_iter_t *it)
{
	const zone_version_t *v = it->v;
	const zone_node_t *b = NULL, *o = NULL;
	for (; it->base < v->base_count; it->base++) {
		b = &v->nodes[it->base];
		if (v->head.ov == NULL ||
		    zone_arena_find(v->head.ov, b->owner, b->owner_len) == NULL)
			break;
		b = NULL;
	}
	for (; v->head.ov != NULL && it->ov < v->head.ov->base_count; it->ov++) {
		o = &v->head.ov->nodes[it->ov];
		if (!(o->flags & ZONE_NODE_GONE))
			break;
		o = NULL;
	}
	if (b != NULL && (o == NULL || dname_cmp_canonical(b->owner, o->owner) < 0)) {
		it->base++;
		return b;
	}
	if (o != NULL)
		it->ov++;
	return o;
}

const zone_rrset_t *zone_node_rrset(const zone_node_t *n, uint16_t type)
{
	for (uint16_t i = 0; i < n->rrset_count; i++) {
		if (n->rrsets[i].type == type)
			return &n->rrsets[i];
		if (n->rrsets[i].type > type)
			break;
	}
	return NULL;
}

size_t zone_rrset_rr_offset(const zone_rrset_t *rs, uint16_t i)
{
	size_t off = 0;
	for (uint16_t k = 0; k < i; k++)
		off += 2 + (((size_t)rs->rdata[off] << 8) | rs->rdata[off + 1]);
	return off;
}

size_t zone_rrset_target_name(const zone_rrset_t *rs, uint16_t i, uint8_t out[DNAME_MAX])
{
	const uint8_t *src =
	    dns_rdata_target(rs->type, rs->rdata + zone_rrset_rr_offset(rs, i) + 2);
	size_t len = dname_len(src);
	memcpy(out, src, len);
	dname_lower(out);
	return len;
}

/* --- references --- */

zone_version_t *zone_version_ref(const zone_version_t *v)
{
	zone_version_t *w = (zone_version_t *)v;
	__atomic_add_fetch(&w->refs, 1, __ATOMIC_RELAXED);
	return w;
}

void zone_version_unref(zone_version_t *v)
{
	if (!v)
		return;
	if (__atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	zone_version_unref((zone_version_t *)v->head.ov);
	zone_version_unref(v->base);
	zone_bindings_unref(v->bindings);
	zone_hidden_unref(v->hidden);
	zone_images_free(v->images);
	free(v);
}

/* --- RR type helpers --- */

static const struct {
	uint16_t type;
	const char *name;
} type_names[] = {
    {1, "A"},      {2, "NS"},     {5, "CNAME"},    {6, "SOA"},         {12, "PTR"},
    {13, "HINFO"}, {15, "MX"},    {16, "TXT"},     {17, "RP"},         {18, "AFSDB"},
    {28, "AAAA"},  {29, "LOC"},   {33, "SRV"},     {35, "NAPTR"},      {36, "KX"},
    {37, "CERT"},  {39, "DNAME"}, {41, "OPT"},     {43, "DS"},         {44, "SSHFP"},
    {46, "RRSIG"}, {47, "NSEC"},  {48, "DNSKEY"},  {50, "NSEC3"},      {51, "NSEC3PARAM"},
    {52, "TLSA"},  {59, "CDS"},   {60, "CDNSKEY"}, {61, "OPENPGPKEY"}, {64, "SVCB"},
    {65, "HTTPS"}, {99, "SPF"},   {250, "TSIG"},   {251, "IXFR"},      {252, "AXFR"},
    {255, "ANY"},  {256, "URI"},  {257, "CAA"},
};

const char *zone_type_to_str(uint16_t type, char buf[16])
{
	for (size_t i = 0; i < SD_ARRAY_LEN(type_names); i++) {
		if (type_names[i].type == type) {
			snprintf(buf, 16, "%s", type_names[i].name);
			return buf;
		}
	}
	snprintf(buf, 16, "TYPE%u", (unsigned)type); /* RFC 3597 5 */
	return buf;
}
