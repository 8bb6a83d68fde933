#include "contrib/base/escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at s[0..len) that is shown as it is (RFC 3629 4
 * table: no overlong forms, no surrogates, at most U+10FFFF; C1 controls excluded), or 0. */
static size_t utf8_len(const uint8_t *s, size_t len)
{
	uint8_t c = s[0];
	size_t n;
	uint8_t lo = 0x80, hi = 0xbf; /* range of the second byte */
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else {
		return 0;
	}
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (c == 0xc2 && s[1] <= 0x9f) /* U+0080..U+009F: C1 controls (CSI is U+009B) */
		return 0;
	return n;
}

size_t sd_utf8_shown_len(const char *s, size_t len)
{
	return len > 0 ? utf8_len((const uint8_t *)s, len) : 0;
}

/* One input unit at s[0..len) (len >= 1): its output in out, returns the output length and
 * sets *used to the input bytes it stands for. */
static size_t escape_unit(const char *s, size_t len, unsigned flags, char out[SD_ESCAPE_UNIT_MAX],
                          size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t c = (uint8_t)s[0];
	*used = 1;
	if ((c >= 0x20 && c < 0x7f) || c == '\t' || (c == '\n' && (flags & SD_ESCAPE_KEEP_LF))) {
		out[0] = (char)c;
		return 1;
	}
	size_t n = c >= 0x80 ? utf8_len((const uint8_t *)s, len) : 0;
	if (n > 0) {
		for (size_t i = 0; i < n; i++)
			out[i] = s[i];
		*used = n;
		return n;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 0xf];
	return 4;
}

size_t sd_escape(char *dst, size_t cap, const char *src, size_t len, unsigned flags)
{
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		char unit[SD_ESCAPE_UNIT_MAX];
		size_t used;
		size_t n = escape_unit(src + i, len - i, flags, unit, &used);
		if (n >= cap - o)
			break;
		for (size_t k = 0; k < n; k++)
			dst[o++] = unit[k];
		i += used;
	}
	dst[o] = '\0';
	return o;
}

bool sd_escape_needed(const char *src, size_t len, unsigned flags)
{
	for (size_t i = 0; i < len;) {
		uint8_t c = (uint8_t)src[i];
		if ((c >= 0x20 && c < 0x7f) || c == '\t' ||
		    (c == '\n' && (flags & SD_ESCAPE_KEEP_LF))) {
			i++;
			continue;
		}
		size_t n = c >= 0x80 ? utf8_len((const uint8_t *)src + i, len - i) : 0;
		if (n == 0)
			return true;
		i += n;
	}
	return false;
}

void sd_strbuf_append_escaped(sd_strbuf_t *b, const char *src, size_t len, unsigned flags)
{
	for (size_t i = 0; i < len;) {
		char unit[SD_ESCAPE_UNIT_MAX];
		size_t used;
		size_t n = escape_unit(src + i, len - i, flags, unit, &used);
		sd_strbuf_append(b, unit, n);
		i += used;
	}
}

void sd_strbuf_json_str(sd_strbuf_t *b, const char *s)
{
	sd_strbuf_putc(b, '"');
	for (size_t len = strlen(s); len > 0;) {
		unsigned char c = (unsigned char)*s;
		size_t n = c >= 0x80 ? sd_utf8_shown_len(s, len) : 0;
		if (n > 0)
			sd_strbuf_append(b, s, n);
		else if (c == '"' || c == '\\')
			sd_strbuf_printf(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			sd_strbuf_printf(b, "\\u%04x", c);
		else
			sd_strbuf_putc(b, (char)c);
		n = n ? n : 1;
		s += n;
		len -= n;
	}
	sd_strbuf_putc(b, '"');
}
