/* fuzz_xfr.c — libFuzzer target for a worker's front door (srv_process, server/front.h) with
 * transfers configured, and the AXFR/IXFR message generator it starts (xfr_out_next,
 * server/xfr/out.h), with a corpus replay.
 *
 * Fixtures, built once: example.com. at serial 3 with an IXFR history 1 -> 2 -> 3 (change sets
 * computed by zone_changeset_diff), large enough (big TXT RRsets) that an AXFR needs more than
 * one TCP message; a TSIG key xfr-key.; a transfer-acl that allows 127.0.0.0/8 and ::1 only
 * with the key; a fixed clock (gen_xfr.py signs its seeds at that time).
 *
 * Each input is served three times: UDP and TCP from 127.0.0.1, TCP from ::1. A reply must be
 * a well-formed message (header, ID echoed, QR set, section counts that walk exactly to the
 * end). A started transfer is drained message by message; each message must be well-formed,
 * the RRs written must add up to xfr_out_rrs(), and a complete AXFR or IXFR must begin and
 * end with the SOA (RFC 5936 2.2, RFC 1995 4) — one SOA alone for a current client.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "zone/builder.h"
#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "server/front.h"
#include "tests/fuzz/replay.h"
#include "zone/changeset.h"

#define FUZZ_NOW      ((time_t)1700000000) /* gen_xfr.py signs at this time */
#define FUZZ_RESP_MAX (65535 + TSIG_RR_MAX)
#define MESSAGES_MAX  64

static const uint8_t g_apex[] = "\x07"
                                "example\x03"
                                "com";
static zone_t *g_zone;
static zone_set_t *g_set;
static srv_answer_ctx_t *g_actx;
static const srv_answer_conf_t g_aconf = {.identity = NULL, .udp_max_payload = 1232};
static zone_history_t *g_hist;
static tsig_key_t g_key;
static const tsig_key_t *g_keys[1];
static xfr_acl_rule_t g_acl[2];
static xfr_zone_info_t g_zi;
static xfr_env_t g_env;
static srv_front_stats_t g_stats;
static srv_request_t g_req;
static uint8_t g_resp[FUZZ_RESP_MAX];
static unsigned g_transfers, g_messages;

static void add(zone_builder_t *b, const char *owner, uint16_t type, const uint8_t *rd,
                size_t rdlen)
{
	uint8_t name[DNAME_MAX];
	FUZZ_CHECK(dname_from_str(owner, g_apex, name) > 0);
	FUZZ_CHECK(zone_builder_add(b, name, type, 1, 300, rd, (uint16_t)rdlen, "fuzz") == 0);
}

static void add_name(zone_builder_t *b, const char *owner, uint16_t type, const uint8_t *pre,
                     size_t npre, const char *target)
{
	uint8_t rd[DNAME_MAX + 8];
	if (npre > 0)
		memcpy(rd, pre, npre);
	int n = dname_from_str(target, g_apex, rd + npre);
	FUZZ_CHECK(n > 0);
	add(b, owner, type, rd, npre + (size_t)n);
}

/* Version at serial; step 1..3 changes www's address, the MX set and one big TXT. */
static zone_version_t *version(uint32_t serial)
{
	static const uint8_t soa_names[] = "\x03ns1\x07"
	                                   "example\x03"
	                                   "com\x00\x02hm\x07"
	                                   "example\x03"
	                                   "com";
	uint8_t soa[64];
	size_t nl = sizeof(soa_names);
	memcpy(soa, soa_names, nl);
	const uint32_t f[5] = {serial, 7200, 900, 1209600, 300};
	for (int i = 0; i < 5; i++) {
		uint8_t *p = soa + nl + 4 * i;
		p[0] = (uint8_t)(f[i] >> 24);
		p[1] = (uint8_t)(f[i] >> 16);
		p[2] = (uint8_t)(f[i] >> 8);
		p[3] = (uint8_t)f[i];
	}
	zone_builder_t *b = NULL;
	FUZZ_CHECK(zone_builder_new(g_apex, NULL, &b) == 0);
	add(b, "@", DNS_TYPE_SOA, soa, nl + 20);
	add_name(b, "@", DNS_TYPE_NS, NULL, 0, "ns1");
	add_name(b, "@", DNS_TYPE_NS, NULL, 0, "ns2.example.net.");
	const uint8_t a1[4] = {192, 0, 2, 1}, aw[4] = {192, 0, 2, (uint8_t)(80 + serial)};
	add(b, "ns1", DNS_TYPE_A, a1, 4);
	add(b, "www", DNS_TYPE_A, aw, 4);
	const uint8_t pref[2] = {0, (uint8_t)(10 * serial)};
	add_name(b, "@", DNS_TYPE_MX, pref, 2, "mail");
	add(b, "mail", DNS_TYPE_A, a1, 4);
	add_name(b, "c", DNS_TYPE_CNAME, NULL, 0, "www");
	const uint8_t srv[6] = {0, 0, 0, 5, 0, 80};
	add_name(b, "_s._tcp", DNS_TYPE_SRV, srv, 6, "www");
	/* 30 TXT records of 10 x 255 bytes: about 78 KB, two or more TCP messages. */
	uint8_t txt[2560];
	for (int r = 0; r < 30; r++) {
		for (int s = 0; s < 10; s++) {
			txt[s * 256] = 255;
			memset(txt + s * 256 + 1, 'a' + (r + s + (r == 7 ? (int)serial : 0)) % 26,
			       255);
		}
		char owner[16];
		snprintf(owner, sizeof(owner), "big%d", r);
		add(b, owner, DNS_TYPE_TXT, txt, sizeof(txt));
	}
	zone_version_t *v = NULL;
	FUZZ_CHECK(zone_builder_finish(b, &v) == 0);
	FUZZ_CHECK(zone_version_serial(v) == serial);
	return v;
}

static void build(void)
{
	fuzz_quiet_log();
	rcu_register_thread();
	FUZZ_CHECK(zone_history_new(8, 0, &g_hist) == 0);
	zone_version_t *v[3];
	for (uint32_t s = 1; s <= 3; s++)
		v[s - 1] = version(s);
	for (int i = 0; i < 2; i++) {
		zone_changeset_t *cs = NULL;
		zone_diff_t *d = NULL;
		FUZZ_CHECK(zone_changeset_diff(v[i], v[i + 1], &cs) == 0);
		FUZZ_CHECK(zone_changeset_added_count(cs) > 0);
		FUZZ_CHECK(zone_diff_new(cs, &d) == 0);
		FUZZ_CHECK(zone_history_add(g_hist, d) == 0);
	}
	zone_version_unref(v[0]);
	zone_version_unref(v[1]);
	FUZZ_CHECK(zone_new(g_apex, NULL, &g_zone) == 0);
	zone_publish(g_zone, v[2]);
	FUZZ_CHECK(zone_set_new(&g_zone, 1, &g_set) == 0);
	FUZZ_CHECK(srv_answer_ctx_new(&g_aconf, &g_actx) == 0);
	FUZZ_CHECK(tsig_key_init(&g_key, "xfr-key.", "hmac-sha256",
	                         "ZnV6ei14ZnIta2V5LTAxMjM0NTY3ODlhYmNkZWY=") == 0);
	g_keys[0] = &g_key;
	FUZZ_CHECK(xfr_acl_rule_set_addr(&g_acl[0], "127.0.0.0/8") == 0);
	FUZZ_CHECK(xfr_acl_rule_set_addr(&g_acl[1], "::1") == 0);
	xfr_acl_rule_set_key(&g_acl[1], g_key.name);
	memcpy(g_zi.apex, g_apex, sizeof(g_apex));
	g_zi.acl = g_acl;
	g_zi.acl_count = 2;
	g_zi.history = g_hist;
	g_env = (xfr_env_t){
	    .keys = g_keys, .nkeys = 1, .zones = &g_zi, .nzones = 1, .udp_payload = 1232};
}

typedef struct walk {
	unsigned answers;
	uint16_t first_type, last_type; /* of the answer section */
} walk_t;

static void note_answer(uint16_t type, void *arg)
{
	walk_t *w = arg;
	if (w->answers == 0)
		w->first_type = type;
	w->last_type = type;
	w->answers++;
}

/* A message must parse exactly to its end; collects the answer section's types. */
static void check_message(const uint8_t *req, const uint8_t *m, size_t len, walk_t *w)
{
	FUZZ_CHECK(len >= 12 && len <= FUZZ_RESP_MAX);
	FUZZ_CHECK(be16_get(m) == be16_get(req));
	FUZZ_CHECK(m[2] & 0x80);
	fuzz_check_message(m, len, w != NULL ? note_answer : NULL, w);
}

static void drain(const uint8_t *req, xfr_out_t *x)
{
	walk_t w = {0};
	unsigned msgs = 0;
	int rc = 0;
	g_transfers++;
	while (!xfr_out_done(x) && msgs < MESSAGES_MAX) {
		size_t len = 0;
		rc = xfr_out_next(x, g_resp, sizeof(g_resp), FUZZ_NOW, &len);
		if (rc != 0)
			break;
		check_message(req, g_resp, len, &w);
		msgs++;
	}
	g_messages += msgs;
	FUZZ_CHECK(rc != 0 || xfr_out_done(x));
	FUZZ_CHECK(msgs == xfr_out_messages(x));
	FUZZ_CHECK(w.answers == xfr_out_rrs(x));
	if (rc == 0) {
		FUZZ_CHECK(w.first_type == DNS_TYPE_SOA && w.last_type == DNS_TYPE_SOA);
		if (xfr_out_kind(x) == XFR_OUT_IXFR_CURRENT)
			FUZZ_CHECK(w.answers == 1);
		else if (xfr_out_kind(x) != XFR_OUT_IXFR_UDP_SOA)
			FUZZ_CHECK(w.answers >= 2);
	}
	xfr_out_free(x);
}

static void serve(const uint8_t *data, size_t size, const char *from, bool tcp)
{
	struct sockaddr_storage ss = {0};
	if (strchr(from, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		FUZZ_CHECK(inet_pton(AF_INET6, from, &s6->sin6_addr) == 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		FUZZ_CHECK(inet_pton(AF_INET, from, &s4->sin_addr) == 1);
	}
	srv_view_t view = {.zones = g_set, .xfr = &g_env, .answer = &g_aconf};
	srv_request_t *out = &g_req;
	out->msg = data;
	out->msg_len = size;
	out->client = (const struct sockaddr *)&ss;
	out->tcp = tcp;
	out->now = FUZZ_NOW;
	out->buf = g_resp;
	out->cap = sizeof(g_resp);
	/* DNS cookies on (server/cookie.h), required for every other input size: the COOKIE
	 * option's verdict and the BADCOOKIE reply are fuzzed with the rest */
	static srv_cookie_secrets_t cookies = {
	    .has_previous = true, .current = {1, 2, 3}, .previous = {4, 5, 6}};
	cookies.require = size % 2 == 1;
	out->cookies = &cookies;
	srv_process_t r = srv_process(&view, g_actx, &g_stats, out);
	switch (r) {
	case SRV_PROCESS_DROP:
		FUZZ_CHECK(out->xfr == NULL && out->len == 0);
		break;
	case SRV_PROCESS_REPLY:
		FUZZ_CHECK(out->xfr == NULL && out->len > 0);
		check_message(data, g_resp, out->len, NULL);
		break;
	case SRV_PROCESS_HANDOFF: /* an UPDATE: what the control thread does, here */
		FUZZ_CHECK(out->xfr == NULL && out->len == 0);
		/* the control thread's reply (server/update.c) is signed with the signer that
		 * travelled with the request: a header-only reply here */
		memset(g_resp, 0, DNS_HEADER_LEN);
		memcpy(g_resp, data, 4);
		g_resp[2] |= 0x80;
		out->len = DNS_HEADER_LEN;
		if (srv_signer_sign(&out->signer, g_resp, &out->len, sizeof(g_resp), FUZZ_NOW) != 0)
			out->len = 0;
		if (out->len > 0)
			check_message(data, g_resp, out->len, NULL);
		break;
	case SRV_PROCESS_STREAM:
		FUZZ_CHECK(tcp && out->xfr != NULL && out->len == 0);
		drain(data, out->xfr);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (g_set == NULL)
		build();
	if (size > 65535)
		return 0;
	rcu_quiescent_state();
	serve(data, size, "127.0.0.1", false);
	serve(data, size, "127.0.0.1", true);
	serve(data, size, "::1", true);
	return 0;
}

void fuzz_teardown(void)
{
	printf("transfers %u, messages %u, TSIG ok %llu bad %llu, refused %llu\n", g_transfers,
	       g_messages, (unsigned long long)g_stats.tsig_ok,
	       (unsigned long long)g_stats.tsig_bad, (unsigned long long)g_stats.xfr.refused);
	if (g_set == NULL)
		return;
	srv_answer_ctx_free(g_actx);
	zone_set_free(g_set);
	zone_free(g_zone);
	zone_history_free(g_hist);
	rcu_barrier_qsbr();
	rcu_unregister_thread();
}
