/* siphash.h — SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012),
 * a keyed 64-bit hash: the PRF of the interoperable DNS server cookie (RFC 9018 4.4) and the
 * flood-proof bucket index of the response rate limiter (server/rrl.h).
 *
 * Incremental form for messages built from pieces without a copy: init, update any number
 * of times, final. A state is a plain struct on the caller's stack; nothing allocates.
 * Pure; thread-safe.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"

#define SIPHASH_KEY_LEN 16

typedef struct sd_siphash {
	uint64_t v0, v1, v2, v3;
	uint64_t tail; /* bytes not yet compressed, little-endian, low first */
	size_t len;    /* bytes absorbed so far */
} sd_siphash_t;

void sd_siphash_init(sd_siphash_t *s, const uint8_t key[SIPHASH_KEY_LEN]) SD_NONNULL(1, 2);
void sd_siphash_update(sd_siphash_t *s, const void *data, size_t len) SD_NONNULL(1);
uint64_t sd_siphash_final(sd_siphash_t *s) SD_NONNULL(1) SD_WUR;

/* The hash of data[0..len) in one call. */
uint64_t sd_siphash(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len)
    SD_NONNULL(1) SD_WUR;
