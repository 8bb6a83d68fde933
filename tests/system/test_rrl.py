"""Response rate limiting (issue 14, server/rrl.h).

A paced flood of one identical query from one loopback source (127.0.0.1) for FLOOD_S
seconds at FLOOD_QPS is limited to the configured rate: the full answers it gets stay within
rate x (seconds + 1) (the bucket starts full: one second's burst) with a margin for the
server working through its socket queue after the client stops, and at least half of
rate x seconds (a loaded 2-core machine may starve the server for a while; queries keep
arriving, so every refill is used). With slip 2, half of the limited responses leave
truncated (the server's own counters, exact per bucket), and the client receives them as
TC with no records. Meanwhile a second source in another /24 (127.0.1.2: all of 127/8 is
loopback on Linux) asking the same question at a rate below the limit keeps full service,
TCP is never limited, a whitelisted network is never limited, and log-only limits nothing.
A slipped reply keeps the query's OPT (RFC 6891 7) with the COOKIE option, whose server
cookie then exempts the client.
Every process started here is stopped by its own PID.
"""

import re
import select
import socket
import time

import dns.edns
import dns.flags
import dns.message
import dns.rcode

import sdlib

RATE = 20
FLOOD_S = 2.5
FLOOD_QPS = 800
SECOND_EVERY = 80  # the second source sends one query per this many flood queries: 10/s


def rrl_counters(srv):
    out = srv.steerctl("status").stdout
    m = re.search(r"rrl: limited (\d+) slipped (\d+) dropped (\d+) exempt (\d+)", out)
    assert m, out
    return dict(zip(("limited", "slipped", "dropped", "exempt"), map(int, m.groups())))


def udp_socket(source):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((source, 0))
    s.setblocking(False)
    return s


class Tally:
    def __init__(self):
        self.sent = self.full = self.tc = self.other = 0
        self.last_tc = None  # the last truncated reply


    def take(self, wire):
        m = dns.message.from_wire(wire)
        if m.flags & dns.flags.TC:
            assert not m.answer and not m.authority, m
            self.tc += 1
            self.last_tc = m
        elif m.rcode() == dns.rcode.NOERROR and m.answer:
            self.full += 1
        else:
            self.other += 1


def drain(socks, timeout=0.0):
    while True:
        ready, _, _ = select.select(list(socks), [], [], timeout)
        if not ready:
            return
        for s in ready:
            try:
                socks[s].take(s.recv(4096))
            except BlockingIOError:
                pass


def flood(srv, second=None, seconds=FLOOD_S, qps=FLOOD_QPS, wire=None):
    """Paced identical queries from 127.0.0.1 (and, every SECOND_EVERY, from second).
    Returns (flood tally, second tally, the flood's duration)."""
    wire = wire or sdlib.make_query("www.example.com", "A").to_wire()
    main = udp_socket("127.0.0.1")
    socks = {main: Tally()}
    other = None
    if second:
        other = udp_socket(second)
        socks[other] = Tally()
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < seconds:
        due = start + i / qps
        now = time.monotonic()
        if due > now:
            drain(socks, due - now)
            continue
        main.sendto(wire, ("127.0.0.1", srv.port))
        socks[main].sent += 1
        if other is not None and i % SECOND_EVERY == 0:
            other.sendto(wire, ("127.0.0.1", srv.port))
            socks[other].sent += 1
        i += 1
    duration = time.monotonic() - start
    end = time.monotonic() + 1.0  # replies still queued
    while time.monotonic() < end:
        drain(socks, 0.1)
    tallies = [socks[main], socks[other] if other else None]
    for s in socks:
        s.close()
    return tallies[0], tallies[1], duration


def test_flood_limited_with_slip_second_source_served(steerdns_factory):
    srv = steerdns_factory(rrl={"rate": RATE, "slip": 2})
    t, second, dur = flood(srv, second="127.0.1.2")
    c = rrl_counters(srv)
    upper = RATE * (dur + 1) + RATE * 0.5 + 2
    lower = RATE * dur * 0.5
    assert lower <= t.full <= upper, (t.__dict__, dur, c)
    assert t.other == 0, t.__dict__
    # slip 2: every second limited response of the bucket goes out truncated
    assert c["limited"] > 0.5 * FLOOD_QPS * dur, c
    assert c["limited"] == c["slipped"] + c["dropped"]
    assert abs(c["slipped"] - c["limited"] / 2) <= 2, c
    assert 0.8 * c["slipped"] <= t.tc <= c["slipped"], (t.__dict__, c)
    # the second source, below the rate, got every reply it got in full
    assert second.tc == 0 and second.other == 0, second.__dict__
    assert second.full >= 0.9 * second.sent, second.__dict__
    # TCP proves the source: never limited, even for the flooded bucket
    r = srv.query_tcp("www.example.com", "A")
    assert r is not None and r.answer
    assert sdlib.log_events(srv.log(), "rrl-limiting", network="127.0.0.0/24", rate=20,
                            mode="limit", **{"class": "answer"}), srv.log()[-3000:]


def test_whitelisted_never_limited(steerdns_factory):
    srv = steerdns_factory(rrl={"rate": RATE, "slip": 2, "whitelist": ["127.0.0.0/24"]})
    t, _, dur = flood(srv, seconds=1.5, qps=400)
    c = rrl_counters(srv)
    assert c["limited"] == 0 and t.tc == 0, (c, t.__dict__)
    assert t.full >= 0.9 * t.sent, t.__dict__
    assert c["exempt"] >= t.full


def test_log_only_limits_nothing(steerdns_factory):
    srv = steerdns_factory(rrl={"rate": RATE, "log-only": True})
    t, _, dur = flood(srv, seconds=1.5, qps=400)
    c = rrl_counters(srv)
    assert t.tc == 0 and t.full >= 0.9 * t.sent, t.__dict__
    assert c["limited"] > 0 and c["slipped"] == 0 and c["dropped"] == 0, c
    assert sdlib.log_events(srv.log(), "rrl-limiting", mode="log-only"), srv.log()[-3000:]


def cookie_query(cookie):
    return sdlib.make_query("www.example.com", "A", use_edns=0,
                            options=[dns.edns.GenericOption(10, cookie)])


def test_valid_cookie_exempt(steerdns_factory):
    """A client that presents a valid server cookie (RFC 7873) has proven its address."""
    srv = steerdns_factory(rrl={"rate": RATE, "slip": 2})
    s = udp_socket("127.0.0.1")
    s.setblocking(True)
    s.settimeout(2)
    s.sendto(cookie_query(bytes(range(8))).to_wire(), ("127.0.0.1", srv.port))
    reply = dns.message.from_wire(s.recv(4096))
    s.close()
    full = [o.to_wire() for o in reply.options if o.otype == 10][0]
    assert len(full) == 24
    t, _, dur = flood(srv, seconds=1.5, qps=400, wire=cookie_query(full).to_wire())
    c = rrl_counters(srv)
    assert t.tc == 0 and t.full >= 0.9 * t.sent, (t.__dict__, c)
    assert c["limited"] == 0 and c["exempt"] >= t.full, c
    # the same flood without the cookie is limited
    t, _, _ = flood(srv, seconds=1.5, qps=400, wire=cookie_query(bytes(range(8))).to_wire())
    assert t.full <= RATE * 3.5 and rrl_counters(srv)["limited"] > 0, t.__dict__


def test_slip_keeps_opt_and_cookie(steerdns_factory):
    """RFC 6891 7: a slipped reply to an EDNS query still carries an OPT (our payload
    size), and with the COOKIE option (RFC 7873 5.2) when the query had one: the client
    retries with that server cookie and is answered in full (exempt)."""
    srv = steerdns_factory(rrl={"rate": RATE, "slip": 1})
    client = bytes(range(8))
    t, _, _ = flood(srv, seconds=1.0, qps=300, wire=cookie_query(client).to_wire())
    assert t.tc > 0, t.__dict__
    m = t.last_tc
    assert m.edns == 0 and m.payload == 1232, m
    assert not m.answer and not m.authority and not m.additional, m
    cookies = [o.to_wire() for o in m.options if o.otype == 10]
    assert len(cookies) == 1 and len(cookies[0]) == 24 and cookies[0][:8] == client, m
    # the bucket is still empty: with the server cookie the answer comes back whole
    t2, _, _ = flood(srv, seconds=0.5, qps=100, wire=cookie_query(cookies[0]).to_wire())
    assert t2.tc == 0 and t2.full >= 0.9 * t2.sent, t2.__dict__
    # an EDNS query without a cookie: the slipped reply has an OPT and no COOKIE
    t, _, _ = flood(srv, seconds=1.0, qps=300,
                    wire=sdlib.make_query("www.example.com", "A", use_edns=0).to_wire())
    assert t.tc > 0, t.__dict__
    m = t.last_tc
    assert m.edns == 0 and m.payload == 1232 and not m.options, m
    # without EDNS: none
    t, _, _ = flood(srv, seconds=1.0, qps=300)
    assert t.tc > 0 and t.last_tc.edns == -1, t.__dict__


def test_off_by_default(steerdns):
    assert "rrl: off" in steerdns.steerctl("status").stdout
    t, _, _ = flood(steerdns, seconds=1.0, qps=300)
    assert t.tc == 0 and t.full >= 0.9 * t.sent, t.__dict__
