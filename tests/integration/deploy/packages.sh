#!/usr/bin/env bash
# The Debian packages, end to end: build them with CPack (a Release build of the programs),
# check them with lintian, install them with dpkg, run each daemon's systemd unit command line
# (ExecStart) as the unit's user with the packaged configuration (no systemd in these
# containers: what the unit's Environment= and a drop-in would set is passed the same way),
# check the pool answers DNS and the web site answers, read a man page, then purge the
# packages and show nothing of them is left running or installed.
# Needs root (dpkg); exits 77 (skipped) without it. Uses the ctest PostgreSQL cluster.
# Environment: TIMEPOOL_PACKAGE_BUILD_DIR reuses a build folder (default: under the build).
set -euo pipefail
src=${TIMEPOOL_SOURCE_DIR:?}
bin=${TIMEPOOL_BINARY_DIR:?}
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: installing packages needs root"; exit 77; fi
pkgs=(timepool-web timepool-monitor timepool-monitor-api timepool-dns timepool-common)
build=${TIMEPOOL_PACKAGE_BUILD_DIR:-$bin/package-build}
work=$(mktemp -d /tmp/timepool-packages.XXXXXX)
chmod 0755 "$work"
db=tp_packages_$$
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  dpkg --purge "${pkgs[@]}" >/dev/null 2>&1 || true
  dropdb --if-exists --force "$db" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$work"/*.log; do [ -f "$f" ] && { echo "== $f"; tail -n 20 "$f"; } >&2; done; exit 1; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# An earlier run that died may have left them: start clean.
dpkg --purge "${pkgs[@]}" >/dev/null 2>&1 || true

echo "== build ($build, Release) and cpack"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache); fi
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTIMEPOOL_TESTS=OFF "${launcher[@]}" >"$work/configure.log" 2>&1 ||
  fail "cmake configure failed"
cmake --build "$build" -j "$(nproc)" --target timepool-dns timepool-monitor timepool-monitor-api timepool-web timepoolctl \
  timepool_man timepool_pkg_docs >"$work/build.log" 2>&1 || fail "build failed"
(cd "$build" && cpack -G DEB -B "$work/debs") >"$work/cpack.log" 2>&1 || fail "cpack failed"
debs=("$work"/debs/*.deb)
[ ${#debs[@]} = 5 ] || fail "expected 5 packages, got: ${debs[*]}"
for d in "${debs[@]}"; do echo "ok: built $(basename "$d") ($(stat -c %s "$d") bytes)"; done

echo "== lintian"
# Tags that do not apply to a package built outside the Debian archive.
lintian --fail-on error,warning --tag-display-limit 0 \
  --suppress-tags no-manual-page,initial-upload-closes-no-bugs,changelog-distribution-does-not-match-changes-file \
  "${debs[@]}" >"$work/lintian.log" 2>&1 || { cat "$work/lintian.log"; fail "lintian reports errors or warnings"; }
echo "ok: lintian: no errors or warnings ($(grep -c '^[IP]:' "$work/lintian.log" || true) info lines)"

echo "== dpkg -i"
dpkg -i "${debs[@]}" >"$work/dpkg.log" 2>&1 || fail "dpkg -i failed"
for p in "${pkgs[@]}"; do installed "$p" || fail "$p is not installed"; done
getent passwd timepool >/dev/null || fail "no system user timepool"
[ "$(stat -c '%a %U %G' /etc/timepool/timepool.toml)" = "640 root timepool" ] ||
  fail "/etc/timepool/timepool.toml is $(stat -c '%a %U %G' /etc/timepool/timepool.toml)"
[ "$(stat -c '%U' /var/lib/timepool)" = timepool ] || fail "/var/lib/timepool is not the timepool user's"
grep -qx /etc/timepool/timepool.toml /var/lib/dpkg/info/timepool-common.conffiles ||
  fail "timepool.toml is not a conffile"
echo "ok: installed; user timepool; /etc/timepool/timepool.toml a conffile (640 root:timepool)"
for prog in timepool-dns timepool-monitor timepool-monitor-api timepool-web timepoolctl; do
  man -P cat "$prog" 2>/dev/null | grep -q "^NAME" || fail "man $prog shows no page"
done
man -P cat timepool-dns | grep -A1 "^NAME" | tail -n 1
echo "ok: man timepool-dns, timepool-monitor, timepool-monitor-api, timepool-web, timepoolctl"
# Nothing started by the installation itself.
if pgrep -u timepool >/dev/null; then fail "a process runs as timepool right after installing"; fi

echo "== the units' command lines, as the units' users"
createdb "$db"
conninfo="host=$PGHOST port=$PGPORT user=$PGUSER dbname=$db"
mkdir -p "$work/cred" && chown timepool:timepool "$work/cred" && chmod 0700 "$work/cred"
port_free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
dns_port=$(port_free); web_port=$(port_free); api_port=$(port_free)
# The monitor API's certificate from a CA of the test's own; its key as the unit's credential.
mkdir -p "$work/tls"
(
  cd "$work/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
    -out ca.pem -days 2 -subj "/CN=packages test CA"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout api.key -out api.csr \
    -subj "/CN=monitor-api.test"
  printf 'subjectAltName=IP:127.0.0.1\n' >san.cnf
  openssl x509 -req -in api.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out api.pem -days 2 \
    -extfile san.cnf
) >"$work/tls.log" 2>&1 || fail "openssl failed"
chmod 0755 "$work/tls"; chmod 0644 "$work/tls/api.pem" "$work/tls/ca.pem"
install -m 0600 -o timepool "$work/tls/api.key" "$work/cred/monitor-api.key"
mkdir -p "$work/spool" && chown timepool:timepool "$work/spool"
# The relay password the production config names (/etc/timepool/mail-password on a real host).
(umask 077; printf 'relay-password\n' >"$work/cred/mail-password"); chown timepool "$work/cred/mail-password"
# What a drop-in (Environment=) would set on this test host.
overrides=(TIMEPOOL_DATABASE_CONNINFO="$conninfo" TIMEPOOL_DNS_LISTEN="127.0.0.1:$dns_port"
           TIMEPOOL_DNS_METRICS_LISTEN= TIMEPOOL_MONITOR_METRICS_LISTEN=
           TIMEPOOL_MONITOR_API_LISTEN="127.0.0.1:$api_port" TIMEPOOL_MONITOR_API_METRICS_LISTEN=
           TIMEPOOL_MONITOR_API_TLS_CERT="$work/tls/api.pem"
           TIMEPOOL_MONITOR_URL="https://127.0.0.1:$api_port" TIMEPOOL_MONITOR_CA_FILE="$work/tls/ca.pem"
           TIMEPOOL_MONITOR_SPOOL_DIR="$work/spool"
           TIMEPOOL_MONITOR_TRUST_LOCAL_CLOCK=true TIMEPOOL_WEB_PORT="$web_port"
           TIMEPOOL_WEB_METRICS_LISTEN= TIMEPOOL_MAIL_HOST=127.0.0.1
           TIMEPOOL_MAIL_PASSWORD_FILE="$work/cred/mail-password")
unit_value() { sed -n "s/^$2=//p" "/lib/systemd/system/$1.service" | head -n 1; }
# Runs UNIT's ExecStart as its User/Group, with its Environment= (%d: the credentials folder)
# and its AmbientCapabilities=; in the background unless FOREGROUND=1.
run_unit() {
  local unit=$1 exec user group caps env=() e
  exec=$(unit_value "$unit" ExecStart); user=$(unit_value "$unit" User); group=$(unit_value "$unit" Group)
  caps=$(unit_value "$unit" AmbientCapabilities | tr 'A-Z' 'a-z' | sed 's/cap_//g')
  [ -n "$exec" ] && [ -n "$user" ] || fail "$unit: no ExecStart or User"
  while IFS= read -r e; do env+=("${e//%d/$work/cred}"); done < <(sed -n 's/^Environment=//p' "/lib/systemd/system/$unit.service")
  local cmd=(setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs)
  if [ -n "$caps" ]; then cmd+=(--inh-caps="+$caps" --ambient-caps="+$caps"); fi
  echo "   $unit: $exec (as $user:$group${caps:+, +$caps})"
  # shellcheck disable=SC2086
  if [ "${FOREGROUND:-0}" = 1 ]; then
    env "${env[@]}" "${overrides[@]}" "${cmd[@]}" $exec
  else
    env "${env[@]}" "${overrides[@]}" "${cmd[@]}" $exec >"$work/$unit.log" 2>&1 &
    pids+=($!)
  fi
}
FOREGROUND=1 run_unit timepool-migrate >"$work/migrate.log" 2>&1 || fail "timepool-migrate failed"
ctl() { env TIMEPOOL_DATABASE_CONNINFO="$conninfo" setpriv --reuid=timepool --regid=timepool --init-groups \
          /usr/bin/timepoolctl -c /etc/timepool/timepool.toml "$@"; }
key=$(ctl monitor add pkg-test --status active | sed -n 's/^key: //p')
(umask 077; printf '%s\n' "$key" >"$work/cred/monitor.key"); chown timepool "$work/cred/monitor.key"
for a in 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14; do
  ctl servers add "$a" --country de --allow-loopback >/dev/null
done
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "UPDATE servers SET score = 15"
ctl zones add acme-clocks --kind vendor --organization Acme --contact ops@acme.example >/dev/null
run_unit timepool-dns
run_unit timepool-monitor-api
for _ in $(seq 50); do
  [ "$(curl -s --cacert "$work/tls/ca.pem" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$api_port/v1/assignment")" = 401 ] && break
  sleep 0.1
done
run_unit timepool-monitor
run_unit timepool-web

ok=
for _ in $(seq 100); do
  if dig +short +time=1 +tries=1 -p "$dns_port" @127.0.0.1 pool.example.org SOA | grep -q . &&
     curl -fs -o /dev/null "http://127.0.0.1:$web_port/"; then ok=1; break; fi
  sleep 0.2
done
[ -n "$ok" ] || fail "the daemons did not come up"
answer=$(dig +short -p "$dns_port" @127.0.0.1 pool.example.org A | sort | tr '\n' ' ')
[ "$answer" = "127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 " ] || fail "pool.example.org answers '$answer'"
echo "ok: dig pool.example.org -> $answer"
vendor=$(dig +short -p "$dns_port" @127.0.0.1 acme-clocks.pool.example.org A | wc -l)
[ "$vendor" = 4 ] || fail "acme-clocks.pool.example.org answers $vendor addresses"
echo "ok: the vendor zone answers 4 addresses; the web site answers on 127.0.0.1:$web_port"
for p in "${pids[@]}"; do
  kill -0 "$p" 2>/dev/null || fail "a daemon exited"
done
# env and setpriv exec the program, so each pid started above is the daemon itself.
for p in "${pids[@]}"; do
  read -r u name < <(ps -o user=,comm= -p "$p")
  [ "$u" = timepool ] || fail "$name (pid $p) runs as '$u'"
done
echo "ok: timepool-dns, timepool-monitor-api, timepool-monitor and timepool-web run as timepool"
grep -q "monitor pkg-test status active: 4 servers assigned" "$work/timepool-monitor.log" ||
  fail "the monitor did not get its assignment from the API over HTTPS"
echo "ok: the monitor got its assignment from the API over HTTPS (private CA), with no database settings"
for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do wait "$p" || fail "a daemon did not stop cleanly on SIGTERM"; done
pids=()

echo "== dpkg --purge"
dpkg --purge "${pkgs[@]}" >"$work/purge.log" 2>&1 || fail "dpkg --purge failed"
for p in "${pkgs[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv 'not-installed'; then
    fail "$p is still known to dpkg: $(dpkg-query -W -f='${Status}' "$p")"
  fi
done
left=$(ls -d /usr/bin/timepool* /etc/timepool /var/lib/timepool /lib/systemd/system/timepool-* \
          /usr/share/man/man8/timepool* /usr/share/doc/timepool-* 2>/dev/null || true)
[ -z "$left" ] || fail "left after purge: $left"
if dpkg-statoverride --list | grep -q timepool; then fail "a statoverride is left"; fi
if pgrep -u timepool >/dev/null; then fail "processes of timepool are left: $(pgrep -a -u timepool)"; fi
echo "ok: purged: no package, file, override or process of timepool left (the system user stays, as in Debian)"
echo "1 passed, 0 failed"
