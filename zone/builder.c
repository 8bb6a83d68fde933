/* builder.c — collecting records, checking the zone rules and laying out a version.
 *
 * The builder keeps every record in a growing array plus one byte store (owners, RDATA, a
 * canonical copy of the RDATA, the "file:line" text), referenced by offsets so the store can
 * grow. zone_builder_finish sorts, merges, checks and then writes the whole version into one
 * arena (see internal.h); the builder is freed in every case. The checks can run first on
 * their own (zone_builder_check), for a caller that walks the sorted RRsets before deciding
 * to lay them out (zone_overlay_build).
 */
#include "zone/internal.h"
#include "zone/builder.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "contrib/base/mem.h"
#include "contrib/base/vec.h"
#include "contrib/base/require.h"
#include "dns/rdata.h"
#include "dns/soa.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_WHERE    UINT32_MAX
#define ARENA_ALIGN 16

typedef struct brec {
	uint32_t owner_off;
	uint32_t rdata_off; /* as given (names keep their case) */
	uint32_t canon_off; /* RFC 4034 6.2 canonical form: embedded names lowercased */
	uint32_t where_off; /* NUL-terminated "file:line" or "file" (see line), or NO_WHERE */
	uint32_t line;      /* line in the file at where_off (zone_builder_add_at), or 0 */
	uint32_t seq;       /* order of zone_builder_add */
	uint32_t ttl;
	uint16_t type;
	uint16_t rclass;
	uint16_t rdlen;
	uint8_t owner_len;
	uint8_t dropped; /* excluded by a failed rule (class, out of zone) or a duplicate */
} brec_t;

struct zone_builder {
	brec_t *recs;
	size_t n, cap;
	uint8_t *buf;
	size_t blen, bcap;
	uint8_t apex[DNAME_MAX];
	size_t apex_len;
	char apex_str[1024]; /* for messages */
	unsigned errors;
	uint32_t file_off;         /* the last file name zone_builder_add_at stored, or NO_WHERE */
	bool zero_byte;            /* an owner holds a 0 octet: owner_key is not used (see there) */
	bool wildcard;             /* an owner starts with a '*' label: nodes look for wildcards */
	zone_bindings_t *bindings; /* reference held for the build; may be NULL */
	/* after the checks (check(), zone_builder_check): the RRsets and nodes, and the result */
	struct group *g;
	size_t ng;
	struct bnode *bn;
	size_t nn;
	bool checked;
	int check_rc;
};

/* An RRset during the build: records recs[first .. first + count), sorted canonically. */
typedef struct group {
	uint32_t first;
	uint32_t count;
	uint32_t ttl;
} group_t;

/* A node during the build: its owner (pointing into the builder's store) and its groups. */
typedef struct bnode {
	const uint8_t *owner;
	uint8_t len;
	uint32_t group_first;
	uint32_t group_count;
} bnode_t;

/* Make [p, p + len), memory the caller writes in full next, resident at once and in huge
 * pages where it can be (contrib/base/mem.h). A build's arrays and arena are fresh memory
 * (large allocations are mappings of their own). In a VM a fault costs 3-5 us a page: 256 MB
 * took 0.20-0.33 s touched page by page, 0.13 s populated. With huge pages here, for the
 * text (load.c) and for the store (zone_builder_expect), a 1M-record load takes about 4,000
 * faults instead of 79,000 and 0.3 s of user time instead of 0.8. */
static void prefault(void *p, size_t len)
{
	sd_mem_huge(p, len);
	sd_mem_prefault(p, len);
}

int zone_builder_new(const uint8_t *apex, const zone_bindings_t *bindings, zone_builder_t **out)
{
	zone_builder_t *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->bindings = bindings ? zone_bindings_ref(bindings) : NULL;
	b->apex_len = dname_len(apex);
	memcpy(b->apex, apex, b->apex_len);
	dname_lower(b->apex);
	dname_to_str(b->apex, b->apex_str, sizeof(b->apex_str));
	b->file_off = NO_WHERE;
	*out = b;
	return 0;
}

void zone_builder_free(zone_builder_t *b)
{
	if (!b)
		return;
	free(b->recs);
	free(b->buf);
	free(b->g);
	free(b->bn);
	zone_bindings_unref(b->bindings);
	free(b);
}

/* zone_builder_expect's guesses: bytes of zone text per record at the least ("a A 1.2.3.4"
 * and its newline are 12), and octets stored per byte of text (owner and RDATA in wire form,
 * names in RDATA twice: about 1.6 for a zone of relative names and addresses). Generous on
 * purpose: what is reserved and never written costs address space only, and a guess too
 * small only means growing as before. */
#define EXPECT_TEXT_PER_REC   12
#define EXPECT_STORE_PER_TEXT 3

void zone_builder_expect(zone_builder_t *b, size_t text_len)
{
	size_t recs = b->n + text_len / EXPECT_TEXT_PER_REC + 1,
	       bytes = b->blen + EXPECT_STORE_PER_TEXT * text_len + 1;
	if (sd_vec_reserve(&b->recs, &b->cap, recs, sizeof(*b->recs)) == 0)
		sd_mem_huge(b->recs, b->cap * sizeof(*b->recs));
	if (sd_vec_reserve(&b->buf, &b->bcap, bytes, 1) == 0)
		sd_mem_huge(b->buf, b->bcap);
}

/* Append len bytes to the store; returns the offset or NO_WHERE on failure. */
static uint32_t store(zone_builder_t *b, const void *data, size_t len)
{
	if (b->blen + len >= NO_WHERE)
		return NO_WHERE;
	if (sd_vec_grow(&b->buf, &b->bcap, b->blen + len) != 0)
		return NO_WHERE;
	uint32_t off = (uint32_t)b->blen;
	if (len)
		memcpy(b->buf + off, data, len);
	b->blen += len;
	return off;
}

/* The file name of a record's place, stored once for a run of records from one file. */
static uint32_t store_file(zone_builder_t *b, const char *file)
{
	if (b->file_off != NO_WHERE && strcmp((const char *)b->buf + b->file_off, file) == 0)
		return b->file_off;
	b->file_off = store(b, file, strlen(file) + 1);
	return b->file_off;
}

static int add(zone_builder_t *b, const uint8_t *owner, uint16_t type, uint16_t rclass,
               uint32_t ttl, const uint8_t *rdata, uint16_t rdlen, const char *where,
               const char *file, uint32_t line)
{
	static const uint8_t empty = 0;
	uint16_t offs[DNS_RDATA_NAMES_MAX];
	const uint8_t *rd = rdata ? rdata : &empty;
	if (!rdata && rdlen)
		return SD_EPARSE;
	int names = dns_rdata_names(type, rd, rdlen, offs);
	if (names < 0)
		return names;
	if (b->n == b->cap && sd_vec_grow(&b->recs, &b->cap, b->n + 1) != 0)
		return -ENOMEM;
	brec_t *r = &b->recs[b->n];
	memset(r, 0, sizeof(*r));
	size_t olen = dname_len(owner);
	if (olen > DNAME_MAX)
		return SD_EPARSE;
	r->owner_off = store(b, owner, olen);
	r->rdata_off = store(b, rd, rdlen);
	/* without embedded names the canonical form is the RDATA itself: not stored twice */
	r->canon_off = names > 0 ? store(b, rd, rdlen) : r->rdata_off;
	r->where_off = where ? store(b, where, strlen(where) + 1) : file ? store_file(b, file) : 0;
	if (r->owner_off == NO_WHERE || r->rdata_off == NO_WHERE || r->canon_off == NO_WHERE ||
	    r->where_off == NO_WHERE)
		return -ENOMEM;
	if (!where && !file)
		r->where_off = NO_WHERE;
	r->line = file ? line : 0;
	dname_lower(b->buf + r->owner_off);
	for (int i = 0; i < names; i++)
		dname_lower(b->buf + r->canon_off + offs[i]);
	r->owner_len = (uint8_t)olen;
	r->type = type;
	r->rclass = rclass;
	r->ttl = ttl;
	r->rdlen = rdlen;
	r->seq = (uint32_t)b->n;
	b->n++;
	return 0;
}

int zone_builder_add(zone_builder_t *b, const uint8_t *owner, uint16_t type, uint16_t rclass,
                     uint32_t ttl, const uint8_t *rdata, uint16_t rdlen, const char *where)
{
	return add(b, owner, type, rclass, ttl, rdata, rdlen, where, NULL, 0);
}

int zone_builder_add_at(zone_builder_t *b, const uint8_t *owner, uint16_t type, uint16_t rclass,
                        uint32_t ttl, const uint8_t *rdata, uint16_t rdlen, const char *file,
                        uint32_t line)
{
	return add(b, owner, type, rclass, ttl, rdata, rdlen, NULL, file, line);
}

/* --- messages --- */

static const uint8_t *rec_owner(const zone_builder_t *b, const brec_t *r)
{
	return b->buf + r->owner_off;
}

static const char *rec_where(const zone_builder_t *b, const brec_t *r, char *buf, size_t size)
{
	if (r->where_off == NO_WHERE)
		return b->apex_str;
	const char *w = (const char *)b->buf + r->where_off;
	if (r->line == 0)
		return w;
	snprintf(buf, size, "%s:%" PRIu32, w, r->line);
	return buf;
}

SD_PRINTF(4, 5)
static void rec_log(zone_builder_t *b, log_level_t level, const brec_t *r, const char *fmt, ...)
{
	char owner[1024], type[16], msg[1024], where[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dname_to_str(rec_owner(b, r), owner, sizeof(owner));
	log_msg(level, "%s: %s %s: %s", rec_where(b, r, where, sizeof(where)), owner,
	        zone_type_to_str(r->type, type), msg);
	if (level == LOG_LEVEL_ERROR)
		b->errors++;
}

#define rec_error(b, r, ...) rec_log(b, LOG_LEVEL_ERROR, r, __VA_ARGS__)

/* --- sorting --- */

static int cmp_rdata(const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
	/* RFC 4034 6.3: left-justified octet strings, a missing octet sorts before zero */
	size_t min = la < lb ? la : lb;
	int c = min ? memcmp(a, b, min) : 0;
	if (c != 0)
		return c;
	return la < lb ? -1 : la > lb;
}

/* The first 8 octets, big-endian, of the owner's labels below the apex from the top down,
 * each followed by a 0 octet; 0 for an owner outside the zone. For owners in the zone whose
 * labels hold no 0 octet, a lower key means a lower name in canonical order (RFC 4034 6.1:
 * labels compared from the top, a label that is a prefix of another sorts first, a name
 * before its descendants), so the sort compares keys first and whole names only on a tie.
 * A 0 octet in a label would compare as a label end: *zero is set and keys are not used.
 * Any key function keeps the order total (key, then name); this one keeps it canonical. */
static uint64_t owner_key(const zone_builder_t *b, const uint8_t *owner, bool *zero)
{
	uint8_t offs[DNAME_LABELS_MAX];
	unsigned n = dname_label_offsets(owner, offs), apex = dname_labels(b->apex);
	if (n < apex || !dname_is_subdomain(owner, b->apex))
		return 0;
	uint64_t key = 0;
	unsigned got = 0;
	for (unsigned l = n - apex; l-- > 0;) {
		const uint8_t *lab = owner + offs[l];
		for (unsigned i = 1; i <= lab[0]; i++) {
			*zero |= lab[i] == 0;
			if (got < 8)
				key |= (uint64_t)lab[i] << (8 * (7 - got++));
		}
		got += got < 8; /* the label's end */
	}
	return key;
}

static int cmp_rec(const void *pa, const void *pb, void *arg)
{
	const zone_builder_t *b = arg;
	const brec_t *x = pa, *y = pb;
	int c = dname_cmp_canonical(b->buf + x->owner_off, b->buf + y->owner_off);
	if (c != 0)
		return c;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	c = cmp_rdata(b->buf + x->canon_off, x->rdlen, b->buf + y->canon_off, y->rdlen);
	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A record's place during sort_recs: its key and its index in recs. */
typedef struct rkey {
	uint64_t key;
	uint32_t idx;
} rkey_t;

/* Sort a by key, stably: an LSD radix sort, one counting pass per key byte, skipping the
 * bytes every key shares. tmp has room for n. Returns the sorted array (a or tmp). */
static rkey_t *radix_sort(rkey_t *a, rkey_t *tmp, size_t n)
{
	uint32_t count[8][256] = {{0}}; /* n < 2^32: recs are indexed by uint32_t (seq) */
	for (size_t i = 0; i < n; i++)
		for (unsigned d = 0; d < 8; d++)
			count[d][(a[i].key >> (8 * d)) & 0xff]++;
	for (unsigned d = 0; d < 8; d++) {
		if (count[d][(a[0].key >> (8 * d)) & 0xff] == n)
			continue; /* one value: the pass would not move anything */
		uint32_t sum = 0;
		for (unsigned v = 0; v < 256; v++) {
			uint32_t c = count[d][v];
			count[d][v] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[count[d][(a[i].key >> (8 * d)) & 0xff]++] = a[i];
		rkey_t *t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}

static int cmp_rkey(const void *pa, const void *pb, void *arg)
{
	const zone_builder_t *b = arg;
	const rkey_t *x = pa, *y = pb;
	return cmp_rec(&b->recs[x->idx], &b->recs[y->idx], arg);
}

/* Sort recs in cmp_rec order. cmp_rec is a total order, so the result is the one any sort
 * gives; this one is O(n) where the owners' keys (owner_key) tell them apart: the keys are
 * radix-sorted with the records' indices, each run of equal keys (one owner's records, or
 * owners that share their first 8 octets) is sorted by cmp_rec, then the records are
 * gathered in that order into a new array (independent loads, prefetched; a permutation in
 * place would wait for one cache miss after the other), whose memory was the radix sort's
 * second buffer (fresh pages cost: each is a fault and a clearing). At 1M records qsort_r
 * took ~0.19 s (20M comparisons through a pointer, then glibc's merge sort moving the
 * records one cycle at a time); this ~0.05 s. Without usable keys (a 0 octet in a label) or
 * memory for the index array and the new array: qsort_r. */
#define GATHER_AHEAD 16
static void sort_recs(zone_builder_t *b)
{
	size_t n = b->n;
	_Static_assert(sizeof(brec_t) >= sizeof(rkey_t), "the gather buffer holds the keys");
	rkey_t *a = malloc(n * sizeof(*a));
	brec_t *sorted = a ? malloc(n * sizeof(*sorted)) : NULL;
	if (sorted)
		prefault(a, n * sizeof(*a));
	for (size_t i = 0; sorted && i < n; i++)
		a[i] =
		    (rkey_t){owner_key(b, rec_owner(b, &b->recs[i]), &b->zero_byte), (uint32_t)i};
	if (!sorted || b->zero_byte) {
		free(a);
		free(sorted);
		qsort_r(b->recs, n, sizeof(brec_t), cmp_rec, b);
		return;
	}
	prefault(sorted, n * sizeof(*sorted));
	rkey_t *o = radix_sort(a, (rkey_t *)(void *)sorted, n);
	if (o != a)
		memcpy(a, o, n * sizeof(*a)); /* sorted is written next */
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && a[j].key == a[i].key;)
			j++;
		if (j - i > 1)
			qsort_r(a + i, j - i, sizeof(*a), cmp_rkey, b);
	}
	for (size_t i = 0; i < n; i++) {
		if (i + GATHER_AHEAD < n)
			__builtin_prefetch(&b->recs[a[i + GATHER_AHEAD].idx]);
		sorted[i] = b->recs[a[i].idx];
	}
	free(a);
	free(b->recs);
	b->recs = sorted;
	b->cap = n;
}

static bool same_owner(const zone_builder_t *b, const brec_t *x, const brec_t *y)
{
	return x->owner_len == y->owner_len &&
	       memcmp(b->buf + x->owner_off, b->buf + y->owner_off, x->owner_len) == 0;
}

static bool same_rr(const zone_builder_t *b, const brec_t *x, const brec_t *y)
{
	return same_owner(b, x, y) && x->type == y->type && x->rdlen == y->rdlen &&
	       memcmp(b->buf + x->canon_off, b->buf + y->canon_off, x->rdlen) == 0;
}

/* Drop records of another class or outside the zone (each an error), then sort and drop
 * duplicates (RFC 2181 5: an RRset holds no duplicates), compacting recs. */
static void filter_sort_dedupe(zone_builder_t *b)
{
	for (size_t i = 0; i < b->n; i++) {
		brec_t *r = &b->recs[i];
		if (r->rclass != DNS_CLASS_IN) {
			rec_error(b, r, "class %u is not IN", (unsigned)r->rclass);
			r->dropped = 1;
		} else if (!dname_is_subdomain(rec_owner(b, r), b->apex)) {
			rec_error(b, r, "out of zone (not at or below %s)", b->apex_str);
			r->dropped = 1;
		}
	}
	if (b->n > 1) /* recs is NULL for an empty file: qsort_r(NULL, 0) is undefined */
		sort_recs(b);
	size_t k = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (b->recs[i].dropped)
			continue;
		if (k > 0 && same_rr(b, &b->recs[k - 1], &b->recs[i]))
			continue; /* the first added (lowest seq) is kept: it sorts first */
		b->recs[k++] = b->recs[i];
	}
	b->n = k;
}

/* Group records into RRsets. RFC 2181 5.2: all TTLs of an RRset must agree; when they do not,
 * warn and use the TTL of the first record added. */
static int make_groups(zone_builder_t *b, group_t **out, size_t *count)
{
	group_t *g = malloc((b->n ? b->n : 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	prefault(g, b->n * sizeof(*g)); /* groups <= records: the end unused at worst */
	size_t ng = 0;
	for (size_t i = 0; i < b->n;) {
		size_t j = i + 1, first = i;
		while (j < b->n && same_owner(b, &b->recs[i], &b->recs[j]) &&
		       b->recs[j].type == b->recs[i].type) {
			if (b->recs[j].seq < b->recs[first].seq)
				first = j;
			j++;
		}
		if (j - i > UINT16_MAX) {
			rec_error(b, &b->recs[i], "more than %u records in one RRset", UINT16_MAX);
		}
		uint32_t ttl = b->recs[first].ttl;
		for (size_t k = i; k < j; k++) {
			if (b->recs[k].ttl != ttl)
				rec_log(b, LOG_LEVEL_WARNING, &b->recs[k],
				        "TTL %u differs from the RRset's TTL %u (RFC 2181 5.2), "
				        "using %u",
				        b->recs[k].ttl, ttl, ttl);
		}
		g[ng++] = (group_t){.first = (uint32_t)i, .count = (uint32_t)(j - i), .ttl = ttl};
		i = j;
	}
	*out = g;
	*count = ng;
	return 0;
}

/* --- nodes --- */

static int cmp_bnode(const void *pa, const void *pb)
{
	const bnode_t *x = pa, *y = pb;
	return dname_cmp_canonical(x->owner, y->owner);
}

/* Sort the n nodes in canonical order, drop the duplicates and give each node its groups
 * (g is in canonical owner order too, so one pass attaches them). Returns the new count. */
static size_t nodes_finish(const zone_builder_t *b, const group_t *g, size_t ng, bnode_t *nodes,
                           size_t n, bool sorted)
{
	if (!sorted)
		qsort(nodes, n, sizeof(*nodes), cmp_bnode);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && nodes[k - 1].len == nodes[i].len &&
		    memcmp(nodes[k - 1].owner, nodes[i].owner, nodes[i].len) == 0)
			continue;
		nodes[k++] = nodes[i];
	}
	uint32_t gi = 0;
	for (size_t i = 0; i < k; i++) {
		nodes[i].group_first = gi;
		while (gi < ng && dname_equal(rec_owner(b, &b->recs[g[gi].first]), nodes[i].owner))
			gi++;
		nodes[i].group_count = gi - nodes[i].group_first;
	}
	return k;
}

/* How many labels a and b (lowercased) share, counted from the root. */
static unsigned common_labels(const uint8_t *a, const uint8_t *b)
{
	uint8_t oa[DNAME_LABELS_MAX], ob[DNAME_LABELS_MAX];
	unsigned na = dname_label_offsets(a, oa), nb = dname_label_offsets(b, ob), k = 0;
	while (k < na && k < nb) {
		const uint8_t *la = a + oa[na - 1 - k], *lb = b + ob[nb - 1 - k];
		if (la[0] != lb[0] || memcmp(la + 1, lb + 1, la[0]) != 0)
			break;
		k++;
	}
	return k;
}

/* Append o and its ancestors below the apex that prev (the owner before o in canonical
 * order, or the apex) did not bring, the topmost first. In canonical order a name's
 * descendants follow it as one block, so every ancestor of o that is not one of prev's
 * (nor the apex) appears here for the first time, and the list stays sorted without
 * duplicates (no sort needed). Returns the new count. */
static size_t add_ancestors(bnode_t *nodes, size_t n, const uint8_t *prev, const uint8_t *o,
                            unsigned apex_labels)
{
	unsigned labels = dname_labels(o), common = common_labels(prev, o);
	unsigned from = common > apex_labels ? common : apex_labels;
	for (unsigned l = from + 1; l <= labels; l++) {
		const uint8_t *a = o;
		for (unsigned skip = labels - l; skip > 0; skip--)
			a += a[0] + 1;
		nodes[n++] = (bnode_t){.owner = a, .len = (uint8_t)dname_len(a)};
	}
	return n;
}

/* Every owner and every name between it and the apex (empty non-terminals), sorted in
 * canonical order without duplicates, each with its groups. */
static int make_nodes(zone_builder_t *b, const group_t *g, size_t ng, bnode_t **out, size_t *count)
{
	unsigned apex_labels = dname_labels(b->apex);
	size_t cap = 1, n = 0;
	for (size_t i = 0; i < ng; i++) {
		if (i == 0 || !same_owner(b, &b->recs[g[i - 1].first], &b->recs[g[i].first]))
			cap += dname_labels(rec_owner(b, &b->recs[g[i].first])) - apex_labels + 1;
	}
	bnode_t *nodes = calloc(cap, sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	sd_mem_huge(nodes, cap * sizeof(*nodes)); /* cap is an upper bound: not populated */
	nodes[n++] = (bnode_t){.owner = b->apex, .len = (uint8_t)b->apex_len};
	const uint8_t *prev = b->apex;
	for (size_t i = 0; i < ng; i++) {
		if (i > 0 && same_owner(b, &b->recs[g[i - 1].first], &b->recs[g[i].first]))
			continue;
		const uint8_t *o = rec_owner(b, &b->recs[g[i].first]);
		n = add_ancestors(nodes, n, prev, o, apex_labels);
		prev = o;
	}
	*out = nodes;
	*count = nodes_finish(b, g, ng, nodes, n, true);
	return 0;
}

/* --- rules that need only the groups of one owner --- */

static const group_t *find_group(const bnode_t *n, const group_t *g, uint16_t type,
                                 const zone_builder_t *b)
{
	for (size_t i = 0; i < n->group_count; i++) {
		const group_t *x = &g[n->group_first + i];
		if (b->recs[x->first].type == type)
			return x;
	}
	return NULL;
}

/* Index of the record of a group that was added first (the one the file shows first). */
static size_t first_added(const zone_builder_t *b, const group_t *g)
{
	size_t best = g->first;
	for (size_t i = g->first + 1; i < g->first + g->count; i++)
		if (b->recs[i].seq < b->recs[best].seq)
			best = i;
	return best;
}

/* The types a steering policy answers for (zone/bindings.h). */
static bool steerable(uint16_t type)
{
	return type == DNS_TYPE_A || type == DNS_TYPE_AAAA || type == DNS_TYPE_CNAME;
}

static void check_node(zone_builder_t *b, const bnode_t *n, const group_t *g, bool apex)
{
	const group_t *cname = find_group(n, g, DNS_TYPE_CNAME, b);
	const group_t *dname = find_group(n, g, DNS_TYPE_DNAME, b);
	const group_t *soa = find_group(n, g, DNS_TYPE_SOA, b);
	if (soa && !apex)
		for (uint32_t i = 0; i < soa->count; i++)
			rec_error(b, &b->recs[soa->first + i], "SOA record not at the zone apex");
	if (soa && apex)
		for (uint32_t i = 0; i < soa->count; i++)
			if (soa->first + i != first_added(b, soa))
				rec_error(b, &b->recs[soa->first + i],
				          "more than one SOA record at the apex");
	if (!cname)
		return;
	const brec_t *c0 = &b->recs[first_added(b, cname)];
	if (apex)
		rec_error(b, c0, "CNAME at the zone apex");
	/* RFC 2181 10.1: one CNAME per name, except at an owner bound to a steering policy
	 * whose candidates are CNAME targets (zone/bindings.h) */
	const zone_binding_t *bd = zone_bindings_find(b->bindings, n->owner);
	bool many = bd && (bd->flags & ZONE_BINDING_CNAME);
	for (uint32_t i = 0; i < cname->count && !many; i++)
		if (cname->first + i != first_added(b, cname))
			rec_error(b, &b->recs[cname->first + i],
			          "more than one CNAME at this name");
	if (dname)
		rec_error(b, &b->recs[dname->first], "DNAME beside a CNAME at the same name");
	/* RFC 1034 3.6.2 / RFC 2181 10.1: no other data beside a CNAME; RFC 4035 2.5 allows
	 * the DNSSEC records RRSIG and NSEC */
	for (size_t i = 0; i < n->group_count; i++) {
		uint16_t t = b->recs[g[n->group_first + i].first].type;
		if (t == DNS_TYPE_CNAME || t == DNS_TYPE_RRSIG || t == DNS_TYPE_NSEC ||
		    t == DNS_TYPE_DNAME)
			continue;
		char tn[16];
		rec_error(b, c0, "CNAME beside other data (%s) at the same name",
		          zone_type_to_str(t, tn));
	}
}

static void check_apex(zone_builder_t *b, const bnode_t *apex, const group_t *g)
{
	if (!find_group(apex, g, DNS_TYPE_SOA, b)) {
		log_error("%s: no SOA record at the zone apex", b->apex_str);
		b->errors++;
	}
	if (!find_group(apex, g, DNS_TYPE_NS, b)) {
		log_error("%s: no NS records at the zone apex", b->apex_str);
		b->errors++;
	}
}

/* --- layout --- */

typedef struct layout {
	size_t nodes, rrsets, targets, hash, owners, rdata, total;
	size_t ntargets, hash_cap;
} layout_t;

static size_t align_up(size_t x)
{
	return (x + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

static layout_t plan(const zone_builder_t *b, const group_t *g, size_t ng, const bnode_t *nodes,
                     size_t nn)
{
	layout_t l = {0};
	size_t owners = 0, rdata = 0;
	for (size_t i = 0; i < nn; i++)
		owners += nodes[i].len;
	for (size_t i = 0; i < b->n; i++)
		rdata += 2 + (size_t)b->recs[i].rdlen;
	for (size_t i = 0; i < ng; i++)
		if (dns_rdata_has_target(b->recs[g[i].first].type))
			l.ntargets += g[i].count;
	l.hash_cap = 16;
	while (l.hash_cap < nn * 2)
		l.hash_cap *= 2;
	size_t off = 0;
	l.nodes = off;
	off = align_up(off + nn * sizeof(zone_node_t));
	l.rrsets = off;
	off = align_up(off + ng * sizeof(zone_rrset_t));
	l.targets = off;
	off = align_up(off + l.ntargets * sizeof(zone_node_t *));
	l.hash = off;
	off = align_up(off + l.hash_cap * sizeof(uint32_t));
	l.owners = off;
	off = align_up(off + owners);
	l.rdata = off;
	l.total = align_up(off + rdata);
	return l;
}

/* The in-zone node named by record i of an NS/MX/SRV RRset, or NULL. */
static const zone_node_t *rr_target(const zone_version_t *v, const zone_rrset_t *rs, uint16_t i)
{
	uint8_t name[DNAME_MAX];
	size_t len = zone_rrset_target_name(rs, i, name);
	return zone_version_find(v, name, len);
}

/* The hash index of every node (linear probing, in node order). The slots are spread over
 * megabytes, so each insert is a cache miss: the slot of the node HASH_AHEAD places on is
 * computed and prefetched first, which overlaps the misses. */
#define HASH_AHEAD 16
static void hash_fill(zone_version_t *v, uint32_t *hash)
{
	uint32_t slot[HASH_AHEAD];
	size_t n = v->node_count;
	for (size_t i = 0; i < n + HASH_AHEAD; i++) {
		if (i >= HASH_AHEAD) { /* node k's slot, then node i's in the same ring entry */
			size_t k = i - HASH_AHEAD;
			uint32_t j = slot[k % HASH_AHEAD];
			while (hash[j] != 0)
				j = (j + 1) & v->hash_mask;
			hash[j] = (uint32_t)k + 1;
		}
		if (i < n) {
			zone_node_t *x = (zone_node_t *)&v->nodes[i]; /* fill's: being written */
			uint32_t h = dname_hash(x->owner, x->owner_len);
			x->tag = zone_hash_tag(h);
			slot[i % HASH_AHEAD] = h & v->hash_mask;
			__builtin_prefetch(&hash[slot[i % HASH_AHEAD]], 1);
		}
	}
}

/* Write nodes, RRsets, RDATA and the hash into the arena; then the links that need lookups. */
static void fill(zone_builder_t *b, zone_version_t *v, const layout_t *l, const group_t *g,
                 const bnode_t *bn, size_t nn)
{
	bool has_apex =
	    nn > 0 && bn[0].len == b->apex_len && memcmp(bn[0].owner, b->apex, b->apex_len) == 0;
	uint8_t *a = zone_version_arena(v);
	zone_node_t *nodes = (zone_node_t *)(a + l->nodes);
	zone_rrset_t *rrsets = (zone_rrset_t *)(a + l->rrsets);
	const zone_node_t **targets = (const zone_node_t **)(a + l->targets);
	uint32_t *hash = (uint32_t *)(a + l->hash);
	uint8_t *owners = a + l->owners, *rdata = a + l->rdata;

	v->nodes = nodes;
	v->node_count = nn;
	v->base_count = nn;
	v->apex = has_apex ? nodes : NULL;
	v->rr_count = b->n;
	v->hash = hash;
	v->hash_mask = (uint32_t)(l->hash_cap - 1);
	memset(hash, 0, l->hash_cap * sizeof(uint32_t));
	for (size_t i = 0; i < nn; i++) {
		zone_node_t *n = &nodes[i];
		memset(n, 0, sizeof(*n));
		memcpy(owners, bn[i].owner, bn[i].len);
		n->owner = owners;
		n->owner_len = bn[i].len;
		n->labels = (uint8_t)dname_labels(owners);
		owners += bn[i].len;
		n->rrsets = &rrsets[bn[i].group_first];
		n->rrset_count = (uint16_t)bn[i].group_count;
		const zone_binding_t *bd = zone_bindings_find(b->bindings, n->owner);
		for (size_t k = 0; k < bn[i].group_count; k++) {
			const group_t *gr = &g[bn[i].group_first + k];
			zone_rrset_t *rs = &rrsets[bn[i].group_first + k];
			memset(rs, 0, sizeof(*rs));
			rs->type = b->recs[gr->first].type;
			rs->count = (uint16_t)gr->count;
			rs->ttl = gr->ttl;
			if (bd && steerable(rs->type))
				rs->policy = bd->policy;
			rs->rdata = rdata;
			for (uint32_t r = 0; r < gr->count; r++) {
				const brec_t *br = &b->recs[gr->first + r];
				rdata[0] = (uint8_t)(br->rdlen >> 8);
				rdata[1] = (uint8_t)br->rdlen;
				memcpy(rdata + 2, b->buf + br->rdata_off, br->rdlen);
				rdata += 2 + (size_t)br->rdlen;
			}
			rs->rdata_len = (uint32_t)(rdata - rs->rdata);
			if (dns_rdata_has_target(rs->type)) {
				rs->targets = targets;
				targets += gr->count;
			}
			if (rs->type == DNS_TYPE_NS && (i > 0 || !has_apex))
				n->flags |= ZONE_NODE_DELEG;
			if (rs->type == DNS_TYPE_CNAME)
				n->flags |= ZONE_NODE_CNAME;
			if (rs->type == DNS_TYPE_DNAME)
				n->flags |= ZONE_NODE_DNAME;
		}
	}
	hash_fill(v, hash);
	if (has_apex)
		nodes[0].flags |= ZONE_NODE_APEX;
}

/* Parent, wildcard child, cut, DNAME ancestor and NONAUTH. A parent sorts before all its
 * descendants in canonical order, so linking in that order sees every parent finished. The
 * parent's links are read through v (it may be a base node under an overlay). */
/* zone_node_link, with the parent when the caller knows it (NULL: looked up) and whether
 * the version may hold a wildcard at all. */
static void link_one(const zone_version_t *v, zone_node_t *n, bool apex, const zone_node_t *p,
                     bool wildcards, bool targets)
{
	n->flags &= (uint16_t) ~(ZONE_NODE_NONAUTH | ZONE_NODE_WILDCARD | ZONE_NODE_UNDER_DNAME);
	n->parent = n->cut = NULL;
	if (!apex) {
		const uint8_t *up = n->owner + n->owner[0] + 1;
		size_t uplen = n->owner_len - n->owner[0] - 1u;
		if (!p || p->owner_len != uplen || memcmp(p->owner, up, uplen) != 0)
			p = zone_version_find(v, up, uplen);
		SD_REQUIRE(p != NULL); /* every ancestor is a node (ENTs are materialised) */
		const zone_node_t *pcut = zone_node_cut(v, p);
		n->parent = p;
		if (pcut)
			n->flags |= ZONE_NODE_NONAUTH;
		n->cut = pcut ? pcut : (n->flags & ZONE_NODE_DELEG) ? n : NULL;
		if (p->flags & (ZONE_NODE_UNDER_DNAME | ZONE_NODE_DNAME))
			n->flags |= ZONE_NODE_UNDER_DNAME;
	}
	if (wildcards && zone_node_wildcard_slow(v, n) != NULL)
		n->flags |= ZONE_NODE_WILDCARD;
	for (uint16_t k = 0; targets && k < n->rrset_count; k++) {
		zone_rrset_t *rs = (zone_rrset_t *)&n->rrsets[k];
		if (!rs->targets)
			continue;
		const zone_node_t **t = (const zone_node_t **)rs->targets;
		for (uint16_t r = 0; r < rs->count; r++)
			t[r] = rr_target(v, rs, r);
	}
}

void zone_node_link(const zone_version_t *v, zone_node_t *n, bool apex)
{
	link_one(v, n, apex, NULL, true, true);
}

void zone_version_set_soa(zone_version_t *v)
{
	v->soa = zone_node_rrset(v->apex, DNS_TYPE_SOA);
	v->serial = 0;
	if (v->soa && v->soa->count >= 1) {
		v->serial = dns_soa_serial(v->soa->rdata + 2, be16_get(v->soa->rdata));
	}
	zone_images_free(v->images);
	v->images = NULL;
	v->images_done = false;
}

/* The next record (*r) of an RRset with targets (NS/MX/SRV) in a whole version, in node
 * order; NULL after the last. */
typedef struct target_iter {
	const zone_version_t *v;
	size_t node;
	uint16_t set, rec;
} target_iter_t;

static zone_rrset_t *target_next(target_iter_t *t, uint16_t *r)
{
	for (; t->node < t->v->node_count; t->node++, t->set = 0) {
		const zone_node_t *n = &t->v->nodes[t->node];
		for (; t->set < n->rrset_count; t->set++, t->rec = 0) {
			zone_rrset_t *rs = (zone_rrset_t *)&n->rrsets[t->set];
			if (rs->targets && t->rec < rs->count) {
				*r = t->rec++;
				return rs;
			}
		}
	}
	return NULL;
}

/* The targets of a whole version's NS/MX/SRV records (rr_target for each): a lookup each,
 * three cache misses one after the other somewhere in a hundred megabytes (the hash slot,
 * the node, its owner). The lookups are pipelined as hash_fill's inserts are: a target's
 * name is read and its slot prefetched TARGET_AHEAD targets before its lookup, the node of
 * the slot's first probe 2/3 of the way, the node's owner 1/3. Same result as rr_target. */
#define TARGET_AHEAD 24
typedef struct target_q {
	zone_rrset_t *rs;
	uint16_t r;
	uint32_t slot;
	size_t len;
	uint8_t name[DNAME_MAX];
} target_q_t;

/* Prefetch the node (owner false) or the owner of q's slot's first probe. */
static void target_touch(const zone_version_t *v, const target_q_t *q, bool owner)
{
	uint32_t x = v->hash[q->slot];
	if (x == 0)
		return;
	const zone_node_t *n = &v->nodes[x - 1];
	__builtin_prefetch(owner ? (const void *)n->owner : (const void *)n);
}

static void link_targets(const zone_version_t *v)
{
	target_q_t ring[TARGET_AHEAD];
	target_iter_t it = {.v = v};
	size_t head = 0, tail = 0;
	bool more = true;
	while (more || tail < head) {
		if (more && head - tail < TARGET_AHEAD) {
			target_q_t *q = &ring[head % TARGET_AHEAD];
			if (!(q->rs = target_next(&it, &q->r))) {
				more = false;
				continue;
			}
			q->len = zone_rrset_target_name(q->rs, q->r, q->name);
			q->slot = dname_hash(q->name, q->len) & v->hash_mask;
			__builtin_prefetch(&v->hash[q->slot]);
			head++;
			continue;
		}
		if (tail + 2 * TARGET_AHEAD / 3 < head)
			target_touch(v, &ring[(tail + 2 * TARGET_AHEAD / 3) % TARGET_AHEAD], false);
		if (tail + TARGET_AHEAD / 3 < head)
			target_touch(v, &ring[(tail + TARGET_AHEAD / 3) % TARGET_AHEAD], true);
		target_q_t *q = &ring[tail++ % TARGET_AHEAD];
		((const zone_node_t **)q->rs->targets)[q->r] =
		    zone_version_find(v, q->name, q->len);
	}
}

/* Link a whole version's nodes (canonical order, every ancestor a node). A node's parent is
 * the last node before it with one label less (its descendants follow it as one block), so
 * parents come from that table, not from lookups; wildcards are looked up only when some
 * node is one; targets in one pass after (link_targets). */
static void link_nodes(zone_version_t *v)
{
	zone_node_t *nodes = (zone_node_t *)v->nodes;
	const zone_node_t *last[DNAME_LABELS_MAX + 1] = {0};
	bool wildcards = false;
	for (size_t i = 0; i < v->node_count && !wildcards; i++)
		wildcards = nodes[i].owner[0] == 1 && nodes[i].owner[1] == '*';
	for (size_t i = 0; i < v->node_count; i++) {
		zone_node_t *n = &nodes[i];
		link_one(v, n, i == 0, n->labels > 0 ? last[n->labels - 1] : NULL, wildcards,
		         false);
		last[n->labels] = n;
	}
	link_targets(v);
	zone_version_set_soa(v);
}

static bool is_apex(const zone_builder_t *b, const bnode_t *n)
{
	return n->len == b->apex_len && memcmp(n->owner, b->apex, b->apex_len) == 0;
}

/* The nodes of a partial build: the owners of the groups and the extra names, sorted and
 * without duplicates (no empty non-terminals are added). */
static int make_nodes_part(zone_builder_t *b, const group_t *g, size_t ng, uint8_t *const *extra,
                           size_t nextra, bnode_t **out, size_t *count)
{
	bnode_t *nodes = calloc(ng + nextra + 1, sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < ng; i++) {
		const uint8_t *o = rec_owner(b, &b->recs[g[i].first]);
		if (i == 0 || !same_owner(b, &b->recs[g[i - 1].first], &b->recs[g[i].first]))
			nodes[n++] = (bnode_t){.owner = o, .len = (uint8_t)dname_len(o)};
	}
	for (size_t i = 0; i < nextra; i++)
		nodes[n++] = (bnode_t){.owner = extra[i], .len = (uint8_t)dname_len(extra[i])};
	*out = nodes;
	*count = nodes_finish(b, g, ng, nodes, n, false);
	return 0;
}

/* The per-node rules, then the apex rules when the apex is among the nodes. */
static void check_nodes(zone_builder_t *b, const bnode_t *bn, size_t nn, const group_t *g)
{
	for (size_t i = 0; i < nn; i++) {
		check_node(b, &bn[i], g, is_apex(b, &bn[i]));
		if (bn[i].group_count > UINT16_MAX) {
			log_error("%s: too many RRsets at one name", b->apex_str);
			b->errors++;
		}
	}
	if (nn > 0 && is_apex(b, &bn[0]))
		check_apex(b, &bn[0], g);
}

/* The node of bn[0..nn) (canonical order) named low (lowercased wire), or NULL. */
static const bnode_t *bnode_find(const bnode_t *bn, size_t nn, const uint8_t *low)
{
	bnode_t key = {.owner = low, .len = (uint8_t)dname_len(low)};
	return bsearch(&key, bn, nn, sizeof(*bn), cmp_bnode);
}

/* Rules that need the whole tree: glue below delegations (RFC 1034 4.2.1, RFC 9471) and
 * DNAME with descendants (RFC 6672 2.4 makes them unreachable: a warning). On the nodes of a
 * whole zone (every ancestor a node) in canonical order, where a node's descendants follow
 * it as one block: a delegation below another one is not authoritative data (no glue rule),
 * and a name's node (a delegation's name server) is found by a binary search. Before the
 * layout, so that a full build and a build over a reference (zone_overlay_build) check alike. */
static void check_tree(zone_builder_t *b, const bnode_t *bn, size_t nn, const group_t *g)
{
	const uint8_t *cut = NULL;
	for (size_t i = 0; i < nn; i++) {
		const bnode_t *n = &bn[i];
		const group_t *dn = find_group(n, g, DNS_TYPE_DNAME, b);
		if (dn && i + 1 < nn && dname_is_subdomain(bn[i + 1].owner, n->owner))
			rec_log(b, LOG_LEVEL_WARNING, &b->recs[dn->first],
			        "DNAME has descendants, which it makes unreachable (RFC 6672 2.4)");
		if (cut && dname_is_subdomain(n->owner, cut))
			continue; /* below a zone cut */
		cut = NULL;
		const group_t *ns = is_apex(b, n) ? NULL : find_group(n, g, DNS_TYPE_NS, b);
		if (!ns)
			continue;
		cut = n->owner;
		for (uint32_t r = 0; r < ns->count; r++) {
			const brec_t *rec = &b->recs[ns->first + r];
			const uint8_t *low = b->buf + rec->canon_off; /* the NS name, lowercased */
			if (!dname_is_subdomain(low, n->owner))
				continue;
			const bnode_t *t = bnode_find(bn, nn, low);
			if (t &&
			    (find_group(t, g, DNS_TYPE_A, b) || find_group(t, g, DNS_TYPE_AAAA, b)))
				continue;
			char tn[1024];
			rec_error(b, rec,
			          "missing glue: no A or AAAA record for %s (RFC 1034 4.2.1)",
			          dname_to_str(low, tn, sizeof(tn)));
		}
	}
}

/* Sort, merge and check the records once: the RRsets and nodes are kept in b for the layout
 * (or a caller's walk, zone_builder_rrset), and so is the result, returned again. extra ==
 * NULL: the whole zone (empty non-terminals added, the tree rules checked); else a partial
 * build's nodes (zone_builder_finish_part). */
static int check(zone_builder_t *b, uint8_t *const *extra, size_t nextra)
{
	if (b->checked)
		return b->check_rc;
	b->checked = true;
	filter_sort_dedupe(b);
	int ret = make_groups(b, &b->g, &b->ng);
	if (ret == 0)
		ret = extra ? make_nodes_part(b, b->g, b->ng, extra, nextra, &b->bn, &b->nn)
		            : make_nodes(b, b->g, b->ng, &b->bn, &b->nn);
	if (ret == 0) {
		check_nodes(b, b->bn, b->nn, b->g);
		if (!extra && !b->errors)
			check_tree(b, b->bn, b->nn, b->g);
		ret = b->errors ? SD_ESEMANTIC : 0;
	}
	b->check_rc = ret;
	return ret;
}

int zone_builder_check(zone_builder_t *b)
{
	return check(b, NULL, 0);
}

const zone_bindings_t *zone_builder_bindings(const zone_builder_t *b)
{
	return b->bindings;
}

size_t zone_builder_rrset_count(const zone_builder_t *b)
{
	return b->ng;
}

void zone_builder_rrset(const zone_builder_t *b, size_t i, zone_brrset_t *out)
{
	const group_t *gr = &b->g[i];
	const brec_t *r = &b->recs[gr->first];
	*out = (zone_brrset_t){.owner = rec_owner(b, r),
	                       .owner_len = r->owner_len,
	                       .type = r->type,
	                       .ttl = gr->ttl,
	                       .count = gr->count,
	                       .first = gr->first};
}

const uint8_t *zone_builder_rrset_rr(const zone_builder_t *b, const zone_brrset_t *s, uint32_t r,
                                     uint16_t *rdlen)
{
	const brec_t *br = &b->recs[s->first + r];
	*rdlen = br->rdlen;
	return b->buf + br->rdata_off;
}

/* zone_builder_finish (extra == NULL: the whole zone) or zone_builder_finish_part: the
 * checks (unless done), then the layout. */
static int finish(zone_builder_t *b, uint8_t *const *extra, size_t nextra, zone_version_t **out)
{
	zone_version_t *v = NULL;
	int ret = check(b, extra, nextra);
	if (ret != 0)
		goto out;
	layout_t l = plan(b, b->g, b->ng, b->bn, b->nn);
	v = zone_version_alloc(l.total);
	if (!v) {
		ret = -ENOMEM;
		goto out;
	}
	prefault(zone_version_arena(v), l.total); /* fill writes every byte */
	fill(b, v, &l, b->g, b->bn, b->nn);
	v->bindings = b->bindings ? zone_bindings_ref(b->bindings) : NULL;
	if (!extra)
		link_nodes(v);
	*out = v;
	v = NULL;
out:
	zone_version_unref(v);
	zone_builder_free(b);
	return ret;
}

int zone_builder_finish(zone_builder_t *b, zone_version_t **out)
{
	return finish(b, NULL, 0, out);
}

int zone_builder_finish_part(zone_builder_t *b, uint8_t *const *extra, size_t nextra,
                             zone_version_t **out)
{
	static uint8_t *const none[1] = {NULL};
	return finish(b, nextra ? extra : none, nextra, out);
}
