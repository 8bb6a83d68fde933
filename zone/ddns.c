/* ddns.c — RFC 2136 section 3 on a zone's transaction (see ddns.h).
 *
 * One request is read once into a request (req_t): the owners decompressed and lowercased,
 * the RDATA decompressed into the stored wire form, every record in one byte buffer. Then
 * the stages of the RFC run in its order on that copy; only 3.4.2 edits the transaction,
 * between a savepoint and either its rollback or the net effect's diff.
 */
#include "zone/ddns.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "contrib/base/escape.h"
#include "contrib/base/vec.h"
#include "dns/proto.h"
#include "dns/rdata.h"
#include "dns/rr.h"
#include "dns/soa.h"
#include "zone/dump.h"

/* Query and meta types (RFC 6895 3.1: 128-255, and OPT), never data in a zone. */
enum { TYPE_MAILB = 253, TYPE_MAILA = 254 };

/* --- the request, read once --- */

typedef struct req_rr {
	uint32_t owner; /* offsets into req_t.buf */
	uint32_t rdata;
	uint16_t type, rclass, rdlen;
	uint16_t wire_rdlen; /* RDLENGTH as sent */
	uint32_t ttl;
	bool bad; /* RDATA malformed for its type (judged where the RFC looks at it) */
} req_rr_t;

typedef struct req {
	const uint8_t *apex;
	uint8_t *buf;
	size_t len, cap;
	req_rr_t *pre, *upd; /* prerequisite and update sections */
	size_t npre, nupd;
	uint8_t *scratch; /* one record's decompressed RDATA */
} req_t;

static const uint8_t *rr_owner(const req_t *q, const req_rr_t *r)
{
	return q->buf + r->owner;
}

static zone_rr_t rr_zone(const req_t *q, const req_rr_t *r)
{
	return (zone_rr_t){q->buf + r->owner, r->type,          r->rclass, r->ttl,
	                   r->rdlen,          q->buf + r->rdata};
}

static void req_free(req_t *q)
{
	free(q->buf);
	free(q->pre);
	free(q->upd);
	free(q->scratch);
}

/* --- results --- */

SD_PRINTF(3, 4)
static void fail(zone_ddns_result_t *res, uint8_t rcode, const char *fmt, ...)
{
	char text[sizeof(res->reason)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	res->rcode = rcode;
	sd_escape(res->reason, sizeof(res->reason), text, strlen(text), 0);
}

/* "www.example.com. A" for reasons. */
static const char *rr_name(const uint8_t *owner, uint16_t type, char *buf, size_t size)
{
	char name[DNAME_MAX * 4 + 1], tn[16];
	snprintf(buf, size, "%s %s", dname_to_str(owner, name, sizeof(name)),
	         type == DNS_TYPE_ANY ? "ANY" : zone_type_to_str(type, tn));
	return buf;
}

#define NAME_BUF (DNAME_MAX * 4 + 24)

/* --- reading --- */

static int buf_put(req_t *q, const void *p, size_t n, uint32_t *off)
{
	if (q->len + n > UINT32_MAX || sd_vec_grow(&q->buf, &q->cap, q->len + n + 1) != 0)
		return -ENOMEM;
	*off = (uint32_t)q->len;
	if (n)
		memcpy(q->buf + q->len, p, n);
	q->len += n;
	return 0;
}

/* Fixed RDATA sizes of types whose layout rdata.h does not describe (RFC 1035 3.4.1, RFC
 * 3596 2.2). */
static bool size_ok(uint16_t type, size_t rdlen)
{
	if (type == DNS_TYPE_A)
		return rdlen == 4;
	if (type == DNS_TYPE_AAAA)
		return rdlen == 16;
	return true;
}

/* The RDATA of rr into q->scratch, its names decompressed (case kept): the stored form.
 * Names may not run past the RDATA; the fixed fields must fit exactly. Returns the length,
 * or -1 when malformed. */
static long rdata_read(req_t *q, const uint8_t *msg, const dns_rr_t *rr)
{
	const dns_rdata_desc_t *d = dns_rdata_desc(rr->type);
	size_t end = dns_rr_end(rr), pos = rr->rdata, n = 0;
	if (d->names == 0) {
		memcpy(q->scratch, msg + rr->rdata, rr->rdlength);
		return size_ok(rr->type, rr->rdlength) ? rr->rdlength : -1;
	}
	if (rr->rdlength < d->pre)
		return -1;
	memcpy(q->scratch, msg + pos, d->pre);
	pos += d->pre;
	n = d->pre;
	for (unsigned i = 0; i < d->names; i++) {
		/* bounded by the RDATA's end: a name never reads the next record */
		int l = dname_parse(msg, end, &pos, q->scratch + n);
		if (l < 0)
			return -1;
		n += (size_t)l;
	}
	if (end - pos != d->tail)
		return -1;
	memcpy(q->scratch + n, msg + pos, d->tail);
	n += d->tail;
	uint16_t offs[DNS_RDATA_NAMES_MAX];
	if (n > UINT16_MAX || dns_rdata_names(rr->type, q->scratch, (uint16_t)n, offs) < 0)
		return -1;
	return (long)n;
}

static int rr_read(req_t *q, const uint8_t *msg, const dns_rr_t *rr, req_rr_t *out)
{
	uint8_t owner[DNAME_MAX];
	size_t pos = rr->owner;
	int l = dname_parse(msg, rr->rdata, &pos, owner);
	if (l < 0)
		return SD_EPARSE;
	dname_lower(owner);
	long rl = rdata_read(q, msg, rr);
	*out = (req_rr_t){.type = rr->type,
	                  .rclass = rr->rclass,
	                  .ttl = rr->ttl,
	                  .bad = rl < 0,
	                  .wire_rdlen = rr->rdlength};
	out->rdlen = rl < 0 ? 0 : (uint16_t)rl;
	int rc = buf_put(q, owner, (size_t)l, &out->owner);
	return rc == 0 ? buf_put(q, q->scratch, out->rdlen, &out->rdata) : rc;
}

/* The zone section's one entry (RFC 2136 2.3, 3.1.1). */
static int zone_entry(const uint8_t *msg, const dns_rr_t *rr, uint8_t apex[DNAME_MAX])
{
	size_t pos = rr->owner;
	if (dname_parse(msg, rr->rdata, &pos, apex) < 0)
		return SD_EPARSE;
	dname_lower(apex);
	return rr->type == DNS_TYPE_SOA ? 0 : SD_ESEMANTIC;
}

int zone_ddns_zone(const uint8_t *msg, size_t len, uint8_t apex[DNAME_MAX], uint16_t *zclass)
{
	dns_rr_iter_t it;
	dns_rr_t rr;
	if (dns_rr_iter_init(&it, msg, len) != 0 || it.count[DNS_SEC_QD] != 1 ||
	    dns_rr_iter_next(&it, &rr) != 0 || zone_entry(msg, &rr, apex) != 0)
		return DNS_RCODE_FORMERR;
	*zclass = rr.rclass;
	return 0;
}

/* The additional section: at most one OPT, owned by the root (RFC 6891 6.1.1), a TSIG only
 * as the last record (RFC 8945 5.1; the server verified it). Other records are read (the
 * framing must hold) and ignored: RFC 2136 2.6 lets a requestor send RRs related to the
 * update there (out-of-zone glue for new NS RRs, say), which are not updates; Knot and
 * BIND ignore them too. */
static int additional(const dns_rr_iter_t *it, const dns_rr_t *rr, bool *opt)
{
	if (rr->type == DNS_TYPE_OPT) {
		if (*opt || !dns_rr_owner_is_root(rr))
			return SD_EPARSE;
		*opt = true;
		return 0;
	}
	if (rr->type == DNS_TYPE_TSIG && rr->index + 1u != it->count[DNS_SEC_AR])
		return SD_EPARSE;
	return 0;
}

/* Frame the whole message and copy its records (RFC 2136 3.1: FORMERR for what cannot be
 * read; NOTAUTH for a zone section that does not name u's zone). */
static int req_read(req_t *q, const uint8_t *msg, size_t len, zone_ddns_result_t *res)
{
	dns_rr_iter_t it;
	dns_rr_t rr;
	uint8_t apex[DNAME_MAX];
	bool opt = false;
	if (dns_rr_iter_init(&it, msg, len) != 0 || it.count[DNS_SEC_QD] != 1) {
		fail(res, DNS_RCODE_FORMERR, "zone section: ZOCOUNT is not 1");
		return 1;
	}
	q->pre = calloc(it.count[DNS_SEC_AN] + 1u, sizeof(*q->pre));
	q->upd = calloc(it.count[DNS_SEC_NS] + 1u, sizeof(*q->upd));
	q->scratch = malloc(UINT16_MAX + 1u);
	if (!q->pre || !q->upd || !q->scratch)
		return -ENOMEM;
	int rc;
	while ((rc = dns_rr_iter_next(&it, &rr)) == 0) {
		if (rr.section == DNS_SEC_QD) {
			rc = zone_entry(msg, &rr, apex);
			if (rc == SD_ESEMANTIC) {
				fail(res, DNS_RCODE_FORMERR, "zone section: ZTYPE is not SOA");
				return 1;
			}
			if (rc == 0 && (!dname_equal(apex, q->apex) || rr.rclass != DNS_CLASS_IN)) {
				fail(res, DNS_RCODE_NOTAUTH, "zone section: not this zone");
				return 1;
			}
		} else if (rr.section == DNS_SEC_AN) {
			rc = rr_read(q, msg, &rr, &q->pre[q->npre++]);
		} else if (rr.section == DNS_SEC_NS) {
			rc = rr_read(q, msg, &rr, &q->upd[q->nupd++]);
		} else {
			rc = additional(&it, &rr, &opt);
		}
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0)
			break;
	}
	static const char *const names[] = {"zone", "prerequisite", "update", "additional",
	                                    "trailing bytes"};
	if (rc != SD_ENOTFOUND || dns_rr_iter_pos(&it) != len) {
		fail(res, DNS_RCODE_FORMERR, "malformed message: %s%s", names[it.section],
		     it.section == DNS_SEC_END ? "" : " section");
		return 1;
	}
	return 0;
}

/* --- reading the transaction's view --- */

static int stop(void *arg, const zone_rr_t *rr)
{
	(void)arg;
	(void)rr;
	return 1;
}

static bool rrset_exists(const zone_update_t *u, const uint8_t *owner, uint16_t type)
{
	return zone_update_each(u, owner, type, stop, NULL) == 1;
}

typedef struct rr_list {
	zone_rr_t *v;
	size_t n, cap;
	uint8_t soa[DNS_SOA_MAX_LEN]; /* the SOA's RDATA (the view's lives only in the call) */
} rr_list_t;

static int collect(void *arg, const zone_rr_t *rr)
{
	rr_list_t *l = arg;
	if (l->n == l->cap && sd_vec_grow(&l->v, &l->cap, l->n + 1) != 0)
		return -ENOMEM;
	l->v[l->n] = *rr;
	if (rr->type == DNS_TYPE_SOA && rr->rdlen <= sizeof(l->soa)) {
		memcpy(l->soa, rr->rdata, rr->rdlen);
		l->v[l->n].rdata = l->soa;
	}
	l->n++;
	return 0;
}

/* The view's records at owner of type (ANY: all). Their memory outlives edits of u (see
 * zone_update_each); the SOA's is l's own. */
static int view_get(const zone_update_t *u, const uint8_t *owner, uint16_t type, rr_list_t *l)
{
	l->n = 0;
	return zone_update_each(u, owner, type, collect, l);
}

/* RDATA equality as DNS compares it: the names rdata.h describes without regard to ASCII
 * case (RFC 4343, RFC 4034 6.2), every other byte exactly. */
static bool rdata_equal(uint16_t type, const uint8_t *a, uint16_t alen, const uint8_t *b,
                        uint16_t blen)
{
	uint16_t oa[DNS_RDATA_NAMES_MAX], ob[DNS_RDATA_NAMES_MAX];
	if (alen != blen)
		return false;
	int na = dns_rdata_names(type, a, alen, oa);
	if (na <= 0)
		return memcmp(a, b, alen) == 0;
	if (dns_rdata_names(type, b, blen, ob) != na)
		return false;
	size_t i = 0;
	for (int k = 0; k < na; k++) {
		if (oa[k] != ob[k] || memcmp(a + i, b + i, oa[k] - i) != 0 ||
		    !dname_equal_ci(a + oa[k], b + oa[k]))
			return false;
		i = oa[k] + dname_len(a + oa[k]);
	}
	return memcmp(a + i, b + i, alen - i) == 0;
}

static bool rr_equal(const zone_rr_t *a, const zone_rr_t *b)
{
	return a->type == b->type && rdata_equal(a->type, a->rdata, a->rdlen, b->rdata, b->rdlen);
}

/* The record of l equal to rr (rdata_equal), or NULL. */
static const zone_rr_t *list_find(const rr_list_t *l, const zone_rr_t *rr)
{
	for (size_t i = 0; i < l->n; i++)
		if (rr_equal(&l->v[i], rr))
			return &l->v[i];
	return NULL;
}

/* --- 3.2 prerequisites --- */

static int cmp_owner_type(const req_t *q, const req_rr_t *a, const req_rr_t *b)
{
	int c = dname_cmp_canonical(rr_owner(q, a), rr_owner(q, b));
	return c ? c : (a->type > b->type) - (a->type < b->type);
}

static int cmp_pre(const void *pa, const void *pb, void *arg)
{
	return cmp_owner_type(arg, *(req_rr_t *const *)pa, *(req_rr_t *const *)pb);
}

/* RDATA in canonical form (RFC 4034 6.2: the names rdata.h describes lowercased), the key
 * of a set comparison that matches rdata_equal. */
typedef struct ckey {
	const uint8_t *p;
	uint16_t len;
} ckey_t;

static int cmp_ckey(const void *pa, const void *pb)
{
	const ckey_t *a = pa, *b = pb;
	size_t min = a->len < b->len ? a->len : b->len;
	int c = min ? memcmp(a->p, b->p, min) : 0;
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* The sorted distinct canonical keys of v[0..n) (all of one type) into *keys, their bytes
 * in *mem (both the caller's to free); returns how many, or -ENOMEM. */
static long canon_set(const zone_rr_t *v, size_t n, ckey_t **keys, uint8_t **mem)
{
	size_t total = 1, pos = 0, k = 0;
	for (size_t i = 0; i < n; i++)
		total += v[i].rdlen;
	*mem = malloc(total);
	*keys = malloc((n + 1) * sizeof(**keys));
	if (!*mem || !*keys)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = *mem + pos;
		uint16_t offs[DNS_RDATA_NAMES_MAX];
		if (v[i].rdlen)
			memcpy(p, v[i].rdata, v[i].rdlen);
		int names = dns_rdata_names(v[i].type, p, v[i].rdlen, offs);
		for (int j = 0; j < names; j++)
			dname_lower(p + offs[j]);
		(*keys)[i] = (ckey_t){p, v[i].rdlen};
		pos += v[i].rdlen;
	}
	if (n > 1)
		qsort(*keys, n, sizeof(**keys), cmp_ckey);
	for (size_t i = 0; i < n; i++) /* a set: a repeated record counts once */
		if (k == 0 || cmp_ckey(&(*keys)[k - 1], &(*keys)[i]) != 0)
			(*keys)[k++] = (*keys)[i];
	return (long)k;
}

/* One value-dependent RRset (RFC 2136 2.4.2, 3.2.3): the set of RDATA of g[0..n) equals
 * the view's RRset, TTLs aside. Returns 1 when it does, 0 when not, -ENOMEM. Sorted sets:
 * O(n log n) however large the message or the RRset. */
static int rrset_matches(const zone_update_t *u, const req_t *q, req_rr_t *const *g, size_t n,
                         rr_list_t *view)
{
	int rc = view_get(u, rr_owner(q, g[0]), g[0]->type, view);
	zone_rr_t *want = malloc((n + 1) * sizeof(*want));
	ckey_t *wk = NULL, *vk = NULL;
	uint8_t *wm = NULL, *vm = NULL;
	long nw = -ENOMEM, nv = -ENOMEM;
	if (rc == 0 && want) {
		for (size_t i = 0; i < n; i++)
			want[i] = rr_zone(q, g[i]);
		nw = canon_set(want, n, &wk, &wm);
		nv = canon_set(view->v, view->n, &vk, &vm);
	}
	if (rc == 0 && (nw < 0 || nv < 0))
		rc = -ENOMEM;
	if (rc == 0) {
		rc = nw == nv;
		for (long i = 0; rc == 1 && i < nw; i++)
			rc = cmp_ckey(&wk[i], &vk[i]) == 0;
	}
	free(want);
	free(wk);
	free(wm);
	free(vk);
	free(vm);
	return rc;
}

static int value_dependent(const zone_update_t *u, const req_t *q, zone_ddns_result_t *res)
{
	req_rr_t **g = malloc((q->npre + 1) * sizeof(*g));
	rr_list_t view = {0};
	size_t n = 0;
	if (!g)
		return -ENOMEM;
	for (size_t i = 0; i < q->npre; i++)
		if (q->pre[i].rclass == DNS_CLASS_IN)
			g[n++] = &q->pre[i];
	if (n > 1)
		qsort_r(g, n, sizeof(*g), cmp_pre, (void *)q);
	int rc = 0;
	for (size_t i = 0, j; rc == 0 && i < n; i = j) {
		for (j = i + 1; j < n && cmp_owner_type(q, g[i], g[j]) == 0; j++)
			;
		int m = rrset_matches(u, q, g + i, j - i, &view);
		char nb[NAME_BUF];
		if (m == 0)
			fail(res, DNS_RCODE_NXRRSET, "prerequisite: NXRRSET %s (RRset differs)",
			     rr_name(rr_owner(q, g[i]), g[i]->type, nb, sizeof(nb)));
		rc = m < 0 ? m : m == 0;
	}
	free(view.v);
	free(g);
	return rc;
}

/* One prerequisite RR (RFC 2136 3.2.5): 0 when it holds (or waits for the value-dependent
 * comparison), 1 with res filled when it fails. */
static int prereq_one(const zone_update_t *u, const req_t *q, const req_rr_t *r,
                      zone_ddns_result_t *res)
{
	const uint8_t *owner = rr_owner(q, r);
	char nb[NAME_BUF];
	rr_name(owner, r->type, nb, sizeof(nb));
	if (r->ttl != 0)
		fail(res, DNS_RCODE_FORMERR, "prerequisite: TTL not 0: %s", nb);
	else if (!dname_is_subdomain(owner, q->apex))
		fail(res, DNS_RCODE_NOTZONE, "prerequisite: outside the zone: %s", nb);
	else if (r->rclass == DNS_CLASS_ANY || r->rclass == DNS_CLASS_NONE) {
		bool any = r->rclass == DNS_CLASS_ANY;
		bool there = r->type == DNS_TYPE_ANY ? zone_update_name_used(u, owner)
		                                     : rrset_exists(u, owner, r->type);
		if (r->wire_rdlen != 0)
			fail(res, DNS_RCODE_FORMERR, "prerequisite: RDATA not empty: %s", nb);
		else if (any && !there)
			fail(res, r->type == DNS_TYPE_ANY ? DNS_RCODE_NXDOMAIN : DNS_RCODE_NXRRSET,
			     "prerequisite: %s %s",
			     r->type == DNS_TYPE_ANY ? "NXDOMAIN" : "NXRRSET", nb);
		else if (!any && there)
			fail(res, r->type == DNS_TYPE_ANY ? DNS_RCODE_YXDOMAIN : DNS_RCODE_YXRRSET,
			     "prerequisite: %s %s",
			     r->type == DNS_TYPE_ANY ? "YXDOMAIN" : "YXRRSET", nb);
		else
			return 0;
	} else if (r->rclass == DNS_CLASS_IN) {
		if (!r->bad)
			return 0;
		fail(res, DNS_RCODE_FORMERR, "prerequisite: malformed RDATA: %s", nb);
	} else {
		fail(res, DNS_RCODE_FORMERR, "prerequisite: class %u: %s", (unsigned)r->rclass, nb);
	}
	return 1;
}

static int prerequisites(const zone_update_t *u, const req_t *q, zone_ddns_result_t *res)
{
	for (size_t i = 0; i < q->npre; i++)
		if (prereq_one(u, q, &q->pre[i], res) != 0)
			return 1;
	return value_dependent(u, q, res);
}

/* --- 3.3 permission, 3.4.1 prescan --- */

static int permission(const req_t *q, zone_ddns_allow_fn allow, void *arg, zone_ddns_result_t *res)
{
	for (size_t i = 0; i < q->nupd; i++) {
		const req_rr_t *r = &q->upd[i];
		uint16_t type =
		    r->rclass == DNS_CLASS_ANY && r->type == DNS_TYPE_ANY ? DNS_TYPE_ANY : r->type;
		if (!allow(arg, rr_owner(q, r), type)) {
			char nb[NAME_BUF];
			fail(res, DNS_RCODE_REFUSED, "update: %s not allowed for this requester",
			     rr_name(rr_owner(q, r), type, nb, sizeof(nb)));
			return 1;
		}
	}
	return 0;
}

static bool meta_type(uint16_t t)
{
	return t == 0 || t == DNS_TYPE_OPT || (t >= 128 && t <= 255);
}

static bool xfr_mail_type(uint16_t t)
{
	return t == DNS_TYPE_AXFR || t == DNS_TYPE_IXFR || t == TYPE_MAILA || t == TYPE_MAILB;
}

/* RFC 2136 3.4.1.3 for one update RR: NULL when fine, else what is wrong. */
static const char *prescan_one(const req_t *q, const req_rr_t *r, uint8_t *rcode)
{
	*rcode = DNS_RCODE_FORMERR;
	if (!dname_is_subdomain(rr_owner(q, r), q->apex)) {
		*rcode = DNS_RCODE_NOTZONE;
		return "outside the zone";
	}
	if (r->rclass == DNS_CLASS_IN) {
		if (meta_type(r->type))
			return "meta or query type";
		if (r->bad)
			return "malformed RDATA";
		zone_rr_t rr = rr_zone(q, r);
		if (r->type == DNS_TYPE_SOA && !dns_soa_valid(rr.rdata, rr.rdlen))
			return "malformed RDATA";
		if (!zone_rr_text_safe(&rr))
			return "RDATA has no master-file form";
		return NULL;
	}
	if (r->rclass == DNS_CLASS_ANY) {
		if (r->ttl != 0 || r->wire_rdlen != 0)
			return "delete RRset with TTL or RDATA";
		return xfr_mail_type(r->type) ? "delete of a query type" : NULL;
	}
	if (r->rclass == DNS_CLASS_NONE) {
		if (r->ttl != 0)
			return "delete RR with TTL";
		if (meta_type(r->type))
			return "delete of a meta or query type";
		return r->bad ? "malformed RDATA" : NULL;
	}
	return "class not IN, ANY or NONE";
}

static int prescan(const req_t *q, zone_ddns_result_t *res)
{
	for (size_t i = 0; i < q->nupd; i++) {
		uint8_t rcode;
		const char *why = prescan_one(q, &q->upd[i], &rcode);
		if (why) {
			char nb[NAME_BUF];
			fail(res, rcode, "update: %s: %s", why,
			     rr_name(rr_owner(q, &q->upd[i]), q->upd[i].type, nb, sizeof(nb)));
			return 1;
		}
	}
	return 0;
}

/* --- 3.4.2 the updates --- */

typedef struct apply_ctx {
	zone_update_t *u;
	const uint8_t *apex;
	rr_list_t view; /* scratch */
} apply_ctx_t;

/* Types that may stand beside a CNAME: RFC 4035 2.5 (RRSIG, NSEC). The zone build allows
 * exactly these (zone/builder.c); NSEC3 never shares a CNAME's owner name in practice and
 * KEY lost the right with RFC 3755, so they count as other data here. */
static bool cname_companion(uint16_t type)
{
	return type == DNS_TYPE_RRSIG || type == DNS_TYPE_NSEC;
}

static int remove_all(zone_update_t *u, const rr_list_t *l)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < l->n; i++)
		rc = zone_update_remove(u, &l->v[i]);
	return rc;
}

/* Add RR (RFC 2136 3.4.2.2), with the CNAME rules and one TTL per RRset. */
static int add_rr(apply_ctx_t *c, const zone_rr_t *rr)
{
	int rc = 0;
	if (rr->type == DNS_TYPE_SOA) { /* only at the apex, only a higher serial */
		rc = dname_equal(rr->owner, c->apex) ? zone_update_set_soa(c->u, rr) : 0;
		return rc < 0 ? rc : 0;
	}
	rc = view_get(c->u, rr->owner, DNS_TYPE_ANY, &c->view);
	const zone_rr_t *cname = NULL, *dup = NULL;
	bool other = false;
	for (size_t i = 0; rc == 0 && i < c->view.n; i++) {
		const zone_rr_t *x = &c->view.v[i];
		if (x->type == DNS_TYPE_CNAME)
			cname = x;
		else if (!cname_companion(x->type))
			other = true;
		if (rr_equal(x, rr))
			dup = x;
	}
	if (rc != 0)
		return rc;
	if (rr->type == DNS_TYPE_CNAME && other)
		return 0; /* a CNAME where other data is: ignored */
	if (rr->type != DNS_TYPE_CNAME && !cname_companion(rr->type) && cname)
		return 0; /* other data where a CNAME is: ignored */
	if (rr->type == DNS_TYPE_CNAME && cname && !rr_equal(cname, rr))
		rc = zone_update_remove(c->u, cname); /* a CNAME replaces the CNAME */
	if (rc == 0 && dup && (dup->rdlen != rr->rdlen || memcmp(dup->rdata, rr->rdata, rr->rdlen)))
		rc = zone_update_remove(c->u, dup); /* the same RDATA in other case: replaced */
	if (rc == 0)
		rc = zone_update_add(c->u, rr);
	return rc == 0 ? zone_update_rrset_ttl(c->u, rr->owner, rr->type, rr->ttl) : rc;
}

/* Delete an RRset (class ANY, 3.4.2.3) or all RRsets at a name (type ANY, 3.4.2.3): the
 * apex SOA and NS are kept (3.4.2.3, 3.4.2.4). */
static int delete_rrsets(apply_ctx_t *c, const uint8_t *owner, uint16_t type)
{
	bool apex = dname_equal(owner, c->apex);
	int rc = view_get(c->u, owner, type, &c->view);
	size_t k = 0;
	for (size_t i = 0; rc == 0 && i < c->view.n; i++) {
		uint16_t t = c->view.v[i].type;
		if (t != DNS_TYPE_SOA && !(apex && t == DNS_TYPE_NS))
			c->view.v[k++] = c->view.v[i];
	}
	c->view.n = k;
	return rc == 0 ? remove_all(c->u, &c->view) : rc;
}

/* Delete an RR (class NONE, 3.4.2.4): never the SOA, never the apex's last NS. */
static int delete_rr(apply_ctx_t *c, const zone_rr_t *rr)
{
	if (rr->type == DNS_TYPE_SOA)
		return 0;
	int rc = view_get(c->u, rr->owner, rr->type, &c->view);
	const zone_rr_t *x = rc == 0 ? list_find(&c->view, rr) : NULL;
	if (!x)
		return rc;
	if (rr->type == DNS_TYPE_NS && c->view.n == 1 && dname_equal(rr->owner, c->apex))
		return 0;
	return zone_update_remove(c->u, x);
}

static int update_one(apply_ctx_t *c, const req_t *q, const req_rr_t *r)
{
	zone_rr_t rr = rr_zone(q, r);
	rr.rclass = DNS_CLASS_IN;
	if (r->rclass == DNS_CLASS_IN)
		return add_rr(c, &rr);
	if (r->rclass == DNS_CLASS_ANY)
		return delete_rrsets(c, rr.owner, r->type);
	return delete_rr(c, &rr);
}

/* --- after the updates: what the commit's build would refuse --- */

/* RFC 1034 4.2.1, RFC 9471: each name server of the delegation at cut that lies at or below
 * it needs an address in the zone (the build's glue rule, zone/builder.c check_tree). */
static int check_glue(apply_ctx_t *c, const uint8_t *cut, zone_ddns_result_t *res)
{
	int rc = view_get(c->u, cut, DNS_TYPE_NS, &c->view);
	for (size_t i = 0; rc == 0 && i < c->view.n; i++) {
		uint8_t t[DNAME_MAX];
		memcpy(t, c->view.v[i].rdata, dname_len(c->view.v[i].rdata));
		dname_lower(t);
		if (!dname_is_subdomain(t, cut) || rrset_exists(c->u, t, DNS_TYPE_A) ||
		    rrset_exists(c->u, t, DNS_TYPE_AAAA))
			continue;
		char cn[DNAME_MAX * 4 + 1], tn[DNAME_MAX * 4 + 1];
		fail(res, DNS_RCODE_REFUSED, "update: delegation %s NS %s would lack glue",
		     dname_to_str(cut, cn, sizeof(cn)), dname_to_str(t, tn, sizeof(tn)));
		rc = 1;
	}
	return rc;
}

/* The glue of the highest delegation at or above owner (the one the build checks: a
 * delegation below another is occluded data). */
static int check_cut_of(apply_ctx_t *c, const uint8_t *owner, zone_ddns_result_t *res)
{
	uint8_t offs[DNAME_LABELS_MAX];
	int n = (int)dname_label_offsets(owner, offs), top = (int)dname_labels(c->apex);
	for (int k = n - top - 1; k >= 0; k--)
		if (rrset_exists(c->u, owner + offs[k], DNS_TYPE_NS))
			return check_glue(c, owner + offs[k], res);
	return 0;
}

static int below_with_ns(void *arg, const zone_rr_t *rr)
{
	rr_list_t *l = arg;
	return rr->type == DNS_TYPE_NS ? collect(l, rr) : 0;
}

/* A delegation at x went away: the delegations below it, served or added, may now be the
 * highest ones and need their glue. Rare; costs a walk of the zone. */
static int check_below(apply_ctx_t *c, const uint8_t *x, zone_ddns_result_t *res)
{
	const zone_version_t *v = zone_update_served(c->u);
	rr_list_t l = {0};
	zone_version_iter_t it;
	int rc = zone_update_each_added(c->u, below_with_ns, &l);
	zone_version_iter_init(v, &it);
	for (const zone_node_t *n; rc == 0 && (n = zone_version_iter_next(&it)) != NULL;) {
		if (zone_node_rrset(n, DNS_TYPE_NS) && !dname_equal(n->owner, x) &&
		    dname_is_subdomain(n->owner, x))
			rc = collect(&l, &(zone_rr_t){.owner = n->owner});
	}
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		if (dname_is_subdomain(l.v[i].owner, x) && !dname_equal(l.v[i].owner, x))
			rc = check_cut_of(c, l.v[i].owner, res);
	free(l.v);
	return rc;
}

/* --- the net effect --- */

typedef struct touched {
	const uint8_t **owner; /* sorted, each once */
	bool *had_ns;          /* a delegation (NS, not the apex) before the request */
	size_t n;
} touched_t;

static int cmp_name(const void *a, const void *b)
{
	return dname_cmp_canonical(*(const uint8_t *const *)a, *(const uint8_t *const *)b);
}

static int touched_make(const req_t *q, touched_t *t)
{
	t->owner = malloc((q->nupd + 1) * sizeof(*t->owner));
	t->had_ns = calloc(q->nupd + 1, sizeof(*t->had_ns));
	if (!t->owner || !t->had_ns)
		return -ENOMEM;
	for (size_t i = 0; i < q->nupd; i++)
		t->owner[i] = rr_owner(q, &q->upd[i]);
	qsort(t->owner, q->nupd, sizeof(*t->owner), cmp_name);
	t->n = 0;
	for (size_t i = 0; i < q->nupd; i++)
		if (t->n == 0 || !dname_equal(t->owner[t->n - 1], t->owner[i]))
			t->owner[t->n++] = t->owner[i];
	return 0;
}

/* Every record at the touched names but the SOA, copied (the view changes after this). */
static int snapshot(apply_ctx_t *c, touched_t *t, bool before, zone_changeset_t **out)
{
	int rc = zone_changeset_new(out);
	for (size_t i = 0; rc == 0 && i < t->n; i++) {
		rc = view_get(c->u, t->owner[i], DNS_TYPE_ANY, &c->view);
		for (size_t k = 0; rc == 0 && k < c->view.n; k++) {
			const zone_rr_t *x = &c->view.v[k];
			if (x->type == DNS_TYPE_SOA)
				continue;
			if (before && x->type == DNS_TYPE_NS && !dname_equal(x->owner, c->apex))
				t->had_ns[i] = true;
			rc = zone_changeset_add(*out, x);
		}
	}
	return rc;
}

static int cmp_rr_ttl(const void *pa, const void *pb)
{
	const zone_rr_t *a = pa, *b = pb;
	int c = zone_rr_cmp(a, b);
	return c ? c : (a->ttl > b->ttl) - (a->ttl < b->ttl);
}

static int sorted(const zone_changeset_t *cs, rr_list_t *l)
{
	zone_rr_iter_t it;
	zone_rr_t rr;
	int rc = 0;
	zone_changeset_added(cs, &it);
	while (rc == 0 && zone_rr_iter_next(&it, &rr))
		rc = collect(l, &rr);
	if (rc == 0 && l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_rr_ttl);
	return rc;
}

/* RFC 2181 5: an RRset of more records than the build can hold (65535) is refused. */
static int check_sizes(const rr_list_t *a, zone_ddns_result_t *res)
{
	for (size_t i = 0, j; i < a->n; i = j) {
		for (j = i + 1; j < a->n && a->v[j].type == a->v[i].type &&
		                dname_equal(a->v[j].owner, a->v[i].owner);
		     j++)
			;
		if (j - i > UINT16_MAX) {
			char nb[NAME_BUF];
			fail(res, DNS_RCODE_REFUSED, "update: RRset %s would pass 65535 records",
			     rr_name(a->v[i].owner, a->v[i].type, nb, sizeof(nb)));
			return 1;
		}
	}
	return 0;
}

/* The records of b not in a (TTL included) into out with put. */
static int diff(const rr_list_t *b, const rr_list_t *a, zone_changeset_t *out,
                int (*put)(zone_changeset_t *, const zone_rr_t *))
{
	size_t j = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < b->n; i++) {
		while (j < a->n && cmp_rr_ttl(&a->v[j], &b->v[i]) < 0)
			j++;
		if (j == a->n || cmp_rr_ttl(&a->v[j], &b->v[i]) != 0)
			rc = put(out, &b->v[i]);
	}
	return rc;
}

static int net_effect(const zone_changeset_t *before, const zone_changeset_t *after,
                      const zone_rr_t *soa_b, const zone_rr_t *soa_a, zone_changeset_t **out,
                      zone_ddns_result_t *res)
{
	rr_list_t b = {0}, a = {0};
	int rc = sorted(before, &b);
	if (rc == 0)
		rc = sorted(after, &a);
	if (rc == 0)
		rc = check_sizes(&a, res);
	if (rc == 0)
		rc = zone_changeset_new(out);
	if (rc == 0)
		rc = diff(&b, &a, *out, zone_changeset_remove);
	if (rc == 0)
		rc = diff(&a, &b, *out, zone_changeset_add);
	if (rc == 0 && (soa_b->ttl != soa_a->ttl || soa_b->rdlen != soa_a->rdlen ||
	                memcmp(soa_b->rdata, soa_a->rdata, soa_a->rdlen) != 0))
		rc = zone_changeset_set_soa(*out, soa_b, soa_a);
	free(b.v);
	free(a.v);
	return rc;
}

/* After the updates: the glue of every delegation they may have changed. */
static int post_checks(apply_ctx_t *c, const touched_t *t, zone_ddns_result_t *res)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->n; i++)
		rc = check_cut_of(c, t->owner[i], res);
	for (size_t i = 0; rc == 0 && i < t->n; i++)
		if (t->had_ns[i] && !rrset_exists(c->u, t->owner[i], DNS_TYPE_NS))
			rc = check_below(c, t->owner[i], res);
	return rc;
}

/* 3.4.2, all or nothing: 0 done (res->change set), 1 refused (res filled), < 0 error; the
 * transaction is as before unless 0. */
static int updates(zone_update_t *u, const req_t *q, zone_ddns_result_t *res)
{
	apply_ctx_t c = {.u = u, .apex = q->apex};
	touched_t t = {0};
	zone_changeset_t *before = NULL, *after = NULL;
	uint8_t sb[DNS_SOA_MAX_LEN], sa[DNS_SOA_MAX_LEN];
	zone_rr_t soa_b, soa_a;
	zone_update_mark_t mark = zone_update_mark(u);
	zone_update_soa(u, &soa_b, sb);
	int rc = touched_make(q, &t);
	if (rc == 0)
		rc = snapshot(&c, &t, true, &before);
	for (size_t i = 0; rc == 0 && i < q->nupd; i++)
		rc = update_one(&c, q, &q->upd[i]);
	if (rc == 0)
		rc = post_checks(&c, &t, res);
	if (rc == 0)
		rc = snapshot(&c, &t, false, &after);
	zone_update_soa(u, &soa_a, sa);
	if (rc == 0)
		rc = net_effect(before, after, &soa_b, &soa_a, &res->change, res);
	if (rc != 0) {
		zone_update_rollback(u, mark);
		zone_ddns_result_clear(res);
	}
	zone_changeset_free(before);
	zone_changeset_free(after);
	free(c.view.v);
	free(t.owner);
	free(t.had_ns);
	return rc;
}

int zone_ddns_apply(zone_update_t *u, const uint8_t *msg, size_t len, zone_ddns_allow_fn allow,
                    void *arg, zone_ddns_result_t *res)
{
	*res = (zone_ddns_result_t){.rcode = DNS_RCODE_NOERROR};
	const zone_version_t *v = zone_update_served(u);
	if (!v) {
		fail(res, DNS_RCODE_SERVFAIL, "the zone has no version yet");
		return -EINVAL;
	}
	req_t q = {.apex = zone_version_apex(v)->owner};
	int rc = req_read(&q, msg, len, res);
	if (rc == 0)
		rc = prerequisites(u, &q, res);
	if (rc == 0)
		rc = permission(&q, allow, arg, res);
	if (rc == 0)
		rc = prescan(&q, res);
	if (rc == 0)
		rc = updates(u, &q, res);
	req_free(&q);
	if (rc < 0) {
		zone_ddns_result_clear(res);
		fail(res, DNS_RCODE_SERVFAIL, "internal error: %s", sd_strerror(rc));
		return rc;
	}
	return 0;
}

void zone_ddns_result_clear(zone_ddns_result_t *res)
{
	zone_changeset_free(res->change);
	res->change = NULL;
}
