/* test_answer_image.c — pre-encoded negative and referral answers (zone/image.c) against the
 * same answers written RR by RR.
 *
 * A generated zone has delegations of every glue kind (in-domain, sibling, out of zone, the
 * cut itself as its name server, name servers in upper case, glue with many records, a
 * referral larger than 512 bytes) and CNAMEs of every target kind beside plain names. Random queries over it — names that do
 * not exist, that exist without the type asked, at and below the cuts, the name servers'
 * own names (whose labels clash with the images'), in random case; over UDP without EDNS,
 * with small and large EDNS sizes, and over TCP — are answered by two contexts, one writing
 * images and one not (srv_answer_set_images), and the responses must be equal byte for byte:
 * the images claim the exact compression of the RR-by-RR path, not just an equivalent one.
 * Every response is also checked (pointers backwards to earlier labels, ldns parses it), and
 * the images must have answered a good share of them.
 *
 * Run from this folder (meson sets workdir).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "dns/name.h"
#include "server/engine/answer.h"
#include "zone/changeset.h"
#include "zone/load.h"
#include "zone/zone.h"
#include "zone/zoneset.h"

#define DELEGS  60
#define QUERIES 20000

static const srv_answer_conf_t g_conf = {.identity = NULL, .udp_max_payload = 1232};

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return (unsigned)(g_rng % n);
}

/* --- the zone --- */

/* Delegation i's records; its kind is i % 7. */
static void write_deleg(FILE *f, unsigned i)
{
	switch (i % 7) {
	case 0: /* in-domain glue, two name servers */
		fprintf(f, "d%u NS ns1.d%u\nd%u NS ns2.d%u\n", i, i, i, i);
		fprintf(f, "ns1.d%u A 192.0.2.%u\nns1.d%u AAAA 2001:db8::%u\n", i, i, i, i);
		fprintf(f, "ns2.d%u A 198.51.100.%u\n", i, i);
		break;
	case 1: /* sibling glue and in-domain glue */
		fprintf(f, "d%u NS ns.sib%u\nd%u NS ns1.d%u\n", i, i, i, i);
		fprintf(f, "ns.sib%u A 192.0.2.%u\nns1.d%u A 203.0.113.%u\n", i, i, i, i);
		break;
	case 2: /* out of zone only */
		fprintf(f, "d%u NS ns1.example.net.\nd%u NS ns2.example.net.\n", i, i);
		break;
	case 3: /* upper-case name servers, glue of many records (small payloads truncate) */
		fprintf(f, "D%u NS NS1.D%u.IMG.TEST.\nd%u NS Ns2.D%u\n", i, i, i, i);
		for (unsigned k = 1; k <= 12; k++)
			fprintf(f, "ns1.d%u A 10.%u.0.%u\n", i, i, k);
		fprintf(f, "ns2.d%u AAAA 2001:db8:1::%u\n", i, i);
		break;
	case 4: /* the cut is its own name server; a deep one; one without glue out of zone */
		fprintf(f, "d%u NS d%u\nd%u NS ns.a.b.d%u\nd%u NS ns.img.test.example.\n", i, i, i,
		        i, i);
		fprintf(f, "d%u A 192.0.2.%u\nns.a.b.d%u A 192.0.2.%u\n", i, i, i, i);
		break;
	case 5: /* larger than 512 bytes: 13 name servers with A and AAAA */
		for (unsigned k = 0; k < 13; k++)
			fprintf(f,
			        "d%u NS %c.ns.d%u\n%c.ns.d%u A 192.0.2.%u\n%c.ns.d%u AAAA "
			        "2001:db8::%u\n",
			        i, 'a' + k, i, 'a' + k, i, k, 'a' + k, i, k);
		break;
	default: /* a name server in the parent zone (sibling at the apex) and a shared one */
		fprintf(f, "d%u NS ns1.img.test.\nd%u NS ns.sib%u\n", i, i, i - 5);
		break;
	}
}

static const char *write_zone(char *path, size_t size)
{
	snprintf(path, size, "/tmp/test_answer_image.%d.zone", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "$ORIGIN img.test.\n$TTL 3600\n");
	fprintf(f, "@ SOA ns1.img.test. HostMaster.img.test. 1 7200 900 1209600 300\n");
	fprintf(f, "@ NS ns1\n@ NS ns2.example.org.\nns1 A 192.0.2.1\n");
	fprintf(f, "www A 192.0.2.10\nwww TXT \"hello\"\nmail MX 10 www\nsub.deep A 192.0.2.11\n");
	/* CNAMEs: in-zone targets (upper case, the apex, a chain, below the owner, one with MX
	 * whose additional data compresses against the CNAME), out of zone, below a cut, to
	 * nothing, and a wildcard one */
	fprintf(f, "c1 CNAME www\nC2 CNAME WWW.IMG.TEST.\nc3 CNAME @\nc4 CNAME c1\n");
	fprintf(f, "x.c5 A 192.0.2.5\nc5 CNAME x.c5\nc6 CNAME target.example.net.\n");
	fprintf(f, "c7 CNAME ns1.d0\nc8 CNAME nothere\nmx CNAME mail\n*.wild CNAME www\n");
	fprintf(f, "c9.sub.deep CNAME sub.deep\n");
	for (unsigned i = 0; i < DELEGS; i++)
		write_deleg(f, i);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* --- queries --- */

static const char *const g_under[] = {"",      "www.", "ns1.",    "ns2.", "ns.",
                                      "a.ns.", "x.y.", "ns.a.b.", "Ns1.", "zz."};
static const char *const g_plain[] = {
    "",        "www.", "mail.",       "ns1.",         "deep.",  "sub.deep.", "nx.",
    "nx.www.", "ns.",  "hostmaster.", "NS1.",         "x.y.z.", "d9x.",      "c1.",
    "c2.",     "c3.",  "c4.",         "c5.",          "x.c5.",  "c6.",       "c7.",
    "c8.",     "mx.",  "a.wild.",     "c9.sub.deep.", "www.c1."};

/* A random question name under img.test. */
static void random_name(char *out, size_t size)
{
	if (rnd(2) == 0) {
		snprintf(out, size, "%sd%u.img.test", g_under[rnd(SD_ARRAY_LEN(g_under))],
		         rnd(DELEGS + 3));
	} else {
		snprintf(out, size, "%simg.test", g_plain[rnd(SD_ARRAY_LEN(g_plain))]);
	}
	for (char *p = out; *p; p++) { /* random case (RFC 1035 2.3.3, 0x20) */
		if (rnd(4) == 0 && *p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	}
}

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

/* A query for name; edns < 0: no OPT. */
static size_t make_query(uint8_t *p, const char *name, uint16_t qtype, int edns)
{
	memset(p, 0, 12);
	p[0] = 0x12, p[1] = 0x34, p[5] = 1;
	size_t n = 12 + put_name(p + 12, name);
	p[n++] = (uint8_t)(qtype >> 8);
	p[n++] = (uint8_t)qtype;
	p[n++] = 0;
	p[n++] = 1;
	if (edns >= 0) {
		static const uint8_t opt[11] = {0, 0, 41};
		p[11] = 1;
		memcpy(p + n, opt, sizeof(opt));
		p[n + 3] = (uint8_t)(edns >> 8);
		p[n + 4] = (uint8_t)edns;
		n += sizeof(opt);
	}
	return n;
}

/* Every name's pointers point before the name, at 12 or later; ldns parses the message. */
static size_t check_name(const uint8_t *m, size_t len, size_t pos)
{
	size_t start = pos, out = 0;
	for (unsigned hops = 0;; hops++) {
		assert_true(pos < len && hops < 64);
		if ((m[pos] & 0xc0) == 0xc0) {
			size_t to = ((size_t)(m[pos] & 0x3f) << 8) | m[pos + 1];
			assert_true(to < start && to >= 12);
			out = out ? out : pos + 2;
			start = pos = to;
			continue;
		}
		if (m[pos] == 0)
			return out ? out : pos + 1;
		pos += 1u + m[pos];
	}
}

static void check_wire(const uint8_t *r, size_t len)
{
	size_t pos = check_name(r, len, 12) + 4;
	unsigned rrs = (r[6] << 8 | r[7]) + (r[8] << 8 | r[9]) + (r[10] << 8 | r[11]);
	for (unsigned i = 0; i < rrs; i++) {
		size_t rr = check_name(r, len, pos);
		assert_true(rr + 10 <= len);
		unsigned type = r[rr] << 8 | r[rr + 1], rdlen = r[rr + 8] << 8 | r[rr + 9];
		if (type == 2 || type == 6)
			check_name(r, len, rr + 10);
		pos = rr + 10 + rdlen;
	}
	assert_int_equal(pos, len);
	ldns_pkt *pkt = NULL;
	assert_int_equal(ldns_wire2pkt(&pkt, r, len), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
}

/* n random queries answered by on (images) and off (none): the same bytes, every response
 * well formed; at least min_used answered from images, and some truncated when want_tc. */
static void compare(const zone_set_t *set, srv_answer_ctx_t *on, srv_answer_ctx_t *off, unsigned n,
                    uint64_t min_used, bool want_tc)
{
	static const uint16_t qtypes[] = {1, 28, 16, 2, 15, 43, 255, 6, 5};
	static const int edns[] = {-1, 512, 700, 1232, 4096};
	static uint8_t q[512], r1[SRV_RESPONSE_MAX], r2[SRV_RESPONSE_MAX];
	uint64_t used0 = srv_answer_stats(on)->images;
	unsigned tc = 0;
	for (unsigned i = 0; i < n; i++) {
		char name[128];
		random_name(name, sizeof(name));
		srv_peer_t peer = {.tcp = rnd(6) == 0};
		uint16_t qtype = qtypes[rnd(SD_ARRAY_LEN(qtypes))];
		size_t qlen = make_query(q, name, qtype, edns[rnd(SD_ARRAY_LEN(edns))]);
		size_t n1 = srv_answer(on, set, q, qlen, r1, &peer);
		size_t n2 = srv_answer(off, set, q, qlen, r2, &peer);
		if (n1 != n2 || memcmp(r1, r2, n1) != 0)
			fail_msg("%s type %u tcp %d: %zu bytes with images, %zu without", name,
			         qtype, peer.tcp, n1, n2);
		check_wire(r1, n1);
		tc += (r1[2] >> 1) & 1;
	}
	uint64_t used = srv_answer_stats(on)->images - used0;
	printf("# %u queries, %llu answered from images, %u truncated\n", n,
	       (unsigned long long)used, tc);
	assert_true(used >= min_used);
	assert_int_equal(srv_answer_stats(off)->images, 0);
	assert_true(!want_tc || tc > 0);
}

static void test_images_equal_rr_by_rr(void **state)
{
	(void)state;
	char path[64];
	uint8_t apex[DNAME_MAX];
	zone_t *z = NULL;
	zone_version_t *v = NULL;
	zone_set_t *set = NULL;
	srv_answer_ctx_t *on = NULL, *off = NULL;
	assert_true(dname_from_str("img.test.", NULL, apex) > 0);
	assert_int_equal(zone_load_file(apex, write_zone(path, sizeof(path)), NULL, &v), 0);
	assert_int_equal(zone_new(apex, path, &z), 0);
	zone_publish(z, v);
	assert_int_equal(zone_set_new(&z, 1, &set), 0);
	assert_int_equal(srv_answer_ctx_new(&g_conf, &on), 0);
	assert_int_equal(srv_answer_ctx_new(&g_conf, &off), 0);
	srv_answer_set_images(off, false);

	compare(set, on, off, QUERIES, QUERIES / 4, true);

	srv_answer_ctx_free(on);
	srv_answer_ctx_free(off);
	zone_set_free(set);
	zone_free(z);
	unlink(path);
}

/* --- versions with an overlay --- */

/* A change set on v: its serial plus one, and a few A records added at names whose change
 * matters to images: in-domain glue (existing or new name servers' names), sibling glue, the
 * apex's name server (the parent-side name server of some delegations), a CNAME's target. */
static zone_changeset_t *changes(const zone_version_t *v, unsigned round, uint8_t *rd)
{
	/* a name: a prefix, then a delegation's (or sibling's, CNAME's) number unless "" */
	static const char *const kinds[][2] = {
	    {"ns1.d", ""},    {"ns2.d", ""},  {"ns.sib", ""}, {"ns1", "-"}, {"www", "-"},
	    {"ns.a.b.d", ""}, {"x.ns.d", ""}, {"new.d", ""},  {"ns.d", ""}, {"c", ""}};
	zone_changeset_t *cs = NULL;
	zone_rr_t from, to;
	assert_int_equal(zone_changeset_new(&cs), 0);
	zone_version_soa_rr(v, &from);
	to = from;
	memcpy(rd, from.rdata, from.rdlen);
	uint8_t *p = rd + from.rdlen - 20;
	uint32_t serial = zone_version_serial(v) + 1;
	p[0] = (uint8_t)(serial >> 24), p[1] = (uint8_t)(serial >> 16);
	p[2] = (uint8_t)(serial >> 8), p[3] = (uint8_t)serial;
	to.rdata = rd;
	assert_int_equal(zone_changeset_set_soa(cs, &from, &to), 0);
	for (unsigned k = 0; k < 3; k++) {
		static uint8_t owners[3][DNAME_MAX], addr[3][4];
		char text[64], name[80];
		const char *const *kind = kinds[rnd(SD_ARRAY_LEN(kinds))];
		if (kind[1][0] == '-')
			snprintf(text, sizeof(text), "%s", kind[0]);
		else
			snprintf(text, sizeof(text), "%s%u", kind[0], rnd(DELEGS));
		snprintf(name, sizeof(name), "%s.img.test.", text);
		assert_true(dname_from_str(name, NULL, owners[k]) > 0);
		addr[k][0] = 100, addr[k][1] = (uint8_t)round, addr[k][2] = (uint8_t)k;
		addr[k][3] = (uint8_t)rnd(256);
		zone_rr_t rr = {.owner = owners[k],
		                .type = DNS_TYPE_A,
		                .rclass = DNS_CLASS_IN,
		                .ttl = 600,
		                .rdlen = 4,
		                .rdata = addr[k]};
		assert_int_equal(zone_changeset_add(cs, &rr), 0);
	}
	return cs;
}

/* Round after round of changes applied copy-on-write (versions with an overlay over the
 * loaded base), each answered with and without images: the base's referral and CNAME images
 * a version uses must still be what writing RR by RR gives through the overlay. */
static void test_overlay_images(void **state)
{
	(void)state;
	char path[64];
	uint8_t apex[DNAME_MAX], rd[512];
	zone_version_t *cur = NULL;
	srv_answer_ctx_t *on = NULL, *off = NULL;
	assert_true(dname_from_str("img.test.", NULL, apex) > 0);
	assert_int_equal(zone_load_file(apex, write_zone(path, sizeof(path)), NULL, &cur), 0);
	assert_int_equal(srv_answer_ctx_new(&g_conf, &on), 0);
	assert_int_equal(srv_answer_ctx_new(&g_conf, &off), 0);
	srv_answer_set_images(off, false);
	for (unsigned round = 0; round < 40; round++) {
		zone_changeset_t *cs = changes(cur, round, rd);
		zone_version_t *next = NULL;
		int ret = zone_changeset_apply(cur, cs, NULL, &next);
		zone_changeset_free(cs);
		if (ret < 0) /* a record added twice: skip the round */
			continue;
		zone_version_unref(cur);
		cur = next;
		zone_t *z = NULL;
		zone_set_t *set = NULL;
		assert_int_equal(zone_new(apex, path, &z), 0);
		zone_publish(z, zone_version_ref(cur));
		assert_int_equal(zone_set_new(&z, 1, &set), 0);
		compare(set, on, off, QUERIES / 20, QUERIES / 200, false);
		zone_set_free(set);
		zone_free(z);
	}
	zone_version_unref(cur);
	srv_answer_ctx_free(on);
	srv_answer_ctx_free(off);
	unlink(path);
}

/* Images are built when a version is published (zone_version_prepare), not when it is
 * parsed: a reload's parsed file, diffed and freed, never pays for them. An overlay's base
 * that was never published itself (a journal replayed at start) gets its images with the
 * overlay's publish, so the overlay's cuts still answer from them. */
static void test_images_built_at_publish(void **state)
{
	(void)state;
	char path[64];
	uint8_t apex[DNAME_MAX], cut[DNAME_MAX], rd[512];
	zone_version_t *base = NULL, *next = NULL;
	zone_t *z = NULL;
	assert_true(dname_from_str("img.test.", NULL, apex) > 0);
	assert_true(dname_from_str("d0.img.test.", NULL, cut) > 0);
	assert_int_equal(zone_load_file(apex, write_zone(path, sizeof(path)), NULL, &base), 0);
	const zone_node_t *d0 = zone_version_find(base, cut, dname_len(cut));
	assert_non_null(d0);
	assert_null(zone_version_soa_image(base));
	assert_null(zone_version_referral_image(base, d0));
	zone_changeset_t *cs = changes(base, 0, rd);
	assert_int_equal(zone_changeset_apply(base, cs, NULL, &next), 0);
	zone_changeset_free(cs);
	assert_null(zone_version_soa_image(next));
	assert_int_equal(zone_new(apex, path, &z), 0);
	zone_publish(z, zone_version_ref(next));
	assert_non_null(zone_version_soa_image(next));
	assert_non_null(zone_version_soa_image(base));
	assert_non_null(zone_version_referral_image(base, d0));
	zone_free(z);
	zone_version_unref(next);
	zone_version_unref(base);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_images_equal_rr_by_rr),
	    cmocka_unit_test(test_overlay_images),
	    cmocka_unit_test(test_images_built_at_publish),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
