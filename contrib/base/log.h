/* log.h — process-wide logging to stderr or syslog.
 *
 * Thread-safe (one write(2) per line on stderr; syslog(3) otherwise). Never call above
 * debug level on the query path: count in per-worker counters instead. Every formatted line
 * is escaped (contrib/base/escape.h: control bytes, LF, CR and invalid UTF-8 become "\xNN")
 * before it reaches the sink, the hook or the tee, so arguments may carry outside text.
 */
#pragma once

#include <stdbool.h>
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

#define log_error(...)   log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_LEVEL_DEBUG))                                                  \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);                                     \
	} while (0)
