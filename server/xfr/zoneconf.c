/* zoneconf.c — a zone's transfer settings, NOTIFY state and status (see zoneconf.h). */
#include "server/xfr/zoneconf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "server/xfr/serve.h"

struct xfr_zone {
	uint8_t apex[DNAME_MAX];
	char *name;
	xfr_zone_conf_t conf;
	zone_t *zone;                 /* borrowed */
	xfr_zone_counters_t counters; /* written by workers (relaxed atomics) */
};

int xfr_zone_new(zone_t *z, const char *name, const xfr_zone_conf_t *conf, xfr_zone_t **out)
{
	xfr_zone_t *xz = calloc(1, sizeof(*xz));
	if (xz == NULL)
		return -ENOMEM;
	memcpy(xz->apex, zone_apex(z), dname_len(zone_apex(z)));
	xz->zone = z;
	xz->name = strdup(name);
	int rc = xz->name ? xfr_zone_conf_copy(conf, &xz->conf) : -ENOMEM;
	if (rc != 0) {
		xfr_zone_free(xz);
		return rc;
	}
	*out = xz;
	return 0;
}

int xfr_zone_configure(xfr_zone_t *xz, const xfr_zone_conf_t *conf)
{
	xfr_zone_conf_t copy;
	int rc = xfr_zone_conf_copy(conf, &copy);
	if (rc != 0)
		return rc;
	xfr_zone_conf_free(&xz->conf);
	xz->conf = copy;
	zone_set_policy(xz->zone, conf->policy);
	return 0;
}

void xfr_zone_free(xfr_zone_t *xz)
{
	if (xz == NULL)
		return;
	xfr_zone_conf_free(&xz->conf);
	free(xz->name);
	free(xz);
}

const xfr_notify_target_t *xfr_zone_notify_targets(const xfr_zone_t *xz, size_t *count)
{
	*count = xz->conf.notify_count;
	return xz->conf.notify;
}

void xfr_zone_notify(xfr_zone_t *xz, const zone_version_t *v, xfr_notifier_t *notifier)
{
	if (notifier == NULL || xz->conf.notify_count == 0)
		return;
	const zone_rrset_t *soa = zone_version_soa(v);
	uint16_t rdlen = be16_get(soa->rdata);
	int rc = xfr_notify_zone(notifier, xz->apex, soa->ttl, soa->rdata + 2, rdlen,
	                         xz->conf.notify, xz->conf.notify_count);
	if (rc != 0)
		log_error("event=notify-not-sent zone=%s serial=%u reason=%s", xz->name,
		          zone_version_serial(v), LOG_Q(sd_strerror(rc)));
}

void xfr_zone_committed(xfr_zone_t *xz, xfr_notifier_t *notifier)
{
	const zone_version_t *v = zone_current(xz->zone);
	if (v)
		xfr_zone_notify(xz, v, notifier);
	if (zone_sync(xz->zone) != 0)
		return; /* logged by the zone, which keeps serving from memory and journal */
}

static uint64_t load_counter(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

void xfr_zone_stats(const xfr_zone_t *xz, xfr_zone_stats_t *out)
{
	zone_stats_t st;
	zone_stats(xz->zone, &st);
	zone_history_snap_t *s = zone_history_acquire(zone_history(xz->zone));
	size_t depth = zone_history_snap_count(s);
	const xfr_zone_counters_t *c = &xz->counters;
	*out = (xfr_zone_stats_t){
	    .journal_entries = st.journal_depth,
	    .journal_bytes = st.journal_size,
	    .history_depth = depth,
	    .history_from = depth ? zone_history_snap_diff(s, 0)->from : 0,
	    .changes = st.changes,
	    .axfr_out = load_counter(&c->axfr),
	    .ixfr_out = load_counter(&c->ixfr),
	    .ixfr_full_zone = load_counter(&c->ixfr_full),
	    .refused = load_counter(&c->refused),
	};
	zone_history_snap_release(s);
}

int xfr_zone_status(const xfr_zone_t *xz, char *buf, size_t size)
{
	xfr_zone_stats_t st;
	xfr_zone_stats(xz, &st);
	return snprintf(buf, size,
	                "journal %u entries %llu bytes, ixfr history %zu (from serial %u), "
	                "changes %llu, notify targets %zu, acl rules %zu\n"
	                "transfers: axfr-out %llu ixfr-out %llu ixfr-full-zone %llu refused %llu",
	                st.journal_entries, (unsigned long long)st.journal_bytes, st.history_depth,
	                st.history_from, (unsigned long long)st.changes, xz->conf.notify_count,
	                xz->conf.acl_count, (unsigned long long)st.axfr_out,
	                (unsigned long long)st.ixfr_out, (unsigned long long)st.ixfr_full_zone,
	                (unsigned long long)st.refused);
}

int xfr_zone_notify_status(const xfr_zone_t *xz, xfr_notifier_t *notifier, size_t i, char *buf,
                           size_t size)
{
	if (i >= xz->conf.notify_count)
		return 0;
	const xfr_notify_target_t *t = &xz->conf.notify[i];
	char tgt[INET6_ADDRSTRLEN + 10];
	xfr_notify_target_str(t, tgt, sizeof(tgt));
	xfr_notify_status_t ns = {0};
	if (notifier == NULL || xfr_notifier_target_status(notifier, xz->apex, t, &ns) != 0)
		return snprintf(buf, size, "notify %s: not notified", tgt);
	char acked[48] = "";
	if (ns.has_acked && (ns.state != XFR_NOTIFY_ACKED || ns.acked_serial != ns.serial))
		snprintf(acked, sizeof(acked), " (acknowledged serial %u)", ns.acked_serial);
	switch (ns.state) {
	case XFR_NOTIFY_ACKED:
		return snprintf(buf, size, "notify %s: acknowledged serial %u", tgt, ns.serial);
	case XFR_NOTIFY_PENDING:
		return snprintf(buf, size, "notify %s: pending serial %u, %u retr%s left%s", tgt,
		                ns.serial, ns.sends_left, ns.sends_left == 1 ? "y" : "ies", acked);
	case XFR_NOTIFY_REJECTED:
		return snprintf(buf, size, "notify %s: serial %u rejected with RCODE %u%s", tgt,
		                ns.serial, ns.rcode, acked);
	default:
		return snprintf(buf, size, "notify %s: gave up on serial %u (no response)%s", tgt,
		                ns.serial, acked);
	}
}

/* ---------------------------------------------------------------- worker environment */

/* One allocation holding the env, its key copies, key pointers, zone infos and ACLs. */
typedef struct env_block {
	xfr_env_t env;
	tsig_key_t *keys;
	const tsig_key_t **key_ptrs;
	xfr_zone_info_t *zones;
	xfr_acl_rule_t *rules;
} env_block_t;

static void env_free(env_block_t *b)
{
	if (b == NULL)
		return;
	if (b->keys != NULL)
		memset(b->keys, 0, b->env.nkeys * sizeof(*b->keys));
	free(b->keys);
	free(b->key_ptrs);
	free(b->zones);
	free(b->rules);
	free(b);
}

static int env_build(const xfr_keys_t *keys, xfr_zone_t *const *zones, size_t n,
                     uint16_t udp_payload, env_block_t **out)
{
	size_t nk = keys ? keys->count : 0, nr = 0;
	for (size_t i = 0; i < n; i++)
		nr += zones[i]->conf.acl_count;
	env_block_t *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	b->keys = calloc(nk + 1, sizeof(*b->keys));
	b->key_ptrs = calloc(nk + 1, sizeof(*b->key_ptrs));
	b->zones = calloc(n + 1, sizeof(*b->zones));
	b->rules = calloc(nr + 1, sizeof(*b->rules));
	if (!b->keys || !b->key_ptrs || !b->zones || !b->rules) {
		env_free(b);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nk; i++) {
		b->keys[i] = keys->keys[i];
		b->key_ptrs[i] = &b->keys[i];
	}
	xfr_acl_rule_t *r = b->rules;
	for (size_t i = 0; i < n; i++) {
		xfr_zone_t *z = zones[i];
		xfr_zone_info_t *zi = &b->zones[i];
		memcpy(zi->apex, z->apex, dname_len(z->apex));
		zi->acl = r;
		zi->acl_count = z->conf.acl_count;
		if (z->conf.acl_count)
			memcpy(r, z->conf.acl, z->conf.acl_count * sizeof(*r));
		r += z->conf.acl_count;
		zi->history = zone_history(z->zone);
		zi->counters = &z->counters;
	}
	b->env = (xfr_env_t){.keys = b->key_ptrs,
	                     .nkeys = nk,
	                     .zones = b->zones,
	                     .nzones = n,
	                     .udp_payload = udp_payload};
	*out = b;
	return 0;
}

int xfr_env_new(const xfr_keys_t *keys, xfr_zone_t *const *zones, size_t n, uint16_t udp_payload,
                xfr_env_t **out)
{
	env_block_t *b = NULL;
	*out = NULL;
	int rc = env_build(keys, zones, n, udp_payload, &b);
	if (rc == 0)
		*out = &b->env;
	return rc;
}

void xfr_env_free(xfr_env_t *env)
{
	env_free((env_block_t *)env); /* env is the block's first member */
}
