"""A large zone never blocks answering (issue 3, "Loading a large zone or a reload never blocks
answering").

steerdns serves a generated zone of RECORDS records (A, AAAA, TXT, MX at h<k>, a CNAME at
c<k>) and a small zone. While one UDP socket sends a query every millisecond, alternating
between the small zone and the large one, the large zone's file is edited (a few records, the
serial left alone) and `steerctl reload` rebuilds it on the control thread. Checked: every
query is answered (one that needs a resend after TIMEOUT counts as lost, and none may be lost),
every answer is right (old or new data, and never old again once new was seen), the slowest
answer during the reload stays under latency_bound(), the new data and a serial raised by
exactly one are served afterwards.

Measured and printed (run with -s): time to start with the large zone, the reload (steerctl
round trip, and from the daemon's log: file read to publish, publish to done), when the new
data was first answered, the daemon's RSS (and peak) before and after, and the latencies.

Size: 200,000 records; 100,000 when the build under test is sanitized (ASan/UBSan make zone
loading ~3x slower: 200k took 8 s to start and 11 s to reload on 2 shared cores, too slow for
a ~30 s test and close to the fixture's 10 s start bound). STEERDNS_LARGE_RECORDS overrides.
The zone is generated into tmp_path at test time; nothing large is committed.
"""

import json
import os
import re
import socket
import statistics
import threading
import time
from datetime import datetime, timezone

import dns.rcode
import dns.rdatatype

import sdlib

BIG = "big.test."
SMALL = "small.test."

SMALL_ZONE = """$ORIGIN small.test.
$TTL 300
@	SOA	ns1 hostmaster 1 3600 600 86400 60
@	NS	ns1
ns1	A	127.0.0.1
www	A	192.0.2.1
"""

# The worst answer time allowed while the reload runs. The worker takes no lock and waits for
# nothing the control thread does (one atomic pointer load per query, QSBR grace periods
# waited for by the control thread only), so what remains is CPU contention: on 2 cores the
# control thread, the call_rcu thread freeing the old version and this Python client compete
# with the worker, and a scheduler slice is a few ms. Measured with 200k records: max 5.5 ms
# under ASan (reload 10.7 s), 2 ms in a release build (reload 1.2 s). The bound is a quarter of
# the reload as measured, and at least LATENCY_FLOOR: a worker that waited for any step of the
# reload (a lock, a grace period, an O(n) walk, the snapshot write) would wait about as long as
# that step, while a CI machine busy with other work (one 200 ms miss was seen with five
# compilers beside the suite on 2 cores) stays well inside it. The reload must take at least
# twice the bound, asserted below, or the test could not tell the two apart.
LATENCY_FLOOR = 0.200


def latency_bound(reload_s):
    return max(LATENCY_FLOOR, reload_s / 4)


TIMEOUT = 2.0  # per try; a query that needs the resend counts as lost
PERIOD = 0.001  # one query per millisecond
LOOP_MAX = 120.0  # the query loop never runs longer than this, whatever happens


# ------------------------------------------------------------------------------ the zone


def sanitized_build():
    """True when the build under test was configured with -Db_sanitize (other than none)."""
    intro = os.path.join(sdlib.build_dir(), "meson-info", "intro-buildoptions.json")
    try:
        with open(intro) as f:
            opts = json.load(f)
    except (OSError, ValueError):
        return False
    return any(o.get("name") == "b_sanitize" and o.get("value") not in ("none", "", [])
               for o in opts)


def record_count():
    env = os.environ.get("STEERDNS_LARGE_RECORDS")
    if env:
        return int(env)
    return 100_000 if sanitized_build() else 200_000


def addr_of(k):
    return "10.%d.%d.%d" % ((k >> 16) & 255, (k >> 8) & 255, k & 255)


def txt_of(k):
    return '"rec %d"' % k


def write_zone(path, names, edits=None):
    """names x (A, AAAA, TXT, MX at h<k>; CNAME c<k> -> h<k>), i.e. 5 * names records, plus
    SOA, NS and ns1's A. edits maps (owner, type) to replacement RDATA text (None removes
    the record) and may add ("owner", "type") keys that do not exist. Written next to path
    and renamed over it, so a reload never reads half a file. Returns the RR count."""
    edits = dict(edits or {})
    lines = ["$ORIGIN big.test.", "$TTL 300", "@ SOA ns1 hostmaster 1 3600 600 86400 60",
             "@ NS ns1", "ns1 A 127.0.0.1"]
    for k in range(names):
        h = "h%d" % k
        for rtype, rdata in (("A", addr_of(k)), ("AAAA", "2001:db8::%x:%x" % (k >> 16, k & 0xFFFF)),
                             ("TXT", txt_of(k)), ("MX", "10 mx%d.example.net." % (k % 97))):
            rdata = edits.pop((h, rtype), rdata)
            if rdata is not None:
                lines.append("%s %s %s" % (h, rtype, rdata))
        lines.append("c%d CNAME h%d" % (k, k))
    for (owner, rtype), rdata in edits.items():  # additions
        lines.append("%s %s %s" % (owner, rtype, rdata))
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(tmp, path)
    return sum(1 for ln in lines if not ln.startswith("$"))


# ------------------------------------------------------------------------------ measuring


def proc_mem(pid):
    """(VmRSS, VmHWM) of pid in MiB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) / 1024.0
    return out["VmRSS"], out["VmHWM"]


LOG_TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z (\w+): (.*)$")


def log_times(log, pattern, after=None):
    """Timestamps (seconds, UTC) of the log lines whose message matches pattern."""
    out = []
    for line in log.splitlines():
        m = LOG_TS.match(line)
        if m and re.search(pattern, m.group(3)):
            t = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(
                tzinfo=timezone.utc).timestamp()
            if after is None or t >= after:
                out.append(t)
    return out


class QueryLoop(threading.Thread):
    """One UDP socket, one query in flight, a new one every PERIOD until stop() (bounded by
    LOOP_MAX). Each query waits TIMEOUT for the reply with its ID; without one it is sent
    again once (counted as lost); a second silence is recorded as unanswered."""

    def __init__(self, port, questions):
        super().__init__(daemon=True)
        self.port = port
        self.questions = questions  # [(kind, qname, qtype)]
        self.results = []  # (t_sent, latency, kind, wire)
        self.lost = []  # (t_sent, kind)
        self.unanswered = []
        self._halt = threading.Event()

    def stop(self):
        self._halt.set()
        self.join(LOOP_MAX)

    def exchange(self, sock, wire, qid):
        sock.sendto(wire, ("127.0.0.1", self.port))
        deadline = time.monotonic() + TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            sock.settimeout(left)
            try:
                reply = sock.recv(65535)
            except socket.timeout:
                return None
            if len(reply) >= 2 and int.from_bytes(reply[:2], "big") == qid:
                return reply  # anything else is a late reply to a resent query

    def run(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        wires = [sdlib.make_query(n, t).to_wire() for _, n, t in self.questions]
        start = time.monotonic()
        i = 0
        try:
            while not self._halt.is_set() and time.monotonic() - start < LOOP_MAX:
                kind = self.questions[i % len(self.questions)][0]
                qid = i & 0xFFFF
                wire = qid.to_bytes(2, "big") + wires[i % len(wires)][2:]
                t0 = time.monotonic()
                reply = self.exchange(sock, wire, qid)
                if reply is None:
                    self.lost.append((t0, kind))
                    reply = self.exchange(sock, wire, qid)
                    if reply is None:
                        self.unanswered.append((t0, kind))
                if reply is not None:
                    self.results.append((t0, time.monotonic() - t0, kind, reply))
                i += 1
                pause = start + i * PERIOD - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
        finally:
            sock.close()


def rdatas(msg, rtype):
    return sorted(rd.to_text() for rrset in msg.answer if rrset.rdtype == rtype for rd in rrset)


def soa_serial(srv, zone):
    r = srv.query_udp(zone, "SOA", timeout=2.0)
    assert r is not None and r.answer, "no SOA for %s" % zone
    return r.answer[0][0].serial


# ------------------------------------------------------------------------------ the test


def test_large_zone_reload_never_blocks_answering(steerdns_factory, tmp_path):
    records = record_count()
    names = records // 5
    big_path = str(tmp_path / "big.zone")
    small_path = str(tmp_path / "small.zone")
    with open(small_path, "w") as f:
        f.write(SMALL_ZONE)
    t = time.monotonic()
    rr_count = write_zone(big_path, names)
    gen_s = time.monotonic() - t

    t, wall = time.monotonic(), time.time()
    # every zone loads before the first answer: 200k records (100k under ASan) on a loaded
    # 2-core machine take far more than the factory's default 10 s
    srv = steerdns_factory(zones={SMALL: small_path, BIG: big_path}, copy=False,
                           ready_timeout=180)
    start_s = time.monotonic() - t
    # the workers answer (which the factory waits for) a moment before "started" is logged
    srv.wait_for(lambda: log_times(srv.log(), r"^event=start "), timeout=10)
    log = srv.log()
    loaded = log_times(log, r"^event=zone-loaded zone=big\.test serial=1 records=%d " % rr_count)
    assert loaded, "the large zone was not loaded with %d records:\n%s" % (rr_count, log[-3000:])
    started = log_times(log, r"^event=start ")
    assert started, log[-3000:]
    serial0 = soa_serial(srv, BIG)
    rss0, hwm0 = proc_mem(srv.pid)

    # the names the loop asks for, and the edit: a changed A (the name the loop watches), a
    # changed TXT, a removed MX, a new name; the SOA serial in the file stays 1
    watched, txt_k, mx_k, far = 7, names // 2, names // 3, names - 1
    new_addr = "198.51.100.7"
    edits = {("h%d" % watched, "A"): new_addr, ("h%d" % txt_k, "TXT"): '"edited"',
             ("h%d" % mx_k, "MX"): None, ("added", "A"): "198.51.100.99"}
    questions = [("small", "www." + SMALL, "A"),
                 ("watched", "h%d.%s" % (watched, BIG), "A"),
                 ("far", "h%d.%s" % (far, BIG), "TXT"),
                 ("cname", "c%d.%s" % (names // 4, BIG), "A")]

    loop = QueryLoop(srv.port, questions)
    loop.start()
    try:
        time.sleep(0.3)  # answers before the reload, for comparison
        edited_count = write_zone(big_path, names, edits)
        wall0, t_reload0 = time.time(), time.monotonic()
        rl = srv.steerctl("reload", timeout=120)
        t_reload1 = time.monotonic()
        time.sleep(0.3)  # and after it
    finally:
        loop.stop()
    assert not loop.is_alive(), "the query loop did not stop"
    reload_s = t_reload1 - t_reload0
    assert rl.returncode == 0 and "reloaded" in rl.stdout, (rl.stdout, rl.stderr)

    # --- every query answered, none lost, every answer right
    assert not loop.unanswered, "queries never answered: %r" % loop.unanswered[:10]
    assert not loop.lost, "%d queries needed a resend after %.0f s (first: %r)" % (
        len(loop.lost), TIMEOUT, loop.lost[:10])
    assert len(loop.results) > 200, "the loop barely ran: %d answers" % len(loop.results)
    old_addr = addr_of(watched)
    first_new = None
    for t0, _, kind, wire in loop.results:
        msg = sdlib.parse(wire)
        assert msg.rcode() == dns.rcode.NOERROR, (kind, msg.to_text())
        if kind == "small":
            assert rdatas(msg, dns.rdatatype.A) == ["192.0.2.1"], msg.to_text()
        elif kind == "far":
            assert rdatas(msg, dns.rdatatype.TXT) == [txt_of(far)], msg.to_text()
        elif kind == "cname":  # the CNAME and the target's A in one answer (RFC 1034 4.3.2)
            assert rdatas(msg, dns.rdatatype.CNAME) == ["h%d.%s" % (names // 4, BIG)]
            assert rdatas(msg, dns.rdatatype.A) == [addr_of(names // 4)], msg.to_text()
        else:
            got = rdatas(msg, dns.rdatatype.A)
            if first_new is None and got == [new_addr]:
                first_new = t0
            # one worker, versions published in order: once new, never old again
            assert got == ([new_addr] if first_new is not None else [old_addr]), (
                t0 - t_reload0, got)
    assert first_new is not None, "the edited A never showed during the loop"

    # --- latency while the reload ran
    lat_all = [lat for _, lat, _, _ in loop.results]
    during = [lat for t0, lat, _, _ in loop.results if t_reload0 <= t0 <= t_reload1]
    assert len(during) > 100, "too few queries during the reload (%d)" % len(during)
    bound = latency_bound(reload_s)
    assert reload_s >= 2 * bound, (
        "the reload took %.3f s: too fast for the %.0f ms bound to show a blocked worker; "
        "raise STEERDNS_LARGE_RECORDS" % (reload_s, bound * 1000))
    worst = max(during)
    assert worst < bound, "an answer took %.1f ms during the %.1f s reload (bound %.0f ms)" % (
        worst * 1000, reload_s, bound * 1000)

    # --- the new data and exactly one new serial afterwards (the file kept serial 1)
    assert soa_serial(srv, BIG) == serial0 + 1
    r = srv.query_udp("h%d.%s" % (txt_k, BIG), "TXT")
    assert rdatas(r, dns.rdatatype.TXT) == ['"edited"'], r.to_text()
    r = srv.query_udp("h%d.%s" % (mx_k, BIG), "MX")  # NODATA: the name keeps A, AAAA, TXT
    assert r.rcode() == dns.rcode.NOERROR and not r.answer and r.authority, r.to_text()
    r = srv.query_udp("added." + BIG, "A")
    assert rdatas(r, dns.rdatatype.A) == ["198.51.100.99"], r.to_text()
    st = srv.steerctl("status").stdout
    assert re.search(r"zone big\.test\.? serial %d records %d " % (serial0 + 1, edited_count),
                     st), st

    # --- measurements
    time.sleep(0.5)  # the old version is retired after its grace period (call_rcu)
    rss1, hwm1 = proc_mem(srv.pid)
    log = srv.log()
    ctl = log_times(log, r'^event=control-command command="?reload')
    ctl = [t for t in ctl if t >= wall0 - 1.0]
    journaled = log_times(log, r"^event=zone-committed zone=big\.test serial=%d from=%d " % (
        serial0 + 1, serial0))
    done = log_times(log, r"^event=zone-reloaded zone=big\.test serial=%d from=\d+ "
                     r"records=%d " % (serial0 + 1, edited_count))
    assert ctl and journaled and done, log[-3000:]
    srt = sorted(lat_all)
    print("\nlarge zone: %d records (%s build), generated in %.2f s" % (
        rr_count, "sanitized" if sanitized_build() else "plain", gen_s))
    print("start with the large zone: %.2f s to the daemon's \"started\" line, %.2f s until a "
          "SOA query answered" % (started[0] - wall, start_s))
    print("reload: steerctl round trip %.2f s; daemon log: read+load+diff+journal %.2f s, "
          "publish+history+snapshot %.2f s" % (reload_s, journaled[0] - ctl[0],
                                               done[0] - journaled[0]))
    print("new data first answered %.2f s after the reload began" % (first_new - t_reload0))
    print("RSS: %.1f MiB before the reload (peak %.1f), %.1f MiB after (peak %.1f)" % (
        rss0, hwm0, rss1, hwm1))
    print("queries: %d answered, %d during the reload, lost %d; latency median %.2f ms, "
          "p99 %.2f ms, max %.2f ms, max during the reload %.2f ms (bound %.0f ms)" % (
              len(srt), len(during), len(loop.lost), statistics.median(srt) * 1000,
              srt[int(len(srt) * 0.99)] * 1000, srt[-1] * 1000, worst * 1000,
              bound * 1000))
