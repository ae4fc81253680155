#!/usr/bin/env bash
# deploy/install-deps.sh changes nothing else on the host. On a machine without systemd as
# PID 1 (containers, CI) there is no list of running units to compare, so this checks what can
# be seen: the maintainer scripts' service starts were denied, no unit was left newly enabled,
# no daemon is left running that was not running before, a policy-rc.d that existed is left as
# it was, and the private chrony and GeoIP copies work without installing chrony or Tor.
# It reinstalls chrony when chrony is installed, so that its maintainer scripts really run.
# Needs root (apt-get); exits 77 (skipped) without it.
set -euo pipefail
src=${TIMEPOOL_SOURCE_DIR:?}
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: installing packages needs root"; exit 77; fi
work=$(mktemp -d /tmp/timepool-install-quiet.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

enabled_units() {
  { find /etc/systemd/system -mindepth 2 -maxdepth 2 -path '*.wants/*' -printf '%f\n' 2>/dev/null
    find /etc/rc[2-5].d -maxdepth 1 -name 'S*' -printf '%f\n' 2>/dev/null
  } | sort -u
}
# Daemons: processes whose parent is init (a started service forks into the background or is
# started by init), with their executable; kernel threads have none and are left out. ctest
# runs this test alone (RUN_SERIAL), so nothing else starts daemons meanwhile.
daemons() {
  local p exe
  for p in $(ps -eo pid=,ppid= | awk '$2 == 1 { print $1 }'); do
    exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
    echo "$p $exe"
  done | sort
}
policy_sum() { if [ -e /usr/sbin/policy-rc.d ]; then sha256sum /usr/sbin/policy-rc.d; else echo none; fi; }

units_before=$(enabled_units)
procs_before=$(daemons)
policy_before=$(policy_sum)
reinstall=
if dpkg-query -W -f='${Status}' chrony 2>/dev/null | grep -q 'install ok installed'; then
  reinstall=chrony
fi

echo "== deploy/install-deps.sh run (private chrony and GeoIP${reinstall:+, reinstalling $reinstall})"
TIMEPOOL_PRIVATE_DIR=$work/private INSTALL_DEPS_LOG=$work/install.log TIMEPOOL_PRIVATE_CHRONY=1 \
  TIMEPOOL_PRIVATE_GEOIP=1 INSTALL_DEPS_REINSTALL=$reinstall bash "$src/deploy/install-deps.sh" run

# 1. Maintainer scripts asked to start services and were told no.
if [ -n "$reinstall" ]; then
  grep -q "policy-rc.d denied execution of" "$work/install.log" ||
    { cat "$work/install.log"; fail "no maintainer-script start was denied (policy-rc.d)"; }
  echo "ok: maintainer-script starts denied: $(grep -c 'policy-rc.d denied' "$work/install.log")"
fi
# 2. The policy file is as it was (ours removed, an existing one kept).
[ "$(policy_sum)" = "$policy_before" ] || fail "/usr/sbin/policy-rc.d changed: $(policy_sum)"
echo "ok: /usr/sbin/policy-rc.d as before ($policy_before)"
# 3. No unit newly enabled.
new_units=$(comm -13 <(echo "$units_before") <(enabled_units))
[ -z "$new_units" ] || fail "units newly enabled: $new_units"
echo "ok: no unit newly enabled"
# 4. No daemon left running that was not running before.
new_procs=$(comm -13 <(echo "$procs_before") <(daemons))
[ -z "$new_procs" ] || fail "processes left running after the install step: $new_procs"
echo "ok: no new daemon left running ($(echo "$procs_before" | grep -c .) before and after)"
# 5. The private copies: chronyd runs from the unpacked package, the GeoIP ranges are there,
#    and neither tor nor a time daemon was installed for them.
"$work/private/chrony/usr/sbin/chronyd" --version | grep -q "chronyd (chrony) version" ||
  fail "the private chronyd does not run"
echo "ok: private $("$work/private/chrony/usr/sbin/chronyd" --version | head -n 1)"
n4=$(wc -l <"$work/private/geoip/geoip"); n6=$(wc -l <"$work/private/geoip/geoip6")
[ "$n4" -gt 100000 ] && [ "$n6" -gt 100000 ] || fail "private GeoIP ranges too short ($n4, $n6)"
echo "ok: private GeoIP ranges ($n4 IPv4 and $n6 IPv6 lines)"
echo "1 passed, 0 failed"
