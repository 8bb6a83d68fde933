/* udp.h — a worker's UDP batch: the datagrams one recvmmsg() received, answered into the
 * arrays one sendmmsg() sends, without touching a socket.
 *
 *   worker: srv_udp_batch_prepare ─ (busy: sleep, below) ─ recvmmsg(rmsg, SRV_UDP_BATCH)
 *           srv_udp_batch_answer(n): for each datagram srv_process() (server/front.h), the
 *             reply laid into the arena and smsg[] with the request's peer and PKTINFO
 *             (the reply leaves from the address the query was sent to), an UPDATE noted in
 *             handoff[] with its TSIG state
 *             (RRL on: each reply charged to its bucket, server/rrl.h: sent, truncated or
 *             dropped; a valid server cookie, server/cookie.h, exempts it)
 *           sendmmsg(smsg, replies) ; each handoff[] to the control thread (server/handoff.h)
 *
 * Everything is allocated once by srv_udp_batch_new(): answering a batch allocates nothing
 * and takes no lock (tests/unit/server/test_udp.c checks it with the allocation counter).
 * One worker thread owns a batch.
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "contrib/base/compiler.h"
#include "server/engine/answer.h"
#include "server/front.h"
#include "server/rrl.h"
#include "server/view.h"

#define SRV_UDP_BATCH    64    /* datagrams per recvmmsg/sendmmsg */
#define SRV_UDP_RECV_MAX 65535 /* the largest UDP payload: no query is ever truncated */

/* Batch pacing (server.udp-batch-wait). Each recvmmsg/sendmmsg pair costs two system calls,
 * and each sendmmsg wakes the clients waiting for its replies, however many datagrams share
 * them; when a thread takes each datagram the moment it comes, those fixed costs are most of
 * its CPU under load. So a UDP thread measures, over windows of SRV_UDP_PACE_WINDOW_NS, how
 * fast its datagrams arrive and how busy it is. Once it is busy (SRV_UDP_PACE_ON percent of
 * the window on the CPU) and SRV_UDP_GATHER datagrams come within max_ns, it sleeps for the
 * time SRV_UDP_GATHER take before each receive: a batch gathers, as a network card's
 * interrupt coalescing gathers packets. It stops when they no longer come that fast or it
 * is under SRV_UDP_PACE_OFF percent busy (waiting makes it less busy: hence two bounds). A
 * thread with CPU to spare answers each query at once, as it would without pacing: the
 * wait's latency is only spent where its CPU is wanted. */
#define SRV_UDP_GATHER         8       /* datagrams a wait is meant to gather */
#define SRV_UDP_PACE_WINDOW_NS 1000000 /* the measurement's window: 1 ms */
#define SRV_UDP_PACE_ON        60      /* busy percent from which a thread starts waiting */
#define SRV_UDP_PACE_OFF       40      /* and under which it stops */

typedef struct srv_udp_pace {
	uint64_t max_ns;  /* server.udp-batch-wait; 0: never wait */
	uint64_t wait_ns; /* the sleep before the next receive; 0: none */
	uint64_t start;   /* the window's start, CLOCK_MONOTONIC ns */
	uint64_t cpu;     /* the thread's CPU time then, ns */
	uint64_t count;   /* datagrams received since */
	uint64_t next;    /* the count at which to read the clock again */
} srv_udp_pace_t;

/* Count n > 0 datagrams received. True every SRV_UDP_GATHER datagrams or so: then the caller
 * reads the clock for srv_udp_pace_due (not for every datagram of a thread answering one
 * query at a time). */
static inline bool srv_udp_pace_note(srv_udp_pace_t *p, unsigned n)
{
	p->count += n;
	return p->count >= p->next;
}

/* Whether the window is over at now (CLOCK_MONOTONIC ns): then the caller reads its CPU
 * time for srv_udp_pace_window (one system call a window). */
static inline bool srv_udp_pace_due(srv_udp_pace_t *p, uint64_t now)
{
	if (now - p->start >= SRV_UDP_PACE_WINDOW_NS)
		return true;
	p->next = p->count + SRV_UDP_GATHER;
	return false;
}

/* End the window at now, the thread's CPU time being cpu (CLOCK_THREAD_CPUTIME_ID ns): set
 * wait_ns for the next one. */
void srv_udp_pace_window(srv_udp_pace_t *p, uint64_t now, uint64_t cpu) SD_NONNULL(1);

/* Room for a received PKTINFO control message (either family) or a reply's. */
typedef struct srv_udp_cmsg {
	_Alignas(struct cmsghdr) uint8_t
	    buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
} srv_udp_cmsg_t;

/* A request the control thread answers: the datagram rmsg[i], and the TSIG state. */
typedef struct srv_udp_handoff {
	unsigned i;
	srv_signer_t signer;
} srv_udp_handoff_t;

typedef struct srv_udp_batch {
	/* received: rmsg[i] holds datagram i in rbuf + i * SRV_UDP_RECV_MAX, its peer in
	 * rname[i] and its control messages in rcmsg[i] (recvmmsg sets msg_len, msg_namelen,
	 * msg_controllen) */
	struct mmsghdr rmsg[SRV_UDP_BATCH];
	struct iovec riov[SRV_UDP_BATCH];
	struct sockaddr_storage rname[SRV_UDP_BATCH];
	srv_udp_cmsg_t rcmsg[SRV_UDP_BATCH];
	uint8_t *rbuf;  /* SRV_UDP_BATCH x SRV_UDP_RECV_MAX */
	unsigned rused; /* rmsg[0..rused) were handed to srv_udp_batch_answer since the last
	                 * prepare: only those can hold what a receive changed */
	/* to send: smsg[0..replies) point into the arena, at rname[] and scmsg[] */
	struct mmsghdr smsg[SRV_UDP_BATCH];
	struct iovec siov[SRV_UDP_BATCH];
	srv_udp_cmsg_t scmsg[SRV_UDP_BATCH];
	uint8_t *arena; /* replies back to back: SRV_UDP_BATCH x udp_payload + one maximum */
	/* handed off: handoff[0..nhandoff) */
	srv_udp_handoff_t handoff[SRV_UDP_BATCH];
	unsigned nhandoff;
	/* the worker's: its answer context, counters, UDP bound */
	srv_answer_ctx_t *actx;
	srv_front_stats_t *st;
	uint16_t udp_payload;
	uint64_t oversize;      /* replies longer than udp_payload, dropped (engine bug) */
	srv_rrl_t *rrl;         /* response rate limiting (server/rrl.h), borrowed; NULL: off */
	srv_cookies_t *cookies; /* DNS cookie secrets (server/cookie.h), borrowed; NULL: off */
	srv_request_t req;      /* the request being handled */
} srv_udp_batch_t;

/* A batch answering with actx, counting into st (both borrowed, must outlive it); replies
 * longer than udp_payload are dropped. */
int srv_udp_batch_new(uint16_t udp_payload, srv_answer_ctx_t *actx, srv_front_stats_t *st,
                      srv_udp_batch_t **out) SD_NONNULL(2, 3, 4) SD_WUR;
void srv_udp_batch_free(srv_udp_batch_t *b);

/* Reset rmsg[] for the next recvmmsg(). recvmmsg() changes only the entries it fills (their
 * msg_len, msg_namelen, msg_controllen, msg_flags), and those are the ones the worker then
 * answers, so only the entries srv_udp_batch_answer() was given since the last prepare are
 * reset: with one query outstanding that is one entry, not SRV_UDP_BATCH. A caller that
 * changes rmsg[] otherwise must answer those entries before the next prepare. */
void srv_udp_batch_prepare(srv_udp_batch_t *b) SD_NONNULL(1);

/* Answer datagrams rmsg[0..n) (n <= SRV_UDP_BATCH) from view (NULL: none published) at now:
 * returns how many replies smsg[] holds; the requests to hand off are in
 * handoff[0..nhandoff). Worker thread, QSBR-online. No allocation, no lock. */
unsigned srv_udp_batch_answer(srv_udp_batch_t *b, const srv_view_t *view, unsigned n, time_t now)
    SD_NONNULL(1) SD_WUR;

/* The reply's control message built from the request's rh: the reply leaves from the
 * address the query was sent to (IP_PKTINFO ipi_spec_dst, interface 0) or, for IPv6, from
 * that address on its interface (which link-local addresses need). Returns its length in
 * out (0: the request had none). */
socklen_t srv_udp_reply_pktinfo(struct msghdr *rh, srv_udp_cmsg_t *out) SD_NONNULL(1, 2);
