/* bytes.h — big-endian (network order) loads and stores on byte buffers.
 *
 * Callers check bounds first; these only move bytes. The put functions return the position
 * after what they wrote so writes chain.
 */
#pragma once

#include <stdint.h>
#include <string.h>

static inline uint16_t be16_get(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t be32_get(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* The stores are one byte swap and one unaligned store (the byte-wise form is not merged by
 * the compiler; the message writer stores several per record). */
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
