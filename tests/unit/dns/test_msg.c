/* test_msg.c — the message writer: compression, case rules, rollback, limits, RDATA rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/proto.h"

static uint8_t *W(const char *text, uint8_t out[DNAME_MAX])
{
	assert_true(dname_from_str(text, NULL, out) > 0);
	return out;
}

/* Wire name keeping the case of text (dname_from_str lowercases). */
static uint8_t *W_case(const char *text, uint8_t out[DNAME_MAX])
{
	size_t n = 0;
	while (*text) {
		const char *dot = strchr(text, '.');
		size_t l = dot ? (size_t)(dot - text) : strlen(text);
		out[n++] = (uint8_t)l;
		memcpy(out + n, text, l);
		n += l;
		text += l + (dot ? 1 : 0);
	}
	out[n] = 0;
	return out;
}

/* The name at *pos of the message, decompressed; asserts it parses. */
static void read_name(const dns_msg_t *m, size_t *pos, uint8_t out[DNAME_MAX])
{
	assert_true(dname_parse(m->buf, m->pos, pos, out) > 0);
}

/* Header, then the question name / A / IN. */
static void start(dns_msg_t *m, uint8_t *buf, size_t lim, dns_comp_t *c, unsigned flags,
                  const uint8_t *qname)
{
	uint8_t q[DNAME_MAX + 4];
	size_t l = dname_len(qname);
	memcpy(q, qname, l);
	memcpy(q + l, "\0\1\0\1", 4);
	dns_msg_init(m, buf, lim, c, flags);
	assert_int_equal(dns_msg_header(m, 7, DNS_FLAG_QR), 0);
	assert_int_equal(dns_msg_question(m, q, l + 4), 0);
	assert_int_equal(dns_msg_count(m, DNS_SEC_QD), 1);
}

static void test_compression(void **state)
{
	static uint8_t buf[512];
	dns_comp_t c;
	dns_msg_t m;
	uint8_t q[DNAME_MAX], owner[DNAME_MAX], rd[DNAME_MAX];
	assert_int_equal(dns_comp_init(&c, 64), 0);
	start(&m, buf, sizeof(buf), &c, 0, W("example.com.", q));
	W("www.example.com.", owner);
	W("web.example.com.", rd);
	assert_int_equal(dns_msg_rr(&m, owner, DNS_TYPE_CNAME, DNS_CLASS_IN, 60, rd, 17), 0);
	size_t one = m.pos;
	/* www + pointer to the question; CNAME target web + pointer */
	assert_int_equal(one, 12 + 17 + (4 + 2) + 10 + (4 + 2));
	assert_memory_equal(buf + 29, "\3www\xc0\x0c", 6);
	/* the same RR again compresses fully: both names are pointers */
	assert_int_equal(dns_msg_rr(&m, owner, DNS_TYPE_CNAME, DNS_CLASS_IN, 60, rd, 17), 0);
	assert_int_equal(m.pos - one, 2 + 10 + 2);
	assert_memory_equal(buf + one, "\xc0\x1d", 2); /* www.example.com at 29 */
	/* TXT and SRV RDATA are never compressed (RFC 3597 4); the owner still is */
	size_t before = m.pos;
	uint8_t srv[6 + DNAME_MAX] = {0, 1, 0, 1, 0, 53};
	W("web.example.com.", srv + 6);
	assert_int_equal(dns_msg_rr(&m, owner, DNS_TYPE_SRV, DNS_CLASS_IN, 60, srv, 6 + 17), 0);
	assert_int_equal(m.pos - before, 2 + 10 + 6 + 17);
	assert_memory_equal(buf + m.pos - 17, rd, 17);
	/* every name decodes to what was written */
	size_t pos = one + 2 + 10;
	uint8_t out[DNAME_MAX];
	read_name(&m, &pos, out);
	assert_true(dname_equal(out, rd));
	dns_comp_fini(&c);
}

/* Answers match case-insensitively (the client's case of the question is reused);
 * transfers only byte for byte. */
static void test_case(void **state)
{
	static uint8_t buf[512];
	dns_comp_t c;
	dns_msg_t m;
	uint8_t q[DNAME_MAX], owner[DNAME_MAX], out[DNAME_MAX];
	static const uint8_t a[4] = {192, 0, 2, 1};
	assert_int_equal(dns_comp_init(&c, 64), 0);
	W_case("WwW.ExAmple.COM", q);
	W("www.example.com.", owner);

	start(&m, buf, sizeof(buf), &c, 0, q);
	size_t at = m.pos;
	assert_int_equal(dns_msg_rr(&m, owner, DNS_TYPE_A, DNS_CLASS_IN, 60, a, 4), 0);
	assert_memory_equal(buf + at, "\xc0\x0c", 2);
	read_name(&m, &at, out);
	assert_true(dname_equal_ci(out, owner));

	start(&m, buf, sizeof(buf), &c, DNS_MSG_EXACT, q);
	at = m.pos;
	assert_int_equal(dns_msg_rr(&m, owner, DNS_TYPE_A, DNS_CLASS_IN, 60, a, 4), 0);
	assert_int_equal(m.pos - at, 17 + 10 + 4);
	read_name(&m, &at, out);
	assert_true(dname_equal(out, owner)); /* as stored, not as asked */
	/* but an exact repeat still compresses */
	at = m.pos;
	assert_int_equal(dns_msg_rr(&m, owner, DNS_TYPE_A, DNS_CLASS_IN, 60, a, 4), 0);
	assert_int_equal(m.pos - at, 2 + 10 + 4);
	dns_comp_fini(&c);
}

/* What does not fit leaves nothing behind: bytes, counts or compression targets. */
static void test_space_and_rollback(void **state)
{
	static uint8_t buf[512], ref[512];
	dns_comp_t c;
	dns_msg_t m, r;
	uint8_t q[DNAME_MAX], n1[DNAME_MAX], n2[DNAME_MAX], n3[DNAME_MAX];
	static const uint8_t a[4] = {192, 0, 2, 1};
	assert_int_equal(dns_comp_init(&c, 64), 0);
	W("example.com.", q);
	W("a.example.com.", n1);
	W("b.sub.example.com.", n2);
	W("c.sub.example.com.", n3);

	start(&m, buf, sizeof(buf), &c, 0, q);
	assert_int_equal(dns_msg_rr(&m, n1, DNS_TYPE_A, DNS_CLASS_IN, 1, a, 4), 0);
	dns_msg_mark_t mk = dns_msg_mark(&m);
	unsigned entries = c.n;
	assert_int_equal(dns_msg_rr(&m, n2, DNS_TYPE_A, DNS_CLASS_IN, 1, a, 4), 0);
	assert_true(c.n > entries);
	dns_msg_rollback(&m, mk);
	assert_int_equal(m.pos, mk.pos);
	assert_int_equal(c.n, entries);
	/* sub.example.com must not point into the rolled-back bytes */
	assert_int_equal(dns_msg_rr(&m, n3, DNS_TYPE_A, DNS_CLASS_IN, 1, a, 4), 0);

	dns_comp_t rc;
	assert_int_equal(dns_comp_init(&rc, 64), 0);
	start(&r, ref, sizeof(ref), &rc, 0, q);
	assert_int_equal(dns_msg_rr(&r, n1, DNS_TYPE_A, DNS_CLASS_IN, 1, a, 4), 0);
	assert_int_equal(dns_msg_rr(&r, n3, DNS_TYPE_A, DNS_CLASS_IN, 1, a, 4), 0);
	assert_int_equal(m.pos, r.pos);
	assert_memory_equal(buf, ref, r.pos);

	/* an RR that does not fit is not written at all */
	size_t before = m.pos;
	entries = c.n;
	m.lim = m.pos + 10;
	assert_int_equal(dns_msg_rr(&m, n2, DNS_TYPE_A, DNS_CLASS_IN, 1, a, 4), SD_ESPACE);
	assert_int_equal(m.pos, before);
	assert_int_equal(c.n, entries);
	assert_int_equal(dns_msg_rr_header(&m, n2, DNS_TYPE_A, DNS_CLASS_IN, 1, 4), SD_ESPACE);
	assert_int_equal(m.pos, before);
	assert_int_equal(c.n, entries);
	assert_int_equal(dns_msg_put(&m, buf, 11), SD_ESPACE);
	assert_int_equal(dns_msg_put(&m, buf, 10), 0);
	dns_comp_fini(&c);
	dns_comp_fini(&rc);
}

static void test_malformed(void **state)
{
	static uint8_t buf[512];
	dns_comp_t c;
	dns_msg_t m;
	uint8_t q[DNAME_MAX], owner[DNAME_MAX], rd[DNAME_MAX];
	assert_int_equal(dns_comp_init(&c, 8), 0);
	start(&m, buf, sizeof(buf), &c, 0, W("example.com.", q));
	size_t before = m.pos;
	W("web.example.com.", rd);
	W("www.example.com.", owner);
	/* a CNAME target is not SOA RDATA */
	assert_int_equal(dns_msg_rr(&m, owner, DNS_TYPE_SOA, DNS_CLASS_IN, 60, rd, 17), SD_EPARSE);
	/* trailing garbage after a compressible name */
	assert_int_equal(dns_msg_rr(&m, owner, DNS_TYPE_NS, DNS_CLASS_IN, 60, rd, 16), SD_EPARSE);
	/* an owner holding a pointer */
	assert_int_equal(
	    dns_msg_rr(&m, (const uint8_t *)"\xc0\x0c", DNS_TYPE_NS, DNS_CLASS_IN, 60, rd, 17),
	    SD_EPARSE);
	assert_int_equal(m.pos, before);
	/* a question must be one uncompressed name, type and class */
	dns_msg_init(&m, buf, sizeof(buf), &c, 0);
	assert_int_equal(dns_msg_header(&m, 1, 0), 0);
	assert_int_equal(dns_msg_question(&m, rd, 17), SD_EPARSE);
	assert_int_equal(dns_msg_question(&m, (const uint8_t *)"\xc0\x0c\0\1\0\1", 6), SD_EPARSE);
	dns_comp_fini(&c);
}

/* A full table stops registering; an offset past 14 bits is never a target. */
static void test_limits(void **state)
{
	static uint8_t buf[30000];
	static uint8_t blob[4000];
	dns_comp_t c;
	dns_msg_t m;
	uint8_t q[DNAME_MAX], n[DNAME_MAX];
	static const uint8_t a[4] = {192, 0, 2, 1};
	assert_int_equal(dns_comp_init(&c, 2), 0);
	start(&m, buf, sizeof(buf), &c, 0, W("a.b.c.", q));
	size_t at = m.pos;
	assert_int_equal(dns_msg_rr(&m, W("x.c.", n), DNS_TYPE_A, DNS_CLASS_IN, 1, a, 4), 0);
	assert_int_equal(m.pos - at, 5 + 10 + 4); /* written in full */
	assert_int_equal(c.n, 2);                 /* a.b.c and b.c; c. and x.c. did not fit */
	dns_comp_fini(&c);

	assert_int_equal(dns_comp_init(&c, 64), 0);
	start(&m, buf, sizeof(buf), &c, 0, W("example.", q));
	while (m.pos <= 0x3fff)
		assert_int_equal(
		    dns_msg_rr(&m, q, DNS_TYPE_TXT, DNS_CLASS_IN, 1, blob, sizeof(blob)), 0);
	W("late.example.", n);
	at = m.pos;
	assert_int_equal(dns_msg_name(&m, n, true), 0);
	assert_int_equal(m.pos - at, 5 + 2);
	at = m.pos;
	assert_int_equal(dns_msg_name(&m, n, true), 0);
	assert_int_equal(m.pos - at, 5 + 2); /* the first copy is past 0x3fff: no target */
	dns_comp_fini(&c);
	assert_int_equal(dns_comp_init(&c, 0), -EINVAL);
	assert_int_equal(dns_comp_init(&c, 16385), -EINVAL);
}

/* The question is registered only when a name first needs the table, and a name equal to it
 * becomes its pointer without the table: neither may change what is written. */
static void test_question_shortcuts(void **state)
{
	static uint8_t buf[512];
	dns_comp_t c;
	dns_msg_t m;
	uint8_t q[DNAME_MAX], www[DNAME_MAX], apex[DNAME_MAX];
	assert_int_equal(dns_comp_init(&c, 64), 0);
	W_case("Example.COM", q);
	W("www.example.com.", www);
	W("example.com.", apex);

	/* answers: the owner equal to the question (any case) points at it, nothing registered */
	start(&m, buf, sizeof(buf), &c, 0, q);
	dns_msg_mark_t after_q = dns_msg_mark(&m);
	size_t at = m.pos;
	assert_int_equal(dns_msg_name(&m, apex, true), 0);
	assert_memory_equal(buf + at, "\xc0\x0c", 2);
	assert_int_equal(c.n, 0);
	/* another name registers the question first: www + pointer to it */
	at = m.pos;
	assert_int_equal(dns_msg_name(&m, www, true), 0);
	assert_memory_equal(buf + at, "\3www\xc0\x0c", 6);
	assert_int_equal(c.n, 3); /* example.com, com, www.example.com */
	/* rolled back to before that, the question is unregistered again and still a target */
	dns_msg_rollback(&m, after_q);
	assert_int_equal(c.n, 0);
	at = m.pos;
	assert_int_equal(dns_msg_name(&m, www, true), 0);
	assert_memory_equal(buf + at, "\3www\xc0\x0c", 6);
	at = m.pos;
	assert_int_equal(dns_msg_name(&m, www, true), 0);
	assert_memory_equal(buf + at, "\xc0\x1d", 2); /* the www.example.com at 29 */
	/* uncompressed names are still registered, after the question */
	at = m.pos;
	assert_int_equal(dns_msg_name(&m, q, false), 0);
	assert_int_equal(m.pos - at, 13);

	/* rolled back past the question: no pointer to where it was */
	dns_msg_init(&m, buf, sizeof(buf), &c, 0);
	assert_int_equal(dns_msg_header(&m, 7, 0), 0);
	dns_msg_mark_t before_q = dns_msg_mark(&m);
	uint8_t qq[DNAME_MAX + 4];
	memcpy(qq, q, 13);
	memcpy(qq + 13, "\0\1\0\1", 4);
	assert_int_equal(dns_msg_question(&m, qq, 17), 0);
	dns_msg_rollback(&m, before_q);
	at = m.pos;
	assert_int_equal(dns_msg_name(&m, apex, true), 0);
	assert_int_equal(m.pos - at, 13);
	assert_memory_equal(buf + at, apex, 13);

	/* transfers: only the exact case points at the question */
	start(&m, buf, sizeof(buf), &c, DNS_MSG_EXACT, q);
	at = m.pos;
	assert_int_equal(dns_msg_name(&m, apex, true), 0);
	assert_int_equal(m.pos - at, 13);
	at = m.pos;
	assert_int_equal(dns_msg_name(&m, q, true), 0);
	assert_memory_equal(buf + at, "\xc0\x0c", 2);

	/* the root question is no target: the root name stays one byte */
	start(&m, buf, sizeof(buf), &c, 0, (const uint8_t *)"");
	at = m.pos;
	assert_int_equal(dns_msg_name(&m, (const uint8_t *)"", true), 0);
	assert_int_equal(m.pos - at, 1);
	dns_comp_fini(&c);
}

/* The memo of names just written: the same name again is the pointer the table would give
 * (the earliest equal name), a rollback forgets it, and only the same bytes hit. */
static void test_memo(void **state)
{
	static uint8_t buf[512], ref[512];
	dns_comp_t c;
	dns_msg_t m;
	uint8_t q[DNAME_MAX], ns[DNAME_MAX], ns1[DNAME_MAX], ns2[DNAME_MAX], up[DNAME_MAX];
	assert_int_equal(dns_comp_init(&c, 64), 0);
	W("www.d5.example.com.", q);
	W("d5.example.com.", ns);
	W("ns1.d5.example.com.", ns1);
	W("ns2.d5.example.com.", ns2);
	W_case("NS1.d5.example.com", up);
	start(&m, buf, sizeof(buf), &c, 0, q);
	/* a referral's names: owner, target, owner, target, glue owners */
	const uint8_t *seq[] = {ns, ns1, ns, ns2, ns1, ns2, up};
	size_t at[7];
	for (int i = 0; i < 7; i++) {
		at[i] = m.pos;
		assert_int_equal(dns_msg_name(&m, seq[i], true), 0);
	}
	assert_memory_equal(buf + at[0], "\xc0\x10", 2);        /* d5 inside the question */
	assert_memory_equal(buf + at[1], "\x03ns1\xc0\x10", 6); /* ns1 + d5 */
	assert_memory_equal(buf + at[2], "\xc0\x10", 2);        /* the memo: same pointer */
	assert_memory_equal(buf + at[3], "\x03ns2\xc0\x10", 6);
	assert_int_equal(be16_get(buf + at[4]), 0xc000 | at[1]); /* where ns1 was written */
	assert_int_equal(be16_get(buf + at[5]), 0xc000 | at[3]);
	assert_int_equal(be16_get(buf + at[6]), 0xc000 | at[1]); /* other case: the table's */
	/* the same names without the memo's help (fresh names each time) give the same bytes */
	dns_msg_t r;
	start(&r, ref, sizeof(ref), &c, 0, q);
	for (int i = 0; i < 7; i++) {
		uint8_t copy[DNAME_MAX];
		memcpy(copy, seq[i], dname_len(seq[i]));
		r.memo_next = 0;
		memset(r.memo_off, 0, sizeof(r.memo_off));
		assert_int_equal(dns_msg_name(&r, copy, true), 0);
	}
	assert_int_equal(r.pos, m.pos);
	assert_memory_equal(ref, buf, m.pos);
	/* rolled back past a name: it is written again, not pointed at where it was */
	dns_msg_mark_t mk = dns_msg_mark(&m);
	uint8_t other[DNAME_MAX];
	W("mail.other.net.", other);
	size_t o1 = m.pos;
	assert_int_equal(dns_msg_name(&m, other, true), 0);
	dns_msg_rollback(&m, mk);
	assert_int_equal(dns_msg_name(&m, other, true), 0);
	assert_int_equal(m.pos - o1, dname_len(other));
	assert_memory_equal(buf + o1, other, dname_len(other));
	dns_comp_fini(&c);
}

/* q_alias: an owner passed from the caller's copy of the question name is its pointer. */
static void test_question_alias(void **state)
{
	static uint8_t buf[512];
	dns_comp_t c;
	dns_msg_t m;
	uint8_t q[DNAME_MAX], copy[DNAME_MAX];
	assert_int_equal(dns_comp_init(&c, 64), 0);
	W_case("Www.Example.COM", q);
	memcpy(copy, q, dname_len(q));
	start(&m, buf, sizeof(buf), &c, DNS_MSG_EXACT, q);
	m.q_alias = copy;
	size_t at = m.pos;
	assert_int_equal(dns_msg_rr_len(&m, copy, dname_len(copy), DNS_TYPE_A, DNS_CLASS_IN, 60,
	                                (const uint8_t *)"\x01\x02\x03\x04", 4),
	                 0);
	assert_memory_equal(buf + at,
	                    "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00<\x00\x04\x01\x02\x03\x04", 16);
	assert_int_equal(c.n, 0);
	dns_comp_fini(&c);
}

/* dns_msg_reply_question() then dns_msg_rrs_of_question() against dns_msg_header(),
 * dns_msg_question_len() and one dns_msg_rr_len() per record: the same bytes after the
 * header, the same failure (all or nothing) at every size limit, and the same compression
 * state after (a name sharing the question's suffix written to both). */
static void test_question_records(void **state)
{
	static uint8_t fast[1024], slow[1024];
	static const uint16_t types[] = {DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_TXT};
	uint8_t req[DNS_HEADER_LEN + DNAME_MAX + 4], run[1024], other[DNAME_MAX];
	dns_comp_t cf, cs;
	assert_int_equal(dns_comp_init(&cf, 64), 0);
	assert_int_equal(dns_comp_init(&cs, 64), 0);
	srandom(13);
	for (int round = 0; round < 3000; round++) {
		/* a request: header, a name of random labels and letter case, type, class */
		size_t nl = 0;
		uint8_t *name = req + DNS_HEADER_LEN;
		for (int l = random() % 4; l >= 0; l--) {
			unsigned len = 1 + (unsigned)(random() % 9);
			name[nl++] = (uint8_t)len;
			for (unsigned i = 0; i < len; i++)
				name[nl++] = (uint8_t)("aBcDeFgH"[random() % 8]);
		}
		name[nl++] = 0;
		memcpy(name + nl, "\0\1\0\1", 4);
		memset(req, 0xa5, DNS_HEADER_LEN);
		/* a run of RDATA: [u16 rdlength][rdata] each */
		uint16_t type = types[random() % 3], n = (uint16_t)(1 + random() % 6);
		uint32_t ttl = (uint32_t)random();
		size_t off = 0;
		for (uint16_t i = 0; i < n; i++) {
			size_t rdlen = type == DNS_TYPE_A      ? 4
			               : type == DNS_TYPE_AAAA ? 16
			                                       : 1 + (size_t)(random() % 80);
			run[off] = (uint8_t)(rdlen >> 8);
			run[off + 1] = (uint8_t)rdlen;
			for (size_t k = 0; k < rdlen; k++)
				run[off + 2 + k] = (uint8_t)random();
			off += 2 + rdlen;
		}
		size_t lim = DNS_HEADER_LEN + nl + 4 + (size_t)(random() % 400);
		dns_msg_t f, w;
		dns_msg_init(&f, fast, lim, &cf, 0);
		dns_msg_init(&w, slow, lim, &cs, 0);
		assert_int_equal(dns_msg_reply_question(&f, req, nl), 0);
		assert_int_equal(dns_msg_header(&w, 0, 0), 0);
		assert_int_equal(dns_msg_question_len(&w, name, nl), 0);
		f.q_alias = w.q_alias = name;
		/* fixed-length records: half the time a random choice of them, in random order
		 * (a steered answer's picks) */
		uint8_t idx[8], len = type == DNS_TYPE_A ? 4 : 16;
		uint16_t m = n;
		bool picked = type != DNS_TYPE_TXT && random() % 2;
		if (picked) {
			m = (uint16_t)(1 + random() % n);
			for (uint16_t i = 0; i < m; i++)
				idx[i] = (uint8_t)(random() % n);
		}
		int rf = dns_msg_rrs_of_question(&f, type, DNS_CLASS_IN, ttl, run, m,
		                                 picked ? idx : NULL, picked ? len : 0);
		dns_msg_mark_t mk = dns_msg_mark(&w);
		int rs = 0;
		off = 0;
		for (uint16_t i = 0; i < m && rs == 0; i++) {
			if (picked)
				off = (size_t)idx[i] * (2u + len);
			uint16_t rdlen = (uint16_t)(run[off] << 8 | run[off + 1]);
			rs = dns_msg_rr_len(&w, name, nl, type, DNS_CLASS_IN, ttl, run + off + 2,
			                    rdlen);
			off += 2u + rdlen;
		}
		if (rs < 0)
			dns_msg_rollback(&w, mk);
		assert_int_equal(rf, rs);
		assert_int_equal(f.pos, w.pos);
		assert_memory_equal(fast + DNS_HEADER_LEN, slow + DNS_HEADER_LEN,
		                    f.pos - DNS_HEADER_LEN);
		/* the question's suffix is found the same way in both */
		other[0] = 3;
		memcpy(other + 1, "xyz", 3);
		memcpy(other + 4, name + 1 + name[0], nl - 1u - name[0]);
		f.lim = w.lim = sizeof(fast);
		assert_int_equal(dns_msg_name(&f, other, true), 0);
		assert_int_equal(dns_msg_name(&w, other, true), 0);
		assert_int_equal(f.pos, w.pos);
		assert_memory_equal(fast + DNS_HEADER_LEN, slow + DNS_HEADER_LEN,
		                    f.pos - DNS_HEADER_LEN);
	}
	dns_comp_fini(&cf);
	dns_comp_fini(&cs);
	(void)state;
}

/* An image's names wait until a name needs the table (dns_msg_image()): a CNAME copied as an
 * image then names written after it compress as they do after the CNAME written RR by RR,
 * also after a rollback to a mark taken while the names waited (the rollback must leave them
 * waiting: the table was truncated below them). */
static void test_image_names_wait(void **state)
{
	static uint8_t ibuf[512], img_mem[1024], a[512], b[512];
	static const uint8_t target[] = "\004mail\007example\003com";
	uint8_t q[DNAME_MAX], x[DNAME_MAX], y[DNAME_MAX];
	dns_comp_t ic, ca, cb;
	dns_msg_t im, ma, mb;
	assert_int_equal(dns_comp_init(&ic, 64), 0);
	assert_int_equal(dns_comp_init(&ca, 64), 0);
	assert_int_equal(dns_comp_init(&cb, 64), 0);
	W("www.example.com", q);
	W("x.mail.example.com", x);
	W("y.www.example.com", y);
	size_t ql = dname_len(q);
	assert_int_equal(dns_msg_image_begin(&im, ibuf, sizeof(ibuf), &ic, q, ql), 0);
	assert_int_equal(
	    dns_msg_rr(&im, q, DNS_TYPE_CNAME, DNS_CLASS_IN, 60, target, sizeof(target)), 0);
	assert_int_equal(dns_msg_image_end(&im, true, img_mem, sizeof(img_mem)), 0);
	const dns_msg_image_t *img = (const dns_msg_image_t *)(const void *)img_mem;
	for (int rollback = 0; rollback < 2; rollback++) {
		start(&ma, a, sizeof(a), &ca, 0, q);
		start(&mb, b, sizeof(b), &cb, 0, q);
		assert_int_equal(dns_msg_image(&ma, img), 0);
		assert_int_equal(
		    dns_msg_rr(&mb, q, DNS_TYPE_CNAME, DNS_CLASS_IN, 60, target, sizeof(target)),
		    0);
		dns_msg_mark_t ka = dns_msg_mark(&ma), kb = dns_msg_mark(&mb);
		assert_int_equal(dns_msg_name(&ma, y, true), 0); /* the table is needed now */
		assert_int_equal(dns_msg_name(&mb, y, true), 0);
		if (rollback) {
			dns_msg_rollback(&ma, ka);
			dns_msg_rollback(&mb, kb);
		}
		assert_int_equal(dns_msg_name(&ma, x, true), 0); /* a match in the CNAME's target */
		assert_int_equal(dns_msg_name(&mb, x, true), 0);
		assert_int_equal(ma.pos, mb.pos);
		assert_memory_equal(a, b, ma.pos);
		assert_int_equal(ma.pos, mb.pos);
	}
	dns_comp_fini(&ic);
	dns_comp_fini(&ca);
	dns_comp_fini(&cb);
	(void)state;
}

/* Appending to a finished message without a table: nothing is compressed. */
static void test_resume(void **state)
{
	static uint8_t buf[512];
	dns_comp_t c;
	dns_msg_t m;
	uint8_t q[DNAME_MAX];
	assert_int_equal(dns_comp_init(&c, 8), 0);
	start(&m, buf, sizeof(buf), &c, 0, W("example.com.", q));
	size_t len = m.pos;
	dns_msg_resume(&m, buf, len, sizeof(buf));
	assert_int_equal(dns_msg_rr_header(&m, q, DNS_TYPE_TSIG, DNS_CLASS_ANY, 0, 0), 0);
	assert_int_equal(m.pos - len, 13 + 10);
	assert_memory_equal(buf + len, q, 13);
	dns_msg_count_add(&m, DNS_SEC_AR, 1);
	assert_int_equal(dns_msg_count(&m, DNS_SEC_AR), 1);
	dns_comp_fini(&c);
}

/* --- random sequences against the decoder --- */

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* A random name over a tiny alphabet, so suffixes repeat; random case. */
static void random_name(uint8_t out[DNAME_MAX])
{
	static const char *labels[] = {"a", "b", "com", "example", "x", "www"};
	unsigned n = rnd() % 5;
	size_t p = 0;
	for (unsigned i = 0; i < n; i++) {
		const char *l = labels[rnd() % 6];
		size_t len = strlen(l);
		out[p++] = (uint8_t)len;
		for (size_t j = 0; j < len; j++)
			out[p++] = (uint8_t)((rnd() % 4 == 0) ? l[j] - 32 : l[j]);
	}
	out[p] = 0;
}

typedef struct written {
	size_t pos;
	uint8_t name[DNAME_MAX];
} written_t;

/* Names written with random compression, random rollbacks and a small table: each name still
 * in the message decodes to what was written (case-insensitively, or exactly with
 * DNS_MSG_EXACT), and every pointer goes backwards (dname_parse insists). */
static void run_random(unsigned flags, unsigned cap)
{
	static uint8_t buf[4096];
	static written_t w[512];
	dns_comp_t c;
	dns_msg_t m;
	uint8_t q[DNAME_MAX];
	assert_int_equal(dns_comp_init(&c, cap), 0);
	for (int round = 0; round < 300; round++) {
		random_name(q);
		start(&m, buf, sizeof(buf), &c, flags, q);
		unsigned nw = 0;
		dns_msg_mark_t mk = dns_msg_mark(&m);
		for (int i = 0; i < 120; i++) {
			if (rnd() % 10 == 0)
				mk = dns_msg_mark(&m);
			if (rnd() % 17 == 0) {
				dns_msg_rollback(&m, mk);
				while (nw > 0 && w[nw - 1].pos >= mk.pos)
					nw--;
				continue;
			}
			random_name(w[nw].name);
			w[nw].pos = m.pos;
			if (dns_msg_name(&m, w[nw].name, rnd() % 4 != 0) == 0)
				nw++;
		}
		for (unsigned i = 0; i < nw; i++) {
			uint8_t out[DNAME_MAX];
			size_t pos = w[i].pos;
			read_name(&m, &pos, out);
			if (flags & DNS_MSG_EXACT)
				assert_true(dname_equal(out, w[i].name));
			else
				assert_true(dname_equal_ci(out, w[i].name));
		}
	}
	dns_comp_fini(&c);
}

static void test_random(void **state)
{
	run_random(0, 64);
	run_random(DNS_MSG_EXACT, 64);
	run_random(0, 3);
	run_random(DNS_MSG_EXACT, 1536);
}

/* A list table (64 entries at most) and a hashed one (65) given the same names, marks and
 * rollbacks write the same bytes, pointer for pointer, until the list is full. */
static void run_list_vs_hash(unsigned flags)
{
	static uint8_t buf_l[4096], buf_h[4096];
	dns_comp_t cl, ch;
	dns_msg_t ml, mh;
	uint8_t q[DNAME_MAX], name[DNAME_MAX];
	unsigned compared = 0;
	assert_int_equal(dns_comp_init(&cl, 64), 0);
	assert_int_equal(dns_comp_init(&ch, 65), 0);
	assert_null(cl.slot);
	assert_non_null(ch.slot);
	for (int round = 0; round < 300; round++) {
		random_name(q);
		start(&ml, buf_l, sizeof(buf_l), &cl, flags, q);
		start(&mh, buf_h, sizeof(buf_h), &ch, flags, q);
		dns_msg_mark_t kl = dns_msg_mark(&ml), kh = dns_msg_mark(&mh);
		for (int i = 0; i < 60 && cl.n == ch.n; i++) {
			unsigned r = rnd() % 20;
			if (r == 0) {
				kl = dns_msg_mark(&ml);
				kh = dns_msg_mark(&mh);
			} else if (r == 1) {
				dns_msg_rollback(&ml, kl);
				dns_msg_rollback(&mh, kh);
			} else {
				random_name(name);
				bool compress = rnd() % 4 != 0;
				assert_int_equal(dns_msg_name(&ml, name, compress), 0);
				assert_int_equal(dns_msg_name(&mh, name, compress), 0);
			}
			if (cl.n != ch.n) { /* the list is full: the hashed table took one more */
				assert_int_equal(cl.n, 64);
				break;
			}
			assert_int_equal(ml.pos, mh.pos);
			assert_memory_equal(buf_l, buf_h, ml.pos);
			compared++;
		}
	}
	assert_true(compared > 5000);
	dns_comp_fini(&cl);
	dns_comp_fini(&ch);
}

static void test_list_vs_hash(void **state)
{
	(void)state;
	run_list_vs_hash(0);
	run_list_vs_hash(DNS_MSG_EXACT);
}

/* RCODE mnemonics, extended ones included; others by number. */
static void test_rcode_name(void **state)
{
	(void)state;
	char buf[DNS_RCODE_NAME_LEN];
	assert_string_equal(dns_rcode_name(DNS_RCODE_NOERROR, buf), "NOERROR");
	assert_string_equal(dns_rcode_name(DNS_RCODE_NOTZONE, buf), "NOTZONE");
	assert_string_equal(dns_rcode_name(DNS_RCODE_BADVERS, buf), "BADVERS");
	assert_string_equal(dns_rcode_name(DNS_RCODE_BADCOOKIE, buf), "BADCOOKIE");
	assert_string_equal(dns_rcode_name(12, buf), "RCODE12");
	assert_string_equal(dns_rcode_name(4095, buf), "RCODE4095");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compression),
	    cmocka_unit_test(test_case),
	    cmocka_unit_test(test_space_and_rollback),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_question_shortcuts),
	    cmocka_unit_test(test_memo),
	    cmocka_unit_test(test_question_alias),
	    cmocka_unit_test(test_question_records),
	    cmocka_unit_test(test_image_names_wait),
	    cmocka_unit_test(test_resume),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_list_vs_hash),
	    cmocka_unit_test(test_rcode_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
