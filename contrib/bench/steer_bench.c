/* steer_bench.c — the answer engine's cost per query for steered names against the same
 * names unsteered, without sockets (the kernel's UDP path, most of a server's CPU per query
 * in contrib/bench/bench.sh, is left out so that the policy's own cost shows).
 *
 *   build/contrib/.../steer_bench [QUERIES]      (default 2,000,000 per mode)
 *
 * One zone of 100 names w0..w99 with four A records each. Modes: static (no policy), weighted
 * (two of four by weight) and failover (primary pair, backup pair; one answer), every member
 * probed (prober targets made, thread not started: the state words are read as workers read
 * them). Prints ns per query and the ratio to static. Not a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <unistd.h>

#include "contrib/base/conf.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/proto.h"
#include "health/health.h"
#include "server/engine/answer.h"
#include "steering/conf.h"
#include "steering/snap.h"
#include "zone/zone.h"
#include "zone/zoneset.h"

#define NAMES 100

static const char *const apex_str = "bench.example.";

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
			struct sockaddr_in sin = {.sin_family = AF_INET};
			uint8_t *a = (uint8_t *)&sin.sin_addr;
			a[0] = 10, a[1] = 200, a[2] = (uint8_t)(id - 1), a[3] = (uint8_t)(j + 1);
			e[j] = (steer_entry_t){.addr.len = 4};
			memcpy(e[j].addr.bytes, a, 4);
			steer_policy_classify(steer_table_policy(m->table, id), &e[j].addr,
			                      &e[j].pool, &e[j].weight);
			snprintf(name, sizeof(name), "w%u/%d", id, j);
			int ret = health_target_add(m->h, name, (struct sockaddr *)&sin, "t",
			                            &e[j].target);
			if (ret < 0)
				die("target", ret);
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
		steer_conf_env_t env = {.zones = zones, .nzones = 1, .health = m->hc};
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

static double run(mode_t_ *m, long queries)
{
	static uint8_t q[NAMES][300], resp[SRV_RESPONSE_MAX];
	static size_t ql[NAMES];
	srv_answer_conf_t conf = {.udp_max_payload = 1232};
	srv_answer_ctx_t *ctx = NULL;
	if (srv_answer_ctx_new(&conf, &ctx) < 0)
		die("ctx", -1);
	for (int k = 0; k < NAMES; k++)
		ql[k] = make_query(q[k], k);
	srv_answer_set_steering(ctx, m->snap, m->h);
	srv_peer_t peer = {0};
	size_t bytes = 0;
	struct timespec a, b;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	for (long i = 0; i < queries; i++) {
		int k = (int)(i % NAMES);
		bytes += srv_answer(ctx, m->set, q[k], ql[k], resp, &peer);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	srv_answer_ctx_free(ctx);
	if (bytes == 0)
		die("no answers", -1);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)queries;
}

int main(int argc, char **argv)
{
	long queries = argc > 1 ? atol(argv[1]) : 2000000;
	char *zfile = write_zone();
	const char *kinds[] = {"static", "weighted", "failover"};
	double ns[3];
	for (int i = 0; i < 3; i++) {
		mode_t_ m = {0};
		mode_init(&m, kinds[i], zfile);
		run(&m, queries / 10); /* warm up */
		ns[i] = run(&m, queries);
		printf("%-9s %8.1f ns/query  %.2fx static\n", kinds[i], ns[i], ns[i] / ns[0]);
	}
	unlink(zfile);
	return 0;
}
