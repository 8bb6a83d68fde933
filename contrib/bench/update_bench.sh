#!/usr/bin/env bash
# update_bench.sh — RFC 2136 update throughput (steerdns vs knotd vs named, fsync on) and the
# time from an update's reply until the NSD, Knot and BIND secondaries serve it (issue 8).
# (BIND does not fsync its journal: its rate is an upper bound, see update_bench.py.)
#
# Not a test: run it by hand on a quiet machine.
#   contrib/bench/update_bench.sh
#   DURATION=5 CLIENTS=8 SERVERS="steerdns knot" contrib/bench/update_bench.sh
#
# Environment: STEERDNS_BUILD (meson build dir, default build-release, built if missing) and
# what update_bench.py documents (DURATION, CLIENTS, SERVERS, ROUNDS, BENCH_DIR, TSIG, KEEP).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${STEERDNS_BUILD:-$ROOT/build-release}"
for tool in knotd named nsd; do
	command -v "$tool" >/dev/null || { echo "update_bench: $tool not found" >&2; exit 2; }
done
if [ ! -x "$BUILD/server/steerdns" ]; then
	[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" --buildtype=release -Db_lto=true >/dev/null
	ninja -C "$BUILD" >/dev/null
fi
export STEERDNS_BUILD="$BUILD"
exec /usr/bin/python3 "$ROOT/contrib/bench/update_bench.py"
