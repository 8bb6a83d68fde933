#!/usr/bin/python3
"""Check steerdns TSIG output with dnspython (run by test_tsig).

tsig_check.py KEYNAME ALG SECRET transfer QUERY RESP...
    QUERY is a request signed by tsig_sign_request(); RESP... the messages of a response
    signed by tsig_sign(), verified as one multi-message transaction (dnspython's xfr rules).
tsig_check.py KEYNAME ALG SECRET badtime QUERY RESP
    RESP is a BADTIME error response: it must carry error 18, the request's time signed,
    6 bytes of server time in other data, and a valid MAC (RFC 8945 5.2.3, 5.3.2).
Exit status 0 when everything verifies; a message on stderr otherwise.
"""
import struct
import sys

import dns.message
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rcode
import dns.tsig
import dns.tsigkeyring


def main(argv):
    name, alg, secret, mode = argv[1:5]
    files = argv[5:]
    kr = dns.tsigkeyring.from_text({name: (alg, secret)})
    key = kr[dns.name.from_text(name)]
    wires = [open(f, "rb").read() for f in files]
    q = dns.message.from_wire(wires[0], keyring=kr)  # verifies our request signature
    if mode == "transfer":
        ctx = None
        for w in wires[1:]:
            r = dns.message.from_wire(w, keyring=kr, request_mac=q.mac, tsig_ctx=ctx, multi=True)
            ctx = r.tsig_ctx
            if r.id != q.id:
                raise SystemExit("id mismatch")
        return 0
    if mode == "badtime":
        w = wires[1]
        # Read the TSIG RR without validating (dnspython raises PeerBadTime first).
        start = find_tsig_start(w)
        pos = skip_name(w, start)
        rdlen = struct.unpack("!H", w[pos + 8 : pos + 10])[0]
        rd = dns.rdata.from_wire(dns.rdataclass.ANY, dns.rdatatype.TSIG, w, pos + 10, rdlen)
        if rd.error != dns.rcode.BADTIME or len(rd.other) != 6:
            raise SystemExit("not a BADTIME response: error %d other %r" % (rd.error, rd.other))
        if rd.time_signed != q.tsig[0].time_signed:
            raise SystemExit("time signed not echoed")
        if w[3] & 0x0F != dns.rcode.NOTAUTH:
            raise SystemExit("rcode %d" % (w[3] & 0x0F))
        adcount = struct.unpack("!H", w[10:12])[0] - 1
        body = w[0:10] + struct.pack("!H", adcount) + w[12:start]
        ctx = dns.tsig._digest(body, key, rd, None, q.mac, None, False)
        ctx.verify(rd.mac)
        return 0
    raise SystemExit("unknown mode " + mode)


def find_tsig_start(w):
    # Our test responses: header, one question, answers without compression, TSIG last.
    qd, an, ns, ar = struct.unpack("!HHHH", w[4:12])
    pos = 12
    for _ in range(qd):
        pos = skip_name(w, pos) + 4
    for _ in range(an + ns + ar - 1):
        pos = skip_name(w, pos)
        rdlen = struct.unpack("!H", w[pos + 8 : pos + 10])[0]
        pos += 10 + rdlen
    return pos


def skip_name(w, pos):
    while True:
        n = w[pos]
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + n
        if n == 0:
            return pos


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as e:  # one line, not a traceback: some checks are expected to fail
        print("tsig_check: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
