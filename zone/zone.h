/* zone.h — zones and their immutable versions.
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
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "contrib/base/compiler.h"
#include "zone/name.h"

/* RR types the engine treats specially. */
enum {
	ZONE_TYPE_A = 1,
	ZONE_TYPE_NS = 2,
	ZONE_TYPE_CNAME = 5,
	ZONE_TYPE_SOA = 6,
	ZONE_TYPE_PTR = 12,
	ZONE_TYPE_MX = 15,
	ZONE_TYPE_TXT = 16,
	ZONE_TYPE_AAAA = 28,
	ZONE_TYPE_SRV = 33,
	ZONE_TYPE_DNAME = 39,
	ZONE_TYPE_OPT = 41,
	ZONE_TYPE_DS = 43,
	ZONE_TYPE_RRSIG = 46,
	ZONE_TYPE_NSEC = 47,
	ZONE_TYPE_TSIG = 250,
	ZONE_TYPE_IXFR = 251,
	ZONE_TYPE_AXFR = 252,
	ZONE_TYPE_ANY = 255,
};

/* Classes (RFC 1035 3.2.4, 3.2.5). Zones hold IN data only. */
enum {
	ZONE_CLASS_IN = 1,
	ZONE_CLASS_CH = 3,
	ZONE_CLASS_ANY = 255,
};

/* zone_node_t.flags */
enum {
	ZONE_NODE_APEX = 1u << 0,    /* the zone apex */
	ZONE_NODE_DELEG = 1u << 1,   /* owns NS and is not the apex: a zone cut */
	ZONE_NODE_NONAUTH = 1u << 2, /* strictly below a zone cut (glue or occluded data) */
	ZONE_NODE_CNAME = 1u << 3,   /* owns a CNAME RRset */
	ZONE_NODE_DNAME = 1u << 4,   /* owns a DNAME RRset */
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
	uint8_t labels;              /* dname_labels(owner) */
	uint16_t flags;              /* ZONE_NODE_* */
	uint16_t rrset_count;        /* 0 for an empty non-terminal */
	const zone_rrset_t *rrsets;  /* sorted by type */
	const zone_node_t *parent;   /* NULL at the apex */
	const zone_node_t *wildcard; /* the child "*.<owner>" when it exists */
	const zone_node_t *cut;      /* highest ancestor-or-self zone cut (not the apex) or NULL */
	const zone_node_t *dname;    /* highest proper ancestor owning a DNAME, or NULL */
};

typedef struct zone_version zone_version_t;
typedef struct zone zone_t;

/* --- reading a version (any thread holding RCU read side or a reference) --- */

const zone_node_t *zone_version_apex(const zone_version_t *v) SD_NONNULL(1);
uint32_t zone_version_serial(const zone_version_t *v) SD_NONNULL(1);
const zone_rrset_t *zone_version_soa(const zone_version_t *v) SD_NONNULL(1);
size_t zone_version_node_count(const zone_version_t *v) SD_NONNULL(1);
/* Node i in canonical order (0 is the apex). */
const zone_node_t *zone_version_node(const zone_version_t *v, size_t i) SD_NONNULL(1);
size_t zone_version_rr_count(const zone_version_t *v) SD_NONNULL(1);

/* Exact lookup of a lowercased name (len = dname_len(name)); NULL when absent. Empty
 * non-terminals are found. */
const zone_node_t *zone_version_find(const zone_version_t *v, const uint8_t *name, size_t len)
    SD_NONNULL(1, 2);

/* Deepest existing node at or above a lowercased name that lies in the zone: the exact match
 * when it exists (then *exact is true), otherwise the closest encloser (RFC 4592). NULL when
 * the name is not in the zone. */
const zone_node_t *zone_version_closest(const zone_version_t *v, const uint8_t *name, bool *exact)
    SD_NONNULL(1, 2, 3);

/* RRset of a type at a node, or NULL. */
const zone_rrset_t *zone_node_rrset(const zone_node_t *n, uint16_t type) SD_NONNULL(1);

/* Offset in rrset->rdata of record i's rdlength field, walking from the start. */
size_t zone_rrset_rr_offset(const zone_rrset_t *rs, uint16_t i) SD_NONNULL(1);

/* --- building a version (control thread) --- */

typedef struct zone_builder zone_builder_t;

/* Start a version for the zone at apex (lowercased wire). */
int zone_builder_new(const uint8_t *apex, zone_builder_t **out) SD_NONNULL(1, 2) SD_WUR;
/* Add one record; owner is any-case wire form; rdata is wire form with names uncompressed.
 * where ("file:line") is kept for error messages and may be NULL. */
int zone_builder_add(zone_builder_t *b, const uint8_t *owner, uint16_t type, uint16_t rclass,
                     uint32_t ttl, const uint8_t *rdata, uint16_t rdlen, const char *where)
    SD_NONNULL(1, 2) SD_WUR;
/* Check the semantic rules (one SOA at apex, NS at apex, CNAME and other data, out-of-zone
 * data, missing glue) logging "file:line: message" for each violation, then build the
 * version. Consumes the builder in every case. Returns SD_ESEMANTIC when a rule failed. */
int zone_builder_finish(zone_builder_t *b, zone_version_t **out) SD_NONNULL(1, 2) SD_WUR;
void zone_builder_free(zone_builder_t *b);

/* Free an unpublished version (drops the reference zone_builder_finish returned; the memory
 * goes once every reference taken with zone_version_ref() is dropped too). */
void zone_version_free(zone_version_t *v);

/* Take a reference that keeps v alive outside an RCU read-side section (long transfers).
 * Any thread that can already see v (RCU read side or another reference). Returns v. */
zone_version_t *zone_version_ref(const zone_version_t *v) SD_NONNULL(1);
/* Drop a reference; the last one frees the version. Any thread. */
void zone_version_unref(zone_version_t *v);

/* Presentation mnemonic of an RR type ("A", "TYPE65000") into buf; returns buf. */
const char *zone_type_to_str(uint16_t type, char buf[16]) SD_NONNULL(2);

/* Offsets in rdata of the domain names embedded in a record of this type, for the types whose
 * names are known (RFC 1035 types, RP, AFSDB, RT, PX, KX, SRV, DNAME). Fills offs (up to 2)
 * and returns how many; 0 for other types; SD_EPARSE when the rdata is malformed for its type
 * (a name runs past rdlen or the fixed fields do not fit). Pure; any thread. */
int zone_rdata_names(uint16_t type, const uint8_t *rdata, uint16_t rdlen, uint16_t offs[2])
    SD_NONNULL(2, 4) SD_WUR;

/* --- zones and publication --- */

/* New zone with no version; apex lowercased wire; file may be NULL. */
int zone_new(const uint8_t *apex, const char *file, zone_t **out) SD_NONNULL(1, 3) SD_WUR;
/* Free a zone that no reader can see any more (after a grace period), with its version. */
void zone_free(zone_t *z);
const uint8_t *zone_apex(const zone_t *z) SD_NONNULL(1);
const char *zone_file(const zone_t *z) SD_NONNULL(1);

/* Current version (NULL before the first publish). Workers: inside an RCU read-side section
 * (QSBR: an online thread between quiescent states). */
const zone_version_t *zone_current(const zone_t *z) SD_NONNULL(1);

/* Control thread only: make v the current version; the previous one is freed after an RCU
 * grace period (call_rcu, never blocks). Takes ownership of v. The caller must be a thread
 * registered with liburcu-qsbr and online (call_rcu's rule). Call rcu_barrier() before exit to
 * run pending frees. */
void zone_publish(zone_t *z, zone_version_t *v) SD_NONNULL(1, 2);

/* --- loading from RFC 1035 master files (control thread; uses ldns) --- */

/* Parse a zone file ($ORIGIN, $TTL, $INCLUDE, RFC 3597 generic types) for the zone at apex
 * and build a version. Every syntax or semantic problem is logged as "file:line: message".
 * Returns 0, or SD_EPARSE / SD_ESEMANTIC / a negated errno with nothing built. */
int zone_load_file(const uint8_t *apex, const char *path, zone_version_t **out)
    SD_NONNULL(1, 2, 3) SD_WUR;

/* What identifies the bytes of one file: its identity (device, inode), size and mtime when it
 * was opened, and the SHA-256 of the bytes read. Stat alone can miss an edit (an in-place
 * rewrite of the same size within one timestamp tick: file timestamps come from a coarse
 * clock), hence the content hash. Two ids are equal when every field is. */
typedef struct zone_file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uint8_t sha256[32];
} zone_file_id_t;

/* One file a load read. path is the path it was opened by: the main path as given, an
 * $INCLUDE path joined to the including file's directory (relative paths stay relative to
 * the process's working directory, as the loader resolved them). */
typedef struct zone_load_source {
	char *path;
	zone_file_id_t id;
} zone_load_source_t;

/* The files a successful load read, the main file first, then each $INCLUDEd file in the
 * order it was first opened (a file included again with the same content is listed once). */
typedef struct zone_load_info {
	zone_load_source_t *files;
	size_t count;
} zone_load_info_t;

/* zone_load_file(), also returning in *info (owned by the caller, released with
 * zone_load_info_free()) every file read, with its id computed from the bytes the loader
 * read (no file is read twice). *info is overwritten; it is empty when the load fails. */
int zone_load_file_ex(const uint8_t *apex, const char *path, zone_load_info_t *info,
                      zone_version_t **out) SD_NONNULL(1, 2, 3, 4) SD_WUR;

/* Free the list and leave *info empty. Safe on an empty (zeroed) info. */
void zone_load_info_free(zone_load_info_t *info) SD_NONNULL(1);

/* The id of the file at path now: fstat and SHA-256 of its bytes, as a load would compute
 * it (a change check compares this with a load's zone_load_source_t.id). Only regular files
 * (-EINVAL otherwise, without blocking on a FIFO). Returns 0 or a negated errno. Any thread;
 * no ldns state. */
int zone_file_id_read(const char *path, zone_file_id_t *id) SD_NONNULL(1, 2) SD_WUR;

bool zone_file_id_equal(const zone_file_id_t *a, const zone_file_id_t *b) SD_NONNULL(1, 2);
