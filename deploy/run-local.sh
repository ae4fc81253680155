#!/usr/bin/env bash
# Runs the whole pool on this machine: installs what is missing, builds, starts a PostgreSQL
# cluster under var/, migrates it and shows what is in it.
#   deploy/run-local.sh          start (again: reuses the cluster)
#   deploy/run-local.sh stop     stop everything it started
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=$root/build

if [ "${1:-}" = stop ]; then
  bash deploy/local-pg.sh stop
  exit 0
fi

if [ "${SKIP_INSTALL:-0}" != 1 ]; then bash deploy/install-deps.sh; fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIMEPOOL_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"

bash deploy/local-pg.sh start
eval "export $(bash deploy/local-pg.sh env)"
"$build/ctl/timepoolctl" migrate
"$build/ctl/timepoolctl" zones list | head -n 12
