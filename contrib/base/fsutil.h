/* fsutil.h — file-system helpers with no DNS meaning.
 *
 * Every file the daemon reads or replaces (the config, a key's secret-file, the health
 * state-file, its state directory's files) goes through sd_open_regular or
 * sd_regular_or_absent: a FIFO would block open() or read() forever, a device such as
 * /dev/zero never ends, and replacing a device node by rename would destroy it. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "contrib/base/compiler.h"

/* fsync the directory that holds path, so that a file created or renamed there survives a
 * crash. Returns 0 or a negated errno. Any thread. */
int sd_fsync_dir(const char *path) SD_NONNULL(1) SD_WUR;

/* 0 when mode is a regular file's; otherwise why not: -EISDIR, SD_EFIFO, SD_EDEVICE or
 * SD_ENOTREG (sd_strerror gives the reason as text). */
int sd_mode_regular(mode_t mode) SD_WUR;

/* Open path with flags (O_RDONLY, O_RDWR | O_CREAT, ...; O_CLOEXEC and O_NOCTTY are added)
 * without blocking on a FIFO, and keep it only if it is a regular file. The descriptor is
 * returned in blocking mode. Returns the fd, or a negated errno or a code of
 * sd_mode_regular. mode is used with O_CREAT. Any thread. */
int sd_open_regular(const char *path, int flags, mode_t mode) SD_NONNULL(1) SD_WUR;

/* 0 when path (symbolic links followed) is a regular file or does not exist, so that it may
 * be created or replaced; otherwise a code of sd_mode_regular or a negated errno. */
int sd_regular_or_absent(const char *path) SD_NONNULL(1) SD_WUR;
