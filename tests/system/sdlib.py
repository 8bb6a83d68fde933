"""sdlib — helpers shared by the steerdns system tests.

Process handling (start, wait until a SOA query answers, stop by PID), free ports, and DNS
query helpers built on dnspython: parsed queries over UDP/TCP and raw byte exchanges for
malformed input. Everything talks to 127.0.0.1 / ::1 only, and every wait is bounded.
"""

import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import time

import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rcode

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.join(HERE, "data")

# A sanitizer report in a daemon log is always a failure, whatever the exit code.
SANITIZER_RE = re.compile(
    r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
    r"WARNING: ThreadSanitizer|SUMMARY: (Address|Undefined|Leak)Sanitizer)"
)


def build_dir():
    """The meson build directory whose binaries are under test."""
    return os.path.abspath(os.environ.get("STEERDNS_BUILD", os.path.join(ROOT, "build-systest")))


def binary(name):
    """Path of server/<name> in the build under test (steerdns, steerctl)."""
    return os.path.join(build_dir(), "server", name)


# ---------------------------------------------------------------------------------------------
# ports

_issued = set()


def _try_bind(family, host, port):
    """Bind UDP and TCP on (host, port); return the port bound, or None."""
    u = socket.socket(family, socket.SOCK_DGRAM)
    t = socket.socket(family, socket.SOCK_STREAM)
    try:
        u.bind((host, port))
        port = u.getsockname()[1]
        t.bind((host, port))
        return port
    except OSError:
        return None
    finally:
        u.close()
        t.close()


def free_port(v6=False):
    """A port free for both UDP and TCP on loopback, never handed out twice by this process.

    The kernel picks the port (bind to 0), so concurrent test processes get distinct ports
    without any coordination; the set below stops one process from reusing a port that a
    server it started has not bound yet.
    """
    family, host = (socket.AF_INET6, "::1") if v6 else (socket.AF_INET, "127.0.0.1")
    for _ in range(200):
        port = _try_bind(family, host, 0)
        if port is None or port in _issued:
            continue
        # the same port must be free on the other family too when a test listens on both
        if _try_bind(socket.AF_INET if v6 else socket.AF_INET6,
                     "127.0.0.1" if v6 else "::1", port) is None and has_ipv6():
            continue
        _issued.add(port)
        return port
    raise RuntimeError("no free port found")


_ipv6 = None


def has_ipv6():
    global _ipv6
    if _ipv6 is None:
        try:
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.bind(("::1", 0))
            s.close()
            _ipv6 = True
        except OSError:
            _ipv6 = False
    return _ipv6


# ---------------------------------------------------------------------------------------------
# raw exchanges


def udp_exchange(wire, port, host="127.0.0.1", timeout=2.0):
    """Send one datagram, return the reply bytes or None when nothing came within timeout."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(wire, (host, port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None
    finally:
        s.close()


def recv_exact(sock, n, deadline):
    """Read exactly n bytes; None on EOF/reset/timeout."""
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            chunk = sock.recv(n - len(buf))
        except (socket.timeout, ConnectionResetError):
            return None
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp_read_msg(sock, timeout=2.0):
    """Read one length-prefixed DNS message; None on EOF or timeout."""
    deadline = time.monotonic() + timeout
    hdr = recv_exact(sock, 2, deadline)
    if hdr is None:
        return None
    (n,) = struct.unpack("!H", hdr)
    return recv_exact(sock, n, deadline)


def tcp_connect(port, host="127.0.0.1", timeout=2.0):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def tcp_exchange(wire, port, host="127.0.0.1", timeout=2.0):
    """One framed query on a new connection; the reply bytes or None."""
    s = tcp_connect(port, host, timeout)
    try:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        return tcp_read_msg(s, timeout)
    finally:
        s.close()


def wait_closed(sock, timeout):
    """True when the peer closes (EOF or reset) within timeout, False otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            return False
        try:
            if sock.recv(65535) == b"":
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True


def parse(wire):
    """Parse a response keeping every RR separate and tolerating TC."""
    return dns.message.from_wire(wire, one_rr_per_rrset=True, raise_on_truncation=False)


def make_query(qname, qtype="A", rd=False, **kw):
    q = dns.message.make_query(qname, qtype, **kw)
    if not rd:
        q.flags &= ~dns.flags.RD
    return q


def question_bytes(wire):
    """The question section of a message exactly as sent (names there are never compressed
    in our queries, and RFC 1035 4.1.4 lets nothing point forward into them)."""
    off = 12
    while True:
        n = wire[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0:
            off += 2
            break
        off += 1 + n
    return wire[12:off + 4]


# ---------------------------------------------------------------------------------------------
# processes


class ServerProcess:
    """A server this test run started; stopped only through its own PID."""

    def __init__(self, argv, log_path, port, host="127.0.0.1", env=None, cwd=None):
        self.argv = argv
        self.log_path = log_path
        self.port = port
        self.host = host
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        self.pid = self.proc.pid

    def log(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def wait_ready(self, zone, timeout=10.0, host=None):
        """Poll with a SOA query until one answers; raise with the log when it does not."""
        host = host or self.host
        deadline = time.monotonic() + timeout
        q = make_query(zone, "SOA").to_wire()
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError("%s exited with %s during start:\n%s" %
                                   (self.argv[0], self.proc.returncode, self.log()))
            if udp_exchange(q, self.port, host, timeout=0.2) is not None:
                return
            time.sleep(0.05)
        raise RuntimeError("%s did not answer a SOA query within %.0fs:\n%s" %
                           (self.argv[0], timeout, self.log()))

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def stop(self, timeout=10.0):
        """SIGTERM by PID, wait; SIGKILL only our own child if it hangs. Returns exit code."""
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
            rc = "hung (killed after SIGTERM timeout)"
        self._log.close()
        return rc

    # --- DNS helpers ---

    def query(self, qname, qtype="A", tcp=False, host=None, timeout=2.0, **kw):
        """Parsed response to a simple query (RD clear), or None when nothing came back."""
        q = make_query(qname, qtype, **kw)
        wire = (tcp_exchange if tcp else udp_exchange)(q.to_wire(), self.port,
                                                      host or self.host, timeout)
        return None if wire is None else parse(wire)

    def query_udp(self, qname, qtype="A", **kw):
        return self.query(qname, qtype, tcp=False, **kw)

    def query_tcp(self, qname, qtype="A", **kw):
        return self.query(qname, qtype, tcp=True, **kw)

    def raw_udp(self, wire, timeout=1.0):
        return udp_exchange(wire, self.port, self.host, timeout)

    def raw_tcp(self, wire, timeout=1.0):
        return tcp_exchange(wire, self.port, self.host, timeout)


def yaml_scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if re.match(r"^[A-Za-z0-9_/][A-Za-z0-9_./@:-]*$", str(v)) and not str(v).endswith(":"):
        return str(v)
    return '"%s"' % str(v).replace("\\", "\\\\").replace('"', '\\"')


def to_yaml(obj, indent=0):
    """A small YAML emitter for the dict/list/scalar configs the tests write."""
    pad = "  " * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                out.append("%s%s:" % (pad, k))
                out.append(to_yaml(v, indent + 1))
            elif isinstance(v, list):
                out.append("%s%s: []" % (pad, k))
            else:
                out.append("%s%s: %s" % (pad, k, yaml_scalar(v)))
    else:
        for v in obj:
            if isinstance(v, dict):
                inner = to_yaml(v, indent + 1).split("\n")
                out.append("%s- %s" % (pad, inner[0].lstrip()))
                out.extend(inner[1:])
            else:
                out.append("%s- %s" % (pad, yaml_scalar(v)))
    return "\n".join(out)


class Steerdns(ServerProcess):
    """A running steerdns with its config, zone files and control socket in one directory."""

    def __init__(self, workdir, config, zones, port, host="127.0.0.1"):
        self.workdir = workdir
        self.config_path = os.path.join(workdir, "steerdns.yaml")
        self.config = config
        self.zones = zones  # name -> zone file path
        self.control = config["server"]["control-socket"]
        with open(self.config_path, "w") as f:
            f.write(to_yaml(config) + "\n")
        env = dict(os.environ)
        super().__init__([binary("steerdns"), "-c", self.config_path],
                         os.path.join(workdir, "steerdns.log"), port, host, env=env, cwd=workdir)

    def steerctl(self, *args, timeout=10.0):
        """Run steerctl against this daemon; returns CompletedProcess (text)."""
        return subprocess.run([binary("steerctl"), "-s", self.control] + list(args),
                              capture_output=True, text=True, timeout=timeout)

    def reload(self):
        self.signal(signal.SIGHUP)

    def wait_for(self, predicate, timeout=5.0, interval=0.05):
        """Poll predicate() until true (bounded); returns its last value."""
        deadline = time.monotonic() + timeout
        while True:
            v = predicate()
            if v or time.monotonic() >= deadline:
                return v
            time.sleep(interval)


def steerdns_config(workdir, port, zones, listen=None, **server):
    """A config dict: listen on 127.0.0.1:port, one worker, control socket in workdir."""
    srv = {
        "listen": listen or ["127.0.0.1:%d" % port],
        "workers": 1,
        "control-socket": os.path.join(workdir, "ctl.sock"),
        "state-dir": workdir,
    }
    srv.update(server)
    return {"server": srv, "zones": [{"name": n, "file": p} for n, p in zones.items()]}


class Knotd(ServerProcess):
    """knotd from Debian with a generated config, everything kept inside workdir."""

    def __init__(self, workdir, zones, port):
        conf = os.path.join(workdir, "knot.conf")
        zone_lines = []
        for name, src in zones.items():
            dst = os.path.join(workdir, os.path.basename(src))
            shutil.copyfile(src, dst)
            zone_lines.append("  - domain: %s\n    file: %s\n" % (name, dst))
        with open(conf, "w") as f:
            f.write(
                "server:\n"
                "    listen: 127.0.0.1@%d\n"
                "    rundir: %s\n"
                "    udp-workers: 1\n"
                "    tcp-workers: 1\n"
                "    background-workers: 1\n"
                "database:\n"
                "    storage: %s\n"
                "log:\n"
                "  - target: stderr\n"
                "    any: info\n"
                "template:\n"
                "  - id: default\n"
                "    storage: %s\n"
                # answers must come from the file as written: no checks rewriting it, no
                # signing, no journal or file flushes
                "    semantic-checks: off\n"
                "    zonefile-sync: -1\n"
                "    journal-content: none\n"
                "    dnssec-signing: off\n"
                "zone:\n%s" % (port, workdir, workdir, workdir, "".join(zone_lines)))
        super().__init__(["knotd", "-c", conf], os.path.join(workdir, "knotd.log"), port,
                         cwd=workdir)
