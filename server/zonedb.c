/* zonedb.c — the daemon's registry of served zones (see zonedb.h). */
#include "server/zonedb.h"

#include "dns/msg.h"
#include "contrib/base/clock.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "server/audit.h"
#include "server/xfr/zoneconf.h"
#include "zone/dump.h"
#include "zone/update.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <urcu-qsbr.h>

typedef struct zentry {
	zone_t *zone;
	uint8_t apex[DNAME_MAX];
	char *name;
	char *lname; /* zone= of its event log lines (contrib/base/log.h) */
	char *file;
	/* the files the last successful load read are the zone's (zone_files): a reload
	 * reloads the zone when any of them changed */
	time_t loaded_at;  /* 0 = never loaded */
	sd_strbuf_t error; /* lines of the last failed load; empty after a success */
	xfr_zone_t *xfr; /* transfer settings and NOTIFY; the zone owns serials, journal, history */
	struct prep_item *pre;    /* what a prepared reload parsed for it (apply only), or NULL */
	srv_upd_policy_t policy;  /* update-policy, replaced at each config apply */
	srv_zone_upd_stats_t upd; /* RFC 2136 counters */
} zentry_t;

/* One zone file parsed ahead of an apply, off the control thread. */
typedef struct prep_item {
	zentry_t *e; /* the entry it is for (read-only while parsing) */
	uint8_t apex[DNAME_MAX];
	char *path;                /* the file to parse (the configured one) */
	zone_bindings_t *bindings; /* the zone's at the prepare (a reference), or NULL */
	int ret;
	zone_version_t *v;
	zone_load_info_t files;
	zone_t *zone;           /* e's zone: its base copy is read while parsing */
	zone_version_t *served; /* e's version at the prepare (a reference), or NULL */
	zone_file_base_t *base; /* the file's change against the base copy, or NULL */
	sd_strbuf_t error;      /* the loader's warning and error lines */
} prep_item_t;

struct srv_zonedb_prep {
	prep_item_t *items;
	size_t count;
};

struct srv_zonedb {
	zentry_t **entries;
	size_t count;
	srv_views_t *views;              /* where the workers' view is published */
	const srv_answer_conf_t *answer; /* lent to every view */
	xfr_notifier_t *notifier;        /* NOTIFY sender; NULL until the control loop has one */
	srv_steer_t *steer;              /* steering glue (borrowed), or NULL */
	health_t *health;                /* the prober the view lends the workers, or NULL */
	bool batch;                      /* inside an apply: one steering sync at its end */
	srv_zonedb_follower_t follower;  /* the secondaries' tracker (server.c), or all NULL */
};

/* Refresh the steering candidates from every served zone's current version. */
static void steer_sync(srv_zonedb_t *zs)
{
	zone_t **zones = calloc(zs->count ? zs->count : 1, sizeof(*zones));
	if (!zones) {
		log_error("event=steering-sync-failed reason=\"out of memory\" hint=\"the "
		          "candidates were not refreshed\"");
		return;
	}
	for (size_t i = 0; i < zs->count; i++)
		zones[i] = zs->entries[i]->zone;
	(void)srv_steer_sync(zs->steer, zones, zs->count); /* errors are logged */
	free(zones);
}

/* Give the zone the policy bindings of cfg before it loads (the builder stamps the ids);
 * a served version is rebuilt with the new ids at once when they changed (zone.h). */
static int bind_policies(zentry_t *e, const srv_config_t *cfg)
{
	zone_bindings_t *b = NULL;
	int ret = srv_steer_bindings(cfg->steering, e->apex, &b);
	if (ret == 0)
		ret = zone_set_bindings(e->zone, b);
	zone_bindings_unref(b);
	if (ret < 0)
		log_error("event=zone-steering-failed zone=%s reason=%s", e->lname,
		          LOG_Q(sd_strerror(ret)));
	return ret;
}

/* Collects the warning and error lines the loader logs on this thread. */
static void capture_line(log_level_t level, const char *line, void *data)
{
	if (level <= LOG_LEVEL_WARNING) {
		sd_strbuf_t *t = data;
		sd_strbuf_printf(t, "%s\n", line);
	}
}

static void entry_free(zentry_t *e)
{
	if (!e)
		return;
	xfr_zone_free(e->xfr);
	srv_upd_policy_free(&e->policy);
	zone_free(e->zone);
	free(e->name);
	free(e->lname);
	free(e->file);
	sd_strbuf_free(&e->error);
	free(e);
}

static int entry_new(const srv_zone_conf_t *zc, const char *state_dir, zentry_t **out)
{
	zentry_t *e = calloc(1, sizeof(*e));
	int ret = -ENOMEM;
	if (!e)
		goto out;
	memcpy(e->apex, zc->apex, dname_len(zc->apex));
	e->name = strdup(zc->name);
	e->file = strdup(zc->file);
	char ln[DNAME_MAX * 4 + 1];
	e->lname = strdup(dname_to_str_nodot(e->apex, ln, sizeof(ln)));
	if (!e->name || !e->file || !e->lname)
		goto out;
	ret = zone_new(e->apex, e->file, &e->zone);
	zone_conf_t conf = {.policy = zc->xfr.policy, .limits = zc->xfr.limits};
	if (ret == 0)
		ret = zone_open_state(e->zone, state_dir, &conf);
	if (ret == 0)
		ret = xfr_zone_new(e->zone, e->lname, &zc->xfr, &e->xfr);
	if (ret == 0)
		ret = srv_upd_policy_copy(&zc->update_policy, &e->policy);
out:
	if (ret < 0) {
		entry_free(e);
		e = NULL;
	}
	*out = e;
	return ret;
}

static int build_error(zentry_t *e, int ret, const char *what)
{
	char why[256];
	snprintf(why, sizeof(why), "%s: %s", what, sd_strerror(ret));
	log_error("event=zone-load-failed zone=%s file=%s reason=%s", e->lname, LOG_Q(e->file),
	          LOG_Q(why));
	sd_strbuf_printf(&e->error, "%s: %s: %s\n", e->file, what, sd_strerror(ret));
	return ret;
}

/* Tries of a load whose file keeps changing under it (an editor writing in place). */
#define LOAD_TRIES 3

/* Whether any file of a load's list differs now from what the load read (changed, replaced,
 * removed or unreadable). Reads every file once more. */
static bool files_changed(const zone_load_info_t *files)
{
	for (size_t i = 0; i < files->count; i++) {
		zone_file_id_t now;
		if (zone_file_id_read(files->files[i].path, &now) != 0 ||
		    !zone_file_id_equal(&now, &files->files[i].id))
			return true;
	}
	return false;
}

/* Milliseconds until the youngest of the files (path, then those of files, as they are now)
 * is SRV_ZONEDB_SETTLE_MS old; 0 when all are. An mtime in the future (a skewed clock,
 * touch -d) does not count as young: waiting for it would never end. */
static int64_t settle_wait(const char *path, const zone_load_info_t *files)
{
	int64_t now = (int64_t)sd_clock_ms(CLOCK_REALTIME), wait = 0;
	for (size_t i = 0; i <= files->count; i++) {
		struct stat st;
		if (stat(i == 0 ? path : files->files[i - 1].path, &st) != 0)
			continue;
		int64_t age =
		    now - ((int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000);
		if (age >= 0 && age < SRV_ZONEDB_SETTLE_MS && SRV_ZONEDB_SETTLE_MS - age > wait)
			wait = SRV_ZONEDB_SETTLE_MS - age;
	}
	return wait;
}

/* Parse the entry's file (and the files it includes) into a new version; the error lines
 * land in e->error. *files lists every file read, with its identity and content hash as the
 * loader read it; after the load each is read again and compared: a load that saw a file
 * change under it (or change after it was read) is repeated, so what is served is never a mix
 * of two edits, and the ids kept are always those of the content that was loaded (an edit
 * made after the check shows at the next reload). A file added or removed by an edit shows
 * as a change of the file whose $INCLUDE line changed. */
static int entry_build(zentry_t *e, zone_load_info_t *files, zone_version_t **v,
                       zone_file_base_t **base)
{
	prep_item_t *pre = e->pre;
	e->pre = NULL;
	/* what the pool parsed, unless the path or the policy bindings changed since */
	if (pre && (strcmp(pre->path, e->file) != 0 ||
	            !zone_bindings_equal(pre->bindings, zone_bindings(e->zone))))
		pre = NULL;
	if (pre) {
		sd_strbuf_reset(&e->error);
		if (pre->error.len)
			sd_strbuf_append(&e->error, sd_strbuf_str(&pre->error), pre->error.len);
		if (pre->ret < 0) {
			log_error("event=zone-load-failed zone=%s file=%s reason=%s served=%s",
			          e->lname, LOG_Q(e->file), LOG_Q(sd_strerror(pre->ret)),
			          zone_current(e->zone) ? "previous" : "none");
			if (e->error.len == 0)
				sd_strbuf_printf(&e->error, "%s: %s\n", e->file,
				                 sd_strerror(pre->ret));
			return pre->ret;
		}
		if (!files_changed(&pre->files)) { /* what was parsed is still what is there */
			*v = pre->v;
			*files = pre->files;
			*base = pre->base;
			pre->v = NULL;
			pre->files = (zone_load_info_t){0};
			pre->base = NULL;
			return 0;
		}
		log_notice("event=zone-reread zone=%s file=%s reason=\"changed after it was "
		           "read\"",
		           e->lname, LOG_Q(e->file));
	}
	/* a file that changed after the pool's settle check is still being written, maybe */
	bool settle = pre != NULL;
	for (unsigned attempt = 1;; attempt++) {
		sd_strbuf_reset(&e->error);
		log_set_thread_tee(capture_line, &e->error);
		int ret = zone_load(e->zone, files, v);
		log_set_thread_tee(NULL, NULL);
		if (ret < 0) {
			log_error("event=zone-load-failed zone=%s file=%s reason=%s served=%s",
			          e->lname, LOG_Q(e->file), LOG_Q(sd_strerror(ret)),
			          e->zone && zone_current(e->zone) ? "previous" : "none");
			if (e->error.len == 0)
				sd_strbuf_printf(&e->error, "%s: %s\n", e->file, sd_strerror(ret));
			return ret;
		}
		bool young = settle && settle_wait(e->file, files) > 0;
		if (!young && !files_changed(files))
			return 0;
		zone_version_unref(*v);
		*v = NULL;
		zone_load_info_free(files);
		if (young)
			return build_error(
			    e, -EAGAIN,
			    "the file is still being written; reload once it is complete");
		if (attempt == LOAD_TRIES)
			return build_error(e, -EAGAIN, "the file kept changing while being read");
		log_notice("event=zone-reread zone=%s file=%s reason=\"it or a file it includes "
		           "changed while being read\"",
		           e->lname, LOG_Q(e->file));
	}
}

/* The file's own change through the zone's one write path (zone/update.h): a new serial
 * and a journal entry for an edit, nothing for an unchanged file. */
static int entry_commit(zentry_t *e, zone_version_t *v, zone_load_info_t *files,
                        zone_file_base_t *base, uint32_t *serial)
{
	zone_update_t *u = NULL;
	int ret = zone_update_begin(e->zone, &u);
	if (ret < 0) {
		zone_version_unref(v);
		zone_load_info_free(files);
		zone_file_base_free(base);
		return ret;
	}
	ret = zone_update_from_file_based(u, v, files, base);
	if (ret < 0) {
		zone_update_abort(u);
		return ret;
	}
	zone_update_set_source(u, &(zone_source_t){.kind = ZONE_SOURCE_RELOAD, .text = e->file});
	return zone_update_commit(u, time(NULL), serial);
}

/* After a version of e was published: the followers (NOTIFY, snapshot and journal upkeep)
 * and the steering candidates (once per apply when batched). */
static void entry_published(srv_zonedb_t *zs, zentry_t *e)
{
	const zone_version_t *v = zone_current(e->zone);
	if (zs->follower.published && v) /* before the NOTIFY: the tracker asks after it */
		zs->follower.published(zs->follower.data, e->apex, zone_version_serial(v));
	xfr_zone_committed(e->xfr, zs->notifier);
	if (zs->steer && !zs->batch)
		steer_sync(zs);
}

static int entry_load(srv_zonedb_t *zs, zentry_t *e, sd_strbuf_t *errors)
{
	zone_load_info_t files = {0};
	zone_version_t *v = NULL;
	zone_file_base_t *base = NULL;
	const zone_version_t *cur = zone_current(e->zone);
	uint32_t before = cur ? zone_version_serial(cur) : 0, serial = 0;
	bool reload = cur != NULL;
	int ret = entry_build(e, &files, &v, &base);
	bool built = ret == 0;
	if (built)
		ret = entry_commit(e, v, &files, base, &serial);
	if (ret < 0) {
		if (built) /* loaded, not applied */
			sd_strbuf_printf(&e->error, "%s: not applied: %s\n", e->file,
			                 sd_strerror(ret));
		if (errors)
			sd_strbuf_append(errors, sd_strbuf_str(&e->error), e->error.len);
		return ret;
	}
	e->loaded_at = time(NULL);
	if (cur && serial == before) {
		log_info("event=zone-unchanged zone=%s serial=%u file=%s", e->lname, serial,
		         LOG_Q(e->file));
		return 0;
	}
	/* the zone keeps the ids of what was read, never re-taken after publishing: the zone
	 * files are never written by us, and an edit made after the load's check must show as
	 * a change at the next reload */
	cur = zone_current(e->zone);
	if (reload)
		log_info("event=zone-reloaded zone=%s serial=%u from=%u records=%zu file=%s",
		         e->lname, serial, before, zone_version_rr_count(cur), LOG_Q(e->file));
	else
		log_info("event=zone-loaded zone=%s serial=%u records=%zu file=%s", e->lname,
		         serial, zone_version_rr_count(cur), LOG_Q(e->file));
	entry_published(zs, e);
	return 0;
}

/* The main file or any file it included at the last successful load changed (a zone that
 * never loaded always counts as changed). */
static bool entry_changed(const zentry_t *e)
{
	const zone_load_info_t *files = zone_files(e->zone);
	return files->count == 0 || files_changed(files);
}

int srv_zonedb_new(srv_views_t *views, const srv_answer_conf_t *answer, srv_zonedb_t **out)
{
	*out = calloc(1, sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	(*out)->views = views;
	(*out)->answer = answer;
	return 0;
}

void srv_zonedb_set_notifier(srv_zonedb_t *zs, xfr_notifier_t *n)
{
	zs->notifier = n;
}

void srv_zonedb_set_steer(srv_zonedb_t *zs, srv_steer_t *st, health_t *health)
{
	zs->steer = st;
	zs->health = health;
}

static zentry_t *find_entry(zentry_t *const *entries, size_t count, const uint8_t *apex)
{
	for (size_t i = 0; i < count; i++)
		if (entries[i] && dname_equal(entries[i]->apex, apex))
			return entries[i];
	return NULL;
}

/* The workers' view of entries[0..count) under cfg: their zone set and transfer environment
 * (keys, ACLs, histories). */
static int view_build(const srv_zonedb_t *zs, const srv_config_t *cfg, zentry_t *const *entries,
                      size_t count, srv_view_t **out)
{
	zone_t **zones = calloc(count ? count : 1, sizeof(*zones));
	xfr_zone_t **xz = calloc(count ? count : 1, sizeof(*xz));
	zone_set_t *set = NULL;
	xfr_env_t *env = NULL;
	int ret = zones && xz ? 0 : -ENOMEM;
	for (size_t i = 0; ret == 0 && i < count; i++) {
		zones[i] = entries[i]->zone;
		xz[i] = entries[i]->xfr;
	}
	if (ret == 0 && count)
		ret = zone_set_new(zones, count, &set);
	if (ret == 0)
		ret = xfr_env_new(&cfg->keys, xz, count, cfg->udp_payload, &env);
	free(zones);
	free(xz);
	if (ret < 0) {
		zone_set_free(set);
		return ret;
	}
	ret = srv_view_new(set, env, zs->answer, out);
	if (ret == 0 && zs->steer) {
		(*out)->steering = srv_steer_pub(zs->steer);
		(*out)->health = zs->health;
	}
	return ret;
}

/* Publish the view of next[0..count) and free the entries only the old view could reach. */
static int publish(srv_zonedb_t *zs, const srv_config_t *cfg, zentry_t **next, size_t count)
{
	srv_view_t *view = NULL;
	int ret = view_build(zs, cfg, next, count, &view);
	if (ret < 0)
		return ret;
	srv_view_swap(zs->views, view);          /* no worker can see a removed zone any more */
	for (size_t i = 0; i < zs->count; i++) { /* removed, or replaced by a new file path */
		zentry_t *e = zs->entries[i];
		if (find_entry(next, count, e->apex) == e)
			continue;
		if (!find_entry(next, count, e->apex))
			log_info("event=zone-removed zone=%s", e->lname);
		entry_free(e);
	}
	free(zs->entries);
	zs->entries = next;
	zs->count = count;
	return 0;
}

/* The zone's file path changed: the same zone (one journal, locked) serves the new file,
 * whose content is diffed against the old file's; when it fails to load the old file stays. */
static int entry_move(srv_zonedb_t *zs, zentry_t *e, const char *file, sd_strbuf_t *errors)
{
	char *nf = strdup(file);
	int ret = nf ? zone_set_file(e->zone, nf) : -ENOMEM;
	if (ret < 0) {
		free(nf);
		return ret;
	}
	char *old = e->file;
	e->file = nf;
	ret = entry_load(zs, e, errors);
	if (ret == 0) {
		free(old);
		return 0;
	}
	if (zone_set_file(e->zone, old) == 0) { /* keep serving the old file */
		e->file = old;
		free(nf);
	} else {
		free(old);
	}
	return ret;
}

/* The entry that serves zc after this reload: the current one (reloaded when its file
 * changed or moved), or a new one when the zone is new and loads; NULL when a new zone
 * fails to load. */
static int apply_one(srv_zonedb_t *zs, const srv_config_t *cfg, const srv_zone_conf_t *zc,
                     bool force, sd_strbuf_t *errors, zentry_t **out)
{
	zentry_t *cur = find_entry(zs->entries, zs->count, zc->apex);
	*out = cur;
	if (cur) {
		int ret = xfr_zone_configure(cur->xfr, &zc->xfr);
		srv_upd_policy_t policy = {0};
		if (ret == 0)
			ret = srv_upd_policy_copy(&zc->update_policy, &policy);
		if (ret == 0)
			ret = bind_policies(cur, cfg);
		if (ret < 0) {
			srv_upd_policy_free(&policy);
			return ret;
		}
		srv_upd_policy_free(&cur->policy);
		cur->policy = policy; /* from the next UPDATE on */
		if (strcmp(cur->file, zc->file) != 0)
			return entry_move(zs, cur, zc->file, errors);
		return force || entry_changed(cur) ? entry_load(zs, cur, errors) : 0;
	}
	zentry_t *e = NULL;
	int ret = entry_new(zc, cfg->state_dir, &e);
	if (ret == 0)
		ret = bind_policies(e, cfg);
	if (ret == 0)
		ret = entry_load(zs, e, errors);
	if (ret < 0) {
		entry_free(e);
		return ret;
	}
	*out = e;
	return 0;
}

/* --- prepared reloads: the parsing off the control thread --- */

static int prep_add(srv_zonedb_prep_t *p, zentry_t *e, const char *path)
{
	prep_item_t *it = &p->items[p->count];
	const zone_bindings_t *b = zone_bindings(e->zone);
	const zone_version_t *v = zone_current(e->zone);
	*it = (prep_item_t){.e = e,
	                    .zone = e->zone,
	                    .bindings = b ? zone_bindings_ref(b) : NULL,
	                    .served = v ? zone_version_ref(v) : NULL};
	(void)zone_keep_base(e->zone); /* the pool reads the base copy: written first (logged) */
	memcpy(it->apex, e->apex, dname_len(e->apex));
	if (!(it->path = strdup(path)))
		return -ENOMEM;
	p->count++;
	return 0;
}

int srv_zonedb_prepare(const srv_zonedb_t *zs, const srv_config_t *cfg, const uint8_t *apex,
                       srv_zonedb_prep_t **out)
{
	srv_zonedb_prep_t *p = calloc(1, sizeof(*p));
	size_t n = apex ? 1 : cfg->zone_count;
	int ret = p && (p->items = calloc(n ? n : 1, sizeof(*p->items))) ? 0 : -ENOMEM;
	if (ret == 0 && apex) {
		zentry_t *e = find_entry(zs->entries, zs->count, apex);
		ret = e ? prep_add(p, e, e->file) : SD_ENOTFOUND;
	}
	for (size_t i = 0; ret == 0 && !apex && i < cfg->zone_count; i++) {
		const srv_zone_conf_t *zc = &cfg->zones[i];
		zentry_t *e = find_entry(zs->entries, zs->count, zc->apex);
		/* a new zone loads on the control thread at the apply (it has no bindings yet) */
		if (e && (strcmp(e->file, zc->file) != 0 || entry_changed(e)))
			ret = prep_add(p, e, zc->file);
	}
	if (ret < 0) {
		srv_zonedb_prep_free(p);
		p = NULL;
	}
	*out = p;
	return ret;
}

size_t srv_zonedb_prep_count(const srv_zonedb_prep_t *p)
{
	return p->count;
}

/* Sleep ms, waking early when *cancel is set. Returns false when cancelled. */
static bool nap(int64_t ms, const atomic_bool *cancel)
{
	for (int64_t left = ms; left > 0; left -= 50) {
		if (cancel && atomic_load(cancel))
			return false;
		struct timespec ts = {0, (left < 50 ? left : 50) * 1000000L};
		nanosleep(&ts, NULL);
	}
	return !(cancel && atomic_load(cancel));
}

/* The O(zone) part of the file's change (the base copy parsed and diffed: zone/update.h),
 * here rather than on the control thread, whose commit then takes only what changed (a
 * SIGTERM is served within a second even during a large reload's apply). A failure only
 * leaves the work to the commit; a cancel fails the item. */
static void prep_base(prep_item_t *it)
{
	zone_file_base_free(it->base);
	it->base = NULL;
	int ret = zone_file_base_prepare(it->zone, it->bindings, it->served, it->v, &it->base);
	if (ret == -ECANCELED) {
		zone_version_unref(it->v);
		it->v = NULL;
		zone_load_info_free(&it->files);
		it->ret = ret;
	}
}

/* Parse one item. A file written in place is read while the writer is half-way (it parses,
 * truncated, or fails): a file modified less than the settle time ago is waited for and
 * parsed again, until it has been left alone for that long (at most SRV_ZONEDB_SETTLE_MAX_MS;
 * then the load fails and the previous version stays). */
static void prep_parse_one(prep_item_t *it, const atomic_bool *cancel)
{
	int64_t deadline = (int64_t)sd_clock_ms(CLOCK_MONOTONIC) + SRV_ZONEDB_SETTLE_MAX_MS;
	for (;;) {
		zone_version_unref(it->v);
		it->v = NULL;
		zone_load_info_free(&it->files);
		sd_strbuf_reset(&it->error);
		log_set_thread_tee(capture_line, &it->error);
		it->ret = zone_load_file_over(it->apex, it->path, it->bindings, it->served,
		                              &it->files, &it->v);
		log_set_thread_tee(NULL, NULL);
		if (it->ret == -ECANCELED)
			return;
		int64_t wait = settle_wait(it->path, &it->files);
		if (wait == 0 && it->ret == 0)
			prep_base(it);
		if (wait == 0)
			return;
		if ((int64_t)sd_clock_ms(CLOCK_MONOTONIC) + wait > deadline) {
			zone_version_unref(it->v);
			it->v = NULL;
			zone_load_info_free(&it->files);
			it->ret = -EAGAIN;
			sd_strbuf_printf(&it->error,
			                 "%s: the file is still being written (modified less than "
			                 "%d ms ago for %d s); reload once it is complete\n",
			                 it->path, SRV_ZONEDB_SETTLE_MS,
			                 SRV_ZONEDB_SETTLE_MAX_MS / 1000);
			return;
		}
		log_notice("event=zone-file-settling file=%s age_ms=%lld hint=\"waiting for the "
		           "writer to finish\"",
		           LOG_Q(it->path), (long long)(SRV_ZONEDB_SETTLE_MS - wait));
		if (!nap(wait, cancel)) {
			it->ret = -ECANCELED;
			return;
		}
	}
}

void srv_zonedb_prep_parse(srv_zonedb_prep_t *p, const atomic_bool *cancel)
{
	zone_load_set_cancel(cancel);
	for (size_t i = 0; i < p->count; i++) {
		if (cancel && atomic_load(cancel)) {
			p->items[i].ret = -ECANCELED;
			continue;
		}
		prep_parse_one(&p->items[i], cancel);
	}
	zone_load_set_cancel(NULL);
}

void srv_zonedb_prep_free(srv_zonedb_prep_t *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->count; i++) {
		prep_item_t *it = &p->items[i];
		if (it->e && it->e->pre == it)
			it->e->pre = NULL;
		zone_version_unref(it->v);
		zone_load_info_free(&it->files);
		zone_file_base_free(it->base);
		zone_version_unref(it->served);
		sd_strbuf_free(&it->error);
		free(it->path);
		zone_bindings_unref(it->bindings);
	}
	free(p->items);
	free(p);
}

/* Hand each prepared item to its entry for entry_build (the entries are those of the
 * prepare: no apply ran in between). */
static void prep_attach(srv_zonedb_t *zs, srv_zonedb_prep_t *p)
{
	for (size_t i = 0; p && i < p->count; i++)
		if (find_entry(zs->entries, zs->count, p->items[i].apex) == p->items[i].e)
			p->items[i].e->pre = &p->items[i];
}

static void prep_detach(srv_zonedb_t *zs)
{
	for (size_t i = 0; i < zs->count; i++)
		zs->entries[i]->pre = NULL;
}

int srv_zonedb_apply_prepared(srv_zonedb_t *zs, const srv_config_t *cfg, srv_zonedb_prep_t *p,
                              sd_strbuf_t *errors)
{
	prep_attach(zs, p);
	int ret = srv_zonedb_apply(zs, cfg, false, errors);
	prep_detach(zs);
	return ret;
}

int srv_zonedb_reload_prepared(srv_zonedb_t *zs, const uint8_t *apex, srv_zonedb_prep_t *p,
                               sd_strbuf_t *errors)
{
	prep_attach(zs, p);
	int ret = srv_zonedb_reload(zs, apex, errors);
	prep_detach(zs);
	return ret;
}

int srv_zonedb_apply(srv_zonedb_t *zs, const srv_config_t *cfg, bool force, sd_strbuf_t *errors)
{
	zentry_t **next = calloc(cfg->zone_count ? cfg->zone_count : 1, sizeof(*next));
	if (!next)
		return -ENOMEM;
	size_t count = 0;
	int first = 0;
	if (zs->steer)
		srv_steer_configure(zs->steer, cfg->steering);
	zs->batch = true;
	for (size_t i = 0; i < cfg->zone_count; i++) {
		zentry_t *e = NULL;
		int ret = apply_one(zs, cfg, &cfg->zones[i], force, errors, &e);
		if (ret < 0 && first == 0)
			first = ret;
		if (e)
			next[count++] = e;
	}
	/* a new view every time: membership, keys or transfer settings may have changed */
	zs->batch = false;
	int ret = publish(zs, cfg, next, count);
	if (zs->steer)
		steer_sync(
		    zs); /* the candidates of the zones served now (the old map until then) */
	if (ret < 0) {
		/* Nothing was published: free the entries made for this reload. */
		for (size_t i = 0; i < count; i++)
			if (find_entry(zs->entries, zs->count, next[i]->apex) != next[i])
				entry_free(next[i]);
		free(next);
		return ret;
	}
	return first;
}

int srv_zonedb_reload(srv_zonedb_t *zs, const uint8_t *apex, sd_strbuf_t *errors)
{
	zentry_t *e = find_entry(zs->entries, zs->count, apex);
	return e ? entry_load(zs, e, errors) : SD_ENOTFOUND;
}

void srv_zonedb_keep_bases(srv_zonedb_t *zs)
{
	for (size_t i = 0; i < zs->count; i++)
		(void)zone_keep_base(zs->entries[i]->zone); /* logged; harmless (zone/update.h) */
}

void srv_zonedb_keep_bases_off(srv_zonedb_t *zs, srv_zonedb_base_queue_fn queue, void *arg)
{
	for (size_t i = 0; i < zs->count; i++) {
		zone_base_job_t *j = NULL;
		if (zone_base_job_take(zs->entries[i]->zone, &j) != 0) {
			(void)zone_keep_base(zs->entries[i]->zone); /* logged, as above */
		} else if (j && queue(arg, j) < 0) {
			zone_base_job_write(j);
			zone_base_job_done(j);
		}
	}
}

int srv_zonedb_update(srv_zonedb_t *zs, const uint8_t *apex, srv_zonedb_txn_fn fn, void *arg,
                      srv_zonedb_txn_t *t)
{
	zentry_t *e = find_entry(zs->entries, zs->count, apex);
	const zone_version_t *cur = e ? zone_current(e->zone) : NULL;
	if (cur == NULL)
		return SD_ENOTFOUND;
	*t = (srv_zonedb_txn_t){.policy = &e->policy, .stats = &e->upd};
	t->serial_from = t->serial_to = zone_version_serial(cur);
	uint64_t start = sd_clock_ns(CLOCK_MONOTONIC);
	t->commit = zone_update_begin(e->zone, &t->u);
	if (t->commit < 0) {
		log_error("event=update-txn-failed zone=%s reason=%s", e->lname,
		          LOG_Q(sd_strerror(t->commit)));
		return 0;
	}
	int ret = fn(arg, t);
	if (ret < 0) {
		zone_update_abort(t->u);
		t->u = NULL;
		t->commit = ret;
		return 0;
	}
	t->commit = zone_update_commit(t->u, time(NULL), &t->serial_to);
	t->u = NULL;
	e->upd.last_commit_ns = sd_clock_ns(CLOCK_MONOTONIC) - start;
	e->upd.commits++;
	if (t->commit < 0) {
		log_error("event=update-commit-failed zone=%s serial=%u reason=%s", e->lname,
		          t->serial_from, LOG_Q(sd_strerror(t->commit)));
		t->serial_to = t->serial_from;
		return 0;
	}
	return 0;
}

void srv_zonedb_steer_views(srv_zonedb_t *zs, uint64_t now_ms)
{
	if (!zs->steer || zs->count == 0)
		return;
	zone_t **zones = calloc(2 * zs->count, sizeof(*zones));
	if (!zones) {
		log_error("event=steering-views-failed reason=\"out of memory\"");
		return;
	}
	for (size_t i = 0; i < zs->count; i++)
		zones[i] = zs->entries[i]->zone;
	size_t n = 0;
	(void)srv_steer_views(zs->steer, zones, zs->count, now_ms, zones + zs->count, &n);
	for (size_t k = 0; k < n; k++) /* NOTIFY, upkeep and the candidate map */
		for (size_t i = 0; i < zs->count; i++)
			if (zs->entries[i]->zone == zones[zs->count + k])
				entry_published(zs, zs->entries[i]);
	free(zones);
}

void srv_zonedb_committed(srv_zonedb_t *zs, const uint8_t *apex)
{
	zentry_t *e = find_entry(zs->entries, zs->count, apex);
	if (e) /* NOTIFY, snapshot and journal upkeep; steering candidates and their probes */
		entry_published(zs, e);
}

int srv_zonedb_export(srv_zonedb_t *zs, const uint8_t *apex, const char *path)
{
	zentry_t *e = find_entry(zs->entries, zs->count, apex);
	const zone_version_t *v = e ? zone_current(e->zone) : NULL;
	if (v == NULL)
		return SD_ENOTFOUND;
	int ret = zone_write_file(v, path);
	if (ret < 0)
		log_error("event=zone-export-failed zone=%s file=%s reason=%s", e->lname,
		          LOG_Q(path), LOG_Q(sd_strerror(ret)));
	else
		log_info("event=zone-exported zone=%s serial=%u file=%s", e->lname,
		         zone_version_serial(v), LOG_Q(path));
	return ret;
}

zone_t *srv_zonedb_zone(const srv_zonedb_t *zs, const uint8_t *apex)
{
	zentry_t *e = find_entry(zs->entries, zs->count, apex);
	return e ? e->zone : NULL;
}

void srv_zonedb_notify_targets(const srv_zonedb_t *zs, const uint8_t *apex,
                               const xfr_notify_target_t **t, size_t *n)
{
	zentry_t *e = find_entry(zs->entries, zs->count, apex);
	*t = NULL;
	*n = 0;
	if (e)
		*t = xfr_zone_notify_targets(e->xfr, n);
}

void srv_zonedb_set_follower(srv_zonedb_t *zs, const srv_zonedb_follower_t *f)
{
	zs->follower = f ? *f : (srv_zonedb_follower_t){0};
	for (size_t i = 0; zs->follower.published && i < zs->count; i++) {
		const zone_version_t *v = zone_current(zs->entries[i]->zone);
		if (v)
			zs->follower.published(zs->follower.data, zs->entries[i]->apex,
			                       zone_version_serial(v));
	}
}

void srv_zonedb_notify_all(srv_zonedb_t *zs)
{
	for (size_t i = 0; i < zs->count; i++) {
		const zone_version_t *v = zone_current(zs->entries[i]->zone);
		if (v)
			xfr_zone_notify(zs->entries[i]->xfr, v, zs->notifier);
	}
}

void srv_zonedb_free(srv_zonedb_t *zs)
{
	if (!zs)
		return;
	srv_view_swap(zs->views, NULL); /* waits for the readers */
	for (size_t i = 0; i < zs->count; i++)
		entry_free(zs->entries[i]);
	free(zs->entries);
	free(zs);
}

/* Each line of text, indented under its zone with prefix. */
static void indent_lines(sd_strbuf_t *out, const char *prefix, const char *text)
{
	const char *s = text;
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		sd_strbuf_printf(out, "  %s%.*s\n", prefix, (int)n, s);
		s += n + (nl ? 1 : 0);
	}
}

/* "updates: applied N, unchanged N, refused N (REFUSED 2, NXRRSET 1), last commit X ms" */
static void status_updates(const srv_zone_upd_stats_t *u, sd_strbuf_t *out)
{
	sd_strbuf_printf(out, "  updates: applied %llu, unchanged %llu, refused %llu",
	                 (unsigned long long)u->applied, (unsigned long long)u->unchanged,
	                 (unsigned long long)u->refused);
	const char *sep = " (";
	for (unsigned r = 0; r < SD_ARRAY_LEN(u->refused_by); r++) {
		char name[16];
		if (u->refused_by[r] == 0)
			continue;
		sd_strbuf_printf(out, "%s%s %llu", sep, dns_rcode_name(r, name),
		                 (unsigned long long)u->refused_by[r]);
		sep = ", ";
	}
	if (sep[0] == ',')
		sd_strbuf_printf(out, ")");
	if (u->commits)
		sd_strbuf_printf(out, ", last commit %.3f ms\n", (double)u->last_commit_ns / 1e6);
	else
		sd_strbuf_printf(out, ", last commit none\n");
}

static void status_one(const zentry_t *e, xfr_notifier_t *notifier,
                       const srv_zonedb_follower_t *follower, sd_strbuf_t *out)
{
	const zone_version_t *v = zone_current(e->zone);
	char when[32] = "never";
	struct tm tm;
	if (e->loaded_at && gmtime_r(&e->loaded_at, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (v)
		sd_strbuf_printf(out, "zone %s serial %u records %zu loaded %s file %s\n", e->name,
		                 zone_version_serial(v), zone_version_rr_count(v), when, e->file);
	else
		sd_strbuf_printf(out, "zone %s not loaded file %s\n", e->name, e->file);
	char line[512];
	if (xfr_zone_status(e->xfr, line, sizeof(line)) > 0)
		indent_lines(out, "", line);
	for (size_t i = 0; xfr_zone_notify_status(e->xfr, notifier, i, line, sizeof(line)) > 0; i++)
		sd_strbuf_printf(out, "  %s\n", line);
	if (follower->status)
		follower->status(follower->data, e->apex, out);
	status_updates(&e->upd, out);
	if (e->error.len)
		indent_lines(out, "last error: ", e->error.buf);
}

void srv_zonedb_each(const srv_zonedb_t *zs, void (*fn)(void *data, const srv_zone_info_t *info),
                     void *data)
{
	for (size_t i = 0; i < zs->count; i++) {
		const zentry_t *e = zs->entries[i];
		const zone_version_t *v = zone_current(e->zone);
		srv_zone_info_t info = {.name = e->name, .apex = e->apex, .upd = &e->upd};
		if (v) {
			info.loaded = true;
			info.serial = zone_version_serial(v);
			info.records = zone_version_rr_count(v);
		}
		xfr_zone_stats(e->xfr, &info.xfr);
		fn(data, &info);
	}
}

void srv_zonedb_status(const srv_zonedb_t *zs, sd_strbuf_t *out)
{
	sd_strbuf_printf(out, "zones: %zu\n", zs->count);
	for (size_t i = 0; i < zs->count; i++)
		status_one(zs->entries[i], zs->notifier, &zs->follower, out);
}

int srv_zonedb_check(const srv_config_t *cfg)
{
	int first = 0;
	for (size_t i = 0; i < cfg->zone_count; i++) {
		const srv_zone_conf_t *zc = &cfg->zones[i];
		zone_version_t *v = NULL;
		zone_bindings_t *b = NULL;
		int ret = srv_steer_bindings(cfg->steering, zc->apex, &b);
		if (ret == 0)
			ret = zone_load_file_bound(zc->apex, zc->file, b, NULL, &v);
		zone_bindings_unref(b);
		char zn[DNAME_MAX * 4 + 1];
		dname_to_str_nodot(zc->apex, zn, sizeof(zn));
		if (ret < 0) {
			log_error("event=zone-check-failed zone=%s file=%s reason=%s", zn,
			          LOG_Q(zc->file), LOG_Q(sd_strerror(ret)));
			if (first == 0)
				first = ret;
			continue;
		}
		log_info("event=zone-checked zone=%s serial=%u records=%zu file=%s", zn,
		         zone_version_serial(v), zone_version_rr_count(v), LOG_Q(zc->file));
		zone_version_unref(v);
	}
	return first;
}
