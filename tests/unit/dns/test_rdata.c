/* test_rdata.c — the RDATA descriptor table and the SOA field accessors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "contrib/base/err.h"
#include "dns/name.h"
#include "dns/proto.h"
#include "dns/rdata.h"
#include "dns/soa.h"

/* Append the wire form of text at out[*len]. */
static void put_name(uint8_t *out, size_t *len, const char *text)
{
	int n = dname_from_str(text, NULL, out + *len);
	assert_true(n > 0);
	*len += (size_t)n;
}

static void put_bytes(uint8_t *out, size_t *len, const void *b, size_t n)
{
	memcpy(out + *len, b, n);
	*len += n;
}

static void test_layouts(void **state)
{
	uint8_t rd[600];
	uint16_t offs[DNS_RDATA_NAMES_MAX];
	size_t len = 0;

	/* MX: preference, exchange */
	put_bytes(rd, &len, "\0\x0a", 2);
	put_name(rd, &len, "mail.example.com.");
	assert_int_equal(dns_rdata_names(DNS_TYPE_MX, rd, (uint16_t)len, offs), 1);
	assert_int_equal(offs[0], 2);
	assert_ptr_equal(dns_rdata_target(DNS_TYPE_MX, rd), rd + 2);

	/* SRV: priority, weight, port, target */
	len = 0;
	put_bytes(rd, &len, "\0\1\0\2\x13\xc4", 6);
	put_name(rd, &len, "sip.example.com.");
	assert_int_equal(dns_rdata_names(DNS_TYPE_SRV, rd, (uint16_t)len, offs), 1);
	assert_int_equal(offs[0], 6);
	assert_ptr_equal(dns_rdata_target(DNS_TYPE_SRV, rd), rd + 6);

	/* PX: preference and two names back to back */
	len = 0;
	put_bytes(rd, &len, "\0\1", 2);
	put_name(rd, &len, "a.example.");
	size_t second = len;
	put_name(rd, &len, "b.example.");
	assert_int_equal(dns_rdata_names(DNS_TYPE_PX, rd, (uint16_t)len, offs), 2);
	assert_int_equal(offs[0], 2);
	assert_int_equal(offs[1], second);

	/* opaque types report no names, whatever their bytes */
	assert_int_equal(dns_rdata_names(DNS_TYPE_TXT, rd, (uint16_t)len, offs), 0);
	assert_int_equal(dns_rdata_names(DNS_TYPE_A, rd, 4, offs), 0);
	assert_int_equal(dns_rdata_names(65000, rd, (uint16_t)len, offs), 0);
}

static void test_malformed(void **state)
{
	uint8_t rd[600];
	uint16_t offs[DNS_RDATA_NAMES_MAX];
	size_t len = 0;
	put_name(rd, &len, "ns.example.com.");
	/* trailing bytes after the one name of NS */
	rd[len] = 0;
	assert_int_equal(dns_rdata_names(DNS_TYPE_NS, rd, (uint16_t)(len + 1), offs), SD_EPARSE);
	/* the name runs past rdlen */
	assert_int_equal(dns_rdata_names(DNS_TYPE_NS, rd, (uint16_t)(len - 1), offs), SD_EPARSE);
	/* MX without room for its preference, or without a name after it */
	assert_int_equal(dns_rdata_names(DNS_TYPE_MX, rd, 1, offs), SD_EPARSE);
	assert_int_equal(dns_rdata_names(DNS_TYPE_MX, (const uint8_t *)"\0\1", 2, offs), SD_EPARSE);
	/* a compression pointer is not a stored name */
	const uint8_t ptr[] = {0xc0, 0x0c};
	assert_int_equal(dns_rdata_names(DNS_TYPE_CNAME, ptr, 2, offs), SD_EPARSE);
	/* SOA needs exactly 20 bytes after its two names */
	len = 0;
	put_name(rd, &len, "ns.example.");
	put_name(rd, &len, "host.example.");
	memset(rd + len, 0, 20);
	assert_int_equal(dns_rdata_names(DNS_TYPE_SOA, rd, (uint16_t)(len + 20), offs), 2);
	assert_int_equal(dns_rdata_names(DNS_TYPE_SOA, rd, (uint16_t)(len + 19), offs), SD_EPARSE);
	assert_int_equal(dns_rdata_names(DNS_TYPE_SOA, rd, (uint16_t)(len + 21), offs), SD_EPARSE);
	/* empty RDATA of a type with names */
	assert_int_equal(dns_rdata_names(DNS_TYPE_PTR, rd, 0, offs), SD_EPARSE);
}

/* Which types compress (RFC 3597 4) and which feed the additional section. */
static void test_flags(void **state)
{
	static const uint16_t compress[] = {DNS_TYPE_NS, DNS_TYPE_CNAME, DNS_TYPE_SOA, DNS_TYPE_PTR,
	                                    DNS_TYPE_MX};
	static const uint16_t plain[] = {DNS_TYPE_SRV,  DNS_TYPE_DNAME, DNS_TYPE_RP, DNS_TYPE_AFSDB,
	                                 DNS_TYPE_KX,   DNS_TYPE_PX,    DNS_TYPE_RT, DNS_TYPE_TXT,
	                                 DNS_TYPE_NSEC, DNS_TYPE_RRSIG, 0,           65535};
	for (size_t i = 0; i < sizeof(compress) / sizeof(compress[0]); i++)
		assert_true(dns_rdata_compressible(compress[i]));
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		assert_false(dns_rdata_compressible(plain[i]));
	for (uint32_t t = 0; t <= 0xffff; t++) {
		bool target = t == DNS_TYPE_NS || t == DNS_TYPE_MX || t == DNS_TYPE_SRV;
		assert_int_equal(dns_rdata_has_target((uint16_t)t), target);
		const dns_rdata_desc_t *d = dns_rdata_desc((uint16_t)t);
		assert_non_null(d);
		assert_true(d->names <= DNS_RDATA_NAMES_MAX);
	}
}

static void test_soa(void **state)
{
	uint8_t rd[DNS_SOA_MAX_LEN];
	size_t len = 0;
	put_name(rd, &len, "ns1.example.com.");
	size_t rname = len;
	put_name(rd, &len, "hostmaster.example.com.");
	static const uint8_t fixed[20] = {0,    0,    0, 1, 0,    0,    0x0e, 0x10, 0,    0,
	                                  0x07, 0x08, 0, 9, 0x3a, 0x80, 0,    0,    0x0e, 0x11};
	put_bytes(rd, &len, fixed, sizeof(fixed));
	uint16_t rdlen = (uint16_t)len;
	assert_true(dns_soa_valid(rd, rdlen));
	assert_false(dns_soa_valid(rd, (uint16_t)(rdlen - 1)));
	assert_ptr_equal(dns_soa_mname(rd), rd);
	assert_ptr_equal(dns_soa_rname(rd), rd + rname);
	assert_int_equal(dns_soa_serial(rd, rdlen), 1);
	assert_int_equal(dns_soa_refresh(rd, rdlen), 3600);
	assert_int_equal(dns_soa_retry(rd, rdlen), 1800);
	assert_int_equal(dns_soa_expire(rd, rdlen), 604800);
	assert_int_equal(dns_soa_minimum(rd, rdlen), 3601);
	dns_soa_set_serial(rd, rdlen, 0xfedcba98u);
	assert_int_equal(dns_soa_serial(rd, rdlen), 0xfedcba98u);
	assert_int_equal(dns_soa_refresh(rd, rdlen), 3600); /* neighbours untouched */
	assert_memory_equal(rd + rname, "\x0ahostmaster", 11);
	/* the fields are found from the end, so compressed names work too (IXFR queries) */
	const uint8_t comp[] = {0xc0, 0x0c, 0xc0, 0x0c, 0, 0, 0, 42, 0, 0, 0, 0,
	                        0,    0,    0,    0,    0, 0, 0, 0,  0, 0, 0, 7};
	assert_int_equal(dns_soa_serial(comp, sizeof(comp)), 42);
	assert_int_equal(dns_soa_minimum(comp, sizeof(comp)), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layouts),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_soa),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
