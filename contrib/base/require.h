/* require.h — always-on invariant checks.
 *
 * SD_REQUIRE(cond) states something the code relies on and no input can make false (a
 * builder invariant, a pointer another step guarantees). It is checked in every build type,
 * unlike assert(): when it fails, the process logs "file:line: func: requirement failed: cond"
 * at error level and aborts, because continuing would serve or store corrupt data. Not for
 * validating input: malformed requests, files and peers are errors (err.h), never aborts.
 * Cheap enough for the query path (one predicted branch); the failure path may allocate.
 * Modelled on Knot Resolver's kr_require().
 */
#pragma once

#include "contrib/base/compiler.h"

#define SD_REQUIRE(cond)                                                                           \
	do {                                                                                       \
		if (SD_UNLIKELY(!(cond)))                                                          \
			sd_require_fail(#cond, __FILE__, __LINE__, __func__);                      \
	} while (0)

/* Log the failed requirement and abort(). Any thread. Use SD_REQUIRE, not this. */
SD_NORETURN void sd_require_fail(const char *cond, const char *file, int line, const char *func)
    SD_NONNULL(1, 2, 4);
