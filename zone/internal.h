/* internal.h — the layout of a zone version, shared by the zone module's own files only.
 *
 * A version is one allocation (an arena): the struct below, then the node array, the RRset
 * array, the targets array, the hash table, the owner names and the RDATA, so freeing it is a
 * single free(). Not for use outside zone/.
 */
#pragma once

#include <stdint.h>
#include <urcu-qsbr.h>

#include "zone/version.h"

struct zone_version {
	struct rcu_head rcu; /* for call_rcu in zone_publish */
	unsigned refs;       /* atomic (__atomic builtins); the last unref frees */
	uint32_t serial;
	size_t node_count;
	size_t rr_count;
	const zone_node_t *nodes; /* canonical order, apex first */
	const zone_rrset_t *soa;
	const uint32_t *hash; /* open addressing, linear probing: node index + 1, 0 = empty */
	uint32_t hash_mask;
};

/* Allocate a version with room for `extra` bytes of arena after the header (16-aligned);
 * refs = 1. Returns NULL on allocation failure. */
zone_version_t *zone_version_alloc(size_t extra);
/* The arena following the header. */
uint8_t *zone_version_arena(zone_version_t *v);
