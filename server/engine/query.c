/* query.c — request parsing; see query.h. */
#include "server/engine/query.h"

#include <string.h>

#include "contrib/base/err.h"
#include "contrib/base/bytes.h"
#include "dns/name.h"
#include "zone/version.h"

/* The question name must be uncompressed: nothing precedes it that a pointer could name
 * except the header, and it is echoed byte for byte. */
static int parse_question(const uint8_t *req, size_t len, size_t *pos, srv_query_t *q)
{
	size_t nl = dname_len_bounded(req + *pos, len - *pos);
	if (nl == 0 || len - *pos - nl < 4)
		return SD_EPARSE;
	memcpy(q->qname, req + *pos, nl);
	q->qname_len = (uint8_t)nl;
	q->qtype = be16_get(req + *pos + nl);
	q->qclass = be16_get(req + *pos + nl + 2);
	q->question_len = nl + 4;
	q->has_question = true;
	*pos += nl + 4;
	return 0;
}

/* OPT RDATA is a sequence of {code, length, data} that must fill it exactly (RFC 6891 6.1.2).
 * Unknown options are ignored. */
static bool opt_options_valid(const uint8_t *rdata, size_t rdlen)
{
	size_t i = 0;
	while (i < rdlen) {
		if (rdlen - i < 4)
			return false;
		size_t olen = be16_get(rdata + i + 2);
		if (rdlen - i - 4 < olen)
			return false;
		i += 4 + olen;
	}
	return true;
}

static void parse_opt(const uint8_t *rr, bool root, const uint8_t *rdata, size_t rdlen,
                      srv_query_t *q)
{
	if (q->has_opt) { /* RFC 6891 6.1.1: more than one OPT is a FORMERR */
		q->malformed = true;
		return;
	}
	if (!root || !opt_options_valid(rdata, rdlen)) {
		q->malformed = true;
		return;
	}
	uint32_t ttl = be32_get(rr + 4);
	q->has_opt = true;
	q->opt_payload = be16_get(rr + 2);
	q->opt_version = (uint8_t)(ttl >> 16);
	q->opt_do = (ttl & 0x8000) != 0;
}

/* Walk one RR at *pos; in the additional section hand OPT to parse_opt. */
static int parse_rr(const uint8_t *req, size_t len, size_t *pos, bool additional, srv_query_t *q)
{
	bool root = *pos < len && req[*pos] == 0;
	size_t end = *pos;
	if (dname_skip(req, len, &end) < 0 || len - end < 10)
		return SD_EPARSE;
	size_t nl = end - *pos;
	const uint8_t *rr = req + *pos + nl; /* type, class, ttl, rdlength */
	size_t rdlen = be16_get(rr + 8);
	if (len - *pos - nl - 10 < rdlen)
		return SD_EPARSE;
	*pos += nl + 10 + rdlen;
	if (!additional)
		return 0;
	uint16_t type = be16_get(rr);
	if (type == DNS_TYPE_OPT)
		parse_opt(rr, root, rr + 10, rdlen, q);
	else if (type == DNS_TYPE_TSIG)
		q->has_tsig = true;
	else
		q->malformed = true;
	return 0;
}

int srv_query_parse(const uint8_t *req, size_t len, srv_query_t *q)
{
	if (len < DNS_HEADER_LEN)
		return SD_EPARSE;
	memset(q, 0, sizeof(*q));
	q->id = be16_get(req);
	q->flags = be16_get(req + 2);
	q->opcode = (uint8_t)((q->flags >> 11) & 0xf);
	q->qdcount = be16_get(req + 4);
	q->ancount = be16_get(req + 6);
	q->nscount = be16_get(req + 8);
	q->arcount = be16_get(req + 10);

	size_t pos = DNS_HEADER_LEN;
	if (q->qdcount != 1) { /* RFC 9619: QDCOUNT is 1; nothing after that is worth reading */
		q->malformed = true;
		return 0;
	}
	if (parse_question(req, len, &pos, q) < 0) {
		q->malformed = true;
		return 0;
	}
	unsigned total = (unsigned)q->ancount + q->nscount + q->arcount;
	for (unsigned i = 0; i < total; i++) {
		bool additional = i >= (unsigned)q->ancount + q->nscount;
		if (parse_rr(req, len, &pos, additional, q) < 0) {
			q->malformed = true;
			return 0;
		}
	}
	if (pos != len) /* trailing garbage */
		q->malformed = true;
	return 0;
}
