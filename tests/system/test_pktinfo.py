"""Replies leave from the address the query was sent to (IP_PKTINFO / IPV6_PKTINFO).

A server bound to the wildcard address on a multi-homed host must answer a UDP query from the
address it was asked on, or the client drops the answer. The test runs steerdns and its client
inside a network namespace it creates (`unshare -n`: a loopback interface and nothing else), so
the wildcard bind reaches no real network. steerdns listens on 0.0.0.0 and [::]; the client asks
127.0.0.2, 127.0.0.3, 127.0.0.5 and ::1, and dnspython refuses an answer from any other address
(ignore_unexpected=False raises UnexpectedSource).
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

import sdlib

INSIDE = r"""
import json, os, signal, subprocess, sys, time
import dns.message, dns.query

steerdns, zone, workdir = sys.argv[1:4]
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
log = open(os.path.join(workdir, "steerdns.log"), "w")
d = subprocess.Popen([steerdns, "--listen", "0.0.0.0:5353", "--listen", "[::]:5353",
                      "--zone", "example.com=" + zone, "--workers", "2",
                      "--control", os.path.join(workdir, "ctl.sock"),
                      "--state-dir", os.path.join(workdir, "state")],
                     stdout=log, stderr=subprocess.STDOUT)
results = {}
try:
    q = dns.message.make_query("www.example.com", "A")
    deadline = time.monotonic() + 10
    while True:
        try:
            dns.query.udp(q, "127.0.0.1", port=5353, timeout=0.5)
            break
        except Exception:
            if time.monotonic() > deadline or d.poll() is not None:
                raise
            time.sleep(0.1)
    for addr in ("127.0.0.2", "127.0.0.3", "127.0.0.5", "::1"):
        try:
            r = dns.query.udp(q, addr, port=5353, timeout=2, ignore_unexpected=False)
            results[addr] = [rr.to_text() for rrset in r.answer for rr in rrset]
        except Exception as e:
            results[addr] = "error: %s: %s" % (type(e).__name__, e)
finally:
    d.send_signal(signal.SIGTERM)
    results["exit"] = d.wait(timeout=10)
print(json.dumps(results))
"""


def test_udp_reply_source_is_the_asked_address(tmp_path):
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs unshare and ip (util-linux, iproute2)")
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        # a missing privilege (unprivileged user namespaces off, seccomp), not missing data
        pytest.skip("privilege: cannot create a network namespace here (unshare -n): %s" %
                    probe.stderr.decode().strip())
    script = tmp_path / "inside.py"
    script.write_text(INSIDE)
    zone = os.path.join(sdlib.DATA, "basic.zone")
    out = subprocess.run(["unshare", "-n", sys.executable, str(script), sdlib.binary("steerdns"),
                          zone, str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    log = (tmp_path / "steerdns.log").read_text() if (tmp_path / "steerdns.log").exists() else ""
    assert out.returncode == 0, out.stderr + log
    results = json.loads(out.stdout.strip().splitlines()[-1])
    for addr in ("127.0.0.2", "127.0.0.3", "127.0.0.5", "::1"):
        assert results[addr] == ["192.0.2.80"], (addr, results[addr], log)
    assert results["exit"] == 0, log
    assert not sdlib.SANITIZER_RE.search(log), log
