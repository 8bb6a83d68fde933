"""Differential test: the same zones served by Knot DNS and by steerdns must answer alike.

diff.zone (delegations with in-domain and sibling glue, a wildcard tree with empty
non-terminals and a blocking name, wildcard CNAME and MX, CNAME chains and loops, DNAME with a
target that overflows, large TXT, an RFC 3597 type, MX/SRV targets, DS at cuts) and child.zone
(a child zone served beside its parent) are loaded into both servers. A fixed-seed generator
builds well over 500 queries (names from the zone, their children, non-existent names, random
0x20 case; many qtypes; no EDNS or EDNS with payload 512/1232/4096, DO on/off, a few with
version 1; AD/CD bits; UDP and TCP). The same bytes go to both servers and the responses are
compared field by field: rcode, header flags, question bytes, each section as a set of RRs
(name, type, class, TTL, RDATA), EDNS presence/version/DO/options (payload: presence only).

A difference fails the test unless an ALLOWED entry below matches it; each entry quotes the
RFC text that permits the variation. Knot's answers were learnt by asking it (kdig), not
guessed; where Knot departs from an RFC, the entry says so and requires steerdns to follow the
RFC instead.
"""

import os
import random
import struct

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.zone

import sdlib

ORIGIN = dns.name.from_text("diff.test.")
CHILD = dns.name.from_text("child.diff.test.")
ZONES = {
    "diff.test": os.path.join(sdlib.DATA, "diff.zone"),
    "child.diff.test": os.path.join(sdlib.DATA, "child.zone"),
}
SEED = 20240521
N_RANDOM = 420

QTYPES = ["A", "AAAA", "NS", "SOA", "MX", "TXT", "CNAME", "DNAME", "DS", "SRV", "ANY",
          "TYPE65000", "PTR", "CAA", "HINFO", "NSEC", "SSHFP", "TYPE4242"]
FLAG_MASK = (dns.flags.QR | dns.flags.AA | dns.flags.TC | dns.flags.RD | dns.flags.RA |
             dns.flags.AD | dns.flags.CD)
SECTIONS = ("answer", "authority", "additional")


# ---------------------------------------------------------------------------------------------
# zone knowledge used by the generator and by the ALLOWED predicates


def load_zone(path, origin):
    return dns.zone.from_file(path, origin=origin, relativize=False, check_origin=False)


ZONE_DATA = {ORIGIN: load_zone(ZONES["diff.test"], ORIGIN),
             CHILD: load_zone(ZONES["child.diff.test"], CHILD)}


def zone_for(qname):
    best = None
    for apex in ZONE_DATA:
        if qname.is_subdomain(apex) and (best is None or len(apex) > len(best)):
            best = apex
    return best


def dname_owner(qname):
    """The DNAME owner strictly above qname and its target, or (None, None)."""
    for z in ZONE_DATA.values():
        for owner, node in z.nodes.items():
            rds = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.DNAME)
            if rds is not None and qname.is_subdomain(owner) and qname != owner:
                return owner, rds[0].target
    return None, None


def cname_loop_members():
    """Owners whose CNAME chain (inside our zones) comes back to a name already visited."""
    members = set()
    for z in ZONE_DATA.values():
        for owner in z.nodes:
            seen = []
            cur = owner
            while True:
                apex = zone_for(cur)
                node = ZONE_DATA[apex].get_node(cur) if apex else None
                rds = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME) if node else None
                if rds is None:
                    break
                if cur in seen:
                    members.add(owner)
                    break
                seen.append(cur)
                cur = rds[0].target
    return members


LOOPS = cname_loop_members()


# ---------------------------------------------------------------------------------------------
# the response model: everything compared, in comparable form


def rr_set(section):
    return {(rrset.name, rrset.rdtype, rrset.rdclass, rrset.ttl, rd)
            for rrset in section for rd in rrset}


def model(wire):
    m = sdlib.parse(wire)
    edns = None
    if m.edns >= 0:
        edns = (m.edns, bool(m.ednsflags & dns.flags.DO),
                tuple(sorted(o.otype for o in m.options)))
    return {
        "rcode": dns.rcode.to_text(m.rcode()),
        "opcode": dns.opcode.to_text(m.opcode()),
        "flags": dns.flags.to_text(m.flags & FLAG_MASK),
        "question": sdlib.question_bytes(wire),
        "answer": rr_set(m.answer),
        "authority": rr_set(m.authority),
        "additional": rr_set(m.additional),
        "edns": edns,
        "tc": bool(m.flags & dns.flags.TC),
        "aa": bool(m.flags & dns.flags.AA),
        "msg": m,
    }


def compare(a, b):
    """Field names whose values differ between two models."""
    return [f for f in ("rcode", "opcode", "flags", "question", "edns") + SECTIONS
            if a[f] != b[f]]


# ---------------------------------------------------------------------------------------------
# ALLOWED: (name, fields it may excuse, predicate(case, knot, steer) -> bool, RFC text)


def _owners_for(qname):
    """qname and every wildcard that could synthesise it (RFC 4592 source of synthesis)."""
    owners = [qname]
    anc = qname
    while len(anc) > 1:
        anc = anc.parent()
        owners.append(dns.name.from_text("*", anc))
    return owners


def _is_zone_data(rr, owner=None):
    """rr (name, type, class, ttl, rdata) is a record of our zones at its owner (or owner),
    directly or through a wildcard, with the zone's TTL."""
    name, rdtype, _cls, ttl, rd = rr
    for z in ZONE_DATA.values():
        for o in _owners_for(owner or name):
            node = z.get_node(o)
            rds = node.get_rdataset(dns.rdataclass.IN, rdtype) if node else None
            if rds is not None and rd in rds and rds.ttl == ttl:
                return True
    return False


def _any_answer_ok(case, m):
    """Every answer RR is real data at the qname (or the RFC 8482 4.2 synthesized HINFO), and
    every additional RR is real zone data."""
    if not m["answer"]:
        return False
    for rr in m["answer"]:
        if rr[0] != case["qname"]:
            return False
        if rr[1] == dns.rdatatype.HINFO and rr[4].cpu == b"RFC8482":
            continue
        if not _is_zone_data(rr):
            return False
    return all(_is_zone_data(rr) for rr in m["additional"])


def allow_any(case, k, s):
    return (case["qtype"] == "ANY" and k["rcode"] == s["rcode"] == "NOERROR" and k["aa"] and
            s["aa"] and k["answer"] != s["answer"] and _any_answer_ok(case, k) and
            _any_answer_ok(case, s))


def allow_truncated(case, k, s):
    return case["transport"] == "udp" and k["tc"] and s["tc"]


def _targets(m):
    out = set()
    for (_n, rdtype, _c, _t, rd) in m["answer"] | m["authority"]:
        if rdtype == dns.rdatatype.NS:
            out.add(rd.target)
        elif rdtype in (dns.rdatatype.MX,):
            out.add(rd.exchange)
        elif rdtype == dns.rdatatype.SRV:
            out.add(rd.target)
    return out


def allow_optional_additional(case, k, s):
    """Differences only in additional A/AAAA for NS/MX/SRV targets that are not required glue."""
    if k["answer"] != s["answer"] or k["authority"] != s["authority"]:
        return False
    targets = _targets(k)
    cuts = {n for (n, t, _c, _ttl, _rd) in k["authority"] if t == dns.rdatatype.NS}
    referral = not k["aa"] and bool(cuts)
    both = k["additional"] & s["additional"]
    for rr in k["additional"] ^ s["additional"]:
        name, rdtype = rr[0], rr[1]
        if rdtype not in (dns.rdatatype.A, dns.rdatatype.AAAA) or name not in targets:
            return False
        # an RRset given by both must be given whole and alike; what is given must be true
        if any(o[0] == name and o[1] == rdtype for o in both) or not _is_zone_data(rr):
            return False
        # RFC 9471 2.1: in-domain glue is required, never optional
        if referral and any(name.is_subdomain(c) for c in cuts):
            return False
    return True


def _name_too_long(prefix, target):
    return sum(len(lbl) + 1 for lbl in prefix.labels) + len(target.to_wire()) > 255


def allow_dname_yxdomain(case, k, s):
    owner, target = dname_owner(case["qname"])
    if owner is None:
        return False
    if not _name_too_long(case["qname"].relativize(owner), target):
        return False
    dname_rrs = {rr for rr in s["answer"] if rr[1] == dns.rdatatype.DNAME}
    return (s["rcode"] == "YXDOMAIN" and k["rcode"] == "NXDOMAIN" and dname_rrs and
            s["answer"] == k["answer"] == dname_rrs)


def allow_cd_copied(case, k, s):
    q = dns.message.from_wire(case["wire"])
    if not q.flags & dns.flags.CD:
        return False
    kf, sf = k["msg"].flags & FLAG_MASK, s["msg"].flags & FLAG_MASK
    return sf & dns.flags.CD and not kf & dns.flags.CD and kf == sf & ~dns.flags.CD


def allow_ede(case, k, s):
    """EDNS alike except for Extended DNS Error options (code 15)."""
    ke, se = k["edns"], s["edns"]
    if ke is None or se is None or ke[:2] != se[:2]:
        return False
    return set(ke[2]) ^ set(se[2]) <= {15}


def allow_ecs_echo(case, k, s):
    """Knot 3.2 without its geoip module ignores ECS; steerdns echoes it with SCOPE 0."""
    ecs = case.get("ecs")
    ke, se = k["edns"], s["edns"]
    if ecs is None or ke is None or se is None or ke[:2] != se[:2]:
        return False
    if (set(ke[2]) ^ set(se[2])) - {15} != {dns.edns.ECS}:
        return False
    got = [o for o in s["msg"].options if o.otype == dns.edns.ECS]
    return (len(got) == 1 and got[0].address == ecs.address and
            got[0].srclen == ecs.srclen and got[0].scopelen == 0)


def _owns(name, rdtype):
    apex = zone_for(name)
    node = ZONE_DATA[apex].get_node(name) if apex else None
    return node is not None and node.get_rdataset(dns.rdataclass.IN, rdtype) is not None


def allow_dnssec_type_at_cname(case, k, s):
    """NSEC/RRSIG asked at a CNAME owner: Knot answers NODATA, steerdns follows the CNAME."""
    if case["qtype"] not in ("NSEC", "RRSIG") or not _owns(case["qname"], dns.rdatatype.CNAME):
        return False
    if k["answer"] or k["rcode"] != "NOERROR":
        return False
    def link(rr):  # a zone CNAME/DNAME, or a CNAME synthesised from a DNAME (RFC 6672 2.2)
        if rr[1] not in (dns.rdatatype.CNAME, dns.rdatatype.DNAME):
            return False
        return _is_zone_data(rr) or (rr[1] == dns.rdatatype.CNAME and
                                     dname_owner(rr[0])[0] is not None)
    return (bool(s["answer"]) and all(link(rr) for rr in s["answer"]) and
            any(rr[0] == case["qname"] for rr in s["answer"]))


def allow_cname_qtype_through_dname(case, k, s):
    """QTYPE CNAME below a DNAME: Knot stops at the synthesised CNAME (it matches QTYPE),
    steerdns restarts at the new name as RFC 6672 3.2 step 3c says. Knot's answer must be the
    start of steerdns's, and what steerdns adds must be true zone data."""
    if case["qtype"] != "CNAME" or dname_owner(case["qname"])[0] is None:
        return False
    if not k["answer"] or not k["answer"] <= s["answer"]:
        return False
    # the chased name's outcome: more zone data, or the negative answer's SOA (RFC 2308 TTL)
    return all(_is_zone_data(rr) for rr in s["answer"] - k["answer"]) and \
        all(rr[1] == dns.rdatatype.SOA and rr[0] in ZONE_DATA for rr in s["authority"])


ALLOWED = [
    ("CD copied", {"flags"}, allow_cd_copied,
     'RFC 4035 3.1.6: "a security-aware name server MUST copy the CD bit from a query into the '
     'corresponding response" (RFC 6840 5.9 keeps it); Knot 3.2 clears it on unsigned zones.'),
    ("ECS echoed with SCOPE 0", {"edns"}, allow_ecs_echo,
     'RFC 7871 7.2.1: "The FAMILY, SOURCE PREFIX-LENGTH, and ADDRESS fields MUST match those in '
     'the query" and a SCOPE PREFIX-LENGTH of 0 means the answer suits all addresses (steerdns, '
     'whose answers do not depend on location yet); RFC 7871 7.1.3 lets a server that does not '
     'implement ECS ignore the option (Knot 3.2 without geoip answers without it).'),
    ("Extended DNS Error option", {"edns"}, allow_ede,
     'RFC 8914 3: "The Extended DNS Error (EDE) option can be included in any response"; it is '
     'optional (Knot adds EDE 20 "Not Authoritative" to REFUSED).'),
    ("NSEC/RRSIG at a CNAME", {"answer", "authority", "additional", "rcode"}, allow_dnssec_type_at_cname,
     'RFC 1034 4.3.2 step 3a: "If the data at the node is a CNAME, and QTYPE doesn\'t match '
     'CNAME, copy the CNAME RR into the answer section ... and go back to step 1" (steerdns); '
     'RFC 4035 2.5 lets NSEC and RRSIG live beside a CNAME, so a DNSSEC server may answer them '
     'at the owner instead (Knot, NODATA in an unsigned zone).'),
    ("CNAME query through a DNAME", {"answer", "authority", "rcode"},
     allow_cname_qtype_through_dname,
     'RFC 6672 3.2 step 3c: "... The server MUST synthesize a CNAME record as described above '
     'and include it in the answer section. Go back to step 1." (no exception for QTYPE '
     'CNAME, unlike RFC 1034 step 3a for a CNAME owned by the node itself).'),
    ("RFC 8482 ANY", {"answer", "additional"}, allow_any,
     'RFC 8482 4.1: "A DNS responder that receives an ANY query MAY decline to provide a '
     'conventional ANY response or MAY instead send a response with a single RRset (or a larger '
     'subset of available RRsets) in the answer section."'),
    ("truncated content", set(SECTIONS), allow_truncated,
     'RFC 2181 9: "Where TC is set, the partial RRSet that would not completely fit may be left '
     'in the response. When a DNS client receives a reply with TC set, it should ignore that '
     'response, and query again."'),
    ("optional additional data", {"additional"}, allow_optional_additional,
     'RFC 1034 4.3.2 step 6: "If local data is available for such names [named by NS, MX, '
     '...], attempt to add it"; RFC 9471 2.2: sibling glue "SHOULD" be included, while 2.1 '
     'makes in-domain glue a MUST (so in-domain glue is excluded from this entry).'),
    ("DNAME overflow: YXDOMAIN", {"rcode", "authority"}, allow_dname_yxdomain,
     'RFC 6672 2.2: "If the substitution would result in a name that is too long ... the '
     'server MUST return a YXDOMAIN response code". Knot 3.2 answers NXDOMAIN here; steerdns '
     'must give YXDOMAIN with the DNAME in the answer.'),
]


def excuse(case, k, s, fields):
    """Names of ALLOWED entries that together cover every differing field, or None."""
    used = []
    left = set(fields)
    for name, covers, pred, _rfc in ALLOWED:
        if left & covers and pred(case, k, s):
            used.append(name)
            left -= covers
    return used if not left else None


# ---------------------------------------------------------------------------------------------
# query generation


def base_names():
    names = set()
    for apex, z in ZONE_DATA.items():
        for owner in z.nodes:
            n = owner
            while n != apex and len(n) > len(apex):  # owners and their empty non-terminals
                names.add(n)
                n = n.parent()
            names.add(apex)
    return sorted(names)


def mangle_case(rng, name):
    text = name.to_text()
    return "".join(c.upper() if c.isalpha() and rng.random() < 0.5 else c for c in text)


def query_names(rng):
    names = base_names()
    extra = []
    for n in names:
        if n.labels[0] == b"*":
            extra.append(dns.name.from_text("x%d" % rng.randrange(1000), n.parent()))
            continue
        extra.append(dns.name.from_text("kid", n))
        if rng.random() < 0.3:
            extra.append(dns.name.from_text("a.b", n))
    for i in range(12):
        extra.append(dns.name.from_text("nx%d" % i, ORIGIN))
    long_owner = dns.name.from_text("long", ORIGIN)
    extra += [dns.name.from_text("x", long_owner),
              dns.name.from_text("y" * 20, long_owner),
              dns.name.from_text("q.r" + "s" * 30, long_owner),
              dns.name.from_text("c.*.w", ORIGIN),
              dns.name.from_text("other.test."), dns.name.from_text("test."),
              dns.name.from_text("diff.test.example.")]
    return names, extra


EDNS_VARIANTS = [None, (0, 512, False), (0, 1232, False), (0, 1232, True), (0, 4096, False),
                 (0, 4096, True), (0, 512, True)]


ECS_SUBNETS = [("192.0.2.0", 24), ("198.51.100.7", 32), ("2001:db8:1200::", 40), ("::", 0),
               ("0.0.0.0", 0)]


def build_case(rng, qname, qtype, transport=None, edns="random", ecs=None):
    if edns == "random":
        edns = rng.choice(EDNS_VARIANTS) if rng.random() > 0.03 else (1, 1232, False)
    q = sdlib.make_query(mangle_case(rng, qname), qtype,
                         use_edns=-1 if edns is None else edns[0],
                         payload=0 if edns is None else edns[1],
                         want_dnssec=bool(edns and edns[2]))
    if edns is not None and rng.random() < 0.1:
        q.use_edns(edns[0], q.ednsflags, edns[1], options=[dns.edns.GenericOption(65001, b"x")])
    if ecs is not None:
        q.use_edns(edns[0], q.ednsflags, edns[1], options=[ecs])
    if rng.random() < 0.2:
        q.flags |= dns.flags.RD
    if rng.random() < 0.1:
        q.flags |= dns.flags.CD
    if rng.random() < 0.1:
        q.flags |= dns.flags.AD
    q.id = rng.randrange(65536)
    return {"qname": qname, "qtype": qtype, "edns": edns, "ecs": ecs,
            "transport": transport or rng.choice(["udp", "tcp"]), "wire": q.to_wire(),
            "text": "%s %s %s edns=%s" % (q.question[0].name, qtype,
                                          transport, edns)}


def generate(rng):
    names, extra = query_names(rng)
    cases = []
    # every zone name with every qtype, transport and EDNS drawn at random
    for n in names:
        for t in QTYPES:
            cases.append(build_case(rng, n, t))
    # the large RRsets over both transports with every EDNS variant
    for owner in ("big", "huge", "@", "_sip._tcp", "mx", "sub"):
        n = ORIGIN if owner == "@" else dns.name.from_text(owner, ORIGIN)
        for ed in EDNS_VARIANTS:
            for tr in ("udp", "tcp"):
                cases.append(build_case(rng, n, rng.choice(["TXT", "ANY", "NS", "MX", "SRV"]),
                                        tr, ed))
    pool = names + extra
    for _ in range(N_RANDOM):
        cases.append(build_case(rng, rng.choice(pool), rng.choice(QTYPES)))
    # EDNS Client Subnet (RFC 7871), drawn last so the cases above keep their bytes
    for subnet in ECS_SUBNETS:
        for _ in range(4):
            cases.append(build_case(rng, rng.choice(pool), rng.choice(QTYPES),
                                    edns=(0, 1232, rng.random() < 0.5),
                                    ecs=dns.edns.ECSOption(*subnet)))
    for c in cases:
        c["text"] = "%s/%s %s %s" % (c["qname"], c["qtype"], c["transport"], c["edns"])
    return cases


# ---------------------------------------------------------------------------------------------
# exchange


class Conn:
    """One persistent TCP connection per server (RFC 7766 6.2.1 reuse), reopened if closed."""

    def __init__(self, port):
        self.port = port
        self.sock = None

    def ask(self, wire):
        for _ in range(2):
            if self.sock is None:
                self.sock = sdlib.tcp_connect(self.port)
            try:
                self.sock.sendall(struct.pack("!H", len(wire)) + wire)
                r = sdlib.tcp_read_msg(self.sock, 3.0)
                if r is not None:
                    return r
            except OSError:
                pass
            self.sock.close()
            self.sock = None
        return None

    def close(self):
        if self.sock is not None:
            self.sock.close()


def ask(server, conn, case):
    if case["transport"] == "tcp":
        return conn.ask(case["wire"])
    for _ in range(3):  # UDP on loopback hardly loses anything, but do not fail on one drop
        r = sdlib.udp_exchange(case["wire"], server.port, timeout=1.0)
        if r is not None:
            return r
    return None


def describe(m):
    return m["msg"].to_text() if m else "(no response)"


def run_differential(knot, steer):
    rng = random.Random(SEED)
    cases = generate(rng)
    assert len(cases) >= 500
    kconn, sconn = Conn(knot.port), Conn(steer.port)
    failures, excused, strict = [], {}, []
    try:
        for case in cases:
            kw, sw = ask(knot, kconn, case), ask(steer, sconn, case)
            if kw is None:
                failures.append((case, ["knot did not answer"], None, None))
                continue
            if sw is None:
                failures.append((case, ["steerdns did not answer"], model(kw), None))
                continue
            k, s = model(kw), model(sw)
            # both must echo the question exactly as sent (RFC 1035 4.1.2, 0x20 preserved)
            if s["question"] != sdlib.question_bytes(case["wire"]):
                strict.append((case, "question not echoed byte for byte"))
            diff = compare(k, s)
            if not diff:
                continue
            used = excuse(case, k, s, diff)
            if used is None:
                failures.append((case, diff, k, s))
            else:
                for u in used:
                    excused[u] = excused.get(u, 0) + 1
    finally:
        kconn.close()
        sconn.close()
    return cases, failures, excused, strict


def summarize(cases, failures, excused, strict):
    lines = ["differential: %d queries, %d differences, %d excused by ALLOWED" %
             (len(cases), len(failures), sum(excused.values()))]
    for name, count in sorted(excused.items()):
        lines.append("  allowed %-28s %d" % (name, count))
    by_field = {}
    for _case, diff, _k, _s in failures:
        for f in diff:
            by_field[f] = by_field.get(f, 0) + 1
    for f, count in sorted(by_field.items()):
        lines.append("  differs in %-24s %d" % (f, count))
    for case, diff, k, s in failures[:15]:
        lines.append("--- %s: %s" % (case["text"], ", ".join(diff)))
        lines.append("knot:\n" + describe(k))
        lines.append("steerdns:\n" + describe(s))
    for case, why in strict[:10]:
        lines.append("--- %s: %s" % (case["text"], why))
    return "\n".join(lines)


def test_differential_knot(knotd_factory, steerdns_factory):
    knot = knotd_factory(ZONES)
    steer = steerdns_factory(ZONES)
    cases, failures, excused, strict = run_differential(knot, steer)
    report = summarize(cases, failures, excused, strict)
    print(report)
    assert not failures and not strict, report


def test_dname_overflow_is_yxdomain(steerdns_factory):
    """RFC 6672 2.2, checked on steerdns alone since Knot differs here."""
    steer = steerdns_factory(ZONES)
    r = steer.query_udp("y" * 20 + ".long.diff.test", "A")
    assert r is not None and r.rcode() == dns.rcode.YXDOMAIN
    assert [rs.rdtype for rs in r.answer] == [dns.rdatatype.DNAME]
