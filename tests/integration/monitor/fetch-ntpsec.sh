#!/usr/bin/env bash
# Prints the path of an ntpsec ntpd binary, unpacking Debian's ntpsec package into CACHE
# (downloaded once with apt-get download). Debian's ntpsec conflicts with chrony, so it is
# never installed: the tests run the unpacked binary beside chrony.
#   fetch-ntpsec.sh CACHE_DIR
set -euo pipefail
cache=${1:?cache folder}
mkdir -p "$cache"
cd "$cache"
if [ ! -x root/usr/sbin/ntpd ]; then
  if ! ls ntpsec_*.deb >/dev/null 2>&1; then
    # apt's sandbox user cannot write into a root-owned build folder: download as root.
    apt-get download -o APT::Sandbox::User=root ntpsec >&2
  fi
  rm -rf root.tmp
  dpkg-deb -x ntpsec_*.deb root.tmp
  rm -rf root
  mv root.tmp root
fi
echo "$cache/root/usr/sbin/ntpd"
