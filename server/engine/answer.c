/* answer.c — srv_answer(): request bytes to response bytes for an authoritative-only server
 * (RFC 1034 4.3.2 and its updates: 2181, 2308, 4592, 6604, 6672, 6891, 8482, 9471).
 *
 * One query runs through these steps; every buffer lives in the context, made once per
 * worker, so nothing allocates and nothing locks:
 *
 *   parse (query.c) ─▶ drop | NOTIMP | FORMERR | BADVERS
 *     ─▶ class: CH (identity) | IN ─▶ qtype: transfer/meta ─▶ zone (longest match; DS at a
 *        child apex goes to the parent) ─▶ walk (cut/DNAME, exact/wildcard, CNAME hops)
 *     ─▶ additional section (optional data, only if it fits) ─▶ TC if required data did not
 *        fit (UDP) ─▶ OPT ─▶ header counts and flags
 *
 * The negative answer's SOA, a referral's NS RRset and glue and a CNAME asked for by its
 * owner's name are copied pre-encoded (zone/version.h: zone_image_t) when nothing but the
 * question precedes them; they are the same bytes as writing their RRs one by one (put_image),
 * which is what happens in every other case.
 */
#include "server/engine/answer.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "contrib/base/err.h"
#include "contrib/base/stat.h"
#include "dns/msg.h"
#include "contrib/base/addr.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/soa.h"
#include "health/health.h"
#include "server/engine/query.h"
#include "steering/geo.h"
#include "steering/memo.h"
#include "zone/zone.h"

enum { SEC_AN, SEC_NS, SEC_AR, SEC_COUNT };

#define CHAIN_MAX       16  /* CNAME/DNAME hops after the first lookup */
#define ADDL_RRSETS_MAX 16  /* answer RRsets whose targets feed the additional section */
#define ADDL_NODES_MAX  64  /* target nodes already handled (no duplicates) */
#define OPT_RR_LEN      11  /* root owner, type, class, ttl, rdlength (no options) */
#define ECS_FIXED       8   /* option code, length, family, source, scope (RFC 7871 6) */
#define COOKIE_OPT_LEN  28  /* option code, length, client cookie 8, server cookie 16 */
#define UDP_MIN         512 /* RFC 1035 4.2.1; RFC 6891 6.2.5 for smaller EDNS sizes */
/* Compression targets per response: the question, a few RRset owners and their RDATA
 * names; past that names are written uncompressed (correct, just larger). */
#define COMP_ENTRIES 64

struct srv_answer_ctx {
	const srv_answer_conf_t *conf;
	srv_stats_t stats;

	/* Per-query state, reset by begin(). */
	const srv_query_t *q; /* the request being answered (own_q for srv_answer()) */
	srv_query_t own_q;
	dns_msg_t w;
	dns_comp_t comp;
	uint16_t count[SEC_COUNT];
	unsigned rcode; /* extended, 12 bits */
	bool aa, tc, tcp;
	size_t reserve;                /* kept back for the caller (srv_peer_t.reserve) */
	size_t limit;                  /* size limit of the response, OPT included */
	dns_msg_mark_t after_question; /* where TC cuts back to */
	const zone_version_t *v;
	const uint8_t *zone_apex;                /* the zone answered from (srv_answer_last) */
	const zone_node_t *cut;                  /* a referral's delegation (srv_answer_last) */
	uint64_t seq;                            /* srv_answer_query() calls */
	const zone_node_t *answer_node;          /* node whose data answered the (last) question */
	const uint8_t *names[CHAIN_MAX + 1];     /* lowercased name looked up at each hop: */
	uint8_t hop_names[CHAIN_MAX][DNAME_MAX]; /* the parser's qname (hop 0), then these */
	uint8_t name_len[CHAIN_MAX + 1];         /* their lengths */
	uint32_t hop_hash;                       /* dname_hash() of the current hop's name */
	const uint8_t *offs;                     /* label offsets of the name of this hop: */
	uint8_t hop_offs[DNAME_LABELS_MAX];      /* the question's (parsed) or these */
	unsigned labels;                         /* and its label count */
	uint8_t synth[CHAIN_MAX + 1][DNAME_MAX]; /* DNAME-synthesized targets, as written */
	const zone_rrset_t *addl[ADDL_RRSETS_MAX];
	unsigned naddl;
	const zone_node_t *done[ADDL_NODES_MAX];
	unsigned ndone;

	/* Steering (server/steer.h): set per request by the front door; the scratch arrays
	 * and the random source are the worker's own. */
	const steer_snap_t *snap;
	const health_t *health;
	unsigned worker;            /* the row of the snapshot's answer counters (counts.h) */
	bool servfail;              /* a steered answer's all-down mode says SERVFAIL */
	const zone_node_t *rr_node; /* the node whose A/AAAA RRset is being written */
	steer_rng_t rng;
	steer_memo_t *memo; /* the plans made (steering/memo.h): a decision per query draws */
	steer_cand_t cand[STEER_CAND_MAX];
	uint8_t pick[STEER_CAND_MAX];
	/* The reply's ECS SCOPE PREFIX-LENGTH: the longest scope of the geo decisions made
	 * from the query's ECS address (RFC 7871 7.2.1), 0 when none was. Reset by begin(). */
	uint8_t ecs_scope;
	bool no_images; /* tests: every RR written one by one (srv_answer_set_images) */
};

int srv_answer_ctx_new(const srv_answer_conf_t *conf, srv_answer_ctx_t **out)
{
	srv_answer_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return -ENOMEM;
	int ret = dns_comp_init(&ctx->comp, COMP_ENTRIES);
	if (ret == 0)
		ret = steer_memo_new(&ctx->memo);
	if (ret < 0) {
		dns_comp_fini(&ctx->comp);
		free(ctx);
		return ret;
	}
	ctx->conf = conf;
	uint64_t seed = 0;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)ctx;
	steer_rng_seed(&ctx->rng, seed);
	*out = ctx;
	return 0;
}

void srv_answer_set_steering(srv_answer_ctx_t *ctx, const steer_snap_t *snap,
                             const health_t *health)
{
	ctx->snap = snap;
	ctx->health = health;
}

void srv_answer_set_worker(srv_answer_ctx_t *ctx, unsigned worker)
{
	ctx->worker = worker;
}

void srv_answer_set_images(srv_answer_ctx_t *ctx, bool on)
{
	ctx->no_images = !on;
}

void srv_answer_ctx_free(srv_answer_ctx_t *ctx)
{
	if (ctx != NULL) {
		dns_comp_fini(&ctx->comp);
		steer_memo_free(ctx->memo);
	}
	free(ctx);
}

srv_stats_t *srv_answer_stats(srv_answer_ctx_t *ctx)
{
	return &ctx->stats;
}

/* --- writing sections --- */

/* Append n records of an RDATA run ([u16 rdlength][rdata] each) to section sec, or nothing:
 * the first n in order, or (idx not NULL) records idx[0..n) of a run of fixed-length len. */
static int put_run(srv_answer_ctx_t *ctx, int sec, const uint8_t *owner, size_t olen, uint16_t type,
                   const uint8_t *rdata, uint16_t n, const uint8_t *idx, uint8_t len, uint32_t ttl)
{
	/* the usual answer: the question's own records, nothing in them to compress */
	if (dns_msg_owner_is_question(&ctx->w, owner) && !dns_rdata_compressible(type)) {
		if (dns_msg_rrs_of_question(&ctx->w, type, DNS_CLASS_IN, ttl, rdata, n, idx, len) <
		    0)
			return SD_ESPACE;
		ctx->count[sec] = (uint16_t)(ctx->count[sec] + n);
		return 0;
	}
	dns_msg_mark_t m = dns_msg_mark(&ctx->w);
	size_t off = 0;
	for (uint16_t i = 0; i < n; i++) {
		if (idx != NULL)
			off = (size_t)idx[i] * (2u + len);
		uint16_t rdlen = be16_get(rdata + off);
		if (dns_msg_rr_len(&ctx->w, owner, olen, type, DNS_CLASS_IN, ttl, rdata + off + 2,
		                   rdlen) < 0) {
			dns_msg_rollback(&ctx->w, m);
			return SD_ESPACE;
		}
		off += 2u + rdlen;
	}
	ctx->count[sec] = (uint16_t)(ctx->count[sec] + n);
	return 0;
}

/* The policy of a steered RRset at node n: the snapshot's policy of that id, which names n's
 * owner — except for the moment of a config reload that renumbered the policies (the zone
 * version already carries the new ids, the snapshot is still the old one): then the policy
 * naming the owner (a scan, only in that window), or NULL. */
static const steer_policy_t *steer_policy_of(const steer_snap_t *snap, const zone_node_t *n,
                                             uint16_t id)
{
	const steer_policy_t *p = steer_table_policy(snap->table, id);
	if (n == NULL || (p != NULL && p->owner_len == n->owner_len &&
	                  dname_bytes_equal(p->owner, n->owner, n->owner_len)))
		return p;
	for (size_t i = 0; i < snap->table->count; i++)
		if (dname_equal(snap->table->policies[i].owner, n->owner))
			return &snap->table->policies[i];
	return NULL;
}

const char *srv_steer_outcome_name(srv_steer_outcome_t o)
{
	static const char *const names[SRV_STEER_OUTCOMES] = {
	    "first_pool", "later_pool", "all_down_all", "all_down_fallback", "all_down_servfail"};
	return o < SRV_STEER_OUTCOMES ? names[o] : "?";
}

/* The outcome a steered decision is counted as (srv_steer_outcome_t). */
static srv_steer_outcome_t steer_outcome(const steer_result_t *r)
{
	return r->outcome == STEER_SERVFAIL   ? SRV_STEER_ALL_DOWN_SERVFAIL
	       : r->outcome == STEER_FALLBACK ? SRV_STEER_ALL_DOWN_FALLBACK
	       : r->pool == 0xff              ? SRV_STEER_ALL_DOWN_ALL
	       : r->rank == 0                 ? SRV_STEER_FIRST_POOL
	                                      : SRV_STEER_LATER_POOL;
}

/* How the decisions drawn from plan e->plan are counted (in e: steering/memo.h), the
 * outcome and the counter of the snapshot's block (per policy and pool, all-down its own
 * slot; NULL: not counted): the outcome, pool, rank and degradation of a decision are its
 * plan's (steering/policy.h: only the draws are per query), so they are settled once. */
static void steer_count_of(const srv_answer_ctx_t *ctx, const steer_policy_t *p,
                           steer_memo_entry_t *e)
{
	const steer_result_t *r = &e->plan.res;
	srv_steer_outcome_t o = steer_outcome(r);
	e->outcome = o;
	e->count =
	    ctx->snap->counts == NULL
	        ? NULL
	        : steer_counts_at(ctx->snap->counts, ctx->worker, p->id,
	                          o <= SRV_STEER_LATER_POOL ? r->pool : steer_counts_all_down(p));
}

/* One steered decision, drawn from e's plan, into the worker's counters (steer_count_of). */
static void steer_count(srv_answer_ctx_t *ctx, const steer_memo_entry_t *e)
{
	sd_stat_inc(&ctx->stats.steered[e->outcome]);
	if (e->count != NULL)
		sd_stat_inc(e->count);
	if (e->plan.res.degraded)
		sd_stat_inc(&ctx->stats.steered_degraded);
}

/* The address that locates the client (RFC 7871 7.2.1: the ECS option "SHOULD" be used
 * when present): the query's ECS address when the policy allows it and SOURCE
 * PREFIX-LENGTH > 0, else the address the query came from (an IPv4-mapped IPv6 peer as
 * IPv4). A /0 source asks that no client address be used (RFC 7871 7.1.2), so the
 * resolver's own address locates, and the reply's scope stays 0 (7.2.1: "valid for all").
 * *ecs: the ECS address was used. false: no address (a test without a peer). */
static bool geo_client(const srv_answer_ctx_t *ctx, const steer_geo_conf_t *g, steer_addr_t *a,
                       bool *ecs)
{
	const srv_query_t *q = ctx->q;
	*ecs = g->ecs && q->has_ecs && q->ecs_source > 0;
	const uint8_t *b = q->ecs_addr;
	size_t len = *ecs ? (q->ecs_family == SRV_ECS_IPV4 ? 4 : 16) : sd_addr_bytes(q->client, &b);
	if (len == 0)
		return false;
	a->len = (uint8_t)len;
	if (len == 4) /* constant sizes: two moves, not a call */
		memcpy(a->bytes, b, 4);
	else
		memcpy(a->bytes, b, 16);
	return true;
}

/* The geo stage of policy p (map: its compiled rules, steering/geo.h): the pool list for
 * this client, which failover then walks; *scope: the scope of the decision when the ECS
 * address located the client, else 0 (RFC 7871 7.2.1: for the reply's ECS). */
static inline const steer_geo_list_t *steer_geo_list(const srv_answer_ctx_t *ctx,
                                                     const steer_policy_t *p,
                                                     const steer_geo_map_t *map, uint8_t *scope)
{
	steer_addr_t a;
	bool ecs = false;
	steer_geo_hit_t hit = {.list = &map->lists[0]};
	if (geo_client(ctx, p->geo, &a, &ecs))
		steer_geo_decide(map, &a, &hit);
	*scope = ecs ? hit.scope : 0;
	return hit.list;
}

/* The memo key of policy p's decision (p: a policy of the snapshot's table) over rs for this
 * client (steering/memo.h: rs is read from ctx->v), the geo stage's order included; *list:
 * that stage's list (NULL: none) and *scope its ECS scope (steer_geo_list; 0 without one). */
static inline void steer_key(const srv_answer_ctx_t *ctx, const steer_policy_t *p,
                             const zone_rrset_t *rs, steer_memo_key_t *k,
                             const steer_geo_list_t **list, uint8_t *scope)
{
	const steer_geo_map_t *map = p->geo ? steer_snap_geo_of(ctx->snap, p) : NULL;
	*scope = 0;
	*list = map ? steer_geo_list(ctx, p, map, scope) : NULL;
	*k = (steer_memo_key_t){.snap = ctx->snap->seq,
	                        .version = zone_version_id(ctx->v),
	                        .health = ctx->health ? health_generation(ctx->health) : 0,
	                        .rdata = rs->rdata,
	                        .order = *list ? (*list)->order : NULL,
	                        .policy = p->id};
}

/* The tally of p's candidates in rs, made now and kept under k. */
static const steer_tally_t *steer_tally_new(srv_answer_ctx_t *ctx, const steer_policy_t *p,
                                            const zone_rrset_t *rs, const steer_memo_key_t *k)
{
	steer_tally_t *t = steer_memo_put_tally(ctx->memo, k);
	steer_snap_cands(ctx->snap, p, ctx->health, rs->rdata, rs->count, ctx->cand);
	steer_tally(p, ctx->cand, rs->count, t);
	return t;
}

/* The plan of p over rs under key k (list: its geo stage's) from tally t, kept with its
 * counter. */
static const steer_memo_entry_t *steer_plan_keep(srv_answer_ctx_t *ctx, const steer_policy_t *p,
                                                 const zone_rrset_t *rs, const steer_memo_key_t *k,
                                                 const steer_geo_list_t *list,
                                                 const steer_tally_t *t)
{
	steer_memo_entry_t *made = steer_memo_put(ctx->memo, k);
	steer_plan_of_tally(p, k->order, list ? list->n : 0, t, rs->ttl, &made->plan);
	steer_count_of(ctx, p, made);
	return made;
}

/* Whether a decision can take rs: at most STEER_CAND_MAX records and, for an address RRset
 * (len: its records' length, 4 or 16; 0 for CNAME candidates), every record of that length,
 * as the writer's picks assume. */
static bool steerable(const zone_rrset_t *rs, uint8_t len)
{
	return rs->count <= STEER_CAND_MAX && (len == 0 || rs->rdata_len == rs->count * (2u + len));
}

/* steer_plan_for when the memo has no plan under the policy id's key (k, *list and *scope
 * made with *pp, the policy of that id, when not NULL). An RRset no decision can take
 * (steerable) gets none, so a plan found under its key says that it can. A tally kept under
 * that key says that the policy names the owner (tallies are kept as plans are:
 * steer_plan_for), so the plan is made from it; else the policy that names the owner
 * (steer_policy_of), keyed by its own id when it is another (a reload renumbered them), and
 * its plan, kept or made now. NULL: no policy (cname: none that takes CNAMEs). */
static SD_NOINLINE const steer_memo_entry_t *
steer_plan_miss(srv_answer_ctx_t *ctx, const zone_rrset_t *rs, uint8_t len,
                const steer_policy_t **pp, steer_memo_key_t *k, const steer_geo_list_t **list,
                uint8_t *scope)
{
	bool cname = len == 0;
	if (!steerable(rs, len))
		return NULL;
	const steer_tally_t *t = *pp != NULL ? steer_memo_tally(ctx->memo, k) : NULL;
	if (t != NULL)
		return steer_plan_keep(ctx, *pp, rs, k, *list, t);
	const steer_policy_t *named = steer_policy_of(ctx->snap, ctx->rr_node, rs->policy);
	if (named == NULL || (cname && !named->cname))
		return NULL;
	if (named != *pp) {
		*pp = named;
		steer_key(ctx, named, rs, k, list, scope);
		const steer_memo_entry_t *e = steer_memo_get(ctx->memo, k);
		if (e != NULL)
			return e;
		t = steer_memo_tally(ctx->memo, k);
	}
	if (t == NULL)
		t = steer_tally_new(ctx, named, rs, k);
	return steer_plan_keep(ctx, named, rs, k, *list, t);
}

/* The policy that steers rs at ctx->rr_node (*pp) and the memo's entry of its plan for this
 * query. The memo keeps plans and tallies under the RRset's policy id, and only those of a
 * policy that names the RRset's owner (steer_policy_of), so a plan found under that id is
 * the plan of the policy of that id: the name check is paid when a tally is made, not per
 * query (len as steerable's: 0 for CNAME candidates). NULL: no policy steers rs (or, for
 * CNAME candidates, none that takes them), or no decision can take it (steerable, checked
 * when a plan is made). Always inline (into steer_rrset): LTO may leave it out of line,
 * which costs ~30 instructions a steered answer. */
static inline __attribute__((always_inline)) const steer_memo_entry_t *
steer_plan_for(srv_answer_ctx_t *ctx, const zone_rrset_t *rs, uint8_t len,
               const steer_policy_t **pp)
{
	bool cname = len == 0;
	const steer_policy_t *p = steer_table_policy(ctx->snap->table, rs->policy);
	const steer_memo_entry_t *e = NULL;
	const steer_geo_list_t *list = NULL;
	steer_memo_key_t k;
	uint8_t scope = 0;
	if (p != NULL && (!cname || p->cname)) {
		steer_key(ctx, p, rs, &k, &list, &scope);
		e = steer_memo_get(ctx->memo, &k);
	} else {
		p = NULL;
	}
	*pp = p;
	if (e == NULL && (e = steer_plan_miss(ctx, rs, len, pp, &k, &list, &scope)) == NULL)
		return NULL;
	if (scope > ctx->ecs_scope)
		ctx->ecs_scope = scope;
	return e;
}

/* What steering did with an RRset. */
typedef enum {
	STEERED_NONE,     /* no policy steers it: answer it whole */
	STEERED_PICKED,   /* *r and ctx->pick say what to answer */
	STEERED_LEFT_OUT, /* SERVFAIL (noted for the answer section; elsewhere left out) */
} steered_t;

/* The decision over rs's records into *r and ctx->pick, counted, drawn from the plan
 * (steer_plan_for: len as there); only the weighted draws are per query. *pp: the
 * policy. Always inline (put_steered's and put_steered_cname's): out of line (as LTO may
 * leave it), its frame and the result passed back through memory cost ~30 instructions a
 * steered answer. */
static inline __attribute__((always_inline)) steered_t
steer_rrset(srv_answer_ctx_t *ctx, int sec, const zone_rrset_t *rs, uint8_t len,
            const steer_policy_t **pp, steer_result_t *r)
{
	const steer_memo_entry_t *e = steer_plan_for(ctx, rs, len, pp);
	if (e == NULL)
		return STEERED_NONE;
	steer_plan_draw(*pp, &e->plan, &ctx->rng, ctx->pick, r);
	steer_count(ctx, e);
	if (r->outcome != STEER_SERVFAIL)
		return STEERED_PICKED;
	ctx->servfail |= sec == SEC_AN;
	return STEERED_LEFT_OUT;
}

/* A steered A/AAAA RRset: the records its policy picks now (steering/policy.h), with the
 * policy's TTL; the all-down mode may answer the fallback addresses or SERVFAIL (in the
 * answer section; elsewhere the RRset is left out). An RRset the snapshot cannot steer (no
 * such policy: a version newer than the snapshot, or more records than a decision takes)
 * is answered whole. */
static int put_steered(srv_answer_ctx_t *ctx, int sec, const uint8_t *owner, size_t olen,
                       const zone_rrset_t *rs)
{
	uint8_t len = rs->type == DNS_TYPE_A ? 4 : 16;
	const steer_policy_t *p = NULL;
	steer_result_t r;
	steered_t s = steer_rrset(ctx, sec, rs, len, &p, &r);
	if (s == STEERED_NONE)
		return put_run(ctx, sec, owner, olen, rs->type, rs->rdata, rs->count, NULL, 0,
		               rs->ttl);
	if (s == STEERED_LEFT_OUT)
		return 0;
	if (r.outcome == STEER_FALLBACK) {
		uint16_t nf = 0;
		const uint8_t *fb = steer_policy_fallback(p, len, &nf);
		if (nf > 0)
			return put_run(ctx, sec, owner, olen, rs->type, fb, nf, NULL, 0, r.ttl);
		return put_run(ctx, sec, owner, olen, rs->type, rs->rdata, rs->count, NULL, 0,
		               r.ttl);
	}
	return put_run(ctx, sec, owner, olen, rs->type, rs->rdata, r.n, ctx->pick, len, r.ttl);
}

/* A steered CNAME RRset (one record per candidate target, zone/bindings.h): the one record
 * its policy picks now, with the policy's TTL; *next (when not NULL) its target. All-down
 * `all` picks one candidate at random; SERVFAIL as put_steered. Without a policy that takes
 * CNAME candidates, the first record (a name has one CNAME, RFC 2181 10.1). */
static int put_steered_cname(srv_answer_ctx_t *ctx, int sec, const uint8_t *owner, size_t olen,
                             const zone_rrset_t *rs, const uint8_t **next)
{
	const steer_policy_t *p = NULL;
	uint16_t k = 0;
	uint32_t ttl = rs->ttl;
	steer_result_t r;
	steered_t s = steer_rrset(ctx, sec, rs, 0, &p, &r);
	if (s == STEERED_LEFT_OUT)
		return 0;
	if (s == STEERED_PICKED) {
		k = r.pool != 0xff && r.n > 0 ? ctx->pick[0]
		                              : (uint16_t)steer_rng_below(&ctx->rng, rs->count);
		ttl = r.ttl;
	}
	size_t off = zone_rrset_rr_offset(rs, k);
	int ret = put_run(ctx, sec, owner, olen, rs->type, rs->rdata + off, 1, NULL, 0, ttl);
	if (ret == 0 && next != NULL)
		*next = rs->rdata + off + 2;
	return ret;
}

/* Append a whole RRset to section sec (sections are written in order), or nothing; a
 * steered address or CNAME RRset goes through its policy. */
static int put_rrset(srv_answer_ctx_t *ctx, int sec, const uint8_t *owner, size_t olen,
                     const zone_rrset_t *rs, uint32_t ttl)
{
	if (rs->policy != 0 && ctx->snap != NULL &&
	    (rs->type == DNS_TYPE_A || rs->type == DNS_TYPE_AAAA))
		return put_steered(ctx, sec, owner, olen, rs);
	if (rs->policy != 0 && ctx->snap != NULL && rs->type == DNS_TYPE_CNAME)
		return put_steered_cname(ctx, sec, owner, olen, rs, NULL);
	return put_run(ctx, sec, owner, olen, rs->type, rs->rdata, rs->count, NULL, 0, ttl);
}

/* Does a name of img have the question name's label just below the anchor (a node of
 * anchor_labels labels the question name ends with) as its own? Then the question would give it
 * a longer compression match than the image has (zone/version.h: zone_image_t). */
static bool image_clash(const srv_answer_ctx_t *ctx, const zone_image_t *img,
                        unsigned anchor_labels)
{
	unsigned labels = ctx->q->qname_labels;
	if (labels <= anchor_labels || img->clash_len == 0)
		return false;
	const uint8_t *l = ctx->names[0] + ctx->q->qname_offs[labels - anchor_labels - 1];
	const uint8_t *p = zone_image_clash(img), *end = p + img->clash_len;
	for (; p < end; p += 1u + *p) {
		if (*p == *l && memcmp(p + 1, l + 1, *l) == 0)
			return true;
	}
	return false;
}

/* Write a pre-encoded image (zone/version.h) in place of its RRs when it is what they would
 * give: nothing but the question written yet (so the question's name, which ends with the
 * anchor, is the only compression target, dns/msg.h) and no clash; it fits. What follows a
 * negative answer or a referral at the first hop is the OPT RR only (no additional data is
 * queued), which names nothing to compress; a CNAME image keeps its compression entries for
 * the chase. false: write the RRs one by one. */
static bool put_image(srv_answer_ctx_t *ctx, const zone_image_t *img, unsigned anchor_labels)
{
	if (img == NULL || ctx->no_images || ctx->w.pos != ctx->after_question.pos ||
	    image_clash(ctx, img, anchor_labels) || dns_msg_image(&ctx->w, &img->msg) < 0)
		return false;
	ctx->count[SEC_AN] = (uint16_t)(ctx->count[SEC_AN] + img->an);
	ctx->count[SEC_NS] = (uint16_t)(ctx->count[SEC_NS] + img->ns);
	ctx->count[SEC_AR] = (uint16_t)(ctx->count[SEC_AR] + img->ar);
	sd_stat_inc(&ctx->stats.images);
	return true;
}

/* NODATA and NXDOMAIN: the zone's SOA in authority with TTL min(SOA TTL, MINIMUM), the
 * negative caching TTL of RFC 2308 section 3. */
static int put_soa(srv_answer_ctx_t *ctx)
{
	const zone_node_t *apex = zone_version_apex(ctx->v);
	if (put_image(ctx, zone_version_soa_image(ctx->v), apex->labels))
		return 0;
	const zone_rrset_t *soa = zone_version_soa(ctx->v);
	if (soa == NULL || soa->count == 0)
		return 0;
	uint32_t minimum = dns_soa_minimum(soa->rdata + 2, be16_get(soa->rdata));
	uint32_t ttl = soa->ttl < minimum ? soa->ttl : minimum;
	return put_rrset(ctx, SEC_NS, apex->owner, apex->owner_len, soa, ttl);
}

static void queue_additional(srv_answer_ctx_t *ctx, const zone_rrset_t *rs)
{
	if (rs->targets != NULL && ctx->naddl < ADDL_RRSETS_MAX)
		ctx->addl[ctx->naddl++] = rs;
}

/* Answer qtype from node src (the exact match, or the wildcard with owner rewritten to the
 * name asked, RFC 4592 4.1). ANY (RFC 8482 4.1): over UDP only the first RRset in type order,
 * over TCP all of them. No data: NODATA with SOA. */
static int put_answer(srv_answer_ctx_t *ctx, const zone_node_t *src, const uint8_t *owner,
                      size_t olen, uint16_t qtype)
{
	ctx->answer_node = src;
	ctx->rr_node = src;
	if (qtype == DNS_TYPE_ANY) {
		if (src->rrset_count == 0)
			return put_soa(ctx);
		uint16_t n = ctx->tcp ? src->rrset_count : 1;
		for (uint16_t i = 0; i < n; i++) {
			const zone_rrset_t *rs = &src->rrsets[i];
			int ret = put_rrset(ctx, SEC_AN, owner, olen, rs, rs->ttl);
			if (ret < 0)
				return ret;
			queue_additional(ctx, rs);
		}
		return 0;
	}
	const zone_rrset_t *rs = zone_node_rrset(src, qtype);
	if (rs == NULL)
		return put_soa(ctx);
	int ret = put_rrset(ctx, SEC_AN, owner, olen, rs, rs->ttl);
	if (ret == 0)
		queue_additional(ctx, rs);
	return ret;
}

/* --- additional section (RFC 1034 4.3.2 step 6, RFC 2181 5.4.1) --- */

/* True when n's addresses were handled already; otherwise records n. When the table is full,
 * optional data stops (no risk of duplicates) but required glue still goes in: the targets
 * of one NS RRset are distinct, so the required pass cannot repeat itself. */
static bool node_done(srv_answer_ctx_t *ctx, const zone_node_t *n, bool required)
{
	for (unsigned i = 0; i < ctx->ndone; i++) {
		if (ctx->done[i] == n)
			return true;
	}
	if (ctx->ndone == ADDL_NODES_MAX)
		return !required;
	ctx->done[ctx->ndone++] = n;
	return false;
}

/* True when type's RRset at n is already in the answer section. */
static bool in_answer(const srv_answer_ctx_t *ctx, const zone_node_t *n, uint16_t type)
{
	if (n != ctx->answer_node)
		return false;
	uint16_t qtype = ctx->q->qtype;
	if (qtype == DNS_TYPE_ANY)
		return ctx->tcp || (n->rrset_count > 0 && n->rrsets[0].type == type);
	return qtype == type;
}

/* A and AAAA of n into additional. Required data (in-domain glue) that does not fit fails
 * the answer (TC); optional data is left out when it does not fit. */
static int put_addresses(srv_answer_ctx_t *ctx, const zone_node_t *n, bool required)
{
	static const uint16_t types[] = {DNS_TYPE_A, DNS_TYPE_AAAA};
	for (size_t i = 0; i < SD_ARRAY_LEN(types); i++) {
		const zone_rrset_t *rs = zone_node_rrset(n, types[i]);
		ctx->rr_node = n;
		if (rs == NULL || in_answer(ctx, n, types[i]))
			continue;
		if (put_rrset(ctx, SEC_AR, n->owner, n->owner_len, rs, rs->ttl) < 0 && required)
			return SD_ESPACE;
	}
	return 0;
}

static void put_additional(srv_answer_ctx_t *ctx)
{
	for (unsigned i = 0; i < ctx->naddl; i++) {
		const zone_rrset_t *rs = ctx->addl[i];
		for (uint16_t j = 0; j < rs->count; j++) {
			const zone_node_t *t = zone_rrset_target(ctx->v, rs, j);
			if (t != NULL && !node_done(ctx, t, false))
				(void)put_addresses(ctx, t, false);
		}
	}
}

/* Is node t's owner at or below node cut's (dname_is_subdomain of two zone owners, whose
 * lengths and label counts are known): t's leading labels skipped until cut's count is
 * left, the rest compared. */
static bool node_at_or_below(const zone_node_t *t, const zone_node_t *cut)
{
	if (t->labels < cut->labels || t->owner_len < cut->owner_len)
		return false;
	const uint8_t *p = t->owner;
	for (unsigned i = cut->labels; i < t->labels; i++)
		p += 1u + *p;
	size_t rest = t->owner_len - (size_t)(p - t->owner);
	return rest == cut->owner_len && dname_bytes_equal(p, cut->owner, rest);
}

/* Referral (RFC 1034 4.3.2 step 3b, RFC 9471): AA=0, the cut's NS RRset in authority, no SOA.
 * Glue for in-domain name servers (at or below the cut) is required: without it the referral
 * is useless, so it sets TC when it does not fit (RFC 9471 3). Sibling glue and addresses of
 * other in-zone targets follow when they fit (RFC 9471 3.2). */
static int put_referral(srv_answer_ctx_t *ctx, const zone_node_t *cut)
{
	if (put_image(ctx, zone_version_referral_image(ctx->v, cut), cut->labels)) {
		ctx->cut = cut;
		return 0;
	}
	const zone_rrset_t *ns = zone_node_rrset(cut, DNS_TYPE_NS);
	if (ns == NULL)
		return 0;
	ctx->cut = cut;
	int ret = put_rrset(ctx, SEC_NS, cut->owner, cut->owner_len, ns, ns->ttl);
	if (ret < 0 || ns->targets == NULL)
		return ret;
	for (int pass = 0; pass < 2; pass++) {
		for (uint16_t j = 0; j < ns->count; j++) {
			const zone_node_t *t = zone_rrset_target(ctx->v, ns, j);
			if (t == NULL)
				continue;
			bool in_domain = node_at_or_below(t, cut);
			if (in_domain != (pass == 0) || node_done(ctx, t, in_domain))
				continue;
			ret = put_addresses(ctx, t, in_domain);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

/* --- the walk --- */

/* The zone cut or DNAME that redirects a lookup ending at node, whichever is higher: the
 * highest cut at or above node, or a DNAME at a proper ancestor of the name asked (node
 * itself when it owns a DNAME and the name lies below it). NULL when neither applies. */
static const zone_node_t *redirect_of(const zone_version_t *v, const zone_node_t *node, bool exact)
{
	const zone_node_t *cut = zone_node_cut(v, node);
	const zone_node_t *dn = zone_node_dname(v, node);
	if (dn == NULL && !exact && (node->flags & ZONE_NODE_DNAME))
		dn = node;
	if (cut != NULL && dn != NULL)
		return dn->labels < cut->labels ? dn : cut;
	return cut != NULL ? cut : dn;
}

/* DNAME (RFC 6672 3.1): the DNAME RRset, then a CNAME synthesized with owner = the name asked
 * and TTL = the DNAME's TTL; *next is the new target. A target over 255 bytes is YXDOMAIN
 * (RFC 6672 2.2) with *next NULL. The synthesized RDATA is written uncompressed (only its
 * owner points back), as Knot does. */
static int put_dname(srv_answer_ctx_t *ctx, const zone_node_t *top, const uint8_t *owner,
                     size_t olen, unsigned hop, const uint8_t **next)
{
	const zone_rrset_t *d = zone_node_rrset(top, DNS_TYPE_DNAME);
	*next = NULL;
	if (d == NULL || d->count == 0)
		return 0;
	int ret = put_rrset(ctx, SEC_AN, top->owner, top->owner_len, d, d->ttl);
	if (ret < 0)
		return ret;
	size_t plen = olen - top->owner_len; /* the labels above the DNAME owner */
	const uint8_t *target = d->rdata + 2;
	size_t tlen = dname_len_bounded(target, be16_get(d->rdata));
	if (tlen == 0)
		return 0;
	if (plen + tlen > DNAME_MAX) {
		ctx->rcode = DNS_RCODE_YXDOMAIN;
		return 0;
	}
	uint8_t *s = ctx->synth[hop];
	memcpy(s, owner, plen);
	memcpy(s + plen, target, tlen);
	dns_msg_mark_t m = dns_msg_mark(&ctx->w);
	ret = dns_msg_rr_header(&ctx->w, owner, DNS_TYPE_CNAME, DNS_CLASS_IN, d->ttl,
	                        (uint16_t)(plen + tlen));
	if (ret == 0)
		ret = dns_msg_name(&ctx->w, s, false);
	if (ret < 0) {
		dns_msg_rollback(&ctx->w, m);
		return SD_ESPACE;
	}
	ctx->count[SEC_AN]++;
	*next = s;
	return 0;
}

/* Lowercase next into the hop's name slot, hashed (hop_hash): its length, 0 when it was asked
 * before (a loop). */
static size_t chain_next(srv_answer_ctx_t *ctx, unsigned hop, const uint8_t *next)
{
	uint8_t *n = ctx->hop_names[hop - 1];
	size_t len = dname_len_bounded(next, DNAME_MAX);
	if (len == 0)
		return 0;
	ctx->hop_hash = dname_copy_lower_hash(n, next, len);
	ctx->names[hop] = n;
	ctx->name_len[hop] = (uint8_t)len;
	for (unsigned i = 0; i < hop; i++) {
		if (ctx->name_len[i] == len && dname_bytes_equal(ctx->names[i], n, len))
			return 0;
	}
	return len;
}

/* One step of the walk for a name whose lookup did not redirect: the exact node or the
 * wildcard source of synthesis at the closest encloser (RFC 4592 3.3.1), else NXDOMAIN. A
 * CNAME there (asked type neither CNAME nor ANY) is written and *next set to its target. */
static int walk_node(srv_answer_ctx_t *ctx, const zone_node_t *node, bool exact,
                     const uint8_t *owner, size_t olen, uint16_t qtype, const uint8_t **next)
{
	*next = NULL;
	const zone_node_t *src = exact ? node : zone_node_wildcard(ctx->v, node);
	if (src == NULL) {
		ctx->rcode = DNS_RCODE_NXDOMAIN;
		return put_soa(ctx);
	}
	ctx->rcode = DNS_RCODE_NOERROR; /* RFC 6604: the last lookup's rcode */
	const zone_rrset_t *cname = NULL;
	if ((src->flags & ZONE_NODE_CNAME) && qtype != DNS_TYPE_CNAME && qtype != DNS_TYPE_ANY)
		cname = zone_node_rrset(src, DNS_TYPE_CNAME);
	if (cname == NULL || cname->count == 0)
		return put_answer(ctx, src, owner, olen, qtype);
	if (cname->policy != 0 && ctx->snap != NULL) {
		ctx->rr_node = src;
		return put_steered_cname(ctx, SEC_AN, owner, olen, cname, next);
	}
	/* the name asked is the owner: no label of it lies below the image's anchor */
	int ret = exact && put_image(ctx, zone_version_cname_image(ctx->v, src), src->labels)
	              ? 0
	              : put_rrset(ctx, SEC_AN, owner, olen, cname, cname->ttl);
	if (ret == 0)
		*next = cname->rdata + 2;
	return ret;
}

/* The lookup of RFC 1034 4.3.2 steps 3a-3c as a state machine over CNAME/DNAME hops. A chain
 * is followed only inside the same zone version, as Knot and NSD do: a target in another zone
 * ends the answer with the records so far, and a target below a zone cut ends it with that
 * referral; the resolver continues from there. It stops at a loop or after CHAIN_MAX hops. */
static int walk(srv_answer_ctx_t *ctx, const uint8_t *owner, size_t olen, uint16_t qtype)
{
	for (unsigned hop = 0;; hop++) {
		bool exact = false;
		size_t len = ctx->name_len[hop];
		if (hop > 0) { /* hop 0 was measured by the parser */
			ctx->labels = dname_label_offsets_len(ctx->names[hop], ctx->hop_offs, &len);
			ctx->offs = ctx->hop_offs;
		}
		/* hop 0's name found the zone: it lies at or below the apex (find_zone) */
		const zone_node_t *node =
		    hop == 0 ? zone_version_closest_in(ctx->v, ctx->names[0], len, ctx->offs,
		                                       ctx->labels, ctx->q->qname_hash, &exact)
		             : zone_version_closest_at(ctx->v, ctx->names[hop], len, ctx->offs,
		                                       ctx->labels, ctx->hop_hash, &exact);
		if (node == NULL)
			return 0;
		const zone_node_t *top = redirect_of(ctx->v, node, exact);
		const uint8_t *next = NULL;
		int ret;
		if (top != NULL && (top->flags & ZONE_NODE_DELEG)) {
			/* DS lives on the parent side of the cut (RFC 4035 3.1.4.1). */
			if (qtype == DNS_TYPE_DS && exact && node == top)
				return put_answer(ctx, node, owner, olen, qtype);
			/* A chain that enters a delegation ends in its referral: RFC 1034
			 * 4.3.2 step 3a restarts at step 1, and step 3b then copies the NS
			 * RRset to authority and the glue to additional (Knot does the same). AA
			 * stays set after a CNAME: it speaks of the name in the question (RFC 1035
			 * 4.1.1), for which we are authoritative. */
			if (hop == 0)
				ctx->aa = false;
			return put_referral(ctx, top);
		}
		if (top != NULL)
			ret = put_dname(ctx, top, owner, olen, hop, &next);
		else
			ret = walk_node(ctx, node, exact, owner, olen, qtype, &next);
		if (ret < 0 || next == NULL)
			return ret;
		if (hop == CHAIN_MAX || (olen = chain_next(ctx, hop + 1, next)) == 0)
			return 0;
		owner = next;
	}
}

/* --- classes and dispatch --- */

/* CH TXT id.server. / hostname.bind. (RFC 4892): conf->identity, TTL 0, AA. */
static void answer_chaos(srv_answer_ctx_t *ctx)
{
	static const uint8_t id_server[] = "\x02id\x06server";
	static const uint8_t hostname_bind[] = "\x08hostname\x04\x62ind";
	const srv_query_t *q = ctx->q;
	const uint8_t *name = ctx->names[0];
	bool known =
	    (q->qname_len == sizeof(id_server) && !memcmp(name, id_server, sizeof(id_server))) ||
	    (q->qname_len == sizeof(hostname_bind) &&
	     !memcmp(name, hostname_bind, sizeof(hostname_bind)));
	const char *id = ctx->conf->identity;
	if (!known || id == NULL || (q->qtype != DNS_TYPE_TXT && q->qtype != DNS_TYPE_ANY)) {
		ctx->rcode = DNS_RCODE_REFUSED;
		return;
	}
	ctx->aa = true;
	size_t len = strlen(id);
	size_t rdlen = len + (len + 254) / 255 + (len == 0);
	dns_msg_t *w = &ctx->w;
	int ret = rdlen <= UINT16_MAX ? 0 : SD_ESPACE;
	if (ret == 0)
		ret = dns_msg_rr_header(w, q->msg + DNS_HEADER_LEN, DNS_TYPE_TXT, DNS_CLASS_CH, 0,
		                        (uint16_t)rdlen);
	size_t i = 0;
	do { /* character-strings of at most 255 bytes (RFC 1035 3.3.14) */
		size_t chunk = len - i > 255 ? 255 : len - i;
		uint8_t l = (uint8_t)chunk;
		if (ret == 0)
			ret = dns_msg_put(w, &l, 1);
		if (ret == 0)
			ret = dns_msg_put(w, id + i, chunk);
		i += chunk;
	} while (ret == 0 && i < len);
	if (ret < 0) {
		ctx->tc = true;
		return;
	}
	ctx->count[SEC_AN] = 1;
}

/* QTYPE 0 is reserved (RFC 6895 3.1) and names nothing a zone can hold: NOTIMP, as Knot
 * answers (checked against knotd 3.x). The other meta-TYPEs (OPT, TKEY, TSIG) and the
 * obsolete MAILA/MAILB are looked up like any type, again as Knot does: no zone holds them, so
 * the answer is NODATA or NXDOMAIN with the SOA, which is truthful and cacheable (RFC 2308). */
static bool reserved_qtype(uint16_t qtype)
{
	return qtype == 0;
}

/* The zone to answer from: the longest match, except that DS at a zone's apex is answered by
 * the closest served ancestor zone, where the DS lives (RFC 4035 3.1.4.1). names[0] is
 * measured by the parser (its labels lie where the question name's do). */
static const zone_t *find_zone(srv_answer_ctx_t *ctx, const zone_set_t *zones, uint16_t qtype)
{
	const uint8_t *name = ctx->names[0];
	ctx->offs = ctx->q->qname_offs;
	ctx->labels = ctx->q->qname_labels;
	const zone_t *z = zone_set_find_at(zones, name, ctx->name_len[0], ctx->offs, ctx->labels);
	if (z == NULL || qtype != DNS_TYPE_DS || name[0] == 0 || !dname_equal(zone_apex(z), name))
		return z;
	const zone_t *parent = zone_set_find(zones, name + 1 + name[0]);
	return parent != NULL ? parent : z;
}

bool srv_answer_prefetch(const zone_set_t *zones, const uint8_t *msg, size_t len,
                         zone_prefetch_t *p)
{
	/* QR 0, OPCODE 0 (QUERY), QDCOUNT 1: what find_zone and walk will look up */
	if (len < DNS_HEADER_LEN + 5 || (msg[2] & 0xf8) != 0 || be16_get(msg + 4) != 1)
		return false;
	size_t qlen = dname_len_bounded(msg + DNS_HEADER_LEN, len - DNS_HEADER_LEN - 4);
	if (qlen == 0)
		return false;
	uint8_t name[DNAME_MAX], offs[DNAME_LABELS_MAX];
	uint32_t hash = dname_copy_lower_hash(name, msg + DNS_HEADER_LEN, qlen);
	unsigned labels = dname_label_offsets(name, offs);
	const zone_t *z = zone_set_find_at(zones, name, qlen, offs, labels);
	const zone_version_t *v = z != NULL ? zone_current(z) : NULL;
	if (v == NULL)
		return false;
	zone_prefetch_start(p, v, qlen, hash, be16_get(msg + DNS_HEADER_LEN + qlen));
	return true;
}

static void answer_internet(srv_answer_ctx_t *ctx, const zone_set_t *zones)
{
	uint16_t qtype = ctx->q->qtype;
	if (qtype == DNS_TYPE_AXFR || qtype == DNS_TYPE_IXFR) {
		ctx->rcode = DNS_RCODE_REFUSED; /* served by server/xfr (xfr_transfer), not here */
		return;
	}
	if (reserved_qtype(qtype)) {
		ctx->rcode = DNS_RCODE_NOTIMP;
		return;
	}
	const zone_t *z = zones != NULL ? find_zone(ctx, zones, qtype) : NULL;
	if (z == NULL) {
		ctx->rcode = DNS_RCODE_REFUSED;
		return;
	}
	ctx->zone_apex = zone_apex(z);
	ctx->v = zone_current(z);
	if (ctx->v == NULL) { /* configured but never loaded */
		ctx->rcode = DNS_RCODE_SERVFAIL;
		return;
	}
	ctx->aa = true;
	/* the owner written at hop 0 is the question as sent (case kept): the request's bytes */
	int ret = walk(ctx, ctx->q->msg + DNS_HEADER_LEN, ctx->q->qname_len, qtype);
	if (ctx->servfail) { /* a steered name whose policy answers SERVFAIL when all is down */
		dns_msg_rollback(&ctx->w, ctx->after_question);
		memset(ctx->count, 0, sizeof(ctx->count));
		ctx->rcode = DNS_RCODE_SERVFAIL;
		ctx->aa = false;
		return;
	}
	if (ret < 0) {
		ctx->tc = true;
		return;
	}
	put_additional(ctx);
}

static void dispatch(srv_answer_ctx_t *ctx, const zone_set_t *zones)
{
	const srv_query_t *q = ctx->q;
	if (q->opcode != 0) {
		ctx->rcode = DNS_RCODE_NOTIMP;
		return;
	}
	if (q->malformed || q->ancount != 0 || q->nscount != 0) {
		ctx->rcode = DNS_RCODE_FORMERR;
		return;
	}
	if (q->has_opt && q->opt_version > 0) {
		ctx->rcode = DNS_RCODE_BADVERS;
		sd_stat_inc(&ctx->stats.badvers);
		return;
	}
	if (q->cookie_badcookie) { /* RFC 7873 5.2.3: a server cookie is required */
		ctx->rcode = DNS_RCODE_BADCOOKIE;
		return;
	}
	if (!q->has_question) {       /* RFC 7873 5.4: only a server cookie asked for (QDCOUNT 0) */
		if (!q->cookie_reply) /* cookies off: QDCOUNT 0 is malformed (RFC 9619) */
			ctx->rcode = DNS_RCODE_FORMERR;
		return;
	}
	ctx->names[0] = q->qname; /* lowercased by the parser */
	ctx->name_len[0] = q->qname_len;
	/* QCLASS * (RFC 1035 3.2.5) matches any class; we hold only IN data, so it is answered
	 * from IN with IN records, as Knot does. */
	if (q->qclass == DNS_CLASS_IN || q->qclass == DNS_CLASS_ANY)
		answer_internet(ctx, zones);
	else if (q->qclass == DNS_CLASS_CH)
		answer_chaos(ctx);
	else
		ctx->rcode = DNS_RCODE_REFUSED;
}

/* --- the message --- */

/* Bytes of the ECS option the reply carries: the query's family, source prefix and address
 * echoed (RFC 7871 7.2.1), 0 when it had none. */
static size_t ecs_len(const srv_query_t *q)
{
	return q->has_ecs ? ECS_FIXED + (q->ecs_source + 7u) / 8u : 0;
}

/* Bytes of the COOKIE option the reply carries (RFC 7873 4): the client cookie and the
 * server cookie the front door chose (server/cookie.h), 0 when none. */
static size_t cookie_len(const srv_query_t *q)
{
	return q->has_cookie && q->cookie_reply ? COOKIE_OPT_LEN : 0;
}

/* Bytes of our OPT RR (0 without one): its size varies with the options it carries. */
static size_t opt_len(const srv_query_t *q)
{
	return q->has_opt ? OPT_RR_LEN + ecs_len(q) + cookie_len(q) : 0;
}

static size_t response_limit(const srv_answer_ctx_t *ctx)
{
	size_t lim;
	if (ctx->tcp) {
		lim = SRV_RESPONSE_MAX;
	} else if (!ctx->q->has_opt) {
		lim = UDP_MIN;
	} else {
		size_t ours = ctx->conf->udp_max_payload;
		size_t theirs = ctx->q->opt_payload;
		lim = theirs < ours ? theirs : ours;
		lim = lim < UDP_MIN ? UDP_MIN : lim;
	}
	/* room for what the caller appends (a TSIG RR); header, question and OPT always fit
	 * (with a giant key name the signed message may then be too large, and is dropped) */
	size_t floor =
	    DNS_HEADER_LEN + (ctx->q->has_question ? ctx->q->question_len : 0) + opt_len(ctx->q);
	return lim > floor + ctx->reserve ? lim - ctx->reserve : floor;
}

/* Reset the per-query state and write the header placeholder and the echoed question. */
static void begin(srv_answer_ctx_t *ctx, const uint8_t *req, uint8_t *resp)
{
	memset(ctx->count, 0, sizeof(ctx->count));
	ctx->rcode = DNS_RCODE_NOERROR;
	ctx->aa = ctx->tc = ctx->servfail = false;
	ctx->ecs_scope = 0;
	ctx->rr_node = NULL;
	ctx->v = NULL;
	ctx->zone_apex = NULL;
	ctx->cut = NULL;
	ctx->answer_node = NULL;
	ctx->naddl = ctx->ndone = 0;
	ctx->limit = response_limit(ctx);
	/* Room for our OPT is kept back so that it always fits. */
	dns_msg_init(&ctx->w, resp, ctx->limit - opt_len(ctx->q), &ctx->comp, 0);
	/* the limit always holds the header and the question (response_limit), and the
	 * parser accepted the question as one uncompressed name, type and class */
	int ret SD_UNUSED = ctx->q->has_question
	                        ? dns_msg_reply_question(&ctx->w, req, ctx->q->qname_len)
	                        : dns_msg_header(&ctx->w, 0, 0);
	assert(ret == 0);
	ctx->w.q_alias = req + DNS_HEADER_LEN; /* the question name where the request holds it */
	ctx->after_question = dns_msg_mark(&ctx->w);
}

/* TC (RFC 2181 9): header, question and OPT only; never part of an RRset. */
static void truncate_answer(srv_answer_ctx_t *ctx)
{
	dns_msg_rollback(&ctx->w, ctx->after_question);
	memset(ctx->count, 0, sizeof(ctx->count));
	sd_stat_inc(&ctx->stats.truncated);
}

/* ECS in the reply (RFC 7871 7.2.1): FAMILY, SOURCE PREFIX-LENGTH and ADDRESS as the query
 * sent them; SCOPE PREFIX-LENGTH the longest scope of the geo decisions the ECS address made
 * (the prefix of the database network that decided, which may be longer than the source,
 * 7.2.1), else 0, "valid for all": the answer does not depend on the client's address. A
 * non-zero SCOPE in the query (it "MUST be set to 0", 6) is not an error: it is ignored. */
static int put_ecs(srv_answer_ctx_t *ctx)
{
	const srv_query_t *q = ctx->q;
	size_t alen = (q->ecs_source + 7u) / 8u;
	uint8_t fixed[ECS_FIXED];
	be16_put(fixed, DNS_EDNS_ECS);
	be16_put(fixed + 2, (uint16_t)(4 + alen));
	be16_put(fixed + 4, q->ecs_family);
	fixed[6] = q->ecs_source;
	fixed[7] = ctx->ecs_scope;
	int ret = dns_msg_put(&ctx->w, fixed, sizeof(fixed));
	if (ret == 0 && alen > 0)
		ret = dns_msg_put(&ctx->w, q->ecs_addr, alen);
	return ret;
}

/* COOKIE in the reply (RFC 7873 5.2): the client cookie as sent, our server cookie. */
static int put_cookie(srv_answer_ctx_t *ctx)
{
	const srv_query_t *q = ctx->q;
	uint8_t fixed[4];
	be16_put(fixed, DNS_EDNS_COOKIE);
	be16_put(fixed + 2, COOKIE_OPT_LEN - 4);
	int ret = dns_msg_put(&ctx->w, fixed, sizeof(fixed));
	if (ret == 0)
		ret = dns_msg_put(&ctx->w, q->msg + q->cookie_at, 8);
	if (ret == 0)
		ret = dns_msg_put(&ctx->w, q->cookie_server, sizeof(q->cookie_server));
	return ret;
}

/* Our OPT (RFC 6891 6.1.2): payload size, extended rcode, version 0, DO echoed, ECS when the
 * query had a valid one, COOKIE when the front door set one. */
static void put_opt(srv_answer_ctx_t *ctx)
{
	ctx->w.lim = ctx->limit;
	uint32_t ttl = ((uint32_t)(ctx->rcode >> 4) << 24) | (ctx->q->opt_do ? 0x8000u : 0);
	static const uint8_t root = 0;
	int ret = dns_msg_rr_header(&ctx->w, &root, DNS_TYPE_OPT, ctx->conf->udp_max_payload, ttl,
	                            (uint16_t)(ecs_len(ctx->q) + cookie_len(ctx->q)));
	if (ret == 0 && ctx->q->has_ecs)
		ret = put_ecs(ctx);
	if (ret == 0 && cookie_len(ctx->q))
		ret = put_cookie(ctx);
	if (ret == 0)
		ctx->count[SEC_AR]++;
}

static size_t finish(srv_answer_ctx_t *ctx)
{
	const srv_query_t *q = ctx->q;
	if (ctx->tc)
		truncate_answer(ctx);
	if (q->has_opt)
		put_opt(ctx);
	uint16_t flags = DNS_FLAG_QR | (uint16_t)(q->opcode << 11) | (q->flags & DNS_FLAG_RD) |
	                 (q->flags & DNS_FLAG_CD) | (ctx->rcode & 0xf);
	if (ctx->aa)
		flags |= DNS_FLAG_AA;
	if (ctx->tc)
		flags |= DNS_FLAG_TC;
	uint8_t *h = ctx->w.buf;
	be16_put(h, q->id);
	be16_put(h + 2, flags);
	be16_put(h + 4, q->has_question ? 1 : 0);
	be16_put(h + 6, ctx->count[SEC_AN]);
	be16_put(h + 8, ctx->count[SEC_NS]);
	be16_put(h + 10, ctx->count[SEC_AR]);
	sd_stat_inc(&ctx->stats.rcode[ctx->rcode & 0xf]);
	return ctx->w.pos;
}

srv_qtype_class_t srv_qtype_class(uint16_t qtype)
{
	/* class + 1 by type (a table: a load, where the switch was a chain of compares); 0 is
	 * every other type */
	static const uint8_t by_type[256] = {
	    [DNS_TYPE_A] = SRV_QTYPE_A + 1,         [DNS_TYPE_AAAA] = SRV_QTYPE_AAAA + 1,
	    [DNS_TYPE_CNAME] = SRV_QTYPE_CNAME + 1, [DNS_TYPE_MX] = SRV_QTYPE_MX + 1,
	    [DNS_TYPE_TXT] = SRV_QTYPE_TXT + 1,     [DNS_TYPE_NS] = SRV_QTYPE_NS + 1,
	    [DNS_TYPE_SOA] = SRV_QTYPE_SOA + 1,     [DNS_TYPE_ANY] = SRV_QTYPE_ANY + 1};
	unsigned c = qtype < 256 ? by_type[qtype] : 0;
	return c != 0 ? (srv_qtype_class_t)(c - 1) : SRV_QTYPE_OTHER;
}

const char *srv_qtype_class_name(srv_qtype_class_t c)
{
	static const char *const names[SRV_QTYPE_CLASSES] = {"A",  "AAAA", "CNAME", "MX",   "TXT",
	                                                     "NS", "SOA",  "ANY",   "other"};
	return c < SRV_QTYPE_CLASSES ? names[c] : "other";
}

size_t srv_answer_query(srv_answer_ctx_t *ctx, const zone_set_t *zones, const srv_query_t *q,
                        uint8_t *resp, size_t reserve)
{
	srv_stats_t *st = &ctx->stats;
	sd_stat_inc(&st->queries);
	ctx->seq++;
	if (q->tcp)
		sd_stat_inc(&st->tcp);
	else
		sd_stat_inc(&st->udp);
	if (q->len < DNS_HEADER_LEN || (q->flags & DNS_FLAG_QR)) {
		sd_stat_inc(&st->dropped);
		/* what srv_answer_last() tells of a dropped request (begin() resets it otherwise) */
		ctx->rcode = DNS_RCODE_NOERROR;
		ctx->zone_apex = NULL;
		ctx->cut = NULL;
		memset(ctx->count, 0, sizeof(ctx->count));
		return 0;
	}
	if (q->has_opt)
		sd_stat_inc(&st->edns);
	if (q->has_question)
		sd_stat_inc(&st->qtype[srv_qtype_class(q->qtype)]);
	ctx->q = q;
	ctx->tcp = q->tcp;
	ctx->reserve = reserve;
	begin(ctx, q->msg, resp);
	dispatch(ctx, zones);
	size_t n = finish(ctx);
	ctx->q = NULL;
	return n;
}

void srv_answer_last(const srv_answer_ctx_t *ctx, srv_answer_info_t *out)
{
	*out = (srv_answer_info_t){.seq = ctx->seq,
	                           .rcode = ctx->rcode,
	                           .ancount = ctx->count[SEC_AN],
	                           .zone = ctx->zone_apex,
	                           .cut = ctx->cut ? ctx->cut->owner : NULL};
}

size_t srv_answer(srv_answer_ctx_t *ctx, const zone_set_t *zones, const uint8_t *req,
                  size_t req_len, uint8_t *resp, const srv_peer_t *peer)
{
	srv_query_t *q = &ctx->own_q;
	if (srv_query_parse(req, req_len, q) < 0)
		q->len = req_len; /* no header: counted and dropped */
	q->client = peer->addr;
	q->tcp = peer->tcp;
	return srv_answer_query(ctx, zones, q, resp, peer->reserve);
}
