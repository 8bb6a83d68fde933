"""Text and bytes from outside (issue 11, defect 9).

- A raw NUL byte inside a quoted TXT string in a zone file was silently dropped (served as
  "nulhere"): the load is refused with file:line, the running version keeps serving, and the
  escaped form \\000 keeps the octet.
- A second YAML document in the config was ignored, and "\\0" in a YAML string cut a zone name
  short: both are refused with file:line (--check and at start).
- Raw bytes from zone files and control requests reached the log and steerctl replies as-is
  (terminal escape sequences, forged log lines): they arrive escaped ("\\x1b"), and a control
  request with a NUL byte is refused.
"""

import os
import socket
import subprocess

import dns.rcode

import sdlib

ESC = b"\x1b"


def zone_path(srv):
    return srv.zones["example.com"]


def append_zone(path, data):
    """Replace the zone file atomically with its text plus data (bytes); returns the line
    number of data's first line."""
    with open(path, "rb") as f:
        old = f.read()
    if not old.endswith(b"\n"):
        old += b"\n"
    with open(path + ".tmp", "wb") as f:
        f.write(old + data)
    os.rename(path + ".tmp", path)
    return old.count(b"\n") + 1


def raw_log(srv):
    with open(srv.log_path, "rb") as f:
        return f.read()


def txt_strings(srv, name):
    r = srv.query_udp(name, "TXT")
    assert r is not None
    return r, [s for rrset in r.answer for rd in rrset for s in rd.strings]


def test_raw_nul_in_quoted_txt_is_refused_with_line(steerdns):
    path = zone_path(steerdns)
    line = append_zone(path, b'esc\tTXT\t"a\\000b"\nnul\tTXT\t"nul\x00here"\n') + 1
    rl = steerdns.steerctl("reload", "example.com")
    out = rl.stdout + rl.stderr
    assert rl.returncode == 1, out
    assert "%s:%d: a raw NUL byte" % (os.path.basename(path), line) in out, out
    # nothing of the refused file is served: not the NUL record, not its neighbour
    r, _ = txt_strings(steerdns, "nul.example.com")
    assert r.rcode() == dns.rcode.NXDOMAIN
    r, _ = txt_strings(steerdns, "esc.example.com")
    assert r.rcode() == dns.rcode.NXDOMAIN
    # without the raw NUL the escaped octet is kept
    with open(path, "rb") as f:
        text = f.read().replace(b"nul\x00here", b"nul\\000here")
    with open(path + ".tmp", "wb") as f:
        f.write(text)
    os.rename(path + ".tmp", path)
    rl = steerdns.steerctl("reload", "example.com")
    assert rl.returncode == 0, rl.stdout + rl.stderr
    assert txt_strings(steerdns, "nul.example.com")[1] == [b"nul\x00here"]
    assert txt_strings(steerdns, "esc.example.com")[1] == [b"a\x00b"]


def check_config(tmp_path, text):
    path = tmp_path / "steerdns.yaml"
    path.write_text(text)
    (tmp_path / "example.com.zone").write_bytes(open(sdlib.DATA + "/basic.zone", "rb").read())
    return subprocess.run([sdlib.binary("steerdns"), "-c", str(path), "--check"],
                          capture_output=True, text=True, timeout=30, cwd=str(tmp_path))


CONFIG = """\
server:
  listen: [ "127.0.0.1:%d" ]
  state-dir: state
zones:
  - name: %s
    file: example.com.zone
"""


def test_yaml_second_document_refused(tmp_path):
    port = sdlib.free_port()
    ok = check_config(tmp_path, CONFIG % (port, "example.com"))
    assert ok.returncode == 0, ok.stderr
    r = check_config(tmp_path, CONFIG % (port, "example.com") + "---\nzones: []\n")
    assert r.returncode == 1, r.stderr
    assert "steerdns.yaml:7: a second YAML document" in r.stderr, r.stderr


def test_yaml_nul_in_string_refused(tmp_path):
    port = sdlib.free_port()
    for name in ('"example.com\\0evil"', '"example.com\\x00"'):
        r = check_config(tmp_path, CONFIG % (port, name))
        assert r.returncode == 1, r.stderr
        assert "steerdns.yaml:5: zones[0].name: a NUL character" in r.stderr, r.stderr
    # at start as well: the daemon refuses to run, it does not serve "example.com"
    path = tmp_path / "steerdns.yaml"
    run = subprocess.run([sdlib.binary("steerdns"), "-c", str(path)], capture_output=True,
                         text=True, timeout=30, cwd=str(tmp_path))
    assert run.returncode != 0 and "a NUL character" in run.stderr, run.stderr


def test_zone_file_bytes_escaped_in_log_and_reply(steerdns):
    path = zone_path(steerdns)
    evil = b"\x1b[2J\x1b]0:owned\x07"
    # an unknown type and a missing $INCLUDE: both messages quote the bytes
    line = append_zone(path, b"bad\tTXT" + evil + b"\t\"x\"\n$INCLUDE inc" + evil + b"\n")
    rl = subprocess.run([sdlib.binary("steerctl"), "-s", steerdns.control, "reload"],
                        capture_output=True, timeout=10)
    out = rl.stdout + rl.stderr
    assert rl.returncode == 1, out
    assert b"%s:%d" % (os.path.basename(path).encode(), line) in out, out
    assert ESC not in out and b"\x07" not in out, out
    assert b"\\x1b[2J" in out, out
    assert b"%s:%d" % (os.path.basename(path).encode(), line + 1) in out, out
    log = raw_log(steerdns)
    assert b"%s:%d" % (os.path.basename(path).encode(), line) in log
    assert ESC not in log and b"\x07" not in log, log[-2000:]
    assert b"\\x1b]0:owned\\x07" in log, log[-2000:]


def control_request(srv, data):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(srv.control)
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def test_control_request_bytes_escaped(steerdns):
    # the words come back in the reply ("zone ... is not served", "unknown command") and go
    # to the log ("event=control-command command=...")
    for req in (b"reload evil\x1b[31m.example\r\n", b"\x1b[2Jstatus\xc2\x9b\n",
                b"reload fake\nline.example\n"):
        reply = control_request(steerdns, req)
        assert reply.startswith(b"error\n"), reply
        assert ESC not in reply and b"\r" not in reply and b"\xc2\x9b" not in reply, reply
    assert b"\\x1b[31m" in control_request(steerdns, b"reload evil\x1b[31m.example\n")
    reply = control_request(steerdns, b"reload exa\x00mple.com\n")
    assert reply == b"error\nthe request contains a NUL byte\n", reply
    log = raw_log(steerdns)
    assert ESC not in log and b"\xc2\x9b" not in log, log[-2000:]
    assert b'event=control-command command="reload evil\\x1b[31m.example\\x0d"' in log, \
        log[-2000:]
    # the NUL case logs the request escaped before quoting: its backslash is doubled
    assert b'event=control-command command="reload exa\\\\x00mple.com" reason="rejected: ' \
        b'a NUL byte"' in log, log[-2000:]
    # the daemon still answers
    assert steerdns.query_udp("example.com", "SOA").rcode() == dns.rcode.NOERROR


def test_unknown_type_cut_by_comment_is_refused(steerdns):
    # "TXTfoo;..." : the comment swallowed the data and ldns built an empty TYPE0 record,
    # served as something never written; the line is refused with file:line instead
    path = zone_path(steerdns)
    line = append_zone(path, b'odd\tTXTfoo;"y"\n')
    rl = steerdns.steerctl("reload", "example.com")
    out = rl.stdout + rl.stderr
    assert rl.returncode == 1, out
    assert "%s:%d: unknown or reserved RR type 'TXTfoo'" % (os.path.basename(path), line) in out
    assert steerdns.query_udp("odd.example.com", "ANY").rcode() == dns.rcode.NXDOMAIN
