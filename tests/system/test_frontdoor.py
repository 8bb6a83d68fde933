"""The front door: one parse of each request, ECS (RFC 7871) echoed with SCOPE 0 on UDP and
TCP, a malformed ECS answered FORMERR."""

import re
import subprocess

import dns.edns
import dns.message
import dns.rcode
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
