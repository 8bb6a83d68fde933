/* rrl.c — response rate limiting; see rrl.h. */
#include "server/rrl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "contrib/base/addr.h"
#include "contrib/base/bytes.h"
#include "contrib/base/log.h"
#include "contrib/base/siphash.h"
#include "contrib/base/stat.h"
#include "dns/name.h"
#include "dns/proto.h"
#include "dns/rr.h"

#define PROBE 4    /* slots a key may live in: its own and the next three */
#define MILLI 1000 /* tokens are counted in thousandths of a response */

typedef struct bucket {
	uint64_t key;     /* 0: empty */
	uint64_t at_ms;   /* last refill */
	int64_t tokens;   /* thousandths of a response, at most rate * MILLI */
	uint32_t limited; /* responses this bucket limited: every slip-th one slips */
} bucket_t;

struct srv_rrl {
	const srv_rrl_conf_t *conf;
	uint8_t hkey[SIPHASH_KEY_LEN];
	size_t mask; /* table size - 1 */
	bucket_t *table;
	uint64_t logged_ms; /* the last "limiting" line */
	srv_rrl_stats_t stats;
};

int srv_rrl_new(const srv_rrl_conf_t *conf, srv_rrl_t **out)
{
	srv_rrl_t *r = calloc(1, sizeof(*r));
	size_t n = SRV_RRL_TABLE_MIN;
	while (n < conf->table_size && n < SRV_RRL_TABLE_MAX)
		n <<= 1;
	*out = NULL;
	if (r == NULL || (r->table = calloc(n, sizeof(*r->table))) == NULL) {
		free(r);
		return -ENOMEM;
	}
	/* A flood that cannot predict the hash cannot crowd one neighbourhood of slots. */
	if (getrandom(r->hkey, sizeof(r->hkey), 0) != (ssize_t)sizeof(r->hkey)) {
		srv_rrl_free(r);
		return -EIO;
	}
	r->conf = conf;
	r->mask = n - 1;
	*out = r;
	return 0;
}

void srv_rrl_free(srv_rrl_t *r)
{
	if (r != NULL)
		free(r->table);
	free(r);
}

const srv_rrl_stats_t *srv_rrl_stats(const srv_rrl_t *r)
{
	return &r->stats;
}

void srv_rrl_exempt(srv_rrl_t *r)
{
	sd_stat_inc(&r->stats.exempt);
}

void srv_rrl_classify(const srv_query_t *q, const srv_answer_info_t *info, uint64_t seq_before,
                      const uint8_t *reply, size_t len, srv_rrl_resp_t *out)
{
	bool fresh = info->seq != seq_before; /* the engine answered this request */
	unsigned rcode = fresh ? info->rcode : len >= DNS_HEADER_LEN ? (reply[3] & 0xfu) : 0;
	const uint8_t *qname = q->has_question ? q->qname : NULL;
	*out = (srv_rrl_resp_t){.cls = SRV_RRL_ANSWER, .name = qname, .qtype = q->qtype};
	if (rcode == DNS_RCODE_NXDOMAIN) {
		out->cls = SRV_RRL_NXDOMAIN;
		out->name = fresh && info->zone ? info->zone : qname;
		out->qtype = 0;
	} else if (rcode != DNS_RCODE_NOERROR || qname == NULL) {
		*out = (srv_rrl_resp_t){.cls = SRV_RRL_ERROR};
	} else if (fresh && info->cut != NULL && info->ancount == 0) {
		out->cls = SRV_RRL_REFERRAL;
		out->name = info->cut;
		out->qtype = 0;
	}
}

/* The client's network: family byte and the address with the host bits cleared (IPv4-mapped
 * IPv6 folded to IPv4). Returns the prefix length, or -1 for an unknown family. */
static int client_net(const srv_rrl_conf_t *c, const struct sockaddr *sa, uint8_t *fam,
                      uint8_t addr[16])
{
	const uint8_t *b;
	size_t len = sd_addr_bytes(sa, &b);
	if (len == 0)
		return -1;
	memset(addr, 0, 16);
	memcpy(addr, b, len);
	*fam = len == 4 ? 4 : 6;
	unsigned bits = len == 4 ? c->ipv4_prefix : c->ipv6_prefix;
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = bits > i * 8 ? bits - i * 8 : 0;
		addr[i] &= keep >= 8 ? 0xff : (uint8_t)(0xff00u >> keep);
	}
	return (int)bits;
}

/* The bucket's key: SipHash of class, network, qtype and the lowercased name; never 0. */
static uint64_t bucket_key(const srv_rrl_t *r, uint8_t fam, const uint8_t *addr,
                           const srv_rrl_resp_t *resp)
{
	uint8_t buf[1 + 1 + 16 + 2 + DNAME_MAX];
	size_t n = 0;
	buf[n++] = (uint8_t)resp->cls;
	buf[n++] = fam;
	memcpy(buf + n, addr, 16);
	n += 16;
	n = (size_t)(be16_put(buf + n, resp->qtype) - buf);
	size_t nl = resp->name ? dname_len_bounded(resp->name, DNAME_MAX) : 0;
	for (size_t i = 0; i < nl; i++) { /* label lengths (< 64) are never letters */
		uint8_t c = resp->name[i];
		buf[n++] = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
	}
	uint64_t k = sd_siphash(r->hkey, buf, n);
	return k ? k : 1;
}

/* The bucket for key: found among its PROBE slots, or the empty or least recently used one
 * recycled, full. */
static bucket_t *bucket_get(srv_rrl_t *r, uint64_t key, uint64_t now_ms)
{
	bucket_t *victim = NULL;
	for (size_t i = 0; i < PROBE; i++) {
		bucket_t *b = &r->table[(key + i) & r->mask];
		if (b->key == key)
			return b;
		if (victim == NULL ||
		    (victim->key != 0 && (b->key == 0 || b->at_ms < victim->at_ms)))
			victim = b;
	}
	*victim = (bucket_t){.key = key, .at_ms = now_ms, .tokens = (int64_t)r->conf->rate * MILLI};
	return victim;
}

static const char *class_name(srv_rrl_class_t c)
{
	static const char *const names[] = {"", "answer", "NXDOMAIN", "referral", "error"};
	return c <= SRV_RRL_ERROR ? names[c] : "";
}

/* One line at most every SRV_RRL_LOG_EVERY_MS per worker: a flood is counted, not logged. */
static void log_limiting(srv_rrl_t *r, uint8_t fam, const uint8_t *addr, int bits,
                         const srv_rrl_resp_t *resp, uint64_t now_ms)
{
	if (r->logged_ms != 0 && now_ms - r->logged_ms < SRV_RRL_LOG_EVERY_MS)
		return;
	r->logged_ms = now_ms ? now_ms : 1;
	char text[INET6_ADDRSTRLEN];
	if (inet_ntop(fam == 4 ? AF_INET : AF_INET6, addr, text, sizeof(text)) == NULL)
		text[0] = '\0';
	log_info("event=rrl-limiting class=%s network=%s/%d rate=%u mode=%s limited=%llu",
	         class_name(resp->cls), text, bits, r->conf->rate,
	         r->conf->log_only ? "log-only" : "limit",
	         (unsigned long long)sd_stat_get(&r->stats.limited));
}

/* Over the rate: slip, drop, or (log-only) pass. */
static srv_rrl_action_t limit(srv_rrl_t *r, bucket_t *b)
{
	sd_stat_inc(&r->stats.limited);
	if (r->conf->log_only)
		return SRV_RRL_PASS;
	b->limited++;
	if (r->conf->slip != 0 && b->limited % r->conf->slip == 0) {
		sd_stat_inc(&r->stats.slipped);
		return SRV_RRL_SLIP;
	}
	sd_stat_inc(&r->stats.dropped);
	return SRV_RRL_DROP;
}

srv_rrl_action_t srv_rrl_check(srv_rrl_t *r, const struct sockaddr *client,
                               const srv_rrl_resp_t *resp, uint64_t now_ms)
{
	const srv_rrl_conf_t *c = r->conf;
	uint8_t fam, addr[16];
	int bits = client ? client_net(c, client, &fam, addr) : -1;
	if (bits < 0)
		return SRV_RRL_PASS;
	if (c->nwhitelist && xfr_acl_allows(c->whitelist, c->nwhitelist, client, NULL)) {
		sd_stat_inc(&r->stats.exempt);
		return SRV_RRL_PASS;
	}
	bucket_t *b = bucket_get(r, bucket_key(r, fam, addr, resp), now_ms);
	int64_t cap = (int64_t)c->rate * MILLI;
	if (now_ms > b->at_ms) {
		uint64_t dt = now_ms - b->at_ms;
		/* a bucket idle for a second or more is full (and dt * rate cannot overflow) */
		b->tokens = dt >= 1000 ? cap : b->tokens + (int64_t)dt * c->rate;
		b->tokens = b->tokens > cap ? cap : b->tokens;
		b->at_ms = now_ms;
	}
	if (b->tokens >= MILLI) {
		b->tokens -= MILLI;
		return SRV_RRL_PASS;
	}
	srv_rrl_action_t a = limit(r, b);
	log_limiting(r, fam, addr, bits, resp, now_ms);
	return a;
}

/* The reply's OPT RR (RFC 6891 6.1.1: at most one, in the additional section): its offset
 * and length, or 0 when it has none (or does not parse). */
static size_t reply_opt(const uint8_t *reply, size_t len, size_t *at)
{
	dns_rr_iter_t it;
	dns_rr_t rr;
	if (dns_rr_iter_init(&it, reply, len) != 0)
		return 0;
	while (dns_rr_iter_next(&it, &rr) == 0) {
		if (rr.section == DNS_SEC_AR && rr.type == DNS_TYPE_OPT) {
			*at = rr.owner;
			return dns_rr_end(&rr) - rr.owner;
		}
	}
	return 0;
}

size_t srv_rrl_slip(const srv_query_t *q, uint8_t *reply, size_t len)
{
	size_t n = DNS_HEADER_LEN + (q->has_question ? q->question_len : 0);
	size_t at = 0, olen = reply_opt(reply, len, &at);
	if (len < n)
		return len; /* not the engine's shape: leave it */
	reply[2] |= DNS_FLAG_TC >> 8;
	memset(reply + 6, 0, 6);    /* ANCOUNT, NSCOUNT, ARCOUNT */
	if (olen != 0 && at >= n) { /* RFC 6891 7: an OPT in the request gets one in the reply */
		memmove(reply + n, reply + at, olen);
		be16_put(reply + 10, 1);
		n += olen;
	}
	return n;
}
