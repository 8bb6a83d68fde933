/* fuzz_journal.c — libFuzzer target for the on-disk journal (zone/journal.h) and the change
 * set decoder (zone_changeset_parse, zone/changeset.h), with a corpus replay.
 *
 * A journal is read at every start; whatever a crash, a full disk or an operator left in it,
 * the daemon must start (RFC 1995 history is lost at worst, never the process). Each input is
 *  1. decoded as one change set payload: when zone_changeset_parse() accepts it, serializing
 *     the result must give the input back byte for byte (the journal copies bytes);
 *  2. written as the journal file of example.com. and opened: 0 or a clean error;
 *  3. written again with our header and every entry's CRC32C recomputed, so the fuzzer gets
 *     past the checksums to the chain, the origins and the payloads. The header is of
 *     format 2 (entries with time and source) when the input's is, else of format 1 (which
 *     the open upgrades). This must open (the header is
 *     ours; a bad tail is truncated). Every entry is re-read and re-parsed; then a new change
 *     set is appended durably, compaction runs when the (small) depth limit says so, and a
 *     reopen must find the appended serial last and the depth the journal reported.
 * Files live in a private directory on tmpfs (replay.h).
 */
#include <string.h>

#include "contrib/base/err.h"
#include "tests/fuzz/replay.h"
#include "zone/changeset.h"
#include "zone/journal.h"
#include "contrib/base/crc32c.h"

#define MAGIC      "SDJRNL\r\n"
#define MAGIC_LEN  8
#define ENTRY_HDR  16
#define ENTRY_META 10 /* format 2: time u64, source kind u8, text length u8 (then the text) */
#define ENTRY_TAG  0x53444a45u /* "SDJE" */
#define INPUT_MAX  (1u << 20)

static const uint8_t g_apex[] = "\x07"
                                "example\x03"
                                "com";
static const zone_journal_limits_t g_limits = {.max_size = 0, .max_depth = 3};
static char g_path[256];
static uint8_t *g_fixed;

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void build(void)
{
	fuzz_quiet_log();
	snprintf(g_path, sizeof(g_path), "%s/example.com.jnl", fuzz_tmpdir());
	g_fixed = malloc(INPUT_MAX + 512);
	FUZZ_CHECK(g_fixed != NULL);
}

/* 1: the payload decoder and its exact round trip. */
static void payload(const uint8_t *data, size_t size)
{
	zone_changeset_t *cs = NULL;
	int rc = zone_changeset_parse(data, size, &cs);
	FUZZ_CHECK(rc == 0 || rc == SD_EPARSE);
	if (rc != 0)
		return;
	uint8_t *buf = NULL;
	size_t len = 0;
	FUZZ_CHECK(zone_changeset_serialize(cs, &buf, &len) == 0);
	FUZZ_CHECK(len == size && memcmp(buf, data, size) == 0);
	zone_rr_t soa;
	FUZZ_CHECK(zone_changeset_soa_from(cs, &soa) && zone_changeset_soa_to(cs, &soa));
	FUZZ_CHECK(zone_changeset_wire_size(cs) <= size);
	free(buf);
	zone_changeset_free(cs);
}

/* Every entry from the first serial re-read and re-parsed; returns the depth. */
static size_t read_all(zone_journal_t *j)
{
	size_t depth = zone_journal_depth(j);
	uint32_t first, last;
	if (zone_journal_first_serial(j, &first) != 0) {
		FUZZ_CHECK(depth == 0);
		FUZZ_CHECK(zone_journal_last_serial(j, &last) == SD_ENOTFOUND);
		return 0;
	}
	FUZZ_CHECK(depth > 0 && zone_journal_last_serial(j, &last) == 0);
	zone_changeset_t **list = NULL;
	size_t n = 0;
	int rc = zone_journal_read(j, first, &list, &n);
	if (rc == 0) {
		FUZZ_CHECK(n == depth);
		for (size_t i = 0; i < n; i++) {
			FUZZ_CHECK(i == 0 ||
			           zone_changeset_from(list[i]) == zone_changeset_to(list[i - 1]));
			uint8_t *buf = NULL;
			size_t len = 0;
			FUZZ_CHECK(zone_changeset_serialize(list[i], &buf, &len) == 0);
			free(buf);
		}
		FUZZ_CHECK(zone_changeset_from(list[0]) == first);
		FUZZ_CHECK(zone_changeset_to(list[n - 1]) == last);
		zone_journal_free_list(list, n);
	} else {
		FUZZ_CHECK(rc == SD_EPARSE || rc == SD_ECHECKSUM);
	}
	return depth;
}

/* SOA rdata "ns. hm. serial 1 1 1 1". */
static size_t soa_rdata(uint8_t *rd, uint32_t serial)
{
	static const uint8_t names[] = "\x02ns\x00\x02hm";
	memcpy(rd, names, 8);
	wr32(rd + 8, serial);
	for (int i = 1; i <= 4; i++)
		wr32(rd + 8 + 4 * i, 1);
	return 28;
}

static zone_changeset_t *next_changeset(uint32_t from)
{
	uint8_t rd_from[32], rd_to[32];
	static const uint8_t addr[4] = {192, 0, 2, 1};
	zone_rr_t f = {.owner = g_apex, .type = 6, .rclass = 1, .ttl = 60, .rdata = rd_from};
	zone_rr_t t = f, a = {.owner = g_apex, .type = 1, .rclass = 1, .ttl = 60, .rdlen = 4};
	f.rdlen = (uint16_t)soa_rdata(rd_from, from);
	t.rdata = rd_to;
	t.rdlen = (uint16_t)soa_rdata(rd_to, from + 1);
	a.rdata = addr;
	zone_changeset_t *cs = NULL;
	FUZZ_CHECK(zone_changeset_new(&cs) == 0);
	FUZZ_CHECK(zone_changeset_set_soa(cs, &f, &t) == 0);
	FUZZ_CHECK(zone_changeset_add(cs, &a) == 0);
	return cs;
}

/* Append one change set durably, compact when over the limit, reopen and compare. */
static void append_and_reopen(zone_journal_t *j)
{
	uint32_t last;
	if (zone_journal_last_serial(j, &last) != 0)
		last = 1; /* empty: any serial starts the chain */
	zone_changeset_t *cs = next_changeset(last);
	FUZZ_CHECK(zone_journal_append(j, cs) == 0);
	zone_changeset_free(cs);
	FUZZ_CHECK(zone_journal_last_serial(j, &last) == 0);
	if (zone_journal_over_limit(j))
		FUZZ_CHECK(zone_journal_compact(j, last) == 0);
	size_t depth = zone_journal_depth(j);
	zone_journal_close(j);
	j = NULL;
	FUZZ_CHECK(zone_journal_open(g_path, g_apex, &g_limits, &j) == 0);
	uint32_t again = 0;
	FUZZ_CHECK(zone_journal_last_serial(j, &again) == 0 && again == last);
	FUZZ_CHECK(zone_journal_depth(j) == depth);
	zone_journal_close(j);
}

/* 2: the input as it is. */
static void raw(const uint8_t *data, size_t size)
{
	fuzz_write_file(g_path, data, size);
	zone_journal_t *j = NULL;
	int rc = zone_journal_open(g_path, g_apex, &g_limits, &j);
	FUZZ_CHECK((rc == 0) == (j != NULL));
	FUZZ_CHECK(rc == 0 || rc == SD_ECHECKSUM || rc == SD_ESEMANTIC);
	if (rc != 0)
		return;
	read_all(j);
	zone_journal_close(j);
}

/* The length of the entry header at p (room: left bytes) in format version, or 0. */
static size_t entry_hdr_len(const uint8_t *p, size_t left, uint32_t version)
{
	if (version < 2)
		return ENTRY_HDR;
	if (left < ENTRY_HDR + ENTRY_META)
		return 0;
	size_t hl = ENTRY_HDR + ENTRY_META + p[ENTRY_HDR + ENTRY_META - 1];
	return hl <= left ? hl : 0;
}

/* Our header, then the input's entries (after its own header, if it has one) with their
 * CRCs recomputed. Returns the file's length. */
static size_t fix_up(const uint8_t *data, size_t size)
{
	size_t al = sizeof(g_apex), skip = 0;
	uint32_t version = 1;
	if (size >= MAGIC_LEN + 4 && memcmp(data, MAGIC, MAGIC_LEN) == 0 &&
	    rd32(data + MAGIC_LEN) == 2)
		version = 2;
	memcpy(g_fixed, MAGIC, MAGIC_LEN);
	wr32(g_fixed + MAGIC_LEN, version);
	g_fixed[MAGIC_LEN + 4] = (uint8_t)al;
	memcpy(g_fixed + MAGIC_LEN + 5, g_apex, al);
	size_t hl = MAGIC_LEN + 5 + al;
	wr32(g_fixed + hl, sd_crc32c(0, g_fixed, hl));
	hl += 4;
	if (size > MAGIC_LEN + 4 && memcmp(data, MAGIC, MAGIC_LEN) == 0)
		skip = MAGIC_LEN + 5 + (size_t)data[MAGIC_LEN + 4] + 4;
	if (skip > size)
		skip = size;
	memcpy(g_fixed + hl, data + skip, size - skip);
	size_t len = hl + size - skip;
	for (size_t off = hl; off + ENTRY_HDR <= len && rd32(g_fixed + off) == ENTRY_TAG;) {
		size_t plen = rd32(g_fixed + off + 4);
		size_t eh = entry_hdr_len(g_fixed + off, len - off, version);
		if (eh == 0 || plen > len - off - eh || len - off - eh - plen < 4)
			break;
		wr32(g_fixed + off + eh + plen, sd_crc32c(0, g_fixed + off, eh + plen));
		off += eh + plen + 4;
	}
	return len;
}

/* 3: the input with valid checksums. */
static void fixed(const uint8_t *data, size_t size)
{
	size_t len = fix_up(data, size);
	fuzz_write_file(g_path, g_fixed, len);
	zone_journal_t *j = NULL;
	FUZZ_CHECK(zone_journal_open(g_path, g_apex, &g_limits, &j) == 0);
	read_all(j);
	append_and_reopen(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (g_fixed == NULL)
		build();
	if (size > INPUT_MAX)
		return 0;
	payload(data, size);
	raw(data, size);
	fixed(data, size);
	return 0;
}

void fuzz_teardown(void)
{
	free(g_fixed);
	g_fixed = NULL;
}
