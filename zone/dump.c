/* dump.c — a zone version to an RFC 1035 master file, written atomically (the common records
 * printed here, the others by ldns). */
#include "zone/dump.h"
#include "contrib/base/fsutil.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "zone/journal.h"

/* The ldns form of one record: rebuilt as a wire RR and parsed. */
static int rr_to_ldns(const zone_rr_t *zr, ldns_rr **out)
{
	uint8_t wire[DNAME_MAX + 10 + UINT16_MAX];
	size_t on = dname_len(zr->owner), pos = 0;
	memcpy(wire, zr->owner, on);
	uint8_t *p = wire + on;
	p = be16_put(p, zr->type);
	p = be16_put(p, zr->rclass);
	p = be32_put(p, zr->ttl);
	p = be16_put(p, zr->rdlen);
	if (zr->rdlen)
		memcpy(p, zr->rdata, zr->rdlen);
	*out = NULL;
	if (ldns_wire2rr(out, wire, on + 10 + zr->rdlen, &pos, LDNS_SECTION_ANSWER) !=
	    LDNS_STATUS_OK)
		return SD_EPARSE;
	return 0;
}

/* --- the common records without ldns ---
 *
 * A snapshot or base copy of a large zone is a million records; ldns formats one in a few
 * microseconds (a wire round trip, an ldns_rr, a printf per field). The records most zones
 * are made of are printed here instead, in exactly the text ldns prints for them
 * (tests/unit/zone/test_dump.c compares the two over edge cases and random records): A,
 * AAAA, NS, CNAME, PTR, DNAME, MX, SRV and TXT, class IN, with names of letters, digits,
 * '-', '_' and '*' only, and TXT strings of printable ASCII other than '"' and '\\'.
 * Anything else (an escape, another type, malformed RDATA) goes to ldns as before. */

#define FAST_MAX (DNAME_MAX * 5 + 64) /* owner, TTL, type and one name's worth of RDATA */

typedef struct out {
	char *p, *end;
} out_t;

static bool put_str(out_t *o, const char *s, size_t n)
{
	if ((size_t)(o->end - o->p) < n)
		return false;
	memcpy(o->p, s, n);
	o->p += n;
	return true;
}

static bool put_u32(out_t *o, uint32_t v)
{
	char d[10];
	size_t n = 0;
	do {
		d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return put_str(o, d + sizeof(d) - n, n);
}

static bool plain_label_octet(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '*';
}

/* The name at rd[0..len) (exactly that long), absolute, when every octet is plain. */
static bool put_name(out_t *o, const uint8_t *rd, size_t len)
{
	if (len == 0 || dname_len_bounded(rd, len) != len)
		return false;
	if (rd[0] == 0)
		return put_str(o, ".", 1);
	for (size_t i = 0; rd[i] != 0; i += rd[i] + 1u) {
		for (size_t k = 1; k <= rd[i]; k++)
			if (!plain_label_octet(rd[i + k]))
				return false;
		if (!put_str(o, (const char *)rd + i + 1, rd[i]) || !put_str(o, ".", 1))
			return false;
	}
	return true;
}

static bool put_a(out_t *o, const uint8_t *rd, uint16_t rdlen)
{
	if (rdlen != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if ((i && !put_str(o, ".", 1)) || !put_u32(o, rd[i]))
			return false;
	return true;
}

static bool put_aaaa(out_t *o, const uint8_t *rd, uint16_t rdlen)
{
	char text[INET6_ADDRSTRLEN];
	if (rdlen != 16 || !inet_ntop(AF_INET6, rd, text, sizeof(text)))
		return false; /* ldns prints with inet_ntop too */
	return put_str(o, text, strlen(text));
}

/* Character strings (RFC 1035 3.3.14) filling rd, each quoted, space-separated. */
static bool put_txt(out_t *o, const uint8_t *rd, uint16_t rdlen)
{
	if (rdlen == 0)
		return false;
	for (size_t i = 0; i < rdlen; i += rd[i] + 1u) {
		if (i + rd[i] + 1u > rdlen)
			return false;
		for (size_t k = 1; k <= rd[i]; k++)
			if (rd[i + k] < 0x20 || rd[i + k] > 0x7e || rd[i + k] == '"' ||
			    rd[i + k] == '\\')
				return false;
		if ((i && !put_str(o, " ", 1)) || !put_str(o, "\"", 1) ||
		    !put_str(o, (const char *)rd + i + 1, rd[i]) || !put_str(o, "\"", 1))
			return false;
	}
	return true;
}

/* 16-bit numbers (MX preference; SRV priority, weight, port), then a name. */
static bool put_nums_name(out_t *o, const uint8_t *rd, uint16_t rdlen, unsigned nums)
{
	if (rdlen < 2 * nums + 1)
		return false;
	for (unsigned i = 0; i < nums; i++)
		if (!put_u32(o, be16_get(rd + 2 * i)) || !put_str(o, " ", 1))
			return false;
	return put_name(o, rd + 2 * nums, rdlen - 2u * nums);
}

static bool put_rdata(out_t *o, const zone_rr_t *zr)
{
	switch (zr->type) {
	case DNS_TYPE_A:
		return put_str(o, "A\t", 2) && put_a(o, zr->rdata, zr->rdlen);
	case DNS_TYPE_AAAA:
		return put_str(o, "AAAA\t", 5) && put_aaaa(o, zr->rdata, zr->rdlen);
	case DNS_TYPE_NS:
		return put_str(o, "NS\t", 3) && put_name(o, zr->rdata, zr->rdlen);
	case DNS_TYPE_CNAME:
		return put_str(o, "CNAME\t", 6) && put_name(o, zr->rdata, zr->rdlen);
	case DNS_TYPE_PTR:
		return put_str(o, "PTR\t", 4) && put_name(o, zr->rdata, zr->rdlen);
	case DNS_TYPE_DNAME:
		return put_str(o, "DNAME\t", 6) && put_name(o, zr->rdata, zr->rdlen);
	case DNS_TYPE_MX:
		return put_str(o, "MX\t", 3) && put_nums_name(o, zr->rdata, zr->rdlen, 1);
	case DNS_TYPE_SRV:
		return put_str(o, "SRV\t", 4) && put_nums_name(o, zr->rdata, zr->rdlen, 3);
	case DNS_TYPE_TXT:
		return put_str(o, "TXT\t", 4) && put_txt(o, zr->rdata, zr->rdlen);
	default:
		return false;
	}
}

/* The text of zr as ldns prints it, with a newline, into buf[0..size); its length, or 0
 * when zr is not one of the records printed here (or does not fit). */
static size_t fast_text(const zone_rr_t *zr, char *buf, size_t size)
{
	out_t o = {buf, buf + size};
	bool ok = zr->rclass == DNS_CLASS_IN && (zr->rdlen == 0 || zr->rdata) &&
	          put_name(&o, zr->owner, dname_len(zr->owner)) && put_str(&o, "\t", 1) &&
	          put_u32(&o, zr->ttl) && put_str(&o, "\tIN\t", 4) && put_rdata(&o, zr) &&
	          put_str(&o, "\n", 1);
	return ok ? (size_t)(o.p - buf) : 0;
}

/* The presentation form of one record, malloc()ed, ending in a newline (printed here or by
 * ldns); NULL with *rc set when it has none. */
static char *rr_text(const zone_rr_t *zr, int *rc)
{
	size_t size = FAST_MAX + 2u * zr->rdlen;
	char *fast = malloc(size + 1);
	size_t n = fast ? fast_text(zr, fast, size) : 0;
	if (n > 0) {
		fast[n] = '\0';
		*rc = 0;
		return fast;
	}
	free(fast);
	ldns_rr *rr = NULL;
	*rc = rr_to_ldns(zr, &rr);
	if (*rc != 0)
		return NULL;
	char *text = ldns_rr2str(rr); /* no fixed bound: a record's text can pass 256 KiB */
	ldns_rr_free(rr);
	if (!text)
		*rc = -ENOMEM;
	return text;
}

int zone_rr_format(const zone_rr_t *zr, char *buf, size_t size)
{
	int rc;
	char *text = rr_text(zr, &rc);
	if (!text)
		return rc;
	size_t len = strlen(text);
	while (len > 0 && text[len - 1] == '\n') /* the caller decides about line ends */
		len--;
	if (len >= size || len > INT_MAX) {
		free(text);
		return -ENOSPC;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	free(text);
	return (int)len;
}

/* The RDATA of rr in wire form, as the loader takes it (zone/load.c add_record), equals
 * rd[0..rdlen). */
static bool rdata_is(const ldns_rr *rr, const uint8_t *rd, uint16_t rdlen)
{
	ldns_buffer *b = ldns_buffer_new(rdlen + 16u);
	if (!b)
		return false;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++)
		(void)ldns_rdf2buffer_wire(b, ldns_rr_rdf(rr, i));
	bool same = ldns_buffer_status(b) == LDNS_STATUS_OK && ldns_buffer_position(b) == rdlen &&
	            (rdlen == 0 || memcmp(ldns_buffer_begin(b), rd, rdlen) == 0);
	ldns_buffer_free(b);
	return same;
}

bool zone_rr_text_safe(const zone_rr_t *zr)
{
	ldns_rr *back = NULL;
	int rc;
	char *text = rr_text(zr, &rc);
	if (!text)
		return false;
	ldns_status s = ldns_rr_new_frm_str(&back, text, 0, NULL, NULL);
	free(text);
	bool same = s == LDNS_STATUS_OK && ldns_rr_get_type(back) == zr->type &&
	            dname_equal_ci(ldns_rdf_data(ldns_rr_owner(back)), zr->owner) &&
	            rdata_is(back, zr->rdata, zr->rdlen);
	ldns_rr_free(back);
	return same;
}

/* Print one record, as zone_rr_format formats it, and a newline. */
static int put_rr(FILE *f, const uint8_t *owner, const zone_rrset_t *rs, const uint8_t *rd,
                  uint16_t rdlen)
{
	zone_rr_t zr = {owner, rs->type, DNS_CLASS_IN, rs->ttl, rdlen, rd};
	char buf[FAST_MAX + 1024];
	size_t n = rdlen <= 512 ? fast_text(&zr, buf, sizeof(buf)) : 0;
	if (n > 0)
		return fwrite(buf, 1, n, f) == n ? 0 : sd_errno();
	int rc;
	char *text = rr_text(&zr, &rc);
	if (!text)
		return rc;
	rc = fputs(text, f) < 0 ? sd_errno() : 0;
	free(text);
	return rc;
}

static int put_rrset(FILE *f, const zone_node_t *n, const zone_rrset_t *rs)
{
	const uint8_t *p = rs->rdata;
	for (uint16_t i = 0; i < rs->count; i++) {
		uint16_t rdlen = (uint16_t)(p[0] << 8 | p[1]);
		int rc = put_rr(f, n->owner, rs, p + 2, rdlen);
		if (rc < 0)
			return rc;
		p += 2u + rdlen;
	}
	return 0;
}

static int put_zone(FILE *f, const zone_version_t *v, const char *note)
{
	if (note && fprintf(f, "; %s\n", note) < 0)
		return sd_errno();
	char apex[DNAME_MAX * 4 + 1];
	dname_to_str(zone_version_apex(v)->owner, apex, sizeof(apex));
	if (fprintf(f, "; zone %s serial %u, written by steerdns\n", apex, zone_version_serial(v)) <
	    0)
		return sd_errno();
	int rc = put_rrset(f, zone_version_apex(v), zone_version_soa(v));
	zone_version_iter_t it;
	zone_version_iter_init(v, &it);
	for (const zone_node_t *n; rc == 0 && (n = zone_version_iter_next(&it)) != NULL;) {
		for (uint16_t k = 0; rc == 0 && k < n->rrset_count; k++) {
			if (n->rrsets[k].type != DNS_TYPE_SOA || n != zone_version_apex(v))
				rc = put_rrset(f, n, &n->rrsets[k]);
		}
	}
	return rc;
}

int zone_write_file(const zone_version_t *v, const char *path)
{
	return zone_write_file_noted(v, path, NULL);
}

#define DUMP_IOBUF ((size_t)1 << 20)

int zone_write_file_noted(const zone_version_t *v, const char *path, const char *note)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s" ZONE_DUMP_TMP_SUFFIX, path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int rc0 = sd_regular_or_absent(path); /* the rename must not destroy a device node */
	if (rc0 < 0) {
		log_error("event=zone-file-write-failed file=%s reason=%s", LOG_Q(path),
		          LOG_Q(sd_strerror(rc0)));
		return rc0;
	}
	int fd = mkstemp(tmp);
	if (fd < 0)
		return sd_errno();
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int rc = sd_errno();
		close(fd);
		unlink(tmp);
		return rc;
	}
	/* a zone's text is megabytes: written in 1 MiB steps, not stdio's 4 KiB (glibc takes a
	 * size only with a buffer); without the memory, the default buffer works as well */
	char *iobuf = malloc(DUMP_IOBUF);
	if (iobuf)
		(void)setvbuf(f, iobuf, _IOFBF, DUMP_IOBUF);
	int rc = put_zone(f, v, note);
	if (rc == 0 && fflush(f) != 0)
		rc = sd_errno();
	if (rc == 0 && fsync(fd) < 0)
		rc = sd_errno();
	if (fclose(f) != 0 && rc == 0)
		rc = sd_errno();
	free(iobuf);
	if (rc == 0 && fchmodat(AT_FDCWD, tmp, 0644, 0) < 0)
		rc = sd_errno();
	if (rc == 0 && rename(tmp, path) < 0)
		rc = sd_errno();
	if (rc < 0) {
		log_error("event=zone-file-write-failed file=%s reason=%s", LOG_Q(path),
		          LOG_Q(sd_strerror(rc)));
		unlink(tmp);
		return rc;
	}
	return sd_fsync_dir(path);
}
