/* front.h — the front door of the query path: every request a worker receives, parsed once,
 * to one outcome.
 *
 * A worker loads the published view once per I/O callback (server/view.h), fills a
 * srv_request_t (the message, who sent it and how, the time, where the reply goes) and calls
 * srv_process(), the one dispatcher. TSIG verification and signing wrap the whole exchange
 * here, for every opcode:
 *
 *   srv_query_parse (server/engine/query.h): no header ─ DROP (counted by the engine)
 *   QR set ─ DROP (the engine counts it)
 *   COOKIE (RFC 7873, server/cookie.h, when req->cookies) ─ the reply's server cookie
 *          decided; a valid one marks q->cookie_valid; under require, BADCOOKIE over UDP
 *   TSIG (last RR) ─ verify (RFC 8945 5.2) ─ bad: NOTAUTH + TSIG error (BADKEY/BADSIG/BADTIME)
 *                                         └ good: the reply is signed
 *   UPDATE (opcode 5) ─ HANDOFF: the control thread replies (server/handoff.h) with
 *                       srv_process_handoff_reply(), signed with req->signer
 *   AXFR/IXFR ─ xfr_transfer() (server/xfr/serve.h): REPLY (refusal, IXFR over UDP) or
 *               STREAM (TCP: an xfr_out_t the caller drains)
 *   anything else ─ srv_answer_query() within the size limit less the TSIG RR ─ REPLY
 *
 * Only a transfer allocates; everything else takes no lock and allocates nothing (the
 * allocation tests in tests/unit/server check it, the UDP batch included).
 *
 * Who calls: server/udp.c (a worker's UDP batch), server/worker.c (TCP), tests and
 * tests/fuzz/fuzz_xfr.c; server/handoff.c calls srv_process_handoff_reply().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "contrib/base/compiler.h"
#include "server/cookie.h"
#include "server/engine/answer.h"
#include "server/engine/query.h"
#include "server/view.h"
#include "server/xfr/out.h"
#include "server/xfr/serve.h"
#include "server/xfr/tsig.h"

typedef enum {
	SRV_PROCESS_DROP = 0, /* nothing to send */
	SRV_PROCESS_REPLY,    /* req->buf[0..req->len) is the reply */
	SRV_PROCESS_STREAM,   /* TCP transfer started: write xfr_out_next() messages of
	                       * req->xfr, then xfr_out_free() it */
	SRV_PROCESS_HANDOFF,  /* an UPDATE (RFC 2136): hand the request to the control thread
	                       * with req->signer; it replies with srv_process_handoff_reply() */
} srv_process_t;

/* The TSIG state of a request answered on another thread (HANDOFF): the verified context
 * with its own copy of the key, so the reply can be signed after the view that held the key
 * is gone. Plain data: copy it with the request. */
typedef struct srv_signer {
	bool active; /* the request was signed and verified: sign the reply */
	tsig_key_t key;
	tsig_ctx_t ctx;
} srv_signer_t;

/* One request and its outcome. The caller sets the inputs; srv_process() parses msg into q
 * (which points into msg: it must outlive the request) and sets the outputs. A worker keeps
 * one and reuses it for every request (it is large: the signer holds a key). */
typedef struct srv_request {
	/* in */
	const uint8_t *msg;
	size_t msg_len;
	const struct sockaddr *client; /* may be NULL in tests */
	bool tcp;
	time_t now;
	uint8_t *buf; /* the reply; cap at least SRV_RESPONSE_MAX (+ TSIG_RR_MAX for TCP) */
	size_t cap;
	const srv_cookie_secrets_t *cookies; /* DNS cookies (server/cookie.h); NULL: off */
	/* out */
	srv_query_t q;       /* the parsed request */
	size_t len;          /* REPLY: the reply's length in buf; 0 otherwise */
	xfr_out_t *xfr;      /* STREAM: the started transfer; NULL otherwise */
	srv_signer_t signer; /* HANDOFF: the TSIG state (only then; not touched otherwise) */
} srv_request_t;

/* Counters a worker keeps (only its thread writes them, with relaxed atomics: readers use
 * sd_stat_get, contrib/base/stat.h). */
typedef struct srv_front_stats {
	uint64_t tsig_ok, tsig_bad;
	xfr_stats_t xfr;
	srv_cookie_stats_t cookies;
} srv_front_stats_t;

/* Handle one request (see above) with the worker's answer context and counters. view may be
 * NULL (nothing published: no zone, REFUSED; no keys). Worker thread, QSBR-online, view
 * loaded by this thread since its last quiescent state. */
srv_process_t srv_process(const srv_view_t *view, srv_answer_ctx_t *actx, srv_front_stats_t *st,
                          srv_request_t *req) SD_NONNULL(2, 3, 4) SD_WUR;

/* The reply to a handed-off request msg[0..len) (tcp: its transport), on the thread that
 * handles it: until RFC 2136 is implemented (issue 8) the engine's answer, NOTIMP with the
 * question and OPT echoed; signed (and its size limit lowered for the TSIG RR) when signer
 * is active. Returns the reply length or 0. Uses actx (that thread's answer context). */
size_t srv_process_handoff_reply(srv_answer_ctx_t *actx, const uint8_t *msg, size_t len, bool tcp,
                                 srv_signer_t *signer, time_t now, uint8_t *buf, size_t cap)
    SD_NONNULL(1, 2, 5, 7) SD_WUR;
