#!/usr/bin/env bash
# Backup and restore as deploy/OPERATIONS.md says: pg_dump -Fc of a live pool database,
# pg_restore into a fresh PostgreSQL cluster, and timepool-dns serves the same pool from the
# restored copy as from the original (the same addresses for every kind of zone, the same SOA
# serial source data), and timepoolctl lists the same servers and zones.
# Uses the ctest cluster (PG* from the "pg" fixture) for the original.
set -euo pipefail
src=${TIMEPOOL_SOURCE_DIR:?}
bin=${TIMEPOOL_BINARY_DIR:?}
db=tp_backup_$$
work=$(mktemp -d /tmp/timepool-restore.XXXXXX)
chmod 0755 "$work"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  dropdb --if-exists --force "$db" 2>/dev/null || true
  bash "$src/tests/support/pg-cluster.sh" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$work"/*.log; do [ -f "$f" ] && { echo "== $f"; tail -n 15 "$f"; } >&2; done; exit 1; }
ctl() { local ci=$1; shift; "$bin/ctl/timepoolctl" --set "database.conninfo=$ci" --set log.level=warn "$@"; }

# 1. A pool: servers in three countries (one not in DNS), a country alias, a vendor zone.
createdb "$db"
orig="dbname=$db"
ctl "$orig" migrate >/dev/null
for s in "127.0.0.11 de" "127.0.0.12 de" "127.0.0.13 fr" "127.0.0.14 us" "127.0.0.15 gb"; do
  set -- $s
  ctl "$orig" servers add "$1" --country "$2" --allow-loopback >/dev/null
done
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "UPDATE servers SET score = 15 WHERE address <> '127.0.0.15'; UPDATE servers SET score = -20 WHERE address = '127.0.0.15'"
ctl "$orig" zones add acme-clocks --kind vendor --organization Acme --contact ops@acme.example >/dev/null
ctl "$orig" monitor add fra1 --status active >/dev/null

# 2. Backup, as in deploy/OPERATIONS.md.
pg_dump --format=custom --file="$work/timepool.dump" "$db"
pg_dumpall --roles-only --file="$work/roles.sql"
echo "ok: pg_dump wrote $(stat -c %s "$work/timepool.dump") bytes, pg_dumpall the roles"

# 3. A fresh cluster, and the restore, as in deploy/OPERATIONS.md.
bash "$src/tests/support/pg-cluster.sh" start "$work/pg" >/dev/null
copy="host=$work/pg port=5432 user=postgres dbname=timepool"
# The roles first: the schema grants to the programs' roles (timepool_dns, timepool_web,
# timepool_monitor), which live in the cluster, not in the dump. The superuser that the new
# cluster already has is the one line allowed to fail.
psql -X -q -h "$work/pg" -p 5432 -U postgres -d postgres -f "$work/roles.sql" 2>"$work/roles.err" || true
if grep -v 'role "postgres" already exists' "$work/roles.err" | grep -q ERROR; then
  cat "$work/roles.err" >&2; fail "restoring the roles failed"
fi
createdb -h "$work/pg" -p 5432 -U postgres timepool
pg_restore --exit-on-error -h "$work/pg" -p 5432 -U postgres -d timepool "$work/timepool.dump"
ctl "$copy" migrate | grep -q "schema is up to date" || fail "the restored schema is not complete"
echo "ok: restored into a fresh cluster; timepoolctl migrate finds the schema up to date"

# 4. timepool-dns on each database.
# Sets $port (not a command substitution: the pid must reach the cleanup's list).
start_dns() {  # NAME CONNINFO
  "$bin/server/timepool-dns" --set "database.conninfo=$2" --set 'dns.listen=["127.0.0.1:0"]' \
    --set dns.metrics_listen= --set "dns.snapshot_file=$work/$1.snapshot" \
    --set 'dns.apex=["pool.example"]' --set dns.stats=false >"$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q "serving apexes" "$work/$1.log" && break
    sleep 0.1
  done
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/$1.log" | head -n 1)
}
start_dns original "$orig"; p1=$port
start_dns restored "$copy"; p2=$port
[ -n "$p1" ] && [ -n "$p2" ] || fail "timepool-dns did not start"
answers() {  # PORT NAME: the sorted addresses over a few queries
  for _ in 1 2 3; do dig +short +time=2 +tries=1 -p "$1" @127.0.0.1 "$2" A; done | sort -u | tr '\n' ' '
}
for name in pool.example 0.pool.example 2.pool.example de.pool.example uk.pool.example \
            europe.pool.example north-america.pool.example acme-clocks.pool.example \
            3.acme-clocks.pool.example; do
  a=$(answers "$p1" "$name"); b=$(answers "$p2" "$name")
  [ -n "$a" ] || fail "$name: no answer from the original"
  [ "$a" = "$b" ] || fail "$name: original answers '$a', restored '$b'"
  echo "ok: $name -> $a(same from the restored copy)"
done
[ "$(answers "$p1" pool.example)" = "127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 " ] ||
  fail "the pool is not the four healthy servers"
soa1=$(dig +short -p "$p1" @127.0.0.1 pool.example SOA | cut -d' ' -f1,2)
soa2=$(dig +short -p "$p2" @127.0.0.1 pool.example SOA | cut -d' ' -f1,2)
[ "$soa1" = "$soa2" ] || fail "SOA differs: $soa1 / $soa2"
for list in "servers list" "zones list" "monitor list"; do
  # shellcheck disable=SC2086
  [ "$(ctl "$orig" $list --json)" = "$(ctl "$copy" $list --json)" ] ||
    fail "timepoolctl $list differs after the restore"
done
echo "ok: timepoolctl servers, zones and monitors are the same after the restore"
for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do wait "$p" || fail "timepool-dns did not stop cleanly on SIGTERM"; done
pids=()
echo "1 passed, 0 failed"
