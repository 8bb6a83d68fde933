#!/usr/bin/python3
"""zonegen.py DIR ZONE RECORDS [QUERIES] [--steering]: the benchmark zone and query files.

The zone is bench.sh's: the same preamble and the same RECORDS names h0..h(RECORDS-1) from the
same seeded generator (40% A, 20% AAAA, 15% TXT, 10% MX, 15% CNAME to an earlier name), byte
for byte, followed by what the per-class benchmarks need and bench.sh's zone does not have:

  - max(10, RECORDS / 100) delegations d0..dK, each "dK NS ns1.dK" and "dK NS ns2.dK" with
    glue "ns1.dK A" and "ns2.dK A" (a referral carries two NS and two glue addresses);
  - with --steering, bench.sh's steering names w0..w99 with four A records each (10.200.K.1-4),
    DIR/steering.yaml with bench.sh's policies on them (w0..w49 weighted, two answers of four;
    w50..w99 failover from pool p to pool b, one answer; probes every hour, so none runs in a
    measurement) and q.w: the w names asked for A;
  - a last record "zlast A 192.0.2.200", the name zonesize.sh asks for to know that the whole
    file is loaded (and changes for its reload).

Query files (dnsperf format) with QUERIES lines each (default 10000), when QUERIES > 0:

  q.a         A hits: names whose only record is an A, asked for A
  q.aaaa      AAAA hits
  q.nx        NXDOMAIN: nxNNN names, asked for A
  q.referral  names below a delegation (www.dK), asked for A: a referral with glue
  q.cname     in-zone CNAMEs whose target is an A name (one-step chain), asked for A
  q.mix       70% hits over the types in the zone's proportions (an A, AAAA, TXT or MX name
              asked for its own type), 10% CNAME (as q.cname), 10% NXDOMAIN, 10% referral

q.CLASS.rcodes has, line for line, the response code every correct server returns (NOERROR or
NXDOMAIN), to check dnsperf's response-code counts for any prefix of the file.
"""
import random
import sys


def write_steering(tmp, zone, count, rng):
    with open("%s/steering.yaml" % tmp, "w") as c:
        c.write("health:\n  templates:\n    - {name: t, type: tcp, port: 9, interval: 1h}\n"
                "steering:\n")
        for k in range(100):
            a = ["10.200.%d.%d" % (k, j + 1) for j in range(4)]
            if k < 50:
                c.write("  - {name: w%d.%s, health: t, answers: 2}\n" % (k, zone))
            else:
                c.write("  - {name: w%d.%s, health: t, pools: [{name: p, members: [%s, %s]},"
                        " {name: b, members: [%s, %s]}]}\n" % (k, zone, a[0], a[1], a[2], a[3]))
    with open("%s/q.w" % tmp, "w") as q, open("%s/q.w.rcodes" % tmp, "w") as e:
        for _ in range(count):
            q.write("w%d.%s A\n" % (rng.randrange(100), zone))
            e.write("NOERROR\n")


def write_zone(path, zone, n, rng, steering):
    names = []
    with open(path, "w") as z:
        z.write("$ORIGIN %s.\n$TTL 3600\n" % zone)
        z.write("@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\n@ NS ns2\n")
        z.write("ns1 A 192.0.2.1\nns2 A 192.0.2.2\n@ A 192.0.2.10\n@ MX 10 mail\n"
                "mail A 192.0.2.25\n")
        for i in range(n):
            r = rng.random() if i > 0 else 0.0  # h0 is an A: CNAME/MX point to earlier names
            name, target = "h%d" % i, None
            if r < 0.40:
                z.write("%s A 10.%d.%d.%d\n" % (name, i >> 16 & 255, i >> 8 & 255, i & 255))
                t = "A"
            elif r < 0.60:
                z.write("%s AAAA 2001:db8::%x:%x\n" % (name, i >> 16, i & 0xffff))
                t = "AAAA"
            elif r < 0.75:
                z.write('%s TXT "v=bench %d"\n' % (name, i))
                t = "TXT"
            elif r < 0.85:
                z.write("%s MX 10 h%d\n" % (name, rng.randrange(i)))
                t = "MX"
            else:
                target = rng.randrange(i)
                z.write("%s CNAME h%d\n" % (name, target))
                t = "CNAME"
            names.append((name, t, target))
        dels = max(10, n // 100)
        for k in range(dels):
            z.write("d%d NS ns1.d%d\nd%d NS ns2.d%d\n" % (k, k, k, k))
            z.write("ns1.d%d A 192.0.2.%d\nns2.d%d A 198.51.100.%d\n"
                    % (k, k % 250 + 1, k, k % 250 + 1))
        if steering:
            for k in range(100):
                for j in range(4):
                    z.write("w%d A 10.200.%d.%d\n" % (k, k, j + 1))
        z.write("zlast A 192.0.2.200\n")
    return names, dels


def write_queries(tmp, zone, names, dels, count, rng):
    by_type = {}
    for name, t, target in names:
        by_type.setdefault(t, []).append(name)
    cnames = [name for name, t, target in names if t == "CNAME" and names[target][1] == "A"]
    hits = [(name, t) for name, t, _ in names if t in ("A", "AAAA", "TXT", "MX")]
    gen = {
        "a": lambda: ("%s A" % rng.choice(by_type["A"]), "NOERROR"),
        "aaaa": lambda: ("%s AAAA" % rng.choice(by_type["AAAA"]), "NOERROR"),
        "nx": lambda: ("nx%d A" % rng.randrange(10 ** 6), "NXDOMAIN"),
        "referral": lambda: ("www.d%d A" % rng.randrange(dels), "NOERROR"),
        "cname": lambda: ("%s A" % rng.choice(cnames), "NOERROR"),
    }

    def mix():
        r = rng.random()
        if r < 0.70:
            return "%s %s" % rng.choice(hits), "NOERROR"
        return gen["cname" if r < 0.80 else "nx" if r < 0.90 else "referral"]()

    gen["mix"] = mix
    for cls, fn in gen.items():
        with open("%s/q.%s" % (tmp, cls), "w") as q, \
                open("%s/q.%s.rcodes" % (tmp, cls), "w") as e:
            for _ in range(count):
                line, rcode = fn()
                name, qtype = line.split()
                q.write("%s.%s %s\n" % (name, zone, qtype))
                e.write(rcode + "\n")


def main():
    steering = "--steering" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--steering"]
    tmp, zone, n = args[0], args[1], int(args[2])
    count = int(args[3]) if len(args) > 3 else 10000
    rng = random.Random(1)
    names, dels = write_zone("%s/%s.zone" % (tmp, zone), zone, n, rng, steering)
    if count > 0:
        write_queries(tmp, zone, names, dels, count, random.Random(2))
    if steering:
        write_steering(tmp, zone, count, random.Random(3))


if __name__ == "__main__":
    main()
