/* siphash.c — SipHash-2-4; see siphash.h. The reference code's structure: 2 compression
 * rounds per 8-byte word, the last word carrying the length in its top byte, 4 finalization
 * rounds. */
#include "contrib/base/siphash.h"

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void round_(sd_siphash_t *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

static inline void compress(sd_siphash_t *s, uint64_t m)
{
	s->v3 ^= m;
	round_(s);
	round_(s);
	s->v0 ^= m;
}

void sd_siphash_init(sd_siphash_t *s, const uint8_t key[SIPHASH_KEY_LEN])
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	s->v0 = k0 ^ 0x736f6d6570736575ULL;
	s->v1 = k1 ^ 0x646f72616e646f6dULL;
	s->v2 = k0 ^ 0x6c7967656e657261ULL;
	s->v3 = k1 ^ 0x7465646279746573ULL;
	s->tail = 0;
	s->len = 0;
}

void sd_siphash_update(sd_siphash_t *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	/* fill the pending word first */
	while (len > 0 && s->len % 8 != 0) {
		s->tail |= (uint64_t)*p++ << (8 * (s->len % 8));
		s->len++;
		len--;
		if (s->len % 8 == 0) {
			compress(s, s->tail);
			s->tail = 0;
		}
	}
	for (; len >= 8; len -= 8, p += 8, s->len += 8)
		compress(s, le64(p));
	for (; len > 0; len--, s->len++)
		s->tail |= (uint64_t)*p++ << (8 * (s->len % 8));
}

uint64_t sd_siphash_final(sd_siphash_t *s)
{
	compress(s, s->tail | ((uint64_t)(s->len & 0xff) << 56));
	s->v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		round_(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

uint64_t sd_siphash(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len)
{
	sd_siphash_t s;
	sd_siphash_init(&s, key);
	sd_siphash_update(&s, data, len);
	return sd_siphash_final(&s);
}
