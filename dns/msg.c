/* msg.c — the DNS message writer (see msg.h). */
#include "dns/msg.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "dns/proto.h"
#include "dns/rdata.h"

#define PTR_MAX  0x3fff /* compression pointers carry 14 bits of offset (RFC 1035 4.1.4) */
#define HOPS_MAX 64     /* pointers followed while matching; ours never chain that far */
#define COMP_MAX 16384  /* the most entries a table may have (every offset fits 14 bits) */
#define RR_FIXED 10     /* type, class, TTL, RDLENGTH */
/* Tables of at most this many entries are a list searched entry by entry, with no hashing:
 * an answer registers a handful of suffixes, and hashing every label of every name cost more
 * than reading them all (see msg.h). Larger tables (transfers) are hashed. */
#define LIST_MAX 64

/* --- the compression table --- */

int dns_comp_init(dns_comp_t *c, unsigned cap)
{
	memset(c, 0, sizeof(*c));
	if (cap == 0 || cap > COMP_MAX)
		return -EINVAL;
	c->log = calloc(cap, sizeof(*c->log));
	unsigned slots = 4;
	if (cap <= LIST_MAX) {
		c->len = calloc(cap, sizeof(*c->len));
		c->raw = calloc(cap, sizeof(*c->raw));
	} else {
		while (slots / 4 * 3 < cap)
			slots *= 2;
		c->slot = calloc(slots, sizeof(*c->slot));
	}
	if (c->log == NULL || (c->slot == NULL && (c->len == NULL || c->raw == NULL))) {
		dns_comp_fini(c);
		return -ENOMEM;
	}
	c->mask = slots - 1;
	c->cap = cap;
	return 0;
}

void dns_comp_fini(dns_comp_t *c)
{
	if (c == NULL)
		return;
	free(c->slot);
	free(c->log);
	free(c->len);
	free(c->raw);
	memset(c, 0, sizeof(*c));
}

/* Remove the entries added after the first n, newest first. */
static void comp_truncate(dns_comp_t *c, unsigned n)
{
	if (c->slot == NULL) {
		c->n = c->n < n ? c->n : n;
		return;
	}
	while (c->n > n)
		c->slot[c->log[--c->n]] = 0;
}

static void comp_add(dns_comp_t *c, uint32_t hash, size_t off)
{
	unsigned i = hash & c->mask;
	while (c->slot[i] != 0)
		i = (i + 1) & c->mask;
	c->slot[i] = (uint16_t)off;
	c->log[c->n++] = (uint16_t)i;
}

/* n bytes from src to dst: RDATA of addresses, a question and the like are short, and a call
 * to memcpy costs more than the copy (overlapping words cover every length up to 32). */
static inline void copy_small(uint8_t *dst, const uint8_t *src, size_t n)
{
	if (n > 32) {
		memcpy(dst, src, n);
	} else if (n > 16) {
		uint64_t a = ne64_load(src), b = ne64_load(src + 8);
		uint64_t c = ne64_load(src + n - 16), d = ne64_load(src + n - 8);
		memcpy(dst, &a, 8);
		memcpy(dst + 8, &b, 8);
		memcpy(dst + n - 16, &c, 8);
		memcpy(dst + n - 8, &d, 8);
	} else if (n >= 8) {
		uint64_t a = ne64_load(src), b = ne64_load(src + n - 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
	} else if (n >= 4) {
		uint32_t a = ne32_load(src), b = ne32_load(src + n - 4);
		memcpy(dst, &a, 4);
		memcpy(dst + n - 4, &b, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			dst[i] = src[i];
	}
}

/* --- names --- */

#define FOLD  0x2020202020202020ull /* bit 0x20 of every byte: folds A-Z onto a-z */
#define K_MIX 0x9e3779b97f4a7c15ull /* 2^64 / golden ratio, odd */

/* The last 1 .. 8 of n bytes at p as one word, reading only those bytes: two overlapping
 * 4-byte loads from 4 bytes up, else the first, middle and last byte (all of them). */
static inline uint64_t tail_word(const uint8_t *p, size_t n)
{
	if (n == 8)
		return ne64_load(p);
	if (n >= 4)
		return (uint64_t)ne32_load(p) << 32 | ne32_load(p + n - 4);
	return (uint64_t)p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16;
}

/* h extended by the label at l (its length byte included), a word at a time. Bytes are
 * hashed with bit 0x20 set, which folds A-Z onto a-z without a branch (other bytes merely
 * collide more, and every match is checked against the message anyway). */
static inline uint64_t label_hash(uint64_t h, const uint8_t *l)
{
	size_t n = 1u + l[0];
	for (; n > 8; l += 8, n -= 8)
		h = (h ^ (ne64_load(l) | FOLD)) * K_MIX;
	return (h ^ (tail_word(l, n) | FOLD)) * K_MIX;
}

/* Label offsets of a well-formed name and a hash of each suffix, built from the root up so
 * that the whole name costs one pass. Returns the label count. */
static unsigned suffixes(const uint8_t *name, uint8_t offs[DNAME_LABELS_MAX],
                         uint32_t hash[DNAME_LABELS_MAX])
{
	unsigned n = 0;
	for (size_t i = 0; name[i] != 0; i += 1u + name[i])
		offs[n++] = (uint8_t)i;
	uint64_t h = K_MIX;
	for (unsigned k = n; k-- > 0;) {
		h = label_hash(h, name + offs[k]);
		/* a product's bit j depends on bits 0..j only: fold the top half down and
		 * multiply once more, so that the low bits (the slot) depend on every bit */
		hash[k] = (uint32_t)(((h ^ (h >> 32)) * K_MIX) >> 32);
	}
	return n;
}

/* n bytes at a and b equal, a word at a time (labels are short: no call to memcmp). */
static inline bool bytes_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (; n > 8; a += 8, b += 8, n -= 8) {
		if (ne64_load(a) != ne64_load(b))
			return false;
	}
	return n == 0 || tail_word(a, n) == tail_word(b, n);
}

/* Could the n bytes at a and b be equal but for case? Bytes equal up to case are equal with
 * bit 0x20 set, so a difference then rules it out without the byte-wise fold (a hash slot
 * shared with another name usually fails here). */
static inline bool maybe_equal_ci(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (; n > 8; a += 8, b += 8, n -= 8) {
		if ((ne64_load(a) | FOLD) != (ne64_load(b) | FOLD))
			return false;
	}
	return n == 0 || (tail_word(a, n) | FOLD) == (tail_word(b, n) | FOLD);
}

/* Does the name written at off (possibly ending in pointers) equal the uncompressed s? Every
 * registered offset lies inside the message and starts a name this writer wrote or checked. */
static bool match_at(const dns_msg_t *m, size_t off, const uint8_t *s)
{
	for (unsigned hops = 0;;) {
		uint8_t c = m->buf[off];
		if ((c & 0xc0) == 0xc0) {
			if (++hops > HOPS_MAX)
				return false;
			off = ((size_t)(c & 0x3f) << 8) | m->buf[off + 1];
			continue;
		}
		if (c != *s)
			return false;
		if (c == 0)
			return true;
		const uint8_t *a = m->buf + off + 1, *b = s + 1;
		/* names usually agree in case too: try the plain compare first */
		if (!bytes_equal(a, b, c) &&
		    (m->exact || !maybe_equal_ci(a, b, c) || !dname_label_equal_ci(a, b, c)))
			return false;
		off += 1u + c;
		s += 1u + c;
	}
}

/* Offset of the earliest registered suffix equal to s, or 0. */
static size_t comp_find(const dns_msg_t *m, uint32_t hash, const uint8_t *s)
{
	const dns_comp_t *c = m->comp;
	for (unsigned i = hash & c->mask;; i = (i + 1) & c->mask) {
		uint16_t off = c->slot[i];
		if (off == 0 || match_at(m, off, s))
			return off;
	}
}

/* Label offsets of a well-formed name and, for a hashed table, the hash of each suffix.
 * Returns the label count. */
static unsigned comp_labels(const dns_comp_t *c, const uint8_t *name,
                            uint8_t offs[DNAME_LABELS_MAX], uint32_t hash[DNAME_LABELS_MAX])
{
	if (c->slot != NULL)
		return suffixes(name, offs, hash);
	unsigned n = 0;
	for (size_t i = 0; name[i] != 0; i += 1u + name[i])
		offs[n++] = (uint8_t)i;
	return n;
}

/* Does list entry i equal s, a name as long as the entry? Its raw bytes at once (equal bytes
 * put the labels at the same places; length bytes are below 64, never letters, so folding
 * the whole span compares labels), then the name its pointer names, if one ends it. */
static bool list_match(const dns_msg_t *m, unsigned i, const uint8_t *s)
{
	const dns_comp_t *c = m->comp;
	const uint8_t *a = m->buf + c->log[i];
	size_t raw = c->raw[i];
	if (!bytes_equal(a, s, raw) &&
	    (m->exact || !maybe_equal_ci(a, s, raw) || !dname_label_equal_ci(a, s, raw)))
		return false;
	if (raw == c->len[i])
		return true;
	return match_at(m, ((size_t)(a[raw] & 0x3f) << 8) | a[raw + 1], s + raw);
}

/* The earliest registered suffix equal to the longest suffix of name (len bytes, n labels at
 * offs) that has one, searched in a list table: an entry can only equal the suffix of its
 * own length, and only when that suffix starts at a label of name. Taking an entry only
 * when its suffix is longer than the best so far, in the order entries were added, gives
 * the match the hashed table gives. Returns its offset (0: none) and the labels before it
 * in *cut (n when none). */
static size_t list_find(const dns_msg_t *m, const uint8_t *name, size_t len, const uint8_t *offs,
                        unsigned n, unsigned *cut)
{
	const dns_comp_t *c = m->comp;
	uint64_t starts[4] = {0}; /* bit o: a label of name starts at o (o < 255) */
	for (unsigned k = 0; k < n; k++)
		starts[offs[k] >> 6] |= 1ull << (offs[k] & 63);
	size_t best = len, ptr = 0;
	for (unsigned i = 0; i < c->n && best != 0; i++) {
		size_t o = len - c->len[i]; /* wraps past best when the entry is longer */
		if (o < best && (starts[o >> 6] >> (o & 63) & 1) && list_match(m, i, name + o)) {
			best = o;
			ptr = c->log[i];
		}
	}
	unsigned k = 0;
	while (k < n && offs[k] != best)
		k++;
	*cut = k;
	return ptr;
}

/* The same from a hashed table: the longest suffix first, each by its hash. */
static size_t table_find(const dns_msg_t *m, const uint8_t *name, const uint8_t *offs,
                         const uint32_t *hash, unsigned n, unsigned *cut)
{
	for (unsigned k = 0; k < n; k++) {
		size_t ptr = comp_find(m, hash[k], name + offs[k]);
		if (ptr != 0) {
			*cut = k;
			return ptr;
		}
	}
	*cut = n;
	return 0;
}

/* Register the labels written at start, up to (not including) label `cut`, of a name of
 * len bytes whose first head bytes are written in full (then a pointer, if head < len). */
static void comp_register(dns_msg_t *m, const uint8_t *offs, const uint32_t *hash, unsigned cut,
                          size_t start, size_t len, size_t head)
{
	dns_comp_t *c = m->comp;
	for (unsigned k = 0; k < cut; k++) {
		size_t off = start + offs[k];
		if (c->n == c->cap || off > PTR_MAX)
			return;
		if (off == 0) /* 0 marks an empty slot; no message has a name there */
			continue;
		if (c->slot == NULL) {
			c->log[c->n] = (uint16_t)off;
			c->len[c->n] = (uint8_t)(len - offs[k]);
			c->raw[c->n++] = (uint8_t)(head - offs[k]);
		} else {
			comp_add(c, hash[k], off);
		}
	}
}

/* Register the pending question's suffixes: they become the table's first entries, as if
 * dns_msg_question() had registered them itself. */
static void comp_question(dns_msg_t *m)
{
	if (!m->q_pending)
		return;
	m->q_pending = false;
	uint8_t offs[DNAME_LABELS_MAX];
	uint32_t hash[DNAME_LABELS_MAX];
	unsigned n = comp_labels(m->comp, m->buf + m->q_off, offs, hash);
	comp_register(m, offs, hash, n, m->q_off, m->q_len, m->q_len);
}

static void image_register(dns_msg_t *m, const struct dns_msg_image *img, size_t base);

/* Register what waits, in the order it was written: the question's suffixes, then the
 * pending image's names. The table is then as if each had registered itself at once. */
static void comp_flush(dns_msg_t *m)
{
	comp_question(m);
	if (m->img_pending != NULL) {
		image_register(m, m->img_pending, m->img_base);
		m->img_pending = NULL;
	}
}

/* Is name (len bytes) the question name? Then its longest registered suffix is the whole
 * question (the table's first entry, so the earliest match), and nothing is registered. */
static inline bool is_question(const dns_msg_t *m, const uint8_t *name, size_t len)
{
	if (len != m->q_len)
		return false;
	if (name == m->q_alias)
		return true;
	const uint8_t *q = m->buf + m->q_off;
	/* length bytes are < 64 and never letters, so a whole-name fold compares labels */
	return bytes_equal(q, name, len) ||
	       (!m->exact && maybe_equal_ci(q, name, len) && dname_label_equal_ci(q, name, len));
}

_Static_assert(DNS_MSG_MEMO == 4, "memo_find reads the memo's lengths as one 32-bit word");

/* The offset the memo holds for name (len bytes, the same bytes), or 0. Most names have the
 * length of no memo slot: the four lengths are checked at once first (x has a zero byte
 * exactly where a slot's length is len, and (x - 0x01..) & ~x & 0x80.. is non-zero exactly
 * when x has a zero byte). */
static size_t memo_find(const dns_msg_t *m, const uint8_t *name, size_t len)
{
	uint32_t x = ne32_load(m->memo_len) ^ (0x01010101u * (uint32_t)len);
	if (((x - 0x01010101u) & ~x & 0x80808080u) == 0)
		return 0;
	for (unsigned i = 0; i < DNS_MSG_MEMO; i++) {
		if (m->memo_len[i] == len && m->memo_off[i] != 0 &&
		    dname_bytes_equal(m->memo_name[i], name, len))
			return m->memo_off[i];
	}
	return 0;
}

/* Remember that off holds the earliest registered name equal to name (len bytes). */
static void memo_add(dns_msg_t *m, size_t off, const uint8_t *name, size_t len)
{
	unsigned i = m->memo_next;
	m->memo_off[i] = (uint16_t)off;
	m->memo_len[i] = (uint8_t)len;
	copy_small(m->memo_name[i], name, len);
	m->memo_next = (i + 1) % DNS_MSG_MEMO;
}

static void memo_clear(dns_msg_t *m)
{
	memset(m->memo_off, 0, sizeof(m->memo_off));
	memset(m->memo_len, 0, sizeof(m->memo_len)); /* names are longer: no slot matches */
	m->memo_next = 0;
}

static int put_name_table(dns_msg_t *m, const uint8_t *name, size_t len, bool compress);

/* Write the well-formed name (len bytes uncompressed); see dns_msg_name(). */
static inline int put_name(dns_msg_t *m, const uint8_t *name, size_t len, bool compress)
{
	if (len == 1) /* the root (an OPT's owner): one byte, never compressed nor registered */
		return dns_msg_put(m, name, 1);
	if (compress && m->q_len != 0 && is_question(m, name, len)) {
		if (2 > m->lim - m->pos)
			return SD_ESPACE;
		be16_put(m->buf + m->pos, (uint16_t)(0xc000 | m->q_off));
		m->pos += 2;
		return 0;
	}
	size_t memo = compress && m->comp != NULL ? memo_find(m, name, len) : 0;
	if (memo != 0) {
		if (2 > m->lim - m->pos)
			return SD_ESPACE;
		be16_put(m->buf + m->pos, (uint16_t)(0xc000 | memo));
		m->pos += 2;
		return 0;
	}
	return put_name_table(m, name, len, compress);
}

/* put_name() through the table: the suffixes hashed, the longest registered one found, the
 * rest registered. Apart (its arrays are the frame) so that the question and memo cases
 * above cost no more than they do. */
static SD_NOINLINE int put_name_table(dns_msg_t *m, const uint8_t *name, size_t len, bool compress)
{
	uint8_t offs[DNAME_LABELS_MAX];
	uint32_t hash[DNAME_LABELS_MAX];
	unsigned n = 0;
	if (m->comp != NULL) {
		comp_flush(m);
		n = comp_labels(m->comp, name, offs, hash);
	}
	unsigned cut = n; /* labels written in full; a pointer replaces the rest */
	size_t ptr = 0;
	if (compress && n > 0 && m->comp->slot == NULL)
		ptr = list_find(m, name, len, offs, n, &cut);
	else if (compress && n > 0)
		ptr = table_find(m, name, offs, hash, n, &cut);
	size_t head = cut < n ? offs[cut] : len;
	if (head + (ptr != 0 ? 2 : 0) > m->lim - m->pos)
		return SD_ESPACE;
	size_t start = m->pos;
	copy_small(m->buf + start, name, head);
	m->pos += head;
	if (ptr != 0) {
		be16_put(m->buf + m->pos, (uint16_t)(0xc000 | ptr));
		m->pos += 2;
	}
	if (m->comp == NULL)
		return 0;
	unsigned before = m->comp->n;
	comp_register(m, offs, hash, cut, start, len, head);
	/* the whole name is now a pointer: to the match, or to where it was written when its
	 * full form was registered (no equal name was: it is the earliest) */
	if (!compress)
		return 0;
	if (cut == 0 && ptr != 0)
		memo_add(m, ptr, name, len);
	else if (cut > 0 && m->comp->n > before && start <= PTR_MAX)
		memo_add(m, start, name, len);
	return 0;
}

int dns_msg_name(dns_msg_t *m, const uint8_t *name, bool compress)
{
	size_t len = dname_len_bounded(name, DNAME_MAX);
	return len != 0 ? put_name(m, name, len, compress) : SD_EPARSE;
}

/* --- the message --- */

void dns_msg_init(dns_msg_t *m, uint8_t *buf, size_t lim, dns_comp_t *comp, unsigned flags)
{
	m->buf = buf;
	m->pos = 0;
	m->lim = lim;
	m->comp = comp;
	m->exact = (flags & DNS_MSG_EXACT) != 0;
	m->q_off = m->q_len = 0;
	m->q_pending = false;
	m->img_pending = NULL;
	m->q_alias = NULL;
	memo_clear(m);
	if (comp != NULL)
		comp_truncate(comp, 0);
}

void dns_msg_resume(dns_msg_t *m, uint8_t *buf, size_t len, size_t lim)
{
	dns_msg_init(m, buf, lim, NULL, 0);
	m->pos = len < lim ? len : lim;
}

void dns_msg_rollback(dns_msg_t *m, dns_msg_mark_t mk)
{
	m->pos = mk.pos;
	memo_clear(m);
	if (m->q_len != 0 && mk.pos < m->q_off + m->q_len) { /* the question is gone */
		m->q_len = 0;
		m->q_pending = false;
	}
	if (m->comp == NULL)
		return;
	comp_truncate(m->comp, mk.ncomp);
	/* a mark taken before the question was registered: it is pending again; so is an image
	 * that was waiting then (its bytes lie before the mark), and one written after is gone */
	if (m->q_len != 0 && m->comp->n == 0)
		m->q_pending = true;
	m->img_pending = mk.img_pending;
	m->img_base = mk.img_base;
}

int dns_msg_put(dns_msg_t *m, const void *data, size_t len)
{
	if (len > m->lim - m->pos)
		return SD_ESPACE;
	copy_small(m->buf + m->pos, (const uint8_t *)data, len);
	m->pos += len;
	return 0;
}

int dns_msg_header(dns_msg_t *m, uint16_t id, uint16_t flags)
{
	if (m->pos != 0 || m->lim < DNS_HEADER_LEN)
		return SD_ESPACE;
	memset(m->buf, 0, DNS_HEADER_LEN);
	be16_put(m->buf, id);
	be16_put(m->buf + 2, flags);
	m->pos = DNS_HEADER_LEN;
	return 0;
}

int dns_msg_question(dns_msg_t *m, const uint8_t *q, size_t qlen)
{
	size_t nl = dname_len_bounded(q, qlen);
	if (nl == 0 || qlen != nl + 4)
		return SD_EPARSE;
	return dns_msg_question_len(m, q, nl);
}

int dns_msg_question_len(dns_msg_t *m, const uint8_t *q, size_t nl)
{
	size_t qlen = nl + 4;
	if (m->pos < DNS_HEADER_LEN)
		return SD_EPARSE;
	size_t start = m->pos;
	int ret = dns_msg_put(m, q, qlen);
	if (ret < 0)
		return ret;
	be16_put(m->buf + 4, 1);
	if (m->comp == NULL)
		return 0;
	comp_flush(m); /* an earlier question's (and image's) entries come first */
	/* into an empty table (the root has no label to register): registered when first
	 * needed */
	if (m->comp->n == 0 && start <= PTR_MAX && nl > 1) {
		m->q_off = start;
		m->q_len = nl;
		m->q_pending = true;
		return 0;
	}
	uint8_t offs[DNAME_LABELS_MAX];
	uint32_t hash[DNAME_LABELS_MAX];
	unsigned n = comp_labels(m->comp, q, offs, hash);
	comp_register(m, offs, hash, n, start, nl, nl);
	return 0;
}

/* The owner (olen bytes, well formed), compressed, and type, class, TTL, RDLENGTH; on an error
 * the caller rolls back (the owner may have registered suffixes). */
int dns_msg_reply_question(dns_msg_t *m, const uint8_t *req, size_t nl)
{
	size_t len = DNS_HEADER_LEN + nl + 4;
	if (m->pos != 0 || len > m->lim)
		return SD_ESPACE;
	copy_small(m->buf, req, len);
	m->pos = len;
	if (m->comp != NULL && nl > 1) { /* registered when first needed (dns_msg_question_len) */
		m->q_off = DNS_HEADER_LEN;
		m->q_len = nl;
		m->q_pending = true;
	}
	return 0;
}

static int rr_head(dns_msg_t *m, const uint8_t *owner, size_t olen, uint16_t type, uint16_t rclass,
                   uint32_t ttl, uint16_t rdlen)
{
	int ret = put_name(m, owner, olen, true);
	if (ret < 0)
		return ret;
	if (m->lim - m->pos < RR_FIXED)
		return SD_ESPACE;
	uint8_t *p = m->buf + m->pos;
	be16_put(be32_put(be16_put(be16_put(p, type), rclass), ttl), rdlen);
	m->pos += RR_FIXED;
	return 0;
}

int dns_msg_rr_header(dns_msg_t *m, const uint8_t *owner, uint16_t type, uint16_t rclass,
                      uint32_t ttl, uint16_t rdlen)
{
	size_t olen = dname_len_bounded(owner, DNAME_MAX);
	if (olen == 0)
		return SD_EPARSE;
	dns_msg_mark_t mk = dns_msg_mark(m);
	int ret = rr_head(m, owner, olen, type, rclass, ttl, rdlen);
	if (ret < 0)
		dns_msg_rollback(m, mk);
	return ret;
}

/* RDATA as the descriptor lays it out: [pre][names, compressed][tail]; other types as is. */
static int put_rdata(dns_msg_t *m, uint16_t type, const uint8_t *rd, uint16_t rdlen)
{
	const dns_rdata_desc_t *d = dns_rdata_desc(type);
	if (!(d->flags & DNS_RDATA_COMPRESS)) {
		if (rdlen > m->lim - m->pos)
			return SD_ESPACE;
		copy_small(m->buf + m->pos, rd, rdlen);
		m->pos += rdlen;
		return 0;
	}
	size_t p = d->pre;
	if (p > rdlen)
		return SD_EPARSE;
	int ret = dns_msg_put(m, rd, p);
	for (unsigned i = 0; ret == 0 && i < d->names; i++) {
		size_t l = dname_len_bounded(rd + p, rdlen - p);
		if (l == 0)
			return SD_EPARSE;
		ret = put_name(m, rd + p, l, true);
		p += l;
	}
	if (ret == 0 && p + d->tail != rdlen)
		return SD_EPARSE;
	return ret == 0 ? dns_msg_put(m, rd + p, d->tail) : ret;
}

int dns_msg_rr_len(dns_msg_t *m, const uint8_t *owner, size_t olen, uint16_t type, uint16_t rclass,
                   uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	static const uint8_t empty = 0;
	if (rdlen > 0 && rdata == NULL)
		return SD_EPARSE;
	dns_msg_mark_t mk = dns_msg_mark(m);
	int ret = rr_head(m, owner, olen, type, rclass, ttl, 0);
	size_t rdlen_at = m->pos - 2;
	if (ret == 0)
		ret = put_rdata(m, type, rdata != NULL ? rdata : &empty, rdlen);
	if (ret < 0) {
		dns_msg_rollback(m, mk);
		return ret;
	}
	/* compression only shrinks RDATA, so the length still fits 16 bits */
	be16_put(m->buf + rdlen_at, (uint16_t)(m->pos - rdlen_at - 2));
	return 0;
}

int dns_msg_rrs_of_question(dns_msg_t *m, uint16_t type, uint16_t rclass, uint32_t ttl,
                            const uint8_t *run, uint16_t n, const uint8_t *idx, uint8_t len)
{
	assert(m->q_len != 0 && !dns_rdata_compressible(type));
	const size_t head = 2 + 8; /* the owner (a pointer), type, class, TTL */
	size_t start = m->pos, off = 0;
	for (uint16_t i = 0; i < n; i++) {
		if (idx != NULL)
			off = (size_t)idx[i] * (2u + len);
		/* RDLENGTH and RDATA, as the run holds them */
		size_t rd = 2u + be16_get(run + off);
		if (head + rd > m->lim - m->pos) {
			m->pos = start;
			return SD_ESPACE;
		}
		uint8_t *p = m->buf + m->pos;
		be32_put(
		    be16_put(be16_put(be16_put(p, (uint16_t)(0xc000 | m->q_off)), type), rclass),
		    ttl);
		copy_small(p + head, run + off, rd);
		m->pos += head + rd;
		off += rd;
	}
	return 0;
}

int dns_msg_rr(dns_msg_t *m, const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
               const uint8_t *rdata, uint16_t rdlen)
{
	size_t olen = dname_len_bounded(owner, DNAME_MAX);
	if (olen == 0)
		return SD_EPARSE;
	return dns_msg_rr_len(m, owner, olen, type, rclass, ttl, rdata, rdlen);
}

/* --- relocatable images --- */

#define IMG_REL   0x4000 /* a slot's tag: a pointer into the image (else into the anchor) */
#define IMG_SLOTS 512    /* pointers in one image at most */

int dns_msg_image_begin(dns_msg_t *m, uint8_t *buf, size_t cap, dns_comp_t *comp,
                        const uint8_t *anchor, size_t alen)
{
	static const uint8_t type_class[4] = {0, 0, 0, DNS_CLASS_IN};
	dns_msg_init(m, buf, cap, comp, 0);
	int ret = dns_msg_header(m, 0, 0);
	if (ret == 0 && DNS_HEADER_LEN + alen + 4 > cap)
		ret = SD_ESPACE;
	if (ret < 0)
		return ret;
	memcpy(buf + DNS_HEADER_LEN, anchor, alen);
	memcpy(buf + DNS_HEADER_LEN + alen, type_class, 4);
	return dns_msg_question_len(m, buf + DNS_HEADER_LEN, alen);
}

/* A pointer target in the scratch message as an image tags it: into the image (start) or
 * into the anchor (ending at start - 4). */
static uint16_t image_tag(size_t to, size_t start)
{
	return (uint16_t)(to >= start ? IMG_REL | (to - start) : start - 4 - to);
}

/* The end of the name at p, its pointer (if one ends it) tagged and its offset noted in slot
 * (room for max; *n counts them all). */
static size_t image_name(dns_msg_t *m, size_t p, size_t start, uint16_t *slot, unsigned max,
                         unsigned *n)
{
	uint8_t *b = m->buf;
	while (b[p] != 0 && (b[p] & 0xc0) != 0xc0)
		p += 1u + b[p];
	if (b[p] == 0)
		return p + 1;
	be16_put(b + p, image_tag(((size_t)(b[p] & 0x3f) << 8) | b[p + 1], start));
	if (*n < max)
		slot[*n] = (uint16_t)(p - start);
	(*n)++;
	return p + 2;
}

/* Tag the pointers of the RRs in [start, m->pos), their offsets into slot (room for max);
 * returns how many there are. */
static unsigned image_walk(dns_msg_t *m, size_t start, uint16_t *slot, unsigned max)
{
	unsigned n = 0;
	for (size_t p = start; p < m->pos;) {
		p = image_name(m, p, start, slot, max, &n);
		size_t end = p + RR_FIXED + be16_get(m->buf + p + 8);
		const dns_rdata_desc_t *d = dns_rdata_desc(be16_get(m->buf + p));
		p += RR_FIXED + d->pre;
		for (unsigned i = 0; (d->flags & DNS_RDATA_COMPRESS) && i < d->names; i++)
			p = image_name(m, p, start, slot, max, &n);
		p = end;
	}
	return n;
}

/* The table's entries past the anchor's (list tables), into entry when not NULL; the count,
 * or -1 when the table filled up (an entry may be missing). */
static int image_entries(const dns_msg_t *m, size_t start, dns_msg_image_entry_t *entry)
{
	const dns_comp_t *c = m->comp;
	if (c->slot != NULL || c->n == c->cap)
		return -1;
	unsigned n = 0;
	for (unsigned i = 0; i < c->n; i++) {
		if (c->log[i] < start)
			continue;
		if (entry != NULL)
			entry[n] = (dns_msg_image_entry_t){.off = (uint16_t)(c->log[i] - start),
			                                   .len = c->len[i],
			                                   .raw = c->raw[i]};
		n++;
	}
	return (int)n;
}

int dns_msg_image_end(dns_msg_t *m, bool follow, void *out, size_t cap)
{
	size_t start = DNS_HEADER_LEN + dname_len(m->buf + DNS_HEADER_LEN) + 4;
	int ne = follow ? image_entries(m, start, NULL) : 0;
	if (ne < 0)
		return SD_ELIMIT;
	unsigned i = (m->memo_next + DNS_MSG_MEMO - 1) % DNS_MSG_MEMO;
	size_t memo_len = follow && m->memo_off[i] != 0 ? m->memo_len[i] : 0;
	dns_msg_image_t h = {.len = (uint16_t)(m->pos - start), .nentry = (uint16_t)ne};
	uint16_t slot[IMG_SLOTS];
	unsigned ns = image_walk(m, start, slot, IMG_SLOTS);
	if (ns > IMG_SLOTS)
		return SD_ELIMIT;
	h.nslot = (uint16_t)ns;
	size_t size = sizeof(h) + (size_t)ne * sizeof(dns_msg_image_entry_t) + ns * 2u + h.len;
	if (size + memo_len > cap)
		return SD_ELIMIT;
	dns_msg_image_t *img = out;
	*img = h;
	image_entries(m, start, (dns_msg_image_entry_t *)(void *)(img + 1));
	memcpy((uint8_t *)(void *)dns_msg_image_slots(img), slot, ns * 2u);
	memcpy((uint8_t *)dns_msg_image_wire(img), m->buf + start, h.len);
	if (memo_len > 0) {
		img->memo = image_tag(m->memo_off[i], start);
		img->memo_len = (uint8_t)memo_len;
		img->memo_name = memcpy((uint8_t *)out + size, m->memo_name[i], memo_len);
	}
	return 0;
}

/* Register img's entries, relocated to base (comp_flush(): after the question's). */
static void image_register(dns_msg_t *m, const dns_msg_image_t *img, size_t base)
{
	dns_comp_t *c = m->comp;
	const dns_msg_image_entry_t *entry = dns_msg_image_entries(img);
	for (unsigned i = 0; i < img->nentry && c->n < c->cap; i++) {
		const dns_msg_image_entry_t *e = &entry[i];
		c->log[c->n] = (uint16_t)(base + e->off);
		c->len[c->n] = e->len;
		c->raw[c->n++] = e->raw;
	}
}

int dns_msg_image(dns_msg_t *m, const dns_msg_image_t *img)
{
	size_t base = m->pos, len = img->len, q_end = m->q_off + m->q_len;
	if (len > m->lim - base || base + len > PTR_MAX + 1 ||
	    (img->nentry > 0 && (m->comp == NULL || m->comp->slot != NULL)))
		return SD_ESPACE;
	uint8_t *out = m->buf + base;
	memcpy(out, dns_msg_image_wire(img), len);
	const uint16_t *slot = dns_msg_image_slots(img);
	for (unsigned i = 0; i < img->nslot; i++) {
		uint8_t *s = out + slot[i];
		unsigned tag = be16_get(s);
		if (!(tag & IMG_REL) && m->q_len == 0)
			return SD_ESPACE; /* no question to point into; nothing was kept */
		size_t to = (tag & IMG_REL) ? base + (tag & (IMG_REL - 1)) : q_end - tag;
		be16_put(s, (uint16_t)(0xc000 | to));
	}
	m->pos = base + len;
	if (img->nentry > 0) { /* registered when a name first needs the table */
		if (m->img_pending != NULL)
			comp_flush(m); /* an earlier image's names come first */
		m->img_pending = img;
		m->img_base = base;
	}
	if (img->memo_len > 0) {
		unsigned t = img->memo;
		memo_add(m, (t & IMG_REL) ? base + (t & (IMG_REL - 1)) : q_end - t, img->memo_name,
		         img->memo_len);
	}
	return 0;
}

uint16_t dns_msg_random_id(void)
{
	uint16_t id = 0;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)(rand() ^ (int)time(NULL));
	return id;
}

const char *dns_rcode_name(unsigned rcode, char buf[DNS_RCODE_NAME_LEN])
{
	static const char *const names[] = {
	    [DNS_RCODE_NOERROR] = "NOERROR",    [DNS_RCODE_FORMERR] = "FORMERR",
	    [DNS_RCODE_SERVFAIL] = "SERVFAIL",  [DNS_RCODE_NXDOMAIN] = "NXDOMAIN",
	    [DNS_RCODE_NOTIMP] = "NOTIMP",      [DNS_RCODE_REFUSED] = "REFUSED",
	    [DNS_RCODE_YXDOMAIN] = "YXDOMAIN",  [DNS_RCODE_YXRRSET] = "YXRRSET",
	    [DNS_RCODE_NXRRSET] = "NXRRSET",    [DNS_RCODE_NOTAUTH] = "NOTAUTH",
	    [DNS_RCODE_NOTZONE] = "NOTZONE",    [DNS_RCODE_BADVERS] = "BADVERS",
	    [DNS_RCODE_BADCOOKIE] = "BADCOOKIE"};
	if (rcode < sizeof(names) / sizeof(names[0]) && names[rcode] != NULL)
		return names[rcode];
	snprintf(buf, DNS_RCODE_NAME_LEN, "RCODE%u", rcode);
	return buf;
}
