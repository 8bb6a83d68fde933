/* test_name.c — wire-form names: parsing untrusted packets, order, presentation form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "contrib/base/err.h"
#include "dns/name.h"

/* Wire form from presentation form, asserting success. */
static size_t W(const char *text, uint8_t out[DNAME_MAX])
{
	int n = dname_from_str(text, NULL, out);
	assert_true(n > 0);
	return (size_t)n;
}

static void test_parse_plain(void **state)
{
	const uint8_t pkt[] = {3, 'W', 'w', 'W', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0xAA};
	uint8_t out[DNAME_MAX];
	size_t pos = 0;
	assert_int_equal(dname_parse(pkt, sizeof(pkt), &pos, out), 13);
	assert_int_equal(pos, 13);
	assert_memory_equal(out, pkt, 13); /* case kept */
	dname_lower(out);
	assert_memory_equal(out, "\3www\7example\0", 13);
}

/* The query path's one-pass helpers agree with the plain ones, at every length. */
static void test_copy_lower_offsets(void **state)
{
	const char *names[] = {"",
	                       "A",
	                       "Ab",
	                       "WwW.ExAmPlE",
	                       "h16578.EXAMPLE.bench",
	                       "a.B.c.D.e.F.g.H.i.J.k",
	                       "xn--MNCHEN-3YA.de",
	                       "@.Z[.`a"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint8_t src[DNAME_MAX], dst[DNAME_MAX], ref[DNAME_MAX], offs[DNAME_LABELS_MAX];
		uint8_t roffs[DNAME_LABELS_MAX];
		size_t n = 0;
		for (const char *t = names[i]; *t;) { /* wire form keeping the case */
			const char *dot = strchr(t, '.');
			size_t l = dot ? (size_t)(dot - t) : strlen(t);
			src[n++] = (uint8_t)l;
			memcpy(src + n, t, l);
			n += l;
			t += l + (dot ? 1 : 0);
		}
		src[n++] = 0;
		memcpy(ref, src, n);
		dname_lower(ref);
		memset(dst, 0xee, sizeof(dst));
		dname_copy_lower(dst, src, n);
		assert_memory_equal(dst, ref, n);
		assert_int_equal(dst[n], 0xee); /* nothing past the name */
		dname_copy_lower(src, src, n);  /* in place */
		assert_memory_equal(src, ref, n);
		size_t len = 0;
		unsigned k = dname_label_offsets_len(ref, offs, &len);
		assert_int_equal(len, dname_len(ref));
		assert_int_equal(k, dname_label_offsets(ref, roffs));
		assert_memory_equal(offs, roffs, k);
		assert_true(dname_bytes_equal(dst, ref, n));
		if (n > 1) {
			dst[n - 2] ^= 1;
			assert_false(dname_bytes_equal(dst, ref, n));
		}
	}
}

static void test_parse_compression(void **state)
{
	/* 0: example.com.  13: www + ptr(0)  19: mail + ptr(13) -> mail.www.example.com. */
	uint8_t pkt[] = {7,   'e', 'x', 'a',  'm', 'p', 'l', 'e', 3,   'c', 'o',  'm', 0,    3,
	                 'w', 'w', 'w', 0xC0, 0,   4,   'm', 'a', 'i', 'l', 0xC0, 13,  0xC0, 19};
	uint8_t out[DNAME_MAX], exp[DNAME_MAX];
	size_t pos = 13;
	assert_int_equal(dname_parse(pkt, sizeof(pkt), &pos, out), 17);
	assert_int_equal(pos, 19);
	assert_true(dname_equal(out, (W("www.example.com.", exp), exp)));
	pos = 19;
	assert_int_equal(dname_parse(pkt, sizeof(pkt), &pos, out), 22);
	assert_int_equal(pos, 26);
	assert_true(dname_equal(out, (W("mail.www.example.com.", exp), exp)));
	/* a bare pointer to a pointer chain */
	pos = 26;
	assert_int_equal(dname_parse(pkt, sizeof(pkt), &pos, out), 22);
	assert_int_equal(pos, 28);
}

static void test_parse_bad_pointers(void **state)
{
	uint8_t out[DNAME_MAX];
	size_t pos;
	/* pointer to itself */
	const uint8_t self[] = {0xC0, 0};
	pos = 0;
	assert_int_equal(dname_parse(self, sizeof(self), &pos, out), SD_EPARSE);
	/* loop between two pointers: 0 -> 2 is forward, and 2 -> 0 loops */
	const uint8_t loop[] = {0xC0, 2, 0xC0, 0};
	pos = 0;
	assert_int_equal(dname_parse(loop, sizeof(loop), &pos, out), SD_EPARSE);
	pos = 2;
	assert_int_equal(dname_parse(loop, sizeof(loop), &pos, out), SD_EPARSE);
	/* label then a pointer back into the same name: 1 a, ptr -> 0 */
	const uint8_t back_into[] = {1, 'a', 0xC0, 0};
	pos = 0;
	assert_int_equal(dname_parse(back_into, sizeof(back_into), &pos, out), SD_EPARSE);
	/* forward pointer */
	const uint8_t fwd[] = {0xC0, 2, 1, 'a', 0};
	pos = 0;
	assert_int_equal(dname_parse(fwd, sizeof(fwd), &pos, out), SD_EPARSE);
	/* pointer out of bounds (backwards from a later name, but past the packet) */
	const uint8_t oob[] = {0, 0xC0, 0x40};
	pos = 1;
	assert_int_equal(dname_parse(oob, sizeof(oob), &pos, out), SD_EPARSE);
	/* truncated pointer */
	const uint8_t trunc[] = {0, 0xC0};
	pos = 1;
	assert_int_equal(dname_parse(trunc, sizeof(trunc), &pos, out), SD_EPARSE);
	/* truncated label and missing root */
	const uint8_t tl[] = {3, 'a', 'b'};
	pos = 0;
	assert_int_equal(dname_parse(tl, sizeof(tl), &pos, out), SD_EPARSE);
	const uint8_t nr[] = {1, 'a'};
	pos = 0;
	assert_int_equal(dname_parse(nr, sizeof(nr), &pos, out), SD_EPARSE);
	pos = 0;
	assert_int_equal(dname_parse(nr, 0, &pos, out), SD_EPARSE);
	/* a valid backward pointer to the root at 0 */
	const uint8_t ok[] = {0, 0xC0, 0};
	pos = 1;
	assert_int_equal(dname_parse(ok, sizeof(ok), &pos, out), 1);
	assert_int_equal(pos, 3);
}

static void test_parse_reserved_types(void **state)
{
	uint8_t out[DNAME_MAX];
	size_t pos = 0;
	const uint8_t ext[] = {0x41, 0, 0};
	assert_int_equal(dname_parse(ext, sizeof(ext), &pos, out), SD_EPARSE);
	const uint8_t r80[] = {0x80, 0, 0};
	pos = 0;
	assert_int_equal(dname_parse(r80, sizeof(r80), &pos, out), SD_EPARSE);
	/* 64-byte label is 0x40, a reserved type */
	uint8_t l64[66] = {64};
	memset(l64 + 1, 'a', 64);
	pos = 0;
	assert_int_equal(dname_parse(l64, sizeof(l64), &pos, out), SD_EPARSE);
	/* 63-byte label is fine */
	uint8_t l63[65] = {63};
	memset(l63 + 1, 'a', 63);
	pos = 0;
	assert_int_equal(dname_parse(l63, sizeof(l63), &pos, out), 65);
}

/* A name of exactly `total` wire bytes: labels of 63 then a shorter one. */
static size_t make_long(uint8_t *buf, size_t total)
{
	size_t p = 0;
	size_t left = total - 1;
	while (left > 0) {
		size_t l = left - 1 > 63 ? 63 : left - 1;
		buf[p] = (uint8_t)l;
		memset(buf + p + 1, 'x', l);
		p += l + 1;
		left -= l + 1;
	}
	buf[p++] = 0;
	return p;
}

static void test_parse_length(void **state)
{
	uint8_t pkt[300], out[DNAME_MAX];
	size_t pos = 0;
	assert_int_equal(make_long(pkt, 255), 255);
	assert_int_equal(dname_parse(pkt, 255, &pos, out), 255);
	assert_int_equal(dname_len(out), 255);
	assert_int_equal(make_long(pkt, 256), 256);
	pos = 0;
	assert_int_equal(dname_parse(pkt, 256, &pos, out), SD_EPARSE);
	/* 256 bytes reached only through compression */
	uint8_t c[300];
	size_t a = make_long(c, 250);      /* 250 bytes name at 0 */
	memcpy(c + a, "\5abcde\300\0", 8); /* 6 + 250 = 256 bytes */
	pos = a;
	assert_int_equal(dname_parse(c, a + 8, &pos, out), SD_EPARSE);
	memcpy(c + a, "\4abcd\300\0", 7); /* 5 + 250 = 255 bytes: the limit */
	pos = a;
	assert_int_equal(dname_parse(c, a + 7, &pos, out), 255);
	assert_int_equal(pos, a + 7);
}

static void test_parse_hops(void **state)
{
	/* a chain of 200 pointers each one step back ends at a root: too many hops */
	uint8_t pkt[1 + 2 * 200];
	pkt[0] = 0;
	for (size_t i = 0; i < 200; i++) {
		size_t at = 1 + 2 * i;
		size_t target = i == 0 ? 0 : at - 2;
		pkt[at] = (uint8_t)(0xC0 | (target >> 8));
		pkt[at + 1] = (uint8_t)target;
	}
	uint8_t out[DNAME_MAX];
	size_t pos = 1 + 2 * 199;
	assert_int_equal(dname_parse(pkt, sizeof(pkt), &pos, out), SD_EPARSE);
	pos = 1 + 2 * 10; /* 11 hops: fine */
	assert_int_equal(dname_parse(pkt, sizeof(pkt), &pos, out), 1);
	assert_int_equal(pos, 23);
}

/* Random packets: every result is an error or a well-formed name inside the limits, and the
 * position never leaves the packet (run under ASan to catch any out-of-bounds read). */
static void test_parse_random(void **state)
{
	uint8_t pkt[64], out[DNAME_MAX];
	srand(4034);
	for (int iter = 0; iter < 200000; iter++) {
		size_t len = (size_t)(rand() % (int)sizeof(pkt));
		for (size_t i = 0; i < len; i++) {
			int r = rand();
			/* bias towards small lengths and pointers */
			pkt[i] =
			    (r & 3) == 0 ? (uint8_t)(0xC0 | ((r >> 8) & 1)) : (uint8_t)(r >> 4);
			if ((r & 7) == 1)
				pkt[i] = (uint8_t)((r >> 8) % 8);
		}
		size_t pos = len ? (size_t)rand() % len : 0, start = pos;
		int n = dname_parse(pkt, len, &pos, out);
		if (n == SD_EPARSE) {
			assert_int_equal(pos, start);
			continue;
		}
		assert_true(n >= 1 && n <= DNAME_MAX);
		assert_int_equal(dname_len(out), (size_t)n);
		assert_true(pos > start && pos <= len);
	}
}

static void test_labels(void **state)
{
	uint8_t n[DNAME_MAX], offs[DNAME_LABELS_MAX];
	W("www.example.com.", n);
	assert_int_equal(dname_labels(n), 3);
	assert_int_equal(dname_label_offsets(n, offs), 3);
	assert_int_equal(offs[0], 0);
	assert_int_equal(offs[1], 4);
	assert_int_equal(offs[2], 12);
	W(".", n);
	assert_int_equal(dname_labels(n), 0);
	assert_int_equal(dname_len(n), 1);
	W("*.example.", n);
	assert_true(dname_is_wildcard(n));
	W("a*.example.", n);
	assert_false(dname_is_wildcard(n));
}

static void test_canonical_order(void **state)
{
	/* RFC 4034 6.1, in order */
	static const char *const list[] = {
	    "example.",         "a.example.",      "yljkjljk.a.example.",
	    "Z.a.example.",     "zABC.a.EXAMPLE.", "z.example.",
	    "\\001.z.example.", "*.z.example.",    "\\200.z.example.",
	};
	size_t n = SD_ARRAY_LEN(list);
	uint8_t names[9][DNAME_MAX];
	for (size_t i = 0; i < n; i++)
		W(list[i], names[i]);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			int c = dname_cmp_canonical(names[i], names[j]);
			if (i < j)
				assert_true(c < 0);
			else if (i > j)
				assert_true(c > 0);
			else
				assert_int_equal(c, 0);
		}
	}
}

static void test_subdomain_equal(void **state)
{
	uint8_t a[DNAME_MAX], b[DNAME_MAX], c[DNAME_MAX], root[DNAME_MAX];
	W("www.example.com.", a);
	W("example.com.", b);
	W("ample.com.", c);
	W(".", root);
	assert_true(dname_is_subdomain(a, b));
	assert_true(dname_is_subdomain(b, b));
	assert_false(dname_is_subdomain(b, a));
	assert_false(dname_is_subdomain(b, c)); /* label boundary, not a string suffix */
	assert_true(dname_is_subdomain(a, root));
	assert_true(dname_equal(b, b));
	assert_false(dname_equal(a, b));
	uint8_t up[] = {3,   'W', 'W', 'W', 7,   'E', 'x', 'a', 'm',
	                'p', 'l', 'e', 3,   'C', 'O', 'M', 0};
	assert_false(dname_equal(up, a));
	assert_true(dname_equal_ci(up, a));
	assert_int_equal(dname_hash(a, dname_len(a)), dname_hash(a, dname_len(a)));
	assert_int_not_equal(dname_hash(a, dname_len(a)), dname_hash(b, dname_len(b)));
}

/* dname_copy_lower_hash(): the bytes of dname_copy_lower() and the hash of dname_hash() on
 * them, for every length (short names, whole words, a last partial word), copied or in
 * place; and the hash sees every byte (no length it ignores a byte of). */
static void test_copy_lower_hash(void **state)
{
	uint8_t src[DNAME_MAX], want[DNAME_MAX], got[DNAME_MAX];
	srandom(5);
	for (int round = 0; round < 20000; round++) {
		size_t len = 1 + (size_t)(random() % DNAME_MAX);
		for (size_t i = 0; i < len; i++)
			src[i] = (uint8_t)random();
		dname_copy_lower(want, src, len);
		uint32_t h = dname_copy_lower_hash(got, src, len);
		assert_memory_equal(got, want, len);
		assert_int_equal(h, dname_hash(want, len));
		memcpy(got, src, len);
		assert_int_equal(dname_copy_lower_hash(got, got, len), h);
		assert_memory_equal(got, want, len);
		size_t at =
		    (size_t)random() % len; /* a changed byte changes the hash (almost surely) */
		want[at] ^= (uint8_t)(1u << (random() % 8));
		if (dname_hash(want, len) == h)
			fail_msg("len %zu: byte %zu not hashed", len, at);
	}
	(void)state;
}

static void test_str(void **state)
{
	uint8_t n[DNAME_MAX], origin[DNAME_MAX];
	char buf[1024];
	W("Example.COM.", origin);
	assert_string_equal(dname_to_str(origin, buf, sizeof(buf)), "example.com.");
	assert_int_equal(dname_from_str("www", origin, n), 17);
	assert_string_equal(dname_to_str(n, buf, sizeof(buf)), "www.example.com.");
	assert_int_equal(dname_from_str("@", origin, n), 13);
	assert_int_equal(dname_from_str("a\\.b.c.", NULL, n), 7);
	assert_memory_equal(n, "\3a.b\1c\0", 7);
	assert_string_equal(dname_to_str(n, buf, sizeof(buf)), "a\\.b.c.");
	assert_string_equal(dname_to_str_nodot(n, buf, sizeof(buf)), "a\\.b.c");
	assert_string_equal(dname_to_str_nodot((const uint8_t *)"", buf, sizeof(buf)), ".");
	assert_int_equal(dname_from_str("\\000\\255\\032x.", NULL, n), 6);
	assert_memory_equal(n, "\4\0\377 x\0", 6);
	assert_string_equal(dname_to_str(n, buf, sizeof(buf)), "\\000\\255\\032x.");
	W(".", n);
	assert_string_equal(dname_to_str(n, buf, sizeof(buf)), ".");
	/* errors */
	assert_int_equal(dname_from_str("a..b.", NULL, n), SD_EPARSE);
	assert_int_equal(dname_from_str(".a.", NULL, n), SD_EPARSE);
	assert_int_equal(dname_from_str("", NULL, n), SD_EPARSE);
	assert_int_equal(dname_from_str("a\\256.", NULL, n), SD_EPARSE);
	assert_int_equal(dname_from_str("a\\1.", NULL, n), SD_EPARSE);
	char lab[80];
	memset(lab, 'a', 64);
	strcpy(lab + 64, ".");
	assert_int_equal(dname_from_str(lab, NULL, n), SD_EPARSE);
	lab[63] = '.', lab[64] = '\0';
	assert_int_equal(dname_from_str(lab, NULL, n), 65);
	/* 255 is the limit, also after appending the origin */
	char big[400];
	size_t p = 0;
	for (int i = 0; i < 4; i++) {
		memset(big + p, 'b', 62);
		p += 62;
		big[p++] = '.';
	}
	big[p] = '\0'; /* 4 * 63 = 252 bytes + root = 253 */
	assert_int_equal(dname_from_str(big, NULL, n), 253);
	assert_int_equal(dname_from_str(big, origin, n) == SD_EPARSE, false);
	big[p - 1] = '\0'; /* relative: 252 + origin (13) > 255 */
	assert_int_equal(dname_from_str(big, origin, n), SD_EPARSE);
	/* truncated output buffer still terminates */
	W("www.example.com.", n);
	dname_to_str(n, buf, 6);
	assert_true(strlen(buf) < 6);
	assert_int_equal(strncmp(buf, "www.", 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_plain),
	    cmocka_unit_test(test_copy_lower_offsets),
	    cmocka_unit_test(test_parse_compression),
	    cmocka_unit_test(test_parse_bad_pointers),
	    cmocka_unit_test(test_parse_reserved_types),
	    cmocka_unit_test(test_parse_length),
	    cmocka_unit_test(test_parse_hops),
	    cmocka_unit_test(test_parse_random),
	    cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_canonical_order),
	    cmocka_unit_test(test_subdomain_equal),
	    cmocka_unit_test(test_copy_lower_hash),
	    cmocka_unit_test(test_str),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
