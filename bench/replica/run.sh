#!/usr/bin/env bash
# Past one machine, measured: propagation from a commit on the primary to the answer of an edge
# on a hot standby (p50/p99), what following the standby costs an idle edge (CPU, queries per
# second on the standby), and the write outage of the failover drill (SIGKILL to the
# primary's Patroni and PostgreSQL until the first commit on the promoted standby).
# Each part takes the heavy-test lock on its own (the drill needs root, Patroni and etcd).
# Usage: bench/replica/run.sh [BUILD_DIR] (default: build). Results: bench/replica/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
export TIMEPOOL_SOURCE_DIR=$src TIMEPOOL_BINARY_DIR=$build
py=/usr/bin/python3
lock=/tmp/timepool-heavy.lock

echo "== polling cost and propagation (bench/replica/poll_cost.py 30 250 100)"
poll=$(flock "$lock" "$py" "$here/poll_cost.py" 30 250 100 | tee /dev/stderr | sed -n 's/^poll_cost: //p')
echo "== failover drill (tests/integration/failover/test_failover_drill.py)"
drill=$(flock "$lock" "$py" "$src/tests/integration/failover/test_failover_drill.py" \
        | tee /dev/stderr | sed -n 's/^drill: //p')
"$py" - "$poll" "$drill" <<'PY'
import json, sys
p, d = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("== summary")
print("propagation, commit on the primary to the answer of an edge on a standby (%d changes): "
      "p50 %.3f s, p99 %.3f s" % (p["changes"], p["p50_s"], p["p99_s"]))
print("following an idle standby, per edge (poll every %d ms): %.2f%% of a core, %.2f queries/s "
      "on the standby (an edge on the primary with LISTEN: %.2f%%, %.2f/s)"
      % (p["poll_ms"], p["standby_cpu_percent"], p["standby_xacts_per_s"],
         p["primary_cpu_percent"], p["primary_xacts_per_s"]))
print("failover drill: promoted after %.1f s, write outage %.2f s, old primary rejoined in "
      "%.1f s, %d queries with %d failures, a web change on both edges in %.3f s"
      % (d["promoted_s"], d["write_outage_s"], d["rejoin_s"], d["answered"], d["failures"],
         d["change_to_answer_s"]))
print("monitors through the failover: %d results in %d batches, %d taken while no node was "
      "primary, each in the probe log once; the monitor API answered again after %.1f s"
      % (d["monitor_results"], d["monitor_batches"], d["monitor_results_during"],
         d["monitor_api_gap_s"]))
PY
