#!/usr/bin/python3
"""Regenerate the seed corpus of fuzz_answer: valid queries against the fuzz zone and a set
of malformed messages. Run from anywhere: /usr/bin/python3 tests/fuzz/gen_corpus.py"""
import os
import struct

import dns.edns
import dns.message
import dns.opcode
import dns.rdataclass
import dns.rdatatype

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'answer')


def q(name, rdtype, rdclass='IN', **kw):
    m = dns.message.make_query(name, rdtype, rdclass, **kw)
    m.id = 0x1234
    return m.to_wire()


def seeds():
    yield 'a_apex', q('example.com.', 'A')
    yield 'a_www', q('www.example.com.', 'A')
    yield 'a_case', q('WwW.eXaMpLe.CoM.', 'A')
    yield 'nodata', q('www.example.com.', 'AAAA')
    yield 'nxdomain', q('nope.example.com.', 'A', use_edns=0, payload=1232)
    yield 'wildcard', q('x.wild.example.com.', 'A')
    yield 'wildcard_cname', q('y.wc.example.com.', 'A', use_edns=0, want_dnssec=True)
    yield 'cname_chain', q('c1.example.com.', 'A')
    yield 'cname_loop', q('loop.example.com.', 'A')
    yield 'dname', q('a.b.dn.example.com.', 'A')
    yield 'dname_long', q(('x' * 60 + '.') * 3 + 'dn.example.com.', 'A')
    yield 'referral', q('host.sub.example.com.', 'A')
    yield 'ds_cut', q('sub.example.com.', 'DS')
    yield 'mx', q('example.com.', 'MX')
    yield 'srv', q('_s._tcp.example.com.', 'SRV')
    yield 'any', q('example.com.', 'ANY')
    yield 'ns', q('example.com.', 'NS', use_edns=0, payload=4096)
    yield 'refused', q('example.org.', 'A')
    yield 'chaos', q('id.server.', 'TXT', 'CH')
    yield 'axfr', q('example.com.', 'AXFR')
    yield 'badvers', q('example.com.', 'A', use_edns=1)
    yield 'edns_option', q('example.com.', 'A', use_edns=0,
                            options=[dns.edns.GenericOption(65001, b'abc')])
    # DNS cookies (RFC 7873): client only, client + server (RFC 9018 A.1), the longest
    # (8 + 32), malformed lengths (FORMERR), two options (the first counts), beside ECS
    cookie = bytes.fromhex('2464c4abcf10c957010000005cf79f111f8130c3eee29480')
    for name, data in (('cookie_client', cookie[:8]), ('cookie_full', cookie),
                       ('cookie_max', cookie[:8] + bytes(range(32))),
                       ('cookie_short', cookie[:7]), ('cookie_9', cookie[:9]),
                       ('cookie_41', cookie + bytes(17))):
        yield name, q('www.example.com.', 'A', use_edns=0,
                      options=[dns.edns.GenericOption(10, data)])
    yield 'cookie_twice', q('www.example.com.', 'A', use_edns=0,
                            options=[dns.edns.GenericOption(10, cookie[:8]),
                                     dns.edns.GenericOption(10, cookie[:3])])
    full = q('www.example.com.', 'A', use_edns=0,
             options=[dns.edns.GenericOption(10, cookie[:8])])
    yield 'cookie_qdcount0', full[:4] + b'\x00\x00' + full[6:12] + full[12 + 21:]
    yield 'cookie_ecs', q('www.example.com.', 'A', use_edns=0,
                          options=[dns.edns.GenericOption(8, b'\x00\x01\x18\x00\xc0\x00\x02'),
                                   dns.edns.GenericOption(10, cookie)])
    m = dns.message.make_query('example.com.', 'SOA')
    m.set_opcode(dns.opcode.NOTIFY)
    yield 'notify', m.to_wire()
    base = q('www.example.com.', 'A', use_edns=0)
    yield 'short_header', base[:11]
    yield 'qr_set', base[:2] + bytes([base[2] | 0x80]) + base[3:]
    yield 'truncated_question', base[:20]
    yield 'trailing', base + b'\x00'
    yield 'qdcount0', base[:4] + b'\x00\x00' + base[6:]
    yield 'qdcount2', base[:4] + b'\x00\x02' + base[6:]
    yield 'dup_opt', base[:10] + b'\x00\x02' + base[12:] + base[-11:]
    yield 'compressed_qname', bytes(base[:12]) + b'\xc0\x0c\x00\x01\x00\x01'
    yield 'ancount', base[:6] + b'\x00\x01' + base[8:]
    yield 'pointer_loop', base[:10] + b'\x00\x01' + base[12:-11] + b'\xc0\x21' + base[-10:]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, wire in seeds():
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(wire)


if __name__ == '__main__':
    main()
