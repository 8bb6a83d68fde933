/* strbuf.c — see strbuf.h. */
#include "contrib/base/strbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/vec.h"

enum { STRBUF_MIN_CAP = 256 }; /* most replies fit the first allocation */

/* Room for extra more bytes and the terminating NUL. */
static bool reserve(sd_strbuf_t *b, size_t extra)
{
	if (b->oom)
		return false;
	if (extra > SIZE_MAX - b->len - 1) {
		b->oom = true;
		return false;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	if (need < STRBUF_MIN_CAP)
		need = STRBUF_MIN_CAP;
	if (sd_vec_grow(&b->buf, &b->cap, need) != 0) {
		b->oom = true;
		return false;
	}
	b->buf[b->len] = '\0'; /* a new buffer holds "" */
	return true;
}

void sd_strbuf_append(sd_strbuf_t *b, const void *data, size_t len)
{
	if (!reserve(b, len))
		return;
	if (len)
		memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void sd_strbuf_putc(sd_strbuf_t *b, char c)
{
	sd_strbuf_append(b, &c, 1);
}

void sd_strbuf_vprintf(sd_strbuf_t *b, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0) {
		b->oom = true; /* an encoding error: the text would be wrong, fail it as a whole */
	} else if (reserve(b, (size_t)n)) {
		vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
}

void sd_strbuf_printf(sd_strbuf_t *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sd_strbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

const char *sd_strbuf_str(const sd_strbuf_t *b)
{
	return b->buf ? b->buf : "";
}

void sd_strbuf_reset(sd_strbuf_t *b)
{
	b->len = 0;
	if (b->buf)
		b->buf[0] = '\0';
}

void sd_strbuf_free(sd_strbuf_t *b)
{
	free(b->buf);
	*b = (sd_strbuf_t)SD_STRBUF_INIT;
}

int sd_strbuf_take(sd_strbuf_t *b, char **out, size_t *len)
{
	if (!b->oom && !b->buf)
		(void)reserve(b, 0); /* an empty text is "" too, never NULL */
	if (b->oom) {
		sd_strbuf_free(b);
		return -ENOMEM;
	}
	*out = b->buf;
	if (len)
		*len = b->len;
	*b = (sd_strbuf_t)SD_STRBUF_INIT;
	return 0;
}
