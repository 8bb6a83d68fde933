#!/usr/bin/env bash
# First command of the README: install dependencies, build, and run steerdns in the foreground
# on the example zone at 127.0.0.1:5353 (and [::1]:5353). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/../.."

contrib/dev/install-deps.sh --build-only
[ -d build ] || meson setup build --buildtype=release -Db_lto=true
ninja -C build
echo "quickstart: serving contrib/examples/example.com.zone on 127.0.0.1:5353;" \
	"try: dig @127.0.0.1 -p 5353 www.example.com" >&2
exec build/server/steerdns -c contrib/examples/steerdns.yaml
