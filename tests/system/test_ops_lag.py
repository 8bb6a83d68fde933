"""Secondaries' lag and `steerctl wait-sync` (issue 12).

steerdns is the primary of example.com (test_update_xfr.start_primary: NOTIFY with TSIG to
each secondary, transfers with TSIG, updates with UPDATE_KEY); NSD, Knot and BIND pull it as
in test_primary.py. steerdns asks each NOTIFY target for its SOA and shows its serial and lag
in `steerctl status`; `steerctl wait-sync ZONE [SERIAL] [--timeout T]` exits 0 once every
secondary serves the serial, 1 at the timeout naming the ones that lag. A NOTIFY target a
configuration reload adds is asked at once (the tracker's timer runs only while there is
work), and one a reload removes is forgotten. Every process is
stopped by its own PID. Timeouts are generous (a loaded 2-core machine); the one that must
expire is short only where expiring is the point.
"""

import os
import re
import socket
import threading
import time

import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import dns.rrset
import pytest

import sdlib
import test_primary as tp
import test_update_xfr as tux

ZONE = "example.com."
OK_TIMEOUT = "90s"  # success must come well before; the bound only stops a hung test


# the primary with NSD, Knot and BIND secondaries (test_update_xfr.py's fixture)
lab = tux.lab


def steerctl(lab, *args, timeout=150):
    return lab["procs"]["steerdns"].steerctl(*args, timeout=timeout)


def add_record(lab, name, addr):
    tux.update(lab["port"], lambda m: m.add(tux.n(name), 300, "A", addr))
    return tp.serial(lab["port"])


def answers(port, name):
    q = dns.message.make_query("%s.%s" % (name, ZONE), "A")
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    return sorted(rd.address for rrset in r.answer for rd in rrset)


def sec_line(status, port):
    """The status line of the secondary at 127.0.0.1:port."""
    for line in status.splitlines():
        if line.strip().startswith("127.0.0.1:%d " % port):
            return line.strip()
    return None


def test_wait_sync_succeeds_once_all_three_serve_the_update(lab):
    # at start: the secondaries AXFR the zone, steerdns asks them for their SOA
    p = steerctl(lab, "wait-sync", "example.com", "--timeout", OK_TIMEOUT)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "served by all 3 secondaries" in p.stdout, p.stdout
    serial = add_record(lab, "gate1", "192.0.2.51")
    t0 = time.monotonic()
    p = steerctl(lab, "wait-sync", "example.com", "--timeout", OK_TIMEOUT)
    took = time.monotonic() - t0
    assert p.returncode == 0, p.stdout + p.stderr
    assert "serial %d: served by all 3 secondaries" % serial in p.stdout, p.stdout
    # the gate held: every secondary answers the new record now
    for kind, port in lab["ports"].items():
        assert tp.serial(port) == serial, kind
        assert answers(port, "gate1") == ["192.0.2.51"], kind
    st = steerctl(lab, "status").stdout
    assert "secondaries: 3" in st, st
    for kind, port in lab["ports"].items():
        line = sec_line(st, port)
        assert line and "serial %d in sync" % serial in line, (kind, st)
    print("wait-sync after an update took %.2f s" % took)


def test_stopped_secondary_times_out_named_and_lags_in_status(lab):
    p = steerctl(lab, "wait-sync", "example.com", "--timeout", OK_TIMEOUT)
    assert p.returncode == 0, p.stdout + p.stderr
    before = tp.serial(lab["port"])
    nsd = lab["procs"]["nsd"]
    nsd_port = lab["ports"]["nsd"]
    nsd.stop()  # by its PID (sdlib.ServerProcess.stop)
    serial = add_record(lab, "gate2", "192.0.2.52")
    t0 = time.monotonic()
    p = steerctl(lab, "wait-sync", "example.com", "--timeout", "4s")
    took = time.monotonic() - t0
    assert p.returncode == 1, p.stdout + p.stderr
    assert p.stderr == ""
    assert "not served by every secondary" in p.stdout, p.stdout
    lagging = [line for line in p.stdout.splitlines() if "LAGS" in line]
    assert len(lagging) == 1 and "127.0.0.1:%d " % nsd_port in lagging[0], p.stdout
    assert "serial %d lag %d serials" % (before, serial - before) in lagging[0], p.stdout
    assert 3.5 <= took < 60, took
    # the others made it
    for kind in ("knotd", "named"):
        line = [x for x in p.stdout.splitlines() if "127.0.0.1:%d " % lab["ports"][kind] in x]
        assert line and line[0].lstrip().startswith("ok"), (kind, p.stdout)
    # the serial the stopped one still serves is reached by all: 0 at once
    p = steerctl(lab, "wait-sync", "example.com", str(before), "--timeout", "4s")
    assert p.returncode == 0, p.stdout + p.stderr
    # status: its lag in serials and in seconds (since the primary served a newer serial)
    time.sleep(1.5)
    st = steerctl(lab, "status").stdout
    line = sec_line(st, nsd_port)
    m = re.search(r"serial (\d+) lag (\d+) serials / (>=)?(\d+) seconds", line or "")
    assert m, st
    assert int(m.group(1)) == before and int(m.group(2)) == serial - before
    assert int(m.group(4)) >= 1, line
    # restarted, it catches up; the lag clears
    lab["procs"]["nsd"] = lab["makers"]["nsd"](lab["dirs"]["nsd"], nsd_port, lab["port"])
    p = steerctl(lab, "wait-sync", "example.com", "--timeout", OK_TIMEOUT)
    assert p.returncode == 0, p.stdout + p.stderr
    assert answers(nsd_port, "gate2") == ["192.0.2.52"]
    line = sec_line(steerctl(lab, "status").stdout, nsd_port)
    assert line and "serial %d in sync" % serial in line, line


def test_wait_sync_usage_and_errors(lab):
    p = steerctl(lab, "wait-sync")
    assert p.returncode == 1 and "usage: wait-sync" in p.stderr
    p = steerctl(lab, "wait-sync", "example.com", "--timeout", "2h")
    assert p.returncode == 1 and "usage: wait-sync" in p.stderr
    p = steerctl(lab, "wait-sync", "example.com", "notaserial")
    assert p.returncode == 1 and "usage: wait-sync" in p.stderr
    p = steerctl(lab, "wait-sync", "example.org")
    assert p.returncode == 1 and "not served" in p.stderr
    p = sdlib.subprocess.run([sdlib.binary("steerctl"), "-s", lab["dir"] + "/none.sock",
                              "wait-sync", "example.com"], capture_output=True, text=True,
                             timeout=10)
    assert p.returncode == 2
    # a serial no one serves yet: waits, then names all three
    cur = tp.serial(lab["port"])
    p = steerctl(lab, "wait-sync", "example.com", str(cur + 1000), "--timeout=1500ms")
    assert p.returncode == 1, p.stdout + p.stderr
    assert len([x for x in p.stdout.splitlines() if "LAGS" in x]) == 3, p.stdout


@pytest.fixture
def lone(tmp_path):
    """steerdns without NOTIFY targets: its secondaries are whoever transfers the zone."""
    workdir = str(tmp_path)
    port = sdlib.free_port()
    zone = os.path.join(workdir, "example.com.zone")
    with open(zone, "w") as f:
        f.write(tp.ZONE)
    conf = sdlib.steerdns_update_config(workdir, port, "example.com", zone,
                                        [{"key": sdlib.UPDATE_KEY_NAME}])
    s = sdlib.Steerdns(workdir, conf, {"example.com": zone}, port)
    s.wait_ready("example.com")
    yield s
    rc = s.stop()
    assert sdlib.SANITIZER_RE.search(s.log()) is None, s.log()[-6000:]
    assert rc == 0, s.log()[-4000:]


def transfer(port, serial=None):
    """A whole AXFR, or an IXFR from serial, read to its end (a secondary's transfer)."""
    kw = {} if serial is None else {"rdtype": dns.rdatatype.IXFR, "serial": serial}
    return sum(len(m.answer) for m in dns.query.xfr("127.0.0.1", ZONE, port=port, lifetime=15,
                                                    **kw))


def test_transfer_peers_are_secondaries(lone):
    st = lone.steerctl("status").stdout
    assert "secondaries: 0 known" in st, st
    p = lone.steerctl("wait-sync", "example.com")
    assert p.returncode == 0 and "served by all 0 secondaries" in p.stdout, p.stdout
    s0 = tp.serial(lone.port)
    assert transfer(lone.port) > 0

    def peer_line():
        return sec_line_learned(lone.steerctl("status").stdout)
    # one AXFR (by hand, say): shown, not waited for
    line = lone.wait_for(peer_line, timeout=30)
    assert line and line.startswith("127.0.0.1 (transferred once: not waited for) serial "
                                    "%d in sync (AXFR" % s0), line
    tux.update(lone.port, lambda m: m.add(tux.n("peer"), 300, "A", "192.0.2.60"))
    s1 = tp.serial(lone.port)
    p = lone.steerctl("wait-sync", "example.com", "--timeout", "2s", timeout=60)
    assert p.returncode == 0 and "served by all 0 secondaries" in p.stdout, p.stdout
    # it comes back with an IXFR from the serial it holds: a secondary, in sync at s1
    assert transfer(lone.port, serial=s0) > 0
    line = lone.wait_for(lambda: (peer_line() or "").startswith(
        "127.0.0.1 (transfers) serial %d in sync (IXFR" % s1) and peer_line(), timeout=30)
    assert line, peer_line()
    tux.update(lone.port, lambda m: m.add(tux.n("peer2"), 300, "A", "192.0.2.61"))
    s2 = tp.serial(lone.port)
    p = lone.steerctl("wait-sync", "example.com", "--timeout", "2s", timeout=60)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "LAGS 127.0.0.1 (transfers) serial %d lag 1 serials" % s1 in p.stdout, p.stdout
    # it catches up by IXFR: the completed transfer is its new serial
    assert transfer(lone.port, serial=s1) > 0
    p = lone.steerctl("wait-sync", "example.com", "--timeout", OK_TIMEOUT, timeout=150)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "serial %d: served by all 1 secondary" % s2 in p.stdout, p.stdout


def sec_line_learned(status):
    for line in status.splitlines():
        if line.strip().startswith("127.0.0.1 ("):
            return line.strip()
    return None


class SoaSecondary:
    """A UDP stand-in secondary serving `serial`: answers SOA queries (and NOTIFYs, so the
    primary stops retrying) and counts the SOA queries it was asked."""

    def __init__(self, serial):
        self.serial = serial
        self.asked = 0
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
            m = dns.message.from_wire(wire)
            r = dns.message.make_response(m)
            if m.question and m.question[0].rdtype == dns.rdatatype.SOA:
                self.asked += 1
                r.flags |= dns.flags.AA
                r.answer.append(dns.rrset.from_text(
                    ZONE, 3600, "IN", "SOA",
                    "ns1.%s hostmaster.%s %d 7200 900 1209600 300" % (ZONE, ZONE, self.serial)))
            self.sock.sendto(r.to_wire(), peer)

    def close(self):
        self.done = True
        self.thread.join(5)
        self.sock.close()


def test_reload_adds_and_removes_a_notify_target(lone):
    """A NOTIFY target a configuration reload adds with no new serial is asked at once
    (the tracker's timer only runs while there is work: the reload itself wakes it), and
    one the next reload removes is forgotten."""
    s0 = tp.serial(lone.port)
    sec = SoaSecondary(s0)
    try:
        def reload_with(notify):
            lone.config["zones"][0]["notify"] = notify
            with open(lone.config_path, "w") as f:
                f.write(sdlib.to_yaml(lone.config) + "\n")
            n = len(sdlib.log_events(lone.log(), "reload-done"))
            lone.reload()
            assert lone.wait_for(lambda: len(sdlib.log_events(lone.log(), "reload-done")) > n,
                                 timeout=30)

        reload_with(["127.0.0.1:%d" % sec.port])
        # the line shows up before the secondary's SOA answer ("serial ? (no answer yet)"):
        # wait for the answer, not the line
        line = lone.wait_for(
            lambda: (lambda l: l if l and "in sync" in l else None)(
                sec_line(lone.steerctl("status").stdout, sec.port)), timeout=30)
        assert line and "serial %d in sync" % s0 in line, lone.steerctl("status").stdout
        assert sec.asked >= 1
        reload_with([])
        assert lone.wait_for(
            lambda: sec_line(lone.steerctl("status").stdout, sec.port) is None, timeout=30)
    finally:
        sec.close()
