/* liburcu's static inlines (rcu_thread_online/offline around each UDP wakeup, which the
 * library's wrappers cost a call and a TLS lookup each); MIT code is LGPL-compatible. */
#define _LGPL_SOURCE
#include "server/worker.h"

#include "contrib/base/clock.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "contrib/base/stat.h"
#include "server/front.h"
#include "server/lag.h"
#include "server/udp.h"
#include "server/xfr/serve.h"
#include "server/zonedb.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <urcu-qsbr.h>
#include <uv.h>

#define TCP_FRAME (2 + SRV_RESPONSE_MAX)
/* A connection's input holds a whole message plus room to read ahead; each of its two output
 * buffers takes answers while at least one maximal framed answer still fits, so pipelined
 * small answers leave in batches of up to TCP_SLACK bytes. */
#define TCP_SLACK      16384
#define TCP_IN_CAP     (TCP_FRAME + TCP_SLACK)
#define TCP_OUT_CAP    (TCP_FRAME + TCP_SLACK)
#define SLOT_KEEP      4096  /* bytes of a buffer a slot may keep resident after a close */
#define TCP_ACCEPTS    32    /* connections taken per readiness callback before yielding */
#define TCP_BACKOFF_MS 250   /* no accepting on a listener after accept failed (EMFILE...) */
#define ACCEPT_LOG_MS  10000 /* at most one warning about failing accepts this often */
#define STOP_GRACE_MS  1000
#define UDP_SLACK_NS   1000 /* a UDP thread's timer slack under batch pacing */

/* One UDP socket and the thread that serves it, with everything its answers touch: its own
 * answer context, batch, RRL table and counters, so nothing on the answer path is shared with
 * the worker's loop thread (TCP) or another socket's thread. */
typedef struct udp_sock {
	int fd;
	srv_worker_t *w;
	pthread_t thread;
	bool started;
	srv_answer_ctx_t *actx;
	srv_udp_batch_t *batch;  /* server/udp.h */
	srv_udp_pace_t pace;     /* server/udp.h */
	srv_rrl_t *rrl;          /* response rate limiting (server/rrl.h), NULL: off */
	srv_front_stats_t front; /* cookies (server/front.h) */
	srv_io_stats_t io;       /* its udp_* counters */
} udp_sock_t;

/* A listening socket: we accept ourselves (accept4 on readiness) rather than through
 * uv_listen, whose accept loop retries a failing accept (EMFILE) without end. */
typedef struct tcp_listener {
	uv_poll_t poll;
	uv_timer_t backoff; /* runs while accepting is paused after an accept error */
	int fd;
	srv_worker_t *w;
	bool polling; /* readiness is watched */
	bool waiting; /* paused until a reclaimed slot is free (tcp_on_closed resumes it) */
} tcp_listener_t;

typedef struct tcp_conn {
	uv_tcp_t handle;
	uv_timer_t timer; /* initialised once; the earliest deadline (tcp_arm), then the stop
	                   * grace period */
	uv_write_t wreq;
	srv_worker_t *w;
	struct tcp_conn *next_free;
	struct sockaddr_storage peer;
	uint8_t *in;
	size_t in_len;
	uint8_t *out[2];
	size_t out_len[2];
	unsigned fill; /* output buffer taking answers; the other one may be in flight */
	bool active;   /* the slot serves a connection */
	bool reading;
	bool writing;
	bool blocked; /* a complete query waits for room in the output */
	bool eof;     /* the peer closed its side (or we stop): finish writing, then close */
	bool closing;
	bool dirty;       /* more than a page of a buffer was used: given back at close */
	xfr_out_t *xfr;   /* an AXFR/IXFR being written, one message per free output buffer */
	uint64_t gen;     /* connections this slot has served: a handed-off reply checks it */
	unsigned pending; /* handed-off requests whose reply has not come back: keep it open */
	/* Loop times (uv_now, ms); 0 is "none". */
	uint64_t last_io;     /* bytes read or a write completed: the idle timeout counts from it */
	uint64_t msg_since;   /* first byte of the message being received */
	uint64_t write_since; /* the write in flight began */
	uint64_t progress;    /* accepted, a message answered or a write done: reclaim the oldest */
} tcp_conn_t;

struct srv_worker {
	unsigned id;
	srv_worker_conf_t conf;
	uv_loop_t loop;
	uv_async_t stop_async;
	pthread_t thread;
	bool loop_ready, async_ready, started, stopping;
	bool udp_stop;          /* the UDP threads must return (srv_worker_stop) */
	srv_answer_ctx_t *actx; /* the loop thread's (TCP) */
	srv_io_stats_t io;
	srv_front_stats_t front; /* TSIG and transfers over TCP (server/front.h) */
	srv_request_t req;       /* the TCP request being handled (server/front.h) */
	srv_mailbox_t box;       /* replies to handed-off requests (server/handoff.h) */

	udp_sock_t *udp;
	tcp_listener_t *tcp;
	size_t ntcp;      /* initialised handles */
	uint32_t ntimers; /* connection slots whose timer is initialised */
	size_t nsock;

	tcp_conn_t *conns;
	tcp_conn_t *free_conns;
	uint8_t *conn_mem;
	uint64_t accept_logged; /* loop time of the last warning about failing accepts */
};

/* --- UDP --- */

/* A copy of the request for the control thread, with its TSIG state; the caller adds how
 * to reach the peer and pushes it. NULL when there is no control mailbox or no memory (the
 * request is dropped: the client retries). */
static srv_handoff_item_t *handoff_item(srv_worker_t *w, const uint8_t *req, size_t len,
                                        const srv_signer_t *signer, bool tcp)
{
	srv_handoff_item_t *it = w->conf.control ? srv_handoff_item_new(req, len) : NULL;
	if (it == NULL)
		return NULL;
	it->home = &w->box;
	it->tcp = tcp;
	it->signer = *signer;
	return it;
}

/* Hand datagram h of u's batch to the control thread with what it takes to answer from the
 * same socket and source address later (udp_send_reply, on the loop thread). */
static void udp_handoff(udp_sock_t *u, const srv_udp_handoff_t *h)
{
	struct msghdr *rh = &u->batch->rmsg[h->i].msg_hdr;
	srv_handoff_item_t *it = handoff_item(u->w, u->batch->riov[h->i].iov_base,
	                                      u->batch->rmsg[h->i].msg_len, &h->signer, false);
	if (it == NULL)
		return;
	it->fd = u->fd;
	memcpy(&it->peer, rh->msg_name, rh->msg_namelen);
	it->peer_len = rh->msg_namelen;
	srv_udp_cmsg_t cm;
	it->cmsg_len = srv_udp_reply_pktinfo(rh, &cm);
	memcpy(it->cmsg.buf, cm.buf, it->cmsg_len);
	srv_mailbox_push(u->w->conf.control, it);
}

/* A handed-off request's reply, sent as a batch's reply would have been (server/udp.h). */
static void udp_send_reply(srv_worker_t *w, const srv_handoff_item_t *it)
{
	if (it->reply_len > w->conf.udp_payload) {
		sd_stat_inc(&w->io.udp_oversize);
		return;
	}
	struct iovec iov = {.iov_base = it->reply, .iov_len = it->reply_len};
	struct msghdr mh = {.msg_name = (void *)&it->peer,
	                    .msg_namelen = it->peer_len,
	                    .msg_iov = &iov,
	                    .msg_iovlen = 1,
	                    .msg_control = it->cmsg_len ? (void *)it->cmsg.buf : NULL,
	                    .msg_controllen = it->cmsg_len};
	if (sendmsg(it->fd, &mh, MSG_DONTWAIT) < 0) {
		sd_stat_inc(&w->io.udp_send_errors);
		return;
	}
	sd_stat_inc(&w->io.udp_sent);
}

/* recvmmsg/sendmmsg without glibc's cancellation bracket (two calls into libpthread per
 * system call): UDP threads are never cancelled, srv_worker_stop wakes them. The socket is
 * blocking (server/sock.h): MSG_WAITFORONE sleeps until a datagram comes, then takes what
 * else is queued without waiting. */
static int udp_recvmmsg(int fd, struct mmsghdr *v, unsigned n)
{
	return (int)syscall(SYS_recvmmsg, fd, v, n, MSG_WAITFORONE, NULL);
}

static int udp_sendmmsg(int fd, struct mmsghdr *v, unsigned n)
{
	return (int)syscall(SYS_sendmmsg, fd, v, n, MSG_DONTWAIT);
}

static void udp_send_batch(udp_sock_t *u, unsigned n)
{
	unsigned sent = 0;
	while (sent < n) {
		int r = udp_sendmmsg(u->fd, u->batch->smsg + sent, n - sent);
		if (r > 0) {
			sent += (unsigned)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			/* DNS clients retry; never block */
			sd_stat_add(&u->io.udp_send_dropped, n - sent);
			break;
		}
		/* this one datagram failed (e.g. unreachable): skip it */
		sd_stat_inc(&u->io.udp_send_errors);
		sent++;
	}
	sd_stat_add(&u->io.udp_sent, sent);
}

/* One wakeup: wait for datagrams QSBR-offline (a grace period never waits for an idle
 * socket), answer them online from the view loaded once, send the replies with one
 * sendmmsg, hand off the UPDATEs. 2 system calls with one query outstanding; under load, a
 * third, the sleep that lets the next batch gather (server/udp.h). */
static void udp_serve(udp_sock_t *u)
{
	srv_udp_batch_prepare(u->batch);
	if (u->pace.wait_ns) {
		(void)nanosleep(&(struct timespec){.tv_nsec = (long)u->pace.wait_ns}, NULL);
		sd_stat_inc(&u->io.udp_batch_waits);
	}
	int n = udp_recvmmsg(u->fd, u->batch->rmsg, SRV_UDP_BATCH);
	if (n == 0) /* shut down (srv_worker_stop) */
		return;
	if (n < 0) {
		/* EINTR, or a transient error (ENOMEM...): a pause, so that an error that repeats
		 * cannot turn the thread into a busy loop */
		if (errno != EINTR)
			(void)nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
		return;
	}
	sd_stat_add(&u->io.udp_received, (unsigned)n);
	if (u->pace.max_ns && srv_udp_pace_note(&u->pace, (unsigned)n)) {
		uint64_t now = sd_clock_ns(CLOCK_MONOTONIC);
		if (srv_udp_pace_due(&u->pace, now))
			srv_udp_pace_window(&u->pace, now, sd_clock_ns(CLOCK_THREAD_CPUTIME_ID));
	}
	rcu_thread_online();
	const srv_view_t *view = srv_view_current(u->w->conf.views);
	unsigned out = srv_udp_batch_answer(u->batch, view, (unsigned)n, time(NULL));
	rcu_thread_offline(); /* the replies and handoffs are copies: the view is left */
	udp_send_batch(u, out);
	for (unsigned i = 0; i < u->batch->nhandoff; i++)
		udp_handoff(u, &u->batch->handoff[i]);
}

/* A UDP socket's thread: serves until srv_worker_stop sets udp_stop and shuts the socket's
 * receiving side down, which wakes a blocked recvmmsg (it returns 0 from then on). */
static void *udp_main(void *arg)
{
	udp_sock_t *u = arg;
	char name[16]; /* the kernel's limit, with the NUL */
	snprintf(name, sizeof(name), "sd-udp%u.%zu", u->w->id, (size_t)(u - u->w->udp));
	pthread_setname_np(pthread_self(), name); /* for top -H, perf, the tests */
	/* A batch's wait is tens of microseconds: the default timer slack (50 us) would double
	 * it, and nothing else this thread sleeps on wants slack. */
	if (u->pace.max_ns)
		(void)prctl(PR_SET_TIMERSLACK, UDP_SLACK_NS, 0, 0, 0);
	rcu_register_thread();
	rcu_thread_offline();
	while (!__atomic_load_n(&u->w->udp_stop, __ATOMIC_ACQUIRE))
		udp_serve(u);
	rcu_unregister_thread();
	return NULL;
}

/* --- TCP connections (RFC 7766) --- */

static void tcp_listen_resume(tcp_listener_t *l);
static void tcp_process(tcp_conn_t *c);
static void tcp_read_resume(tcp_conn_t *c);

/* Give a closed slot's buffer pages back to the kernel once a connection used more than a
 * page of them: the pool's memory does not stay resident after a flood of large or
 * slow-drip messages (issue 11, defect 5). The pages are zero-filled again on next use;
 * connections with small messages touch a page or two and cost no system call. Only pages
 * wholly inside the slot's buffers are released (its neighbours may be in use). */
static void tcp_slot_release(tcp_conn_t *c)
{
	if (!c->dirty)
		return;
	c->dirty = false;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = (uintptr_t)c->in, hi = lo + TCP_IN_CAP + 2 * (uintptr_t)TCP_OUT_CAP;
	lo = (lo + page - 1) & ~(page - 1);
	hi &= ~(page - 1);
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_DONTNEED); /* advice: failure is harmless */
}

static void tcp_on_closed(uv_handle_t *h)
{
	tcp_conn_t *c = h->data;
	srv_worker_t *w = c->w;
	tcp_slot_release(c);
	if (c->xfr) { /* the peer went away or we stop in the middle of a transfer */
		xfr_out_log_done(c->xfr, (const struct sockaddr *)&c->peer, SD_EPROTO);
		srv_lag_transfer(w->conf.lag, c->xfr, (const struct sockaddr *)&c->peer, SD_EPROTO);
		xfr_out_free(c->xfr);
		c->xfr = NULL;
	}
	c->active = false;
	c->next_free = w->free_conns;
	w->free_conns = c;
	if (w->stopping) {
		uv_close((uv_handle_t *)&c->timer, NULL);
		return;
	}
	for (size_t i = 0; i < w->ntcp; i++)
		if (w->tcp[i].waiting)
			tcp_listen_resume(&w->tcp[i]);
}

static void tcp_close(tcp_conn_t *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->handle, tcp_on_closed); /* cancels an outstanding write */
}

static bool tcp_expired(uint64_t since, uint64_t limit, uint64_t now)
{
	return since != 0 && now - since >= limit;
}

/* The earliest deadline has come: close on a missed message or response deadline or the
 * idle timeout, re-arm otherwise. While stopping, the grace period has ended. */
static void tcp_on_timer(uv_timer_t *t);

/* Arm the timer for the earliest of: the idle timeout (re-armed by every byte), the end of
 * the message being received (counted from its first byte, whatever trickles in since)
 * and the end of the response being written (the client must read it). */
static void tcp_arm(tcp_conn_t *c)
{
	srv_worker_t *w = c->w;
	if (w->stopping || c->closing) /* while stopping the grace timer runs instead */
		return;
	uint64_t due = c->last_io + w->conf.tcp_idle_ms;
	if (c->msg_since && c->msg_since + w->conf.tcp_msg_ms < due)
		due = c->msg_since + w->conf.tcp_msg_ms;
	if (c->write_since && c->write_since + w->conf.tcp_msg_ms < due)
		due = c->write_since + w->conf.tcp_msg_ms;
	uint64_t now = uv_now(&w->loop);
	uv_timer_start(&c->timer, tcp_on_timer, due > now ? due - now : 0, 0);
}

static void tcp_on_timer(uv_timer_t *t)
{
	tcp_conn_t *c = t->data;
	srv_worker_t *w = c->w;
	uint64_t now = uv_now(&w->loop);
	if (w->stopping) {
		tcp_close(c);
	} else if (tcp_expired(c->msg_since, w->conf.tcp_msg_ms, now) ||
	           tcp_expired(c->write_since, w->conf.tcp_msg_ms, now)) {
		sd_stat_inc(&w->io.tcp_slow_closed);
		tcp_close(c);
	} else if (tcp_expired(c->last_io, w->conf.tcp_idle_ms, now)) {
		sd_stat_inc(&w->io.tcp_idle_closed);
		tcp_close(c);
	} else {
		tcp_arm(c);
	}
}

static void tcp_touch(tcp_conn_t *c)
{
	c->last_io = uv_now(&c->w->loop);
	tcp_arm(c);
}

static void tcp_on_write(uv_write_t *req, int status);

/* Send the output buffer being filled if nothing is in flight. */
static void tcp_flush(tcp_conn_t *c)
{
	if (c->closing || c->writing || c->out_len[c->fill] == 0)
		return;
	unsigned idx = c->fill;
	uv_buf_t buf = uv_buf_init((char *)c->out[idx], (unsigned)c->out_len[idx]);
	if (c->out_len[idx] > SLOT_KEEP)
		c->dirty = true;
	c->fill ^= 1u;
	c->out_len[c->fill] = 0;
	c->writing = true;
	if (uv_write(&c->wreq, (uv_stream_t *)&c->handle, &buf, 1, tcp_on_write) < 0) {
		c->writing = false;
		tcp_close(c);
		return;
	}
	c->write_since = uv_now(&c->w->loop);
	tcp_arm(c);
}

/* Close once the peer is done (or we stop) and every answer is written. */
static void tcp_maybe_finish(tcp_conn_t *c)
{
	if (c->eof && !c->writing && !c->blocked && c->pending == 0 && c->out_len[c->fill] == 0)
		tcp_close(c);
}

/* Answer what is complete in the input (QSBR-online around it) and restart the message
 * clock: it runs while part of a message waits in the input and we are not the ones
 * holding it up (blocked on output or writing a transfer). */
static void tcp_process_clocked(tcp_conn_t *c)
{
	size_t had = c->in_len;
	rcu_thread_online();
	tcp_process(c);
	rcu_thread_offline();
	uint64_t now = uv_now(&c->w->loop);
	if (c->in_len < had)
		c->progress = now;
	if (c->in_len == 0 || c->blocked || c->xfr)
		c->msg_since = 0;
	else if (c->in_len < had || c->msg_since == 0)
		c->msg_since = now; /* what is left began after the last message answered */
}

static void tcp_on_write(uv_write_t *req, int status)
{
	tcp_conn_t *c = req->data;
	c->writing = false;
	c->write_since = 0;
	c->out_len[c->fill ^ 1u] = 0;
	if (c->closing)
		return;
	if (status < 0) {
		tcp_close(c);
		return;
	}
	c->progress = uv_now(&c->w->loop);
	if (c->blocked) {
		c->blocked = false;
		tcp_process_clocked(c);
	}
	tcp_touch(c);
	tcp_flush(c);
	tcp_read_resume(c);
	tcp_maybe_finish(c);
}

/* Write the connection's transfer, one message into each output buffer that has room for a
 * maximal one; true while the transfer still has messages (the next queries wait). */
static bool tcp_xfr_pump(tcp_conn_t *c)
{
	while (c->xfr && !c->closing) {
		if (TCP_OUT_CAP - c->out_len[c->fill] < TCP_FRAME) {
			c->blocked = true; /* resumed by tcp_on_write */
			return true;
		}
		uint8_t *o = c->out[c->fill] + c->out_len[c->fill];
		size_t len = 0;
		int ret = xfr_out_next(c->xfr, o + 2, SRV_RESPONSE_MAX, time(NULL), &len);
		if (ret == 0) {
			o[0] = (uint8_t)(len >> 8);
			o[1] = (uint8_t)len;
			c->out_len[c->fill] += 2 + len;
		}
		if (ret != 0 || xfr_out_done(c->xfr)) {
			xfr_out_log_done(c->xfr, (const struct sockaddr *)&c->peer, ret);
			srv_lag_transfer(c->w->conf.lag, c->xfr, (const struct sockaddr *)&c->peer,
			                 ret);
			xfr_out_free(c->xfr);
			c->xfr = NULL;
			if (ret != 0)
				tcp_close(c);
		}
	}
	return c->xfr != NULL;
}

/* Hand a request to the control thread; its reply comes back to this slot if the slot still
 * serves the same connection then (tcp_send_reply). */
static void tcp_handoff(tcp_conn_t *c, const uint8_t *req, size_t len, const srv_signer_t *signer)
{
	srv_handoff_item_t *it = handoff_item(c->w, req, len, signer, true);
	if (it == NULL)
		return;
	it->conn = c;
	it->conn_gen = c->gen;
	it->peer = c->peer; /* the update policy matches the client's address */
	it->peer_len = sizeof(c->peer);
	c->pending++;
	srv_mailbox_push(c->w->conf.control, it);
}

/* A handed-off request's reply: written on its connection when that is still open, has not
 * been replaced by a new connection in the same slot and has room; dropped otherwise (the
 * client retries, RFC 7766 6.2.4). */
static void tcp_send_reply(srv_worker_t *w, const srv_handoff_item_t *it)
{
	tcp_conn_t *c = it->conn;
	if (!c->active || c->closing || c->gen != it->conn_gen)
		return;
	c->pending--;
	if (!w->stopping && it->reply_len > 0 &&
	    TCP_OUT_CAP - c->out_len[c->fill] >= 2 + it->reply_len) {
		uint8_t *o = c->out[c->fill] + c->out_len[c->fill];
		o[0] = (uint8_t)(it->reply_len >> 8);
		o[1] = (uint8_t)it->reply_len;
		memcpy(o + 2, it->reply, it->reply_len);
		c->out_len[c->fill] += 2 + it->reply_len;
		tcp_touch(c);
		tcp_flush(c);
	}
	tcp_maybe_finish(c); /* the peer may have finished while the reply was away */
}

/* Answer every complete message in the input, in order, while the output has room for a
 * maximal answer (RFC 7766 6.2.1.1: pipelined queries; we answer them in order). A transfer
 * request makes the connection write that transfer before it answers the next query. Must
 * be called QSBR-online. */
static void tcp_process(tcp_conn_t *c)
{
	srv_worker_t *w = c->w;
	const srv_view_t *view = srv_view_current(w->conf.views); /* once per read */
	time_t now = time(NULL);
	size_t pos = 0;
	if (tcp_xfr_pump(c))
		return;
	while (!c->closing && c->in_len - pos >= 2) {
		size_t mlen = (size_t)c->in[pos] << 8 | c->in[pos + 1];
		if (mlen < 12) { /* not even a header: the framing is broken, give up */
			sd_stat_inc(&w->io.tcp_malformed);
			tcp_close(c);
			return;
		}
		if (c->in_len - pos < 2 + mlen)
			break;
		if (TCP_OUT_CAP - c->out_len[c->fill] < TCP_FRAME) {
			c->blocked = true;
			break;
		}
		uint8_t *o = c->out[c->fill] + c->out_len[c->fill];
		srv_request_t *r = &w->req;
		r->msg = c->in + pos + 2;
		r->msg_len = mlen;
		r->client = (const struct sockaddr *)&c->peer;
		r->tcp = true;
		r->now = now;
		r->buf = o + 2;
		r->cap = SRV_RESPONSE_MAX;
		r->cookies = w->conf.cookies ? srv_cookies_current(w->conf.cookies) : NULL;
		srv_process_t rc = srv_process(view, w->actx, &w->front, r);
		c->xfr = r->xfr;
		if (rc == SRV_PROCESS_HANDOFF)
			tcp_handoff(c, r->msg, mlen, &r->signer);
		size_t len = r->len;
		if (len) {
			o[0] = (uint8_t)(len >> 8);
			o[1] = (uint8_t)len;
			c->out_len[c->fill] += 2 + len;
		}
		pos += 2 + mlen;
		if (c->xfr != NULL && tcp_xfr_pump(c))
			break;
	}
	if (pos) {
		memmove(c->in, c->in + pos, c->in_len - pos);
		c->in_len -= pos;
	}
}

static void tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	tcp_conn_t *c = h->data;
	buf->base = (char *)c->in + c->in_len;
	buf->len = TCP_IN_CAP - c->in_len;
}

static void tcp_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	tcp_conn_t *c = s->data;
	if (n == 0 || c->closing)
		return;
	if (n < 0) {
		uv_read_stop(s);
		c->reading = false;
		if (n != UV_EOF) {
			tcp_close(c);
			return;
		}
		c->eof = true; /* graceful: answer what arrived complete, then close */
	} else {
		c->in_len += (size_t)n;
		c->last_io = uv_now(&c->w->loop);
		if (c->in_len > SLOT_KEEP)
			c->dirty = true;
	}
	tcp_process_clocked(c);
	if (c->blocked && c->reading) {
		uv_read_stop(s); /* resumed when the write completes */
		c->reading = false;
	}
	tcp_arm(c);
	tcp_flush(c);
	tcp_maybe_finish(c);
}

static void tcp_read_resume(tcp_conn_t *c)
{
	if (c->closing || c->reading || c->eof || c->blocked)
		return;
	if (uv_read_start((uv_stream_t *)&c->handle, tcp_alloc, tcp_on_read) < 0) {
		tcp_close(c);
		return;
	}
	c->reading = true;
}

/* Serve accepted descriptor fd in a free slot (the slot owns fd from now on). */
static void tcp_conn_begin(srv_worker_t *w, int fd, const struct sockaddr_storage *peer)
{
	tcp_conn_t *c = w->free_conns;
	w->free_conns = c->next_free;
	c->active = true;
	c->gen++;
	c->pending = 0;
	c->in_len = c->out_len[0] = c->out_len[1] = 0;
	c->fill = 0;
	c->reading = c->writing = c->blocked = c->eof = c->closing = false;
	c->msg_since = c->write_since = 0;
	c->last_io = c->progress = uv_now(&w->loop);
	c->peer = *peer;
	uv_tcp_init(&w->loop, &c->handle);
	c->handle.data = c;
	if (uv_tcp_open(&c->handle, fd) < 0) {
		close(fd);
		sd_stat_inc(&w->io.tcp_refused);
		tcp_close(c);
		return;
	}
	sd_stat_inc(&w->io.tcp_accepted);
	uv_tcp_nodelay(&c->handle, 1); /* answers are whole messages: send them at once */
	tcp_arm(c);
	tcp_read_resume(c);
}

/* The pool is full and a client waits: close the connection that has made the least
 * progress (RFC 7766 6.2.3 lets a server close idle or slow connections), so a slow-drip
 * or idle client cannot hold a slot a working one needs. Nothing to do when every slot is
 * already closing: one of them frees soon. */
static void tcp_reclaim(srv_worker_t *w)
{
	tcp_conn_t *victim = NULL;
	for (uint32_t i = 0; i < w->conf.tcp_conns; i++) {
		tcp_conn_t *c = &w->conns[i];
		if (c->active && !c->closing && (victim == NULL || c->progress < victim->progress))
			victim = c;
	}
	if (victim != NULL) {
		sd_stat_inc(&w->io.tcp_reclaimed);
		tcp_close(victim);
	}
}

static void tcp_on_acceptable(uv_poll_t *h, int status, int events);

static void tcp_listen_pause(tcp_listener_t *l)
{
	if (l->polling)
		uv_poll_stop(&l->poll);
	l->polling = false;
}

static void tcp_listen_resume(tcp_listener_t *l)
{
	l->waiting = false;
	if (l->polling || l->w->stopping || uv_is_active((uv_handle_t *)&l->backoff))
		return;
	l->polling = uv_poll_start(&l->poll, UV_READABLE, tcp_on_acceptable) == 0;
}

static void tcp_on_backoff(uv_timer_t *t)
{
	tcp_listen_resume(t->data);
}

/* accept failed for want of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) or
 * otherwise: stop accepting on this listener for a while instead of retrying at once (the
 * pending connection keeps the socket readable: retrying would spin). UDP and the open
 * connections are served meanwhile, and closing ones give their descriptors back. */
static void tcp_listen_backoff(tcp_listener_t *l, int err)
{
	srv_worker_t *w = l->w;
	sd_stat_inc(&w->io.tcp_accept_errors);
	tcp_listen_pause(l);
	uv_timer_start(&l->backoff, tcp_on_backoff, TCP_BACKOFF_MS, 0);
	uint64_t now = uv_now(&w->loop);
	if (w->accept_logged == 0 || now - w->accept_logged >= ACCEPT_LOG_MS) {
		w->accept_logged = now;
		log_warning("event=tcp-accept-failed worker=%u reason=%s pause_ms=%d hint=\"is the "
		            "descriptor limit too low?\"",
		            w->id, LOG_Q(sd_strerror(-err)), TCP_BACKOFF_MS);
	}
}

/* Take up to TCP_ACCEPTS connections from the listener into free slots. */
static void tcp_on_acceptable(uv_poll_t *h, int status, int events)
{
	tcp_listener_t *l = h->data;
	srv_worker_t *w = l->w;
	if (status < 0) {
		tcp_listen_backoff(l, -status);
		return;
	}
	if (!(events & UV_READABLE))
		return;
	for (unsigned i = 0; i < TCP_ACCEPTS && !w->stopping; i++) {
		if (w->free_conns == NULL) {
			if (i > 0)
				return;      /* still readable? then we come back with i == 0 */
			tcp_reclaim(w);      /* readiness just reported: someone is waiting */
			tcp_listen_pause(l); /* the backlog holds the newcomer meanwhile */
			l->waiting = true;
			return;
		}
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		memset(&peer, 0, sizeof(peer));
		int fd =
		    accept4(l->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			tcp_conn_begin(w, fd, &peer);
			continue;
		}
		int e = errno;
		if (e == EAGAIN || e == EWOULDBLOCK)
			return;
		if (e == EINTR || e == ECONNABORTED || e == EPROTO || e == EPERM)
			continue; /* this connection failed, not the listener */
		tcp_listen_backoff(l, e);
		return;
	}
}

/* --- replies to handed-off requests --- */

static void worker_on_reply(srv_mailbox_t *mb, srv_handoff_item_t *it, void *data)
{
	srv_worker_t *w = data;
	(void)mb;
	if (it->tcp)
		tcp_send_reply(w,
		               it); /* also when there is no reply: the connection waits for it */
	else if (it->reply_len > 0 && !w->stopping)
		udp_send_reply(w, it);
	srv_handoff_item_free(it);
}

/* --- lifecycle --- */

static void tcp_listener_on_closed(uv_handle_t *h)
{
	tcp_listener_t *l = h->data;
	close(l->fd);
	l->fd = -1;
}

/* Stop accepting, let each connection write what it has answered (the UDP threads have
 * returned already: srv_worker_stop). */
static void worker_on_stop(uv_async_t *a)
{
	srv_worker_t *w = a->data;
	w->stopping = true;
	uv_close((uv_handle_t *)&w->stop_async, NULL);
	srv_mailbox_close(&w->box); /* the control loop has finished: no reply comes any more */
	for (size_t i = 0; i < w->ntcp; i++) {
		uv_close((uv_handle_t *)&w->tcp[i].poll, tcp_listener_on_closed);
		uv_close((uv_handle_t *)&w->tcp[i].backoff, NULL);
	}
	for (uint32_t i = 0; i < w->ntimers; i++) {
		tcp_conn_t *c = &w->conns[i];
		if (!c->active) {
			uv_close((uv_handle_t *)&c->timer, NULL);
			continue;
		}
		if (c->reading) {
			uv_read_stop((uv_stream_t *)&c->handle);
			c->reading = false;
		}
		c->eof = true;
		c->blocked = false; /* queries not yet answered are dropped; the client retries */
		uv_timer_start(&c->timer, tcp_on_timer, STOP_GRACE_MS, 0);
		tcp_maybe_finish(c);
	}
}

static void *worker_main(void *arg)
{
	srv_worker_t *w = arg;
	char name[16];
	snprintf(name, sizeof(name), "sd-worker%u", w->id);
	pthread_setname_np(pthread_self(), name);
	rcu_register_thread();
	rcu_thread_offline(); /* online only inside I/O callbacks: never blocked in epoll */
	uv_run(&w->loop, UV_RUN_DEFAULT);
	rcu_unregister_thread();
	return NULL;
}

static int alloc_buffers(srv_worker_t *w)
{
	size_t n = w->conf.tcp_conns;
	w->conns = calloc(n, sizeof(*w->conns));
	/* Pages of slots never used are never touched: the pool costs address space only. */
	w->conn_mem = malloc(n * (TCP_IN_CAP + 2 * (size_t)TCP_OUT_CAP));
	w->tcp = calloc(w->nsock, sizeof(*w->tcp));
	if (!w->conns || !w->conn_mem || !w->tcp)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		tcp_conn_t *c = &w->conns[i];
		uint8_t *m = w->conn_mem + i * (TCP_IN_CAP + 2 * (size_t)TCP_OUT_CAP);
		c->w = w;
		c->in = m;
		c->out[0] = m + TCP_IN_CAP;
		c->out[1] = m + TCP_IN_CAP + TCP_OUT_CAP;
		c->wreq.data = c;
		c->next_free = i + 1 < n ? &w->conns[i + 1] : NULL;
	}
	w->free_conns = n ? &w->conns[0] : NULL;
	return 0;
}

#define POOL_TRY_MAX 256 /* >= SRV_WORKERS_MAX */

/* What alloc_buffers reserves for n connections: the slots and their buffers, two blocks
 * that glibc serves from mmap at these sizes (as tried below). */
static bool pool_sizes(size_t n, size_t size[2])
{
	size_t per = TCP_IN_CAP + 2 * (size_t)TCP_OUT_CAP;
	size[0] = n * sizeof(tcp_conn_t);
	size[1] = n * per;
	return size[1] / per == n && size[0] / sizeof(tcp_conn_t) == n;
}

int srv_worker_pool_try(uint32_t conns, unsigned workers, size_t *bytes)
{
	size_t size[2];
	void *maps[POOL_TRY_MAX][2];
	size_t made = 0;
	*bytes = 0;
	if (workers == 0 || workers > POOL_TRY_MAX || !pool_sizes(conns ? conns : 1, size))
		return -EOVERFLOW;
	*bytes = (size[0] + size[1]) * workers;
	int rc = 0;
	for (; made < workers && rc == 0; made++) {
		for (int k = 0; k < 2; k++) {
			maps[made][k] = mmap(NULL, size[k], PROT_READ | PROT_WRITE,
			                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (maps[made][k] == MAP_FAILED && rc == 0)
				rc = sd_errno();
		}
	}
	for (size_t i = 0; i < made; i++)
		for (int k = 0; k < 2; k++)
			if (maps[i][k] != MAP_FAILED)
				munmap(maps[i][k], size[k]);
	return rc;
}

static int init_handles(srv_worker_t *w, const int *tcp_fds)
{
	int ret = 0;
	for (size_t i = 0; i < w->nsock && ret == 0; i++) {
		tcp_listener_t *l = &w->tcp[i];
		l->w = w;
		l->fd = tcp_fds[i];
		ret = uv_poll_init(&w->loop, &l->poll, l->fd); /* the socket is listening already */
		if (ret < 0)
			break;
		l->poll.data = l;
		uv_timer_init(&w->loop, &l->backoff);
		l->backoff.data = l;
		w->ntcp++;
		tcp_listen_resume(l);
		ret = l->polling ? 0 : -EIO;
	}
	/* Descriptors not handed to libuv yet are ours to close. */
	for (size_t i = w->ntcp; i < w->nsock; i++)
		close(tcp_fds[i]);
	for (uint32_t i = 0; i < w->conf.tcp_conns && ret == 0; i++) {
		uv_timer_init(&w->loop, &w->conns[i].timer);
		w->conns[i].timer.data = &w->conns[i];
		w->ntimers++;
	}
	return ret < 0 ? ret : 0;
}

/* Give UDP socket i its thread's state: an answer context writing its own row of the
 * steered answer counters, a batch, an RRL table. */
static int udp_sock_init(srv_worker_t *w, size_t i)
{
	udp_sock_t *u = &w->udp[i];
	int ret = srv_answer_ctx_new(w->conf.answer, &u->actx);
	if (ret == 0) {
		srv_answer_set_worker(u->actx, w->id * srv_worker_rows(w->nsock) + (unsigned)i);
		ret = srv_udp_batch_new(w->conf.udp_payload, u->actx, &u->front, &u->batch);
	}
	if (ret == 0 && w->conf.rrl != NULL && w->conf.rrl->rate > 0)
		ret = srv_rrl_new(w->conf.rrl, &u->rrl);
	if (ret == 0) {
		u->batch->rrl = u->rrl;
		u->batch->cookies = w->conf.cookies;
	}
	return ret;
}

/* The loop (TCP, replies to handoffs, stop) and the UDP sockets' state. */
static int worker_init(srv_worker_t *w)
{
	int ret = uv_loop_init(&w->loop);
	w->loop_ready = ret == 0;
	w->loop.data = w;
	if (ret == 0)
		ret = uv_async_init(&w->loop, &w->stop_async, worker_on_stop);
	w->async_ready = ret == 0;
	w->stop_async.data = w;
	if (ret == 0)
		ret = srv_mailbox_init(&w->box, &w->loop, worker_on_reply, w);
	if (ret == 0)
		ret = alloc_buffers(w);
	if (ret == 0)
		ret = srv_answer_ctx_new(w->conf.answer, &w->actx);
	if (ret == 0) /* the loop's row follows its UDP threads' */
		srv_answer_set_worker(w->actx, (w->id + 1) * srv_worker_rows(w->nsock) - 1);
	for (size_t i = 0; i < w->nsock && ret == 0; i++)
		ret = udp_sock_init(w, i);
	return ret;
}

int srv_worker_new(unsigned id, const srv_worker_conf_t *conf, const int *udp_fds,
                   const int *tcp_fds, size_t n, srv_worker_t **out)
{
	srv_worker_t *w = calloc(1, sizeof(*w));
	udp_sock_t *udp = calloc(n ? n : 1, sizeof(*udp));
	*out = NULL;
	if (!w || !udp) {
		free(w);
		free(udp);
		for (size_t i = 0; i < n; i++) {
			close(udp_fds[i]);
			close(tcp_fds[i]);
		}
		return -ENOMEM;
	}
	w->id = id;
	w->conf = *conf;
	w->conf.tcp_conns = conf->tcp_conns ? conf->tcp_conns : 1;
	w->conf.tcp_msg_ms = conf->tcp_msg_ms ? conf->tcp_msg_ms : conf->tcp_idle_ms;
	w->nsock = n;
	w->udp = udp;
	for (size_t i = 0; i < n; i++) { /* closed by srv_worker_free from now on */
		udp[i].fd = udp_fds[i];
		udp[i].w = w;
		udp[i].pace.max_ns = conf->udp_wait_ns;
	}
	int ret = worker_init(w);
	if (ret == 0) {
		ret = init_handles(w, tcp_fds);
	} else {
		for (size_t i = 0; i < n; i++)
			close(tcp_fds[i]);
	}
	if (ret < 0) {
		srv_worker_free(w);
		return ret;
	}
	*out = w;
	return 0;
}

/* Wake the UDP threads (a shut down socket's recvmmsg returns 0 at once, also one called
 * after this) and join them. shutdown() on an unconnected UDP socket fails with ENOTCONN
 * but marks its receiving side shut and wakes its sleepers all the same (Linux
 * inet_shutdown); sending still works, for the loop's replies to handoffs. */
static void udp_threads_stop(srv_worker_t *w)
{
	__atomic_store_n(&w->udp_stop, true, __ATOMIC_RELEASE);
	for (size_t i = 0; i < w->nsock; i++)
		if (w->udp[i].started)
			(void)shutdown(w->udp[i].fd, SHUT_RD);
	for (size_t i = 0; i < w->nsock; i++) {
		if (w->udp[i].started)
			pthread_join(w->udp[i].thread, NULL);
		w->udp[i].started = false;
	}
}

int srv_worker_start(srv_worker_t *w)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* signals belong to the control thread */
	int ret = 0;
	for (size_t i = 0; i < w->nsock && ret == 0; i++) {
		ret = -pthread_create(&w->udp[i].thread, NULL, udp_main, &w->udp[i]);
		w->udp[i].started = ret == 0;
	}
	if (ret == 0)
		ret = -pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	w->started = ret == 0;
	if (ret < 0)
		udp_threads_stop(w);
	return ret;
}

void srv_worker_stop(srv_worker_t *w)
{
	if (!w->started)
		return;
	udp_threads_stop(w);
	uv_async_send(&w->stop_async);
	pthread_join(w->thread, NULL);
	w->started = false;
}

/* Close whatever a never-started (or failed) worker initialised, so the loop can close. */
static void close_unstarted(srv_worker_t *w)
{
	w->stopping = true;
	if (w->async_ready && !uv_is_closing((uv_handle_t *)&w->stop_async))
		worker_on_stop(&w->stop_async);
	uv_run(&w->loop, UV_RUN_DEFAULT);
}

void srv_worker_free(srv_worker_t *w)
{
	if (!w)
		return;
	if (w->loop_ready) {
		if (w->async_ready && !uv_is_closing((uv_handle_t *)&w->stop_async))
			close_unstarted(w);
		uv_run(&w->loop, UV_RUN_DEFAULT);
		if (uv_loop_close(&w->loop) != 0)
			log_warning("event=stop-unclean worker=%u reason=\"the loop still had "
			            "handles at exit\"",
			            w->id);
	}
	srv_mailbox_drain(&w->box);
	srv_answer_ctx_free(w->actx);
	for (size_t i = 0; i < w->nsock; i++) {
		udp_sock_t *u = &w->udp[i];
		close(u->fd);
		srv_answer_ctx_free(u->actx);
		srv_udp_batch_free(u->batch);
		srv_rrl_free(u->rrl);
	}
	free(w->conns);
	free(w->conn_mem);
	free(w->udp);
	free(w->tcp);
	free(w);
}

/* Add the rate limiter's counters of rl (NULL: off) into *out. */
static void rrl_stats_add(const srv_rrl_t *rl, srv_rrl_stats_t *out)
{
	if (rl == NULL)
		return;
	const srv_rrl_stats_t *r = srv_rrl_stats(rl);
	out->limited += sd_stat_get(&r->limited);
	out->slipped += sd_stat_get(&r->slipped);
	out->dropped += sd_stat_get(&r->dropped);
	out->exempt += sd_stat_get(&r->exempt);
}

static void cookie_stats_add(const srv_cookie_stats_t *c, srv_cookie_stats_t *out)
{
	out->client_only += sd_stat_get(&c->client_only);
	out->valid += sd_stat_get(&c->valid);
	out->invalid += sd_stat_get(&c->invalid);
	out->badcookie += sd_stat_get(&c->badcookie);
}

void srv_worker_abuse_stats(const srv_worker_t *w, srv_rrl_stats_t *rrl,
                            srv_cookie_stats_t *cookies)
{
	cookie_stats_add(&w->front.cookies, cookies);
	for (size_t i = 0; i < w->nsock; i++) {
		cookie_stats_add(&w->udp[i].front.cookies, cookies);
		rrl_stats_add(w->udp[i].rrl, rrl);
	}
}

/* Add an answer context's counters (NULL: none) into *answer. */
static void answer_stats_add(srv_answer_ctx_t *actx, srv_stats_t *answer)
{
	if (actx == NULL)
		return;
	const srv_stats_t *s = srv_answer_stats(actx);
	answer->queries += sd_stat_get(&s->queries);
	answer->udp += sd_stat_get(&s->udp);
	answer->tcp += sd_stat_get(&s->tcp);
	for (unsigned i = 0; i < SD_ARRAY_LEN(s->qtype); i++)
		answer->qtype[i] += sd_stat_get(&s->qtype[i]);
	for (unsigned i = 0; i < SD_ARRAY_LEN(s->rcode); i++)
		answer->rcode[i] += sd_stat_get(&s->rcode[i]);
	answer->badvers += sd_stat_get(&s->badvers);
	answer->dropped += sd_stat_get(&s->dropped);
	answer->truncated += sd_stat_get(&s->truncated);
	answer->edns += sd_stat_get(&s->edns);
	for (unsigned i = 0; i < SD_ARRAY_LEN(s->steered); i++)
		answer->steered[i] += sd_stat_get(&s->steered[i]);
	answer->steered_degraded += sd_stat_get(&s->steered_degraded);
}

/* Add the UDP counters of s into *io. */
static void udp_stats_add(const srv_io_stats_t *s, srv_io_stats_t *io)
{
	io->udp_received += sd_stat_get(&s->udp_received);
	io->udp_sent += sd_stat_get(&s->udp_sent);
	io->udp_batch_waits += sd_stat_get(&s->udp_batch_waits);
	io->udp_send_dropped += sd_stat_get(&s->udp_send_dropped);
	io->udp_send_errors += sd_stat_get(&s->udp_send_errors);
	io->udp_oversize += sd_stat_get(&s->udp_oversize);
}

void srv_worker_stats(const srv_worker_t *w, srv_stats_t *answer, srv_io_stats_t *io)
{
	answer_stats_add(w->actx, answer);
	udp_stats_add(&w->io, io); /* the loop's replies to handoffs */
	for (size_t i = 0; i < w->nsock; i++) {
		const udp_sock_t *u = &w->udp[i];
		answer_stats_add(u->actx, answer);
		udp_stats_add(&u->io, io);
		if (u->batch != NULL)
			io->udp_oversize += sd_stat_get(&u->batch->oversize);
	}
	io->tcp_accepted += sd_stat_get(&w->io.tcp_accepted);
	io->tcp_refused += sd_stat_get(&w->io.tcp_refused);
	io->tcp_reclaimed += sd_stat_get(&w->io.tcp_reclaimed);
	io->tcp_idle_closed += sd_stat_get(&w->io.tcp_idle_closed);
	io->tcp_slow_closed += sd_stat_get(&w->io.tcp_slow_closed);
	io->tcp_accept_errors += sd_stat_get(&w->io.tcp_accept_errors);
	io->tcp_malformed += sd_stat_get(&w->io.tcp_malformed);
}
