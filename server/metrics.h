/* metrics.h — Prometheus metrics over HTTP (server.metrics-listen; issue 12).
 *
 *   Prometheus ── GET /metrics ──▶ control loop: srv_metrics_http (uv_tcp, at most
 *                                  METRICS_CONNS_MAX connections, one request each)
 *                                    └─ collect(data, out): server.c gathers a srv_metrics_src_t
 *                                       and srv_metrics_collect writes the text exposition
 *                                       format 0.0.4 from the accessors that status uses
 *                                       (srv_worker_stats, srv_zonedb_each, srv_lag_each,
 *                                       health_stats): nothing is parsed back from text.
 *
 * The handler is a minimal HTTP/1.1 server of its own (no new dependency; a scrape is one
 * request per connection and needs nothing of the protocol but a request line): the request
 * head is read into a fixed buffer (METRICS_REQ_MAX bytes, larger is answered 431), GET and
 * HEAD of /metrics are answered 200, other paths 404, other methods 405, anything unparseable
 * 400; every answer has Connection: close. A connection that does not finish its request and
 * its answer within METRICS_IDLE_MS is closed; beyond METRICS_CONNS_MAX connections a newcomer
 * is closed at once.
 *
 * Steering is counted by outcome only (steerdns_steered_answers_total: first pool, later
 * pool, the all-down modes), per worker in srv_stats_t. Per name and per pool counters are
 * left out: the policies are numbered per configuration, so per-worker arrays of them would
 * have to be reallocated and handed over at every reload beside the snapshot; that is more
 * than a counter increment on the query path.
 *
 * The query path is not involved: the workers' counters are per worker and only summed when
 * a scrape runs, read with relaxed loads (contrib/base/stat.h). Everything here runs on the
 * control thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "contrib/base/compiler.h"
#include "contrib/base/strbuf.h"
#include "server/sock.h"

/* ---- the text writer (pure; any thread) ---- */

typedef struct srv_metric_label {
	const char *key;   /* [a-zA-Z_][a-zA-Z0-9_]*: the caller's constant */
	const char *value; /* any text: escaped (\\, \", \n) */
} srv_metric_label_t;

/* "# HELP name help" (help escaped: \\ and \n) and "# TYPE name type". */
void srv_metric_head(sd_strbuf_t *out, const char *name, const char *type, const char *help)
    SD_NONNULL(1, 2, 3, 4);
/* One sample line: name{k="v",...} value. n 0: no braces. */
void srv_metric_u64(sd_strbuf_t *out, const char *name, const srv_metric_label_t *labels, size_t n,
                    uint64_t value) SD_NONNULL(1, 2);
void srv_metric_f64(sd_strbuf_t *out, const char *name, const srv_metric_label_t *labels, size_t n,
                    double value) SD_NONNULL(1, 2);
/* text escaped as a label value (without the quotes). */
void srv_metric_escape(sd_strbuf_t *out, const char *text) SD_NONNULL(1, 2);

/* ---- what a scrape reports ---- */

struct srv_worker;
struct srv_zonedb;
struct srv_lag;
struct health;
struct xfr_notifier;
struct srv_steer;

typedef struct srv_metrics_src {
	struct srv_worker *const *workers;
	unsigned nworkers;
	const struct srv_zonedb *zones;
	struct srv_lag *lag;           /* NULL: no secondaries' metrics */
	struct health *health;         /* NULL: no health metrics */
	struct xfr_notifier *notifier; /* NULL: no NOTIFY metrics */
	const struct srv_steer *steer; /* NULL: no per-name steering metrics */
	uint64_t cookie_rotations;
	uint64_t handoffs;
	int64_t uptime_s;
} srv_metrics_src_t;

/* Append every metric of src to out. Control thread. */
void srv_metrics_collect(const srv_metrics_src_t *src, sd_strbuf_t *out) SD_NONNULL(1, 2);

/* ---- the HTTP endpoint (control thread) ---- */

#define METRICS_CONNS_MAX 16
#define METRICS_REQ_MAX   8192
#define METRICS_IDLE_MS   10000

typedef void (*srv_metrics_collect_fn)(void *data, sd_strbuf_t *out);
typedef struct srv_metrics_http srv_metrics_http_t;

/* Listen on addr on loop; each GET /metrics calls collect(data, out). On failure *out may
 * be set (a handle was initialised): close and free it like a working one. */
int srv_metrics_http_new(uv_loop_t *loop, const srv_addr_t *addr, srv_metrics_collect_fn collect,
                         void *data, srv_metrics_http_t **out) SD_NONNULL(1, 2, 3, 5) SD_WUR;
/* Stop listening and drop connections; the handles close on the next loop iteration, after
 * which srv_metrics_http_free may run. NULL: nothing. */
void srv_metrics_http_close(srv_metrics_http_t *m);
void srv_metrics_http_free(srv_metrics_http_t *m);
