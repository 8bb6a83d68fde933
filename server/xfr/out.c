#include "server/xfr/out.h"

#include <stdlib.h>
#include <string.h>

#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "dns/msg.h"
#include "dns/soa.h"
#include "zone/hidden.h"
#include "zone/serial.h"

#define MSG_MAX    65535
#define OPT_LEN    11
#define COOKIE_LEN 28 /* option code, length, client cookie 8, server cookie 16 */
#define QUEST_MAX  (DNAME_MAX + 4)
/* Compression targets per message: a 64 KB message of short records holds a few thousand
 * names; past this many, names are written uncompressed. */
#define COMP_ENTRIES 1536

/* ---------------------------------------------------------------- request parsing */

int xfr_request_from_query(const srv_query_t *q, xfr_request_t *out)
{
	memset(out, 0, sizeof(*out));
	if (q->len < DNS_HEADER_LEN || (q->flags & DNS_FLAG_QR) || q->malformed ||
	    !q->has_question || q->ancount != 0)
		return SD_EPARSE;
	/* RFC 1995 3: exactly one SOA, the client's, in the authority section of an IXFR */
	if (q->qtype == DNS_TYPE_IXFR && (q->nscount != 1 || !q->has_ixfr_serial))
		return SD_EPARSE;
	out->id = q->id;
	out->flags = q->flags;
	out->qtype = q->qtype;
	out->qclass = q->qclass;
	out->question = q->msg + DNS_HEADER_LEN;
	out->question_len = q->question_len;
	memcpy(out->qname, q->qname, q->qname_len);
	dname_lower(out->qname);
	out->has_serial = q->has_ixfr_serial;
	out->serial = q->has_ixfr_serial ? q->ixfr_serial : 0;
	out->edns = q->has_opt;
	out->edns_payload = q->opt_payload;
	out->edns_do = q->opt_do;
	out->has_cookie = q->has_opt && q->has_cookie && q->cookie_reply;
	if (out->has_cookie) {
		memcpy(out->cookie, q->msg + q->cookie_at, 8);
		memcpy(out->cookie + 8, q->cookie_server, 16);
	}
	return 0;
}

int xfr_request_parse(const uint8_t *m, size_t len, xfr_request_t *out)
{
	srv_query_t q;
	if (srv_query_parse(m, len, &q) < 0)
		return SD_EPARSE;
	return xfr_request_from_query(&q, out);
}

/* ---------------------------------------------------------------- the iterator */

enum { PH_SOA1 = 0, PH_BODY, PH_SOA2, PH_DONE };

struct xfr_out {
	xfr_out_kind_t kind;
	uint16_t id, flags;
	bool edns, edns_do, udp, sign, cookie;
	uint8_t cookie_opt[COOKIE_LEN]; /* the COOKIE option of every OPT, when cookie */
	size_t tsig_len;                /* room the TSIG RR of each message needs */
	uint16_t edns_payload;
	size_t udp_max;
	uint8_t question[QUEST_MAX];
	size_t question_len;
	uint32_t client_serial;

	zone_version_t *v;
	zone_diff_t *diff; /* IXFR: the (condensed) change set */
	tsig_ctx_t tsig;
	dns_comp_t comp; /* reused by every message of the transfer */

	int phase;
	/* AXFR body cursor: node (from the iterator, once started), RRset in node, record in
	 * RRset, its offset in rdata */
	zone_version_iter_t nodes;
	const zone_node_t *node;
	bool started;
	size_t rrset, rdoff;
	uint16_t rr;
	/* IXFR body cursor: section (0 SOA(from), 1 removed, 2 SOA(to), 3 added, 4 end) */
	int sec;
	zone_rr_iter_t it;

	unsigned messages;
	uint64_t rrs;
};

const char *xfr_out_kind_name(xfr_out_kind_t kind)
{
	static const char *const names[] = {
	    [XFR_OUT_AXFR] = "AXFR",
	    [XFR_OUT_IXFR] = "IXFR",
	    [XFR_OUT_IXFR_AXFR] = "IXFR (full zone)",
	    [XFR_OUT_IXFR_CURRENT] = "IXFR (up to date)",
	    [XFR_OUT_IXFR_UDP_SOA] = "IXFR (UDP, SOA only)",
	};
	return (unsigned)kind < SD_ARRAY_LEN(names) ? names[kind] : "?";
}

/* The record under the AXFR cursor, skipping the apex SOA (it frames the transfer), empty
 * non-terminals and the records the version hides from transfers (zone/hidden.h); false at the end of the version. */
static bool axfr_cur(xfr_out_t *x, zone_rr_t *rr)
{
	if (!x->started) {
		zone_version_iter_init(x->v, &x->nodes);
		x->node = zone_version_iter_next(&x->nodes);
		x->started = true;
	}
	while (x->node != NULL) {
		const zone_node_t *n = x->node;
		if (x->rrset >= n->rrset_count) {
			x->node = zone_version_iter_next(&x->nodes);
			x->rrset = 0;
			x->rr = 0;
			x->rdoff = 0;
			continue;
		}
		const zone_rrset_t *rs = &n->rrsets[x->rrset];
		if (x->rr >= rs->count ||
		    (n == zone_version_apex(x->v) && rs->type == DNS_TYPE_SOA)) {
			x->rrset++;
			x->rr = 0;
			x->rdoff = 0;
			continue;
		}
		*rr = (zone_rr_t){
		    .owner = n->owner,
		    .type = rs->type,
		    .rclass = DNS_CLASS_IN,
		    .ttl = rs->ttl,
		    .rdlen = be16_get(rs->rdata + x->rdoff),
		    .rdata = rs->rdata + x->rdoff + 2,
		};
		if (SD_UNLIKELY(zone_version_rr_hidden(x->v, rr))) { /* not in the transfer view */
			x->rdoff += 2u + rr->rdlen;
			x->rr++;
			continue;
		}
		return true;
	}
	return false;
}

/* The record under the IXFR cursor: SOA(from), removed, SOA(to), added (RFC 1995 4). */
static bool diff_cur(xfr_out_t *x, zone_rr_t *rr)
{
	const zone_changeset_t *cs = x->diff->cs;
	for (;;) {
		zone_rr_iter_t it = x->it;
		switch (x->sec) {
		case 0:
			return zone_changeset_soa_from(cs, rr);
		case 2:
			return zone_changeset_soa_to(cs, rr);
		case 1:
		case 3:
			if (zone_rr_iter_next(&it, rr))
				return true;
			x->sec++;
			if (x->sec == 4)
				return false;
			continue;
		default:
			return false;
		}
	}
}

static bool body_cur(xfr_out_t *x, zone_rr_t *rr)
{
	return x->diff == NULL ? axfr_cur(x, rr) : diff_cur(x, rr);
}

static void body_advance(xfr_out_t *x, const zone_rr_t *rr)
{
	zone_rr_t skip;
	if (x->diff == NULL) {
		x->rdoff += 2u + rr->rdlen;
		x->rr++;
	} else if (x->sec == 0 || x->sec == 2) {
		x->sec++;
		if (x->sec == 1)
			zone_changeset_removed(x->diff->cs, &x->it);
		else
			zone_changeset_added(x->diff->cs, &x->it);
	} else {
		(void)zone_rr_iter_next(&x->it, &skip);
	}
}

static bool single_soa(const xfr_out_t *x)
{
	return x->kind == XFR_OUT_IXFR_CURRENT || x->kind == XFR_OUT_IXFR_UDP_SOA;
}

/* The next record to send in any phase; false when the transfer is complete. */
static bool cur(xfr_out_t *x, zone_rr_t *rr)
{
	switch (x->phase) {
	case PH_SOA1:
	case PH_SOA2:
		zone_version_soa_rr(x->v, rr);
		return true;
	case PH_BODY:
		if (body_cur(x, rr))
			return true;
		x->phase = PH_SOA2;
		zone_version_soa_rr(x->v, rr);
		return true;
	default:
		return false;
	}
}

static void advance(xfr_out_t *x, const zone_rr_t *rr)
{
	if (x->phase == PH_SOA1)
		x->phase = single_soa(x) ? PH_DONE : PH_BODY;
	else if (x->phase == PH_BODY)
		body_advance(x, rr);
	else
		x->phase = PH_DONE;
	x->rrs++;
}

static void cursor_reset(xfr_out_t *x)
{
	x->phase = PH_SOA1;
	x->started = false;
	x->node = NULL;
	x->rrset = x->rdoff = 0;
	x->sec = 0;
	memset(&x->it, 0, sizeof(x->it));
	x->rr = 0;
	x->rrs = 0;
}

/* Fill one message with as many records as fit. */
static int fill(xfr_out_t *x, dns_msg_t *m)
{
	zone_rr_t rr;
	while (cur(x, &rr)) {
		int rc = dns_msg_rr(m, rr.owner, rr.type, rr.rclass, rr.ttl, rr.rdata, rr.rdlen);
		if (rc == SD_ESPACE && dns_msg_count(m, DNS_SEC_AN) > 0)
			return 0; /* the message is full; the record goes into the next one */
		if (rc != 0)
			return rc;
		dns_msg_count_add(m, DNS_SEC_AN, 1);
		advance(x, &rr);
	}
	return 0;
}

/* Bytes of our OPT RR in each message. */
static size_t opt_len(const xfr_out_t *x)
{
	return x->edns ? OPT_LEN + (x->cookie ? COOKIE_LEN : 0) : 0;
}

/* Our OPT (RFC 6891 6.1.2): payload size, no extended rcode, version 0, DO echoed (RFC 3225
 * 3), the COOKIE option when the request had one (RFC 7873 5.2). Before the TSIG. */
static int put_opt(const xfr_out_t *x, dns_msg_t *m)
{
	static const uint8_t root = 0;
	uint16_t olen = x->cookie ? COOKIE_LEN : 0;
	int rc = dns_msg_rr_header(m, &root, DNS_TYPE_OPT, x->edns_payload,
	                           x->edns_do ? 0x8000u : 0, olen);
	if (rc == 0 && olen)
		rc = dns_msg_put(m, x->cookie_opt, olen);
	if (rc == 0)
		dns_msg_count_add(m, DNS_SEC_AR, 1);
	return rc;
}

static int build(xfr_out_t *x, uint8_t *buf, size_t cap, size_t *len)
{
	size_t reserve = opt_len(x) + (x->sign ? x->tsig_len : 0);
	if (cap <= reserve + DNS_HEADER_LEN)
		return SD_ESPACE;
	uint16_t flags = DNS_FLAG_QR | DNS_FLAG_AA | (x->flags & (DNS_FLAG_RD | DNS_FLAG_CD));
	/* exact matching: the zone's names go out as stored, whatever case the client used */
	dns_msg_t m;
	dns_msg_init(&m, buf, cap - reserve, &x->comp, DNS_MSG_EXACT);
	int rc = dns_msg_header(&m, x->id, flags);
	/* RFC 5936 2.2.1: the question goes in the first message; later ones may omit it */
	if (rc == 0 && x->messages == 0)
		rc = dns_msg_question(&m, x->question, x->question_len);
	if (rc == 0)
		rc = fill(x, &m);
	m.lim = cap - (x->sign ? x->tsig_len : 0); /* the room kept for OPT */
	if (rc == 0 && x->edns)
		rc = put_opt(x, &m);
	*len = m.pos;
	return rc;
}

int xfr_out_next(xfr_out_t *x, uint8_t *buf, size_t cap, time_t now, size_t *len)
{
	if (x->phase == PH_DONE)
		return SD_ENOTFOUND;
	if (cap > MSG_MAX)
		cap = MSG_MAX;
	if (x->udp && x->udp_max < cap)
		cap = x->udp_max;
	int rc = build(x, buf, cap, len);
	if (rc == 0 && x->udp && x->phase != PH_DONE) {
		/* RFC 1995 2: "If the UDP reply does not fit, the query is responded to with a
		 * single SOA record of the server's current version" */
		x->kind = XFR_OUT_IXFR_UDP_SOA;
		cursor_reset(x);
		rc = build(x, buf, cap, len);
	}
	if (rc == 0 && x->sign)
		rc = tsig_sign(&x->tsig, buf, len, cap, now);
	if (rc == 0)
		x->messages++;
	return rc;
}

/* Choose the IXFR reply for the client's serial (RFC 1995 2 and 4). */
static int ixfr_plan(xfr_out_t *x, const zone_history_t *h)
{
	uint32_t ours = zone_version_serial(x->v);
	if (x->client_serial == ours || zone_serial_gt(x->client_serial, ours)) {
		x->kind = XFR_OUT_IXFR_CURRENT;
		return 0;
	}
	x->kind = XFR_OUT_IXFR_AXFR;
	if (h == NULL)
		return 0;
	zone_history_snap_t *s = zone_history_acquire(h);
	size_t n = zone_history_snap_count(s), first = 0;
	int rc = 0;
	/* usable only when the chain from the client's serial ends at the version we serve */
	if (n == 0 || zone_history_snap_diff(s, n - 1)->to != ours ||
	    zone_history_snap_find(s, x->client_serial, &first) != 0)
		goto out;
	if (n - first == 1) {
		x->diff = zone_diff_ref(zone_history_snap_diff(s, first));
	} else {
		rc = zone_diff_condense(zone_history_snap_diffs(s) + first, n - first, &x->diff);
	}
	if (rc == 0)
		x->kind = XFR_OUT_IXFR;
out:
	zone_history_snap_release(s);
	return rc;
}

int xfr_out_new(const xfr_out_params_t *p, xfr_out_t **out)
{
	const xfr_request_t *req = p->req;
	if (req->qtype != DNS_TYPE_AXFR && req->qtype != DNS_TYPE_IXFR)
		return SD_EPARSE;
	if (req->qtype == DNS_TYPE_AXFR && p->udp)
		return SD_EREFUSED; /* RFC 5936 4.2: AXFR is TCP only */
	if (req->qtype == DNS_TYPE_IXFR && !req->has_serial)
		return SD_EPARSE;
	if (req->question_len > QUEST_MAX)
		return SD_EPARSE;
	xfr_out_t *x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -ENOMEM;
	int rc = dns_comp_init(&x->comp, COMP_ENTRIES);
	if (rc != 0) {
		free(x);
		return rc;
	}
	x->id = req->id;
	x->flags = req->flags;
	x->edns = req->edns;
	x->edns_do = req->edns_do;
	x->edns_payload = p->edns_payload;
	x->cookie = req->edns && req->has_cookie;
	if (x->cookie) {
		be16_put(x->cookie_opt, DNS_EDNS_COOKIE);
		be16_put(x->cookie_opt + 2, COOKIE_LEN - 4);
		memcpy(x->cookie_opt + 4, req->cookie, sizeof(req->cookie));
	}
	x->udp = p->udp;
	x->udp_max = p->udp_max < DNS_HEADER_LEN ? 512 : p->udp_max;
	memcpy(x->question, req->question, req->question_len);
	x->question_len = req->question_len;
	x->client_serial = req->serial;
	if (p->tsig != NULL) {
		x->tsig = *p->tsig;
		x->sign = true;
		x->tsig_len = tsig_rr_len(&x->tsig);
	}
	x->v = zone_version_ref(p->version);
	x->kind = XFR_OUT_AXFR;
	rc = req->qtype == DNS_TYPE_IXFR ? ixfr_plan(x, p->history) : 0;
	if (rc != 0) {
		xfr_out_free(x);
		return rc;
	}
	*out = x;
	return 0;
}

bool xfr_out_done(const xfr_out_t *x)
{
	return x->phase == PH_DONE;
}

xfr_out_kind_t xfr_out_kind(const xfr_out_t *x)
{
	return x->kind;
}

bool xfr_out_client_serial(const xfr_out_t *x, uint32_t *serial)
{
	if (x->kind == XFR_OUT_AXFR)
		return false;
	*serial = x->client_serial;
	return true;
}

uint32_t xfr_out_serial(const xfr_out_t *x)
{
	return zone_version_serial(x->v);
}

const uint8_t *xfr_out_apex(const xfr_out_t *x)
{
	return zone_version_apex(x->v)->owner;
}

unsigned xfr_out_messages(const xfr_out_t *x)
{
	return x->messages;
}

uint64_t xfr_out_rrs(const xfr_out_t *x)
{
	return x->rrs;
}

void xfr_out_free(xfr_out_t *x)
{
	if (x == NULL)
		return;
	zone_diff_unref(x->diff);
	if (x->v != NULL)
		zone_version_unref(x->v);
	dns_comp_fini(&x->comp);
	free(x);
}
