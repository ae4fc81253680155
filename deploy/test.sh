#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh Debian 12 machine:
#   installs the dependencies, builds with warnings as errors and with AddressSanitizer +
#   UndefinedBehaviorSanitizer, runs every unit and integration test under ctest (which starts
#   and removes its own PostgreSQL cluster), then builds the libFuzzer targets with clang and
#   runs each for a short, bounded time.
# Environment: JOBS (default: number of cores), SKIP_INSTALL=1 to skip apt-get,
#              FUZZ_SECONDS (default 30 per target), BUILD_DIR (default build-test).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${JOBS:-$(nproc)}
build=${BUILD_DIR:-$root/build-test}

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  bash deploy/install-deps.sh
fi

echo "== configure ($build: -Werror, ASan+UBSan)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DTIMEPOOL_WERROR=ON -DTIMEPOOL_SANITIZE=ON \
  -DTIMEPOOL_TESTS=ON >/dev/null
echo "== build"
cmake --build "$build" -j "$jobs"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "== test"
status=0
(cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 900) || status=$?

if [ -f tests/fuzz/CMakeLists.txt ]; then
  echo "== fuzz (clang, libFuzzer, ${FUZZ_SECONDS:-30}s per target)"
  fuzz_build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$fuzz_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTIMEPOOL_FUZZ=ON -DTIMEPOOL_TESTS=OFF -DTIMEPOOL_FUZZ_SECONDS="${FUZZ_SECONDS:-30}" >/dev/null
  cmake --build "$fuzz_build" -j "$jobs" --target fuzz_all
  (cd "$fuzz_build" && ctest --output-on-failure -L fuzz) || status=$?
fi
exit $status
