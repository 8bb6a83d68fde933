#!/usr/bin/python3
"""Regenerate the seed corpus of fuzz_zone: the example zone, every RR type the loader knows
names in, directives ($ORIGIN, $TTL, $INCLUDE inc.zone, which the target provides) and the
syntax and semantic errors an operator makes. Run: /usr/bin/python3 tests/fuzz/gen_zone.py"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'corpus', 'zone')
EXAMPLE = os.path.join(HERE, '..', '..', 'contrib', 'examples', 'example.com.zone')

HEAD = ('$ORIGIN example.com.\n$TTL 300\n'
        '@ SOA ns1 hm 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n')

SEEDS = {
    'minimal': HEAD,
    'types': HEAD + ('@ MX 10 mail\nmail A 192.0.2.2\nmail AAAA 2001:db8::2\n'
                     'www CNAME mail\n_s._tcp SRV 0 5 80 www\ntxt TXT "a b" c "\\"q\\""\n'
                     'p PTR www\ndn DNAME example.net.\nrp RP hm txt\nafs AFSDB 1 ns1\n'
                     'caa CAA 0 issue "ca.example"\nsshfp SSHFP 1 1 0123456789abcdef\n'
                     'gen TYPE65000 \\# 3 010203\ngen2 CLASS1 TYPE1 \\# 4 c0000201\n'),
    'wildcard_cut': HEAD + ('*.w A 192.0.2.3\nsub NS ns.sub\nns.sub A 192.0.2.4\n'
                            'deep.below.sub A 192.0.2.5\nsub DS 1 8 2 ' + 'ab' * 32 + '\n'),
    'multiline': HEAD + 'm TXT ( "one"\n  "two" ; comment\n  "three" )\n',
    'include': HEAD + '$INCLUDE inc.zone\n$INCLUDE inc.zone sub.example.com.\n',
    'self_include': HEAD + '$INCLUDE zone.txt\n',
    'origin_ttl': HEAD + '$ORIGIN a.example.com.\nb 60 IN A 192.0.2.6\n$TTL 1h\nc A 192.0.2.7\n'
                         '$ORIGIN example.com.\n',
    'no_soa': '$ORIGIN example.com.\n@ 300 NS ns1\nns1 300 A 192.0.2.1\n',
    'two_soa': HEAD + '@ SOA ns1 hm 2 1 1 1 1\n',
    'soa_not_apex': HEAD + 'x SOA ns1 hm 1 1 1 1 1\n',
    'cname_and_data': HEAD + 'c CNAME www\nc A 192.0.2.8\n',
    'out_of_zone': HEAD + 'www.example.org. A 192.0.2.9\n',
    'missing_glue': HEAD + 'sub NS ns.sub\n',
    'bad_ipv4': HEAD + 'x A 192.0.2.256\n',
    'bad_ttl': HEAD + '$TTL forever\nx 99999999999 A 192.0.2.1\n',
    'class_ch': HEAD + 'x CH TXT "chaos"\n',
    'unknown_type': HEAD + 'x FOO bar\n',
    'unbalanced': HEAD + 'x TXT ( "open"\n',
    'long_name': HEAD + ('a' * 63 + '.') * 3 + 'example.com. A 192.0.2.1\n',
    'long_label': HEAD + 'a' * 64 + ' A 192.0.2.1\n',
    'escapes': HEAD + 'a\\.b\\032c A 192.0.2.1\n\\@ TXT "\\255\\000"\n',
    'no_newline': HEAD + 'x A 192.0.2.1',
    'crlf': HEAD.replace('\n', '\r\n'),
    'empty': '',
    'include_missing': HEAD + '$INCLUDE nope.zone\n',
    'at_apex_ns_only': '$ORIGIN example.com.\n@ 300 SOA ns1.example.net. hm 1 1 1 1 1\n'
                       '@ 300 NS ns1.example.net.\n',
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, text in SEEDS.items():
        with open(os.path.join(OUT, name), 'w', newline='') as f:
            f.write(text)
    with open(EXAMPLE) as f:
        example = f.read()
    with open(os.path.join(OUT, 'example'), 'w') as f:
        f.write(example)


if __name__ == '__main__':
    main()
