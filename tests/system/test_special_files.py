"""Special files where the daemon reads or replaces a file (issue 11, defect 3).

A FIFO (and, as root, a character device node made with mknod in the test's own directory,
like /dev/zero) as the config file, a key's secret-file, a health ca-file or the health
state-file: `--check`, the start and a reload each fail at once with the file and the reason
("is a FIFO, not a regular file"), nothing blocks in open() (every run here has a bounded
timeout), the daemon still stops on SIGTERM, and a `force-down` never replaces a special
state-file by rename.
Every process started here is stopped by its own PID.
"""

import os
import signal
import stat
import subprocess
import time

import pytest

import sdlib

ZONE = os.path.join(sdlib.DATA, "basic.zone")
SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ=="
FIFO_WHY = "is a FIFO, not a regular file"
DEV_WHY = "is a device node, not a regular file"


def make_special(path, kind):
    if kind == "fifo":
        os.mkfifo(path)
        return FIFO_WHY
    if os.geteuid() != 0:
        pytest.skip("mknod of a device node needs root")
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 5))  # the numbers of /dev/zero
    return DEV_WHY


KINDS = ["fifo", "device"]


def server_conf(workdir, port, extra=""):
    zone = os.path.join(workdir, "example.com.zone")
    if not os.path.exists(zone):
        with open(ZONE) as src, open(zone, "w") as dst:
            dst.write(src.read())
    return sdlib.to_yaml({
        "server": {"listen": ["127.0.0.1:%d" % port], "workers": 1,
                   "control-socket": os.path.join(workdir, "ctl.sock"),
                   "state-dir": workdir},
        "zones": [{"name": "example.com", "file": zone}],
    }) + "\n" + extra


def keys_conf(secret_file):
    return ("keys:\n  - name: k1.\n    algorithm: hmac-sha256\n    secret-file: %s\n" %
            secret_file)


def health_conf(state_file=None):
    return ("health:\n" + ("  state-file: %s\n" % state_file if state_file else "") +
            "  templates:\n    - name: t\n      type: tcp\n      interval: 1s\n"
            "  targets:\n    - name: a\n      address: '127.0.0.1'\n      port: 9\n"
            "      template: t\n")


def run(args, cwd, timeout=10):
    """steerdns with args; a hang is a TimeoutExpired (subprocess.run kills its own child)."""
    return subprocess.run([sdlib.binary("steerdns")] + args, capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, stdin=subprocess.DEVNULL)


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def start(workdir, conf_text):
    port = sdlib.free_port()
    conf = os.path.join(workdir, "steerdns.yaml")
    write(conf, server_conf(workdir, port, conf_text))
    srv = sdlib.ServerProcess([sdlib.binary("steerdns"), "-c", conf],
                              os.path.join(workdir, "steerdns.log"), port, cwd=workdir)
    srv.wait_ready("example.com")
    return srv, conf


def ctl(workdir, *args):
    return subprocess.run([sdlib.binary("steerctl"), "-s", os.path.join(workdir, "ctl.sock")] +
                          list(args), capture_output=True, text=True, timeout=10)


def stop_clean(srv):
    rc = srv.stop(timeout=5)
    log = srv.log()
    assert sdlib.SANITIZER_RE.search(log) is None, log[-4000:]
    assert rc == 0, "exit %r:\n%s" % (rc, log[-4000:])


@pytest.mark.parametrize("kind", KINDS)
def test_special_config_file_is_refused(tmp_path, kind):
    conf = str(tmp_path / "steerdns.yaml")
    why = make_special(conf, kind)
    for args in (["-c", conf, "--check"], ["-c", conf]):
        r = run(args, str(tmp_path))
        assert r.returncode != 0, r.stdout + r.stderr
        assert "%s: cannot open: %s" % (conf, why) in r.stderr, r.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_special_secret_file_is_refused(tmp_path, kind):
    secret = str(tmp_path / "k1.secret")
    why = make_special(secret, kind)
    conf = str(tmp_path / "steerdns.yaml")
    write(conf, server_conf(str(tmp_path), sdlib.free_port(), keys_conf("k1.secret")))
    for args in (["-c", conf, "--check"], ["-c", conf]):
        r = run(args, str(tmp_path))
        assert r.returncode != 0, r.stdout + r.stderr
        assert "cannot read '%s': %s" % (secret, why) in r.stderr, r.stderr
        assert "steerdns.yaml:" in r.stderr, r.stderr  # file:line of the secret-file key


@pytest.mark.parametrize("state_file", ["overrides.state", None])
@pytest.mark.parametrize("kind", KINDS)
def test_special_state_file_is_refused(tmp_path, kind, state_file):
    """Named (health.state-file) or the default <state-dir>/health.state."""
    path = str(tmp_path / (state_file or "health.state"))
    why = make_special(path, kind)
    conf = str(tmp_path / "steerdns.yaml")
    write(conf, server_conf(str(tmp_path), sdlib.free_port(), health_conf(state_file)))
    for args in (["-c", conf, "--check"], ["-c", conf]):
        r = run(args, str(tmp_path))
        assert r.returncode != 0, r.stdout + r.stderr
        assert "'%s' %s" % (path, why) in r.stderr, r.stderr
    mode = os.lstat(path).st_mode
    assert stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


@pytest.mark.parametrize("what", ["config", "secret-file"])
def test_reload_onto_a_fifo_fails_fast(tmp_path, what):
    """A reload that meets a FIFO fails at once, steerctl gets the reason, the daemon keeps
    serving and SIGTERM still stops it."""
    workdir = str(tmp_path)
    secret = os.path.join(workdir, "k1.secret")
    write(secret, SECRET + "\n")
    srv, conf = start(workdir, keys_conf("k1.secret"))
    try:
        if what == "config":
            os.rename(conf, conf + ".saved")
            os.mkfifo(conf)
            expect = "%s: cannot open: %s" % (conf, FIFO_WHY)
        else:
            os.unlink(secret)
            os.mkfifo(secret)
            expect = "cannot read '%s': %s" % (secret, FIFO_WHY)
        r = ctl(workdir, "reload")
        assert r.returncode == 1, r.stdout + r.stderr
        assert srv.alive()
        srv.signal(signal.SIGHUP)
        assert wait_for(lambda: srv.log().count(expect) >= 2), srv.log()
        assert srv.query_udp("example.com", "SOA") is not None
    finally:
        stop_clean(srv)


def test_force_down_never_replaces_a_special_state_file(tmp_path):
    """The state file turns into a FIFO after the start: force-down keeps the override in
    memory, reports the file and the reason, and leaves the FIFO where it is."""
    workdir = str(tmp_path)
    srv, _ = start(workdir, health_conf("overrides.state"))
    path = os.path.join(workdir, "overrides.state")
    try:
        os.mkfifo(path)
        r = ctl(workdir, "health", "force-down", "a")
        assert r.returncode == 1, r.stdout + r.stderr
        assert FIFO_WHY in r.stdout + r.stderr, r.stdout + r.stderr
        assert stat.S_ISFIFO(os.lstat(path).st_mode)
        assert sdlib.log_events(srv.log(), "health-state-file-failed", file=path,
                                reason=FIFO_WHY), srv.log()[-3000:]
        assert srv.query_udp("example.com", "SOA") is not None
    finally:
        stop_clean(srv)


@pytest.mark.parametrize("kind", KINDS)
def test_special_ca_file_is_refused(tmp_path, kind):
    """A health template's ca-file is read by OpenSSL at load: never a FIFO or device."""
    ca = str(tmp_path / "ca.pem")
    why = make_special(ca, kind)
    conf = str(tmp_path / "steerdns.yaml")
    text = health_conf().replace("type: tcp\n", "type: https\n      ca-file: ca.pem\n")
    write(conf, server_conf(str(tmp_path), sdlib.free_port(), text))
    for args in (["-c", conf, "--check"], ["-c", conf]):
        r = run(args, str(tmp_path))
        assert r.returncode != 0, r.stdout + r.stderr
        assert "cannot read '%s': %s" % (ca, why) in r.stderr, r.stderr
