/* lag.h — the secondaries of each served zone, the serial each one serves, and how far it lags
 * (steerctl status, steerctl wait-sync). Issue 12.
 *
 * Who the secondaries are:
 *   - the zone's NOTIFY targets (configuration): asked for their SOA by us;
 *   - every address a transfer (AXFR/IXFR over TCP) went to: learned from the workers. An
 *     address that is also a NOTIFY target's address is that target (one secondary transfers
 *     from an ephemeral port: it is known by its address); its transfers only make us ask the
 *     targets at that address again at once. Other learned secondaries are kept until the
 *     zone's SOA expire has passed since their last transfer (RFC 1035 3.3.13: a secondary
 *     that has not refreshed for that long stops serving the zone anyway). wait-sync waits
 *     for a learned one only once it came back (an IXFR, which only a holder of the zone
 *     sends, or a second transfer): a single AXFR by hand is shown, never waited for.
 *     An abandoned AXFR teaches nothing and is not recorded.
 *
 * Where their serials come from:
 *   - NOTIFY targets: a UDP SOA query from the control loop (unsigned: any authoritative
 *     server answers one; TSIG keys name NOTIFY and transfers, not queries): 2 s after each
 *     new serial is published (the NOTIFY has gone out; the secondary needs a moment to
 *     transfer), then while it is behind 2, 4, 8, 16 s apart, every 30 s when in sync; every
 *     second while a wait-sync waits for the zone. A query unanswered after 3 s counts as a
 *     miss; the last serial seen stays, with its age.
 *   - learned secondaries: an IXFR request carries the client's serial (RFC 1995 3: its SOA
 *     in the authority section): it served that one; a transfer whose last message was
 *     written gives it the serial transferred. (An IXFR request alone is evidence of the old
 *     serial, a finished transfer of the new.)
 *
 * Lag: in serials, the RFC 1982 distance from the secondary's serial to the served one; in
 * seconds, the time since the primary first served a serial newer than the secondary's (the
 * tracker remembers when each of the last LAG_PUBLISHED serials was published; an older one
 * counts from the oldest remembered, shown with ">=").
 *
 *   workers ── srv_lag_transfer() ─ mutex ─ uv_async ─▶ control loop: drain
 *   zonedb ── srv_lag_published(apex, serial) ─▶ publish times, polls due in 2 s
 *   timer ─▶ reconcile targets with the configuration, send due SOA queries, expire,
 *            answer wait-sync waiters (done or past their deadline)
 *   srv_lag_reconfigured (a configuration reload: NOTIFY targets or zones may change) ─▶
 *            the same at once
 *
 * The timer is one-shot, armed after every change for the earliest work due: a target's SOA
 * query (every 30 s at most while in sync) or its miss, a learned secondary's expiry, a
 * waiter's deadline. With no secondary and no waiter it stays stopped: an idle server's
 * control loop is not woken every second.
 *
 * Everything but srv_lag_transfer runs on the control thread and never blocks.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "contrib/base/compiler.h"
#include "contrib/base/strbuf.h"
#include "server/ctlproto.h"
#include "server/xfr/out.h"

typedef struct srv_lag srv_lag_t;
typedef struct srv_zonedb srv_zonedb_t;

/* The tracker on the control loop; zs is asked for each zone's current version and NOTIFY
 * targets (it must outlive the tracker's loop). */
int srv_lag_new(uv_loop_t *loop, srv_zonedb_t *zs, srv_lag_t **out) SD_NONNULL(1, 2, 3) SD_WUR;
/* Stop: waiters are answered (cancelled), the timer and sockets closed (run the loop once
 * more before srv_lag_free). Transfers reported after this are ignored. */
void srv_lag_close(srv_lag_t *l);
void srv_lag_free(srv_lag_t *l);

/* The configuration was reloaded: reconcile every zone's NOTIFY targets (new ones asked at
 * once, removed ones forgotten), drop zones no longer served, re-arm the timer. */
void srv_lag_reconfigured(srv_lag_t *l);

/* The zone at apex (lowercased wire) published serial (a load, reload or update commit). */
void srv_lag_published(srv_lag_t *l, const uint8_t *apex, uint32_t serial) SD_NONNULL(1, 2);

/* A worker finished (rc 0) or abandoned a TCP transfer x to peer. Any thread; takes a mutex
 * and never allocates (a full queue drops the report, counted). Not the query path. */
void srv_lag_transfer(srv_lag_t *l, const xfr_out_t *x, const struct sockaddr *peer, int rc)
    SD_NONNULL(2);

/* The zone's secondaries for steerctl status: a "secondaries:" line, then one indented line
 * each (address, serial, lag in serials and seconds, where the serial came from and when). */
void srv_lag_status(srv_lag_t *l, const uint8_t *apex, sd_strbuf_t *out) SD_NONNULL(1, 2, 3);

/* One secondary as metrics see it (server/metrics.h): what status prints, as numbers. */
typedef struct srv_lag_sec_info {
	char addr[64]; /* "1.2.3.4:53" for a NOTIFY target, "1.2.3.4" for a learned one */
	bool learned;  /* from transfers, not a NOTIFY target */
	bool known;    /* serial is valid (an answer or a transfer was seen) */
	uint32_t serial;
	uint32_t lag_serials; /* RFC 1982 distance to the served serial; 0 in sync */
	int64_t lag_seconds;  /* since a newer serial was first served; 0 in sync */
	unsigned misses;      /* SOA queries unanswered or refused in a row */
} srv_lag_sec_info_t;

/* fn(data, info) for every secondary of apex that status shows (nothing when the zone is not
 * served). Control thread. */
void srv_lag_each(srv_lag_t *l, const uint8_t *apex,
                  void (*fn)(void *data, const srv_lag_sec_info_t *info), void *data)
    SD_NONNULL(1, 2, 3);

/* steerctl wait-sync ZONE [SERIAL] [--timeout T]: answer done(arg, ret, text) once every known
 * secondary of apex serves serial (has_serial false: the serial served now) or newer (RFC
 * 1982), ret 0; or after timeout_ms with ret SRV_CTL_RET_FALSE and the secondaries that lag.
 * Returns 1 when waiting (done comes later, unless srv_lag_forget), else 0 (done at once: its
 * text in out) or a negative code (text in out). */
typedef void (*srv_lag_done_fn)(void *arg, int ret, const sd_strbuf_t *text);
int srv_lag_wait(srv_lag_t *l, const uint8_t *apex, bool has_serial, uint32_t serial,
                 uint64_t timeout_ms, srv_lag_done_fn done, void *arg, sd_strbuf_t *out)
    SD_NONNULL(1, 2, 6, 8) SD_WUR;
/* Nobody waits for arg's wait-sync any more (its client went away). */
void srv_lag_forget(srv_lag_t *l, const void *arg);
