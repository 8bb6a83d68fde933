/* journal.c — append-only change set journal with checksums and torn-tail recovery. */
#include "zone/journal.h"
#include "contrib/base/bytes.h"
#include "contrib/base/crc32c.h"
#include "contrib/base/fsutil.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/file.h>
#include <unistd.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "contrib/base/vec.h"

#define MAGIC         "SDJRNL\r\n"
#define MAGIC_LEN     8
#define VERSION       2           /* written; 1 is read and upgraded at open */
#define ENTRY_MAGIC   0x53444a45u /* "SDJE" */
#define ENTRY_HDR     16          /* magic, length, serials */
#define ENTRY_META    10          /* version 2: time u64, source kind u8, text length u8 */
#define ENTRY_HDR_MAX (ENTRY_HDR + ENTRY_META + ZONE_SOURCE_TEXT_MAX)
#define ENTRY_CRC     4
#define PAYLOAD_LIMIT (256u << 20) /* an entry larger than this is corrupt */

typedef struct jentry {
	uint64_t off; /* of the entry header */
	uint32_t len; /* payload length */
	uint32_t from;
	uint32_t to;
	uint16_t hlen; /* header length: ENTRY_HDR, plus the origin in version 2 */
} jentry_t;

/* An entry's origin (version 2), as read. */
typedef struct jmeta {
	int64_t time;
	zone_source_kind_t kind;
	char text[ZONE_SOURCE_TEXT_MAX + 1];
} jmeta_t;

static uint64_t entry_size(const jentry_t *e)
{
	return e->hlen + (uint64_t)e->len + ENTRY_CRC;
}

struct zone_journal {
	int fd;
	char *path;
	uint8_t apex[DNAME_MAX];
	uint32_t version; /* of the file: 1 only between the scan and the upgrade at open */
	zone_journal_limits_t limits;
	uint64_t header_len;
	uint64_t end; /* file size = end of the last good entry */
	jentry_t *entries;
	size_t count;
	size_t cap;
	bool truncated; /* the open cut a bad tail off */
};

/* --- helpers --- */

static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sd_errno();
		if (n == 0)
			return SD_EPARSE; /* short file */
		p += n, len -= (size_t)n, off += (uint64_t)n;
	}
	return 0;
}

static int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sd_errno();
		p += n, len -= (size_t)n, off += (uint64_t)n;
	}
	return 0;
}

static size_t header_build(const uint8_t *apex, uint32_t version, uint8_t *buf)
{
	size_t al = dname_len(apex);
	memcpy(buf, MAGIC, MAGIC_LEN);
	uint8_t *p = be32_put(buf + MAGIC_LEN, version);
	*p++ = (uint8_t)al;
	memcpy(p, apex, al);
	p += al;
	p = be32_put(p, sd_crc32c(0, buf, (size_t)(p - buf)));
	return (size_t)(p - buf);
}

static int index_push(zone_journal_t *j, const jentry_t *e)
{
	if (j->count == j->cap && sd_vec_grow(&j->entries, &j->cap, j->count + 1) != 0)
		return -ENOMEM;
	j->entries[j->count++] = *e;
	return 0;
}

/* An entry's header in the current format: the serials, then its origin. Returns its length. */
static size_t entry_header(const jentry_t *e, const jmeta_t *meta, uint8_t *hdr)
{
	size_t tl = strlen(meta->text);
	uint64_t t = (uint64_t)meta->time;
	uint8_t *p =
	    be32_put(be32_put(be32_put(be32_put(hdr, ENTRY_MAGIC), e->len), e->from), e->to);
	p = be32_put(be32_put(p, (uint32_t)(t >> 32)), (uint32_t)t);
	*p++ = (uint8_t)meta->kind;
	*p++ = (uint8_t)tl;
	memcpy(p, meta->text, tl);
	return (size_t)(p - hdr) + tl;
}

/* --- open and scan --- */

static int header_check(zone_journal_t *j, uint64_t size)
{
	uint8_t want[MAGIC_LEN + 4 + 1 + DNAME_MAX + 4], got[sizeof(want)];
	size_t len = header_build(j->apex, VERSION, want);
	j->header_len = len;
	j->version = VERSION;
	if (size < len) {
		/* A crash while the file was being created leaves a prefix of our header:
		 * start over (1). Anything else is not ours to overwrite. */
		int rc = pread_full(j->fd, got, (size_t)size, 0);
		if (rc < 0)
			return rc;
		return memcmp(got, want, (size_t)size) == 0 ? 1 : SD_ECHECKSUM;
	}
	int rc = pread_full(j->fd, got, len, 0);
	if (rc < 0)
		return rc;
	uint32_t version = be32_get(got + MAGIC_LEN);
	if (memcmp(got, MAGIC, MAGIC_LEN) != 0 || (version != 1 && version != VERSION))
		return SD_ECHECKSUM;
	j->version = version;
	header_build(j->apex, version, want); /* same length for both versions */
	if (memcmp(got, want, len) != 0) {
		/* Well-formed but for another apex, or a damaged header. */
		size_t al = got[MAGIC_LEN + 4];
		if (al <= DNAME_MAX && MAGIC_LEN + 4 + 1 + al + 4 <= size) {
			size_t hl = MAGIC_LEN + 4 + 1 + al;
			uint8_t other[sizeof(want)];
			if (pread_full(j->fd, other, hl + 4, 0) == 0 &&
			    sd_crc32c(0, other, hl) == be32_get(other + hl))
				return SD_ESEMANTIC;
		}
		return SD_ECHECKSUM;
	}
	return 0;
}

/* Version 2: the origin after the serials (in hdr[ENTRY_HDR..]): read it, and its text. */
static int meta_read(zone_journal_t *j, uint64_t off, uint64_t size, uint8_t *hdr, jentry_t *e,
                     jmeta_t *meta)
{
	if (size - off < ENTRY_HDR + ENTRY_META ||
	    pread_full(j->fd, hdr + ENTRY_HDR, ENTRY_META, off + ENTRY_HDR) < 0)
		return SD_EPARSE;
	const uint8_t *m = hdr + ENTRY_HDR;
	uint8_t tl = m[9];
	e->hlen = (uint16_t)(ENTRY_HDR + ENTRY_META + tl);
	if (size - off < e->hlen ||
	    pread_full(j->fd, hdr + ENTRY_HDR + ENTRY_META, tl, off + ENTRY_HDR + ENTRY_META) < 0)
		return SD_EPARSE;
	if (meta) {
		meta->time = (int64_t)(((uint64_t)be32_get(m) << 32) | be32_get(m + 4));
		meta->kind =
		    m[8] <= ZONE_SOURCE_KIND_MAX ? (zone_source_kind_t)m[8] : ZONE_SOURCE_UNKNOWN;
		memcpy(meta->text, m + ENTRY_META, tl);
		meta->text[tl] = '\0';
	}
	return 0;
}

/* Read and verify the entry at off; fills e. Returns 0, or SD_EPARSE / SD_ECHECKSUM with
 * *why set for the log. payload (optional) receives the malloc()ed payload, meta (optional)
 * the origin (unknown in a version-1 file). */
static int entry_read(zone_journal_t *j, uint64_t off, uint64_t size, jentry_t *e,
                      uint8_t **payload, jmeta_t *meta, const char **why)
{
	uint8_t hdr[ENTRY_HDR_MAX];
	*why = "truncated entry header";
	if (size - off < ENTRY_HDR || pread_full(j->fd, hdr, ENTRY_HDR, off) < 0)
		return SD_EPARSE;
	*why = "bad entry magic";
	if (be32_get(hdr) != ENTRY_MAGIC)
		return SD_EPARSE;
	e->off = off;
	e->len = be32_get(hdr + 4);
	e->from = be32_get(hdr + 8);
	e->to = be32_get(hdr + 12);
	e->hlen = ENTRY_HDR;
	if (meta)
		*meta = (jmeta_t){.kind = ZONE_SOURCE_UNKNOWN};
	*why = "truncated entry header";
	if (j->version >= 2 && meta_read(j, off, size, hdr, e, meta) < 0)
		return SD_EPARSE;
	*why = "truncated entry";
	if (e->len > PAYLOAD_LIMIT || size - off - e->hlen < (uint64_t)e->len + ENTRY_CRC)
		return SD_EPARSE;
	uint8_t *buf = malloc((size_t)e->len + ENTRY_CRC);
	if (!buf)
		return -ENOMEM;
	int rc = pread_full(j->fd, buf, e->len + ENTRY_CRC, off + e->hlen);
	uint32_t crc = sd_crc32c(sd_crc32c(0, hdr, e->hlen), buf, e->len);
	*why = "checksum mismatch";
	if (rc == 0 && crc != be32_get(buf + e->len))
		rc = SD_ECHECKSUM;
	if (rc == 0 && payload)
		*payload = buf;
	else
		free(buf);
	return rc;
}

static int scan(zone_journal_t *j, uint64_t size)
{
	uint64_t off = j->header_len;
	while (off < size) {
		jentry_t e;
		const char *why = NULL;
		int rc = entry_read(j, off, size, &e, NULL, NULL, &why);
		if (rc == -ENOMEM)
			return rc;
		if (rc == 0 && j->count && e.from != j->entries[j->count - 1].to) {
			rc = SD_EPARSE;
			why = "serial chain broken";
		}
		if (rc < 0) {
			log_warning(
			    "event=journal-truncated file=%s offset=%llu bytes=%llu reason=%s",
			    LOG_Q(j->path), (unsigned long long)off,
			    (unsigned long long)(size - off), LOG_Q(why));
			if (ftruncate(j->fd, (off_t)off) < 0 || fdatasync(j->fd) < 0)
				return sd_errno();
			j->truncated = true;
			break;
		}
		rc = index_push(j, &e);
		if (rc < 0)
			return rc;
		off += entry_size(&e);
	}
	j->end = off < size ? off : size;
	return 0;
}

static int create_header(zone_journal_t *j)
{
	uint8_t hdr[MAGIC_LEN + 4 + 1 + DNAME_MAX + 4];
	size_t len = header_build(j->apex, VERSION, hdr);
	j->version = VERSION;
	int rc = pwrite_full(j->fd, hdr, len, 0);
	if (rc == 0 && fsync(j->fd) < 0)
		rc = sd_errno();
	if (rc == 0)
		rc = sd_fsync_dir(j->path);
	j->header_len = len;
	j->end = len;
	return rc;
}

/* A new file beside the journal that takes its name once complete (compaction, upgrade):
 * "<journal>.compact", locked before it takes the journal's name, so no other process gets it
 * unlocked. Returns the fd or a negative code; tmp receives its path. */
static int side_open(const zone_journal_t *j, char tmp[PATH_MAX])
{
	if (snprintf(tmp, PATH_MAX, "%s.compact", j->path) >= PATH_MAX)
		return -ENAMETOOLONG;
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return sd_errno();
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int rc = sd_errno();
		close(fd);
		unlink(tmp);
		return rc;
	}
	return fd;
}

/* Make the side file the journal (synced, renamed, directory synced) or remove it. */
static int side_commit(zone_journal_t *j, int fd, const char *tmp, int rc)
{
	if (rc == 0 && fsync(fd) < 0)
		rc = sd_errno();
	if (rc == 0 && rename(tmp, j->path) < 0)
		rc = sd_errno();
	if (rc < 0) {
		close(fd);
		unlink(tmp);
		return rc;
	}
	rc = sd_fsync_dir(j->path);
	close(j->fd);
	j->fd = fd;
	return rc;
}

/* One entry of a version-1 file copied in the current format (origin unknown) at *to. */
static int upgrade_one(zone_journal_t *j, int fd, jentry_t *e, uint64_t *to)
{
	jentry_t old;
	uint8_t *payload = NULL, hdr[ENTRY_HDR_MAX], crc[ENTRY_CRC];
	const char *why = NULL;
	int rc = entry_read(j, e->off, j->end, &old, &payload, NULL, &why);
	if (rc < 0)
		return rc;
	jmeta_t meta = {.kind = ZONE_SOURCE_UNKNOWN};
	e->hlen = (uint16_t)entry_header(e, &meta, hdr);
	be32_put(crc, sd_crc32c(sd_crc32c(0, hdr, e->hlen), payload, e->len));
	rc = pwrite_full(fd, hdr, e->hlen, *to);
	if (rc == 0)
		rc = pwrite_full(fd, payload, e->len, *to + e->hlen);
	if (rc == 0)
		rc = pwrite_full(fd, crc, ENTRY_CRC, *to + e->hlen + e->len);
	free(payload);
	e->off = *to;
	*to += entry_size(e);
	return rc;
}

/* A version-1 journal rewritten in the current format, atomically: its entries keep their
 * change sets and get the origin "unknown", no time (version 1 did not record them). */
static int upgrade(zone_journal_t *j)
{
	char tmp[PATH_MAX];
	int fd = side_open(j, tmp);
	if (fd < 0)
		return fd;
	uint8_t hdr[MAGIC_LEN + 4 + 1 + DNAME_MAX + 4];
	size_t hl = header_build(j->apex, VERSION, hdr);
	int rc = pwrite_full(fd, hdr, hl, 0);
	uint64_t to = hl;
	for (size_t i = 0; rc == 0 && i < j->count; i++)
		rc = upgrade_one(j, fd, &j->entries[i], &to);
	rc = side_commit(j, fd, tmp, rc);
	if (rc < 0) {
		log_error("event=journal-upgrade-failed file=%s format=%d reason=%s",
		          LOG_Q(j->path), VERSION, LOG_Q(sd_strerror(rc)));
		return rc;
	}
	j->version = VERSION;
	j->header_len = hl;
	j->end = to;
	log_notice("event=journal-upgraded file=%s format=%d from=1 entries=%zu hint=\"their "
	           "source is unknown\"",
	           LOG_Q(j->path), VERSION, j->count);
	return 0;
}

/* One writer per journal file: two daemons on one state directory (or two handles in one
 * daemon) would interleave appends. The lock is per open file, so it ends with the fd. */
static int lock(int fd, const char *path)
{
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	int rc = errno == EWOULDBLOCK ? -EBUSY : sd_errno();
	log_error("event=journal-open-failed file=%s reason=%s hint=\"is another steerdns using "
	          "this state directory?\"",
	          LOG_Q(path), LOG_Q(sd_strerror(rc)));
	return rc;
}

int zone_journal_open(const char *path, const uint8_t *apex, const zone_journal_limits_t *limits,
                      zone_journal_t **out)
{
	*out = NULL;
	zone_journal_t *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	memcpy(j->apex, apex, dname_len(apex));
	if (limits)
		j->limits = *limits;
	j->path = strdup(path);
	j->fd = sd_open_regular(path, O_RDWR | O_CREAT, 0640); /* never a FIFO (fsutil.h) */
	int rc = !j->path ? -ENOMEM : j->fd < 0 ? j->fd : lock(j->fd, path);
	struct stat st;
	if (rc == 0 && fstat(j->fd, &st) < 0)
		rc = sd_errno();
	if (rc < 0)
		goto out;
	rc = st.st_size == 0 ? 1 : header_check(j, (uint64_t)st.st_size);
	if (rc == 1) {
		if (st.st_size)
			log_warning("event=journal-recreated file=%s bytes=%lld reason=\"torn "
			            "header\"",
			            LOG_Q(path), (long long)st.st_size);
		rc = create_header(j);
	} else {
		if (rc == SD_ESEMANTIC)
			log_error(
			    "event=journal-open-failed file=%s reason=\"it belongs to another "
			    "zone\"",
			    LOG_Q(path));
		else if (rc == SD_ECHECKSUM)
			log_error("event=journal-open-failed file=%s reason=\"corrupt header\"",
			          LOG_Q(path));
		if (rc == 0)
			rc = scan(j, (uint64_t)st.st_size);
		if (rc == 0 && j->version < VERSION)
			rc = upgrade(j);
	}
out:
	if (rc < 0) {
		zone_journal_close(j);
		return rc;
	}
	*out = j;
	return 0;
}

void zone_journal_close(zone_journal_t *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j->entries);
	free(j->path);
	free(j);
}

/* --- append --- */

int zone_journal_append(zone_journal_t *j, const zone_changeset_t *cs)
{
	if (j->count && zone_changeset_from(cs) != j->entries[j->count - 1].to)
		return SD_ESEMANTIC;
	uint8_t *payload = NULL;
	size_t len = 0;
	int rc = zone_changeset_serialize(cs, &payload, &len);
	if (rc < 0)
		return rc;
	if (len > PAYLOAD_LIMIT) {
		free(payload);
		return SD_ELIMIT;
	}
	jentry_t e = {.off = j->end,
	              .len = (uint32_t)len,
	              .from = zone_changeset_from(cs),
	              .to = zone_changeset_to(cs)};
	zone_source_t src;
	jmeta_t meta = {.time = zone_changeset_origin(cs, &src), .kind = src.kind};
	snprintf(meta.text, sizeof(meta.text), "%s", src.text);
	uint8_t hdr[ENTRY_HDR_MAX], crc[ENTRY_CRC];
	e.hlen = (uint16_t)entry_header(&e, &meta, hdr);
	be32_put(crc, sd_crc32c(sd_crc32c(0, hdr, e.hlen), payload, len));
	rc = pwrite_full(j->fd, hdr, e.hlen, e.off);
	if (rc == 0)
		rc = pwrite_full(j->fd, payload, len, e.off + e.hlen);
	if (rc == 0)
		rc = pwrite_full(j->fd, crc, ENTRY_CRC, e.off + e.hlen + len);
	if (rc == 0 && fdatasync(j->fd) < 0)
		rc = sd_errno();
	if (rc == 0)
		rc = index_push(j, &e);
	free(payload);
	if (rc < 0) {
		/* Leave no partial entry behind (best effort; a scan would cut it anyway). */
		if (ftruncate(j->fd, (off_t)j->end) == 0)
			(void)fdatasync(j->fd);
		return rc;
	}
	j->end = e.off + entry_size(&e);
	return 0;
}

/* --- queries --- */

size_t zone_journal_depth(const zone_journal_t *j)
{
	return j->count;
}

uint64_t zone_journal_size(const zone_journal_t *j)
{
	return j->end;
}

int zone_journal_first_serial(const zone_journal_t *j, uint32_t *out)
{
	if (!j->count)
		return SD_ENOTFOUND;
	*out = j->entries[0].from;
	return 0;
}

int zone_journal_last_serial(const zone_journal_t *j, uint32_t *out)
{
	if (!j->count)
		return SD_ENOTFOUND;
	*out = j->entries[j->count - 1].to;
	return 0;
}

bool zone_journal_over_limit(const zone_journal_t *j)
{
	return (j->limits.max_depth && j->count > j->limits.max_depth) ||
	       (j->limits.max_size && j->end > j->limits.max_size);
}

void zone_journal_set_limits(zone_journal_t *j, const zone_journal_limits_t *limits)
{
	j->limits = *limits;
}

bool zone_journal_was_truncated(const zone_journal_t *j)
{
	return j->truncated;
}

void zone_journal_free_list(zone_changeset_t **list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++)
		zone_changeset_free(list[i]);
	free(list);
}

static int read_one(zone_journal_t *j, const jentry_t *want, zone_changeset_t **out)
{
	jentry_t e;
	jmeta_t meta;
	uint8_t *payload = NULL;
	const char *why = NULL;
	int rc = entry_read(j, want->off, j->end, &e, &payload, &meta, &why);
	if (rc == 0 && (e.from != want->from || e.to != want->to)) {
		rc = SD_EPARSE;
		why = "its serials differ from the index";
	}
	if (rc == 0 && (rc = zone_changeset_parse(payload, e.len, out)) < 0)
		why = "its change set is malformed";
	if (rc == 0 && (zone_changeset_from(*out) != e.from || zone_changeset_to(*out) != e.to)) {
		zone_changeset_free(*out);
		*out = NULL;
		rc = SD_EPARSE;
		why = "its change set's serials differ from the entry's";
	}
	if (rc == 0)
		zone_changeset_set_origin(*out, meta.time,
		                          &(zone_source_t){.kind = meta.kind, .text = meta.text});
	if (rc < 0)
		log_error("event=journal-entry-unreadable file=%s offset=%llu reason=%s",
		          LOG_Q(j->path), (unsigned long long)want->off,
		          LOG_Q(why ? why : sd_strerror(rc)));
	free(payload);
	return rc;
}

int zone_journal_read(zone_journal_t *j, uint32_t from, zone_changeset_t ***list, size_t *n)
{
	*list = NULL;
	*n = 0;
	size_t i = 0;
	while (i < j->count && j->entries[i].from != from)
		i++;
	if (i == j->count)
		return j->count && j->entries[j->count - 1].to == from ? 0 : SD_ENOTFOUND;
	zone_changeset_t **v = calloc(j->count - i, sizeof(*v));
	if (!v)
		return -ENOMEM;
	size_t k = 0;
	int rc = 0;
	for (; rc == 0 && i < j->count; i++, k++)
		rc = read_one(j, &j->entries[i], &v[k]);
	if (rc < 0) {
		zone_journal_free_list(v, k); /* the failed slot is NULL */
		return rc;
	}
	*list = v;
	*n = k;
	return 0;
}

/* --- compaction --- */

/* First entry to keep: the newest entries within half the limits. */
static size_t keep_from(const zone_journal_t *j)
{
	uint64_t max_size = j->limits.max_size / 2, size = j->header_len;
	size_t max_depth = j->limits.max_depth / 2, i = j->count;
	while (i > 0) {
		const jentry_t *e = &j->entries[i - 1];
		uint64_t es = entry_size(e);
		if ((j->limits.max_depth && j->count - i + 1 > max_depth) ||
		    (j->limits.max_size && size + es > max_size))
			break;
		size += es;
		i--;
	}
	return i;
}

static int copy_range(int from_fd, int to_fd, uint64_t off, uint64_t len, uint64_t to_off)
{
	uint8_t buf[65536];
	while (len) {
		size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		int rc = pread_full(from_fd, buf, n, off);
		if (rc == 0)
			rc = pwrite_full(to_fd, buf, n, to_off);
		if (rc < 0)
			return rc;
		off += n, to_off += n, len -= n;
	}
	return 0;
}

int zone_journal_compact(zone_journal_t *j, uint32_t file_serial)
{
	uint32_t last;
	if (zone_journal_last_serial(j, &last) == 0 && last != file_serial)
		return SD_ESEMANTIC;
	size_t first = keep_from(j);
	char tmp[PATH_MAX];
	int fd = side_open(j, tmp);
	if (fd < 0)
		return fd;
	uint64_t start = first < j->count ? j->entries[first].off : j->end;
	int rc = copy_range(j->fd, fd, 0, j->header_len, 0);
	if (rc == 0)
		rc = copy_range(j->fd, fd, start, j->end - start, j->header_len);
	rc = side_commit(j, fd, tmp, rc);
	if (rc < 0 && j->fd != fd)
		return rc;
	uint64_t shift = start - j->header_len;
	memmove(j->entries, j->entries + first, (j->count - first) * sizeof(*j->entries));
	j->count -= first;
	for (size_t i = 0; i < j->count; i++)
		j->entries[i].off -= shift;
	j->end -= shift;
	log_info("event=journal-compacted file=%s dropped=%zu kept=%zu", LOG_Q(j->path), first,
	         j->count);
	return rc;
}
