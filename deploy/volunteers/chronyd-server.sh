#!/usr/bin/env bash
# A volunteer NTP server for local runs and tests: one chronyd serving its own clock as a local
# reference on ADDRESS:123. It never touches this machine's clock (-x).
#   chronyd-server.sh start DIR ADDRESS [OFFSET]   OFFSET like +3s: serve time that far off
#                                                  (libfaketime); the default is the true time
#   chronyd-server.sh stop DIR                     stop the instance whose files are in DIR
#   chronyd-server.sh status DIR                   exit 0 when it runs
# Environment: NETNS=NAME runs it inside that network namespace (ip netns exec);
#              ALLOW=CIDR clients allowed (default 127.0.0.0/8);
#              CHRONYD=PATH the chronyd to run (default: the installed one, else the private
#              copy that deploy/install-deps.sh unpacks into var/private/chrony).
# Must run as root: chronyd binds port 123 and then drops to the _chrony user (nobody when
# chrony is not installed, so there is no _chrony user).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cmd=${1:?start|stop|status}
dir=${2:?folder for the instance}

pid_of() { [ -s "$dir/chronyd.pid" ] && cat "$dir/chronyd.pid"; }
running() { local p; p=$(pid_of) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

case "$cmd" in
  start)
    addr=${3:?address}
    offset=${4:-}
    if [ "$(id -u)" -ne 0 ]; then echo "chronyd-server: needs root (port 123)" >&2; exit 1; fi
    if running; then echo "chronyd-server: already running in $dir" >&2; exit 0; fi
    chronyd=${CHRONYD:-}
    if [ -z "$chronyd" ]; then
      chronyd=$(command -v chronyd || true)
      [ -n "$chronyd" ] || chronyd=$here/var/private/chrony/usr/sbin/chronyd
    fi
    [ -x "$chronyd" ] || { echo "chronyd-server: no chronyd (run deploy/install-deps.sh run)" >&2; exit 1; }
    user=_chrony group=_chrony
    if ! getent passwd _chrony >/dev/null; then user=nobody group=nogroup; fi
    mkdir -p "$dir/sock"
    # chronyd drops root for $user: the run folder must be traversable, the socket folder its own.
    chmod 0755 "$dir"
    chown "$user:$group" "$dir/sock"; chmod 0770 "$dir/sock"
    cat >"$dir/chrony.conf" <<CONF
# Volunteer server at $addr${offset:+ (clock off by $offset)}
bindaddress $addr
port 123
allow ${ALLOW:-127.0.0.0/8}
local stratum 2
cmdport 0
bindcmdaddress $dir/sock/chronyd.sock
pidfile $dir/chronyd.pid
CONF
    rm -f "$dir/chronyd.pid"
    env=()
    if [ -n "$offset" ]; then
      env=(LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 FAKETIME="$offset"
           FAKETIME_DONT_RESET=1)
    fi
    ns=()
    if [ -n "${NETNS:-}" ]; then ns=(ip netns exec "$NETNS"); fi
    # -x: never adjust the system clock; -4: IPv4 only so instances do not all bind [::]:123.
    "${ns[@]}" env "${env[@]}" "$chronyd" -x -4 -u "$user" -f "$dir/chrony.conf" -l "$dir/chronyd.log"
    for _ in $(seq 50); do running && break; sleep 0.1; done
    if ! running; then echo "chronyd-server: chronyd at $addr did not start:" >&2; cat "$dir/chronyd.log" >&2 || true; exit 1; fi
    ;;
  stop)
    if running; then
      p=$(pid_of); kill "$p"
      for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$dir/chronyd.pid"
    ;;
  status) running ;;
  *) echo "usage: $0 start DIR ADDRESS [OFFSET] | stop DIR | status DIR" >&2; exit 2 ;;
esac
