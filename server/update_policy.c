/* update_policy.c — RFC 2136 update policy: config and matching (see update_policy.h). */
#include "server/update_policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "contrib/base/err.h"
#include "dns/proto.h"
#include "dns/rr.h"
#include "zone/version.h"

const char *const srv_upd_rule_keys[] = {"key", "address", "match", "name", "types", NULL};

/* Types a rule may not list: meta and question-only types (RFC 6895 3.1), which no update
 * RR adds (ANY is how "every type" is written: leave types out for it). */
static bool type_is_meta(uint16_t t)
{
	return t == 0 || t == DNS_TYPE_OPT || (t >= 128 && t <= 255);
}

/* "A", "aaaa", "TYPE65534" -> the type; 0 when unknown. zone_type_to_str's table is the one
 * list of names; the named types all lie below 1024. */
static uint16_t type_parse(const char *s)
{
	if (strncasecmp(s, "TYPE", 4) == 0 && s[4] >= '0' && s[4] <= '9') {
		char *end = NULL;
		unsigned long v = strtoul(s + 4, &end, 10);
		return *end == '\0' && v <= UINT16_MAX ? (uint16_t)v : 0;
	}
	char buf[16];
	for (unsigned t = 1; t < 1024; t++)
		if (strcasecmp(zone_type_to_str((uint16_t)t, buf), s) == 0 &&
		    strncmp(buf, "TYPE", 4) != 0)
			return (uint16_t)t;
	return 0;
}

static void rule_types(conf_ctx_t *ctx, const conf_node_t *n, srv_upd_rule_t *r)
{
	const char *list[SRV_UPD_TYPES_MAX];
	size_t count = 0;
	if (!conf_str_list(ctx, n, list, SRV_UPD_TYPES_MAX, &count))
		return;
	if (count == 0) {
		conf_error(ctx, n,
		           "an empty list allows nothing; leave 'types' out for every type");
		return;
	}
	r->all_types = false;
	for (size_t i = 0; i < count; i++) {
		const conf_node_t *item = n->kind == CONF_SEQ ? n->items[i] : n;
		uint16_t t = type_parse(list[i]);
		if (t == 0)
			conf_error(ctx, item, "'%s' is not an RR type", list[i]);
		else if (type_is_meta(t))
			conf_error(ctx, item,
			           "'%s' is a meta type; leave 'types' out to allow every type",
			           list[i]);
		else
			r->types[r->ntypes++] = t;
	}
}

static void rule_match(conf_ctx_t *ctx, const conf_node_t *n, srv_upd_rule_t *r)
{
	const char *s = NULL;
	if (!conf_str(ctx, n, &s))
		return;
	if (strcmp(s, "name") == 0)
		r->match = SRV_UPD_MATCH_NAME;
	else if (strcmp(s, "subdomain") == 0)
		r->match = SRV_UPD_MATCH_SUBDOMAIN;
	else if (strcmp(s, "wildcard") == 0)
		r->match = SRV_UPD_MATCH_WILDCARD;
	else
		conf_error(ctx, n, "'%s' is not name, subdomain or wildcard", s);
}

/* name (relative names are taken as absolute, as everywhere in the config): "*.x" is x with
 * match wildcard; it must lie within the zone. */
static void rule_name(conf_ctx_t *ctx, const conf_node_t *n, const conf_node_t *match,
                      const uint8_t *apex, srv_upd_rule_t *r)
{
	const char *s = NULL;
	uint8_t name[DNAME_MAX];
	if (!conf_str(ctx, n, &s))
		return;
	if (dname_from_str(s, NULL, name) < 0) {
		conf_error(ctx, n, "'%s' is not a domain name", s);
		return;
	}
	dname_lower(name);
	if (dname_is_wildcard(name)) {
		if (match != NULL && r->match != SRV_UPD_MATCH_WILDCARD) {
			conf_error(ctx, n, "'%s' is a wildcard; its match must be wildcard", s);
			return;
		}
		r->match = SRV_UPD_MATCH_WILDCARD;
		memmove(name, name + 2, dname_len(name + 2));
	}
	if (!dname_is_subdomain(name, apex)) {
		char zone[DNAME_MAX * 4 + 1];
		dname_to_str(apex, zone, sizeof(zone));
		conf_error(ctx, n, "'%s' is outside the zone %s", s, zone);
		return;
	}
	memcpy(r->name, name, dname_len(name));
}

/* One rule; counted only when it is valid. */
static void rule_entry(conf_ctx_t *ctx, const conf_node_t *item, const uint8_t *apex,
                       const xfr_keys_t *keys, srv_upd_policy_t *out)
{
	unsigned errors = ctx->errors;
	if (!conf_expect_map(ctx, item, srv_upd_rule_keys))
		return;
	srv_upd_rule_t *r = &out->rules[out->count];
	memset(r, 0, sizeof(*r));
	r->match = SRV_UPD_MATCH_SUBDOMAIN;
	r->all_types = true;
	memcpy(r->name, apex, dname_len(apex));
	const conf_node_t *addr = conf_get(item, "address"), *key = conf_get(item, "key");
	const conf_node_t *match = conf_get(item, "match"), *name = conf_get(item, "name");
	const conf_node_t *types = conf_get(item, "types");
	const char *s = NULL;
	if (addr == NULL && key == NULL)
		conf_error(ctx, item, "an update-policy rule needs 'key', 'address' or both");
	if (addr != NULL && conf_str(ctx, addr, &s) && xfr_acl_rule_set_addr(&r->who, s) != 0)
		conf_error(ctx, addr, "'%s' is not an address or prefix (host bits must be 0)", s);
	const tsig_key_t *k = key != NULL ? xfr_conf_key_ref(ctx, key, keys) : NULL;
	if (k != NULL)
		xfr_acl_rule_set_key(&r->who, k->name);
	if (match != NULL)
		rule_match(ctx, match, r);
	if (name != NULL)
		rule_name(ctx, name, match, apex, r);
	if (types != NULL)
		rule_types(ctx, types, r);
	if (ctx->errors == errors)
		out->count++;
}

int srv_upd_policy_parse(conf_ctx_t *ctx, const conf_node_t *node, const uint8_t *apex,
                         const xfr_keys_t *keys, srv_upd_policy_t *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->apex, apex, dname_len(apex));
	if (!conf_expect_seq(ctx, node))
		return 0;
	out->rules = calloc(node->count ? node->count : 1, sizeof(*out->rules));
	if (out->rules == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < node->count; i++)
		rule_entry(ctx, node->items[i], apex, keys, out);
	return 0;
}

int srv_upd_policy_copy(const srv_upd_policy_t *from, srv_upd_policy_t *to)
{
	memset(to, 0, sizeof(*to));
	memcpy(to->apex, from->apex, sizeof(to->apex));
	if (from->count == 0)
		return 0;
	to->rules = malloc(from->count * sizeof(*to->rules));
	if (to->rules == NULL)
		return -ENOMEM;
	memcpy(to->rules, from->rules, from->count * sizeof(*to->rules));
	to->count = from->count;
	return 0;
}

void srv_upd_policy_free(srv_upd_policy_t *p)
{
	if (p == NULL)
		return;
	free(p->rules);
	p->rules = NULL;
	p->count = 0;
}

bool srv_upd_rule_matches(const srv_upd_rule_t *r, const struct sockaddr *peer,
                          const tsig_key_t *key)
{
	if (key != NULL && !r->who.has_key) /* signed: only a rule naming its key */
		return false;
	return xfr_acl_allows(&r->who, 1, peer, key);
}

bool srv_upd_rule_covers(const srv_upd_rule_t *r, const uint8_t *owner, uint16_t type)
{
	switch (r->match) {
	case SRV_UPD_MATCH_NAME:
		if (!dname_equal(owner, r->name))
			return false;
		break;
	case SRV_UPD_MATCH_SUBDOMAIN:
		if (!dname_is_subdomain(owner, r->name))
			return false;
		break;
	case SRV_UPD_MATCH_WILDCARD:
		if (dname_equal(owner, r->name) || !dname_is_subdomain(owner, r->name))
			return false;
		break;
	}
	if (r->all_types)
		return type != DNS_TYPE_SOA;
	for (unsigned i = 0; i < r->ntypes; i++)
		if (r->types[i] == type)
			return true;
	return false;
}

bool srv_upd_policy_allows(const srv_upd_policy_t *p, const srv_upd_rule_t *r, const uint8_t *owner,
                           uint16_t type)
{
	return !dname_is_subdomain(owner, p->apex) || srv_upd_rule_covers(r, owner, type);
}

/* Whether r allows every RR of the update section; false when the message cannot be read
 * (the caller's fallback decides). */
static bool rule_covers_all(const srv_upd_policy_t *p, const srv_upd_rule_t *r, const uint8_t *msg,
                            size_t len)
{
	dns_rr_iter_t it;
	dns_rr_t rr;
	if (dns_rr_iter_init(&it, msg, len) != 0)
		return false;
	int ret;
	while ((ret = dns_rr_iter_next(&it, &rr)) == 0 && rr.section <= DNS_SEC_NS) {
		if (rr.section != DNS_SEC_NS)
			continue;
		uint8_t owner[DNAME_MAX];
		size_t pos = rr.owner;
		if (dname_parse(msg, len, &pos, owner) < 0)
			return false;
		dname_lower(owner);
		if (!srv_upd_policy_allows(p, r, owner, rr.type))
			return false;
	}
	return ret == 0 || ret == SD_ENOTFOUND;
}

const srv_upd_rule_t *srv_upd_policy_select(const srv_upd_policy_t *p, const uint8_t *msg,
                                            size_t len, const struct sockaddr *peer,
                                            const tsig_key_t *key)
{
	const srv_upd_rule_t *first = NULL;
	for (size_t i = 0; i < p->count; i++) {
		const srv_upd_rule_t *r = &p->rules[i];
		if (!srv_upd_rule_matches(r, peer, key))
			continue;
		if (rule_covers_all(p, r, msg, len))
			return r;
		if (first == NULL)
			first = r;
	}
	return first;
}
