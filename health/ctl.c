#include "health/ctl.h"
#include "contrib/base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int answer(int code, char **out, size_t *len, const char *fmt, ...) SD_PRINTF(4, 5);
static int answer(int code, char **out, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	*len = (size_t)n;
	return code;
}

static const struct {
	const char *verb;
	health_force_t mode;
} verbs[] = {
    {"force-down", HEALTH_FORCE_DOWN},
    {"force-up", HEALTH_FORCE_UP},
    {"unforce", HEALTH_FORCE_NONE},
};

int health_ctl(health_t *h, const char *args, char **out, size_t *len)
{
	char verb[32] = "", name[300] = "", extra[2] = "";
	int n = sscanf(args, "%31s %299s %1s", verb, name, extra);
	if (n <= 0 || (n == 1 && strcmp(verb, "--json") == 0)) {
		int ret = health_report(h, n == 1, out, len);
		if (ret == 0 && *len == 0) { /* text without targets: say so */
			free(*out);
			return answer(0, out, len, "no health targets\n");
		}
		return ret;
	}
	for (size_t i = 0; i < SD_ARRAY_LEN(verbs); i++) {
		if (strcmp(verb, verbs[i].verb) != 0)
			continue;
		if (n != 2)
			return answer(SD_EPARSE, out, len, "usage: health %s TARGET|pool:NAME\n",
			              verb);
		int ret = health_force(h, name, verbs[i].mode);
		if (ret == SD_ENOTFOUND)
			return answer(ret, out, len, "unknown target or pool '%s'\n", name);
		if (ret == SD_EPARSE)
			return answer(ret, out, len, "invalid name '%s'\n", name);
		if (ret < 0)
			return answer(ret, out, len, "%s applied, but the state file: %s\n", name,
			              sd_strerror(ret));
		return answer(0, out, len, "ok\n");
	}
	return answer(SD_EPARSE, out, len,
	              "usage: health [--json] | health force-down|force-up|unforce "
	              "TARGET|pool:NAME\n");
}
