/* vec.h — growing a heap array by doubling, with the overflow checks done once.
 *
 * Any module that keeps a (pointer, count, capacity) triple grows it with
 *
 *     if (n->count == n->cap && sd_vec_grow(&n->items, &n->cap, n->count + 1) != 0)
 *             return -ENOMEM;
 *
 * sd_vec_grow() works for any element type (it takes the element size from the pointer's
 * type); sd_vec_reserve() is the same with the element size spelled out. The capacity doubles
 * (at least SD_VEC_MIN_CAP elements), so n appends cost O(n) copies in all. Not thread-safe
 * (the caller owns the array); allocates, so never on the query path.
 */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/compiler.h"

enum { SD_VEC_MIN_CAP = 8 };

/* Make *cap (in elements of elem_size bytes) at least need, reallocating the array *pptr
 * (pptr is the address of any object pointer, passed as void *) to max(need, 2 * *cap,
 * SD_VEC_MIN_CAP) elements, or to the most that fits in PTRDIFF_MAX bytes (the largest object
 * C allows) when doubling would pass it. Returns 0 (nothing done when *cap >= need) or -ENOMEM
 * when the allocation fails or need elements do not fit; then *pptr and *cap are unchanged
 * and the array stays valid. elem_size must not be 0. */
static inline SD_WUR int sd_vec_reserve(void *pptr, size_t *cap, size_t need, size_t elem_size)
{
	if (need <= *cap)
		return 0;
	size_t max = (size_t)PTRDIFF_MAX / elem_size;
	if (need > max)
		return -ENOMEM;
	size_t ncap = *cap > max / 2 ? max : *cap * 2;
	if (ncap < need)
		ncap = need;
	if (ncap < SD_VEC_MIN_CAP && SD_VEC_MIN_CAP <= max)
		ncap = SD_VEC_MIN_CAP;
	/* the pointer is read and written through memcpy: pptr may point to any T * */
	void *old;
	memcpy(&old, pptr, sizeof(old));
	void *p = realloc(old, ncap * elem_size);
	if (!p)
		return -ENOMEM;
	memcpy(pptr, &p, sizeof(p));
	*cap = ncap;
	return 0;
}

/* sd_vec_reserve for the element type of *pptr: sd_vec_grow(&items, &cap, count + 1). */
#define sd_vec_grow(pptr, cap, need) sd_vec_reserve((pptr), (cap), (need), sizeof(**(pptr)))
