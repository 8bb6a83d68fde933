/* query.h — parsing a request message by hand, bounds-checked, without allocation.
 *
 * The parser never fails on a message that has a 12-byte header: it records what it could
 * read (question, OPT) and whether anything was malformed, and the answer path decides the
 * response (FORMERR carries the question when it parsed and an OPT when the query's parsed).
 *
 *   [header][question (uncompressed name, type, class)][answer RRs][authority RRs][additional]
 *                                                                     └ OPT (one, root owner)
 *                                                                     └ TSIG (ignored for now)
 * Pure; thread-safe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "dns/name.h"
#include "dns/proto.h"

typedef struct srv_query {
	uint16_t id;
	uint16_t flags; /* the raw flags word */
	uint8_t opcode;
	uint16_t qdcount, ancount, nscount, arcount;

	/* The question, when QDCOUNT >= 1 and the first question parsed. */
	bool has_question;
	size_t question_len;      /* bytes of the question in the request (name + 4) */
	uint8_t qname[DNAME_MAX]; /* as sent (case kept) */
	uint8_t qname_len;
	uint16_t qtype, qclass;

	/* The first OPT RR (RFC 6891 6.1.2), when it parsed. */
	bool has_opt;
	uint16_t opt_payload; /* requestor's UDP payload size, as sent */
	uint8_t opt_version;
	bool opt_do;

	/* A TSIG RR in the additional section (verified by server/xfr/serve.c, RFC 8945). */
	bool has_tsig;

	/* Anything that makes the message a FORMERR: a malformed or truncated section, a second
	 * OPT, an OPT not owned by the root, additional records other than OPT/TSIG, trailing
	 * bytes. ANCOUNT/NSCOUNT != 0 are not flagged here (the opcode decides). */
	bool malformed;
} srv_query_t;

/* Parse req[0..len). Returns SD_EPARSE when there is no 12-byte header (drop), 0 otherwise
 * with q filled in. */
int srv_query_parse(const uint8_t *req, size_t len, srv_query_t *q) SD_NONNULL(1, 3) SD_WUR;
