/* tsig.c — RFC 8945 TSIG over raw wire bytes, HMAC by OpenSSL 3 EVP_MAC. */
#include "server/xfr/tsig.h"
#include "contrib/base/bytes.h"

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "contrib/base/err.h"
#include "dns/msg.h"
#include "dns/rr.h"

#define OTHER_TIME   6 /* BADTIME other data: 48-bit server time */
#define MAC_MIN_OCTS 10

typedef struct alg_info {
	const char *name;    /* presentation, as in configs */
	const uint8_t *wire; /* canonical wire form of the algorithm name */
	uint8_t wire_len;
	const char *digest; /* OpenSSL digest name */
	uint8_t mac_len;
} alg_info_t;

static const uint8_t w_sha1[] = "\x09hmac-sha1";
static const uint8_t w_sha224[] = "\x0bhmac-sha224";
static const uint8_t w_sha256[] = "\x0bhmac-sha256";
static const uint8_t w_sha384[] = "\x0bhmac-sha384";
static const uint8_t w_sha512[] = "\x0bhmac-sha512";

/* RFC 8945 6: the algorithm names; sizeof includes the terminating root label. */
static const alg_info_t algs[] = {
    [TSIG_HMAC_SHA1] = {"hmac-sha1", w_sha1, sizeof(w_sha1), "SHA1", 20},
    [TSIG_HMAC_SHA224] = {"hmac-sha224", w_sha224, sizeof(w_sha224), "SHA224", 28},
    [TSIG_HMAC_SHA256] = {"hmac-sha256", w_sha256, sizeof(w_sha256), "SHA256", 32},
    [TSIG_HMAC_SHA384] = {"hmac-sha384", w_sha384, sizeof(w_sha384), "SHA384", 48},
    [TSIG_HMAC_SHA512] = {"hmac-sha512", w_sha512, sizeof(w_sha512), "SHA512", 64},
};

/* A parsed TSIG RR; pointers into the message. */
typedef struct tsig_rr {
	size_t off; /* start of the RR (its owner name) */
	uint8_t owner[DNAME_MAX];
	uint8_t alg[DNAME_MAX];
	uint64_t time_signed;
	uint16_t fudge;
	uint16_t mac_size;
	const uint8_t *mac;
	uint16_t orig_id;
	uint16_t error;
	uint16_t other_len;
	const uint8_t *other;
} tsig_rr_t;

/* --- small wire helpers --- */

static uint8_t *wr48(uint8_t *p, uint64_t v)
{
	return be32_put(be16_put(p, (uint16_t)(v >> 32)), (uint32_t)v);
}

static uint64_t rd48(const uint8_t *p)
{
	return (uint64_t)be16_get(p) << 32 | (uint64_t)be16_get(p + 2) << 16 | be16_get(p + 4);
}

/* Parse the TSIG RDATA in msg[pos..end). */
static int parse_tsig_rdata(const uint8_t *msg, size_t len, size_t pos, size_t end, tsig_rr_t *rr)
{
	if (dname_parse(msg, end, &pos, rr->alg) < 0)
		return SD_EPARSE;
	dname_lower(rr->alg);
	if (pos + 10 > end)
		return SD_EPARSE;
	rr->time_signed = rd48(msg + pos);
	rr->fudge = be16_get(msg + pos + 6);
	rr->mac_size = be16_get(msg + pos + 8);
	pos += 10;
	if (pos + rr->mac_size + 6 > end)
		return SD_EPARSE;
	rr->mac = msg + pos;
	pos += rr->mac_size;
	rr->orig_id = be16_get(msg + pos);
	rr->error = be16_get(msg + pos + 2);
	rr->other_len = be16_get(msg + pos + 4);
	pos += 6;
	rr->other = msg + pos;
	if (pos + rr->other_len != end)
		return SD_EPARSE;
	(void)len;
	return 0;
}

/* Decode the TSIG RR framed by at (type TSIG, the message's last record): owner, class ANY,
 * RDATA that ends the message. */
static int decode_tsig(const uint8_t *msg, size_t len, const dns_rr_t *at, tsig_rr_t *rr)
{
	size_t p = at->owner;
	if (at->type != DNS_TYPE_TSIG || dname_parse(msg, len, &p, rr->owner) < 0)
		return SD_EPARSE;
	dname_lower(rr->owner);
	if (at->rclass != DNS_CLASS_ANY || dns_rr_end(at) != len)
		return SD_EPARSE;
	rr->off = at->owner;
	return parse_tsig_rdata(msg, len, at->rdata, dns_rr_end(at), rr);
}

/* Find the TSIG RR: it must be the last RR of the additional section and the only TSIG
 * (RFC 8945 5.1), and end the message. SD_ENOTFOUND when the message carries none. */
static int find_tsig(const uint8_t *msg, size_t len, tsig_rr_t *rr)
{
	dns_rr_iter_t it;
	dns_rr_t cur, last = {.type = 0};
	if (dns_rr_iter_init(&it, msg, len) < 0)
		return SD_EPARSE;
	int rc;
	while ((rc = dns_rr_iter_next(&it, &cur)) == 0) {
		if (cur.section == DNS_SEC_QD)
			continue;
		if (last.type == DNS_TYPE_TSIG)
			return SD_EPARSE; /* a TSIG that is not last */
		last = cur;
	}
	if (rc != SD_ENOTFOUND)
		return SD_EPARSE;
	if (last.type != DNS_TYPE_TSIG)
		return SD_ENOTFOUND;
	if (last.section != DNS_SEC_AR)
		return SD_EPARSE; /* a TSIG outside the additional section */
	return decode_tsig(msg, len, &last, rr);
}

/* --- HMAC --- */

static EVP_MAC *hmac_impl;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_fetch(void)
{
	hmac_impl = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static EVP_MAC_CTX *hmac_start(const tsig_key_t *key)
{
	pthread_once(&hmac_once, hmac_fetch);
	if (!hmac_impl)
		return NULL;
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(hmac_impl);
	if (!c)
		return NULL;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)algs[key->alg].digest,
	                                     0),
	    OSSL_PARAM_construct_end(),
	};
	if (!EVP_MAC_init(c, key->secret, key->secret_len, params)) {
		EVP_MAC_CTX_free(c);
		return NULL;
	}
	return c;
}

static void hmac_put(EVP_MAC_CTX *c, const void *data, size_t len)
{
	/* Failure is detected at EVP_MAC_final(): an update that failed leaves the context in
	 * an error state in which final fails too. */
	(void)EVP_MAC_update(c, data, len);
}

static void hmac_put_mac(EVP_MAC_CTX *c, const uint8_t *mac, uint16_t mac_len)
{
	uint8_t l[2];
	be16_put(l, mac_len);
	hmac_put(c, l, 2);
	hmac_put(c, mac, mac_len);
}

/* The message as signed: ID replaced by the original ID, ARCOUNT without the TSIG RR. */
static void hmac_put_msg(EVP_MAC_CTX *c, const uint8_t *msg, size_t body_end, uint16_t id,
                         uint16_t arcount)
{
	uint8_t hdr[DNS_HEADER_LEN];
	memcpy(hdr, msg, DNS_HEADER_LEN);
	be16_put(hdr, id);
	be16_put(hdr + 10, arcount);
	hmac_put(c, hdr, DNS_HEADER_LEN);
	hmac_put(c, msg + DNS_HEADER_LEN, body_end - DNS_HEADER_LEN);
}

/* What goes into one digest besides the message. */
typedef struct digest_in {
	const uint8_t *prior_mac; /* request MAC or prior MAC; NULL for a request */
	uint16_t prior_len;
	bool full; /* all TSIG variables (else timers only, RFC 8945 5.3.1) */
	const uint8_t *key_name;
	const uint8_t *alg_name;
	uint64_t time_signed;
	uint16_t fudge;
	uint16_t error;
	uint16_t other_len;
	const uint8_t *other;
} digest_in_t;

static void hmac_put_vars(EVP_MAC_CTX *c, const digest_in_t *in)
{
	uint8_t buf[16], *p;
	if (in->full) {
		hmac_put(c, in->key_name, dname_len(in->key_name));
		p = be32_put(be16_put(buf, DNS_CLASS_ANY), 0);
		hmac_put(c, buf, (size_t)(p - buf));
		hmac_put(c, in->alg_name, dname_len(in->alg_name));
	}
	p = be16_put(wr48(buf, in->time_signed), in->fudge);
	if (in->full)
		p = be16_put(be16_put(p, in->error), in->other_len);
	hmac_put(c, buf, (size_t)(p - buf));
	if (in->full && in->other_len)
		hmac_put(c, in->other, in->other_len);
}

/* MAC of msg[0..body_end) (without TSIG) under key; out gets the full-length MAC. */
static int compute_mac(const tsig_key_t *key, const digest_in_t *in, const uint8_t *msg,
                       size_t body_end, uint16_t id, uint16_t arcount, uint8_t out[TSIG_MAC_MAX])
{
	EVP_MAC_CTX *c = hmac_start(key);
	if (!c)
		return -ENOMEM;
	if (in->prior_mac)
		hmac_put_mac(c, in->prior_mac, in->prior_len);
	hmac_put_msg(c, msg, body_end, id, arcount);
	hmac_put_vars(c, in);
	size_t got = 0;
	int ok = EVP_MAC_final(c, out, &got, TSIG_MAC_MAX);
	EVP_MAC_CTX_free(c);
	return ok && got == algs[key->alg].mac_len ? 0 : SD_EPROTO;
}

/* --- keys --- */

static int alg_from_wire(const uint8_t *wire, tsig_alg_t *out)
{
	for (size_t i = 0; i < SD_ARRAY_LEN(algs); i++) {
		if (dname_equal(wire, algs[i].wire)) {
			*out = (tsig_alg_t)i;
			return 0;
		}
	}
	return SD_ENOTFOUND;
}

int tsig_alg_parse(const char *text, tsig_alg_t *out)
{
	size_t n = strlen(text);
	if (n > 0 && text[n - 1] == '.')
		n--;
	for (size_t i = 0; i < SD_ARRAY_LEN(algs); i++) {
		if (strlen(algs[i].name) == n && strncasecmp(text, algs[i].name, n) == 0) {
			*out = (tsig_alg_t)i;
			return 0;
		}
	}
	return SD_EPARSE;
}

const char *tsig_alg_name(tsig_alg_t alg)
{
	return (unsigned)alg < SD_ARRAY_LEN(algs) ? algs[alg].name : "unknown";
}

size_t tsig_alg_mac_len(tsig_alg_t alg)
{
	return (unsigned)alg < SD_ARRAY_LEN(algs) ? algs[alg].mac_len : 0;
}

static int b64_decode(const char *text, uint8_t *out, size_t cap, size_t *out_len)
{
	char clean[(TSIG_SECRET_MAX / 3 + 2) * 4 + 1];
	size_t n = 0;
	for (const char *p = text; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			continue;
		if (n + 1 >= sizeof(clean))
			return SD_ELIMIT;
		clean[n++] = *p;
	}
	if (n == 0 || n % 4 != 0)
		return SD_EPARSE;
	uint8_t buf[sizeof(clean) / 4 * 3];
	int got = EVP_DecodeBlock(buf, (const unsigned char *)clean, (int)n);
	if (got < 0)
		return SD_EPARSE;
	/* EVP_DecodeBlock counts padding as zero bytes: drop one per '='. */
	size_t len = (size_t)got - (clean[n - 1] == '=') - (clean[n - 2] == '=');
	/* Padding only at the end: "x===" or "xy=z" are not base64. */
	if (memchr(clean, '=', n - 2) || (clean[n - 2] == '=' && clean[n - 1] != '='))
		return SD_EPARSE;
	if (len > cap)
		return SD_ELIMIT;
	memcpy(out, buf, len);
	OPENSSL_cleanse(buf, sizeof(buf));
	*out_len = len;
	return 0;
}

int tsig_key_init(tsig_key_t *key, const char *name, const char *alg, const char *secret_b64)
{
	memset(key, 0, sizeof(*key));
	if (dname_from_str(name, NULL, key->name) < 0 || tsig_alg_parse(alg, &key->alg) < 0)
		return SD_EPARSE;
	int rc = b64_decode(secret_b64, key->secret, sizeof(key->secret), &key->secret_len);
	if (rc < 0)
		return rc;
	return key->secret_len > 0 ? 0 : SD_EPARSE;
}

void tsig_ctx_init(tsig_ctx_t *ctx, const tsig_key_t *key)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->key = key;
	ctx->fudge = TSIG_FUDGE_DEFAULT;
	memcpy(ctx->req_key, key->name, dname_len(key->name));
	memcpy(ctx->req_alg, algs[key->alg].wire, algs[key->alg].wire_len);
}

/* --- verification --- */

/* RFC 8945 5.2.2.1: a MAC longer than the algorithm's output, or shorter than the larger of
 * 10 octets and half the output, is malformed (FORMERR). */
static bool mac_size_ok(tsig_alg_t alg, uint16_t size)
{
	size_t full = algs[alg].mac_len, min = full / 2 > MAC_MIN_OCTS ? full / 2 : MAC_MIN_OCTS;
	return size <= full && size >= min;
}

static bool time_ok(uint64_t signed_at, uint16_t fudge, time_t now)
{
	uint64_t n = (uint64_t)now;
	uint64_t skew = n > signed_at ? n - signed_at : signed_at - n;
	return skew <= fudge;
}

static const tsig_key_t *key_find(const tsig_key_t *const *keys, size_t nkeys, const tsig_rr_t *rr)
{
	tsig_alg_t alg;
	if (alg_from_wire(rr->alg, &alg) < 0)
		return NULL; /* unknown algorithm: BADKEY (RFC 8945 5.2.1) */
	for (size_t i = 0; keys && i < nkeys; i++) {
		if (keys[i] && keys[i]->alg == alg && dname_equal(keys[i]->name, rr->owner))
			return keys[i];
	}
	return NULL;
}

/* Check rr's MAC over msg with key and the digest shape in `in` (whose variables come from
 * rr). Returns 0, SD_EPARSE (bad MAC size) or SD_ETSIG (mismatch). */
static int check_mac(const tsig_key_t *key, digest_in_t *in, const uint8_t *msg,
                     const tsig_rr_t *rr)
{
	if (!mac_size_ok(key->alg, rr->mac_size))
		return SD_EPARSE;
	in->key_name = rr->owner;
	in->alg_name = rr->alg;
	in->time_signed = rr->time_signed;
	in->fudge = rr->fudge;
	in->error = rr->error;
	in->other_len = rr->other_len;
	in->other = rr->other;
	uint8_t mac[TSIG_MAC_MAX];
	int rc = compute_mac(key, in, msg, rr->off, rr->orig_id, (uint16_t)(be16_get(msg + 10) - 1),
	                     mac);
	if (rc < 0)
		return rc;
	/* A truncated MAC (allowed sizes only) is compared on its length (RFC 8945 5.2.2.1). */
	rc = CRYPTO_memcmp(mac, rr->mac, rr->mac_size) == 0 ? 0 : SD_ETSIG;
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

static void keep_mac(tsig_ctx_t *ctx, const uint8_t *mac, uint16_t len)
{
	memcpy(ctx->mac, mac, len);
	ctx->mac_len = len;
}

static int verify_request(tsig_ctx_t *ctx, const tsig_key_t *const *keys, size_t nkeys,
                          const uint8_t *msg, const tsig_rr_t *rrp, time_t now);

int tsig_verify_request(tsig_ctx_t *ctx, const tsig_key_t *const *keys, size_t nkeys,
                        const uint8_t *msg, size_t len, time_t now)
{
	memset(ctx, 0, sizeof(*ctx));
	tsig_rr_t rr;
	int rc = find_tsig(msg, len, &rr);
	if (rc < 0)
		return rc;
	return verify_request(ctx, keys, nkeys, msg, &rr, now);
}

int tsig_verify_request_at(tsig_ctx_t *ctx, const tsig_key_t *const *keys, size_t nkeys,
                           const uint8_t *msg, size_t len, const dns_rr_t *at, time_t now)
{
	memset(ctx, 0, sizeof(*ctx));
	tsig_rr_t rr;
	int rc = decode_tsig(msg, len, at, &rr);
	if (rc < 0)
		return rc;
	return verify_request(ctx, keys, nkeys, msg, &rr, now);
}

/* RFC 8945 5.2 on a decoded TSIG RR: key, MAC, time. */
static int verify_request(tsig_ctx_t *ctx, const tsig_key_t *const *keys, size_t nkeys,
                          const uint8_t *msg, const tsig_rr_t *rrp, time_t now)
{
	tsig_rr_t rr = *rrp;
	int rc;
	ctx->tsig_off = rr.off;
	ctx->time_signed = rr.time_signed;
	ctx->fudge = rr.fudge;
	memcpy(ctx->req_key, rr.owner, dname_len(rr.owner));
	memcpy(ctx->req_alg, rr.alg, dname_len(rr.alg));
	/* RFC 8945 5.2: key check, then MAC check, then time check. */
	ctx->key = key_find(keys, nkeys, &rr);
	if (!ctx->key) {
		ctx->error = TSIG_ERR_BADKEY;
		return SD_ETSIG;
	}
	digest_in_t in = {.full = true};
	rc = check_mac(ctx->key, &in, msg, &rr);
	if (rc == SD_ETSIG)
		ctx->error = TSIG_ERR_BADSIG;
	if (rc < 0)
		return rc;
	keep_mac(ctx, rr.mac, rr.mac_size);
	if (!time_ok(rr.time_signed, rr.fudge, now)) {
		ctx->error = TSIG_ERR_BADTIME;
		return SD_ETSIG;
	}
	return 0;
}

int tsig_verify_response(tsig_ctx_t *ctx, const uint8_t *msg, size_t len, time_t now)
{
	tsig_rr_t rr;
	int rc = find_tsig(msg, len, &rr);
	if (rc < 0)
		return rc;
	ctx->tsig_off = rr.off;
	tsig_alg_t alg;
	if (!ctx->key || alg_from_wire(rr.alg, &alg) < 0 || alg != ctx->key->alg ||
	    !dname_equal(rr.owner, ctx->key->name)) {
		ctx->error = TSIG_ERR_BADKEY;
		return SD_ETSIG;
	}
	if (rr.error != TSIG_ERR_NONE) {
		ctx->error = rr.error; /* the peer refused our request */
		return SD_ETSIG;
	}
	digest_in_t in = {.prior_mac = ctx->mac, .prior_len = ctx->mac_len};
	/* First response: request MAC + full variables; later ones: prior MAC + timers. */
	in.full = ctx->messages == 0;
	rc = check_mac(ctx->key, &in, msg, &rr);
	if (rc == SD_ETSIG)
		ctx->error = TSIG_ERR_BADSIG;
	if (rc < 0)
		return rc;
	if (!time_ok(rr.time_signed, rr.fudge, now)) {
		ctx->error = TSIG_ERR_BADTIME;
		return SD_ETSIG;
	}
	keep_mac(ctx, rr.mac, rr.mac_size);
	ctx->time_signed = rr.time_signed;
	ctx->messages++;
	return 0;
}

/* --- signing --- */

/* Append the TSIG RR; mac may be NULL with mac_len 0 (an unsigned error response). */
static int put_rr(uint8_t *msg, size_t *len, size_t cap, const digest_in_t *in, const uint8_t *mac,
                  uint16_t mac_len)
{
	size_t alg = dname_len(in->alg_name);
	size_t rdlen = alg + 10 + mac_len + 6 + in->other_len;
	if (*len > cap || be16_get(msg + 10) == UINT16_MAX)
		return SD_ESPACE;
	/* RFC 8945 4.2: nothing in the TSIG RR is compressed (the writer has no table) */
	dns_msg_t m;
	dns_msg_resume(&m, msg, *len, cap);
	uint8_t fixed[10], tail[6];
	be16_put(wr48(fixed, in->time_signed), in->fudge);
	be16_put(fixed + 8, mac_len);
	be16_put(be16_put(be16_put(tail, be16_get(msg)), in->error), in->other_len);
	int rc =
	    dns_msg_rr_header(&m, in->key_name, DNS_TYPE_TSIG, DNS_CLASS_ANY, 0, (uint16_t)rdlen);
	if (rc == 0)
		rc = dns_msg_put(&m, in->alg_name, alg);
	if (rc == 0)
		rc = dns_msg_put(&m, fixed, sizeof(fixed));
	if (rc == 0)
		rc = dns_msg_put(&m, mac, mac_len);
	if (rc == 0)
		rc = dns_msg_put(&m, tail, sizeof(tail));
	if (rc == 0)
		rc = dns_msg_put(&m, in->other, in->other_len);
	if (rc != 0)
		return rc;
	*len = m.pos;
	dns_msg_count_add(&m, DNS_SEC_AR, 1);
	return 0;
}

static int sign_common(tsig_ctx_t *ctx, digest_in_t *in, uint8_t *msg, size_t *len, size_t cap,
                       bool with_mac)
{
	if (*len < DNS_HEADER_LEN)
		return SD_EPARSE;
	if (!with_mac)
		return put_rr(msg, len, cap, in, NULL, 0);
	uint8_t mac[TSIG_MAC_MAX];
	int rc = compute_mac(ctx->key, in, msg, *len, be16_get(msg), be16_get(msg + 10), mac);
	if (rc < 0)
		return rc;
	uint16_t mac_len = algs[ctx->key->alg].mac_len;
	rc = put_rr(msg, len, cap, in, mac, mac_len);
	if (rc == 0)
		keep_mac(ctx, mac, mac_len);
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

int tsig_sign(tsig_ctx_t *ctx, uint8_t *msg, size_t *len, size_t cap, time_t now)
{
	uint8_t other[OTHER_TIME];
	digest_in_t in = {
	    .full = ctx->messages == 0,
	    .key_name = ctx->req_key,
	    .alg_name = ctx->req_alg,
	    .time_signed = (uint64_t)now,
	    .fudge = TSIG_FUDGE_DEFAULT,
	    .error = ctx->error,
	};
	if (ctx->mac_len) {
		in.prior_mac = ctx->mac;
		in.prior_len = ctx->mac_len;
	}
	/* RFC 8945 5.3.2: key or MAC errors get an unsigned TSIG (no request MAC either). */
	bool with_mac = ctx->key && ctx->error != TSIG_ERR_BADKEY && ctx->error != TSIG_ERR_BADSIG;
	if (ctx->error == TSIG_ERR_BADTIME) {
		/* Signed, with the request's Time Signed echoed and our clock in Other Data
		 * (RFC 8945 5.2.3), so that the client can see the skew. */
		in.time_signed = ctx->time_signed;
		in.fudge = ctx->fudge;
		wr48(other, (uint64_t)now);
		in.other = other;
		in.other_len = OTHER_TIME;
	}
	int rc = sign_common(ctx, &in, msg, len, cap, with_mac);
	if (rc == 0)
		ctx->messages++;
	return rc;
}

int tsig_sign_request(tsig_ctx_t *ctx, uint8_t *msg, size_t *len, size_t cap, time_t now)
{
	if (!ctx->key)
		return SD_ENOTFOUND;
	digest_in_t in = {
	    .full = true,
	    .key_name = ctx->key->name,
	    .alg_name = algs[ctx->key->alg].wire,
	    .time_signed = (uint64_t)now,
	    .fudge = TSIG_FUDGE_DEFAULT,
	};
	ctx->error = TSIG_ERR_NONE;
	int rc = sign_common(ctx, &in, msg, len, cap, true);
	if (rc == 0)
		ctx->messages = 0; /* the responses start counting */
	return rc;
}

size_t tsig_rr_len(const tsig_ctx_t *ctx)
{
	size_t mac = ctx->key ? tsig_alg_mac_len(ctx->key->alg) : TSIG_MAC_MAX;
	return dname_len(ctx->req_key) + 10 + dname_len(ctx->req_alg) + 10 + mac + 6 + 6;
}
