/* load.c — RFC 1035 master files into a zone version, with ldns doing the record syntax.
 *
 * Each file is read into memory. A plain one-line record (zone/scan.h: most lines of a large
 * zone) is read by the scanner; every other line — directives, comments, multi-line records,
 * escapes, rare types — is parsed through fmemopen() with ldns_rr_new_frm_fp_l, one record
 * or directive per call, with the same origin, default TTL and previous owner, so results
 * are ldns's except where noted below (tests/unit/zone/test_scan.c and
 * tests/fuzz/fuzz_zone_scan.c compare the two readers). Because the loader sees the bytes ldns
 * consumed, it counts lines itself (ldns's counter points past multi-line records and past the
 * comments it skipped) and reads directive arguments itself where ldns is lax or silent:
 *   - the line of a record is the line of its first significant character;
 *   - $INCLUDE file [origin]: handled here (ldns only reports it), relative to the including
 *     file's directory, nested at most LOAD_INCLUDE_DEPTH deep; origin and TTL state are the
 *     including file's at that point and do not leak back (RFC 1035 5.1);
 *   - $ORIGIN with a relative name is relative to the current origin (RFC 1035 5.1; ldns
 *     would take it as absolute);
 *   - TTLs (in records and $TTL) are checked strictly: decimal or BIND units, at most 2^31-1
 *     (RFC 2181 8), where ldns would accept "1x" or wrap 99999999999;
 *   - the default TTL is 3600 until $TTL or a record gives one (RFC 2308 4; before $TTL the
 *     last explicit TTL applies, as in RFC 1035 5.1), and a default of 0 is 0 (ldns gives
 *     3600 then);
 *   - an owner name longer than 255 octets is refused (ldns joins relative names unchecked).
 * Every error is logged as "path:line: message" and parsing goes on to report more; nothing
 * is built when any error was seen.
 *
 * Every file read is noted with its identity at open (fstat of the descriptor read) and the
 * SHA-256 of the bytes read, so that a reload can tell whether the main file or any included
 * file changed without reading the files before the load as well (zone_load_file()).
 */
#include "zone/builder.h"
#include "zone/load.h"
#include "zone/overlay.h"
#include "zone/scan.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "contrib/base/mem.h"
#include "contrib/base/siphash.h"
#include "dns/proto.h"

#include <ctype.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOAD_INCLUDE_DEPTH 8
#define LOAD_INCLUDE_MAX   1024 /* $INCLUDEs per zone: fan-out is bounded, not only depth */
#define LOAD_DEFAULT_TTL   3600
#define LOAD_TTL_MAX       0x7FFFFFFFu
#define LOAD_CANCEL_EVERY  256 /* records between two looks at the cancel flag */

/* This thread's cancel flag (zone_load_set_cancel), or NULL. */
static __thread const atomic_bool *load_cancel;
/* Plain lines go to the scanner (zone_load_set_scanner). */
static __thread bool load_fast = true;

typedef struct load_ctx {
	zone_builder_t *b;
	ldns_buffer *wire;
	unsigned errors;
	unsigned includes;      /* $INCLUDEs followed so far */
	unsigned records;       /* records parsed so far, for the cancel check */
	bool cancelled;         /* the thread's cancel flag was seen set: nothing is built */
	zone_scan_rr_t scan;    /* the scanner's record (zone/scan.h) */
	zone_load_info_t *info; /* the files read */
	/* the files being read, outermost first: a file met again is an $INCLUDE loop */
	struct {
		dev_t dev;
		ino_t ino;
	} open[LOAD_INCLUDE_DEPTH + 1];
} load_ctx_t;

/* Parser state of one file; an $INCLUDE starts a copy (RFC 1035 5.1). */
typedef struct load_state {
	ldns_rdf *origin;
	uint32_t ttl;
	bool ttl_set; /* $TTL seen: records no longer change the default */
} load_state_t;

/* A file read into memory, and the text of the piece ldns just consumed. */
typedef struct text {
	const char *path;
	char *data;
	size_t len;
} text_t;

/* The key of the files' content hash (load.h: change detection, not a secret). */
static const uint8_t id_key[SIPHASH_KEY_LEN] = "steerdns-file-id";

/* Read fd to its end into a NUL-terminated buffer (*data, when data is not NULL; otherwise
 * the bytes are only hashed), hashing what was read (load.h). hint is the expected size.
 * Returns 0 or a negated errno. */
static int read_fd(int fd, size_t hint, char **data, size_t *len, uint64_t *hash)
{
	sd_siphash_t ctx;
	uint8_t chunk[16384];
	size_t cap = data ? hint + 1 : sizeof(chunk), n = 0;
	char *buf = data ? malloc(cap + 1) : NULL;
	int ret = data && !buf ? -ENOMEM : 0;
	if (buf)
		sd_mem_huge(buf, cap + 1); /* read in full next (contrib/base/mem.h) */
	sd_siphash_init(&ctx, id_key);
	while (ret == 0) {
		if (data && n == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			buf = nb;
			sd_mem_huge(buf + cap, cap + 1);
			cap *= 2;
		}
		uint8_t *dst = data ? (uint8_t *)buf + n : chunk;
		ssize_t r = read(fd, dst, data ? cap - n : sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			ret = sd_errno();
		if (r <= 0)
			break;
		sd_siphash_update(&ctx, dst, (size_t)r);
		n += data ? (size_t)r : 0;
	}
	*hash = sd_siphash_final(&ctx);
	if (ret == 0 && data) {
		buf[n] = '\0';
		*data = buf;
		*len = n;
		buf = NULL;
	}
	free(buf);
	return ret;
}

/* Open path for reading without blocking on a FIFO, and stat what was opened: only regular
 * files are read (a FIFO or device would block or never end). Returns the fd or a negated
 * errno. */
static int open_regular(const char *path, struct stat *sb)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return sd_errno();
	int ret = fstat(fd, sb) == 0 ? 0 : sd_errno();
	if (ret == 0 && !S_ISREG(sb->st_mode))
		ret = -EINVAL;
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

static void id_of(const struct stat *sb, zone_file_id_t *id)
{
	memset(id, 0, sizeof(*id));
	id->dev = sb->st_dev;
	id->ino = sb->st_ino;
	id->size = sb->st_size;
	id->mtime = sb->st_mtim;
}

int zone_file_id_read(const char *path, zone_file_id_t *id)
{
	struct stat sb;
	int fd = open_regular(path, &sb);
	if (fd < 0)
		return fd;
	id_of(&sb, id);
	int ret = read_fd(fd, 0, NULL, NULL, &id->hash);
	close(fd);
	return ret;
}

bool zone_file_id_equal(const zone_file_id_t *a, const zone_file_id_t *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->hash == b->hash;
}

void zone_load_info_free(zone_load_info_t *info)
{
	for (size_t i = 0; i < info->count; i++)
		free(info->files[i].path);
	free(info->files);
	info->files = NULL;
	info->count = 0;
}

/* Note a file read (unless the same path with the same id is listed already). */
static int info_add(zone_load_info_t *info, const char *path, const zone_file_id_t *id)
{
	for (size_t i = 0; i < info->count; i++)
		if (strcmp(info->files[i].path, path) == 0 &&
		    zone_file_id_equal(&info->files[i].id, id))
			return 0;
	zone_load_source_t *f = realloc(info->files, (info->count + 1) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	info->files = f;
	f[info->count].path = strdup(path);
	if (!f[info->count].path)
		return -ENOMEM;
	f[info->count++].id = *id;
	return 0;
}

/* --- small text helpers over [p, end) --- */

static size_t count_newlines(const char *p, const char *end)
{
	size_t n = 0;
	for (; p < end; p++)
		n += (*p == '\n');
	return n;
}

/* First character of [p, end) that is not blank, a newline or inside a comment. */
static const char *skip_insignificant(const char *p, const char *end)
{
	while (p < end) {
		if (*p == ';') {
			while (p < end && *p != '\n')
				p++;
		} else if (isspace((unsigned char)*p)) {
			p++;
		} else {
			break;
		}
	}
	return p;
}

/* Copy the next whitespace-delimited token of the line at *p (stopping at ';' or newline,
 * honouring backslash escapes) into tok; returns its length, 0 at the end of the line. */
static size_t next_token(const char **p, const char *end, char *tok, size_t size)
{
	const char *s = *p;
	while (s < end && (*s == ' ' || *s == '\t' || *s == '(' || *s == ')'))
		s++;
	size_t n = 0;
	while (s < end && !isspace((unsigned char)*s) && *s != ';' && *s != '(' && *s != ')') {
		if (*s == '\\' && s + 1 < end && n + 1 < size)
			tok[n++] = *s++;
		if (n + 1 < size)
			tok[n++] = *s;
		s++;
	}
	tok[n] = '\0';
	*p = s;
	return n;
}

/* Strict TTL: decimal seconds or BIND units ("1h30m", "2d"), at most 2^31-1 (RFC 2181 8).
 * Returns 0 or SD_EPARSE. */
static int parse_ttl(const char *s, uint32_t *out)
{
	uint64_t total = 0;
	if (!isdigit((unsigned char)*s))
		return SD_EPARSE;
	while (*s) {
		uint64_t v = 0;
		if (!isdigit((unsigned char)*s))
			return SD_EPARSE;
		while (isdigit((unsigned char)*s)) {
			v = v * 10 + (uint64_t)(*s++ - '0');
			if (v > LOAD_TTL_MAX)
				return SD_EPARSE;
		}
		switch (tolower((unsigned char)*s)) {
		case 'w':
			v *= 604800, s++;
			break;
		case 'd':
			v *= 86400, s++;
			break;
		case 'h':
			v *= 3600, s++;
			break;
		case 'm':
			v *= 60, s++;
			break;
		case 's':
			s++;
			break;
		case '\0':
			break;
		default:
			return SD_EPARSE;
		}
		total += v;
		if (total > LOAD_TTL_MAX)
			return SD_EPARSE;
	}
	*out = (uint32_t)total;
	return 0;
}

static bool is_class(const char *t)
{
	return strcasecmp(t, "IN") == 0 || strcasecmp(t, "CH") == 0 || strcasecmp(t, "HS") == 0 ||
	       strcasecmp(t, "CS") == 0 || strncasecmp(t, "CLASS", 5) == 0;
}

SD_PRINTF(4, 5)
static void load_error(load_ctx_t *c, const text_t *t, size_t line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s:%zu: %s", t->path, line, msg);
	c->errors++;
}

/* The TTL and type fields of a record line: owner (unless the line starts blank), then TTL
 * and class in either order (RFC 1035 5.1), then the type. Empty strings when absent. */
static void record_fields(const text_t *t, const char *rec, const char *end, char ttl[64],
                          char type[64])
{
	char tok[64];
	const char *p = rec;
	ttl[0] = type[0] = '\0';
	if (!(rec > t->data && (rec[-1] == ' ' || rec[-1] == '\t')))
		next_token(&p, end, tok, sizeof(tok)); /* owner */
	for (int i = 0; i < 3 && next_token(&p, end, tok, sizeof(tok)) > 0; i++) {
		if (is_class(tok))
			continue;
		if (isdigit((unsigned char)tok[0]) && !ttl[0]) {
			snprintf(ttl, 64, "%s", tok);
			continue;
		}
		snprintf(type, 64, "%s", tok);
		break;
	}
}

/* A record ldns accepted: its TTL checked strictly (ldns wraps or truncates bad ones), or,
 * when the line gives none, the default dflt: ldns takes a default of 0 as none and gives
 * 3600, where "$TTL 0" (RFC 2308 4) or a last explicit TTL of 0 (RFC 1035 5.1) is 0. */
static void record_ttl(load_ctx_t *c, const text_t *t, size_t line, const char *rec,
                       const char *end, ldns_rr *rr, uint32_t dflt)
{
	char ttl_tok[64], type_tok[64];
	uint32_t ttl;
	record_fields(t, rec, end, ttl_tok, type_tok);
	if (!ttl_tok[0])
		ldns_rr_set_ttl(rr, dflt);
	else if (parse_ttl(ttl_tok, &ttl) < 0)
		load_error(c, t, line, "bad TTL '%s' (0 to 2147483647, RFC 2181 8)", ttl_tok);
}

/* A record ldns refused: its message, plus the likely cause where ldns is vague. */
static void record_syntax_error(load_ctx_t *c, const text_t *t, size_t line, const char *rec,
                                const char *end, ldns_status s)
{
	char ttl_tok[64], type_tok[64];
	uint32_t ttl;
	record_fields(t, rec, end, ttl_tok, type_tok);
	const char *msg = ldns_get_errorstr_by_id(s);
	if (ttl_tok[0] && parse_ttl(ttl_tok, &ttl) < 0)
		load_error(c, t, line, "%s (bad TTL '%s')", msg, ttl_tok);
	else if (type_tok[0] && ldns_get_rr_type_by_name(type_tok) == 0)
		load_error(c, t, line, "%s (unknown RR type '%s')", msg, type_tok);
	else
		load_error(c, t, line, "%s", msg);
}

/* A record ldns accepted as TYPE0 (reserved, RFC 6895 3.1): an unknown type name whose data
 * is empty, e.g. "TXTfoo;..." where the comment swallowed the rest. ldns would build an
 * empty TYPE0 record; the line is refused instead of served as something never written. */
static void record_type_zero(load_ctx_t *c, const text_t *t, size_t line, const char *rec,
                             const char *end)
{
	char ttl_tok[64], type_tok[64];
	record_fields(t, rec, end, ttl_tok, type_tok);
	load_error(c, t, line, "unknown or reserved RR type '%s' (read as TYPE0)", type_tok);
}

/* --- records --- */

static void add_record(load_ctx_t *c, const text_t *t, size_t line, ldns_rr *rr)
{
	ldns_buffer_clear(c->wire);
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++)
		(void)ldns_rdf2buffer_wire(c->wire, ldns_rr_rdf(rr, i));
	size_t rdlen = ldns_buffer_position(c->wire);
	if (ldns_buffer_status(c->wire) != LDNS_STATUS_OK || rdlen > UINT16_MAX) {
		load_error(c, t, line, "RDATA longer than 65535 bytes");
		return;
	}
	const ldns_rdf *owner = ldns_rr_owner(rr);
	if (ldns_rdf_size(owner) > DNAME_MAX) { /* ldns joins a relative name to the origin
	                                         * without this check */
		load_error(c, t, line, "owner name longer than 255 octets (RFC 1035 2.3.4)");
		return;
	}
	int ret = zone_builder_add_at(c->b, ldns_rdf_data(owner), (uint16_t)ldns_rr_get_type(rr),
	                              (uint16_t)ldns_rr_get_class(rr), ldns_rr_ttl(rr),
	                              ldns_buffer_begin(c->wire), (uint16_t)rdlen, t->path,
	                              (uint32_t)line);
	if (ret < 0)
		load_error(c, t, line, "cannot add the record: %s", sd_strerror(ret));
}

static int load_file(load_ctx_t *c, const char *path, load_state_t *st, unsigned depth,
                     const text_t *from, size_t from_line);

/* "$ORIGIN name": relative names are relative to the current origin (RFC 1035 5.1). */
static void directive_origin(load_ctx_t *c, const text_t *t, size_t line, const char *p,
                             const char *end, load_state_t *st, ldns_rdf **ldns_origin)
{
	char tok[1024];
	next_token(&p, end, tok, sizeof(tok)); /* $ORIGIN */
	ldns_rdf *o = NULL;
	if (next_token(&p, end, tok, sizeof(tok)) > 0 &&
	    ldns_str2rdf_dname(&o, tok) == LDNS_STATUS_OK && !ldns_dname_str_absolute(tok)) {
		if (ldns_dname_cat(o, st->origin) != LDNS_STATUS_OK) {
			ldns_rdf_deep_free(o);
			o = NULL;
		}
	}
	if (!o) {
		load_error(c, t, line, "bad $ORIGIN '%s'", tok);
		return;
	}
	ldns_rdf_deep_free(st->origin);
	st->origin = o;
	ldns_rdf_deep_free(*ldns_origin);
	*ldns_origin = ldns_rdf_clone(o);
}

static void directive_ttl(load_ctx_t *c, const text_t *t, size_t line, const char *p,
                          const char *end, load_state_t *st)
{
	char tok[256];
	next_token(&p, end, tok, sizeof(tok)); /* $TTL */
	next_token(&p, end, tok, sizeof(tok));
	if (parse_ttl(tok, &st->ttl) < 0) {
		load_error(c, t, line, "bad $TTL '%s' (0 to 2147483647, RFC 2181 8)", tok);
		return;
	}
	st->ttl_set = true;
}

/* "$INCLUDE file [origin]" */
static void directive_include(load_ctx_t *c, const text_t *t, size_t line, const char *p,
                              const char *end, const load_state_t *st, unsigned depth)
{
	char file[2048], otext[1024];
	char *path = NULL;
	next_token(&p, end, file, sizeof(file)); /* $INCLUDE */
	if (next_token(&p, end, file, sizeof(file)) == 0) {
		load_error(c, t, line, "$INCLUDE without a file name");
		return;
	}
	load_state_t child = {.ttl = st->ttl, .ttl_set = st->ttl_set};
	if (next_token(&p, end, otext, sizeof(otext)) > 0) {
		if (ldns_str2rdf_dname(&child.origin, otext) != LDNS_STATUS_OK ||
		    (!ldns_dname_str_absolute(otext) &&
		     ldns_dname_cat(child.origin, st->origin) != LDNS_STATUS_OK)) {
			load_error(c, t, line, "bad $INCLUDE origin '%s'", otext);
			goto out;
		}
	} else {
		child.origin = ldns_rdf_clone(st->origin);
	}
	if (depth + 1 > LOAD_INCLUDE_DEPTH) {
		load_error(c, t, line, "$INCLUDE nested deeper than %d", LOAD_INCLUDE_DEPTH);
		goto out;
	}
	if (++c->includes > LOAD_INCLUDE_MAX) {
		load_error(c, t, line, "more than %d $INCLUDEs in one zone", LOAD_INCLUDE_MAX);
		goto out;
	}
	const char *slash = strrchr(t->path, '/');
	int n = (file[0] == '/' || !slash)
	            ? asprintf(&path, "%s", file)
	            : asprintf(&path, "%.*s/%s", (int)(slash - t->path), t->path, file);
	if (n < 0) {
		path = NULL;
		load_error(c, t, line, "out of memory");
		goto out;
	}
	(void)load_file(c, path, &child, depth + 1, t, line);
out:
	free(path);
	ldns_rdf_deep_free(child.origin);
}

/* The previous owner, as the scanner and ldns see it (RFC 1035 5.1: a blank owner is the
 * previous one). Whichever path read the last record holds it; the other one is brought up
 * to date before it reads. */
typedef struct prev_owner {
	uint8_t wire[DNAME_MAX];
	size_t len;
	bool ldns_stale; /* the scanner read records since ldns's prev was set */
} prev_owner_t;

/* One plain line read by the scanner (zone/scan.h) and added: true, with *pos and *line
 * past it; false when the line is not plain (nothing done: ldns reads it). */
static bool scan_record(load_ctx_t *c, const text_t *t, load_state_t *st, prev_owner_t *prev,
                        long *pos, size_t *line)
{
	zone_scan_rr_t *rr = &c->scan;
	const zone_scan_ctx_t ctx = {ldns_rdf_data(st->origin), ldns_rdf_size(st->origin),
	                             prev->wire, prev->len, st->ttl};
	/* whole lines only: ldns can stop inside one (after a stray ')'), and the rest is its */
	bool line_start = *pos == 0 || t->data[*pos - 1] == '\n';
	if (!load_fast || !line_start ||
	    !zone_scan_line(t->data + *pos, t->data + t->len, &ctx, rr))
		return false;
	int ret = zone_builder_add_at(c->b, rr->owner, rr->type, DNS_CLASS_IN, rr->ttl, rr->rdata,
	                              rr->rdlen, t->path, (uint32_t)*line);
	if (ret < 0)
		load_error(c, t, *line, "cannot add the record: %s", sd_strerror(ret));
	if (!st->ttl_set)
		st->ttl = rr->ttl;
	memcpy(prev->wire, rr->owner, rr->owner_len);
	prev->len = rr->owner_len;
	prev->ldns_stale = true;
	*line += rr->consumed > 0 && t->data[*pos + (long)rr->consumed - 1] == '\n';
	*pos += (long)rr->consumed;
	return true;
}

/* Before ldns reads again: its stream at pos and its previous owner the scanner's. */
static int ldns_catch_up(FILE *fp, long pos, prev_owner_t *po, ldns_rdf **prev)
{
	if (!po->ldns_stale)
		return 0;
	ldns_rdf *p = ldns_dname_new_frm_data((uint16_t)po->len, po->wire);
	if (!p || fseek(fp, pos, SEEK_SET) != 0) {
		ldns_rdf_deep_free(p);
		return -ENOMEM;
	}
	ldns_rdf_deep_free(*prev);
	*prev = p;
	po->ldns_stale = false;
	return 0;
}

/* After ldns read a line: its previous owner is the scanner's too; one longer than a name
 * can be (refused, see add_record) leaves none, so that blank owners go to ldns. */
static void prev_from_ldns(prev_owner_t *po, const ldns_rdf *prev)
{
	po->len = prev && ldns_rdf_size(prev) <= DNAME_MAX ? ldns_rdf_size(prev) : 0;
	if (po->len)
		memcpy(po->wire, ldns_rdf_data(prev), po->len);
}

/* Parse one file: each plain line by the scanner, every other record or directive by ldns,
 * one per call (a state machine over ldns's statuses). */
static int parse_text(load_ctx_t *c, const text_t *t, load_state_t *st, unsigned depth)
{
	FILE *fp = fmemopen(t->data, t->len, "r");
	if (!fp)
		return sd_errno();
	ldns_rdf *origin = ldns_rdf_clone(st->origin), *prev = ldns_rdf_clone(st->origin);
	prev_owner_t po = {.len = 0};
	prev_from_ldns(&po, prev);
	size_t line = 1;
	long pos = 0;
	int ret = 0;
	while ((size_t)pos < t->len && !c->cancelled) {
		if (++c->records % LOAD_CANCEL_EVERY == 0 && load_cancel &&
		    atomic_load_explicit(load_cancel, memory_order_relaxed)) {
			c->cancelled = true;
			break;
		}
		if (scan_record(c, t, st, &po, &pos, &line))
			continue;
		if ((ret = ldns_catch_up(fp, pos, &po, &prev)) < 0)
			break;
		ldns_rr *rr = NULL;
		int ldns_line = 0;
		uint32_t ttl = st->ttl;
		ldns_status s = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &ldns_line);
		prev_from_ldns(&po, prev);
		long endpos = ftell(fp);
		if (endpos < pos)
			endpos = (long)t->len;
		const char *start = t->data + pos, *end = t->data + endpos;
		const char *rec = skip_insignificant(start, end);
		size_t first_line = line, rec_line = line + count_newlines(start, rec);
		line += count_newlines(start, end);
		pos = endpos;
		/* ldns reads text as C strings: a raw NUL byte would vanish from the data (served
		 * as if never written). Refuse it, pointing at its line; "\000" is the way. */
		const char *nul = memchr(start, '\0', (size_t)(end - start));
		if (nul != NULL) {
			load_error(c, t, first_line + count_newlines(start, nul),
			           "a raw NUL byte; write it as \\000 inside a quoted string");
			s = LDNS_STATUS_SYNTAX_EMPTY; /* the record is not added */
		}
		switch (s) {
		case LDNS_STATUS_OK:
			if (ldns_rr_get_type(rr) == 0) { /* see record_type_zero */
				record_type_zero(c, t, rec_line, rec, end);
				break;
			}
			record_ttl(c, t, rec_line, rec, end, rr, st->ttl);
			add_record(c, t, rec_line, rr);
			if (!st->ttl_set)
				st->ttl = ldns_rr_ttl(rr);
			break;
		case LDNS_STATUS_SYNTAX_EMPTY:
			break;
		case LDNS_STATUS_SYNTAX_TTL:
			directive_ttl(c, t, rec_line, rec, end, st);
			break;
		case LDNS_STATUS_SYNTAX_ORIGIN:
			directive_origin(c, t, rec_line, rec, end, st, &origin);
			break;
		case LDNS_STATUS_SYNTAX_INCLUDE:
			directive_include(c, t, rec_line, rec, end, st, depth);
			break;
		default:
			record_syntax_error(c, t, rec_line, rec, end, s);
			break;
		}
		ldns_rr_free(rr);
		if (endpos == (long)(start - t->data) && s != LDNS_STATUS_OK)
			break; /* nothing consumed: do not spin */
	}
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	fclose(fp);
	return ret;
}

/* Open, check and read the file at path (depth: how deeply included) into t, and note it in
 * the list of files read. Only regular files are read, and a file that is already open
 * further out is an $INCLUDE loop (compared by the identity of what was opened, so a rename
 * between a check and the open cannot slip past). */
static int read_source(load_ctx_t *c, const char *path, unsigned depth, text_t *t)
{
	struct stat sb;
	zone_file_id_t id;
	int fd = open_regular(path, &sb);
	if (fd < 0)
		return fd;
	int ret = 0;
	for (unsigned i = 0; i < depth; i++)
		if (c->open[i].dev == sb.st_dev && c->open[i].ino == sb.st_ino)
			ret = -ELOOP;
	c->open[depth].dev = sb.st_dev;
	c->open[depth].ino = sb.st_ino;
	id_of(&sb, &id);
	if (ret == 0)
		ret = read_fd(fd, sb.st_size > 0 ? (size_t)sb.st_size : 0, &t->data, &t->len,
		              &id.hash);
	close(fd);
	if (ret == 0)
		ret = info_add(c->info, path, &id);
	t->path = path;
	return ret;
}

static int load_file(load_ctx_t *c, const char *path, load_state_t *st, unsigned depth,
                     const text_t *from, size_t from_line)
{
	text_t t = {0};
	int ret = read_source(c, path, depth, &t);
	if (ret < 0) {
		const char *why = ret == -EINVAL ? "not a regular file" : sd_strerror(ret);
		if (from && ret == -ELOOP)
			load_error(c, from, from_line, "$INCLUDE loop: %s is already being read",
			           path);
		else if (from)
			load_error(c, from, from_line, "$INCLUDE %s: %s", path, why);
		else
			log_error("%s: cannot read: %s", path, why);
		c->errors += !from;
		free(t.data);
		return ret;
	}
	if (t.len > 0) {
		zone_builder_expect(c->b, t.len);
		ret = parse_text(c, &t, st, depth);
	}
	if (ret < 0)
		load_error(c, &t, 1, "cannot parse: %s", sd_strerror(ret));
	free(t.data);
	return ret;
}

static int load_zone(const uint8_t *apex, const char *path, const zone_bindings_t *bindings,
                     const zone_version_t *ref, zone_load_info_t *info, zone_version_t **out)
{
	load_ctx_t c = {.info = info};
	load_state_t st = {.ttl = LOAD_DEFAULT_TTL};
	*info = (zone_load_info_t){0};
	int ret = zone_builder_new(apex, bindings, &c.b);
	if (ret < 0)
		return ret;
	c.wire = ldns_buffer_new(512);
	st.origin = ldns_dname_new_frm_data((uint16_t)dname_len(apex), apex);
	if (!c.wire || !st.origin) {
		ret = -ENOMEM;
		goto out;
	}
	ret = load_file(&c, path, &st, 0, NULL, 0);
	if (c.cancelled) {
		ret = -ECANCELED;
		goto out;
	}
	if (ret < 0 && ret != SD_EPARSE)
		goto out; /* the top file could not be read */
	if (c.errors > 0) {
		ret = SD_EPARSE;
		goto out;
	}
	ret = ref ? zone_overlay_build(c.b, ref, out) : zone_builder_finish(c.b, out);
	c.b = NULL;
out:
	if (ret < 0)
		zone_load_info_free(info);
	zone_builder_free(c.b);
	ldns_rdf_deep_free(st.origin);
	if (c.wire)
		ldns_buffer_free(c.wire);
	return ret;
}

int zone_load_file_over(const uint8_t *apex, const char *path, const zone_bindings_t *bindings,
                        const zone_version_t *ref, zone_load_info_t *info, zone_version_t **out)
{
	if (info != NULL)
		return load_zone(apex, path, bindings, ref, info, out);
	zone_load_info_t scratch;
	int ret = load_zone(apex, path, bindings, ref, &scratch, out);
	zone_load_info_free(&scratch);
	return ret;
}

int zone_load_file_bound(const uint8_t *apex, const char *path, const zone_bindings_t *bindings,
                         zone_load_info_t *info, zone_version_t **out)
{
	return zone_load_file_over(apex, path, bindings, NULL, info, out);
}

void zone_load_set_cancel(const atomic_bool *flag)
{
	load_cancel = flag;
}

void zone_load_set_scanner(bool on)
{
	load_fast = on;
}

int zone_load_file(const uint8_t *apex, const char *path, zone_load_info_t *info,
                   zone_version_t **out)
{
	return zone_load_file_bound(apex, path, NULL, info, out);
}
