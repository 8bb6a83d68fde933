#include "server/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(srv_text_t *t, size_t extra)
{
	if (t->oom)
		return false;
	if (t->len + extra + 1 <= t->cap)
		return true;
	size_t cap = t->cap ? t->cap : 256;
	while (cap < t->len + extra + 1)
		cap *= 2;
	char *buf = realloc(t->buf, cap);
	if (!buf) {
		t->oom = true;
		return false;
	}
	t->buf = buf;
	t->cap = cap;
	return true;
}

void srv_text_append(srv_text_t *t, const char *s, size_t len)
{
	if (!reserve(t, len))
		return;
	memcpy(t->buf + t->len, s, len);
	t->len += len;
	t->buf[t->len] = '\0';
}

void srv_text_printf(srv_text_t *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(t, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

const char *srv_text_str(const srv_text_t *t)
{
	return t->len ? t->buf : "";
}

void srv_text_reset(srv_text_t *t)
{
	t->len = 0;
	if (t->buf)
		t->buf[0] = '\0';
}

void srv_text_free(srv_text_t *t)
{
	free(t->buf);
	t->buf = NULL;
	t->len = t->cap = 0;
	t->oom = false;
}
