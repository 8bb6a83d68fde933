#include "server/xfr/serve.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "contrib/base/stat.h"
#include "contrib/base/bytes.h"
#include "dns/name.h"
#include "dns/proto.h"

#define OPT_RR_LEN     11 /* root owner, type, class, ttl, rdlength (no options) */
#define COOKIE_OPT_LEN 28 /* option code, length, client cookie 8, server cookie 16 */

/* Our OPT (RFC 6891 6.1.2, 6.1.3): payload size, the upper 8 bits of the extended rcode,
 * version 0, DO echoed; the COOKIE option when the request had one and the front door
 * decided the server cookie (RFC 7873 5.2, server/cookie.h). Returns the new length or 0
 * when it does not fit. */
static size_t put_opt(const srv_query_t *q, unsigned rcode, uint16_t payload, uint8_t *buf,
                      size_t n, size_t cap)
{
	size_t olen = q->has_cookie && q->cookie_reply ? COOKIE_OPT_LEN : 0;
	if (cap - n < OPT_RR_LEN + olen)
		return 0;
	uint8_t *p = buf + n;
	p[0] = 0; /* root owner */
	be16_put(p + 1, DNS_TYPE_OPT);
	be16_put(p + 3, payload);
	be32_put(p + 5, ((uint32_t)(rcode >> 4) << 24) | (q->opt_do ? 0x8000u : 0));
	be16_put(p + 9, (uint16_t)olen);
	if (olen) {
		be16_put(p + 11, DNS_EDNS_COOKIE);
		be16_put(p + 13, COOKIE_OPT_LEN - 4);
		memcpy(p + 15, q->msg + q->cookie_at, 8);
		memcpy(p + 23, q->cookie_server, 16);
	}
	be16_put(buf + 10, 1); /* ARCOUNT */
	return n + OPT_RR_LEN + olen;
}

size_t xfr_error_reply(const srv_query_t *q, unsigned rcode, uint16_t payload, tsig_ctx_t *tsig,
                       time_t now, uint8_t *buf, size_t cap)
{
	if (cap < 512)
		return 0;
	uint16_t fl = q->flags;
	uint16_t flags =
	    (uint16_t)(DNS_FLAG_QR | (fl & 0x7800) | (fl & DNS_FLAG_RD) | (rcode & 0xf));
	memset(buf, 0, DNS_HEADER_LEN);
	be16_put(buf, q->id);
	be16_put(buf + 2, flags);
	size_t n = DNS_HEADER_LEN;
	if (q->has_question) {
		memcpy(buf + n, q->msg + DNS_HEADER_LEN, q->question_len);
		n += q->question_len;
		be16_put(buf + 4, 1);
	}
	/* every reply to a request with an OPT carries one (RFC 6891 7), before the TSIG */
	if (q->has_opt)
		n = put_opt(q, rcode, payload ? payload : XFR_EDNS_PAYLOAD, buf, n, cap);
	if (n == 0 || (tsig != NULL && tsig_sign(tsig, buf, &n, cap, now) != 0))
		return 0;
	return n;
}

/* Our EDNS payload size: the configured one, the default without an environment. */
static uint16_t env_payload(const xfr_env_t *env)
{
	return env != NULL && env->udp_payload ? env->udp_payload : XFR_EDNS_PAYLOAD;
}

static const xfr_zone_info_t *zone_info(const xfr_env_t *env, const uint8_t *apex)
{
	for (size_t i = 0; env != NULL && i < env->nzones; i++)
		if (dname_equal(env->zones[i].apex, apex))
			return &env->zones[i];
	return NULL;
}

static size_t udp_limit(const xfr_env_t *env, const xfr_request_t *r)
{
	size_t ours = env != NULL && env->udp_payload ? env->udp_payload : XFR_EDNS_PAYLOAD;
	if (!r->edns)
		return 512;
	size_t theirs = r->edns_payload < 512 ? 512 : r->edns_payload;
	return theirs < ours ? theirs : ours;
}

/* One more in a zone's counter (relaxed: a statistic, read tolerantly). */
#define COUNT(zi, field)                                                                           \
	do {                                                                                       \
		if ((zi) != NULL && (zi)->counters != NULL)                                        \
			__atomic_add_fetch(&(zi)->counters->field, 1, __ATOMIC_RELAXED);           \
	} while (0)

static void count_transfer(const xfr_zone_info_t *zi, xfr_out_kind_t kind, xfr_stats_t *st)
{
	switch (kind) {
	case XFR_OUT_AXFR:
		sd_stat_inc(&st->axfr);
		COUNT(zi, axfr);
		break;
	case XFR_OUT_IXFR:
		sd_stat_inc(&st->ixfr);
		COUNT(zi, ixfr);
		break;
	case XFR_OUT_IXFR_AXFR:
		sd_stat_inc(&st->ixfr_full);
		COUNT(zi, ixfr_full);
		break;
	default:
		sd_stat_inc(&st->ixfr_current);
		COUNT(zi, ixfr);
		break;
	}
}

/* AXFR/IXFR: zone, ACL, transport, then the transfer itself. */
xfr_transfer_t xfr_transfer(const xfr_env_t *env, const zone_set_t *zones, const srv_query_t *q,
                            tsig_ctx_t *tsig, time_t now, xfr_reply_t *out, xfr_stats_t *st)
{
	out->len = 0;
	out->xfr = NULL;
	xfr_request_t r;
	unsigned rcode = 0;
	const zone_t *z = NULL;
	const zone_version_t *v = NULL;
	const xfr_zone_info_t *zi = NULL;
	if (xfr_request_from_query(q, &r) != 0)
		rcode = DNS_RCODE_FORMERR;
	else if (q->has_opt && q->opt_version > 0)
		rcode = DNS_RCODE_BADVERS; /* RFC 6891 6.1.3: we implement version 0 only */
	else if (q->cookie_badcookie)      /* RFC 7873 5.2.3: require, over UDP (server/cookie.h) */
		rcode = DNS_RCODE_BADCOOKIE;
	else if (r.qclass != DNS_CLASS_IN && r.qclass != DNS_CLASS_ANY)
		rcode = DNS_RCODE_REFUSED;
	else if (zones == NULL || (z = zone_set_get(zones, r.qname)) == NULL)
		rcode = DNS_RCODE_NOTAUTH; /* RFC 5936 2.2.1: not authoritative for the zone */
	else if ((v = zone_current(z)) == NULL)
		rcode = DNS_RCODE_SERVFAIL;
	if (rcode == 0) {
		zi = zone_info(env, r.qname);
		if (zi == NULL ||
		    !xfr_acl_allows(zi->acl, zi->acl_count, q->client, tsig ? tsig->key : NULL)) {
			sd_stat_inc(&st->refused);
			COUNT(zi, refused);
			rcode = DNS_RCODE_REFUSED;
		} else if (r.qtype == DNS_TYPE_AXFR && !q->tcp) {
			rcode = DNS_RCODE_NOTIMP;
		} else {
			xfr_out_params_t p = {.req = &r,
			                      .version = v,
			                      .history = zi->history,
			                      .tsig = tsig,
			                      .udp = !q->tcp,
			                      .udp_max = udp_limit(env, &r),
			                      .edns_payload = env_payload(env)};
			if (xfr_out_new(&p, &out->xfr) != 0)
				rcode = DNS_RCODE_SERVFAIL;
		}
	}
	if (rcode != 0) {
		out->len =
		    xfr_error_reply(q, rcode, env_payload(env), tsig, now, out->buf, out->cap);
		return out->len ? XFR_TRANSFER_REPLY : XFR_TRANSFER_DROP;
	}
	count_transfer(zi, xfr_out_kind(out->xfr), st);
	if (q->tcp)
		return XFR_TRANSFER_STREAM;
	/* IXFR over UDP: a single datagram, the SOA alone when the reply would not fit */
	if (xfr_out_next(out->xfr, out->buf, out->cap, now, &out->len) != 0)
		out->len = 0;
	if (xfr_out_kind(out->xfr) == XFR_OUT_IXFR_UDP_SOA)
		sd_stat_inc(&st->ixfr_udp);
	xfr_out_free(out->xfr);
	out->xfr = NULL;
	return out->len ? XFR_TRANSFER_REPLY : XFR_TRANSFER_DROP;
}

bool xfr_is_transfer(const srv_query_t *q)
{
	return q->opcode == DNS_OPCODE_QUERY && q->has_question &&
	       (q->qtype == DNS_TYPE_AXFR || q->qtype == DNS_TYPE_IXFR);
}

/* The kind as one token for the kind= field. */
static const char *kind_token(xfr_out_kind_t kind)
{
	switch (kind) {
	case XFR_OUT_AXFR:
		return "AXFR";
	case XFR_OUT_IXFR:
		return "IXFR";
	case XFR_OUT_IXFR_AXFR:
		return "IXFR-full-zone";
	case XFR_OUT_IXFR_CURRENT:
		return "IXFR-up-to-date";
	case XFR_OUT_IXFR_UDP_SOA:
		return "IXFR-UDP-SOA";
	}
	return "?";
}

void xfr_out_log_done(const xfr_out_t *x, const struct sockaddr *peer, int rc)
{
	char zone[DNAME_MAX * 4 + 1], addr[INET6_ADDRSTRLEN] = "?", who[INET6_ADDRSTRLEN + 10];
	unsigned port = 0;
	dname_to_str_nodot(xfr_out_apex(x), zone, sizeof(zone));
	bool v6 = peer != NULL && peer->sa_family == AF_INET6;
	if (peer != NULL && peer->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)peer;
		inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
		port = ntohs(s4->sin_port);
	} else if (v6) {
		const struct sockaddr_in6 *s6 = (const void *)peer;
		inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
		port = ntohs(s6->sin6_port);
	}
	snprintf(who, sizeof(who), v6 ? "[%s]:%u" : "%s:%u", addr, port);
	if (rc != 0) {
		log_warning("event=xfr-out-failed zone=%s kind=%s serial=%u peer=%s messages=%u "
		            "reason=%s",
		            zone, kind_token(xfr_out_kind(x)), xfr_out_serial(x), who,
		            xfr_out_messages(x), LOG_Q(sd_strerror(rc)));
		return;
	}
	log_info("event=xfr-out zone=%s kind=%s serial=%u peer=%s messages=%u records=%llu", zone,
	         kind_token(xfr_out_kind(x)), xfr_out_serial(x), who, xfr_out_messages(x),
	         (unsigned long long)xfr_out_rrs(x));
}
