/* answer.h — the query path: one pure function from a parsed request to response bytes.
 *
 * Who calls: the front door (server/front.h: srv_process, for a worker's UDP batch and its
 * TCP connections) calls
 * srv_answer_query() with the request parsed once; the unit tests and fuzz_answer call
 * srv_answer(), which parses and answers. Neither does I/O, takes a lock or allocates:
 * every buffer it needs is in srv_answer_ctx_t, which a worker
 * creates once at start. The caller must be inside an RCU read-side section (a QSBR-online
 * worker thread) for as long as it uses the zone set passed in.
 *
 *   request bytes ─▶ parse header/question/OPT ─▶ find zone (longest match) ─▶ current version
 *     ─▶ walk the tree (RFC 1034 4.3.2) ─▶ answer | CNAME chain | wildcard | DNAME | referral
 *        | NODATA | NXDOMAIN ─▶ additional section ─▶ TC if it does not fit ─▶ OPT ─▶ bytes
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "contrib/base/compiler.h"
#include "dns/proto.h"
#include "server/engine/query.h"
#include "steering/snap.h"
#include "zone/version.h"
#include "zone/zoneset.h"

/* Settings the answer path reads; fixed for the life of a worker generation. */
typedef struct srv_answer_conf {
	const char *identity;     /* answer CH TXT id.server/hostname.bind; NULL = REFUSED */
	uint16_t udp_max_payload; /* our EDNS UDP payload size (RFC 6891 6.2.5), e.g. 1232 */
} srv_answer_conf_t;

/* Query types counted apart (metrics, server/metrics.h); the rest are SRV_QTYPE_OTHER. */
typedef enum {
	SRV_QTYPE_A,
	SRV_QTYPE_AAAA,
	SRV_QTYPE_CNAME,
	SRV_QTYPE_MX,
	SRV_QTYPE_TXT,
	SRV_QTYPE_NS,
	SRV_QTYPE_SOA,
	SRV_QTYPE_ANY,
	SRV_QTYPE_OTHER,
	SRV_QTYPE_CLASSES
} srv_qtype_class_t;

/* The class of qtype, and its name ("A", ..., "other"). Pure. */
srv_qtype_class_t srv_qtype_class(uint16_t qtype);
const char *srv_qtype_class_name(srv_qtype_class_t c);

/* What steered answers (server/steer.h) came out as: from the policy's first pool, from a
 * later one (the first had nothing up), and the all-down modes (every candidate down). */
typedef enum {
	SRV_STEER_FIRST_POOL,
	SRV_STEER_LATER_POOL,
	SRV_STEER_ALL_DOWN_ALL,
	SRV_STEER_ALL_DOWN_FALLBACK,
	SRV_STEER_ALL_DOWN_SERVFAIL,
	SRV_STEER_OUTCOMES
} srv_steer_outcome_t;

const char *srv_steer_outcome_name(srv_steer_outcome_t o);

/* Per-worker counters; only the owning worker writes them, with relaxed atomics, and readers
 * load them the same way (contrib/base/stat.h). */
typedef struct srv_stats {
	uint64_t queries;
	uint64_t udp, tcp;
	uint64_t qtype[SRV_QTYPE_CLASSES]; /* queries with a question, by srv_qtype_class */
	uint64_t rcode[16];                /* responses by RCODE (low 4 bits) */
	uint64_t badvers;
	uint64_t dropped;   /* no response at all: unparseable header, QR=1 */
	uint64_t truncated; /* TC set */
	uint64_t edns;
	uint64_t steered[SRV_STEER_OUTCOMES]; /* steered RRsets answered, by outcome */
	uint64_t steered_degraded;            /* of those, some weighted candidate was down */
	uint64_t images; /* negative and referral answers copied pre-encoded (zone_image_t) */
} srv_stats_t;

/* Who asked. */
typedef struct srv_peer {
	const struct sockaddr *addr; /* may be NULL in tests */
	bool tcp;
	/* Bytes the caller appends after the answer (the TSIG RR of a signed request): the
	 * size limit (512, the EDNS size or 65535) is lowered by this much so that the signed
	 * message still fits, with TC set when the answer does not (RFC 8945 5.3). 0: none. */
	uint16_t reserve;
} srv_peer_t;

/* Response buffers must hold at least this many bytes. */
#define SRV_RESPONSE_MAX 65535

typedef struct srv_answer_ctx srv_answer_ctx_t;

/* Create a context for one worker; conf must outlive it. Control thread or worker start. */
int srv_answer_ctx_new(const srv_answer_conf_t *conf, srv_answer_ctx_t **out)
    SD_NONNULL(1, 2) SD_WUR;
void srv_answer_ctx_free(srv_answer_ctx_t *ctx);
srv_stats_t *srv_answer_stats(srv_answer_ctx_t *ctx) SD_NONNULL(1);

/* The steering snapshot and prober the next answers use (both may be NULL: steered RRsets
 * are then answered whole, as written). The front door sets them from the view for each
 * request; they must stay readable for as long as the answer runs (the caller's RCU
 * read-side section). Only the worker owning ctx. */
void srv_answer_set_steering(srv_answer_ctx_t *ctx, const steer_snap_t *snap,
                             const health_t *health) SD_NONNULL(1);

/* Whether ctx writes the pre-encoded negative and referral answers of a version (zone/version.h:
 * zone_image_t) when they apply; on by default. Off, every RR is written one by one: for the
 * tests that compare the two. Before the worker starts. */
void srv_answer_set_images(srv_answer_ctx_t *ctx, bool on) SD_NONNULL(1);

/* The worker index ctx counts steered answers under (its row of steering/counts.h); 0 by
 * default. Before the worker starts. */
void srv_answer_set_worker(srv_answer_ctx_t *ctx, unsigned worker) SD_NONNULL(1);

/* Start prefetching what answering the query in msg (len bytes, as received) will read: the
 * zone lookup of its question name (zone/version.h: zone_prefetch_t, steps taken by the
 * caller). False, with nothing fetched, when the message is not a plain QUERY with one
 * question whose name is uncompressed and lies in a zone of zones. A light parse of its own:
 * whatever it accepts or refuses, the query is then parsed and answered as always. Workers,
 * QSBR-online; allocation-free. */
bool srv_answer_prefetch(const zone_set_t *zones, const uint8_t *msg, size_t len,
                         zone_prefetch_t *p) SD_NONNULL(1, 2, 4);

/* Answer one parsed request (server/engine/query.h; q->msg is the message, q->tcp and the
 * size limit it implies are honoured, reserve bytes are kept back for a TSIG RR as
 * srv_peer_t.reserve). q may have failed to parse (q->len below a header): counted and
 * dropped. Returns the response length, 0 when nothing must be sent. AXFR/IXFR are REFUSED
 * here (the front door, server/front.h, routes them to server/xfr first); TSIG is not looked
 * at. This is what the front door (server/front.h) calls, with the request parsed once. */
size_t srv_answer_query(srv_answer_ctx_t *ctx, const zone_set_t *zones, const srv_query_t *q,
                        uint8_t *resp, size_t reserve) SD_NONNULL(1, 3, 4);

/* What the last srv_answer_query() on a context answered, for the response rate limiter
 * (server/rrl.h). The pointers point into the zone set that call was given: use them before
 * the caller's next quiescent state. */
typedef struct srv_answer_info {
	uint64_t seq;        /* srv_answer_query() calls on ctx so far: a caller that notes it
	                      * before srv_process() knows whether this info is the request's */
	unsigned rcode;      /* extended RCODE */
	uint16_t ancount;    /* records in the answer section */
	const uint8_t *zone; /* apex of the zone answered from; NULL: none (REFUSED, CH) */
	const uint8_t *cut;  /* a referral's delegation point (AA clear, NS in authority); NULL
	                      * otherwise */
} srv_answer_info_t;

/* The info of ctx's last answer. Owning worker only. */
void srv_answer_last(const srv_answer_ctx_t *ctx, srv_answer_info_t *out) SD_NONNULL(1, 2);

/* Parse req and answer it as srv_answer_query() does (for the unit tests and the fuzzer).
 * req is the message (for TCP without the length prefix); resp has
 * room for SRV_RESPONSE_MAX bytes. Returns the response length, or 0 when nothing must be
 * sent (no parseable header, or a response message). zones may be NULL (no zones: REFUSED).
 * Only the worker owning ctx may call it. */
size_t srv_answer(srv_answer_ctx_t *ctx, const zone_set_t *zones, const uint8_t *req,
                  size_t req_len, uint8_t *resp, const srv_peer_t *peer) SD_NONNULL(1, 3, 5, 6);
