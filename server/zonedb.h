/* zonedb.h — the daemon's registry of served zones: loading, reloading, publishing
 * them (control thread).
 *
 * The daemon keeps one entry per configured zone (its zone_t, file, the identity and content
 * hash of every file the last successful load read — the main file and each file pulled in
 * with $INCLUDE —, when it was loaded, the last error). What the workers see — the zone set
 * and the transfer environment — is published as one view (server/view.h).
 *
 *   control thread                                 workers (QSBR readers)
 *   srv_zonedb_apply(cfg) ─ load changed files      srv_view_current() ─▶ view
 *        │  zone_publish(z, v)  (old version retired by the zone store after a grace period)
 *        └─ new view (zone set, keys, ACLs) ─ srv_view_swap ─ free the removed zone_t
 *
 * A zone file that fails to load keeps serving its previous version; its error lines
 * ("file:line: message", as logged by the loader) are kept as the entry's last error and
 * returned to the caller. The control thread must be registered with liburcu (QSBR) and
 * offline outside these calls; they go online where the zone store needs it.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "contrib/base/strbuf.h"
#include "server/config.h"
#include "server/steer.h"
#include "server/update_policy.h"
#include "server/view.h"
#include "server/xfr/notify.h"
#include "server/xfr/zoneconf.h"
#include "zone/update.h"
#include "zone/zoneset.h"

typedef struct srv_zonedb srv_zonedb_t;

/* views is where the registry publishes the workers' view (it must outlive the registry);
 * answer is lent to every view. */
int srv_zonedb_new(srv_views_t *views, const srv_answer_conf_t *answer, srv_zonedb_t **out)
    SD_NONNULL(1, 3) SD_WUR;

/* The NOTIFY sender on the control loop (NULL: none; NOTIFYs are then not sent). */
void srv_zonedb_set_notifier(srv_zonedb_t *zs, xfr_notifier_t *n) SD_NONNULL(1);

/* The steering glue (borrowed, NULL: none): the registry gives every zone its policy
 * bindings before it loads, points each view at its publisher and health handle, and calls
 * srv_steer_sync() after every published version. Set before the first apply. */
void srv_zonedb_set_steer(srv_zonedb_t *zs, srv_steer_t *st, health_t *health) SD_NONNULL(1);

/* Unpublish everything, wait for readers and free all zones. Workers must be stopped or
 * about to stop reading. */
void srv_zonedb_free(srv_zonedb_t *zs);

/* NOTIFY every loaded zone's current serial to its targets (once at start, after the
 * notifier exists: secondaries that missed a change while we were down catch up). */
void srv_zonedb_notify_all(srv_zonedb_t *zs) SD_NONNULL(1);

/* Make the served zones match cfg: load added zones, reload zones whose main file or any file
 * it included changed (content or identity; or all of them with force), drop removed zones. Errors
 * are logged and appended to errors (may be NULL). Returns 0 when every zone of cfg is served from
 * its current file, or the first error code (the other zones are applied nevertheless). The
 * zones' base copies (zone/update.h: a full zone file each) are left to the caller, here and in
 * srv_zonedb_reload: srv_zonedb_keep_bases(_off) once it has answered (a start: once the
 * workers answer). */
int srv_zonedb_apply(srv_zonedb_t *zs, const srv_config_t *cfg, bool force, sd_strbuf_t *errors)
    SD_NONNULL(1, 2) SD_WUR;

/* Reload one zone's file even when it looks unchanged. SD_ENOTFOUND when apex is not served. */
int srv_zonedb_reload(srv_zonedb_t *zs, const uint8_t *apex, sd_strbuf_t *errors)
    SD_NONNULL(1, 2) SD_WUR;

/* A reload in two steps, so that the long part runs off the control thread (which keeps
 * answering steerctl and signals):
 *   srv_zonedb_prepare (control thread): list the files the reload will parse (the changed
 *     files of served zones, or the one zone apex when apex is not NULL);
 *   srv_zonedb_prep_parse (any one thread; touches no entry): parse them, watching *cancel;
 *     a file modified less than SRV_ZONEDB_SETTLE_MS ago is waited for and parsed again (a
 *     writer half-way through rewriting it in place), for at most SRV_ZONEDB_SETTLE_MAX_MS;
 *   srv_zonedb_apply_prepared / _reload_prepared (control thread, no other apply between the
 *     prepare and this): srv_zonedb_apply(cfg, force=false) / srv_zonedb_reload(apex) using
 *     what was parsed when the files are still what was parsed (else they are read again);
 *     they leave the zones' base copies unwritten, as those two do:
 *   srv_zonedb_keep_bases (control thread) writes them, once the caller has replied, or
 *   srv_zonedb_keep_bases_off has them written on other threads.
 * The prepare writes the base copies still pending of the zones it lists, and takes a
 * reference to each one's served version (released by srv_zonedb_prep_free): the base of the
 * file's change, without parsing the base copy, when the copy says that version served the
 * file as loaded. New zones are parsed at the apply. The caller frees the preparation after
 * the apply. */
#define SRV_ZONEDB_SETTLE_MS     1000
#define SRV_ZONEDB_SETTLE_MAX_MS 30000
typedef struct srv_zonedb_prep srv_zonedb_prep_t;
int srv_zonedb_prepare(const srv_zonedb_t *zs, const srv_config_t *cfg, const uint8_t *apex,
                       srv_zonedb_prep_t **out) SD_NONNULL(1, 2, 4) SD_WUR;
size_t srv_zonedb_prep_count(const srv_zonedb_prep_t *p) SD_NONNULL(1);
void srv_zonedb_prep_parse(srv_zonedb_prep_t *p, const atomic_bool *cancel) SD_NONNULL(1);
int srv_zonedb_apply_prepared(srv_zonedb_t *zs, const srv_config_t *cfg, srv_zonedb_prep_t *p,
                              sd_strbuf_t *errors) SD_NONNULL(1, 2) SD_WUR;
int srv_zonedb_reload_prepared(srv_zonedb_t *zs, const uint8_t *apex, srv_zonedb_prep_t *p,
                               sd_strbuf_t *errors) SD_NONNULL(1, 2) SD_WUR;
void srv_zonedb_prep_free(srv_zonedb_prep_t *p);
void srv_zonedb_keep_bases(srv_zonedb_t *zs) SD_NONNULL(1);
/* The same copies handed to queue, each to be written on another thread and finished on this
 * one (zone/update.h: zone_base_job_write, then zone_base_job_done); one that queue refuses
 * (a negative return) or that cannot be taken is written here. Control thread. */
typedef int (*srv_zonedb_base_queue_fn)(void *arg, zone_base_job_t *j);
void srv_zonedb_keep_bases_off(srv_zonedb_t *zs, srv_zonedb_base_queue_fn queue, void *arg)
    SD_NONNULL(1, 2);

/* RFC 2136 UPDATE counters of a zone (control thread only: server/update.c counts, status
 * prints them). */
typedef struct srv_zone_upd_stats {
	uint64_t applied, unchanged, refused;
	uint64_t refused_by[17]; /* by rcode (BADVERS = 16 last) */
	uint64_t commits;
	uint64_t last_commit_ns; /* begin to commit returned (build, serial record, journal
	                          * fsync, publish), without the NOTIFY and snapshot after */
	uint32_t last_batch;     /* requests in the last transaction */
} srv_zone_upd_stats_t;

/* One transaction of srv_zonedb_update, as its callback and caller see it. */
typedef struct srv_zonedb_txn {
	zone_update_t *u;               /* inside fn: the open transaction */
	const srv_upd_policy_t *policy; /* the zone's update-policy */
	srv_zone_upd_stats_t *stats;    /* the zone's counters (valid until the loop runs on) */
	uint32_t serial_from;           /* served when the transaction began */
	uint32_t serial_to;             /* after a successful commit */
	int commit;                     /* 0, or why the begin or commit failed (SD_E*) */
} srv_zonedb_txn_t;

/* Applies requests within t->u; a negative return aborts the transaction. */
typedef int (*srv_zonedb_txn_fn)(void *arg, srv_zonedb_txn_t *t);

/* Run fn in one transaction of the zone apex (zone/update.h) and commit it: one build, one
 * journal entry and fdatasync, at most one new serial. Returns SD_ENOTFOUND when apex is not
 * served (fn not called); otherwise 0 with t filled in, t->commit telling whether the commit
 * held (a failed one changed nothing). When the serial changed (t->serial_to !=
 * t->serial_from) the caller must call srv_zonedb_committed for apex before its loop runs on:
 * the change is durable and served already, so the replies may go out first. Control
 * thread. */
int srv_zonedb_update(srv_zonedb_t *zs, const uint8_t *apex, srv_zonedb_txn_fn fn, void *arg,
                      srv_zonedb_txn_t *t) SD_NONNULL(1, 2, 3, 5) SD_WUR;
/* What follows a commit with a new serial: NOTIFY to the secondaries, then the snapshot and
 * journal upkeep (xfr_zone_committed, which may write the whole zone), then the steering
 * candidates (srv_steer_sync: an address an update added under a policy gets its probe and
 * is answered once it passed its checks; one removed loses its probe). Nothing when apex is
 * not served. */
void srv_zonedb_committed(srv_zonedb_t *zs, const uint8_t *apex) SD_NONNULL(1, 2);

/* The steering transfer views of every zone (srv_steer_views, now_ms a monotonic clock),
 * then srv_zonedb_committed's followers (NOTIFY first) for each zone whose serial changed.
 * Control thread, on a timer of the control loop. */
void srv_zonedb_steer_views(srv_zonedb_t *zs, uint64_t now_ms) SD_NONNULL(1);

/* Write what zone apex serves to path as a master file, atomically (zone_write_file):
 * SD_ENOTFOUND when not served. Control thread. */
int srv_zonedb_export(srv_zonedb_t *zs, const uint8_t *apex, const char *path)
    SD_NONNULL(1, 2, 3) SD_WUR;

/* The zone served at apex (lowercased wire), or NULL. The pointer is valid until the next
 * apply or reload on this thread (one may drop the zone): do not keep it across the loop.
 * Control thread. */
zone_t *srv_zonedb_zone(const srv_zonedb_t *zs, const uint8_t *apex) SD_NONNULL(1, 2);

/* The NOTIFY targets of the zone at apex (*n 0 and *t NULL when it is not served), valid
 * until the next apply or reload. Control thread. */
void srv_zonedb_notify_targets(const srv_zonedb_t *zs, const uint8_t *apex,
                               const xfr_notify_target_t **t, size_t *n) SD_NONNULL(1, 2, 3, 4);

/* Who follows the zones' serials (the secondaries' tracker, server/lag.h, set up by
 * server.c): published is told every served zone's serial at set time and each new one
 * from then on (before the NOTIFY); status appends its lines to a zone's status. The registry
 * knows nothing else of it. NULL f: none. */
typedef struct srv_zonedb_follower {
	void (*published)(void *data, const uint8_t *apex, uint32_t serial);
	void (*status)(void *data, const uint8_t *apex, sd_strbuf_t *out);
	void *data;
} srv_zonedb_follower_t;
void srv_zonedb_set_follower(srv_zonedb_t *zs, const srv_zonedb_follower_t *f) SD_NONNULL(1);

/* One zone as metrics see it (server/metrics.h): what status prints, as numbers. The
 * pointers are valid during the callback only. */
typedef struct srv_zone_info {
	const char *name; /* presentation, as configured */
	const uint8_t *apex;
	bool loaded; /* serial and records are valid */
	uint32_t serial;
	size_t records;
	xfr_zone_stats_t xfr; /* journal, IXFR history, transfers out */
	const srv_zone_upd_stats_t *upd;
} srv_zone_info_t;

/* fn(data, info) for every served zone, in configuration order. Control thread. */
void srv_zonedb_each(const srv_zonedb_t *zs, void (*fn)(void *data, const srv_zone_info_t *info),
                     void *data) SD_NONNULL(1, 2);

/* Append one line per zone (name, serial, records, loaded-at, file, last error). */
void srv_zonedb_status(const srv_zonedb_t *zs, sd_strbuf_t *out) SD_NONNULL(1, 2);

/* Load every zone of cfg without publishing anything (steerdns --check). Returns 0 or the
 * first error; each problem is logged. */
int srv_zonedb_check(const srv_config_t *cfg) SD_NONNULL(1) SD_WUR;
