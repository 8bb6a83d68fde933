"""Every reply to a query that carried a valid OPT carries an OPT (RFC 6891 7), including the
transfer path's error replies (issue 11, defect 10).

The transfer path (server/xfr/serve.c) and the front door's TSIG errors (server/front.c) build
their replies apart from the answer engine; AXFR over UDP used to answer NOTIMP without OPT.
Each case sends an EDNS(0) query with DO set and checks the reply's rcode, that it has exactly
one OPT (version 0, our payload size, DO echoed) and, for signed replies, that dnspython
verifies the TSIG placed after it. A transfer with EDNS version 1 gets BADVERS (RFC 6891 6.1.3).
"""

import os
import socket
import struct

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import pytest

import sdlib

KEY_NAME = "xfr-key."
SECRET = "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ=="
KEY = dns.tsig.Key(KEY_NAME, SECRET, "hmac-sha256")
OTHER_KEY = dns.tsig.Key("other.", SECRET, "hmac-sha256")
PAYLOAD = 1400  # ours, configured; the queries offer 4096

ZONE = """$ORIGIN example.com.
$TTL 300
@     IN SOA ns1 hostmaster 2024010101 3600 600 1209600 300
@     IN NS  ns1
ns1   IN A   127.0.0.1
www   IN A   192.0.2.80
"""


@pytest.fixture
def primary(tmp_path):
    workdir = str(tmp_path)
    zone_path = os.path.join(workdir, "example.com.zone")
    with open(zone_path, "w") as f:
        f.write(ZONE)
    port = sdlib.free_port()
    config = {
        "server": {"listen": ["127.0.0.1:%d" % port], "workers": 1,
                   "control-socket": os.path.join(workdir, "ctl.sock"),
                   "state-dir": workdir, "udp-payload": PAYLOAD},
        "keys": [{"name": KEY_NAME, "algorithm": "hmac-sha256", "secret": SECRET}],
        "zones": [{"name": "example.com", "file": zone_path,
                   "transfer-acl": [{"address": "127.0.0.1/32", "key": KEY_NAME}]}],
    }
    srv = sdlib.Steerdns(workdir, config, {"example.com": zone_path}, port)
    srv.wait_ready("example.com")
    yield srv
    rc = srv.stop()
    log = srv.log()
    assert sdlib.SANITIZER_RE.search(log) is None, log[-6000:]
    assert rc == 0, log[-4000:]


def query(qname, qtype, key=None, edns=0):
    q = dns.message.make_query(qname, qtype, use_edns=edns, payload=4096,
                               want_dnssec=True)
    if key is not None:
        q.use_tsig(key)
    return q


def exchange(q, port, tcp):
    wire = q.to_wire()
    if tcp:
        with sdlib.tcp_connect(port) as s:
            s.sendall(struct.pack("!H", len(wire)) + wire)
            return sdlib.tcp_read_msg(s)
    return sdlib.udp_exchange(wire, port)


def count_opt(wire):
    """OPT RRs in the additional section, read from the wire (independent of dnspython)."""
    qd, an, ns, ar = struct.unpack("!4H", wire[4:12])
    pos = 12

    def skip_name(p):
        while True:
            ln = wire[p]
            if ln & 0xC0 == 0xC0:
                return p + 2
            p += 1 + ln
            if ln == 0:
                return p

    for _ in range(qd):
        pos = skip_name(pos) + 4
    opts = 0
    for i in range(an + ns + ar):
        pos = skip_name(pos)
        rtype, _, _, rdlen = struct.unpack("!HHIH", wire[pos:pos + 10])
        if i >= an + ns and rtype == dns.rdatatype.OPT:
            opts += 1
        pos += 10 + rdlen
    assert pos == len(wire), "trailing bytes"
    return opts


def check(q, wire, rcode, signed):
    assert count_opt(wire) == 1, "no OPT in the %s reply" % dns.rcode.to_text(rcode)
    if signed:  # dnspython checks the MAC over the reply, OPT included
        r = dns.message.from_wire(wire, keyring={q.keyname: q.keyring},
                                  request_mac=q.mac)
        assert r.had_tsig
    else:
        r = dns.message.from_wire(wire)
    assert r.id == q.id
    assert r.rcode() == rcode, dns.rcode.to_text(r.rcode())
    assert r.edns == 0
    assert r.payload == PAYLOAD
    assert r.ednsflags & dns.flags.DO
    assert r.question == q.question
    return r


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_transfer_refused_carries_opt(primary, tcp):
    # no key: the ACL wants one
    q = query("example.com.", "AXFR")
    check(q, exchange(q, primary.port, tcp), dns.rcode.REFUSED, signed=False)
    q = query("example.com.", "IXFR")
    q.authority.append(dns.rrset.from_text("example.com.", 0, "IN", "SOA",
                                           "ns1.example.com. hostmaster.example.com. 2024010100 1 1 1 1"))
    check(q, exchange(q, primary.port, tcp), dns.rcode.REFUSED, signed=False)


def test_axfr_over_udp_notimp_carries_opt(primary):
    q = query("example.com.", "AXFR", key=KEY)
    check(q, exchange(q, primary.port, tcp=False), dns.rcode.NOTIMP, signed=True)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_transfer_of_foreign_zone_notauth_carries_opt(primary, tcp):
    # RFC 5936 2.2.1: not authoritative for the zone
    q = query("example.net.", "AXFR", key=KEY)
    check(q, exchange(q, primary.port, tcp), dns.rcode.NOTAUTH, signed=True)


@pytest.mark.parametrize("qtype", ["AXFR", "A"])
def test_tsig_badkey_notauth_carries_opt(primary, qtype):
    # the front door's TSIG error: NOTAUTH, TSIG error BADKEY, unsigned (RFC 8945 5.2)
    q = query("example.com.", qtype, key=OTHER_KEY)
    wire = exchange(q, primary.port, tcp=True)
    assert count_opt(wire) == 1
    with pytest.raises(dns.tsig.PeerBadKey):
        dns.message.from_wire(wire, keyring={q.keyname: q.keyring}, request_mac=q.mac)
    assert struct.unpack("!H", wire[2:4])[0] & 0xF == dns.rcode.NOTAUTH


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_transfer_with_edns_version_1_badvers(primary, tcp):
    q = query("example.com.", "AXFR", key=KEY, edns=1)
    r = dns.message.from_wire(exchange(q, primary.port, tcp),
                              keyring={q.keyname: q.keyring}, request_mac=q.mac)
    assert r.rcode() == dns.rcode.BADVERS
    assert r.edns == 0


def test_successful_transfer_carries_opt(primary):
    # the small zone fits one message: SOA, the records, SOA
    q = query("example.com.", "AXFR", key=KEY)
    wire = exchange(q, primary.port, tcp=True)
    check(q, wire, dns.rcode.NOERROR, signed=True)
    assert struct.unpack("!H", wire[6:8])[0] == 5  # ANCOUNT (dnspython merges the two SOAs)
