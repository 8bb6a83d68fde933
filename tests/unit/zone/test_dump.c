/* test_dump.c — the master-file text of records (zone/dump.c): the records dump.c prints
 * itself (A, AAAA, NS, CNAME, PTR, DNAME, MX, SRV, TXT with plain names and strings) must
 * read exactly as ldns prints them, since snapshots and base copies written before are read
 * back with the ones written now; every other record is ldns's text. Checked over a corpus
 * of edge cases and over random records, against ldns_rr2str of the same wire record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "dns/name.h"
#include "dns/proto.h"
#include "zone/dump.h"

/* ldns's text of the record (no newline), or NULL when ldns cannot read the wire form. */
static char *ldns_text(const zone_rr_t *zr)
{
	uint8_t wire[DNAME_MAX + 10 + UINT16_MAX];
	size_t on = dname_len(zr->owner), pos = 0;
	memcpy(wire, zr->owner, on);
	uint8_t *p = be16_put(wire + on, zr->type);
	p = be16_put(p, zr->rclass);
	p = be32_put(p, zr->ttl);
	p = be16_put(p, zr->rdlen);
	if (zr->rdlen)
		memcpy(p, zr->rdata, zr->rdlen);
	ldns_rr *rr = NULL;
	if (ldns_wire2rr(&rr, wire, on + 10 + zr->rdlen, &pos, LDNS_SECTION_ANSWER) !=
	    LDNS_STATUS_OK)
		return NULL;
	char *text = ldns_rr2str(rr);
	ldns_rr_free(rr);
	size_t len = text ? strlen(text) : 0;
	while (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	return text;
}

/* zone_rr_format and ldns agree: the same text, or both have none. */
static void check_same(const zone_rr_t *zr)
{
	static char buf[1 << 18];
	char *want = ldns_text(zr);
	int n = zone_rr_format(zr, buf, sizeof(buf));
	if (!want) {
		assert_true(n < 0);
		return;
	}
	if (n < 0 || strcmp(buf, want) != 0)
		print_error("type %u: dump.c [%s], ldns [%s]\n", zr->type, n < 0 ? "-" : buf, want);
	assert_true(n >= 0);
	assert_string_equal(buf, want);
	free(want);
}

static void check(const char *owner, uint16_t type, const void *rdata, size_t rdlen)
{
	zone_rr_t zr = {(const uint8_t *)owner, type, DNS_CLASS_IN, 3600, (uint16_t)rdlen, rdata};
	check_same(&zr);
}

#define W(s) s, sizeof(s) - 1 /* a string literal's wire bytes, without the final NUL */

static void test_corpus(void **state)
{
	(void)state;
	const char *own[] = {"\0",
	                     "\7example\3com\0",
	                     "\1*\7example\0",
	                     "\3a_b\3x-y\0",
	                     "\3A*B\3COM\0",
	                     "\3a.b\0",
	                     "\3a b\0",
	                     "\3a\\b\0",
	                     "\3a\"b\0",
	                     "\3a;b\0",
	                     "\3a(b\0",
	                     "\3a@b\0",
	                     "\3a$b\0",
	                     "\2\xc3\xa9\0",
	                     "\3a\0b\0",
	                     ("\3a\x7f"
	                      "b\0")};
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		check(own[i], DNS_TYPE_A, W("\xc0\x00\x02\x01"));
		check(own[i], DNS_TYPE_NS, own[i], dname_len((const uint8_t *)own[i]));
	}
	const char *o = "\1x\0";
	check(o, DNS_TYPE_A, W("\0\0\0\0"));
	check(o, DNS_TYPE_A, W("\xff\xff\xff\xff"));
	check(o, DNS_TYPE_A, W("\1\2\3"));
	check(o, DNS_TYPE_AAAA, W("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1"));
	check(o, DNS_TYPE_AAAA, W("\0\0\0\0\0\0\0\0\0\0\xff\xff\1\2\3\4")); /* v4-mapped */
	check(o, DNS_TYPE_AAAA, W("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"));
	check(o, DNS_TYPE_AAAA, W("\0\0\0\0\0\0\0\0\0\0\0\0\1\2\3\4")); /* v4-compatible */
	check(o, DNS_TYPE_AAAA, W("\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\1"));
	check(o, DNS_TYPE_MX, W("\0\12\4mail\7example\0"));
	check(o, DNS_TYPE_MX, W("\xff\xff\0"));
	check(o, DNS_TYPE_MX, W("\0\12"));
	check(o, DNS_TYPE_SRV, W("\0\1\0\2\x01\xbb\6target\0"));
	check(o, DNS_TYPE_CNAME, W("\1a\1b\0"));
	check(o, DNS_TYPE_PTR, W("\0"));
	check(o, DNS_TYPE_DNAME, W("\3Foo\0"));
	check(o, DNS_TYPE_CNAME, W("\1a\1b"));  /* no root label */
	check(o, DNS_TYPE_CNAME, W("\1a\0\0")); /* trailing octet */
	check(o, DNS_TYPE_TXT, W("\11v=bench 6"));
	check(o, DNS_TYPE_TXT, W("\0"));
	check(o, DNS_TYPE_TXT, W("\1a\0\2bc"));
	check(o, DNS_TYPE_TXT, W("\3a\"b"));
	check(o, DNS_TYPE_TXT, W("\3a\\b"));
	check(o, DNS_TYPE_TXT, W("\3a\tb"));
	check(o, DNS_TYPE_TXT, W("\3a;b"));
	check(o, DNS_TYPE_TXT, W("\5(a)@$"));
	check(o, DNS_TYPE_TXT, W("\2\xc3\xa9"));
	check(o, DNS_TYPE_TXT,
	      W("\3a\x7f"
	        "b"));
	check(o, DNS_TYPE_TXT, W("\5ab"));                       /* runs past the end */
	check(o, DNS_TYPE_TXT, W(" ~!#%&*+,-./:<=>?[]^`{|}'_")); /* every other punctuation */
	check(o, DNS_TYPE_SOA, W("\2ns\0\2hm\0\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5"));
	check(o, 65000, W("\xab\xcd"));
	zone_rr_t ch = {(const uint8_t *)o,         DNS_TYPE_A, DNS_CLASS_CH, 0, 4,
	                (const uint8_t *)"\1\2\3\4"};
	check_same(&ch);
	zone_rr_t big = {(const uint8_t *)o, DNS_TYPE_A, DNS_CLASS_IN,
	                 0xffffffffu,        4,          (const uint8_t *)"\1\2\3\4"};
	check_same(&big);
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* A random name of mostly plain octets, now and then another one. */
static size_t rnd_name(uint32_t *s, uint8_t *out)
{
	static const char set[] = "abcXYZ019-_*.\\\" ;()@$\t\x7f\xc3\0";
	size_t len = 0;
	unsigned labels = rnd(s) % 4;
	for (unsigned l = 0; l < labels; l++) {
		unsigned n = 1 + rnd(s) % 6;
		out[len++] = (uint8_t)n;
		for (unsigned k = 0; k < n; k++)
			out[len++] = rnd(s) % 8 ? (uint8_t)set[rnd(s) % 9]
			                        : (uint8_t)set[rnd(s) % (sizeof(set) - 1)];
	}
	out[len++] = 0;
	return len;
}

static void test_random(void **state)
{
	(void)state;
	static const uint16_t types[] = {DNS_TYPE_A,   DNS_TYPE_AAAA,  DNS_TYPE_NS, DNS_TYPE_CNAME,
	                                 DNS_TYPE_PTR, DNS_TYPE_DNAME, DNS_TYPE_MX, DNS_TYPE_SRV,
	                                 DNS_TYPE_TXT, DNS_TYPE_SOA,   99};
	uint32_t s = 2463534242u;
	for (int i = 0; i < 200000; i++) {
		uint8_t owner[DNAME_MAX], rd[600];
		size_t rdlen = 0;
		rnd_name(&s, owner);
		uint16_t type = types[rnd(&s) % (sizeof(types) / sizeof(types[0]))];
		unsigned nums = type == DNS_TYPE_MX ? 1 : type == DNS_TYPE_SRV ? 3 : 0;
		if (type == DNS_TYPE_A || type == DNS_TYPE_AAAA || rnd(&s) % 10 == 0) {
			rdlen = type == DNS_TYPE_A ? 4 : type == DNS_TYPE_AAAA ? 16 : rnd(&s) % 20;
			for (size_t k = 0; k < rdlen; k++)
				rd[k] = (uint8_t)(rnd(&s) % 4 ? rnd(&s) % 3 : rnd(&s));
		} else if (type == DNS_TYPE_TXT) {
			uint8_t name[DNAME_MAX];
			size_t n = rnd_name(&s, name); /* its labels are character strings */
			memcpy(rd, name, n - 1);
			rdlen = n > 1 ? n - 1 : 1;
			rd[0] = n > 1 ? rd[0] : 0;
		} else {
			for (unsigned k = 0; k < nums; k++)
				be16_put(rd + 2 * k, (uint16_t)rnd(&s));
			rdlen = 2 * nums + rnd_name(&s, rd + 2 * nums);
		}
		zone_rr_t zr = {owner,           type,
		                DNS_CLASS_IN,    rnd(&s) % 3 ? rnd(&s) % 100000 : rnd(&s),
		                (uint16_t)rdlen, rd};
		check_same(&zr);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_corpus),
	    cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
