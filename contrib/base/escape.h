/* escape.h — outside text made safe to show: log lines and control replies.
 *
 * Zone files, config values and control requests can carry any byte; written as-is to a
 * terminal or a log they can move the cursor, rewrite earlier lines or forge new log lines
 * (terminal escape sequences, CR, LF). Everything shown passes through here once, at the
 * sink (contrib/base/log.c for every log line, server/control.c for every steerctl reply):
 *
 *   kept:     printable ASCII, TAB, well-formed UTF-8 (not overlong, no surrogates, at most
 *             U+10FFFF) outside the C1 controls U+0080..U+009F, and LF with SD_ESCAPE_KEEP_LF
 *   escaped:  every other byte as "\xNN" (two lower-case hex digits), one escape per byte
 *             of an invalid or C1 sequence
 * Backslashes stay as they are: DNS presentation text (\DDD, \.) reads naturally.
 * Pure; thread-safe; no allocation except in sd_strbuf_append_escaped (via the buffer).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "contrib/base/compiler.h"
#include "contrib/base/strbuf.h"

enum {
	SD_ESCAPE_KEEP_LF = 1u, /* keep line feeds (multi-line replies); escaped otherwise */
};

/* The most bytes one input unit (a byte or a UTF-8 sequence) becomes. */
#define SD_ESCAPE_UNIT_MAX 4

/* Escape src[0..len) into dst (cap >= 1), always NUL-terminated; stops before a unit that
 * would not fit, so an escape or a UTF-8 sequence is never cut. Returns the length written
 * (without the NUL). */
size_t sd_escape(char *dst, size_t cap, const char *src, size_t len, unsigned flags) SD_NONNULL(1);

/* True when sd_escape would change src[0..len) (the common case is a fast "no"). */
bool sd_escape_needed(const char *src, size_t len, unsigned flags);

/* Length of the UTF-8 sequence at s[0..len) (len >= 1, s[0] >= 0x80) when it is kept as it
 * is by the rules above, 0 otherwise (for other encoders, e.g. JSON). */
size_t sd_utf8_shown_len(const char *s, size_t len) SD_NONNULL(1);

/* Append src[0..len) to b, escaped. */
void sd_strbuf_append_escaped(sd_strbuf_t *b, const char *src, size_t len, unsigned flags)
    SD_NONNULL(1);

/* Append s (NUL-terminated) as a JSON string (RFC 8259), quotes included: UTF-8 kept as it is
 * by the rules above stays; '"' and '\\' are escaped; every other byte below 0x20, DEL and
 * each byte of an invalid or C1 sequence becomes \u00XX. The result is valid JSON whatever
 * the input, and a control reply's own escaping leaves it unchanged. */
void sd_strbuf_json_str(sd_strbuf_t *b, const char *s) SD_NONNULL(1, 2);
