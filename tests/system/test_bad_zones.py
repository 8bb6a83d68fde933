"""Broken zone files (tests/unit/zone/data/bad/, each opening with `; expect: FILE:LINE:`):
`steerdns --check` exits 1 naming the place, and a running daemon whose zone file is replaced
by the broken one keeps answering its previous data after SIGHUP."""

import glob
import os
import re
import shutil
import signal
import subprocess

import dns.rcode
import dns.rdatatype
import pytest

import sdlib

BAD_DIR = os.path.join(sdlib.ROOT, "tests", "unit", "zone", "data", "bad")
BAD = sorted(p for p in glob.glob(os.path.join(BAD_DIR, "*")) if os.path.isfile(p) and
             open(p, errors="replace").readline().startswith("; expect:"))


def expectation(path):
    """The text after '; expect:' on the first line (FILE:LINE: and usually the message)."""
    m = re.match(r";\s*expect:\s*(.+?)\s*$", open(path, errors="replace").readline())
    assert m, "%s: first line must be '; expect: FILE:LINE: ...'" % path
    return m.group(1)


def origin_of(path):
    """The zone's apex: $ORIGIN if the file sets one, else "example" (what the zone unit tests
    load the bad files as)."""
    for line in open(path, errors="replace"):
        m = re.match(r"\$ORIGIN\s+(\S+)", line)
        if m:
            return m.group(1).rstrip(".")
    return "example"


def copy_support(dst):
    """Copy what the bad files $INCLUDE (sub-folders of BAD_DIR) into dst."""
    for f in os.listdir(BAD_DIR):
        src = os.path.join(BAD_DIR, f)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dst, f), dirs_exist_ok=True)


def bad_params(only_origin=None):
    """One parameter per broken file (those whose origin is only_origin, when given). A missing
    or empty corpus is one parameter that fails (never a skip: that would turn green)."""
    files = [p for p in BAD if only_origin is None or origin_of(p) == only_origin]
    if not files:
        return [pytest.param(None, id="corpus-missing")]
    return [pytest.param(p, id=os.path.basename(p)) for p in files]


def require(path):
    assert path is not None, "no broken zone files in %s (the corpus is missing)" % BAD_DIR


def test_bad_zone_corpus_size():
    assert os.path.isdir(BAD_DIR), "%s is missing" % BAD_DIR
    assert len(BAD) >= 12, "expected at least 12 broken zone files in %s" % BAD_DIR


def write_config(workdir, origin, zone_file):
    cfg = os.path.join(workdir, "check.yaml")
    with open(cfg, "w") as f:
        f.write("server:\n  listen: [ \"127.0.0.1:%d\" ]\n  workers: 1\nzones:\n"
                "  - name: %s\n    file: %s\n" % (sdlib.free_port(), origin, zone_file))
    return cfg


@pytest.mark.parametrize("path", bad_params())
def test_check_names_the_error(path, tmp_path):
    require(path)
    binpath = sdlib.binary("steerdns")
    if not os.access(binpath, os.X_OK):
        pytest.fail("%s not built" % binpath)
    # copy the whole folder so $INCLUDEd files resolve the same way; run --check on the copy
    work = tmp_path / "bad"
    shutil.copytree(BAD_DIR, work)
    zone = os.path.join(str(work), os.path.basename(path))
    # $INCLUDE paths in the bad files are relative: run where the file is
    cfg = write_config(str(tmp_path), origin_of(path), zone)
    r = subprocess.run([binpath, "--check", "-c", cfg], capture_output=True, text=True,
                       timeout=20, cwd=str(work))
    assert r.returncode == 1, "exit %d\n%s" % (r.returncode, r.stderr)
    exp = expectation(path)
    assert exp in r.stderr, "expected %r in:\n%s" % (exp, r.stderr)
    assert not sdlib.SANITIZER_RE.search(r.stderr), r.stderr


# the good zone swapped in below is for example.: the files for other origins are checked by
# test_check_names_the_error only
@pytest.mark.parametrize("path", bad_params(only_origin="example"))
def test_reload_keeps_previous_version(path, steerdns_factory, tmp_path):
    require(path)
    # the good zone goes under the bad file's name, so the expectation applies verbatim
    good = tmp_path / os.path.basename(path)
    shutil.copyfile(os.path.join(sdlib.DATA, "example.zone"), good)
    srv = steerdns_factory({"example": str(good)})
    copy_support(srv.workdir)
    zone = srv.zones["example"]
    before = srv.query_udp("www.example", "A")
    assert before.rcode() == dns.rcode.NOERROR and before.answer
    shutil.copyfile(path, zone + ".tmp")
    os.rename(zone + ".tmp", zone)
    exp = expectation(path)
    srv.signal(signal.SIGHUP)
    assert srv.wait_for(lambda: exp in srv.log(), timeout=5), \
        "expected %r in the log:\n%s" % (exp, srv.log()[-3000:])
    # the previous version keeps serving
    after = srv.query_udp("www.example", "A")
    assert after.rcode() == before.rcode() and after.answer == before.answer
    soa = srv.query_udp("example", "SOA")
    assert [rs.rdtype for rs in soa.answer] == [dns.rdatatype.SOA]
    assert soa.answer[0][0].serial == 1
