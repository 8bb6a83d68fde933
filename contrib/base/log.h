/* log.h — process-wide logging to stderr or syslog.
 *
 * Thread-safe (one write(2) per line on stderr; syslog(3) otherwise). Never call above
 * debug level on the query path: count in per-worker counters instead. Every formatted line
 * is escaped (contrib/base/escape.h: control bytes, LF, CR and invalid UTF-8 become "\xNN")
 * before it reaches the sink, the hook or the tee, so arguments may carry outside text.
 *
 * Event lines are logfmt (issue 12): a line that reports an event at error, warning, notice
 * or info level is a list of key=value fields separated by one space, the first always
 * event=NAME, then the subject's fields, then the detail; nothing else is on the line (the
 * sink adds its timestamp and level on stderr, syslog its own):
 *
 *   event=zone-loaded zone=example.com serial=2026120301 records=12 file=/x/example.com.zone
 *   event=notify-failed zone=example.com serial=7 peer=192.0.2.1:53 tries=5
 *   event=update-refused zone=example.com peer=127.0.0.1:40000 key=ddns rcode=REFUSED
 *       reason="no update policy allows a TXT record at www.example.com"
 *
 *   NAME    subject-verb, lower case, words joined by '-': zone-loaded, zone-load-failed,
 *           zone-committed, update-applied, xfr-out, notify-acked, secondary-lagging,
 *           health-down, steering-view-changed, control-command, start, stop ...
 *   keys    lower case, '_' between words; the same key means the same thing everywhere:
 *           zone (presentation form, lower case, no final dot: dname_to_str_nodot), serial
 *           (the serial the event is about, the new one; from: the previous), peer
 *           (ADDR:PORT or [V6]:PORT), key (TSIG key name, no final dot), file, name (a
 *           steered owner name, as configured), pool, target (a health target), state,
 *           rcode (its name), source (what made a change: reload, update, health,
 *           rollback ...) and by (its keys, clients or names), reason (what failed or why:
 *           the error text), hint (what the operator can do)
 *   values  written bare; LOG_Q(v) quotes a value that is empty or holds a space, a tab,
 *           '"' or '=' as "..." with \" and \\ escaped — every value that can hold
 *           such a character (reasons, file names, commands) goes through it.
 *
 * So `grep 'zone=example.com '` finds every event of a zone, `grep event=health-` every
 * health transition; a log shipper's logfmt parser (Loki, Vector) splits the fields. Debug
 * lines are free text; an RFC 2136 audit record logged here (no audit-log file) is
 * "audit: " and its JSON object, as in the audit file (server/audit.h); diagnostics of
 * configuration and zone content are "FILE:LINE: message" as a compiler writes them, or
 * "ZONE: what is wrong" for a zone's records and change sets (zone/load.c, builder.c,
 * overlay.c, changeset.c): steerctl reload shows the same lines to the operator.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "contrib/base/compiler.h"

typedef enum {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
} log_level_t;

/* Select the sink and the most verbose level emitted. Call before threads start. */
void log_setup(bool use_syslog, log_level_t level);

/* Parse "error", "warning", "notice", "info" or "debug". Returns 0 or SD_EPARSE. */
int log_level_parse(const char *text, log_level_t *out) SD_NONNULL(1, 2);

bool log_enabled(log_level_t level);

void log_msg(log_level_t level, const char *fmt, ...) SD_PRINTF(2, 3);

/* Tests: receive every formatted line (without timestamp) instead of the sink; NULL restores
 * the sink. Not thread-safe against concurrent logging; set it before threads start. */
typedef void (*log_hook_t)(log_level_t level, const char *line, void *data);
void log_set_hook(log_hook_t hook, void *data);

/* Also pass every line the calling thread logs to tee (in addition to the sink or hook);
 * NULL stops. Per thread: lets the control thread collect a reload's file:line errors for
 * steerctl while other threads keep logging. */
void log_set_thread_tee(log_hook_t tee, void *data);

/* value itself when it is not empty and holds no space, tab, '"' or '='; else value quoted
 * ("..." with '"' and '\\' escaped) into buf, cut to fit with "..." before the closing quote.
 * NULL reads as "". size >= 8. Pure; any thread. */
const char *log_quote(char *buf, size_t size, const char *value) SD_NONNULL(1);

#define LOG_QUOTE_MAX 512
/* log_quote into a buffer that lives until the end of the enclosing block: use it in the
 * arguments of a log call, e.g. log_error("event=x file=%s", LOG_Q(path)). */
#define LOG_Q(value) log_quote((char[LOG_QUOTE_MAX]){0}, LOG_QUOTE_MAX, (value))

#define log_error(...)   log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_LEVEL_DEBUG))                                                  \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);                                     \
	} while (0)
