/* server.h — the composition root: one running steerdns (control thread).
 *
 *   main ── srv_server_new(cfg) ── zones loaded ── health prober started ── sockets bound
 *     (every worker, every listen address, UDP + TCP) ── control socket ── workers started
 *     ── signals
 *   srv_server_run: the control loop (SIGHUP: reload; SIGTERM/SIGINT: stop; steerctl)
 *   srv_server_free: workers joined, prober stopped, zones freed after the last grace period
 *
 * All functions run on the thread that called srv_server_new (the control thread), which
 * registers with liburcu-qsbr there and stays offline except while publishing.
 */
#pragma once

#include "contrib/base/compiler.h"
#include "contrib/base/strbuf.h"
#include "server/config.h"

typedef struct srv_server srv_server_t;

/* Start serving cfg (the server owns it from now on, also on failure). cli is what the
 * configuration came from (reloads read it again); it must outlive the server. Every
 * start-up problem is logged naming file, line and key. */
int srv_server_new(srv_config_t *cfg, const srv_cli_t *cli, srv_server_t **out)
    SD_NONNULL(1, 2, 3) SD_WUR;

/* Run the control loop until SIGTERM or SIGINT; then everything is stopped. Returns 0. */
int srv_server_run(srv_server_t *s) SD_NONNULL(1) SD_WUR;

void srv_server_free(srv_server_t *s);

/* Reload: zone == NULL re-reads the configuration (file mode) and every changed zone file;
 * otherwise that one zone's file, even if it looks unchanged. A failing configuration keeps
 * the running one (and shows in status until one applies); a failing zone keeps its previous
 * version. The files are parsed on libuv's thread pool while the control loop keeps running
 * (steerctl answers, SIGTERM stops, cancelling the parse): returns 1 when the reload goes on
 * so, and done(arg, ret, text) is called on the control loop when it ends (unless forgotten
 * with srv_server_reload_forget(s, arg)); otherwise it finished here and returns 0 or the
 * first error, its text appended to out. -EBUSY: another reload is in progress. */
typedef void (*srv_reload_done_fn)(void *arg, int ret, const sd_strbuf_t *text);
typedef struct srv_reload srv_reload_t;
int srv_server_reload(srv_server_t *s, const char *zone, srv_reload_done_fn done, void *arg,
                      sd_strbuf_t *out) SD_NONNULL(1, 5);
/* Nobody waits for arg's reload any more (its control client went away). */
void srv_server_reload_forget(srv_server_t *s, void *arg) SD_NONNULL(1);

/* Run a `health ...` control command (args: what follows the word, health/ctl.h) and
 * append its answer to out. Returns 0 or the command's negative code. */
int srv_server_health_ctl(srv_server_t *s, const char *args, sd_strbuf_t *out)
    SD_NONNULL(1, 2, 3) SD_WUR;

/* `steerctl zone diff ZONE [FILE]` (server/drift.h): FILE (an absolute path; NULL: the
 * zone's configured file) parsed on libuv's pool, then compared with what ZONE serves.
 * Returns 1 when started: done(arg, ret, text) is called on the control loop when it ends,
 * ret 0 (equal), SRV_DRIFT_DIFFER or a negative code (unless forgotten with
 * srv_server_forget(s, arg)); otherwise a negative code, its text appended to out. */
int srv_server_zone_diff(srv_server_t *s, const char *zone, const char *path,
                         srv_reload_done_fn done, void *arg, sd_strbuf_t *out)
    SD_NONNULL(1, 2, 4, 6) SD_WUR;

/* `steerctl wait-sync ZONE [SERIAL] [--timeout T]` (server/lag.h srv_lag_wait): 1 when the
 * answer comes later through done (ret 0: every known secondary serves the serial or newer;
 * SRV_CTL_RET_FALSE: some lag at the deadline), 0 when it is in out already (synced), or a
 * negative code (text in out). */
int srv_server_wait_sync(srv_server_t *s, const char *zone, bool has_serial, uint32_t serial,
                         uint64_t timeout_ms, srv_reload_done_fn done, void *arg, sd_strbuf_t *out)
    SD_NONNULL(1, 2, 6, 8) SD_WUR;

/* Nobody waits any more for the asynchronous command started with arg (reload, zone diff,
 * wait-sync): its control client went away. */
void srv_server_forget(srv_server_t *s, void *arg) SD_NONNULL(1);

/* `steerctl zone export ZONE [FILE]`: what ZONE serves as a master file (SOA first),
 * written by the daemon to the absolute path (atomically: temporary + rename), or, without
 * a path, appended to out. Returns 0 or a negative code (its text in out). */
int srv_server_zone_export(srv_server_t *s, const char *zone, const char *path, sd_strbuf_t *out)
    SD_NONNULL(1, 2, 4) SD_WUR;

/* `steerctl zone history ZONE [--json] [--limit N]`, `zone show-change ZONE SERIAL
 * [--json]` and `zone rollback ZONE SERIAL` (server/zonehist.h; limit 0: all). Control
 * thread; 0 or a negative code, the text in out either way. */
int srv_server_zone_history(srv_server_t *s, const char *zone, size_t limit, bool json,
                            sd_strbuf_t *out) SD_NONNULL(1, 2, 5) SD_WUR;
int srv_server_zone_show_change(srv_server_t *s, const char *zone, uint32_t serial, bool json,
                                sd_strbuf_t *out) SD_NONNULL(1, 2, 5) SD_WUR;
int srv_server_zone_rollback(srv_server_t *s, const char *zone, uint32_t serial, sd_strbuf_t *out)
    SD_NONNULL(1, 2, 4) SD_WUR;

/* steerctl cookie-rotate: a new DNS cookie secret now (server/cookie.h: the secret file
 * read again, or a random one), the current one still accepted; the answer appended to out.
 * Returns 0, SD_ENOTFOUND (cookies are off) or the failure (logged). */
int srv_server_cookie_rotate(srv_server_t *s, sd_strbuf_t *out) SD_NONNULL(1, 2);

/* `steering [NAME] [--client ADDR[/LEN]] [--json]` (server/steer.h srv_steer_report). */
int srv_server_steering(srv_server_t *s, const char *name, const char *client, bool json,
                        sd_strbuf_t *out) SD_NONNULL(1, 5) SD_WUR;

/* Version, uptime, workers, zones and counters summed over workers, appended to out. */
void srv_server_status(srv_server_t *s, sd_strbuf_t *out) SD_NONNULL(1, 2);
