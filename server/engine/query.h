/* query.h — parsing a request message, bounds-checked, without allocation.
 *
 * The parser never fails on a message that has a 12-byte header: it records what it could
 * read (question, OPT and its ECS option, the TSIG RR's place, an IXFR query's serial) and
 * whether anything was malformed, and the answer path decides the response (FORMERR carries
 * the question when it parsed and an OPT when the query's parsed). Sections are walked with
 * the one message reader, dns/rr.h.
 *
 *   [header][question (uncompressed name, type, class)][answer RRs][authority RRs][additional]
 *                                                        IXFR: client SOA ┘  OPT (one, root) ┘
 *                                                                            TSIG (last) ┘
 * Pure; thread-safe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "contrib/base/compiler.h"
#include "dns/name.h"
#include "dns/proto.h"
#include "dns/rr.h"

/* ECS FAMILY values (RFC 7871 6, the IANA address family numbers). */
enum {
	SRV_ECS_IPV4 = 1,
	SRV_ECS_IPV6 = 2,
};

typedef struct srv_query {
	/* The message (not copied: it must outlive the parse result) and who sent it; the
	 * parser sets msg and len, the caller client and tcp. */
	const uint8_t *msg;
	size_t len;
	const struct sockaddr *client; /* may be NULL in tests */
	bool tcp;

	uint16_t id;
	uint16_t flags; /* the raw flags word */
	uint8_t opcode;
	uint16_t qdcount, ancount, nscount, arcount;

	/* The question, when QDCOUNT >= 1 and the first question parsed. */
	bool has_question;
	size_t question_len; /* bytes of the question in the request (name + 4) */
	uint8_t qname_len;
	uint16_t qtype, qclass;

	/* The first OPT RR (RFC 6891 6.1.2), when it parsed. */
	bool has_opt;
	uint16_t opt_payload; /* requestor's UDP payload size, as sent */
	uint8_t opt_version;
	bool opt_do;

	/* The OPT's first EDNS Client Subnet option (RFC 7871 6), when it is well formed; a
	 * malformed one makes the message malformed (RFC 7871 6: a server "SHOULD
	 * return FORMERR"). Later ECS options in the same OPT are ignored. The address holds
	 * the source prefix's bits, the rest zero; a non-zero scope is malformed. */
	bool has_ecs;
	uint16_t ecs_family; /* SRV_ECS_IPV4 or SRV_ECS_IPV6 */
	uint8_t ecs_source;  /* SOURCE PREFIX-LENGTH */
	uint8_t ecs_scope;   /* SCOPE PREFIX-LENGTH */

	/* The OPT's first COOKIE option (RFC 7873 4), when well formed: the client cookie is at
	 * msg + cookie_at (8 bytes), a server cookie follows when cookie_len > 8 (8 to 32
	 * bytes). A malformed one (length not 8 nor 16..40) makes the message malformed: FORMERR
	 * (RFC 7873 5.2.2). Later COOKIE options are ignored. */
	bool has_cookie;
	uint8_t cookie_len;
	uint16_t cookie_at;
	/* Set after the parse by the front door (server/cookie.h: srv_cookie_process), read by
	 * the engine: the reply's OPT carries the client cookie and cookie_server
	 * (cookie_reply), or the answer is BADCOOKIE (cookie_badcookie); cookie_valid: a valid
	 * server cookie was presented (the client is exempt from rate limiting). */
	bool cookie_valid;
	bool cookie_reply;
	bool cookie_badcookie;
	uint8_t cookie_server[16];

	/* A TSIG RR in the additional section (verified by the front door, server/front.h,
	 * RFC 8945). tsig_at_end: it is the only TSIG and the message's last RR, ending the
	 * message (RFC 8945 5.1), and tsig is where it lies; otherwise the request is malformed.
	 * Trailing bytes after it leave tsig_at_end set (and malformed): verification then fails
	 * on them. */
	bool has_tsig;
	bool tsig_at_end;

	/* An IXFR query's client serial: the SOA in its authority section (RFC 1995 3). */
	bool has_ixfr_serial;

	/* Anything that makes the message a FORMERR: QDCOUNT other than 1 (except 0 in a QUERY
	 * with a COOKIE option: a request for a server cookie, RFC 7873 5.4), a malformed or
	 * truncated section, a second
	 * OPT, an OPT not owned by the root, a malformed ECS option, additional records other
	 * than OPT/TSIG, a TSIG that is not the last record, trailing bytes, a malformed COOKIE. ANCOUNT/NSCOUNT != 0 are not flagged here (the opcode
	 * decides). */
	bool malformed;

	/* Set only with their flag above (has_ecs, has_tsig, has_ixfr_serial): the parser does
	 * not clear them. */
	uint8_t ecs_addr[16]; /* the ECS address */
	dns_rr_t tsig;        /* where the TSIG lies */
	uint32_t ixfr_serial; /* the IXFR query's client serial */

	/* The question name, lowercased (RFC 4343: the lookup folds case; the reply echoes the
	 * question from msg, case kept); has_question. Last: the parser clears the fields before
	 * it, not these 255 bytes. */
	uint8_t qname[DNAME_MAX];
	uint8_t qname_offs[DNAME_LABELS_MAX]; /* where its labels start (dname_label_offsets) */
	uint8_t qname_labels;                 /* how many there are */
	uint32_t qname_hash;                  /* dname_hash() of qname */
} srv_query_t;

/* Parse req[0..len). Returns SD_EPARSE when there is no 12-byte header (drop), 0 otherwise
 * with q filled in (client and tcp cleared for the caller to set). */
int srv_query_parse(const uint8_t *req, size_t len, srv_query_t *q) SD_NONNULL(1, 3) SD_WUR;
