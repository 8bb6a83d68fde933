/* steer_bench.c — the answer engine's cost per query for steered names against the same
 * names unsteered, without sockets (the kernel's UDP path, most of a server's CPU per query
 * in contrib/bench/bench.sh, is left out so that the policy's own cost shows).
 *
 *   build/contrib/.../steer_bench [QUERIES [GEO.mmdb]]      (default 2,000,000 per mode)
 *
 * One zone of 100 names w0..w99 with four A records each. Modes: static (no policy), weighted
 * (two of four by weight) and failover (primary pair, backup pair; one answer), every member
 * probed (prober targets made, thread not started: the state words are read as workers read
 * them). Prints ns per query and the ratio to static. Not a test.
 *
 * With a MaxMind database (contrib/bench/geo_bench_db.pl writes a synthetic City one), also:
 *   static-ecs: static answers to queries with an ECS option from rotating /24s (4,100
 *     distinct queries: the ECS baseline);
 *   geo-ecs / geo-peer: the failover policies with a geo: stage in front (continent and
 *     country rules, default), the same ECS queries, or queries without ECS (located by
 *     the peer address, one address: the tree path stays in cache);
 *   the geo stage alone, per lookup: the compiled map (steer_geo_decide: the walk of the
 *     tree decoded at open) against the uncompiled one (steer_geo_decide_walk: MMDB_get_value per
 *     field, rules by string), in ns and user-space instructions (perf_event_open; "n/a"
 *     where the kernel does not allow it).
 */
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "contrib/base/conf.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/proto.h"
#include "health/health.h"
#include "server/engine/answer.h"
#include "steering/conf.h"
#include "steering/geo.h"
#include "steering/snap.h"
#include "zone/zone.h"
#include "zone/zoneset.h"

#define NAMES 100

static const char *const apex_str = "bench.example.";
static steer_geo_db_t *geo_db; /* the geo modes' database */

static void die(const char *what, int ret)
{
	fprintf(stderr, "steer_bench: %s: %d\n", what, ret);
	exit(1);
}

static char *write_zone(void)
{
	static char path[] = "/tmp/steer_bench.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f)
		die("zone file", -1);
	fprintf(f,
	        "$ORIGIN %s\n$TTL 3600\n@ SOA ns1 hm 1 7200 900 1209600 300\n@ NS ns1\n"
	        "ns1 A 192.0.2.1\n",
	        apex_str);
	for (int k = 0; k < NAMES; k++)
		for (int j = 1; j <= 4; j++)
			fprintf(f, "w%d A 10.200.%d.%d\n", k, k, j);
	fclose(f);
	return path;
}

static char *policies_yaml(const char *kind)
{
	static char buf[65536];
	size_t n = (size_t)snprintf(buf, sizeof(buf),
	                            "health: {templates: [{name: t, type: tcp, port: 9}]}\n"
	                            "steering:\n");
	for (int k = 0; k < NAMES; k++) {
		if (strcmp(kind, "weighted") == 0)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			                      "  - {name: w%d.%s, health: t, answers: 2}\n", k,
			                      apex_str);
		else if (strncmp(kind, "geo", 3) == 0)
			n += (size_t)snprintf(
			    buf + n, sizeof(buf) - n,
			    "  - {name: w%d.%s, health: t, pools: [{name: p, members: "
			    "[10.200.%d.1, 10.200.%d.2]}, {name: b, members: [10.200.%d.3, "
			    "10.200.%d.4]}], geo: {database: bench, rules: [{continent: EU, pools: "
			    "[b, p]}, {country: AB, pools: [b]}, {continent: AS, pools: [p]}], "
			    "default: [p, b]}}\n",
			    k, apex_str, k, k, k, k);
		else
			n += (size_t)snprintf(
			    buf + n, sizeof(buf) - n,
			    "  - {name: w%d.%s, health: t, pools: [{name: p, members: "
			    "[10.200.%d.1, "
			    "10.200.%d.2]}, {name: b, members: [10.200.%d.3, 10.200.%d.4]}]}\n",
			    k, apex_str, k, k, k, k);
	}
	return buf;
}

typedef struct mode {
	health_conf_t *hc;
	health_t *h;
	steer_table_t *table;
	steer_snap_t *snap;
	zone_t *zone;
	zone_set_t *set;
} mode_t_;

static void make_targets(mode_t_ *m)
{
	for (uint16_t id = 1; id <= m->table->count; id++) {
		steer_entry_t e[4];
		for (int j = 0; j < 4; j++) {
			char name[64];
			struct sockaddr_storage ss = {.ss_family = AF_INET}; /* as server/steer.c */
			uint8_t *a = (uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
			a[0] = 10, a[1] = 200, a[2] = (uint8_t)(id - 1), a[3] = (uint8_t)(j + 1);
			e[j] = (steer_entry_t){.addr.len = 4};
			memcpy(e[j].addr.bytes, a, 4);
			steer_policy_classify(steer_table_policy(m->table, id), &e[j].addr,
			                      &e[j].pool, &e[j].weight);
			snprintf(name, sizeof(name), "w%u/%d", id, j);
			int ret = health_target_add(m->h, name, (struct sockaddr *)&ss, "t",
			                            &e[j].target);
			if (ret < 0)
				die("target", ret);
			e[j].word = health_target_word(m->h, e[j].target); /* as server/steer.c */
		}
		if (steer_snap_set(m->snap, id, e, 4) < 0)
			die("snap", -1);
	}
}

static void mode_init(mode_t_ *m, const char *kind, const char *zfile)
{
	uint8_t apex[DNAME_MAX];
	if (dname_from_str(apex_str, NULL, apex) < 0)
		die("apex", -1);
	zone_bindings_t *b = NULL;
	if (strcmp(kind, "static") != 0) {
		conf_doc_t *doc = NULL;
		conf_ctx_t ctx = {0};
		int ret = conf_load_string(policies_yaml(kind), "bench.yaml", &doc);
		if (ret == 0)
			ret = health_conf_parse(&ctx, conf_get(conf_root(doc), "health"), ".",
			                        &m->hc);
		const uint8_t *zones[] = {apex};
		steer_geo_db_t *dbs[] = {geo_db};
		steer_conf_env_t env = {.zones = zones, .nzones = 1, .health = m->hc};
		if (strncmp(kind, "geo", 3) == 0) {
			env.dbs = dbs;
			env.ndbs = 1;
		}
		if (ret == 0)
			ret = steer_conf_parse(&ctx, conf_get(conf_root(doc), "steering"), &env,
			                       &m->table);
		conf_free(doc);
		if (ret == 0)
			ret = health_new(m->hc, &m->h);
		if (ret == 0)
			ret = steer_snap_new(m->table, &m->snap);
		zone_binding_t *list = calloc(NAMES, sizeof(*list));
		for (size_t i = 0; ret == 0 && i < m->table->count; i++) {
			memcpy(list[i].owner, m->table->policies[i].owner,
			       dname_len(m->table->policies[i].owner));
			list[i].policy = m->table->policies[i].id;
		}
		if (ret == 0)
			ret = zone_bindings_new(list, m->table->count, &b);
		free(list);
		if (ret < 0)
			die("policies", ret);
		make_targets(m);
		steer_geo_map_t *gm =
		    NULL; /* shared by policies steered alike, as the daemon does */
		const steer_policy_t *first = NULL;
		for (size_t i = 0; i < m->table->count; i++) {
			const steer_policy_t *p = &m->table->policies[i];
			if (!p->geo)
				continue;
			if (!first || !steer_geo_same_map(first, p)) {
				steer_geo_map_unref(gm);
				gm = NULL;
				if (steer_geo_map_build(p, geo_db, &gm) < 0)
					die("geo map", -1);
				first = p;
			}
			steer_snap_set_geo(m->snap, p->id, gm);
		}
		steer_geo_map_unref(gm);
	}
	zone_version_t *v = NULL;
	int ret = zone_new(apex, zfile, &m->zone);
	if (ret == 0)
		ret = zone_load_file_bound(apex, zfile, b, NULL, &v);
	if (ret < 0)
		die("zone", ret);
	zone_bindings_unref(b);
	zone_publish(m->zone, v);
	if (zone_set_new(&m->zone, 1, &m->set) < 0)
		die("zone set", -1);
}

/* A client address inside the bench database's ranges (10/8, 100.64/10), by index. */
static void bench_addr(unsigned i, uint8_t *a)
{
	uint32_t x = i * 2654435761u;
	a[0] = (i & 1) ? 10 : 100;
	a[1] = (i & 1) ? (uint8_t)(x >> 24) : (uint8_t)(64 + ((x >> 24) & 63));
	a[2] = (uint8_t)(x >> 16);
	a[3] = 0;
}

/* The query's OPT with an ECS option for a /24 (RFC 7871 6), after the question. */
static size_t put_ecs(uint8_t *buf, size_t n, unsigned i)
{
	static const uint8_t opt[] = {0,  0, 41, 4, 0xd0, 0, 0, 0,  0, 0,
	                              11, 0, 8,  0, 7,    0, 1, 24, 0};
	memcpy(buf + n, opt, sizeof(opt));
	n += sizeof(opt);
	bench_addr(i, buf + n);
	buf[11] = 1; /* ARCOUNT */
	return n + 3;
}

static size_t make_query(uint8_t *buf, int k)
{
	char name[64];
	uint8_t wire[DNAME_MAX];
	snprintf(name, sizeof(name), "w%d.%s", k, apex_str);
	int len = dname_from_str(name, NULL, wire);
	memset(buf, 0, 12);
	buf[1] = 1;
	buf[5] = 1; /* QDCOUNT 1 */
	memcpy(buf + 12, wire, (size_t)len);
	size_t n = 12 + (size_t)len;
	buf[n++] = 0, buf[n++] = DNS_TYPE_A, buf[n++] = 0, buf[n++] = DNS_CLASS_IN;
	return n;
}

#define QUERIES_DISTINCT (NAMES * 41) /* names × ECS subnets, coprime cycles */

static double run(mode_t_ *m, long queries, bool ecs)
{
	static uint8_t q[QUERIES_DISTINCT][300], resp[SRV_RESPONSE_MAX];
	static size_t ql[QUERIES_DISTINCT];
	srv_answer_conf_t conf = {.udp_max_payload = 1232};
	srv_answer_ctx_t *ctx = NULL;
	if (srv_answer_ctx_new(&conf, &ctx) < 0)
		die("ctx", -1);
	for (int k = 0; k < QUERIES_DISTINCT; k++) {
		ql[k] = make_query(q[k], k % NAMES);
		if (ecs)
			ql[k] = put_ecs(q[k], ql[k], (unsigned)k);
	}
	srv_answer_set_steering(ctx, m->snap, m->h);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x0a010203)};
	srv_peer_t peer = {.addr = (const struct sockaddr *)&sin};
	size_t bytes = 0;
	struct timespec a, b;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	for (long i = 0; i < queries; i++) {
		int k = (int)(i % (ecs ? QUERIES_DISTINCT : NAMES));
		bytes += srv_answer(ctx, m->set, q[k], ql[k], resp, &peer);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	srv_answer_ctx_free(ctx);
	if (bytes == 0)
		die("no answers", -1);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)queries;
}

/* User-space instructions of this thread from now (perf_event_open), or -1. */
static int instr_open(void)
{
	struct perf_event_attr pe = {.type = PERF_TYPE_HARDWARE,
	                             .size = sizeof(pe),
	                             .config = PERF_COUNT_HW_INSTRUCTIONS,
	                             .disabled = 1,
	                             .exclude_kernel = 1,
	                             .exclude_hv = 1};
	int fd = (int)syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0);
	if (fd >= 0) {
		ioctl(fd, PERF_EVENT_IOC_RESET, 0);
		ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
	}
	return fd;
}

static long long instr_close(int fd)
{
	long long n = -1;
	if (fd < 0)
		return -1;
	ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		n = -1;
	close(fd);
	return n;
}

#define GEO_ADDRS 4096

/* The geo stage alone: compiled map against the uncompiled walk. */
static void geo_lookup_bench(const steer_table_t *t, long n)
{
	const steer_policy_t *p = &t->policies[0];
	steer_geo_map_t *m = NULL;
	if (steer_geo_map_build(p, geo_db, &m) < 0)
		die("geo map", -1);
	static steer_addr_t addrs[GEO_ADDRS];
	for (unsigned i = 0; i < GEO_ADDRS; i++) {
		addrs[i] = (steer_addr_t){.len = 4};
		bench_addr(i, addrs[i].bytes);
		addrs[i].bytes[3] = (uint8_t)(i * 7);
	}
	for (int walk = 0; walk < 2; walk++) {
		unsigned sum = 0;
		struct timespec a, b;
		steer_geo_list_t scratch;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
		int fd = instr_open();
		for (long i = 0; i < n; i++) {
			steer_geo_hit_t hit;
			if (walk)
				steer_geo_decide_walk(m, p, &addrs[i % GEO_ADDRS], &scratch, &hit);
			else
				steer_geo_decide(m, &addrs[i % GEO_ADDRS], &hit);
			sum += hit.scope + hit.list->n;
		}
		long long ins = instr_close(fd);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
		double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)n;
		char ib[32] = "n/a";
		if (ins >= 0)
			snprintf(ib, sizeof(ib), "%.0f", (double)ins / (double)n);
		printf(
		    "geo lookup %-8s %7.1f ns  %s instructions  (%zu records, %u nodes, sum %u)\n",
		    walk ? "walk" : "compiled", ns, ib, geo_db->nrecs, geo_db->nodes, sum);
	}
	steer_geo_map_unref(m);
}

int main(int argc, char **argv)
{
	long queries = argc > 1 ? atol(argv[1]) : 2000000;
	char *zfile = write_zone();
	const char *kinds[] = {"static",     "weighted", "failover",
	                       "static-ecs", "geo-ecs",  "geo-peer"};
	int nkinds = 3;
	if (argc > 2) {
		char err[512];
		if (steer_geo_db_open("bench", argv[2], &geo_db, err, sizeof(err)) < 0) {
			fprintf(stderr, "steer_bench: %s\n", err);
			return 1;
		}
		nkinds = 6;
	}
	double ns[6];
	for (int i = 0; i < nkinds; i++) {
		mode_t_ m = {0};
		bool ecs = strstr(kinds[i], "-ecs") != NULL;
		mode_init(&m, strcmp(kinds[i], "static-ecs") == 0 ? "static" : kinds[i], zfile);
		run(&m, queries / 10, ecs); /* warm up */
		ns[i] = run(&m, queries, ecs);
		printf("%-9s %8.1f ns/query  %.2fx static\n", kinds[i], ns[i], ns[i] / ns[0]);
		if (i == 4)
			geo_lookup_bench(m.table, queries);
	}
	steer_geo_db_unref(geo_db);
	unlink(zfile);
	return 0;
}
