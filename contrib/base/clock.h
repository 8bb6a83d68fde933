/* clock.h — a clock read as an integer count.
 *
 * CLOCK_MONOTONIC(_COARSE) and CLOCK_REALTIME are read in the vDSO, without a system call;
 * CLOCK_THREAD_CPUTIME_ID and the other CPU-time clocks are a system call each.
 */
#pragma once

#include <stdint.h>
#include <time.h>

static inline uint64_t sd_clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t sd_clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
