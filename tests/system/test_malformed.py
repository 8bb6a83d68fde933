"""Malformed queries: the corpus in data/malformed/ (written by gen_malformed.py) over UDP and
TCP. After every message the daemon must still answer a good query; where the message has a
header the response, if any, must be a well-formed response with the expected RCODE (the file
name lists the acceptable outcomes, `drop` meaning no response). DESIGN.md: "Malformed query:
FORMERR when a header can be answered, drop otherwise; never a crash." The fixture's teardown
then checks a clean exit and no sanitizer report.
"""

import glob
import os
import socket
import struct
import time

import dns.message
import dns.opcode
import dns.rcode

import sdlib

CORPUS = sorted(glob.glob(os.path.join(sdlib.DATA, "malformed", "*.bin")))
GOOD_ID = 0x600D


def outcomes(path):
    return set(os.path.basename(path).split("__", 1)[0].split("+"))


def good_query():
    q = sdlib.make_query("www.example.com", "A")
    q.id = GOOD_ID
    return q.to_wire()


def is_good_reply(wire):
    if wire is None or len(wire) < 12 or struct.unpack("!H", wire[:2])[0] != GOOD_ID:
        return False
    try:
        m = sdlib.parse(wire)
    except Exception:
        return False
    return m.rcode() == dns.rcode.NOERROR and len(m.answer) > 0


def check_reply(bad, reply, allowed):
    """None when reply (bytes or None for no reply) is acceptable for the bad query."""
    if reply is None:
        if "drop" in allowed or "any" in allowed:
            return None
        return "no response, expected one of %s" % sorted(allowed)
    if "drop" in allowed and len(allowed) == 1:
        return "answered a message that must be dropped"
    if len(reply) < 12:
        return "response shorter than a header"
    if struct.unpack("!H", reply[:2])[0] != struct.unpack("!H", bad[:2])[0]:
        return "response id does not match the query id"
    # RFC 1035 4.1.1: OPCODE "is set by the originator of a query and copied into the response"
    opcode = (reply[2] >> 3) & 0xF
    if len(bad) >= 3 and opcode != (bad[2] >> 3) & 0xF:
        return "opcode %d not copied (got %d)" % ((bad[2] >> 3) & 0xF, opcode)
    if not reply[2] & 0x80:
        return "response without QR"
    # dnspython knows few opcodes and reads UPDATE sections differently: check the structure
    # of the message with the opcode bits cleared
    plain = reply[:2] + bytes([reply[2] & 0x87]) + reply[3:]
    try:
        m = dns.message.from_wire(plain, raise_on_truncation=False, ignore_trailing=False)
    except Exception as e:
        return "response does not parse: %s" % e
    rcode = dns.rcode.to_text(m.rcode())
    if "any" in allowed or rcode in allowed:
        return None
    return "rcode %s, expected one of %s" % (rcode, sorted(allowed))


def handed_off(bad):
    """UPDATE (opcode 5) is answered by the control thread (server/handoff.h), so its reply may
    come after the reply to the good query sent behind it: UDP has no order, and RFC 7766
    6.2.1.1 lets a TCP server answer pipelined queries out of order."""
    return len(bad) >= 3 and (bad[2] >> 3) & 0xF == 5


def udp_probe(port, bad):
    """Send bad then a good query from one socket; return (reply to bad or None, good ok)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(2.0)
        s.connect(("127.0.0.1", port))
        s.send(bad)
        s.send(good_query())
        replies = []
        good_seen = False
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            try:
                r = s.recv(65535)
            except (socket.timeout, ConnectionRefusedError):
                break
            if is_good_reply(r):
                if not replies and handed_off(bad):
                    good_seen = True
                    continue
                return (replies[0] if replies else None), len(replies), True
            replies.append(r)
            if good_seen:
                return replies[0], len(replies), True
        return (replies[0] if replies else None), len(replies), good_seen
    finally:
        s.close()


def tcp_probe(port, bad):
    """bad and a good query pipelined in one write. Returns (reply to bad or None, count,
    good answered on this connection, closed)."""
    s = sdlib.tcp_connect(port)
    try:
        frame = struct.pack("!H", len(bad)) + bad
        good = good_query()
        s.sendall(frame + struct.pack("!H", len(good)) + good)
        replies = []
        good_seen = False
        for _ in range(3):
            r = sdlib.tcp_read_msg(s, 2.0)
            if r is None:
                return (replies[0] if replies else None), len(replies), good_seen, True
            if is_good_reply(r):
                if not replies and handed_off(bad):
                    good_seen = True
                    continue
                return (replies[0] if replies else None), len(replies), True, False
            replies.append(r)
            if good_seen:
                return replies[0], len(replies), True, False
        return replies[0], len(replies), good_seen, False
    except (ConnectionResetError, BrokenPipeError):
        return None, 0, False, True
    finally:
        s.close()


def still_answers(srv):
    return is_good_reply(sdlib.udp_exchange(good_query(), srv.port, timeout=2.0)) and \
        is_good_reply(sdlib.tcp_exchange(good_query(), srv.port, timeout=2.0))


def test_corpus_present():
    assert len(CORPUS) >= 100, "run tests/system/gen_malformed.py"
    names = " ".join(os.path.basename(p) for p in CORPUS)
    for what in ("short-header", "qdcount-0", "qdcount-2", "label-past-end", "compression-loop",
                 "forward-pointer", "name-257", "two-opt", "opt-nonroot", "opt-truncated",
                 "qr-set", "opcode-15", "all-counts-65535", "random"):
        assert what in names, what


def test_malformed_udp(steerdns):
    failures = []
    for path in CORPUS:
        bad = open(path, "rb").read()
        reply, count, good = udp_probe(steerdns.port, bad)
        name = os.path.basename(path)
        if count > 1:
            failures.append("%s: %d responses to one query" % (name, count))
        err = check_reply(bad, reply, outcomes(path))
        if err:
            failures.append("%s: %s" % (name, err))
        if not good:
            failures.append("%s: the following good query got no answer" % name)
            if not steerdns.alive():
                failures.append("daemon died after %s" % name)
                break
    assert steerdns.alive() and still_answers(steerdns)
    assert not failures, "\n".join(failures)


def test_malformed_tcp(steerdns):
    failures = []
    for path in CORPUS:
        bad = open(path, "rb").read()
        name = os.path.basename(path)
        allowed = outcomes(path)
        reply, count, good, closed = tcp_probe(steerdns.port, bad)
        if count > 1:
            failures.append("%s: %d responses to one query" % (name, count))
        # On TCP the server may also close the connection on a message it cannot use (RFC 7766
        # 6.2.4 lets it close at will); a closed connection counts as "no response".
        if reply is None and closed:
            allowed = allowed | {"drop"}
        err = check_reply(bad, reply, allowed)
        if err:
            failures.append("%s: %s" % (name, err))
        if not good and not closed:
            failures.append("%s: pipelined good query unanswered on an open connection" % name)
        if not still_answers(steerdns):
            failures.append("%s: the server stopped answering" % name)
            break
    assert steerdns.alive()
    assert not failures, "\n".join(failures)


def test_tcp_bad_framing(steerdns):
    """Half messages, zero and short lengths, and abrupt closes never hurt the server."""
    good = good_query()
    frames = [
        b"\x00",                                   # half a length prefix, then close
        struct.pack("!H", 100) + good[:20],         # length larger than what follows, close
        struct.pack("!H", 0),                       # zero-length message
        struct.pack("!H", 5) + b"\x12\x34\x00\x00\x00",  # shorter than a header
        struct.pack("!H", 65535) + b"\x00" * 1000,  # maximal length, most of it missing
    ]
    for frame in frames:
        s = sdlib.tcp_connect(steerdns.port)
        s.sendall(frame)
        if frame[:2] in (b"\x00\x00", b"\x00\x05"):
            # RFC 7766 8 and the daemon: a message shorter than a header closes the connection
            assert sdlib.wait_closed(s, 3.0), "connection left open after %r" % frame[:8]
        s.close()
        assert still_answers(steerdns), "no answer after %r" % frame[:8]
    # a reset instead of a close
    s = sdlib.tcp_connect(steerdns.port)
    s.sendall(struct.pack("!H", len(good)) + good[:10])
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    assert still_answers(steerdns)
