/* ctlproto.h — the control protocol spoken by steerctl and the daemon's control socket.
 *
 * A UNIX stream socket (mode 0600). The client sends one request line: words separated by
 * single spaces, terminated by "\n", at most SRV_CTL_LINE_MAX bytes. The daemon answers with
 * a status line, "ok\n" or "error\n", then free text, and closes the connection. A command
 * whose answer is a yes/no question answered "no" (zone diff: the file and the zone differ;
 * wait-sync: a secondary lags) replies "false\n" and its text: steerctl prints it on stdout
 * and exits 1.
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
#define SRV_CTL_FALSE    "false\n"
/* A command handler's (or an asynchronous command's end) "the answer is no": the reply's
 * status is SRV_CTL_FALSE. */
#define SRV_CTL_RET_FALSE 2

/* The control socket used when none is configured: $XDG_RUNTIME_DIR/steerdns.sock when that
 * variable is set to an absolute path, /tmp/steerdns-<uid>.sock otherwise. Any thread. */
void srv_ctl_default_path(char *buf, size_t size) SD_NONNULL(1);
