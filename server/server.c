#include "server/server.h"

#include "dns/msg.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "health/ctl.h"
#include "server/control.h"
#include "server/drift.h"
#include "server/lag.h"
#include "server/metrics.h"
#include "contrib/base/stat.h"
#include "server/engine/answer.h"
#include "server/audit.h"
#include "server/zonehist.h"
#include "server/handoff.h"
#include "server/update.h"
#include "server/steer.h"
#include "server/worker.h"
#include "server/xfr/zoneconf.h"
#include "server/zonedb.h"
#include "steerdns_version.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <urcu-qsbr.h>
#include <uv.h>

struct srv_server {
	srv_config_t *cfg; /* the configuration the process started with (server settings) */
	srv_cli_t cli;
	uv_loop_t loop;
	bool loop_ready;
	uv_signal_t sig_hup, sig_term, sig_int;
	unsigned nsignals;
	srv_control_t *control;
	srv_answer_conf_t answer_conf;
	srv_views_t views; /* the one published view (server/view.h): zonedb writes, workers read */
	srv_zonedb_t *zones;
	xfr_notifier_t *notifier;
	srv_handoff_t *handoff; /* UPDATEs from the workers (server/handoff.h) */
	srv_update_t *update;   /* ... answered in batches (server/update.h) */
	srv_audit_t *audit;     /* one line per UPDATE (server/audit.h) */
	unsigned exports;       /* steerctl zone export to stdout: temporary file names */
	health_t *health;       /* the prober: its own thread, started before the zones load */
	srv_steer_t *steer;     /* steering glue: bindings, candidates' targets, the map */
	srv_worker_t **workers;
	unsigned nworkers;
	srv_cookies_t cookies;   /* DNS cookie secrets (server/cookie.h) */
	uv_timer_t cookie_timer; /* their rotation (cookies.rotate-interval) */
	bool cookie_timer_ready;
	uv_timer_t steer_timer; /* the steering transfer views (srv_zonedb_steer_views) */
	bool steer_timer_ready;
	uv_idle_t keep_idle; /* the zones' base copies, once a reload's reply is out */
	bool keep_idle_ready;
	struct timespec started;
	bool stopping;
	atomic_bool cancel;          /* set at stop: a reload's parsing gives up (zone_load) */
	srv_reload_t *reload;        /* the reload in progress, or NULL */
	srv_drift_t *drifts;         /* zone diffs in progress (server/drift.h) */
	srv_lag_t *lag;              /* the secondaries' serials (server/lag.h) */
	srv_metrics_http_t *metrics; /* server.metrics-listen (server/metrics.h), or NULL */
	sd_strbuf_t
	    config_error; /* why the last configuration reload failed; empty after one applied */
	time_t config_error_at;
};

/* A reload in progress: its files are parsed on libuv's thread pool, then applied here. */
struct srv_reload {
	uv_work_t work;
	srv_server_t *s;
	bool zone_only;
	uint8_t apex[DNAME_MAX];
	char zone[1024];   /* as given, for the reply */
	srv_config_t *cfg; /* the configuration read (file mode), or NULL */
	srv_zonedb_prep_t *prep;
	sd_strbuf_t out;
	struct timespec started;
	srv_reload_done_fn done; /* NULL: nobody waits (SIGHUP, or the client went away) */
	void *arg;
};

/* --- sockets --- */

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Bind every worker's UDP socket and TCP listener on listen address i. A port 0 becomes
 * the port the kernel picked for the first socket, shared by all others. */
static int bind_address(const srv_config_t *cfg, size_t i, unsigned nworkers, size_t nlisten,
                        int *udp, int *tcp)
{
	const srv_listen_conf_t *l = &cfg->listen[i];
	srv_addr_t addr = l->addr;
	char text[SRV_ADDR_STRLEN];
	int probe = srv_addr_port(&addr) ? srv_sock_probe(&addr) : 0;
	if (probe < 0) {
		log_error("event=listen-failed where=%s address=%s reason=%s%s", LOG_Q(l->where),
		          srv_addr_str((const struct sockaddr *)&addr.ss, text, sizeof(text)),
		          LOG_Q(sd_strerror(probe)),
		          probe == -EADDRINUSE ? " hint=\"another process serves it: stop it or "
		                                 "choose another address\""
		                               : "");
		return probe;
	}
	for (unsigned k = 0; k < nworkers; k++) {
		int fd = srv_sock_udp(&addr);
		if (fd >= 0 && srv_addr_port(&addr) == 0) {
			srv_addr_t local;
			if (srv_sock_local(fd, &local) == 0)
				srv_addr_set_port(&addr, srv_addr_port(&local));
		}
		const char *proto = "UDP";
		if (fd >= 0) {
			udp[k * nlisten + i] = fd;
			proto = "TCP";
			fd = srv_sock_tcp(&addr, 1024);
		}
		if (fd < 0) {
			log_error(
			    "event=listen-failed where=%s address=%s proto=%s reason=%s",
			    LOG_Q(l->where),
			    srv_addr_str((const struct sockaddr *)&addr.ss, text, sizeof(text)),
			    proto, LOG_Q(sd_strerror(fd)));
			return fd;
		}
		tcp[k * nlisten + i] = fd;
	}
	log_info("event=listening address=%s proto=UDP,TCP workers=%u",
	         srv_addr_str((const struct sockaddr *)&addr.ss, text, sizeof(text)), nworkers);
	return 0;
}

/* --- state directory --- */

/* mkdir -p: missing parents get 0755 (less the umask), the directory itself 0700 (journals
 * and snapshots are the served zone; health overrides are operator state). An existing
 * directory is left as it is (systemd's StateDirectory= makes it with its own mode). */
static int make_dir(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int rc = mkdir(buf, 0755);
		*p = '/';
		if (rc != 0 && errno != EEXIST)
			return sd_errno();
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return sd_errno();
	struct stat st;
	if (stat(buf, &st) != 0)
		return sd_errno();
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* With server.user (server/privdrop.h) a directory made now goes to that user and an
 * existing one must be its already. */
static int state_dir_ready(const srv_config_t *cfg)
{
	struct stat st;
	bool existed = stat(cfg->state_dir, &st) == 0;
	int ret = make_dir(cfg->state_dir);
	if (ret < 0)
		log_error("event=state-dir-failed where=%s setting=server.state-dir file=%s "
		          "reason=\"cannot create: %s\"",
		          LOG_Q(cfg->file ? cfg->file : "command line"), LOG_Q(cfg->state_dir),
		          sd_strerror(ret));
	if (ret == 0 && srv_priv_active(&cfg->priv))
		ret = srv_priv_state_dir(&cfg->priv, cfg->state_dir, !existed);
	return ret;
}

/* --- workers --- */

/* Descriptors kept free for everything but TCP connections after start: reloads (zone,
 * journal, snapshot, config and key files), control and transfer connections, probes. */
#define FD_RESERVE     64
#define FD_PER_WORKER  8 /* a worker's loop: epoll, eventfd, signal pipe, with room */
#define FD_RAISE_LIMIT (1u << 20)

/* Descriptors open now (/proc/self/fd), or 0 when that cannot be read. */
static unsigned fds_open(void)
{
	unsigned n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return 0;
	for (struct dirent *e = readdir(d); e != NULL; e = readdir(d))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0; /* the directory's own descriptor */
}

/* Raise the soft descriptor limit to the hard one (an unlimited hard limit is capped:
 * the kernel refuses more than fs.nr_open) and return the soft limit in force. */
static rlim_t fds_raise(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return RLIM_INFINITY;
	rlim_t want = rl.rlim_max == RLIM_INFINITY ? FD_RAISE_LIMIT : rl.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		struct rlimit up = {.rlim_cur = want, .rlim_max = rl.rlim_max};
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl.rlim_cur = want;
		else
			log_warning("event=fd-limit-not-raised fd_limit=%llu wanted=%llu reason=%s",
			            (unsigned long long)rl.rlim_cur, (unsigned long long)want,
			            LOG_Q(sd_strerror(sd_errno())));
	}
	return rl.rlim_cur;
}

/* The TCP connections the workers may hold: tcp-max-connections, or fewer when that many
 * descriptors do not fit under the limit beside the ones open, the workers' sockets and
 * loops and FD_RESERVE. Never below one per worker: steerdns starts anyway, and accept
 * failing for want of descriptors only pauses that listener (server/worker.h). */
static uint32_t fit_tcp_conns(const srv_config_t *cfg, unsigned nw)
{
	rlim_t limit = fds_raise();
	uint64_t used = (uint64_t)fds_open() + FD_RESERVE + cfg->zone_count +
	                (uint64_t)nw * (2 * cfg->listen_count + FD_PER_WORKER);
	uint64_t left = limit == RLIM_INFINITY || limit <= used ? 0 : limit - used;
	if (limit == RLIM_INFINITY || left >= cfg->tcp_max_conns)
		return cfg->tcp_max_conns;
	uint32_t fit = left > nw ? (uint32_t)left : nw;
	log_warning("event=tcp-limit-lowered tcp_max_connections=%u fd_limit=%llu "
	            "fds_needed_besides=%llu serving=%u reason=\"server.tcp-max-connections "
	            "does not fit in the descriptor limit\" hint=\"raise the limit (ulimit -n, "
	            "LimitNOFILE=) to allow more\"",
	            cfg->tcp_max_conns, (unsigned long long)limit, (unsigned long long)used, fit);
	return fit;
}

/* Bind the DNS ports, give up root for good when drop (server/privdrop.h: after the last
 * thing root is needed for, before the first query is answered: nothing is ever answered as
 * root), then start the workers on them. */
static int start_workers(srv_server_t *s, bool drop)
{
	size_t nl = s->cfg->listen_count;
	unsigned nw = srv_config_workers(s->cfg);
	uint32_t conns = fit_tcp_conns(s->cfg, nw);
	int *udp = malloc(nw * nl * sizeof(int));
	int *tcp = malloc(nw * nl * sizeof(int));
	s->workers = calloc(nw, sizeof(*s->workers));
	int ret = udp && tcp && s->workers ? 0 : -ENOMEM;
	for (size_t i = 0; ret == 0 && i < nw * nl; i++)
		udp[i] = tcp[i] = -1;
	for (size_t i = 0; ret == 0 && i < nl; i++)
		ret = bind_address(s->cfg, i, nw, nl, udp, tcp);
	if (ret == 0 && drop)
		ret = srv_priv_drop(&s->cfg->priv);
	if (ret < 0) {
		if (udp && tcp) {
			close_fds(udp, nw * nl);
			close_fds(tcp, nw * nl);
		}
		goto out;
	}
	srv_worker_conf_t wc = {
	    .answer = &s->answer_conf,
	    .views = &s->views,
	    .control = s->handoff ? &s->handoff->box : NULL,
	    .udp_payload = s->cfg->udp_payload,
	    .udp_wait_ns = s->cfg->udp_wait_us * 1000,
	    .tcp_idle_ms = s->cfg->tcp_idle_ms,
	    .tcp_msg_ms = s->cfg->tcp_msg_ms,
	    /* SO_REUSEPORT spreads connections by hash: the limit holds per worker. */
	    .tcp_conns = conns / nw ? conns / nw : 1,
	    .rrl = &s->cfg->rrl,
	    .cookies = s->cookies.current ? &s->cookies : NULL,
	    .lag = s->lag,
	};
	for (unsigned k = 0; k < nw; k++) {
		/* Worker k owns its descriptors even when a previous worker failed. */
		if (ret < 0) {
			close_fds(udp + k * nl, nl);
			close_fds(tcp + k * nl, nl);
			continue;
		}
		ret = srv_worker_new(k, &wc, udp + k * nl, tcp + k * nl, nl, &s->workers[k]);
		if (ret == 0) {
			s->nworkers++;
			ret = srv_worker_start(s->workers[k]);
		}
		if (ret < 0)
			log_error("event=worker-failed worker=%u reason=%s", k,
			          LOG_Q(sd_strerror(ret)));
	}
out:
	free(udp);
	free(tcp);
	return ret;
}

/* --- DNS cookies (server/cookie.h) --- */

static void on_cookie_timer(uv_timer_t *t)
{
	srv_server_t *s = t->data;
	int ret = srv_cookies_rotate(&s->cookies, &s->cfg->cookies);
	if (ret < 0) /* the old secrets stay; the next tick tries again */
		log_warning("event=cookie-rotation-failed reason=%s", LOG_Q(sd_strerror(ret)));
}

/* The steering transfer views follow health on a timer of the control loop: a view change
 * is a zone commit, its NOTIFY goes out from here (server/steer.h srv_steer_views). A tick
 * passes over the policies only when something they depend on changed (a health state
 * word, the candidates, a hold-down that ends: srv_steer_views_due); an idle tick is a few
 * loads. */
#define STEER_VIEW_TICK_MS 200

static void on_steer_timer(uv_timer_t *t)
{
	srv_server_t *s = t->data;
	uint64_t now = uv_now(&s->loop);
	if (s->steer && srv_steer_views_due(s->steer, now))
		srv_zonedb_steer_views(s->zones, now);
}

static int start_steer_views(srv_server_t *s)
{
	uv_timer_init(&s->loop, &s->steer_timer);
	s->steer_timer.data = s;
	s->steer_timer_ready = true;
	return uv_timer_start(&s->steer_timer, on_steer_timer, STEER_VIEW_TICK_MS,
	                      STEER_VIEW_TICK_MS);
}

/* The secrets before the workers start; their rotation on a timer of the control loop. */
static int start_cookies(srv_server_t *s)
{
	const srv_cookie_conf_t *c = &s->cfg->cookies;
	int ret = srv_cookies_init(&s->cookies, c);
	if (ret < 0 || c->mode == SRV_COOKIES_OFF || c->rotate_ms == 0)
		return ret;
	uv_timer_init(&s->loop, &s->cookie_timer);
	s->cookie_timer.data = s;
	s->cookie_timer_ready = true;
	return uv_timer_start(&s->cookie_timer, on_cookie_timer, c->rotate_ms, c->rotate_ms);
}

int srv_server_cookie_rotate(srv_server_t *s, sd_strbuf_t *out)
{
	int ret = srv_cookies_rotate(&s->cookies, &s->cfg->cookies);
	if (ret == SD_ENOTFOUND)
		sd_strbuf_printf(out, "cookies are off\n");
	else if (ret < 0)
		sd_strbuf_printf(out, "cookie secret not rotated: %s\n", sd_strerror(ret));
	else
		sd_strbuf_printf(out, "cookie secret rotated (%llu so far)\n",
		                 (unsigned long long)s->cookies.rotations);
	return ret;
}

/* --- signals and the control loop --- */

/* The control thread's mailbox feeds the UPDATE processor (server/handoff.h). */
static void update_item(void *data, srv_handoff_item_t *it)
{
	srv_update_collect(data, it);
}

static void update_flush(void *data)
{
	srv_update_flush(data);
}

/* The secondaries' tracker follows the registry's serials (server/zonedb.h). */
static void lag_published(void *data, const uint8_t *apex, uint32_t serial)
{
	srv_lag_published(data, apex, serial);
}

static void lag_status(void *data, const uint8_t *apex, sd_strbuf_t *out)
{
	srv_lag_status(data, apex, out);
}

/* NOTIFY out runs on the control loop: 5 tries, 1-2-4-8-16 s apart (RFC 1996 3.6) */
static int start_notify(srv_server_t *s)
{
	xfr_notifier_t *n = NULL;
	int ret = xfr_notifier_new(&s->loop, 1000, 5, &n);
	if (ret < 0)
		return ret;
	s->notifier = n;
	srv_zonedb_set_notifier(s->zones, n);
	ret = srv_lag_new(&s->loop, s->zones, &s->lag);
	if (ret == 0)
		srv_zonedb_set_follower(s->zones, &(srv_zonedb_follower_t){
		                                      .published = lag_published,
		                                      .status = lag_status,
		                                      .data = s->lag,
		                                  });
	return ret;
}

static void stop_all(srv_server_t *s)
{
	if (s->stopping)
		return;
	s->stopping = true;
	atomic_store(&s->cancel, true); /* a reload's parsing stops within a few records */
	srv_control_close(s->control);
	srv_metrics_http_close(s->metrics);
	if (s->zones)
		srv_zonedb_set_notifier(s->zones, NULL);
	xfr_notifier_close(s->notifier); /* pending NOTIFYs are dropped */
	s->notifier = NULL;
	if (s->zones)
		srv_zonedb_set_follower(s->zones, NULL);
	srv_lag_close(s->lag); /* wait-syncs answered: cancelled */
	if (s->cookie_timer_ready)
		uv_close((uv_handle_t *)&s->cookie_timer, NULL);
	s->cookie_timer_ready = false;
	if (s->steer_timer_ready)
		uv_close((uv_handle_t *)&s->steer_timer, NULL);
	s->steer_timer_ready = false;
	if (s->keep_idle_ready) /* a base copy still pending is written as its zone is freed */
		uv_close((uv_handle_t *)&s->keep_idle, NULL);
	s->keep_idle_ready = false;
	if (s->nsignals >= 1)
		uv_close((uv_handle_t *)&s->sig_hup, NULL);
	if (s->nsignals >= 2)
		uv_close((uv_handle_t *)&s->sig_term, NULL);
	if (s->nsignals >= 3)
		uv_close((uv_handle_t *)&s->sig_int, NULL);
	s->nsignals = 0;
	for (unsigned k = 0; k < s->nworkers; k++)
		srv_worker_stop(s->workers[k]);
}

static void sighup_done(void *arg, int ret, const sd_strbuf_t *out)
{
	if (ret == 0)
		log_notice("event=reload-done source=SIGHUP");
	else
		log_error("event=reload-failed source=SIGHUP reason=%s hint=\"details above\"",
		          LOG_Q(sd_strerror(ret)));
}

static void on_signal(uv_signal_t *h, int signum)
{
	srv_server_t *s = h->data;
	if (signum == SIGHUP) {
		sd_strbuf_t out = {0};
		log_notice("event=reload source=SIGHUP");
		int ret = srv_server_reload(s, NULL, sighup_done, s, &out);
		if (ret == -EBUSY)
			log_notice(
			    "event=reload-busy source=SIGHUP reason=\"a reload is in progress "
			    "already\" hint=\"reload again after it\"");
		else if (ret != 1)
			sighup_done(s, ret, &out);
		sd_strbuf_free(&out);
		return;
	}
	log_notice("event=stopping signal=%s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	stop_all(s);
}

static int start_signals(srv_server_t *s)
{
	uv_signal_t *hs[] = {&s->sig_hup, &s->sig_term, &s->sig_int};
	int nums[] = {SIGHUP, SIGTERM, SIGINT};
	for (unsigned i = 0; i < 3; i++) {
		uv_signal_init(&s->loop, hs[i]);
		hs[i]->data = s;
		s->nsignals++;
		int ret = uv_signal_start(hs[i], on_signal, nums[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* --- metrics (server/metrics.h) --- */

/* A scrape: the accessors status uses, gathered for srv_metrics_collect. */
static void metrics_collect(void *data, sd_strbuf_t *out)
{
	srv_server_t *s = data;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	srv_metrics_collect(
	    &(srv_metrics_src_t){
	        .workers = s->workers,
	        .nworkers = s->nworkers,
	        .zones = s->zones,
	        .lag = s->lag,
	        .health = s->health,
	        .notifier = s->notifier,
	        .steer = s->steer,
	        .cookie_rotations = s->cookies.rotations,
	        .handoffs = s->handoff ? sd_stat_get(&s->handoff->handled) : 0,
	        .uptime_s = now.tv_sec - s->started.tv_sec,
	    },
	    out);
}

/* --- health --- */

/* Probing starts before the workers answer: the first verdicts come within one interval
 * of start-up, not of the first query. */
static int start_health(srv_server_t *s)
{
	int ret = health_new(s->cfg->health, &s->health);
	if (ret == 0)
		ret = health_start(s->health);
	if (ret < 0) {
		log_error("event=health-prober-failed reason=%s", LOG_Q(sd_strerror(ret)));
		return ret;
	}
	health_stats_t st;
	health_stats(s->health, &st);
	log_info("event=health-prober-started targets=%u", st.targets);
	return 0;
}

int srv_server_steering(srv_server_t *s, const char *name, const char *client, bool json,
                        sd_strbuf_t *out)
{
	return srv_steer_report(s->steer, name, client, json, out);
}

int srv_server_health_ctl(srv_server_t *s, const char *args, sd_strbuf_t *out)
{
	char *text = NULL;
	size_t len = 0;
	int ret = health_ctl(s->health, args, &text, &len);
	if (text)
		sd_strbuf_append(out, text, len);
	else
		sd_strbuf_printf(out, "%s\n", sd_strerror(ret));
	free(text);
	return ret;
}

/* A zone's base copy written on the loop's thread pool (zone/update.h: the job). */
typedef struct base_work {
	uv_work_t req;
	zone_base_job_t *job;
} base_work_t;

static void base_work(uv_work_t *w)
{
	base_work_t *b = w->data;
	zone_base_job_write(b->job);
}

static void base_work_after(uv_work_t *w, int status)
{
	base_work_t *b = w->data;
	if (status < 0) /* cancelled before it ran (nothing cancels it): written here */
		zone_base_job_write(b->job);
	zone_base_job_done(b->job);
	free(b);
}

static int base_queue(void *arg, zone_base_job_t *j)
{
	srv_server_t *s = arg;
	base_work_t *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->req.data = b;
	b->job = j;
	int ret = uv_queue_work(&s->loop, &b->req, base_work, base_work_after);
	if (ret < 0)
		free(b);
	return ret;
}

/* The zones' base copies (zone/update.h: a full zone file each, 0.2-0.3 s at 1M records),
 * which nothing a reload's reply promises waits for: after the reply has gone and its
 * connection is closed (steerctl reads to EOF). The reply's write callback, which closes it,
 * runs in the next loop iteration's pending phase; idle handles run after that phase. They
 * are written on the thread pool: an UPDATE, a health change or a steerctl command that comes
 * meanwhile does not wait for them (the next reload of the zone does). A stop's last loop
 * run waits for the writes (a queued work keeps the loop alive). */
static void on_keep_idle(uv_idle_t *h)
{
	srv_server_t *s = h->data;
	uv_idle_stop(h);
	srv_zonedb_keep_bases_off(s->zones, base_queue, s);
}

static void keep_bases_later(srv_server_t *s)
{
	if (s->stopping)
		return; /* the zones write them as they are freed */
	if (!s->keep_idle_ready) {
		uv_idle_init(&s->loop, &s->keep_idle);
		s->keep_idle.data = s;
		s->keep_idle_ready = true;
	}
	if (uv_idle_start(&s->keep_idle, on_keep_idle) < 0)
		srv_zonedb_keep_bases(s->zones);
}

int srv_server_new(srv_config_t *cfg, const srv_cli_t *cli, srv_server_t **out)
{
	srv_server_t *s = calloc(1, sizeof(*s));
	*out = NULL;
	if (!s) {
		srv_config_free(cfg);
		return -ENOMEM;
	}
	s->cfg = cfg;
	s->cli = *cli;
	s->answer_conf.identity = cfg->identity;
	s->answer_conf.udp_max_payload = cfg->udp_payload;
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	rcu_register_thread();
	rcu_thread_offline(); /* online only while publishing: never blocked in epoll online */
	/* server.user: the state and the files are opened with the user's rights, the ports
	 * and the control socket as root, then root is given up (server/privdrop.h) */
	bool drop = srv_priv_active(&cfg->priv);
	int ret = srv_priv_check(&cfg->priv);
	if (ret == 0)
		ret = state_dir_ready(cfg);
	if (ret == 0 && drop)
		ret = srv_priv_assume(&cfg->priv);
	/* The prober runs before the zones load: the first steering sync creates a target for
	 * every candidate, checked from start-up (not from the first query). */
	if (ret == 0)
		ret = start_health(s);
	if (ret == 0)
		ret = srv_steer_new(&s->steer);
	if (ret == 0) {
		srv_steer_set_health(s->steer, s->health);
		srv_steer_set_workers(s->steer,
		                      srv_config_workers(cfg) * srv_worker_rows(cfg->listen_count));
		ret = srv_zonedb_new(&s->views, &s->answer_conf, &s->zones);
	}
	if (ret == 0) {
		srv_zonedb_set_steer(s->zones, s->steer, s->health);
		ret = srv_zonedb_apply(s->zones, cfg, true, NULL); /* base copies: below */
	}
	if (ret == 0)
		ret = uv_loop_init(&s->loop);
	s->loop_ready = ret == 0 && s->zones;
	if (ret == 0)
		ret = start_notify(s);
	if (ret == 0)
		ret = srv_audit_new(cfg->audit_log, &s->audit);
	if (ret == 0)
		ret = srv_update_new(s->zones, s->audit, cfg->udp_payload, &s->update);
	if (ret == 0)
		ret = srv_handoff_new(&s->loop, update_item, update_flush, s->update, &s->handoff);
	if (ret == 0)
		ret = start_cookies(s);
	if (ret == 0)
		ret = start_steer_views(s);
	if (ret == 0 && drop)
		ret = srv_priv_regain();
	if (ret == 0)
		ret = srv_control_new(&s->loop, cfg->control_socket, s, &s->control);
	if (ret == 0 && cfg->metrics_set)
		ret = srv_metrics_http_new(&s->loop, &cfg->metrics_addr, metrics_collect, s,
		                           &s->metrics);
	/* the handlers before the workers answer: a SIGTERM sent as soon as the port answers
	 * stops steerdns cleanly (their callbacks run once the loop runs) */
	if (ret == 0)
		ret = start_signals(s);
	if (ret == 0)
		ret = start_workers(s, drop);
	if (ret < 0) {
		srv_server_free(s);
		return ret;
	}
	/* The zones were loaded before the notifier existed: announce what we serve now that
	 * the workers answer the secondaries' SOA queries, as Knot and BIND do at start. */
	srv_zonedb_notify_all(s->zones);
	keep_bases_later(s); /* written off the loop once it runs */
	log_notice("event=start version=%s workers=%u zones=%zu", STEERDNS_VERSION, s->nworkers,
	           cfg->zone_count);
	*out = s;
	return 0;
}

int srv_server_run(srv_server_t *s)
{
	uv_run(&s->loop, UV_RUN_DEFAULT);
	return 0;
}

void srv_server_free(srv_server_t *s)
{
	if (!s)
		return;
	if (s->loop_ready) {
		stop_all(s);
		uv_run(&s->loop, UV_RUN_DEFAULT); /* let the closed handles finish */
	}
	/* The control loop runs no more: no reply goes to a worker while it stops. */
	for (unsigned k = 0; k < s->nworkers; k++)
		srv_worker_stop(s->workers[k]);
	for (unsigned k = 0; s->workers && k < s->nworkers; k++)
		srv_worker_free(s->workers[k]);
	free(s->workers);
	/* No worker pushes any more: close the handoff mailbox, then the loop. */
	srv_handoff_close(s->handoff);
	if (s->loop_ready) {
		uv_run(&s->loop, UV_RUN_DEFAULT);
		if (uv_loop_close(&s->loop) != 0)
			log_warning(
			    "event=stop-unclean reason=\"the control loop still had handles at "
			    "exit\"");
	}
	srv_handoff_free(s->handoff);
	srv_update_free(s->update);
	srv_audit_free(s->audit);
	health_free(s->health); /* after the workers, the readers of its state words */
	srv_control_free(s->control);
	srv_metrics_http_free(s->metrics);
	srv_cookies_fini(&s->cookies); /* the workers, its readers, are gone */
	srv_lag_free(s->lag);          /* after the workers, which report to it */
	srv_zonedb_free(s->zones);
	srv_steer_free(s->steer); /* after the registry, which borrows it */
	sd_strbuf_free(&s->config_error);
	rcu_barrier(); /* run the zone versions' pending frees */
	rcu_unregister_thread();
	srv_config_free(s->cfg);
	free(s);
}

/* --- reload --- */

static void capture(log_level_t level, const char *line, void *data)
{
	if (level <= LOG_LEVEL_WARNING)
		sd_strbuf_printf(data, "%s\n", line);
}

static bool listen_equal(const srv_config_t *a, const srv_config_t *b)
{
	if (a->listen_count != b->listen_count)
		return false;
	for (size_t i = 0; i < a->listen_count; i++)
		if (a->listen[i].addr.len != b->listen[i].addr.len ||
		    memcmp(&a->listen[i].addr.ss, &b->listen[i].addr.ss, a->listen[i].addr.len))
			return false;
	return true;
}

static bool str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool rrl_equal(const srv_rrl_conf_t *a, const srv_rrl_conf_t *b)
{
	return a->rate == b->rate && a->slip == b->slip && a->ipv4_prefix == b->ipv4_prefix &&
	       a->ipv6_prefix == b->ipv6_prefix && a->log_only == b->log_only &&
	       a->table_size == b->table_size && a->nwhitelist == b->nwhitelist &&
	       (a->nwhitelist == 0 ||
	        memcmp(a->whitelist, b->whitelist, a->nwhitelist * sizeof(*a->whitelist)) == 0);
}

/* Settings the running workers were built with: changing them needs a restart. */
static void note_restart(const srv_config_t *run, const srv_config_t *cfg, sd_strbuf_t *out)
{
	const struct {
		const char *key;
		bool same;
	} keys[] = {
	    {"listen", listen_equal(run, cfg)},
	    {"workers", run->workers == cfg->workers},
	    {"identity", str_equal(run->identity, cfg->identity)},
	    {"udp-payload", run->udp_payload == cfg->udp_payload},
	    {"udp-batch-wait", run->udp_wait_us == cfg->udp_wait_us},
	    {"tcp-idle-timeout", run->tcp_idle_ms == cfg->tcp_idle_ms},
	    {"tcp-max-connections", run->tcp_max_conns == cfg->tcp_max_conns},
	    {"tcp-message-timeout", run->tcp_msg_ms == cfg->tcp_msg_ms},
	    {"control-socket", str_equal(run->control_socket, cfg->control_socket)},
	    {"metrics-listen",
	     run->metrics_set == cfg->metrics_set &&
	         (!run->metrics_set || (run->metrics_addr.len == cfg->metrics_addr.len &&
	                                memcmp(&run->metrics_addr.ss, &cfg->metrics_addr.ss,
	                                       run->metrics_addr.len) == 0))},
	    {"state-dir", str_equal(run->state_dir, cfg->state_dir)},
	    {"log-level", run->log_level == cfg->log_level},
	    {"log-target", run->log_syslog == cfg->log_syslog},
	    {"user", run->priv.set == cfg->priv.set && run->priv.uid == cfg->priv.uid &&
	                 run->priv.gid == cfg->priv.gid},
	    {"rrl", rrl_equal(&run->rrl, &cfg->rrl)},
	    {"cookies", run->cookies.mode == cfg->cookies.mode &&
	                    run->cookies.rotate_ms == cfg->cookies.rotate_ms &&
	                    str_equal(run->cookies.secret_file, cfg->cookies.secret_file)},
	};
	for (size_t i = 0; i < SD_ARRAY_LEN(keys); i++) {
		if (keys[i].same)
			continue;
		log_warning("event=config-restart-needed file=%s setting=server.%s hint=\"restart "
		            "steerdns to apply it\"",
		            LOG_Q(cfg->file), keys[i].key);
		sd_strbuf_printf(out, "server.%s changed: restart steerdns to apply it\n",
		                 keys[i].key);
	}
}

/* A configuration that failed to load stays visible in status until one applies. */
static void config_failed(srv_server_t *s, const sd_strbuf_t *out)
{
	sd_strbuf_reset(&s->config_error);
	if (out->len)
		sd_strbuf_append(&s->config_error, sd_strbuf_str(out), out->len);
	else
		sd_strbuf_printf(&s->config_error, "%s: configuration not applied\n",
		                 s->cli.config_file);
	s->config_error_at = time(NULL);
}

/* Read the configuration again (file mode) into r->cfg; NULL in quick mode (the command
 * line does not change). */
static int reload_read_config(srv_server_t *s, srv_reload_t *r)
{
	if (!s->cli.config_file)
		return 0;
	log_set_thread_tee(capture, &r->out);
	int ret = srv_config_load(&s->cli, &r->cfg);
	log_set_thread_tee(NULL, NULL);
	if (ret < 0) {
		sd_strbuf_printf(&r->out, "%s: configuration not applied, the running one stays\n",
		                 s->cli.config_file);
		config_failed(s, &r->out);
		srv_config_free(r->cfg);
		r->cfg = NULL;
		return ret;
	}
	sd_strbuf_reset(&s->config_error);
	note_restart(s->cfg, r->cfg, &r->out);
	return 0;
}

/* The audit log is opened again at every reload: logrotate moves it and reloads. A new
 * configuration names the file; otherwise (a zone reload, quick mode) it is the file written
 * now. A file that cannot be opened keeps the previous one (the error is in the reply). */
static void reload_audit(srv_server_t *s, const srv_config_t *cfg, sd_strbuf_t *out)
{
	const char *path = cfg ? cfg->audit_log : srv_audit_path(s->audit);
	int ret = srv_audit_reopen(s->audit, path);
	if (ret < 0)
		sd_strbuf_printf(out, "audit log %s: cannot open: %s; the previous one stays\n",
		                 path, sd_strerror(ret));
}

/* The apply, on the control thread, with what the pool parsed. */
static int reload_apply(srv_server_t *s, srv_reload_t *r)
{
	reload_audit(s, r->cfg, &r->out);
	if (r->zone_only) {
		int ret = srv_zonedb_reload_prepared(s->zones, r->apex, r->prep, &r->out);
		if (ret == SD_ENOTFOUND)
			sd_strbuf_printf(&r->out, "zone %s is not served\n", r->zone);
		else if (ret == 0)
			sd_strbuf_printf(&r->out, "zone %s reloaded\n", r->zone);
		return ret;
	}
	const srv_config_t *cfg = r->cfg ? r->cfg : s->cfg;
	int hret = 0;
	if (r->cfg) {
		/* The health section was validated with the rest: apply it even when a zone
		 * file fails (that zone keeps its old version; the targets are independent), and
		 * first, so that the steering sync of the zones' apply finds new templates (the
		 * steering targets, made at run time, are left alone by it). */
		hret = health_apply(s->health, r->cfg->health); /* it takes what it keeps */
		if (hret < 0)
			sd_strbuf_printf(&r->out, "health: applying the configuration failed: %s\n",
			                 sd_strerror(hret));
	}
	int ret = srv_zonedb_apply_prepared(s->zones, cfg, r->prep, &r->out);
	srv_lag_reconfigured(s->lag); /* NOTIFY targets may have changed with no new serial */
	ret = ret < 0 ? ret : hret;
	sd_strbuf_printf(&r->out, "%s\n", ret == 0 ? "reloaded" : "reload finished with errors");
	return ret;
}

static void reload_free(srv_reload_t *r)
{
	srv_zonedb_prep_free(r->prep);
	srv_config_free(r->cfg);
	sd_strbuf_free(&r->out);
	free(r);
}

/* Pool thread: the parsing, which may take seconds; the cancel flag cuts it short. */
static void reload_work(uv_work_t *w)
{
	srv_reload_t *r = w->data;
	srv_zonedb_prep_parse(r->prep, &r->s->cancel);
}

static void reload_after(uv_work_t *w, int status)
{
	srv_reload_t *r = w->data;
	srv_server_t *s = r->s;
	s->reload = NULL;
	int ret = -ECANCELED;
	if (status == 0 && !s->stopping)
		ret = reload_apply(s, r);
	else
		sd_strbuf_printf(&r->out, "reload cancelled: steerdns is stopping\n");
	if (r->done)
		r->done(r->arg, ret, &r->out);
	keep_bases_later(s);
	reload_free(r);
}

int srv_server_reload(srv_server_t *s, const char *zone, srv_reload_done_fn done, void *arg,
                      sd_strbuf_t *out)
{
	if (s->reload) {
		sd_strbuf_printf(out, "reload in progress; try again when it is done\n");
		return -EBUSY;
	}
	srv_reload_t *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->s = s;
	r->work.data = r;
	r->zone_only = zone != NULL;
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	int ret = 0;
	if (zone) {
		snprintf(r->zone, sizeof(r->zone), "%s", zone);
		if (dname_from_str(zone, NULL, r->apex) < 0) {
			sd_strbuf_printf(out, "'%s' is not a domain name\n", zone);
			ret = SD_EPARSE;
		}
	} else {
		ret = reload_read_config(s, r);
		if (ret < 0)
			sd_strbuf_printf(&r->out, "reload finished with errors\n");
	}
	if (ret == 0)
		ret = srv_zonedb_prepare(s->zones, r->cfg ? r->cfg : s->cfg, zone ? r->apex : NULL,
		                         &r->prep);
	if (ret == SD_ENOTFOUND)
		sd_strbuf_printf(&r->out, "zone %s is not served\n", zone);
	if (ret == 0 && srv_zonedb_prep_count(r->prep) > 0) {
		r->done = done;
		r->arg = arg;
		ret = uv_queue_work(&s->loop, &r->work, reload_work, reload_after);
		if (ret == 0) {
			s->reload = r;
			return 1;
		}
	}
	if (ret == 0) { /* nothing to parse: apply here and now */
		ret = reload_apply(s, r);
		keep_bases_later(s);
	}
	sd_strbuf_append(out, sd_strbuf_str(&r->out), r->out.len);
	reload_free(r);
	return ret;
}

void srv_server_reload_forget(srv_server_t *s, void *arg)
{
	if (s->reload && s->reload->arg == arg)
		s->reload->done = NULL;
}

void srv_server_forget(srv_server_t *s, void *arg)
{
	srv_server_reload_forget(s, arg);
	srv_drift_forget(s->drifts, arg);
	srv_lag_forget(s->lag, arg);
}

/* --- wait-sync --- */

int srv_server_wait_sync(srv_server_t *s, const char *zone, bool has_serial, uint32_t serial,
                         uint64_t timeout_ms, srv_reload_done_fn done, void *arg, sd_strbuf_t *out)
{
	uint8_t apex[DNAME_MAX];
	if (dname_from_str(zone, NULL, apex) < 0) {
		sd_strbuf_printf(out, "'%s' is not a domain name\n", zone);
		return SD_EPARSE;
	}
	if (!s->lag || s->stopping) {
		sd_strbuf_printf(out, "steerdns is stopping\n");
		return -ECANCELED;
	}
	return srv_lag_wait(s->lag, apex, has_serial, serial, timeout_ms, done, arg, out);
}

/* --- zone diff --- */

int srv_server_zone_diff(srv_server_t *s, const char *zone, const char *path,
                         srv_reload_done_fn done, void *arg, sd_strbuf_t *out)
{
	uint8_t apex[DNAME_MAX];
	if (dname_from_str(zone, NULL, apex) < 0) {
		sd_strbuf_printf(out, "'%s' is not a domain name\n", zone);
		return SD_EPARSE;
	}
	if (path && path[0] != '/') {
		sd_strbuf_printf(out, "%s: the daemon reads absolute paths only\n", path);
		return SD_EPARSE;
	}
	int ret =
	    srv_drift_start(&s->loop, s->zones, apex, path, &s->cancel, &s->drifts, done, arg, out);
	return ret == 0 ? 1 : ret;
}

/* --- zone history, show-change, rollback --- */

static int zone_apex_arg(const char *zone, uint8_t apex[DNAME_MAX], sd_strbuf_t *out)
{
	if (dname_from_str(zone, NULL, apex) < 0) {
		sd_strbuf_printf(out, "'%s' is not a domain name\n", zone);
		return SD_EPARSE;
	}
	dname_lower(apex);
	return 0;
}

int srv_server_zone_history(srv_server_t *s, const char *zone, size_t limit, bool json,
                            sd_strbuf_t *out)
{
	uint8_t apex[DNAME_MAX];
	int ret = zone_apex_arg(zone, apex, out);
	return ret < 0 ? ret : srv_zonehist_list(s->zones, apex, limit, json, out);
}

int srv_server_zone_show_change(srv_server_t *s, const char *zone, uint32_t serial, bool json,
                                sd_strbuf_t *out)
{
	uint8_t apex[DNAME_MAX];
	int ret = zone_apex_arg(zone, apex, out);
	return ret < 0 ? ret : srv_zonehist_show(s->zones, apex, serial, json, out);
}

int srv_server_zone_rollback(srv_server_t *s, const char *zone, uint32_t serial, sd_strbuf_t *out)
{
	uint8_t apex[DNAME_MAX];
	int ret = zone_apex_arg(zone, apex, out);
	if (ret == 0 && s->stopping) {
		sd_strbuf_printf(out, "steerdns is stopping\n");
		ret = -ECANCELED;
	}
	return ret < 0 ? ret : srv_zonehist_rollback(s->zones, s->audit, apex, serial, out);
}

/* --- status --- */

static void status_counters(srv_server_t *s, sd_strbuf_t *out)
{
	srv_stats_t st = {0};
	srv_io_stats_t io = {0};
	for (unsigned k = 0; k < s->nworkers; k++)
		srv_worker_stats(s->workers[k], &st, &io);
	sd_strbuf_printf(out, "queries: %llu (udp %llu, tcp %llu)\n",
	                 (unsigned long long)st.queries, (unsigned long long)st.udp,
	                 (unsigned long long)st.tcp);
	sd_strbuf_printf(out, "responses:");
	for (unsigned r = 0; r < SD_ARRAY_LEN(st.rcode); r++) {
		if (!st.rcode[r] && r != 0)
			continue;
		char name[DNS_RCODE_NAME_LEN];
		sd_strbuf_printf(out, " %s=%llu", dns_rcode_name(r, name),
		                 (unsigned long long)st.rcode[r]);
	}
	sd_strbuf_printf(out, " BADVERS=%llu\n", (unsigned long long)st.badvers);
	sd_strbuf_printf(out, "dropped: %llu truncated: %llu edns: %llu\n",
	                 (unsigned long long)st.dropped, (unsigned long long)st.truncated,
	                 (unsigned long long)st.edns);
	sd_strbuf_printf(
	    out,
	    "udp: received %llu sent %llu send-dropped %llu send-errors %llu "
	    "oversize %llu batch-waits %llu\n",
	    (unsigned long long)io.udp_received, (unsigned long long)io.udp_sent,
	    (unsigned long long)io.udp_send_dropped, (unsigned long long)io.udp_send_errors,
	    (unsigned long long)io.udp_oversize, (unsigned long long)io.udp_batch_waits);
	sd_strbuf_printf(out, "tcp: accepted %llu refused %llu idle-closed %llu malformed %llu\n",
	                 (unsigned long long)io.tcp_accepted, (unsigned long long)io.tcp_refused,
	                 (unsigned long long)io.tcp_idle_closed,
	                 (unsigned long long)io.tcp_malformed);
	sd_strbuf_printf(out, "tcp: reclaimed %llu slow-closed %llu accept-errors %llu\n",
	                 (unsigned long long)io.tcp_reclaimed,
	                 (unsigned long long)io.tcp_slow_closed,
	                 (unsigned long long)io.tcp_accept_errors);
	srv_rrl_stats_t rrl = {0};
	srv_cookie_stats_t ck = {0};
	for (unsigned k = 0; k < s->nworkers; k++)
		srv_worker_abuse_stats(s->workers[k], &rrl, &ck);
	static const char *const modes[] = {"off", "on", "require"};
	sd_strbuf_printf(out,
	                 "cookies: %s client-only %llu valid %llu invalid %llu badcookie %llu "
	                 "rotations %llu\n",
	                 modes[s->cfg->cookies.mode], (unsigned long long)ck.client_only,
	                 (unsigned long long)ck.valid, (unsigned long long)ck.invalid,
	                 (unsigned long long)ck.badcookie,
	                 (unsigned long long)s->cookies.rotations);
	if (s->cfg->rrl.rate > 0)
		sd_strbuf_printf(out, "rrl: limited %llu slipped %llu dropped %llu exempt %llu%s\n",
		                 (unsigned long long)rrl.limited, (unsigned long long)rrl.slipped,
		                 (unsigned long long)rrl.dropped, (unsigned long long)rrl.exempt,
		                 s->cfg->rrl.log_only ? " (log-only)" : "");
	else
		sd_strbuf_printf(out, "rrl: off\n");
	sd_strbuf_printf(out, "handoffs: %llu\n",
	                 (unsigned long long)(s->handoff ? sd_stat_get(&s->handoff->handled) : 0));
	if (s->update)
		srv_update_status(s->update, out);
}

void srv_server_status(srv_server_t *s, sd_strbuf_t *out)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	sd_strbuf_printf(out, "version: steerdns %s\n", STEERDNS_VERSION);
	sd_strbuf_printf(out, "uptime: %llds\n", (long long)(now.tv_sec - s->started.tv_sec));
	sd_strbuf_printf(out, "workers: %u\n", s->nworkers);
	if (s->reload)
		sd_strbuf_printf(out, "reload in progress (%llds)\n",
		                 (long long)(now.tv_sec - s->reload->started.tv_sec));
	if (s->config_error.len) {
		char when[32] = "";
		struct tm tm;
		if (gmtime_r(&s->config_error_at, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		sd_strbuf_printf(
		    out, "configuration: last reload failed at %s; the running one stays\n", when);
		const char *p = sd_strbuf_str(&s->config_error);
		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			sd_strbuf_printf(out, "  last error: %.*s\n", (int)n, p);
			p += n + (nl ? 1 : 0);
		}
	}
	srv_zonedb_status(s->zones, out);
	status_counters(s, out);
}

/* --- zone export --- */

/* The file's content appended to out. */
static int append_file(const char *path, sd_strbuf_t *out)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return sd_errno();
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sd_strbuf_append(out, buf, n);
	int ret = ferror(f) ? -EIO : out->oom ? -ENOMEM : 0;
	fclose(f);
	return ret;
}

int srv_server_zone_export(srv_server_t *s, const char *zone, const char *path, sd_strbuf_t *out)
{
	uint8_t apex[DNAME_MAX];
	if (dname_from_str(zone, NULL, apex) < 0) {
		sd_strbuf_printf(out, "'%s' is not a domain name\n", zone);
		return SD_EPARSE;
	}
	dname_lower(apex);
	if (path && path[0] != '/') {
		sd_strbuf_printf(out, "%s: the daemon writes absolute paths only\n", path);
		return SD_EPARSE;
	}
	/* to the client: through a file of our own in the state directory, read back */
	char tmp[4096];
	if (!path) {
		snprintf(tmp, sizeof(tmp), "%s/.export-%ld-%u.zone", s->cfg->state_dir,
		         (long)getpid(), s->exports++);
		unlink(tmp);
	}
	int ret = srv_zonedb_export(s->zones, apex, path ? path : tmp);
	if (ret == SD_ENOTFOUND)
		sd_strbuf_printf(out, "zone %s is not served\n", zone);
	else if (ret < 0)
		sd_strbuf_printf(out, "zone %s: writing %s failed: %s\n", zone, path ? path : tmp,
		                 sd_strerror(ret));
	else if (path)
		sd_strbuf_printf(out, "zone %s written to %s\n", zone, path);
	else if ((ret = append_file(tmp, out)) < 0)
		sd_strbuf_printf(out, "zone %s: reading it back failed: %s\n", zone,
		                 sd_strerror(ret));
	if (!path)
		unlink(tmp);
	return ret;
}
