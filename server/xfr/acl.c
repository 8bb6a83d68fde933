#include "server/xfr/acl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/addr.h"
#include "contrib/base/err.h"

static bool host_bits_zero(const uint8_t *addr, unsigned bytes, unsigned prefix)
{
	for (unsigned bit = prefix; bit < bytes * 8; bit++)
		if (addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

int xfr_acl_rule_set_addr(xfr_acl_rule_t *rule, const char *text)
{
	char buf[INET6_ADDRSTRLEN + 8];
	if (strlen(text) >= sizeof(buf))
		return SD_EPARSE;
	strcpy(buf, text);
	char *slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	int family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	unsigned bytes = family == AF_INET6 ? 16 : 4;
	uint8_t addr[16] = {0};
	if (inet_pton(family, buf, addr) != 1)
		return SD_EPARSE;
	unsigned long prefix = bytes * 8;
	if (slash != NULL) {
		char *end = NULL;
		if (slash[1] < '0' || slash[1] > '9')
			return SD_EPARSE;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || prefix > bytes * 8)
			return SD_EPARSE;
	}
	if (!host_bits_zero(addr, bytes, (unsigned)prefix))
		return SD_EPARSE;
	rule->has_addr = true;
	rule->family = family;
	memcpy(rule->addr, addr, sizeof(addr));
	rule->prefix = (uint8_t)prefix;
	return 0;
}

void xfr_acl_rule_set_key(xfr_acl_rule_t *rule, const uint8_t *key_name)
{
	rule->has_key = true;
	memcpy(rule->key, key_name, dname_len(key_name));
}

/* The peer as (family, bytes), IPv4-mapped IPv6 folded to IPv4. */
static int peer_addr(const struct sockaddr *sa, const uint8_t **bytes)
{
	size_t len = sd_addr_bytes(sa, bytes);
	return len == 4 ? AF_INET : len == 16 ? AF_INET6 : AF_UNSPEC;
}

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	if (memcmp(a, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == net[full];
}

static bool rule_matches(const xfr_acl_rule_t *r, int family, const uint8_t *addr,
                         const tsig_key_t *key)
{
	if (r->has_addr && (family != r->family || !prefix_match(addr, r->addr, r->prefix)))
		return false;
	if (r->has_key && (key == NULL || !dname_equal(key->name, r->key)))
		return false;
	return r->has_addr || r->has_key;
}

bool xfr_acl_allows(const xfr_acl_rule_t *rules, size_t count, const struct sockaddr *peer,
                    const tsig_key_t *key)
{
	const uint8_t *addr = NULL;
	int family = peer != NULL ? peer_addr(peer, &addr) : AF_UNSPEC;
	for (size_t i = 0; i < count; i++)
		if (rule_matches(&rules[i], family, addr, key))
			return true;
	return false;
}
