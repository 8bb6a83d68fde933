"""steerdns as a zone primary for real secondaries (issue 3).

knotd, nsd and named from Debian, each on its own loopback port and in its own tmp dir, pull
example.com from steerdns with TSIG hmac-sha256 and are NOTIFYed by it. The tests check the
initial AXFR, that an edit of the zone file without a serial change becomes a new serial that
each secondary fetches by IXFR and converges on (full AXFR of each compared with steerdns's),
IXFR from the old serial after a restart, REFUSED for a transfer without the key or from a
denied address, and that a torn journal tail is truncated at start. Every process started
here is stopped by its own PID.
"""

import os
import re
import shutil
import subprocess
import time

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.zone
import pytest

import sdlib

KEY_NAME = "xfr-key."
SECRET = "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ=="
KEY = dns.tsig.Key(KEY_NAME, SECRET, "hmac-sha256")

ZONE = """$ORIGIN example.com.
$TTL 300
@     IN SOA ns1 hostmaster 2024010101 3600 600 1209600 300
@     IN NS  ns1
ns1   IN A   127.0.0.1
www   IN A   192.0.2.80
mail  IN MX  10 mx.example.net.
txt   IN TXT "v=1"
"""


def records(port, keyed=True, source=None):
    """Every RR of a full AXFR as a sorted list of text lines (SOA once)."""
    kw = {"keyring": KEY} if keyed else {}
    out = set()
    for msg in dns.query.xfr("127.0.0.1", "example.com.", port=port, lifetime=10,
                             source=source, **kw):
        for rrset in msg.answer:
            for rd in rrset:
                out.add("%s %d %s %s" % (rrset.name, rrset.ttl,
                                         dns.rdatatype.to_text(rrset.rdtype), rd.to_text()))
    return sorted(out)


def serial(port):
    q = dns.message.make_query("example.com.", "SOA")
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1)
    return r.answer[0][0].serial if r.answer else None


def safe_serial(port):
    try:
        return serial(port)
    except Exception:  # not up yet, or refusing while loading
        return None


def wait(pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


# --------------------------------------------------------------------------- secondaries

class Secondary(sdlib.ServerProcess):
    kind = "?"


def knot_secondary(workdir, port, primary):
    conf = os.path.join(workdir, "knot.conf")
    with open(conf, "w") as f:
        f.write("""server:
    listen: 127.0.0.1@%(port)d
    rundir: %(w)s
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: %(w)s
log:
  - target: stderr
    any: info
key:
  - id: %(key)s
    algorithm: hmac-sha256
    secret: %(secret)s
remote:
  - id: primary
    address: 127.0.0.1@%(primary)d
    key: %(key)s
acl:
  - id: from_primary
    address: 127.0.0.1
    key: %(key)s
    action: notify
  - id: transfer_out
    address: 127.0.0.1
    action: transfer
template:
  - id: default
    storage: %(w)s
    zonefile-sync: -1
    dnssec-signing: off
zone:
  - domain: example.com
    master: primary
    acl: [from_primary, transfer_out]
""" % {"port": port, "w": workdir, "key": KEY_NAME, "secret": SECRET, "primary": primary})
    s = Secondary(["knotd", "-c", conf], os.path.join(workdir, "knotd.log"), port, cwd=workdir)
    s.kind = "knotd"
    return s


def nsd_secondary(workdir, port, primary):
    conf = os.path.join(workdir, "nsd.conf")
    with open(conf, "w") as f:
        f.write("""server:
    ip-address: 127.0.0.1@%(port)d
    port: %(port)d
    zonesdir: "%(w)s"
    pidfile: "%(w)s/nsd.pid"
    xfrdfile: "%(w)s/xfrd.state"
    xfrdir: "%(w)s"
    zonelistfile: "%(w)s/zone.list"
    database: ""
    username: ""
    chroot: ""
    verbosity: 2
    rrl-ratelimit: 0
    server-count: 1
remote-control:
    control-enable: no
key:
    name: "%(key)s"
    algorithm: hmac-sha256
    secret: "%(secret)s"
zone:
    name: "example.com"
    zonefile: "example.com.zone"
    allow-notify: 127.0.0.1 %(key)s
    request-xfr: 127.0.0.1@%(primary)d %(key)s
    provide-xfr: 127.0.0.1 NOKEY
""" % {"port": port, "w": workdir, "key": KEY_NAME, "secret": SECRET, "primary": primary})
    s = Secondary(["nsd", "-d", "-c", conf], os.path.join(workdir, "nsd.log"), port,
                  cwd=workdir)
    s.kind = "nsd"
    return s


def named_secondary(workdir, port, primary):
    conf = os.path.join(workdir, "named.conf")
    with open(conf, "w") as f:
        f.write("""options {
    directory "%(w)s";
    listen-on port %(port)d { 127.0.0.1; };
    listen-on-v6 { none; };
    pid-file "%(w)s/named.pid";
    session-keyfile "%(w)s/session.key";
    recursion no;
    dnssec-validation no;
    notify no;
    allow-transfer { 127.0.0.1; };
};
controls { };
key "%(key)s" { algorithm hmac-sha256; secret "%(secret)s"; };
zone "example.com" {
    type secondary;
    primaries port %(primary)d { 127.0.0.1 key "%(key)s"; };
    file "%(w)s/example.com.bk";
    allow-notify { key "%(key)s"; };
};
""" % {"port": port, "w": workdir, "key": KEY_NAME, "secret": SECRET, "primary": primary})
    s = Secondary(["named", "-g", "-u", "root", "-c", conf],
                  os.path.join(workdir, "named.log"), port, cwd=workdir)
    s.kind = "named"
    return s


# --------------------------------------------------------------------------- fixtures

def start_steerdns(workdir, port, sec_ports, acl=None):
    zone_path = os.path.join(workdir, "example.com.zone")
    if not os.path.exists(zone_path):
        with open(zone_path, "w") as f:
            f.write(ZONE)
    config = {
        "server": {"listen": ["127.0.0.1:%d" % port], "workers": 1,
                   "control-socket": os.path.join(workdir, "ctl.sock"),
                   "state-dir": workdir},
        "keys": [{"name": KEY_NAME, "algorithm": "hmac-sha256", "secret": SECRET}],
        "zones": [{
            "name": "example.com", "file": zone_path,
            "notify": [{"address": "127.0.0.1:%d" % p, "key": KEY_NAME} for p in sec_ports],
            "transfer-acl": acl or [{"address": "127.0.0.1/32", "key": KEY_NAME}],
        }],
    }
    srv = sdlib.Steerdns(workdir, config, {"example.com": zone_path}, port)
    srv.wait_ready("example.com")
    return srv


@pytest.fixture
def lab(tmp_path):
    """steerdns plus the three secondaries, stopped by PID at the end."""
    for b in ("knotd", "nsd", "named"):
        if shutil.which(b) is None:
            pytest.fail("%s is not installed" % b)
    procs = {}
    sd_dir = str(tmp_path / "steerdns")
    os.makedirs(sd_dir)
    sd_port = sdlib.free_port()
    ports = {k: sdlib.free_port() for k in ("knotd", "nsd", "named")}
    procs["steerdns"] = start_steerdns(sd_dir, sd_port, list(ports.values()))
    makers = {"knotd": knot_secondary, "nsd": nsd_secondary, "named": named_secondary}
    for kind, maker in makers.items():
        d = str(tmp_path / kind)
        os.makedirs(d)
        procs[kind] = maker(d, ports[kind], sd_port)
    lab = {"dir": sd_dir, "port": sd_port, "ports": ports, "procs": procs}
    yield lab
    failures = []
    for name, p in lab["procs"].items():
        rc = p.stop()
        if name == "steerdns":
            bad = sdlib.SANITIZER_RE.search(p.log())
            if bad or rc != 0:
                failures.append("steerdns exit %r\n%s" % (rc, p.log()[-3000:]))
    assert not failures, "\n".join(failures)


def converge(lab, want, timeout=15.0, t0=None):
    """Seconds from t0 (default now) until each secondary serves serial `want` (None when it
    never does)."""
    t0 = time.monotonic() if t0 is None else t0
    out = {}
    pending = set(lab["ports"])
    while pending and time.monotonic() - t0 < timeout:
        for kind in list(pending):
            if safe_serial(lab["ports"][kind]) == want:
                out[kind] = time.monotonic() - t0
                pending.discard(kind)
        time.sleep(0.02)
    for kind in pending:
        out[kind] = None
    return out


def edit_zone(lab, text):
    path = os.path.join(lab["dir"], "example.com.zone")
    with open(path, "a") as f:
        f.write(text)


# --------------------------------------------------------------------------- tests

def test_secondaries_axfr_then_ixfr_after_edit_and_restart(lab):
    sd = lab["procs"]["steerdns"]
    first = serial(lab["port"])
    assert first == 2024010101
    initial = converge(lab, first, timeout=20)
    for kind, t in initial.items():
        assert t is not None, "%s never loaded the zone:\n%s" % (
            kind, lab["procs"][kind].log()[-3000:])
    expect = records(lab["port"])
    for kind, port in lab["ports"].items():
        assert records(port, keyed=False) == expect, kind

    # an edit that forgets the serial: steerdns picks serial + 1, journals, NOTIFYs
    edit_zone(lab, "added IN A 192.0.2.7\n")
    t0 = time.monotonic()
    r = sd.steerctl("reload")
    assert r.returncode == 0, r.stdout + r.stderr
    assert serial(lab["port"]) == first + 1
    took = converge(lab, first + 1, t0=t0)  # timed from just before `steerctl reload`
    print("\nreload -> converged (seconds): " +
          ", ".join("%s %.3f" % (k, v if v is not None else -1) for k, v in took.items()))
    for kind, t in took.items():
        assert t is not None, "%s did not converge:\n%s" % (
            kind, lab["procs"][kind].log()[-3000:])
    expect = records(lab["port"])
    assert any(" A 192.0.2.7" in line for line in expect)
    for kind, port in lab["ports"].items():
        assert records(port, keyed=False) == expect, kind
    # every secondary came by IXFR: steerdns logs one incremental transfer per peer
    log = sd.log()
    ixfr = re.findall(r"event=xfr-out zone=example\.com kind=IXFR serial=%d peer="
                      % (first + 1), log)
    print("notify and transfer log lines for the new serial:\n" +
          "\n".join(l for l in log.splitlines()
                    if "serial %d" % (first + 1) in l and ("xfr:" in l or "notify:" in l)))
    assert len(ixfr) >= 3, log[-4000:]
    print("total from reload: %.3f s" % (time.monotonic() - t0))

    # restart: the history comes back from the journal, IXFR from the old serial works
    assert sd.stop() == 0
    lab["procs"]["steerdns"] = sd = start_steerdns(lab["dir"], lab["port"],
                                                  list(lab["ports"].values()))
    assert serial(lab["port"]) == first + 1
    msgs = list(dns.query.xfr("127.0.0.1", "example.com.", port=lab["port"], keyring=KEY,
                              rdtype=dns.rdatatype.IXFR, serial=first, lifetime=10))
    ans = [rrset for m in msgs for rrset in m.answer]
    soas = [rs[0].serial for rs in ans if rs.rdtype == dns.rdatatype.SOA]
    assert soas == [first + 1, first, first + 1, first + 1], soas  # incremental, not AXFR
    assert any(rs.rdtype == dns.rdatatype.A and rs.name.to_text().startswith("added")
               for rs in ans)


def test_transfer_refused_without_key_or_from_denied_address(tmp_path):
    d = str(tmp_path / "sd")
    os.makedirs(d)
    port = sdlib.free_port()
    sd = start_steerdns(d, port, [], acl=[{"address": "127.0.0.1/32", "key": KEY_NAME}])
    try:
        assert len(records(port)) == 6  # allowed: from 127.0.0.1 with the key
        for kw in ({"keyring": None}, {"keyring": KEY, "source": "127.0.0.2"}):
            q = dns.message.make_query("example.com.", "AXFR")
            if kw["keyring"] is not None:
                q.use_tsig(KEY)
            r = dns.query.tcp(q, "127.0.0.1", port=port, timeout=3, source=kw.get("source"))
            assert r.rcode() == dns.rcode.REFUSED, kw
        # a key steerdns does not know: NOTAUTH with TSIG error BADKEY (RFC 8945 5.2)
        q = dns.message.make_query("example.com.", "AXFR")
        q.use_tsig(dns.tsig.Key("other.", SECRET, "hmac-sha256"))
        with pytest.raises(dns.tsig.PeerBadKey):
            dns.query.tcp(q, "127.0.0.1", port=port, timeout=3)
        # AXFR over UDP is refused as Knot does: NOTIMP (RFC 5936 4.2)
        q = dns.message.make_query("example.com.", "AXFR")
        q.use_tsig(KEY)
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=3)
        assert r.rcode() == dns.rcode.NOTIMP
    finally:
        assert sd.stop() == 0


def test_torn_journal_tail_truncated_at_start(tmp_path):
    d = str(tmp_path / "sd")
    os.makedirs(d)
    port = sdlib.free_port()
    sd = start_steerdns(d, port, [])
    try:
        for i in range(2):
            with open(os.path.join(d, "example.com.zone"), "a") as f:
                f.write("n%d IN A 192.0.2.%d\n" % (i, 10 + i))
            assert sd.steerctl("reload").returncode == 0
        assert serial(port) == 2024010103
    finally:
        assert sd.stop() == 0
    journal = os.path.join(d, "example.com.journal")
    size = os.path.getsize(journal)
    with open(journal, "r+b") as f:
        f.truncate(size - 7)  # the last entry loses its tail: a crash mid-append
    sd = start_steerdns(d, port, [])
    try:
        # the file's change lost with the entry comes back, above the 2024010103 served
        # before (recorded in <zone>.serial): a serial is never reused (issue 11, defect 4)
        assert serial(port) == 2024010104
        assert "trunc" in sd.log().lower()
        assert "changes were lost" in sd.log()
        # the chain that survived still serves IXFR
        msgs = list(dns.query.xfr("127.0.0.1", "example.com.", port=port, keyring=KEY,
                                  rdtype=dns.rdatatype.IXFR, serial=2024010101,
                                  lifetime=10))
        assert msgs
    finally:
        assert sd.stop() == 0


# --------------------------------------------------------------------------- follow-ups (h10)

def test_notify_at_start_and_status(tmp_path):
    """An edit made while steerdns was down reaches a secondary with a long refresh (3600 s)
    within seconds of the restart: steerdns NOTIFYs every zone once at start. steerctl
    status shows the zone's transfer counters and the NOTIFY target's state."""
    if shutil.which("knotd") is None:
        pytest.fail("knotd is not installed")
    sd_dir, k_dir = str(tmp_path / "sd"), str(tmp_path / "knotd")
    os.makedirs(sd_dir)
    os.makedirs(k_dir)
    port, kport = sdlib.free_port(), sdlib.free_port()
    sd = start_steerdns(sd_dir, port, [kport])
    knot = knot_secondary(k_dir, kport, port)
    try:
        first = serial(port)
        assert wait(lambda: safe_serial(kport) == first, 20), knot.log()[-3000:]
        assert sd.stop() == 0
        edit_zone({"dir": sd_dir}, "while-down IN A 192.0.2.55\n")
        t0 = time.monotonic()
        sd = start_steerdns(sd_dir, port, [kport])
        assert serial(port) == first + 1  # the edit made while stopped: one new serial
        assert wait(lambda: safe_serial(kport) == first + 1, 5), (
            sd.log()[-3000:] + knot.log()[-3000:])
        print("\nrestart -> knotd at the new serial: %.3f s" % (time.monotonic() - t0))
        # a transfer without the key: refused, and counted
        q = dns.message.make_query("example.com.", "AXFR")
        assert dns.query.tcp(q, "127.0.0.1", port=port, timeout=3).rcode() == dns.rcode.REFUSED
        target = "notify 127.0.0.1:%d: acknowledged serial %d" % (kport, first + 1)

        def status():
            st = sd.steerctl("status")
            assert st.returncode == 0, st.stdout + st.stderr
            return st.stdout

        assert wait(lambda: target in status(), 5), status()
        out = status()
        m = re.search(r"transfers: axfr-out (\d+) ixfr-out (\d+) ixfr-full-zone (\d+) "
                      r"refused (\d+)", out)
        assert m, out
        axfr, ixfr, full, refused = map(int, m.groups())
        assert ixfr >= 1 and refused == 1 and axfr == 0 and full == 0, out
    finally:
        knot.stop()
        assert sd.stop() == 0


def test_notify_status_pending(tmp_path):
    """A target that never answers: pending, with the retries left (1-2-4-8-16 s apart)."""
    d = str(tmp_path / "sd")
    os.makedirs(d)
    port, dead = sdlib.free_port(), sdlib.free_port()  # nothing listens on `dead`
    sd = start_steerdns(d, port, [dead])
    try:
        st = sd.steerctl("status").stdout
        assert re.search(r"notify 127\.0\.0\.1:%d: pending serial 2024010101, [1-4] "
                         r"retr(y|ies) left" % dead, st), st
    finally:
        assert sd.stop() == 0


def test_reload_sees_same_size_same_mtime_edit(tmp_path):
    """An in-place rewrite of the same size with the same mtime (an editor within one
    timestamp tick) is still a change: the reload compares the content, not only stat."""
    d = str(tmp_path / "sd")
    os.makedirs(d)
    port = sdlib.free_port()
    sd = start_steerdns(d, port, [])
    try:
        path = os.path.join(d, "example.com.zone")
        st = os.stat(path)
        text = open(path).read()
        new = text.replace("192.0.2.80", "192.0.2.81")
        assert len(new) == len(text) and new != text
        with open(path, "r+") as f:  # same inode, same size
            f.write(new)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime
        after = os.stat(path)
        assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
            st.st_ino, st.st_size, st.st_mtime_ns)
        r = sd.steerctl("reload")  # not forced: only files that changed
        assert r.returncode == 0, r.stdout + r.stderr
        assert serial(port) == 2024010102, sd.log()[-2000:]
        q = dns.message.make_query("www.example.com.", "A")
        ans = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
        assert ans.answer[0][0].address == "192.0.2.81"
    finally:
        assert sd.stop() == 0


def test_signed_udp_answer_near_512_has_tc_not_dropped(tmp_path):
    """A TSIG-signed UDP query whose answer fits 512 bytes unsigned but not with the TSIG
    RR: the answer comes back with TC and a valid TSIG (RFC 8945 5.3), not dropped."""
    d = str(tmp_path / "sd")
    os.makedirs(d)
    with open(os.path.join(d, "example.com.zone"), "w") as f:
        f.write(ZONE + 'big IN TXT "%s" "%s"\n' % ("x" * 219, "x" * 219))
    port = sdlib.free_port()
    sd = start_steerdns(d, port, [])
    try:
        q = dns.message.make_query("big.example.com.", "TXT")  # no EDNS: 512 bytes
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
        assert not (r.flags & dns.flags.TC) and len(r.to_wire()) <= 512
        q = dns.message.make_query("big.example.com.", "TXT")
        q.use_tsig(KEY)
        wire = sdlib.udp_exchange(q.to_wire(), port, timeout=2)
        assert wire is not None, "signed answer dropped:\n" + sd.log()[-2000:]
        assert len(wire) <= 512
        r = dns.message.from_wire(wire, keyring={dns.name.from_text(KEY_NAME): KEY},
                                  request_mac=q.mac)  # raises unless the TSIG verifies
        assert r.flags & dns.flags.TC and not r.answer
    finally:
        assert sd.stop() == 0


def test_example_config_writes_only_its_state_dir(tmp_path):
    """contrib/examples/steerdns.yaml as the README runs it (ports changed): the state
    directory is created (0700) and nothing else is written beside the config."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    conf_dir = tmp_path / "examples"
    os.makedirs(conf_dir)
    port = sdlib.free_port(v6=True)
    text = open(os.path.join(root, "contrib", "examples", "steerdns.yaml")).read()
    (conf_dir / "steerdns.yaml").write_text(text.replace("5353", str(port)))
    shutil.copyfile(os.path.join(root, "contrib", "examples", "example.com.zone"),
                    conf_dir / "example.com.zone")
    shutil.copytree(os.path.join(root, "contrib", "examples", "geo"), conf_dir / "geo")
    before = sorted(os.listdir(conf_dir))
    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path))  # the default control socket
    sd = sdlib.ServerProcess([sdlib.binary("steerdns"), "-c", str(conf_dir / "steerdns.yaml")],
                             str(tmp_path / "steerdns.log"), port, env=env, cwd=str(tmp_path))
    try:
        sd.wait_ready("example.com")
        state = conf_dir / "state"
        assert wait(lambda: (state / "example.com.snapshot").exists(), 5), sd.log()
        assert (os.stat(state).st_mode & 0o777) == 0o700
        assert sorted(os.listdir(conf_dir)) == sorted(before + ["state"])
        st = subprocess.run([sdlib.binary("steerctl"), "status"], env=env,
                            capture_output=True, text=True, timeout=10)
        assert st.returncode == 0 and "example.com" in st.stdout, st.stdout + st.stderr
    finally:
        assert sd.stop() == 0, sd.log()[-3000:]
    assert sorted(os.listdir(conf_dir)) == sorted(before + ["state"])


def test_state_dir_created_or_clear_error(tmp_path):
    """--state-dir makes missing parents; a path that cannot be a directory stops the start
    with a message naming server.state-dir."""
    zone = tmp_path / "example.com.zone"
    zone.write_text(ZONE)
    port = sdlib.free_port()
    deep = tmp_path / "a" / "b" / "state"
    argv = [sdlib.binary("steerdns"), "--listen", "127.0.0.1:%d" % port,
            "--zone", "example.com=%s" % zone, "--control", str(tmp_path / "ctl.sock"),
            "--workers", "1"]
    sd = sdlib.ServerProcess(argv + ["--state-dir", str(deep)], str(tmp_path / "sd.log"), port)
    try:
        sd.wait_ready("example.com")
        assert (deep / "example.com.journal").exists()
    finally:
        assert sd.stop() == 0
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = subprocess.run(argv + ["--state-dir", str(blocker / "state")], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode != 0
    failed = sdlib.log_events(r.stderr, "state-dir-failed", setting="server.state-dir")
    assert failed and failed[0]["reason"].startswith("cannot create: "), r.stderr
