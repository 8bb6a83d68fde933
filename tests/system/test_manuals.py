"""The manual pages agree with the code (issue 12, Manuals).

- steerdns(8): the long and short options of `steerdns --help`, of the getopt table in
  server/main.c and of the page's OPTIONS section are the same sets.
- steerctl(8): the command forms ("health force-down", "zone diff", ...) and their --flags in
  `steerctl --help`, in the running daemon's `steerctl help` (server/control.c's table) and in
  the page's COMMANDS section are the same; steerctl's own options likewise.
- steerdns.yaml(5): every key the configuration parser accepts (its tables of allowed keys,
  read from the C sources listed in KEY_TABLES) has an entry in the page, and every entry of the
  page is a key the parser accepts. The page is the one meson built (build dir under test),
  and it is what contrib/man/yaml2man.py makes of the example configuration now.
- every page renders with `man --warnings -l` without a warning (and the check itself is shown
  to catch a broken page).
"""

import os
import re
import subprocess

import pytest

import sdlib

MAN_DIR = os.path.join(sdlib.ROOT, "contrib", "man")
EXAMPLE = os.path.join(sdlib.ROOT, "contrib", "examples", "steerdns.yaml")
YAML2MAN = os.path.join(MAN_DIR, "yaml2man.py")
PY = "/usr/bin/python3"


def built_yaml_page():
    path = os.path.join(sdlib.build_dir(), "contrib", "man", "steerdns.yaml.5")
    assert os.path.exists(path), "%s not built (ninja -C %s)" % (path, sdlib.build_dir())
    return path


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


def roff_plain(s):
    """A roff line as text: font escapes dropped, \\- and \\e unescaped, macro name removed."""
    s = re.sub(r"^\.(B|I|BR|IR|RB|RI|BI|IB)\s+", "", s)
    s = re.sub(r"\\f[BIRP]", "", s)
    s = s.replace("\\-", "-").replace("\\e", "\\").replace("\\~", " ").replace('"', "")
    return s


def section_tags(page, section):
    """The tag lines (the line after each .TP) of one .SH section of a roff page, as text;
    only .TP at the section's own level (not inside .RS ... .RE)."""
    with open(page, encoding="utf-8") as f:
        lines = f.read().split("\n")
    tags, inside, depth = [], False, 0
    for i, line in enumerate(lines):
        if line.startswith(".SH"):
            inside = line[3:].strip().strip('"') == section
            continue
        if not inside:
            continue
        if line.startswith(".RS"):
            depth += 1
        elif line.startswith(".RE"):
            depth -= 1
        elif re.match(r"^\.TP\b", line) and depth == 0:
            tags.append(roff_plain(lines[i + 1]))
    assert tags, "%s: no .TP entries in section %s" % (page, section)
    return tags


# ------------------------------------------------------------------------------- steerdns(8)

def help_options(text):
    longs = set(re.findall(r"^\s+(?:-\w, )?--([a-z][a-z-]*)", text, re.M))
    shorts = set(re.findall(r"^\s+-(\w), --", text, re.M))
    return longs, shorts


def test_steerdns_options_match_help_code_and_page():
    r = run([sdlib.binary("steerdns"), "--help"])
    assert r.returncode == 0, r.stderr
    help_long, help_short = help_options(r.stdout)
    with open(os.path.join(sdlib.ROOT, "server", "main.c"), encoding="utf-8") as f:
        src = f.read()
    table = re.search(r"struct option options\[\] = \{(.*?)\n\};", src, re.S)
    assert table, "server/main.c: the getopt table 'options[]' moved; update this test"
    code_long = set(re.findall(r'\{"([a-z-]+)", (?:no|required|optional)_argument', table.group(1)))
    shortopts = re.search(r'getopt_long\(argc, argv, "([^"]*)"', src).group(1)
    code_short = set(re.findall(r"\w", shortopts))
    page_long, page_short = set(), set()
    for tag in section_tags(os.path.join(MAN_DIR, "steerdns.8"), "OPTIONS"):
        page_long |= set(re.findall(r"--([a-z][a-z-]*)", tag))
        page_short |= set(re.findall(r"(?:^|\s)-(\w)\b", tag))
    assert len(code_long) >= 10
    assert help_long == code_long, ("--help vs server/main.c", help_long ^ code_long)
    assert page_long == code_long, ("steerdns.8 OPTIONS vs server/main.c", page_long ^ code_long)
    assert help_short == code_short == page_short, (help_short, code_short, page_short)


# ------------------------------------------------------------------------------- steerctl(8)

LITERAL = re.compile(r"^[a-z][a-z-]*(\|[a-z][a-z-]*)*$")


def command_forms(synopsis):
    """'health [--json] | force-down|force-up|unforce TARGET|pool:NAME' after 'health' ->
    {'health': {'--json'}, 'health force-down': set(), ...}: the command, and a sub-command
    when the first word after it is a literal (a set of them: one form each), with the
    --flags each form takes."""
    words = synopsis.split()
    name, rest = words[0], " ".join(words[1:])
    forms = {}
    for alt in [a.strip() for a in rest.split(" | ")] if rest else [""]:
        toks = alt.split()
        flags = set(re.findall(r"(--[a-z][a-z-]*)", alt))
        if toks and LITERAL.match(toks[0]):
            for sub in toks[0].split("|"):
                forms.setdefault(name + " " + sub, set()).update(flags)
        else:
            forms.setdefault(name, set()).update(flags)
    return forms


def merge(dst, src):
    for k, v in src.items():
        dst.setdefault(k, set()).update(v)
    return dst


def steerctl_help_forms(text):
    block = text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    forms = {}
    for line in block.split("\n"):
        if re.match(r"^  [a-z]", line):  # a synopsis; the description follows 2+ blanks
            merge(forms, command_forms(re.split(r"\s{2,}", line.strip())[0]))
    return forms


def daemon_help_forms(text):
    forms = {}
    for line in text.split("\n"):
        if re.match(r"^[a-z]", line):  # "name args", its help on the indented next line
            merge(forms, command_forms(line))
    return forms


def test_steerctl_commands_match_help_daemon_and_page(steerdns):
    r = run([sdlib.binary("steerctl"), "--help"])
    assert r.returncode == 0, r.stderr
    help_forms = steerctl_help_forms(r.stdout)
    d = steerdns.steerctl("help")
    assert d.returncode == 0, d.stderr
    daemon_forms = daemon_help_forms(d.stdout)
    page_forms = {}
    for tag in section_tags(os.path.join(MAN_DIR, "steerctl.8"), "COMMANDS"):
        merge(page_forms, command_forms(tag))
    assert len(daemon_forms) >= 10, daemon_forms
    assert help_forms == daemon_forms, ("steerctl --help vs the daemon", help_forms, daemon_forms)
    assert page_forms == daemon_forms, ("steerctl.8 COMMANDS vs the daemon", page_forms,
                                        daemon_forms)
    # steerctl's own options
    with open(os.path.join(sdlib.ROOT, "server", "steerctl.c"), encoding="utf-8") as f:
        src = f.read()
    code = set(re.findall(r'\{"([a-z-]+)", (?:no|required|optional)_argument', src))
    help_long, _ = help_options(r.stdout)
    page = set()
    for tag in section_tags(os.path.join(MAN_DIR, "steerctl.8"), "OPTIONS"):
        page |= set(re.findall(r"--([a-z][a-z-]*)", tag))
    assert code == help_long == page, (code, help_long, page)


# -------------------------------------------------------------------------- steerdns.yaml(5)

# Where the parser lists the keys it accepts: (YAML path, source file, anchor to search from,
# regex whose group 1 is the table's body, regex of one key in the body). A moved table fails
# here loudly; a key added to a table fails below until the example documents it.
STR = r'"([a-z][a-z0-9-]*)"'
STRUCT = r'\{"([a-z][a-z0-9-]*)",'
KEY_TABLES = [
    ("", "server/config.c", "sections[] = {", r"sections\[\] = \{(.*?)\n\};", STRUCT),
    ("server", "server/config.c", "server_keys[] = {", r"server_keys\[\] = \{(.*?)\n\};", STRUCT),
    ("server.rrl", "server/config.c", "static int key_rrl(", r"keys\[\] = \{(.*?)\};", STR),
    ("server.cookies", "server/config.c", "static int key_cookies(", r"keys\[\] = \{(.*?)\};", STR),
    ("keys[]", "server/xfr/conf.c", "static void key_entry(", r"allowed\[\] = \{(.*?)\};", STR),
    ("zones[]", "server/config.c", "static int zone_entry(", r"keys\[[^]]*\] = \{(.*?)\};", STR),
    ("zones[]", "server/xfr/conf.c", "xfr_zone_conf_keys[] = {",
     r"xfr_zone_conf_keys\[\] = \{(.*?)\};", STR),
    ("zones[].update-policy[]", "server/update_policy.c", "srv_upd_rule_keys[] = {",
     r"srv_upd_rule_keys\[\] = \{(.*?)\};", STR),
    ("health", "health/conf.c", "section_keys[] = {", r"section_keys\[\] = \{(.*?)\};", STR),
    ("health.templates[]", "health/conf.c", "tpl_keys[] = {", r"tpl_keys\[\] = \{(.*?)\};", STR),
    ("health.targets[]", "health/conf.c", "target_keys[] = {", r"target_keys\[\] = \{(.*?)\};",
     STR),
    ("steering[]", "steering/conf.c", "policy_keys[] = {", r"policy_keys\[\] = \{(.*?)\};", STR),
    ("steering[].pools[]", "steering/conf.c", "pool_keys[] = {", r"pool_keys\[\] = \{(.*?)\};",
     STR),
    ("steering[].geo", "steering/conf.c", "geo_keys[] = {", r"geo_keys\[\] = \{(.*?)\};", STR),
    ("geoip", "steering/conf.c", "geoip_keys[] = {", r"geoip_keys\[\] = \{(.*?)\};", STR),
    ("geoip.databases[]", "steering/conf.c", "db_keys[] = {", r"db_keys\[\] = \{(.*?)\};",
     STR),
]
# Not checked: steering[].pools[].members entries ({address, weight, target}) and
# steering[].geo.rules entries ({continent|country|subdivision, pools}) are written as flow
# mappings and described in the text of `members`, `candidates` and `rules`.


def parser_keys():
    """{parent path: set of keys} from the parser's tables."""
    out = {}
    for parent, rel, anchor, table_re, key_re in KEY_TABLES:
        with open(os.path.join(sdlib.ROOT, rel), encoding="utf-8") as f:
            src = f.read()
        at = src.find(anchor)
        assert at >= 0, "%s: '%s' not found; update KEY_TABLES in this test" % (rel, anchor)
        m = re.compile(table_re, re.S).search(src, at)
        assert m, "%s: no key table after '%s'; update KEY_TABLES" % (rel, anchor)
        keys = set(re.findall(key_re, m.group(1)))
        assert keys, "%s: empty key table after '%s'" % (rel, anchor)
        out.setdefault(parent, set()).update(keys)
    return out


def join(parent, key):
    return key if not parent else parent + "." + key


def test_config_keys_match_parser_and_page():
    keys = parser_keys()
    accepted = {join(p, k) for p, ks in keys.items() for k in ks}
    r = run([PY, YAML2MAN, "--keys", EXAMPLE])
    assert r.returncode == 0, r.stderr
    documented = set(r.stdout.split())
    # the page documents sections by their headings, keys by their paths; a section that is
    # a list shows its items' keys as "section[].key"
    tops = keys[""]
    with open(built_yaml_page(), encoding="utf-8") as f:
        page = f.read()
    headings = set(re.findall(r"^\.SH (\S+)$", page, re.M))
    for top in tops:
        assert top.upper() in headings, "section '%s' has no heading in steerdns.yaml.5" % top
    entries = {roff_plain(l) for l in re.findall(r"^\.B (\S+)$", page, re.M)}
    missing = sorted(a for a in accepted - tops if a not in entries)
    assert not missing, ("keys the parser accepts but steerdns.yaml.5 lacks (document them in "
                         "contrib/examples/steerdns.yaml)", missing)
    # every documented key whose parent has a table is a key that parent accepts
    unknown = sorted(d for d in documented
                     if d.rsplit(".", 1)[0] in keys and d not in accepted)
    assert not unknown, ("keys in steerdns.yaml.5 that the parser rejects", unknown)
    parents = {d.rsplit(".", 1)[0] for d in documented if "." in d}
    assert len(documented) >= 60 and "server.rrl" in parents


def test_yaml_page_is_current(tmp_path):
    """The page meson built is what the generator makes of the example now (rebuild after an
    edit of the example)."""
    version = run([sdlib.binary("steerdns"), "--version"]).stdout.split()[-1]
    out = tmp_path / "steerdns.yaml.5"
    r = run([PY, YAML2MAN, "--version=" + version, EXAMPLE, str(out)])
    assert r.returncode == 0, r.stderr
    with open(built_yaml_page(), encoding="utf-8") as f:
        assert f.read() == out.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------- rendering

def render_warnings(page):
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MANPAGER="cat", PAGER="cat")
    r = run(["man", "--warnings", "-l", page], env=env)
    return r.returncode, r.stdout, r.stderr


@pytest.mark.parametrize("page", ["steerdns.8", "steerctl.8", "steerdns.yaml.5"])
def test_page_renders_without_warnings(page):
    path = built_yaml_page() if page.endswith(".5") else os.path.join(MAN_DIR, page)
    rc, out, err = render_warnings(path)
    assert rc == 0 and err == "", err
    assert "NAME" in out and "SEE ALSO" in out and len(out.split("\n")) > 50


def test_render_check_catches_a_broken_page(tmp_path):
    bad = tmp_path / "bad.8"
    bad.write_text(".TH BAD 8\n.SH NAME\nbad \\- a page\n.XX unknown\n.SH SEE ALSO\n"
                   "\\fBunclosed font\n.RE\n")
    rc, out, err = render_warnings(str(bad))
    assert err != ""
