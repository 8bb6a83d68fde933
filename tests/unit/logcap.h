/* logcap.h — unit tests: capture what steerdns logs, through contrib/base/log.h's hook.
 *
 * logcap_start() empties the capture and installs the hook (before threads start);
 * logcap_stop() restores the normal sink. Tests assert on counts and on the text.
 */
#pragma once

#include <stdio.h>
#include <string.h>

#include "contrib/base/log.h"

typedef struct logcap {
	unsigned errors, warnings;
	char last[2048]; /* the last line */
	char all[65536]; /* every line, each followed by '\n' (cut when full) */
} logcap_t;

static inline void logcap_hook(log_level_t level, const char *line, void *data)
{
	logcap_t *c = data;
	c->errors += level == LOG_LEVEL_ERROR;
	c->warnings += level == LOG_LEVEL_WARNING;
	snprintf(c->last, sizeof(c->last), "%s", line);
	size_t l = strlen(c->all);
	snprintf(c->all + l, sizeof(c->all) - l, "%s\n", line);
}

/* Forget what was captured so far (the hook stays). */
static inline void logcap_clear(logcap_t *c)
{
	memset(c, 0, sizeof(*c));
}

static inline void logcap_start(logcap_t *c)
{
	logcap_clear(c);
	log_set_hook(logcap_hook, c);
}

static inline void logcap_stop(void)
{
	log_set_hook(NULL, NULL);
}
