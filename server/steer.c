/* steer.c — steering glue on the control thread (see steer.h). */
#include "server/steer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "contrib/base/escape.h"
#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "contrib/base/vec.h"
#include "dns/proto.h"
#include "steering/geo.h"
#include "zone/hidden.h"
#include "zone/update.h"

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

/* Where a policy's transfer view stands (srv_steer_views). */
typedef enum {
	XV_CURRENT = 0, /* the zone's hidden set is the view */
	XV_WAITING,     /* it differs, but a candidate has no verdict yet */
	XV_HELD,        /* it differs; the hold-down since the last change runs */
} xv_state_t;

typedef struct xview {
	uint8_t owner[DNAME_MAX]; /* the policy's owner, to keep the clock across reloads */
	uint64_t last_ms;         /* monotonic ms of its last view commit; 0: none since start */
	xv_state_t state;
	bool seen; /* the fields below were filled by a pass (steerctl steering shows them) */
	/* what AXFR carries now at the owner: addresses, or a CNAME policy's target(s) */
	steer_addr_t vis[2 * STEER_CAND_MAX];
	uint16_t nvis;
	uint8_t cname[DNAME_MAX];
	uint16_t nhidden; /* candidates left out */
} xview_t;

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
	/* the transfer view, per policy of `table` (by id - 1) */
	xview_t *xv;
	size_t nxv;
	uint64_t now_ms; /* the control loop's clock at its last tick (the report's countdown) */
	/* What the views were last computed from (srv_steer_views_due): the prober's generation,
	 * dirty when the snapshot, the config or the prober changed since (or a commit is to be
	 * tried again), and the monotonic ms at which a transfer-hold-down ends (0: none). */
	uint64_t views_gen;
	bool views_dirty;
	uint64_t views_wake_ms;
	/* Geo steering: the databases in use (by the table's index; a file replaced since the
	 * configuration was loaded is reopened here) and each geo policy's compiled map (by
	 * id - 1), which the next snapshot carries to the workers. */
	steer_geo_db_t **dbs;
	size_t ndbs;
	steer_geo_map_t **maps;
	size_t nmaps;
	uint64_t geo_checked_ms; /* last look at the database files */
	/* the answer counters (steering/counts.h): counts is `table`'s, handed to every
	 * snapshot built from it; published is the block the current snapshot carries (NULL:
	 * none), freed after the swap that retires it, once its totals are carried over */
	unsigned nworkers;
	steer_counts_t *counts;
	steer_counts_t *published;
};

#define GEO_CHECK_MS 1000 /* how often the database files are stat()ed for a replacement */

int srv_steer_new(srv_steer_t **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	steer_rng_seed(&(*out)->rng, (uint64_t)(uintptr_t)*out);
	(*out)->views_dirty = true;
	return 0;
}

static void target_fini(starget_t *t)
{
	free(t->name);
	free(t->tpl);
	free(t->pool);
}

static void geo_drop(srv_steer_t *st)
{
	for (size_t i = 0; i < st->nmaps; i++)
		steer_geo_map_unref(st->maps[i]);
	for (size_t i = 0; i < st->ndbs; i++)
		steer_geo_db_unref(st->dbs[i]);
	free(st->maps);
	free(st->dbs);
	st->maps = NULL;
	st->dbs = NULL;
	st->nmaps = st->ndbs = 0;
}

/* (Re)compile the map of every geo policy of the table over database di (all: SIZE_MAX);
 * policies with the same rules share one map (one per record of a City database is
 * megabytes). A map that cannot be built leaves the policy without its geo stage (logged). */
static void geo_compile(srv_steer_t *st, size_t di)
{
	for (size_t i = 0; st->table && i < st->nmaps; i++) {
		const steer_policy_t *p = &st->table->policies[i];
		if (!p->geo || (di != SIZE_MAX && p->geo->db != di) || p->geo->db >= st->ndbs)
			continue;
		steer_geo_map_t *m = NULL;
		for (size_t k = 0; k < i && !m; k++) /* compiled in this pass already */
			if (st->maps[k] && st->table->policies[k].geo &&
			    st->maps[k]->db == st->dbs[p->geo->db] &&
			    steer_geo_same_map(&st->table->policies[k], p))
				m = steer_geo_map_ref(st->maps[k]);
		int ret = m ? 0 : steer_geo_map_build(p, st->dbs[p->geo->db], &m);
		if (ret < 0)
			log_error("event=geo-compile-failed name=%s reason=%s", LOG_Q(p->name),
			          LOG_Q(sd_strerror(ret)));
		steer_geo_map_unref(st->maps[i]);
		st->maps[i] = m;
	}
}

/* The databases and maps of table t (configure). */
static void geo_configure(srv_steer_t *st, const steer_table_t *t)
{
	geo_drop(st);
	if (!t)
		return;
	st->dbs = calloc(t->ndbs ? t->ndbs : 1, sizeof(*st->dbs));
	st->maps = calloc(t->count ? t->count : 1, sizeof(*st->maps));
	if (!st->dbs || !st->maps) {
		log_error("event=geo-configure-failed reason=\"out of memory\" hint=\"no geo "
		          "stage\"");
		geo_drop(st);
		return;
	}
	for (size_t i = 0; i < t->ndbs; i++)
		st->dbs[st->ndbs++] = steer_geo_db_ref(t->dbs[i]);
	st->nmaps = t->count;
	geo_compile(st, SIZE_MAX);
}

void srv_steer_free(srv_steer_t *st)
{
	if (!st)
		return;
	steer_pub_swap(&st->pub, NULL);
	for (size_t i = 0; i < st->ntargets; i++)
		target_fini(&st->targets[i]);
	free(st->targets);
	free(st->xv);
	geo_drop(st);
	if (st->published != st->counts)
		steer_counts_free(st->published);
	steer_counts_free(st->counts);
	steer_table_unref(st->table);
	steer_table_unref(st->synced);
	free(st);
}

const steer_pub_t *srv_steer_pub(const srv_steer_t *st)
{
	return &st->pub;
}

/* A new counter block for table t (NULL: none); the one of the old table stays with the
 * published snapshot until the next sync swaps it out. A block never published is freed. */
static void counts_configure(srv_steer_t *st, const steer_table_t *t)
{
	if (st->counts != st->published)
		steer_counts_free(st->counts);
	st->counts = NULL;
	if (t && steer_counts_new(t, st->nworkers, &st->counts) < 0)
		log_error("event=steering-counters-failed reason=\"out of memory\" hint=\"steered "
		          "answers are not counted per name and pool\"");
}

/* After a swap: no worker writes the block the previous snapshot carried any more; carry
 * its totals into the current table's block and free it. prev_table: its table. */
static void counts_retire(srv_steer_t *st, const steer_table_t *prev_table)
{
	if (st->published == st->counts)
		return;
	if (st->published && st->counts && prev_table && st->table)
		steer_counts_carry(st->counts, st->table, st->published, prev_table);
	steer_counts_free(st->published);
	st->published = st->counts;
}

void srv_steer_configure(srv_steer_t *st, const steer_table_t *table)
{
	steer_table_t *t = table ? steer_table_ref(table) : NULL;
	size_t n = t ? t->count : 0;
	xview_t *xv = n ? calloc(n, sizeof(*xv)) : NULL;
	if (n && !xv) { /* keep the old clocks; the views wait until the next configure */
		log_error("event=steering-configure-failed reason=\"out of memory\" hint=\"the "
		          "transfer views were not refreshed\"");
		steer_table_unref(t);
		return;
	}
	for (size_t i = 0; i < n; i++) { /* a policy kept keeps its hold-down clock */
		memcpy(xv[i].owner, t->policies[i].owner, t->policies[i].owner_len);
		for (size_t k = 0; k < st->nxv; k++)
			if (dname_equal(st->xv[k].owner, xv[i].owner))
				xv[i] = st->xv[k];
	}
	free(st->xv);
	st->xv = xv;
	st->nxv = n;
	counts_configure(st, t);
	steer_table_unref(st->table);
	st->table = t;
	geo_configure(st, t);
	st->views_dirty = true;
}

void srv_steer_set_workers(srv_steer_t *st, unsigned nworkers)
{
	st->nworkers = nworkers;
}

void srv_steer_counts_each(const srv_steer_t *st, srv_steer_count_fn fn, void *data)
{
	const steer_snap_t *s = st->pub.current; /* the control thread is its only writer */
	if (!s || !s->counts)
		return;
	for (size_t i = 0; i < s->table->count; i++) {
		const steer_policy_t *p = &s->table->policies[i];
		for (size_t k = 0; k < p->npools; k++)
			fn(data, p->name, p->pools[k].name,
			   steer_counts_get(s->counts, p->id, (unsigned)k));
		fn(data, p->name, NULL,
		   steer_counts_get(s->counts, p->id, steer_counts_all_down(p)));
	}
}

void srv_steer_set_health(srv_steer_t *st, health_t *h)
{
	st->health = h;
	st->views_dirty = true;
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
	dname_to_str_nodot(p->owner, buf, size);
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
		log_warning("event=steering-target-remove-failed target=%s reason=%s",
		            LOG_Q(t->name), LOG_Q(sd_strerror(ret)));
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
		log_info("event=steering-candidate-added target=%s pool=%s template=%s state=down "
		         "hint=\"answered once its checks pass\"",
		         LOG_Q(name), LOG_Q(pool), LOG_Q(tpl));
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
			log_warning("event=steering-target-remove-failed target=%s reason=%s",
			            LOG_Q(t->name), LOG_Q(sd_strerror(rm)));
		t->id = STEER_TARGET_NONE;
		t->live = false;
	}
	int ret = target_make(st, name, a, p->health, pool, policy_known(st, p), &id);
	if (ret < 0) {
		log_warning("event=steering-probe-failed target=%s template=%s where=%s reason=%s "
		            "state=down",
		            LOG_Q(name), LOG_Q(p->health), LOG_Q(p->where),
		            LOG_Q(sd_strerror(ret)));
		return STEER_TARGET_NONE;
	}
	return id;
}

/* ---- sync ---- */

static bool hide_new(void *ctx, const zone_t *z, const zone_rr_t *rr);

static const zone_t *zone_of(const steer_policy_t *p, zone_t *const *zones, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (dname_equal(zone_apex(zones[i]), p->zone))
			return zones[i];
	return NULL;
}

/* The state word the answers read for e (steering/snap.h): resolved once per snapshot. */
static void entry_word_of(const srv_steer_t *st, steer_entry_t *e)
{
	e->word = st->health && e->target != STEER_TARGET_NONE
	              ? health_target_word(st->health, e->target)
	              : NULL;
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
		entry_word_of(st, &(*e)[*n - 1]);
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
			entry_word_of(st, x);
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
		if (ret == 0 && i < st->nmaps)
			steer_snap_set_geo(*out, p->id, st->maps[i]);
	}
	if (ret == 0)
		(*out)->counts = st->counts;
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
		log_error("event=steering-sync-failed reason=%s", LOG_Q(sd_strerror(ret)));
		for (size_t i = 0; i < st->ntargets; i++) /* keep every target */
			st->targets[i].live = true;
		return ret;
	}
	const steer_snap_t *prev = st->pub.current;
	steer_table_t *prev_table = prev ? steer_table_ref(prev->table) : NULL;
	steer_pub_swap(&st->pub, snap); /* no worker reads the old map's target ids now */
	st->views_dirty = true;         /* the candidates or the zones changed */
	counts_retire(st, prev_table);
	steer_table_unref(prev_table);
	for (size_t i = 0; i < count; i++) /* new candidates start out of the transfer view */
		zone_set_hide_hook(zones[i], hide_new, st);
	for (size_t i = st->ntargets; i-- > 0;) {
		if (st->targets[i].live)
			continue;
		if (st->targets[i].id != STEER_TARGET_NONE) /* else replaced in this sync */
			log_info("event=steering-candidate-removed target=%s",
			         LOG_Q(st->targets[i].name));
		target_drop(st, &st->targets[i]);
	}
	if (st->health && st->table) {
		steer_table_t *t = steer_table_ref(st->table);
		steer_table_unref(st->synced);
		st->synced = t;
	}
	return 0;
}

/* ---- the transfer view ---- */

/* The decision over c[0..n) as answers make it, with list as the geo stage's pool list; a
 * geo policy without a list (the transfer view, the report without --client) uses its
 * default list. */
static void policy_decide(const steer_snap_t *s, const steer_policy_t *p,
                          const steer_geo_list_t *list, const steer_cand_t *c, size_t n,
                          uint32_t ttl, steer_rng_t *rng, uint8_t *idx, steer_result_t *r)
{
	const steer_geo_map_t *m = p->geo ? steer_snap_geo(s, p->id) : NULL;
	if (!list && m)
		list = &m->lists[0];
	if (list)
		steer_decide_list(p, list->pools, list->n, c, n, ttl, rng, idx, r);
	else
		steer_decide(p, c, n, ttl, rng, idx, r);
}

/* Which of the first n records of rs (at p's owner; n = min(count, STEER_CAND_MAX)) the
 * transfer view leaves out, into hide[0..n): none with transfer-view: all; the healthy
 * members (weight > 0) of the pool the failover stage picks; nothing when no pool has an
 * up member (every candidate: the safe choice for a secondary, whatever all-down says); a
 * CNAME policy keeps one record (the first of the view: a secondary needs a valid zone).
 * Returns false while a candidate has no verdict (the prober's initial state is none). */
static bool view_of(srv_steer_t *st, const steer_snap_t *s, const steer_policy_t *p,
                    const zone_rrset_t *rs, uint16_t n, bool *hide)
{
	steer_cand_t c[STEER_CAND_MAX];
	uint8_t idx[STEER_CAND_MAX];
	steer_result_t r;
	memset(hide, 0, n * sizeof(*hide));
	if (n == 0)
		return true;
	steer_snap_cands(s, p, st->health, rs->rdata, n, c);
	bool decided = true;
	for (uint16_t i = 0; i < n; i++)
		if ((c[i].health & HEALTH_STATE_PENDING) && !(c[i].health & HEALTH_STATE_FORCED))
			decided = false;
	if (p->xfr_all)
		return decided;
	policy_decide(s, p, NULL, c, n, rs->ttl, &st->rng, idx, &r);
	bool all = r.outcome != STEER_ANSWER || r.pool == 0xff, first = true;
	for (uint16_t i = 0; i < n; i++) {
		bool vis = all || (c[i].pool == r.pool && c[i].weight > 0 &&
		                   !health_state_is_down(c[i].health));
		if (p->cname) {
			vis = vis && first;
			first = first && !vis;
		}
		hide[i] = !vis;
	}
	return decided;
}

/* Compare p's transfer view with what v hides: true when they differ; *decided false while
 * a candidate has no verdict. With u, ask u for the view (hide and unhide requests for every
 * candidate; the commit keeps only the real changes). */
static void view_note(xview_t *x, const zone_version_t *v, const zone_rr_t *rr)
{
	if (zone_version_rr_hidden(v, rr)) {
		x->nhidden++;
	} else if (rr->type == DNS_TYPE_CNAME) {
		if (x->nvis++ == 0)
			memcpy(x->cname, rr->rdata, rr->rdlen <= DNAME_MAX ? rr->rdlen : 0);
	} else if ((rr->rdlen == 4 || rr->rdlen == 16) && x->nvis < SD_ARRAY_LEN(x->vis)) {
		x->vis[x->nvis].len = (uint8_t)rr->rdlen;
		memcpy(x->vis[x->nvis++].bytes, rr->rdata, rr->rdlen);
	}
}

static bool policy_view(srv_steer_t *st, const steer_snap_t *s, const steer_policy_t *p,
                        const zone_version_t *v, zone_update_t *u, xview_t *x, bool *decided,
                        int *rc)
{
	if (x) {
		x->seen = true;
		x->nvis = x->nhidden = 0;
	}
	static const uint16_t addr_types[] = {DNS_TYPE_A, DNS_TYPE_AAAA};
	static const uint16_t cname_types[] = {DNS_TYPE_CNAME};
	const uint16_t *types = p->cname ? cname_types : addr_types;
	size_t ntypes = p->cname ? 1 : 2;
	const zone_node_t *node = zone_version_find(v, p->owner, p->owner_len);
	bool differs = false;
	*decided = true;
	for (size_t k = 0; node && k < ntypes && *rc == 0; k++) {
		const zone_rrset_t *rs = zone_node_rrset(node, types[k]);
		if (!rs)
			continue;
		uint16_t n = rs->count < STEER_CAND_MAX ? rs->count : STEER_CAND_MAX;
		bool hide[STEER_CAND_MAX];
		*decided &= view_of(st, s, p, rs, n, hide);
		zone_rrset_iter_t it;
		zone_rr_t rr;
		zone_rrset_iter_start(&it, node, rs);
		for (uint16_t i = 0; *rc == 0 && zone_rrset_iter_next(&it, &rr); i++) {
			bool h = i < n && hide[i];
			differs |= zone_version_rr_hidden(v, &rr) != h;
			if (x)
				view_note(x, v, &rr);
			if (u)
				*rc = h ? zone_update_hide(u, &rr) : zone_update_unhide(u, &rr);
		}
	}
	return differs;
}

/* The policy of table t bound at (apex, owner) whose candidates are of type, or NULL. */
static const steer_policy_t *policy_at(const steer_table_t *t, const uint8_t *apex,
                                       const uint8_t *owner, uint16_t type)
{
	for (size_t i = 0; t && i < t->count; i++) {
		const steer_policy_t *p = &t->policies[i];
		if (!dname_equal(p->owner, owner) || !dname_equal(p->zone, apex))
			continue;
		if (p->cname ? type == DNS_TYPE_CNAME : type == DNS_TYPE_A || type == DNS_TYPE_AAAA)
			return p;
	}
	return NULL;
}

/* The hide hook of every zone (zone_set_hide_hook): a candidate a reload or an RFC 2136
 * update adds under a running policy stays out of transfers until its checks pass (its
 * target starts down, see target_of); the next view change shows it. */
static bool hide_new(void *ctx, const zone_t *z, const zone_rr_t *rr)
{
	srv_steer_t *st = ctx;
	const steer_policy_t *p = policy_at(st->table, zone_apex(z), rr->owner, rr->type);
	return p && !p->xfr_all && policy_known(st, p);
}

/* Records v hides that no policy's view covers any more (a policy removed from the config,
 * or its owner moved): shown again in u (with u NULL: whether there are any). */
static bool orphans(srv_steer_t *st, const zone_t *z, const zone_version_t *v, zone_update_t *u,
                    int *rc)
{
	const zone_hidden_t *h = zone_version_hidden(v);
	bool any = false;
	for (size_t i = 0; *rc == 0 && i < zone_hidden_count(h); i++) {
		zone_rr_t rr;
		zone_hidden_at(h, i, &rr);
		if (policy_at(st->table, zone_apex(z), rr.owner, rr.type))
			continue;
		any = true;
		if (u)
			*rc = zone_update_unhide(u, &rr);
	}
	return any;
}

/* Look at the views again at monotonic ms t (a transfer-hold-down ends): the earliest. */
static void views_wake(srv_steer_t *st, uint64_t t)
{
	if (st->views_wake_ms == 0 || t < st->views_wake_ms)
		st->views_wake_ms = t;
}

/* Which policies of z have a view change due now (due[id - 1]); true when any (or when
 * hidden records lost their policy). */
static bool views_due(srv_steer_t *st, const steer_snap_t *s, const zone_t *z,
                      const zone_version_t *v, uint64_t now_ms, bool *due)
{
	bool any = false;
	int rc = 0;
	bool fresh = s && st->health && s->table == st->table; /* the map of this table */
	for (size_t i = 0; fresh && i < st->nxv; i++) {
		const steer_policy_t *p = &st->table->policies[i];
		xview_t *x = &st->xv[i];
		due[i] = false;
		if (!dname_equal(p->zone, zone_apex(z)))
			continue;
		bool decided;
		if (!policy_view(st, s, p, v, NULL, x, &decided, &rc))
			x->state = XV_CURRENT;
		else if (!decided)
			x->state =
			    XV_WAITING; /* keep the journaled view (a restart keeps its serial) */
		else if (x->last_ms && now_ms - x->last_ms < p->xfr_hold_ms) {
			x->state = XV_HELD; /* the latest state is taken when the hold-down ends */
			views_wake(st, x->last_ms + p->xfr_hold_ms);
		} else
			any = due[i] = true;
	}
	return orphans(st, z, v, NULL, &rc) || any;
}

/* The change's source (zone/update.h): health, naming the steered names whose view is due
 * (bounded). */
static void views_source(const srv_steer_t *st, const bool *due, zone_update_t *u)
{
	zone_source_list_t l = {0};
	char owner[NAME_STR];
	for (size_t i = 0; i < st->nxv; i++) {
		if (!due[i])
			continue;
		owner_str(&st->table->policies[i], owner, sizeof(owner));
		zone_source_list_add(&l, owner);
	}
	zone_update_set_source(
	    u, &(zone_source_t){.kind = ZONE_SOURCE_HEALTH, .text = zone_source_list_text(&l)});
}

/* One transaction for z's due views: a new serial when the view really changed. */
static int views_commit(srv_steer_t *st, const steer_snap_t *s, zone_t *z, const bool *due,
                        uint64_t now_ms, bool *changed)
{
	zone_update_t *u = NULL;
	int rc = zone_update_begin(z, &u);
	if (rc < 0)
		return rc; /* -EBUSY: another transaction; the next tick tries again */
	const zone_version_t *v = zone_update_served(u);
	uint32_t before = zone_version_serial(v), after = before;
	bool decided, orphaned = false;
	for (size_t i = 0; rc == 0 && i < st->nxv; i++)
		if (due[i])
			policy_view(st, s, &st->table->policies[i], v, u, NULL, &decided, &rc);
	if (rc == 0)
		orphaned = orphans(st, z, v, u, &rc);
	if (rc < 0) {
		zone_update_abort(u);
		return rc;
	}
	views_source(st, due, u);
	rc = zone_update_commit(u, time(NULL), &after);
	*changed = rc == 0 && after != before;
	char zn[NAME_STR];
	dname_to_str_nodot(zone_apex(z), zn, sizeof(zn));
	if (*changed && orphaned)
		log_notice("event=steering-orphans-shown zone=%s serial=%u from=%u source=health "
		           "reason=\"records no policy steers any more are sent to secondaries "
		           "again\"",
		           zn, after, before);
	for (size_t i = 0; *changed && i < st->nxv; i++) {
		if (!due[i])
			continue;
		char owner[NAME_STR];
		owner_str(&st->table->policies[i], owner, sizeof(owner));
		st->xv[i].last_ms = now_ms ? now_ms : 1;
		st->xv[i].state = XV_CURRENT;
		int r2 = 0; /* what AXFR carries from now on, for steerctl */
		policy_view(st, s, &st->table->policies[i], zone_current(z), NULL, &st->xv[i],
		            &decided, &r2);
		log_notice("event=steering-view-changed zone=%s name=%s serial=%u from=%u "
		           "source=health shown=%u hidden=%u",
		           zn, owner, after, before, st->xv[i].nvis, st->xv[i].nhidden);
	}
	return rc;
}

/* A database file replaced (renamed over, or rewritten): open it again, recompile the maps
 * of its policies and publish them with a new snapshot; a file that does not open keeps the
 * database in use (logged with the path and libmaxminddb's reason, once per change of the
 * file). A stat(2) per database and GEO_CHECK_MS on the control thread: simpler than an
 * inotify watch, which would follow the old inode after a rename and need the directory
 * watched instead, and as prompt as an operator needs. */
static void geo_check(srv_steer_t *st, zone_t *const *zones, size_t count, uint64_t now_ms)
{
	if (st->ndbs == 0 || now_ms - st->geo_checked_ms < GEO_CHECK_MS)
		return;
	st->geo_checked_ms = now_ms;
	bool swapped = false;
	for (size_t i = 0; i < st->ndbs; i++) {
		steer_geo_db_t *old = st->dbs[i], *db = NULL;
		if (!steer_geo_db_changed(old))
			continue;
		char err[512];
		struct stat sb; /* before the open: a change after it is noticed next time */
		bool seen = stat(old->path, &sb) == 0;
		if (steer_geo_db_open(old->name, old->path, &db, err, sizeof(err)) < 0) {
			log_error("event=geo-database-failed database=%s file=%s reason=%s "
			          "hint=\"the replaced file does not open: the one in use stays\"",
			          LOG_Q(old->name), LOG_Q(old->path), LOG_Q(err));
			if (seen) { /* not again until the file changes again */
				old->dev = sb.st_dev;
				old->ino = sb.st_ino;
				old->size = sb.st_size;
				old->mtime = sb.st_mtim;
			}
			continue;
		}
		log_notice("event=geo-database-reloaded database=%s file=%s records=%zu",
		           LOG_Q(db->name), LOG_Q(db->path), db->nrecs);
		st->dbs[i] = db;
		steer_geo_db_unref(old);
		geo_compile(st, i);
		swapped = true;
	}
	if (swapped) /* the new maps reach the workers with the snapshot (RCU) */
		(void)srv_steer_sync(st, zones, count);
}

bool srv_steer_views_due(srv_steer_t *st, uint64_t now_ms)
{
	st->now_ms = now_ms;
	if (st->ndbs > 0 && now_ms - st->geo_checked_ms >= GEO_CHECK_MS)
		return true;
	if (st->views_dirty || (st->views_wake_ms != 0 && now_ms >= st->views_wake_ms))
		return true;
	return st->health && health_generation(st->health) != st->views_gen;
}

int srv_steer_views(srv_steer_t *st, zone_t *const *zones, size_t count, uint64_t now_ms,
                    zone_t **changed, size_t *nchanged)
{
	*nchanged = 0;
	st->now_ms = now_ms;
	geo_check(st, zones, count, now_ms);
	if (!srv_steer_views_due(st, now_ms))
		return 0;
	/* without a snapshot or a prober only hidden records whose policy is gone are shown */
	const steer_snap_t *s = st->pub.current; /* we are its only publisher */
	bool *due = calloc(st->nxv ? st->nxv : 1, sizeof(*due));
	if (!due)
		return -ENOMEM; /* still due: the next tick tries again */
	/* the generation before the words it covers: a change during the pass makes another */
	st->views_gen = st->health ? health_generation(st->health) : 0;
	st->views_dirty = false;
	st->views_wake_ms = 0;
	int ret = 0;
	for (size_t i = 0; i < count; i++) {
		const zone_version_t *v = zone_current(zones[i]);
		if (!v || !views_due(st, s, zones[i], v, now_ms, due))
			continue;
		bool ch = false;
		int rc = views_commit(st, s, zones[i], due, now_ms, &ch);
		st->views_dirty |= rc == -EBUSY; /* another transaction: the next tick */
		for (size_t k = 0; rc < 0 && rc != -EBUSY && k < st->nxv; k++) {
			if (!due[k]) /* tried again after a hold-down, not at every tick */
				continue;
			st->xv[k].last_ms = now_ms ? now_ms : 1;
			views_wake(st, st->xv[k].last_ms + st->table->policies[k].xfr_hold_ms);
		}
		if (rc < 0 && rc != -EBUSY) {
			char zn[NAME_STR];
			log_error("event=steering-view-failed zone=%s reason=%s",
			          dname_to_str_nodot(zone_apex(zones[i]), zn, sizeof(zn)),
			          LOG_Q(sd_strerror(rc)));
			ret = rc;
		}
		if (ch)
			changed[(*nchanged)++] = zones[i];
	}
	free(due);
	return ret;
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

/* A geo policy's answer says which pool was chosen ("pool NAME " / "pool":"NAME",). */
static void report_chosen(const steer_policy_t *p, const steer_result_t *r, size_t n, bool json,
                          sd_strbuf_t *out)
{
	if (!p->geo)
		return;
	const char *pool = n == 0 || r->outcome != STEER_ANSWER ? NULL
	                   : r->pool == 0xff                    ? "all-down"
	                                                        : p->pools[r->pool].name;
	if (!json) {
		sd_strbuf_printf(out, "pool %s, ", pool ? pool : "none");
		return;
	}
	sd_strbuf_printf(out, "{\"pool\":");
	if (pool)
		sd_strbuf_json_str(out, pool);
	else
		sd_strbuf_printf(out, "null");
	sd_strbuf_printf(out, ",\"answer\":");
}

/* What an answer of the family (4 or 16) holds now, into out (text: addresses separated by
 * spaces; JSON: an array). */
static void report_answer(srv_steer_t *st, const steer_snap_t *s, const steer_policy_t *p,
                          const steer_geo_list_t *list, uint8_t len, bool json, sd_strbuf_t *out)
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
		policy_decide(s, p, list, c, n, p->ttl_max, &st->rng, idx, &r);
	}
	report_chosen(p, &r, n, json, out);
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
	sd_strbuf_printf(out, "%s", json ? (p->geo ? "]}}" : "]}") : "\n");
}

/* What a CNAME answer holds now: one target (its entries decided as the answer path does). */
static void report_answer_cname(srv_steer_t *st, const steer_snap_t *s, const steer_policy_t *p,
                                const steer_geo_list_t *list, bool json, sd_strbuf_t *out)
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
		policy_decide(s, p, list, c, n, p->ttl_max, &st->rng, idx, &r);
	report_chosen(p, &r, n, json, out);
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
	sd_strbuf_printf(out, p->geo ? "]}}" : "]}");
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

static const char *xv_state_name(const srv_steer_t *st, const steer_policy_t *p, const xview_t *x,
                                 char *buf, size_t size)
{
	if (p->xfr_all)
		return "all candidates (transfer-view: all)";
	switch (x->state) {
	case XV_WAITING:
		return "changing once every candidate has a verdict";
	case XV_HELD: {
		uint64_t left = x->last_ms + p->xfr_hold_ms > st->now_ms
		                    ? x->last_ms + p->xfr_hold_ms - st->now_ms
		                    : 0;
		snprintf(buf, size, "held: changing in %llu ms (transfer-hold-down)",
		         (unsigned long long)left);
		return buf;
	}
	default:
		return "current";
	}
}

/* What AXFR/IXFR carry for the name now, and whether a change is pending. */
static void report_transfer(srv_steer_t *st, const steer_policy_t *p, bool json, sd_strbuf_t *out)
{
	const xview_t *x = p->id - 1u < st->nxv ? &st->xv[p->id - 1] : NULL;
	char a[NAME_STR], buf[96];
	if (!x || !x->seen) {
		sd_strbuf_printf(out,
		                 json ? ",\"transfer\":null" : "  transfer: not computed yet\n");
		return;
	}
	const char *state = xv_state_name(st, p, x, buf, sizeof(buf));
	if (json) {
		sd_strbuf_printf(out, ",\"transfer\":{\"state\":");
		sd_strbuf_json_str(out, x->state == XV_HELD      ? "held"
		                        : x->state == XV_WAITING ? "waiting"
		                                                 : "current");
		sd_strbuf_printf(out, ",\"detail\":");
		sd_strbuf_json_str(out, state);
		sd_strbuf_printf(out, ",\"hidden\":%u,\"records\":[", x->nhidden);
	} else {
		sd_strbuf_printf(out, "  transfer (%u hidden, %s):", x->nhidden, state);
	}
	for (uint16_t i = 0; i < x->nvis; i++) {
		const char *t = p->cname ? dname_to_str(x->cname, a, sizeof(a))
		                         : steer_addr_str(&x->vis[i], a, sizeof(a));
		if (json) {
			sd_strbuf_printf(out, "%s", i ? "," : "");
			sd_strbuf_json_str(out, t);
		} else {
			sd_strbuf_printf(out, " %s", t);
		}
		if (p->cname)
			break;
	}
	sd_strbuf_printf(out, json ? "]}" : "\n");
}

/* A client for `--client ADDR[/LEN]`: the address with the bits past LEN cleared (as a
 * resolver sends an ECS subnet); LEN defaults to the whole address. */
static int client_parse(const char *text, steer_addr_t *a, uint8_t *bits)
{
	steer_prefix_t p;
	if (steer_subnet_parse(text, &p) < 0 || p.bits == 0)
		return SD_EPARSE;
	*a = p.addr;
	*bits = p.bits;
	return 0;
}

/* Pool names of an index list, as text (" a b") or JSON (["a","b"]). */
static void report_pool_list(const steer_policy_t *p, const uint8_t *pools, uint8_t n, bool json,
                             sd_strbuf_t *out)
{
	sd_strbuf_printf(out, json ? "[" : "");
	for (uint8_t i = 0; i < n; i++) {
		if (json) {
			sd_strbuf_printf(out, "%s", i ? "," : "");
			sd_strbuf_json_str(out, p->pools[pools[i]].name);
		} else {
			sd_strbuf_printf(out, " %s", p->pools[pools[i]].name);
		}
	}
	sd_strbuf_printf(out, json ? "]" : "");
}

/* A geo policy's configuration: database, ecs, distance, rules, default (JSON: opens the
 * "geo" object, which report_geo_client adds to and report_policy closes). */
static void report_geo_conf(const steer_snap_t *s, const steer_policy_t *p, bool json,
                            sd_strbuf_t *out)
{
	const steer_geo_conf_t *g = p->geo;
	const char *db = g->db < s->table->ndbs ? s->table->dbs[g->db]->name : "?";
	if (json) {
		sd_strbuf_printf(out, ",\"geo\":{\"database\":");
		sd_strbuf_json_str(out, db);
		sd_strbuf_printf(out, ",\"ecs\":%s,\"distance\":%s,\"rules\":[",
		                 g->ecs ? "true" : "false", g->distance ? "true" : "false");
	} else {
		sd_strbuf_printf(out, "  geo database %s ecs %s distance %s; rules:", db,
		                 g->ecs ? "on" : "off", g->distance ? "on" : "off");
	}
	for (size_t i = 0; i < g->nrules; i++) {
		const steer_geo_rule_t *r = &g->rules[i];
		if (json)
			sd_strbuf_printf(out, "%s{\"%s\":\"%s\",\"pools\":", i ? "," : "",
			                 steer_geo_kind_name(r->kind), r->code);
		else
			sd_strbuf_printf(out, "%s %s %s:", i ? ";" : "",
			                 steer_geo_kind_name(r->kind), r->code);
		report_pool_list(p, r->pools, r->npools, json, out);
		sd_strbuf_printf(out, json ? "}" : "");
	}
	sd_strbuf_printf(out, json ? "],\"default\":" : "; default:");
	report_pool_list(p, g->def.pools, g->def.npools, json, out);
	sd_strbuf_printf(out, json ? "" : "\n");
}

/* The geo stage for a client: matched rule, the database network and scope, the pool list;
 * *list: that list for the answers below. */
static void report_geo_client(const steer_snap_t *s, const steer_policy_t *p, const steer_addr_t *a,
                              uint8_t bits, bool json, sd_strbuf_t *out,
                              const steer_geo_list_t **list)
{
	const steer_geo_map_t *m = steer_snap_geo(s, p->id);
	char ab[64], nb[64];
	if (!m) {
		sd_strbuf_printf(out, json ? ",\"client\":null" : "  geo: no compiled map\n");
		return;
	}
	steer_geo_hit_t hit;
	steer_geo_decide(m, a, &hit);
	*list = hit.list;
	steer_addr_t net = *a;
	for (unsigned i = hit.scope; i < a->len * 8u; i++)
		net.bytes[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
	const steer_geo_rec_t *r = hit.rec >= 0 ? &m->db->recs[hit.rec] : NULL;
	const char *code =
	    hit.list->kind >= STEER_GEO_CONTINENT ? p->geo->rules[hit.list->rule].code : "";
	steer_addr_str(a, ab, sizeof(ab));
	steer_addr_str(&net, nb, sizeof(nb));
	if (json) {
		sd_strbuf_printf(out, ",\"client\":\"%s/%u\",\"match\":\"%s\",\"code\":", ab, bits,
		                 steer_geo_kind_name(hit.list->kind));
		sd_strbuf_json_str(out, code);
		sd_strbuf_printf(out, ",\"found\":%s,\"network\":\"%s/%u\",\"scope\":%u",
		                 r ? "true" : "false", nb, hit.scope, hit.scope);
		sd_strbuf_printf(out,
		                 ",\"continent\":\"%s\",\"country\":\"%s\",\"subdivision\":\"%s\","
		                 "\"pools\":",
		                 r ? r->continent : "", r ? r->country : "", r ? r->subdiv : "");
	} else {
		sd_strbuf_printf(out,
		                 "  geo client %s/%u: %s%s%s; network %s/%u%s, scope %u; record "
		                 "continent %s country %s subdivision %s; pools:",
		                 ab, bits, steer_geo_kind_name(hit.list->kind), code[0] ? " " : "",
		                 code, nb, hit.scope, r ? "" : " (not in the database)", hit.scope,
		                 r && r->continent[0] ? r->continent : "-",
		                 r && r->country[0] ? r->country : "-",
		                 r && r->subdiv[0] ? r->subdiv : "-");
	}
	report_pool_list(p, hit.list->pools, hit.list->n, json, out);
	sd_strbuf_printf(out, json ? "" : "\n");
}

static void report_policy(srv_steer_t *st, const steer_snap_t *s, const steer_policy_t *p,
                          const char *client, bool json, bool first, sd_strbuf_t *out)
{
	const steer_geo_list_t *list = NULL;
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
	sd_strbuf_printf(out, json ? "]" : "");
	steer_addr_t a;
	uint8_t bits = 0;
	if (p->geo) {
		report_geo_conf(s, p, json, out);
		if (client && client_parse(client, &a, &bits) == 0)
			report_geo_client(s, p, &a, bits, json, out, &list);
		sd_strbuf_printf(out, json ? "}" : "");
	}
	if (p->cname) {
		sd_strbuf_printf(out, json ? ",\"answer\":{\"CNAME\":" : "  answer CNAME: ");
		report_answer_cname(st, s, p, list, json, out);
	} else {
		sd_strbuf_printf(out, json ? ",\"answer\":{\"A\":" : "  answer A: ");
		report_answer(st, s, p, list, 4, json, out);
		sd_strbuf_printf(out, json ? ",\"AAAA\":" : "  answer AAAA: ");
		report_answer(st, s, p, list, 16, json, out);
	}
	sd_strbuf_printf(out, json ? "}" : "");
	report_transfer(st, p, json, out);
	sd_strbuf_printf(out, "%s", json ? "}" : "");
}

int srv_steer_report(srv_steer_t *st, const char *name, const char *client, bool json,
                     sd_strbuf_t *out)
{
	const steer_snap_t *s = st->pub.current; /* we are its only publisher */
	uint8_t want[DNAME_MAX];
	steer_addr_t a;
	uint8_t bits;
	if (name && dname_from_str(name, NULL, want) < 0) {
		sd_strbuf_printf(out, "'%s' is not a domain name\n", name);
		return SD_EPARSE;
	}
	if (client && client_parse(client, &a, &bits) < 0) {
		sd_strbuf_printf(
		    out, "--client: '%s' is not ADDRESS or ADDRESS/LENGTH (1..32 or 1..128)\n",
		    client);
		return SD_EPARSE;
	}
	size_t shown = 0;
	if (json)
		sd_strbuf_printf(out, "{\"policies\":[");
	for (size_t i = 0; s && i < s->table->count; i++) {
		const steer_policy_t *p = &s->table->policies[i];
		if (name && !dname_equal(p->owner, want))
			continue;
		report_policy(st, s, p, client, json, shown == 0, out);
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
