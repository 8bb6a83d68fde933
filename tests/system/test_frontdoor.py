"""The front door: one parse of each request, ECS (RFC 7871) echoed with SCOPE 0 on UDP and
TCP, a malformed ECS answered FORMERR; UPDATE handed to the control thread and answered
(REFUSED here: these zones have no update-policy, server/update.h) through the worker that
received it, signed when the request was."""

import os
import re
import shutil
import socket
import struct
import subprocess

import dns.edns
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.tsig
import dns.update
import pytest

import sdlib


def kdig(srv, *args):
    argv = ["kdig", "@127.0.0.1", "-p", str(srv.port), "+norec", "+retry=0", "+time=2"]
    return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=20).stdout


@pytest.mark.parametrize("tcp", [False, True])
@pytest.mark.parametrize("subnet", ["192.0.2.0/24", "2001:db8:1200::/40", "198.51.100.7/32"])
def test_kdig_subnet_echoed_scope_0(steerdns, tcp, subnet):
    out = kdig(steerdns, "www.example.com", "A", "+subnet=" + subnet, *(["+tcp"] if tcp else []))
    assert "status: NOERROR" in out, out
    # kdig prints the option as ";; CLIENT-SUBNET: address/source/scope"
    m = re.search(r"CLIENT-SUBNET: (\S+)", out)
    assert m, out
    assert m.group(1) == subnet + "/0", out
    assert re.search(r"www\.example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.80", out), out


def test_no_ecs_no_option(steerdns):
    out = kdig(steerdns, "www.example.com", "A")
    assert "status: NOERROR" in out and "CLIENT-SUBNET" not in out, out


def _ecs_wire(payload):
    """An A query with EDNS and an ECS option whose data is payload (bytes)."""
    q = sdlib.make_query("www.example.com", "A", use_edns=0, payload=1232,
                         options=[dns.edns.GenericOption(dns.edns.ECS, payload)])
    return q.to_wire()


@pytest.mark.parametrize("payload", [
    b"\x00\x01\x18\x00\xc0\x00",          # too few address bytes for /24
    b"\x00\x01\x17\x00\xc0\x00\x03",      # a bit set past the /23 prefix
    b"\x00\x03\x08\x00\x0a",              # unknown family
    b"\x00\x01\x21\x00\x01\x02\x03\x04",  # /33 for IPv4
])
def test_malformed_ecs_formerr(steerdns, payload):
    r = dns.message.from_wire(sdlib.udp_exchange(_ecs_wire(payload), steerdns.port))
    assert r.rcode() == dns.rcode.FORMERR
    assert r.edns == 0 and not [o for o in r.options if o.otype == dns.edns.ECS]


# ---------------------------------------------------------------------------------------------
# UPDATE (RFC 2136) goes to the control thread and its reply comes back through the worker


def _update(edns=False):
    u = dns.update.UpdateMessage("example.com.")
    u.add("new.example.com.", 300, "A", "192.0.2.99")
    if edns:
        u.use_edns(0, 0, 1232)
    return u


def _handoffs(srv):
    out = srv.steerctl("status").stdout
    m = re.search(r"^handoffs: (\d+)$", out, re.M)
    assert m, out
    return int(m.group(1))


def _check_refused(q, wire, edns):
    r = dns.message.from_wire(wire)
    assert r.id == q.id and r.opcode() == dns.opcode.UPDATE
    assert r.rcode() == dns.rcode.REFUSED
    # the zone section (the question) echoed byte for byte; nothing else but OPT
    assert sdlib.question_bytes(wire) == sdlib.question_bytes(q.to_wire())
    assert (r.edns == 0) == edns
    return r


@pytest.mark.parametrize("edns", [False, True])
def test_update_refused_through_control_thread(steerdns, edns):
    before = _handoffs(steerdns)
    q = _update(edns)
    _check_refused(q, sdlib.udp_exchange(q.to_wire(), steerdns.port), edns)
    _check_refused(q, sdlib.tcp_exchange(q.to_wire(), steerdns.port), edns)
    assert _handoffs(steerdns) == before + 2
    # queries still answered on the workers, not handed off
    assert steerdns.query_udp("www.example.com", "A") is not None
    assert _handoffs(steerdns) == before + 2


def test_update_pipelined_tcp(steerdns):
    """Queries and an UPDATE pipelined on one connection: every reply arrives, the UPDATE's
    whenever the control thread has it (RFC 7766 6.2.1.1 allows any order)."""
    u = _update()
    qs = [sdlib.make_query("www.example.com", "A") for _ in range(3)]
    sock = sdlib.tcp_connect(steerdns.port)
    try:
        for m in (qs[0], u, qs[1], qs[2]):
            w = m.to_wire()
            sock.sendall(struct.pack("!H", len(w)) + w)
        got = {}
        for _ in range(4):
            r = dns.message.from_wire(sdlib.tcp_read_msg(sock, 3.0))
            got[r.id] = r
    finally:
        sock.close()
    assert got[u.id].rcode() == dns.rcode.REFUSED
    assert all(got[q.id].rcode() == dns.rcode.NOERROR for q in qs)


def test_update_tcp_half_close(steerdns):
    """A client that sends its UPDATE and shuts down its side still gets the reply: the
    connection waits for the control thread before it closes (RFC 7766 6.2.4)."""
    u = _update()
    sock = sdlib.tcp_connect(steerdns.port)
    try:
        w = u.to_wire()
        sock.sendall(struct.pack("!H", len(w)) + w)
        sock.shutdown(socket.SHUT_WR)
        r = sdlib.tcp_read_msg(sock, 3.0)
    finally:
        sock.close()
    assert r is not None and dns.message.from_wire(r).rcode() == dns.rcode.REFUSED


KEY_NAME = "upd-key."
SECRET = "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ=="


def test_signed_update_reply_is_signed(tmp_path):
    """TSIG wraps the exchange for every opcode (RFC 8945 5.3): the worker verifies the
    UPDATE, the control thread's reply is signed with the same key."""
    workdir = str(tmp_path)
    port = sdlib.free_port()
    zone = os.path.join(workdir, "example.com.zone")
    shutil.copyfile(os.path.join(sdlib.DATA, "basic.zone"), zone)
    config = {
        "server": {"listen": ["127.0.0.1:%d" % port], "workers": 1,
                   "control-socket": os.path.join(workdir, "ctl.sock"), "state-dir": workdir},
        "keys": [{"name": KEY_NAME, "algorithm": "hmac-sha256", "secret": SECRET}],
        "zones": [{"name": "example.com", "file": zone}],
    }
    srv = sdlib.Steerdns(workdir, config, {"example.com": zone}, port)
    try:
        srv.wait_ready("example.com")
        key = dns.tsig.Key(KEY_NAME, SECRET, "hmac-sha256")
        u = _update()
        u.use_tsig(key)
        for exchange in (dns.query.udp, dns.query.tcp):
            r = exchange(u, "127.0.0.1", port=port, timeout=3)  # verifies the reply's TSIG
            assert r.rcode() == dns.rcode.REFUSED and r.had_tsig
        bad = _update()
        bad.use_tsig(dns.tsig.Key(KEY_NAME, "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==",
                                  "hmac-sha256"))
        wire = sdlib.udp_exchange(bad.to_wire(), port)
        assert wire is not None and wire[3] & 0xF == dns.rcode.NOTAUTH  # BADSIG: no handoff
        assert _handoffs(srv) == 2
    finally:
        rc = srv.stop()
    assert rc == 0
