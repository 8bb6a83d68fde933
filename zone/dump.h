/* dump.h — writing a zone version as an RFC 1035 master file: the common records printed
 * directly, the others by ldns (with load.c, the only files in zone/ that use it), the text
 * being ldns's in both cases. */
#pragma once

#include <stdbool.h>

#include "contrib/base/compiler.h"
#include "zone/changeset.h"
#include "zone/version.h"

/* The temporary beside path while it is written: path + this, the X's made unique by
 * mkstemp. A crash can leave one behind (zone_open_state removes a zone's). */
#define ZONE_DUMP_TMP_SUFFIX ".tmpXXXXXX"

/* Write v to path in presentation format, atomically: a temporary file in the same directory,
 * fsync, rename over path, fsync the directory. Names are absolute; the SOA comes first, then
 * every other RRset in canonical order (RFC 3597 generic form for types ldns does not know).
 * Returns 0 or a negative code (nothing replaced). Control thread. */
int zone_write_file(const zone_version_t *v, const char *path) SD_NONNULL(1, 2) SD_WUR;
/* zone_write_file with note (one line, no newline; NULL: none) as the file's first line, a
 * comment: state the writer reads back (zone/update.c keeps a serial there). */
int zone_write_file_noted(const zone_version_t *v, const char *path, const char *note)
    SD_NONNULL(1, 2) SD_WUR;

/* One record in presentation format ("owner TTL IN TYPE rdata", no newline; the same form the
 * master file has) into buf[0..size), NUL-terminated. Returns the length, or SD_EPARSE /
 * -ENOMEM / -ENOSPC (buf too small: nothing useful in it). Any thread; allocates (ldns). */
int zone_rr_format(const zone_rr_t *rr, char *buf, size_t size) SD_NONNULL(1, 2) SD_WUR;

/* Whether rr survives the master-file form: formatted as zone_rr_format does and read back
 * by ldns (as the loader reads snapshots and base copies), it is the same record (owner, type,
 * RDATA bytes). Records that arrive by other paths than a file (RFC 2136 UPDATE) are checked
 * with this before they are taken, so that the state written from them can be read again.
 * Any thread; allocates (ldns). */
bool zone_rr_text_safe(const zone_rr_t *rr) SD_NONNULL(1) SD_WUR;
