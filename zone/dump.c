/* dump.c — a zone version to an RFC 1035 master file, written atomically (ldns prints). */
#include "zone/dump.h"
#include "contrib/base/fsutil.h"

#include <ldns/ldns.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "zone/journal.h"

/* Print one record: rebuild it as a wire RR and let ldns format it. */
static int put_rr(FILE *f, const uint8_t *owner, const zone_rrset_t *rs, const uint8_t *rd,
                  uint16_t rdlen)
{
	uint8_t wire[DNAME_MAX + 10 + UINT16_MAX];
	size_t on = dname_len(owner), pos = 0;
	memcpy(wire, owner, on);
	uint8_t *p = wire + on;
	p[0] = (uint8_t)(rs->type >> 8), p[1] = (uint8_t)rs->type;
	p[2] = 0, p[3] = DNS_CLASS_IN;
	p[4] = (uint8_t)(rs->ttl >> 24), p[5] = (uint8_t)(rs->ttl >> 16);
	p[6] = (uint8_t)(rs->ttl >> 8), p[7] = (uint8_t)rs->ttl;
	p[8] = (uint8_t)(rdlen >> 8), p[9] = (uint8_t)rdlen;
	memcpy(p + 10, rd, rdlen);
	ldns_rr *rr = NULL;
	if (ldns_wire2rr(&rr, wire, on + 10 + rdlen, &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
		return SD_EPARSE;
	char *text = ldns_rr2str(rr);
	ldns_rr_free(rr);
	if (!text)
		return -ENOMEM;
	int rc = fputs(text, f) < 0 ? sd_errno() : 0;
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

int zone_write_file_noted(const zone_version_t *v, const char *path, const char *note)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s" ZONE_DUMP_TMP_SUFFIX, path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int rc0 = sd_regular_or_absent(path); /* the rename must not destroy a device node */
	if (rc0 < 0) {
		log_error("%s: not replaced: %s", path, sd_strerror(rc0));
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
	int rc = put_zone(f, v, note);
	if (rc == 0 && fflush(f) != 0)
		rc = sd_errno();
	if (rc == 0 && fsync(fd) < 0)
		rc = sd_errno();
	if (fclose(f) != 0 && rc == 0)
		rc = sd_errno();
	if (rc == 0 && fchmodat(AT_FDCWD, tmp, 0644, 0) < 0)
		rc = sd_errno();
	if (rc == 0 && rename(tmp, path) < 0)
		rc = sd_errno();
	if (rc < 0) {
		log_error("%s: cannot write the zone file: %s", path, sd_strerror(rc));
		unlink(tmp);
		return rc;
	}
	return sd_fsync_dir(path);
}
