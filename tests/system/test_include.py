"""A reload notices edits to files pulled in with $INCLUDE, not only to the main zone file.

The zone's main file includes sub/hosts.zone, which includes deep.zone (relative to sub/).
Each test edits only an included file and reloads without forcing: the new data must be
served with a new serial. The hardest case is an in-place rewrite of the same size with the
mtime put back (an editor within one timestamp tick): only the content hash tells it apart.
A reload with nothing changed keeps the serial; an included file that disappears is a load
error and the previous version keeps serving. The daemon is started and stopped by the
steerdns_factory fixture (by PID).
"""

import os
import signal

import dns.rcode

MAIN = """$ORIGIN example.com.
$TTL 300
@     SOA ns1 hostmaster 1 3600 600 86400 60
@     NS  ns1
ns1   A   192.0.2.1
$INCLUDE sub/hosts.zone
tail  A   192.0.2.9
"""
HOSTS = """www   A   192.0.2.80
$INCLUDE deep.zone deep
"""
DEEP = """api   A   192.0.2.90
"""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def make_zone(tmp_path):
    zdir = tmp_path / "zones"
    os.makedirs(zdir / "sub")
    write(zdir / "example.com.zone", MAIN)
    write(zdir / "sub" / "hosts.zone", HOSTS)
    write(zdir / "sub" / "deep.zone", DEEP)
    return str(zdir)


def start(steerdns_factory, tmp_path):
    zdir = make_zone(tmp_path)
    srv = steerdns_factory({"example.com": os.path.join(zdir, "example.com.zone")}, copy=False)
    return srv, zdir


def serial(srv):
    r = srv.query_udp("example.com", "SOA")
    assert r is not None and r.answer, srv.log()[-2000:]
    return r.answer[0][0].serial


def address(srv, name):
    r = srv.query_udp(name, "A")
    if r is None or r.rcode() != dns.rcode.NOERROR or not r.answer:
        return None
    return r.answer[0][0].address


def rewrite_same_size_same_mtime(path, old, new):
    """Replace old by new in place (same inode, same size) and put the mtime back."""
    st = os.stat(path)
    text = open(path).read()
    edited = text.replace(old, new)
    assert len(edited) == len(text) and edited != text
    with open(path, "r+") as f:
        f.write(edited)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        st.st_ino, st.st_size, st.st_mtime_ns)


def reload(srv):
    r = srv.steerctl("reload")  # not forced: only zones whose files changed
    assert r.returncode == 0, r.stdout + r.stderr + srv.log()[-2000:]


def test_nested_include_served(steerdns_factory, tmp_path):
    srv, _ = start(steerdns_factory, tmp_path)
    assert address(srv, "www.example.com") == "192.0.2.80"
    assert address(srv, "api.deep.example.com") == "192.0.2.90"
    assert address(srv, "tail.example.com") == "192.0.2.9"
    assert serial(srv) == 1
    reload(srv)  # nothing changed: the serial stays
    assert serial(srv) == 1
    assert "unchanged" not in srv.log()  # not even loaded again


def test_edit_of_included_file_same_size_same_mtime(steerdns_factory, tmp_path):
    srv, zdir = start(steerdns_factory, tmp_path)
    first = serial(srv)
    rewrite_same_size_same_mtime(os.path.join(zdir, "sub", "hosts.zone"),
                                 "192.0.2.80", "192.0.2.81")
    reload(srv)
    assert address(srv, "www.example.com") == "192.0.2.81", srv.log()[-2000:]
    assert serial(srv) == first + 1
    # the next level down, through SIGHUP this time
    rewrite_same_size_same_mtime(os.path.join(zdir, "sub", "deep.zone"),
                                 "192.0.2.90", "192.0.2.91")
    srv.signal(signal.SIGHUP)
    assert srv.wait_for(lambda: address(srv, "api.deep.example.com") == "192.0.2.91"), (
        srv.log()[-2000:])
    assert serial(srv) == first + 2
    # and nothing changed since: a reload keeps the serial
    reload(srv)
    assert serial(srv) == first + 2


def test_include_added_replaced_and_removed(steerdns_factory, tmp_path):
    srv, zdir = start(steerdns_factory, tmp_path)
    first = serial(srv)
    sub = os.path.join(zdir, "sub")
    # a new file included from an included file
    write(os.path.join(sub, "new.zone"), "fresh A 192.0.2.100\n")
    with open(os.path.join(sub, "hosts.zone"), "a") as f:
        f.write("$INCLUDE new.zone\n")
    reload(srv)
    assert address(srv, "fresh.example.com") == "192.0.2.100", srv.log()[-2000:]
    assert serial(srv) == first + 1
    # the included file replaced by a rename (an editor's save), new content
    path = os.path.join(sub, "new.zone")
    write(path + ".tmp", "fresh A 192.0.2.101\n")
    os.rename(path + ".tmp", path)
    reload(srv)
    assert address(srv, "fresh.example.com") == "192.0.2.101", srv.log()[-2000:]
    assert serial(srv) == first + 2
    # the included file removed: a load error naming the $INCLUDE line; the old data stays
    os.unlink(path)
    r = srv.steerctl("reload")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "hosts.zone:3" in r.stdout + r.stderr, r.stdout + r.stderr
    assert address(srv, "fresh.example.com") == "192.0.2.101"
    assert serial(srv) == first + 2
    # put back with other content: served
    write(path, "fresh A 192.0.2.102\n")
    reload(srv)
    assert address(srv, "fresh.example.com") == "192.0.2.102", srv.log()[-2000:]
    assert serial(srv) == first + 3
