#!/usr/bin/python3
"""Regenerate the seed corpus of fuzz_conf: the example config, small valid configs for each
section and typical operator mistakes (unknown keys, wrong types, dangling references, bad
durations and addresses, YAML syntax errors, aliases). Run: /usr/bin/python3 tests/fuzz/gen_conf.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'corpus', 'conf')
EXAMPLE = os.path.join(HERE, '..', '..', 'contrib', 'examples', 'steerdns.yaml')

MIN = 'server:\n  listen: 127.0.0.1:5353\n'
KEYS = ('keys:\n  - name: xfr-key\n    algorithm: hmac-sha256\n'
        '    secret: "c3RlZXJkbnMtZXhhbXBsZS1rZXktY2hhbmdlLW1lIQ=="\n')
ZONE = ('zones:\n  - name: example.com\n    file: example.com.zone\n'
        '    serial-policy: unixtime\n    notify: ["127.0.0.1:5300"]\n'
        '    transfer-acl:\n      - {address: 127.0.0.0/8, key: xfr-key}\n      - address: ::1\n'
        '    journal-max-size: 1000000\n    journal-max-depth: 10\n')
HEALTH = ('health:\n  templates:\n    - {name: t, type: tcp, port: 80, interval: 500ms, '
          'timeout: 1s, rise: 1, fall: 2}\n'
          '    - {name: h, type: http, path: /, expect-status: [200, 300-399], '
          'expect-body: ok, jitter: 5%}\n'
          '  targets:\n    - {name: a, address: 192.0.2.1, template: t, pool: p1}\n'
          '    - {name: b, address: "2001:db8::1", port: 8080, template: h}\n')

SEEDS = {
    'minimal': MIN,
    'full_server': MIN + '  workers: 2\n  identity: ns1\n  udp-payload: 4096\n'
                         '  tcp-idle-timeout: 2m\n  tcp-max-connections: 10\n'
                         '  control-socket: s.sock\n  state-dir: .\n  log-level: debug\n'
                         '  log-target: syslog\n',
    'keys_zone': MIN + KEYS + ZONE,
    'health': MIN + HEALTH,
    'all': MIN + KEYS + ZONE + HEALTH,
    'empty': '',
    'unknown_key': MIN + 'bogus: 1\n',
    'wrong_types': 'server:\n  listen: {a: 1}\n  workers: many\n  udp-payload: 99999\n',
    'dangling_key': MIN + ZONE,
    'dangling_template': MIN + 'health:\n  targets:\n    - {name: a, address: 192.0.2.1, '
                                'template: nope}\n',
    'bad_duration': MIN + '  tcp-idle-timeout: 10 parsecs\n',
    'bad_address': 'server:\n  listen: ["999.1.1.1:53", "[::1]:99999", "x"]\n',
    'bad_acl': MIN + KEYS + ZONE.replace('127.0.0.0/8', '10.1.2.3/8'),
    'bad_secret': MIN + 'keys:\n  - {name: k, secret: "!!notbase64", algorithm: md5}\n',
    'dup_zone': MIN + ZONE + ZONE[len('zones:\n'):],
    'syntax_error': 'server:\n  listen: [127.0.0.1:53\n',
    'alias': 'a: &x {b: 1}\nc: *x\n',
    'tabs': 'server:\n\tlisten: 127.0.0.1:53\n',
    'top_seq': '- 1\n- 2\n',
    'scalar_root': 'hello\n',
    'nested': MIN + 'health: ' + '[' * 40 + ']' * 40 + '\n',
    # Reproducer: 100,000 nested sequences overflowed the stack of the recursive reader in
    # contrib/base/conf.c before it had a depth limit.
    'deep_nesting': '[' * 100000 + ']' * 100000 + '\n',
    # Reproducer: a template without a name followed by another template crashed the
    # duplicate-name check (strcmp on NULL in health_conf_tpl, health/conf.c).
    'template_without_name': MIN + 'health:\n  templates:\n    - {type: tcp, port: 80}\n'
                                   '    - {name: h, type: tcp, port: 80}\n',
    'multi_doc': MIN + '---\n' + MIN,
    'non_ascii': MIN + '  identity: "\\u00e9\\u0000x"\n',
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, text in SEEDS.items():
        with open(os.path.join(OUT, name), 'w') as f:
            f.write(text)
    with open(EXAMPLE) as f:
        example = f.read()
    with open(os.path.join(OUT, 'example'), 'w') as f:
        f.write(example)


if __name__ == '__main__':
    main()
