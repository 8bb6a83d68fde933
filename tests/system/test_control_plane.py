"""The control plane during long reloads and against idle clients (issue 11, defect 7).

- A reload parses on a pool thread: while a 200k-record zone reloads, `steerctl status`
  answers ("reload in progress") and SIGTERM stops the daemon within a few seconds (the
  parse checks a cancel flag between records), where it used to wait for the whole reload.
- Idle control connections are bounded and time out: a crowd of them does not lock steerctl
  out.
- A configuration reload that fails shows in `steerctl status` until one applies.
Every process started here is stopped by its own PID; every wait is bounded.
"""

import os
import signal
import socket
import time

import sdlib

BIG = 200000


def write_big(path, serial, last="192.0.2.99"):
    with open(path + ".tmp", "w") as f:
        f.write("$ORIGIN big.test.\n$TTL 300\n@ SOA ns hostmaster %d 3600 600 86400 60\n"
                "@ NS ns\nns A 192.0.2.1\n" % serial)
        f.writelines("h%d A 10.%d.%d.%d\n" % (i, i >> 16, (i >> 8) & 255, i & 255)
                     for i in range(BIG))
        f.write("zlast A %s\n" % last)
    os.rename(path + ".tmp", path)


def start(tmp_path, zones, timeout=180):
    port = sdlib.free_port()
    conf = sdlib.steerdns_config(str(tmp_path), port, zones)
    d = sdlib.Steerdns(str(tmp_path), conf, zones, port)
    d.wait_ready(next(iter(zones)), timeout=timeout)
    return d


def timed_status(d):
    t0 = time.monotonic()
    r = d.steerctl("status", timeout=30)
    return r, time.monotonic() - t0


def test_status_and_sigterm_during_a_long_reload(tmp_path):
    zone = str(tmp_path / "big.test.zone")
    write_big(zone, 1)
    d = start(tmp_path, {"big.test": zone})
    try:
        write_big(zone, 2, last="192.0.2.100")
        d.reload()  # SIGHUP: the parse of 200k records starts on the pool
        seen = d.wait_for(lambda: "reload in progress" in d.steerctl("status").stdout,
                          timeout=20)
        assert seen, d.log()
        r, took = timed_status(d)
        assert r.returncode == 0 and took < 3.0, (r, took)
        # a second reload is refused while one runs, it does not queue behind it
        r = d.steerctl("reload", timeout=30)
        assert "reload in progress" in r.stdout + r.stderr or "reloaded" in r.stdout, r
        if "reload in progress" not in d.steerctl("status").stdout:
            return  # the reload finished before we could test SIGTERM in it (a fast box)
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        rc = d.proc.wait(timeout=30)
        took = time.monotonic() - t0
        assert rc == 0, d.log()
        # a bound for a busy 2-core box under ASan; it used to be the whole reload
        print("SIGTERM during reload: exit after %.2fs" % took)
        assert took < 5.0, "SIGTERM took %.1fs during a reload:\n%s" % (took, d.log())
        assert "reload cancelled" in d.log() or sdlib.log_events(d.log(), "stopping",
                                                                 signal="SIGTERM")
    finally:
        d.stop()


def test_reload_replies_when_done_and_status_is_free(tmp_path):
    zone = str(tmp_path / "big.test.zone")
    write_big(zone, 1)
    d = start(tmp_path, {"big.test": zone})
    try:
        write_big(zone, 2, last="192.0.2.100")
        t0 = time.monotonic()
        import subprocess
        rel = subprocess.Popen([sdlib.binary("steerctl"), "-s", d.control, "reload"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert d.wait_for(lambda: "reload in progress" in d.steerctl("status").stdout,
                          timeout=20), d.log()
        out, _ = rel.communicate(timeout=120)
        assert rel.returncode == 0 and "reloaded" in out, out
        r = d.query("zlast.big.test", "A")
        assert r is not None and "192.0.2.100" in r.to_text(), r
        assert "reload in progress" not in d.steerctl("status").stdout
        assert time.monotonic() - t0 < 120
    finally:
        d.stop()


def small_zone(tmp_path):
    zone = str(tmp_path / "example.com.zone")
    with open(os.path.join(sdlib.DATA, "basic.zone")) as src, open(zone, "w") as dst:
        dst.write(src.read())
    return zone


def test_idle_control_connections_do_not_block_steerctl(tmp_path):
    d = start(tmp_path, {"example.com": small_zone(tmp_path)}, timeout=20)
    idle = []
    try:
        for _ in range(100):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.control)  # blocking: a full listen backlog waits for accept
            s.settimeout(15)
            idle.append(s)
        # the table holds 32: the oldest idle connections were closed to make room
        assert idle[0].recv(1) == b""
        r, took = timed_status(d)
        assert r.returncode == 0 and "zone example.com" in r.stdout, r
        assert took < 5.0, took
        # the ones still open are closed when idle for 5 s: recv sees EOF
        t0 = time.monotonic()
        assert idle[-1].recv(1) == b""
        assert time.monotonic() - t0 < 15
        assert sdlib.log_events(d.log(), "control-command", command="status"), d.log()[-2000:]
    finally:
        for s in idle:
            s.close()
        assert d.stop() == 0


def test_failed_config_reload_shows_in_status(tmp_path):
    d = start(tmp_path, {"example.com": small_zone(tmp_path)}, timeout=20)
    try:
        with open(d.config_path) as f:
            good = f.read()
        with open(d.config_path, "w") as f:
            f.write(good + "server:\n  bogus-key: 1\n")
        r = d.steerctl("reload")
        assert r.returncode != 0, r
        st = d.steerctl("status").stdout
        assert "configuration: last reload failed" in st, st
        assert "last error: " in st and "steerdns.yaml" in st, st
        assert "zone example.com serial 1" in st, st  # the running configuration stays
        with open(d.config_path, "w") as f:
            f.write(good)
        r = d.steerctl("reload")
        assert r.returncode == 0, r
        assert "last reload failed" not in d.steerctl("status").stdout
    finally:
        d.stop()
