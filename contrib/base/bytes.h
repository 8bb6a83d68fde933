/* bytes.h — big-endian (network order) loads and stores on byte buffers.
 *
 * Callers check bounds first; these only move bytes. The put functions return the position
 * after what they wrote so writes chain.
 */
#pragma once

#include <stdint.h>
#include <string.h>

/* Loads and stores are one unaligned access and one byte swap (the byte-wise forms are not
 * always merged by the compiler, and the query path does several per record). */
static inline uint16_t be16_get(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap16(v);
#endif
	return v;
}

static inline uint32_t be32_get(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static inline uint8_t *be16_put(uint8_t *p, uint16_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap16(v);
#endif
	memcpy(p, &v, sizeof(v));
	return p + 2;
}

static inline uint8_t *be32_put(uint8_t *p, uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	memcpy(p, &v, sizeof(v));
	return p + 4;
}

/* Unaligned loads in host byte order, for word-at-a-time scans and hashes whose result does
 * not depend on byte order (or is only compared with itself). */
static inline uint64_t ne64_load(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof(w));
	return w;
}

static inline uint32_t ne32_load(const uint8_t *p)
{
	uint32_t w;
	memcpy(&w, p, sizeof(w));
	return w;
}
