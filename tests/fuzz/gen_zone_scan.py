#!/usr/bin/python3
"""Regenerate the seed corpus of fuzz_zone_scan: zone files that mix the plain lines the
scanner reads (zone/scan.h) with every case it leaves to ldns (directives, blank owners
after either reader, comments, parentheses, escapes, '@', TTL units, class before TTL, long
names, bad addresses, CRLF). Run: /usr/bin/python3 tests/fuzz/gen_zone_scan.py"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'corpus', 'zone_scan')

HEAD = ('$ORIGIN example.com.\n$TTL 300\n'
        '@ SOA ns1 hm 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n')
LONG = '.'.join(list('abcdefghijklmnopqrstuvwxyz') * 4 + list('abcdefghijklmnopqrstu'))

SEEDS = {
    'plain': HEAD + ('a A 10.0.0.1\na 60 A 10.0.0.2\nc 60 IN A 10.0.0.4\nd in a 10.0.0.5\n'
                     ' A 10.0.0.6\n\t60 AAAA ::1\nB.Example.com. MX 10 Mail\nc2 CNAME x.y.\n'
                     'd NS ns.other.\ne PTR a\nf DNAME g.other.\n*.w A 10.0.0.1\n'
                     'x-y_z TXT "a b" "" "~!#%&*+,-./:<=>?[]^`{|}\'_"\n'),
    'readers': HEAD + ('p A 10.0.0.1\n TXT ( "a" )\n AAAA ::2\nq ( A 10.0.0.2 )\n A 10.0.0.3\n'
                       'r A 10.0.0.1 ; comment\n A 10.0.0.2\n; only\n\n   \n A 10.0.0.3\n'),
    'directives': HEAD + ('$ORIGIN sub\ns A 10.0.0.1\n A 10.0.0.2\n$ORIGIN example.com.\n'
                          't A 10.0.0.3\n$TTL 60\nu A 10.0.0.4\n$TTL 1h\nv A 10.0.0.5\n'
                          '@ A 10.0.0.6\n'),
    'no_ttl': ('$ORIGIN example.com.\n@ 120 SOA ns1 hm 1 2 3 4 5\n@ NS ns1\n'
               'ns1 A 192.0.2.1\na A 10.0.0.1\nb 7 A 10.0.0.2\nc A 10.0.0.3\n'
               'd 1h A 10.0.0.4\ne A 10.0.0.5\n'),
    'declined': HEAD + ('a 1h30m A 10.0.0.1\nb 99999999999 A 10.0.0.1\nc A 300.0.0.1\n'
                        'd AAAA 10.0.0.1\ne MX 65536 m\nf A 10.0.0.1 extra\ng..h A 10.0.0.1\n'
                        't TXT unquoted\nu TXT "a""b"\nv TXT "a\\"b" "\\065"\n'
                        'w SRV 1 2 3 t\nx TYPE99 \\# 0\ny IN 60 A 10.0.0.1\n'),
    'class_ch': HEAD + 'a CH A 10.0.0.1\n',
    'crlf': HEAD.replace('\n', '\r\n') + 'a A 10.0.0.1\r\n',
    'line_ends': HEAD + 'w A 10.0.0.1\n\rx TXT "a"\ny A 10.0.0.2\n\f\v A 10.0.0.3\n',
    'blanks': HEAD + 'a\tA\t10.0.0.1  \nb  60   IN   A 10.0.0.2\t\n',
    'rules': HEAD + 'outside.org. A 10.0.0.1\nc CNAME x.\nc A 10.0.0.1\nl 60 A 1.1.1.1\n'
                    'l 61 A 1.1.1.2\n',
    'long_names': HEAD + 'x ' + 'a' * 64 + ' A 10.0.0.1\n' + LONG + ' A 10.0.0.1\n' +
    LONG[:-2] + ' A 10.0.0.1\n',
    'no_newline': HEAD + 'a A 10.0.0.1',
    'first_blank': ' A 10.0.0.1\n' + HEAD,
    'ttl_zero': HEAD.replace('$TTL 300', '$TTL 0') + 'a A 10.0.0.1\n@ TXT "x"\n',
}

os.makedirs(OUT, exist_ok=True)
for name, text in SEEDS.items():
    with open(os.path.join(OUT, name), 'w', newline='') as f:
        f.write(text)
