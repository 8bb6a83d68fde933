# shellcheck shell=bash
# lib.sh — what the benchmark scripts (bench.sh, instr.sh, zonesize.sh) share; sourced, not run.
#
# bench_init TAG: builds $BUILD when its steerdns is missing, makes the temporary directory
# $TMP (/tmp/steerdns-TAG.XXXXXX) and installs the EXIT trap that kills every PID in PIDS
# and removes $TMP (KEEP=1 keeps it). Needs ROOT, BUILD and PY set by the caller.

bench_init() { # tag
	BENCH_TAG="$1"
	if [ ! -x "$BUILD/server/steerdns" ]; then
		[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" --buildtype=release >/dev/null
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

# A TCP port free on 127.0.0.1 now.
free_port() {
	"$PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
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
