"""The daemon from the outside: dig/kdig answers, transports, identity, reloads, steerctl,
--check, TCP behaviour (RFC 7766), IPv6, and a reload under load that loses no query."""

import os
import re
import shutil
import signal
import struct
import subprocess
import threading
import time

import dns.flags
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

import sdlib

WWW_OLD = "192.0.2.80"


def run(argv, timeout=20):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def a_of(resp):
    return sorted(rd.address for rrset in resp.answer if rrset.rdtype == dns.rdatatype.A
                  for rd in rrset)


def edit_zone(path, serial, www):
    """Rewrite the zone with a new serial and www address (keeping the rest)."""
    text = open(path).read()
    text = re.sub(r"(SOA\s+ns1 hostmaster )\d+", r"\g<1>%d" % serial, text)
    text = re.sub(r"(\nwww\s+A\s+)\S+", r"\g<1>%s" % www, text)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)  # atomic: a reload never reads half a file


def www_is(srv, addr):
    r = srv.query_udp("www.example.com", "A")
    return r is not None and a_of(r) == [addr]


# ---------------------------------------------------------------------------------------------
# answers


@pytest.mark.parametrize("tool", ["dig", "kdig"])
@pytest.mark.parametrize("tcp", [False, True])
def test_cli_tools_get_aa_answer(steerdns, tool, tcp):
    argv = [tool, "@127.0.0.1", "-p", str(steerdns.port), "www.example.com", "A", "+norec",
            "+time=2", "+tries=1" if tool == "dig" else "+retry=0"]
    if tcp:
        argv.append("+tcp")
    out = run(argv).stdout
    assert re.search(r"status: NOERROR", out), out
    flags = re.search(r"flags: ([a-z ]+);|Flags: ([a-z ]+);", out)
    assert flags and "aa" in (flags.group(1) or flags.group(2)).split(), out
    assert re.search(r"www\.example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.80", out), out


def test_udp_and_tcp_answers(steerdns):
    for tcp in (False, True):
        r = steerdns.query("www.example.com", "AAAA", tcp=tcp)
        assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
        assert [rd.address for rs in r.answer for rd in rs] == ["2001:db8::80"]
        # NXDOMAIN: SOA in authority, TTL min(SOA TTL, MINIMUM) (RFC 2308 3, 5)
        r = steerdns.query("nope.example.com", "A", tcp=tcp)
        assert r.rcode() == dns.rcode.NXDOMAIN and r.flags & dns.flags.AA
        assert [(rs.rdtype, rs.ttl) for rs in r.authority] == [(dns.rdatatype.SOA, 60)]
        # NODATA
        r = steerdns.query("www.example.com", "MX", tcp=tcp)
        assert r.rcode() == dns.rcode.NOERROR and not r.answer
        assert [rs.rdtype for rs in r.authority] == [dns.rdatatype.SOA]


def test_question_case_echoed(steerdns):
    q = sdlib.make_query("WwW.ExAmPlE.cOm", "A")
    wire = steerdns.raw_udp(q.to_wire())
    assert sdlib.question_bytes(wire) == sdlib.question_bytes(q.to_wire())


def test_truncation_then_tcp(steerdns):
    """RFC 1035 4.2.1 / RFC 7766 5: TC over UDP when it does not fit, everything over TCP."""
    r = steerdns.query_udp("big.example.com", "TXT")  # no EDNS: 512 bytes
    assert r.flags & dns.flags.TC
    r = steerdns.query_udp("big.example.com", "TXT", use_edns=0, payload=1232)
    assert not r.flags & dns.flags.TC and sum(len(rs) for rs in r.answer) == 5
    r = steerdns.query_tcp("big.example.com", "TXT")
    assert not r.flags & dns.flags.TC and sum(len(rs) for rs in r.answer) == 5


def test_refused_outside_zones(steerdns):
    for tcp in (False, True):
        r = steerdns.query("www.example.org", "A", tcp=tcp)
        assert r.rcode() == dns.rcode.REFUSED
        assert not r.flags & dns.flags.AA and not r.answer


def test_identity_chaos_txt(steerdns_factory):
    with_id = steerdns_factory(identity="ns1")
    for qname in ("id.server", "hostname.bind"):
        q = sdlib.make_query(qname, "TXT", rdclass=dns.rdataclass.CH)
        r = sdlib.parse(with_id.raw_udp(q.to_wire()))
        assert r.rcode() == dns.rcode.NOERROR
        assert [s for rs in r.answer for rd in rs for s in rd.strings] == [b"ns1"]
    without = steerdns_factory()  # identity is off by default
    q = sdlib.make_query("id.server", "TXT", rdclass=dns.rdataclass.CH)
    r = sdlib.parse(without.raw_udp(q.to_wire()))
    assert r.rcode() == dns.rcode.REFUSED and not r.answer


def test_ipv6_listener(steerdns_factory):
    if not sdlib.has_ipv6():
        pytest.skip("no IPv6 loopback on this machine")
    srv = steerdns_factory(listen=["127.0.0.1:{port}", "[::1]:{port}"])
    for tcp in (False, True):
        r = srv.query("www.example.com", "A", tcp=tcp, host="::1")
        assert r is not None and a_of(r) == [WWW_OLD]
    assert a_of(srv.query("www.example.com", "A", host="127.0.0.1")) == [WWW_OLD]


# ---------------------------------------------------------------------------------------------
# reloads and steerctl


def zone_path(srv):
    return srv.zones["example.com"]


def test_sighup_reload(steerdns):
    assert www_is(steerdns, WWW_OLD)
    edit_zone(zone_path(steerdns), 2, "192.0.2.99")
    steerdns.signal(signal.SIGHUP)
    assert steerdns.wait_for(lambda: www_is(steerdns, "192.0.2.99")), steerdns.log()
    r = steerdns.query_udp("example.com", "SOA")
    assert r.answer[0][0].serial == 2


def test_steerctl_status_and_reload(steerdns):
    st = steerdns.steerctl("status")
    assert st.returncode == 0, st.stderr
    assert "example.com" in st.stdout and re.search(r"\b1\b", st.stdout), st.stdout
    edit_zone(zone_path(steerdns), 3, "192.0.2.98")
    rl = steerdns.steerctl("reload")
    assert rl.returncode == 0, rl.stdout + rl.stderr
    assert steerdns.wait_for(lambda: www_is(steerdns, "192.0.2.98"))
    st = steerdns.steerctl("status")
    assert st.returncode == 0 and re.search(r"\b3\b", st.stdout), st.stdout
    # one zone, forced
    edit_zone(zone_path(steerdns), 4, "192.0.2.97")
    rl = steerdns.steerctl("reload", "example.com")
    assert rl.returncode == 0, rl.stdout + rl.stderr
    assert steerdns.wait_for(lambda: www_is(steerdns, "192.0.2.97"))
    # an unknown zone is an error reply: exit 1
    rl = steerdns.steerctl("reload", "no-such-zone.example")
    assert rl.returncode == 1, rl.stdout + rl.stderr
    # no daemon on the socket: exit 2
    gone = subprocess.run(
        [sdlib.binary("steerctl"), "-s", steerdns.control + ".none", "status"],
        capture_output=True, text=True, timeout=10)
    assert gone.returncode == 2


def test_broken_zone_on_reload_keeps_serving(steerdns):
    path = zone_path(steerdns)
    lines = open(path).read().splitlines()
    bad_line = len(lines) + 1
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines).replace(WWW_OLD, "192.0.2.77") + "\n" +
                "broken\tA\t300.1.2.3\n")
    os.rename(path + ".tmp", path)
    rl = steerdns.steerctl("reload")
    expect = "%s:%d" % (os.path.basename(path), bad_line)
    assert rl.returncode == 1, rl.stdout + rl.stderr
    assert expect in rl.stdout + rl.stderr, rl.stdout + rl.stderr
    steerdns.signal(signal.SIGHUP)
    assert steerdns.wait_for(lambda: steerdns.log().count(expect) >= 2), steerdns.log()
    # the previous version keeps serving
    assert www_is(steerdns, WWW_OLD)
    assert steerdns.query_udp("broken.example.com", "A").rcode() == dns.rcode.NXDOMAIN


CHECK_CONFIG = """\
server:
  listen: [ "127.0.0.1:%d" ]
  workers: many
  bogus-key: 1
  udp-payload: 99999
  tcp-idle-timeout: soon
zones:
  - name: example.com
    file: example.com.zone
    colour: blue
unknown-section: {}
"""
# line -> a word the message must contain
CHECK_ERRORS = {3: "workers", 4: "bogus-key", 5: "udp-payload", 6: "tcp-idle-timeout",
                10: "colour", 11: "unknown-section"}


def test_check_reports_every_config_error(tmp_path):
    binpath = sdlib.binary("steerdns")
    if not os.access(binpath, os.X_OK):
        pytest.fail("%s not built" % binpath)
    shutil.copyfile(os.path.join(sdlib.DATA, "basic.zone"), tmp_path / "example.com.zone")
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(CHECK_CONFIG % sdlib.free_port())
    r = run([binpath, "--check", "-c", str(cfg)])
    assert r.returncode == 1, r.stdout + r.stderr
    err = r.stderr
    for line, word in CHECK_ERRORS.items():
        hit = [ln for ln in err.splitlines() if re.search(r"bad\.yaml:%d:" % line, ln)]
        assert hit and any(word in h for h in hit), "line %d (%s) not reported:\n%s" % (
            line, word, err)
    # the same config, fixed, passes
    good = tmp_path / "good.yaml"
    good.write_text("server:\n  listen: [ \"127.0.0.1:%d\" ]\n  workers: 1\nzones:\n"
                    "  - name: example.com\n    file: example.com.zone\n" % sdlib.free_port())
    r = run([binpath, "--check", "-c", str(good)])
    assert r.returncode == 0, r.stdout + r.stderr


def test_check_reports_zone_error(tmp_path):
    binpath = sdlib.binary("steerdns")
    if not os.access(binpath, os.X_OK):
        pytest.fail("%s not built" % binpath)
    zone = tmp_path / "example.com.zone"
    text = open(os.path.join(sdlib.DATA, "basic.zone")).read().splitlines()
    text.insert(6, "www2\tA\tnot-an-address")  # becomes line 7
    zone.write_text("\n".join(text) + "\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("server:\n  listen: [ \"127.0.0.1:%d\" ]\nzones:\n"
                   "  - name: example.com\n    file: example.com.zone\n" % sdlib.free_port())
    r = run([binpath, "--check", "-c", str(cfg)])
    assert r.returncode == 1
    assert "example.com.zone:7" in r.stderr, r.stderr


# ---------------------------------------------------------------------------------------------
# TCP (RFC 7766)


def framed(qname, qid):
    q = sdlib.make_query(qname, "A")
    q.id = qid
    w = q.to_wire()
    return struct.pack("!H", len(w)) + w


def test_tcp_pipelining_in_order(steerdns):
    names = ["www.example.com", "mail.example.com", "nope.example.com", "ns1.example.com",
             "alias.example.com", "x.wild.example.com", "www.example.org"]
    s = sdlib.tcp_connect(steerdns.port)
    try:
        s.sendall(b"".join(framed(n, 1000 + i) for i, n in enumerate(names)))
        ids, qnames = [], []
        for _ in names:
            w = sdlib.tcp_read_msg(s, 3.0)
            assert w is not None, "pipelined answer missing"
            m = sdlib.parse(w)
            ids.append(m.id)
            qnames.append(m.question[0].name.to_text(omit_final_dot=True))
    finally:
        s.close()
    assert ids == [1000 + i for i in range(len(names))]
    assert qnames == names


def test_tcp_idle_timeout(steerdns_factory):
    srv = steerdns_factory(**{"tcp-idle-timeout": "1s"})
    s = sdlib.tcp_connect(srv.port)
    t0 = time.monotonic()
    try:
        # activity resets the timer: a query at 0.6 s keeps the connection open past 1 s
        time.sleep(0.6)
        s.sendall(framed("www.example.com", 7))
        assert sdlib.tcp_read_msg(s, 2.0) is not None
        assert not sdlib.wait_closed(s, 0.6), "closed before the idle timeout"
        assert sdlib.wait_closed(s, 3.0), "silent connection not closed"
        assert time.monotonic() - t0 < 5.0
    finally:
        s.close()


def test_tcp_connection_limit(steerdns_factory):
    """A full pool takes a newcomer by closing the connection that made the least progress
    (RFC 7766 6.2.3; issue 11 defect 2): here the one answered longest ago."""
    limit = 4
    srv = steerdns_factory(**{"tcp-max-connections": limit})
    conns = []
    try:
        for i in range(limit):
            c = sdlib.tcp_connect(srv.port)
            c.sendall(framed("www.example.com", i))
            assert sdlib.tcp_read_msg(c, 3.0) is not None, "connection %d refused" % i
            conns.append(c)
            time.sleep(0.05)  # distinct progress times: conns[0] is the oldest
        # the connection over the limit is served; the oldest one is closed for it
        extra = sdlib.tcp_connect(srv.port)
        extra.sendall(framed("www.example.com", 99))
        assert sdlib.tcp_read_msg(extra, 3.0) is not None, "newcomer over the limit refused"
        assert sdlib.wait_closed(conns[0], 3.0), "least recent connection left open"
        conns.append(extra)
        # the other earlier connections are unaffected
        for k in range(1, limit):
            conns[k].sendall(framed("www.example.com", 50 + k))
            assert sdlib.tcp_read_msg(conns[k], 3.0) is not None, "connection %d closed" % k
    finally:
        for c in conns:
            c.close()


# ---------------------------------------------------------------------------------------------
# reload under load


def test_reload_under_load_loses_nothing(steerdns, tmp_path):
    """2 s of UDP load (dnsperf) and TCP load (a pipelining client) while the zone is edited
    and reloaded 5 times: every query is answered."""
    qfile = tmp_path / "queries.txt"
    qfile.write_text("www.example.com A\nmail.example.com A\nnope.example.com A\n"
                     "example.com SOA\nalias.example.com A\n")
    perf = None
    if shutil.which("dnsperf"):
        perf = subprocess.Popen(["dnsperf", "-s", "127.0.0.1", "-p", str(steerdns.port),
                                 "-d", str(qfile), "-l", "2", "-Q", "2000", "-t", "3",
                                 "-c", "2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
    tcp_stats = {"sent": 0, "answered": 0, "errors": []}
    stop = threading.Event()

    def tcp_load():
        s = sdlib.tcp_connect(steerdns.port, timeout=3.0)
        try:
            i = 0
            while not stop.is_set():
                s.sendall(b"".join(framed("www.example.com", (i + k) & 0xFFFF)
                                   for k in range(4)))
                tcp_stats["sent"] += 4
                for _ in range(4):
                    if sdlib.tcp_read_msg(s, 3.0) is None:
                        tcp_stats["errors"].append("tcp answer missing after %d" % i)
                        return
                    tcp_stats["answered"] += 1
                i += 4
        finally:
            s.close()

    udp_stats = {"sent": 0, "answered": 0}

    def udp_load():  # without dnsperf: a synchronous client (no resend: each must come back)
        while not stop.is_set():
            udp_stats["sent"] += 1
            if steerdns.query_udp("www.example.com", "A", timeout=3.0) is not None:
                udp_stats["answered"] += 1

    threads = [threading.Thread(target=tcp_load)]
    if perf is None:
        threads.append(threading.Thread(target=udp_load))
    for t in threads:
        t.start()
    try:
        for i in range(5):
            time.sleep(0.3)
            edit_zone(zone_path(steerdns), 10 + i, "192.0.2.%d" % (110 + i))
            steerdns.signal(signal.SIGHUP)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert not tcp_stats["errors"], tcp_stats
    assert tcp_stats["answered"] == tcp_stats["sent"] > 0
    if perf is not None:
        out, _ = perf.communicate(timeout=30)
        sent, done, lost = sdlib.dnsperf_counts(out)
        assert sent > 500 and lost == 0, out
        assert done == sent, out
    else:
        assert udp_stats["answered"] == udp_stats["sent"] > 0
    assert steerdns.wait_for(lambda: www_is(steerdns, "192.0.2.114"))


def test_second_server_on_the_same_address_refused(steerdns, tmp_path):
    """The listening sockets use SO_REUSEPORT, with which a second process of the same user
    could join the port and silently take a share of its queries. A second steerdns on the
    same address must refuse to start, saying why; the first keeps answering alone."""
    workdir = str(tmp_path / "second")
    os.makedirs(workdir)
    zone = os.path.join(workdir, "example.com.zone")
    shutil.copyfile(os.path.join(sdlib.DATA, "basic.zone"), zone)
    conf = sdlib.steerdns_config(workdir, steerdns.port, {"example.com": zone})
    path = os.path.join(workdir, "steerdns.yaml")
    with open(path, "w") as f:
        f.write(sdlib.to_yaml(conf) + "\n")
    r = subprocess.run([sdlib.binary("steerdns"), "-c", path], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "address already in use" in (r.stdout + r.stderr).lower(), r.stdout + r.stderr
    assert "another process serves it" in r.stdout + r.stderr, r.stdout + r.stderr
    assert steerdns.alive()
    for _ in range(20):  # every answer comes from the first server (SO_REUSEPORT unshared)
        assert steerdns.query("www.example.com", "A") is not None
