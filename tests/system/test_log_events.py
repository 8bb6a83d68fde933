"""Event log lines (issue 12, contrib/base/log.h): one logfmt line per event, with fields a
grep or a log shipper can use. A steerdns with an update policy, a steered name whose one
candidate refuses its checks and its zone file in a directory whose name holds a space:

  - a health transition: event=health-down target=... pool=... check=... peer=... failures=N
    reason="..." (the prober's verdict, from the backends of test_steering.py);
  - an RFC 2136 update: event=update-applied with zone, serial, from, peer, key, counts, and
    the commit line event=zone-committed; a refused one with rcode and a quoted reason;
  - a reload of the edited file: event=control-command and event=zone-reloaded with the
    quoted file name;
  - and every line above debug level the daemon wrote is an event line (or an audit record).

Every process is stopped by its own PID; waits are bounded loops on logged events.
"""

import os
import re

import dns.name
import dns.rcode

import sdlib
import test_steering as ts

backends = ts.backends

ZONE = "example.com."
LINE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|warning|notice|info|debug): "
                     r"(.*)$")


def write_zone(path, serial, extra=""):
    with open(path, "w") as f:
        f.write(ts.ZONE_HEAD.replace(" 1 7200 ", " %d 7200 " % serial) +
                "api A 127.0.0.2\napi A 127.0.0.3\n" + extra)


def test_event_lines_carry_their_fields(tmp_path, backends):
    port = next(iter(backends.values())).port
    backends["127.0.0.3"].set_mode("refuse")
    workdir = str(tmp_path / "sd")
    zdir = str(tmp_path / "my zones")
    os.makedirs(workdir)
    os.makedirs(zdir)
    zfile = os.path.join(zdir, "example.com.zone")
    write_zone(zfile, 1)
    dport = sdlib.free_port()
    conf = sdlib.steerdns_update_config(workdir, dport, "example.com", zfile,
                                        [{"key": sdlib.UPDATE_KEY.name.to_text()}],
                                        keys=[sdlib.UPDATE_KEY])
    conf["health"] = {"templates": [ts.template(port)]}
    conf["steering"] = [ts.policy("api.example.com",
                                  pools=[{"name": "main", "members": ["127.0.0.3"]},
                                         {"name": "backup", "members": ["127.0.0.2"]}],
                                  # no transfer view commits: the serials are the test's
                                  **{"transfer-view": "all"})]
    srv = sdlib.Steerdns(workdir, conf, {"example.com": zfile}, dport)
    try:
        srv.wait_ready("example.com")
        ev = lambda *a, **k: sdlib.log_events(srv.log(), *a, **k)  # noqa: E731

        # start: the load names the zone, its serial and the quoted file
        loaded = ev("zone-loaded", zone="example.com", serial=1)
        assert loaded and loaded[0]["file"] == zfile and int(loaded[0]["records"]) >= 5, \
            srv.log()[-3000:]
        assert '"%s"' % zfile in srv.log()  # quoted: the directory name has a space
        assert ev("start", zones=1)

        # a health transition (the candidate that refuses)
        target = "api.example.com/127.0.0.3"
        down = srv.wait_for(lambda: ev("health-down", target=target), timeout=30)
        assert down, srv.log()[-3000:]
        d = down[0]
        assert d["pool"] == "api.example.com/main" and d["check"] == "http", d
        assert d["peer"] == "127.0.0.3:%d" % port and int(d["failures"]) == ts.FALL, d
        assert d["reason"], d
        assert not ev("health-down", target="api.example.com/127.0.0.2")

        # an update: applied (one line, its commit line), then one refused (unsigned)
        m = sdlib.update_msg(ZONE)
        m.add(dns.name.from_text("new", dns.name.from_text(ZONE)), 300, "TXT", '"hello"')
        assert sdlib.send_update(m, srv.port).rcode() == dns.rcode.NOERROR
        applied = ev("update-applied", zone="example.com")
        assert len(applied) == 1, srv.log()[-3000:]
        a = applied[0]
        assert a["serial"] == "2" and a["from"] == "1" and a["key"] == "upd-key", a
        assert a["added"] == "1" and a["removed"] == "0", a
        assert re.match(r"^127\.0\.0\.1:\d+$", a["peer"]), a
        assert ev("zone-committed", zone="example.com", serial=2, added=1, removed=0)
        m = sdlib.update_msg(ZONE, key=None)
        m.add(dns.name.from_text("nope", dns.name.from_text(ZONE)), 300, "A", "192.0.2.9")
        assert sdlib.send_update(m, srv.port).rcode() == dns.rcode.REFUSED
        refused = ev("update-refused", zone="example.com")
        assert len(refused) == 1 and refused[0]["rcode"] == "REFUSED", refused
        assert refused[0]["reason"] and "key" not in refused[0], refused
        assert re.search(r'event=update-refused .* reason="[^"]+"', srv.log())

        # a reload of the edited file: the control command, then the zone's line
        write_zone(zfile, 10, "www A 192.0.2.1\n")
        r = srv.steerctl("reload", "example.com")
        assert r.returncode == 0, r.stdout + r.stderr
        assert ev("control-command", command="reload example.com")
        reloaded = srv.wait_for(lambda: ev("zone-reloaded", zone="example.com"), timeout=10)
        assert reloaded, srv.log()[-3000:]
        z = reloaded[-1]
        assert z["from"] == "2" and int(z["serial"]) > 2 and z["file"] == zfile, z
        # grep-able as the README says: zone=example.com finds each of them
        grep = [x for x in srv.log().splitlines() if "zone=example.com " in x]
        for event in ("zone-loaded", "update-applied", "update-refused", "zone-committed",
                      "zone-reloaded"):
            assert any("event=%s " % event in x for x in grep), event

        # every line above debug is an event line (an audit record is its JSON object)
        bad = []
        for line in srv.log().splitlines():
            m = LINE_RE.match(line)
            if not m or m.group(1) == "debug":
                continue
            if not (m.group(2).startswith("event=") or m.group(2).startswith("audit: {")):
                bad.append(line)
            elif m.group(2).startswith("event="):
                assert sdlib.logfmt(m.group(2)), line
        assert not bad, "\n".join(bad)
    finally:
        rc = srv.stop()
        log = srv.log()
        assert sdlib.SANITIZER_RE.search(log) is None, log[-6000:]
        assert rc == 0, log[-4000:]
    # the stop is logged too
    assert sdlib.log_events(srv.log(), "stopping", signal="SIGTERM")
    assert sdlib.log_events(srv.log(), "stop", exit=0)
