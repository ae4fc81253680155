#!/usr/bin/env bash
# Installs timepool's dependencies from Debian 12 packages, by purpose:
#
#   deploy/install-deps.sh run         what the pool needs to run: PostgreSQL, a chronyd for the
#                                      local volunteers, libfaketime, dig and curl, GeoIP ranges
#   deploy/install-deps.sh build       compiler, CMake and the libraries the programs link
#   deploy/install-deps.sh test        what the test suite needs (test peers, dnspython,
#                                      Chromium, clang for the fuzzers, lintian, man-db,
#                                      nginx, an SMTP server, Patroni with etcd, Google
#                                      Benchmark: test.sh compiles the benchmarks)
#   deploy/install-deps.sh bench       the benchmarks' peers (Knot DNS, gdnsd, dnsperf)
#
# Several purposes may be given (run-local.sh: "build run"; test.sh: "build run test"); with
# none, "build run". Idempotent: packages already present are left alone. Needs root (or sudo).
#
# It changes nothing else on this machine:
#  * no service is started: during apt-get a policy-rc.d that denies every maintainer-script
#    start is in place (one that already exists is kept), and no service is enabled: units that
#    the packages enabled are disabled again (deb-systemd-helper) before this script ends;
#  * the host's time daemon stays: where chrony would replace an installed systemd-timesyncd,
#    ntpsec, ntp or openntpd, the Debian chrony package is unpacked privately instead
#    (var/private/chrony; no package installed, nothing running);
#  * GeoIP ranges come from tor-geoipdb, which pulls in the Tor daemon: "run" unpacks its two
#    data files privately (var/private/geoip) instead of installing it. "test" installs the
#    package (the tests read /usr/share/tor), with Tor neither started nor enabled.
# Environment: TIMEPOOL_PRIVATE_CHRONY=1 / TIMEPOOL_PRIVATE_GEOIP=1 use the private copies even
#              where the packages could be installed; TIMEPOOL_PRIVATE_DIR (default var/private)
#              is where they go; INSTALL_DEPS_LOG (default var/install-deps.log) keeps apt's
#              output; INSTALL_DEPS_REINSTALL="PKG ..." reinstalls those packages too (the test
#              of this script uses it to run real maintainer scripts).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
private=${TIMEPOOL_PRIVATE_DIR:-$root/var/private}
log=${INSTALL_DEPS_LOG:-$root/var/install-deps.log}

build_pkgs=(
  build-essential cmake pkg-config git ca-certificates
  libldns-dev libpq-dev libcpp-httplib-dev nlohmann-json3-dev
  libsodium-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libmaxminddb-dev libsystemd-dev libcurl4-openssl-dev
)
# chrony itself is handled apart (private_chrony); its libraries are plain libraries.
run_pkgs=(
  postgresql postgresql-client faketime iproute2 util-linux procps dnsutils curl
  libcap2 libseccomp2 libgnutls30 libnettle8 libcurl4
)
test_pkgs=(
  catch2 clang-14 libclang-rt-14-dev
  dnsutils knot-dnsutils ldnsutils python3 python3-dnspython python3-psycopg2
  chromium curl tor-geoipdb lintian man-db dpkg-dev file
  nginx python3-aiosmtpd patroni etcd-server etcd-client openssl
  libbenchmark-dev
)
bench_pkgs=(libbenchmark-dev dnsperf knot gdnsd)

purposes=("$@")
[ ${#purposes[@]} -gt 0 ] || purposes=(build run)
want=()
for p in "${purposes[@]}"; do
  case "$p" in
    build) want+=("${build_pkgs[@]}") ;;
    run) want+=("${run_pkgs[@]}") ;;
    test) want+=("${test_pkgs[@]}") ;;
    bench) want+=("${bench_pkgs[@]}") ;;
    *) echo "usage: $0 [run] [build] [test] [bench]" >&2; exit 2 ;;
  esac
done
has() { local x; for x in "${purposes[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
mkdir -p "$(dirname "$log")"
: >"$log"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# A time daemon of the host that Debian's chrony would remove (they conflict).
host_time_daemon() {
  local p
  for p in systemd-timesyncd ntpsec ntp openntpd; do
    if installed "$p"; then echo "$p"; return 0; fi
  done
  return 1
}

# Symlinks that enable units (systemd) or start scripts (sysvinit) at boot.
enabled_units() {
  { find /etc/systemd/system -mindepth 2 -maxdepth 2 -path '*.wants/*' -printf '%f\n' 2>/dev/null |
      sed 's/\.service$//'
    find /etc/rc[2-5].d -maxdepth 1 -name 'S*' -printf '%f\n' 2>/dev/null | sed 's/^S[0-9]*//'
  } | sort -u
}

policy=/usr/sbin/policy-rc.d
own_policy=0
restore_policy() { if [ $own_policy = 1 ]; then $SUDO rm -f "$policy"; fi; }
trap restore_policy EXIT

# apt-get install with every maintainer-script start denied; units it enabled are disabled
# again. Output goes to the log; a failure shows its end.
quiet_apt_install() {
  local before after u
  before=$(enabled_units)
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# deploy/install-deps.sh: no service starts while it installs.\nexit 101\n' |
      $SUDO tee "$policy" >/dev/null
    $SUDO chmod 0755 "$policy"
    own_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local reinstall=()
  # shellcheck disable=SC2206
  if [ -n "${INSTALL_DEPS_REINSTALL:-}" ]; then reinstall=(--reinstall $INSTALL_DEPS_REINSTALL); fi
  if ! { $SUDO apt-get update -q &&
         $SUDO apt-get install -y -q --no-install-recommends "$@" "${reinstall[@]}"; } >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    restore_policy
    echo "install-deps: apt-get failed (full output in $log)" >&2
    exit 1
  fi
  restore_policy; own_policy=0
  after=$(enabled_units)
  for u in $(comm -13 <(echo "$before") <(echo "$after")); do
    echo "install-deps: $u was enabled by its package: disabling it again"
    $SUDO deb-systemd-helper disable "$u.service" >/dev/null 2>&1 || true
    $SUDO update-rc.d "$u" disable >/dev/null 2>&1 || true
  done
}

# chronyd without installing chrony: the Debian package unpacked under var/private/chrony.
private_chrony() {
  local dir=$private/chrony tmp
  if [ -x "$dir/usr/sbin/chronyd" ]; then return 0; fi
  echo "install-deps: unpacking Debian's chrony privately into $dir (the host keeps its time daemon)"
  tmp=$(mktemp -d)
  (cd "$tmp" && chmod 0755 . && apt-get download chrony >>"$log" 2>&1) ||
    { tail -n 20 "$log" >&2; echo "install-deps: apt-get download chrony failed" >&2; exit 1; }
  mkdir -p "$dir"
  dpkg-deb -x "$tmp"/chrony_*.deb "$dir"
  rm -rf "$tmp"
}

# tor-geoipdb's two range files without the Tor daemon its package depends on.
private_geoip() {
  local dir=$private/geoip tmp
  if [ -s "$dir/geoip" ] && [ -s "$dir/geoip6" ]; then return 0; fi
  echo "install-deps: unpacking tor-geoipdb's GeoIP ranges into $dir (no Tor daemon)"
  tmp=$(mktemp -d)
  (cd "$tmp" && chmod 0755 . && apt-get download tor-geoipdb >>"$log" 2>&1) ||
    { tail -n 20 "$log" >&2; echo "install-deps: apt-get download tor-geoipdb failed" >&2; exit 1; }
  dpkg-deb -x "$tmp"/tor-geoipdb_*.deb "$tmp/x"
  mkdir -p "$dir"
  cp "$tmp/x/usr/share/tor/geoip" "$tmp/x/usr/share/tor/geoip6" "$dir/"
  rm -rf "$tmp"
}

use_private_chrony=0
if has run || has test; then
  if [ "${TIMEPOOL_PRIVATE_CHRONY:-0}" = 1 ]; then
    use_private_chrony=1
  elif ! installed chrony; then
    if td=$(host_time_daemon); then
      echo "install-deps: $td keeps this machine's time; chrony would replace it"
      use_private_chrony=1
    else
      want+=(chrony)
    fi
  fi
fi
if has test && ! command -v npm >/dev/null 2>&1; then want+=(nodejs npm); fi

missing=()
for p in $(printf '%s\n' "${want[@]}" | sort -u); do
  installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] || [ -n "${INSTALL_DEPS_REINSTALL:-}" ]; then
  echo "install-deps (${purposes[*]}): installing ${missing[*]} ${INSTALL_DEPS_REINSTALL:+(reinstalling $INSTALL_DEPS_REINSTALL)}"
  quiet_apt_install "${missing[@]}"
else
  echo "install-deps (${purposes[*]}): all Debian packages present"
fi

if [ $use_private_chrony = 1 ]; then
  private_chrony
  if has test; then
    # The tests call chronyd from PATH.
    $SUDO ln -sf "$private/chrony/usr/sbin/chronyd" /usr/local/sbin/chronyd
    $SUDO ln -sf "$private/chrony/usr/bin/chronyc" /usr/local/bin/chronyc
  fi
fi
if has run && { [ ! -r /usr/share/tor/geoip ] || [ "${TIMEPOOL_PRIVATE_GEOIP:-0}" = 1 ]; }; then
  private_geoip
fi
