/* Unit tests for server/xfr/tsig: dnspython vectors, our signatures checked by dnspython,
 * multi-message transactions, BADKEY / BADSIG / BADTIME and MAC truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "contrib/base/err.h"
#include "server/xfr/tsig.h"

#define PYTHON "/usr/bin/python3"
#define BUF    1024

typedef struct vector {
	char name[128], alg[32], secret[256];
	time_t time;
	uint8_t wire[BUF];
	size_t len;
} vector_t;

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Read the dnspython vectors (data/gen_tsig_vectors.py). */
static size_t load_vectors(vector_t *v, size_t max)
{
	FILE *f = fopen(TSIG_DATA_DIR "/tsig_vectors.txt", "r");
	assert_non_null(f);
	char hex[2 * BUF + 1];
	long long t;
	size_t n = 0;
	while (n < max && fscanf(f, "%127s %31s %255s %lld %2048s", v[n].name, v[n].alg,
	                         v[n].secret, &t, hex) == 5) {
		v[n].time = (time_t)t;
		v[n].len = strlen(hex) / 2;
		for (size_t i = 0; i < v[n].len; i++)
			v[n].wire[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
		n++;
	}
	fclose(f);
	return n;
}

static void test_key_init(void **state)
{
	(void)state;
	tsig_key_t k;
	assert_int_equal(tsig_key_init(&k, "Xfr.Key.", "hmac-sha256", "c2VjcmV0"), 0);
	assert_int_equal(k.secret_len, 6);
	assert_memory_equal(k.secret, "secret", 6);
	assert_memory_equal(k.name, "\3xfr\3key", 9); /* lowercased */
	assert_int_equal(k.alg, TSIG_HMAC_SHA256);
	assert_int_equal(tsig_key_init(&k, "k.", "HMAC-SHA512.", "YWI=\n"), 0);
	assert_int_equal(k.secret_len, 2);
	assert_int_equal(k.alg, TSIG_HMAC_SHA512);
	assert_int_equal(tsig_key_init(&k, "k.", "hmac-sha1", "YQ=="), 0);
	assert_int_equal(k.secret_len, 1);
	assert_int_equal(tsig_key_init(&k, "k.", "hmac-md5", "YQ=="), SD_EPARSE);
	assert_int_equal(tsig_key_init(&k, "k.", "hmac-sha256", "Y*=="), SD_EPARSE);
	assert_int_equal(tsig_key_init(&k, "k.", "hmac-sha256", "YQ=a"), SD_EPARSE);
	assert_int_equal(tsig_key_init(&k, "k.", "hmac-sha256", "YWJ"), SD_EPARSE);
	assert_int_equal(tsig_key_init(&k, "k.", "hmac-sha256", ""), SD_EPARSE);
	assert_int_equal(tsig_alg_mac_len(TSIG_HMAC_SHA384), 48);
	assert_string_equal(tsig_alg_name(TSIG_HMAC_SHA224), "hmac-sha224");
}

static void test_dnspython_vectors(void **state)
{
	(void)state;
	static vector_t v[8];
	size_t n = load_vectors(v, 8);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		tsig_key_t key;
		assert_int_equal(tsig_key_init(&key, v[i].name, v[i].alg, v[i].secret), 0);
		const tsig_key_t *ring[] = {&key};
		tsig_ctx_t ctx;
		assert_int_equal(tsig_verify_request(&ctx, ring, 1, v[i].wire, v[i].len, v[i].time),
		                 0);
		assert_int_equal(ctx.error, 0);
		assert_ptr_equal(ctx.key, &key);
		assert_int_equal(ctx.mac_len, tsig_alg_mac_len(key.alg));
		assert_int_equal(ctx.tsig_off, 33); /* header + www.example.com SOA IN */
		/* Within the fudge on both sides, then outside it: BADTIME. */
		assert_int_equal(
		    tsig_verify_request(&ctx, ring, 1, v[i].wire, v[i].len, v[i].time + 300), 0);
		assert_int_equal(
		    tsig_verify_request(&ctx, ring, 1, v[i].wire, v[i].len, v[i].time - 300), 0);
		assert_int_equal(
		    tsig_verify_request(&ctx, ring, 1, v[i].wire, v[i].len, v[i].time + 301),
		    SD_ETSIG);
		assert_int_equal(ctx.error, TSIG_ERR_BADTIME);
		/* A flipped byte in the question: BADSIG. */
		uint8_t bad[BUF];
		memcpy(bad, v[i].wire, v[i].len);
		bad[14] ^= 0x01;
		assert_int_equal(tsig_verify_request(&ctx, ring, 1, bad, v[i].len, v[i].time),
		                 SD_ETSIG);
		assert_int_equal(ctx.error, TSIG_ERR_BADSIG);
		/* A flipped byte in the MAC (the 5th byte from the MAC's end). */
		memcpy(bad, v[i].wire, v[i].len);
		bad[v[i].len - 6 - 5] ^= 0x80;
		assert_int_equal(tsig_verify_request(&ctx, ring, 1, bad, v[i].len, v[i].time),
		                 SD_ETSIG);
		assert_int_equal(ctx.error, TSIG_ERR_BADSIG);
	}
}

static void test_badkey(void **state)
{
	(void)state;
	static vector_t v[8];
	assert_int_equal(load_vectors(v, 8), 5);
	tsig_key_t other, samename;
	assert_int_equal(tsig_key_init(&other, "other.", v[2].alg, v[2].secret), 0);
	/* Same name, another algorithm: also BADKEY (RFC 8945 5.2.1). */
	assert_int_equal(tsig_key_init(&samename, v[2].name, "hmac-sha512", v[2].secret), 0);
	const tsig_key_t *ring[] = {&other, &samename};
	tsig_ctx_t ctx;
	assert_int_equal(tsig_verify_request(&ctx, ring, 2, v[2].wire, v[2].len, v[2].time),
	                 SD_ETSIG);
	assert_int_equal(ctx.error, TSIG_ERR_BADKEY);
	assert_null(ctx.key);
	assert_int_equal(tsig_verify_request(&ctx, NULL, 0, v[2].wire, v[2].len, v[2].time),
	                 SD_ETSIG);
	assert_int_equal(ctx.error, TSIG_ERR_BADKEY);
	/* The BADKEY response carries an unsigned TSIG naming the request's key. */
	uint8_t resp[BUF];
	memcpy(resp, v[2].wire, ctx.tsig_off);
	resp[2] |= 0x80;
	resp[3] = DNS_RCODE_NOTAUTH;
	resp[11] = 0;
	size_t len = ctx.tsig_off;
	assert_int_equal(tsig_sign(&ctx, resp, &len, sizeof(resp), v[2].time), 0);
	assert_int_equal(resp[11], 1);
	size_t owner = 15; /* \5key-2\7example\0 */
	assert_memory_equal(resp + ctx.tsig_off, "\5key-2\7example", owner);
	const uint8_t *rd = resp + ctx.tsig_off + owner + 10;
	size_t alg = 13;                                             /* \13hmac-sha256\0 */
	assert_int_equal(rd[alg + 8] << 8 | rd[alg + 9], 0);         /* MAC size 0 */
	assert_int_equal(rd[alg + 12] << 8 | rd[alg + 13], 17);      /* error BADKEY */
	assert_int_equal(len, ctx.tsig_off + owner + 10 + alg + 16); /* no MAC, no other */
}

static void make_query(uint8_t *m, size_t *len, uint16_t id)
{
	static const uint8_t q[] = "\0\0\0\0\0\1\0\0\0\0\0\0\7example\3com\0\0\xfc\0\1";
	memcpy(m, q, sizeof(q) - 1);
	m[0] = (uint8_t)(id >> 8);
	m[1] = (uint8_t)id;
	*len = sizeof(q) - 1;
}

/* A response message: the question plus one A record whose address is `seq`. */
static void make_response(uint8_t *m, size_t *len, const uint8_t *query, size_t qlen, int seq)
{
	memcpy(m, query, qlen);
	m[2] |= 0x84;
	m[7] = 1;
	m[11] = 0;
	static const uint8_t rr[] = "\xc0\x0c\0\1\0\1\0\0\x0e\x10\0\4";
	memcpy(m + qlen, rr, sizeof(rr) - 1);
	uint8_t *a = m + qlen + sizeof(rr) - 1;
	a[0] = 192, a[1] = 0, a[2] = 2, a[3] = (uint8_t)seq;
	*len = qlen + sizeof(rr) - 1 + 4;
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int run_check(char *const argv[])
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execv(PYTHON, argv);
		_exit(127);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define NMSG 4

/* Client request (ours) -> server verify (ours) -> NMSG signed response messages, verified
 * by our client and by dnspython as one transfer. */
static void test_transfer_roundtrip(void **state)
{
	(void)state;
	if (access(PYTHON, X_OK) != 0)
		skip();
	static const char *secret = "c3RlZXJkbnMtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg==";
	tsig_key_t key;
	assert_int_equal(tsig_key_init(&key, "xfr.example.", "hmac-sha384", secret), 0);
	const tsig_key_t *ring[] = {&key};
	time_t now = time(NULL);
	tsig_ctx_t client, server;
	tsig_ctx_init(&client, &key);
	uint8_t q[BUF], r[NMSG][BUF];
	size_t qlen, rlen[NMSG];
	make_query(q, &qlen, 0xbeef);
	assert_int_equal(tsig_sign_request(&client, q, &qlen, sizeof(q), now), 0);
	assert_int_equal(tsig_verify_request(&server, ring, 1, q, qlen, now), 0);
	for (int i = 0; i < NMSG; i++) {
		make_response(r[i], &rlen[i], q, server.tsig_off, i);
		assert_int_equal(tsig_sign(&server, r[i], &rlen[i], sizeof(r[i]), now), 0);
	}
	/* Our client: in order they verify; a tampered or reordered one does not. */
	tsig_ctx_t c2 = client;
	for (int i = 0; i < NMSG; i++)
		assert_int_equal(tsig_verify_response(&client, r[i], rlen[i], now), 0);
	assert_int_equal(tsig_verify_response(&c2, r[0], rlen[0], now), 0);
	tsig_ctx_t c3 = c2;
	assert_int_equal(tsig_verify_response(&c2, r[2], rlen[2], now), SD_ETSIG);
	assert_int_equal(c2.error, TSIG_ERR_BADSIG);
	r[1][44] ^= 1; /* the last byte of the A record */
	assert_int_equal(tsig_verify_response(&c3, r[1], rlen[1], now), SD_ETSIG);
	assert_int_equal(c3.error, TSIG_ERR_BADSIG);
	r[1][44] ^= 1;
	/* dnspython checks the same bytes. */
	char dir[] = "/tmp/tsigtestXXXXXX";
	assert_non_null(mkdtemp(dir));
	char paths[NMSG + 1][64];
	char *argv[16] = {PYTHON,         TSIG_SRC_DIR "/tsig_check.py",
	                  "xfr.example.", "hmac-sha384",
	                  (char *)secret, "transfer"};
	snprintf(paths[0], sizeof(paths[0]), "%s/q", dir);
	write_file(paths[0], q, qlen);
	argv[6] = paths[0];
	for (int i = 0; i < NMSG; i++) {
		snprintf(paths[i + 1], sizeof(paths[i + 1]), "%s/r%d", dir, i);
		write_file(paths[i + 1], r[i], rlen[i]);
		argv[7 + i] = paths[i + 1];
	}
	argv[7 + NMSG] = NULL;
	assert_int_equal(run_check(argv), 0);
	/* A response with the first message missing must not verify in dnspython either. */
	argv[7] = paths[2];
	argv[8] = NULL;
	assert_int_not_equal(run_check(argv), 0);
	for (int i = 0; i <= NMSG; i++)
		unlink(paths[i]);
	rmdir(dir);
}

/* BADTIME: a signed error response with the request's time and our clock in other data,
 * checked by dnspython. */
static void test_badtime_response(void **state)
{
	(void)state;
	if (access(PYTHON, X_OK) != 0)
		skip();
	static const char *secret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
	tsig_key_t key;
	assert_int_equal(tsig_key_init(&key, "t.", "hmac-sha256", secret), 0);
	const tsig_key_t *ring[] = {&key};
	time_t now = time(NULL);
	tsig_ctx_t client, server;
	tsig_ctx_init(&client, &key);
	uint8_t q[BUF], r[BUF];
	size_t qlen, rlen;
	make_query(q, &qlen, 7);
	/* The client's clock is 10 minutes behind; dnspython reads the request at real now, so
	 * sign it at now but verify it on a server whose clock is 10 minutes ahead. */
	assert_int_equal(tsig_sign_request(&client, q, &qlen, sizeof(q), now), 0);
	assert_int_equal(tsig_verify_request(&server, ring, 1, q, qlen, now + 600), SD_ETSIG);
	assert_int_equal(server.error, TSIG_ERR_BADTIME);
	memcpy(r, q, server.tsig_off);
	rlen = server.tsig_off;
	r[2] |= 0x80;
	r[3] = DNS_RCODE_NOTAUTH;
	r[11] = 0;
	assert_int_equal(tsig_sign(&server, r, &rlen, sizeof(r), now + 600), 0);
	/* Our client sees the peer's BADTIME. */
	assert_int_equal(tsig_verify_response(&client, r, rlen, now), SD_ETSIG);
	assert_int_equal(client.error, TSIG_ERR_BADTIME);
	char dir[] = "/tmp/tsigtestXXXXXX";
	assert_non_null(mkdtemp(dir));
	char qp[64], rp[64];
	snprintf(qp, sizeof(qp), "%s/q", dir);
	snprintf(rp, sizeof(rp), "%s/r", dir);
	write_file(qp, q, qlen);
	write_file(rp, r, rlen);
	char *argv[] = {PYTHON,
	                TSIG_SRC_DIR "/tsig_check.py",
	                "t.",
	                "hmac-sha256",
	                (char *)secret,
	                "badtime",
	                qp,
	                rp,
	                NULL};
	assert_int_equal(run_check(argv), 0);
	/* Flip a byte of the response's MAC: dnspython must reject it. */
	r[rlen - 6 - 6 - 3] ^= 0x10;
	write_file(rp, r, rlen);
	assert_int_not_equal(run_check(argv), 0);
	unlink(qp);
	unlink(rp);
	rmdir(dir);
}

/* Rewrite the MAC of the TSIG RR at off in m[0..*len) to its first `keep` bytes. */
static void truncate_mac(uint8_t *m, size_t *len, size_t off, size_t owner, size_t alg, size_t keep)
{
	uint8_t *rdl = m + off + owner + 8;
	uint8_t *ms = m + off + owner + 10 + alg + 8;
	size_t full = (size_t)(ms[0] << 8 | ms[1]);
	uint8_t *tail = ms + 2 + full;
	size_t tail_len = (size_t)(m + *len - tail);
	memmove(ms + 2 + keep, tail, tail_len);
	ms[0] = 0, ms[1] = (uint8_t)keep;
	size_t rdlen = (size_t)(rdl[0] << 8 | rdl[1]) - (full - keep);
	rdl[0] = (uint8_t)(rdlen >> 8), rdl[1] = (uint8_t)rdlen;
	*len -= full - keep;
}

static void test_truncation_and_format(void **state)
{
	(void)state;
	tsig_key_t key;
	assert_int_equal(tsig_key_init(&key, "k.", "hmac-sha256", "a2V5LWtleS1rZXk="), 0);
	const tsig_key_t *ring[] = {&key};
	time_t now = 1700000000;
	tsig_ctx_t c, s;
	uint8_t q[BUF], t[BUF];
	size_t qlen, tlen;
	make_query(q, &qlen, 1);
	/* Unsigned: not found, nothing more. */
	assert_int_equal(tsig_verify_request(&s, ring, 1, q, qlen, now), SD_ENOTFOUND);
	tsig_ctx_init(&c, &key);
	assert_int_equal(tsig_sign_request(&c, q, &qlen, sizeof(q), now), 0);
	size_t off = 29, owner = 3, alg = 13;
	/* Truncated to 16 octets (half of SHA-256): allowed (RFC 8945 5.2.2.1). */
	memcpy(t, q, qlen);
	tlen = qlen;
	truncate_mac(t, &tlen, off, owner, alg, 16);
	assert_int_equal(tsig_verify_request(&s, ring, 1, t, tlen, now), 0);
	assert_int_equal(s.mac_len, 16);
	/* Below half the output: FORMERR, whatever the bytes. */
	memcpy(t, q, qlen);
	tlen = qlen;
	truncate_mac(t, &tlen, off, owner, alg, 15);
	assert_int_equal(tsig_verify_request(&s, ring, 1, t, tlen, now), SD_EPARSE);
	memcpy(t, q, qlen);
	tlen = qlen;
	truncate_mac(t, &tlen, off, owner, alg, 8);
	assert_int_equal(tsig_verify_request(&s, ring, 1, t, tlen, now), SD_EPARSE);
	/* Trailing garbage after the TSIG RR, or a cut message: FORMERR. */
	memcpy(t, q, qlen);
	t[qlen] = 0;
	assert_int_equal(tsig_verify_request(&s, ring, 1, t, qlen + 1, now), SD_EPARSE);
	assert_int_equal(tsig_verify_request(&s, ring, 1, q, qlen - 1, now), SD_EPARSE);
	assert_int_equal(tsig_verify_request(&s, ring, 1, q, 5, now), SD_EPARSE);
	/* TSIG not last: append another additional record after it. */
	memcpy(t, q, qlen);
	static const uint8_t extra[] = "\0\0\1\0\1\0\0\0\0\0\4\1\2\3\4";
	memcpy(t + qlen, extra, sizeof(extra) - 1);
	t[11] = 2;
	assert_int_equal(tsig_verify_request(&s, ring, 1, t, qlen + sizeof(extra) - 1, now),
	                 SD_EPARSE);
	/* No room for the TSIG RR: SD_ESPACE, message unchanged. */
	make_query(t, &tlen, 2);
	tsig_ctx_init(&c, &key);
	size_t before = tlen;
	assert_int_equal(tsig_sign_request(&c, t, &tlen, tlen + 20, now), SD_ESPACE);
	assert_int_equal(tlen, before);
	assert_int_equal(t[11], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_init),         cmocka_unit_test(test_dnspython_vectors),
	    cmocka_unit_test(test_badkey),           cmocka_unit_test(test_transfer_roundtrip),
	    cmocka_unit_test(test_badtime_response), cmocka_unit_test(test_truncation_and_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
