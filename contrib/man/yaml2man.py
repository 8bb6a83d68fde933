#!/usr/bin/python3
"""yaml2man.py — steerdns.yaml(5) from the comments of the example configuration.

Every configuration key is documented once, in contrib/examples/steerdns.yaml, where users
look; this script turns that file into the manual page so that the two never disagree: a key
documented in the example appears in the page at the next build.

Usage: yaml2man.py [--keys] EXAMPLE.yaml [OUT.5]
  --keys  print the documented key paths, one a line ("server.rrl.rate", "zones[].name"),
          instead of the page (tests/system/test_manuals.py compares them with the parser)

What it reads (a line scanner for the example's own layout, python3 stdlib only; the example
is the only input, so its conventions are the contract):
  - the comment lines before the first blank line: the page's DESCRIPTION;
  - a top-level key ("server:"): one section of the page, the comment block just above it
    its introduction;
  - "key: value" and "- key: value" lines below it: one entry each, path joined with "." and
    "[]" for list items ("zones[].transfer-acl"); the entry's text is the comment block just
    above the line plus its trailing "# ..." comment (and the comment lines aligned under
    that one); a "- # text" line opens a list item whose first key takes the text;
  - a commented-out key ("# user: steerdns": '#', one space, a lower-case key, ': ', at the
    indentation of the keys around it): documented like a written one; the comment lines
    before it are its text, those after it belong to the next key;
  - a key written more than once (list items) is one entry; texts of later items are added;
  - comment lines indented past the first word ("#   match: ...") are kept as written.
Flow mappings ({address: ..., key: ...}) are values, not keys: their keys are described in
the text of the key that holds them. The example itself is printed at the end of the page.
"""
import re
import sys

KEY_RE = re.compile(r"^(?P<ind> *)(?P<dash>- +)?(?P<key>[a-z][a-z0-9-]*):(?:\s+(?P<rest>.*))?$")
DASH_COMMENT_RE = re.compile(r"^(?P<ind> *)- +#(?P<text>.*)$")
COMMENT_RE = re.compile(r"^(?P<ind> *)#(?P<text>.*)$")
COMMENTED_KEY_RE = re.compile(r"^# (?P<key>[a-z][a-z0-9-]*): +[^\s#]+ *(#.*)?$")


def split_inline_comment(rest):
    """'value  # text' -> ('value', 'text', column of '#' within rest) outside quotes."""
    quote = None
    for i, ch in enumerate(rest):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or rest[i - 1] in " \t"):
            return rest[:i].rstrip(), rest[i + 1:].strip(), i
    return rest.rstrip(), None, None


class Entry:
    def __init__(self, path):
        self.path = path
        self.texts = []  # each a list of comment lines (text after '#', one space removed)
        self.aliases = []  # the Entries documented by this one's text
        self.alias = None  # the Entry written on the line before that documents both

    def add(self, lines):
        """The first occurrence's text documents the key; a later list item's comments
        describe that item's example values (they stay in the EXAMPLE section)."""
        lines = list(lines)
        while lines and not lines[-1].strip():
            lines.pop()
        if lines and not self.texts and not self.alias:
            self.texts.append(lines)


class Doc:
    def __init__(self):
        self.description = []
        self.sections = []  # (name, intro lines, [Entry])
        self.entries = {}
        self.example = ""

    def entry(self, section, path):
        if path not in self.entries:
            self.entries[path] = Entry(path)
            section[2].append(self.entries[path])
        return self.entries[path]


def uncomment(text):
    return text[1:] if text.startswith(" ") else text


def parse(src):
    doc = Doc()
    doc.example = src
    lines = src.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        doc.description.append(uncomment(lines[i][1:]))
        i += 1
    lists = set()  # paths whose values are block lists ("zones", "zones[].update-policy")
    section = None
    stack = []  # (indentation of the key, its path), outermost first
    pending = []  # comment lines waiting for the next key
    inline_col = None  # column of the last key's trailing '#', for lines aligned under it
    last = None  # the Entry inline_col belongs to
    prev = None  # (indentation, Entry) of the key on the line before, if it had text
    item = False  # a "- # text" line opened a list item: the next key is its first

    def child(parent, key, dash):
        if dash:
            lists.add(parent)
        return parent + ("[]." if parent in lists else ".") + key

    for line in lines[i:]:
        if not line.strip():
            pending, inline_col, prev = [], None, None
            continue
        m = COMMENT_RE.match(line)
        if m:
            ind = len(m.group("ind"))
            if inline_col is not None and ind == inline_col:
                last.texts[-1].append(m.group("text").strip())
                continue
            inline_col, prev = None, None
            ck = COMMENTED_KEY_RE.match(line[ind:])
            while ck and len(stack) > 1 and stack[-1][0] > ind:
                stack.pop()
            if ck and len(stack) > 1 and stack[-1][0] == ind:
                parent = stack[-2][1]
                doc.entry(section, child(parent, ck.group("key"), False)).add(pending)
                pending = []
                continue
            pending.append(uncomment(m.group("text")))
            continue
        inline_col = None
        dm = DASH_COMMENT_RE.match(line)
        if dm:  # "- # text": a list item opens; its first key takes the text
            pending = [uncomment(dm.group("text"))]
            item = True
            continue
        km = KEY_RE.match(line)
        if not km:  # a value's continuation (a wrapped flow list): nothing to document
            pending, prev = [], None
            continue
        dash = km.group("dash") or item
        item = False
        ind = len(km.group("ind")) + (len(km.group("dash") or ""))
        key = km.group("key")
        if ind == 0:
            section = (key, pending, [])
            doc.sections.append(section)
            stack = [(0, key)]
            pending = []
            continue
        while len(stack) > 1 and stack[-1][0] >= ind:
            stack.pop()
        path = child(stack[-1][1], key, dash)
        stack.append((ind, path))
        e = doc.entry(section, path)
        rest = km.group("rest") or ""
        value, inline, col = split_inline_comment(rest)
        text = list(pending)
        if inline:
            text.append(inline)
        if not text and prev and prev[0] == ind and not dash and not e.texts:
            # "ttl-min: 10" / "ttl-max: 300" under one comment: documented together
            e.alias = prev[1]
            prev[1].aliases.append(e)
        e.add(text)
        prev = (ind, e) if text else None
        if inline:
            inline_col = len(line) - len(rest) + col
            last = e
        pending = []
    return doc


def roff_escape(s):
    s = s.replace("\\", "\\e").replace("-", "\\-")
    s = "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in s)
    if s.startswith(".") or s.startswith("'"):
        s = "\\&" + s
    return s


def text_to_roff(lines):
    """Comment lines to roff: prose is filled; lines indented by two or more spaces (a list
    or a table in the comment) are kept as written in a no-fill block."""
    out = []
    literal = False
    for l in lines:
        indented = l.startswith("  ")
        if indented and not literal:
            out.append(".nf")
            literal = True
        elif not indented and literal:
            out.append(".fi")
            literal = False
        if not l.strip():
            out.append(".sp" if not literal else "")
            continue
        out.append(roff_escape(l.strip() if not literal else l))
    if literal:
        out.append(".fi")
    return out


def render(doc, version):
    o = []
    o.append('.TH STEERDNS.YAML 5 "" "steerdns %s" "File Formats"' % version)
    o.append(".\\\" Generated by contrib/man/yaml2man.py from contrib/examples/steerdns.yaml:")
    o.append(".\\\" edit the example's comments, not this file.")
    o.append(".SH NAME")
    o.append("steerdns.yaml \\- configuration file of the steerdns authoritative DNS server")
    o.append(".SH SYNOPSIS")
    o.append(".B steerdns \\-c")
    o.append(".I FILE")
    o.append(".SH DESCRIPTION")
    o.append("The configuration is one YAML file with the sections described below, each "
             "optional except as noted.")
    o.append("Every key is listed with its meaning, range and default; the text is taken "
             "from the comments of the example configuration, shown whole at the end "
             "(EXAMPLE).")
    o.append(".PP")
    o += text_to_roff([l for l in doc.description])
    for name, intro, entries in doc.sections:
        o.append(".SH %s" % roff_escape(name.upper()))
        if intro:
            o += text_to_roff(intro)
        if entries:
            o.append(".PP")
            o.append("Keys:")
        for e in entries:
            if e.alias:
                continue
            o.append(".TP")
            o.append(".B %s" % roff_escape(e.path))
            for a in e.aliases:
                o.append(".TQ")
                o.append(".B %s" % roff_escape(a.path))
            for n, t in enumerate(e.texts):
                o += text_to_roff(t)
            if not e.texts:
                parent = e.path.rsplit(".", 1)[0].removesuffix("[]")
                o.append("Described under")
                o.append(".BR %s ." % roff_escape(parent))
    o.append(".SH EXAMPLE")
    o.append("The example configuration (contrib/examples/steerdns.yaml in the source):")
    o.append(".PP")
    o.append(".RS 2")
    o.append(".nf")
    for l in doc.example.rstrip("\n").split("\n"):
        o.append(roff_escape(l) if l else "")
    o.append(".fi")
    o.append(".RE")
    o.append(".SH FILES")
    o.append("The state directory (server.state\\-dir) is described in")
    o.append(".BR steerdns (8).")
    o.append(".SH SEE ALSO")
    o.append(".BR steerdns (8),")
    o.append(".BR steerctl (8)")
    return "\n".join(o) + "\n"


def main(argv):
    keys = False
    if argv and argv[0] == "--keys":
        keys, argv = True, argv[1:]
    version = "0"
    if argv and argv[0].startswith("--version="):
        version, argv = argv[0].split("=", 1)[1], argv[1:]
    if len(argv) not in (1, 2):
        sys.stderr.write("usage: yaml2man.py [--keys] [--version=V] EXAMPLE.yaml [OUT.5]\n")
        return 2
    with open(argv[0], encoding="utf-8") as f:
        src = f.read()
    doc = parse(src)
    text = "".join(p + "\n" for p in doc.entries) if keys else render(doc, version)
    if len(argv) == 2:
        with open(argv[1], "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
