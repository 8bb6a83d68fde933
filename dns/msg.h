/* msg.h — the DNS message writer: bounded appends, name compression, rollback marks.
 *
 * Every message the server sends is written with this: answers (server/engine), transfer
 * messages and NOTIFY (server/xfr), the TSIG RR appended to a signed message. The writer
 * appends to a caller-owned buffer and never writes past `lim`, the active size limit (the
 * UDP payload size, 65535 over TCP, less what the caller keeps back for OPT or TSIG). An
 * append either completes or fails with SD_ESPACE having kept nothing; callers take a mark
 * before an RRset and roll back to it, so an RRset is never split.
 *
 *   buf: [header 12][question][answer ...][authority ...][additional ...]
 *         ^ pos 0      ^ off 12 = qname, the first compression target
 *
 * Compression (RFC 1035 4.1.4): every label sequence written is registered in a table of
 * offsets, an open-addressing hash of the (ASCII case-folded) suffix; a later name whose
 * longest registered suffix matches is written as its leading labels plus a pointer. A small
 * table (an answer's) is a list of offsets and lengths instead: an entry is compared only
 * with the suffix of the name of its length when one of the name's labels starts there, so
 * no name is hashed; the same entry matches as in the hashed table. Matches
 * are checked against the bytes in the message itself, so the table holds no pointers to
 * caller memory. Two matching rules:
 *   - case-insensitive (answers): a pointer may reproduce the case of the first occurrence,
 *     which is how an owner equal to the question keeps the case the client sent;
 *   - exact (DNS_MSG_EXACT, transfers): only byte-identical suffixes match, so the zone's
 *     names are reproduced as stored even when the client asked in other case.
 * When two registered suffixes match, the earlier one wins. The table's size is chosen by
 * its owner once (dns_comp_init): a few dozen entries on the answer path, thousands for
 * transfers; when it is full, later labels are simply not registered (correct, larger).
 * A rollback removes the entries added since the mark, in reverse order, which leaves the
 * table exactly as it was (LIFO removal is safe for linear probing).
 * Two shortcuts keep the answer path cheap without changing a byte of output: the question
 * (written first, into the empty table) is registered only when a later name first needs the
 * table, and a name equal to the question is written as its pointer (0xc00c) without
 * hashing: the question's entries come first, so that is the match the table would give.
 *
 * Nothing here allocates except dns_comp_init. Not thread-safe: one writer per message and
 * one table per thread (a worker's answer context, a transfer, the NOTIFY sender).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/bytes.h"
#include "contrib/base/compiler.h"
#include "dns/name.h"
#include "dns/proto.h"

/* A compression table. Owned by whoever calls dns_comp_init; reused message after message.
 * Hashed (more than 64 entries) or a list (64 at most: the answer path's few entries are
 * cheaper to read one by one than to hash); both find the same match. */
typedef struct dns_comp {
	uint16_t *slot; /* hashed: mask + 1 message offsets of registered suffixes, 0 = empty;
	                 * NULL: a list */
	uint16_t *log;  /* hashed: slot index of each entry, in the order they were added;
	                 * list: each entry's message offset, in that order */
	uint8_t *len;   /* list: each entry's length (the suffix's uncompressed bytes) */
	uint8_t *raw;   /* list: its bytes written in full (a pointer follows when < len) */
	unsigned mask;  /* slots - 1 (a power of two minus one) */
	unsigned cap;   /* entries at most (at most 3/4 of the slots) */
	unsigned n;     /* entries now */
} dns_comp_t;

/* Allocate a table for up to cap entries (1 .. 16384). Control path or worker start.
 * 0, -EINVAL or -ENOMEM. */
int dns_comp_init(dns_comp_t *c, unsigned cap) SD_NONNULL(1) SD_WUR;
/* Free what dns_comp_init allocated; c may be zeroed or already finished. */
void dns_comp_fini(dns_comp_t *c);

enum {
	DNS_MSG_EXACT = 1u << 0, /* compression matches byte for byte (case included) */
};

#define DNS_MSG_MEMO 4

struct dns_msg_image;

typedef struct dns_msg {
	uint8_t *buf;
	size_t pos;       /* bytes written */
	size_t lim;       /* active size limit; pos <= lim always; callers may move it */
	dns_comp_t *comp; /* NULL: names are written uncompressed and not registered */
	bool exact;       /* DNS_MSG_EXACT */
	/* The question name written into an empty table (0: none): its suffixes are the table's
	 * first entries, registered when a name first needs the table (q_pending until then),
	 * and a name equal to it is its pointer without a look at the table. */
	size_t q_off, q_len;
	bool q_pending;
	/* An image's names (dns_msg_image()) wait the same way, after the question's: most
	 * answers that copy one never look a name up in the table (NULL: none waits). */
	const struct dns_msg_image *img_pending;
	size_t img_base; /* where that image lies */
	/* Optional, set by the caller after the question: bytes the caller keeps that equal the
	 * question name exactly (its parsed copy), so an owner passed from there is known to be
	 * the question without a compare. NULL: none. */
	const uint8_t *q_alias;
	/* With a hashed table (a list needs none): the last DNS_MSG_MEMO names written with the
	 * table, each as the offset of the earliest registered name equal to it: that name
	 * again, byte for byte (an NS owner, glue for a name in RDATA just written, a CNAME
	 * target as the next owner) is a pointer there, found by one compare, not by hashing
	 * and probing. Emptied by a rollback. */
	uint16_t memo_off[DNS_MSG_MEMO]; /* 0: unused */
	uint8_t memo_len[DNS_MSG_MEMO];
	uint8_t memo_name[DNS_MSG_MEMO][DNAME_MAX]; /* each as it was given */
	unsigned memo_next;                         /* the slot the next name takes */
} dns_msg_t;

/* A rollback point: the position, the size of the compression table and the image whose
 * names were waiting at that time. */
typedef struct dns_msg_mark {
	size_t pos;
	unsigned ncomp;
	const struct dns_msg_image *img_pending;
	size_t img_base;
} dns_msg_mark_t;

/* Start a message in buf (lim bytes at most) at position 0. comp (may be NULL) is emptied and
 * used for this message only until the next dns_msg_init on it. flags: DNS_MSG_*. */
void dns_msg_init(dns_msg_t *m, uint8_t *buf, size_t lim, dns_comp_t *comp, unsigned flags)
    SD_NONNULL(1, 2);

/* Continue a message of len bytes already in buf, without compression (appending the TSIG
 * RR to a finished message). */
void dns_msg_resume(dns_msg_t *m, uint8_t *buf, size_t len, size_t lim) SD_NONNULL(1, 2);

static inline dns_msg_mark_t dns_msg_mark(const dns_msg_t *m)
{
	return (dns_msg_mark_t){.pos = m->pos,
	                        .ncomp = m->comp != NULL ? m->comp->n : 0,
	                        .img_pending = m->img_pending,
	                        .img_base = m->img_base};
}

/* Forget everything written since mk, including the compression entries added since. */
void dns_msg_rollback(dns_msg_t *m, dns_msg_mark_t mk) SD_NONNULL(1);

/* The 12-byte header at position 0 with id, flags (the second 16-bit word) and all counts
 * zero; m must be empty. 0 or SD_ESPACE. */
int dns_msg_header(dns_msg_t *m, uint16_t id, uint16_t flags) SD_NONNULL(1) SD_WUR;
/* A message ID for a query this server sends (NOTIFY, SOA checks): from the kernel's random
 * source, so that an off-path attacker cannot guess it (RFC 5452 4.3). Any thread. */
uint16_t dns_msg_random_id(void);

/* The mnemonic of an RCODE (RFC 6895 2.3: "NOERROR", "NXDOMAIN", "BADVERS", "BADCOOKIE"),
 * or "RCODE<n>" written into buf for one without a name here. For logs, status and
 * metrics. */
#define DNS_RCODE_NAME_LEN 16
const char *dns_rcode_name(unsigned rcode, char buf[DNS_RCODE_NAME_LEN]) SD_NONNULL(2);

/* Header count of a section, and adding n to it (the header must be written). */
static inline uint16_t dns_msg_count(const dns_msg_t *m, dns_section_t sec)
{
	return be16_get(m->buf + 4 + 2 * (unsigned)sec);
}

static inline void dns_msg_count_add(dns_msg_t *m, dns_section_t sec, uint16_t n)
{
	uint8_t *p = m->buf + 4 + 2 * (unsigned)sec;
	be16_put(p, (uint16_t)(be16_get(p) + n));
}

/* Append a question: q is an uncompressed name then type and class (qlen bytes, as echoed
 * from a request). Its name becomes a compression target; QDCOUNT is set to 1.
 * 0, SD_ESPACE, or SD_EPARSE when q is not such a question. */
int dns_msg_question(dns_msg_t *m, const uint8_t *q, size_t qlen) SD_NONNULL(1, 2) SD_WUR;

/* dns_msg_question() of a question the caller parsed: q is a well-formed uncompressed name
 * of nl bytes (dname_len) then type and class. */
int dns_msg_question_len(dns_msg_t *m, const uint8_t *q, size_t nl) SD_NONNULL(1, 2) SD_WUR;

/* dns_msg_header() then dns_msg_question_len() of a reply to req, in one copy: req's header
 * (the caller rewrites all 12 bytes of it before sending) and its question, which starts
 * right after the header and is a well-formed uncompressed name of nl bytes (dname_len) then
 * type and class. QDCOUNT stays as req has it. 0, or SD_ESPACE with nothing written. */
int dns_msg_reply_question(dns_msg_t *m, const uint8_t *req, size_t nl) SD_NONNULL(1, 2) SD_WUR;

/* Append raw bytes. 0 or SD_ESPACE. */
int dns_msg_put(dns_msg_t *m, const void *data, size_t len) SD_NONNULL(1) SD_WUR;

/* Append a well-formed uncompressed name; with compress, its longest registered suffix
 * becomes a pointer. The labels written are registered either way. 0, SD_ESPACE, or
 * SD_EPARSE when name is not a well-formed name. */
int dns_msg_name(dns_msg_t *m, const uint8_t *name, bool compress) SD_NONNULL(1, 2) SD_WUR;

/* Append an RR's owner (compressed), type, class, TTL and the given RDLENGTH; the caller
 * writes exactly rdlen bytes of RDATA next. Nothing kept on failure (0, SD_ESPACE,
 * SD_EPARSE). */
int dns_msg_rr_header(dns_msg_t *m, const uint8_t *owner, uint16_t type, uint16_t rclass,
                      uint32_t ttl, uint16_t rdlen) SD_NONNULL(1, 2) SD_WUR;

/* Append one whole RR. rdata is wire form with uncompressed names; the names of the types
 * dns/rdata.h marks compressible are compressed, any other RDATA is copied as is (RFC 3597
 * 4). Nothing kept on failure: SD_ESPACE when it does not fit, SD_EPARSE when owner is not a
 * name or the RDATA of a compressible type is malformed. */
int dns_msg_rr(dns_msg_t *m, const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
               const uint8_t *rdata, uint16_t rdlen) SD_NONNULL(1, 2) SD_WUR;

/* Is owner the question name, known by its address (m->q_alias) in a message whose question
 * is a compression target (m->q_len != 0)? Then dns_msg_rrs_of_question() may write its
 * records. */
static inline bool dns_msg_owner_is_question(const dns_msg_t *m, const uint8_t *owner)
{
	return owner == m->q_alias && m->q_len != 0;
}

/* n records owned by the question name (the caller knows: dns_msg_owner_is_question()) from
 * a run of RDATA ([u16 rdlength][rdata] each, as the zone stores them) of a type whose RDATA
 * holds no name to compress (!dns_rdata_compressible(type)): the first n records in order, or
 * (idx not NULL) records idx[0..n) of a run whose RDATA are all len bytes long. The bytes
 * dns_msg_rr_len() writes for each, the owner a pointer to the question. All n or nothing:
 * 0, SD_ESPACE. */
int dns_msg_rrs_of_question(dns_msg_t *m, uint16_t type, uint16_t rclass, uint32_t ttl,
                            const uint8_t *run, uint16_t n, const uint8_t *idx, uint8_t len)
    SD_NONNULL(1, 5) SD_WUR;

/* dns_msg_rr() with the owner's length known: owner is a well-formed uncompressed name of
 * olen bytes (dname_len), which the caller vouches for (zone data, a parsed question). The
 * query path's writer: no name is measured twice. */
int dns_msg_rr_len(dns_msg_t *m, const uint8_t *owner, size_t olen, uint16_t type, uint16_t rclass,
                   uint32_t ttl, const uint8_t *rdata, uint16_t rdlen) SD_NONNULL(1, 2) SD_WUR;

/* --- relocatable images ---
 *
 * An image is RRs written once (at zone build, zone/image.h) as this writer writes them right
 * after a question whose name is `anchor`, a name every question the image will follow ends
 * with, then copied into messages as they are, which costs a copy and a few stores instead of
 * a compression search per name. Its pointers are tagged, not final: each is a slot that
 * dns_msg_image() relocates, a pointer into the image by the image's offset in the message,
 * a pointer into the anchor by the end of the question name (the anchor's suffixes are the
 * question name's last labels).
 *
 *   built:   [header][anchor, type, class][RR RR RR ...]      written with dns_msg_rr_len()
 *                                          `---- image ----'  pointers: into the anchor or
 *   copied:  [header][question            ][RR RR RR ...]     into the image, tagged
 *
 * The copy is what writing the RRs one by one after the question would give (same bytes) when
 * the question is the only name written before it and no name of the image has the question
 * name's label below the anchor as its label below the anchor (a longer match into the question
 * the image could not know): the caller checks both. The image's names are not registered: the
 * caller writes no compressible name after one (an OPT or TSIG RR carries none).
 */

/* A compression entry an image registers when copied (a list table's: dns_comp_t). */
typedef struct dns_msg_image_entry {
	uint16_t off;     /* in the image */
	uint8_t len, raw; /* the suffix's length, and its bytes written in full */
} dns_msg_image_entry_t;

/* An image as dns_msg_image() copies it: this header, then (dns_msg_image_data(), 4-aligned)
 * its nentry entries, its nslot pointer offsets (u16) and its len bytes, back to back; the memo
 * name may lie anywhere (it is zone data or a copy kept with the image). */
typedef struct dns_msg_image {
	const uint8_t *memo_name;          /* memo_len bytes: the name the memo keeps */
	uint16_t len, nslot, nentry, memo; /* memo: tagged as a pointer is (memo_len > 0) */
	uint8_t memo_len;
} dns_msg_image_t;

static inline const dns_msg_image_entry_t *dns_msg_image_entries(const dns_msg_image_t *img)
{
	return (const dns_msg_image_entry_t *)(const void *)(img + 1);
}

static inline const uint16_t *dns_msg_image_slots(const dns_msg_image_t *img)
{
	return (const uint16_t *)(const void *)(dns_msg_image_entries(img) + img->nentry);
}

static inline const uint8_t *dns_msg_image_wire(const dns_msg_image_t *img)
{
	return (const uint8_t *)(dns_msg_image_slots(img) + img->nslot);
}

/* Bytes of an image from its header to the end of its wire. */
static inline size_t dns_msg_image_size(const dns_msg_image_t *img)
{
	return (size_t)(dns_msg_image_wire(img) + img->len - (const uint8_t *)img);
}

/* Start an image in a scratch message: m over buf (cap bytes), comp a table as the answer path
 * has (a list: at most 64 entries), the question anchor (a well-formed name of alen bytes). The
 * caller then appends the RRs with dns_msg_rr_len() (or dns_msg_rr()). 0 or SD_ESPACE.
 * Control path. */
int dns_msg_image_begin(dns_msg_t *m, uint8_t *buf, size_t cap, dns_comp_t *comp,
                        const uint8_t *anchor, size_t alen) SD_NONNULL(1, 2, 4, 5) SD_WUR;

/* End the image written since dns_msg_image_begin(): its pointers tagged, the image laid out
 * in out (cap bytes, 8-aligned) as dns_msg_image_t says. follow: names may be written after it,
 * so its compression entries are kept and its memo (the name pointing there, copied right after
 * the wire); else it registers nothing when copied. The image's size is dns_msg_image_size().
 * 0, or SD_ELIMIT (out too small, or the table filled up: some entry would be missing). */
int dns_msg_image_end(dns_msg_t *m, bool follow, void *out, size_t cap) SD_NONNULL(1, 3) SD_WUR;

/* Append an image after the question, relocated (see above; the caller has checked the
 * conditions there); its entries (after the question's, as the RR-by-RR path registers them;
 * both when a name first needs the table, which after most answers never happens) and its memo
 * kept. 0, or SD_ESPACE when it does not fit, when a pointer would need more than 14
 * bits or when it has entries and m's table is not a list (write its RRs one by one instead);
 * nothing kept then. Allocation-free. */
int dns_msg_image(dns_msg_t *m, const dns_msg_image_t *img) SD_NONNULL(1, 2) SD_WUR;
