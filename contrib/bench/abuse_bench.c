/* abuse_bench — what response rate limiting and DNS cookies add to a query's user-space CPU
 * time (a benchmark, not a test; issue 14).
 *
 *   abuse_bench [BATCHES=20000]
 *
 * Builds example.com. with 10,000 A records and answers BATCHES batches of 64 UDP queries
 * (srv_udp_batch_answer, server/udp.h: the worker's whole per-datagram path without the
 * socket calls) for random names from 256 client networks, four ways: RRL and cookies off;
 * RRL on at a rate no bucket reaches (every reply classified, hashed and charged, none
 * limited); cookies on with every query carrying a valid server cookie (verified, echoed);
 * both (a valid cookie exempts the reply from RRL). The four run interleaved in 10 rounds;
 * prints each one's best round's thread CPU time per query (CLOCK_THREAD_CPUTIME_ID) and the
 * difference to the first. The kernel's UDP path,
 * which contrib/bench/bench.sh includes, is not in these figures.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu-qsbr.h>

#include "contrib/base/bytes.h"
#include "dns/name.h"
#include "dns/proto.h"
#include "server/udp.h"
#include "zone/builder.h"
#include "zone/zone.h"

#define NAMES  10000
#define NETS   256
#define ROUNDS 10

static double cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "abuse_bench: %s failed\n", what);
	exit(1);
}

static zone_t *build_zone(void)
{
	uint8_t apex[DNAME_MAX], owner[DNAME_MAX], rd[2 * DNAME_MAX + 20];
	char text[64];
	zone_builder_t *b = NULL;
	zone_version_t *v = NULL;
	zone_t *z = NULL;
	if (dname_from_str("example.com.", NULL, apex) < 0 || zone_builder_new(apex, NULL, &b) < 0)
		die("zone_builder_new");
	size_t n = (size_t)dname_from_str("ns1.example.com.", NULL, rd);
	n += (size_t)dname_from_str("hm.example.com.", NULL, rd + n);
	static const uint8_t times[20] = {0, 0,    0, 1,    0,    0, 0x1c, 0x20, 0, 0,
	                                  3, 0x84, 0, 0x12, 0x75, 0, 0,    0,    1, 0x2c};
	memcpy(rd + n, times, sizeof(times));
	if (zone_builder_add(b, apex, DNS_TYPE_SOA, DNS_CLASS_IN, 3600, rd,
	                     (uint16_t)(n + sizeof(times)), NULL) < 0)
		die("SOA");
	n = (size_t)dname_from_str("ns1.example.com.", NULL, rd);
	if (zone_builder_add(b, apex, DNS_TYPE_NS, DNS_CLASS_IN, 3600, rd, (uint16_t)n, NULL) < 0)
		die("NS");
	static const uint8_t ns1[] = {192, 0, 2, 1};
	if (dname_from_str("ns1.example.com.", NULL, owner) < 0 ||
	    zone_builder_add(b, owner, DNS_TYPE_A, DNS_CLASS_IN, 3600, ns1, 4, NULL) < 0)
		die("glue");
	for (unsigned i = 0; i < NAMES; i++) {
		snprintf(text, sizeof(text), "h%u.example.com.", i);
		if (dname_from_str(text, NULL, owner) < 0)
			die("name");
		uint8_t a[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
		if (zone_builder_add(b, owner, DNS_TYPE_A, DNS_CLASS_IN, 300, a, 4, NULL) < 0)
			die("A");
	}
	if (zone_builder_finish(b, &v) < 0 || zone_new(apex, NULL, &z) < 0)
		die("zone");
	zone_publish(z, v);
	return z;
}

/* Datagram i of a batch: "h<k>.example.com A" with EDNS (and a COOKIE: the client's 8 bytes
 * and, when s, a valid server cookie for its peer) from 198.18.<net>.1. */
static void datagram(srv_udp_batch_t *b, unsigned i, unsigned k, unsigned net,
                     const srv_cookie_secrets_t *s, uint32_t now)
{
	struct sockaddr_in *p = (struct sockaddr_in *)&b->rname[i];
	memset(p, 0, sizeof(*p));
	p->sin_family = AF_INET;
	p->sin_port = htons(40000);
	p->sin_addr.s_addr = htonl(0xc6120001u | (net << 8));
	b->rmsg[i].msg_hdr.msg_namelen = sizeof(*p);
	b->rmsg[i].msg_hdr.msg_controllen = 0;
	uint8_t *m = b->riov[i].iov_base;
	char text[64];
	snprintf(text, sizeof(text), "h%u.example.com.", k);
	memset(m, 0, 12);
	be16_put(m, (uint16_t)i);
	be16_put(m + 4, 1);
	be16_put(m + 10, 1);
	size_t n = 12 + (size_t)dname_from_str(text, NULL, m + 12);
	n = (size_t)(be16_put(m + n, DNS_TYPE_A) - m);
	n = (size_t)(be16_put(m + n, DNS_CLASS_IN) - m);
	static const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0};
	memcpy(m + n, opt, sizeof(opt));
	n += sizeof(opt);
	if (s == NULL) {
		n = (size_t)(be16_put(m + n, 0) - m);
	} else {
		uint8_t ck[24] = {1, 2, 3, 4, 5, 6, 7, (uint8_t)net};
		srv_cookie_make(s->current, ck, (const struct sockaddr *)p, now, ck + 8);
		n = (size_t)(be16_put(m + n, 28) - m);
		n = (size_t)(be16_put(m + n, DNS_EDNS_COOKIE) - m);
		n = (size_t)(be16_put(m + n, 24) - m);
		memcpy(m + n, ck, 24);
		n += 24;
	}
	b->rmsg[i].msg_len = (unsigned)n;
}

/* ns per query over batches batches with rrl and cookies as given. */
static double run(srv_udp_batch_t *b, const srv_view_t *view, unsigned batches, srv_rrl_t *rrl,
                  srv_cookies_t *jar)
{
	b->rrl = rrl;
	b->cookies = jar;
	time_t now = time(NULL);
	const srv_cookie_secrets_t *s = jar ? srv_cookies_current(jar) : NULL;
	unsigned seed = 1;
	double spent = 0;
	unsigned long answered = 0;
	for (unsigned r = 0; r < batches; r++) {
		srv_udp_batch_prepare(b);
		for (unsigned i = 0; i < SRV_UDP_BATCH; i++) {
			seed = seed * 1103515245u + 12345u;
			datagram(b, i, (seed >> 8) % NAMES, (seed >> 20) % NETS, s, (uint32_t)now);
		}
		double t0 = cpu_ns();
		answered += srv_udp_batch_answer(b, view, SRV_UDP_BATCH, now);
		spent += cpu_ns() - t0;
		rcu_quiescent_state();
	}
	if (answered != (unsigned long)batches * SRV_UDP_BATCH)
		die("answering every query");
	return spent / ((double)batches * SRV_UDP_BATCH);
}

int main(int argc, char **argv)
{
	unsigned batches = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20000;
	rcu_register_thread();
	zone_t *z = build_zone();
	zone_set_t *set = NULL;
	srv_answer_conf_t conf = {.udp_max_payload = 1232};
	srv_answer_ctx_t *actx = NULL;
	srv_front_stats_t st = {0};
	srv_udp_batch_t *b = NULL;
	if (zone_set_new(&z, 1, &set) < 0 || srv_answer_ctx_new(&conf, &actx) < 0 ||
	    srv_udp_batch_new(1232, actx, &st, &b) < 0)
		die("setup");
	srv_view_t view = {.zones = set, .answer = &conf};
	srv_rrl_conf_t rc = {
	    .rate = 1000000, .slip = 2, .ipv4_prefix = 24, .ipv6_prefix = 56, .table_size = 65536};
	srv_rrl_t *rrl = NULL;
	srv_cookie_conf_t cc = {.mode = SRV_COOKIES_ON};
	srv_cookies_t jar = {0};
	if (srv_rrl_new(&rc, &rrl) < 0 || srv_cookies_init(&jar, &cc) < 0)
		die("rrl/cookies");
	(void)run(b, &view, batches / 10 + 1, NULL, NULL); /* warm up */
	static const char *const names[] = {"off", "rrl", "cookies", "rrl+cookies"};
	/* the four interleaved in ROUNDS rounds, each variant's best round kept: a machine
	 * busy with other work slows some rounds, never speeds one up */
	srv_rrl_t *rrls[4] = {NULL, rrl, NULL, rrl};
	srv_cookies_t *jars[4] = {NULL, NULL, &jar, &jar};
	double ns[4] = {1e18, 1e18, 1e18, 1e18};
	for (unsigned round = 0; round < ROUNDS; round++) {
		for (int v = 0; v < 4; v++) {
			double t = run(b, &view, batches / ROUNDS + 1, rrls[v], jars[v]);
			ns[v] = t < ns[v] ? t : ns[v];
		}
	}
	printf("%-12s %14s %12s\n", "variant", "ns/query", "vs off");
	for (int i = 0; i < 4; i++)
		printf("%-12s %14.0f %+11.0f\n", names[i], ns[i], ns[i] - ns[0]);
	if (srv_rrl_stats(rrl)->limited != 0)
		die("RRL never limiting");
	srv_udp_batch_free(b);
	srv_answer_ctx_free(actx);
	srv_rrl_free(rrl);
	srv_cookies_fini(&jar);
	zone_set_free(set);
	zone_free(z);
	rcu_barrier_qsbr();
	rcu_unregister_thread();
	return 0;
}
