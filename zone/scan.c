/* scan.c — plain record lines without ldns (see scan.h). Each step either reads what it
 * expects or declines; declining is always safe (ldns reads the line). */
#include "zone/scan.h"
#include "dns/proto.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#define TTL_MAX 0x7FFFFFFFu /* RFC 2181 8; larger ones go to ldns and the loader's check */

typedef struct tok {
	const char *s;
	size_t n;
} tok_t;

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '*' || c == '.';
}

/* Split the line [p, end) at blanks into at most max tokens; false when there are more or
 * when a character is not one a plain line has (a quote starts a TXT string that must end
 * at a quote followed by a blank or the line's end). */
static bool split(const char *p, const char *end, tok_t *toks, size_t max, size_t *count)
{
	size_t n = 0;
	while (p < end) {
		if (blank(*p)) {
			p++;
			continue;
		}
		if (n == max)
			return false;
		const char *s = p;
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p < 0x20 || *p > 0x7e || *p == '\\' || *p == ';')
					return false;
			if (p == end || (p + 1 < end && !blank(p[1])))
				return false;
			p++;
		} else {
			for (; p < end && !blank(*p); p++)
				if (!name_char(*p) && *p != ':')
					return false;
		}
		toks[n++] = (tok_t){s, (size_t)(p - s)};
	}
	*count = n;
	return true;
}

static bool is_word(tok_t t, const char *w)
{
	return t.n == strlen(w) && strncasecmp(t.s, w, t.n) == 0;
}

static bool number(tok_t t, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	if (t.n == 0 || t.n > 10)
		return false;
	for (size_t i = 0; i < t.n; i++) {
		if (t.s[i] < '0' || t.s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(t.s[i] - '0');
	}
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* A name token in wire form into out (room for DNAME_MAX): labels of name characters, made
 * absolute with the origin when it does not end in a dot. Returns the length or 0. */
static size_t name(tok_t t, const zone_scan_ctx_t *ctx, uint8_t *out)
{
	if (t.n == 1 && t.s[0] == '.') {
		out[0] = 0;
		return 1;
	}
	bool absolute = t.n > 0 && t.s[t.n - 1] == '.';
	size_t len = 0, end = absolute ? t.n - 1 : t.n;
	for (size_t i = 0; i <= end;) {
		size_t j = i;
		while (j < end && t.s[j] != '.')
			j++;
		if (j == i || j - i > 63 || len + 1 + (j - i) + 1 > DNAME_MAX)
			return 0; /* an empty or long label, or too long */
		for (size_t k = i; k < j; k++)
			if (!name_char(t.s[k]))
				return 0;
		out[len++] = (uint8_t)(j - i);
		memcpy(out + len, t.s + i, j - i);
		len += j - i;
		i = j + 1;
	}
	if (absolute) {
		out[len++] = 0;
		return len;
	}
	if (len + ctx->origin_len > DNAME_MAX)
		return 0;
	memcpy(out + len, ctx->origin, ctx->origin_len);
	return len + ctx->origin_len;
}

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
    {"A", DNS_TYPE_A},         {"AAAA", DNS_TYPE_AAAA}, {"NS", DNS_TYPE_NS},
    {"CNAME", DNS_TYPE_CNAME}, {"PTR", DNS_TYPE_PTR},   {"DNAME", DNS_TYPE_DNAME},
    {"MX", DNS_TYPE_MX},       {"TXT", DNS_TYPE_TXT},
};

static uint16_t type_of(tok_t t)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (is_word(t, types[i].name))
			return types[i].type;
	return 0;
}

static bool address(tok_t t, int af, uint8_t *out)
{
	char text[64];
	if (t.n >= sizeof(text))
		return false;
	memcpy(text, t.s, t.n);
	text[t.n] = '\0';
	return inet_pton(af, text, out) == 1; /* as ldns reads A and AAAA */
}

/* The RDATA of out->type from the n tokens at d. */
static bool rdata(const tok_t *d, size_t n, const zone_scan_ctx_t *ctx, zone_scan_rr_t *out)
{
	size_t len = 0;
	uint32_t pref;
	switch (out->type) {
	case DNS_TYPE_A:
		len = n == 1 && address(d[0], AF_INET, out->rdata) ? 4 : 0;
		break;
	case DNS_TYPE_AAAA:
		len = n == 1 && address(d[0], AF_INET6, out->rdata) ? 16 : 0;
		break;
	case DNS_TYPE_MX:
		if (n != 2 || !number(d[0], UINT16_MAX, &pref))
			return false;
		out->rdata[0] = (uint8_t)(pref >> 8);
		out->rdata[1] = (uint8_t)pref;
		len = name(d[1], ctx, out->rdata + 2);
		len = len ? len + 2 : 0;
		break;
	case DNS_TYPE_TXT:
		for (size_t i = 0; i < n; i++) {
			size_t sl = d[i].n - 2;
			if (d[i].s[0] != '"' || d[i].n < 2 || sl > 255 ||
			    len + 1 + sl > sizeof(out->rdata))
				return false;
			out->rdata[len++] = (uint8_t)sl;
			memcpy(out->rdata + len, d[i].s + 1, sl);
			len += sl;
		}
		break;
	default: /* NS, CNAME, PTR, DNAME: one name */
		len = n == 1 ? name(d[0], ctx, out->rdata) : 0;
		break;
	}
	out->rdlen = (uint16_t)len;
	return len > 0;
}

bool zone_scan_line(const char *p, const char *end, const zone_scan_ctx_t *ctx, zone_scan_rr_t *out)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *le = nl ? nl : end;
	tok_t t[16];
	size_t n = 0, i = 0;
	if (le == p || !split(p, le, t, 16, &n) || n < 2)
		return false;
	/* ldns ends a line at a run of "\f\n\r\v" and skips the whole run: a line after one
	 * that holds \f, \r or \v (even after empty lines) is read from past it (not
	 * blank-owned, \r as a blank), so this line is left to ldns */
	for (const char *q = nl ? nl + 1 : end; q < end && strchr("\f\n\r\v", *q) && *q; q++)
		if (*q != '\n')
			return false;
	out->consumed = (size_t)(le - p) + (nl != NULL);
	if (blank(p[0])) { /* RFC 1035 5.1: the previous owner (none: ldns's to read) */
		if (ctx->prev_len == 0)
			return false;
		memcpy(out->owner, ctx->prev, ctx->prev_len);
		out->owner_len = ctx->prev_len;
	} else if ((out->owner_len = name(t[i++], ctx, out->owner)) == 0) {
		return false;
	}
	/* [TTL] [IN]: RFC 1035 5.1 allows the class first too, ldns does not (it reads a TTL
	 * after the class as the type and fails): that order is ldns's to refuse */
	out->ttl = ctx->ttl;
	out->ttl_given = i < n && number(t[i], TTL_MAX, &out->ttl);
	i += out->ttl_given;
	i += i < n && is_word(t[i], "IN");
	if (i >= n || (out->type = type_of(t[i])) == 0)
		return false;
	return rdata(t + i + 1, n - i - 1, ctx, out);
}
