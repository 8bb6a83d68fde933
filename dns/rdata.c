/* rdata.c — the RDATA descriptor table (see rdata.h). */
#include "dns/rdata.h"

#include "contrib/base/err.h"
#include "dns/name.h"
#include "dns/proto.h"
#include "dns/soa.h"

#define C DNS_RDATA_COMPRESS
#define T DNS_RDATA_ADDITIONAL

/* Indexed by type; every type with names is below DNS_TYPE_DNAME + 1. Zero entries are
 * opaque. The SOA tail is serial, refresh, retry, expire, minimum (RFC 1035 3.3.13). */
static const dns_rdata_desc_t table[DNS_TYPE_DNAME + 1] = {
    [DNS_TYPE_NS] = {.names = 1, .flags = C | T},                     /* RFC 1035 3.3.11 */
    [DNS_TYPE_MD] = {.names = 1},                                     /* RFC 1035 3.3.4 */
    [DNS_TYPE_MF] = {.names = 1},                                     /* RFC 1035 3.3.5 */
    [DNS_TYPE_CNAME] = {.names = 1, .flags = C},                      /* RFC 1035 3.3.1 */
    [DNS_TYPE_SOA] = {.names = 2, .tail = DNS_SOA_FIXED, .flags = C}, /* RFC 1035 3.3.13 */
    [DNS_TYPE_MB] = {.names = 1},                                     /* RFC 1035 3.3.3 */
    [DNS_TYPE_MG] = {.names = 1},                                     /* RFC 1035 3.3.6 */
    [DNS_TYPE_MR] = {.names = 1},                                     /* RFC 1035 3.3.8 */
    [DNS_TYPE_PTR] = {.names = 1, .flags = C},                        /* RFC 1035 3.3.12 */
    [DNS_TYPE_MINFO] = {.names = 2},                                  /* RFC 1035 3.3.7 */
    [DNS_TYPE_MX] = {.pre = 2, .names = 1, .flags = C | T},           /* RFC 1035 3.3.9 */
    [DNS_TYPE_RP] = {.names = 2},                                     /* RFC 1183 2.2 */
    [DNS_TYPE_AFSDB] = {.pre = 2, .names = 1},                        /* RFC 1183 1 */
    [DNS_TYPE_RT] = {.pre = 2, .names = 1},                           /* RFC 1183 3.3 */
    [DNS_TYPE_PX] = {.pre = 2, .names = 2},                           /* RFC 2163 4 */
    [DNS_TYPE_SRV] = {.pre = 6, .names = 1, .flags = T},              /* RFC 2782 */
    [DNS_TYPE_KX] = {.pre = 2, .names = 1},                           /* RFC 2230 3.1 */
    [DNS_TYPE_DNAME] = {.names = 1},                                  /* RFC 6672 2.1 */
};

static const dns_rdata_desc_t opaque = {0};

const dns_rdata_desc_t *dns_rdata_desc(uint16_t type)
{
	return type < SD_ARRAY_LEN(table) ? &table[type] : &opaque;
}

int dns_rdata_names(uint16_t type, const uint8_t *rdata, uint16_t rdlen,
                    uint16_t offs[DNS_RDATA_NAMES_MAX])
{
	const dns_rdata_desc_t *d = dns_rdata_desc(type);
	if (d->names == 0)
		return 0;
	size_t p = d->pre;
	for (unsigned i = 0; i < d->names; i++) {
		size_t l = p < rdlen ? dname_len_bounded(rdata + p, rdlen - p) : 0;
		if (l == 0)
			return SD_EPARSE;
		offs[i] = (uint16_t)p;
		p += l;
	}
	return p + d->tail == rdlen ? (int)d->names : SD_EPARSE;
}
