"""TCP under descriptor exhaustion and slow-drip clients (issue 11, defects 1 and 2).

Descriptor exhaustion: the daemon starts under `prlimit --nofile=N` with a small N (it
lowers tcp-max-connections to fit and says so, naming both numbers), or has its limit cut
under it with `prlimit --pid` so that accept() fails with EMFILE. A flood of TCP
connections then must not stop UDP answers, must not make the workers spin (the process's
CPU time over a window stays far below one core), the descriptors come back after the
attackers leave, and SIGTERM still stops the daemon within a bound.

Slow drip: clients that send one byte per interval into a 65,535-byte frame fill the pool;
a normal TCP client still gets its answer (the slot with the least progress is reclaimed)
and the drippers are closed by tcp-message-timeout although every byte re-arms the idle
timer.
Every process started here is stopped by its own PID; every wait is bounded.
"""

import os
import resource
import socket
import struct
import subprocess
import threading
import time

import pytest

import sdlib

ZONE = os.path.join(sdlib.DATA, "basic.zone")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU time of a process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def fd_list(pid):
    """What each open descriptor is, for a failure's message."""
    out = []
    for fd in sorted(os.listdir("/proc/%d/fd" % pid), key=int):
        try:
            out.append("%s -> %s" % (fd, os.readlink("/proc/%d/fd/%s" % (pid, fd))))
        except OSError:
            pass
    return "\n".join(out)


def cpu_over(pid, window):
    """CPU seconds the process used during `window` seconds of wall time."""
    before = cpu_seconds(pid)
    time.sleep(window)
    return cpu_seconds(pid) - before


class LimitedSteerdns(sdlib.Steerdns):
    """steerdns started through `prlimit --nofile=N:N` (prlimit execs it: same PID)."""

    def __init__(self, workdir, config, zones, port, nofile):
        self.workdir = workdir
        self.config_path = os.path.join(workdir, "steerdns.yaml")
        self.config = config
        self.zones = zones
        self.control = config["server"]["control-socket"]
        with open(self.config_path, "w") as f:
            f.write(sdlib.to_yaml(config) + "\n")
        argv = ["prlimit", "--nofile=%d:%d" % (nofile, nofile), "--",
                sdlib.binary("steerdns"), "-c", self.config_path]
        sdlib.ServerProcess.__init__(self, argv, os.path.join(workdir, "steerdns.log"), port,
                                     env=dict(os.environ), cwd=workdir)


def start(tmp_path, nofile=None, **server):
    workdir = str(tmp_path / "srv")
    os.makedirs(workdir)
    zone = os.path.join(workdir, "basic.zone")
    with open(ZONE) as src, open(zone, "w") as dst:
        dst.write(src.read())
    port = sdlib.free_port()
    conf = sdlib.steerdns_config(workdir, port, {"example.com": zone}, **server)
    if nofile is None:
        srv = sdlib.Steerdns(workdir, conf, {"example.com": zone}, port)
    else:
        srv = LimitedSteerdns(workdir, conf, {"example.com": zone}, port, nofile)
    try:
        srv.wait_ready("example.com", timeout=20)
    except Exception:
        srv.stop()
        raise
    return srv


def stop_within(srv, bound):
    """SIGTERM; the daemon must exit cleanly within bound seconds; no sanitizer report."""
    t0 = time.monotonic()
    rc = srv.stop(timeout=bound)
    took = time.monotonic() - t0
    log = srv.log()
    assert sdlib.SANITIZER_RE.search(log) is None, log[-6000:]
    assert rc == 0, "exit %r after %.1fs:\n%s" % (rc, took, log[-3000:])


def flood(port, n, threads=4):
    """n TCP connections (connected, silent), opened from several threads at once as a
    flood would; those the kernel refuses are skipped."""
    need = n + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.skip("the test needs %d descriptors, the hard limit is %d" % (need, hard))
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    socks = []
    lock = threading.Lock()

    def connect_some(k):
        for _ in range(k):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(2)
            try:
                s.connect(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            with lock:
                socks.append(s)

    ts = [threading.Thread(target=connect_some, args=(n // threads,)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=60)
    return socks


def udp_answers(srv, tries=5):
    """How many of `tries` UDP queries were answered NOERROR (each within 2 s)."""
    ok = 0
    for _ in range(tries):
        r = srv.query_udp("www.example.com", timeout=2.0)
        ok += r is not None and r.rcode() == 0
    return ok


def tcp_answer_within(srv, bound):
    """Keep trying a TCP query until one is answered or bound seconds pass."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        try:
            r = srv.query_tcp("www.example.com", timeout=2.0)
            if r is not None and r.rcode() == 0:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def check_flood(srv, base_fds, attackers, tcp_during=True):
    # UDP is answered while the attackers hold (or keep knocking at) every TCP slot.
    assert udp_answers(srv) == 5, srv.log()[-3000:]
    if tcp_during:
        # The pool fits the descriptors: a newcomer reclaims an attacker's slot.
        assert tcp_answer_within(srv, 5), srv.log()[-3000:]
    # No spinning: two workers stuck in an accept loop burn ~2 CPU seconds per second; an
    # idle daemon next to a held flood burns next to nothing. 0.5 s over a 2 s window leaves
    # room for a busy machine (and the sanitizers) while catching any spin.
    used = cpu_over(srv.pid, 2.0)
    assert used < 0.5, "daemon used %.2f CPU s in 2 s under the flood:\n%s" % (
        used, srv.log()[-3000:])
    assert srv.alive()
    for s in attackers:
        s.close()
    # The descriptors come back once the attackers leave, and TCP answers again.
    assert tcp_answer_within(srv, 10), srv.log()[-3000:]
    back = srv.wait_for(lambda: fd_count(srv.pid) <= base_fds + 2, timeout=15)
    assert back, "descriptors: %d open, %d before the flood:\n%s\n%s" % (
        fd_count(srv.pid), base_fds, fd_list(srv.pid), srv.steerctl("status").stdout)
    assert udp_answers(srv) == 5


def test_starts_under_the_common_descriptor_limit(tmp_path):
    """The default 1024 connections do not fit under the common soft limit of 1024 beside
    everything else: start with fewer, name both numbers, and a flood of more connections
    than descriptors neither spins nor starves UDP."""
    srv = start(tmp_path, nofile=1024, workers=2)
    try:
        base = fd_count(srv.pid)
        attackers = flood(srv.port, 1200)  # more than fit: the pool reclaims, nothing spins
        assert len(attackers) > 1024
        check_flood(srv, base, attackers)
        log = srv.log()
        lowered = sdlib.log_events(log, "tcp-limit-lowered", tcp_max_connections=1024,
                                   fd_limit=1024)
        assert lowered and int(lowered[0]["serving"]) < 1024, log
    finally:
        stop_within(srv, 5)


def test_small_descriptor_limit_still_starts(tmp_path):
    """Far too few descriptors for any pool: start anyway, one connection per worker."""
    srv = start(tmp_path, nofile=96, workers=2)
    try:
        assert sdlib.log_events(srv.log(), "tcp-limit-lowered", tcp_max_connections=1024,
                                fd_limit=96), srv.log()
        base = fd_count(srv.pid)
        check_flood(srv, base, flood(srv.port, 300))
    finally:
        stop_within(srv, 5)


def test_accept_failing_with_emfile_backs_off(tmp_path):
    """The limit is cut under a running daemon: accept() fails (EMFILE) and the listener
    pauses instead of spinning; UDP is served; TCP comes back when descriptors do."""
    srv = start(tmp_path, workers=2, **{"tcp-max-connections": 1024})
    try:
        base = fd_count(srv.pid)
        limit = base + 16
        subprocess.run(["prlimit", "--pid", str(srv.pid), "--nofile=%d:%d" % (limit, limit)],
                       check=True, timeout=10)
        attackers = flood(srv.port, 600)
        assert len(attackers) > 16
        # Descriptors are exhausted: newcomers wait in the backlog behind the attackers.
        check_flood(srv, base, attackers, tcp_during=False)
        assert sdlib.log_events(srv.log(), "tcp-accept-failed"), srv.log()[-3000:]
        assert "accept-errors 0" not in srv.steerctl("status").stdout
    finally:
        stop_within(srv, 5)


class Dripper:
    """A client announcing a 65,535-byte message and sending it one byte per interval."""

    def __init__(self, port):
        self.sock = sdlib.tcp_connect(port)
        self.sock.sendall(struct.pack("!H", 65535))
        self.started = time.monotonic()
        self.closed_at = None

    def drip(self):
        """One more byte; records when the server closed the connection."""
        if self.closed_at is not None:
            return
        try:
            self.sock.sendall(b"\x00")
            self.sock.setblocking(False)
            try:
                if self.sock.recv(1) == b"":
                    self.closed_at = time.monotonic()
            except BlockingIOError:
                pass
            finally:
                self.sock.setblocking(True)
        except OSError:
            self.closed_at = time.monotonic()


def drip_all(drippers, stop, interval=0.25):
    while not stop.is_set():
        for d in drippers:
            d.drip()
        stop.wait(interval)


def test_slow_drip_cannot_hold_the_pool(tmp_path):
    msg_timeout = 6
    srv = start(tmp_path, workers=1, **{"tcp-max-connections": 4,
                                        "tcp-idle-timeout": "60s",
                                        "tcp-message-timeout": "%ds" % msg_timeout})
    stop = threading.Event()
    drippers = [Dripper(srv.port) for _ in range(4)]  # the whole pool
    t = threading.Thread(target=drip_all, args=(drippers, stop))
    t.start()
    try:
        time.sleep(1.0)
        assert all(d.closed_at is None for d in drippers)
        # A working client is answered long before any dripper's deadline: a slot is
        # reclaimed for it instead of it being refused.
        t0 = time.monotonic()
        r = srv.query_tcp("www.example.com", timeout=3.0)
        took = time.monotonic() - t0
        assert r is not None and r.rcode() == 0, srv.log()[-3000:]
        assert took < 3.0
        # Every dripper is closed by its message deadline, although its bytes keep the
        # idle timer (60 s) from ever firing.
        bound = msg_timeout + 5
        deadline = max(d.started for d in drippers) + bound
        while time.monotonic() < deadline and any(d.closed_at is None for d in drippers):
            time.sleep(0.1)
        for d in drippers:
            assert d.closed_at is not None, "a dripper held its slot for %ds" % bound
            assert d.closed_at - d.started < bound
        status = srv.steerctl("status").stdout
        assert "reclaimed 1 " in status and "slow-closed 3 " in status, status
    finally:
        stop.set()
        t.join(timeout=5)
        for d in drippers:
            d.sock.close()
        stop_within(srv, 5)


def test_message_deadline_not_rearmed_by_bytes(tmp_path):
    """One dripper alone (no pool pressure) is closed by tcp-message-timeout, not later."""
    srv = start(tmp_path, workers=1, **{"tcp-idle-timeout": "60s",
                                        "tcp-message-timeout": "2s"})
    stop = threading.Event()
    d = Dripper(srv.port)
    t = threading.Thread(target=drip_all, args=([d], stop))
    t.start()
    try:
        deadline = d.started + 10
        while time.monotonic() < deadline and d.closed_at is None:
            time.sleep(0.1)
        assert d.closed_at is not None, "a 1-byte-per-0.25s client was never closed"
        assert d.closed_at - d.started >= 1.5
        # a normal client on the same server is unaffected
        assert srv.query_tcp("www.example.com") is not None
    finally:
        stop.set()
        t.join(timeout=5)
        d.sock.close()
        stop_within(srv, 5)


def test_response_deadline_closes_a_client_that_does_not_read(tmp_path):
    """A client that pipelines queries but never reads its answers holds a write in flight:
    it is closed by tcp-message-timeout (a response must be read), not kept forever."""
    srv = start(tmp_path, workers=1, **{"tcp-idle-timeout": "60s",
                                        "tcp-message-timeout": "2s"})
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window fills fast
    try:
        s.settimeout(2)
        s.connect(("127.0.0.1", srv.port))
        q = sdlib.make_query("www.example.com", "TXT").to_wire()
        blob = (struct.pack("!H", len(q)) + q) * 2000
        s.setblocking(False)
        sent, t_end = 0, time.monotonic() + 10
        # send until the server stops reading (its output is stuck behind our window)
        stalled_since = None
        while time.monotonic() < t_end:
            try:
                sent += s.send(blob)
                stalled_since = None
            except BlockingIOError:
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 0.5:
                    break
                time.sleep(0.02)
            except OSError:
                break
        assert sent > 0
        closed = srv.wait_for(lambda: "slow-closed 1 " in srv.steerctl("status").stdout,
                              timeout=8, interval=0.2)
        assert closed, srv.steerctl("status").stdout
        # the server still answers others
        assert srv.query_tcp("www.example.com") is not None
    finally:
        s.close()
        stop_within(srv, 5)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def unread_by_server(port):
    """(connections, bytes): the established TCP sockets on local port `port` (the server's
    side, accepted or still in the accept queue) and the bytes the kernel holds for them that
    the server has not read yet (rx_queue: sdlib.tcp_table)."""
    mine = [t for t in sdlib.tcp_table() if t["state"] == "01" and t["port"] == port]
    return len(mine), sum(t["rx_queue"] for t in mine)


def test_pool_memory_given_back_after_a_flood(tmp_path):
    """Issue 11, defect 5: connections that fill their slot's input (a 60 KB partial
    frame each) make the pool resident; once they are gone, the pages go back to the
    kernel instead of staying resident until the next start."""
    n = 240
    srv = start(tmp_path, workers=2, **{"tcp-max-connections": 1024})
    try:
        assert udp_answers(srv)
        base = rss_kib(srv.pid)
        socks = []
        chunk = b"\x00" * 60000
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            s.sendall(struct.pack("!H", 65000) + chunk)  # a frame that never completes
            socks.append(s)
        # the peak: every connection accepted and every byte read into its slot (a measured
        # event, not a time: the kernel holds nothing unread for the server's sockets)
        assert srv.wait_for(lambda: unread_by_server(srv.port) == (n, 0), timeout=30,
                            interval=0.1), unread_by_server(srv.port)
        peak = rss_kib(srv.pid)
        flood = n * len(chunk) // 1024
        assert peak - base >= flood * 9 // 10, "the flood did not make the pool resident: %d KiB" \
            % (peak - base)
        for s in socks:
            s.close()
        # the slots close (peer EOF) and give their pages back: RSS falls by at least three
        # quarters of the bytes the flood wrote. Measured against the flood, not the growth:
        # the growth also holds what stays: the slot structs and the pages a slot shares with
        # its neighbours, measured at 4 KiB per connection in a release build and 17 under
        # ASan, nearly a quarter of the growth there.
        deadline = time.monotonic() + 30
        now = rss_kib(srv.pid)
        while peak - now < flood * 3 // 4 and time.monotonic() < deadline:
            time.sleep(0.2)
            now = rss_kib(srv.pid)
        assert peak - now >= flood * 3 // 4, (base, peak, now, flood)
        assert udp_answers(srv)
    finally:
        stop_within(srv, 10)
