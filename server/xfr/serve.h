/* serve.h — zone transfers out, as the front door (server/front.h) hands them over: one
 * parsed AXFR/IXFR request to a refusal, one UDP datagram or a started TCP transfer.
 *
 *   xfr_transfer ─ FORMERR / REFUSED (class) ─ zone served? (NOTAUTH, RFC 5936 2.2.1)
 *     ─ transfer-acl (REFUSED) ─ AXFR over UDP (NOTIMP, as Knot answers; RFC 5936 4.2)
 *     ─ IXFR over UDP: one datagram, the SOA alone when the reply does not fit (REPLY)
 *     └ TCP: STREAM, an xfr_out_t the caller drains (server/xfr/out.h)
 *
 * TSIG is verified (and the signing state set up) by the front door before it calls here;
 * every reply made here is signed with that state. The environment (keys, per-zone ACLs and
 * histories) is immutable; the daemon publishes it with the zone set in one view
 * (server/view.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "contrib/base/compiler.h"
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
	XFR_TRANSFER_DROP = 0, /* nothing to send */
	XFR_TRANSFER_REPLY,    /* out->buf[0..out->len) is the reply */
	XFR_TRANSFER_STREAM,   /* TCP transfer started: write xfr_out_next() messages of
	                        * out->xfr, then xfr_out_free() it */
} xfr_transfer_t;

/* Where the reply goes: the caller sets buf and cap (at least SRV_RESPONSE_MAX +
 * TSIG_RR_MAX is plenty); xfr_transfer() sets len, and xfr for STREAM. */
typedef struct xfr_reply {
	uint8_t *buf;
	size_t cap;
	size_t len;
	xfr_out_t *xfr;
} xfr_reply_t;

/* Transfer counters a worker keeps (only its thread writes them, with relaxed atomics:
 * readers use sd_stat_get, contrib/base/stat.h). */
typedef struct xfr_stats {
	uint64_t refused; /* transfers denied by the ACL */
	uint64_t axfr, ixfr, ixfr_full, ixfr_current, ixfr_udp;
} xfr_stats_t;

/* True for a request the front door hands here: a QUERY whose question is AXFR or IXFR. */
bool xfr_is_transfer(const srv_query_t *q) SD_NONNULL(1);

/* Serve the transfer request q (framed, not a response; q->client and q->tcp set). tsig: the
 * verified request's state (NULL: unsigned), every reply is signed with it. env may be NULL
 * (no keys, no ACLs: refused), zones NULL (NOTAUTH). Worker thread, QSBR-online; a started
 * transfer holds its own references. Allocates (the xfr_out_t): transfers are rare. */
xfr_transfer_t xfr_transfer(const xfr_env_t *env, const zone_set_t *zones, const srv_query_t *q,
                            tsig_ctx_t *tsig, time_t now, xfr_reply_t *out, xfr_stats_t *st)
    SD_NONNULL(3, 6, 7) SD_WUR;

/* Our EDNS UDP payload size when none is configured (DNS flag day 2020). */
#define XFR_EDNS_PAYLOAD 1232

/* The error reply to q: header (ID, opcode and RD copied, QR, the low 4 bits of rcode), the
 * question when it parsed, an OPT when q carried one (RFC 6891 7: payload, 0 meaning
 * XFR_EDNS_PAYLOAD; the upper bits of an extended rcode such as BADVERS; DO echoed), and a
 * TSIG RR signed with tsig (NULL: none; tsig_sign applies the MAC rule of the TSIG error,
 * RFC 8945 5.3.2). Returns its length in buf, or 0 (cap below 512, or signing failed). Also
 * the front door's TSIG error reply. No allocation. */
size_t xfr_error_reply(const srv_query_t *q, unsigned rcode, uint16_t payload, tsig_ctx_t *tsig,
                       time_t now, uint8_t *buf, size_t cap) SD_NONNULL(1, 6) SD_WUR;

/* One log line (info; warning when rc != 0) for a finished or abandoned transfer: zone, kind,
 * serial, peer, messages, records. Transfers are rare and operators want each one logged
 * (Knot and NSD do the same); this is never called per ordinary query. */
void xfr_out_log_done(const xfr_out_t *x, const struct sockaddr *peer, int rc) SD_NONNULL(1);
