/* health.h — the health prober: asynchronous TCP, HTTP and HTTPS checks with thresholds.
 *
 * The prober knows nothing of DNS. It owns one thread running one libuv loop; every target
 * has one uv_timer_t that alternates between "wait for the next check" and "timeout of the
 * running check", and at most one check in flight. After the rise/fall thresholds, the
 * verdict is published in one atomic 32-bit word per target that any thread reads without
 * locks (health_target_state), in the style of gdnsd's mon.h:
 *
 *     control thread ──health_apply/add/remove/force──┐ (registry mutex + uv_async)
 *                                                     v
 *     health thread:  timer ─> connect ─> [TLS] ─> [HTTP] ─> verdict ─> state word
 *                                                                           │ atomic load
 *     worker threads: health_target_state(h, id) <──────────────────────────┘
 *
 * Target ids are small integers, stable for the target's life and reused after removal.
 * State words live in fixed chunks that are never moved, so a reader holding an id never
 * races a resize.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "contrib/base/compiler.h"
#include "contrib/base/conf.h"

/* ---- the state word ------------------------------------------------------------------- */

#define HEALTH_STATE_DOWN        0x1u /* verdict of the checks after thresholds */
#define HEALTH_STATE_FORCED      0x2u /* an operator override is in force */
#define HEALTH_STATE_FORCED_DOWN 0x4u /* the override's value (meaningful with FORCED) */
/* No verdict yet: since the target was made its checks have not reached `rise` successes or
 * `fall` failures in a row, so DOWN is the template's initial state, not a result (the
 * steering transfer view waits for verdicts before it changes a serial). Answers ignore it. */
#define HEALTH_STATE_PENDING 0x8u

/* What a reader should use: the override when forced, the checks' verdict otherwise.
 * Pure; any thread. */
static inline bool health_state_is_down(uint32_t word)
{
	/* without a branch (the answer path asks per candidate): forced, the word shifted by
	 * FORCED (2) brings FORCED_DOWN to the place of DOWN */
	_Static_assert(HEALTH_STATE_FORCED_DOWN == HEALTH_STATE_DOWN << HEALTH_STATE_FORCED,
	               "the override's bit is DOWN shifted by FORCED");
	return (word >> (word & HEALTH_STATE_FORCED)) & HEALTH_STATE_DOWN;
}

/* ---- configuration ------------------------------------------------------------------- */

typedef struct health_conf health_conf_t;

/* Validate a top-level `health:` map (state-file, templates, targets) and build an immutable
 * configuration. Every key, its default and its meaning are documented once, in the example
 * configuration contrib/examples/steerdns.yaml (section `health:`); keep that file and this
 * parser in step. Every problem is reported through conf_error (file:line: path) and
 * counted in ctx; on any error returns SD_ECONFIG and *out is untouched. Relative paths
 * (state-file, ca-file) are resolved against base_dir (the daemon passes the directory of
 * its configuration file). HTTPS templates get their SSL_CTX here, so an unreadable CA file
 * fails the load. Caller owns *out (health_conf_free). Any thread. */
int health_conf_parse(conf_ctx_t *ctx, const conf_node_t *section, const char *base_dir,
                      health_conf_t **out) SD_NONNULL(1, 2, 4) SD_WUR;

/* An empty configuration (no templates, no targets, no state file). */
int health_conf_empty(health_conf_t **out) SD_NONNULL(1) SD_WUR;

/* Use path as the state file when the configuration names none (the daemon passes
 * <server.state-dir>/health.state, so overrides survive a restart without any key). Call
 * before the configuration is handed to a prober. Returns 0, -ENOMEM, or a code of
 * health_conf_state_file_check when path is used and names a special file. Any thread. */
int health_conf_default_state_file(health_conf_t *conf, const char *path) SD_NONNULL(1, 2) SD_WUR;

/* 0 unless path names a FIFO, a device node, a socket or a directory (the state file is
 * read and replaced by rename: such a file would block, never end or be destroyed); then
 * SD_EFIFO, SD_EDEVICE, SD_ENOTREG or -EISDIR, whose sd_strerror says why. Any thread. */
int health_conf_state_file_check(const char *path) SD_NONNULL(1) SD_WUR;

void health_conf_free(health_conf_t *conf);

/* Whether conf has a template of that name (for sections that refer to templates, e.g.
 * steering policies, to report a dangling name at load). Any thread. */
bool health_conf_has_template(const health_conf_t *conf, const char *name) SD_NONNULL(1, 2);

/* ---- lifecycle ------------------------------------------------------------------------ */

typedef struct health health_t;

/* Create a prober for conf (which the caller keeps and frees; the prober takes what it
 * needs). Loads the state file's overrides. No thread runs yet. */
int health_new(const health_conf_t *conf, health_t **out) SD_NONNULL(1, 2) SD_WUR;

/* Spawn the health thread; first checks are spread uniformly over one interval. Once. */
int health_start(health_t *h) SD_NONNULL(1) SD_WUR;

/* Reload: targets absent from conf are removed, new ones added, changed ones restarted;
 * unchanged targets (same address, port, template content) keep their schedule, state and
 * counters. Targets added with health_target_add are left alone. Synchronous for the
 * registry (ids and lookups are updated when it returns); probing follows on the health
 * thread. Control thread. */
int health_apply(health_t *h, const health_conf_t *conf) SD_NONNULL(1, 2) SD_WUR;

/* Stop the thread (running checks are aborted) and wait for it. Idempotent. */
void health_stop(health_t *h);
/* Stop if needed and free everything. */
void health_free(health_t *h);

/* ---- targets --------------------------------------------------------------------------- */

/* The state word of a target; an unknown or removed id reads as HEALTH_STATE_DOWN.
 * Lock-free, never blocks, any thread. */
uint32_t health_target_state(const health_t *h, uint32_t id) SD_NONNULL(1);

/* The address of a target's state word, for a reader that loads it per query without the
 * bounds check and the chunk lookup of health_target_state: stable for the prober's life
 * (chunks are never moved or freed before health_free). Loading it (memory_order_acquire)
 * gives what health_target_state(h, id) returns, under the same rule as holding the id: the
 * id may be reused after health_target_remove. An id that has no word: a word that reads
 * HEALTH_STATE_DOWN forever. Any thread. */
const _Atomic uint32_t *health_target_word(const health_t *h, uint32_t id) SD_NONNULL(1);

/* A counter that grows after every change of any state word (a verdict, an override, a
 * target added or removed): a reader that remembers it knows, with one load, whether any
 * word may differ since (the steering transfer views are recomputed only then). Read it
 * before the words it covers. Lock-free, any thread. */
uint64_t health_generation(const health_t *h) SD_NONNULL(1);

/* Look a target up by name (do it once, at config load). Returns 0 or SD_ENOTFOUND. Any
 * thread (takes the registry mutex). */
int health_target_id(health_t *h, const char *name, uint32_t *id) SD_NONNULL(1, 2, 3) SD_WUR;

/* Create a target at run time from a template of the current config. addr carries the port
 * (0 means the template's port). The first check runs within one interval. Returns 0,
 * SD_EEXIST (the name is taken; *id receives the existing id), SD_ENOTFOUND (no such
 * template) or SD_EPARSE (bad name or address). Any thread. */
int health_target_add(health_t *h, const char *name, const struct sockaddr *addr,
                      const char *template_name, uint32_t *id) SD_NONNULL(1, 2, 3, 4, 5) SD_WUR;

/* health_target_add with options (opts may be NULL: the defaults above). */
typedef struct health_add_opts {
	const char *pool;  /* a pool label (force "pool:NAME" acts on it); NULL: none */
	bool initial_down; /* start down whatever the template says: the target must pass
	                      `rise` checks before it reads up (an endpoint that appears while
	                      steerdns runs is not answered before it was checked) */
} health_add_opts_t;

int health_target_add_opts(health_t *h, const char *name, const struct sockaddr *addr,
                           const char *template_name, const health_add_opts_t *opts, uint32_t *id)
    SD_NONNULL(1, 2, 3, 4, 6) SD_WUR;

/* Remove a target; its id reads as down and may be reused by a later add. Returns 0 or
 * SD_ENOTFOUND. Any thread. */
int health_target_remove(health_t *h, uint32_t id) SD_NONNULL(1) SD_WUR;

/* ---- operator overrides -------------------------------------------------------------- */

typedef enum {
	HEALTH_FORCE_NONE = 0, /* remove the override */
	HEALTH_FORCE_UP,
	HEALTH_FORCE_DOWN,
} health_force_t;

/* Force a target ("web1") or every member of a pool ("pool:eu-west") up or down, or remove
 * the override. A target's own override wins over its pool's. The overrides are written to
 * the state file atomically (temp file, fsync, rename) before this returns and re-applied by
 * health_new. Returns 0, SD_ENOTFOUND (no such target or pool member; nothing changed),
 * SD_EPARSE, or an errno code when the state file cannot be written (the override is in
 * force in memory all the same). Any thread. */
int health_force(health_t *h, const char *target_or_pool, health_force_t mode)
    SD_NONNULL(1, 2) SD_WUR;

/* ---- visibility ---------------------------------------------------------------------- */

/* Render every target: name, address:port (and probe address), check type, state, forced
 * flag, last result and reason, latency, time of the last transition, consecutive counts.
 * Text (one line per target) or JSON ({"targets":[...]}). *out is malloc'ed, NUL-terminated,
 * owned by the caller; *len excludes the NUL. Any thread. */
int health_report(health_t *h, bool json, char **out, size_t *len) SD_NONNULL(1, 3, 4) SD_WUR;

/* Upper bounds (milliseconds) of the check latency histogram's buckets; a last bucket,
 * +Inf, follows them. */
#define HEALTH_LAT_BUCKETS 11
extern const uint32_t health_lat_bounds_ms[HEALTH_LAT_BUCKETS];

/* Counters since start, for metrics and the benchmark. start_hist counts check starts by
 * the tenth of a second (of the loop clock) in which they began: an even histogram means
 * the checks are spread. The targets by state (what readers use: an override when forced,
 * the checks' verdict otherwise), the transitions of the checks' verdict and the latency
 * histogram of finished checks (lat_hist[i]: checks of at most health_lat_bounds_ms[i], not
 * cumulative; the last slot the rest) and the counts of checks done and failed are one
 * snapshot, taken under the registry mutex the health thread records results under; the
 * starts are read after it, so checks_started >= checks_done == lat_count. */
typedef struct {
	uint64_t checks_started;
	uint64_t checks_done;
	uint64_t checks_failed;
	uint64_t start_hist[10];
	uint32_t targets;
	uint32_t up, down, forced_up, forced_down; /* sum: targets */
	uint64_t transitions;                      /* verdict changes, up to down or back */
	uint64_t lat_hist[HEALTH_LAT_BUCKETS + 1];
	uint64_t lat_count, lat_sum_ms;
} health_stats_t;

/* Any thread; takes the registry mutex for the time of one pass over the targets. */
void health_stats(health_t *h, health_stats_t *out) SD_NONNULL(1, 2);
