/* mem.c — see mem.h. */
#include "contrib/base/mem.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE    ((uintptr_t)2 << 20)
#define PREFAULT_MIN ((size_t)1 << 20)

void sd_mem_huge(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
	uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	uintptr_t hi = ((uintptr_t)p + len) & ~(HUGE_PAGE - 1);
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE); /* advice: see mem.h */
#else
	(void)p;
	(void)len;
#endif
}

void sd_mem_prefault(void *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
	uintptr_t hi = ((uintptr_t)p + len) & ~(page - 1);
	if (len >= PREFAULT_MIN && hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE); /* advice: see mem.h */
#else
	(void)p;
	(void)len;
#endif
}
