/* stat.h — statistics counters: one writer thread, readers on any thread.
 *
 * A counter is a plain uint64_t written only by its owning thread (a worker) and read by
 * others (the control thread for steerctl status). Both sides go through relaxed atomics, so
 * there is no data race in C11 terms and no torn read on 32-bit targets; on x86-64 they
 * compile to the ordinary load, add and store (the single writer needs no read-modify-write
 * instruction). The tree uses the __atomic builtins (zone/version.c, server/xfr) for this;
 * health/ uses <stdatomic.h> for its state words.
 */
#pragma once

#include <stdint.h>

/* Add n to *c; only the owning thread calls it. */
static inline void sd_stat_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline void sd_stat_inc(uint64_t *c)
{
	sd_stat_add(c, 1);
}

/* Read a counter another thread writes. */
static inline uint64_t sd_stat_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}
