/* alloc_count.c — see alloc_count.h. Link with alloc_wrap_args (tests/unit/meson.build). */
#include "tests/unit/alloc_count.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local bool counting;
static _Thread_local alloc_counts_t counts;
static _Thread_local int fail_after = -1; /* < 0: never fail */

void alloc_count_start(void)
{
	counts = (alloc_counts_t){0};
	counting = true;
}

alloc_counts_t alloc_count_stop(void)
{
	counting = false;
	return counts;
}

void alloc_count_fail_after(int n)
{
	fail_after = n;
}

/* Count one allocation call; false when it must fail. */
static bool note_alloc(void)
{
	if (counting)
		counts.allocs++;
	if (fail_after < 0)
		return true;
	if (fail_after == 0) {
		errno = ENOMEM;
		return false;
	}
	fail_after--;
	return true;
}

/* The real functions, resolved by the linker's --wrap; and our wrappers, which every object
 * in the link calls instead. Declared here because no header does. */
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_reallocarray(void *p, size_t n, size_t size);
int __real_posix_memalign(void **out, size_t align, size_t size);
void *__real_aligned_alloc(size_t align, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **out, const char *fmt, va_list ap);
void __real_free(void *p);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void *__wrap_reallocarray(void *p, size_t n, size_t size);
int __wrap_posix_memalign(void **out, size_t align, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap);
int __wrap_asprintf(char **out, const char *fmt, ...);
void __wrap_free(void *p);

void *__wrap_malloc(size_t size)
{
	if (!note_alloc())
		return NULL;
	return __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	if (!note_alloc())
		return NULL;
	return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	if (!note_alloc())
		return NULL;
	return __real_realloc(p, size);
}

void *__wrap_reallocarray(void *p, size_t n, size_t size)
{
	if (!note_alloc())
		return NULL;
	return __real_reallocarray(p, n, size);
}

int __wrap_posix_memalign(void **out, size_t align, size_t size)
{
	if (!note_alloc())
		return ENOMEM;
	return __real_posix_memalign(out, align, size);
}

void *__wrap_aligned_alloc(size_t align, size_t size)
{
	if (!note_alloc())
		return NULL;
	return __real_aligned_alloc(align, size);
}

char *__wrap_strdup(const char *s)
{
	if (!note_alloc())
		return NULL;
	return __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	if (!note_alloc())
		return NULL;
	return __real_strndup(s, n);
}

int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
	if (!note_alloc())
		return -1;
	return __real_vasprintf(out, fmt, ap);
}

/* asprintf is wrapped onto vasprintf (the real one is not needed) */
int __wrap_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = __wrap_vasprintf(out, fmt, ap);
	va_end(ap);
	return rc;
}

void __wrap_free(void *p)
{
	if (counting && p)
		counts.frees++;
	__real_free(p);
}
