#!/usr/bin/env bash
# Install everything steerdns needs to build and test, from Debian 12 packages.
# Idempotent and quick when everything is present. Debian's DNS server packages are installed
# with their system services kept stopped (a temporary policy-rc.d that exits 101): the tests
# start their own instances on loopback.
#
# Usage: install-deps.sh [--build-only] [--list]
#   --build-only  what building and trying the server needs (the README's quick start), not the
#                 test peers; that includes the tools the README tells a newcomer to run next
#                 (dig, from bind9-dnsutils)
#   --list        print the packages that would be ensured, one a line, and install nothing
set -euo pipefail

build_only=0
list=0
for arg in "$@"; do
	case "$arg" in
	--build-only) build_only=1 ;;
	--list) list=1 ;;
	*)
		echo "usage: $0 [--build-only] [--list]" >&2
		exit 2
		;;
	esac
done

build_pkgs=(build-essential pkg-config meson ninja-build clang libclang-rt-14-dev
	libldns-dev libuv1-dev libssl-dev libmaxminddb-dev liburcu-dev libyaml-dev libcmocka-dev
	libhttp-parser-dev)
# What the README's quick start tells a newcomer to run once the server is up (`dig`).
use_pkgs=(bind9-dnsutils)
# man-db renders the manual pages in tests/system/test_manuals.py (man --warnings -l).
# gdnsd is the benchmark's steering peer (contrib/bench/bench.sh: its weighted and metafo
# plugins against steerdns's policies); like the other servers its service stays stopped.
# Geo steering's tests write MaxMind databases with libmaxmind-db-writer-perl and read them
# back with python3-maxminddb (the reference for answers and ECS scopes); knot-module-geoip is
# the benchmark's geo peer beside gdnsd's geoip plugin.
test_pkgs=(knot nsd bind9 knot-dnsutils dnsutils dnsperf gdnsd python3-pytest python3-dnspython
	libmaxmind-db-writer-perl python3-maxminddb knot-module-geoip openssl ca-certificates
	iproute2 procps util-linux clang-format man-db)

want=("${build_pkgs[@]}" "${use_pkgs[@]}")
[ "$build_only" = 1 ] || want+=("${test_pkgs[@]}")
if [ "$list" = 1 ]; then
	printf '%s\n' "${want[@]}"
	exit 0
fi

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	created_policy=1
fi
# An EXIT trap's last status becomes the script's: a test that is false (policy-rc.d was there
# before us) must not turn a good install into exit 1.
cleanup() { if [ "$created_policy" = 1 ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT

$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
