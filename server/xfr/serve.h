/* serve.h — the front door of a worker's query path: one request, parsed once, to one reply.
 *
 * A worker parses each request with srv_query_parse() (server/engine/query.h) and hands the
 * result to xfr_serve(), the one dispatcher. TSIG verification and signing wrap the whole
 * exchange here, for every opcode:
 *
 *   no header, QR set ─ DROP (counted by the engine)
 *   TSIG (last RR) ─ verify (RFC 8945 5.2) ─ bad: NOTAUTH + TSIG error (BADKEY/BADSIG/BADTIME)
 *                                         └ good: the reply is signed
 *   AXFR/IXFR ─ zone served? (NOTAUTH) ─ transfer-acl (REFUSED) ─ AXFR over UDP (NOTIMP, as
 *               Knot answers; RFC 5936 4.2) ─ IXFR over UDP: one datagram (REPLY)
 *                                          └ TCP: STREAM, an xfr_out_t the caller drains
 *   UPDATE (opcode 5) ─ HANDOFF: the control thread replies (server/handoff.h) with
 *                       xfr_serve_handoff_reply(), signed with the request's TSIG state
 *   anything else ─ srv_answer_query() (within the size limit less the TSIG RR) ─ REPLY
 *
 * The environment (keys, per-zone ACLs and histories) is immutable; the daemon publishes it
 * with the zone set in one view (server/view.h) and a worker passes both from the view it
 * loaded for the I/O callback.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "contrib/base/compiler.h"
#include "server/engine/answer.h"
#include "server/engine/query.h"
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
	XFR_SERVE_DROP = 0, /* nothing to send */
	XFR_SERVE_HANDOFF,  /* an UPDATE (RFC 2136): hand the request to the control thread with
	                     * out->signer; it replies with xfr_serve_handoff_reply() */
	XFR_SERVE_REPLY,    /* out->buf[0..out->len) is the reply */
	XFR_SERVE_STREAM,   /* TCP transfer started: write xfr_out_next() messages of out->xfr,
	                     * then xfr_out_free() it */
} xfr_serve_t;

/* The TSIG state of a request answered on another thread (HANDOFF): the verified context
 * with its own copy of the key, so the reply can be signed after the view that held the key
 * is gone. Plain data: copy it with the request. */
typedef struct xfr_signer {
	bool active; /* the request was signed and verified: sign the reply */
	tsig_key_t key;
	tsig_ctx_t ctx;
} xfr_signer_t;

/* Where the reply goes: the caller sets buf and cap (at least SRV_RESPONSE_MAX +
 * TSIG_RR_MAX is plenty); xfr_serve() sets len, xfr for STREAM, signer for HANDOFF (only
 * then: it is not touched otherwise). */
typedef struct xfr_reply {
	uint8_t *buf;
	size_t cap;
	size_t len;
	xfr_out_t *xfr;
	xfr_signer_t signer;
} xfr_reply_t;

/* Counters a worker keeps (only its thread writes them, with relaxed atomics: readers use
 * sd_stat_get, contrib/base/stat.h). */
typedef struct xfr_serve_stats {
	uint64_t tsig_ok, tsig_bad;
	uint64_t refused; /* transfers denied by the ACL */
	uint64_t axfr, ixfr, ixfr_full, ixfr_current, ixfr_udp;
} xfr_serve_stats_t;

/* Handle one parsed request q (see above; q->msg, q->client and q->tcp set). env may be NULL
 * (no keys, no ACLs: transfers refused), zones NULL (no zones: REFUSED). Worker thread,
 * QSBR-online; the started transfer holds its own references. */
xfr_serve_t xfr_serve(const xfr_env_t *env, const zone_set_t *zones, srv_answer_ctx_t *actx,
                      const srv_query_t *q, time_t now, xfr_reply_t *out, xfr_serve_stats_t *stats)
    SD_NONNULL(3, 4, 6, 7);

/* The reply to a handed-off request msg[0..len) (tcp: its transport), on the thread that
 * handles it: until RFC 2136 is implemented (issue 8) the engine's answer, NOTIMP with the
 * question and OPT echoed; signed (and its size limit lowered for the TSIG RR) when signer
 * is active. Returns the reply length or 0. Uses actx (that thread's answer context). */
size_t xfr_serve_handoff_reply(srv_answer_ctx_t *actx, const uint8_t *msg, size_t len, bool tcp,
                               xfr_signer_t *signer, time_t now, uint8_t *buf, size_t cap)
    SD_NONNULL(1, 2, 5, 7);

/* One log line (info; warning when rc != 0) for a finished or abandoned transfer: zone, kind,
 * serial, peer, messages, records. Transfers are rare and operators want each one logged
 * (Knot and NSD do the same); this is never called per ordinary query. */
void xfr_out_log_done(const xfr_out_t *x, const struct sockaddr *peer, int rc) SD_NONNULL(1);
