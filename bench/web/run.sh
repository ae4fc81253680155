#!/usr/bin/env bash
# Builds bench_web in BUILD_DIR (default build-bench, Release) and runs it against a throwaway
# PostgreSQL cluster (started and removed here).
#   bash bench/web/run.sh [iterations]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build-bench}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTIMEPOOL_BENCH=ON >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target bench_web >/dev/null
pgdir=$(mktemp -d /tmp/timepool-bench-pg.XXXXXX)
trap 'tests/support/pg-cluster.sh stop "$pgdir" >/dev/null 2>&1 || true' EXIT
tests/support/pg-cluster.sh start "$pgdir" >/dev/null
PGHOST=$pgdir PGPORT=5432 PGUSER=postgres PGDATABASE=postgres "$build/bench/web/bench_web" "$@"
