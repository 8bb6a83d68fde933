/* test_answer.c — srv_answer() on raw query bytes against the zones in data/.
 *
 * Each case builds a query by hand, answers it, checks the header (rcode, AA, TC, section
 * counts) from the raw bytes, checks that every compression pointer points backwards at a
 * name already written, parses the response back with ldns_wire2pkt and looks for the
 * expected records in ldns's presentation form. Every srv_answer() call here goes through
 * answer_with(), which also checks the invariants every response must keep (ID, flags and
 * question echoed, section counts, TC only over UDP, size limits) and that the call allocated
 * nothing: the executable is linked with the allocation counter (tests/unit/alloc_count.h).
 *
 * Run from this folder (meson sets workdir) so data/ is found.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "contrib/base/err.h"
#include "dns/name.h"
#include "server/engine/answer.h"
#include "tests/unit/alloc_count.h"
#include "zone/load.h"
#include "zone/zone.h"
#include "zone/zoneset.h"

#define PAYLOAD_OURS 1232

static zone_t *g_zones[2];
static zone_set_t *g_set;
static srv_answer_ctx_t *g_ctx;
static const srv_answer_conf_t g_conf = {.identity = "ns1.test", .udp_max_payload = PAYLOAD_OURS};
static uint8_t g_q[4096];
static size_t g_qlen;
static uint8_t g_r[SRV_RESPONSE_MAX];
static size_t g_rlen;

/* --- zones --- */

static zone_t *load(const char *apex_text, const char *path)
{
	uint8_t apex[DNAME_MAX];
	zone_t *z = NULL;
	zone_version_t *v = NULL;
	assert_true(dname_from_str(apex_text, NULL, apex) > 0);
	assert_int_equal(zone_load_file(apex, path, NULL, &v), 0);
	assert_int_equal(zone_new(apex, path, &z), 0);
	zone_publish(z, v);
	return z;
}

static int setup(void **state)
{
	g_zones[0] = load("example.com.", "data/example.com.zone");
	g_zones[1] = load("child.example.com.", "data/child.example.com.zone");
	assert_int_equal(zone_set_new(g_zones, 2, &g_set), 0);
	assert_int_equal(srv_answer_ctx_new(&g_conf, &g_ctx), 0);
	return 0;
}

static int teardown(void **state)
{
	srv_answer_ctx_free(g_ctx);
	zone_set_free(g_set);
	zone_free(g_zones[0]);
	zone_free(g_zones[1]);
	return 0;
}

/* --- building queries --- */

static size_t put_name(uint8_t *p, const char *text)
{
	size_t n = 0;
	while (*text) {
		const char *dot = strchr(text, '.');
		size_t l = dot ? (size_t)(dot - text) : strlen(text);
		p[n++] = (uint8_t)l;
		memcpy(p + n, text, l);
		n += l;
		text += l + (dot ? 1 : 0);
	}
	p[n++] = 0;
	return n;
}

static size_t put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

enum { NO_EDNS = -1 };

/* A query; edns >= 0 adds an OPT with that payload size (version 0, DO off). */
static size_t mkquery(uint8_t *p, const char *qname, uint16_t qtype, uint16_t qclass, int edns)
{
	memset(p, 0, 12);
	put16(p, 0xbeef);
	put16(p + 2, 0x0100 | 0x0010); /* RD, CD */
	put16(p + 4, 1);
	size_t n = 12 + put_name(p + 12, qname);
	n += put16(p + n, qtype);
	n += put16(p + n, qclass);
	if (edns >= 0) {
		put16(p + 10, 1);
		p[n++] = 0;
		n += put16(p + n, 41);
		n += put16(p + n, (uint16_t)edns);
		memset(p + n, 0, 4);
		n += 4;
		n += put16(p + n, 0);
	}
	return n;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* --- checking responses --- */

#define RCODE(r) ((r)[3] & 0xf)
#define AA(r)    (((r)[2] >> 2) & 1)
#define TC(r)    (((r)[2] >> 1) & 1)

/* Walk a name in the response; every pointer must point strictly before the name that uses
 * it (so it names something already written) and the walk must end in bounds. */
static size_t check_name(const uint8_t *m, size_t len, size_t pos)
{
	size_t start = pos, hops = 0, out = 0;
	for (;;) {
		assert_true(pos < len);
		uint8_t l = m[pos];
		if ((l & 0xc0) == 0xc0) {
			assert_true(pos + 1 < len);
			size_t target = ((size_t)(l & 0x3f) << 8) | m[pos + 1];
			assert_true(target < start);
			assert_true(target >= 12);
			if (out == 0)
				out = pos + 2;
			start = target;
			pos = target;
			assert_true(++hops < 64);
			continue;
		}
		assert_int_equal(l & 0xc0, 0);
		if (l == 0)
			return out ? out : pos + 1;
		pos += 1u + l;
	}
}

/* Header sanity, pointer validity, and a full parse by ldns. */
static void check_wire(void)
{
	assert_true(g_rlen >= 12);
	size_t pos = 12;
	unsigned qd = get16(g_r + 4);
	unsigned rrs = get16(g_r + 6) + get16(g_r + 8) + get16(g_r + 10);
	for (unsigned i = 0; i < qd; i++)
		pos = check_name(g_r, g_rlen, pos) + 4;
	for (unsigned i = 0; i < rrs; i++) {
		size_t rr = check_name(g_r, g_rlen, pos);
		assert_true(rr + 10 <= g_rlen);
		uint16_t type = get16(g_r + rr);
		size_t rdlen = get16(g_r + rr + 8);
		assert_true(rr + 10 + rdlen <= g_rlen);
		/* names in NS/CNAME/PTR RDATA (possibly compressed) must be exactly the RDATA */
		if (type == 2 || type == 5 || type == 12)
			assert_int_equal(check_name(g_r, g_rlen, rr + 10), rr + 10 + rdlen);
		pos = rr + 10 + rdlen;
	}
	assert_int_equal(pos, g_rlen);
	ldns_pkt *pkt = NULL;
	assert_int_equal(ldns_wire2pkt(&pkt, g_r, g_rlen), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
}

/* The header of a response to q: ID echoed, QR set, opcode, RD and CD echoed, RA, Z and AD
 * clear; the question echoed byte for byte when there is one (only when the request had one);
 * the counts agree with the sections ldns finds; TC only over UDP; a UDP response within the
 * limits (512 without our OPT, our payload size with it). */
static void check_invariants(const uint8_t *q, size_t qlen, bool tcp)
{
	assert_true(g_rlen >= 12);
	assert_memory_equal(g_r, q, 2);
	assert_true(g_r[2] & 0x80);
	assert_int_equal(g_r[2] & 0x79, q[2] & 0x79); /* opcode, RD */
	assert_int_equal(g_r[3] & 0xf0, q[3] & 0x10); /* RA, Z, AD clear; CD echoed */
	unsigned qd = get16(g_r + 4);
	assert_true(qd <= 1);
	assert_true(qd == 0 || get16(q + 4) >= 1);
	if (qd == 1) {
		size_t qend = check_name(g_r, g_rlen, 12) + 4;
		assert_true(qend <= qlen);
		assert_memory_equal(g_r + 12, q + 12, qend - 12);
	}
	ldns_pkt *pkt = NULL;
	assert_int_equal(ldns_wire2pkt(&pkt, g_r, g_rlen), LDNS_STATUS_OK);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_question(pkt)), qd);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_answer(pkt)), get16(g_r + 6));
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_authority(pkt)), get16(g_r + 8));
	bool opt = ldns_pkt_edns(pkt);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_additional(pkt)) + (opt ? 1 : 0),
	                 get16(g_r + 10));
	ldns_pkt_free(pkt);
	/* our OPT only answers an OPT */
	assert_true(!opt || get16(q + 10) >= 1);
	if (tcp) {
		assert_int_equal(TC(g_r), 0);
	} else {
		assert_true(g_rlen <= (opt ? PAYLOAD_OURS : 512));
	}
}

/* Answer q as peer would send it, against set: no allocation, every invariant kept, and a
 * response exactly when the request has a header and is not itself a response. */
static size_t answer_with(const zone_set_t *set, const uint8_t *q, size_t qlen,
                          const srv_peer_t *peer)
{
	alloc_count_start();
	g_rlen = srv_answer(g_ctx, set, q, qlen, g_r, peer);
	alloc_counts_t n = alloc_count_stop();
	if (n.allocs || n.frees)
		fail_msg("srv_answer allocated %zu times and freed %zu times", n.allocs, n.frees);
	bool drop = qlen < 12 || (q[2] & 0x80);
	assert_int_equal(g_rlen == 0, drop);
	if (g_rlen) {
		check_wire();
		check_invariants(q, qlen, peer->tcp);
	}
	return g_rlen;
}

static size_t answer_raw(const uint8_t *q, size_t qlen, bool tcp)
{
	srv_peer_t peer = {.addr = NULL, .tcp = tcp};
	return answer_with(g_set, q, qlen, &peer);
}

static size_t ask(const char *qname, uint16_t qtype, uint16_t qclass, int edns, bool tcp)
{
	g_qlen = mkquery(g_q, qname, qtype, qclass, edns);
	return answer_raw(g_q, g_qlen, tcp);
}

static char *response_text(void)
{
	ldns_pkt *pkt = NULL;
	assert_int_equal(ldns_wire2pkt(&pkt, g_r, g_rlen), LDNS_STATUS_OK);
	char *s = ldns_pkt2str(pkt);
	ldns_pkt_free(pkt);
	assert_non_null(s);
	return s;
}

/* Header expectations; ar counts the OPT too. */

static void expect(int rcode, int aa, int tc, int an, int ns, int ar)
{
	assert_true(g_rlen >= 12);
	assert_int_equal(RCODE(g_r), rcode);
	assert_int_equal(AA(g_r), aa);
	assert_int_equal(TC(g_r), tc);
	assert_int_equal(get16(g_r + 6), an);
	assert_int_equal(get16(g_r + 8), ns);
	assert_int_equal(get16(g_r + 10), ar);
}

/* --- the table --- */

enum { UDP = 0, TCP = 1 };
#define IN 1
#define CH 3

typedef struct tcase {
	const char *qname;
	uint16_t qtype;
	uint16_t qclass;
	int edns;
	int tcp;
	int rcode, aa, tc, an, ns, ar;
	/* substrings of ldns's rendering of the response; "!x": x must not be in the answer */
	const char *must[6];
} tcase_t;

/* clang-format off */
static const tcase_t cases[] = {
	/* exact answer */
	{"www.example.com", 1, IN, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0,
	 {";; ANSWER SECTION:\nwww.example.com.\t3600\tIN\tA\t192.0.2.80"}},
	/* NODATA: SOA with TTL min(3600, 300) */
	{"www.example.com", 15, IN, NO_EDNS, UDP, 0, 1, 0, 0, 1, 0,
	 {";; AUTHORITY SECTION:\nexample.com.\t300\tIN\tSOA\tns1.example.com. hostmaster.example.com. 2024010101"}},
	/* NXDOMAIN */
	{"nope.example.com", 1, IN, NO_EDNS, UDP, 3, 1, 0, 0, 1, 0,
	 {"example.com.\t300\tIN\tSOA"}},
	/* empty non-terminal: NODATA, not NXDOMAIN (RFC 8020) */
	{"ent.example.com", 1, IN, NO_EDNS, UDP, 0, 1, 0, 0, 1, 0, {"IN\tSOA"}},
	{"x.ent.example.com", 1, IN, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0, {"x.ent.example.com.\t3600\tIN\tA\t192.0.2.9"}},
	/* wildcard: owner rewritten to the name asked */
	{"foo.wild.example.com", 1, IN, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0,
	 {"foo.wild.example.com.\t3600\tIN\tA\t192.0.2.100", "!*"}},
	{"a.b.wild.example.com", 16, IN, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0,
	 {"a.b.wild.example.com.\t3600\tIN\tTXT\t\"wildcard\""}},
	/* wildcard NODATA */
	{"foo.wild.example.com", 28, IN, NO_EDNS, UDP, 0, 1, 0, 0, 1, 0, {"IN\tSOA"}},
	/* an existing name blocks synthesis for itself and below (RFC 4592 2.2.1) */
	{"exists.wild.example.com", 16, IN, NO_EDNS, UDP, 0, 1, 0, 0, 1, 0, {"IN\tSOA"}},
	{"sub.exists.wild.example.com", 1, IN, NO_EDNS, UDP, 3, 1, 0, 0, 1, 0, {"IN\tSOA"}},
	/* the wildcard node itself, asked literally */
	{"*.wild.example.com", 1, IN, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0, {"*.wild.example.com.\t3600\tIN\tA"}},
	/* wildcard CNAME, followed */
	{"x.wc.example.com", 1, IN, NO_EDNS, UDP, 0, 1, 0, 2, 0, 0,
	 {"x.wc.example.com.\t3600\tIN\tCNAME\twww.example.com.", "www.example.com.\t3600\tIN\tA\t192.0.2.80"}},
	/* CNAME chain across 3 names (case of the RDATA kept) */
	{"cname1.example.com", 1, IN, NO_EDNS, UDP, 0, 1, 0, 3, 0, 0,
	 {"cname1.example.com.\t3600\tIN\tCNAME\tcname2.example.com.",
	  "cname2.example.com.\t3600\tIN\tCNAME\tCName3.example.com.",
	  "CName3.example.com.\t3600\tIN\tA\t192.0.2.3"}},
	/* CNAME asked directly: no following */
	{"cname1.example.com", 5, IN, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0, {"IN\tCNAME\tcname2"}},
	/* chain ending in NODATA */
	{"cname1.example.com", 28, IN, NO_EDNS, UDP, 0, 1, 0, 2, 1, 0, {"IN\tSOA"}},
	/* CNAME loop: both CNAMEs, then stop */
	{"loop1.example.com", 1, IN, NO_EDNS, UDP, 0, 1, 0, 2, 0, 0,
	 {"loop1.example.com.\t3600\tIN\tCNAME\tloop2", "loop2.example.com.\t3600\tIN\tCNAME\tloop1"}},
	/* CNAME to a name that does not exist: NXDOMAIN (RFC 6604) */
	{"dangling.example.com", 1, IN, NO_EDNS, UDP, 3, 1, 0, 1, 1, 0,
	 {"IN\tCNAME\tnothere.example.com.", "IN\tSOA"}},
	/* CNAME out of the zone: just the CNAME */
	{"out.example.com", 1, IN, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0, {"IN\tCNAME\twww.example.net."}},
	/* CNAME below a zone cut: the chain ends with the CNAME */
	/* a chain into a delegation ends in its referral; AA stays (RFC 1034 4.3.2 3a then 3b) */
	{"tosub.example.com", 1, IN, NO_EDNS, UDP, 0, 1, 0, 1, 2, 3,
	 {"IN\tCNAME\thost.sub.example.com.", ";; AUTHORITY SECTION:\nsub.example.com.\t3600\tIN\tNS\tns.",
	  "ns.sub.example.com.\t3600\tIN\tA\t192.0.2.201", "ns.sub.example.com.\t3600\tIN\tAAAA\t2001:db8::201"}},
	/* DNAME: DNAME, synthesized CNAME (TTL of the DNAME), then the target */
	{"host.dn.example.com", 1, IN, NO_EDNS, UDP, 0, 1, 0, 3, 0, 0,
	 {"dn.example.com.\t3600\tIN\tDNAME\ttarget.example.com.",
	  "host.dn.example.com.\t3600\tIN\tCNAME\thost.target.example.com.",
	  "host.target.example.com.\t3600\tIN\tA\t192.0.2.44"}},
	{"nothere.dn.example.com", 1, IN, NO_EDNS, UDP, 3, 1, 0, 2, 1, 0, {"IN\tDNAME", "IN\tCNAME\tnothere.target.example.com."}},
	/* the DNAME above a cut redirects; a DNAME below a cut is not authoritative */
	{"a.sub.dn.example.com", 1, IN, NO_EDNS, UDP, 3, 1, 0, 2, 1, 0,
	 {"IN\tDNAME", "a.sub.dn.example.com.\t3600\tIN\tCNAME\ta.sub.target.example.com.", "!\tNS\t"}},
	{"a.deep.sub.example.com", 1, IN, NO_EDNS, UDP, 0, 0, 0, 0, 2, 3, {"sub.example.com.\t3600\tIN\tNS", "!DNAME"}},
	/* DNAME asked at its owner: plain answer */
	{"dn.example.com", 39, IN, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0, {"IN\tDNAME\ttarget.example.com."}},
	{"dn.example.com", 1, IN, NO_EDNS, UDP, 0, 1, 0, 0, 1, 0, {"IN\tSOA"}},
	/* DNAME whose substitution exceeds 255 bytes: YXDOMAIN with the DNAME */
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.longdn.example.com", 1, IN, NO_EDNS, UDP,
	 6, 1, 0, 1, 0, 0, {"longdn.example.com.\t3600\tIN\tDNAME", "!CNAME"}},
	/* referral: NS in authority, in-domain glue and sibling glue, AA=0, no SOA */
	{"www.sub.example.com", 1, IN, NO_EDNS, UDP, 0, 0, 0, 0, 2, 3,
	 {";; AUTHORITY SECTION:\nsub.example.com.\t3600\tIN\tNS", "ns.sub.example.com.\t3600\tIN\tA\t192.0.2.201",
	  "ns.sub.example.com.\t3600\tIN\tAAAA\t2001:db8::201", "ns.other.example.com.\t3600\tIN\tA\t192.0.2.202", "!SOA"}},
	{"sub.example.com", 2, IN, NO_EDNS, UDP, 0, 0, 0, 0, 2, 3, {"sub.example.com.\t3600\tIN\tNS\tns.sub.example.com."}},
	/* DS at the cut: parent side, AA=1 */
	{"sub.example.com", 43, IN, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0, {"sub.example.com.\t3600\tIN\tDS\t12345 8 2"}},
	/* DS below the cut: referral */
	{"x.sub.example.com", 43, IN, NO_EDNS, UDP, 0, 0, 0, 0, 2, 3, {"IN\tNS"}},
	/* DS at the apex of a served child: answered by the served parent */
	{"child.example.com", 43, IN, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0, {"child.example.com.\t3600\tIN\tDS\t54321 13 2"}},
	/* DS at a cut without DS: NODATA from the parent side */
	{"other.example.com", 43, IN, NO_EDNS, UDP, 0, 1, 0, 0, 1, 0, {"example.com.\t300\tIN\tSOA"}},
	/* anything else at the child apex: the child zone */
	{"child.example.com", 1, IN, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0, {"child.example.com.\t300\tIN\tA\t192.0.2.211"}},
	{"child.example.com", 6, IN, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0, {"child.example.com.\t300\tIN\tSOA"}},
	/* NS answer at the apex: addresses of the in-zone target only */
	{"example.com", 2, IN, NO_EDNS, UDP, 0, 1, 0, 2, 0, 2,
	 {";; ADDITIONAL SECTION:\nns1.example.com.\t3600\tIN\tA\t192.0.2.53", "ns1.example.com.\t3600\tIN\tAAAA"}},
	/* MX additional */
	{"example.com", 15, IN, NO_EDNS, UDP, 0, 1, 0, 2, 0, 2,
	 {"example.com.\t3600\tIN\tMX\t10 mail.example.com.", "mail.example.com.\t3600\tIN\tA\t192.0.2.25",
	  "mail.example.com.\t3600\tIN\tAAAA\t2001:db8::25"}},
	/* SRV additional */
	{"_sip._tcp.example.com", 33, IN, NO_EDNS, UDP, 0, 1, 0, 1, 0, 1,
	 {"IN\tSRV\t0 5 5060 sip.example.com.", "sip.example.com.\t3600\tIN\tA\t192.0.2.60"}},
	/* ANY over UDP: one RRset, the first in type order (A); over TCP: all RRsets */
	{"example.com", 255, IN, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0, {"example.com.\t3600\tIN\tA\t192.0.2.1", "!SOA"}},
	{"example.com", 255, IN, NO_EDNS, TCP, 0, 1, 0, 7, 0, 4, {"IN\tSOA", "IN\tTXT\t\"apex\"", "IN\tMX"}},
	{"cname1.example.com", 255, IN, NO_EDNS, TCP, 0, 1, 0, 1, 0, 0, {"IN\tCNAME\tcname2"}},
	/* out of our zones, other classes, transfers, meta types */
	{"example.org", 1, IN, NO_EDNS, UDP, 5, 0, 0, 0, 0, 0, {0}},
	{"www.example.com", 1, 4, NO_EDNS, UDP, 5, 0, 0, 0, 0, 0, {0}},
	/* QCLASS * is answered from IN (RFC 1035 3.2.5) */
	{"www.example.com", 1, 255, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0, {"www.example.com.\t3600\tIN\tA\t192.0.2.80"}},
	{"example.com", 252, IN, NO_EDNS, TCP, 5, 0, 0, 0, 0, 0, {0}},
	{"example.com", 251, IN, NO_EDNS, UDP, 5, 0, 0, 0, 0, 0, {0}},
	{"example.com", 0, IN, NO_EDNS, UDP, 4, 0, 0, 0, 0, 0, {0}},
	/* other meta types are looked up like data types (as Knot does): NODATA / NXDOMAIN */
	{"example.com", 41, IN, NO_EDNS, UDP, 0, 1, 0, 0, 1, 0, {"IN\tSOA"}},
	{"example.com", 249, IN, NO_EDNS, UDP, 0, 1, 0, 0, 1, 0, {"IN\tSOA"}},
	{"example.com", 250, IN, NO_EDNS, UDP, 0, 1, 0, 0, 1, 0, {"IN\tSOA"}},
	{"nope.example.com", 254, IN, NO_EDNS, UDP, 3, 1, 0, 0, 1, 0, {"IN\tSOA"}},
	/* CHAOS identity */
	{"id.server", 16, CH, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0, {"id.server.\t0\tCH\tTXT\t\"ns1.test\""}},
	{"HOSTNAME.BIND", 255, CH, NO_EDNS, UDP, 0, 1, 0, 1, 0, 0, {"HOSTNAME.BIND.\t0\tCH\tTXT\t\"ns1.test\""}},
	{"version.bind", 16, CH, NO_EDNS, UDP, 5, 0, 0, 0, 0, 0, {0}},
	{"id.server", 1, CH, NO_EDNS, UDP, 5, 0, 0, 0, 0, 0, {0}},
	/* large TXT: TC over UDP without EDNS (header + question only), whole over TCP */
	{"big.example.com", 16, IN, NO_EDNS, UDP, 0, 1, 1, 0, 0, 0, {0}},
	{"big.example.com", 16, IN, 4096, UDP, 0, 1, 0, 8, 0, 1, {"big.example.com.\t3600\tIN\tTXT\t\"07x"}},
	{"big.example.com", 16, IN, NO_EDNS, TCP, 0, 1, 0, 8, 0, 0, {"big.example.com.\t3600\tIN\tTXT\t\"00x"}},
	/* EDNS payload below 512 counts as 512; ours (1232) caps the client's 4096 */
	{"big.example.com", 16, IN, 100, UDP, 0, 1, 1, 0, 0, 1, {0}},
	/* referral whose required in-domain glue does not fit 512: TC */
	{"x.bigdeleg.example.com", 1, IN, NO_EDNS, UDP, 0, 0, 1, 0, 0, 0, {0}},
	{"x.bigdeleg.example.com", 1, IN, NO_EDNS, TCP, 0, 0, 0, 0, 39, 39, {"ns39.bigdeleg.example.com.\t3600\tIN\tAAAA"}},
};
/* clang-format on */

static void test_table(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const tcase_t *c = &cases[i];
		print_message("case %zu: %s/%u/%u edns=%d tcp=%d\n", i, c->qname, c->qtype,
		              c->qclass, c->edns, c->tcp);
		assert_true(ask(c->qname, c->qtype, c->qclass, c->edns, c->tcp) > 0);
		expect(c->rcode, c->aa, c->tc, c->an, c->ns, c->ar);
		/* the question is echoed byte for byte */
		assert_int_equal(get16(g_r + 4), 1);
		assert_memory_equal(g_r + 12, g_q + 12, g_qlen - 12 - (c->edns >= 0 ? 11 : 0));
		char *text = response_text();
		for (size_t j = 0; j < 6 && c->must[j]; j++) {
			const char *m = c->must[j];
			const char *ans = strstr(text, ";; ANSWER SECTION:");
			if (m[0] != '!' && !strstr(text, m))
				fail_msg("case %zu: missing \"%s\" in\n%s", i, m, text);
			if (m[0] == '!' && strstr(ans ? ans : text, m + 1))
				fail_msg("case %zu: unexpected \"%s\" in\n%s", i, m + 1, text);
		}
		free(text);
	}
}

/* --- header, flags and 0x20 --- */

static void test_header_and_case(void **state)
{
	assert_true(ask("wWw.ExAmPlE.cOm", 1, IN, NO_EDNS, UDP) > 0);
	expect(0, 1, 0, 1, 0, 0);
	assert_int_equal(get16(g_r), 0xbeef);
	/* QR, opcode 0, AA, RD copied, RA 0, Z 0, AD 0, CD copied */
	assert_int_equal(g_r[2], 0x80 | 0x04 | 0x01);
	assert_int_equal(g_r[3], 0x10);
	assert_memory_equal(g_r + 12, g_q + 12, g_qlen - 12);
	/* the answer's owner is a pointer to the question name (offset 12) */
	assert_int_equal(g_r[g_qlen], 0xc0);
	assert_int_equal(g_r[g_qlen + 1], 12);
}

static void test_compression(void **state)
{
	/* MX answer: owners point at the question, the exchange names are compressed against
	 * the zone name, and the additional owners point at the exchange names */
	assert_true(ask("example.com", 15, IN, NO_EDNS, UDP) > 0);
	/* header 12 + question 17; MX 10 mail: owner pointer 2 + 10 + (2 + "mail" 5 + pointer 2)
	 * = 21; MX 20 mx.example.net. (nothing to share) = 2 + 10 + 18 = 30; additional owners
	 * point into the first exchange name: A 2 + 10 + 4 = 16, AAAA 2 + 10 + 16 = 28 */
	assert_int_equal(g_rlen, 12 + 17 + 21 + 30 + 16 + 28);
	ldns_pkt *pkt = NULL;
	assert_int_equal(ldns_wire2pkt(&pkt, g_r, g_rlen), LDNS_STATUS_OK);
	ldns_rr_list *ar = ldns_pkt_additional(pkt);
	assert_int_equal(ldns_rr_list_rr_count(ar), 2);
	ldns_pkt_free(pkt);
}

/* --- EDNS --- */

static void test_edns(void **state)
{
	/* payload: ours, DO echoed, version 0, no options */
	g_qlen = mkquery(g_q, "www.example.com", 1, IN, 4096);
	g_q[g_qlen - 4] = 0x80; /* DO */
	assert_true(answer_raw(g_q, g_qlen, false) > 0);
	expect(0, 1, 0, 1, 0, 1);
	const uint8_t *opt = g_r + g_rlen - 11;
	assert_int_equal(opt[0], 0);
	assert_int_equal(get16(opt + 1), 41);
	assert_int_equal(get16(opt + 3), PAYLOAD_OURS);
	assert_int_equal(opt[5], 0);    /* ext rcode */
	assert_int_equal(opt[6], 0);    /* version */
	assert_int_equal(opt[7], 0x80); /* DO */
	assert_int_equal(get16(opt + 9), 0);

	/* no DO: none echoed */
	ask("www.example.com", 1, IN, 4096, false);
	assert_int_equal(g_r[g_rlen - 4], 0);

	/* BADVERS: header rcode 0, extended rcode 1, no answer, question kept */
	g_qlen = mkquery(g_q, "www.example.com", 1, IN, 4096);
	g_q[g_qlen - 5] = 1; /* version 1 */
	assert_true(answer_raw(g_q, g_qlen, false) > 0);
	expect(0, 0, 0, 0, 0, 1);
	assert_int_equal(g_r[g_rlen - 6], 1);
	assert_int_equal(get16(g_r + 4), 1);

	/* unknown option ignored */
	g_qlen = mkquery(g_q, "www.example.com", 1, IN, 1232);
	static const uint8_t opt_unknown[] = {0xfd, 0xe9, 0, 3, 1, 2, 3};
	put16(g_q + g_qlen - 2, sizeof(opt_unknown));
	memcpy(g_q + g_qlen, opt_unknown, sizeof(opt_unknown));
	g_qlen += sizeof(opt_unknown);
	assert_true(answer_raw(g_q, g_qlen, false) > 0);
	expect(0, 1, 0, 1, 0, 1);

	/* malformed option list (the option overruns RDATA): FORMERR without OPT */
	g_qlen = mkquery(g_q, "www.example.com", 1, IN, 1232);
	static const uint8_t opt_bad[] = {0xfd, 0xe9, 0, 9, 1, 2, 3};
	put16(g_q + g_qlen - 2, sizeof(opt_bad));
	memcpy(g_q + g_qlen, opt_bad, sizeof(opt_bad));
	g_qlen += sizeof(opt_bad);
	assert_true(answer_raw(g_q, g_qlen, false) > 0);
	expect(1, 0, 0, 0, 0, 0);

	/* duplicate OPT: FORMERR, with OPT (the first parsed) */
	g_qlen = mkquery(g_q, "www.example.com", 1, IN, 1232);
	memcpy(g_q + g_qlen, g_q + g_qlen - 11, 11);
	g_qlen += 11;
	put16(g_q + 10, 2);
	assert_true(answer_raw(g_q, g_qlen, false) > 0);
	expect(1, 0, 0, 0, 0, 1);
	assert_int_equal(get16(g_r + 4), 1);

	/* OPT with a non-root owner: FORMERR */
	g_qlen = mkquery(g_q, "www.example.com", 1, IN, NO_EDNS);
	static const uint8_t bad_opt[] = {1, 'a', 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0};
	memcpy(g_q + g_qlen, bad_opt, sizeof(bad_opt));
	g_qlen += sizeof(bad_opt);
	put16(g_q + 10, 1);
	assert_true(answer_raw(g_q, g_qlen, false) > 0);
	expect(1, 0, 0, 0, 0, 0);

	/* a FORMERR to a query with a good OPT carries OPT */
	g_qlen = mkquery(g_q, "www.example.com", 1, IN, 1232);
	g_q[g_qlen++] = 0xff; /* trailing garbage */
	assert_true(answer_raw(g_q, g_qlen, false) > 0);
	expect(1, 0, 0, 0, 0, 1);

	/* UDP limit = max(512, min(client, ours)): the 8-TXT answer (about 950 bytes) does not
	 * fit a client's 600, and fits its 1232 */
	ask("big.example.com", 16, IN, 600, false);
	expect(0, 1, 1, 0, 0, 1);
	assert_true(g_rlen <= 600);
	ask("big.example.com", 16, IN, 1232, false);
	expect(0, 1, 0, 8, 0, 1);
}

/* --- malformed and unusual messages --- */

static void test_formerr_notimp_drop(void **state)
{
	srv_peer_t peer = {.tcp = false};
	/* short header: drop */
	g_qlen = mkquery(g_q, "www.example.com", 1, IN, NO_EDNS);
	assert_int_equal(answer_with(g_set, g_q, 11, &peer), 0);
	assert_int_equal(answer_with(g_set, g_q, 0, &peer), 0);
	/* QR=1: drop */
	g_q[2] |= 0x80;
	assert_int_equal(answer_raw(g_q, g_qlen, false), 0);
	g_q[2] &= 0x7f;

	/* header only, QDCOUNT 0: FORMERR, no question */
	g_qlen = mkquery(g_q, "www.example.com", 1, IN, NO_EDNS);
	put16(g_q + 4, 0);
	assert_true(answer_raw(g_q, 12, false) > 0);
	expect(1, 0, 0, 0, 0, 0);
	assert_int_equal(get16(g_r + 4), 0);
	assert_int_equal(g_rlen, 12);
	/* QDCOUNT 2 */
	g_qlen = mkquery(g_q, "www.example.com", 1, IN, NO_EDNS);
	put16(g_q + 4, 2);
	assert_true(answer_raw(g_q, g_qlen, false) > 0);
	expect(1, 0, 0, 0, 0, 0);
	/* truncated question */
	g_qlen = mkquery(g_q, "www.example.com", 1, IN, NO_EDNS);
	assert_true(answer_raw(g_q, g_qlen - 1, false) > 0);
	expect(1, 0, 0, 0, 0, 0);
	assert_int_equal(get16(g_r + 4), 0);
	/* compressed question name */
	static const uint8_t cq[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
	assert_true(answer_raw(cq, sizeof(cq), false) > 0);
	expect(1, 0, 0, 0, 0, 0);
	/* ANCOUNT != 0 with a well-formed RR: FORMERR with the question */
	g_qlen = mkquery(g_q, "www.example.com", 1, IN, NO_EDNS);
	static const uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
	memcpy(g_q + g_qlen, rr, sizeof(rr));
	put16(g_q + 6, 1);
	assert_true(answer_raw(g_q, g_qlen + sizeof(rr), false) > 0);
	expect(1, 0, 0, 0, 0, 0);
	assert_int_equal(get16(g_r + 4), 1);
	/* the same RR in authority */
	put16(g_q + 6, 0);
	put16(g_q + 8, 1);
	assert_true(answer_raw(g_q, g_qlen + sizeof(rr), false) > 0);
	expect(1, 0, 0, 0, 0, 0);
	/* ... and in additional (only OPT and TSIG may be there) */
	put16(g_q + 8, 0);
	put16(g_q + 10, 1);
	assert_true(answer_raw(g_q, g_qlen + sizeof(rr), false) > 0);
	expect(1, 0, 0, 0, 0, 0);
	/* a TSIG RR: the engine does not look at it (server/xfr/serve.c verifies it) */
	static const uint8_t tsig[] = {0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0};
	memcpy(g_q + g_qlen, tsig, sizeof(tsig));
	assert_true(answer_raw(g_q, g_qlen + sizeof(tsig), false) > 0);
	expect(0, 1, 0, 1, 0, 0);
	/* ARCOUNT larger than what is there */
	put16(g_q + 10, 2);
	assert_true(answer_raw(g_q, g_qlen + sizeof(tsig), false) > 0);
	expect(1, 0, 0, 0, 0, 0);

	/* opcode NOTIFY (4) and UPDATE (5), and an unassigned one: NOTIMP with the question */
	for (unsigned op = 1; op < 16; op++) {
		g_qlen = mkquery(g_q, "example.com", 6, IN, 1232);
		g_q[2] = (uint8_t)((g_q[2] & 0x87) | (op << 3));
		assert_true(answer_raw(g_q, g_qlen, false) > 0);
		expect(4, 0, 0, 0, 0, 1);
		assert_int_equal((g_r[2] >> 3) & 0xf, op);
		assert_int_equal(get16(g_r + 4), 1);
	}
	/* no zone set at all: REFUSED */
	g_qlen = mkquery(g_q, "www.example.com", 1, IN, NO_EDNS);
	assert_int_equal(answer_with(NULL, g_q, g_qlen, &peer), g_qlen);
	assert_int_equal(RCODE(g_r), 5);
	assert_int_equal(AA(g_r), 0);
}

/* --- robustness --- */

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* 100k random queries through one context made once: names from the zone, random types,
 * classes, EDNS sizes, transports, bit flips and truncation. Every response keeps the
 * invariants of answer_with() (no allocation, header and question echoed, counts that parse,
 * pointers backwards, TC only over UDP, size limits); under ASan every buffer it touches must
 * be the context's or the caller's. The drop counter must agree with the calls that returned
 * nothing, and the mix must have reached the main outcomes. */
static void test_random_queries(void **state)
{
	static const char *names[] = {"example.com",
	                              "www.example.com",
	                              "nope.example.com",
	                              "x.wild.example.com",
	                              "cname1.example.com",
	                              "loop1.example.com",
	                              "host.dn.example.com",
	                              "sub.example.com",
	                              "a.sub.example.com",
	                              "child.example.com",
	                              "big.example.com",
	                              "x.bigdeleg.example.com",
	                              "_sip._tcp.example.com",
	                              "id.server",
	                              "x.wc.example.com",
	                              "example.net",
	                              ".",
	                              "ent.example.com",
	                              "exists.wild.example.com"};
	static const uint16_t types[] = {1, 2, 5, 6, 15, 16, 28, 33, 39, 43, 255, 252, 0, 41, 99};
	srv_stats_t before = *srv_answer_stats(g_ctx);
	uint64_t none = 0, tc = 0, rcodes[16] = {0};
	for (int i = 0; i < 100000; i++) {
		const char *n = names[rnd() % (sizeof(names) / sizeof(names[0]))];
		if (strcmp(n, ".") == 0)
			n = "";
		uint16_t t = types[rnd() % (sizeof(types) / sizeof(types[0]))];
		uint16_t cl = (rnd() % 8) ? IN : (rnd() % 2 ? CH : 255);
		int edns = (rnd() % 3) ? (int)(rnd() % 5000) : NO_EDNS;
		g_qlen = mkquery(g_q, n, t, cl, edns);
		if (rnd() % 4 == 0) {
			unsigned flips = 1 + rnd() % 3;
			for (unsigned f = 0; f < flips; f++)
				g_q[rnd() % g_qlen] ^= (uint8_t)(1u << (rnd() % 8));
		}
		size_t qlen = (rnd() % 16 == 0) ? rnd() % (g_qlen + 1) : g_qlen;
		if (answer_raw(g_q, qlen, rnd() % 2) == 0) {
			none++;
			continue;
		}
		rcodes[RCODE(g_r)]++;
		tc += TC(g_r);
	}
	const srv_stats_t *after = srv_answer_stats(g_ctx);
	assert_int_equal(after->dropped - before.dropped, none);
	assert_int_equal(after->truncated - before.truncated, tc);
	for (int r = 0; r < 16; r++)
		assert_int_equal(after->rcode[r] - before.rcode[r], rcodes[r]);
	assert_true(none > 0 && tc > 0);
	assert_true(rcodes[0] > 0 && rcodes[1] > 0 && rcodes[3] > 0 && rcodes[4] > 0 &&
	            rcodes[5] > 0);
}

/* The counter behind answer_with() sees allocations made inside the engine library (so its
 * zero there means something): making a context allocates, freeing it frees. */
static void test_alloc_counter_sees_the_engine(void **state)
{
	(void)state;
	srv_answer_ctx_t *ctx = NULL;
	alloc_count_start();
	assert_int_equal(srv_answer_ctx_new(&g_conf, &ctx), 0);
	alloc_counts_t n = alloc_count_stop();
	assert_true(n.allocs >= 1);
	alloc_count_start();
	srv_answer_ctx_free(ctx);
	n = alloc_count_stop();
	assert_true(n.frees >= 1);
}

static void test_stats(void **state)
{
	srv_stats_t before = *srv_answer_stats(g_ctx);
	ask("www.example.com", 1, IN, 1232, false);
	ask("nope.example.com", 1, IN, NO_EDNS, true);
	ask("big.example.com", 16, IN, NO_EDNS, false);
	g_qlen = mkquery(g_q, "www.example.com", 1, IN, NO_EDNS);
	g_q[2] |= 0x80;
	answer_raw(g_q, g_qlen, false);
	const srv_stats_t *s = srv_answer_stats(g_ctx);
	assert_int_equal(s->queries - before.queries, 4);
	assert_int_equal(s->udp - before.udp, 3);
	assert_int_equal(s->tcp - before.tcp, 1);
	assert_int_equal(s->rcode[0] - before.rcode[0], 2);
	assert_int_equal(s->rcode[3] - before.rcode[3], 1);
	assert_int_equal(s->dropped - before.dropped, 1);
	assert_int_equal(s->truncated - before.truncated, 1);
	assert_int_equal(s->edns - before.edns, 1);
}

/* A query with EDNS payload 1232 and an ECS option of the given bytes. */
static size_t mkquery_ecs(const char *qname, const uint8_t *ecs, size_t elen)
{
	size_t n = mkquery(g_q, qname, 1, IN, 1232);
	put16(g_q + n - 2, (uint16_t)(4 + elen)); /* the OPT's RDLENGTH */
	n += put16(g_q + n, 8);
	n += put16(g_q + n, (uint16_t)elen);
	memcpy(g_q + n, ecs, elen);
	return n + elen;
}

/* RFC 7871 7.2.1: the reply echoes FAMILY, SOURCE PREFIX-LENGTH and ADDRESS with SCOPE 0;
 * the OPT grows by the option, and the size limit keeps room for it. A malformed ECS is a
 * FORMERR (RFC 7871 6) that still carries an OPT, without ECS. */
static void test_ecs_echo(void **state)
{
	(void)state;
	const uint8_t v4[] = {0, 1, 24, 0, 192, 0, 2};
	g_qlen = mkquery_ecs("www.example.com", v4, sizeof(v4));
	size_t n = answer_raw(g_q, g_qlen, false);
	assert_true(n > 0);
	expect(0, 1, 0, 1, 0, 1);
	/* TTL 0, RDLENGTH 11, the option (the payload before them is ours) */
	const uint8_t opt_tail[] = {0, 0, 0, 0, 0, 11, 0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2};
	assert_true(n > sizeof(opt_tail));
	assert_memory_equal(g_r + n - sizeof(opt_tail), opt_tail, sizeof(opt_tail));
	assert_int_equal(get16(g_r + n - sizeof(opt_tail) - 4), 41); /* TYPE OPT */

	const uint8_t v6[] = {0, 2, 0, 0}; /* ::/0 */
	g_qlen = mkquery_ecs("www.example.com", v6, sizeof(v6));
	n = answer_raw(g_q, g_qlen, false);
	const uint8_t tail6[] = {0, 8, 0, 8, 0, 4, 0, 2, 0, 0}; /* RDLENGTH 8, the option */
	assert_memory_equal(g_r + n - sizeof(tail6), tail6, sizeof(tail6));

	const uint8_t bad[] = {0, 1, 23, 0, 192, 0, 3}; /* a bit past the prefix */
	g_qlen = mkquery_ecs("www.example.com", bad, sizeof(bad));
	n = answer_raw(g_q, g_qlen, false);
	expect(1, 0, 0, 0, 0, 1);
	assert_int_equal(g_r[n - 2], 0); /* OPT RDLENGTH 0 */
	assert_int_equal(g_r[n - 1], 0);
}

/* The engine itself ignores TSIG (server/xfr/serve.c verifies and signs around it) and
 * REFUSEs transfers (the dispatcher routes them away first); a TSIG that is not the last
 * record is a FORMERR (RFC 8945 5.1). */
static void test_tsig_and_transfers(void **state)
{
	(void)state;
	/* a signed SOA query: a TSIG RR (owner "k.", any RDATA) ends the additional section */
	g_qlen = mkquery(g_q, "example.com", 6, IN, NO_EDNS);
	g_q[11] = 1;
	static const uint8_t tsig[] = {1, 'k', 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 1, 0};
	memcpy(g_q + g_qlen, tsig, sizeof(tsig));
	g_qlen += sizeof(tsig);
	assert_true(answer_raw(g_q, g_qlen, true) > 0);
	expect(0, 1, 0, 1, 0, 0);
	/* the same with an OPT after the TSIG */
	g_q[11] = 2;
	static const uint8_t opt[] = {0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0};
	memcpy(g_q + g_qlen, opt, sizeof(opt));
	g_qlen += sizeof(opt);
	assert_true(answer_raw(g_q, g_qlen, true) > 0);
	assert_int_equal(g_r[3] & 0xf, 1);
	/* AXFR */
	ask("example.com", 252, IN, NO_EDNS, true);
	expect(5, 0, 0, 0, 0, 0);
}

/* The metrics' type classes: the eight named types, every other type "other". */
/* srv_answer_prefetch starts the chain of the lookup the answer will make: the zone the name
 * lies in (the child zone below its cut), the slot of the lowercased name's hash, the type
 * asked. Anything that is not a plain one-question QUERY with an uncompressed name that
 * ends within the message starts nothing. */
static void test_prefetch_question(void **state)
{
	static const struct {
		const char *qname, *lower;
		int zone; /* g_zones index, -1: none */
	} qs[] = {
	    {"WwW.ExAmple.COM", "www.example.com", 0},
	    {"nothere.example.com", "nothere.example.com", 0},
	    {"example.com", "example.com", 0},
	    {"a.b.Child.example.com", "a.b.child.example.com", 1},
	    {"example.org", NULL, -1},
	};
	uint8_t q[512];
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		size_t len = mkquery(q, qs[i].qname, DNS_TYPE_AAAA, DNS_CLASS_IN, 1232);
		zone_prefetch_t p = {0};
		bool ok = srv_answer_prefetch(g_set, q, len, &p);
		assert_int_equal(ok, qs[i].zone >= 0);
		if (!ok)
			continue;
		const zone_version_t *v = zone_current(g_zones[qs[i].zone]);
		uint8_t lower[DNAME_MAX];
		size_t llen = put_name(lower, qs[i].lower);
		zone_prefetch_t want;
		zone_prefetch_start(&want, v, llen, dname_hash(lower, llen), DNS_TYPE_AAAA);
		assert_ptr_equal(p.v, v);
		assert_ptr_equal(p.at, want.at);
		assert_int_equal(p.qtype, DNS_TYPE_AAAA);
		assert_int_equal(p.len, llen);
		for (int k = 0; k < ZONE_PREFETCH_STEPS; k++)
			zone_prefetch_step(&p);
		assert_null(p.at);
	}
	size_t len = mkquery(q, "www.example.com", DNS_TYPE_A, DNS_CLASS_IN, NO_EDNS);
	zone_prefetch_t p;
	for (size_t cut = 0; cut < len; cut++) /* the question must end within the message */
		assert_false(srv_answer_prefetch(g_set, q, cut, &p));
	assert_true(srv_answer_prefetch(g_set, q, len, &p));
	q[2] |= 0x80; /* a response */
	assert_false(srv_answer_prefetch(g_set, q, len, &p));
	q[2] = (uint8_t)(4 << 3); /* NOTIFY */
	assert_false(srv_answer_prefetch(g_set, q, len, &p));
	q[2] = 0;
	for (uint16_t qd = 0; qd <= 2; qd += 2) {
		put16(q + 4, qd);
		assert_false(srv_answer_prefetch(g_set, q, len, &p));
	}
	put16(q + 4, 1);
	q[12] = 0xc0; /* a compression pointer where the name starts */
	q[13] = 12;
	assert_false(srv_answer_prefetch(g_set, q, len, &p));
	(void)state;
}

static void test_qtype_class(void **state)
{
	for (unsigned t = 0; t <= UINT16_MAX; t++) {
		srv_qtype_class_t want = t == DNS_TYPE_A       ? SRV_QTYPE_A
		                         : t == DNS_TYPE_AAAA  ? SRV_QTYPE_AAAA
		                         : t == DNS_TYPE_CNAME ? SRV_QTYPE_CNAME
		                         : t == DNS_TYPE_MX    ? SRV_QTYPE_MX
		                         : t == DNS_TYPE_TXT   ? SRV_QTYPE_TXT
		                         : t == DNS_TYPE_NS    ? SRV_QTYPE_NS
		                         : t == DNS_TYPE_SOA   ? SRV_QTYPE_SOA
		                         : t == DNS_TYPE_ANY   ? SRV_QTYPE_ANY
		                                               : SRV_QTYPE_OTHER;
		assert_int_equal(srv_qtype_class((uint16_t)t), want);
	}
	assert_string_equal(srv_qtype_class_name(srv_qtype_class(DNS_TYPE_MX)), "MX");
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_header_and_case),
	    cmocka_unit_test(test_compression),
	    cmocka_unit_test(test_edns),
	    cmocka_unit_test(test_formerr_notimp_drop),
	    cmocka_unit_test(test_stats),
	    cmocka_unit_test(test_qtype_class),
	    cmocka_unit_test(test_prefetch_question),
	    cmocka_unit_test(test_tsig_and_transfers),
	    cmocka_unit_test(test_ecs_echo),
	    cmocka_unit_test(test_random_queries),
	    cmocka_unit_test(test_alloc_counter_sees_the_engine),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
