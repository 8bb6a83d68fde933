/* internal.h — the layout of a zone version, shared by the zone module's own files only.
 *
 * A version is a BASE arena, optionally seen through a small OVERLAY (copy-on-write commits,
 * zone/overlay.h):
 *
 *   full version:     v ── nodes/hash ──▶ its own arena (one allocation: the struct below,
 *                                          nodes, RRsets, targets, hash, owners, RDATA)
 *   overlay version:  v ── base ──▶ full version (a reference; nodes/hash copied from it)
 *                       └─ ov   ──▶ partial version: only the changed nodes, canonical order,
 *                                   own hash; a removed node is a tombstone (ZONE_NODE_GONE)
 *
 * A lookup asks the overlay first when there is one, then the base. Links stored in base nodes
 * (cut, dname, wildcard, parent, targets) point at base nodes; read through the accessors of
 * version.h they are re-resolved by owner in the overlay (version.c). Links stored in overlay
 * nodes are exact. Not for use outside zone/.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <urcu-qsbr.h>

#include "zone/bindings.h"
#include "zone/builder.h"
#include "zone/version.h"

/* zone_node_t.flags, overlay only: the node does not exist in the version (removed, or an
 * empty non-terminal that lost its last descendant). Never seen outside zone/. */
#define ZONE_NODE_GONE (1u << 15)

struct zone_version {
	zone_version_head_t
	    head;            /* first: head.ov, the overlay (a partial version, owned) or NULL */
	struct rcu_head rcu; /* for call_rcu in zone_publish */
	unsigned refs;       /* atomic (__atomic builtins); the last unref frees */
	uint64_t id;         /* zone_version_id */
	uint32_t serial;
	size_t node_count; /* nodes of the version (base and overlay merged) */
	size_t rr_count;
	size_t size; /* bytes of this allocation (header and arena) */
	const zone_node_t *apex;
	const zone_rrset_t *soa;
	/* the base arena: this version's own, or copied from `base` */
	const zone_node_t *nodes; /* canonical order, apex first */
	size_t base_count;
	const uint32_t *hash; /* open addressing, linear probing: node index + 1, 0 = empty */
	uint32_t hash_mask;
	zone_version_t *base; /* reference to the shared base, or NULL (a full version) */
	zone_version_t *ov;   /* the overlay (a partial version, owned), or NULL */
	zone_bindings_t
	    *bindings; /* reference: the table the version was built with; may be NULL */
	struct zone_hidden *hidden; /* reference: records transfers leave out (zone/hidden.h) */
	struct zone_images *images; /* owned: the pre-encoded answers (image.c), or NULL */
	bool images_done;           /* images built (zone_version_prepare), NULL or not */
};

/* Allocate a version with room for `extra` bytes of arena after the header (16-aligned);
 * refs = 1. Returns NULL on allocation failure. */
zone_version_t *zone_version_alloc(size_t extra);
/* The arena following the header. */
uint8_t *zone_version_arena(zone_version_t *v);

/* Exact lookup in one arena (base or overlay) only; tombstones are returned as they are. */
const zone_node_t *zone_arena_find(const zone_version_t *a, const uint8_t *name, size_t len);

/* Set n's parent, cut, dname, NONAUTH, wildcard and targets from what v's lookups return; n
 * is in v and every node before it in canonical order is linked (builder.c). */
void zone_node_link(const zone_version_t *v, zone_node_t *n, bool apex);
/* v->soa and v->serial from the apex SOA; the pre-encoded answers are dropped, to be built
 * when v is published (zone_version_prepare). */
void zone_version_set_soa(zone_version_t *v);

/* Build a partial version (an overlay) from the builder's records: one node per owner of a
 * record and per name in extra[0..nextra) (lowercased wire; a node without records when no
 * record has that owner), in canonical order, no empty non-terminals added, no links. The
 * per-node rules of zone_builder_finish apply (CNAME and other data, SOA, out of zone, class,
 * bindings), and the apex rules when the apex is among the owners; the tree rules (glue) are
 * the caller's. Consumes b. SD_ESEMANTIC when a rule failed (logged). */
int zone_builder_finish_part(zone_builder_t *b, uint8_t *const *extra, size_t nextra,
                             zone_version_t **out);

/* The pre-encoded answers of v (version.h: zone_image_t): the SOA image, and the referral
 * images when v has no overlay. v is linked. NULL when none could be built (no SOA, no memory:
 * the answer path then writes every RR itself). Control thread, before v is published. */
struct zone_images *zone_images_build(const zone_version_t *v);
void zone_images_free(struct zone_images *im);

/* The checks of zone_builder_finish on the whole zone, on their own: the records sorted,
 * merged and checked (messages logged) and kept for a finish, which then only lays them out
 * (or returns this result again). Returns 0, SD_ESEMANTIC, -ENOMEM. Does not consume b. */
int zone_builder_check(zone_builder_t *b);

/* RRset i (< zone_builder_rrset_count) of a checked builder, in canonical order (owner, then
 * type): owner lowercased, the RRset's TTL (RFC 2181 5.2, as the layout gives it), records
 * [first, first + count) in the layout's order, each read by zone_builder_rrset_rr (RDATA
 * as given, valid while b is). */
typedef struct zone_brrset {
	const uint8_t *owner;
	uint8_t owner_len;
	uint16_t type;
	uint32_t ttl;
	uint32_t count;
	uint32_t first;
} zone_brrset_t;
size_t zone_builder_rrset_count(const zone_builder_t *b);
/* The bindings b stamps with (NULL: none). */
const zone_bindings_t *zone_builder_bindings(const zone_builder_t *b);
void zone_builder_rrset(const zone_builder_t *b, size_t i, zone_brrset_t *out);
const uint8_t *zone_builder_rrset_rr(const zone_builder_t *b, const zone_brrset_t *s, uint32_t r,
                                     uint16_t *rdlen);
