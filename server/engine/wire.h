/* wire.h — a bounded DNS message writer with name compression (RFC 1035 4.1.4).
 *
 * The writer appends to a caller-owned buffer and never writes past `lim`, the active size
 * limit (the UDP payload size, or 65535 over TCP). Every append either completes or returns
 * SD_ESPACE having written nothing the caller needs to keep; callers take a mark before an
 * RRset and roll back to it on failure, so an RRset is never split.
 *
 * Compression uses a small fixed table of (name suffix -> offset) entries: each entry points
 * at a wire-form name that stays valid for the whole message (zone memory, or buffers in the
 * answer context) and records where that suffix was written. Lookups are case-insensitive;
 * a pointer reproduces the case of the first occurrence, which is how the owner of an answer
 * at the question name keeps the case the client sent (it compresses to offset 12).
 *
 *   buf: [header 12][question][answer ...][authority ...][additional ...]
 *                    ^ off 12 = qname, registered first
 *
 * Nothing allocates. Single-threaded: one writer per worker context.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/bytes.h"
#include "contrib/base/compiler.h"
#include "dns/name.h"

/* Table size: enough for the question, a few RRset owners and their RDATA names; when it is
 * full further names are written uncompressed (correct, just larger). */
#define SRV_WIRE_COMP_MAX 64

typedef struct srv_wire_comp {
	const uint8_t *name; /* uncompressed wire-form suffix, any case */
	uint16_t off;        /* where it starts in the message (< 0x4000) */
	uint8_t len;         /* its length including the root label */
} srv_wire_comp_t;

typedef struct srv_wire {
	uint8_t *buf;
	size_t pos; /* bytes written */
	size_t lim; /* active size limit; pos <= lim always */
	unsigned ncomp;
	srv_wire_comp_t comp[SRV_WIRE_COMP_MAX];
} srv_wire_t;

/* A rollback point: the position and the compression table size at that time. */
typedef struct srv_wire_mark {
	size_t pos;
	unsigned ncomp;
} srv_wire_mark_t;

/* Start writing into buf, at most lim bytes. */
void srv_wire_init(srv_wire_t *w, uint8_t *buf, size_t lim) SD_NONNULL(1, 2);

static inline srv_wire_mark_t srv_wire_mark(const srv_wire_t *w)
{
	return (srv_wire_mark_t){.pos = w->pos, .ncomp = w->ncomp};
}

/* Forget everything written since m, including compression entries pointing there. */
static inline void srv_wire_rollback(srv_wire_t *w, srv_wire_mark_t m)
{
	w->pos = m.pos;
	w->ncomp = m.ncomp;
}

/* Append raw bytes / big-endian integers. 0 or SD_ESPACE. */
int srv_wire_put(srv_wire_t *w, const void *data, size_t len) SD_NONNULL(1) SD_WUR;
int srv_wire_u16(srv_wire_t *w, uint16_t v) SD_NONNULL(1) SD_WUR;
int srv_wire_u32(srv_wire_t *w, uint32_t v) SD_NONNULL(1) SD_WUR;

/* Register a name already present at offset off (e.g. the echoed question name) so later
 * names can point at it; every suffix is registered. name must outlive the message. */
void srv_wire_comp_add(srv_wire_t *w, const uint8_t *name, size_t off) SD_NONNULL(1, 2);

/* Append a well-formed uncompressed name; with compress, its longest known suffix becomes a
 * pointer. The written labels are registered for later names either way. name must outlive
 * the message. 0 or SD_ESPACE (nothing kept on failure). */
int srv_wire_name(srv_wire_t *w, const uint8_t *name, bool compress) SD_NONNULL(1, 2) SD_WUR;

/* Append one RR. rdata is wire form with uncompressed names (zone memory, must outlive the
 * message); the names in RDATA of NS, CNAME, PTR, MX and SOA are compressed, every other
 * type is copied as is (RFC 3597 4: never compress names in other or unknown types).
 * 0 or SD_ESPACE; on failure the caller rolls back to its RRset mark. */
int srv_wire_rr(srv_wire_t *w, const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                const uint8_t *rdata, uint16_t rdlen) SD_NONNULL(1, 2) SD_WUR;
