#!/usr/bin/python3
"""Regenerate the seed corpus of fuzz_journal: journal files of example.com. in the format of
zone/journal.h (valid chains, a torn tail, a bad checksum, a broken chain, another zone's
header, a torn header) and bare change set payloads (zone_changeset_serialize's format).
Run: /usr/bin/python3 tests/fuzz/gen_journal.py"""
import os
import struct

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'journal')
APEX = 'example.com.'


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def rr(owner, rdtype, text, ttl=3600):
    rd = dns.rdata.from_text(dns.rdataclass.IN, rdtype, text).to_digestable()
    t = dns.rdatatype.from_text(rdtype)
    return (dns.name.from_text(owner).to_wire() +
            struct.pack('!HHIH', t, 1, ttl, len(rd)) + rd)


def soa(serial):
    return rr(APEX, 'SOA', f'ns1.example.com. hm.example.com. {serial} 7200 900 1209600 300')


def payload(frm, to, removed=(), added=()):
    s = soa(frm) + soa(to)
    r = b''.join(removed)
    a = b''.join(added)
    return (struct.pack('!I', len(s)) + s + struct.pack('!II', len(removed), len(r)) + r +
            struct.pack('!II', len(added), len(a)) + a)


def header(apex=APEX, version=1):
    w = dns.name.from_text(apex).to_wire()
    h = b'SDJRNL\r\n' + struct.pack('!I', version) + bytes([len(w)]) + w
    return h + struct.pack('!I', crc32c(h))


def entry(frm, to, body=None, origin=None):
    """An entry of format 1, or of format 2 with origin = (time, kind, text)."""
    p = body if body is not None else payload(
        frm, to, [rr('www.example.com.', 'A', f'192.0.2.{frm % 250}')],
        [rr('www.example.com.', 'A', f'192.0.2.{to % 250}'),
         rr('example.com.', 'MX', f'10 mail{to}.example.com.'),
         rr('_s._tcp.example.com.', 'SRV', '0 0 5 www.example.com.')])
    e = struct.pack('!IIII', 0x53444A45, len(p), frm, to)
    if origin is not None:
        t, kind, text = origin
        e += struct.pack('!QBB', t, kind, len(text)) + text
    e += p
    return e + struct.pack('!I', crc32c(e))


def entry2(frm, to, kind=2, text=b'deploy-key.', t=1764729000, body=None):
    return entry(frm, to, body, (t, kind, text))


def seeds():
    yield 'empty_journal', header()
    yield 'one_entry', header() + entry(1, 2)
    yield 'chain', header() + entry(1, 2) + entry(2, 3) + entry(3, 4)
    yield 'long_chain', header() + b''.join(entry(i, i + 1) for i in range(10, 16))
    yield 'serial_wrap', header() + entry(0xFFFFFFFF, 0) + entry(0, 1)
    yield 'torn_tail', (header() + entry(1, 2) + entry(2, 3))[:-7]
    bad = bytearray(header() + entry(1, 2) + entry(2, 3))
    bad[-3] ^= 1
    yield 'bad_crc', bytes(bad)
    yield 'broken_chain', header() + entry(1, 2) + entry(5, 6)
    yield 'other_zone', header('example.org.') + entry(1, 2)
    yield 'torn_header', header()[:11]
    yield 'bad_magic', b'SDJRNX\r\n' + header()[8:]
    yield 'garbage_entry', header() + b'SDJE' + b'\xff' * 12
    yield 'bad_payload', header() + entry(1, 2, b'\x00\x00\x00\x05hello')
    yield 'serials_mismatch', header() + entry(1, 2, payload(7, 8))
    yield 'payload_plain', payload(1, 2, [rr('a.example.com.', 'TXT', '"x"')],
                                   [rr('a.example.com.', 'TXT', '"y"')])
    yield 'payload_soa_only', payload(5, 6)
    yield 'payload_bad_count', payload(1, 2)[:-8] + struct.pack('!II', 3, 0)
    yield 'payload_soa_in_added', payload(1, 2, added=[soa(9)])
    # format 2: time and source after the serials
    h2 = header(version=2)
    yield 'v2_chain', h2 + entry2(1, 2, 1, b'/etc/zones/example.com') + entry2(2, 3) + \
        entry2(3, 4, 4, b'to 2 by control') + entry2(4, 5, 0, b'', 0)
    yield 'v2_long_source', h2 + entry2(7, 8, 3, b'api.example.com, ' * 15)
    yield 'v2_unknown_kind', h2 + entry2(1, 2, 200, b'future')
    yield 'v2_torn_source', (h2 + entry2(1, 2) + entry2(2, 3))[:-60]
    yield 'v2_text_past_end', h2 + struct.pack('!IIIIQBB', 0x53444A45, 0, 1, 2, 0, 2, 255)
    yield 'v3_header', header(version=3) + entry2(1, 2)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
