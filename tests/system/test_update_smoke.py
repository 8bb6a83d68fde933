"""RFC 2136 UPDATE end to end, the daemon's side (issue 8): policy, group commit, reply
signing, audit line, steerctl status and zone export.

One steerdns with example.com (tests/system/data/basic.zone), a TSIG key and this policy:
  - deploy-key may change A and TXT at nodes.example.com and below;
  - unsigned requests from 127.0.0.1 may change TXT at open.example.com exactly.
The full RFC suite, secondaries and crash tests live in the other test_update*.py files.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import threading

import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update
import pytest

import sdlib

KEY_NAME = "deploy-key."
SECRET = "ZGVwbG95LWtleS1mb3ItdGhlLXNtb2tlLXRlc3QtMDEyMzQ1"
KEY = dns.tsig.Key(KEY_NAME, SECRET, "hmac-sha256")
ZONE = os.path.join(sdlib.DATA, "basic.zone")


class NotifySink:
    """A UDP socket that answers every NOTIFY (so the sender stops retrying) and keeps the
    serials of the SOAs they carry (RFC 1996 3.7)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.serials = []
        self.done = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done:
            try:
                wire, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            m = dns.message.from_wire(wire)
            if m.opcode() != dns.opcode.NOTIFY:
                continue
            self.serials += [rr.serial for rrset in m.answer for rr in rrset]
            r = dns.message.make_response(m)
            self.sock.sendto(r.to_wire(), peer)

    def close(self):
        self.done = True
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def srv(tmp_path):
    workdir = str(tmp_path)
    port = sdlib.free_port()
    sink = NotifySink()
    zone = os.path.join(workdir, "example.com.zone")
    shutil.copyfile(ZONE, zone)
    config = {
        "server": {"listen": ["127.0.0.1:%d" % port], "workers": 2,
                   "control-socket": os.path.join(workdir, "ctl.sock"),
                   "state-dir": workdir, "audit-log": "audit.jsonl"},
        "keys": [{"name": KEY_NAME, "algorithm": "hmac-sha256", "secret": SECRET}],
        "zones": [{
            "name": "example.com", "file": zone,
            "notify": ["127.0.0.1:%d" % sink.port],
            "update-policy": [
                {"key": KEY_NAME, "name": "nodes.example.com", "types": ["A", "TXT"]},
                {"address": "127.0.0.1", "match": "name", "name": "open.example.com",
                 "types": ["TXT"]},
            ],
        }],
    }
    s = sdlib.Steerdns(workdir, config, {"example.com": zone}, port)
    s.audit_path = os.path.join(workdir, "audit.jsonl")
    s.notified = sink.serials
    s.wait_ready("example.com")
    yield s
    rc = s.stop()
    sink.close()
    log = s.log()
    assert sdlib.SANITIZER_RE.search(log) is None, log[-6000:]
    assert rc == 0, log[-4000:]


def serial(s):
    r = s.query("example.com", "SOA")
    return r.answer[0][0].serial


def audit(s, n, timeout=5.0):
    """The first n audit lines, parsed (waits until there are that many)."""
    def read():
        if not os.path.exists(s.audit_path):
            return None
        with open(s.audit_path) as f:
            lines = f.read().splitlines()
        return lines if len(lines) >= n else None
    lines = s.wait_for(read, timeout=timeout)
    assert lines, "fewer than %d audit lines" % n
    return [json.loads(line) for line in lines]


def send(s, upd, tcp=False):
    fn = dns.query.tcp if tcp else dns.query.udp
    return fn(upd, "127.0.0.1", port=s.port, timeout=5)


def test_signed_add_applied_and_audited(srv):
    before = serial(srv)
    upd = dns.update.UpdateMessage("example.com", keyring={KEY.name: KEY}, keyname=KEY.name,
                                   keyalgorithm="hmac-sha256")
    upd.add("web1.nodes.example.com.", 300, "A", "192.0.2.10")
    r = send(srv, upd)  # dnspython verifies the reply's TSIG: it raises when unsigned/bad
    assert r.rcode() == dns.rcode.NOERROR
    assert r.had_tsig
    assert r.opcode() == dns.opcode.UPDATE and r.id == upd.id
    # answered after the commit: served right away, with a new serial
    a = srv.query("web1.nodes.example.com", "A")
    assert [rd.address for rd in a.answer[0]] == ["192.0.2.10"]
    after = serial(srv)
    assert after == before + 1
    # the secondaries hear of it (after the reply: NOTIFY is not needed for durability)
    assert srv.wait_for(lambda: after in srv.notified, timeout=10), srv.notified
    line = audit(srv, 1)[0]
    assert list(line) == ["time", "zone", "client", "port", "key", "transport", "outcome",
                          "rcode", "reason", "serial_from", "serial_to", "removed", "added"]
    assert line["zone"] == "example.com." and line["key"] == KEY_NAME
    assert line["client"] == "127.0.0.1" and line["transport"] == "udp"
    assert line["outcome"] == "applied" and line["rcode"] == "NOERROR"
    assert (line["serial_from"], line["serial_to"]) == (before, after)
    assert line["removed"] == []
    assert [" ".join(rr.split()) for rr in line["added"]] == [
        "web1.nodes.example.com. 300 IN A 192.0.2.10"]
    # the same add again: NOERROR, nothing changed, no new serial
    upd2 = dns.update.UpdateMessage("example.com", keyring={KEY.name: KEY}, keyname=KEY.name)
    upd2.add("web1.nodes.example.com.", 300, "A", "192.0.2.10")
    assert send(srv, upd2, tcp=True).rcode() == dns.rcode.NOERROR
    assert serial(srv) == after
    line = audit(srv, 2)[1]
    assert line["outcome"] == "unchanged" and line["transport"] == "tcp"
    assert line["serial_from"] == line["serial_to"] == after
    st = srv.steerctl("status")
    assert st.returncode == 0
    assert "updates: applied 1, unchanged 1, refused 0, last commit " in st.stdout
    assert "updates: batches " in st.stdout
    # what is served, updates included, as a master file
    ex = srv.steerctl("zone", "export", "example.com")
    assert ex.returncode == 0, ex.stderr
    records = [ln for ln in ex.stdout.splitlines() if ln and not ln.startswith(";")]
    assert records[0].split()[3] == "SOA", records[0]
    assert "web1.nodes.example.com." in ex.stdout and "192.0.2.10" in ex.stdout
    out = os.path.join(srv.workdir, "exported.zone")
    ex = srv.steerctl("zone", "export", "example.com", out)
    assert ex.returncode == 0, ex.stderr
    with open(out) as f:
        assert "192.0.2.10" in f.read()
    assert srv.steerctl("zone", "export", "example.net").returncode == 1


def test_refused_by_policy(srv):
    before = serial(srv)
    # signed with the key, but outside its names
    upd = dns.update.UpdateMessage("example.com", keyring={KEY.name: KEY}, keyname=KEY.name)
    upd.add("www.example.com.", 300, "A", "192.0.2.99")
    r = send(srv, upd)
    assert r.rcode() == dns.rcode.REFUSED and r.had_tsig
    # a type the rule does not list
    upd = dns.update.UpdateMessage("example.com", keyring={KEY.name: KEY}, keyname=KEY.name)
    upd.add("x.nodes.example.com.", 300, "AAAA", "2001:db8::1")
    assert send(srv, upd).rcode() == dns.rcode.REFUSED
    # unsigned to the key's names: the address rule does not cover them
    upd = dns.update.UpdateMessage("example.com")
    upd.add("y.nodes.example.com.", 300, "A", "192.0.2.11")
    assert send(srv, upd).rcode() == dns.rcode.REFUSED
    # unsigned to the name the address rule allows: applied
    upd = dns.update.UpdateMessage("example.com")
    upd.add("open.example.com.", 60, "TXT", '"hello"')
    assert send(srv, upd).rcode() == dns.rcode.NOERROR
    # a zone not served here
    upd = dns.update.UpdateMessage("example.net", keyring={KEY.name: KEY}, keyname=KEY.name)
    upd.add("a.example.net.", 300, "A", "192.0.2.1")
    assert send(srv, upd).rcode() == dns.rcode.NOTAUTH
    assert serial(srv) == before + 1
    assert srv.query("www.example.com", "A").answer[0][0].address == "192.0.2.80"
    lines = audit(srv, 5)
    assert [line["outcome"] for line in lines] == ["refused"] * 3 + ["applied", "refused"]
    assert [line["rcode"] for line in lines] == ["REFUSED"] * 3 + ["NOERROR", "NOTAUTH"]
    assert lines[0]["reason"] and lines[0]["added"] == [] and lines[0]["key"] == KEY_NAME
    assert lines[0]["serial_from"] == lines[0]["serial_to"] == before
    assert lines[2]["key"] is None
    assert lines[4]["zone"] == "example.net." and lines[4]["serial_from"] is None
    st = srv.steerctl("status").stdout
    assert "updates: applied 1, unchanged 0, refused 3 (REFUSED 3)" in st


def test_nsupdate(srv):
    if shutil.which("nsupdate") is None:
        pytest.fail("nsupdate is not installed (bind9-dnsutils)")
    script = ("server 127.0.0.1 %d\nzone example.com\n"
              "update add n1.nodes.example.com 120 TXT \"deployed\"\nsend\n" % srv.port)
    p = subprocess.run(["nsupdate", "-v", "-y", "hmac-sha256:%s:%s" % (KEY_NAME, SECRET)],
                       input=script, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    r = srv.query("n1.nodes.example.com", "TXT")
    assert r.answer and r.answer[0][0].strings == (b"deployed",)
    bad = script.replace("n1.nodes", "www")
    p = subprocess.run(["nsupdate", "-y", "hmac-sha256:%s:%s" % (KEY_NAME, SECRET)],
                       input=bad, capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "REFUSED" in p.stdout + p.stderr


def test_group_commit_from_parallel_clients(srv):
    """Several clients at once: every request is answered NOERROR after its commit, every
    record is served, and serials only move forward (batches share one)."""
    before = serial(srv)
    errors = []

    def client(i):
        try:
            for k in range(10):
                upd = dns.update.UpdateMessage("example.com", keyring={KEY.name: KEY},
                                               keyname=KEY.name)
                upd.add("c%d-%d.nodes.example.com." % (i, k), 300, "A", "192.0.2.%d" % (k + 1))
                r = send(srv, upd, tcp=bool(i % 2))
                if r.rcode() != dns.rcode.NOERROR:
                    errors.append((i, k, dns.rcode.to_text(r.rcode())))
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    for i in range(6):
        for k in range(10):
            a = srv.query("c%d-%d.nodes.example.com" % (i, k), "A")
            assert a.answer, (i, k)
    after = serial(srv)
    assert before < after <= before + 60
    lines = audit(srv, 60)
    assert all(line["outcome"] == "applied" for line in lines)
    assert all(line["serial_to"] <= after for line in lines)
    # SIGHUP reopens the audit log: a moved file is replaced by a new one
    os.rename(srv.audit_path, srv.audit_path + ".1")
    srv.signal(signal.SIGHUP)
    srv.wait_for(lambda: sdlib.log_events(srv.log(), "reload-done"), timeout=10)
    upd = dns.update.UpdateMessage("example.com", keyring={KEY.name: KEY}, keyname=KEY.name)
    upd.add("late.nodes.example.com.", 300, "A", "192.0.2.200")
    assert send(srv, upd).rcode() == dns.rcode.NOERROR
    assert audit(srv, 1)[0]["added"][0].startswith("late.nodes.example.com.")


def test_reply_format_and_policy_reload(srv):
    # OPT echoed (RFC 6891 7), the zone section echoed, signed
    upd = dns.update.UpdateMessage("example.com", keyring={KEY.name: KEY}, keyname=KEY.name)
    upd.use_edns(0, payload=1400)
    upd.add("e.nodes.example.com.", 300, "A", "192.0.2.5")
    r = send(srv, upd)
    assert r.rcode() == dns.rcode.NOERROR and r.edns == 0 and r.had_tsig
    assert len(r.zone) == 1 and r.zone[0].name.to_text() == "example.com."
    assert not r.prerequisite and not r.update
    # an EDNS version we do not speak: BADVERS, nothing applied
    upd = dns.update.UpdateMessage("example.com", keyring={KEY.name: KEY}, keyname=KEY.name)
    upd.use_edns(1)
    upd.add("v.nodes.example.com.", 300, "A", "192.0.2.6")
    r = send(srv, upd)
    assert r.rcode() == dns.rcode.BADVERS
    assert not srv.query("v.nodes.example.com", "A").answer
    # the policy follows the configuration: allow the key at www.example.com, reload
    srv.config["zones"][0]["update-policy"].append(
        {"key": KEY_NAME, "match": "name", "name": "www.example.com", "types": ["TXT"]})
    with open(srv.config_path, "w") as f:
        f.write(sdlib.to_yaml(srv.config) + "\n")
    p = srv.steerctl("reload")
    assert p.returncode == 0, p.stderr
    upd = dns.update.UpdateMessage("example.com", keyring={KEY.name: KEY}, keyname=KEY.name)
    upd.add("www.example.com.", 300, "TXT", '"now allowed"')
    assert send(srv, upd).rcode() == dns.rcode.NOERROR
    lines = audit(srv, 3)
    assert [line["rcode"] for line in lines] == ["NOERROR", "BADVERS", "NOERROR"]


def test_malformed_zone_section(srv):
    # ZOCOUNT 0: FORMERR, no zone echoed; ZOCOUNT 2: FORMERR; ZTYPE A: FORMERR
    zone = b"\x07example\x03com\x00"
    cases = [
        b"\xab\xcd\x28\x00" + b"\x00\x00" * 4,
        b"\xab\xcd\x28\x00\x00\x02" + b"\x00\x00" * 3 + (zone + b"\x00\x06\x00\x01") * 2,
        b"\xab\xcd\x28\x00\x00\x01" + b"\x00\x00" * 3 + zone + b"\x00\x01\x00\x01",
    ]
    for wire in cases:
        reply = sdlib.udp_exchange(wire, srv.port)
        assert reply is not None
        assert reply[:2] == b"\xab\xcd" and reply[2] & 0x80 and (reply[2] >> 3) & 0xF == 5
        assert reply[3] & 0xF == dns.rcode.FORMERR
        assert reply[6:12] == b"\x00" * 6
    lines = audit(srv, 3)
    assert [line["rcode"] for line in lines] == ["FORMERR"] * 3
    assert lines[0]["zone"] is None and lines[0]["serial_from"] is None
    assert lines[2]["zone"] == "example.com."
