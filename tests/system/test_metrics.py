"""Prometheus metrics (issue 12): server.metrics-listen serves GET /metrics.

One steerdns (two workers) serving example.com (tests/system/data/basic.zone, serial 1) with
an update policy for UPDATE_KEY and one NOTIFY target: a fake secondary in this file that
answers NOTIFY and answers SOA queries with a serial the test chooses. The test is the
only client of the DNS port, so the counters' deltas between two scrapes are exact.

Every process is stopped by its own PID; timeouts are generous bounds on measured events.
"""

import os
import re
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

import sdlib

ZONE = "example.com."
BASIC = os.path.join(sdlib.DATA, "basic.zone")


class FakeSecondary:
    """A UDP socket answering NOTIFY (acknowledged) and SOA queries for example.com with
    self.serial: what steerdns's lag tracker sees of a secondary."""

    def __init__(self, serial):
        self.serial = serial
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.done = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done:
            try:
                wire, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            try:
                m = dns.message.from_wire(wire)
            except Exception:
                continue
            r = dns.message.make_response(m)
            if m.opcode() == dns.opcode.QUERY and m.question and \
                    m.question[0].rdtype == dns.rdatatype.SOA:
                r.flags |= dns.flags.AA
                r.answer.append(dns.rrset.from_text(
                    ZONE, 3600, "IN", "SOA",
                    "ns1.example.com. hostmaster.example.com. %d 3600 900 604800 300"
                    % self.serial))
            self.sock.sendto(r.to_wire(), peer)

    def close(self):
        self.done = True
        self.thread.join(5)
        self.sock.close()


def start(workdir, metrics_port=None, notify_port=None):
    os.makedirs(workdir, exist_ok=True)
    port = sdlib.free_port()
    zone = os.path.join(workdir, "example.com.zone")
    shutil.copyfile(BASIC, zone)
    server = {"workers": 2}
    if metrics_port is not None:
        server["metrics-listen"] = "127.0.0.1:%d" % metrics_port
    conf = sdlib.steerdns_update_config(workdir, port, "example.com", zone,
                                        [{"key": sdlib.UPDATE_KEY.name.to_text()}],
                                        keys=[sdlib.UPDATE_KEY], **server)
    if notify_port is not None:
        conf["zones"][0]["notify"] = [{"address": "127.0.0.1:%d" % notify_port}]
    srv = sdlib.Steerdns(workdir, conf, {"example.com": zone}, port)
    srv.wait_ready("example.com", timeout=20)
    return srv


def stop(srv):
    rc = srv.stop()
    log = srv.log()
    assert sdlib.SANITIZER_RE.search(log) is None, log[-6000:]
    assert rc == 0, log[-4000:]


@pytest.fixture
def lab(tmp_path):
    sec = FakeSecondary(1)
    mport = sdlib.free_port()
    srv = start(str(tmp_path / "sd"), metrics_port=mport, notify_port=sec.port)
    yield {"srv": srv, "mport": mport, "sec": sec}
    stop(srv)
    sec.close()


def http(port, path="/metrics", method="GET", timeout=10):
    """(status, headers, body text) of one request."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


# The text exposition format 0.0.4: metric name, optional labels, value, no timestamp.
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
VALUE = r"(?:[-+]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+)|[-+]?Inf|NaN)"
SAMPLE_RE = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)?\})? (%s)$" % (NAME, LABEL, LABEL, VALUE))
HELP_RE = re.compile(r"^# HELP (%s) (?:[^\\\n]|\\[\\n])*$" % NAME)
TYPE_RE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)
PAIR_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset(labels)): value}; asserts the grammar, HELP and TYPE of every
    family (before its samples, once), and histogram consistency."""
    assert text.endswith("\n")
    samples, helps, types = {}, set(), {}
    for line in text.splitlines():
        m = HELP_RE.match(line)
        if m:
            assert m.group(1) not in helps, line
            helps.add(m.group(1))
            continue
        m = TYPE_RE.match(line)
        if m:
            assert m.group(1) not in types, line
            types[m.group(1)] = m.group(2)
            continue
        m = SAMPLE_RE.match(line)
        assert m, "not an exposition line: %r" % line
        name = m.group(1)
        family = name
        if name not in types:
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            assert types.get(family) == "histogram", "no TYPE before %r" % line
        assert family in helps, "no HELP before %r" % line
        labels = frozenset(PAIR_RE.findall(m.group(2) or ""))
        key = (name, labels)
        assert key not in samples, "duplicate sample %r" % line
        samples[key] = float(m.group(3))
    assert types and set(types) == helps
    for fam, t in types.items():
        if t != "histogram":
            continue
        buckets = sorted(((float(dict(lb)["le"]), v) for (n, lb), v in samples.items()
                          if n == fam + "_bucket"))
        assert buckets and buckets[-1][0] == float("inf")
        assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), buckets
        assert samples[(fam + "_count", frozenset())] == buckets[-1][1]
    return samples


def get(samples, metric, /, **labels):
    return samples.get((metric, frozenset(labels.items())))


def total(samples, name):
    return sum(v for (n, _), v in samples.items() if n == name)


def scrape(port):
    status, headers, body = http(port)
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(body)


def test_deltas_are_exact(lab):
    srv, mport = lab["srv"], lab["mport"]
    before = scrape(mport)
    N_OK, N_NX, M_MX, M_NX = 4, 3, 2, 3
    for _ in range(N_OK):
        r = sdlib.query_parsed(srv.port, "www.example.com", "A", tries=1)
        assert r.rcode() == dns.rcode.NOERROR
    for i in range(N_NX):
        r = srv.query("nx%d.example.com" % i, "TXT")
        assert r is not None and r.rcode() == dns.rcode.NXDOMAIN
    for _ in range(M_MX):
        r = srv.query("example.com", "MX", tcp=True)
        assert r is not None and r.rcode() == dns.rcode.NOERROR
    for i in range(M_NX):
        r = srv.query("nx%d.example.com" % i, "AAAA", tcp=True)
        assert r is not None and r.rcode() == dns.rcode.NXDOMAIN
    m = sdlib.update_msg(ZONE)
    m.add(dns.name.from_text("metrics", dns.name.from_text(ZONE)), 300, "A", "192.0.2.77")
    assert sdlib.send_update(m, srv.port).rcode() == dns.rcode.NOERROR
    after = scrape(mport)

    def d(name, **labels):
        return (get(after, name, **labels) or 0) - (get(before, name, **labels) or 0)

    assert d("steerdns_queries_total", transport="udp") == N_OK + N_NX
    assert d("steerdns_queries_total", transport="tcp") == M_MX + M_NX
    assert d("steerdns_responses_total", rcode="NOERROR") == N_OK + M_MX
    assert d("steerdns_responses_total", rcode="NXDOMAIN") == N_NX + M_NX
    assert d("steerdns_responses_total", rcode="SERVFAIL") == 0
    assert d("steerdns_queries_by_qtype_total", qtype="A") == N_OK
    assert d("steerdns_queries_by_qtype_total", qtype="TXT") == N_NX
    assert d("steerdns_queries_by_qtype_total", qtype="MX") == M_MX
    assert d("steerdns_queries_by_qtype_total", qtype="AAAA") == M_NX
    assert d("steerdns_queries_by_qtype_total", qtype="other") == 0
    # per worker, summed: every UDP query came in and went out once; the UPDATE (TCP) and
    # the TCP queries each had their own connection
    assert total(after, "steerdns_worker_udp_received_total") - \
        total(before, "steerdns_worker_udp_received_total") == N_OK + N_NX
    assert total(after, "steerdns_worker_udp_sent_total") - \
        total(before, "steerdns_worker_udp_sent_total") == N_OK + N_NX
    assert total(after, "steerdns_worker_tcp_accepted_total") - \
        total(before, "steerdns_worker_tcp_accepted_total") == M_MX + M_NX + 1
    assert total(after, "steerdns_worker_dropped_total") == 0
    assert d("steerdns_update_handoffs_total") == 1
    z = {"zone": "example.com"}
    assert d("steerdns_zone_updates_total", outcome="applied", **z) == 1
    assert d("steerdns_zone_updates_total", outcome="refused", **z) == 0
    assert d("steerdns_zone_update_commits_total", **z) == 1
    assert get(after, "steerdns_zone_serial", **z) == 2
    assert d("steerdns_zone_records", **z) == 1
    assert d("steerdns_zone_changes_total", **z) == 1
    assert d("steerdns_zone_journal_entries", **z) == 1
    assert d("steerdns_zone_journal_bytes", **z) > 0
    assert get(after, "steerdns_zone_update_last_commit_seconds", **z) > 0
    assert get(before, "steerdns_zone_update_last_commit_seconds", **z) is None
    assert get(after, "steerdns_workers") == 2
    # a scrape changes nothing it reports
    again = scrape(mport)
    assert get(again, "steerdns_queries_total", transport="udp") == \
        get(after, "steerdns_queries_total", transport="udp")


def test_notify_counters_after_reload(lab):
    """A reload with a new serial: one NOTIFY to the fake secondary, acknowledged, counted
    for the zone (steerdns_zone_notify_total) as in all (steerdns_notify_total)."""
    srv, mport = lab["srv"], lab["mport"]
    z = {"zone": "example.com"}

    def notify(s, outcome, per_zone=True):
        if per_zone:
            return get(s, "steerdns_zone_notify_total", outcome=outcome, **z)
        return get(s, "steerdns_notify_total", outcome=outcome)

    # the start's NOTIFY (serial 1) is acknowledged first
    before = srv.wait_for(lambda: (lambda x: notify(x, "acked") == 1 and x)(scrape(mport)),
                          timeout=30, interval=0.2)
    assert before, srv.steerctl("status").stdout
    path = srv.zones["example.com"]
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("hostmaster 1 ", "hostmaster 5 ") + "reloaded A 192.0.2.55\n")
    r = srv.steerctl("reload", "example.com")
    assert r.returncode == 0, r.stdout + r.stderr
    after = srv.wait_for(lambda: (lambda x: notify(x, "acked") == 2 and x)(scrape(mport)),
                         timeout=30, interval=0.2)
    assert after, srv.log()[-3000:]
    assert get(after, "steerdns_zone_serial", **z) == 5
    sent = notify(after, "sent") - notify(before, "sent")
    assert sent >= 1, (before, after)  # a retry under load is a second send
    assert notify(after, "failed") == 0 and notify(after, "rejected") == 0
    for outcome in ("sent", "acked", "rejected", "failed"):
        assert notify(after, outcome) == notify(after, outcome, per_zone=False), outcome
    # and the log has the reload's event lines (contrib/base/log.h)
    reloaded = sdlib.log_events(srv.log(), "zone-reloaded", zone="example.com", serial=5)
    assert reloaded and reloaded[-1]["from"] == "1", srv.log()[-3000:]
    assert sdlib.log_events(srv.log(), "notify-acked", zone="example.com", serial=5)


def test_secondary_lag_appears_and_clears(lab):
    srv, mport, sec = lab["srv"], lab["mport"], lab["sec"]
    labels = {"zone": "example.com", "secondary": "127.0.0.1:%d" % sec.port,
              "source": "notify"}
    # at start the fake secondary serves serial 1, as steerdns does: in sync
    s = srv.wait_for(lambda: get(scrape(mport), "steerdns_secondary_serial", **labels) == 1,
                     timeout=60, interval=0.5)
    assert s, srv.steerctl("status").stdout
    m = sdlib.update_msg(ZONE)
    m.add(dns.name.from_text("lag", dns.name.from_text(ZONE)), 300, "A", "192.0.2.78")
    assert sdlib.send_update(m, srv.port).rcode() == dns.rcode.NOERROR
    t0 = time.monotonic()

    def lagging():
        s = scrape(mport)
        return get(s, "steerdns_secondary_lag_serials", **labels) == 1 and s

    s = srv.wait_for(lagging, timeout=60, interval=0.5)
    assert s, srv.steerctl("status").stdout
    assert get(s, "steerdns_zone_serial", zone="example.com") == 2
    assert get(s, "steerdns_secondary_serial", **labels) == 1
    lag_s = get(s, "steerdns_secondary_lag_seconds", **labels)
    assert 0 <= lag_s <= time.monotonic() - t0 + 1
    # the status line agrees
    st = srv.steerctl("status").stdout
    assert "127.0.0.1:%d serial 1 lag 1 serials" % sec.port in st, st
    # the next SOA answer (2 s after the NOTIFY) is logged as a lag
    peer = "127.0.0.1:%d" % sec.port
    lagging = srv.wait_for(lambda: sdlib.log_events(
        srv.log(), "secondary-lagging", zone="example.com", peer=peer, serial=1), timeout=60)
    assert lagging, srv.log()[-3000:]
    assert lagging[-1]["served"] == "2" and lagging[-1]["lag_serials"] == "1" and \
        lagging[-1]["source"] == "notify", lagging
    # the secondary catches up: the lag clears
    sec.serial = 2
    s = srv.wait_for(lambda: (lambda x: get(x, "steerdns_secondary_lag_serials", **labels) == 0
                              and x)(scrape(mport)), timeout=90, interval=0.5)
    assert s, srv.steerctl("status").stdout
    assert get(s, "steerdns_secondary_serial", **labels) == 2
    assert get(s, "steerdns_secondary_lag_seconds", **labels) == 0
    assert get(s, "steerdns_notify_total", outcome="sent") >= 2
    assert get(s, "steerdns_notify_total", outcome="acked") >= 2
    # the log told both changes (contrib/base/log.h event lines)
    assert srv.wait_for(lambda: sdlib.log_events(srv.log(), "secondary-synced",
                                                 zone="example.com", peer=peer, serial=2),
                        timeout=10), srv.log()[-3000:]
    # per zone: the one zone has every NOTIFY of the server
    for outcome in ("sent", "acked", "rejected", "failed"):
        assert get(s, "steerdns_zone_notify_total", zone="example.com", outcome=outcome) == \
            get(s, "steerdns_notify_total", outcome=outcome), outcome


def test_http_errors_and_limits(lab):
    mport = lab["mport"]
    assert http(mport, "/")[0] == 404
    assert http(mport, "/metricsx")[0] == 404
    assert http(mport, "/metrics/")[0] == 404
    status, headers, _ = http(mport, method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert http(mport, method="DELETE")[0] == 405
    status, headers, body = http(mport, method="HEAD")
    assert status == 200 and body == "" and int(headers["Content-Length"]) > 1000
    assert http(mport, "/metrics?name[]=x")[0] == 200

    def raw(data, timeout=10):
        with socket.create_connection(("127.0.0.1", mport), timeout=timeout) as s:
            s.sendall(data)
            out = b""
            while True:
                b = s.recv(65536)
                if not b:
                    return out
                out += b

    assert raw(b"garbage\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw(b"GET /metrics SPDY/3\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    # a request head over the bound (8 KiB) is refused, not buffered
    big = b"GET /metrics HTTP/1.1\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n"
    assert raw(big).startswith(b"HTTP/1.1 431 ")
    # connections beyond the bound (16) are closed at once; the others are served. First
    # the server closes its side of the connections above (it waits for the client's EOF).
    pid = lab["srv"].pid
    assert lab["srv"].wait_for(lambda: not tcp_sockets(pid, mport, listening=False),
                               timeout=30, interval=0.1)
    held = [socket.create_connection(("127.0.0.1", mport), timeout=10) for _ in range(16)]
    try:
        assert lab["srv"].wait_for(lambda: len(tcp_sockets(pid, mport, listening=False)) == 16,
                                   timeout=30, interval=0.1)
        got = b""
        try:  # the reset may even come before connect() returns
            with socket.create_connection(("127.0.0.1", mport), timeout=10) as extra:
                extra.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
                got = extra.recv(100)
        except (ConnectionResetError, BrokenPipeError):
            pass
        assert got == b""
        held[0].sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert held[0].recv(100).startswith(b"HTTP/1.1 200 ")
    finally:
        for s in held:
            s.close()
    # an idle connection is closed by the server (after 10 s); first the server closes the
    # ones above (else the newcomer may find all 16 slots taken, and be reset)
    assert lab["srv"].wait_for(lambda: not tcp_sockets(pid, mport, listening=False),
                               timeout=30, interval=0.1)
    with socket.create_connection(("127.0.0.1", mport), timeout=60) as s:
        t0 = time.monotonic()
        assert s.recv(100) == b""
        assert time.monotonic() - t0 >= 5
    # and the endpoint still serves
    scrape(mport)


def listening_inodes(pid):
    """Local ports of pid's listening TCP sockets."""
    return sorted(tcp_sockets(pid))


def tcp_sockets(pid, port=None, listening=True):
    """Local ports of pid's TCP sockets: listening ones, or (listening False) the others,
    with local port port (None: any)."""
    mine = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if t.startswith("socket:["):
            mine.add(t[8:-1])
    return [t["port"] for t in sdlib.tcp_table()
            if (t["state"] == "0A") == listening and t["inode"] in mine and
            (port is None or t["port"] == port)]


def test_off_means_nothing_listens(tmp_path):
    srv = start(str(tmp_path / "off"))
    try:
        # only the DNS TCP listeners (one per worker, SO_REUSEPORT)
        assert listening_inodes(srv.pid) == [srv.port, srv.port]
        assert "metrics" not in srv.log()
    finally:
        stop(srv)
    mport = sdlib.free_port()
    srv = start(str(tmp_path / "on"), metrics_port=mport)
    try:
        assert sorted(listening_inodes(srv.pid)) == sorted([srv.port, srv.port, mport])
    finally:
        stop(srv)


def test_bad_metrics_listen_is_a_config_error(tmp_path):
    workdir = str(tmp_path)
    port = sdlib.free_port()
    conf = sdlib.steerdns_config(workdir, port, {"example.com": BASIC},
                                 **{"metrics-listen": "127.0.0.1"})
    path = os.path.join(workdir, "steerdns.yaml")
    with open(path, "w") as f:
        f.write(sdlib.to_yaml(conf) + "\n")
    import subprocess
    p = subprocess.run([sdlib.binary("steerdns"), "-c", path, "--check"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode != 0
    assert "metrics-listen" in p.stderr + p.stdout


def test_grafana_dashboard_uses_exported_metrics(lab):
    """Every steerdns_* name in contrib/grafana/steerdns.json is one a scrape returns."""
    import json
    path = os.path.join(os.path.dirname(__file__), "..", "..", "contrib", "grafana",
                        "steerdns.json")
    with open(path) as f:
        dash = json.load(f)
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dash["templating"]["list"] if "definition" in v]
    used = {n for e in exprs for n in re.findall(r"steerdns_[a-z_]+", e)}
    assert len(used) >= 15
    _, _, body = http(lab["mport"])
    parse(body)
    exported = set(re.findall(r"^# TYPE (steerdns_[a-z_]+) (\w+)", body, re.M))
    names = {n for n, _ in exported}
    names |= {n + s for n, t in exported if t == "histogram" for s in ("_bucket", "_sum",
                                                                         "_count")}
    assert used <= names, sorted(used - names)


# ---- health and steering (test_steering.py's HTTP backends and templates) ----------------

import test_steering as ts  # noqa: E402

backends = ts.backends


def test_health_and_steering_metrics(tmp_path, backends):
    """Targets by state, transitions, the check latency histogram and forced states from the
    prober; steered answers by outcome, counted exactly against the queries sent."""
    port = next(iter(backends.values())).port
    for h in ("127.0.0.3", "127.0.0.4"):
        backends[h].set_mode("refuse")
    workdir = str(tmp_path)
    zfile = os.path.join(workdir, "example.com.zone")
    with open(zfile, "w") as f:
        f.write(ts.ZONE_HEAD + "api A 127.0.0.2\napi A 127.0.0.3\nsf A 127.0.0.4\n")
    dport, mport = sdlib.free_port(), sdlib.free_port()
    conf = sdlib.steerdns_config(workdir, dport, {"example.com": zfile},
                                 **{"metrics-listen": "127.0.0.1:%d" % mport})
    conf["health"] = {"templates": [ts.template(port)]}
    conf["steering"] = [
        ts.policy("api.example.com", pools=[{"name": "primary", "members": ["127.0.0.3"]},
                                            {"name": "backup", "members": ["127.0.0.2"]}]),
        ts.policy("sf.example.com", **{"all-down": "servfail"})]
    srv = sdlib.Steerdns(workdir, conf, {"example.com": zfile}, dport)
    try:
        srv.wait_ready("example.com")
        # three targets (one per candidate): .2 up, .3 and .4 down after `fall` checks
        s = srv.wait_for(lambda: (lambda x: get(x, "steerdns_health_targets", state="down") == 2
                                  and get(x, "steerdns_health_targets", state="up") == 1
                                  and x)(scrape(mport)), timeout=30, interval=0.2)
        assert s, srv.steerctl("health").stdout
        assert get(s, "steerdns_health_transitions_total") >= 2
        # .3 and .4 went down after `fall` failed checks each; .2 counts as up from the start
        # (up is the template's initial state), so how many of its checks have finished by now
        # depends on the scheduling and is not asserted
        assert get(s, "steerdns_health_checks_failed_total") >= 2 * ts.FALL
        n = get(s, "steerdns_health_check_duration_seconds_count")
        assert n >= 2 * ts.FALL
        assert get(s, "steerdns_health_checks_total") == n  # one snapshot: each check in both
        N, M = 5, 4
        before = scrape(mport)
        for _ in range(N):
            assert ts.answer(srv, "api.example.com")[1] == ["127.0.0.2"]
        for _ in range(M):
            assert ts.answer(srv, "sf.example.com")[0] == dns.rcode.SERVFAIL
        after = scrape(mport)

        def d(outcome):
            return get(after, "steerdns_steered_answers_total", outcome=outcome) - \
                get(before, "steerdns_steered_answers_total", outcome=outcome)

        assert d("later_pool") == N
        assert d("all_down_servfail") == M
        assert d("first_pool") == 0 and d("all_down_all") == 0
        assert get(after, "steerdns_steered_degraded_total") - \
            get(before, "steerdns_steered_degraded_total") == N + M

        # per name and pool: every api answer came from backup, every sf one was all-down
        def dp(name, pool):
            return get(after, "steerdns_steered_pool_answers_total", name=name, pool=pool) - \
                (get(before, "steerdns_steered_pool_answers_total", name=name, pool=pool) or 0)

        def dn(name):
            return get(after, "steerdns_steered_all_down_total", name=name) - \
                (get(before, "steerdns_steered_all_down_total", name=name) or 0)

        assert dp("api.example.com", "backup") == N
        assert dp("api.example.com", "primary") == 0
        api_pools = [v for (n, lab), v in after.items()
                     if n == "steerdns_steered_pool_answers_total"
                     and dict(lab).get("name") == "api.example.com"]
        assert sum(api_pools) - sum(
            v for (n, lab), v in before.items() if n == "steerdns_steered_pool_answers_total"
            and dict(lab).get("name") == "api.example.com") == N
        assert dn("api.example.com") == 0
        assert dn("sf.example.com") == M
        # a configuration reload renumbers nothing here but builds a new table: the
        # counts of the names and pools it keeps go on from where they were
        out = srv.steerctl("reload")
        assert out.returncode == 0, out.stdout + out.stderr
        ts.answer(srv, "api.example.com")
        s = scrape(mport)
        assert get(s, "steerdns_steered_pool_answers_total", name="api.example.com",
                   pool="backup") == get(after, "steerdns_steered_pool_answers_total",
                                         name="api.example.com", pool="backup") + 1
        assert get(s, "steerdns_steered_all_down_total", name="sf.example.com") == \
            get(after, "steerdns_steered_all_down_total", name="sf.example.com")
        # an operator override shows as forced, at once
        out = srv.steerctl("health", "force-down", "api.example.com/127.0.0.2")
        assert out.returncode == 0, out.stdout + out.stderr
        s = scrape(mport)
        assert get(s, "steerdns_health_targets", state="forced_down") == 1
        assert get(s, "steerdns_health_targets", state="up") == 0
        assert get(s, "steerdns_health_targets", state="down") == 2
    finally:
        rc = srv.stop()
        assert sdlib.SANITIZER_RE.search(srv.log()) is None, srv.log()[-6000:]
        assert rc == 0, srv.log()[-4000:]
