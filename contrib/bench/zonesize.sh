#!/usr/bin/env bash
# zonesize.sh — memory and load time of steerdns, gdnsd, NSD and Knot on large zones, and the
# time of a steerdns reload that changes one record under load.
#
# Not a test: run it by hand.
#   contrib/bench/zonesize.sh                          # 100k and 1M records, the 4 servers
#   RECORDS="100000" SERVERS="steerdns knot" contrib/bench/zonesize.sh
#
# For each size the zone is contrib/bench/zonegen.py's (bench.sh's records, plus RECORDS/100
# delegations with glue, and "zlast A 192.0.2.200" as its last line), written once to ZONEDIR
# and reused by later runs. Each server (one worker / UDP thread, the configurations of
# instr.sh, no valgrind) is started alone and measured:
#   load s   from the server's exec to its first correct answer for zlast (the file's last
#            name; queried every 10 ms), i.e. parsing, building and starting to serve
#   RSS MB   VmRSS summed over the server's processes, 2 s after that first answer
#   HWM MB   VmHWM summed likewise: the peak, which the load reaches
#   PSS MB   Pss from /proc/PID/smaps_rollup summed: RSS with pages shared between processes
#            counted once (NSD's forked server child shares the zone with its parent: its
#            RSS sum counts it twice, its PSS does not)
# steerdns also: a reload that changes one record while dnsperf offers RELOAD_QPS queries/s of
# instr.sh's mix: the zone file is rewritten beside (zlast 192.0.2.201, serial 2) and renamed
# over the old one, then `steerctl reload example.bench` runs; "reload s" is from that command to
# the first answer with the new address. dnsperf's lost queries and its maximum latency over
# the whole load (from RELOAD_PAD seconds before the reload to RELOAD_PAD seconds after its new
# answer) say whether answering stalled.
#
# Times are indicative: the machine may be shared (a loaded 2-core machine doubles them);
# memory figures are not affected. The whole run takes a few minutes at 1M records (zone
# generation ~15 s the first time, each load a few to 30 s).
#
# Environment: STEERDNS_BUILD (default build-release, built if missing), RECORDS ("100000
# 1000000"), SERVERS ("steerdns gdnsd nsd knot"), ZONEDIR (/tmp/steerdns-zones), RELOAD_QPS
# (2000), RELOAD_PAD (5: seconds of load before the reload and after its new answer), KEEP=1
# keeps the temporary directory (logs, dnsperf output).
# The moment `steerctl reload` returns, the reload test sends one RFC 2136 UPDATE (from a
# sender started before the reload) and prints how long it took to be acknowledged
# ("zonesize: an UPDATE sent as the reload returned"), then one more a second later: an
# UPDATE must not wait for what the reload does once it has answered (the base copy of the
# file, written on the thread pool).
# The reload test also prints the daemon's CPU time (user + system) and minor page faults from
# the steerctl reload to the new answer ("zonesize: reload cpu"; /proc/PID/stat: all its
# threads, those that ended too, the worker's answers to the RELOAD_QPS load included):
# unlike the reload's wall time, hardly moved by a busy machine; and the memory figures again
# RELOAD_PAD seconds after the new answer ("zonesize: after the reload").
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${STEERDNS_BUILD:-$ROOT/build-release}"
RECORDS="${RECORDS:-100000 1000000}"
SERVERS="${SERVERS:-steerdns gdnsd nsd knot}"
ZONEDIR="${ZONEDIR:-/tmp/steerdns-zones}"
RELOAD_QPS="${RELOAD_QPS:-2000}"
RELOAD_PAD="${RELOAD_PAD:-5}"
PY=/usr/bin/python3
. "$ROOT/contrib/bench/lib.sh"
ZONE=example.bench
START="$(date +%s)"

for tool in dnsperf dig; do
	command -v "$tool" >/dev/null || { echo "zonesize: $tool not found" >&2; exit 2; }
done
"$PY" -c 'import dns.message' 2>/dev/null || { echo "zonesize: needs python3-dnspython" >&2; exit 2; }
bench_init zonesize

# seconds from $3 (epoch, fractional) until zlast answers address $2 on port $1; "timeout" after
# $4 seconds
wait_answer() { # port address since limit
	"$PY" - "$@" "$ZONE" <<'EOF'
import socket, sys, time
import dns.message, dns.rdatatype
port, addr, since, limit, zone = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), \
    float(sys.argv[4]), sys.argv[5]
q = dns.message.make_query("zlast.%s." % zone, "A")
q.flags = 0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.01)
wire = q.to_wire()
while time.time() - since < limit:
    try:
        s.sendto(wire, ("127.0.0.1", port))
        while True:
            r = dns.message.from_wire(s.recv(4096))
            if r.id == q.id:
                break
        if any(rr.rdtype == dns.rdatatype.A and any(x.address == addr for x in rr)
               for rr in r.answer):
            print("%.3f" % (time.time() - since))
            sys.exit(0)
    except (socket.timeout, ConnectionRefusedError, dns.exception.DNSException):
        pass
    time.sleep(0.01)
print("timeout")
EOF
}

# "rss hwm pss" in MB over the process and its descendants
mem_mb() { # pid
	# shellcheck disable=SC2046 # one argument per PID
	"$PY" - $(tree_pids "$1") <<'EOF'
import sys
want = [int(p) for p in sys.argv[1:]]
tot = {"VmRSS": 0, "VmHWM": 0, "Pss": 0}
for p in want:
    try:
        for f in ("status", "smaps_rollup"):
            for line in open("/proc/%d/%s" % (p, f)):
                k = line.split(":")[0]
                if k in tot:
                    tot[k] += int(line.split()[1])
    except OSError:
        pass
print("%.1f %.1f %.1f %d" % (tot["VmRSS"] / 1024, tot["VmHWM"] / 1024, tot["Pss"] / 1024, len(want)))
EOF
}

RESULTS=() # "records server load rss hwm pss procs reload lost maxlat"
# start a server (the command after name and port), measure, run the reload test for steerdns
measure() { # records name port command...
	local n="$1" srv="$2" port="$3" t0 pid load mem extra="- - -"
	shift 3
	t0="$(date +%s.%N)"
	"$@" >"$TMP/$srv.$n.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	load="$(wait_answer "$port" 192.0.2.200 "$t0" 600)"
	if [ "$load" = timeout ]; then
		echo "zonesize: $srv did not answer zlast; log:" >&2
		tail -20 "$TMP/$srv.$n.log" >&2
		stop "$pid"
		return 0
	fi
	sleep 2
	mem="$(mem_mb "$pid")"
	if [ "$srv" = steerdns ]; then
		extra="$(reload_test "$n" "$port" "$pid")"
	fi
	echo "zonesize: $srv $n records: load $load s, rss/hwm/pss/procs $mem, reload/lost/max $extra" >&2
	RESULTS+=("$n $srv $load $mem $extra")
	stop "$pid"
}

# "cpu faults" of a process, all its threads (ended ones too): utime + stime in clock ticks,
# minor faults (proc(5) stat fields 14, 15 and 10, counted after the ")" ending the name)
cpu_faults() { # pid
	sed -e 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13, $8 }'
}

# The reload test's UPDATE sender, started (dnspython imported) before the reload: for each
# line read, one RFC 2136 UPDATE of upd over TCP to 127.0.0.1 port $1, and a line with the
# milliseconds until it was acknowledged.
# shellcheck disable=SC2016 # Python, not shell
UPDATE_PY='
import sys, time
import dns.query, dns.rcode, dns.update
port, zone = int(sys.argv[1]), sys.argv[2]
for k, _ in enumerate(sys.stdin):
    u = dns.update.UpdateMessage(zone)
    u.replace("upd", 300, "A", "192.0.2.%d" % (k % 250 + 1))
    t = time.monotonic()
    r = dns.query.tcp(u, "127.0.0.1", port=port, timeout=60)
    ms = (time.monotonic() - t) * 1000
    print("%.1f" % ms if r.rcode() == 0 else "failed", flush=True)
'

# steerdns: change zlast and the serial, steerctl reload under dnsperf load; "reload lost maxlat"
reload_test() { # records port pid
	local n="$1" port="$2" pid="$3" zf="$TMP/zone.$1" t0 r lost maxlat s0 s1=""
	# runs until interrupted (dnsperf prints its statistics on SIGINT) after the new answer
	dnsperf -s 127.0.0.1 -p "$port" -d "$TMP/q.mix" -l 900 -c 1 -Q "$RELOAD_QPS" \
		>"$TMP/reload.$n.dnsperf" 2>&1 &
	local dp=$!
	PIDS+=("$dp")
	local after rest
	coproc UPD { "$PY" -u -c "$UPDATE_PY" "$port" "$ZONE"; }
	# shellcheck disable=SC2153 # UPD_PID: set by coproc
	local upd_in="${UPD[1]}" upd_out="${UPD[0]}" upd_pid="$UPD_PID"
	PIDS+=("$upd_pid")
	sed -e 's/^@ SOA ns1 hostmaster 1 /@ SOA ns1 hostmaster 2 /' \
		-e 's/^zlast A 192.0.2.200$/zlast A 192.0.2.201/' "$zf" >"$zf.new"
	sleep "$RELOAD_PAD"
	mv "$zf.new" "$zf"
	s0="$(cpu_faults "$pid")"
	t0="$(date +%s.%N)"
	if "$BUILD/server/steerctl" -s "$TMP/steerdns.sock" reload "$ZONE" >"$TMP/reload.$n.out" 2>&1; then
		echo now >&"$upd_in" # while wait_answer starts: does not delay the new answer
		r="$(wait_answer "$port" 192.0.2.201 "$t0" 300)"
		s1="$(cpu_faults "$pid")"
		read -r after <&"$upd_out"
		sleep 1
		echo now >&"$upd_in"
		read -r rest <&"$upd_out"
		echo "zonesize: an UPDATE sent as the reload returned, $n records: $after ms" \
			"(one 1 s later: $rest ms)" >&2
	else # say so, rather than wait 300 s for an answer that no reload will bring
		echo "zonesize: steerctl reload failed: $(head -c 300 "$TMP/reload.$n.out")" >&2
		r=failed
	fi
	# shellcheck disable=SC2086 # two numbers each
	set -- $s0 ${s1:-$(cpu_faults "$pid")}
	echo "zonesize: reload cpu $n records: $((($3 - $1) * 1000 / $(getconf CLK_TCK))) ms" \
		"(user+system, all threads), $(($4 - $2)) minor faults" >&2
	exec {upd_in}>&- # the sender reads EOF and ends
	wait "$upd_pid" 2>/dev/null || true
	sleep "$RELOAD_PAD"
	echo "zonesize: after the reload, $n records: rss/hwm/pss/procs $(mem_mb "$pid")" >&2
	kill -INT "$dp" 2>/dev/null || true
	wait "$dp" || true
	lost="$(awk '/Queries lost:/ {print $3}' "$TMP/reload.$n.dnsperf")"
	maxlat="$(awk '/Average Latency/ { gsub(/[(),]/, ""); print $NF }' "$TMP/reload.$n.dnsperf")"
	echo "$r ${lost:-?} ${maxlat:-?}"
}

run_steerdns() { # records port
	rm -rf "$TMP/steerdns-state"
	# unsigned updates of upd.$ZONE from loopback, for the reload test's UPDATE
	cat >"$TMP/steerdns.$1.yaml" <<EOF
server:
  listen: ["127.0.0.1:$2"]
  workers: 1
  control-socket: $TMP/steerdns.sock
  state-dir: $TMP/steerdns-state
zones:
  - name: $ZONE
    file: $TMP/zone.$1
    update-policy:
      - {address: 127.0.0.1, match: name, name: upd.$ZONE, types: [A]}
EOF
	measure "$1" steerdns "$2" "$BUILD/server/steerdns" -c "$TMP/steerdns.$1.yaml" \
		--log-level warning
}

run_gdnsd() { # records port
	local dir="$TMP/gdnsd-$1"
	command -v gdnsd >/dev/null || { echo "zonesize: gdnsd not installed: skipped" >&2; return 0; }
	gdnsd_conf "$dir" "$2" "$ZONEDIR/$ZONE.$1.zone"
	measure "$1" gdnsd "$2" gdnsd -c "$dir" start
}

run_nsd() { # records port
	local dir="$TMP/nsd-$1"
	command -v nsd >/dev/null || { echo "zonesize: nsd not installed: skipped" >&2; return 0; }
	nsd_conf "$dir" "$2" "$ZONEDIR" "$ZONE.$1.zone"
	measure "$1" nsd "$2" nsd -d -c "$dir/nsd.conf"
}

run_knot() { # records port
	local dir="$TMP/knot-$1"
	command -v knotd >/dev/null || { echo "zonesize: knotd not installed: skipped" >&2; return 0; }
	knot_conf "$dir" "$2" "$ZONEDIR/$ZONE.$1.zone"
	measure "$1" knot "$2" knotd -c "$dir/knot.conf"
}

mkdir -p "$ZONEDIR"
for n in $RECORDS; do
	if [ ! -s "$ZONEDIR/$ZONE.$n.zone" ]; then
		echo "zonesize: generating $n records in $ZONEDIR ..." >&2
		"$PY" "$ROOT/contrib/bench/zonegen.py" "$TMP" "$ZONE" "$n" 0
		mv "$TMP/$ZONE.zone" "$ZONEDIR/$ZONE.$n.zone"
	fi
	# steerdns's copy is edited by the reload test
	cp "$ZONEDIR/$ZONE.$n.zone" "$TMP/zone.$n"
	[ -s "$TMP/q.mix" ] || "$PY" "$ROOT/contrib/bench/zonegen.py" "$TMP" "$ZONE" 100000 20000
	for s in $SERVERS; do
		echo "zonesize: $s, $n records ..." >&2
		"run_$s" "$n" "$(free_port)"
	done
done

"$PY" - "${RESULTS[@]}" <<'EOF'
import sys
print("%-9s %-9s %8s %9s %9s %9s %6s %9s %6s %8s" % ("records", "server", "load s", "RSS MB",
      "HWM MB", "PSS MB", "procs", "reload s", "lost", "max lat"))
for r in sys.argv[1:]:
    print("%-9s %-9s %8s %9s %9s %9s %6s %9s %6s %8s" % tuple(r.split()))
EOF
echo "zonesize: $(($(date +%s) - START)) s in all" >&2
