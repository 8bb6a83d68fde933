#!/usr/bin/env bash
# instr.sh — user-space instructions per query, per query class: steerdns, gdnsd, NSD and Knot.
#
# Not a test: run it by hand (it is slow: see below).
#   contrib/bench/instr.sh                       # 100k records, N=1000 per class, 4 servers
#   STEERED=1 N=500 contrib/bench/instr.sh       # and the steering names, static and steered
#   N=2000 RECORDS=100000 SERVERS="steerdns gdnsd" contrib/bench/instr.sh
#
# Method (the same for every server, knowing none of its functions): the server runs under
# valgrind --tool=callgrind (all its threads, and --trace-children so that NSD's forked server
# child and xfrd count too) with instrumentation off while it loads the zone; once it answers
# the zone's last name, instrumentation is switched on (callgrind_control --instr=on, every
# process of the server). Then per class: N queries as a warm-up, and two measured runs of N
# and 2N queries, each between `callgrind_control --zero` and `--dump` of every process of the
# server, sent by dnsperf with one query outstanding (-c 1 -q 1). The figure is
#   ((I(2N) - r*t(2N)) - (I(N) - r*t(N))) / (answered(2N) - answered(N))
# where I is the instructions (Ir) summed over the dumps of the run, t its duration and r the
# server's idle rate (instructions per second with no query, measured for IDLE seconds before
# the classes, again until it is below SETTLE, 100000, at most 6 times: timers, probes,
# housekeeping threads; start-up work that outlasts the first answer must be over). The
# difference removes what is paid once per run (the dump, the first packet); the idle
# correction removes work that grows with time, not queries. A second table counts only the
# answering thread: per-thread dumps (--separate-threads), each thread's own idle rate
# subtracted, the thread whose count grew most from the N to the 2N run. The two agree within
# ~1% for gdnsd, NSD, Knot and static steerdns, and for steered steerdns since its control
# thread recomputes the transfer views only when health or the candidates change (before, every
# 200 ms: ~0.9M instructions/s idle with 100 policies, which made the all-threads figure
# noisy); where they differ, the answering-thread figure is the one to compare. Instruction counts do not depend on the load of the machine; the duration
# does: the loopback round trip under valgrind takes 0.1-40 ms on a loaded 2-core machine. At
# N=500 and 100k records, STEERED=1, the run took 13 minutes (N=1000 without STEERED: 24
# minutes); zones load uninstrumented in seconds.
#
# Correctness: every run's dnsperf response codes must equal what the class asks for (NOERROR /
# NXDOMAIN counts, q.CLASS.rcodes of zonegen.py) with no query lost, and one kdig query per class
# must show the right answer (A/AAAA hit with aa; NXDOMAIN with the SOA; a referral without aa,
# two NS in authority and their two glue addresses; a CNAME then its target's A). A failed check
# puts "!" after the figure and prints why.
#
# Query classes (contrib/bench/zonegen.py writes the zone: bench.sh's RECORDS names plus
# RECORDS/100 delegations with glue):
#   a         A hits                     aaaa      AAAA hits
#   nx        NXDOMAIN                   referral  a name below a delegation (with glue)
#   cname     an in-zone CNAME to an A name, asked for A (CNAME + A in the answer)
#   mix       70% hits over the zone's types in its proportions (A 40 : AAAA 20 : TXT 15 :
#             MX 10, each name asked for its own type), 10% CNAME, 10% NXDOMAIN, 10% referral
#
# Steering (STEERED=1): the zone also gets bench.sh's steering names w0..w99 (four A records
# each) and class "w" asks them for A; server "steered" is steerdns with bench.sh's policies on
# them (w0..w49 weighted, two answers of four; w50..w99 failover, one answer of the primary
# pool; probes every hour: none runs during the measurement) and runs class w only. The table
# then shows steerdns (the w names static), steered and the others on the same names (plain A
# records), and the steered/static ratio. The static answer carries all four A records, the
# steered one two (weighted) or one (failover): as in bench.sh, the ratio compares what each
# mode answers, not equal-sized messages.
#
# Geo steering (GEO=1): instead of the zone above, bench.sh's geo inputs (geo_setup.py: one
# City-layout MaxMind DB, the names g0..g19, one mapping) and two classes: g (gN A with EDNS, no
# ECS: the client is located by its source address, 127.0.0.1) and gecs (the same names, each with
# an ECS option from a random network, 10% from gaps: dnsperf -B). Servers geo_static (steerdns,
# the gN names as plain A records, two each) and geo (steerdns, a geo: policy on each gN over ten
# candidates, two answers: one pool); the table adds geo / static per class. Both answer two
# records, so this ratio compares equal-sized answers. SERVERS may narrow it (e.g. SERVERS=geo).
#
# Configurations: one worker / UDP thread each. steerdns --workers 1; gdnsd udp_threads 1,
# tcp_threads 1, experimental_no_chain false (in-zone CNAMEs chased, as the others do); NSD
# server-count 1, rrl-ratelimit 0; Knot udp-workers 1, tcp-workers 1, background-workers 1.
# Queries carry no EDNS (dnsperf's default), as bench.sh's.
#
# Environment: STEERDNS_BUILD (meson build dir, default build-release, built if missing),
# RECORDS (100000), N (1000), IDLE (seconds, 5), SETTLE (above), SERVERS ("steerdns gdnsd nsd knot"), CLASSES
# ("a aaaa nx referral cname mix"), STEERED=1 (adds class w and server steered, above), GEO=1 (above), KEEP=1 keeps the temporary directory (zone, dnsperf outputs,
# callgrind dumps: callgrind_annotate on one shows where a server's instructions go).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${STEERDNS_BUILD:-$ROOT/build-release}"
RECORDS="${RECORDS:-100000}"
N="${N:-1000}"
IDLE="${IDLE:-5}"
SETTLE="${SETTLE:-100000}"
SERVERS_SET="${SERVERS:-}"
SERVERS="${SERVERS:-steerdns gdnsd nsd knot}"
CLASSES="${CLASSES:-a aaaa nx referral cname mix}"
PY=/usr/bin/python3
. "$ROOT/contrib/bench/lib.sh"
ZONE=example.bench
START="$(date +%s)"
GEN_OPTS=()
if [ "${STEERED:-0}" = 1 ]; then
	CLASSES="$CLASSES w"
	SERVERS="$SERVERS steered"
	GEN_OPTS=(--steering)
fi
if [ "${GEO:-0}" = 1 ]; then
	CLASSES=g
	CLASSES="$CLASSES gecs"
	[ -n "${SERVERS_SET:-}" ] || SERVERS="geo_static geo"
fi

for tool in valgrind callgrind_control dnsperf kdig dig; do
	command -v "$tool" >/dev/null || { echo "instr: $tool not found" >&2; exit 2; }
done
bench_init instr

if [ "${GEO:-0}" = 1 ]; then
	"$PY" "$ROOT/contrib/bench/geo_setup.py" "$TMP" "$ZONE"
	# the classes' query files, 2N queries each, and their response codes (all NOERROR)
	"$PY" - "$TMP" $((2 * N)) <<'EOF'
import struct, sys
tmp, n = sys.argv[1], int(sys.argv[2])
with open(tmp + "/gqueries") as f:
    lines = f.readlines()[:n]
open(tmp + "/q.g", "w").writelines(lines)
data, out, pos = open(tmp + "/gqueries-ecs.bin", "rb").read(), [], 0
while len(out) < n and pos < len(data):
    ln = struct.unpack("!H", data[pos:pos + 2])[0]
    out.append(data[pos:pos + 2 + ln])
    pos += 2 + ln
open(tmp + "/q.gecs", "wb").write(b"".join(out))
for c, k in (("g", len(lines)), ("gecs", len(out))):
    open("%s/q.%s.rcodes" % (tmp, c), "w").write("NOERROR\n" * k)
EOF
else
	"$PY" "$ROOT/contrib/bench/zonegen.py" "$TMP" "$ZONE" "$RECORDS" $((2 * N)) "${GEN_OPTS[@]}"
fi
for c in $CLASSES; do
	# the N run: the first N queries; the 2N run: those and N more of the same class
	if [ "$c" = gecs ]; then # length-prefixed wire messages: the first N
		"$PY" - "$TMP/q.$c" "$N" "$TMP/q.$c.1" <<'EOF'
import struct, sys
data, n, out, pos = open(sys.argv[1], "rb").read(), int(sys.argv[2]), [], 0
while len(out) < n:
    ln = struct.unpack("!H", data[pos:pos + 2])[0]
    out.append(data[pos:pos + 2 + ln])
    pos += 2 + ln
open(sys.argv[3], "wb").write(b"".join(out))
EOF
	else
		head -n "$N" "$TMP/q.$c" >"$TMP/q.$c.1"
	fi
	head -n "$N" "$TMP/q.$c.rcodes" >"$TMP/q.$c.1.rcodes"
	cp "$TMP/q.$c" "$TMP/q.$c.2"
	cp "$TMP/q.$c.rcodes" "$TMP/q.$c.2.rcodes"
done

# the zone's last name answers: the whole zone is loaded (geo: g19 answers from a pool)
LAST=zlast LAST_A=192.0.2.200
[ "${GEO:-0}" != 1 ] || LAST=g19 LAST_A="10.250.*"
wait_loaded() { # port pid
	for _ in $(seq 1 1200); do
		kill -0 "$2" 2>/dev/null || return 1
		# shellcheck disable=SC2053 # LAST_A is a pattern
		if [[ "$(dig @127.0.0.1 -p "$1" "$LAST.$ZONE" A +short +time=2 +tries=1 2>/dev/null |
			head -n 1)" == $LAST_A ]]; then
			return 0
		fi
		sleep 0.5
	done
	return 1
}

cg_all() { # pid command...: a callgrind_control command to every process of the server
	local pid="$1" p
	shift
	for p in $(tree_pids "$pid"); do
		callgrind_control "$@" "$p" >/dev/null 2>&1 || true
	done
}

# Ir summed over the dumps in $1 (wait for every process's dump file to be complete)
# and, in $1/threads, "PID-THREAD Ir" per thread (the dumps are cg.PID.DUMP-THREAD)
cg_sum() { # dir nprocs
	for _ in $(seq 1 100); do
		[ "$(grep -ls '^totals:' "$1"/cg.*.* 2>/dev/null | wc -l)" -ge "$2" ] && break
		sleep 0.2
	done
	for f in "$1"/cg.*.*; do
		awk -v f="${f##*/}" '/^summary:/ {
			n = split(f, p, "."); split(p[n], d, "-"); print p[2] "-" d[2], $2 }' "$f"
	done >"$1/threads"
	awk '{ s += $2 } END { printf "%d\n", s }' "$1/threads"
}

# one measured run: zero, dnsperf over the file, dump; prints "Ir seconds completed"
cg_run() { # pid port queryfile outdir
	local pid="$1" port="$2" q="$3" out="$4" n t0 t1 ir
	mkdir -p "$out"
	n="$(tree_pids "$pid" | wc -l)"
	cg_all "$pid" --zero
	t0="$(date +%s.%N)"
	if [ "$q" = idle ]; then
		sleep "$IDLE"
		echo "  Queries completed: 0" >"$out/dnsperf"
	else
		dnsperf -s 127.0.0.1 -p "$port" -d "$q" -c 1 -q 1 -n 1 -t 5 "${DP_OPTS[@]}" \
			>"$out/dnsperf" 2>&1 || true
	fi
	t1="$(date +%s.%N)"
	# the dumps of this run only, moved away from the server's output directory
	cg_all "$pid" --dump
	for _ in $(seq 1 100); do
		[ "$(ls "$TMP/$SRV"/cg.*.* 2>/dev/null | wc -l)" -ge "$n" ] && break
		sleep 0.2
	done
	sleep 0.5
	mv "$TMP/$SRV"/cg.*.* "$out/" 2>/dev/null || true
	ir="$(cg_sum "$out" "$n")"
	echo "$ir $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') $(awk '/Queries completed:/ {print $3}' "$out/dnsperf")"
}

# dnsperf's response codes and losses against the expected codes: "" when right
check_rcodes() { # dnsperf output, rcodes file
	"$PY" - "$1" "$2" <<'EOF'
import collections, re, sys
out = open(sys.argv[1]).read()
want = collections.Counter(l.strip() for l in open(sys.argv[2]) if l.strip())
m = re.search(r"Response codes:\s*(.*)", out)
got = collections.Counter()
if m:
    for code, n in re.findall(r"([A-Z]+) (\d+) \(", m.group(1)):
        got[code] = int(n)
lost = re.search(r"Queries lost:\s*(\d+)", out)
bad = []
if got != want:
    bad.append("rcodes %s, expected %s" % (dict(got), dict(want)))
if lost and int(lost.group(1)):
    bad.append("%s lost" % lost.group(1))
print("; ".join(bad))
EOF
}

# one kdig query per class, its answer checked: "" when right, else why
sanity() { # port class
	local port="$1" c="$2" name qtype
	local opt=()
	case "$c" in
	g | gecs) # the first geo check's subnet for gecs (its expected pool is checked by bench.sh)
		name="g0.$ZONE" qtype=A
		[ "$c" = g ] || opt=("+subnet=$(awk 'NR == 1 { print $1 }' "$TMP/geo-checks")") ;;
	*) read -r name qtype <"$TMP/q.$c" ;;
	esac
	kdig @127.0.0.1 -p "$port" "$name" "$qtype" +norec +timeout=5 +retry=1 "${opt[@]}" \
		>"$TMP/$SRV/kdig.$c" 2>&1 || true
	"$PY" - "$TMP/$SRV/kdig.$c" "$c" "$name" "$qtype" "$(head -n 1 "$TMP/q.$c.rcodes")" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
cls, qname, qtype, rcode = sys.argv[2], sys.argv[3].lower().rstrip(".") + ".", sys.argv[4], sys.argv[5]
st = re.search(r"status: (\w+)", text)
fl = re.search(r"Flags: ([a-z ]*);", text)
sec, rrs = None, {"ANSWER": [], "AUTHORITY": [], "ADDITIONAL": []}
for line in text.splitlines():
    m = re.match(r";; (\w+) SECTION:", line)
    if m:
        sec = m.group(1); continue
    if sec in rrs and line and not line.startswith(";"):
        f = line.split()
        rrs[sec].append((f[0].lower(), f[3], " ".join(f[4:])))
    elif not line:
        sec = None
status, flags = st.group(1) if st else "none", fl.group(1).split() if fl else []
aa = "aa" in flags
ans, auth, add = rrs["ANSWER"], rrs["AUTHORITY"], rrs["ADDITIONAL"]
types = lambda s, t: [r for r in s if r[1] == t]
bad = []
if status != rcode:
    bad.append("status %s, expected %s" % (status, rcode))
if cls in ("a", "aaaa", "w") and not (aa and [r for r in ans if r[0] == qname and r[1] == qtype]):
    bad.append("no authoritative %s for %s" % (qtype, qname))
if cls in ("g", "gecs") and not (aa and len([r for r in ans if r[0] == qname and r[1] == "A"]) == 2):
    bad.append("not two authoritative A for %s" % qname)
if cls == "nx" and not (aa and types(auth, "SOA")):
    bad.append("NXDOMAIN without aa or SOA")
if cls == "referral":
    cut = qname.split(".", 1)[1]
    glue = {r[0] for r in types(add, "A")}
    if aa or ans or len([r for r in auth if r[0] == cut and r[1] == "NS"]) != 2 \
            or glue != {"ns1." + cut, "ns2." + cut}:
        bad.append("not a referral to %s with its 2 glue A" % cut)
if cls == "cname":
    cn = [r for r in ans if r[0] == qname and r[1] == "CNAME"]
    if not (aa and cn and [r for r in ans if r[0] == cn[0][2].lower() and r[1] == "A"]):
        bad.append("no CNAME then A for %s" % qname)
if bad:
    print("%s %s: %s" % (qname, qtype, "; ".join(bad)))
EOF
}

RESULTS=()  # "server class irq flag"
DP_OPTS=()  # dnsperf options of the class being measured
NOTES=()
measure_server() { # name pid port
	local srv="$1" pid="$2" port="$3" c idle r1 r2 flag why ir
	if ! wait_loaded "$port" "$pid"; then
		echo "instr: $srv did not answer; log:" >&2
		tail -20 "$TMP/$srv.log" >&2
		return 1
	fi
	echo "instr: $srv loaded in $(($(date +%s) - T0)) s (uninstrumented), $(tree_pids "$pid" |
		wc -l) process(es)" >&2
	cg_all "$pid" --instr=on
	# settle: start-up work that goes on after the first answer (steerdns's first probes and
	# the snapshots they cause) must be over, else it would count as idle work
	local rate k
	for k in $(seq 1 6); do
		idle="$(cg_run "$pid" "$port" idle "$TMP/$srv/idle.$k")"
		rate="$(echo "$idle" | awk '{ printf "%.0f", $1 / $2 }')"
		[ "$rate" -ge "$SETTLE" ] || break
		echo "instr: $srv not idle yet: $rate instructions/s" >&2
	done
	NOTES+=("$srv idle: $rate instructions/s")
	local itime idir="$TMP/$srv/idle.$k"
	itime="$(echo "$idle" | awk '{ print $2 }')"
	local classes="$CLASSES"
	[ "$srv" != steered ] || classes=w
	for c in $classes; do
		flag=""
		why="$(sanity "$port" "$c")"
		[ -z "$why" ] || { flag="!"; NOTES+=("$srv $c kdig: $why"); }
		DP_OPTS=()
		case "$c" in
		g) DP_OPTS=(-e) ;;
		gecs) DP_OPTS=(-B) ;;
		esac
		dnsperf -s 127.0.0.1 -p "$port" -d "$TMP/q.$c.1" -c 1 -q 1 -n 1 -t 5 "${DP_OPTS[@]}" \
			>/dev/null 2>&1 || true
		r1="$(cg_run "$pid" "$port" "$TMP/q.$c.1" "$TMP/$srv/$c.1")"
		r2="$(cg_run "$pid" "$port" "$TMP/q.$c.2" "$TMP/$srv/$c.2")"
		for k in 1 2; do
			why="$(check_rcodes "$TMP/$srv/$c.$k/dnsperf" "$TMP/q.$c.$k.rcodes")"
			[ -z "$why" ] || { flag="!"; NOTES+=("$srv $c run $k: $why"); }
		done
		ir="$(echo "$r1 $r2 $rate" | awk '{
			d = $6 - $3; if (d <= 0) { print "nan"; exit }
			printf "%.0f", (($4 - $7 * $5) - ($1 - $7 * $2)) / d }')"
		# the thread whose work, its own idle rate subtracted, grew most from the N to the 2N
		# run: the answering thread
		local hot
		hot="$(echo "$r1 $r2" | awk '{ print $2, $5, $6 - $3 }' | {
			read -r t1 t2 d
			awk -v it="$itime" -v t1="$t1" -v t2="$t2" -v d="$d" '
				FNR == 1 { f++ }
				f == 1 { r[$1] = $2 / it }
				f == 2 { a[$1] = $2 - r[$1] * t1 }
				f == 3 { x = $2 - r[$1] * t2 - a[$1]; if (x > m) m = x }
				END { printf "%.0f", (d > 0 ? m / d : 0) }' "$idir/threads" \
				"$TMP/$srv/$c.1/threads" "$TMP/$srv/$c.2/threads"
		})"
		echo "instr: $srv $c: $ir instructions/query$flag, $hot in the answering thread" \
			"(N run: $r1; 2N run: $r2)" >&2
		RESULTS+=("$srv $c $ir $hot $flag")
	done
	NOTES+=("$srv: $(($(date +%s) - T0)) s in all")
}

VG=(valgrind --tool=callgrind --trace-children=yes --instr-atstart=no --fair-sched=yes
	--separate-threads=yes)

start() { # name port command...: the server under callgrind, measured, stopped
	local srv="$1" port="$2" pid
	shift 2
	SRV="$srv"
	mkdir -p "$TMP/$srv"
	T0="$(date +%s)"
	"${VG[@]}" --callgrind-out-file="$TMP/$srv/cg.%p" "$@" >"$TMP/$srv.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	measure_server "$srv" "$pid" "$port" || true
	stop "$pid"
}

run_steerdns() {
	local port
	port="$(free_port)"
	start steerdns "$port" "$BUILD/server/steerdns" --listen "127.0.0.1:$port" \
		--zone "$ZONE=$TMP/$ZONE.zone" --workers 1 --control "$TMP/steerdns/ctl.sock" \
		--state-dir "$TMP/steerdns/state" --log-level warning
}

# steerdns with bench.sh's steering policies on the w names
run_steered() {
	local port dir="$TMP/steered-conf"
	port="$(free_port)"
	mkdir -p "$dir"
	{
		printf 'server:\n  listen: ["127.0.0.1:%s"]\n  workers: 1\n' "$port"
		printf '  control-socket: %s/ctl.sock\n  state-dir: %s/state\n' "$dir" "$dir"
		printf '  log-level: warning\n'
		printf 'zones:\n  - {name: %s, file: %s/%s.zone}\n' "$ZONE" "$TMP" "$ZONE"
		cat "$TMP/steering.yaml"
	} >"$dir/steerdns.yaml"
	start steered "$port" "$BUILD/server/steerdns" -c "$dir/steerdns.yaml"
}

# steerdns on bench.sh's geo names: name, zone file, the geo policies (1) or none (0)
geo_start() {
	local port dir="$TMP/$1-conf"
	port="$(free_port)"
	mkdir -p "$dir"
	{
		printf 'server:\n  listen: ["127.0.0.1:%s"]\n  workers: 1\n' "$port"
		printf '  control-socket: %s/ctl.sock\n  state-dir: %s/state\n' "$dir" "$dir"
		printf '  log-level: warning\n'
		printf 'zones:\n  - {name: %s, file: %s}\n' "$ZONE" "$2"
		[ "$3" = 0 ] || cat "$TMP/steerdns-geo.yaml"
	} >"$dir/steerdns.yaml"
	start "$1" "$port" "$BUILD/server/steerdns" -c "$dir/steerdns.yaml"
}
run_geo_static() { geo_start geo_static "$TMP/geo-static.zone" 0; }
run_geo() { geo_start geo "$TMP/geo.zone" 1; }

run_gdnsd() {
	local port dir="$TMP/gdnsd-conf"
	command -v gdnsd >/dev/null || { echo "instr: gdnsd not installed: skipped" >&2; return 0; }
	port="$(free_port)"
	gdnsd_conf "$dir" "$port" "$TMP/$ZONE.zone"
	start gdnsd "$port" gdnsd -c "$dir" start
}

run_nsd() {
	local port dir="$TMP/nsd-conf"
	command -v nsd >/dev/null || { echo "instr: nsd not installed: skipped" >&2; return 0; }
	port="$(free_port)"
	nsd_conf "$dir" "$port" "$TMP" "$ZONE.zone"
	start nsd "$port" nsd -d -c "$dir/nsd.conf"
}

run_knot() {
	local port dir="$TMP/knot-conf"
	command -v knotd >/dev/null || { echo "instr: knotd not installed: skipped" >&2; return 0; }
	port="$(free_port)"
	knot_conf "$dir" "$port" "$TMP/$ZONE.zone"
	start knot "$port" knotd -c "$dir/knot.conf"
}

echo "instr: $RECORDS records, N=$N queries per class (runs of N and 2N), one outstanding" >&2
for s in $SERVERS; do
	echo "instr: $s ..." >&2
	"run_$s"
done

"$PY" - "$CLASSES" "$SERVERS" "${#RESULTS[@]}" "${RESULTS[@]}" "${NOTES[@]}" <<'EOF'
import sys
classes, servers, n = sys.argv[1].split(), sys.argv[2].split(), int(sys.argv[3])
cell, val = {}, {}
for r in sys.argv[4:4 + n]:
    f = r.split()
    flag = f[4] if len(f) > 4 else ""
    for col, title in ((2, "all"), (3, "hot")):
        cell[title, f[0], f[1]] = f[col] + flag
        try:
            val[title, f[0], f[1]] = float(f[col])
        except ValueError:
            pass
others = [s for s in servers if s not in ("steerdns", "steered")] if "steerdns" in servers else []
for t, title in (("all", "user-space instructions per query, all threads and processes, idle "
                  "work subtracted (callgrind, one query outstanding)"),
                 ("hot", "the same, counting only the thread whose work grew with the queries "
                  "(the answering thread)")):
    print(title)
    print("%-9s" % "class" + "".join("%10s" % s for s in servers)
          + "".join("%12s" % ("sd/" + s) for s in others))
    for c in classes:
        line = "%-9s" % c + "".join("%10s" % cell.get((t, s, c), "-") for s in servers)
        for s in others:
            a, b = val.get((t, "steerdns", c)), val.get((t, s, c))
            line += "%12s" % ("%.2fx" % (a / b) if a and b else "-")
        print(line)
    for c in ("g", "gecs"):
        if (t, "geo", c) in val and (t, "geo_static", c) in val:
            print("geo / static (steerdns, class %s): %.2fx"
                  % (c, val[t, "geo", c] / val[t, "geo_static", c]))
    if (t, "steered", "w") in val and (t, "steerdns", "w") in val:
        print("steered / static (steerdns, class w): %.2fx"
              % (val[t, "steered", "w"] / val[t, "steerdns", "w"]))
for note in sys.argv[4 + n:]:
    print("  " + note)
EOF
echo "instr: $(($(date +%s) - START)) s in all" >&2
