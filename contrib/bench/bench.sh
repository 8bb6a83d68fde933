#!/usr/bin/env bash
# bench.sh — steerdns vs NSD vs Knot (vs gdnsd) on one 100k-record zone, one core each.
#
# Not a test: run it by hand on a quiet machine with at least 2 cores.
#   contrib/bench/bench.sh                  # 15 s per server at 150k QPS offered
#   DURATION=10 RATE=100000 contrib/bench/bench.sh
#
# Each server runs alone, pinned to core 0 with one worker; dnsperf runs pinned to core 1
# (dnsperf saturates near 200k QPS on such machines, so the figure that tells servers apart is
# the server's CPU time per query, split into user and kernel time, read from /proc/PID/stat
# utime and stime of the server and its child processes before and after the run; the
# kernel's loopback UDP path is most of it). Everything lives in a temporary directory;
# servers are started with their own config there and stopped by PID.
# "lat us" is dnsperf's average latency. steerdns_nowait is steerdns with udp-batch-wait: 0
# (no batch pacing, server/udp.h): SERVERS="steerdns steerdns_nowait" shows what pacing saves
# in CPU per query and what it adds to latency, at RATE.
#
# Environment: STEERDNS_BUILD (meson build dir, default build-release, built if missing),
# DURATION (seconds, 15), RATE (dnsperf -Q, 150000), CLIENTS (dnsperf -c, 8), RECORDS (100000),
# ROUNDS (1: how many times each server is measured, in turn, every other round in reverse
# order; with more than one, every run is listed and the ratios compare the servers' medians,
# which a busy or drifting host moves less than one run),
# SERVERS (default "steerdns nsd knot"), KEEP=1 keeps the temporary directory, GDNSD_MON
# (static or tcp, below), WORKERS (steerdns's worker threads, 1; below).
#
# Multi-core (WORKERS=2): steerdns runs with WORKERS workers pinned to cores 0..WORKERS-1 (each
# worker has its own SO_REUSEPORT socket, the kernel spreads dnsperf's CLIENTS source ports over
# them); dnsperf gets core WORKERS when the machine has one more core, else it is not pinned and
# shares the server's cores (then QPS is bounded by the machine, not by steerdns: compare the CPU
# per query, which should stay flat from 1 to 2 workers when nothing is shared between workers).
# On a 2-core machine, WORKERS=2 SERVERS=steerdns against WORKERS=1 SERVERS=steerdns is what
# can be measured: see README's performance section. WORKERS applies to the steerdns, ABUSE
# and STEERED variants; the geo runs keep one worker.
#
# Abuse resistance (issue 14): the cost of response rate limiting and DNS cookies per query,
# one run: ABUSE=1 runs four steerdns variants instead of the servers above (SERVERS still
# wins when given):
#   steerdns         rrl off, cookies off (the baseline)
#   steerdns_rrl     server.rrl on at a rate no bucket reaches (every reply charged, none
#                    limited: the bookkeeping alone)
#   steerdns_cookie  cookies on, every query carrying a valid server cookie (dnsperf -E 10:..,
#                    fetched with dig first): one SipHash to verify, the cookie echoed
#   steerdns_both    both on, the same cookie queries (exempt from RRL once verified)
# Steering: SERVERS="static steered" (or STEERED=1, which adds both to SERVERS) runs steerdns
# twice on the same zone and the same queries — 100 names w0..w99 with four A records each,
# asked for A — once as plain names (static) and once with a policy on each (steered: w0..w49
# weighted, two answers of four; w50..w99 failover primary/backup, one answer), and prints the
# steered/static ratio of CPU per query. The policies' probes use a 1 h interval so that the
# prober's own work stays out of the measurement (the targets start up, as configured).
# Metrics (issue 12): METRICS=1 runs two steerdns variants instead of the servers above
# (SERVERS still wins when given) on the steering names, config and queries of `steered`:
#   metrics_off  no server.metrics-listen
#   metrics_on   server.metrics-listen on, scraped every second by curl (on core 1, beside
#                dnsperf) for the whole run: the scrapes' cost on the control thread counts
# and prints the on/off ratio of CPU per query and the scrapes made. The per-worker counters
# (outcomes, per name and pool) are counted in both: metrics-listen only adds the endpoint.
# The answer engine alone (no sockets), static vs weighted vs failover on the same names:
# $STEERDNS_BUILD/server/steer_bench [QUERIES] (contrib/bench/steer_bench.c).
#
# gdnsd (Debian's gdnsd 3.x; skipped with a message when it is not installed), one UDP and one
# TCP thread pinned to core 0 like the others:
#   gdnsd          the 100k-record zone and queries (against steerdns, NSD, Knot)
#   gdnsd_static   the w names as plain A records, the steering queries
#   gdnsd_steered  the w names as DYNA records: w0..w49 plugin weighted (two groups of two
#                  equal-weight addresses, multi: one address from each group, two answers),
#                  w50..w99 plugin metafo over two weighted resources of two addresses (the
#                  first with an address up answers one of its two)
# STEERED=1 adds gdnsd_static and gdnsd_steered when gdnsd is installed. The steered addresses
# are monitored by a static UP service type (no checks: steerdns's 1 h probes do not run within
# a measurement either); GDNSD_MON=tcp uses tcp_connect port 9 at gdnsd's longest interval
# (3600 s) instead, which gdnsd only counts up if the targets accept connections: it sets the
# initial state from one real check before it serves. Records per answer are printed for
# w0 and w50 with the table (the servers compared must return the same).
#
# Geo steering (issue 10): GEO=1 runs, instead of the servers above (SERVERS still wins when
# given), three servers on one generated City-layout MaxMind DB and one mapping
# (contrib/bench/geo_setup.py writes both: 20,000 IPv4 and 2,000 IPv6 networks in 27
# countries; continent and country rules; 20 names g0..g19, two A records per answer), each
# static and geo, each on the same two query sets: 200,000 queries without ECS (EDNS on,
# dnsperf -e; the source 127.0.0.1 is in a network too) and the same names each carrying an
# ECS option from a random network, 10% from gaps (dnsperf -B, wire messages):
#   geo_static, geo_static_ecs          steerdns, the gN names as plain A records
#   geo, geo_ecs                        steerdns, a `geo:` policy on each gN (probes 1 h)
#   gdnsd_geo_static, gdnsd_geo_static_ecs   gdnsd, plain A records
#   gdnsd_geo, gdnsd_geo_ecs            gdnsd plugin_geoip: DYNA geoip!gN over one map
#   knot_geo_static, knot_geo_static_ecs     knotd, plain A records
#   knot_geo, knot_geo_ecs              knotd mod-geoip (mode geodb, edns-client-subnet on;
#                                       no failover: the first pool's addresses per view)
# Before each geo run the server is asked with dig +subnet for one network per rule and a
# gap, and must answer the mapping's first pool ("geo check" lines; a server that does not is
# still measured and flagged). The table adds geo/static CPU-per-query ratios per server.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${STEERDNS_BUILD:-$ROOT/build-release}"
DURATION="${DURATION:-15}"
RATE="${RATE:-150000}"
CLIENTS="${CLIENTS:-8}"
RECORDS="${RECORDS:-100000}"
ROUNDS="${ROUNDS:-1}"
ROUND=1
if [ "${ABUSE:-0}" = 1 ]; then
	SERVERS="${SERVERS:-steerdns steerdns_rrl steerdns_cookie steerdns_both}"
fi
if [ "${GEO:-0}" = 1 ] && [ -z "${SERVERS:-}" ]; then
	SERVERS="geo_static geo_static_ecs geo geo_ecs gdnsd_geo_static gdnsd_geo_static_ecs"
	SERVERS="$SERVERS gdnsd_geo gdnsd_geo_ecs knot_geo_static knot_geo_static_ecs knot_geo"
	SERVERS="$SERVERS knot_geo_ecs"
fi
if [ "${METRICS:-0}" = 1 ]; then
	SERVERS="${SERVERS:-metrics_off metrics_on}"
	command -v curl >/dev/null || { echo "bench: curl not found" >&2; exit 2; }
fi
SERVERS="${SERVERS:-steerdns nsd knot}"
GDNSD_MON="${GDNSD_MON:-static}"
WORKERS="${WORKERS:-1}"
SERVER_CPUS=0
[ "$WORKERS" -le 1 ] || SERVER_CPUS="0-$((WORKERS - 1))"
if [ "$(nproc)" -gt "$WORKERS" ]; then
	CLIENT_CPUS="$WORKERS"
else
	CLIENT_CPUS="0-$(($(nproc) - 1))"
	echo "bench: $WORKERS workers on $(nproc) cores: dnsperf not pinned, it shares their cores" >&2
fi
if [ "${STEERED:-0}" = 1 ]; then
	SERVERS="$SERVERS static steered"
	if command -v gdnsd >/dev/null; then
		SERVERS="$SERVERS gdnsd_static gdnsd_steered"
	fi
fi
PY=/usr/bin/python3
. "$ROOT/contrib/bench/lib.sh"
ZONE=example.bench
HZ="$(getconf CLK_TCK)"

for tool in dnsperf taskset nsd knotd dig; do
	command -v "$tool" >/dev/null || { echo "bench: $tool not found" >&2; exit 2; }
done
if [ "$(nproc)" -lt 2 ]; then
	echo "bench: needs 2 cores (server on 0, dnsperf on 1)" >&2
	exit 2
fi
bench_init bench

# --- zone and queries ------------------------------------------------------------------------
"$PY" - "$TMP" "$ZONE" "$RECORDS" "$GDNSD_MON" <<'EOF'
import random, sys
tmp, zone, n, gmon = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rng = random.Random(1)
names = []
with open("%s/%s.zone" % (tmp, zone), "w") as z:
    z.write("$ORIGIN %s.\n$TTL 3600\n" % zone)
    z.write("@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\n@ NS ns2\n")
    z.write("ns1 A 192.0.2.1\nns2 A 192.0.2.2\n@ A 192.0.2.10\n@ MX 10 mail\n"
            "mail A 192.0.2.25\n")
    i = 0
    while i < n:
        r = rng.random() if i > 0 else 0.0  # h0 is an A: CNAME/MX point to earlier names
        name = "h%d" % i
        if r < 0.40:
            z.write("%s A 10.%d.%d.%d\n" % (name, i >> 16 & 255, i >> 8 & 255, i & 255)); t = "A"
        elif r < 0.60:
            z.write("%s AAAA 2001:db8::%x:%x\n" % (name, i >> 16, i & 0xffff)); t = "AAAA"
        elif r < 0.75:
            z.write('%s TXT "v=bench %d"\n' % (name, i)); t = "TXT"
        elif r < 0.85:
            z.write("%s MX 10 h%d\n" % (name, rng.randrange(i))); t = "MX"
        else:
            z.write("%s CNAME h%d\n" % (name, rng.randrange(i))); t = "CNAME"
        names.append((name, t))
        i += 1
    # the steering comparison's names (bench: static / steered)
    for k in range(100):
        for j in range(4):
            z.write("w%d A 10.200.%d.%d\n" % (k, k, j + 1))
with open("%s/squeries" % tmp, "w") as q:
    for k in range(200000):
        q.write("w%d.%s A\n" % (rng.randrange(100), zone))
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
# gdnsd's equivalent (bench: gdnsd_steered): the same zone with the w names as DYNA records.
# w0..w49: plugin weighted, grouped multi with two groups of two equal weights: both groups
# always chosen (each has the maximum weight), one address drawn from each, so two A of the
# four per answer. w50..w99: plugin metafo over [p, b], each a weighted resource of two equal
# addresses with multi false (one drawn per answer), p answered while one of its addresses is
# up (up_thresh 0.01; steerdns's pool min-healthy is 1).
with open("%s/%s.zone" % (tmp, zone)) as z, open("%s/gdnsd-steered.zone" % tmp, "w") as g:
    for line in z:
        if not line.startswith("w"):
            g.write(line)
    for k in range(100):
        g.write("w%d 300 DYNA %s!w%d\n" % (k, "weighted" if k < 50 else "metafo", k))
with open("%s/gdnsd-steered.cfg" % tmp, "w") as c:
    if gmon == "tcp":
        # steerdns's template: tcp port 9, 1 h, timeout 2 s, rise 2, fall 3. gdnsd decides
        # the initial state from one real check before it serves (no "initial: up"): the
        # targets must accept the connection, or they all start DOWN.
        c.write("service_types => { t => { plugin => tcp_connect, port => 9, interval => 3600,"
                " timeout => 2, up_thresh => 2, down_thresh => 3 } }\n")
    else:
        # a static monitor: every address UP from start-up, no checks at all
        c.write("service_types => { t => { plugin => static, state => UP } }\n")
    c.write("plugins => {\n%s  weighted => {\n    service_types => t\n    up_thresh => 0.01\n"
            % ("" if gmon == "tcp" else "  static => {}\n"))
    for k in range(100):
        a = ["10.200.%d.%d" % (k, j + 1) for j in range(4)]
        if k < 50:
            c.write("    w%d => { multi => true, g1 => { a1 => [ %s, 1 ], a2 => [ %s, 1 ] },"
                    " g2 => { a3 => [ %s, 1 ], a4 => [ %s, 1 ] } }\n" % (k, a[0], a[1], a[2], a[3]))
        else:
            c.write("    w%dp => { a1 => [ %s, 1 ], a2 => [ %s, 1 ] }\n" % (k, a[0], a[1]))
            c.write("    w%db => { a3 => [ %s, 1 ], a4 => [ %s, 1 ] }\n" % (k, a[2], a[3]))
    c.write("  }\n  metafo => {\n    resources => {\n")
    for k in range(50, 100):
        c.write("      w%d => { datacenters => [ p, b ], dcmap => { p => %%weighted!w%dp,"
                " b => %%weighted!w%db } }\n" % (k, k, k))
    c.write("    }\n  }\n}\n")
with open("%s/queries" % tmp, "w") as q:
    for k in range(200000):
        if rng.random() < 0.9:
            name, t = rng.choice(names)
            q.write("%s.%s %s\n" % (name, zone, "A" if t == "CNAME" else t))
        else:
            q.write("nx%d.%s A\n" % (rng.randrange(10 ** 6), zone))
EOF

if [[ " $SERVERS " == *" geo"* || " $SERVERS " == *_geo* ]]; then
	echo "bench: generating the geo database, mapping and queries ..." >&2
	"$PY" "$ROOT/contrib/bench/geo_setup.py" "$TMP" "$ZONE"
fi

# "utime stime" in clock ticks of a process and all its live descendants (NSD forks a server
# child; Knot's threads are already inside its own /proc/PID/stat)
cpu_ticks() {
	# shellcheck disable=SC2046 # one argument per PID
	"$PY" - $(tree_pids "$1") <<'EOF'
import sys
utime = stime = 0
for p in sys.argv[1:]:
    try:
        st = open("/proc/%s/stat" % p).read()
    except OSError:
        continue
    f = st[st.rindex(")") + 2:].split()
    utime += int(f[11]); stime += int(f[12])
print(utime, stime)
EOF
}

wait_ready() { # port
	for _ in $(seq 1 100); do
		if dig @127.0.0.1 -p "$1" "$ZONE" SOA +short +time=1 +tries=1 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

RESULTS=()
measure() { # name pid port [query file [dnsperf options...]]
	local name="$1" pid="$2" port="$3" queries="${4:-$TMP/queries}"
	shift $(($# < 4 ? $# : 4))
	if ! wait_ready "$port"; then
		echo "bench: $name did not answer; log:" >&2
		tail -20 "$TMP/$name.log" >&2
		return 1
	fi
	# warm up (page in the zone, fill caches), then measure
	taskset -c "$CLIENT_CPUS" dnsperf -s 127.0.0.1 -p "$port" -d "$queries" -l 2 -c "$CLIENTS" \
		-Q "$RATE" "$@" >/dev/null 2>&1 || true
	local before after out
	before="$(cpu_ticks "$pid")"
	out="$(taskset -c "$CLIENT_CPUS" dnsperf -s 127.0.0.1 -p "$port" -d "$queries" -l "$DURATION" \
		-c "$CLIENTS" -Q "$RATE" "$@" 2>&1)"
	after="$(cpu_ticks "$pid")"
	echo "$out" >"$TMP/$name.dnsperf"
	local qps lost done_ lat
	qps="$(echo "$out" | awk '/Queries per second:/ {print $4}')"
	lat="$(echo "$out" | awk '/Average Latency/ {print $4}')"
	lost="$(echo "$out" | awk '/Queries lost:/ {print $3}')"
	done_="$(echo "$out" | awk '/Queries completed:/ {print $3}')"
	local us
	# total, user and kernel CPU microseconds per completed query
	us="$("$PY" - "$before" "$after" "$HZ" "$done_" <<'EOF'
import sys
b, a, hz, n = sys.argv[1].split(), sys.argv[2].split(), int(sys.argv[3]), max(1, int(sys.argv[4]))
u, k = (int(a[0]) - int(b[0])) / hz * 1e6 / n, (int(a[1]) - int(b[1])) / hz * 1e6 / n
print("%.2f %.2f %.2f" % (u + k, u, k))
EOF
)"
	RESULTS+=("$name $qps $lost $us $ROUND ${lat:-0}")
}

# steerdns from a config file: name, rrl rate (0 off), cookies mode (off/on), udp-batch-wait
# (the default when not given)
steerdns_variant() {
	local name="$1" rate="$2" cookies="$3" wait="${4:-}" port
	port="$(free_port)"
	cat >"$TMP/$name.yaml" <<EOF
server:
  listen: ["127.0.0.1:$port"]
  workers: $WORKERS
  control-socket: $TMP/$name.sock
  state-dir: $TMP/state-$name
  rrl: {rate: $rate}
  cookies: {mode: $cookies}
${wait:+  udp-batch-wait: $wait}
zones:
  - name: $ZONE
    file: $TMP/$ZONE.zone
EOF
	taskset -c "$SERVER_CPUS" "$BUILD/server/steerdns" -c "$TMP/$name.yaml" >"$TMP/$name.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	local opts=()
	if [ "$cookies" != off ] && wait_ready "$port"; then
		# a valid server cookie for 127.0.0.1, re-used by every dnsperf query (echoed
		# while younger than half an hour: a run never renews it)
		local ck
		ck="$(dig @127.0.0.1 -p "$port" "$ZONE" SOA +cookie=0102030405060708 |
			awk '/COOKIE:/ {print $3}')"
		[ -n "$ck" ] || { echo "bench: $name gave no cookie" >&2; stop "$pid"; return 0; }
		opts=(-E "10:$ck")
	fi
	measure "$name" "$pid" "$port" "$TMP/queries" "${opts[@]}" || true
	stop "$pid"
}

run_steerdns() { steerdns_variant steerdns 0 off; }
run_steerdns_nowait() { steerdns_variant steerdns_nowait 0 off 0; }
run_steerdns_rrl() { steerdns_variant steerdns_rrl 1000000 off; }
run_steerdns_cookie() { steerdns_variant steerdns_cookie 0 on; }
run_steerdns_both() { steerdns_variant steerdns_both 1000000 on; }

# steerdns from a config file, on the steering queries; $1: static or steered
run_steer_mode() {
	local mode="$1" port
	port="$(free_port)"
	mkdir -p "$TMP/$mode"
	{
		printf 'server:\n  listen: ["127.0.0.1:%s"]\n  workers: %s\n' "$port" "$WORKERS"
		printf '  control-socket: %s/%s/ctl.sock\n  state-dir: %s/%s\n' "$TMP" "$mode" "$TMP" "$mode"
		printf '  log-level: warning\n'
		printf 'zones:\n  - {name: %s, file: %s/%s.zone}\n' "$ZONE" "$TMP" "$ZONE"
		if [ "$mode" = steered ]; then
			cat "$TMP/steering.yaml"
		fi
	} >"$TMP/$mode/steerdns.yaml"
	taskset -c "$SERVER_CPUS" "$BUILD/server/steerdns" -c "$TMP/$mode/steerdns.yaml" >"$TMP/$mode.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	show_answers "$mode" "$port"
	measure "$mode" "$pid" "$port" "$TMP/squeries" || true
	stop "$pid"
}

# steerdns on the steering queries with metrics-listen off or on; $1: metrics_off/metrics_on
run_metrics_mode() {
	local mode="$1" port mport="" spid=""
	port="$(free_port)"
	mkdir -p "$TMP/$mode"
	{
		printf 'server:\n  listen: ["127.0.0.1:%s"]\n  workers: 1\n' "$port"
		printf '  control-socket: %s/%s/ctl.sock\n  state-dir: %s/%s\n' "$TMP" "$mode" "$TMP" "$mode"
		printf '  log-level: warning\n'
		if [ "$mode" = metrics_on ]; then
			mport="$(free_port)"
			printf '  metrics-listen: 127.0.0.1:%s\n' "$mport"
		fi
		printf 'zones:\n  - {name: %s, file: %s/%s.zone}\n' "$ZONE" "$TMP" "$ZONE"
		cat "$TMP/steering.yaml"
	} >"$TMP/$mode/steerdns.yaml"
	taskset -c 0 "$BUILD/server/steerdns" -c "$TMP/$mode/steerdns.yaml" >"$TMP/$mode.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	if [ -n "$mport" ]; then
		# one scrape a second, each appending its size: the count is printed with the table
		(while :; do
			taskset -c 1 curl -s -o /dev/null -w '%{size_download}\n' \
				"http://127.0.0.1:$mport/metrics" >>"$TMP/$mode.scrapes" || true
			sleep 1
		done) &
		spid=$!
		PIDS+=("$spid")
	fi
	measure "$mode" "$pid" "$port" "$TMP/squeries" || true
	if [ -n "$spid" ]; then
		stop "$spid"
		local n=0 size=0
		if [ -s "$TMP/$mode.scrapes" ]; then
			n="$(wc -l <"$TMP/$mode.scrapes")"
			size="$(tail -1 "$TMP/$mode.scrapes")"
		fi
		SCRAPES="$n scrapes of $size bytes"
	fi
	stop "$pid"
}

run_metrics_off() { run_metrics_mode metrics_off; }
run_metrics_on() { run_metrics_mode metrics_on; }

run_static() { run_steer_mode static; }
run_steered() { run_steer_mode steered; }

# What a server answers for the steered names: "w0 A: 2/0/0 NNb w50 A: 1/0/0 NNb" (answer/
# authority/additional records and the size, one query each, no EDNS, as dnsperf asks); printed
# with the table so that the servers compared are seen to return the same records per answer.
ANSWERS=()
show_answers() { # name port
	local line="" q hdr
	[ "$ROUND" = 1 ] || return 0
	wait_ready "$2" || return 0
	for q in w0 w50; do
		hdr="$(dig @127.0.0.1 -p "$2" "$q.$ZONE" A +noedns +time=2 +tries=1 2>/dev/null)" || true
		line="$line $q A: $(echo "$hdr" | awk '
			/;; flags:/ { for (i = 1; i <= NF; i++) { sub(",", "", $(i + 1))
				if ($i == "ANSWER:") a = $(i + 1); if ($i == "AUTHORITY:") n = $(i + 1)
				if ($i == "ADDITIONAL:") d = $(i + 1) } }
			/MSG SIZE/ { b = $NF }
			END { printf "%s/%s/%s %sb", a, n, d, b }')"
	done
	ANSWERS+=("$1$line")
}

have_gdnsd() { # name
	command -v gdnsd >/dev/null && return 0
	echo "bench: gdnsd not installed (apt-get install gdnsd, or contrib/dev/install-deps.sh): $1 skipped" >&2
	return 1
}

# gdnsd 3.x in the foreground from a config directory of its own (lib.sh gdnsd_conf): name, zone
# file, file with the service_types and plugins stanzas (or ""), query file. gdnsd has no
# response rate limiting. One difference stays: gdnsd puts no address of an MX target in the
# additional section (the others do).
gdnsd_run() {
	local name="$1" zonefile="$2" plugins="$3" queries="$4" port dir
	shift 4
	port="$(free_port)"
	dir="$TMP/$name"
	gdnsd_conf "$dir" "$port" "$zonefile" "$plugins"
	taskset -c 0 gdnsd -c "$dir" start >"$TMP/$name.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	if wait_ready "$port"; then
		taskset -a -p 0x1 "$pid" >/dev/null # every thread, whatever it set for itself
	fi
	case "$name" in
	gdnsd_static | gdnsd_steered) show_answers "$name" "$port" ;;
	gdnsd_geo | gdnsd_geo_ecs) geo_check "$name" "$port" ;;
	esac
	measure "$name" "$pid" "$port" "$queries" "$@" || true
	stop "$pid"
}

run_gdnsd() {
	if have_gdnsd gdnsd; then
		gdnsd_run gdnsd "$TMP/$ZONE.zone" "" "$TMP/queries"
	fi
}
run_gdnsd_static() {
	if have_gdnsd gdnsd_static; then
		gdnsd_run gdnsd_static "$TMP/$ZONE.zone" "" "$TMP/squeries"
	fi
}
run_gdnsd_steered() {
	if have_gdnsd gdnsd_steered; then
		gdnsd_run gdnsd_steered "$TMP/gdnsd-steered.zone" "$TMP/gdnsd-steered.cfg" \
			"$TMP/squeries"
	fi
}

run_nsd() {
	local port
	port="$(free_port)"
	nsd_conf "$TMP/nsd" "$port" "$TMP" "$ZONE.zone"
	taskset -c 0 nsd -d -c "$TMP/nsd/nsd.conf" >"$TMP/nsd.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	measure nsd "$pid" "$port" || true
	stop "$pid"
}

# knotd from a config of its own: name, zone file, mod-geoip views file (or ""), query file,
# dnsperf options...
knot_run() {
	local name="$1" zonefile="$2" geoconf="$3" queries="$4" port dir
	shift 4
	port="$(free_port)"
	dir="$TMP/$name"
	knot_conf "$dir" "$port" "$zonefile" on "$geoconf"
	taskset -c 0 knotd -c "$dir/knot.conf" >"$TMP/$name.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	sleep 0.5
	taskset -a -p 0x1 "$pid" >/dev/null # every thread, including ones started after exec
	case "$name" in
	knot_geo | knot_geo_ecs) geo_check "$name" "$port" ;;
	esac
	measure "$name" "$pid" "$port" "$queries" "$@" || true
	stop "$pid"
}

run_knot() { knot_run knot "$TMP/$ZONE.zone" "" "$TMP/queries"; }
run_knot_geo_static() { knot_run knot_geo_static "$TMP/geo-static.zone" "" "$TMP/gqueries" -e; }
run_knot_geo_static_ecs() {
	knot_run knot_geo_static_ecs "$TMP/geo-static.zone" "" "$TMP/gqueries-ecs.bin" -B
}
run_knot_geo() {
	knot_run knot_geo "$TMP/geo-static.zone" "$TMP/knot-geo.conf" "$TMP/gqueries" -e
}
run_knot_geo_ecs() {
	knot_run knot_geo_ecs "$TMP/geo-static.zone" "$TMP/knot-geo.conf" "$TMP/gqueries-ecs.bin" -B
}

# --- geo steering (GEO=1) --------------------------------------------------------------------
# Before a geo run: the server must answer g0 with the mapping's first pool for each ECS
# subnet of geo-checks (one network per rule, and a gap). GEOCHECK collects "name: ok (N
# subnets)" or "name: SUBNET got [...] expected [...]; ..." for the table.
GEOCHECK=()
geo_check() { # name port
	local sub want got bad=""
	[ "$ROUND" = 1 ] || return 0
	if ! wait_ready "$2"; then
		GEOCHECK+=("$1: FAILED (no answer)")
		return 0
	fi
	while read -r sub want; do
		got="$(dig @127.0.0.1 -p "$2" "g0.$ZONE" A +subnet="$sub" +short +time=2 +tries=2 |
			sort | tr '\n' ' ' | sed 's/ $//')" || true
		if [ "$got" != "$want" ]; then
			bad="$bad $sub got [$got] expected [$want];"
		fi
	done <"$TMP/geo-checks"
	GEOCHECK+=("$1:${bad:- ok ($(wc -l <"$TMP/geo-checks") subnets)}")
}

# steerdns on the geo names: name, zone file, geo policies (1) or none (0), query file,
# dnsperf options...
geo_run() {
	local name="$1" zonefile="$2" steer="$3" queries="$4" port dir
	shift 4
	port="$(free_port)"
	dir="$TMP/$name"
	mkdir -p "$dir"
	{
		printf 'server:\n  listen: ["127.0.0.1:%s"]\n  workers: 1\n' "$port"
		printf '  control-socket: %s/ctl.sock\n  state-dir: %s\n' "$dir" "$dir"
		printf '  log-level: warning\n'
		printf 'zones:\n  - {name: %s, file: %s}\n' "$ZONE" "$zonefile"
		if [ "$steer" = 1 ]; then
			cat "$TMP/steerdns-geo.yaml"
		fi
	} >"$dir/steerdns.yaml"
	taskset -c 0 "$BUILD/server/steerdns" -c "$dir/steerdns.yaml" >"$TMP/$name.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	if [ "$steer" = 1 ]; then
		geo_check "$name" "$port"
	fi
	measure "$name" "$pid" "$port" "$queries" "$@" || true
	stop "$pid"
}

run_geo_static() { geo_run geo_static "$TMP/geo-static.zone" 0 "$TMP/gqueries" -e; }
run_geo_static_ecs() {
	geo_run geo_static_ecs "$TMP/geo-static.zone" 0 "$TMP/gqueries-ecs.bin" -B
}
run_geo() { geo_run geo "$TMP/geo.zone" 1 "$TMP/gqueries" -e; }
run_geo_ecs() { geo_run geo_ecs "$TMP/geo.zone" 1 "$TMP/gqueries-ecs.bin" -B; }
run_gdnsd_geo_static() {
	if have_gdnsd gdnsd_geo_static; then
		gdnsd_run gdnsd_geo_static "$TMP/geo-static.zone" "" "$TMP/gqueries" -e
	fi
}
run_gdnsd_geo_static_ecs() {
	if have_gdnsd gdnsd_geo_static_ecs; then
		gdnsd_run gdnsd_geo_static_ecs "$TMP/geo-static.zone" "" "$TMP/gqueries-ecs.bin" -B
	fi
}
run_gdnsd_geo() {
	if have_gdnsd gdnsd_geo; then
		gdnsd_run gdnsd_geo "$TMP/gdnsd-geo.zone" "$TMP/gdnsd-geo.cfg" "$TMP/gqueries" -e
	fi
}
run_gdnsd_geo_ecs() {
	if have_gdnsd gdnsd_geo_ecs; then
		gdnsd_run gdnsd_geo_ecs "$TMP/gdnsd-geo.zone" "$TMP/gdnsd-geo.cfg" \
			"$TMP/gqueries-ecs.bin" -B
	fi
}

echo "bench: $RECORDS records, dnsperf -l $DURATION -c $CLIENTS -Q $RATE on cores $CLIENT_CPUS," \
	"steerdns ($WORKERS workers) on cores $SERVER_CPUS, the others on core 0, $ROUNDS round(s)" >&2
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
	order="$SERVERS"
	if ((ROUND % 2 == 0)); then # every other round backwards: a drift of the host falls on each
		order="$(echo "$SERVERS" | tr ' ' '\n' | tac | tr '\n' ' ')"
	fi
	for s in $order; do
		echo "bench: $s (round $ROUND of $ROUNDS) ..." >&2
		"run_$s"
	done
done

"$PY" - "${SCRAPES:-}" "${#RESULTS[@]}" "${RESULTS[@]}" "${#GEOCHECK[@]}" "${GEOCHECK[@]}" "${ANSWERS[@]}" <<'EOF'
import sys
scrapes = sys.argv.pop(1)
n = int(sys.argv[1])
rows = [r.split() for r in sys.argv[2:2 + n]]  # name qps lost us user kernel round latency
g = int(sys.argv[2 + n])
geocheck = sys.argv[3 + n:3 + n + g]
answers = sys.argv[3 + n + g:]
import statistics
rounds = max(int(r[6]) for r in rows) if rows else 1
print("%-16s %12s %10s %14s %10s %10s %9s%s" % (
    "server", "QPS", "lost", "CPU us/query", "user", "kernel", "lat us", "  round" if rounds > 1
    else ""))
cpu, by_round = {}, {}
for name, qps, lost, us, user, kern, rnd, lat in rows:
    print("%-16s %12s %10s %14s %10s %10s %9.0f%s" % (name, qps, lost, us, user, kern,
                                                     float(lat) * 1e6,
                                                     "  %5s" % rnd if rounds > 1 else ""))
    by_round.setdefault(name, {})[rnd] = (float(us), float(user), float(kern))
for name, per in by_round.items():
    cpu[name] = statistics.median(v[0] for v in per.values())
if rounds > 1:  # the medians, which the ratios below compare
    print("median of %d rounds:" % rounds)
    for name, per in by_round.items():
        print("%-16s %12s %10s %14.2f %10.2f %10.2f" % (
            name, "", "", cpu[name], statistics.median(v[1] for v in per.values()),
            statistics.median(v[2] for v in per.values())))
if cpu.get("metrics_on") and cpu.get("metrics_off"):
    print("%-16s CPU/query vs metrics_off %+.2f us (%.2fx); %s (warm-up included)"
          % ("metrics_on", cpu["metrics_on"] - cpu["metrics_off"],
             cpu["metrics_on"] / cpu["metrics_off"], scrapes or "no scrapes"))
for v in ("steerdns_rrl", "steerdns_cookie", "steerdns_both", "steerdns_nowait"):
    if cpu.get(v) and cpu.get("steerdns"):
        print("%-16s CPU/query vs steerdns %+.2f us (%.2fx)"
              % (v, cpu[v] - cpu["steerdns"], cpu[v] / cpu["steerdns"]))
if "steerdns" in cpu:
    for other in ("nsd", "knot", "gdnsd"):
        if cpu.get(other):
            # with rounds: each round's own ratio too (the servers ran minutes apart)
            each = [by_round["steerdns"][r][0] / by_round[other][r][0]
                    for r in sorted(by_round["steerdns"], key=int) if r in by_round[other]]
            print("steerdns CPU/query vs %-5s %.2fx%s" % (
                other, cpu["steerdns"] / cpu[other], "" if rounds == 1 else
                " (medians; by round %s)" % " ".join("%.2f" % x for x in each)))
# the steering names (w0..w99): steerdns against itself and against gdnsd
for a, b, what in (("steered", "static", "steerdns steered vs steerdns static"),
                   ("static", "gdnsd_static", "steerdns static vs gdnsd static"),
                   ("steered", "gdnsd_steered", "steerdns steered vs gdnsd steered"),
                   ("gdnsd_steered", "gdnsd_static", "gdnsd steered vs gdnsd static")):
    if a in cpu and cpu.get(b):
        print("%-36s CPU/query %.2fx" % (what, cpu[a] / cpu[b]))
# geo steering (GEO=1): each server's geo against its own static answers, and across servers
for p in ("", "gdnsd_", "knot_"):
    for q in ("", "_ecs"):
        a, b = "%sgeo%s" % (p, q), "%sgeo_static%s" % (p, q)
        if a in cpu and cpu.get(b):
            print("%-36s CPU/query %.2fx (%+.2f us)" % ("%s vs %s" % (a, b), cpu[a] / cpu[b],
                                                       cpu[a] - cpu[b]))
for q in ("", "_ecs"):
    for other in ("gdnsd_", "knot_"):
        a, b = "geo%s" % q, "%sgeo%s" % (other, q)
        if a in cpu and cpu.get(b):
            print("%-36s CPU/query %.2fx" % ("steerdns %s vs %s" % (a, b), cpu[a] / cpu[b]))
if geocheck:
    print("geo check (dig +subnet, one network per rule and a gap, before the timed run):")
    for line in geocheck:
        print("  " + line)
if answers:
    print("records per answer (answer/authority/additional, size):")
    for a in answers:
        print("  " + a)
    counts = {}
    for a in answers:
        name, rest = a.split(None, 1)
        counts[name] = [f for f in rest.split() if "/" in f]
    for x, y in (("static", "gdnsd_static"), ("steered", "gdnsd_steered")):
        if x in counts and y in counts:
            print("  %s vs %s: %s" % (x, y, "same record counts" if counts[x] == counts[y]
                                       else "RECORD COUNTS DIFFER"))
EOF
