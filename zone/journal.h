/* journal.h — the per-zone, append-only journal of change sets.
 *
 * File layout (all integers big endian):
 *
 *   header  "SDJRNL\r\n" | u32 version (2) | u8 apex length | apex (wire) | u32 CRC32C
 *   entry   u32 "SDJE" | u32 payload length | u32 serial from | u32 serial to
 *           | u64 time (UTC seconds, 0 unknown) | u8 source kind | u8 text length | text
 *           | payload (zone_changeset_serialize) | u32 CRC32C of everything before it
 *   entry   ...
 *
 * The time and the source (zone_changeset_origin: who made the change, zone/changeset.h)
 * are the change set's, read back by zone_journal_read. Version 1 had no time nor source
 * after the serials: a version-1 journal is read, and rewritten atomically in version 2 at
 * open (logged), its entries' source "unknown" and time 0. A daemon that knows version 1
 * only refuses a version-2 journal (corrupt header) rather than misreading its entries.
 *
 * Entries form one chain: each entry's from-serial is the previous entry's to-serial. An entry
 * is durable once zone_journal_append() returned (written and fdatasync'ed; the directory is
 * fsync'ed when the file is created). Opening scans every entry, verifies its checksum and the
 * chain, and truncates a torn or corrupt tail at the first bad entry with a log line naming
 * the file and the offset: what was acknowledged before it is intact.
 *
 * Limits: when zone_journal_over_limit() says the journal has grown past its depth or size,
 * the caller writes the zone file (zone_write_file(), atomic) at the newest serial and calls
 * zone_journal_compact(), which keeps the newest entries (half the limits, so compaction is
 * not needed again at the next append) for IXFR and rewrites the file atomically.
 *
 * A journal is used by one thread at a time (the control thread), and by one open handle
 * at a time: the file is flock()ed (exclusive, non-blocking) while open, so a second daemon
 * on the same state directory fails to open it (-EBUSY) instead of interleaving appends.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "zone/changeset.h"

typedef struct zone_journal zone_journal_t;

typedef struct zone_journal_limits {
	uint64_t max_size;  /* bytes of the file; 0 = no limit */
	uint32_t max_depth; /* entries; 0 = no limit */
} zone_journal_limits_t;

/* Open the journal at path for the zone at apex (lowercased wire), creating it when missing.
 * limits may be NULL (no limits). Returns 0, SD_ECHECKSUM (the header is corrupt),
 * SD_ESEMANTIC (the journal belongs to another zone), -EBUSY (another handle holds it) or a
 * negated errno. */
int zone_journal_open(const char *path, const uint8_t *apex, const zone_journal_limits_t *limits,
                      zone_journal_t **out) SD_NONNULL(1, 2, 4) SD_WUR;
void zone_journal_close(zone_journal_t *j);

/* Append cs durably. Its from-serial must be the journal's last serial (any when empty): else
 * SD_ESEMANTIC. On a write error the file is cut back to where it was. */
int zone_journal_append(zone_journal_t *j, const zone_changeset_t *cs) SD_NONNULL(1, 2) SD_WUR;

size_t zone_journal_depth(const zone_journal_t *j) SD_NONNULL(1);
uint64_t zone_journal_size(const zone_journal_t *j) SD_NONNULL(1);
/* First from-serial / last to-serial; SD_ENOTFOUND when the journal is empty. */
int zone_journal_first_serial(const zone_journal_t *j, uint32_t *out) SD_NONNULL(1, 2) SD_WUR;
int zone_journal_last_serial(const zone_journal_t *j, uint32_t *out) SD_NONNULL(1, 2) SD_WUR;
bool zone_journal_over_limit(const zone_journal_t *j) SD_NONNULL(1);
/* Replace the limits (zone/zone.c fits the default ones to the zone's size). */
void zone_journal_set_limits(zone_journal_t *j, const zone_journal_limits_t *limits)
    SD_NONNULL(1, 2);
/* Whether opening cut a torn or corrupt tail off (entries were lost). */
bool zone_journal_was_truncated(const zone_journal_t *j) SD_NONNULL(1);

/* The change sets that lead from serial `from` to the last serial, in order, re-read and
 * re-verified from the file: *list is malloc()ed, free it with zone_journal_free_list().
 * *n is 0 when from is the last serial. SD_ENOTFOUND when no entry starts at from. */
int zone_journal_read(zone_journal_t *j, uint32_t from, zone_changeset_t ***list, size_t *n)
    SD_NONNULL(1, 3, 4) SD_WUR;
void zone_journal_free_list(zone_changeset_t **list, size_t n);

/* After the zone file was written at file_serial (which must be the last serial, else
 * SD_ESEMANTIC: dropping entries the file does not contain would lose them), keep only the
 * newest entries within half the limits and rewrite the journal atomically. */
int zone_journal_compact(zone_journal_t *j, uint32_t file_serial) SD_NONNULL(1) SD_WUR;
