/* geo.c — MaxMind databases, compiled geo maps and the geo stage (see geo.h). */
#include "steering/geo.h"

#include <maxminddb.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "contrib/base/fsutil.h"

const char *steer_geo_kind_name(steer_geo_kind_t k)
{
	static const char *const names[] = {"default", "distance", "continent", "country",
	                                    "subdivision"};
	return (unsigned)k < SD_ARRAY_LEN(names) ? names[k] : "?";
}

void steer_geo_conf_free(steer_geo_conf_t *g)
{
	if (!g)
		return;
	free(g->rules);
	free(g);
}

/* ---- databases ------------------------------------------------------------------------ */

/* An upper-cased string value at path into out (size bytes); "" when absent or too long. */
static void rec_str(MMDB_entry_s *e, char *out, size_t size, const char *const *path)
{
	MMDB_entry_data_s d;
	out[0] = '\0';
	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size >= size)
		return;
	for (uint32_t i = 0; i < d.data_size; i++) {
		char c = d.utf8_string[i];
		out[i] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
	}
	out[d.data_size] = '\0';
}

static bool rec_double(MMDB_entry_s *e, const char *const *path, double *out)
{
	MMDB_entry_data_s d;
	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data)
		return false;
	if (d.type == MMDB_DATA_TYPE_DOUBLE)
		*out = d.double_value;
	else if (d.type == MMDB_DATA_TYPE_FLOAT)
		*out = d.float_value;
	else
		return false;
	return true;
}

/* The fields a rule or the distance stage reads: continent.code, country.iso_code,
 * subdivisions[0].iso_code, location.{latitude,longitude} (GeoIP2/GeoLite2/DB-IP layout). */
static void rec_decode(const MMDB_s *mmdb, uint32_t off, steer_geo_rec_t *r)
{
	static const char *const cont[] = {"continent", "code", NULL};
	static const char *const ctry[] = {"country", "iso_code", NULL};
	static const char *const sub[] = {"subdivisions", "0", "iso_code", NULL};
	static const char *const lat[] = {"location", "latitude", NULL};
	static const char *const lon[] = {"location", "longitude", NULL};
	MMDB_entry_s e = {.mmdb = mmdb, .offset = off};
	char s[4]; /* ISO 3166-2 subdivision codes: 1 to 3 characters */
	memset(r, 0, sizeof(*r));
	rec_str(&e, r->continent, sizeof(r->continent), cont);
	rec_str(&e, r->country, sizeof(r->country), ctry);
	rec_str(&e, s, sizeof(s), sub);
	if (s[0] && r->country[0])
		snprintf(r->subdiv, sizeof(r->subdiv), "%s-%s", r->country, s);
	r->located = rec_double(&e, lat, &r->lat) && rec_double(&e, lon, &r->lon);
}

static void db_stat(steer_geo_db_t *db, const struct stat *st)
{
	db->dev = st->st_dev;
	db->ino = st->st_ino;
	db->size = st->st_size;
	db->mtime = st->st_mtim;
}

/* Record bit (0 left, 1 right) of the node at p (MaxMind DB spec, "Search Tree": 24, 28 or
 * 32-bit records, big endian; a 28-bit record's top nibble sits in the middle byte). */
static inline uint32_t rec24(const uint8_t *p, unsigned bit)
{
	p += bit * 3;
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t rec28(const uint8_t *p, unsigned bit)
{
	uint32_t top = bit ? p[3] & 0x0fu : (uint32_t)(p[3] & 0xf0u) >> 4;
	p += bit ? 4 : 0;
	return top << 24 | (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t rec32(const uint8_t *p, unsigned bit)
{
	p += bit * 4;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Record bit of node (< nodes) in the file's tree t (MaxMind DB spec: nodes of two records
 * of record_bits bits, record_bits / 4 bytes). */
static uint32_t file_record(const uint8_t *t, uint16_t record_bits, uint32_t node, unsigned bit)
{
	const uint8_t *p = t + (size_t)node * (record_bits / 4u);
	return record_bits == 28   ? rec28(p, bit)
	       : record_bits == 24 ? rec24(p, bit)
	                           : rec32(p, bit);
}

/* node < db->nodes */
static inline uint32_t node_record(const steer_geo_db_t *db, uint32_t node, unsigned bit)
{
	return db->node_recs[(size_t)node * 2 + bit];
}

/* The data offset a record (> nodes) of the file points at (MaxMind DB spec); at or past
 * the data section's size when it points nowhere. */
static uint64_t data_offset(const steer_geo_db_t *db, uint32_t r)
{
	return (uint64_t)r - db->nodes - 16;
}

/* The data offsets the tree's records point at, ascending and unique: one pass over the
 * records marking a bitmap of the data section (an IPv6 tree's IPv4 aliases point at nodes
 * already counted), then one pass over the bitmap. */
static int db_offsets(steer_geo_db_t *db)
{
	uint32_t dsize = db->mmdb->data_section_size;
	uint64_t *bm = calloc((size_t)dsize / 64 + 1, sizeof(*bm));
	size_t n = 0;
	if (!bm)
		return -ENOMEM;
	for (size_t i = 0; i < (size_t)db->nodes * 2; i++) {
		uint32_t r = db->node_recs[i];
		uint64_t off = data_offset(db, r);
		if (r <= db->nodes || off >= dsize || (bm[off / 64] >> (off % 64) & 1))
			continue;
		bm[off / 64] |= 1ull << (off % 64);
		n++;
	}
	db->offs = malloc((n ? n : 1) * sizeof(*db->offs));
	if (db->offs)
		for (uint32_t w = 0; w <= dsize / 64; w++)
			for (uint64_t x = bm[w]; x; x &= x - 1)
				db->offs[db->nrecs++] = w * 64 + (uint32_t)__builtin_ctzll(x);
	free(bm);
	return db->offs ? 0 : -ENOMEM;
}

/* The index of data offset off in db->offs, or -1. */
static int64_t offset_index(const steer_geo_db_t *db, uint64_t off)
{
	size_t lo = 0, hi = db->nrecs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (db->offs[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < db->nrecs && db->offs[lo] == off ? (int64_t)lo : -1;
}

/* Each data record of the decoded tree becomes nodes + 1 + its index (geo.h: node_recs),
 * one that points outside the data section the empty record. */
static void db_index_records(steer_geo_db_t *db)
{
	for (size_t i = 0; i < (size_t)db->nodes * 2; i++) {
		uint32_t r = db->node_recs[i];
		if (r <= db->nodes)
			continue;
		int64_t k = offset_index(db, data_offset(db, r));
		db->node_recs[i] = k < 0 ? db->nodes : db->nodes + 1 + (uint32_t)k;
	}
}

/* The tree's shape and records (geo.h: node_recs, as the file has them until
 * db_index_records). */
static int db_tree(steer_geo_db_t *db, char *err, size_t errlen)
{
	const MMDB_metadata_s *md = &db->mmdb->metadata;
	const uint8_t *t = db->mmdb->file_content;
	db->nodes = md->node_count;
	db->record_bits = md->record_size;
	db->ipv6 = md->ip_version == 6;
	/* a data record becomes nodes + 1 + an index below 2 * nodes: 3 * nodes fits 32 bits */
	if ((db->record_bits != 24 && db->record_bits != 28 && db->record_bits != 32) ||
	    (size_t)db->nodes * (db->record_bits / 4u) > (size_t)db->mmdb->file_size ||
	    (uint64_t)db->nodes * 3 + 1 > UINT32_MAX) {
		snprintf(err, errlen, "%s: unsupported search tree (record size %u)", db->path,
		         db->record_bits);
		return -EIO;
	}
	db->node_recs = malloc(((size_t)db->nodes * 2 + 1) * sizeof(*db->node_recs));
	if (!db->node_recs) {
		snprintf(err, errlen, "%s: out of memory", db->path);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < db->nodes; i++)
		for (unsigned bit = 0; bit < 2; bit++)
			db->node_recs[(size_t)i * 2 + bit] =
			    file_record(t, db->record_bits, i, bit);
	return 0;
}

/* In an IPv6 tree, the record 96 zero bits down (IPv4 addresses), after db_index_records. */
static void db_v4_start(steer_geo_db_t *db)
{
	uint32_t rec = 0;
	unsigned depth = 0;
	while (db->ipv6 && depth < 96 && rec < db->nodes) {
		rec = node_record(db, rec, 0);
		depth++;
	}
	db->v4_start = rec;
	db->v4_depth = (uint8_t)depth;
}

/* The longest path from record r down to a terminal record (0 for a terminal one), or more
 * than limit when there is one longer than limit (or a cycle): h[node] caches a node's, plus
 * one (0: not known; a height cut short at the limit is only ever cached on the way to a
 * refusal). Recursion depth <= limit + 1. */
static unsigned tree_height(const steer_geo_db_t *db, uint32_t r, unsigned limit, uint8_t *h)
{
	if (r >= db->nodes)
		return 0;
	if (h[r])
		return h[r] - 1u;
	if (limit == 0)
		return 1;
	unsigned l = tree_height(db, node_record(db, r, 0), limit - 1, h);
	unsigned x = tree_height(db, node_record(db, r, 1), limit - 1, h);
	x = 1 + (l > x ? l : x);
	h[r] = (uint8_t)(x + 1);
	return x;
}

/* No path of the tree may be longer than its addresses (128 bits, 32 in an IPv4 tree): the
 * query's walk (geo.h: steer_geo_walk) counts on it to stop within the address.
 * libmaxminddb stops at the address's last bit instead; a tree deeper than that is corrupt
 * (its verifier says so), and refused. *h: every node's height plus one (tree_height), for
 * the jump tables; the caller frees it. */
static int db_heights(steer_geo_db_t *db, uint8_t **h, char *err, size_t errlen)
{
	unsigned limit = db->ipv6 ? 128 : 32;
	*h = calloc(db->nodes ? db->nodes : 1, 1);
	if (!*h) {
		snprintf(err, errlen, "%s: out of memory", db->path);
		return -ENOMEM;
	}
	unsigned height = tree_height(db, 0, limit, *h);
	if (height <= limit)
		return 0;
	snprintf(err, errlen, "%s: corrupt search tree (a path longer than %u bits)", db->path,
	         limit);
	return -EIO;
}

/* Whether a walk from node r, d bits into an IPv6 address, may read past its 63rd bit (h:
 * db_heights'; a tree that passed it has every reachable node's height). */
static bool jump_deep(const steer_geo_db_t *db, uint32_t r, unsigned d, const uint8_t *h)
{
	return r < db->nodes && (h[r] == 0 || d + h[r] - 1u > 63);
}

/* The jump table's entries [lo, hi) for the subtree at record r, depth d (bits below the
 * family's start): the terminal record where the tree ends above STEER_GEO_JUMP_BITS, else the
 * node reached there (IPv6, fam 1: with STEER_GEO_JUMP_DEEP when a path below it is longer
 * than 63 bits). Recursion depth <= STEER_GEO_JUMP_BITS. */
static void jump_fill(const steer_geo_db_t *db, unsigned fam, uint32_t r, unsigned d, uint32_t lo,
                      const uint8_t *h)
{
	uint32_t span = 1u << (STEER_GEO_JUMP_BITS - d);
	if (r >= db->nodes || d == STEER_GEO_JUMP_BITS) {
		uint8_t bits =
		    (uint8_t)(d | (fam && jump_deep(db, r, d, h) ? STEER_GEO_JUMP_DEEP : 0));
		for (uint32_t i = lo; i < lo + span; i++) {
			db->jump_rec[fam][i] = r;
			db->jump_bits[fam][i] = bits;
		}
		return;
	}
	jump_fill(db, fam, node_record(db, r, 0), d + 1, lo, h);
	jump_fill(db, fam, node_record(db, r, 1), d + 1, lo + span / 2, h);
}

/* The jump tables of the families the tree holds (5 bytes an entry, 5 MiB each). */
static int db_jumps(steer_geo_db_t *db, const uint8_t *h)
{
	_Static_assert(STEER_GEO_JUMP_BITS < STEER_GEO_JUMP_DEEP, "the flag is above the bits");
	for (unsigned fam = 0; fam < (db->ipv6 ? 2u : 1u); fam++) {
		size_t n = (size_t)1 << STEER_GEO_JUMP_BITS;
		db->jump_rec[fam] = malloc(n * sizeof(uint32_t));
		db->jump_bits[fam] = malloc(n);
		if (!db->jump_rec[fam] || !db->jump_bits[fam])
			return -ENOMEM;
		jump_fill(db, fam, fam == 0 && db->ipv6 ? db->v4_start : 0, 0, 0, h);
	}
	return 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int copy_fd(int from, int to)
{
	uint8_t buf[65536];
	for (;;) {
		ssize_t n = read(from, buf, sizeof(buf));
		if (n == 0)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sd_errno();
		for (ssize_t off = 0, w; off < n; off += w)
			if ((w = write(to, buf + off, (size_t)(n - off))) < 0)
				return sd_errno();
	}
}

/* Copy the file into an anonymous memory file (memfd) and return it, with the file's stat in
 * *st. libmaxminddb maps the file it opens, and a worker reads that mapping per query: a
 * file rewritten in place (`cp new.mmdb world.mmdb` truncates it first) would make those
 * reads fault (SIGBUS). Reading a private copy makes the database in use independent of
 * the file: a replaced or rewritten file only ever leads to a new copy. A file that changes
 * while it is read is refused ("changed while being read"); the caller retries when it
 * changes again (steer_geo_db_changed). sd_open_regular: a FIFO does not block the open. */
static int db_copy(const char *path, struct stat *st, char *err, size_t errlen)
{
	int fd = sd_open_regular(path, O_RDONLY, 0), mfd = -1, ret = fd < 0 ? fd : 0;
	struct stat after;
	if (ret == 0 && fstat(fd, st) < 0)
		ret = sd_errno();
	if (ret == 0 && (mfd = memfd_create("steerdns-geoip", MFD_CLOEXEC)) < 0)
		ret = sd_errno();
	if (ret == 0)
		ret = copy_fd(fd, mfd);
	if (ret == 0 && fstat(fd, &after) < 0)
		ret = sd_errno();
	if (ret == 0 && !same_file(st, &after))
		ret = -EAGAIN;
	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", path,
		         ret == -EAGAIN ? "changed while being read" : sd_strerror(ret));
		if (mfd >= 0)
			close(mfd);
		mfd = ret;
	}
	if (fd >= 0)
		close(fd);
	return mfd;
}

static int db_load(steer_geo_db_t *db, char *err, size_t errlen)
{
	struct stat st;
	int mfd = db_copy(db->path, &st, err, errlen);
	if (mfd < 0)
		return -EIO;
	char copy[64]; /* libmaxminddb opens by path; the mapping outlives the descriptor */
	snprintf(copy, sizeof(copy), "/proc/self/fd/%d", mfd);
	int status = MMDB_open(copy, MMDB_MODE_MMAP, db->mmdb);
	int saved = errno;
	close(mfd);
	if (status != MMDB_SUCCESS) {
		db->mmdb->file_content = NULL; /* MMDB_open cleaned up: nothing to close */
		snprintf(err, errlen, "%s: %s", db->path,
		         status == MMDB_IO_ERROR ? strerror(saved) : MMDB_strerror(status));
		return -EIO;
	}
	db_stat(db, &st);
	int ret = db_tree(db, err, errlen);
	if (ret < 0)
		return ret;
	ret = db_offsets(db);
	uint8_t *h = NULL;
	if (ret == 0) {
		db_index_records(db);
		db_v4_start(db);
		ret = db_heights(db, &h, err, errlen);
	}
	if (ret == 0)
		ret = db_jumps(db, h);
	free(h);
	if (ret == 0 && !(db->recs = calloc(db->nrecs ? db->nrecs : 1, sizeof(*db->recs))))
		ret = -ENOMEM;
	for (size_t i = 0; ret == 0 && i < db->nrecs; i++)
		rec_decode(db->mmdb, db->offs[i], &db->recs[i]);
	if (ret < 0 && err[0] == '\0')
		snprintf(err, errlen, "%s: out of memory", db->path);
	return ret;
}

int steer_geo_db_open(const char *name, const char *path, steer_geo_db_t **out, char *err,
                      size_t errlen)
{
	steer_geo_db_t *db = calloc(1, sizeof(*db));
	*out = NULL;
	err[0] = '\0';
	if (db)
		db->refs = 1;
	if (!db || !(db->name = strdup(name)) || !(db->path = strdup(path)) ||
	    !(db->mmdb = calloc(1, sizeof(*db->mmdb)))) {
		steer_geo_db_unref(db);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	int ret = db_load(db, err, errlen);
	if (ret < 0) {
		steer_geo_db_unref(db);
		return ret;
	}
	*out = db;
	return 0;
}

steer_geo_db_t *steer_geo_db_ref(const steer_geo_db_t *db)
{
	steer_geo_db_t *w = (steer_geo_db_t *)db;
	__atomic_add_fetch(&w->refs, 1, __ATOMIC_RELAXED);
	return w;
}

void steer_geo_db_unref(steer_geo_db_t *db)
{
	if (!db || __atomic_sub_fetch(&db->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (db->mmdb && db->mmdb->file_content)
		MMDB_close(db->mmdb);
	free(db->mmdb);
	free(db->offs);
	free(db->node_recs);
	free(db->recs);
	for (unsigned fam = 0; fam < 2; fam++) {
		free(db->jump_rec[fam]);
		free(db->jump_bits[fam]);
	}
	free(db->name);
	free(db->path);
	free(db);
}

const char *steer_geo_db_type(const steer_geo_db_t *db)
{
	const char *t = db->mmdb ? db->mmdb->metadata.database_type : NULL;
	return t ? t : "?";
}

bool steer_geo_db_changed(const steer_geo_db_t *db)
{
	struct stat st;
	if (stat(db->path, &st) < 0)
		return false;
	return st.st_dev != db->dev || st.st_ino != db->ino || st.st_size != db->size ||
	       st.st_mtim.tv_sec != db->mtime.tv_sec || st.st_mtim.tv_nsec != db->mtime.tv_nsec;
}

/* ---- rules ---------------------------------------------------------------------------- */

double steer_geo_distance_km(double lat1, double lon1, double lat2, double lon2)
{
	const double rad = M_PI / 180.0, earth = 6371.0;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double a = sin(dlat / 2) * sin(dlat / 2) +
	           cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
	return 2 * earth * asin(sqrt(a < 1 ? a : 1));
}

static const steer_geo_rule_t *rule_find(const steer_geo_conf_t *g, steer_geo_kind_t kind,
                                         const char *code, uint16_t *at)
{
	if (!code[0])
		return NULL;
	for (size_t i = 0; i < g->nrules; i++)
		if (g->rules[i].kind == kind && strcmp(g->rules[i].code, code) == 0) {
			*at = (uint16_t)i;
			return &g->rules[i];
		}
	return NULL;
}

static void list_of_rule(const steer_geo_rule_t *r, uint16_t at, steer_geo_list_t *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = r->kind;
	out->rule = at;
	out->n = r->npools;
	memcpy(out->pools, r->pools, r->npools);
}

/* The located pools of p, nearest to (lat, lon) first; ties keep the configured order. */
static void list_by_distance(const steer_policy_t *p, double lat, double lon, steer_geo_list_t *out)
{
	double d[STEER_POOLS_MAX + 1];
	memset(out, 0, sizeof(*out));
	out->kind = STEER_GEO_DISTANCE;
	for (size_t i = 0; i < p->npools; i++) {
		if (!p->pools[i].located)
			continue;
		double di = steer_geo_distance_km(lat, lon, p->pools[i].lat, p->pools[i].lon);
		size_t k = out->n;
		while (k > 0 && d[k - 1] > di) { /* insertion: a handful of pools */
			d[k] = d[k - 1];
			out->pools[k] = out->pools[k - 1];
			k--;
		}
		d[k] = di;
		out->pools[k] = (uint8_t)i;
		out->n++;
	}
}

/* Most specific first: subdivision, country, continent, distance, default. */
static void list_for(const steer_policy_t *p, const steer_geo_rec_t *r, steer_geo_list_t *out)
{
	const steer_geo_conf_t *g = p->geo;
	const steer_geo_rule_t *rule = NULL;
	uint16_t at = 0;
	if (r && !(rule = rule_find(g, STEER_GEO_SUBDIVISION, r->subdiv, &at)) &&
	    !(rule = rule_find(g, STEER_GEO_COUNTRY, r->country, &at)))
		rule = rule_find(g, STEER_GEO_CONTINENT, r->continent, &at);
	if (rule)
		list_of_rule(rule, at, out);
	else if (r && g->distance && r->located)
		list_by_distance(p, r->lat, r->lon, out);
	else
		list_of_rule(&g->def, 0, out);
}

/* ---- maps ----------------------------------------------------------------------------- */

static bool pools_equal(const steer_geo_list_t *a, const steer_geo_list_t *b)
{
	return a->n == b->n && memcmp(a->pools, b->pools, a->n) == 0;
}

static bool list_equal(const steer_geo_list_t *a, const steer_geo_list_t *b)
{
	return a->kind == b->kind && a->rule == b->rule && pools_equal(a, b);
}

/* The index of list l in m (added when new). */
static int map_intern(steer_geo_map_t *m, const steer_geo_list_t *l, size_t *cap, uint16_t *at)
{
	for (size_t i = 0; i < m->nlists; i++)
		if (list_equal(&m->lists[i], l)) {
			*at = (uint16_t)i;
			return 0;
		}
	if (m->nlists == UINT16_MAX)
		return -ENOSPC;
	if (m->nlists == *cap) {
		steer_geo_list_t *w = realloc(m->lists, 2 * *cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		m->lists = w;
		*cap *= 2;
	}
	m->lists[m->nlists] = *l;
	*at = (uint16_t)m->nlists++;
	return 0;
}

/* Each list's order (steer_geo_list_t): the pools of the first list that has the same ones,
 * once the lists no longer move. */
static void map_orders(steer_geo_map_t *m)
{
	for (size_t i = 0; i < m->nlists; i++) {
		size_t j = 0;
		while (!pools_equal(&m->lists[j], &m->lists[i]))
			j++; /* ends at i at the latest */
		m->lists[i].order = m->lists[j].pools;
	}
}

int steer_geo_map_build(const steer_policy_t *p, steer_geo_db_t *db, steer_geo_map_t **out)
{
	size_t cap = 16;
	steer_geo_map_t *m = calloc(1, sizeof(*m));
	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->refs = 1;
	m->db = steer_geo_db_ref(db);
	m->lists = malloc(cap * sizeof(*m->lists));
	m->rec_list = calloc(1 + db->nrecs, sizeof(*m->rec_list)); /* [0]: the default */
	int ret = m->lists && m->rec_list ? 0 : -ENOMEM;
	steer_geo_list_t l;
	uint16_t at;
	if (ret == 0) {
		list_for(p, NULL, &l);
		ret = map_intern(m, &l, &cap, &at); /* lists[0]: the default */
	}
	for (size_t i = 0; ret == 0 && i < db->nrecs; i++) {
		list_for(p, &db->recs[i], &l);
		ret = map_intern(m, &l, &cap, &m->rec_list[1 + i]);
	}
	if (ret == 0)
		map_orders(m);
	if (ret < 0) {
		steer_geo_map_unref(m);
		return ret;
	}
	*out = m;
	return 0;
}

static bool rule_equal(const steer_geo_rule_t *a, const steer_geo_rule_t *b)
{
	return a->kind == b->kind && strcmp(a->code, b->code) == 0 && a->npools == b->npools &&
	       memcmp(a->pools, b->pools, a->npools) == 0;
}

static bool locations_equal(const steer_policy_t *a, const steer_policy_t *b)
{
	if (a->npools != b->npools)
		return false;
	for (size_t i = 0; i < a->npools; i++) {
		const steer_pool_t *x = &a->pools[i], *y = &b->pools[i];
		if (x->located != y->located ||
		    (x->located && (x->lat != y->lat || x->lon != y->lon)))
			return false;
	}
	return true;
}

bool steer_geo_same_map(const steer_policy_t *a, const steer_policy_t *b)
{
	const steer_geo_conf_t *x = a->geo, *y = b->geo;
	if (x->db != y->db || x->distance != y->distance || x->nrules != y->nrules ||
	    !rule_equal(&x->def, &y->def) || (x->distance && !locations_equal(a, b)))
		return false;
	for (size_t i = 0; i < x->nrules; i++)
		if (!rule_equal(&x->rules[i], &y->rules[i]))
			return false;
	return true;
}

steer_geo_map_t *steer_geo_map_ref(const steer_geo_map_t *m)
{
	steer_geo_map_t *w = (steer_geo_map_t *)m;
	__atomic_add_fetch(&w->refs, 1, __ATOMIC_RELAXED);
	return w;
}

void steer_geo_map_unref(steer_geo_map_t *m)
{
	if (!m || __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	steer_geo_db_unref(m->db);
	free(m->lists);
	free(m->rec_list);
	free(m);
}

/* ---- the query path ------------------------------------------------------------------- */

unsigned steer_geo_walk_deep(const steer_geo_db_t *db, const steer_addr_t *a, uint32_t r,
                             unsigned i, uint32_t *rec)
{
	const uint32_t *t = db->node_recs;
	uint64_t hi = (uint64_t)be32_get(a->bytes) << 32 | be32_get(a->bytes + 4);
	uint64_t lo = (uint64_t)be32_get(a->bytes + 8) << 32 | be32_get(a->bytes + 12);
	/* i < 64: the first word, then the second (no path is longer than 128 bits) */
	for (hi <<= i; r < db->nodes && i < 64; i++, hi <<= 1)
		r = t[(size_t)r * 2 + (hi >> 63)];
	for (; r < db->nodes; i++, lo <<= 1)
		r = t[(size_t)r * 2 + (lo >> 63)];
	*rec = r;
	return i;
}

/* libmaxminddb's walk of the search tree: the record's data offset (found) and the prefix
 * length of the network or empty node it ends at. */
static bool geo_walk(const MMDB_s *mmdb, const steer_addr_t *a, MMDB_lookup_result_s *res)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	const struct sockaddr *sa;
	if (a->len == 4) {
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		memcpy(&s4.sin_addr, a->bytes, 4);
		sa = (const struct sockaddr *)&s4;
	} else {
		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		memcpy(&s6.sin6_addr, a->bytes, 16);
		sa = (const struct sockaddr *)&s6;
	}
	int err = MMDB_SUCCESS;
	*res = MMDB_lookup_sockaddr(mmdb, sa, &err);
	return err == MMDB_SUCCESS;
}

/* The netmask in the client's family (geo.h: steer_geo_scope_of). */
static uint8_t geo_scope(bool ipv6_tree, const steer_addr_t *a, unsigned netmask)
{
	return steer_geo_scope_of(ipv6_tree, a, netmask);
}

void steer_geo_decide_walk(const steer_geo_map_t *m, const steer_policy_t *p, const steer_addr_t *a,
                           steer_geo_list_t *scratch, steer_geo_hit_t *out)
{
	MMDB_lookup_result_s res;
	steer_geo_rec_t r;
	out->list = &m->lists[0];
	out->rec = -1;
	out->netmask = out->scope = 0;
	if (!geo_walk(m->db->mmdb, a, &res))
		return;
	out->netmask = (uint8_t)res.netmask;
	out->scope = geo_scope(m->db->ipv6, a, res.netmask);
	if (!res.found_entry)
		return;
	out->rec = (int32_t)offset_index(m->db, res.entry.offset);
	rec_decode(m->db->mmdb, res.entry.offset, &r);
	list_for(p, &r, scratch);
	out->list = scratch;
}
