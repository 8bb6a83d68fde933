#include "server/xfr/msg.h"

#include <string.h>

#include "contrib/base/err.h"

#define PTR_MAX     0x3fff
#define HOPS_MAX    64
#define PENDING_MAX (3 * DNAME_LABELS_MAX)

/* Compression targets found while writing one RR; entered into the table only once the RR
 * is complete, so a rolled-back RR leaves no dangling offsets behind. */
typedef struct pending {
	unsigned n;
	uint32_t hash[PENDING_MAX];
	uint16_t off[PENDING_MAX];
} pending_t;

static uint32_t suffix_hash(const uint8_t *name)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; name[i] != 0;) {
		size_t l = name[i];
		for (size_t j = i; j <= i + l; j++)
			h = (h ^ name[j]) * 16777619u;
		i += l + 1;
	}
	return h ? h : 1;
}

/* Does the (possibly compressed) name at off in the message equal the uncompressed name s?
 * Byte-exact, case included: a transfer must reproduce the zone's names as they are stored,
 * and pointing "mail.Example.com" at the client's "EXAMPLE.com" would change them. */
static bool name_matches(const xfr_msg_t *m, size_t off, const uint8_t *s)
{
	unsigned hops = 0;
	for (;;) {
		if (off >= m->len)
			return false;
		uint8_t c = m->buf[off];
		if ((c & 0xc0) == 0xc0) {
			if (off + 1 >= m->len || ++hops > HOPS_MAX)
				return false;
			off = ((size_t)(c & 0x3f) << 8) | m->buf[off + 1];
			continue;
		}
		if (c != *s)
			return false;
		if (c == 0)
			return true;
		if (off + 1 + c > m->len)
			return false;
		for (unsigned i = 1; i <= c; i++)
			if (m->buf[off + i] != s[i])
				return false;
		off += (size_t)c + 1;
		s += c + 1;
	}
}

static size_t table_find(const xfr_msg_t *m, uint32_t h, const uint8_t *s)
{
	for (unsigned i = 0; i < XFR_MSG_HASH_SLOTS; i++) {
		uint16_t off = m->slot[(h + i) & (XFR_MSG_HASH_SLOTS - 1)];
		if (off == 0)
			return 0;
		if (name_matches(m, off, s))
			return off;
	}
	return 0;
}

static void table_add(xfr_msg_t *m, uint32_t h, uint16_t off)
{
	if (m->used >= XFR_MSG_HASH_SLOTS * 3 / 4)
		return; /* full enough: later names are written without new targets */
	for (unsigned i = 0;; i++) {
		uint16_t *slot = &m->slot[(h + i) & (XFR_MSG_HASH_SLOTS - 1)];
		if (*slot == 0) {
			*slot = off;
			m->used++;
			return;
		}
	}
}

static bool room(const xfr_msg_t *m, size_t n)
{
	return m->len + n <= m->limit;
}

/* Write name (uncompressed, well-formed) at the end of the message, as a pointer to an earlier
 * occurrence of its longest possible suffix when compress is set. */
static int put_name(xfr_msg_t *m, const uint8_t *name, bool compress, pending_t *pend)
{
	uint8_t offs[DNAME_LABELS_MAX];
	uint32_t hash[DNAME_LABELS_MAX];
	unsigned n = 0;
	for (size_t i = 0; name[i] != 0 && n < DNAME_LABELS_MAX; i += name[i] + 1u) {
		offs[n] = (uint8_t)i;
		hash[n++] = suffix_hash(name + i);
	}
	size_t ptr = 0;
	unsigned cut = n;
	for (unsigned i = 0; compress && i < n; i++) {
		ptr = table_find(m, hash[i], name + offs[i]);
		if (ptr != 0) {
			cut = i;
			break;
		}
	}
	size_t head = cut < n ? offs[cut] : dname_len_bounded(name, DNAME_MAX);
	if (!room(m, head + (cut < n ? 2 : 0)))
		return SD_ESPACE;
	size_t start = m->len;
	memcpy(m->buf + start, name, head);
	m->len += head;
	if (cut < n) {
		be16_put(m->buf + m->len, (uint16_t)(0xc000 | ptr));
		m->len += 2;
	}
	for (unsigned i = 0; i < cut && pend->n < PENDING_MAX; i++) {
		if (start + offs[i] > PTR_MAX)
			break;
		pend->hash[pend->n] = hash[i];
		pend->off[pend->n++] = (uint16_t)(start + offs[i]);
	}
	return 0;
}

static int put_bytes(xfr_msg_t *m, const uint8_t *p, size_t n)
{
	if (!room(m, n))
		return SD_ESPACE;
	memcpy(m->buf + m->len, p, n);
	m->len += n;
	return 0;
}

/* RDATA of a type whose names may be compressed: leading fixed bytes, names, trailing bytes. */
static int put_rdata(xfr_msg_t *m, uint16_t type, const uint8_t *rd, uint16_t rdlen,
                     pending_t *pend)
{
	size_t pre = 0, names = 1;
	switch (type) {
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		break;
	case DNS_TYPE_MX:
		pre = 2;
		break;
	case DNS_TYPE_SOA:
		names = 2;
		break;
	default:
		return put_bytes(m, rd, rdlen);
	}
	if (pre > rdlen)
		return SD_EPARSE;
	int rc = put_bytes(m, rd, pre);
	size_t pos = pre;
	for (size_t i = 0; rc == 0 && i < names; i++) {
		size_t l = dname_len_bounded(rd + pos, rdlen - pos);
		if (l == 0)
			return SD_EPARSE;
		rc = put_name(m, rd + pos, true, pend);
		pos += l;
	}
	if (rc == 0 && type == DNS_TYPE_SOA && rdlen - pos != 20)
		return SD_EPARSE;
	if (rc == 0 && type != DNS_TYPE_SOA && pos != rdlen)
		return SD_EPARSE;
	return rc == 0 ? put_bytes(m, rd + pos, rdlen - pos) : rc;
}

static void count_add(xfr_msg_t *m, unsigned section)
{
	uint8_t *p = m->buf + 4 + 2 * section;
	be16_put(p, (uint16_t)(be16_get(p) + 1));
}

uint16_t xfr_msg_count(const xfr_msg_t *m, unsigned section)
{
	return be16_get(m->buf + 4 + 2 * section);
}

int xfr_msg_init(xfr_msg_t *m, uint8_t *buf, size_t limit, uint16_t id, uint16_t flags)
{
	if (limit < DNS_HEADER_LEN)
		return SD_ESPACE;
	memset(m->slot, 0, sizeof(m->slot));
	m->used = 0;
	m->buf = buf;
	m->limit = limit;
	memset(buf, 0, DNS_HEADER_LEN);
	be16_put(buf, id);
	be16_put(buf + 2, flags);
	m->len = DNS_HEADER_LEN;
	return 0;
}

int xfr_msg_put_question(xfr_msg_t *m, const uint8_t *q, size_t qlen)
{
	size_t nl = dname_len_bounded(q, qlen);
	if (nl == 0 || qlen != nl + 4)
		return SD_EPARSE;
	size_t start = m->len;
	int rc = put_bytes(m, q, qlen);
	if (rc != 0)
		return rc;
	for (size_t i = 0; q[i] != 0 && start + i <= PTR_MAX; i += q[i] + 1u)
		table_add(m, suffix_hash(q + i), (uint16_t)(start + i));
	be16_put(m->buf + 4, 1);
	return 0;
}

int xfr_msg_put_rr(xfr_msg_t *m, const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                   const uint8_t *rdata, uint16_t rdlen)
{
	pending_t pend;
	pend.n = 0;
	size_t start = m->len;
	if (dname_len_bounded(owner, DNAME_MAX) == 0 || (rdlen > 0 && rdata == NULL))
		return SD_EPARSE;
	int rc = put_name(m, owner, true, &pend);
	size_t fixed = m->len; /* type, class, ttl, rdlength follow the owner */
	if (rc == 0 && !room(m, 10))
		rc = SD_ESPACE;
	if (rc == 0) {
		uint8_t *f = m->buf + fixed;
		be16_put(f, type);
		be16_put(f + 2, rclass);
		be32_put(f + 4, ttl);
		m->len += 10;
		rc = put_rdata(m, type, rdata, rdlen, &pend);
	}
	if (rc == 0 && m->len - fixed - 10 > 0xffff)
		rc = SD_ESPACE;
	if (rc != 0) {
		m->len = start;
		return rc;
	}
	be16_put(m->buf + fixed + 8, (uint16_t)(m->len - fixed - 10));
	for (unsigned i = 0; i < pend.n; i++)
		table_add(m, pend.hash[i], pend.off[i]);
	count_add(m, XFR_SEC_AN);
	return 0;
}

int xfr_msg_put_opt(xfr_msg_t *m, size_t cap, uint16_t payload)
{
	if (m->len + 11 > cap)
		return SD_ESPACE;
	uint8_t *p = m->buf + m->len;
	p[0] = 0;
	be16_put(p + 1, DNS_TYPE_OPT);
	be16_put(p + 3, payload);
	be32_put(p + 5, 0);
	be16_put(p + 9, 0);
	m->len += 11;
	count_add(m, XFR_SEC_AR);
	return 0;
}
