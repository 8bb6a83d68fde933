/* lag.c — the secondaries of each zone and their serials (see lag.h). */
#include "server/lag.h"

#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/proto.h"
#include "dns/rr.h"
#include "dns/soa.h"
#include "server/zonedb.h"
#include "zone/serial.h"
#include "zone/zone.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LAG_PUBLISHED        64    /* publish times remembered per zone */
#define LAG_OBS_MAX          256   /* transfer reports queued between two drains */
#define LAG_FIRST_MS         2000  /* first SOA query after a new serial */
#define LAG_STEADY_MS        30000 /* a secondary in sync is asked this often */
#define LAG_WAITED_MS        1000  /* ... and one lagging while a wait-sync waits */
#define LAG_QUERY_TIMEOUT_MS 3000  /* an unanswered SOA query is a miss after this */
#define LAG_NAME_TEXT        (4 * DNAME_MAX + 1)
#define LAG_MISSES_LOGGED    3 /* misses in a row logged as secondary-unreachable */

/* A secondary's state as its event lines last told it (sec_note). */
typedef enum {
	LAG_LOG_NONE = 0,
	LAG_LOG_SYNCED,
	LAG_LOG_BEHIND,
	LAG_LOG_UNREACHABLE,
} lag_log_t;

/* One transfer as a worker reported it. */
typedef struct lag_obs {
	uint8_t apex[DNAME_MAX];
	struct sockaddr_storage peer;
	bool has_client; /* an IXFR: the client's serial */
	uint32_t client;
	uint32_t served; /* the serial transferred */
	bool done;       /* the last message was written */
	const char *kind;
} lag_obs_t;

/* One secondary of one zone. */
typedef struct lag_sec {
	struct sockaddr_storage addr; /* a learned one: port 0 */
	bool learned;                 /* from transfers, not a NOTIFY target */
	bool returned;                /* learned: came back (an IXFR, a second transfer) */
	bool mark;                    /* reconcile: still a target */
	bool known;                   /* serial is valid */
	uint32_t serial;
	int64_t seen_ms;  /* when serial was last confirmed (loop time); a learned one: its
	                   * last transfer, which its expiry counts from */
	const char *how;  /* "soa", "ixfr request", "axfr", ... */
	int64_t next_ms;  /* targets: the next SOA query */
	unsigned backoff; /* ms between queries while it lags */
	bool in_flight;
	uint16_t id;
	int64_t sent_ms;
	unsigned misses;        /* queries unanswered (or refused) in a row */
	lag_log_t logged;       /* the last state logged */
	uint32_t logged_serial; /* and the secondary's serial it named */
	int rcode;              /* of the last answer: not 0 means it does not serve the zone */
} lag_sec_t;

typedef struct lag_pub {
	uint32_t serial;
	int64_t at_ms;
} lag_pub_t;

typedef struct lag_zone {
	struct lag_zone *next;
	uint8_t apex[DNAME_MAX];
	char name[LAG_NAME_TEXT];
	lag_sec_t *secs;
	size_t n, cap;
	lag_pub_t pub[LAG_PUBLISHED]; /* a ring, oldest at pub[head] once full */
	size_t npub, head;
} lag_zone_t;

typedef struct lag_waiter {
	struct lag_waiter *next;
	uint8_t apex[DNAME_MAX];
	uint32_t serial;
	int64_t started_ms, deadline_ms;
	srv_lag_done_fn done; /* NULL: forgotten */
	void *arg;
} lag_waiter_t;

struct srv_lag {
	uv_loop_t *loop;
	srv_zonedb_t *zs;
	uv_timer_t timer;
	int64_t due; /* when the timer fires (loop time); INT64_MAX: stopped */
	uv_async_t async;
	uv_udp_t sock[2]; /* [0] IPv4, [1] IPv6: SOA queries */
	bool sock_open[2];
	bool closing;
	lag_zone_t *zones;
	lag_waiter_t *waiters;
	pthread_mutex_t mu; /* guards obs, nobs, dropped, closed */
	lag_obs_t obs[LAG_OBS_MAX];
	size_t nobs;
	uint64_t dropped;
	bool closed;
	lag_obs_t drained[LAG_OBS_MAX];
	uint8_t rbuf[65536];
};

static int64_t now_ms(const srv_lag_t *l)
{
	return (int64_t)uv_now(l->loop);
}

static void lag_arm(srv_lag_t *l);
static void lag_wake(srv_lag_t *l, int64_t at);
static void on_tick(uv_timer_t *t);

static bool serial_ge(uint32_t a, uint32_t b)
{
	return a == b || zone_serial_gt(a, b);
}

/* ------------------------------------------------------------ addresses */

static bool same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	              &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

static uint16_t port_of(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)a)->sin_port)
	                               : ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return same_ip(a, b) && port_of(a) == port_of(b);
}

/* "ADDR:PORT" for a target, "ADDR" for a learned secondary. */
static void sec_str(const lag_sec_t *s, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	const void *ip = s->addr.ss_family == AF_INET
	                     ? (const void *)&((const struct sockaddr_in *)&s->addr)->sin_addr
	                     : (const void *)&((const struct sockaddr_in6 *)&s->addr)->sin6_addr;
	inet_ntop(s->addr.ss_family, ip, host, sizeof(host));
	if (s->learned)
		snprintf(buf, size, "%s", host);
	else
		snprintf(buf, size, s->addr.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
		         port_of(&s->addr));
}

/* ------------------------------------------------------------ zones */

static lag_zone_t *lz_find(srv_lag_t *l, const uint8_t *apex)
{
	for (lag_zone_t *z = l->zones; z; z = z->next)
		if (dname_equal(z->apex, apex))
			return z;
	return NULL;
}

static lag_zone_t *lz_get(srv_lag_t *l, const uint8_t *apex)
{
	lag_zone_t *z = lz_find(l, apex);
	if (z || !(z = calloc(1, sizeof(*z))))
		return z;
	memcpy(z->apex, apex, dname_len(apex));
	dname_to_str(apex, z->name, sizeof(z->name));
	z->next = l->zones;
	l->zones = z;
	return z;
}

static void lz_free(lag_zone_t *z)
{
	free(z->secs);
	free(z);
}

static lag_sec_t *sec_add(lag_zone_t *z, const struct sockaddr_storage *addr, bool learned)
{
	if (z->n == z->cap) {
		size_t cap = z->cap ? 2 * z->cap : 4;
		lag_sec_t *more = realloc(z->secs, cap * sizeof(*more));
		if (!more)
			return NULL;
		z->secs = more;
		z->cap = cap;
	}
	lag_sec_t *s = &z->secs[z->n++];
	*s = (lag_sec_t){.addr = *addr, .learned = learned, .backoff = LAG_FIRST_MS};
	return s;
}

static void sec_remove(lag_zone_t *z, size_t i)
{
	z->secs[i] = z->secs[--z->n];
}

/* The serial served now and the zone's SOA expire (seconds); false when not served. */
static bool lz_served(const srv_lag_t *l, const lag_zone_t *z, uint32_t *serial, uint32_t *expire)
{
	zone_t *zz = srv_zonedb_zone(l->zs, z->apex);
	const zone_version_t *v = zz ? zone_current(zz) : NULL;
	if (!v)
		return false;
	const zone_rrset_t *soa = zone_version_soa(v);
	uint16_t rdlen = be16_get(soa->rdata);
	*serial = zone_version_serial(v);
	*expire = rdlen >= DNS_SOA_MIN_LEN ? dns_soa_expire(soa->rdata + 2, rdlen) : 0;
	return true;
}

/* A learned secondary that is in fact a NOTIFY target (same address). */
static bool learned_is_target(const lag_zone_t *z, const lag_sec_t *s)
{
	for (size_t i = 0; i < z->n; i++)
		if (!z->secs[i].learned && same_ip(&z->secs[i].addr, &s->addr))
			return true;
	return false;
}

/* Whether s is shown in status. */
static bool sec_visible(const lag_zone_t *z, const lag_sec_t *s)
{
	return !s->learned || !learned_is_target(z, s);
}

/* Whether wait-sync waits for s: a learned address only once it came back for the zone (one
 * AXFR by hand, `dig axfr`, must not hold every deploy's gate until the SOA expire). */
static bool sec_waited(const lag_zone_t *z, const lag_sec_t *s)
{
	return sec_visible(z, s) && (!s->learned || s->returned);
}

/* Make the targets the zone's NOTIFY targets now (a reload may change them); drop learned
 * secondaries past the SOA expire. */
static void lz_reconcile(srv_lag_t *l, lag_zone_t *z, uint32_t expire)
{
	const xfr_notify_target_t *t = NULL;
	size_t nt = 0;
	srv_zonedb_notify_targets(l->zs, z->apex, &t, &nt);
	for (size_t i = 0; i < z->n; i++)
		z->secs[i].mark = false;
	for (size_t k = 0; k < nt; k++) {
		lag_sec_t *s = NULL;
		for (size_t i = 0; i < z->n && !s; i++)
			if (!z->secs[i].learned && same_addr(&z->secs[i].addr, &t[k].addr))
				s = &z->secs[i];
		if (!s && (s = sec_add(z, &t[k].addr, false)))
			s->next_ms = now_ms(l); /* a new target: ask at once */
		if (s)
			s->mark = true;
	}
	int64_t now = now_ms(l);
	for (size_t i = z->n; i-- > 0;) {
		const lag_sec_t *s = &z->secs[i];
		if ((!s->learned && !s->mark) ||
		    (s->learned && now - s->seen_ms > (int64_t)expire * 1000))
			sec_remove(z, i);
	}
}

/* ------------------------------------------------------------ lag */

/* The time since the primary first served a serial newer than s; *lower when that is before
 * the oldest publish remembered. */
static int64_t lag_seconds(const lag_zone_t *z, uint32_t s, int64_t now, bool *lower)
{
	*lower = false;
	for (size_t k = 0; k < z->npub; k++) {
		const lag_pub_t *p = &z->pub[(z->head + k) % LAG_PUBLISHED];
		if (zone_serial_gt(p->serial, s)) {
			*lower = k == 0;
			return (now - p->at_ms) / 1000;
		}
	}
	return 0;
}

/* "serial N lag K serials / S seconds ..." or "serial N in sync", no newline. */
static void sec_describe(const lag_zone_t *z, const lag_sec_t *s, uint32_t cur, int64_t now,
                         sd_strbuf_t *out)
{
	char addr[INET6_ADDRSTRLEN + 16];
	sec_str(s, addr, sizeof(addr));
	sd_strbuf_printf(out, "%s%s", addr,
	                 !s->learned   ? ""
	                 : s->returned ? " (transfers)"
	                               : " (transferred once: not waited for)");
	if (!s->known) {
		sd_strbuf_printf(out, " serial ? (no answer yet");
	} else if (serial_ge(s->serial, cur)) {
		sd_strbuf_printf(out, " serial %u in sync (%s %llds ago", s->serial, s->how,
		                 (long long)((now - s->seen_ms) / 1000));
	} else {
		bool lower;
		int64_t secs = lag_seconds(z, s->serial, now, &lower);
		sd_strbuf_printf(out, " serial %u lag %u serials / %s%lld seconds (%s %llds ago",
		                 s->serial, cur - s->serial, lower ? ">=" : "", (long long)secs,
		                 s->how, (long long)((now - s->seen_ms) / 1000));
	}
	if (s->misses)
		sd_strbuf_printf(out, "; %u SOA queries unanswered%s", s->misses,
		                 s->rcode > 0 ? " or refused" : "");
	sd_strbuf_printf(out, ")");
}

void srv_lag_status(srv_lag_t *l, const uint8_t *apex, sd_strbuf_t *out)
{
	lag_zone_t *z = lz_find(l, apex);
	uint32_t cur, expire;
	if (!z || !lz_served(l, z, &cur, &expire))
		return;
	size_t n = 0;
	for (size_t i = 0; i < z->n; i++)
		n += sec_visible(z, &z->secs[i]);
	sd_strbuf_printf(out, "  secondaries: %zu%s\n", n, n ? "" : " known");
	int64_t now = now_ms(l);
	for (size_t i = 0; i < z->n; i++) {
		if (!sec_visible(z, &z->secs[i]))
			continue;
		sd_strbuf_printf(out, "    ");
		sec_describe(z, &z->secs[i], cur, now, out);
		sd_strbuf_printf(out, "\n");
	}
}

void srv_lag_each(srv_lag_t *l, const uint8_t *apex,
                  void (*fn)(void *data, const srv_lag_sec_info_t *info), void *data)
{
	lag_zone_t *z = lz_find(l, apex);
	uint32_t cur, expire;
	if (!z || !lz_served(l, z, &cur, &expire))
		return;
	int64_t now = now_ms(l);
	for (size_t i = 0; i < z->n; i++) {
		const lag_sec_t *s = &z->secs[i];
		if (!sec_visible(z, s))
			continue;
		srv_lag_sec_info_t info = {
		    .learned = s->learned,
		    .known = s->known,
		    .serial = s->serial,
		    .misses = s->misses,
		};
		sec_str(s, info.addr, sizeof(info.addr));
		if (s->known && !serial_ge(s->serial, cur)) {
			bool lower;
			info.lag_serials = cur - s->serial;
			info.lag_seconds = lag_seconds(z, s->serial, now, &lower);
		}
		fn(data, &info);
	}
}

/* ------------------------------------------------------------ waiters */

static bool lz_waited(const srv_lag_t *l, const uint8_t *apex)
{
	for (const lag_waiter_t *w = l->waiters; w; w = w->next)
		if (dname_equal(w->apex, apex))
			return true;
	return false;
}

/* Every visible secondary serves serial or newer. */
static bool lz_synced(const lag_zone_t *z, uint32_t serial)
{
	for (size_t i = 0; i < z->n; i++) {
		const lag_sec_t *s = &z->secs[i];
		if (sec_waited(z, s) && !(s->known && serial_ge(s->serial, serial)))
			return false;
	}
	return true;
}

/* The waiter's answer if it is over (0 synced, SRV_CTL_RET_FALSE past its deadline, a
 * negative code when the zone went away), or 1 while it goes on. */
static int waiter_outcome(srv_lag_t *l, const lag_waiter_t *w, sd_strbuf_t *out)
{
	lag_zone_t *z = lz_find(l, w->apex);
	uint32_t cur, expire;
	char name[LAG_NAME_TEXT];
	dname_to_str(w->apex, name, sizeof(name));
	if (!z || !lz_served(l, z, &cur, &expire)) {
		sd_strbuf_printf(out, "zone %s is not served\n", name);
		return SD_ENOTFOUND;
	}
	int64_t now = now_ms(l);
	bool synced = lz_synced(z, w->serial);
	if (!synced && now < w->deadline_ms)
		return 1;
	size_t n = 0;
	for (size_t i = 0; i < z->n; i++)
		n += sec_waited(z, &z->secs[i]);
	if (synced)
		sd_strbuf_printf(out, "zone %s serial %u: served by all %zu secondar%s (%.1f s)\n",
		                 name, w->serial, n, n == 1 ? "y" : "ies",
		                 (double)(now - w->started_ms) / 1000);
	else
		sd_strbuf_printf(out,
		                 "zone %s serial %u: not served by every secondary after %.1f s\n",
		                 name, w->serial, (double)(now - w->started_ms) / 1000);
	for (size_t i = 0; i < z->n; i++) {
		const lag_sec_t *s = &z->secs[i];
		if (!sec_waited(z, s))
			continue;
		bool ok = s->known && serial_ge(s->serial, w->serial);
		sd_strbuf_printf(out, "  %s ", ok ? "ok  " : "LAGS");
		sec_describe(z, s, cur, now, out);
		sd_strbuf_printf(out, "\n");
	}
	return synced ? 0 : SRV_CTL_RET_FALSE;
}

static void waiters_check(srv_lag_t *l)
{
	for (lag_waiter_t **pw = &l->waiters; *pw;) {
		lag_waiter_t *w = *pw;
		sd_strbuf_t out = {0};
		int ret = l->closing ? -ECANCELED : waiter_outcome(l, w, &out);
		if (ret == 1) {
			sd_strbuf_free(&out);
			pw = &w->next;
			continue;
		}
		if (ret == -ECANCELED)
			sd_strbuf_printf(&out, "wait-sync cancelled: steerdns is stopping\n");
		*pw = w->next;
		if (w->done)
			w->done(w->arg, ret, &out);
		sd_strbuf_free(&out);
		free(w);
	}
}

/* ------------------------------------------------------------ SOA queries */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	srv_lag_t *l = h->data;
	*buf = uv_buf_init((char *)l->rbuf, sizeof(l->rbuf));
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags);

static int sock_open(srv_lag_t *l, int family)
{
	int i = family == AF_INET6;
	if (l->sock_open[i])
		return 0;
	struct sockaddr_storage any = {.ss_family = (sa_family_t)family};
	int rc = uv_udp_init(l->loop, &l->sock[i]);
	if (rc != 0)
		return rc;
	l->sock[i].data = l;
	l->sock_open[i] = true;
	rc = uv_udp_bind(&l->sock[i], (const struct sockaddr *)&any, 0);
	if (rc == 0)
		rc = uv_udp_recv_start(&l->sock[i], on_alloc, on_recv);
	return rc;
}

/* Ask s for the zone's SOA: header, question <apex> SOA IN, RD clear. */
static void soa_query(srv_lag_t *l, const lag_zone_t *z, lag_sec_t *s)
{
	uint8_t msg[DNS_HEADER_LEN + DNAME_MAX + 4] = {0};
	size_t nl = dname_len(z->apex);
	s->id = dns_msg_random_id();
	be16_put(msg, s->id);
	be16_put(msg + 4, 1); /* QDCOUNT */
	memcpy(msg + DNS_HEADER_LEN, z->apex, nl);
	be16_put(msg + DNS_HEADER_LEN + nl, DNS_TYPE_SOA);
	be16_put(msg + DNS_HEADER_LEN + nl + 2, DNS_CLASS_IN);
	int rc = sock_open(l, s->addr.ss_family);
	if (rc == 0) {
		uv_buf_t b = uv_buf_init((char *)msg, (unsigned)(DNS_HEADER_LEN + nl + 4));
		rc = uv_udp_try_send(&l->sock[s->addr.ss_family == AF_INET6], &b, 1,
		                     (const struct sockaddr *)&s->addr);
	}
	if (rc < 0) {
		char addr[INET6_ADDRSTRLEN + 16];
		sec_str(s, addr, sizeof(addr));
		log_debug("lag: SOA query for %s to %s not sent: %s", z->name, addr,
		          uv_strerror(rc));
	}
	s->in_flight = true; /* a failed send is a lost datagram: it times out */
	s->sent_ms = now_ms(l);
}

/* Log the secondary's state when it changed since the last line: secondary-synced (info)
 * when it is seen serving the served serial (once per serial), secondary-lagging (notice)
 * when an observation shows it behind the served serial (once per serial it is seen with),
 * secondary-unreachable (warning) after LAG_MISSES_LOGGED queries in a row went unanswered
 * or were refused. A serial published and not yet observed logs nothing: a secondary that
 * transfers it before the next SOA query only logs secondary-synced. */
static void sec_note(const srv_lag_t *l, const lag_zone_t *z, lag_sec_t *s, uint32_t cur)
{
	lag_log_t st = s->misses >= LAG_MISSES_LOGGED ? LAG_LOG_UNREACHABLE
	               : !s->known                    ? LAG_LOG_NONE
	               : serial_ge(s->serial, cur)    ? LAG_LOG_SYNCED
	                                              : LAG_LOG_BEHIND;
	if (st == LAG_LOG_NONE ||
	    (st == s->logged && (st == LAG_LOG_UNREACHABLE || s->serial == s->logged_serial)))
		return;
	s->logged = st;
	s->logged_serial = s->serial;
	char zone[LAG_NAME_TEXT], who[INET6_ADDRSTRLEN + 16];
	dname_to_str_nodot(z->apex, zone, sizeof(zone));
	sec_str(s, who, sizeof(who));
	const char *source = s->learned ? "transfers" : "notify";
	if (st == LAG_LOG_UNREACHABLE) {
		log_warning("event=secondary-unreachable zone=%s peer=%s source=%s misses=%u%s",
		            zone, who, source, s->misses, s->rcode > 0 ? " reason=refused" : "");
	} else if (st == LAG_LOG_SYNCED) {
		log_info("event=secondary-synced zone=%s peer=%s source=%s serial=%u how=%s", zone,
		         who, source, s->serial, LOG_Q(s->how));
	} else {
		bool lower;
		int64_t secs = lag_seconds(z, s->serial, now_ms(l), &lower);
		log_notice("event=secondary-lagging zone=%s peer=%s source=%s serial=%u served=%u "
		           "lag_serials=%u lag_seconds=%lld%s how=%s",
		           zone, who, source, s->serial, cur, cur - s->serial, (long long)secs,
		           lower ? " lag_seconds_at_least=yes" : "", LOG_Q(s->how));
	}
}

/* The next query of a target after an answer or a miss. */
static void sec_schedule(srv_lag_t *l, const lag_zone_t *z, lag_sec_t *s, uint32_t cur)
{
	int64_t now = now_ms(l);
	if (s->known && s->rcode == 0 && serial_ge(s->serial, cur)) {
		s->backoff = LAG_FIRST_MS;
		s->next_ms = now + LAG_STEADY_MS;
		return;
	}
	s->next_ms = now + s->backoff;
	s->backoff = s->backoff * 2 > LAG_STEADY_MS ? LAG_STEADY_MS : s->backoff * 2;
	if (lz_waited(l, z->apex) && s->next_ms > now + LAG_WAITED_MS)
		s->next_ms = now + LAG_WAITED_MS;
}

/* Send the queries that are due, expire those unanswered. */
static void lz_poll(srv_lag_t *l, lag_zone_t *z, uint32_t cur)
{
	int64_t now = now_ms(l);
	bool waited = lz_waited(l, z->apex);
	for (size_t i = 0; i < z->n; i++) {
		lag_sec_t *s = &z->secs[i];
		if (s->learned)
			continue;
		if (s->in_flight && now - s->sent_ms >= LAG_QUERY_TIMEOUT_MS) {
			s->in_flight = false;
			s->misses++;
			sec_schedule(l, z, s, cur);
			sec_note(l, z, s, cur);
		}
		bool behind = !s->known || !serial_ge(s->serial, cur);
		if (waited && behind && s->next_ms > now + LAG_WAITED_MS)
			s->next_ms = now + LAG_WAITED_MS;
		if (!s->in_flight && now >= s->next_ms)
			soa_query(l, z, s);
	}
}

/* The SOA serial of the answer to apex's question, or false. */
static bool answer_serial(const uint8_t *m, size_t len, const uint8_t *apex, uint32_t *serial)
{
	dns_rr_iter_t it;
	dns_rr_t rr;
	uint8_t name[DNAME_MAX];
	if (dns_rr_iter_init(&it, m, len) < 0 || it.count[DNS_SEC_QD] != 1)
		return false;
	while (dns_rr_iter_next(&it, &rr) == 0) {
		size_t pos = rr.owner;
		if (dname_parse(m, len, &pos, name) < 0)
			return false;
		dname_lower(name);
		if (!dname_equal(name, apex))
			return false;
		if (rr.section == DNS_SEC_AN && rr.type == DNS_TYPE_SOA &&
		    rr.rdlength >= DNS_SOA_MIN_LEN) {
			*serial = be32_get(m + dns_rr_end(&rr) - DNS_SOA_FIXED);
			return true;
		}
		if (rr.section != DNS_SEC_QD || rr.type != DNS_TYPE_SOA)
			return false;
	}
	return false;
}

static bool find_query(srv_lag_t *l, uint16_t id, const struct sockaddr_storage *from,
                       lag_zone_t **zout, lag_sec_t **sout)
{
	for (lag_zone_t *z = l->zones; z; z = z->next)
		for (size_t i = 0; i < z->n; i++) {
			lag_sec_t *s = &z->secs[i];
			if (!s->learned && s->in_flight && s->id == id &&
			    same_addr(&s->addr, from)) {
				*zout = z;
				*sout = s;
				return true;
			}
		}
	return false;
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags)
{
	srv_lag_t *l = h->data;
	const uint8_t *m = (const uint8_t *)buf->base;
	if (nread < DNS_HEADER_LEN || from == NULL || l->closing)
		return;
	struct sockaddr_storage peer = {0};
	memcpy(&peer, from,
	       from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                   : sizeof(struct sockaddr_in));
	uint16_t fl = be16_get(m + 2);
	lag_zone_t *z;
	lag_sec_t *s;
	if (!(fl & DNS_FLAG_QR) || !find_query(l, be16_get(m), &peer, &z, &s))
		return;
	uint32_t serial, cur, expire;
	if (!lz_served(l, z, &cur, &expire))
		return;
	s->in_flight = false;
	s->rcode = fl & 0xf;
	if (s->rcode == 0 && answer_serial(m, (size_t)nread, z->apex, &serial)) {
		s->known = true;
		s->serial = serial;
		s->seen_ms = now_ms(l);
		s->how = "soa";
		s->misses = 0;
	} else {
		s->misses++; /* REFUSED, NOTAUTH, no SOA: it does not serve the zone (yet) */
	}
	sec_schedule(l, z, s, cur);
	sec_note(l, z, s, cur);
	waiters_check(l);
	lag_wake(l, s->next_ms); /* nothing earlier: the miss it was armed for is gone */
}

/* ------------------------------------------------------------ transfers */

void srv_lag_transfer(srv_lag_t *l, const xfr_out_t *x, const struct sockaddr *peer, int rc)
{
	if (!l || !peer || (peer->sa_family != AF_INET && peer->sa_family != AF_INET6))
		return;
	lag_obs_t o = {.served = xfr_out_serial(x), .done = rc == 0};
	memcpy(o.apex, xfr_out_apex(x), dname_len(xfr_out_apex(x)));
	memcpy(&o.peer, peer,
	       peer->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                   : sizeof(struct sockaddr_in));
	if (o.peer.ss_family == AF_INET)
		((struct sockaddr_in *)&o.peer)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&o.peer)->sin6_port = 0;
	o.has_client = xfr_out_client_serial(x, &o.client);
	o.kind = xfr_out_kind_name(xfr_out_kind(x));
	pthread_mutex_lock(&l->mu);
	bool wake = !l->closed;
	if (wake && l->nobs < LAG_OBS_MAX)
		l->obs[l->nobs++] = o;
	else if (wake)
		l->dropped++;
	if (wake)
		uv_async_send(&l->async);
	pthread_mutex_unlock(&l->mu);
}

/* One transfer report, on the control loop. */
static void obs_apply(srv_lag_t *l, const lag_obs_t *o)
{
	lag_zone_t *z = lz_find(l, o->apex);
	if (!z)
		return;
	lag_sec_t *s = NULL;
	for (size_t i = 0; i < z->n && !s; i++)
		if (z->secs[i].learned && same_ip(&z->secs[i].addr, &o->peer))
			s = &z->secs[i];
	int64_t now = now_ms(l);
	if (!o->done && !o->has_client)
		return; /* an AXFR abandoned: it tells nothing */
	if (s)
		s->returned = true;
	else if (!(s = sec_add(z, &o->peer, true)))
		return;
	s->returned = s->returned || o->has_client; /* an IXFR: it had the zone before */
	if (o->done) {
		s->known = true;
		s->serial = o->served;
		s->how = o->kind;
		s->seen_ms = now;
	} else if (o->has_client) {
		s->known = true;
		s->serial = o->client;
		s->how = "ixfr request";
		s->seen_ms = now;
	}
	uint32_t cur, expire;
	if (lz_served(l, z, &cur, &expire))
		sec_note(l, z, s, cur);
	/* NOTIFY targets at that address: ask them now rather than at their next turn */
	for (size_t i = 0; i < z->n; i++)
		if (!z->secs[i].learned && same_ip(&z->secs[i].addr, &o->peer))
			z->secs[i].next_ms = now;
}

static void on_async(uv_async_t *h)
{
	srv_lag_t *l = h->data;
	pthread_mutex_lock(&l->mu);
	size_t n = l->nobs;
	memcpy(l->drained, l->obs, n * sizeof(*l->obs));
	l->nobs = 0;
	pthread_mutex_unlock(&l->mu);
	for (size_t i = 0; i < n; i++)
		obs_apply(l, &l->drained[i]);
	for (lag_zone_t *z = l->zones; z; z = z->next) {
		uint32_t cur, expire;
		if (lz_served(l, z, &cur, &expire))
			lz_poll(l, z, cur);
	}
	waiters_check(l);
	lag_arm(l);
}

/* ------------------------------------------------------------ the timer */

/* When s next needs the timer: a target's SOA query due (or, in flight, its miss); a learned
 * secondary's expiry. */
static int64_t sec_due(const lag_sec_t *s, uint32_t expire)
{
	if (s->learned)
		return s->seen_ms + (int64_t)expire * 1000 + 1; /* lz_reconcile drops it then */
	return s->in_flight ? s->sent_ms + LAG_QUERY_TIMEOUT_MS : s->next_ms;
}

/* The earliest time the tracker has work: a query due or timing out, a learned secondary to
 * expire, a waiter's deadline, a zone no longer served to drop; INT64_MAX when none. */
static int64_t lag_next_due(const srv_lag_t *l)
{
	int64_t due = INT64_MAX;
	for (const lag_waiter_t *w = l->waiters; w; w = w->next)
		due = w->deadline_ms < due ? w->deadline_ms : due;
	for (const lag_zone_t *z = l->zones; z; z = z->next) {
		uint32_t cur, expire;
		if (!lz_served(l, z, &cur, &expire))
			return now_ms(l);
		for (size_t i = 0; i < z->n; i++) {
			int64_t t = sec_due(&z->secs[i], expire);
			due = t < due ? t : due;
		}
	}
	return due;
}

/* Fire the timer at the latest at `at`: a change that made work due then. Cheap (no walk):
 * the tick that follows computes the next due time in full. */
static void lag_wake(srv_lag_t *l, int64_t at)
{
	if (l->closing || at >= l->due)
		return;
	int64_t now = now_ms(l);
	l->due = at;
	uv_timer_start(&l->timer, on_tick, at > now ? (uint64_t)(at - now) : 0, 0);
}

/* Run the timer once, when the next work is due, or stop it when there is none: no
 * secondary, no waiter, nothing to wake the control loop for. After a tick and after the
 * rarer changes (transfer reports, wait-sync); a walk of every zone. */
static void lag_arm(srv_lag_t *l)
{
	if (l->closing)
		return;
	int64_t due = lag_next_due(l);
	uv_timer_stop(&l->timer);
	l->due = INT64_MAX;
	if (due != INT64_MAX)
		lag_wake(l, due);
}

static void on_tick(uv_timer_t *t)
{
	srv_lag_t *l = t->data;
	for (lag_zone_t **pz = &l->zones; *pz;) {
		lag_zone_t *z = *pz;
		uint32_t cur, expire;
		if (!lz_served(l, z, &cur, &expire)) { /* dropped by a reload */
			*pz = z->next;
			lz_free(z);
			continue;
		}
		lz_reconcile(l, z, expire);
		lz_poll(l, z, cur);
		pz = &z->next;
	}
	waiters_check(l);
	lag_arm(l);
}

void srv_lag_reconfigured(srv_lag_t *l)
{
	if (l != NULL && !l->closing)
		on_tick(&l->timer);
}

void srv_lag_published(srv_lag_t *l, const uint8_t *apex, uint32_t serial)
{
	lag_zone_t *z = lz_get(l, apex);
	if (!z)
		return;
	int64_t now = now_ms(l);
	size_t last = (z->head + z->npub + LAG_PUBLISHED - 1) % LAG_PUBLISHED;
	if (z->npub && z->pub[last].serial == serial)
		return;
	if (z->npub < LAG_PUBLISHED)
		z->pub[(z->head + z->npub++) % LAG_PUBLISHED] = (lag_pub_t){serial, now};
	else {
		z->pub[z->head] = (lag_pub_t){serial, now};
		z->head = (z->head + 1) % LAG_PUBLISHED;
	}
	uint32_t cur, expire;
	if (lz_served(l, z, &cur, &expire))
		lz_reconcile(l, z, expire);
	for (size_t i = 0; i < z->n; i++) { /* the NOTIFY is out: ask in a moment */
		z->secs[i].backoff = LAG_FIRST_MS;
		z->secs[i].next_ms = now + LAG_FIRST_MS;
	}
	if (z->n > 0) /* a walk per publish would be quadratic in the zones at start */
		lag_wake(l, now + LAG_FIRST_MS);
}

/* ------------------------------------------------------------ wait-sync */

int srv_lag_wait(srv_lag_t *l, const uint8_t *apex, bool has_serial, uint32_t serial,
                 uint64_t timeout_ms, srv_lag_done_fn done, void *arg, sd_strbuf_t *out)
{
	lag_zone_t *z = lz_find(l, apex);
	uint32_t cur, expire;
	char name[LAG_NAME_TEXT];
	dname_to_str(apex, name, sizeof(name));
	if (!z || !lz_served(l, z, &cur, &expire)) {
		sd_strbuf_printf(out, "zone %s is not served\n", name);
		return SD_ENOTFOUND;
	}
	lag_waiter_t *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	memcpy(w->apex, apex, dname_len(apex));
	w->serial = has_serial ? serial : cur;
	w->started_ms = now_ms(l);
	w->deadline_ms = w->started_ms + (int64_t)timeout_ms;
	w->done = done;
	w->arg = arg;
	lz_reconcile(l, z, expire);
	int ret = waiter_outcome(l, w, out);
	if (ret != 1) {
		free(w);
		lag_arm(l); /* a target the reconcile added is asked at once */
		return ret;
	}
	w->next = l->waiters;
	l->waiters = w;
	lz_poll(l, z, cur); /* the lagging ones are asked within a second from now */
	lag_arm(l);
	return 1;
}

void srv_lag_forget(srv_lag_t *l, const void *arg)
{
	for (lag_waiter_t *w = l ? l->waiters : NULL; w; w = w->next)
		if (w->arg == arg)
			w->done = NULL;
}

/* ------------------------------------------------------------ life */

int srv_lag_new(uv_loop_t *loop, srv_zonedb_t *zs, srv_lag_t **out)
{
	srv_lag_t *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->loop = loop;
	l->zs = zs;
	pthread_mutex_init(&l->mu, NULL);
	int rc = uv_async_init(loop, &l->async, on_async);
	if (rc < 0) {
		pthread_mutex_destroy(&l->mu);
		free(l);
		return rc;
	}
	l->async.data = l;
	uv_unref((uv_handle_t *)&l->async);
	uv_timer_init(loop, &l->timer); /* started when there is work (lag_wake) */
	l->timer.data = l;
	l->due = INT64_MAX;
	*out = l;
	return 0;
}

void srv_lag_close(srv_lag_t *l)
{
	if (!l || l->closing)
		return;
	l->closing = true;
	pthread_mutex_lock(&l->mu);
	l->closed = true;
	pthread_mutex_unlock(&l->mu);
	waiters_check(l); /* every waiter answered: cancelled */
	uv_close((uv_handle_t *)&l->async, NULL);
	uv_close((uv_handle_t *)&l->timer, NULL);
	for (int i = 0; i < 2; i++)
		if (l->sock_open[i])
			uv_close((uv_handle_t *)&l->sock[i], NULL);
}

void srv_lag_free(srv_lag_t *l)
{
	if (!l)
		return;
	while (l->zones) {
		lag_zone_t *z = l->zones;
		l->zones = z->next;
		lz_free(z);
	}
	pthread_mutex_destroy(&l->mu);
	free(l);
}
