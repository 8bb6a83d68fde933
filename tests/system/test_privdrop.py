"""Privilege drop (issue 14): server.user / --user.

Started as root with server.user nobody, steerdns binds its port and opens its state as root's
delegate, then runs as nobody: /proc shows every uid and gid as nobody's, and a reload (a
changed zone file, a configuration with a new zone) still works with those rights. Started as
root without it, it warns once. The tests need root (they run as root in CI) and a `nobody`
user; the working directory is made world-traversable because pytest's tmp_path is not.
Every process started here is stopped by its own PID.
"""

import grp
import os
import pwd
import shutil
import subprocess
import tempfile

import pytest

import sdlib

ZONE = """$ORIGIN {origin}
$TTL 300
@     IN SOA ns1 hostmaster {serial} 3600 600 1209600 300
@     IN NS  ns1
ns1   IN A   127.0.0.1
www   IN A   {www}
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop privileges")


def nobody():
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    return pw


@pytest.fixture
def workdir():
    """A directory nobody may enter (the state directory is handed to nobody by the test)."""
    d = tempfile.mkdtemp(prefix="steerdns-privdrop-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def write_zone(path, origin, serial, www):
    with open(path, "w") as f:
        f.write(ZONE.format(origin=origin, serial=serial, www=www))
    os.chmod(path, 0o644)


def ids(pid):
    """(uids, gids, groups) of a process from /proc/PID/status."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                out[key] = [int(x) for x in val.split()]
    return out["Uid"], out["Gid"], out["Groups"]


def start(workdir, zones, **server):
    port = sdlib.free_port()
    conf = sdlib.steerdns_config(workdir, port, zones, **server)
    srv = sdlib.Steerdns(workdir, conf, zones, port)
    srv.wait_ready(next(iter(zones)))
    return srv


def stop(srv):
    rc = srv.stop()
    log = srv.log()
    assert sdlib.SANITIZER_RE.search(log) is None, log[-4000:]
    assert rc == 0, log[-4000:]


def a_record(srv, name):
    r = srv.query(name, "A")
    if r is None or not r.answer:
        return None
    return r.answer[0][0].address


def test_runs_as_user_and_reloads(workdir):
    pw = nobody()
    state = os.path.join(workdir, "state")  # made by steerdns as root, handed to nobody
    zone = os.path.join(workdir, "example.com.zone")
    write_zone(zone, "example.com.", 1, "192.0.2.80")
    srv = start(workdir, {"example.com": zone}, user="nobody", **{"state-dir": state})
    try:
        uids, gids, groups = ids(srv.pid)
        assert uids == [pw.pw_uid] * 4, uids  # real, effective, saved, filesystem
        assert gids == [pw.pw_gid] * 4, gids
        assert groups == [pw.pw_gid], groups
        st = os.stat(state)
        assert (st.st_uid, st.st_gid) == (pw.pw_uid, pw.pw_gid)
        # the journal and snapshot were written with the user's rights
        owned = [os.stat(os.path.join(state, f)).st_uid for f in os.listdir(state)]
        assert owned and set(owned) == {pw.pw_uid}, owned
        assert sdlib.log_events(srv.log(), "privileges-dropped", user="nobody"), srv.log()
        assert a_record(srv, "www.example.com") == "192.0.2.80"

        # a changed zone file, reloaded after the drop
        write_zone(zone, "example.com.", 2, "192.0.2.81")
        out = srv.steerctl("reload", "example.com")
        assert out.returncode == 0, out.stdout + out.stderr
        assert srv.wait_for(lambda: a_record(srv, "www.example.com") == "192.0.2.81", 10)

        # a configuration with one more zone, reloaded after the drop
        zone2 = os.path.join(workdir, "example.net.zone")
        write_zone(zone2, "example.net.", 1, "198.51.100.1")
        srv.config["zones"].append({"name": "example.net", "file": zone2})
        with open(srv.config_path, "w") as f:
            f.write(sdlib.to_yaml(srv.config) + "\n")
        out = srv.steerctl("reload")
        assert out.returncode == 0, out.stdout + out.stderr
        assert srv.wait_for(lambda: a_record(srv, "www.example.net") == "198.51.100.1", 10)
        assert ids(srv.pid)[0] == [pw.pw_uid] * 4
        assert not sdlib.log_events(srv.log(), "running-as-root"), srv.log()
    finally:
        stop(srv)


def test_group_option(workdir):
    pw = nobody()
    try:
        gid = grp.getgrnam("nogroup").gr_gid
        group = "nogroup"
    except KeyError:
        gid, group = pw.pw_gid, grp.getgrgid(pw.pw_gid).gr_name
    os.chown(workdir, pw.pw_uid, gid)  # an existing state directory: the user's already
    zone = os.path.join(workdir, "example.com.zone")
    write_zone(zone, "example.com.", 1, "192.0.2.80")
    srv = start(workdir, {"example.com": zone}, user="nobody", group=group)
    try:
        uids, gids, _ = ids(srv.pid)
        assert uids == [pw.pw_uid] * 4 and gids == [gid] * 4, (uids, gids)
    finally:
        stop(srv)


def test_state_dir_of_another_user_refused(workdir):
    nobody()
    zone = os.path.join(workdir, "example.com.zone")
    write_zone(zone, "example.com.", 1, "192.0.2.80")
    port = sdlib.free_port()
    conf = sdlib.steerdns_config(workdir, port, {"example.com": zone}, user="nobody")
    srv = sdlib.Steerdns(workdir, conf, {"example.com": zone}, port)  # workdir: root's
    rc = srv.proc.wait(timeout=10)
    srv.stop()
    assert rc != 0
    assert sdlib.log_events(srv.log(), "state-dir-failed", user="nobody"), srv.log()
    assert "not to server.user nobody" in srv.log()


def test_unknown_user_is_a_config_error(workdir):
    zone = os.path.join(workdir, "example.com.zone")
    write_zone(zone, "example.com.", 1, "192.0.2.80")
    conf = sdlib.steerdns_config(workdir, 53, {"example.com": zone},
                                 user="no-such-user-steerdns")
    path = os.path.join(workdir, "steerdns.yaml")
    with open(path, "w") as f:
        f.write(sdlib.to_yaml(conf) + "\n")
    r = subprocess.run([sdlib.binary("steerdns"), "--check", "-c", path],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "no user named 'no-such-user-steerdns'" in r.stderr + r.stdout


def test_root_without_user_warns_once(steerdns):
    log = steerdns.log()
    assert len(sdlib.log_events(log, "running-as-root")) == 1, log
