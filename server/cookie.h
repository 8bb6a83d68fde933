/* cookie.h — DNS cookies (RFC 7873) with the interoperable server cookie of RFC 9018.
 *
 * A client cookie (8 bytes) in a request gets a server cookie (16 bytes) in the reply's OPT,
 * whatever the request: a query (server/engine/answer.c), a slipped reply (server/rrl.h), an
 * UPDATE (server/update.c, the decision carried with the handoff), every message of a
 * transfer and the front door's refusals (server/xfr/): always before the TSIG, which
 * covers it:
 *
 *   server cookie = Version 1 | Reserved 0 (3) | Timestamp (4, unix time, serial arithmetic)
 *                   | Hash = SipHash-2-4(client cookie | version | reserved | timestamp
 *                                        | client IP (4 or 16 bytes), 128-bit secret)
 *
 * A presented server cookie is valid when its hash matches with the current or the previous
 * secret and its timestamp is at most one hour old and at most five minutes ahead (RFC 9018
 * 4.3); a valid one younger than half an hour made with the current secret is echoed, any
 * other gets a fresh one. A client with a valid server cookie is exempt from rate limiting
 * (server/rrl.h). With `require`, a UDP query, UPDATE or IXFR carrying a client cookie but no
 * valid server cookie is answered BADCOOKIE (RFC 7873 5.2.3/5.2.4, extended RCODE 23) with
 * a fresh cookie, so the client retries with it; TCP and requests without a COOKIE option
 * are answered as usual (5.2.1). A malformed COOKIE option is a FORMERR (5.2.2, the parser's).
 *
 * Secrets: one immutable srv_cookie_secrets_t published through one RCU pointer
 * (srv_cookies_t), as server/view.h publishes the view: the control thread rotates (a new
 * current secret, the old one kept as previous) on a timer and on `steerctl cookie-rotate`;
 * the workers read the pointer while QSBR-online. Without a secret file the secret is
 * random, made at start; with one (a secret shared by an anycast set, RFC 9018 5) the file
 * is read at start and on each rotation (the operator replaces it; the one before stays
 * accepted).
 *
 * srv_cookie_make/srv_cookie_process are pure and allocate nothing (the query path).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "contrib/base/compiler.h"
#include "contrib/base/siphash.h"
#include "server/engine/query.h"

#define SRV_COOKIE_SECRET_LEN  SIPHASH_KEY_LEN
#define SRV_COOKIE_MAX_AGE     3600                  /* seconds: older server cookies are invalid */
#define SRV_COOKIE_MAX_AHEAD   300                   /* seconds: further in the future, invalid */
#define SRV_COOKIE_REISSUE_AGE 1800                  /* seconds: older valid ones are replaced */
#define SRV_COOKIE_ROTATE_DEF  (24u * 3600u * 1000u) /* ms: daily */

typedef enum {
	SRV_COOKIES_OFF = 0, /* the option is ignored (as an unknown one) */
	SRV_COOKIES_ON,      /* server cookies given and verified (the default) */
	SRV_COOKIES_REQUIRE, /* and BADCOOKIE over UDP without a valid one */
} srv_cookie_mode_t;

/* server.cookies (config.h). */
typedef struct srv_cookie_conf {
	srv_cookie_mode_t mode;
	uint64_t rotate_ms; /* secret rotation interval; 0: only on steerctl cookie-rotate */
	char *secret_file;  /* owned; NULL: a random secret */
} srv_cookie_conf_t;

/* The secrets the workers verify with; immutable once published. */
typedef struct srv_cookie_secrets {
	bool require; /* mode REQUIRE */
	bool has_previous;
	uint8_t current[SRV_COOKIE_SECRET_LEN];
	uint8_t previous[SRV_COOKIE_SECRET_LEN];
} srv_cookie_secrets_t;

/* The published secrets: one RCU pointer (zero-initialised: none, cookies off). */
typedef struct srv_cookies {
	srv_cookie_secrets_t *current;
	uint64_t rotations; /* control thread only */
} srv_cookies_t;

/* Counters a worker keeps (relaxed atomics, contrib/base/stat.h). */
typedef struct srv_cookie_stats {
	uint64_t client_only; /* a client cookie alone: a server cookie was given */
	uint64_t valid;       /* a valid server cookie */
	uint64_t invalid;     /* a server cookie that failed (forged, expired, old secret) */
	uint64_t badcookie;   /* answered BADCOOKIE (require) */
} srv_cookie_stats_t;

/* The RFC 9018 server cookie for client (the 8-byte client cookie) from addr at time now,
 * with secret, into out[16]. addr NULL: no address bytes (tests). */
void srv_cookie_make(const uint8_t secret[SRV_COOKIE_SECRET_LEN], const uint8_t client[8],
                     const struct sockaddr *addr, uint32_t now, uint8_t out[16])
    SD_NONNULL(1, 2, 5);

/* Decide a parsed request's cookie (q->has_cookie; nothing to do otherwise): set
 * q->cookie_valid, q->cookie_reply with q->cookie_server (the cookie to return) and, under
 * require over UDP without a valid one, q->cookie_badcookie; count into st. s NULL: off. */
void srv_cookie_process(const srv_cookie_secrets_t *s, srv_query_t *q, uint32_t now,
                        srv_cookie_stats_t *st) SD_NONNULL(2, 4);

/* Control thread: publish the first secrets for conf (read from its file, or random).
 * Returns 0 or a negative code (logged). Workers read with srv_cookies_current(). */
int srv_cookies_init(srv_cookies_t *c, const srv_cookie_conf_t *conf) SD_NONNULL(1, 2) SD_WUR;
/* Control thread, QSBR-offline: a new current secret (the file's again, or random), the
 * current one kept as previous; waits a grace period before freeing the old secrets. */
int srv_cookies_rotate(srv_cookies_t *c, const srv_cookie_conf_t *conf) SD_NONNULL(1, 2) SD_WUR;
/* Control thread, after the workers stopped. */
void srv_cookies_fini(srv_cookies_t *c) SD_NONNULL(1);
/* Workers, QSBR-online: the secrets (NULL: cookies off), valid until the next quiescent
 * state. */
const srv_cookie_secrets_t *srv_cookies_current(srv_cookies_t *c) SD_NONNULL(1);

/* Read a secret file: 32 hexadecimal digits (128 bits), blanks and a newline around them.
 * Returns 0, SD_EPARSE or a negative errno. */
int srv_cookie_read_secret(const char *path, uint8_t out[SRV_COOKIE_SECRET_LEN])
    SD_NONNULL(1, 2) SD_WUR;
