/* ctlproto.h — the control protocol spoken by steerctl and the daemon's control socket.
 *
 * A UNIX stream socket (mode 0600). The client sends one request line: words separated by
 * single spaces, terminated by "\n", at most SRV_CTL_LINE_MAX bytes. The daemon answers with
 * a status line, "ok\n" or "error\n", then free text, and closes the connection.
 *
 *   steerctl ──"reload example.com\n"──▶ daemon
 *            ◀──"error\nzones/example.com.zone:12: bad A record\n"── (then EOF)
 *
 * Shared by steerctl and steerdns; no libuv here.
 */
#pragma once

#include <stddef.h>

#include "contrib/base/compiler.h"

#define SRV_CTL_LINE_MAX 1024
#define SRV_CTL_OK       "ok\n"
#define SRV_CTL_ERROR    "error\n"

/* The control socket used when none is configured: $XDG_RUNTIME_DIR/steerdns.sock when that
 * variable is set to an absolute path, /tmp/steerdns-<uid>.sock otherwise. Any thread. */
void srv_ctl_default_path(char *buf, size_t size) SD_NONNULL(1);
