/* version.c — reading zone versions, references, zones and their RCU publication.
 *
 * Every lookup here is allocation-free and reads only the version's arena.
 */
#include "zone/internal.h"
#include "zone/version.h"
#include "contrib/base/err.h"

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
	memset(v, 0, sizeof(*v));
	v->refs = 1;
	return v;
}

uint8_t *zone_version_arena(zone_version_t *v)
{
	return (uint8_t *)v + header_size();
}

/* --- reading --- */

const zone_node_t *zone_version_apex(const zone_version_t *v)
{
	return &v->nodes[0];
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

const zone_node_t *zone_version_node(const zone_version_t *v, size_t i)
{
	return i < v->node_count ? &v->nodes[i] : NULL;
}

size_t zone_version_rr_count(const zone_version_t *v)
{
	return v->rr_count;
}

const zone_node_t *zone_version_find(const zone_version_t *v, const uint8_t *name, size_t len)
{
	uint32_t i = dname_hash(name, len) & v->hash_mask;
	for (;;) {
		uint32_t slot = v->hash[i];
		if (slot == 0)
			return NULL;
		const zone_node_t *n = &v->nodes[slot - 1];
		if (n->owner_len == len && memcmp(n->owner, name, len) == 0)
			return n;
		i = (i + 1) & v->hash_mask;
	}
}

/* Strip labels from the left until a node exists; the apex always does, so the loop ends
 * there at the latest (RFC 4592 2.2.1, closest encloser). */
const zone_node_t *zone_version_closest(const zone_version_t *v, const uint8_t *name, bool *exact)
{
	const zone_node_t *apex = &v->nodes[0];
	*exact = false;
	if (!dname_is_subdomain(name, apex->owner))
		return NULL;
	uint8_t offs[DNAME_LABELS_MAX];
	unsigned labels = dname_label_offsets(name, offs);
	size_t len = dname_len(name);
	for (unsigned i = 0; i + apex->labels < labels; i++) {
		const zone_node_t *n = zone_version_find(v, name + offs[i], len - offs[i]);
		if (n) {
			*exact = (i == 0);
			return n;
		}
	}
	*exact = (labels == apex->labels);
	return apex;
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
	if (__atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) == 0)
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
