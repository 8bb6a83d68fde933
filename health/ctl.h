/* ctl.h — the text form of the `health` control commands, for the daemon's control socket.
 *
 * The daemon passes what follows the word "health" and sends back *out:
 *   ""  | "--json"                        the report (health_report)
 *   "force-down NAME" | "force-up NAME" | "unforce NAME"   NAME is a target or "pool:NAME"
 * Keeping the grammar here means server/control.c and steerctl only forward one line.
 */
#pragma once

#include <stddef.h>

#include "contrib/base/compiler.h"
#include "health/health.h"

/* Run one command. Returns 0 with the answer in *out, or a negative code with an error
 * message in *out ("unknown target 'x'"). *out is malloc'ed, NUL-terminated, owned by the
 * caller (also on error, unless the code is -ENOMEM, when it may be NULL). Any thread. */
int health_ctl(health_t *h, const char *args, char **out, size_t *len)
    SD_NONNULL(1, 2, 3, 4) SD_WUR;
