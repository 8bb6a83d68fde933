/* update.c — the one write path of a zone (see update.h). */
#include "zone/update.h"
#include "zone/zone_state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "contrib/base/err.h"
#include "contrib/base/fsutil.h"
#include "contrib/base/log.h"
#include "contrib/base/vec.h"
#include "dns/soa.h"
#include "zone/serial.h"
#include "zone/dump.h"
#include "zone/hidden.h"

/* --- a set of records: owned copies, an open-addressing index by identity --- */

typedef struct urr {
	zone_rr_t rr; /* owner and rdata point into the same allocation */
	bool dead;    /* dropped; stays in the index so probing goes on past it */
} urr_t;

typedef struct rrset_list {
	urr_t *v;
	size_t n, cap, live;
	uint32_t *idx;  /* index + 1, 0 = empty; by identity */
	uint32_t *oidx; /* the same entries by owner (several per owner), same capacity */
	size_t idx_cap;
} rrlist_t;

static uint32_t rr_hash(const zone_rr_t *rr)
{
	uint32_t h = dname_hash(rr->owner, dname_len(rr->owner)) ^ (uint32_t)rr->type * 0x9e3779b1u;
	for (uint16_t i = 0; i < rr->rdlen; i++)
		h = (h ^ rr->rdata[i]) * 16777619u;
	return h;
}

/* Identity of a record (changeset.h): owner, type, class, RDATA; not the TTL. */
static bool rr_same(const zone_rr_t *a, const zone_rr_t *b)
{
	return a->type == b->type && a->rclass == b->rclass && a->rdlen == b->rdlen &&
	       dname_equal(a->owner, b->owner) && memcmp(a->rdata, b->rdata, a->rdlen) == 0;
}

static urr_t *list_find(const rrlist_t *l, const zone_rr_t *rr)
{
	if (l->live == 0)
		return NULL;
	size_t mask = l->idx_cap - 1;
	for (size_t i = rr_hash(rr) & mask; l->idx[i]; i = (i + 1) & mask) {
		urr_t *e = &l->v[l->idx[i] - 1];
		if (!e->dead && rr_same(&e->rr, rr))
			return e;
	}
	return NULL;
}

static uint32_t owner_hash(const uint8_t *owner)
{
	return dname_hash(owner, dname_len(owner));
}

static void list_index(rrlist_t *l, size_t k)
{
	size_t mask = l->idx_cap - 1, i = rr_hash(&l->v[k].rr) & mask;
	while (l->idx[i])
		i = (i + 1) & mask;
	l->idx[i] = (uint32_t)(k + 1);
	for (i = owner_hash(l->v[k].rr.owner) & mask; l->oidx[i]; i = (i + 1) & mask)
		;
	l->oidx[i] = (uint32_t)(k + 1);
}

static int list_grow(rrlist_t *l)
{
	if (l->n == l->cap && sd_vec_grow(&l->v, &l->cap, l->n + 1) != 0)
		return -ENOMEM;
	if ((l->n + 1) * 2 <= l->idx_cap)
		return 0;
	size_t cap = l->idx_cap ? l->idx_cap * 2 : 64;
	uint32_t *idx = calloc(cap, sizeof(*idx)), *oidx = calloc(cap, sizeof(*oidx));
	if (!idx || !oidx || l->n >= UINT32_MAX - 1) {
		free(idx);
		free(oidx);
		return -ENOMEM;
	}
	free(l->idx);
	free(l->oidx);
	l->idx = idx;
	l->oidx = oidx;
	l->idx_cap = cap;
	for (size_t k = 0; k < l->n; k++)
		list_index(l, k);
	return 0;
}

static int list_put(rrlist_t *l, const zone_rr_t *rr)
{
	size_t ol = dname_len(rr->owner);
	int rc = list_grow(l);
	uint8_t *mem = rc == 0 ? malloc(ol + rr->rdlen + 1) : NULL;
	if (!mem)
		return -ENOMEM;
	memcpy(mem, rr->owner, ol);
	dname_lower(mem);
	memcpy(mem + ol, rr->rdata, rr->rdlen);
	urr_t *e = &l->v[l->n];
	*e = (urr_t){.rr = *rr};
	e->rr.owner = mem;
	e->rr.rdata = mem + ol;
	list_index(l, l->n++);
	l->live++;
	return 0;
}

static void list_drop(rrlist_t *l, urr_t *e)
{
	e->dead = true;
	l->live--;
}

static void list_free(rrlist_t *l)
{
	for (size_t k = 0; k < l->n; k++)
		free((void *)l->v[k].rr.owner);
	free(l->v);
	free(l->idx);
	free(l->oidx);
	*l = (rrlist_t){0};
}

/* --- the transaction --- */

/* One step of the undo log (savepoints): what to do to take an edit back. */
enum { UNDO_PUT, UNDO_DROP, UNDO_TTL, UNDO_SOA };

typedef struct undo {
	uint8_t kind; /* UNDO_* */
	bool add;     /* the entry is in u->add (else u->rem) */
	uint32_t idx; /* the entry's index; UNDO_SOA: the index in u->soas */
	uint32_t ttl; /* UNDO_TTL: the TTL before */
} undo_t;

/* The SOA part of a transaction, saved before zone_update_set_soa changes it. */
typedef struct soa_saved {
	bool soa_set, hand_serial;
	uint32_t soa_ttl, file_serial;
	uint16_t soa_rdlen;
	uint8_t soa_rdata[DNS_SOA_MAX_LEN];
} soa_saved_t;

struct zone_update {
	zone_t *z;
	zone_version_t *served; /* what the change applies to; NULL: the zone starts from a file */
	bool recovered;         /* served comes from the state files and is not published yet */
	rrlist_t rem;           /* records of served to remove, with their served TTL */
	rrlist_t add;           /* records to add */
	/* the transfer view (zone/hidden.h): requests, then at commit the exact deltas */
	rrlist_t hide_req, unhide_req;
	rrlist_t vhide, vunhide;
	/* from the zone file */
	bool from_file;
	zone_version_t *file_v;
	zone_load_info_t info;
	bool soa_set; /* the file changed the SOA's TTL or fields other than the serial */
	uint32_t soa_ttl;
	uint16_t soa_rdlen;
	uint8_t soa_rdata[DNS_SOA_MAX_LEN];
	bool hand_serial; /* the file's serial, raised by hand past the served one, is kept */
	uint32_t file_serial;
	bool base_current;     /* the base copy holds this file already: not written again */
	zone_file_base_t *pre; /* the file's change prepared off the thread (until file_change) */
	/* the commit serves the file as loaded (its change was taken against the served
	 * version itself, and nothing else was edited): the base copy's note says so */
	bool as_is;
	size_t edits, file_edits; /* zone_update_add/remove/set_soa calls; those of the file */
	/* the undo log, kept from the first zone_update_mark on */
	bool logging;
	undo_t *undo;
	size_t nundo, undo_cap;
	soa_saved_t *soas;
	size_t nsoas, soas_cap;
	/* who makes the change (zone_update_set_source), recorded with its change set */
	zone_source_kind_t src_kind;
	char src_text[ZONE_SOURCE_TEXT_MAX + 1];
};

int zone_update_begin(zone_t *z, zone_update_t **out)
{
	*out = NULL;
	if (!z->journal)
		return -EINVAL;
	if (z->in_update)
		return -EBUSY;
	zone_update_t *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->z = z;
	int rc = 0;
	if (z->started) {
		u->served = zone_version_ref(zone_current(z));
	} else {
		rc = zone_state_recover(z, &u->served);
		u->recovered = u->served != NULL;
	}
	if (rc != 0) {
		free(u);
		return rc;
	}
	z->in_update = true;
	*out = u;
	return 0;
}

void zone_update_abort(zone_update_t *u)
{
	if (!u)
		return;
	u->z->in_update = false;
	list_free(&u->rem);
	list_free(&u->add);
	list_free(&u->hide_req);
	list_free(&u->unhide_req);
	list_free(&u->vhide);
	list_free(&u->vunhide);
	free(u->undo);
	free(u->soas);
	zone_version_unref(u->served);
	zone_version_unref(u->file_v);
	zone_file_base_free(u->pre);
	zone_load_info_free(&u->info);
	free(u);
}

/* The RRset of a type at an owner, or NULL. */
static const zone_rrset_t *rrset_at(const zone_version_t *v, const uint8_t *owner, uint16_t type,
                                    const zone_node_t **node)
{
	const zone_node_t *n = zone_version_find(v, owner, dname_len(owner));
	*node = n;
	return n ? zone_node_rrset(n, type) : NULL;
}

/* Whether rs (at node n; may be NULL) holds rr's RDATA; its TTL into *ttl. */
static bool rrset_find(const zone_node_t *n, const zone_rrset_t *rs, const zone_rr_t *rr,
                       uint32_t *ttl)
{
	if (!rs || rr->rclass != DNS_CLASS_IN)
		return false;
	zone_rrset_iter_t it;
	zone_rr_t x;
	zone_rrset_iter_start(&it, n, rs);
	while (zone_rrset_iter_next(&it, &x)) {
		if (x.rdlen == rr->rdlen && memcmp(x.rdata, rr->rdata, x.rdlen) == 0) {
			*ttl = x.ttl;
			return true;
		}
	}
	return false;
}

/* rr as served (its TTL into *ttl), or false. */
static bool served_has(const zone_update_t *u, const zone_rr_t *rr, uint32_t *ttl)
{
	const zone_node_t *n;
	const zone_rrset_t *rs = rrset_at(u->served, rr->owner, rr->type, &n);
	return rrset_find(n, rs, rr, ttl);
}

/* Whether rr is present once the transaction's edits so far are applied. */
static bool in_view(const zone_update_t *u, const zone_rr_t *rr)
{
	uint32_t ttl;
	return list_find(&u->add, rr) || (served_has(u, rr, &ttl) && !list_find(&u->rem, rr));
}

/* --- edits through the undo log --- */

static int undo_reserve(zone_update_t *u)
{
	return u->logging ? sd_vec_grow(&u->undo, &u->undo_cap, u->nundo + 1) : 0;
}

static void undo_push(zone_update_t *u, uint8_t kind, bool add, size_t idx, uint32_t ttl)
{
	if (u->logging)
		u->undo[u->nundo++] = (undo_t){kind, add, (uint32_t)idx, ttl};
}

static int u_put(zone_update_t *u, rrlist_t *l, const zone_rr_t *rr)
{
	int rc = undo_reserve(u);
	if (rc == 0)
		rc = list_put(l, rr);
	if (rc == 0)
		undo_push(u, UNDO_PUT, l == &u->add, l->n - 1, 0);
	return rc;
}

static int u_drop(zone_update_t *u, rrlist_t *l, urr_t *e)
{
	int rc = undo_reserve(u);
	if (rc != 0)
		return rc;
	list_drop(l, e);
	undo_push(u, UNDO_DROP, l == &u->add, (size_t)(e - l->v), 0);
	return 0;
}

static int u_ttl(zone_update_t *u, urr_t *e, uint32_t ttl)
{
	int rc = undo_reserve(u);
	if (rc != 0)
		return rc;
	undo_push(u, UNDO_TTL, true, (size_t)(e - u->add.v), e->rr.ttl);
	e->rr.ttl = ttl;
	return 0;
}

zone_update_mark_t zone_update_mark(zone_update_t *u)
{
	u->logging = true;
	return u->nundo;
}

static void undo_one(zone_update_t *u, const undo_t *x)
{
	rrlist_t *l = x->add ? &u->add : &u->rem;
	if (x->kind == UNDO_SOA) {
		const soa_saved_t *s = &u->soas[x->idx];
		u->soa_set = s->soa_set;
		u->hand_serial = s->hand_serial;
		u->soa_ttl = s->soa_ttl;
		u->file_serial = s->file_serial;
		u->soa_rdlen = s->soa_rdlen;
		memcpy(u->soa_rdata, s->soa_rdata, s->soa_rdlen);
		u->nsoas = x->idx;
	} else if (x->kind == UNDO_PUT) {
		list_drop(l, &l->v[x->idx]); /* stays allocated and indexed, dead */
	} else if (x->kind == UNDO_DROP) {
		l->v[x->idx].dead = false;
		l->live++;
	} else {
		l->v[x->idx].rr.ttl = x->ttl;
	}
}

void zone_update_rollback(zone_update_t *u, zone_update_mark_t mark)
{
	while (u->nundo > mark)
		undo_one(u, &u->undo[--u->nundo]);
}

int zone_update_add(zone_update_t *u, const zone_rr_t *rr)
{
	if (rr->type == DNS_TYPE_SOA)
		return SD_ESEMANTIC;
	if (!u->served)
		return -EINVAL;
	u->edits++;
	urr_t *a = list_find(&u->add, rr);
	uint32_t ttl;
	bool served = served_has(u, rr, &ttl);
	urr_t *r = served ? list_find(&u->rem, rr) : NULL;
	if (served && ttl == rr->ttl) { /* served as it is: keep it, change nothing */
		int rc = a ? u_drop(u, &u->add, a) : 0;
		return rc == 0 && r ? u_drop(u, &u->rem, r) : rc;
	}
	if (a) /* a served record with another TTL is in rem already */
		return a->rr.ttl == rr->ttl ? 0 : u_ttl(u, a, rr->ttl);
	if (served && !r) { /* another TTL: remove the served record, add this one (RFC 1995
	                     * has no other way) */
		zone_rr_t old = *rr;
		old.ttl = ttl;
		int rc = u_put(u, &u->rem, &old);
		if (rc != 0)
			return rc;
	}
	return u_put(u, &u->add, rr);
}

int zone_update_remove(zone_update_t *u, const zone_rr_t *rr)
{
	if (rr->type == DNS_TYPE_SOA)
		return SD_ESEMANTIC;
	if (!u->served)
		return -EINVAL;
	u->edits++;
	urr_t *a = list_find(&u->add, rr);
	if (a) { /* a served record with another TTL is in rem already */
		int rc = u_drop(u, &u->add, a);
		if (rc != 0)
			return rc;
	}
	uint32_t ttl;
	if (a || !served_has(u, rr, &ttl) || list_find(&u->rem, rr))
		return 0;
	zone_rr_t old = *rr;
	old.ttl = ttl;
	return u_put(u, &u->rem, &old);
}

/* --- the transaction's view --- */

void zone_update_soa(const zone_update_t *u, zone_rr_t *out, uint8_t buf[DNS_SOA_MAX_LEN])
{
	zone_version_soa_rr(u->served, out);
	if (u->soa_set) {
		out->ttl = u->soa_ttl;
		out->rdlen = u->soa_rdlen;
		out->rdata = u->soa_rdata;
	}
	memcpy(buf, out->rdata, out->rdlen);
	dns_soa_set_serial(buf, out->rdlen,
	                   u->hand_serial ? u->file_serial : zone_version_serial(u->served));
	out->rdata = buf;
}

int zone_update_set_soa(zone_update_t *u, const zone_rr_t *soa)
{
	if (soa->type != DNS_TYPE_SOA || soa->rdlen > DNS_SOA_MAX_LEN ||
	    !dns_soa_valid(soa->rdata, soa->rdlen))
		return SD_EPARSE;
	if (!u->served)
		return -EINVAL;
	if (!dname_equal(soa->owner, zone_version_apex(u->served)->owner))
		return SD_ESEMANTIC;
	uint32_t cur = u->hand_serial ? u->file_serial : zone_version_serial(u->served);
	uint32_t s = dns_soa_serial(soa->rdata, soa->rdlen);
	u->edits++;
	if (!zone_serial_gt(s, cur)) /* RFC 2136 3.4.2.2: only a higher serial replaces it */
		return 0;
	if (u->logging) {
		if (sd_vec_grow(&u->soas, &u->soas_cap, u->nsoas + 1) != 0 || undo_reserve(u) != 0)
			return -ENOMEM;
		soa_saved_t *sv = &u->soas[u->nsoas];
		*sv = (soa_saved_t){u->soa_set,     u->hand_serial, u->soa_ttl,
		                    u->file_serial, u->soa_rdlen,   {0}};
		memcpy(sv->soa_rdata, u->soa_rdata, u->soa_rdlen);
		undo_push(u, UNDO_SOA, false, u->nsoas++, 0);
	}
	u->soa_set = true;
	u->soa_ttl = soa->ttl;
	u->soa_rdlen = soa->rdlen;
	memcpy(u->soa_rdata, soa->rdata, soa->rdlen);
	u->hand_serial = true; /* the commit keeps it, or goes above it (zone_serial_choose) */
	u->file_serial = s;
	return 1;
}

/* The records of rs (at node n of the served version) still in the view. */
static int each_served(const zone_update_t *u, const zone_node_t *n, const zone_rrset_t *rs,
                       zone_update_each_fn fn, void *arg)
{
	zone_rrset_iter_t it;
	zone_rr_t rr;
	int rc = 0;
	if (rs->type == DNS_TYPE_SOA && (n->flags & ZONE_NODE_APEX)) {
		uint8_t buf[DNS_SOA_MAX_LEN];
		zone_update_soa(u, &rr, buf);
		return fn(arg, &rr);
	}
	zone_rrset_iter_start(&it, n, rs);
	while (rc == 0 && zone_rrset_iter_next(&it, &rr))
		if (!list_find(&u->rem, &rr))
			rc = fn(arg, &rr);
	return rc;
}

int zone_update_each(const zone_update_t *u, const uint8_t *owner, uint16_t type,
                     zone_update_each_fn fn, void *arg)
{
	if (!u->served)
		return -EINVAL;
	const zone_node_t *n = zone_version_find(u->served, owner, dname_len(owner));
	int rc = 0;
	for (uint16_t k = 0; n && rc == 0 && k < n->rrset_count; k++)
		if (type == DNS_TYPE_ANY || n->rrsets[k].type == type)
			rc = each_served(u, n, &n->rrsets[k], fn, arg);
	const rrlist_t *l = &u->add;
	if (rc != 0 || l->live == 0)
		return rc;
	size_t mask = l->idx_cap - 1;
	for (size_t i = owner_hash(owner) & mask; rc == 0 && l->oidx[i]; i = (i + 1) & mask) {
		const urr_t *e = &l->v[l->oidx[i] - 1];
		if (!e->dead && (type == DNS_TYPE_ANY || e->rr.type == type) &&
		    dname_equal(e->rr.owner, owner))
			rc = fn(arg, &e->rr);
	}
	return rc;
}

int zone_update_each_added(const zone_update_t *u, zone_update_each_fn fn, void *arg)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < u->add.n; i++)
		if (!u->add.v[i].dead)
			rc = fn(arg, &u->add.v[i].rr);
	return rc;
}

const zone_version_t *zone_update_served(const zone_update_t *u)
{
	return u->served;
}

static int stop_at_first(void *arg, const zone_rr_t *rr)
{
	(void)arg;
	(void)rr;
	return 1;
}

bool zone_update_name_used(const zone_update_t *u, const uint8_t *owner)
{
	return zone_update_each(u, owner, DNS_TYPE_ANY, stop_at_first, NULL) == 1;
}

typedef struct rr_vec {
	zone_rr_t *v;
	size_t n, cap;
	uint32_t ttl; /* collect records with another TTL than this */
} rr_vec_t;

static int collect_other_ttl(void *arg, const zone_rr_t *rr)
{
	rr_vec_t *c = arg;
	if (rr->ttl == c->ttl)
		return 0;
	if (c->n == c->cap && sd_vec_grow(&c->v, &c->cap, c->n + 1) != 0)
		return -ENOMEM;
	c->v[c->n++] = *rr; /* served memory or an add entry's: stable for the transaction */
	return 0;
}

int zone_update_rrset_ttl(zone_update_t *u, const uint8_t *owner, uint16_t type, uint32_t ttl)
{
	if (type == DNS_TYPE_SOA || type == DNS_TYPE_ANY)
		return SD_ESEMANTIC;
	rr_vec_t c = {.ttl = ttl};
	int rc = zone_update_each(u, owner, type, collect_other_ttl, &c);
	for (size_t i = 0; rc == 0 && i < c.n; i++) {
		c.v[i].ttl = ttl;
		rc = zone_update_add(u, &c.v[i]);
	}
	free(c.v);
	return rc;
}

static void log_rr(const zone_t *z, const char *what, const zone_rr_t *rr)
{
	char name[DNAME_MAX * 4 + 1], type[16];
	log_error("%s: change set %s: %s %s", z->name, what,
	          dname_to_str(rr->owner, name, sizeof(name)), zone_type_to_str(rr->type, type));
}

static bool cs_removes(const zone_changeset_t *cs, const zone_rr_t *rr)
{
	zone_rr_iter_t it;
	zone_rr_t x;
	zone_changeset_removed(cs, &it);
	while (zone_rr_iter_next(&it, &x))
		if (rr_same(&x, rr))
			return true;
	return false;
}

/* Every removed record present, every added one absent (unless the set removes it too). */
static int apply_check(const zone_update_t *u, const zone_changeset_t *cs)
{
	zone_rr_iter_t it;
	zone_rr_t rr;
	zone_changeset_removed(cs, &it);
	while (zone_rr_iter_next(&it, &rr)) {
		if (!in_view(u, &rr)) {
			log_rr(u->z, "removes a missing record", &rr);
			return SD_ESEMANTIC;
		}
	}
	zone_changeset_added(cs, &it);
	while (zone_rr_iter_next(&it, &rr)) {
		if (in_view(u, &rr) && !cs_removes(cs, &rr)) {
			log_rr(u->z, "adds a record that exists", &rr);
			return SD_ESEMANTIC;
		}
	}
	return 0;
}

int zone_update_apply(zone_update_t *u, const zone_changeset_t *cs)
{
	if (!u->served)
		return -EINVAL;
	int rc = apply_check(u, cs);
	zone_rr_iter_t it;
	zone_rr_t rr;
	zone_changeset_removed(cs, &it);
	while (rc == 0 && zone_rr_iter_next(&it, &rr))
		rc = zone_update_remove(u, &rr);
	zone_changeset_added(cs, &it);
	while (rc == 0 && zone_rr_iter_next(&it, &rr))
		rc = zone_update_add(u, &rr);
	return rc;
}

/* --- the file's own change --- */

static bool rrset_equal(const zone_rrset_t *a, const zone_rrset_t *b)
{
	if (!a || !b)
		return a == b;
	return a->ttl == b->ttl && a->count == b->count && a->rdata_len == b->rdata_len &&
	       memcmp(a->rdata, b->rdata, a->rdata_len) == 0;
}

/* rr is in rs (at node n) with the same TTL. */
static bool rrset_has(const zone_node_t *n, const zone_rrset_t *rs, const zone_rr_t *rr)
{
	uint32_t ttl;
	return rrset_find(n, rs, rr, &ttl) && ttl == rr->ttl;
}

/* The served RRset (owner, type) becomes the file's: the idempotent form of the file's
 * change to it. */
static int take_rrset(zone_update_t *u, const zone_version_t *base, const zone_version_t *file,
                      const uint8_t *owner, uint16_t type)
{
	const zone_node_t *sn, *fn, *bn;
	const zone_rrset_t *srs = rrset_at(u->served, owner, type, &sn);
	const zone_rrset_t *frs = rrset_at(file, owner, type, &fn);
	const zone_rrset_t *brs = rrset_at(base, owner, type, &bn);
	if (rrset_equal(srs, frs))
		return 0; /* served as the file says (applied before a crash, or both agree) */
	if (!rrset_equal(srs, brs)) {
		char name[DNAME_MAX * 4 + 1], tn[16];
		log_notice("event=zone-file-wins zone=%s name=%s type=%s reason=\"changed both in "
		           "the zone file and by another path\" hint=\"the zone file's records "
		           "win\"",
		           u->z->lname, dname_to_str_nodot(owner, name, sizeof(name)),
		           zone_type_to_str(type, tn));
	}
	zone_rrset_iter_t it;
	zone_rr_t rr;
	int rc = 0;
	if (srs) {
		zone_rrset_iter_start(&it, sn, srs);
		while (rc == 0 && zone_rrset_iter_next(&it, &rr))
			if (!rrset_has(fn, frs, &rr))
				rc = zone_update_remove(u, &rr);
	}
	if (frs) {
		zone_rrset_iter_start(&it, fn, frs);
		while (rc == 0 && zone_rrset_iter_next(&it, &rr))
			rc = zone_update_add(u, &rr);
	}
	return rc;
}

typedef struct rskey {
	const uint8_t *owner;
	uint16_t type;
} rskey_t;

static int rskey_cmp(const void *a, const void *b)
{
	const rskey_t *x = a, *y = b;
	int c = dname_cmp_canonical(x->owner, y->owner);
	return c ? c : (x->type > y->type) - (x->type < y->type);
}

/* The (owner, type) of every RRset the change set touches, sorted, each once. */
static int touched(const zone_changeset_t *cs, rskey_t **out, size_t *n)
{
	size_t cap = zone_changeset_removed_count(cs) + zone_changeset_added_count(cs);
	rskey_t *k = malloc((cap ? cap : 1) * sizeof(*k));
	if (!k)
		return -ENOMEM;
	size_t m = 0;
	zone_rr_iter_t it;
	zone_rr_t rr;
	zone_changeset_removed(cs, &it);
	while (zone_rr_iter_next(&it, &rr))
		k[m++] = (rskey_t){rr.owner, rr.type};
	zone_changeset_added(cs, &it);
	while (zone_rr_iter_next(&it, &rr))
		k[m++] = (rskey_t){rr.owner, rr.type};
	qsort(k, m, sizeof(*k), rskey_cmp);
	size_t w = 0;
	for (size_t i = 0; i < m; i++)
		if (w == 0 || rskey_cmp(&k[w - 1], &k[i]) != 0)
			k[w++] = k[i];
	*out = k;
	*n = w;
	return 0;
}

/* Same TTL, names and timers (everything but the serial: the first of the five closing
 * 32-bit fields, RFC 1035 3.3.13). */
static bool soa_same_but_serial(const zone_rr_t *a, const zone_rr_t *b)
{
	if (a->ttl != b->ttl || a->rdlen != b->rdlen || a->rdlen < DNS_SOA_MIN_LEN)
		return false;
	size_t names = a->rdlen - DNS_SOA_FIXED; /* then serial, refresh, retry, expire, min */
	return memcmp(a->rdata, b->rdata, names) == 0 &&
	       memcmp(a->rdata + names + 4, b->rdata + names + 4, DNS_SOA_FIXED - 4) == 0;
}

/* The file's change against a base: the base, the SOA serial the file had in it, the diff and
 * the RRsets it touched (their owners point into cs). The base is what the base copy holds —
 * the copy parsed, or, when its note says the version committed at its serial served the
 * file as loaded, that version itself (its records are the file's, its SOA the file's but
 * for the serial: no parse) — or, without a usable copy, the served version. copy: the base
 * is the base copy's content, noted at serial. */
struct zone_file_base {
	zone_version_t *base;
	uint32_t file_serial;
	zone_changeset_t *cs;
	rskey_t *keys;
	size_t n;
	bool copy;
	const char *kind; /* for the log: "copy" (parsed), "version" (no parse), "served" */
	uint32_t serial;
	/* a parsed copy: the change makes `served` (a reference) the file as loaded */
	zone_version_t *served;
	bool becomes;
};

/* The file's change to the SOA: its fields when they changed, its serial when raised by
 * hand past the served one. */
static void take_soa(zone_update_t *u, const zone_file_base_t *fb, const zone_version_t *file)
{
	zone_rr_t b, f;
	zone_version_soa_rr(fb->base, &b);
	zone_version_soa_rr(file, &f);
	if (!soa_same_but_serial(&b, &f) && f.rdlen <= DNS_SOA_MAX_LEN) {
		u->soa_set = true;
		u->soa_ttl = f.ttl;
		u->soa_rdlen = f.rdlen;
		memcpy(u->soa_rdata, f.rdata, f.rdlen);
	}
	uint32_t fs = zone_version_serial(file);
	if (fs != fb->file_serial && zone_serial_gt(fs, zone_version_serial(u->served))) {
		u->hand_serial = true;
		u->file_serial = fs;
	}
}

/* The base copy's first line (see keep_file): the serial served once it was committed and,
 * when that version served the file as loaded (its records are the file's; its SOA too, but
 * for the serial), the file's own SOA serial. Older notes end after the first serial. */
#define BASE_NOTE  "steerdns: the zone file as last loaded, committed at serial"
#define BASE_AS_IS "served as loaded, file serial"

typedef struct base_note {
	uint32_t serial;
	bool as_is;
	uint32_t file_serial; /* when as_is */
} base_note_t;

/* The base copy's note; false when the copy is missing or has no such line. */
static bool base_note_read(const char *path, base_note_t *note)
{
	int fd = sd_open_regular(path, O_RDONLY, 0); /* never a FIFO or device (fsutil.h) */
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (fd >= 0 && !f)
		close(fd);
	char line[160];
	int end = 0;
	*note = (base_note_t){0};
	bool ok = f && fgets(line, sizeof(line), f) &&
	          sscanf(line, "; " BASE_NOTE " %" SCNu32 "%n", &note->serial, &end) == 1;
	if (ok)
		note->as_is =
		    sscanf(line + end, ", " BASE_AS_IS " %" SCNu32, &note->file_serial) == 1;
	if (f)
		fclose(f);
	return ok;
}

void zone_file_base_free(zone_file_base_t *fb)
{
	if (!fb)
		return;
	free(fb->keys);
	zone_changeset_free(fb->cs);
	zone_version_unref(fb->base);
	zone_version_unref(fb->served);
	free(fb);
}

/* Whether the file's change (fb, against a base that is not served) makes served the file
 * as loaded: every RRset where served differs from the file is one the change takes, and the
 * SOA's fields are the file's or become them. One more diff, O(zone), on the path that parsed
 * the copy anyway: a zone whose other changes were undone, or taken into the file, goes back
 * to the reloads that parse no copy. */
static int becomes_file(zone_file_base_t *fb, const zone_version_t *served,
                        const zone_version_t *file_v)
{
	zone_rr_t b, f, s;
	zone_version_soa_rr(fb->base, &b);
	zone_version_soa_rr(file_v, &f);
	zone_version_soa_rr(served, &s);
	if (soa_same_but_serial(&b, &f) && !soa_same_but_serial(&s, &f))
		return 0; /* the served SOA's own fields stay */
	zone_changeset_t *cs = NULL;
	rskey_t *k = NULL;
	size_t n = 0;
	int rc = zone_changeset_diff(served, file_v, &cs);
	if (rc == 0)
		rc = touched(cs, &k, &n);
	bool all = rc == 0;
	for (size_t i = 0; all && i < n; i++)
		all = bsearch(&k[i], fb->keys, fb->n, sizeof(*k), rskey_cmp) != NULL;
	free(k);
	zone_changeset_free(cs);
	if (all) {
		fb->served = zone_version_ref(served);
		fb->becomes = true;
	}
	return rc;
}

/* fb->base against file_v: the diff and its touched RRsets; for a parsed copy, whether the
 * change makes served (NULL: unknown) the file as loaded. */
static int base_diff(zone_file_base_t *fb, const zone_version_t *served,
                     const zone_version_t *file_v)
{
	int rc = zone_changeset_diff(fb->base, file_v, &fb->cs);
	if (rc == 0)
		rc = touched(fb->cs, &fb->keys, &fb->n);
	if (rc == 0 && served && fb->base != served)
		rc = becomes_file(fb, served, file_v);
	return rc;
}

/* The base copy's content into fb (noted by note): the version committed at its serial when
 * that is served (a reference) and served the file as loaded, else the copy parsed. */
static int base_copy(const zone_t *z, const zone_bindings_t *bindings, const zone_version_t *served,
                     const base_note_t *note, zone_file_base_t *fb)
{
	fb->copy = true;
	fb->serial = note->serial;
	if (note->as_is && served && zone_version_serial(served) == note->serial) {
		fb->base = zone_version_ref(served);
		fb->file_serial = note->file_serial;
		fb->kind = "version";
		return 0;
	}
	fb->kind = "copy";
	/* served holds the copy's records but for the changes made another way since: built
	 * over it (zone/load.h), the copy costs no second layout of the zone */
	int rc = zone_load_file_over(z->apex, z->base_path, bindings, served, NULL, &fb->base);
	if (rc == 0)
		fb->file_serial = zone_version_serial(fb->base);
	return rc;
}

int zone_file_base_prepare(const zone_t *z, const zone_bindings_t *bindings,
                           const zone_version_t *served, const zone_version_t *file_v,
                           zone_file_base_t **out)
{
	*out = NULL;
	base_note_t note;
	/* a copy still to be written (zone_keep_base) would be read as it was: not here */
	if (!z->base_path || z->base_pending || !base_note_read(z->base_path, &note))
		return 0; /* the commit decides (and logs) */
	zone_file_base_t *fb = calloc(1, sizeof(*fb));
	if (!fb)
		return -ENOMEM;
	int rc = base_copy(z, bindings, served, &note, fb);
	if (rc == 0)
		rc = base_diff(fb, served, file_v);
	if (rc != 0) { /* the commit decides again (and logs) */
		zone_file_base_free(fb);
		return rc == -ENOMEM || rc == -ECANCELED ? rc : 0;
	}
	*out = fb;
	return 0;
}

/* The zone file as last loaded (the base copy), or the served version when there is none
 * or the served version is older than the commit that wrote it (journal entries were lost:
 * the file's change since then may not be served); with its diff to the file. A base
 * prepared off the control thread (u->pre) is taken when it still holds. */
static int load_base(zone_update_t *u, zone_file_base_t **out)
{
	zone_t *z = u->z;
	uint32_t ss = zone_version_serial(u->served);
	zone_file_base_t *pre = u->pre;
	u->pre = NULL;
	if (pre && !zone_serial_lt(ss, pre->serial)) {
		*out = pre;
		return 0;
	}
	zone_file_base_free(pre);
	zone_file_base_t *fb = calloc(1, sizeof(*fb));
	if (!fb)
		return -ENOMEM;
	int rc = 0;
	base_note_t note;
	if (!base_note_read(z->base_path, &note) || zone_serial_lt(ss, note.serial)) {
		log_notice(
		    "event=zone-base-missing zone=%s file=%s reason=\"no usable copy of the "
		    "zone file as last loaded\" hint=\"the file is diffed against the served "
		    "zone this once\"",
		    z->lname, LOG_Q(z->base_path));
		fb->base = zone_version_ref(u->served);
		fb->file_serial = ss;
		fb->kind = "served";
	} else {
		rc = base_copy(z, z->bindings, u->served, &note, fb);
		if (rc != 0)
			log_error("event=zone-base-failed zone=%s file=%s reason=%s", z->lname,
			          LOG_Q(z->base_path), LOG_Q(sd_strerror(rc)));
	}
	if (rc == 0)
		rc = base_diff(fb, u->served, u->file_v);
	if (rc != 0) {
		zone_file_base_free(fb);
		fb = NULL;
	}
	*out = fb;
	return rc;
}

/* The base copy holds file_v already (same records, same SOA, serial included). */
static bool base_holds(const zone_file_base_t *fb, const zone_version_t *file_v)
{
	zone_rr_t b, f;
	zone_version_soa_rr(fb->base, &b);
	zone_version_soa_rr(file_v, &f);
	return fb->copy && fb->n == 0 && soa_same_but_serial(&b, &f) &&
	       fb->file_serial == zone_version_serial(file_v);
}

static int file_change(zone_update_t *u)
{
	zone_file_base_t *fb = NULL;
	bool untouched = u->edits == 0 && !u->soa_set && !u->hand_serial;
	int rc = load_base(u, &fb);
	if (rc != 0)
		return rc;
	u->base_current = base_holds(fb, u->file_v);
	/* against the served version itself, the file's change makes it the file as loaded */
	u->as_is = untouched && (fb->base == u->served || (fb->becomes && fb->served == u->served));
	for (size_t i = 0; rc == 0 && i < fb->n; i++)
		rc = take_rrset(u, fb->base, u->file_v, fb->keys[i].owner, fb->keys[i].type);
	if (rc == 0)
		take_soa(u, fb, u->file_v);
	u->file_edits = u->edits;
	/* base=version is the fast path: no copy parsed; build=overlay: the file's version was
	 * built over the served one (zone_overlay_build), full: laid out whole */
	log_info("event=zone-file-change zone=%s base=%s base_serial=%" PRIu32
	         " rrsets=%zu build=%s",
	         u->z->lname, fb->kind, fb->serial, fb->n,
	         zone_version_plain(u->file_v) ? "full" : "overlay");
	zone_file_base_free(fb);
	return rc;
}

int zone_update_from_file(zone_update_t *u, zone_version_t *file_v, zone_load_info_t *info)
{
	return zone_update_from_file_based(u, file_v, info, NULL);
}

int zone_update_from_file_based(zone_update_t *u, zone_version_t *file_v, zone_load_info_t *info,
                                zone_file_base_t *base)
{
	zone_load_info_t in = *info;
	*info = (zone_load_info_t){0};
	if (u->from_file) {
		zone_version_unref(file_v);
		zone_load_info_free(&in);
		zone_file_base_free(base);
		return -EINVAL;
	}
	(void)zone_keep_base(u->z); /* left pending by the last file commit: this one reads it */
	u->from_file = true;
	u->file_v = file_v;
	u->info = in;
	u->pre = base;
	return u->served ? file_change(u) : 0;
}

/* --- the transfer view --- */

/* Move rr into list `to` (once), out of `from`. */
static int view_request(rrlist_t *to, rrlist_t *from, const zone_rr_t *rr)
{
	if (rr->type == DNS_TYPE_SOA)
		return SD_ESEMANTIC;
	urr_t *e = list_find(from, rr);
	if (e)
		list_drop(from, e);
	return list_find(to, rr) ? 0 : list_put(to, rr);
}

int zone_update_hide(zone_update_t *u, const zone_rr_t *rr)
{
	return view_request(&u->hide_req, &u->unhide_req, rr);
}

int zone_update_unhide(zone_update_t *u, const zone_rr_t *rr)
{
	return view_request(&u->unhide_req, &u->hide_req, rr);
}

static int vput(rrlist_t *l, const zone_rr_t *rr)
{
	return list_find(l, rr) ? 0 : list_put(l, rr);
}

/* An added record's view: a TTL change keeps the state (unless asked otherwise), a new
 * record is hidden when asked or when the hook says so. */
static int view_added(zone_update_t *u, const zone_hidden_t *h, const zone_rr_t *a)
{
	bool was = list_find(&u->rem, a) != NULL, hidden = zone_hidden_has(h, a);
	bool hide = list_find(&u->hide_req, a) != NULL, show = list_find(&u->unhide_req, a) != NULL;
	if (!hide && !show && !(was && hidden) && !was && u->z->hide_fn)
		hide = u->z->hide_fn(u->z->hide_ctx, u->z, a);
	if (was && hidden && !show)
		hide = true;
	return hide ? vput(&u->vhide, a) : 0;
}

/* The requests and the content edits as exact deltas of the served hidden set (hidden.h):
 * vhide ∩ (H \ vunhide) = ∅, vunhide ⊆ H, every removed record of H in vunhide. */
static int view_delta(zone_update_t *u)
{
	const zone_hidden_t *h = zone_version_hidden(u->served);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < u->rem.n; i++)
		if (!u->rem.v[i].dead && zone_hidden_has(h, &u->rem.v[i].rr))
			rc = vput(&u->vunhide, &u->rem.v[i].rr);
	for (size_t i = 0; rc == 0 && i < u->add.n; i++)
		if (!u->add.v[i].dead)
			rc = view_added(u, h, &u->add.v[i].rr);
	for (size_t i = 0; rc == 0 && i < u->hide_req.n; i++) {
		const zone_rr_t *r = &u->hide_req.v[i].rr;
		zone_rr_t rr = *r;
		if (u->hide_req.v[i].dead || list_find(&u->add, r) || list_find(&u->rem, r) ||
		    zone_hidden_has(h, r) || !served_has(u, r, &rr.ttl))
			continue; /* handled with the edits, hidden already, or not in the view */
		rc = vput(&u->vhide, &rr);
	}
	for (size_t i = 0; rc == 0 && i < u->unhide_req.n; i++) {
		const zone_rr_t *r = &u->unhide_req.v[i].rr;
		zone_rr_t rr = *r;
		if (u->unhide_req.v[i].dead || list_find(&u->add, r) || list_find(&u->rem, r) ||
		    !zone_hidden_has(h, r) || !served_has(u, r, &rr.ttl))
			continue;
		rc = vput(&u->vunhide, &rr);
	}
	return rc;
}

/* --- source and rollback --- */

void zone_update_set_source(zone_update_t *u, const zone_source_t *src)
{
	u->src_kind = src->kind;
	zone_source_text_copy(u->src_text, src->text);
}

/* The inverse of cs on top of the transaction: what it added goes, what it removed comes
 * back with the TTL it had (a TTL change is "remove old, add new": the inverse removes the
 * new record, identity without TTL, then adds the old one). Idempotent per record, so a
 * record some later path changed again is simply set to what cs found. */
static int revert_one(zone_update_t *u, const zone_changeset_t *cs)
{
	zone_rr_iter_t it;
	zone_rr_t rr;
	int rc = 0;
	zone_changeset_added(cs, &it);
	while (rc == 0 && zone_rr_iter_next(&it, &rr))
		rc = zone_update_remove(u, &rr);
	zone_changeset_removed(cs, &it);
	while (rc == 0 && zone_rr_iter_next(&it, &rr))
		rc = zone_update_add(u, &rr);
	return rc;
}

/* The SOA as it was at list[0]'s from-serial when its TTL or fields (not the serial) differ
 * from the view's: the transaction commits them with a serial of its own choosing. */
static void revert_soa(zone_update_t *u, const zone_changeset_t *first)
{
	zone_rr_t was, now;
	uint8_t buf[DNS_SOA_MAX_LEN], nbuf[DNS_SOA_MAX_LEN];
	if (!zone_changeset_soa_from(first, &was) || was.rdlen > DNS_SOA_MAX_LEN)
		return;
	zone_update_soa(u, &now, nbuf);
	memcpy(buf, was.rdata, was.rdlen);
	dns_soa_set_serial(buf, was.rdlen, dns_soa_serial(now.rdata, now.rdlen));
	if (was.ttl == now.ttl && was.rdlen == now.rdlen && memcmp(buf, now.rdata, was.rdlen) == 0)
		return;
	u->soa_set = true;
	u->soa_ttl = was.ttl;
	u->soa_rdlen = was.rdlen;
	memcpy(u->soa_rdata, was.rdata, was.rdlen);
}

int zone_update_revert(zone_update_t *u, const zone_changeset_t *const *list, size_t n)
{
	if (!u->served || u->from_file || u->logging)
		return -EINVAL;
	if (n == 0)
		return 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (zone_changeset_to(list[i]) != zone_changeset_from(list[i + 1]))
			return SD_ESEMANTIC;
	if (zone_changeset_to(list[n - 1]) != zone_version_serial(u->served))
		return SD_ESEMANTIC; /* the chain does not lead to what is served */
	int rc = 0;
	for (size_t i = n; rc == 0 && i-- > 0;)
		rc = revert_one(u, list[i]);
	if (rc == 0)
		revert_soa(u, list[0]);
	return rc;
}

/* --- commit --- */

/* The change set of the transaction: SOA(from) served, SOA(to) with the new serial. */
static int make_changeset(zone_update_t *u, uint32_t serial, zone_changeset_t **out)
{
	zone_rr_t from, to;
	uint8_t buf[DNS_SOA_MAX_LEN];
	zone_version_soa_rr(u->served, &from);
	to = from;
	if (u->soa_set) {
		to.ttl = u->soa_ttl;
		to.rdlen = u->soa_rdlen;
		to.rdata = u->soa_rdata;
	}
	memcpy(buf, to.rdata, to.rdlen);
	dns_soa_set_serial(buf, to.rdlen, serial);
	to.rdata = buf;
	zone_changeset_t *cs = NULL;
	int rc = zone_changeset_new(&cs);
	if (rc == 0)
		rc = zone_changeset_set_soa(cs, &from, &to);
	for (size_t i = 0; rc == 0 && i < u->rem.n; i++)
		if (!u->rem.v[i].dead)
			rc = zone_changeset_remove(cs, &u->rem.v[i].rr);
	for (size_t i = 0; rc == 0 && i < u->add.n; i++)
		if (!u->add.v[i].dead)
			rc = zone_changeset_add(cs, &u->add.v[i].rr);
	for (size_t i = 0; rc == 0 && i < u->vhide.n; i++)
		rc = zone_changeset_hide(cs, &u->vhide.v[i].rr);
	for (size_t i = 0; rc == 0 && i < u->vunhide.n; i++)
		rc = zone_changeset_unhide(cs, &u->vunhide.v[i].rr);
	if (rc != 0) {
		zone_changeset_free(cs);
		cs = NULL;
	}
	*out = cs;
	return rc;
}

/* The new version: the one build call of the write path (it runs the semantic checks). */
static int build(const zone_update_t *u, const zone_changeset_t *cs, zone_version_t **out)
{
	return zone_changeset_apply(u->served, cs, u->z->bindings, out);
}

/* Publish v and add d to the IXFR history (d may be NULL): the only RCU-online window. */
static void publish(zone_t *z, zone_version_t *v, zone_diff_t *d)
{
	zone_version_prepare(v); /* offline: the images take ~50 ms at 1M records */
	rcu_thread_online();
	zone_publish(z, v);
	int rc = d ? zone_history_add(z->history, d) : 0;
	if (rc != 0)
		zone_history_clear(z->history); /* an AXFR beats a wrong IXFR */
	rcu_thread_offline();
	if (rc != 0)
		log_error("event=ixfr-history-failed zone=%s reason=%s", z->lname,
		          LOG_Q(sd_strerror(rc)));
	z->started = true;
}

/* After a commit that took a file: keep its content as the next reload's base, noting the
 * serial served from then on — and, when that version serves the file as loaded, the file's
 * own serial — and its ids. The copy is written by zone_keep_base, after the caller's reply. */
static void keep_file(zone_update_t *u)
{
	zone_t *z = u->z;
	if (!u->from_file)
		return;
	zone_load_info_free(&z->files);
	z->files = u->info;
	u->info = (zone_load_info_t){0};
	if (u->base_current) /* the file is as it was: its serial note still holds */
		return;
	uint32_t s = zone_version_serial(zone_current(z));
	if (u->as_is && u->edits == u->file_edits)
		snprintf(z->base_note, sizeof(z->base_note),
		         BASE_NOTE " %" PRIu32 ", " BASE_AS_IS " %" PRIu32, s,
		         zone_version_serial(u->file_v));
	else
		snprintf(z->base_note, sizeof(z->base_note), BASE_NOTE " %" PRIu32, s);
	zone_version_unref(z->base_pending);
	z->base_pending = u->file_v;
	u->file_v = NULL;
}

static void base_written(const zone_t *z, int rc)
{
	if (rc != 0)
		log_error("event=zone-base-write-failed zone=%s file=%s reason=%s", z->lname,
		          LOG_Q(z->base_path), LOG_Q(sd_strerror(rc)));
}

/* A base copy written on another thread (update.h). The writer reads v, path and note, then
 * sets rc and written under mu; z, and v once written, are the control thread's. */
struct zone_base_job {
	zone_t *z; /* NULL once settled */
	zone_version_t *v;
	char *path;
	char note[sizeof(((zone_t *)0)->base_note)];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool written;
	int rc;
};

/* Control thread: wait until the job's copy is on disk (or failed), then detach it. */
static void job_settle(zone_base_job_t *j)
{
	pthread_mutex_lock(&j->mu);
	while (!j->written)
		pthread_cond_wait(&j->cv, &j->mu);
	pthread_mutex_unlock(&j->mu);
	if (j->z) {
		base_written(j->z, j->rc);
		j->z->base_job = NULL;
		j->z = NULL;
		zone_version_unref(j->v);
		j->v = NULL;
	}
}

static void base_wait(zone_t *z)
{
	if (z->base_job)
		job_settle(z->base_job);
}

int zone_base_job_take(zone_t *z, zone_base_job_t **out)
{
	*out = NULL;
	if (!z->base_pending)
		return 0;
	base_wait(z); /* one writer of the copy at a time */
	zone_base_job_t *j = calloc(1, sizeof(*j));
	if (!j || !(j->path = strdup(z->base_path))) {
		free(j);
		return -ENOMEM;
	}
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	j->z = z;
	j->v = z->base_pending;
	z->base_pending = NULL;
	memcpy(j->note, z->base_note, sizeof(j->note));
	z->base_job = j;
	*out = j;
	return 0;
}

void zone_base_job_write(zone_base_job_t *j)
{
	int rc = zone_write_file_noted(j->v, j->path, j->note);
	pthread_mutex_lock(&j->mu);
	j->rc = rc;
	j->written = true;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

void zone_base_job_done(zone_base_job_t *j)
{
	job_settle(j);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j->path);
	free(j);
}

int zone_keep_base(zone_t *z)
{
	base_wait(z); /* logged by the job */
	zone_version_t *v = z->base_pending;
	if (!v)
		return 0;
	z->base_pending = NULL;
	int rc = zone_write_file_noted(v, z->base_path, z->base_note);
	base_written(z, rc);
	zone_version_unref(v);
	return rc;
}

/* The file's version with serial s in its SOA (nothing else changes), through the one build
 * call: a start whose state was lost must not serve the file's older serial. */
static int reserial(const zone_update_t *u, uint32_t s, zone_version_t **out)
{
	zone_rr_t from, to;
	uint8_t buf[DNS_SOA_MAX_LEN];
	zone_version_soa_rr(u->file_v, &from);
	to = from;
	memcpy(buf, from.rdata, from.rdlen);
	dns_soa_set_serial(buf, to.rdlen, s);
	to.rdata = buf;
	zone_changeset_t *cs = NULL;
	int rc = zone_changeset_new(&cs);
	if (rc == 0)
		rc = zone_changeset_set_soa(cs, &from, &to);
	if (rc == 0)
		rc = zone_changeset_apply(u->file_v, cs, u->z->bindings, out);
	zone_changeset_free(cs);
	return rc;
}

/* A zone with no served state: the file is the zone, as it is, unless a serial at or above
 * the file's was served before (the state was lost): then above that one. */
static int commit_first(zone_update_t *u, time_t now, uint32_t *serial)
{
	zone_t *z = u->z;
	if (!u->file_v)
		return -EINVAL;
	uint32_t fs = zone_version_serial(u->file_v);
	uint32_t floor = zone_serial_floor(z, fs);
	uint32_t s = floor == fs ? fs : zone_serial_next(floor, z->conf.policy, now);
	zone_version_t *v = NULL;
	int rc = s == fs ? 0 : reserial(u, s, &v);
	if (rc == 0)
		rc = zone_serial_record(z, s);
	if (rc != 0) {
		log_error("event=zone-serial-failed zone=%s serial=%u reason=%s", z->lname, s,
		          LOG_Q(sd_strerror(rc)));
		zone_version_unref(v);
		return rc;
	}
	if (s != fs)
		log_warning("event=zone-serial-raised zone=%s serial=%u file_serial=%u floor=%u "
		            "reason=\"the zone file's serial is not above the one served before\"",
		            z->lname, s, fs, floor);
	zone_limits_fit(z, u->file_v);
	publish(z, v ? v : zone_version_ref(u->file_v), NULL);
	z->snapshot_behind = true;
	*serial = s;
	u->as_is = true; /* the file is the zone */
	keep_file(u);
	return 0;
}

static int commit_change(zone_update_t *u, time_t now, uint32_t *serial)
{
	zone_t *z = u->z;
	uint32_t old = zone_version_serial(u->served);
	uint32_t floor = zone_serial_floor(z, old); /* never below a serial served before */
	uint32_t s =
	    zone_serial_choose(floor, u->hand_serial ? u->file_serial : floor, z->conf.policy, now);
	zone_changeset_t *cs = NULL;
	zone_version_t *nv = NULL;
	zone_diff_t *d = NULL;
	int rc = make_changeset(u, s, &cs);
	if (rc == 0)
		zone_changeset_set_origin(
		    cs, (int64_t)now, &(zone_source_t){.kind = u->src_kind, .text = u->src_text});
	if (rc == 0)
		rc = build(u, cs, &nv);
	if (rc == 0)
		zone_limits_fit(z, nv);
	/* the serial's record, then the journal, before publish (DESIGN.md): durable once
	 * these return; a record ahead of what is served (a crash in between) only skips */
	if (rc == 0)
		rc = zone_serial_record(z, s);
	if (rc == 0)
		rc = zone_journal_append(z->journal, cs);
	if (rc != 0) {
		char zn[DNAME_MAX * 4 + 1];
		log_error("event=zone-commit-failed zone=%s serial=%u from=%u reason=%s",
		          dname_to_str_nodot(z->apex, zn, sizeof(zn)), s, old,
		          LOG_Q(sd_strerror(rc)));
		zone_changeset_free(cs);
		zone_version_unref(nv);
		return rc;
	}
	char zn[DNAME_MAX * 4 + 1];
	log_info("event=zone-committed zone=%s serial=%u from=%u source=%s%s%s removed=%zu "
	         "added=%zu hidden=%zu unhidden=%zu",
	         dname_to_str_nodot(z->apex, zn, sizeof(zn)), s, old,
	         zone_source_kind_name(u->src_kind), u->src_text[0] ? " by=" : "",
	         u->src_text[0] ? LOG_Q(u->src_text) : "", zone_changeset_removed_count(cs),
	         zone_changeset_added_count(cs), zone_changeset_hide_count(cs),
	         zone_changeset_unhide_count(cs));
	/* the IXFR history holds what secondaries see (zone/hidden.h) */
	zone_changeset_t *vis = cs;
	if (zone_changeset_hide_count(cs) || zone_changeset_unhide_count(cs)) {
		if (zone_changeset_visible(cs, &vis) != 0)
			vis = NULL;
		zone_changeset_free(cs);
	}
	if (!vis || zone_diff_new(vis, &d) != 0) { /* takes vis in every case */
		d = NULL;
		zone_history_clear(z->history);
	}
	publish(z, nv, d);
	z->snapshot_behind = true;
	z->changes++;
	*serial = s;
	keep_file(u);
	return 0;
}

int zone_update_commit(zone_update_t *u, time_t now, uint32_t *serial)
{
	int rc = 0;
	uint32_t ss = u->served ? zone_version_serial(u->served) : 0;
	/* state lost since a higher serial was served: a new serial even with no change */
	bool behind = u->recovered && zone_serial_floor(u->z, ss) != ss;
	if (u->served)
		rc = view_delta(u);
	if (rc != 0) {
		zone_update_abort(u);
		return rc;
	}
	if (!u->served) {
		rc = commit_first(u, now, serial);
	} else if (u->rem.live || u->add.live || u->soa_set || u->hand_serial || behind ||
	           u->vhide.live || u->vunhide.live) {
		rc = commit_change(u, now, serial);
	} else { /* no effective change: no serial, nothing journaled */
		if (u->recovered && zone_serial_record(u->z, ss) != 0)
			log_warning("event=serial-unrecorded zone=%s serial=%u", u->z->lname, ss);
		if (u->recovered)
			publish(u->z, zone_version_ref(u->served), NULL);
		*serial = zone_version_serial(u->served);
		keep_file(u);
	}
	zone_update_abort(u);
	return rc;
}
