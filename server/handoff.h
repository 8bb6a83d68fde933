/* handoff.h — requests a worker hands to the control thread, and the replies coming back.
 *
 * Some requests are not answered on the worker that received them: a DNS UPDATE (RFC 2136)
 * changes a zone, which only the control thread does. The front door (server/front.h)
 * says HANDOFF; the worker copies the request into an item (the bytes,
 * the peer, the transport and how to reach it again, the TSIG state) and pushes it to the
 * control thread's mailbox. The control thread handles it and pushes the item, now holding
 * the reply, to the mailbox of the worker it came from, which sends it like any reply:
 *
 *   worker ─ srv_mailbox_push(control) ─ uv_async ─▶ control: fn(item) for each queued item,
 *                                                    then flush(): the batch (server/update.h)
 *   worker ◀─ uv_async ─ srv_mailbox_push(item->home) ─┘   (reply in the item)
 *     UDP: sendmsg from the same socket and source address (PKTINFO) as a normal reply
 *     TCP: on the same connection if it is still the one that asked (slot + generation),
 *          dropped otherwise
 *
 * A mailbox is an MPSC queue (liburcu wfcqueue: lock-free enqueue from any thread) plus a
 * uv_async_t on its owner's loop. When the async fires, the owner takes every item queued so
 * far, calls fn for each in order, then the optional flush once: the control thread's fn
 * collects the UPDATEs and its flush processes them as one batch (group commit: the requests
 * that arrived while the previous commit's fsync ran are committed together), replying to
 * each item after the commit. Items are malloc'd: handoffs are rare (UPDATE), the query path
 * never allocates.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include <urcu/wfcqueue.h>

#include "contrib/base/compiler.h"
#include "server/front.h"

typedef struct srv_mailbox srv_mailbox_t;

typedef struct srv_handoff_item {
	struct cds_wfcq_node node;
	srv_mailbox_t *home; /* the receiving worker's mailbox: where the reply goes */
	bool tcp;
	/* UDP: the socket, the peer and the reply's PKTINFO control message */
	int fd;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct {
		/* aligned as a cmsghdr without holding one: glibc's struct cmsghdr ends in a
		 * flexible array, which C does not allow in the middle of a struct (clang's
		 * -Wgnu-variable-sized-type-not-at-end) */
		_Alignas(struct cmsghdr) uint8_t buf[128];
	} cmsg;
	size_t cmsg_len;
	/* TCP: the connection slot and its generation when the request arrived */
	void *conn;
	uint64_t conn_gen;
	srv_signer_t signer; /* TSIG state of the request (verified by the worker) */
	uint8_t *reply;      /* set by the control thread; NULL or reply_len 0: nothing to send */
	size_t reply_len;
	size_t len;
	uint8_t msg[]; /* the request */
} srv_handoff_item_t;

/* A copy of msg[0..len) with everything else zeroed (fd -1). NULL when out of memory. */
srv_handoff_item_t *srv_handoff_item_new(const uint8_t *msg, size_t len) SD_NONNULL(1);
void srv_handoff_item_free(srv_handoff_item_t *it);

typedef void (*srv_mailbox_fn)(srv_mailbox_t *mb, srv_handoff_item_t *it, void *data);
typedef void (*srv_mailbox_flush_fn)(srv_mailbox_t *mb, void *data);

struct srv_mailbox {
	struct cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	uv_async_t async;
	srv_mailbox_fn fn;          /* called on the owner's loop for each item, in order */
	srv_mailbox_flush_fn flush; /* NULL, or called once after fn saw every item taken */
	void *data;
	bool ready; /* async initialised (and not yet closed) */
};

/* On the owner's loop thread. The async handle is unreferenced: a mailbox never keeps its
 * loop alive; close it with srv_mailbox_close() once nothing can push any more. */
int srv_mailbox_init(srv_mailbox_t *mb, uv_loop_t *loop, srv_mailbox_fn fn, void *data)
    SD_NONNULL(1, 2, 3) SD_WUR;
/* Owner's thread, before anything is pushed: the batch hook (see above). */
void srv_mailbox_set_flush(srv_mailbox_t *mb, srv_mailbox_flush_fn flush) SD_NONNULL(1);
/* Any thread, while the owner's loop exists and the mailbox is not closed. */
void srv_mailbox_push(srv_mailbox_t *mb, srv_handoff_item_t *it) SD_NONNULL(1, 2);
/* Owner's thread: close the async handle (its loop must run once more to finish it). */
void srv_mailbox_close(srv_mailbox_t *mb) SD_NONNULL(1);
/* Free every item still queued (after the loop has finished; nothing pushes any more). */
void srv_mailbox_drain(srv_mailbox_t *mb) SD_NONNULL(1);

/* The control thread's side: its mailbox, whose items and flushes go to a consumer (the
 * UPDATE processor, server/update.h, wired by server.c): on_item for each item taken, in
 * order, then on_flush once; the consumer pushes each item back to its worker. */
typedef void (*srv_handoff_item_fn)(void *data, srv_handoff_item_t *it);
typedef void (*srv_handoff_flush_fn)(void *data);
typedef struct srv_handoff {
	srv_mailbox_t box;
	srv_handoff_item_fn on_item;
	srv_handoff_flush_fn on_flush;
	void *data;       /* the consumer (borrowed: it must outlive h) */
	uint64_t handled; /* requests handled (relaxed atomics: steerctl status reads it) */
} srv_handoff_t;

/* Control thread, on its loop. */
int srv_handoff_new(uv_loop_t *loop, srv_handoff_item_fn on_item, srv_handoff_flush_fn on_flush,
                    void *data, srv_handoff_t **out) SD_NONNULL(1, 2, 3, 5) SD_WUR;
/* After the workers have stopped (nothing pushes any more): close, drain, free. The loop
 * must run once more after it to finish the close, before uv_loop_close. */
void srv_handoff_close(srv_handoff_t *h);
void srv_handoff_free(srv_handoff_t *h);
