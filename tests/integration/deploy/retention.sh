#!/usr/bin/env bash
# Probe-log retention runs by itself: timepool-monitor-api (the monitor API, which alone writes
# the probe log), started with monitor_api.probe_log_retention_days=30 on a database whose
# probe log has days 200 days old,
# drops those daily partitions on its own (and keeps the recent ones and their rows).
# Uses the ctest PostgreSQL cluster (PG* from the "pg" fixture).
set -euo pipefail
bin=${TIMEPOOL_BINARY_DIR:?}
db=tp_retention_$$
work=$(mktemp -d /tmp/timepool-retention.XXXXXX)
mon=
cleanup() {
  if [ -n "$mon" ]; then kill -TERM "$mon" 2>/dev/null || true; wait "$mon" 2>/dev/null || true; fi
  dropdb --if-exists --force "$db" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/monitor.log" ] && tail -n 20 "$work/monitor.log" >&2; exit 1; }
q() { psql -X -q -tA -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
ctl() { "$bin/ctl/timepoolctl" --set "database.conninfo=dbname=$db" --set log.level=warn "$@"; }

createdb "$db"
ctl migrate >/dev/null
q "SELECT probe_log_ensure_partitions(current_date - 200, 3)" >/dev/null
q "INSERT INTO probe_log (ts, server_id, monitor_id, step, score) VALUES
   ((current_date - 199)::timestamp AT TIME ZONE 'UTC' + interval '1 hour', 1, 1, 1, 1),
   (now(), 1, 1, 1, 1)"
old() { q "SELECT count(*) FROM pg_class WHERE relname IN ('probe_log_' || to_char(current_date - 200, 'YYYYMMDD'),
          'probe_log_' || to_char(current_date - 199, 'YYYYMMDD'), 'probe_log_' || to_char(current_date - 198, 'YYYYMMDD'))"; }
[ "$(old)" = 3 ] || fail "the old partitions were not made"

"$bin/monitor/timepool-monitor-api" --set "database.conninfo=dbname=$db" \
  --set monitor_api.listen=127.0.0.1:0 --set monitor_api.plain_http=true \
  --set monitor_api.metrics_listen= \
  --set monitor_api.probe_log_retention_days=30 >"$work/monitor.log" 2>&1 &
mon=$!
for _ in $(seq 100); do [ "$(old)" = 0 ] && break; sleep 0.2; done
[ "$(old)" = 0 ] || fail "timepool-monitor-api did not drop the partitions older than 30 days"
echo "ok: the three daily partitions 198-200 days old were dropped by timepool-monitor-api"
grep -q "probe log: dropped 3 daily partitions older than 30 days" "$work/monitor.log" ||
  fail "the monitor API did not log what it dropped"
echo "ok: logged: $(grep -o 'probe log: dropped.*' "$work/monitor.log")"
[ "$(q "SELECT count(*) FROM probe_log WHERE ts > now() - interval '1 day'")" = 1 ] ||
  fail "today's probe was lost"
[ "$(q "SELECT count(*) FROM pg_class WHERE relname = 'probe_log_' || to_char(current_date, 'YYYYMMDD')")" = 1 ] ||
  fail "today's partition is gone"
echo "ok: today's partition and its probe stay"
kill -TERM "$mon"; wait "$mon" || fail "timepool-monitor-api did not stop cleanly"
mon=
echo "1 passed, 0 failed"
