#!/usr/bin/python3
"""Generate tsig_vectors.txt: TSIG-signed queries made by dnspython, one per algorithm.

Each line: key-name algorithm base64-secret time-signed hex-wire. The C test verifies each
with tsig_verify_request() at now = time-signed. Run once; the output is checked in.
"""
import base64
import sys

import dns.message
import dns.tsig
import dns.tsigkeyring

ALGS = {
    "hmac-sha1": dns.tsig.HMAC_SHA1,
    "hmac-sha224": dns.tsig.HMAC_SHA224,
    "hmac-sha256": dns.tsig.HMAC_SHA256,
    "hmac-sha384": dns.tsig.HMAC_SHA384,
    "hmac-sha512": dns.tsig.HMAC_SHA512,
}


def main():
    out = []
    for i, (alg, dalg) in enumerate(ALGS.items()):
        name = "Key-%d.Example." % i  # mixed case: the MAC uses the canonical (lower) form
        secret = base64.b64encode(bytes(range(i * 7, i * 7 + 20 + i * 9))).decode()
        kr = dns.tsigkeyring.from_text({name: (dalg, secret)})
        q = dns.message.make_query("www.example.com.", "SOA", id=0x4242 + i)
        q.use_tsig(kr, keyname=name, algorithm=dalg)
        wire = q.to_wire()
        back = dns.message.from_wire(wire, keyring=kr)
        out.append("%s %s %s %d %s" % (name, alg, secret, back.tsig[0].time_signed, wire.hex()))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
