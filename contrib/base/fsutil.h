/* fsutil.h — file-system helpers with no DNS meaning. */
#pragma once

#include "contrib/base/compiler.h"

/* fsync the directory that holds path, so that a file created or renamed there survives a
 * crash. Returns 0 or a negated errno. Any thread. */
int sd_fsync_dir(const char *path) SD_NONNULL(1) SD_WUR;
