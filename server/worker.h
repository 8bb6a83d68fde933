/* worker.h — one query-serving worker: a thread per UDP socket and a libuv loop for TCP.
 *
 *   srv_worker_new (control thread)       sockets, buffers, an answer context per thread
 *   srv_worker_start ─ pthread_create ──▶ per UDP socket, its own thread (gdnsd's model):
 *                                          rcu_register_thread, then per wakeup:
 *     UDP  QSBR offline ─ recvmmsg(64, MSG_WAITFORONE: blocks for the first datagram) ─
 *          online, view = srv_view_current() once ─ srv_udp_batch_answer (server/udp.h:
 *          srv_process per datagram, replies with the request's PKTINFO on a wildcard
 *          socket) ─ offline ─ sendmmsg ─ handoffs pushed
 *                   ─ pthread_create ──▶ the loop thread: rcu_register_thread, offline,
 *                                          uv_run; each I/O callback online ... offline
 *     TCP  uv_poll on the listener ─ accept4 ─ slot from a fixed pool ─ framing ─
 *          srv_process (server/front.h) ─ uv_write, transfers drained one message per
 *          free buffer (RFC 7766)
 *          pool full: the slot with the least progress is closed for the newcomer;
 *          accept failing (EMFILE): that listener pauses TCP_BACKOFF_MS, never spins;
 *          deadlines: idle (re-armed by bytes), a whole message from its first byte, a
 *          response to be read (tcp_msg_ms, not re-armed by trickling bytes)
 *     mailbox ◀─ replies to handed-off UPDATEs (server/handoff.h), sent like any reply (a
 *          UDP one with sendmsg on its socket, from the loop thread)
 *   srv_worker_stop ─ shutdown(SHUT_RD) ▶ each UDP thread's recvmmsg returns 0: it returns
 *                   ◀─ pthread_join ──
 *                   ─ uv_async_send ──▶   close listeners, finish in-flight TCP, exit loop
 *                   ◀─ pthread_join ──
 *
 * UDP is not watched by uv_poll as DESIGN.md describes: a readiness callback cost an
 * epoll_wait besides recvmmsg and sendmmsg per wakeup (3 system calls where gdnsd makes 2)
 * and libuv's loop iteration (timers, idle/prepare/check, dispatch) around it, some 770
 * user instructions per query with one outstanding (issues 9 and 13). A blocking
 * recvmmsg on a thread of its own makes 2 system calls and nothing else per wakeup.
 *
 * Nothing on a thread's answer path is shared with another thread: each UDP thread and the
 * loop have their own answer context (and row of the steered answer counters,
 * srv_worker_rows), front-door and I/O counters; each UDP thread its batch and RRL table
 * (server/rrl.h: a source's queries to one listen address reach one socket, SO_REUSEPORT
 * hashes its address and port; with several listen addresses each keeps its own buckets).
 * Every buffer is allocated by srv_worker_new: nothing is allocated per query or per
 * connection (a transfer allocates its xfr_out_t; an UPDATE its handoff item). A worker only
 * reads shared state: the published view (server/view.h), loaded once per wakeup.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "server/engine/answer.h"
#include "server/handoff.h"
#include "server/cookie.h"
#include "server/rrl.h"
#include "server/view.h"

/* Counters of the I/O layer; each thread of a worker writes its own set, with relaxed
 * atomics, and readers load them the same way (contrib/base/stat.h). */
typedef struct srv_io_stats {
	uint64_t udp_received;
	uint64_t udp_sent;
	uint64_t udp_batch_waits;  /* sleeps before a receive for a batch to gather (udp.h) */
	uint64_t udp_send_dropped; /* the socket buffer was full (EAGAIN): dropped, not retried */
	uint64_t udp_send_errors;
	uint64_t udp_oversize; /* an answer longer than udp-payload: engine bug, dropped */
	uint64_t tcp_accepted;
	uint64_t tcp_refused;   /* accepted but could not be served (closed at once) */
	uint64_t tcp_reclaimed; /* closed for a newcomer: the pool was full, least progress */
	uint64_t tcp_idle_closed;
	uint64_t tcp_slow_closed;   /* a message or a response missed its deadline */
	uint64_t tcp_accept_errors; /* accept failed (EMFILE...): the listener paused */
	uint64_t tcp_malformed;     /* framing error or message shorter than a header */
} srv_io_stats_t;

typedef struct srv_worker_conf {
	const srv_answer_conf_t *answer; /* must outlive the worker */
	srv_views_t *views;              /* the published view; must outlive the worker */
	srv_mailbox_t *control;          /* where UPDATEs go (server/handoff.h); NULL: dropped */
	uint16_t udp_payload;            /* bound of a UDP answer */
	uint64_t udp_wait_ns;            /* server.udp-batch-wait (server/udp.h); 0: off */
	uint64_t tcp_idle_ms;
	uint64_t tcp_msg_ms;       /* deadline of a whole message in, and of a response out */
	uint32_t tcp_conns;        /* this worker's share of tcp-max-connections */
	const srv_rrl_conf_t *rrl; /* UDP response rate limiting (server/rrl.h); NULL or rate 0:
	                            * off. Must outlive the worker. */
	srv_cookies_t *cookies;    /* DNS cookie secrets (server/cookie.h); NULL: off. Must
	                            * outlive the worker. */
	struct srv_lag *lag;       /* told of every TCP transfer's end (server/lag.h); NULL:
	                            * nobody. Must outlive the worker. */
} srv_worker_conf_t;

typedef struct srv_worker srv_worker_t;

/* Rows of the steered answer counters (steering/counts.h) a worker serving n listen
 * addresses writes, one per answering thread: its n UDP threads, then its loop. Worker id
 * writes rows [id * rows, (id + 1) * rows): srv_steer_set_workers wants workers * rows. */
static inline unsigned srv_worker_rows(size_t n)
{
	return (unsigned)n + 1;
}

/* Prepare worker id serving on udp_fds[0..n) and tcp_fds[0..n) (bound and listening; the
 * worker owns them from now on, also on failure). Control thread. */
int srv_worker_new(unsigned id, const srv_worker_conf_t *conf, const int *udp_fds,
                   const int *tcp_fds, size_t n, srv_worker_t **out) SD_NONNULL(2, 3, 4, 6) SD_WUR;

/* Would workers workers of conns TCP connections each get their pools (reserved up front
 * by srv_worker_new, touched only as used)? Reserves the same address space the same way
 * and gives it back at once, so `--check` reports a tcp-max-connections the machine cannot
 * start (a value the kernel's overcommit policy refuses) instead of the start failing.
 * *bytes is the total reservation. Returns 0, -ENOMEM or -EOVERFLOW. Any thread. */
int srv_worker_pool_try(uint32_t conns, unsigned workers, size_t *bytes) SD_NONNULL(3) SD_WUR;

/* Start the threads: one per UDP socket, then the loop (signals are blocked in them). On
 * failure the threads started are stopped again. Control thread. */
int srv_worker_start(srv_worker_t *w) SD_NONNULL(1) SD_WUR;

/* Stop the worker: its UDP threads return (their sockets shut for receiving) and are
 * joined; then its loop closes the listeners, lets TCP connections finish writing what they
 * have answered (at most one second) and returns, and is joined. The UDP sockets are closed
 * by srv_worker_free. Control thread; no-op for a worker that never started. */
void srv_worker_stop(srv_worker_t *w) SD_NONNULL(1);

/* Free a stopped (or never started) worker. */
void srv_worker_free(srv_worker_t *w);

/* Add the worker's response rate limiting (server/rrl.h) and cookie (server/cookie.h)
 * counters into *rrl and *cookies. Control thread; torn reads tolerated. */
void srv_worker_abuse_stats(const srv_worker_t *w, srv_rrl_stats_t *rrl,
                            srv_cookie_stats_t *cookies) SD_NONNULL(1, 2, 3);

/* Add the worker's counters into *answer and *io. Control thread; torn reads tolerated. */
void srv_worker_stats(const srv_worker_t *w, srv_stats_t *answer, srv_io_stats_t *io)
    SD_NONNULL(1, 2, 3);
