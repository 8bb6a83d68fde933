#!/usr/bin/env bash
# health_bench.sh — the prober with 10,000 loopback targets at a 1 s interval (issue 4).
# A benchmark, not a test: run it on an otherwise idle machine.
#
#   contrib/bench/health_bench.sh [BUILD_DIR] [TARGETS] [SECONDS] [tcp|http]
#
# Prints checks completed per second, the health thread's CPU and the spread of check starts.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$ROOT/build-release}"
TARGETS="${2:-10000}"
SECONDS_="${3:-10}"
TYPE="${4:-http}"
if [ ! -d "$BUILD" ]; then
	meson setup "$BUILD" -Dbuildtype=release -Db_lto=true >/dev/null
fi
ninja -C "$BUILD" health/health_bench >/dev/null
# one socket per in-flight check, plus the in-process server's side
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec "$BUILD/health/health_bench" "$TARGETS" "$SECONDS_" "$TYPE" 1s
