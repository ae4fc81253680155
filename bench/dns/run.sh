#!/usr/bin/env bash
# bench/dns: timepool-dns against Knot DNS and gdnsd (weighted plugin) with dnsperf on loopback.
# Builds a Release timepool-dns in build-bench/, makes a snapshot of 10,000 servers in 300 zones
# in a fresh PostgreSQL cluster of its own, and prints (and writes to bench/dns/results.md) qps,
# latency, qps per CPU-second, RSS, rebuild time and the ratios. About 3-4 minutes.
# Environment: ROUNDS (5), SECONDS_PER_RUN (4), BUILD_DIR (build-bench), SERVERS (10000).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-$PWD/build-bench}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTIMEPOOL_TESTS=OFF >/dev/null
cmake --build "$build" -j 2 --target timepool-dns timepoolctl >/dev/null
exec /usr/bin/python3 bench/dns/bench.py --build "$build" "$@"
