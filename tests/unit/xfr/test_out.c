/* test_out.c — AXFR/IXFR message generation, IXFR history and condensation, transfer ACLs.
 *
 * Every generated message is parsed back with ldns (an independent decoder, so compression
 * pointers and counts are checked by someone else's code) and its records compared as
 * presentation strings with what the zone versions hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "zone/builder.h"
#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "server/xfr/acl.h"
#include "zone/history.h"
#include "server/xfr/out.h"
#include "zone/changeset.h"

#define APEX "example.com."

/* ------------------------------------------------------------------ helpers */

typedef struct strset {
	char **v;
	size_t n, cap;
} strset_t;

static void set_add(strset_t *s, const char *str)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = realloc(s->v, s->cap * sizeof(char *));
	}
	s->v[s->n++] = strdup(str);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void set_sort(strset_t *s)
{
	qsort(s->v, s->n, sizeof(char *), cmp_str);
}

static ssize_t set_find(const strset_t *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return (ssize_t)i;
	return -1;
}

static void set_del(strset_t *s, size_t i)
{
	free(s->v[i]);
	s->v[i] = s->v[--s->n];
}

static void set_free(strset_t *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void assert_sets_equal(strset_t *a, strset_t *b)
{
	set_sort(a);
	set_sort(b);
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		assert_string_equal(a->v[i], b->v[i]);
}

static char *rr_str(const ldns_rr *rr)
{
	char *s = ldns_rr2str(rr);
	size_t l = strlen(s);
	while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == ' '))
		s[--l] = '\0';
	return s;
}

static void wire_name(const char *text, uint8_t *out)
{
	ldns_rdf *d = ldns_dname_new_frm_str(text);
	assert_non_null(d);
	memcpy(out, ldns_rdf_data(d), ldns_rdf_size(d));
	ldns_rdf_deep_free(d);
}

/* Build a version from presentation RRs (names lowercase, absolute). */
static zone_version_t *mkzone(const char *const *rrs, size_t n, strset_t *expect)
{
	uint8_t apex[256];
	wire_name(APEX, apex);
	zone_builder_t *b = NULL;
	assert_int_equal(zone_builder_new(apex, NULL, &b), 0);
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = NULL;
		assert_int_equal(ldns_rr_new_frm_str(&rr, rrs[i], 3600, NULL, NULL),
		                 LDNS_STATUS_OK);
		uint8_t rd[65535];
		size_t rdlen = 0;
		for (size_t j = 0; j < ldns_rr_rd_count(rr); j++) {
			ldns_rdf *f = ldns_rr_rdf(rr, j);
			memcpy(rd + rdlen, ldns_rdf_data(f), ldns_rdf_size(f));
			rdlen += ldns_rdf_size(f);
		}
		ldns_rdf *owner = ldns_rr_owner(rr);
		assert_int_equal(zone_builder_add(b, ldns_rdf_data(owner), ldns_rr_get_type(rr),
		                                  ldns_rr_get_class(rr), ldns_rr_ttl(rr), rd,
		                                  (uint16_t)rdlen, "test"),
		                 0);
		if (expect != NULL && ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA) {
			char *s = rr_str(rr);
			set_add(expect, s);
			free(s);
		}
		ldns_rr_free(rr);
	}
	zone_version_t *v = NULL;
	assert_int_equal(zone_builder_finish(b, &v), 0);
	return v;
}

static const char *soa_text(uint32_t serial)
{
	static char buf[160];
	snprintf(buf, sizeof(buf),
	         APEX " 3600 IN SOA ns1.example.com. hostmaster.example.com. %u 7200 900 "
	              "1209600 300",
	         serial);
	return buf;
}

/* A query for APEX with qtype; IXFR carries serial in authority. */
static size_t mkquery(uint8_t *buf, uint16_t qtype, uint32_t serial, bool edns)
{
	ldns_pkt *p = NULL;
	assert_int_equal(ldns_pkt_query_new_frm_str(&p, "EXAMPLE.com.", (ldns_rr_type)qtype,
	                                            LDNS_RR_CLASS_IN, 0),
	                 LDNS_STATUS_OK);
	ldns_pkt_set_id(p, 4242);
	if (qtype == LDNS_RR_TYPE_IXFR) {
		ldns_rr *soa = NULL;
		assert_int_equal(ldns_rr_new_frm_str(&soa, soa_text(serial), 0, NULL, NULL),
		                 LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, soa);
	}
	if (edns) {
		ldns_pkt_set_edns_udp_size(p, 1232);
	}
	uint8_t *wire = NULL;
	size_t len = 0;
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	memcpy(buf, wire, len);
	free(wire);
	ldns_pkt_free(p);
	return len;
}

/* Run a transfer to the end; collect every answer RR as text in order. */
typedef struct run {
	strset_t rrs; /* in order */
	unsigned messages;
	unsigned with_question;
	unsigned with_opt;
	size_t max_len;
} run_t;

static void run_xfr(xfr_out_t *x, size_t cap, run_t *r, tsig_ctx_t *client)
{
	static uint8_t buf[65535];
	memset(r, 0, sizeof(*r));
	while (!xfr_out_done(x)) {
		size_t len = 0;
		assert_int_equal(xfr_out_next(x, buf, cap, time(NULL), &len), 0);
		assert_true(len <= cap);
		if (client != NULL)
			assert_int_equal(tsig_verify_response(client, buf, len, time(NULL)), 0);
		ldns_pkt *p = NULL;
		assert_int_equal(ldns_wire2pkt(&p, buf, len), LDNS_STATUS_OK);
		assert_int_equal(ldns_pkt_id(p), 4242);
		assert_true(ldns_pkt_qr(p));
		assert_true(ldns_pkt_aa(p));
		assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		if (ldns_pkt_qdcount(p) == 1)
			r->with_question++;
		if (ldns_pkt_edns(p))
			r->with_opt++;
		ldns_rr_list *an = ldns_pkt_answer(p);
		assert_true(ldns_rr_list_rr_count(an) > 0);
		for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
			char *s = rr_str(ldns_rr_list_rr(an, i));
			set_add(&r->rrs, s);
			free(s);
		}
		ldns_pkt_free(p);
		r->messages++;
		if (len > r->max_len)
			r->max_len = len;
		assert_true(r->messages < 10000);
	}
}

static xfr_out_t *start(const uint8_t *q, size_t qlen, const zone_version_t *v,
                        const zone_history_t *h, bool udp, size_t udp_max, const tsig_ctx_t *tsig)
{
	static xfr_request_t req;
	assert_int_equal(xfr_request_parse(q, qlen, &req), 0);
	xfr_out_params_t p = {.req = &req,
	                      .version = v,
	                      .history = h,
	                      .tsig = tsig,
	                      .udp = udp,
	                      .udp_max = udp_max,
	                      .edns_payload = 1232};
	xfr_out_t *x = NULL;
	assert_int_equal(xfr_out_new(&p, &x), 0);
	return x;
}

/* A zone big enough for several 64 KiB messages. */
#define BIG_N 3000
static zone_version_t *big_zone(uint32_t serial, strset_t *expect, int variant)
{
	size_t n = BIG_N + 6;
	char **rrs = calloc(n, sizeof(char *));
	rrs[0] = strdup(soa_text(serial));
	rrs[1] = strdup(APEX " 3600 IN NS ns1.example.com.");
	rrs[2] = strdup(APEX " 3600 IN NS ns2.example.com.");
	rrs[3] = strdup("ns1.example.com. 3600 IN A 192.0.2.1");
	rrs[4] = strdup("ns2.example.com. 3600 IN AAAA 2001:db8::2");
	rrs[5] = strdup(APEX " 3600 IN MX 10 mail.example.com.");
	for (size_t i = 0; i < BIG_N; i++) {
		char b[200];
		snprintf(b, sizeof(b),
		         "h%zu.sub.example.com. %d IN TXT \"%s-%zu-0123456789abcdef\"", i,
		         variant == 2 && i % 100 == 7 ? 60 : 300,
		         variant == 1 && i % 50 == 0 ? "changed" : "record", i);
		rrs[6 + i] = strdup(b);
	}
	zone_version_t *v = mkzone((const char *const *)rrs, n, expect);
	for (size_t i = 0; i < n; i++)
		free(rrs[i]);
	free(rrs);
	return v;
}

static bool is_soa(const char *s, uint32_t serial)
{
	char needle[32];
	snprintf(needle, sizeof(needle), " %u 7200 ", serial);
	return strstr(s, "\tSOA\t") != NULL && strstr(s, needle) != NULL;
}

/* ------------------------------------------------------------------ AXFR */

static void check_axfr(const run_t *r, const strset_t *expect, uint32_t serial)
{
	assert_true(r->rrs.n >= 2);
	assert_true(is_soa(r->rrs.v[0], serial));
	assert_true(is_soa(r->rrs.v[r->rrs.n - 1], serial));
	assert_int_equal(r->rrs.n, expect->n + 2);
	strset_t body = {0}, exp = {0};
	for (size_t i = 1; i + 1 < r->rrs.n; i++) {
		assert_false(strstr(r->rrs.v[i], "\tSOA\t") != NULL);
		set_add(&body, r->rrs.v[i]);
	}
	for (size_t i = 0; i < expect->n; i++)
		set_add(&exp, expect->v[i]);
	/* equal sorted lists of equal length: every RR exactly once */
	assert_sets_equal(&body, &exp);
	set_free(&body);
	set_free(&exp);
}

static void test_axfr_multi_message(void **state)
{
	strset_t expect = {0};
	zone_version_t *v = big_zone(2024010101, &expect, 0);
	uint8_t q[512];
	size_t ql = mkquery(q, LDNS_RR_TYPE_AXFR, 0, false);
	xfr_out_t *x = start(q, ql, v, NULL, false, 0, NULL);
	assert_int_equal(xfr_out_kind(x), XFR_OUT_AXFR);
	zone_version_unref(v); /* the transfer holds its own reference */
	run_t r;
	run_xfr(x, 65535, &r, NULL);
	assert_true(r.messages >= 2);
	assert_int_equal(r.with_question, 1);
	assert_int_equal(r.with_opt, 0);
	assert_true(r.max_len > 60000); /* messages are filled, not one RR each */
	check_axfr(&r, &expect, 2024010101);
	assert_int_equal(xfr_out_rrs(x), expect.n + 2);
	assert_int_equal(xfr_out_messages(x), r.messages);
	size_t len;
	uint8_t buf[512];
	assert_int_equal(xfr_out_next(x, buf, sizeof(buf), 0, &len), SD_ENOTFOUND);
	xfr_out_free(x);
	set_free(&r.rrs);
	set_free(&expect);
}

static void test_axfr_small_buffers_and_edns(void **state)
{
	strset_t expect = {0};
	zone_version_t *v = big_zone(7, &expect, 0);
	uint8_t q[512];
	size_t ql = mkquery(q, LDNS_RR_TYPE_AXFR, 0, true);
	xfr_out_t *x = start(q, ql, v, NULL, false, 0, NULL);
	run_t r;
	run_xfr(x, 2048, &r, NULL);
	assert_true(r.messages > 40);
	assert_int_equal(r.with_opt, r.messages); /* RFC 6891 7: OPT in every response */
	check_axfr(&r, &expect, 7);
	xfr_out_free(x);
	zone_version_unref(v);
	set_free(&r.rrs);
	set_free(&expect);
}

static void test_axfr_udp_refused(void **state)
{
	zone_version_t *v = big_zone(7, NULL, 0);
	uint8_t q[512];
	size_t ql = mkquery(q, LDNS_RR_TYPE_AXFR, 0, false);
	xfr_request_t req;
	assert_int_equal(xfr_request_parse(q, ql, &req), 0);
	assert_int_equal(req.qtype, DNS_TYPE_AXFR);
	xfr_out_params_t p = {.req = &req, .version = v, .udp = true, .udp_max = 512};
	xfr_out_t *x = NULL;
	assert_int_equal(xfr_out_new(&p, &x), SD_EREFUSED);
	zone_version_unref(v);
}

static void test_axfr_tsig_every_message(void **state)
{
	tsig_key_t key;
	assert_int_equal(tsig_key_init(&key, "xfr-key.", "hmac-sha256",
	                               "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ=="),
	                 0);
	strset_t expect = {0};
	zone_version_t *v = big_zone(99, &expect, 0);
	uint8_t q[1024];
	size_t ql = mkquery(q, LDNS_RR_TYPE_AXFR, 0, false);
	tsig_ctx_t client, server;
	tsig_ctx_init(&client, &key);
	assert_int_equal(tsig_sign_request(&client, q, &ql, sizeof(q), time(NULL)), 0);
	const tsig_key_t *keys[] = {&key};
	assert_int_equal(tsig_verify_request(&server, keys, 1, q, ql, time(NULL)), 0);
	xfr_out_t *x = start(q, ql, v, NULL, false, 0, &server);
	run_t r;
	run_xfr(x, 65535, &r, &client); /* verifies each message, RFC 8945 5.3.1 chaining */
	assert_true(r.messages >= 2);
	check_axfr(&r, &expect, 99);
	xfr_out_free(x);
	zone_version_unref(v);
	set_free(&r.rrs);
	set_free(&expect);
}

/* ------------------------------------------------------------------ IXFR */

typedef struct ixfr_fixture {
	zone_version_t *v1, *v2, *v3;
	strset_t e1, e2, e3;
	zone_history_t *h;
} ixfr_fixture_t;

static void add_diff(zone_history_t *h, const zone_version_t *a, const zone_version_t *b)
{
	zone_changeset_t *cs = NULL;
	assert_int_equal(zone_changeset_diff(a, b, &cs), 0);
	zone_diff_t *d = NULL;
	assert_int_equal(zone_diff_new(cs, &d), 0);
	assert_int_equal(zone_history_add(h, d), 0);
}

static int ixfr_setup(void **state)
{
	ixfr_fixture_t *f = calloc(1, sizeof(*f));
	f->v1 = big_zone(100, &f->e1, 0);
	f->v2 = big_zone(101, &f->e2, 1); /* 60 TXT changed */
	f->v3 = big_zone(102, &f->e3, 2); /* changes of v2 reverted, 30 TTLs changed */
	assert_int_equal(zone_history_new(10, 0, &f->h), 0);
	add_diff(f->h, f->v1, f->v2);
	add_diff(f->h, f->v2, f->v3);
	*state = f;
	return 0;
}

static int ixfr_teardown(void **state)
{
	ixfr_fixture_t *f = *state;
	zone_version_unref(f->v1);
	zone_version_unref(f->v2);
	zone_version_unref(f->v3);
	set_free(&f->e1);
	set_free(&f->e2);
	set_free(&f->e3);
	zone_history_free(f->h);
	rcu_barrier_qsbr();
	free(f);
	return 0;
}

/* Check RFC 1995 framing and that applying the reply's differences to `from` gives `to`:
 * SOA(cur), then per difference SOA(old), removed..., SOA(new), added..., then SOA(cur). */
static unsigned apply_ixfr(const run_t *r, const strset_t *from, const strset_t *to, uint32_t cur)
{
	const strset_t *rr = &r->rrs;
	assert_true(is_soa(rr->v[0], cur));
	assert_true(is_soa(rr->v[rr->n - 1], cur));
	strset_t s = {0}, t = {0};
	for (size_t i = 0; i < from->n; i++)
		set_add(&s, from->v[i]);
	for (size_t i = 0; i < to->n; i++)
		set_add(&t, to->v[i]);
	unsigned steps = 0;
	size_t i = 1;
	while (i + 1 < rr->n) {
		assert_non_null(strstr(rr->v[i], "\tSOA\t")); /* SOA(old) */
		i++;
		for (; strstr(rr->v[i], "\tSOA\t") == NULL; i++) {
			ssize_t k = set_find(&s, rr->v[i]);
			assert_true(k >= 0); /* a removed RR must exist */
			set_del(&s, (size_t)k);
		}
		i++; /* SOA(new) */
		for (; i + 1 < rr->n && strstr(rr->v[i], "\tSOA\t") == NULL; i++) {
			assert_true(set_find(&s, rr->v[i]) < 0); /* an added RR must not */
			set_add(&s, rr->v[i]);
		}
		steps++;
	}
	assert_sets_equal(&s, &t);
	set_free(&s);
	set_free(&t);
	return steps;
}

static void test_ixfr_condensed(void **state)
{
	ixfr_fixture_t *f = *state;
	uint8_t q[512];
	size_t ql = mkquery(q, LDNS_RR_TYPE_IXFR, 100, false);
	xfr_out_t *x = start(q, ql, f->v3, f->h, false, 0, NULL);
	assert_int_equal(xfr_out_kind(x), XFR_OUT_IXFR);
	run_t r;
	run_xfr(x, 65535, &r, NULL);
	assert_int_equal(apply_ixfr(&r, &f->e1, &f->e3, 102), 1); /* one condensed step */
	/* v2's TXT changes were reverted in v3: condensed away. Left: 30 TTL changes, each a
	 * removal and an addition, and the four SOAs. */
	assert_int_equal(r.rrs.n, 4 + 2 * 30);
	assert_true(is_soa(r.rrs.v[1], 100));
	xfr_out_free(x);
	set_free(&r.rrs);
}

static void test_ixfr_single_step(void **state)
{
	ixfr_fixture_t *f = *state;
	uint8_t q[512];
	size_t ql = mkquery(q, LDNS_RR_TYPE_IXFR, 101, false);
	xfr_out_t *x = start(q, ql, f->v3, f->h, false, 0, NULL);
	assert_int_equal(xfr_out_kind(x), XFR_OUT_IXFR);
	run_t r;
	run_xfr(x, 65535, &r, NULL);
	assert_int_equal(apply_ixfr(&r, &f->e2, &f->e3, 102), 1);
	assert_int_equal(r.messages, 1);
	assert_int_equal(r.rrs.n, 4 + 2 * 60 + 2 * 30);
	xfr_out_free(x);
	set_free(&r.rrs);
}

static void test_ixfr_current_and_newer(void **state)
{
	ixfr_fixture_t *f = *state;
	uint32_t serials[] = {102, 103, 5000};
	for (size_t i = 0; i < 3; i++) {
		uint8_t q[512];
		size_t ql = mkquery(q, LDNS_RR_TYPE_IXFR, serials[i], false);
		xfr_out_t *x = start(q, ql, f->v3, f->h, false, 0, NULL);
		assert_int_equal(xfr_out_kind(x), XFR_OUT_IXFR_CURRENT);
		run_t r;
		run_xfr(x, 65535, &r, NULL);
		assert_int_equal(r.rrs.n, 1);
		assert_true(is_soa(r.rrs.v[0], 102));
		xfr_out_free(x);
		set_free(&r.rrs);
	}
}

static void test_ixfr_unknown_serial_full_zone(void **state)
{
	ixfr_fixture_t *f = *state;
	uint8_t q[512];
	size_t ql = mkquery(q, LDNS_RR_TYPE_IXFR, 50, false);
	xfr_out_t *x = start(q, ql, f->v3, f->h, false, 0, NULL);
	assert_int_equal(xfr_out_kind(x), XFR_OUT_IXFR_AXFR);
	run_t r;
	run_xfr(x, 65535, &r, NULL);
	check_axfr(&r, &f->e3, 102);
	xfr_out_free(x);
	set_free(&r.rrs);
	/* no history at all: the same */
	x = start(q, ql, f->v3, NULL, false, 0, NULL);
	assert_int_equal(xfr_out_kind(x), XFR_OUT_IXFR_AXFR);
	xfr_out_free(x);
	/* history that does not reach the served version: full zone too */
	ql = mkquery(q, LDNS_RR_TYPE_IXFR, 100, false);
	x = start(q, ql, f->v2, f->h, false, 0, NULL);
	assert_int_equal(xfr_out_kind(x), XFR_OUT_IXFR_AXFR);
	xfr_out_free(x);
}

static void test_ixfr_udp(void **state)
{
	ixfr_fixture_t *f = *state;
	uint8_t q[512];
	/* does not fit 1232 bytes: SOA only (RFC 1995 2) */
	size_t ql = mkquery(q, LDNS_RR_TYPE_IXFR, 101, true);
	xfr_out_t *x = start(q, ql, f->v3, f->h, true, 1232, NULL);
	run_t r;
	run_xfr(x, 65535, &r, NULL);
	assert_int_equal(xfr_out_kind(x), XFR_OUT_IXFR_UDP_SOA);
	assert_int_equal(r.messages, 1);
	assert_int_equal(r.with_question, 1);
	assert_int_equal(r.rrs.n, 1);
	assert_true(r.max_len <= 1232);
	xfr_out_free(x);
	set_free(&r.rrs);
	/* a small difference fits: the whole reply in one datagram */
	strset_t e4 = {0};
	zone_version_t *v4 = big_zone(103, &e4, 2);
	zone_history_t *h = NULL;
	assert_int_equal(zone_history_new(4, 0, &h), 0);
	add_diff(h, f->v3, v4); /* only the SOA differs */
	ql = mkquery(q, LDNS_RR_TYPE_IXFR, 102, true);
	x = start(q, ql, v4, h, true, 1232, NULL);
	run_xfr(x, 65535, &r, NULL);
	assert_int_equal(xfr_out_kind(x), XFR_OUT_IXFR);
	assert_int_equal(r.messages, 1);
	assert_int_equal(r.rrs.n, 4);
	assert_true(is_soa(r.rrs.v[1], 102));
	assert_true(is_soa(r.rrs.v[2], 103));
	xfr_out_free(x);
	set_free(&r.rrs);
	set_free(&e4);
	zone_version_unref(v4);
	zone_history_free(h);
}

static void test_ixfr_survives_history_change(void **state)
{
	ixfr_fixture_t *f = *state;
	uint8_t q[512];
	size_t ql = mkquery(q, LDNS_RR_TYPE_IXFR, 101, false);
	xfr_out_t *x = start(q, ql, f->v3, f->h, false, 0, NULL);
	zone_history_clear(f->h);
	rcu_barrier_qsbr(); /* old snapshots released: the transfer holds its own diff */
	run_t r;
	run_xfr(x, 65535, &r, NULL);
	assert_int_equal(apply_ixfr(&r, &f->e2, &f->e3, 102), 1);
	xfr_out_free(x);
	set_free(&r.rrs);
}

/* ------------------------------------------------------------------ history limits */

static zone_changeset_t *soa_only_cs(uint32_t from, uint32_t to)
{
	uint8_t apex[256], rd[256];
	wire_name(APEX, apex);
	size_t l = 0;
	wire_name("ns1.example.com.", rd);
	l = 17;
	wire_name("hostmaster.example.com.", rd + l);
	l += 24;
	memset(rd + l, 0, 20);
	zone_rr_t a = {.owner = apex,
	               .type = 6,
	               .rclass = 1,
	               .ttl = 60,
	               .rdlen = (uint16_t)(l + 20),
	               .rdata = rd};
	uint8_t rd2[256];
	memcpy(rd2, rd, l + 20);
	be32_put(rd + l, from);
	be32_put(rd2 + l, to);
	zone_rr_t b = a;
	b.rdata = rd2;
	zone_changeset_t *cs = NULL;
	assert_int_equal(zone_changeset_new(&cs), 0);
	assert_int_equal(zone_changeset_set_soa(cs, &a, &b), 0);
	return cs;
}

static void push(zone_history_t *h, uint32_t from, uint32_t to)
{
	zone_diff_t *d = NULL;
	assert_int_equal(zone_diff_new(soa_only_cs(from, to), &d), 0);
	assert_int_equal(d->from, from);
	assert_int_equal(d->to, to);
	assert_int_equal(zone_history_add(h, d), 0);
}

static void test_history_limits(void **state)
{
	zone_history_t *h = NULL;
	assert_int_equal(zone_history_new(3, 0, &h), 0);
	for (uint32_t s = 1; s <= 5; s++)
		push(h, s, s + 1);
	zone_history_snap_t *s = zone_history_acquire(h);
	assert_int_equal(zone_history_snap_count(s), 3); /* depth limit: 3->4, 4->5, 5->6 */
	size_t idx = 9;
	assert_int_equal(zone_history_snap_find(s, 3, &idx), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(zone_history_snap_find(s, 2, &idx), SD_ENOTFOUND);
	/* a discontinuity restarts the chain; the old snapshot stays valid for its holder */
	push(h, 40, 41);
	zone_history_snap_t *s2 = zone_history_acquire(h);
	assert_int_equal(zone_history_snap_count(s2), 1);
	assert_int_equal(zone_history_snap_diff(s2, 0)->from, 40);
	assert_int_equal(zone_history_snap_count(s), 3);
	assert_int_equal(zone_history_snap_diff(s, 2)->to, 6);
	zone_history_snap_release(s);
	zone_history_snap_release(s2);
	zone_history_free(h);
	/* byte limit: each SOA-only diff is two SOA RRs */
	zone_changeset_t *probe = soa_only_cs(1, 2);
	size_t sz = zone_changeset_wire_size(probe);
	zone_changeset_free(probe);
	assert_int_equal(zone_history_new(100, 2 * sz, &h), 0);
	for (uint32_t i = 1; i <= 5; i++)
		push(h, i, i + 1);
	s = zone_history_acquire(h);
	assert_int_equal(zone_history_snap_count(s), 2);
	assert_int_equal(zone_history_snap_diff(s, 0)->from, 4);
	zone_history_snap_release(s);
	zone_history_free(h);
	/* a diff larger than the byte limit leaves the history empty */
	assert_int_equal(zone_history_new(100, sz - 1, &h), 0);
	push(h, 1, 2);
	s = zone_history_acquire(h);
	assert_int_equal(zone_history_snap_count(s), 0);
	zone_history_snap_release(s);
	zone_history_free(h);
	rcu_barrier_qsbr();
}

/* ------------------------------------------------------------------ requests */

static void test_request_parse(void **state)
{
	uint8_t q[512];
	xfr_request_t r;
	size_t ql = mkquery(q, LDNS_RR_TYPE_IXFR, 12345, true);
	assert_int_equal(xfr_request_parse(q, ql, &r), 0);
	assert_int_equal(r.qtype, DNS_TYPE_IXFR);
	assert_true(r.has_serial);
	assert_int_equal(r.serial, 12345);
	assert_true(r.edns);
	assert_int_equal(r.edns_payload, 1232);
	uint8_t apex[256];
	wire_name(APEX, apex);
	assert_true(dname_equal(r.qname, apex));
	assert_int_equal(r.question[1], 'E'); /* raw question kept for echoing */
	/* IXFR without the SOA in authority */
	ql = mkquery(q, LDNS_RR_TYPE_IXFR, 1, false);
	q[9] = 0;
	assert_int_equal(xfr_request_parse(q, ql, &r), SD_EPARSE);
	/* truncated, trailing garbage, a response */
	ql = mkquery(q, LDNS_RR_TYPE_AXFR, 0, false);
	assert_int_equal(xfr_request_parse(q, ql - 1, &r), SD_EPARSE);
	assert_int_equal(xfr_request_parse(q, ql + 1, &r), SD_EPARSE);
	q[2] |= 0x80;
	assert_int_equal(xfr_request_parse(q, ql, &r), SD_EPARSE);
}

/* ------------------------------------------------------------------ ACL */

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss = {0};
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return ss;
}

static bool allows(const xfr_acl_rule_t *rules, size_t n, const char *a, const tsig_key_t *k)
{
	struct sockaddr_storage ss = addr(a);
	return xfr_acl_allows(rules, n, (const struct sockaddr *)&ss, k);
}

static void test_acl(void **state)
{
	tsig_key_t k1, k2;
	assert_int_equal(tsig_key_init(&k1, "k1.", "hmac-sha256",
	                               "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ=="),
	                 0);
	assert_int_equal(tsig_key_init(&k2, "k2.", "hmac-sha256",
	                               "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ=="),
	                 0);
	xfr_acl_rule_t r[3];
	memset(r, 0, sizeof(r));
	assert_int_equal(xfr_acl_rule_set_addr(&r[0], "192.0.2.0/25"), 0);
	assert_int_equal(xfr_acl_rule_set_addr(&r[1], "2001:db8::/32"), 0);
	xfr_acl_rule_set_key(&r[1], k1.name);
	xfr_acl_rule_set_key(&r[2], k2.name);
	/* deny by default */
	assert_false(allows(r, 0, "192.0.2.1", NULL));
	/* address-only rule */
	assert_true(allows(r, 3, "192.0.2.1", NULL));
	assert_true(allows(r, 3, "192.0.2.127", &k1));
	assert_false(allows(r, 3, "192.0.2.128", NULL));
	assert_true(allows(r, 3, "::ffff:192.0.2.5", NULL)); /* v4-mapped */
	/* address + key: both needed */
	assert_false(allows(r, 3, "2001:db8::1", NULL));
	assert_true(allows(r, 3, "2001:db8::1", &k1));
	assert_false(allows(r, 3, "2001:db9::1", &k1));
	/* key-only rule */
	assert_true(allows(r, 3, "198.51.100.1", &k2));
	assert_true(allows(r, 3, "2001:db9::1", &k2));
	assert_false(allows(r, 3, "198.51.100.1", &k1));
	assert_true(xfr_acl_allows(r, 3, NULL, &k2));
	assert_false(xfr_acl_allows(r, 3, NULL, NULL));
	/* prefix edge cases */
	xfr_acl_rule_t e;
	memset(&e, 0, sizeof(e));
	assert_int_equal(xfr_acl_rule_set_addr(&e, "10.1.2.3/8"), SD_EPARSE);
	assert_int_equal(xfr_acl_rule_set_addr(&e, "10.0.0.0/33"), SD_EPARSE);
	assert_int_equal(xfr_acl_rule_set_addr(&e, "10.0.0.0/"), SD_EPARSE);
	assert_int_equal(xfr_acl_rule_set_addr(&e, "nonsense"), SD_EPARSE);
	assert_int_equal(xfr_acl_rule_set_addr(&e, "0.0.0.0/0"), 0);
	assert_true(allows(&e, 1, "203.0.113.9", NULL));
	assert_false(allows(&e, 1, "2001:db8::1", NULL));
	assert_int_equal(xfr_acl_rule_set_addr(&e, "::1"), 0);
	assert_true(allows(&e, 1, "::1", NULL));
	assert_false(allows(&e, 1, "::2", NULL));
	assert_int_equal(xfr_acl_rule_set_addr(&e, "192.0.3.0/23"), SD_EPARSE);
	assert_int_equal(xfr_acl_rule_set_addr(&e, "192.0.2.0/31"), 0);
	assert_true(allows(&e, 1, "192.0.2.1", NULL));
	assert_false(allows(&e, 1, "192.0.2.2", NULL));
}

int main(void)
{
	rcu_register_thread();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_parse),
	    cmocka_unit_test(test_axfr_multi_message),
	    cmocka_unit_test(test_axfr_small_buffers_and_edns),
	    cmocka_unit_test(test_axfr_udp_refused),
	    cmocka_unit_test(test_axfr_tsig_every_message),
	    cmocka_unit_test_setup_teardown(test_ixfr_condensed, ixfr_setup, ixfr_teardown),
	    cmocka_unit_test_setup_teardown(test_ixfr_single_step, ixfr_setup, ixfr_teardown),
	    cmocka_unit_test_setup_teardown(test_ixfr_current_and_newer, ixfr_setup, ixfr_teardown),
	    cmocka_unit_test_setup_teardown(test_ixfr_unknown_serial_full_zone, ixfr_setup,
	                                    ixfr_teardown),
	    cmocka_unit_test_setup_teardown(test_ixfr_udp, ixfr_setup, ixfr_teardown),
	    cmocka_unit_test_setup_teardown(test_ixfr_survives_history_change, ixfr_setup,
	                                    ixfr_teardown),
	    cmocka_unit_test(test_history_limits),
	    cmocka_unit_test(test_acl),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_barrier_qsbr();
	rcu_unregister_thread();
	return rc;
}
