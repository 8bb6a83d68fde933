/* test_ddns.c — RFC 2136 section 3 (zone/ddns.h) on a real zone transaction: the zone
 * section, the five prerequisite forms, permission, the prescan, the four update forms with
 * the SOA, apex NS/SOA, CNAME and TTL rules, duplicates and no-ops (no new serial), glue,
 * compressed RDATA names, several requests in one transaction, and the savepoints of
 * zone/update.h under a failing request. UPDATE messages are built here byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "contrib/base/err.h"
#include "dns/proto.h"
#include "helpers.h"
#include "zone/ddns.h"
#include "zone/dump.h"
#include "zone/update.h"
#include "zone/zone.h"

#define NOW   1700000000
#define ZFILE "data/ddns/example.com.zone"

static char dir[256];
static zone_t *Z;
static zone_update_t *U;
static zone_ddns_result_t R;

/* --- the zone --- */

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sd-ddns-XXXXXX");
	assert_non_null(mkdtemp(dir));
	zone_conf_t c = {.policy = ZONE_SERIAL_INCREMENT};
	assert_int_equal(zone_new(t_apex(), ZFILE, &Z), 0);
	assert_int_equal(zone_open_state(Z, dir, &c), 0);
	zone_version_t *v = NULL;
	zone_load_info_t info = {0};
	assert_int_equal(zone_load(Z, &info, &v), 0);
	assert_int_equal(zone_update_begin(Z, &U), 0);
	assert_int_equal(zone_update_from_file(U, v, &info), 0);
	uint32_t serial = 0;
	assert_int_equal(zone_update_commit(U, NOW, &serial), 0);
	assert_int_equal(serial, 100);
	assert_int_equal(zone_update_begin(Z, &U), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	zone_update_abort(U);
	U = NULL;
	zone_ddns_result_clear(&R);
	rcu_barrier_qsbr();
	zone_free(Z);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Commit the transaction and open the next; returns the serial served. */
static uint32_t commit(void)
{
	uint32_t serial = 0;
	assert_int_equal(zone_update_commit(U, NOW, &serial), 0);
	assert_int_equal(zone_update_begin(Z, &U), 0);
	return serial;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The served zone but its SOA as sorted presentation lines, one string. */
static char *zone_text(void)
{
	static char out[16384];
	char *lines[256];
	size_t n = 0;
	const zone_version_t *v = zone_current(Z);
	zone_version_iter_t it;
	zone_version_iter_init(v, &it);
	for (const zone_node_t *node; (node = zone_version_iter_next(&it)) != NULL;) {
		for (uint16_t k = 0; k < node->rrset_count; k++) {
			zone_rrset_iter_t ri;
			zone_rr_t rr;
			zone_rrset_iter_start(&ri, node, &node->rrsets[k]);
			while (zone_rrset_iter_next(&ri, &rr)) {
				char buf[1024];
				if (rr.type == DNS_TYPE_SOA)
					continue;
				assert_true(zone_rr_format(&rr, buf, sizeof(buf)) > 0);
				assert_true(n < 256);
				lines[n++] = strdup(buf);
			}
		}
	}
	qsort(lines, n, sizeof(*lines), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strcat(out, lines[i]);
		strcat(out, "\n");
		free(lines[i]);
	}
	return out;
}

/* The served SOA in presentation form. */
static const char *soa_text(void)
{
	static char buf[1024];
	zone_rr_t soa;
	zone_version_soa_rr(zone_current(Z), &soa);
	assert_true(zone_rr_format(&soa, buf, sizeof(buf)) > 0);
	return buf;
}

/* The zone as the file has it but the SOA, with lines added and removed ("+line" /
 * "-line"). */
static const char *BASE[] = {
    "a.b.c.example.com.\t3600\tIN\tA\t192.0.2.9",
    "alias.example.com.\t3600\tIN\tCNAME\twww.example.com.",
    "example.com.\t3600\tIN\tNS\tns1.example.com.",
    "example.com.\t3600\tIN\tNS\tns2.example.com.",
    "mail.example.com.\t3600\tIN\tMX\t10 www.example.com.",
    "ns.sub.example.com.\t3600\tIN\tA\t192.0.2.53",
    "ns1.example.com.\t3600\tIN\tA\t192.0.2.1",
    "ns2.example.com.\t3600\tIN\tA\t192.0.2.2",
    "sub.example.com.\t3600\tIN\tNS\tns.sub.example.com.",
    "txt.example.com.\t3600\tIN\tTXT\t\"hello\"",
    "www.example.com.\t3600\tIN\tA\t192.0.2.80",
    "www.example.com.\t3600\tIN\tA\t192.0.2.81",
};

static void assert_zone(const char *const *edits, size_t nedits)
{
	const char *lines[64];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(BASE) / sizeof(*BASE); i++) {
		bool gone = false;
		for (size_t k = 0; k < nedits; k++)
			gone |= edits[k][0] == '-' && strcmp(edits[k] + 1, BASE[i]) == 0;
		if (!gone)
			lines[n++] = BASE[i];
	}
	for (size_t k = 0; k < nedits; k++)
		if (edits[k][0] == '+')
			lines[n++] = edits[k] + 1;
	qsort(lines, n, sizeof(*lines), cmp_str);
	char want[16384] = "";
	for (size_t i = 0; i < n; i++) {
		strcat(want, lines[i]);
		strcat(want, "\n");
	}
	assert_string_equal(zone_text(), want);
}

#define ASSERT_ZONE(...)                                                                           \
	do {                                                                                       \
		const char *e_[] = {"", __VA_ARGS__};                                              \
		assert_zone(e_ + 1, sizeof(e_) / sizeof(*e_) - 1);                                 \
	} while (0)
#define ASSERT_ZONE_AS_FILE() assert_zone(NULL, 0)

/* --- building UPDATE messages --- */

typedef struct mb {
	uint8_t b[8192];
	size_t n;
} mb_t;

static void put16(mb_t *m, uint16_t v)
{
	m->b[m->n++] = (uint8_t)(v >> 8);
	m->b[m->n++] = (uint8_t)v;
}

static void put32(mb_t *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

static void put_bytes(mb_t *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put_name(mb_t *m, const char *name)
{
	const uint8_t *w = t_name(name);
	put_bytes(m, w, dname_len(w));
}

static void count(mb_t *m, dns_section_t sec)
{
	size_t off = 4 + 2 * (size_t)sec;
	uint16_t c = (uint16_t)(m->b[off] << 8 | m->b[off + 1]);
	c++;
	m->b[off] = (uint8_t)(c >> 8);
	m->b[off + 1] = (uint8_t)c;
}

/* Header (opcode UPDATE) and a zone section naming zone with ztype. */
static void msg_start(mb_t *m, const char *zone, uint16_t ztype)
{
	memset(m, 0, sizeof(*m));
	put16(m, 0x1234);
	put16(m, DNS_OPCODE_UPDATE << 11);
	m->n = DNS_HEADER_LEN;
	put_name(m, zone);
	put16(m, ztype);
	put16(m, DNS_CLASS_IN);
	count(m, DNS_SEC_QD);
}

static void msg_zone(mb_t *m)
{
	msg_start(m, "example.com.", DNS_TYPE_SOA);
}

/* A record with raw RDATA. */
static void rr_raw(mb_t *m, dns_section_t sec, const char *owner, uint16_t type, uint16_t cls,
                   uint32_t ttl, const uint8_t *rd, size_t rdlen)
{
	put_name(m, owner);
	put16(m, type);
	put16(m, cls);
	put32(m, ttl);
	put16(m, (uint16_t)rdlen);
	put_bytes(m, rd, rdlen);
	count(m, sec);
}

/* A record with RDATA from text (t_encode: A, AAAA, NS, CNAME, MX, TXT, SOA "serial");
 * data NULL: empty RDATA. */
static void rr(mb_t *m, dns_section_t sec, const char *owner, uint16_t type, uint16_t cls,
               uint32_t ttl, const char *data)
{
	uint8_t rd[512];
	size_t len = 0;
	if (data) {
		trr_t t = {owner, type, ttl, data};
		len = t_encode(&t, rd);
	}
	rr_raw(m, sec, owner, type, cls, ttl, rd, len);
}

#define PRE(m, ...) rr(m, DNS_SEC_AN, __VA_ARGS__)
#define UPD(m, ...) rr(m, DNS_SEC_NS, __VA_ARGS__)
#define IN          DNS_CLASS_IN
#define ANY         DNS_CLASS_ANY
#define NONE        DNS_CLASS_NONE

static bool allow_all(void *arg, const uint8_t *owner, uint16_t type)
{
	(void)arg;
	(void)owner;
	(void)type;
	return true;
}

/* Apply m with allow_all; returns the rcode (R keeps the result). */
static int apply_with(mb_t *m, zone_ddns_allow_fn allow, void *arg)
{
	zone_ddns_result_clear(&R);
	assert_int_equal(zone_ddns_apply(U, m->b, m->n, allow, arg, &R), 0);
	if (R.rcode == DNS_RCODE_NOERROR) {
		assert_non_null(R.change);
		assert_string_equal(R.reason, "");
	} else {
		assert_null(R.change);
		assert_true(R.reason[0] != '\0');
	}
	return R.rcode;
}

static int apply(mb_t *m)
{
	return apply_with(m, allow_all, NULL);
}

static size_t n_removed(void)
{
	return zone_changeset_removed_count(R.change);
}

static size_t n_added(void)
{
	return zone_changeset_added_count(R.change);
}

/* --- the zone section (3.1) --- */

static void test_zone_section(void **state)
{
	(void)state;
	mb_t m;
	uint8_t apex[DNAME_MAX];
	uint16_t zclass = 0;
	msg_zone(&m);
	assert_int_equal(zone_ddns_zone(m.b, m.n, apex, &zclass), 0);
	assert_true(dname_equal(apex, t_apex()));
	assert_int_equal(zclass, DNS_CLASS_IN);
	msg_start(&m, "EXAMPLE.com.", DNS_TYPE_SOA);
	m.b[DNS_HEADER_LEN + 1] = 'E'; /* the apex comes back lowercased */
	assert_int_equal(zone_ddns_zone(m.b, m.n, apex, &zclass), 0);
	assert_true(dname_equal(apex, t_apex()));
	msg_start(&m, "example.com.", DNS_TYPE_A);
	assert_int_equal(zone_ddns_zone(m.b, m.n, apex, &zclass), DNS_RCODE_FORMERR);
	assert_int_equal(apply(&m), DNS_RCODE_FORMERR);
	msg_zone(&m);
	m.b[5] = 2; /* ZOCOUNT 2 */
	assert_int_equal(zone_ddns_zone(m.b, m.n, apex, &zclass), DNS_RCODE_FORMERR);
	assert_int_equal(apply(&m), DNS_RCODE_FORMERR);
	m.b[5] = 0;
	assert_int_equal(zone_ddns_zone(m.b, m.n, apex, &zclass), DNS_RCODE_FORMERR);
	assert_int_equal(zone_ddns_zone(m.b, 11, apex, &zclass), DNS_RCODE_FORMERR);
	msg_start(&m, "other.com.", DNS_TYPE_SOA);
	assert_int_equal(apply(&m), DNS_RCODE_NOTAUTH);
	/* framing: a record cut short, trailing bytes; an A record in the additional section is
	 * ignored (RFC 2136 2.6), unless it is cut short */
	msg_zone(&m);
	UPD(&m, "new.example.com.", DNS_TYPE_A, IN, 300, "192.0.2.5");
	m.n -= 2;
	assert_int_equal(apply(&m), DNS_RCODE_FORMERR);
	m.n += 3;
	assert_int_equal(apply(&m), DNS_RCODE_FORMERR);
	m.n -= 1;
	zone_update_mark_t mark = zone_update_mark(U);
	assert_int_equal(apply(&m), DNS_RCODE_NOERROR);
	zone_update_rollback(U, mark); /* new.example.com. is added again below */
	rr(&m, DNS_SEC_AR, "x.example.com.", DNS_TYPE_A, IN, 300, "192.0.2.5");
	assert_int_equal(apply(&m), DNS_RCODE_NOERROR);
	assert_int_equal(n_added(), 1);
	zone_update_rollback(U, mark);
	m.n -= 1;
	assert_int_equal(apply(&m), DNS_RCODE_FORMERR);
	/* one OPT in the additional section is fine */
	msg_zone(&m);
	UPD(&m, "new.example.com.", DNS_TYPE_A, IN, 300, "192.0.2.5");
	uint8_t opt[] = {0, 0, DNS_TYPE_OPT, 0x10, 0, 0, 0, 0, 0, 0, 0};
	put_bytes(&m, opt, sizeof(opt));
	count(&m, DNS_SEC_AR);
	assert_int_equal(apply(&m), DNS_RCODE_NOERROR);
	assert_int_equal(n_added(), 1);
	put_bytes(&m, opt, sizeof(opt)); /* two are not */
	count(&m, DNS_SEC_AR);
	assert_int_equal(apply(&m), DNS_RCODE_FORMERR);
	/* a TSIG (the server verified it) is skipped when it is the last record, only then */
	const uint8_t sig[] = {1, 2, 3};
	msg_zone(&m);
	UPD(&m, "new.example.com.", DNS_TYPE_A, IN, 300, "192.0.2.5");
	rr_raw(&m, DNS_SEC_AR, "key.", DNS_TYPE_TSIG, ANY, 0, sig, sizeof(sig));
	assert_int_equal(apply(&m), DNS_RCODE_NOERROR);
	put_bytes(&m, opt, sizeof(opt));
	count(&m, DNS_SEC_AR);
	assert_int_equal(apply(&m), DNS_RCODE_FORMERR);
	commit();
	ASSERT_ZONE("+new.example.com.\t300\tIN\tA\t192.0.2.5");
}

/* --- prerequisites (3.2) --- */

static int pre_one(const char *owner, uint16_t type, uint16_t cls, uint32_t ttl, const char *data)
{
	mb_t m;
	msg_zone(&m);
	PRE(&m, owner, type, cls, ttl, data);
	return apply(&m);
}

static void test_prereq_forms(void **state)
{
	(void)state;
	/* name is in use (ANY ANY): NXDOMAIN when not; an empty non-terminal is not in use */
	assert_int_equal(pre_one("www.example.com.", DNS_TYPE_ANY, ANY, 0, NULL), 0);
	assert_int_equal(pre_one("example.com.", DNS_TYPE_ANY, ANY, 0, NULL), 0);
	assert_int_equal(pre_one("nope.example.com.", DNS_TYPE_ANY, ANY, 0, NULL),
	                 DNS_RCODE_NXDOMAIN);
	assert_int_equal(pre_one("c.example.com.", DNS_TYPE_ANY, ANY, 0, NULL), DNS_RCODE_NXDOMAIN);
	/* RRset exists (value-independent): NXRRSET */
	assert_int_equal(pre_one("www.example.com.", DNS_TYPE_A, ANY, 0, NULL), 0);
	assert_int_equal(pre_one("example.com.", DNS_TYPE_SOA, ANY, 0, NULL), 0);
	assert_int_equal(pre_one("www.example.com.", DNS_TYPE_AAAA, ANY, 0, NULL),
	                 DNS_RCODE_NXRRSET);
	assert_string_equal(R.reason, "prerequisite: NXRRSET www.example.com. AAAA");
	/* name is not in use (NONE ANY): YXDOMAIN */
	assert_int_equal(pre_one("nope.example.com.", DNS_TYPE_ANY, NONE, 0, NULL), 0);
	assert_int_equal(pre_one("b.c.example.com.", DNS_TYPE_ANY, NONE, 0, NULL), 0);
	assert_int_equal(pre_one("alias.example.com.", DNS_TYPE_ANY, NONE, 0, NULL),
	                 DNS_RCODE_YXDOMAIN);
	/* RRset does not exist: YXRRSET */
	assert_int_equal(pre_one("www.example.com.", DNS_TYPE_AAAA, NONE, 0, NULL), 0);
	assert_int_equal(pre_one("www.example.com.", DNS_TYPE_A, NONE, 0, NULL), DNS_RCODE_YXRRSET);
	/* malformed prerequisites */
	assert_int_equal(pre_one("www.example.com.", DNS_TYPE_A, ANY, 300, NULL),
	                 DNS_RCODE_FORMERR);
	assert_int_equal(pre_one("www.example.com.", DNS_TYPE_A, ANY, 0, "192.0.2.80"),
	                 DNS_RCODE_FORMERR);
	assert_int_equal(pre_one("www.example.com.", DNS_TYPE_A, NONE, 0, "192.0.2.80"),
	                 DNS_RCODE_FORMERR);
	assert_int_equal(pre_one("www.example.com.", DNS_TYPE_A, DNS_CLASS_CH, 0, NULL),
	                 DNS_RCODE_FORMERR);
	assert_int_equal(pre_one("www.example.org.", DNS_TYPE_A, ANY, 0, NULL), DNS_RCODE_NOTZONE);
	/* the first failing prerequisite decides, in the order of the message */
	mb_t m;
	msg_zone(&m);
	PRE(&m, "www.example.com.", DNS_TYPE_A, NONE, 0, NULL);
	PRE(&m, "www.example.org.", DNS_TYPE_A, ANY, 0, NULL);
	assert_int_equal(apply(&m), DNS_RCODE_YXRRSET);
}

static void test_prereq_value(void **state)
{
	(void)state;
	mb_t m;
	/* the set of RDATA (order aside, a repeated record counted once) against the RRset whose
	 * TTL is 3600: a prerequisite says 0 (RFC 2136 2.4.2) */
	msg_zone(&m);
	PRE(&m, "www.example.com.", DNS_TYPE_A, IN, 0, "192.0.2.81");
	PRE(&m, "alias.example.com.", DNS_TYPE_CNAME, IN, 0, "www");
	PRE(&m, "www.example.com.", DNS_TYPE_A, IN, 0, "192.0.2.80");
	PRE(&m, "www.example.com.", DNS_TYPE_A, IN, 0, "192.0.2.81");
	assert_int_equal(apply(&m), 0);
	msg_zone(&m);
	PRE(&m, "www.example.com.", DNS_TYPE_A, IN, 3600, "192.0.2.80");
	assert_int_equal(apply(&m), DNS_RCODE_FORMERR);
	/* a subset, a superset, another RRset */
	msg_zone(&m);
	PRE(&m, "www.example.com.", DNS_TYPE_A, IN, 0, "192.0.2.81");
	assert_int_equal(apply(&m), DNS_RCODE_NXRRSET);
	msg_zone(&m);
	PRE(&m, "www.example.com.", DNS_TYPE_A, IN, 0, "192.0.2.81");
	PRE(&m, "www.example.com.", DNS_TYPE_A, IN, 0, "192.0.2.80");
	PRE(&m, "www.example.com.", DNS_TYPE_A, IN, 0, "192.0.2.82");
	assert_int_equal(apply(&m), DNS_RCODE_NXRRSET);
	msg_zone(&m);
	PRE(&m, "nope.example.com.", DNS_TYPE_A, IN, 0, "192.0.2.81");
	assert_int_equal(apply(&m), DNS_RCODE_NXRRSET);
	/* names in RDATA compare without case; the compressed form is read */
	msg_zone(&m);
	put_name(&m, "alias.example.com.");
	put16(&m, DNS_TYPE_CNAME);
	put16(&m, IN);
	put32(&m, 0);
	uint8_t rd[] = {0, 6, 3, 'W', 'w', 'W', 0xc0, DNS_HEADER_LEN}; /* WwW + pointer to apex */
	put_bytes(&m, rd, sizeof(rd));
	count(&m, DNS_SEC_AN);
	apply(&m);
	assert_string_equal(R.reason, "");
	/* the SOA is an RRset like the others: the view's, serial included */
	uint8_t soa[128];
	size_t sl = 0;
	const uint8_t *mn = t_name("ns1.example.com."), *rn = t_name("hostmaster.example.com.");
	memcpy(soa, mn, dname_len(mn));
	sl += dname_len(mn);
	memcpy(soa + sl, rn, dname_len(rn));
	sl += dname_len(rn);
	const uint32_t f[] = {100, 7200, 900, 1209600, 300};
	for (int i = 0; i < 5; i++, sl += 4)
		memcpy(soa + sl, (uint8_t[]){f[i] >> 24, f[i] >> 16, f[i] >> 8, f[i]}, 4);
	msg_zone(&m);
	rr_raw(&m, DNS_SEC_AN, "example.com.", DNS_TYPE_SOA, IN, 0, soa, sl);
	assert_int_equal(apply(&m), 0);
	soa[sl - 17] = 101; /* the serial's last byte */
	msg_zone(&m);
	rr_raw(&m, DNS_SEC_AN, "example.com.", DNS_TYPE_SOA, IN, 0, soa, sl);
	assert_int_equal(apply(&m), DNS_RCODE_NXRRSET);
	/* malformed RDATA in a value-dependent prerequisite */
	uint8_t bad[] = {192, 0, 2};
	msg_zone(&m);
	rr_raw(&m, DNS_SEC_AN, "www.example.com.", DNS_TYPE_A, IN, 0, bad, sizeof(bad));
	assert_int_equal(apply(&m), DNS_RCODE_FORMERR);
	commit();
	ASSERT_ZONE_AS_FILE();
}

/* A failing prerequisite: nothing of the request's updates happens. */
static void test_prereq_blocks_update(void **state)
{
	(void)state;
	mb_t m;
	msg_zone(&m);
	PRE(&m, "nope.example.com.", DNS_TYPE_ANY, ANY, 0, NULL);
	UPD(&m, "new.example.com.", DNS_TYPE_A, IN, 300, "192.0.2.5");
	assert_int_equal(apply(&m), DNS_RCODE_NXDOMAIN);
	/* and a passing one lets them */
	msg_zone(&m);
	PRE(&m, "new.example.com.", DNS_TYPE_ANY, NONE, 0, NULL);
	UPD(&m, "new.example.com.", DNS_TYPE_A, IN, 300, "192.0.2.5");
	assert_int_equal(apply(&m), 0);
	assert_int_equal(commit(), 101);
	ASSERT_ZONE("+new.example.com.\t300\tIN\tA\t192.0.2.5");
}

/* --- the four update forms (3.4.2) --- */

static void test_add(void **state)
{
	(void)state;
	mb_t m;
	/* a new name; a record joining an RRset of the same TTL */
	msg_zone(&m);
	UPD(&m, "new.example.com.", DNS_TYPE_A, IN, 3600, "192.0.2.5");
	UPD(&m, "www.example.com.", DNS_TYPE_A, IN, 3600, "192.0.2.82");
	UPD(&m, "www.example.com.", DNS_TYPE_AAAA, IN, 3600, "2001:db8::80");
	assert_int_equal(apply(&m), 0);
	assert_int_equal(n_removed(), 0);
	assert_int_equal(n_added(), 3);
	assert_int_equal(commit(), 101);
	ASSERT_ZONE("+new.example.com.\t3600\tIN\tA\t192.0.2.5",
	            "+www.example.com.\t3600\tIN\tA\t192.0.2.82",
	            "+www.example.com.\t3600\tIN\tAAAA\t2001:db8::80");
}

/* RFC 2181 5.2: a record joining an RRset with another TTL gives the RRset its TTL. */
static void test_add_ttl(void **state)
{
	(void)state;
	mb_t m;
	msg_zone(&m);
	UPD(&m, "www.example.com.", DNS_TYPE_A, IN, 60, "192.0.2.82");
	assert_int_equal(apply(&m), 0);
	assert_int_equal(n_removed(), 2);
	assert_int_equal(n_added(), 3);
	/* an existing record with another TTL: the same */
	msg_zone(&m);
	UPD(&m, "ns1.example.com.", DNS_TYPE_A, IN, 120, "192.0.2.1");
	assert_int_equal(apply(&m), 0);
	assert_int_equal(n_removed(), 1);
	assert_int_equal(n_added(), 1);
	assert_int_equal(commit(), 101);
	ASSERT_ZONE(
	    "-www.example.com.\t3600\tIN\tA\t192.0.2.80",
	    "-www.example.com.\t3600\tIN\tA\t192.0.2.81",
	    "+www.example.com.\t60\tIN\tA\t192.0.2.80", "+www.example.com.\t60\tIN\tA\t192.0.2.81",
	    "+www.example.com.\t60\tIN\tA\t192.0.2.82", "-ns1.example.com.\t3600\tIN\tA\t192.0.2.1",
	    "+ns1.example.com.\t120\tIN\tA\t192.0.2.1");
	/* and back in a later transaction: the served TTL again */
	msg_zone(&m);
	UPD(&m, "ns1.example.com.", DNS_TYPE_A, IN, 3600, "192.0.2.1");
	assert_int_equal(apply(&m), 0);
	assert_int_equal(commit(), 102);
}

/* Duplicates and no-ops change nothing and commit no serial. */
static void test_noop(void **state)
{
	(void)state;
	mb_t m;
	msg_zone(&m);
	UPD(&m, "www.example.com.", DNS_TYPE_A, IN, 3600, "192.0.2.80"); /* there already */
	UPD(&m, "nope.example.com.", DNS_TYPE_A, ANY, 0, NULL);          /* absent RRset */
	UPD(&m, "nope.example.com.", DNS_TYPE_ANY, ANY, 0, NULL);        /* absent name */
	UPD(&m, "www.example.com.", DNS_TYPE_A, NONE, 0, "192.0.2.99");  /* absent RR */
	UPD(&m, "example.com.", DNS_TYPE_SOA, IN, 3600, "100");          /* same serial */
	assert_int_equal(apply(&m), 0);
	assert_int_equal(n_removed() + n_added(), 0);
	zone_rr_t soa;
	assert_false(zone_changeset_soa_to(R.change, &soa));
	/* add then delete within one request, and the reverse: nothing either */
	msg_zone(&m);
	UPD(&m, "tmp.example.com.", DNS_TYPE_A, IN, 300, "192.0.2.7");
	UPD(&m, "tmp.example.com.", DNS_TYPE_ANY, ANY, 0, NULL);
	UPD(&m, "txt.example.com.", DNS_TYPE_TXT, NONE, 0, "hello");
	UPD(&m, "txt.example.com.", DNS_TYPE_TXT, IN, 3600, "hello");
	assert_int_equal(apply(&m), 0);
	assert_int_equal(n_removed() + n_added(), 0);
	/* a TTL changed and changed back across two requests: no serial */
	msg_zone(&m);
	UPD(&m, "txt.example.com.", DNS_TYPE_TXT, IN, 60, "hello");
	assert_int_equal(apply(&m), 0);
	assert_int_equal(n_removed() + n_added(), 2);
	msg_zone(&m);
	UPD(&m, "txt.example.com.", DNS_TYPE_TXT, IN, 3600, "hello");
	assert_int_equal(apply(&m), 0);
	assert_int_equal(n_removed() + n_added(), 2);
	assert_int_equal(commit(), 100);
	ASSERT_ZONE_AS_FILE();
}

static void test_delete_rrset(void **state)
{
	(void)state;
	mb_t m;
	msg_zone(&m);
	UPD(&m, "www.example.com.", DNS_TYPE_A, ANY, 0, NULL);
	UPD(&m, "example.com.", DNS_TYPE_NS, ANY, 0, NULL);  /* apex NS: ignored */
	UPD(&m, "example.com.", DNS_TYPE_SOA, ANY, 0, NULL); /* SOA: ignored */
	UPD(&m, "mail.example.com.", DNS_TYPE_MX, ANY, 0, NULL);
	assert_int_equal(apply(&m), 0);
	assert_int_equal(n_removed(), 3);
	assert_int_equal(n_added(), 0);
	assert_int_equal(commit(), 101);
	ASSERT_ZONE("-www.example.com.\t3600\tIN\tA\t192.0.2.80",
	            "-www.example.com.\t3600\tIN\tA\t192.0.2.81",
	            "-mail.example.com.\t3600\tIN\tMX\t10 www.example.com.");
}

static void test_delete_all(void **state)
{
	(void)state;
	mb_t m;
	msg_zone(&m);
	UPD(&m, "example.com.", DNS_TYPE_TXT, IN, 3600, "apex");
	UPD(&m, "example.com.", DNS_TYPE_MX, IN, 3600, "5 mail");
	assert_int_equal(apply(&m), 0);
	/* at the apex SOA and NS stay; elsewhere everything goes */
	msg_zone(&m);
	UPD(&m, "example.com.", DNS_TYPE_ANY, ANY, 0, NULL);
	UPD(&m, "www.example.com.", DNS_TYPE_ANY, ANY, 0, NULL);
	assert_int_equal(apply(&m), 0);
	assert_int_equal(n_removed(), 4); /* what the request saw: TXT, MX and www's two A */
	assert_int_equal(commit(), 101);
	ASSERT_ZONE("-www.example.com.\t3600\tIN\tA\t192.0.2.80",
	            "-www.example.com.\t3600\tIN\tA\t192.0.2.81");
}

static void test_delete_rr(void **state)
{
	(void)state;
	mb_t m;
	msg_zone(&m);
	UPD(&m, "www.example.com.", DNS_TYPE_A, NONE, 0, "192.0.2.80");
	UPD(&m, "example.com.", DNS_TYPE_SOA, NONE, 0, "100"); /* SOA: ignored */
	UPD(&m, "example.com.", DNS_TYPE_NS, NONE, 0, "ns1");
	UPD(&m, "example.com.", DNS_TYPE_NS, NONE, 0, "ns2"); /* the last apex NS: ignored */
	assert_int_equal(apply(&m), 0);
	assert_int_equal(n_removed(), 2);
	/* names in RDATA match without case */
	msg_zone(&m);
	put_name(&m, "mail.example.com.");
	put16(&m, DNS_TYPE_MX);
	put16(&m, NONE);
	put32(&m, 0);
	uint8_t rd[] = {0,   19,  0,   10,  3,   'W', 'W', 'W', 7,   'E', 'x',
	                'a', 'm', 'p', 'l', 'e', 3,   'c', 'o', 'm', 0};
	put_bytes(&m, rd, sizeof(rd));
	count(&m, DNS_SEC_NS);
	assert_int_equal(apply(&m), 0);
	assert_int_equal(n_removed(), 1);
	assert_int_equal(commit(), 101);
	ASSERT_ZONE("-www.example.com.\t3600\tIN\tA\t192.0.2.80",
	            "-example.com.\t3600\tIN\tNS\tns1.example.com.",
	            "-mail.example.com.\t3600\tIN\tMX\t10 www.example.com.");
}

/* RFC 2136 3.4.2.2: an SOA replaces the SOA only with a higher serial (RFC 1982). */
static void test_soa(void **state)
{
	(void)state;
	mb_t m;
	msg_zone(&m);
	UPD(&m, "example.com.", DNS_TYPE_SOA, IN, 3600, "99");      /* lower */
	UPD(&m, "www.example.com.", DNS_TYPE_SOA, IN, 3600, "500"); /* not at the apex */
	assert_int_equal(apply(&m), 0);
	zone_rr_t soa;
	assert_false(zone_changeset_soa_to(R.change, &soa));
	msg_zone(&m);
	UPD(&m, "example.com.", DNS_TYPE_SOA, IN, 600, "200"); /* higher: taken, fields too */
	assert_int_equal(apply(&m), 0);
	assert_true(zone_changeset_soa_from(R.change, &soa));
	assert_int_equal(zone_changeset_from(R.change), 100);
	assert_int_equal(zone_changeset_to(R.change), 200);
	msg_zone(&m);
	UPD(&m, "example.com.", DNS_TYPE_SOA, IN, 600, "150"); /* below the batch's 200 */
	assert_int_equal(apply(&m), 0);
	assert_false(zone_changeset_soa_to(R.change, &soa));
	assert_int_equal(commit(), 200);
	ASSERT_ZONE_AS_FILE();
	assert_string_equal(soa_text(), "example.com.\t600\tIN\tSOA\tns1.example.com. "
	                                "hostmaster.example.com. 200 3600 600 86400 300");
	/* a higher serial with other changes: the serial asked for */
	msg_zone(&m);
	UPD(&m, "example.com.", DNS_TYPE_SOA, IN, 600, "300");
	UPD(&m, "x.example.com.", DNS_TYPE_A, IN, 600, "192.0.2.3");
	assert_int_equal(apply(&m), 0);
	assert_int_equal(commit(), 300);
	/* equal: ignored, and a change elsewhere still gets the next serial */
	msg_zone(&m);
	UPD(&m, "example.com.", DNS_TYPE_SOA, IN, 600, "300");
	UPD(&m, "y.example.com.", DNS_TYPE_A, IN, 600, "192.0.2.3");
	assert_int_equal(apply(&m), 0);
	assert_int_equal(commit(), 301);
}

/* CNAME and other data (RFC 2136 3.4.2.2, RFC 1034 3.6.2, RFC 4035 2.5). */
static void test_cname(void **state)
{
	(void)state;
	mb_t m;
	msg_zone(&m);
	UPD(&m, "www.example.com.", DNS_TYPE_CNAME, IN, 3600, "mail");    /* other data: ignored */
	UPD(&m, "alias.example.com.", DNS_TYPE_A, IN, 3600, "192.0.2.1"); /* a CNAME: ignored */
	UPD(&m, "alias.example.com.", DNS_TYPE_TXT, IN, 3600, "no");      /* ignored */
	assert_int_equal(apply(&m), 0);
	assert_int_equal(n_removed() + n_added(), 0);
	msg_zone(&m);
	UPD(&m, "alias.example.com.", DNS_TYPE_CNAME, IN, 300, "mail"); /* replaces the CNAME */
	UPD(&m, "new.example.com.", DNS_TYPE_CNAME, IN, 300, "www");
	UPD(&m, "new.example.com.", DNS_TYPE_CNAME, IN, 300, "txt"); /* replaces the one before */
	assert_int_equal(apply(&m), 0);
	assert_int_equal(n_removed(), 1);
	assert_int_equal(n_added(), 2);
	/* a CNAME where the data was deleted first in the same request */
	msg_zone(&m);
	UPD(&m, "txt.example.com.", DNS_TYPE_ANY, ANY, 0, NULL);
	UPD(&m, "txt.example.com.", DNS_TYPE_CNAME, IN, 300, "www");
	assert_int_equal(apply(&m), 0);
	assert_int_equal(commit(), 101);
	ASSERT_ZONE("-alias.example.com.\t3600\tIN\tCNAME\twww.example.com.",
	            "+alias.example.com.\t300\tIN\tCNAME\tmail.example.com.",
	            "+new.example.com.\t300\tIN\tCNAME\ttxt.example.com.",
	            "-txt.example.com.\t3600\tIN\tTXT\t\"hello\"",
	            "+txt.example.com.\t300\tIN\tCNAME\twww.example.com.");
}

/* RFC 2136 3.4.1.3 prescan: everything checked before anything changes. */
static void test_prescan(void **state)
{
	(void)state;
	mb_t m;
	uint8_t a3[] = {192, 0, 2};
	struct {
		const char *owner;
		uint16_t type, cls;
		uint32_t ttl;
		const char *data;
		int rcode;
	} cases[] = {
	    {"x.example.org.", DNS_TYPE_A, IN, 300, "192.0.2.1", DNS_RCODE_NOTZONE},
	    {"x.example.com.", DNS_TYPE_ANY, IN, 300, NULL, DNS_RCODE_FORMERR},
	    {"x.example.com.", DNS_TYPE_AXFR, IN, 300, NULL, DNS_RCODE_FORMERR},
	    {"x.example.com.", DNS_TYPE_OPT, IN, 300, NULL, DNS_RCODE_FORMERR},
	    {"x.example.com.", DNS_TYPE_TSIG, IN, 300, NULL, DNS_RCODE_FORMERR},
	    {"www.example.com.", DNS_TYPE_A, ANY, 300, NULL, DNS_RCODE_FORMERR},
	    {"www.example.com.", DNS_TYPE_A, ANY, 0, "192.0.2.80", DNS_RCODE_FORMERR},
	    {"www.example.com.", DNS_TYPE_AXFR, ANY, 0, NULL, DNS_RCODE_FORMERR},
	    {"www.example.com.", DNS_TYPE_A, NONE, 300, "192.0.2.80", DNS_RCODE_FORMERR},
	    {"www.example.com.", DNS_TYPE_ANY, NONE, 0, NULL, DNS_RCODE_FORMERR},
	    {"www.example.com.", DNS_TYPE_A, DNS_CLASS_CH, 0, "192.0.2.80", DNS_RCODE_FORMERR},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		msg_zone(&m);
		UPD(&m, "first.example.com.", DNS_TYPE_A, IN, 300, "192.0.2.1");
		UPD(&m, cases[i].owner, cases[i].type, cases[i].cls, cases[i].ttl, cases[i].data);
		assert_int_equal(apply(&m), cases[i].rcode);
	}
	/* RDATA of the wrong size or layout */
	msg_zone(&m);
	rr_raw(&m, DNS_SEC_NS, "x.example.com.", DNS_TYPE_A, IN, 300, a3, sizeof(a3));
	assert_int_equal(apply(&m), DNS_RCODE_FORMERR);
	uint8_t mx[] = {0, 10, 3, 'w', 'w', 'w'}; /* the name runs past the RDATA */
	msg_zone(&m);
	rr_raw(&m, DNS_SEC_NS, "x.example.com.", DNS_TYPE_MX, IN, 300, mx, sizeof(mx));
	assert_int_equal(apply(&m), DNS_RCODE_FORMERR);
	uint8_t txt[] = {5, 'a', 'b'}; /* a string longer than the RDATA: no master-file form */
	msg_zone(&m);
	rr_raw(&m, DNS_SEC_NS, "x.example.com.", DNS_TYPE_TXT, IN, 300, txt, sizeof(txt));
	assert_int_equal(apply(&m), DNS_RCODE_FORMERR);
	commit();
	ASSERT_ZONE_AS_FILE();
}

typedef struct deny {
	uint16_t type;
	unsigned calls;
	bool saw_any;
} deny_t;

static bool deny_type(void *arg, const uint8_t *owner, uint16_t type)
{
	deny_t *d = arg;
	(void)owner;
	d->calls++;
	d->saw_any |= type == DNS_TYPE_ANY;
	return type != d->type;
}

/* RFC 2136 3.3: every update RR is asked about; one refusal refuses the request. */
static void test_permission(void **state)
{
	(void)state;
	mb_t m;
	deny_t d = {.type = DNS_TYPE_TXT};
	msg_zone(&m);
	UPD(&m, "a.example.com.", DNS_TYPE_A, IN, 300, "192.0.2.1");
	UPD(&m, "www.example.com.", DNS_TYPE_ANY, ANY, 0, NULL);
	UPD(&m, "t.example.com.", DNS_TYPE_TXT, IN, 300, "x");
	assert_int_equal(apply_with(&m, deny_type, &d), DNS_RCODE_REFUSED);
	assert_int_equal(d.calls, 3);
	assert_true(d.saw_any);
	assert_string_equal(R.reason, "update: t.example.com. TXT not allowed for this requester");
	/* permission comes after the prerequisites (RFC order) */
	msg_zone(&m);
	PRE(&m, "nope.example.com.", DNS_TYPE_ANY, ANY, 0, NULL);
	UPD(&m, "t.example.com.", DNS_TYPE_TXT, IN, 300, "x");
	assert_int_equal(apply_with(&m, deny_type, &d), DNS_RCODE_NXDOMAIN);
	commit();
	ASSERT_ZONE_AS_FILE();
}

/* Names in RDATA arrive compressed (RFC 1035 4.1.4): stored uncompressed, case kept; the
 * owner is lowercased. */
static void test_compressed(void **state)
{
	(void)state;
	mb_t m;
	msg_zone(&m);
	size_t owner_at = m.n;
	put_bytes(&m, (const uint8_t[]){3, 'N', 'e', 'W', 0xc0, DNS_HEADER_LEN}, 6);
	put16(&m, DNS_TYPE_MX);
	put16(&m, IN);
	put32(&m, 300);
	/* preference 5, "Mx" + pointer to the owner */
	put_bytes(&m, (const uint8_t[]){0, 7, 0, 5, 2, 'M', 'x', 0xc0, (uint8_t)owner_at}, 9);
	count(&m, DNS_SEC_NS);
	assert_int_equal(apply(&m), 0);
	assert_int_equal(commit(), 101);
	ASSERT_ZONE("+new.example.com.\t300\tIN\tMX\t5 Mx.NeW.example.com.");
	/* a pointer forward or into itself is malformed */
	msg_zone(&m);
	UPD(&m, "x.example.com.", DNS_TYPE_CNAME, IN, 300, NULL);
	m.n -= 2;
	put_bytes(&m, (const uint8_t[]){0, 2, 0xc0, (uint8_t)(m.n + 2)}, 4);
	assert_int_equal(apply(&m), DNS_RCODE_FORMERR);
}

/* The build's glue rule (RFC 1034 4.2.1) is checked per request, so that a bad request
 * cannot fail the batch's commit. */
static void test_glue(void **state)
{
	(void)state;
	mb_t m;
	msg_zone(&m);
	UPD(&m, "new.example.com.", DNS_TYPE_NS, IN, 300, "ns.new");
	assert_int_equal(apply(&m), DNS_RCODE_REFUSED);
	assert_string_equal(R.reason,
	                    "update: delegation new.example.com. NS ns.new.example.com. would lack "
	                    "glue");
	msg_zone(&m);
	UPD(&m, "ns.sub.example.com.", DNS_TYPE_A, NONE, 0, "192.0.2.53");
	assert_int_equal(apply(&m), DNS_RCODE_REFUSED);
	/* with its glue, or out of bailiwick: fine */
	msg_zone(&m);
	UPD(&m, "new.example.com.", DNS_TYPE_NS, IN, 300, "ns.new");
	UPD(&m, "ns.new.example.com.", DNS_TYPE_AAAA, IN, 300, "2001:db8::53");
	UPD(&m, "out.example.com.", DNS_TYPE_NS, IN, 300, "ns.example.net.");
	assert_int_equal(apply(&m), 0);
	/* a delegation below another one needs no glue until the one above goes */
	msg_zone(&m);
	UPD(&m, "deep.sub.example.com.", DNS_TYPE_NS, IN, 300, "ns.deep.sub");
	assert_int_equal(apply(&m), 0);
	msg_zone(&m);
	UPD(&m, "sub.example.com.", DNS_TYPE_NS, ANY, 0, NULL);
	assert_int_equal(apply(&m), DNS_RCODE_REFUSED);
	assert_int_equal(commit(), 101);
	ASSERT_ZONE("+new.example.com.\t300\tIN\tNS\tns.new.example.com.",
	            "+ns.new.example.com.\t300\tIN\tAAAA\t2001:db8::53",
	            "+out.example.com.\t300\tIN\tNS\tns.example.net.",
	            "+deep.sub.example.com.\t300\tIN\tNS\tns.deep.sub.example.com.");
}

/* Several requests in one transaction see each other's effects; a failing one leaves
 * exactly the earlier ones' (savepoints). */
static void test_batch_rollback(void **state)
{
	(void)state;
	mb_t m;
	msg_zone(&m);
	UPD(&m, "one.example.com.", DNS_TYPE_A, IN, 300, "192.0.2.11");
	UPD(&m, "www.example.com.", DNS_TYPE_A, NONE, 0, "192.0.2.80");
	assert_int_equal(apply(&m), 0);
	/* sees one and the smaller www RRset; then fails after changing things */
	msg_zone(&m);
	PRE(&m, "one.example.com.", DNS_TYPE_A, IN, 0, "192.0.2.11");
	PRE(&m, "www.example.com.", DNS_TYPE_A, IN, 0, "192.0.2.81");
	UPD(&m, "two.example.com.", DNS_TYPE_A, IN, 300, "192.0.2.12");
	UPD(&m, "one.example.com.", DNS_TYPE_ANY, ANY, 0, NULL);
	UPD(&m, "www.example.com.", DNS_TYPE_A, IN, 60, "192.0.2.80");
	UPD(&m, "example.com.", DNS_TYPE_SOA, IN, 60, "5000");
	UPD(&m, "bad.example.com.", DNS_TYPE_NS, IN, 300, "ns.bad");
	assert_int_equal(apply(&m), DNS_RCODE_REFUSED);
	/* the transaction is as after the first request */
	msg_zone(&m);
	PRE(&m, "two.example.com.", DNS_TYPE_ANY, NONE, 0, NULL);
	PRE(&m, "one.example.com.", DNS_TYPE_A, ANY, 0, NULL);
	PRE(&m, "www.example.com.", DNS_TYPE_A, IN, 0, "192.0.2.81");
	UPD(&m, "three.example.com.", DNS_TYPE_A, IN, 300, "192.0.2.13");
	assert_int_equal(apply(&m), 0);
	assert_int_equal(commit(), 101);
	ASSERT_ZONE("+one.example.com.\t300\tIN\tA\t192.0.2.11",
	            "+three.example.com.\t300\tIN\tA\t192.0.2.13",
	            "-www.example.com.\t3600\tIN\tA\t192.0.2.80");
}

/* zone/update.h's savepoints and view on their own. */
static int count_rr(void *arg, const zone_rr_t *rr)
{
	(void)rr;
	(*(unsigned *)arg)++;
	return 0;
}

static unsigned view_count(const char *owner, uint16_t type)
{
	unsigned n = 0;
	assert_int_equal(zone_update_each(U, t_name(owner), type, count_rr, &n), 0);
	return n;
}

static void test_savepoints(void **state)
{
	(void)state;
	uint8_t a1[] = {192, 0, 2, 1}, a2[] = {192, 0, 2, 2};
	zone_rr_t r1 = {t_name("p.example.com."), DNS_TYPE_A, IN, 300, 4, a1};
	zone_rr_t r2 = {t_name("p.example.com."), DNS_TYPE_A, IN, 300, 4, a2};
	zone_rr_t w80 = {t_name("www.example.com."),      DNS_TYPE_A, IN, 3600, 4,
	                 (const uint8_t[]){192, 0, 2, 80}};
	assert_int_equal(zone_update_add(U, &r1), 0);
	zone_update_mark_t m1 = zone_update_mark(U);
	assert_int_equal(zone_update_add(U, &r2), 0);
	assert_int_equal(zone_update_remove(U, &r1), 0);
	assert_int_equal(zone_update_remove(U, &w80), 0);
	zone_update_mark_t m2 = zone_update_mark(U);
	assert_int_equal(zone_update_rrset_ttl(U, r2.owner, DNS_TYPE_A, 5), 0);
	assert_int_equal(zone_update_add(U, &w80), 0);
	assert_int_equal(view_count("www.example.com.", DNS_TYPE_A), 2);
	assert_int_equal(view_count("p.example.com.", DNS_TYPE_ANY), 1);
	zone_update_rollback(U, m2);
	assert_int_equal(view_count("www.example.com.", DNS_TYPE_A), 1);
	assert_true(zone_update_name_used(U, t_name("p.example.com.")));
	zone_update_rollback(U, m1);
	assert_int_equal(view_count("www.example.com.", DNS_TYPE_A), 2);
	assert_int_equal(view_count("p.example.com.", DNS_TYPE_A), 1);
	assert_false(zone_update_name_used(U, t_name("c.example.com.")));
	/* the SOA of the view, and its undo */
	zone_rr_t soa;
	uint8_t buf[DNS_SOA_MAX_LEN], rd[512];
	trr_t t = {"@", DNS_TYPE_SOA, 60, "150"};
	zone_rr_t s150 = {t_apex(), DNS_TYPE_SOA, IN, 60, (uint16_t)t_encode(&t, rd), rd};
	zone_update_mark_t m3 = zone_update_mark(U);
	assert_int_equal(zone_update_set_soa(U, &s150), 1);
	zone_update_soa(U, &soa, buf);
	assert_int_equal(soa.ttl, 60);
	assert_int_equal(zone_update_set_soa(U, &s150), 0);
	zone_update_rollback(U, m3);
	zone_update_soa(U, &soa, buf);
	assert_int_equal(soa.ttl, 3600);
	assert_int_equal(commit(), 101);
	ASSERT_ZONE("+p.example.com.\t300\tIN\tA\t192.0.2.1");
}

/* zone/dump.h: one record's master-file form, and whether a record survives it. */
static void test_rr_text(void **state)
{
	(void)state;
	char buf[128];
	const uint8_t a[] = {192, 0, 2, 1}, txt_bad[] = {5, 'a', 'b'}, txt[] = {2, 'a', '"'};
	zone_rr_t rr = {t_name("www.example.com."), DNS_TYPE_A, IN, 300, 4, a};
	assert_int_equal(zone_rr_format(&rr, buf, sizeof(buf)), 35);
	assert_string_equal(buf, "www.example.com.\t300\tIN\tA\t192.0.2.1");
	assert_int_equal(zone_rr_format(&rr, buf, 35), -ENOSPC);
	assert_true(zone_rr_text_safe(&rr));
	rr = (zone_rr_t){t_name("t.example.com."), DNS_TYPE_TXT, IN, 300, 3, txt};
	assert_true(zone_rr_text_safe(&rr));
	rr.rdata = txt_bad;
	assert_false(zone_rr_text_safe(&rr));
	/* an owner with a dot and a space inside a label survives (escaped) */
	uint8_t odd[] = {3,   'a', '.', ' ', 7,   'e', 'x', 'a', 'm',
	                 'p', 'l', 'e', 3,   'c', 'o', 'm', 0};
	rr = (zone_rr_t){odd, DNS_TYPE_A, IN, 300, 4, a};
	assert_true(zone_rr_text_safe(&rr));
}

int main(void)
{
	rcu_register_thread();
	rcu_thread_offline();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_zone_section, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prereq_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prereq_value, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prereq_blocks_update, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add_ttl, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_noop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_rrset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_rr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_soa, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cname, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prescan, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_permission, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compressed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_glue, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_rollback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_savepoints, setup, teardown),
	    cmocka_unit_test(test_rr_text),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_thread_online();
	rcu_unregister_thread();
	return rc;
}
