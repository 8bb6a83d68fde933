/* notify.h — NOTIFY out (RFC 1996): tell secondaries that a zone has a new serial.
 *
 * Runs on the control thread's libuv loop. For every (zone, target) a NOTIFY query is sent
 * over UDP: opcode NOTIFY, AA=1, question <apex> SOA IN, the new SOA in the answer section
 * (RFC 1996 3.7), TSIG-signed when the target has a key. It is resent with exponential
 * backoff (base, 2*base, 4*base, ... for `tries` sends in all) until a response with the same
 * ID, opcode and question arrives from the target's address (and, with a key, verifies).
 * A newer serial for the same zone and target replaces the pending one. The outcome per
 * (zone, target) is kept (xfr_notifier_target_status) until the notifier closes.
 *
 *   xfr_notify_zone(apex, soa, targets) ─▶ pending[] ─send─▶ target ─response─▶ done
 *                                              └─ timer: resend after base << n, give up
 *
 * Everything here runs on the loop's thread; nothing is shared with workers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "contrib/base/compiler.h"
#include "server/xfr/tsig.h"

typedef struct xfr_notify_target {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	const tsig_key_t *key; /* NULL: unsigned; xfr_notify_zone copies it */
} xfr_notify_target_t;

/* Parse "ADDR", "ADDR:PORT" or "[V6]:PORT" (port default 53) into target (key left NULL).
 * Returns 0 or SD_EPARSE. */
int xfr_notify_target_parse(const char *text, xfr_notify_target_t *target) SD_NONNULL(1, 2) SD_WUR;

typedef struct xfr_notify_stats {
	uint64_t sent;     /* NOTIFY messages sent, retries included */
	uint64_t acked;    /* matching responses with RCODE NOERROR */
	uint64_t rejected; /* matching responses with another RCODE (no further retries) */
	uint64_t failed;   /* gave up after the last try */
} xfr_notify_stats_t;

typedef struct xfr_notifier xfr_notifier_t;

/* "127.0.0.1:53" or "[::1]:53". */
void xfr_notify_target_str(const xfr_notify_target_t *t, char *buf, size_t size) SD_NONNULL(1, 2);

/* Where the NOTIFY of one zone to one target stands (steerctl status). */
typedef enum {
	XFR_NOTIFY_NONE = 0, /* never notified */
	XFR_NOTIFY_PENDING,  /* sent, waiting for the response; resent on the backoff timer */
	XFR_NOTIFY_ACKED,    /* the latest serial was acknowledged (RCODE NOERROR) */
	XFR_NOTIFY_REJECTED, /* answered with another RCODE: not retried */
	XFR_NOTIFY_FAILED,   /* no response after the last try: gave up */
} xfr_notify_state_t;

typedef struct xfr_notify_status {
	xfr_notify_state_t state;
	uint32_t serial;       /* of the latest NOTIFY sent */
	bool has_acked;        /* acked_serial is valid */
	uint32_t acked_serial; /* the latest serial acknowledged (may be older than serial) */
	unsigned sends_left;   /* pending: sends still to come after the ones made */
	uint8_t rcode;         /* rejected: the RCODE */
} xfr_notify_status_t;

const char *xfr_notify_state_name(xfr_notify_state_t state);

/* Create a notifier on loop with the backoff base (ms) and the number of sends per target
 * (e.g. 1000 ms and 5: 1-2-4-8-16 s). Opens one UDP socket per address family on first use. */
int xfr_notifier_new(uv_loop_t *loop, unsigned base_ms, unsigned tries, xfr_notifier_t **out)
    SD_NONNULL(1, 4) SD_WUR;

/* Start (or restart) NOTIFY of the zone at apex (lowercased wire) with its new SOA (owner is
 * the apex; soa_rdata is the SOA RDATA in wire form) to targets[0..count). Copies what it
 * needs. Returns 0 or -ENOMEM; a target it cannot send to is logged and counted as failed. */
int xfr_notify_zone(xfr_notifier_t *n, const uint8_t *apex, uint32_t ttl, const uint8_t *soa_rdata,
                    uint16_t soa_rdlen, const xfr_notify_target_t *targets, size_t count)
    SD_NONNULL(1, 2, 4);

/* The state of apex's NOTIFY to t (matched by address and port): 0, or SD_ENOTFOUND when
 * none was ever started (out is then zeroed, state NONE). Loop thread. */
int xfr_notifier_target_status(const xfr_notifier_t *n, const uint8_t *apex,
                               const xfr_notify_target_t *t, xfr_notify_status_t *out)
    SD_NONNULL(1, 2, 3, 4) SD_WUR;

/* Number of NOTIFYs still waiting for a response. */
size_t xfr_notifier_pending(const xfr_notifier_t *n) SD_NONNULL(1);
const xfr_notify_stats_t *xfr_notifier_stats(const xfr_notifier_t *n) SD_NONNULL(1);
/* The part of those counters that went to the zone at apex (lowercased wire), summed over its
 * targets; a target dropped from the configuration keeps its part until the notifier
 * closes. Loop thread. */
void xfr_notifier_zone_stats(const xfr_notifier_t *n, const uint8_t *apex, xfr_notify_stats_t *out)
    SD_NONNULL(1, 2, 3);

/* Drop pending NOTIFYs and close the handles; the memory goes when the loop has run the close
 * callbacks (run the loop once more before uv_loop_close). */
void xfr_notifier_close(xfr_notifier_t *n);
