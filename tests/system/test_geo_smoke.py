"""Smoke test of geo steering (issue 10) end to end: a MaxMind database written by the test
(Perl MaxMind::DB::Writer), a policy with continent and country rules, answers by ECS subnet
and by the peer address with the reply's ECS scope checked against what the `maxminddb`
Python module says for the same database, failover inside the geo list, `steerctl steering
--client`, and the database replaced under the running daemon (a good file is picked up, a
corrupt one keeps the old database and names the path). The thorough tests are
tests/system/test_geo.py.

Members are 127.0.0.11/21/31 with a TCP listener each on one port (the tcp template's
check); a member whose listener closes is judged down after `fall` checks.
"""

import json
import os
import socket
import subprocess
import time

import dns.edns
import dns.rdatatype
import maxminddb
import pytest

import sdlib

EU, ASIA, US = "127.0.0.11", "127.0.0.21", "127.0.0.31"

ZONE = """$ORIGIN example.com.
$TTL 300
@       SOA ns1 hostmaster 1 7200 3600 1209600 300
@       NS  ns1
ns1     A   127.0.0.1
www     A   %s
www     A   %s
www     A   %s
""" % (EU, ASIA, US)

# (network, continent, country) per database version: v2 moves 10.1.0.0/16 to Japan.
NETS_V1 = [("10.1.0.0/16", "EU", "DE"), ("10.1.2.0/25", "AS", "JP"),
           ("10.2.0.0/16", "AS", "JP"), ("127.0.0.0/24", "EU", "DE")]
NETS_V2 = [("10.1.0.0/16", "AS", "JP"), ("127.0.0.0/24", "EU", "DE")]

WRITER = r"""
use strict; use warnings; use MaxMind::DB::Writer::Tree;
my ($out, @nets) = @ARGV;
my %t = (continent => 'map', country => 'map', code => 'utf8_string', iso_code => 'utf8_string');
my $tree = MaxMind::DB::Writer::Tree->new(ip_version => 6, record_size => 24,
  database_type => 'smoke-Country', languages => ['en'], description => {en => 'smoke'},
  map_key_type_callback => sub { $t{$_[0]} }, alias_ipv6_to_ipv4 => 1,
  remove_reserved_networks => 0);
for (@nets) { my ($net, $cont, $ctry) = split /,/;
  $tree->insert_network($net, {continent => {code => $cont}, country => {iso_code => $ctry}}); }
open my $fh, '>:raw', $out or die "$out: $!"; $tree->write_tree($fh); close $fh or die;
"""


def write_db(path, nets):
    """Write the database beside path and rename it over (what an operator does)."""
    tmp = path + ".new"
    subprocess.run(["perl", "-e", WRITER, tmp] + [",".join(n) for n in nets], check=True)
    os.rename(tmp, path)


class Listeners:
    """A TCP listener on each member address, one port (the health checks' target)."""

    def __init__(self, addrs):
        self.port = sdlib.free_port()
        self.socks = {}
        for a in addrs:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((a, self.port))
            s.listen(64)
            self.socks[a] = s

    def close(self, addr):
        self.socks.pop(addr).close()

    def close_all(self):
        for s in self.socks.values():
            s.close()
        self.socks = {}


@pytest.fixture
def geo(tmp_path):
    listeners = Listeners([EU, ASIA, US])
    workdir = str(tmp_path)
    db = os.path.join(workdir, "world.mmdb")
    write_db(db, NETS_V1)
    zfile = os.path.join(workdir, "example.com.zone")
    with open(zfile, "w") as f:
        f.write(ZONE)
    port = sdlib.free_port()
    conf = sdlib.steerdns_config(workdir, port, {"example.com": zfile})
    conf["geoip"] = {"databases": [{"name": "world", "file": "world.mmdb"}]}
    conf["health"] = {"templates": [{"name": "web", "type": "tcp", "port": listeners.port,
                                     "interval": "200ms", "timeout": "500ms", "jitter": "0%",
                                     "rise": 1, "fall": 2, "initial": "up"}]}
    conf["steering"] = [{
        "name": "www.example.com", "health": "web", "ttl-min": 5, "ttl-max": 30,
        "pools": [{"name": "eu", "members": [EU]}, {"name": "asia", "members": [ASIA]},
                  {"name": "us", "members": [US]}],
        "geo": {"database": "world",
                "rules": [{"continent": "EU", "pools": ["eu", "us"]},
                          {"country": "JP", "pools": ["asia", "us"]}],
                "default": ["us", "eu", "asia"]}}]
    srv = sdlib.Steerdns(workdir, conf, {"example.com": zfile}, port)
    srv.db_path = db
    srv.listeners = listeners
    try:
        srv.wait_ready("example.com")
        yield srv
    finally:
        listeners.close_all()
        rc = srv.stop()
        log = srv.log()
        assert rc == 0 and not sdlib.SANITIZER_RE.search(log), log[-4000:]


def ask(srv, subnet=None):
    """(addresses, reply ECS option or None) for www.example.com A."""
    kw = {}
    if subnet is not None:
        addr, bits = subnet.split("/")
        kw = {"use_edns": 0, "options": [dns.edns.ECSOption(addr, int(bits))]}
    r = srv.query("www.example.com", "A", **kw)
    assert r is not None and r.rcode() == 0
    addrs = [rd.address for rs in r.answer if rs.rdtype == dns.rdatatype.A for rd in rs]
    ecs = [o for o in r.options if isinstance(o, dns.edns.ECSOption)]
    return addrs, (ecs[0] if ecs else None)


def expected_scope(db, subnet):
    """The prefix length of the database network (or empty range) holding the subnet's
    address: what the reply's SCOPE must be."""
    with maxminddb.open_database(db) as r:
        return r.get_with_prefix_len(subnet.split("/")[0])[1]


@pytest.mark.parametrize("subnet,want", [
    ("10.1.3.0/24", EU),     # continent EU
    ("10.1.2.0/24", ASIA),   # its address 10.1.2.0 lies in the /25 JP network: scope 25
    ("10.1.2.128/25", EU),   # the /25 next to it: EU
    ("10.2.0.0/20", ASIA),   # country JP
    ("10.9.0.0/24", US),     # not in the database: default
])
def test_ecs_answers_and_scope(geo, subnet, want):
    addrs, ecs = ask(geo, subnet)
    assert addrs == [want], (subnet, addrs)
    assert ecs is not None
    assert (ecs.address, ecs.srclen) == (subnet.split("/")[0], int(subnet.split("/")[1]))
    assert ecs.scopelen == expected_scope(geo.db_path, subnet), (subnet, ecs.scopelen)


def test_peer_address_and_source_zero(geo):
    # no ECS: the peer 127.0.0.1 is in 127.0.0.0/24 (EU); the reply carries no ECS
    addrs, ecs = ask(geo)
    assert addrs == [EU] and ecs is None
    # ECS /0: "do not use my address" (RFC 7871 7.1.2): the peer decides, scope 0
    addrs, ecs = ask(geo, "0.0.0.0/0")
    assert addrs == [EU] and ecs is not None and ecs.scopelen == 0
    # a name without a policy: ECS echoed with scope 0
    r = geo.query("ns1.example.com", "A", use_edns=0,
                  options=[dns.edns.ECSOption("10.2.0.0", 24)])
    ecs = [o for o in r.options if isinstance(o, dns.edns.ECSOption)]
    assert ecs and ecs[0].scopelen == 0


def test_steerctl_client(geo):
    out = geo.steerctl("steering", "www.example.com", "--client", "10.2.0.0/20", "--json")
    assert out.returncode == 0, out.stderr
    pol = json.loads(out.stdout)["policies"][0]
    g = pol["geo"]
    assert (g["match"], g["code"], g["pools"]) == ("country", "JP", ["asia", "us"]), g
    assert g["scope"] == expected_scope(geo.db_path, "10.2.0.0/20")
    assert g["network"] == "10.2.0.0/%d" % g["scope"]
    assert pol["answer"]["A"]["pool"] == "asia"
    assert pol["answer"]["A"]["answer"]["records"] == [ASIA]
    text = geo.steerctl("steering", "www.example.com", "--client", "10.9.1.2").stdout
    assert "default" in text and "not in the database" in text, text
    bad = geo.steerctl("steering", "www.example.com", "--client", "10.9.1.2/33")
    assert bad.returncode != 0


def wait_answer(srv, subnet, want, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        addrs, _ = ask(srv, subnet)
        if addrs == [want] or (want is None and sorted(addrs) == [EU, ASIA, US]):
            return
        if time.monotonic() > deadline:
            pytest.fail("%s never got %s (last %r)\n%s" % (subnet, want, addrs, srv.log()[-2000:]))
        time.sleep(0.05)


def test_failover_within_geo_list(geo):
    # the EU pool's only member stops listening: EU clients fail over to "us", their list's
    # second pool (not to "asia", which comes first in the default list)
    assert ask(geo, "10.1.3.0/24")[0] == [EU]
    geo.listeners.close(EU)
    wait_answer(geo, "10.1.3.0/24", US)
    assert ask(geo, "10.9.0.0/24")[0] == [US]
    # an admin override acts at once, inside the list too: "us" down leaves EU clients with
    # nothing up in their list (eu, us): all-down answers every candidate
    out = geo.steerctl("health", "force-down", "www.example.com/" + US)
    assert out.returncode == 0, out.stdout + out.stderr
    wait_answer(geo, "10.1.3.0/24", None)
    assert ask(geo, "10.2.0.0/24")[0] == [ASIA]


def test_database_replaced(geo):
    assert ask(geo, "10.1.3.0/24")[0] == [EU]
    write_db(geo.db_path, NETS_V2)  # 10.1.0.0/16 is Japan now
    wait_answer(geo, "10.1.3.0/24", ASIA)
    _, ecs = ask(geo, "10.1.3.0/24")
    assert ecs.scopelen == expected_scope(geo.db_path, "10.1.3.0/24")
    assert sdlib.log_events(geo.log(), "geo-database-reloaded", database="world",
                            file=geo.db_path), geo.log()[-3000:]
    # a corrupt file: the database in use stays, the log names the path
    with open(geo.db_path + ".new", "wb") as f:
        f.write(b"not a MaxMind database" * 10)
    os.rename(geo.db_path + ".new", geo.db_path)
    assert geo.wait_for(lambda: sdlib.log_events(geo.log(), "geo-database-failed",
                                                 database="world"), timeout=10)
    assert geo.db_path in geo.log()
    assert ask(geo, "10.1.3.0/24")[0] == [ASIA]
    # and a reload fails with the path in its message, keeping what runs
    out = geo.steerctl("reload")
    assert out.returncode != 0 and "world.mmdb" in out.stdout + out.stderr, out
    assert ask(geo, "10.1.3.0/24")[0] == [ASIA]
