#include "server/front.h"

#include <string.h>

#include "contrib/base/err.h"
#include "contrib/base/stat.h"
#include "dns/proto.h"

/* RFC 8945 5.2 on a request whose TSIG the parser framed. Returns 0 (tsig is ready to sign
 * the reply), or answers the error into req and returns it. */
static int verify(const xfr_env_t *env, srv_request_t *req, tsig_ctx_t *tsig, srv_front_stats_t *st)
{
	const srv_query_t *q = &req->q;
	int rc = tsig_verify_request_at(tsig, env ? env->keys : NULL, env ? env->nkeys : 0, q->msg,
	                                q->len, &q->tsig, req->now);
	if (rc == 0) {
		sd_stat_inc(&st->tsig_ok);
		return 0;
	}
	sd_stat_inc(&st->tsig_bad);
	uint16_t payload = env ? env->udp_payload : 0;
	/* NOTAUTH with the TSIG error; tsig_sign applies the MAC rule of that error (unsigned
	 * for BADKEY/BADSIG, signed for BADTIME). Anything else is a FORMERR, unsigned. */
	if (rc == SD_ETSIG)
		req->len = xfr_error_reply(q, DNS_RCODE_NOTAUTH, payload, tsig, req->now, req->buf,
		                           req->cap);
	else
		req->len = xfr_error_reply(q, DNS_RCODE_FORMERR, payload, NULL, req->now, req->buf,
		                           req->cap);
	return rc;
}

/* Engine answer, then TSIG: within the size limit less the TSIG RR, then signed. */
static size_t answer_signed(srv_answer_ctx_t *actx, const zone_set_t *zones, const srv_query_t *q,
                            tsig_ctx_t *signer, time_t now, uint8_t *buf, size_t cap)
{
	size_t reserve = signer ? tsig_rr_len(signer) : 0;
	size_t n =
	    srv_answer_query(actx, zones, q, buf, reserve < UINT16_MAX ? reserve : UINT16_MAX);
	if (n > 0 && signer != NULL && tsig_sign(signer, buf, &n, cap, now) != 0)
		n = 0;
	return n;
}

/* Keep the TSIG state of a verified request (its MAC, before any reply is signed) in req,
 * the key copied: for the control thread (an UPDATE) or a slip signed again (server/udp.c). */
static void keep_signer(srv_request_t *req, const tsig_ctx_t *signer)
{
	req->signer.active = true;
	req->signer.key = *signer->key;
	req->signer.ctx = *signer;
	req->signer.ctx.key = &req->signer.key; /* rebased by the receiver */
}

/* An UPDATE goes to the control thread with the TSIG state it needs to sign the reply and
 * the cookie it returns. */
static srv_process_t handoff(srv_request_t *req, const tsig_ctx_t *signer)
{
	const srv_query_t *q = &req->q;
	if (signer != NULL)
		keep_signer(req, signer);
	req->signer.cookie = q->has_cookie && q->cookie_reply;
	req->signer.cookie_bad = q->cookie_badcookie;
	memcpy(req->signer.cookie_server, q->cookie_server, sizeof(q->cookie_server));
	return SRV_PROCESS_HANDOFF;
}

static srv_process_t transfer(const srv_view_t *view, srv_request_t *req, tsig_ctx_t *signer,
                              srv_front_stats_t *st)
{
	xfr_reply_t out = {.buf = req->buf, .cap = req->cap};
	xfr_transfer_t r = xfr_transfer(view ? view->xfr : NULL, view ? view->zones : NULL, &req->q,
	                                signer, req->now, &out, &st->xfr);
	req->len = out.len;
	req->xfr = out.xfr;
	if (r == XFR_TRANSFER_STREAM)
		return SRV_PROCESS_STREAM;
	return r == XFR_TRANSFER_REPLY ? SRV_PROCESS_REPLY : SRV_PROCESS_DROP;
}

srv_process_t srv_process(const srv_view_t *view, srv_answer_ctx_t *actx, srv_front_stats_t *st,
                          srv_request_t *req)
{
	srv_query_t *q = &req->q;
	req->len = 0;
	req->xfr = NULL;
	if (srv_query_parse(req->msg, req->msg_len, q) < 0) /* no header: the engine drops it */
		q->len = req->msg_len;
	q->client = req->client;
	q->tcp = req->tcp;
	tsig_ctx_t tsig, *signer = NULL;
	req->signer.active = req->signer.cookie = req->signer.cookie_bad = false;
	bool framed = q->len >= DNS_HEADER_LEN && !(q->flags & DNS_FLAG_QR);
	if (framed && q->has_cookie)
		srv_cookie_process(req->cookies, q, (uint32_t)req->now, &st->cookies);
	if (framed && q->has_tsig && q->tsig_at_end) {
		if (verify(view ? view->xfr : NULL, req, &tsig, st) != 0)
			return req->len ? SRV_PROCESS_REPLY : SRV_PROCESS_DROP;
		signer = &tsig;
	}
	if (framed && q->opcode == DNS_OPCODE_UPDATE) /* the control thread's business */
		return handoff(req, signer);
	if (signer != NULL && !req->tcp) /* a rate-limited slip is signed again (server/udp.c) */
		keep_signer(req, signer);
	/* a malformed unsigned transfer request gets the engine's FORMERR (with OPT) */
	if (framed && xfr_is_transfer(q) && (signer != NULL || !q->malformed))
		return transfer(view, req, signer, st);
	/* the engine answers within the size limit less the TSIG RR (TC when it does not fit),
	 * then the reply is signed (RFC 8945 5.3, RFC 6891 7) */
	srv_answer_set_steering(actx, view ? steer_pub_current(view->steering) : NULL,
	                        view ? view->health : NULL);
	req->len =
	    answer_signed(actx, view ? view->zones : NULL, q, signer, req->now, req->buf, req->cap);
	return req->len ? SRV_PROCESS_REPLY : SRV_PROCESS_DROP;
}

static tsig_ctx_t *signer_ctx(srv_signer_t *signer)
{
	if (!signer->active)
		return NULL;
	signer->ctx.key = &signer->key; /* the signer was copied since srv_process() */
	return &signer->ctx;
}

size_t srv_signer_reserve(const srv_signer_t *signer)
{
	srv_signer_t copy = *signer;
	tsig_ctx_t *ctx = signer_ctx(&copy);
	return ctx ? tsig_rr_len(ctx) : 0;
}

int srv_signer_sign(srv_signer_t *signer, uint8_t *buf, size_t *len, size_t cap, time_t now)
{
	tsig_ctx_t *ctx = signer_ctx(signer);
	return ctx ? tsig_sign(ctx, buf, len, cap, now) : 0;
}
