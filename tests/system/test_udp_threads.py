"""UDP off the event loop (server/worker.h): each worker serves each of its UDP sockets with a
thread of its own, which sleeps in a blocking recvmmsg and is woken at stop by shutting the
socket's receiving side. Every socket answers; the counters of all the threads are summed in
`steerctl status`; a stop never waits on a thread blocked in recvmmsg, many times over."""

import os
import re
import shutil
import socket
import subprocess
import time

import pytest

import sdlib

WWW = "192.0.2.80"


def thread_names(pid, want):
    """The process's thread names, sorted, once `want` worker and UDP threads are among them:
    each names itself as it starts, and the answer to the readiness query says only that one
    UDP thread runs. Bounded: at the bound, the names as they are."""
    deadline = time.monotonic() + 10
    while True:
        names = []
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                    names.append(f.read().strip())
            except FileNotFoundError:  # a thread that has just ended
                pass
        ours = sum(n.startswith(("sd-udp", "sd-worker")) for n in names)
        if ours >= want or time.monotonic() > deadline:
            return sorted(names)
        time.sleep(0.05)


def ask(port, host, n):
    """n UDP queries for www, each from a new source port (SO_REUSEPORT spreads them over
    the workers); returns (right answers, queries sent)."""
    q = sdlib.make_query("www.example.com", "A").to_wire()
    ok = sent = 0
    for _ in range(n):
        for _ in range(3):  # a reply lost on a loaded machine: ask again (and count it)
            sent += 1
            wire = sdlib.udp_exchange(q, port, host, timeout=3.0)
            if wire is not None:
                break
        r = sdlib.parse(wire) if wire is not None else None
        if r is not None and [rd.address for rrset in r.answer for rd in rrset] == [WWW]:
            ok += 1
    return ok, sent


def status_field(srv, pattern):
    out = srv.steerctl("status").stdout
    m = re.search(pattern, out)
    assert m, out
    return int(m.group(1))


def test_a_thread_per_udp_socket_counted_together(steerdns_factory):
    srv = steerdns_factory(listen=["127.0.0.1:{port}", "127.0.0.2:{port}"], workers=2)
    names = thread_names(srv.pid, want=6)
    assert [n for n in names if n.startswith("sd-udp")] == \
        ["sd-udp0.0", "sd-udp0.1", "sd-udp1.0", "sd-udp1.1"], names
    assert [n for n in names if n.startswith("sd-worker")] == ["sd-worker0", "sd-worker1"]
    received = status_field(srv, r"udp: received (\d+)")
    sent = status_field(srv, r"udp: received \d+ sent (\d+)")
    ok1, sent1 = ask(srv.port, "127.0.0.1", 20)
    ok2, sent2 = ask(srv.port, "127.0.0.2", 20)
    assert (ok1, ok2) == (20, 20)
    r = srv.query_tcp("www.example.com", "A")
    assert r is not None and [rd.address for rrset in r.answer for rd in rrset] == [WWW]
    # every UDP thread's counters, and the loop's (TCP), are in the sums
    assert status_field(srv, r"udp: received (\d+)") - received == sent1 + sent2
    assert status_field(srv, r"udp: received \d+ sent (\d+)") - sent == sent1 + sent2
    assert status_field(srv, r"queries: \d+ \(udp \d+, tcp (\d+)\)") == 1


def test_stop_wakes_blocked_udp_threads(steerdns_factory):
    """Idle UDP threads sleep in recvmmsg: a stop must wake and join them at once, with
    queries in flight or none, every time."""
    for i in range(8):
        srv = steerdns_factory(listen=["127.0.0.1:{port}", "127.0.0.2:{port}"], workers=2)
        if i % 2:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            q = sdlib.make_query("www.example.com", "A").to_wire()
            for _ in range(50):  # unanswered replies left in our socket: no matter
                s.sendto(q, ("127.0.0.1", srv.port))
            s.close()
        t = time.monotonic()
        rc = srv.stop()
        assert rc == 0, srv.log()[-3000:]
        assert time.monotonic() - t < 2.0, "stop took %.1fs" % (time.monotonic() - t)
        assert not sdlib.SANITIZER_RE.search(srv.log()), srv.log()


def dnsperf_run(port, tmp_path, seconds):
    """dnsperf closed-loop for seconds: 32 queries outstanding, a new one for each answer, as
    fast as the server answers (it is kept busy, and its socket never overflows). Returns
    (sent, completed, lost)."""
    qfile = tmp_path / "queries.txt"
    qfile.write_text("www.example.com A\nnope.example.com A\nexample.com SOA\n")
    r = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(qfile),
                        "-l", str(seconds), "-q", "32", "-c", "2", "-t", "5"],
                       capture_output=True, text=True, timeout=seconds + 30)
    return sdlib.dnsperf_counts(r.stdout + r.stderr)


def test_batch_wait_when_busy_only(steerdns_factory, tmp_path):
    """server.udp-batch-wait (server/udp.h): a UDP thread that is busy and sees 8 datagrams
    come within the wait sleeps before its next receive, so that a batch gathers; one with
    CPU to spare never waits, and 0 turns waiting off. Every query is answered either way.
    The waits are read from `steerctl status`, not timed."""
    if shutil.which("dnsperf") is None:
        pytest.fail("dnsperf not installed (apt-get install dnsperf)")
    # queries one at a time leave the thread idle nearly all the time: no wait
    srv = steerdns_factory()
    assert ask(srv.port, "127.0.0.1", 50)[0] == 50
    assert status_field(srv, r"batch-waits (\d+)") == 0
    assert srv.stop() == 0
    # kept busy by a closed loop (a millisecond's window at 60% on the CPU is enough, even on
    # a loaded machine): the thread waits, and nothing is lost
    srv = steerdns_factory(**{"udp-batch-wait": "1ms"})
    sent, completed, lost = dnsperf_run(srv.port, tmp_path, 2)
    assert sent > 1000 and completed == sent and lost == 0, (sent, completed, lost)
    waits = status_field(srv, r"batch-waits (\d+)")
    assert 0 < waits < sent, (waits, sent)
    assert status_field(srv, r"udp: received (\d+)") >= sent
    assert srv.stop() == 0
    # off: the same load, never a wait
    srv = steerdns_factory(**{"udp-batch-wait": "0"})
    sent, completed, lost = dnsperf_run(srv.port, tmp_path, 2)
    assert sent > 1000 and completed == sent and lost == 0, (sent, completed, lost)
    assert status_field(srv, r"batch-waits (\d+)") == 0
