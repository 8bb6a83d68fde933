#!/usr/bin/python3
"""Regenerate the seed corpus of fuzz_dname: wire names (plain, compressed, at the limits,
malformed) and presentation names (escapes, relative, too long). Each seed is read by the
target both as wire bytes and as text. Run: /usr/bin/python3 tests/fuzz/gen_dname.py"""
import os

import dns.message
import dns.name
import dns.rrset

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'dname')


def wire(text):
    return dns.name.from_text(text).to_wire()


def seeds():
    yield 'root', b'\x00'
    yield 'www', wire('www.Example.COM.')
    yield 'escapes', wire(r'a\.b\032c\\d\255.example.')
    yield 'max_label', wire('a' * 63 + '.example.')
    # 255 bytes: three 63-byte labels and one 61-byte label.
    yield 'max_name', wire('.'.join(['a' * 63, 'b' * 63, 'c' * 63, 'd' * 61]) + '.')
    yield 'label_64', b'\x40' + b'a' * 64 + b'\x00'
    yield 'too_long', (b'\x3f' + b'a' * 63) * 4 + b'\x00'
    yield 'truncated', b'\x07examp'
    yield 'reserved_bits', b'\x80abc\x00'
    yield 'ptr_forward', b'\xc0\x02\x03www\x00'
    yield 'ptr_self', b'\xc0\x00'
    yield 'ptr_loop', b'\x03abc\xc0\x00'
    m = dns.message.make_query('www.example.com.', 'MX')
    m.id = 1
    r = dns.message.make_response(m)
    r.answer.append(dns.rrset.from_text('www.example.com.', 60, 'IN', 'MX',
                                        '10 mail.example.com.'))
    yield 'message_compressed', r.to_wire()
    yield 'text_plain', b'www.example.com.'
    yield 'text_relative', b'host'
    yield 'text_at', b'@'
    yield 'text_escapes', b'a\\.b\\032c\\\\d\\255.'
    yield 'text_bad_escape', b'a\\25x.'
    yield 'text_empty_label', b'a..b.'
    yield 'text_long', (b'a' * 63 + b'.') * 4
    yield 'text_binary', bytes(range(256))


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
