/* name.c — domain names in wire form (see name.h). Nothing here allocates. */
#include "dns/name.h"
#include "contrib/base/bytes.h"
#include "contrib/base/err.h"

#include <string.h>

/* At most this many compression pointers per name. Every pointer must go strictly backwards,
 * so a packet cannot loop, but a long backward chain could still cost time: 127 is more
 * than any legal name can use (each hop adds at least one label of two bytes or more). */
#define DNAME_MAX_HOPS 127

size_t dname_len(const uint8_t *name)
{
	size_t p = 0;
	while (name[p] != 0)
		p += (size_t)name[p] + 1;
	return p + 1;
}

int dname_skip(const uint8_t *pkt, size_t len, size_t *pos)
{
	size_t p = *pos;
	while (p < len && p - *pos < DNAME_MAX) {
		uint8_t l = pkt[p];
		if ((l & 0xc0) == 0xc0) {
			if (len - p < 2)
				return SD_EPARSE;
			*pos = p + 2;
			return 0;
		}
		if (l & 0xc0)
			return SD_EPARSE;
		p += 1u + l;
		if (l == 0) {
			*pos = p;
			return 0;
		}
	}
	return SD_EPARSE;
}

size_t dname_len_bounded(const uint8_t *p, size_t max)
{
	size_t i = 0;
	while (i < max) {
		uint8_t l = p[i];
		if (l == 0)
			return i + 1 <= DNAME_MAX ? i + 1 : 0;
		if (l & 0xc0)
			return 0;
		i += 1u + l;
	}
	return 0;
}

/* RFC 1035 4.1.4: a pointer is 0b11 followed by a 14-bit offset; 0b01 and 0b10 are reserved
 * (RFC 6891 retired the 0x40 extended label type). We accept only pointers to an offset
 * strictly before the place where the current run of labels started, which makes every hop
 * move backwards and rules out loops without extra state. */
int dname_parse(const uint8_t *pkt, size_t len, size_t *pos, uint8_t out[DNAME_MAX])
{
	size_t p = *pos;
	size_t run_start = p; /* where the labels being read started */
	size_t after = 0;     /* position after the name in the packet (set at the first hop) */
	size_t olen = 0;
	unsigned hops = 0;

	for (;;) {
		if (p >= len)
			return SD_EPARSE;
		uint8_t c = pkt[p];
		if (c == 0) {
			out[olen++] = 0;
			if (hops == 0)
				after = p + 1;
			break;
		}
		if ((c & 0xC0) == 0xC0) {
			if (p + 1 >= len)
				return SD_EPARSE;
			size_t target = ((size_t)(c & 0x3F) << 8) | pkt[p + 1];
			if (target >= run_start || ++hops > DNAME_MAX_HOPS)
				return SD_EPARSE;
			if (hops == 1)
				after = p + 2;
			p = run_start = target;
			continue;
		}
		if (c & 0xC0)
			return SD_EPARSE;
		/* label c bytes; keep room for the root label */
		if (p + 1 + c > len || olen + 1 + c + 1 > DNAME_MAX)
			return SD_EPARSE;
		memcpy(out + olen, pkt + p, (size_t)c + 1);
		olen += (size_t)c + 1;
		p += (size_t)c + 1;
	}
	*pos = after;
	return (int)olen;
}

#define ONES 0x0101010101010101ull

/* dname_fold() on 8 bytes at once: a byte whose low seven bits lie in 'A'..'Z' and whose top
 * bit is clear gains bit 0x20 (the sums cannot carry from one byte into the next). */
static inline uint64_t fold64(uint64_t w)
{
	uint64_t low7 = w & (0x7f * ONES);
	uint64_t ge_a = low7 + (0x80 - 'A') * ONES;     /* top bit: >= 'A' */
	uint64_t gt_z = low7 + (0x80 - 'Z' - 1) * ONES; /* top bit: > 'Z' */
	return w | (((ge_a ^ gt_z) & ~w & (0x80 * ONES)) >> 2);
}

/* Length bytes are < 64 and never letters, so the whole name folds as one string, a word at
 * a time (the last word overlaps the one before: folding twice changes nothing). */
void dname_lower(uint8_t *name)
{
	dname_copy_lower(name, name, dname_len(name));
}

void dname_copy_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	if (len < 8) {
		for (size_t i = 0; i < len; i++)
			dst[i] = dname_fold(src[i]);
		return;
	}
	/* the last word first: with dst == src, folding a byte twice changes nothing */
	uint64_t last = fold64(ne64_load(src + len - 8));
	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t w = fold64(ne64_load(src + i));
		memcpy(dst + i, &w, sizeof(w));
	}
	memcpy(dst + len - 8, &last, sizeof(last));
}

unsigned dname_labels(const uint8_t *name)
{
	unsigned n = 0;
	size_t p = 0;
	while (name[p] != 0) {
		p += (size_t)name[p] + 1;
		n++;
	}
	return n;
}

unsigned dname_label_offsets(const uint8_t *name, uint8_t offs[DNAME_LABELS_MAX])
{
	unsigned n = 0;
	size_t p = 0;
	while (name[p] != 0 && n < DNAME_LABELS_MAX) {
		offs[n++] = (uint8_t)p;
		p += (size_t)name[p] + 1;
	}
	return n;
}

unsigned dname_label_offsets_len(const uint8_t *name, uint8_t offs[DNAME_LABELS_MAX], size_t *len)
{
	unsigned n = 0;
	size_t p = 0;
	while (name[p] != 0) {
		if (n < DNAME_LABELS_MAX)
			offs[n++] = (uint8_t)p;
		p += (size_t)name[p] + 1;
	}
	*len = p + 1;
	return n;
}

bool dname_equal(const uint8_t *a, const uint8_t *b)
{
	size_t la = dname_len(a);
	return la == dname_len(b) && memcmp(a, b, la) == 0;
}

bool dname_label_equal_ci(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (dname_fold(a[i]) != dname_fold(b[i]))
			return false;
	}
	return true;
}

bool dname_equal_ci(const uint8_t *a, const uint8_t *b)
{
	size_t la = dname_len(a);
	/* length bytes are < 64 and never letters, so folding them with the rest is harmless */
	return la == dname_len(b) && dname_label_equal_ci(a, b, la);
}

bool dname_is_subdomain(const uint8_t *name, const uint8_t *parent)
{
	size_t ln = dname_len(name);
	size_t lp = dname_len(parent);
	if (lp > ln)
		return false;
	/* walk label boundaries of name until the rest is as long as parent */
	size_t p = 0;
	while (ln - p > lp)
		p += (size_t)name[p] + 1;
	return ln - p == lp && memcmp(name + p, parent, lp) == 0;
}

/* RFC 4034 6.1: compare label by label from the rightmost one; each label as a string of
 * lowercased octets where a shorter label that is a prefix of a longer one sorts first; a
 * name with fewer labels sorts first when all its labels match. */
int dname_cmp_canonical(const uint8_t *a, const uint8_t *b)
{
	uint8_t oa[DNAME_LABELS_MAX], ob[DNAME_LABELS_MAX];
	unsigned na = dname_label_offsets(a, oa);
	unsigned nb = dname_label_offsets(b, ob);

	while (na > 0 && nb > 0) {
		const uint8_t *la = a + oa[--na];
		const uint8_t *lb = b + ob[--nb];
		unsigned min = la[0] < lb[0] ? la[0] : lb[0];
		for (unsigned i = 1; i <= min; i++) {
			uint8_t ca = dname_fold(la[i]), cb = dname_fold(lb[i]);
			if (ca != cb)
				return ca < cb ? -1 : 1;
		}
		if (la[0] != lb[0])
			return la[0] < lb[0] ? -1 : 1;
	}
	if (na == nb)
		return 0;
	return na < nb ? -1 : 1;
}

bool dname_is_wildcard(const uint8_t *name)
{
	return name[0] == 1 && name[1] == '*';
}

/* Characters that must be escaped in presentation form (RFC 1035 5.1 and common practice). */
static bool needs_escape(uint8_t c)
{
	return c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' || c == '@' ||
	       c == '$';
}

char *dname_to_str(const uint8_t *name, char *buf, size_t size)
{
	size_t o = 0;
	size_t p = 0;
	if (size == 0)
		return buf;
	if (name[0] == 0) {
		if (size >= 2) {
			buf[o++] = '.';
		}
		buf[o] = '\0';
		return buf;
	}
	while (name[p] != 0) {
		size_t n = name[p++];
		for (size_t i = 0; i < n; i++, p++) {
			uint8_t c = name[p];
			char tmp[5];
			size_t tl;
			if (c <= 0x20 || c >= 0x7F) {
				tmp[0] = '\\';
				tmp[1] = (char)('0' + c / 100);
				tmp[2] = (char)('0' + (c / 10) % 10);
				tmp[3] = (char)('0' + c % 10);
				tl = 4;
			} else if (needs_escape(c)) {
				tmp[0] = '\\';
				tmp[1] = (char)c;
				tl = 2;
			} else {
				tmp[0] = (char)c;
				tl = 1;
			}
			if (o + tl + 1 > size)
				goto out;
			memcpy(buf + o, tmp, tl);
			o += tl;
		}
		if (o + 2 > size)
			goto out;
		buf[o++] = '.';
	}
out:
	buf[o] = '\0';
	return buf;
}

char *dname_to_str_nodot(const uint8_t *name, char *buf, size_t size)
{
	dname_to_str(name, buf, size);
	size_t len = strlen(buf);
	/* the last label's dot, unless the name was cut (it then ends inside a label) */
	if (name[0] != 0 && len > 1 && len + 1 < size && buf[len - 1] == '.')
		buf[len - 1] = '\0';
	return buf;
}

/* Read one possibly escaped character of a label at text[*i]; returns it or -1. */
static int read_char(const char *text, size_t *i)
{
	uint8_t c = (uint8_t)text[*i];
	if (c != '\\') {
		(*i)++;
		return c;
	}
	const char *e = text + *i + 1;
	if (e[0] >= '0' && e[0] <= '9') {
		if (!(e[1] >= '0' && e[1] <= '9' && e[2] >= '0' && e[2] <= '9'))
			return -1;
		int v = (e[0] - '0') * 100 + (e[1] - '0') * 10 + (e[2] - '0');
		if (v > 255)
			return -1;
		*i += 4;
		return v;
	}
	if (e[0] == '\0')
		return -1;
	*i += 2;
	return (uint8_t)e[0];
}

int dname_from_str(const char *text, const uint8_t *origin, uint8_t out[DNAME_MAX])
{
	static const uint8_t root = 0;
	const uint8_t *orig = origin ? origin : &root;
	size_t olen = 0;
	size_t i = 0;

	if (strcmp(text, "@") == 0) {
		size_t l = dname_len(orig);
		memcpy(out, orig, l);
		dname_lower(out);
		return (int)l;
	}
	if (strcmp(text, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	if (text[0] == '\0')
		return SD_EPARSE;
	while (text[i] != '\0') {
		size_t lab = olen++;
		size_t n = 0;
		while (text[i] != '\0' && text[i] != '.') {
			int c = read_char(text, &i);
			if (c < 0 || n == 63 || olen + 2 > DNAME_MAX)
				return SD_EPARSE;
			out[olen++] = dname_fold((uint8_t)c);
			n++;
		}
		if (n == 0)
			return SD_EPARSE; /* empty label: ".." or a leading dot */
		out[lab] = (uint8_t)n;
		if (text[i] == '.') {
			i++;
			if (text[i] == '\0') {
				out[olen++] = 0; /* absolute */
				return (int)olen;
			}
		}
	}
	/* relative: append origin */
	size_t l = dname_len(orig);
	if (olen + l > DNAME_MAX)
		return SD_EPARSE;
	memcpy(out + olen, orig, l);
	dname_lower(out + olen);
	return (int)(olen + l);
}

/* Multiply-xor over 8-byte words (a lookup costs one step per word, not per byte): the whole
 * words from the start, then, when bytes are left, the last 8 bytes (overlapping the word
 * before: the words are the ones dname_copy_lower() folds, so dname_copy_lower_hash() hashes
 * as it copies); a name under 8 bytes as two overlapping 4-byte loads or three single bytes;
 * the length seeds it. A product's bit j depends only on bits 0..j of what was multiplied,
 * so the top half is folded down and multiplied once more: every bit returned then depends
 * on every input bit (tables index by the low bits). */
#define HASH_K 0x9e3779b97f4a7c15ull /* 2^64 / golden ratio, odd */

static inline uint32_t hash_final(uint64_t h)
{
	h = (h ^ (h >> 32)) * HASH_K;
	return (uint32_t)(h >> 32);
}

static uint32_t hash_short(const uint8_t *p, size_t n)
{
	uint64_t h = HASH_K ^ n;
	if (n >= 4)
		h = (h ^ ((uint64_t)ne32_load(p) << 32 | ne32_load(p + n - 4))) * HASH_K;
	else if (n > 0)
		h = (h ^ ((uint64_t)p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16)) *
		    HASH_K;
	return hash_final(h);
}

uint32_t dname_hash(const uint8_t *name, size_t len)
{
	if (len < 8)
		return hash_short(name, len);
	uint64_t h = HASH_K ^ len;
	size_t i = 0;
	for (; len - i >= 8; i += 8)
		h = (h ^ ne64_load(name + i)) * HASH_K;
	if (i < len)
		h = (h ^ ne64_load(name + len - 8)) * HASH_K;
	return hash_final(h);
}

uint32_t dname_copy_lower_hash(uint8_t *dst, const uint8_t *src, size_t len)
{
	if (len < 8) {
		dname_copy_lower(dst, src, len);
		return hash_short(dst, len);
	}
	uint64_t last = fold64(ne64_load(src + len - 8));
	uint64_t h = HASH_K ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w = fold64(ne64_load(src + i));
		memcpy(dst + i, &w, sizeof(w));
		h = (h ^ w) * HASH_K;
	}
	memcpy(dst + len - 8, &last, sizeof(last));
	if (i < len)
		h = (h ^ last) * HASH_K;
	return hash_final(h);
}
