/* handoff.c — worker -> control thread -> worker; see handoff.h. */
#include "server/handoff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/log.h"
#include "contrib/base/stat.h"

srv_handoff_item_t *srv_handoff_item_new(const uint8_t *msg, size_t len)
{
	srv_handoff_item_t *it = calloc(1, sizeof(*it) + len);
	if (it == NULL)
		return NULL;
	cds_wfcq_node_init(&it->node);
	it->fd = -1;
	it->len = len;
	memcpy(it->msg, msg, len);
	return it;
}

void srv_handoff_item_free(srv_handoff_item_t *it)
{
	if (it == NULL)
		return;
	free(it->reply);
	free(it);
}

static void mailbox_on_async(uv_async_t *a)
{
	srv_mailbox_t *mb = a->data;
	struct cds_wfcq_node *node, *next;
	struct cds_wfcq_head batch;
	struct cds_wfcq_tail batch_tail;
	cds_wfcq_init(&batch, &batch_tail);
	/* take everything queued so far at once, then handle it in order */
	if (__cds_wfcq_splice_blocking(&batch, &batch_tail, &mb->head, &mb->tail) ==
	    CDS_WFCQ_RET_SRC_EMPTY)
		return;
	__cds_wfcq_for_each_blocking_safe(&batch, &batch_tail, node, next)
	{
		srv_handoff_item_t *it = caa_container_of(node, srv_handoff_item_t, node);
		mb->fn(mb, it, mb->data);
	}
	if (mb->flush != NULL)
		mb->flush(mb, mb->data);
}

void srv_mailbox_set_flush(srv_mailbox_t *mb, srv_mailbox_flush_fn flush)
{
	mb->flush = flush;
}

int srv_mailbox_init(srv_mailbox_t *mb, uv_loop_t *loop, srv_mailbox_fn fn, void *data)
{
	cds_wfcq_init(&mb->head, &mb->tail);
	mb->fn = fn;
	mb->data = data;
	int ret = uv_async_init(loop, &mb->async, mailbox_on_async);
	if (ret < 0)
		return ret;
	mb->async.data = mb;
	uv_unref((uv_handle_t *)&mb->async);
	mb->ready = true;
	return 0;
}

void srv_mailbox_push(srv_mailbox_t *mb, srv_handoff_item_t *it)
{
	cds_wfcq_node_init(&it->node);
	cds_wfcq_enqueue(&mb->head, &mb->tail, &it->node);
	uv_async_send(&mb->async);
}

void srv_mailbox_close(srv_mailbox_t *mb)
{
	if (!mb->ready)
		return;
	mb->ready = false;
	uv_close((uv_handle_t *)&mb->async, NULL);
}

void srv_mailbox_drain(srv_mailbox_t *mb)
{
	if (mb->fn == NULL) /* never initialised */
		return;
	struct cds_wfcq_node *node;
	while ((node = __cds_wfcq_dequeue_blocking(&mb->head, &mb->tail)) != NULL)
		srv_handoff_item_free(caa_container_of(node, srv_handoff_item_t, node));
	cds_wfcq_destroy(&mb->head, &mb->tail);
}

/* The control thread's side: every item goes to the consumer, which answers the whole
 * batch at the flush and pushes each item back to its worker. */
static void handoff_on_item(srv_mailbox_t *mb, srv_handoff_item_t *it, void *data)
{
	srv_handoff_t *h = data;
	(void)mb;
	sd_stat_inc(&h->handled);
	h->on_item(h->data, it);
}

static void handoff_on_flush(srv_mailbox_t *mb, void *data)
{
	srv_handoff_t *h = data;
	(void)mb;
	h->on_flush(h->data);
}

int srv_handoff_new(uv_loop_t *loop, srv_handoff_item_fn on_item, srv_handoff_flush_fn on_flush,
                    void *data, srv_handoff_t **out)
{
	srv_handoff_t *h = calloc(1, sizeof(*h));
	*out = NULL;
	if (h == NULL)
		return -ENOMEM;
	h->on_item = on_item;
	h->on_flush = on_flush;
	h->data = data;
	int ret = srv_mailbox_init(&h->box, loop, handoff_on_item, h);
	if (ret < 0) {
		free(h);
		return ret;
	}
	srv_mailbox_set_flush(&h->box, handoff_on_flush);
	*out = h;
	return 0;
}

void srv_handoff_close(srv_handoff_t *h)
{
	if (h != NULL)
		srv_mailbox_close(&h->box);
}

void srv_handoff_free(srv_handoff_t *h)
{
	if (h == NULL)
		return;
	srv_mailbox_drain(&h->box);
	free(h);
}
