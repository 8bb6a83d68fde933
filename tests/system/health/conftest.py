"""Fixtures for the health prober system tests.

- prober_factory: start the real steerdns (from STEERDNS_BUILD) with a config written into the
  test's directory: a server section on a free loopback port, the example.com zone of
  tests/system/data and the `health:` text the test gives. The tests see the prober the way an
  operator does: `steerctl health [--json]`, `steerctl health force-down|force-up|unforce`,
  `steerctl reload`, and the daemon's log (one line per transition). At teardown: SIGTERM by
  PID (<= 10 s, then SIGKILL of that PID), assert exit code 0 and a log free of sanitizer
  reports (so the prober's shutdown is leak-checked under ASan).
- driver_factory: tests/unit/health/health_driver, kept for what the daemon cannot do yet:
  creating and removing run-time targets (health_target_add/remove), which the steering issue
  will drive from the records at steered names. It has no control command on purpose.
- endpoints / pki: the local endpoints and certificates of servers.py, closed at teardown.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import sdlib  # noqa: E402
import servers  # noqa: E402

ZONE = os.path.join(sdlib.DATA, "basic.zone")


def transitions_in(log, name):
    """Logged transitions of a target (event=health-up / health-down lines):
    [(state, count, reason)], in order."""
    out = []
    for e in sdlib.log_events(log, "health-", target=name):
        if e["event"] == "health-down":
            out.append(("DOWN", int(e["failures"]), e.get("reason", "")))
        elif e["event"] == "health-up":
            out.append(("UP", int(e["successes"]), e.get("reason", "")))
    return out


class Daemon(sdlib.ServerProcess):
    """steerdns with a `health:` section; config, zone, control socket and log in workdir."""

    def __init__(self, workdir, health_text, log_name):
        self.workdir = str(workdir)
        self.conf = os.path.join(self.workdir, "steerdns.yaml")
        self.control = os.path.join(self.workdir, "ctl.sock")
        zone = os.path.join(self.workdir, "example.com.zone")
        if not os.path.exists(zone):
            shutil.copyfile(ZONE, zone)
        port = sdlib.free_port()
        self.head = sdlib.to_yaml({
            "server": {"listen": ["127.0.0.1:%d" % port], "workers": 1,
                       "control-socket": self.control, "state-dir": self.workdir},
            "zones": [{"name": "example.com", "file": zone}],
        }) + "\n"
        self.write_config(health_text)
        super().__init__([sdlib.binary("steerdns"), "-c", self.conf],
                         os.path.join(self.workdir, log_name), port, cwd=self.workdir)
        self.wait_ready("example.com")

    def write_config(self, health_text):
        with open(self.conf, "w") as f:
            f.write(self.head + health_text)

    def steerctl(self, *args):
        return subprocess.run([sdlib.binary("steerctl"), "-s", self.control] + list(args),
                              capture_output=True, text=True, timeout=10)

    def health(self, *args):
        """`steerctl health ARGS`: (exit code, stdout + stderr)."""
        r = self.steerctl("health", *args)
        return r.returncode, r.stdout + r.stderr

    def report(self):
        r = self.steerctl("health", "--json")
        assert r.returncode == 0, r.stderr + self.log()[-2000:]
        return {t["name"]: t for t in json.loads(r.stdout)["targets"]}

    def text(self):
        return self.health()[1]

    def target(self, name):
        return self.report().get(name)

    def transitions(self, name):
        return transitions_in(self.log(), name)


def stop_all(started, what):
    """Stop every process a fixture started (by PID); each must exit 0 with a clean log."""
    failures = []
    for d in started:
        rc = d.stop()
        log = d.log()
        if sdlib.SANITIZER_RE.search(log) or rc != 0:
            failures.append("%s rc=%r\n%s" % (what, rc, log[-4000:]))
    assert not failures, "\n".join(failures)


@pytest.fixture
def prober_factory(tmp_path):
    """start(health_text, workdir=None) -> Daemon; a second start in the same workdir is a
    restart (same config, state file and control socket path; a log file of its own)."""
    for name in ("steerdns", "steerctl"):
        if not os.access(sdlib.binary(name), os.X_OK):
            pytest.fail("%s not built (STEERDNS_BUILD=%s)" % (sdlib.binary(name),
                                                              sdlib.build_dir()))
    started = []

    def start(health_text, workdir=None):
        d = Daemon(workdir or tmp_path, health_text, "steerdns%d.log" % len(started))
        started.append(d)
        return d

    yield start
    stop_all(started, "steerdns")


# --- the test driver (run-time targets only) -----------------------------------------------


def driver_path():
    return os.path.join(sdlib.build_dir(), "tests", "unit", "health", "health_driver")


class Driver:
    def __init__(self, workdir, config_text):
        self.workdir = str(workdir)
        self.conf = os.path.join(self.workdir, "health.yaml")
        self.write_config(config_text)
        self.log_path = os.path.join(self.workdir, "driver.log")
        self.log_file = open(self.log_path, "a")
        self.proc = subprocess.Popen([driver_path(), self.conf], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log_file, text=True,
                                     bufsize=1)
        line = self.proc.stdout.readline()
        assert line.strip() == "ready", "driver did not start:\n" + self.log()

    def write_config(self, text):
        with open(self.conf, "w") as f:
            f.write(text)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def cmd(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def report(self):
        self.proc.stdin.write("json\n")
        self.proc.stdin.flush()
        out = []
        while True:
            s = self.proc.stdout.readline()
            assert s, "driver exited:\n" + self.log()[-3000:]
            if s == ".\n":
                break
            out.append(s)
        return {t["name"]: t for t in json.loads("".join(out))["targets"]}

    def target(self, name):
        return self.report().get(name)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log_file.close()
        return self.proc.returncode


@pytest.fixture
def driver_factory(tmp_path):
    if not os.access(driver_path(), os.X_OK):
        pytest.fail("%s not built (STEERDNS_BUILD=%s)" % (driver_path(), sdlib.build_dir()))
    started = []

    def start(config_text):
        d = Driver(tmp_path, config_text)
        started.append(d)
        return d

    yield start
    stop_all(started, "driver")


@pytest.fixture
def endpoints():
    """A list the test appends servers and listeners to; all are closed at teardown."""
    opened = []
    yield opened
    for e in opened:
        e.close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return servers.Pki(tmp_path_factory.mktemp("pki"))
