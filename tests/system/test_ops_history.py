"""Change history and rollback (issue 12, "History and rollback").

steerdns is the primary of example.com (test_update_xfr.py's setup: TSIG'd updates, NOTIFY and
transfers to the NSD, Knot and BIND secondaries of test_primary.py). A reload, then updates:
`steerctl zone history` lists them newest first with their sources (reload + the file, update +
the key) and times; `zone show-change` prints one's records. `zone rollback` of an update and
of the reload publishes the older content under a new, higher serial: checked by AXFR on
steerdns and on each secondary, which must have caught up. The rollback is audited, a serial
the journal does not reach is refused (exit 1, naming the oldest), and the rollback survives
kill -9 and a restart (it is journaled). Every process is stopped by its own PID.
"""

import datetime
import json
import os
import re
import signal
import time

import pytest

import sdlib
import test_primary as tp
import test_update_xfr as tux
from test_update_xfr import lab, n, update  # noqa: F401  (the fixture, the helpers)

ZONE = "example.com."
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def content(port):
    """The zone by AXFR, SOA left out (a rollback gives the old content a new serial)."""
    return [x for x in sdlib.axfr_text(port, ZONE, key=tp.KEY) if " SOA " not in x]


def ctl(sd, *args):
    r = sd.steerctl(*args, timeout=60)
    return r.returncode, r.stdout, r.stderr


def history(sd, *extra):
    rc, out, err = ctl(sd, "zone", "history", ZONE, *extra)
    assert rc == 0, out + err
    return out


def check_secondaries(lab, serial, want):
    """Each secondary serves serial with exactly the content want (AXFR), within 60 s."""
    took = tp.converge(lab, serial, timeout=60)
    for kind, t in took.items():
        assert t is not None, "%s never served serial %d:\n%s" % (
            kind, serial, lab["procs"][kind].log()[-3000:])
    for kind, p in lab["ports"].items():
        got = [x for x in sdlib.axfr_text(p, ZONE) if " SOA " not in x]
        assert got == want, "%s: %s" % (kind, sorted(set(got) ^ set(want)))
    return took


def test_history_show_change_and_rollback(lab):
    sd, port = lab["procs"]["steerdns"], lab["port"]
    zone_path = os.path.join(lab["dir"], "example.com.zone")
    first = tp.serial(port)
    at = {first: content(port)}
    t_start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

    # a reload, then two signed updates
    tp.edit_zone(lab, "edited IN A 192.0.2.201\n")
    rc, out, err = ctl(sd, "reload")
    assert rc == 0, out + err
    assert tp.serial(port) == first + 1
    at[first + 1] = content(port)
    update(port, lambda m: m.add(n("dyn"), 300, "A", "192.0.2.200"))
    at[first + 2] = content(port)
    update(port, lambda m: m.replace(n("www"), 60, "A", "192.0.2.81"))
    assert tp.serial(port) == first + 3
    at[first + 3] = content(port)
    check_secondaries(lab, first + 3, at[first + 3])

    # history: newest first, sources and times
    text = history(sd)
    lines = [x for x in text.splitlines() if not x.startswith(";")]
    assert text.startswith("; zone example.com.: serial %d" % (first + 3)), text
    assert len(lines) == 3, text
    key = tux.UPDATE_KEY.name.to_text()
    want = [(first + 2, first + 3, "update", key, 1, 1),
            (first + 1, first + 2, "update", key, 0, 1),
            (first, first + 1, "reload", zone_path, 0, 1)]
    for line, (f, t, kind, detail, rem, add) in zip(lines, want):
        m = re.match(r"^(\d+) -> (\d+) (\S+) (\S+) \((.*)\) -(\d+) \+(\d+)$", line)
        assert m, line
        assert (int(m[1]), int(m[2]), m[4], m[5], int(m[6]), int(m[7])) == \
            (f, t, kind, detail, rem, add), line
        assert ISO.match(m[3]), line
        when = datetime.datetime.strptime(m[3], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
        assert t_start - datetime.timedelta(seconds=5) <= when <= \
            datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5), line
    doc = json.loads(history(sd, "--json", "--limit", "2"))
    assert doc["zone"] == ZONE and doc["serial"] == first + 3 and doc["oldest"] == first
    assert [(c["from"], c["to"], c["source"], c["detail"], c["removed"], c["added"])
            for c in doc["changes"]] == want[:2]
    assert all(ISO.match(c["time"]) for c in doc["changes"])

    # show-change: the records, removed then added, in master-file form
    rc, out, err = ctl(sd, "zone", "show-change", ZONE, str(first + 3))
    assert rc == 0, out + err
    body = [" ".join(x.split()) for x in out.splitlines()]
    assert body[0].startswith("; zone example.com.: %d -> %d " % (first + 2, first + 3)), out
    assert body[1].startswith("- example.com. ") and " SOA " in body[1], out
    assert "- www.example.com. 300 IN A 192.0.2.80" in body, out
    assert "+ www.example.com. 60 IN A 192.0.2.81" in body, out
    signs = [x[0] for x in body[1:]]
    assert signs == sorted(signs, key=lambda c: c != "-"), out  # "-" lines first
    rc, out, err = ctl(sd, "zone", "show-change", ZONE, str(first + 1), "--json")
    assert rc == 0, out + err
    doc = json.loads(out)
    assert doc["source"] == "reload" and doc["detail"] == zone_path
    assert "edited.example.com. 300 IN A 192.0.2.201" in [" ".join(x.split())
                                                          for x in doc["added"]], doc
    rc, out, err = ctl(sd, "zone", "show-change", ZONE, "7")
    assert rc == 1 and "no change set to serial 7" in err, out + err

    # rollback of the last update: the content of first + 2 under a new serial
    rc, out, err = ctl(sd, "zone", "rollback", ZONE, str(first + 2))
    assert rc == 0, out + err
    assert "serial %d -> %d" % (first + 3, first + 4) in out, out
    assert tp.serial(port) == first + 4
    assert content(port) == at[first + 2]
    check_secondaries(lab, first + 4, at[first + 2])

    # rollback of the reload and the first update: the file's old content
    rc, out, err = ctl(sd, "zone", "rollback", ZONE, str(first))
    assert rc == 0, out + err
    assert tp.serial(port) == first + 5
    assert content(port) == at[first]
    took = check_secondaries(lab, first + 5, at[first])
    print("\nsecondaries after a rollback (s): %s" % ", ".join(
        "%s %.3f" % kv for kv in sorted(took.items())))
    # ... fetched by IXFR, and the file is not rewritten: zone diff shows the drift
    log = sd.log()
    assert len(re.findall(r"event=xfr-out zone=example\.com kind=IXFR serial=%d peer="
                          % (first + 5), log)) >= 1, log[-3000:]
    # the rollback's event lines: the commit names its source, and the rollback its serials
    assert sdlib.log_events(log, "zone-committed", zone="example.com", serial=first + 5,
                            source="rollback"), log[-3000:]
    assert sdlib.log_events(log, "zone-rolled-back", zone="example.com", serial=first + 5), \
        log[-3000:]
    with open(zone_path) as f:
        assert "edited" in f.read()
    rc, out, err = ctl(sd, "zone", "diff", ZONE)
    assert rc == 1 and "- edited.example.com. 300 IN A 192.0.2.201" in [
        " ".join(x.split()) for x in out.splitlines()], out + err

    # history names the rollbacks; the audit log has one line each, source rollback
    lines = [x for x in history(sd, "--limit", "2").splitlines() if not x.startswith(";")]
    assert re.match(r"^%d -> %d \S+ rollback \(to %d by control\) -2 \+0$" % (
        first + 4, first + 5, first), lines[0]), lines
    assert re.match(r"^%d -> %d \S+ rollback \(to %d by control\) -1 \+1$" % (
        first + 3, first + 4, first + 2), lines[1]), lines
    audits = [json.loads(x.split("audit: ", 1)[1]) for x in sd.log().splitlines()
              if "audit: " in x and '"source":"rollback"' in x]
    assert [(a["serial_from"], a["serial_to"], a["reason"], a["transport"]) for a in audits] == \
        [(first + 3, first + 4, "rollback to %d" % (first + 2), "control"),
         (first + 4, first + 5, "rollback to %d" % first, "control")], audits
    assert "edited.example.com. 300 IN A 192.0.2.201" in [
        " ".join(x.split()) for x in audits[1]["removed"]], audits[1]

    # a serial the journal does not reach: exit 1, the oldest named, nothing changes
    for bad in (first - 1, 4000000000):
        rc, out, err = ctl(sd, "zone", "rollback", ZONE, str(bad))
        assert rc == 1, out + err
        assert "oldest serial it can roll back to is %d" % first in err, err
    assert tp.serial(port) == first + 5

    # kill -9 and restart: the rollback was journaled
    os.kill(sd.proc.pid, signal.SIGKILL)  # our own child, by PID
    sd.proc.wait(timeout=10)
    sd._log.close()
    assert not sdlib.SANITIZER_RE.search(sd.log()), sd.log()[-4000:]
    lab["procs"]["steerdns"] = sd = tux.start_primary(lab["dir"], port,
                                                      list(lab["ports"].values()))
    # (serials reserved ahead before the kill are skipped: the restart may commit one above
    # them, with the same content; zone/update.h)
    after = tp.serial(port)
    assert after >= first + 5, after
    assert content(port) == at[first]
    lines = [x for x in history(sd).splitlines() if not x.startswith(";")]
    assert any(x.startswith("%d -> %d " % (first + 4, first + 5)) and
               " rollback (to %d by control) " % first in x for x in lines), lines
    print("history after the restart:\n" + "\n".join(lines))


@pytest.fixture
def solo(tmp_path):
    d = str(tmp_path / "sd")
    os.makedirs(d)
    port = sdlib.free_port()
    sd = tux.start_primary(d, port, [])
    yield sd, port
    assert sd.stop() == 0


def test_usage_errors_and_unknown_zone(solo):
    sd, port = solo
    first = tp.serial(port)
    for args in (["zone", "history"], ["zone", "history", ZONE, "--limit", "0"],
                 ["zone", "show-change", ZONE], ["zone", "show-change", ZONE, "x"],
                 ["zone", "rollback", ZONE], ["zone", "rollback", ZONE, "-1"]):
        rc, out, err = ctl(sd, *args)
        assert rc == 1 and "usage: zone" in err, (args, out, err)
    rc, out, err = ctl(sd, "zone", "history", "example.org.")
    assert rc == 1 and "not served" in err, out + err
    # an empty journal: nothing listed, a rollback has nowhere to go
    out = history(sd)
    assert "the journal is empty" in out and len(out.splitlines()) == 1, out
    rc, out, err = ctl(sd, "zone", "rollback", ZONE, str(first - 1))
    assert rc == 1 and "journal, which is empty" in err, out + err
    rc, out, err = ctl(sd, "zone", "rollback", ZONE, str(first))
    assert rc == 0 and "nothing to roll back" in out, out + err


def test_update_sources_name_keys_and_unsigned_clients(tmp_path):
    """An update's source is its TSIG key's name, or the client's address when unsigned; a
    batch committed together lists each of its keys / clients once. Updates are sent at once
    from several threads, so some may share a commit: every change set's detail must be a set
    of the senders, and together they name all three."""
    import threading
    d = str(tmp_path / "sd")
    os.makedirs(d)
    zone_path = os.path.join(d, "example.com.zone")
    with open(zone_path, "w") as f:
        f.write(tp.ZONE)
    port = sdlib.free_port()
    conf = sdlib.steerdns_update_config(
        d, port, "example.com", zone_path,
        [{"key": sdlib.UPDATE_KEY.name.to_text()}, {"key": sdlib.UPDATE_KEY2_NAME},
         {"address": "127.0.0.1/32"}])
    sd = sdlib.Steerdns(d, conf, {"example.com": zone_path}, port)
    sdlib.steerdns_start_or_xfail(sd)
    try:
        senders = {sdlib.UPDATE_KEY.name.to_text(): sdlib.UPDATE_KEY,
                   sdlib.UPDATE_KEY2_NAME: sdlib.UPDATE_KEY2, "127.0.0.1": None}
        errors = []

        def send(i, key):
            try:
                m = sdlib.update_msg(ZONE, key=key)
                m.add(n("b%d" % i), 300, "A", "192.0.2.%d" % (i + 1))
                r = sdlib.send_update(m, port, tcp=False)
                assert r.rcode() == 0, r.rcode()
            except Exception as e:  # reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=send, args=(i, key))
                   for i, key in enumerate(list(senders.values()) * 4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors, errors
        doc = json.loads(history(sd, "--json"))
        assert sum(c["added"] for c in doc["changes"]) == 12, doc
        named = set()
        for c in doc["changes"]:
            assert c["source"] == "update", c
            who = c["detail"].split(", ")
            assert len(who) == len(set(who)) and set(who) <= set(senders), c
            named |= set(who)
        assert named == set(senders), doc
        print("\n%d change sets for 12 updates: %s" % (
            len(doc["changes"]), [c["detail"] for c in doc["changes"]]))
    finally:
        assert sd.stop() == 0
