/* fuzz_update.c — libFuzzer target for RFC 2136 UPDATE processing (zone/ddns.h), with a
 * corpus replay.
 *
 * Each input is an UPDATE message for example.com., a small zone with a delegation, glue, a
 * CNAME and names under empty non-terminals (on tmpfs, replay.h). In one transaction:
 *  1. zone_ddns_zone: 0 or FORMERR, and FORMERR exactly when zone_ddns_apply says so for the
 *     zone section;
 *  2. zone_ddns_apply twice (the second sees the first's effect, as requests of one batch
 *     do): it handles every message (returns 0), answers an RFC 2136 rcode, gives a change
 *     exactly on NOERROR and a printable reason exactly otherwise; when the first changed
 *     nothing (refused, or a no-op), the transaction is as it was, so the second answers
 *     the same;
 *  3. the change sets of both, chained and condensed, must build on the served version, both
 *     ways the commit may build (zone_changeset_apply and the full build): one request can
 *     never make a batch's commit fail. The transaction is then aborted, so every input
 *     starts from the same zone (a crash reproduces from its input alone).
 */
#include <string.h>
#include <urcu-qsbr.h>

#include "contrib/base/err.h"
#include "dns/proto.h"
#include "dns/soa.h"
#include "tests/fuzz/replay.h"
#include "zone/changeset.h"
#include "zone/ddns.h"
#include "zone/update.h"
#include "zone/zone.h"

#define FUZZ_NOW 1700000000

static const uint8_t g_apex[] = "\x07"
                                "example\x03"
                                "com";
static const char g_zone_text[] = "$ORIGIN example.com.\n$TTL 3600\n"
                                  "@ SOA ns1 hostmaster 100 7200 900 1209600 300\n"
                                  "@ NS ns1\n@ NS ns2\n@ MX 10 mail\n"
                                  "ns1 A 192.0.2.1\nns2 AAAA 2001:db8::2\n"
                                  "www A 192.0.2.80\nwww A 192.0.2.81\nwww TXT \"web\"\n"
                                  "alias CNAME www\nmail A 192.0.2.25\n"
                                  "sub NS ns.sub\nsub NS ns.elsewhere.net.\n"
                                  "ns.sub A 192.0.2.53\nx.sub NS ns.x.sub\n"
                                  "a.b.c A 192.0.2.9\n*.wild TXT \"any\"\n";
static zone_t *g_zone;
static unsigned long g_inputs, g_noerror, g_changed;

static void build(void)
{
	char path[512];
	fuzz_quiet_log();
	rcu_register_thread();
	rcu_thread_offline(); /* as the control thread: commits go online to publish */
	snprintf(path, sizeof(path), "%s/example.com.zone", fuzz_tmpdir());
	fuzz_write_file(path, (const uint8_t *)g_zone_text, strlen(g_zone_text));
	zone_conf_t conf = {.policy = ZONE_SERIAL_INCREMENT};
	FUZZ_CHECK(zone_new(g_apex, path, &g_zone) == 0);
	FUZZ_CHECK(zone_open_state(g_zone, fuzz_tmpdir(), &conf) == 0);
	zone_version_t *v = NULL;
	zone_load_info_t info = {0};
	FUZZ_CHECK(zone_load(g_zone, &info, &v) == 0);
	zone_update_t *u = NULL;
	uint32_t serial = 0;
	FUZZ_CHECK(zone_update_begin(g_zone, &u) == 0);
	FUZZ_CHECK(zone_update_from_file(u, v, &info) == 0);
	FUZZ_CHECK(zone_update_commit(u, FUZZ_NOW, &serial) == 0 && serial == 100);
}

static bool allow_all(void *arg, const uint8_t *owner, uint16_t type)
{
	(void)arg;
	(void)owner;
	(void)type;
	return true;
}

static bool rcode_known(uint8_t rcode)
{
	return rcode == DNS_RCODE_NOERROR || rcode == DNS_RCODE_FORMERR ||
	       rcode == DNS_RCODE_NXDOMAIN || rcode == DNS_RCODE_REFUSED ||
	       rcode == DNS_RCODE_YXDOMAIN || rcode == DNS_RCODE_YXRRSET ||
	       rcode == DNS_RCODE_NXRRSET || rcode == DNS_RCODE_NOTAUTH ||
	       rcode == DNS_RCODE_NOTZONE;
}

static void check_result(const zone_ddns_result_t *res)
{
	FUZZ_CHECK(rcode_known(res->rcode));
	FUZZ_CHECK((res->rcode == DNS_RCODE_NOERROR) == (res->change != NULL));
	FUZZ_CHECK((res->rcode == DNS_RCODE_NOERROR) == (res->reason[0] == '\0'));
	size_t len = strnlen(res->reason, sizeof(res->reason));
	FUZZ_CHECK(len < sizeof(res->reason));
	for (size_t i = 0; i < len; i++) /* escaped: no control character reaches a log */
		FUZZ_CHECK((unsigned char)res->reason[i] >= 0x20 && res->reason[i] != 0x7f);
}

/* c's records between SOA(from) = *prev and SOA(to) = c's new SOA (when the request replaced
 * it) or *prev, with prev's serial + 1: one link of a chain the condense accepts. *prev
 * becomes SOA(to), in buf. */
static zone_changeset_t *chain_link(const zone_changeset_t *c, zone_rr_t *prev, uint8_t *buf)
{
	zone_changeset_t *cs = NULL;
	zone_rr_t to = *prev, asked;
	uint8_t rd[DNS_SOA_MAX_LEN];
	if (zone_changeset_soa_to(c, &asked)) {
		to = asked;
		to.owner = prev->owner; /* the served version's: c's memory goes first */
	}
	memcpy(rd, to.rdata, to.rdlen);
	dns_soa_set_serial(rd, to.rdlen, dns_soa_serial(prev->rdata, prev->rdlen) + 1);
	to.rdata = rd;
	zone_rr_iter_t it;
	zone_rr_t rr;
	FUZZ_CHECK(zone_changeset_new(&cs) == 0);
	FUZZ_CHECK(zone_changeset_set_soa(cs, prev, &to) == 0);
	zone_changeset_removed(c, &it);
	while (zone_rr_iter_next(&it, &rr))
		FUZZ_CHECK(zone_changeset_remove(cs, &rr) == 0);
	zone_changeset_added(c, &it);
	while (zone_rr_iter_next(&it, &rr))
		FUZZ_CHECK(zone_changeset_add(cs, &rr) == 0);
	memcpy(buf, rd, to.rdlen);
	*prev = to;
	prev->rdata = buf;
	return cs;
}

/* What the batch's commit would build from these changes must build. */
static void check_builds(const zone_version_t *served, zone_changeset_t *const *cs, size_t n)
{
	zone_changeset_t *all = NULL;
	zone_version_t *v = NULL;
	FUZZ_CHECK(zone_changeset_condense((const zone_changeset_t *const *)cs, n, &all) == 0);
	FUZZ_CHECK(zone_changeset_apply(served, all, NULL, &v) == 0);
	zone_version_unref(v);
	v = NULL;
	FUZZ_CHECK(zone_changeset_apply_full(served, all, NULL, &v) == 0);
	zone_version_unref(v);
	zone_changeset_free(all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (g_zone == NULL)
		build();
	if (size > 65535)
		return 0;
	g_inputs++;
	uint8_t apex[DNAME_MAX];
	uint16_t zclass = 0;
	int zr = zone_ddns_zone(data, size, apex, &zclass);
	FUZZ_CHECK(zr == 0 || zr == DNS_RCODE_FORMERR);
	zone_update_t *u = NULL;
	FUZZ_CHECK(zone_update_begin(g_zone, &u) == 0);
	const zone_version_t *served = zone_update_served(u);
	zone_rr_t prev;
	uint8_t bufs[2][DNS_SOA_MAX_LEN];
	zone_version_soa_rr(served, &prev);
	zone_changeset_t *cs[2];
	size_t n = 0;
	zone_ddns_result_t first = {0};
	bool still = false; /* the first round left the transaction as it was */
	for (int round = 0; round < 2; round++) {
		zone_ddns_result_t res;
		FUZZ_CHECK(zone_ddns_apply(u, data, size, allow_all, NULL, &res) == 0);
		check_result(&res);
		if (zr != 0)
			FUZZ_CHECK(res.rcode == DNS_RCODE_FORMERR);
		bool changed = res.change && (zone_changeset_removed_count(res.change) +
		                                      zone_changeset_added_count(res.change) >
		                                  0 ||
		                              zone_changeset_soa_to(res.change, &(zone_rr_t){0}));
		if (round == 1 && still) {
			FUZZ_CHECK(res.rcode == first.rcode && !changed);
			FUZZ_CHECK(strcmp(res.reason, first.reason) == 0);
		}
		if (round == 0) {
			first = res;
			first.change = NULL;
			still = !changed;
		}
		if (res.change) {
			g_noerror++;
			g_changed += changed;
			cs[n] = chain_link(res.change, &prev, bufs[n]);
			n++;
		}
		zone_ddns_result_clear(&res);
	}
	if (n > 0)
		check_builds(served, cs, n);
	for (size_t i = 0; i < n; i++)
		zone_changeset_free(cs[i]);
	zone_update_abort(u);
	return 0;
}

void fuzz_teardown(void)
{
	printf("inputs %lu, NOERROR %lu, with a change %lu\n", g_inputs, g_noerror, g_changed);
	if (g_zone == NULL)
		return;
	rcu_barrier_qsbr();
	zone_free(g_zone);
	rcu_thread_online();
	rcu_unregister_thread();
}
