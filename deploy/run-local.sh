#!/usr/bin/env bash
# Runs the whole pool on this machine, on 127.0.0.x only: installs what is missing, builds,
# starts a PostgreSQL cluster under var/, migrates it, creates an admin (once), registers a
# monitor (once), starts five chronyd volunteer servers (one of them 5 s wrong), registers them
# and a demo vendor zone, then starts timepool-monitor-api, timepool-monitor, timepool-dns and
# timepool-web.
#
#   deploy/run-local.sh          start everything and wait; Ctrl-C stops it all
#   deploy/run-local.sh stop     stop everything a run started (from another shell)
#   deploy/run-local.sh status   show what is running
#   deploy/run-local.sh ctl ARGS  timepoolctl against the local database (ctl servers list)
#   deploy/run-local.sh psql      psql on the local database
#
# Running it again reuses the cluster, the admin and the monitor in var/. Environment:
#   SKIP_INSTALL=1          do not run deploy/install-deps.sh (it installs only what the pool
#                           needs to build and run, starts and enables no service, and keeps
#                           the host's time daemon: see its header)
#   SKIP_BUILD=1            do not build (use what is in the build folder)
#   TIMEPOOL_BUILD_DIR      build folder (default build/)
#   TIMEPOOL_LOCAL_DNS      DNS listen address (default 127.0.0.1:5300)
#   TIMEPOOL_LOCAL_WEB_PORT web port on 127.0.0.1 (default 8080)
#   TIMEPOOL_LOCAL_PGPORT   PostgreSQL port number for its unix socket (default 5432)
# Volunteer servers bind port 123 on 127.0.0.11-15, which needs root; without root the pool
# runs without them. Nothing here changes this machine's clock (chronyd -x).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${TIMEPOOL_BUILD_DIR:-$root/build}
case "$build" in /*) ;; *) build=$root/$build ;; esac
var=$root/var
run=$var/run
logdir=$var/log
dns_listen=${TIMEPOOL_LOCAL_DNS:-127.0.0.1:5300}
web_port=${TIMEPOOL_LOCAL_WEB_PORT:-8080}
dns_host=${dns_listen%:*}
dns_port=${dns_listen##*:}
apex=pool.example
vendor=acme-clocks
admin_email=admin@localhost

# name address country offset: the local volunteers. Germany has three (one wrong), France and
# the United States one each, so a country, a continent (europe) and the global zone have
# several healthy servers.
volunteers=(
  "de1 127.0.0.11 de"
  "de2 127.0.0.12 de"
  "fr1 127.0.0.13 fr"
  "us1 127.0.0.14 us"
  "de-wrong 127.0.0.15 de +5s"
)
daemons=(monitor-api monitor dns web)

binary_of() {
  case "$1" in
    dns) echo "$build/server/timepool-dns" ;;
    monitor) echo "$build/monitor/timepool-monitor" ;;
    monitor-api) echo "$build/monitor/timepool-monitor-api" ;;
    web) echo "$build/web/timepool-web" ;;
  esac
}

# The pid in var/run/NAME.pid when that process is alive and still runs our binary (a stale
# file whose pid was reused by something else never gets a signal from us).
live_pid() {
  local f=$run/$1.pid pid exe
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  [ "${exe% (deleted)}" = "$(binary_of "$1")" ] || return 1
  echo "$pid"
}

stop_all() {
  local name pid v dir
  # Tells a waiting run-local.sh (this one or another shell's) that the stop is deliberate.
  mkdir -p "$run"; touch "$run/stopping"
  for name in web dns monitor monitor-api; do
    if pid=$(live_pid "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
      echo "stopped timepool-$name (pid $pid)"
    fi
    rm -f "$run/$name.pid"
  done
  for v in "${volunteers[@]}"; do
    set -- $v
    dir=$run/volunteers/$1
    if [ -f "$dir/chronyd.pid" ]; then
      bash deploy/volunteers/chronyd-server.sh stop "$dir"
      echo "stopped volunteer $1 ($2)"
    fi
  done
  bash deploy/local-pg.sh stop
}

status() {
  local name pid v
  for name in "${daemons[@]}"; do
    if pid=$(live_pid "$name"); then echo "timepool-$name: running (pid $pid)"; else echo "timepool-$name: stopped"; fi
  done
  for v in "${volunteers[@]}"; do
    set -- $v
    if bash deploy/volunteers/chronyd-server.sh status "$run/volunteers/$1" 2>/dev/null; then
      echo "volunteer $1 $2: running"
    else
      echo "volunteer $1 $2: stopped"
    fi
  done
}

case "${1:-start}" in
  stop) stop_all; exit 0 ;;
  status) status; exit 0 ;;
  ctl) shift; eval "export $(bash deploy/local-pg.sh env)"
       exec "$build/ctl/timepoolctl" -c deploy/local.toml "$@" ;;
  psql) shift; eval "export $(bash deploy/local-pg.sh env)"; exec psql "$@" ;;
  start) ;;
  *) echo "usage: $0 [start|stop|status|ctl ARGS|psql]" >&2; exit 2 ;;
esac

for name in "${daemons[@]}"; do
  if pid=$(live_pid "$name"); then
    echo "timepool-$name is already running (pid $pid): use '$0 stop' first" >&2
    exit 1
  fi
done

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  echo "== installing missing packages (deploy/install-deps.sh build run)"
  bash deploy/install-deps.sh build run
fi

# Shows make's percentage as the build goes (one line on a terminal, every 10% otherwise).
show_progress() {
  local line pct last=-10
  while IFS= read -r line; do
    [[ $line =~ ^\[\ *([0-9]+)%\] ]] || continue
    pct=${BASH_REMATCH[1]}
    if [ -t 1 ]; then
      printf '\r   %3d%%  %-70.70s' "$pct" "${line#*] }"
    elif [ "$pct" -ge $((last + 10)) ]; then
      echo "   $pct%"; last=$pct
    fi
  done
  if [ -t 1 ]; then printf '\r%-80s\r' ''; fi
}
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  built=1
  for name in "${daemons[@]}"; do [ -x "$(binary_of "$name")" ] || built=0; done
  if [ $built = 1 ]; then
    echo "== building in $build (only what changed since the last build)"
  else
    echo "== building in $build (the first build takes several minutes; log in $build/run-local-build.log)"
  fi
  mkdir -p "$build"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIMEPOOL_TESTS=OFF >"$build/run-local-configure.log" 2>&1 \
    || { tail -n 40 "$build/run-local-configure.log" >&2; exit 1; }
  if ! cmake --build "$build" -j "$(nproc)" --target timepoolctl timepool-dns timepool-monitor timepool-monitor-api timepool-web 2>&1 |
       tee "$build/run-local-build.log" | show_progress; then
    tail -n 40 "$build/run-local-build.log" >&2; exit 1
  fi
  echo "   built"
fi
for name in "${daemons[@]}"; do
  [ -x "$(binary_of "$name")" ] || { echo "$(binary_of "$name") is missing: build first" >&2; exit 1; }
done
# GeoIP ranges for locating clients: Debian's tor-geoipdb where installed, else the private
# copy that install-deps.sh unpacked (no Tor daemon).
geo_set=()
if [ ! -r /usr/share/tor/geoip ] && [ -s "$var/private/geoip/geoip" ]; then
  geo_set=(--set "dns.geo_mmdb=$var/private/geoip")
fi

mkdir -p "$run" "$logdir"
chmod 0755 "$var" "$run"
rm -f "$run/stopping"
# A failure on the way up stops whatever this run had started.
up=0
trap 'if [ $up = 0 ]; then echo "run-local: start failed; stopping what was started" >&2; stop_all; fi' EXIT
echo "== database"
bash deploy/local-pg.sh start
eval "export $(bash deploy/local-pg.sh env)"
ctl() { "$build/ctl/timepoolctl" -c deploy/local.toml "$@"; }
sql() { psql -X -q -tA -v ON_ERROR_STOP=1 -c "$1"; }
ctl migrate 2>"$logdir/migrate.log" | tail -n 1 || { cat "$logdir/migrate.log" >&2; exit 1; }

# The admin, once: the password is shown now and kept in var/admin.txt (mode 0600).
first_admin=
if [ "$(sql "SELECT count(*) FROM accounts WHERE lower(email) = lower('$admin_email')")" = 0 ]; then
  out=$(ctl create-admin "$admin_email")
  pw=$(printf '%s\n' "$out" | sed -n 's/^password: //p')
  [ -n "$pw" ] || { echo "create-admin printed no password: $out" >&2; exit 1; }
  (umask 077; printf 'email: %s\npassword: %s\n' "$admin_email" "$pw" >"$var/admin.txt")
  first_admin=$pw
fi

# The monitor, once: its key goes to var/monitor.key (mode 0600), read by the monitor. If the
# key file was lost, the old registration is paused and a new one made.
if [ ! -s "$var/monitor.key" ] || [ ! -s "$var/monitor.name" ] ||
   [ "$(sql "SELECT count(*) FROM monitors WHERE name = '$(cat "$var/monitor.name")'")" = 0 ]; then
  name=local
  if [ "$(sql "SELECT count(*) FROM monitors WHERE name = 'local'")" != 0 ]; then
    sql "UPDATE monitors SET status = 'paused' WHERE name LIKE 'local%'"
    name=local-$(date +%s)
  fi
  out=$(ctl monitor add "$name" --status active)
  key=$(printf '%s\n' "$out" | sed -n 's/^key: //p')
  [ -n "$key" ] || { echo "monitor add printed no key: $out" >&2; exit 1; }
  (umask 077; printf '%s\n' "$key" >"$var/monitor.key")
  echo "$name" >"$var/monitor.name"
  echo "registered monitor $name (key in var/monitor.key)"
fi

started_volunteers=0
if [ "$(id -u)" -eq 0 ]; then
  echo "== volunteer NTP servers (chronyd -x, serving this machine's clock)"
  for v in "${volunteers[@]}"; do
    set -- $v
    mkdir -p "$run/volunteers/$1"
    bash deploy/volunteers/chronyd-server.sh start "$run/volunteers/$1" "$2" "${4:-}"
    echo "volunteer $1 on $2:123 (country $3${4:+, clock off by $4})"
    started_volunteers=$((started_volunteers + 1))
  done
  # A demo volunteer account owns them; its password hash is no valid hash, so nobody can log
  # in as it (sign up on the web site to add servers of your own).
  sql "INSERT INTO accounts (email, password_hash, role, display_name)
       SELECT 'volunteer@localhost', '!locked', 'volunteer', 'Local volunteers'
       WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE lower(email) = 'volunteer@localhost')"
  for v in "${volunteers[@]}"; do
    set -- $v
    if [ "$(sql "SELECT count(*) FROM servers WHERE address = '$2' AND deleted_at IS NULL")" = 0 ]; then
      ctl servers add "$2" --owner volunteer@localhost --country "$3" --netspeed 1500 --allow-loopback >/dev/null
    fi
  done
else
  echo "== not root: no volunteer servers (chronyd must bind port 123); run with sudo to have them"
fi

# A demo vendor zone, approved by the admin: acme-clocks.pool.example and 0-3.acme-clocks...
sql "DO \$\$
DECLARE zid integer; adm bigint;
BEGIN
  IF EXISTS (SELECT 1 FROM vendor_zones WHERE name = '$vendor' AND status = 'approved') THEN RETURN; END IF;
  SELECT id INTO adm FROM accounts WHERE lower(email) = lower('$admin_email');
  INSERT INTO zones (name, kind, parent_id, description)
    VALUES ('$vendor', 'vendor', (SELECT id FROM zones WHERE name = '@'), 'Acme Clocks (demo)')
    RETURNING id INTO zid;
  INSERT INTO vendor_zones (name, account_id, organization, contact, device_description,
      device_count, client_type, poll_description, open_source, status, zone_id, decided_by,
      decided_at, decision_reason)
    VALUES ('$vendor', adm, 'Acme Clocks (demo)', '$admin_email', 'Wall clocks', 5000, 'both',
      'Every 6 hours at a random minute', true, 'approved', zid, adm, now(), 'local demo');
END \$\$"

echo "== starting the pool"
start_daemon() {  # NAME ARGS...
  local name=$1; shift
  # Its own session: Ctrl-C reaches this script, which stops the daemons in order.
  setsid "$(binary_of "$name")" -c deploy/local.toml "$@" >>"$logdir/$name.log" 2>&1 &
  echo $! >"$run/$name.pid"
  # live_pid recognises the daemon by its executable: wait until the fork has become it.
  for _ in $(seq 50); do live_pid "$name" >/dev/null && break; sleep 0.1; done
}
stopping=0
on_signal() {
  stopping=1
  up=1
  echo
  echo "== stopping"
  stop_all
  exit 0
}
trap on_signal INT TERM
start_daemon monitor-api
# The monitor waits for the API anyway (its results go to its spool); starting it once the API
# listens keeps the first log lines quiet.
for _ in $(seq 50); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8443/v1/assignment 2>/dev/null)" = 401 ] && break
  sleep 0.1
done
start_daemon monitor
start_daemon dns --set "dns.listen=$dns_listen" "${geo_set[@]}"
start_daemon web --set "web.port=$web_port" --set "mail.site_url=http://127.0.0.1:$web_port"

# Ready when DNS answers SOA and the web site its home page (up to 30 s).
ready=
for _ in $(seq 150); do
  for name in "${daemons[@]}"; do
    live_pid "$name" >/dev/null || { echo "timepool-$name exited:" >&2; tail -n 20 "$logdir/$name.log" >&2; exit 1; }
  done
  if dig +short +time=1 +tries=1 -p "$dns_port" @"$dns_host" "$apex" SOA 2>/dev/null | grep -q . &&
     curl -fsS -o /dev/null "http://127.0.0.1:$web_port/" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.2
done
[ -n "$ready" ] || { echo "the pool did not come up in 30 s; logs in var/log" >&2; exit 1; }

# What the newcomer should expect next, true on a second run too (scores are kept in var/pg).
in_dns=$(sql "SELECT count(*) FROM eligible_servers" 2>/dev/null || echo 0)
if [ "$started_volunteers" = 0 ]; then
  dns_note="No volunteer servers: DNS answers with no addresses until servers are added."
elif [ "$in_dns" -ge 4 ]; then
  dns_note="$in_dns servers are in DNS now (their scores are kept from the last run); 127.0.0.15 never enters."
else
  dns_note="Healthy servers enter DNS after about 14 good probes (2-3 minutes); 127.0.0.15 never does."
fi
cat <<EOF

The pool is running (logs in var/log/, state in var/):
  timepool-dns      $dns_listen (pid $(cat "$run/dns.pid")), zone $apex
  timepool-web      http://127.0.0.1:$web_port/ (pid $(cat "$run/web.pid"))
  timepool-monitor-api  http://127.0.0.1:8443 (pid $(cat "$run/monitor-api.pid")): scores the monitor's results
  timepool-monitor  probes every server every 10 s (pid $(cat "$run/monitor.pid")), spool in var/monitor-spool
  PostgreSQL        var/pg (deploy/run-local.sh psql)
  volunteers        $started_volunteers chronyd servers on 127.0.0.11-15 (127.0.0.15 is 5 s wrong)
  mail              written to var/mail/*.eml instead of sent (password reset links, notices)

$dns_note
Try:
  dig @$dns_host -p $dns_port $apex                # the global pool
  dig @$dns_host -p $dns_port 2.$apex              # a numbered name
  dig @$dns_host -p $dns_port de.$apex             # a country (europe.$apex: a continent)
  dig @$dns_host -p $dns_port $vendor.$apex    # the approved demo vendor zone (0-3.$vendor too)
  deploy/run-local.sh ctl servers list               # scores, and who is in DNS
  curl http://127.0.0.1:$web_port/zone/de                # or open it in a browser
EOF
if [ -n "$first_admin" ]; then
  cat <<EOF
  admin login: $admin_email  password: $first_admin
  (shown once; also kept in var/admin.txt, readable only by you)
EOF
else
  echo "  admin login: $admin_email  (password in var/admin.txt)"
fi
echo
echo "Ctrl-C (or '$0 stop' from another shell) stops everything."
up=1

# Wait: if a daemon dies (or another shell ran 'stop'), stop the rest and leave.
while [ $stopping = 0 ]; do
  for name in "${daemons[@]}"; do
    if ! live_pid "$name" >/dev/null; then
      if [ ! -f "$run/stopping" ]; then
        echo "timepool-$name exited; last lines of var/log/$name.log:" >&2
        tail -n 20 "$logdir/$name.log" >&2
        stop_all
        exit 1
      fi
      echo "stopped from another shell"
      exit 0
    fi
  done
  sleep 2 &
  wait $! || true
done
