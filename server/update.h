/* update.h — RFC 2136 UPDATE on the control thread: the batch processor (group commit).
 *
 * The workers hand every UPDATE to the control thread's mailbox (server/handoff.h). When its
 * async fires, the mailbox gives each queued item to srv_update_collect, then calls
 * srv_update_flush once, which answers the whole batch:
 *
 *   per request, in arrival order:
 *     header and OPT: EDNS version > 0 ─ BADVERS (RFC 6891 6.1.3)
 *     zone section (zone_ddns_zone, RFC 2136 3.1.1) ─ FORMERR
 *     class IN and a served zone (3.1.2) ─ NOTAUTH
 *   grouped by zone, in arrival order; per zone ONE transaction (srv_zonedb_update), or one
 *   per 8 MiB of messages under a flood (bounded journal entries and commit time):
 *     policy (server/update_policy.h): no rule for the client and key ─ REFUSED, before the
 *       prerequisites are looked at (an unauthorised client learns nothing about the zone)
 *     zone_ddns_apply (3.2 to 3.4, all or nothing per request: a failing request leaves the
 *       transaction as the request before it left it), the rule's names and types as the
 *       permission check (3.3)
 *   commit once: one journal entry, one fdatasync, one new serial, one NOTIFY for the batch
 *     commit failed ─ every request applied in it is answered SERVFAIL (nothing changed);
 *     failed with SD_ESEMANTIC (a semantic check of the build that the RFC 2136 processing
 *     did not foresee) ─ each request is applied again in its own transaction, so that one
 *     bad request cannot fail the others
 *   per request: the audit line (server/audit.h), the counters, the reply, which goes back
 *   to its worker only now, after the commit returned (the change is on disk and served);
 *   then per zone with a new serial: NOTIFY, snapshot and journal upkeep
 *   (srv_zonedb_committed), which need not delay the replies.
 *
 * The reply (RFC 2136 3.8): same ID, QR, opcode UPDATE, the rcode; the zone section echoed
 * (ZOCOUNT 1) when it was one readable zone; an OPT when the request had one (RFC 6891 7);
 * TSIG-signed when the request was (srv_signer_sign, server/front.h). Written with the one
 * message writer (dns/msg.h).
 *
 * Control thread only (QSBR-registered and offline, as srv_zonedb_* wants).
 */
#pragma once

#include <stdint.h>

#include "contrib/base/compiler.h"
#include "contrib/base/strbuf.h"
#include "server/audit.h"
#include "server/handoff.h"
#include "server/zonedb.h"

typedef struct srv_update srv_update_t;

/* zones and audit are borrowed (they must outlive the processor); udp_payload is the EDNS
 * payload size our OPT announces. */
int srv_update_new(srv_zonedb_t *zones, srv_audit_t *audit, uint16_t udp_payload,
                   srv_update_t **out) SD_NONNULL(1, 2, 4) SD_WUR;
/* Frees items still collected (none outside a mailbox callback). */
void srv_update_free(srv_update_t *up);

/* Take one handed-off request into the current batch (the mailbox's fn). */
void srv_update_collect(srv_update_t *up, srv_handoff_item_t *it) SD_NONNULL(1, 2);
/* Answer the batch (see above) and push every item back to its worker (the mailbox's
 * flush). */
void srv_update_flush(srv_update_t *up) SD_NONNULL(1);

/* The global status line ("updates: batches N, requests N, ..."). */
void srv_update_status(const srv_update_t *up, sd_strbuf_t *out) SD_NONNULL(1, 2);
