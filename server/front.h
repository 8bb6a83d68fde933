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
 *   UPDATE (opcode 5) ─ HANDOFF: the control thread replies (server/handoff.h,
 *                       server/update.h), signed with srv_signer_sign(req->signer)
 *   AXFR/IXFR ─ xfr_transfer() (server/xfr/serve.h): REPLY (refusal, IXFR over UDP) or
 *               STREAM (TCP: an xfr_out_t the caller drains)
 *   anything else ─ srv_answer_query() within the size limit less the TSIG RR ─ REPLY
 *
 * Only a transfer allocates; everything else takes no lock and allocates nothing (the
 * allocation tests in tests/unit/server check it, the UDP batch included).
 *
 * Who calls: server/udp.c (a worker's UDP batch), server/worker.c (TCP), tests and
 * tests/fuzz/fuzz_xfr.c; server/update.c and server/udp.c (a rate-limited slip) call
 * srv_signer_sign().
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
	                       * with req->signer; it signs its reply with srv_signer_sign() */
} srv_process_t;

/* What the reply to a request answered on another thread (HANDOFF) needs from the front
 * door: the TSIG state (the verified context with its own copy of the key, so the reply can
 * be signed after the view that held the key is gone) and the DNS cookie decided with the
 * worker's secrets (server/cookie.h). Plain data: copy it with the request. */
typedef struct srv_signer {
	bool active; /* the request was signed and verified: sign the reply */
	tsig_key_t key;
	tsig_ctx_t ctx;
	/* cookie: the reply's COOKIE option carries the request's client cookie and
	 * cookie_server (RFC 7873 5.2); cookie_bad: answer BADCOOKIE (require, over UDP) */
	bool cookie, cookie_bad;
	uint8_t cookie_server[16];
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
	srv_query_t q;  /* the parsed request */
	size_t len;     /* REPLY: the reply's length in buf; 0 otherwise */
	xfr_out_t *xfr; /* STREAM: the started transfer; NULL otherwise */
	/* The TSIG state before any reply was signed (active: the request was signed and is
	 * a HANDOFF, or came over UDP: server/udp.c signs a rate-limited slip again). */
	srv_signer_t signer;
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

/* Room a reply signed by signer needs for the TSIG RR (0 when it is not active). */
size_t srv_signer_reserve(const srv_signer_t *signer) SD_NONNULL(1);
/* Sign the reply buf[0..*len) to a handed-off request, on the thread that answers it, when
 * signer is active (RFC 8945 5.3: the request's MAC goes into the reply's); nothing to do
 * otherwise. The signer was copied since srv_process(): its key pointer is rebased to its
 * own copy of the key first. Returns 0 or tsig_sign's error (nothing usable in buf). */
int srv_signer_sign(srv_signer_t *signer, uint8_t *buf, size_t *len, size_t cap, time_t now)
    SD_NONNULL(1, 2, 3) SD_WUR;
