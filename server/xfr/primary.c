#include "server/xfr/primary.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "server/xfr/msg.h"
#include "zone/changeset.h"
#include "zone/dump.h"

#define CLASS_IN   1
#define SOA_RDMAX  (2 * DNAME_MAX + 20)
#define HIST_DEPTH 100

struct xfr_primary {
	uint8_t apex[DNAME_MAX];
	char name[DNAME_MAX * 4 + 1]; /* for log lines */
	char *zone_file, *journal_path;
	xfr_primary_conf_t conf;
	zone_journal_t *journal;
	xfr_history_t *history;
	zone_changeset_t *pending; /* journaled, not yet in the history */
	bool file_behind;          /* the zone file does not hold the served version */
	uint64_t changes;
};

static void soa_of(const zone_version_t *v, zone_rr_t *rr)
{
	const zone_rrset_t *soa = zone_version_soa(v);
	*rr = (zone_rr_t){
	    .owner = zone_version_apex(v)->owner,
	    .type = ZONE_TYPE_SOA,
	    .rclass = CLASS_IN,
	    .ttl = soa->ttl,
	    .rdlen = xfr_get16(soa->rdata),
	    .rdata = soa->rdata + 2,
	};
}

/* rr with its serial (the first of the five closing 32-bit fields) replaced, into buf. */
static void soa_with_serial(zone_rr_t *rr, uint32_t serial, uint8_t buf[SOA_RDMAX])
{
	memcpy(buf, rr->rdata, rr->rdlen);
	xfr_put32(buf + rr->rdlen - 20, serial);
	rr->rdata = buf;
}

/* A version equal to v but for the SOA serial. Consumes v. */
static int reserial(zone_version_t *v, uint32_t serial, zone_version_t **out)
{
	zone_rr_t from, to;
	uint8_t buf[SOA_RDMAX];
	soa_of(v, &from);
	to = from;
	soa_with_serial(&to, serial, buf);
	zone_changeset_t *cs = NULL;
	int rc = zone_changeset_new(&cs);
	if (rc == 0)
		rc = zone_changeset_set_soa(cs, &from, &to);
	if (rc == 0)
		rc = zone_changeset_apply(v, cs, out);
	zone_changeset_free(cs);
	zone_version_free(v);
	return rc;
}

static int journal_open(xfr_primary_t *p)
{
	int rc = zone_journal_open(p->journal_path, p->apex, &p->conf.limits, &p->journal);
	if (rc != 0)
		log_error("%s: journal %s: %s", p->name, p->journal_path, sd_strerror(rc));
	return rc;
}

int xfr_primary_open(const uint8_t *apex, const char *zone_file, const char *journal_path,
                     const xfr_primary_conf_t *conf, xfr_primary_t **out)
{
	xfr_primary_t *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	memcpy(p->apex, apex, dname_len(apex));
	dname_to_str(apex, p->name, sizeof(p->name));
	p->conf = *conf;
	if (p->conf.history_depth == 0)
		p->conf.history_depth =
		    conf->limits.max_depth ? conf->limits.max_depth : HIST_DEPTH;
	p->zone_file = strdup(zone_file);
	p->journal_path = strdup(journal_path);
	int rc = p->zone_file && p->journal_path ? 0 : -ENOMEM;
	if (rc == 0)
		rc = xfr_history_new(p->conf.history_depth, conf->limits.max_size, &p->history);
	if (rc == 0)
		rc = journal_open(p);
	if (rc != 0) {
		xfr_primary_close(p);
		return rc;
	}
	*out = p;
	return 0;
}

void xfr_primary_close(xfr_primary_t *p)
{
	if (p == NULL)
		return;
	zone_journal_close(p->journal);
	xfr_history_free(p->history);
	zone_changeset_free(p->pending);
	free(p->zone_file);
	free(p->journal_path);
	free(p);
}

const xfr_history_t *xfr_primary_history(const xfr_primary_t *p)
{
	return p->history;
}

/* Fill the IXFR history with every change set the journal holds. */
static int history_from_journal(xfr_primary_t *p)
{
	uint32_t first;
	if (zone_journal_first_serial(p->journal, &first) != 0)
		return 0; /* empty */
	zone_changeset_t **list = NULL;
	size_t n = 0;
	int rc = zone_journal_read(p->journal, first, &list, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		xfr_diff_t *d = NULL;
		rc = xfr_diff_new(list[i], &d);
		list[i] = NULL; /* owned by d now, even on error */
		if (rc == 0)
			rc = xfr_history_add(p->history, d);
	}
	zone_journal_free_list(list, n);
	return rc;
}

/* Apply the journal's entries from the file's serial onward. On success *v (the file's
 * version) is replaced by the result; on failure it is left as it was. */
static int replay(zone_version_t **v, zone_changeset_t **list, size_t n)
{
	zone_version_t *cur = *v;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		zone_version_t *next = NULL;
		rc = zone_changeset_apply(cur, list[i], &next);
		if (cur != *v)
			zone_version_free(cur);
		cur = rc == 0 ? next : NULL;
	}
	if (rc == 0 && cur != *v) {
		zone_version_free(*v);
		*v = cur;
	}
	return rc;
}

/* The file is not on the journal's chain (edited while we were down): serve it with a serial
 * above everything journaled, and start a new journal. */
static int restart_journal(xfr_primary_t *p, zone_version_t **v, uint32_t last, time_t now)
{
	uint32_t fs = zone_version_serial(*v);
	log_notice("%s: zone file serial %u is not in the journal (last %u): the file changed "
	           "while stopped; starting a new journal",
	           p->name, fs, last);
	int rc = 0;
	if (!zone_serial_gt(fs, last)) {
		zone_version_t *nv = NULL;
		rc = reserial(*v, zone_serial_next(last, p->conf.policy, now), &nv);
		*v = nv;
		p->file_behind = true;
	}
	zone_journal_close(p->journal);
	p->journal = NULL;
	if (unlink(p->journal_path) != 0 && errno != ENOENT)
		rc = rc ? rc : sd_errno();
	return rc ? rc : journal_open(p);
}

int xfr_primary_start(xfr_primary_t *p, zone_version_t *file_v, time_t now, zone_version_t **out)
{
	zone_version_t *v = file_v;
	uint32_t fs = zone_version_serial(v), last;
	int rc = 0;
	if (zone_journal_last_serial(p->journal, &last) == 0 && last != fs) {
		zone_changeset_t **list = NULL;
		size_t n = 0;
		if (zone_journal_read(p->journal, fs, &list, &n) == 0) {
			rc = replay(&v, list, n);
			if (rc == 0) {
				log_info("%s: replayed %zu journal entries, serial %u -> %u",
				         p->name, n, fs, last);
				p->file_behind = true;
			}
		} else {
			rc = SD_ENOTFOUND;
		}
		zone_journal_free_list(list, n);
		if (rc != 0)
			rc = restart_journal(p, &v, last, now);
	}
	if (rc == 0)
		rc = history_from_journal(p);
	if (rc != 0) {
		zone_version_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

static bool same_soa(const zone_rr_t *a, const zone_rr_t *b)
{
	return a->ttl == b->ttl && a->rdlen == b->rdlen &&
	       memcmp(a->rdata, b->rdata, a->rdlen) == 0;
}

/* Choose the new serial and make it SOA(to) of cs (RFC 1982 via zone_serial_choose). */
static int set_serial(xfr_primary_t *p, zone_changeset_t *cs, const zone_version_t *served,
                      const zone_version_t *file_v, time_t now, uint32_t *serial)
{
	zone_rr_t from, to;
	uint8_t buf[SOA_RDMAX];
	soa_of(served, &from);
	soa_of(file_v, &to);
	*serial = zone_serial_choose(zone_version_serial(served), zone_version_serial(file_v),
	                             p->conf.policy, now);
	soa_with_serial(&to, *serial, buf);
	return zone_changeset_set_soa(cs, &from, &to);
}

int xfr_primary_reload(xfr_primary_t *p, const zone_version_t *served, zone_version_t *file_v,
                       time_t now, zone_version_t **out)
{
	zone_changeset_t *cs = NULL;
	zone_version_t *nv = NULL;
	uint32_t serial = 0;
	*out = NULL;
	int rc = zone_changeset_diff(served, file_v, &cs);
	if (rc != 0)
		goto out;
	zone_rr_t a, b;
	soa_of(served, &a);
	soa_of(file_v, &b);
	if (zone_changeset_removed_count(cs) == 0 && zone_changeset_added_count(cs) == 0 &&
	    same_soa(&a, &b))
		goto out; /* nothing changed: no new serial */
	rc = set_serial(p, cs, served, file_v, now, &serial);
	if (rc == 0)
		rc = zone_changeset_apply(served, cs, &nv);
	/* journal before publish (DESIGN.md): durable once this returns */
	if (rc == 0)
		rc = zone_journal_append(p->journal, cs);
	if (rc != 0) {
		log_error("%s: change to serial %u not applied: %s", p->name, serial,
		          sd_strerror(rc));
		zone_version_free(nv);
		goto out;
	}
	log_info("%s: serial %u -> %u (%zu removed, %zu added), journaled", p->name,
	         zone_changeset_from(cs), serial, zone_changeset_removed_count(cs),
	         zone_changeset_added_count(cs));
	zone_changeset_free(p->pending);
	p->pending = cs;
	cs = NULL;
	p->file_behind = true;
	p->changes++;
	*out = nv;
out:
	zone_changeset_free(cs);
	zone_version_free(file_v);
	return rc;
}

int xfr_primary_published(xfr_primary_t *p)
{
	if (p->pending == NULL)
		return 0;
	xfr_diff_t *d = NULL;
	int rc = xfr_diff_new(p->pending, &d);
	p->pending = NULL;
	return rc == 0 ? xfr_history_add(p->history, d) : rc;
}

int xfr_primary_sync(xfr_primary_t *p, const zone_version_t *v)
{
	bool over = zone_journal_over_limit(p->journal);
	int rc = 0;
	if (p->file_behind && (p->conf.write_file || over)) {
		rc = zone_write_file(v, p->zone_file);
		if (rc != 0) {
			log_error("%s: writing %s: %s", p->name, p->zone_file, sd_strerror(rc));
			return rc;
		}
		p->file_behind = false;
	}
	if (over && !p->file_behind) {
		rc = zone_journal_compact(p->journal, zone_version_serial(v));
		if (rc != 0)
			log_error("%s: compacting %s: %s", p->name, p->journal_path,
			          sd_strerror(rc));
	}
	return rc;
}

void xfr_primary_set_policy(xfr_primary_t *p, zone_serial_policy_t policy)
{
	p->conf.policy = policy;
}

void xfr_primary_stats(const xfr_primary_t *p, xfr_primary_stats_t *out)
{
	out->journal_depth = (uint32_t)zone_journal_depth(p->journal);
	out->journal_size = zone_journal_size(p->journal);
	out->changes = p->changes;
}
