#!/usr/bin/env bash
# The local run's PostgreSQL cluster, under the project's var/ folder (git-ignored).
#   local-pg.sh start   create the cluster on first use, start it (unix socket in var/pg)
#   local-pg.sh stop    stop it (the data stays for the next run)
#   local-pg.sh env     print the PG* variables that reach it
# As root the cluster runs as the postgres user (PostgreSQL refuses to run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
var=$(pwd)/var
pgdir=$var/pg
port=${TIMEPOOL_LOCAL_PGPORT:-5432}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    mkdir -p "$pgdir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$pgdir"; chmod 0755 "$var" "$pgdir"; fi
    if [ ! -f "$pgdir/data/PG_VERSION" ]; then
      echo "local-pg: creating the cluster in $pgdir/data"
      as_owner "$bindir/initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$pgdir/initdb.log" 2>&1 \
        || { cat "$pgdir/initdb.log" >&2; exit 1; }
    fi
    if as_owner "$bindir/pg_ctl" -D "$pgdir/data" status >/dev/null 2>&1; then
      echo "local-pg: already running"
    else
      as_owner "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -o \
        "-p $port -k $pgdir -c listen_addresses=''" start >/dev/null \
        || { tail -20 "$pgdir/server.log" >&2; exit 1; }
      echo "local-pg: running (socket in $pgdir)"
    fi
    if ! psql -h "$pgdir" -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='timepool'" | grep -q 1; then
      createdb -h "$pgdir" -p "$port" -U postgres timepool
    fi
    ;;
  stop)
    if [ -f "$pgdir/data/PG_VERSION" ]; then
      as_owner "$bindir/pg_ctl" -D "$pgdir/data" -m fast -w stop >/dev/null 2>&1 || true
      echo "local-pg: stopped"
    fi
    ;;
  env)
    echo "PGHOST=$pgdir PGPORT=$port PGUSER=postgres PGDATABASE=timepool"
    ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
