/* Unit tests for the memory advice (contrib/base/mem.h): sd_mem_huge marks exactly the 2 MiB
 * ranges wholly inside the block (the mapping's VmFlags in /proc/self/smaps), sd_mem_prefault
 * makes exactly the pages wholly inside resident (mincore), and neither changes a byte. A
 * kernel without the advice (EINVAL) skips the check that needs it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "contrib/base/mem.h"

#define MIB ((size_t)1 << 20)

/* A fresh anonymous mapping of len bytes starting on a 2 MiB boundary. */
static uint8_t *map_aligned(size_t len)
{
	uint8_t *m =
	    mmap(NULL, len + 2 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	uint8_t *p = (uint8_t *)(((uintptr_t)m + 2 * MIB - 1) & ~(uintptr_t)(2 * MIB - 1));
	if (p > m)
		assert_int_equal(munmap(m, (size_t)(p - m)), 0);
	if (m + 2 * MIB > p)
		assert_int_equal(munmap(p + len, (size_t)(m + 2 * MIB - p)), 0);
	return p;
}

/* The mapping of /proc/self/smaps holding a: its range, and whether its VmFlags say "hg". */
static bool vma_of(const void *a, uintptr_t *lo, uintptr_t *hi, bool *hg)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	assert_non_null(f);
	char line[512];
	bool found = false, in = false;
	while (fgets(line, sizeof(line), f)) {
		uintptr_t l, h;
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &l, &h) == 2 && strchr(line, ' ')) {
			in = (uintptr_t)a >= l && (uintptr_t)a < h;
			if (in) {
				*lo = l;
				*hi = h;
				found = true;
			}
		} else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			*hg = strstr(line, " hg") != NULL;
			break;
		}
	}
	fclose(f);
	return found;
}

static void test_huge_marks_aligned_interior(void **state)
{
	(void)state;
	uint8_t *p = map_aligned(8 * MIB);
#ifdef MADV_HUGEPAGE
	if (madvise(p + 6 * MIB, 2 * MIB, MADV_HUGEPAGE) != 0) {
		assert_int_equal(munmap(p, 8 * MIB), 0);
		skip(); /* no transparent huge pages in this kernel */
	}
#endif
	/* from 4 KiB past a boundary to 4 KiB short of 6 MiB: [2 MiB, 4 MiB) alone is whole */
	sd_mem_huge(p + 4096, 6 * MIB - 8192);
	uintptr_t lo, hi;
	bool hg = false;
	assert_true(vma_of(p + 2 * MIB, &lo, &hi, &hg));
	assert_true(hg);
	assert_int_equal(lo, (uintptr_t)p + 2 * MIB);
	assert_int_equal(hi, (uintptr_t)p + 4 * MIB);
	assert_true(vma_of(p + 4096, &lo, &hi, &hg));
	assert_false(hg);
	assert_true(vma_of(p + 4 * MIB + 4096, &lo, &hi, &hg));
	assert_false(hg);
	/* a block with no whole aligned 2 MiB inside asks for nothing */
	sd_mem_huge(p + 4096, 2 * MIB);
	assert_true(vma_of(p + 4096, &lo, &hi, &hg));
	assert_false(hg);
	assert_int_equal(munmap(p, 8 * MIB), 0);
}

static void test_prefault_makes_inside_resident(void **state)
{
	(void)state;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = 2 * MIB;
	uint8_t *p = map_aligned(4 * MIB);
#ifdef MADV_POPULATE_WRITE
	if (madvise(p + 3 * MIB, page, MADV_POPULATE_WRITE) != 0) {
		assert_int_equal(munmap(p, 4 * MIB), 0);
		skip(); /* Linux before 5.14 */
	}
#else
	skip();
#endif
	sd_mem_prefault(p + 100, len); /* pages 1 .. len / page - 1 are wholly inside */
	unsigned char vec[4 * MIB / 4096];
	assert_int_equal(mincore(p, 4 * MIB, vec), 0);
	size_t n = len / page;
	assert_false(vec[0] & 1);
	for (size_t i = 1; i < n; i++)
		assert_true(vec[i] & 1);
	assert_false(vec[n] & 1);
	/* under 1 MiB: left to the faults */
	sd_mem_prefault(p + 3 * MIB + page, MIB - 2 * page);
	assert_int_equal(mincore(p, 4 * MIB, vec), 0);
	assert_false(vec[3 * MIB / page + 1] & 1);
	assert_int_equal(munmap(p, 4 * MIB), 0);
}

static void test_bytes_kept(void **state)
{
	(void)state;
	size_t len = 5 * MIB + 123;
	uint8_t *b = malloc(len);
	assert_non_null(b);
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 2654435761u >> 24);
	sd_mem_huge(b, len);
	sd_mem_prefault(b, len);
	sd_mem_huge(b + 7, 0);
	sd_mem_prefault(b + 7, 0);
	for (size_t i = 0; i < len; i++)
		if (b[i] != (uint8_t)(i * 2654435761u >> 24))
			fail_msg("byte %zu changed", i);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_huge_marks_aligned_interior),
	    cmocka_unit_test(test_prefault_makes_inside_resident),
	    cmocka_unit_test(test_bytes_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
