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
 * decompressed to the stored wire form (dns/rdata.h), keeping the case they were sent in;
 * owners are lowercased. A TSIG RR (last in the additional section) and one OPT are skipped,
 * and so are other additional RRs (RFC 2136 2.6: related data, not updates); a TSIG that is
 * not last, a second OPT or one not owned by the root, and bytes after the last record are
 * FORMERR.
 * Pure on the message; never allocates on behalf of the caller except res->change.
 *
 * Rules where the RFC leaves room (what BIND does unless said otherwise):
 *   - RDATA: A must be 4 bytes, AAAA 16; a type with names (dns/rdata.h) must have exactly
 *     its layout; and every added record must survive the master-file form
 *     (zone_rr_text_safe: snapshots and exports are master files): else FORMERR.
 *   - Types: an add of a meta or query type (RFC 6895 3.1: 0, OPT, 128-255) is FORMERR, as
 *     is a delete RR of one; a delete RRset refuses AXFR, IXFR, MAILA, MAILB (3.4.1.3).
 *   - A zone section naming another zone or class than u's is NOTAUTH.
 *   - RDATA is compared as DNS compares it: the names in it without regard to case. So a
 *     value-dependent prerequisite, a delete RR and a duplicate add match "WWW.example.com."
 *     to "www.example.com."; a duplicate add replaces the stored record (its case, its TTL).
 *   - TTL (RFC 2181 5.2, one TTL per RRset): an added record gives its TTL to the whole
 *     RRset it joins (the others are removed and added again with it).
 *   - CNAME (RFC 2136 3.4.2.2, RFC 1034 3.6.2): a CNAME added where other data is, or other
 *     data added where a CNAME is, is ignored; a CNAME added where a CNAME is replaces it.
 *     Only RRSIG and NSEC may stand beside a CNAME (RFC 4035 2.5) — what the zone build
 *     allows; KEY (RFC 2535, withdrawn by RFC 3755) and NSEC3 count as other data.
 *   - SOA: an added SOA not at the apex is ignored; at the apex it replaces the SOA only
 *     with a higher serial (RFC 1982) than the view's, and the commit then serves that
 *     serial (or one above it when the serial record is ahead). A delete RR of the SOA,
 *     a delete RRset of the apex SOA or NS, and the apex's last NS are ignored (3.4.2.3/4).
 *   - What the commit's build (zone_changeset_apply) would refuse is refused per request
 *     (REFUSED, the request rolled back), so one request can never fail the batch's commit:
 *     a delegation whose in-bailiwick name server would lack an address (missing glue, RFC
 *     1034 4.2.1: the highest delegation at or above every touched name, and those below a
 *     delegation the request removed), an RRset of more than 65535 records. The others the
 *     build checks cannot arise: out-of-zone data is NOTZONE, classes other than IN are
 *     FORMERR, CNAME rules above, SOA only through zone_update_set_soa, the apex keeps SOA
 *     and NS. A DNAME with data below it is only a warning in the build and is accepted.
 *   - The net effect (res->change) is the diff of the view at the touched names before and
 *     after the request, TTL included (a TTL change is a removal and an addition).
 * Cost: O(records at the names a request touches, log of that), plus one walk of the zone
 * for a request that removes a delegation; a prerequisite set is compared sorted.
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
	                           * (removed and added records, never an SOA among them; TTLs
	                           * as they would be served). An SOA the request replaced is
	                           * the change set's SOA(from) and SOA(to) (the view's SOA
	                           * before and after: zone_changeset_soa_from/_to), which a
	                           * change set holds apart from the lists; neither is set
	                           * otherwise. Empty for a no-op. NULL unless NOERROR. The
	                           * caller frees it (zone_ddns_result_clear). */
} zone_ddns_result_t;

/* Check and apply one UPDATE request msg[0..len) (whose zone section named u's zone, class
 * IN) within u. Returns 0 when the request was handled, whatever its rcode (in res); a
 * negative error (-ENOMEM) when it could not be (the transaction is then as before the
 * call, res->rcode is SERVFAIL). allow may not be NULL. */
int zone_ddns_apply(zone_update_t *u, const uint8_t *msg, size_t len, zone_ddns_allow_fn allow,
                    void *arg, zone_ddns_result_t *res) SD_NONNULL(1, 2, 4, 6) SD_WUR;

/* Free res->change (and set it NULL). */
void zone_ddns_result_clear(zone_ddns_result_t *res) SD_NONNULL(1);
