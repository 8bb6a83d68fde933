/* control.h — the control socket: a libuv pipe server on the control thread.
 *
 * Speaks the protocol of server/ctlproto.h. Commands are a table in control.c of
 * {name, arguments, help, handler}; a new command is one line there. A stale socket file
 * left by a dead daemon is replaced; a live one (something answers on it) is an error.
 */
#pragma once

#include <uv.h>

#include "contrib/base/compiler.h"
#include "server/server.h"

typedef struct srv_control srv_control_t;

/* Listen on path (created with mode 0600) on loop; commands act on server. On failure *out
 * may still be set (a handle was initialised): close and free it like a working one. */
int srv_control_new(uv_loop_t *loop, const char *path, srv_server_t *server, srv_control_t **out)
    SD_NONNULL(1, 2, 3, 4) SD_WUR;

/* Stop listening, drop clients and remove the socket file; the handles close on the next
 * loop iteration, after which srv_control_free may run. */
void srv_control_close(srv_control_t *c);
void srv_control_free(srv_control_t *c);
