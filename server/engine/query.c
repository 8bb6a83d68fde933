/* query.c — request parsing; see query.h. */
#include "server/engine/query.h"

#include <stddef.h>
#include <string.h>

#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "dns/name.h"
#include "dns/soa.h"

/* The question name must be uncompressed (plain: read_question() saw it so): nothing precedes it that a pointer could name
 * except the header, and it is echoed byte for byte. It is kept lowercased, as every lookup
 * wants it: the fold is done here, once, instead of a copy. */
static int parse_question(const uint8_t *req, const dns_rr_t *rr, bool plain, srv_query_t *q)
{
	if (!plain && dname_len_bounded(req + rr->owner, rr->owner_len) != rr->owner_len)
		return SD_EPARSE;
	q->qname_hash = dname_copy_lower_hash(q->qname, req + rr->owner, rr->owner_len);
	q->qname_len = (uint8_t)rr->owner_len;
	q->qtype = rr->type;
	q->qclass = rr->rclass;
	q->question_len = rr->owner_len + 4;
	q->has_question = true;
	return 0;
}

/* ECS (RFC 7871 6): FAMILY 1 or 2, SOURCE PREFIX-LENGTH within the family, SCOPE
 * PREFIX-LENGTH 0 ("In queries, it MUST be set to 0"; 7.2.1: a wrongly formatted option is
 * a FORMERR), exactly ceil(source / 8) address bytes, no bit set past the prefix. */
static int parse_ecs(const uint8_t *opt, size_t olen, srv_query_t *q)
{
	if (olen < 4)
		return SD_EPARSE;
	uint16_t family = be16_get(opt);
	unsigned source = opt[2], max = family == SRV_ECS_IPV4 ? 32 : 128;
	if ((family != SRV_ECS_IPV4 && family != SRV_ECS_IPV6) || source > max || opt[3] != 0)
		return SD_EPARSE;
	size_t alen = (source + 7) / 8;
	if (olen - 4 != alen)
		return SD_EPARSE;
	if (source % 8 != 0 && (opt[4 + alen - 1] & (0xff >> (source % 8))) != 0)
		return SD_EPARSE;
	q->has_ecs = true;
	q->ecs_family = family;
	q->ecs_source = (uint8_t)source;
	q->ecs_scope = opt[3];
	memset(q->ecs_addr, 0, sizeof(q->ecs_addr));
	memcpy(q->ecs_addr, opt + 4, alen);
	return 0;
}

/* COOKIE (RFC 7873 4, 5.2.2): a client cookie of 8 bytes, then nothing or a server cookie
 * of 8 to 32 bytes. at: the option data's offset in the message. */
static int parse_cookie(size_t at, size_t olen, srv_query_t *q)
{
	if (olen != 8 && (olen < 16 || olen > 40))
		return SD_EPARSE;
	q->has_cookie = true;
	q->cookie_len = (uint8_t)olen;
	q->cookie_at = (uint16_t)at;
	return 0;
}

/* OPT RDATA is a sequence of {code, length, data} that must fill it exactly (RFC 6891 6.1.2).
 * Unknown options are ignored; the first ECS and COOKIE options are read (*opt_bad when one
 * is malformed: the OPT itself stands, so the FORMERR still carries one). base: the RDATA's
 * offset in the message. */
static int parse_opt_options(const uint8_t *rdata, size_t rdlen, size_t base, srv_query_t *q,
                             bool *opt_bad)
{
	size_t i = 0;
	bool ecs_seen = false, cookie_seen = false;
	while (i < rdlen) {
		if (rdlen - i < 4)
			return SD_EPARSE;
		uint16_t code = be16_get(rdata + i);
		size_t olen = be16_get(rdata + i + 2);
		if (rdlen - i - 4 < olen)
			return SD_EPARSE;
		if (code == DNS_EDNS_ECS && !ecs_seen) {
			ecs_seen = true;
			if (parse_ecs(rdata + i + 4, olen, q) < 0)
				*opt_bad = true;
		} else if (code == DNS_EDNS_COOKIE && !cookie_seen) {
			cookie_seen = true;
			if (parse_cookie(base + i + 4, olen, q) < 0)
				*opt_bad = true;
		}
		i += 4 + olen;
	}
	return 0;
}

static void parse_opt(const uint8_t *req, const dns_rr_t *rr, srv_query_t *q)
{
	if (q->has_opt) { /* RFC 6891 6.1.1: more than one OPT is a FORMERR */
		q->malformed = true;
		return;
	}
	bool opt_bad = false;
	if (!dns_rr_owner_is_root(rr) ||
	    parse_opt_options(req + rr->rdata, rr->rdlength, rr->rdata, q, &opt_bad) < 0) {
		q->has_ecs = false;
		q->has_cookie = false;
		q->malformed = true;
		return;
	}
	if (opt_bad) { /* RFC 7871 6, RFC 7873 5.2.2: FORMERR */
		q->has_ecs = false;
		q->has_cookie = false;
		q->malformed = true;
	}
	q->has_opt = true;
	q->opt_payload = rr->rclass;
	q->opt_version = (uint8_t)(rr->ttl >> 16);
	q->opt_do = (rr->ttl & 0x8000) != 0;
}

/* RFC 1995 3: the authority section of an IXFR query holds the client's SOA. Its RDATA may
 * use compression, so the serial is found from the end: it is the first of the 20 bytes of
 * 32-bit fields that close the RDATA. */
static void parse_ixfr_soa(const uint8_t *req, const dns_rr_t *rr, srv_query_t *q)
{
	if (q->has_ixfr_serial || rr->type != DNS_TYPE_SOA || rr->rdlength < DNS_SOA_MIN_LEN)
		return;
	q->ixfr_serial = dns_soa_serial(req + rr->rdata, rr->rdlength);
	q->has_ixfr_serial = true;
}

/* One record of the answer, authority or additional section. */
static void parse_rr(const uint8_t *req, const dns_rr_t *rr, srv_query_t *q)
{
	if (q->tsig_at_end) /* RFC 8945 5.1: the TSIG must be the last record */
		q->tsig_at_end = false;
	if (rr->section == DNS_SEC_NS && q->qtype == DNS_TYPE_IXFR)
		parse_ixfr_soa(req, rr, q);
	if (rr->section != DNS_SEC_AR)
		return;
	if (rr->type == DNS_TYPE_OPT) {
		parse_opt(req, rr, q);
	} else if (rr->type == DNS_TYPE_TSIG) {
		q->tsig_at_end = !q->has_tsig;
		q->has_tsig = true;
		q->tsig = *rr;
	} else {
		q->malformed = true;
	}
}

/* The question: a plain name, type and class is taken as it lies (the usual request); any
 * other shape goes through the reader, which frames it or fails as the iterator would. */
/* dname_len_bounded() of the question name, its label offsets noted in q on the way. */
static size_t question_name(const uint8_t *p, size_t max, srv_query_t *q)
{
	size_t i = 0;
	unsigned n = 0;
	while (i < max) {
		uint8_t l = p[i];
		if (l == 0) {
			q->qname_labels = (uint8_t)n;
			return i + 1 <= DNAME_MAX ? i + 1 : 0;
		}
		if (l & 0xc0)
			return 0;
		if (n < DNAME_LABELS_MAX)
			q->qname_offs[n++] = (uint8_t)i;
		i += 1u + l;
	}
	return 0;
}

static int read_question(const uint8_t *req, size_t len, size_t *pos, srv_query_t *q)
{
	dns_rr_t rr;
	size_t nl = question_name(req + *pos, len - *pos, q);
	if (nl != 0 && len - *pos - nl >= 4) {
		rr = (dns_rr_t){.section = DNS_SEC_QD,
		                .owner = *pos,
		                .owner_len = nl,
		                .type = be16_get(req + *pos + nl),
		                .rclass = be16_get(req + *pos + nl + 2),
		                .rdata = *pos + nl + 4};
		*pos = rr.rdata;
		return parse_question(req, &rr, true, q);
	}
	if (dns_rr_read(req, len, pos, true, &rr) < 0 || parse_question(req, &rr, false, q) < 0)
		return SD_EPARSE;
	q->qname_labels = (uint8_t)dname_label_offsets(q->qname, q->qname_offs);
	return 0;
}

/* The answer, authority and additional records after the question, in order (dns_rr_read
 * frames each one; the counts come from the header). */
static int read_records(const uint8_t *req, size_t len, size_t *pos, srv_query_t *q)
{
	if ((q->ancount | q->nscount | q->arcount) == 0)
		return 0;
	const uint16_t count[] = {
	    [DNS_SEC_AN] = q->ancount, [DNS_SEC_NS] = q->nscount, [DNS_SEC_AR] = q->arcount};
	for (dns_section_t sec = DNS_SEC_AN; sec <= DNS_SEC_AR; sec++) {
		for (unsigned i = 0; i < count[sec]; i++) {
			dns_rr_t rr;
			if (dns_rr_read(req, len, pos, false, &rr) < 0)
				return SD_EPARSE;
			rr.section = sec;
			rr.index = i;
			parse_rr(req, &rr, q);
		}
	}
	return 0;
}

int srv_query_parse(const uint8_t *req, size_t len, srv_query_t *q)
{
	/* qname is set with has_question, the fields from ecs_addr with their flags */
	memset(q, 0, offsetof(srv_query_t, ecs_addr));
	q->msg = req;
	q->len = len;
	if (len < DNS_HEADER_LEN)
		return SD_EPARSE;
	q->id = be16_get(req);
	q->flags = be16_get(req + 2);
	q->opcode = (uint8_t)((q->flags >> 11) & 0xf);
	q->qdcount = be16_get(req + 4);
	q->ancount = be16_get(req + 6);
	q->nscount = be16_get(req + 8);
	q->arcount = be16_get(req + 10);
	if (q->qdcount > 1) { /* RFC 9619: QDCOUNT is 1; nothing after that is worth reading */
		q->malformed = true;
		return 0;
	}
	size_t pos = DNS_HEADER_LEN;
	int rc = q->qdcount == 1 ? read_question(req, len, &pos, q) : 0;
	if (rc == 0)
		rc = read_records(req, len, &pos, q);
	/* QDCOUNT 0 is a QUERY for a server cookie alone (RFC 7873 5.4), or malformed */
	if (q->qdcount == 0 && !(q->opcode == DNS_OPCODE_QUERY && q->has_cookie))
		q->malformed = true;
	if (rc < 0) { /* a record that does not parse: nothing after it is known */
		q->malformed = true;
		q->tsig_at_end = false;
	}
	if (pos != len) /* trailing bytes (a TSIG then fails to verify) */
		q->malformed = true;
	if (q->has_tsig && !q->tsig_at_end) /* RFC 8945 5.1: a TSIG elsewhere is a FORMERR */
		q->malformed = true;
	return 0;
}
