#!/usr/bin/python3
"""Regenerate the seed corpus of fuzz_health_state: state files as steerdns writes them and
as an operator may damage them. Run: /usr/bin/python3 tests/fuzz/gen_health_state.py"""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'health_state')
HEAD = '# steerdns health overrides (written by steerdns; steerctl health force-*)\n'

SEEDS = {
    'written': HEAD + 'target web-1 down\npool eu-west up\n',
    'empty': '',
    'comments_blank': '\n   \n# c\n\t# c2\ntarget a up\n',
    'no_newline': 'pool p down',
    'crlf': 'target a down\r\npool b up\r\n',
    'tabs': 'target\ta\tdown\n',
    'bad_kind': 'host a down\n',
    'bad_mode': 'target a sideways\n',
    'extra_field': 'target a down now\n',
    'missing_field': 'target a\n',
    'bad_name': 'target a/b down\n',
    'long_name': 'target ' + 'n' * 300 + ' down\n',
    'long_line': 'target ' + 'n' * 600 + ' up\n',
    'many': ''.join(f'target t{i} {"up" if i % 2 else "down"}\n' for i in range(40)),
    'duplicate': 'target a up\ntarget a down\n',
    'nul': 'target a\x00b down\n',
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, text in SEEDS.items():
        with open(os.path.join(OUT, name), 'w', newline='') as f:
            f.write(text)


if __name__ == '__main__':
    main()
