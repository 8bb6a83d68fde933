/* ddns.h — RFC 2136 dynamic update, section 3, on a zone's transaction (control thread).
 *
 * The server finds the zone from the message's zone section (zone_ddns_zone), checks who
 * may update what through a callback, and hands each request to zone_ddns_apply inside the
 * zone's one transaction (zone/update.h). Several requests may share one transaction (group
 * commit: one serial per batch); each is all or nothing on its own:
 *
 *   zone_ddns_zone   3.1   header and zone section: FORMERR (ZOCOUNT != 1, ZTYPE != SOA,
 *                          framing), the apex and class for the caller to find (NOTAUTH
 *                          when it serves no such zone)
 *   zone_ddns_apply  3.2   prerequisites against the transaction's view (earlier requests
 *                          of the batch included): FORMERR, NOTZONE, YXDOMAIN, NXDOMAIN,
 *                          YXRRSET, NXRRSET
 *                    3.3   permission: allow(owner, type) per update RR, REFUSED
 *                    3.4.1 prescan: FORMERR, NOTZONE
 *                    3.4.2 the updates in order (add RR, delete RRset, delete all RRsets
 *                          at a name, delete RR) with the SOA, apex NS/SOA and CNAME rules;
 *                          anything failing rolls the request back (savepoint) and leaves
 *                          the transaction as it was before this request
 *
 * The message is read with the one section reader (dns/rr.h); names in RDATA are
 * decompressed to the stored wire form (dns/rdata.h). A TSIG RR (last in the additional
 * section) and one OPT are skipped; anything else in the additional section is FORMERR.
 * Pure on the message; never allocates on behalf of the caller except res->change.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "dns/name.h"
#include "zone/changeset.h"
#include "zone/update.h"

/* Zone section of an UPDATE (RFC 2136 3.1). Returns 0 with the lowercased wire apex in
 * apex[] and its class in *zclass; otherwise the DNS rcode to answer (DNS_RCODE_FORMERR)
 * as a positive number. Does not look at the other sections. */
int zone_ddns_zone(const uint8_t *msg, size_t len, uint8_t apex[DNAME_MAX], uint16_t *zclass)
    SD_NONNULL(1, 3, 4) SD_WUR;

/* Whether the requester may change (owner, type) (RFC 2136 3.3). owner: lowercased wire. */
typedef bool (*zone_ddns_allow_fn)(void *arg, const uint8_t *owner, uint16_t type);

typedef struct zone_ddns_result {
	uint8_t rcode;    /* DNS rcode to answer: NOERROR or the error of the failing step */
	char reason[160]; /* empty on success, else what failed, e.g. "prerequisite: NXRRSET
	                    * www.example.com. A" or "update: www.example.com. TXT not allowed
	                    * for this key"; plain printable text (names escaped) */
	zone_changeset_t *change; /* NOERROR: this request's net effect on the transaction
	                           * (removed and added records, no SOA, TTLs as served; an
	                           * SOA replaced by the request appears as removed + added);
	                           * empty for a no-op. NULL otherwise. The caller frees it. */
} zone_ddns_result_t;

/* Check and apply one UPDATE request msg[0..len) (whose zone section named u's zone, class
 * IN) within u. Returns 0 when the request was handled, whatever its rcode (in res); a
 * negative error (-ENOMEM) when it could not be (the transaction is then as before the
 * call, res->rcode is SERVFAIL). allow may not be NULL. */
int zone_ddns_apply(zone_update_t *u, const uint8_t *msg, size_t len, zone_ddns_allow_fn allow,
                    void *arg, zone_ddns_result_t *res) SD_NONNULL(1, 2, 4, 6) SD_WUR;

/* Free res->change (and set it NULL). */
void zone_ddns_result_clear(zone_ddns_result_t *res) SD_NONNULL(1);
