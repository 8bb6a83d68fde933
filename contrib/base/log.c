#include "contrib/base/log.h"
#include "contrib/base/err.h"
#include "contrib/base/escape.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static bool log_syslog;
static log_level_t log_max = LOG_LEVEL_INFO;
static log_hook_t log_hook;
static void *log_hook_data;
static _Thread_local log_hook_t log_tee;
static _Thread_local void *log_tee_data;

void log_set_thread_tee(log_hook_t tee, void *data)
{
	log_tee = tee;
	log_tee_data = data;
}

void log_set_hook(log_hook_t hook, void *data)
{
	log_hook = hook;
	log_hook_data = data;
}

static const char *const level_names[] = {"error", "warning", "notice", "info", "debug"};
static const int syslog_prio[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};

void log_setup(bool use_syslog, log_level_t level)
{
	log_syslog = use_syslog;
	log_max = level;
	if (use_syslog)
		openlog("steerdns", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int log_level_parse(const char *text, log_level_t *out)
{
	for (size_t i = 0; i < SD_ARRAY_LEN(level_names); i++) {
		if (strcmp(text, level_names[i]) == 0) {
			*out = (log_level_t)i;
			return 0;
		}
	}
	return SD_EPARSE;
}

bool log_enabled(log_level_t level)
{
	return level <= log_max;
}

const char *log_quote(char *buf, size_t size, const char *value)
{
	const char *v = value ? value : "";
	if (*v && strpbrk(v, " \t\"=") == NULL)
		return v;
	size_t o = 0;
	buf[o++] = '"';
	for (const char *p = v; *p; p++) {
		size_t need = (*p == '"' || *p == '\\') ? 2 : 1;
		if (o + need + 2 > size) { /* room for the closing quote and the NUL */
			o = o > size - 5 ? size - 5 : o;
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 2)
			buf[o++] = '\\';
		buf[o++] = *p;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

void log_msg(log_level_t level, const char *fmt, ...)
{
	if (!log_enabled(level))
		return;
	char raw[2048], safe[2048];
	va_list ap;
	va_start(ap, fmt);
	int body = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (body < 0)
		return;
	/* one line, nothing a terminal acts on: arguments carry outside text (escape.h) */
	size_t len = (size_t)body < sizeof(raw) ? (size_t)body : sizeof(raw) - 1;
	const char *line = raw;
	if (sd_escape_needed(raw, len, 0)) {
		sd_escape(safe, sizeof(safe), raw, len, 0);
		line = safe;
	}
	if (log_tee)
		log_tee(level, line, log_tee_data);
	if (log_hook) {
		log_hook(level, line, log_hook_data);
		return;
	}
	if (log_syslog) {
		syslog(syslog_prio[level], "%s", line);
		return;
	}
	char out[2200];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: %s\n",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	                 tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], line);
	if (n > (int)sizeof(out))
		n = sizeof(out);
	(void)!write(STDERR_FILENO, out, (size_t)n);
}
