#include "server/metrics.h"

#include "dns/msg.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "health/health.h"
#include "server/engine/answer.h"
#include "server/lag.h"
#include "server/steer.h"
#include "server/worker.h"
#include "server/xfr/notify.h"
#include "server/zonedb.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ text writer */

void srv_metric_escape(sd_strbuf_t *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '\\')
			sd_strbuf_append(out, "\\\\", 2);
		else if (*p == '"')
			sd_strbuf_append(out, "\\\"", 2);
		else if (*p == '\n')
			sd_strbuf_append(out, "\\n", 2);
		else
			sd_strbuf_putc(out, *p);
	}
}

void srv_metric_head(sd_strbuf_t *out, const char *name, const char *type, const char *help)
{
	sd_strbuf_printf(out, "# HELP %s ", name);
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			sd_strbuf_append(out, "\\\\", 2);
		else if (*p == '\n')
			sd_strbuf_append(out, "\\n", 2);
		else
			sd_strbuf_putc(out, *p);
	}
	sd_strbuf_printf(out, "\n# TYPE %s %s\n", name, type);
}

static void sample_start(sd_strbuf_t *out, const char *name, const srv_metric_label_t *labels,
                         size_t n)
{
	sd_strbuf_printf(out, "%s", name);
	for (size_t i = 0; i < n; i++) {
		sd_strbuf_printf(out, "%s%s=\"", i ? "," : "{", labels[i].key);
		srv_metric_escape(out, labels[i].value ? labels[i].value : "");
		sd_strbuf_putc(out, '"');
	}
	if (n)
		sd_strbuf_putc(out, '}');
}

void srv_metric_u64(sd_strbuf_t *out, const char *name, const srv_metric_label_t *labels, size_t n,
                    uint64_t value)
{
	sample_start(out, name, labels, n);
	sd_strbuf_printf(out, " %llu\n", (unsigned long long)value);
}

void srv_metric_f64(sd_strbuf_t *out, const char *name, const srv_metric_label_t *labels, size_t n,
                    double value)
{
	sample_start(out, name, labels, n);
	sd_strbuf_printf(out, " %.17g\n", value);
}

/* One metric of one unlabelled sample. */
static void metric_one(sd_strbuf_t *out, const char *name, const char *type, const char *help,
                       uint64_t v)
{
	srv_metric_head(out, name, type, help);
	srv_metric_u64(out, name, NULL, 0, v);
}

/* ------------------------------------------------------------ what a scrape reports */

/* The answer counters, summed over the workers; the I/O drops per worker. */
static void collect_queries(const srv_metrics_src_t *src, sd_strbuf_t *out)
{
	srv_stats_t st = {0};
	srv_io_stats_t io = {0};
	for (unsigned k = 0; k < src->nworkers; k++)
		srv_worker_stats(src->workers[k], &st, &io);
	srv_metric_head(out, "steerdns_queries_total", "counter",
	                "Queries the engine answered or dropped, by transport (UPDATEs and zone "
	                "transfers are not queries: see steerdns_update_handoffs_total and "
	                "steerdns_zone_transfers_out_total)");
	srv_metric_u64(out, "steerdns_queries_total", &(srv_metric_label_t){"transport", "udp"}, 1,
	               st.udp);
	srv_metric_u64(out, "steerdns_queries_total", &(srv_metric_label_t){"transport", "tcp"}, 1,
	               st.tcp);
	srv_metric_head(out, "steerdns_queries_by_qtype_total", "counter",
	                "DNS messages with a question, by query type class");
	for (unsigned c = 0; c < SRV_QTYPE_CLASSES; c++)
		srv_metric_u64(out, "steerdns_queries_by_qtype_total",
		               &(srv_metric_label_t){"qtype", srv_qtype_class_name(c)}, 1,
		               st.qtype[c]);
	srv_metric_head(out, "steerdns_responses_total", "counter",
	                "Responses by RCODE (the header's 4 bits; BADVERS apart)");
	for (unsigned r = 0; r < SD_ARRAY_LEN(st.rcode); r++) {
		char buf[DNS_RCODE_NAME_LEN];
		if (st.rcode[r] || r <= 5)
			srv_metric_u64(out, "steerdns_responses_total",
			               &(srv_metric_label_t){"rcode", dns_rcode_name(r, buf)}, 1,
			               st.rcode[r]);
	}
	srv_metric_u64(out, "steerdns_responses_total", &(srv_metric_label_t){"rcode", "BADVERS"},
	               1, st.badvers);
	metric_one(out, "steerdns_responses_truncated_total", "counter",
	           "Responses sent with TC set", st.truncated);
	metric_one(out, "steerdns_queries_edns_total", "counter", "Queries with an EDNS OPT record",
	           st.edns);
	srv_metric_head(out, "steerdns_steered_answers_total", "counter",
	                "Steered RRsets answered, by outcome (all_down_*: every candidate down)");
	for (unsigned o = 0; o < SRV_STEER_OUTCOMES; o++)
		srv_metric_u64(out, "steerdns_steered_answers_total",
		               &(srv_metric_label_t){"outcome", srv_steer_outcome_name(o)}, 1,
		               st.steered[o]);
	metric_one(out, "steerdns_steered_degraded_total", "counter",
	           "Steered RRsets answered while some weighted candidate was down",
	           st.steered_degraded);
}

/* Per worker: what status shows summed (drops, truncations, the I/O layer's counters). */
static void collect_workers(const srv_metrics_src_t *src, sd_strbuf_t *out)
{
	static const struct {
		const char *name, *help;
		size_t io_off; /* offset in srv_io_stats_t, or SIZE_MAX for an answer counter */
		size_t st_off;
	} m[] = {
#define IO(f, h) {"steerdns_worker_" #f "_total", h, offsetof(srv_io_stats_t, f), 0}
#define ST(f, h)                                                                                   \
	{                                                                                          \
		"steerdns_worker_" #f "_total", h, SIZE_MAX, offsetof(srv_stats_t, f)              \
	}
	    ST(dropped, "Queries not answered at all (unparseable header, QR set)"),
	    ST(truncated, "Responses sent with TC set"),
	    IO(udp_received, "UDP datagrams received"),
	    IO(udp_sent, "UDP responses sent"),
	    IO(udp_batch_waits, "UDP waits under load for a batch to gather (udp-batch-wait)"),
	    IO(udp_send_dropped, "UDP responses dropped: the socket buffer was full"),
	    IO(udp_send_errors, "UDP responses that failed to send"),
	    IO(udp_oversize, "UDP answers over udp-payload (dropped)"),
	    IO(tcp_accepted, "TCP connections accepted"),
	    IO(tcp_refused, "TCP connections accepted but closed at once"),
	    IO(tcp_reclaimed, "TCP connections closed for a newcomer (pool full)"),
	    IO(tcp_idle_closed, "TCP connections closed idle"),
	    IO(tcp_slow_closed, "TCP connections closed for a missed message deadline"),
	    IO(tcp_accept_errors, "TCP accept failures (the listener paused)"),
	    IO(tcp_malformed, "TCP framing errors"),
#undef IO
#undef ST
	};
	srv_stats_t *st = calloc(src->nworkers ? src->nworkers : 1, sizeof(*st));
	srv_io_stats_t *io = calloc(src->nworkers ? src->nworkers : 1, sizeof(*io));
	if (!st || !io) {
		free(st);
		free(io);
		return;
	}
	for (unsigned k = 0; k < src->nworkers; k++)
		srv_worker_stats(src->workers[k], &st[k], &io[k]);
	for (size_t i = 0; i < SD_ARRAY_LEN(m); i++) {
		srv_metric_head(out, m[i].name, "counter", m[i].help);
		for (unsigned k = 0; k < src->nworkers; k++) {
			char id[16];
			snprintf(id, sizeof(id), "%u", k);
			const uint64_t *v =
			    m[i].io_off != SIZE_MAX
			        ? (const uint64_t *)((const char *)&io[k] + m[i].io_off)
			        : (const uint64_t *)((const char *)&st[k] + m[i].st_off);
			srv_metric_u64(out, m[i].name, &(srv_metric_label_t){"worker", id}, 1, *v);
		}
	}
	free(st);
	free(io);
}

static void collect_abuse(const srv_metrics_src_t *src, sd_strbuf_t *out)
{
	srv_rrl_stats_t rrl = {0};
	srv_cookie_stats_t ck = {0};
	for (unsigned k = 0; k < src->nworkers; k++)
		srv_worker_abuse_stats(src->workers[k], &rrl, &ck);
	srv_metric_head(out, "steerdns_rrl_responses_total", "counter",
	                "Response rate limiting: responses over the rate and what became of them");
	const struct {
		const char *what;
		uint64_t v;
	} r[] = {{"limited", rrl.limited},
	         {"slipped", rrl.slipped},
	         {"dropped", rrl.dropped},
	         {"exempt", rrl.exempt}};
	for (size_t i = 0; i < SD_ARRAY_LEN(r); i++)
		srv_metric_u64(out, "steerdns_rrl_responses_total",
		               &(srv_metric_label_t){"outcome", r[i].what}, 1, r[i].v);
	srv_metric_head(out, "steerdns_cookies_total", "counter",
	                "DNS cookies (RFC 7873) seen in queries, by verdict");
	const struct {
		const char *what;
		uint64_t v;
	} c[] = {{"client_only", ck.client_only},
	         {"valid", ck.valid},
	         {"invalid", ck.invalid},
	         {"badcookie", ck.badcookie}};
	for (size_t i = 0; i < SD_ARRAY_LEN(c); i++)
		srv_metric_u64(out, "steerdns_cookies_total",
		               &(srv_metric_label_t){"verdict", c[i].what}, 1, c[i].v);
	metric_one(out, "steerdns_cookie_secret_rotations_total", "counter",
	           "Server cookie secret rotations", src->cookie_rotations);
	metric_one(out, "steerdns_update_handoffs_total", "counter",
	           "UPDATE messages handed from the workers to the control thread", src->handoffs);
}

/* --- per zone: the families are written one at a time, zone by zone --- */

typedef struct zone_pass {
	sd_strbuf_t *out;
	unsigned field;
} zone_pass_t;

enum {
	ZF_SERIAL,
	ZF_RECORDS,
	ZF_JOURNAL_ENTRIES,
	ZF_JOURNAL_BYTES,
	ZF_HISTORY,
	ZF_CHANGES,
	ZF_TRANSFERS,
	ZF_UPDATES,
	ZF_UPDATE_COMMITS,
	ZF_COMMIT_SECONDS,
	ZF_COUNT
};

static const struct {
	const char *name, *type, *help;
} zone_fields[ZF_COUNT] = {
    [ZF_SERIAL] = {"steerdns_zone_serial", "gauge", "The SOA serial served"},
    [ZF_RECORDS] = {"steerdns_zone_records", "gauge", "Records served"},
    [ZF_JOURNAL_ENTRIES] = {"steerdns_zone_journal_entries", "gauge",
                            "Change sets in the zone's journal"},
    [ZF_JOURNAL_BYTES] = {"steerdns_zone_journal_bytes", "gauge", "Size of the zone's journal"},
    [ZF_HISTORY] = {"steerdns_zone_ixfr_history_depth", "gauge",
                    "Change sets kept in memory for IXFR"},
    [ZF_CHANGES] = {"steerdns_zone_changes_total", "counter",
                    "Change sets published since start (reloads, updates, health)"},
    [ZF_TRANSFERS] = {"steerdns_zone_transfers_out_total", "counter",
                      "Outgoing zone transfers by kind (ixfr_full_zone: an IXFR answered "
                      "with the whole zone) and refused requests"},
    [ZF_UPDATES] = {"steerdns_zone_updates_total", "counter",
                    "RFC 2136 UPDATE requests by outcome"},
    [ZF_UPDATE_COMMITS] = {"steerdns_zone_update_commits_total", "counter",
                           "UPDATE transactions committed with a new serial"},
    [ZF_COMMIT_SECONDS] = {"steerdns_zone_update_last_commit_seconds", "gauge",
                           "Duration of the last UPDATE commit (build, journal fsync, "
                           "publish)"},
};

static void zone_field(void *data, const srv_zone_info_t *z)
{
	zone_pass_t *p = data;
	const char *name = zone_fields[p->field].name;
	srv_metric_label_t l[2] = {{"zone", z->name}, {NULL, NULL}};
	const srv_zone_upd_stats_t *u = z->upd;
	switch (p->field) {
	case ZF_SERIAL:
		if (z->loaded)
			srv_metric_u64(p->out, name, l, 1, z->serial);
		break;
	case ZF_RECORDS:
		if (z->loaded)
			srv_metric_u64(p->out, name, l, 1, z->records);
		break;
	case ZF_JOURNAL_ENTRIES:
		srv_metric_u64(p->out, name, l, 1, z->xfr.journal_entries);
		break;
	case ZF_JOURNAL_BYTES:
		srv_metric_u64(p->out, name, l, 1, z->xfr.journal_bytes);
		break;
	case ZF_HISTORY:
		srv_metric_u64(p->out, name, l, 1, z->xfr.history_depth);
		break;
	case ZF_CHANGES:
		srv_metric_u64(p->out, name, l, 1, z->xfr.changes);
		break;
	case ZF_TRANSFERS: {
		const struct {
			const char *kind;
			uint64_t v;
		} t[] = {{"axfr", z->xfr.axfr_out},
		         {"ixfr", z->xfr.ixfr_out},
		         {"ixfr_full_zone", z->xfr.ixfr_full_zone},
		         {"refused", z->xfr.refused}};
		for (size_t i = 0; i < SD_ARRAY_LEN(t); i++) {
			l[1] = (srv_metric_label_t){"kind", t[i].kind};
			srv_metric_u64(p->out, name, l, 2, t[i].v);
		}
		break;
	}
	case ZF_UPDATES: {
		const struct {
			const char *what;
			uint64_t v;
		} t[] = {
		    {"applied", u->applied}, {"unchanged", u->unchanged}, {"refused", u->refused}};
		for (size_t i = 0; i < SD_ARRAY_LEN(t); i++) {
			l[1] = (srv_metric_label_t){"outcome", t[i].what};
			srv_metric_u64(p->out, name, l, 2, t[i].v);
		}
		break;
	}
	case ZF_UPDATE_COMMITS:
		srv_metric_u64(p->out, name, l, 1, u->commits);
		break;
	case ZF_COMMIT_SECONDS:
		if (u->commits)
			srv_metric_f64(p->out, name, l, 1, (double)u->last_commit_ns / 1e9);
		break;
	}
}

/* --- NOTIFY per zone (server/xfr/notify.h) --- */

typedef struct zone_notify_pass {
	sd_strbuf_t *out;
	const struct xfr_notifier *notifier;
} zone_notify_pass_t;

static void zone_notify(void *data, const srv_zone_info_t *z)
{
	zone_notify_pass_t *p = data;
	xfr_notify_stats_t n;
	xfr_notifier_zone_stats(p->notifier, z->apex, &n);
	const struct {
		const char *what;
		uint64_t v;
	} t[] = {
	    {"sent", n.sent}, {"acked", n.acked}, {"rejected", n.rejected}, {"failed", n.failed}};
	for (size_t i = 0; i < SD_ARRAY_LEN(t); i++)
		srv_metric_u64(p->out, "steerdns_zone_notify_total",
		               (srv_metric_label_t[]){{"zone", z->name}, {"outcome", t[i].what}}, 2,
		               t[i].v);
}

/* --- the secondaries (server/lag.h) --- */

typedef struct sec_pass {
	sd_strbuf_t *out;
	const char *zone;
	unsigned field; /* 0 serial, 1 lag serials, 2 lag seconds, 3 misses */
} sec_pass_t;

static void sec_field(void *data, const srv_lag_sec_info_t *s)
{
	sec_pass_t *p = data;
	static const char *const names[] = {
	    "steerdns_secondary_serial", "steerdns_secondary_lag_serials",
	    "steerdns_secondary_lag_seconds", "steerdns_secondary_soa_misses"};
	srv_metric_label_t l[3] = {{"zone", p->zone},
	                           {"secondary", s->addr},
	                           {"source", s->learned ? "transfers" : "notify"}};
	if (!s->known && p->field < 3)
		return; /* no answer yet: nothing to say but the misses */
	uint64_t v = p->field == 0   ? s->serial
	             : p->field == 1 ? s->lag_serials
	             : p->field == 2 ? (uint64_t)(s->lag_seconds > 0 ? s->lag_seconds : 0)
	                             : s->misses;
	srv_metric_u64(p->out, names[p->field], l, 3, v);
}

typedef struct lag_zone_pass {
	sec_pass_t sec;
	struct srv_lag *lag;
} lag_zone_pass_t;

static void lag_zone(void *data, const srv_zone_info_t *z)
{
	lag_zone_pass_t *p = data;
	p->sec.zone = z->name;
	srv_lag_each(p->lag, z->apex, sec_field, &p->sec);
}

static void collect_zones(const srv_metrics_src_t *src, sd_strbuf_t *out)
{
	for (unsigned f = 0; f < ZF_COUNT; f++) {
		srv_metric_head(out, zone_fields[f].name, zone_fields[f].type, zone_fields[f].help);
		srv_zonedb_each(src->zones, zone_field, &(zone_pass_t){.out = out, .field = f});
	}
	if (src->lag) {
		static const char *const heads[][2] = {
		    {"steerdns_secondary_serial", "The serial a secondary was last seen serving"},
		    {"steerdns_secondary_lag_serials",
		     "RFC 1982 distance from a secondary's serial to the one served; 0 in sync"},
		    {"steerdns_secondary_lag_seconds",
		     "Seconds since a serial newer than the secondary's was first served; 0 in "
		     "sync"},
		    {"steerdns_secondary_soa_misses",
		     "SOA queries to a NOTIFY target unanswered or refused in a row"},
		};
		for (unsigned f = 0; f < SD_ARRAY_LEN(heads); f++) {
			srv_metric_head(out, heads[f][0], "gauge", heads[f][1]);
			lag_zone_pass_t p = {.sec = {.out = out, .field = f}, .lag = src->lag};
			srv_zonedb_each(src->zones, lag_zone, &p);
		}
	}
	if (src->notifier) {
		const xfr_notify_stats_t *n = xfr_notifier_stats(src->notifier);
		srv_metric_head(out, "steerdns_notify_total", "counter",
		                "NOTIFY messages sent (retries included) and their outcomes, all "
		                "zones");
		const struct {
			const char *what;
			uint64_t v;
		} t[] = {{"sent", n->sent},
		         {"acked", n->acked},
		         {"rejected", n->rejected},
		         {"failed", n->failed}};
		for (size_t i = 0; i < SD_ARRAY_LEN(t); i++)
			srv_metric_u64(out, "steerdns_notify_total",
			               &(srv_metric_label_t){"outcome", t[i].what}, 1, t[i].v);
		srv_metric_head(out, "steerdns_zone_notify_total", "counter",
		                "NOTIFY messages sent (retries included) and their outcomes, per "
		                "zone");
		srv_zonedb_each(src->zones, zone_notify,
		                &(zone_notify_pass_t){.out = out, .notifier = src->notifier});
	}
}

/* --- steering per name and pool (server/steer.h, steering/counts.h) --- */

typedef struct steer_pass {
	sd_strbuf_t *out;
	bool all_down; /* this pass writes the all-down samples, else the pools' */
} steer_pass_t;

static void steer_sample(void *data, const char *name, const char *pool, uint64_t count)
{
	steer_pass_t *p = data;
	if (p->all_down && pool == NULL)
		srv_metric_u64(p->out, "steerdns_steered_all_down_total",
		               &(srv_metric_label_t){"name", name}, 1, count);
	else if (!p->all_down && pool != NULL)
		srv_metric_u64(p->out, "steerdns_steered_pool_answers_total",
		               (srv_metric_label_t[]){{"name", name}, {"pool", pool}}, 2, count);
}

static void collect_steering(const srv_metrics_src_t *src, sd_strbuf_t *out)
{
	srv_metric_head(out, "steerdns_steered_pool_answers_total", "counter",
	                "Steered RRsets answered from a pool, per policy owner name and pool "
	                "(kept across reloads while the name and pool stay configured)");
	srv_steer_counts_each(src->steer, steer_sample, &(steer_pass_t){.out = out});
	srv_metric_head(out, "steerdns_steered_all_down_total", "counter",
	                "Steered RRsets answered while every candidate was down (the all-down "
	                "mode), per policy owner name");
	srv_steer_counts_each(src->steer, steer_sample,
	                      &(steer_pass_t){.out = out, .all_down = true});
}

static void collect_health(const srv_metrics_src_t *src, sd_strbuf_t *out)
{
	health_stats_t h;
	health_stats(src->health, &h);
	srv_metric_head(out, "steerdns_health_targets", "gauge",
	                "Health targets by state (forced_*: an operator override is in force)");
	const struct {
		const char *state;
		uint64_t v;
	} t[] = {{"up", h.up},
	         {"down", h.down},
	         {"forced_up", h.forced_up},
	         {"forced_down", h.forced_down}};
	for (size_t i = 0; i < SD_ARRAY_LEN(t); i++)
		srv_metric_u64(out, "steerdns_health_targets",
		               &(srv_metric_label_t){"state", t[i].state}, 1, t[i].v);
	metric_one(out, "steerdns_health_transitions_total", "counter",
	           "Health verdict changes (up to down or back) after the thresholds",
	           h.transitions);
	metric_one(out, "steerdns_health_checks_total", "counter", "Health checks finished",
	           h.checks_done);
	metric_one(out, "steerdns_health_checks_failed_total", "counter", "Health checks failed",
	           h.checks_failed);
	const char *name = "steerdns_health_check_duration_seconds";
	srv_metric_head(out, name, "histogram", "Latency of finished health checks");
	char bucket[64];
	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	uint64_t cum = 0;
	for (size_t i = 0; i <= HEALTH_LAT_BUCKETS; i++) {
		char le[32] = "+Inf";
		cum += h.lat_hist[i];
		if (i < HEALTH_LAT_BUCKETS)
			snprintf(le, sizeof(le), "%g", health_lat_bounds_ms[i] / 1000.0);
		srv_metric_u64(out, bucket, &(srv_metric_label_t){"le", le}, 1, cum);
	}
	char sum[64], count[64];
	snprintf(sum, sizeof(sum), "%s_sum", name);
	snprintf(count, sizeof(count), "%s_count", name);
	srv_metric_f64(out, sum, NULL, 0, h.lat_sum_ms / 1000.0);
	srv_metric_u64(out, count, NULL, 0, h.lat_count);
}

void srv_metrics_collect(const srv_metrics_src_t *src, sd_strbuf_t *out)
{
	metric_one(out, "steerdns_uptime_seconds", "gauge", "Seconds since steerdns started",
	           (uint64_t)(src->uptime_s > 0 ? src->uptime_s : 0));
	metric_one(out, "steerdns_workers", "gauge", "Query worker threads", src->nworkers);
	collect_queries(src, out);
	collect_workers(src, out);
	collect_abuse(src, out);
	collect_zones(src, out);
	if (src->health)
		collect_health(src, out);
	if (src->steer)
		collect_steering(src, out);
}

/* ------------------------------------------------------------ HTTP */

typedef struct mconn {
	struct mconn *next;
	srv_metrics_http_t *m;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	uv_shutdown_t sd;
	unsigned open; /* handles not yet closed */
	bool answered; /* the answer is written or being written: input is discarded */
	bool closing;
	size_t len;
	sd_strbuf_t resp;
	char buf[METRICS_REQ_MAX];
} mconn_t;

struct srv_metrics_http {
	uv_loop_t *loop;
	uv_tcp_t listener;
	bool listener_open;
	bool closing;
	mconn_t *conns;
	unsigned nconns; /* connections not closing: METRICS_CONNS_MAX bounds these */
	srv_metrics_collect_fn collect;
	void *data;
	uint64_t served;
};

static void conn_handle_closed(uv_handle_t *h)
{
	mconn_t *c = h->data;
	if (--c->open > 0)
		return;
	srv_metrics_http_t *m = c->m;
	for (mconn_t **p = &m->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	sd_strbuf_free(&c->resp);
	free(c);
}

/* The slot is free at once: uv_close closes the socket now, and libuv may accept the next
 * connection in the same loop iteration, before the handles' close callbacks run (seen under
 * load: a client that saw our side closed was refused as the 17th). */
static void conn_close(mconn_t *c)
{
	if (c->closing)
		return;
	c->closing = true;
	c->m->nconns--;
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
}

static void on_conn_timeout(uv_timer_t *t)
{
	conn_close(t->data);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	mconn_t *c = req->data;
	if (status < 0) /* the peer went away: nothing more to wait for */
		conn_close(c);
	/* else: read on until the peer's EOF (or the timer), so that unread input does not
	 * turn our close into a reset that could discard the answer */
}

static void on_written(uv_write_t *req, int status)
{
	mconn_t *c = req->data;
	if (status < 0 || c->closing) {
		conn_close(c);
		return;
	}
	c->sd.data = c;
	if (uv_shutdown(&c->sd, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
		conn_close(c);
}

static void respond(mconn_t *c, unsigned code, const char *reason, const char *extra,
                    const sd_strbuf_t *body, bool head_only)
{
	c->answered = true;
	sd_strbuf_reset(&c->resp);
	const char *ctype =
	    code == 200 ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8";
	sd_strbuf_printf(&c->resp,
	                 "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	                 "Connection: close\r\n%s\r\n",
	                 code, reason, ctype, body->len, extra ? extra : "");
	if (!head_only && body->len)
		sd_strbuf_append(&c->resp, sd_strbuf_str(body), body->len);
	if (c->resp.oom) {
		conn_close(c);
		return;
	}
	uv_buf_t b = uv_buf_init((char *)sd_strbuf_str(&c->resp), (unsigned)c->resp.len);
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0)
		conn_close(c);
}

static void respond_text(mconn_t *c, unsigned code, const char *reason, const char *extra,
                         bool head_only)
{
	sd_strbuf_t body = SD_STRBUF_INIT;
	sd_strbuf_printf(&body, "%u %s\n", code, reason);
	respond(c, code, reason, extra, &body, head_only);
	sd_strbuf_free(&body);
}

/* The request head is complete in c->buf[0..len): answer it. */
static void handle_request(mconn_t *c)
{
	/* request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 3) */
	char *eol = memchr(c->buf, '\n', c->len);
	char *sp1 = eol ? memchr(c->buf, ' ', (size_t)(eol - c->buf)) : NULL;
	char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp2 || sp1 == c->buf || sp2 == sp1 + 1 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		respond_text(c, 400, "Bad Request", NULL, false);
		return;
	}
	size_t mlen = (size_t)(sp1 - c->buf);
	bool get = mlen == 3 && memcmp(c->buf, "GET", 3) == 0;
	bool head = mlen == 4 && memcmp(c->buf, "HEAD", 4) == 0;
	if (!get && !head) {
		respond_text(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n", false);
		return;
	}
	size_t plen = (size_t)(sp2 - sp1 - 1);
	const char *path = sp1 + 1;
	const char *q = memchr(path, '?', plen);
	if (q)
		plen = (size_t)(q - path);
	if (plen != 8 || memcmp(path, "/metrics", 8) != 0) {
		respond_text(c, 404, "Not Found", NULL, head);
		return;
	}
	sd_strbuf_t body = SD_STRBUF_INIT;
	c->m->collect(c->m->data, &body);
	c->m->served++;
	if (body.oom)
		respond_text(c, 500, "Internal Server Error", NULL, head);
	else
		respond(c, 200, "OK", NULL, &body, head);
	sd_strbuf_free(&body);
}

/* The end of the request head: an empty line (CRLF CRLF, or LF LF from lenient clients). */
static bool head_complete(const mconn_t *c)
{
	for (size_t i = 0; i + 1 < c->len; i++)
		if (c->buf[i] == '\n' &&
		    (c->buf[i + 1] == '\n' ||
		     (c->buf[i + 1] == '\r' && i + 2 < c->len && c->buf[i + 2] == '\n')))
			return true;
	return false;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	mconn_t *c = h->data;
	(void)suggested;
	if (c->answered || c->len >= sizeof(c->buf)) {
		/* discard: the head is handled; the scratch end of buf is reused */
		static char sink[4096];
		*buf = uv_buf_init(sink, sizeof(sink));
		return;
	}
	*buf = uv_buf_init(c->buf + c->len, (unsigned)(sizeof(c->buf) - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	mconn_t *c = s->data;
	(void)buf;
	if (n < 0) {
		conn_close(c);
		return;
	}
	if (n == 0 || c->answered || c->closing)
		return;
	c->len += (size_t)n;
	if (head_complete(c))
		handle_request(c);
	else if (c->len >= sizeof(c->buf))
		respond_text(c, 431, "Request Header Fields Too Large", NULL, false);
}

static void drop_closed(uv_handle_t *h)
{
	free(h);
}

static void on_connection(uv_stream_t *server, int status)
{
	srv_metrics_http_t *m = server->data;
	if (status < 0 || m->closing)
		return;
	mconn_t *c = m->nconns < METRICS_CONNS_MAX ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		/* over the limit: accepted to take it off the backlog, and closed at once (a
		 * connection that cannot even be accepted pauses the listener: libuv polls it
		 * again once one is accepted) */
		uv_tcp_t *drop = malloc(sizeof(*drop));
		if (!drop || uv_tcp_init(m->loop, drop) < 0) {
			free(drop);
			return;
		}
		if (uv_accept(server, (uv_stream_t *)drop) < 0 ||
		    uv_tcp_close_reset(drop, drop_closed) < 0)
			uv_close((uv_handle_t *)drop, drop_closed);
		return;
	}
	c->m = m;
	uv_tcp_init(m->loop, &c->tcp);
	uv_timer_init(m->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open = 2;
	c->next = m->conns;
	m->conns = c;
	m->nconns++;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 ||
	    uv_timer_start(&c->timer, on_conn_timeout, METRICS_IDLE_MS, 0) < 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
		conn_close(c);
}

int srv_metrics_http_new(uv_loop_t *loop, const srv_addr_t *addr, srv_metrics_collect_fn collect,
                         void *data, srv_metrics_http_t **out)
{
	srv_metrics_http_t *m = calloc(1, sizeof(*m));
	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->collect = collect;
	m->data = data;
	*out = m;
	int ret = uv_tcp_init(loop, &m->listener);
	if (ret < 0)
		return ret;
	m->listener_open = true;
	m->listener.data = m;
	char text[SRV_ADDR_STRLEN];
	srv_addr_str((const struct sockaddr *)&addr->ss, text, sizeof(text));
	ret = uv_tcp_bind(&m->listener, (const struct sockaddr *)&addr->ss, 0);
	if (ret == 0)
		ret = uv_listen((uv_stream_t *)&m->listener, 64, on_connection);
	if (ret < 0) {
		log_error("event=metrics-listen-failed address=%s reason=%s", text,
		          LOG_Q(uv_strerror(ret)));
		return ret;
	}
	log_info("event=metrics-listening address=%s url=http://%s/metrics", text, text);
	return 0;
}

void srv_metrics_http_close(srv_metrics_http_t *m)
{
	if (!m || m->closing)
		return;
	m->closing = true;
	if (m->listener_open)
		uv_close((uv_handle_t *)&m->listener, NULL);
	for (mconn_t *c = m->conns; c; c = c->next)
		conn_close(c);
}

void srv_metrics_http_free(srv_metrics_http_t *m)
{
	if (!m)
		return;
	/* closed and the loop has run: every connection freed itself */
	free(m);
}
