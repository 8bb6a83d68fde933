/* Unit tests for the RFC 2136 update policy (server/update_policy.c: its config through
 * server/config.c, and matching) and the audit line's format (server/audit.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "contrib/base/strbuf.h"
#include "dns/proto.h"
#include "server/audit.h"
#include "server/config.h"
#include "server/update_policy.h"

static sd_strbuf_t lines; /* every error line logged while a test runs */

static void hook(log_level_t level, const char *line, void *data)
{
	(void)data;
	if (level == LOG_LEVEL_ERROR)
		sd_strbuf_printf(&lines, "%s\n", line);
}

static int setup(void **state)
{
	(void)state;
	sd_strbuf_reset(&lines);
	log_set_hook(hook, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_hook(NULL, NULL);
	sd_strbuf_free(&lines);
	return 0;
}

static const char *const KEYS = "keys:\n"
                                "  - name: deploy-key\n"
                                "    algorithm: hmac-sha256\n"
                                "    secret: \"c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ==\"\n"
                                "  - name: other-key\n"
                                "    algorithm: hmac-sha256\n"
                                "    secret: \"b3RoZXIta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5\"\n";

/* A config with one zone example.com whose update-policy is policy (YAML, indented 4). */
static int load(const char *policy, srv_config_t **cfg)
{
	char text[4096];
	snprintf(text, sizeof(text),
	         "server:\n  listen: \"127.0.0.1:5353\"\n  audit-log: log/audit.jsonl\n%s"
	         "zones:\n  - name: example.com\n    file: example.com.zone\n"
	         "    update-policy:\n%s",
	         KEYS, policy);
	return srv_config_load_string(text, "/etc/steerdns/t.yaml", cfg);
}

static uint8_t *name(const char *s)
{
	static uint8_t buf[4][DNAME_MAX];
	static unsigned i;
	uint8_t *out = buf[i++ % 4];
	assert_true(dname_from_str(s, NULL, out) >= 0);
	dname_lower(out);
	return out;
}

static const struct sockaddr *v4(const char *a)
{
	static struct sockaddr_in sa;
	sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(40000)};
	assert_int_equal(inet_pton(AF_INET, a, &sa.sin_addr), 1);
	return (const struct sockaddr *)&sa;
}

static void test_parse_rules(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	const char *policy = "      - key: deploy-key\n"
	                     "        name: nodes.example.com\n"
	                     "        types: [A, aaaa, TXT, CNAME, TYPE65280]\n"
	                     "      - address: 127.0.0.0/8\n"
	                     "        match: name\n"
	                     "        name: www.example.com.\n"
	                     "      - key: other-key\n"
	                     "        address: ::1\n"
	                     "        name: \"*.dyn.example.com\"\n"
	                     "      - key: other-key\n"
	                     "        types: SOA\n";
	assert_int_equal(load(policy, &cfg), 0);
	assert_string_equal(sd_strbuf_str(&lines), "");
	assert_string_equal(cfg->audit_log, "/etc/steerdns/log/audit.jsonl");
	const srv_upd_policy_t *p = &cfg->zones[0].update_policy;
	assert_int_equal(p->count, 4);
	const srv_upd_rule_t *r = &p->rules[0];
	assert_true(r->who.has_key && !r->who.has_addr);
	assert_int_equal(r->match, SRV_UPD_MATCH_SUBDOMAIN);
	assert_true(dname_equal(r->name, name("nodes.example.com")));
	assert_false(r->all_types);
	assert_int_equal(r->ntypes, 5);
	assert_int_equal(r->types[1], DNS_TYPE_AAAA);
	assert_int_equal(r->types[4], 65280);
	r = &p->rules[1];
	assert_true(r->who.has_addr && !r->who.has_key);
	assert_int_equal(r->match, SRV_UPD_MATCH_NAME);
	assert_true(r->all_types);
	r = &p->rules[2];
	assert_int_equal(r->match, SRV_UPD_MATCH_WILDCARD);
	assert_true(dname_equal(r->name, name("dyn.example.com")));
	r = &p->rules[3]; /* defaults: the apex and below */
	assert_true(dname_equal(r->name, name("example.com")));
	assert_int_equal(r->types[0], DNS_TYPE_SOA);
	srv_config_free(cfg);
}

/* Every mistake is reported with file:line, and parsing goes on to the next. */
static void test_parse_errors(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	const char *policy = "      - key: nosuch-key\n"         /* 1 */
	                     "      - address: 10.1.2.3/8\n"     /* 2 */
	                     "      - address: not-an-address\n" /* 3 */
	                     "      - key: deploy-key\n"
	                     "        types: [A, BOGUS, ANY]\n" /* 4, 5 */
	                     "      - key: deploy-key\n"
	                     "        name: www.example.org\n" /* 6 */
	                     "      - key: deploy-key\n"
	                     "        match: regex\n" /* 7 */
	                     "      - key: deploy-key\n"
	                     "        colour: blue\n" /* 8 */
	                     "      - match: name\n"  /* 9 */
	                     "      - key: deploy-key\n"
	                     "        match: name\n"
	                     "        name: \"*.x.example.com\"\n" /* 10 */
	                     "      - key: deploy-key\n"
	                     "        types: []\n"        /* 11 */
	                     "      - key: deploy-key\n"; /* valid */
	assert_int_equal(load(policy, &cfg), SD_ECONFIG);
	const char *s = sd_strbuf_str(&lines);
	assert_non_null(strstr(s, "/etc/steerdns/t.yaml:15: zones[0].update-policy[0].key: key "
	                          "'nosuch-key' is not defined"));
	assert_non_null(strstr(s, ":16: zones[0].update-policy[1].address: '10.1.2.3/8'"));
	assert_non_null(strstr(s, "'not-an-address' is not an address"));
	assert_non_null(strstr(s, "'BOGUS' is not an RR type"));
	assert_non_null(strstr(s, "'ANY' is a meta type"));
	assert_non_null(strstr(s, "'www.example.org' is outside the zone example.com."));
	assert_non_null(strstr(s, "'regex' is not name, subdomain or wildcard"));
	assert_non_null(strstr(s, "colour"));
	assert_non_null(strstr(s, "needs 'key', 'address' or both"));
	assert_non_null(strstr(s, "is a wildcard; its match must be wildcard"));
	assert_non_null(strstr(s, "an empty list allows nothing"));
	unsigned n = 0;
	for (const char *c = s; *c; c++)
		n += *c == '\n';
	assert_int_equal(n, 11);
	assert_int_equal(cfg->zones[0].update_policy.count, 1); /* only the valid rule */
	srv_config_free(cfg);
}

static void test_unknown_zone_key(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	assert_int_equal(srv_config_load_string("server:\n  listen: \"127.0.0.1:5353\"\n"
	                                        "zones:\n  - name: example.com\n"
	                                        "    file: z\n    update-polcy: []\n",
	                                        "t.yaml", &cfg),
	                 SD_ECONFIG);
	assert_non_null(strstr(sd_strbuf_str(&lines), "update-polcy"));
	srv_config_free(cfg);
}

static void test_match(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	const char *policy = "      - key: deploy-key\n"
	                     "        name: nodes.example.com\n"
	                     "        types: [A, AAAA]\n"
	                     "      - key: deploy-key\n"
	                     "        match: wildcard\n"
	                     "        name: gw.example.com\n"
	                     "      - address: 127.0.0.0/8\n"
	                     "        match: name\n"
	                     "        name: www.example.com\n"
	                     "        types: [TXT]\n";
	assert_int_equal(load(policy, &cfg), 0);
	const srv_upd_policy_t *p = &cfg->zones[0].update_policy;
	const tsig_key_t *deploy = &cfg->keys.keys[0], *other = &cfg->keys.keys[1];
	const srv_upd_rule_t *r0 = &p->rules[0], *r1 = &p->rules[1], *r2 = &p->rules[2];
	/* requester: a key rule needs the key; an address-only rule is for unsigned requests */
	assert_true(srv_upd_rule_matches(r0, v4("192.0.2.1"), deploy));
	assert_true(srv_upd_rule_matches(r0, NULL, deploy));
	assert_false(srv_upd_rule_matches(r0, v4("127.0.0.1"), NULL));
	assert_false(srv_upd_rule_matches(r0, v4("127.0.0.1"), other));
	assert_true(srv_upd_rule_matches(r2, v4("127.0.0.1"), NULL));
	assert_false(srv_upd_rule_matches(r2, v4("127.0.0.1"), deploy));
	assert_false(srv_upd_rule_matches(r2, v4("10.0.0.1"), NULL));
	assert_false(srv_upd_rule_matches(r2, NULL, NULL));
	/* names and types */
	assert_true(srv_upd_rule_covers(r0, name("nodes.example.com"), DNS_TYPE_A));
	assert_true(srv_upd_rule_covers(r0, name("a.b.nodes.example.com"), DNS_TYPE_AAAA));
	assert_false(srv_upd_rule_covers(r0, name("nodes.example.com"), DNS_TYPE_TXT));
	assert_false(srv_upd_rule_covers(r0, name("xnodes.example.com"), DNS_TYPE_A));
	assert_false(srv_upd_rule_covers(r0, name("example.com"), DNS_TYPE_A));
	assert_false(srv_upd_rule_covers(r0, name("nodes.example.com"), DNS_TYPE_ANY));
	assert_true(srv_upd_rule_covers(r1, name("a.gw.example.com"), DNS_TYPE_CNAME));
	assert_true(srv_upd_rule_covers(r1, name("a.gw.example.com"), DNS_TYPE_ANY));
	assert_false(srv_upd_rule_covers(r1, name("a.gw.example.com"), DNS_TYPE_SOA));
	assert_false(srv_upd_rule_covers(r1, name("gw.example.com"), DNS_TYPE_A));
	assert_true(srv_upd_rule_covers(r2, name("www.example.com"), DNS_TYPE_TXT));
	assert_false(srv_upd_rule_covers(r2, name("a.www.example.com"), DNS_TYPE_TXT));
	/* outside the zone: for RFC 2136 3.4.1.3 (NOTZONE), not the policy (REFUSED) */
	assert_true(dname_equal(p->apex, name("example.com")));
	assert_true(srv_upd_policy_allows(p, r2, name("www.example.net"), DNS_TYPE_A));
	assert_true(srv_upd_policy_allows(p, r2, name("com"), DNS_TYPE_A));
	assert_false(srv_upd_policy_allows(p, r2, name("www.example.com"), DNS_TYPE_A));
	assert_true(srv_upd_policy_allows(p, r2, name("www.example.com"), DNS_TYPE_TXT));
	srv_config_free(cfg);
}

/* An UPDATE of example.com whose update section holds the given (owner, type) RRs. */
static size_t update_msg(uint8_t *m, const char *const *owners, const uint16_t *types, unsigned n)
{
	static const uint8_t hdr[] = {0x12, 0x34, 0x28, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	size_t len = sizeof(hdr);
	memcpy(m, hdr, len);
	uint8_t *apex = name("example.com");
	memcpy(m + len, apex, dname_len(apex));
	len += dname_len(apex);
	memcpy(m + len, "\0\6\0\1", 4);
	len += 4;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *o = name(owners[i]);
		memcpy(m + len, o, dname_len(o));
		len += dname_len(o);
		uint8_t rr[10] = {
		    (uint8_t)(types[i] >> 8), (uint8_t)types[i], 0, 1, 0, 0, 1, 44, 0, 0};
		memcpy(m + len, rr, sizeof(rr));
		len += sizeof(rr);
	}
	m[9] = (uint8_t)n; /* UPCOUNT */
	return len;
}

/* The first requester match that covers every RR wins; else the first requester match. */
static void test_select(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	const char *policy = "      - key: deploy-key\n"
	                     "        name: a.example.com\n"
	                     "      - key: deploy-key\n"
	                     "        name: b.example.com\n"
	                     "      - key: other-key\n";
	assert_int_equal(load(policy, &cfg), 0);
	const srv_upd_policy_t *p = &cfg->zones[0].update_policy;
	const tsig_key_t *deploy = &cfg->keys.keys[0], *other = &cfg->keys.keys[1];
	uint8_t m[1024];
	const char *a[] = {"x.a.example.com"}, *b[] = {"b.example.com", "y.b.example.com"};
	const char *ab[] = {"a.example.com", "b.example.com"};
	const uint16_t t[] = {DNS_TYPE_A, DNS_TYPE_TXT};
	size_t len = update_msg(m, a, t, 1);
	assert_ptr_equal(srv_upd_policy_select(p, m, len, NULL, deploy), &p->rules[0]);
	len = update_msg(m, b, t, 2);
	assert_ptr_equal(srv_upd_policy_select(p, m, len, NULL, deploy), &p->rules[1]);
	len = update_msg(m, ab, t, 2); /* no one rule covers both: the first match stands */
	assert_ptr_equal(srv_upd_policy_select(p, m, len, NULL, deploy), &p->rules[0]);
	assert_ptr_equal(srv_upd_policy_select(p, m, len, NULL, other), &p->rules[2]);
	assert_null(srv_upd_policy_select(p, m, len, v4("127.0.0.1"), NULL));
	const srv_upd_policy_t none = {0};
	assert_null(srv_upd_policy_select(&none, m, len, NULL, deploy));
	srv_config_free(cfg);
}

/* The audit line: keys in order, null serials and key, escaping of hostile text. */
static void test_audit_format(void **state)
{
	(void)state;
	sd_strbuf_t b = {0};
	srv_audit_rec_t r = {
	    .when = {.tv_sec = 1796265000, .tv_nsec = 123456789},
	    .zone = name("example.com"),
	    .client = v4("127.0.0.1"),
	    .key = name("deploy-key"),
	    .tcp = true,
	    .rcode = DNS_RCODE_NXRRSET,
	    .reason = "prerequisite: \"q\\\" \x01\n",
	    .has_serials = true,
	    .serial_from = 7,
	    .serial_to = 7,
	};
	srv_audit_format(&r, &b);
	assert_string_equal(
	    sd_strbuf_str(&b),
	    "{\"time\":\"2026-12-03T02:30:00.123Z\",\"zone\":\"example.com.\",\"client\":"
	    "\"127.0.0.1\",\"port\":40000,\"key\":\"deploy-key.\",\"transport\":\"tcp\","
	    "\"outcome\":\"refused\",\"rcode\":\"NXRRSET\",\"reason\":\"prerequisite: "
	    "\\\"q\\\\\\\" \\u0001\\u000a\",\"serial_from\":7,\"serial_to\":7,\"removed\":[],"
	    "\"added\":[]}");
	sd_strbuf_reset(&b);
	r = (srv_audit_rec_t){
	    .rcode = DNS_RCODE_NOTAUTH, .zone = name("example.net"), .reason = ""};
	srv_audit_format(&r, &b);
	assert_non_null(strstr(sd_strbuf_str(&b), "\"zone\":\"example.net.\",\"client\":null,"
	                                          "\"port\":null,\"key\":null,\"transport\":"
	                                          "\"udp\""));
	assert_non_null(strstr(sd_strbuf_str(&b), "\"serial_from\":null,\"serial_to\":null"));
	sd_strbuf_reset(&b);
	r = (srv_audit_rec_t){.rcode = 0, .changed = false};
	srv_audit_format(&r, &b);
	assert_non_null(strstr(sd_strbuf_str(&b), "\"zone\":null"));
	assert_non_null(
	    strstr(sd_strbuf_str(&b), "\"outcome\":\"unchanged\",\"rcode\":\"NOERROR\""));
	sd_strbuf_reset(&b);
	r.changed = true;
	r.rcode = DNS_RCODE_BADVERS;
	srv_audit_format(&r, &b);
	assert_non_null(strstr(sd_strbuf_str(&b), "\"outcome\":\"refused\",\"rcode\":\"BADVERS\""));
	assert_null(strstr(sd_strbuf_str(&b), "\"source\"")); /* an UPDATE's line has none */
	sd_strbuf_reset(&b);
	/* a rollback over the control socket: transport control, source last */
	r = (srv_audit_rec_t){.zone = name("example.com"),
	                      .changed = true,
	                      .reason = "rollback to 7",
	                      .has_serials = true,
	                      .serial_from = 9,
	                      .serial_to = 10,
	                      .source = "rollback"};
	srv_audit_format(&r, &b);
	assert_non_null(
	    strstr(sd_strbuf_str(&b),
	           "\"client\":null,\"port\":null,\"key\":null,\"transport\":"
	           "\"control\",\"outcome\":\"applied\",\"rcode\":\"NOERROR\",\"reason\":"
	           "\"rollback to 7\",\"serial_from\":9,\"serial_to\":10,\"removed\":[],"
	           "\"added\":[],\"source\":\"rollback\"}"));
	sd_strbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_parse_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_zone_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_match, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_select, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_format, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
