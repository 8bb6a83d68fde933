/* changeset.h — the difference between two zone versions, the unit of the journal and IXFR.
 *
 * A change set takes a zone from serial `from` to serial `to`: SOA(from), the records removed,
 * SOA(to), the records added — the order of an RFC 1995 IXFR difference sequence. Each record
 * is kept as an uncompressed wire RR with a lowercased owner:
 *
 *   owner | type u16 | class u16 | ttl u32 | rdlength u16 | rdata
 *
 * packed back to back in one buffer per section, so IXFR out and the journal copy bytes.
 * The SOA records are held apart from the removed/added lists, which never contain SOA.
 * A TTL change of an RRset is "remove the old records, add the new ones" (RFC 1995 gives no
 * other way to say it). Records are identified by owner, type, class and RDATA bytes; the TTL
 * is not part of the identity.
 *
 * Change sets are built and used by the control thread; a finished one is immutable and may
 * be read by any thread (IXFR out) while the owner keeps it alive.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "zone/bindings.h"
#include "zone/version.h"

/* One RR; pointers into a change set's or a version's memory. */
typedef struct zone_rr {
	const uint8_t *owner; /* uncompressed wire, lowercased */
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;
} zone_rr_t;

/* Walks the RRs of one section: while (zone_rr_iter_next(&it, &rr)) ... */
typedef struct zone_rr_iter {
	const uint8_t *pos;
	const uint8_t *end;
} zone_rr_iter_t;

typedef struct zone_changeset zone_changeset_t;

/* Where a change set came from (its source), kept with it in the journal (format 2) and the
 * IXFR history so that an operator can tell who changed what. zone/ knows the kinds only as
 * names; the text is the caller's: a file name, TSIG key names or client addresses, the
 * steered names, "to SERIAL by control". */
typedef enum zone_source_kind {
	ZONE_SOURCE_UNKNOWN = 0, /* a journal entry of format 1, or a commit that gave none */
	ZONE_SOURCE_RELOAD,      /* the zone file (text: its name) */
	ZONE_SOURCE_UPDATE,      /* RFC 2136 (text: the keys, or the clients when unsigned) */
	ZONE_SOURCE_HEALTH,      /* the steering transfer view (text: the steered names) */
	ZONE_SOURCE_ROLLBACK,    /* steerctl zone rollback (text: "to SERIAL by ...") */
	ZONE_SOURCE_KIND_MAX = ZONE_SOURCE_ROLLBACK,
} zone_source_kind_t;

/* Longest source text kept (bytes); a longer one is cut to this length (at a byte, not a
 * UTF-8 character) and ends in "...". */
#define ZONE_SOURCE_TEXT_MAX 255

typedef struct zone_source {
	zone_source_kind_t kind;
	const char *text; /* NUL-terminated, may be NULL or "" */
} zone_source_t;

/* text (NULL: "") into dst, cut as said above. */
void zone_source_text_copy(char dst[ZONE_SOURCE_TEXT_MAX + 1], const char *text) SD_NONNULL(1);
/* A source text that lists several items (the keys of a batch of updates, steered names):
 * "a, b, c", each item once, and " +N more" for the N that did not fit. */
typedef struct zone_source_list {
	char text[ZONE_SOURCE_TEXT_MAX + 1];
	size_t len, more;
} zone_source_list_t;
/* Add item (not again when listed already); an item that does not fit is counted. */
void zone_source_list_add(zone_source_list_t *l, const char *item) SD_NONNULL(1, 2);
/* The text, with " +N more" appended when items were left out; valid while l is. */
const char *zone_source_list_text(zone_source_list_t *l) SD_NONNULL(1);

/* "unknown", "reload", "update", "health", "rollback"; "unknown" for an out-of-range kind. */
const char *zone_source_kind_name(zone_source_kind_t kind);
/* The kind named name; false when none is. */
bool zone_source_kind_parse(const char *name, zone_source_kind_t *out) SD_NONNULL(1, 2) SD_WUR;

/* Walks the records of one RRset of a version as zone_rr_t (class IN, the RRset's TTL):
 *   zone_rrset_iter_start(&it, node, rs); while (zone_rrset_iter_next(&it, &rr)) ...
 * O(1) per step; the records point into the version (valid while it is). Any thread. */
typedef struct zone_rrset_iter {
	const zone_node_t *node;
	const zone_rrset_t *rs;
	const uint8_t *pos;
	uint16_t left;
} zone_rrset_iter_t;

void zone_rrset_iter_start(zone_rrset_iter_t *it, const zone_node_t *node, const zone_rrset_t *rs)
    SD_NONNULL(1, 2, 3);
bool zone_rrset_iter_next(zone_rrset_iter_t *it, zone_rr_t *rr) SD_NONNULL(1, 2);

/* The apex SOA record of v (pointing into v). Any thread. */
void zone_version_soa_rr(const zone_version_t *v, zone_rr_t *rr) SD_NONNULL(1, 2);

/* Next RR into *rr; false at the end. */
bool zone_rr_iter_next(zone_rr_iter_t *it, zone_rr_t *rr) SD_NONNULL(1, 2);

/* Order of record identity: owner (canonical), type, class, RDATA bytes; not the TTL. */
int zone_rr_cmp(const zone_rr_t *a, const zone_rr_t *b) SD_NONNULL(1, 2);

/* Size in bytes of rr as an uncompressed wire RR. */
size_t zone_rr_wire_size(const zone_rr_t *rr) SD_NONNULL(1);

/* Empty change set (no SOA yet). Caller frees with zone_changeset_free(). */
int zone_changeset_new(zone_changeset_t **out) SD_NONNULL(1) SD_WUR;
void zone_changeset_free(zone_changeset_t *cs);

/* Set SOA(from) and SOA(to) (type SOA, well-formed RDATA); the serials are read from them.
 * Returns 0, SD_EPARSE or -ENOMEM. */
int zone_changeset_set_soa(zone_changeset_t *cs, const zone_rr_t *from, const zone_rr_t *to)
    SD_NONNULL(1, 2, 3) SD_WUR;
/* Append a removed / an added record (copied; the owner is lowercased). SOA is refused with
 * SD_ESEMANTIC: use zone_changeset_set_soa(). */
int zone_changeset_remove(zone_changeset_t *cs, const zone_rr_t *rr) SD_NONNULL(1, 2) SD_WUR;
int zone_changeset_add(zone_changeset_t *cs, const zone_rr_t *rr) SD_NONNULL(1, 2) SD_WUR;

/* The transfer view (zone/hidden.h): append a record hidden from SOA(to) on / one shown again
 * (or removed from the content while hidden). Copied; SOA refused (SD_ESEMANTIC). Neither
 * list is part of the content: zone_changeset_apply() builds the same content with or
 * without them and gives the new version the hidden set zone_hidden_next() says. */
int zone_changeset_hide(zone_changeset_t *cs, const zone_rr_t *rr) SD_NONNULL(1, 2) SD_WUR;
int zone_changeset_unhide(zone_changeset_t *cs, const zone_rr_t *rr) SD_NONNULL(1, 2) SD_WUR;
size_t zone_changeset_hide_count(const zone_changeset_t *cs) SD_NONNULL(1);
size_t zone_changeset_unhide_count(const zone_changeset_t *cs) SD_NONNULL(1);
void zone_changeset_hidden(const zone_changeset_t *cs, zone_rr_iter_t *it) SD_NONNULL(1, 2);
void zone_changeset_unhidden(const zone_changeset_t *cs, zone_rr_iter_t *it) SD_NONNULL(1, 2);

/* The change set's time (UTC, seconds since the epoch; 0: unknown) and source (text copied,
 * cut at ZONE_SOURCE_TEXT_MAX). Not part of the content nor of the serialized payload: the
 * journal stores them in its entry header (zone/journal.h). */
void zone_changeset_set_origin(zone_changeset_t *cs, int64_t time, const zone_source_t *src)
    SD_NONNULL(1, 3);
/* The origin set before (kind UNKNOWN, text "" and time 0 when none was); src->text points
 * into cs. */
int64_t zone_changeset_origin(const zone_changeset_t *cs, zone_source_t *src) SD_NONNULL(1, 2);
/* Give dst src's origin (the visible form of a change set keeps who made it). */
void zone_changeset_copy_origin(zone_changeset_t *dst, const zone_changeset_t *src)
    SD_NONNULL(1, 2);

uint32_t zone_changeset_from(const zone_changeset_t *cs) SD_NONNULL(1);
uint32_t zone_changeset_to(const zone_changeset_t *cs) SD_NONNULL(1);
/* SOA(from) / SOA(to); false when not set yet. */
bool zone_changeset_soa_from(const zone_changeset_t *cs, zone_rr_t *out) SD_NONNULL(1, 2);
bool zone_changeset_soa_to(const zone_changeset_t *cs, zone_rr_t *out) SD_NONNULL(1, 2);
size_t zone_changeset_removed_count(const zone_changeset_t *cs) SD_NONNULL(1);
size_t zone_changeset_added_count(const zone_changeset_t *cs) SD_NONNULL(1);
void zone_changeset_removed(const zone_changeset_t *cs, zone_rr_iter_t *it) SD_NONNULL(1, 2);
void zone_changeset_added(const zone_changeset_t *cs, zone_rr_iter_t *it) SD_NONNULL(1, 2);
/* Bytes of all RRs (both SOAs, removed, added) as uncompressed wire RRs: an upper bound of
 * the IXFR answer section for this change set. */
size_t zone_changeset_wire_size(const zone_changeset_t *cs) SD_NONNULL(1);

/* The change set from old to new (same apex), computed by one merge walk of both node arrays
 * in canonical order, O(nodes + records); RRsets are compared record by record (sorted here,
 * independent of the builder's order). The SOA records become SOA(from)/SOA(to); other SOA
 * differences are not listed. Control thread; the versions must stay alive during the call. */
int zone_changeset_diff(const zone_version_t *old, const zone_version_t *new,
                        zone_changeset_t **out) SD_NONNULL(1, 2, 3) SD_WUR;

/* The change of one RRset, from rs at node x of a version (NULL: none) to the records
 * b[0..nb) (same owner and type, each carrying the new RRset's TTL), appended to cs as
 * zone_changeset_diff lists it: the records only in rs removed and those only in b added, or,
 * when the TTL changed, all of rs removed and all of b added. Sorts b. */
int zone_changeset_diff_rrset(zone_changeset_t *cs, const zone_node_t *x, const zone_rrset_t *rs,
                              zone_rr_t *b, size_t nb) SD_NONNULL(1) SD_WUR;

/* Build the version that cs makes of old: every record of old minus the removed ones plus the
 * added ones, with SOA(to). The cost follows the change, not the zone: the new version shares
 * old's arena and holds only the touched nodes (zone/overlay.h); a change that moves zone cuts
 * or DNAMEs, or an overlay past its bound, compacts into one arena in O(N) without a sort;
 * different bindings build in full. Either way the same rules as zone_builder_finish() hold. Fails with SD_ESEMANTIC (logged) when
 * old's serial is not cs's from-serial, a removed record is not in old, or an added record
 * is there already; errors of zone_builder_finish() are passed on. bindings (may be NULL)
 * are the zone's policy bindings, stamped as zone_builder_new() says. Control thread. */
int zone_changeset_apply(const zone_version_t *old, const zone_changeset_t *cs,
                         const zone_bindings_t *bindings, zone_version_t **out)
    SD_NONNULL(1, 2, 4) SD_WUR;
/* The same, always by a full build through zone_builder_* (O(N log N) in the zone): the
 * reference the copy-on-write path is tested and measured against. */
int zone_changeset_apply_full(const zone_version_t *old, const zone_changeset_t *cs,
                              const zone_bindings_t *bindings, zone_version_t **out)
    SD_NONNULL(1, 2, 4) SD_WUR;

/* Condense consecutive change sets list[0..n) (list[i].to == list[i+1].from, else
 * SD_ESEMANTIC) into one from list[0].from to list[n-1].to, as RFC 1995 section 5 allows:
 * a record added and later removed disappears, one removed and re-added with the same TTL
 * disappears, and each record appears at most once per section. The result lists records in
 * canonical order. The inputs are not modified. */
int zone_changeset_condense(const zone_changeset_t *const *list, size_t n, zone_changeset_t **out)
    SD_NONNULL(1, 3) SD_WUR;

/* Serialize for the journal into a malloc()ed buffer the caller frees. */
int zone_changeset_serialize(const zone_changeset_t *cs, uint8_t **buf, size_t *len)
    SD_NONNULL(1, 2, 3) SD_WUR;
/* Parse what zone_changeset_serialize() wrote; every record is bounds-checked. Returns 0,
 * SD_EPARSE or -ENOMEM. */
int zone_changeset_parse(const uint8_t *buf, size_t len, zone_changeset_t **out)
    SD_NONNULL(1, 3) SD_WUR;
