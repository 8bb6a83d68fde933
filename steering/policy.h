/* policy.h — steering policies: the immutable policy table and the per-query decision.
 *
 * A policy is bound (in the config, steering/conf.h) to one owner name of a served zone. Its
 * candidates are the A/AAAA records at that name (or, for a `candidates: cname` policy, the
 * CNAME records there: one per target the policy lists, each with the address its target
 * is probed at; an answer then holds one CNAME); the policy gives each candidate address a
 * pool (the first pool whose explicit member list or prefixes match it, else the implicit
 * last pool "other") and a weight (the member's own, else its pool's). Policies compose as a
 * filter chain (DESIGN.md "Steering model"):
 *
 *   candidates ─▶ failover: the first pool, in order, with enough healthy members
 *              ─▶ weighted: `answers` members of that pool, random by weight, no replacement
 *              ─▶ no healthy member anywhere: the all-down mode (all | fallback | servfail)
 *
 * The table is built once per configuration and never changes (reference counted: the
 * published steering snapshot, steering/snap.h, keeps it alive). steer_decide() is a pure
 * function of the policy, the candidates' pool/weight/health words and a per-worker random
 * state: no allocation, no lock, no syscall, so the answer path may call it per query.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "contrib/base/rand.h"
#include "dns/name.h"

#define STEER_POOLS_MAX    32 /* configured pools per policy (+ the implicit "other") */
#define STEER_CAND_MAX     64 /* candidates of one RRset a decision considers */
#define STEER_ANSWERS_MAX  16 /* records per steered answer */
#define STEER_WEIGHT_MAX   1000000
#define STEER_FALLBACK_MAX 16 /* fallback addresses per family */

typedef enum {
	STEER_DOWN_ALL = 0,  /* answer every candidate (default) */
	STEER_DOWN_FALLBACK, /* answer the policy's fallback addresses of the asked family */
	STEER_DOWN_SERVFAIL, /* SERVFAIL */
} steer_all_down_t;

/* An IPv4 or IPv6 address in network byte order (family 4 or 6, the RDATA length). */
typedef struct steer_addr {
	uint8_t len; /* 4 or 16 */
	uint8_t bytes[16];
} steer_addr_t;

typedef struct steer_prefix {
	steer_addr_t addr; /* host bits zero */
	uint8_t bits;      /* 0..32 or 0..128 */
} steer_prefix_t;

typedef struct steer_member {
	steer_addr_t addr;         /* the candidate; for a CNAME candidate the address probed */
	uint32_t weight;           /* STEER_WEIGHT_POOL: the pool's */
	uint8_t target[DNAME_MAX]; /* CNAME candidates: the target (lowercased wire) */
} steer_member_t;

#define STEER_WEIGHT_POOL UINT32_MAX

typedef struct steer_pool {
	char *name;
	uint32_t weight;      /* members' default weight; default 1; 0 drains the pool */
	uint32_t min_healthy; /* members needed (a percentage of them when min_pct); default 1 */
	bool min_pct;
	bool implicit; /* the last pool, "other": candidates no configured pool matches */
	steer_member_t *members;
	size_t nmembers;
	steer_prefix_t *prefixes;
	size_t nprefixes;
	bool located; /* `location:` given (geo distance ordering) */
	double lat, lon;
} steer_pool_t;

typedef struct steer_policy {
	uint16_t id;              /* 1.. (the zone's binding id, zone/bindings.h) */
	char *name;               /* the owner as written */
	uint8_t owner[DNAME_MAX]; /* lowercased wire */
	uint8_t owner_len;        /* dname_len(owner) */
	uint8_t zone[DNAME_MAX];  /* apex of the zone it is bound in (lowercased wire) */
	char *where;              /* "file:line" of the entry */
	char *health;             /* the health template every candidate is probed with */
	steer_pool_t *pools;      /* configured pools in failover order, then "other" */
	size_t npools;
	bool cname;       /* candidates are CNAME targets (members name them) */
	uint16_t answers; /* records per answer, 1..STEER_ANSWERS_MAX; default 1 */
	steer_all_down_t all_down;
	/* fallback addresses as RDATA runs ([u16 rdlength][rdata] each), per family */
	uint8_t fallback4[STEER_FALLBACK_MAX * 6];
	uint16_t nfallback4;
	uint8_t fallback6[STEER_FALLBACK_MAX * 18];
	uint16_t nfallback6;
	uint32_t ttl_min, ttl_max; /* defaults 10 and 300 */
	/* The transfer view (server/steer.h): what AXFR/IXFR carry for the name. */
	bool xfr_all;         /* transfer-view: all (every candidate, always); default healthy */
	uint32_t xfr_hold_ms; /* transfer-hold-down: at most one view change per this long */
	/* The geo stage (steering/geo.h), NULL without `geo:`: the pool list failover walks. */
	struct steer_geo_conf *geo;
} steer_policy_t;

#define STEER_XFR_HOLD_DEFAULT_MS 30000u

typedef struct steer_table {
	unsigned refs;            /* atomic (__atomic builtins) */
	steer_policy_t *policies; /* policies[i].id == i + 1 */
	size_t count;
	/* The `geoip:` databases as opened with this configuration (references; geo policies
	 * name them by index, steer_geo_conf_t.db). */
	struct steer_geo_db **dbs;
	size_t ndbs;
} steer_table_t;

/* An empty table (refs = 1). */
int steer_table_new(steer_table_t **out) SD_NONNULL(1) SD_WUR;
steer_table_t *steer_table_ref(const steer_table_t *t) SD_NONNULL(1);
/* Drop a reference; NULL is fine. Any thread. */
void steer_table_unref(steer_table_t *t);
/* The policy with that id, or NULL. */
static inline const steer_policy_t *steer_table_policy(const steer_table_t *t, uint16_t id)
{
	return t && (unsigned)id - 1u < t->count ? &t->policies[id - 1] : NULL; /* id 0 wraps */
}

/* Parse "192.0.2.1" / "2001:db8::1" (0) or SD_EPARSE. */
int steer_addr_parse(const char *text, steer_addr_t *out) SD_NONNULL(1, 2) SD_WUR;
/* Parse "198.51.100.0/24" (a bare address is a host prefix); host bits must be zero. */
int steer_prefix_parse(const char *text, steer_prefix_t *out) SD_NONNULL(1, 2) SD_WUR;
/* The same, host bits cleared instead of refused (a client subnet: "192.0.2.77/24" is
 * 192.0.2.0/24, as a resolver sends it in ECS). */
int steer_subnet_parse(const char *text, steer_prefix_t *out) SD_NONNULL(1, 2) SD_WUR;
bool steer_prefix_match(const steer_prefix_t *p, const steer_addr_t *a) SD_NONNULL(1, 2);
/* Whether two prefixes share any address (one contains the other). */
bool steer_prefix_overlap(const steer_prefix_t *a, const steer_prefix_t *b) SD_NONNULL(1, 2);
/* Text form of an address into buf (INET6_ADDRSTRLEN is enough). */
const char *steer_addr_str(const steer_addr_t *a, char *buf, size_t size) SD_NONNULL(1, 2);

/* The pool (index into p->pools) and weight of a candidate address. Any thread. */
void steer_policy_classify(const steer_policy_t *p, const steer_addr_t *a, uint8_t *pool,
                           uint32_t *weight) SD_NONNULL(1, 2, 3, 4);

/* The pool, weight and member of a CNAME candidate's target (lowercased or not); *member
 * is NULL for a target no pool lists (pool "other"). Any thread. */
void steer_policy_classify_name(const steer_policy_t *p, const uint8_t *target, uint8_t *pool,
                                uint32_t *weight, const steer_member_t **member)
    SD_NONNULL(1, 2, 3, 4, 5);

/* ---- the decision --------------------------------------------------------------------- */

/* A per-worker random source (xorshift64*); never shared between threads. */
typedef struct steer_rng {
	uint64_t s;
} steer_rng_t;

/* Seed (any value; 0 is remapped). */
void steer_rng_seed(steer_rng_t *r, uint64_t seed) SD_NONNULL(1);
/* Uniform in [0, bound), bound >= 1. Inline: one or two per steered answer. */
static inline uint64_t steer_rng_below(steer_rng_t *r, uint64_t bound)
{
	/* Lemire's multiply-shift: the bias is below bound / 2^64 */
	return (uint64_t)(((unsigned __int128)sd_xorshift64s(&r->s) * bound) >> 64);
}

/* One record of the steered RRset, as the answer path sees it. */
typedef struct steer_cand {
	uint32_t health; /* the prober's state word (health/health.h) */
	uint32_t weight;
	uint8_t pool;
} steer_cand_t;

typedef enum {
	STEER_ANSWER,   /* the records idx[0..n) */
	STEER_FALLBACK, /* the policy's fallback addresses of the family */
	STEER_SERVFAIL,
} steer_outcome_t;

typedef struct steer_result {
	steer_outcome_t outcome;
	uint16_t n;    /* STEER_ANSWER: records chosen */
	uint8_t pool;  /* STEER_ANSWER from a pool: its index; 0xff for all-down "all" */
	uint8_t rank;  /* that pool's place in the order failover walked (0: the first) */
	bool degraded; /* some candidate with a weight is down (or everything is) */
	uint32_t ttl;  /* the TTL to answer with */
} steer_result_t;

/* Decide which of the candidates c[0..n) to answer (n <= STEER_CAND_MAX). idx receives the
 * chosen indices (room for n). rrset_ttl is the zone's TTL. The TTL is rrset_ttl clamped
 * to [ttl_min, ttl_max] when every weighted candidate is up, ttl_min otherwise (a degraded
 * answer is re-asked soon). order[0..norder) is the geo stage's pool list (indices into
 * p->pools): failover walks only those pools, in that order (each with its min-healthy;
 * else the first of them with any member up); when none has a member up the all-down mode
 * applies. order NULL: every pool in the configured order. Pure apart from rng; no
 * allocation; any thread. */
void steer_decide_list(const steer_policy_t *p, const uint8_t *order, size_t norder,
                       const steer_cand_t *c, size_t n, uint32_t rrset_ttl, steer_rng_t *rng,
                       uint8_t *idx, steer_result_t *res) SD_NONNULL(1, 7, 8, 9);

/* A decision without its random draws: all that steer_decide_list settles from the
 * candidates, the health words and the pool order. The same inputs always give the same
 * plan, so a caller may keep one (steering/memo.h) and draw from it query after query. */
typedef struct steer_plan {
	steer_result_t res; /* outcome, pool, rank, degraded, ttl; n: the records answered */
	uint8_t m;          /* the chosen pool's members up with a weight: el[0..m), weights w */
	uint8_t draws;      /* the weighted draws among them (the last one left needs none) */
	bool uniform;       /* every one of w[0..m) is the same: steer_plan_pick */
	uint64_t total;     /* their weights' sum */
	uint8_t el[STEER_CAND_MAX];
	uint32_t w[STEER_CAND_MAX];
} steer_plan_t;

/* A decision's candidates summed up: per pool, the members with a weight and how many of
 * them are up; the members up with a weight (eligible: bit i for c[i]); whether one with a
 * weight is down; each candidate's pool and weight. It depends on the candidates and the
 * health words, not on a geo stage's order: one tally serves every order (steering/memo.h). */
typedef struct steer_tally {
	uint8_t members[STEER_POOLS_MAX + 1], up[STEER_POOLS_MAX + 1];
	uint64_t eligible;
	uint64_t in_pool[STEER_POOLS_MAX + 1]; /* eligible, per pool */
	uint16_t n;                            /* candidates, at most STEER_CAND_MAX */
	bool degraded;
	uint8_t pool[STEER_CAND_MAX];
	uint32_t weight[STEER_CAND_MAX];
} steer_tally_t;

/* The tally of c[0..n) under p (n is cut to STEER_CAND_MAX). Pure. */
void steer_tally(const steer_policy_t *p, const steer_cand_t *c, size_t n, steer_tally_t *t)
    SD_NONNULL(1, 2, 4);
/* The plan from a tally (order, norder, rrset_ttl as steer_decide_list's). Pure. */
void steer_plan_of_tally(const steer_policy_t *p, const uint8_t *order, size_t norder,
                         const steer_tally_t *t, uint32_t rrset_ttl, steer_plan_t *pl)
    SD_NONNULL(1, 4, 6);
/* The plan of steer_decide_list's decision over c[0..n) (same arguments): its tally, then
 * the plan of that. Pure. */
void steer_plan_make(const steer_policy_t *p, const uint8_t *order, size_t norder,
                     const steer_cand_t *c, size_t n, uint32_t rrset_ttl, steer_plan_t *pl)
    SD_NONNULL(1, 7);
/* The weighted stage of a plan: its res.n members, random by weight without replacement: a
 * draw each but the last one left. Members taken are marked in a mask (m <= 64): each draw
 * walks the rest in index order, so the plan is read, never copied. */
static inline void steer_plan_pick(const steer_plan_t *pl, steer_rng_t *rng, uint8_t *idx)
{
	uint64_t total = pl->total, taken = 0;
	unsigned k = 0;
	if (pl->uniform && pl->draws > 0) {
		/* the first draw among m equal weights w: the search below finds member
		 * floor(floor(x * m * w / 2^64) / w) = floor(x * m / 2^64) for the same x from
		 * rng, so that is taken without the search */
		unsigned j = (unsigned)steer_rng_below(rng, pl->m);
		idx[k++] = pl->el[j];
		taken = 1ull << j;
		total -= pl->w[j];
	}
	for (; k < pl->draws; k++) {
		uint64_t r = steer_rng_below(rng, total);
		unsigned j;
		/* every weight is > 0 and r < total: a member is found */
		for (uint64_t left = ~taken;; left &= left - 1) {
			j = (unsigned)__builtin_ctzll(left);
			if (r < pl->w[j])
				break;
			r -= pl->w[j];
		}
		idx[k] = pl->el[j];
		taken |= 1ull << j;
		total -= pl->w[j];
	}
	if (k < pl->res.n) /* the last one left: no draw */
		idx[k] = pl->el[__builtin_ctzll(~taken)];
}

/* The decision from a plan: the weighted draws (rng), idx and *res as steer_decide_list
 * gives them; the same rng state gives the same records. Inline: once per steered answer. */
static inline void steer_plan_draw(const steer_policy_t *p, const steer_plan_t *pl,
                                   steer_rng_t *rng, uint8_t *idx, steer_result_t *res)
{
	(void)p;
	*res = pl->res;
	if (res->outcome != STEER_ANSWER)
		return;
	if (res->pool != 0xff) {
		steer_plan_pick(pl, rng, idx);
		return;
	}
	for (uint16_t i = 0; i < res->n; i++) /* all-down "all": every record */
		idx[i] = (uint8_t)i;
}

/* The same without a geo stage: every pool in the configured order. */
static inline void steer_decide(const steer_policy_t *p, const steer_cand_t *c, size_t n,
                                uint32_t rrset_ttl, steer_rng_t *rng, uint8_t *idx,
                                steer_result_t *res)
{
	steer_decide_list(p, NULL, 0, c, n, rrset_ttl, rng, idx, res);
}

/* The fallback RDATA run of the family (rdata length 4 or 16) and its count. */
const uint8_t *steer_policy_fallback(const steer_policy_t *p, uint8_t len, uint16_t *count)
    SD_NONNULL(1, 3);

const char *steer_all_down_name(steer_all_down_t m);
