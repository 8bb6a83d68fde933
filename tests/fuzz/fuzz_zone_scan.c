/* fuzz_zone_scan.c — libFuzzer target comparing the loader's two readers (zone/scan.h): each
 * input is the zone file of example.com., loaded with the scanner reading plain lines and
 * with ldns reading every line (zone_load_set_scanner). Both must give the same result code,
 * the same messages (text with file:line, in order: one hash) and, when the load succeeds,
 * the same version: nodes, RRsets, TTLs and RDATA octet for octet. Inputs that mention
 * $INCLUDE are skipped (fuzz_zone covers includes; this target must not read other files).
 */
#include <string.h>
#include <strings.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "tests/fuzz/replay.h"
#include "zone/load.h"

static const uint8_t g_apex[] = "\x07"
                                "example\x03"
                                "com";
static char g_path[256];

/* The messages of one load: how many and a hash of their text (FNV-1a). */
typedef struct msgs {
	unsigned count;
	uint64_t hash;
} msgs_t;

static msgs_t g_msgs;

static void hook(log_level_t level, const char *line, void *data)
{
	(void)data;
	g_msgs.count++;
	g_msgs.hash = (g_msgs.hash ^ (uint64_t)level) * 0x100000001b3ull;
	for (const char *p = line; *p; p++)
		g_msgs.hash = (g_msgs.hash ^ (uint8_t)*p) * 0x100000001b3ull;
}

static bool mentions_include(const uint8_t *data, size_t size)
{
	static const char word[] = "$include";
	for (size_t i = 0; i + sizeof(word) - 1 <= size; i++)
		if (strncasecmp((const char *)data + i, word, sizeof(word) - 1) == 0)
			return true;
	return false;
}

static int load(bool scanner, zone_version_t **v, msgs_t *m)
{
	g_msgs = (msgs_t){.hash = 0xcbf29ce484222325ull};
	zone_load_set_scanner(scanner);
	int rc = zone_load_file(g_apex, g_path, NULL, v);
	zone_load_set_scanner(true);
	*m = g_msgs;
	return rc;
}

static void check_same(const zone_version_t *a, const zone_version_t *b)
{
	FUZZ_CHECK(zone_version_node_count(a) == zone_version_node_count(b));
	FUZZ_CHECK(zone_version_rr_count(a) == zone_version_rr_count(b));
	zone_version_iter_t ia, ib;
	zone_version_iter_init(a, &ia);
	zone_version_iter_init(b, &ib);
	for (const zone_node_t *x; (x = zone_version_iter_next(&ia)) != NULL;) {
		const zone_node_t *y = zone_version_iter_next(&ib);
		FUZZ_CHECK(y != NULL && x->owner_len == y->owner_len &&
		           memcmp(x->owner, y->owner, x->owner_len) == 0);
		FUZZ_CHECK(x->rrset_count == y->rrset_count && x->flags == y->flags);
		for (uint16_t k = 0; k < x->rrset_count; k++) {
			const zone_rrset_t *r = &x->rrsets[k], *s = &y->rrsets[k];
			FUZZ_CHECK(r->type == s->type && r->ttl == s->ttl && r->count == s->count);
			FUZZ_CHECK(r->rdata_len == s->rdata_len &&
			           memcmp(r->rdata, s->rdata, r->rdata_len) == 0);
		}
	}
	FUZZ_CHECK(zone_version_iter_next(&ib) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (g_path[0] == '\0') {
		snprintf(g_path, sizeof(g_path), "%s/zone.txt", fuzz_tmpdir());
		log_set_hook(hook, NULL);
	}
	if (mentions_include(data, size))
		return 0;
	fuzz_write_file(g_path, data, size);
	zone_version_t *a = NULL, *b = NULL;
	msgs_t ma, mb;
	int ra = load(true, &a, &ma), rb = load(false, &b, &mb);
	if (ra != rb || ma.count != mb.count || ma.hash != mb.hash)
		fprintf(stderr, "scanner %d (%u messages), ldns %d (%u messages)\n", ra, ma.count,
		        rb, mb.count);
	FUZZ_CHECK(ra == rb);
	FUZZ_CHECK(ma.count == mb.count && ma.hash == mb.hash);
	FUZZ_CHECK((a != NULL) == (b != NULL));
	if (a)
		check_same(a, b);
	zone_version_unref(a);
	zone_version_unref(b);
	return 0;
}

void fuzz_teardown(void)
{
	log_set_hook(NULL, NULL);
}
