/* Unit tests for contrib/base/escape and its use by the log: what a terminal would act on is
 * escaped, readable text (ASCII, UTF-8, DNS backslash escapes) is kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "contrib/base/escape.h"
#include "tests/unit/logcap.h"

static void check(const char *in, size_t len, unsigned flags, const char *want)
{
	char out[256];
	size_t n = sd_escape(out, sizeof(out), in, len, flags);
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
	assert_int_equal(sd_escape_needed(in, len, flags), strcmp(out, in) != 0 || len != n);
	sd_strbuf_t b = SD_STRBUF_INIT;
	sd_strbuf_append_escaped(&b, in, len, flags);
	assert_string_equal(sd_strbuf_str(&b), want);
	sd_strbuf_free(&b);
}

/* in is a string literal: its length is known even with a NUL inside */
#define CHECK(in, flags, want) check(in, sizeof(in) - 1, flags, want)

static void test_kept(void **state)
{
	(void)state;
	CHECK("zone example.com: 12 records", 0, "zone example.com: 12 records");
	CHECK("a\\000b \\. tab\there", 0, "a\\000b \\. tab\there");
	CHECK("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0,
	      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	CHECK("two\nlines", SD_ESCAPE_KEEP_LF, "two\nlines");
	CHECK("", 0, "");
}

static void test_escaped(void **state)
{
	(void)state;
	/* a terminal colour and cursor sequence, CR, LF and DEL */
	CHECK("a\x1b[31mred\x1b[2J", 0, "a\\x1b[31mred\\x1b[2J");
	CHECK("forged\nline\r", 0, "forged\\x0aline\\x0d");
	CHECK("nul\0here\x7f", 0, "nul\\x00here\\x7f");
	/* C1 CSI (U+009B), a lone continuation byte, an overlong '/', a surrogate, a cut
	 * sequence, beyond U+10FFFF */
	CHECK("\xc2\x9b", 0, "\\xc2\\x9b");
	CHECK("\x80", 0, "\\x80");
	CHECK("\xc0\xaf", 0, "\\xc0\\xaf");
	CHECK("\xed\xa0\x80", 0, "\\xed\\xa0\\x80");
	CHECK("\xe2\x82", 0, "\\xe2\\x82");
	CHECK("\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80");
}

/* Truncation never cuts an escape or a UTF-8 sequence, and always terminates. */
static void test_truncation(void **state)
{
	(void)state;
	char out[6];
	assert_int_equal(sd_escape(out, sizeof(out), "ab\x1b", 3, 0), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(sd_escape(out, sizeof(out), "abc\xc3\xa9", 5, 0), 5);
	assert_string_equal(out, "abc\xc3\xa9");
	assert_int_equal(sd_escape(out, sizeof(out), "abcd\xc3\xa9", 6, 0), 4);
	assert_string_equal(out, "abcd");
	char one[1];
	assert_int_equal(sd_escape(one, 1, "x", 1, 0), 0);
	assert_int_equal(one[0], '\0');
}

/* Every log line is escaped before the hook (and so the sink and the tee) sees it. */
static void test_log_escapes(void **state)
{
	(void)state;
	logcap_t cap;
	logcap_start(&cap);
	log_error("z.zone:3: bad token '%s'", "\x1b]0;owned\x07\nfake: ok");
	logcap_stop();
	assert_string_equal(cap.last, "z.zone:3: bad token '\\x1b]0;owned\\x07\\x0afake: ok'");
}

/* JSON strings: quotes and backslashes escaped, shown UTF-8 kept, every other byte \u00XX. */
static void test_json_str(void **state)
{
	(void)state;
	sd_strbuf_t b = {0};
	sd_strbuf_json_str(&b, "a\"b\\c\x1b\x7f\xc3\xa9\xc2\x85\xff\n");
	assert_string_equal(sd_strbuf_str(&b),
	                    "\"a\\\"b\\\\c\\u001b\\u007f\xc3\xa9\\u00c2\\u0085\\u00ff\\u000a\"");
	sd_strbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kept),       cmocka_unit_test(test_escaped),
	    cmocka_unit_test(test_truncation), cmocka_unit_test(test_log_escapes),
	    cmocka_unit_test(test_json_str),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
