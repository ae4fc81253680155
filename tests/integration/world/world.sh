#!/usr/bin/env bash
# End to end: a small world of network namespaces in which real NTP clients get their time from
# the pool. Nothing leaves the machine: every address lives on veth links between namespaces
# this script creates, and no process touches the clock (chronyd -x; ntpd without CAP_SYS_TIME).
#
#   world.sh BINARY_DIR SOURCE_DIR
#
# The world, all on one bridge in 127.77.0.0/24 (loopback-range addresses routed between
# namespaces with route_localnet, so the web site's development switch allow_loopback is the
# only thing that makes them acceptable as "public"):
#   timepool  .10  PostgreSQL, timepool-monitor-api (HTTPS, private CA), timepool-monitor,
#                  timepool-dns on port 53, timepool-web on 80
#   s1, s2    .21 .22  chronyd volunteers, healthy
#   s3        .23      ntpsec volunteer, healthy
#   s4        .24      chronyd whose clock is 4 s ahead (libfaketime): must never be in DNS
#   s5        .25      chronyd registered while it answered, then silent: must never be in DNS
#   (.26 has no host at all: the web site must refuse to add it)
#   c1        .31      chronyd client: pool <apex> iburst
#   c2        .32      chronyd client: the approved vendor zone's four names
# The servers are registered through the web site's forms over HTTP; a vendor requests a zone,
# an admin (timepoolctl create-admin) approves it through the admin page. The test then checks
# that both clients synchronize using only healthy servers and that no DNS answer ever holds
# the wrong or the silent server.
#
# Exit 77 (skipped) when not root. Everything it made (namespaces, veths, /etc/netns entries,
# processes, the PostgreSQL cluster) is removed on exit, also on failure; the logs of a failed
# run stay in BINARY_DIR/world-logs.
set -euo pipefail

bin=${1:?binary dir}
src=${2:?source dir}
bin=$(cd "$bin" && pwd)
src=$(cd "$src" && pwd)

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIPPED: e2e.world: needs root (ip netns, port 53, chronyd); CI runs as root" | tee /dev/stderr
  exit 77
fi

apex=pool.timepool.test
vendor=acme-clocks
net=127.77.0
tp_addr=$net.10
good=("$net.21" "$net.22" "$net.23")
wrong=$net.24
silent=$net.25
nohost=$net.26
timeout_scores=${WORLD_SCORE_TIMEOUT:-240}
faketime_lib=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
pg_bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

for b in server/timepool-dns monitor/timepool-monitor monitor/timepool-monitor-api web/timepool-web ctl/timepoolctl; do
  [ -x "$bin/$b" ] || { echo "world: $bin/$b is not built" >&2; exit 1; }
done
for t in ip chronyd chronyc dig runuser setpriv "$pg_bindir/initdb"; do
  command -v "$t" >/dev/null || { echo "world: $t is missing (deploy/install-deps.sh)" >&2; exit 1; }
done
[ -f "$faketime_lib" ] || { echo "world: libfaketime is missing (package faketime)" >&2; exit 1; }

# A short unique prefix: interface names are limited to 15 characters.
while :; do
  p=tw$(printf %04x $((RANDOM % 65536)))
  ip netns list | grep -q "^$p" || break
done
work=$(mktemp -d "/tmp/timepool-world-$p.XXXX")
chmod 0755 "$work"
logs=$bin/world-logs
pids=()
namespaces=()
start_time=$(date +%s)

say() { printf '[%3ds] %s\n' $(($(date +%s) - start_time)) "$*"; }
fail() {
  say "FAIL: $*"
  exit 1
}

cleanup() {
  local rc=$?
  set +e
  for pf in "$work"/*/chronyd.pid; do
    [ -s "$pf" ] && kill "$(cat "$pf")" 2>/dev/null
  done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.5
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  if [ -f "$work/pg/data/postmaster.pid" ]; then
    runuser -u postgres -- "$pg_bindir/pg_ctl" -D "$work/pg/data" -m immediate -w stop >/dev/null 2>&1
  fi
  for ns in "${namespaces[@]}"; do
    # Anything still running inside a namespace was started by this script.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
    rm -rf "/etc/netns/$ns"
  done
  if [ $rc -ne 0 ]; then
    rm -rf "$logs"
    mkdir -p "$logs"
    find "$work" -maxdepth 2 \( -name '*.log' -o -name '*.conf' -o -name '*.toml' \) \
      -exec sh -c 'cp "$1" "$2/$(echo "${1#$3/}" | tr / _)"' _ {} "$logs" "$work" \;
    for f in "$logs"/*.log; do
      [ -f "$f" ] || continue
      echo "----- $(basename "$f") (last lines)"
      tail -n 15 "$f"
    done
    echo "world: logs kept in $logs"
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- The network ---------------------------------------------------------------------------
sw=${p}sw
ip netns add "$sw"; namespaces+=("$sw")
ip -n "$sw" link add name br0 type bridge
ip -n "$sw" link set br0 up

# host NAME ADDRESS: a namespace with one veth on the bridge and ADDRESS/24 on it. The 127/8
# local route is narrowed to 127.0.0.1 so the rest of 127/8 is routed over the link.
host() {
  local name=$p$1 addr=$2
  ip netns add "$name"; namespaces+=("$name")
  ip link add "${p}$1a" type veth peer name "${p}$1b"
  ip link set "${p}$1a" netns "$sw"
  ip -n "$sw" link set "${p}$1a" master br0 up
  ip link set "${p}$1b" netns "$name"
  ip -n "$name" link set "${p}$1b" name eth0
  ip -n "$name" link set lo up
  ip -n "$name" addr del 127.0.0.1/8 dev lo
  ip -n "$name" addr add 127.0.0.1/32 dev lo
  ip netns exec "$name" sysctl -qw net.ipv4.conf.all.route_localnet=1
  ip -n "$name" addr add "$addr/24" dev eth0
  ip -n "$name" link set eth0 up
  mkdir -p "/etc/netns/$name"
  echo "nameserver $tp_addr" >"/etc/netns/$name/resolv.conf"
}
in_ns() { local n=$p$1; shift; ip netns exec "$n" "$@"; }

host tp "$tp_addr"
host s1 "${good[0]}"; host s2 "${good[1]}"; host s3 "${good[2]}"
host s4 "$wrong"; host s5 "$silent"
host c1 "$net.31"; host c2 "$net.32"
say "network: ${#namespaces[@]} namespaces on bridge $sw/br0 ($net.0/24)"

# --- Volunteer NTP servers ----------------------------------------------------------------
volunteer_chronyd() {  # NAME ADDRESS [OFFSET]
  NETNS=$p$1 ALLOW=$net.0/24 bash "$src/deploy/volunteers/chronyd-server.sh" start "$work/$1" "$2" "${3:-}"
}
volunteer_chronyd s1 "${good[0]}"
volunteer_chronyd s2 "${good[1]}"
volunteer_chronyd s4 "$wrong" +4s
volunteer_chronyd s5 "$silent"

# ntpsec, unpacked from Debian's package beside chrony (the two packages conflict); the
# monitor's tests keep the same cache in the build folder.
ntpd=$(bash "$src/tests/integration/monitor/fetch-ntpsec.sh" "$bin/ntpsec-cache" 2>"$work/ntpsec-fetch.log") \
  || fail "cannot fetch ntpsec: $(tail -n 3 "$work/ntpsec-fetch.log")"
mkdir -p "$work/s3"
cat >"$work/s3/ntp.conf" <<EOF
# A volunteer running ntpsec in orphan mode: it serves its own clock at stratum 3.
interface ignore wildcard
interface ignore ipv6
interface ignore all
interface ignore 127.0.0.1
interface listen ${good[2]}
tos orphan 3 orphanwait 0
restrict default nomodify noquery
restrict 127.0.0.1
EOF
# Without CAP_SYS_TIME in its bounding set ntpd cannot touch the clock whatever it tries.
ip netns exec "${p}s3" setpriv --bounding-set -sys_time -- "$ntpd" -n -c "$work/s3/ntp.conf" -l "$work/s3/ntpd.log" \
  >"$work/s3/ntpd.out.log" 2>&1 &
pids+=($!)

# Wait until every volunteer answers real NTP queries (ntpsec needs about a second).
ntp_query() {  # FROM_NS ADDRESS -> prints the offset line
  in_ns "$1" chronyd -Q -f /dev/null -t 3 "server $2 iburst maxsamples 1" 2>&1 | grep -o 'wrong by [-0-9.]* seconds' || true
}
for a in "${good[@]}" "$wrong" "$silent"; do
  ok=
  for _ in $(seq 20); do
    out=$(ntp_query tp "$a")
    if [ -n "$out" ]; then ok=1; break; fi
    sleep 0.5
  done
  [ -n "$ok" ] || fail "volunteer $a does not answer NTP"
  say "volunteer $a answers: clock $out"
done

# --- timepool: database, monitor, DNS, web ----------------------------------------------------
mkdir -p "$work/pg"; chown postgres:postgres "$work/pg"
runuser -u postgres -- "$pg_bindir/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 \
  --locale=C.UTF-8 --no-sync >"$work/pg/initdb.log" 2>&1 || fail "initdb: $(tail -n 5 "$work/pg/initdb.log")"
in_ns tp runuser -u postgres -- "$pg_bindir/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w -o \
  "-p 5432 -k $work/pg -c listen_addresses='' -c fsync=off -c synchronous_commit=off" start >/dev/null \
  || fail "PostgreSQL did not start"
runuser -u postgres -- "$pg_bindir/createdb" -h "$work/pg" -p 5432 -U postgres timepool

# The monitor API's certificate, from a CA of the world's own.
mkdir -p "$work/tls"
(
  cd "$work/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
    -out ca.pem -days 2 -subj "/CN=world CA"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout api.key -out api.csr \
    -subj "/CN=monitor-api.world"
  printf 'subjectAltName=IP:%s\n' "$tp_addr" >san.cnf
  openssl x509 -req -in api.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out api.pem -days 2 \
    -extfile san.cnf
) >"$work/tls.log" 2>&1 || fail "openssl: $(tail -n 5 "$work/tls.log")"

cat >"$work/timepool.toml" <<EOF
# The world's timepool: everything on $tp_addr, scores quickly.
[database]
conninfo = "host=$work/pg port=5432 user=postgres dbname=timepool"

[log]
level = "info"

[dns]
apex = ["$apex"]
ns = ["ns1.$apex"]
listen = ["$tp_addr:53"]
metrics_listen = "$tp_addr:9153"
snapshot_file = "$work/dns-snapshot"

[monitor_api]
listen = "$tp_addr:8443"
tls_cert = "$work/tls/api.pem"
tls_key = "$work/tls/api.key"
interval_ms = 4000
refresh_ms = 1000
slow_interval_ms = 8000
min_spacing_ms = 400
metrics_listen = "$tp_addr:9126"

[monitor]
key_file = "$work/monitor.key"
url = "https://$tp_addr:8443"
ca_file = "$work/tls/ca.pem"
spool_dir = "$work/monitor-spool"
new_server_within_ms = 1000
packets = 2
packet_spacing_ms = 500
packet_timeout_ms = 1000
batch_interval_ms = 200
trust_local_clock = true
metrics_listen = "$tp_addr:9124"

[web]
listen = "$tp_addr"
port = 80
pool_domain = "$apex"
allow_loopback = true
# Plain http inside the world: no Secure cookies.
secure_cookies = false

# No relay in the world: nothing is mailed, and new accounts count as confirmed (as in the
# local run).
[mail]
transport = "off"
verify_email = false
EOF
ctl() { "$bin/ctl/timepoolctl" -c "$work/timepool.toml" "$@"; }
psql_tp() { psql -h "$work/pg" -p 5432 -U postgres -d timepool -tAX -c "$1"; }

ctl migrate >"$work/migrate.log" 2>&1 || fail "migrate: $(tail -n 5 "$work/migrate.log")"
ctl monitor add world-monitor --status active >"$work/monitor-add.log" 2>&1 || fail "monitor add: $(cat "$work/monitor-add.log")"
key=$(sed -n "s/^key: //p" "$work/monitor-add.log")
[ -n "$key" ] || fail "no key in the output of monitor add: $(cat "$work/monitor-add.log")"
printf '%s\n' "$key" >"$work/monitor.key"
admin_pw=world-admin-password-$RANDOM$RANDOM
echo "$admin_pw" | ctl create-admin admin@world.test --password-stdin >"$work/admin.log" 2>&1 \
  || fail "create-admin: $(cat "$work/admin.log")"

# daemon NAME ARGS...: start in the timepool namespace, logging to $work/NAME.log.
daemon() {
  local name=$1; shift
  # ip netns exec, not the in_ns function: $! must be the daemon itself (ip execs it), not a
  # subshell around it, so that signals and exit statuses are the daemon's.
  ip netns exec "${p}tp" "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  eval "pid_$name=$!"
}
alive() { kill -0 "$(eval echo "\$pid_$1")" 2>/dev/null || fail "$1 exited: $(tail -n 20 "$work/$1.log")"; }

daemon dns "$bin/server/timepool-dns" -c "$work/timepool.toml"
daemon web "$bin/web/timepool-web" -c "$work/timepool.toml"
daemon monitor_api "$bin/monitor/timepool-monitor-api" -c "$work/timepool.toml"
daemon monitor "$bin/monitor/timepool-monitor" -c "$work/timepool.toml"

# Ready when DNS answers SOA at the apex and the web site serves its home page.
for _ in $(seq 100); do
  if in_ns c1 dig +short +time=1 +tries=1 "$apex" SOA 2>/dev/null | grep -q . &&
     in_ns c1 curl -fsS -o /dev/null "http://$tp_addr/" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
alive dns; alive web; alive monitor; alive monitor_api
in_ns c1 dig +short +time=1 +tries=1 "$apex" SOA | grep -q . || fail "timepool-dns does not answer SOA for $apex"
in_ns c1 curl -fsS -o /dev/null "http://$tp_addr/" || fail "timepool-web does not answer on http://$tp_addr/"
say "timepool up: DNS $tp_addr:53 (SOA answers), web http://$tp_addr/, monitor running"

# --- Registration through the web site, as people do it ------------------------------------------
web() { in_ns c1 /usr/bin/python3 "$src/tests/integration/world/webclient.py" "http://$tp_addr" "$@"; }
vol_pw=volunteer-password-$RANDOM$RANDOM
web signup volunteer@world.test "$vol_pw" volunteer
web add-server volunteer@world.test "$vol_pw" de 1500 "${good[@]}" "$wrong" "$silent"
web add-server volunteer@world.test "$vol_pw" de 1500 "$nohost" --expect-refusal
[ "$(psql_tp "SELECT count(*) FROM servers WHERE address = '$nohost'")" = 0 ] \
  || fail "the refused address $nohost was written to the database"
# The silent volunteer goes away right after registering.
bash "$src/deploy/volunteers/chronyd-server.sh" stop "$work/s5"
[ -z "$(ntp_query tp "$silent")" ] || fail "$silent still answers after its chronyd stopped"
say "5 servers registered through the web; $nohost refused; $silent now silent"

vendor_pw=vendor-password-$RANDOM$RANDOM
web signup vendor@world.test "$vendor_pw" vendor
web request-zone vendor@world.test "$vendor_pw" "$vendor" ntp
web approve-zone admin@world.test "$admin_pw" "$vendor"
[ "$(psql_tp "SELECT status FROM vendor_zones WHERE name = '$vendor'")" = approved ] \
  || fail "vendor zone $vendor is not approved in the database"

# --- DNS: the healthy servers arrive, the others never do -------------------------------------
names=("$apex" "0.$apex" "1.$apex" "2.$apex" "3.$apex" "de.$apex" "europe.$apex"
       "0.$vendor.$apex" "1.$vendor.$apex" "2.$vendor.$apex" "3.$vendor.$apex")
declare -A seen=()
# query_all ROUNDS: every name ROUNDS times from client c1 via its resolv.conf's server; records
# every address seen and fails at once on a server that must never be handed out.
query_all() {
  local rounds=$1 n a
  for _ in $(seq "$rounds"); do
    for n in "${names[@]}"; do
      for a in $(in_ns c1 dig +short +time=2 +tries=1 "$n" A); do
        [ "$a" = "$wrong" ] && fail "DNS answered $n with the wrong-clock server $a"
        [ "$a" = "$silent" ] && fail "DNS answered $n with the silent server $a"
        [[ " ${good[*]} " == *" $a "* ]] || fail "DNS answered $n with $a, not a healthy server"
        seen[$a]=1
      done
    done
  done
}
deadline=$(($(date +%s) + timeout_scores))
while :; do
  alive dns; alive monitor; alive monitor_api
  query_all 1
  [ ${#seen[@]} -eq ${#good[@]} ] && break
  if [ "$(date +%s)" -ge $deadline ]; then
    psql_tp "SELECT address, score FROM servers ORDER BY address" >&2
    fail "after ${timeout_scores}s DNS hands out only: ${!seen[*]}"
  fi
  sleep 3
done
say "all healthy servers in DNS: ${!seen[*]}"
psql_tp "SELECT host(address) || ' score ' || round(score::numeric, 2) FROM servers ORDER BY address" | sed 's/^/    /'

# The web site shows what the monitor saw: JSON API and score page per server.
api_check() {  # ADDRESS EXPECTATION(good|wrong|silent)
  in_ns c1 /usr/bin/python3 - "http://$tp_addr" "$1" "$2" <<'EOF'
import json, sys, urllib.request
base, addr, kind = sys.argv[1:4]
j = json.load(urllib.request.urlopen(f"{base}/api/server/{addr}", timeout=10))
mons = j.get("monitors") or []
seen = mons[0] if mons else {}
ok = {
    "good": j["in_dns"] and j["score"] >= 10 and abs(seen.get("offset") or 9) < 0.025,
    "wrong": not j["in_dns"] and j["score"] < 0 and 3 < (seen.get("offset") or 0) < 5,
    "silent": not j["in_dns"] and j["score"] < 0 and seen.get("offset") is None,
}[kind]
page = urllib.request.urlopen(f"{base}/scores/{addr}", timeout=10).read().decode()
if not ok or addr not in page or "<svg" not in page:
    sys.exit(f"web shows {addr} ({kind}) as: {json.dumps(j)[:600]}")
print(f"    web: {addr} score {j['score']:.1f} in_dns={j['in_dns']} offset={seen.get('offset')}")
EOF
}
for a in "${good[@]}"; do api_check "$a" good || fail "web site: $a"; done
api_check "$wrong" wrong || fail "web site: $wrong"
api_check "$silent" silent || fail "web site: $silent"

# --- Clients: chronyd with the pool and with the vendor zone ------------------------------------
client() {  # NAME CONFIG-LINES...
  local name=$1; shift
  mkdir -p "$work/$name"
  {
    printf '%s\n' "$@"
    echo "cmdport 323"
    echo "bindcmdaddress 127.0.0.1"
    echo "pidfile $work/$name/chronyd.pid"
  } >"$work/$name/chrony.conf"
  # -x: never touch the clock (every namespace shares it).
  in_ns "$name" chronyd -x -4 -f "$work/$name/chrony.conf" -l "$work/$name/chronyd.log"
}
client c1 "pool $apex iburst maxsources 4"
client c2 "pool 0.$vendor.$apex iburst maxsources 2" "pool 1.$vendor.$apex iburst maxsources 2" \
          "pool 2.$vendor.$apex iburst maxsources 2" "pool 3.$vendor.$apex iburst maxsources 2"

synced() { in_ns "$1" chronyc -h 127.0.0.1 -n sources 2>/dev/null | grep -q '^\^\*'; }
for c in c1 c2; do
  for _ in $(seq 60); do synced $c && break; sleep 1; done
  sources=$(in_ns $c chronyc -h 127.0.0.1 -n sources 2>&1)
  tracking=$(in_ns $c chronyc -h 127.0.0.1 -n tracking 2>&1)
  echo "$sources" | sed "s/^/    $c: /"
  synced $c || fail "client $c did not synchronize within 60 s"
  echo "$tracking" | grep -q 'Leap status *: Normal' || fail "client $c: tracking says: $tracking"
  used=$(echo "$sources" | awk '/^\^/ {print $2}')
  [ -n "$used" ] || fail "client $c has no sources"
  for a in $used; do
    [[ " ${good[*]} " == *" $a "* ]] || fail "client $c uses $a, which is not a healthy server"
  done
  say "client $c synchronized, sources: $(echo $used)"
done

# --- Many more answers: never the wrong or the silent server -----------------------------------
query_all 20
say "$((20 * ${#names[@]})) more DNS queries: only healthy servers"
alive dns; alive web; alive monitor; alive monitor_api

# --- A clean stop: SIGTERM ends each daemon with status 0 and no sanitizer report --------------
for name in web dns monitor monitor_api; do
  pid=$(eval echo "\$pid_$name")
  kill -TERM "$pid"
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "timepool-$name still runs 15 s after SIGTERM"
  rc=0; wait "$pid" || rc=$?
  [ $rc -eq 0 ] || fail "timepool-$name exited with status $rc after SIGTERM"
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$work/$name.log"; then
    fail "timepool-$name: sanitizer report in its log"
  fi
done
say "monitor, monitor API, DNS and web stopped cleanly on SIGTERM"
say "PASS"
