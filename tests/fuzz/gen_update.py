#!/usr/bin/python3
"""Regenerate the seed corpus of fuzz_update: RFC 2136 UPDATE messages for the target's zone
(example.com., serial 100): every prerequisite form passing and failing, the four update
forms, SOA and apex NS/SOA rules, CNAME conflicts, glue, compressed RDATA names, a TSIG and an
OPT in the additional section, and the malformed cases (zone section, framing, classes, TTLs,
RDATA). Run: /usr/bin/python3 tests/fuzz/gen_update.py"""
import os
import struct

import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.update

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'update')
ZONE = 'example.com.'
KEY = dns.tsig.Key('ddns-key.', 'ZnV6ei1kZG5zLWtleS0wMTIzNDU2Nzg5YWJjZGVm', 'hmac-sha256')


def upd(build, key=None, edns=False):
    u = dns.update.UpdateMessage(ZONE)
    u.id = 0x0bad
    build(u)
    if edns:
        u.use_edns(0, payload=1232)
    if key is not None:
        u.use_tsig(key, fudge=300)
    return u.to_wire()


def raw_rr(owner, rdtype, rdclass, ttl, rdata):
    return (dns.name.from_text(owner).to_wire() +
            struct.pack('!HHIH', rdtype, rdclass, ttl, len(rdata)) + rdata)


def raw(zone=ZONE, ztype=6, zcount=1, pre=(), upds=(), add=(), trailer=b''):
    h = struct.pack('!HHHHHH', 0x0bad, 5 << 11, zcount, len(pre), len(upds), len(add))
    z = dns.name.from_text(zone).to_wire() + struct.pack('!HH', ztype, 1)
    return h + z + b''.join(pre) + b''.join(upds) + b''.join(add) + trailer


def seeds():
    A, IN = dns.rdatatype.A, 1
    # the four update forms
    yield 'add_a', upd(lambda u: u.add('new', 300, 'A', '192.0.2.5'))
    yield 'add_join_ttl', upd(lambda u: u.add('www', 60, 'A', '192.0.2.82'))
    yield 'add_dup', upd(lambda u: u.add('www', 3600, 'A', '192.0.2.80'))
    yield 'add_many', upd(lambda u: [u.add('www', 300, 'AAAA', '2001:db8::1'),
                                     u.add('mx', 300, 'MX', '5 mail'),
                                     u.add('srv', 300, 'SRV', '0 0 53 www'),
                                     u.add('txt', 300, 'TXT', '"a" "b"'),
                                     u.add('_x', 300, 'TYPE65000', r'\# 2 abcd')])
    yield 'delete_rrset', upd(lambda u: u.delete('www', 'A'))
    yield 'delete_name', upd(lambda u: u.delete('www'))
    yield 'delete_apex', upd(lambda u: u.delete('@'))
    yield 'delete_apex_ns', upd(lambda u: u.delete('@', 'NS'))
    yield 'delete_rr', upd(lambda u: u.delete('www', 'A', '192.0.2.80'))
    yield 'delete_ns_all', upd(lambda u: [u.delete('@', 'NS', 'ns1'),
                                          u.delete('@', 'NS', 'ns2')])
    yield 'replace', upd(lambda u: u.replace('www', 120, 'A', '192.0.2.99'))
    # SOA
    for s in (99, 100, 101, 4000000000):
        yield f'soa_{s}', upd(lambda u, s=s: u.add(
            '@', 600, 'SOA', f'ns1 hostmaster {s} 3600 600 86400 300'))
    yield 'soa_delete', upd(lambda u: u.delete('@', 'SOA'))
    # CNAME
    yield 'cname_over_data', upd(lambda u: u.add('www', 300, 'CNAME', 'mail'))
    yield 'data_at_cname', upd(lambda u: u.add('alias', 300, 'A', '192.0.2.1'))
    yield 'cname_replace', upd(lambda u: u.add('alias', 300, 'CNAME', 'mail'))
    yield 'cname_after_delete', upd(lambda u: [u.delete('www'),
                                               u.add('www', 300, 'CNAME', 'mail')])
    # glue and delegations
    yield 'deleg_no_glue', upd(lambda u: u.add('new', 300, 'NS', 'ns.new'))
    yield 'deleg_glue', upd(lambda u: [u.add('new', 300, 'NS', 'ns.new'),
                                       u.add('ns.new', 300, 'A', '192.0.2.54')])
    yield 'glue_delete', upd(lambda u: u.delete('ns.sub', 'A'))
    yield 'deleg_delete', upd(lambda u: u.delete('sub', 'NS'))
    # prerequisites
    yield 'pre_yxdomain', upd(lambda u: [u.present('www'), u.add('p', 300, 'A', '192.0.2.7')])
    yield 'pre_nxdomain', upd(lambda u: [u.absent('www'), u.add('p', 300, 'A', '192.0.2.7')])
    yield 'pre_yxrrset', upd(lambda u: u.present('www', 'A'))
    yield 'pre_nxrrset', upd(lambda u: u.absent('www', 'AAAA'))
    yield 'pre_value', upd(lambda u: [u.present('www', 'A', '192.0.2.80'),
                                      u.present('www', 'A', '192.0.2.81'),
                                      u.delete('www', 'A')])
    yield 'pre_value_fail', upd(lambda u: u.present('www', 'A', '192.0.2.80'))
    yield 'pre_ent', upd(lambda u: u.present('c'))
    yield 'pre_notzone', upd(lambda u: u.present('www.example.org.'))
    # additional section
    yield 'signed', upd(lambda u: u.add('new', 300, 'A', '192.0.2.5'), key=KEY)
    yield 'edns', upd(lambda u: u.add('new', 300, 'A', '192.0.2.5'), edns=True)
    yield 'signed_edns', upd(lambda u: u.delete('www', 'TXT'), key=KEY, edns=True)
    # compressed names in RDATA: MX exchange pointing at the owner, CNAME at the zone
    owner = dns.name.from_text('cmp.example.com.').to_wire()
    at = 12 + len(dns.name.from_text(ZONE).to_wire()) + 4
    mx = struct.pack('!H', 5) + b'\x02Mx' + struct.pack('!H', 0xc000 | at)
    yield 'compressed_mx', raw(upds=[owner + struct.pack('!HHIH', 15, IN, 300, len(mx)) + mx])
    cn = b'\x03WwW' + struct.pack('!H', 0xc00c)
    yield 'compressed_cname', raw(upds=[raw_rr('c2.example.com.', 5, IN, 300, cn)])
    yield 'pointer_forward', raw(upds=[raw_rr('c3.example.com.', 5, IN, 300, b'\xc0\xff')])
    # malformed
    yield 'zocount_0', raw(zcount=0)
    yield 'zocount_2', raw(zcount=2)
    yield 'ztype_a', raw(ztype=A)
    yield 'other_zone', raw(zone='example.org.')
    yield 'a_short', raw(upds=[raw_rr('s.example.com.', A, IN, 300, b'\xc0\x00\x02')])
    yield 'txt_bad', raw(upds=[raw_rr('t.example.com.', 16, IN, 300, b'\x09ab')])
    yield 'class_ch', raw(upds=[raw_rr('w.example.com.', A, 3, 300, b'\xc0\x00\x02\x01')])
    yield 'any_ttl', raw(upds=[raw_rr('www.example.com.', A, 255, 300, b'')])
    yield 'none_any', raw(upds=[raw_rr('www.example.com.', 255, 254, 0, b'')])
    yield 'add_axfr', raw(upds=[raw_rr('w.example.com.', 252, IN, 300, b'')])
    yield 'pre_ttl', raw(pre=[raw_rr('www.example.com.', A, 255, 5, b'')])
    yield 'add_in_additional', raw(add=[raw_rr('w.example.com.', A, IN, 300, b'\xc0\x00\x02\x01')])
    yield 'trailing', raw(upds=[raw_rr('w.example.com.', A, IN, 300, b'\xc0\x00\x02\x01')],
                          trailer=b'\x00')
    yield 'truncated', upd(lambda u: u.add('new', 300, 'A', '192.0.2.5'))[:-3]
    yield 'notzone', raw(upds=[raw_rr('w.example.org.', A, IN, 300, b'\xc0\x00\x02\x01')])


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
