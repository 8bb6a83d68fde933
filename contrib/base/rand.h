/* rand.h — a small, fast pseudo-random generator for per-thread choices that need no secrecy
 * (weighted answers, schedule spreading): xorshift64* (Vigna 2016). The state is any
 * non-zero 64-bit word owned by one thread. For identifiers an attacker must not guess, use
 * getrandom() (dns_msg_random_id, server/cookie.c). Header only. */
#pragma once

#include <stdint.h>

/* The next number; *s must not be 0 (it never becomes 0). */
static inline uint64_t sd_xorshift64s(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}
