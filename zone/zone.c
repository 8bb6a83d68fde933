/* zone.c — a served zone, the RCU publication of its versions and its state files (see
 * zone.h). The write path itself is update.c. */
/* rcu_dereference() inline on the query path (allowed under any license, liburcu README) */
#define URCU_INLINE_SMALL_FUNCTIONS
#include "zone/zone.h"
#include "zone/internal.h"
#include "zone/zone_state.h"
#include "zone/hidden.h"
#include "zone/update.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contrib/base/err.h"
#include "contrib/base/fsutil.h"
#include "contrib/base/log.h"
#include "zone/changeset.h"
#include "zone/dump.h"

/* Default bounds when the configuration sets none (issue 11 defect 6): without them every
 * change grows the journal and the IXFR history for ever. Like Knot's journal-max-depth and
 * NSD's ixfr-size, they bound the number of steps and the bytes kept; the size follows the
 * zone, so that a full-zone change of a big zone still fits once, and a small zone keeps
 * many small steps. Past the journal's bounds it is compacted to half (zone/journal.h). */
#define DEFAULT_DEPTH    100        /* entries of the journal and diffs of the history */
#define DEFAULT_MIN_SIZE (1u << 20) /* bytes: the size bound is never below 1 MiB ... */
#define DEFAULT_ZONE_MUL 2          /* ... nor below twice the zone's size */

int zone_new(const uint8_t *apex, const char *file, zone_t **out)
{
	zone_t *z = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	if (file) {
		z->file = strdup(file);
		if (!z->file) {
			free(z);
			return -ENOMEM;
		}
	}
	memcpy(z->apex, apex, dname_len(apex));
	dname_to_str(z->apex, z->name, sizeof(z->name));
	dname_to_str_nodot(z->apex, z->lname, sizeof(z->lname));
	*out = z;
	return 0;
}

/* "example.com." or "root." (the zone's state file names start so). */
static const char *state_prefix(const char *name, bool root, const char **sep)
{
	size_t nl = strlen(name);
	*sep = root || (nl > 0 && name[nl - 1] == '.') ? "" : ".";
	return root ? "root." : name;
}

/* "<dir>/example.com.<ext>"; the root zone is "root.<ext>". */
static char *state_path(const zone_t *z, const char *dir, const char *ext)
{
	const char *sep;
	const char *pre = state_prefix(z->name, z->apex[0] == 0, &sep);
	char *p = NULL;
	if (asprintf(&p, "%s/%s%s%s", dir, pre, sep, ext) < 0)
		return NULL;
	return p;
}

#define STATE_TMP_LONGEST "snapshot" ZONE_DUMP_TMP_SUFFIX

size_t zone_state_name_max(const uint8_t *apex)
{
	char name[DNAME_MAX * 4 + 1];
	dname_to_str(apex, name, sizeof(name));
	const char *sep;
	const char *pre = state_prefix(name, apex[0] == 0, &sep);
	return strlen(pre) + strlen(sep) + strlen(STATE_TMP_LONGEST);
}

/* Is entry a temporary of this zone: "<state file>.tmpXXXXXX" of zone/dump.c, or the
 * journal's "<journal>.compact"? */
static bool is_orphan(const zone_t *z, const char *entry)
{
	const char *files[] = {z->snapshot_path, z->base_path, z->serial_path};
	size_t el = strlen(entry), tl = strlen(ZONE_DUMP_TMP_SUFFIX);
	for (size_t i = 0; i < SD_ARRAY_LEN(files); i++) {
		const char *b = strrchr(files[i], '/') + 1;
		size_t bl = strlen(b);
		if (el == bl + tl && strncmp(entry, b, bl) == 0 &&
		    strncmp(entry + bl, ZONE_DUMP_TMP_SUFFIX, tl - 6) == 0)
			return true;
	}
	const char *j = strrchr(z->journal_path, '/') + 1;
	size_t jl = strlen(j);
	return el == jl + 8 && strncmp(entry, j, jl) == 0 && strcmp(entry + jl, ".compact") == 0;
}

/* A crash during a write leaves its temporary behind: nothing reads it, nothing else
 * would ever remove it. Called with the journal locked (no other writer of the zone). */
static void remove_orphans(zone_t *z, const char *state_dir)
{
	DIR *d = opendir(state_dir);
	if (!d)
		return; /* the journal opened in it: a listing that fails only leaves litter */
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!is_orphan(z, e->d_name))
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", state_dir, e->d_name);
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			log_notice("event=state-temp-removed zone=%s file=%s reason=\"left by an "
			           "interrupted write\"",
			           z->lname, LOG_Q(path));
		else
			log_warning("event=state-temp-remove-failed zone=%s file=%s reason=%s",
			            z->lname, LOG_Q(path), LOG_Q(sd_strerror(sd_errno())));
	}
	closedir(d);
}

static int journal_open(zone_t *z)
{
	int rc = zone_journal_open(z->journal_path, z->apex, &z->conf.limits, &z->journal);
	if (rc != 0)
		log_error("event=journal-open-failed zone=%s file=%s reason=%s", z->lname,
		          LOG_Q(z->journal_path), LOG_Q(sd_strerror(rc)));
	return rc;
}

/* Recovery found something of the state lost (the first such finding is kept). */
static void lost(zone_t *z, const char *what, const char *file)
{
	if (!z->lost) {
		z->lost = what;
		z->lost_file = file;
	}
}

/* The limits in force: the configured ones, the defaults for what is not set (zone_size:
 * bytes of the served zone, 0 before there is one). */
static void limits_default(const zone_t *z, size_t zone_size, zone_journal_limits_t *out)
{
	*out = z->conf.limits;
	if (out->max_depth == 0)
		out->max_depth = DEFAULT_DEPTH;
	if (out->max_size == 0) {
		uint64_t rel = (uint64_t)zone_size * DEFAULT_ZONE_MUL;
		out->max_size = rel > DEFAULT_MIN_SIZE ? rel : DEFAULT_MIN_SIZE;
	}
}

static size_t hist_depth(const zone_t *z, const zone_journal_limits_t *lim)
{
	return z->conf.history_depth ? z->conf.history_depth : lim->max_depth;
}

/* Bytes of a version in memory: its arena, its base's and its overlay's (roughly its size
 * on the wire, which is what a full-zone change costs in the journal). */
static size_t version_bytes(const zone_version_t *v)
{
	return v->size + (v->base ? v->base->size : 0) + (v->ov ? v->ov->size : 0);
}

void zone_limits_fit(zone_t *z, const zone_version_t *v)
{
	zone_journal_limits_t lim;
	limits_default(z, version_bytes(v), &lim);
	if (z->journal)
		zone_journal_set_limits(z->journal, &lim);
	if (z->history)
		zone_history_set_limits(z->history, hist_depth(z, &lim), (size_t)lim.max_size);
}

/* <state>/<zone>.serial: one line, the decimal serial, followed by " reserved" when it is a
 * reservation ahead of what was served (written while running; a clean stop writes the
 * served serial alone). Unreadable or damaged: logged and ignored (the recovered state is
 * then all there is to go by). */
#define SERIAL_RESERVED " reserved"

static void serial_read(zone_t *z)
{
	int fd = sd_open_regular(z->serial_path, O_RDONLY, 0);
	if (fd == -ENOENT)
		return;
	char buf[48];
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	char *end = NULL;
	if (n > 0) {
		buf[n] = '\0';
		errno = 0;
		unsigned long long v = strtoull(buf, &end, 10);
		bool reserved =
		    end != buf && strncmp(end, SERIAL_RESERVED, strlen(SERIAL_RESERVED)) == 0;
		if (reserved)
			end += strlen(SERIAL_RESERVED);
		if (errno == 0 && end != buf && *end == '\n' && end[1] == '\0' && v <= UINT32_MAX) {
			z->serial_max = z->serial_floor = (uint32_t)v;
			z->serial_known = true;
			z->serial_reserved = reserved;
			return;
		}
	}
	log_warning("event=serial-file-damaged zone=%s file=%s reason=%s hint=\"the highest "
	            "serial served before is not known\"",
	            z->lname, LOG_Q(z->serial_path),
	            LOG_Q(fd < 0 ? sd_strerror(fd) : "not one serial"));
}

/* Replace the record with s (a reservation when reserved): atomic, durable. */
static int serial_write(zone_t *z, uint32_t s, bool reserved)
{
	char *tmp = NULL;
	int fd = -1, rc = 0;
	if (asprintf(&tmp, "%s" ZONE_DUMP_TMP_SUFFIX, z->serial_path) < 0) {
		tmp = NULL;
		rc = -ENOMEM;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = sd_errno();
		goto out;
	}
	char line[32];
	int len =
	    snprintf(line, sizeof(line), "%" PRIu32 "%s\n", s, reserved ? SERIAL_RESERVED : "");
	if (write(fd, line, (size_t)len) != len || fsync(fd) != 0)
		rc = errno ? sd_errno() : -EIO;
	if (close(fd) != 0 && rc == 0)
		rc = sd_errno();
	fd = -1;
	if (rc == 0 && rename(tmp, z->serial_path) != 0)
		rc = sd_errno();
	if (rc == 0)
		rc = sd_fsync_dir(z->serial_path);
	if (rc == 0) {
		z->serial_max = s;
		z->serial_known = true;
		z->serial_reserved = reserved;
	}
out:
	if (rc != 0) {
		log_error("event=serial-record-failed zone=%s serial=%" PRIu32 " file=%s reason=%s",
		          z->lname, s, LOG_Q(z->serial_path), LOG_Q(sd_strerror(rc)));
		if (tmp)
			unlink(tmp);
	}
	free(tmp);
	return rc;
}

int zone_serial_record(zone_t *z, uint32_t s)
{
	if (z->serial_known && (s == z->serial_max || zone_serial_lt(s, z->serial_max)))
		return 0; /* covered by the reservation */
	/* RFC 1982: s + 16 is "greater" than s (far below 2^31); it wraps like serials do */
	return serial_write(z, s + ZONE_SERIAL_RESERVE, true);
}

/* A clean stop: the record becomes the served serial itself, so the next start knows
 * nothing was lost and continues from it without a new serial. */
static void serial_settle(zone_t *z)
{
	if (!z->started || !z->serial_known || !z->serial_reserved || !z->current)
		return;
	uint32_t s = zone_version_serial(z->current);
	if (zone_serial_lt(s, z->serial_max))
		(void)serial_write(z, s, false); /* logged; the reservation stays then */
}

uint32_t zone_serial_floor(const zone_t *z, uint32_t served)
{
	if (!z->serial_known || served == z->serial_floor ||
	    zone_serial_gt(served, z->serial_floor))
		return served;
	return z->serial_floor;
}

int zone_open_state(zone_t *z, const char *state_dir, const zone_conf_t *conf)
{
	if (z->journal)
		return SD_EEXIST;
	z->conf = *conf;
	z->journal_path = state_path(z, state_dir, "journal");
	z->snapshot_path = state_path(z, state_dir, "snapshot");
	z->base_path = state_path(z, state_dir, "file");
	z->serial_path = state_path(z, state_dir, "serial");
	int rc =
	    z->journal_path && z->snapshot_path && z->base_path && z->serial_path ? 0 : -ENOMEM;
	zone_journal_limits_t lim;
	limits_default(z, 0, &lim);
	if (rc == 0)
		rc = zone_history_new(hist_depth(z, &lim), lim.max_size, &z->history);
	bool had_journal = access(z->journal_path, F_OK) == 0;
	if (rc == 0)
		rc = journal_open(z);
	if (rc == 0) {
		zone_journal_set_limits(z->journal, &lim);
		remove_orphans(z, state_dir);
		serial_read(z);
		if (!had_journal)
			lost(z, "it was missing", z->journal_path);
		else if (zone_journal_was_truncated(z->journal))
			lost(z, "a damaged entry and those after it were dropped", z->journal_path);
	}
	return rc;
}

void zone_free(zone_t *z)
{
	if (!z)
		return;
	serial_settle(z);
	(void)zone_keep_base(z); /* logged; the next start diffs against the older copy */
	zone_version_unref(z->current);
	zone_journal_close(z->journal);
	zone_history_free(z->history);
	zone_bindings_unref(z->bindings);
	zone_load_info_free(&z->files);
	free(z->journal_path);
	free(z->snapshot_path);
	free(z->base_path);
	free(z->serial_path);
	free(z->file);
	free(z);
}

const uint8_t *zone_apex(const zone_t *z)
{
	return z->apex;
}

const char *zone_file(const zone_t *z)
{
	return z->file;
}

int zone_set_file(zone_t *z, const char *file)
{
	char *f = strdup(file);
	if (!f)
		return -ENOMEM;
	free(z->file);
	z->file = f;
	return 0;
}

const zone_version_t *zone_current(const zone_t *z)
{
	return rcu_dereference(z->current);
}

static void version_reclaim(struct rcu_head *head)
{
	zone_version_unref(caa_container_of(head, zone_version_t, rcu));
}

/* Only a version that is published answers queries: a reload's parsed file is diffed
 * against the served version and freed, and building its images (~50 ms and 15 MB at 1M
 * records) would only slow the reload down. */
void zone_version_prepare(zone_version_t *v)
{
	/* an overlay answers cuts and CNAMEs it leaves alone from its base's images: a base
	 * never published itself (a journal replayed at start) gets them now */
	if (v->base != NULL)
		zone_version_prepare(v->base);
	if (v->images_done)
		return;
	v->images = zone_images_build(v);
	v->images_done = true;
}

void zone_publish(zone_t *z, zone_version_t *v)
{
	zone_version_prepare(v); /* done already by the write path, before it went online */
	zone_version_t *old = rcu_xchg_pointer(&z->current, v);
	if (old)
		call_rcu(&old->rcu, version_reclaim);
}

int zone_load(const zone_t *z, zone_load_info_t *info, zone_version_t **out)
{
	if (!z->file)
		return -EINVAL;
	/* over the served version, when there is one: a reload lays out no second copy */
	return zone_load_file_over(z->apex, z->file, z->bindings, zone_current(z), info, out);
}

const zone_load_info_t *zone_files(const zone_t *z)
{
	return &z->files;
}

const zone_history_t *zone_history(const zone_t *z)
{
	return z->history;
}

int zone_changes_first(const zone_t *z, uint32_t *first)
{
	return z->journal ? zone_journal_first_serial(z->journal, first) : -EINVAL;
}

int zone_changes_since(zone_t *z, uint32_t from, zone_changeset_t ***list, size_t *n)
{
	*list = NULL;
	*n = 0;
	return z->journal ? zone_journal_read(z->journal, from, list, n) : -EINVAL;
}

const zone_bindings_t *zone_bindings(const zone_t *z)
{
	return z->bindings;
}

void zone_set_hide_hook(zone_t *z, zone_hide_fn fn, void *ctx)
{
	z->hide_fn = fn;
	z->hide_ctx = ctx;
}

void zone_set_policy(zone_t *z, zone_serial_policy_t policy)
{
	z->conf.policy = policy;
}

/* The served version again, with the zone's current bindings: an empty change set from its
 * serial to itself through the one build function. */
static int rebind(zone_t *z, const zone_version_t *cur, zone_version_t **out)
{
	zone_changeset_t *cs = NULL;
	zone_rr_t rr;
	zone_version_soa_rr(cur, &rr);
	int rc = zone_changeset_new(&cs);
	if (rc == 0)
		rc = zone_changeset_set_soa(cs, &rr, &rr);
	if (rc == 0)
		rc = zone_changeset_apply(cur, cs, z->bindings, out);
	zone_changeset_free(cs);
	return rc;
}

int zone_set_bindings(zone_t *z, const zone_bindings_t *b)
{
	if (zone_bindings_equal(z->bindings, b))
		return 0;
	if (z->in_update)
		return -EBUSY; /* its commit would publish over the rebound version */
	zone_bindings_t *old = z->bindings;
	z->bindings = b ? zone_bindings_ref(b) : NULL;
	const zone_version_t *cur = zone_current(z);
	if (!cur) {
		zone_bindings_unref(old);
		return 0;
	}
	zone_version_t *nv = NULL;
	int rc = rebind(z, cur, &nv);
	if (rc != 0) { /* keep the table the served version was built with */
		log_error("event=zone-steering-failed zone=%s reason=%s", z->lname,
		          LOG_Q(sd_strerror(rc)));
		zone_bindings_unref(z->bindings);
		z->bindings = old;
		return rc;
	}
	zone_bindings_unref(old);
	zone_version_prepare(nv);
	rcu_thread_online();
	zone_publish(z, nv);
	rcu_thread_offline();
	return 0;
}

/* --- state files --- */

static void history_fill(zone_t *z)
{
	uint32_t first;
	if (zone_journal_first_serial(z->journal, &first) != 0)
		return; /* empty */
	zone_changeset_t **list = NULL;
	size_t n = 0;
	int rc = zone_journal_read(z->journal, first, &list, &n);
	rcu_thread_online(); /* the history publishes its snapshots with call_rcu */
	for (size_t i = 0; rc == 0 && i < n; i++) {
		zone_diff_t *d = NULL;
		zone_changeset_t *vis = list[i];
		if (zone_changeset_hide_count(vis) || zone_changeset_unhide_count(vis)) {
			rc = zone_changeset_visible(list[i], &vis); /* what secondaries saw */
			zone_changeset_free(list[i]);
		}
		list[i] = NULL;
		if (rc == 0)
			rc = zone_diff_new(vis, &d); /* owns vis now, even on error */
		if (rc == 0)
			rc = zone_history_add(z->history, d);
	}
	if (rc != 0)
		zone_history_clear(z->history);
	rcu_thread_offline();
	if (rc != 0)
		log_error("event=ixfr-history-failed zone=%s reason=%s", z->lname,
		          LOG_Q(sd_strerror(rc)));
	zone_journal_free_list(list, n);
}

/* Apply the journal's entries from the snapshot's serial onward, condensed into one change
 * set (RFC 1995 5 rules) so that the zone is rebuilt once, not once per entry. On success *v
 * is replaced by the result; on failure it is left as it was. */
static int replay(zone_t *z, zone_version_t **v, zone_changeset_t **list, size_t n)
{
	if (n == 0)
		return 0;
	zone_changeset_t *all = NULL;
	int rc = zone_changeset_condense((const zone_changeset_t *const *)list, n, &all);
	zone_version_t *next = NULL;
	if (rc == 0)
		rc = zone_changeset_apply(*v, all, z->bindings, &next);
	zone_changeset_free(all);
	if (rc == 0) {
		zone_version_unref(*v);
		*v = next;
	}
	return rc;
}

/* Forget the journal (it does not lead to the snapshot): start an empty one. */
static int restart_journal(zone_t *z, const char *why)
{
	log_notice("event=journal-restarted zone=%s reason=%s hint=\"IXFR from older serials "
	           "becomes AXFR\"",
	           z->lname, LOG_Q(why));
	zone_journal_close(z->journal);
	z->journal = NULL;
	if (unlink(z->journal_path) != 0 && errno != ENOENT)
		return sd_errno();
	return journal_open(z);
}

/* The snapshot brought up to the journal's last serial (a crash between the journal append
 * and the snapshot write leaves it behind). */
static int served_before(zone_t *z, zone_version_t **out)
{
	*out = NULL;
	uint32_t last;
	bool have_journal = zone_journal_last_serial(z->journal, &last) == 0;
	if (access(z->snapshot_path, F_OK) != 0) {
		lost(z, "it was missing", z->snapshot_path);
		return have_journal ? restart_journal(z, "no snapshot beside the journal") : 0;
	}
	zone_version_t *v = NULL;
	zone_hidden_t *h = NULL;
	int rc = zone_load_file_bound(z->apex, z->snapshot_path, z->bindings, NULL, &v);
	if (rc == 0)
		rc = zone_hidden_from_file(z->snapshot_path, &h); /* the transfer view */
	if (rc != 0) {
		log_error("event=snapshot-load-failed zone=%s file=%s reason=%s", z->lname,
		          LOG_Q(z->snapshot_path), LOG_Q(sd_strerror(rc)));
		zone_version_unref(v);
		lost(z, "it was unreadable", z->snapshot_path);
		return restart_journal(z, "the snapshot is unreadable");
	}
	zone_version_set_hidden(v, h);
	zone_hidden_unref(h);
	uint32_t ss = zone_version_serial(v);
	if (have_journal && last != ss) {
		zone_changeset_t **list = NULL;
		size_t n = 0;
		rc = zone_journal_read(z->journal, ss, &list, &n);
		if (rc == 0)
			rc = replay(z, &v, list, n);
		zone_journal_free_list(list, n);
		if (rc == 0) {
			log_info("event=journal-replayed zone=%s serial=%u from=%u entries=%zu",
			         z->lname, last, ss, n);
			z->snapshot_behind = true;
		} else {
			lost(z, "it does not continue the snapshot", z->journal_path);
			rc = restart_journal(z, "the journal does not continue the snapshot");
		}
	}
	if (rc != 0) {
		zone_version_unref(v);
		return rc;
	}
	*out = v;
	return 0;
}

/* The recovered state is behind the highest serial served: say what was lost (RFC 1982:
 * a secondary ignores a serial that goes back, so the next one must be above). */
static void warn_lost(const zone_t *z, const zone_version_t *v)
{
	if (!z->serial_known ||
	    (v && zone_serial_floor(z, zone_version_serial(v)) == zone_version_serial(v)))
		return;
	char got[32] = "nothing";
	if (v)
		snprintf(got, sizeof(got), "serial %" PRIu32, zone_version_serial(v));
	if (!z->lost && z->serial_reserved && v) {
		/* the usual after a crash or kill -9: serials were reserved ahead, not served */
		log_notice(
		    "event=serial-recovered zone=%s floor=%" PRIu32 " file=%s recovered=%s "
		    "reason=\"serials were reserved before an unclean stop\" hint=\"the zone "
		    "continues above the floor\"",
		    z->lname, z->serial_floor, LOG_Q(z->serial_path), LOG_Q(got));
		return;
	}
	char why[512];
	snprintf(why, sizeof(why), "changes were lost from the state directory: %s",
	         z->lost ? z->lost : "older than what was served");
	log_warning("event=state-lost zone=%s file=%s recovered=%s floor=%" PRIu32 " reason=%s "
	            "hint=\"the zone continues above the serial served before (%s)\"",
	            z->lname, LOG_Q(z->lost_file ? z->lost_file : z->journal_path), LOG_Q(got),
	            z->serial_floor, LOG_Q(why), z->serial_path);
}

int zone_state_recover(zone_t *z, zone_version_t **out)
{
	int rc = served_before(z, out);
	if (rc == 0 && *out)
		zone_limits_fit(z, *out);
	if (rc == 0) {
		warn_lost(z, *out);
		history_fill(z);
	}
	return rc;
}

int zone_sync(zone_t *z)
{
	/* The journal holds every change since the snapshot (start-up replays it), so a change
	 * costs one journal append: the snapshot is written only when there is none yet (first
	 * start) or when the journal passed its limits and is to be trimmed. */
	const zone_version_t *v = zone_current(z);
	if (!z->journal || !v)
		return 0;
	bool over = zone_journal_over_limit(z->journal);
	if (!over && access(z->snapshot_path, F_OK) == 0)
		return 0;
	int rc = 0;
	if (z->snapshot_behind) {
		char *note = NULL; /* the transfer view rides in the snapshot (zone/hidden.h) */
		rc = zone_hidden_note(zone_version_hidden(v), &note);
		if (rc == 0)
			rc = zone_write_file_noted(v, z->snapshot_path, note);
		free(note);
		if (rc != 0) {
			log_error("event=snapshot-write-failed zone=%s file=%s reason=%s", z->lname,
			          LOG_Q(z->snapshot_path), LOG_Q(sd_strerror(rc)));
			return rc;
		}
		z->snapshot_behind = false;
	}
	if (over && !z->snapshot_behind) {
		rc = zone_journal_compact(z->journal, zone_version_serial(v));
		if (rc != 0)
			log_error("event=journal-compact-failed zone=%s file=%s reason=%s",
			          z->lname, LOG_Q(z->journal_path), LOG_Q(sd_strerror(rc)));
	}
	return rc;
}

void zone_stats(const zone_t *z, zone_stats_t *out)
{
	*out = (zone_stats_t){.changes = z->changes};
	if (z->journal) {
		out->journal_depth = (uint32_t)zone_journal_depth(z->journal);
		out->journal_size = zone_journal_size(z->journal);
	}
}
