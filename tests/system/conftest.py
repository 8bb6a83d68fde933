"""Fixtures for the steerdns system tests.

- free_port: a loopback port free for UDP and TCP (kernel-chosen, never reused in a run).
- steerdns_factory / steerdns: start the daemon from STEERDNS_BUILD with a config written into
  tmp_path, wait (<= 10 s) until a SOA query answers; at teardown SIGTERM by PID, then assert
  exit code 0 and a log free of ASan/UBSan/LSan reports.
- knotd_factory / knotd: knotd from Debian on 127.0.0.1, rundir and storage in tmp_path.
Only processes started here are ever signalled, and only by their PID.
"""

import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sdlib  # noqa: E402

BASIC_ZONE = os.path.join(sdlib.DATA, "basic.zone")


def _require_binaries():
    for name in ("steerdns", "steerctl"):
        path = sdlib.binary(name)
        if not os.access(path, os.X_OK):
            pytest.fail("%s not built (STEERDNS_BUILD=%s)" % (path, sdlib.build_dir()))


def _check_exit(server, rc):
    log = server.log()
    bad = sdlib.SANITIZER_RE.search(log)
    assert bad is None, "sanitizer report in %s:\n%s" % (server.log_path, log[-6000:])
    assert rc == 0, "%s exited with %r:\n%s" % (server.argv[0], rc, log[-4000:])


@pytest.fixture
def free_port():
    return sdlib.free_port


@pytest.fixture
def steerdns_factory(tmp_path):
    """start(zones={name: path}, copy=True, listen=None, ready_timeout=10.0, **server_keys)
    -> sdlib.Steerdns (ready_timeout: seconds to wait for the first SOA answer; a large zone
    under ASan on a loaded machine needs more).

    Zone files are copied into the test's directory (copy=True) so tests may edit them.
    listen entries may use "{port}" for the port the factory allocated (srv.port); keys with
    dashes are passed as **{"tcp-idle-timeout": "1s"}.
    """
    _require_binaries()
    started = []

    def start(zones=None, copy=True, listen=None, wait_zone=None, host="127.0.0.1",
              ready_timeout=10.0, **server):
        zones = dict(zones or {"example.com": BASIC_ZONE})
        workdir = str(tmp_path / ("steerdns%d" % len(started)))
        os.makedirs(workdir)
        if copy:
            for name, src in list(zones.items()):
                dst = os.path.join(workdir, os.path.basename(src))
                shutil.copyfile(src, dst)
                zones[name] = dst
        port = sdlib.free_port(v6=any("::" in a for a in listen or []))
        if listen:
            listen = [a.format(port=port) for a in listen]
        conf = sdlib.steerdns_config(workdir, port, zones, listen=listen, **server)
        srv = sdlib.Steerdns(workdir, conf, zones, port, host=host)
        started.append(srv)
        srv.wait_ready(wait_zone or next(iter(zones)), timeout=ready_timeout)
        return srv

    yield start
    failures = []
    for srv in started:
        rc = srv.stop()
        try:
            _check_exit(srv, rc)
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "\n".join(failures)


@pytest.fixture
def steerdns(steerdns_factory):
    """steerdns serving tests/system/data/basic.zone as example.com, identity ns1."""
    return steerdns_factory(identity="ns1")


@pytest.fixture
def knotd_factory(tmp_path):
    if shutil.which("knotd") is None:
        pytest.fail("knotd is not installed (Debian package knot)")
    started = []

    def start(zones):
        workdir = str(tmp_path / ("knotd%d" % len(started)))
        os.makedirs(workdir)
        srv = sdlib.Knotd(workdir, zones, sdlib.free_port())
        started.append(srv)
        srv.wait_ready(next(iter(zones)))
        return srv

    yield start
    for srv in started:
        rc = srv.stop()
        assert rc == 0, "knotd exited with %r:\n%s" % (rc, srv.log()[-3000:])
