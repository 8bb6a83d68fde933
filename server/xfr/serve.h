/* serve.h — the transfer and TSIG side of a worker's query path.
 *
 * A worker calls xfr_serve() for each request before srv_answer(). Unsigned ordinary queries
 * cost a header look and a walk over the records (no allocation) and come back as PASS, for
 * srv_answer() to handle. Everything else is decided here:
 *
 *   TSIG present ─ verify (RFC 8945 5.2) ─ bad: NOTAUTH + TSIG error (BADKEY/BADSIG/BADTIME)
 *                                        └ good: remember the key; the reply is signed
 *   AXFR/IXFR ─ zone served? (NOTAUTH) ─ transfer-acl (REFUSED) ─ AXFR over UDP (NOTIMP, as
 *               Knot answers; RFC 5936 4.2) ─ IXFR over UDP: one datagram (REPLY)
 *                                          └ TCP: TRANSFER, an xfr_out_t the caller drains
 *   other signed queries ─ srv_answer() ─ TSIG appended (REPLY)
 *
 * The environment (keys, per-zone ACLs and histories) is immutable and published by the
 * control thread with xfr_env_publish(); workers read it with xfr_env_current() while
 * QSBR-online, like the zone set.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "contrib/base/compiler.h"
#include "server/engine/answer.h"
#include "server/xfr/acl.h"
#include "zone/history.h"
#include "server/xfr/out.h"
#include "server/xfr/tsig.h"
#include "zone/zoneset.h"

/* Per-zone transfer counters. Any worker adds to them with relaxed atomics (transfers are
 * rare: the shared cache line costs nothing), steerctl status reads them the same way; they
 * belong to the zone's xfr_zone_t and survive reloads. */
typedef struct xfr_zone_counters {
	uint64_t axfr;      /* AXFR out */
	uint64_t ixfr;      /* IXFR out answered incrementally (or with the single SOA) */
	uint64_t ixfr_full; /* IXFR out answered with the whole zone (serial not in history) */
	uint64_t refused;   /* AXFR/IXFR denied by transfer-acl */
} xfr_zone_counters_t;

typedef struct xfr_zone_info {
	uint8_t apex[DNAME_MAX];   /* lowercased wire */
	const xfr_acl_rule_t *acl; /* transfer-acl; count 0 = every transfer refused */
	size_t acl_count;
	const zone_history_t *history; /* NULL: IXFR answered with the full zone */
	xfr_zone_counters_t *counters; /* NULL: not counted (tests) */
} xfr_zone_info_t;

typedef struct xfr_env {
	const tsig_key_t *const *keys;
	size_t nkeys;
	const xfr_zone_info_t *zones;
	size_t nzones;
	uint16_t udp_payload; /* our EDNS payload size (for IXFR over UDP and OPT) */
} xfr_env_t;

typedef enum {
	XFR_SERVE_PASS = 0, /* not ours: call srv_answer() */
	XFR_SERVE_REPLY,    /* resp[0..*resp_len) is the reply (nothing to send when 0) */
	XFR_SERVE_TRANSFER, /* TCP transfer started: write xfr_out_next() messages, then free */
} xfr_serve_t;

/* Counters a worker keeps (only its thread writes them). */
typedef struct xfr_serve_stats {
	uint64_t tsig_ok, tsig_bad;
	uint64_t refused; /* transfers denied by the ACL */
	uint64_t axfr, ixfr, ixfr_full, ixfr_current, ixfr_udp;
} xfr_serve_stats_t;

/* Handle one request (see above). env may be NULL (no keys, no ACLs: transfers refused).
 * resp has cap bytes (at least 65535 + TSIG_RR_MAX is plenty). Worker thread, QSBR-online;
 * the started transfer holds its own references. */
xfr_serve_t xfr_serve(const xfr_env_t *env, srv_answer_ctx_t *actx, const zone_set_t *zones,
                      const uint8_t *req, size_t len, const srv_peer_t *peer, time_t now,
                      uint8_t *resp, size_t cap, size_t *resp_len, xfr_out_t **xfr,
                      xfr_serve_stats_t *stats) SD_NONNULL(2, 4, 6, 8, 10, 11, 12);

/* One log line (info; warning when rc != 0) for a finished or abandoned transfer: zone, kind,
 * serial, peer, messages, records. Transfers are rare and operators want each one logged
 * (Knot and NSD do the same); this is never called per ordinary query. */
void xfr_out_log_done(const xfr_out_t *x, const struct sockaddr *peer, int rc) SD_NONNULL(1);

/* Control thread: make env current (it must stay alive until replaced and a grace period
 * has passed: the previous one is returned for the caller to free after synchronize_rcu). */
const xfr_env_t *xfr_env_publish(const xfr_env_t *env);
/* Workers, QSBR-online: the current environment or NULL. */
const xfr_env_t *xfr_env_current(void);
