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

static inline uint8_t *be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static inline uint8_t *be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
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
