"""Dynamic updates reaching secondaries, coexisting with zone-file edits, exported (issue 8).

steerdns is the primary of example.com with an update-policy; the NSD, Knot and BIND
secondaries of test_primary.py pull it with TSIG and are NOTIFYed. After updates each
secondary must serve the new serial and exactly steerdns's zone (full AXFR compared), having
fetched it by IXFR. An update followed by an edit of the zone file (another name) and a
reload: both are served, also after a restart. `steerctl zone export` writes what is served.
Every process is stopped by its own PID.
"""

import os
import re
import shutil
import time

import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone
import pytest

import sdlib
import test_primary as tp
from sdlib import UPDATE_KEY

ZONE = "example.com."


def start_primary(workdir, port, sec_ports):
    """steerdns with tp.ZONE, the xfr key for NOTIFY/transfers and upd-key for updates."""
    zone_path = os.path.join(workdir, "example.com.zone")
    if not os.path.exists(zone_path):
        with open(zone_path, "w") as f:
            f.write(tp.ZONE)
    conf = sdlib.steerdns_update_config(
        workdir, port, "example.com", zone_path, [{"key": UPDATE_KEY.name.to_text()}],
        keys=[UPDATE_KEY])
    conf["keys"].append({"name": tp.KEY_NAME, "algorithm": "hmac-sha256", "secret": tp.SECRET})
    z = conf["zones"][0]
    z["notify"] = [{"address": "127.0.0.1:%d" % p, "key": tp.KEY_NAME} for p in sec_ports]
    z["transfer-acl"] = [{"address": "127.0.0.1/32", "key": tp.KEY_NAME},
                         {"address": "127.0.0.1/32", "key": UPDATE_KEY.name.to_text()}]
    srv = sdlib.Steerdns(workdir, conf, {"example.com": zone_path}, port)
    sdlib.steerdns_start_or_xfail(srv)
    return srv


@pytest.fixture
def lab(tmp_path):
    for b in ("knotd", "nsd", "named"):
        if shutil.which(b) is None:
            pytest.fail("%s is not installed" % b)
    sd_dir = str(tmp_path / "steerdns")
    os.makedirs(sd_dir)
    port = sdlib.free_port()
    ports = {k: sdlib.free_port() for k in ("knotd", "nsd", "named")}
    procs = {"steerdns": start_primary(sd_dir, port, list(ports.values()))}
    makers = {"knotd": tp.knot_secondary, "nsd": tp.nsd_secondary,
              "named": tp.named_secondary}
    dirs = {}
    for kind, maker in makers.items():
        dirs[kind] = str(tmp_path / kind)
        os.makedirs(dirs[kind])
        procs[kind] = maker(dirs[kind], ports[kind], port)
    # dirs and makers: a test may stop a secondary by its PID and start it again
    lab = {"dir": sd_dir, "port": port, "ports": ports, "procs": procs, "dirs": dirs,
           "makers": makers}
    yield lab
    failures = []
    for kind, p in procs.items():
        rc = p.stop()
        if kind == "steerdns":
            if sdlib.SANITIZER_RE.search(p.log()) or rc != 0:
                failures.append("steerdns exit %r\n%s" % (rc, p.log()[-3000:]))
    assert not failures, "\n".join(failures)


def update(port, build, tcp=True):
    m = sdlib.update_msg(ZONE)
    build(m)
    r = sdlib.send_update(m, port, tcp=tcp)
    assert r.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(r.rcode())
    return r


def n(s):
    return dns.name.from_text(s, dns.name.from_text(ZONE))


def primary_text(lab):
    return sdlib.axfr_text(lab["port"], ZONE, key=tp.KEY)


def assert_converged(lab, want_serial, t0, timeout=30):
    took = tp.converge(lab, want_serial, timeout=timeout, t0=t0)
    for kind, s in took.items():
        assert s is not None, "%s never served serial %d:\n%s" % (
            kind, want_serial, lab["procs"][kind].log()[-3000:])
    expect = primary_text(lab)
    for kind, p in lab["ports"].items():
        assert sdlib.axfr_text(p, ZONE) == expect, kind
    return took


def test_secondaries_converge_after_updates(lab):
    port = lab["port"]
    first = tp.serial(port)
    assert_converged(lab, first, time.monotonic())
    steps = [
        lambda m: (m.add(n("node1"), 300, "A", "192.0.2.11"),
                   m.add(n("node1"), 300, "AAAA", "2001:db8::11")),
        lambda m: m.replace(n("www"), 60, "A", "192.0.2.81"),
        lambda m: (m.delete(n("txt")), m.add(n("gw"), 300, "CNAME", "node1.example.com.")),
        lambda m: m.delete(n("node1"), "AAAA", "2001:db8::11"),
    ]
    times = []
    for i, build in enumerate(steps):
        update(port, build, tcp=(i % 2 == 0))
        t0 = time.monotonic()  # from the update's reply
        assert tp.serial(port) == first + 1 + i
        took = assert_converged(lab, first + 1 + i, t0)
        times.append(max(took.values()))
        print("\nupdate %d -> secondaries (s): %s" % (
            i, ", ".join("%s %.3f" % kv for kv in sorted(took.items()))))
    text = primary_text(lab)
    assert "gw.example.com. 300 CNAME node1.example.com." in text
    assert not any(line.startswith("txt.") for line in text)
    assert "www.example.com. 60 A 192.0.2.81" in text
    # each secondary fetched the updates incrementally
    log = lab["procs"]["steerdns"].log()
    last = first + len(steps)
    assert len(re.findall(r"event=xfr-out zone=example\.com kind=IXFR serial=%d peer="
                          % last, log)) >= 3, \
        log[-4000:]
    # IXFR from the first serial: the updates as one incremental answer
    msgs = list(dns.query.xfr("127.0.0.1", ZONE, port=port, keyring=tp.KEY,
                              rdtype=dns.rdatatype.IXFR, serial=first, lifetime=10))
    soas = [rs[0].serial for m in msgs for rs in m.answer if rs.rdtype == dns.rdatatype.SOA]
    assert soas[0] == last and soas[1] == first and soas[-1] == last and len(soas) > 3, soas
    print("slowest secondary after an update reply: %.3f s" % max(times))


def test_update_then_file_edit_and_reload_both_served(lab):
    sd, port = lab["procs"]["steerdns"], lab["port"]
    first = tp.serial(port)
    update(port, lambda m: m.add(n("dyn"), 300, "A", "192.0.2.200"))
    assert tp.serial(port) == first + 1
    tp.edit_zone(lab, "edited IN A 192.0.2.201\n")
    r = sd.steerctl("reload")
    assert r.returncode == 0, r.stdout + r.stderr
    assert tp.serial(port) == first + 2
    text = primary_text(lab)
    assert "dyn.example.com. 300 A 192.0.2.200" in text, text
    assert "edited.example.com. 300 A 192.0.2.201" in text, text
    assert_converged(lab, first + 2, time.monotonic())
    # and both after a restart (the update from the journal, the edit from the file)
    assert sd.stop() == 0
    lab["procs"]["steerdns"] = sd = start_primary(lab["dir"], port, list(lab["ports"].values()))
    assert tp.serial(port) == first + 2
    assert primary_text(lab) == text
    # an unchanged file on reload does not undo the update
    assert sd.steerctl("reload").returncode == 0
    assert primary_text(lab) == text and tp.serial(port) == first + 2
    # the operator's file is never rewritten
    with open(os.path.join(lab["dir"], "example.com.zone")) as f:
        assert "dyn" not in f.read()


def test_file_wins_when_edit_and_update_touch_one_rrset(tmp_path):
    """Issue 8: an edit and an update of the same RRset: the file's version is served after
    the reload, and the log says so."""
    d = str(tmp_path / "sd")
    os.makedirs(d)
    port = sdlib.free_port()
    sd = start_primary(d, port, [])
    try:
        first = tp.serial(port)
        update(port, lambda m: m.replace(n("www"), 300, "A", "192.0.2.90"))
        update(port, lambda m: m.add(n("keep"), 300, "A", "192.0.2.91"))
        path = os.path.join(d, "example.com.zone")
        text = open(path).read().replace("192.0.2.80", "192.0.2.99")
        with open(path, "w") as f:
            f.write(text)
        assert sd.steerctl("reload").returncode == 0
        assert tp.serial(port) == first + 3
        served = primary_text({"port": port})
        assert "www.example.com. 300 A 192.0.2.99" in served, served
        assert not any("192.0.2.90" in x or "192.0.2.80" in x for x in served), served
        assert "keep.example.com. 300 A 192.0.2.91" in served
        assert sdlib.log_events(sd.log(), "zone-file-wins", zone="example.com",
                                name="www.example.com", type="A"), sd.log()[-3000:]
    finally:
        assert sd.stop() == 0


def test_zone_export(tmp_path):
    d = str(tmp_path / "sd")
    os.makedirs(d)
    port = sdlib.free_port()
    sd = start_primary(d, port, [])
    try:
        update(port, lambda m: (m.add(n("exp"), 120, "TXT", '"a b" "c"'),
                                m.add(n("exp"), 120, "MX", "10 mail.example.net.")))
        out = str(tmp_path / "export.zone")
        r = sd.steerctl("zone", "export", "example.com", out)
        assert r.returncode == 0, r.stdout + r.stderr
        first = [x for x in open(out).read().splitlines()
                 if x.strip() and not x.lstrip().startswith((";", "$"))][0]
        assert re.search(r"\bSOA\b", first), first
        z = dns.zone.from_file(out, origin=ZONE, relativize=False)
        exported = sorted("%s %d %s %s" % (name, rds.ttl, dns.rdatatype.to_text(rds.rdtype),
                                           rd.to_text())
                          for name, rds in z.iterate_rdatasets() for rd in rds)
        assert exported == primary_text({"port": port}), exported
        r2 = sd.steerctl("zone", "export", "example.com")
        assert r2.returncode == 0, r2.stdout + r2.stderr
        assert r2.stdout == open(out).read()
        bad = sd.steerctl("zone", "export", "example.org")
        assert bad.returncode != 0
    finally:
        assert sd.stop() == 0


def test_updates_during_reloads_all_kept(tmp_path):
    """4 clients stream updates while the operator edits the file (other names) and reloads
    5 times: every acknowledged update and every edit is served at the end, and again after
    a restart."""
    import threading
    d = str(tmp_path / "sd")
    os.makedirs(d)
    port = sdlib.free_port()
    sd = start_primary(d, port, [])
    acked, errors, stop = [], [], threading.Event()

    def client(c):
        i = 0
        while not stop.is_set() and i < 400:
            i += 1
            name = "u%d-%d.example.com." % (c, i)
            m = sdlib.update_msg(ZONE)
            m.add(dns.name.from_text(name), 300, "A", "192.0.2.%d" % (i % 250 + 1))
            try:
                r = sdlib.send_update(m, port, tcp=(i % 2 == 0))
            except Exception as e:  # reported below
                errors.append(repr(e))
                return
            if r.rcode() != dns.rcode.NOERROR:
                errors.append((name, dns.rcode.to_text(r.rcode())))
                return
            acked.append(name)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(4)]
    try:
        for th in threads:
            th.start()
        for k in range(5):
            time.sleep(0.2)
            tp.edit_zone({"dir": d}, "edit%d IN TXT \"reload %d\"\n" % (k, k))
            r = sd.steerctl("reload")
            assert r.returncode == 0, r.stdout + r.stderr
        stop.set()
        for th in threads:
            th.join(timeout=60)
        assert not errors, errors[:5]
        assert len(acked) >= 20, len(acked)
        for _ in range(2):
            text = primary_text({"port": port})
            owners = {x.split()[0] for x in text}
            missing = [a for a in acked if a not in owners]
            assert not missing, "acknowledged updates lost: %s" % missing[:10]
            for k in range(5):
                assert 'edit%d.example.com. 300 TXT "reload %d"' % (k, k) in text, k
            assert sd.stop() == 0
            sd = start_primary(d, port, [])
    finally:
        stop.set()
        assert sd.stop() == 0
