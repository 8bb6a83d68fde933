#!/usr/bin/python3
"""Regenerate the seed corpus of fuzz_tsig: requests signed with dnspython by the target's
two keys at its fixed clock (valid, BADKEY, BADSIG, BADTIME, malformed placements) and
responses to the target's fixed request. Run: /usr/bin/python3 tests/fuzz/gen_tsig.py"""
import os
import struct
import time

import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig

NOW = 1700000000  # FUZZ_NOW in fuzz_tsig.c
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'tsig')

K1 = dns.tsig.Key('k1.', 'ZnV6ei1rZXktb25lLTAxMjM0NTY3ODlhYmNkZWY=', 'hmac-sha256')
K2 = dns.tsig.Key('k2.', 'ZnV6ei1rZXktdHdvLTAxMjM0NTY3ODlhYmNkZWY=', 'hmac-sha512')
K3 = dns.tsig.Key('k3.', 'ZnV6ei1rZXktdHdvLTAxMjM0NTY3ODlhYmNkZWY=', 'hmac-sha256')
K1_WRONG_ALG = dns.tsig.Key('k1.', 'ZnV6ei1rZXktb25lLTAxMjM0NTY3ODlhYmNkZWY=', 'hmac-sha1')
K1_WRONG_SECRET = dns.tsig.Key('k1.', 'd3JvbmctMDEyMzQ1Njc4OWFiY2RlZg==', 'hmac-sha256')


def at(t):
    time.time = lambda: float(t)


def query(name='example.com.', rdtype='SOA', key=None, qid=0x1234, **kw):
    m = dns.message.make_query(name, rdtype, **kw)
    m.id = qid
    if key is not None:
        m.use_tsig(key, fudge=300)
    return m


def fixed_request():
    """The request fuzz_tsig.c signs itself: ID 0x4242, no flags, example.com. SOA IN."""
    m = dns.message.Message(id=0x4242)
    m.flags = 0
    m.question.append(dns.rrset.RRset(dns.name.from_text('example.com.'),
                                      dns.rdataclass.IN, dns.rdatatype.SOA))
    m.use_tsig(K1, fudge=300)
    return m


def seeds():
    at(NOW)
    yield 'valid_k1_soa', query(key=K1).to_wire()
    yield 'valid_k2_axfr', query(rdtype='AXFR', key=K2).to_wire()
    yield 'valid_k1_edns', query('www.example.com.', 'A', key=K1, use_edns=0,
                                 payload=1232).to_wire()
    yield 'valid_k1_ixfr', query(rdtype='IXFR', key=K1).to_wire()
    yield 'unsigned', query().to_wire()
    yield 'badkey_name', query(key=K3).to_wire()
    yield 'badkey_alg', query(key=K1_WRONG_ALG).to_wire()
    yield 'badsig', query(key=K1_WRONG_SECRET).to_wire()
    at(NOW - 1000)
    yield 'badtime_past', query(key=K1).to_wire()
    at(NOW + 301)
    yield 'badtime_future', query(key=K2).to_wire()
    at(NOW)
    w = bytearray(query(key=K1).to_wire())
    w[-10] ^= 0x55  # inside the MAC
    yield 'badsig_flipped', bytes(w)
    yield 'truncated', w[:-3]
    # TSIG followed by another additional record: ARCOUNT + 1 and an OPT appended.
    w = bytearray(query(key=K1).to_wire())
    struct.pack_into('!H', w, 10, struct.unpack_from('!H', w, 10)[0] + 1)
    yield 'tsig_not_last', bytes(w) + b'\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00'
    # MAC size field (2 bytes before the 32-byte MAC) one above the algorithm's output.
    w = bytearray(query(key=K1).to_wire())
    mac_at = len(w) - 6 - 32
    struct.pack_into('!H', w, mac_at - 2, 33)
    yield 'mac_size_big', bytes(w)
    yield 'header_only', bytes(w[:12])
    # The target's own request, and responses to it.
    req = fixed_request()
    req_wire = req.to_wire()
    yield 'fixed_request', req_wire
    req = dns.message.from_wire(req_wire, keyring={dns.name.from_text('k1.'): K1})
    r = dns.message.make_response(req)
    r.answer.append(dns.rrset.from_text('example.com.', 300, 'IN', 'SOA',
                                        'ns1.example.com. hm.example.com. 1 2 3 4 5'))
    first = r.to_wire(multi=True)
    yield 'response_first', first
    r2 = dns.message.make_response(req)
    r2.answer.append(dns.rrset.from_text('www.example.com.', 300, 'IN', 'A', '192.0.2.1'))
    yield 'response_second', r2.to_wire(multi=True, tsig_ctx=r.tsig_ctx)
    r3 = dns.message.make_response(req)
    r3.set_rcode(9)
    r3.use_tsig(K1, fudge=300, tsig_error=16)
    yield 'response_badsig', r3.to_wire()
    plain = dns.message.make_response(query())
    yield 'response_unsigned', plain.to_wire()


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, wire in seeds():
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(wire)


if __name__ == '__main__':
    main()
