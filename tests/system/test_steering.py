"""System tests of steering (issue 9): policies bound to names, fed by the prober, against
real HTTP backends on 127.0.0.2..127.0.0.9 (one shared port, one thread each) that a test
switches between answering 200, answering 500, hanging and refusing connections.

Timing: templates use jitter 0%, so a backend that starts failing is judged down after
`fall` checks: not before (fall - 1) * interval (the first failing check may come at once)
and, with scheduling slack for a loaded 2-core machine, not after
fall * interval + timeout + 1 s (the issue's bound). Every wait is a bounded poll of a
measured event (an answer changing), never a sleep that assumes a speed.
"""

import base64
import math
import os
import random
import socket
import threading
import time

import dns.rcode
import dns.rdatatype
import pytest

import sdlib

INTERVAL = 0.2
TIMEOUT = 0.5
FALL = 3
RISE = 2
TTL_MIN, TTL_MAX = 5, 30
BACKENDS = ["127.0.0.%d" % i for i in range(2, 10)]


# ---- backends ---------------------------------------------------------------------------

class Backend:
    """An HTTP endpoint on (host, port): mode 200, 500, hang (read the request, never
    answer) or refuse (no listening socket: connections are refused)."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.mode = "200"
        self.sock = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._held = []
        self._listen()
        threading.Thread(target=self._serve, daemon=True).start()

    def _listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(128)
        s.settimeout(0.05)
        self.sock = s

    def set_mode(self, mode):
        with self._lock:
            if mode == "refuse" and self.sock is not None:
                self.sock.close()
                self.sock = None
            elif mode != "refuse" and self.sock is None:
                self._listen()
            self.mode = mode

    def _serve(self):
        while not self._stop.is_set():
            with self._lock:
                s = self.sock
            if s is None:
                time.sleep(0.02)
                continue
            try:
                conn, _ = s.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        try:
            conn.settimeout(2)
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            mode = self.mode
            if mode == "hang":
                self._held.append(conn)  # closed at the end of the test
                return
            status = b"200 OK" if mode == "200" else b"500 Internal Server Error"
            conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n"
                         b"Connection: close\r\n\r\nok")
        except OSError:
            pass
        conn.close()

    def close(self):
        self._stop.set()
        with self._lock:
            if self.sock is not None:
                self.sock.close()
                self.sock = None
        for c in self._held:
            c.close()


def _port_free_on_all(port):
    socks = []
    try:
        for h in BACKENDS:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((h, port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


@pytest.fixture
def backends():
    """{address: Backend} on 127.0.0.2..9, one port for all (the template's)."""
    for _ in range(200):
        port = random.randint(20000, 60000)
        if _port_free_on_all(port):
            break
    else:
        pytest.fail("no port free on every backend address")
    bs = {h: Backend(h, port) for h in BACKENDS}
    yield bs
    for b in bs.values():
        b.close()


# ---- the daemon -------------------------------------------------------------------------

ZONE_HEAD = """$ORIGIN example.com.
$TTL 3600
@       SOA ns1 hostmaster 1 7200 3600 1209600 300
@       NS  ns1
ns1     A   127.0.0.1
"""


def template(port, **keys):
    t = {"name": "web", "type": "http", "port": port, "path": "/", "interval": "200ms",
         "jitter": "0%", "timeout": "500ms", "rise": RISE, "fall": FALL}
    t.update(keys)
    return t


@pytest.fixture
def steer(tmp_path):
    """start(zone_text, policies, port, update_policy=None, **template_keys) ->
    sdlib.Steerdns; with update_policy, RFC 2136 updates signed with sdlib.UPDATE_KEY."""
    started = []

    def start(zone_text, policies, port, update_policy=None, **tkeys):
        workdir = str(tmp_path / ("steerdns%d" % len(started)))
        os.makedirs(workdir)
        zfile = os.path.join(workdir, "example.com.zone")
        with open(zfile, "w") as f:
            f.write(ZONE_HEAD + zone_text)
        dport = sdlib.free_port()
        conf = sdlib.steerdns_config(workdir, dport, {"example.com": zfile})
        conf["health"] = {"templates": [template(port, **tkeys)]}
        conf["steering"] = policies
        if update_policy is not None:
            k = sdlib.UPDATE_KEY
            conf["keys"] = [{"name": k.name.to_text(), "algorithm": "hmac-sha256",
                             "secret": base64.b64encode(k.secret).decode()}]
            conf["zones"][0]["update-policy"] = update_policy
        srv = sdlib.Steerdns(workdir, conf, {"example.com": zfile}, dport)
        started.append(srv)
        srv.wait_ready("example.com")
        return srv

    yield start
    failures = []
    for srv in started:
        rc = srv.stop()
        log = srv.log()
        bad = sdlib.SANITIZER_RE.search(log)
        if bad or rc != 0:
            failures.append("exit %r, log:\n%s" % (rc, log[-4000:]))
    assert not failures, "\n".join(failures)


def policy(name, pools=None, **keys):
    p = {"name": name, "health": "web", "ttl-min": TTL_MIN, "ttl-max": TTL_MAX}
    if pools is not None:
        p["pools"] = pools
    p.update(keys)
    return p


def answer(srv, name, qtype="A"):
    """(rcode, [addresses], [ttls]) of the final RRset of type qtype in the answer."""
    r = srv.query(name, qtype)
    assert r is not None, "no answer for %s %s" % (name, qtype)
    addrs, ttls = [], []
    want = dns.rdatatype.from_text(qtype)
    for rrset in r.answer:
        if rrset.rdtype != want:
            continue
        for rd in rrset:
            addrs.append(rd.address)
            ttls.append(rrset.ttl)
    return r.rcode(), addrs, ttls


def check_ttls(ttls):
    for t in ttls:
        assert TTL_MIN <= t <= TTL_MAX, "TTL %d outside [%d, %d]" % (t, TTL_MIN, TTL_MAX)


def wait_answer(srv, name, pred, timeout):
    """Poll until pred(addresses) holds; returns (elapsed seconds, addresses) or fails."""
    t0 = time.monotonic()
    while True:
        rc, addrs, ttls = answer(srv, name)
        check_ttls(ttls)
        if pred(addrs):
            return time.monotonic() - t0, addrs
        if time.monotonic() - t0 > timeout:
            pytest.fail("%s: answers never matched within %.1fs; last %r\n%s" %
                        (name, timeout, addrs, srv.steerctl("steering").stdout))
        time.sleep(0.02)


def steering_json(srv, name=None):
    import json
    args = ["steering"] + ([name] if name else []) + ["--json"]
    out = srv.steerctl(*args)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


def members(srv, name):
    """{address: health} of every member of the policy, from steerctl."""
    pol = steering_json(srv, name)["policies"][0]
    return {m["address"]: m["health"] for p in pol["pools"] for m in p["members"]}


def wait_all_up(srv, name, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(h == "up" for h in members(srv, name).values()):
            return
        time.sleep(0.05)
    pytest.fail("members of %s not all up: %r" % (name, members(srv, name)))


# ---- tests ------------------------------------------------------------------------------

def test_weighted_shares_and_drain_by_weight(steer, backends):
    """20,000 answers over weights 1, 2, 5 and a weight-0 member: the shares pass a
    chi-square test with 2 degrees of freedom at P(chi2 > 27.7) = e^-13.85 = 9.7e-7 (fails by
    chance less than once in a million runs); the weight-0 member is never answered; every
    TTL is within the policy's bounds."""
    port = next(iter(backends.values())).port
    zone = "".join("api A %s\n" % h for h in BACKENDS[:4])
    pol = policy("api.example.com", pools=[{"name": "p", "members": [
        {"address": BACKENDS[0], "weight": 1}, {"address": BACKENDS[1], "weight": 2},
        {"address": BACKENDS[2], "weight": 5}, {"address": BACKENDS[3], "weight": 0}]}])
    srv = steer(zone, [pol], port)
    wait_all_up(srv, "api.example.com")
    weights = {BACKENDS[0]: 1, BACKENDS[1]: 2, BACKENDS[2]: 5}
    counts = {h: 0 for h in BACKENDS[:4]}
    q = sdlib.make_query("api.example.com", "A").to_wire()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    n = 20000
    for i in range(n):
        s.sendto(q, ("127.0.0.1", srv.port))
        r = sdlib.parse(s.recv(4096))
        assert r.rcode() == dns.rcode.NOERROR
        assert len(r.answer) == 1 and len(r.answer[0]) == 1, r
        assert TTL_MIN <= r.answer[0].ttl <= TTL_MAX
        counts[r.answer[0][0].address] += 1
    s.close()
    assert counts[BACKENDS[3]] == 0, counts
    total = sum(weights.values())
    chi = sum((counts[h] - n * w / total) ** 2 / (n * w / total) for h, w in weights.items())
    bound = 2 * math.log(1e6) + 0.05  # df 2: P(chi2 > x) = exp(-x/2)
    assert chi < bound, "chi-square %.2f >= %.2f: %r" % (chi, bound, counts)
    # healthy: the zone's TTL 3600 clamped to ttl-max
    assert answer(srv, "api.example.com")[2] == [TTL_MAX]


@pytest.mark.parametrize("mode", ["refuse", "500", "hang"])
def test_failover_and_back(steer, backends, mode):
    """primary (.2, .3; min-healthy 2) then backup (.4): the backup answers once the primary
    backends fail (refuse, HTTP 500 or hang), within fall*interval+timeout+1s and not before
    (fall-1)*interval; the primary answers again after recovery."""
    port = next(iter(backends.values())).port
    zone = "".join("api A %s\n" % h for h in BACKENDS[:3])
    pol = policy("api.example.com", answers=2, pools=[
        {"name": "primary", "min-healthy": 2, "members": BACKENDS[:2]},
        {"name": "backup", "members": [BACKENDS[2]]}])
    srv = steer(zone, [pol], port)
    wait_all_up(srv, "api.example.com")
    rc, addrs, ttls = answer(srv, "api.example.com")
    assert sorted(addrs) == sorted(BACKENDS[:2]) and ttls == [TTL_MAX, TTL_MAX]
    # one primary member failing drops the pool below min-healthy 2
    backends[BACKENDS[0]].set_mode(mode)
    elapsed, addrs = wait_answer(srv, "api.example.com", lambda a: a == [BACKENDS[2]],
                                 timeout=FALL * INTERVAL + TIMEOUT + 1 + 3)
    first_fail = TIMEOUT if mode == "hang" else 0  # a hung check fails at its timeout
    assert elapsed >= (FALL - 1) * INTERVAL + first_fail - 0.05, elapsed
    assert elapsed <= FALL * INTERVAL + TIMEOUT + 1 + 2, elapsed  # +2: a loaded box
    assert answer(srv, "api.example.com")[2] == [TTL_MIN]  # degraded: ttl-min
    backends[BACKENDS[0]].set_mode("200")
    elapsed, addrs = wait_answer(srv, "api.example.com",
                                 lambda a: sorted(a) == sorted(BACKENDS[:2]),
                                 timeout=RISE * INTERVAL + TIMEOUT + 1 + 3)


def test_all_down_modes(steer, backends):
    """No backend up: `all` answers every candidate, `fallback` the fallback addresses,
    `servfail` SERVFAIL; TTL ttl-min."""
    port = next(iter(backends.values())).port
    for b in backends.values():
        b.set_mode("refuse")
    zone = ("all A 127.0.0.2\nall A 127.0.0.3\n"
            "fb A 127.0.0.2\nfb A 127.0.0.3\n"
            "sf A 127.0.0.2\nsf A 127.0.0.3\nsf TXT \"other types answer\"\n")
    pols = [policy("all.example.com", **{"all-down": "all"}),
            policy("fb.example.com", **{"all-down": "fallback", "fallback": ["192.0.2.99"]}),
            policy("sf.example.com", **{"all-down": "servfail"})]
    srv = steer(zone, pols, port, initial="down")
    rc, addrs, ttls = answer(srv, "all.example.com")
    assert sorted(addrs) == ["127.0.0.2", "127.0.0.3"] and ttls == [TTL_MIN, TTL_MIN]
    rc, addrs, ttls = answer(srv, "fb.example.com")
    assert addrs == ["192.0.2.99"] and ttls == [TTL_MIN]
    assert answer(srv, "sf.example.com")[0] == dns.rcode.SERVFAIL
    # other types at a steered name are not steered
    r = srv.query("sf.example.com", "TXT")
    assert r.rcode() == dns.rcode.NOERROR and len(r.answer) == 1
    # a backend coming up ends all-down for every policy
    backends["127.0.0.3"].set_mode("200")
    for name in ("all.example.com", "fb.example.com", "sf.example.com"):
        wait_answer(srv, name, lambda a: a == ["127.0.0.3"], timeout=RISE * INTERVAL + 4)


def test_drain_with_steerctl_cname_and_wildcard(steer, backends):
    """`steerctl health force-down` drains a member at once (no check needed), a pool at
    once; unforce brings them back; CNAME chains and a wildcard-bound name are steered."""
    port = next(iter(backends.values())).port
    zone = ("api A 127.0.0.2\napi A 127.0.0.3\nalias CNAME api\n"
            "*.edge A 127.0.0.4\n*.edge A 127.0.0.5\n")
    pols = [policy("api.example.com", answers=2,
                   pools=[{"name": "primary", "members": ["127.0.0.2", "127.0.0.3"]}]),
            policy("*.edge.example.com")]
    srv = steer(zone, pols, port)
    wait_all_up(srv, "api.example.com")
    wait_all_up(srv, "*.edge.example.com")
    out = srv.steerctl("health", "force-down", "api.example.com/127.0.0.2")
    assert out.returncode == 0, out.stdout + out.stderr
    for _ in range(50):  # in force as soon as the command returned
        assert answer(srv, "api.example.com")[1] == ["127.0.0.3"]
    r = srv.query("alias.example.com", "A")
    assert [rd.to_text() for rr in r.answer if rr.rdtype == dns.rdatatype.A for rd in rr] == \
        ["127.0.0.3"]
    # the pool forced down too: nothing is up, all-down "all" answers both with ttl-min
    out = srv.steerctl("health", "force-down", "pool:api.example.com/primary")
    assert out.returncode == 0, out.stdout + out.stderr
    rc, addrs, ttls = answer(srv, "api.example.com")
    assert sorted(addrs) == ["127.0.0.2", "127.0.0.3"] and ttls == [TTL_MIN, TTL_MIN]
    # a target's own override wins over its pool's
    srv.steerctl("health", "unforce", "pool:api.example.com/primary")
    assert answer(srv, "api.example.com")[1] == ["127.0.0.3"]
    srv.steerctl("health", "unforce", "api.example.com/127.0.0.2")
    rc, addrs, ttls = answer(srv, "api.example.com")
    assert sorted(addrs) == ["127.0.0.2", "127.0.0.3"] and ttls == [TTL_MAX, TTL_MAX]
    # wildcard: one of the two per answer, the drained one never
    srv.steerctl("health", "force-down", "*.edge.example.com/127.0.0.4")
    for i in range(30):
        rc, addrs, ttls = answer(srv, "n%d.edge.example.com" % i)
        assert addrs == ["127.0.0.5"]
        check_ttls(ttls)
    js = steering_json(srv, "api.example.com")
    assert js["policies"][0]["answer"]["A"]["outcome"] == "healthy"


def test_candidate_added_by_reload_waits_for_checks(steer, backends):
    """A record added to the zone file and reloaded is probed at once and answered only
    after `rise` successful checks (never before (rise - 1) intervals; the others keep being
    answered meanwhile); a record removed from the file stops being probed."""
    port = next(iter(backends.values())).port
    srv = steer("api A 127.0.0.2\napi A 127.0.0.5\n", [policy("api.example.com", answers=4)],
                port)
    wait_all_up(srv, "api.example.com")
    zfile = srv.zones["example.com"]
    with open(zfile, "w") as f:
        f.write(ZONE_HEAD.replace(" 1 7200", " 2 7200") + "api A 127.0.0.2\napi A 127.0.0.3\n")
    out = srv.steerctl("reload")
    assert out.returncode == 0, out.stdout + out.stderr
    t0 = time.monotonic()
    seen = []
    elapsed, addrs = wait_answer(srv, "api.example.com",
                                 lambda a: seen.append(a) or "127.0.0.3" in a,
                                 timeout=RISE * INTERVAL + TIMEOUT + 4)
    assert time.monotonic() - t0 >= (RISE - 1) * INTERVAL - 0.05, seen
    assert sorted(addrs) == ["127.0.0.2", "127.0.0.3"]
    assert all(a == ["127.0.0.2"] for a in seen[:-1]), seen  # .2 served all along
    st = members(srv, "api.example.com")
    assert st == {"127.0.0.2": "up", "127.0.0.3": "up"}, st
    health = srv.steerctl("health").stdout
    assert "api.example.com/127.0.0.5" not in health, health
    assert "api.example.com/127.0.0.3" in health, health


def test_candidate_added_by_update_waits_for_checks(steer, backends):
    """RFC 2136 meets steering: an address a signed update adds at a steered name is probed
    from the commit on and answered only after `rise` successful checks (the name keeps
    answering its healthy members meanwhile); one whose backend refuses is never answered;
    an address the update deletes loses its probe."""
    port = next(iter(backends.values())).port
    backends["127.0.0.4"].set_mode("refuse")
    srv = steer("api A 127.0.0.2\n", [policy("api.example.com", answers=4)], port,
                update_policy=[{"key": sdlib.UPDATE_KEY_NAME, "name": "api.example.com",
                                "types": ["A"]}])
    wait_all_up(srv, "api.example.com")
    upd = sdlib.update_msg("example.com")
    upd.add("api.example.com.", 300, "A", "127.0.0.3")
    upd.add("api.example.com.", 300, "A", "127.0.0.4")
    assert sdlib.send_update(upd, srv.port).rcode() == dns.rcode.NOERROR
    t0 = time.monotonic()
    seen = []
    elapsed, addrs = wait_answer(srv, "api.example.com",
                                 lambda a: seen.append(a) or "127.0.0.3" in a,
                                 timeout=RISE * INTERVAL + TIMEOUT + 4)
    assert time.monotonic() - t0 >= (RISE - 1) * INTERVAL - 0.05, seen
    assert sorted(addrs) == ["127.0.0.2", "127.0.0.3"], addrs
    assert all(a == ["127.0.0.2"] for a in seen[:-1]), seen
    health = srv.steerctl("health").stdout
    assert "api.example.com/127.0.0.3" in health and "api.example.com/127.0.0.4" in health
    # .4 refuses: after `fall` more intervals it is still not answered
    time.sleep((FALL + 1) * INTERVAL)
    assert sorted(answer(srv, "api.example.com")[1]) == ["127.0.0.2", "127.0.0.3"]
    assert members(srv, "api.example.com")["127.0.0.4"] == "down"
    upd = sdlib.update_msg("example.com")
    upd.delete("api.example.com.", "A", "127.0.0.2")
    assert sdlib.send_update(upd, srv.port).rcode() == dns.rcode.NOERROR
    assert answer(srv, "api.example.com")[1] == ["127.0.0.3"]  # at once: the reply came after
    health = srv.steerctl("health").stdout
    assert "api.example.com/127.0.0.2" not in health, health
    assert set(members(srv, "api.example.com")) == {"127.0.0.3", "127.0.0.4"}


def test_steering_report(steer, backends):
    """steerctl steering: pools, members with weight and health, and the answer now."""
    port = next(iter(backends.values())).port
    backends["127.0.0.3"].set_mode("500")
    srv = steer("api A 127.0.0.2\napi A 127.0.0.3\napi AAAA ::1\n",
                [policy("api.example.com", pools=[
                    {"name": "a", "members": [{"address": "127.0.0.2", "weight": 7}]},
                    {"name": "b", "prefixes": ["127.0.0.0/24"]}])], port)
    srv.wait_for(lambda: members(srv, "api.example.com").get("127.0.0.3") == "down", 5)
    srv.wait_for(lambda: members(srv, "api.example.com").get("127.0.0.2") == "up", 5)
    js = steering_json(srv)["policies"][0]
    pools = {p["name"]: p for p in js["pools"]}
    assert pools["a"]["members"] == [{"address": "127.0.0.2", "weight": 7, "health": "up",
                                      "target": "api.example.com/127.0.0.2"}]
    assert [m["health"] for m in pools["b"]["members"]] == ["down"]
    assert [m["address"] for m in pools["other"]["members"]] == ["::1"]
    assert js["answer"]["A"]["records"] == ["127.0.0.2"]
    text = srv.steerctl("steering", "api.example.com").stdout
    assert "pool a" in text and "127.0.0.2" in text and "answer A:" in text
    assert srv.steerctl("steering", "nope.example.com").returncode != 0


def test_config_reload_rebinds_and_bad_config_keeps_running(steer, backends):
    """A reload that drops a policy and renumbers the others: the dropped name answers
    plainly (every record, the zone's TTL), the other keeps being steered with its new
    settings, the dropped policy's targets go; a reload with a policy outside every zone
    fails with file:line and keeps what runs."""
    port = next(iter(backends.values())).port
    zone = ("a A 127.0.0.2\na A 127.0.0.3\nb A 127.0.0.4\nb A 127.0.0.5\n"
            "c A 127.0.0.6\nc A 127.0.0.7\n")
    srv = steer(zone, [policy("a.example.com"), policy("b.example.com")], port)
    wait_all_up(srv, "b.example.com")
    assert len(answer(srv, "a.example.com")[1]) == 1
    conf = dict(srv.config)
    conf["steering"] = [policy("b.example.com", answers=2),
                        policy("c.example.com", **{"all-down": "servfail"})]
    with open(srv.config_path, "w") as f:
        f.write(sdlib.to_yaml(conf) + "\n")
    out = srv.steerctl("reload")
    assert out.returncode == 0, out.stdout + out.stderr
    rc, addrs, ttls = answer(srv, "a.example.com")
    assert sorted(addrs) == ["127.0.0.2", "127.0.0.3"] and ttls == [3600, 3600]
    rc, addrs, ttls = answer(srv, "b.example.com")
    assert sorted(addrs) == ["127.0.0.4", "127.0.0.5"] and ttls == [TTL_MAX, TTL_MAX]
    health = srv.steerctl("health").stdout
    assert "a.example.com/" not in health and "b.example.com/127.0.0.4" in health, health
    # a policy new in the config starts from the template's initial state (up): answered
    # at once, no SERVFAIL while its first checks run
    rc, addrs, ttls = answer(srv, "c.example.com")
    assert rc == dns.rcode.NOERROR and len(addrs) == 1, (rc, addrs)
    # another template for b: its targets are made again (a change of what is probed) and
    # b is steered healthy again once they pass
    conf["health"] = {"templates": [template(port), template(port, name="web2")]}
    conf["steering"] = [policy("b.example.com", answers=2, health="web2")]
    with open(srv.config_path, "w") as f:
        f.write(sdlib.to_yaml(conf) + "\n")
    out = srv.steerctl("reload")
    assert out.returncode == 0, out.stdout + out.stderr
    assert steering_json(srv, "b.example.com")["policies"][0]["health"] == "web2"
    assert srv.wait_for(lambda: answer(srv, "b.example.com")[2] == [TTL_MAX, TTL_MAX],
                        timeout=RISE * INTERVAL + TIMEOUT + 4)
    health = srv.steerctl("health").stdout
    assert health.count("b.example.com/127.0.0.4") == 1 and "c.example.com/" not in health, \
        health
    # a bad config: reported with file:line, nothing changes
    conf["steering"] = [policy("b.example.org")]
    with open(srv.config_path, "w") as f:
        f.write(sdlib.to_yaml(conf) + "\n")
    out = srv.steerctl("reload")
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "steerdns.yaml:" in text and "outside every served zone" in text, text
    rc, addrs, ttls = answer(srv, "b.example.com")
    assert sorted(addrs) == ["127.0.0.4", "127.0.0.5"] and ttls == [TTL_MAX, TTL_MAX]


def cname_answer(srv, name, qtype="A"):
    """(rcode, [CNAME targets], [CNAME TTLs], [addresses]) of a query."""
    r = srv.query(name, qtype)
    assert r is not None
    targets, ttls, addrs = [], [], []
    for rrset in r.answer:
        for rd in rrset:
            if rrset.rdtype == dns.rdatatype.CNAME:
                targets.append(rd.target.to_text())
                ttls.append(rrset.ttl)
            elif rrset.rdtype == dns.rdatatype.A:
                addrs.append(rd.address)
    return r.rcode(), targets, ttls, addrs


def test_cname_candidates_failover(steer, backends):
    """candidates: cname — one CNAME record per target at the steered name, each target
    probed at the address the policy gives: an answer holds one CNAME (and the chain into
    the zone goes on), the backup target once the primary fails, back after recovery."""
    port = next(iter(backends.values())).port
    zone = ("www CNAME a.cdn\nwww CNAME b.cdn\n"
            "a.cdn A 127.0.0.2\nb.cdn A 127.0.0.3\n")
    pol = policy("www.example.com", candidates="cname", pools=[
        {"name": "primary", "members": [{"target": "a.cdn.example.com",
                                         "address": "127.0.0.2"}]},
        {"name": "backup", "members": [{"target": "b.cdn.example.com",
                                        "address": "127.0.0.3"}]}])
    srv = steer(zone, [pol], port)
    wait_all_up(srv, "www.example.com")
    for _ in range(20):
        rc, targets, ttls, addrs = cname_answer(srv, "www.example.com")
        assert targets == ["a.cdn.example.com."] and ttls == [TTL_MAX], (targets, ttls)
        assert addrs == ["127.0.0.2"]
    rc, targets, ttls, addrs = cname_answer(srv, "www.example.com", "CNAME")
    assert targets == ["a.cdn.example.com."]
    js = steering_json(srv, "www.example.com")["policies"][0]
    assert js["answer"]["CNAME"]["records"] == ["a.cdn.example.com."]
    backends["127.0.0.2"].set_mode("500")
    t0 = time.monotonic()
    while True:
        rc, targets, ttls, addrs = cname_answer(srv, "www.example.com")
        check_ttls(ttls)
        if targets == ["b.cdn.example.com."]:
            break
        assert time.monotonic() - t0 < FALL * INTERVAL + TIMEOUT + 1 + 3, targets
        time.sleep(0.02)
    assert time.monotonic() - t0 >= (FALL - 1) * INTERVAL - 0.05
    assert addrs == ["127.0.0.3"] and ttls == [TTL_MIN]
    backends["127.0.0.2"].set_mode("200")
    assert srv.wait_for(lambda: cname_answer(srv, "www.example.com")[1] ==
                        ["a.cdn.example.com."], timeout=RISE * INTERVAL + TIMEOUT + 4)


def test_drain_survives_restart(steer, backends):
    """A member drained with steerctl stays drained after a restart (the prober's state
    file keeps the override; the target made again at start picks it up at once)."""
    port = next(iter(backends.values())).port
    srv = steer("api A 127.0.0.2\napi A 127.0.0.3\n", [policy("api.example.com", answers=2)],
                port)
    wait_all_up(srv, "api.example.com")
    out = srv.steerctl("health", "force-down", "api.example.com/127.0.0.2")
    assert out.returncode == 0, out.stdout + out.stderr
    assert answer(srv, "api.example.com")[1] == ["127.0.0.3"]
    assert srv.stop() == 0
    again = sdlib.Steerdns(srv.workdir, srv.config, srv.zones, srv.port)
    try:
        again.wait_ready("example.com")
        for _ in range(20):
            assert answer(again, "api.example.com")[1] == ["127.0.0.3"]
    finally:
        rc = again.stop()
        log = again.log()
        assert rc == 0 and not sdlib.SANITIZER_RE.search(log), log[-4000:]
