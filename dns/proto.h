/* proto.h — DNS protocol constants: the one home of the numbers the wire layer, the zone
 * data and the server share (RFC 1035 4.1, with the registries' later additions).
 *
 * Header only, no code; include it wherever a type, class, opcode, rcode or header flag is
 * named, instead of writing the number or a local copy.
 */
#pragma once

/* Size of the fixed message header (RFC 1035 4.1.1). */
#define DNS_HEADER_LEN 12

/* Section indexes, as the header's count words are ordered (RFC 1035 4.1.1); DNS_SEC_END
 * is past the last (the section reader, dns/rr.h, has read every counted entry). */
typedef enum dns_section {
	DNS_SEC_QD = 0,
	DNS_SEC_AN = 1,
	DNS_SEC_NS = 2,
	DNS_SEC_AR = 3,
	DNS_SEC_END = 4,
} dns_section_t;

/* Header flag bits in the 16-bit flags word (RFC 1035 4.1.1, RFC 4035 3.2 for AD/CD). */
enum {
	DNS_FLAG_QR = 0x8000,
	DNS_FLAG_AA = 0x0400,
	DNS_FLAG_TC = 0x0200,
	DNS_FLAG_RD = 0x0100,
	DNS_FLAG_RA = 0x0080,
	DNS_FLAG_AD = 0x0020,
	DNS_FLAG_CD = 0x0010,
};

/* Opcodes (RFC 1035 4.1.1, RFC 1996 NOTIFY, RFC 2136 UPDATE). */
enum {
	DNS_OPCODE_QUERY = 0,
	DNS_OPCODE_NOTIFY = 4,
	DNS_OPCODE_UPDATE = 5,
};

/* Response codes (RFC 1035 4.1.1, RFC 2136 2.2 for YXDOMAIN..NOTZONE, RFC 8945 for NOTAUTH
 * with TSIG); BADVERS is an extended code: header RCODE 0, OPT extended-rcode 1 (RFC 6891
 * 6.1.3). */
enum {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_YXDOMAIN = 6,
	DNS_RCODE_YXRRSET = 7,
	DNS_RCODE_NXRRSET = 8,
	DNS_RCODE_NOTAUTH = 9,
	DNS_RCODE_NOTZONE = 10,
	DNS_RCODE_BADVERS = 16,
	DNS_RCODE_BADCOOKIE = 23, /* RFC 7873 8: extended, needs an OPT */
};

/* RR types named in the code. */
enum {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_MD = 3,
	DNS_TYPE_MF = 4,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_MB = 7,
	DNS_TYPE_MG = 8,
	DNS_TYPE_MR = 9,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_MINFO = 14,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_RP = 17,
	DNS_TYPE_AFSDB = 18,
	DNS_TYPE_RT = 21,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_PX = 26,
	DNS_TYPE_SRV = 33,
	DNS_TYPE_KX = 36,
	DNS_TYPE_DNAME = 39,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_DS = 43,
	DNS_TYPE_RRSIG = 46,
	DNS_TYPE_NSEC = 47,
	DNS_TYPE_TKEY = 249,
	DNS_TYPE_TSIG = 250,
	DNS_TYPE_IXFR = 251,
	DNS_TYPE_AXFR = 252,
	DNS_TYPE_ANY = 255,
};

/* Classes (RFC 1035 3.2.4, 3.2.5; NONE from RFC 2136 2.4). Zones hold IN data only. */
enum {
	DNS_CLASS_IN = 1,
	DNS_CLASS_CH = 3,
	DNS_CLASS_NONE = 254,
	DNS_CLASS_ANY = 255,
};

/* EDNS (RFC 6891) option codes. */
enum {
	DNS_EDNS_ECS = 8,     /* EDNS Client Subnet, RFC 7871 */
	DNS_EDNS_COOKIE = 10, /* DNS Cookies, RFC 7873 */
};
