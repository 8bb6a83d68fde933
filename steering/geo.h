/* geo.h — geo steering: MaxMind databases, a policy's geo rules, and the per-query geo stage.
 *
 * A database (the config's `geoip.databases`) is a MaxMind DB file opened with libmaxminddb
 * (MMDB_MODE_MMAP), reference counted and replaced as a whole (a reload opens a new one; the
 * old one closes when its last reader lets go). At open, its search tree is decoded once into
 * 32-bit records (steer_geo_db_t.node_recs: 8 bytes a node, as many nodes as the file's
 * tree), checked to have no path longer than its addresses, and each distinct data record
 * the tree points at is decoded once into a steer_geo_rec_t (continent, country, first
 * subdivision, location), sorted by data offset.
 *
 * A policy's `geo:` key (steer_geo_conf_t) maps codes to ordered pool lists. A map
 * (steer_geo_map_t) compiles one policy's rules against one database: every record gets the
 * index of its pool list (most specific rule first: subdivision, country, continent, then
 * distance when on, then default), so that the query path is
 *
 *   client address ─▶ the jump table for its first 20 bits, then the bit walk of the
 *                     decoded tree, one load a bit (an IPv4 client starts at the ::/96 node
 *                     found at open) ─▶ the record's index (in the decoded record) and the
 *                     netmask ─▶ the record's list
 *
 * with no string compared, no allocation, no lock, no syscall. steer_geo_decide_walk() is the
 * same decision made the way libmaxminddb is usually used (MMDB_lookup_sockaddr, then
 * MMDB_get_value per field, rules by string): the reference the unit tests compare with and
 * what contrib/bench/steer_bench.c measures against.
 *
 * Maps and databases are immutable once built; the steering snapshot (steering/snap.h)
 * holds a reference to each policy's map, so a database replaced on the control thread is
 * swapped with the snapshot (RCU) and closed after the grace period.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "contrib/base/bytes.h"
#include "contrib/base/compiler.h"
#include "steering/policy.h"

#define STEER_GEO_CODE_MAX 8 /* "EU", "JP", "US-CA" (+ NUL) */

/* The bits of an address the jump table takes at once (steer_geo_db_t.jump_rec): 2^20
 * entries per family (5 MiB), and most networks of a City or Country database are /20 or
 * longer: a walk starts there, 4 bits (4 loads) short of a /24. */
#define STEER_GEO_JUMP_BITS 20
/* An IPv6 jump entry with a path below it longer than 63 bits (steer_geo_walk). */
#define STEER_GEO_JUMP_DEEP 0x80

typedef enum {
	STEER_GEO_DEFAULT = 0,
	STEER_GEO_DISTANCE,
	STEER_GEO_CONTINENT,
	STEER_GEO_COUNTRY,
	STEER_GEO_SUBDIVISION,
} steer_geo_kind_t;

/* "default", "distance", "continent", "country", "subdivision". */
const char *steer_geo_kind_name(steer_geo_kind_t k);

/* One rule of a policy's geo: key (or its default). */
typedef struct steer_geo_rule {
	steer_geo_kind_t kind;
	char code[STEER_GEO_CODE_MAX]; /* upper case; empty for the default */
	uint8_t pools[STEER_POOLS_MAX];
	uint8_t npools;
} steer_geo_rule_t;

typedef struct steer_geo_conf {
	uint16_t db;   /* index into the table's databases (steer_table_t.dbs) */
	bool ecs;      /* use the EDNS Client Subnet address; default true */
	bool distance; /* order located pools by distance for clients no rule matches */
	steer_geo_rule_t *rules;
	size_t nrules;
	steer_geo_rule_t def;
} steer_geo_conf_t;

void steer_geo_conf_free(steer_geo_conf_t *g);

/* ---- databases ------------------------------------------------------------------------ */

typedef struct steer_geo_rec {
	char continent[3];
	char country[3];
	char subdiv[STEER_GEO_CODE_MAX]; /* "US-CA": country, '-', the first subdivision */
	bool located;
	double lat, lon;
} steer_geo_rec_t;

typedef struct steer_geo_db {
	unsigned refs; /* atomic */
	char *name;
	char *path;
	struct MMDB_s *mmdb;   /* libmaxminddb's handle (only steering/geo.c includes its header) */
	uint32_t *offs;        /* data offsets of the records, ascending */
	steer_geo_rec_t *recs; /* recs[i] decodes offs[i] */
	size_t nrecs;
	/* The search tree (MaxMind DB spec, "Search Tree"), decoded once at open from its 24,
	 * 28 or 32-bit records into plain 32-bit ones, 8 bytes a node (the file's nodes are 6,
	 * 7 or 8): node n's left record at [2n], its right at [2n + 1]. A record < nodes is a
	 * node; nodes is "empty"; a data record is stored as nodes + 1 + the index of its
	 * decoded record in recs (one the file points outside its data section reads as
	 * empty). So a query's walk is one load a bit, with no record-size decoding and no
	 * look-up of the data offset at its end. */
	uint32_t *node_recs;
	uint32_t nodes;
	uint16_t record_bits; /* 24, 28 or 32, as in the file */
	bool ipv6;
	uint32_t v4_start; /* IPv6 tree: the record at ::/96 (where IPv4 addresses start) */
	uint8_t v4_depth;  /* its depth: 96, or less when the tree ends above it */
	/* The first STEER_GEO_JUMP_BITS bits of the walk, done once per value at load: for each value
	 * of an address's first bits, the record the walk reaches after them (or the terminal
	 * record it met before) and the bits it took. [0]: IPv4 (from v4_start in an IPv6 tree),
	 * [1]: IPv6 (NULL in an IPv4 tree). A query walks on from there, bit by bit. */
	uint32_t *jump_rec[2];
	uint8_t *jump_bits[2]; /* | STEER_GEO_JUMP_DEEP: see steer_geo_walk */
	/* the file opened, to notice a replacement (steer_geo_db_changed); the control thread
	 * that watches the file may move them on to a replacement that failed to open, so as
	 * not to retry it before it changes again (workers never read them) */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
} steer_geo_db_t;

/* Open path (MMDB_MODE_MMAP), walk and decode it. Returns 0, -ENOMEM or -EIO with a
 * message naming the path and libmaxminddb's error in err. Any thread (control thread in
 * the server). Caller owns *out (steer_geo_db_unref). */
int steer_geo_db_open(const char *name, const char *path, steer_geo_db_t **out, char *err,
                      size_t errlen) SD_NONNULL(1, 2, 3, 4) SD_WUR;
steer_geo_db_t *steer_geo_db_ref(const steer_geo_db_t *db) SD_NONNULL(1);
/* Drop a reference (NULL is fine); the last one closes the file. */
void steer_geo_db_unref(steer_geo_db_t *db);
/* The database_type of its metadata ("GeoIP2-City", ...), "?" when it has none. */
const char *steer_geo_db_type(const steer_geo_db_t *db) SD_NONNULL(1);
/* Whether the file at db->path is no longer the one db opened (another inode, size or
 * mtime; a missing file counts as unchanged: there is nothing to open). A stat(2). */
bool steer_geo_db_changed(const steer_geo_db_t *db) SD_NONNULL(1);

/* ---- the per-policy map and the decision ------------------------------------------------ */

/* An ordered pool list of a policy: what the failover stage walks. */
typedef struct steer_geo_list {
	steer_geo_kind_t kind; /* which rule yields it */
	uint16_t rule;         /* index into the conf's rules (CONTINENT..SUBDIVISION) */
	uint8_t n;
	uint8_t pools[STEER_POOLS_MAX];
	/* the pools of the map's first list with this list's pools (n and order): lists of
	 * different rules that order the same pools (GB -> [us, eu] and NA -> [us, eu]) make
	 * the same plan, and the memo keys plans by this (steering/memo.h: key.order) */
	const uint8_t *order;
} steer_geo_list_t;

typedef struct steer_geo_map {
	unsigned refs;           /* atomic */
	steer_geo_db_t *db;      /* a reference */
	steer_geo_list_t *lists; /* lists[0]: the default */
	size_t nlists;
	uint16_t *rec_list; /* [1 + db->nrecs]: index into lists, by terminal record - nodes:
	                     * [0] (empty) the default, [1 + i] record i's */
} steer_geo_map_t;

/* Compile policy p's geo rules (p->geo not NULL) against db. Caller owns *out. */
int steer_geo_map_build(const steer_policy_t *p, steer_geo_db_t *db, steer_geo_map_t **out)
    SD_NONNULL(1, 2, 3) SD_WUR;
steer_geo_map_t *steer_geo_map_ref(const steer_geo_map_t *m) SD_NONNULL(1);
/* Whether policies a and b (both with geo:) compile to the same map over one database: the
 * same database, rules, default and distance (and, with distance, the same pool locations),
 * so that one map may serve both (names steered alike share it). Pure. */
bool steer_geo_same_map(const steer_policy_t *a, const steer_policy_t *b) SD_NONNULL(1, 2);
void steer_geo_map_unref(steer_geo_map_t *m);

/* What the geo stage decided for one client. */
typedef struct steer_geo_hit {
	const steer_geo_list_t *list; /* never NULL */
	int32_t rec;                  /* index into db->recs; -1: no record (empty node) */
	uint8_t netmask;              /* prefix of the database network or empty node, in the
	                               * tree's terms (IPv4 in an IPv6 tree: 96 + n) */
	uint8_t scope;                /* the same in the client's family (RFC 7871 SCOPE) */
} steer_geo_hit_t;

/* The netmask in the client's family: an IPv4 client in an IPv6 tree sits under ::/96
 * (MaxMind DB spec, "IPv4 addresses in an IPv6 tree"). Pure. */
static inline uint8_t steer_geo_scope_of(bool ipv6_tree, const steer_addr_t *a, unsigned netmask)
{
	if (a->len == 4 && ipv6_tree)
		return netmask > 96 ? (uint8_t)(netmask - 96) : 0;
	return (uint8_t)(netmask > a->len * 8u ? a->len * 8u : netmask);
}

/* The walk below for an IPv6 address whose jump entry has STEER_GEO_JUMP_DEEP: from record r,
 * i bits taken, over all 128 bits (the terminal record in *rec); returns the depth. */
unsigned steer_geo_walk_deep(const steer_geo_db_t *db, const steer_addr_t *a, uint32_t r,
                             unsigned i, uint32_t *rec) SD_NONNULL(1, 2, 5);

/* The bit walk of steer_geo_decide: the terminal record for a (>= nodes: nodes is "empty",
 * above it nodes + 1 + a data index, node_recs) and the bits taken in a's family (the
 * network's prefix length: an IPv4 address of an IPv6 tree starts at v4_start); false for
 * an IPv6 address in an IPv4 tree. The jump table takes the first bits; the loop walks the
 * rest, one load a bit, with w holding the address's next bits from its top bit down and a
 * marker, a 1 just below the last bit the walk may read: once it has moved up by the bits
 * walked it is w's lowest 1, so no count is kept. An IPv4 address has 32 bits (the marker
 * at bit 31 of w); the tree's paths are no longer than the address's bits (checked when
 * the database was opened). An IPv6 walk stays within the address's first 64 bits unless
 * its jump entry says otherwise (STEER_GEO_JUMP_DEEP, found at open: some path below it is
 * longer than 63 bits), so the marker takes the place of bit 63 and a 64-bit word carries
 * it; a deep entry walks all 128 bits (steer_geo_walk_deep). Inline, as the rest of the
 * query path's geo stage: it is the per-query hot loop. */
static inline bool steer_geo_walk(const steer_geo_db_t *db, const steer_addr_t *a, uint32_t *rec,
                                  unsigned *bits)
{
	unsigned fam = a->len == 16;
	if (fam && !db->ipv6)
		return false;
	_Static_assert(STEER_GEO_JUMP_BITS <= 24, "the jump index is in the first 32 bits, the "
	                                          "shifts below stay under 64");
	uint32_t hi = be32_get(a->bytes), x = hi >> (32 - STEER_GEO_JUMP_BITS);
	uint32_t r = db->jump_rec[fam][x], nodes = db->nodes;
	unsigned i = db->jump_bits[fam][x], mark = 31;
	const uint32_t *t = db->node_recs;
	uint64_t w = (uint64_t)hi << 32 | 1u << 31;
	if (fam) {
		if (SD_UNLIKELY(i & STEER_GEO_JUMP_DEEP)) {
			*bits = steer_geo_walk_deep(db, a, r, i & ~STEER_GEO_JUMP_DEEP, rec);
			return true;
		}
		w = (uint64_t)hi << 32 | be32_get(a->bytes + 4) | 1u;
		mark = 0;
	}
	for (w <<= i; r < nodes; w <<= 1)
		r = t[(size_t)r * 2 + (w >> 63)];
	*bits = (unsigned)__builtin_ctzll(w) - mark;
	*rec = r;
	return true;
}

/* The list for client address a (4 or 16 bytes). No allocation, lock or syscall; any
 * thread that holds m. An IPv6 client of an IPv4-only database gets the default, scope 0. */
static inline void steer_geo_decide(const steer_geo_map_t *m, const steer_addr_t *a,
                                    steer_geo_hit_t *out)
{
	const steer_geo_db_t *db = m->db;
	uint32_t rec;
	unsigned bits;
	out->list = &m->lists[0];
	out->rec = -1;
	out->netmask = out->scope = 0;
	if (!steer_geo_walk(db, a, &rec, &bits))
		return;
	/* an IPv4 address of an IPv6 tree: its bits start at v4_depth (an IPv4 tree's is 0) */
	out->netmask = (uint8_t)((a->len == 4 ? db->v4_depth : 0) + bits);
	out->scope = (uint8_t)bits;
	/* rec >= nodes: nodes is "empty" (the default list), nodes + 1 + i record i's */
	out->rec = (int32_t)(rec - db->nodes) - 1;
	out->list = &m->lists[m->rec_list[rec - db->nodes]];
}

/* The same decision the uncompiled way: MMDB_lookup_sockaddr, then MMDB_get_value by path
 * for the record's codes and location, rules matched by string, distance computed per call
 * (rec: the index of the offset libmaxminddb found, by a search of db->offs). Tests and
 * benchmark; the returned list points into scratch (for a distance answer) or into m. */
void steer_geo_decide_walk(const steer_geo_map_t *m, const steer_policy_t *p, const steer_addr_t *a,
                           steer_geo_list_t *scratch, steer_geo_hit_t *out)
    SD_NONNULL(1, 2, 3, 4, 5);

/* Great-circle distance in km between two (lat, lon) points in degrees. Pure. */
double steer_geo_distance_km(double lat1, double lon1, double lat2, double lon2);
