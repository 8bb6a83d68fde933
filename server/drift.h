/* drift.h — `steerctl zone diff ZONE [FILE]`: the declarative zone file (in git) against what
 * the zone serves now (its file plus every dynamic update since).
 *
 *   control thread                 libuv pool thread               control thread
 *   srv_drift_start ── copy of ──▶ zone_load_file_bound(FILE) ──▶  zone_changeset_diff(file,
 *     (apex, path, bindings ref)     (cancellable, errors            zone_current()) ─ done()
 *                                     captured "file:line: ...")
 *
 * The parse runs on libuv's pool like a reload's (a large zone does not stall the control
 * loop); the served version is read on the control thread at the end, so the job holds no
 * pointer into the zone while it runs (the zone may be dropped by a reload meanwhile: then the
 * answer is "not served").
 *
 * The answer, one record per line in presentation form (zone_rr_format), every line sorted in
 * canonical record order (RFC 4034 6.1; for one record "-" before "+"):
 *   "; zone NAME: served serial S, file PATH serial F (SOA serials are not compared)"
 *   "+ RR"   served, not in the file (a dynamic update, a record added by hand)
 *   "- RR"   in the file, not served (removed by an update, or the file edited since)
 *   "; N served only (+), M in the file only (-)"   or   "; no difference"
 * A TTL change shows as "-" with the file's TTL and "+" with the served one. The SOA serial
 * is ignored (the served serial follows the serial policy and updates, the file's need not);
 * any other SOA difference (names, timers, TTL) is listed like a record.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "contrib/base/compiler.h"
#include "contrib/base/strbuf.h"
#include "server/ctlproto.h"
#include "server/zonedb.h"

/* The command's outcome besides 0 (equal) and a negative code (no answer: not served, the
 * file failed to parse, ...): the zone and the file differ. */
#define SRV_DRIFT_DIFFER SRV_CTL_RET_FALSE

/* done(arg, ret, text): ret 0 equal, SRV_DRIFT_DIFFER, or a negative code; text holds the
 * answer (or the error lines). Called on the control loop, once, unless forgotten. */
typedef void (*srv_drift_done_fn)(void *arg, int ret, const sd_strbuf_t *text);

typedef struct srv_drift srv_drift_t;

/* Start the diff of zone apex (lowercased wire) against path (NULL: the zone's configured
 * file; a path given is read by the daemon, with its rights). The job links itself into
 * *list (the caller's list of running jobs, for srv_drift_forget) and unlinks itself when
 * done. zs must outlive the job (the loop is run to its end before the registry is freed).
 * cancel (may be NULL) cuts the parse short (stop). Returns 0 when started; otherwise a
 * negative code with its text in out (SD_ENOTFOUND: not served). Control thread. */
int srv_drift_start(uv_loop_t *loop, srv_zonedb_t *zs, const uint8_t *apex, const char *path,
                    const atomic_bool *cancel, srv_drift_t **list, srv_drift_done_fn done,
                    void *arg, sd_strbuf_t *out) SD_NONNULL(1, 2, 3, 6, 7, 9) SD_WUR;

/* Nobody waits for the job started with arg any more (its client went away): it runs to its
 * end and answers no one. */
void srv_drift_forget(srv_drift_t *list, const void *arg);

/* The answer for a file version against the served one, as described above, appended to out.
 * Returns 0 (equal), SRV_DRIFT_DIFFER, or a negative code (-ENOMEM, a record that cannot be
 * formatted). Control thread (zone_changeset_diff's rule). */
int srv_drift_report(const char *zone, const char *path, const zone_version_t *file,
                     const zone_version_t *served, sd_strbuf_t *out)
    SD_NONNULL(1, 2, 3, 4, 5) SD_WUR;
