/* internal.h — the prober's shared internals: the target object and the prober object.
 *
 * Ownership and threads:
 *  - the registry (names, id table, overrides, current templates, command queue) is guarded
 *    by health_t.mu and may be touched from any thread;
 *  - every write to a state word happens under mu, so a word is always a consistent pack of
 *    the checks' verdict and the override; readers load it without a lock;
 *  - the libuv side of a target (timer, socket, TLS, HTTP parser) belongs to the health
 *    thread alone. Other threads reach it only through commands (START, STOP) queued under
 *    mu and signalled with uv_async_send;
 *  - a target's address and template never change: a reload that changes them replaces the
 *    target object under the same id (STOP old, START new), so the health thread never sees
 *    a field move under a running check.
 */
#pragma once

#include <http_parser.h>
#include <pthread.h>
#include <stdatomic.h>
#include <uv.h>

#include "health/conf.h"
#include "health/health.h"
#include "health/threshold.h"

typedef enum {
	HEALTH_RES_NONE = 0, /* no check finished yet */
	HEALTH_RES_OK,
	HEALTH_RES_REFUSED,
	HEALTH_RES_CONNECT,
	HEALTH_RES_TIMEOUT,
	HEALTH_RES_TLS,
	HEALTH_RES_TLS_VERIFY,
	HEALTH_RES_HTTP_STATUS,
	HEALTH_RES_BODY,
	HEALTH_RES_CLOSED,
	HEALTH_RES_PROTO,
} health_res_t;

const char *health_res_name(health_res_t r);

typedef enum {
	HEALTH_PH_IDLE = 0, /* waiting for the timer */
	HEALTH_PH_CONNECT,
	HEALTH_PH_TLS,
	HEALTH_PH_HTTP, /* request sent (or being sent), reading the response */
	HEALTH_PH_CLOSING,
} health_phase_t;

typedef struct health_target health_target_t;
struct health_target {
	struct health *h;
	uint32_t id;
	char *name;
	char *pool; /* may change in place under mu */
	struct sockaddr_storage addr, probe;
	health_tpl_t *tpl; /* a reference */
	bool from_conf;
	bool removed;           /* under mu: no more state writes */
	health_force_t force;   /* effective override, under mu */
	health_target_t *hnext; /* name hash chain, under mu */

	/* health thread only */
	uv_timer_t timer; /* next check, or the running check's timeout */
	uv_tcp_t tcp;
	uv_connect_t conn;
	unsigned open_handles; /* handles initialised and not yet closed */
	bool started;          /* START processed */
	bool stopped;          /* handles closed or closing: no more checks */
	bool dying;            /* STOP processed: free once open_handles reaches 0 */
	health_phase_t phase;
	uint64_t start_ms; /* loop time of the current or last check start */
	uint64_t start_ns;
	void *ssl;
	bool hs_done;
	http_parser parser;
	bool verdict_set, verdict_ok, headers_done;
	health_res_t verdict_res;
	uint32_t body_seen, kmp_state;
	char *req;
	size_t req_len;

	/* results: written by the health thread under mu, read by reports under mu */
	health_thr_t thr;
	health_res_t last_res;
	char reason[192];
	uint32_t latency_ms;
	uint64_t last_change_ms; /* wall clock, 0 = never */
	uint64_t checks;
};

typedef enum {
	HEALTH_CMD_START,
	HEALTH_CMD_STOP,
} health_cmd_type_t;

typedef struct health_cmd {
	struct health_cmd *next;
	health_cmd_type_t type;
	health_target_t *t;
} health_cmd_t;

typedef struct {
	char *name;
	bool pool;
	health_force_t mode;
} health_override_t;

#define HEALTH_CHUNK_BITS 10
#define HEALTH_CHUNK      (1u << HEALTH_CHUNK_BITS)
#define HEALTH_CHUNKS     4096 /* up to 4M ids */

struct health {
	pthread_mutex_t mu;
	/* lock-free state words: chunks are allocated once and never moved or freed early */
	_Atomic(_Atomic uint32_t *) chunks[HEALTH_CHUNKS];
	/* bumped after every store to a state word (health_generation) */
	_Atomic uint64_t gen;
	/* registry, under mu */
	health_target_t **by_id;
	uint32_t id_cap, id_used; /* by_id size; ids handed out so far */
	uint32_t *free_ids;
	uint32_t nfree, free_cap;
	health_target_t **buckets;
	uint32_t nbuckets, ntargets;
	health_tpl_t **tpls; /* current config's templates, for run-time targets */
	size_t ntpl;
	health_override_t *ovr;
	size_t novr;
	char *state_file;
	health_cmd_t *cmd_head, **cmd_tail;
	pthread_mutex_t file_mu; /* serialises state file writes */

	/* health thread */
	uv_loop_t loop;
	uv_async_t async;
	pthread_t thread;
	atomic_bool running;
	bool stopping; /* written under mu, then the async is sent */
	uint64_t rng;
	char rbuf[65536]; /* socket reads; consumed before the read callback returns */
	char pbuf[16384]; /* TLS plaintext */

	/* statistics of check starts, relaxed atomics */
	_Atomic uint64_t st_started;
	_Atomic uint64_t st_hist[10];
	/* results' statistics, under mu (health_record), so that one health_stats sees a check
	 * counted done, failed and in the latency histogram all together or not at all */
	uint64_t st_done, st_failed, st_transitions;
	uint64_t st_lat[HEALTH_LAT_BUCKETS + 1];
	uint64_t st_lat_count, st_lat_sum_ms;
};

/* check.c (health thread) */
void health_check_begin(health_target_t *t) SD_NONNULL(1);    /* START */
void health_check_end(health_target_t *t) SD_NONNULL(1);      /* STOP: abort, close, free */
void health_check_shutdown(health_target_t *t) SD_NONNULL(1); /* abort and close, keep */
int health_check_build_request(health_target_t *t) SD_NONNULL(1) SD_WUR;

/* health.c (health thread): one finished check, under mu. */
void health_record(health_target_t *t, bool ok, health_res_t res, const char *reason,
                   uint32_t latency_ms) SD_NONNULL(1, 4);
void health_target_free(health_target_t *t);
uint64_t health_rand(struct health *h) SD_NONNULL(1);

/* statefile.c */
/* Read overrides from path; a missing file is no overrides. Lines: "target NAME up|down" or
 * "pool NAME up|down"; '#' starts a comment. Returns 0 or a negative code (file:line logged).
 * Caller frees with health_overrides_free. */
int health_overrides_load(const char *path, health_override_t **out, size_t *count)
    SD_NONNULL(1, 2, 3) SD_WUR;
/* Write atomically: path.tmp, fsync, rename, fsync of the directory. */
int health_overrides_save(const char *path, const health_override_t *ovr, size_t count)
    SD_NONNULL(1) SD_WUR;
void health_overrides_free(health_override_t *ovr, size_t count);
