/* Unit tests for DNS cookies (server/cookie.h, RFC 7873 + RFC 9018): the server cookies of
 * RFC 9018 appendix A reproduced byte for byte; the verdicts (client cookie only, valid and
 * echoed, valid but re-issued after half an hour, expired, from the future, forged, made
 * with the previous secret, gone after a second rotation); BADCOOKIE under require, UDP
 * only; the parser's COOKIE lengths (RFC 7873 5.2.2); and whole replies through the front
 * door: the COOKIE option echoed with our server cookie, BADCOOKIE as extended RCODE 23. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "contrib/base/bytes.h"
#include "dns/proto.h"
#include "server/cookie.h"
#include "server/front.h"

static void unhex(const char *h, uint8_t *out)
{
	for (size_t i = 0; h[2 * i]; i++) {
		unsigned v;
		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss = {0};
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
		s->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &s->sin6_addr), 1);
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;
		s->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &s->sin_addr), 1);
	}
	return ss;
}

/* RFC 9018 appendix A.1 to A.4. */
static void test_rfc9018_vectors(void **state)
{
	(void)state;
	static const struct {
		const char *secret, *client, *ip;
		uint32_t now;
		const char *want; /* client cookie | server cookie */
	} v[] = {
	    {"e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "198.51.100.100", 1559731985,
	     "2464c4abcf10c957010000005cf79f111f8130c3eee29480"},
	    {"e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "198.51.100.100", 1559734385,
	     "2464c4abcf10c957010000005cf7a871d4a564a1442aca77"},
	    {"e5e973e5a6b2a43f48e7dc849e37bfcf", "fc93fc62807ddb86", "203.0.113.203", 1559734700,
	     "fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e"},
	    {"445536bcd2513298075a5d379663c962", "22681ab97d52c298",
	     "2001:db8:220:1:59de:d0f4:8769:82b8", 1559741961,
	     "22681ab97d52c298010000005cf7c609a6bb79d16625507a"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t secret[16], client[8], want[24], out[16];
		unhex(v[i].secret, secret);
		unhex(v[i].client, client);
		unhex(v[i].want, want);
		struct sockaddr_storage a = addr(v[i].ip);
		srv_cookie_make(secret, client, (const struct sockaddr *)&a, v[i].now, out);
		assert_memory_equal(out, want + 8, 16);
	}
}

/* A query "www.example.com A" with EDNS and a COOKIE option of clen bytes from cookie. */
static size_t query(uint8_t *m, const uint8_t *cookie, size_t clen)
{
	static const uint8_t head[] = {0x12, 0x34, 0x00, 0x00, 0,   1,   0,   0,   0,   0,   0,
	                               1,    3,    'w',  'w',  'w', 7,   'e', 'x', 'a', 'm', 'p',
	                               'l',  'e',  3,    'c',  'o', 'm', 0,   0,   1,   0,   1};
	size_t n = sizeof(head);
	memcpy(m, head, n);
	m[n++] = 0; /* OPT: root, type 41, payload 1232, ttl 0, rdlength */
	n = (size_t)(be16_put(m + n, DNS_TYPE_OPT) - m);
	n = (size_t)(be16_put(m + n, 1232) - m);
	n = (size_t)(be32_put(m + n, 0) - m);
	n = (size_t)(be16_put(m + n, (uint16_t)(clen + 4)) - m);
	n = (size_t)(be16_put(m + n, DNS_EDNS_COOKIE) - m);
	n = (size_t)(be16_put(m + n, (uint16_t)clen) - m);
	memcpy(m + n, cookie, clen);
	return n + clen;
}

typedef struct {
	uint8_t msg[512];
	srv_query_t q;
	struct sockaddr_storage peer;
	srv_cookie_stats_t st;
} cq_t;

/* Parse a query carrying cookie[0..clen) from 192.0.2.7 and decide it with s at now. */
static void decide(cq_t *c, const srv_cookie_secrets_t *s, const uint8_t *cookie, size_t clen,
                   uint32_t now, bool tcp)
{
	c->peer = addr("192.0.2.7");
	size_t n = query(c->msg, cookie, clen);
	assert_int_equal(srv_query_parse(c->msg, n, &c->q), 0);
	assert_false(c->q.malformed);
	assert_true(c->q.has_cookie);
	c->q.client = (const struct sockaddr *)&c->peer;
	c->q.tcp = tcp;
	srv_cookie_process(s, &c->q, now, &c->st);
}

static void test_verdicts(void **state)
{
	(void)state;
	srv_cookie_secrets_t s = {0};
	memset(s.current, 0x11, 16);
	memset(s.previous, 0x22, 16);
	const uint32_t t0 = 2000000000u;
	uint8_t ck[24] = {1, 2, 3, 4, 5, 6, 7, 8};
	cq_t *c = calloc(1, sizeof(*c));

	decide(c, &s, ck, 8, t0, false); /* client cookie only: a fresh server cookie */
	assert_false(c->q.cookie_valid);
	assert_true(c->q.cookie_reply);
	assert_false(c->q.cookie_badcookie);
	struct sockaddr_storage me = addr("192.0.2.7");
	uint8_t want[16];
	srv_cookie_make(s.current, ck, (const struct sockaddr *)&me, t0, want);
	assert_memory_equal(c->q.cookie_server, want, 16);
	assert_int_equal(c->st.client_only, 1);

	memcpy(ck + 8, want, 16); /* presented back 10 minutes later: valid, echoed */
	decide(c, &s, ck, 24, t0 + 600, false);
	assert_true(c->q.cookie_valid);
	assert_memory_equal(c->q.cookie_server, want, 16);
	decide(c, &s, ck, 24, t0 + 1800, false); /* half an hour old: valid, re-issued */
	assert_true(c->q.cookie_valid);
	assert_int_equal(be32_get(c->q.cookie_server + 4), t0 + 1800);
	decide(c, &s, ck, 24, t0 + 3600, false); /* one hour: still valid */
	assert_true(c->q.cookie_valid);
	decide(c, &s, ck, 24, t0 + 3601, false); /* older: invalid, a fresh one */
	assert_false(c->q.cookie_valid);
	assert_int_equal(be32_get(c->q.cookie_server + 4), t0 + 3601);
	decide(c, &s, ck, 24, t0 - 300, false); /* five minutes ahead of us: still valid */
	assert_true(c->q.cookie_valid);
	decide(c, &s, ck, 24, t0 - 301, false); /* further: invalid */
	assert_false(c->q.cookie_valid);

	uint8_t forged[24];
	memcpy(forged, ck, 24);
	forged[23] ^= 1;
	decide(c, &s, forged, 24, t0 + 1, false);
	assert_false(c->q.cookie_valid);
	assert_int_equal(c->st.invalid, 3);
	decide(c, &s, ck, 16, t0 + 1, false); /* a server cookie of another length: not ours */
	assert_false(c->q.cookie_valid);

	/* the other client address: not valid (the address is in the hash) */
	c->peer = addr("192.0.2.8");
	size_t n = query(c->msg, ck, 24);
	assert_int_equal(srv_query_parse(c->msg, n, &c->q), 0);
	c->q.client = (const struct sockaddr *)&c->peer;
	srv_cookie_process(&s, &c->q, t0 + 1, &c->st);
	assert_false(c->q.cookie_valid);

	/* made with the previous secret: valid, and re-issued with the current one */
	uint8_t old[24];
	memcpy(old, ck, 8);
	srv_cookie_make(s.previous, ck, (const struct sockaddr *)&me, t0, old + 8);
	decide(c, &s, old, 24, t0 + 1, false);
	assert_false(c->q.cookie_valid); /* no previous secret yet */
	s.has_previous = true;
	decide(c, &s, old, 24, t0 + 1, false);
	assert_true(c->q.cookie_valid);
	srv_cookie_make(s.current, ck, (const struct sockaddr *)&me, t0 + 1, want);
	assert_memory_equal(c->q.cookie_server, want, 16);

	/* require: BADCOOKIE over UDP without a valid one, never over TCP or with one */
	s.require = true;
	decide(c, &s, forged, 24, t0 + 1, false);
	assert_true(c->q.cookie_badcookie);
	decide(c, &s, ck, 8, t0 + 1, false);
	assert_true(c->q.cookie_badcookie);
	decide(c, &s, ck, 8, t0 + 1, true);
	assert_false(c->q.cookie_badcookie);
	decide(c, &s, ck, 24, t0 + 1, false);
	assert_false(c->q.cookie_badcookie);
	assert_int_equal(c->st.badcookie, 2);
	decide(c, NULL, ck, 24, t0 + 1, false); /* off: nothing decided */
	assert_false(c->q.cookie_reply || c->q.cookie_valid);
	free(c);
}

/* RFC 7873 5.2.2: lengths other than 8 and 16..40 are malformed (FORMERR). */
static void test_parse_lengths(void **state)
{
	(void)state;
	uint8_t m[512], ck[48] = {0};
	srv_query_t *q = calloc(1, sizeof(*q));
	for (size_t len = 0; len <= 44; len++) {
		size_t n = query(m, ck, len);
		assert_int_equal(srv_query_parse(m, n, q), 0);
		bool ok = len == 8 || (len >= 16 && len <= 40);
		assert_int_equal(q->malformed, !ok);
		assert_int_equal(q->has_cookie, ok);
		if (ok)
			assert_int_equal(q->cookie_len, len);
	}
	free(q);
}

/* The front door end to end: the reply's OPT carries the client cookie and our server
 * cookie; under require a forged one gets BADCOOKIE (header RCODE 7, OPT extended 1) with a
 * fresh cookie; a malformed COOKIE is a FORMERR. */
static void test_front_door(void **state)
{
	(void)state;
	srv_answer_conf_t conf = {.udp_max_payload = 1232};
	srv_answer_ctx_t *actx = NULL;
	assert_int_equal(srv_answer_ctx_new(&conf, &actx), 0);
	srv_cookie_secrets_t s = {0};
	memset(s.current, 0x33, 16);
	static uint8_t m[512], buf[SRV_RESPONSE_MAX];
	uint8_t ck[24] = {9, 8, 7, 6, 5, 4, 3, 2};
	struct sockaddr_storage peer = addr("192.0.2.7");
	static srv_request_t req;
	srv_front_stats_t st = {0};
	time_t now = 2000000000;
	for (int round = 0; round < 4; round++) {
		size_t clen = round == 0 ? 8 : round == 3 ? 12 : 24;
		s.require = round == 2;
		if (round == 2)
			ck[20] ^= 0xff; /* forged */
		req = (srv_request_t){.msg = m,
		                      .msg_len = query(m, ck, clen),
		                      .client = (const struct sockaddr *)&peer,
		                      .now = now,
		                      .buf = buf,
		                      .cap = sizeof(buf),
		                      .cookies = &s};
		assert_int_equal(srv_process(NULL, actx, &st, &req), SRV_PROCESS_REPLY);
		size_t n = req.len;
		unsigned rcode = buf[3] & 0xf;
		if (round == 3) { /* 12 bytes: malformed */
			assert_int_equal(rcode, DNS_RCODE_FORMERR);
			continue;
		}
		/* the reply ends with the OPT whose last option is the COOKIE */
		assert_true(n > 28);
		assert_int_equal(be16_get(buf + n - 28), DNS_EDNS_COOKIE);
		assert_int_equal(be16_get(buf + n - 26), 24);
		assert_memory_equal(buf + n - 24, ck, 8);
		uint8_t want[16];
		srv_cookie_make(s.current, ck, (const struct sockaddr *)&peer, (uint32_t)now, want);
		assert_memory_equal(buf + n - 16, want, 16);
		uint8_t ext = buf[n - 28 - 2 - 4]; /* the OPT TTL's first byte */
		if (round == 2) {
			assert_int_equal(rcode, DNS_RCODE_BADCOOKIE & 0xf);
			assert_int_equal(ext, DNS_RCODE_BADCOOKIE >> 4);
			assert_int_equal(be16_get(buf + 6), 0); /* no answer */
		} else {
			assert_int_equal(rcode, DNS_RCODE_REFUSED); /* no zones */
			assert_int_equal(ext, 0);
			memcpy(ck + 8, want, 16); /* the client keeps it */
		}
		assert_int_equal(req.q.cookie_valid, round == 1);
	}
	assert_int_equal(st.cookies.client_only, 1);
	assert_int_equal(st.cookies.valid, 1);
	assert_int_equal(st.cookies.badcookie, 1);
	srv_answer_ctx_free(actx);
}

/* RFC 7873 5.4: a QUERY with QDCOUNT 0 and a COOKIE asks for a server cookie alone: NOERROR,
 * no question, the cookie in the OPT; with cookies off, or without a COOKIE, it stays the
 * FORMERR of RFC 9619. */
static void test_server_cookie_query(void **state)
{
	(void)state;
	srv_answer_conf_t conf = {.udp_max_payload = 1232};
	srv_answer_ctx_t *actx = NULL;
	assert_int_equal(srv_answer_ctx_new(&conf, &actx), 0);
	srv_cookie_secrets_t s = {0};
	static uint8_t m[512], buf[SRV_RESPONSE_MAX];
	static const uint8_t ck[8] = {7, 7, 7, 7, 7, 7, 7, 7};
	struct sockaddr_storage peer = addr("2001:db8::7");
	static srv_request_t req;
	srv_front_stats_t st = {0};
	for (int c = 0; c < 3; c++) { /* cookies on, off, no COOKIE option */
		size_t n = query(m, ck, c == 2 ? 0 : 8);
		if (c == 2) { /* the OPT without options */
			n -= 4;
			be16_put(m + n - 2, 0);
		}
		/* drop the question: QDCOUNT 0, the OPT right after the header */
		memmove(m + 12, m + 12 + 21, n - 12 - 21);
		n -= 21;
		m[5] = 0;
		req = (srv_request_t){.msg = m,
		                      .msg_len = n,
		                      .client = (const struct sockaddr *)&peer,
		                      .now = 1000,
		                      .buf = buf,
		                      .cap = sizeof(buf),
		                      .cookies = c == 1 ? NULL : &s};
		assert_int_equal(srv_process(NULL, actx, &st, &req), SRV_PROCESS_REPLY);
		assert_int_equal(be16_get(buf + 4), 0); /* no question */
		if (c != 0) {
			assert_int_equal(buf[3] & 0xf, DNS_RCODE_FORMERR);
			continue;
		}
		assert_int_equal(buf[3] & 0xf, DNS_RCODE_NOERROR);
		assert_int_equal(req.len, 12 + 11 + 28);
		assert_int_equal(be16_get(buf + req.len - 28), DNS_EDNS_COOKIE);
		assert_memory_equal(buf + req.len - 24, ck, 8);
	}
	srv_answer_ctx_free(actx);
}

/* Rotation: the previous secret stays accepted, the one before is gone; a secret file is
 * read (and read again at each rotation). */
static void test_rotation(void **state)
{
	(void)state;
	rcu_register_thread();
	rcu_thread_offline();
	char path[] = "/tmp/steerdns-cookie-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *hex1 = "000102030405060708090a0b0c0d0e0f\n";
	assert_int_equal(write(fd, hex1, strlen(hex1)), (ssize_t)strlen(hex1));
	close(fd);
	srv_cookie_conf_t conf = {.mode = SRV_COOKIES_ON, .secret_file = path};
	srv_cookies_t c = {0};
	assert_int_equal(srv_cookies_init(&c, &conf), 0);
	rcu_thread_online();
	const srv_cookie_secrets_t *s = srv_cookies_current(&c);
	assert_non_null(s);
	assert_int_equal(s->current[15], 0x0f);
	assert_false(s->has_previous);
	rcu_thread_offline();
	FILE *f = fopen(path, "w");
	fputs("  FFEEDDCCBBAA99887766554433221100 \n", f);
	fclose(f);
	assert_int_equal(srv_cookies_rotate(&c, &conf), 0);
	rcu_thread_online();
	s = srv_cookies_current(&c);
	assert_int_equal(s->current[0], 0xff);
	assert_true(s->has_previous);
	assert_int_equal(s->previous[15], 0x0f);
	rcu_thread_offline();
	f = fopen(path, "w");
	fputs("not hex", f);
	fclose(f);
	assert_true(srv_cookies_rotate(&c, &conf) < 0); /* the running secrets stay */
	rcu_thread_online();
	assert_int_equal(srv_cookies_current(&c)->current[0], 0xff);
	rcu_thread_offline();
	srv_cookies_fini(&c);
	unlink(path);

	/* random secrets: each rotation a new one, the last one kept as previous */
	conf.secret_file = NULL;
	assert_int_equal(srv_cookies_init(&c, &conf), 0);
	uint8_t first[16];
	memcpy(first, c.current->current, 16);
	assert_int_equal(srv_cookies_rotate(&c, &conf), 0);
	assert_memory_equal(c.current->previous, first, 16);
	assert_memory_not_equal(c.current->current, first, 16);
	assert_int_equal(srv_cookies_rotate(&c, &conf), 0);
	assert_memory_not_equal(c.current->previous, first, 16);
	assert_int_equal(c.rotations, 2);
	srv_cookies_fini(&c);
	conf.mode = SRV_COOKIES_OFF; /* off: nothing published */
	assert_int_equal(srv_cookies_init(&c, &conf), 0);
	assert_null(c.current);
	rcu_unregister_thread();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc9018_vectors), cmocka_unit_test(test_verdicts),
	    cmocka_unit_test(test_parse_lengths),   cmocka_unit_test(test_front_door),
	    cmocka_unit_test(test_rotation),        cmocka_unit_test(test_server_cookie_query),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
