"""`steerctl zone diff ZONE [FILE]` (issue 12, drift): the zone file against the served zone.

One steerdns serving example.com (tests/system/data/basic.zone) with an update-policy that lets
UPDATE_KEY change anything under the apex. The answer lists "+ RR" (served, not in the file)
and "- RR" (in the file, not served), one record a line in canonical order, ";" comments;
exit 0 equal, 1 differ (stdout) or an error (stderr), 2 no connection.
"""

import os
import shutil

import dns.rcode
import pytest

import sdlib

ZONE = os.path.join(sdlib.DATA, "basic.zone")


@pytest.fixture
def srv(tmp_path):
    workdir = str(tmp_path)
    port = sdlib.free_port()
    zone = os.path.join(workdir, "example.com.zone")
    shutil.copyfile(ZONE, zone)
    policy = [{"key": sdlib.UPDATE_KEY_NAME, "name": "example.com"}]
    conf = sdlib.steerdns_update_config(workdir, port, "example.com", zone, policy)
    s = sdlib.Steerdns(workdir, conf, {"example.com": zone}, port)
    s.zone_path = zone
    s.wait_ready("example.com")
    yield s
    rc = s.stop()
    log = s.log()
    assert sdlib.SANITIZER_RE.search(log) is None, log[-6000:]
    assert rc == 0, log[-4000:]


def update(s, adds=(), deletes=()):
    msg = sdlib.update_msg("example.com")
    for name, ttl, rtype, rdata in adds:
        msg.add(name, ttl, rtype, rdata)
    for name, rtype, rdata in deletes:
        msg.delete(name, rtype, rdata)
    r = sdlib.send_update(msg, s.port)
    assert r.rcode() == dns.rcode.NOERROR


def records(out):
    """The "+"/"-" lines of a diff, with their blanks normalized."""
    return [" ".join(line.split()) for line in out.splitlines() if line[:2] in ("+ ", "- ")]


def test_equal_after_start(srv):
    p = srv.steerctl("zone", "diff", "example.com")
    assert p.returncode == 0, p.stdout + p.stderr
    assert records(p.stdout) == []
    assert "; no difference" in p.stdout
    assert "SOA serials are not compared" in p.stdout


def test_update_differs_then_export_folds_it_back(srv):
    update(srv, adds=[("web1.example.com.", 300, "A", "192.0.2.10"),
                      ("web1.example.com.", 300, "A", "192.0.2.11")],
           deletes=[("www.example.com.", "AAAA", "2001:db8::80")])
    p = srv.steerctl("zone", "diff", "example.com")
    assert p.returncode == 1, p.stdout + p.stderr
    assert p.stderr == ""
    # canonical order: web1 < www; the served serial moved, and that alone is no difference
    assert records(p.stdout) == [
        "+ web1.example.com. 300 IN A 192.0.2.10",
        "+ web1.example.com. 300 IN A 192.0.2.11",
        "- www.example.com. 300 IN AAAA 2001:db8::80",
    ], p.stdout
    assert "; 2 served only (+), 1 in the file only (-)" in p.stdout
    # the operator folds the live zone back into the file (as into git): equal again
    e = srv.steerctl("zone", "export", "example.com", srv.zone_path)
    assert e.returncode == 0, e.stderr
    p = srv.steerctl("zone", "diff", "example.com")
    assert p.returncode == 0, p.stdout + p.stderr
    assert records(p.stdout) == []


def test_file_argument_and_ttl_and_soa(srv, tmp_path):
    other = str(tmp_path / "edited.zone")
    with open(srv.zone_path) as f:
        text = f.read()
    # a new record, a removed one, a TTL change, a new SOA serial and a changed SOA timer
    text = text.replace("www\tA\t192.0.2.80", "www\t600\tA\t192.0.2.80")
    text = text.replace("mail\tA\t192.0.2.25\n", "")
    text = text.replace("@\tSOA\tns1 hostmaster 1 3600 600 86400 60",
                        "@\tSOA\tns1 hostmaster 99 3600 600 86400 60")
    text += "added\tTXT\t\"only in the file\"\n"
    with open(other, "w") as f:
        f.write(text)
    # relative FILE: steerctl makes it absolute (the daemon's working directory differs)
    p = sdlib.subprocess.run([sdlib.binary("steerctl"), "-s", srv.control, "zone", "diff",
                              "example.com", "edited.zone"], capture_output=True, text=True,
                             timeout=10, cwd=str(tmp_path))
    assert p.returncode == 1, p.stdout + p.stderr
    assert records(p.stdout) == [
        '- added.example.com. 300 IN TXT "only in the file"',
        "+ mail.example.com. 300 IN A 192.0.2.25",
        "- www.example.com. 600 IN A 192.0.2.80",
        "+ www.example.com. 300 IN A 192.0.2.80",
    ], p.stdout
    assert "file %s serial 99" % other in p.stdout
    # only the serial differs: equal
    with open(other, "w") as f:
        f.write(open(srv.zone_path).read().replace("hostmaster 1 ", "hostmaster 77 "))
    assert srv.steerctl("zone", "diff", "example.com", other).returncode == 0
    # any other SOA field is a difference
    with open(other, "w") as f:
        f.write(open(srv.zone_path).read().replace("86400 60", "86400 61"))
    p = srv.steerctl("zone", "diff", "example.com", other)
    assert p.returncode == 1
    soa = [r for r in records(p.stdout) if " SOA " in r]
    assert len(soa) == 2 and soa[0].startswith("- ") and soa[0].endswith(" 61"), p.stdout
    assert soa[1].startswith("+ ") and soa[1].endswith(" 60"), p.stdout


def test_broken_file_and_errors(srv, tmp_path):
    bad = str(tmp_path / "bad.zone")
    with open(srv.zone_path) as f:
        lines = f.read().splitlines()
    lines.insert(6, "broken\tA\t192.0.2.300")  # line 7
    with open(bad, "w") as f:
        f.write("\n".join(lines) + "\n")
    p = srv.steerctl("zone", "diff", "example.com", bad)
    assert p.returncode == 1
    assert p.stdout == ""
    assert "%s:7:" % bad in p.stderr, p.stderr
    assert "not compared" in p.stderr
    p = srv.steerctl("zone", "diff", "example.com", str(tmp_path / "missing.zone"))
    assert p.returncode == 1 and "missing.zone" in p.stderr, p.stderr
    p = srv.steerctl("zone", "diff", "example.org")
    assert p.returncode == 1 and "not served" in p.stderr
    p = sdlib.subprocess.run([sdlib.binary("steerctl"), "-s", str(tmp_path / "none.sock"),
                              "zone", "diff", "example.com"], capture_output=True, text=True,
                             timeout=10)
    assert p.returncode == 2
    # the daemon still serves and still answers diffs
    assert srv.steerctl("zone", "diff", "example.com").returncode == 0


def test_help_lists_diff(srv):
    h = srv.steerctl("help")
    assert "zone diff ZONE [FILE]" in h.stdout
    p = sdlib.subprocess.run([sdlib.binary("steerctl"), "--help"], capture_output=True,
                             text=True, timeout=10)
    assert "zone diff ZONE [FILE]" in p.stdout
