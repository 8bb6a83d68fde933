/* require.c — see require.h. */
#include "contrib/base/require.h"

#include <stdlib.h>

#include "contrib/base/log.h"

void sd_require_fail(const char *cond, const char *file, int line, const char *func)
{
	log_error("%s:%d: %s: requirement failed: %s", file, line, func, cond);
	abort();
}
