/* update.c — RFC 2136 UPDATE batches on the control thread (see update.h). */
#include "server/update.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "dns/msg.h"
#include "dns/proto.h"
#include "server/engine/query.h"
#include "server/sock.h"
#include "zone/ddns.h"

/* Room for a reply: header, the echoed zone section, our OPT with a COOKIE, the TSIG RR. */
#define OPT_RR_LEN     11
#define COOKIE_OPT_LEN 28 /* option code, length, client cookie 8, server cookie 16 */
#define REPLY_CAP      (DNS_HEADER_LEN + DNAME_MAX + 4 + OPT_RR_LEN + COOKIE_OPT_LEN + TSIG_RR_MAX)

/* One request of the batch and what became of it. */
typedef struct upd_req {
	srv_handoff_item_t *it;
	srv_query_t q;
	bool zone_ok;    /* the zone section named one zone: apex and zclass */
	bool zone_named; /* apex holds the zone section's first name (for the audit line) */
	uint8_t apex[DNAME_MAX];
	uint16_t zclass;
	bool decided; /* answered before (or without) RFC 2136 processing */
	bool in_txn;  /* zone_ddns_apply ran in the batch's transaction */
	unsigned rcode;
	char reason[160];
	zone_changeset_t *change; /* NOERROR: its net effect (may be empty) */
	bool has_serials;
	uint32_t serial_from, serial_to;
	srv_zone_upd_stats_t *stats; /* its zone's counters (valid during the flush), or NULL */
} upd_req_t;

struct srv_update {
	srv_zonedb_t *zones;
	srv_audit_t *audit;
	uint16_t udp_payload;
	upd_req_t *reqs;
	size_t count, cap;
	/* counters for steerctl status (control thread only) */
	uint64_t batches, requests, largest, not_served, early, commit_failures, retried;
	/* zones with a new serial in this batch: their upkeep runs after the replies */
	uint8_t (*settle)[DNAME_MAX];
	size_t nsettle;
};

/* The requests of one zone in one transaction, up to this many bytes of messages: a flood's
 * batch is committed as several transactions (each its own serial) so that no journal entry
 * nears the journal's per-entry limit and no commit holds the control thread for long. */
#define UPD_GROUP_BYTES (8u << 20)

/* The requests of one zone in one transaction. */
typedef struct upd_group {
	upd_req_t **reqs;
	size_t count;
} upd_group_t;

int srv_update_new(srv_zonedb_t *zones, srv_audit_t *audit, uint16_t udp_payload,
                   srv_update_t **out)
{
	srv_update_t *up = calloc(1, sizeof(*up));
	*out = up;
	if (up == NULL)
		return -ENOMEM;
	up->zones = zones;
	up->audit = audit;
	up->udp_payload = udp_payload;
	return 0;
}

void srv_update_free(srv_update_t *up)
{
	if (up == NULL)
		return;
	for (size_t i = 0; i < up->count; i++) {
		zone_changeset_free(up->reqs[i].change);
		srv_handoff_item_free(up->reqs[i].it);
	}
	free(up->reqs);
	free(up);
}

void srv_update_collect(srv_update_t *up, srv_handoff_item_t *it)
{
	if (up->count == up->cap) {
		size_t cap = up->cap ? 2 * up->cap : 64;
		upd_req_t *more = realloc(up->reqs, cap * sizeof(*more));
		if (more == NULL) { /* dropped unanswered: the client retries */
			log_warning("event=update-dropped reason=\"out of memory\"");
			srv_mailbox_push(it->home, it);
			return;
		}
		up->reqs = more;
		up->cap = cap;
	}
	up->reqs[up->count++] = (upd_req_t){.it = it};
}

static void decide(upd_req_t *r, unsigned rcode, const char *fmt, ...) SD_PRINTF(3, 4);
static void decide(upd_req_t *r, unsigned rcode, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	r->rcode = rcode;
	r->decided = true;
}

/* What can be decided from the message alone: EDNS version, zone section, class. */
static void examine(upd_req_t *r)
{
	const srv_handoff_item_t *it = r->it;
	if (srv_query_parse(it->msg, it->len, &r->q) < 0) {
		r->q.len = 0;
		r->decided = true; /* no header: no reply (a worker never hands such over) */
		r->rcode = DNS_RCODE_FORMERR;
		snprintf(r->reason, sizeof(r->reason), "no DNS header");
		return;
	}
	int z = zone_ddns_zone(it->msg, it->len, r->apex, &r->zclass);
	r->zone_ok = r->zone_named = z == 0;
	if (z != 0 && r->q.has_question) { /* FORMERR: still say which zone it named */
		memcpy(r->apex, r->q.qname, r->q.qname_len);
		dname_lower(r->apex);
		r->zone_named = true;
	}
	if (r->q.has_opt && r->q.opt_version > 0)
		decide(r, DNS_RCODE_BADVERS, "EDNS version %u is not supported", r->q.opt_version);
	else if (it->signer.cookie_bad) /* RFC 7873 5.2.3, server/cookie.h: require */
		decide(r, DNS_RCODE_BADCOOKIE, "a valid server cookie is required over UDP");
	else if (z != 0)
		decide(r, (unsigned)z,
		       "zone section: not exactly one zone of type SOA, or malformed");
	else if (r->zclass != DNS_CLASS_IN)
		decide(r, DNS_RCODE_NOTAUTH, "zone class %u: only IN is served", r->zclass);
}

/* What zone_ddns_apply asks about each update RR (RFC 2136 3.3). */
typedef struct upd_allow {
	const srv_upd_policy_t *policy;
	const srv_upd_rule_t *rule;
} upd_allow_t;

static bool allow(void *arg, const uint8_t *owner, uint16_t type)
{
	const upd_allow_t *a = arg;
	return srv_upd_policy_allows(a->policy, a->rule, owner, type);
}

/* One request inside the zone's transaction: the policy, then RFC 2136 3.2-3.4. */
static void apply_one(upd_req_t *r, srv_zonedb_txn_t *t)
{
	const srv_handoff_item_t *it = r->it;
	const tsig_key_t *key = it->signer.active ? &it->signer.key : NULL;
	const struct sockaddr *peer = it->peer_len ? (const struct sockaddr *)&it->peer : NULL;
	r->stats = t->stats;
	r->has_serials = true;
	r->serial_from = r->serial_to = t->serial_from;
	const srv_upd_rule_t *rule = srv_upd_policy_select(t->policy, it->msg, it->len, peer, key);
	if (rule == NULL) {
		decide(r, DNS_RCODE_REFUSED, "policy: no update-policy rule for this client%s",
		       key ? " and key" : " (unsigned)");
		return;
	}
	zone_ddns_result_t res = {0};
	upd_allow_t a = {.policy = t->policy, .rule = rule};
	int ret = zone_ddns_apply(t->u, it->msg, it->len, allow, &a, &res);
	r->in_txn = true;
	if (ret < 0) {
		zone_ddns_result_clear(&res);
		r->rcode = DNS_RCODE_SERVFAIL;
		snprintf(r->reason, sizeof(r->reason), "not applied: %s", sd_strerror(ret));
		return;
	}
	r->rcode = res.rcode;
	snprintf(r->reason, sizeof(r->reason), "%s", res.reason);
	r->change = res.change;
	res.change = NULL;
}

/* Who r is for the change's source: its TSIG key's name, or its client's address when
 * unsigned. */
static void req_who(const upd_req_t *r, char *buf, size_t size)
{
	const srv_handoff_item_t *it = r->it;
	if (it->signer.active)
		dname_to_str(it->signer.key.name, buf, size);
	else if (it->peer_len && it->peer.ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&it->peer)->sin_addr, buf, size);
	else if (it->peer_len && it->peer.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&it->peer)->sin6_addr, buf,
		          size);
	else
		snprintf(buf, size, "unknown client");
}

/* The source of g's change (zone/update.h): the distinct keys / clients of the requests
 * that changed something, in order, bounded. */
static void group_source(const upd_group_t *g, zone_update_t *u)
{
	zone_source_list_t l = {0};
	char who[DNAME_MAX * 4 + 64];
	for (size_t i = 0; i < g->count; i++) {
		const upd_req_t *r = g->reqs[i];
		if (!r->in_txn || r->rcode != DNS_RCODE_NOERROR || !r->change ||
		    !(zone_changeset_removed_count(r->change) ||
		      zone_changeset_added_count(r->change)))
			continue;
		req_who(r, who, sizeof(who));
		zone_source_list_add(&l, who);
	}
	zone_update_set_source(
	    u, &(zone_source_t){.kind = ZONE_SOURCE_UPDATE, .text = zone_source_list_text(&l)});
}

static int group_apply(void *arg, srv_zonedb_txn_t *t)
{
	upd_group_t *g = arg;
	for (size_t i = 0; i < g->count; i++)
		apply_one(g->reqs[i], t);
	group_source(g, t->u);
	return 0;
}

/* Undo what the transaction's processing said about r (it is answered again). */
static void req_reset(upd_req_t *r)
{
	zone_changeset_free(r->change);
	r->change = NULL;
	r->in_txn = false;
	r->decided = false;
	r->rcode = 0;
	r->reason[0] = '\0';
}

/* The requests of g in one transaction of their zone; a commit failing on a semantic check
 * is retried one request per transaction. */
static void group_run(srv_update_t *up, upd_group_t *g)
{
	srv_zonedb_txn_t t;
	int ret = srv_zonedb_update(up->zones, g->reqs[0]->apex, group_apply, g, &t);
	char zone[DNAME_MAX * 4 + 1];
	if (ret == SD_ENOTFOUND) {
		dname_to_str(g->reqs[0]->apex, zone, sizeof(zone));
		for (size_t i = 0; i < g->count; i++)
			decide(g->reqs[i], DNS_RCODE_NOTAUTH, "not authoritative for %s", zone);
		return;
	}
	if (t.commit == 0 && t.serial_to != t.serial_from && up->settle)
		memcpy(up->settle[up->nsettle++], g->reqs[0]->apex, dname_len(g->reqs[0]->apex));
	size_t applied = 0;
	for (size_t i = 0; i < g->count; i++) {
		upd_req_t *r = g->reqs[i];
		if (t.commit == 0) {
			r->serial_to = r->rcode == DNS_RCODE_NOERROR ? t.serial_to : r->serial_from;
			continue;
		}
		r->stats = t.stats;
		r->has_serials = true;
		r->serial_from = r->serial_to = t.serial_from;
		applied += r->in_txn;
	}
	if (t.commit == 0)
		return;
	up->commit_failures++;
	if (t.commit == SD_ESEMANTIC && applied > 1) {
		char zn[DNAME_MAX * 4 + 1];
		log_warning("event=update-batch-retry zone=%s requests=%zu reason=\"a semantic "
		            "check failed at commit\" hint=\"applying each request on its own\"",
		            dname_to_str_nodot(g->reqs[0]->apex, zn, sizeof(zn)), applied);
		for (size_t i = 0; i < g->count; i++) {
			if (!g->reqs[i]->in_txn)
				continue;
			req_reset(g->reqs[i]);
			upd_group_t one = {.reqs = &g->reqs[i], .count = 1};
			up->retried++;
			group_run(up, &one);
		}
		return;
	}
	/* SERVFAIL for every request the transaction held, or would have (its begin failed);
	 * a policy refusal did not depend on it and stays */
	for (size_t i = 0; i < g->count; i++) {
		upd_req_t *r = g->reqs[i];
		if (r->decided && !r->in_txn)
			continue;
		r->decided = true;
		zone_changeset_free(r->change);
		r->change = NULL;
		r->rcode = DNS_RCODE_SERVFAIL;
		snprintf(r->reason, sizeof(r->reason), "commit failed, nothing changed: %s",
		         sd_strerror(t.commit));
	}
}

/* Our OPT (RFC 6891 7): payload, extended rcode, version 0, DO echoed; the COOKIE option
 * (RFC 7873 5.2: the client cookie as sent, the server cookie the worker decided) when the
 * request had one. Before the TSIG, which covers it. Returns 0 or SD_ELIMIT. */
static int reply_opt(const srv_update_t *up, const upd_req_t *r, dns_msg_t *m)
{
	static const uint8_t root = 0;
	const srv_query_t *q = &r->q;
	bool cookie = q->has_cookie && r->it->signer.cookie;
	uint32_t ttl = ((uint32_t)(r->rcode >> 4) << 24) | (q->opt_do ? 0x8000u : 0);
	uint8_t opt[COOKIE_OPT_LEN];
	size_t olen = cookie ? sizeof(opt) : 0;
	if (cookie) {
		be16_put(opt, DNS_EDNS_COOKIE);
		be16_put(opt + 2, COOKIE_OPT_LEN - 4);
		memcpy(opt + 4, q->msg + q->cookie_at, 8);
		memcpy(opt + 12, r->it->signer.cookie_server, 16);
	}
	int ret = dns_msg_rr_header(m, &root, DNS_TYPE_OPT, up->udp_payload, ttl, (uint16_t)olen);
	if (ret == 0 && olen)
		ret = dns_msg_put(m, opt, olen);
	if (ret == 0)
		dns_msg_count_add(m, DNS_SEC_AR, 1);
	return ret;
}

/* The reply (RFC 2136 3.8), signed when the request was. Returns its length or 0. */
static size_t reply_build(const srv_update_t *up, upd_req_t *r, uint8_t *buf, size_t cap)
{
	const srv_query_t *q = &r->q;
	size_t reserve = srv_signer_reserve(&r->it->signer);
	dns_msg_t m;
	dns_msg_init(&m, buf, cap > reserve ? cap - reserve : 0, NULL, 0);
	uint16_t flags = (uint16_t)(DNS_FLAG_QR | (DNS_OPCODE_UPDATE << 11) | (r->rcode & 0xf));
	if (dns_msg_header(&m, q->id, flags) != 0)
		return 0;
	/* the zone section as sent, when it was one readable zone */
	if (q->has_question && q->qdcount == 1) {
		dns_msg_mark_t mk = dns_msg_mark(&m);
		if (dns_msg_question(&m, q->msg + DNS_HEADER_LEN, q->question_len) != 0)
			dns_msg_rollback(&m, mk);
	}
	if (q->has_opt && reply_opt(up, r, &m) != 0)
		return 0;
	size_t n = m.pos;
	if (srv_signer_sign(&r->it->signer, buf, &n, cap, time(NULL)) != 0)
		return 0;
	return n;
}

static void count(srv_update_t *up, const upd_req_t *r)
{
	srv_zone_upd_stats_t *st = r->stats;
	if (st == NULL) {
		up->early += r->rcode != DNS_RCODE_NOTAUTH;
		up->not_served += r->rcode == DNS_RCODE_NOTAUTH;
		return;
	}
	bool changed = r->change && (zone_changeset_removed_count(r->change) ||
	                             zone_changeset_added_count(r->change));
	if (r->rcode != DNS_RCODE_NOERROR) {
		st->refused++;
		if (r->rcode < SD_ARRAY_LEN(st->refused_by))
			st->refused_by[r->rcode]++;
	} else if (changed) {
		st->applied++;
	} else {
		st->unchanged++;
	}
}

/* The request's event line: update-applied (a new serial), update-unchanged (NOERROR, no
 * change) at info, update-failed (SERVFAIL: the commit failed) and update-refused (any
 * other RCODE) at notice. */
static void log_request(const upd_req_t *r, const srv_audit_rec_t *rec)
{
	char zone[DNAME_MAX * 4 + 1] = "", key[DNAME_MAX * 4 + 1], peer[SRV_ADDR_STRLEN] = "-";
	char rc[DNS_RCODE_NAME_LEN], keyf[sizeof(key) + 8] = "";
	if (rec->zone)
		dname_to_str_nodot(rec->zone, zone, sizeof(zone));
	if (rec->client)
		srv_addr_str(rec->client, peer, sizeof(peer));
	if (rec->key)
		snprintf(keyf, sizeof(keyf), " key=%s",
		         dname_to_str_nodot(rec->key, key, sizeof(key)));
	if (r->rcode != DNS_RCODE_NOERROR) {
		log_notice("event=update-%s zone=%s peer=%s%s rcode=%s reason=%s",
		           r->rcode == DNS_RCODE_SERVFAIL ? "failed" : "refused", LOG_Q(zone), peer,
		           keyf, dns_rcode_name(r->rcode, rc), LOG_Q(r->reason));
		return;
	}
	if (!rec->changed) {
		log_info("event=update-unchanged zone=%s serial=%u peer=%s%s", LOG_Q(zone),
		         r->serial_to, peer, keyf);
		return;
	}
	log_info("event=update-applied zone=%s serial=%u from=%u peer=%s%s removed=%zu added=%zu",
	         LOG_Q(zone), r->serial_to, r->serial_from, peer, keyf,
	         zone_changeset_removed_count(r->change), zone_changeset_added_count(r->change));
}

/* Audit, count, log, reply, and back to the worker. */
static void finish(srv_update_t *up, upd_req_t *r)
{
	srv_handoff_item_t *it = r->it;
	srv_audit_rec_t rec = {
	    .zone = r->zone_named ? r->apex : NULL,
	    .client = it->peer_len ? (const struct sockaddr *)&it->peer : NULL,
	    .key = it->signer.active ? it->signer.key.name : NULL,
	    .tcp = it->tcp,
	    .rcode = r->rcode,
	    .changed = r->change && (zone_changeset_removed_count(r->change) ||
	                             zone_changeset_added_count(r->change)),
	    .reason = r->reason,
	    .has_serials = r->has_serials,
	    .serial_from = r->serial_from,
	    .serial_to = r->serial_to,
	    .change = r->rcode == DNS_RCODE_NOERROR ? r->change : NULL,
	};
	clock_gettime(CLOCK_REALTIME, &rec.when);
	if (r->q.len >= DNS_HEADER_LEN) {
		srv_audit_write(up->audit, &rec);
		count(up, r);
		log_request(r, &rec);
		it->reply = malloc(REPLY_CAP);
		it->reply_len = it->reply ? reply_build(up, r, it->reply, REPLY_CAP) : 0;
	}
	zone_changeset_free(r->change);
	r->change = NULL;
	r->it = NULL;
	srv_mailbox_push(it->home, it);
}

void srv_update_flush(srv_update_t *up)
{
	if (up->count == 0)
		return;
	up->batches++;
	up->requests += up->count;
	if (up->count > up->largest)
		up->largest = up->count;
	upd_req_t **order = calloc(up->count, sizeof(*order));
	/* a group retried one request at a time commits up to once per request */
	up->settle = calloc(up->count, sizeof(*up->settle));
	up->nsettle = 0;
	for (size_t i = 0; i < up->count; i++)
		examine(&up->reqs[i]);
	/* group by zone in arrival order: one transaction per zone (per UPD_GROUP_BYTES) */
	bool *taken = calloc(up->count, sizeof(*taken));
	for (size_t i = 0; order && taken && up->settle && i < up->count; i++) {
		if (taken[i] || up->reqs[i].decided)
			continue;
		upd_group_t g = {.reqs = order};
		size_t bytes = 0;
		for (size_t k = i; k < up->count && bytes < UPD_GROUP_BYTES; k++) {
			if (taken[k] || up->reqs[k].decided ||
			    !dname_equal(up->reqs[k].apex, up->reqs[i].apex))
				continue;
			taken[k] = true;
			g.reqs[g.count++] = &up->reqs[k];
			bytes += up->reqs[k].it->len;
		}
		group_run(up, &g);
	}
	if (!order || !taken || !up->settle) /* out of memory: SERVFAIL, nothing was applied */
		for (size_t i = 0; i < up->count; i++)
			if (!up->reqs[i].decided)
				decide(&up->reqs[i], DNS_RCODE_SERVFAIL, "out of memory");
	free(order);
	free(taken);
	for (size_t i = 0; i < up->count; i++)
		finish(up, &up->reqs[i]);
	up->count = 0;
	/* the replies are on their way: now NOTIFY, snapshot and journal upkeep, once per zone
	 * (a retried group may have committed more than once) */
	for (size_t i = 0; i < up->nsettle; i++) {
		bool dup = false;
		for (size_t k = 0; k < i && !dup; k++)
			dup = dname_equal(up->settle[k], up->settle[i]);
		if (!dup)
			srv_zonedb_committed(up->zones, up->settle[i]);
	}
	free(up->settle);
	up->settle = NULL;
	up->nsettle = 0;
}

void srv_update_status(const srv_update_t *up, sd_strbuf_t *out)
{
	uint64_t lines = 0, failed = 0;
	srv_audit_counts(up->audit, &lines, &failed);
	sd_strbuf_printf(out,
	                 "updates: batches %llu, requests %llu, largest batch %llu, not served "
	                 "%llu, malformed %llu, commit failures %llu, retried alone %llu, audit "
	                 "lines %llu (failed %llu)\n",
	                 (unsigned long long)up->batches, (unsigned long long)up->requests,
	                 (unsigned long long)up->largest, (unsigned long long)up->not_served,
	                 (unsigned long long)up->early, (unsigned long long)up->commit_failures,
	                 (unsigned long long)up->retried, (unsigned long long)lines,
	                 (unsigned long long)failed);
}
