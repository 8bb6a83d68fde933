/* test_front.c — the front door (server/front.h): pass-through to the engine, ACL, TSIG
 * errors, AXFR over UDP, signed SOA answers, IXFR over UDP, UPDATE handoff; responses parsed
 * back with ldns. Linked with the allocation counter (tests/unit/alloc_count.h): every
 * srv_process() call that is not a transfer must allocate nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "zone/builder.h"
#include "contrib/base/err.h"
#include "server/front.h"
#include "tests/unit/alloc_count.h"
#include "contrib/base/conf.h"
#include "health/health.h"
#include "steering/conf.h"
#include "steering/geo.h"
#include "steering/snap.h"

static const char *const zone_rrs[] = {
    "example.com. 3600 IN SOA ns1.example.com. hm.example.com. 77 7200 900 1209600 300",
    "example.com. 3600 IN NS ns1.example.com.",
    "ns1.example.com. 3600 IN A 192.0.2.1",
    "www.example.com. 3600 IN A 192.0.2.80",
};

typedef struct fx {
	zone_t *zone;
	zone_set_t *set;
	srv_answer_ctx_t *actx;
	srv_answer_conf_t conf;
	tsig_key_t key, other;
	const tsig_key_t *keys[1];
	xfr_acl_rule_t acl[2];
	xfr_zone_info_t zi;
	xfr_env_t env;
	srv_front_stats_t st;
	const steer_pub_t *pub; /* steering, for test_steered_answer_allocates_nothing */
	const health_t *health;
} fx_t;

static zone_version_t *build_from(const char *const *rrs, size_t count)
{
	ldns_rdf *a = ldns_dname_new_frm_str("example.com.");
	zone_builder_t *b = NULL;
	assert_int_equal(zone_builder_new(ldns_rdf_data(a), NULL, &b), 0);
	for (size_t i = 0; i < count; i++) {
		ldns_rr *rr = NULL;
		assert_int_equal(ldns_rr_new_frm_str(&rr, rrs[i], 0, NULL, NULL), 0);
		uint8_t rd[512];
		size_t n = 0;
		for (size_t j = 0; j < ldns_rr_rd_count(rr); j++) {
			memcpy(rd + n, ldns_rdf_data(ldns_rr_rdf(rr, j)),
			       ldns_rdf_size(ldns_rr_rdf(rr, j)));
			n += ldns_rdf_size(ldns_rr_rdf(rr, j));
		}
		assert_int_equal(zone_builder_add(b, ldns_rdf_data(ldns_rr_owner(rr)),
		                                  ldns_rr_get_type(rr), 1, ldns_rr_ttl(rr), rd,
		                                  (uint16_t)n, NULL),
		                 0);
		ldns_rr_free(rr);
	}
	zone_version_t *v = NULL;
	assert_int_equal(zone_builder_finish(b, &v), 0);
	ldns_rdf_deep_free(a);
	return v;
}

static zone_version_t *build(void)
{
	return build_from(zone_rrs, sizeof(zone_rrs) / sizeof(zone_rrs[0]));
}

static int setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	ldns_rdf *a = ldns_dname_new_frm_str("example.com.");
	assert_int_equal(zone_new(ldns_rdf_data(a), NULL, &f->zone), 0);
	ldns_rdf_deep_free(a);
	zone_publish(f->zone, build());
	assert_int_equal(zone_set_new(&f->zone, 1, &f->set), 0);
	f->conf.udp_max_payload = 1232;
	assert_int_equal(srv_answer_ctx_new(&f->conf, &f->actx), 0);
	assert_int_equal(tsig_key_init(&f->key, "xfr.", "hmac-sha256",
	                               "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ=="),
	                 0);
	assert_int_equal(tsig_key_init(&f->other, "other.", "hmac-sha256",
	                               "b3RoZXItc2VjcmV0LWZvci10ZXN0cy0wMTIzNDU2Nzg5"),
	                 0);
	f->keys[0] = &f->key;
	assert_int_equal(xfr_acl_rule_set_addr(&f->acl[0], "127.0.0.0/8"), 0);
	assert_int_equal(xfr_acl_rule_set_addr(&f->acl[1], "::1"), 0);
	xfr_acl_rule_set_key(&f->acl[1], f->key.name);
	memcpy(f->zi.apex, zone_apex(f->zone), dname_len(zone_apex(f->zone)));
	f->zi.acl = f->acl;
	f->zi.acl_count = 2;
	f->env = (xfr_env_t){
	    .keys = f->keys, .nkeys = 1, .zones = &f->zi, .nzones = 1, .udp_payload = 1232};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_t *f = *state;
	srv_answer_ctx_free(f->actx);
	zone_set_free(f->set);
	zone_free(f->zone);
	rcu_barrier_qsbr();
	free(f);
	return 0;
}

static size_t query(uint8_t *buf, const char *name, uint16_t qtype, uint32_t serial,
                    const tsig_key_t *key, tsig_ctx_t *client)
{
	ldns_pkt *p = NULL;
	assert_int_equal(
	    ldns_pkt_query_new_frm_str(&p, name, (ldns_rr_type)qtype, LDNS_RR_CLASS_IN, 0), 0);
	ldns_pkt_set_id(p, 99);
	if (qtype == LDNS_RR_TYPE_IXFR) {
		char t[200];
		snprintf(t, sizeof(t), "%s 0 IN SOA a. b. %u 1 1 1 1", name, serial);
		ldns_rr *soa = NULL;
		assert_int_equal(ldns_rr_new_frm_str(&soa, t, 0, NULL, NULL), 0);
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, soa);
	}
	uint8_t *w = NULL;
	size_t len = 0;
	assert_int_equal(ldns_pkt2wire(&w, p, &len), 0);
	memcpy(buf, w, len);
	free(w);
	ldns_pkt_free(p);
	if (key != NULL) {
		tsig_ctx_init(client, key);
		assert_int_equal(tsig_sign_request(client, buf, &len, 1024, time(NULL)), 0);
	}
	return len;
}

static struct sockaddr_storage peer_addr(const char *a)
{
	struct sockaddr_storage ss = {0};
	if (strchr(a, ':')) {
		struct sockaddr_in6 *s = (void *)&ss;
		s->sin6_family = AF_INET6;
		inet_pton(AF_INET6, a, &s->sin6_addr);
	} else {
		struct sockaddr_in *s = (void *)&ss;
		s->sin_family = AF_INET;
		inet_pton(AF_INET, a, &s->sin_addr);
	}
	return ss;
}

static uint8_t resp[70000];

/* The request context a worker fills (server/front.h). */
static srv_request_t req;

static srv_process_t process(fx_t *f, const zone_set_t *set, const uint8_t *q, size_t ql,
                             const struct sockaddr *client, bool tcp)
{
	srv_view_t view = {.zones = (zone_set_t *)set,
	                   .xfr = &f->env,
	                   .answer = &f->conf,
	                   .steering = f->pub,
	                   .health = f->health};
	req.msg = q;
	req.msg_len = ql;
	req.client = client;
	req.tcp = tcp;
	req.now = time(NULL);
	req.buf = resp;
	req.cap = sizeof(resp);
	return srv_process(&view, f->actx, &f->st, &req);
}

static srv_process_t serve(fx_t *f, const uint8_t *q, size_t ql, const char *from, bool tcp,
                           size_t *rl, xfr_out_t **x)
{
	struct sockaddr_storage ss = peer_addr(from);
	alloc_count_start();
	srv_process_t r = process(f, f->set, q, ql, (const struct sockaddr *)&ss, tcp);
	alloc_counts_t n = alloc_count_stop();
	/* transfers may allocate (an xfr_out_t, IXFR condensing), any other request may not */
	const srv_query_t *rq = &req.q;
	bool transfer = rq->len >= 12 && (rq->qtype == DNS_TYPE_AXFR || rq->qtype == DNS_TYPE_IXFR);
	if (!transfer && (n.allocs || n.frees))
		fail_msg("srv_process (result %d) allocated %zu times and freed %zu times", (int)r,
		         n.allocs, n.frees);
	*rl = req.len;
	*x = req.xfr;
	return r;
}

static ldns_pkt *parse(size_t len)
{
	ldns_pkt *p = NULL;
	assert_int_equal(ldns_wire2pkt(&p, resp, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(p), 99);
	assert_true(ldns_pkt_qr(p));
	return p;
}

static void expect_rcode(fx_t *f, const uint8_t *q, size_t ql, const char *from, bool tcp,
                         ldns_pkt_rcode rcode)
{
	size_t rl = 0;
	xfr_out_t *x = NULL;
	assert_int_equal(serve(f, q, ql, from, tcp, &rl, &x), SRV_PROCESS_REPLY);
	assert_null(x);
	ldns_pkt *p = parse(rl);
	assert_int_equal(ldns_pkt_get_rcode(p), rcode);
	assert_int_equal(ldns_pkt_qdcount(p), 1);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
}

/* An unsigned ordinary query is the engine's answer, unchanged. */
static void test_plain_query_answered(void **state)
{
	fx_t *f = *state;
	uint8_t q[1024];
	size_t ql = query(q, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL, NULL);
	size_t rl = 0;
	xfr_out_t *x = NULL;
	assert_int_equal(serve(f, q, ql, "192.0.2.9", false, &rl, &x), SRV_PROCESS_REPLY);
	assert_null(x);
	static uint8_t direct[70000];
	srv_peer_t peer = {.addr = NULL, .tcp = false};
	size_t dl = srv_answer(f->actx, f->set, q, ql, direct, &peer);
	assert_int_equal(rl, dl);
	assert_memory_equal(resp, direct, dl);
	/* a response is dropped */
	q[2] |= 0x80;
	assert_int_equal(serve(f, q, ql, "192.0.2.9", false, &rl, &x), SRV_PROCESS_DROP);
	assert_int_equal(rl, 0);
}

static void test_acl_and_transport(void **state)
{
	fx_t *f = *state;
	uint8_t q[1024];
	size_t ql = query(q, "example.com.", LDNS_RR_TYPE_AXFR, 0, NULL, NULL);
	/* allowed by address, over TCP: a transfer */
	size_t rl = 0;
	xfr_out_t *x = NULL;
	assert_int_equal(serve(f, q, ql, "127.0.0.1", true, &rl, &x), SRV_PROCESS_STREAM);
	assert_non_null(x);
	assert_int_equal(xfr_out_kind(x), XFR_OUT_AXFR);
	unsigned rrs = 0;
	while (!xfr_out_done(x)) {
		assert_int_equal(xfr_out_next(x, resp, 65535, time(NULL), &rl), 0);
		ldns_pkt *p = parse(rl);
		rrs += ldns_pkt_ancount(p);
		ldns_pkt_free(p);
	}
	assert_int_equal(rrs, 5); /* SOA, NS, A, A, SOA */
	xfr_out_free(x);
	/* denied address, and ::1 without the key the rule wants */
	expect_rcode(f, q, ql, "192.0.2.9", true, LDNS_RCODE_REFUSED);
	expect_rcode(f, q, ql, "::1", true, LDNS_RCODE_REFUSED);
	assert_int_equal(f->st.xfr.refused, 2);
	/* AXFR over UDP: NOTIMP (RFC 5936 4.2, as Knot answers) */
	expect_rcode(f, q, ql, "127.0.0.1", false, LDNS_RCODE_NOTIMPL);
	/* a zone we do not serve */
	ql = query(q, "example.org.", LDNS_RR_TYPE_AXFR, 0, NULL, NULL);
	expect_rcode(f, q, ql, "127.0.0.1", true, LDNS_RCODE_NOTAUTH);
}

static void test_tsig_transfer(void **state)
{
	fx_t *f = *state;
	uint8_t q[1024];
	tsig_ctx_t client;
	size_t ql = query(q, "example.com.", LDNS_RR_TYPE_AXFR, 0, &f->key, &client);
	size_t rl = 0;
	xfr_out_t *x = NULL;
	assert_int_equal(serve(f, q, ql, "::1", true, &rl, &x), SRV_PROCESS_STREAM);
	while (!xfr_out_done(x)) {
		assert_int_equal(xfr_out_next(x, resp, 65535, time(NULL), &rl), 0);
		assert_int_equal(tsig_verify_response(&client, resp, rl, time(NULL)), 0);
	}
	xfr_out_free(x);
	assert_int_equal(f->st.tsig_ok, 1);
	/* unknown key: NOTAUTH, TSIG error BADKEY */
	ql = query(q, "example.com.", LDNS_RR_TYPE_AXFR, 0, &f->other, &client);
	assert_int_equal(serve(f, q, ql, "::1", true, &rl, &x), SRV_PROCESS_REPLY);
	ldns_pkt *p = parse(rl);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTAUTH);
	ldns_rr *t = ldns_pkt_tsig(p);
	assert_non_null(t);
	assert_int_equal(ldns_rdf2native_int16(ldns_rr_rdf(t, 5)), 17); /* BADKEY */
	ldns_pkt_free(p);
	/* a flipped MAC byte: BADSIG */
	ql = query(q, "example.com.", LDNS_RR_TYPE_AXFR, 0, &f->key, &client);
	q[ql - 10] ^= 0x40; /* inside other data/error? no: the MAC ends 6 + 2 + 2 bytes before */
	assert_int_equal(serve(f, q, ql, "::1", true, &rl, &x), SRV_PROCESS_REPLY);
	p = parse(rl);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTAUTH);
	ldns_pkt_free(p);
	assert_int_equal(f->st.tsig_bad, 2);
}

static void test_signed_soa_and_udp_ixfr(void **state)
{
	fx_t *f = *state;
	uint8_t q[1024];
	tsig_ctx_t client;
	size_t ql = query(q, "example.com.", LDNS_RR_TYPE_SOA, 0, &f->key, &client);
	size_t rl = 0;
	xfr_out_t *x = NULL;
	assert_int_equal(serve(f, q, ql, "192.0.2.9", false, &rl, &x), SRV_PROCESS_REPLY);
	ldns_pkt *p = parse(rl);
	assert_int_equal(tsig_verify_response(&client, resp, rl, time(NULL)), 0);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	/* IXFR over UDP from a current client: the single SOA, signed */
	ql = query(q, "example.com.", LDNS_RR_TYPE_IXFR, 77, &f->key, &client);
	assert_int_equal(serve(f, q, ql, "::1", false, &rl, &x), SRV_PROCESS_REPLY);
	assert_int_equal(tsig_verify_response(&client, resp, rl, time(NULL)), 0);
	p = parse(rl);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	/* IXFR over UDP from an unknown serial: the full zone does not fit 512 bytes? it does
	 * here (tiny zone), so the whole AXFR-style reply comes in one datagram */
	ql = query(q, "example.com.", LDNS_RR_TYPE_IXFR, 5, NULL, NULL);
	assert_int_equal(serve(f, q, ql, "127.0.0.1", false, &rl, &x), SRV_PROCESS_REPLY);
	p = parse(rl);
	assert_int_equal(ldns_pkt_ancount(p), 5);
	ldns_pkt_free(p);
}

/* Every request that is not a transfer goes through the front door without allocating (serve()
 * checks each call): plain queries over UDP and TCP, a NXDOMAIN, signed queries with a known and
 * an unknown key, an UPDATE handed off, a response and a runt dropped. */
static void test_dispatch_allocates_nothing(void **state)
{
	fx_t *f = *state;
	uint8_t q[1024];
	size_t rl = 0, ql;
	xfr_out_t *x = NULL;
	tsig_ctx_t client;
	unsigned seen[4] = {0};
	for (int tcp = 0; tcp < 2; tcp++) {
		ql = query(q, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL, NULL);
		seen[serve(f, q, ql, "192.0.2.9", tcp, &rl, &x)]++;
		ql = query(q, "nope.example.com.", LDNS_RR_TYPE_TXT, 0, NULL, NULL);
		seen[serve(f, q, ql, "192.0.2.9", tcp, &rl, &x)]++;
		ql = query(q, "example.com.", LDNS_RR_TYPE_SOA, 0, &f->key, &client);
		seen[serve(f, q, ql, "192.0.2.9", tcp, &rl, &x)]++;
		ql = query(q, "example.com.", LDNS_RR_TYPE_SOA, 0, &f->other, &client);
		seen[serve(f, q, ql, "192.0.2.9", tcp, &rl, &x)]++;
		ql = query(q, "example.com.", LDNS_RR_TYPE_SOA, 0, NULL, NULL);
		q[2] = (uint8_t)((q[2] & 0x87) | (DNS_OPCODE_UPDATE << 3));
		seen[serve(f, q, ql, "192.0.2.9", tcp, &rl, &x)]++;
		q[2] |= 0x80; /* a response: dropped */
		seen[serve(f, q, ql, "192.0.2.9", tcp, &rl, &x)]++;
		seen[serve(f, q, 5, "192.0.2.9", tcp, &rl, &x)]++;
	}
	assert_int_equal(seen[SRV_PROCESS_REPLY], 8);
	assert_int_equal(seen[SRV_PROCESS_HANDOFF], 2);
	assert_int_equal(seen[SRV_PROCESS_DROP], 4);
}

/* The steering fixture: api.example.com bound to a policy (primary: .10 and .11, backup:
 * .12; two answers; TTL at most 60) with a prober target per candidate (not started: the
 * state words follow the template and the overrides). */
typedef struct steer_fx {
	health_conf_t *hc;
	health_t *h;
	steer_table_t *table;
	steer_pub_t pub;
	zone_t *zone;
	zone_set_t *set;
	uint16_t id; /* api's policy in table (0: 1); the zone binds api to policy 1 */
} steer_fx_t;

static const char *const steer_yaml = "health: {templates: [{name: web, type: tcp, port: 9}]}\n"
                                      "steering:\n"
                                      "  - name: api.example.com\n"
                                      "    health: web\n"
                                      "    answers: 2\n"
                                      "    ttl-max: 60\n"
                                      "    pools:\n"
                                      "      - {name: primary, members: [192.0.2.10, 192.0.2.11]}\n"
                                      "      - {name: backup, members: [192.0.2.12]}\n";

static void steer_fx_targets(steer_fx_t *s, steer_entry_t *e)
{
	const steer_policy_t *p = steer_table_policy(s->table, s->id ? s->id : 1);
	for (int i = 0; i < 3; i++) {
		char name[64], addr[32];
		snprintf(addr, sizeof(addr), "192.0.2.%d", 10 + i);
		snprintf(name, sizeof(name), "api/%s", addr);
		/* as server/steer.c passes it: storage room for either family (with a plain
		 * sockaddr_in, gcc's LTO cannot rule out the IPv6 copy and warns) */
		struct sockaddr_storage ss = {.ss_family = AF_INET};
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		inet_pton(AF_INET, addr, &sin->sin_addr);
		e[i] = (steer_entry_t){.addr.len = 4};
		memcpy(e[i].addr.bytes, &sin->sin_addr, 4);
		steer_policy_classify(p, &e[i].addr, &e[i].pool, &e[i].weight);
		assert_int_equal(health_target_add(s->h, name, (const struct sockaddr *)&ss, "web",
		                                   &e[i].target),
		                 0);
	}
}

/* The prober, the zone bound to policy 1 and the snapshot, for the parsed s->table. */
static void steer_fx_finish(steer_fx_t *s)
{
	ldns_rdf *a = ldns_dname_new_frm_str("example.com.");
	assert_int_equal(health_new(s->hc, &s->h), 0);
	/* the zone, built with the binding so that api's A RRset carries policy id 1 */
	zone_binding_t bd = {.policy = 1};
	ldns_rdf *o = ldns_dname_new_frm_str("api.example.com.");
	memcpy(bd.owner, ldns_rdf_data(o), ldns_rdf_size(o));
	zone_bindings_t *b = NULL;
	assert_int_equal(zone_bindings_new(&bd, 1, &b), 0);
	assert_int_equal(zone_new(ldns_rdf_data(a), NULL, &s->zone), 0);
	assert_int_equal(zone_set_bindings(s->zone, b), 0);
	zone_bindings_unref(b);
	zone_version_t *v = NULL;
	assert_int_equal(zone_load_file_bound(ldns_rdf_data(a), "steered.zone",
	                                      zone_bindings(s->zone), NULL, &v),
	                 0);
	zone_publish(s->zone, v);
	assert_int_equal(zone_set_new(&s->zone, 1, &s->set), 0);
	ldns_rdf_deep_free(a);
	ldns_rdf_deep_free(o);
	steer_entry_t e[3];
	steer_fx_targets(s, e);
	steer_snap_t *snap = NULL;
	assert_int_equal(steer_snap_new(s->table, &snap), 0);
	assert_int_equal(steer_snap_set(snap, s->id ? s->id : 1, e, 3), 0);
	assert_int_equal(steer_counts_new(s->table, 1, &snap->counts), 0); /* worker 0's row */
	s->pub.current = snap;
}

static void steer_fx_init_with(steer_fx_t *s, const char *yaml)
{
	conf_doc_t *doc = NULL;
	conf_ctx_t ctx = {0};
	assert_int_equal(conf_load_string(yaml, "t.yaml", &doc), 0);
	assert_int_equal(health_conf_parse(&ctx, conf_get(conf_root(doc), "health"), ".", &s->hc),
	                 0);
	ldns_rdf *a = ldns_dname_new_frm_str("example.com.");
	const uint8_t *zones[] = {ldns_rdf_data(a)};
	steer_conf_env_t env = {.zones = zones, .nzones = 1, .health = s->hc};
	assert_int_equal(
	    steer_conf_parse(&ctx, conf_get(conf_root(doc), "steering"), &env, &s->table), 0);
	conf_free(doc);
	ldns_rdf_deep_free(a);
	steer_fx_finish(s);
}

static void steer_fx_init(steer_fx_t *s)
{
	steer_fx_init_with(s, steer_yaml);
}

static void steer_fx_fini(steer_fx_t *s)
{
	steer_counts_free(s->pub.current->counts);
	steer_snap_free(s->pub.current);
	steer_table_unref(s->table);
	zone_set_free(s->set);
	zone_free(s->zone);
	health_free(s->h);
	health_conf_free(s->hc);
}

/* The addresses (last octet) and TTL of a steered answer, served through srv_process with
 * the allocation counter on. */
static unsigned steered(fx_t *f, steer_fx_t *s, uint8_t *last, uint32_t *ttl)
{
	uint8_t q[512];
	size_t ql = query(q, "api.example.com.", LDNS_RR_TYPE_A, 0, NULL, NULL);
	size_t rl = 0;
	xfr_out_t *x = NULL;
	zone_set_t *keep = f->set;
	f->set = s->set;
	assert_int_equal(serve(f, q, ql, "192.0.2.9", false, &rl, &x), SRV_PROCESS_REPLY);
	f->set = keep;
	ldns_pkt *p = parse(rl);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	unsigned n = ldns_pkt_ancount(p);
	for (unsigned i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);
		last[i] = ldns_rdf_data(ldns_rr_rdf(rr, 0))[3];
		ttl[i] = ldns_rr_ttl(rr);
	}
	ldns_pkt_free(p);
	return n;
}

/* A steered answer (policy decision, state words, RNG) allocates nothing either, and
 * follows health: two primary members (TTL clamped to 60) while they are up, the backup
 * with ttl-min when they are down, every candidate when all are down. */
static void test_steered_answer_allocates_nothing(void **state)
{
	fx_t *f = *state;
	steer_fx_t s = {0};
	steer_fx_init(&s);
	f->pub = &s.pub;
	f->health = s.h;
	uint8_t last[8];
	uint32_t ttl[8];
	for (int i = 0; i < 50; i++) {
		assert_int_equal(steered(f, &s, last, ttl), 2);
		assert_int_equal(last[0] + last[1], 21); /* .10 and .11 in either order */
		assert_int_equal(ttl[0], 60);
	}
	/* through a CNAME chain (allocation-free too), and in the additional section of MX */
	uint8_t q[512];
	size_t ql = query(q, "alias.example.com.", LDNS_RR_TYPE_A, 0, NULL, NULL), rl = 0;
	xfr_out_t *x = NULL;
	zone_set_t *keep = f->set;
	f->set = s.set;
	assert_int_equal(serve(f, q, ql, "192.0.2.9", false, &rl, &x), SRV_PROCESS_REPLY);
	ldns_pkt *p = parse(rl);
	assert_int_equal(ldns_pkt_ancount(p), 3); /* the CNAME and two of the three A */
	ldns_pkt_free(p);
	ql = query(q, "example.com.", LDNS_RR_TYPE_MX, 0, NULL, NULL);
	assert_int_equal(serve(f, q, ql, "192.0.2.9", false, &rl, &x), SRV_PROCESS_REPLY);
	p = parse(rl);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_additional(p)), 2);
	ldns_pkt_free(p);
	f->set = keep;
	assert_int_equal(health_force(s.h, "api/192.0.2.10", HEALTH_FORCE_DOWN), 0);
	assert_int_equal(health_force(s.h, "api/192.0.2.11", HEALTH_FORCE_DOWN), 0);
	assert_int_equal(steered(f, &s, last, ttl), 1);
	assert_int_equal(last[0], 12);
	assert_int_equal(ttl[0], 10);
	assert_int_equal(health_force(s.h, "api/192.0.2.12", HEALTH_FORCE_DOWN), 0);
	assert_int_equal(steered(f, &s, last, ttl), 3); /* all-down: all */
	/* per policy and pool (steering/counts.h), counted without an allocation either: 50
	 * answers, the CNAME chain and the MX additional from primary, one from backup, one
	 * all-down */
	const steer_counts_t *c = s.pub.current->counts;
	const steer_policy_t *pol = steer_table_policy(s.table, 1);
	assert_int_equal(pol->npools, 3); /* primary, backup, other */
	assert_int_equal(steer_counts_get(c, 1, 0), 52);
	assert_int_equal(steer_counts_get(c, 1, 1), 1);
	assert_int_equal(steer_counts_get(c, 1, 2), 0);
	assert_int_equal(steer_counts_get(c, 1, steer_counts_all_down(pol)), 1);
	f->pub = NULL;
	f->health = NULL;
	steer_fx_fini(&s);
}

/* A config reload that renumbered the policies, in the moment when the zone version still
 * carries the old ids (server/engine/answer.c: steer_policy_of): api's RRset says policy 1,
 * the snapshot's policy 1 is www's (one answer, TTL at most 30) and api's is 2. Every answer
 * is api's policy's, two of primary with TTL 60, counted under policy 2: the first and those
 * after it, which find the plan kept for it (the memo keeps a plan only under the id of a
 * policy that names the owner, so the id the RRset carries never finds api's plan made as
 * www's, nor www's). */
static void test_steered_answer_renumbered_policies(void **state)
{
	fx_t *f = *state;
	static const char *const yaml =
	    "health: {templates: [{name: web, type: tcp, port: 9}]}\n"
	    "steering:\n"
	    "  - name: www.example.com\n"
	    "    health: web\n"
	    "    ttl-max: 30\n"
	    "    pools: [{name: p, members: [192.0.2.10, 192.0.2.11]}]\n"
	    "  - name: api.example.com\n"
	    "    health: web\n"
	    "    answers: 2\n"
	    "    ttl-max: 60\n"
	    "    pools:\n"
	    "      - {name: primary, members: [192.0.2.10, 192.0.2.11]}\n"
	    "      - {name: backup, members: [192.0.2.12]}\n";
	steer_fx_t s = {.id = 2};
	steer_fx_init_with(&s, yaml);
	assert_string_equal(steer_table_policy(s.table, 1)->name, "www.example.com");
	f->pub = &s.pub;
	f->health = s.h;
	uint8_t last[8];
	uint32_t ttl[8];
	for (int i = 0; i < 20; i++) {
		assert_int_equal(steered(f, &s, last, ttl), 2);
		assert_int_equal(last[0] + last[1], 21);
		assert_int_equal(ttl[0], 60);
	}
	assert_int_equal(steer_counts_get(s.pub.current->counts, 2, 0), 20);
	assert_int_equal(steer_counts_get(s.pub.current->counts, 1, 0), 0);
	f->pub = NULL;
	f->health = NULL;
	steer_fx_fini(&s);
}

/* ---- geo steering (steering/geo.h) ---- */

/* api.example.com with a geo stage over tests/unit/steering/data/geo-city.mmdb: EU clients
 * get .10 (then .12), JP clients .11, the rest .12. */
static const char *const geo_yaml =
    "health: {templates: [{name: web, type: tcp, port: 9}]}\n"
    "geoip: {databases: [{name: world, file: ../steering/data/geo-city.mmdb}]}\n"
    "steering:\n"
    "  - name: api.example.com\n"
    "    health: web\n"
    "    pools:\n"
    "      - {name: eu, members: [192.0.2.10]}\n"
    "      - {name: asia, members: [192.0.2.11]}\n"
    "      - {name: us, members: [192.0.2.12]}\n"
    "    geo:\n"
    "      database: world\n"
    "      rules: [{continent: EU, pools: [eu, us]}, {country: JP, pools: [asia]}]\n"
    "      default: [us]\n";

/* The steering fixture with the geo policy: the table from geo_yaml, the map in the
 * snapshot. */
static void geo_fx_init(steer_fx_t *s, steer_conf_geo_t *g)
{
	conf_doc_t *doc = NULL;
	conf_ctx_t ctx = {0};
	assert_int_equal(conf_load_string(geo_yaml, "t.yaml", &doc), 0);
	assert_int_equal(health_conf_parse(&ctx, conf_get(conf_root(doc), "health"), ".", &s->hc),
	                 0);
	assert_int_equal(steer_conf_geoip(&ctx, conf_get(conf_root(doc), "geoip"), ".", g), 0);
	ldns_rdf *a = ldns_dname_new_frm_str("example.com.");
	const uint8_t *zones[] = {ldns_rdf_data(a)};
	steer_conf_env_t env = {
	    .zones = zones, .nzones = 1, .health = s->hc, .dbs = g->dbs, .ndbs = g->ndbs};
	assert_int_equal(
	    steer_conf_parse(&ctx, conf_get(conf_root(doc), "steering"), &env, &s->table), 0);
	conf_free(doc);
	ldns_rdf_deep_free(a);
}

/* An A query for name with an ECS option (family 1, source bits, the address's first
 * bytes) when bits >= 0. */
static size_t ecs_query(uint8_t *buf, const char *name, const char *ecs, int bits)
{
	size_t len = query(buf, name, LDNS_RR_TYPE_A, 0, NULL, NULL);
	if (bits < 0)
		return len;
	uint8_t addr[4] = {0};
	inet_pton(AF_INET, ecs, addr);
	size_t alen = ((size_t)bits + 7) / 8;
	const uint8_t opt[] = {0,
	                       0,
	                       41,
	                       4,
	                       0xd0,
	                       0,
	                       0,
	                       0,
	                       0,
	                       0,
	                       (uint8_t)(8 + alen),
	                       0,
	                       8,
	                       0,
	                       (uint8_t)(4 + alen),
	                       0,
	                       1,
	                       (uint8_t)bits,
	                       0};
	memcpy(buf + len, opt, sizeof(opt));
	memcpy(buf + len + sizeof(opt), addr, alen);
	buf[11] = 1; /* ARCOUNT */
	return len + sizeof(opt) + alen;
}

/* The reply's ECS SCOPE PREFIX-LENGTH, -1 without an ECS option. */
static int reply_scope(const ldns_pkt *p)
{
	const ldns_rdf *d = ldns_pkt_edns_data(p);
	const uint8_t *o = d ? ldns_rdf_data(d) : NULL;
	size_t n = d ? ldns_rdf_size(d) : 0;
	for (size_t i = 0; i + 8 <= n; i += 4u + (size_t)(o[i + 2] << 8 | o[i + 3]))
		if ((o[i] << 8 | o[i + 1]) == 8)
			return o[i + 7];
	return -1;
}

/* One geo answer: the last octet of the (one) A record, and the reply's scope. */
static void geo_ask(fx_t *f, steer_fx_t *s, const char *name, const char *from, const char *ecs,
                    int bits, uint8_t want_last, int want_scope)
{
	uint8_t q[512];
	size_t ql = ecs_query(q, name, ecs, bits), rl = 0;
	xfr_out_t *x = NULL;
	zone_set_t *keep = f->set;
	f->set = s->set;
	assert_int_equal(serve(f, q, ql, from, false, &rl, &x), SRV_PROCESS_REPLY);
	f->set = keep;
	ldns_pkt *p = parse(rl);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	uint8_t last = 0;
	for (size_t i = 0; i < ldns_pkt_ancount(p); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A)
			last = ldns_rdf_data(ldns_rr_rdf(rr, 0))[3];
	}
	if ((want_last && last != want_last) || reply_scope(p) != want_scope)
		fail_msg("%s from %s ECS %s/%d: .%u scope %d, want .%u scope %d", name, from,
		         ecs ? ecs : "-", bits, last, reply_scope(p), want_last, want_scope);
	ldns_pkt_free(p);
}

/* The geo stage on the answer path: the client by ECS (source > 0) or the peer (IPv4,
 * IPv4-mapped IPv6), the reply's SCOPE the deciding network's prefix (0 for /0, for names
 * without a geo policy, and absent without ECS), a CNAME chain into the name, failover
 * inside the geo list; no allocation. */
static void test_geo_answers(void **state)
{
	fx_t *f = *state;
	steer_fx_t s = {0};
	steer_conf_geo_t g = {0};
	geo_fx_init(&s, &g);
	steer_fx_finish(&s);
	steer_geo_map_t *m = NULL;
	assert_int_equal(steer_geo_map_build(steer_table_policy(s.table, 1), g.dbs[0], &m), 0);
	steer_snap_set_geo(s.pub.current, 1, m);
	steer_geo_map_unref(m);
	f->pub = &s.pub;
	f->health = s.h;
	geo_ask(f, &s, "api.example.com.", "10.1.3.1", NULL, -1, 10, -1);  /* DE: EU */
	geo_ask(f, &s, "api.example.com.", "10.1.2.1", NULL, -1, 11, -1);  /* JP */
	geo_ask(f, &s, "api.example.com.", "192.0.2.9", NULL, -1, 12, -1); /* not in it */
	geo_ask(f, &s, "api.example.com.", "::ffff:10.1.2.1", NULL, -1, 11, -1);
	geo_ask(f, &s, "api.example.com.", "10.1.3.1", "10.1.2.0", 24, 11, 25);
	geo_ask(f, &s, "api.example.com.", "10.1.2.1", "10.1.3.0", 24, 10, 24);
	geo_ask(f, &s, "api.example.com.", "10.1.2.1", "10.9.0.0", 16, 12, 13);
	geo_ask(f, &s, "api.example.com.", "10.1.2.1", "10.1.2.77", 32, 11, 25);
	geo_ask(f, &s, "api.example.com.", "10.1.2.1", "0.0.0.0", 0, 11, 0); /* /0: the peer */
	geo_ask(f, &s, "alias.example.com.", "10.1.2.1", "10.1.3.0", 24, 10, 24);
	geo_ask(f, &s, "ns1.example.com.", "10.1.2.1", "10.1.3.0", 24, 0, 0);
	/* failover inside the list: EU's eu down gives us; JP's only pool down: all-down */
	assert_int_equal(health_force(s.h, "api/192.0.2.10", HEALTH_FORCE_DOWN), 0);
	geo_ask(f, &s, "api.example.com.", "10.1.3.1", "10.1.3.0", 24, 12, 24);
	assert_int_equal(health_force(s.h, "api/192.0.2.11", HEALTH_FORCE_DOWN), 0);
	geo_ask(f, &s, "api.example.com.", "10.1.2.1", NULL, -1, 0, -1);
	f->pub = NULL;
	f->health = NULL;
	steer_fx_fini(&s);
	steer_conf_geo_fini(&g);
}

/* TXT RDATA of two character-strings of n bytes each: RDLENGTH 2 * (n + 1). */
static void txt_rr(char *buf, size_t size, const char *owner, size_t n)
{
	char str[256];
	memset(str, 'x', n);
	str[n] = '\0';
	snprintf(buf, size, "%s 3600 IN TXT \"%s\" \"%s\"", owner, str, str);
}

static ldns_pkt *answer_of(const uint8_t *q, size_t ql, const zone_set_t *set, fx_t *f, size_t *rl)
{
	struct sockaddr_storage ss = peer_addr("192.0.2.9");
	process(f, set, q, ql, (const struct sockaddr *)&ss, false);
	*rl = req.len;
	return parse(*rl);
}

/* A signed answer must fit the UDP limit with its TSIG RR (RFC 8945 5.3, RFC 6891 7): an
 * answer that fits 512 bytes unsigned but not signed comes back with TC, signed and within
 * 512 bytes (before, the TSIG went past the limit and the worker dropped it as oversize). */
static void test_signed_answer_keeps_room_for_tsig(void **state)
{
	fx_t *f = *state;
	char big[700], mid[700];
	txt_rr(big, sizeof(big), "big.example.com.", 219); /* RDLENGTH 440: ~485 bytes */
	txt_rr(mid, sizeof(mid), "mid.example.com.", 149); /* RDLENGTH 300: ~345 bytes */
	const char *rrs[] = {zone_rrs[0], zone_rrs[1], zone_rrs[2], big, mid};
	zone_t *z = NULL;
	zone_set_t *set = NULL;
	assert_int_equal(zone_new(zone_apex(f->zone), NULL, &z), 0);
	zone_publish(z, build_from(rrs, 5));
	assert_int_equal(zone_set_new(&z, 1, &set), 0);
	uint8_t q[1024];
	tsig_ctx_t client;
	size_t rl = 0;
	/* unsigned: fits 512 bytes without TC */
	size_t ql = query(q, "big.example.com.", LDNS_RR_TYPE_TXT, 0, NULL, NULL);
	ldns_pkt *p = answer_of(q, ql, set, f, &rl);
	assert_true(rl <= 512 && rl > 512 - 82);
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	/* signed: no room for the TXT beside the TSIG: TC, signed, within 512 bytes */
	ql = query(q, "big.example.com.", LDNS_RR_TYPE_TXT, 0, &f->key, &client);
	p = answer_of(q, ql, set, f, &rl);
	assert_true(rl <= 512);
	assert_true(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(tsig_verify_response(&client, resp, rl, time(NULL)), 0);
	ldns_pkt_free(p);
	/* signed and small enough: the whole answer and the TSIG */
	ql = query(q, "mid.example.com.", LDNS_RR_TYPE_TXT, 0, &f->key, &client);
	p = answer_of(q, ql, set, f, &rl);
	assert_true(rl <= 512);
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(tsig_verify_response(&client, resp, rl, time(NULL)), 0);
	ldns_pkt_free(p);
	zone_set_free(set);
	zone_free(z);
}

int main(void)
{
	rcu_register_thread();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_plain_query_answered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dispatch_allocates_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_steered_answer_renumbered_policies, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_steered_answer_allocates_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_geo_answers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_acl_and_transport, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tsig_transfer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_signed_soa_and_udp_ixfr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_signed_answer_keeps_room_for_tsig, setup,
	                                    teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_barrier_qsbr();
	rcu_unregister_thread();
	return rc;
}
