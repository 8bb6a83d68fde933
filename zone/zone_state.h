/* zone_state.h — the fields of a zone_t, shared by zone.c (identity, publication, state
 * files) and update.c (the write path) only. Not for use outside zone/.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "zone/zone.h"

struct zone {
	zone_version_t *current; /* RCU-published */
	char *file;
	uint8_t apex[DNAME_MAX];
	char name[DNAME_MAX * 4 + 1];  /* "example.com.": state file names */
	char lname[DNAME_MAX * 4 + 1]; /* "example.com": zone= of event lines (log.h) */
	zone_bindings_t *bindings;     /* NULL: none */
	/* primary state (zone_open_state; all NULL before) */
	zone_conf_t conf;
	char *journal_path, *snapshot_path, *base_path;
	char *serial_path;   /* <state>/<zone>.serial: no serial above it was ever served */
	uint32_t serial_max; /* its content, when serial_known */
	bool serial_known;
	bool serial_reserved;  /* serial_max is a reservation ahead of the served serial */
	uint32_t serial_floor; /* the record as read at start: what may have been served */
	const char *lost;      /* what recovery found lost (a static phrase), or NULL */
	const char *lost_file; /* the state file it was about */
	zone_journal_t *journal;
	zone_history_t *history;
	zone_load_info_t files; /* what the last committed file load read */
	bool started;           /* the state was recovered and a version published */
	bool snapshot_behind;   /* the snapshot does not hold the served version */
	bool in_update;         /* a transaction is open */
	zone_hide_fn hide_fn;   /* zone_set_hide_hook */
	void *hide_ctx;
	uint64_t changes;
	/* the base copy to write (zone_keep_base): the file's version and the note line */
	zone_version_t *base_pending;
	char base_note[160];
	struct zone_base_job *base_job; /* being written on another thread (zone_base_job_take) */
};

/* Make the record cover s before s is published: when s is above it, record s +
 * ZONE_SERIAL_RESERVE durably (atomic replace + fsync of the file and its directory), so
 * that only one commit in ZONE_SERIAL_RESERVE pays for it; 0 or a negated errno (logged).
 * zone_free() writes the served serial itself (a clean stop leaves an exact record). */
#define ZONE_SERIAL_RESERVE 16u
int zone_serial_record(zone_t *z, uint32_t s) SD_NONNULL(1) SD_WUR;
/* The serial a new version must be above so that the served serial never goes backwards:
 * the record as read at start, or `served` when that is ahead (RFC 1982) or nothing was
 * recorded. (Not the reservation made since: a running zone's served serial is exact.) */
uint32_t zone_serial_floor(const zone_t *z, uint32_t served) SD_NONNULL(1);
/* Fit the journal's and the history's limits to v when the configuration set none (see
 * zone_conf_t). */
void zone_limits_fit(zone_t *z, const zone_version_t *v) SD_NONNULL(1, 2);

/* The version served before the stop: the snapshot with the journal after it replayed, and
 * the IXFR history filled from the journal (RCU-online around the history adds). *out is
 * NULL when there is no snapshot (first start); a journal that does not continue the
 * snapshot is restarted. */
int zone_state_recover(zone_t *z, zone_version_t **out) SD_NONNULL(1, 2) SD_WUR;
