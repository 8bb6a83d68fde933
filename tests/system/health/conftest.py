"""Fixtures for the health prober system tests.

- prober: start tests/unit/health/health_driver (from STEERDNS_BUILD) on a YAML config written
  into tmp_path; it runs the real prober thread and answers line commands (report, force,
  reload, add, remove). At teardown: "quit", wait (<= 10 s, then SIGKILL by PID), assert exit
  code 0 and a log free of sanitizer reports.
- http_server / tcp_listener / pki: the local endpoints of servers.py, closed at teardown.
"""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import sdlib  # noqa: E402
import servers  # noqa: E402


def driver_path():
    return os.path.join(sdlib.build_dir(), "tests", "unit", "health", "health_driver")


class Prober:
    def __init__(self, workdir, config_text, name="health.yaml"):
        self.workdir = str(workdir)
        self.conf = os.path.join(self.workdir, name)
        self.write_config(config_text)
        self.log_path = os.path.join(self.workdir, "prober.log")
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

    def _multi(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        out = []
        while True:
            s = self.proc.stdout.readline()
            assert s, "driver exited:\n" + self.log()[-3000:]
            if s == ".\n":
                return "".join(out)
            out.append(s)

    def report(self):
        return {t["name"]: t for t in json.loads(self._multi("json"))["targets"]}

    def text(self):
        return self._multi("text")

    def target(self, name):
        return self.report().get(name)

    def transitions(self, name):
        """Logged transitions of a target: [(state, count, reason)]."""
        out = []
        for line in self.log().splitlines():
            marker = "health: %s (" % name
            if marker not in line or ") is " not in line:
                continue
            rest = line.split(") is ", 1)[1]
            state, _, rest = rest.partition(" after ")
            count, _, rest = rest.partition(" ")
            reason = rest.split(": ", 1)[1] if ": " in rest else ""
            out.append((state, int(count), reason))
        return out

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
def prober_factory(tmp_path):
    if not os.access(driver_path(), os.X_OK):
        pytest.fail("%s not built (STEERDNS_BUILD=%s)" % (driver_path(), sdlib.build_dir()))
    started = []

    def start(config_text, workdir=None):
        wd = workdir or tmp_path
        p = Prober(wd, config_text)
        started.append(p)
        return p

    yield start
    failures = []
    for p in started:
        rc = p.stop()
        log = p.log()
        bad = sdlib.SANITIZER_RE.search(log)
        if bad or rc != 0:
            failures.append("driver rc=%r\n%s" % (rc, log[-4000:]))
    assert not failures, "\n".join(failures)


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
