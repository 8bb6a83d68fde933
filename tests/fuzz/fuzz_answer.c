/* fuzz_answer.c — libFuzzer target for srv_answer() (replay main: tests/fuzz/replay.c).
 *
 * Each input is answered over UDP and over TCP against a small zone built once, and the
 * responses are checked for the invariants every response must keep: no response to a
 * message without a header or with QR set, otherwise the ID copied, QR set, the UDP size
 * limit respected, and section counts that walk exactly to the end of the message. The
 * batch prefetch's light parse (srv_answer_prefetch) reads each input first, and its chain
 * must end within its steps.
 */
#include <stdint.h>
#include <string.h>

#include "contrib/base/bytes.h"
#include "server/engine/answer.h"
#include "tests/fuzz/replay.h"
#include "dns/name.h"
#include "zone/builder.h"
#include "zone/zone.h"
#include "zone/zoneset.h"

static srv_answer_ctx_t *g_ctx;
static zone_set_t *g_set;
static zone_t *g_zone;
static const srv_answer_conf_t g_conf = {.identity = "fuzz", .udp_max_payload = 1232};
static uint8_t g_resp[SRV_RESPONSE_MAX];

static void add(zone_builder_t *b, const char *owner, uint16_t type, const uint8_t *rdata,
                size_t rdlen)
{
	static const uint8_t origin[] = "\x07\x65xample\x03\x63om";
	uint8_t name[DNAME_MAX];
	FUZZ_CHECK(dname_from_str(owner, origin, name) > 0);
	FUZZ_CHECK(zone_builder_add(b, name, type, 1, 300, rdata, (uint16_t)rdlen, "fuzz") == 0);
}

/* Record whose RDATA is [prefix bytes][one name][suffix bytes]. */
static void add_name(zone_builder_t *b, const char *owner, uint16_t type, const char *target,
                     const uint8_t *pre, size_t npre, const uint8_t *post, size_t npost)
{
	static const uint8_t origin[] = "\x07\x65xample\x03\x63om";
	uint8_t rd[512];
	if (npre > 0)
		memcpy(rd, pre, npre);
	int n = dname_from_str(target, origin, rd + npre);
	FUZZ_CHECK(n > 0);
	if (npost > 0)
		memcpy(rd + npre + (size_t)n, post, npost);
	add(b, owner, type, rd, npre + (size_t)n + npost);
}

static void build_zone(void)
{
	static const uint8_t apex[] = "\x07\x65xample\x03\x63om";
	static const uint8_t soa_tail[20] = {0,    0,    0, 1,    0,    0, 0x1c, 0x20, 0, 0,
	                                     0x03, 0x84, 0, 0x12, 0x75, 0, 0,    0,    0, 60};
	static const uint8_t a1[4] = {192, 0, 2, 1}, a2[4] = {192, 0, 2, 2};
	static const uint8_t pref[2] = {0, 10};
	static const uint8_t srv[6] = {0, 0, 0, 5, 0x13, 0xc4};
	static const uint8_t txt[] = "\x05hello";
	uint8_t soa[DNAME_MAX * 2 + 20];
	zone_builder_t *b = NULL;
	FUZZ_CHECK(zone_builder_new(apex, NULL, &b) == 0);
	int n1 = dname_from_str("ns1.example.com.", NULL, soa);
	int n2 = dname_from_str("hostmaster.example.com.", NULL, soa + n1);
	FUZZ_CHECK(n1 > 0 && n2 > 0);
	memcpy(soa + n1 + n2, soa_tail, sizeof(soa_tail));
	add(b, "@", 6, soa, (size_t)(n1 + n2) + sizeof(soa_tail));
	add_name(b, "@", 2, "ns1", NULL, 0, NULL, 0);
	add_name(b, "@", 15, "mail", pref, 2, NULL, 0);
	add(b, "@", 1, a1, 4);
	add(b, "ns1", 1, a2, 4);
	add(b, "mail", 1, a1, 4);
	add(b, "www", 1, a1, 4);
	add(b, "www", 16, txt, sizeof(txt) - 1);
	add(b, "*.wild", 1, a2, 4);
	add_name(b, "*.wc", 5, "www", NULL, 0, NULL, 0);
	add_name(b, "c1", 5, "c2", NULL, 0, NULL, 0);
	add_name(b, "c2", 5, "www", NULL, 0, NULL, 0);
	add_name(b, "loop", 5, "loop", NULL, 0, NULL, 0);
	add_name(b, "dn", 39, "example.com.", NULL, 0, NULL, 0);
	add_name(b, "sub", 2, "ns.sub", NULL, 0, NULL, 0);
	add(b, "ns.sub", 1, a2, 4);
	add_name(b, "_s._tcp", 33, "mail", srv, sizeof(srv), NULL, 0);
	zone_version_t *v = NULL;
	FUZZ_CHECK(zone_builder_finish(b, &v) == 0);
	FUZZ_CHECK(zone_new(apex, NULL, &g_zone) == 0);
	zone_publish(g_zone, v);
	FUZZ_CHECK(zone_set_new(&g_zone, 1, &g_set) == 0);
	FUZZ_CHECK(srv_answer_ctx_new(&g_conf, &g_ctx) == 0);
}

static void check_response(const uint8_t *req, size_t len, size_t rlen, bool tcp)
{
	if (len < 12 || (req[2] & 0x80)) {
		FUZZ_CHECK(rlen == 0);
		return;
	}
	FUZZ_CHECK(rlen >= 12);
	FUZZ_CHECK(tcp || rlen <= 1232);
	FUZZ_CHECK(be16_get(g_resp) == be16_get(req));
	FUZZ_CHECK(g_resp[2] & 0x80);
	fuzz_check_message(g_resp, rlen, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (g_ctx == NULL)
		build_zone();
	zone_prefetch_t pf;
	if (srv_answer_prefetch(g_set, data, size, &pf)) {
		for (int k = 0; k < ZONE_PREFETCH_STEPS; k++)
			zone_prefetch_step(&pf);
		FUZZ_CHECK(pf.at == NULL);
	}
	for (int tcp = 0; tcp < 2; tcp++) {
		srv_peer_t peer = {.addr = NULL, .tcp = tcp};
		size_t rlen = srv_answer(g_ctx, g_set, data, size, g_resp, &peer);
		check_response(data, size, rlen, tcp);
	}
	return 0;
}

void fuzz_teardown(void)
{
	srv_answer_ctx_free(g_ctx);
	zone_set_free(g_set);
	zone_free(g_zone);
}
