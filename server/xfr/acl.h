/* acl.h — transfer access control: who may AXFR/IXFR a zone.
 *
 * A zone's transfer-acl is a list of rules; a request is allowed when one rule matches, and
 * refused (REFUSED) when none does: deny by default. A rule names an address prefix, a TSIG
 * key, or both; with both, both must match:
 *
 *   { address: 192.0.2.0/24 }                 any request from that prefix
 *   { key: xfr-key }                          any address, signed with xfr-key
 *   { address: ::1, key: xfr-key }            from ::1 and signed with xfr-key
 *
 * The key is matched against the key that verified the request's TSIG (the caller verifies
 * first and answers NOTAUTH on a bad signature). IPv4-mapped IPv6 peers match IPv4 prefixes.
 * Rules are immutable after config load; matching is pure, allocation-free, any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "contrib/base/compiler.h"
#include "server/xfr/tsig.h"

typedef struct xfr_acl_rule {
	bool has_addr;
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network address, host bits cleared */
	uint8_t prefix;   /* prefix length in bits */
	bool has_key;
	uint8_t key[DNAME_MAX]; /* lowercased wire key name */
} xfr_acl_rule_t;

/* Parse "ADDR" or "ADDR/LEN" (IPv4 or IPv6) into the address part of rule. Host bits beyond
 * the prefix must be zero (a typo guard: 10.1.2.3/8 is an error). Returns 0 or SD_EPARSE. */
int xfr_acl_rule_set_addr(xfr_acl_rule_t *rule, const char *text) SD_NONNULL(1, 2) SD_WUR;
/* Set the key part from a lowercased wire key name. */
void xfr_acl_rule_set_key(xfr_acl_rule_t *rule, const uint8_t *key_name) SD_NONNULL(1, 2);

/* True when peer (may be NULL: no address, matches only key-only rules) with the verified key
 * (NULL for an unsigned request) matches a rule of rules[0..count). */
bool xfr_acl_allows(const xfr_acl_rule_t *rules, size_t count, const struct sockaddr *peer,
                    const tsig_key_t *key);
