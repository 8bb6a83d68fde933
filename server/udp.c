#include "server/udp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/clock.h"
#include "contrib/base/stat.h"

/* Entry i of rmsg[] as recvmmsg() wants it: its buffer, the room for the peer's address and
 * for control messages. */
static void rmsg_init(srv_udp_batch_t *b, unsigned i)
{
	struct msghdr *h = &b->rmsg[i].msg_hdr;
	b->riov[i].iov_base = b->rbuf + (size_t)i * SRV_UDP_RECV_MAX;
	b->riov[i].iov_len = SRV_UDP_RECV_MAX;
	h->msg_name = &b->rname[i];
	h->msg_namelen = sizeof(b->rname[i]);
	h->msg_iov = &b->riov[i];
	h->msg_iovlen = 1;
	h->msg_control = b->rcmsg[i].buf;
	h->msg_controllen = sizeof(b->rcmsg[i].buf);
	h->msg_flags = 0;
	b->rmsg[i].msg_len = 0;
}

int srv_udp_batch_new(uint16_t udp_payload, srv_answer_ctx_t *actx, srv_front_stats_t *st,
                      srv_udp_batch_t **out)
{
	srv_udp_batch_t *b = calloc(1, sizeof(*b));
	*out = NULL;
	if (b == NULL)
		return -ENOMEM;
	b->rbuf = malloc((size_t)SRV_UDP_BATCH * SRV_UDP_RECV_MAX);
	b->arena = malloc((size_t)SRV_UDP_BATCH * udp_payload + SRV_RESPONSE_MAX);
	if (b->rbuf == NULL || b->arena == NULL) {
		srv_udp_batch_free(b);
		return -ENOMEM;
	}
	b->actx = actx;
	b->st = st;
	b->udp_payload = udp_payload;
	for (unsigned i = 0; i < SRV_UDP_BATCH; i++)
		rmsg_init(b, i);
	*out = b;
	return 0;
}

void srv_udp_batch_free(srv_udp_batch_t *b)
{
	if (b == NULL)
		return;
	free(b->rbuf);
	free(b->arena);
	free(b);
}

void srv_udp_batch_prepare(srv_udp_batch_t *b)
{
	for (unsigned i = 0; i < b->rused; i++)
		rmsg_init(b, i);
	b->rused = 0;
}

socklen_t srv_udp_reply_pktinfo(struct msghdr *rh, srv_udp_cmsg_t *out)
{
	struct msghdr tmp = {.msg_control = out->buf, .msg_controllen = sizeof(out->buf)};
	struct cmsghdr *o = CMSG_FIRSTHDR(&tmp);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(rh); c; c = CMSG_NXTHDR(rh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_ifindex = 0; /* route by the source address ipi_spec_dst */
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
			memcpy(CMSG_DATA(o), CMSG_DATA(c), sizeof(struct in6_pktinfo));
			return CMSG_SPACE(sizeof(struct in6_pktinfo));
		}
	}
	return 0;
}

/* Lay reply i (len bytes at the arena's off) into smsg[out]. */
static void queue_reply(srv_udp_batch_t *b, unsigned i, unsigned out, uint8_t *reply, size_t len)
{
	struct msghdr *rh = &b->rmsg[i].msg_hdr;
	struct msghdr *sh = &b->smsg[out].msg_hdr;
	b->siov[out].iov_base = reply;
	b->siov[out].iov_len = len;
	sh->msg_name = &b->rname[i];
	sh->msg_namelen = rh->msg_namelen;
	sh->msg_iov = &b->siov[out];
	sh->msg_iovlen = 1;
	sh->msg_controllen = srv_udp_reply_pktinfo(rh, &b->scmsg[out]);
	sh->msg_control = sh->msg_controllen ? b->scmsg[out].buf : NULL;
	sh->msg_flags = 0;
}

/* The slipped form of the reply (server/rrl.h). A signed request's is signed again: RFC
 * 8945 5.3, a truncated reply to a signed request carries the question and a TSIG, TC set
 * (an unsigned one would be discarded by the client, no better than a drop). */
static size_t slip(srv_request_t *req)
{
	size_t n = srv_rrl_slip(&req->q, req->buf, req->len);
	if (n < req->len && req->signer.active &&
	    srv_signer_sign(&req->signer, req->buf, &n, req->cap, req->now) != 0)
		return 0;
	return n;
}

/* The reply's length after rate limiting (server/rrl.h): unchanged, truncated (slip) or 0
 * (dropped). seq: the engine's answer count before this request. */
static size_t rate_limit(srv_udp_batch_t *b, srv_request_t *req, uint64_t seq, uint64_t now_ms)
{
	srv_answer_info_t info;
	srv_rrl_resp_t resp;
	if (req->q.cookie_valid) { /* the client proved its address (RFC 7873) */
		srv_rrl_exempt(b->rrl);
		return req->len;
	}
	srv_answer_last(b->actx, &info);
	srv_rrl_classify(&req->q, &info, seq, req->buf, req->len, &resp);
	switch (srv_rrl_check(b->rrl, req->client, &resp, now_ms)) {
	case SRV_RRL_PASS:
		return req->len;
	case SRV_RRL_SLIP:
		return slip(req);
	default:
		return 0;
	}
}

/* Datagrams [i, end) of a batch, before they are answered: their zone lookups' chains of
 * cache misses (zone/version.h: zone_prefetch_t) walked side by side, one step each per round,
 * so that the misses overlap; WINDOW chains at a time, about what a core keeps in flight.
 * The whole batch is fetched before its first answer: 64 datagrams' chains are some 20 KB,
 * still in cache when their turn comes. With one query outstanding (a batch of one) nothing
 * is done and nothing is tested per datagram. */
#define PREFETCH_WINDOW 8
static void prefetch_window(const srv_udp_batch_t *b, const zone_set_t *zones, unsigned i,
                            unsigned end)
{
	zone_prefetch_t pf[PREFETCH_WINDOW];
	unsigned k = 0;
	for (; i < end; i++)
		if (srv_answer_prefetch(zones, b->riov[i].iov_base, b->rmsg[i].msg_len, &pf[k]))
			k++;
	for (unsigned step = 0; step < 4; step++) /* to the RDATA, or past one other name */
		for (unsigned j = 0; j < k; j++)
			zone_prefetch_step(&pf[j]);
}

unsigned srv_udp_batch_answer(srv_udp_batch_t *b, const srv_view_t *view, unsigned n, time_t now)
{
	/* the rate limiter's clock: the coarse one (the kernel's tick, a few ms) is precise
	 * enough for a per-second rate */
	uint64_t now_ms = b->rrl ? sd_clock_ms(CLOCK_MONOTONIC_COARSE) : 0;
	const srv_cookie_secrets_t *cookies = b->cookies ? srv_cookies_current(b->cookies) : NULL;
	size_t off = 0;
	unsigned out = 0;
	srv_request_t *req = &b->req;
	b->nhandoff = 0;
	if (n > SRV_UDP_BATCH)
		n = SRV_UDP_BATCH;
	if (n > b->rused) /* entries the next prepare must reset */
		b->rused = n;
	if (n >= 2 && view != NULL && view->zones != NULL) /* at most 64 x 5 lines: in cache */
		for (unsigned i = 0; i < n; i += PREFETCH_WINDOW)
			prefetch_window(b, view->zones, i,
			                n - i > PREFETCH_WINDOW ? i + PREFETCH_WINDOW : n);
	for (unsigned i = 0; i < n; i++) {
		req->msg = b->riov[i].iov_base;
		req->msg_len = b->rmsg[i].msg_len;
		req->client = (const struct sockaddr *)&b->rname[i];
		req->tcp = false;
		req->now = now;
		req->buf =
		    b->arena + off; /* no STREAM over UDP: IXFR is one message, AXFR NOTIMP */
		req->cap = SRV_RESPONSE_MAX;
		req->cookies = cookies;
		/* the answers before this one: rate_limit() tells if it answered */
		uint64_t seq = 0;
		if (b->rrl) {
			srv_answer_info_t before;
			srv_answer_last(b->actx, &before);
			seq = before.seq;
		}
		srv_process_t r = srv_process(view, b->actx, b->st, req);
		if (r == SRV_PROCESS_HANDOFF) {
			b->handoff[b->nhandoff].i = i;
			b->handoff[b->nhandoff].signer = req->signer;
			b->nhandoff++;
			continue;
		}
		if (r == SRV_PROCESS_REPLY && req->len > 0 && b->rrl)
			req->len = rate_limit(b, req, seq, now_ms);
		if (r != SRV_PROCESS_REPLY || req->len == 0)
			continue;
		if (req->len > b->udp_payload) {
			sd_stat_inc(&b->oversize);
			continue;
		}
		queue_reply(b, i, out, req->buf, req->len);
		off += req->len;
		out++;
	}
	return out;
}

void srv_udp_pace_window(srv_udp_pace_t *p, uint64_t now, uint64_t cpu)
{
	uint64_t span = now - p->start;
	uint64_t wait = p->count ? span / p->count * SRV_UDP_GATHER : UINT64_MAX;
	uint64_t busy = (cpu - p->cpu) * 100 / (span ? span : 1); /* percent */
	if (wait > p->max_ns || busy < SRV_UDP_PACE_OFF)
		p->wait_ns = 0;
	else if (p->wait_ns != 0 || busy >= SRV_UDP_PACE_ON)
		p->wait_ns = wait;
	p->start = now;
	p->cpu = cpu;
	p->count = 0;
	p->next = SRV_UDP_GATHER;
}
