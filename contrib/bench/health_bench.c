/* health_bench — the prober at scale (a benchmark, not a test).
 *
 *   health_bench [TARGETS=10000] [SECONDS=10] [tcp|http] [INTERVAL=1s]
 *
 * Starts a loopback server on its own thread and libuv loop (tcp: accept and close; http:
 * read the request, answer 200 with "ok" and close), points TARGETS targets at it, runs the
 * prober for SECONDS and prints: checks completed per second, failures, CPU used by the
 * health thread ("sd-health", from /proc/self/task/TID/stat) as a share of one core, and the
 * spread of check start times over the tenths of a second (an even spread means jitter and
 * the initial spreading keep 10,000 targets from firing together).
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "contrib/base/conf.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "health/health.h"

static uv_loop_t srv_loop;
static uv_tcp_t srv_listener;
static uv_async_t srv_stop;
static bool srv_http;
static const char http_reply[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

typedef struct {
	uv_tcp_t tcp;
	uv_write_t wr;
	bool answered;
} conn_t;

static void conn_closed(uv_handle_t *h)
{
	free(h->data);
}

static void conn_alloc(uv_handle_t *h, size_t n, uv_buf_t *buf)
{
	static char rbuf[65536];
	*buf = uv_buf_init(rbuf, sizeof(rbuf));
}

static void conn_written(uv_write_t *req, int status)
{
	conn_t *c = req->data;
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	conn_t *c = s->data;
	if (n < 0) {
		if (!uv_is_closing((uv_handle_t *)s))
			uv_close((uv_handle_t *)s, conn_closed);
		return;
	}
	if (n == 0 || c->answered || !memmem(buf->base, (size_t)n, "\r\n\r\n", 4))
		return;
	c->answered = true;
	uv_read_stop(s);
	uv_buf_t out = uv_buf_init((char *)http_reply, sizeof(http_reply) - 1);
	c->wr.data = c;
	if (uv_write(&c->wr, s, &out, 1, conn_written) < 0)
		uv_close((uv_handle_t *)s, conn_closed);
}

static void on_conn(uv_stream_t *server, int status)
{
	if (status < 0)
		return;
	conn_t *c = calloc(1, sizeof(*c));
	uv_tcp_init(&srv_loop, &c->tcp);
	c->tcp.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 || !srv_http) {
		uv_close((uv_handle_t *)&c->tcp, conn_closed);
		return;
	}
	uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
}

static void close_walk(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, h->data && h != (uv_handle_t *)&srv_listener &&
		                    h != (uv_handle_t *)&srv_stop
		                ? conn_closed
		                : NULL);
}

static void on_stop(uv_async_t *a)
{
	uv_walk(&srv_loop, close_walk, NULL);
}

static void server_main(void *arg)
{
	uv_run(&srv_loop, UV_RUN_DEFAULT);
}

/* utime + stime of the thread named sd-health, in clock ticks. */
static long long health_thread_ticks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	long long ticks = -1;
	while (d && (e = readdir(d))) {
		char path[300], comm[64] = "", stat[1024];
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		(void)!fgets(comm, sizeof(comm), f);
		fclose(f);
		if (strncmp(comm, "sd-health", 9) != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (f && fgets(stat, sizeof(stat), f)) {
			const char *p = strrchr(stat, ')');
			unsigned long long ut = 0, st = 0;
			/* fields after the comm: state ppid pgrp session tty tpgid flags minflt
			 * cminflt majflt cmajflt utime stime */
			if (p &&
			    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			           &ut, &st) == 2)
				ticks = (long long)(ut + st);
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return ticks;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *make_config(unsigned n, int port, const char *type, const char *interval)
{
	size_t cap = 256 + (size_t)n * 96;
	char *y = malloc(cap);
	size_t len = (size_t)snprintf(y, cap,
	                              "health:\n  templates:\n    - {name: b, type: %s, port: %d, "
	                              "interval: %s, timeout: 2s, jitter: 10%%}\n  targets:\n",
	                              type, port, interval);
	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(y + len, cap - len,
		                        "    - {name: t%u, address: 127.0.0.1, template: b}\n", i);
	return y;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 10000;
	int seconds = argc > 2 ? atoi(argv[2]) : 10;
	const char *type = argc > 3 ? argv[3] : "http";
	const char *interval = argc > 4 ? argv[4] : "1s";
	srv_http = strcmp(type, "http") == 0;
	log_setup(false, LOG_LEVEL_WARNING);

	uv_loop_init(&srv_loop);
	uv_tcp_init(&srv_loop, &srv_listener);
	uv_async_init(&srv_loop, &srv_stop, on_stop);
	struct sockaddr_in sin;
	uv_ip4_addr("127.0.0.1", 0, &sin);
	int ret = uv_tcp_bind(&srv_listener, (struct sockaddr *)&sin, 0);
	if (ret == 0)
		ret = uv_listen((uv_stream_t *)&srv_listener, 4096, on_conn);
	int namelen = sizeof(sin);
	uv_tcp_getsockname(&srv_listener, (struct sockaddr *)&sin, &namelen);
	if (ret < 0) {
		fprintf(stderr, "listen: %s\n", uv_strerror(ret));
		return 1;
	}
	uv_thread_t srv_thread;
	uv_thread_create(&srv_thread, server_main, NULL);

	char *yaml = make_config(n, ntohs(sin.sin_port), type, interval);
	conf_doc_t *doc = NULL;
	health_conf_t *conf = NULL;
	health_t *h = NULL;
	conf_ctx_t ctx = {0};
	if (conf_load_string(yaml, "bench", &doc) < 0 ||
	    health_conf_parse(&ctx, conf_get(conf_root(doc), "health"), ".", &conf) < 0 ||
	    health_new(conf, &h) < 0 || health_start(h) < 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	free(yaml);
	conf_free(doc);
	health_conf_free(conf);

	/* Skip the first interval (the initial spreading), then measure. */
	sleep(2);
	health_stats_t s0, s1;
	health_stats(h, &s0);
	long long c0 = health_thread_ticks();
	double t0 = now_s();
	sleep((unsigned)seconds);
	health_stats(h, &s1);
	long long c1 = health_thread_ticks();
	double dt = now_s() - t0;
	double hz = (double)sysconf(_SC_CLK_TCK);

	uint64_t done = s1.checks_done - s0.checks_done;
	printf("targets %u, type %s, interval %s, measured %.1f s\n", n, type, interval, dt);
	printf("checks completed: %.0f/s (failed %llu)\n", (double)done / dt,
	       (unsigned long long)(s1.checks_failed - s0.checks_failed));
	printf("health thread CPU: %.1f%% of one core\n",
	       c0 >= 0 && c1 >= 0 ? 100.0 * (double)(c1 - c0) / hz / dt : -1.0);
	uint64_t lo = UINT64_MAX, hi = 0, total = 0;
	printf("check starts per tenth of a second:");
	for (int i = 0; i < 10; i++) {
		uint64_t v = s1.start_hist[i] - s0.start_hist[i];
		printf(" %llu", (unsigned long long)v);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		total += v;
	}
	printf("\nspread: min/max bucket %.2f (1.00 = perfectly even), mean %.0f per bucket\n",
	       hi ? (double)lo / (double)hi : 0.0, (double)total / 10.0);

	health_free(h);
	uv_async_send(&srv_stop);
	uv_thread_join(&srv_thread);
	uv_loop_close(&srv_loop);
	return 0;
}
