#!/usr/bin/python3
"""update_bench.py — RFC 2136 update throughput and propagation (issue 8). Run it through
update_bench.sh (which picks the build); not a test.

1. Acknowledged single-record updates per second (each request adds one A record at a new
   name, TSIG hmac-sha256, over UDP like nsupdate; a NOERROR reply counts), from one
   sequential client and from 8 parallel clients (8 processes, each one request at a time),
   against steerdns, knotd and named started here one after the other with their state on
   the same file system, each with its most durable default: steerdns fdatasyncs its journal
   before the reply (one per batch); Knot's journal is LMDB in its default robust mode (one
   fdatasync per commit). BIND 9.18 writes its .jnl WITHOUT any fsync (strace -f shows none
   during a run; there is no option to ask for one), so its figure is what the others would
   do without durability: an upper bound, not a like-for-like rate. Prints each rate and
   steerdns's ratio to the others.
2. Seconds from an update's reply at steerdns until the NSD, Knot and BIND secondaries (the
   ones of tests/system/test_primary.py, NOTIFYed, IXFR) all serve its serial.

Environment: DURATION (seconds per measurement, 10), CLIENTS (parallel clients, 8),
SERVERS ("steerdns knot named"), ROUNDS (propagation samples, 10), BENCH_DIR (parent of the
temporary directory, /var/tmp: must be a real disk for fsync to mean anything), TSIG (1; 0 =
unsigned updates allowed by address), KEEP=1 keeps the directory. Every process started here is
stopped by its PID.
"""

import multiprocessing as mp
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "system"))

import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.rcode  # noqa: E402
import dns.update  # noqa: E402

import sdlib  # noqa: E402

DURATION = float(os.environ.get("DURATION", "10"))
CLIENTS = int(os.environ.get("CLIENTS", "8"))
SERVERS = os.environ.get("SERVERS", "steerdns knot named").split()
ROUNDS = int(os.environ.get("ROUNDS", "10"))
TSIG = os.environ.get("TSIG", "1") != "0"
ZONE = "example.com."
ZONE_TEXT = """$ORIGIN example.com.
$TTL 300
@      IN SOA ns1 hostmaster 2024010101 3600 600 1209600 300
@      IN NS  ns1
ns1    IN A   127.0.0.1
"""


def client(port, prefix, duration, out):
    """One client: one request at a time for `duration` seconds; puts (acked, errors)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5.0)
    origin = dns.name.from_text(ZONE)
    acked = errors = i = 0
    end = time.monotonic() + duration
    while time.monotonic() < end:
        i += 1
        m = dns.update.UpdateMessage(ZONE, keyring=sdlib.UPDATE_KEY if TSIG else None)
        m.add(dns.name.from_text("%s-%d" % (prefix, i), origin), 300, "A",
              "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255))
        wire = m.to_wire()
        s.sendto(wire, ("127.0.0.1", port))
        try:
            while True:
                resp = s.recv(65535)
                if resp[:2] == wire[:2]:
                    break
        except socket.timeout:
            errors += 1
            continue
        if resp[3] & 0x0F == dns.rcode.NOERROR:
            acked += 1
        else:
            errors += 1
    s.close()
    out.put((acked, errors))


def rate(port, nclients, tag):
    q = mp.Queue()
    procs = [mp.Process(target=client, args=(port, "%s-c%d" % (tag, c), DURATION, q))
             for c in range(nclients)]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    res = [q.get(timeout=DURATION + 60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    elapsed = time.monotonic() - t0
    acked = sum(a for a, _ in res)
    errors = sum(e for _, e in res)
    return acked / max(elapsed, DURATION), errors


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(kind, workdir):
    policy = [{"key": sdlib.UPDATE_KEY_NAME}] if TSIG else [{"address": "127.0.0.1/32"}]
    return sdlib.UpdateTarget(kind, workdir, ZONE_TEXT, policy=policy,
                              allow_unsigned=not TSIG)


def throughput(base):
    results = {}
    for kind in SERVERS:
        t = start(kind, os.path.join(base, kind))
        try:
            c0 = cpu_seconds(t.proc.pid)
            r1, e1 = rate(t.port, 1, "seq")
            c1 = cpu_seconds(t.proc.pid)
            r8, e8 = rate(t.port, CLIENTS, "par")
            c2 = cpu_seconds(t.proc.pid)
            serial = t.serial()
        finally:
            t.stop()
        results[kind] = (r1, r8)
        # server CPU per acknowledged update: tells a server-bound rate from a client-bound
        # one (the clients are Python processes on the same cores)
        print("%-9s 1 client %8.1f updates/s (%.3f ms CPU each)   %d clients %8.1f updates/s "
              "(%.3f ms CPU each)   errors %d/%d, final serial %s" % (
                  kind, r1, 1000 * (c1 - c0) / max(1, r1 * DURATION), CLIENTS, r8,
                  1000 * (c2 - c1) / max(1, r8 * DURATION), e1, e8, serial), flush=True)
    if "steerdns" in results:
        s1, s8 = results["steerdns"]
        for kind in SERVERS:
            if kind == "steerdns":
                continue
            k1, k8 = results[kind]
            print("steerdns / %-6s 1 client x%.2f   %d clients x%.2f%s" % (
                kind, s1 / k1 if k1 else float("inf"), CLIENTS,
                s8 / k8 if k8 else float("inf"),
                "   (named does not fsync its journal)" if kind == "named" else ""))
    return results


def propagation(base):
    import test_primary as tp
    for b in ("knotd", "nsd", "named"):
        if shutil.which(b) is None:
            print("propagation: %s not installed, skipped" % b)
            return
    import test_update_xfr as tux
    sd_dir = os.path.join(base, "prop-steerdns")
    os.makedirs(sd_dir)
    port = sdlib.free_port()
    ports = {k: sdlib.free_port() for k in ("knotd", "nsd", "named")}
    procs = {"steerdns": tux.start_primary(sd_dir, port, list(ports.values()))}
    makers = {"knotd": tp.knot_secondary, "nsd": tp.nsd_secondary,
              "named": tp.named_secondary}
    try:
        for kind, maker in makers.items():
            d = os.path.join(base, "prop-" + kind)
            os.makedirs(d)
            procs[kind] = maker(d, ports[kind], port)
        lab = {"port": port, "ports": ports}
        first = tp.serial(port)
        took = tp.converge(lab, first, timeout=60)
        if any(v is None for v in took.values()):
            print("propagation: secondaries did not load the zone: %r" % took)
            return
        samples = {k: [] for k in ports}
        for i in range(ROUNDS):
            m = sdlib.update_msg(ZONE)
            m.add(dns.name.from_text("prop-%d.example.com." % i), 300, "A", "192.0.2.1")
            r = sdlib.send_update(m, port)
            t0 = time.monotonic()
            assert r.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(r.rcode())
            took = tp.converge(lab, first + 1 + i, timeout=30, t0=t0)
            for k, v in took.items():
                samples[k].append(v if v is not None else float("nan"))
            time.sleep(0.2)
        alls = [max(vals) for vals in zip(*samples.values())]
        for k, v in sorted(samples.items()):
            print("propagation to %-6s median %.3f s  max %.3f s" % (
                k, statistics.median(v), max(v)))
        print("propagation to all three: median %.3f s  max %.3f s  (%d updates)" % (
            statistics.median(alls), max(alls), ROUNDS))
    finally:
        for p in procs.values():
            p.stop()


def main():
    parent = os.environ.get("BENCH_DIR", "/var/tmp")
    base = tempfile.mkdtemp(prefix="steerdns-update-bench.", dir=parent)
    print("update_bench: %s, build %s, %g s per measurement, TSIG %s" % (
        base, sdlib.build_dir(), DURATION, "on" if TSIG else "off"), flush=True)
    try:
        throughput(base)
        propagation(base)
    finally:
        if os.environ.get("KEEP") == "1":
            print("kept %s" % base)
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
