/* strbuf.h — a growable text (or byte) buffer with printf-style appends.
 *
 * For control replies, reports and collected error lines: it allocates, so never on the query
 * path. After an allocation failure the buffer stops growing and remembers it (oom), so that
 * callers append unconditionally and check once, at the end (sd_strbuf_take, or oom).
 *
 *     sd_strbuf_t b = SD_STRBUF_INIT;
 *     sd_strbuf_printf(&b, "%u zones\n", n);
 *     ... sd_strbuf_str(&b) ...
 *     sd_strbuf_free(&b);
 *
 * The contents are always NUL-terminated once anything was appended (a NUL byte appended as
 * data is kept; len counts it). One owner; not thread-safe.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "contrib/base/compiler.h"

typedef struct sd_strbuf {
	char *buf; /* NULL until the first append; then NUL-terminated at len */
	size_t len, cap;
	bool oom; /* an append failed; later appends do nothing */
} sd_strbuf_t;

#define SD_STRBUF_INIT                                                                             \
	{                                                                                          \
		.buf = NULL, .len = 0, .cap = 0, .oom = false                                      \
	}

/* Append formatted text. */
void sd_strbuf_printf(sd_strbuf_t *b, const char *fmt, ...) SD_NONNULL(1, 2) SD_PRINTF(2, 3);
void sd_strbuf_vprintf(sd_strbuf_t *b, const char *fmt, va_list ap) SD_NONNULL(1, 2)
    SD_PRINTF(2, 0);
/* Append len bytes (any bytes; data may be NULL when len is 0). */
void sd_strbuf_append(sd_strbuf_t *b, const void *data, size_t len) SD_NONNULL(1);
/* Append one character. */
void sd_strbuf_putc(sd_strbuf_t *b, char c) SD_NONNULL(1);

/* The text, "" when nothing was appended. Valid until the next append, reset or free. */
const char *sd_strbuf_str(const sd_strbuf_t *b) SD_NONNULL(1);
/* Empty the text, keep the memory (and the oom mark). */
void sd_strbuf_reset(sd_strbuf_t *b) SD_NONNULL(1);
/* Free the memory; the buffer is empty and usable again (oom cleared). */
void sd_strbuf_free(sd_strbuf_t *b) SD_NONNULL(1);

/* Hand the contents over without a copy: *out is the malloc'd, NUL-terminated text (never
 * NULL, "" when empty) for the caller to free, *len its length (len may be NULL). b is left
 * empty.
 * Returns 0, or -ENOMEM when an append had failed (b is freed, *out untouched). */
int sd_strbuf_take(sd_strbuf_t *b, char **out, size_t *len) SD_NONNULL(1, 2) SD_WUR;
