# shellcheck shell=bash
# lib.sh — what the benchmark scripts (bench.sh, instr.sh, zonesize.sh) share; sourced, not run.
#
# bench_init TAG: builds $BUILD when its steerdns or steerctl is missing (a build dir that made
# only the daemon has no steerctl, and zonesize's reload would never be sent), makes the temporary directory
# $TMP (/tmp/steerdns-TAG.XXXXXX) and installs the EXIT trap that kills every PID in PIDS
# and removes $TMP (KEEP=1 keeps it). Needs ROOT, BUILD and PY set by the caller.

bench_init() { # tag
	BENCH_TAG="$1"
	if [ ! -x "$BUILD/server/steerdns" ] || [ ! -x "$BUILD/server/steerctl" ]; then
		[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" --buildtype=release -Db_lto=true >/dev/null
		ninja -C "$BUILD" >/dev/null
	fi
	TMP="$(mktemp -d "/tmp/steerdns-$BENCH_TAG.XXXXXX")"
	PIDS=()
	trap bench_cleanup EXIT
}

bench_cleanup() {
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "$BENCH_TAG: kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}

# A port free for UDP and TCP on 127.0.0.1 now, below the kernel's ephemeral range, so that no
# client socket (dnsperf opens many) can be given it before the server binds it.
free_port() {
	"$PY" -c 'import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(1000):
    port = random.randint(min(20000, low - 1000), low - 1)
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            socket.socket(socket.AF_INET, kind).bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break
else:
    raise SystemExit("no free port below %d" % low)'
}

# The process and its descendants (NSD's forks), one PID a line.
tree_pids() { # pid
	"$PY" - "$1" <<'PYEOF'
import os, sys
ppid = {}
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            st = open("/proc/%s/stat" % p).read()
        except OSError:
            continue
        ppid[int(p)] = int(st[st.rindex(")") + 2:].split()[1])
want, changed = {int(sys.argv[1])}, True
while changed:
    changed = False
    for pid, pp in ppid.items():
        if pp in want and pid not in want:
            want.add(pid); changed = True
print("\n".join(str(p) for p in sorted(want) if p in ppid))
PYEOF
}

# SIGTERM, then SIGKILL after about 20 s if it is still there.
stop() { # pid
	kill "$1" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.2
	done
	kill -9 "$1" 2>/dev/null || true
}

# --- the reference servers' configurations, the same for every script: one UDP and one TCP
# worker, no rate limiting, zone file as given. Each writes its config only; the caller
# starts the server (pinned, under callgrind, timed...). $ZONE is the zone's name.

# gdnsd 3.x: DIR/config, the zone copied to DIR/zones/$ZONE; plugins: a file with the
# service_types and plugins stanzas appended (or ""). experimental_no_chain false: in-zone
# CNAMEs are chased as steerdns, NSD and Knot do (gdnsd's default answers the CNAME alone).
gdnsd_conf() { # dir port zonefile [plugins]
	local dir="$1" port="$2" zonefile="$3" plugins="${4:-}"
	mkdir -p "$dir/zones"
	cp "$zonefile" "$dir/zones/$ZONE"
	{
		printf 'options => {\n  listen => 127.0.0.1:%s\n  udp_threads => 1\n' "$port"
		printf '  tcp_threads => 1\n  zones_rfc1035_threads => 1\n'
		printf '  experimental_no_chain => false\n  run_dir => %s/run\n' "$dir"
		printf '  state_dir => %s/state\n}\n' "$dir"
		if [ -n "$plugins" ]; then
			cat "$plugins"
		fi
	} >"$dir/config"
}

# NSD: DIR/nsd.conf (its state files in DIR too), the zone file zonesdir/zonefile; Debian's
# rrl-ratelimit 200 switched off.
nsd_conf() { # dir port zonesdir zonefile
	local dir="$1"
	mkdir -p "$dir"
	cat >"$dir/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$2
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$3"
    database: ""
    pidfile: "$dir/nsd.pid"
    xfrdfile: "$dir/xfrd.state"
    zonelistfile: "$dir/zone.list"
    xfrdir: "$dir"
    rrl-ratelimit: 0
    verbosity: 0
    hide-version: yes
remote-control:
    control-enable: no
zone:
    name: $ZONE
    zonefile: $4
EOF
}

# Knot: DIR/knot.conf, one worker of each kind, the zone never written back; ecs "on" answers
# EDNS Client Subnet; geoconf: a mod-geoip views file over $TMP/geo/bench.mmdb (or "").
knot_conf() { # dir port zonefile [ecs [geoconf]]
	local dir="$1" port="$2" zonefile="$3" ecs="${4:-}" geoconf="${5:-}"
	mkdir -p "$dir"
	{
		cat <<EOF
server:
    listen: 127.0.0.1@$port
    rundir: $dir
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
EOF
		if [ "$ecs" = on ]; then
			echo "    edns-client-subnet: on"
		fi
		cat <<EOF
database:
    storage: $dir
log:
  - target: stderr
    any: warning
EOF
		if [ -n "$geoconf" ]; then
			cat <<EOF
mod-geoip:
  - id: geo
    config-file: $geoconf
    ttl: 300
    mode: geodb
    geodb-file: $TMP/geo/bench.mmdb
    geodb-key: [continent/code, country/iso_code]
EOF
		fi
		cat <<EOF
template:
  - id: default
    storage: $dir
    semantic-checks: off
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: $ZONE
    file: $zonefile
EOF
		if [ -n "$geoconf" ]; then
			echo "    module: mod-geoip/geo"
		fi
	} >"$dir/knot.conf"
}
