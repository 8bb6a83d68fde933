/* Unit tests for contrib/base/log.h's event-line helpers: log_quote / LOG_Q (bare values
 * kept as they are, quoting and escaping, truncation inside the quotes) and a logfmt line
 * through the hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "contrib/base/log.h"

static void test_quote_bare(void **state)
{
	(void)state;
	char buf[64];
	const char *v = "example.com";
	assert_ptr_equal(log_quote(buf, sizeof(buf), v), v); /* no copy */
	assert_string_equal(log_quote(buf, sizeof(buf), "/var/lib/x.zone"), "/var/lib/x.zone");
	assert_string_equal(log_quote(buf, sizeof(buf), "a\\.b"), "a\\.b"); /* DNS escapes */
}

static void test_quote_quoted(void **state)
{
	(void)state;
	char buf[64];
	assert_string_equal(log_quote(buf, sizeof(buf), ""), "\"\"");
	assert_string_equal(log_quote(buf, sizeof(buf), NULL), "\"\"");
	assert_string_equal(log_quote(buf, sizeof(buf), "no such file"), "\"no such file\"");
	assert_string_equal(log_quote(buf, sizeof(buf), "a\tb"), "\"a\tb\"");
	assert_string_equal(log_quote(buf, sizeof(buf), "k=v"), "\"k=v\"");
	assert_string_equal(log_quote(buf, sizeof(buf), "say \"hi\""), "\"say \\\"hi\\\"\"");
	assert_string_equal(log_quote(buf, sizeof(buf), "a b\\c"), "\"a b\\\\c\"");
}

static void test_quote_truncated(void **state)
{
	(void)state;
	char buf[12];
	const char *q = log_quote(buf, sizeof(buf), "one two three four");
	assert_string_equal(q, "\"one tw...\"");
	assert_int_equal(strlen(q), sizeof(buf) - 1);
	/* an escape pair never splits the closing quote off */
	q = log_quote(buf, sizeof(buf), "\"\"\"\"\"\"\"\"");
	assert_int_equal(q[strlen(q) - 1], '"');
	assert_int_equal(q[strlen(q) - 2], '.');
	/* exactly fitting */
	char small[8];
	assert_string_equal(log_quote(small, sizeof(small), "a b c"), "\"a b c\"");
	assert_string_equal(log_quote(small, sizeof(small), "a b cd"), "\"a ...\"");
}

static char last[1024];

static void hook(log_level_t level, const char *line, void *data)
{
	(void)level;
	(void)data;
	strncpy(last, line, sizeof(last) - 1);
}

static void test_event_line(void **state)
{
	(void)state;
	log_setup(false, LOG_LEVEL_INFO);
	log_set_hook(hook, NULL);
	log_notice("event=zone-load-failed zone=%s file=%s reason=%s", "example.com",
	           LOG_Q("/tmp/my zones/example.com.zone"), LOG_Q("syntax error\n"));
	log_set_hook(NULL, NULL);
	/* the newline inside the quotes is escaped by the sink: still one line */
	assert_string_equal(last, "event=zone-load-failed zone=example.com file=\"/tmp/my "
	                          "zones/example.com.zone\" reason=\"syntax error\\x0a\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quote_bare),
	    cmocka_unit_test(test_quote_quoted),
	    cmocka_unit_test(test_quote_truncated),
	    cmocka_unit_test(test_event_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
