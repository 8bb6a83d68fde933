/* fuzz_dname.c — libFuzzer target for the name codecs of zone/name.h, with a corpus replay.
 *
 * The input is read twice:
 *  - as a DNS message: dname_parse() at each of the first offsets. A parsed name must be a
 *    well-formed wire name no longer than 255 bytes whose length is the return value, the
 *    position must advance inside the input, and the presentation round trip
 *    dname_from_str(dname_to_str(name)) must give the lowercased name back (RFC 1035 5.1
 *    escapes, RFC 4343 case). dname_to_str() into a short heap buffer must stay inside it.
 *  - as presentation text relative to example.com.: a name dname_from_str() accepts must
 *    survive the same round trip and lie below the root.
 */
#include <stdbool.h>
#include <string.h>

#include "contrib/base/err.h"
#include "tests/fuzz/replay.h"
#include "dns/name.h"

#define OFFSETS_MAX 64
#define TEXT_MAX    (DNAME_MAX * 4 + 2) /* every byte as \DDD, plus the dots and NUL */

static const uint8_t g_origin[] = "\x07"
                                  "example\x03"
                                  "com";

static bool well_formed(const uint8_t *name, size_t len)
{
	size_t p = 0;
	while (p < len && name[p] != 0) {
		if (name[p] > 63)
			return false;
		p += 1u + name[p];
	}
	return p + 1 == len && len <= DNAME_MAX;
}

/* name (any case, well-formed) -> text -> name must give the lowercased name. */
static void round_trip(const uint8_t *name, size_t len)
{
	static char text[TEXT_MAX];
	uint8_t lower[DNAME_MAX], back[DNAME_MAX];
	memcpy(lower, name, len);
	dname_lower(lower);
	dname_to_str(name, text, sizeof(text));
	FUZZ_CHECK(strlen(text) < sizeof(text));
	int n = dname_from_str(text, NULL, back);
	if (n < 0)
		fprintf(stderr, "dname_from_str rejected '%s'\n", text);
	FUZZ_CHECK(n == (int)len);
	FUZZ_CHECK(dname_equal(lower, back));
	FUZZ_CHECK(dname_equal_ci(name, back));
	FUZZ_CHECK(dname_cmp_canonical(lower, back) == 0);
	FUZZ_CHECK(dname_is_subdomain(lower, (const uint8_t *)""));
	FUZZ_CHECK(dname_hash(lower, len) == dname_hash(back, len));
	uint8_t folded[DNAME_MAX];
	FUZZ_CHECK(dname_copy_lower_hash(folded, name, len) == dname_hash(lower, len));
	FUZZ_CHECK(memcmp(folded, lower, len) == 0);
	uint8_t offs[DNAME_LABELS_MAX];
	unsigned labels = dname_labels(lower);
	FUZZ_CHECK(labels < DNAME_LABELS_MAX);
	FUZZ_CHECK(dname_label_offsets(lower, offs) == labels);
	for (unsigned i = 0; i < labels; i++) {
		FUZZ_CHECK(offs[i] < len);
		FUZZ_CHECK(dname_is_subdomain(lower, lower + offs[i]));
	}
}

static void wire(const uint8_t *data, size_t size)
{
	size_t offsets = size < OFFSETS_MAX ? size : OFFSETS_MAX;
	for (size_t start = 0; start < offsets; start++) {
		uint8_t out[DNAME_MAX];
		size_t pos = start;
		int n = dname_parse(data, size, &pos, out);
		if (n < 0) {
			FUZZ_CHECK(n == SD_EPARSE);
			FUZZ_CHECK(pos == start);
			continue;
		}
		FUZZ_CHECK(pos > start && pos <= size);
		FUZZ_CHECK(well_formed(out, (size_t)n));
		FUZZ_CHECK(dname_len(out) == (size_t)n);
		round_trip(out, (size_t)n);
		/* Truncating output: the buffer's last byte must be the NUL. */
		size_t small = 1u + data[start] % 48u;
		char *buf = malloc(small);
		FUZZ_CHECK(buf != NULL);
		dname_to_str(out, buf, small);
		FUZZ_CHECK(strlen(buf) < small);
		free(buf);
	}
}

static void text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	uint8_t out[DNAME_MAX];
	int n = dname_from_str(s, g_origin, out);
	if (n > 0) {
		FUZZ_CHECK(well_formed(out, (size_t)n));
		round_trip(out, (size_t)n);
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	wire(data, size);
	text(data, size);
	return 0;
}

void fuzz_teardown(void)
{
}
