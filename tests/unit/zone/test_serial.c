/* Unit tests for zone/serial: RFC 1982 arithmetic and the serial policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "contrib/base/err.h"
#include "zone/serial.h"

/* 2025-03-07 12:00:00 UTC */
#define T_2025_03_07 ((time_t)1741348800)

static void test_compare(void **state)
{
	(void)state;
	assert_int_equal(zone_serial_compare(1, 1), ZONE_SERIAL_EQ);
	assert_int_equal(zone_serial_compare(2, 1), ZONE_SERIAL_GT);
	assert_int_equal(zone_serial_compare(1, 2), ZONE_SERIAL_LT);
	/* Wrap around 2^32: 0 follows 4294967295, and 5 is ahead of 4294967290. */
	assert_true(zone_serial_gt(0, UINT32_MAX));
	assert_true(zone_serial_gt(5, 4294967290u));
	assert_true(zone_serial_lt(4294967290u, 5));
	/* The largest step forward is 2^31 - 1. */
	assert_true(zone_serial_gt(0x7fffffffu, 0));
	assert_true(zone_serial_lt(0x80000001u, 0)); /* 2^31 + 1 ahead = behind */
	/* Exactly 2^31 apart: undefined (RFC 1982 3.2), neither greater nor less. */
	assert_int_equal(zone_serial_compare(0x80000000u, 0), ZONE_SERIAL_UNDEF);
	assert_int_equal(zone_serial_compare(0, 0x80000000u), ZONE_SERIAL_UNDEF);
	assert_false(zone_serial_gt(0x80000000u, 0));
	assert_false(zone_serial_lt(0x80000000u, 0));
	assert_int_equal(zone_serial_compare(0xc0000000u, 0x40000000u), ZONE_SERIAL_UNDEF);
}

static void test_policy_parse(void **state)
{
	(void)state;
	zone_serial_policy_t p = ZONE_SERIAL_INCREMENT;
	assert_int_equal(zone_serial_policy_parse("unixtime", &p), 0);
	assert_int_equal(p, ZONE_SERIAL_UNIXTIME);
	assert_int_equal(zone_serial_policy_parse("dateserial", &p), 0);
	assert_int_equal(p, ZONE_SERIAL_DATESERIAL);
	assert_int_equal(zone_serial_policy_parse("increment", &p), 0);
	assert_int_equal(p, ZONE_SERIAL_INCREMENT);
	assert_int_equal(zone_serial_policy_parse("Increment", &p), SD_EPARSE);
	assert_string_equal(zone_serial_policy_name(ZONE_SERIAL_DATESERIAL), "dateserial");
}

static void test_increment(void **state)
{
	(void)state;
	assert_int_equal(zone_serial_next(41, ZONE_SERIAL_INCREMENT, 0), 42);
	assert_int_equal(zone_serial_next(UINT32_MAX, ZONE_SERIAL_INCREMENT, 0), 0);
	assert_true(
	    zone_serial_gt(zone_serial_next(UINT32_MAX, ZONE_SERIAL_INCREMENT, 0), UINT32_MAX));
}

static void test_unixtime(void **state)
{
	(void)state;
	uint32_t now = (uint32_t)T_2025_03_07;
	assert_int_equal(zone_serial_next(1, ZONE_SERIAL_UNIXTIME, T_2025_03_07), now);
	/* Two changes within one second: +1. */
	assert_int_equal(zone_serial_next(now, ZONE_SERIAL_UNIXTIME, T_2025_03_07), now + 1);
	/* A serial ahead of the clock (dateserial before): +1 keeps it increasing. */
	assert_int_equal(zone_serial_next(2025030700u, ZONE_SERIAL_UNIXTIME, T_2025_03_07),
	                 2025030701u);
	/* The clock is 2^31 + 10 ahead of old: that is "behind" in RFC 1982, so +1. */
	uint32_t old = now - 0x80000000u - 10u;
	assert_int_equal(zone_serial_next(old, ZONE_SERIAL_UNIXTIME, T_2025_03_07), old + 1);
	/* Exactly 2^31 ahead: undefined, so +1 as well. */
	old = now - 0x80000000u;
	assert_int_equal(zone_serial_next(old, ZONE_SERIAL_UNIXTIME, T_2025_03_07), old + 1);
}

static void test_dateserial(void **state)
{
	(void)state;
	assert_int_equal(zone_serial_next(1, ZONE_SERIAL_DATESERIAL, T_2025_03_07), 2025030700u);
	assert_int_equal(zone_serial_next(2025030612u, ZONE_SERIAL_DATESERIAL, T_2025_03_07),
	                 2025030700u);
	assert_int_equal(zone_serial_next(2025030700u, ZONE_SERIAL_DATESERIAL, T_2025_03_07),
	                 2025030701u);
	assert_int_equal(zone_serial_next(2025030798u, ZONE_SERIAL_DATESERIAL, T_2025_03_07),
	                 2025030799u);
	/* Past nn = 99 the +1 fallback runs into tomorrow's numbers, still increasing. */
	assert_int_equal(zone_serial_next(2025030799u, ZONE_SERIAL_DATESERIAL, T_2025_03_07),
	                 2025030800u);
	assert_int_equal(zone_serial_next(2025030800u, ZONE_SERIAL_DATESERIAL, T_2025_03_07),
	                 2025030801u);
	/* Old is a unixtime serial far below: the date wins. */
	assert_int_equal(zone_serial_next(1741348800u, ZONE_SERIAL_DATESERIAL, T_2025_03_07),
	                 2025030700u);
	/* Old is ahead of today's serial (a past +1 run or a hand-set serial): +1. */
	assert_int_equal(zone_serial_next(0x90000000u, ZONE_SERIAL_DATESERIAL, T_2025_03_07),
	                 0x90000001u);
	/* From the top of the space, today's serial is 0x78b3842d ahead: it is greater. */
	assert_int_equal(zone_serial_next(UINT32_MAX, ZONE_SERIAL_DATESERIAL, T_2025_03_07),
	                 2025030700u);
}

static void test_choose(void **state)
{
	(void)state;
	/* File serial raised by hand: kept. */
	assert_int_equal(zone_serial_choose(10, 500, ZONE_SERIAL_INCREMENT, 0), 500);
	assert_int_equal(zone_serial_choose(UINT32_MAX - 1, 3, ZONE_SERIAL_INCREMENT, 0), 3);
	/* Serial forgotten (equal) or lowered: the policy decides. */
	assert_int_equal(zone_serial_choose(10, 10, ZONE_SERIAL_INCREMENT, 0), 11);
	assert_int_equal(zone_serial_choose(10, 7, ZONE_SERIAL_INCREMENT, 0), 11);
	assert_int_equal(
	    zone_serial_choose(2025030703u, 2025030703u, ZONE_SERIAL_DATESERIAL, T_2025_03_07),
	    2025030704u);
	assert_int_equal(zone_serial_choose(5, 5, ZONE_SERIAL_UNIXTIME, T_2025_03_07),
	                 (uint32_t)T_2025_03_07);
	/* A file serial exactly 2^31 ahead is not "greater": policy applies. */
	assert_int_equal(zone_serial_choose(1, 0x80000001u, ZONE_SERIAL_INCREMENT, 0), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compare),    cmocka_unit_test(test_policy_parse),
	    cmocka_unit_test(test_increment),  cmocka_unit_test(test_unixtime),
	    cmocka_unit_test(test_dateserial), cmocka_unit_test(test_choose),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
