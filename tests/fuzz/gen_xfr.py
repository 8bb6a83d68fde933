#!/usr/bin/python3
"""Regenerate the seed corpus of fuzz_xfr: AXFR and IXFR requests for the target's zone
(example.com., serial 3, history from 1), unsigned and signed with xfr-key. at the target's
fixed clock, and the malformed and refused cases. Run: /usr/bin/python3 tests/fuzz/gen_xfr.py"""
import os
import time

import dns.message
import dns.opcode
import dns.rrset
import dns.tsig

NOW = 1700000000  # FUZZ_NOW in fuzz_xfr.c
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'xfr')
KEY = dns.tsig.Key('xfr-key.', 'ZnV6ei14ZnIta2V5LTAxMjM0NTY3ODlhYmNkZWY=', 'hmac-sha256')
OTHER = dns.tsig.Key('xfr-key.', 'b3RoZXItc2VjcmV0LWZvci10ZXN0cy0wMTIzNDU2Nzg5',
                     'hmac-sha256')


def query(rdtype, serial=None, name='example.com.', key=None, **kw):
    m = dns.message.make_query(name, rdtype, **kw)
    m.id = 0x0102
    if serial is not None:
        m.authority.append(dns.rrset.from_text(name, 0, 'IN', 'SOA',
                                               f'a. b. {serial} 1 1 1 1'))
    if key is not None:
        m.use_tsig(key, fudge=300)
    return m.to_wire()


def seeds():
    time.time = lambda: float(NOW)
    yield 'axfr', query('AXFR')
    yield 'axfr_edns', query('AXFR', use_edns=0, payload=4096)
    yield 'axfr_signed', query('AXFR', key=KEY)
    yield 'axfr_badsig', query('AXFR', key=OTHER)
    yield 'axfr_other_zone', query('AXFR', name='example.org.')
    yield 'axfr_subdomain', query('AXFR', name='www.example.com.')
    for s in (1, 2, 3, 4, 0):
        yield f'ixfr_{s}', query('IXFR', s)
    yield 'ixfr_1_signed', query('IXFR', 1, key=KEY)
    yield 'ixfr_2_edns', query('IXFR', 2, use_edns=0, payload=1232)
    yield 'ixfr_no_soa', query('IXFR')
    yield 'soa_signed', query('SOA', key=KEY)
    yield 'soa_unsigned', query('SOA')
    yield 'a_signed_edns', query('A', name='www.example.com.', key=KEY, use_edns=0)
    m = dns.message.make_query('example.com.', 'SOA')
    m.set_opcode(dns.opcode.NOTIFY)
    m.use_tsig(KEY, fudge=300)
    yield 'notify_signed', m.to_wire()
    time.time = lambda: float(NOW - 3600)
    yield 'axfr_badtime', query('AXFR', key=KEY)
    time.time = lambda: float(NOW)
    w = bytearray(query('AXFR'))
    w[2] |= 0x80
    yield 'axfr_qr', bytes(w)
    w = bytearray(query('AXFR'))
    w[5] = 2
    yield 'axfr_qdcount2', bytes(w)
    yield 'axfr_truncated', query('AXFR')[:-2]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
