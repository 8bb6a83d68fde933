"""DNS cookies (issue 14, server/cookie.h: RFC 7873 with the RFC 9018 server cookie).

dig and kdig with +cookie, and BIND as a resolver forwarding to steerdns, get a server cookie
(dig checks its client cookie came back: "(good)") and re-use it: the server verifies it (the `valid` counter) and echoes it while it
is young. A forged server cookie is not accepted: a fresh one is issued (`invalid`), and with
`cookies: {mode: require}` the UDP answer is BADCOOKIE (extended RCODE 23) carrying that
fresh cookie, which dig then retries with by itself; TCP is answered. A cookie minted before
a rotation (`steerctl cookie-rotate`, a measured event) stays valid after it and is gone
after the next. A malformed COOKIE option is a FORMERR. Every process started here is
stopped by its own PID.
"""

import os
import re
import shutil
import subprocess
import struct
import time

import dns.edns
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

import sdlib

COOKIE = 10
CLIENT = bytes.fromhex("0102030405060708")


def counters(srv):
    out = srv.steerctl("status").stdout
    m = re.search(r"cookies: (\w+) client-only (\d+) valid (\d+) invalid (\d+) badcookie (\d+) "
                  r"rotations (\d+)", out)
    assert m, out
    return {"mode": m.group(1), "client_only": int(m.group(2)), "valid": int(m.group(3)),
            "invalid": int(m.group(4)), "badcookie": int(m.group(5)),
            "rotations": int(m.group(6))}


def tool(name, *args):
    if shutil.which(name) is None:
        pytest.skip("%s not installed" % name)
    r = subprocess.run([name] + list(args), capture_output=True, text=True, timeout=30)
    return r.stdout + r.stderr


def dig(srv, *opts):
    return tool("dig", "@127.0.0.1", "-p", str(srv.port), "+tries=1", "+time=3",
                "www.example.com", "A", *opts)


def kdig(srv, *opts):
    return tool("kdig", "@127.0.0.1", "-p", str(srv.port), "+retry=0", "+timeout=3",
                "www.example.com", "A", *opts)


def cookie_in(text):
    m = re.search(r"COOKIE: ([0-9A-Fa-f]+)", text)
    assert m, text
    return m.group(1).lower()


def ask(srv, cookie, tcp=False):
    """A query with a COOKIE option of these bytes; the parsed reply and its cookie bytes."""
    q = sdlib.make_query("www.example.com", "A", use_edns=0,
                         options=[dns.edns.GenericOption(COOKIE, cookie)])
    fn = sdlib.tcp_exchange if tcp else sdlib.udp_exchange
    wire = fn(q.to_wire(), srv.port)
    assert wire is not None
    r = dns.message.from_wire(wire)
    got = [o.to_wire() for o in r.options if o.otype == COOKIE]
    return r, got[0] if got else None


def test_dig_gets_and_reuses_a_cookie(steerdns):
    out = dig(steerdns, "+cookie")
    assert "status: NOERROR" in out and "(good)" in out, out
    full = cookie_in(out)
    assert len(full) == 48 and full[16:18] == "01", full  # client 8 + server 16, version 1
    before = counters(steerdns)
    out = dig(steerdns, "+cookie=" + full)
    assert "(good)" in out, out
    assert cookie_in(out) == full  # valid and young: echoed
    after = counters(steerdns)
    assert after["valid"] == before["valid"] + 1, (before, after)


def test_kdig_gets_and_reuses_a_cookie(steerdns):
    out = kdig(steerdns, "+cookie")
    assert "NOERROR" in out, out
    full = cookie_in(out)
    assert len(full) == 48
    before = counters(steerdns)
    out = kdig(steerdns, "+cookie=" + full)
    assert cookie_in(out) == full, out
    assert counters(steerdns)["valid"] == before["valid"] + 1


def test_forged_cookie_not_accepted(steerdns):
    r, got = ask(steerdns, CLIENT)
    assert r.rcode() == dns.rcode.NOERROR and got[:8] == CLIENT and len(got) == 24
    forged = got[:16] + bytes(b ^ 0xff for b in got[16:])
    before = counters(steerdns)
    r, fresh = ask(steerdns, forged)
    assert r.rcode() == dns.rcode.NOERROR and r.answer  # answered, but not trusted
    assert fresh[:8] == CLIENT and fresh[8:] != forged[8:]
    after = counters(steerdns)
    assert after["invalid"] == before["invalid"] + 1 and after["valid"] == before["valid"]
    r, _ = ask(steerdns, fresh)
    assert counters(steerdns)["valid"] == after["valid"] + 1


def test_require_badcookie(steerdns_factory):
    srv = steerdns_factory(cookies={"mode": "require"})
    r, got = ask(srv, CLIENT)  # no server cookie yet: BADCOOKIE with one
    assert r.rcode() == 23, r  # BADCOOKIE: header 7, extended 1
    assert not r.answer and got[:8] == CLIENT and len(got) == 24
    r, again = ask(srv, got)  # retried with it: answered
    assert r.rcode() == dns.rcode.NOERROR and r.answer
    forged = got[:16] + bytes(8)
    r, _ = ask(srv, forged)
    assert r.rcode() == 23
    r, _ = ask(srv, forged, tcp=True)  # TCP proves the address
    assert r.rcode() == dns.rcode.NOERROR and r.answer
    r = srv.query_udp("www.example.com", "A")  # no COOKIE option: answered (RFC 7873 5.2.1)
    assert r.rcode() == dns.rcode.NOERROR and r.answer
    assert counters(srv)["badcookie"] == 2
    # dig sees BADCOOKIE, retries with the new cookie and gets the answer
    out = dig(srv, "+cookie=" + (CLIENT + bytes(16)).hex())
    assert "BADCOOKIE" in out and "status: NOERROR" in out, out


def test_rotation_keeps_previous_secret(steerdns_factory):
    srv = steerdns_factory(cookies={"mode": "require"})
    _, minted = ask(srv, CLIENT)
    r, _ = ask(srv, minted)
    assert r.rcode() == dns.rcode.NOERROR
    out = srv.steerctl("cookie-rotate")
    assert out.returncode == 0 and "rotated" in out.stdout, out
    assert counters(srv)["rotations"] == 1
    r, renewed = ask(srv, minted)  # made with the previous secret: still valid
    assert r.rcode() == dns.rcode.NOERROR and r.answer
    assert renewed[8:] != minted[8:]  # re-issued with the current secret
    assert srv.steerctl("cookie-rotate").returncode == 0
    r, _ = ask(srv, minted)  # two rotations old: gone
    assert r.rcode() == 23
    r, _ = ask(srv, renewed)  # the renewed one is the previous secret's now: valid
    assert r.rcode() == dns.rcode.NOERROR


def test_rotation_on_schedule(steerdns_factory):
    """cookies.rotate-interval drives the rotation on its own (counted in status)."""
    srv = steerdns_factory(cookies={"mode": "on", "rotate-interval": "1s"})
    assert srv.wait_for(lambda: counters(srv)["rotations"] >= 2, timeout=30, interval=0.2)
    assert len(sdlib.log_events(srv.log(), "cookie-secret-rotated")) >= 2
    r, got = ask(srv, CLIENT)
    assert r.rcode() == dns.rcode.NOERROR and len(got) == 24


def test_server_cookie_query(steerdns):
    """RFC 7873 5.4: QDCOUNT 0 with a COOKIE asks for a server cookie alone."""
    out = tool("dig", "@127.0.0.1", "-p", str(steerdns.port), "+tries=1", "+time=3",
               "+cookie", "+header-only")
    assert "status: NOERROR" in out and "QUERY: 0" in out and "(good)" in out, out
    assert len(cookie_in(out)) == 48


def test_malformed_cookie_formerr(steerdns):
    for bad in (bytes(7), bytes(12), bytes(41)):
        r, _ = ask(steerdns, bad)
        assert r.rcode() == dns.rcode.FORMERR, (len(bad), r)


def test_cookies_off(steerdns_factory):
    srv = steerdns_factory(cookies={"mode": "off"})
    r, got = ask(srv, CLIENT)
    assert r.rcode() == dns.rcode.NOERROR and got is None
    assert "cookie-rotate" in srv.steerctl("help").stdout
    out = srv.steerctl("cookie-rotate")
    assert out.returncode == 1 and "cookies are off" in out.stdout + out.stderr, out


def _named_forwarder(tmp_path, upstream):
    """named (BIND 9, Debian) as a resolver on 127.0.0.1 that forwards example.com to steerdns
    (`forward only`): it sends DNS cookies to the servers it queries (send-cookie, on by
    default), keeps each server's cookie and retries a BADCOOKIE over UDP with the fresh one
    (RFC 7873 5.3) — the resolver side of the interoperability the issue asks for."""
    if shutil.which("named") is None:
        pytest.skip("named not installed")
    workdir = tmp_path / "named"
    workdir.mkdir()
    port = sdlib.free_port()
    conf = workdir / "named.conf"
    conf.write_text("""options {
    directory "%(w)s";
    listen-on port %(port)d { 127.0.0.1; };
    listen-on-v6 { none; };
    pid-file "%(w)s/named.pid";
    session-keyfile "%(w)s/session.key";
    recursion yes;
    allow-recursion { 127.0.0.1; };
    allow-query-cache { 127.0.0.1; };
    dnssec-validation no;
    send-cookie yes;
    notify no;
};
controls { };
zone "example.com" {
    type forward;
    forward only;
    forwarders { 127.0.0.1 port %(up)d; };
};
""" % {"w": workdir, "port": port, "up": upstream})
    named = sdlib.ServerProcess(["named", "-g", "-u", "root", "-c", str(conf)],
                                str(workdir / "named.log"), port, cwd=str(workdir))
    return named


def _named_ask(named, name):
    """Ask named for name's A records; its answer's addresses (several tries: a loaded box)."""
    q = sdlib.make_query(name, "A", rd=True)
    deadline = time.monotonic() + 30  # named's start on a loaded box included
    while time.monotonic() < deadline:
        wire = sdlib.udp_exchange(q.to_wire(), named.port, timeout=2.0)
        if wire is not None:
            r = dns.message.from_wire(wire)
            if r.rcode() == dns.rcode.NOERROR and r.answer:
                return sorted(rd.to_text() for rrset in r.answer for rd in rrset)
        assert named.alive(), named.log()[-3000:]
        time.sleep(0.1)
    pytest.fail("named never resolved %s:\n%s" % (name, named.log()[-3000:]))


@pytest.mark.parametrize("mode", ["on", "require"])
def test_bind_resolver_interop(steerdns_factory, tmp_path, mode):
    """BIND as a resolver in front of steerdns: it resolves through cookies on and through
    `require` (taking the BADCOOKIE and retrying with the server cookie), and from its second
    query on presents a server cookie steerdns verifies (the `valid` counter grows with every
    further query; none is `invalid`)."""
    srv = steerdns_factory(cookies={"mode": mode})
    named = _named_forwarder(tmp_path, srv.port)
    try:
        assert _named_ask(named, "www.example.com") == ["192.0.2.80"]
        first = counters(srv)
        assert first["client_only"] + first["badcookie"] >= 1, first  # named sent a cookie
        assert _named_ask(named, "mail.example.com") == ["192.0.2.25"]
        assert _named_ask(named, "ns1.example.com") == ["192.0.2.1"]
        after = counters(srv)
        assert after["valid"] >= first["valid"] + 2, (first, after)
        assert after["invalid"] == 0, after
        if mode == "require":
            assert after["badcookie"] >= 1, after
    finally:
        named.stop()


def _update_server(tmp_path, **server):
    """steerdns serving basic.zone as example.com with TXT updates allowed to UPDATE_KEY
    (and unsigned from 127.0.0.1 at open.example.com)."""
    workdir = str(tmp_path)
    port = sdlib.free_port()
    zone = os.path.join(workdir, "example.com.zone")
    shutil.copyfile(os.path.join(sdlib.DATA, "basic.zone"), zone)
    policy = [{"key": sdlib.UPDATE_KEY_NAME, "name": "example.com", "types": ["TXT"]},
              {"address": "127.0.0.1", "match": "name", "name": "open.example.com",
               "types": ["TXT"]}]
    conf = sdlib.steerdns_update_config(workdir, port, "example.com", zone, policy, **server)
    srv = sdlib.Steerdns(workdir, conf, {"example.com": zone}, port)
    srv.wait_ready("example.com")
    return srv


def _stop(srv):
    rc = srv.stop()
    log = srv.log()
    assert sdlib.SANITIZER_RE.search(log) is None, log[-6000:]
    assert rc == 0, log[-4000:]


def _update(srv, cookie, name, key=sdlib.UPDATE_KEY, tcp=False):
    """A TXT add with EDNS and (cookie not None) a COOKIE option; the parsed reply (its
    TSIG verified by dnspython when signed: the MAC covers the OPT before it) and the
    reply's cookie bytes."""
    upd = sdlib.update_msg("example.com", key=key)
    upd.add(name, 300, "TXT", "cookie")
    upd.use_edns(0, options=[dns.edns.GenericOption(COOKIE, cookie)] if cookie else [])
    r = sdlib.send_update(upd, srv.port, tcp=tcp)
    got = [o.to_wire() for o in r.options if o.otype == COOKIE]
    return r, got[0] if got else None


def test_update_reply_carries_cookie(tmp_path):
    """RFC 7873 5.2: an UPDATE with a client cookie gets the server cookie back, over UDP and
    TCP, signed or not (the OPT before the TSIG); one without gets none. A server cookie
    the UPDATE reply gave is valid for queries (computed as the query path does)."""
    srv = _update_server(tmp_path)
    try:
        for tcp in (False, True):
            r, got = _update(srv, CLIENT, "c%d.example.com." % tcp, tcp=tcp)
            assert r.rcode() == dns.rcode.NOERROR and r.had_tsig, r
            assert got is not None and got[:8] == CLIENT and len(got) == 24, r
            assert got[8] == 1  # RFC 9018 version 1
        r, got = _update(srv, CLIENT, "open.example.com.", key=None)
        assert r.rcode() == dns.rcode.NOERROR and got[:8] == CLIENT and len(got) == 24, r
        r, got = _update(srv, None, "open.example.com.", key=None)
        assert r.rcode() == dns.rcode.NOERROR and r.edns == 0 and got is None, r
        before = counters(srv)
        r, echoed = ask(srv, _update(srv, CLIENT, "open.example.com.", key=None)[1])
        assert counters(srv)["valid"] == before["valid"] + 1 and r.answer, r
    finally:
        _stop(srv)


def test_update_require_badcookie(tmp_path):
    """cookies: require applies to UPDATE over UDP as to queries (RFC 7873 5.2.3): only a
    client cookie -> BADCOOKIE (signed, with a fresh cookie), nothing applied; retried with
    that cookie -> applied; over TCP -> applied."""
    srv = _update_server(tmp_path, cookies={"mode": "require"})
    try:
        r, got = _update(srv, CLIENT, "bad.example.com.")
        assert r.rcode() == 23 and r.had_tsig and got[:8] == CLIENT and len(got) == 24, r
        assert not srv.query("bad.example.com", "TXT").answer
        r, _ = _update(srv, got, "good.example.com.")
        assert r.rcode() == dns.rcode.NOERROR, r
        r, _ = _update(srv, CLIENT, "tcp.example.com.", tcp=True)
        assert r.rcode() == dns.rcode.NOERROR, r
        assert srv.query("good.example.com", "TXT").answer
        assert srv.query("tcp.example.com", "TXT").answer
    finally:
        _stop(srv)


def _axfr_messages(srv, q):
    """Every message of a TCP transfer answering q (until the closing SOA or an error)."""
    wire = q.to_wire()
    s = sdlib.tcp_connect(srv.port, timeout=5)
    msgs, soas = [], 0
    try:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        while soas < 2:
            m = sdlib.tcp_read_msg(s, timeout=5)
            assert m is not None, msgs
            msgs.append(m)
            r = dns.message.from_wire(m, one_rr_per_rrset=True)
            if r.rcode() != dns.rcode.NOERROR:
                break
            soas += sum(1 for rr in r.answer if rr.rdtype == dns.rdatatype.SOA)
    finally:
        s.close()
    return msgs


def _cookie_of(wire):
    r = dns.message.from_wire(wire, one_rr_per_rrset=True)
    got = [o.to_wire() for o in r.options if o.otype == COOKIE]
    return r, got[0] if got else None


def test_transfer_messages_carry_cookie(tmp_path):
    """RFC 7873 5.2 for transfers: every AXFR message's OPT carries the client cookie and
    the server cookie (the query path's), a refusal's too; a signed AXFR with a cookie
    verifies end to end (the OPT precedes the TSIG of each message, RFC 8945 5.3.1)."""
    srv = _update_server(tmp_path)
    try:
        opts = [dns.edns.GenericOption(COOKIE, CLIENT)]
        q = dns.message.make_query("example.com", "AXFR", use_edns=0, options=opts)
        msgs = _axfr_messages(srv, q)
        assert msgs
        cookies = set()
        for m in msgs:
            r, got = _cookie_of(m)
            assert r.rcode() == dns.rcode.NOERROR and r.edns == 0, r
            assert got is not None and got[:8] == CLIENT and len(got) == 24, r
            cookies.add(got)
        assert len(cookies) == 1
        before = counters(srv)
        r, _ = ask(srv, cookies.pop())  # the server cookie is valid on the query path
        assert counters(srv)["valid"] == before["valid"] + 1 and r.answer
        q = dns.message.make_query("nope.test", "AXFR", use_edns=0, options=opts)
        r, got = _cookie_of(sdlib.tcp_exchange(q.to_wire(), srv.port))
        assert r.rcode() == dns.rcode.NOTAUTH and got[:8] == CLIENT and len(got) == 24, r
        # signed: dnspython checks each message's TSIG, which covers the OPT before it
        q = dns.message.make_query("example.com", "AXFR", use_edns=0, options=opts)
        q.use_tsig(sdlib.UPDATE_KEY)
        zone = dns.zone.Zone("example.com.")
        dns.query.inbound_xfr("127.0.0.1", zone, query=q, port=srv.port, timeout=10)
        assert zone.get_rdataset("@", "SOA") is not None
    finally:
        _stop(srv)


def test_ixfr_udp_require_badcookie(tmp_path):
    """cookies: require covers an IXFR over UDP too: only a client cookie -> BADCOOKIE with a
    fresh cookie; retried with it -> the IXFR answer (carrying the cookie)."""
    srv = _update_server(tmp_path, cookies={"mode": "require"})
    try:
        serial = srv.query("example.com", "SOA").answer[0][0].serial

        def ixfr(cookie):
            q = dns.message.make_query("example.com", "IXFR", use_edns=0,
                                       options=[dns.edns.GenericOption(COOKIE, cookie)])
            q.authority.append(dns.rrset.from_text(
                "example.com.", 0, "IN", "SOA", ". . %d 0 0 0 0" % serial))
            return _cookie_of(sdlib.udp_exchange(q.to_wire(), srv.port))

        r, got = ixfr(CLIENT)
        assert r.rcode() == 23 and not r.answer and got[:8] == CLIENT and len(got) == 24, r
        r, again = ixfr(got)
        assert r.rcode() == dns.rcode.NOERROR and r.answer and again[:8] == CLIENT, r
    finally:
        _stop(srv)
