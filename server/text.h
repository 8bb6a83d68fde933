/* text.h — a growable text buffer for control replies and captured error lines.
 *
 * Control path only (it allocates). After an allocation failure the buffer stops growing
 * and remembers it (oom), so callers can append unconditionally and check once.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "contrib/base/compiler.h"

typedef struct srv_text {
	char *buf; /* NUL-terminated when len > 0 */
	size_t len, cap;
	bool oom;
} srv_text_t;

void srv_text_printf(srv_text_t *t, const char *fmt, ...) SD_NONNULL(1, 2) SD_PRINTF(2, 3);
void srv_text_append(srv_text_t *t, const char *s, size_t len) SD_NONNULL(1);
/* The text, "" when empty. */
const char *srv_text_str(const srv_text_t *t) SD_NONNULL(1);
void srv_text_reset(srv_text_t *t) SD_NONNULL(1);
void srv_text_free(srv_text_t *t) SD_NONNULL(1);
