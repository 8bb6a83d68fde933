/* rrl.h — response rate limiting (RRL) in the spirit of BIND's and Knot's: a spoofed-source
 * flood cannot turn steerdns into an amplifier, and real resolvers keep an answer path.
 *
 * Each UDP thread (one per worker and listen address, server/worker.h) owns one table of
 * token buckets, allocated at start (table-size entries,
 * rounded up to a power of two): the query path takes no lock and allocates nothing. A UDP
 * response is charged to the bucket of
 *
 *   (client network: IPv4 /ipv4-prefix, IPv6 /ipv6-prefix; IPv4-mapped IPv6 as IPv4)
 *   x (response class: ANSWER by qname + qtype (positive or NODATA), NXDOMAIN by zone,
 *      REFERRAL by delegation point, ERROR by network alone)
 *
 * keyed by SipHash-2-4 with a per-table random key (a flood cannot aim at one slot); a slot
 * is found among 4 neighbours and, when none matches, the least recently used one is
 * recycled (a new bucket starts full). A bucket holds `rate` responses and refills at `rate`
 * per second (token bucket with a one-second burst, millisecond clock). An empty bucket
 * limits the response: every slip-th limited response of that bucket goes out truncated
 * (TC=1, the question and the reply's OPT with its COOKIE: a real client retries over TCP,
 * which proves its address, or with the server cookie, which exempts it), the others are
 * dropped; slip 0 drops all, slip 1 truncates all. log-only counts and logs but
 * sends every response. Whitelisted prefixes, TCP and clients presenting a valid server
 * cookie (server/cookie.h) are never limited.
 *
 * Each UDP thread limits on its own: the kernel's SO_REUSEPORT hash sends one source
 * (address + port) asking one listen address to one worker's socket, so one client socket
 * sees `rate`; a network whose queries come from many ports may see up to `rate` x workers
 * per listen address it asks.
 *
 * One UDP thread owns a table (srv_rrl_check); any thread may read its counters.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "contrib/base/compiler.h"
#include "server/engine/answer.h"
#include "server/engine/query.h"
#include "server/xfr/acl.h"

#define SRV_RRL_SLIP_MAX     10
#define SRV_RRL_TABLE_MIN    64
#define SRV_RRL_TABLE_MAX    (1u << 24)
#define SRV_RRL_TABLE_DEF    65536
#define SRV_RRL_LOG_EVERY_MS 1000 /* at most one "limiting" line per worker this often */

/* server.rrl (config.h). rate 0: off (the default). */
typedef struct srv_rrl_conf {
	uint32_t rate;             /* responses per second per bucket */
	uint32_t slip;             /* 0..SRV_RRL_SLIP_MAX, default 2 */
	uint8_t ipv4_prefix;       /* 8..32, default 24 */
	uint8_t ipv6_prefix;       /* 16..128, default 56 */
	bool log_only;             /* count and log, limit nothing */
	uint32_t table_size;       /* buckets per worker, default SRV_RRL_TABLE_DEF */
	xfr_acl_rule_t *whitelist; /* address-only rules, owned by the configuration */
	size_t nwhitelist;
} srv_rrl_conf_t;

typedef enum {
	SRV_RRL_ANSWER = 1,
	SRV_RRL_NXDOMAIN,
	SRV_RRL_REFERRAL,
	SRV_RRL_ERROR,
} srv_rrl_class_t;

/* The response being charged. */
typedef struct srv_rrl_resp {
	srv_rrl_class_t cls;
	const uint8_t *name; /* wire name (any case): ANSWER the qname, NXDOMAIN the zone,
	                      * REFERRAL the cut; NULL for ERROR (or unknown) */
	uint16_t qtype;      /* ANSWER only */
} srv_rrl_resp_t;

typedef enum {
	SRV_RRL_PASS = 0, /* send the response */
	SRV_RRL_SLIP,     /* send it truncated (srv_rrl_slip) */
	SRV_RRL_DROP,     /* send nothing */
} srv_rrl_action_t;

/* Counters (relaxed atomics, contrib/base/stat.h). */
typedef struct srv_rrl_stats {
	uint64_t limited; /* responses over the rate (log-only: that would have been) */
	uint64_t slipped; /* of those, sent truncated */
	uint64_t dropped; /* of those, not sent */
	uint64_t exempt;  /* not charged: whitelisted or a valid server cookie */
} srv_rrl_stats_t;

typedef struct srv_rrl srv_rrl_t;

/* A table for conf (which must outlive it; rate must be > 0). Returns 0 or -ENOMEM. */
int srv_rrl_new(const srv_rrl_conf_t *conf, srv_rrl_t **out) SD_NONNULL(1, 2) SD_WUR;
void srv_rrl_free(srv_rrl_t *r);

/* The class of a response: the engine's info when it answered this request (info->seq
 * differs from seq_before), else from the reply's header rcode. */
void srv_rrl_classify(const srv_query_t *q, const srv_answer_info_t *info, uint64_t seq_before,
                      const uint8_t *reply, size_t len, srv_rrl_resp_t *out) SD_NONNULL(1, 2, 4, 6);

/* Charge one response to client (NULL: PASS) at now_ms (a monotonic clock). No allocation,
 * no lock; owning worker only. */
srv_rrl_action_t srv_rrl_check(srv_rrl_t *r, const struct sockaddr *client,
                               const srv_rrl_resp_t *resp, uint64_t now_ms) SD_NONNULL(1, 3);

/* Count a response exempt from limiting (a valid server cookie). */
void srv_rrl_exempt(srv_rrl_t *r) SD_NONNULL(1);

/* Cut reply[0..len) to its header, question and OPT RR (the slipped form): TC set, ANCOUNT
 * and NSCOUNT 0, the reply's OPT (if any: RFC 6891 7, a request with an OPT gets one back;
 * it carries the payload size, the extended rcode, ECS and the COOKIE option, RFC 7873 5.2)
 * moved right after the question and ARCOUNT 1, or 0 without one. Any TSIG is cut off: the
 * caller signs the slipped form again (RFC 8945 5.3). Returns the new length (len unchanged
 * when the reply is shorter than header + question). */
size_t srv_rrl_slip(const srv_query_t *q, uint8_t *reply, size_t len) SD_NONNULL(1, 2);

/* The table's counters. Any thread (torn reads tolerated). */
const srv_rrl_stats_t *srv_rrl_stats(const srv_rrl_t *r) SD_NONNULL(1);
