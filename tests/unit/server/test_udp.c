/* test_udp.c — a worker's UDP batch without sockets (server/udp.h): 64 mixed datagrams laid
 * into the batch as recvmmsg() would (peer, IP_PKTINFO / IPV6_PKTINFO), answered by
 * srv_udp_batch_answer() with ZERO heap allocations (tests/unit/alloc_count.h), its lookups
 * prefetched a window at a time first (runts and responses among them). Each reply is
 * checked against its request: the peer it goes to, the ID, QR, the rcode (or TC, OPT, a
 * verified TSIG) its kind calls for, and the source address copied from the request's
 * PKTINFO; runts and responses get no reply, UPDATEs are collected for the control thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "contrib/base/bytes.h"
#include "dns/proto.h"
#include "server/udp.h"
#include "tests/unit/alloc_count.h"
#include "zone/builder.h"

/* The kinds of request the batch mixes, cycled over the 64 datagrams. */
enum kind {
	K_HIT,      /* www.example.com A: AA, one answer */
	K_NXDOMAIN, /* nope.example.com TXT */
	K_REFERRAL, /* a.sub.example.com A: below a delegation, not authoritative */
	K_FORMERR,  /* trailing bytes after the question */
	K_TC,       /* big.example.com TXT without EDNS: more than 512 bytes */
	K_ECS,      /* www A with EDNS and a Client Subnet option */
	K_TSIG,     /* example.com SOA signed with the known key */
	K_RUNT,     /* 5 bytes: no header, dropped */
	K_RESPONSE, /* QR set: dropped */
	K_UPDATE,   /* handed off to the control thread */
	K_REFUSED,  /* a zone not served */
	K_COUNT
};

static const char *const zone_rrs[] = {
    "example.com. 3600 IN SOA ns1.example.com. hm.example.com. 77 7200 900 1209600 300",
    "example.com. 3600 IN NS ns1.example.com.",
    "ns1.example.com. 3600 IN A 192.0.2.1",
    "www.example.com. 3600 IN A 192.0.2.80",
    "sub.example.com. 3600 IN NS ns.sub.example.com.",
    "ns.sub.example.com. 3600 IN A 192.0.2.99",
};

typedef struct fx {
	zone_t *zone;
	zone_set_t *set;
	srv_answer_conf_t conf;
	srv_answer_ctx_t *actx;
	tsig_key_t key;
	const tsig_key_t *keys[1];
	xfr_env_t env;
	srv_view_t view;
	srv_front_stats_t st;
	srv_udp_batch_t *b;
	tsig_ctx_t client[SRV_UDP_BATCH]; /* the signing client of each K_TSIG request */
} fx_t;

static void add_rr(zone_builder_t *b, const char *text)
{
	ldns_rr *rr = NULL;
	assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL), LDNS_STATUS_OK);
	uint8_t rd[2048];
	size_t n = 0;
	for (size_t j = 0; j < ldns_rr_rd_count(rr); j++) {
		memcpy(rd + n, ldns_rdf_data(ldns_rr_rdf(rr, j)),
		       ldns_rdf_size(ldns_rr_rdf(rr, j)));
		n += ldns_rdf_size(ldns_rr_rdf(rr, j));
	}
	assert_int_equal(zone_builder_add(b, ldns_rdf_data(ldns_rr_owner(rr)), ldns_rr_get_type(rr),
	                                  1, ldns_rr_ttl(rr), rd, (uint16_t)n, NULL),
	                 0);
	ldns_rr_free(rr);
}

static zone_version_t *build(void)
{
	ldns_rdf *a = ldns_dname_new_frm_str("example.com.");
	zone_builder_t *b = NULL;
	assert_int_equal(zone_builder_new(ldns_rdf_data(a), NULL, &b), 0);
	for (size_t i = 0; i < sizeof(zone_rrs) / sizeof(zone_rrs[0]); i++)
		add_rr(b, zone_rrs[i]);
	/* three TXT RRs of 2 x 200 bytes: about 1.2 KB, more than 512 */
	char big[600], str[201];
	memset(str, 'x', 200);
	str[200] = '\0';
	for (int i = 0; i < 3; i++) {
		snprintf(big, sizeof(big), "big.example.com. 3600 IN TXT \"%d%s\" \"%s\"", i, str,
		         str);
		add_rr(b, big);
	}
	zone_version_t *v = NULL;
	assert_int_equal(zone_builder_finish(b, &v), 0);
	ldns_rdf_deep_free(a);
	return v;
}

static int setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	ldns_rdf *a = ldns_dname_new_frm_str("example.com.");
	assert_int_equal(zone_new(ldns_rdf_data(a), NULL, &f->zone), 0);
	ldns_rdf_deep_free(a);
	zone_publish(f->zone, build());
	assert_int_equal(zone_set_new(&f->zone, 1, &f->set), 0);
	f->conf.udp_max_payload = 1232;
	assert_int_equal(srv_answer_ctx_new(&f->conf, &f->actx), 0);
	assert_int_equal(tsig_key_init(&f->key, "udp-key.", "hmac-sha256",
	                               "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ=="),
	                 0);
	f->keys[0] = &f->key;
	f->env = (xfr_env_t){.keys = f->keys, .nkeys = 1, .udp_payload = 1232};
	f->view = (srv_view_t){.zones = f->set, .xfr = &f->env, .answer = &f->conf};
	assert_int_equal(srv_udp_batch_new(1232, f->actx, &f->st, &f->b), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_t *f = *state;
	srv_udp_batch_free(f->b);
	srv_answer_ctx_free(f->actx);
	zone_set_free(f->set);
	zone_free(f->zone);
	rcu_barrier_qsbr();
	free(f);
	return 0;
}

static size_t put_name(uint8_t *p, const char *name)
{
	size_t n = 0;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = (size_t)(dot - name);
		p[n++] = (uint8_t)l;
		memcpy(p + n, name, l);
		n += l;
		name = dot + 1;
	}
	p[n++] = 0;
	return n;
}

/* A query: header (id, flags, QDCOUNT 1), the question, and an OPT with an ECS option for
 * 192.0.2.0/24 when ecs. */
static size_t make_query(uint8_t *m, uint16_t id, uint16_t flags, const char *name, uint16_t qtype,
                         bool ecs)
{
	memset(m, 0, DNS_HEADER_LEN);
	be16_put(m, id);
	be16_put(m + 2, flags);
	be16_put(m + 4, 1);
	size_t n = DNS_HEADER_LEN + put_name(m + DNS_HEADER_LEN, name);
	be16_put(m + n, qtype);
	be16_put(m + n + 2, DNS_CLASS_IN);
	n += 4;
	if (ecs) {
		static const uint8_t opt[] = {0,  0, 41,  0x04, 0xd0, 0, 0, 0, 0, 0, 11, /* OPT */
		                              0,  8, 0,   7,    0,    1, /* ECS, IPv4 */
		                              24, 0, 192, 0,    2};      /* /24, scope 0 */
		memcpy(m + n, opt, sizeof(opt));
		n += sizeof(opt);
		be16_put(m + 10, 1);
	}
	return n;
}

static size_t make_request(fx_t *f, unsigned i, uint8_t *m)
{
	uint16_t id = (uint16_t)(0x1000 + i);
	size_t n;
	switch (i % K_COUNT) {
	case K_HIT:
		return make_query(m, id, DNS_FLAG_RD, "www.example.com.", DNS_TYPE_A, false);
	case K_NXDOMAIN:
		return make_query(m, id, 0, "nope.example.com.", DNS_TYPE_TXT, false);
	case K_REFERRAL:
		return make_query(m, id, 0, "a.sub.example.com.", DNS_TYPE_A, false);
	case K_FORMERR:
		n = make_query(m, id, 0, "www.example.com.", DNS_TYPE_A, false);
		memcpy(m + n, "\x01\x02\x03", 3);
		return n + 3;
	case K_TC:
		return make_query(m, id, 0, "big.example.com.", DNS_TYPE_TXT, false);
	case K_ECS:
		return make_query(m, id, 0, "www.example.com.", DNS_TYPE_A, true);
	case K_TSIG:
		n = make_query(m, id, 0, "example.com.", DNS_TYPE_SOA, false);
		tsig_ctx_init(&f->client[i], &f->key);
		assert_int_equal(tsig_sign_request(&f->client[i], m, &n, 1024, time(NULL)), 0);
		return n;
	case K_RUNT:
		memset(m, 0, 5);
		return 5;
	case K_RESPONSE:
		return make_query(m, id, DNS_FLAG_QR, "www.example.com.", DNS_TYPE_A, false);
	case K_UPDATE:
		return make_query(m, id, (uint16_t)(DNS_OPCODE_UPDATE << 11), "example.com.",
		                  DNS_TYPE_SOA, false);
	default:
		return make_query(m, id, 0, "www.example.org.", DNS_TYPE_A, false);
	}
}

/* The address the request was sent to: 192.0.2.<i> for even i (IP_PKTINFO, arriving on
 * interface 3), 2001:db8::<i> on interface <i + 1> for odd i (IPV6_PKTINFO). */
static void local_addr(unsigned i, struct in_addr *a4, struct in6_addr *a6)
{
	a4->s_addr = htonl(0xc0000200u | i);
	memset(a6, 0, sizeof(*a6));
	a6->s6_addr[0] = 0x20;
	a6->s6_addr[1] = 0x01;
	a6->s6_addr[2] = 0x0d;
	a6->s6_addr[3] = 0xb8;
	a6->s6_addr[15] = (uint8_t)i;
}

/* Datagram i as recvmmsg() leaves it: the bytes, the peer, the PKTINFO control message. */
static void receive(fx_t *f, unsigned i)
{
	srv_udp_batch_t *b = f->b;
	struct msghdr *h = &b->rmsg[i].msg_hdr;
	b->rmsg[i].msg_len = (unsigned)make_request(f, i, b->riov[i].iov_base);
	struct in_addr a4;
	struct in6_addr a6;
	local_addr(i, &a4, &a6);
	struct cmsghdr *c = CMSG_FIRSTHDR(h);
	if (i % 2 == 0) {
		struct sockaddr_in *p = (struct sockaddr_in *)&b->rname[i];
		memset(p, 0, sizeof(*p));
		p->sin_family = AF_INET;
		p->sin_port = htons((uint16_t)(2000 + i));
		p->sin_addr.s_addr = htonl(0xc6336401u); /* 198.51.100.1 */
		h->msg_namelen = sizeof(*p);
		struct in_pktinfo pi = {.ipi_ifindex = 3, .ipi_spec_dst = a4, .ipi_addr = a4};
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		h->msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		struct sockaddr_in6 *p = (struct sockaddr_in6 *)&b->rname[i];
		memset(p, 0, sizeof(*p));
		p->sin6_family = AF_INET6;
		p->sin6_port = htons((uint16_t)(2000 + i));
		inet_pton(AF_INET6, "2001:db8:ffff::1", &p->sin6_addr);
		h->msg_namelen = sizeof(*p);
		struct in6_pktinfo pi = {.ipi6_addr = a6, .ipi6_ifindex = i + 1};
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		h->msg_controllen = CMSG_SPACE(sizeof(pi));
	}
}

/* The reply's control message carries request i's local address (and, for IPv6, its
 * interface; for IPv4 interface 0 so the source address routes it). */
static void check_pktinfo(struct msghdr *sh, unsigned i)
{
	struct in_addr a4;
	struct in6_addr a6;
	local_addr(i, &a4, &a6);
	assert_non_null(sh->msg_control);
	struct cmsghdr *c = CMSG_FIRSTHDR(sh);
	assert_non_null(c);
	if (i % 2 == 0) {
		assert_int_equal(c->cmsg_level, IPPROTO_IP);
		assert_int_equal(c->cmsg_type, IP_PKTINFO);
		struct in_pktinfo pi;
		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		assert_int_equal(pi.ipi_spec_dst.s_addr, a4.s_addr);
		assert_int_equal(pi.ipi_ifindex, 0);
	} else {
		assert_int_equal(c->cmsg_level, IPPROTO_IPV6);
		assert_int_equal(c->cmsg_type, IPV6_PKTINFO);
		struct in6_pktinfo pi;
		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		assert_memory_equal(&pi.ipi6_addr, &a6, sizeof(a6));
		assert_int_equal(pi.ipi6_ifindex, i + 1);
	}
}

/* Reply to request i: what its kind calls for. */
static void check_reply(fx_t *f, unsigned i, const uint8_t *r, size_t len)
{
	ldns_pkt *p = NULL;
	assert_int_equal(ldns_wire2pkt(&p, r, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(p), 0x1000 + i);
	assert_true(ldns_pkt_qr(p));
	assert_true(len <= 1232);
	ldns_pkt_rcode rc = ldns_pkt_get_rcode(p);
	switch (i % K_COUNT) {
	case K_HIT:
		assert_int_equal(rc, LDNS_RCODE_NOERROR);
		assert_true(ldns_pkt_aa(p));
		assert_true(ldns_pkt_rd(p));
		assert_int_equal(ldns_pkt_ancount(p), 1);
		break;
	case K_NXDOMAIN:
		assert_int_equal(rc, LDNS_RCODE_NXDOMAIN);
		break;
	case K_REFERRAL:
		assert_int_equal(rc, LDNS_RCODE_NOERROR);
		assert_false(ldns_pkt_aa(p));
		assert_int_equal(ldns_pkt_ancount(p), 0);
		assert_true(ldns_pkt_nscount(p) >= 1);
		break;
	case K_FORMERR:
		assert_int_equal(rc, LDNS_RCODE_FORMERR);
		break;
	case K_TC:
		assert_int_equal(rc, LDNS_RCODE_NOERROR);
		assert_true(ldns_pkt_tc(p));
		assert_true(len <= 512);
		break;
	case K_ECS:
		assert_int_equal(rc, LDNS_RCODE_NOERROR);
		assert_int_equal(ldns_pkt_ancount(p), 1);
		assert_true(ldns_pkt_edns(p));
		/* the OPT ends the reply with the ECS option echoed, scope 0 (RFC 7871 7.2.1) */
		static const uint8_t ecs[] = {0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2};
		assert_true(len > sizeof(ecs));
		assert_memory_equal(r + len - sizeof(ecs), ecs, sizeof(ecs));
		break;
	case K_TSIG:
		assert_int_equal(rc, LDNS_RCODE_NOERROR);
		assert_int_equal(ldns_pkt_ancount(p), 1);
		assert_int_equal(tsig_verify_response(&f->client[i], r, len, time(NULL)), 0);
		break;
	case K_REFUSED:
		assert_int_equal(rc, LDNS_RCODE_REFUSED);
		break;
	default:
		fail_msg("request %u (kind %u) must not be answered", i, i % K_COUNT);
	}
	ldns_pkt_free(p);
}

static bool answered(unsigned i)
{
	unsigned k = i % K_COUNT;
	return k != K_RUNT && k != K_RESPONSE && k != K_UPDATE;
}

static void test_batch_of_64_allocates_nothing(void **state)
{
	fx_t *f = *state;
	srv_udp_batch_t *b = f->b;
	srv_udp_batch_prepare(b);
	for (unsigned i = 0; i < SRV_UDP_BATCH; i++)
		receive(f, i);
	rcu_quiescent_state();
	const srv_view_t *view = &f->view;
	alloc_count_start();
	unsigned out = srv_udp_batch_answer(b, view, SRV_UDP_BATCH, time(NULL));
	alloc_counts_t n = alloc_count_stop();
	if (n.allocs || n.frees)
		fail_msg("a UDP batch allocated %zu times and freed %zu times", n.allocs, n.frees);

	unsigned expect = 0, updates = 0;
	for (unsigned i = 0; i < SRV_UDP_BATCH; i++) {
		expect += answered(i);
		updates += i % K_COUNT == K_UPDATE;
	}
	assert_int_equal(out, expect);
	assert_int_equal(b->nhandoff, updates);
	for (unsigned h = 0; h < b->nhandoff; h++) {
		assert_int_equal(b->handoff[h].i % K_COUNT, K_UPDATE);
		assert_false(b->handoff[h].signer.active);
	}
	/* replies in request order, each to its own peer */
	unsigned j = 0;
	for (unsigned i = 0; i < SRV_UDP_BATCH; i++) {
		if (!answered(i))
			continue;
		struct msghdr *sh = &b->smsg[j].msg_hdr;
		assert_ptr_equal(sh->msg_name, &b->rname[i]);
		assert_int_equal(sh->msg_namelen, b->rmsg[i].msg_hdr.msg_namelen);
		assert_int_equal(sh->msg_iovlen, 1);
		check_pktinfo(sh, i);
		check_reply(f, i, sh->msg_iov[0].iov_base, sh->msg_iov[0].iov_len);
		j++;
	}
	assert_int_equal(f->st.tsig_ok,
	                 SRV_UDP_BATCH / K_COUNT + (K_TSIG < SRV_UDP_BATCH % K_COUNT));
	assert_int_equal(b->oversize, 0);
}

/* A datagram received without a control message is answered without one (the socket's
 * address is the source). */
static void test_no_pktinfo(void **state)
{
	fx_t *f = *state;
	srv_udp_batch_t *b = f->b;
	srv_udp_batch_prepare(b);
	receive(f, 0);
	b->rmsg[0].msg_hdr.msg_controllen = 0;
	assert_int_equal(srv_udp_batch_answer(b, &f->view, 1, time(NULL)), 1);
	assert_null(b->smsg[0].msg_hdr.msg_control);
	assert_int_equal(b->smsg[0].msg_hdr.msg_controllen, 0);
	check_reply(f, 0, b->smsg[0].msg_hdr.msg_iov[0].iov_base,
	            b->smsg[0].msg_hdr.msg_iov[0].iov_len);
}

/* With response rate limiting on (server/rrl.h, rate 1, slip 2) the batch still allocates
 * nothing; every request kind is charged to a bucket (the IPv4 and the IPv6 peer are one
 * network each): the second round of the same 64 datagrams is limited except what passes,
 * and the limited replies leave truncated (TC, question only) or not at all. */
static void test_rate_limited_batch_allocates_nothing(void **state)
{
	fx_t *f = *state;
	srv_udp_batch_t *b = f->b;
	srv_rrl_conf_t rc = {
	    .rate = 1, .slip = 2, .ipv4_prefix = 24, .ipv6_prefix = 56, .table_size = 4096};
	srv_rrl_t *rrl = NULL;
	assert_int_equal(srv_rrl_new(&rc, &rrl), 0);
	b->rrl = rrl;
	unsigned outs[2];
	for (int round = 0; round < 2; round++) {
		srv_udp_batch_prepare(b);
		for (unsigned i = 0; i < SRV_UDP_BATCH; i++)
			receive(f, i);
		rcu_quiescent_state();
		alloc_count_start();
		outs[round] = srv_udp_batch_answer(b, &f->view, SRV_UDP_BATCH, time(NULL));
		alloc_counts_t n = alloc_count_stop();
		if (n.allocs || n.frees)
			fail_msg("a rate-limited batch allocated %zu times and freed %zu times",
			         n.allocs, n.frees);
		for (unsigned j = 0; j < outs[round]; j++) {
			const uint8_t *r = b->smsg[j].msg_hdr.msg_iov[0].iov_base;
			size_t len = b->smsg[j].msg_hdr.msg_iov[0].iov_len;
			assert_true(len >= 12 && (be16_get(r + 2) & DNS_FLAG_QR));
			if (be16_get(r + 2) & DNS_FLAG_TC) /* slipped or a real TC: no records */
				assert_int_equal(be16_get(r + 6) | be16_get(r + 8), 0);
		}
	}
	const srv_rrl_stats_t *st = srv_rrl_stats(rrl);
	assert_true(st->limited > 0);
	assert_int_equal(st->limited, st->slipped + st->dropped);
	/* 64 replies a round are charged to far fewer buckets of one response each */
	assert_true(outs[0] < SRV_UDP_BATCH && outs[1] <= outs[0]);
	assert_true(st->slipped > 0 && st->dropped > 0);
	b->rrl = NULL;
	srv_rrl_free(rrl);
}

/* Signed EDNS queries over the rate (RFC 8945 5.3 with RRL): rate 1, slip 1, 64 signed
 * "www.example.com A" with an OPT from two networks. Each network's first gets the full
 * signed answer; every other reply is the slipped form signed again: TC, no records, the
 * OPT (payload 1232) right after the question and a TSIG the client verifies. */
static void test_signed_slip_is_signed(void **state)
{
	fx_t *f = *state;
	srv_udp_batch_t *b = f->b;
	srv_rrl_conf_t rc = {
	    .rate = 1, .slip = 1, .ipv4_prefix = 24, .ipv6_prefix = 56, .table_size = 4096};
	srv_rrl_t *rrl = NULL;
	assert_int_equal(srv_rrl_new(&rc, &rrl), 0);
	b->rrl = rrl;
	srv_udp_batch_prepare(b);
	for (unsigned i = 0; i < SRV_UDP_BATCH; i++) {
		receive(f, i);
		uint8_t *m = b->riov[i].iov_base;
		size_t n =
		    make_query(m, (uint16_t)(0x1000 + i), 0, "www.example.com.", DNS_TYPE_A, true);
		tsig_ctx_init(&f->client[i], &f->key);
		assert_int_equal(tsig_sign_request(&f->client[i], m, &n, 1024, time(NULL)), 0);
		b->rmsg[i].msg_len = (unsigned)n;
	}
	rcu_quiescent_state();
	unsigned out = srv_udp_batch_answer(b, &f->view, SRV_UDP_BATCH, time(NULL));
	assert_int_equal(out, SRV_UDP_BATCH);
	size_t qend = DNS_HEADER_LEN + 17 + 4; /* www.example.com A IN */
	unsigned full = 0;
	for (unsigned j = 0; j < out; j++) {
		const uint8_t *r = b->smsg[j].msg_hdr.msg_iov[0].iov_base;
		size_t len = b->smsg[j].msg_hdr.msg_iov[0].iov_len;
		assert_int_equal(tsig_verify_response(&f->client[j], r, len, time(NULL)), 0);
		if (!(be16_get(r + 2) & DNS_FLAG_TC)) {
			full++;
			continue;
		}
		assert_int_equal(be16_get(r + 6) | be16_get(r + 8), 0);
		assert_int_equal(be16_get(r + 10), 2); /* OPT, TSIG */
		assert_int_equal(r[qend], 0);          /* root owner */
		assert_int_equal(be16_get(r + qend + 1), DNS_TYPE_OPT);
		assert_int_equal(be16_get(r + qend + 3), 1232);
	}
	assert_int_equal(full, 2);
	assert_int_equal(srv_rrl_stats(rrl)->slipped, SRV_UDP_BATCH - 2);
	b->rrl = NULL;
	srv_rrl_free(rrl);
}

/* Datagram i replaced by "www.example.com A" with EDNS and a COOKIE: a client cookie only
 * (i % 3 == 0), a valid server cookie for its peer (1) or a forged one (2). */
static void cookie_datagram(fx_t *f, const srv_cookie_secrets_t *s, unsigned i, time_t now)
{
	srv_udp_batch_t *b = f->b;
	uint8_t *m = b->riov[i].iov_base;
	size_t n = make_query(m, (uint16_t)(0x1000 + i), 0, "www.example.com.", DNS_TYPE_A, false);
	uint8_t ck[24] = {1, 2, 3, 4, 5, 6, 7, (uint8_t)i};
	size_t clen = i % 3 == 0 ? 8 : 24;
	srv_cookie_make(s->current, ck, (const struct sockaddr *)&b->rname[i], (uint32_t)now,
	                ck + 8);
	if (i % 3 == 2)
		ck[23] ^= 0x5a;
	static const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0};
	memcpy(m + n, opt, sizeof(opt));
	n += sizeof(opt);
	n = (size_t)(be16_put(m + n, (uint16_t)(4 + clen)) - m);
	n = (size_t)(be16_put(m + n, DNS_EDNS_COOKIE) - m);
	n = (size_t)(be16_put(m + n, (uint16_t)clen) - m);
	memcpy(m + n, ck, clen);
	be16_put(m + 10, 1);
	b->rmsg[i].msg_len = (unsigned)(n + clen);
}

/* Cookies and RRL (rate 1, slip 0: every limited reply dropped) on together: nothing is
 * allocated; every request with a valid server cookie is answered in full (exempt), each
 * reply carries the client's cookie, and the other requests share the rate. */
static void test_cookies_and_rrl_allocate_nothing(void **state)
{
	fx_t *f = *state;
	srv_udp_batch_t *b = f->b;
	srv_cookie_conf_t cc = {.mode = SRV_COOKIES_ON};
	srv_cookies_t jar = {0};
	assert_int_equal(srv_cookies_init(&jar, &cc), 0);
	srv_rrl_conf_t rc = {
	    .rate = 1, .slip = 0, .ipv4_prefix = 24, .ipv6_prefix = 56, .table_size = 4096};
	srv_rrl_t *rrl = NULL;
	assert_int_equal(srv_rrl_new(&rc, &rrl), 0);
	b->rrl = rrl;
	b->cookies = &jar;
	time_t now = time(NULL);
	srv_udp_batch_prepare(b);
	for (unsigned i = 0; i < SRV_UDP_BATCH; i++) {
		receive(f, i);
		cookie_datagram(f, jar.current, i, now);
	}
	rcu_quiescent_state();
	alloc_count_start();
	unsigned out = srv_udp_batch_answer(b, &f->view, SRV_UDP_BATCH, now);
	alloc_counts_t n = alloc_count_stop();
	if (n.allocs || n.frees)
		fail_msg("cookies + RRL: %zu allocations, %zu frees", n.allocs, n.frees);
	unsigned valid = 0, answered_valid = 0;
	for (unsigned i = 0; i < SRV_UDP_BATCH; i++)
		valid += i % 3 == 1;
	for (unsigned j = 0; j < out; j++) {
		const uint8_t *r = b->smsg[j].msg_hdr.msg_iov[0].iov_base;
		size_t len = b->smsg[j].msg_hdr.msg_iov[0].iov_len;
		unsigned i = be16_get(r) - 0x1000u;
		assert_int_equal(be16_get(r + 6), 1); /* the answer, never slipped (slip 0) */
		assert_true(len > 28);
		assert_int_equal(be16_get(r + len - 28), DNS_EDNS_COOKIE);
		assert_int_equal(r[len - 24 + 7], (uint8_t)i); /* its own client cookie */
		answered_valid += i % 3 == 1;
	}
	assert_int_equal(answered_valid, valid);
	/* the 43 others: one per network (IPv4, IPv6) passes */
	assert_int_equal(out, valid + 2);
	assert_int_equal(srv_rrl_stats(rrl)->exempt, valid);
	assert_int_equal(f->st.cookies.valid, valid);
	b->rrl = NULL;
	b->cookies = NULL;
	srv_rrl_free(rrl);
	srv_cookies_fini(&jar);
}

/* One pacing window (server/udp.h): n datagrams (a multiple of 8) from the window's start
 * to end, one at a time, the last at end, the thread on the CPU busy percent of it. */
static void pace_window(srv_udp_pace_t *p, uint64_t end, unsigned n, unsigned busy)
{
	uint64_t span = end - p->start;
	assert_true(n % SRV_UDP_GATHER == 0);
	for (unsigned i = 1; i < n; i++) {
		/* the clock is read every 8th datagram; within the window, it does not end */
		bool read = srv_udp_pace_note(p, 1);
		assert_int_equal(read, i % SRV_UDP_GATHER == 0);
		assert_false(read && srv_udp_pace_due(p, p->start + span / 2));
	}
	assert_true(srv_udp_pace_note(p, 1));
	assert_true(srv_udp_pace_due(p, end));
	srv_udp_pace_window(p, end, p->cpu + span * busy / 100);
	assert_int_equal(p->count, 0);
	assert_int_equal(p->start, end);
}

/* Batch pacing: the wait is the time 8 datagrams take, set only for a busy thread and only
 * up to max_ns; a window ends after 1 ms, not before. */
static void test_pace(void **state)
{
	(void)state;
	const uint64_t ms = 1000000;
	srv_udp_pace_t p = {.max_ns = 100000}; /* the default, 100 us */
	/* the first datagram ends the first window, a long idle one from 0 */
	assert_true(srv_udp_pace_note(&p, 1));
	assert_true(srv_udp_pace_due(&p, 10 * ms));
	srv_udp_pace_window(&p, 10 * ms, 0);
	assert_int_equal(p.wait_ns, 0);
	static const struct {
		uint64_t end_ms; /* the window's end */
		unsigned n;      /* datagrams in it */
		unsigned busy;   /* percent */
		uint64_t wait;   /* the wait it sets */
	} steps[] = {
	    /* 200 in 1 ms (one per 5 us), 50% busy: fast enough, not busy enough to start */
	    {11, 200, 50, 0},
	    /* 60% busy: it starts, 8 x 5 us */
	    {12, 200, 60, 40000},
	    /* waiting, 45% busy: above the bound where it stops; 80 in 1 ms take exactly max */
	    {13, 80, 45, 100000},
	    /* 72 in 1 ms: 8 take longer than max, it stops though busy */
	    {14, 72, 100, 0},
	    {15, 160, 100, 50000},
	    /* under 40% busy: it stops */
	    {16, 160, 39, 0},
	    /* busy again, then a quiet second: 8 in a second is slow, busy or not */
	    {17, 200, 100, 40000},
	    {1017, 8, 100, 0},
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		pace_window(&p, steps[i].end_ms * ms, steps[i].n, steps[i].busy);
		assert_int_equal(p.wait_ns, steps[i].wait);
	}
	/* a batch of many counts at once */
	assert_false(srv_udp_pace_note(&p, 7));
	assert_true(srv_udp_pace_note(&p, 64));
	assert_false(srv_udp_pace_due(&p, 1017 * ms + 1)); /* read again 8 later */
	assert_false(srv_udp_pace_note(&p, 7));
	assert_true(srv_udp_pace_note(&p, 1));
	/* off: never a wait */
	srv_udp_pace_t off = {.max_ns = 0};
	assert_true(srv_udp_pace_note(&off, 1));
	srv_udp_pace_window(&off, 10 * ms, 0);
	pace_window(&off, 11 * ms, 64, 100);
	assert_int_equal(off.wait_ns, 0);
}

int main(void)
{
	rcu_register_thread();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_batch_of_64_allocates_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_pktinfo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_limited_batch_allocates_nothing, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_cookies_and_rrl_allocate_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_signed_slip_is_signed, setup, teardown),
	    cmocka_unit_test(test_pace),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_barrier_qsbr();
	rcu_unregister_thread();
	return rc;
}
