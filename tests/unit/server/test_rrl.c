/* Unit tests for response rate limiting (server/rrl.h): token buckets per (network, class),
 * refill by the millisecond clock, slip ratios, whitelist, log-only, the IPv4 / IPv6 prefixes,
 * case-insensitive names, classification from the engine's info, and the slipped form. The
 * clock is the test's: no sleeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "contrib/base/bytes.h"
#include "dns/proto.h"
#include "server/rrl.h"

static const uint8_t www[] = "\3www\7example\3com";
static const uint8_t WWW[] = "\3WwW\7EXAMPLE\3com";
static const uint8_t mail[] = "\4mail\7example\3com";
static const uint8_t apex[] = "\7example\3com";

static struct sockaddr_storage v4(const char *a)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;
	s->sin_family = AF_INET;
	s->sin_port = htons(5555);
	assert_int_equal(inet_pton(AF_INET, a, &s->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *a)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
	s->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, a, &s->sin6_addr), 1);
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static srv_rrl_conf_t conf(uint32_t rate, uint32_t slip)
{
	return (srv_rrl_conf_t){
	    .rate = rate, .slip = slip, .ipv4_prefix = 24, .ipv6_prefix = 56, .table_size = 1024};
}

static const srv_rrl_resp_t answer_www = {.cls = SRV_RRL_ANSWER, .name = www, .qtype = 1};

/* n responses at now: how many passed, slipped and were dropped. */
static void charge(srv_rrl_t *r, const struct sockaddr *sa, const srv_rrl_resp_t *resp, unsigned n,
                   uint64_t now, unsigned out[3])
{
	out[0] = out[1] = out[2] = 0;
	for (unsigned i = 0; i < n; i++)
		out[srv_rrl_check(r, sa, resp, now)]++;
}

static void test_rate_and_refill(void **state)
{
	(void)state;
	srv_rrl_conf_t c = conf(10, 2);
	srv_rrl_t *r = NULL;
	assert_int_equal(srv_rrl_new(&c, &r), 0);
	struct sockaddr_storage a = v4("192.0.2.1");
	unsigned got[3];
	uint64_t t = 5000;
	charge(r, SA(a), &answer_www, 30, t, got); /* a full bucket: one second's worth */
	assert_int_equal(got[SRV_RRL_PASS], 10);
	assert_int_equal(got[SRV_RRL_SLIP], 10); /* slip 2: every second limited one */
	assert_int_equal(got[SRV_RRL_DROP], 10);
	charge(r, SA(a), &answer_www, 5, t + 99, got); /* 10/s: not a whole token yet */
	assert_int_equal(got[SRV_RRL_PASS], 0);
	charge(r, SA(a), &answer_www, 5, t + 100, got); /* one token per 100 ms */
	assert_int_equal(got[SRV_RRL_PASS], 1);
	charge(r, SA(a), &answer_www, 5, t + 350, got);
	assert_int_equal(got[SRV_RRL_PASS], 2);
	charge(r, SA(a), &answer_www, 20, t + 5000, got); /* idle: full again, never more */
	assert_int_equal(got[SRV_RRL_PASS], 10);
	const srv_rrl_stats_t *st = srv_rrl_stats(r);
	assert_int_equal(st->limited, st->slipped + st->dropped);
	assert_int_equal(st->limited, 20 + 5 + 4 + 3 + 10);
	srv_rrl_free(r);
}

static void test_slip_ratios(void **state)
{
	(void)state;
	for (uint32_t slip = 0; slip <= 3; slip++) {
		srv_rrl_conf_t c = conf(1, slip);
		srv_rrl_t *r = NULL;
		assert_int_equal(srv_rrl_new(&c, &r), 0);
		struct sockaddr_storage a = v4("198.51.100.7");
		unsigned got[3];
		charge(r, SA(a), &answer_www, 1 + 60, 1000, got);
		assert_int_equal(got[SRV_RRL_PASS], 1);
		assert_int_equal(got[SRV_RRL_SLIP], slip ? 60 / slip : 0);
		assert_int_equal(got[SRV_RRL_DROP], slip ? 60 - 60 / slip : 60);
		srv_rrl_free(r);
	}
}

/* Buckets: one per network (IPv4 /24, IPv6 /56, mapped IPv4 as IPv4) and class + name. */
static void test_keys(void **state)
{
	(void)state;
	srv_rrl_conf_t c = conf(2, 0);
	srv_rrl_t *r = NULL;
	assert_int_equal(srv_rrl_new(&c, &r), 0);
	struct sockaddr_storage a = v4("192.0.2.1"), same = v4("192.0.2.200"),
	                        mapped = v6("::ffff:192.0.2.9"), other = v4("192.0.3.1");
	struct sockaddr_storage b = v6("2001:db8:0:1::1"), b_same = v6("2001:db8:0:ff::2"),
	                        b_other = v6("2001:db8:0:100::1");
	unsigned got[3];
	charge(r, SA(a), &answer_www, 2, 1000, got);
	assert_int_equal(got[SRV_RRL_PASS], 2);
	charge(r, SA(same), &answer_www, 1, 1000, got); /* same /24: same bucket, empty */
	assert_int_equal(got[SRV_RRL_PASS], 0);
	charge(r, SA(mapped), &answer_www, 1, 1000, got);
	assert_int_equal(got[SRV_RRL_PASS], 0);
	srv_rrl_resp_t upper = {.cls = SRV_RRL_ANSWER, .name = WWW, .qtype = 1};
	charge(r, SA(a), &upper, 1, 1000, got); /* names compare without case */
	assert_int_equal(got[SRV_RRL_PASS], 0);
	charge(r, SA(other), &answer_www, 2, 1000, got); /* another /24 */
	assert_int_equal(got[SRV_RRL_PASS], 2);
	srv_rrl_resp_t aaaa = {.cls = SRV_RRL_ANSWER, .name = www, .qtype = 28};
	charge(r, SA(a), &aaaa, 2, 1000, got); /* another qtype */
	assert_int_equal(got[SRV_RRL_PASS], 2);
	charge(r, SA(b), &answer_www, 2, 1000, got);
	assert_int_equal(got[SRV_RRL_PASS], 2);
	charge(r, SA(b_same), &answer_www, 1, 1000, got); /* same /56 */
	assert_int_equal(got[SRV_RRL_PASS], 0);
	charge(r, SA(b_other), &answer_www, 2, 1000, got); /* another /56 */
	assert_int_equal(got[SRV_RRL_PASS], 2);
	/* NXDOMAIN by zone: random names under one zone share a bucket */
	srv_rrl_resp_t nx = {.cls = SRV_RRL_NXDOMAIN, .name = apex};
	charge(r, SA(a), &nx, 3, 1000, got);
	assert_int_equal(got[SRV_RRL_PASS], 2);
	/* the ERROR class has one bucket per network */
	srv_rrl_resp_t err = {.cls = SRV_RRL_ERROR};
	charge(r, SA(a), &err, 3, 1000, got);
	assert_int_equal(got[SRV_RRL_PASS], 2);
	srv_rrl_resp_t m = {.cls = SRV_RRL_ANSWER, .name = mail, .qtype = 1};
	charge(r, SA(a), &m, 3, 1000, got);
	assert_int_equal(got[SRV_RRL_PASS], 2);
	srv_rrl_free(r);
}

static void test_whitelist_and_log_only(void **state)
{
	(void)state;
	srv_rrl_conf_t c = conf(1, 2);
	xfr_acl_rule_t wl[2] = {0};
	assert_int_equal(xfr_acl_rule_set_addr(&wl[0], "192.0.2.0/24"), 0);
	assert_int_equal(xfr_acl_rule_set_addr(&wl[1], "2001:db8::/32"), 0);
	c.whitelist = wl;
	c.nwhitelist = 2;
	srv_rrl_t *r = NULL;
	assert_int_equal(srv_rrl_new(&c, &r), 0);
	struct sockaddr_storage a = v4("192.0.2.77"), b = v6("2001:db8:1::1"),
	                        x = v4("203.0.113.1");
	unsigned got[3];
	charge(r, SA(a), &answer_www, 100, 1000, got);
	assert_int_equal(got[SRV_RRL_PASS], 100);
	charge(r, SA(b), &answer_www, 100, 1000, got);
	assert_int_equal(got[SRV_RRL_PASS], 100);
	charge(r, SA(x), &answer_www, 100, 1000, got);
	assert_int_equal(got[SRV_RRL_PASS], 1);
	assert_int_equal(srv_rrl_stats(r)->exempt, 200);
	srv_rrl_free(r);

	c = conf(1, 2);
	c.log_only = true;
	assert_int_equal(srv_rrl_new(&c, &r), 0);
	charge(r, SA(x), &answer_www, 100, 1000, got);
	assert_int_equal(got[SRV_RRL_PASS], 100);
	assert_int_equal(srv_rrl_stats(r)->limited, 99);
	assert_int_equal(srv_rrl_stats(r)->slipped + srv_rrl_stats(r)->dropped, 0);
	srv_rrl_free(r);
}

/* A table smaller than the buckets in use recycles the least recently used: no failure. */
static void test_table_full(void **state)
{
	(void)state;
	srv_rrl_conf_t c = conf(1, 0);
	c.table_size = 64;
	srv_rrl_t *r = NULL;
	assert_int_equal(srv_rrl_new(&c, &r), 0);
	unsigned got[3];
	char text[32];
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(text, sizeof(text), "10.%u.%u.1", i / 256, i % 256);
		struct sockaddr_storage a = v4(text);
		charge(r, SA(a), &answer_www, 2, 1000 + i, got);
		assert_int_equal(got[SRV_RRL_PASS], 1);
	}
	srv_rrl_free(r);
}

static void test_classify_and_slip(void **state)
{
	(void)state;
	srv_query_t q = {0};
	/* www.example.com A, answered NOERROR with one record, EDNS */
	uint8_t reply[64] = {0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 1};
	memcpy(reply + 12, www, sizeof(www));
	size_t qlen = sizeof(www) + 4;
	q.has_question = true;
	q.question_len = qlen;
	memcpy(q.qname, www, sizeof(www));
	q.qtype = 1;
	srv_answer_info_t info = {.seq = 8, .rcode = 0, .ancount = 1, .zone = apex};
	srv_rrl_resp_t r;
	srv_rrl_classify(&q, &info, 7, reply, sizeof(reply), &r);
	assert_int_equal(r.cls, SRV_RRL_ANSWER);
	assert_ptr_equal(r.name, q.qname);
	assert_int_equal(r.qtype, 1);
	info.rcode = DNS_RCODE_NXDOMAIN;
	info.ancount = 0;
	srv_rrl_classify(&q, &info, 7, reply, sizeof(reply), &r);
	assert_int_equal(r.cls, SRV_RRL_NXDOMAIN);
	assert_ptr_equal(r.name, apex);
	info.rcode = 0;
	info.cut = apex;
	srv_rrl_classify(&q, &info, 7, reply, sizeof(reply), &r);
	assert_int_equal(r.cls, SRV_RRL_REFERRAL);
	info.rcode = DNS_RCODE_REFUSED;
	srv_rrl_classify(&q, &info, 7, reply, sizeof(reply), &r);
	assert_int_equal(r.cls, SRV_RRL_ERROR);
	/* not the engine's answer (seq unchanged): the header's rcode decides */
	reply[3] = DNS_RCODE_NOTAUTH;
	srv_rrl_classify(&q, &info, 8, reply, sizeof(reply), &r);
	assert_int_equal(r.cls, SRV_RRL_ERROR);
	reply[3] = 0;
	srv_rrl_classify(&q, &info, 8, reply, sizeof(reply), &r);
	assert_int_equal(r.cls, SRV_RRL_ANSWER);

	/* slipped: header and question, TC, no records */
	size_t n = srv_rrl_slip(&q, reply, sizeof(reply));
	assert_int_equal(n, 12 + qlen);
	assert_true(be16_get(reply + 2) & DNS_FLAG_TC);
	assert_true(be16_get(reply + 2) & DNS_FLAG_QR);
	assert_int_equal(be16_get(reply + 4), 1);
	assert_int_equal(be16_get(reply + 6) | be16_get(reply + 8) | be16_get(reply + 10), 0);
	assert_memory_equal(reply + 12, www, sizeof(www));
}

/* A reply in the engine's shape to "www.example.com A" with EDNS + COOKIE, signed: one
 * answer, one NS, additional = glue, OPT (payload 1232, DO, COOKIE 8 + 16), TSIG. */
static size_t signed_cookie_reply(uint8_t *m, size_t *opt_at, size_t *opt_len)
{
	static const uint8_t head[] = {0xab, 0xcd, 0x84, 0x00, 0, 1, 0, 1, 0, 1, 0, 3};
	static const uint8_t rrs[] = {
	    0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192,  0,  2, 1, /* www A */
	    0xc0, 16, 0, 2, 0, 1, 0, 0, 1, 44, 0, 2, 0xc0, 12,       /* example.com NS www */
	    0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192,  0,  2, 1, /* glue */
	};
	static const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 28, 0, 10, 0, 24, 1,
	                              2, 3, 4,  5,    6,    7, 8, /* client cookie */
	                              1, 0, 0,  0,    0x5f, 0, 0, 0,    9, 9, 9,  9, 9,  9, 9,  9};
	static const uint8_t tsig[] = {3, 'k', 'e', 'y', 0, 0, 250, 0, 255,
	                               0, 0,   0,   0,   0, 3, 1,   2, 3};
	size_t n = 0;
	memcpy(m + n, head, sizeof(head));
	n += sizeof(head);
	memcpy(m + n, www, sizeof(www));
	n += sizeof(www);
	n = (size_t)(be16_put(be16_put(m + n, 1), 1) - m);
	memcpy(m + n, rrs, sizeof(rrs));
	n += sizeof(rrs);
	*opt_at = n;
	*opt_len = sizeof(opt);
	memcpy(m + n, opt, sizeof(opt));
	n += sizeof(opt);
	memcpy(m + n, tsig, sizeof(tsig));
	return n + sizeof(tsig);
}

/* The slipped form keeps the reply's OPT with its COOKIE (RFC 6891 7, RFC 7873 5.2) right
 * after the question, ARCOUNT 1; records and the TSIG go (the caller signs again). */
static void test_slip_keeps_opt(void **state)
{
	(void)state;
	srv_query_t q = {.has_question = true, .question_len = sizeof(www) + 4};
	uint8_t m[256], orig[256];
	size_t at, olen, len = signed_cookie_reply(m, &at, &olen);
	memcpy(orig, m, len);
	size_t n = srv_rrl_slip(&q, m, len);
	size_t qend = 12 + q.question_len;
	assert_int_equal(n, qend + olen);
	assert_int_equal(be16_get(m + 2), 0x8400 | DNS_FLAG_TC);
	assert_int_equal(be16_get(m + 4), 1);
	assert_int_equal(be16_get(m + 6), 0);
	assert_int_equal(be16_get(m + 8), 0);
	assert_int_equal(be16_get(m + 10), 1);
	assert_memory_equal(m + 12, orig + 12, q.question_len);
	assert_memory_equal(m + qend, orig + at, olen); /* payload, DO, client + server cookie */
	assert_int_equal(be16_get(m + qend + 3), 1232);
	assert_int_equal(be16_get(m + qend + 11), DNS_EDNS_COOKIE);

	/* no OPT in the reply (a request without EDNS): header and question only */
	len = signed_cookie_reply(m, &at, &olen);
	m[at + 2] = 1; /* the OPT is now an A record */
	n = srv_rrl_slip(&q, m, len);
	assert_int_equal(n, qend);
	assert_int_equal(be16_get(m + 10), 0);
	/* a reply cut short of its question is left alone */
	assert_int_equal(srv_rrl_slip(&q, m, 20), 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rate_and_refill),
	    cmocka_unit_test(test_slip_ratios),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_whitelist_and_log_only),
	    cmocka_unit_test(test_table_full),
	    cmocka_unit_test(test_classify_and_slip),
	    cmocka_unit_test(test_slip_keeps_opt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
