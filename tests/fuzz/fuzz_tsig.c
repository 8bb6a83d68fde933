/* fuzz_tsig.c — libFuzzer target for TSIG verification (server/xfr/tsig.h), with a corpus
 * replay.
 *
 * Fixtures, built once: two keys (k1. hmac-sha256, k2. hmac-sha512), a fixed clock, and two
 * client contexts for the request "example.com. SOA" (ID 0x4242) signed with k1: one that
 * has verified no response yet (the first response digests the request MAC and all the TSIG
 * variables, RFC 8945 4.3.3) and one that has verified a first response (a later message
 * digests the prior MAC and the timers only, RFC 8945 5.3.1).
 *
 * Each input is checked
 *  - as a request, by tsig_verify_request() against both keys. When it carries a TSIG (valid
 *    or not), the server's answer — the request without its TSIG, QR set — is signed with
 *    tsig_sign() and verified as a client would: a valid request must give a first and a
 *    second response that verify; a BADKEY/BADSIG/BADTIME request must give a response the
 *    client sees as a TSIG error (never a silent success);
 *  - as a response, by tsig_verify_response() with both client contexts.
 * The seeds (gen_tsig.py) are signed with dnspython at the same fixed clock, so the replay
 * runs the valid paths too.
 */
#include <string.h>
#include <time.h>

#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "server/xfr/tsig.h"
#include "tests/fuzz/replay.h"

#define FUZZ_NOW      ((time_t)1700000000) /* gen_tsig.py signs at this time */
#define FUZZ_RESP_MAX (65535 + TSIG_RR_MAX)

static tsig_key_t g_k1, g_k2;
static const tsig_key_t *g_keys[2];
static tsig_ctx_t g_client0, g_client1;
static uint8_t g_resp[FUZZ_RESP_MAX];
static bool g_ready;
/* Outcomes, printed by the replay: the seeds must reach the valid paths. */
static unsigned g_req_ok, g_req_err, g_resp0_ok, g_resp1_ok;

/* The server's reply to a request msg whose TSIG starts at tsig_off: the request without its
 * TSIG, QR set, ARCOUNT one lower, RCODE NOTAUTH on a TSIG error. Returns its length. */
static size_t reply_body(const uint8_t *msg, size_t tsig_off, bool tsig_error)
{
	memcpy(g_resp, msg, tsig_off);
	g_resp[2] |= 0x80;
	if (tsig_error)
		g_resp[3] = (uint8_t)((g_resp[3] & 0xf0) | DNS_RCODE_NOTAUTH);
	be16_put(g_resp + 10, (uint16_t)(be16_get(g_resp + 10) - 1));
	return tsig_off;
}

static void build(void)
{
	fuzz_quiet_log();
	FUZZ_CHECK(tsig_key_init(&g_k1, "k1.", "hmac-sha256",
	                         "ZnV6ei1rZXktb25lLTAxMjM0NTY3ODlhYmNkZWY=") == 0);
	FUZZ_CHECK(tsig_key_init(&g_k2, "k2.", "hmac-sha512",
	                         "ZnV6ei1rZXktdHdvLTAxMjM0NTY3ODlhYmNkZWY=") == 0);
	g_keys[0] = &g_k1;
	g_keys[1] = &g_k2;
	/* The request gen_tsig.py also builds: ID 0x4242, no flags, example.com. SOA IN. */
	static const uint8_t q[] = {0x42, 0x42, 0,   0,   0,   1,   0,   0,   0,   0,
	                            0,    0,    7,   'e', 'x', 'a', 'm', 'p', 'l', 'e',
	                            3,    'c',  'o', 'm', 0,   0,   6,   0,   1};
	uint8_t req[512];
	size_t len = sizeof(q);
	memcpy(req, q, len);
	tsig_ctx_init(&g_client0, &g_k1);
	FUZZ_CHECK(tsig_sign_request(&g_client0, req, &len, sizeof(req), FUZZ_NOW) == 0);
	/* The server side verifies it and signs a first response, which client1 verifies. */
	tsig_ctx_t srv;
	FUZZ_CHECK(tsig_verify_request(&srv, g_keys, 2, req, len, FUZZ_NOW) == 0);
	FUZZ_CHECK(srv.key == &g_k1);
	size_t rlen = reply_body(req, srv.tsig_off, false);
	FUZZ_CHECK(tsig_sign(&srv, g_resp, &rlen, sizeof(g_resp), FUZZ_NOW) == 0);
	g_client1 = g_client0;
	FUZZ_CHECK(tsig_verify_response(&g_client1, g_resp, rlen, FUZZ_NOW) == 0);
	FUZZ_CHECK(g_client1.messages == 1);
	g_ready = true;
}

static bool rc_known(int rc)
{
	return rc == 0 || rc == SD_ENOTFOUND || rc == SD_EPARSE || rc == SD_ETSIG;
}

/* A valid request: the first and a second response message must verify. */
static void answer_valid(const uint8_t *data, const tsig_ctx_t *srv_in)
{
	tsig_ctx_t srv = *srv_in, client;
	tsig_ctx_init(&client, srv.key);
	memcpy(client.mac, srv.mac, srv.mac_len); /* the request MAC */
	client.mac_len = srv.mac_len;
	for (int msg = 0; msg < 2; msg++) {
		size_t rlen = reply_body(data, srv.tsig_off, false);
		FUZZ_CHECK(tsig_sign(&srv, g_resp, &rlen, sizeof(g_resp), FUZZ_NOW) == 0);
		FUZZ_CHECK(tsig_verify_response(&client, g_resp, rlen, FUZZ_NOW) == 0);
		FUZZ_CHECK(client.messages == (unsigned)msg + 1);
	}
}

/* A request with a TSIG error: the signed error response is a TSIG error to the client. */
static void answer_error(const uint8_t *data, const tsig_ctx_t *srv_in)
{
	tsig_ctx_t srv = *srv_in, client = g_client0;
	FUZZ_CHECK(srv.error == TSIG_ERR_BADKEY || srv.error == TSIG_ERR_BADSIG ||
	           srv.error == TSIG_ERR_BADTIME);
	FUZZ_CHECK((srv.key == NULL) == (srv.error == TSIG_ERR_BADKEY));
	size_t rlen = reply_body(data, srv.tsig_off, true);
	FUZZ_CHECK(tsig_sign(&srv, g_resp, &rlen, sizeof(g_resp), FUZZ_NOW) == 0);
	FUZZ_CHECK(tsig_verify_response(&client, g_resp, rlen, FUZZ_NOW) == SD_ETSIG);
	FUZZ_CHECK(client.error != TSIG_ERR_NONE);
}

static void as_request(const uint8_t *data, size_t size)
{
	tsig_ctx_t srv;
	int rc = tsig_verify_request(&srv, g_keys, 2, data, size, FUZZ_NOW);
	FUZZ_CHECK(rc_known(rc));
	if (rc != 0 && rc != SD_ETSIG)
		return;
	FUZZ_CHECK(srv.tsig_off >= 12 && srv.tsig_off < size);
	FUZZ_CHECK(be16_get(data + 10) >= 1);
	if (rc == 0) {
		FUZZ_CHECK(srv.key == &g_k1 || srv.key == &g_k2);
		FUZZ_CHECK(srv.error == TSIG_ERR_NONE);
		g_req_ok++;
		answer_valid(data, &srv);
	} else {
		g_req_err++;
		answer_error(data, &srv);
	}
}

static void as_response(const uint8_t *data, size_t size)
{
	tsig_ctx_t c0 = g_client0, c1 = g_client1;
	int rc = tsig_verify_response(&c0, data, size, FUZZ_NOW);
	FUZZ_CHECK(rc_known(rc));
	FUZZ_CHECK(rc != 0 || c0.messages == 1);
	g_resp0_ok += rc == 0;
	rc = tsig_verify_response(&c1, data, size, FUZZ_NOW);
	FUZZ_CHECK(rc_known(rc));
	FUZZ_CHECK(rc != 0 || c1.messages == 2);
	g_resp1_ok += rc == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!g_ready)
		build();
	if (size > 65535)
		return 0; /* no DNS message is longer */
	as_request(data, size);
	as_response(data, size);
	return 0;
}

void fuzz_teardown(void)
{
	printf("requests valid %u, TSIG errors %u; first responses valid %u, later %u\n", g_req_ok,
	       g_req_err, g_resp0_ok, g_resp1_ok);
}
