/* test_notify.c — NOTIFY out against a fake secondary on 127.0.0.1 (a libuv UDP socket in the
 * same loop): message contents (checked with ldns), TSIG both ways, retries with backoff,
 * giving up, replacement by a newer serial, and responses that must not count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "contrib/base/err.h"
#include "contrib/base/bytes.h"
#include "dns/name.h"
#include "dns/proto.h"
#include "server/xfr/notify.h"

typedef struct secondary {
	uv_udp_t sock;
	const tsig_key_t *key; /* expect and sign with this key */
	unsigned received;
	unsigned ignore_first; /* do not answer the first N */
	bool bad_id_first;     /* answer the first one with a wrong ID (must be ignored) */
	uint8_t rcode;
	uint32_t last_serial;
	bool last_signed;
} secondary_t;

static uint8_t apex[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};
static uint8_t soa[64];
static uint16_t soa_len;

static void make_soa(uint32_t serial)
{
	static const uint8_t names[] = {3, 'n', 's', '1', 0, 2, 'h', 'm', 0};
	memcpy(soa, names, sizeof(names));
	soa_len = sizeof(names);
	uint32_t v[5] = {serial, 7200, 900, 1209600, 300};
	for (int i = 0; i < 5; i++, soa_len += 4)
		be32_put(soa + soa_len, v[i]);
}

static void on_alloc(uv_handle_t *h, size_t s, uv_buf_t *buf)
{
	static char mem[4096];
	*buf = uv_buf_init(mem, sizeof(mem));
}

static void on_secondary_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
                              const struct sockaddr *from, unsigned flags)
{
	secondary_t *s = h->data;
	if (n <= 0)
		return;
	s->received++;
	const uint8_t *m = (const uint8_t *)buf->base;
	ldns_pkt *p = NULL;
	assert_int_equal(ldns_wire2pkt(&p, m, (size_t)n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_NOTIFY);
	assert_true(ldns_pkt_aa(p));
	assert_false(ldns_pkt_qr(p));
	assert_int_equal(ldns_pkt_qdcount(p), 1);
	ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	assert_int_equal(ldns_rr_get_type(q), LDNS_RR_TYPE_SOA);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_rr *a = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	assert_int_equal(ldns_rr_get_type(a), LDNS_RR_TYPE_SOA);
	s->last_serial = ldns_rdf2native_int32(ldns_rr_rdf(a, 2));
	s->last_signed = ldns_pkt_tsig(p) != NULL;
	ldns_pkt_free(p);

	tsig_ctx_t ctx;
	if (s->key != NULL) {
		const tsig_key_t *keys[] = {s->key};
		assert_int_equal(tsig_verify_request(&ctx, keys, 1, m, (size_t)n, time(NULL)), 0);
	}
	if (s->received <= s->ignore_first)
		return;
	/* response: header with QR, the question echoed */
	static uint8_t r[1024];
	size_t qend = 12;
	while (m[qend] != 0)
		qend += m[qend] + 1u;
	qend += 5;
	memcpy(r, m, qend);
	uint16_t fl = (uint16_t)((DNS_OPCODE_NOTIFY << 11) | DNS_FLAG_QR | DNS_FLAG_AA | s->rcode);
	be16_put(r + 2, fl);
	be16_put(r + 6, 0);
	be16_put(r + 8, 0);
	be16_put(r + 10, 0);
	if (s->bad_id_first && s->received == s->ignore_first + 1)
		be16_put(r, (uint16_t)(be16_get(r) + 1));
	size_t len = qend;
	if (s->key != NULL)
		assert_int_equal(tsig_sign(&ctx, r, &len, sizeof(r), time(NULL)), 0);
	uv_buf_t b = uv_buf_init((char *)r, (unsigned)len);
	assert_true(uv_udp_try_send(h, &b, 1, from) > 0);
}

typedef struct env {
	uv_loop_t loop;
	secondary_t sec;
	xfr_notify_target_t target;
	xfr_notifier_t *n;
	uv_timer_t stop;
} env_t;

static void env_init(env_t *e, unsigned base_ms, unsigned tries)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(uv_loop_init(&e->loop), 0);
	assert_int_equal(uv_udp_init(&e->loop, &e->sec.sock), 0);
	e->sec.sock.data = &e->sec;
	struct sockaddr_in a;
	uv_ip4_addr("127.0.0.1", 0, &a);
	assert_int_equal(uv_udp_bind(&e->sec.sock, (const struct sockaddr *)&a, 0), 0);
	int len = sizeof(a);
	assert_int_equal(uv_udp_getsockname(&e->sec.sock, (struct sockaddr *)&a, &len), 0);
	char t[64];
	snprintf(t, sizeof(t), "127.0.0.1:%u", ntohs(a.sin_port));
	assert_int_equal(xfr_notify_target_parse(t, &e->target), 0);
	assert_int_equal(uv_udp_recv_start(&e->sec.sock, on_alloc, on_secondary_recv), 0);
	assert_int_equal(xfr_notifier_new(&e->loop, base_ms, tries, &e->n), 0);
	uv_timer_init(&e->loop, &e->stop);
	e->stop.data = e;
}

static void on_poll(uv_timer_t *t)
{
	env_t *e = t->data;
	if (xfr_notifier_pending(e->n) == 0)
		uv_stop(&e->loop);
}

/* Run until nothing is pending, at most max_ms. */
static void env_run(env_t *e, unsigned max_ms)
{
	uint64_t end = uv_now(&e->loop) + max_ms;
	uv_timer_start(&e->stop, on_poll, 5, 5);
	while (xfr_notifier_pending(e->n) > 0 && uv_now(&e->loop) < end)
		uv_run(&e->loop, UV_RUN_ONCE);
	uv_timer_stop(&e->stop);
}

static void env_done(env_t *e)
{
	xfr_notifier_close(e->n);
	uv_close((uv_handle_t *)&e->sec.sock, NULL);
	uv_close((uv_handle_t *)&e->stop, NULL);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&e->loop), 0);
}

static void test_notify_acked(void **state)
{
	env_t e;
	env_init(&e, 1000, 5);
	make_soa(2024060101);
	assert_int_equal(xfr_notify_zone(e.n, apex, 3600, soa, soa_len, &e.target, 1), 0);
	assert_int_equal(xfr_notifier_pending(e.n), 1);
	env_run(&e, 3000);
	assert_int_equal(xfr_notifier_pending(e.n), 0);
	assert_int_equal(e.sec.received, 1);
	assert_int_equal(e.sec.last_serial, 2024060101);
	assert_false(e.sec.last_signed);
	assert_int_equal(xfr_notifier_stats(e.n)->acked, 1);
	assert_int_equal(xfr_notifier_stats(e.n)->sent, 1);
	xfr_notify_status_t st;
	assert_int_equal(xfr_notifier_target_status(e.n, apex, &e.target, &st), 0);
	assert_int_equal(st.state, XFR_NOTIFY_ACKED);
	assert_true(st.has_acked);
	assert_int_equal(st.acked_serial, 2024060101);
	/* another zone was never notified */
	static const uint8_t other[] = {3, 'o', 'r', 'g', 0};
	assert_int_equal(xfr_notifier_target_status(e.n, other, &e.target, &st), SD_ENOTFOUND);
	assert_int_equal(st.state, XFR_NOTIFY_NONE);
	env_done(&e);
}

static void test_notify_tsig(void **state)
{
	tsig_key_t key;
	assert_int_equal(tsig_key_init(&key, "notify-key.", "hmac-sha256",
	                               "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ=="),
	                 0);
	env_t e;
	env_init(&e, 1000, 5);
	e.sec.key = &key;
	tsig_key_t cfg_key = key; /* the configuration's copy, freed by a reload */
	e.target.key = &cfg_key;
	make_soa(7);
	assert_int_equal(xfr_notify_zone(e.n, apex, 3600, soa, soa_len, &e.target, 1), 0);
	memset(&cfg_key, 0, sizeof(cfg_key)); /* a pending NOTIFY keeps its own copy */
	env_run(&e, 3000);
	assert_true(e.sec.last_signed);
	assert_int_equal(xfr_notifier_stats(e.n)->acked, 1);
	env_done(&e);
}

static void test_notify_retries_then_ack(void **state)
{
	env_t e;
	env_init(&e, 20, 5);
	e.sec.ignore_first = 2;
	e.sec.bad_id_first = true; /* the third send gets a wrong-ID answer: ignored */
	make_soa(9);
	uint64_t t0 = uv_now(&e.loop);
	assert_int_equal(xfr_notify_zone(e.n, apex, 3600, soa, soa_len, &e.target, 1), 0);
	xfr_notify_status_t st;
	assert_int_equal(xfr_notifier_target_status(e.n, apex, &e.target, &st), 0);
	assert_int_equal(st.state, XFR_NOTIFY_PENDING);
	assert_int_equal(st.serial, 9);
	assert_int_equal(st.sends_left, 4); /* one of five sent */
	assert_false(st.has_acked);
	env_run(&e, 3000);
	assert_int_equal(xfr_notifier_pending(e.n), 0);
	assert_int_equal(e.sec.received, 4);
	assert_int_equal(xfr_notifier_stats(e.n)->sent, 4);
	assert_int_equal(xfr_notifier_stats(e.n)->acked, 1);
	/* backoff: sends at 0, 20, 60, 140 ms */
	assert_true(uv_now(&e.loop) - t0 >= 140);
	env_done(&e);
}

static void test_notify_gives_up(void **state)
{
	env_t e;
	env_init(&e, 10, 3);
	e.sec.ignore_first = 100;
	make_soa(10);
	assert_int_equal(xfr_notify_zone(e.n, apex, 3600, soa, soa_len, &e.target, 1), 0);
	env_run(&e, 3000);
	assert_int_equal(xfr_notifier_pending(e.n), 0);
	assert_int_equal(e.sec.received, 3);
	assert_int_equal(xfr_notifier_stats(e.n)->failed, 1);
	assert_int_equal(xfr_notifier_stats(e.n)->acked, 0);
	xfr_notify_status_t st;
	assert_int_equal(xfr_notifier_target_status(e.n, apex, &e.target, &st), 0);
	assert_int_equal(st.state, XFR_NOTIFY_FAILED);
	assert_int_equal(st.sends_left, 0);
	/* a new serial restarts the finished record */
	e.sec.ignore_first = 0;
	make_soa(13);
	assert_int_equal(xfr_notify_zone(e.n, apex, 3600, soa, soa_len, &e.target, 1), 0);
	assert_int_equal(xfr_notifier_pending(e.n), 1);
	env_run(&e, 3000);
	assert_int_equal(xfr_notifier_target_status(e.n, apex, &e.target, &st), 0);
	assert_int_equal(st.state, XFR_NOTIFY_ACKED);
	assert_int_equal(st.acked_serial, 13);
	env_done(&e);
}

static void test_notify_replaced_and_rejected(void **state)
{
	env_t e;
	env_init(&e, 1000, 5);
	e.sec.rcode = 5; /* REFUSED: a response, so no more retries */
	make_soa(11);
	assert_int_equal(xfr_notify_zone(e.n, apex, 3600, soa, soa_len, &e.target, 1), 0);
	make_soa(12);
	assert_int_equal(xfr_notify_zone(e.n, apex, 3600, soa, soa_len, &e.target, 1), 0);
	assert_int_equal(xfr_notifier_pending(e.n), 1);
	env_run(&e, 3000);
	assert_int_equal(xfr_notifier_pending(e.n), 0);
	assert_int_equal(e.sec.last_serial, 12);
	assert_int_equal(xfr_notifier_stats(e.n)->rejected, 1);
	xfr_notify_status_t st;
	assert_int_equal(xfr_notifier_target_status(e.n, apex, &e.target, &st), 0);
	assert_int_equal(st.state, XFR_NOTIFY_REJECTED);
	assert_int_equal(st.rcode, 5);
	assert_int_equal(st.serial, 12);
	env_done(&e);
}

static void test_target_parse(void **state)
{
	xfr_notify_target_t t;
	assert_int_equal(xfr_notify_target_parse("192.0.2.1", &t), 0);
	assert_int_equal(ntohs(((struct sockaddr_in *)&t.addr)->sin_port), 53);
	assert_int_equal(xfr_notify_target_parse("192.0.2.1:5300", &t), 0);
	assert_int_equal(ntohs(((struct sockaddr_in *)&t.addr)->sin_port), 5300);
	assert_int_equal(xfr_notify_target_parse("[::1]:5301", &t), 0);
	assert_int_equal(t.addr.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&t.addr)->sin6_port), 5301);
	assert_int_equal(xfr_notify_target_parse("2001:db8::1", &t), 0);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&t.addr)->sin6_port), 53);
	assert_int_equal(xfr_notify_target_parse("192.0.2.1:0", &t), SD_EPARSE);
	assert_int_equal(xfr_notify_target_parse("192.0.2.1:70000", &t), SD_EPARSE);
	assert_int_equal(xfr_notify_target_parse("host.example:53", &t), SD_EPARSE);
	assert_int_equal(xfr_notify_target_parse("[::1", &t), SD_EPARSE);
	assert_int_equal(xfr_notify_target_parse("", &t), SD_EPARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_target_parse),
	    cmocka_unit_test(test_notify_acked),
	    cmocka_unit_test(test_notify_tsig),
	    cmocka_unit_test(test_notify_retries_then_ack),
	    cmocka_unit_test(test_notify_gives_up),
	    cmocka_unit_test(test_notify_replaced_and_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
