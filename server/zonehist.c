/* zonehist.c — zone history, one change set, rollback (see zonehist.h). */
#include "server/zonehist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu-qsbr.h>

#include "contrib/base/err.h"
#include "contrib/base/escape.h"
#include "contrib/base/log.h"
#include "contrib/base/vec.h"
#include "dns/name.h"
#include "zone/dump.h"
#include "zone/hidden.h"
#include "zone/history.h"

/* Presentation form of one record (as server/drift.c): RDATA text at most four characters
 * a byte, plus the owner and the fixed fields. */
#define HIST_RR_TEXT_MAX (4 * 65536 + 1024)
#define HIST_NAME_MAX    (4 * DNAME_MAX + 1)

/* One change set as listed: from the IXFR history (a reference) or read from the journal
 * (owned), in the form secondaries see. */
typedef struct hent {
	const zone_changeset_t *cs;
	zone_diff_t *diff;
	zone_changeset_t *own;
} hent_t;

typedef struct hlist {
	hent_t *v;
	size_t n, cap;
} hlist_t;

static void hlist_free(hlist_t *l)
{
	for (size_t i = 0; i < l->n; i++) {
		zone_diff_unref(l->v[i].diff);
		zone_changeset_free(l->v[i].own);
	}
	free(l->v);
	*l = (hlist_t){0};
}

static int hlist_push(hlist_t *l, const hent_t *e)
{
	if (l->n == l->cap && sd_vec_grow(&l->v, &l->cap, l->n + 1) != 0)
		return -ENOMEM;
	l->v[l->n++] = *e;
	return 0;
}

static bool hlist_has_to(const hlist_t *l, uint32_t to)
{
	for (size_t i = 0; i < l->n; i++)
		if (zone_changeset_to(l->v[i].cs) == to)
			return true;
	return false;
}

/* The IXFR history's diffs, newest first (no file read). */
static int from_memory(const zone_t *z, size_t limit, hlist_t *l)
{
	const zone_history_t *h = zone_history(z);
	if (!h)
		return -EINVAL;
	rcu_thread_online();
	zone_history_snap_t *s = zone_history_acquire(h);
	rcu_thread_offline();
	int rc = 0;
	for (size_t i = zone_history_snap_count(s); rc == 0 && i-- > 0 && l->n < limit;) {
		zone_diff_t *d = zone_history_snap_diff(s, i);
		rc = hlist_push(l, &(hent_t){.cs = d->cs, .diff = zone_diff_ref(d)});
		if (rc != 0)
			zone_diff_unref(d);
	}
	zone_history_snap_release(s);
	return rc;
}

/* A journal change set in the form secondaries saw (ownership passes in). */
static int visible(zone_changeset_t *cs, zone_changeset_t **out)
{
	*out = cs;
	if (!zone_changeset_hide_count(cs) && !zone_changeset_unhide_count(cs))
		return 0;
	int rc = zone_changeset_visible(cs, out);
	zone_changeset_free(cs);
	return rc;
}

/* Where the journal's list[0..n) goes on past what the list holds: the entries before the
 * one that leads to the oldest listed serial (all of them when the list is empty, none
 * when the journal does not lead there: the history then covers what it has). */
static size_t journal_end(zone_changeset_t *const *list, size_t n, const hlist_t *l)
{
	if (l->n == 0)
		return n;
	uint32_t oldest = zone_changeset_from(l->v[l->n - 1].cs);
	for (size_t i = n; i-- > 0;)
		if (zone_changeset_to(list[i]) == oldest)
			return i + 1;
	return 0;
}

/* The journal's change sets older than the list's, newest first, until it holds limit. */
static int from_journal(zone_t *z, size_t limit, hlist_t *l)
{
	uint32_t first;
	if (l->n >= limit || zone_changes_first(z, &first) != 0)
		return 0;
	zone_changeset_t **list = NULL;
	size_t n = 0;
	int rc = zone_changes_since(z, first, &list, &n);
	for (size_t i = rc == 0 ? journal_end(list, n, l) : 0;
	     rc == 0 && i-- > 0 && l->n < limit;) {
		zone_changeset_t *cs = list[i];
		list[i] = NULL;
		rc = visible(cs, &cs);
		if (rc == 0 && (rc = hlist_push(l, &(hent_t){.cs = cs, .own = cs})) != 0)
			zone_changeset_free(cs);
	}
	zone_journal_free_list(list, n);
	return rc;
}

/* --- text --- */

static void iso_time(int64_t t, char *buf, size_t size)
{
	struct tm tm;
	time_t sec = (time_t)t;
	if (t <= 0 || !gmtime_r(&sec, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "-");
}

/* "12 -> 13 2026-12-03T09:50:00Z update (deploy-key.)" */
static void head_text(const zone_changeset_t *cs, sd_strbuf_t *out)
{
	zone_source_t src;
	char when[32];
	iso_time(zone_changeset_origin(cs, &src), when, sizeof(when));
	sd_strbuf_printf(out, "%u -> %u %s %s", zone_changeset_from(cs), zone_changeset_to(cs),
	                 when, zone_source_kind_name(src.kind));
	if (src.text[0])
		sd_strbuf_printf(out, " (%s)", src.text);
}

static void head_json(const zone_changeset_t *cs, sd_strbuf_t *out)
{
	zone_source_t src;
	char when[32];
	int64_t t = zone_changeset_origin(cs, &src);
	iso_time(t, when, sizeof(when));
	sd_strbuf_printf(out, "\"from\":%u,\"to\":%u,\"time\":", zone_changeset_from(cs),
	                 zone_changeset_to(cs));
	if (t > 0)
		sd_strbuf_printf(out, "\"%s\"", when);
	else
		sd_strbuf_printf(out, "null");
	sd_strbuf_printf(out, ",\"source\":\"%s\",\"detail\":", zone_source_kind_name(src.kind));
	sd_strbuf_json_str(out, src.text);
}

static zone_t *served_zone(srv_zonedb_t *zs, const uint8_t *apex, char *name, sd_strbuf_t *out)
{
	dname_to_str(apex, name, HIST_NAME_MAX);
	zone_t *z = srv_zonedb_zone(zs, apex);
	if (!z || !zone_current(z)) {
		sd_strbuf_printf(out, "zone %s is not served\n", name);
		return NULL;
	}
	return z;
}

static void list_text(const char *name, const zone_t *z, const hlist_t *l, bool json,
                      sd_strbuf_t *out)
{
	uint32_t first, serial = zone_version_serial(zone_current(z));
	bool has_first = zone_changes_first(z, &first) == 0;
	if (json) {
		sd_strbuf_printf(out, "{\"zone\":");
		sd_strbuf_json_str(out, name);
		sd_strbuf_printf(out, ",\"serial\":%u,\"oldest\":", serial);
		sd_strbuf_printf(out, has_first ? "%u" : "null", first);
		sd_strbuf_printf(out, ",\"changes\":[");
	} else {
		sd_strbuf_printf(out, "; zone %s: serial %u, %zu change sets shown, ", name, serial,
		                 l->n);
		if (has_first)
			sd_strbuf_printf(out, "rollback reaches back to serial %u\n", first);
		else
			sd_strbuf_printf(out, "the journal is empty\n");
	}
	for (size_t i = 0; i < l->n; i++) {
		const zone_changeset_t *cs = l->v[i].cs;
		size_t rem = zone_changeset_removed_count(cs), add = zone_changeset_added_count(cs);
		if (json) {
			sd_strbuf_printf(out, "%s{", i ? "," : "");
			head_json(cs, out);
			sd_strbuf_printf(out, ",\"removed\":%zu,\"added\":%zu}", rem, add);
		} else {
			head_text(cs, out);
			sd_strbuf_printf(out, " -%zu +%zu\n", rem, add);
		}
	}
	if (json)
		sd_strbuf_printf(out, "]}\n");
}

int srv_zonehist_list(srv_zonedb_t *zs, const uint8_t *apex, size_t limit, bool json,
                      sd_strbuf_t *out)
{
	char name[HIST_NAME_MAX];
	zone_t *z = served_zone(zs, apex, name, out);
	if (!z)
		return SD_ENOTFOUND;
	hlist_t l = {0};
	int rc = from_memory(z, limit ? limit : SIZE_MAX, &l);
	if (rc == 0)
		rc = from_journal(z, limit ? limit : SIZE_MAX, &l);
	if (rc == 0)
		list_text(name, z, &l, json, out);
	else
		sd_strbuf_printf(out, "zone %s: history unavailable: %s\n", name, sd_strerror(rc));
	hlist_free(&l);
	return rc;
}

/* --- one change set --- */

/* One section as lines "- RR" / "+ RR", or JSON strings; the SOA first. */
static int section(const zone_rr_t *soa, zone_rr_iter_t *it, char sign, bool json, char *text,
                   sd_strbuf_t *out)
{
	zone_rr_t rr = *soa;
	int rc = 0;
	for (bool first = true; rc >= 0; first = false) {
		if (!first && !zone_rr_iter_next(it, &rr))
			break;
		rc = zone_rr_format(&rr, text, HIST_RR_TEXT_MAX);
		if (rc >= 0 && json) {
			sd_strbuf_printf(out, "%s", first ? "" : ",");
			sd_strbuf_json_str(out, text);
		} else if (rc >= 0) {
			sd_strbuf_printf(out, "%c %s\n", sign, text);
		}
	}
	return rc < 0 ? rc : 0;
}

static int show_text(const char *name, const zone_changeset_t *cs, bool json, sd_strbuf_t *out)
{
	char *text = malloc(HIST_RR_TEXT_MAX);
	zone_rr_t from, to;
	if (!text)
		return -ENOMEM;
	if (!zone_changeset_soa_from(cs, &from) || !zone_changeset_soa_to(cs, &to)) {
		free(text);
		return SD_EPARSE;
	}
	zone_rr_iter_t rem, add;
	zone_changeset_removed(cs, &rem);
	zone_changeset_added(cs, &add);
	int rc;
	if (json) {
		sd_strbuf_printf(out, "{\"zone\":");
		sd_strbuf_json_str(out, name);
		sd_strbuf_putc(out, ',');
		head_json(cs, out);
		sd_strbuf_printf(out, ",\"removed\":[");
		rc = section(&from, &rem, '-', true, text, out);
		sd_strbuf_printf(out, "],\"added\":[");
		if (rc == 0)
			rc = section(&to, &add, '+', true, text, out);
		sd_strbuf_printf(out, "]}\n");
	} else {
		sd_strbuf_printf(out, "; zone %s: ", name);
		head_text(cs, out);
		sd_strbuf_printf(out, ", %zu removed, %zu added\n",
		                 zone_changeset_removed_count(cs), zone_changeset_added_count(cs));
		rc = section(&from, &rem, '-', false, text, out);
		if (rc == 0)
			rc = section(&to, &add, '+', false, text, out);
	}
	free(text);
	return rc;
}

int srv_zonehist_show(srv_zonedb_t *zs, const uint8_t *apex, uint32_t serial, bool json,
                      sd_strbuf_t *out)
{
	char name[HIST_NAME_MAX];
	zone_t *z = served_zone(zs, apex, name, out);
	if (!z)
		return SD_ENOTFOUND;
	hlist_t l = {0};
	int rc = from_memory(z, SIZE_MAX, &l);
	if (rc == 0 && !hlist_has_to(&l, serial))
		rc = from_journal(z, SIZE_MAX, &l);
	const zone_changeset_t *cs = NULL;
	for (size_t i = 0; rc == 0 && i < l.n && !cs; i++)
		if (zone_changeset_to(l.v[i].cs) == serial)
			cs = l.v[i].cs;
	if (rc == 0 && !cs) {
		sd_strbuf_printf(out, "zone %s: no change set to serial %u in its history\n", name,
		                 serial);
		rc = SD_ENOTFOUND;
	} else if (rc == 0) {
		rc = show_text(name, cs, json, out);
	}
	if (rc < 0 && rc != SD_ENOTFOUND)
		sd_strbuf_printf(out, "zone %s: change set unavailable: %s\n", name,
		                 sd_strerror(rc));
	hlist_free(&l);
	return rc;
}

/* --- rollback --- */

typedef struct rb_ctx {
	zone_changeset_t **list;
	size_t n;
	char source[64];
	int ret; /* of zone_update_revert */
} rb_ctx_t;

static int rb_apply(void *arg, srv_zonedb_txn_t *t)
{
	rb_ctx_t *c = arg;
	zone_update_set_source(t->u,
	                       &(zone_source_t){.kind = ZONE_SOURCE_ROLLBACK, .text = c->source});
	c->ret = zone_update_revert(t->u, (const zone_changeset_t *const *)c->list, c->n);
	return c->ret;
}

/* The journal's change sets after serial; an unreachable serial is explained in out. */
static int rb_read(zone_t *z, const char *name, uint32_t serial, rb_ctx_t *c, sd_strbuf_t *out)
{
	uint32_t first;
	int rc = zone_changes_since(z, serial, &c->list, &c->n);
	if (rc == SD_ENOTFOUND && zone_changes_first(z, &first) == 0)
		sd_strbuf_printf(out,
		                 "zone %s: serial %u is not in the journal; the oldest serial "
		                 "it can roll back to is %u (served: %u)\n",
		                 name, serial, first, zone_version_serial(zone_current(z)));
	else if (rc == SD_ENOTFOUND)
		sd_strbuf_printf(out,
		                 "zone %s: serial %u is not in the journal, which is empty "
		                 "(nothing to roll back to)\n",
		                 name, serial);
	else if (rc < 0)
		sd_strbuf_printf(out, "zone %s: reading the journal: %s\n", name, sd_strerror(rc));
	return rc;
}

static void rb_audit(srv_audit_t *audit, const uint8_t *apex, uint32_t serial,
                     const srv_zonedb_txn_t *t, const zone_changeset_t *cs)
{
	char reason[64];
	snprintf(reason, sizeof(reason), "rollback to %u", serial);
	srv_audit_rec_t rec = {
	    .zone = apex,
	    .rcode = 0,
	    .changed = t->serial_to != t->serial_from,
	    .reason = reason,
	    .has_serials = true,
	    .serial_from = t->serial_from,
	    .serial_to = t->serial_to,
	    .change = cs,
	    .source = "rollback",
	};
	clock_gettime(CLOCK_REALTIME, &rec.when);
	srv_audit_write(audit, &rec);
}

/* After the commit: the new change set (for the counts and the audit line), the followers
 * (NOTIFY, snapshot upkeep), the audit line and the answer. */
static void rb_done(srv_zonedb_t *zs, srv_audit_t *audit, zone_t *z, const char *name,
                    uint32_t serial, const srv_zonedb_txn_t *t, sd_strbuf_t *out)
{
	zone_changeset_t **cs = NULL;
	size_t n = 0;
	bool changed = t->serial_to != t->serial_from;
	if (changed && zone_changes_since(z, t->serial_from, &cs, &n) != 0)
		n = 0;
	const zone_changeset_t *c = n ? cs[0] : NULL;
	if (changed)
		srv_zonedb_committed(zs, zone_apex(z));
	rb_audit(audit, zone_apex(z), serial, t, c);
	if (changed) {
		char zn[DNAME_MAX * 4 + 1];
		log_notice("event=zone-rolled-back zone=%s serial=%u from=%u content_of=%u",
		           dname_to_str_nodot(zone_apex(z), zn, sizeof(zn)), t->serial_to,
		           t->serial_from, serial);
		sd_strbuf_printf(out,
		                 "zone %s: rolled back to the content of serial %u: serial %u -> "
		                 "%u (%zu removed, %zu added)\n",
		                 name, serial, t->serial_from, t->serial_to,
		                 c ? zone_changeset_removed_count(c) : 0,
		                 c ? zone_changeset_added_count(c) : 0);
	} else {
		sd_strbuf_printf(out,
		                 "zone %s: serial %u already serves the content of serial %u: "
		                 "nothing changed\n",
		                 name, t->serial_from, serial);
	}
	zone_journal_free_list(cs, n);
}

int srv_zonehist_rollback(srv_zonedb_t *zs, srv_audit_t *audit, const uint8_t *apex,
                          uint32_t serial, sd_strbuf_t *out)
{
	char name[HIST_NAME_MAX];
	zone_t *z = served_zone(zs, apex, name, out);
	if (!z)
		return SD_ENOTFOUND;
	if (serial == zone_version_serial(zone_current(z))) {
		sd_strbuf_printf(out,
		                 "zone %s: serial %u is the one served: nothing to roll back\n",
		                 name, serial);
		return 0;
	}
	rb_ctx_t c = {0};
	snprintf(c.source, sizeof(c.source), "to %u by control", serial);
	int rc = rb_read(z, name, serial, &c, out);
	srv_zonedb_txn_t t;
	if (rc == 0)
		rc = srv_zonedb_update(zs, apex, rb_apply, &c, &t);
	if (rc == 0 && t.commit < 0) {
		rc = t.commit;
		sd_strbuf_printf(out, "zone %s: rollback to %u not committed: %s\n", name, serial,
		                 c.ret == SD_ESEMANTIC ? "the journal does not lead to the served "
		                                         "serial"
		                                       : sd_strerror(rc));
	} else if (rc == 0) {
		rb_done(zs, audit, z, name, serial, &t, out);
	} else if (rc == SD_ENOTFOUND && c.list) { /* srv_zonedb_update: dropped meanwhile */
		sd_strbuf_printf(out, "zone %s is not served\n", name);
	}
	zone_journal_free_list(c.list, c.n);
	return rc;
}
