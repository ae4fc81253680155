#!/usr/bin/env bash
# Builds the web benchmarks in BUILD_DIR (default build-bench, Release) and runs one against a
# throwaway PostgreSQL cluster (started and removed here).
#   bash bench/web/run.sh [iterations]                          score page (bench_web)
#   bash bench/web/run.sh vendor-zones [iterations] [zones]     /admin and vendor pages with
#                                                               1,000 zones (bench_vendor_zones)
# bench_web runs under the shared lock: flock /tmp/timepool-heavy.lock bash bench/web/run.sh.
# bench_vendor_zones takes the lock itself (TIMEPOOL_BENCH_LOCK) only while it measures: seeding
# 40 million rows takes minutes and runs outside it.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build-bench}
target=bench_web
if [ "${1:-}" = "vendor-zones" ]; then
  target=bench_vendor_zones
  export TIMEPOOL_BENCH_LOCK=${TIMEPOOL_BENCH_LOCK:-/tmp/timepool-heavy.lock}
  shift
fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTIMEPOOL_BENCH=ON >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target "$target" >/dev/null
pgdir=$(mktemp -d /tmp/timepool-bench-pg.XXXXXX)
trap 'tests/support/pg-cluster.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"' EXIT
tests/support/pg-cluster.sh start "$pgdir" >/dev/null
PGHOST=$pgdir PGPORT=5432 PGUSER=postgres PGDATABASE=postgres "$build/bench/web/$target" "$@"
