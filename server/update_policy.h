/* update_policy.h — who may change what in a zone by RFC 2136 UPDATE (config + matching).
 *
 * A zone's `update-policy` is a list of rules; default (no list, or an empty one): every
 * UPDATE is REFUSED. A rule names the requester — a TSIG key, an address prefix, or both —
 * and what it may change — names and types:
 *
 *   update-policy:
 *     - key: deploy-key             the request's verified TSIG key (declared under keys:)
 *       address: 10.0.0.0/8         the client's address (server/xfr/acl.h does this part)
 *       match: subdomain            name | subdomain | wildcard (default subdomain)
 *       name: nodes.example.com     default: the zone apex; "*.nodes.example.com" is
 *                                   name nodes.example.com with match wildcard
 *       types: [A, AAAA, TXT]       default: every type but SOA
 *
 * Matching a request (RFC 2136 3.3, the server's own policy):
 *   1. the rules whose (address, key) part matches the client and the verified key, in
 *      order; a rule without a key matches UNSIGNED requests only (a signed request needs a
 *      rule naming its key: the only way to allow unsigned updates is an address rule);
 *   2. of those, the first one that covers the (owner, type) of every RR of the update
 *      section is the request's rule; when none covers them all, the first requester match
 *      stands (the update then fails on the first RR it does not cover: REFUSED with that
 *      RR named); no requester match at all: REFUSED.
 * Coverage: name — owner equals the rule's name; subdomain — the name or below; wildcard —
 * strictly below. Types: the listed ones, or every type but SOA by default; a delete of all
 * RRsets at a name (type ANY) is covered only by the default types. A name outside the zone
 * is not the policy's business: nothing there can change, and RFC 2136 3.4.1.3 answers
 * NOTZONE for it (as Knot and BIND do) rather than REFUSED (srv_upd_policy_allows).
 *
 * Rules are immutable after config load; matching is pure, allocation-free, any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "contrib/base/compiler.h"
#include "contrib/base/conf.h"
#include "dns/name.h"
#include "server/xfr/acl.h"
#include "server/xfr/conf.h"

typedef enum {
	SRV_UPD_MATCH_NAME = 0,
	SRV_UPD_MATCH_SUBDOMAIN,
	SRV_UPD_MATCH_WILDCARD,
} srv_upd_match_t;

#define SRV_UPD_TYPES_MAX 32

typedef struct srv_upd_rule {
	xfr_acl_rule_t who; /* address and/or key (has_key false: unsigned requests only) */
	srv_upd_match_t match;
	uint8_t name[DNAME_MAX]; /* lowercased wire form, within the zone */
	bool all_types;          /* no types: list: every type but SOA (and ANY deletes) */
	uint8_t ntypes;
	uint16_t types[SRV_UPD_TYPES_MAX];
} srv_upd_rule_t;

typedef struct srv_upd_policy {
	uint8_t apex[DNAME_MAX]; /* the zone's (lowercased wire) */
	srv_upd_rule_t *rules;
	size_t count;
} srv_upd_policy_t;

/* The keys a zone entry's update-policy rule may carry (NULL-terminated). */
extern const char *const srv_upd_rule_keys[];

/* Parse a zone entry's `update-policy` sequence (node) for the zone apex, with keys the
 * declared TSIG keys. Every problem is reported through ctx (file:line) and parsing goes on:
 * unknown keys, a rule without address and key, bad prefixes, undeclared keys, unknown or
 * meta types, a bad match, names outside the zone. Returns 0 or -ENOMEM. */
int srv_upd_policy_parse(conf_ctx_t *ctx, const conf_node_t *node, const uint8_t *apex,
                         const xfr_keys_t *keys, srv_upd_policy_t *out)
    SD_NONNULL(1, 2, 3, 4, 5) SD_WUR;
int srv_upd_policy_copy(const srv_upd_policy_t *from, srv_upd_policy_t *to) SD_NONNULL(1, 2) SD_WUR;
void srv_upd_policy_free(srv_upd_policy_t *p);

/* Whether rule r matches the requester: peer (may be NULL) and key, the verified TSIG key
 * (NULL: unsigned request). */
bool srv_upd_rule_matches(const srv_upd_rule_t *r, const struct sockaddr *peer,
                          const tsig_key_t *key) SD_NONNULL(1);
/* Whether rule r covers changing (owner, type); owner lowercased wire. */
bool srv_upd_rule_covers(const srv_upd_rule_t *r, const uint8_t *owner, uint16_t type)
    SD_NONNULL(1, 2);

/* Whether rule r of p lets the requester change (owner, type): covered by r, or outside the
 * zone (see above). The permission check of RFC 2136 3.3 (zone_ddns_apply's allow). */
bool srv_upd_policy_allows(const srv_upd_policy_t *p, const srv_upd_rule_t *r, const uint8_t *owner,
                           uint16_t type) SD_NONNULL(1, 2, 3);

/* The rule for an UPDATE msg[0..len) from (peer, key) (see above), or NULL: REFUSED. The
 * update section is read with dns/rr.h; a message it cannot read gets the first requester
 * match (the RFC 2136 processing reports the FORMERR). */
const srv_upd_rule_t *srv_upd_policy_select(const srv_upd_policy_t *p, const uint8_t *msg,
                                            size_t len, const struct sockaddr *peer,
                                            const tsig_key_t *key) SD_NONNULL(1, 2);
