/* version.h — immutable zone versions: nodes, RRsets and the lookups the answer path makes.
 *
 * A zone_t is a served zone's identity (apex, source file); its contents are a
 * zone_version_t, immutable once published. Workers read the current version with one
 * atomic load (RCU, liburcu QSBR flavour) and never lock; the control thread builds a new
 * version and publishes it; the old one is freed after a grace period.
 *
 *   zone_t ──current──▶ zone_version_t
 *                         ├─ nodes[]  in canonical DNS order (RFC 4034 6.1), apex first,
 *                         │           empty non-terminals materialised as nodes with no RRsets
 *                         ├─ hash     owner name ─▶ node (exact lookups)
 *                         └─ each node ─▶ rrsets[] sorted by type, RDATA pre-encoded in wire form
 *
 * Nodes and RRsets are plain structs so that the answer path reads them directly; they live in
 * the version's memory and are valid as long as the version is (an RCU read-side section on a
 * worker, or a reference taken with zone_version_ref()).
 *
 * Versions share structure: a commit that changes a few names builds only those nodes (an
 * overlay) over the unchanged arena of an older version (the base), see zone/overlay.h. So a
 * node's links — parent, cut, dname, wildcard, and the targets of NS/MX/SRV — are read through
 * zone_node_parent() & co. with the version the node came from: without an overlay they are
 * the stored pointer (one test of a pointer more), with one a base node's link is re-resolved
 * by owner. Reading the fields directly is only right for a version without an overlay (the
 * builder's own output, which the unit tests check). Canonical order is walked with an
 * iterator (the merge of base and overlay), not by index.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/proto.h"

/* zone_node_t.flags */
enum {
	ZONE_NODE_APEX = 1u << 0,    /* the zone apex */
	ZONE_NODE_DELEG = 1u << 1,   /* owns NS and is not the apex: a zone cut */
	ZONE_NODE_NONAUTH = 1u << 2, /* strictly below a zone cut (glue or occluded data) */
	ZONE_NODE_CNAME = 1u << 3,   /* owns a CNAME RRset */
	ZONE_NODE_DNAME = 1u << 4,   /* owns a DNAME RRset */
	/* Links that are rarely there, kept as flags (a pointer each would cost 8 bytes on every
	 * node: 14 MB at 1M records) and found by lookup when set: */
	ZONE_NODE_WILDCARD = 1u << 5,    /* the child "*.<owner>" exists (zone_node_wildcard) */
	ZONE_NODE_UNDER_DNAME = 1u << 6, /* a proper ancestor owns a DNAME (zone_node_dname) */
};

typedef struct zone_node zone_node_t;

/* One RRset. RDATA is a run of `count` records, each [u16 rdlength, big endian][rdata], with
 * embedded names uncompressed and in the case they were loaded with, sorted in canonical RDATA
 * order with duplicates removed. */
typedef struct zone_rrset {
	uint16_t type;
	uint16_t count;
	uint32_t ttl;
	uint32_t rdata_len;
	uint16_t policy; /* steering policy id; 0 = plain RRset (assigned by the server) */
	const uint8_t *rdata;
	/* For NS, MX and SRV: `count` entries, the in-zone node named by each record's target
	 * (NULL when the target is outside the zone or does not exist); NULL for other types.
	 * Used for additional-section processing and glue. */
	const zone_node_t *const *targets;
} zone_rrset_t;

struct zone_node {
	const uint8_t *owner; /* lowercased wire name */
	uint8_t owner_len;
	uint8_t labels;             /* dname_labels(owner) */
	uint16_t flags;             /* ZONE_NODE_* */
	uint16_t rrset_count;       /* 0 for an empty non-terminal */
	uint16_t tag;               /* zone_hash_tag(dname_hash(owner)): a lookup's first test */
	const zone_rrset_t *rrsets; /* sorted by type */
	const zone_node_t *parent;  /* NULL at the apex */
	const zone_node_t *cut;     /* highest ancestor-or-self zone cut (not the apex) or NULL */
};

typedef struct zone_version zone_version_t;

/* The bits of a name's hash that its node keeps (tag): the hash's high half, which the slot
 * index (the low bits) does not use at up to 65,536 slots and uses only partly beyond. A
 * lookup compares it, with the length, before the owner: most other names that a probe meets
 * fail there, on the node's own cache line, and their owner bytes are never read. */
static inline uint16_t zone_hash_tag(uint32_t hash)
{
	return (uint16_t)(hash >> 16);
}

/* --- reading a version (any thread holding RCU read side or a reference) --- */

const zone_node_t *zone_version_apex(const zone_version_t *v) SD_NONNULL(1);
/* A number no other version of any zone has had or will have in this process (a counter
 * taken at allocation): with an address inside the version, it names data that cannot be
 * another version's, even after this one is freed and its memory reused. Any thread. */
uint64_t zone_version_id(const zone_version_t *v) SD_NONNULL(1);
uint32_t zone_version_serial(const zone_version_t *v) SD_NONNULL(1);
const zone_rrset_t *zone_version_soa(const zone_version_t *v) SD_NONNULL(1);
size_t zone_version_node_count(const zone_version_t *v) SD_NONNULL(1);
size_t zone_version_rr_count(const zone_version_t *v) SD_NONNULL(1);

/* Walks the nodes of a version in canonical order, apex first, empty non-terminals included:
 *   zone_version_iter_t it; zone_version_iter_init(v, &it);
 *   for (const zone_node_t *n; (n = zone_version_iter_next(&it)) != NULL;) ...
 * A plain value (it may be kept between calls, e.g. by an AXFR cursor) valid while v is.
 * O(1) per node amortised, plus one overlay lookup per base node when v has an overlay. */
typedef struct zone_version_iter {
	const zone_version_t *v;
	size_t base; /* next index in the base arena */
	size_t ov;   /* next index in the overlay */
} zone_version_iter_t;

void zone_version_iter_init(const zone_version_t *v, zone_version_iter_t *it) SD_NONNULL(1, 2);
const zone_node_t *zone_version_iter_next(zone_version_iter_t *it) SD_NONNULL(1);

/* Exact lookup of a lowercased name (len = dname_len(name)); NULL when absent. Empty
 * non-terminals are found. */
const zone_node_t *zone_version_find(const zone_version_t *v, const uint8_t *name, size_t len)
    SD_NONNULL(1, 2);

/* Deepest existing node at or above a lowercased name that lies in the zone: the exact match
 * when it exists (then *exact is true), otherwise the closest encloser (RFC 4592). NULL when
 * the name is not in the zone. */
const zone_node_t *zone_version_closest(const zone_version_t *v, const uint8_t *name, bool *exact)
    SD_NONNULL(1, 2, 3);

/* zone_version_closest() of a name the caller measured (see zone_set_find_at()) and hashed
 * (hash: its dname_hash()). */
const zone_node_t *zone_version_closest_at(const zone_version_t *v, const uint8_t *name, size_t len,
                                           const uint8_t *offs, unsigned labels, uint32_t hash,
                                           bool *exact) SD_NONNULL(1, 2, 4, 7);

/* zone_version_closest_at() of a name the caller knows to lie at or below v's apex (it found
 * the zone by that name: zone_set_find_at()): the apex's suffix is not compared again. */
const zone_node_t *zone_version_closest_in(const zone_version_t *v, const uint8_t *name, size_t len,
                                           const uint8_t *offs, unsigned labels, uint32_t hash,
                                           bool *exact) SD_NONNULL(1, 2, 4, 7);

/* Prefetching a batch's lookups (server/udp.c). An exact lookup is a chain of reads, each of
 * which needs the one before: the hash slot, the node, its owner and RRsets, the RDATA. On a
 * zone of 100k names each is a cache miss (dnsperf against a 1k-name and a 100k-name zone:
 * 0.85 against 1.6 us of user time per query). Taking several queries' chains one step at a
 * time lets their misses overlap instead of following one another. A step only prefetches
 * and reads what the step before fetched: nothing is decided from it, so a slot taken by
 * another name, an overlay or a name that is not there costs a useless prefetch, never an
 * answer. */
typedef struct zone_prefetch {
	const zone_version_t *v;
	const void *at; /* what the next step reads; NULL: nothing left to fetch */
	uint8_t step;
	uint8_t probes; /* nodes of other names met */
	uint8_t len;    /* the name's length and tag: its node, or a slot's other name? */
	uint16_t tag;
	uint16_t qtype;
	uint16_t count; /* the node's RRsets, at step 2 */
	uint32_t slot;  /* the hash slot read last */
} zone_prefetch_t;

/* Begin the chain of the exact lookup of a lowercased name of len bytes and dname_hash()
 * hash, for qtype's RRset: prefetch its hash slot. */
void zone_prefetch_start(zone_prefetch_t *p, const zone_version_t *v, size_t len, uint32_t hash,
                         uint16_t qtype) SD_NONNULL(1, 2);
/* The next link: the slot's node (the next slot's, as the lookup probes, when it is another
 * name's: at most ZONE_PREFETCH_PROBES nodes in all), then its owner and RRsets, then qtype's
 * RDATA. After ZONE_PREFETCH_STEPS steps p->at is NULL: nothing is left to fetch. */
#define ZONE_PREFETCH_PROBES 3
#define ZONE_PREFETCH_STEPS  (ZONE_PREFETCH_PROBES + 3)
void zone_prefetch_step(zone_prefetch_t *p) SD_NONNULL(1);

/* The start of every zone_version_t (zone/internal.h), public only so that the link
 * accessors below inline their common case — a version without an overlay — to one load and
 * one test before the stored pointer. Not for any other use. */
typedef struct zone_version_head {
	const zone_version_t *ov; /* the overlay, or NULL */
} zone_version_head_t;

/* The links of node n as version v sees them (n must come from v: a lookup, an iterator or
 * another link). Allocation-free, lock-free; any thread that may read v. The *_slow
 * functions are their overlay case. */
const zone_node_t *zone_node_link_slow(const zone_version_t *v, const zone_node_t *from,
                                       const zone_node_t *p) SD_NONNULL(1, 2);
const zone_node_t *zone_rrset_target_slow(const zone_version_t *v, const zone_rrset_t *rs,
                                          uint16_t i) SD_NONNULL(1, 2);

static inline bool zone_version_plain(const zone_version_t *v)
{
	return SD_LIKELY(((const zone_version_head_t *)(const void *)v)->ov == NULL);
}

static inline const zone_node_t *zone_node_parent(const zone_version_t *v, const zone_node_t *n)
{
	return zone_version_plain(v) ? n->parent : zone_node_link_slow(v, n, n->parent);
}

static inline const zone_node_t *zone_node_cut(const zone_version_t *v, const zone_node_t *n)
{
	return zone_version_plain(v) ? n->cut : zone_node_link_slow(v, n, n->cut);
}

/* The highest proper ancestor of n owning a DNAME, or NULL (a walk up the parents, only when
 * ZONE_NODE_UNDER_DNAME says there is one). */
const zone_node_t *zone_node_dname_slow(const zone_version_t *v, const zone_node_t *n)
    SD_NONNULL(1, 2);
static inline const zone_node_t *zone_node_dname(const zone_version_t *v, const zone_node_t *n)
{
	return (n->flags & ZONE_NODE_UNDER_DNAME) ? zone_node_dname_slow(v, n) : NULL;
}

/* The child "*.<owner>" of n, or NULL (a lookup, only when ZONE_NODE_WILDCARD says it is
 * there). */
const zone_node_t *zone_node_wildcard_slow(const zone_version_t *v, const zone_node_t *n)
    SD_NONNULL(1, 2);
static inline const zone_node_t *zone_node_wildcard(const zone_version_t *v, const zone_node_t *n)
{
	return (n->flags & ZONE_NODE_WILDCARD) ? zone_node_wildcard_slow(v, n) : NULL;
}

/* The in-zone node named by record i of an NS/MX/SRV RRset rs of v (rs->targets != NULL,
 * i < rs->count), or NULL. */
static inline const zone_node_t *zone_rrset_target(const zone_version_t *v, const zone_rrset_t *rs,
                                                   uint16_t i)
{
	return zone_version_plain(v) ? rs->targets[i] : zone_rrset_target_slow(v, rs, i);
}

/* RRset of a type at a node, or NULL. */
const zone_rrset_t *zone_node_rrset(const zone_node_t *n, uint16_t type) SD_NONNULL(1);

/* Offset in rrset->rdata of record i's rdlength field, walking from the start. */
size_t zone_rrset_rr_offset(const zone_rrset_t *rs, uint16_t i) SD_NONNULL(1);

/* The target name of record i of an NS/MX/SRV RRset rs (i < rs->count), lowercased into out
 * (zone names are looked up lowercased); returns its length. Allocation-free. */
size_t zone_rrset_target_name(const zone_rrset_t *rs, uint16_t i, uint8_t out[DNAME_MAX])
    SD_NONNULL(1, 3);

/* --- pre-encoded answers (zone/image.c) ---
 *
 * The RRs of the answers that cost most to compress, encoded once per version as dns/msg.h
 * relocatable images: the apex SOA of a negative answer (anchor: the apex, which every name
 * answered from the zone ends with), each delegation's referral (anchor: the cut; the NS
 * RRset, then the glue in the order the answer path writes it) and each CNAME RRset of one
 * record (anchor: its owner, asked for by name). The last two are built with a full version
 * (a build or a compaction); a version with an overlay uses its base's for the nodes the
 * overlay leaves as they are: a CNAME owner, or a cut with nothing changed at or below it
 * and no name server elsewhere in the zone (whose glue the overlay could have changed). clash lists
 * the labels just below the anchor in the image's names (lowercased, back to back): a question
 * name with one of them there would compress better than the image, so the answer path writes
 * the RRs one by one then. */
typedef struct zone_image {
	uint8_t an, ns;      /* records in answer and authority */
	uint16_t ar;         /* and in additional */
	uint16_t clash_len;  /* clash bytes, right after the image's wire (zone_image_clash) */
	bool own_glue;       /* a referral whose in-zone name servers all lie at or below its cut */
	dns_msg_image_t msg; /* last: its data follows it (dns/msg.h) */
} zone_image_t;

_Static_assert(offsetof(zone_image_t, msg) + sizeof(dns_msg_image_t) == sizeof(zone_image_t),
               "an image's data follows its header");

static inline const uint8_t *zone_image_clash(const zone_image_t *img)
{
	return dns_msg_image_wire(&img->msg) + img->msg.len;
}

/* The negative answer's SOA (TTL: RFC 2308 3), or NULL (none was built). */
const zone_image_t *zone_version_soa_image(const zone_version_t *v) SD_NONNULL(1);
/* The referral to cut (a node of v owning NS below the apex), or NULL: none built (steered
 * glue, an image too large) or none that holds in v (above). Its names are not registered for
 * compression (nothing named follows a referral). */
const zone_image_t *zone_version_referral_image(const zone_version_t *v, const zone_node_t *cut)
    SD_NONNULL(1, 2);
/* The CNAME RR of node n (which owns one, not steered) written with owner n, its compression
 * entries and its target's memo kept for the target's own records; or NULL. */
const zone_image_t *zone_version_cname_image(const zone_version_t *v, const zone_node_t *n)
    SD_NONNULL(1, 2);

/* --- references --- */

/* Take a reference that keeps v alive outside an RCU read-side section (long transfers).
 * Any thread that can already see v (RCU read side or another reference). Returns v. */
zone_version_t *zone_version_ref(const zone_version_t *v) SD_NONNULL(1);
/* Drop a reference; the last one frees the version. Any thread. */
void zone_version_unref(zone_version_t *v);

/* Presentation mnemonic of an RR type ("A", "TYPE65000") into buf; returns buf. */
const char *zone_type_to_str(uint16_t type, char buf[16]) SD_NONNULL(2);
