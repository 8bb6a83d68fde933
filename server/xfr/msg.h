/* msg.h — building transfer and NOTIFY messages with name compression.
 *
 * A small DNS message writer for the control-path messages of server/xfr (AXFR/IXFR responses,
 * NOTIFY queries). It writes into a caller-owned buffer, never allocates, and compresses owner
 * names and the names inside the RDATA of the RFC 1035 types that allow it (NS, CNAME, SOA,
 * PTR, MX; RFC 3597 section 4 forbids it for any other type). Compression targets live in a
 * fixed hash table inside xfr_msg_t (suffix hash -> offset), so each lookup is O(labels).
 *
 *   buf: [header 12][question][answer RRs ...][additional: OPT?][TSIG added by the signer]
 *        ^ len grows; an RR that would pass `limit` is rolled back whole (SD_ESPACE)
 *
 * The engine's writer is private to srv_answer(); transfers need a writer that can roll back
 * at RR boundaries and reserve room for TSIG, so this one is separate and deliberately small.
 * Not thread-safe; one xfr_msg_t per message being built.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/bytes.h"
#include "contrib/base/compiler.h"
#include "dns/name.h"
#include "dns/proto.h"

#define XFR_MSG_HASH_SLOTS 2048 /* power of two */

typedef struct xfr_msg {
	uint8_t *buf;
	size_t len;   /* bytes written so far */
	size_t limit; /* no RR may end past this (cap minus room kept for OPT/TSIG) */
	unsigned used;
	uint16_t slot[XFR_MSG_HASH_SLOTS]; /* offsets of compression targets; 0 = empty */
} xfr_msg_t;

/* Start a message in buf: writes a 12-byte header with id and flags (host order, as the
 * second 16-bit word of the header) and all counts zero. limit is the largest size the
 * message body may reach (at least 12). Returns SD_ESPACE when limit < 12. */
int xfr_msg_init(xfr_msg_t *m, uint8_t *buf, size_t limit, uint16_t id, uint16_t flags)
    SD_NONNULL(1, 2) SD_WUR;

/* Append raw question bytes (a name in wire form, then type and class) and set QDCOUNT to 1.
 * The name is registered as a compression target. */
int xfr_msg_put_question(xfr_msg_t *m, const uint8_t *q, size_t qlen) SD_NONNULL(1, 2) SD_WUR;

/* Append one RR to the answer section (owner: uncompressed wire name; rdata: wire form with
 * uncompressed names). Compresses what RFC 3597 allows. On SD_ESPACE nothing was written.
 * SD_EPARSE when the RDATA of a compressible type is malformed. */
int xfr_msg_put_rr(xfr_msg_t *m, const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                   const uint8_t *rdata, uint16_t rdlen) SD_NONNULL(1, 2) SD_WUR;

/* Append an OPT RR (RFC 6891) with the given payload size and no options to the additional
 * section; ignores `limit` (callers keep room for it). SD_ESPACE when cap is exceeded. */
int xfr_msg_put_opt(xfr_msg_t *m, size_t cap, uint16_t payload) SD_NONNULL(1) SD_WUR;

/* Section counters (read from the header). */
uint16_t xfr_msg_count(const xfr_msg_t *m, unsigned section) SD_NONNULL(1);

/* Section indexes for xfr_msg_count and the header count words. */
enum { XFR_SEC_QD = 0, XFR_SEC_AN = 1, XFR_SEC_NS = 2, XFR_SEC_AR = 3 };
