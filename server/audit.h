/* audit.h — the RFC 2136 UPDATE audit log: one JSON line per request (control thread).
 *
 * Every UPDATE request the control thread answers — applied, unchanged or refused, whatever
 * the rcode — leaves exactly one line, a JSON object with its keys in this order:
 *
 *   {"time":"2026-12-03T02:30:00.123Z","zone":"example.com.","client":"127.0.0.1",
 *    "port":40000,"key":"deploy-key."|null,"transport":"udp"|"tcp",
 *    "outcome":"applied"|"unchanged"|"refused","rcode":"NOERROR",
 *    "reason":"","serial_from":N|null,"serial_to":N|null,
 *    "removed":["www.example.com. 300 IN A 192.0.2.1",...],"added":[...]}
 *
 * A change made over the control socket (steerctl zone rollback) leaves one line of the same
 * shape: client, port and key null, transport "control", reason what was asked ("rollback to
 * SERIAL"), and one more key at the end, "source":"rollback".
 *
 * outcome: applied = NOERROR with a change, unchanged = NOERROR without one, refused = any
 * other rcode. zone is null only when the zone section could not be read (FORMERR); the
 * serials are null when the request names no served zone. Records are in presentation form
 * (zone_rr_format, zone/dump.h). Every string is JSON-escaped: quotes, backslashes, control
 * bytes and bytes that are not shown UTF-8 become \uXXXX / \" / \\, so a line is always one
 * valid JSON object whatever the names and RDATA hold.
 *
 * Sink: a file (server.audit-log), opened O_WRONLY|O_APPEND|O_CREAT (0640) and written with
 * one write(2) per line, so lines of concurrent writers never interleave and logrotate's
 * rename + reload works (srv_audit_reopen at every reload); without a file, the daemon log at
 * notice level, prefixed "audit: " (long lines are cut there at the log's line limit).
 * Lines are not fsynced: the journal is the record of what changed, the audit log says who.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "contrib/base/compiler.h"
#include "contrib/base/strbuf.h"
#include "zone/changeset.h"

typedef struct srv_audit srv_audit_t;

/* One request's line. */
typedef struct srv_audit_rec {
	struct timespec when;          /* CLOCK_REALTIME */
	const uint8_t *zone;           /* the zone section's name (wire), or NULL */
	const struct sockaddr *client; /* may be NULL (tests) */
	const uint8_t *key;            /* the verified TSIG key's name (wire), or NULL */
	bool tcp;
	unsigned rcode;     /* DNS rcode, extended ones (BADVERS) included */
	bool changed;       /* NOERROR: the request changed the zone */
	const char *reason; /* "" or what failed */
	bool has_serials;   /* false: null serials (no served zone) */
	uint32_t serial_from, serial_to;
	const zone_changeset_t *change; /* records removed and added, or NULL */
	const char *source; /* NULL: an UPDATE request; else a change made over the control
	                     * socket ("rollback"): transport "control", a last key "source" */
} srv_audit_rec_t;

/* Open the sink: path (NULL: the daemon log). Returns 0 or a negative errno (logged). */
int srv_audit_new(const char *path, srv_audit_t **out) SD_NONNULL(2) SD_WUR;
/* Reload: open path (NULL: the daemon log) again — a new path, or the same one after
 * logrotate moved it. On failure the previous sink stays and the error is returned. */
int srv_audit_reopen(srv_audit_t *a, const char *path) SD_NONNULL(1) SD_WUR;
void srv_audit_free(srv_audit_t *a);
/* The file written now (NULL: the daemon log); valid until the next reopen. */
const char *srv_audit_path(const srv_audit_t *a) SD_NONNULL(1);

/* The JSON object of r (no newline) appended to b. Pure (allocates through b and for the
 * record text). */
void srv_audit_format(const srv_audit_rec_t *r, sd_strbuf_t *b) SD_NONNULL(1, 2);
/* Write r's line to the sink. A failing write is logged (once per burst) and counted. */
void srv_audit_write(srv_audit_t *a, const srv_audit_rec_t *r) SD_NONNULL(1, 2);
/* Lines written, and writes that failed. */
void srv_audit_counts(const srv_audit_t *a, uint64_t *lines, uint64_t *failed) SD_NONNULL(1, 2, 3);
