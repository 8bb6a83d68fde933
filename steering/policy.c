/* policy.c — the policy table, address classification and the decision (see policy.h). */
#include "steering/policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/err.h"
#include "contrib/base/rand.h"
#include "health/health.h"
#include "steering/geo.h"

int steer_table_new(steer_table_t **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->refs = 1;
	return 0;
}

steer_table_t *steer_table_ref(const steer_table_t *t)
{
	steer_table_t *w = (steer_table_t *)t;
	__atomic_add_fetch(&w->refs, 1, __ATOMIC_RELAXED);
	return w;
}

static void policy_fini(steer_policy_t *p)
{
	for (size_t i = 0; i < p->npools; i++) {
		free(p->pools[i].name);
		free(p->pools[i].members);
		free(p->pools[i].prefixes);
	}
	free(p->pools);
	free(p->name);
	free(p->where);
	free(p->health);
	steer_geo_conf_free(p->geo);
}

void steer_table_unref(steer_table_t *t)
{
	if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < t->count; i++)
		policy_fini(&t->policies[i]);
	for (size_t i = 0; i < t->ndbs; i++)
		steer_geo_db_unref(t->dbs[i]);
	free(t->dbs);
	free(t->policies);
	free(t);
}

/* ---- addresses ------------------------------------------------------------------------ */

int steer_addr_parse(const char *text, steer_addr_t *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->bytes) == 1) {
		out->len = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, out->bytes) == 1) {
		out->len = 16;
		return 0;
	}
	return SD_EPARSE;
}

static int prefix_parse(const char *text, bool clear_host, steer_prefix_t *out)
{
	char buf[64];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	if (alen >= sizeof(buf))
		return SD_EPARSE;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (steer_addr_parse(buf, &out->addr) < 0)
		return SD_EPARSE;
	unsigned max = out->addr.len * 8u, bits = max;
	if (slash) {
		char *end = NULL;
		unsigned long v = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end || v > max)
			return SD_EPARSE;
		bits = (unsigned)v;
	}
	out->bits = (uint8_t)bits;
	for (unsigned i = bits; i < max; i++) { /* host bits must be zero, or are cleared */
		uint8_t bit = (uint8_t)(0x80 >> (i % 8));
		if (out->addr.bytes[i / 8] & bit && !clear_host)
			return SD_EPARSE;
		out->addr.bytes[i / 8] &= (uint8_t)~bit;
	}
	return 0;
}

int steer_prefix_parse(const char *text, steer_prefix_t *out)
{
	return prefix_parse(text, false, out);
}

int steer_subnet_parse(const char *text, steer_prefix_t *out)
{
	return prefix_parse(text, true, out);
}

/* The first bits of a and b agree. */
static bool same_bits(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return ((a[full] ^ b[full]) & mask) == 0;
}

bool steer_prefix_match(const steer_prefix_t *p, const steer_addr_t *a)
{
	if (p->addr.len != a->len)
		return false;
	return same_bits(p->addr.bytes, a->bytes, p->bits);
}

bool steer_prefix_overlap(const steer_prefix_t *a, const steer_prefix_t *b)
{
	if (a->addr.len != b->addr.len)
		return false;
	unsigned bits = a->bits < b->bits ? a->bits : b->bits;
	return same_bits(a->addr.bytes, b->addr.bytes, bits);
}

const char *steer_addr_str(const steer_addr_t *a, char *buf, size_t size)
{
	if (!inet_ntop(a->len == 4 ? AF_INET : AF_INET6, a->bytes, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

static bool pool_has(const steer_pool_t *pl, const steer_addr_t *a, uint32_t *weight)
{
	for (size_t i = 0; i < pl->nmembers; i++) {
		const steer_member_t *m = &pl->members[i];
		if (m->addr.len == a->len && memcmp(m->addr.bytes, a->bytes, a->len) == 0) {
			*weight = m->weight == STEER_WEIGHT_POOL ? pl->weight : m->weight;
			return true;
		}
	}
	for (size_t i = 0; i < pl->nprefixes; i++) {
		if (steer_prefix_match(&pl->prefixes[i], a)) {
			*weight = pl->weight;
			return true;
		}
	}
	return false;
}

void steer_policy_classify(const steer_policy_t *p, const steer_addr_t *a, uint8_t *pool,
                           uint32_t *weight)
{
	for (size_t i = 0; i + 1 < p->npools; i++) {
		if (pool_has(&p->pools[i], a, weight)) {
			*pool = (uint8_t)i;
			return;
		}
	}
	*pool = (uint8_t)(p->npools - 1); /* "other" */
	*weight = p->pools[p->npools - 1].weight;
}

void steer_policy_classify_name(const steer_policy_t *p, const uint8_t *target, uint8_t *pool,
                                uint32_t *weight, const steer_member_t **member)
{
	for (size_t i = 0; i + 1 < p->npools; i++) {
		const steer_pool_t *pl = &p->pools[i];
		for (size_t k = 0; k < pl->nmembers; k++) {
			const steer_member_t *m = &pl->members[k];
			if (!dname_equal_ci(m->target, target))
				continue;
			*pool = (uint8_t)i;
			*weight = m->weight == STEER_WEIGHT_POOL ? pl->weight : m->weight;
			*member = m;
			return;
		}
	}
	*pool = (uint8_t)(p->npools - 1);
	*weight = p->pools[p->npools - 1].weight;
	*member = NULL;
}

const uint8_t *steer_policy_fallback(const steer_policy_t *p, uint8_t len, uint16_t *count)
{
	*count = len == 4 ? p->nfallback4 : p->nfallback6;
	return len == 4 ? p->fallback4 : p->fallback6;
}

const char *steer_all_down_name(steer_all_down_t m)
{
	switch (m) {
	case STEER_DOWN_FALLBACK:
		return "fallback";
	case STEER_DOWN_SERVFAIL:
		return "servfail";
	default:
		return "all";
	}
}

/* ---- random --------------------------------------------------------------------------- */

void steer_rng_seed(steer_rng_t *r, uint64_t seed)
{
	/* splitmix64 spreads a small or structured seed over the whole state */
	uint64_t z = seed + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	r->s = z ? z : 0x2545f4914f6cdd1dull;
}

/* ---- the decision --------------------------------------------------------------------- */

static bool cand_up(const steer_cand_t *c)
{
	return !health_state_is_down(c->health);
}

_Static_assert(STEER_CAND_MAX <= 64, "a decision's eligible members are a 64-bit mask");

void steer_tally(const steer_policy_t *p, const steer_cand_t *c, size_t n, steer_tally_t *t)
{
	if (n > STEER_CAND_MAX)
		n = STEER_CAND_MAX;
	/* fixed size: a few vector stores, where a loop over npools became a call to memset */
	memset(t->members, 0, sizeof(t->members));
	memset(t->up, 0, sizeof(t->up));
	memset(t->in_pool, 0, sizeof(t->in_pool));
	bool degraded = false;
	uint64_t el = 0;
	for (size_t i = 0; i < n; i++) {
		t->pool[i] = c[i].pool;
		t->weight[i] = c[i].weight;
		if (c[i].weight == 0 || c[i].pool >= p->npools)
			continue;
		bool u = cand_up(&c[i]);
		t->members[c[i].pool]++;
		t->up[c[i].pool] += u;
		t->in_pool[c[i].pool] |= (uint64_t)u << i;
		el |= (uint64_t)u << i;
		degraded |= !u;
	}
	t->eligible = el;
	t->degraded = degraded;
	t->n = (uint16_t)n;
}

static bool pool_qualifies(const steer_pool_t *pl, unsigned members, unsigned up)
{
	if (members == 0 || up == 0)
		return false;
	unsigned need = pl->min_healthy;
	if (pl->min_pct) /* ceil(members * pct / 100) */
		need = (unsigned)(((uint64_t)members * pl->min_healthy + 99) / 100);
	return up >= (need ? need : 1);
}

/* The failover stage: the first pool meeting its min-healthy; else the first pool with any
 * member up (a degraded pool beats the all-down mode); -1 when nothing is up. *rank: the
 * pool's place in the walk. */
static int pick_pool(const steer_policy_t *p, const uint8_t *members, const uint8_t *up,
                     uint8_t *rank)
{
	int any = -1;
	for (size_t i = 0; i < p->npools; i++) {
		if (pool_qualifies(&p->pools[i], members[i], up[i])) {
			*rank = (uint8_t)i;
			return (int)i;
		}
		if (any < 0 && up[i] > 0)
			any = (int)i;
	}
	*rank = any < 0 ? 0 : (uint8_t)any;
	return any;
}

/* The same over the geo stage's list: only the pools it names, in its order. */
static int pick_pool_list(const steer_policy_t *p, const uint8_t *order, size_t norder,
                          const uint8_t *members, const uint8_t *up, uint8_t *rank)
{
	int any = -1;
	for (size_t k = 0; k < norder; k++) {
		uint8_t i = order[k];
		if (i >= p->npools)
			continue;
		if (pool_qualifies(&p->pools[i], members[i], up[i])) {
			*rank = (uint8_t)k;
			return i;
		}
		if (any < 0 && up[i] > 0) {
			any = i;
			*rank = (uint8_t)k;
		}
	}
	return any;
}

/* The members of pool in eligible (up, with a weight), in index order, with their weights:
 * what the weighted stage draws from, and how: up to `answers` of them, the last one left
 * without a draw (steer_plan_draw). */
static void plan_members(const steer_policy_t *p, const steer_tally_t *t, uint8_t pool,
                         steer_plan_t *pl)
{
	uint8_t m = 0;
	uint64_t total = 0;
	bool uniform = true;
	for (uint64_t in = t->in_pool[pool]; in; in &= in - 1) {
		unsigned i = (unsigned)__builtin_ctzll(in);
		pl->el[m] = (uint8_t)i;
		pl->w[m++] = t->weight[i];
		total += t->weight[i];
		uniform &= t->weight[i] == pl->w[0];
	}
	pl->m = m;
	pl->total = total;
	pl->uniform = uniform;
	pl->res.n = m < p->answers ? m : p->answers;
	pl->draws = (uint8_t)(m > p->answers ? p->answers : m ? m - 1 : 0);
}

static uint32_t clamp_ttl(const steer_policy_t *p, uint32_t ttl)
{
	if (ttl < p->ttl_min)
		return p->ttl_min;
	return ttl > p->ttl_max ? p->ttl_max : ttl;
}

void steer_plan_of_tally(const steer_policy_t *p, const uint8_t *order, size_t norder,
                         const steer_tally_t *t, uint32_t rrset_ttl, steer_plan_t *pl)
{
	steer_result_t *res = &pl->res;
	*res = (steer_result_t){.outcome = STEER_ANSWER, .pool = 0xff, .degraded = t->degraded};
	pl->m = pl->draws = 0;
	pl->uniform = false;
	int pool = order ? pick_pool_list(p, order, norder, t->members, t->up, &res->rank)
	                 : pick_pool(p, t->members, t->up, &res->rank);
	if (pool >= 0) {
		res->pool = (uint8_t)pool;
		plan_members(p, t, (uint8_t)pool, pl);
	} else if (p->all_down == STEER_DOWN_SERVFAIL) {
		res->outcome = STEER_SERVFAIL;
	} else if (p->all_down == STEER_DOWN_FALLBACK) {
		res->outcome = STEER_FALLBACK;
	} else {
		res->n = t->n;
	}
	res->degraded |= pool < 0;
	res->ttl = res->degraded ? p->ttl_min : clamp_ttl(p, rrset_ttl);
}

void steer_plan_make(const steer_policy_t *p, const uint8_t *order, size_t norder,
                     const steer_cand_t *c, size_t n, uint32_t rrset_ttl, steer_plan_t *pl)
{
	steer_tally_t t;
	steer_tally(p, c, n, &t);
	steer_plan_of_tally(p, order, norder, &t, rrset_ttl, pl);
}

void steer_decide_list(const steer_policy_t *p, const uint8_t *order, size_t norder,
                       const steer_cand_t *c, size_t n, uint32_t rrset_ttl, steer_rng_t *rng,
                       uint8_t *idx, steer_result_t *res)
{
	steer_plan_t pl;
	steer_plan_make(p, order, norder, c, n, rrset_ttl, &pl);
	steer_plan_draw(p, &pl, rng, idx, res);
}
