/* steer.c — steering glue on the control thread (see steer.h). */
#include "server/steer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/escape.h"
#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "contrib/base/vec.h"
#include "dns/proto.h"

#define NAME_STR 1025 /* a name in presentation form, every byte escaped as \\DDD */

/* A prober target steerdns made for a candidate. */
typedef struct starget {
	char *name; /* "OWNER/ADDRESS" */
	char *tpl;
	char *pool;        /* "OWNER/POOL" */
	steer_addr_t addr; /* probed */
	uint32_t id;
	bool live; /* named by the sync in progress */
} starget_t;

struct srv_steer {
	steer_pub_t pub;
	steer_table_t *table;
	health_t *health;
	/* The table of the last sync with the prober (a reference; NULL before the first): a
	 * candidate that appears under a policy it had starts down (answered once it passed
	 * its checks); the candidates of the first sync and of a policy new in the config
	 * follow the template's initial state, as the name's records were answered before. */
	steer_table_t *synced;
	starget_t *targets; /* [0, nsorted) sorted by name at the start of a sync, then new ones */
	size_t ntargets, cap, nsorted;
	steer_rng_t rng; /* for the report's "answer now" */
};

int srv_steer_new(srv_steer_t **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	steer_rng_seed(&(*out)->rng, (uint64_t)(uintptr_t)*out);
	return 0;
}

static void target_fini(starget_t *t)
{
	free(t->name);
	free(t->tpl);
	free(t->pool);
}

void srv_steer_free(srv_steer_t *st)
{
	if (!st)
		return;
	steer_pub_swap(&st->pub, NULL);
	for (size_t i = 0; i < st->ntargets; i++)
		target_fini(&st->targets[i]);
	free(st->targets);
	steer_table_unref(st->table);
	steer_table_unref(st->synced);
	free(st);
}

const steer_pub_t *srv_steer_pub(const srv_steer_t *st)
{
	return &st->pub;
}

void srv_steer_configure(srv_steer_t *st, const steer_table_t *table)
{
	steer_table_t *t = table ? steer_table_ref(table) : NULL;
	steer_table_unref(st->table);
	st->table = t;
}

void srv_steer_set_health(srv_steer_t *st, health_t *h)
{
	st->health = h;
}

int srv_steer_bindings(const steer_table_t *table, const uint8_t *apex, zone_bindings_t **out)
{
	*out = NULL;
	size_t n = 0;
	for (size_t i = 0; table && i < table->count; i++)
		n += dname_equal(table->policies[i].zone, apex);
	if (n == 0)
		return 0;
	zone_binding_t *list = calloc(n, sizeof(*list));
	if (!list)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < table->count; i++) {
		const steer_policy_t *p = &table->policies[i];
		if (!dname_equal(p->zone, apex))
			continue;
		memcpy(list[k].owner, p->owner, dname_len(p->owner));
		list[k].flags = p->cname ? ZONE_BINDING_CNAME : 0;
		list[k++].policy = p->id;
	}
	int ret = zone_bindings_new(list, n, out);
	free(list);
	return ret;
}

/* ---- targets ---- */

/* The owner without its final dot, as target and pool names use it. */
static void owner_str(const steer_policy_t *p, char *buf, size_t size)
{
	dname_to_str(p->owner, buf, size);
	size_t n = strlen(buf);
	if (n > 1 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
}

static int target_cmp(const void *a, const void *b)
{
	return strcmp(((const starget_t *)a)->name, ((const starget_t *)b)->name);
}

/* By name: a binary search of the sorted part, then the few made in this sync. A target
 * replaced in this sync (id STEER_TARGET_NONE) is not found. */
static starget_t *target_find(srv_steer_t *st, const char *name)
{
	starget_t key = {.name = (char *)name};
	starget_t *t =
	    st->nsorted ? bsearch(&key, st->targets, st->nsorted, sizeof(key), target_cmp) : NULL;
	if (t && t->id != STEER_TARGET_NONE)
		return t;
	for (size_t i = st->nsorted; i < st->ntargets; i++)
		if (strcmp(st->targets[i].name, name) == 0)
			return &st->targets[i];
	return NULL;
}

static void target_drop(srv_steer_t *st, starget_t *t)
{
	int ret = t->id == STEER_TARGET_NONE ? 0 : health_target_remove(st->health, t->id);
	if (ret < 0 && ret != SD_ENOTFOUND)
		log_warning("steering: removing target %s: %s", t->name, sd_strerror(ret));
	target_fini(t);
	*t = st->targets[--st->ntargets];
}

/* A new prober target for a candidate; down: it starts down whatever its template says. */
static int target_make(srv_steer_t *st, const char *name, const steer_addr_t *a, const char *tpl,
                       const char *pool, bool down, uint32_t *id)
{
	struct sockaddr_storage ss = {0};
	if (a->len == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->bytes, 4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->bytes, 16);
	}
	health_add_opts_t opts = {.pool = pool, .initial_down = down};
	int ret =
	    health_target_add_opts(st->health, name, (const struct sockaddr *)&ss, tpl, &opts, id);
	if (ret == SD_EEXIST) /* a target of that name exists (ours from an older run) */
		ret = 0;
	if (ret < 0)
		return ret;
	ret = sd_vec_reserve(&st->targets, &st->cap, st->ntargets + 1, sizeof(*st->targets));
	starget_t *t = ret == 0 ? &st->targets[st->ntargets] : NULL;
	if (t) {
		*t = (starget_t){.name = strdup(name),
		                 .tpl = strdup(tpl),
		                 .pool = strdup(pool),
		                 .addr = *a,
		                 .id = *id,
		                 .live = true};
		if (!t->name || !t->tpl || !t->pool) {
			target_fini(t);
			ret = -ENOMEM;
		}
	}
	if (ret < 0) {
		int rm SD_UNUSED = health_target_remove(st->health, *id);
		return ret;
	}
	st->ntargets++;
	if (down)
		log_info("steering: new candidate %s probed with template %s (answered once up)",
		         name, tpl);
	return 0;
}

/* Whether the last sync had a policy at p's owner (see srv_steer.synced). */
static bool policy_known(const srv_steer_t *st, const steer_policy_t *p)
{
	for (size_t i = 0; st->synced && i < st->synced->count; i++)
		if (dname_equal(st->synced->policies[i].owner, p->owner))
			return true;
	return false;
}

/* The target of a candidate of policy p, probed at a, named "OWNER/LABEL" (LABEL: the
 * address, or a CNAME candidate's target), in pool pi: the existing one when its template,
 * pool and address are unchanged (its schedule and state go on), else a new one.
 * STEER_TARGET_NONE when there is no prober or it cannot be made (logged). */
static uint32_t target_of(srv_steer_t *st, const steer_policy_t *p, const steer_addr_t *a,
                          const char *label, uint8_t pi)
{
	if (!st->health)
		return STEER_TARGET_NONE;
	char owner[NAME_STR], name[2 * NAME_STR], pool[2 * NAME_STR];
	uint32_t id = STEER_TARGET_NONE;
	owner_str(p, owner, sizeof(owner));
	snprintf(name, sizeof(name), "%s/%s", owner, label);
	snprintf(pool, sizeof(pool), "%s/%s", owner, p->pools[pi].name);
	starget_t *t = target_find(st, name);
	if (t && strcmp(t->tpl, p->health) == 0 && strcmp(t->pool, pool) == 0 &&
	    t->addr.len == a->len && memcmp(t->addr.bytes, a->bytes, a->len) == 0) {
		t->live = true;
		return t->id;
	}
	if (t) { /* replaced: its entry goes at the sweep, its prober target now */
		int rm = health_target_remove(st->health, t->id);
		if (rm < 0 && rm != SD_ENOTFOUND)
			log_warning("steering: removing target %s: %s", t->name, sd_strerror(rm));
		t->id = STEER_TARGET_NONE;
		t->live = false;
	}
	int ret = target_make(st, name, a, p->health, pool, policy_known(st, p), &id);
	if (ret < 0) {
		log_warning("steering: %s: cannot probe %s with template %s: %s (it reads down)",
		            p->where, name, p->health, sd_strerror(ret));
		return STEER_TARGET_NONE;
	}
	return id;
}

/* ---- sync ---- */

static const zone_t *zone_of(const steer_policy_t *p, zone_t *const *zones, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (dname_equal(zone_apex(zones[i]), p->zone))
			return zones[i];
	return NULL;
}

/* A CNAME policy's candidates: the CNAME records at the owner whose target a member names
 * (others have no address to probe: they read down). */
static int cname_entries(srv_steer_t *st, const steer_policy_t *p, const zone_node_t *node,
                         steer_entry_t **e, size_t *n, size_t *cap)
{
	const zone_rrset_t *rs = node ? zone_node_rrset(node, DNS_TYPE_CNAME) : NULL;
	size_t off = 0;
	for (uint16_t i = 0; rs && i < rs->count; i++) {
		const uint8_t *rd = rs->rdata + off + 2;
		off += 2u + be16_get(rs->rdata + off);
		const steer_member_t *m = NULL;
		uint8_t pool;
		uint32_t w;
		steer_policy_classify_name(p, rd, &pool, &w, &m);
		if (!m)
			continue;
		int ret = sd_vec_reserve(e, cap, *n + 1, sizeof(**e));
		if (ret < 0)
			return ret;
		char label[NAME_STR];
		dname_to_str(m->target, label, sizeof(label));
		size_t l = strlen(label);
		if (l > 1 && label[l - 1] == '.')
			label[l - 1] = '\0';
		(*e)[(*n)++] = (steer_entry_t){.addr = m->addr,
		                               .name = m->target,
		                               .pool = pool,
		                               .weight = w,
		                               .target = target_of(st, p, &m->addr, label, pool)};
	}
	return 0;
}

/* The candidates of p in the zone's current version (A and AAAA at the owner, or its
 * CNAME records). */
static int policy_entries(srv_steer_t *st, const steer_policy_t *p, zone_t *const *zones,
                          size_t count, steer_entry_t **e, size_t *n, size_t *cap)
{
	*n = 0;
	const zone_t *z = zone_of(p, zones, count);
	const zone_version_t *v = z ? zone_current(z) : NULL;
	const zone_node_t *node = v ? zone_version_find(v, p->owner, dname_len(p->owner)) : NULL;
	if (p->cname)
		return cname_entries(st, p, node, e, n, cap);
	static const uint16_t types[] = {DNS_TYPE_A, DNS_TYPE_AAAA};
	for (size_t k = 0; node && k < SD_ARRAY_LEN(types); k++) {
		const zone_rrset_t *rs = zone_node_rrset(node, types[k]);
		size_t off = 0;
		for (uint16_t i = 0; rs && i < rs->count; i++) {
			uint16_t len = be16_get(rs->rdata + off);
			const uint8_t *rd = rs->rdata + off + 2;
			off += 2u + len;
			if (len != 4 && len != 16)
				continue;
			int ret = sd_vec_reserve(e, cap, *n + 1, sizeof(**e));
			if (ret < 0)
				return ret;
			steer_entry_t *x = &(*e)[(*n)++];
			*x = (steer_entry_t){.addr.len = (uint8_t)len};
			memcpy(x->addr.bytes, rd, len);
			steer_policy_classify(p, &x->addr, &x->pool, &x->weight);
			char label[64];
			x->target =
			    target_of(st, p, &x->addr,
			              steer_addr_str(&x->addr, label, sizeof(label)), x->pool);
		}
	}
	return 0;
}

static int build_snap(srv_steer_t *st, zone_t *const *zones, size_t count, steer_snap_t **out)
{
	steer_entry_t *e = NULL;
	size_t n = 0, cap = 0;
	int ret = steer_snap_new(st->table, out);
	for (size_t i = 0; ret == 0 && i < st->table->count; i++) {
		const steer_policy_t *p = &st->table->policies[i];
		ret = policy_entries(st, p, zones, count, &e, &n, &cap);
		if (ret == 0)
			ret = steer_snap_set(*out, p->id, e, n);
	}
	free(e);
	if (ret < 0) {
		steer_snap_free(*out);
		*out = NULL;
	}
	return ret;
}

int srv_steer_sync(srv_steer_t *st, zone_t *const *zones, size_t count)
{
	if (st->ntargets > 1)
		qsort(st->targets, st->ntargets, sizeof(*st->targets), target_cmp);
	st->nsorted = st->ntargets;
	for (size_t i = 0; i < st->ntargets; i++)
		st->targets[i].live = false;
	steer_snap_t *snap = NULL;
	int ret = st->table ? build_snap(st, zones, count, &snap) : 0;
	if (ret < 0) {
		log_error("steering: cannot build the candidate map: %s", sd_strerror(ret));
		for (size_t i = 0; i < st->ntargets; i++) /* keep every target */
			st->targets[i].live = true;
		return ret;
	}
	steer_pub_swap(&st->pub, snap); /* no worker reads the old map's target ids now */
	for (size_t i = st->ntargets; i-- > 0;) {
		if (st->targets[i].live)
			continue;
		if (st->targets[i].id != STEER_TARGET_NONE) /* else replaced in this sync */
			log_info("steering: %s is no longer a candidate: not probed any more",
			         st->targets[i].name);
		target_drop(st, &st->targets[i]);
	}
	if (st->health && st->table) {
		steer_table_t *t = steer_table_ref(st->table);
		steer_table_unref(st->synced);
		st->synced = t;
	}
	return 0;
}

/* ---- report ---- */

static const char *state_name(uint32_t word, bool probed)
{
	if (!probed)
		return "unprobed";
	bool down = health_state_is_down(word);
	if (word & HEALTH_STATE_FORCED)
		return down ? "forced-down" : "forced-up";
	return down ? "down" : "up";
}

/* What an answer of the family (4 or 16) holds now, into out (text: addresses separated by
 * spaces; JSON: an array). */
static void report_answer(srv_steer_t *st, const steer_snap_t *s, const steer_policy_t *p,
                          uint8_t len, bool json, sd_strbuf_t *out)
{
	const steer_cands_t *cs = &s->cands[p->id - 1];
	uint8_t rd[STEER_CAND_MAX * 18];
	uint16_t n = 0;
	for (size_t i = 0; i < cs->n && n < STEER_CAND_MAX; i++) {
		if (cs->e[i].addr.len != len)
			continue;
		rd[n * (2u + len)] = 0;
		rd[n * (2u + len) + 1] = len;
		memcpy(rd + n * (2u + len) + 2, cs->e[i].addr.bytes, len);
		n++;
	}
	steer_cand_t c[STEER_CAND_MAX];
	uint8_t idx[STEER_CAND_MAX];
	steer_result_t r = {.outcome = STEER_ANSWER};
	if (n > 0) {
		steer_snap_cands(s, p, st->health, rd, n, c);
		steer_decide(p, c, n, p->ttl_max, &st->rng, idx, &r);
	}
	char a[64];
	sd_strbuf_printf(out, json ? "{\"outcome\":\"%s\",\"ttl\":%u,\"records\":[" : "%s ttl %u:",
	                 r.outcome == STEER_SERVFAIL   ? "servfail"
	                 : r.outcome == STEER_FALLBACK ? "fallback"
	                 : r.degraded                  ? "degraded"
	                                               : "healthy",
	                 n ? r.ttl : 0);
	uint16_t nf = 0;
	const uint8_t *fb = steer_policy_fallback(p, len, &nf);
	bool use_fb = r.outcome == STEER_FALLBACK && nf > 0;
	unsigned k = use_fb ? nf : r.outcome == STEER_ANSWER ? r.n : 0;
	if (r.outcome == STEER_FALLBACK && nf == 0)
		k = n;
	for (unsigned i = 0; i < k; i++) {
		steer_addr_t x = {.len = len};
		memcpy(x.bytes,
		       use_fb                        ? fb + i * (2u + len) + 2
		       : r.outcome == STEER_FALLBACK ? rd + i * (2u + len) + 2
		                                     : rd + idx[i] * (2u + len) + 2,
		       len);
		if (json) {
			sd_strbuf_printf(out, "%s", i ? "," : "");
			sd_strbuf_json_str(out, steer_addr_str(&x, a, sizeof(a)));
		} else {
			sd_strbuf_printf(out, " %s", steer_addr_str(&x, a, sizeof(a)));
		}
	}
	sd_strbuf_printf(out, "%s", json ? "]}" : "\n");
}

/* What a CNAME answer holds now: one target (its entries decided as the answer path does). */
static void report_answer_cname(srv_steer_t *st, const steer_snap_t *s, const steer_policy_t *p,
                                bool json, sd_strbuf_t *out)
{
	const steer_cands_t *cs = &s->cands[p->id - 1];
	steer_cand_t c[STEER_CAND_MAX];
	uint8_t idx[STEER_CAND_MAX];
	size_t n = cs->n < STEER_CAND_MAX ? cs->n : STEER_CAND_MAX;
	for (size_t i = 0; i < n; i++)
		c[i] =
		    (steer_cand_t){.pool = cs->e[i].pool,
		                   .weight = cs->e[i].weight,
		                   .health = st->health && cs->e[i].target != STEER_TARGET_NONE
		                                 ? health_target_state(st->health, cs->e[i].target)
		                                 : HEALTH_STATE_DOWN};
	steer_result_t r = {.outcome = STEER_ANSWER};
	if (n > 0)
		steer_decide(p, c, n, p->ttl_max, &st->rng, idx, &r);
	char name[NAME_STR] = "";
	if (n > 0 && r.outcome == STEER_ANSWER)
		dname_to_str(cs->e[r.pool != 0xff ? idx[0] : 0].name, name, sizeof(name));
	const char *what = r.outcome == STEER_SERVFAIL ? "servfail"
	                   : r.pool == 0xff            ? "all-down"
	                   : r.degraded                ? "degraded"
	                                               : "healthy";
	if (!json) {
		sd_strbuf_printf(out, "%s ttl %u: %s\n", what, n ? r.ttl : 0, name);
		return;
	}
	sd_strbuf_printf(out, "{\"outcome\":\"%s\",\"ttl\":%u,\"records\":[", what, n ? r.ttl : 0);
	if (name[0])
		sd_strbuf_json_str(out, name);
	sd_strbuf_printf(out, "]}");
}

static void report_member(srv_steer_t *st, const steer_policy_t *p, const steer_entry_t *e,
                          bool json, bool first, sd_strbuf_t *out)
{
	char a[64], owner[NAME_STR], name[2 * NAME_STR], cname[NAME_STR] = "";
	bool probed = st->health && e->target != STEER_TARGET_NONE;
	uint32_t word = probed ? health_target_state(st->health, e->target) : HEALTH_STATE_DOWN;
	owner_str(p, owner, sizeof(owner));
	steer_addr_str(&e->addr, a, sizeof(a));
	if (e->name) { /* a CNAME candidate: its target, probed at a */
		dname_to_str(e->name, cname, sizeof(cname));
		size_t l = strlen(cname);
		snprintf(name, sizeof(name), "%s/%.*s", owner, (int)(l > 1 ? l - 1 : l), cname);
	} else {
		snprintf(name, sizeof(name), "%s/%s", owner, a);
	}
	if (!json) {
		sd_strbuf_printf(out, "    %s%s%-39s weight %-7u %-11s target %s\n", cname,
		                 e->name ? " at " : "", a, e->weight, state_name(word, probed),
		                 name);
		return;
	}
	sd_strbuf_printf(out, "%s{", first ? "" : ",");
	if (e->name) {
		sd_strbuf_printf(out, "\"cname\":");
		sd_strbuf_json_str(out, cname);
		sd_strbuf_putc(out, ',');
	}
	sd_strbuf_printf(out, "\"address\":");
	sd_strbuf_json_str(out, a);
	sd_strbuf_printf(out, ",\"weight\":%u,\"health\":\"%s\",\"target\":", e->weight,
	                 state_name(word, probed));
	sd_strbuf_json_str(out, name);
	sd_strbuf_putc(out, '}');
}

static void report_pool(srv_steer_t *st, const steer_snap_t *s, const steer_policy_t *p, size_t pi,
                        bool json, sd_strbuf_t *out)
{
	const steer_pool_t *pl = &p->pools[pi];
	const steer_cands_t *cs = &s->cands[p->id - 1];
	if (json) {
		sd_strbuf_printf(out, "%s{\"name\":", pi ? "," : "");
		sd_strbuf_json_str(out, pl->name);
		sd_strbuf_printf(out, ",\"min-healthy\":\"%u%s\",\"weight\":%u,\"members\":[",
		                 pl->min_healthy, pl->min_pct ? "%" : "", pl->weight);
	} else {
		sd_strbuf_printf(out, "  pool %s min-healthy %u%s weight %u\n", pl->name,
		                 pl->min_healthy, pl->min_pct ? "%" : "", pl->weight);
	}
	bool first = true;
	for (size_t i = 0; i < cs->n; i++) {
		if (cs->e[i].pool != pi)
			continue;
		report_member(st, p, &cs->e[i], json, first, out);
		first = false;
	}
	if (json)
		sd_strbuf_printf(out, "]}");
}

static void report_policy(srv_steer_t *st, const steer_snap_t *s, const steer_policy_t *p,
                          bool json, bool first, sd_strbuf_t *out)
{
	char owner[NAME_STR], zone[NAME_STR];
	owner_str(p, owner, sizeof(owner));
	dname_to_str(p->zone, zone, sizeof(zone));
	if (json) {
		sd_strbuf_printf(out, "%s{\"name\":", first ? "" : ",");
		sd_strbuf_json_str(out, owner);
		sd_strbuf_printf(out, ",\"zone\":");
		sd_strbuf_json_str(out, zone);
		sd_strbuf_printf(out, ",\"health\":");
		sd_strbuf_json_str(out, p->health);
		sd_strbuf_printf(
		    out,
		    ",\"answers\":%u,\"all-down\":\"%s\",\"ttl-min\":%u,\"ttl-max\":%u,"
		    "\"pools\":[",
		    p->answers, steer_all_down_name(p->all_down), p->ttl_min, p->ttl_max);
	} else {
		sd_strbuf_printf(out, "%s zone %s health %s answers %u all-down %s ttl %u..%u\n",
		                 owner, zone, p->health, p->answers,
		                 steer_all_down_name(p->all_down), p->ttl_min, p->ttl_max);
	}
	for (size_t i = 0; i < p->npools; i++)
		report_pool(st, s, p, i, json, out);
	if (p->cname) {
		sd_strbuf_printf(out, json ? "],\"answer\":{\"CNAME\":" : "  answer CNAME: ");
		report_answer_cname(st, s, p, json, out);
	} else {
		sd_strbuf_printf(out, json ? "],\"answer\":{\"A\":" : "  answer A: ");
		report_answer(st, s, p, 4, json, out);
		sd_strbuf_printf(out, json ? ",\"AAAA\":" : "  answer AAAA: ");
		report_answer(st, s, p, 16, json, out);
	}
	sd_strbuf_printf(out, "%s", json ? "}}" : "");
}

int srv_steer_report(srv_steer_t *st, const char *name, bool json, sd_strbuf_t *out)
{
	const steer_snap_t *s = st->pub.current; /* we are its only publisher */
	uint8_t want[DNAME_MAX];
	if (name && dname_from_str(name, NULL, want) < 0) {
		sd_strbuf_printf(out, "'%s' is not a domain name\n", name);
		return SD_EPARSE;
	}
	size_t shown = 0;
	if (json)
		sd_strbuf_printf(out, "{\"policies\":[");
	for (size_t i = 0; s && i < s->table->count; i++) {
		const steer_policy_t *p = &s->table->policies[i];
		if (name && !dname_equal(p->owner, want))
			continue;
		report_policy(st, s, p, json, shown == 0, out);
		shown++;
	}
	if (json)
		sd_strbuf_printf(out, "]}\n");
	else if (shown == 0 && !name)
		sd_strbuf_printf(out, "no steering policies\n");
	if (name && shown == 0) {
		if (!json)
			sd_strbuf_printf(out, "no policy for '%s'\n", name);
		return SD_ENOTFOUND;
	}
	return 0;
}
