/* load.h — loading zones from RFC 1035 master files (control thread; uses ldns), and the
 * identity of the files a load read (to notice edits, including $INCLUDEd files).
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "contrib/base/compiler.h"
#include "zone/bindings.h"
#include "zone/version.h"

/* What identifies the bytes of one file: its identity (device, inode), size and mtime when it
 * was opened, and a 64-bit hash of the bytes read (SipHash-2-4, contrib/base/siphash.h, under
 * a fixed key). Stat alone can miss an edit (an in-place rewrite of the same size within one
 * timestamp tick: file timestamps come from a coarse clock), hence the content hash; an edit
 * that keeps every other field escapes it with odds of 2^-64. Not a cryptographic digest, and
 * none is needed: whoever can write the file decides the zone anyway; it is three times as
 * fast as SHA-256 was (0.045 s against 0.13 s for a 25 MB file), and every reload hashes its
 * files twice (the load, then the check that they are still what was loaded). Two ids are
 * equal when every field is. */
typedef struct zone_file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uint64_t hash;
} zone_file_id_t;

/* One file a load read. path is the path it was opened by: the main path as given, an
 * $INCLUDE path joined to the including file's directory (relative paths stay relative to
 * the process's working directory, as the loader resolved them). */
typedef struct zone_load_source {
	char *path;
	zone_file_id_t id;
} zone_load_source_t;

/* The files a successful load read, the main file first, then each $INCLUDEd file in the
 * order it was first opened (a file included again with the same content is listed once). */
typedef struct zone_load_info {
	zone_load_source_t *files;
	size_t count;
} zone_load_info_t;

/* Parse a zone file ($ORIGIN, $TTL, $INCLUDE, RFC 3597 generic types) for the zone at apex
 * and build a version. Every syntax or semantic problem is logged as "file:line: message".
 * Returns 0, or SD_EPARSE / SD_ESEMANTIC / a negated errno with nothing built. When info is
 * not NULL, every file read is returned in *info (owned by the caller, released with
 * zone_load_info_free()), with its id computed from the bytes the loader read (no file is
 * read twice); *info is overwritten and empty when the load fails. */
int zone_load_file(const uint8_t *apex, const char *path, zone_load_info_t *info,
                   zone_version_t **out) SD_NONNULL(1, 2, 4) SD_WUR;

/* zone_load_file with the zone's policy bindings (zone/builder.h; NULL: none). The zone's
 * own loads (zone/update.h) go through this one; zone_load_file is it with no bindings. */
int zone_load_file_bound(const uint8_t *apex, const char *path, const zone_bindings_t *bindings,
                         zone_load_info_t *info, zone_version_t **out) SD_NONNULL(1, 2, 5) SD_WUR;

/* zone_load_file_bound for a file expected to differ little from ref (may be NULL), a
 * version of the same zone — the one served, at a reload: the same checks and the same
 * content, built over ref's arena when the difference is small (zone_overlay_build),
 * so that a reload that changes a few records does not lay out a second copy of the zone. */
int zone_load_file_over(const uint8_t *apex, const char *path, const zone_bindings_t *bindings,
                        const zone_version_t *ref, zone_load_info_t *info, zone_version_t **out)
    SD_NONNULL(1, 2, 6) SD_WUR;

/* Free the list and leave *info empty. Safe on an empty (zeroed) info. */
void zone_load_info_free(zone_load_info_t *info) SD_NONNULL(1);

/* The id of the file at path now: fstat and SHA-256 of its bytes, as a load would compute
 * it (a change check compares this with a load's zone_load_source_t.id). Only regular files
 * (-EINVAL otherwise, without blocking on a FIFO). Returns 0 or a negated errno. Any thread;
 * no ldns state. */
int zone_file_id_read(const char *path, zone_file_id_t *id) SD_NONNULL(1, 2) SD_WUR;

bool zone_file_id_equal(const zone_file_id_t *a, const zone_file_id_t *b) SD_NONNULL(1, 2);

/* Make this thread's loads watch *flag (NULL: none): once it is set, a load in progress stops
 * within a few hundred records and returns -ECANCELED with nothing built (the daemon stops
 * during a long reload). The flag may be set from any thread. */
void zone_load_set_cancel(const atomic_bool *flag);

/* Whether this thread's loads read plain record lines with the scanner (zone/scan.h; the
 * default) or every line with ldns: the tests and tests/fuzz compare the two. */
void zone_load_set_scanner(bool on);
