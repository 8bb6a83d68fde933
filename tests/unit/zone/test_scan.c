/* test_scan.c — the loader's scanner (zone/scan.h) against ldns: which lines it reads itself,
 * and for a corpus of zone files that mixes plain lines with every case of RFC 1035 5.1 the
 * scanner declines, the same version (or the same failure) and the same messages, file:line
 * included, with the scanner on as with ldns reading every line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contrib/base/err.h"
#include "tests/unit/zone/helpers.h"
#include "zone/load.h"
#include "zone/scan.h"

static bool scans(const char *line, uint16_t type, uint32_t ttl, const char *owner)
{
	static const uint8_t origin[] = "\7example\0";
	static const uint8_t prev[] = "\4prev\7example\0";
	zone_scan_ctx_t ctx = {origin, sizeof(origin) - 1, prev, sizeof(prev) - 1, 300};
	zone_scan_rr_t rr;
	if (!zone_scan_line(line, line + strlen(line), &ctx, &rr))
		return false;
	assert_int_equal(rr.type, type);
	assert_int_equal(rr.ttl, ttl);
	assert_memory_equal(rr.owner, t_name(owner), rr.owner_len);
	return true;
}

static void test_lines(void **state)
{
	(void)state;
	assert_true(scans("a A 192.0.2.1\n", DNS_TYPE_A, 300, "a.example."));
	assert_true(scans("a 60 IN A 192.0.2.1", DNS_TYPE_A, 60, "a.example."));
	assert_true(scans("a 60 in a 192.0.2.1", DNS_TYPE_A, 60, "a.example."));
	assert_true(scans(" AAAA 2001:db8::1", DNS_TYPE_AAAA, 300, "prev.example."));
	assert_true(scans("\t7 MX 10 mail", DNS_TYPE_MX, 7, "prev.example."));
	assert_true(scans("x.org. NS ns.x.org.", DNS_TYPE_NS, 300, "x.org."));
	assert_true(scans("*.w CNAME a_b-c", DNS_TYPE_CNAME, 300, "*.w.example."));
	assert_true(scans("t TXT \"v=x 1\" \"\"", DNS_TYPE_TXT, 300, "t.example."));
	static const char *declined[] = {
	    "",
	    "   ",
	    "$TTL 60",
	    "@ A 192.0.2.1",
	    "a A 192.0.2.1 ; c",
	    "a ( A 192.0.2.1 )",
	    "a\\. A 192.0.2.1",
	    "a 1h A 192.0.2.1",
	    "a 2147483648 A 192.0.2.1",
	    "a CH A 192.0.2.1",
	    "a 60 60 A 192.0.2.1",
	    "a IN 60 A 192.0.2.1", /* RFC 1035 allows it, ldns refuses it */
	    "a SRV 1 2 3 t",
	    "a TYPE1 192.0.2.1",
	    "a A 192.0.2.1 x",
	    "a A 300.0.2.1",
	    "a AAAA 192.0.2.1",
	    "a MX 65536 m",
	    "a..b A 192.0.2.1",
	    ".a A 192.0.2.1",
	    "a A 192.0.2.1\r",
	    "t TXT a",
	    "t TXT \"a\"\"b\"",
	    "t TXT \"a\\\"\"",
	    "t TXT \"a",
	    "t TXT",
	    "a:b A 192.0.2.1",
	    "\xc3\xa9 A 192.0.2.1",
	};
	for (size_t i = 0; i < sizeof(declined) / sizeof(declined[0]); i++)
		if (scans(declined[i], 0, 0, "."))
			fail_msg("scanned: %s", declined[i]);
}

/* Load text as example.'s zone file with the scanner on or off; the messages into msgs. */
static int load(const char *text, bool scanner, zone_version_t **v, char *msgs, size_t size)
{
	char path[] = "/tmp/test_scan.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	logcap_clear(&t_cap);
	zone_load_set_scanner(scanner);
	int ret = zone_load_file(t_name("example."), path, NULL, v);
	zone_load_set_scanner(true);
	unlink(path);
	/* the messages name the temporary file: compare them without it */
	char *out = msgs;
	for (const char *p = t_cap.all; *p && (size_t)(out - msgs) + 1 < size;) {
		if (strncmp(p, path, strlen(path)) == 0) {
			p += strlen(path);
			*out++ = '@';
			continue;
		}
		*out++ = *p++;
	}
	*out = '\0';
	return ret;
}

#define HEAD "$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.53\n"

static const char *corpus[] = {
    HEAD "a A 10.0.0.1\na 60 A 10.0.0.2\nb IN 60 A 10.0.0.3\nc 60 IN A 10.0.0.4\n"
         "d in a 10.0.0.5\n A 10.0.0.6\n\t60 AAAA ::1\n",
    HEAD "B.Example. MX 10 Mail\nc CNAME x.y.\nd NS ns.other.\ne PTR a\nf DNAME g.other.\n"
         "*.w A 10.0.0.1\nx-y_z TXT \"a b\" \"\" \"~!#%&*+,-./:<=>?[]^`{|}'_\"\n",
    /* blank owners across the two readers: ldns after the scanner and the other way */
    HEAD "p A 10.0.0.1\n TXT ( \"a\" )\n AAAA ::2\nq ( A 10.0.0.2 )\n A 10.0.0.3\n",
    HEAD "r A 10.0.0.1 ; comment\n A 10.0.0.2\n; only a comment\n\n   \n A 10.0.0.3\n",
    /* directives between plain lines */
    HEAD "$ORIGIN sub\ns A 10.0.0.1\n A 10.0.0.2\n$ORIGIN example.\nt A 10.0.0.3\n"
         "$TTL 60\nu A 10.0.0.4\n$TTL 1h\nv A 10.0.0.5\n@ A 10.0.0.6\n",
    /* no $TTL: the last TTL given is the default (RFC 1035 5.1) */
    "@ 120 SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.53\na A 10.0.0.1\nb 7 A 10.0.0.2\n"
    "c A 10.0.0.3\nd 1h A 10.0.0.4\ne A 10.0.0.5\n",
    /* lines the scanner declines, good and bad: ldns's result and message */
    HEAD "a 1h30m A 10.0.0.1\nb 99999999999 A 10.0.0.1\nc A 300.0.0.1\nd AAAA 10.0.0.1\n"
         "e MX 65536 m\nf A 10.0.0.1 extra\ng..h A 10.0.0.1\nt TXT unquoted\n"
         "u TXT \"a\"\"b\"\nv TXT \"a\\\"b\" \"\\065\"\nw SRV 1 2 3 t\nx TYPE99 \\# 0\n",
    HEAD "a CH A 10.0.0.1\n", HEAD "a A 10.0.0.1\r\nb A 10.0.0.2\r\n",
    /* a default TTL of 0 (ldns alone would give 3600) */
    "$TTL 0\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.53\na A 10.0.0.1\n@ TXT \"x\"\n",
    "@ 0 SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.53\ni TXT \"a\"\n@ TXT \"b\"\n"
    "i TXT \"c\n",
    /* ldns takes a run of "\n\r\f\v" as one line end (fuzz_zone_scan found it) */
    HEAD "w A 10.0.0.1\n\rx TXT \"a\"\ny A 10.0.0.2\n\f\v A 10.0.0.3\n",
    HEAD "w A 10.0.0.1\n\n\rx 92.0\n", HEAD "a\tA\t10.0.0.1  \nb  60   IN   A 10.0.0.2\t\n",
    HEAD "outside.org. A 10.0.0.1\n", HEAD "c CNAME x.\nc A 10.0.0.1\n",
    HEAD "l 60 A 10.0.0.1\nl 61 A 10.0.0.2\n",
    HEAD "x "
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa A 10.0.0.1\n",
    HEAD "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p."
         "q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f."
         "g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v "
         "A 10.0.0.1\n",
    /* ldns stops inside a line after a stray ')': the rest is ldns's (fuzz_zone_scan) */
    HEAD "e ( PTR a )\nf DNAM ) 10.0.0ail AAAA 2001:db8::2\n",
    /* a blank owner after a refused long owner is that owner again (fuzz_zone_scan) */
    HEAD "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p."
         "q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f."
         "g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v "
         "A 10.0.0.1\n MX 10 mail\n",
    HEAD "a A 10.0.0.1",  /* no final newline */
    HEAD " A 10.0.0.1\n", /* blank owner first: the origin */
};

static void test_same_as_ldns(void **state)
{
	(void)state;
	static char fast[65536], slow[65536];
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		zone_version_t *a = NULL, *b = NULL;
		int ra = load(corpus[i], true, &a, fast, sizeof(fast));
		int rb = load(corpus[i], false, &b, slow, sizeof(slow));
		if (ra != rb || strcmp(fast, slow) != 0)
			print_error("case %zu: scanner %d:\n%s\nldns %d:\n%s\n", i, ra, fast, rb,
			            slow);
		assert_int_equal(ra, rb);
		assert_string_equal(fast, slow);
		if (ra == 0)
			t_assert_versions_equal(a, b);
		zone_version_unref(a);
		zone_version_unref(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test_setup_teardown(test_same_as_ldns, t_log_setup, t_log_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
