/* test_frontdoor.c — the published view (one pointer, swapped with one grace period) and the
 * mailboxes between workers and the control thread: items pushed from other threads arrive
 * in order on the owner's loop; a handed-off UPDATE is answered NOTIMP (the engine's bytes)
 * and signed when the request was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "server/front.h"
#include "server/handoff.h"
#include "server/view.h"

static void test_view_swap(void **state)
{
	(void)state;
	rcu_register_thread();
	rcu_thread_offline();
	srv_views_t views = {0};
	srv_answer_conf_t conf = {.identity = NULL, .udp_max_payload = 1232};
	srv_view_t *v1 = NULL, *v2 = NULL;
	assert_int_equal(srv_view_new(NULL, NULL, &conf, &v1), 0);
	assert_int_equal(srv_view_new(NULL, NULL, &conf, &v2), 0);
	srv_view_swap(&views, v1);
	rcu_thread_online();
	assert_ptr_equal(srv_view_current(&views), v1);
	assert_ptr_equal(srv_view_current(&views)->answer, &conf);
	assert_null(srv_view_current(&views)->steering);
	rcu_thread_offline();
	srv_view_swap(&views, v2); /* frees v1 after the grace period (ASan checks) */
	rcu_thread_online();
	assert_ptr_equal(srv_view_current(&views), v2);
	rcu_thread_offline();
	srv_view_swap(&views, NULL);
	assert_null(views.current);
	rcu_unregister_thread();
}

typedef struct {
	uv_loop_t loop;
	srv_mailbox_t box;
	unsigned got;
	uint8_t last;
	bool in_order;
} box_fx_t;

static void on_item(srv_mailbox_t *mb, srv_handoff_item_t *it, void *data)
{
	box_fx_t *f = data;
	(void)mb;
	if (f->got > 0 && it->msg[0] != (uint8_t)(f->last + 1))
		f->in_order = false;
	f->last = it->msg[0];
	if (++f->got == 200)
		uv_stop(&f->loop);
	srv_handoff_item_free(it);
}

static void on_guard(uv_timer_t *t)
{
	uv_stop(t->loop); /* items missing: the assertions below fail */
}

static void *pusher(void *arg)
{
	box_fx_t *f = arg;
	for (unsigned i = 0; i < 200; i++) {
		uint8_t b = (uint8_t)i;
		srv_mailbox_push(&f->box, srv_handoff_item_new(&b, 1));
	}
	return NULL;
}

static void test_mailbox_cross_thread(void **state)
{
	(void)state;
	box_fx_t f = {.in_order = true};
	assert_int_equal(uv_loop_init(&f.loop), 0);
	assert_int_equal(srv_mailbox_init(&f.box, &f.loop, on_item, &f), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, pusher, &f), 0);
	/* the async handle is unreferenced: keep the loop alive until every item came */
	uv_timer_t guard;
	uv_timer_init(&f.loop, &guard);
	uv_timer_start(&guard, on_guard, 5000, 0);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	pthread_join(t, NULL);
	assert_int_equal(f.got, 200);
	assert_true(f.in_order);
	/* an item left in the queue at shutdown is freed by drain (ASan checks) */
	uint8_t b = 0;
	srv_mailbox_push(&f.box, srv_handoff_item_new(&b, 1));
	srv_mailbox_close(&f.box);
	uv_close((uv_handle_t *)&guard, NULL);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	srv_mailbox_drain(&f.box);
	assert_int_equal(uv_loop_close(&f.loop), 0);
}

/* UPDATE example.com, one A to add, with or without OPT. */
static size_t update_msg(uint8_t *m, bool edns)
{
	static const uint8_t hdr[] = {0x12, 0x34, 0x28, 0, 0, 1, 0, 0, 0, 1, 0, 0};
	static const uint8_t zone[] = {7,   'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,
	                               'c', 'o', 'm', 0,   0,   6,   0,   1};
	static const uint8_t add[] = {3, 'n', 'e', 'w', 0xc0, 12, 0,   1, 0, 1,
	                              0, 0,   1,   44,  0,    4,  192, 0, 2, 99};
	static const uint8_t opt[] = {0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0};
	size_t n = 0;
	memcpy(m, hdr, sizeof(hdr));
	n += sizeof(hdr);
	memcpy(m + n, zone, sizeof(zone));
	n += sizeof(zone);
	memcpy(m + n, add, sizeof(add));
	n += sizeof(add);
	if (edns) {
		m[11] = 1;
		memcpy(m + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	return n;
}

/* A signed UPDATE: verified by the front door, the signer travels with a copy of the key,
 * and the reply made elsewhere is signed (the TSIG RR is the reply's last record). */
static void test_handoff_signed(void **state)
{
	(void)state;
	tsig_key_t key;
	assert_int_equal(tsig_key_init(&key, "k.", "hmac-sha256",
	                               "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ=="),
	                 0);
	const tsig_key_t *keys[] = {&key};
	xfr_env_t env = {.keys = keys, .nkeys = 1, .udp_payload = 1232};
	srv_answer_conf_t conf = {.identity = NULL, .udp_max_payload = 1232};
	srv_answer_ctx_t *actx = NULL;
	assert_int_equal(srv_answer_ctx_new(&conf, &actx), 0);
	static uint8_t m[1024], buf[SRV_RESPONSE_MAX + TSIG_RR_MAX];
	size_t n = update_msg(m, false);
	tsig_ctx_t client;
	tsig_ctx_init(&client, &key);
	assert_int_equal(tsig_sign_request(&client, m, &n, sizeof(m), time(NULL)), 0);
	srv_view_t view = {.xfr = &env, .answer = &conf};
	srv_request_t out = {
	    .msg = m, .msg_len = n, .now = time(NULL), .buf = buf, .cap = sizeof(buf)};
	srv_front_stats_t st = {0};
	assert_int_equal(srv_process(&view, actx, &st, &out), SRV_PROCESS_HANDOFF);
	assert_true(out.q.tsig_at_end);
	assert_int_equal(st.tsig_ok, 1);
	assert_true(out.signer.active);
	srv_signer_t moved = out.signer; /* as the item copy does */
	memset(&out.signer, 0xa5, sizeof(out.signer));
	memset(&key, 0, sizeof(key)); /* the view's key may be gone by now */
	assert_int_equal(tsig_key_init(&key, "k.", "hmac-sha256",
	                               "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ=="),
	                 0);
	/* a reply made on the control thread (server/update.c): header only, signed there */
	memset(buf, 0, DNS_HEADER_LEN);
	memcpy(buf, m, 4);
	buf[2] |= 0x80;
	size_t r = DNS_HEADER_LEN;
	assert_true(srv_signer_reserve(&moved) > 0);
	assert_int_equal(srv_signer_sign(&moved, buf, &r, sizeof(buf), time(NULL)), 0);
	assert_true(r > DNS_HEADER_LEN);
	assert_int_equal(buf[11], 1); /* the TSIG RR */
	assert_int_equal(tsig_verify_response(&client, buf, r, time(NULL)), 0);
	/* unsigned: nothing added */
	srv_signer_t none = {.active = false};
	r = DNS_HEADER_LEN;
	assert_int_equal(srv_signer_reserve(&none), 0);
	assert_int_equal(srv_signer_sign(&none, buf, &r, sizeof(buf), time(NULL)), 0);
	assert_int_equal(r, DNS_HEADER_LEN);
	srv_answer_ctx_free(actx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_view_swap),
	    cmocka_unit_test(test_mailbox_cross_thread),
	    cmocka_unit_test(test_handoff_signed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
