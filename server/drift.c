/* drift.c — the zone file against the served zone (see drift.h). */
#include "server/drift.h"

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "dns/proto.h"
#include "zone/changeset.h"
#include "zone/dump.h"
#include "zone/load.h"
#include "zone/zone.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Presentation form of one record: RDATA is at most 65535 bytes, its text ("\# n hex" or an
 * escaped TXT) at most four characters a byte, plus the owner and the fixed fields. */
#define DRIFT_RR_TEXT_MAX (4 * 65536 + 1024)
/* A name in presentation form: 255 octets, each at most "\\DDD". */
#define DRIFT_NAME_TEXT_MAX (4 * DNAME_MAX + 1)

struct srv_drift {
	uv_work_t work;
	srv_zonedb_t *zs;
	uint8_t apex[DNAME_MAX];
	char *path;
	zone_bindings_t *bindings; /* the zone's at the start (a reference), or NULL */
	const atomic_bool *cancel;
	int ret;                /* of the parse */
	zone_version_t *v;      /* what the file holds */
	sd_strbuf_t errors;     /* the loader's "file:line: message" lines */
	srv_drift_done_fn done; /* NULL: forgotten */
	void *arg;
	srv_drift_t *next, **pprev;
};

/* One line of the answer: a record and its side. */
typedef struct drift_line {
	zone_rr_t rr;
	char sign; /* '+' served only, '-' in the file only */
} drift_line_t;

static int line_cmp(const void *a, const void *b)
{
	const drift_line_t *x = a, *y = b;
	if (x->rr.type == DNS_TYPE_SOA && y->rr.type == DNS_TYPE_SOA) /* the apex's one pair */
		return (x->sign == '+') - (y->sign == '+');
	int c = zone_rr_cmp(&x->rr, &y->rr);
	if (c == 0) /* one record on both sides (its TTL changed): "-" first */
		c = (x->sign == '+') - (y->sign == '+');
	return c;
}

/* Whether two SOA records differ in anything but the serial (RDATA: MNAME, RNAME, then
 * SERIAL REFRESH RETRY EXPIRE MINIMUM, 4 octets each: RFC 1035 3.3.13), or in TTL. */
static bool soa_differs(const zone_rr_t *a, const zone_rr_t *b)
{
	if (a->ttl != b->ttl || a->rdlen != b->rdlen || a->rdlen < 20)
		return true;
	size_t names = a->rdlen - 20u;
	return memcmp(a->rdata, b->rdata, names) != 0 ||
	       memcmp(a->rdata + names + 4, b->rdata + names + 4, 16) != 0;
}

/* The change set's records (and the SOAs, when they differ beyond the serial) as lines. */
static int collect(const zone_changeset_t *cs, drift_line_t **out, size_t *n)
{
	size_t cap = zone_changeset_removed_count(cs) + zone_changeset_added_count(cs) + 2;
	drift_line_t *lines = calloc(cap, sizeof(*lines));
	if (!lines)
		return -ENOMEM;
	size_t k = 0;
	zone_rr_iter_t it;
	zone_rr_t rr, from, to;
	zone_changeset_removed(cs, &it);
	while (zone_rr_iter_next(&it, &rr))
		lines[k++] = (drift_line_t){.rr = rr, .sign = '-'};
	zone_changeset_added(cs, &it);
	while (zone_rr_iter_next(&it, &rr))
		lines[k++] = (drift_line_t){.rr = rr, .sign = '+'};
	if (zone_changeset_soa_from(cs, &from) && zone_changeset_soa_to(cs, &to) &&
	    soa_differs(&from, &to)) {
		lines[k++] = (drift_line_t){.rr = from, .sign = '-'};
		lines[k++] = (drift_line_t){.rr = to, .sign = '+'};
	}
	qsort(lines, k, sizeof(*lines), line_cmp);
	*out = lines;
	*n = k;
	return 0;
}

static int print_lines(const drift_line_t *lines, size_t n, sd_strbuf_t *out)
{
	char *text = malloc(DRIFT_RR_TEXT_MAX);
	if (!text)
		return -ENOMEM;
	int ret = 0;
	for (size_t i = 0; i < n && ret >= 0; i++) {
		ret = zone_rr_format(&lines[i].rr, text, DRIFT_RR_TEXT_MAX);
		if (ret >= 0)
			sd_strbuf_printf(out, "%c %s\n", lines[i].sign, text);
	}
	free(text);
	return ret < 0 ? ret : out->oom ? -ENOMEM : 0;
}

int srv_drift_report(const char *zone, const char *path, const zone_version_t *file,
                     const zone_version_t *served, sd_strbuf_t *out)
{
	zone_changeset_t *cs = NULL;
	drift_line_t *lines = NULL;
	size_t n = 0, plus = 0;
	int ret = zone_changeset_diff(file, served, &cs);
	if (ret == 0)
		ret = collect(cs, &lines, &n);
	if (ret < 0) {
		sd_strbuf_printf(out, "zone %s: diff failed: %s\n", zone, sd_strerror(ret));
		zone_changeset_free(cs);
		return ret;
	}
	sd_strbuf_printf(out,
	                 "; zone %s: served serial %u, file %s serial %u (SOA serials are not "
	                 "compared)\n",
	                 zone, zone_version_serial(served), path, zone_version_serial(file));
	ret = print_lines(lines, n, out);
	for (size_t i = 0; i < n; i++)
		plus += lines[i].sign == '+';
	if (ret < 0)
		sd_strbuf_printf(out, "zone %s: a record could not be printed: %s\n", zone,
		                 sd_strerror(ret));
	else if (n == 0)
		sd_strbuf_printf(out, "; no difference\n");
	else
		sd_strbuf_printf(out, "; %zu served only (+), %zu in the file only (-)\n", plus,
		                 n - plus);
	free(lines);
	zone_changeset_free(cs);
	return ret < 0 ? ret : n ? SRV_DRIFT_DIFFER : 0;
}

static void capture_line(log_level_t level, const char *line, void *data)
{
	if (level <= LOG_LEVEL_WARNING)
		sd_strbuf_printf(data, "%s\n", line);
}

/* Pool thread: parse the file; touches nothing of the zone's. */
static void drift_work(uv_work_t *w)
{
	srv_drift_t *d = w->data;
	zone_load_set_cancel(d->cancel);
	log_set_thread_tee(capture_line, &d->errors);
	d->ret = zone_load_file_bound(d->apex, d->path, d->bindings, NULL, &d->v);
	log_set_thread_tee(NULL, NULL);
	zone_load_set_cancel(NULL);
}

static void drift_free(srv_drift_t *d)
{
	if (d->pprev) {
		*d->pprev = d->next;
		if (d->next)
			d->next->pprev = d->pprev;
	}
	zone_version_unref(d->v);
	zone_bindings_unref(d->bindings);
	sd_strbuf_free(&d->errors);
	free(d->path);
	free(d);
}

/* Control thread: compare what was parsed with what is served now. */
static int drift_answer(srv_drift_t *d, int status, sd_strbuf_t *out)
{
	char zone[DRIFT_NAME_TEXT_MAX];
	dname_to_str(d->apex, zone, sizeof(zone));
	if (status < 0 || d->ret == -ECANCELED) {
		sd_strbuf_printf(out, "zone diff cancelled: steerdns is stopping\n");
		return -ECANCELED;
	}
	if (d->ret < 0) {
		sd_strbuf_append(out, sd_strbuf_str(&d->errors), d->errors.len);
		sd_strbuf_printf(out, "zone %s: %s: not compared: %s\n", zone, d->path,
		                 sd_strerror(d->ret));
		return d->ret;
	}
	zone_t *z = srv_zonedb_zone(d->zs, d->apex);
	const zone_version_t *served = z ? zone_current(z) : NULL;
	if (!served) {
		sd_strbuf_printf(out, "zone %s is not served\n", zone);
		return SD_ENOTFOUND;
	}
	return srv_drift_report(zone, d->path, d->v, served, out);
}

static void drift_after(uv_work_t *w, int status)
{
	srv_drift_t *d = w->data;
	sd_strbuf_t out = {0};
	int ret = drift_answer(d, status, &out);
	if (d->done)
		d->done(d->arg, ret, &out);
	sd_strbuf_free(&out);
	drift_free(d);
}

int srv_drift_start(uv_loop_t *loop, srv_zonedb_t *zs, const uint8_t *apex, const char *path,
                    const atomic_bool *cancel, srv_drift_t **list, srv_drift_done_fn done,
                    void *arg, sd_strbuf_t *out)
{
	zone_t *z = srv_zonedb_zone(zs, apex);
	if (!z || !zone_current(z)) {
		char zone[DRIFT_NAME_TEXT_MAX];
		dname_to_str(apex, zone, sizeof(zone));
		sd_strbuf_printf(out, "zone %s is not served\n", zone);
		return SD_ENOTFOUND;
	}
	srv_drift_t *d = calloc(1, sizeof(*d));
	if (!d || !(d->path = strdup(path ? path : zone_file(z)))) {
		free(d);
		return -ENOMEM;
	}
	d->work.data = d;
	d->zs = zs;
	memcpy(d->apex, apex, dname_len(apex));
	d->cancel = cancel;
	d->done = done;
	d->arg = arg;
	const zone_bindings_t *b = zone_bindings(z);
	d->bindings = b ? zone_bindings_ref(b) : NULL;
	int ret = uv_queue_work(loop, &d->work, drift_work, drift_after);
	if (ret < 0) {
		sd_strbuf_printf(out, "zone diff: cannot start: %s\n", uv_strerror(ret));
		drift_free(d);
		return ret;
	}
	d->next = *list;
	d->pprev = list;
	if (*list)
		(*list)->pprev = &d->next;
	*list = d;
	return 0;
}

void srv_drift_forget(srv_drift_t *list, const void *arg)
{
	for (srv_drift_t *d = list; d; d = d->next)
		if (d->arg == arg)
			d->done = NULL;
}
