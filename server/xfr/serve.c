#include "server/xfr/serve.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "contrib/base/bytes.h"
#include "dns/name.h"
#include "dns/proto.h"

static xfr_env_t *current_env; /* never written through: const in the API */

const xfr_env_t *xfr_env_publish(const xfr_env_t *env)
{
	const xfr_env_t *old = current_env;
	rcu_assign_pointer(current_env, (xfr_env_t *)(uintptr_t)env);
	return old;
}

const xfr_env_t *xfr_env_current(void)
{
	return rcu_dereference(current_env);
}

/* Cheap look at a request: its qtype, and whether its last record is a TSIG. */
static bool peek(const uint8_t *m, size_t len, uint16_t *qtype, bool *has_tsig)
{
	*has_tsig = false;
	if (len < DNS_HEADER_LEN || be16_get(m + 4) != 1)
		return false;
	size_t pos = DNS_HEADER_LEN;
	if (dname_skip(m, len, &pos) < 0 || len - pos < 4)
		return false;
	*qtype = be16_get(m + pos);
	pos += 4;
	unsigned rrs = (unsigned)be16_get(m + 6) + be16_get(m + 8) + be16_get(m + 10);
	uint16_t type = 0;
	for (unsigned i = 0; i < rrs; i++) {
		if (dname_skip(m, len, &pos) < 0 || len - pos < 10)
			return false;
		type = be16_get(m + pos);
		size_t rdlen = be16_get(m + pos + 8);
		if (len - pos - 10 < rdlen)
			return false;
		pos += 10 + rdlen;
	}
	*has_tsig = be16_get(m + 10) > 0 && type == DNS_TYPE_TSIG;
	return true;
}

/* Header + question (when it parses) + TSIG when the request had one we can sign with. */
static size_t error_reply(const uint8_t *req, size_t len, unsigned rcode, tsig_ctx_t *tsig,
                          time_t now, uint8_t *resp, size_t cap)
{
	if (len < DNS_HEADER_LEN || cap < 512)
		return 0;
	uint16_t fl = be16_get(req + 2);
	uint16_t flags = (uint16_t)(DNS_FLAG_QR | (fl & 0x7800) | (fl & DNS_FLAG_RD) | rcode);
	memset(resp, 0, DNS_HEADER_LEN);
	be16_put(resp, be16_get(req));
	be16_put(resp + 2, flags);
	size_t out = DNS_HEADER_LEN, pos = DNS_HEADER_LEN;
	uint8_t name[DNAME_MAX];
	if (be16_get(req + 4) == 1 && dname_parse(req, len, &pos, name) >= 0 && len - pos >= 4 &&
	    pos - DNS_HEADER_LEN + 4 <= DNAME_MAX + 4 && pos == DNS_HEADER_LEN + dname_len(name)) {
		memcpy(resp + out, req + DNS_HEADER_LEN, pos + 4 - DNS_HEADER_LEN);
		out = pos + 4;
		be16_put(resp + 4, 1);
	}
	if (tsig != NULL && tsig_sign(tsig, resp, &out, cap, now) != 0)
		return 0;
	return out;
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
	size_t ours = env != NULL && env->udp_payload ? env->udp_payload : 1232;
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

/* AXFR/IXFR: zone, ACL, transport, then the transfer itself. */
static xfr_serve_t transfer(const xfr_env_t *env, const zone_set_t *zones, const uint8_t *req,
                            size_t len, const srv_peer_t *peer, tsig_ctx_t *tsig, time_t now,
                            uint8_t *resp, size_t cap, size_t *resp_len, xfr_out_t **xfr,
                            xfr_serve_stats_t *st)
{
	xfr_request_t r;
	unsigned rcode = 0;
	const zone_t *z = NULL;
	const zone_version_t *v = NULL;
	const xfr_zone_info_t *zi = NULL;
	if (xfr_request_parse(req, len, &r) != 0)
		rcode = DNS_RCODE_FORMERR;
	else if (r.qclass != DNS_CLASS_IN && r.qclass != DNS_CLASS_ANY)
		rcode = DNS_RCODE_REFUSED;
	else if (zones == NULL || (z = zone_set_get(zones, r.qname)) == NULL)
		rcode = DNS_RCODE_NOTAUTH; /* RFC 5936 2.2.1: not authoritative for the zone */
	else if ((v = zone_current(z)) == NULL)
		rcode = DNS_RCODE_SERVFAIL;
	if (rcode == 0) {
		zi = zone_info(env, r.qname);
		if (zi == NULL ||
		    !xfr_acl_allows(zi->acl, zi->acl_count, peer->addr, tsig ? tsig->key : NULL)) {
			st->refused++;
			COUNT(zi, refused);
			rcode = DNS_RCODE_REFUSED;
		} else if (r.qtype == DNS_TYPE_AXFR && !peer->tcp) {
			rcode = DNS_RCODE_NOTIMP;
		} else {
			xfr_out_params_t p = {.req = &r,
			                      .version = v,
			                      .history = zi->history,
			                      .tsig = tsig,
			                      .udp = !peer->tcp,
			                      .udp_max = udp_limit(env, &r),
			                      .edns_payload = env ? env->udp_payload : 1232};
			if (xfr_out_new(&p, xfr) != 0)
				rcode = DNS_RCODE_SERVFAIL;
		}
	}
	if (rcode != 0) {
		*resp_len = error_reply(req, len, rcode, tsig, now, resp, cap);
		return XFR_SERVE_REPLY;
	}
	switch (xfr_out_kind(*xfr)) {
	case XFR_OUT_AXFR:
		st->axfr++;
		COUNT(zi, axfr);
		break;
	case XFR_OUT_IXFR:
		st->ixfr++;
		COUNT(zi, ixfr);
		break;
	case XFR_OUT_IXFR_AXFR:
		st->ixfr_full++;
		COUNT(zi, ixfr_full);
		break;
	default:
		st->ixfr_current++;
		COUNT(zi, ixfr);
		break;
	}
	if (peer->tcp)
		return XFR_SERVE_TRANSFER;
	/* IXFR over UDP: a single datagram, the SOA alone when the reply would not fit */
	if (xfr_out_next(*xfr, resp, cap, now, resp_len) != 0)
		*resp_len = 0;
	if (xfr_out_kind(*xfr) == XFR_OUT_IXFR_UDP_SOA)
		st->ixfr_udp++;
	xfr_out_free(*xfr);
	*xfr = NULL;
	return XFR_SERVE_REPLY;
}

xfr_serve_t xfr_serve(const xfr_env_t *env, srv_answer_ctx_t *actx, const zone_set_t *zones,
                      const uint8_t *req, size_t len, const srv_peer_t *peer, time_t now,
                      uint8_t *resp, size_t cap, size_t *resp_len, xfr_out_t **xfr,
                      xfr_serve_stats_t *st)
{
	uint16_t qtype = 0;
	bool has_tsig = false;
	*resp_len = 0;
	*xfr = NULL;
	if (!peek(req, len, &qtype, &has_tsig) || (be16_get(req + 2) & DNS_FLAG_QR))
		return XFR_SERVE_PASS; /* the engine answers FORMERR or drops */
	unsigned opcode = (be16_get(req + 2) >> 11) & 0xf;
	bool is_xfr =
	    opcode == DNS_OPCODE_QUERY && (qtype == DNS_TYPE_AXFR || qtype == DNS_TYPE_IXFR);
	if (!has_tsig && !is_xfr)
		return XFR_SERVE_PASS;
	tsig_ctx_t tsig, *signer = NULL;
	if (has_tsig) {
		int rc = tsig_verify_request(&tsig, env ? env->keys : NULL, env ? env->nkeys : 0,
		                             req, len, now);
		if (rc == SD_ETSIG) {
			/* RFC 8945 5.2: NOTAUTH with the TSIG error; tsig_sign applies the MAC rule
			 * of that error (unsigned for BADKEY/BADSIG, signed for BADTIME) */
			st->tsig_bad++;
			*resp_len = error_reply(req, len, DNS_RCODE_NOTAUTH, &tsig, now, resp, cap);
			return XFR_SERVE_REPLY;
		}
		if (rc != 0) {
			st->tsig_bad++;
			*resp_len = error_reply(req, len, DNS_RCODE_FORMERR, NULL, now, resp, cap);
			return XFR_SERVE_REPLY;
		}
		st->tsig_ok++;
		signer = &tsig;
	}
	if (is_xfr)
		return transfer(env, zones, req, len, peer, signer, now, resp, cap, resp_len, xfr,
		                st);
	/* a signed ordinary query (SOA checks of secondaries): answer within the size limit
	 * less the TSIG RR (TC when it does not fit), then sign (RFC 8945 5.3, RFC 6891 7) */
	srv_peer_t signed_peer = *peer;
	size_t reserve = tsig_rr_len(&tsig);
	signed_peer.reserve = (uint16_t)(reserve < UINT16_MAX ? reserve : UINT16_MAX);
	size_t n = srv_answer(actx, zones, req, len, resp, &signed_peer);
	if (n > 0 && tsig_sign(&tsig, resp, &n, cap, now) != 0)
		n = 0;
	*resp_len = n;
	return XFR_SERVE_REPLY;
}

void xfr_out_log_done(const xfr_out_t *x, const struct sockaddr *peer, int rc)
{
	char zone[DNAME_MAX * 4 + 1], addr[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	dname_to_str(xfr_out_apex(x), zone, sizeof(zone));
	if (peer != NULL && peer->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)peer;
		inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
		port = ntohs(s4->sin_port);
	} else if (peer != NULL && peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)peer;
		inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
		port = ntohs(s6->sin6_port);
	}
	if (rc != 0) {
		log_warning("xfr: %s %s serial %u to %s#%u failed after %u messages: %s", zone,
		            xfr_out_kind_name(xfr_out_kind(x)), xfr_out_serial(x), addr, port,
		            xfr_out_messages(x), sd_strerror(rc));
		return;
	}
	log_info("xfr: %s %s serial %u to %s#%u: %u messages, %llu records", zone,
	         xfr_out_kind_name(xfr_out_kind(x)), xfr_out_serial(x), addr, port,
	         xfr_out_messages(x), (unsigned long long)xfr_out_rrs(x));
}
