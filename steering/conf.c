/* conf.c — parsing and validating the `steering:` section (see conf.h). */
#include "steering/conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "steering/geo.h"

static const char *const policy_keys[] = {
    "name",     "zone",    "health",  "candidates", "answers",       "all-down",
    "fallback", "ttl-min", "ttl-max", "pools",      "transfer-view", "transfer-hold-down",
    "geo",      NULL};
static const char *const pool_keys[] = {"name",        "members",  "prefixes", "weight",
                                        "min-healthy", "location", NULL};
static const char *const member_keys[] = {"address", "weight", "target", NULL};

#define TTL_MAX 2147483647u /* RFC 2181 8 */

/* "N" or "N%" */
static void pool_min(conf_ctx_t *ctx, const conf_node_t *n, steer_pool_t *pl)
{
	const char *s = NULL;
	if (!conf_str(ctx, n, &s))
		return;
	char *end = NULL;
	unsigned long v = strtoul(s, &end, 10);
	bool pct = *end == '%';
	if (s[0] < '0' || s[0] > '9' || (pct ? end[1] != '\0' : *end != '\0') ||
	    v > (pct ? 100 : STEER_CAND_MAX)) {
		conf_error(ctx, n, "expected a count (0..%d) or a percentage (0%%..100%%)",
		           STEER_CAND_MAX);
		return;
	}
	pl->min_healthy = (uint32_t)v;
	pl->min_pct = pct;
}

/* A CNAME candidate: {target: NAME, address: PROBE-ADDRESS[, weight: N]}. */
static void cname_member(conf_ctx_t *ctx, const conf_node_t *n, steer_member_t *m)
{
	const conf_node_t *t = n->kind == CONF_MAP ? conf_get(n, "target") : NULL;
	const char *s = NULL;
	if (!t) {
		conf_error(ctx, n, "a CNAME candidate is {target: NAME, address: ADDRESS probed}");
		return;
	}
	if (conf_str(ctx, t, &s) && dname_from_str(s, NULL, m->target) < 0)
		conf_error(ctx, t, "'%s' is not a domain name", s);
}

static void pool_member(conf_ctx_t *ctx, const conf_node_t *n, steer_member_t *m, bool cname)
{
	const conf_node_t *a = n;
	m->weight = STEER_WEIGHT_POOL;
	if (cname)
		cname_member(ctx, n, m);
	else if (n->kind == CONF_MAP && conf_get(n, "target"))
		conf_error(ctx, conf_get(n, "target"), "'target' needs candidates: cname");
	if (n->kind == CONF_MAP) {
		conf_expect_map(ctx, n, member_keys);
		const conf_node_t *w = conf_get(n, "weight");
		if (w)
			conf_u32(ctx, w, 0, STEER_WEIGHT_MAX, &m->weight);
		if (!(a = conf_get(n, "address"))) {
			conf_error(ctx, n, "missing key 'address'");
			return;
		}
	}
	const char *s = NULL;
	if (conf_str(ctx, a, &s) && steer_addr_parse(s, &m->addr) < 0)
		conf_error(ctx, a, "'%s' is not an IPv4 or IPv6 address", s);
}

static int pool_members(conf_ctx_t *ctx, const conf_node_t *n, steer_pool_t *pl, bool cname)
{
	if (!conf_expect_seq(ctx, n))
		return 0;
	pl->members = calloc(n->count ? n->count : 1, sizeof(*pl->members));
	if (!pl->members)
		return -ENOMEM;
	for (size_t i = 0; i < n->count; i++)
		pool_member(ctx, n->items[i], &pl->members[pl->nmembers++], cname);
	return 0;
}

static int pool_prefixes(conf_ctx_t *ctx, const conf_node_t *n, steer_pool_t *pl)
{
	if (!conf_expect_seq(ctx, n))
		return 0;
	pl->prefixes = calloc(n->count ? n->count : 1, sizeof(*pl->prefixes));
	if (!pl->prefixes)
		return -ENOMEM;
	for (size_t i = 0; i < n->count; i++) {
		const char *s = NULL;
		if (!conf_str(ctx, n->items[i], &s))
			continue;
		if (steer_prefix_parse(s, &pl->prefixes[pl->nprefixes]) < 0)
			conf_error(ctx, n->items[i],
			           "'%s' is not a prefix (ADDRESS/BITS with the host bits zero)",
			           s);
		else
			pl->nprefixes++;
	}
	return 0;
}

/* A number in [min, max] (decimal, as strtod reads it). */
static bool conf_degrees(conf_ctx_t *ctx, const conf_node_t *n, double min, double max, double *out)
{
	const char *s = NULL;
	if (!conf_str(ctx, n, &s))
		return false;
	char *end = NULL;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= min && v <= max)) {
		conf_error(ctx, n, "expected a number of degrees in [%g, %g]", min, max);
		return false;
	}
	*out = v;
	return true;
}

/* location: [LATITUDE, LONGITUDE] in degrees (geo distance ordering). */
static void pool_location(conf_ctx_t *ctx, const conf_node_t *n, steer_pool_t *pl)
{
	if (n->kind != CONF_SEQ || n->count != 2) {
		conf_error(ctx, n, "expected [latitude, longitude] in degrees");
		return;
	}
	pl->located = conf_degrees(ctx, n->items[0], -90, 90, &pl->lat) &&
	              conf_degrees(ctx, n->items[1], -180, 180, &pl->lon);
}

static int parse_pool(conf_ctx_t *ctx, const conf_node_t *n, steer_pool_t *pl, bool cname)
{
	pl->weight = 1;
	pl->min_healthy = 1;
	if (!conf_expect_map(ctx, n, pool_keys))
		return 0;
	const conf_node_t *v;
	const char *s = NULL;
	if (!(v = conf_get(n, "name")))
		conf_error(ctx, n, "missing key 'name'");
	else if (conf_str(ctx, v, &s) && strcmp(s, "other") == 0)
		conf_error(ctx, v, "the pool name 'other' is reserved (addresses in no pool)");
	else if (s && !(pl->name = strdup(s)))
		return -ENOMEM;
	if ((v = conf_get(n, "weight")))
		conf_u32(ctx, v, 0, STEER_WEIGHT_MAX, &pl->weight);
	if ((v = conf_get(n, "min-healthy")))
		pool_min(ctx, v, pl);
	if ((v = conf_get(n, "location")))
		pool_location(ctx, v, pl);
	int ret = 0;
	if ((v = conf_get(n, "members")))
		ret = pool_members(ctx, v, pl, cname);
	if (ret == 0 && (v = conf_get(n, "prefixes")) && cname)
		conf_error(ctx, v,
		           "CNAME candidates join pools by target (members), not by prefix");
	else if (ret == 0 && v)
		ret = pool_prefixes(ctx, v, pl);
	if (ret == 0 && !conf_get(n, "members") && !conf_get(n, "prefixes"))
		conf_error(ctx, n, "pool '%s' has neither members nor prefixes",
		           pl->name ? pl->name : "?");
	return ret;
}

static const char *pool_name(const steer_pool_t *pl)
{
	return pl->name ? pl->name : "?";
}

/* Overlapping prefixes of different pools (the membership of an address in both would
 * depend on the order: an error), and a member of pool j that an earlier pool takes. */
static void check_prefixes(conf_ctx_t *ctx, const conf_node_t *pools, const steer_policy_t *p,
                           size_t j)
{
	char a[64], b[64];
	const steer_pool_t *pj = &p->pools[j];
	for (size_t i = 0; i < j; i++) {
		const steer_pool_t *pi = &p->pools[i];
		for (size_t x = 0; x < pj->nprefixes; x++)
			for (size_t y = 0; y < pi->nprefixes; y++)
				if (steer_prefix_overlap(&pj->prefixes[x], &pi->prefixes[y]))
					conf_error(
					    ctx, pools->items[j],
					    "prefix %s/%u of pool '%s' overlaps %s/%u of pool "
					    "'%s'",
					    steer_addr_str(&pj->prefixes[x].addr, a, sizeof(a)),
					    pj->prefixes[x].bits, pool_name(pj),
					    steer_addr_str(&pi->prefixes[y].addr, b, sizeof(b)),
					    pi->prefixes[y].bits, pool_name(pi));
	}
}

static void check_overlaps(conf_ctx_t *ctx, const conf_node_t *pools, const steer_policy_t *p)
{
	char a[64];
	for (size_t j = 0; j + 1 < p->npools; j++) {
		const steer_pool_t *pj = &p->pools[j];
		check_prefixes(ctx, pools, p, j);
		for (size_t x = 0; x < pj->nmembers; x++) {
			uint8_t pool;
			uint32_t w;
			if (!pj->members[x].addr.len)
				continue;
			steer_policy_classify(p, &pj->members[x].addr, &pool, &w);
			if (pool != j)
				conf_error(ctx, pools->items[j],
				           "member %s of pool '%s' belongs to pool '%s' already",
				           steer_addr_str(&pj->members[x].addr, a, sizeof(a)),
				           pool_name(pj), pool_name(&p->pools[pool]));
		}
	}
}

static int parse_pools(conf_ctx_t *ctx, const conf_node_t *n, steer_policy_t *p)
{
	size_t count = n && n->kind == CONF_SEQ ? n->count : 0;
	if (n && !conf_expect_seq(ctx, n))
		count = 0;
	if (count > STEER_POOLS_MAX) {
		conf_error(ctx, n, "at most %d pools", STEER_POOLS_MAX);
		count = STEER_POOLS_MAX;
	}
	p->pools = calloc(count + 1, sizeof(*p->pools));
	if (!p->pools)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		int ret = parse_pool(ctx, n->items[i], &p->pools[p->npools++], p->cname);
		if (ret < 0)
			return ret;
		for (size_t k = 0; k < i; k++)
			if (p->pools[i].name && p->pools[k].name &&
			    strcmp(p->pools[i].name, p->pools[k].name) == 0)
				conf_error(ctx, n->items[i], "pool '%s' appears twice",
				           p->pools[i].name);
	}
	steer_pool_t *other = &p->pools[p->npools++];
	*other = (steer_pool_t){.weight = 1, .min_healthy = 1, .implicit = true};
	if (!(other->name = strdup("other")))
		return -ENOMEM;
	if (count > 0 && !p->cname)
		check_overlaps(ctx, n, p);
	return 0;
}

/* The zone the owner is bound in: the one named, else the longest configured zone holding
 * it. */
static void bind_zone(conf_ctx_t *ctx, const conf_node_t *item, const steer_conf_env_t *env,
                      steer_policy_t *p)
{
	const conf_node_t *zn = conf_get(item, "zone");
	const char *s = NULL;
	uint8_t want[DNAME_MAX];
	if (zn && (!conf_str(ctx, zn, &s) || dname_from_str(s, NULL, want) < 0)) {
		conf_error(ctx, zn, "not a domain name");
		return;
	}
	const uint8_t *best = NULL;
	for (size_t i = 0; i < env->nzones; i++) {
		const uint8_t *z = env->zones[i];
		if (zn ? dname_equal(z, want) : dname_is_subdomain(p->owner, z))
			if (!best || dname_labels(z) > dname_labels(best))
				best = z;
	}
	if (best && zn && !dname_is_subdomain(p->owner, best))
		conf_error(ctx, zn, "'%s' is not inside zone '%s'", p->name, s);
	else if (!best && zn)
		conf_error(ctx, zn, "zone '%s' is not served (see zones:)", s);
	else if (!best)
		conf_error(ctx, conf_get(item, "name"),
		           "'%s' is outside every served zone (see zones:)", p->name);
	else
		memcpy(p->zone, best, dname_len(best));
}

static void parse_all_down(conf_ctx_t *ctx, const conf_node_t *item, steer_policy_t *p)
{
	const conf_node_t *n = conf_get(item, "all-down"), *fb = conf_get(item, "fallback");
	const char *s = NULL;
	if (n && conf_str(ctx, n, &s)) {
		if (strcmp(s, "all") == 0)
			p->all_down = STEER_DOWN_ALL;
		else if (strcmp(s, "fallback") == 0)
			p->all_down = STEER_DOWN_FALLBACK;
		else if (strcmp(s, "servfail") == 0)
			p->all_down = STEER_DOWN_SERVFAIL;
		else
			conf_error(ctx, n, "expected all, fallback or servfail");
	}
	if ((p->all_down == STEER_DOWN_FALLBACK) != (fb != NULL)) {
		conf_error(ctx, fb ? fb : item,
		           fb ? "'fallback' is only used with all-down: fallback"
		              : "all-down: fallback needs a 'fallback' address list");
		return;
	}
	const char *list[2 * STEER_FALLBACK_MAX];
	size_t count = 0;
	if (!fb || !conf_str_list(ctx, fb, list, SD_ARRAY_LEN(list), &count))
		return;
	for (size_t i = 0; i < count; i++) {
		steer_addr_t a;
		uint16_t *nf = NULL;
		uint8_t *run = NULL;
		if (steer_addr_parse(list[i], &a) < 0) {
			conf_error(ctx, fb, "'%s' is not an IPv4 or IPv6 address", list[i]);
			continue;
		}
		nf = a.len == 4 ? &p->nfallback4 : &p->nfallback6;
		run = a.len == 4 ? p->fallback4 + *nf * 6u : p->fallback6 + *nf * 18u;
		if (*nf == STEER_FALLBACK_MAX) {
			conf_error(ctx, fb, "at most %d fallback addresses per family",
			           STEER_FALLBACK_MAX);
			return;
		}
		run[0] = 0;
		run[1] = a.len;
		memcpy(run + 2, a.bytes, a.len);
		(*nf)++;
	}
	if (count == 0)
		conf_error(ctx, fb, "at least one fallback address");
}

/* candidates: address (A/AAAA at the name, the default) or cname (one CNAME per target;
 * an answer holds one, so answers stays 1 and fallback addresses make no sense). */
static void parse_candidates(conf_ctx_t *ctx, const conf_node_t *item, steer_policy_t *p)
{
	const conf_node_t *n = conf_get(item, "candidates");
	const char *s = NULL;
	if (!n || !conf_str(ctx, n, &s))
		return;
	if (strcmp(s, "cname") == 0)
		p->cname = true;
	else if (strcmp(s, "address") != 0)
		conf_error(ctx, n, "expected address or cname");
	if (p->cname && p->answers != 1)
		conf_error(ctx, conf_get(item, "answers"), "a CNAME answer holds one candidate");
	if (p->cname && p->all_down == STEER_DOWN_FALLBACK)
		conf_error(ctx, conf_get(item, "all-down"),
		           "CNAME candidates: all-down is all or servfail");
}

static void parse_scalars(conf_ctx_t *ctx, const conf_node_t *item, steer_policy_t *p)
{
	const conf_node_t *n;
	uint32_t v;
	p->answers = 1;
	p->ttl_min = 10;
	p->ttl_max = 300;
	if ((n = conf_get(item, "answers")) && conf_u32(ctx, n, 1, STEER_ANSWERS_MAX, &v))
		p->answers = (uint16_t)v;
	if ((n = conf_get(item, "ttl-min")))
		conf_u32(ctx, n, 0, TTL_MAX, &p->ttl_min);
	if ((n = conf_get(item, "ttl-max")))
		conf_u32(ctx, n, 0, TTL_MAX, &p->ttl_max);
	if (p->ttl_min > p->ttl_max)
		conf_error(ctx, n ? n : item, "ttl-min %u is above ttl-max %u", p->ttl_min,
		           p->ttl_max);
	const char *s = NULL;
	p->xfr_all = false;
	if ((n = conf_get(item, "transfer-view")) && conf_str(ctx, n, &s)) {
		if (strcmp(s, "all") == 0)
			p->xfr_all = true;
		else if (strcmp(s, "healthy") != 0)
			conf_error(ctx, n, "expected healthy or all");
	}
	uint64_t ms = STEER_XFR_HOLD_DEFAULT_MS;
	if ((n = conf_get(item, "transfer-hold-down")))
		conf_duration_ms(ctx, n, 0, 86400000, &ms);
	p->xfr_hold_ms = (uint32_t)ms;
}

static int parse_health(conf_ctx_t *ctx, const conf_node_t *item, const steer_conf_env_t *env,
                        steer_policy_t *p)
{
	const conf_node_t *n = conf_get(item, "health");
	const char *s = NULL;
	if (!n) {
		conf_error(ctx, item, "missing key 'health' (a template of health.templates)");
		return 0;
	}
	if (!conf_str(ctx, n, &s))
		return 0;
	if (!env->health || !health_conf_has_template(env->health, s))
		conf_error(ctx, n, "unknown health template '%s' (see health.templates)", s);
	p->health = strdup(s);
	return p->health ? 0 : -ENOMEM;
}

/* ---- geo: (steering/geo.h) ---- */

static const char *const geo_keys[] = {"database", "ecs", "rules", "default", "distance", NULL};
static const char *const rule_keys[] = {"continent", "country", "subdivision", "pools", NULL};

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_alnum_upper(char c)
{
	return is_upper(c) || (c >= '0' && c <= '9');
}

/* Codes as MaxMind writes them: a continent code (AF AN AS EU NA OC SA), an ISO 3166-1
 * alpha-2 country code, or "CC-XXX" (ISO 3166-2: the country, '-', 1 to 3 characters). */
static bool geo_code_ok(steer_geo_kind_t kind, const char *s)
{
	static const char *const continents[] = {"AF", "AN", "AS", "EU", "NA", "OC", "SA"};
	size_t len = strlen(s);
	if (kind == STEER_GEO_CONTINENT) {
		for (size_t i = 0; i < SD_ARRAY_LEN(continents); i++)
			if (strcmp(s, continents[i]) == 0)
				return true;
		return false;
	}
	if (len < 2 || !is_upper(s[0]) || !is_upper(s[1]))
		return false;
	if (kind == STEER_GEO_COUNTRY)
		return len == 2;
	if (len < 4 || len > 6 || s[2] != '-')
		return false;
	for (size_t i = 3; i < len; i++)
		if (!is_alnum_upper(s[i]))
			return false;
	return true;
}

/* A list of pool names into indices (configured pools only; each once). */
static void geo_pools(conf_ctx_t *ctx, const conf_node_t *n, const steer_policy_t *p,
                      steer_geo_rule_t *r)
{
	const char *names[STEER_POOLS_MAX];
	size_t count = 0;
	if (!conf_str_list(ctx, n, names, SD_ARRAY_LEN(names), &count))
		return;
	if (count == 0)
		conf_error(ctx, n, "at least one pool");
	for (size_t i = 0; i < count; i++) {
		size_t k = 0;
		while (k + 1 < p->npools &&
		       !(p->pools[k].name && strcmp(p->pools[k].name, names[i]) == 0))
			k++;
		if (k + 1 >= p->npools) {
			conf_error(ctx, n, "unknown pool '%s' (see pools:)", names[i]);
			continue;
		}
		for (size_t j = 0; j < r->npools; j++)
			if (r->pools[j] == k)
				conf_error(ctx, n, "pool '%s' is listed twice", names[i]);
		r->pools[r->npools++] = (uint8_t)k;
	}
}

static void geo_rule(conf_ctx_t *ctx, const conf_node_t *n, const steer_policy_t *p,
                     steer_geo_rule_t *r)
{
	static const struct {
		const char *key;
		steer_geo_kind_t kind;
	} kinds[] = {{"continent", STEER_GEO_CONTINENT},
	             {"country", STEER_GEO_COUNTRY},
	             {"subdivision", STEER_GEO_SUBDIVISION}};
	const conf_node_t *code = NULL, *v;
	if (!conf_expect_map(ctx, n, rule_keys))
		return;
	for (size_t i = 0; i < SD_ARRAY_LEN(kinds); i++) {
		if (!(v = conf_get(n, kinds[i].key)))
			continue;
		if (code)
			conf_error(ctx, v, "one of continent, country or subdivision per rule");
		code = v;
		r->kind = kinds[i].kind;
	}
	const char *s = NULL;
	if (!code)
		conf_error(ctx, n, "a rule needs continent, country or subdivision");
	else if (conf_str(ctx, code, &s) &&
	         (strlen(s) >= sizeof(r->code) || !geo_code_ok(r->kind, s)))
		conf_error(ctx, code, "'%s' is not a %s code (%s)", s, steer_geo_kind_name(r->kind),
		           r->kind == STEER_GEO_CONTINENT ? "AF AN AS EU NA OC SA"
		           : r->kind == STEER_GEO_COUNTRY ? "ISO 3166-1 alpha-2, e.g. JP"
		                                          : "ISO 3166-2, e.g. US-CA");
	else if (s)
		memcpy(r->code, s, strlen(s) + 1);
	if (!(v = conf_get(n, "pools")))
		conf_error(ctx, n, "missing key 'pools'");
	else
		geo_pools(ctx, v, p, r);
}

static int geo_rules(conf_ctx_t *ctx, const conf_node_t *n, const steer_policy_t *p,
                     steer_geo_conf_t *g)
{
	if (!conf_expect_seq(ctx, n))
		return 0;
	g->rules = calloc(n->count ? n->count : 1, sizeof(*g->rules));
	if (!g->rules)
		return -ENOMEM;
	for (size_t i = 0; i < n->count; i++) {
		steer_geo_rule_t *r = &g->rules[g->nrules++];
		geo_rule(ctx, n->items[i], p, r);
		for (size_t k = 0; r->code[0] && k + 1 < g->nrules; k++)
			if (g->rules[k].kind == r->kind && strcmp(g->rules[k].code, r->code) == 0)
				conf_error(ctx, n->items[i], "a rule for %s %s exists already",
				           steer_geo_kind_name(r->kind), r->code);
	}
	return 0;
}

static void geo_database(conf_ctx_t *ctx, const conf_node_t *geo, const steer_conf_env_t *env,
                         steer_geo_conf_t *g)
{
	const conf_node_t *n = conf_get(geo, "database");
	const char *s = NULL;
	if (!n) {
		conf_error(ctx, geo, "missing key 'database' (a name of geoip.databases)");
		return;
	}
	if (!conf_str(ctx, n, &s))
		return;
	for (size_t i = 0; i < env->ndbs; i++)
		if (strcmp(env->dbs[i]->name, s) == 0) {
			g->db = (uint16_t)i;
			return;
		}
	conf_error(ctx, n,
	           "unknown database '%s' (not in geoip.databases, or its file did not open)", s);
}

static void geo_distance(conf_ctx_t *ctx, const conf_node_t *geo, const steer_policy_t *p,
                         steer_geo_conf_t *g)
{
	const conf_node_t *n = conf_get(geo, "distance");
	if (!n || !conf_bool(ctx, n, &g->distance) || !g->distance)
		return;
	for (size_t i = 0; i < p->npools; i++)
		if (p->pools[i].located)
			return;
	conf_error(ctx, n, "distance: true needs a pool with a location: [latitude, longitude]");
}

static int parse_geo(conf_ctx_t *ctx, const conf_node_t *geo, const steer_conf_env_t *env,
                     steer_policy_t *p)
{
	steer_geo_conf_t *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	p->geo = g;
	g->ecs = true;
	g->def.kind = STEER_GEO_DEFAULT;
	if (!conf_expect_map(ctx, geo, geo_keys))
		return 0;
	const conf_node_t *n;
	geo_database(ctx, geo, env, g);
	if ((n = conf_get(geo, "ecs")))
		conf_bool(ctx, n, &g->ecs);
	geo_distance(ctx, geo, p, g);
	if (!(n = conf_get(geo, "default")))
		conf_error(ctx, geo,
		           "missing key 'default' (the pools of clients no rule matches)");
	else
		geo_pools(ctx, n, p, &g->def);
	return (n = conf_get(geo, "rules")) ? geo_rules(ctx, n, p, g) : 0;
}

static int parse_policy(conf_ctx_t *ctx, const conf_node_t *item, const steer_conf_env_t *env,
                        steer_policy_t *p)
{
	char where[512];
	snprintf(where, sizeof(where), "%s:%u", item->file, item->line);
	if (!(p->where = strdup(where)))
		return -ENOMEM;
	if (!conf_expect_map(ctx, item, policy_keys))
		return 0;
	const conf_node_t *n = conf_get(item, "name");
	const char *s = NULL;
	if (!n)
		conf_error(ctx, item, "missing key 'name' (the steered owner name)");
	else if (conf_str(ctx, n, &s) && dname_from_str(s, NULL, p->owner) < 0)
		conf_error(ctx, n, "'%s' is not a domain name", s);
	else if (s && !(p->name = strdup(s)))
		return -ENOMEM;
	if (p->name) {
		p->owner_len = (uint8_t)dname_len(p->owner);
		bind_zone(ctx, item, env, p);
	}
	parse_scalars(ctx, item, p);
	parse_all_down(ctx, item, p);
	parse_candidates(ctx, item, p);
	int ret = parse_health(ctx, item, env, p);
	if (ret == 0)
		ret = parse_pools(ctx, conf_get(item, "pools"), p);
	if (ret == 0 && conf_get(item, "geo"))
		ret = parse_geo(ctx, conf_get(item, "geo"), env, p);
	return ret;
}

int steer_conf_parse(conf_ctx_t *ctx, const conf_node_t *section, const steer_conf_env_t *env,
                     steer_table_t **out)
{
	unsigned errors = ctx->errors;
	steer_table_t *t = NULL;
	*out = NULL;
	int ret = steer_table_new(&t);
	if (ret < 0)
		return ret;
	size_t count = conf_expect_seq(ctx, section) ? section->count : 0;
	if (count > UINT16_MAX - 1) {
		conf_error(ctx, section, "at most %u policies", UINT16_MAX - 1);
		count = 0;
	}
	t->policies = calloc(count ? count : 1, sizeof(*t->policies));
	t->dbs = calloc(env->ndbs ? env->ndbs : 1, sizeof(*t->dbs));
	ret = t->policies && t->dbs ? 0 : -ENOMEM;
	for (size_t i = 0; ret == 0 && i < env->ndbs; i++)
		t->dbs[t->ndbs++] = steer_geo_db_ref(env->dbs[i]);
	for (size_t i = 0; ret == 0 && i < count; i++) {
		steer_policy_t *p = &t->policies[t->count++];
		p->id = (uint16_t)(i + 1);
		ret = parse_policy(ctx, section->items[i], env, p);
		for (size_t k = 0; ret == 0 && p->name && k < i; k++)
			if (t->policies[k].name && dname_equal(t->policies[k].owner, p->owner))
				conf_error(ctx, section->items[i], "'%s' has a policy already (%s)",
				           p->name, t->policies[k].where);
	}
	if (ret == 0 && ctx->errors != errors)
		ret = SD_ECONFIG;
	if (ret < 0) {
		steer_table_unref(t);
		return ret;
	}
	*out = t;
	return 0;
}

/* ---- geoip: ---- */

static const char *const geoip_keys[] = {"databases", NULL};
static const char *const db_keys[] = {"name", "file", NULL};

static char *geo_path(const char *dir, const char *file)
{
	if (file[0] == '/' || !dir || strcmp(dir, ".") == 0)
		return strdup(file);
	size_t n = strlen(dir) + strlen(file) + 2;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s/%s", dir, file);
	return out;
}

/* One database entry: name unique, the file opened now (its error names the path). */
static int geoip_db(conf_ctx_t *ctx, const conf_node_t *n, const char *dir, steer_conf_geo_t *out)
{
	const conf_node_t *nn = conf_get(n, "name"), *fn = conf_get(n, "file");
	const char *name = NULL, *file = NULL;
	if (!conf_expect_map(ctx, n, db_keys))
		return 0;
	if (!nn || !fn) {
		conf_error(ctx, n, "missing key '%s'", nn ? "file" : "name");
		return 0;
	}
	if (!conf_str(ctx, nn, &name) || !conf_str(ctx, fn, &file))
		return 0;
	for (size_t i = 0; i < out->ndbs; i++)
		if (strcmp(out->dbs[i]->name, name) == 0) {
			conf_error(ctx, nn, "database '%s' appears twice", name);
			return 0;
		}
	char *path = geo_path(dir, file), err[512];
	if (!path)
		return -ENOMEM;
	int ret = steer_geo_db_open(name, path, &out->dbs[out->ndbs], err, sizeof(err));
	free(path);
	if (ret == 0) {
		const steer_geo_db_t *db = out->dbs[out->ndbs++];
		log_info("event=geo-database-opened database=%s file=%s type=%s records=%zu",
		         LOG_Q(db->name), LOG_Q(db->path), LOG_Q(steer_geo_db_type(db)), db->nrecs);
	} else if (ret == -EIO)
		conf_error(ctx, fn, "cannot open the MaxMind database %s", err);
	return ret == -EIO ? 0 : ret;
}

int steer_conf_geoip(conf_ctx_t *ctx, const conf_node_t *section, const char *dir,
                     steer_conf_geo_t *out)
{
	unsigned errors = ctx->errors;
	const conf_node_t *list = conf_get(section, "databases");
	memset(out, 0, sizeof(*out));
	if (!conf_expect_map(ctx, section, geoip_keys) || !list || !conf_expect_seq(ctx, list))
		return ctx->errors != errors ? SD_ECONFIG : 0;
	if (list->count > UINT16_MAX) {
		conf_error(ctx, list, "at most %u databases", UINT16_MAX);
		return SD_ECONFIG;
	}
	out->dbs = calloc(list->count ? list->count : 1, sizeof(*out->dbs));
	if (!out->dbs)
		return -ENOMEM;
	int ret = 0;
	for (size_t i = 0; ret == 0 && i < list->count; i++)
		ret = geoip_db(ctx, list->items[i], dir, out);
	if (ret == 0 && ctx->errors != errors)
		ret = SD_ECONFIG;
	return ret;
}

void steer_conf_geo_fini(steer_conf_geo_t *g)
{
	for (size_t i = 0; i < g->ndbs; i++)
		steer_geo_db_unref(g->dbs[i]);
	free(g->dbs);
	memset(g, 0, sizeof(*g));
}
