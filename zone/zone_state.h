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
	char name[DNAME_MAX * 4 + 1]; /* for log lines */
	zone_bindings_t *bindings;    /* NULL: none */
	/* primary state (zone_open_state; all NULL before) */
	zone_conf_t conf;
	char *journal_path, *snapshot_path, *base_path;
	char *serial_path;   /* <state>/<zone>.serial: the highest serial ever served */
	uint32_t serial_max; /* its content, when serial_known */
	bool serial_known;
	const char *lost;      /* what recovery found lost (a static phrase), or NULL */
	const char *lost_file; /* the state file it was about */
	zone_journal_t *journal;
	zone_history_t *history;
	zone_load_info_t files; /* what the last committed file load read */
	bool started;           /* the state was recovered and a version published */
	bool snapshot_behind;   /* the snapshot does not hold the served version */
	bool in_update;         /* a transaction is open */
	uint64_t changes;
};

/* Record s durably as the highest serial served (atomic replace + fsync of the file and
 * its directory), before s is published; 0 or a negated errno (logged). */
int zone_serial_record(zone_t *z, uint32_t s) SD_NONNULL(1) SD_WUR;
/* The serial a new version must be above so that the served serial never goes backwards:
 * the recorded maximum, or `served` when that is ahead (RFC 1982) or nothing is recorded. */
uint32_t zone_serial_floor(const zone_t *z, uint32_t served) SD_NONNULL(1);
/* Fit the journal's and the history's limits to v when the configuration set none (see
 * zone_conf_t). */
void zone_limits_fit(zone_t *z, const zone_version_t *v) SD_NONNULL(1, 2);

/* The version served before the stop: the snapshot with the journal after it replayed, and
 * the IXFR history filled from the journal (RCU-online around the history adds). *out is
 * NULL when there is no snapshot (first start); a journal that does not continue the
 * snapshot is restarted. */
int zone_state_recover(zone_t *z, zone_version_t **out) SD_NONNULL(1, 2) SD_WUR;
