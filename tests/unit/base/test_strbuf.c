/* test_strbuf.c — contrib/base/strbuf (growable text with printf appends) and vec.h
 * (doubling growth with overflow checks). Allocations are counted, and made to fail, by
 * tests/unit/alloc_count.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/strbuf.h"
#include "contrib/base/vec.h"
#include "tests/unit/alloc_count.h"

/* --- strbuf --- */

static void test_empty(void **state)
{
	(void)state;
	sd_strbuf_t b = SD_STRBUF_INIT;
	assert_string_equal(sd_strbuf_str(&b), "");
	assert_int_equal(b.len, 0);
	char *out = NULL;
	size_t len = 99;
	assert_int_equal(sd_strbuf_take(&b, &out, &len), 0);
	assert_non_null(out); /* "" rather than NULL: callers print or send it */
	assert_string_equal(out, "");
	assert_int_equal(len, 0);
	assert_null(b.buf);
	free(out);
	sd_strbuf_free(&b); /* on an empty buffer: no-op */
}

/* Many appends of every kind across several growths: the text is exactly what was appended
 * and NUL-terminated at len throughout. */
static void test_appends_grow(void **state)
{
	(void)state;
	sd_strbuf_t b = SD_STRBUF_INIT;
	char want[40000];
	size_t wl = 0;
	for (int i = 0; i < 3000; i++) {
		switch (i % 3) {
		case 0:
			sd_strbuf_printf(&b, "%d,", i);
			wl += (size_t)snprintf(want + wl, sizeof(want) - wl, "%d,", i);
			break;
		case 1:
			sd_strbuf_append(&b, "ab", 2);
			memcpy(want + wl, "ab", 2);
			wl += 2;
			break;
		default:
			sd_strbuf_putc(&b, ';');
			want[wl++] = ';';
		}
		assert_int_equal(b.len, wl);
		assert_true(b.cap > b.len);
		assert_int_equal(b.buf[b.len], '\0');
	}
	assert_false(b.oom);
	assert_memory_equal(b.buf, want, wl);
	/* one printf larger than everything so far */
	char big[20001];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sd_strbuf_printf(&b, "[%s]", big);
	assert_int_equal(b.len, wl + 20002);
	assert_int_equal(b.buf[wl], '[');
	assert_int_equal(b.buf[b.len - 1], ']');
	assert_int_equal(strlen(sd_strbuf_str(&b)), b.len);
	/* reset keeps the memory; the text starts again */
	size_t cap = b.cap;
	sd_strbuf_reset(&b);
	assert_string_equal(sd_strbuf_str(&b), "");
	assert_int_equal(b.cap, cap);
	sd_strbuf_printf(&b, "%s=%u", "zones", 3u);
	assert_string_equal(sd_strbuf_str(&b), "zones=3");
	char *out;
	size_t len;
	assert_int_equal(sd_strbuf_take(&b, &out, &len), 0);
	assert_string_equal(out, "zones=3");
	assert_int_equal(len, 7);
	assert_null(b.buf);
	assert_int_equal(b.len, 0);
	free(out);
}

/* Bytes, NUL included, are kept as data. */
static void test_bytes(void **state)
{
	(void)state;
	sd_strbuf_t b = SD_STRBUF_INIT;
	static const uint8_t bytes[] = {1, 0, 2, 0xff};
	sd_strbuf_append(&b, bytes, sizeof(bytes));
	sd_strbuf_append(&b, NULL, 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.buf, bytes, 4);
	assert_int_equal(b.buf[4], '\0');
	sd_strbuf_free(&b);
	assert_null(b.buf);
	assert_int_equal(b.len, 0);
}

/* After a failed growth the buffer keeps its text, stops growing, and take reports it. */
static void test_oom_sticks(void **state)
{
	(void)state;
	sd_strbuf_t b = SD_STRBUF_INIT;
	sd_strbuf_printf(&b, "%s", "kept");
	alloc_count_fail_after(0);
	char big[1000];
	memset(big, 'y', sizeof(big));
	sd_strbuf_append(&b, big, sizeof(big));
	alloc_count_fail_after(-1);
	assert_true(b.oom);
	assert_string_equal(sd_strbuf_str(&b), "kept");
	sd_strbuf_printf(&b, "%s", "more"); /* ignored: the text would have a hole */
	assert_string_equal(sd_strbuf_str(&b), "kept");
	char *out = (char *)"untouched";
	assert_int_equal(sd_strbuf_take(&b, &out, NULL), -ENOMEM);
	assert_string_equal(out, "untouched");
	assert_null(b.buf);
	assert_false(b.oom); /* freed and usable again */
	sd_strbuf_printf(&b, "%d", 7);
	assert_string_equal(sd_strbuf_str(&b), "7");
	sd_strbuf_free(&b);
}

/* --- vec.h --- */

typedef struct wide {
	uint64_t a, b, c;
} wide_t;

static void test_vec_grow(void **state)
{
	(void)state;
	wide_t *items = NULL;
	size_t count = 0, cap = 0;
	alloc_count_start();
	for (uint64_t i = 0; i < 10000; i++) {
		if (count == cap)
			assert_int_equal(sd_vec_grow(&items, &cap, count + 1), 0);
		assert_true(cap > count);
		items[count++] = (wide_t){i, i * 2, i * 3};
	}
	alloc_counts_t n = alloc_count_stop();
	/* doubling from SD_VEC_MIN_CAP: 8, 16, ..., 16384 is 12 allocations, not 10000 */
	assert_int_equal(n.allocs, 12);
	assert_int_equal(cap, 16384);
	for (uint64_t i = 0; i < count; i++)
		assert_true(items[i].a == i && items[i].b == i * 2 && items[i].c == i * 3);
	/* enough room already: nothing happens */
	wide_t *before = items;
	assert_int_equal(sd_vec_grow(&items, &cap, 100), 0);
	assert_ptr_equal(items, before);
	assert_int_equal(cap, 16384);
	/* a jump past double goes straight to what is needed */
	assert_int_equal(sd_vec_grow(&items, &cap, 50000), 0);
	assert_int_equal(cap, 50000);
	assert_true(items[9999].c == 9999 * 3);
	free(items);
}

static void test_vec_overflow_and_failure(void **state)
{
	(void)state;
	uint32_t *items = NULL;
	size_t cap = 0;
	/* need * sizeof(uint32_t) overflows, or passes the largest object: refused before any
	 * allocation */
	assert_int_equal(sd_vec_grow(&items, &cap, SIZE_MAX / 2), -ENOMEM);
	assert_int_equal(sd_vec_grow(&items, &cap, (size_t)PTRDIFF_MAX / 4 + 1), -ENOMEM);
	assert_null(items);
	assert_int_equal(cap, 0);
	assert_int_equal(sd_vec_reserve(&items, &cap, 2, SIZE_MAX), -ENOMEM);
	/* a failed allocation leaves the array and its capacity as they were */
	assert_int_equal(sd_vec_grow(&items, &cap, 3), 0);
	assert_int_equal(cap, SD_VEC_MIN_CAP);
	items[0] = 42;
	uint32_t *kept = items;
	alloc_count_fail_after(0);
	assert_int_equal(sd_vec_grow(&items, &cap, 9), -ENOMEM);
	alloc_count_fail_after(-1);
	assert_ptr_equal(items, kept);
	assert_int_equal(cap, SD_VEC_MIN_CAP);
	assert_int_equal(items[0], 42);
	/* a capacity near the limit does not overflow when doubled: what fits is asked for (the
	 * allocation itself then fails, harmlessly), and more than fits is refused */
	size_t huge = (size_t)PTRDIFF_MAX / 2 + 1;
	alloc_count_fail_after(0); /* (a real realloc of PTRDIFF_MAX bytes would upset ASan) */
	assert_int_equal(sd_vec_reserve(&items, &huge, huge + 1, 1), -ENOMEM);
	alloc_count_fail_after(-1);
	assert_int_equal(huge, (size_t)PTRDIFF_MAX / 2 + 1);
	assert_int_equal(sd_vec_reserve(&items, &huge, (size_t)PTRDIFF_MAX + 1, 1), -ENOMEM);
	free(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),    cmocka_unit_test(test_appends_grow),
	    cmocka_unit_test(test_bytes),    cmocka_unit_test(test_oom_sticks),
	    cmocka_unit_test(test_vec_grow), cmocka_unit_test(test_vec_overflow_and_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
