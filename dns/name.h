/* name.h — domain names in wire form.
 *
 * A "dname" here is an uncompressed wire-form name: length-prefixed labels ending with the
 * root label (0), at most DNAME_MAX (255) bytes. Names stored in zones are lowercased (ASCII
 * only, RFC 4343); names read from packets keep their case until lowered explicitly.
 * All functions are pure and thread-safe; none allocates.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/bytes.h"
#include "contrib/base/compiler.h"

#define DNAME_MAX        255
#define DNAME_LABELS_MAX 128

/* Length in bytes of a well-formed uncompressed name (including the root label). */
size_t dname_len(const uint8_t *name) SD_NONNULL(1);

/* Length of the uncompressed name at p when it ends within max bytes and is at most
 * DNAME_MAX long; 0 when it runs past max, is too long or holds a compression pointer or a
 * reserved label type. For wire data whose names are known to be uncompressed. */
size_t dname_len_bounded(const uint8_t *p, size_t max) SD_NONNULL(1);

/* Read a possibly compressed name at *pos in pkt[0..len) into out (uncompressed, case kept).
 * Follows compression pointers only backwards, bounds every step, rejects names over 255
 * bytes and reserved label types. On success advances *pos past the name as it appears in
 * the packet and returns the name's length; returns SD_EPARSE on malformed input. */
int dname_parse(const uint8_t *pkt, size_t len, size_t *pos, uint8_t out[DNAME_MAX])
    SD_NONNULL(1, 3, 4) SD_WUR;

/* Step over the possibly compressed name at *pos in pkt[0..len) without following pointers:
 * advances *pos past the name's bytes in the message. Returns 0, or SD_EPARSE when the name
 * runs past len, uses a reserved label type (0x40/0x80) or is longer than DNAME_MAX. */
int dname_skip(const uint8_t *pkt, size_t len, size_t *pos) SD_NONNULL(1, 3) SD_WUR;

/* Lowercase A-Z in place. */
void dname_lower(uint8_t *name) SD_NONNULL(1);

/* Copy the well-formed name src of len bytes (its dname_len) to dst lowercased: one pass, a
 * word at a time (the query path's copy of the question name). dst and src may be equal. */
void dname_copy_lower(uint8_t *dst, const uint8_t *src, size_t len) SD_NONNULL(1, 2);

/* Number of labels, not counting the root label ("www.example.com." has 3). */
unsigned dname_labels(const uint8_t *name) SD_NONNULL(1);

/* Fill offs with the offset of each label start (offs[0] = 0, the full name); returns the
 * label count as dname_labels() does. offs needs DNAME_LABELS_MAX entries. */
unsigned dname_label_offsets(const uint8_t *name, uint8_t offs[DNAME_LABELS_MAX]) SD_NONNULL(1, 2);

/* dname_label_offsets() and the name's length (*len) in one pass. */
unsigned dname_label_offsets_len(const uint8_t *name, uint8_t offs[DNAME_LABELS_MAX], size_t *len)
    SD_NONNULL(1, 2, 3);

/* n bytes at a and b equal, a word at a time: names and labels are short, and a call to
 * memcmp costs more than the compare (the query path's lookups). */
static inline bool dname_bytes_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (; n > 8; a += 8, b += 8, n -= 8) {
		if (ne64_load(a) != ne64_load(b))
			return false;
	}
	if (n >= 4) /* the last 4..8 bytes as two overlapping words */
		return ne32_load(a) == ne32_load(b) && ne32_load(a + n - 4) == ne32_load(b + n - 4);
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i])
			return false;
	}
	return true;
}

/* Byte equality of two lowercased names. */
bool dname_equal(const uint8_t *a, const uint8_t *b) SD_NONNULL(1, 2);

/* Case-insensitive equality. */
bool dname_equal_ci(const uint8_t *a, const uint8_t *b) SD_NONNULL(1, 2);

/* ASCII case folding of one byte: only A-Z change (RFC 4343 3). */
static inline uint8_t dname_fold(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Case-insensitive equality of len bytes of label data (the one such compare: names,
 * and the message writer matching compression targets). */
bool dname_label_equal_ci(const uint8_t *a, const uint8_t *b, size_t len) SD_NONNULL(1, 2);

/* True when name equals parent or lies below it (both lowercased). */
bool dname_is_subdomain(const uint8_t *name, const uint8_t *parent) SD_NONNULL(1, 2);

/* Canonical DNS order of RFC 4034 section 6.1 on lowercased names: <0, 0, >0. */
int dname_cmp_canonical(const uint8_t *a, const uint8_t *b) SD_NONNULL(1, 2);

/* True when the first label is the single byte '*'. */
bool dname_is_wildcard(const uint8_t *name) SD_NONNULL(1);

/* Presentation form ("www.example.com.") with RFC 1035 escapes into buf (always
 * NUL-terminated); returns buf. For logs and the control path. */
char *dname_to_str(const uint8_t *name, char *buf, size_t size) SD_NONNULL(1, 2);
/* The same without the final dot ("www.example.com"; the root stays "."): the form of the
 * zone= and name= fields of event log lines (contrib/base/log.h). */
char *dname_to_str_nodot(const uint8_t *name, char *buf, size_t size) SD_NONNULL(1, 2);

/* Parse presentation form (absolute or relative to origin, which may be NULL) into out,
 * lowercased. Returns the length or SD_EPARSE. Control path only. */
int dname_from_str(const char *text, const uint8_t *origin, uint8_t out[DNAME_MAX])
    SD_NONNULL(1, 3) SD_WUR;

/* 32-bit hash of a lowercased name (for hash tables). */
uint32_t dname_hash(const uint8_t *name, size_t len) SD_NONNULL(1);

/* dname_copy_lower() (dst and src may be the same), returning dname_hash() of the
 * lowercased name: the words it folds are the ones the hash takes (the query path's
 * question, hashed once). */
uint32_t dname_copy_lower_hash(uint8_t *dst, const uint8_t *src, size_t len) SD_NONNULL(1, 2);
