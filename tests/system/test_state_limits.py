"""Paths and limits that passed --check but could not run (issue 11, defect 5).

- A state-dir so long that the zone's journal, snapshot and base-copy paths would exceed
  PATH_MAX is rejected at config load with file:line (`--check` and the start alike).
- Temporaries a crash left in the state directory (`<zone>.snapshot.tmpXXXXXX`, the base
  copy's `<zone>.file.tmpXXXXXX`, the serial record's `<zone>.serial.tmpXXXXXX`,
  `<zone>.journal.compact`) are removed at the start; other files are left alone.
- A tcp-max-connections whose buffers the machine cannot reserve up front is caught by
  `--check` (and before a start) with file:line, instead of a worker failing to start.
Every process started here is stopped by its own PID; every run has a bounded timeout.
"""

import os
import subprocess

import pytest

import sdlib

ZONE = os.path.join(sdlib.DATA, "basic.zone")


def write_conf(workdir, state_dir=None, **server):
    zone = os.path.join(workdir, "example.com.zone")
    with open(ZONE) as src, open(zone, "w") as dst:
        dst.write(src.read())
    port = sdlib.free_port()
    srv = {"listen": ["127.0.0.1:%d" % port], "workers": 1,
           "control-socket": os.path.join(workdir, "ctl.sock"),
           "state-dir": state_dir or workdir}
    srv.update(server)
    conf = {"server": srv, "zones": [{"name": "example.com", "file": zone}]}
    path = os.path.join(workdir, "steerdns.yaml")
    with open(path, "w") as f:
        f.write(sdlib.to_yaml(conf) + "\n")
    return path, port, conf


def line_of(path, key):
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if line.strip().startswith(key + ":"):
                return i
    raise AssertionError("%s not in %s" % (key, path))


def run(args, cwd, timeout=20):
    return subprocess.run([sdlib.binary("steerdns")] + args, capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, stdin=subprocess.DEVNULL)


def test_overlong_state_dir_is_rejected_at_load(tmp_path):
    """4070 bytes: the directory itself fits in PATH_MAX, its journal's path does not."""
    workdir = str(tmp_path)
    parts, length = [], len(workdir)
    while length < 4070:
        n = min(200, 4070 - length - 1)
        parts.append("d" * n)
        length += n + 1
    state = os.path.join(workdir, *parts)
    assert len(state) == 4070
    conf, _, _ = write_conf(workdir, state_dir=state)
    where = "steerdns.yaml:%d" % line_of(conf, "state-dir")
    for args in (["-c", conf, "--check"], ["-c", conf]):
        r = run(args, workdir)
        assert r.returncode != 0, r.stdout + r.stderr
        assert where in r.stderr and "is 4070 bytes long" in r.stderr, r.stderr
    # the same through --state-dir on the command line
    conf, _, _ = write_conf(workdir)
    r = run(["-c", conf, "--check", "--state-dir", state], workdir)
    assert r.returncode != 0 and "command line: --state-dir" in r.stderr, r.stderr


def test_orphaned_temporaries_are_removed_at_start(tmp_path):
    workdir = str(tmp_path)
    conf, port, cfg = write_conf(workdir)
    srv = sdlib.Steerdns(workdir, cfg, {"example.com": cfg["zones"][0]["file"]}, port)
    srv.wait_ready("example.com")
    assert srv.stop() == 0
    orphans = ["example.com.snapshot.tmpAb12Cd", "example.com.file.tmpXy34Zw",
               "example.com.journal.compact", "example.com.serial.tmpQr56St"]
    keep = ["other.example.snapshot.tmpAb12Cd", "example.com.snapshot.tmpTOOLONG1",
            "example.com.snapshot.bak", "example.com.snapshot.tmp"]
    for name in orphans + keep:
        with open(os.path.join(workdir, name), "w") as f:
            f.write("; half-written\n")
    srv = sdlib.Steerdns(workdir, cfg, {"example.com": cfg["zones"][0]["file"]}, port)
    try:
        srv.wait_ready("example.com")
        left = set(os.listdir(workdir))
        assert not left & set(orphans), sorted(left)
        assert set(keep) <= left, sorted(left)
        log = srv.log()
        for name in orphans:
            assert sdlib.log_events(log, "state-temp-removed", zone="example.com",
                                    file=os.path.join(workdir, name)), log
        assert srv.query_udp("example.com", "SOA") is not None
    finally:
        rc = srv.stop()
    assert rc == 0 and sdlib.SANITIZER_RE.search(srv.log()) is None, srv.log()[-4000:]


def test_tcp_max_connections_that_cannot_start_fails_check(tmp_path):
    with open("/proc/sys/vm/overcommit_memory") as f:
        if f.read().strip() == "1":
            pytest.skip("overcommit_memory=1: any reservation succeeds, the start too")
    workdir = str(tmp_path)
    conf, _, _ = write_conf(workdir, **{"tcp-max-connections": 1000000})
    where = "steerdns.yaml:%d" % line_of(conf, "tcp-max-connections")
    for args in (["-c", conf, "--check"], ["-c", conf]):
        r = run(args, workdir)
        assert r.returncode != 0, r.stdout + r.stderr
        assert where in r.stderr and "1000000 connections" in r.stderr, r.stderr
        assert "cannot reserve" in r.stderr, r.stderr
    # a value that fits passes the same check
    conf, _, _ = write_conf(workdir, **{"tcp-max-connections": 2000})
    r = run(["-c", conf, "--check"], workdir)
    assert r.returncode == 0, r.stderr
