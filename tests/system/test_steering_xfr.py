"""The steering transfer view reaching plain secondaries (issue 9).

steerdns is the primary of example.com, where api.example.com is steered: pool `primary`
(127.0.0.2) then `backup` (127.0.0.3), real HTTP backends (test_steering.Backend). The NSD,
Knot and BIND secondaries of test_primary.py pull the zone with TSIG and are NOTIFYed. What
they are sent for api is the transfer view: the healthy members of the pool the failover
picks. A health flip is one new serial (journaled, NOTIFYed, fetched by IXFR), after which
each secondary answers the backup; recovery brings the primary back; a restart with health
unchanged keeps the serial; a flapping backend changes the serial at most once per
transfer-hold-down (+1). The AXFR is compared exactly. Every wait is a bounded poll of a
measured event; every process is stopped by its own PID.
"""

import base64
import json
import math
import os
import re
import shutil
import signal
import time

import pytest

import sdlib
import test_primary as tp
from test_steering import BACKENDS, backends, template  # noqa: F401 (backends: a fixture)

ZONE = "example.com."
HEAD = """$ORIGIN example.com.
$TTL 3600
@       SOA ns1 hostmaster 1 7200 3600 1209600 300
@       NS  ns1
ns1     A   127.0.0.1
www     A   192.0.2.80
api     A   127.0.0.2
api     A   127.0.0.3
"""
STATIC = [
    "example.com. 3600 NS ns1.example.com.",
    "ns1.example.com. 3600 A 127.0.0.1",
    "www.example.com. 3600 A 192.0.2.80",
]
PRIMARY, BACKUP = BACKENDS[0], BACKENDS[1]
SLACK = 30  # seconds: bound of every wait on a loaded 2-core machine


def start_primary(workdir, port, sec_ports, bport, hold, primary=(PRIMARY,), head=HEAD,
                  policies=None, update=False, **tkeys):
    zone_path = os.path.join(workdir, "example.com.zone")
    if not os.path.exists(zone_path):
        with open(zone_path, "w") as f:
            f.write(head)
    conf = sdlib.steerdns_config(workdir, port, {"example.com": zone_path})
    conf["keys"] = [{"name": tp.KEY_NAME, "algorithm": "hmac-sha256", "secret": tp.SECRET}]
    z = conf["zones"][0]
    z["notify"] = [{"address": "127.0.0.1:%d" % p, "key": tp.KEY_NAME} for p in sec_ports]
    z["transfer-acl"] = [{"address": "127.0.0.1/32", "key": tp.KEY_NAME}]
    conf["health"] = {"templates": [template(bport, **tkeys)]}
    conf["steering"] = [{
        "name": "api.example.com", "health": "web", "ttl-min": 5, "ttl-max": 30,
        "transfer-hold-down": hold,
        "pools": [{"name": "primary", "members": list(primary)},
                  {"name": "backup", "members": [BACKUP]}]}]
    if policies is not None:
        conf["steering"] = policies
    if update:  # RFC 2136 updates of api's A records, signed with sdlib.UPDATE_KEY
        k = sdlib.UPDATE_KEY
        conf["keys"].append({"name": k.name.to_text(), "algorithm": "hmac-sha256",
                             "secret": base64.b64encode(k.secret).decode()})
        z["update-policy"] = [{"key": sdlib.UPDATE_KEY_NAME, "name": "api.example.com",
                               "types": ["A"]}]
    srv = sdlib.Steerdns(workdir, conf, {"example.com": zone_path}, port)
    srv.wait_ready("example.com")
    return srv


def make_lab(tmp_path, backends, hold, **tkeys):  # noqa: F811
    for b in ("knotd", "nsd", "named"):
        if shutil.which(b) is None:
            pytest.fail("%s is not installed" % b)
    sd_dir = str(tmp_path / "steerdns")
    os.makedirs(sd_dir)
    port = sdlib.free_port()
    ports = {k: sdlib.free_port() for k in ("knotd", "nsd", "named")}
    bport = next(iter(backends.values())).port
    lab = {"dir": sd_dir, "port": port, "ports": ports, "bport": bport, "hold": hold,
           "tkeys": tkeys, "procs": {}}
    lab["procs"]["steerdns"] = start_primary(sd_dir, port, list(ports.values()), bport, hold,
                                             **tkeys)
    makers = {"knotd": tp.knot_secondary, "nsd": tp.nsd_secondary,
              "named": tp.named_secondary}
    for kind, maker in makers.items():
        d = str(tmp_path / kind)
        os.makedirs(d)
        lab["procs"][kind] = maker(d, ports[kind], port)
    return lab


def stop_lab(lab):
    failures = []
    for kind, p in lab["procs"].items():
        rc = p.stop()
        if kind == "steerdns" and (sdlib.SANITIZER_RE.search(p.log()) or rc != 0):
            failures.append("steerdns exit %r\n%s" % (rc, p.log()[-3000:]))
    assert not failures, "\n".join(failures)


@pytest.fixture
def xlab(tmp_path, backends):  # noqa: F811
    labs = []

    def make(hold, **tkeys):
        labs.append(make_lab(tmp_path, backends, hold, **tkeys))
        return labs[-1]

    yield make
    for lab in labs:
        stop_lab(lab)


def primary_axfr(lab):
    return sdlib.axfr_text(lab["port"], ZONE, key=tp.KEY)


def api_lines(addrs):
    return sorted(STATIC + ["api.example.com. 3600 A %s" % a for a in addrs])


def axfr_body(lines):
    """The AXFR lines without the SOA (its serial moves)."""
    return sorted(x for x in lines if " SOA " not in x)


def view(lab):
    out = lab["procs"]["steerdns"].steerctl("steering", "api.example.com", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)["policies"][0]["transfer"] or {}  # null: not computed yet


def wait_serial(lab, want):
    got = tp.wait(lambda: tp.safe_serial(lab["port"]) == want, timeout=SLACK)
    sd = lab["procs"]["steerdns"]
    assert got, "primary never served serial %d (serves %r)\n%s\n%s" % (
        want, tp.safe_serial(lab["port"]), sd.steerctl("steering").stdout, sd.log()[-3000:])


def secondary_api(port):
    r = sdlib.query_parsed(port, "api.example.com.", "A")
    if r is None:
        return None
    return sorted(rd.address for rs in r.answer for rd in rs if rs.rdtype == 1)


def assert_secondaries(lab, serial, addrs, t0):
    """Each secondary serves `serial`, answers api with exactly `addrs` and holds exactly
    the primary's AXFR; returns {kind: seconds from t0}."""
    took = tp.converge(lab, serial, timeout=SLACK, t0=t0)
    for kind, s in took.items():
        assert s is not None, "%s never served serial %d:\n%s" % (
            kind, serial, lab["procs"][kind].log()[-3000:])
    expect = primary_axfr(lab)
    for kind, p in lab["ports"].items():
        assert secondary_api(p) == sorted(addrs), (kind, secondary_api(p))
        assert sdlib.axfr_text(p, ZONE) == expect, kind
    return took


def test_secondaries_follow_failover(xlab, backends):  # noqa: F811
    """The transfer view after start, a flip to the backup and back, and a restart."""
    lab = xlab("1s")
    sd = lab["procs"]["steerdns"]
    # first start: the file (serial 1, both candidates); once both have a verdict the view
    # (the primary pool only) is one change: serial 2
    wait_serial(lab, 2)
    assert axfr_body(primary_axfr(lab)) == api_lines([PRIMARY])
    # the primary's answers: the healthy primary pool
    assert secondary_api(lab["port"]) == [PRIMARY]
    assert_secondaries(lab, 2, [PRIMARY], time.monotonic())
    assert view(lab)["state"] == "current" and view(lab)["hidden"] == 1
    text = sd.steerctl("steering").stdout
    assert "  transfer (1 hidden, current): %s\n" % PRIMARY in text, text

    # the primary backend refuses: one new serial, the backup everywhere
    backends[PRIMARY].set_mode("refuse")
    t0 = time.monotonic()
    wait_serial(lab, 3)
    assert axfr_body(primary_axfr(lab)) == api_lines([BACKUP])
    took = assert_secondaries(lab, 3, [BACKUP], t0)
    print("\nflip -> secondaries answer the backup (s): %s" %
          ", ".join("%s %.3f" % kv for kv in sorted(took.items())))
    time.sleep(2 * 1.0)  # two hold-downs: nothing else changes
    assert tp.serial(lab["port"]) == 3

    # recovery
    backends[PRIMARY].set_mode("200")
    t0 = time.monotonic()
    wait_serial(lab, 4)
    assert axfr_body(primary_axfr(lab)) == api_lines([PRIMARY])
    assert_secondaries(lab, 4, [PRIMARY], t0)
    log = sd.log()
    assert len(sdlib.log_events(log, "steering-view-changed", source="health")) == 3, log[-3000:]
    # the secondaries followed by IXFR
    ixfr = re.findall(r"event=xfr-out zone=example\.com kind=IXFR serial=4 peer=", log)
    assert len(ixfr) >= 3, log[-4000:]
    # the zone's history names the source of each view change (issue 12): health, the name
    hist = sd.steerctl("zone", "history", "example.com.").stdout
    steps = [re.match(r"^(\d+) -> (\d+) \S+ health \(api\.example\.com\) -\d+ \+\d+$", x)
             for x in hist.splitlines() if not x.startswith(";")]
    assert all(steps) and [(int(m[1]), int(m[2])) for m in steps] == [(3, 4), (2, 3), (1, 2)], \
        hist
    # the flip as secondaries saw it: the primary's address left, the backup's came
    out = sd.steerctl("zone", "show-change", "example.com.", "3").stdout
    body = [" ".join(x.split()) for x in out.splitlines()]
    assert "- api.example.com. 3600 IN A %s" % PRIMARY in body, out
    assert "+ api.example.com. 3600 IN A %s" % BACKUP in body, out

    # restart, health unchanged: the journaled view is kept, no new serial
    assert sd.stop() == 0
    lab["procs"]["steerdns"] = sd = start_primary(
        lab["dir"], lab["port"], list(lab["ports"].values()), lab["bport"], lab["hold"])
    assert tp.serial(lab["port"]) == 4
    assert axfr_body(primary_axfr(lab)) == api_lines([PRIMARY])
    assert tp.wait(lambda: view(lab).get("state") == "current", timeout=SLACK), view(lab)
    time.sleep(2 * 1.0)
    assert tp.serial(lab["port"]) == 4, sd.log()[-3000:]
    # the log file goes on across the restart: still the three changes of before
    assert len(sdlib.log_events(sd.log(), "steering-view-changed")) == 3, sd.log()[-3000:]


def test_flapping_backend_bounded_by_hold_down(xlab, backends):  # noqa: F811
    """A backend toggled every 0.3 s for 6 s (rise = fall = 1: every toggle flips its
    health) with transfer-hold-down 2 s: the serial changes at most ceil(6 / 2) + 1 times,
    and the view settles on the final state."""
    hold, duration = 2.0, 6.0
    lab = xlab("2s", rise=1, fall=1)
    wait_serial(lab, 2)
    assert_secondaries(lab, 2, [PRIMARY], time.monotonic())
    start = tp.serial(lab["port"])
    t0 = time.monotonic()
    down = False
    while time.monotonic() - t0 < duration:
        down = not down
        backends[PRIMARY].set_mode("refuse" if down else "200")
        time.sleep(0.3)
    backends[PRIMARY].set_mode("200")
    flapped = time.monotonic() - t0
    during = tp.serial(lab["port"]) - start
    # settled: the primary again, and nothing pending
    assert tp.wait(lambda: view(lab).get("state") == "current" and
                   view(lab).get("records") == [PRIMARY], timeout=SLACK), view(lab)
    end = tp.serial(lab["port"])
    changes = end - start
    bound = math.ceil(flapped / hold) + 1
    print("\nflapping %.1f s, hold-down %.0f s: %d serial changes while flapping (bound %d), "
          "%d with the settling one" % (flapped, hold, during, bound, changes))
    assert during <= bound, (during, bound)
    assert changes <= during + 1, (changes, during)  # the final state, once
    log = lab["procs"]["steerdns"].log()
    stamps = re.findall(r"^(\S+) notice: event=steering-view-changed zone=example\.com "
                        r"name=api\.example\.com ", log, re.M)
    assert len(stamps) == changes + 1, log[-3000:]  # + the first one (serial 2)
    assert_secondaries(lab, end, [PRIMARY], time.monotonic())
    assert axfr_body(primary_axfr(lab)) == api_lines([PRIMARY])


def test_added_candidate_sent_once_up_and_unbound_name_shown(tmp_path, backends):  # noqa: F811
    """A candidate added to the zone file and reloaded is left out of transfers (its own
    serial shows nothing new) until it passes its checks, then sent; a policy removed from
    the config gives the secondaries every record of the name again."""
    third = BACKENDS[2]
    d = str(tmp_path / "sd")
    os.makedirs(d)
    port = sdlib.free_port()
    bport = next(iter(backends.values())).port
    sd = start_primary(d, port, [], bport, "500ms", primary=(PRIMARY, third))
    lab = {"port": port, "procs": {"steerdns": sd}}
    sd = None  # lab["procs"]["steerdns"] is the one to stop
    try:
        sd = lab["procs"]["steerdns"]
        wait_serial(lab, 2)
        assert axfr_body(primary_axfr(lab)) == api_lines([PRIMARY])
        backends[third].set_mode("refuse")
        with open(os.path.join(d, "example.com.zone"), "a") as f:
            f.write("api A %s\n" % third)
        r = sd.steerctl("reload")
        assert r.returncode == 0, r.stdout + r.stderr
        assert tp.serial(port) == 3
        assert axfr_body(primary_axfr(lab)) == api_lines([PRIMARY])
        # down: its verdict keeps it out; nothing changes over several hold-downs
        assert tp.wait(lambda: view(lab).get("state") == "current" and
                       view(lab).get("hidden") == 2, timeout=SLACK), view(lab)
        time.sleep(2.0)
        assert tp.serial(port) == 3 and view(lab)["records"] == [PRIMARY]
        backends[third].set_mode("200")
        wait_serial(lab, 4)
        assert axfr_body(primary_axfr(lab)) == api_lines([PRIMARY, third])
        assert sorted(view(lab)["records"]) == sorted([PRIMARY, third])
        # kill -9: the journal gives back content and view; health unchanged, no view change
        # (the serial moves above the ones reserved before the crash: zone/update.h)
        before = axfr_body(primary_axfr(lab))
        changes = len(sdlib.log_events(sd.log(), "steering-view-changed"))
        os.kill(sd.proc.pid, signal.SIGKILL)  # our own child, by PID
        sd.proc.wait(timeout=10)
        sd.stop()
        lab["procs"]["steerdns"] = sd = start_primary(d, port, [], bport, "500ms",
                                                      primary=(PRIMARY, third))
        after = tp.serial(port)
        assert axfr_body(primary_axfr(lab)) == before
        assert tp.wait(lambda: view(lab).get("state") == "current", timeout=SLACK), view(lab)
        time.sleep(2.0)
        assert tp.serial(port) == after and axfr_body(primary_axfr(lab)) == before
        assert len(sdlib.log_events(sd.log(), "steering-view-changed")) == changes
        # the policy goes: its hidden record is sent again
        sd.config["steering"] = []
        with open(sd.config_path, "w") as f:
            f.write(sdlib.to_yaml(sd.config) + "\n")
        r = sd.steerctl("reload")
        assert r.returncode == 0, r.stdout + r.stderr
        wait_serial(lab, after + 1)
        assert axfr_body(primary_axfr(lab)) == api_lines([PRIMARY, BACKUP, third])
        assert sdlib.log_events(sd.log(), "steering-orphans-shown", zone="example.com")
    finally:
        sd = lab["procs"]["steerdns"]
        rc = sd.stop()
        assert rc == 0 and not sdlib.SANITIZER_RE.search(sd.log()), sd.log()[-3000:]


def test_cname_policy_sends_one_cname(tmp_path, backends):  # noqa: F811
    """candidates: cname — several CNAME records stand at the name for the answers, but a
    secondary must get a valid zone: the transfer view holds one, the healthy target of the
    first pool, and follows failover."""
    head = HEAD.replace("api     A   127.0.0.2\napi     A   127.0.0.3\n",
                        "web CNAME a.cdn\nweb CNAME b.cdn\n"
                        "a.cdn A 127.0.0.2\nb.cdn A 127.0.0.3\n")
    pol = [{"name": "web.example.com", "health": "web", "candidates": "cname",
            "transfer-hold-down": "200ms",
            "pools": [{"name": "primary", "members": [{"target": "a.cdn.example.com",
                                                       "address": PRIMARY}]},
                      {"name": "backup", "members": [{"target": "b.cdn.example.com",
                                                      "address": BACKUP}]}]}]
    d = str(tmp_path / "sd")
    os.makedirs(d)
    port = sdlib.free_port()
    bport = next(iter(backends.values())).port
    lab = {"port": port, "procs": {"steerdns": start_primary(d, port, [], bport, "200ms",
                                                             head=head, policies=pol)}}

    def cnames():
        return [x for x in primary_axfr(lab) if x.startswith("web.")]

    try:
        wait_serial(lab, 2)
        assert cnames() == ["web.example.com. 3600 CNAME a.cdn.example.com."]
        backends[PRIMARY].set_mode("refuse")
        wait_serial(lab, 3)
        assert cnames() == ["web.example.com. 3600 CNAME b.cdn.example.com."]
        # the answers still see both candidates: the backup now
        r = sdlib.query_parsed(port, "web.example.com.", "CNAME")
        assert [rd.target.to_text() for rs in r.answer for rd in rs] == ["b.cdn.example.com."]
    finally:
        sd = lab["procs"]["steerdns"]
        rc = sd.stop()
        assert rc == 0 and not sdlib.SANITIZER_RE.search(sd.log()), sd.log()[-3000:]


def test_candidate_added_by_update_sent_once_up(tmp_path, backends):  # noqa: F811
    """RFC 2136 meets the transfer view: an address a signed update adds to the primary pool
    commits a serial of its own in which secondaries see nothing new; once its checks pass
    the view sends it (one more serial); one whose backend refuses is never sent."""
    third, fourth = BACKENDS[2], BACKENDS[3]
    d = str(tmp_path / "sd")
    os.makedirs(d)
    port = sdlib.free_port()
    bport = next(iter(backends.values())).port
    lab = {"port": port, "procs": {"steerdns": start_primary(
        d, port, [], bport, "200ms", primary=(PRIMARY, third, fourth), update=True)}}
    try:
        wait_serial(lab, 2)
        assert axfr_body(primary_axfr(lab)) == api_lines([PRIMARY])
        backends[fourth].set_mode("refuse")
        upd = sdlib.update_msg(ZONE)
        upd.add("api.example.com.", 3600, "A", third)
        upd.add("api.example.com.", 3600, "A", fourth)
        assert sdlib.send_update(upd, port).rcode() == 0
        assert tp.serial(port) == 3
        assert axfr_body(primary_axfr(lab)) == api_lines([PRIMARY])
        wait_serial(lab, 4)  # the third passed its checks
        assert axfr_body(primary_axfr(lab)) == api_lines([PRIMARY, third])
        assert tp.wait(lambda: view(lab).get("state") == "current", timeout=SLACK), view(lab)
        time.sleep(1.0)  # five hold-downs: the refusing one stays out
        assert tp.serial(port) == 4
        assert axfr_body(primary_axfr(lab)) == api_lines([PRIMARY, third])
    finally:
        sd = lab["procs"]["steerdns"]
        rc = sd.stop()
        assert rc == 0 and not sdlib.SANITIZER_RE.search(sd.log()), sd.log()[-3000:]
