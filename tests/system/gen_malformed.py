#!/usr/bin/python3
"""Generate the malformed-query corpus in tests/system/data/malformed/.

Each file is one raw DNS message (no TCP length prefix), so the directory doubles as a seed
corpus for the fuzz targets. The file name says what the server may do with it:

    <OUTCOMES>__<description>.bin      OUTCOMES = outcomes joined by '+'

where an outcome is an RCODE name (FORMERR, NOTIMP, REFUSED, NOERROR, NXDOMAIN) or `drop`
(no response at all), or `any` (random input: anything but a crash, and a well-formed
response when there is one). test_malformed.py reads the expectation back from the name.
Run it again after editing: the corpus is deterministic (fixed seed) and rewritten whole.
"""

import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data", "malformed")

QID = 0x4D41  # "MA": every generated query with a header carries this id


def header(qd=1, an=0, ns=0, ar=0, flags=0, opcode=0, qid=QID):
    return struct.pack("!HHHHHH", qid, flags | (opcode << 11), qd, an, ns, ar)


def name(text):
    """Uncompressed wire name from dotted text ('' is the root)."""
    out = b""
    for label in text.split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


WWW = name("www.example.com")
Q_A = WWW + struct.pack("!HH", 1, 1)


def opt(payload=1232, ext_rcode=0, version=0, flags=0, rdata=b"", owner=b"\x00", rdlen=None):
    rdlen = len(rdata) if rdlen is None else rdlen
    return owner + struct.pack("!HHBBHH", 41, payload, ext_rcode, version, flags, rdlen) + rdata


def corpus():
    c = {}
    # --- no complete header: nothing can be answered (DESIGN: drop) ---
    for n in (0, 1, 2, 5, 11):
        c["drop__short-header-%d" % n] = header()[:n]
    # --- QR=1: a response is never answered (RFC 1035 4.1.1; avoids reflection loops) ---
    c["drop__qr-set"] = header(flags=0x8000) + Q_A
    c["drop__qr-set-formerr-rcode"] = header(flags=0x8001) + Q_A
    # --- question count other than one (RFC 9619 / issue: FORMERR) ---
    c["FORMERR__qdcount-0"] = header(qd=0)
    c["FORMERR__qdcount-0-with-opt"] = header(qd=0, ar=1) + opt()
    c["FORMERR__qdcount-2"] = header(qd=2) + Q_A + name("mail.example.com") + b"\x00\x01\x00\x01"
    c["FORMERR__qdcount-2-only-one-present"] = header(qd=2) + Q_A
    c["FORMERR__qdcount-65535"] = header(qd=65535) + Q_A
    # --- broken question names ---
    c["FORMERR__question-missing"] = header()
    c["FORMERR__label-past-end"] = header() + b"\x03www\x3fexam"
    c["FORMERR__label-past-end-2"] = header() + b"\x07example"
    c["FORMERR__no-root-label"] = header() + b"\x03www\x07example\x03com"
    c["FORMERR__qtype-missing"] = header() + WWW
    c["FORMERR__qclass-truncated"] = header() + WWW + b"\x00\x01\x00"
    c["FORMERR__compression-loop-self"] = header() + b"\xc0\x0c" + b"\x00\x01\x00\x01"
    c["FORMERR__compression-loop-two"] = (header() + b"\x03www\xc0\x12" + b"\x03abc\xc0\x0c" +
                                          b"\x00\x01\x00\x01")
    # RFC 1035 4.1.4 allows pointers to a prior occurrence only; following one is harmless
    c["FORMERR+REFUSED__forward-pointer"] = (header() + b"\x03www\xc0\x16\x00\x01\x00\x01" +
                                             name("com"))
    c["FORMERR__pointer-past-end"] = header() + b"\x03www\xc3\xff\x00\x01\x00\x01"
    c["FORMERR+REFUSED__pointer-into-header"] = header() + b"\xc0\x02\x00\x01\x00\x01"
    c["FORMERR__pointer-truncated"] = header() + b"\x03www\xc0"
    c["FORMERR__label-type-0x40"] = header() + b"\x41\x00" + name("com") + b"\x00\x01\x00\x01"
    c["FORMERR__label-type-0x80"] = header() + b"\x81\x00" + name("com") + b"\x00\x01\x00\x01"
    long_name = b"".join(b"\x3f" + b"a" * 63 for _ in range(4)) + b"\x00"  # 257 bytes
    c["FORMERR__name-257-bytes"] = header() + long_name + b"\x00\x01\x00\x01"
    many = b"\x01a" * 130 + b"\x00"  # 261 bytes in 130 labels
    c["FORMERR__name-130-labels"] = header() + many + b"\x00\x01\x00\x01"
    # --- EDNS: RFC 6891 6.1.1 "more than one OPT RR ... FORMERR MUST be returned" ---
    c["FORMERR__two-opt"] = header(ar=2) + Q_A + opt() + opt()
    # RFC 6891 6.1.2 fixes the owner to root but names no responder action
    c["FORMERR+NOERROR__opt-nonroot-owner"] = header(ar=1) + Q_A + opt(owner=name("example.com"))
    c["FORMERR__opt-truncated-fixed"] = header(ar=1) + Q_A + opt()[:6]
    c["FORMERR__opt-rdlen-past-end"] = header(ar=1) + Q_A + opt(rdata=b"\x00\x0a", rdlen=20)
    c["FORMERR__opt-option-past-rdata"] = (header(ar=1) + Q_A +
                                           opt(rdata=struct.pack("!HH", 10, 40) + b"x" * 8))
    c["FORMERR__opt-option-header-cut"] = header(ar=1) + Q_A + opt(rdata=b"\x00\x0a\x00")
    c["FORMERR__arcount-1-missing"] = header(ar=1) + Q_A
    # --- huge counts with nothing behind them ---
    c["FORMERR__ancount-65535"] = header(an=65535) + Q_A
    c["FORMERR__nscount-65535"] = header(ns=65535) + Q_A
    c["FORMERR__arcount-65535"] = header(ar=65535) + Q_A
    c["FORMERR__all-counts-65535"] = header(qd=65535, an=65535, ns=65535, ar=65535) + Q_A
    # --- opcodes (RFC 1035 4.1.1, RFC 6895 2.2): only QUERY is implemented so far; NOTIFY
    # and UPDATE may also be REFUSED/NOTAUTH by a server that knows them but not this sender
    # (RFC 1996 3.10, RFC 2136 3.1.1); opcodes are copied into the response ---
    for op in range(16):
        if op == 0:
            c["NOERROR__opcode-0-query"] = header() + Q_A
        elif op in (4, 5):
            c["NOTIMP+REFUSED+NOTAUTH+FORMERR__opcode-%d" % op] = header(opcode=op) + Q_A
        else:
            c["NOTIMP__opcode-%d" % op] = header(opcode=op) + Q_A
        c["NOTIMP+FORMERR+REFUSED+NOTAUTH__opcode-%d-qdcount-0" % op if op else
          "FORMERR__opcode-0-qdcount-0-z"] = header(qd=0, opcode=op)
    # --- oddities that have a header and a valid question ---
    c["NOERROR+FORMERR__trailing-garbage"] = header() + Q_A + b"\xde\xad\xbe\xef"
    c["NOTIMP+REFUSED+NOTAUTH+FORMERR__axfr-unauthorized"] = header() + WWW + b"\x00\xfc\x00\x01"
    c["NOTIMP+REFUSED+FORMERR+NOERROR__qtype-0"] = header() + WWW + b"\x00\x00\x00\x01"
    # RFC 1035 3.2.5: QCLASS * matches any class, so answering from IN data is fine
    c["REFUSED+NOTIMP+FORMERR+NOERROR__qclass-255-any"] = header() + WWW + b"\x00\x01\x00\xff"
    c["REFUSED+NOTIMP+FORMERR__qclass-0"] = header() + WWW + b"\x00\x01\x00\x00"
    c["NOERROR+FORMERR__z-bit-set"] = header(flags=0x0040) + Q_A
    c["NOERROR+FORMERR+NOTIMP__rcode-nonzero-in-query"] = header(flags=0x0005) + Q_A
    c["FORMERR+NOTIMP+REFUSED+NOERROR__opt-in-answer-section"] = header(an=1) + Q_A + opt()
    c["FORMERR+NOERROR__opt-big-payload-65535"] = header(ar=1) + Q_A + opt(payload=65535)
    c["FORMERR+NOERROR__opt-payload-0"] = header(ar=1) + Q_A + opt(payload=0)
    c["BADVERS__opt-version-7"] = header(ar=1) + Q_A + opt(version=7)
    c["NOERROR__opt-unknown-option"] = (header(ar=1) + Q_A +
                                        opt(rdata=struct.pack("!HH", 65001, 3) + b"abc"))
    c["FORMERR+NOERROR__opt-cookie-bad-length"] = (header(ar=1) + Q_A +
                                                   opt(rdata=struct.pack("!HH", 10, 3) + b"abc"))
    # --- random bytes with a fixed seed: anything but a crash ---
    rng = random.Random(4242)
    for i in range(24):
        n = rng.choice([12, 13, 17, 29, 64, 300, 512, 1400])
        c["any__random-%02d" % i] = bytes(rng.randrange(256) for _ in range(n))
    for i in range(16):  # a plausible header followed by random bytes
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        c["any__header-then-random-%02d" % i] = header(qd=1, ar=rng.choice([0, 1, 2])) + body
    for i in range(12):  # a good query with one byte flipped
        q = bytearray(header(ar=1) + Q_A + opt())
        pos = rng.randrange(len(q))
        q[pos] ^= 1 << rng.randrange(8)
        c["any__bitflip-%02d-byte%d" % (i, pos)] = bytes(q)
    return c


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".bin"):
            os.unlink(os.path.join(OUT, f))
    c = corpus()
    for stem, data in c.items():
        with open(os.path.join(OUT, stem + ".bin"), "wb") as f:
            f.write(data)
    print("wrote %d files to %s" % (len(c), OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
