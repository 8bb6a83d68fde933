#!/usr/bin/python3
"""geo_setup.py — the inputs of bench.sh's geo comparison (GEO=1), written into one directory.

    geo_setup.py DIR ZONE

One City-layout MaxMind DB (DIR/geo/bench.mmdb, made by tests/system/geo/mkdb.pl from
DIR/geo/bench.json: 20,000 IPv4 networks of /16, /20 and /24 and 2,000 IPv6 /48 and /40
networks in 27 countries on 6 continents, with gaps, and 127.0.0.0/8 in Germany so that
queries without ECS from 127.0.0.1 match a network too), one mapping expressed three ways
(steerdns `geo:` rules, gdnsd plugin_geoip map, Knot mod-geoip views), and the queries:

  geo-static.zone        SOA/NS and g0..g19 with the default pool's two addresses
  geo.zone               the same with all ten pool addresses at each gN (the candidates)
  steerdns-geo.yaml      geoip + health + steering for g0..g19 (answers: 2, one pool each)
  gdnsd-geo.zone/.cfg    gN as DYNA geoip!gN over one map; dcmap: the two addresses per pool
  knot-geo.conf          mod-geoip views (geodb-key continent/code, country/iso_code); the
                         zone's own gN records (geo-static.zone) answer clients no view takes
  gqueries               200,000 "gN.ZONE A" lines (dnsperf -e: EDNS, no ECS)
  gqueries-ecs.bin       the same names, each with an ECS option from a random network (10%
                         from gaps), as length-prefixed wire messages (dnsperf -B)
  geo-checks             "ADDRESS/LEN expected-addresses" lines: bench.sh asks each server
                         with dig +subnet before the timed run

The mapping: continent EU -> eu, AS -> asia, NA -> us, SA -> sa, OC -> oc, AF -> eu;
country GB -> us, RU -> asia, MX -> sa; default us. Failover lists follow the first pool
(steerdns and gdnsd; Knot has no failover); every address is up (no probe within a run).
"""

import json
import os
import random
import struct
import subprocess
import sys

out, zone = sys.argv[1], sys.argv[2]
root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
rng = random.Random(10)
NAMES = ["g%d" % i for i in range(20)]
POOLS = {p: ["10.250.%d.1" % i, "10.250.%d.2" % i]
         for i, p in enumerate(["eu", "asia", "us", "sa", "oc"], 1)}
CONTINENT = {"EU": ["eu", "us"], "AS": ["asia", "oc"], "NA": ["us", "eu"], "SA": ["sa", "us"],
             "OC": ["oc", "asia"], "AF": ["eu", "asia"]}
COUNTRY = {"GB": ["us", "eu"], "RU": ["asia", "eu"], "MX": ["sa", "us"]}
DEFAULT = ["us", "eu", "asia"]
COUNTRIES = {"EU": ["DE", "FR", "GB", "RU", "IT", "ES", "NL", "SE", "PL"],
             "AS": ["JP", "CN", "IN", "SG", "KR"], "NA": ["US", "CA", "MX"],
             "SA": ["BR", "AR", "CL"], "OC": ["AU", "NZ"], "AF": ["ZA", "NG", "EG"]}
PLACES = [(c, cc) for c, ccs in COUNTRIES.items() for cc in ccs]
os.makedirs(os.path.join(out, "geo"), exist_ok=True)


def pools_of(cont, cc):
    return COUNTRY.get(cc) or CONTINENT.get(cont) or DEFAULT


# --- the database ---------------------------------------------------------------------------
nets = [{"network": "127.0.0.0/8", "continent": "EU", "country": "DE",
         "location": [50.1, 8.7]}]
v4, v6 = [], []
for i in range(65536):  # 10.0.0.0/8 in /24s, one in ten left out (a gap)
    if len(v4) >= 17000:
        break
    if rng.random() < 0.1:
        continue
    v4.append(("10.%d.%d.0" % (i >> 8, i & 255), 24))
for i in range(2000):  # 172.16.0.0/12 in /20s... and beyond, 100.64.0.0/10 in /16s
    v4.append(("%d.%d.%d.0" % (172 + (i >> 12), 16 + (i >> 4 & 255) % 16, (i & 15) << 4), 20)
              if i < 256 else ("100.%d.0.0" % (64 + (i - 256) % 64), 16))
v4 = list(dict.fromkeys(v4))[:20000]
for i in range(2000):
    v6.append(("2001:db8:%x::" % (i + 1), 48) if i < 1800 else
              ("2a00:%x::" % ((i - 1800) << 8), 40))
for addr, plen in v4 + v6:
    cont, cc = rng.choice(PLACES)
    nets.append({"network": "%s/%d" % (addr, plen), "continent": cont, "country": cc,
                 "location": [round(rng.uniform(-60, 60), 2), round(rng.uniform(-170, 170), 2)]})
with open(os.path.join(out, "geo", "bench.json"), "w") as f:
    json.dump({"networks": nets}, f)
db = os.path.join(out, "geo", "bench.mmdb")
subprocess.run(["perl", os.path.join(root, "tests", "system", "geo", "mkdb.pl"), db, "city",
                "6", os.path.join(out, "geo", "bench.json")], check=True)

# --- zones and configurations ---------------------------------------------------------------
head = ("$ORIGIN %s.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\n"
        "ns1 A 192.0.2.1\n" % zone)
all_addrs = [a for p in POOLS.values() for a in p]
with open(os.path.join(out, "geo-static.zone"), "w") as f:
    f.write(head + "".join("%s A %s\n" % (n, a) for n in NAMES for a in POOLS["us"]))
with open(os.path.join(out, "geo.zone"), "w") as f:
    f.write(head + "".join("%s A %s\n" % (n, a) for n in NAMES for a in all_addrs))
rules = ["{country: %s, pools: [%s]}" % (cc, ", ".join(p)) for cc, p in COUNTRY.items()] + \
    ["{continent: %s, pools: [%s]}" % (c, ", ".join(p)) for c, p in CONTINENT.items()]
with open(os.path.join(out, "steerdns-geo.yaml"), "w") as f:
    f.write("geoip:\n  databases:\n    - {name: bench, file: %s}\n" % db)
    f.write("health:\n  templates:\n    - {name: t, type: tcp, port: 9, interval: 1h}\n"
            "steering:\n")
    pools = ", ".join("{name: %s, members: [%s]}" % (p, ", ".join(m)) for p, m in POOLS.items())
    for n in NAMES:
        f.write("  - {name: %s.%s, health: t, answers: 2, pools: [%s],\n"
                "     geo: {database: bench, rules: [%s], default: [%s]}}\n" % (
                    n, zone, pools, ", ".join(rules), ", ".join(DEFAULT)))
with open(os.path.join(out, "gdnsd-geo.zone"), "w") as f:
    f.write(head + "".join("%s 300 DYNA geoip!%s\n" % (n, n) for n in NAMES))
with open(os.path.join(out, "gdnsd-geo.cfg"), "w") as f:
    gmap = []
    for c, p in CONTINENT.items():
        sub = ["%s => [ %s ]" % (cc, ", ".join(COUNTRY[cc])) for cc in COUNTRIES[c]
               if cc in COUNTRY]
        gmap.append("%s => { default => [ %s ]%s }" % (
            c, ", ".join(p), "".join(", " + s for s in sub)))
    f.write("plugins => { geoip => {\n  maps => { bench => {\n    geoip2_db => %s\n"
            "    datacenters => [ %s ]\n    map => { default => [ %s ], %s }\n  } }\n"
            "  resources => {\n" % (db, ", ".join(POOLS), ", ".join(DEFAULT), ", ".join(gmap)))
    dcmap = ", ".join("%s => [ %s ]" % (p, ", ".join(m)) for p, m in POOLS.items())
    for n in NAMES:
        f.write("    %s => { map => bench, service_types => up, dcmap => { %s } }\n"
                % (n, dcmap))
    f.write("  }\n} }\n")
with open(os.path.join(out, "knot-geo.conf"), "w") as f:
    for n in NAMES:
        f.write("%s.%s:\n" % (n, zone))
        views = [(c, None, p) for c, p in CONTINENT.items()] + \
            [(c, cc, COUNTRY[cc]) for c, ccs in COUNTRIES.items() for cc in ccs if cc in COUNTRY]
        for c, cc, p in views:
            f.write('  - geo: "%s"\n' % (c if cc is None else "%s;%s" % (c, cc)))
            f.write("".join("    A: %s\n" % a for a in POOLS[p[0]]))

# --- queries --------------------------------------------------------------------------------


def qname_wire(name):
    return b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\0"


def ecs_query(name, addr, plen):
    import ipaddress
    ip = ipaddress.ip_address(addr)
    fam = 1 if ip.version == 4 else 2
    nbytes = (plen + 7) // 8
    opt = struct.pack("!HBB", fam, plen, 0) + ip.packed[:nbytes]
    edns = struct.pack("!HH", 8, len(opt)) + opt
    return (struct.pack("!HHHHHH", rng.randrange(65536), 0, 1, 0, 0, 1) + qname_wire(name) +
            struct.pack("!HH", 1, 1) + b"\0" + struct.pack("!HHIH", 41, 1232, 0, len(edns)) +
            edns)


with open(os.path.join(out, "gqueries"), "w") as q, \
        open(os.path.join(out, "gqueries-ecs.bin"), "wb") as b:
    for _ in range(200000):
        name = "%s.%s" % (rng.choice(NAMES), zone)
        q.write("%s A\n" % name)
        if rng.random() < 0.1:
            addr, plen = "10.%d.%d.0" % (rng.randrange(256), rng.randrange(256)), 24
            if rng.random() < 0.5:
                addr, plen = "2001:db9:%x::" % rng.randrange(65536), 48
        else:
            addr, plen = rng.choice(v4 + v6)
            plen = min(plen, 24) if ":" not in addr else 48 if plen == 48 else 40
        w = ecs_query(name, addr, plen)
        b.write(struct.pack("!H", len(w)) + w)

# what each server must answer before it is measured: one network per rule, and a gap
checks = []
for want in [("EU", None), ("EU", "GB"), ("AS", None), ("EU", "RU"), ("NA", "MX"), ("SA", None),
             ("AF", None), ("OC", None), ("NA", None)]:
    for n in nets[1:]:
        if n["continent"] == want[0] and (n["country"] == want[1] if want[1] else
                                          n["country"] not in COUNTRY):
            addr, plen = n["network"].split("/")
            plen = min(int(plen), 24) if ":" not in addr else int(plen)
            checks.append("%s/%d %s" % (addr, plen, " ".join(
                POOLS[pools_of(n["continent"], n["country"])[0]])))
            break
checks.append("2001:db9:1::/48 %s" % " ".join(POOLS[DEFAULT[0]]))
with open(os.path.join(out, "geo-checks"), "w") as f:
    f.write("\n".join(checks) + "\n")
