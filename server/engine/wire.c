/* wire.c — bounded DNS message writer with name compression; see wire.h. */
#include "server/engine/wire.h"

#include <string.h>

#include "contrib/base/err.h"

/* Compression pointers carry 14 bits of offset (RFC 1035 4.1.4). */
#define COMP_OFF_MAX 0x3fff

void srv_wire_init(srv_wire_t *w, uint8_t *buf, size_t lim)
{
	w->buf = buf;
	w->pos = 0;
	w->lim = lim;
	w->ncomp = 0;
}

int srv_wire_put(srv_wire_t *w, const void *data, size_t len)
{
	if (len > w->lim - w->pos)
		return SD_ESPACE;
	memcpy(w->buf + w->pos, data, len);
	w->pos += len;
	return 0;
}

int srv_wire_u16(srv_wire_t *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	return srv_wire_put(w, b, sizeof(b));
}

int srv_wire_u32(srv_wire_t *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	return srv_wire_put(w, b, sizeof(b));
}

static uint8_t ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Case-insensitive equality of two names of the same length len. */
static bool name_equal_ci(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	}
	return true;
}

static int comp_find(const srv_wire_t *w, const uint8_t *name, size_t len)
{
	for (unsigned i = 0; i < w->ncomp; i++) {
		const srv_wire_comp_t *c = &w->comp[i];
		if (c->len == len && name_equal_ci(c->name, name, len))
			return c->off;
	}
	return -1;
}

/* Register the labels of name that were written at off, up to (not including) the suffix
 * starting at byte `stop` of the name. */
static void comp_register(srv_wire_t *w, const uint8_t *name, size_t len, size_t off, size_t stop)
{
	for (size_t i = 0; i < stop && name[i] != 0; i += 1u + name[i]) {
		if (w->ncomp == SRV_WIRE_COMP_MAX || off + i > COMP_OFF_MAX)
			return;
		w->comp[w->ncomp++] = (srv_wire_comp_t){
		    .name = name + i, .off = (uint16_t)(off + i), .len = (uint8_t)(len - i)};
	}
}

void srv_wire_comp_add(srv_wire_t *w, const uint8_t *name, size_t off)
{
	size_t len = dname_len_bounded(name, 255);
	if (len > 1)
		comp_register(w, name, len, off, len - 1);
}

int srv_wire_name(srv_wire_t *w, const uint8_t *name, bool compress)
{
	size_t len = dname_len_bounded(name, 255);
	if (len == 0)
		return SD_EPARSE;
	/* Longest known suffix first: walk the label starts from the full name down. */
	size_t cut = len - 1; /* byte where the pointer replaces the rest; len-1 = root label */
	int ptr = -1;
	for (size_t i = 0; compress && name[i] != 0; i += 1u + name[i]) {
		ptr = comp_find(w, name + i, len - i);
		if (ptr >= 0) {
			cut = i;
			break;
		}
	}
	size_t start = w->pos;
	size_t need = ptr >= 0 ? cut + 2 : len;
	if (need > w->lim - w->pos)
		return SD_ESPACE;
	memcpy(w->buf + w->pos, name, ptr >= 0 ? cut : len);
	w->pos += ptr >= 0 ? cut : len;
	if (ptr >= 0) {
		be16_put(w->buf + w->pos, (uint16_t)(0xc000 | ptr));
		w->pos += 2;
	}
	comp_register(w, name, len, start, cut);
	return 0;
}

/* Write the uncompressed name at rdata[*i] (within rdlen), compressed, and advance *i. */
static int rdata_name(srv_wire_t *w, const uint8_t *rdata, uint16_t rdlen, size_t *i)
{
	size_t nl = dname_len_bounded(rdata + *i, rdlen - *i);
	if (nl == 0)
		return SD_EPARSE;
	int ret = srv_wire_name(w, rdata + *i, true);
	*i += nl;
	return ret;
}

/* RDATA with compressible names: [prefix bytes][name]...[rest copied]. The layout per type
 * follows RFC 1035 3.3 (NS, CNAME, PTR, MX, SOA) — the only types whose RDATA names may be
 * compressed (RFC 3597 4). */
static int put_rdata(srv_wire_t *w, uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	size_t i = 0;
	int names = 0;
	int ret;
	switch (type) {
	case 2:  /* NS */
	case 5:  /* CNAME */
	case 12: /* PTR */
		names = 1;
		break;
	case 15: /* MX: preference, exchange */
		if (rdlen < 2)
			return srv_wire_put(w, rdata, rdlen);
		ret = srv_wire_put(w, rdata, 2);
		if (ret < 0)
			return ret;
		i = 2;
		names = 1;
		break;
	case 6: /* SOA: mname, rname, five 32-bit fields */
		names = 2;
		break;
	default:
		return srv_wire_put(w, rdata, rdlen);
	}
	for (int n = 0; n < names; n++) {
		ret = rdata_name(w, rdata, rdlen, &i);
		if (ret < 0)
			return ret;
	}
	return srv_wire_put(w, rdata + i, rdlen - i);
}

int srv_wire_rr(srv_wire_t *w, const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                const uint8_t *rdata, uint16_t rdlen)
{
	int ret = srv_wire_name(w, owner, true);
	if (ret == 0)
		ret = srv_wire_u16(w, type);
	if (ret == 0)
		ret = srv_wire_u16(w, rclass);
	if (ret == 0)
		ret = srv_wire_u32(w, ttl);
	size_t rdlen_at = w->pos;
	if (ret == 0)
		ret = srv_wire_u16(w, 0);
	if (ret == 0 && rdlen > 0)
		ret = put_rdata(w, type, rdata, rdlen);
	if (ret < 0)
		return ret;
	be16_put(w->buf + rdlen_at, (uint16_t)(w->pos - rdlen_at - 2));
	return 0;
}
