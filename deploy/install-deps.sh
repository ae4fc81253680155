#!/usr/bin/env bash
# Installs every build, run and test dependency of timepool from Debian 12 packages.
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config git ca-certificates
  clang-14 libclang-rt-14-dev
  libldns-dev libpq-dev libcpp-httplib-dev nlohmann-json3-dev catch2
  libsodium-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libmaxminddb-dev libsystemd-dev libbenchmark-dev
  # run
  postgresql postgresql-contrib postgresql-client tor-geoipdb chrony faketime
  iproute2 util-linux procps
  # test peers and tools
  dnsutils knot-dnsutils ldnsutils python3 python3-dnspython python3-psycopg2
  dnsperf knot gdnsd
  chromium
  curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

# The browser tests drive Chromium with playwright-core from the npm registry; Node.js may
# already be present from another source, so Debian's packages are only used when it is not.
if ! command -v npm >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi

# Daemons installed as packages may start their system instances; timepool runs its own
# instances with their own configs, so stop the system ones where they started.
for svc in chrony knot gdnsd; do
  if command -v service >/dev/null 2>&1; then $SUDO service "$svc" stop >/dev/null 2>&1 || true; fi
done
