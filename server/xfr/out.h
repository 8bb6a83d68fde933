/* out.h — outgoing zone transfers: AXFR (RFC 5936) and IXFR (RFC 1995) response messages.
 *
 * A transfer is an iterator: xfr_out_new() decides what the reply is and takes references
 * (the zone version, the IXFR history snapshot), then each xfr_out_next() writes the next
 * response message into the caller's buffer, as many RRs as fit in one message, signed with
 * TSIG when the request was (RFC 8945 5.3.1: every message). A TCP connection calls next()
 * each time its previous write completed, so the zone is never in memory twice and a long
 * transfer keeps its version alive while newer versions are published.
 *
 *   AXFR                  SOA, every other RR of the version, SOA     (question in message 1)
 *   IXFR, client current  SOA                                          (RFC 1995 2, one RR)
 *   IXFR, serial known    SOA(cur), old SOA, removed, new SOA, added, SOA(cur)
 *                         (several steps condensed into one, RFC 1995 5)
 *   IXFR, serial unknown  AXFR-style reply inside the IXFR response    (RFC 1995 4)
 *   IXFR over UDP         the whole reply if it fits one message, else SOA(cur) only (RFC 1995 2)
 *
 * Memory: the iterator is one allocation; a condensed IXFR adds one allocation sized by the
 * history it spans. Nothing is allocated by next(). One thread at a time per iterator; the
 * references it holds may be released from any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "contrib/base/compiler.h"
#include "zone/history.h"
#include "server/xfr/tsig.h"
#include "dns/name.h"
#include "server/engine/query.h"
#include "zone/version.h"

/* A parsed transfer (or any) query, pointing into the request bytes. */
typedef struct xfr_request {
	uint16_t id;
	uint16_t flags; /* the request's second header word */
	uint16_t qtype, qclass;
	const uint8_t *question; /* raw question bytes (name as sent, type, class) */
	size_t question_len;
	uint8_t qname[DNAME_MAX]; /* lowercased */
	bool has_serial;          /* IXFR: the authority section carried the client's SOA */
	uint32_t serial;
	bool edns; /* an OPT RR was present */
	uint16_t edns_payload;
	bool edns_do; /* its DO bit, echoed in our OPT (RFC 3225 3) */
	/* The COOKIE option our OPT carries (RFC 7873 5.2: the request had one and the front
	 * door decided the server cookie, server/cookie.h): client cookie 8 + server cookie 16,
	 * the same in every message of the transfer. */
	bool has_cookie;
	uint8_t cookie[24];
} xfr_request_t;

/* The transfer view of a parsed request (server/engine/query.h; q->msg must outlive out):
 * Returns 0 or SD_EPARSE: a response, QDCOUNT != 1, ANCOUNT != 0, a malformed message (as
 * the parser flags it: bad records, trailing bytes, additional records other than OPT and
 * TSIG), an IXFR without exactly one SOA in authority (RFC 1995 3). */
int xfr_request_from_query(const srv_query_t *q, xfr_request_t *out) SD_NONNULL(1, 2) SD_WUR;

/* srv_query_parse() then xfr_request_from_query(), for tests. */
int xfr_request_parse(const uint8_t *msg, size_t len, xfr_request_t *out) SD_NONNULL(1, 3) SD_WUR;

typedef enum {
	XFR_OUT_AXFR = 0,     /* AXFR */
	XFR_OUT_IXFR,         /* incremental, from the history */
	XFR_OUT_IXFR_AXFR,    /* IXFR answered with the full zone */
	XFR_OUT_IXFR_CURRENT, /* IXFR from a client that is current: one SOA */
	XFR_OUT_IXFR_UDP_SOA, /* IXFR over UDP that did not fit: one SOA */
} xfr_out_kind_t;

const char *xfr_out_kind_name(xfr_out_kind_t kind);

typedef struct xfr_out_params {
	const xfr_request_t *req;      /* qtype AXFR or IXFR; the caller checked the zone/ACL */
	const zone_version_t *version; /* the served version (caller in RCU read side) */
	const zone_history_t *history; /* NULL: no IXFR history (IXFR answered AXFR-style) */
	const tsig_ctx_t *tsig;        /* the verified request's context, or NULL (unsigned) */
	bool udp;                      /* IXFR over UDP: one message of at most udp_max bytes */
	size_t udp_max;
	uint16_t edns_payload; /* our payload size echoed in OPT when req->edns */
} xfr_out_params_t;

typedef struct xfr_out xfr_out_t;

/* Prepare a transfer. Caller inside an RCU read-side section; the iterator keeps its own
 * references. SD_EREFUSED for AXFR over UDP (RFC 5936 4.2: TCP only), SD_EPARSE for a
 * request that is not AXFR/IXFR, -ENOMEM. */
int xfr_out_new(const xfr_out_params_t *p, xfr_out_t **out) SD_NONNULL(1, 2) SD_WUR;

/* Write the next message into buf (cap bytes; at most 65535 are used) and set *len. Returns 0,
 * or SD_ESPACE when one RR cannot fit an empty message, SD_EPARSE on corrupt data, or a TSIG
 * error; after an error the transfer must be abandoned. now is the clock for TSIG. */
int xfr_out_next(xfr_out_t *x, uint8_t *buf, size_t cap, time_t now, size_t *len)
    SD_NONNULL(1, 2, 5) SD_WUR;

/* True once the last message has been written. */
bool xfr_out_done(const xfr_out_t *x) SD_NONNULL(1);
xfr_out_kind_t xfr_out_kind(const xfr_out_t *x) SD_NONNULL(1);
/* Serial being transferred (the version's) and, for IXFR, the client's. */
uint32_t xfr_out_serial(const xfr_out_t *x) SD_NONNULL(1);
/* An IXFR's client serial (the SOA of the request's authority section, RFC 1995 3): true and
 * *serial set, false for an AXFR. */
bool xfr_out_client_serial(const xfr_out_t *x, uint32_t *serial) SD_NONNULL(1, 2);
/* Apex of the zone being transferred (lowercased wire). */
const uint8_t *xfr_out_apex(const xfr_out_t *x) SD_NONNULL(1);
/* Messages and RRs written so far. */
unsigned xfr_out_messages(const xfr_out_t *x) SD_NONNULL(1);
uint64_t xfr_out_rrs(const xfr_out_t *x) SD_NONNULL(1);

/* Release the references and the iterator. Any thread. */
void xfr_out_free(xfr_out_t *x);
