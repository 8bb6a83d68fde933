/* alloc_count.h — counting heap allocations made by the code under test.
 *
 * A test executable that links alloc_count.c with the linker options in tests/unit/meson.build
 * (alloc_wrap_args: -Wl,--wrap=malloc and the other allocation entry points) sends every call
 * to malloc, calloc, realloc, reallocarray, posix_memalign, aligned_alloc, strdup, strndup,
 * asprintf, vasprintf and free made from the statically linked objects (steerdns's libraries
 * and the test itself) through a counter, then to the real function (so ASan still sees them).
 * Calls made inside shared libraries (libc's own, ldns) are not seen: the hot path must not
 * call an allocating library function either, which a review of its calls establishes.
 *
 * Counting is per thread and only between alloc_count_start() and alloc_count_stop().
 * alloc_count_fail_after() makes the wrapped calls fail, to test out-of-memory paths.
 */
#pragma once

#include <stddef.h>

typedef struct alloc_counts {
	size_t allocs; /* calls that may return new memory (realloc included) */
	size_t frees;  /* free() calls with a non-NULL pointer */
} alloc_counts_t;

/* Start counting on this thread from zero. */
void alloc_count_start(void);
/* Stop counting on this thread and return what was counted since alloc_count_start(). */
alloc_counts_t alloc_count_stop(void);

/* From now on on this thread, let n more allocation calls succeed, then make every one fail
 * as out of memory would (NULL and errno ENOMEM; posix_memalign ENOMEM; vasprintf -1) until
 * called again; n < 0 turns failing off (the default). Works with or without counting. */
void alloc_count_fail_after(int n);
