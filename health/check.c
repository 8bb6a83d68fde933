/* check.c — one target's probe, a state machine on the health thread's libuv loop.
 *
 *   IDLE ──timer──> CONNECT ──tcp: ok──────────────────────────────> finish ─┐
 *                      │ http ─> HTTP (write GET, parse response) ─> finish ─┤
 *                      └ https ─> TLS (memory BIOs) ─> HTTP ───────> finish ─┤
 *   any phase ──timer (timeout)──> finish                                    │
 *   IDLE <──schedule next──  CLOSING <── uv_close(tcp) <─────────────────────┘
 *
 * The one timer of a target is the timeout while a check runs and the wait for the next one
 * otherwise, so a hanging endpoint holds nothing but its own socket until its own timeout.
 * OpenSSL never touches the socket: ciphertext flows through memory BIOs that the libuv
 * stream fills and drains, so nothing blocks the loop.
 */
#include "health/internal.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void timer_cb(uv_timer_t *timer);

/* ---- request ---- */

static bool is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* The Host header value: the template's host, else the service address; the port is added
 * when it is not the scheme's default (RFC 9110 §7.2). */
static void host_value(const health_target_t *t, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "";
	const char *host = t->tpl->host;
	bool v6 = false;
	if (!host) {
		const void *a =
		    t->addr.ss_family == AF_INET
		        ? (const void *)&((const struct sockaddr_in *)&t->addr)->sin_addr
		        : (const void *)&((const struct sockaddr_in6 *)&t->addr)->sin6_addr;
		inet_ntop(t->addr.ss_family, a, ip, sizeof(ip));
		host = ip;
		v6 = t->addr.ss_family == AF_INET6;
	}
	uint16_t port = health_sockaddr_port(&t->probe);
	uint16_t dflt = t->tpl->type == HEALTH_CHECK_HTTPS ? 443 : 80;
	if (port == dflt)
		snprintf(buf, size, v6 ? "[%s]" : "%s", host);
	else
		snprintf(buf, size, v6 ? "[%s]:%u" : "%s:%u", host, port);
}

int health_check_build_request(health_target_t *t)
{
	if (t->tpl->type == HEALTH_CHECK_TCP)
		return 0;
	char host[HEALTH_NAME_MAX + 16];
	host_value(t, host, sizeof(host));
	int n = asprintf(&t->req,
	                 "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
	                 "User-Agent: steerdns-health\r\nAccept: */*\r\n\r\n",
	                 t->tpl->path, host);
	if (n < 0) {
		t->req = NULL;
		return -ENOMEM;
	}
	t->req_len = (size_t)n;
	return 0;
}

/* ---- scheduling ---- */

/* interval * (1 +- jitter/2), uniformly. */
static uint64_t next_delay(health_target_t *t)
{
	uint64_t iv = t->tpl->interval_ms;
	uint64_t span = iv * t->tpl->jitter_pct / 100;
	if (span == 0)
		return iv;
	return iv - span / 2 + health_rand(t->h) % (span + 1);
}

static void schedule_next(health_target_t *t)
{
	uint64_t now = uv_now(&t->h->loop);
	uint64_t due = t->start_ms + next_delay(t);
	uv_timer_start(&t->timer, timer_cb, due > now ? due - now : 0, 0);
}

static void maybe_free(health_target_t *t)
{
	if (t->dying && t->open_handles == 0)
		health_target_free(t);
}

static void handle_closed(uv_handle_t *handle)
{
	health_target_t *t = handle->data;
	t->open_handles--;
	if (handle == (uv_handle_t *)&t->tcp && t->phase == HEALTH_PH_CLOSING) {
		t->phase = HEALTH_PH_IDLE;
		if (!t->stopped)
			schedule_next(t);
	}
	maybe_free(t);
}

/* ---- finishing a check ---- */

static void free_tls(health_target_t *t)
{
	SSL_free(t->ssl);
	t->ssl = NULL;
}

/* Close without lingering: a probe must not leave TIME_WAIT sockets behind at 10,000
 * checks a second, and the peer has nothing more to tell us. */
static void close_tcp(health_target_t *t)
{
	uv_os_fd_t fd;
	if (uv_fileno((uv_handle_t *)&t->tcp, &fd) == 0) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	t->phase = HEALTH_PH_CLOSING;
	uv_close((uv_handle_t *)&t->tcp, handle_closed);
}

static void finish(health_target_t *t, bool ok, health_res_t res, const char *fmt, ...)
    SD_PRINTF(4, 5);
static void finish(health_target_t *t, bool ok, health_res_t res, const char *fmt, ...)
{
	if (t->phase == HEALTH_PH_IDLE || t->phase == HEALTH_PH_CLOSING)
		return;
	char reason[sizeof(t->reason)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	uv_timer_stop(&t->timer);
	uint64_t ns = uv_hrtime() - t->start_ns;
	health_record(t, ok, res, reason, (uint32_t)(ns / 1000000));
	free_tls(t);
	close_tcp(t);
}

static const char *phase_text(health_phase_t p)
{
	switch (p) {
	case HEALTH_PH_CONNECT:
		return "connecting";
	case HEALTH_PH_TLS:
		return "in the TLS handshake";
	default:
		return "waiting for the response";
	}
}

/* ---- HTTP ---- */

static health_target_t *parser_target(http_parser *p)
{
	return p->data;
}

static void verdict(health_target_t *t, bool ok, health_res_t res)
{
	if (t->verdict_set)
		return;
	t->verdict_set = true;
	t->verdict_ok = ok;
	t->verdict_res = res;
	http_parser_pause(&t->parser, 1);
}

static int on_headers_complete(http_parser *p)
{
	health_target_t *t = parser_target(p);
	t->headers_done = true;
	if (!health_tpl_status_ok(t->tpl, p->status_code))
		verdict(t, false, HEALTH_RES_HTTP_STATUS);
	else if (!t->tpl->expect_body)
		verdict(t, true, HEALTH_RES_OK);
	return 0;
}

/* Streaming substring search (Knuth-Morris-Pratt) so a match split across reads is found
 * without buffering the body. */
static int on_body(http_parser *p, const char *at, size_t len)
{
	health_target_t *t = parser_target(p);
	const health_tpl_t *tpl = t->tpl;
	if (t->verdict_set || !tpl->expect_body)
		return 0;
	size_t room = tpl->body_limit - t->body_seen;
	size_t n = len < room ? len : room;
	uint32_t k = t->kmp_state;
	for (size_t i = 0; i < n; i++) {
		while (k > 0 && at[i] != tpl->expect_body[k])
			k = tpl->kmp[k - 1];
		if (at[i] == tpl->expect_body[k])
			k++;
		if (k == tpl->expect_len) {
			verdict(t, true, HEALTH_RES_OK);
			return 0;
		}
	}
	t->kmp_state = k;
	t->body_seen += (uint32_t)n;
	if (t->body_seen >= tpl->body_limit)
		verdict(t, false, HEALTH_RES_BODY);
	return 0;
}

static int on_message_complete(http_parser *p)
{
	health_target_t *t = parser_target(p);
	verdict(t, false, HEALTH_RES_BODY); /* status and body-less successes decided earlier */
	return 0;
}

static const http_parser_settings parser_settings = {
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void finish_verdict(health_target_t *t)
{
	switch (t->verdict_res) {
	case HEALTH_RES_OK:
		finish(t, true, HEALTH_RES_OK, "HTTP status %u", t->parser.status_code);
		break;
	case HEALTH_RES_HTTP_STATUS:
		finish(t, false, HEALTH_RES_HTTP_STATUS, "HTTP status %u%s", t->parser.status_code,
		       t->parser.status_code / 100 == 3 ? " (redirects are not followed)" : "");
		break;
	default:
		finish(t, false, HEALTH_RES_BODY, "body mismatch: \"%s\" not in the first %u bytes",
		       t->tpl->expect_body, t->tpl->body_limit);
		break;
	}
}

/* Feed response bytes (len 0 = end of stream). Finishes the check when decided. */
static void http_feed(health_target_t *t, const char *data, size_t len)
{
	if (t->verdict_set || t->phase != HEALTH_PH_HTTP)
		return;
	size_t used = http_parser_execute(&t->parser, &parser_settings, data, len);
	enum http_errno e = HTTP_PARSER_ERRNO(&t->parser);
	if (t->verdict_set) {
		finish_verdict(t);
		return;
	}
	if (e != HPE_OK || (len > 0 && used != len)) {
		finish(t, false, HEALTH_RES_PROTO, "invalid HTTP response: %s",
		       http_errno_description(e));
		return;
	}
	if (len == 0)
		finish(t, false, HEALTH_RES_CLOSED, "connection closed %s",
		       t->headers_done ? "in the response body" : "before a complete response");
}

/* ---- TLS over memory BIOs ---- */

static void write_done(uv_write_t *req, int status)
{
	health_target_t *t = req->data;
	free(req);
	if (status < 0 && status != UV_ECANCELED)
		finish(t, false, HEALTH_RES_CONNECT, "write failed: %s", uv_strerror(status));
}

/* Send bytes; data is copied so the caller's buffer may be reused at once. */
static int send_bytes(health_target_t *t, const void *data, size_t len)
{
	uv_write_t *req = malloc(sizeof(*req) + len);
	if (!req)
		return -ENOMEM;
	char *copy = (char *)(req + 1);
	memcpy(copy, data, len);
	req->data = t;
	uv_buf_t buf = uv_buf_init(copy, (unsigned)len);
	int ret = uv_write(req, (uv_stream_t *)&t->tcp, &buf, 1, write_done);
	if (ret < 0)
		free(req);
	return ret;
}

/* Move what OpenSSL wrote into its memory BIO onto the socket. */
static int tls_flush(health_target_t *t)
{
	BIO *wbio = SSL_get_wbio(t->ssl);
	char buf[4096];
	int n;
	while ((n = BIO_read(wbio, buf, sizeof(buf))) > 0) {
		int ret = send_bytes(t, buf, (size_t)n);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void tls_fail(health_target_t *t, const char *when)
{
	long vr = SSL_get_verify_result(t->ssl);
	if (vr != X509_V_OK) {
		finish(t, false, HEALTH_RES_TLS_VERIFY, "TLS verify error: %s",
		       X509_verify_cert_error_string(vr));
		return;
	}
	unsigned long e = ERR_peek_last_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;
	finish(t, false, HEALTH_RES_TLS, "TLS %s failed: %s", when, why ? why : "unexpected EOF");
}

/* Drive the handshake, then the request and the decrypted response. */
static void tls_step(health_target_t *t)
{
	ERR_clear_error();
	if (!t->hs_done) {
		int r = SSL_do_handshake(t->ssl);
		if (r != 1) {
			int e = SSL_get_error(t->ssl, r);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				tls_fail(t, "handshake");
				return;
			}
			if (tls_flush(t) < 0)
				finish(t, false, HEALTH_RES_CONNECT, "write failed");
			return;
		}
		t->hs_done = true;
		t->phase = HEALTH_PH_HTTP;
		if (SSL_write(t->ssl, t->req, (int)t->req_len) != (int)t->req_len) {
			tls_fail(t, "write");
			return;
		}
	}
	if (tls_flush(t) < 0) {
		finish(t, false, HEALTH_RES_CONNECT, "write failed");
		return;
	}
	while (t->phase == HEALTH_PH_HTTP) {
		int n = SSL_read(t->ssl, t->h->pbuf, sizeof(t->h->pbuf));
		if (n > 0) {
			http_feed(t, t->h->pbuf, (size_t)n);
			continue;
		}
		int e = SSL_get_error(t->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			return;
		if (e == SSL_ERROR_ZERO_RETURN) { /* close_notify: the end of the response */
			http_feed(t, NULL, 0);
			return;
		}
		tls_fail(t, "read");
		return;
	}
}

static int tls_begin(health_target_t *t)
{
	const health_tpl_t *tpl = t->tpl;
	SSL *ssl = SSL_new(tpl->ssl_ctx);
	BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
	if (!ssl || !rbio || !wbio) {
		SSL_free(ssl);
		BIO_free(rbio);
		BIO_free(wbio);
		return -ENOMEM;
	}
	SSL_set_bio(ssl, rbio, wbio);
	SSL_set_connect_state(ssl);
	t->ssl = ssl;
	char ip[INET6_ADDRSTRLEN] = "";
	const char *name = tpl->host;
	if (!name) {
		const struct sockaddr_storage *a = &t->addr;
		inet_ntop(a->ss_family,
		          a->ss_family == AF_INET
		              ? (const void *)&((const struct sockaddr_in *)a)->sin_addr
		              : (const void *)&((const struct sockaddr_in6 *)a)->sin6_addr,
		          ip, sizeof(ip));
		name = ip;
	}
	bool literal = is_ip_literal(name);
	/* SNI carries host names only, never address literals (RFC 6066 §3). */
	if (!literal && !SSL_set_tlsext_host_name(ssl, name))
		return SD_ETLS;
	if (tpl->insecure)
		return 0;
	X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	int ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(param, name)
	                 : X509_VERIFY_PARAM_set1_host(param, name, 0);
	return ok ? 0 : SD_ETLS;
}

/* ---- socket ---- */

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	health_target_t *t = handle->data;
	*buf = uv_buf_init(t->h->rbuf, sizeof(t->h->rbuf));
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	health_target_t *t = stream->data;
	if (nread == 0 || t->phase == HEALTH_PH_CLOSING || t->phase == HEALTH_PH_IDLE)
		return;
	if (nread < 0 && nread != UV_EOF) {
		finish(t, false, HEALTH_RES_CLOSED, "read failed: %s", uv_strerror((int)nread));
		return;
	}
	if (!t->ssl) {
		http_feed(t, nread > 0 ? buf->base : NULL, nread > 0 ? (size_t)nread : 0);
		return;
	}
	if (nread == UV_EOF) {
		if (!t->hs_done) {
			tls_fail(t, "handshake");
			return;
		}
		tls_step(t); /* drain what is buffered, then the end of stream */
		http_feed(t, NULL, 0);
		return;
	}
	BIO_write(SSL_get_rbio(t->ssl), buf->base, (int)nread);
	tls_step(t);
}

static void connect_cb(uv_connect_t *req, int status)
{
	health_target_t *t = req->data;
	if (status == UV_ECANCELED || t->phase != HEALTH_PH_CONNECT)
		return;
	if (status < 0) {
		finish(t, false,
		       status == UV_ECONNREFUSED ? HEALTH_RES_REFUSED : HEALTH_RES_CONNECT,
		       "connect failed: %s", uv_strerror(status));
		return;
	}
	const health_tpl_t *tpl = t->tpl;
	if (tpl->type == HEALTH_CHECK_TCP) {
		finish(t, true, HEALTH_RES_OK, "connected");
		return;
	}
	http_parser_init(&t->parser, HTTP_RESPONSE);
	t->parser.data = t;
	int ret = uv_read_start((uv_stream_t *)&t->tcp, alloc_cb, read_cb);
	if (ret == 0 && tpl->type == HEALTH_CHECK_HTTPS) {
		t->phase = HEALTH_PH_TLS;
		ret = tls_begin(t);
		if (ret == 0)
			tls_step(t);
	} else if (ret == 0) {
		t->phase = HEALTH_PH_HTTP;
		ret = send_bytes(t, t->req, t->req_len);
	}
	if (ret < 0)
		finish(t, false, HEALTH_RES_CONNECT, "cannot start the request: %s",
		       ret > SD_EBASE ? uv_strerror(ret) : sd_strerror(ret));
}

static void check_start(health_target_t *t)
{
	struct health *h = t->h;
	t->start_ms = uv_now(&h->loop);
	t->start_ns = uv_hrtime();
	t->verdict_set = t->headers_done = t->hs_done = false;
	t->body_seen = t->kmp_state = 0;
	atomic_fetch_add_explicit(&h->st_started, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->st_hist[(t->start_ms % 1000) / 100], 1, memory_order_relaxed);
	int ret = uv_tcp_init(&h->loop, &t->tcp);
	if (ret < 0) {
		/* No socket (EMFILE...): a failed check, retried at the next interval. */
		t->phase = HEALTH_PH_CONNECT;
		uv_timer_stop(&t->timer);
		char reason[128];
		snprintf(reason, sizeof(reason), "cannot create a socket: %s", uv_strerror(ret));
		health_record(t, false, HEALTH_RES_CONNECT, reason, 0);
		t->phase = HEALTH_PH_IDLE;
		schedule_next(t);
		return;
	}
	t->open_handles++;
	t->tcp.data = t;
	t->conn.data = t;
	t->phase = HEALTH_PH_CONNECT;
	uv_timer_start(&t->timer, timer_cb, t->tpl->timeout_ms, 0);
	ret = uv_tcp_connect(&t->conn, &t->tcp, (const struct sockaddr *)&t->probe, connect_cb);
	if (ret < 0)
		finish(t, false, ret == UV_ECONNREFUSED ? HEALTH_RES_REFUSED : HEALTH_RES_CONNECT,
		       "connect failed: %s", uv_strerror(ret));
}

static void timer_cb(uv_timer_t *timer)
{
	health_target_t *t = timer->data;
	if (t->phase == HEALTH_PH_IDLE) {
		check_start(t);
		return;
	}
	finish(t, false, HEALTH_RES_TIMEOUT, "timeout after %u ms %s", t->tpl->timeout_ms,
	       phase_text(t->phase));
}

/* ---- commands ---- */

void health_check_begin(health_target_t *t)
{
	struct health *h = t->h;
	t->started = true;
	uv_timer_init(&h->loop, &t->timer);
	t->timer.data = t;
	t->open_handles++;
	/* The first check lands uniformly within one interval, so a start or a reload with
	 * 10,000 targets does not fire them together. */
	uv_timer_start(&t->timer, timer_cb, health_rand(h) % t->tpl->interval_ms, 0);
}

/* Abort the running check and close the handles; the target stays allocated. */
void health_check_shutdown(health_target_t *t)
{
	if (!t->started || t->stopped)
		return;
	t->stopped = true;
	if (t->phase != HEALTH_PH_IDLE && t->phase != HEALTH_PH_CLOSING) {
		free_tls(t);
		close_tcp(t);
	}
	uv_close((uv_handle_t *)&t->timer, handle_closed);
}

void health_check_end(health_target_t *t)
{
	t->dying = true;
	if (!t->started || (t->stopped && t->open_handles == 0)) {
		health_target_free(t);
		return;
	}
	health_check_shutdown(t);
}
