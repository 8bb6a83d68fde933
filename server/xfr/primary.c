#include "server/xfr/primary.h"
#include "zone/load.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "dns/soa.h"
#include "zone/changeset.h"
#include "zone/dump.h"

#define HIST_DEPTH 100

struct xfr_primary {
	uint8_t apex[DNAME_MAX];
	char name[DNAME_MAX * 4 + 1]; /* for log lines */
	char *snapshot, *journal_path;
	xfr_primary_conf_t conf;
	zone_journal_t *journal;
	xfr_history_t *history;
	zone_changeset_t *pending; /* journaled, not yet in the history */
	bool file_behind;          /* the snapshot does not hold the served version */
	uint64_t changes;
};

static void soa_of(const zone_version_t *v, zone_rr_t *rr)
{
	const zone_rrset_t *soa = zone_version_soa(v);
	*rr = (zone_rr_t){
	    .owner = zone_version_apex(v)->owner,
	    .type = DNS_TYPE_SOA,
	    .rclass = DNS_CLASS_IN,
	    .ttl = soa->ttl,
	    .rdlen = be16_get(soa->rdata),
	    .rdata = soa->rdata + 2,
	};
}

/* rr with its serial (the first of the five closing 32-bit fields) replaced, into buf. */
static void soa_with_serial(zone_rr_t *rr, uint32_t serial, uint8_t buf[DNS_SOA_MAX_LEN])
{
	memcpy(buf, rr->rdata, rr->rdlen);
	dns_soa_set_serial(buf, rr->rdlen, serial);
	rr->rdata = buf;
}

static int journal_open(xfr_primary_t *p)
{
	int rc = zone_journal_open(p->journal_path, p->apex, &p->conf.limits, &p->journal);
	if (rc != 0)
		log_error("%s: journal %s: %s", p->name, p->journal_path, sd_strerror(rc));
	return rc;
}

int xfr_primary_open(const uint8_t *apex, const char *snapshot, const char *journal_path,
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
	p->snapshot = strdup(snapshot);
	p->journal_path = strdup(journal_path);
	int rc = p->snapshot && p->journal_path ? 0 : -ENOMEM;
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
	free(p->snapshot);
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

/* Apply the journal's entries from the snapshot's serial onward, condensed into one change
 * set (RFC 1995 5 rules) so that the zone is rebuilt once, not once per entry. On success *v
 * is replaced by the result; on failure it is left as it was. */
static int replay(zone_version_t **v, zone_changeset_t **list, size_t n)
{
	if (n == 0)
		return 0;
	zone_changeset_t *all = NULL;
	int rc = zone_changeset_condense((const zone_changeset_t *const *)list, n, &all);
	zone_version_t *next = NULL;
	if (rc == 0)
		rc = zone_changeset_apply(*v, all, &next);
	zone_changeset_free(all);
	if (rc == 0) {
		zone_version_unref(*v);
		*v = next;
	}
	return rc;
}

/* Forget the journal (it does not lead to the snapshot): start an empty one. */
static int restart_journal(xfr_primary_t *p, const char *why)
{
	log_notice("%s: %s; starting a new journal (IXFR from older serials becomes AXFR)", p->name,
	           why);
	zone_journal_close(p->journal);
	p->journal = NULL;
	if (unlink(p->journal_path) != 0 && errno != ENOENT)
		return sd_errno();
	return journal_open(p);
}

/* The version served before the stop: the snapshot, brought up to the journal's last serial
 * (a crash between the journal append and the snapshot write leaves it behind). NULL in *out
 * when there is no snapshot (first start). Any journal that does not continue the snapshot
 * is restarted. */
static int served_before(xfr_primary_t *p, zone_version_t **out)
{
	*out = NULL;
	uint32_t last;
	bool have_journal = zone_journal_last_serial(p->journal, &last) == 0;
	if (access(p->snapshot, F_OK) != 0)
		return have_journal ? restart_journal(p, "no snapshot beside the journal") : 0;
	zone_version_t *v = NULL;
	int rc = zone_load_file(p->apex, p->snapshot, NULL, &v);
	if (rc != 0) {
		log_error("%s: snapshot %s not loaded: %s", p->name, p->snapshot, sd_strerror(rc));
		return restart_journal(p, "the snapshot is unreadable");
	}
	uint32_t ss = zone_version_serial(v);
	if (have_journal && last != ss) {
		zone_changeset_t **list = NULL;
		size_t n = 0;
		rc = zone_journal_read(p->journal, ss, &list, &n);
		if (rc == 0)
			rc = replay(&v, list, n);
		zone_journal_free_list(list, n);
		if (rc == 0) {
			log_info("%s: replayed %zu journal entries, serial %u -> %u", p->name, n,
			         ss, last);
			p->file_behind = true;
		} else {
			rc = restart_journal(p, "the journal does not continue the snapshot");
		}
	}
	if (rc != 0) {
		zone_version_unref(v);
		return rc;
	}
	*out = v;
	return 0;
}

int xfr_primary_start(xfr_primary_t *p, zone_version_t *file_v, time_t now, zone_version_t **out)
{
	zone_version_t *base = NULL;
	*out = NULL;
	int rc = served_before(p, &base);
	if (rc == 0)
		rc = history_from_journal(p);
	if (rc != 0) {
		zone_version_unref(base);
		zone_version_unref(file_v);
		return rc;
	}
	if (base == NULL) { /* first start: the file as it is */
		p->file_behind = true;
		*out = file_v;
		return 0;
	}
	/* the file against what was served: edits made while stopped become a new serial,
	 * exactly as a reload would make them */
	zone_version_t *nv = NULL;
	rc = xfr_primary_reload(p, base, file_v, now, &nv);
	if (rc != 0 || nv != NULL) {
		zone_version_unref(base);
		*out = nv;
		return rc;
	}
	*out = base;
	return 0;
}

/* The file's SOA says nothing new: same TTL and fields but for the serial, and a serial that
 * was not raised by hand (the served serial is usually ours, above the file's). */
static bool same_soa(const zone_rr_t *served, const zone_rr_t *file)
{
	uint16_t len = served->rdlen;
	if (served->ttl != file->ttl || len != file->rdlen || len < DNS_SOA_MIN_LEN)
		return false;
	size_t names = len - DNS_SOA_FIXED; /* then serial, refresh, retry, expire, minimum */
	return memcmp(served->rdata, file->rdata, names) == 0 &&
	       memcmp(served->rdata + names + 4, file->rdata + names + 4, DNS_SOA_FIXED - 4) == 0 &&
	       !zone_serial_gt(dns_soa_serial(file->rdata, len),
	                       dns_soa_serial(served->rdata, len));
}

/* Choose the new serial and make it SOA(to) of cs (RFC 1982 via zone_serial_choose). */
static int set_serial(xfr_primary_t *p, zone_changeset_t *cs, const zone_version_t *served,
                      const zone_version_t *file_v, time_t now, uint32_t *serial)
{
	zone_rr_t from, to;
	uint8_t buf[DNS_SOA_MAX_LEN];
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
	/* the change set holds copies: drop the file's version before building the new one, so
	 * a reload peaks at two versions of the zone, not three */
	zone_version_unref(file_v);
	file_v = NULL;
	if (rc == 0)
		rc = zone_changeset_apply(served, cs, &nv);
	/* journal before publish (DESIGN.md): durable once this returns */
	if (rc == 0)
		rc = zone_journal_append(p->journal, cs);
	if (rc != 0) {
		log_error("%s: change to serial %u not applied: %s", p->name, serial,
		          sd_strerror(rc));
		zone_version_unref(nv);
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
	zone_version_unref(file_v);
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
	/* The journal holds every change since the snapshot (start-up replays it), so a change
	 * costs one journal append: the snapshot is written only when there is none yet (first
	 * start) or when the journal passed its limits and is to be trimmed. */
	bool over = zone_journal_over_limit(p->journal);
	if (!over && access(p->snapshot, F_OK) == 0)
		return 0;
	int rc = 0;
	if (p->file_behind) {
		rc = zone_write_file(v, p->snapshot);
		if (rc != 0) {
			log_error("%s: writing %s: %s", p->name, p->snapshot, sd_strerror(rc));
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
