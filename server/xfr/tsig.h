/* tsig.h — TSIG, secret key transaction authentication (RFC 8945), on raw wire bytes.
 *
 * A transaction is a request and its response messages. A tsig_ctx_t carries what links them:
 * the key, the last MAC (the request MAC for the first response, then the prior message's MAC)
 * and how many messages have been processed in the current direction.
 *
 *   server:  tsig_verify_request()  ->  tsig_sign() for each response message
 *   client:  tsig_sign_request()    ->  tsig_verify_response() for each response message
 *
 * Digest of a request or of the first response (RFC 8945 4.3.3):
 *     [request MAC size, request MAC]  (responses only)
 *     message without its TSIG RR, ARCOUNT - 1, ID = the TSIG Original ID
 *     TSIG variables: key name, class ANY, TTL 0, algorithm name, time signed, fudge, error,
 *                     other len, other data
 * Each later message of a multi-message response (RFC 8945 5.3.1):
 *     [prior MAC size, prior MAC] message  [time signed, fudge]
 * This module signs every message; on receive it requires every message to be signed (the
 * RFC allows up to 99 unsigned ones in between; no peer we pull from needs that yet).
 *
 * Errors (RFC 8945 5.2, 5.3.2): the checks run key -> MAC -> time. BADKEY and BADSIG responses
 * carry an unsigned TSIG (MAC size 0); BADTIME responses are signed and carry the server time
 * in other data. The response RCODE for all of them is NOTAUTH (9).
 *
 * Nothing here allocates except OpenSSL's per-message HMAC context (EVP_MAC_CTX); the
 * implementation is fetched once per process. Keys are immutable once initialised and
 * may be shared by threads; a tsig_ctx_t belongs to one transaction on one thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "contrib/base/compiler.h"
#include "dns/name.h"
#include "dns/proto.h"
#include "dns/rr.h"

#define TSIG_MAC_MAX       64  /* HMAC-SHA512 */
#define TSIG_SECRET_MAX    512 /* bytes of decoded secret */
#define TSIG_FUDGE_DEFAULT 300 /* seconds (RFC 8945 10: 300 recommended) */
/* Room a response must leave for tsig_sign(): owner + fixed fields + algorithm + MAC +
 * other data. */
#define TSIG_RR_MAX (DNAME_MAX + 10 + DNAME_MAX + 16 + TSIG_MAC_MAX + 6)

typedef enum {
	TSIG_HMAC_SHA1 = 0,
	TSIG_HMAC_SHA224,
	TSIG_HMAC_SHA256,
	TSIG_HMAC_SHA384,
	TSIG_HMAC_SHA512,
} tsig_alg_t;

/* TSIG error codes (RFC 8945 3, the TSIG Error field). */
enum {
	TSIG_ERR_NONE = 0,
	TSIG_ERR_BADSIG = 16,
	TSIG_ERR_BADKEY = 17,
	TSIG_ERR_BADTIME = 18,
	TSIG_ERR_BADTRUNC = 22,
};

typedef struct tsig_key {
	uint8_t name[DNAME_MAX]; /* lowercased wire form */
	tsig_alg_t alg;
	size_t secret_len;
	uint8_t secret[TSIG_SECRET_MAX];
} tsig_key_t;

typedef struct tsig_ctx {
	const tsig_key_t *key; /* NULL when the request named an unknown key */
	uint16_t error;        /* TSIG_ERR_* for the response */
	uint16_t fudge;        /* fudge the request used (echoed), or ours */
	uint64_t time_signed;  /* of the last verified message */
	unsigned messages;     /* messages signed or verified in the current direction */
	uint16_t mac_len;
	uint8_t mac[TSIG_MAC_MAX]; /* request MAC or prior MAC; empty before any */
	/* Key and algorithm names exactly as the request gave them, echoed in error responses
	 * when the key is unknown (lowercased wire). */
	uint8_t req_key[DNAME_MAX];
	uint8_t req_alg[DNAME_MAX];
	size_t tsig_off; /* where the TSIG RR of the last verified message starts */
} tsig_ctx_t;

/* Parse "hmac-sha256" etc. (also accepts the wire-style "hmac-sha256." and "hmac-sha1").
 * Returns 0 or SD_EPARSE. */
int tsig_alg_parse(const char *text, tsig_alg_t *out) SD_NONNULL(1, 2) SD_WUR;
const char *tsig_alg_name(tsig_alg_t alg);
/* Length of the algorithm's full MAC. */
size_t tsig_alg_mac_len(tsig_alg_t alg);

/* Fill key from a presentation name, an algorithm name and a base64 secret (RFC 4648; spaces
 * and newlines ignored). Returns 0, SD_EPARSE (bad name, algorithm or base64, empty secret)
 * or SD_ELIMIT (secret longer than TSIG_SECRET_MAX). Any thread. */
int tsig_key_init(tsig_key_t *key, const char *name, const char *alg, const char *secret_b64)
    SD_NONNULL(1, 2, 3, 4) SD_WUR;

/* Start a client transaction with key (no MAC yet). */
void tsig_ctx_init(tsig_ctx_t *ctx, const tsig_key_t *key) SD_NONNULL(1, 2);

/* Upper bound of the TSIG RR tsig_sign() appends for ctx (after tsig_verify_request): owner,
 * fixed fields, algorithm, time/fudge/MAC size, the full MAC, original ID, error, other
 * length and 6 bytes of other data (BADTIME). A response limited to 512 or the EDNS size
 * must keep this much back (RFC 8945 5.3; RFC 6891 7: the TSIG RR counts in the size). */
size_t tsig_rr_len(const tsig_ctx_t *ctx) SD_NONNULL(1);

/* Server: find and check the TSIG of a request msg[0..len) against keys[0..nkeys).
 * Returns
 *   0             signed and valid; ctx is ready for tsig_sign() of the response;
 *   SD_ENOTFOUND  no TSIG RR (an unsigned request; ctx->key is NULL);
 *   SD_EPARSE     malformed (TSIG not last or not alone, bad RDATA, MAC size above the
 *                 algorithm's output or below the RFC 8945 5.2.2.1 minimum): FORMERR;
 *   SD_ETSIG      ctx->error is BADKEY, BADSIG or BADTIME: answer NOTAUTH and sign with
 *                 tsig_sign(), which applies the RFC's MAC rule for that error.
 * ctx->tsig_off tells where the TSIG RR starts (the request without it is msg[0..tsig_off)
 * with ARCOUNT one lower). now is the server's clock (seconds). Any thread; no allocation. */
int tsig_verify_request(tsig_ctx_t *ctx, const tsig_key_t *const *keys, size_t nkeys,
                        const uint8_t *msg, size_t len, time_t now) SD_NONNULL(1, 4) SD_WUR;

/* Server: tsig_verify_request() for a request whose TSIG RR the caller has already framed
 * (the request parser, server/engine/query.h, records it): at must be the message's last
 * record and the only TSIG (RFC 8945 5.1), which the caller checked. Same returns, without a
 * second walk over the message. */
int tsig_verify_request_at(tsig_ctx_t *ctx, const tsig_key_t *const *keys, size_t nkeys,
                           const uint8_t *msg, size_t len, const dns_rr_t *at, time_t now)
    SD_NONNULL(1, 4, 6) SD_WUR;

/* Append a TSIG RR to the message msg[0..*len) (a response after tsig_verify_request(), the
 * first or a later message of a transfer) and increment ARCOUNT; *len grows, cap is the
 * buffer size. Returns 0, SD_ESPACE (it does not fit; the message is unchanged) or SD_EPARSE
 * (msg shorter than a header). */
int tsig_sign(tsig_ctx_t *ctx, uint8_t *msg, size_t *len, size_t cap, time_t now)
    SD_NONNULL(1, 2, 3) SD_WUR;

/* Client: sign a request with ctx->key (after tsig_ctx_init()); the MAC is kept in ctx for
 * verifying the responses. Same returns as tsig_sign(). */
int tsig_sign_request(tsig_ctx_t *ctx, uint8_t *msg, size_t *len, size_t cap, time_t now)
    SD_NONNULL(1, 2, 3) SD_WUR;

/* Client: verify one response message to the request signed with tsig_sign_request(); call
 * for each message of a multi-message response in order. Returns 0, SD_ENOTFOUND (unsigned),
 * SD_EPARSE, or SD_ETSIG with ctx->error set (the peer's TSIG error, or ours: BADKEY for a
 * different key, BADSIG, BADTIME). */
int tsig_verify_response(tsig_ctx_t *ctx, const uint8_t *msg, size_t len, time_t now)
    SD_NONNULL(1, 2) SD_WUR;
