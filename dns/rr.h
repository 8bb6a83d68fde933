/* rr.h — the one reader of a message's sections: bounds-checked, in place, no allocation.
 *
 * Every part of the server that reads a DNS message (the request parser, TSIG, the transfer
 * request, NOTIFY responses) walks it with this iterator instead of its own loop:
 *
 *   [header][question x QDCOUNT][answer x ANCOUNT][authority x NSCOUNT][additional x ARCOUNT]
 *            owner type class    owner type class ttl rdlength rdata ...
 *
 * dns_rr_iter_next() hands out each entry in order as a dns_rr_t of offsets into the message
 * (a question is an entry with ttl 0 and no RDATA). Owner names are stepped over with
 * dname_skip() (compression pointers are not followed; dname_parse() at rr.owner reads the
 * name), and each entry is checked to lie within the message before it is returned. What a
 * caller does with types, classes and RDATA is its own business: this only frames records.
 *
 * Pure; thread-safe on distinct iterators; the message must outlive the iterator.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "dns/proto.h"

/* One question or resource record, by offsets into the message. */
typedef struct dns_rr {
	dns_section_t section;
	unsigned index;   /* position within its section, from 0 */
	size_t owner;     /* offset of the owner name */
	size_t owner_len; /* bytes the owner takes in the message (a pointer counts 2) */
	uint16_t type, rclass;
	uint32_t ttl;      /* 0 for a question */
	uint16_t rdlength; /* 0 for a question */
	size_t rdata;      /* offset of the RDATA (for a question: just past it) */
} dns_rr_t;

/* End offset of an entry: the byte after its RDATA (after type/class for a question). */
static inline size_t dns_rr_end(const dns_rr_t *rr)
{
	return rr->rdata + rr->rdlength;
}

/* True when the owner is the root name (a single 0 byte), as OPT's must be. */
static inline bool dns_rr_owner_is_root(const dns_rr_t *rr)
{
	return rr->owner_len == 1;
}

typedef struct dns_rr_iter {
	const uint8_t *msg;
	size_t len;
	size_t pos;        /* offset of the next entry */
	uint16_t count[4]; /* QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT */
	dns_section_t section;
	unsigned index; /* entries already read in the current section */
	bool failed;    /* a malformed entry was met; next() keeps failing */
} dns_rr_iter_t;

/* Start reading msg[0..len): the header's counts are taken from msg. Returns 0, or SD_EPARSE
 * when there is no 12-byte header. */
int dns_rr_iter_init(dns_rr_iter_t *it, const uint8_t *msg, size_t len) SD_NONNULL(1, 2) SD_WUR;

/* Read the next entry into rr. Returns 0; SD_ENOTFOUND when every counted entry has been read
 * (trailing bytes are the caller's to judge: see dns_rr_iter_pos()); SD_EPARSE when the entry
 * runs past the message or its owner is malformed (then every later call fails the same way). */
int dns_rr_iter_next(dns_rr_iter_t *it, dns_rr_t *rr) SD_NONNULL(1, 2) SD_WUR;

/* Offset just past the last entry read (DNS_HEADER_LEN before any). */
static inline size_t dns_rr_iter_pos(const dns_rr_iter_t *it)
{
	return it->pos;
}

/* Read the one entry at *pos of msg[0..len) without an iterator: a question when question is
 * true, else a resource record (section and index are left 0). Advances *pos past it. Returns
 * 0 or SD_EPARSE. */
int dns_rr_read(const uint8_t *msg, size_t len, size_t *pos, bool question, dns_rr_t *rr)
    SD_NONNULL(1, 3, 5) SD_WUR;
