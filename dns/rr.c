/* rr.c — the section reader; see rr.h. */
#include "dns/rr.h"

#include <string.h>

#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "dns/name.h"
#include "dns/proto.h"

int dns_rr_read(const uint8_t *msg, size_t len, size_t *pos, bool question, dns_rr_t *rr)
{
	size_t p = *pos;
	size_t fixed = question ? 4 : 10; /* type, class [, ttl, rdlength] (RFC 1035 4.1.2/4.1.3) */
	if (p > len || dname_skip(msg, len, &p) < 0 || len - p < fixed) {
		memset(rr, 0, sizeof(*rr));
		return SD_EPARSE;
	}
	/* every field assigned (no memset: this runs for every record of every query) */
	*rr = (dns_rr_t){
	    .owner = *pos,
	    .owner_len = p - *pos,
	    .type = be16_get(msg + p),
	    .rclass = be16_get(msg + p + 2),
	    .ttl = question ? 0 : be32_get(msg + p + 4),
	    .rdlength = question ? 0 : be16_get(msg + p + 8),
	    .rdata = p + fixed,
	};
	if (len - rr->rdata < rr->rdlength)
		return SD_EPARSE;
	*pos = dns_rr_end(rr);
	return 0;
}

int dns_rr_iter_init(dns_rr_iter_t *it, const uint8_t *msg, size_t len)
{
	memset(it, 0, sizeof(*it));
	if (len < DNS_HEADER_LEN)
		return SD_EPARSE;
	it->msg = msg;
	it->len = len;
	it->pos = DNS_HEADER_LEN;
	for (int s = 0; s < 4; s++)
		it->count[s] = be16_get(msg + 4 + 2 * s);
	it->section = DNS_SEC_QD;
	return 0;
}

int dns_rr_iter_next(dns_rr_iter_t *it, dns_rr_t *rr)
{
	if (it->failed)
		return SD_EPARSE;
	while (it->section < DNS_SEC_END && it->index >= it->count[it->section]) {
		it->section++;
		it->index = 0;
	}
	if (it->section == DNS_SEC_END)
		return SD_ENOTFOUND;
	if (dns_rr_read(it->msg, it->len, &it->pos, it->section == DNS_SEC_QD, rr) < 0) {
		it->failed = true;
		return SD_EPARSE;
	}
	rr->section = it->section;
	rr->index = it->index++;
	return 0;
}
